//! Group commit: many callers' commands in one log entry, several entries in flight.
//!
//! ```text
//!  propose(cmds) ──try_acquire(queue slots)──▶ unbounded mpsc ──▶ proposer task
//!      ▲                                                            │ take an in-flight slot,
//!      │                                                            │ gather what is queued,
//!      │                                                            │ ≤ batch_commands_max,
//!      │                                                            │ stamp now_ms, client_write_ff
//!      │                                                            ▼
//!      └────── replies split per caller ◀── waiter task ◀── responder (entry applied)
//! ```
//!
//! The task submits entries one at a time with `client_write_ff`, which returns once the entry
//! is queued in openraft's core: entries reach the log in the order they were stamped, so
//! `now_ms` never goes backwards in log order. Waiting for the outcome happens in a spawned
//! task per entry, holding an in-flight slot, so up to `proposals_in_flight_max` entries share
//! fsyncs and apply transactions instead of paying one round trip each.
//!
//! The task never waits to fill an entry: it proposes whatever is queued as soon as it has a
//! slot. Batching comes from the pipeline itself: while entries are in flight (or every slot is
//! taken) calls queue up, and the next entry takes them all. Waiting instead (up to 2 ms while
//! another entry was in flight, as until 2026-12) cost unary callers that wait: with 16
//! clients it halved throughput (docs/performance.md, "Fewer hand-offs per entry"). The task
//! runs on Raft's own runtime (docs/adr/0043-raft-on-a-runtime-of-its-own.md), apart from the
//! request handlers that queue calls, which keep queueing while it closes an entry (the yield
//! of ADR 0041, which let handlers on the same runtime queue first, no longer gathers more).
//!
//! The queue is bounded in commands and in bytes by two semaphores (the channel itself is
//! unbounded so that a full queue answers at once with `Overloaded` instead of making callers
//! wait). An entry holds at most `batch_commands_max` commands and, unless one call alone is
//! larger, `batch_bytes_max` bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use corvo_core::{Batch, Command, JobError, Reply};
use openraft::errors::{ClientWriteError, Fatal};
use openraft::raft::ClientWriteResult;
use openraft::raft::responder::ProgressResponder;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::error::ProposeError;
use crate::options::RaftOptions;
use crate::types::{BatchData, RaftHandle, TypeConfig};

/// One caller's replies, one per command, in order.
pub type Replies = Vec<Result<Reply, JobError>>;

/// A handle to submit commands; cheap to clone.
#[derive(Clone)]
pub struct Proposer {
    tx: mpsc::UnboundedSender<Pending>,
    /// Free slots of the propose queue, in commands.
    queue: Arc<Semaphore>,
    /// Free room of the propose queue, in bytes (`Command::approx_bytes`).
    queue_bytes: Arc<Semaphore>,
    queue_bytes_max: usize,
    batch_commands_max: usize,
    retry_after_ms: u64,
}

impl Proposer {
    /// The most commands one `propose` call may carry (`batch_commands_max`): larger calls
    /// fail with `TooLarge` and must be split by the caller.
    pub fn commands_max(&self) -> usize {
        self.batch_commands_max
    }

    /// Queues commands for the next log entry and resolves with each command's reply (same
    /// order) once the entry is applied. A call's commands always land in one entry, next to
    /// other callers' commands (group commit).
    ///
    /// Dropping the returned future does not withdraw the commands once queued.
    pub async fn propose(&self, cmds: Vec<Command>) -> Result<Replies, ProposeError> {
        self.submit(cmds)?.await
    }

    /// [`Proposer::propose`] in two steps: queues the commands now (or refuses them), and
    /// returns the replies to come. The commands are proposed whether or not the replies are
    /// awaited: a caller that must see them through even if it is cancelled (it reserved
    /// something the replies settle) can hand the [`Submitted`] to a task of its own.
    pub fn submit(&self, cmds: Vec<Command>) -> Result<Submitted, ProposeError> {
        if cmds.is_empty() {
            return Ok(Submitted::nothing());
        }
        if cmds.len() > self.batch_commands_max {
            return Err(ProposeError::TooLarge {
                commands: cmds.len(),
                max: self.batch_commands_max,
            });
        }
        let bytes: usize = cmds.iter().map(Command::approx_bytes).sum();
        if bytes > self.queue_bytes_max {
            return Err(ProposeError::TooManyBytes {
                bytes,
                max: self.queue_bytes_max,
            });
        }
        // Fits in u32: len <= batch_commands_max <= propose_queue_max <= u32::MAX, and bytes
        // <= propose_queue_bytes_max <= u32::MAX (validated).
        let overloaded = |e| match e {
            TryAcquireError::NoPermits => ProposeError::Overloaded {
                retry_after_ms: self.retry_after_ms,
            },
            TryAcquireError::Closed => ProposeError::ShuttingDown,
        };
        let queued = self
            .queue
            .clone()
            .try_acquire_many_owned(cmds.len() as u32)
            .map_err(overloaded)?;
        let queued_bytes = self
            .queue_bytes
            .clone()
            .try_acquire_many_owned(bytes as u32)
            .map_err(overloaded)?;
        let (reply, replied) = oneshot::channel();
        self.tx
            .send(Pending {
                commands: cmds,
                bytes,
                reply,
                _queued: (queued, queued_bytes),
            })
            .map_err(|_| ProposeError::ShuttingDown)?;
        Ok(Submitted(Some(replied)))
    }
}

/// The replies to commands [`Proposer::submit`] queued (a future; `'static`, so a task may
/// own it).
pub struct Submitted(Option<oneshot::Receiver<Result<Replies, ProposeError>>>);

impl Submitted {
    /// The replies to no commands (resolves at once, empty).
    pub fn nothing() -> Submitted {
        Submitted(None)
    }
}

impl std::future::Future for Submitted {
    type Output = Result<Replies, ProposeError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let Some(replied) = self.0.as_mut() else {
            return std::task::Poll::Ready(Ok(Vec::new()));
        };
        // The task and the waiters always answer; a dropped sender means the runtime is
        // going away, possibly after the entry was proposed.
        std::pin::Pin::new(replied).poll(cx).map(|answer| {
            answer.unwrap_or(Err(ProposeError::OutcomeUnknown {
                leader_id: None,
                leader_addr: None,
            }))
        })
    }
}

struct Pending {
    commands: Vec<Command>,
    /// `Command::approx_bytes` of the commands.
    bytes: usize,
    reply: oneshot::Sender<Result<Replies, ProposeError>>,
    /// This call's slots and bytes in the propose queue, freed when its commands join an entry.
    _queued: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

/// A caller waiting for its part of an entry's replies.
struct Waiter {
    commands: usize,
    reply: oneshot::Sender<Result<Replies, ProposeError>>,
}

/// Stops the proposer task; owned by the node.
pub(crate) struct ProposerControl {
    stop: watch::Sender<bool>,
    queue: Arc<Semaphore>,
    in_flight: Arc<Semaphore>,
    in_flight_max: u32,
    task: JoinHandle<()>,
}

impl ProposerControl {
    /// Refuses new proposals, fails queued ones with `ShuttingDown`, then waits up to
    /// `drain_max` for the entries in flight to be applied.
    pub(crate) async fn stop(self, drain_max: Duration) {
        self.queue.close();
        // send_replace: there may be no receiver left if the task already ended.
        self.stop.send_replace(true);
        if let Err(e) = self.task.await {
            tracing::error!("proposer task failed: {e}");
        }
        let drained =
            tokio::time::timeout(drain_max, self.in_flight.acquire_many(self.in_flight_max)).await;
        if drained.is_err() {
            tracing::warn!(
                "raft shutdown: entries still in flight after {drain_max:?}; their callers get OutcomeUnknown"
            );
        }
    }
}

/// Starts the proposer task.
pub(crate) fn spawn(
    raft: RaftHandle,
    clock: Arc<dyn Clock>,
    applied_now_ms: Arc<AtomicU64>,
    opts: &RaftOptions,
) -> (Proposer, ProposerControl) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let queue = Arc::new(Semaphore::new(opts.propose_queue_max));
    let queue_bytes = Arc::new(Semaphore::new(opts.propose_queue_bytes_max));
    let in_flight = Arc::new(Semaphore::new(opts.proposals_in_flight_max));
    let task = ProposerTask {
        raft,
        rx,
        stop: stop_rx,
        clock,
        applied_now_ms,
        last_now_ms: 0,
        in_flight: in_flight.clone(),
        batch_commands_max: opts.batch_commands_max,
        batch_bytes_max: opts.batch_bytes_max,
        commit_wait_max: opts.commit_wait_max,
        carry: None,
    };
    let proposer = Proposer {
        tx,
        queue: queue.clone(),
        queue_bytes,
        queue_bytes_max: opts.propose_queue_bytes_max,
        batch_commands_max: opts.batch_commands_max,
        retry_after_ms: opts.overloaded_retry_after_ms,
    };
    let control = ProposerControl {
        stop: stop_tx,
        queue,
        in_flight,
        // Fits: RaftOptions::validate bounds it by u32::MAX.
        in_flight_max: opts.proposals_in_flight_max as u32,
        task: tokio::spawn(task.run()),
    };
    (proposer, control)
}

struct ProposerTask {
    raft: RaftHandle,
    rx: mpsc::UnboundedReceiver<Pending>,
    stop: watch::Receiver<bool>,
    clock: Arc<dyn Clock>,
    /// The largest `now_ms` applied on this node (shared with the state machine adapter).
    applied_now_ms: Arc<AtomicU64>,
    /// The stamp of the previous entry this task proposed.
    last_now_ms: u64,
    in_flight: Arc<Semaphore>,
    batch_commands_max: usize,
    batch_bytes_max: usize,
    /// A call that did not fit in the previous entry; it opens the next one.
    carry: Option<Pending>,
    /// How long callers wait for an entry to be applied (see `RaftOptions`).
    commit_wait_max: Duration,
}

impl ProposerTask {
    async fn run(mut self) {
        loop {
            let slot = tokio::select! {
                biased;
                _ = self.stop.changed() => break,
                slot = self.in_flight.clone().acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break,
                },
            };
            let first = match self.carry.take() {
                Some(pending) => pending,
                None => tokio::select! {
                    biased;
                    _ = self.stop.changed() => break,
                    pending = self.rx.recv() => match pending {
                        Some(pending) => pending,
                        None => break,
                    },
                },
            };
            let group = self.gather(first);
            self.submit(group, slot).await;
        }
        self.rx.close();
        let queued = self
            .carry
            .take()
            .into_iter()
            .chain(std::iter::from_fn(|| self.rx.try_recv().ok()));
        for pending in queued {
            let _ = pending.reply.send(Err(ProposeError::ShuttingDown));
        }
    }

    /// Gathers the whole calls queued after `first` until the entry is full or the queue is
    /// empty.
    fn gather(&mut self, first: Pending) -> Vec<Pending> {
        let mut commands = first.commands.len();
        let mut bytes = first.bytes;
        let mut group = vec![first];
        while commands < self.batch_commands_max && bytes < self.batch_bytes_max {
            let Ok(next) = self.rx.try_recv() else {
                break;
            };
            if commands + next.commands.len() > self.batch_commands_max
                || bytes + next.bytes > self.batch_bytes_max
            {
                self.carry = Some(next);
                break;
            }
            commands += next.commands.len();
            bytes += next.bytes;
            group.push(next);
        }
        group
    }

    /// Stamps and proposes one entry; a spawned task delivers its replies.
    async fn submit(&mut self, group: Vec<Pending>, slot: OwnedSemaphorePermit) {
        let now_ms = self.stamp();
        let mut commands = Vec::with_capacity(group.iter().map(|p| p.commands.len()).sum());
        let mut waiters = Vec::with_capacity(group.len());
        for pending in group {
            waiters.push(Waiter {
                commands: pending.commands.len(),
                reply: pending.reply,
            });
            commands.extend(pending.commands);
        }
        let (responder, applied) = ProgressResponder::complete_only();
        let entry = BatchData(std::sync::Arc::new(Batch { now_ms, commands }));
        if let Err(fatal) = self.raft.client_write_ff(entry, Some(responder)).await {
            // Not submitted: nothing was written.
            let err = match fatal {
                Fatal::Stopped => ProposeError::ShuttingDown,
                other => ProposeError::Fatal(other.to_string()),
            };
            answer_all(waiters, &err);
            return;
        }
        let wait_max = self.commit_wait_max;
        let raft = self.raft.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(wait_max, applied).await {
                Ok(Ok(result)) => deliver(waiters, result),
                // The responder was dropped: openraft stopped before applying the entry.
                Ok(Err(_)) => answer_all(waiters, &stopped_error(&raft).await),
                // Cut off from the majority: the callers learn the outcome is unknown. The
                // in-flight slot goes too, or a node without a majority would stop taking
                // calls altogether instead of answering them.
                Err(_) => answer_all(waiters, &ProposeError::CommitTimeout { waited: wait_max }),
            }
            drop(slot);
        });
    }

    /// The leader's clock, never below any stamp proposed or applied before on this node.
    fn stamp(&mut self) -> u64 {
        let floor = self
            .last_now_ms
            .max(self.applied_now_ms.load(Ordering::Relaxed));
        self.last_now_ms = self.clock.now_ms().max(floor);
        self.last_now_ms
    }
}

/// Splits an applied entry's replies back to its callers, or fails them all.
fn deliver(waiters: Vec<Waiter>, result: ClientWriteResult<TypeConfig>) {
    let response = match result {
        Ok(response) => response,
        Err(err) => return answer_all(waiters, &write_error(err)),
    };
    let index = response.log_id.index;
    let Some(outcome) = response.data.0 else {
        let err = ProposeError::Fatal(format!(
            "state machine returned no outcome for app entry {index}"
        ));
        return answer_all(waiters, &err);
    };
    let expected: usize = waiters.iter().map(|w| w.commands).sum();
    if outcome.replies.len() != expected {
        let err = ProposeError::Fatal(format!(
            "state machine returned {} replies for the {expected} commands of entry {index}",
            outcome.replies.len()
        ));
        return answer_all(waiters, &err);
    }
    let mut replies = outcome.replies.into_iter();
    for waiter in waiters {
        let mine: Replies = replies.by_ref().take(waiter.commands).collect();
        let _ = waiter.reply.send(Ok(mine));
    }
}

/// How long a caller whose entry was dropped waits for openraft to report why it stopped.
const STOPPED_REASON_WAIT: Duration = Duration::from_millis(200);

/// What to tell callers whose entry openraft dropped unapplied: the error it stopped on (a
/// storage error, say), if it reports one soon, else that the outcome is unknown.
async fn stopped_error(raft: &RaftHandle) -> ProposeError {
    let fatal = raft
        .wait(Some(STOPPED_REASON_WAIT))
        .metrics(|m| m.running_state.is_err(), "raft stopped")
        .await
        .ok()
        .and_then(|m| m.running_state.err());
    match fatal {
        Some(fatal) => ProposeError::Fatal(format!(
            "raft stopped on an error before applying this write (its outcome is unknown): {fatal}"
        )),
        None => ProposeError::OutcomeUnknown {
            leader_id: None,
            leader_addr: None,
        },
    }
}

fn write_error(err: ClientWriteError<TypeConfig>) -> ProposeError {
    match err {
        ClientWriteError::ForwardToLeader(f) => ProposeError::NotLeader {
            leader_id: f.leader_id,
            leader_addr: f.leader_node.map(|n| n.api_addr),
        },
        ClientWriteError::LogEntryDiscarded(f) => ProposeError::OutcomeUnknown {
            leader_id: f.leader_id,
            leader_addr: f.leader_node.map(|n| n.api_addr),
        },
        other => ProposeError::Fatal(other.to_string()),
    }
}

fn answer_all(waiters: Vec<Waiter>, err: &ProposeError) {
    for waiter in waiters {
        let _ = waiter.reply.send(Err(err.clone()));
    }
}
