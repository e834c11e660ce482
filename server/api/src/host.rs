//! What the operating system says about this process and its data directory (Linux: read
//! from `/proc/self` and `statvfs`). Elsewhere the values are absent (`None`), not invented.

use std::path::Path;

/// Files looked at when adding up the data directory (it holds a handful: the state and log
/// databases, the node id). A bound so that a misconfigured data dir (say, `/`) costs a
/// bounded walk per scrape; the sum is then a lower bound.
pub const DATA_DIR_ENTRIES_MAX: usize = 10_000;

/// Space used by the data directory and left on its filesystem.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskUsage {
    /// Bytes allocated to the data directory's files (what they occupy on disk).
    pub used_bytes: u64,
    /// Bytes an unprivileged writer may still allocate on the data directory's filesystem.
    pub free_bytes: Option<u64>,
    /// The filesystem's size in bytes.
    pub size_bytes: Option<u64>,
}

/// Measures the data directory (a few syscalls: call it off the async threads when it
/// matters).
pub fn disk_usage(data_dir: &Path) -> DiskUsage {
    let (free_bytes, size_bytes) = match filesystem_space(data_dir) {
        Some((free, size)) => (Some(free), Some(size)),
        None => (None, None),
    };
    DiskUsage {
        used_bytes: allocated_bytes(data_dir),
        free_bytes,
        size_bytes,
    }
}

fn allocated_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0u64;
    let mut seen = 0usize;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > DATA_DIR_ENTRIES_MAX {
                return total;
            }
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                // st_blocks is in 512-byte units whatever the filesystem's block size.
                total = total.saturating_add(meta.blocks().saturating_mul(512));
            }
        }
    }
    total
}

/// (free bytes for unprivileged writers, filesystem size) of the filesystem holding `path`.
fn filesystem_space(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs only writes into `stat`, which is a plain C struct, and reads the
    // NUL-terminated path, which outlives the call.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    if rc != 0 {
        return None;
    }
    let unit = stat.f_frsize as u64;
    Some((
        (stat.f_bavail as u64).saturating_mul(unit),
        (stat.f_blocks as u64).saturating_mul(unit),
    ))
}

/// CPU, memory and file descriptors of this process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcessStats {
    /// User + system CPU time consumed.
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<u64>,
    pub open_fds: Option<u64>,
    /// The soft limit on open files.
    pub max_fds: Option<u64>,
    /// When the process started, in seconds since the Unix epoch.
    pub start_time_seconds: Option<f64>,
}

/// Reads `/proc/self` (Linux). On other systems every field is `None`.
pub fn process_stats() -> ProcessStats {
    let mut stats = ProcessStats::default();
    // SAFETY: sysconf has no preconditions.
    let (ticks, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat")
        && let Some(fields) = stat_fields(&stat)
    {
        let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        if ticks > 0 {
            let ticks = ticks as f64;
            if let (Some(utime), Some(stime)) = (field(11), field(12)) {
                stats.cpu_seconds = Some((utime + stime) as f64 / ticks);
            }
            if let (Some(start), Some(boot)) = (field(19), boot_time_seconds()) {
                stats.start_time_seconds = Some(boot as f64 + start as f64 / ticks);
            }
        }
        if page > 0 {
            stats.resident_bytes = field(21).map(|pages| pages.saturating_mul(page as u64));
        }
    }
    stats.open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as u64);
    stats.max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| max_open_files(&limits));
    stats
}

/// The fields of `/proc/self/stat` after the command name (which may hold spaces), so that
/// index 0 is field 3 (`state`) of proc(5).
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().collect())
}

fn boot_time_seconds() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn max_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_skip_a_command_name_with_spaces_and_parens() {
        let stat = "42 (my (odd) cmd) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 12345 678 18446744073709551615";
        let f = stat_fields(stat).unwrap();
        assert_eq!(f[0], "S");
        assert_eq!(f[11], "250", "utime");
        assert_eq!(f[12], "50", "stime");
        assert_eq!(f[19], "1000", "starttime");
        assert_eq!(f[21], "678", "rss");
    }

    #[test]
    fn max_open_files_reads_the_soft_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n";
        assert_eq!(max_open_files(limits), Some(1024));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_and_a_temp_dir_are_measured() {
        let p = process_stats();
        assert!(p.cpu_seconds.is_some_and(|s| s >= 0.0));
        assert!(p.resident_bytes.is_some_and(|b| b > 0));
        assert!(p.open_fds.is_some_and(|n| n > 0));
        assert!(p.start_time_seconds.is_some_and(|s| s > 1e9));
        let dir = std::env::temp_dir().join(format!("corvo-host-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/f"), vec![1u8; 64 << 10]).unwrap();
        let d = disk_usage(&dir);
        assert!(d.used_bytes >= 64 << 10, "{d:?}");
        assert!(
            d.free_bytes.is_some() && d.size_bytes >= d.free_bytes,
            "{d:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
