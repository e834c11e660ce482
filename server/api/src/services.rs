//! The unary RPCs of `corvo.v1.WorkerService` and `corvo.v1.JobService`.

use std::pin::Pin;

use corvo_core::{Command, Heartbeat, HeartbeatReply, JobError, Lease, Reply, StopReason, query};
use corvo_sdk::proto as pb;
use corvo_sdk::proto::job_service_server::JobService;
use corvo_sdk::proto::worker_service_server::WorkerService;
use futures::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::convert;
use crate::engine::{Engine, deadline_in};
use crate::error::ApiError;
use crate::keyring::Credential;
use crate::principal::Principal;
use crate::rate_limit::RateBudget;

/// The most bytes of jobs one ListJobs page carries (8 MiB, and at most half the message
/// bound): a page of large payloads ends early, with a token for the rest.
const LIST_PAGE_BYTES_MAX: usize = 8 << 20;

/// How long a `consistent` ListJobs waits for the read view to catch up.
const LIST_CONSISTENT_WAIT_MAX: std::time::Duration = std::time::Duration::from_secs(10);

/// The build version reported by GetServerInfo.
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const API_VERSION: &str = "v1";

/// Implements both services over one [`Engine`].
#[derive(Clone)]
pub struct Services {
    engine: Engine,
}

impl Services {
    pub fn new(engine: Engine) -> Self {
        Services { engine }
    }

    /// Leases for a Fetch (as a batch of one) or a FetchBatch of `count`.
    async fn fetch_jobs(
        &self,
        principal: &Principal,
        r: &pb::FetchBatchRequest,
        count: u32,
    ) -> Result<Vec<corvo_core::model::Job>, ApiError> {
        let (queues, worker_id, hostname, lease_duration, max_wait_ms) = (
            &r.queues,
            &r.worker_id,
            &r.hostname,
            r.lease_duration,
            r.max_wait_ms,
        );
        let opts = self.engine.opts();
        let queues = convert::queues(queues, "queues")?;
        principal.check_queues(&queues)?;
        let lease = Lease {
            queues,
            count,
            worker_id: convert::worker_text(worker_id, "worker_id")?,
            hostname: convert::worker_text(hostname, "hostname")?,
            lease_ms: convert::lease_ms(opts, lease_duration, "lease_duration")?,
        };
        let wait = convert::wait_ms(opts, max_wait_ms, "max_wait_ms")?;
        self.engine
            .lease_when_ready(&lease, deadline_in(wait))
            .await
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl WorkerService for Services {
    async fn enqueue(
        &self,
        req: Request<pb::EnqueueRequest>,
    ) -> Result<Response<pb::EnqueueResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let cmd = convert::enqueue(
            self.engine.opts(),
            self.engine.new_job_id(),
            "",
            &r.queue,
            &r.payload_json,
            r.options.as_ref(),
        )?;
        if let Some(e) = cmd.enqueue() {
            principal.check_queue(&e.queue)?;
        }
        match self.engine.propose_one(cmd).await? {
            Reply::Enqueued {
                job_id,
                state,
                duplicate,
            } => Ok(Response::new(pb::EnqueueResponse {
                job_id,
                status: if duplicate {
                    "duplicate".into()
                } else {
                    state.as_str().into()
                },
                unique_existing: duplicate,
                state: convert::state_to_proto(state).into(),
                replayed: false,
            })),
            Reply::Replayed { job_id, state } => Ok(Response::new(pb::EnqueueResponse {
                job_id,
                status: "duplicate".into(),
                unique_existing: false,
                state: state.map_or(pb::JobState::Unspecified, convert::state_to_proto) as i32,
                replayed: true,
            })),
            other => Err(ApiError::unexpected("enqueue", &other).into()),
        }
    }

    async fn fetch(
        &self,
        req: Request<pb::FetchRequest>,
    ) -> Result<Response<pb::FetchResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let jobs = self
            .fetch_jobs(
                &principal,
                &pb::FetchBatchRequest {
                    queues: r.queues,
                    worker_id: r.worker_id,
                    hostname: r.hostname,
                    lease_duration: r.lease_duration,
                    count: 1,
                    max_wait_ms: r.max_wait_ms,
                },
                1,
            )
            .await?;
        Ok(Response::new(convert::fetch_response(jobs.first())))
    }

    async fn fetch_batch(
        &self,
        req: Request<pb::FetchBatchRequest>,
    ) -> Result<Response<pb::FetchBatchResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let count = convert::fetch_count(self.engine.opts(), r.count, "count")?;
        let jobs = self.fetch_jobs(&principal, &r, count).await?;
        Ok(Response::new(pb::FetchBatchResponse {
            jobs: jobs.iter().map(convert::leased_job).collect(),
        }))
    }

    async fn ack(&self, req: Request<pb::AckRequest>) -> Result<Response<pb::AckResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let cmd = convert::ack(
            self.engine.opts(),
            &r.job_id,
            &r.result_json,
            r.lease_token,
            "",
        )?;
        self.engine.check_job_scope(&principal, &cmd.job_id)?;
        match self.engine.propose_one(Command::Ack(cmd)).await? {
            Reply::Acked { state, .. } => Ok(Response::new(pb::AckResponse {
                state: convert::state_to_proto(state).into(),
            })),
            other => Err(ApiError::unexpected("ack", &other).into()),
        }
    }

    async fn ack_batch(
        &self,
        req: Request<pb::AckBatchRequest>,
    ) -> Result<Response<pb::AckBatchResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let opts = self.engine.opts();
        if r.items.is_empty() {
            return Err(ApiError::invalid("items", "must not be empty").into());
        }
        if r.items.len() > opts.batch_items_max {
            return Err(ApiError::invalid(
                "items",
                format!(
                    "has {} entries, at most {}",
                    r.items.len(),
                    opts.batch_items_max
                ),
            )
            .into());
        }
        // One bad item never fails the rest: an invalid item (or one outside the caller's
        // queue scopes) gets its own result and is not proposed; the valid ones are.
        let mut cmds = Vec::with_capacity(r.items.len());
        let mut invalid = Vec::with_capacity(r.items.len());
        for (i, it) in r.items.iter().enumerate() {
            let checked = convert::ack(
                opts,
                &it.job_id,
                &it.result_json,
                it.lease_token,
                format_args!("items[{i}]."),
            )
            .and_then(|cmd| {
                self.engine.check_job_scope(&principal, &cmd.job_id)?;
                Ok(cmd)
            });
            match checked {
                Ok(cmd) => {
                    cmds.push(Command::Ack(cmd));
                    invalid.push(None);
                }
                Err(e) => invalid.push(Some(e)),
            }
        }
        let mut replies = self.engine.propose(cmds).await?.into_iter();
        let mut acked = 0;
        let results = r
            .items
            .iter()
            .zip(invalid)
            .map(|(it, invalid)| {
                if let Some(e) = invalid {
                    return convert::item_err(&it.job_id, &e);
                }
                match replies.next() {
                    Some(Ok(Reply::Acked { state, .. })) => {
                        acked += 1;
                        convert::item_ok(&it.job_id, Some(state))
                    }
                    Some(Ok(other)) => {
                        convert::item_err(&it.job_id, &ApiError::unexpected("item", &other))
                    }
                    Some(Err(e)) => convert::item_err(&it.job_id, &e.into()),
                    None => convert::item_err(
                        &it.job_id,
                        &ApiError::Internal("no reply for the item".into()),
                    ),
                }
            })
            .collect();
        Ok(Response::new(pb::AckBatchResponse { acked, results }))
    }

    type StreamLifecycleStream = BoxStream<pb::StreamLifecycleResponse>;

    async fn stream_lifecycle(
        &self,
        req: Request<Streaming<pb::StreamLifecycleRequest>>,
    ) -> Result<Response<Self::StreamLifecycleStream>, Status> {
        let principal = Principal::of(&req)?;
        let budget = req.extensions().get::<RateBudget>().cloned();
        let credential = req.extensions().get::<Credential>().cloned();
        let stream = crate::stream::Session::start(
            self.engine.clone(),
            crate::stream::Caller {
                principal,
                budget,
                credential,
            },
            req.into_inner(),
        )?;
        Ok(Response::new(Box::pin(stream)))
    }

    async fn fail(
        &self,
        req: Request<pb::FailRequest>,
    ) -> Result<Response<pb::FailResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let cmd = convert::fail(
            self.engine.opts(),
            &r.job_id,
            &r.error,
            &r.backtrace,
            r.lease_token,
            "",
        )?;
        self.engine.check_job_scope(&principal, &cmd.job_id)?;
        match self.engine.propose_one(Command::Fail(cmd)).await? {
            Reply::Failed {
                state,
                next_attempt_at_ms,
                attempts_remaining,
                ..
            } => Ok(Response::new(pb::FailResponse {
                status: state.as_str().into(),
                next_attempt_at: next_attempt_at_ms.map(convert::ms_to_timestamp),
                attempts_remaining: i32::try_from(attempts_remaining).unwrap_or(i32::MAX),
            })),
            other => Err(ApiError::unexpected("fail", &other).into()),
        }
    }

    async fn heartbeat(
        &self,
        req: Request<pb::HeartbeatRequest>,
    ) -> Result<Response<pb::HeartbeatResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let opts = self.engine.opts();
        if r.jobs.len() > opts.batch_items_max {
            return Err(ApiError::invalid(
                "jobs",
                format!(
                    "has {} entries, at most {}",
                    r.jobs.len(),
                    opts.batch_items_max
                ),
            )
            .into());
        }
        let mut ids: Vec<&String> = r.jobs.keys().collect();
        ids.sort();
        let items = ids
            .iter()
            .map(|id| {
                let u = &r.jobs[*id];
                convert::heartbeat_item(
                    opts,
                    id,
                    &u.progress_json,
                    &u.checkpoint_json,
                    u.lease_token,
                    format_args!("jobs[{id}]."),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        for item in &items {
            self.engine.check_job_scope(&principal, &item.job_id)?;
        }
        if items.is_empty() {
            return Ok(Response::new(pb::HeartbeatResponse::default()));
        }
        let replies = match self
            .engine
            .propose_one(Command::Heartbeat(Heartbeat { items }))
            .await?
        {
            Reply::Heartbeat(replies) => replies,
            other => {
                return Err(ApiError::unexpected("heartbeat", &other).into());
            }
        };
        // Every job's token stale: the whole call was refused and changed nothing.
        if replies
            .iter()
            .all(|r| *r == HeartbeatReply::Stop(StopReason::StaleLease))
        {
            let job_id = ids
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ApiError::from(JobError::StaleLease { job_id }).into());
        }
        let jobs = ids
            .into_iter()
            .zip(replies)
            .map(|(id, reply)| (id.clone(), heartbeat_answer(&reply)))
            .collect();
        Ok(Response::new(pb::HeartbeatResponse { jobs }))
    }

    type SubscribeStream = BoxStream<pb::SubscribeResponse>;

    async fn subscribe(
        &self,
        req: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let principal = Principal::of(&req)?;
        let credential = req.extensions().get::<Credential>().cloned();
        let stream =
            crate::subscribe::stream(self.engine.clone(), principal, credential, req.into_inner())?;
        Ok(Response::new(Box::pin(stream)))
    }

    async fn get_server_info(
        &self,
        _req: Request<pb::GetServerInfoRequest>,
    ) -> Result<Response<pb::GetServerInfoResponse>, Status> {
        Ok(Response::new(pb::GetServerInfoResponse {
            server_version: SERVER_VERSION.into(),
            api_version: API_VERSION.into(),
        }))
    }
}

pub fn heartbeat_answer(reply: &HeartbeatReply) -> pb::HeartbeatJobResponse {
    match reply {
        HeartbeatReply::Extended { deadline_ms } => pb::HeartbeatJobResponse {
            status: "ok".into(),
            reason: String::new(),
            lease_deadline_ms: *deadline_ms as i64,
        },
        HeartbeatReply::Stop(reason) => pb::HeartbeatJobResponse {
            status: "cancel".into(),
            reason: reason.as_str().into(),
            lease_deadline_ms: 0,
        },
    }
}

#[tonic::async_trait]
impl JobService for Services {
    async fn get_job(
        &self,
        req: Request<pb::GetJobRequest>,
    ) -> Result<Response<pb::GetJobResponse>, Status> {
        let principal = Principal::of(&req)?;
        let id = convert::job_id(&req.get_ref().job_id, "job_id")?;
        self.engine.linearize().await?;
        let job = query::job(&self.engine.read()?, &id).map_err(ApiError::from)?;
        if let Some(job) = &job {
            principal.check_queue(&job.queue)?;
        }
        match job {
            Some(job) => Ok(Response::new(pb::GetJobResponse {
                job: Some(convert::job_to_proto(&job)),
            })),
            None => Err(ApiError::NotFound { job_id: id }.into()),
        }
    }

    async fn cancel_job(
        &self,
        req: Request<pb::CancelJobRequest>,
    ) -> Result<Response<pb::CancelJobResponse>, Status> {
        let job_id = convert::job_id(&req.get_ref().job_id, "job_id")?;
        self.engine
            .check_job_scope(&Principal::of(&req)?, &job_id)?;
        match self.engine.propose_one(Command::Cancel { job_id }).await? {
            Reply::Cancelled { state } => Ok(Response::new(pb::CancelJobResponse {
                state: convert::state_to_proto(state).into(),
            })),
            other => Err(ApiError::unexpected("cancel", &other).into()),
        }
    }

    async fn retry_job(
        &self,
        req: Request<pb::RetryJobRequest>,
    ) -> Result<Response<pb::RetryJobResponse>, Status> {
        let job_id = convert::job_id(&req.get_ref().job_id, "job_id")?;
        self.engine
            .check_job_scope(&Principal::of(&req)?, &job_id)?;
        match self.engine.propose_one(Command::Retry { job_id }).await? {
            Reply::Retried { state } => Ok(Response::new(pb::RetryJobResponse {
                state: convert::state_to_proto(state).into(),
            })),
            other => Err(ApiError::unexpected("retry", &other).into()),
        }
    }

    async fn delete_job(
        &self,
        req: Request<pb::DeleteJobRequest>,
    ) -> Result<Response<pb::DeleteJobResponse>, Status> {
        let job_id = convert::job_id(&req.get_ref().job_id, "job_id")?;
        self.engine
            .check_job_scope(&Principal::of(&req)?, &job_id)?;
        match self.engine.propose_one(Command::Delete { job_id }).await? {
            Reply::Deleted => Ok(Response::new(pb::DeleteJobResponse {})),
            other => Err(ApiError::unexpected("delete", &other).into()),
        }
    }

    async fn list_jobs(
        &self,
        req: Request<pb::ListJobsRequest>,
    ) -> Result<Response<pb::ListJobsResponse>, Status> {
        let principal = Principal::of(&req)?;
        let req = req.into_inner();
        let query = convert::list_query(&req)?;
        if principal.is_scoped() {
            // A scoped caller lists one queue of its scopes at a time.
            match &query.queue {
                Some(queue) => principal.check_queue(queue)?,
                None => {
                    return Err(ApiError::PermissionDenied {
                        reason: format!(
                            "{principal} may list only queues in its scopes ({}): set `queue`",
                            principal.scopes
                        ),
                    }
                    .into());
                }
            }
        }
        let view = self.engine.view().clone();
        if req.consistent {
            // Every write acknowledged to anyone before the call is in the view once it
            // reaches the index this leader confirmed.
            let applied = self.engine.linearize().await?;
            view.wait_for(applied, LIST_CONSISTENT_WAIT_MAX)
                .await
                .map_err(ApiError::from)?;
        }
        let view_index = view.applied_index();
        let view_stale_reason = view.failure().unwrap_or_default();
        let page = tokio::task::spawn_blocking(move || view.search(&query))
            .await
            .map_err(|e| ApiError::Internal(format!("search task: {e}")))?
            .map_err(ApiError::from)?;
        // The view finds the ids; the records come from the state, as they are now.
        let reader = self.engine.read()?;
        let mut jobs = Vec::with_capacity(page.ids.len());
        let mut next = page.next;
        let bytes_max = LIST_PAGE_BYTES_MAX.min(self.engine.opts().message_bytes_max / 2);
        let mut bytes = 0;
        for (i, id) in page.ids.iter().enumerate() {
            if let Some(job) = query::job(&reader, id).map_err(ApiError::from)? {
                let job = convert::job_to_proto(&job);
                bytes += prost::Message::encoded_len(&job);
                if !jobs.is_empty() && bytes > bytes_max {
                    // The page ends here; the next one starts after the last job listed.
                    next = Some(page.rows[i - 1]);
                    break;
                }
                jobs.push(job);
            }
        }
        Ok(Response::new(pb::ListJobsResponse {
            jobs,
            next_page_token: next.map(|c| c.token()).unwrap_or_default(),
            view_index,
            view_stale_reason,
        }))
    }

    async fn bulk_jobs(
        &self,
        req: Request<pb::BulkJobsRequest>,
    ) -> Result<Response<pb::BulkJobsResponse>, Status> {
        let principal = Principal::of(&req)?;
        let r = req.into_inner();
        let action = convert::bulk_action(&r)?;
        if let corvo_core::queues::BulkAction::Move { queue } = &action {
            principal.check_queue(queue)?;
        }
        if !r.job_ids.is_empty() {
            if r.filter.is_some() || r.all_jobs {
                return Err(
                    ApiError::invalid("job_ids", "name jobs by id or by filter, not both").into(),
                );
            }
            if r.job_ids.len() > crate::bulk::IDS_MAX {
                return Err(ApiError::invalid(
                    "job_ids",
                    format!("{} ids, at most {}", r.job_ids.len(), crate::bulk::IDS_MAX),
                )
                .into());
            }
            let (results, succeeded) =
                crate::bulk::act_on_ids(&self.engine, &principal, &action, &r.job_ids).await?;
            return Ok(Response::new(pb::BulkJobsResponse {
                examined: r.job_ids.len() as u64,
                succeeded,
                results,
                operation_id: String::new(),
            }));
        }
        let filter = match &r.filter {
            Some(f) => convert::job_filter(f)?,
            None => corvo_core::queues::JobFilter::default(),
        };
        if filter.is_empty() && !r.all_jobs {
            return Err(ApiError::invalid(
                "filter",
                "name jobs by id or by filter (an empty filter selects every job: set all_jobs to mean it)",
            )
            .into());
        }
        if principal.is_scoped() {
            match &filter.queue {
                Some(q) => principal.check_queue(q)?,
                None => {
                    return Err(ApiError::PermissionDenied {
                        reason: format!(
                            "{principal} may act only on queues in its scopes ({}): set filter.queue",
                            principal.scopes
                        ),
                    }
                    .into());
                }
            }
        }
        let done = crate::bulk::act_on_filter(&self.engine, action, filter).await?;
        Ok(Response::new(pb::BulkJobsResponse {
            examined: done.examined,
            succeeded: done.succeeded,
            results: Vec::new(),
            operation_id: done.operation_id.unwrap_or_default(),
        }))
    }

    async fn get_operation(
        &self,
        req: Request<pb::GetOperationRequest>,
    ) -> Result<Response<pb::GetOperationResponse>, Status> {
        let id = &req.get_ref().operation_id;
        if id.is_empty() {
            return Err(ApiError::invalid("operation_id", "must not be empty").into());
        }
        self.engine.linearize().await?;
        match query::operation(&self.engine.read()?, id).map_err(ApiError::from)? {
            Some(op) => Ok(Response::new(pb::GetOperationResponse {
                operation: Some(convert::operation_to_proto(&op)),
            })),
            None => Err(ApiError::Missing {
                what: format!("operation {id}"),
            }
            .into()),
        }
    }

    async fn list_operations(
        &self,
        _req: Request<pb::ListOperationsRequest>,
    ) -> Result<Response<pb::ListOperationsResponse>, Status> {
        let ops = query::operations(&self.engine.read()?).map_err(ApiError::from)?;
        Ok(Response::new(pb::ListOperationsResponse {
            operations: ops.iter().rev().map(convert::operation_to_proto).collect(),
        }))
    }
}
