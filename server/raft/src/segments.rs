//! The Raft log's entries in append-only segment files (ADR 0033).
//!
//! A directory beside the log's redb file (`raft-log.segments/`) holds files named by the
//! index of their first entry (`00000000000000000001.seg`). Each file starts with a header
//! ([`MAGIC`], the format as u32 LE, 4 reserved bytes) followed by one record per entry:
//!
//! ```text
//! body length: u32 LE | CRC-32 of index and body: u32 LE | index: u64 LE | body
//! ```
//!
//! The body is the entry as `log_store::encode` writes it. Appending a round is one `pwrite`
//! and, when durable, one `fdatasync`: a redb commit wrote about nine pages and fsynced them
//! for every entry. A segment is sealed (cut to its records and fsynced) once it passes
//! [`SEGMENT_BYTES_MAX`] and the next round starts a new one.
//!
//! The last segment grows in zeroed steps (ADR 0038): a small round that runs past the
//! file's end writes [`ZERO_STEP_BYTES`] of zeros after its records in the same `pwrite`, and
//! the rounds after it overwrite those zeros. Their `fdatasync` then writes only data: the
//! file's size and blocks did not change, so the inode is not written (a second synchronous
//! disk write per round on ext4).
//!
//! Recovery ([`Segments::open`]) reads the last segment whole and checks every record in
//! it; zeros after the last record are the zeroed room. A record cut short at its end, or its
//! last record failing its checksum with nothing but zeros after it, is a write torn by a
//! crash: it was never acknowledged (its round had not fsynced), so the file is cut back to
//! the record before it. Sealed segments (fsynced before the next one was started) only
//! have their record headers walked; a record's checksum is checked whenever it is read.
//! Anything that does not read (a bad record with more after it, a sealed segment cut short,
//! a gap between segments) is damage: the log refuses to open, or the read fails, with an
//! error naming the file and the offset.
//!
//! Only the writer thread changes the segments; readers share the [`SegmentIndex`] (where
//! each record ends) and read with `pread` on the same files.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// First bytes of every segment file.
pub const MAGIC: &[u8; 8] = b"corvolog";
/// The record layout described above.
const FORMAT: u32 = 1;
const HEADER_BYTES: u64 = 16;
const RECORD_HEADER_BYTES: usize = 16;
/// A segment is sealed and a new one started once it holds this many bytes (64 MiB): purges
/// remove whole segments, so this is also how much purged log a node may keep on disk.
pub const SEGMENT_BYTES_MAX: u64 = 64 << 20;
/// The largest record body read back (1 GiB): a longer length field is damage, not an entry
/// (the proposer's entries are a few MiB at most).
pub const RECORD_BODY_BYTES_MAX: u32 = 1 << 30;
const SUFFIX: &str = "seg";
/// Zeros a small round writes after its records when it runs past the last segment's end
/// (1 MiB): about 800 one-job rounds overwrite them before the next step.
pub const ZERO_STEP_BYTES: u64 = 1 << 20;
/// A round with more bytes of records than this (64 KiB) grows the file by its records
/// alone: the inode write its `fdatasync` adds is small beside its data, and zeroing ahead
/// would double the bytes written by big rounds.
pub const ZERO_ROUND_BYTES_MAX: usize = 64 << 10;

/// One segment file and where each of its records ends.
struct Segment {
    first: u64,
    path: Arc<Path>,
    file: Arc<File>,
    /// End offset of each record, in index order: record `first + i` ends at `ends[i]`.
    ends: Vec<u64>,
}

impl Segment {
    fn last(&self) -> Option<u64> {
        (!self.ends.is_empty()).then(|| self.first + self.ends.len() as u64 - 1)
    }

    fn len(&self) -> u64 {
        self.ends.last().copied().unwrap_or(HEADER_BYTES)
    }

    /// Where the record of `index` starts (`index` in `first..=last + 1`).
    fn start_of(&self, index: u64) -> u64 {
        match usize::try_from(index - self.first) {
            Ok(0) | Err(_) => HEADER_BYTES,
            Ok(i) => self.ends.get(i - 1).copied().unwrap_or_else(|| self.len()),
        }
    }
}

/// The segments, in index order: changed by the writer thread, read by everyone.
#[derive(Default)]
pub(crate) struct SegmentIndex {
    segments: VecDeque<Segment>,
    /// Entries below this index are purged, even where their segment is still kept.
    first_kept: u64,
}

/// An entry's index and body as read, with the file it came from (for error messages).
pub(crate) type ReadEntry = (u64, Vec<u8>, Arc<Path>);

/// A piece of a read: a run of records in one file.
struct Run {
    path: Arc<Path>,
    file: Arc<File>,
    first: u64,
    start: u64,
    ends: Vec<u64>,
}

impl SegmentIndex {
    /// The index of the last entry, if any (purged or not).
    pub(crate) fn last_index(&self) -> Option<u64> {
        self.segments.iter().rev().find_map(Segment::last)
    }

    /// The bodies of the entries `start..end` that are in the segments, in order, each with
    /// its index and the file it came from (for error messages).
    pub(crate) fn read(
        index: &RwLock<SegmentIndex>,
        start: u64,
        end: u64,
    ) -> io::Result<Vec<ReadEntry>> {
        // Collect the runs under the lock and read outside it. Entries read from the files are
        // committed or at least not being rewritten: openraft never reads what it truncates.
        let runs: Vec<Run> = {
            let index = index.read().unwrap_or_else(|p| p.into_inner());
            let start = start.max(index.first_kept);
            index
                .segments
                .iter()
                .filter_map(|s| {
                    let last = s.last()?;
                    let from = start.max(s.first);
                    let to = end.min(last + 1);
                    (from < to).then(|| {
                        let lo = usize::try_from(from - s.first).unwrap_or(usize::MAX);
                        let hi = usize::try_from(to - s.first).unwrap_or(usize::MAX);
                        Run {
                            path: s.path.clone(),
                            file: s.file.clone(),
                            first: from,
                            start: s.start_of(from),
                            ends: s.ends[lo..hi].to_vec(),
                        }
                    })
                })
                .collect()
        };
        let mut out = Vec::new();
        for run in runs {
            let end = run.ends.last().copied().unwrap_or(run.start);
            let mut bytes = vec![0u8; usize::try_from(end - run.start).unwrap_or(0)];
            run.file.read_exact_at(&mut bytes, run.start).map_err(|e| {
                io::Error::new(e.kind(), format!("{}: read: {e}", run.path.display()))
            })?;
            let mut at = 0usize;
            for (i, record_end) in run.ends.iter().enumerate() {
                let expected = run.first + i as u64;
                let record_end = usize::try_from(record_end - run.start).unwrap_or(usize::MAX);
                let record = bytes.get(at..record_end).unwrap_or_default();
                let offset = run.start + at as u64;
                match parse_record(record) {
                    Parsed::Record { index, body, .. } if index == expected => {
                        out.push((index, body.to_vec(), run.path.clone()));
                    }
                    Parsed::Record { index, .. } => {
                        return Err(damaged(
                            &run.path,
                            offset,
                            &format!("holds index {index} where {expected} belongs"),
                        ));
                    }
                    Parsed::Short => return Err(damaged(&run.path, offset, "record cut short")),
                    Parsed::Bad(why) => return Err(damaged(&run.path, offset, &why)),
                }
                at = record_end;
            }
        }
        Ok(out)
    }
}

/// The writer thread's handle on the segments.
pub(crate) struct Segments {
    dir: PathBuf,
    index: Arc<RwLock<SegmentIndex>>,
    /// The last segment has writes that are not fsynced yet.
    unsynced: bool,
    /// The last segment file's length: its records, then zeros up to here.
    file_len: u64,
}

enum Parsed<'a> {
    Record {
        index: u64,
        body: &'a [u8],
        len: usize,
    },
    /// The bytes end before the record does.
    Short,
    /// A whole record that does not check out.
    Bad(String),
}

/// Reads the record at the start of `bytes`.
fn parse_record(bytes: &[u8]) -> Parsed<'_> {
    let Some((header, rest)) = bytes.split_first_chunk::<RECORD_HEADER_BYTES>() else {
        return Parsed::Short;
    };
    let [l0, l1, l2, l3, c0, c1, c2, c3, index @ ..] = *header;
    let len = u32::from_le_bytes([l0, l1, l2, l3]);
    if len > RECORD_BODY_BYTES_MAX {
        return Parsed::Bad(format!("record length {len} is out of range"));
    }
    let len = len as usize;
    let Some(body) = rest.get(..len) else {
        return Parsed::Short;
    };
    let crc = u32::from_le_bytes([c0, c1, c2, c3]);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&index);
    hasher.update(body);
    if hasher.finalize() != crc {
        return Parsed::Bad("checksum mismatch (the record was damaged on disk)".to_string());
    }
    Parsed::Record {
        index: u64::from_le_bytes(index),
        body,
        len: RECORD_HEADER_BYTES + len,
    }
}

fn put_record(buf: &mut Vec<u8>, index: u64, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len())
        .ok()
        .filter(|l| *l <= RECORD_BODY_BYTES_MAX)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "raft log entry {index} is {} bytes, over the {RECORD_BODY_BYTES_MAX} a record holds",
                    body.len()
                ),
            )
        })?;
    let index = index.to_le_bytes();
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&index);
    hasher.update(body);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&hasher.finalize().to_le_bytes());
    buf.extend_from_slice(&index);
    buf.extend_from_slice(body);
    Ok(())
}

fn damaged(path: &Path, offset: u64, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "corrupt raft log segment {} at offset {offset}: {why}",
            path.display()
        ),
    )
}

fn with_path(path: &Path, what: &str) -> impl Fn(io::Error) -> io::Error {
    let path = path.display().to_string();
    let what = what.to_string();
    move |e| io::Error::new(e.kind(), format!("{path}: {what}: {e}"))
}

fn header() -> [u8; HEADER_BYTES as usize] {
    let mut h = [0u8; HEADER_BYTES as usize];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&FORMAT.to_le_bytes());
    h
}

/// Makes a directory's entries (files created, renamed or removed) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(with_path(dir, "fsync directory"))
}

impl Segments {
    /// Opens the segments in `dir` (created if missing), repairs a torn tail and removes the
    /// segments wholly at or below `last_purged`.
    pub(crate) fn open(dir: &Path, last_purged: Option<u64>) -> io::Result<Self> {
        let started = corvo_clock::monotonic();
        std::fs::create_dir_all(dir).map_err(with_path(dir, "create"))?;
        let mut names = Vec::new();
        for item in std::fs::read_dir(dir).map_err(with_path(dir, "list"))? {
            let item = item.map_err(with_path(dir, "list"))?;
            let path = item.path();
            let first = path
                .extension()
                .filter(|e| *e == SUFFIX)
                .and_then(|_| path.file_stem()?.to_str()?.parse::<u64>().ok());
            if let Some(first) = first {
                names.push((first, path));
            }
        }
        names.sort();
        let count = names.len();
        let mut segments: VecDeque<Segment> = VecDeque::new();
        let mut removed = false;
        let mut file_len = 0;
        for (n, (first, path)) in names.into_iter().enumerate() {
            let (segment, len) = load(&path, first, n + 1 == count)?;
            let purged = last_purged.is_some_and(|p| segment.last().is_none_or(|l| l <= p));
            if purged || segment.ends.is_empty() {
                std::fs::remove_file(&path).map_err(with_path(&path, "remove"))?;
                removed = true;
                continue;
            }
            if let Some(prev) = segments.back()
                && prev.last().is_some_and(|l| l + 1 != first)
            {
                return Err(damaged(
                    &path,
                    0,
                    &format!(
                        "starts at index {first} but {} ends at {}",
                        prev.path.display(),
                        prev.last().unwrap_or_default()
                    ),
                ));
            }
            segments.push_back(segment);
            file_len = len;
        }
        if removed {
            sync_dir(dir)?;
        }
        if let (Some(first), Some(last)) = (segments.front(), segments.back()) {
            tracing::info!(
                segments = segments.len(),
                first_index = first.first,
                last_index = last.last().unwrap_or_default(),
                bytes = segments.iter().map(Segment::len).sum::<u64>(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "raft log: segments opened"
            );
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            index: Arc::new(RwLock::new(SegmentIndex {
                segments,
                first_kept: last_purged.map_or(0, |p| p.saturating_add(1)),
            })),
            unsynced: false,
            file_len,
        })
    }

    /// The index shared with readers.
    pub(crate) fn index(&self) -> Arc<RwLock<SegmentIndex>> {
        self.index.clone()
    }

    fn lock(&self) -> std::sync::RwLockWriteGuard<'_, SegmentIndex> {
        self.index.write().unwrap_or_else(|p| p.into_inner())
    }

    fn path_of(&self, first: u64) -> PathBuf {
        self.dir.join(format!("{first:020}.{SUFFIX}"))
    }

    /// Starts a new segment whose first entry is `first`; the previous last segment is cut
    /// to its records and fsynced first, so only the last segment can ever hold a torn write
    /// or zeroed room.
    fn start_segment(&mut self, first: u64) -> io::Result<()> {
        let sealed = {
            let guard = self.index.read().unwrap_or_else(|p| p.into_inner());
            guard
                .segments
                .back()
                .map(|s| (s.file.clone(), s.path.clone(), s.len()))
        };
        if let Some((file, path, len)) = sealed
            && self.file_len > len
        {
            file.set_len(len).map_err(with_path(&path, "seal"))?;
            self.unsynced = true;
        }
        self.sync()?;
        let path = self.path_of(first);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(with_path(&path, "create"))?;
        file.write_all_at(&header(), 0)
            .and_then(|()| file.sync_data())
            .map_err(with_path(&path, "write header"))?;
        sync_dir(&self.dir)?;
        self.lock().segments.push_back(Segment {
            first,
            path: Arc::from(path),
            file: Arc::new(file),
            ends: Vec::new(),
        });
        self.file_len = HEADER_BYTES;
        Ok(())
    }

    /// Appends encoded entries, which must continue the log. Not durable until [`sync`].
    ///
    /// [`sync`]: Segments::sync
    pub(crate) fn append(&mut self, entries: &[(u64, Vec<u8>)]) -> io::Result<()> {
        let mut rest = entries;
        while let Some(&(index, _)) = rest.first() {
            let (next, full) = {
                let guard = self.index.read().unwrap_or_else(|p| p.into_inner());
                match guard.segments.back() {
                    Some(s) => (
                        s.last().map_or(s.first, |l| l + 1),
                        s.len() >= SEGMENT_BYTES_MAX,
                    ),
                    None => (index, true),
                }
            };
            if index != next {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("raft log: append of index {index} where {next} comes next"),
                ));
            }
            if full {
                self.start_segment(index)?;
            }
            // Fill the last segment up to its bound (at least one entry) in one write.
            let (file, path, mut at) = {
                let guard = self.index.read().unwrap_or_else(|p| p.into_inner());
                let s = guard
                    .segments
                    .back()
                    .ok_or_else(|| io::Error::other("raft log: no segment to append to"))?;
                (s.file.clone(), s.path.clone(), s.len())
            };
            let mut buf = Vec::new();
            let mut ends = Vec::new();
            let mut taken = 0;
            for (index, body) in rest {
                if taken > 0 && at >= SEGMENT_BYTES_MAX {
                    break;
                }
                let before = buf.len();
                put_record(&mut buf, *index, body)?;
                at += (buf.len() - before) as u64;
                ends.push(at);
                taken += 1;
            }
            let start = at - buf.len() as u64;
            if at > self.file_len && buf.len() <= ZERO_ROUND_BYTES_MAX {
                // Past the file's end: zeroed room for the rounds after this one.
                buf.resize(buf.len() + ZERO_STEP_BYTES as usize, 0);
            }
            file.write_all_at(&buf, start)
                .map_err(with_path(&path, "write"))?;
            self.file_len = self.file_len.max(start + buf.len() as u64);
            self.unsynced = true;
            if let Some(s) = self.lock().segments.back_mut() {
                s.ends.extend_from_slice(&ends);
            }
            rest = &rest[taken..];
        }
        Ok(())
    }

    /// Makes every append so far durable.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        if !self.unsynced {
            return Ok(());
        }
        let (file, path) = {
            let guard = self.index.read().unwrap_or_else(|p| p.into_inner());
            match guard.segments.back() {
                Some(s) => (s.file.clone(), s.path.clone()),
                None => {
                    self.unsynced = false;
                    return Ok(());
                }
            }
        };
        file.sync_data().map_err(with_path(&path, "fsync"))?;
        self.unsynced = false;
        Ok(())
    }

    /// Removes the entries with index >= `from`, durably: an append that reuses the space
    /// must never be followed, after a crash, by an entry it replaced.
    pub(crate) fn truncate_from(&mut self, from: u64) -> io::Result<()> {
        let mut removed = Vec::new();
        let mut cut = None;
        {
            let mut guard = self.lock();
            while guard.segments.back().is_some_and(|s| s.first >= from) {
                if let Some(s) = guard.segments.pop_back() {
                    removed.push(s.path);
                }
            }
            if let Some(s) = guard.segments.back_mut()
                && s.last().is_some_and(|l| l >= from)
            {
                let len = s.start_of(from);
                let keep = usize::try_from(from - s.first).unwrap_or(usize::MAX);
                s.ends.truncate(keep);
                cut = Some((s.file.clone(), s.path.clone(), len));
            }
        }
        if let Some((file, path, len)) = cut {
            // The zeroed room goes too: bytes of the entries removed must not stay behind
            // the records that replace them.
            file.set_len(len)
                .and_then(|()| file.sync_data())
                .map_err(with_path(&path, "truncate"))?;
            self.unsynced = false;
            self.file_len = len;
        } else if !removed.is_empty() {
            // The new last segment was sealed: cut to its records.
            let len = self.lock().segments.back().map_or(0, Segment::len);
            self.file_len = len;
        }
        for path in &removed {
            std::fs::remove_file(path).map_err(with_path(path, "remove"))?;
        }
        if !removed.is_empty() {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Forgets the segments whose entries are all at or below `upto` and removes their
    /// files. The caller has made `last_purged` durable first, so a removal lost in a crash
    /// is redone by [`Segments::open`].
    pub(crate) fn purge_upto(&mut self, upto: u64) -> io::Result<()> {
        let mut removed = Vec::new();
        let empty = {
            let mut guard = self.lock();
            guard.first_kept = guard.first_kept.max(upto.saturating_add(1));
            while guard
                .segments
                .front()
                .is_some_and(|s| s.last().is_none_or(|l| l <= upto))
            {
                if let Some(s) = guard.segments.pop_front() {
                    removed.push(s.path);
                }
            }
            guard.segments.is_empty()
        };
        if empty {
            self.unsynced = false;
        }
        for path in &removed {
            std::fs::remove_file(path).map_err(with_path(path, "remove"))?;
        }
        Ok(())
    }
}

/// Reads one segment file and answers it with the file's length. The last segment, the only
/// one a crash can leave torn, is read whole and every record checked; a sealed one (fsynced
/// before the next was started) only has its record headers walked, and its records are
/// checked when they are read.
fn load(path: &Path, first: u64, last: bool) -> io::Result<(Segment, u64)> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(with_path(path, "open"))?;
    if !last {
        let (ends, len) = walk_sealed(path, &file, first)?;
        let segment = Segment {
            first,
            path: Arc::from(path),
            file: Arc::new(file),
            ends,
        };
        return Ok((segment, len));
    }
    let bytes = std::fs::read(path).map_err(with_path(path, "read"))?;
    let mut segment = Segment {
        first,
        path: Arc::from(path),
        file: Arc::new(file),
        ends: Vec::new(),
    };
    if bytes.len() < HEADER_BYTES as usize {
        // A segment created but cut short before its header was fsynced holds nothing.
        return Ok((segment, bytes.len() as u64));
    }
    check_header(path, &bytes)?;
    // Zeros after the last record are zeroed room. A record's header is never all zeros
    // (its index is at least 1 and its checksum covers the index), so every record starts
    // before `written`.
    let written = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    let mut file_len = bytes.len() as u64;
    let mut at = HEADER_BYTES as usize;
    while at < written {
        let expected = first + segment.ends.len() as u64;
        let record = &bytes[at..];
        match parse_record(record) {
            Parsed::Record { index, len, .. } if index == expected => {
                at += len;
                segment.ends.push(at as u64);
            }
            Parsed::Record { index, .. } => {
                return Err(damaged(
                    path,
                    at as u64,
                    &format!("holds index {index} where {expected} belongs"),
                ));
            }
            Parsed::Short => {
                cut_torn(&segment, at, "record cut short")?;
                file_len = at as u64;
                break;
            }
            Parsed::Bad(why) => {
                // Only the very last record of the file can be a torn write; a bad record
                // with more than zeros after it is damage.
                let whole = record_len(record);
                if whole.is_some_and(|l| at + l >= written) {
                    cut_torn(&segment, at, &why)?;
                    file_len = at as u64;
                    break;
                }
                return Err(damaged(path, at as u64, &why));
            }
        }
    }
    Ok((segment, file_len))
}

/// Checks a segment's header (the first [`HEADER_BYTES`] of `bytes`).
fn check_header(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if bytes.get(..8) != Some(MAGIC.as_slice()) {
        return Err(damaged(path, 0, "not a Corvo log segment (bad magic)"));
    }
    let format = bytes
        .get(8..12)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_le_bytes);
    if format != FORMAT {
        return Err(damaged(
            path,
            8,
            &format!("segment format {format}, which this release cannot read"),
        ));
    }
    Ok(())
}

/// Buffer of the walk over a sealed segment: small records are read through it, the bodies
/// of large ones are skipped.
const WALK_BUFFER_BYTES: usize = 256 << 10;

/// Where each record of a sealed segment ends, from the record headers alone, and the
/// file's length.
fn walk_sealed(path: &Path, file: &File, first: u64) -> io::Result<(Vec<u64>, u64)> {
    use std::io::{BufReader, Read};
    let len = file.metadata().map_err(with_path(path, "stat"))?.len();
    if len < HEADER_BYTES {
        return Err(damaged(path, 0, "shorter than its header"));
    }
    let mut reader = BufReader::with_capacity(WALK_BUFFER_BYTES, file);
    let mut header = [0u8; HEADER_BYTES as usize];
    reader
        .read_exact(&mut header)
        .map_err(with_path(path, "read"))?;
    check_header(path, &header)?;
    let mut at = HEADER_BYTES;
    let mut ends = Vec::new();
    while at < len {
        let expected = first + ends.len() as u64;
        if len - at < RECORD_HEADER_BYTES as u64 {
            return Err(damaged(path, at, "record cut short"));
        }
        let mut record = [0u8; RECORD_HEADER_BYTES];
        reader
            .read_exact(&mut record)
            .map_err(with_path(path, "read"))?;
        if record == [0; RECORD_HEADER_BYTES] {
            // The zeroed room of a segment that was last when a purge emptied the log (its
            // removal lost in a crash), if nothing but zeros follows; where its records end
            // is checked against the next segment's first index.
            if only_zeros_follow(&mut reader).map_err(with_path(path, "read"))? {
                break;
            }
            return Err(damaged(
                path,
                at,
                "a zeroed record header with data after it",
            ));
        }
        let [l0, l1, l2, l3, _, _, _, _, index @ ..] = record;
        let body = u32::from_le_bytes([l0, l1, l2, l3]);
        if body > RECORD_BODY_BYTES_MAX {
            return Err(damaged(
                path,
                at,
                &format!("record length {body} is out of range"),
            ));
        }
        let index = u64::from_le_bytes(index);
        if index != expected {
            return Err(damaged(
                path,
                at,
                &format!("holds index {index} where {expected} belongs"),
            ));
        }
        let end = at + RECORD_HEADER_BYTES as u64 + u64::from(body);
        if end > len {
            return Err(damaged(path, at, "record cut short"));
        }
        reader
            .seek_relative(i64::from(body))
            .map_err(with_path(path, "read"))?;
        at = end;
        ends.push(at);
    }
    Ok((ends, len))
}

/// Whether nothing but zeros is left to read (read through the reader's own buffer, so a
/// segment's room never has to fit in memory at once).
fn only_zeros_follow(reader: &mut impl std::io::BufRead) -> io::Result<bool> {
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(true);
        }
        if chunk.iter().any(|b| *b != 0) {
            return Ok(false);
        }
        let n = chunk.len();
        reader.consume(n);
    }
}

/// Cuts a write torn by a crash off the end of the last segment.
fn cut_torn(segment: &Segment, at: usize, why: &str) -> io::Result<()> {
    let path = &segment.path;
    tracing::warn!(
        segment = %path.display(),
        offset = at,
        "raft log: cutting a write torn by a crash ({why}) from the end of the log"
    );
    segment
        .file
        .set_len(at as u64)
        .and_then(|()| segment.file.sync_data())
        .map_err(with_path(path, "cut torn write"))
}

/// The length of the record at the start of `bytes` by its header, if it fits in `bytes`.
fn record_len(bytes: &[u8]) -> Option<usize> {
    let (header, _) = bytes.split_first_chunk::<RECORD_HEADER_BYTES>()?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let total = RECORD_HEADER_BYTES.checked_add(len)?;
    (total <= bytes.len()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(index: u64, len: usize) -> Vec<u8> {
        vec![(index % 251) as u8; len]
    }

    fn append(segments: &mut Segments, range: std::ops::RangeInclusive<u64>, len: usize) {
        let entries: Vec<_> = range.map(|i| (i, body(i, len))).collect();
        segments.append(&entries).unwrap();
        segments.sync().unwrap();
    }

    fn indexes(segments: &Segments, start: u64, end: u64) -> Vec<u64> {
        SegmentIndex::read(&segments.index, start, end)
            .unwrap()
            .into_iter()
            .map(|(i, b, _)| {
                assert_eq!(b, body(i, b.len()), "entry {i} reads back as written");
                i
            })
            .collect()
    }

    /// Writes entries 1..=70 of 1 MiB (a sealed segment of 64 and a last one of 6) and
    /// answers the sealed segment's path.
    fn sealed_segment(dir: &Path) -> PathBuf {
        let mut segments = Segments::open(dir, None).unwrap();
        append(&mut segments, 1..=70, 1 << 20);
        dir.join(format!("{:020}.seg", 1))
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn entries_read_back_across_segments_and_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut segments = Segments::open(dir.path(), None).unwrap();
        // Records of 1 MiB: a 64 MiB segment holds 64, so 150 entries take three files.
        append(&mut segments, 1..=100, 1 << 20);
        append(&mut segments, 101..=150, 1 << 20);
        assert_eq!(files(dir.path()).len(), 3, "{:?}", files(dir.path()));
        assert_eq!(indexes(&segments, 0, 1000), (1..=150).collect::<Vec<_>>());
        assert_eq!(indexes(&segments, 60, 70), (60..70).collect::<Vec<_>>());
        drop(segments);
        let segments = Segments::open(dir.path(), None).unwrap();
        assert_eq!(indexes(&segments, 0, 1000), (1..=150).collect::<Vec<_>>());
        assert_eq!(segments.index.read().unwrap().last_index(), Some(150));
    }

    #[test]
    fn an_append_that_does_not_continue_the_log_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut segments = Segments::open(dir.path(), None).unwrap();
        append(&mut segments, 5..=6, 10);
        let err = segments.append(&[(8, body(8, 10))]).unwrap_err();
        assert!(err.to_string().contains("index 8 where 7"), "{err}");
        assert_eq!(indexes(&segments, 0, 100), vec![5, 6]);
    }

    #[test]
    fn truncation_and_purge_remove_entries_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut segments = Segments::open(dir.path(), None).unwrap();
        append(&mut segments, 1..=150, 1 << 20);
        // Truncating inside the second segment drops the third file and cuts the second.
        segments.truncate_from(100).unwrap();
        assert_eq!(files(dir.path()).len(), 2);
        append(&mut segments, 100..=101, 10);
        assert_eq!(
            indexes(&segments, 95, 1000),
            vec![95, 96, 97, 98, 99, 100, 101]
        );
        // Purging up to 70 removes the first file (1..=64) only; 65..=70 stay in the
        // second but read as gone.
        segments.purge_upto(70).unwrap();
        assert_eq!(files(dir.path()).len(), 1);
        assert_eq!(indexes(&segments, 0, 1000), (71..=101).collect::<Vec<_>>());
        drop(segments);
        let segments = Segments::open(dir.path(), Some(70)).unwrap();
        assert_eq!(indexes(&segments, 0, 1000), (71..=101).collect::<Vec<_>>());
        // Purging past the end empties the log; the next append may start anywhere.
        let mut segments = segments;
        segments.purge_upto(500).unwrap();
        assert!(files(dir.path()).is_empty());
        append(&mut segments, 501..=502, 10);
        assert_eq!(indexes(&segments, 0, 1000), vec![501, 502]);
    }

    #[test]
    fn a_removal_lost_in_a_crash_is_redone_from_last_purged() {
        let dir = tempfile::tempdir().unwrap();
        let mut segments = Segments::open(dir.path(), None).unwrap();
        append(&mut segments, 1..=3, 10);
        drop(segments);
        // As if the purge of 1..=3 and an append of 10.. happened but the removal was lost.
        let mut later = Segments::open(&dir.path().join("other"), None).unwrap();
        append(&mut later, 10..=11, 10);
        drop(later);
        std::fs::rename(
            dir.path().join("other").join(format!("{:020}.seg", 10)),
            dir.path().join(format!("{:020}.seg", 10)),
        )
        .unwrap();
        std::fs::remove_dir(dir.path().join("other")).unwrap();
        let err = Segments::open(dir.path(), None).err().expect("a gap");
        assert!(err.to_string().contains("starts at index 10"), "{err}");
        let segments = Segments::open(dir.path(), Some(9)).unwrap();
        assert_eq!(indexes(&segments, 0, 100), vec![10, 11]);
        assert_eq!(files(dir.path()).len(), 1);
    }

    #[test]
    fn a_torn_tail_is_cut_and_damage_elsewhere_refuses_to_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut segments = Segments::open(dir.path(), None).unwrap();
        append(&mut segments, 1..=3, 100);
        drop(segments);
        let path = dir.path().join(format!("{:020}.seg", 1));
        // The records end here; zeroed room follows them.
        let good = HEADER_BYTES + 3 * (RECORD_HEADER_BYTES as u64 + 100);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            good + ZERO_STEP_BYTES
        );

        // A record cut short at the end: cut off, the rest reads.
        let mut torn = Vec::new();
        put_record(&mut torn, 4, &body(4, 100)).unwrap();
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&torn[..50], good).unwrap();
        let segments = Segments::open(dir.path(), None).unwrap();
        assert_eq!(indexes(&segments, 0, 100), vec![1, 2, 3]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
        drop(segments);

        // A whole last record with a bad checksum: a torn page, cut off too.
        torn[RECORD_HEADER_BYTES + 3] ^= 0xff;
        file.write_all_at(&torn, good).unwrap();
        let segments = Segments::open(dir.path(), None).unwrap();
        assert_eq!(indexes(&segments, 0, 100), vec![1, 2, 3]);
        drop(segments);

        // A bad record with a good one after it is damage: refused, naming file and offset.
        let file_bytes = std::fs::read(&path).unwrap();
        let mut damaged_bytes = file_bytes.clone();
        damaged_bytes[HEADER_BYTES as usize + RECORD_HEADER_BYTES + 5] ^= 0xff;
        std::fs::write(&path, &damaged_bytes).unwrap();
        let err = Segments::open(dir.path(), None).err().expect("damage");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let msg = err.to_string();
        assert!(
            msg.contains(&path.display().to_string())
                && msg.contains(&format!("offset {HEADER_BYTES}"))
                && msg.contains("checksum"),
            "{msg}"
        );
        // Not a segment at all.
        std::fs::write(&path, b"something else entirely").unwrap();
        let err = Segments::open(dir.path(), None).err().expect("bad magic");
        assert!(err.to_string().contains("bad magic"), "{err}");
    }

    #[test]
    fn a_damaged_record_in_a_sealed_segment_fails_its_read() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = sealed_segment(dir.path());
        let file = OpenOptions::new().write(true).open(&sealed).unwrap();
        // A flipped byte in the body of entry 3: the walk over the headers does not see it.
        let at = HEADER_BYTES + 2 * (RECORD_HEADER_BYTES as u64 + (1 << 20)) + 100;
        file.write_all_at(&[0xAB], at + RECORD_HEADER_BYTES as u64)
            .unwrap();
        let segments = Segments::open(dir.path(), None).unwrap();
        assert_eq!(indexes(&segments, 1, 3), vec![1, 2]);
        let err = SegmentIndex::read(&segments.index, 1, 10).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let msg = err.to_string();
        assert!(
            msg.contains(&sealed.display().to_string()) && msg.contains("checksum"),
            "{msg}"
        );
    }

    #[test]
    fn damage_in_a_sealed_segment_is_never_cut() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = sealed_segment(dir.path());
        let len = std::fs::metadata(&sealed).unwrap().len();
        let file = OpenOptions::new().write(true).open(&sealed).unwrap();
        file.set_len(len - 10).unwrap();
        let err = Segments::open(dir.path(), None).err().expect("damage");
        assert!(err.to_string().contains("cut short"), "{err}");
    }

    fn file_len(path: &Path) -> u64 {
        std::fs::metadata(path).unwrap().len()
    }

    fn record_bytes(len: usize) -> u64 {
        (RECORD_HEADER_BYTES + len) as u64
    }

    #[test]
    fn small_rounds_write_into_zeroed_room_and_big_rounds_grow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{:020}.seg", 1));
        let mut segments = Segments::open(dir.path(), None).unwrap();
        append(&mut segments, 1..=1, 100);
        let room = HEADER_BYTES + record_bytes(100) + ZERO_STEP_BYTES;
        assert_eq!(file_len(&path), room, "the first round zeroes a step ahead");
        append(&mut segments, 2..=50, 100);
        assert_eq!(file_len(&path), room, "later rounds overwrite the zeros");
        drop(segments);

        // Reopened, the zeros are room, not records, and appends go on filling them.
        let mut segments = Segments::open(dir.path(), None).unwrap();
        assert_eq!(indexes(&segments, 0, 100), (1..=50).collect::<Vec<_>>());
        append(&mut segments, 51..=60, 100);
        assert_eq!(file_len(&path), room);
        assert_eq!(indexes(&segments, 0, 100), (1..=60).collect::<Vec<_>>());

        // A round over ZERO_ROUND_BYTES_MAX that runs past the end grows the file by its
        // records alone.
        let big = ZERO_STEP_BYTES as usize;
        append(&mut segments, 61..=61, big);
        let records = HEADER_BYTES + 60 * record_bytes(100) + record_bytes(big);
        assert_eq!(file_len(&path), records);
        // The next small round past the end zeroes a step again.
        append(&mut segments, 62..=62, 100);
        assert_eq!(
            file_len(&path),
            records + record_bytes(100) + ZERO_STEP_BYTES
        );
        drop(segments);
        let segments = Segments::open(dir.path(), None).unwrap();
        assert_eq!(indexes(&segments, 0, 100), (1..=62).collect::<Vec<_>>());
    }

    #[test]
    fn a_sealed_segment_keeps_no_zeroed_room() {
        let dir = tempfile::tempdir().unwrap();
        let mut segments = Segments::open(dir.path(), None).unwrap();
        // 60 KiB rounds take zeroed room; about 1 100 of them fill a segment.
        let len = 60 << 10;
        let per_segment = (SEGMENT_BYTES_MAX - HEADER_BYTES).div_ceil(record_bytes(len));
        for i in 1..=per_segment + 3 {
            segments.append(&[(i, body(i, len))]).unwrap();
        }
        segments.sync().unwrap();
        let sealed = dir.path().join(format!("{:020}.seg", 1));
        assert_eq!(
            file_len(&sealed),
            HEADER_BYTES + per_segment * record_bytes(len),
            "cut to its records when sealed"
        );
        drop(segments);
        // A sealed segment is walked by its record headers, which zeros would fail.
        let segments = Segments::open(dir.path(), None).unwrap();
        assert_eq!(
            indexes(&segments, 0, u64::MAX),
            (1..=per_segment + 3).collect::<Vec<_>>()
        );
    }

    #[test]
    fn truncation_leaves_no_replaced_entry_behind_the_new_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{:020}.seg", 1));
        let mut segments = Segments::open(dir.path(), None).unwrap();
        append(&mut segments, 1..=10, 100);
        segments.truncate_from(5).unwrap();
        assert_eq!(file_len(&path), HEADER_BYTES + 4 * record_bytes(100));
        // Shorter entries 5 and 6 replace the old 5..=10; the old 7.. must not come back.
        append(&mut segments, 5..=6, 10);
        drop(segments);
        let segments = Segments::open(dir.path(), None).unwrap();
        assert_eq!(indexes(&segments, 0, 100), (1..=6).collect::<Vec<_>>());
        let read = SegmentIndex::read(&segments.index, 5, 7).unwrap();
        assert!(
            read.iter().all(|(_, b, _)| b.len() == 10),
            "the new entries"
        );
    }

    #[test]
    fn a_sealed_segment_with_a_zeroed_header_and_data_after_it_is_damage() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = sealed_segment(dir.path());
        let file = OpenOptions::new().write(true).open(&sealed).unwrap();
        // Entry 3's header zeroed: not room, since entries follow it.
        let at = HEADER_BYTES + 2 * record_bytes(1 << 20);
        file.write_all_at(&[0; RECORD_HEADER_BYTES], at).unwrap();
        let err = Segments::open(dir.path(), Some(2)).err().expect("damage");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string().contains(&format!("offset {at}"))
                && err.to_string().contains("zeroed record header"),
            "{err}"
        );
    }

    #[test]
    fn a_torn_write_in_zeroed_room_is_cut_and_bytes_after_zeros_are_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{:020}.seg", 1));
        let mut segments = Segments::open(dir.path(), None).unwrap();
        append(&mut segments, 1..=3, 100);
        drop(segments);
        let good = HEADER_BYTES + 3 * record_bytes(100);
        let file = OpenOptions::new().write(true).open(&path).unwrap();

        // Record 4's header and the start of its body reached the disk, the rest did not:
        // zeros follow, so it is a torn write.
        let mut torn = Vec::new();
        put_record(&mut torn, 4, &body(4, 100)).unwrap();
        file.write_all_at(&torn[..40], good).unwrap();
        let segments = Segments::open(dir.path(), None).unwrap();
        assert_eq!(indexes(&segments, 0, 100), vec![1, 2, 3]);
        assert_eq!(file_len(&path), good, "cut back to the last whole record");
        drop(segments);

        // A record whose first page was lost (zeros) but whose later bytes reached the disk:
        // not provably torn, so the log refuses to open rather than guess.
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(good + ZERO_STEP_BYTES).unwrap();
        file.write_all_at(&torn[60..], good + 60).unwrap();
        let err = Segments::open(dir.path(), None).err().expect("damage");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains(&format!("offset {good}")), "{err}");
    }
}
