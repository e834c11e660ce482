//! The state machine adapter: openraft's `RaftStateMachine` over an [`AppStateMachine`].
//!
//! The application state (jobs, queues, ...) lives elsewhere, in its own redb file, and
//! stores an opaque `raft_meta` (last applied log id, last membership) in the same
//! transaction as each apply. That store may commit non-durably: after a crash it rolls back
//! to its last durable commit, `applied_state()` reports the older log id, and openraft
//! re-applies the durable log from there up to the saved `committed` index.
//!
//! Snapshots are archive files ([`crate::snapshot`]) whose content the application writes,
//! checks and installs. A snapshot is started on the state machine's task (so it holds
//! exactly the applied state, made durable first) and written in the background. The log is
//! purged only behind a snapshot that is on disk and fsynced, so whatever the state file lost
//! in a crash is covered by the newest snapshot plus the log after it; at start-up openraft
//! installs the snapshot when it is ahead of the state. The newest archive is checked to its
//! last byte at start-up: a damaged one stops the node with an error naming the file.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use corvo_core::{Batch, BatchOutcome};
use futures::{Stream, StreamExt};
use openraft::EntryPayload;
use openraft::alias::{SnapshotMetaOf, SnapshotOf};
use openraft::entry::RaftEntry;
use openraft::storage::SnapshotMeta;
use openraft::storage::{ApplyResponder, EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use serde::{Deserialize, Serialize};

use crate::log_store::{decode, encode};
use crate::snapshot::{SnapshotDir, SnapshotFile};
use crate::types::{EntryOutcome, LogId, StoredMembership, TypeConfig};

type Snapshot = SnapshotOf<TypeConfig, SnapshotFile>;

/// The replicated state the log is applied to (implemented elsewhere over redb).
pub trait AppStateMachine: Send + Sync + 'static {
    /// Opaque Raft metadata (last applied log id + last membership, encoded by this crate)
    /// that was stored atomically with the state by the last `apply`; `None` for a fresh state.
    fn raft_meta(&self) -> io::Result<Option<Vec<u8>>>;

    /// Applies committed entries in log order in ONE storage transaction, storing `raft_meta`
    /// in the same transaction. A `None` payload is a blank or membership entry (it only
    /// advances the index). Returns one outcome per entry (`None` for non-app entries).
    /// Synchronous and possibly slow (disk): this crate calls it on tokio's blocking pool,
    /// unless [`AppStateMachine::apply_is_quick`] said it would be quick (`quick`): then it
    /// runs on an async worker and must not fsync or wait.
    fn apply(
        &self,
        entries: Vec<(u64, Option<Arc<Batch>>)>,
        raft_meta: Vec<u8>,
        quick: bool,
    ) -> io::Result<Vec<Option<BatchOutcome>>>;

    /// Whether applying a run of `commands` commands now can be quick: no fsync, nothing to
    /// wait for, tens of microseconds. The adapter then calls `apply(.., quick: true)` on its
    /// own task instead of handing the run to tokio's blocking pool, which costs two thread
    /// switches (most of a small entry's apply). `false`, the default, always uses the pool.
    fn apply_is_quick(&self, commands: usize) -> bool {
        let _ = commands;
        false
    }

    /// Starts a snapshot of the state as applied so far (made durable first) and returns a
    /// writer of exactly that state; applies may go on while it writes. Called on the state
    /// machine's task, so it must be quick apart from the flush.
    fn begin_snapshot(&self) -> io::Result<Box<dyn SnapshotWriter>>;

    /// Checks an archive completely (structure and checksum) and returns the Raft metadata
    /// stored in it. The error names the file.
    fn verify_snapshot(&self, path: &Path) -> io::Result<Vec<u8>>;

    /// An archive's Raft metadata and creation time (Unix ms) from its header, without
    /// checking the rest (cheap: for listings).
    fn snapshot_header(&self, path: &Path) -> io::Result<(Vec<u8>, u64)>;

    /// Replaces the whole state with the archive at `path`, in one durable transaction that
    /// commits only if the archive checks out to its last byte. Stores `raft_meta` instead of
    /// the archive's when given (a restore that rewrites the membership).
    fn install_snapshot(&self, path: &Path, raft_meta: Option<&[u8]>) -> io::Result<()>;

    /// The newest archive layout this node reads (and the one it writes). Every answer to a
    /// peer names it, so that a leader sends each peer archives in a layout it reads.
    fn archive_version(&self) -> u32 {
        1
    }

    /// The layout version of the archive at `path`, from its header.
    fn snapshot_version(&self, path: &Path) -> io::Result<u32> {
        let _ = path;
        Ok(1)
    }

    /// Writes the archive at `src` to `dst` (a new file) in a layout a node reading at most
    /// `version` reads, checking `src` to its last byte on the way (a damaged archive is not
    /// passed on with a fresh checksum). Called only when `src` is of a newer layout.
    fn downgrade_snapshot(&self, src: &Path, version: u32, dst: &Path) -> io::Result<()> {
        let _ = (src, dst);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("no archive layout {version} to write"),
        ))
    }
}

/// Writes one snapshot archive of the state captured by [`AppStateMachine::begin_snapshot`].
pub trait SnapshotWriter: Send {
    /// The Raft metadata stored with the captured state (`None` before the first apply).
    fn raft_meta(&self) -> Option<Vec<u8>>;

    /// Writes the archive to `path` (a new file), stamped `created_unix_ms`, and fsyncs it.
    fn write(self: Box<Self>, path: &Path, created_unix_ms: u64) -> io::Result<()>;
}

/// Told about every applied app entry, on every node, in log order (entries re-applied after
/// a restart included). Must not block: it runs on the apply path.
pub trait ApplyListener: Send + Sync + 'static {
    fn on_applied(&self, index: u64, outcome: &BatchOutcome);

    /// The whole state was replaced by a snapshot ending at `index` (a lagging node caught up
    /// by snapshot): anything derived from earlier applies must be rebuilt from the state.
    fn on_snapshot_installed(&self, index: u64) {
        let _ = index;
    }
}

/// What `raft_meta` holds. Encoded with a format byte like the log (see `log_store`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct RaftMeta {
    pub(crate) last_applied: Option<LogId>,
    pub(crate) last_membership: StoredMembership,
    /// The largest `Batch::now_ms` applied: the proposer's clock floor, across restarts and
    /// leader changes.
    pub(crate) last_now_ms: u64,
}

/// The last applied log index recorded in a `raft_meta` blob (what the application stores
/// with its state); `None` before the first apply.
pub fn applied_index(raft_meta: &[u8]) -> io::Result<Option<u64>> {
    Ok(RaftMeta::decode(raft_meta, &"state machine raft_meta")?
        .last_applied
        .map(|id| id.index))
}

impl RaftMeta {
    pub(crate) fn decode(bytes: &[u8], what: &dyn std::fmt::Display) -> io::Result<RaftMeta> {
        decode(bytes, what)
    }

    pub(crate) fn encode(&self) -> io::Result<Vec<u8>> {
        encode(self, &"state machine raft_meta")
    }
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
    snapshots: Arc<SnapshotDir>,
    /// The newest archive is checked completely once, on the first look (at start-up): before
    /// the start goes on when the state needs it, in the background when it does not.
    newest_checked: bool,
}

impl StateMachineStore {
    pub fn new(
        app: Arc<dyn AppStateMachine>,
        listener: Arc<dyn ApplyListener>,
        applied_now_ms: Arc<AtomicU64>,
        apply_entries_max: usize,
        snapshots: Arc<SnapshotDir>,
    ) -> Self {
        Self {
            app,
            listener,
            applied_now_ms,
            meta: None,
            apply_entries_max: apply_entries_max.max(1),
            snapshots,
            newest_checked: false,
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
        let count = entries.len();
        let commands = entries
            .iter()
            .filter_map(|(_, b)| b.as_ref())
            .map(|b| b.commands.len())
            .sum();
        let outcomes = if self.app.apply_is_quick(commands) {
            self.app.apply(entries, encoded, true)?
        } else {
            let app = self.app.clone();
            blocking("state machine apply", move || {
                app.apply(entries, encoded, false)
            })
            .await?
        };
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
    type SnapshotData = SnapshotFile;
    type SnapshotBuilder = SnapshotBuilder;

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
        // Captured here, between applies: the snapshot is exactly the state applied so far.
        let app = self.app.clone();
        let writer = blocking("snapshot start", move || app.begin_snapshot()).await;
        SnapshotBuilder {
            writer: std::sync::Mutex::new(Some(writer)),
            snapshots: self.snapshots.clone(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMetaOf<TypeConfig>,
        snapshot: SnapshotFile,
    ) -> io::Result<()> {
        let Some(log_id) = meta.last_log_id else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a snapshot without a last log id cannot be installed",
            ));
        };
        let app = self.app.clone();
        let dir = self.snapshots.clone();
        let path = snapshot.path;
        let started = corvo_clock::monotonic();
        blocking("snapshot install", move || {
            app.install_snapshot(&path, None)?;
            // Received archives arrive under a temporary name; the one being restored at
            // start-up is already in place.
            if path != dir.final_path(&log_id) {
                dir.commit(&path, &log_id)?;
            }
            Ok(())
        })
        .await?;
        // The state (and the metadata stored with it) changed under us: reload it.
        self.meta = None;
        let reloaded = self.load_meta()?;
        if reloaded.last_applied != Some(log_id) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "installed snapshot for {log_id} but the state reports {:?}",
                    reloaded.last_applied
                ),
            ));
        }
        tracing::info!(
            index = log_id.index,
            term = log_id.leader_id.term,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "installed a snapshot"
        );
        self.listener.on_snapshot_installed(log_id.index);
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> io::Result<Option<Snapshot>> {
        let Some(newest) = self.snapshots.list()?.into_iter().next() else {
            self.newest_checked = true;
            return Ok(None);
        };
        let app = self.app.clone();
        let path = newest.path.clone();
        let header = blocking("snapshot read", move || app.snapshot_header(&path))
            .await
            .map_err(|e| self.damaged(e))?;
        let meta = RaftMeta::decode(&header.0, &format!("snapshot {}", newest.path.display()))?;
        if !self.newest_checked {
            // The first look, at start-up: the archive is checked to its last byte once.
            self.newest_checked = true;
            if self.load_meta()?.last_applied >= meta.last_applied {
                // The state is at or past the archive and does not need it to recover: the
                // check runs in the background instead of delaying the start (it reads the
                // whole file, 0.6 s for 1 GB). A damaged archive is reported, not fatal.
                let app = self.app.clone();
                let path = newest.path.clone();
                drop(tokio::task::spawn_blocking(move || {
                    // Retention may replace it meanwhile (a newer snapshot was built): nothing
                    // to report about a file that is gone.
                    if let Err(e) = app.verify_snapshot(&path)
                        && path.exists()
                    {
                        tracing::error!(
                            snapshot = %path.display(),
                            "{e}. The state does not need this archive (it is newer), so the node goes on; it cannot serve as a backup or catch up a follower: the next snapshot replaces it, and an older backup should be kept until then"
                        );
                    }
                }));
            } else {
                let app = self.app.clone();
                let path = newest.path.clone();
                blocking("snapshot read", move || app.verify_snapshot(&path))
                    .await
                    .map_err(|e| self.damaged(e))?;
            }
        }
        Ok(Some(Snapshot {
            meta: SnapshotMeta {
                last_log_id: meta.last_applied,
                last_membership: meta.last_membership,
            },
            snapshot: SnapshotFile { path: newest.path },
        }))
    }
}

impl StateMachineStore {
    /// The error for a newest archive that does not read, naming what to do.
    fn damaged(&self, e: io::Error) -> io::Error {
        io::Error::new(
            e.kind(),
            format!(
                "{e}. The node will not serve from a damaged snapshot: move the file out of {} to start from the older snapshot and the log, or restore the node from a backup",
                self.snapshots.path().display()
            ),
        )
    }
}

/// Writes the snapshot captured by `get_snapshot_builder` (in openraft's background task).
pub struct SnapshotBuilder {
    /// Taken by the one `build_snapshot` call (a mutex only because openraft wants `Sync`).
    writer: std::sync::Mutex<Option<io::Result<Box<dyn SnapshotWriter>>>>,
    snapshots: Arc<SnapshotDir>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = SnapshotFile;

    async fn build_snapshot(&mut self) -> io::Result<Snapshot> {
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_else(|| Err(io::Error::other("snapshot builder used twice")))?;
        let meta_bytes = writer.raft_meta().ok_or_else(|| {
            io::Error::other("cannot snapshot a state machine that has applied nothing")
        })?;
        let meta = RaftMeta::decode(&meta_bytes, &"state machine raft_meta")?;
        let log_id = meta
            .last_applied
            .ok_or_else(|| io::Error::other("cannot snapshot: no applied log id"))?;
        let dir = self.snapshots.clone();
        let started = corvo_clock::monotonic();
        let path = blocking("snapshot build", move || {
            let temp = dir.temp_path("build");
            let written = writer.write(&temp, unix_ms());
            if let Err(e) = written {
                let _ = std::fs::remove_file(&temp);
                return Err(e);
            }
            dir.commit(&temp, &log_id)
        })
        .await?;
        tracing::info!(
            index = log_id.index,
            term = log_id.leader_id.term,
            file = %path.display(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "built a snapshot"
        );
        Ok(Snapshot {
            meta: SnapshotMeta {
                last_log_id: Some(log_id),
                last_membership: meta.last_membership,
            },
            snapshot: SnapshotFile { path },
        })
    }
}

/// Runs `f` on tokio's blocking pool (disk work) and waits for it; a task that panicked or
/// was cancelled is an error naming `what`.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| io::Error::other(format!("{what} task failed: {e}")))?
}

pub(crate) fn unix_ms() -> u64 {
    corvo_clock::wall_ms()
}
