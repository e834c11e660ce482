//! The snapshot archive: a checksummed, self-describing copy of the whole state.
//!
//! One archive is one file, written from one read transaction (so it is consistent) and
//! loaded in one write transaction (so a node never serves a half-installed state). It is the
//! unit of log compaction, of catch-up for new or lagging nodes, and of backups.
//!
//! ```text
//! magic "CORVOSNP" | version u32 | created_unix_ms u64 | raft_meta_len u32 | raft_meta
//! then records:     0x01 table: name_len u16, name
//!                   0x02 row:   key_len u32, key, value_len u32, value
//!                   0x03 end:   rows u64
//! then the checksum of every byte before it: XXH3-128 (16 bytes, big-endian) in version 2,
//! SHA-256 (32 bytes) in version 1.
//! ```
//!
//! This release writes version 2 and reads both: the layouts differ only in the checksum,
//! which in version 1 took a third of a snapshot's build (ADR 0050). [`downgrade`] rewrites a
//! version-2 archive as version 1 for a peer of a release before it.
//!
//! Integers are big-endian. Tables are named, not numbered, so a later release that adds a
//! table still reads an older archive. `raft_meta` is opaque here (the Raft crate's last applied
//! log id and membership, the same blob the state stores with every apply). A flipped bit
//! anywhere fails the checksum and the archive is refused with an error naming the file.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::Xxh3;

/// First bytes of every archive.
pub const MAGIC: &[u8; 8] = b"CORVOSNP";
/// The archive layout this release writes (and the newest it reads).
pub const VERSION: u32 = 2;
/// The oldest archive layout this release reads: the same records with a SHA-256 checksum.
pub const VERSION_MIN: u32 = 1;
/// A key or value longer than this is corruption (no table row comes close: payloads are
/// bounded far below it); refusing it keeps a damaged length from allocating gigabytes.
pub const FIELD_BYTES_MAX: u32 = 256 << 20;
/// The Raft metadata blob is small (a log id and a membership); bound it the same way.
pub const RAFT_META_BYTES_MAX: u32 = 16 << 20;
/// Buffered I/O size for reading and writing archives.
const IO_BUFFER_BYTES: usize = 1 << 20;

const TAG_TABLE: u8 = 1;
const TAG_ROW: u8 = 2;
const TAG_END: u8 = 3;

/// What an archive says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveInfo {
    /// The Raft metadata of the state it holds (opaque here).
    pub raft_meta: Vec<u8>,
    pub created_unix_ms: u64,
    /// Rows over all tables (set once the whole file was read or written).
    pub rows: u64,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// The layout's version ([`VERSION_MIN`] ..= [`VERSION`]).
    pub version: u32,
    /// The checksum of the content (the trailer) as `algorithm:hex`, e.g. `xxh3-128:…` or
    /// `sha256:…`; empty when only the header was read.
    pub checksum: String,
}

/// The checksum of an archive's layout version.
enum Checksum {
    Sha256(Box<Sha256>),
    Xxh3(Box<Xxh3>),
}

impl Checksum {
    /// `None` for a version this release does not read.
    fn of_version(version: u32) -> Option<Checksum> {
        match version {
            1 => Some(Checksum::Sha256(Box::default())),
            2 => Some(Checksum::Xxh3(Box::default())),
            _ => None,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Checksum::Sha256(h) => h.update(bytes),
            Checksum::Xxh3(h) => h.update(bytes),
        }
    }

    /// The trailer: the digest of every byte so far.
    fn digest(&self) -> Vec<u8> {
        match self {
            Checksum::Sha256(h) => h.as_ref().clone().finalize().to_vec(),
            Checksum::Xxh3(h) => h.digest128().to_be_bytes().to_vec(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Checksum::Sha256(_) => "sha256",
            Checksum::Xxh3(_) => "xxh3-128",
        }
    }

    /// `algorithm:hex` of `digest`.
    fn show(&self, digest: &[u8]) -> String {
        format!("{}:{}", self.name(), hex(digest))
    }
}

/// Why an archive could not be written or read. Every message names the file.
#[derive(thiserror::Error, Debug)]
pub enum ArchiveError {
    #[error("snapshot archive {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("snapshot archive {path} is corrupt: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("snapshot archive {path}: {reason}")]
    Store { path: String, reason: String },
}

impl ArchiveError {
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        ArchiveError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        ArchiveError::Corrupt {
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn store(path: &Path, reason: impl std::fmt::Display) -> Self {
        ArchiveError::Store {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Writes an archive, hashing every byte on the way.
pub(crate) struct ArchiveWriter<'a> {
    path: &'a Path,
    out: BufWriter<File>,
    hash: Checksum,
    version: u32,
    bytes: u64,
    rows: u64,
}

impl<'a> ArchiveWriter<'a> {
    /// Creates `path` (which must not exist) and writes the header of a [`VERSION`] archive.
    pub(crate) fn create(
        path: &'a Path,
        raft_meta: &[u8],
        created_unix_ms: u64,
    ) -> Result<Self, ArchiveError> {
        Self::create_version(path, raft_meta, created_unix_ms, VERSION)
    }

    /// [`ArchiveWriter::create`] of a given layout version.
    fn create_version(
        path: &'a Path,
        raft_meta: &[u8],
        created_unix_ms: u64,
        version: u32,
    ) -> Result<Self, ArchiveError> {
        let hash = Checksum::of_version(version)
            .ok_or_else(|| ArchiveError::store(path, format!("no archive version {version}")))?;
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| ArchiveError::io(path, e))?;
        let mut w = ArchiveWriter {
            path,
            out: BufWriter::with_capacity(IO_BUFFER_BYTES, file),
            hash,
            version,
            bytes: 0,
            rows: 0,
        };
        let meta_len = u32::try_from(raft_meta.len())
            .ok()
            .filter(|n| *n <= RAFT_META_BYTES_MAX)
            .ok_or_else(|| ArchiveError::store(path, "raft metadata too large"))?;
        w.put(MAGIC)?;
        w.put(&version.to_be_bytes())?;
        w.put(&created_unix_ms.to_be_bytes())?;
        w.put(&meta_len.to_be_bytes())?;
        w.put(raft_meta)?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), ArchiveError> {
        self.hash.update(bytes);
        self.bytes += bytes.len() as u64;
        self.out
            .write_all(bytes)
            .map_err(|e| ArchiveError::io(self.path, e))
    }

    pub(crate) fn table(&mut self, name: &str) -> Result<(), ArchiveError> {
        let len = u16::try_from(name.len())
            .map_err(|_| ArchiveError::store(self.path, "table name too long"))?;
        self.put(&[TAG_TABLE])?;
        self.put(&len.to_be_bytes())?;
        self.put(name.as_bytes())
    }

    pub(crate) fn row(&mut self, key: &[u8], value: &[u8]) -> Result<(), ArchiveError> {
        let field_len = |b: &[u8]| {
            u32::try_from(b.len())
                .ok()
                .filter(|n| *n <= FIELD_BYTES_MAX)
                .ok_or_else(|| ArchiveError::store(self.path, "row larger than FIELD_BYTES_MAX"))
        };
        let (k, v) = (field_len(key)?, field_len(value)?);
        self.put(&[TAG_ROW])?;
        self.put(&k.to_be_bytes())?;
        self.put(key)?;
        self.put(&v.to_be_bytes())?;
        self.put(value)?;
        self.rows += 1;
        Ok(())
    }

    /// Writes the end record and the checksum, and fsyncs the file.
    pub(crate) fn finish(
        mut self,
        raft_meta: Vec<u8>,
        created_unix_ms: u64,
    ) -> Result<ArchiveInfo, ArchiveError> {
        self.put(&[TAG_END])?;
        let rows = self.rows;
        self.put(&rows.to_be_bytes())?;
        let sum = self.hash.digest();
        self.out
            .write_all(&sum)
            .map_err(|e| ArchiveError::io(self.path, e))?;
        let file = self
            .out
            .into_inner()
            .map_err(|e| ArchiveError::io(self.path, e.into_error()))?;
        file.sync_all()
            .map_err(|e| ArchiveError::io(self.path, e))?;
        Ok(ArchiveInfo {
            raft_meta,
            created_unix_ms,
            rows,
            bytes: self.bytes + sum.len() as u64,
            version: self.version,
            checksum: self.hash.show(&sum),
        })
    }
}

/// One record of an archive, as [`ArchiveReader::next`] hands them out.
pub(crate) enum Record {
    Table(String),
    Row(Vec<u8>, Vec<u8>),
}

/// Reads an archive record by record, hashing as it goes; [`ArchiveReader::finish`] checks
/// the checksum. Nothing read may be trusted (committed) before `finish` succeeds.
pub(crate) struct ArchiveReader<'a> {
    path: &'a Path,
    input: BufReader<File>,
    hash: Checksum,
    version: u32,
    bytes: u64,
    rows: u64,
    ended: bool,
    pub(crate) raft_meta: Vec<u8>,
    pub(crate) created_unix_ms: u64,
}

impl<'a> ArchiveReader<'a> {
    /// Opens `path` and reads the header.
    pub(crate) fn open(path: &'a Path) -> Result<Self, ArchiveError> {
        let file = File::open(path).map_err(|e| ArchiveError::io(path, e))?;
        let mut input = BufReader::with_capacity(IO_BUFFER_BYTES, file);
        // The magic and the version come before the checksum is known; it covers them too.
        let mut start = [0u8; 12];
        let read_start = |input: &mut BufReader<File>, buf: &mut [u8], at: usize| {
            input.read_exact(buf).map_err(|e| {
                if e.kind() == io::ErrorKind::UnexpectedEof {
                    ArchiveError::corrupt(path, format!("truncated after {at} bytes"))
                } else {
                    ArchiveError::io(path, e)
                }
            })
        };
        read_start(&mut input, &mut start[..8], 0)?;
        if &start[..8] != MAGIC {
            return Err(ArchiveError::corrupt(
                path,
                "not a Corvo snapshot archive (bad magic bytes)",
            ));
        }
        read_start(&mut input, &mut start[8..], 8)?;
        let version = u32::from_be_bytes([start[8], start[9], start[10], start[11]]);
        let mut hash = Checksum::of_version(version).ok_or_else(|| {
            ArchiveError::corrupt(
                path,
                format!(
                    "archive version {version}; this release reads versions {VERSION_MIN} to {VERSION}"
                ),
            )
        })?;
        hash.update(&start);
        let mut r = ArchiveReader {
            path,
            input,
            hash,
            version,
            bytes: start.len() as u64,
            rows: 0,
            ended: false,
            raft_meta: Vec::new(),
            created_unix_ms: 0,
        };
        r.created_unix_ms = u64::from_be_bytes(r.array()?);
        let meta_len = u32::from_be_bytes(r.array()?);
        if meta_len > RAFT_META_BYTES_MAX {
            return Err(ArchiveError::corrupt(
                path,
                "raft metadata length out of range",
            ));
        }
        r.raft_meta = r.bytes(meta_len)?;
        Ok(r)
    }

    fn take(&mut self, buf: &mut [u8]) -> Result<(), ArchiveError> {
        self.input.read_exact(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                ArchiveError::corrupt(self.path, format!("truncated after {} bytes", self.bytes))
            } else {
                ArchiveError::io(self.path, e)
            }
        })?;
        self.hash.update(&*buf);
        self.bytes += buf.len() as u64;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ArchiveError> {
        let mut buf = [0u8; N];
        self.take(&mut buf)?;
        Ok(buf)
    }

    fn bytes(&mut self, len: u32) -> Result<Vec<u8>, ArchiveError> {
        let mut buf = vec![0u8; len as usize];
        self.take(&mut buf)?;
        Ok(buf)
    }

    fn field(&mut self) -> Result<Vec<u8>, ArchiveError> {
        let len = u32::from_be_bytes(self.array()?);
        if len > FIELD_BYTES_MAX {
            return Err(ArchiveError::corrupt(
                self.path,
                format!("field length {len} at byte {} out of range", self.bytes),
            ));
        }
        self.bytes(len)
    }

    /// The next record, or `None` after the end record.
    pub(crate) fn next(&mut self) -> Result<Option<Record>, ArchiveError> {
        if self.ended {
            return Ok(None);
        }
        let [tag] = self.array()?;
        match tag {
            TAG_TABLE => {
                let len = u16::from_be_bytes(self.array()?);
                let name = self.bytes(u32::from(len))?;
                let name = String::from_utf8(name)
                    .map_err(|_| ArchiveError::corrupt(self.path, "table name is not UTF-8"))?;
                Ok(Some(Record::Table(name)))
            }
            TAG_ROW => {
                let key = self.field()?;
                let value = self.field()?;
                self.rows += 1;
                Ok(Some(Record::Row(key, value)))
            }
            TAG_END => {
                let rows = u64::from_be_bytes(self.array()?);
                if rows != self.rows {
                    return Err(ArchiveError::corrupt(
                        self.path,
                        format!(
                            "end record counts {rows} rows, the archive holds {}",
                            self.rows
                        ),
                    ));
                }
                self.ended = true;
                Ok(None)
            }
            other => Err(ArchiveError::corrupt(
                self.path,
                format!("unknown record tag {other} at byte {}", self.bytes - 1),
            )),
        }
    }

    /// Checks the trailer against the content and that nothing follows it.
    pub(crate) fn finish(mut self) -> Result<ArchiveInfo, ArchiveError> {
        while self.next()?.is_some() {}
        let expected = self.hash.digest();
        let mut trailer = vec![0u8; expected.len()];
        self.input.read_exact(&mut trailer).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                ArchiveError::corrupt(self.path, "truncated: the checksum is missing")
            } else {
                ArchiveError::io(self.path, e)
            }
        })?;
        if trailer[..] != expected[..] {
            return Err(ArchiveError::corrupt(
                self.path,
                "checksum mismatch (the file was damaged or modified)",
            ));
        }
        let mut rest = [0u8; 1];
        match self.input.read(&mut rest) {
            Ok(0) => {}
            Ok(_) => return Err(ArchiveError::corrupt(self.path, "bytes after the checksum")),
            Err(e) => return Err(ArchiveError::io(self.path, e)),
        }
        Ok(ArchiveInfo {
            raft_meta: self.raft_meta,
            created_unix_ms: self.created_unix_ms,
            rows: self.rows,
            bytes: self.bytes + expected.len() as u64,
            version: self.version,
            checksum: self.hash.show(&expected),
        })
    }
}

/// Reads a whole archive and checks it: structure, row count and checksum.
pub fn verify(path: &Path) -> Result<ArchiveInfo, ArchiveError> {
    ArchiveReader::open(path)?.finish()
}

/// Reads only the header of an archive (cheap; does not check the checksum): for listings.
pub fn header(path: &Path) -> Result<ArchiveInfo, ArchiveError> {
    let r = ArchiveReader::open(path)?;
    let bytes = std::fs::metadata(path)
        .map_err(|e| ArchiveError::io(path, e))?
        .len();
    Ok(ArchiveInfo {
        raft_meta: r.raft_meta,
        created_unix_ms: r.created_unix_ms,
        rows: 0,
        bytes,
        version: r.version,
        checksum: String::new(),
    })
}

/// Rewrites the archive at `src` as a [`VERSION_MIN`] archive at `dst` (a new file), for a
/// peer of a release before [`VERSION`]: the same records, the older checksum. `src` is
/// checked to its last byte on the way; when it does not check out, `dst` is removed and the
/// error names `src`.
pub fn downgrade(src: &Path, dst: &Path) -> Result<ArchiveInfo, ArchiveError> {
    let mut r = ArchiveReader::open(src)?;
    let (meta, created) = (r.raft_meta.clone(), r.created_unix_ms);
    let mut w = ArchiveWriter::create_version(dst, &meta, created, VERSION_MIN)?;
    let mut copy = || {
        while let Some(record) = r.next()? {
            match record {
                Record::Table(name) => w.table(&name)?,
                Record::Row(key, value) => w.row(&key, &value)?,
            }
        }
        Ok(())
    };
    let written = copy()
        .and_then(|()| r.finish())
        .and_then(|_| w.finish(meta, created));
    if written.is_err() {
        let _ = std::fs::remove_file(dst);
    }
    written
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        /// An archive file of any content is refused with an error, never a panic.
        #[test]
        fn any_file_is_an_archive_or_an_error(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048),
            prefix in proptest::bool::ANY,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("a.snapshot");
            // Half the cases start like a real archive, to get past the first check.
            let mut content = if prefix { super::MAGIC.to_vec() } else { Vec::new() };
            content.extend_from_slice(&bytes);
            std::fs::write(&path, &content).unwrap();
            let _ = super::verify(&path);
            let _ = super::header(&path);
        }
    }
}
