//! A minimal Corvo worker: works N jobs of one queue, acknowledges each, exits 0.
//! Usage: corvo-example-worker SERVER_URL QUEUE N

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use corvo_sdk::ConnectOptions;
use corvo_sdk::worker::{JobContext, Worker};
use tokio::sync::Notify;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [server, queue, n] = args.as_slice() else {
        return Err("usage: corvo-example-worker SERVER_URL QUEUE N".into());
    };
    let n: u64 = n.parse()?;
    let done = Arc::new(AtomicU64::new(0));
    let enough = Arc::new(Notify::new());
    let stats = Worker::new(ConnectOptions::new([server.clone()]))?
        .handle(queue.clone(), {
            let (done, enough) = (done.clone(), enough.clone());
            move |job: JobContext| {
                let (done, enough) = (done.clone(), enough.clone());
                async move {
                    println!("{} {}", job.id(), job.job.payload_json);
                    if done.fetch_add(1, Ordering::SeqCst) + 1 >= n {
                        enough.notify_one();
                    }
                    Ok::<_, String>(serde_json::json!({"done": true}))
                }
            }
        })
        .run(async move { enough.notified().await })
        .await?;
    eprintln!("worked {} jobs", stats.completed);
    Ok(())
}
