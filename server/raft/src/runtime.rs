//! The runtime Raft's tasks run on (docs/adr/0043-raft-runtime.md).
//!
//! By default a node runs openraft's core, its log and state-machine workers, the proposer,
//! the snapshot triggers and the peer clients on a single-threaded tokio runtime in a thread
//! of its own (`corvo-raft`), not among the request tasks of the client port. Under load the
//! client port's runtime holds hundreds of stream tasks; each hand-off of an entry (proposer →
//! core → log → core → apply → reply) would queue behind them. On its own thread the chain
//! runs without waiting for them, and the thread sleeps when Raft is idle.
//!
//! Callers on any runtime talk to Raft through channels and watches, which work across
//! runtimes. The runtime stops after openraft does ([`OwnRuntime::stop`] from
//! [`crate::RaftNode::shutdown`]), or when the node is dropped.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;

/// The name of the thread that runs the runtime (seen in `top -H`, `perf` and stack dumps).
pub const RAFT_THREAD_NAME: &str = "corvo-raft";
/// The name of the runtime's blocking threads (large applies, snapshot files).
const BLOCKING_THREAD_NAME: &str = "corvo-raft-blocking";
/// How long stopping waits for blocking work (an apply or a snapshot file being written) still
/// running once openraft has stopped; what remains after this is left to the process's exit.
const STOP_WAIT_MAX: Duration = Duration::from_secs(10);

/// A single-threaded tokio runtime on a thread of its own; stops when told or when dropped.
pub(crate) struct OwnRuntime {
    handle: tokio::runtime::Handle,
    /// Sending (or dropping) this stops the runtime.
    stop: Mutex<Option<oneshot::Sender<()>>>,
    /// Answers once the runtime has stopped.
    stopped: Mutex<Option<oneshot::Receiver<()>>>,
}

impl OwnRuntime {
    /// Starts the thread and its runtime.
    pub(crate) fn start() -> std::io::Result<OwnRuntime> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name(BLOCKING_THREAD_NAME)
            .build()?;
        let handle = runtime.handle().clone();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (stopped_tx, stopped_rx) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name(RAFT_THREAD_NAME.to_string())
            .spawn(move || {
                // A dropped sender stops the runtime as a sent one does.
                runtime.block_on(async {
                    let _ = stop_rx.await;
                });
                runtime.shutdown_timeout(STOP_WAIT_MAX);
                let _ = stopped_tx.send(());
            })?;
        Ok(OwnRuntime {
            handle,
            stop: Mutex::new(Some(stop_tx)),
            stopped: Mutex::new(Some(stopped_rx)),
        })
    }

    /// Where to spawn the tasks that are to run on this runtime.
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// Stops the runtime (tasks still on it are dropped) and waits until it has stopped.
    /// Later calls return at once. Call it from another runtime (the node's supervisor does):
    /// a task on this runtime that called it would be dropped with the rest.
    pub(crate) async fn stop(&self) {
        let stop = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take();
        let stopped = self
            .stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        if let Some(stopped) = stopped {
            let _ = stopped.await;
        }
    }
}
