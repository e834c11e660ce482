//! The state machine adapter: openraft's `RaftStateMachine` over an [`AppStateMachine`].
//!
//! The application state (jobs, queues, ...) lives elsewhere, in its own redb file, and
//! stores an opaque `raft_meta` (last applied log id, last membership) in the same
//! transaction as each apply. That store may commit non-durably: after a crash it rolls back
//! to its last durable commit, `applied_state()` reports the older log id, and openraft
//! re-applies the durable log from there up to the saved `committed` index. This is why the
//! log is never purged while snapshots do not exist.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use corvo_core::{Batch, BatchOutcome};
use futures::{Stream, StreamExt};
use openraft::EntryPayload;
use openraft::alias::{SnapshotMetaOf, SnapshotOf};
use openraft::entry::RaftEntry;
use openraft::storage::{ApplyResponder, EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use serde::{Deserialize, Serialize};

use crate::log_store::{decode, encode};
use crate::types::{EntryOutcome, LogId, StoredMembership, TypeConfig};

/// The replicated state the log is applied to (implemented elsewhere over redb).
pub trait AppStateMachine: Send + Sync + 'static {
    /// Opaque Raft metadata (last applied log id + last membership, encoded by this crate)
    /// that was stored atomically with the state by the last `apply`; `None` for a fresh state.
    fn raft_meta(&self) -> io::Result<Option<Vec<u8>>>;

    /// Applies committed entries in log order in ONE storage transaction, storing `raft_meta`
    /// in the same transaction. A `None` payload is a blank or membership entry (it only
    /// advances the index). Returns one outcome per entry (`None` for non-app entries).
    /// Synchronous and possibly slow (disk): this crate calls it on tokio's blocking pool.
    fn apply(
        &self,
        entries: Vec<(u64, Option<Batch>)>,
        raft_meta: Vec<u8>,
    ) -> io::Result<Vec<Option<BatchOutcome>>>;
}

/// Told about every applied app entry, on every node, in log order (entries re-applied after
/// a restart included). Must not block: it runs on the apply path.
pub trait ApplyListener: Send + Sync + 'static {
    fn on_applied(&self, index: u64, outcome: &BatchOutcome);
}

/// What `raft_meta` holds. Encoded with a format byte like the log (see `log_store`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct RaftMeta {
    last_applied: Option<LogId>,
    last_membership: StoredMembership,
    /// The largest `Batch::now_ms` applied: the proposer's clock floor, across restarts and
    /// leader changes.
    last_now_ms: u64,
}

/// openraft's state machine, over an [`AppStateMachine`].
pub struct StateMachineStore {
    app: Arc<dyn AppStateMachine>,
    listener: Arc<dyn ApplyListener>,
    /// Shared with the proposer: it never stamps a batch below this.
    applied_now_ms: Arc<AtomicU64>,
    /// Loaded from `app.raft_meta()` on first use, then kept in step with every apply.
    meta: Option<RaftMeta>,
    apply_entries_max: usize,
}

impl StateMachineStore {
    pub fn new(
        app: Arc<dyn AppStateMachine>,
        listener: Arc<dyn ApplyListener>,
        applied_now_ms: Arc<AtomicU64>,
        apply_entries_max: usize,
    ) -> Self {
        Self {
            app,
            listener,
            applied_now_ms,
            meta: None,
            apply_entries_max: apply_entries_max.max(1),
        }
    }

    fn load_meta(&mut self) -> io::Result<RaftMeta> {
        if let Some(meta) = &self.meta {
            return Ok(meta.clone());
        }
        let meta = match self.app.raft_meta()? {
            Some(bytes) => decode(&bytes, &"state machine raft_meta")?,
            None => RaftMeta::default(),
        };
        self.applied_now_ms
            .fetch_max(meta.last_now_ms, Ordering::Relaxed);
        self.meta = Some(meta.clone());
        Ok(meta)
    }

    /// Applies one run of entries in one `AppStateMachine::apply` call, then answers.
    async fn apply_run(&mut self, run: Vec<EntryResponder<TypeConfig>>) -> io::Result<()> {
        let mut meta = self.load_meta()?;
        let mut entries = Vec::with_capacity(run.len());
        let mut responders = Vec::with_capacity(run.len());
        for (entry, responder) in run {
            let log_id = entry.log_id();
            let batch = match entry.payload {
                EntryPayload::Blank => None,
                EntryPayload::Normal(data) => {
                    meta.last_now_ms = meta.last_now_ms.max(data.0.now_ms);
                    Some(data.0)
                }
                EntryPayload::Membership(membership) => {
                    meta.last_membership = StoredMembership::new(Some(log_id), membership);
                    None
                }
            };
            entries.push((log_id.index(), batch));
            responders.push((log_id.index(), responder));
            meta.last_applied = Some(log_id);
        }
        let encoded = encode(&meta, &"state machine raft_meta")?;
        let app = self.app.clone();
        let count = entries.len();
        let outcomes = tokio::task::spawn_blocking(move || app.apply(entries, encoded))
            .await
            .map_err(|e| io::Error::other(format!("state machine apply task failed: {e}")))??;
        if outcomes.len() != count {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "state machine returned {} outcomes for {count} entries",
                    outcomes.len()
                ),
            ));
        }
        self.applied_now_ms
            .fetch_max(meta.last_now_ms, Ordering::Relaxed);
        self.meta = Some(meta);
        for ((index, responder), outcome) in responders.into_iter().zip(outcomes) {
            if let Some(outcome) = &outcome {
                self.listener.on_applied(index, outcome);
            }
            if let Some(responder) = responder {
                ApplyResponder::send(responder, EntryOutcome(outcome));
            }
        }
        Ok(())
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    // TODO(issue 3): a real snapshot type (a checksummed archive of the state file).
    type SnapshotData = Vec<u8>;
    type SnapshotBuilder = NoSnapshots;

    async fn applied_state(&mut self) -> io::Result<(Option<LogId>, StoredMembership)> {
        let meta = self.load_meta()?;
        Ok((meta.last_applied, meta.last_membership))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> io::Result<()>
    where
        Strm: Stream<Item = io::Result<EntryResponder<TypeConfig>>> + Unpin + Send,
    {
        // openraft hands over one committed range and expects all of it consumed; it goes to
        // the application in runs of at most `apply_entries_max` entries per transaction.
        let mut run = Vec::new();
        while let Some(item) = entries.next().await {
            run.push(item?);
            if run.len() >= self.apply_entries_max {
                self.apply_run(std::mem::take(&mut run)).await?;
            }
        }
        if !run.is_empty() {
            self.apply_run(run).await?;
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        NoSnapshots
    }

    async fn install_snapshot(
        &mut self,
        _meta: &SnapshotMetaOf<TypeConfig>,
        _snapshot: Vec<u8>,
    ) -> io::Result<()> {
        // TODO(issue 3): install a snapshot received from the leader.
        Err(not_implemented())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> io::Result<Option<SnapshotOf<TypeConfig, Vec<u8>>>> {
        // TODO(issue 3): return the last built or installed snapshot.
        Ok(None)
    }
}

/// The snapshot builder until snapshots exist: building one is an error. The snapshot policy
/// is `Never` and the log is never purged, so openraft only asks for one when a follower
/// needs a snapshot, which a one-voter cluster never does.
pub struct NoSnapshots;

impl RaftSnapshotBuilder<TypeConfig> for NoSnapshots {
    type SnapshotData = Vec<u8>;

    async fn build_snapshot(&mut self) -> io::Result<SnapshotOf<TypeConfig, Vec<u8>>> {
        // TODO(issue 3): build a snapshot from a read transaction of the state file.
        Err(not_implemented())
    }
}

fn not_implemented() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, "snapshots not implemented yet")
}
