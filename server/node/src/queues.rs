//! `corvo queues list|get|pause|resume|drain|clear|destroy|limit|retention` and
//! `corvo workers`, over `corvo.v1.QueueService`.

use anyhow::Context;
use corvo_sdk::proto as pb;
use corvo_sdk::proto::job_service_client::JobServiceClient;
use corvo_sdk::proto::queue_service_client::QueueServiceClient;
use serde_json::json;

use crate::client::{channel, status_error};
use crate::config::{Output, QueuesAction, QueuesArgs, RateArg, RetentionArg, WorkersArgs};
use crate::render::{self, duration_ms, state_name, time};

/// The states shown as table columns, in this order (the rest are in `--output json`).
const COLUMNS: [pb::JobState; 6] = [
    pb::JobState::Pending,
    pb::JobState::Scheduled,
    pb::JobState::Active,
    pb::JobState::Retrying,
    pb::JobState::Completed,
    pb::JobState::Dead,
];

pub async fn run(args: QueuesArgs) -> anyhow::Result<()> {
    let conn = channel(&args.client).await?;
    let mut client = QueueServiceClient::new(conn.clone());
    let output = args.client.output;
    let queue = match args.action {
        QueuesAction::List => {
            let queues = client
                .list_queues(pb::ListQueuesRequest {})
                .await
                .map_err(status_error)?
                .into_inner()
                .queues;
            print_queues(&queues, output);
            return Ok(());
        }
        QueuesAction::Get { queue } => get(&mut client, &queue).await?,
        QueuesAction::Pause { queue } => client
            .pause_queue(pb::PauseQueueRequest { queue })
            .await
            .map_err(status_error)?
            .into_inner()
            .queue
            .context("the server returned no queue")?,
        QueuesAction::Resume { queue } => client
            .resume_queue(pb::ResumeQueueRequest { queue })
            .await
            .map_err(status_error)?
            .into_inner()
            .queue
            .context("the server returned no queue")?,
        QueuesAction::Drain { queue, wait } => {
            let answer = client
                .drain_queue(pb::DrainQueueRequest {
                    queue: queue.clone(),
                    wait_ms: u32::try_from(wait.as_millis()).unwrap_or(u32::MAX),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            match output {
                Output::Json => println!(
                    "{}",
                    json!({"queue": queue, "paused": true, "drained": answer.drained,
                           "active": answer.active})
                ),
                Output::Text if answer.drained => {
                    println!("{queue} paused and drained: no job is active")
                }
                Output::Text => println!(
                    "{queue} paused; {} jobs still active after {}",
                    answer.active,
                    humantime::format_duration(wait)
                ),
            }
            if !answer.drained {
                anyhow::bail!(
                    "{queue} did not drain within {}",
                    humantime::format_duration(wait)
                );
            }
            return Ok(());
        }
        QueuesAction::Clear { queue, no_wait } => {
            let answer = client
                .clear_queue(pb::ClearQueueRequest {
                    queue: queue.clone(),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            if answer.operation_id.is_empty() {
                match output {
                    Output::Json => {
                        println!("{}", json!({"queue": queue, "removed": answer.removed}))
                    }
                    Output::Text => println!("{queue}: removed {} waiting jobs", answer.removed),
                }
                return Ok(());
            }
            return operation(conn, &answer.operation_id, no_wait, output).await;
        }
        QueuesAction::Destroy {
            queue,
            confirm,
            no_wait,
        } => {
            let answer = client
                .destroy_queue(pb::DestroyQueueRequest { queue, confirm })
                .await
                .map_err(status_error)?
                .into_inner();
            return operation(conn, &answer.operation_id, no_wait, output).await;
        }
        QueuesAction::Limit {
            queue,
            concurrency,
            rate,
        } => {
            if concurrency.is_none() && rate.is_none() {
                anyhow::bail!("give --concurrency, --rate, or both");
            }
            let current = find(&mut client, &queue).await?;
            let (rate_starts, rate_window_ms) = match rate {
                None => current
                    .as_ref()
                    .map_or((0, 0), |q| (q.rate_starts, q.rate_window_ms)),
                Some(RateArg(None)) => (0, 0),
                Some(RateArg(Some((n, window)))) => (n, window.as_millis() as u64),
            };
            let concurrency = concurrency
                .or_else(|| current.as_ref().map(|q| q.concurrency_limit))
                .unwrap_or(0);
            client
                .set_queue_limits(pb::SetQueueLimitsRequest {
                    queue,
                    concurrency,
                    rate_starts,
                    rate_window_ms,
                })
                .await
                .map_err(status_error)?
                .into_inner()
                .queue
                .context("the server returned no queue")?
        }
        QueuesAction::Retention {
            queue,
            completed,
            dead,
        } => {
            if completed.is_none() && dead.is_none() {
                anyhow::bail!("give --completed, --dead, or both");
            }
            let current = find(&mut client, &queue).await?;
            let pick = |given: Option<RetentionArg>, now: Option<u64>| match given {
                None => now.unwrap_or(0),
                Some(RetentionArg(None)) => 0,
                Some(RetentionArg(Some(d))) => d.as_millis() as u64,
            };
            client
                .set_queue_retention(pb::SetQueueRetentionRequest {
                    retention_ms: pick(completed, current.as_ref().map(|q| q.retention_ms)),
                    dead_retention_ms: pick(dead, current.as_ref().map(|q| q.dead_retention_ms)),
                    queue,
                })
                .await
                .map_err(status_error)?
                .into_inner()
                .queue
                .context("the server returned no queue")?
        }
    };
    print_queue(&queue, output);
    Ok(())
}

async fn get(
    client: &mut QueueServiceClient<crate::client::Conn>,
    queue: &str,
) -> anyhow::Result<pb::Queue> {
    client
        .get_queue(pb::GetQueueRequest {
            queue: queue.to_owned(),
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .queue
        .context("the server returned no queue")
}

/// The queue, or None when it does not exist yet (settings may create it).
async fn find(
    client: &mut QueueServiceClient<crate::client::Conn>,
    queue: &str,
) -> anyhow::Result<Option<pb::Queue>> {
    match client
        .get_queue(pb::GetQueueRequest {
            queue: queue.to_owned(),
        })
        .await
    {
        Ok(r) => Ok(r.into_inner().queue),
        Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
        Err(s) => Err(status_error(s)),
    }
}

async fn operation(
    conn: crate::client::Conn,
    operation_id: &str,
    no_wait: bool,
    output: Output,
) -> anyhow::Result<()> {
    if no_wait {
        match output {
            Output::Json => println!("{}", json!({ "operation_id": operation_id })),
            Output::Text => println!(
                "operation {operation_id} started (follow it: corvo jobs operations {operation_id})"
            ),
        }
        return Ok(());
    }
    crate::jobs::follow(&mut JobServiceClient::new(conn), operation_id, output).await
}

fn count(q: &pb::Queue, state: pb::JobState) -> u64 {
    q.counts
        .iter()
        .find(|c| c.state == i32::from(state))
        .map_or(0, |c| c.count)
}

fn limits(q: &pb::Queue) -> String {
    let mut parts = Vec::new();
    if q.paused {
        parts.push("paused".to_owned());
    }
    if q.concurrency_limit > 0 {
        parts.push(format!("≤{} active", q.concurrency_limit));
    }
    if q.rate_starts > 0 {
        parts.push(format!(
            "{}/{}",
            q.rate_starts,
            duration_ms(q.rate_window_ms)
        ));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(" ")
    }
}

pub fn queue_json(q: &pb::Queue) -> serde_json::Value {
    let counts: serde_json::Map<String, serde_json::Value> = q
        .counts
        .iter()
        .map(|c| (state_name(c.state), json!(c.count)))
        .collect();
    json!({
        "name": q.name,
        "counts": counts,
        "oldest_pending_age_ms": q.oldest_pending_age_ms,
        "last_minute": {
            "enqueued": q.enqueued_last_minute, "completed": q.completed_last_minute,
            "failed": q.failed_last_minute, "throttled": q.throttled_last_minute,
        },
        "paused": q.paused,
        "concurrency_limit": (q.concurrency_limit > 0).then_some(q.concurrency_limit),
        "rate_limit": (q.rate_starts > 0)
            .then(|| json!({"starts": q.rate_starts, "window_ms": q.rate_window_ms})),
        "retention_ms": q.effective_retention_ms,
        "dead_retention_ms": q.effective_dead_retention_ms,
        "retention_overridden": q.retention_ms > 0,
        "dead_retention_overridden": q.dead_retention_ms > 0,
    })
}

fn print_queue(q: &pb::Queue, output: Output) {
    match output {
        Output::Json => println!("{}", queue_json(q)),
        Output::Text => print_queues(std::slice::from_ref(q), output),
    }
}

fn print_queues(queues: &[pb::Queue], output: Output) {
    if output == Output::Json {
        println!(
            "{}",
            serde_json::Value::Array(queues.iter().map(queue_json).collect())
        );
        return;
    }
    let rows: Vec<[String; 13]> = queues
        .iter()
        .map(|q| {
            let [pending, scheduled, active, retrying, completed, dead] =
                COLUMNS.map(|s| count(q, s).to_string());
            let retention = |over: u64, effective: u64| {
                let d = duration_ms(effective);
                if over > 0 { d } else { format!("{d}*") }
            };
            [
                q.name.clone(),
                pending,
                scheduled,
                active,
                retrying,
                completed,
                dead,
                duration_ms(q.oldest_pending_age_ms),
                format!(
                    "{}/{}/{}",
                    q.enqueued_last_minute, q.completed_last_minute, q.failed_last_minute
                ),
                q.throttled_last_minute.to_string(),
                limits(q),
                retention(q.retention_ms, q.effective_retention_ms),
                retention(q.dead_retention_ms, q.effective_dead_retention_ms),
            ]
        })
        .collect();
    render::table(
        [
            "QUEUE",
            "PENDING",
            "SCHEDULED",
            "ACTIVE",
            "RETRYING",
            "COMPLETED",
            "DEAD",
            "OLDEST",
            "IN/OK/FAIL 1M",
            "THROTTLED 1M",
            "LIMITS",
            "KEEP DONE",
            "KEEP DEAD",
        ],
        &rows,
    );
    if queues
        .iter()
        .any(|q| q.retention_ms == 0 || q.dead_retention_ms == 0)
    {
        println!("(* the cluster's default retention)");
    }
}

pub async fn workers(args: WorkersArgs) -> anyhow::Result<()> {
    let mut client = QueueServiceClient::new(channel(&args.client).await?);
    let workers = client
        .list_workers(pb::ListWorkersRequest {
            queue: args.queue.unwrap_or_default(),
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .workers;
    match args.client.output {
        Output::Json => {
            let items: Vec<_> = workers
                .iter()
                .map(|w| {
                    json!({
                        "worker_id": w.worker_id, "hostname": w.hostname, "queues": w.queues,
                        "credits": w.credits, "jobs_held": w.jobs_held,
                        "connected_at": time(&w.connected_at),
                        "last_frame_at": time(&w.last_frame_at),
                    })
                })
                .collect();
            println!("{}", serde_json::Value::Array(items));
        }
        Output::Text => {
            let rows: Vec<[String; 7]> = workers
                .iter()
                .map(|w| {
                    [
                        w.worker_id.clone(),
                        w.hostname.clone(),
                        w.queues.join(","),
                        w.credits.to_string(),
                        w.jobs_held.to_string(),
                        time(&w.connected_at).unwrap_or_default(),
                        time(&w.last_frame_at).unwrap_or_default(),
                    ]
                })
                .collect();
            render::table(
                [
                    "WORKER",
                    "HOST",
                    "QUEUES",
                    "CREDITS",
                    "HELD",
                    "CONNECTED",
                    "LAST FRAME",
                ],
                &rows,
            );
        }
    }
    Ok(())
}
