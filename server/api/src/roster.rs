//! Who is connected: open worker streams and the distinct workers behind them.
//!
//! Every `StreamLifecycle` session holds a [`StreamPass`] for its whole life; the pass names
//! its worker once a frame says who it is, and gives everything back when dropped (stream
//! ended, client gone, server draining). Metrics, `corvo status` and the drain read the counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// Cheap to clone; every clone sees the same roster.
#[derive(Clone)]
pub struct Roster {
    inner: Arc<Inner>,
}

struct Inner {
    /// Open streams per worker id ("" until a stream names its worker).
    workers: Mutex<HashMap<String, usize>>,
    /// The number of open streams, for waiters (the drain waits for zero).
    streams: watch::Sender<usize>,
}

impl Default for Roster {
    fn default() -> Self {
        Roster {
            inner: Arc::new(Inner {
                workers: Mutex::new(HashMap::new()),
                streams: watch::channel(0).0,
            }),
        }
    }
}

impl Roster {
    /// Registers a new open stream (of a worker not named yet).
    pub fn open_stream(&self) -> StreamPass {
        self.add("", 1);
        self.inner.streams.send_modify(|n| *n += 1);
        StreamPass {
            roster: self.clone(),
            worker_id: String::new(),
        }
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
        let mut a = roster.open_stream();
        let mut b = roster.open_stream();
        let c = roster.open_stream();
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
}
