// Where calls go: the configured node URLs, the leader a server named, the HTTP/2 transport
// per URL (TLS, API key), shared by the client and the worker.
//
//   servers [a, b, c] ──current──▶ transport(a) ── connection failure ──▶ advance(): b
//                       └── x-corvo-leader / leader_addr "host:port" ──▶ follow(): scheme://host:port

import { readFileSync } from "node:fs";
import type { SecureClientSessionOptions } from "node:http2";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { Code, CorvoError } from "./errors.js";
import { stderrLogger, type Logger } from "./logger.js";

/** The default server (SPEC). */
export const DEFAULT_SERVER = "http://127.0.0.1:8080";
/** Unary call timeout (SPEC: 30 s). */
export const CALL_TIMEOUT_MS_DEFAULT = 30_000;
/** HTTP/2 pings on open connections, so a vanished peer is noticed. */
const PING_INTERVAL_MS = 15_000;
const PING_TIMEOUT_MS = 10_000;
/** Leader URLs learnt from hints kept besides the configured ones (oldest dropped first). */
const HINTED_URLS_MAX = 8;

/** TLS for `https://` servers: a CA to trust instead of the system roots; a client certificate. */
export interface TlsOptions {
  /** PEM file of the CA that signed the servers' certificates. */
  caFile?: string;
  /** The CA certificate itself (PEM), instead of `caFile`. */
  ca?: string | Buffer;
  /** PEM files of the client certificate and its key (mTLS). */
  certFile?: string;
  keyFile?: string;
  /** The client certificate and key themselves (PEM). */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** How to reach Corvo; the client and the worker take the same options. */
export interface ConnectionOptions {
  /** One or more node URLs, `http://` or `https://` (default `http://127.0.0.1:8080`). */
  servers?: string | readonly string[];
  /** Sent as `authorization: Bearer <key>`; default: the `CORVO_API_KEY` variable. */
  apiKey?: string;
  tls?: TlsOptions;
  /** Receives connection changes and refused outcomes; default: info and up to stderr. */
  logger?: Logger;
}

/** The node URLs in use, the leader hint in force, and one transport per URL. */
export class Endpoints {
  readonly logger: Logger;
  private readonly urls: string[];
  private index = 0;
  private leaderUrl: string | undefined;
  private readonly hinted: string[] = [];
  private readonly transports = new Map<string, { transport: Transport; session: Http2SessionManager }>();
  private readonly interceptors: Interceptor[];
  private readonly tls: SecureClientSessionOptions;

  constructor(options: ConnectionOptions = {}) {
    this.logger = options.logger ?? stderrLogger();
    this.urls = normalizeServers(options.servers);
    this.tls = loadTls(options.tls);
    const key = options.apiKey ?? process.env.CORVO_API_KEY ?? "";
    this.interceptors = key === "" ? [] : [bearer(key)];
  }

  /** The URL the next call goes to. */
  get current(): string {
    return this.leaderUrl ?? this.urls[this.index];
  }

  get servers(): readonly string[] {
    return this.urls;
  }

  /** After a connection failure: the next configured URL (and forget the leader hint). */
  advance(): string {
    if (this.leaderUrl !== undefined) {
      this.leaderUrl = undefined;
    } else {
      this.index = (this.index + 1) % this.urls.length;
    }
    return this.current;
  }

  /**
   * A server named the leader (`host:port`): use it, with the scheme of the URL in use.
   * Returns the new URL, or undefined when the hint is not an address.
   */
  follow(hostPort: string): string | undefined {
    if (!/^[A-Za-z0-9.\-_:[\]]+:\d+$/.test(hostPort)) return undefined;
    const url = `${new URL(this.current).protocol}//${hostPort}`;
    const configured = this.urls.indexOf(url);
    if (configured >= 0) {
      this.index = configured;
      this.leaderUrl = undefined;
    } else {
      this.leaderUrl = url;
    }
    return url;
  }

  /** The transport for `url` (default: the current one), created on first use. */
  transport(url: string = this.current): Transport {
    const found = this.transports.get(url);
    if (found) return found.transport;
    if (!this.urls.includes(url)) this.rememberHinted(url);
    const secure = url.startsWith("https:");
    const session = new Http2SessionManager(
      url,
      { pingIntervalMs: PING_INTERVAL_MS, pingTimeoutMs: PING_TIMEOUT_MS },
      secure ? this.tls : {},
    );
    const transport = createGrpcTransport({
      baseUrl: url,
      sessionManager: session,
      interceptors: this.interceptors,
    });
    this.transports.set(url, { transport, session });
    return transport;
  }

  /** Closes every connection. */
  close(): void {
    for (const { session } of this.transports.values()) session.abort();
    this.transports.clear();
  }

  private rememberHinted(url: string): void {
    this.hinted.push(url);
    while (this.hinted.length > HINTED_URLS_MAX) {
      const old = this.hinted.shift() as string;
      if (old === this.current) continue;
      this.transports.get(old)?.session.abort();
      this.transports.delete(old);
    }
  }
}

function normalizeServers(servers: ConnectionOptions["servers"]): string[] {
  const list = servers === undefined ? [DEFAULT_SERVER] : typeof servers === "string" ? [servers] : [...servers];
  if (list.length === 0) throw invalid("servers: at least one URL");
  return list.map((s) => {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw invalid(`servers: ${JSON.stringify(s)} is not a URL (http://host:port or https://host:port)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw invalid(`servers: ${JSON.stringify(s)} must start with http:// or https://`);
    }
    return `${url.protocol}//${url.host}`;
  });
}

function loadTls(tls: TlsOptions | undefined): SecureClientSessionOptions {
  if (!tls) return {};
  const read = (what: string, path: string | undefined, inline: string | Buffer | undefined) => {
    if (inline !== undefined) return inline;
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw invalid(`tls.${what}: cannot read ${path}: ${(e as Error).message}`);
    }
  };
  const out: SecureClientSessionOptions = {};
  const ca = read("caFile", tls.caFile, tls.ca);
  const cert = read("certFile", tls.certFile, tls.cert);
  const key = read("keyFile", tls.keyFile, tls.key);
  if ((cert === undefined) !== (key === undefined)) {
    throw invalid("tls: a client certificate needs its key, and a key its certificate");
  }
  if (ca !== undefined) out.ca = ca;
  if (cert !== undefined) out.cert = cert;
  if (key !== undefined) out.key = key;
  return out;
}

function bearer(key: string): Interceptor {
  // Visible ASCII only: anything else cannot travel in a header (and must not be echoed).
  if (!/^[\x21-\x7e]+$/.test(key)) throw invalid("apiKey: not a valid API key (visible ASCII characters only)");
  const value = `Bearer ${key}`;
  return (next) => (req) => {
    req.header.set("authorization", value);
    return next(req);
  };
}

function invalid(message: string): CorvoError {
  return new CorvoError(Code.InvalidArgument, message);
}
