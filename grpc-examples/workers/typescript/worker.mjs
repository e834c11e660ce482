// Works N jobs of QUEUE through the TypeScript SDK (@corvo/sdk), acknowledging each with a
// small result, then drains and exits 0.
import { Worker } from "@corvo/sdk";

const [server, queue, count] = process.argv.slice(2);
const n = Number(count);
if (!server || !queue || !Number.isInteger(n) || n < 1) {
  process.stderr.write("usage: run SERVER_URL QUEUE N\n");
  process.exit(2);
}

// Concurrency 1: exactly N jobs are taken (a wider worker would be pushed more before it stops).
const worker = new Worker({ servers: server.split(","), concurrency: 1 });
let worked = 0;
worker.handle(queue, async (job) => {
  worked++;
  if (worked === n) void worker.stop(); // drain: this job's ack still goes out
  return { worker: worker.workerId, attempt: job.attempt };
});
try {
  await worker.run();
} catch (e) {
  process.stderr.write(`run: ${e}\n`);
  process.exit(1);
}
console.log(`worked ${worked} jobs of ${queue}`);
