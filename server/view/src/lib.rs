//! The SQLite read view: list and search jobs. Derived from the redb state, never the source
//! of truth (DESIGN §8, docs/adr/0012-read-view.md).
//!
//! ```text
//!  apply (blocking pool) ──changed(index, jobs written)──▶ bounded queue ──▶ projector thread
//!        (full queue: the apply waits — backpressure, never a dropped update)   │
//!        records carried as written; beyond a byte budget   JobSource (redb) ◀──┤ records not carried
//!        only ids, and the projector reads the records      SQLite write txn ◀──┘ upsert/delete rows
//!                                                                                + applied index
//!  ListJobs ──▶ View::search (read connection) ──▶ job ids ──▶ records from redb
//! ```
//!
//! The view keeps, per job, only what the filters need (queue, state, priority, creation
//! time and last error in small rows; tags, which never change, written once); results are
//! read back from redb, and so is the payload for `payload_contains` (a scan within the other
//! filters, bounded per call), so what a search
//! returns is always the current record. The apply hands the projector the records it wrote
//! (decoding them is cheaper than reading them back from redb); records beyond
//! [`RECORDS_QUEUED_BYTES_MAX`] are read from one redb read instead. Either way a job's row is
//! its latest written record, so replaying an entry is harmless (idempotent); it stores the
//! log index it has reached in the same SQLite transaction. At start-up a view behind the
//! state (a crash while it lagged, a deleted file, a snapshot restore) is rebuilt from the
//! state. [`View::wait_for`] lets a read wait until the view has reached an index
//! (read-your-writes). A write that fails (a full disk) is followed by a rebuild from the
//! state, retried with a growing wait until it succeeds; meanwhile updates are dropped (the
//! rebuild covers them) and reads that wait answer with the failure at once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corvo_core::keys::state_code;
use corvo_core::model::{Job, JobState, Priority};
use corvo_core::{JobChange, JobWrite};
use rusqlite::{Connection, OpenFlags, params, params_from_iter};
use tokio::sync::watch;

/// Updates queued for the projector; when full, `changed` waits (backpressure on applies).
pub const UPDATES_QUEUED_MAX: usize = 1024;
/// Records queued for the projector (bytes); past this the apply sends only ids and the
/// projector reads the records from the state (bounds memory when the view falls behind).
pub const RECORDS_QUEUED_BYTES_MAX: usize = 64 << 20;
/// At most this many job ids refreshed per SQLite transaction.
pub const BATCH_JOBS_MAX: usize = 8192;
/// The projector gathers updates this long before writing them (the view's added lag).
pub const BATCH_WAIT: Duration = Duration::from_millis(20);
/// After a failed write (a full disk, say) the projector rebuilds the view from the state,
/// first after this long, then after twice as long each time it fails again...
pub const RECOVERY_WAIT_MIN: Duration = Duration::from_millis(500);
/// ...up to this long.
pub const RECOVERY_WAIT_MAX: Duration = Duration::from_secs(30);
/// The projector thread's nice value: below the request and apply threads.
const PROJECTOR_NICE: libc::c_int = 10;
/// Read connections (searches run on the blocking pool, one connection each).
pub const READ_CONNECTIONS: usize = 4;
/// Largest page a search returns.
pub const PAGE_SIZE_MAX: usize = 1000;
/// `payload_contains` reads payloads from the state in chunks of this many rows...
const PAYLOAD_SCAN_CHUNK: usize = 256;
/// ...and examines at most this many rows per call.
pub const PAYLOAD_SCAN_MAX: usize = 10_000;
/// The projector's SQLite page cache (32 MiB; 64 MiB gained no measurable throughput and
/// cost resident memory, docs/performance.md, "Throughput as data grows").
const WRITER_CACHE_KIB: i64 = 32 * 1024;
/// Page size when none is asked for.
pub const PAGE_SIZE_DEFAULT: usize = 100;

/// Why the view failed.
#[derive(thiserror::Error, Debug)]
pub enum ViewError {
    #[error("read view {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("read view: reading the state: {0}")]
    Source(String),
    #[error("invalid search: {0}")]
    InvalidQuery(String),
    #[error("the read view did not reach index {wanted} within {waited:?} (it is at {at})")]
    Timeout {
        wanted: u64,
        at: u64,
        waited: Duration,
    },
    #[error("the read view's projector has stopped: {0}")]
    Stopped(String),
    #[error(
        "the read view cannot be written ({0}); it is rebuilt from the state as soon as it can be"
    )]
    Failing(String),
}

/// Where the projector reads current job records: the redb state.
pub trait JobSource: Send + Sync + 'static {
    /// The current records of `ids` from one consistent read (`None`: the job is gone).
    fn jobs(&self, ids: &[String]) -> Result<Vec<Option<Job>>, String>;
    /// Every job, in id order, from one consistent read.
    fn for_each_job(&self, f: &mut dyn FnMut(Job) -> Result<(), String>) -> Result<(), String>;
}

/// A search. Every filter given must match; results are newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobQuery {
    pub queue: Option<String>,
    /// Any of these states (empty: any state).
    pub states: Vec<JobState>,
    pub priority: Option<Priority>,
    /// Every (key, value) must be among the job's tags.
    pub tags: Vec<(String, String)>,
    /// The payload contains this text.
    pub payload_contains: Option<String>,
    /// The last error contains this text.
    pub error_contains: Option<String>,
    /// Created at or after (Unix ms).
    pub created_from_ms: Option<u64>,
    /// Created before (Unix ms).
    pub created_before_ms: Option<u64>,
    /// 1..=[`PAGE_SIZE_MAX`]; 0 means [`PAGE_SIZE_DEFAULT`].
    pub limit: usize,
    /// Continue after this cursor (from a previous page).
    pub after: Option<Cursor>,
}

/// A position in the newest-first order: keyset pagination (stable under inserts). Jobs are
/// ordered by their enqueue sequence number (`Job::seq`), which is creation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub seq: u64,
}

impl Cursor {
    /// The opaque page token.
    pub fn token(&self) -> String {
        format!("s{}", self.seq)
    }

    pub fn parse(token: &str) -> Result<Cursor, ViewError> {
        token
            .strip_prefix('s')
            .and_then(|n| n.parse().ok())
            .map(|seq| Cursor { seq })
            .ok_or_else(|| {
                ViewError::InvalidQuery(format!(
                    "page_token {token:?} is not one this server issued"
                ))
            })
    }
}

/// One page of a search: job ids, newest first, and the cursor of the next page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobPage {
    pub ids: Vec<String>,
    /// The position of each id (same order).
    pub rows: Vec<Cursor>,
    pub next: Option<Cursor>,
}

impl JobPage {
    fn of(rows: Vec<(Cursor, String)>, next: Option<Cursor>) -> JobPage {
        let (rows, ids) = rows.into_iter().unzip();
        JobPage { ids, rows, next }
    }
}

enum Msg {
    Changed {
        index: u64,
        writes: Vec<JobWrite>,
        /// Record bytes carried (counted in [`View::queued_bytes`]).
        bytes: usize,
    },
    Rebuild {
        index: u64,
    },
}

/// The read view; cheap to share (`Arc`).
pub struct View {
    path: PathBuf,
    /// Payloads for `payload_contains` come from the state.
    source: Arc<dyn JobSource>,
    updates: SyncSender<Msg>,
    /// Record bytes in the queue (see [`RECORDS_QUEUED_BYTES_MAX`]).
    queued_bytes: Arc<AtomicUsize>,
    /// Messages in the queue.
    queued: Arc<AtomicUsize>,
    applied: watch::Receiver<u64>,
    readers: Mutex<Vec<Connection>>,
    /// Why the view cannot be written at the moment (it is rebuilt once it can), if so.
    failed: Arc<Mutex<Option<String>>>,
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> ViewError + '_ {
    move |source| ViewError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

/// The layout below; a view file of another version is dropped and rebuilt from the state.
const SCHEMA_VERSION: i64 = 4;

/// Rows are keyed by the job's enqueue sequence number (the rowid): new jobs append at the
/// end of the table and of each index, "newest first" is the rowid read backwards, and no index
/// holds the text id. The creation time is nondecreasing in that order (log stamps never go
/// backwards), which turns a time filter into a rowid range ([`seq_bound`]). States are
/// stored as their `corvo_core::keys::state_code`. Rows are kept small (a state change
/// rewrites only the row and its index entries); tags never change, so they are written once,
/// when the job first shows. Payloads are not copied here: `payload_contains` reads them from
/// the state (see [`View::search`]).
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS jobs (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        queue TEXT NOT NULL,
        state INTEGER NOT NULL,
        priority INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        last_error TEXT
    );
    CREATE INDEX IF NOT EXISTS jobs_by_queue_state ON jobs (queue, state, seq);
    CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, seq);
    CREATE TABLE IF NOT EXISTS job_tags (
        seq INTEGER NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (seq, key)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS job_tags_by_value ON job_tags (key, value, seq);
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
";

fn open_writer(path: &Path) -> Result<Connection, ViewError> {
    let conn = Connection::open(path).map_err(sqlite(path))?;
    // WAL: readers never block the projector; NORMAL: the view is rebuilt from redb if a
    // crash loses its last transactions.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sqlite(path))?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sqlite(path))?;
    // The projector re-reads the rows it updates: keep the hot pages in memory (KiB).
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)
        .map_err(sqlite(path))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sqlite(path))?;
    if version != SCHEMA_VERSION {
        // Derived data: drop what an older layout left and rebuild from the state.
        conn.execute_batch(
            "DROP TABLE IF EXISTS jobs; DROP TABLE IF EXISTS job_payloads;
             DROP TABLE IF EXISTS job_tags; DROP TABLE IF EXISTS meta;",
        )
        .map_err(sqlite(path))?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sqlite(path))?;
    }
    conn.execute_batch(SCHEMA).map_err(sqlite(path))?;
    Ok(conn)
}

fn stored_index(conn: &Connection, path: &Path) -> Result<Option<u64>, ViewError> {
    let mut stmt = conn
        .prepare("SELECT value FROM meta WHERE key = 'applied_index'")
        .map_err(sqlite(path))?;
    let mut rows = stmt.query([]).map_err(sqlite(path))?;
    match rows.next().map_err(sqlite(path))? {
        Some(row) => Ok(Some(row.get::<_, i64>(0).map_err(sqlite(path))? as u64)),
        None => Ok(None),
    }
}

impl View {
    /// Opens (creating) the view at `path`. When it is behind `state_index` (the index the
    /// state file holds) it is rebuilt from `source` first. Then starts the projector.
    pub fn open(
        path: &Path,
        source: Arc<dyn JobSource>,
        state_index: Option<u64>,
    ) -> Result<View, ViewError> {
        let mut writer = open_writer(path)?;
        let stored = stored_index(&writer, path)?;
        let at = match (stored, state_index) {
            (Some(v), Some(s)) if v >= s => v,
            (_, Some(s)) => {
                tracing::info!(view_index = ?stored, state_index = s, "read view behind the state: rebuilding it");
                rebuild(&mut writer, path, source.as_ref(), s)?;
                s
            }
            (v, None) => v.unwrap_or(0),
        };
        let mut readers = Vec::with_capacity(READ_CONNECTIONS);
        for _ in 0..READ_CONNECTIONS {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(sqlite(path))?;
            readers.push(conn);
        }
        let (tx, rx) = sync_channel(UPDATES_QUEUED_MAX);
        let (applied_tx, applied_rx) = watch::channel(at);
        let failed = Arc::new(Mutex::new(None));
        let projector_source = source.clone();
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        let queued = Arc::new(AtomicUsize::new(0));
        let mut projector = Projector {
            path: path.to_path_buf(),
            conn: writer,
            source,
            applied: applied_tx,
            queued_bytes: queued_bytes.clone(),
            queued: queued.clone(),
            failed: failed.clone(),
        };
        std::thread::Builder::new()
            .name("corvo-view".to_owned())
            .spawn(move || {
                lower_priority();
                projector.run(rx);
            })
            .map_err(|e| ViewError::Stopped(format!("spawning the projector: {e}")))?;
        Ok(View {
            source: projector_source,
            path: path.to_path_buf(),
            updates: tx,
            queued_bytes,
            queued,
            applied: applied_rx,
            readers: Mutex::new(readers),
            failed,
        })
    }

    /// Whether the projector's queue is at most half full: [`View::changed`] will not wait.
    pub fn has_room(&self) -> bool {
        self.queued.load(Ordering::Acquire) <= UPDATES_QUEUED_MAX / 2
    }

    /// The entries up to `index` wrote these jobs. Waits while the projector's queue is full.
    /// Called on the apply path, outside async code.
    pub fn changed(&self, index: u64, mut writes: Vec<JobWrite>) {
        let carried = |w: &JobWrite| match &w.change {
            JobChange::Written(Some(record)) => record.len(),
            _ => 0,
        };
        let mut bytes: usize = writes.iter().map(carried).sum();
        let queued = self.queued_bytes.fetch_add(bytes, Ordering::AcqRel);
        if queued + bytes > RECORDS_QUEUED_BYTES_MAX {
            // Over budget: the projector reads these records from the state instead (deleted
            // jobs keep theirs: deletions are rare and their rows are found by it).
            self.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
            bytes = 0;
            for w in &mut writes {
                if let JobChange::Written(record) = &mut w.change {
                    *record = None;
                }
            }
        }
        let msg = Msg::Changed {
            index,
            writes,
            bytes,
        };
        // Counted before the send: the projector may take the message at once.
        self.queued.fetch_add(1, Ordering::AcqRel);
        match self.updates.try_send(msg) {
            Ok(()) => {}
            Err(TrySendError::Full(msg)) => {
                // Backpressure: the apply waits for the projector rather than drop an update.
                if self.updates.send(msg).is_err() {
                    tracing::error!("the read view's projector has stopped; the view is stale");
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                tracing::error!("the read view's projector has stopped; the view is stale");
            }
        }
    }

    /// The whole state was replaced (a snapshot was installed at `index`): rebuild.
    pub fn rebuild(&self, index: u64) {
        if self.updates.send(Msg::Rebuild { index }).is_err() {
            tracing::error!("the read view's projector has stopped; the view is stale");
        }
    }

    /// The log index the view has reached.
    pub fn applied_index(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Why the view cannot be written at the moment (it is rebuilt once it can), if so.
    pub fn failure(&self) -> Option<String> {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits (at most `timeout`) until the view has reached `index`. Fails at once with
    /// [`ViewError::Failing`] while the view cannot be written, also when that starts during
    /// the wait (the projector wakes waiters when a write fails).
    pub async fn wait_for(&self, index: u64, timeout: Duration) -> Result<(), ViewError> {
        if self.applied_index() < index
            && let Some(reason) = self.failure()
        {
            return Err(ViewError::Failing(reason));
        }
        let mut rx = self.applied.clone();
        let waited = rx.wait_for(|at| *at >= index || self.failure().is_some());
        let reached = tokio::time::timeout(timeout, waited)
            .await
            .map(|r| r.map(|at| *at >= index));
        match reached {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(ViewError::Failing(self.failure().unwrap_or_else(|| {
                "a write failed; the view is being rebuilt from the state".to_owned()
            }))),
            Ok(Err(_)) => Err(ViewError::Stopped(
                self.failure().unwrap_or_else(|| "stopped".to_owned()),
            )),
            Err(_) => Err(ViewError::Timeout {
                wanted: index,
                at: self.applied_index(),
                waited: timeout,
            }),
        }
    }

    /// Runs a search (blocking: call it off the async workers).
    pub fn search(&self, q: &JobQuery) -> Result<JobPage, ViewError> {
        let limit = match q.limit {
            0 => PAGE_SIZE_DEFAULT,
            n if n <= PAGE_SIZE_MAX => n,
            n => {
                return Err(ViewError::InvalidQuery(format!(
                    "page_size {n} is above the maximum {PAGE_SIZE_MAX}"
                )));
            }
        };
        let conn = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(sqlite(&self.path))?,
        };
        let result = match &q.payload_contains {
            None => search(&conn, &self.path, q, limit),
            Some(needle) => self.search_payloads(&conn, q, needle, limit),
        };
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if readers.len() < READ_CONNECTIONS {
            readers.push(conn);
        }
        result
    }

    /// `payload_contains`: walks the rows the other filters select, newest first, in chunks,
    /// and keeps those whose payload (read from the state) contains `needle`. Examines at most
    /// [`PAYLOAD_SCAN_MAX`] rows per call: a page can then hold fewer than `limit` jobs while a
    /// next page token says where to go on.
    fn search_payloads(
        &self,
        conn: &Connection,
        q: &JobQuery,
        needle: &str,
        limit: usize,
    ) -> Result<JobPage, ViewError> {
        let mut found = Vec::new();
        let mut chunk_query = JobQuery {
            payload_contains: None,
            ..q.clone()
        };
        let mut examined = 0usize;
        loop {
            let chunk = search(conn, &self.path, &chunk_query, PAYLOAD_SCAN_CHUNK)?;
            let jobs = self.source.jobs(&chunk.ids).map_err(ViewError::Source)?;
            let rows = chunk.rows.iter().zip(&chunk.ids);
            for (i, ((row, id), job)) in rows.zip(jobs).enumerate() {
                examined += 1;
                if job.is_some_and(|j| j.payload.contains(needle)) {
                    found.push((*row, id.clone()));
                    if found.len() == limit {
                        let more = i + 1 < chunk.rows.len() || chunk.next.is_some();
                        return Ok(JobPage::of(found, more.then_some(*row)));
                    }
                }
            }
            let Some(next) = chunk.next else {
                return Ok(JobPage::of(found, None));
            };
            if examined >= PAYLOAD_SCAN_MAX {
                return Ok(JobPage::of(found, Some(next)));
            }
            chunk_query.after = Some(next);
        }
    }
}

/// The projector is background work: on a busy node the threads serving requests and
/// applying entries go first (nice +10 for this thread; best effort).
fn lower_priority() {
    // SAFETY: gettid and setpriority take no pointers; they only affect this thread.
    let failed = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, PROJECTOR_NICE) != 0
    };
    if failed {
        tracing::debug!("could not lower the read view projector's priority");
    }
}

/// A LIKE pattern matching `text` anywhere (with `\` as the escape character).
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn search(
    conn: &Connection,
    path: &Path,
    q: &JobQuery,
    limit: usize,
) -> Result<JobPage, ViewError> {
    let mut sql = String::from("SELECT seq, id FROM jobs WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut arg = |sql: &mut String, clause: &str, v: rusqlite::types::Value| {
        sql.push_str(clause);
        args.push(v);
    };
    use rusqlite::types::Value::{Integer, Text};
    if let Some(queue) = &q.queue {
        arg(&mut sql, " AND queue = ?", Text(queue.clone()));
    }
    for (i, state) in q.states.iter().enumerate() {
        let clause = match (i, q.states.len()) {
            (0, 1) => " AND state IN (?)",
            (0, _) => " AND state IN (?",
            (i, n) if i + 1 == n => ", ?)",
            _ => ", ?",
        };
        arg(&mut sql, clause, Integer(i64::from(state_code(*state))));
    }
    if let Some(p) = q.priority {
        arg(&mut sql, " AND priority = ?", Integer(i64::from(p.rank())));
    }
    // `payload_contains` is applied by the caller against the state (payloads are not here).
    if let Some(text) = &q.error_contains {
        arg(
            &mut sql,
            " AND last_error LIKE ? ESCAPE '\\'",
            Text(contains_pattern(text)),
        );
    }
    // A time bound is a rowid bound (creation time is nondecreasing in seq), plus the exact
    // filter on the column.
    if let Some(ms) = q.created_from_ms {
        arg(
            &mut sql,
            " AND seq >= ?",
            Integer(seq_bound(conn, path, ms)?),
        );
        arg(&mut sql, " AND created_at_ms >= ?", Integer(clamp(ms)));
    }
    if let Some(ms) = q.created_before_ms {
        arg(
            &mut sql,
            " AND seq < ?",
            Integer(seq_bound(conn, path, ms)?),
        );
        arg(&mut sql, " AND created_at_ms < ?", Integer(clamp(ms)));
    }
    if let Some(after) = &q.after {
        arg(&mut sql, " AND seq < ?", Integer(clamp(after.seq)));
    }
    for (key, value) in &q.tags {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM job_tags t WHERE t.seq = jobs.seq AND t.key = ? AND t.value = ?)",
        );
        args.push(Text(key.clone()));
        args.push(Text(value.clone()));
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    // One more than asked: tells whether a next page exists.
    args.push(Integer(limit as i64 + 1));
    let mut stmt = conn.prepare_cached(&sql).map_err(sqlite(path))?;
    let mut rows = stmt
        .query(params_from_iter(args.iter()))
        .map_err(sqlite(path))?;
    let mut found: Vec<(Cursor, String)> = Vec::with_capacity(limit + 1);
    while let Some(row) = rows.next().map_err(sqlite(path))? {
        let seq: i64 = row.get(0).map_err(sqlite(path))?;
        let id: String = row.get(1).map_err(sqlite(path))?;
        found.push((
            Cursor {
                seq: seq.max(0) as u64,
            },
            id,
        ));
    }
    let next = (found.len() > limit).then(|| found[limit - 1].0);
    found.truncate(limit);
    Ok(JobPage::of(found, next))
}

/// The smallest seq of a job created at or after `ms` (one past the last job when there is
/// none): a binary search over the rowid, one indexed probe per step, which relies on creation
/// time being nondecreasing in seq.
fn seq_bound(conn: &Connection, path: &Path, ms: u64) -> Result<i64, ViewError> {
    let ms = clamp(ms);
    let mut probe = conn
        .prepare_cached("SELECT seq, created_at_ms FROM jobs WHERE seq >= ?1 ORDER BY seq LIMIT 1")
        .map_err(sqlite(path))?;
    let mut at = |from: i64| -> Result<Option<(i64, i64)>, ViewError> {
        let mut rows = probe.query(params![from]).map_err(sqlite(path))?;
        match rows.next().map_err(sqlite(path))? {
            Some(row) => Ok(Some((
                row.get(0).map_err(sqlite(path))?,
                row.get(1).map_err(sqlite(path))?,
            ))),
            None => Ok(None),
        }
    };
    let range: (Option<i64>, Option<i64>) = conn
        // Two subqueries: SQLite reads a lone min() or max() of the rowid from one end of the
        // table, but both in one SELECT scan every row.
        .query_row(
            "SELECT (SELECT min(seq) FROM jobs), (SELECT max(seq) FROM jobs)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(sqlite(path))?;
    let (Some(first), Some(last)) = range else {
        return Ok(0);
    };
    // Invariant: every job below `lo` was created before `ms`; `hi` is a seq at or after the
    // first job created at or after `ms` (or one past the last job).
    let (mut lo, mut hi) = (first, last.saturating_add(1));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match at(mid)? {
            // The first job from `mid` on is at or after `ms` (or past `hi`, or there is none):
            // no job lies between `mid` and it, so `mid` bounds the same rows. Halves the range.
            None => hi = mid,
            Some((seq, created)) if created >= ms || seq >= hi => hi = mid,
            Some((seq, _)) => lo = seq + 1,
        }
    }
    Ok(hi)
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Writes a job into the view's tables (inside the caller's transaction): one statement that
/// inserts a new job or updates a known one, and leaves the row alone (no write) when no
/// filtered column changed. Tags never change: inserted once, ignored after.
fn upsert(tx: &rusqlite::Transaction<'_>, path: &Path, job: &Job) -> Result<(), ViewError> {
    let seq = clamp(job.seq);
    tx.prepare_cached(
        "INSERT INTO jobs (seq, id, queue, state, priority, created_at_ms, last_error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (seq) DO UPDATE SET queue = excluded.queue, state = excluded.state,
             priority = excluded.priority, last_error = excluded.last_error
         WHERE queue IS NOT excluded.queue OR state IS NOT excluded.state
             OR priority IS NOT excluded.priority OR last_error IS NOT excluded.last_error",
    )
    .and_then(|mut s| {
        s.execute(params![
            seq,
            job.id,
            job.queue,
            i64::from(state_code(job.state)),
            i64::from(job.priority.rank()),
            clamp(job.created_at_ms),
            job.last_error,
        ])
    })
    .map_err(sqlite(path))?;
    for (key, value) in &job.tags {
        tx.prepare_cached("INSERT OR IGNORE INTO job_tags (seq, key, value) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![seq, key, value]))
            .map_err(sqlite(path))?;
    }
    Ok(())
}

fn remove(tx: &rusqlite::Transaction<'_>, path: &Path, job: &Job) -> Result<(), ViewError> {
    for sql in [
        "DELETE FROM jobs WHERE seq = ?1",
        "DELETE FROM job_tags WHERE seq = ?1",
    ] {
        tx.prepare_cached(sql)
            .and_then(|mut s| s.execute(params![clamp(job.seq)]))
            .map_err(sqlite(path))?;
    }
    Ok(())
}

fn set_index(tx: &rusqlite::Transaction<'_>, path: &Path, index: u64) -> Result<(), ViewError> {
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('applied_index', ?1)
         ON CONFLICT (key) DO UPDATE SET value = max(value, ?1)",
    )
    .and_then(|mut s| s.execute(params![clamp(index)]))
    .map_err(sqlite(path))?;
    Ok(())
}

/// Replaces the view's content with every job of `source`, at `index`, in one transaction.
fn rebuild(
    conn: &mut Connection,
    path: &Path,
    source: &dyn JobSource,
    index: u64,
) -> Result<(), ViewError> {
    let started = corvo_clock::monotonic();
    let tx = conn.transaction().map_err(sqlite(path))?;
    tx.execute_batch("DELETE FROM jobs; DELETE FROM job_tags; DELETE FROM meta;")
        .map_err(sqlite(path))?;
    let mut rows = 0u64;
    let mut failure = None;
    source
        .for_each_job(&mut |job| {
            rows += 1;
            upsert(&tx, path, &job).map_err(|e| {
                let text = e.to_string();
                failure = Some(e);
                text
            })
        })
        .map_err(|e| failure.take().unwrap_or(ViewError::Source(e)))?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('applied_index', ?1)",
        params![clamp(index)],
    )
    .map_err(sqlite(path))?;
    tx.commit().map_err(sqlite(path))?;
    tracing::info!(
        jobs = rows,
        index,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "read view rebuilt from the state"
    );
    Ok(())
}

struct Projector {
    path: PathBuf,
    conn: Connection,
    source: Arc<dyn JobSource>,
    applied: watch::Sender<u64>,
    queued_bytes: Arc<AtomicUsize>,
    /// Messages in the queue (see [`View::has_room`]).
    queued: Arc<AtomicUsize>,
    /// Why the view cannot be written at the moment (see [`Projector::recover`]).
    failed: Arc<Mutex<Option<String>>>,
}

/// While the projector gathers, it sleeps this long at a time, then takes what was queued.
const GATHER_NAP: Duration = Duration::from_millis(5);

/// Sleeps in naps of [`GATHER_NAP`] until something is queued (true) or the gathering
/// window, which ends at `until`, is over (false).
fn gather_pause(until: std::time::Instant, queued: &AtomicUsize) -> bool {
    loop {
        let left = until.saturating_duration_since(corvo_clock::monotonic());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(left.min(GATHER_NAP));
        if queued.load(Ordering::Acquire) > 0 {
            return true;
        }
    }
}

impl Projector {
    /// Projects updates until the view is closed; a failed write is recovered from
    /// ([`Projector::recover`]), never the end of the thread.
    fn run(&mut self, rx: Receiver<Msg>) {
        loop {
            let first = match rx.recv_timeout(Duration::from_secs(3600)) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            // Gather what else arrives within BATCH_WAIT into one transaction: every SQLite
            // transaction rewrites the hot index pages, so fewer, larger ones cost less.
            let gather_until = corvo_clock::monotonic() + BATCH_WAIT;
            let mut index = 0;
            // The latest write of each job, in first-seen order.
            let mut writes: Vec<JobWrite> = Vec::new();
            let mut at = std::collections::HashMap::new();
            let mut rebuild_at = None;
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Changed {
                        index: i,
                        writes: changed,
                        bytes,
                    } => {
                        self.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
                        self.queued.fetch_sub(1, Ordering::AcqRel);
                        index = index.max(i);
                        for w in changed {
                            match at.get(&w.id) {
                                Some(&n) => writes[n] = w,
                                None => {
                                    at.insert(w.id.clone(), writes.len());
                                    writes.push(w);
                                }
                            }
                        }
                    }
                    Msg::Rebuild { index: i } => rebuild_at = Some(i.max(rebuild_at.unwrap_or(0))),
                }
                if writes.len() < BATCH_JOBS_MAX {
                    next = match rx.try_recv() {
                        Ok(msg) => Some(msg),
                        // Sleep rather than wait on the queue: a waiting receiver costs every
                        // apply a wake-up of this thread, one per entry at one client.
                        Err(_) if gather_pause(gather_until, &self.queued) => rx.try_recv().ok(),
                        Err(_) => None,
                    };
                }
            }
            let mut written = Ok(());
            if let Some(at) = rebuild_at {
                written = rebuild(&mut self.conn, &self.path, self.source.as_ref(), at);
                index = index.max(at);
                // Changes gathered with the rebuild are older or covered by it.
                writes.clear();
            }
            if written.is_ok() && !writes.is_empty() {
                written = self.refresh(writes, index);
            }
            if let Err(e) = written {
                match self.recover(&rx, index, e) {
                    Some(rebuilt_at) => index = rebuilt_at,
                    None => return,
                }
            }
            self.applied.send_if_modified(|at| {
                let moved = index > *at;
                *at = (*at).max(index);
                moved
            });
        }
    }

    /// After a failed write (its transaction rolled back), rebuilds the view from the state
    /// until that succeeds, waiting [`RECOVERY_WAIT_MIN`] and then twice as long each time,
    /// up to [`RECOVERY_WAIT_MAX`]. Meanwhile updates are taken off the queue and dropped (the
    /// rebuild covers them; applies must not wait on a view that cannot move), and reads
    /// answer with the failure. Returns the index the view was rebuilt at; `None` when the
    /// view was closed meanwhile.
    fn recover(&mut self, rx: &Receiver<Msg>, mut index: u64, first: ViewError) -> Option<u64> {
        let mut error = first;
        let mut wait = RECOVERY_WAIT_MIN;
        loop {
            tracing::error!(
                error = %error,
                retry_in_ms = wait.as_millis() as u64,
                "the read view could not be written: it will be rebuilt from the state"
            );
            *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.to_string());
            // Reads waiting for an index learn of the failure now, not at their timeout.
            self.applied.send_modify(|_| {});
            let until = corvo_clock::monotonic() + wait;
            loop {
                let left = until.saturating_duration_since(corvo_clock::monotonic());
                match rx.recv_timeout(left) {
                    Ok(Msg::Changed {
                        index: i, bytes, ..
                    }) => {
                        self.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
                        self.queued.fetch_sub(1, Ordering::AcqRel);
                        index = index.max(i);
                    }
                    Ok(Msg::Rebuild { index: i }) => index = index.max(i),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return None,
                }
            }
            match rebuild(&mut self.conn, &self.path, self.source.as_ref(), index) {
                Ok(()) => {
                    *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    tracing::info!(index, "the read view is written again");
                    return Some(index);
                }
                Err(e) => {
                    error = e;
                    wait = (wait * 2).min(RECOVERY_WAIT_MAX);
                }
            }
        }
    }

    fn refresh(&mut self, writes: Vec<JobWrite>, index: u64) -> Result<(), ViewError> {
        // Records not carried (over the queue's budget) come from one state read.
        let unread: Vec<String> = writes
            .iter()
            .filter(|w| matches!(w.change, JobChange::Written(None)))
            .map(|w| w.id.clone())
            .collect();
        let mut read = self
            .source
            .jobs(&unread)
            .map_err(ViewError::Source)?
            .into_iter();
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(sqlite(&path))?;
        let decode = |id: &str, record: &[u8]| {
            corvo_core::keys::decode_job(id.as_bytes(), record)
                .map_err(|e| ViewError::Source(format!("job {id}: {e}")))
        };
        for w in writes {
            match &w.change {
                JobChange::Written(Some(record)) => upsert(&tx, &path, &decode(&w.id, record)?)?,
                // Gone from the state (None): its deletion is on its way, in a later entry.
                JobChange::Written(None) => {
                    if let Some(job) = read.next().flatten() {
                        upsert(&tx, &path, &job)?;
                    }
                }
                JobChange::Deleted(record) => remove(&tx, &path, &decode(&w.id, record)?)?,
            }
        }
        set_index(&tx, &path, index)?;
        tx.commit().map_err(sqlite(&path))
    }
}

#[cfg(test)]
mod tests;
