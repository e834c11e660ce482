// The harness's handler language (sdk/conformance/README.md, "What the handler does"): a
// payload's `steps` run in order; a step with `attempt: N` runs only on attempt N.

/** What the steps need from a job context (the SDK's JobContext has all of it). */
export interface StepContext {
  readonly id: string;
  readonly attempt: number;
  readonly previousCheckpoint: unknown;
  readonly signal: AbortSignal;
  progress(value: object): void;
  checkpoint(value: object): void;
  fail(message: string): unknown;
}

/** Prints one harness event (a JSON line on stdout). */
export type Emit = (event: Record<string, unknown>) => void;

export type Sleep = (ms: number) => Promise<void>;

const defaultSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `wait_cancel` without `timeout_ms` waits this long. */
const WAIT_CANCEL_DEFAULT_MS = 60_000;

interface Step {
  op?: unknown;
  attempt?: unknown;
  ms?: unknown;
  progress?: unknown;
  checkpoint?: unknown;
  timeout_ms?: unknown;
  result?: unknown;
  error?: unknown;
}

/** The result when the steps end without a terminal step. */
export function defaultResult(ctx: StepContext): { attempt: number; checkpoint: unknown } {
  return { attempt: ctx.attempt, checkpoint: ctx.previousCheckpoint ?? null };
}

/**
 * Runs the payload's steps. Resolves with the job's result (or with what `ctx.fail` returned,
 * after calling it); rejects for a `throw` step.
 */
export async function runSteps(ctx: StepContext, payload: unknown, emit: Emit, sleep: Sleep = defaultSleep): Promise<unknown> {
  const steps = isObject(payload) && Array.isArray(payload.steps) ? (payload.steps as Step[]) : [];
  for (const step of steps) {
    if (!isObject(step)) throw new Error(`a step must be an object, got ${JSON.stringify(step)}`);
    if (step.attempt !== undefined && step.attempt !== ctx.attempt) continue;
    switch (step.op) {
      case "sleep":
        await sleep(numberOf(step.ms, "sleep.ms"));
        break;
      case "progress":
        if (step.progress !== undefined) ctx.progress(step.progress as object);
        if (step.checkpoint !== undefined) ctx.checkpoint(step.checkpoint as object);
        break;
      case "wait_cancel": {
        const timeout = step.timeout_ms === undefined ? WAIT_CANCEL_DEFAULT_MS : numberOf(step.timeout_ms, "wait_cancel.timeout_ms");
        if (await cancelledWithin(ctx.signal, timeout)) {
          emit({ event: "cancelled", job_id: ctx.id });
          return ctx.fail("cancelled");
        }
        return ctx.fail("not cancelled");
      }
      case "complete":
        return step.result === undefined ? null : step.result;
      case "fail":
        return ctx.fail(String(step.error ?? "failed"));
      case "throw":
        throw new Error(String(step.error ?? "thrown"));
      default:
        throw new Error(`unknown step op ${JSON.stringify(step.op)}`);
    }
  }
  return defaultResult(ctx);
}

/** True when `signal` aborts within `ms`, false after `ms` without it. */
export function cancelledWithin(signal: AbortSignal, ms: number): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function numberOf(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new Error(`${field}: a non-negative number, got ${JSON.stringify(v)}`);
  return v;
}
