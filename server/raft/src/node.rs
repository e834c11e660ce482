//! [`RaftNode`]: owns the openraft instance and the proposer task, and knows their order of
//! start and shutdown.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use openraft::alias::WatchReceiverOf;
use openraft::async_runtime::watch::WatchReceiver;
use openraft::errors::{Fatal, InitializeError, RaftError as OpenraftError};
use openraft::metrics::RaftServerMetrics;
use openraft::storage::{RaftLogStorage, RaftSnapshotBuilder, RaftStateMachine};
use openraft::{ServerState, SnapshotPolicy};

use crate::clock::{Clock, SystemClock};
use crate::error::{RaftError, ReadError};
use crate::log_store::LogStore;
use crate::network::Network;
use crate::options::{Durability, RaftOptions};
use crate::proposer::{self, Proposer, ProposerControl};
use crate::runtime::OwnRuntime;
use crate::snapshot::SnapshotDir;
use crate::state_machine::{AppStateMachine, ApplyListener, RaftMeta, StateMachineStore};
use crate::types::{CorvoNode, LogId, RaftHandle, TypeConfig};

/// After a shutdown in the same process, the previous handle's threads may hold the log file
/// for a few ms more (redb answers "Database already open"); retry that long at most.
const LOG_OPEN_RETRY_MAX: Duration = Duration::from_secs(2);
const LOG_OPEN_RETRY_EVERY: Duration = Duration::from_millis(10);
/// How long `create_snapshot` waits for the archive to be written.
const SNAPSHOT_CREATE_WAIT_MAX: Duration = Duration::from_secs(600);
/// How often the snapshot triggers look (a few atomic reads): the log can grow by tens of
/// MiB a second under load, so a slow check would let it far past its bound.
const SNAPSHOT_TRIGGER_CHECK_EVERY: Duration = Duration::from_secs(1);
/// The entry-count trigger waits for at least one entry per this many bytes of the last
/// snapshot (1 KiB): a snapshot rewrites the whole state, so with a large state and small
/// entries a fixed count would rewrite it far more often than the log grows
/// (docs/adr/0046-snapshot-count-grows-with-the-state.md).
pub const SNAPSHOT_BYTES_PER_ENTRY: u64 = 1024;

/// What start-up did to bring the state up to date: for the startup log line and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StartupReport {
    /// Time openraft took to start, replay included.
    pub elapsed: Duration,
    /// Log entries re-applied to the state at start-up.
    pub replayed_entries: u64,
    /// The snapshot index the state was restored from at start-up (the state file was behind
    /// the newest snapshot), if it was.
    pub restored_snapshot_index: Option<u64>,
    /// The applied index once started.
    pub applied_index: Option<u64>,
}

/// One snapshot archive on this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub file_name: String,
    pub path: std::path::PathBuf,
    pub last_index: u64,
    pub last_term: u64,
    pub size_bytes: u64,
    pub created_unix_ms: u64,
}

/// A Raft node: the openraft instance, its log, its state machine adapter and the proposer.
pub struct RaftNode {
    pub(crate) node_id: u64,
    pub(crate) raft: RaftHandle,
    proposer: Proposer,
    drain_max: Duration,
    /// Taken by the first `shutdown`.
    control: tokio::sync::Mutex<Option<ProposerControl>>,
    /// The log held a membership when the node started: it is (or was) a member and needs no
    /// join.
    member_at_start: bool,
    pub(crate) secret: Option<crate::ClusterSecret>,
    /// TLS of the peer port, when it serves TLS.
    peer_tls: Option<std::sync::Arc<corvo_net::ServerTls>>,
    /// Serve `StreamAppend` (see `RaftOptions::stream_append`).
    stream_append: bool,
    /// Membership changes run one at a time (concurrent `change_membership` calls interleave).
    pub(crate) admin: tokio::sync::Mutex<()>,
    app: Arc<dyn AppStateMachine>,
    snapshots: Arc<SnapshotDir>,
    startup: StartupReport,
    /// The age trigger of snapshots; stopped by `shutdown`.
    snapshot_timer: Option<tokio::task::JoinHandle<()>>,
    /// This node's cluster id (see [`crate::identity`]), stored in the log's metadata.
    cluster: crate::ClusterId,
    /// What each peer decodes (see [`RaftNode::command_set_blocker`]).
    command_sets: crate::identity::PeerCommandSets,
    /// The runtime Raft's tasks run on, when not the caller's; stopped by `shutdown`.
    runtime: Option<OwnRuntime>,
}

/// The role of a node in the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Learner,
    Follower,
    Candidate,
    Leader,
    Shutdown,
}

/// A point-in-time view of the node, for health and metrics endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftStatus {
    pub node_id: u64,
    pub role: Role,
    pub leader_id: Option<u64>,
    pub term: u64,
    /// `None` until the first entry is written. Indexes start at 0 (the initial membership).
    pub last_log_index: Option<u64>,
    /// The last index this node knows as committed (openraft's `local_committed`).
    pub committed: Option<u64>,
    pub last_applied: Option<u64>,
    /// The last index covered by this node's newest snapshot.
    pub snapshot_index: Option<u64>,
    /// The log is purged up to here (inclusive).
    pub purged_index: Option<u64>,
    /// Why Raft stopped, if it stopped on an error (a storage error is not recoverable here).
    pub fatal: Option<String>,
    /// The cluster this node belongs to (see [`RaftNode::cluster_id`]).
    pub cluster_id: Option<String>,
}

impl RaftNode {
    /// Opens the log, starts openraft (which re-applies committed entries the state machine
    /// lost), and on first start (no vote, empty log) initializes a one-voter cluster of this
    /// node. Returns once started; does not wait for leadership.
    pub async fn start(
        opts: RaftOptions,
        sm: Arc<dyn AppStateMachine>,
        listener: Arc<dyn ApplyListener>,
    ) -> Result<RaftNode, RaftError> {
        Self::start_with_clock(opts, sm, listener, Arc::new(SystemClock)).await
    }

    /// [`RaftNode::start`] with the clock that stamps proposals (tests drive it by hand).
    ///
    /// With [`RaftOptions::own_runtime`] (the default) everything Raft spawns runs on a runtime
    /// of its own (see [`crate::runtime`]); otherwise on the caller's.
    pub async fn start_with_clock(
        opts: RaftOptions,
        sm: Arc<dyn AppStateMachine>,
        listener: Arc<dyn ApplyListener>,
        clock: Arc<dyn Clock>,
    ) -> Result<RaftNode, RaftError> {
        opts.validate().map_err(RaftError::InvalidOptions)?;
        if !opts.own_runtime {
            return Self::start_here(opts, sm, listener, clock).await;
        }
        let runtime = OwnRuntime::start()
            .map_err(|e| RaftError::Fatal(format!("starting the raft thread: {e}")))?;
        let started = runtime
            .handle()
            .spawn(Self::start_here(opts, sm, listener, clock))
            .await;
        match started {
            Ok(Ok(mut node)) => {
                node.runtime = Some(runtime);
                Ok(node)
            }
            Ok(Err(e)) => {
                runtime.stop().await;
                Err(e)
            }
            Err(e) => {
                runtime.stop().await;
                Err(RaftError::Fatal(format!("raft start task: {e}")))
            }
        }
    }

    /// Starts the node on the runtime this runs on.
    async fn start_here(
        opts: RaftOptions,
        sm: Arc<dyn AppStateMachine>,
        listener: Arc<dyn ApplyListener>,
        clock: Arc<dyn Clock>,
    ) -> Result<RaftNode, RaftError> {
        let config = Arc::new(raft_config(&opts)?);
        let mut log = open_log(&opts).await?;
        let cluster = crate::ClusterId::stored(log.meta()).map_err(RaftError::Storage)?;
        let appended_bytes = log.appended_bytes();
        let dir = opts.snapshot_dir.clone();
        let snapshots = Arc::new(
            tokio::task::spawn_blocking(move || SnapshotDir::open(&dir))
                .await
                .map_err(|e| RaftError::Fatal(format!("open snapshot dir task: {e}")))?
                .map_err(RaftError::Storage)?,
        );
        let applied_before = match sm.raft_meta().map_err(RaftError::Storage)? {
            Some(bytes) => {
                RaftMeta::decode(&bytes, &"state machine raft_meta")
                    .map_err(RaftError::Storage)?
                    .last_applied
            }
            None => None,
        };
        let newest_snapshot = snapshots
            .list()
            .map_err(RaftError::Storage)?
            .first()
            .map(|e| e.last_index);

        let applied_now_ms = Arc::new(AtomicU64::new(0));
        let mut state_machine = StateMachineStore::new(
            sm.clone(),
            listener,
            applied_now_ms.clone(),
            opts.apply_entries_max,
            snapshots.clone(),
        );
        repair_a_log_behind_its_state(
            &mut log,
            &mut state_machine,
            applied_before,
            newest_snapshot,
        )
        .await?;
        let applied_before = applied_before.map(|id| id.index);
        let command_sets = crate::identity::PeerCommandSets::default();
        let network = Network::new(
            &opts,
            cluster.clone(),
            command_sets.clone(),
            crate::peer::SnapshotSink {
                dir: snapshots.clone(),
                app: sm.clone(),
            },
        );
        let started = corvo_clock::monotonic();
        let raft = openraft::Raft::new(opts.node_id, config, network, log, state_machine)
            .await
            .map_err(fatal_error)?;
        let startup = startup_report(&raft, started.elapsed(), applied_before, newest_snapshot);
        tracing::info!(
            elapsed_ms = startup.elapsed.as_millis() as u64,
            replayed_entries = startup.replayed_entries,
            restored_snapshot_index = ?startup.restored_snapshot_index,
            applied_index = ?startup.applied_index,
            "raft started: state brought up to date"
        );

        let member_at_start = raft.is_initialized().await.map_err(fatal_error)?;
        if !member_at_start && !opts.bootstrap {
            tracing::info!(
                node_id = opts.node_id,
                "empty raft log: waiting to be added to a cluster"
            );
        } else if !member_at_start {
            let me = CorvoNode {
                raft_addr: opts.raft_addr.clone(),
                api_addr: opts.api_addr.clone(),
                name: opts.name.clone(),
            };
            let members = BTreeMap::from([(opts.node_id, me)]);
            match raft.initialize(members).await {
                Ok(()) => {
                    let id = crate::ClusterId::generate();
                    cluster.adopt(&id).map_err(RaftError::Storage)?;
                    tracing::info!(
                        node_id = opts.node_id,
                        cluster_id = %id,
                        "initialized a one-voter raft cluster"
                    );
                }
                // Already initialized (a race with a membership change): nothing to do.
                Err(OpenraftError::APIError(InitializeError::NotAllowed(_))) => {}
                Err(e) => return Err(RaftError::Fatal(format!("initialize: {e}"))),
            }
        }

        let (proposer, control) = proposer::spawn(raft.clone(), clock, applied_now_ms, &opts);
        let triggers = SnapshotTriggers {
            entries: opts.snapshot_entries,
            interval: opts.snapshot_interval,
            log_bytes: opts.snapshot_log_bytes,
            appended_bytes,
            snapshots: snapshots.clone(),
        };
        let snapshot_timer = triggers
            .any()
            .then(|| tokio::spawn(triggers.run(raft.clone())));
        Ok(RaftNode {
            node_id: opts.node_id,
            raft,
            proposer,
            drain_max: opts.shutdown_drain_max,
            control: tokio::sync::Mutex::new(Some(control)),
            member_at_start,
            secret: opts.cluster_secret,
            peer_tls: opts.peer_tls.map(|t| t.server),
            stream_append: opts.stream_append,
            admin: tokio::sync::Mutex::new(()),
            app: sm,
            snapshots,
            startup,
            snapshot_timer,
            cluster,
            command_sets,
            runtime: None,
        })
    }

    /// What start-up did (replay, snapshot restore).
    pub fn startup(&self) -> &StartupReport {
        &self.startup
    }

    /// Builds a snapshot of the state applied so far and returns it once it is on disk.
    ///
    /// openraft drops a trigger while a build is running (a size- or time-triggered one, or
    /// another caller's), and that build may stop short of what this caller has seen applied:
    /// each time a build finishes short of it, this triggers again. A single trigger waited
    /// the whole `SNAPSHOT_CREATE_WAIT_MAX` (10 minutes) then.
    pub async fn create_snapshot(&self) -> Result<SnapshotInfo, RaftError> {
        let applied = self.status().last_applied.ok_or(RaftError::InvalidOptions(
            "nothing applied yet: there is no state to snapshot".to_owned(),
        ))?;
        let what = "the snapshot to be written";
        let deadline = corvo_clock::monotonic() + SNAPSHOT_CREATE_WAIT_MAX;
        let mut seen = self.raft.metrics().borrow_watched().snapshot;
        while seen.is_none_or(|s| s.index < applied) {
            self.raft.trigger().snapshot().await.map_err(fatal_error)?;
            let left = deadline.saturating_duration_since(corvo_clock::monotonic());
            let m = self
                .raft
                .wait(Some(left))
                .metrics(|m| m.snapshot != seen || m.running_state.is_err(), what)
                .await
                .map_err(RaftError::from_wait(SNAPSHOT_CREATE_WAIT_MAX, what))?;
            if m.running_state.is_err() {
                break;
            }
            seen = m.snapshot;
        }
        if let Some(fatal) = self.status().fatal {
            return Err(RaftError::Fatal(fatal));
        }
        self.list_snapshots()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| RaftError::Fatal("the snapshot was built but is not on disk".into()))
    }

    /// The snapshot archives on this node, newest first.
    pub async fn list_snapshots(&self) -> Result<Vec<SnapshotInfo>, RaftError> {
        let (app, dir) = (self.app.clone(), self.snapshots.clone());
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for entry in dir.list()? {
                // A file deleted by retention between the listing and here is skipped.
                let Ok(size) = std::fs::metadata(&entry.path).map(|m| m.len()) else {
                    continue;
                };
                let created_unix_ms = app.snapshot_header(&entry.path).map_or(0, |(_, t)| t);
                out.push(SnapshotInfo {
                    file_name: entry.file_name(),
                    path: entry.path,
                    last_index: entry.last_index,
                    last_term: entry.last_term,
                    size_bytes: size,
                    created_unix_ms,
                });
            }
            Ok::<_, io::Error>(out)
        })
        .await
        .map_err(|e| RaftError::Fatal(format!("list snapshots task: {e}")))?
        .map_err(RaftError::Storage)
    }

    /// Whether the log held a membership at start: a restarted member rejoins by starting and
    /// must not ask to join again.
    pub fn was_member_at_start(&self) -> bool {
        self.member_at_start
    }

    /// Serves the Raft peer service on `listener` (the peer port) until `shutdown` resolves.
    /// Refused without a cluster secret: an unauthenticated peer port would let anyone
    /// rewrite the log.
    pub fn serve_peers(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<tokio::task::JoinHandle<Result<(), String>>, RaftError> {
        let Some(secret) = self.secret.clone() else {
            return Err(RaftError::InvalidOptions(
                "the peer port needs a cluster secret".to_owned(),
            ));
        };
        let sink = crate::peer::SnapshotSink {
            dir: self.snapshots.clone(),
            app: self.app.clone(),
        };
        let service = crate::peer::PeerService {
            raft: self.raft.clone(),
            sink,
            stream_append: self.stream_append,
        };
        let task = crate::peer::serve(
            service,
            secret,
            (self.node_id, self.cluster.clone()),
            listener,
            self.peer_tls.clone(),
            shutdown,
        );
        Ok(tokio::spawn(async move {
            match task.await {
                Ok(result) => result.map_err(|e| format!("peer server: {e}")),
                Err(e) => Err(format!("peer server task: {e}")),
            }
        }))
    }

    /// The cluster this node belongs to: made at bootstrap, learnt by a joining node from its
    /// check-only join. `None` before that, and on clusters made by an older release.
    pub fn cluster_id(&self) -> Option<String> {
        self.cluster.get()
    }

    /// Records the cluster id a joining node was given, before its peer port opens. Refuses
    /// an id other than the one it already has: the node belongs to another cluster.
    pub fn adopt_cluster_id(&self, id: &str) -> Result<(), RaftError> {
        self.cluster.adopt(id).map_err(|e| match e.kind() {
            // Another cluster's id: a wrong request, not a storage failure.
            io::ErrorKind::InvalidInput => RaftError::InvalidOptions(e.to_string()),
            _ => RaftError::Storage(e),
        })
    }

    /// A handle to propose commands; cheap to clone.
    pub fn proposer(&self) -> Proposer {
        self.proposer.clone()
    }

    /// Waits until some node (maybe this one) is known as leader and returns its id.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Result<u64, RaftError> {
        let what = "a raft leader";
        let metrics = self
            .raft
            .wait(Some(timeout))
            .metrics(
                |m| m.current_leader.is_some() || m.running_state.is_err(),
                what,
            )
            .await
            .map_err(RaftError::from_wait(timeout, what))?;
        if let Err(fatal) = &metrics.running_state {
            return Err(RaftError::Fatal(fatal.to_string()));
        }
        metrics.current_leader.ok_or(RaftError::Timeout {
            waited: timeout,
            what,
        })
    }

    /// A snapshot of the node's Raft metrics.
    pub fn status(&self) -> RaftStatus {
        // Clone at once: holding the watch borrow would block RaftCore's metrics updates.
        let m = self.raft.metrics().borrow_watched().clone();
        RaftStatus {
            node_id: self.node_id,
            role: match m.state {
                ServerState::Learner => Role::Learner,
                ServerState::Follower => Role::Follower,
                ServerState::Candidate => Role::Candidate,
                ServerState::Leader => Role::Leader,
                ServerState::Shutdown => Role::Shutdown,
            },
            leader_id: m.current_leader,
            term: m.current_term,
            last_log_index: m.last_log_index,
            committed: m.local_committed.map(|id| id.index),
            last_applied: m.last_applied.map(|id| id.index),
            snapshot_index: m.snapshot.map(|id| id.index),
            purged_index: m.purged.map(|id| id.index),
            fatal: m.running_state.err().map(|e| e.to_string()),
            cluster_id: self.cluster.get(),
        }
    }

    /// Follows changes of this node's role, leader and vote (not of its log indexes, which move
    /// on every write): for tasks that re-check readiness when leadership changes.
    pub fn watch_role(&self) -> RoleWatch {
        RoleWatch(self.raft.server_metrics())
    }

    /// Why a command of command set `set` must not be proposed now, or `None` when it may:
    /// no member has said it decodes less than `set` (it would stop at that entry until
    /// upgraded), and a majority of voters, this node included, has said it decodes `set`
    /// (so the entry commits even if every member not heard from runs an older release).
    /// A member that has not answered since this node started (it is down, say) is not
    /// counted either way: a node restarted in a rolling upgrade comes back upgraded.
    pub fn command_set_blocker(&self, set: u32) -> Option<String> {
        let membership = self
            .raft
            .metrics()
            .borrow_watched()
            .membership_config
            .clone();
        let membership = membership.membership();
        let older: Vec<u64> = membership
            .nodes()
            .map(|(id, _)| *id)
            .filter(|id| *id != self.node_id)
            .filter(|id| self.command_sets.get(*id).is_some_and(|s| s < set))
            .collect();
        if !older.is_empty() {
            return Some(format!(
                "node(s) {older:?} run a release that cannot decode it (a rolling upgrade under way?)"
            ));
        }
        let voters: Vec<u64> = membership.voter_ids().collect();
        let decoding = voters
            .iter()
            .filter(|id| {
                **id == self.node_id || self.command_sets.get(**id).is_some_and(|s| s >= set)
            })
            .count();
        if decoding * 2 <= voters.len() {
            return Some(format!(
                "only {decoding} of {} voters have said they decode it so far",
                voters.len()
            ));
        }
        None
    }

    /// Whether this node is the leader right now (it may stop being one at any moment).
    pub fn is_leader(&self) -> bool {
        let m = self.raft.metrics().borrow_watched().clone();
        m.state == ServerState::Leader && m.current_leader == Some(self.node_id)
    }

    /// Confirms that this node still leads (a heartbeat round acknowledged by a majority:
    /// ReadIndex) and waits until its state has applied everything committed before; returns
    /// that index. A read served after it is linearizable: a leader deposed a moment ago, cut
    /// off from the majority, cannot confirm and must not answer. `Ok(None)`: not confirmed
    /// within `wait`.
    pub async fn confirm_leadership(&self, wait: Duration) -> Result<Option<u64>, ReadError> {
        let read = self
            .raft
            .ensure_linearizable(openraft::raft::ReadPolicy::ReadIndex);
        match tokio::time::timeout(wait, read).await {
            Err(_) => Ok(None),
            Ok(Ok(read_log_id)) => Ok(Some(read_log_id.log_id().index)),
            Ok(Err(OpenraftError::APIError(e))) => match e {
                openraft::errors::LinearizableReadError::ForwardToLeader(f) => {
                    Err(ReadError::NotLeader {
                        leader_id: f.leader_id,
                    })
                }
                openraft::errors::LinearizableReadError::QuorumNotEnough(q) => {
                    Err(ReadError::NoQuorum(q.to_string()))
                }
            },
            Ok(Err(OpenraftError::Fatal(f))) => Err(ReadError::Stopped(f.to_string())),
        }
    }

    /// The openraft handle (tests). Writes go through [`Proposer`].
    pub fn raft(&self) -> &RaftHandle {
        &self.raft
    }

    /// Stops the proposer (queued commands fail with `ShuttingDown`, entries in flight get
    /// up to `shutdown_drain_max` to be applied), then stops openraft, then the runtime it ran
    /// on when it had one of its own. The log file may stay
    /// locked for a few ms after this returns; `start` retries that.
    pub async fn shutdown(&self) -> Result<(), RaftError> {
        if let Some(control) = self.control.lock().await.take() {
            control.stop(self.drain_max).await;
        }
        if let Some(timer) = &self.snapshot_timer {
            timer.abort();
        }
        let stopped = self
            .raft
            .shutdown()
            .await
            .map_err(|e| RaftError::Fatal(format!("raft core task: {e}")));
        if let Some(runtime) = &self.runtime {
            runtime.stop().await;
        }
        stopped
    }
}

/// See [`RaftNode::watch_role`].
pub struct RoleWatch(WatchReceiverOf<TypeConfig, RaftServerMetrics<TypeConfig>>);

impl RoleWatch {
    /// Waits for the next change of role, leader or vote; `false` once Raft has stopped.
    pub async fn changed(&mut self) -> bool {
        self.0.changed().await.is_ok()
    }
}

fn raft_config(opts: &RaftOptions) -> Result<openraft::Config, RaftError> {
    let config = openraft::Config {
        cluster_name: "corvo".to_string(),
        heartbeat_interval: opts.heartbeat_ms,
        election_timeout_min: opts.election_timeout_min_ms,
        election_timeout_max: opts.election_timeout_max_ms,
        // A node coming back from a partition asks before bumping the term and unseating the
        // leader.
        enable_pre_vote: Some(true),
        // Every automatic trigger, the entry count included, is ours (`SnapshotTriggers`):
        // openraft's count does not grow with the state.
        snapshot_policy: SnapshotPolicy::Never,
        max_in_snapshot_log_to_keep: opts.snapshot_logs_kept,
        max_payload_entries: opts.append_entries_max,
        // A restarted leader resumes leadership without an election only when its log is
        // fsynced; under Relaxed its log may have lost a tail its followers still hold.
        enable_leader_restore: Some(opts.durability == Durability::Fsync),
        ..Default::default()
    };
    config
        .validate()
        .map_err(|e| RaftError::InvalidOptions(e.to_string()))
}

/// Brings a log that is behind its state into the shape openraft starts from.
///
/// A follower applies entries the leader reports committed even when its own write of them
/// failed (they are durable on a quorum). If the state was checkpointed past the log and the
/// node then stopped (a full disk), the state is ahead of this node's log at the next start:
///
/// - openraft purges the log up to the state and needs a snapshot at least that far, else it
///   stops on its invariant `purged <= snapshot`. This writes that snapshot of the state when
///   the newest one is older; the log then starts after it and the leader sends the rest.
/// - A `committed` index past the log's last entry (saved after the failed write by a release
///   whose log writer went on writing) would make openraft re-apply entries the log does not
///   have. It is lowered to the last entry: the state's own index then counts, and the leader
///   commits the rest again.
async fn repair_a_log_behind_its_state(
    log: &mut LogStore,
    state_machine: &mut StateMachineStore,
    applied: Option<LogId>,
    newest_snapshot: Option<u64>,
) -> Result<(), RaftError> {
    let log_last = log
        .get_log_state()
        .await
        .map_err(RaftError::Storage)?
        .last_log_id;
    let committed = log.read_committed().await.map_err(RaftError::Storage)?;
    let last_index = log_last.map(|id| id.index);
    if committed.map(|id| id.index) > last_index {
        tracing::warn!(
            committed_index = ?committed.map(|id| id.index),
            log_last_index = ?last_index,
            "the log's committed index is past its last entry (a write failed after it was saved): lowered to the last entry"
        );
        log.save_committed(log_last)
            .await
            .map_err(RaftError::Storage)?;
    }
    let Some(applied) = applied else {
        return Ok(());
    };
    if last_index >= Some(applied.index) || newest_snapshot >= Some(applied.index) {
        return Ok(());
    }
    tracing::warn!(
        applied_index = applied.index,
        log_last_index = ?last_index,
        newest_snapshot_index = ?newest_snapshot,
        "the state is ahead of this node's log (a log write failed after its entries were applied): writing a snapshot of the state for the log to start after"
    );
    state_machine
        .get_snapshot_builder()
        .await
        .build_snapshot()
        .await
        .map_err(RaftError::Storage)?;
    Ok(())
}

/// Opens the log and checks it is this node's, retrying briefly while a previous handle in
/// this process still holds the file.
pub(crate) async fn open_log(opts: &RaftOptions) -> Result<LogStore, RaftError> {
    let deadline = tokio::time::Instant::now() + LOG_OPEN_RETRY_MAX;
    loop {
        let path = opts.log_path.clone();
        let (node_id, durability, interval) =
            (opts.node_id, opts.durability, opts.relaxed_flush_interval);
        let opened = tokio::task::spawn_blocking(move || {
            let log = LogStore::open(&path, durability, interval)?;
            log.check_node_id(node_id)?;
            Ok::<_, io::Error>(log)
        })
        .await
        .map_err(|e| RaftError::Fatal(format!("open raft log task: {e}")))?;
        match opened {
            Err(e)
                if e.kind() == io::ErrorKind::ResourceBusy
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(LOG_OPEN_RETRY_EVERY).await;
            }
            other => return other.map_err(RaftError::Storage),
        }
    }
}

fn startup_report(
    raft: &RaftHandle,
    elapsed: Duration,
    applied_before: Option<u64>,
    newest_snapshot: Option<u64>,
) -> StartupReport {
    let m = raft.metrics().borrow_watched().clone();
    let applied_index = m.last_applied.map(|id| id.index);
    // openraft installs the newest snapshot first when the state file is behind it.
    let restored_snapshot_index = newest_snapshot.filter(|s| Some(*s) > applied_before);
    let base = restored_snapshot_index.or(applied_before);
    let replayed_entries = match (applied_index, base) {
        (Some(after), Some(base)) => after.saturating_sub(base),
        (Some(after), None) => after + 1,
        (None, _) => 0,
    };
    StartupReport {
        elapsed,
        replayed_entries,
        restored_snapshot_index,
        applied_index,
    }
}

/// The automatic snapshot triggers: by entries, by age and by log growth.
struct SnapshotTriggers {
    /// A snapshot after max(this, the last snapshot's size / [`SNAPSHOT_BYTES_PER_ENTRY`])
    /// entries applied since the last (zero: off).
    entries: u64,
    /// A snapshot when the last is this old and entries were applied since (zero: off).
    interval: Duration,
    /// A snapshot when the log grew by max(this, the last snapshot's size) (zero: off).
    log_bytes: u64,
    appended_bytes: Arc<AtomicU64>,
    snapshots: Arc<SnapshotDir>,
}

/// What the triggers remember between checks.
struct TriggerState {
    /// The newest snapshot's log id as last seen.
    snapshot: Option<LogId>,
    /// When it changed (or the task started, or a snapshot was last asked for).
    since: Instant,
    /// Log bytes appended by then.
    appended: u64,
    /// Size of the newest archive as of `snapshot`.
    last_size: u64,
    /// When a snapshot was asked for that has not shown yet.
    asked: Option<Instant>,
}

/// Why a snapshot is due (what the log line says).
#[derive(Debug, PartialEq, Eq)]
struct Due {
    by_entries: bool,
    by_age: bool,
    by_size: bool,
    entries_since: u64,
    log_bytes_since: u64,
}

impl SnapshotTriggers {
    async fn run(self, raft: RaftHandle) {
        let appended = || {
            self.appended_bytes
                .load(std::sync::atomic::Ordering::Relaxed)
        };
        let mut state = TriggerState {
            snapshot: raft.metrics().borrow_watched().snapshot,
            since: corvo_clock::monotonic(),
            appended: appended(),
            last_size: self.newest_size(),
            asked: None,
        };
        loop {
            tokio::time::sleep(SNAPSHOT_TRIGGER_CHECK_EVERY).await;
            let m = raft.metrics().borrow_watched().clone();
            if m.running_state.is_err() {
                return;
            }
            let now = corvo_clock::monotonic();
            let Some(due) = self.due(&mut state, now, (m.snapshot, m.last_applied), appended())
            else {
                continue;
            };
            tracing::info!(
                by_entries = due.by_entries,
                by_age = due.by_age,
                by_size = due.by_size,
                entries_since = due.entries_since,
                log_bytes_since = due.log_bytes_since,
                "building a snapshot"
            );
            if raft.trigger().snapshot().await.is_err() {
                return;
            }
            state.asked = Some(now);
            state.since = now;
            state.appended = appended();
        }
    }

    /// Whether to ask for a snapshot at `now`, given the newest snapshot and the last applied
    /// entry, and the log bytes appended so far; updates `state` with what changed. One build
    /// at a time: after asking, nothing more is due until the snapshot shows (the entry count
    /// would ask every second meanwhile), unless it never does within
    /// [`SNAPSHOT_CREATE_WAIT_MAX`].
    fn due(
        &self,
        state: &mut TriggerState,
        now: Instant,
        (snapshot, last_applied): (Option<LogId>, Option<LogId>),
        appended: u64,
    ) -> Option<Due> {
        if snapshot != state.snapshot {
            state.snapshot = snapshot;
            state.since = now;
            state.appended = appended;
            state.last_size = self.newest_size();
            state.asked = None;
            return None;
        }
        if state
            .asked
            .is_some_and(|at| now.saturating_duration_since(at) < SNAPSHOT_CREATE_WAIT_MAX)
        {
            return None;
        }
        let next = |id: Option<LogId>| id.map_or(0, |id| id.index + 1);
        let entries = next(last_applied).saturating_sub(next(snapshot));
        let grown = appended.saturating_sub(state.appended);
        let due = Due {
            by_entries: entries_due(self.entries, entries, state.last_size),
            by_age: !self.interval.is_zero()
                && now.saturating_duration_since(state.since) >= self.interval,
            by_size: self.log_bytes > 0 && grown >= self.log_bytes.max(state.last_size),
            entries_since: entries,
            log_bytes_since: grown,
        };
        (entries > 0 && (due.by_entries || due.by_age || due.by_size)).then_some(due)
    }

    /// Whether any trigger is on.
    fn any(&self) -> bool {
        self.entries > 0 || !self.interval.is_zero() || self.log_bytes > 0
    }

    fn newest_size(&self) -> u64 {
        self.snapshots
            .list()
            .ok()
            .and_then(|l| l.into_iter().next())
            .and_then(|e| std::fs::metadata(e.path).ok())
            .map_or(0, |m| m.len())
    }
}

/// The entry-count trigger: with `every` entries configured (0: off), `entries` applied since
/// the last snapshot, whose archive has `last_size` bytes.
fn entries_due(every: u64, entries: u64, last_size: u64) -> bool {
    every > 0 && entries >= every.max(last_size / SNAPSHOT_BYTES_PER_ENTRY)
}

fn fatal_error(e: Fatal<TypeConfig>) -> RaftError {
    match e {
        Fatal::Stopped => RaftError::ShuttingDown,
        other => RaftError::Fatal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_count_trigger_waits_longer_behind_a_larger_snapshot() {
        // A small state: the configured count.
        assert!(!entries_due(100_000, 99_999, 0));
        assert!(entries_due(100_000, 100_000, 0));
        assert!(entries_due(100_000, 100_000, 50 << 20));
        // A 1 GiB state: one entry per KiB of it, about a million.
        let gib = 1u64 << 30;
        assert!(!entries_due(100_000, 100_000, gib));
        assert!(!entries_due(
            100_000,
            gib / SNAPSHOT_BYTES_PER_ENTRY - 1,
            gib
        ));
        assert!(entries_due(100_000, gib / SNAPSHOT_BYTES_PER_ENTRY, gib));
        // Off.
        assert!(!entries_due(0, u64::MAX, 0));
    }

    fn triggers(
        dir: &std::path::Path,
        entries: u64,
        interval: Duration,
        log_bytes: u64,
    ) -> SnapshotTriggers {
        SnapshotTriggers {
            entries,
            interval,
            log_bytes,
            appended_bytes: Arc::default(),
            snapshots: Arc::new(SnapshotDir::open(dir).expect("snapshot dir")),
        }
    }

    fn fresh(now: Instant) -> TriggerState {
        TriggerState {
            snapshot: None,
            since: now,
            appended: 0,
            last_size: 0,
            asked: None,
        }
    }

    fn id(index: u64) -> Option<LogId> {
        Some(openraft::testing::log_id::<crate::types::TypeConfig>(
            1, 1, index,
        ))
    }

    #[test]
    fn a_trigger_asks_once_and_again_only_after_the_snapshot_showed_or_never_came() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = triggers(dir.path(), 10, Duration::ZERO, 0);
        let t0 = corvo_clock::monotonic();
        let mut state = fresh(t0);
        let sec = |n: u64| t0 + Duration::from_secs(n);
        assert_eq!(
            t.due(&mut state, sec(1), (None, id(8)), 0),
            None,
            "9 entries"
        );
        let due = t
            .due(&mut state, sec(2), (None, id(9)), 0)
            .expect("10 entries");
        assert!(due.by_entries && !due.by_age && !due.by_size);
        assert_eq!(due.entries_since, 10);
        state.asked = Some(sec(2));
        // While the build runs, more entries ask for nothing more...
        for n in 3..60 {
            assert_eq!(t.due(&mut state, sec(n), (None, id(9 + n)), 0), None);
        }
        // ...until it shows: then the count starts from it.
        assert_eq!(t.due(&mut state, sec(61), (id(9), id(70)), 0), None);
        assert_eq!(state.asked, None);
        assert_eq!(t.due(&mut state, sec(62), (id(9), id(18)), 0), None);
        assert!(t.due(&mut state, sec(63), (id(9), id(19)), 0).is_some());
        // A build that never shows is asked for again after the longest wait.
        state.asked = Some(sec(63));
        let later = sec(63) + SNAPSHOT_CREATE_WAIT_MAX;
        assert_eq!(
            t.due(
                &mut state,
                later - Duration::from_secs(1),
                (id(9), id(500)),
                0
            ),
            None
        );
        assert!(t.due(&mut state, later, (id(9), id(500)), 0).is_some());
    }

    #[test]
    fn the_age_and_size_triggers_need_entries_since_the_last_snapshot() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = triggers(dir.path(), 0, Duration::from_secs(60), 1_000);
        let t0 = corvo_clock::monotonic();
        let mut state = fresh(t0);
        state.snapshot = id(5);
        // Old enough, but nothing applied since the snapshot.
        let hour = t0 + Duration::from_secs(3600);
        assert_eq!(t.due(&mut state, hour, (id(5), id(5)), 5_000), None);
        let due = t.due(&mut state, hour, (id(5), id(6)), 5_000).expect("due");
        assert!(due.by_age && due.by_size && !due.by_entries);
        assert_eq!(due.log_bytes_since, 5_000);
        // The log grew by less than the bound, and the last snapshot is young.
        let mut state = fresh(t0);
        state.appended = 100;
        let due = t.due(
            &mut state,
            t0 + Duration::from_secs(1),
            (None, id(3)),
            1_099,
        );
        assert_eq!(due, None);
        let due = t.due(
            &mut state,
            t0 + Duration::from_secs(2),
            (None, id(3)),
            1_100,
        );
        assert!(due.expect("grown by 1 000").by_size);
    }
}
