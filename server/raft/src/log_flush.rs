//! Group fsync of the Raft log.
//!
//! `append` commits to redb without an fsync and sends its completion callback here. One
//! thread takes every callback queued so far, commits one empty durable transaction (redb
//! makes every earlier non-durable commit durable with it) and then completes them all. While
//! that fsync runs, new appends queue up and share the next one, so under load the log costs
//! one fsync per round, not one per append.
//!
//! A dedicated thread rather than a tokio task: the fsync blocks for milliseconds, and the
//! thread exits by itself once the log store (the only sender) is dropped, after a last flush.

use std::io;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use openraft::storage::IOFlushed;
use redb::Database;

use crate::options::Durability;
use crate::types::TypeConfig;

pub(crate) enum FlushMsg {
    /// Complete this callback once everything written before it is durable.
    Persisted(IOFlushed<TypeConfig>),
    /// Something was written non-durably (Relaxed): make it durable within the interval.
    Dirty,
}

/// The sending side; dropping it stops the thread after a final flush.
pub(crate) struct Flusher {
    tx: Sender<FlushMsg>,
}

impl Flusher {
    pub(crate) fn spawn(
        db: Arc<Database>,
        durability: Durability,
        relaxed_interval: Duration,
    ) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        // Fsync flushes at once (a writer waits on it); Relaxed lets writes gather first.
        let gather = match durability {
            Durability::Fsync => None,
            Durability::Relaxed => Some(relaxed_interval),
        };
        let failpoint = FsyncFailpoint::from_env();
        std::thread::Builder::new()
            .name("raft-log-fsync".to_string())
            .spawn(move || run(&db, &rx, gather, &failpoint))?;
        Ok(Self { tx })
    }

    pub(crate) fn send(&self, msg: FlushMsg) -> io::Result<()> {
        self.tx
            .send(msg)
            .map_err(|_| io::Error::other("raft log: the fsync thread has stopped"))
    }
}

/// Test-only fault injection, compiled into debug builds only: with
/// `CORVO_FAILPOINT_LOG_FSYNC=<path>` in the environment at start-up, every log fsync fails
/// while `<path>` exists, as on a dying disk. Black-box tests use it to check what a fatal
/// storage error does to the node (`/healthz`, exit); release builds ignore the variable.
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

fn run(
    db: &Database,
    rx: &Receiver<FlushMsg>,
    gather: Option<Duration>,
    failpoint: &FsyncFailpoint,
) {
    while let Ok(first) = rx.recv() {
        let mut waiting = Vec::new();
        let mut stopping = false;
        collect(first, &mut waiting);
        if let Some(gather) = gather {
            let deadline = Instant::now() + gather;
            loop {
                match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(msg) => collect(msg, &mut waiting),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        stopping = true;
                        break;
                    }
                }
            }
        }
        while let Ok(msg) = rx.try_recv() {
            collect(msg, &mut waiting);
        }
        // The error goes to openraft through the callbacks, which stops the node; nothing to
        // log here (openraft logs it once).
        let result = failpoint.check().and_then(|()| sync(db));
        for callback in waiting {
            let r = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            };
            callback.io_completed(r);
        }
        if stopping {
            break;
        }
    }
}

fn collect(msg: FlushMsg, waiting: &mut Vec<IOFlushed<TypeConfig>>) {
    if let FlushMsg::Persisted(callback) = msg {
        waiting.push(callback);
    }
}

/// An empty durable commit: fsyncs the file and with it every earlier non-durable commit.
fn sync(db: &Database) -> io::Result<()> {
    let fail = |what: &str, e: String| io::Error::other(format!("raft log: fsync ({what}): {e}"));
    let mut txn = db.begin_write().map_err(|e| fail("begin", e.to_string()))?;
    txn.set_durability(redb::Durability::Immediate)
        .map_err(|e| fail("durability", e.to_string()))?;
    txn.commit().map_err(|e| fail("commit", e.to_string()))
}
