//! The Raft log's writer thread: one write and at most one fsync per round of writes.
//!
//! Every write to the log (`append`, `truncate_after`, `purge`, `save_vote`,
//! `save_committed`) is sent here as a [`Write`]. The thread takes every write queued so far,
//! applies them in order (entries to the segments, metadata into ONE redb transaction),
//! makes the round durable if it must, then completes them all:
//!
//! ```text
//!  LogStore ──Write──▶ channel ──▶ writer thread: take all queued ─▶ segments: one pwrite
//!                                                                   meta: one redb txn
//!                                                                     │ (fsync if any write
//!                                                                     ▼  needs it)
//!                                            callbacks / replies ◀── round done
//! ```
//!
//! A round is durable (segments fdatasync'd, redb commits `Immediate`) when it holds an
//! append under `Durability::Fsync` or a vote; otherwise it is written without an fsync and
//! the next durable round carries it. While one round is written, new writes queue up and
//! share the next one, so the log costs one `pwrite` and at most one fsync per round: at one
//! client, one per entry (ADR 0028, ADR 0033).
//!
//! The committed index is lazy: it is left in a slot ([`Writer::save_lazy`]) that the thread
//! takes at its next round, or on its own once the log has been idle for the flush interval.
//! Leaving it wakes the thread only when it waits with nothing to flush, so an entry costs
//! the thread one wake-up, not two. Under `Durability::Relaxed` an append completes
//! at once; its round is written without an fsync and a durable round follows within the
//! interval. Metadata is only ever made durable after the entries before it (a durable redb
//! commit fsyncs the segments first), so a `committed` that survives a crash never points
//! past the entries that did. After a write fails, nothing more is written and every later
//! write fails with the first error: a lazy `committed` saved after a failed append would
//! otherwise point past the entries the file has. The thread exits once the log store (the
//! only sender) is dropped, after a last durable round.
//!
//! A dedicated thread rather than a tokio task: writes and fsyncs block for milliseconds.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openraft::storage::IOFlushed;
use redb::Database;
use tokio::sync::oneshot;

use crate::log_store::{KEY_LAST_PURGED, META, RecentEntries};
use crate::options::Durability;
use crate::segments::Segments;
use crate::types::TypeConfig;

/// Where a write's outcome goes once its round is committed.
pub(crate) type Done = oneshot::Sender<io::Result<()>>;

/// One write to the log, applied in the order sent.
pub(crate) enum Write {
    /// Encoded entries by index; `seq` is the [`RecentEntries`] sequence number of the last
    /// one. `done` is completed once they are durable (`None` under `Relaxed`, where the
    /// store completes appends at once).
    Append {
        entries: Vec<(u64, Vec<u8>)>,
        seq: u64,
        done: Option<IOFlushed<TypeConfig>>,
    },
    /// Removes the entries with index >= `from`.
    TruncateFrom { from: u64, done: Done },
    /// Removes the entries with index <= `upto` and stores `last_purged` (encoded) with them.
    Purge {
        upto: u64,
        last_purged: Vec<u8>,
        done: Done,
    },
    /// Stores (or removes, `None`) one metadata value durably: the round fsyncs before
    /// `done`.
    Meta {
        key: &'static str,
        value: Option<Vec<u8>>,
        done: Done,
    },
    /// Completed once everything sent before it is in the file.
    Barrier(Done),
    /// Wakes a thread that waits with nothing to flush: a lazy value is in the slot.
    Wake,
}

impl Write {
    /// Bytes of the entries this write carries (appends only).
    fn entry_bytes(&self) -> usize {
        match self {
            Write::Append { entries, .. } => entries.iter().map(|(_, b)| b.len()).sum(),
            _ => 0,
        }
    }
}

/// Lazy metadata values waiting for the writer's next round, newest per key.
#[derive(Default)]
struct LazySlot {
    values: Mutex<std::collections::BTreeMap<&'static str, Option<Vec<u8>>>>,
    /// The thread waits with no deadline: a value left in the slot must wake it.
    idle: AtomicBool,
}

impl LazySlot {
    fn take(&self) -> std::collections::BTreeMap<&'static str, Option<Vec<u8>>> {
        std::mem::take(&mut *self.values.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Bytes of appended entries queued to the writer and not yet in the file beyond which a
/// `Relaxed` append no longer completes at once but waits for its round (16 MiB): the
/// writer's queue, and the entries kept in memory until it catches up, stay bounded when
/// appends come faster than the disk takes them.
pub const RELAXED_BACKLOG_BYTES_MAX: usize = 16 << 20;

/// The sending side; dropping it stops the thread after a final durable round.
pub(crate) struct Writer {
    tx: Sender<Write>,
    /// Bytes of the entries in queued appends (see [`RELAXED_BACKLOG_BYTES_MAX`]).
    backlog: Arc<AtomicUsize>,
    lazy: Arc<LazySlot>,
}

impl Writer {
    pub(crate) fn spawn(
        db: Arc<Database>,
        segments: Segments,
        recent: Arc<Mutex<RecentEntries>>,
        durability: Durability,
        flush_interval: Duration,
    ) -> io::Result<Self> {
        // Unbounded, but bounded upstream: under `Fsync` openraft waits for each append's
        // callback before it commits, so the proposer's in-flight slots (leader) and the
        // leader's wait for answers (follower) bound what queues; under `Relaxed`, appends
        // wait once RELAXED_BACKLOG_BYTES_MAX is queued. Truncate, purge and vote are awaited,
        // and the lazy committed index follows commits (one per round of appends at most).
        let (tx, rx) = mpsc::channel();
        let backlog = Arc::new(AtomicUsize::new(0));
        let lazy = Arc::new(LazySlot::default());
        let mut thread = Thread {
            db,
            segments,
            meta: std::collections::BTreeMap::new(),
            meta_dirty_since: None,
            recent,
            backlog: backlog.clone(),
            lazy: lazy.clone(),
            durability,
            flush_interval,
            failpoint: FsyncFailpoint::from_env(),
            failed: None,
        };
        std::thread::Builder::new()
            .name("raft-log-writer".to_string())
            .spawn(move || thread.run(&rx))?;
        Ok(Self { tx, backlog, lazy })
    }

    pub(crate) fn send(&self, write: Write) -> io::Result<()> {
        let bytes = write.entry_bytes();
        self.backlog.fetch_add(bytes, Ordering::AcqRel);
        self.tx.send(write).map_err(|_| {
            self.backlog.fetch_sub(bytes, Ordering::AcqRel);
            stopped()
        })
    }

    /// Leaves a metadata value for the thread's next round, neither waited for nor fsynced on
    /// its own; a newer value for the same key replaces it. Every write sent before it is
    /// taken in the same round or an earlier one, so it is never written ahead of them.
    pub(crate) fn save_lazy(&self, key: &'static str, value: Option<Vec<u8>>) -> io::Result<()> {
        self.lazy
            .values
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, value);
        // Pairs with the thread's store of `idle` before it looks at the slot: either it
        // sees this value, or this sees it idle and wakes it.
        if self.lazy.idle.load(Ordering::SeqCst) {
            self.send(Write::Wake)?;
        }
        Ok(())
    }

    /// Bytes of appended entries queued and not yet in the file.
    pub(crate) fn backlog_bytes(&self) -> usize {
        self.backlog.load(Ordering::Acquire)
    }

    /// Sends a write built around a reply channel and waits for its round.
    pub(crate) async fn call(&self, write: impl FnOnce(Done) -> Write) -> io::Result<()> {
        let (done, outcome) = oneshot::channel();
        self.send(write(done))?;
        outcome.await.unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> io::Error {
    io::Error::other("raft log: the writer thread has stopped")
}

/// Test-only fault injection, compiled into debug builds only: with
/// `CORVO_FAILPOINT_LOG_FSYNC=<path>` in the environment at start-up, every durable commit
/// of the log fails while `<path>` exists, as on a dying disk. Black-box tests use it to check
/// what a fatal storage error does to the node (`/healthz`, exit); release builds ignore the
/// variable.
struct FsyncFailpoint {
    #[cfg(debug_assertions)]
    path: Option<std::path::PathBuf>,
}

impl FsyncFailpoint {
    fn from_env() -> Self {
        FsyncFailpoint {
            #[cfg(debug_assertions)]
            path: std::env::var_os("CORVO_FAILPOINT_LOG_FSYNC").map(Into::into),
        }
    }

    fn check(&self) -> io::Result<()> {
        #[cfg(debug_assertions)]
        if let Some(path) = &self.path
            && path.exists()
        {
            return Err(io::Error::other(format!(
                "raft log: fsync failed (failpoint CORVO_FAILPOINT_LOG_FSYNC: {} exists)",
                path.display()
            )));
        }
        Ok(())
    }
}

struct Thread {
    db: Arc<Database>,
    segments: Segments,
    /// Metadata written since the last commit of the metadata file, the newest value per key.
    meta: std::collections::BTreeMap<&'static str, Option<Vec<u8>>>,
    /// Since when metadata is not durable (held in `meta`, or committed without an fsync).
    /// It is made durable with a vote, a purge, at a stop, and once the flush interval has
    /// passed: the committed index, the only lazy value, costs no fsync of its own per entry.
    meta_dirty_since: Option<Instant>,
    recent: Arc<Mutex<RecentEntries>>,
    backlog: Arc<AtomicUsize>,
    lazy: Arc<LazySlot>,
    durability: Durability,
    flush_interval: Duration,
    failpoint: FsyncFailpoint,
    /// The first write that failed (its kind and message). Nothing is written after it: a
    /// later round could make a `committed` index durable that names entries the failed
    /// round never wrote, and the next start would fail to re-apply them.
    failed: Option<(io::ErrorKind, String)>,
}

/// What one round owes its writers once committed.
#[derive(Default)]
struct Round {
    writes: Vec<Write>,
    /// The round must fsync (an append under `Fsync`, a vote, the last round).
    durable: bool,
    /// A write other than a lazy one: the round is worth a commit now.
    urgent: bool,
    /// The metadata must be durable at the end of the round (a vote, a stop, the flush
    /// interval), or at least readable (a barrier).
    flush_meta: bool,
    barrier: bool,
}

impl Thread {
    fn run(&mut self, rx: &Receiver<Write>) {
        let mut round = Round::default();
        // Since when something is not durable yet: a non-durable commit, or a lazy write
        // held in `round`. A durable round follows within the flush interval.
        let mut dirty_since: Option<Instant> = None;
        loop {
            // Wait for an urgent write; lazy ones gather meanwhile.
            let stopping = loop {
                let deadline = match (dirty_since, self.meta_dirty_since) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let next = match deadline {
                    None => {
                        self.lazy.idle.store(true, Ordering::SeqCst);
                        if self.take_lazy() {
                            // A value came before the thread was idle: it sets a deadline.
                            self.lazy.idle.store(false, Ordering::SeqCst);
                            continue;
                        }
                        let next = rx.recv().map_err(|_| RecvTimeoutError::Disconnected);
                        self.lazy.idle.store(false, Ordering::SeqCst);
                        next
                    }
                    Some(since) => rx.recv_timeout(
                        (since + self.flush_interval)
                            .saturating_duration_since(corvo_clock::monotonic()),
                    ),
                };
                match next {
                    Ok(write) => {
                        self.add(&mut round, write);
                        dirty_since.get_or_insert_with(corvo_clock::monotonic);
                        if round.urgent {
                            break false;
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        round.durable = true;
                        round.flush_meta = true;
                        break false;
                    }
                    Err(RecvTimeoutError::Disconnected) => break true,
                }
            };
            // The slot before the queue: whatever was sent before a lazy value was left is in
            // the queue by now, so the value never goes out in a round ahead of them.
            self.take_lazy();
            // Everything queued behind the first write shares its round.
            while let Ok(write) = rx.try_recv() {
                self.add(&mut round, write);
            }
            round.flush_meta |= stopping;
            let durable = stopping
                || round.durable
                || dirty_since.is_some_and(|since| since.elapsed() >= self.flush_interval);
            self.commit(std::mem::take(&mut round), durable);
            if durable {
                dirty_since = None;
            }
            if stopping {
                break;
            }
        }
    }

    fn add(&self, round: &mut Round, write: Write) {
        match &write {
            Write::Append { .. } => {
                round.urgent = true;
                round.durable |= self.durability == Durability::Fsync;
            }
            Write::Meta { .. } => {
                round.urgent = true;
                round.durable = true;
                round.flush_meta = true;
            }
            Write::Wake => return,
            Write::Barrier(_) => {
                round.urgent = true;
                round.barrier = true;
            }
            Write::TruncateFrom { .. } | Write::Purge { .. } => {
                round.urgent = true;
            }
        }
        round.writes.push(write);
    }

    /// Writes the round and completes its writes with the outcome.
    fn commit(&mut self, round: Round, durable: bool) {
        let result = match &self.failed {
            Some((kind, first)) => Err(io::Error::new(
                *kind,
                format!("raft log: an earlier write failed, so nothing more is written: {first}"),
            )),
            None => self.write(&round, durable),
        };
        if let Err(e) = &result
            && self.failed.is_none()
        {
            self.failed = Some((e.kind(), e.to_string()));
        }
        let bytes: usize = round.writes.iter().map(Write::entry_bytes).sum();
        self.backlog.fetch_sub(bytes, Ordering::AcqRel);
        let mut written_seq = None;
        for write in round.writes {
            let outcome = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            };
            // A dropped receiver is a caller that went away; nothing to tell it. Errors reach
            // openraft through the callbacks and replies, which stops the node; nothing to log
            // here (openraft logs it once).
            match write {
                Write::Append { seq, done, .. } => {
                    written_seq = Some(seq);
                    if let Some(done) = done {
                        done.io_completed(outcome);
                    }
                }
                Write::TruncateFrom { done, .. }
                | Write::Purge { done, .. }
                | Write::Barrier(done)
                | Write::Meta { done, .. } => {
                    let _ = done.send(outcome);
                }
                Write::Wake => {}
            }
        }
        if let (Ok(()), Some(seq)) = (&result, written_seq) {
            self.recent
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .written_up_to(seq);
        }
    }

    /// Writes the round: entries to the segments (durable if `durable`), metadata into
    /// `meta`, committed to the metadata file when the round asks for it or it is due.
    fn write(&mut self, round: &Round, durable: bool) -> io::Result<()> {
        for write in &round.writes {
            match write {
                Write::Append { entries, .. } => self.segments.append(entries)?,
                Write::TruncateFrom { from, .. } => self.segments.truncate_from(*from)?,
                Write::Purge {
                    upto, last_purged, ..
                } => {
                    // `last_purged` is durable before any file goes, so a removal lost in a
                    // crash is redone at the next open and never leaves a hole.
                    self.set_meta(KEY_LAST_PURGED, Some(last_purged.clone()));
                    self.commit_meta(true)?;
                    self.segments.purge_upto(*upto)?;
                }
                Write::Meta { key, value, .. } => self.set_meta(key, value.clone()),
                Write::Barrier(_) | Write::Wake => {}
            }
        }
        if durable {
            self.sync_entries()?;
        }
        let due = self
            .meta_dirty_since
            .is_some_and(|since| since.elapsed() >= self.flush_interval);
        if self.meta_dirty_since.is_some() && (round.flush_meta || due) {
            self.commit_meta(true)?;
        } else if round.barrier && !self.meta.is_empty() {
            self.commit_meta(false)?;
        }
        Ok(())
    }

    /// Moves the lazy values left in the slot into `meta`; true if there were any.
    fn take_lazy(&mut self) -> bool {
        let values = self.lazy.take();
        let any = !values.is_empty();
        for (key, value) in values {
            self.set_meta(key, value);
        }
        any
    }

    fn set_meta(&mut self, key: &'static str, value: Option<Vec<u8>>) {
        self.meta.insert(key, value);
        self.meta_dirty_since
            .get_or_insert_with(corvo_clock::monotonic);
    }

    fn sync_entries(&mut self) -> io::Result<()> {
        self.failpoint.check()?;
        self.segments.sync()
    }

    /// Commits the metadata writes in one transaction. A durable commit fsyncs the entries
    /// first: metadata never becomes durable ahead of the entries it may refer to.
    fn commit_meta(&mut self, durable: bool) -> io::Result<()> {
        let fail = |what: &str, e: redb::Error| io::Error::other(format!("raft log: {what}: {e}"));
        if durable {
            self.sync_entries()?;
        }
        let mut txn = self
            .db
            .begin_write()
            .map_err(|e| fail("begin write", e.into()))?;
        txn.set_durability(if durable {
            redb::Durability::Immediate
        } else {
            redb::Durability::None
        })
        .map_err(|e| fail("set durability", e.into()))?;
        {
            let mut table = txn.open_table(META).map_err(|e| fail("open", e.into()))?;
            for (key, value) in std::mem::take(&mut self.meta) {
                match value {
                    Some(bytes) => table.insert(key, bytes.as_slice()),
                    None => table.remove(key),
                }
                .map_err(|e| fail("write", e.into()))?;
            }
        }
        txn.commit().map_err(|e| fail("commit", e.into()))?;
        if durable {
            self.meta_dirty_since = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::ReadableDatabase;

    fn stored(db: &Database, key: &str) -> Option<Vec<u8>> {
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(META).unwrap();
        table.get(key).unwrap().map(|v| v.value().to_vec())
    }

    /// Polls until `key` holds `want` (a lost wake-up leaves the value in the slot for good).
    fn wait_for(db: &Database, key: &str, want: &[u8]) {
        let until = corvo_clock::monotonic() + Duration::from_secs(10);
        while stored(db, key).as_deref() != Some(want) {
            assert!(
                corvo_clock::monotonic() < until,
                "{key} never reached the file: {:?}",
                stored(db, key)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_lazy_value_left_while_the_thread_is_idle_is_written_within_the_flush_interval() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::create(dir.path().join("log.redb")).unwrap());
        let txn = db.begin_write().unwrap();
        txn.open_table(META).unwrap();
        txn.commit().unwrap();
        let segments = Segments::open(&dir.path().join("segments"), None).unwrap();
        let writer = Writer::spawn(
            db.clone(),
            segments,
            Arc::default(),
            Durability::Fsync,
            Duration::from_millis(20),
        )
        .unwrap();
        // Nothing was sent: the thread waits with no deadline, so the value must wake it.
        std::thread::sleep(Duration::from_millis(50));
        writer.save_lazy("committed", Some(vec![1])).unwrap();
        wait_for(&db, "committed", &[1]);
        // Flushed, the thread is idle again; newer values replace older ones.
        std::thread::sleep(Duration::from_millis(50));
        writer.save_lazy("committed", Some(vec![2])).unwrap();
        writer.save_lazy("committed", Some(vec![3])).unwrap();
        wait_for(&db, "committed", &[3]);
    }
}
