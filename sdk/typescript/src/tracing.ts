// OpenTelemetry, when `@opentelemetry/api` is installed (an optional peer dependency):
// handlers run in a `corvo.worker.execute` span (kind CONSUMER) whose parent is the job's W3C
// `traceparent`, and enqueues send the active context as the `traceparent` header. Without the
// package (or without an SDK registered behind it) every function here is a cheap no-op.
//
// The W3C header is parsed and formatted here rather than through a registered propagator, so
// a producer's context is honoured whatever propagators the application set up.

/** The parts of `@opentelemetry/api` used here (typed locally: the package is optional). */
interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
}
interface Span {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(e: unknown): unknown;
  end(): void;
}
interface Tracer {
  startSpan(name: string, options: { kind: number; attributes?: Record<string, string | number> }, context?: unknown): Span;
}
interface OtelApi {
  trace: {
    getTracer(name: string, version?: string): Tracer;
    getSpanContext(context: unknown): SpanContext | undefined;
    setSpanContext(context: unknown, spanContext: SpanContext): unknown;
    setSpan(context: unknown, span: Span): unknown;
    isSpanContextValid(spanContext: SpanContext): boolean;
  };
  context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  ROOT_CONTEXT: unknown;
  SpanKind: { CONSUMER: number };
  SpanStatusCode: { ERROR: number };
}

import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const PACKAGE = "@opentelemetry/api";
const TRACER_NAME = "@corvo/sdk";
/** The handler span's name (SPEC). */
export const EXECUTE_SPAN = "corvo.worker.execute";

let api: OtelApi | null = null;
let loading: Promise<void> | undefined;

/**
 * Loads `@opentelemetry/api` once if it is installed; resolves either way. It is looked up
 * from this package, then from the application (its main module's directory and the working
 * directory): an SDK installed as a link (`npm install ./sdk/typescript`) resolves from its
 * own directory, not the application's.
 */
export function loadTracing(): Promise<void> {
  loading ??= (async () => {
    const candidates: string[] = [PACKAGE];
    for (const base of [process.argv[1], join(process.cwd(), "index.js")]) {
      if (!base) continue;
      try {
        candidates.push(pathToFileURL(createRequire(base).resolve(PACKAGE)).href);
      } catch {
        // not installed there
      }
    }
    for (const specifier of candidates) {
      try {
        const m = (await import(specifier)) as OtelApi & { default?: OtelApi };
        api = m.trace ? m : (m.default ?? null);
        if (api) return;
      } catch {
        // not installed here
      }
    }
    api = null;
  })();
  return loading;
}

/** The active context as a W3C `traceparent`, or undefined (no API, no valid span). */
export function activeTraceparent(): string | undefined {
  if (api === null) return undefined;
  const sc = api.trace.getSpanContext(api.context.active());
  if (!sc || !api.trace.isSpanContextValid(sc)) return undefined;
  return formatTraceparent(sc);
}

export interface ExecuteAttributes {
  jobId: string;
  queue: string;
  attempt: number;
  workerId: string;
}

/**
 * Runs `fn` in the handler span, a child of `traceparent` when it parses. The span records an
 * error when `fn` rejects; `failed` marks a failure reported without an exception.
 */
export async function inExecuteSpan<T>(
  traceparent: string,
  attrs: ExecuteAttributes,
  fn: () => Promise<T>,
  failed: (value: T) => string | undefined,
): Promise<T> {
  const otel = api;
  if (otel === null) return fn();
  const remote = parseTraceparent(traceparent);
  const parent = remote ? otel.trace.setSpanContext(otel.ROOT_CONTEXT, remote) : otel.context.active();
  const span = otel.trace.getTracer(TRACER_NAME).startSpan(
    EXECUTE_SPAN,
    {
      kind: otel.SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "corvo",
        "messaging.operation.type": "process",
        "messaging.destination.name": attrs.queue,
        "messaging.message.id": attrs.jobId,
        "corvo.job.attempt": attrs.attempt,
        "corvo.worker.id": attrs.workerId,
      },
    },
    parent,
  );
  try {
    const value = await otel.context.with(otel.trace.setSpan(parent, span), fn);
    const failure = failed(value);
    if (failure !== undefined) span.setStatus({ code: otel.SpanStatusCode.ERROR, message: failure });
    return value;
  } catch (e) {
    span.recordException(e);
    span.setStatus({ code: otel.SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    span.end();
  }
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** A W3C `traceparent` as a remote span context; undefined when it does not parse. */
export function parseTraceparent(text: string): SpanContext | undefined {
  const m = TRACEPARENT.exec(text.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true };
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}
