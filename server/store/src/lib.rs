//! redb storage of Corvo's replicated state: the source of truth.
//!
//! [`StateStore`] maps each of `corvo_core`'s tables ([`corvo_core::keys::Table`]) to one
//! redb table of byte keys and values, and applies committed Raft entries with
//! `corvo_core::apply_batch` inside one write transaction per run of entries. The Raft
//! metadata (last applied log id, membership) is written in the same transaction, so state
//! and metadata never disagree.
//!
//! ```text
//!  committed entries ──▶ StateStore::apply ──▶ write txn: apply_batch × n + raft meta
//!                                               commit (non-durable; durable every
//!                                               CHECKPOINT_APPLIES_MAX / CHECKPOINT_INTERVAL)
//!  API reads ─────────▶ StateStore::read ───▶ read txn (MVCC snapshot) implementing StateRead
//! ```
//!
//! Snapshots: [`StateStore::begin_export`] captures the state (one read transaction) and
//! [`Export::write`] writes it as a checksummed [`archive`]; [`StateStore::install_archive`]
//! replaces the whole state with an archive in one transaction that commits only if the
//! archive checks out.
//!
//! Applies commit without fsync because the Raft log is durable: after a crash redb returns
//! to its last durable commit and Raft re-applies the log from there. The periodic durable
//! commit (a checkpoint) bounds replay work and lets redb reuse freed pages. Between
//! checkpoints redb's small cache writes pages out as it fills and a writeback thread starts
//! their disk writes, so a checkpoint, which applies wait for, finds little left to do
//! (docs/adr/0016-state-writeback.md).

use std::borrow::Borrow;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub mod archive;

use archive::{ArchiveError, ArchiveInfo, ArchiveReader, ArchiveWriter, Record};

use corvo_core::keys::Table;
use corvo_core::state::Row;
use corvo_core::{
    Batch, BatchOutcome, JobChange, JobWrite, StateRead, StateTxn, StoreError, apply_batch,
};
use redb::{
    Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, WriteTransaction,
};
use sha2::{Digest, Sha256};

type Bytes = &'static [u8];

/// The redb table holding the Raft metadata blob (one key).
const RAFT_META: TableDefinition<&str, Bytes> = TableDefinition::new("raft_meta");
const RAFT_META_KEY: &str = "applied";

/// Make an apply durable after this many non-durable ones: bounds the log replayed after a
/// crash.
pub const CHECKPOINT_APPLIES_MAX: u32 = 256;
/// ...or after this long, whichever comes first. A durable commit writes the pages dirtied
/// since the last one that are still in redb's cache and fsyncs while holding the write lock,
/// so applies wait for it. With the writeback thread ([`WRITEBACK_INTERVAL`]) most pages are
/// on the disk by then. Small, frequent checkpoints keep each pause short: at 500 ms and 1024
/// applies the pauses were the end-to-end p99 (10–12 ms at 5 000 calls/s; 6.1–6.8 ms at
/// 125 ms and 256, with the same throughput, docs/adr/0036-shorter-checkpoints.md).
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(125);
/// [`StateStore::checkpoint_if_idle`] checkpoints a state that has had no apply for this long
/// and has applies not yet durable: a burst's writes reach the disk while nothing waits
/// (docs/adr/0013-state-checkpoints.md).
pub const CHECKPOINT_IDLE: Duration = Duration::from_millis(50);

/// redb's cache of the state file (2 MiB). redb holds pages written since the last checkpoint
/// in half of it and writes the oldest out as that half fills; [`WRITEBACK_INTERVAL`] then
/// gets them to the disk between checkpoints, so a checkpoint finds little left to write and
/// its fsync (during which applies wait) stays short. A large cache kept every page until the
/// checkpoint: at 256 MiB a checkpoint under load wrote all of them at once and applies took
/// a fifth longer (docs/adr/0016-state-writeback.md). 4 MiB instead of 16 took a third off the
/// p99 of unary calls at 32 and 256 clients (docs/adr/0042-a-smaller-state-cache.md); 2 MiB
/// instead of 4 another third at 32 clients and a sixth off the end-to-end p99, throughput
/// level (docs/adr/0045-a-2-mib-state-cache.md). Reads of pages not in it are served by the
/// operating system's page cache.
pub const STATE_CACHE_BYTES: usize = 2 << 20;

/// How often, while applies run, the state file's dirty pages are handed to the disk
/// (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, which starts the writes and does not wait).
pub const WRITEBACK_INTERVAL: Duration = Duration::from_millis(10);

fn table_def(t: Table) -> TableDefinition<'static, Bytes, Bytes> {
    TableDefinition::new(t.name())
}

fn closed() -> StoreError {
    StoreError::Io("the state file is closed (the node is shutting down)".into())
}

fn io<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Io(e.to_string())
}

/// The state database (`<data-dir>/state.redb`).
pub struct StateStore {
    /// First, so it stops before the database closes.
    _writeback: Option<Writeback>,
    /// `None` once [`StateStore::close`] closed it.
    db: std::sync::RwLock<Option<Database>>,
    checkpoint: Mutex<Checkpoint>,
    /// Applies so far, for the writeback thread to tell whether anything was written.
    applies: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// The thread that starts the state file's writeback while applies run (see
/// [`WRITEBACK_INTERVAL`]); stopped and joined when the store is dropped.
struct Writeback {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writeback {
    /// Starts the thread; `None` where the platform has no `sync_file_range` or the file
    /// cannot be opened a second time (the store works without it, checkpoints write more).
    fn start(path: &Path, applies: std::sync::Arc<std::sync::atomic::AtomicU64>) -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            use std::sync::atomic::Ordering;
            let file = match std::fs::File::open(path) {
                Ok(f) => f,
                Err(e) => {
                    tracing::warn!(error = %e, path = %path.display(), "state writeback disabled: cannot open the state file");
                    return None;
                }
            };
            let (stop, stopped) = std::sync::mpsc::channel::<()>();
            let thread = std::thread::Builder::new()
                .name("corvo-writeback".to_owned())
                .spawn(move || {
                    let mut seen = applies.load(Ordering::Relaxed);
                    // Until the sender is dropped (the store is).
                    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                        stopped.recv_timeout(WRITEBACK_INTERVAL)
                    {
                        let now = applies.load(Ordering::Relaxed);
                        if now == seen {
                            continue;
                        }
                        seen = now;
                        // SAFETY: plain syscall on a descriptor this thread owns; it reads no
                        // memory of ours. Offset 0 and length 0 mean the whole file.
                        let rc = unsafe {
                            libc::sync_file_range(
                                file.as_raw_fd(),
                                0,
                                0,
                                libc::SYNC_FILE_RANGE_WRITE,
                            )
                        };
                        if rc != 0 {
                            // Only an optimisation: the next checkpoint's fsync writes the pages.
                            tracing::warn!(error = %std::io::Error::last_os_error(), "state writeback failed; it stops, checkpoints write everything");
                            return;
                        }
                    }
                })
                .ok()?;
            Some(Writeback {
                stop: Some(stop),
                thread: Some(thread),
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (path, applies);
            None
        }
    }

    #[cfg(test)]
    fn running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What [`StateStore::apply_tracked`] did.
#[derive(Debug)]
pub struct Applied {
    /// One per entry (`None` for entries without commands).
    pub outcomes: Vec<Option<BatchOutcome>>,
    /// The jobs written or deleted, each once, in first-touch order, with the record the last
    /// write left: what the read view must refresh.
    pub touched: Vec<JobWrite>,
    /// When the commit was a checkpoint (durable, with an fsync; applies wait for it), how
    /// long the commit took.
    pub checkpoint: Option<Duration>,
}

struct Checkpoint {
    /// Non-durable applies since the last checkpoint.
    applies_since: u32,
    /// When the last checkpoint ended.
    last: Instant,
    /// When the last apply ended.
    last_apply: Instant,
}

impl StateStore {
    /// Opens (or creates) the state database and makes sure every table exists.
    pub fn open(path: &Path) -> Result<StateStore, StoreError> {
        let shown = std::cell::Cell::new(false);
        let db = Database::builder()
            .set_cache_size(STATE_CACHE_BYTES)
            .set_repair_callback(move |session| {
                // Called at least once when the file was not closed cleanly (a crash).
                if !shown.replace(true) {
                    tracing::warn!("the state file was not closed cleanly: checking it (redb repair); this takes a while on a large state");
                }
                tracing::debug!(progress = session.progress(), "state file repair");
            })
            .create(path)
            .map_err(|e| StoreError::Io(format!("opening {}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(io)?;
        for t in Table::ALL {
            txn.open_table(table_def(t)).map_err(io)?;
        }
        txn.open_table(RAFT_META).map_err(io)?;
        txn.commit().map_err(io)?;
        let applies = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        Ok(StateStore {
            _writeback: Writeback::start(path, applies.clone()),
            applies,
            db: std::sync::RwLock::new(Some(db)),
            checkpoint: Mutex::new(Checkpoint {
                applies_since: 0,
                last: corvo_clock::monotonic(),
                last_apply: corvo_clock::monotonic(),
            }),
        })
    }

    fn begin_read(&self) -> Result<ReadTransaction, StoreError> {
        match &*self.db.read().unwrap_or_else(|p| p.into_inner()) {
            Some(db) => db.begin_read().map_err(io),
            None => Err(closed()),
        }
    }

    fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        match &*self.db.read().unwrap_or_else(|p| p.into_inner()) {
            Some(db) => db.begin_write().map_err(io),
            None => Err(closed()),
        }
    }

    /// Closes the state file: redb marks it closed cleanly once the transactions still open
    /// end, so the next start opens it at once instead of checking the whole file (a repair,
    /// seconds on a large state). Every later call fails. The node calls this last at
    /// shutdown: anything still holding the store then (a thread the process does not wait
    /// for) cannot keep the file from closing.
    pub fn close(&self) {
        self.db.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// The Raft metadata stored by the last apply (None on a fresh store).
    pub fn raft_meta(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.begin_read()?;
        let table = txn.open_table(RAFT_META).map_err(io)?;
        Ok(table
            .get(RAFT_META_KEY)
            .map_err(io)?
            .map(|v| v.value().to_vec()))
    }

    /// Applies committed entries in log order in one transaction and stores `raft_meta`
    /// with them. `None` entries (blank, membership) only advance the metadata.
    pub fn apply<B: Borrow<Batch>>(
        &self,
        entries: &[(u64, Option<B>)],
        raft_meta: &[u8],
    ) -> Result<Vec<Option<BatchOutcome>>, StoreError> {
        self.apply_tracked(entries, raft_meta, true)
            .map(|applied| applied.outcomes)
    }

    /// [`StateStore::apply`], also returning the jobs written or deleted and whether the
    /// commit was a checkpoint (see [`Applied`]). With `may_checkpoint` false the commit never
    /// fsyncs, even when a checkpoint is due (the caller cannot wait for one; the next apply
    /// or idle check makes it).
    pub fn apply_tracked<B: Borrow<Batch>>(
        &self,
        entries: &[(u64, Option<B>)],
        raft_meta: &[u8],
        may_checkpoint: bool,
    ) -> Result<Applied, StoreError> {
        let mut txn = self.begin_write()?;
        let durable = may_checkpoint && self.checkpoint_due();
        txn.set_durability(if durable {
            Durability::Immediate
        } else {
            Durability::None
        })
        .map_err(io)?;
        let mut outcomes = Vec::with_capacity(entries.len());
        let touched = {
            let mut tables = WriteTables::open(&txn);
            tables.touched = Some(Default::default());
            for (index, batch) in entries {
                outcomes.push(match batch {
                    Some(b) => Some(apply_batch(&mut tables, b.borrow(), *index)?),
                    None => None,
                });
            }
            let touched = tables.finish()?;
            let mut meta = txn.open_table(RAFT_META).map_err(io)?;
            meta.insert(RAFT_META_KEY, raft_meta).map_err(io)?;
            touched.map(Touched::into_writes).unwrap_or_default()
        };
        let committing = corvo_clock::monotonic();
        txn.commit().map_err(io)?;
        let checkpoint = if durable {
            self.checkpoint_done();
            Some(committing.elapsed())
        } else {
            self.applied_non_durably();
            None
        };
        Ok(Applied {
            outcomes,
            touched,
            checkpoint,
        })
    }

    /// Makes everything applied so far durable (used at shutdown).
    pub fn flush(&self) -> Result<(), StoreError> {
        let mut txn = self.begin_write()?;
        txn.set_durability(Durability::Immediate).map_err(io)?;
        txn.commit().map_err(io)?;
        self.checkpoint_done();
        Ok(())
    }

    /// Makes the state durable if applies since the last checkpoint are not yet and none has
    /// come for [`CHECKPOINT_IDLE`]; how long that took if it did. Called periodically by the
    /// server.
    pub fn checkpoint_if_idle(&self) -> Result<Option<Duration>, StoreError> {
        {
            let c = self.checkpoint.lock().unwrap_or_else(|p| p.into_inner());
            if c.applies_since == 0 || c.last_apply.elapsed() < CHECKPOINT_IDLE {
                return Ok(None);
            }
        }
        let started = corvo_clock::monotonic();
        self.flush()?;
        Ok(Some(started.elapsed()))
    }

    /// A consistent read-only view (an MVCC snapshot; applies continue meanwhile).
    pub fn read(&self) -> Result<StateReader, StoreError> {
        let txn = self.begin_read()?;
        Ok(StateReader { txn })
    }

    /// SHA-256 over every table, key and value in order: equal digests mean equal state.
    pub fn digest(&self) -> Result<String, StoreError> {
        let reader = self.read()?;
        let mut h = Sha256::new();
        for t in Table::ALL {
            if !carried(&reader.txn, t)? {
                continue;
            }
            h.update(t.name().as_bytes());
            for_each_carried_row(
                &reader.txn,
                t,
                |e| e,
                |k, v| {
                    h.update((k.len() as u64).to_be_bytes());
                    h.update(k);
                    h.update((v.len() as u64).to_be_bytes());
                    h.update(v);
                    Ok(())
                },
            )?;
        }
        Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Starts a snapshot: makes everything applied so far durable, then takes a read
    /// transaction. The returned [`Export`] writes exactly that state, whatever is applied
    /// after this call; it carries the Raft metadata stored with that state, so the archive
    /// names the log index it covers.
    pub fn begin_export(&self) -> Result<Export, StoreError> {
        self.flush()?;
        let txn = self.begin_read()?;
        let raft_meta = txn
            .open_table(RAFT_META)
            .map_err(io)?
            .get(RAFT_META_KEY)
            .map_err(io)?
            .map(|v| v.value().to_vec());
        Ok(Export { txn, raft_meta })
    }

    /// Replaces the whole state with the archive at `path`, in one durable write transaction
    /// that commits only if the archive checks out to its last byte (a damaged archive
    /// changes nothing). `raft_meta` overrides the metadata stored in the archive (a restore
    /// into a new cluster rewrites the membership).
    pub fn install_archive(
        &self,
        path: &Path,
        raft_meta: Option<&[u8]>,
    ) -> Result<ArchiveInfo, ArchiveError> {
        let fail = |e: redb::Error| ArchiveError::store(path, e);
        let mut reader = ArchiveReader::open(path)?;
        let mut txn = self
            .begin_write()
            .map_err(|e| ArchiveError::store(path, e))?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| fail(e.into()))?;
        {
            // Every table is emptied and made again, whether or not the archive has rows for it
            // (tables open lazily, and readers expect all of them).
            for t in Table::ALL {
                txn.delete_table(table_def(t)).map_err(|e| fail(e.into()))?;
                txn.open_table(table_def(t)).map_err(|e| fail(e.into()))?;
            }
            let mut tables = WriteTables::open(&txn);
            let mut current: Option<Table> = None;
            while let Some(record) = reader.next()? {
                match record {
                    Record::Table(name) => {
                        let t = Table::ALL.into_iter().find(|t| t.name() == name);
                        current = Some(t.ok_or_else(|| {
                            ArchiveError::corrupt(
                                path,
                                format!("unknown table {name:?} (written by a newer release?)"),
                            )
                        })?);
                    }
                    Record::Row(k, v) => {
                        let t = current.ok_or_else(|| {
                            ArchiveError::corrupt(path, "a row before any table record")
                        })?;
                        tables
                            .put(t, &k, &v)
                            .map_err(|e| ArchiveError::store(path, e))?;
                    }
                }
            }
            tables.finish().map_err(|e| ArchiveError::store(path, e))?;
            let meta = raft_meta.unwrap_or(&reader.raft_meta).to_vec();
            let mut table = txn.open_table(RAFT_META).map_err(|e| fail(e.into()))?;
            table
                .insert(RAFT_META_KEY, meta.as_slice())
                .map_err(|e| fail(e.into()))?;
        }
        // The checksum decides: on a mismatch the transaction is dropped (rolled back).
        let info = reader.finish()?;
        txn.commit().map_err(|e| fail(e.into()))?;
        self.checkpoint_done();
        Ok(info)
    }

    /// Whether the next apply would be a checkpoint (an fsync).
    pub fn checkpoint_due(&self) -> bool {
        let c = self.checkpoint.lock().unwrap_or_else(|p| p.into_inner());
        c.applies_since + 1 >= CHECKPOINT_APPLIES_MAX || c.last.elapsed() >= CHECKPOINT_INTERVAL
    }

    fn applied_non_durably(&self) {
        self.applies
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut c = self.checkpoint.lock().unwrap_or_else(|p| p.into_inner());
        c.applies_since += 1;
        c.last_apply = corvo_clock::monotonic();
    }

    fn checkpoint_done(&self) {
        let mut c = self.checkpoint.lock().unwrap_or_else(|p| p.into_inner());
        c.applies_since = 0;
        c.last = corvo_clock::monotonic();
        c.last_apply = c.last;
    }
}

/// Whether digests and archives carry table `t`: not a table of this node's layout only, and
/// not a newer table while it is empty ([`Table::omitted_when_empty`]).
fn carried(txn: &ReadTransaction, t: Table) -> Result<bool, StoreError> {
    if t.layout_only() {
        return Ok(false);
    }
    if !t.omitted_when_empty() {
        return Ok(true);
    }
    let table = txn.open_table(table_def(t)).map_err(io)?;
    Ok(!table.is_empty().map_err(io)?)
}

/// Calls `f` with each row of table `t` in key order as digests and archives carry it: a
/// `Jobs` record with its payload folded back in from `Payloads`
/// ([`corvo_core::keys::job_record_with_payload`]), so every node and release agrees. A read
/// error becomes the caller's error through `wrap`.
fn for_each_carried_row<E>(
    txn: &ReadTransaction,
    t: Table,
    wrap: impl Fn(StoreError) -> E,
    mut f: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let table = txn.open_table(table_def(t)).map_err(|e| wrap(io(e)))?;
    let payloads = match t {
        Table::Jobs => Some(
            txn.open_table(table_def(Table::Payloads))
                .map_err(|e| wrap(io(e)))?,
        ),
        _ => None,
    };
    for row in table.iter().map_err(|e| wrap(io(e)))? {
        let (k, v) = row.map_err(|e| wrap(io(e)))?;
        let payload = match &payloads {
            Some(payloads) => payloads.get(k.value()).map_err(|e| wrap(io(e)))?,
            None => None,
        };
        match payload {
            Some(payload) => {
                let record = corvo_core::keys::job_record_with_payload(
                    k.value(),
                    v.value(),
                    payload.value(),
                )
                .map_err(&wrap)?;
                f(k.value(), &record)?;
            }
            None => f(k.value(), v.value())?,
        }
    }
    Ok(())
}

/// A consistent view of the state to write as a snapshot archive (see
/// [`StateStore::begin_export`]).
pub struct Export {
    txn: ReadTransaction,
    raft_meta: Option<Vec<u8>>,
}

impl Export {
    /// The Raft metadata of the state this export holds (`None` before the first apply).
    pub fn raft_meta(&self) -> Option<&[u8]> {
        self.raft_meta.as_deref()
    }

    /// Writes the archive to `path`, a new file, and fsyncs it. A failed write leaves no file.
    pub fn write(self, path: &Path, created_unix_ms: u64) -> Result<ArchiveInfo, ArchiveError> {
        let raft_meta = self
            .raft_meta
            .ok_or_else(|| ArchiveError::store(path, "the state has no applied log entry yet"))?;
        let mut out = ArchiveWriter::create(path, &raft_meta, created_unix_ms)?;
        let txn = self.txn;
        let written = (|| {
            for t in Table::ALL {
                if !carried(&txn, t).map_err(|e| ArchiveError::store(path, e))? {
                    continue;
                }
                out.table(t.name())?;
                for_each_carried_row(
                    &txn,
                    t,
                    |e| ArchiveError::store(path, e),
                    |k, v| out.row(k, v),
                )?;
            }
            out.finish(raft_meta, created_unix_ms)
        })();
        if written.is_err() {
            // A partial archive must not be mistaken for a snapshot later.
            let _ = std::fs::remove_file(path);
        }
        written
    }
}

/// The state tables opened in one write transaction.
///
/// Rows whose keys sort after everything a table held when the transaction began (new job ids
/// are time-ordered ULIDs, events and enqueue sequences count up, timers are mostly due later)
/// wait in a per-table [`Tail`] and go into redb together through one cursor at the end of the
/// gap after the last key, which packs them into full leaves. One insert each would descend
/// the tree per row and leave every split leaf half full. Reads and deletes see the tails, so
/// the state machine cannot tell the difference. [`WriteTables::finish`] must be called before
/// the transaction commits.
///
/// A table is opened on first use: an entry of one small command touches four or five of the
/// state's tables, and every table opened costs its root's bookkeeping at the commit.
struct WriteTables<'txn> {
    txn: &'txn WriteTransaction,
    tables: Vec<std::cell::OnceCell<redb::Table<'txn, Bytes, Bytes>>>,
    tails: Vec<Tail>,
    /// Jobs written or deleted, when someone wants to know.
    touched: Option<Touched>,
}

/// A table's tail is written once it holds this many bytes of keys and values (bounds the
/// memory of a long transaction such as restoring a snapshot).
pub const TAIL_BYTES_MAX: usize = 8 << 20;

/// Rows after a table's last key, not yet in redb (see [`WriteTables`]).
#[derive(Default)]
struct Tail {
    /// The greatest key in redb, looked up on first need: `None` not yet, `Some(None)` the
    /// table is empty. Rows are only ever written to redb at or below it directly, so it
    /// stays an upper bound of redb's keys (a delete can only lower the true maximum).
    floor: Option<Option<Vec<u8>>>,
    /// Ascending, every key above `floor`.
    rows: Vec<(Vec<u8>, Vec<u8>)>,
    bytes: usize,
}

impl Tail {
    /// Where `key` is or would be among the rows, if it sorts within the tail's span.
    fn position(&self, key: &[u8]) -> Option<Result<usize, usize>> {
        let (first, _) = self.rows.first()?;
        if key < first.as_slice() {
            return None;
        }
        // Most keys come after the last one (appends): no search.
        if self
            .rows
            .last()
            .is_some_and(|(last, _)| key > last.as_slice())
        {
            return Some(Err(self.rows.len()));
        }
        Some(self.rows.binary_search_by(|(k, _)| k.as_slice().cmp(key)))
    }

    fn put(&mut self, key: &[u8], value: &[u8]) {
        // Below the first row (but above the floor, or it would not be here): first.
        match self.position(key).unwrap_or(Err(0)) {
            Ok(i) => {
                self.bytes = self.bytes - self.rows[i].1.len() + value.len();
                self.rows[i].1 = value.to_vec();
            }
            Err(i) => {
                self.bytes += key.len() + value.len();
                self.rows.insert(i, (key.to_vec(), value.to_vec()));
            }
        }
    }

    /// Where the rows with `start <= key < end` are.
    fn span_at(&self, start: &[u8], end: &[u8]) -> std::ops::Range<usize> {
        let lo = self.rows.partition_point(|(k, _)| k.as_slice() < start);
        let hi = self.rows.partition_point(|(k, _)| k.as_slice() < end);
        lo..hi.max(lo)
    }

    /// The rows with `start <= key < end`.
    fn span(&self, start: &[u8], end: &[u8]) -> &[(Vec<u8>, Vec<u8>)] {
        &self.rows[self.span_at(start, end)]
    }

    /// Removes the rows with `start <= key < end`.
    fn remove_span(&mut self, start: &[u8], end: &[u8]) {
        let at = self.span_at(start, end);
        let removed: usize = self.rows.drain(at).map(|(k, v)| k.len() + v.len()).sum();
        self.bytes -= removed;
    }
}

/// Jobs in first-touch order, each once, with their last change.
#[derive(Default)]
struct Touched {
    at: std::collections::HashMap<Vec<u8>, usize>,
    /// `None`: written, and the record is in the `Jobs` tail (moved here, not copied, once
    /// the tail is written: see [`Touched::written_from_tail`]).
    order: Vec<(Vec<u8>, Option<JobChange>)>,
}

impl Touched {
    fn add(&mut self, key: &[u8], change: Option<JobChange>) {
        match self.at.get(key) {
            Some(&i) => self.order[i].1 = change,
            None => {
                self.at.insert(key.to_vec(), self.order.len());
                self.order.push((key.to_vec(), change));
            }
        }
    }

    /// A row of the `Jobs` tail went into redb: a job whose last change was that write gets
    /// its record.
    fn written_from_tail(&mut self, key: &[u8], record: Vec<u8>) {
        if let Some(&i) = self.at.get(key)
            && self.order[i].1.is_none()
        {
            self.order[i].1 = Some(JobChange::Written(Some(record)));
        }
    }

    /// Job keys are the ids' UTF-8 bytes (`corvo_core::keys`).
    fn into_writes(self) -> Vec<JobWrite> {
        self.order
            .into_iter()
            .map(|(k, change)| JobWrite {
                id: String::from_utf8_lossy(&k).into_owned(),
                // Every tail is written before this; were one not, the view reads the record.
                change: change.unwrap_or(JobChange::Written(None)),
            })
            .collect()
    }
}

impl<'txn> WriteTables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Self {
        WriteTables {
            txn,
            tables: Table::ALL
                .iter()
                .map(|_| std::cell::OnceCell::new())
                .collect(),
            tails: Table::ALL.iter().map(|_| Tail::default()).collect(),
            touched: None,
        }
    }

    /// The table, opened on first use.
    fn table(&self, t: Table) -> Result<&redb::Table<'txn, Bytes, Bytes>, StoreError> {
        let cell = &self.tables[t as usize];
        if let Some(table) = cell.get() {
            return Ok(table);
        }
        let table = self.txn.open_table(table_def(t)).map_err(io)?;
        Ok(cell.get_or_init(|| table))
    }

    fn table_mut(&mut self, t: Table) -> Result<&mut redb::Table<'txn, Bytes, Bytes>, StoreError> {
        self.table(t)?;
        self.tables[t as usize]
            .get_mut()
            .ok_or_else(|| StoreError::Io(format!("table {} did not open", t.name())))
    }

    /// Whether `key` belongs in the table's tail: it sorts after every key in redb.
    fn past_the_end(&mut self, t: Table, key: &[u8]) -> Result<bool, StoreError> {
        let i = t as usize;
        if self.tails[i].position(key).is_some() {
            return Ok(true);
        }
        if self.tails[i].floor.is_none() {
            let last = self.table(t)?.last().map_err(io)?;
            self.tails[i].floor = Some(last.map(|(k, _)| k.value().to_vec()));
        }
        Ok(match &self.tails[i].floor {
            Some(Some(floor)) => key > floor.as_slice(),
            _ => true,
        })
    }

    /// Writes a table's tail into redb through one cursor at the end of the table.
    fn write_tail(&mut self, t: Table) -> Result<(), StoreError> {
        let i = t as usize;
        let rows = std::mem::take(&mut self.tails[i].rows);
        self.tails[i].bytes = 0;
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        let floor = last.clone();
        let mut cursor = self
            .table_mut(t)?
            .upper_bound_mut(std::ops::Bound::<&[u8]>::Unbounded)
            .map_err(io)?;
        for (k, v) in &rows {
            cursor
                .insert_before(k.as_slice(), v.as_slice())
                .map_err(|e| StoreError::Io(format!("appending to table {}: {e}", t.name())))?;
        }
        cursor.close().map_err(io)?;
        self.tails[i].floor = Some(Some(floor));
        if t == Table::Jobs
            && let Some(touched) = &mut self.touched
        {
            for (k, v) in rows {
                touched.written_from_tail(&k, v);
            }
        }
        Ok(())
    }

    /// Writes every tail and returns the jobs touched: call before committing.
    fn finish(mut self) -> Result<Option<Touched>, StoreError> {
        for t in Table::ALL {
            self.write_tail(t)?;
        }
        Ok(self.touched.take())
    }
}

fn collect_range<T: ReadableTable<Bytes, Bytes>>(
    table: &T,
    start: &[u8],
    end: &[u8],
    limit: usize,
) -> Result<Vec<Row>, StoreError> {
    if start >= end {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for row in table.range::<&[u8]>(start..end).map_err(io)? {
        if out.len() >= limit {
            break;
        }
        let (k, v) = row.map_err(io)?;
        out.push((k.value().to_vec(), v.value().to_vec()));
    }
    Ok(out)
}

fn count_range<T: ReadableTable<Bytes, Bytes>>(
    table: &T,
    start: &[u8],
    end: &[u8],
    limit: usize,
) -> Result<usize, StoreError> {
    if start >= end {
        return Ok(0);
    }
    let mut n = 0;
    for row in table.range::<&[u8]>(start..end).map_err(io)? {
        if n >= limit {
            break;
        }
        row.map_err(io)?;
        n += 1;
    }
    Ok(n)
}

impl StateRead for WriteTables<'_> {
    fn get(&self, t: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let tail = &self.tails[t as usize];
        if let Some(at) = tail.position(key) {
            return Ok(at.ok().map(|i| tail.rows[i].1.clone()));
        }
        Ok(self
            .table(t)?
            .get(key)
            .map_err(io)?
            .map(|v| v.value().to_vec()))
    }

    fn range(
        &self,
        t: Table,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<Row>, StoreError> {
        // Every key in redb sorts before the tail's.
        let mut rows = collect_range(self.table(t)?, start, end, limit)?;
        if start < end {
            let more = limit.saturating_sub(rows.len());
            rows.extend(
                self.tails[t as usize]
                    .span(start, end)
                    .iter()
                    .take(more)
                    .cloned(),
            );
        }
        Ok(rows)
    }

    fn count(&self, t: Table, start: &[u8], end: &[u8], limit: usize) -> Result<usize, StoreError> {
        let n = count_range(self.table(t)?, start, end, limit)?;
        if start >= end {
            return Ok(n);
        }
        Ok((n + self.tails[t as usize].span(start, end).len()).min(limit))
    }
}

impl StateTxn for WriteTables<'_> {
    fn put(&mut self, t: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let in_tail = self.past_the_end(t, key)?;
        if !in_tail {
            self.table_mut(t)?.insert(key, value).map_err(io)?;
        }
        if t == Table::Jobs
            && let Some(touched) = &mut self.touched
        {
            let change = (!in_tail).then(|| JobChange::Written(Some(value.to_vec())));
            touched.add(key, change);
        }
        if in_tail {
            let tail = &mut self.tails[t as usize];
            tail.put(key, value);
            if tail.bytes > TAIL_BYTES_MAX {
                self.write_tail(t)?;
            }
        }
        Ok(())
    }

    fn delete(&mut self, t: Table, key: &[u8]) -> Result<(), StoreError> {
        let tail = &mut self.tails[t as usize];
        let old = match tail.position(key) {
            Some(Ok(i)) => {
                let (k, v) = tail.rows.remove(i);
                tail.bytes -= k.len() + v.len();
                Some(v)
            }
            // In the tail's span but not there: not in redb either.
            Some(Err(_)) => None,
            None => self
                .table_mut(t)?
                .remove(key)
                .map_err(io)?
                .map(|old| old.value().to_vec()),
        };
        if t == Table::Jobs
            && let Some(touched) = &mut self.touched
            && let Some(old) = old
        {
            touched.add(key, Some(JobChange::Deleted(old)));
        }
        Ok(())
    }

    fn delete_range(&mut self, t: Table, start: &[u8], end: &[u8]) -> Result<(), StoreError> {
        if t == Table::Jobs || start >= end {
            // Job deletions are reported one by one, with their records.
            for (key, _) in self.range(t, start, end, usize::MAX)? {
                self.delete(t, &key)?;
            }
            return Ok(());
        }
        self.tails[t as usize].remove_span(start, end);
        self.table_mut(t)?
            .retain_in::<&[u8], _>(start..end, |_, _| false)
            .map_err(io)
    }
}

/// Called with each row (key, value) of a scan.
pub type RowVisitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<(), StoreError> + 'a;

/// A read-only snapshot of the state.
pub struct StateReader {
    txn: ReadTransaction,
}

impl StateReader {
    /// Calls `f` with every job record (key, value) in id order.
    pub fn for_each_job(&self, f: &mut RowVisitor<'_>) -> Result<(), StoreError> {
        let table = self.txn.open_table(table_def(Table::Jobs)).map_err(io)?;
        for row in table.iter().map_err(io)? {
            let (k, v) = row.map_err(io)?;
            f(k.value(), v.value())?;
        }
        Ok(())
    }
}

impl StateRead for StateReader {
    fn get(&self, t: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let table = self.txn.open_table(table_def(t)).map_err(io)?;
        Ok(table.get(key).map_err(io)?.map(|v| v.value().to_vec()))
    }

    fn range(
        &self,
        t: Table,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<Row>, StoreError> {
        let table = self.txn.open_table(table_def(t)).map_err(io)?;
        collect_range(&table, start, end, limit)
    }

    fn count(&self, t: Table, start: &[u8], end: &[u8], limit: usize) -> Result<usize, StoreError> {
        let table = self.txn.open_table(table_def(t)).map_err(io)?;
        count_range(&table, start, end, limit)
    }
}

#[cfg(test)]
mod tests;
