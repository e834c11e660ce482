use std::time::Duration;

use corvo_sdk::worker::{JobContext, Worker};
use corvo_sdk::{Backoff, Client, ConnectOptions, EnqueueOptions};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let servers = ConnectOptions::new(["http://127.0.0.1:8080"]);
    Client::new(servers.clone())?
        .enqueue(
            "invoices",
            &json!({"invoice": 42}),
            EnqueueOptions::new()
                .max_attempts(5)
                .backoff(Backoff::exponential(
                    Duration::from_secs(1),
                    Duration::from_secs(60),
                ))
                .unique_key("invoice-42"), // enqueue again safely: the same job answers
        )
        .await?;

    Worker::new(servers)?
        .handle("invoices", |job: JobContext| async move {
            // An Err fails the attempt: retried after 1 s, 2 s, 4 s, ... then dead.
            charge(job.payload_value()["invoice"].as_u64().unwrap_or(0)).await?;
            Ok::<_, String>(json!({"charged": true}))
        })
        .run_until_signal()
        .await?;
    Ok(())
}

async fn charge(invoice: u64) -> Result<(), String> {
    Err(format!(
        "payment provider unavailable for invoice {invoice}"
    ))
}
