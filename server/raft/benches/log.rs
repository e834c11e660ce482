//! The Raft log's write path alone: `LogStore::append` and the wait for its completion
//! callback, with no Raft, state machine or network around it. What every write pays for the
//! log, and with `Durability::Fsync` the floor the disk sets per entry.
//!
//! Each case appends entries carrying one Enqueue of a 1 KiB payload (a unary Enqueue), or
//! 64 of them in one entry (what the proposer's group commit writes under load), and waits
//! until the store reports them durable (`IOFlushed`), as openraft does before it counts the
//! entry as accepted:
//!
//! - `1_entry_1KiB`: one append of one entry, then its wait.
//! - `64_entries_one_append`: one append of 64 entries, one wait (one fsync).
//! - `64_appends_one_wait`: 64 appends back to back, then the wait for all 64 callbacks: the
//!   log's writer thread commits every append queued behind a running round in one
//!   transaction, with one fsync.
//! - `1_entry_64x1KiB`: one entry of 64 enqueues (group commit).
//!
//! `fsync` is the server's `--durability fsync`; `relaxed` completes once written and fsyncs in
//! the background (every second, as the server's default). The log file lives under the
//! target directory (a real disk: tmpfs would make the fsync free), and entries are purged
//! every [`PURGE_EVERY`] appends (untimed) so that the file stays small.
//!
//! Run: `cargo bench -p corvo-raft --bench log` (`-- --quick` for a shorter run).
//! Results: docs/performance.md, "CPU floor: the state machine and the log (criterion)".

use std::sync::Arc;
use std::time::Duration;

use corvo_core::model::EnqueueOptions;
use corvo_core::{Batch, Command, Enqueue};
use corvo_raft::log_store::LogStore;
use corvo_raft::types::BatchData;
use corvo_raft::{Durability, TypeConfig};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use openraft::alias::EntryOf;
use openraft::entry::RaftEntry;
use openraft::storage::{IOFlushed, RaftLogStorage};
use openraft::type_config::TypeConfigExt;
use tempfile::TempDir;

/// Payload of each enqueue.
const PAYLOAD_BYTES: usize = 1024;
/// Entries (or enqueues) in a group.
const GROUP: usize = 64;
/// Appended entries after which the log is purged (untimed): keeps the file small.
const PURGE_EVERY: u64 = 4_096;
/// The server's default `relaxed_flush_interval`.
const RELAXED_FLUSH: Duration = Duration::from_millis(1_000);

/// A log store in its own file, and the next index to append.
struct Log {
    store: LogStore,
    next: u64,
    appended_since_purge: u64,
    /// One enqueue and 64 enqueues: the data of every entry (shared, as the leader's is).
    one: BatchData,
    group: BatchData,
    _dir: TempDir,
}

impl Log {
    fn open(durability: Durability) -> Self {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a temporary dir");
        let store = LogStore::open(&dir.path().join("log.redb"), durability, RELAXED_FLUSH)
            .expect("open the log");
        Log {
            store,
            next: 1,
            appended_since_purge: 0,
            one: batch(1),
            group: batch(GROUP),
            _dir: dir,
        }
    }

    /// `count` new entries, each carrying `data`.
    fn entries(&mut self, count: usize, data: &BatchData) -> Vec<EntryOf<TypeConfig>> {
        (0..count)
            .map(|_| {
                let index = self.next;
                self.next += 1;
                EntryOf::<TypeConfig>::new_normal(log_id(index), data.clone())
            })
            .collect()
    }

    /// Appends `entries` as one call; the receiver answers once they are durable.
    async fn append(
        &mut self,
        entries: Vec<EntryOf<TypeConfig>>,
    ) -> impl Future<Output = ()> + use<> {
        self.appended_since_purge += entries.len() as u64;
        let (tx, rx) = TypeConfig::oneshot();
        self.store
            .append(entries, IOFlushed::signal(tx))
            .await
            .expect("append");
        async move {
            rx.await
                .expect("the writer thread answers")
                .expect("the fsync succeeds");
        }
    }

    /// Purges everything appended so far once `PURGE_EVERY` entries have accumulated.
    async fn purge_now_and_then(&mut self) {
        if self.appended_since_purge >= PURGE_EVERY {
            self.store
                .purge(log_id(self.next - 1))
                .await
                .expect("purge");
            self.appended_since_purge = 0;
        }
    }
}

fn log_id(index: u64) -> openraft::alias::LogIdOf<TypeConfig> {
    openraft::testing::log_id::<TypeConfig>(1, 1, index)
}

/// An entry's data: `enqueues` enqueues of a 1 KiB payload.
fn batch(enqueues: usize) -> BatchData {
    let payload = format!(r#"{{"data":"{}"}}"#, "x".repeat(PAYLOAD_BYTES - 11));
    let commands = (0..enqueues)
        .map(|i| {
            Command::Enqueue(Enqueue {
                id: format!("{i:026}"),
                queue: "bench".into(),
                payload: payload.clone(),
                options: EnqueueOptions::default(),
            })
        })
        .collect();
    BatchData(Arc::new(Batch {
        now_ms: 1_700_000_000_000,
        commands,
    }))
}

/// What one iteration appends and how it waits.
#[derive(Clone, Copy)]
enum Shape {
    /// One append of this many single-enqueue entries, then one wait.
    OneAppend(usize),
    /// This many appends of one entry each, then the wait for all of them.
    Appends(usize),
    /// One append of one entry of `GROUP` enqueues.
    GroupEntry,
}

/// Times `iters` iterations of `shape`: entries are built before each iteration's clock
/// starts, and purges happen between iterations.
async fn measure(log: &mut Log, shape: Shape, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        log.purge_now_and_then().await;
        match shape {
            Shape::OneAppend(n) => {
                let data = log.one.clone();
                let entries = log.entries(n, &data);
                let started = corvo_clock::monotonic();
                log.append(entries).await.await;
                total += started.elapsed();
            }
            Shape::Appends(n) => {
                let data = log.one.clone();
                let mut entries: Vec<_> = log.entries(n, &data).into_iter().rev().collect();
                let mut waits = Vec::with_capacity(n);
                let started = corvo_clock::monotonic();
                while let Some(entry) = entries.pop() {
                    waits.push(log.append(vec![entry]).await);
                }
                futures::future::join_all(waits).await;
                total += started.elapsed();
            }
            Shape::GroupEntry => {
                let data = log.group.clone();
                let entries = log.entries(1, &data);
                let started = corvo_clock::monotonic();
                log.append(entries).await.await;
                total += started.elapsed();
            }
        }
    }
    total
}

fn cases(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    durability: Durability,
) {
    let mut log = None;
    let name = match durability {
        Durability::Fsync => "fsync",
        Durability::Relaxed => "relaxed",
    };
    for (case, shape, elements) in [
        ("1_entry_1KiB", Shape::OneAppend(1), 1),
        ("64_entries_one_append", Shape::OneAppend(GROUP), GROUP),
        ("64_appends_one_wait", Shape::Appends(GROUP), GROUP),
        ("1_entry_64x1KiB", Shape::GroupEntry, GROUP),
    ] {
        group.throughput(Throughput::Elements(elements as u64));
        group.bench_function(format!("{name}/{case}"), |b| {
            // Opened on first use, inside the runtime (the store starts its writer thread).
            let log = log.get_or_insert_with(|| rt.block_on(async { Log::open(durability) }));
            b.iter_custom(|iters| rt.block_on(measure(log, shape, iters)));
        });
    }
}

fn log_append(c: &mut Criterion) {
    // As in the server: a multi-threaded runtime; redb's writes go to its blocking pool.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut group = c.benchmark_group("log_append");
    cases(&mut group, &rt, Durability::Fsync);
    cases(&mut group, &rt, Durability::Relaxed);
    group.finish();
}

criterion_group!(benches, log_append);
criterion_main!(benches);
