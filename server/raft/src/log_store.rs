//! The Raft log: entries in segment files, metadata in a small redb file.
//!
//! - Entries: append-only segment files in `<log>.segments/` beside the redb file
//!   ([`crate::segments`], ADR 0033), each entry the format byte + postcard + CRC-32 that
//!   [`encode`] writes.
//! - `raft_meta` (redb): `"vote"`, `"committed"`, `"last_purged"`, `"node_id"`,
//!   `"cluster_id"` -> the same layout.
//! - `raft_entries` / `raft_entry_parts` (redb): where releases before ADR 0033 kept the
//!   entries. [`LogStore::open`] moves them into segments once and drops the tables.
//!
//! Every value and record carries a checksum: one damaged on disk is refused with an error
//! naming the file and the index (or offset), and the node stops rather than serve from it.
//!
//! Writes go to the log's writer thread (`log_writer`), which writes everything queued in one
//! round: one `pwrite` of the entries, at most one `fdatasync`, and a redb commit only when
//! metadata changed. Durability: `save_vote` returns once its round has fsynced. `append`
//! returns at once and its completion callback fires once the entries are durable (under
//! `Durability::Fsync`; at once under `Relaxed`). `truncate_after` and `purge` wait for their
//! round, and `save_committed` does not wait at all: the next round carries it (a stale
//! `committed` after a crash only means openraft re-applies less at start-up; the leader
//! re-commits the rest after its election).
//!
//! Reads run inline. The entries appended last are kept decoded in memory
//! ([`RecentEntries`], bounded by [`RECENT_ENTRIES_BYTES_MAX`]) from the moment `append` is
//! called: they are the log's tail as openraft sees it, while the files may still lag behind
//! the writer's queue, so a read takes the tail from memory and only older entries (written
//! by then) from the segments. The state machine and the replication streams read an entry
//! right after it is appended, and on the leader they get the very batch that was proposed
//! (an `Arc`) instead of decoding a megabyte of it again.

use std::fmt::{Debug, Display};
use std::io;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::{Arc, Mutex};

use std::sync::RwLock;

use openraft::entry::RaftEntry;
use openraft::storage::{IOFlushed, LogState, RaftLogReader, RaftLogStorage};
use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::log_writer::{RELAXED_BACKLOG_BYTES_MAX, Write, Writer};
use crate::options::Durability;
use crate::segments::{SegmentIndex, Segments, sync_dir};
use crate::types::{Entry, LogId, TypeConfig, Vote};

/// Table of log entries, by index, in releases before segments (ADR 0033).
pub const ENTRIES_TABLE: &str = "raft_entries";
/// Table of the log's metadata.
pub const META_TABLE: &str = "raft_meta";

/// Table of the parts of entries larger than [`PART_BYTES`], by (index, part number ≥ 1), in
/// releases before segments.
pub const PARTS_TABLE: &str = "raft_entry_parts";

pub(crate) const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new(ENTRIES_TABLE);
pub(crate) const PARTS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new(PARTS_TABLE);
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new(META_TABLE);
const KEY_VOTE: &str = "vote";
const KEY_COMMITTED: &str = "committed";
pub(crate) const KEY_LAST_PURGED: &str = "last_purged";
const KEY_NODE_ID: &str = "node_id";
const KEY_CLUSTER_ID: &str = "cluster_id";

/// First byte of every stored value: lets a later release change the encoding and still
/// read (or clearly refuse) what an older one wrote.
///
/// Format 3: postcard followed by a CRC-32 (little-endian) of the format byte and the body,
/// so a value damaged on disk is detected, not decoded into something else.
/// Format 2 (clustering): the same layout without the checksum; still read.
/// Format 1 (single-node releases) stored `BasicNode { addr }`; postcard is not
/// self-describing, so those values are refused rather than guessed at.
const FORMAT_V3_CRC: u8 = 3;
/// Format 4: an entry cut into parts. The value under its index is this byte, the number of
/// parts (u32 LE, this one included) and the first [`PART_BYTES`] of its format-3 encoding;
/// parts 1.. are in `raft_entry_parts`. The checksum covers the whole encoding.
const FORMAT_V4_PARTS: u8 = 4;
/// The largest piece of an entry stored in one value. redb gives a value larger than a page
/// a run of pages rounded up to a power of two: a 270 KiB entry took 512 KiB of file (and of
/// zeroed memory and disk writes). Parts that fill a 64 KiB run (with room for the page
/// header, key and length) waste at most the rounding of an entry's last part. (4 KiB parts
/// saved as many bytes but cost throughput: redb writes and allocates page by page.)
pub const PART_BYTES: usize = 65_472;
#[cfg(test)]
const PARTS_HEADER_BYTES: usize = 5;
const FORMAT_V2: u8 = 2;
const FORMAT_V1_SINGLE_NODE: u8 = 1;
const CRC_BYTES: usize = 4;

/// Encodes a value as the format byte followed by postcard.
pub(crate) fn encode<T: Serialize>(value: &T, what: &dyn Display) -> io::Result<Vec<u8>> {
    let mut bytes = postcard::to_extend(value, vec![FORMAT_V3_CRC]).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot encode {what}: {e}"),
        )
    })?;
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    Ok(bytes)
}

/// Decodes what [`encode`] wrote; anything else is an `InvalidData` error naming `what`.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8], what: &dyn Display) -> io::Result<T> {
    let corrupt =
        |why: String| io::Error::new(io::ErrorKind::InvalidData, format!("corrupt {what}: {why}"));
    let Some((&format, body)) = bytes.split_first() else {
        return Err(corrupt("empty value".to_string()));
    };
    if format == FORMAT_V1_SINGLE_NODE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{what} was written by a single-node Corvo release (format 1), which this release cannot read: start from an empty data dir"
            ),
        ));
    }
    let body = match format {
        FORMAT_V2 => body,
        FORMAT_V3_CRC => {
            let Some(split) = bytes.len().checked_sub(CRC_BYTES).filter(|n| *n >= 1) else {
                return Err(corrupt("too short for its checksum".to_string()));
            };
            let (content, crc) = bytes.split_at(split);
            let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
            if crc32fast::hash(content) != stored {
                return Err(corrupt(
                    "checksum mismatch (the value was damaged on disk)".to_string(),
                ));
            }
            &content[1..]
        }
        other => return Err(corrupt(format!("unknown format byte {other}"))),
    };
    let (value, rest) = postcard::take_from_bytes(body).map_err(|e| corrupt(e.to_string()))?;
    if !rest.is_empty() {
        return Err(corrupt(format!("{} trailing bytes", rest.len())));
    }
    Ok(value)
}

fn db_err(what: &str, e: impl Into<redb::Error>) -> io::Error {
    io::Error::other(format!("raft log: {what}: {}", e.into()))
}

/// Writer side of the log, owned by openraft's core task.
pub struct LogStore {
    db: Arc<Database>,
    segments: Arc<RwLock<SegmentIndex>>,
    durability: Durability,
    writer: Writer,
    /// The metadata file, named in read errors.
    path: Arc<Path>,
    /// Bytes of entries appended since the process started (the size trigger of snapshots).
    appended_bytes: Arc<std::sync::atomic::AtomicU64>,
    recent: Arc<Mutex<RecentEntries>>,
}

/// Encoded bytes of the appended entries [`RecentEntries`] keeps in memory (32 MiB): a few
/// dozen full group-commit entries, enough for the state machine and replication streams
/// that keep up; one that falls further behind reads from the segments.
pub const RECENT_ENTRIES_BYTES_MAX: usize = 32 << 20;

/// The last appended entries, contiguous by index: the tail of the log as openraft sees it.
/// An entry joins when `append` is called, before the writer thread has put it in the file,
/// and leaves when a truncation or purge is called. Past the byte bound the oldest entries
/// leave, but only once they are in the file.
#[derive(Default)]
pub(crate) struct RecentEntries {
    /// Entries with their encoded size and their sequence number (in order of `push`).
    entries: std::collections::VecDeque<(Entry, usize, u64)>,
    bytes: usize,
    /// The sequence number of the last `push`.
    last_seq: u64,
    /// Entries with a sequence number up to this one are in the file.
    written_seq: u64,
}

impl RecentEntries {
    fn first_index(&self) -> Option<u64> {
        self.entries.front().map(|(e, _, _)| e.index())
    }

    fn last_index(&self) -> Option<u64> {
        self.entries.back().map(|(e, _, _)| e.index())
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// Adds an appended entry and returns its sequence number, which the writer thread
    /// reports back once the entry is in the file ([`RecentEntries::written_up_to`]).
    fn push(&mut self, entry: Entry, bytes: usize) -> u64 {
        // Only a run that continues the kept one stays contiguous; anything else starts over
        // (what it held was superseded: truncated, or behind an installed snapshot).
        if self
            .last_index()
            .is_some_and(|last| last + 1 != entry.index())
        {
            self.clear();
        }
        self.last_seq += 1;
        self.entries.push_back((entry, bytes, self.last_seq));
        self.bytes += bytes;
        self.trim();
        self.last_seq
    }

    /// The entries pushed up to sequence number `seq` are in the file.
    pub(crate) fn written_up_to(&mut self, seq: u64) {
        self.written_seq = self.written_seq.max(seq);
        self.trim();
    }

    /// Drops the oldest entries past the byte bound that are in the file: one that is not
    /// yet could be read from nowhere else.
    fn trim(&mut self) {
        while self.bytes > RECENT_ENTRIES_BYTES_MAX
            && self
                .entries
                .front()
                .is_some_and(|(_, _, seq)| *seq <= self.written_seq)
        {
            if let Some((_, b, _)) = self.entries.pop_front() {
                self.bytes -= b;
            }
        }
    }

    /// Drops the entries with index >= `from`.
    fn truncate_from(&mut self, from: u64) {
        while self.last_index().is_some_and(|last| last >= from) {
            if let Some((_, b, _)) = self.entries.pop_back() {
                self.bytes -= b;
            }
        }
    }

    /// Drops the entries with index <= `upto`.
    fn purge_upto(&mut self, upto: u64) {
        while self.first_index().is_some_and(|first| first <= upto) {
            if let Some((_, b, _)) = self.entries.pop_front() {
                self.bytes -= b;
            }
        }
    }

    /// The entries `start..end`, if all of them are here.
    fn get(&self, start: u64, end: u64) -> Option<Vec<Entry>> {
        let first = self.first_index()?;
        let last = self.last_index()?;
        if start < first || end > last + 1 {
            return None;
        }
        let from = usize::try_from(start - first).ok()?;
        let count = usize::try_from(end - start).ok()?;
        Some(
            self.entries
                .range(from..from + count)
                .map(|(e, _, _)| e.clone())
                .collect(),
        )
    }
}

/// Page cache of the metadata file (1 MiB): it holds a handful of small values (redb's
/// default of 1 GiB would be wasted memory).
pub const LOG_CACHE_BYTES: usize = 1 << 20;

/// Where the segments of the log whose metadata is at `path` live: `raft-log.redb` ->
/// `raft-log.segments/`.
pub fn segments_dir(path: &Path) -> std::path::PathBuf {
    path.with_extension("segments")
}

/// Reader side of the log, one per replication task; a cheap clone.
#[derive(Clone)]
pub struct LogReader {
    db: Arc<Database>,
    segments: Arc<RwLock<SegmentIndex>>,
    path: Arc<Path>,
    recent: Arc<Mutex<RecentEntries>>,
}

/// Prefixes a read error with the log file's path: an operator must know which file is bad.
fn in_file(path: &Path) -> impl Fn(io::Error) -> io::Error + '_ {
    move |e| io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl LogStore {
    /// Opens (or creates) the log's metadata file at `path` and its segments beside it, moves
    /// the entries of an older release's log into segments, and starts the writer thread.
    ///
    /// Fails with `redb::DatabaseError::DatabaseAlreadyOpen` inside the `io::Error` while
    /// another handle, e.g. one still being dropped after a shutdown, holds the file.
    pub fn open(
        path: &Path,
        durability: Durability,
        relaxed_flush_interval: std::time::Duration,
    ) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let shown = std::cell::Cell::new(false);
        let db = Database::builder()
            .set_cache_size(LOG_CACHE_BYTES)
            .set_repair_callback(move |_| {
                // Called at least once when the file was not closed cleanly (a crash).
                if !shown.replace(true) {
                    tracing::warn!(
                        "the raft log's metadata file was not closed cleanly: checking it (redb repair)"
                    );
                }
            })
            .create(path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    format!("raft log {}: database already open", path.display()),
                ),
                e => db_err(&format!("open {}", path.display()), e),
            })?;
        let db = Arc::new(db);
        // Create the table up front, durably, so readers never meet a missing table.
        let txn = db.begin_write().map_err(|e| db_err("begin", e))?;
        txn.open_table(META).map_err(|e| db_err(META_TABLE, e))?;
        txn.commit().map_err(|e| db_err("commit", e))?;
        let dir = segments_dir(path);
        migrate_legacy(&db, &dir).map_err(in_file(path))?;
        let last_purged: Option<LogId> = read_meta(&db, KEY_LAST_PURGED).map_err(in_file(path))?;
        let segments = Segments::open(&dir, last_purged.map(|id| id.index()))?;
        let index = segments.index();
        let recent = Arc::<Mutex<RecentEntries>>::default();
        let writer = Writer::spawn(
            db.clone(),
            segments,
            recent.clone(),
            durability,
            relaxed_flush_interval,
        )?;
        Ok(Self {
            db,
            segments: index,
            durability,
            writer,
            path: Arc::from(path),
            appended_bytes: Arc::default(),
            recent,
        })
    }

    /// Records `node_id` on first use and refuses a log that belongs to another node: a log
    /// replayed under a different id could vote twice in one term.
    pub fn check_node_id(&self, node_id: u64) -> io::Result<()> {
        match read_meta::<u64>(&self.db, KEY_NODE_ID)? {
            Some(stored) if stored == node_id => Ok(()),
            Some(stored) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("raft log belongs to node {stored}, not to node {node_id}"),
            )),
            None => write_meta(
                &self.db,
                redb::Durability::Immediate,
                KEY_NODE_ID,
                Some(&node_id),
            ),
        }
    }

    /// The log's metadata outside openraft's (the cluster id), usable after the store is
    /// handed to openraft.
    pub fn meta(&self) -> LogMeta {
        LogMeta {
            db: Arc::downgrade(&self.db),
            path: self.path.clone(),
        }
    }

    /// A counter of the bytes of entries appended by this handle.
    pub fn appended_bytes(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.appended_bytes.clone()
    }

    fn reader(&self) -> LogReader {
        LogReader {
            db: self.db.clone(),
            segments: self.segments.clone(),
            path: self.path.clone(),
            recent: self.recent.clone(),
        }
    }
}

/// Metadata of the log that openraft does not manage: the cluster id (see
/// [`crate::identity`]). A cheap clone that does not keep the file open: once the log store
/// is dropped (Raft stopped), it answers an error.
#[derive(Clone)]
pub struct LogMeta {
    db: std::sync::Weak<Database>,
    path: Arc<Path>,
}

impl LogMeta {
    fn db(&self) -> io::Result<Arc<Database>> {
        self.db
            .upgrade()
            .ok_or_else(|| io::Error::other(format!("raft log {}: closed", self.path.display())))
    }

    /// The cluster this log belongs to; `None` before it is known (or for a cluster made by
    /// an older release).
    pub fn cluster_id(&self) -> io::Result<Option<String>> {
        read_meta(&*self.db()?, KEY_CLUSTER_ID).map_err(in_file(&self.path))
    }

    /// Records the cluster id, durably.
    pub fn save_cluster_id(&self, id: &str) -> io::Result<()> {
        write_meta(
            &*self.db()?,
            redb::Durability::Immediate,
            KEY_CLUSTER_ID,
            Some(&id.to_owned()),
        )
        .map_err(in_file(&self.path))
    }
}

impl RaftLogReader<TypeConfig> for LogReader {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> io::Result<Vec<Entry>> {
        read_entries(&self.segments, &self.recent, range)
    }

    async fn read_vote(&mut self) -> io::Result<Option<Vote>> {
        read_meta(&self.db, KEY_VOTE).map_err(in_file(&self.path))
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> io::Result<Vec<Entry>> {
        read_entries(&self.segments, &self.recent, range)
    }

    async fn read_vote(&mut self) -> io::Result<Option<Vote>> {
        read_meta(&self.db, KEY_VOTE).map_err(in_file(&self.path))
    }
}

impl LogStore {
    fn log_state(&self) -> io::Result<LogState<TypeConfig>> {
        let last_purged_log_id: Option<LogId> =
            read_meta(&self.db, KEY_LAST_PURGED).map_err(in_file(&self.path))?;
        let last = self
            .segments
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .last_index();
        let last_log_id = match last {
            Some(index) => read_entries(&self.segments, &self.recent, index..=index)?
                .pop()
                .map(|e| e.log_id()),
            None => None,
        }
        .max(last_purged_log_id);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogReader;

    async fn get_log_state(&mut self) -> io::Result<LogState<TypeConfig>> {
        // The file must hold every write sent so far.
        self.writer.call(Write::Barrier).await?;
        self.log_state()
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.reader()
    }

    async fn save_vote(&mut self, vote: &Vote) -> io::Result<()> {
        // A vote must survive a crash before it is acted upon, or this node could vote twice
        // in one term: its round always fsyncs, whatever the log's durability.
        let value = encode(vote, &format_args!("{META_TABLE} {KEY_VOTE}"))?;
        self.writer
            .call(|done| Write::Meta {
                key: KEY_VOTE,
                value: Some(value),
                done,
            })
            .await
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> io::Result<()> {
        // Neither waited for nor fsynced on its own: a stale `committed` after a crash only
        // means openraft re-applies less at startup; the leader re-commits the rest after its
        // election.
        let value = committed
            .map(|c| encode(&c, &format_args!("{META_TABLE} {KEY_COMMITTED}")))
            .transpose()?;
        self.writer.save_lazy(KEY_COMMITTED, value)
    }

    async fn read_committed(&mut self) -> io::Result<Option<LogId>> {
        // A saved `committed` may still wait in the writer's queue.
        self.writer.call(Write::Barrier).await?;
        read_meta(&self.db, KEY_COMMITTED).map_err(in_file(&self.path))
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<TypeConfig>) -> io::Result<()>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let encoded = entries
            .iter()
            .map(|e| {
                Ok((
                    e.index(),
                    encode(e, &format_args!("{ENTRIES_TABLE} index {}", e.index()))?,
                ))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let bytes: usize = encoded.iter().map(|(_, b)| b.len()).sum();
        self.appended_bytes
            .fetch_add(bytes as u64, std::sync::atomic::Ordering::Relaxed);
        let Some(seq) = ({
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            entries
                .into_iter()
                .zip(&encoded)
                .map(|(entry, (_, b))| recent.push(entry, b.len()))
                .last()
        }) else {
            callback.io_completed(Ok(()));
            return Ok(());
        };
        // Relaxed: complete at once, unless the writer is far behind (then this append waits
        // for its round, and so openraft's commits and the callers: backpressure).
        let done = match self.durability {
            Durability::Relaxed if self.writer.backlog_bytes() < RELAXED_BACKLOG_BYTES_MAX => {
                callback.io_completed(Ok(()));
                None
            }
            _ => Some(callback),
        };
        self.writer.send(Write::Append {
            entries: encoded,
            seq,
            done,
        })
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> io::Result<()> {
        let from = last_log_id.map_or(0, |id| id.index() + 1);
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .truncate_from(from);
        self.writer
            .call(|done| Write::TruncateFrom { from, done })
            .await
    }

    async fn purge(&mut self, log_id: LogId) -> io::Result<()> {
        // `last_purged` and the deletion go in one transaction, so a crash never leaves a
        // hole between them.
        let last_purged = encode(&log_id, &format_args!("{META_TABLE} {KEY_LAST_PURGED}"))?;
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .purge_upto(log_id.index());
        self.writer
            .call(|done| Write::Purge {
                upto: log_id.index(),
                last_purged,
                done,
            })
            .await
    }
}

/// One write transaction with the given durability.
fn write(
    db: &Database,
    durability: redb::Durability,
    body: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
) -> io::Result<()> {
    let mut txn = db.begin_write().map_err(|e| db_err("begin write", e))?;
    txn.set_durability(durability)
        .map_err(|e| db_err("set durability", e))?;
    body(&txn).map_err(|e| db_err("write", e))?;
    txn.commit().map_err(|e| db_err("commit", e))
}

fn write_meta<T: Serialize>(
    db: &Database,
    durability: redb::Durability,
    key: &'static str,
    value: Option<&T>,
) -> io::Result<()> {
    let encoded = value
        .map(|v| encode(v, &format_args!("{META_TABLE} {key}")))
        .transpose()?;
    write(db, durability, |txn| {
        let mut table = txn.open_table(META)?;
        match &encoded {
            Some(bytes) => table.insert(key, bytes.as_slice())?,
            None => table.remove(key)?,
        };
        Ok(())
    })
}

fn read_meta<T: DeserializeOwned>(db: &Database, key: &str) -> io::Result<Option<T>> {
    let txn = db.begin_read().map_err(|e| db_err("begin read", e))?;
    let table = txn.open_table(META).map_err(|e| db_err(META_TABLE, e))?;
    let value = table.get(key).map_err(|e| db_err(META_TABLE, e))?;
    value
        .map(|v| {
            decode(
                v.value(),
                &format_args!("raft log table {META_TABLE} key {key}"),
            )
        })
        .transpose()
}

fn read_entries(
    segments: &RwLock<SegmentIndex>,
    recent: &Mutex<RecentEntries>,
    range: impl RangeBounds<u64>,
) -> io::Result<Vec<Entry>> {
    // Normalize to [start, end) so that empty or inverted ranges read nothing.
    let start = match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e.saturating_add(1),
        Bound::Excluded(&e) => e,
        Bound::Unbounded => u64::MAX,
    };
    if start >= end {
        return Ok(Vec::new());
    }
    // The tail comes from memory: the file may not hold it yet (or still hold entries a
    // queued truncation removes). What precedes the kept entries is in the file.
    let (file_end, tail) = {
        let recent = recent.lock().unwrap_or_else(|p| p.into_inner());
        match (recent.first_index(), recent.last_index()) {
            (Some(first), Some(last)) if start >= first => {
                let end = end.min(last + 1);
                if start >= end {
                    return Ok(Vec::new());
                }
                return Ok(recent.get(start, end).unwrap_or_default());
            }
            (Some(first), Some(last)) if end > first => (
                first,
                recent.get(first, end.min(last + 1)).unwrap_or_default(),
            ),
            _ => (end, Vec::new()),
        }
    };
    let mut entries = Vec::new();
    for (index, bytes, path) in SegmentIndex::read(segments, start, file_end)? {
        let entry: Entry = decode(
            &bytes,
            &format_args!("raft log segment {} index {index}", path.display()),
        )?;
        if entry.index() != index {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "corrupt raft log segment {} index {index}: holds the entry of index {}",
                    path.display(),
                    entry.index()
                ),
            ));
        }
        entries.push(entry);
    }
    entries.extend(tail);
    Ok(entries)
}

/// Moves the entries that a release before segments (ADR 0033) kept in the redb file into
/// segments, once: they are written to `<dir>.tmp`, fsynced, renamed to `dir`, and only then
/// are the redb tables dropped. A crash before the rename redoes the move; one after it finds
/// `dir` complete and only drops the tables.
fn migrate_legacy(db: &Database, dir: &Path) -> io::Result<()> {
    /// Encoded bytes handed to the segments per append while moving.
    const MOVE_BYTES: usize = 8 << 20;
    let has_legacy = db
        .begin_read()
        .and_then(|r| {
            Ok(r.list_tables()?
                .any(|t| t.name() == ENTRIES_TABLE || t.name() == PARTS_TABLE))
        })
        .map_err(|e| db_err("list tables", e))?;
    if !has_legacy {
        return Ok(());
    }
    let txn = db.begin_write().map_err(|e| db_err("begin write", e))?;
    let legacy = match txn.open_table(ENTRIES) {
        Ok(table) => table.len().map_err(|e| db_err(ENTRIES_TABLE, e))?,
        Err(e) => return Err(db_err(ENTRIES_TABLE, e)),
    };
    if legacy > 0 && !dir.exists() {
        let tmp = dir.with_extension("segments.tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        let started = corvo_clock::monotonic();
        let mut segments = Segments::open(&tmp, None)?;
        {
            let table = txn
                .open_table(ENTRIES)
                .map_err(|e| db_err(ENTRIES_TABLE, e))?;
            let parts = txn.open_table(PARTS).map_err(|e| db_err(PARTS_TABLE, e))?;
            let mut batch = Vec::new();
            let mut bytes = 0;
            for row in table.range(0..).map_err(|e| db_err(ENTRIES_TABLE, e))? {
                let (index, value) = row.map_err(|e| db_err(ENTRIES_TABLE, e))?;
                let index = index.value();
                let entry = decode_entry(&parts, index, value.value())?;
                let encoded = encode(&entry, &format_args!("raft log entry {index}"))?;
                bytes += encoded.len();
                batch.push((index, encoded));
                if bytes >= MOVE_BYTES {
                    segments.append(&std::mem::take(&mut batch))?;
                    bytes = 0;
                }
            }
            segments.append(&batch)?;
            segments.sync()?;
        }
        drop(segments);
        sync_dir(&tmp)?;
        std::fs::rename(&tmp, dir)?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        tracing::info!(
            entries = legacy,
            segments = %dir.display(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "raft log: moved the entries of an older release's log into segments"
        );
    }
    txn.delete_table(ENTRIES)
        .map_err(|e| db_err(ENTRIES_TABLE, e))?;
    txn.delete_table(PARTS)
        .map_err(|e| db_err(PARTS_TABLE, e))?;
    txn.commit().map_err(|e| db_err("commit", e))
}

/// Stores one encoded entry as releases before segments did: whole when it fits one part,
/// else cut into parts. Tests write old logs with it.
#[cfg(test)]
pub(crate) fn insert_entry(
    table: &mut redb::Table<'_, u64, &'static [u8]>,
    parts: &mut redb::Table<'_, (u64, u32), &'static [u8]>,
    index: u64,
    bytes: &[u8],
) -> Result<(), redb::Error> {
    if bytes.len() <= PART_BYTES + PARTS_HEADER_BYTES {
        table.insert(index, bytes)?;
        return Ok(());
    }
    let mut chunks = bytes.chunks(PART_BYTES);
    let count = u32::try_from(bytes.len().div_ceil(PART_BYTES)).map_err(|_| {
        redb::Error::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("raft log entry {index} is too large to store"),
        ))
    })?;
    let mut first = Vec::with_capacity(PART_BYTES + PARTS_HEADER_BYTES);
    first.push(FORMAT_V4_PARTS);
    first.extend_from_slice(&count.to_le_bytes());
    first.extend_from_slice(chunks.next().unwrap_or_default());
    table.insert(index, first.as_slice())?;
    for (n, chunk) in (1u32..).zip(chunks) {
        parts.insert((index, n), chunk)?;
    }
    Ok(())
}

/// Decodes one stored entry (joining its parts, if it has any) and checks that it sits under
/// its own index.
fn decode_entry(
    parts: &impl ReadableTable<(u64, u32), &'static [u8]>,
    index: u64,
    bytes: &[u8],
) -> io::Result<Entry> {
    let what = format_args!("raft log table {ENTRIES_TABLE} index {index}");
    let joined;
    let bytes = match bytes.split_first() {
        Some((&FORMAT_V4_PARTS, rest)) => {
            joined = join_parts(parts, index, rest)?;
            joined.as_slice()
        }
        _ => bytes,
    };
    let entry: Entry = decode(bytes, &what)?;
    if entry.index() != index {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "corrupt raft log table {ENTRIES_TABLE} index {index}: holds the entry of index {}",
                entry.index()
            ),
        ));
    }
    Ok(entry)
}

/// The format-3 encoding of a format-4 entry: its first part (after the format byte) followed
/// by its other parts, all of which must be there.
fn join_parts(
    parts: &impl ReadableTable<(u64, u32), &'static [u8]>,
    index: u64,
    head: &[u8],
) -> io::Result<Vec<u8>> {
    let corrupt = |why: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("corrupt raft log table {PARTS_TABLE} index {index}: {why}"),
        )
    };
    let Some((count, first)) = head.split_first_chunk::<4>() else {
        return Err(corrupt("the first part has no part count".to_string()));
    };
    let count = u32::from_le_bytes(*count);
    // Grown as parts are read: the count comes from disk and may be damaged.
    let mut joined = first.to_vec();
    let mut found = 1u32;
    for row in parts
        .range((index, 1)..=(index, u32::MAX))
        .map_err(|e| db_err(PARTS_TABLE, e))?
    {
        let (key, chunk) = row.map_err(|e| db_err(PARTS_TABLE, e))?;
        if key.value().1 != found {
            return Err(corrupt(format!("part {found} of {count} is missing")));
        }
        joined.extend_from_slice(chunk.value());
        found += 1;
    }
    if found < count {
        return Err(corrupt(format!("part {found} of {count} is missing")));
    }
    if found > count {
        return Err(corrupt(format!("{found} parts where {count} were written")));
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_value_fails_its_checksum_and_old_values_still_read() {
        let value = (42u64, "a payload long enough to damage".to_string());
        let mut bytes = encode(&value, &"test value").unwrap();
        assert_eq!(bytes[0], FORMAT_V3_CRC);
        let back: (u64, String) = decode(&bytes, &"test value").unwrap();
        assert_eq!(back, value);

        // One flipped bit inside the string still decodes as postcard: only the checksum
        // tells.
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
        let err = decode::<(u64, String)>(&bytes, &"test value").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
        let err = decode::<(u64, String)>(&[FORMAT_V3_CRC, 1], &"test value").unwrap_err();
        assert!(err.to_string().contains("too short"), "{err}");

        // Format 2 (no checksum) is still read.
        let v2 = postcard::to_extend(&value, vec![FORMAT_V2]).unwrap();
        let back: (u64, String) = decode(&v2, &"test value").unwrap();
        assert_eq!(back, value);
    }

    fn blank(index: u64) -> Entry {
        Entry::new_blank(openraft::testing::log_id::<TypeConfig>(1, 1, index))
    }

    fn indexes(entries: Option<Vec<Entry>>) -> Option<Vec<u64>> {
        entries.map(|v| v.iter().map(|e| e.index()).collect())
    }

    #[test]
    fn recent_entries_stay_contiguous_bounded_and_follow_truncation_and_purge() {
        let mut r = RecentEntries::default();
        for i in 5..=9 {
            r.push(blank(i), 10);
        }
        assert_eq!(indexes(r.get(5, 10)), Some(vec![5, 6, 7, 8, 9]));
        assert_eq!(indexes(r.get(7, 9)), Some(vec![7, 8]));
        // Only ranges wholly inside are answered; the rest is read from the file.
        assert_eq!(indexes(r.get(4, 6)), None);
        assert_eq!(indexes(r.get(9, 11)), None);

        // After a truncation the same indexes are appended again: the new entries are read.
        r.truncate_from(8);
        assert_eq!(indexes(r.get(8, 9)), None);
        r.push(blank(8), 10);
        assert_eq!(indexes(r.get(5, 9)), Some(vec![5, 6, 7, 8]));
        assert_eq!(r.bytes, 40);

        r.purge_upto(6);
        assert_eq!(indexes(r.get(6, 8)), None);
        assert_eq!(indexes(r.get(7, 9)), Some(vec![7, 8]));
        assert_eq!(r.bytes, 20);

        // A run that does not continue the kept one replaces it.
        r.push(blank(20), 10);
        assert_eq!(indexes(r.get(7, 9)), None);
        assert_eq!(indexes(r.get(20, 21)), Some(vec![20]));

        // Past the byte bound the oldest entries leave, but only once they are in the file.
        let seq = r.push(blank(21), RECENT_ENTRIES_BYTES_MAX);
        assert_eq!(indexes(r.get(20, 22)), Some(vec![20, 21]));
        r.written_up_to(seq - 1);
        assert_eq!(indexes(r.get(20, 21)), None);
        assert_eq!(indexes(r.get(21, 22)), Some(vec![21]));
        assert_eq!(r.bytes, RECENT_ENTRIES_BYTES_MAX);
        let seq = r.push(blank(22), 1);
        assert_eq!(indexes(r.get(21, 23)), Some(vec![21, 22]));
        r.written_up_to(seq);
        assert_eq!(indexes(r.get(22, 23)), Some(vec![22]));
        assert_eq!(r.bytes, 1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// A log value read from disk (or a peer message from the network) is an entry or
        /// an error, whatever its bytes.
        #[test]
        fn any_bytes_decode_to_an_entry_or_an_error(
            format in 0u8..6,
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        ) {
            let mut bytes = vec![format];
            bytes.extend_from_slice(&body);
            let _ = decode::<Entry>(&bytes, &"fuzz");
            let _ = decode::<crate::types::Vote>(&bytes, &"fuzz");
            let _ = decode::<crate::state_machine::RaftMeta>(&bytes, &"fuzz");
            let _ = crate::network::decode::<
                openraft::raft::AppendEntriesRequest<crate::types::TypeConfig>,
            >(&body);
            let _ = crate::network::decode::<
                openraft::raft::VoteRequest<crate::types::TypeConfig>,
            >(&body);
        }
    }

    /// An entry of `commands` enqueues of `payload_bytes` each.
    fn big_entry(index: u64, commands: usize, payload_bytes: usize) -> Entry {
        use corvo_core::model::EnqueueOptions;
        use corvo_core::{Batch, Command, Enqueue};
        let commands = (0..commands)
            .map(|i| {
                Command::Enqueue(Enqueue {
                    id: format!("job-{index}-{i}"),
                    queue: "q".into(),
                    payload: format!("\"{}\"", "x".repeat(payload_bytes)),
                    options: EnqueueOptions::default(),
                })
            })
            .collect();
        let batch = crate::types::BatchData(Arc::new(Batch {
            now_ms: index,
            commands,
        }));
        Entry::new_normal(openraft::testing::log_id::<TypeConfig>(1, 1, index), batch)
    }

    /// Writes a log the way releases before segments did: entries (in parts when large) and
    /// `last_purged` in the redb file.
    fn write_legacy(path: &Path, entries: &[Entry], last_purged: Option<LogId>) {
        let db = Database::create(path).unwrap();
        write_legacy_into(&db, entries);
        if let Some(id) = last_purged {
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert(KEY_LAST_PURGED, encode(&id, &"id").unwrap().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
    }

    fn has_legacy_tables(path: &Path) -> bool {
        let db = open_legacy_again(path);
        let txn = db.begin_read().unwrap();
        txn.list_tables()
            .unwrap()
            .any(|t| t.name() == ENTRIES_TABLE || t.name() == PARTS_TABLE)
    }

    fn open(path: &Path) -> LogStore {
        // The writer thread of a dropped store lets go of the file shortly after.
        let deadline = corvo_clock::monotonic() + std::time::Duration::from_secs(30);
        loop {
            match LogStore::open(
                path,
                Durability::Fsync,
                std::time::Duration::from_millis(50),
            ) {
                Ok(store) => return store,
                Err(e)
                    if e.kind() == io::ErrorKind::ResourceBusy
                        && corvo_clock::monotonic() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => panic!("open {}: {e}", path.display()),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_older_releases_log_moves_into_segments_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("raft-log.redb");
        let written = vec![
            big_entry(3, 1, 10),             // small: one value
            big_entry(4, 64, 1024),          // ~70 KiB: parts
            big_entry(5, 3, PART_BYTES / 3), // about one part
            big_entry(6, 300, 1024),         // ~320 KiB: parts
        ];
        let purged = openraft::testing::log_id::<TypeConfig>(1, 1, 2);
        write_legacy(&path, &written, Some(purged));
        for _ in 0..2 {
            let mut store = open(&path);
            assert_eq!(store.try_get_log_entries(0..100).await.unwrap(), written);
            let state = store.get_log_state().await.unwrap();
            assert_eq!(state.last_log_id, Some(written[3].log_id()));
            assert_eq!(state.last_purged_log_id, Some(purged));
            drop(store);
            assert!(segments_dir(&path).is_dir());
            assert!(!segments_dir(&path).with_extension("segments.tmp").exists());
        }
        assert!(!has_legacy_tables(&path), "the old tables are dropped");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_move_cut_short_by_a_crash_is_redone_or_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("raft-log.redb");
        let written: Vec<Entry> = (1..=3).map(|i| big_entry(i, 2, 100)).collect();
        write_legacy(&path, &written, None);
        // Before the rename: a half-written temporary directory is thrown away.
        let tmp = segments_dir(&path).with_extension("segments.tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::write(tmp.join(format!("{:020}.seg", 1)), b"half").unwrap();
        let mut store = open(&path);
        assert_eq!(store.try_get_log_entries(0..10).await.unwrap(), written);
        drop(store);

        // After the rename, before the tables were dropped: the segments are complete and
        // win over the old tables (written here with different entries).
        let other: Vec<Entry> = (1..=3).map(|i| big_entry(i, 1, 7)).collect();
        let db = open_legacy_again(&path);
        write_legacy_into(&db, &other);
        drop(db);
        let mut store = open(&path);
        assert_eq!(store.try_get_log_entries(0..10).await.unwrap(), written);
        drop(store);
        assert!(!has_legacy_tables(&path));
    }

    fn open_legacy_again(path: &Path) -> Database {
        let deadline = corvo_clock::monotonic() + std::time::Duration::from_secs(30);
        loop {
            match Database::open(path) {
                Ok(db) => return db,
                Err(_) if corvo_clock::monotonic() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    fn write_legacy_into(db: &Database, entries: &[Entry]) {
        let txn = db.begin_write().unwrap();
        {
            let mut table = txn.open_table(ENTRIES).unwrap();
            let mut parts = txn.open_table(PARTS).unwrap();
            for e in entries {
                let bytes = encode(e, &"entry").unwrap();
                insert_entry(&mut table, &mut parts, e.index(), &bytes).unwrap();
            }
        }
        txn.commit().unwrap();
    }

    #[test]
    fn an_older_log_that_does_not_read_refuses_to_open_and_names_what() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("raft-log.redb");
        write_legacy(&path, &[big_entry(5, 64, 1024)], None);
        {
            let db = open_legacy_again(&path);
            let txn = db.begin_write().unwrap();
            txn.open_table(PARTS).unwrap().remove((5, 1)).unwrap();
            txn.commit().unwrap();
        }
        let err = LogStore::open(
            &path,
            Durability::Fsync,
            std::time::Duration::from_millis(50),
        )
        .err()
        .expect("an entry without all its parts must not move");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let msg = err.to_string();
        assert!(
            msg.contains(PARTS_TABLE)
                && msg.contains("index 5")
                && msg.contains("part 1 of 2 is missing")
                && msg.contains(&path.display().to_string()),
            "unhelpful error: {msg}"
        );
        // Nothing was moved, and the old log is still there to repair.
        assert!(!segments_dir(&path).exists());
        assert!(has_legacy_tables(&path));
    }
}
