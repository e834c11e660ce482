// The TypeScript SDK's conformance harness (sdk/conformance/README.md): one SDK worker, every
// --queue served by the step interpreter, events as JSON lines on stdout, until stopped.
// Exit 0 after a drain (SIGTERM, SIGINT, --max-jobs), 1 when the worker ends with an error,
// 2 for bad arguments.

import { parseArgs } from "node:util";
import { CorvoError, Worker, stderrLogger, type JobContext } from "@corvo/sdk";
import { runSteps } from "./steps.js";

const USAGE = `usage: harness --server URL [--server URL ...] --queue Q [--queue Q ...]
       [--concurrency N] [--lease-secs S] [--drain-timeout-ms MS] [--max-jobs N]
       [--api-key KEY] [--ca-cert PEM_FILE] [--worker-id ID]`;

type Args = ReturnType<typeof parse>;

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function usage(message: string): never {
  process.stderr.write(`harness: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) usage(`${flag}: not a non-negative integer: ${value}`);
  return Number(value);
}

function parse() {
  try {
    return parseArgs({
      options: {
        server: { type: "string", multiple: true },
        queue: { type: "string", multiple: true },
        concurrency: { type: "string" },
        "lease-secs": { type: "string" },
        "drain-timeout-ms": { type: "string" },
        "max-jobs": { type: "string" },
        "api-key": { type: "string" },
        "ca-cert": { type: "string" },
        "worker-id": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return usage((e as Error).message);
  }
}

function newWorker(args: Args): Worker {
  try {
    return new Worker({
      servers: args.server,
      apiKey: args["api-key"],
      tls: args["ca-cert"] === undefined ? undefined : { caFile: args["ca-cert"] },
      workerId: args["worker-id"],
      concurrency: integer(args.concurrency, "--concurrency"),
      leaseSecs: integer(args["lease-secs"], "--lease-secs"),
      drainTimeoutMs: integer(args["drain-timeout-ms"], "--drain-timeout-ms"),
      logger: stderrLogger("info"),
    });
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }
}

async function main(): Promise<number> {
  const args = parse();
  if (!args.server?.length) usage("--server is required");
  if (!args.queue?.length) usage("--queue is required");
  const maxJobs = integer(args["max-jobs"], "--max-jobs");
  const worker = newWorker(args);

  let handled = 0;
  const handler = async (ctx: JobContext) => {
    emit({ event: "job", job_id: ctx.id, queue: ctx.queue, attempt: ctx.attempt, checkpoint: ctx.previousCheckpoint ?? null });
    try {
      return await runSteps(ctx, ctx.payload, emit);
    } finally {
      emit({ event: "finished", job_id: ctx.id });
      handled++;
      // Stop before the SDK settles this outcome, so no credit is granted for it.
      if (maxJobs !== undefined && handled === maxJobs) void worker.stop();
    }
  };
  for (const queue of new Set(args.queue)) worker.handle(queue, handler);

  emit({ event: "started" });
  if (maxJobs === 0) void worker.stop();
  try {
    await worker.run();
  } catch (e) {
    const text = e instanceof CorvoError ? `${e.codeName}: ${e.message}` : e instanceof Error ? e.message : String(e);
    process.stderr.write(`harness: the worker ended with an error: ${text}\n`);
    return 1;
  }
  emit({ event: "stopped" });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`harness: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
