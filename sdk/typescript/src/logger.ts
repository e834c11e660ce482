// Logging: an injectable logger, and a default that writes warnings and info to stderr.
// The SDK never passes the API key (or a header carrying it) to a logger.

/** Where the SDK reports connection changes (info/warn) and refused outcomes (warn). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A logger writing `corvo <level>: message key=value ...` lines to stderr from `level` up. */
export function stderrLogger(level: LogLevel = "info"): Logger {
  const write = (l: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (RANK[l] < RANK[level]) return;
    process.stderr.write(`corvo ${l}: ${message}${formatFields(fields)}\n`);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = stderrLogger("silent");

function formatFields(fields?: Record<string, unknown>): string {
  if (!fields) return "";
  let out = "";
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const text = typeof v === "string" ? v : v instanceof Error ? v.message : JSON.stringify(v, bigintSafe);
    out += ` ${k}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return out;
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
