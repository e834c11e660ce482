// @corvo/sdk: the Corvo client and worker for Node.js (ESM, Node 20+).
//
//   Client  enqueue / enqueueBatch, jobs, queues, workers      (client.ts)
//   Worker  handle(queue, handler) + run(): one stream, credits, heartbeats, drain  (worker.ts)
//   both    servers, API key, TLS, leader and retry hints       (connection.ts, errors.ts)
//
// The generated messages are under "@corvo/sdk/gen/<file>_pb" (never edited by hand).

export { Client } from "./client.js";
export type {
  BulkActionName,
  BulkResult,
  BulkSelection,
  ClientOptions,
  EnqueueItem,
  EnqueueResult,
  JobPage,
  ListJobsFilter,
  Page,
} from "./client.js";
export { Worker, SHUTTING_DOWN } from "./worker.js";
export type { Handler, WorkerOptions } from "./worker.js";
export { JobContext } from "./context.js";
export { CorvoError, JobFailed, Code, ErrorCode } from "./errors.js";
export { stderrLogger, silentLogger } from "./logger.js";
export type { Logger, LogLevel } from "./logger.js";
export type { ConnectionOptions, TlsOptions } from "./connection.js";
export type {
  Backoff,
  BackoffKindName,
  EnqueueOptions,
  Job,
  JobFilter,
  JobStateName,
  Operation,
  OperationStateName,
  PriorityName,
  Queue,
  WorkerInfo,
} from "./convert.js";
