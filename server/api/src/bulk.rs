//! Bulk actions over jobs (retry, cancel, delete, move, change priority, destroy), by id list
//! or by filter, and the operation runner that carries large ones out in bounded batches.
//!
//! ```text
//!  ids (≤ 1000) ──▶ one command per id, proposed in chunks ──▶ a result per id
//!  filter ──▶ first page (≤ 1000 jobs, from the read view) acted on in the call
//!               └─ more pages? ──▶ StartOperation + progress (replicated) ──▶ operation id
//!  runner (every node; acts while it leads) ──▶ next page after the cursor ──▶ commands
//!               ──▶ AdvanceOperation (cursor, counts; finished on the last page)
//! ```
//!
//! A batch is at most [`BATCH_JOBS`] jobs, one proposal: an operation over millions of jobs
//! never holds the apply for long, and the server answers other calls between batches. The
//! view pages newest first by enqueue order, with a cursor that stays valid while the action
//! changes the jobs; jobs created after the operation started are not included. A new leader
//! resumes a running operation from its last recorded cursor (a batch done but not recorded is
//! done again: every action is idempotent, a repeat is only not counted).

use std::time::Duration;

use corvo_core::queues::{BulkAction, JobFilter, Operation, OperationState};
use corvo_core::{Command, OperationProgress, Reply, query};
use corvo_sdk::proto as pb;
use tokio::sync::watch;

use crate::convert;
use crate::engine::Engine;
use crate::error::ApiError;
use crate::principal::Principal;

/// Job ids one call may name.
pub const IDS_MAX: usize = 1_000;
/// A filter selecting up to this many jobs is acted on within the call.
pub const SYNC_JOBS_MAX: usize = 1_000;
/// Jobs per batch of an operation (one proposal).
pub const BATCH_JOBS: usize = 500;
/// How long a batch waits for the read view to catch up with the state.
const VIEW_WAIT_MAX: Duration = Duration::from_secs(10);
/// How often the runner looks for running operations when nothing wakes it.
const RUNNER_POLL: Duration = Duration::from_secs(1);

/// The command that applies `action` to one job.
pub fn command(action: &BulkAction, job_id: String) -> Command {
    match action {
        BulkAction::Retry => Command::Retry { job_id },
        BulkAction::Cancel => Command::Cancel { job_id },
        BulkAction::Delete => Command::Delete { job_id },
        BulkAction::Move { queue } => Command::Move {
            job_id,
            queue: queue.clone(),
        },
        BulkAction::SetPriority(priority) => Command::SetPriority {
            job_id,
            priority: *priority,
        },
        BulkAction::Destroy => Command::Destroy { job_id },
    }
}

fn view_query(filter: &JobFilter, after: Option<u64>, limit: usize) -> corvo_view::JobQuery {
    corvo_view::JobQuery {
        queue: filter.queue.clone(),
        states: filter.states.clone(),
        priority: filter.priority,
        tags: filter
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        payload_contains: filter.payload_contains.clone(),
        error_contains: filter.error_contains.clone(),
        created_from_ms: filter.created_from_ms,
        created_before_ms: filter.created_before_ms,
        limit,
        after: after.map(|seq| corvo_view::Cursor { seq }),
    }
}

/// Proposes `action` for every id (in chunks of one proposal each); the replies, in order.
async fn apply(
    engine: &Engine,
    action: &BulkAction,
    ids: &[String],
) -> Result<Vec<Result<Reply, corvo_core::JobError>>, ApiError> {
    let mut replies = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(engine.opts().batch_items_max) {
        let cmds = chunk.iter().map(|id| command(action, id.clone())).collect();
        replies.extend(engine.propose(cmds).await?);
    }
    Ok(replies)
}

/// Acts on each of `ids`: one result per id, in order, and how many succeeded. An id outside
/// the caller's scopes gets PERMISSION_DENIED and is not touched.
pub async fn act_on_ids(
    engine: &Engine,
    principal: &Principal,
    action: &BulkAction,
    ids: &[String],
) -> Result<(Vec<pb::ItemResult>, u64), ApiError> {
    let mut allowed = Vec::with_capacity(ids.len());
    let mut refused = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let checked = convert::job_id(id, &format!("job_ids[{i}]"))
            .and_then(|id| engine.check_job_scope(principal, &id).map(|()| id));
        match checked {
            Ok(id) => {
                allowed.push(id);
                refused.push(None);
            }
            Err(e) => refused.push(Some(e)),
        }
    }
    let mut replies = apply(engine, action, &allowed).await?.into_iter();
    let mut succeeded = 0;
    let results = ids
        .iter()
        .zip(refused)
        .map(|(id, refused)| {
            if let Some(e) = refused {
                return convert::item_err(id, &e);
            }
            match replies.next() {
                Some(Ok(reply)) => {
                    succeeded += 1;
                    convert::item_ok(id, reply_state(&reply))
                }
                Some(Err(e)) => convert::item_err(id, &e.into()),
                None => convert::item_err(id, &ApiError::Internal("no reply".into())),
            }
        })
        .collect();
    Ok((results, succeeded))
}

fn reply_state(reply: &Reply) -> Option<corvo_core::JobState> {
    match reply {
        Reply::Retried { state }
        | Reply::Cancelled { state }
        | Reply::Moved { state }
        | Reply::Reprioritized { state } => Some(*state),
        _ => None,
    }
}

/// One page of a filter: the jobs after `after` (at most `limit`), acted on. Returns (examined,
/// succeeded, the cursor of the next page).
async fn act_on_page(
    engine: &Engine,
    action: &BulkAction,
    filter: &JobFilter,
    after: Option<u64>,
    limit: usize,
) -> Result<(u64, u64, Option<u64>), ApiError> {
    let view = engine.view().clone();
    let applied = engine.raft().status().last_applied.unwrap_or(0);
    view.wait_for(applied, VIEW_WAIT_MAX).await?;
    let query = view_query(filter, after, limit);
    let page = tokio::task::spawn_blocking(move || view.search(&query))
        .await
        .map_err(|e| ApiError::Internal(format!("search task: {e}")))??;
    let replies = apply(engine, action, &page.ids).await?;
    let succeeded = replies.iter().filter(|r| r.is_ok()).count() as u64;
    Ok((page.ids.len() as u64, succeeded, page.next.map(|c| c.seq)))
}

/// What a bulk action by filter did within the call.
pub struct FilterOutcome {
    pub examined: u64,
    pub succeeded: u64,
    /// Set when it goes on as an operation.
    pub operation_id: Option<String>,
}

/// Acts on the jobs `filter` selects: the first [`SYNC_JOBS_MAX`] in the call, the rest as an
/// operation.
pub async fn act_on_filter(
    engine: &Engine,
    action: BulkAction,
    filter: JobFilter,
) -> Result<FilterOutcome, ApiError> {
    let (examined, succeeded, next) =
        act_on_page(engine, &action, &filter, None, SYNC_JOBS_MAX).await?;
    let Some(cursor) = next else {
        return Ok(FilterOutcome {
            examined,
            succeeded,
            operation_id: None,
        });
    };
    let id = start(
        engine,
        Operation {
            examined,
            succeeded,
            cursor: Some(cursor),
            ..new_operation(engine, action, filter, None)
        },
    )
    .await?;
    Ok(FilterOutcome {
        examined,
        succeeded,
        operation_id: Some(id),
    })
}

/// A new operation, from its first job on.
pub fn new_operation(
    engine: &Engine,
    action: BulkAction,
    filter: JobFilter,
    forget_queue: Option<String>,
) -> Operation {
    Operation {
        id: format!("op_{}", engine.new_job_id()),
        action,
        filter,
        forget_queue,
        state: OperationState::Running,
        examined: 0,
        succeeded: 0,
        cursor: None,
        created_at_ms: 0,
        updated_at_ms: 0,
        error: None,
    }
}

/// Records a new operation and wakes the runner, which does the rest of it.
pub async fn start(engine: &Engine, op: Operation) -> Result<String, ApiError> {
    let id = match engine.propose_one(Command::StartOperation(op)).await? {
        Reply::Operation(op) => op.id,
        other => return Err(ApiError::unexpected("start operation", &other)),
    };
    engine.operations_changed().notify_one();
    Ok(id)
}

async fn record(engine: &Engine, progress: OperationProgress) -> Result<Operation, ApiError> {
    match engine
        .propose_one(Command::AdvanceOperation(progress))
        .await?
    {
        Reply::Operation(op) => Ok(op),
        other => Err(ApiError::unexpected("advance operation", &other)),
    }
}

/// Carries running operations out, batch by batch, while this node leads; until `stop`.
pub async fn run_operations(engine: Engine, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = engine.operations_changed().notified() => {}
            _ = tokio::time::sleep(RUNNER_POLL) => {}
            _ = stop.changed() => return,
        }
        while !*stop.borrow() && leads(&engine) && !engine.is_draining() {
            let running: Vec<Operation> = match engine.read() {
                Ok(r) => match query::operations(&r) {
                    Ok(ops) => ops
                        .into_iter()
                        .filter(|o| o.state == OperationState::Running)
                        .collect(),
                    Err(e) => {
                        tracing::error!(error = %e, "reading the operations");
                        break;
                    }
                },
                Err(_) => break,
            };
            if running.is_empty() {
                break;
            }
            for op in running {
                if let Err(e) = run_batch(&engine, &op).await {
                    tracing::warn!(operation = %op.id, error = %e, "an operation's batch failed; retrying");
                    tokio::time::sleep(RUNNER_POLL).await;
                }
            }
        }
    }
}

fn leads(engine: &Engine) -> bool {
    let s = engine.raft().status();
    s.leader_id == Some(s.node_id)
}

/// One batch of `op`, then its progress recorded. An error the filter itself causes ends the
/// operation as failed; a transient one (no leader, the view behind) is retried.
async fn run_batch(engine: &Engine, op: &Operation) -> Result<(), ApiError> {
    let progress = match act_on_page(engine, &op.action, &op.filter, op.cursor, BATCH_JOBS).await {
        Ok((examined, succeeded, next)) => OperationProgress {
            id: op.id.clone(),
            examined: op.examined + examined,
            succeeded: op.succeeded + succeeded,
            cursor: next.or(op.cursor),
            finished: next.is_none(),
            error: None,
        },
        Err(e @ ApiError::InvalidArgument { .. }) => OperationProgress {
            id: op.id.clone(),
            examined: op.examined,
            succeeded: op.succeeded,
            cursor: op.cursor,
            finished: true,
            error: Some(e.to_string()),
        },
        Err(e) => return Err(e),
    };
    let finished = progress.finished;
    let op = record(engine, progress).await?;
    if finished {
        tracing::info!(operation = %op.id, action = op.action.as_str(), examined = op.examined, succeeded = op.succeeded, "operation finished");
    }
    Ok(())
}
