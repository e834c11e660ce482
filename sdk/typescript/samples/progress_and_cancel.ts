import { setTimeout as sleep } from "node:timers/promises";
import { Client, Worker } from "@corvo/sdk";

const servers = ["http://127.0.0.1:8080"];

const worker = new Worker({ servers, leaseSecs: 30 }); // heartbeats every 10 s while a job runs
worker.handle<{ pages: number }>("reports", async (job) => {
  // Resume where a failed attempt left off.
  const first = (job.previousCheckpoint as { page: number } | null)?.page ?? 0;
  for (let page = first; page < job.payload.pages; page++) {
    // job.signal aborts when an operator cancels the job (or its lease is lost): the sleep
    // throws, the handler ends, and nothing more is reported for the job.
    await sleep(200, undefined, { signal: job.signal }); // render one page
    job.progress({ done: page + 1, of: job.payload.pages }); // visible through getJob
    job.checkpoint({ page: page + 1 }); // handed to the next attempt if this one fails
  }
  return { pages: job.payload.pages };
});
const running = worker.run();

const client = new Client({ servers });
const { id } = await client.enqueue("reports", { pages: 50 });
await sleep(2_000);
console.log("progress:", (await client.getJob(id)).progress); // e.g. { done: 9, of: 50 }
console.log("after cancel:", await client.cancelJob(id)); // "cancelled"; the handler is signalled
await worker.stop();
await running;
