use std::time::Duration;

use corvo_sdk::ConnectOptions;
use corvo_sdk::worker::{JobContext, Worker};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stats = Worker::new(ConnectOptions::new(["http://127.0.0.1:8080"]))?
        .concurrency(16)
        .drain_timeout(Duration::from_secs(30))
        .handle("reports", |_job: JobContext| async move {
            tokio::time::sleep(Duration::from_secs(5)).await; // ... build the report ...
            Ok::<_, String>(json!({"ok": true}))
        })
        // On SIGTERM (Kubernetes) or Ctrl-C: no new jobs; running ones get 30 s to finish, then
        // are failed back so another worker retries them at once. A second signal stops now.
        .run_until_signal()
        .await?;
    println!(
        "stopped: {} completed, {} failed",
        stats.completed, stats.failed
    );
    Ok(())
}
