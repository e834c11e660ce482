import { Client, Worker } from "@corvo/sdk";

interface Email {
  to: string;
  subject: string;
}

const servers = ["http://127.0.0.1:8080"]; // any node of the cluster; list several to fail over

const client = new Client({ servers }); // the API key comes from CORVO_API_KEY when not given
const { id, status } = await client.enqueue<Email>("emails", { to: "ada@example.com", subject: "Welcome" }, {
  priority: "high",
  tags: { tenant: "acme" },
  uniqueKey: "welcome-ada", // a second enqueue with this key answers "duplicate"
});
console.log(`job ${id} is ${status}`);

const worker = new Worker({ servers, concurrency: 8 });
worker.handle<Email>("emails", async (job) => {
  console.log(`sending "${job.payload.subject}" to ${job.payload.to} (attempt ${job.attempt})`);
  return { messageId: `msg-${job.id}` }; // stored as the job's result
});
await worker.run(); // until SIGTERM or SIGINT, then drains
