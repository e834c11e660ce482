//! `corvo jobs get|list|cancel|retry|delete|move|priority|operations`.
//!
//! The bulk commands take job ids or filters. Ids get one result each; a filter is acted on
//! by the server, at once for up to 1000 jobs, beyond that as an operation this command
//! follows (a progress line on a terminal) until it ends, unless `--no-wait`.

use std::time::Duration;

use anyhow::Context;
use corvo_sdk::proto as pb;
use corvo_sdk::proto::job_service_client::JobServiceClient;
use serde_json::json;

use crate::client::{Conn, channel, priority_to_proto, status_error};
use crate::config::{BulkArgs, FilterArgs, JobsAction, JobsArgs, ListArgs, Output};
use crate::render::{self, operation_state_name, priority_name, state_name, time, time_ms};

/// The most jobs one ListJobs page holds.
const PAGE_MAX: usize = 1_000;
/// How often a followed operation is polled.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

pub async fn run(args: JobsArgs) -> anyhow::Result<()> {
    let mut client = JobServiceClient::new(channel(&args.client).await?);
    let output = args.client.output;
    match args.action {
        JobsAction::Get { job_id } => {
            let job = client
                .get_job(pb::GetJobRequest { job_id })
                .await
                .map_err(status_error)?
                .into_inner()
                .job
                .context("the server returned no job")?;
            let v = job_json(&job);
            match output {
                Output::Json => println!("{v}"),
                Output::Text => println!("{}", serde_json::to_string_pretty(&v)?),
            }
            Ok(())
        }
        JobsAction::List(list) => list_jobs(&mut client, list, output).await,
        JobsAction::Cancel(bulk) => {
            run_bulk(&mut client, pb::BulkAction::Cancel, bulk, output, |_| {}).await
        }
        JobsAction::Retry(bulk) => {
            run_bulk(&mut client, pb::BulkAction::Retry, bulk, output, |_| {}).await
        }
        JobsAction::Delete(bulk) => {
            run_bulk(&mut client, pb::BulkAction::Delete, bulk, output, |_| {}).await
        }
        JobsAction::Move { bulk, to } => {
            run_bulk(&mut client, pb::BulkAction::Move, bulk, output, |r| {
                r.target_queue = to
            })
            .await
        }
        JobsAction::Priority { bulk, to } => {
            run_bulk(
                &mut client,
                pb::BulkAction::SetPriority,
                bulk,
                output,
                |r| r.priority = priority_to_proto(to).into(),
            )
            .await
        }
        JobsAction::Operations { operation_id } => {
            operations(&mut client, operation_id, output).await
        }
    }
}

pub fn job_json(j: &pb::Job) -> serde_json::Value {
    json!({
        "id": j.id, "queue": j.queue, "state": state_name(j.state),
        "priority": priority_name(j.priority),
        "attempt": j.attempt, "max_attempts": j.max_attempts,
        "payload": serde_json::from_str::<serde_json::Value>(&j.payload_json).unwrap_or(serde_json::Value::Null),
        "result": serde_json::from_str::<serde_json::Value>(&j.result_json).ok(),
        "progress": serde_json::from_str::<serde_json::Value>(&j.progress_json).ok(),
        "last_error": (!j.last_error.is_empty()).then_some(&j.last_error),
        "worker_id": (!j.worker_id.is_empty()).then_some(&j.worker_id),
        "tags": j.tags, "unique_key": (!j.unique_key.is_empty()).then_some(&j.unique_key),
        "created_at_ms": time_ms(&j.created_at), "started_at_ms": time_ms(&j.started_at),
        "finished_at_ms": time_ms(&j.finished_at), "scheduled_at_ms": time_ms(&j.scheduled_at),
        "lease_deadline_ms": time_ms(&j.lease_deadline),
    })
}

/// Pages through ListJobs until `--limit` jobs are shown or the last page.
async fn list_jobs(
    client: &mut JobServiceClient<Conn>,
    args: ListArgs,
    output: Output,
) -> anyhow::Result<()> {
    let state = match &args.state {
        None => pb::JobState::Unspecified,
        Some(s) => render::parse_state(s).context("--state")?,
    };
    let mut request = pb::ListJobsRequest {
        queue: args.queue.unwrap_or_default(),
        state: state.into(),
        priority: args.priority.map_or(0, |p| priority_to_proto(p).into()),
        tags: args.tags.into_iter().collect(),
        payload_contains: args.payload_contains.unwrap_or_default(),
        error_contains: args.error_contains.unwrap_or_default(),
        created_after: args.created_after.map(render::timestamp),
        created_before: args.created_before.map(render::timestamp),
        page_size: 0,
        page_token: args.page_token.unwrap_or_default(),
        consistent: args.consistent,
    };
    let mut jobs = Vec::new();
    let mut view_index;
    let mut stale = String::new();
    loop {
        let wanted = args.limit - jobs.len();
        request.page_size = wanted.clamp(1, PAGE_MAX) as i32;
        let page = client
            .list_jobs(request.clone())
            .await
            .map_err(status_error)?
            .into_inner();
        // Read-your-writes holds after the first page; the next ones need not wait again.
        request.consistent = false;
        view_index = page.view_index;
        if stale.is_empty() {
            stale = page.view_stale_reason;
        }
        jobs.extend(page.jobs.into_iter().take(wanted));
        request.page_token = page.next_page_token;
        if jobs.len() >= args.limit || request.page_token.is_empty() {
            break;
        }
    }
    let next = request.page_token;
    match output {
        Output::Json => println!(
            "{}",
            json!({
                "jobs": jobs.iter().map(job_json).collect::<Vec<_>>(),
                "next_page_token": next,
                "view_index": view_index,
                "view_stale_reason": stale,
            })
        ),
        Output::Text => {
            let rows: Vec<[String; 7]> = jobs
                .iter()
                .map(|j| {
                    [
                        j.id.clone(),
                        j.queue.clone(),
                        state_name(j.state),
                        priority_name(j.priority),
                        format!("{}/{}", j.attempt, j.max_attempts),
                        time(&j.created_at).unwrap_or_default(),
                        j.last_error.clone(),
                    ]
                })
                .collect();
            render::table(
                [
                    "ID", "QUEUE", "STATE", "PRIORITY", "ATTEMPT", "CREATED", "ERROR",
                ],
                &rows,
            );
            if !next.is_empty() {
                println!("more: --page-token {next}");
            }
            if !stale.is_empty() {
                eprintln!(
                    "warning: this listing may be stale: the read view cannot be written ({stale})"
                );
            }
        }
    }
    Ok(())
}

pub fn filter_to_proto(f: FilterArgs) -> anyhow::Result<pb::JobFilter> {
    let states = f
        .states
        .iter()
        .map(|s| render::parse_state(s).map(i32::from))
        .collect::<anyhow::Result<Vec<_>>>()
        .context("--state")?;
    Ok(pb::JobFilter {
        queue: f.queue.unwrap_or_default(),
        states,
        priority: f.priority.map_or(0, |p| priority_to_proto(p).into()),
        tags: f.tags.into_iter().collect(),
        payload_contains: f.payload_contains.unwrap_or_default(),
        error_contains: f.error_contains.unwrap_or_default(),
        created_after: f.created_after.map(render::timestamp),
        created_before: f.created_before.map(render::timestamp),
    })
}

fn filter_is_empty(f: &pb::JobFilter) -> bool {
    *f == pb::JobFilter::default()
}

async fn run_bulk(
    client: &mut JobServiceClient<Conn>,
    action: pb::BulkAction,
    args: BulkArgs,
    output: Output,
    fill: impl FnOnce(&mut pb::BulkJobsRequest),
) -> anyhow::Result<()> {
    let filter = filter_to_proto(args.filter)?;
    let by_ids = !args.job_ids.is_empty();
    if by_ids && (!filter_is_empty(&filter) || args.all) {
        anyhow::bail!("give job ids or filters (or --all), not both");
    }
    if !by_ids && filter_is_empty(&filter) && !args.all {
        anyhow::bail!(
            "which jobs? Give job ids, filters (--queue, --state, --tag, ...), or --all for \
             every job"
        );
    }
    let mut request = pb::BulkJobsRequest {
        action: action.into(),
        job_ids: args.job_ids,
        filter: (!by_ids).then_some(filter),
        all_jobs: args.all,
        ..Default::default()
    };
    fill(&mut request);
    let answer = client
        .bulk_jobs(request)
        .await
        .map_err(status_error)?
        .into_inner();
    if by_ids {
        return print_item_results(&answer.results, output);
    }
    if answer.operation_id.is_empty() {
        match output {
            Output::Json => println!(
                "{}",
                json!({"examined": answer.examined, "succeeded": answer.succeeded})
            ),
            Output::Text => println!(
                "{} {} of {} selected jobs",
                past_tense(action),
                answer.succeeded,
                answer.examined
            ),
        }
        return Ok(());
    }
    if args.no_wait {
        match output {
            Output::Json => println!(
                "{}",
                json!({"operation_id": answer.operation_id, "examined": answer.examined,
                       "succeeded": answer.succeeded})
            ),
            Output::Text => println!(
                "operation {} started (follow it: corvo jobs operations {})",
                answer.operation_id, answer.operation_id
            ),
        }
        return Ok(());
    }
    follow(client, &answer.operation_id, output).await
}

fn past_tense(action: pb::BulkAction) -> &'static str {
    match action {
        pb::BulkAction::Retry => "retried",
        pb::BulkAction::Cancel => "cancelled",
        pb::BulkAction::Delete => "deleted",
        pb::BulkAction::Move => "moved",
        pb::BulkAction::SetPriority => "reprioritized",
        pb::BulkAction::Unspecified => "acted on",
    }
}

/// One line per id; fails when any item did.
fn print_item_results(results: &[pb::ItemResult], output: Output) -> anyhow::Result<()> {
    let failed = results
        .iter()
        .filter(|r| r.code != i32::from(pb::ErrorCode::Unspecified))
        .count();
    match output {
        Output::Json => {
            let items: Vec<_> = results
                .iter()
                .map(|r| {
                    if r.code == i32::from(pb::ErrorCode::Unspecified) {
                        json!({"job_id": r.job_id, "ok": true,
                               "state": (r.state != 0).then(|| state_name(r.state))})
                    } else {
                        json!({"job_id": r.job_id, "ok": false, "code": error_code_name(r.code),
                               "message": r.message})
                    }
                })
                .collect();
            println!("{}", json!({ "results": items }));
        }
        Output::Text => {
            for r in results {
                if r.code == i32::from(pb::ErrorCode::Unspecified) {
                    let state = if r.state == 0 {
                        "done".to_owned()
                    } else {
                        state_name(r.state)
                    };
                    println!("{} {state}", r.job_id);
                } else {
                    println!(
                        "{} error {}: {}",
                        r.job_id,
                        error_code_name(r.code),
                        r.message
                    );
                }
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} jobs failed", results.len());
    }
    Ok(())
}

fn error_code_name(code: i32) -> String {
    pb::ErrorCode::try_from(code).map_or(format!("code {code}"), |c| {
        c.as_str_name()
            .trim_start_matches("ERROR_CODE_")
            .to_lowercase()
    })
}

/// Polls the operation until it ends, with a progress line on a terminal; fails when the
/// operation does.
pub async fn follow(
    client: &mut JobServiceClient<Conn>,
    operation_id: &str,
    output: Output,
) -> anyhow::Result<()> {
    let bar = (output == Output::Text && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
    let operation = loop {
        let op = client
            .get_operation(pb::GetOperationRequest {
                operation_id: operation_id.to_owned(),
            })
            .await
            .map_err(status_error)?
            .into_inner()
            .operation
            .context("the server returned no operation")?;
        if let Some(bar) = &bar {
            bar.set_message(format!(
                "{} {}: {} examined, {} succeeded",
                op.action, op.id, op.examined, op.succeeded
            ));
        }
        if op.state != i32::from(pb::OperationState::Running) {
            break op;
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print_operations(std::slice::from_ref(&operation), output);
    if operation.state == i32::from(pb::OperationState::Failed) {
        anyhow::bail!("operation {} failed: {}", operation.id, operation.error);
    }
    Ok(())
}

async fn operations(
    client: &mut JobServiceClient<Conn>,
    operation_id: Option<String>,
    output: Output,
) -> anyhow::Result<()> {
    let ops = match operation_id {
        Some(operation_id) => client
            .get_operation(pb::GetOperationRequest { operation_id })
            .await
            .map_err(status_error)?
            .into_inner()
            .operation
            .into_iter()
            .collect(),
        None => {
            client
                .list_operations(pb::ListOperationsRequest {})
                .await
                .map_err(status_error)?
                .into_inner()
                .operations
        }
    };
    print_operations(&ops, output);
    Ok(())
}

pub fn operation_json(op: &pb::Operation) -> serde_json::Value {
    json!({
        "id": op.id, "action": op.action, "queue": (!op.queue.is_empty()).then_some(&op.queue),
        "state": operation_state_name(op.state), "examined": op.examined,
        "succeeded": op.succeeded, "created_at": time(&op.created_at),
        "updated_at": time(&op.updated_at), "error": (!op.error.is_empty()).then_some(&op.error),
    })
}

fn print_operations(ops: &[pb::Operation], output: Output) {
    match output {
        Output::Json if ops.len() == 1 => println!("{}", operation_json(&ops[0])),
        Output::Json => println!(
            "{}",
            serde_json::Value::Array(ops.iter().map(operation_json).collect())
        ),
        Output::Text => {
            let rows: Vec<[String; 8]> = ops
                .iter()
                .map(|op| {
                    [
                        op.id.clone(),
                        op.action.clone(),
                        op.queue.clone(),
                        operation_state_name(op.state),
                        op.examined.to_string(),
                        op.succeeded.to_string(),
                        time(&op.updated_at).unwrap_or_default(),
                        op.error.clone(),
                    ]
                })
                .collect();
            render::table(
                [
                    "ID",
                    "ACTION",
                    "QUEUE",
                    "STATE",
                    "EXAMINED",
                    "SUCCEEDED",
                    "UPDATED",
                    "ERROR",
                ],
                &rows,
            );
        }
    }
}
