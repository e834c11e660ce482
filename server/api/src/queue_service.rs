//! `corvo.v1.QueueService`: queues for operators. Settings are proposed as `ConfigureQueue`
//! (replicated; the state machine enforces them where jobs are leased); clear and destroy are
//! bulk operations (`bulk.rs`); counts come from the replicated `Counts` table, rates from
//! this node's [`crate::activity::ActivityLog`].

use std::time::Duration;

use corvo_core::model::JobState;
use corvo_core::queues::{
    BulkAction, DEAD_RETENTION_MS_DEFAULT, JobFilter, QueueChange, QueueConfig,
    RETENTION_MS_DEFAULT, RateLimit,
};
use corvo_core::{Command, Reply, StateRead, keys, query};
use corvo_sdk::proto as pb;
use corvo_sdk::proto::queue_service_server::QueueService;
use corvo_store::StateReader;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::engine::{Engine, wall_clock_ms};
use crate::error::ApiError;
use crate::principal::Principal;

/// Queues one ListQueues answers with (10 000): a bounded answer however many queues exist.
pub const QUEUES_LISTED_MAX: usize = 10_000;
/// The longest DrainQueue wait (10 min).
pub const DRAIN_WAIT_MAX: Duration = Duration::from_secs(600);
/// A rate window when the request gives none (1 s).
pub const RATE_WINDOW_MS_DEFAULT: u64 = 1_000;

#[derive(Clone)]
pub struct Queues {
    engine: Engine,
}

impl Queues {
    pub fn new(engine: Engine) -> Self {
        Queues { engine }
    }

    async fn configure(&self, queue: &str, change: QueueChange) -> Result<pb::Queue, ApiError> {
        match self
            .engine
            .propose_one(Command::ConfigureQueue {
                queue: queue.to_owned(),
                change,
            })
            .await?
        {
            Reply::Queue { .. } => self.describe(queue),
            other => Err(ApiError::unexpected("configure queue", &other)),
        }
    }

    /// NOT_FOUND unless the queue has jobs or settings: acting on a mistyped name must not
    /// quietly create a paused queue nobody uses.
    fn require(&self, queue: &str) -> Result<(), ApiError> {
        if exists(&self.engine.read()?, queue)? {
            return Ok(());
        }
        Err(ApiError::Missing {
            what: format!("queue {queue}"),
        })
    }

    /// The queue as `GetQueue` shows it (whether or not it exists).
    fn describe(&self, queue: &str) -> Result<pb::Queue, ApiError> {
        let reader = self.engine.read()?;
        let config = query::queue_config(&reader, queue)?.unwrap_or_default();
        describe(
            &self.engine,
            &reader,
            queue,
            &config,
            &retention_defaults(&reader)?,
        )
    }
}

/// The cluster's retention defaults: (completed and cancelled, dead), ms.
fn retention_defaults(reader: &StateReader) -> Result<(u64, u64), ApiError> {
    let read = |name: &[u8], default: u64| -> Result<u64, ApiError> {
        Ok(match reader.get(keys::Table::Meta, name)? {
            Some(b) => match keys::decode_u64(keys::Table::Meta, name, &b)? {
                0 => default,
                v => v,
            },
            None => default,
        })
    };
    Ok((
        read(keys::meta::RETENTION_MS, RETENTION_MS_DEFAULT)?,
        read(keys::meta::DEAD_RETENTION_MS, DEAD_RETENTION_MS_DEFAULT)?,
    ))
}

fn describe(
    engine: &Engine,
    reader: &StateReader,
    queue: &str,
    config: &QueueConfig,
    (retention, dead_retention): &(u64, u64),
) -> Result<pb::Queue, ApiError> {
    let mut counts = Vec::with_capacity(JobState::ALL.len());
    for state in JobState::ALL {
        let key = keys::counts_key(queue, state);
        let count = match reader.get(keys::Table::Counts, &key)? {
            Some(b) => keys::decode_u64(keys::Table::Counts, &key, &b)?,
            None => 0,
        };
        counts.push(pb::QueueJobCount {
            state: convert::state_to_proto(state).into(),
            count,
        });
    }
    let now = wall_clock_ms();
    let oldest = query::oldest_pending_ms(reader, queue)?;
    let activity = engine.signals().activity().last_minute(queue, now);
    Ok(pb::Queue {
        name: queue.to_owned(),
        counts,
        oldest_pending_age_ms: oldest.map_or(0, |at| now.saturating_sub(at)),
        enqueued_last_minute: activity.enqueued,
        completed_last_minute: activity.completed,
        failed_last_minute: activity.failed,
        throttled_last_minute: activity.throttled,
        paused: config.paused,
        concurrency_limit: config.concurrency_max.unwrap_or(0),
        rate_starts: config.rate.map_or(0, |r| r.starts),
        rate_window_ms: config.rate.map_or(0, |r| r.window_ms),
        retention_ms: config.retention_ms.unwrap_or(0),
        dead_retention_ms: config.dead_retention_ms.unwrap_or(0),
        effective_retention_ms: config.retention_ms.unwrap_or(*retention),
        effective_dead_retention_ms: config.dead_retention_ms.unwrap_or(*dead_retention),
    })
}

fn queue_name(queue: &str) -> Result<String, ApiError> {
    corvo_core::validate::queue_name("queue", queue)?;
    Ok(queue.to_owned())
}

/// Whether the queue has jobs or settings.
fn exists(reader: &StateReader, queue: &str) -> Result<bool, ApiError> {
    if query::queue_config(reader, queue)?.is_some() {
        return Ok(true);
    }
    let prefix = keys::queue_prefix(queue);
    Ok(reader
        .first(keys::Table::Counts, &prefix, &keys::prefix_end(&prefix))?
        .is_some())
}

fn ms(v: u64) -> Option<u64> {
    (v > 0).then_some(v)
}

#[tonic::async_trait]
impl QueueService for Queues {
    async fn list_queues(
        &self,
        req: Request<pb::ListQueuesRequest>,
    ) -> Result<Response<pb::ListQueuesResponse>, Status> {
        let principal = Principal::of(&req)?;
        self.engine.linearize().await?;
        let reader = self.engine.read()?;
        let configs = query::queue_configs(&reader).map_err(ApiError::from)?;
        let mut names: Vec<String> = query::queue_counts(&reader)
            .map_err(ApiError::from)?
            .into_iter()
            .map(|(q, _, _)| q)
            .chain(configs.iter().map(|(q, _)| q.clone()))
            .filter(|q| principal.scopes.allows(q))
            .collect();
        names.sort();
        names.dedup();
        names.truncate(QUEUES_LISTED_MAX);
        let defaults = retention_defaults(&reader)?;
        let queues = names
            .iter()
            .map(|q| {
                let config = configs
                    .iter()
                    .find(|(name, _)| name == q)
                    .map(|(_, c)| c.clone())
                    .unwrap_or_default();
                describe(&self.engine, &reader, q, &config, &defaults)
            })
            .collect::<Result<_, _>>()?;
        Ok(Response::new(pb::ListQueuesResponse { queues }))
    }

    async fn get_queue(
        &self,
        req: Request<pb::GetQueueRequest>,
    ) -> Result<Response<pb::GetQueueResponse>, Status> {
        let principal = Principal::of(&req)?;
        let queue = queue_name(&req.get_ref().queue)?;
        principal.check_queue(&queue)?;
        self.engine.linearize().await?;
        self.require(&queue)?;
        Ok(Response::new(pb::GetQueueResponse {
            queue: Some(self.describe(&queue)?),
        }))
    }

    async fn pause_queue(
        &self,
        req: Request<pb::PauseQueueRequest>,
    ) -> Result<Response<pb::PauseQueueResponse>, Status> {
        let principal = Principal::of(&req)?;
        let queue = queue_name(&req.get_ref().queue)?;
        principal.check_queue(&queue)?;
        self.require(&queue)?;
        let queue = self.configure(&queue, QueueChange::Pause).await?;
        Ok(Response::new(pb::PauseQueueResponse { queue: Some(queue) }))
    }

    async fn resume_queue(
        &self,
        req: Request<pb::ResumeQueueRequest>,
    ) -> Result<Response<pb::ResumeQueueResponse>, Status> {
        let principal = Principal::of(&req)?;
        let queue = queue_name(&req.get_ref().queue)?;
        principal.check_queue(&queue)?;
        self.require(&queue)?;
        let queue = self.configure(&queue, QueueChange::Resume).await?;
        Ok(Response::new(pb::ResumeQueueResponse {
            queue: Some(queue),
        }))
    }

    async fn drain_queue(
        &self,
        req: Request<pb::DrainQueueRequest>,
    ) -> Result<Response<pb::DrainQueueResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let queue = queue_name(&r.queue)?;
        principal.check_queue(&queue)?;
        let wait = Duration::from_millis(u64::from(r.wait_ms));
        if wait > DRAIN_WAIT_MAX {
            return Err(ApiError::invalid(
                "wait_ms",
                format!(
                    "{} ms is more than {} ms",
                    r.wait_ms,
                    DRAIN_WAIT_MAX.as_millis()
                ),
            )
            .into());
        }
        self.require(&queue)?;
        self.configure(&queue, QueueChange::Pause).await?;
        let deadline = tokio::time::Instant::now() + wait;
        let mut applied = self.engine.signals().applied();
        let active = loop {
            let key = keys::counts_key(&queue, JobState::Active);
            let stored = self
                .engine
                .read()?
                .get(keys::Table::Counts, &key)
                .map_err(ApiError::from)?;
            let active = match stored {
                Some(b) => {
                    keys::decode_u64(keys::Table::Counts, &key, &b).map_err(ApiError::from)?
                }
                None => 0,
            };
            if active == 0 {
                break 0;
            }
            tokio::select! {
                changed = applied.changed() => if changed.is_err() { break active },
                _ = tokio::time::sleep_until(deadline) => break active,
            }
        };
        Ok(Response::new(pb::DrainQueueResponse {
            queue: Some(self.describe(&queue)?),
            drained: active == 0,
            active,
        }))
    }

    async fn clear_queue(
        &self,
        req: Request<pb::ClearQueueRequest>,
    ) -> Result<Response<pb::ClearQueueResponse>, Status> {
        let principal = Principal::of(&req)?;
        let queue = queue_name(&req.get_ref().queue)?;
        principal.check_queue(&queue)?;
        self.require(&queue)?;
        let filter = JobFilter {
            queue: Some(queue),
            states: vec![JobState::Pending, JobState::Scheduled, JobState::Retrying],
            ..JobFilter::default()
        };
        let done = crate::bulk::act_on_filter(&self.engine, BulkAction::Delete, filter).await?;
        Ok(Response::new(pb::ClearQueueResponse {
            removed: done.succeeded,
            operation_id: done.operation_id.unwrap_or_default(),
        }))
    }

    async fn destroy_queue(
        &self,
        req: Request<pb::DestroyQueueRequest>,
    ) -> Result<Response<pb::DestroyQueueResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let queue = queue_name(&r.queue)?;
        principal.check_queue(&queue)?;
        if r.confirm != queue {
            return Err(ApiError::invalid(
                "confirm",
                format!("must repeat the queue's name ({queue:?}) to destroy it"),
            )
            .into());
        }
        self.require(&queue)?;
        // Nothing of it starts any more while its jobs go.
        self.configure(&queue, QueueChange::Pause).await?;
        let filter = JobFilter {
            queue: Some(queue.clone()),
            ..JobFilter::default()
        };
        let op = crate::bulk::new_operation(&self.engine, BulkAction::Destroy, filter, Some(queue));
        let id = crate::bulk::start(&self.engine, op).await?;
        Ok(Response::new(pb::DestroyQueueResponse { operation_id: id }))
    }

    async fn set_queue_limits(
        &self,
        req: Request<pb::SetQueueLimitsRequest>,
    ) -> Result<Response<pb::SetQueueLimitsResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let queue = queue_name(&r.queue)?;
        principal.check_queue(&queue)?;
        let rate = (r.rate_starts > 0).then(|| RateLimit {
            starts: r.rate_starts,
            window_ms: ms(r.rate_window_ms).unwrap_or(RATE_WINDOW_MS_DEFAULT),
        });
        let change = QueueChange::Limits {
            concurrency_max: (r.concurrency > 0).then_some(r.concurrency),
            rate,
        };
        let queue = self.configure(&queue, change).await?;
        Ok(Response::new(pb::SetQueueLimitsResponse {
            queue: Some(queue),
        }))
    }

    async fn set_queue_retention(
        &self,
        req: Request<pb::SetQueueRetentionRequest>,
    ) -> Result<Response<pb::SetQueueRetentionResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let queue = queue_name(&r.queue)?;
        principal.check_queue(&queue)?;
        let change = QueueChange::Retention {
            retention_ms: ms(r.retention_ms),
            dead_retention_ms: ms(r.dead_retention_ms),
        };
        let queue = self.configure(&queue, change).await?;
        Ok(Response::new(pb::SetQueueRetentionResponse {
            queue: Some(queue),
        }))
    }

    async fn list_workers(
        &self,
        req: Request<pb::ListWorkersRequest>,
    ) -> Result<Response<pb::ListWorkersResponse>, Status> {
        let principal = Principal::of(&req)?;
        let only = &req.get_ref().queue;
        let workers = self
            .engine
            .roster()
            .list()
            .into_iter()
            .filter(|w| only.is_empty() || w.queues.iter().any(|q| q == only))
            .filter(|w| w.queues.iter().all(|q| principal.scopes.allows(q)))
            .map(|w| pb::WorkerStream {
                worker_id: w.worker_id,
                hostname: w.hostname,
                queues: w.queues,
                credits: w.credits,
                jobs_held: u32::try_from(w.jobs_held).unwrap_or(u32::MAX),
                connected_at: Some(convert::ms_to_timestamp(w.connected_at_ms)),
                last_frame_at: Some(convert::ms_to_timestamp(w.last_frame_ms)),
            })
            .collect();
        Ok(Response::new(pb::ListWorkersResponse { workers }))
    }
}
