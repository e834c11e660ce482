use corvo_sdk::worker::{JobContext, Worker};
use corvo_sdk::{Client, ConnectOptions, EnqueueOptions};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let servers = ConnectOptions::new(["http://127.0.0.1:8080"]); // API key: CORVO_API_KEY
    let client = Client::new(servers.clone())?;
    let job = client
        .enqueue(
            "emails",
            &json!({"to": "ada@example.com"}),
            EnqueueOptions::new(),
        )
        .await?;
    println!("enqueued {} ({})", job.id, job.status);

    Worker::new(servers)?
        .concurrency(8)
        .handle("emails", |job: JobContext| async move {
            let to = job.payload_value()["to"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            // ... send the email ...
            Ok::<_, String>(json!({"sent_to": to}))
        })
        .run_until_signal() // SIGTERM or Ctrl-C: drain, then return
        .await?;
    Ok(())
}
