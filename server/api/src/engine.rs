//! The services' handle on the node: propose commands, read state, wait for work.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corvo_core::{Command, JobError, Lease, Reply, model::Job, query};
use corvo_raft::{Proposer, RaftNode};
use corvo_store::{StateReader, StateStore};
use tokio::sync::watch;

use crate::dispatch::{Dispatcher, PushTarget, Reservation};
use crate::error::ApiError;
use crate::host;
use crate::metrics::Metrics;
use crate::options::ApiOptions;
use crate::principal::Principal;
use crate::roster::Roster;
use crate::signals::Signals;
use crate::status::{NodeInfo, NodeStatus, Readiness};

/// Room left in a response for what is not leased jobs: up to 1 024 item results and cancel
/// notices of a few hundred bytes each.
const RESPONSE_FIELDS_BYTES_MAX: usize = 512 << 10;
/// How long a linearizable read may take to confirm leadership (a heartbeat round to a
/// majority; 2 s is many rounds): longer, and the read is refused as possibly stale.
pub const LEADERSHIP_CONFIRM_WAIT: Duration = Duration::from_secs(2);

/// Whether a command may be sent again after an unknown outcome without doing its work twice:
/// an enqueue with an idempotency key, or a settle fenced by its lease token (once applied,
/// the same settle is refused as stale or finished).
fn retry_safe(cmd: &Command) -> bool {
    match cmd {
        Command::EnqueueKeyed(_) => true,
        Command::Ack(a) => a.lease_token.is_some(),
        Command::Fail(f) => f.lease_token.is_some(),
        Command::Heartbeat(h) => h.items.iter().all(|i| i.lease_token.is_some()),
        _ => false,
    }
}

/// Retry hint while a member cannot decode a command yet (it is being upgraded, or a
/// heartbeat will say so within a fraction of a second).
const COMMAND_SET_RETRY_MS: u64 = 1_000;

/// Hands the jobs piggybacked leases got to their streams, and gives back the credits they
/// did not use.
fn deliver(
    reservations: Vec<Reservation>,
    leases: Vec<Result<Reply, JobError>>,
    metrics: &Metrics,
) {
    let now = wall_clock_ms();
    Dispatcher::deliver(reservations, leases, |job| {
        metrics.observe_delivered(job, now)
    });
}

/// A proposal's piggybacked leases until their replies are handed over. Dropped before that
/// (the call was cancelled: its client gave up, or its stream closed), it leaves a task to
/// wait for the replies and deliver the jobs, since the entry commits all the same; without
/// a runtime to run it on, it gives the credits back (the jobs' leases then run out).
struct Delivery<'a> {
    reservations: Vec<Reservation>,
    /// The caller's own commands, ahead of the leases in the replies.
    own: usize,
    metrics: &'a Arc<Metrics>,
    replies: corvo_raft::proposer::Submitted,
}

impl Drop for Delivery<'_> {
    fn drop(&mut self) {
        if self.reservations.is_empty() {
            return;
        }
        let reservations = std::mem::take(&mut self.reservations);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            Dispatcher::cancel(reservations);
            return;
        };
        let replies = std::mem::replace(
            &mut self.replies,
            corvo_raft::proposer::Submitted::nothing(),
        );
        let (own, metrics) = (self.own, self.metrics.clone());
        runtime.spawn(async move {
            match replies.await {
                Ok(mut replies) => {
                    let leases = replies.split_off(own.min(replies.len()));
                    deliver(reservations, leases, &metrics);
                }
                Err(_) => Dispatcher::cancel(reservations),
            }
        });
    }
}

/// Cheap to clone; shared by every service and stream session.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    raft: Arc<RaftNode>,
    proposer: Proposer,
    store: Arc<StateStore>,
    signals: Signals,
    opts: ApiOptions,
    ids: Mutex<ulid::Generator>,
    draining: watch::Sender<bool>,
    node: NodeInfo,
    metrics: Arc<Metrics>,
    roster: Roster,
    readiness: watch::Sender<Readiness>,
    dispatcher: Dispatcher,
    /// The SQLite read view (list and search).
    view: Arc<corvo_view::View>,
    /// Wakes the bulk operation runner (an operation started).
    operations: tokio::sync::Notify,
    /// Whether the leader's client address takes connections (shared by every stream).
    leader_probe: crate::forward::LeaderProbe,
}

impl Engine {
    pub fn new(
        raft: Arc<RaftNode>,
        store: Arc<StateStore>,
        signals: Signals,
        opts: ApiOptions,
        node: NodeInfo,
        metrics: Arc<Metrics>,
        view: Arc<corvo_view::View>,
    ) -> Self {
        let proposer = raft.proposer();
        Engine {
            inner: Arc::new(Inner {
                raft,
                proposer,
                store,
                signals,
                opts,
                ids: Mutex::new(ulid::Generator::new()),
                draining: watch::channel(false).0,
                node,
                metrics,
                roster: Roster::default(),
                readiness: watch::channel(Readiness::starting()).0,
                dispatcher: Dispatcher::default(),
                view,
                operations: tokio::sync::Notify::new(),
                leader_probe: Default::default(),
            }),
        }
    }

    pub fn node(&self) -> &NodeInfo {
        &self.inner.node
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// Open worker streams and the workers behind them.
    pub fn roster(&self) -> &Roster {
        &self.inner.roster
    }

    /// The latest readiness verdict (published by the node's readiness task).
    pub fn readiness(&self) -> Readiness {
        self.inner.readiness.borrow().clone()
    }

    /// Publishes a new readiness verdict; `true` when it changed.
    pub fn set_readiness(&self, readiness: Readiness) -> bool {
        self.inner.readiness.send_if_modified(|r| {
            let changed = *r != readiness;
            *r = readiness;
            changed
        })
    }

    /// This node now: Raft, queue counts, disk, streams, readiness. Reads the replicated
    /// counts (no job scan) and measures the data directory off the async threads.
    pub async fn node_status(&self) -> Result<NodeStatus, ApiError> {
        let (queue_counts, queue_settings, retention_lag_ms, idempotency_keys) = {
            let reader = self.read()?;
            (
                query::queue_counts(&reader)?,
                query::queue_configs(&reader)?,
                query::retention_lag_ms(&reader, wall_clock_ms())?,
                query::idempotency_keys(&reader)?,
            )
        };
        let data_dir = self.inner.node.data_dir.clone();
        let disk = tokio::task::spawn_blocking(move || host::disk_usage(&data_dir))
            .await
            .map_err(|e| ApiError::Internal(format!("measuring the data dir: {e}")))?;
        let roster = &self.inner.roster;
        let last_snapshot = self
            .inner
            .raft
            .list_snapshots()
            .await
            .map_err(|e| ApiError::Internal(format!("listing snapshots: {e}")))?
            .into_iter()
            .next();
        Ok(NodeStatus {
            node: self.inner.node.name.clone(),
            client_addr: self.inner.node.client_addr.clone(),
            version: crate::services::SERVER_VERSION,
            uptime: self.inner.node.started.elapsed(),
            raft: self.inner.raft.status(),
            queue_counts,
            disk,
            streams: roster.streams(),
            workers: roster.workers(),
            draining: self.is_draining(),
            readiness: self.readiness(),
            last_snapshot,
            startup: self.inner.raft.startup().clone(),
            view_index: self.inner.view.applied_index(),
            view_error: self.inner.view.failure(),
            queue_settings,
            throttled_totals: self.inner.signals.activity().throttled_totals(),
            purged_total: self.inner.signals.activity().purged_total(),
            retention_lag_ms,
            idempotency_keys,
        })
    }

    pub fn opts(&self) -> &ApiOptions {
        &self.inner.opts
    }

    pub fn signals(&self) -> &Signals {
        &self.inner.signals
    }

    pub fn raft(&self) -> &RaftNode {
        &self.inner.raft
    }

    pub fn store(&self) -> &StateStore {
        &self.inner.store
    }

    pub fn view(&self) -> &Arc<corvo_view::View> {
        &self.inner.view
    }

    /// Notified when a bulk operation starts (the runner then looks at once).
    pub fn operations_changed(&self) -> &tokio::sync::Notify {
        &self.inner.operations
    }

    /// A new time-ordered job id (ULID), chosen here, before proposing, so every replica
    /// stores the same id.
    pub fn new_job_id(&self) -> String {
        let mut ids = self.inner.ids.lock().unwrap_or_else(|p| p.into_inner());
        match ids.generate() {
            Ok(id) => id.to_string(),
            // The generator overflows only after 2^80 ids in one millisecond; fall back
            // to a fresh random id rather than fail the request.
            Err(_) => ulid::Ulid::new().to_string(),
        }
    }

    /// Proposes commands together (one group-commit slot) and returns their replies.
    /// Enqueues for queues that a stream is waiting on carry a lease for that stream in the
    /// same log entry (see `dispatch`); the caller only sees its own replies.
    pub async fn propose(
        &self,
        mut cmds: Vec<Command>,
    ) -> Result<Vec<Result<Reply, JobError>>, ApiError> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        let own = cmds.len();
        self.check_command_sets(&cmds)?;
        let retry_safe = cmds.iter().all(retry_safe);
        let piggybacked = if self.is_draining() {
            Vec::new()
        } else {
            self.inner.dispatcher.piggyback(
                &mut cmds,
                wall_clock_ms(),
                self.inner.proposer.commands_max(),
                self.inner.opts.fetch_count_max,
                self.lease_bytes_max(),
            )
        };
        let started = corvo_clock::monotonic();
        let span = if crate::trace_context::enabled() {
            tracing::info_span!(
                "corvo.propose",
                commands = own,
                piggybacked = piggybacked.len()
            )
        } else {
            tracing::Span::none()
        };
        let (piggybacked, outcome) = match self.inner.proposer.submit(cmds) {
            Ok(replies) => {
                // The entry is on its way: its piggybacked leases are seen through even if
                // this call is dropped (its client gave up), or their streams' credits would
                // leak.
                let mut delivery = Delivery {
                    reservations: piggybacked,
                    own,
                    metrics: &self.inner.metrics,
                    replies,
                };
                let outcome = tracing::Instrument::instrument(&mut delivery.replies, span).await;
                (std::mem::take(&mut delivery.reservations), outcome)
            }
            Err(e) => (piggybacked, Err(e)),
        };
        let mut replies = match outcome {
            Ok(replies) => replies,
            Err(e) => {
                Dispatcher::cancel(piggybacked);
                let e = ApiError::from(e);
                return Err(if retry_safe { e.retry_safe() } else { e });
            }
        };
        let metrics = &self.inner.metrics;
        metrics.observe_propose(started.elapsed());
        let leases = replies.split_off(own.min(replies.len()));
        deliver(piggybacked, leases, metrics);
        for reply in &replies {
            match reply {
                Ok(Reply::Acked { run: Some(run), .. }) => metrics.observe_settled(run, true),
                Ok(Reply::Failed { run: Some(run), .. }) => metrics.observe_settled(run, false),
                _ => {}
            }
        }
        Ok(replies)
    }

    /// Refuses commands that a member of the cluster could not decode (a rolling upgrade is
    /// under way): UNAVAILABLE with a hint, naming the members, until every member runs a
    /// release that decodes them.
    fn check_command_sets(&self, cmds: &[Command]) -> Result<(), ApiError> {
        let Some(set) = cmds.iter().map(Command::command_set).max() else {
            return Ok(());
        };
        if set <= 1 {
            return Ok(());
        }
        let Some(why) = self.inner.raft.command_set_blocker(set) else {
            return Ok(());
        };
        Err(ApiError::Unavailable {
            reason: format!(
                "idempotency keys need the members to run a release that knows them: {why}"
            ),
            retry_after_ms: COMMAND_SET_RETRY_MS,
        })
    }

    /// The most bytes of jobs one lease may hand out: what fits in one response message, less
    /// room for the response's other fields (item results, cancel notices).
    pub fn lease_bytes_max(&self) -> u64 {
        self.inner
            .opts
            .message_bytes_max
            .saturating_sub(RESPONSE_FIELDS_BYTES_MAX) as u64
    }

    /// Reserves `target`'s credits for its own lease on `queues`: see [`Dispatcher::claim`].
    /// `None` when no ready job is left that other leases in flight are not already taking.
    pub fn claim_lease(
        &self,
        target: &PushTarget,
        queues: &[String],
    ) -> Result<Option<crate::dispatch::Claim<'_>>, ApiError> {
        let ready = query::leasable_count(
            &self.read()?,
            queues,
            wall_clock_ms(),
            crate::dispatch::READY_COUNTED_MAX,
        )?;
        if ready == 0 {
            return Ok(None);
        }
        Ok(self
            .inner
            .dispatcher
            .claim(target, queues, ready, self.inner.opts.fetch_count_max))
    }

    /// Claims ready jobs on `queues` for at most `credits` that a worker's frame grants, to
    /// lease in the frame's own entry: `None` when nothing is ready that other leases in
    /// flight have not claimed.
    pub fn claim_granted(
        &self,
        queues: &[String],
        credits: u32,
    ) -> Result<Option<crate::dispatch::Claim<'_>>, ApiError> {
        let dispatcher = &self.inner.dispatcher;
        let max = credits.min(self.inner.opts.fetch_count_max);
        // Counting further than the credits and the other claims need is wasted work: a
        // frame of a few acks would otherwise count a thousand ready jobs.
        let enough = (max as usize)
            .saturating_add(dispatcher.in_flight(queues) as usize)
            .min(crate::dispatch::READY_COUNTED_MAX);
        let ready = query::leasable_count(&self.read()?, queues, wall_clock_ms(), enough)?;
        if ready == 0 {
            return Ok(None);
        }
        Ok(dispatcher.claim_granted(queues, ready, max))
    }

    /// Whether a stream's pusher parked because leases in flight had claimed every ready job
    /// (see [`crate::dispatch::Dispatcher::take_parked`]); clears it.
    pub fn take_parked_streams(&self) -> bool {
        self.inner.dispatcher.take_parked()
    }

    /// The most commands one proposal may carry.
    pub fn commands_max(&self) -> usize {
        self.inner.proposer.commands_max()
    }

    /// Registers a stream that takes pushed jobs (it drops out when the target is dropped).
    pub fn register_push_target(&self, target: &Arc<PushTarget>) {
        self.inner.dispatcher.register(target);
    }

    /// Whether any of `queues` has a job ready to lease.
    /// Whether a lease on `queues` would take a job now (ready, and within each queue's pause
    /// and limits).
    pub fn has_ready(&self, queues: &[String]) -> Result<bool, ApiError> {
        Ok(query::leasable_count(&self.read()?, queues, wall_clock_ms(), 1)? > 0)
    }

    pub async fn propose_one(&self, cmd: Command) -> Result<Reply, ApiError> {
        let mut replies = self.propose(vec![cmd]).await?;
        match replies.pop() {
            Some(reply) => Ok(reply?),
            None => Err(ApiError::Internal(
                "no reply for the proposed command".into(),
            )),
        }
    }

    pub fn read(&self) -> Result<StateReader, ApiError> {
        Ok(self.inner.store.read()?)
    }

    /// Makes the reads that follow linearizable: this node confirms with a majority that it
    /// still leads (ReadIndex) and waits until it has applied everything committed before the
    /// call; returns that index. A leader cut off from the majority refuses instead of
    /// answering from a state that may be stale (ADR 0026).
    pub async fn linearize(&self) -> Result<u64, ApiError> {
        match self
            .raft()
            .confirm_leadership(LEADERSHIP_CONFIRM_WAIT)
            .await
        {
            Ok(Some(index)) => Ok(index),
            Ok(None) => Err(ApiError::Unavailable {
                reason: format!(
                    "this node could not confirm within {LEADERSHIP_CONFIRM_WAIT:?} that it still leads; a read it answered might be stale"
                ),
                retry_after_ms: crate::error::NOT_LEADER_RETRY_MS,
            }),
            Err(corvo_raft::ReadError::NotLeader { leader_id }) => Err(ApiError::NotLeader {
                leader_addr: leader_id.and_then(|id| self.raft().api_addr_of(id)),
            }),
            Err(e @ corvo_raft::ReadError::NoQuorum(_)) => Err(ApiError::Unavailable {
                reason: format!("{e}; a read this node answered might be stale"),
                retry_after_ms: crate::error::NOT_LEADER_RETRY_MS,
            }),
            Err(e @ corvo_raft::ReadError::Stopped(_)) => Err(ApiError::Internal(e.to_string())),
        }
    }

    /// PERMISSION_DENIED when job `id` exists in a queue outside `principal`'s scopes. An
    /// unknown job passes (the command then answers NOT_FOUND); an unscoped caller costs
    /// nothing (no read).
    pub fn check_job_scope(&self, principal: &Principal, id: &str) -> Result<(), ApiError> {
        if !principal.is_scoped() {
            return Ok(());
        }
        match query::job_queue(&self.read()?, id)? {
            Some(queue) => principal.check_queue(&queue),
            None => Ok(()),
        }
    }

    pub fn draining(&self) -> watch::Receiver<bool> {
        self.inner.draining.subscribe()
    }

    /// The probes of leaders' client addresses this node's streams share.
    pub fn leader_probe(&self) -> &crate::forward::LeaderProbe {
        &self.inner.leader_probe
    }

    pub fn is_draining(&self) -> bool {
        *self.inner.draining.borrow()
    }

    /// Stop handing out work: waiting fetches return empty, streams stop pushing.
    pub fn start_drain(&self) {
        self.inner.draining.send_replace(true);
        self.inner.signals.poke_ready();
    }

    /// Leases up to `lease.count` jobs, waiting until `deadline` for the first one. Proposes
    /// only when the state shows ready work, so an idle wait writes nothing to the log.
    pub async fn lease_when_ready(
        &self,
        lease: &Lease,
        deadline: Option<Instant>,
    ) -> Result<Vec<Job>, ApiError> {
        let mut ready = self.inner.signals.ready();
        let mut draining = self.draining();
        loop {
            if *draining.borrow_and_update() {
                return Ok(Vec::new());
            }
            if self.has_ready(&lease.queues)? {
                let jobs = self.lease_now(lease).await?;
                if !jobs.is_empty() {
                    return Ok(jobs);
                }
            }
            let Some(deadline) = deadline else {
                return Ok(Vec::new());
            };
            tokio::select! {
                changed = ready.changed() => if changed.is_err() { return Ok(Vec::new()) },
                _ = draining.changed() => {}
                _ = tokio::time::sleep_until(deadline.into()) => return Ok(Vec::new()),
            }
        }
    }

    /// Leases now (one proposal), whether or not work is ready.
    pub async fn lease_now(&self, lease: &Lease) -> Result<Vec<Job>, ApiError> {
        let reply = self.propose_one(self.lease_command(lease)).await?;
        self.leased(reply)
    }

    /// The command that leases for `lease`, bounded to what fits one response.
    pub fn lease_command(&self, lease: &Lease) -> Command {
        Command::LeaseWithin {
            lease: lease.clone(),
            bytes_max: self.lease_bytes_max(),
        }
    }

    /// The jobs a [`Engine::lease_command`]'s reply hands out, counted as delivered.
    pub fn leased(&self, reply: Reply) -> Result<Vec<Job>, ApiError> {
        match reply {
            Reply::Leased(jobs) => {
                let now = wall_clock_ms();
                for job in &jobs {
                    self.inner.metrics.observe_delivered(job, now);
                }
                Ok(jobs)
            }
            other => Err(ApiError::unexpected("lease", &other)),
        }
    }
}

/// Unix ms by this node's clock (for latencies measured against the leader's stamps, and
/// relative times in requests).
pub fn wall_clock_ms() -> u64 {
    corvo_clock::wall_ms()
}

/// `now + ms` as a deadline (`None` when `ms` is 0: do not wait).
pub fn deadline_in(ms: u64) -> Option<Instant> {
    (ms > 0).then(|| corvo_clock::monotonic() + Duration::from_millis(ms))
}
