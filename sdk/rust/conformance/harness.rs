//! The Rust SDK's conformance harness (`sdk/conformance/README.md`): one worker whose handler
//! does what each job's payload says, reporting what happens as JSON lines on stdout.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use corvo_sdk::ConnectOptions;
use corvo_sdk::worker::{JobContext, Outcome, Worker};
use futures::FutureExt;
use serde_json::{Value, json};
use tokio::sync::Notify;

struct Args {
    servers: Vec<String>,
    queues: Vec<String>,
    concurrency: Option<u32>,
    lease_secs: Option<i32>,
    drain_timeout_ms: Option<u64>,
    max_jobs: Option<u64>,
    api_key: Option<String>,
    ca_cert: Option<String>,
    worker_id: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        servers: Vec::new(),
        queues: Vec::new(),
        concurrency: None,
        lease_secs: None,
        drain_timeout_ms: None,
        max_jobs: None,
        api_key: None,
        ca_cert: None,
        worker_id: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--server" => a.servers.push(value()?),
            "--queue" => a.queues.push(value()?),
            "--concurrency" => a.concurrency = Some(number(value()?)? as u32),
            "--lease-secs" => a.lease_secs = Some(number(value()?)? as i32),
            "--drain-timeout-ms" => a.drain_timeout_ms = Some(number(value()?)?),
            "--max-jobs" => a.max_jobs = Some(number(value()?)?),
            "--api-key" => a.api_key = Some(value()?),
            "--ca-cert" => a.ca_cert = Some(value()?),
            "--worker-id" => a.worker_id = Some(value()?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if a.servers.is_empty() || a.queues.is_empty() {
        return Err("--server and --queue are required".into());
    }
    Ok(a)
}

fn emit(line: Value) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Runs the payload's steps; the outcome.
async fn handle(mut job: JobContext) -> Outcome {
    let attempt = job.attempt();
    let checkpoint = job.checkpoint();
    emit(
        json!({"event": "job", "job_id": job.id(), "queue": job.queue(), "attempt": attempt, "checkpoint": checkpoint}),
    );
    let payload = job.payload_value();
    let done = json!({"attempt": attempt, "checkpoint": checkpoint});
    let steps = payload["steps"].as_array().cloned().unwrap_or_default();
    for step in steps {
        if step
            .get("attempt")
            .and_then(Value::as_u64)
            .is_some_and(|a| a != u64::from(attempt))
        {
            continue;
        }
        match step["op"].as_str().unwrap_or_default() {
            "sleep" => {
                tokio::time::sleep(Duration::from_millis(step["ms"].as_u64().unwrap_or(0))).await;
            }
            "progress" => {
                if let Some(p) = step.get("progress")
                    && let Err(e) = job.set_progress(p)
                {
                    return Outcome::fail(e.to_string());
                }
                if let Some(c) = step.get("checkpoint")
                    && let Err(e) = job.set_checkpoint(c)
                {
                    return Outcome::fail(e.to_string());
                }
            }
            "wait_cancel" => {
                let timeout = Duration::from_millis(step["timeout_ms"].as_u64().unwrap_or(30_000));
                return match tokio::time::timeout(timeout, job.cancelled()).await {
                    Ok(()) => {
                        emit(json!({"event": "cancelled", "job_id": job.id()}));
                        Outcome::fail("cancelled")
                    }
                    Err(_) => Outcome::fail("not cancelled"),
                };
            }
            "complete" => return Outcome::complete_value(&step["result"]),
            "fail" => return Outcome::fail(step["error"].as_str().unwrap_or("failed")),
            "throw" => panic!("{}", step["error"].as_str().unwrap_or("thrown")),
            other => return Outcome::fail(format!("unknown step {other:?}")),
        }
    }
    Outcome::complete_value(&done)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("harness: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // The handler's panics are failures the test expects: keep stderr readable.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("harness: handler panicked: {info}")
    }));
    let mut opts = ConnectOptions::new(args.servers.clone());
    if let Some(key) = &args.api_key {
        opts = opts.api_key(key.clone());
    }
    if let Some(ca) = &args.ca_cert {
        opts = match opts.ca_cert_file(ca) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("harness: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
    }
    let mut worker = match Worker::new(opts) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("harness: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let finished = Arc::new(AtomicU64::new(0));
    let enough = Arc::new(Notify::new());
    let max_jobs = args.max_jobs;
    for queue in &args.queues {
        let (finished, enough) = (finished.clone(), enough.clone());
        worker = worker.handle(queue.clone(), move |job: JobContext| {
            let (finished, enough) = (finished.clone(), enough.clone());
            async move {
                let id = job.id().to_owned();
                // A panic (the `throw` step) is the SDK's to catch: report the call as
                // finished, then let it go on.
                let outcome = std::panic::AssertUnwindSafe(handle(job))
                    .catch_unwind()
                    .await;
                emit(json!({"event": "finished", "job_id": id}));
                if max_jobs.is_some_and(|m| finished.fetch_add(1, Ordering::SeqCst) + 1 >= m) {
                    enough.notify_one();
                }
                match outcome {
                    Ok(o) => o,
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
    }
    if let Some(n) = args.concurrency {
        worker = worker.concurrency(n);
    }
    if let Some(s) = args.lease_secs {
        worker = worker.lease_secs(s);
    }
    if let Some(ms) = args.drain_timeout_ms {
        worker = worker.drain_timeout(Duration::from_millis(ms));
    }
    if let Some(id) = &args.worker_id {
        worker = worker.worker_id(id.clone());
    }
    // Signals counted: the first stops taking work (a drain), a later one stops at once.
    let (count_tx, count_rx) = tokio::sync::watch::channel(0u32);
    tokio::spawn(async move {
        loop {
            corvo_sdk::worker::wait_for_signal().await;
            count_tx.send_modify(|n| *n += 1);
        }
    });
    let shutdown = {
        let mut count = count_rx.clone();
        async move {
            tokio::select! {
                _ = count.wait_for(|n| *n >= 1) => {}
                _ = enough.notified() => {}
            }
        }
    };
    let force = {
        let mut count = count_rx;
        async move {
            let _ = count.wait_for(|n| *n >= 2).await;
        }
    };
    emit(json!({"event": "started"}));
    match worker.run_with(shutdown, force).await {
        Ok(_) => {
            emit(json!({"event": "stopped"}));
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("harness: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
