//! The node's adapters between its crates: the state machine Raft applies to (the redb state,
//! timed, feeding the read view), the snapshot archive writer, the listener that tells the
//! node what applies changed (signals, API keys, the read view), and the view's job source.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use corvo_api::keyring::KeyRing;
use corvo_api::{CheckpointTrigger, Metrics, Signals};
use corvo_core::{Batch, BatchOutcome, query};
use corvo_raft::{AppStateMachine, ApplyListener, SnapshotWriter};
use corvo_store::{StateStore, archive};
use corvo_view::{JobSource, View};
use tracing::error;

/// The most commands a run may hold to be applied on an async worker (see
/// `AppStateMachine::apply_is_quick`): a unary call's entry, or a few gathered; larger runs
/// take long enough to belong on the blocking pool.
pub const QUICK_APPLY_COMMANDS_MAX: usize = 16;

/// Applies committed entries to the redb state (the adapter between the two crates), timing
/// each run for `corvo_raft_apply_seconds` and the batch sizes.
pub struct StoreMachine(pub Arc<StateStore>, pub Arc<Metrics>, pub Arc<View>);

impl AppStateMachine for StoreMachine {
    fn raft_meta(&self) -> std::io::Result<Option<Vec<u8>>> {
        self.0.raft_meta().map_err(std::io::Error::other)
    }

    fn apply(
        &self,
        entries: Vec<(u64, Option<Arc<Batch>>)>,
        raft_meta: Vec<u8>,
        quick: bool,
    ) -> std::io::Result<Vec<Option<BatchOutcome>>> {
        let started = corvo_clock::monotonic();
        // Commit latency: from the leader's stamp on each entry to its apply starting here.
        let now_ms = corvo_clock::wall_ms();
        for (_, batch) in &entries {
            if let Some(b) = batch {
                self.1
                    .observe_commit(Duration::from_millis(now_ms.saturating_sub(b.now_ms)));
            }
        }
        // One `corvo.apply` span per traced enqueue, child of the producer's context and as
        // long as this apply call: links the apply into each producer's trace.
        let spans = apply_spans(&entries);
        let applied = self
            .0
            .apply_tracked(&entries, &raft_meta, !quick)
            .map_err(std::io::Error::other)?;
        drop(spans);
        // The read view follows every applied entry (it waits here if it falls too far behind).
        if let Some((last, _)) = entries.last() {
            self.2.changed(*last, applied.touched);
        }
        if let Some(took) = applied.checkpoint {
            self.1.observe_checkpoint(CheckpointTrigger::Apply, took);
        }
        self.1.observe_apply(started.elapsed(), &applied.outcomes);
        Ok(applied.outcomes)
    }

    /// Quick: a small run (up to [`QUICK_APPLY_COMMANDS_MAX`] commands), no checkpoint due and
    /// room in the read view's queue.
    fn apply_is_quick(&self, commands: usize) -> bool {
        commands <= QUICK_APPLY_COMMANDS_MAX && !self.0.checkpoint_due() && self.2.has_room()
    }

    fn begin_snapshot(&self) -> std::io::Result<Box<dyn SnapshotWriter>> {
        let export = self.0.begin_export().map_err(std::io::Error::other)?;
        Ok(Box::new(ArchiveExport(export)))
    }

    fn verify_snapshot(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        archive::verify(path)
            .map(|info| info.raft_meta)
            .map_err(archive_io)
    }

    fn snapshot_header(&self, path: &Path) -> std::io::Result<(Vec<u8>, u64)> {
        archive::header(path)
            .map(|info| (info.raft_meta, info.created_unix_ms))
            .map_err(archive_io)
    }

    fn archive_version(&self) -> u32 {
        archive::VERSION
    }

    fn snapshot_version(&self, path: &Path) -> std::io::Result<u32> {
        archive::header(path)
            .map(|info| info.version)
            .map_err(archive_io)
    }

    fn downgrade_snapshot(&self, src: &Path, version: u32, dst: &Path) -> std::io::Result<()> {
        if version < archive::VERSION_MIN {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                format!(
                    "archive layout {version} is older than any this release writes ({})",
                    archive::VERSION_MIN
                ),
            ));
        }
        archive::downgrade(src, dst).map(|_| ()).map_err(archive_io)
    }

    fn install_snapshot(&self, path: &Path, raft_meta: Option<&[u8]>) -> std::io::Result<()> {
        self.0
            .install_archive(path, raft_meta)
            .map(|_| ())
            .map_err(archive_io)
    }
}

fn archive_io(e: archive::ArchiveError) -> std::io::Error {
    let kind = match &e {
        archive::ArchiveError::Corrupt { .. } => std::io::ErrorKind::InvalidData,
        _ => std::io::ErrorKind::Other,
    };
    std::io::Error::new(kind, e.to_string())
}

/// A writer of one snapshot archive (the state captured by `begin_snapshot`).
struct ArchiveExport(corvo_store::Export);

impl SnapshotWriter for ArchiveExport {
    fn raft_meta(&self) -> Option<Vec<u8>> {
        self.0.raft_meta().map(<[u8]>::to_vec)
    }

    /// Writes on a thread of its own at a lower priority ([`SNAPSHOT_NICE`]): on a busy node
    /// the threads serving calls and applying entries go first.
    fn write(self: Box<Self>, path: &Path, created_unix_ms: u64) -> std::io::Result<()> {
        let path = path.to_path_buf();
        let export = self.0;
        in_background("corvo-snapshot", SNAPSHOT_NICE, move || {
            export.write(&path, created_unix_ms)
        })?
        .map(|_| ())
        .map_err(std::io::Error::other)
    }
}

/// Runs `f` on a new thread named `name` whose priority is lowered to `nice`, and waits for
/// it (an unprivileged thread can lower its own priority but never raise it back: a pooled
/// thread must not be lowered).
fn in_background<T: Send + 'static>(
    name: &str,
    nice: libc::c_int,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<T> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            lower_priority(nice);
            f()
        })?
        .join()
        .map_err(|_| std::io::Error::other(format!("thread {name} panicked")))
}

/// The nice value of the thread writing a snapshot archive: background work, like the read
/// view's projector. A snapshot of a large state takes seconds of CPU; at normal priority,
/// on a node whose cores were busy, it took them from the calls (docs/performance.md,
/// "Snapshots at a lower priority").
pub const SNAPSHOT_NICE: libc::c_int = 10;

/// Lowers the calling thread's priority to `nice` (best effort).
fn lower_priority(nice: libc::c_int) {
    // SAFETY: gettid and setpriority take no pointers; they only affect this thread.
    let failed = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, nice) != 0
    };
    if failed {
        tracing::debug!(nice, "could not lower a background thread's priority");
    }
}

/// What applies tell the node ([`Signals`]), and the API keys it checks calls against (reloaded
/// when an apply changed a key); after a snapshot replaced the state, the signals start again
/// from what the new state holds, the keys are reloaded and the read view is rebuilt.
pub struct NodeListener {
    pub signals: Signals,
    pub store: Arc<StateStore>,
    pub view: Arc<View>,
    pub keys: Arc<KeyRing>,
}

impl NodeListener {
    fn reload_keys(&self) {
        match self
            .store
            .read()
            .map_err(anyhow::Error::from)
            .and_then(|r| Ok(query::api_keys(&r)?))
        {
            Ok(keys) => self.keys.reload(keys),
            // Keys stay as they were: a node that cannot read its state fails readiness too.
            Err(e) => error!(error = %e, "reloading the API keys"),
        }
    }
}

/// The read view reads job records from the redb state.
struct StateJobs(Arc<StateStore>);

impl JobSource for StateJobs {
    fn jobs(&self, ids: &[String]) -> Result<Vec<Option<corvo_core::model::Job>>, String> {
        let reader = self.0.read().map_err(|e| e.to_string())?;
        ids.iter()
            .map(|id| query::job(&reader, id).map_err(|e| e.to_string()))
            .collect()
    }

    fn for_each_job(
        &self,
        f: &mut dyn FnMut(corvo_core::model::Job) -> Result<(), String>,
    ) -> Result<(), String> {
        let reader = self.0.read().map_err(|e| e.to_string())?;
        reader
            .for_each_job(&mut |key, value| {
                let job = corvo_core::keys::decode_job(key, value)?;
                f(job).map_err(corvo_core::StoreError::Io)
            })
            .map_err(|e| e.to_string())
    }
}

impl ApplyListener for NodeListener {
    fn on_applied(&self, index: u64, outcome: &BatchOutcome) {
        self.signals.on_applied(index, outcome);
        if outcome.effects.contains(&corvo_core::Effect::KeysChanged) {
            self.reload_keys();
        }
    }

    fn on_snapshot_installed(&self, index: u64) {
        match self
            .store
            .read()
            .map_err(anyhow::Error::from)
            .and_then(|r| Ok((last_event_seq(&r)?, query::next_due(&r)?)))
        {
            Ok((seq, due)) => self.signals.reset(index, seq, due),
            Err(e) => error!(error = %e, "reading the state after a snapshot install"),
        }
        self.reload_keys();
        self.view.rebuild(index);
    }
}

fn apply_spans(entries: &[(u64, Option<Arc<Batch>>)]) -> Vec<tracing::Span> {
    if !corvo_api::trace_context::enabled() {
        return Vec::new();
    }
    let mut spans = Vec::new();
    for (index, batch) in entries {
        let Some(batch) = batch else { continue };
        for cmd in &batch.commands {
            if let Some(e) = cmd.enqueue()
                && let Some(parent) = &e.options.trace_parent
            {
                let span = tracing::info_span!(
                    "corvo.apply",
                    log_index = index,
                    commands = batch.commands.len(),
                    job_id = %e.id,
                    queue = %e.queue,
                );
                corvo_api::trace_context::set_parent_traceparent(&span, parent);
                spans.push(span);
            }
        }
    }
    spans
}

/// Opens the read view (`<data-dir>/view.sqlite`), rebuilding it from the state when it is
/// behind (or new). A `--restore` that runs after this feeds it through the snapshot install.
pub async fn open_view(data_dir: &Path, store: &Arc<StateStore>) -> anyhow::Result<Arc<View>> {
    let state_index = match store.raft_meta()? {
        Some(meta) => {
            corvo_raft::applied_index(&meta).context("reading the state's applied index")?
        }
        None => None,
    };
    let path = data_dir.join("view.sqlite");
    let source = Arc::new(StateJobs(store.clone()));
    let view = tokio::task::spawn_blocking(move || View::open(&path, source, state_index))
        .await
        .context("opening the read view")??;
    Ok(Arc::new(view))
}

/// The newest event id in the state (0 before the first).
pub fn last_event_seq(reader: &corvo_store::StateReader) -> Result<u64, corvo_core::StoreError> {
    use corvo_core::StateRead;
    use corvo_core::keys::{Table, decode_u64, meta};
    match reader.get(Table::Meta, meta::EVENT_SEQ)? {
        Some(b) => decode_u64(Table::Meta, meta::EVENT_SEQ, &b),
        None => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Snapshot archives are written on a thread of their own, below the priority of the
    /// threads serving calls; the caller's thread keeps its priority.
    #[test]
    fn background_work_runs_on_its_own_thread_at_a_lower_priority() {
        // SAFETY: gettid and getpriority take no pointers and read this thread's priority.
        let nice_here = || unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::getpriority(libc::PRIO_PROCESS, tid)
        };
        let before = nice_here();
        let (name, nice) = in_background("corvo-snapshot", SNAPSHOT_NICE, move || {
            (
                std::thread::current().name().map(str::to_owned),
                nice_here(),
            )
        })
        .unwrap();
        assert_eq!(name.as_deref(), Some("corvo-snapshot"));
        assert!(
            nice >= SNAPSHOT_NICE.max(before),
            "nice {nice}, wanted at least {SNAPSHOT_NICE}"
        );
        assert_eq!(nice_here(), before, "the caller's priority is unchanged");
    }
}
