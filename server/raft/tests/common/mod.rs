//! Test doubles shared by the integration tests: a fake application state machine that can
//! "crash" (lose its non-durable applies), a listener that records what it is told, and a
//! clock the test drives.

#![allow(dead_code)] // each test file uses a different part

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use corvo_core::{Batch, BatchOutcome, Command, Reply};
use corvo_raft::{AppStateMachine, ApplyListener, Clock, RaftOptions, SnapshotWriter};

/// Bound on every wait in these tests: generous for a slow, loaded 2-core machine.
pub const WAIT: Duration = Duration::from_secs(30);

pub fn options(dir: &Path) -> RaftOptions {
    RaftOptions {
        node_id: 1,
        raft_addr: "127.0.0.1:19000".to_string(),
        log_path: dir.join("raft-log.redb"),
        snapshot_dir: dir.join("snapshots"),
        ..RaftOptions::default()
    }
}

pub fn tick() -> Command {
    Command::Tick
}

/// The reply value the fake gives a command: its position in the global apply order.
pub fn fired(reply: &Result<Reply, corvo_core::JobError>) -> u32 {
    match reply {
        Ok(Reply::Ticked { fired }) => *fired,
        other => panic!("unexpected reply {other:?}"),
    }
}

/// One app entry as the fake saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub index: u64,
    pub now_ms: u64,
    pub commands: usize,
}

/// The fake's state: what a real store would keep in its redb file.
#[derive(Clone, Debug, Default)]
pub struct FakeData {
    pub raft_meta: Option<Vec<u8>>,
    /// Commands applied so far; each command's reply is its count.
    pub counter: u64,
    pub last_index: Option<u64>,
    pub app_entries: Vec<Applied>,
}

#[derive(Default)]
struct FakeState {
    live: FakeData,
    /// What survives a crash: the last `checkpoint`.
    durable: FakeData,
    /// Broken invariants seen by `apply` (checked by tests rather than panicking in apply).
    violations: Vec<String>,
    /// While true, `apply` of an app entry blocks (to hold an entry in flight).
    gate_closed: bool,
    /// Number of `apply` calls blocked at the gate so far.
    gate_entered: usize,
    /// The threads app entries were applied on: (name, the `/proc/thread-self` link).
    apply_threads: std::collections::BTreeSet<(String, PathBuf)>,
    /// Archives rewritten in an older layout for a peer.
    downgrades: usize,
}

/// An in-memory `AppStateMachine` whose applies are "non-durable" until `checkpoint`.
#[derive(Default)]
pub struct FakeApp {
    state: Mutex<FakeState>,
    gate: Condvar,
    snapshot_gate: Arc<SnapshotGate>,
    layout: Layout,
}

/// The newest snapshot layout a fake reads and the one it writes (its first byte).
#[derive(Clone, Copy)]
pub struct Layout(pub u8);

impl Layout {
    /// This release's fakes.
    pub const NEWEST: Layout = Layout(2);
}

impl Default for Layout {
    fn default() -> Self {
        Layout::NEWEST
    }
}

/// While closed, snapshot writes block (to hold a build in progress).
#[derive(Default)]
pub struct SnapshotGate {
    /// (closed, writes that reached the gate)
    state: Mutex<(bool, usize)>,
    changed: Condvar,
}

impl SnapshotGate {
    fn pass(&self) {
        let mut st = self.state.lock().unwrap();
        st.1 += 1;
        self.changed.notify_all();
        let _st = self.changed.wait_while(st, |st| st.0).unwrap();
    }
}

impl FakeApp {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A fake of a release that reads and writes snapshot layouts up to `layout` only.
    pub fn of_layout(layout: Layout) -> Arc<Self> {
        Arc::new(Self {
            layout,
            ..Self::default()
        })
    }

    /// A fresh process over the data that survived: a crash keeps only `durable`.
    pub fn recovered(durable: FakeData) -> Arc<Self> {
        let app = Self::default();
        {
            let mut st = app.state.lock().unwrap();
            st.live = durable.clone();
            st.durable = durable;
        }
        Arc::new(app)
    }

    /// Makes everything applied so far durable.
    pub fn checkpoint(&self) {
        let mut st = self.state.lock().unwrap();
        st.durable = st.live.clone();
    }

    /// How many archives this node rewrote in an older layout for a peer.
    pub fn downgrades(&self) -> usize {
        self.state.lock().unwrap().downgrades
    }

    pub fn live(&self) -> FakeData {
        self.state.lock().unwrap().live.clone()
    }

    pub fn durable(&self) -> FakeData {
        self.state.lock().unwrap().durable.clone()
    }

    /// The threads app entries were applied on: (name, `/proc/<pid>/task/<tid>`).
    pub fn apply_threads(&self) -> Vec<(String, PathBuf)> {
        self.state
            .lock()
            .unwrap()
            .apply_threads
            .iter()
            .cloned()
            .collect()
    }

    pub fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }

    pub fn close_gate(&self) {
        self.state.lock().unwrap().gate_closed = true;
    }

    pub fn open_gate(&self) {
        self.state.lock().unwrap().gate_closed = false;
        self.gate.notify_all();
    }

    pub fn close_snapshot_gate(&self) {
        self.snapshot_gate.state.lock().unwrap().0 = true;
    }

    pub fn open_snapshot_gate(&self) {
        self.snapshot_gate.state.lock().unwrap().0 = false;
        self.snapshot_gate.changed.notify_all();
    }

    /// Waits (bounded) until a snapshot write is blocked at the snapshot gate.
    pub fn wait_snapshot_gate_entered(&self) {
        let gate = &self.snapshot_gate;
        let st = gate.state.lock().unwrap();
        let (st, _) = gate
            .changed
            .wait_timeout_while(st, WAIT, |st| st.1 == 0)
            .unwrap();
        assert!(st.1 > 0, "no snapshot write reached the gate");
    }

    /// Waits (bounded) until an apply is blocked at the gate.
    pub fn wait_gate_entered(&self) {
        let st = self.state.lock().unwrap();
        let (st, timeout) = self
            .gate
            .wait_timeout_while(st, WAIT, |st| st.gate_entered == 0)
            .unwrap();
        assert!(
            !timeout.timed_out() || st.gate_entered > 0,
            "no apply reached the gate"
        );
    }
}

impl AppStateMachine for FakeApp {
    fn raft_meta(&self) -> io::Result<Option<Vec<u8>>> {
        Ok(self.state.lock().unwrap().live.raft_meta.clone())
    }

    fn apply(
        &self,
        entries: Vec<(u64, Option<std::sync::Arc<Batch>>)>,
        raft_meta: Vec<u8>,
        _quick: bool,
    ) -> io::Result<Vec<Option<BatchOutcome>>> {
        let mut st = self.state.lock().unwrap();
        if entries.iter().any(|(_, b)| b.is_some()) {
            let name = std::thread::current().name().unwrap_or("").to_string();
            let task = std::fs::read_link("/proc/thread-self").unwrap_or_default();
            st.apply_threads
                .insert((name, Path::new("/proc").join(task)));
        }
        if st.gate_closed && entries.iter().any(|(_, b)| b.is_some()) {
            st.gate_entered += 1;
            self.gate.notify_all();
            st = self.gate.wait_while(st, |st| st.gate_closed).unwrap();
        }
        let mut outcomes = Vec::with_capacity(entries.len());
        for (index, batch) in entries {
            let expected = st.live.last_index.map_or(0, |i| i + 1);
            if index != expected {
                st.violations
                    .push(format!("applied index {index}, expected {expected}"));
            }
            st.live.last_index = Some(index);
            let Some(batch) = batch else {
                outcomes.push(None);
                continue;
            };
            let replies = batch
                .commands
                .iter()
                .map(|_| {
                    st.live.counter += 1;
                    Ok(Reply::Ticked {
                        fired: st.live.counter as u32,
                    })
                })
                .collect();
            st.live.app_entries.push(Applied {
                index,
                now_ms: batch.now_ms,
                commands: batch.commands.len(),
            });
            outcomes.push(Some(BatchOutcome {
                replies,
                ..BatchOutcome::default()
            }));
        }
        st.live.raft_meta = Some(raft_meta);
        Ok(outcomes)
    }

    fn begin_snapshot(&self) -> io::Result<Box<dyn SnapshotWriter>> {
        Ok(Box::new(FakeSnapshot(
            self.live(),
            self.snapshot_gate.clone(),
            self.layout,
        )))
    }

    fn verify_snapshot(&self, path: &Path) -> io::Result<Vec<u8>> {
        Ok(FakeSnapshot::read(path, self.layout)?
            .raft_meta
            .unwrap_or_default())
    }

    fn snapshot_header(&self, path: &Path) -> io::Result<(Vec<u8>, u64)> {
        Ok((self.verify_snapshot(path)?, 0))
    }

    fn install_snapshot(&self, path: &Path, raft_meta: Option<&[u8]>) -> io::Result<()> {
        let mut data = FakeSnapshot::read(path, self.layout)?;
        if let Some(meta) = raft_meta {
            data.raft_meta = Some(meta.to_vec());
        }
        let mut st = self.state.lock().unwrap();
        st.live = data.clone();
        // Installing is durable, like the real store's.
        st.durable = data;
        Ok(())
    }

    fn archive_version(&self) -> u32 {
        u32::from(self.layout.0)
    }

    fn snapshot_version(&self, path: &Path) -> io::Result<u32> {
        let bytes = std::fs::read(path)?;
        Ok(u32::from(bytes.first().copied().unwrap_or(0)))
    }

    fn downgrade_snapshot(&self, src: &Path, version: u32, dst: &Path) -> io::Result<()> {
        let mut bytes = std::fs::read(src)?;
        FakeSnapshot::read(src, self.layout)?;
        let version = u8::try_from(version).map_err(|_| io::Error::other("layout out of range"))?;
        bytes[0] = version;
        self.state.lock().unwrap().downgrades += 1;
        std::fs::write(dst, bytes)
    }
}

/// The fake's snapshot file: its layout (one byte), raft meta, counter and last index (not
/// the entry history). The gate holds the write while closed.
struct FakeSnapshot(FakeData, Arc<SnapshotGate>, Layout);

impl FakeSnapshot {
    /// Refuses a layout newer than `reads`, as a release before it would.
    fn read(path: &Path, reads: Layout) -> io::Result<FakeData> {
        let bytes = std::fs::read(path)?;
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "bad fake snapshot");
        let (&layout, bytes) = bytes.split_first().ok_or_else(bad)?;
        if layout > reads.0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "snapshot layout {layout}; this release reads up to {}",
                    reads.0
                ),
            ));
        }
        let (head, rest) = bytes.split_at_checked(4).ok_or_else(bad)?;
        let len = u32::from_be_bytes(head.try_into().map_err(|_| bad())?) as usize;
        let (meta, rest) = rest.split_at_checked(len).ok_or_else(bad)?;
        let (counter, last) = rest.split_at_checked(8).ok_or_else(bad)?;
        let counter = u64::from_be_bytes(counter.try_into().map_err(|_| bad())?);
        let last = u64::from_be_bytes(last.try_into().map_err(|_| bad())?);
        Ok(FakeData {
            raft_meta: Some(meta.to_vec()),
            counter,
            last_index: last.checked_sub(1),
            app_entries: Vec::new(),
        })
    }
}

impl SnapshotWriter for FakeSnapshot {
    fn raft_meta(&self) -> Option<Vec<u8>> {
        self.0.raft_meta.clone()
    }

    fn write(self: Box<Self>, path: &Path, _created_unix_ms: u64) -> io::Result<()> {
        self.1.pass();
        let meta = self.0.raft_meta.unwrap_or_default();
        let mut out = vec![self.2.0];
        out.extend_from_slice(&(meta.len() as u32).to_be_bytes());
        out.extend_from_slice(&meta);
        out.extend_from_slice(&self.0.counter.to_be_bytes());
        out.extend_from_slice(&self.0.last_index.map_or(0, |i| i + 1).to_be_bytes());
        std::fs::write(path, out)
    }
}

/// Records every `on_applied` call.
#[derive(Default)]
pub struct Recorder {
    pub seen: Mutex<Vec<(u64, usize)>>,
}

impl Recorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn indexes(&self) -> Vec<u64> {
        self.seen.lock().unwrap().iter().map(|(i, _)| *i).collect()
    }
}

impl ApplyListener for Recorder {
    fn on_applied(&self, index: u64, outcome: &BatchOutcome) {
        self.seen
            .lock()
            .unwrap()
            .push((index, outcome.replies.len()));
    }
}

/// A clock the test sets by hand.
#[derive(Default)]
pub struct ManualClock(pub AtomicU64);

impl ManualClock {
    pub fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
