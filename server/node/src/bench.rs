//! `corvo bench`: load against a running server (filled in below).

use clap::Args;

#[derive(Args, Debug)]
pub struct BenchArgs {}

pub async fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("corvo bench is not implemented yet")
}
