import { Client, Worker } from "@corvo/sdk";

const servers = ["http://127.0.0.1:8080"];

const client = new Client({ servers });
await client.enqueue("payments", { orderId: 42, amountCents: 1999 }, {
  maxAttempts: 5,
  backoff: { kind: "exponential", baseMs: 1_000, capMs: 60_000 }, // doubling from 1 s up to 60 s
});

async function charge(orderId: number, amountCents: number): Promise<{ ok: boolean; reason?: string }> {
  if (Math.random() < 0.5) throw new Error(`payment gateway timed out for order ${orderId}`);
  return amountCents > 100_000 ? { ok: false, reason: "amount over limit" } : { ok: true };
}

const worker = new Worker({ servers });
worker.handle<{ orderId: number; amountCents: number }>("payments", async (job) => {
  // A throw fails this attempt with the error's message and stack; the job is retried after
  // its backoff, and is dead (with the last error) once maxAttempts are used.
  const charged = await charge(job.payload.orderId, job.payload.amountCents);
  if (!charged.ok) return job.fail(`declined: ${charged.reason}`); // an explicit failure
  return { charged: true, attempt: job.attempt };
});
await worker.run();
