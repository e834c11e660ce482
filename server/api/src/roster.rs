//! Who is connected: open worker streams and the distinct workers behind them.
//!
//! Every `StreamLifecycle` session holds a [`StreamPass`] for its whole life; the pass names
//! its worker once a frame says who it is, and gives everything back when dropped (stream
//! ended, client gone, server draining). Metrics, `corvo status` and the drain read the counts;
//! `QueueService.ListWorkers` reads each stream's [`StreamInfo`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::watch;

use crate::dispatch::PushTarget;

/// What `ListWorkers` shows of one open stream: its lease template (worker, host, queues) and
/// credits come from its push target, the jobs it holds from the session.
pub struct StreamInfo {
    pub connected_at_ms: u64,
    last_frame_ms: AtomicU64,
    target: Arc<PushTarget>,
    held: Box<dyn Fn() -> usize + Send + Sync>,
}

impl StreamInfo {
    pub fn new(
        connected_at_ms: u64,
        target: Arc<PushTarget>,
        held: impl Fn() -> usize + Send + Sync + 'static,
    ) -> Arc<StreamInfo> {
        Arc::new(StreamInfo {
            connected_at_ms,
            last_frame_ms: AtomicU64::new(connected_at_ms),
            target,
            held: Box::new(held),
        })
    }

    /// The stream sent a frame at `now_ms`.
    pub fn touch(&self, now_ms: u64) {
        self.last_frame_ms.store(now_ms, Ordering::Relaxed);
    }
}

/// One open stream, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerStream {
    pub worker_id: String,
    pub hostname: String,
    pub queues: Vec<String>,
    pub credits: u32,
    pub jobs_held: usize,
    pub connected_at_ms: u64,
    pub last_frame_ms: u64,
}

/// Cheap to clone; every clone sees the same roster.
#[derive(Clone)]
pub struct Roster {
    inner: Arc<Inner>,
}

struct Inner {
    /// Open streams per worker id ("" until a stream names its worker).
    workers: Mutex<HashMap<String, usize>>,
    /// Every open stream's details (dropped passes leave dead entries, pruned on listing).
    infos: Mutex<Vec<Weak<StreamInfo>>>,
    /// The number of open streams, for waiters (the drain waits for zero).
    streams: watch::Sender<usize>,
}

impl Default for Roster {
    fn default() -> Self {
        Roster {
            inner: Arc::new(Inner {
                workers: Mutex::new(HashMap::new()),
                infos: Mutex::new(Vec::new()),
                streams: watch::channel(0).0,
            }),
        }
    }
}

impl Roster {
    /// Registers a new open stream (of a worker not named yet).
    pub fn open_stream(&self, info: Option<Arc<StreamInfo>>) -> StreamPass {
        self.add("", 1);
        self.inner.streams.send_modify(|n| *n += 1);
        if let Some(info) = &info {
            let mut infos = self.inner.infos.lock().unwrap_or_else(|p| p.into_inner());
            infos.retain(|w| w.strong_count() > 0);
            infos.push(Arc::downgrade(info));
        }
        StreamPass {
            roster: self.clone(),
            worker_id: String::new(),
            _info: info,
        }
    }

    /// The open streams, oldest first.
    pub fn list(&self) -> Vec<WorkerStream> {
        let mut infos = self.inner.infos.lock().unwrap_or_else(|p| p.into_inner());
        infos.retain(|w| w.strong_count() > 0);
        infos
            .iter()
            .filter_map(Weak::upgrade)
            .map(|info| {
                let lease = info.target.lease();
                WorkerStream {
                    worker_id: lease
                        .as_ref()
                        .map(|l| l.worker_id.clone())
                        .unwrap_or_default(),
                    hostname: lease
                        .as_ref()
                        .map(|l| l.hostname.clone())
                        .unwrap_or_default(),
                    queues: lease.map(|l| l.queues).unwrap_or_default(),
                    credits: info.target.credits(),
                    jobs_held: (info.held)(),
                    connected_at_ms: info.connected_at_ms,
                    last_frame_ms: info.last_frame_ms.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// Open worker streams.
    pub fn streams(&self) -> usize {
        *self.inner.streams.borrow()
    }

    /// Distinct named workers with at least one open stream.
    pub fn workers(&self) -> usize {
        self.lock().keys().filter(|w| !w.is_empty()).count()
    }

    /// Follows the number of open streams.
    pub fn watch_streams(&self) -> watch::Receiver<usize> {
        self.inner.streams.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.inner.workers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, worker_id: &str, n: usize) {
        *self.lock().entry(worker_id.to_owned()).or_default() += n;
    }

    fn remove(&self, worker_id: &str) {
        let mut workers = self.lock();
        if let Some(n) = workers.get_mut(worker_id) {
            *n -= 1;
            if *n == 0 {
                workers.remove(worker_id);
            }
        }
    }
}

/// One open stream's place in the [`Roster`]; released on drop.
pub struct StreamPass {
    roster: Roster,
    worker_id: String,
    _info: Option<Arc<StreamInfo>>,
}

impl StreamPass {
    /// Records which worker this stream belongs to (the latest `worker_id` it sent).
    pub fn name_worker(&mut self, worker_id: &str) {
        if worker_id == self.worker_id {
            return;
        }
        self.roster.add(worker_id, 1);
        self.roster.remove(&self.worker_id);
        self.worker_id = worker_id.to_owned();
    }
}

impl Drop for StreamPass {
    fn drop(&mut self) {
        self.roster.remove(&self.worker_id);
        self.roster.inner.streams.send_modify(|n| *n -= 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_and_distinct_workers_are_counted_until_passes_drop() {
        let roster = Roster::default();
        let mut a = roster.open_stream(None);
        let mut b = roster.open_stream(None);
        let c = roster.open_stream(None);
        assert_eq!((roster.streams(), roster.workers()), (3, 0));
        a.name_worker("w1");
        b.name_worker("w1");
        assert_eq!((roster.streams(), roster.workers()), (3, 1));
        b.name_worker("w2");
        assert_eq!(roster.workers(), 2);
        drop(a);
        assert_eq!((roster.streams(), roster.workers()), (2, 1));
        drop((b, c));
        assert_eq!((roster.streams(), roster.workers()), (0, 0));
    }

    #[test]
    fn open_streams_are_listed_with_their_details_until_they_close() {
        let roster = Roster::default();
        let (target, _inbox) = PushTarget::new();
        target.set_lease(&corvo_core::Lease {
            queues: vec!["emails".into()],
            count: 0,
            worker_id: "w1".into(),
            hostname: "h1".into(),
            lease_ms: 1_000,
        });
        target.grant(7);
        let info = StreamInfo::new(1_000, target, || 3);
        info.touch(2_000);
        let pass = roster.open_stream(Some(info));
        assert_eq!(
            roster.list(),
            vec![WorkerStream {
                worker_id: "w1".into(),
                hostname: "h1".into(),
                queues: vec!["emails".into()],
                credits: 7,
                jobs_held: 3,
                connected_at_ms: 1_000,
                last_frame_ms: 2_000,
            }]
        );
        drop(pass);
        assert!(roster.list().is_empty());
    }
}
