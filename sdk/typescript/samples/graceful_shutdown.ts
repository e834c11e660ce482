import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "@corvo/sdk";

const worker = new Worker({
  servers: ["http://127.0.0.1:8080"],
  concurrency: 4,
  drainTimeoutMs: 20_000, // running jobs get 20 s after SIGTERM/SIGINT (default 30 s)
});

worker.handle<{ file: string }>("transcode", async (job) => {
  for (let step = 0; step < 10; step++) {
    // Past the drain timeout the job is failed back ("worker shutting down", retried at once
    // elsewhere) and job.signal aborts, so long work stops too.
    await sleep(1_000, undefined, { signal: job.signal });
    job.progress({ step });
  }
  return { output: `${job.payload.file}.mp4` };
});

// SIGTERM or SIGINT: no new jobs, running ones finish and are acknowledged, then run()
// returns (a second signal stops at once). worker.stop() does the same from code.
await worker.run();
console.log("drained; exiting");
