//! One `StreamLifecycle` session: the worker's long-lived stream.
//!
//! ```text
//!  frames ──▶ reader: validate each frame, then propose its acks, fails, heartbeats and
//!             enqueues together (with those of the frames that queued up meanwhile); one
//!             response per frame, in order; a legacy fetch (`fetch_count`) is answered in
//!             its frame's response, promptly (≤ legacy_idle_wait when nothing is ready)
//!  credits ─▶ pusher: while credits > 0, wait for ready work (no polling, nothing written
//!             while idle), claim ≤ credits of the ready jobs, lease them, push them with
//!             request_id 0; jobs piggybacked on enqueues arrive in its inbox. Credits a
//!             frame grants along with acks lease ready work in the acks' own entry
//!             (pushed right after the frame's answer); only what that leaves goes here
//!  revoked ─▶ reader: a cancelled or reclaimed job held by this stream → cancel_job_ids
//!  leader ──▶ reader: on a node that stops leading (or never led it), once the leader is
//!             reachable: a NOT_LEADER frame (+ leader_addr), then UNAVAILABLE; the worker
//!             reconnects, and a follower forwards the new stream to the leader
//!  end ─────▶ the jobs the stream still holds go back to their queues at once (a failed
//!             attempt each, as a lease expiry would be), unless the server ended the
//!             stream to shut down: then the worker may settle them through another node
//! ```
//! Responses go through one bounded channel, so a slow reader of responses slows the
//! session down instead of growing memory.
//!
//! Every frame is checked against the caller's queue scopes (the queues it fetches from or
//! enqueues to, the queue of each job it settles or heartbeats): a frame that reaches outside
//! them is refused whole with PERMISSION_DENIED naming the queue, and changes nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corvo_core::{Command, Heartbeat, HeartbeatReply, Lease, Reply, model::Job};
use corvo_sdk::proto as pb;
use futures::FutureExt;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};
use tracing::debug;

use crate::convert;
use crate::dispatch::PushTarget;
use crate::engine::Engine;
use crate::error::ApiError;
use crate::keyring::Credential;
use crate::principal::Principal;
use crate::rate_limit::RateBudget;
use crate::roster::{StreamInfo, StreamPass};
use crate::services::heartbeat_answer;
use crate::signals::Revocation;

/// Consecutive invalid or forbidden frames after which the stream is closed.
const INVALID_FRAMES_MAX: u32 = 10;
/// Frames proposed together when a worker sent several while the previous ones were in
/// flight (typically acks for jobs pushed one by one).
const FRAMES_GATHERED_MAX: usize = 64;
/// How long one pusher wait lasts before it re-checks that the stream still wants work.
const PUSH_WAIT: Duration = Duration::from_secs(5);
/// How often a stream re-checks that its node still leads, besides on every change of role
/// or leader: for a stream served here because the leader could not be reached at its open.
const LEADER_RECHECK: Duration = Duration::from_secs(5);

type Out = mpsc::Sender<Result<pb::StreamLifecycleResponse, Status>>;

/// What the reader and the pusher share (credits and the lease template live in the
/// stream's [`PushTarget`], which the dispatcher also uses).
#[derive(Default)]
struct Shared {
    /// Jobs this stream holds leases on, with their lease tokens: to route revocations, and to
    /// fence the original contract's token-less acks, fails and heartbeats (see [`fence`]).
    leased: HashMap<String, u64>,
    /// The ready generation ([`crate::Signals::ready_generation`]) at which credits granted
    /// with acks last found nothing to lease on these queues (or all of it claimed): until
    /// the generation changes, frames on the same queues do not look (their credits go to the
    /// pusher, which waits for work as before).
    nothing_ready_at: Option<(u64, Vec<String>)>,
    /// The queues of the last legacy fetch whose lease, riding in its frame's entry, came back
    /// full: the next fetch on them leases without looking first (see [`handle_frames`]).
    fetch_came_full: Option<Vec<String>>,
}

/// Whether credits granted with acks found nothing to lease on `queues` at `generation`.
fn known_empty(shared: &Mutex<Shared>, generation: u64, queues: &[String]) -> bool {
    lock(shared)
        .nothing_ready_at
        .as_ref()
        .is_some_and(|(g, q)| *g == generation && q == queues)
}

/// Credits granted with acks found nothing to lease on `queues`; `generation` was read
/// before the state was.
fn note_empty(shared: &Mutex<Shared>, generation: u64, queues: &[String]) {
    lock(shared).nothing_ready_at = Some((generation, queues.to_vec()));
}

/// A lease token no lease ever has (tokens start at 1): the core refuses it as stale.
const NOT_HELD: u64 = 0;

/// Fencing without tokens: an item that carries no lease token (the original contract) is
/// accepted only from the stream that holds the job's lease, by giving it the token this
/// stream leased the job with; the core then checks it like any other. An item for a job this
/// stream does not hold gets a token no lease has, and is refused like a stale one.
fn fence(shared: &Mutex<Shared>, job_id: &str, token: &mut Option<u64>) {
    if token.is_none() {
        *token = Some(lock(shared).leased.get(job_id).copied().unwrap_or(NOT_HELD));
    }
}

pub struct Session;

/// Who opened the stream: every frame is checked against the caller's scopes, and takes a
/// token from its rate budget (a frame over the rate is refused whole, with a retry hint). The
/// key it presented is checked again on every frame and whenever the keys change: a key
/// revoked, expired or rotated out closes the stream with UNAUTHENTICATED.
pub struct Caller {
    pub principal: Principal,
    pub budget: Option<RateBudget>,
    pub credential: Option<Credential>,
}

impl Caller {
    fn recheck(&self) -> Result<(), ApiError> {
        match &self.credential {
            Some(c) => c.recheck(crate::engine::wall_clock_ms()),
            None => Ok(()),
        }
    }
}

impl Session {
    pub fn start(
        engine: Engine,
        caller: Caller,
        inbound: Streaming<pb::StreamLifecycleRequest>,
    ) -> Result<ReceiverStream<Result<pb::StreamLifecycleResponse, Status>>, Status> {
        if engine.is_draining() {
            return Err(ApiError::Unavailable {
                reason: "server is draining".into(),
                retry_after_ms: 1_000,
            }
            .into());
        }
        let (tx, rx) = mpsc::channel(engine.opts().stream_buffer_frames);
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (target, inbox) = PushTarget::new();
        engine.register_push_target(&target);
        let (closed_tx, closed_rx) = watch::channel(false);
        let pusher = tokio::spawn(push(
            engine.clone(),
            shared.clone(),
            target.clone(),
            inbox,
            tx.clone(),
            closed_rx,
        ));
        // Counted as open (metrics, status, the drain, ListWorkers) until the reader ends.
        let info = StreamInfo::new(crate::engine::wall_clock_ms(), target.clone(), {
            let shared = shared.clone();
            move || lock(&shared).leased.len()
        });
        let pass = engine.roster().open_stream(Some(info.clone()));
        tokio::spawn(async move {
            let shared_at_end = shared.clone();
            let ended = read(
                engine.clone(),
                caller,
                inbound,
                shared,
                target,
                tx,
                (pass, info),
            )
            .await;
            let _ = closed_tx.send(true);
            // A push under way may still lease jobs for the stream: let it finish first.
            let _ = tokio::time::timeout(PUSH_WAIT, pusher).await;
            if ended == Ended::ByWorker && !engine.is_draining() {
                hand_back(&engine, &shared_at_end).await;
            }
        });
        Ok(ReceiverStream::new(rx))
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

async fn read(
    engine: Engine,
    caller: Caller,
    mut inbound: Streaming<pb::StreamLifecycleRequest>,
    shared: Arc<Mutex<Shared>>,
    target: Arc<PushTarget>,
    tx: Out,
    (mut pass, info): (StreamPass, Arc<StreamInfo>),
) -> Ended {
    let mut revoked = engine.signals().revoked();
    let mut draining = engine.draining();
    let mut drain_deadline: Option<Instant> = None;
    let mut invalid_frames = 0u32;
    // A frame read ahead by `gather` that did not fit into the previous group.
    let mut held: Option<pb::StreamLifecycleRequest> = None;
    let mut key_changes = caller.credential.as_ref().map(Credential::reloads);
    let mut role = engine.raft().watch_role();
    let mut recheck = tokio::time::interval_at(
        (corvo_clock::monotonic() + LEADER_RECHECK).into(),
        LEADER_RECHECK,
    );
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let leadership = async {
            tokio::select! {
                alive = role.changed() => if !alive {
                    std::future::pending::<()>().await;
                },
                _ = recheck.tick() => {}
            }
        };
        let keys_changed = async {
            match key_changes.as_mut() {
                Some(rx) => {
                    if rx.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        let grace = async {
            match drain_deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        let next = async {
            match held.take() {
                Some(f) => Ok(Some(f)),
                None => inbound.message().await,
            }
        };
        tokio::select! {
            frame = next => {
                let frame = match frame {
                    Ok(Some(f)) => f,
                    Ok(None) => return Ended::ByWorker,
                    Err(status) => {
                        debug!(%status, "worker stream ended");
                        return Ended::ByWorker;
                    }
                };
                info.touch(crate::engine::wall_clock_ms());
                let (frames, ended) = gather(frame, &mut inbound, &mut held, engine.opts().batch_items_max);
                if let Err(e) = caller.recheck() {
                    let _ = tx.send(Err(e.into())).await;
                    return Ended::ByWorker;
                }
                if let Some(name) = frames.iter().rev().map(|f| &f.worker_id).find(|w| !w.is_empty()) {
                    pass.name_worker(name);
                }
                for response in handle_frames(&engine, &caller, &shared, &target, frames).await {
                    let refused = [pb::ErrorCode::InvalidArgument, pb::ErrorCode::PermissionDenied]
                        .iter()
                        .any(|c| response.error_code == *c as i32);
                    if refused {
                        invalid_frames += 1;
                    } else {
                        invalid_frames = 0;
                    }
                    if tx.send(Ok(response)).await.is_err() {
                        return Ended::ByWorker;
                    }
                    if invalid_frames >= INVALID_FRAMES_MAX {
                        let e = ApiError::invalid(
                            "stream",
                            format!("closing the stream after {INVALID_FRAMES_MAX} invalid or forbidden frames in a row"),
                        );
                        let _ = tx.send(Err(e.into())).await;
                        return Ended::ByWorker;
                    }
                }
                if ended {
                    return Ended::ByWorker;
                }
            }
            rev = revoked.recv() => {
                let ids = match rev {
                    Ok(r) => if revoke(&shared, &r) { vec![r.job_id] } else { vec![] },
                    Err(broadcast::error::RecvError::Lagged(_)) => recheck_leases(&engine, &shared),
                    Err(broadcast::error::RecvError::Closed) => return Ended::ByServer,
                };
                if !ids.is_empty() {
                    let resp = pb::StreamLifecycleResponse { cancel_job_ids: ids, ..Default::default() };
                    if tx.send(Ok(resp)).await.is_err() {
                        return Ended::ByWorker;
                    }
                }
            }
            _ = keys_changed => {
                if let Err(e) = caller.recheck() {
                    let _ = tx.send(Err(e.into())).await;
                    return Ended::ByWorker;
                }
            }
            _ = leadership => {
                if let Some(e) = led_elsewhere(&engine).await {
                    debug!(error = %e, "this node does not lead: the worker stream goes to the leader");
                    // The original contract's workers reconnect on this frame; the others on
                    // the status that ends the stream.
                    let mut notice = pb::StreamLifecycleResponse::default();
                    echo_item_error(&mut notice, &e, "stream");
                    let _ = tx.send(Ok(notice)).await;
                    let _ = tx.send(Err(e.into())).await;
                    return Ended::ByServer;
                }
            }
            _ = draining.changed(), if drain_deadline.is_none() => {
                if *draining.borrow() {
                    drain_deadline = Some(corvo_clock::monotonic() + engine.opts().drain_grace);
                }
            }
            _ = grace => {
                let e = ApiError::Unavailable {
                    reason: "server is shutting down; reconnect to another node".into(),
                    retry_after_ms: 1_000,
                };
                let _ = tx.send(Err(e.into())).await;
                return Ended::ByServer;
            }
        }
    }
}

/// Why this node must not serve a worker stream any longer: it does not lead, another node
/// does and can be reached, and this node is not draining (a drain ends its streams itself).
/// Only the leader leases and pushes, so a stream left here would wait for pushes that never
/// come; ended, the worker reconnects, and a follower forwards the new stream to the leader.
/// While the leader cannot be reached from here, the stream stays: a new one would be served
/// here too (see [`crate::forward`]), and its frames tell old workers NOT_LEADER meanwhile.
async fn led_elsewhere(engine: &Engine) -> Option<ApiError> {
    if engine.is_draining() {
        return None;
    }
    let status = engine.raft().status();
    let leader = status.leader_id.filter(|id| *id != status.node_id)?;
    let addr = engine.raft().api_addr_of(leader)?;
    engine
        .leader_probe()
        .reachable(&addr)
        .await
        .then_some(ApiError::NotLeader {
            leader_addr: Some(addr),
        })
}

/// Who ended a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    /// The worker: it closed the stream, its connection broke, it stopped reading, or it
    /// may no longer call (its key, its frames). Whatever it still holds is abandoned.
    ByWorker,
    /// The server, shutting down or no longer leading: the worker may settle what it holds
    /// through another node.
    ByServer,
}

/// The error a job handed back by a closed stream fails with.
pub const STREAM_CLOSED_ERROR: &str = "worker stream closed before the job was settled";

/// Hands the jobs a finished stream still holds back to their queues: each fails with
/// [`STREAM_CLOSED_ERROR`] under its lease token (an attempt, with the job's backoff, as a
/// lease expiry would be), so it does not wait out its lease. A job settled or reclaimed
/// meanwhile refuses the fail as stale, which changes nothing; if this node cannot write (it
/// lost the leadership), the leases run out as before.
async fn hand_back(engine: &Engine, shared: &Mutex<Shared>) {
    let held: Vec<(String, u64)> = lock(shared).leased.drain().collect();
    if held.is_empty() {
        return;
    }
    for chunk in held.chunks(engine.opts().batch_items_max.max(1)) {
        let cmds = chunk
            .iter()
            .map(|(job_id, token)| {
                Command::Fail(corvo_core::Fail {
                    job_id: job_id.clone(),
                    lease_token: Some(*token),
                    error: STREAM_CLOSED_ERROR.into(),
                    backtrace: None,
                })
            })
            .collect();
        match engine.propose(cmds).await {
            Ok(replies) => {
                let returned = replies.iter().filter(|r| r.is_ok()).count();
                debug!(
                    held = chunk.len(),
                    returned, "a closed worker stream handed its jobs back"
                );
            }
            Err(e) => {
                debug!(error = %e, held = chunk.len(), "a closed worker stream could not hand its jobs back; their leases will run out");
            }
        }
    }
}

/// `first` and the frames the worker sent after it that are already here (without waiting),
/// as long as their items together stay within `items_max` (what one frame may carry, so
/// the group fits one proposal) and [`FRAMES_GATHERED_MAX`]. A frame that does not fit is
/// left in `held`. True when the stream ended after the gathered frames.
fn gather(
    first: pb::StreamLifecycleRequest,
    inbound: &mut Streaming<pb::StreamLifecycleRequest>,
    held: &mut Option<pb::StreamLifecycleRequest>,
    items_max: usize,
) -> (Vec<pb::StreamLifecycleRequest>, bool) {
    let items = |f: &pb::StreamLifecycleRequest| {
        f.acks.len() + f.fails.len() + f.heartbeats.len() + f.enqueues.len()
    };
    let mut total = items(&first);
    let mut frames = vec![first];
    while frames.len() < FRAMES_GATHERED_MAX {
        match inbound.message().now_or_never() {
            None => break,
            Some(Ok(Some(f))) if total + items(&f) <= items_max => {
                total += items(&f);
                frames.push(f);
            }
            Some(Ok(Some(f))) => {
                *held = Some(f);
                break;
            }
            Some(Ok(None)) => return (frames, true),
            Some(Err(status)) => {
                debug!(%status, "worker stream ended");
                return (frames, true);
            }
        }
    }
    (frames, false)
}

/// Forgets a job this stream held under the revoked lease; true when it did. A revocation of
/// an older lease (the job expired and this stream leased it again since) leaves it alone.
fn revoke(shared: &Mutex<Shared>, r: &Revocation) -> bool {
    let mut s = lock(shared);
    if s.leased.get(&r.job_id) == Some(&r.lease_token) {
        s.leased.remove(&r.job_id);
        return true;
    }
    false
}

/// After missing revocations, ask the state which held jobs this stream must stop.
fn recheck_leases(engine: &Engine, shared: &Mutex<Shared>) -> Vec<String> {
    let held: Vec<String> = lock(shared).leased.keys().cloned().collect();
    let Ok(reader) = engine.read() else {
        return Vec::new();
    };
    let mut stop = Vec::new();
    for id in held {
        let active = matches!(corvo_core::query::job(&reader, &id), Ok(Some(j)) if j.state == corvo_core::JobState::Active);
        if !active {
            stop.push(id);
        }
    }
    let mut s = lock(shared);
    for id in &stop {
        s.leased.remove(id);
    }
    stop
}

/// A validated frame: the commands to propose, in order, and what to do after.
struct Plan {
    acks: Vec<String>,
    fails: Vec<String>,
    heartbeats: Vec<String>,
    enqueues: usize,
    commands: Vec<Command>,
    fetch: Option<Lease>,
    /// The fetch's lease is the last of `commands` (see [`handle_frames`]).
    fetch_inline: bool,
    /// Credits the frame grants: granted once its commands are applied, so a frame refused
    /// whole (and sent again, as workers do) never grants them twice.
    credits: u32,
    /// The worker drains: its outstanding credits are dropped.
    drain: bool,
}

fn plan(
    engine: &Engine,
    principal: &Principal,
    shared: &Mutex<Shared>,
    target: &PushTarget,
    f: &pb::StreamLifecycleRequest,
) -> Result<Plan, ApiError> {
    let opts = engine.opts();
    let items = f.acks.len() + f.fails.len() + f.heartbeats.len() + f.enqueues.len();
    if items > opts.batch_items_max {
        return Err(ApiError::invalid(
            "frame",
            format!(
                "carries {items} acks, fails, heartbeats and enqueues together, at most {}",
                opts.batch_items_max
            ),
        ));
    }
    if f.credits < 0 {
        return Err(ApiError::invalid(
            "credits",
            format!("must not be negative, got {}", f.credits),
        ));
    }
    let fetch_count = if f.fetch_count == 0 {
        0
    } else {
        convert::fetch_count(opts, f.fetch_count, "fetch_count")?
    };
    let wants_work = fetch_count > 0 || f.credits > 0;
    // A frame that grants credits or fetches without naming queues (typically acks plus
    // `credits: 1`) keeps working on what an earlier frame of this stream asked for.
    let earlier = if f.queues.is_empty() && wants_work {
        target.lease()
    } else {
        None
    };
    let lease = if let Some(earlier) = earlier {
        Some(Lease {
            count: fetch_count,
            ..earlier
        })
    } else if wants_work || !f.queues.is_empty() {
        Some(Lease {
            queues: convert::queues(&f.queues, "queues")?,
            count: fetch_count,
            worker_id: convert::worker_text(&f.worker_id, "worker_id")?,
            hostname: convert::worker_text(&f.hostname, "hostname")?,
            lease_ms: convert::lease_ms(opts, f.lease_duration, "lease_duration")?,
        })
    } else {
        None
    };
    if let Some(lease) = &lease {
        principal.check_queues(&lease.queues)?;
    }
    let outstanding = target.credits();
    if f.credits > 0 && outstanding.saturating_add(f.credits as u32) > opts.stream_credits_max {
        return Err(ApiError::invalid(
            "credits",
            format!(
                "{outstanding} outstanding + {} exceeds the maximum of {}",
                f.credits, opts.stream_credits_max
            ),
        ));
    }

    let mut plan = Plan {
        acks: vec![],
        fails: vec![],
        heartbeats: vec![],
        enqueues: 0,
        commands: vec![],
        fetch: None,
        fetch_inline: false,
        credits: 0,
        drain: f.drain,
    };
    // Heartbeats first: a frame's last progress and checkpoint land before its outcomes.
    if !f.heartbeats.is_empty() {
        let mut items = Vec::with_capacity(f.heartbeats.len());
        for (i, h) in f.heartbeats.iter().enumerate() {
            let mut item = convert::heartbeat_item(
                opts,
                &h.job_id,
                &h.progress_json,
                &h.checkpoint_json,
                h.lease_token,
                format_args!("heartbeats[{i}]."),
            )?;
            fence(shared, &item.job_id, &mut item.lease_token);
            engine.check_job_scope(principal, &item.job_id)?;
            items.push(item);
            plan.heartbeats.push(h.job_id.clone());
        }
        plan.commands.push(Command::Heartbeat(Heartbeat { items }));
    }
    for (i, a) in f.acks.iter().enumerate() {
        let mut cmd = convert::ack(
            opts,
            &a.job_id,
            &a.result_json,
            a.lease_token,
            format_args!("acks[{i}]."),
        )?;
        fence(shared, &cmd.job_id, &mut cmd.lease_token);
        engine.check_job_scope(principal, &cmd.job_id)?;
        plan.acks.push(cmd.job_id.clone());
        plan.commands.push(Command::Ack(cmd));
    }
    for (i, x) in f.fails.iter().enumerate() {
        let mut cmd = convert::fail(
            opts,
            &x.job_id,
            &x.error,
            &x.backtrace,
            x.lease_token,
            format_args!("fails[{i}]."),
        )?;
        fence(shared, &cmd.job_id, &mut cmd.lease_token);
        engine.check_job_scope(principal, &cmd.job_id)?;
        plan.fails.push(cmd.job_id.clone());
        plan.commands.push(Command::Fail(cmd));
    }
    for (i, e) in f.enqueues.iter().enumerate() {
        let cmd = convert::enqueue(
            opts,
            engine.new_job_id(),
            format_args!("enqueues[{i}]."),
            &e.queue,
            &e.payload_json,
            e.options.as_ref(),
        )?;
        if let Some(e) = cmd.enqueue() {
            principal.check_queue(&e.queue)?;
        }
        plan.commands.push(cmd);
        plan.enqueues += 1;
    }
    if let Some(lease) = lease {
        target.set_lease(&lease);
        plan.credits = if f.drain { 0 } else { f.credits.max(0) as u32 };
        if fetch_count > 0 {
            plan.fetch = Some(lease);
        }
    }
    Ok(plan)
}

/// Reports a frame-level error (counted as one rejection).
fn frame_error(resp: &mut pb::StreamLifecycleResponse, e: &ApiError, section: &str) {
    e.reject();
    echo_item_error(resp, e, section);
}

/// Repeats the first refused item's error on the frame (legacy clients read only the frame's
/// `error`); the item's own result already counted it.
fn echo_item_error(resp: &mut pb::StreamLifecycleResponse, e: &ApiError, section: &str) {
    if resp.error.is_empty() {
        resp.error = e.legacy_text(section);
        resp.error_code = e.code().into();
        resp.retry_after_ms = e.retry_after_ms().map_or(0, |ms| ms as i64);
        if let ApiError::NotLeader { leader_addr } = e {
            resp.leader_addr = leader_addr.clone().unwrap_or_default();
        }
    }
}

/// Answers `frames` (one response each, in order), proposing all their commands together:
/// one Raft round for every frame the worker sent while the previous ones were in flight.
async fn handle_frames(
    engine: &Engine,
    caller: &Caller,
    shared: &Mutex<Shared>,
    target: &PushTarget,
    frames: Vec<pb::StreamLifecycleRequest>,
) -> Vec<pb::StreamLifecycleResponse> {
    let mut planned = Vec::with_capacity(frames.len());
    let mut commands = Vec::new();
    for f in &frames {
        let mut resp = pb::StreamLifecycleResponse {
            request_id: f.request_id,
            ..Default::default()
        };
        let planned_frame = match &caller.budget {
            Some(budget) => budget.take(),
            None => Ok(()),
        }
        .and_then(|()| plan(engine, &caller.principal, shared, target, f));
        match planned_frame {
            Ok(mut p) => {
                // A legacy fetch with work ready rides in the same entry as the frame's acks
                // (applied before it): one Raft round per frame instead of two. Otherwise,
                // or if the lease comes back empty, `answer` waits for work as before. After
                // a fetch that came back full, the next one does not look first: there is
                // most likely more, and at worst one lease comes back empty.
                if let Some(lease) = &p.fetch
                    && !engine.is_draining()
                    && (lock(shared).fetch_came_full.as_ref() == Some(&lease.queues)
                        || engine.has_ready(&lease.queues).unwrap_or(false))
                {
                    p.commands.push(engine.lease_command(lease));
                    p.fetch_inline = true;
                }
                let n = p.commands.len();
                commands.append(&mut p.commands);
                planned.push((resp, Some((p, n))));
            }
            Err(e) => {
                frame_error(&mut resp, &e, "frame");
                planned.push((resp, None));
            }
        }
    }
    let inline = credits_inline(engine, shared, target, &planned, &mut commands);
    let mut replies = match engine.propose(commands).await {
        Ok(r) => r,
        Err(e) => {
            // Refused whole: the frames grant nothing, and their lease did not happen.
            drop(inline);
            return planned
                .into_iter()
                .map(|(mut resp, p)| {
                    if p.is_some() {
                        frame_error(&mut resp, &e, "frame");
                    }
                    resp.credits = i32::try_from(target.credits()).unwrap_or(i32::MAX);
                    resp
                })
                .collect();
        }
    };
    // The lease riding with the frames is the last command; what it leased takes that many
    // of the credits the frames grant.
    let pushed = match inline {
        Some(claim) => {
            let jobs = match replies.pop() {
                Some(Ok(reply)) => engine.leased(reply).unwrap_or_default(),
                _ => Vec::new(),
            };
            let queues = claim.queues().to_vec();
            drop(claim);
            // Streams that found these jobs claimed parked: if work is left over, they look
            // again.
            if engine.take_parked_streams() && engine.has_ready(&queues).unwrap_or(false) {
                engine.signals().poke_ready();
            }
            jobs
        }
        None => Vec::new(),
    };
    let mut taken = pushed.len() as u32;
    let mut replies = replies.into_iter();
    let mut out = Vec::with_capacity(planned.len() + 1);
    for (resp, p) in planned {
        out.push(match p {
            Some((plan, n)) => {
                if plan.drain {
                    let dropped = target.revoke();
                    debug!(dropped, "worker stream draining: credits dropped");
                }
                let used = taken.min(plan.credits);
                taken -= used;
                target.grant(plan.credits - used);
                answer(engine, shared, target, resp, plan, replies.by_ref().take(n)).await
            }
            None => pb::StreamLifecycleResponse {
                credits: i32::try_from(target.credits()).unwrap_or(i32::MAX),
                ..resp
            },
        });
    }
    if !pushed.is_empty() {
        // After the frames' answers, as the pusher would have sent them.
        out.push(push_response(shared, target, &pushed));
    }
    out
}

/// Credits ride with their acks (docs/adr/0040-credits-ride-with-their-acks.md): when frames
/// that settle jobs also grant credits, a lease for those credits joins their entry, after
/// their commands, so a worker that acks and asks for more gets it in one Raft round, not
/// two (the acks, then the pusher's lease). Only for work that is ready and that no other
/// lease in flight has claimed; not while the worker or the server drains, nor for frames
/// that carry nothing to propose. Returns the claim, held until the entry is applied.
fn credits_inline<'e>(
    engine: &'e Engine,
    shared: &Mutex<Shared>,
    target: &PushTarget,
    planned: &[(pb::StreamLifecycleResponse, Option<(Plan, usize)>)],
    commands: &mut Vec<Command>,
) -> Option<crate::dispatch::Claim<'e>> {
    let plans = || {
        planned
            .iter()
            .filter_map(|(_, p)| p.as_ref().map(|(p, _)| p))
    };
    let granted: u32 = plans().fold(0, |n, p| n.saturating_add(p.credits));
    if granted == 0
        || commands.is_empty()
        || commands.len() >= engine.commands_max()
        || plans().any(|p| p.drain)
        || engine.is_draining()
    {
        return None;
    }
    let template = target.lease()?;
    // Read before the state is: a job that becomes ready after it changes it.
    let generation = engine.signals().ready_generation();
    if known_empty(shared, generation, &template.queues) {
        return None;
    }
    let Some(claim) = engine
        .claim_granted(&template.queues, granted)
        .ok()
        .flatten()
    else {
        note_empty(shared, generation, &template.queues);
        return None;
    };
    commands.push(engine.lease_command(&Lease {
        count: claim.count(),
        ..template
    }));
    Some(claim)
}

/// Fills one frame's response from its replies, then serves its legacy fetch, if any.
async fn answer(
    engine: &Engine,
    shared: &Mutex<Shared>,
    target: &PushTarget,
    mut resp: pb::StreamLifecycleResponse,
    plan: Plan,
    mut replies: impl Iterator<Item = Result<Reply, corvo_core::JobError>>,
) -> pb::StreamLifecycleResponse {
    let Plan {
        acks,
        fails,
        heartbeats,
        enqueues,
        commands: _,
        fetch,
        fetch_inline,
        credits: _,
        drain: _,
    } = plan;
    if !heartbeats.is_empty() {
        match replies.next() {
            Some(Ok(Reply::Heartbeat(answers))) => {
                for (id, answer) in heartbeats.iter().zip(answers) {
                    match answer {
                        HeartbeatReply::Extended { .. } => {
                            resp.heartbeat_results.push(convert::item_ok(id, None))
                        }
                        HeartbeatReply::Stop(reason) => {
                            resp.cancel_job_ids.push(id.clone());
                            let mut r = convert::item_ok(id, None);
                            if reason == corvo_core::StopReason::StaleLease {
                                let e = ApiError::StaleLease { job_id: id.clone() };
                                r = convert::item_err(id, &e);
                            } else {
                                r.message = heartbeat_answer(&HeartbeatReply::Stop(reason)).reason;
                            }
                            resp.heartbeat_results.push(r);
                            lock(shared).leased.remove(id);
                        }
                    }
                }
            }
            other => frame_error(&mut resp, &item_error(other), "heartbeat"),
        }
    }
    for id in &acks {
        match replies.next() {
            Some(Ok(Reply::Acked { state, .. })) => {
                resp.acked += 1;
                resp.ack_results.push(convert::item_ok(id, Some(state)));
            }
            other => {
                let e = item_error(other);
                echo_item_error(&mut resp, &e, "ack");
                resp.ack_results.push(convert::item_err(id, &e));
            }
        }
    }
    for id in &fails {
        match replies.next() {
            Some(Ok(Reply::Failed { state, .. })) => {
                resp.fail_results.push(convert::item_ok(id, Some(state)))
            }
            other => {
                let e = item_error(other);
                echo_item_error(&mut resp, &e, "fail");
                resp.fail_results.push(convert::item_err(id, &e));
            }
        }
    }
    {
        let mut s = lock(shared);
        for id in acks.iter().chain(&fails) {
            s.leased.remove(id);
        }
    }
    for _ in 0..enqueues {
        match replies.next() {
            Some(Ok(Reply::Enqueued {
                job_id,
                state,
                duplicate,
            })) => {
                let mut r = convert::item_ok(&job_id, Some(state));
                if duplicate {
                    r.message = "duplicate".into();
                }
                resp.enqueued_job_ids.push(job_id);
                resp.enqueue_results.push(r);
            }
            Some(Ok(Reply::Replayed { job_id, state })) => {
                let mut r = convert::item_ok(&job_id, state);
                r.message = "replayed".into();
                resp.enqueued_job_ids.push(job_id);
                resp.enqueue_results.push(r);
            }
            other => {
                let e = item_error(other);
                echo_item_error(&mut resp, &e, "enqueue");
                resp.enqueued_job_ids.push(String::new());
                resp.enqueue_results.push(convert::item_err("", &e));
            }
        }
    }
    if let Some(lease) = fetch {
        let inline = if fetch_inline {
            let leased = match replies.next() {
                Some(Ok(reply)) => engine.leased(reply),
                other => Err(item_error(other)),
            };
            let full = leased
                .as_ref()
                .is_ok_and(|jobs| jobs.len() as u64 >= u64::from(lease.count));
            lock(shared).fetch_came_full = full.then(|| lease.queues.clone());
            leased
        } else {
            Ok(Vec::new())
        };
        let fetched = match inline {
            Ok(jobs) if jobs.is_empty() => {
                let deadline = Some(corvo_clock::monotonic() + engine.opts().legacy_idle_wait);
                engine.lease_when_ready(&lease, deadline).await
            }
            done => done,
        };
        match fetched {
            Ok(jobs) => deliver(shared, &mut resp, &jobs),
            Err(e) => frame_error(&mut resp, &e, "fetch"),
        }
    }
    resp.credits = i32::try_from(target.credits()).unwrap_or(i32::MAX);
    resp
}

fn item_error(reply: Option<Result<Reply, corvo_core::JobError>>) -> ApiError {
    match reply {
        Some(Err(e)) => e.into(),
        Some(Ok(other)) => ApiError::unexpected("item", &other),
        None => ApiError::Internal("missing reply".into()),
    }
}

fn deliver(shared: &Mutex<Shared>, resp: &mut pb::StreamLifecycleResponse, jobs: &[Job]) {
    let mut s = lock(shared);
    for job in jobs {
        if let Some(lease) = &job.lease {
            s.leased.insert(job.id.clone(), lease.token);
        }
        resp.jobs.push(convert::leased_job(job));
    }
}

/// Pushes jobs while the stream holds credits: jobs the dispatcher leased for this stream
/// along with their enqueue (the inbox), and jobs this task leases itself when the state
/// shows ready work. Waits are cancel-safe; a proposal, once made, is always seen through.
async fn push(
    engine: Engine,
    shared: Arc<Mutex<Shared>>,
    target: Arc<PushTarget>,
    mut inbox: mpsc::UnboundedReceiver<Vec<Job>>,
    tx: Out,
    mut closed: watch::Receiver<bool>,
) {
    let mut ready = engine.signals().ready();
    loop {
        if *closed.borrow() {
            return;
        }
        // Everything the dispatcher delivered meanwhile goes out in one response.
        let mut delivered = Vec::new();
        while let Ok(jobs) = inbox.try_recv() {
            delivered.extend(jobs);
        }
        if !delivered.is_empty() && !send_jobs(&shared, &target, &tx, &delivered).await {
            return;
        }
        let template = target
            .lease()
            .filter(|_| target.credits() > 0 && !engine.is_draining());
        let claim = match &template {
            Some(l) => engine.claim_lease(&target, &l.queues),
            None => Ok(None),
        };
        let (lease, claim) = match (template, claim) {
            (Some(lease), Ok(Some(claim))) => (lease, claim),
            (_, Err(e)) => {
                if !report(&tx, &e, &mut closed).await {
                    return;
                }
                continue;
            }
            _ => {
                let woke = tokio::select! {
                    jobs = inbox.recv() => jobs,
                    _ = ready.changed() => Some(Vec::new()),
                    _ = target.wake.notified() => Some(Vec::new()),
                    _ = closed.changed() => None,
                    _ = tokio::time::sleep(PUSH_WAIT) => Some(Vec::new()),
                };
                match woke {
                    Some(jobs) if jobs.is_empty() => {}
                    Some(jobs) => {
                        if !send_jobs(&shared, &target, &tx, &jobs).await {
                            return;
                        }
                    }
                    None => return,
                }
                continue;
            }
        };
        let reserved = claim.count();
        let leased = engine
            .lease_now(&Lease {
                count: reserved,
                ..lease.clone()
            })
            .await;
        // The claim ends with the proposal, not with the push: a worker slow to read its
        // stream must not keep other streams from the jobs that became ready since.
        drop(claim);
        // Streams that found this lease's jobs already claimed parked; if work is left over
        // (more became ready meanwhile), let them look again.
        if engine.has_ready(&lease.queues).unwrap_or(false) {
            engine.signals().poke_ready();
        }
        let sent = match leased {
            Ok(jobs) => {
                target.release(reserved.saturating_sub(jobs.len() as u32));
                jobs.is_empty() || send_jobs(&shared, &target, &tx, &jobs).await
            }
            Err(e) => {
                target.release(reserved);
                report(&tx, &e, &mut closed).await
            }
        };
        if !sent {
            return;
        }
    }
}

/// Sends pushed jobs (their credits are already taken). False when the stream is gone.
async fn send_jobs(shared: &Mutex<Shared>, target: &PushTarget, tx: &Out, jobs: &[Job]) -> bool {
    tx.send(Ok(push_response(shared, target, jobs)))
        .await
        .is_ok()
}

/// The response that pushes `jobs` (`request_id` 0), with the stream's free credits.
fn push_response(
    shared: &Mutex<Shared>,
    target: &PushTarget,
    jobs: &[Job],
) -> pb::StreamLifecycleResponse {
    let mut resp = pb::StreamLifecycleResponse::default();
    deliver(shared, &mut resp, jobs);
    resp.credits = i32::try_from(target.credits()).unwrap_or(i32::MAX);
    resp
}

/// Tells the worker the pusher hit an error, then waits the retry hint. False when the stream
/// is gone.
async fn report(tx: &Out, e: &ApiError, closed: &mut watch::Receiver<bool>) -> bool {
    let mut resp = pb::StreamLifecycleResponse::default();
    frame_error(&mut resp, e, "fetch");
    let wait = Duration::from_millis(e.retry_after_ms().unwrap_or(1_000));
    if tx.send(Ok(resp)).await.is_err() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        _ = closed.changed() => false,
    }
}
