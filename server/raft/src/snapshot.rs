//! Snapshot files: where the archives live, how they are named, and how many are kept.
//!
//! The archive's content belongs to the application ([`crate::AppStateMachine`] writes,
//! checks and installs it); this module only moves files. An archive is written (or received)
//! under a temporary name, fsynced, then renamed to its final name and the directory fsynced,
//! so a crash never leaves a half-written file under a snapshot name. After each new
//! snapshot all but the newest [`SNAPSHOTS_KEPT`] are deleted.
//!
//! Final names sort by log index: `snapshot-<index:020>-<term:020>.corvo-snapshot`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::types::LogId;

/// Snapshots kept on disk (DESIGN §6): the newest, and the one before it in case the newest
/// turns out damaged.
pub const SNAPSHOTS_KEPT: usize = 2;

const PREFIX: &str = "snapshot-";
const SUFFIX: &str = ".corvo-snapshot";
const TEMP_SUFFIX: &str = ".partial";

/// What openraft hands around as snapshot data: an archive file on disk.
#[derive(Debug, Clone)]
pub struct SnapshotFile {
    pub path: PathBuf,
}

/// One archive in the directory, as its name describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotEntry {
    pub path: PathBuf,
    pub last_index: u64,
    pub last_term: u64,
}

impl SnapshotEntry {
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// The directory of snapshot archives (`<data-dir>/snapshots`).
#[derive(Debug)]
pub struct SnapshotDir {
    dir: PathBuf,
    next_temp: AtomicU64,
}

impl SnapshotDir {
    /// Opens (creating) the directory and removes temporary files a crash left behind.
    pub fn open(dir: &Path) -> io::Result<SnapshotDir> {
        std::fs::create_dir_all(dir).map_err(|e| named(dir, e))?;
        for entry in std::fs::read_dir(dir).map_err(|e| named(dir, e))? {
            let path = entry.map_err(|e| named(dir, e))?.path();
            if path.to_string_lossy().ends_with(TEMP_SUFFIX) {
                std::fs::remove_file(&path).map_err(|e| named(&path, e))?;
            }
        }
        Ok(SnapshotDir {
            dir: dir.to_path_buf(),
            next_temp: AtomicU64::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// A fresh temporary path in the directory (removed at the next open if never renamed).
    pub fn temp_path(&self, what: &str) -> PathBuf {
        let n = self.next_temp.fetch_add(1, Ordering::Relaxed);
        self.dir
            .join(format!("{what}-{}-{n}{TEMP_SUFFIX}", std::process::id()))
    }

    /// The final path of the snapshot ending at `log_id`.
    pub fn final_path(&self, log_id: &LogId) -> PathBuf {
        self.dir.join(format!(
            "{PREFIX}{:020}-{:020}{SUFFIX}",
            log_id.index, log_id.leader_id.term
        ))
    }

    /// The archives in the directory, newest (highest index) first.
    pub fn list(&self) -> io::Result<Vec<SnapshotEntry>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| named(&self.dir, e))? {
            let path = entry.map_err(|e| named(&self.dir, e))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if let Some((last_index, last_term)) = parse_name(name) {
                out.push(SnapshotEntry {
                    path,
                    last_index,
                    last_term,
                });
            }
        }
        out.sort_by_key(|e| std::cmp::Reverse((e.last_index, e.last_term)));
        Ok(out)
    }

    /// Moves a finished temporary archive to its final name (replacing an archive of the same
    /// log id), makes the rename durable, and deletes all but the newest [`SNAPSHOTS_KEPT`].
    pub fn commit(&self, temp: &Path, log_id: &LogId) -> io::Result<PathBuf> {
        let path = self.final_path(log_id);
        std::fs::rename(temp, &path).map_err(|e| named(temp, e))?;
        self.sync_dir()?;
        self.prune()?;
        Ok(path)
    }

    fn prune(&self) -> io::Result<()> {
        for old in self.list()?.into_iter().skip(SNAPSHOTS_KEPT) {
            std::fs::remove_file(&old.path).map_err(|e| named(&old.path, e))?;
            tracing::info!(file = %old.path.display(), "deleted an old snapshot");
        }
        Ok(())
    }

    fn sync_dir(&self) -> io::Result<()> {
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| named(&self.dir, e))
    }
}

fn parse_name(name: &str) -> Option<(u64, u64)> {
    let middle = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (index, term) = middle.split_once('-')?;
    Some((index.parse().ok()?, term.parse().ok()?))
}

fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Removes a temporary file of the snapshot directory when dropped: a received archive that
/// was not installed (once installed it was moved to its final name and is gone already), or
/// a copy made for one peer once sent or given up.
pub(crate) struct TempFile(pub(crate) PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::vote::RaftLeaderId;

    fn log_id(term: u64, index: u64) -> LogId {
        LogId {
            leader_id: openraft::alias::CommittedLeaderIdOf::<crate::TypeConfig>::new(term, 1),
            index,
        }
    }

    #[test]
    fn keeps_the_two_newest_and_clears_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SnapshotDir::open(tmp.path()).unwrap();
        for (term, index) in [(1, 5), (2, 50), (2, 7)] {
            let temp = dir.temp_path("build");
            std::fs::write(&temp, b"x").unwrap();
            dir.commit(&temp, &log_id(term, index)).unwrap();
        }
        let kept: Vec<u64> = dir.list().unwrap().iter().map(|e| e.last_index).collect();
        assert_eq!(kept, vec![50, 7]);
        assert_eq!(
            dir.list().unwrap()[0].file_name(),
            "snapshot-00000000000000000050-00000000000000000002.corvo-snapshot"
        );

        // A crash mid-write leaves a temporary file: the next open removes it.
        let leftover = dir.temp_path("receive");
        std::fs::write(&leftover, b"half").unwrap();
        std::fs::write(tmp.path().join("unrelated.txt"), b"keep").unwrap();
        let dir = SnapshotDir::open(tmp.path()).unwrap();
        assert!(!leftover.exists());
        assert!(tmp.path().join("unrelated.txt").exists());
        assert_eq!(dir.list().unwrap().len(), 2);
    }
}
