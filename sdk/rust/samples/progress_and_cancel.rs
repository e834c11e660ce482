use std::time::Duration;

use corvo_sdk::ConnectOptions;
use corvo_sdk::worker::{JobContext, Outcome, Worker};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    Worker::new(ConnectOptions::new(["http://127.0.0.1:8080"]))?
        .lease_secs(30) // heartbeats every 10 s carry progress and checkpoint
        .handle("exports", |mut job: JobContext| async move {
            // Resume where an earlier attempt stopped.
            let start = job
                .checkpoint()
                .and_then(|c| c["row"].as_u64())
                .unwrap_or(0);
            for row in start..1_000 {
                if job.is_cancelled() {
                    // Cancelled by an operator, or the lease was lost: stop now.
                    return Outcome::fail("cancelled");
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(10)) => {} // ... export a row ...
                    _ = job.cancelled() => return Outcome::fail("cancelled"),
                }
                if row % 100 == 0 {
                    let saved = job
                        .set_progress(&json!({"rows": row, "of": 1_000}))
                        .and_then(|()| job.set_checkpoint(&json!({"row": row})));
                    if let Err(e) = saved {
                        return Outcome::fail(e.to_string());
                    }
                }
            }
            Outcome::complete_value(&json!({"rows": 1_000}))
        })
        .run_until_signal()
        .await?;
    Ok(())
}
