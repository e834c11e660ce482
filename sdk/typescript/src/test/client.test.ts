import assert from "node:assert/strict";
import { createServer, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Client } from "../client.js";
import { CorvoError } from "../errors.js";
import {
  EnqueueResponseSchema,
  ErrorCode,
  ItemResultSchema,
  JobState,
  StreamLifecycleResponseSchema,
  WorkerService,
  type EnqueueRequest,
  type EnqueueResponse,
  type StreamLifecycleRequest,
  type StreamLifecycleResponse,
} from "../gen/corvo/v1/worker_pb.js";

const HEX32 = /^[0-9a-f]{32}$/;
/** What the server answers when a write's outcome is unknown but repeating it is safe. */
const AMBIGUOUS = "unavailable: leadership changed while the request was in flight; its outcome is unknown, and retrying it as it was (same idempotency keys, same lease tokens) is safe";

/**
 * The fake server's behaviour in the current test, by call number (0: the first): throw to
 * refuse the call (or frame), return an answer to replace the default one.
 */
let enqueue: (req: EnqueueRequest, n: number) => EnqueueResponse | void = () => {};
let frame: (req: StreamLifecycleRequest, n: number) => StreamLifecycleResponse | void = () => {};
let enqueues: EnqueueRequest[] = [];
let frames: StreamLifecycleRequest[] = [];

const impl: Partial<ServiceImpl<typeof WorkerService>> = {
  enqueue(req) {
    enqueues.push(req);
    return enqueue(req, enqueues.length - 1) ?? create(EnqueueResponseSchema, { jobId: "job-1", status: "pending", state: JobState.PENDING });
  },
  async *streamLifecycle(reqs) {
    for await (const req of reqs) {
      if (req.enqueues.length === 0) continue;
      frames.push(req);
      yield frame(req, frames.length - 1) ?? create(StreamLifecycleResponseSchema, {
        requestId: req.requestId,
        enqueueResults: req.enqueues.map((_, i) => create(ItemResultSchema, { jobId: `job-${i}`, state: JobState.PENDING })),
      });
    }
  },
};

const server = createServer(connectNodeAdapter({ routes: (r) => r.service(WorkerService, impl) }));
const sessions = new Set<Http2Session>();
server.on("session", (s) => {
  sessions.add(s);
  s.on("close", () => sessions.delete(s));
});
let client: Client;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  client = new Client({ servers: `http://127.0.0.1:${port}`, apiKey: "", callTimeoutMs: 5_000 });
});

after(async () => {
  client.close();
  for (const s of sessions) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function reset(): void {
  enqueues = [];
  frames = [];
  enqueue = () => {};
  frame = () => {};
}

test("enqueue sends the caller's idempotency key", async () => {
  reset();
  await client.enqueue("q", { a: 1 }, { idempotencyKey: "order-7/charge" });
  assert.equal(enqueues[0].options?.idempotencyKey, "order-7/charge");
});

test("without a key, each enqueue sends a fresh one, the same on the client's own retry", async () => {
  reset();
  enqueue = (_, n) => {
    if (n === 0) throw new ConnectError(AMBIGUOUS, Code.Unavailable, { "grpc-retry-pushback-ms": "1" });
  };
  const r = await client.enqueue("q", { a: 1 });
  assert.equal(r.id, "job-1");
  assert.equal(enqueues.length, 2, "an ambiguous failure of a keyed enqueue is retried");
  const key = enqueues[0].options?.idempotencyKey ?? "";
  assert.match(key, HEX32);
  assert.equal(enqueues[1].options?.idempotencyKey, key, "the retry carries the same key");
  await client.enqueue("q", { a: 1 });
  assert.match(enqueues[2].options?.idempotencyKey ?? "", HEX32);
  assert.notEqual(enqueues[2].options?.idempotencyKey, key, "another call, another key");
});

test("an enqueue sent with no key at all is not retried after an ambiguous failure", async () => {
  reset();
  enqueue = () => {
    throw new ConnectError(AMBIGUOUS, Code.Unavailable, { "grpc-retry-pushback-ms": "1" });
  };
  await assert.rejects(client.enqueue("q", {}, { idempotencyKey: "" }), (e: CorvoError) => e.code === Code.Unavailable);
  assert.equal(enqueues.length, 1);
  assert.equal(enqueues[0].options?.idempotencyKey, "");
});

test("OUTCOME_UNKNOWN is never retried, even for a keyed enqueue", async () => {
  reset();
  enqueue = () => {
    throw new ConnectError("outcome unknown: leadership changed while the request was in flight", Code.Unknown);
  };
  await assert.rejects(client.enqueue("q", {}), (e: CorvoError) => e.code === Code.Unknown && e.errorCode === ErrorCode.OUTCOME_UNKNOWN);
  assert.equal(enqueues.length, 1);
});

test("a replayed enqueue says so", async () => {
  reset();
  enqueue = () => create(EnqueueResponseSchema, { jobId: "job-0", status: "duplicate", state: JobState.ACTIVE, replayed: true });
  const r = await client.enqueue("q", {}, { idempotencyKey: "k" });
  assert.deepEqual(r, { id: "job-0", status: "duplicate", state: "active", replayed: true });
});

test("enqueueBatch: one fresh key per item, the same on a retried frame; replayed items say so", async () => {
  reset();
  frame = (_, n) => {
    if (n === 0) throw new ConnectError(AMBIGUOUS, Code.Unavailable, { "grpc-retry-pushback-ms": "1" });
  };
  const items = [{ queue: "q", payload: 1 }, { queue: "q", payload: 2, options: { idempotencyKey: "mine" } }, { queue: "q", payload: 3 }];
  const ids = await client.enqueueBatch(items);
  assert.deepEqual(ids, ["job-0", "job-1", "job-2"]);
  assert.equal(frames.length, 2, "the frame was sent again on a new stream");
  const keys = frames[0].enqueues.map((e) => e.options?.idempotencyKey ?? "");
  assert.match(keys[0], HEX32);
  assert.equal(keys[1], "mine");
  assert.match(keys[2], HEX32);
  assert.notEqual(keys[0], keys[2]);
  assert.deepEqual(frames[1].enqueues.map((e) => e.options?.idempotencyKey), keys);

  reset();
  frame = (req) =>
    create(StreamLifecycleResponseSchema, {
      requestId: req.requestId,
      enqueueResults: [
        create(ItemResultSchema, { jobId: "a", state: JobState.SCHEDULED }),
        create(ItemResultSchema, { jobId: "b", state: JobState.COMPLETED, message: "replayed" }),
        create(ItemResultSchema, { jobId: "c", state: JobState.PENDING, message: "duplicate" }),
      ],
    });
  const results = await client.enqueueBatchResults(items);
  assert.deepEqual(results, [
    { id: "a", status: "scheduled", state: "scheduled", replayed: false },
    { id: "b", status: "duplicate", state: "completed", replayed: true },
    { id: "c", status: "duplicate", state: "pending", replayed: false },
  ]);
});
