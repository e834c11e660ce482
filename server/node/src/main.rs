//! The `corvo` binary: the server and the client subcommands that talk to it.
//!
//! ```text
//!  corvo server ──▶ config.rs (flags + CORVO_* env, read once)
//!                   └▶ server.rs: the supervisor. Opens the store, starts Raft, the ticker
//!                      and one listener serving gRPC and HTTP; on SIGTERM/SIGINT it drains
//!                      in order: readiness off → streams finish in-flight acks → listener
//!                      closed → Raft stopped → state flushed → exit 0.
//!  corvo enqueue | jobs | worker ──▶ client.rs (the generated gRPC client)
//!  corvo bench ──▶ bench.rs (load against a running server)
//! ```

mod bench;
mod client;
mod config;
mod server;

use clap::Parser;

use crate::config::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corvo: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Server(args) => server::run(args).await,
            Command::Enqueue(args) => client::enqueue(args).await,
            Command::Jobs(args) => client::jobs(args).await,
            Command::Worker(args) => client::worker(args).await,
            Command::Bench(args) => bench::run(args).await,
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
