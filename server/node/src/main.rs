//! The `corvo` binary: the server and the client subcommands that talk to it.
//!
//! ```text
//!  corvo server ──▶ config.rs (flags + CORVO_* env, read once)
//!                   └▶ server.rs: the supervisor. Opens the store, starts Raft, the ticker,
//!                      the readiness task and one listener serving gRPC and HTTP behind the
//!                      tower stack (corvo_api::stack); on SIGTERM/SIGINT it drains in order:
//!                      readiness off → streams finish in-flight acks → listener closed →
//!                      Raft stopped → state flushed → exit 0.
//!                   └▶ probes.rs: /healthz, /readyz, /metrics, grpc.health.v1 readiness
//!                   └▶ join.rs: `--join` (asks a member to add this node) and
//!                      POST /api/v1/cluster/join
//!                   └▶ telemetry.rs: logs, and OTLP tracing when an endpoint is set
//!                      (also used by `enqueue` and `worker`)
//!  corvo enqueue | worker ──▶ client.rs (connections: TLS, the API key)
//!  corvo jobs ──▶ jobs.rs (get, list, bulk actions by id or filter, operations)
//!  corvo queues | workers ──▶ queues.rs (QueueService); events tail ──▶ events.rs
//!  render.rs: the tables, names and times the client subcommands print
//!  corvo status | cluster status ──▶ status.rs (ClusterService, human or JSON)
//!  corvo keys ──▶ keys.rs (KeyService); access.rs: the server's bootstrap key, key-use
//!                 recording and open-mode warning
//!  corvo bench ──▶ bench/ (load against a running server: the current and the original
//!                 worker contract, unary calls, dispatch and end-to-end latency)
//! ```

mod access;
mod bench;
mod client;
mod client_port;
mod config;
mod events;
mod jobs;
mod join;
mod keys;
mod machine;
mod probes;
mod queues;
mod render;
mod server;
mod settings;
mod snapshot;
mod status;
mod telemetry;
mod tls;

use clap::Parser;

/// mimalloc: the hot path allocates many short-lived buffers (payload copies, encodings);
/// it measured faster than the system allocator in `corvo bench` (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crate::config::{Cli, Command};

/// No transparent huge pages for this process. mimalloc asks for them on its arenas, and every
/// fault of a fresh huge page zeroes 2 MiB: with buffers freed and re-faulted all the time
/// that zeroing was a third of the request threads' CPU in `corvo bench` (docs/performance.md).
/// Best effort: where the call is not supported nothing changes.
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE) takes integer arguments only and affects this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Client commands end quietly when their output pipe closes (`corvo jobs list | head`), as
/// Unix tools do, instead of panicking in `println!`. Sockets are unaffected (they write with
/// MSG_NOSIGNAL); the server keeps Rust's default of ignoring SIGPIPE.
fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> std::process::ExitCode {
    disable_transparent_huge_pages();
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Server(_)) {
        default_sigpipe();
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Command::Server(args) = &cli.command
        && let Some(threads) = args.runtime_threads
    {
        runtime.worker_threads(usize::from(threads));
    }
    let runtime = match runtime.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corvo: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Server(args) => server::run(*args).await,
            Command::Enqueue(args) => client::enqueue(args).await,
            Command::Jobs(args) => jobs::run(args).await,
            Command::Worker(args) => client::worker(args).await,
            Command::Status(args) => status::node(args).await,
            Command::Cluster(args) => status::cluster(args).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Snapshot(args) => snapshot::run(args).await,
            Command::Keys(args) => keys::run(args).await,
            Command::Queues(args) => queues::run(args).await,
            Command::Workers(args) => queues::workers(args).await,
            Command::Events(args) => events::run(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corvo: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
