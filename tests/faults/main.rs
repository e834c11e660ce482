//! The seeded fault suite: a nemesis over a 3-node cluster on loopback while producers and
//! stream workers run, then a checker over everything the clients were told.
//!
//! ```text
//!  producers ──keyed enqueues──▶ any node ─┐        nemesis (seeded schedule):
//!  workers ◀──pushes / acks──▶ any node ───┤          kill -9 + restart, SIGSTOP/SIGCONT,
//!                                          ▼          partition (both ways, one way, flapping),
//!        n1 ◀─proxy─▶ n2 ◀─proxy─▶ n3 (peer + client)  wipe + remove + rejoin (membership),
//!                                                     clock jump, full disk
//! ```
//!
//! Every node advertises TCP proxies in front of its peer and client ports
//! ([`corvo_tests::proxy`]), so the nemesis cuts the traffic between nodes; the clients talk to
//! the nodes' own ports. The workload:
//!
//! - producers enqueue jobs whose payload names a unique idempotency key, retry each key
//!   until a node acknowledges it (UNAVAILABLE, timeouts, dropped connections), and now and
//!   then send an acknowledged key again on purpose;
//! - stream workers take pushed jobs and ack them: one with lease tokens, one without (the
//!   original contract, fenced by the stream that holds the lease).
//!
//! The oracle records every acknowledged enqueue (key → job id) and every ack the server
//! accepted. After the schedule, with every fault healed and the jobs worked off, the checker
//! asserts:
//!
//! - no acknowledged enqueue is lost (each acknowledged job exists and is completed);
//! - no key made two jobs, and every answer for a key named the same job;
//! - no job was completed by two accepted acks, and every accepted ack came from the stream
//!   holding the job's newest lease (a stale token or a non-holder was refused);
//! - the queue's concurrency limit (3, below the workers' 8 credits) held on every node at
//!   every read (each node's count of active jobs, read every 100 ms);
//! - every job ends terminal (completed, or dead after 20 attempts) once the workers have
//!   drained the queue;
//! - the replicas' state digests are equal;
//! - the read view equals the state (ListJobs against GetJob, job by job).
//!
//! The seed is printed first; `CORVO_FAULTS_SEED=<seed> tests/faults/run` replays the same
//! schedule (which faults, on which node, for how long; the timing of the load around them is
//! the machine's). `tests/faults/run --long` runs 40 steps instead of 12.
//!
//! A clock jump moves one node's wall clock through the debug builds' skew failpoint
//! (`CORVO_FAILPOINT_CLOCK_SKEW`, see `corvo-clock`). A full disk fills the small tmpfs
//! that holds one node's data dir; where a tmpfs cannot be mounted (no privileges), that
//! fault is skipped, and the run says so.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corvo_tests::cluster::*;
use corvo_tests::proxy::{Proxies, heal_all, isolate, proxied_node};
use corvo_tests::*;
use pb::worker_service_client::WorkerServiceClient;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};

const QUEUE: &str = "faults";
/// Steps of the schedule: the short run (in the test command) and `--long`.
const STEPS_SHORT: usize = 12;
const STEPS_LONG: usize = 40;
const PRODUCERS: usize = 2;
/// Stream workers: even ones ack with lease tokens, odd ones without (the original contract).
const WORKERS: usize = 2;
const SESSION_CREDITS: i32 = 4;
/// Lease length the workers ask for (s): a lease left behind by a killed session comes back
/// this soon.
const LEASE_S: i32 = 3;
/// Bound of one client call.
const CALL_BOUND: Duration = Duration::from_secs(5);
const PRODUCER_PAUSE: Duration = Duration::from_millis(30);
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// One in this many enqueues sends an acknowledged key again on purpose.
const RESEND_ONE_IN: u64 = 5;
/// The queue's concurrency limit: fewer than the workers' credits (2 × 4), so it binds.
const CONCURRENCY_LIMIT: u32 = 3;
/// How often every node's count of active jobs is read.
const MONITOR_EVERY: Duration = Duration::from_millis(100);
/// Attempts per job: every lease a fault takes away costs one.
const MAX_ATTEMPTS: i32 = 20;
/// How long the jobs may take to be worked off after the schedule.
const DRAIN_BOUND: Duration = Duration::from_secs(120);

/// splitmix64: a small, fixed generator, so a seed replays the same schedule on any build.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    /// SIGKILL, then a restart on the same data dir.
    Kill,
    /// SIGSTOP, then SIGCONT.
    Pause,
    /// Cut off both ways (peer and client traffic between nodes).
    Partition,
    /// Nobody reaches the node; it still reaches the others.
    OneWay,
    /// A partition that comes and goes every 200 ms.
    Flap,
    /// SIGKILL, removed from the membership through another node, data dir wiped, rejoined
    /// as a new member.
    Wipe,
    /// The node's wall clock jumps (forward or back, up to a minute), then back.
    ClockJump,
    /// The filesystem of the node's data dir fills up; then space is freed, and the node is
    /// restarted if the failed writes stopped it.
    DiskFull,
}

impl Fault {
    const ALL: [Fault; 8] = [
        Fault::Kill,
        Fault::Pause,
        Fault::Partition,
        Fault::OneWay,
        Fault::Flap,
        Fault::Wipe,
        Fault::ClockJump,
        Fault::DiskFull,
    ];
}

#[derive(Clone, Copy, Debug)]
struct Step {
    fault: Fault,
    node: usize,
    hold: Duration,
    /// How far a clock jump moves the clock (ms, either way).
    skew_ms: i64,
}

/// The schedule for `seed`: every fault kind once in the first steps (shuffled), then random
/// ones.
fn schedule(seed: u64, steps: usize) -> Vec<Step> {
    let mut rng = Rng(seed);
    let mut kinds = Fault::ALL.to_vec();
    for i in (1..kinds.len()).rev() {
        kinds.swap(i, rng.below(i as u64 + 1) as usize);
    }
    (0..steps)
        .map(|i| Step {
            fault: kinds
                .get(i)
                .copied()
                .unwrap_or_else(|| Fault::ALL[rng.below(Fault::ALL.len() as u64) as usize]),
            node: rng.below(3) as usize,
            hold: Duration::from_millis(1_000 + rng.below(2_000)),
            skew_ms: (5_000 + rng.below(55_000) as i64) * if rng.below(2) == 0 { 1 } else { -1 },
        })
        .collect()
}

/// The nodes' client URLs, as the load sees them (a node restarted may get new ports).
type Urls = Arc<Mutex<Vec<String>>>;

struct Cluster {
    nodes: Vec<TestServer>,
    proxies: Vec<Proxies>,
    urls: Urls,
    /// Per node: the file its clock skew is read from.
    skews: Vec<PathBuf>,
    /// Per node: the small tmpfs its data dir is on, when one could be mounted.
    disks: Vec<Option<Tmpfs>>,
    /// Why there are no disks to fill, when there are none.
    no_disks: Option<String>,
    _dir: tempfile::TempDir,
}

/// Bytes of each node's tmpfs: room for the run's data, small enough to fill at once.
const DISK_BYTES: u64 = 256 << 20;
/// After a fatal storage error the node exits this soon (`--fatal-exit-grace-ms`).
const FATAL_EXIT_GRACE_MS: u64 = 1_000;

/// A tmpfs mounted for the run; unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(at).map_err(|e| e.to_string())?;
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={DISK_BYTES}")])
            .arg("tmpfs")
            .arg(at)
            .output()
            .map_err(|e| format!("running mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(Tmpfs(at.to_owned()))
    }

    fn filler(&self) -> PathBuf {
        self.0.join("filler")
    }

    /// Writes a file until the filesystem is full.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.filler()).expect("creating the filler");
        let chunk = vec![0u8; 1 << 20];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }

    fn free(&self) {
        let _ = std::fs::remove_file(self.filler());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// A node of the run: its skew file, its data dir on `disk` when there is one.
async fn fault_node(
    name: &str,
    join: Option<&str>,
    skew: &Path,
    disk: Option<&Tmpfs>,
) -> (TestServer, Proxies) {
    proxied_node(name, join, |b| {
        let b = b
            .env("CORVO_FAILPOINT_CLOCK_SKEW", &skew.display().to_string())
            .args(&["--fatal-exit-grace-ms", &FATAL_EXIT_GRACE_MS.to_string()]);
        match disk {
            Some(disk) => b.data_parent(&disk.0),
            None => b,
        }
    })
    .await
}

impl Cluster {
    async fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("a temp dir");
        let skews: Vec<PathBuf> = (1..=3)
            .map(|i| dir.path().join(format!("skew-n{i}")))
            .collect();
        let mut disks = Vec::new();
        let mut no_disks = None;
        for i in 1..=3 {
            match Tmpfs::mount(&dir.path().join(format!("disk-n{i}"))) {
                Ok(d) => disks.push(Some(d)),
                Err(e) => {
                    no_disks = Some(format!("cannot mount a tmpfs here ({e})"));
                    disks = vec![None, None, None];
                    break;
                }
            }
        }
        let (n1, p1) = fault_node("n1", None, &skews[0], disks[0].as_ref()).await;
        let (n2, p2) = fault_node("n2", Some(&n1.url()), &skews[1], disks[1].as_ref()).await;
        let (n3, p3) = fault_node("n3", Some(&n1.url()), &skews[2], disks[2].as_ref()).await;
        let nodes = vec![n1, n2, n3];
        let urls = Arc::new(Mutex::new(nodes.iter().map(TestServer::url).collect()));
        let mut c = Cluster {
            nodes,
            proxies: vec![p1, p2, p3],
            urls,
            skews,
            disks,
            no_disks,
            _dir: dir,
        };
        c.recover().await;
        c
    }

    /// Restarts node `i` if it is not running (it stopped on a fatal error, say).
    async fn revive(&mut self, i: usize) {
        if !self.nodes[i].is_running() {
            self.nodes[i].restart().await;
            self.retarget(i);
        }
    }

    fn heal(&self) {
        heal_all(&self.proxies);
    }

    /// Cuts node `cut` off both ways.
    fn isolate(&self, cut: usize) {
        isolate(&self.proxies, cut, self.nodes[cut].pid());
    }

    /// After a restart: the proxies and the load follow the node's (maybe new) ports.
    fn retarget(&self, i: usize) {
        self.proxies[i].api.set_target(self.nodes[i].addr());
        self.proxies[i].raft.set_target(self.nodes[i].raft_addr());
        self.urls.lock().expect("urls")[i] = self.nodes[i].url();
    }

    /// Restarts any node that stopped, then waits until every node follows one leader;
    /// returns its index.
    async fn recover(&mut self) -> usize {
        for i in 0..self.nodes.len() {
            self.revive(i).await;
        }
        leader_index(&mut self.nodes).await
    }

    async fn inject(&mut self, step: Step) {
        let i = step.node;
        match step.fault {
            Fault::Kill => {
                self.nodes[i].kill();
                tokio::time::sleep(step.hold).await;
                self.nodes[i].restart().await;
                self.retarget(i);
            }
            Fault::Pause => {
                self.nodes[i].signal(libc::SIGSTOP);
                tokio::time::sleep(step.hold).await;
                self.nodes[i].signal(libc::SIGCONT);
            }
            Fault::Partition => {
                self.isolate(i);
                tokio::time::sleep(step.hold).await;
                self.heal();
            }
            Fault::OneWay => {
                self.proxies[i].api.isolate();
                self.proxies[i].raft.isolate();
                tokio::time::sleep(step.hold).await;
                self.heal();
            }
            Fault::Flap => {
                let until = Instant::now() + step.hold;
                while Instant::now() < until {
                    self.isolate(i);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    self.heal();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            Fault::Wipe => self.wipe(i, step.hold).await,
            Fault::ClockJump => {
                std::fs::write(&self.skews[i], step.skew_ms.to_string()).expect("writing the skew");
                tokio::time::sleep(step.hold).await;
                std::fs::write(&self.skews[i], "0").expect("clearing the skew");
            }
            Fault::DiskFull => {
                let Some(disk) = &self.disks[i] else {
                    return;
                };
                disk.fill();
                tokio::time::sleep(step.hold).await;
                disk.free();
                // A node whose writes failed has stopped Raft for good (`/healthz` 503) and
                // exits after the grace and its shutdown (its port closes before it exits):
                // wait until it answers healthy or has exited, then bring it back, as its
                // supervisor (Kubernetes) would.
                tokio::time::sleep(Duration::from_millis(500)).await;
                let until = Instant::now() + WAIT;
                while self.nodes[i].is_running() {
                    let healthy = matches!(
                        http_get(self.nodes[i].addr(), "/healthz").await,
                        Ok((200, _))
                    );
                    if healthy {
                        break;
                    }
                    assert!(
                        Instant::now() < until,
                        "n{} neither healthy nor gone {WAIT:?} after a full disk",
                        i + 1
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                self.revive(i).await;
            }
        }
    }

    /// Kills node `i`, removes it through another node, wipes its data dir and starts it
    /// again joining the cluster: a new member under the same name and addresses.
    async fn wipe(&mut self, i: usize, hold: Duration) {
        let name = format!("n{}", i + 1);
        self.nodes[i].kill();
        tokio::time::sleep(hold).await;
        // Through whichever of the others leads (RemoveNode is not forwarded).
        let others: Vec<String> = (1..self.nodes.len())
            .map(|d| self.nodes[(i + d) % self.nodes.len()].url())
            .collect();
        let via = eventually(&format!("removing {name}"), || {
            let others = others.clone();
            let name = name.clone();
            async move {
                for via in others {
                    let out = tokio::process::Command::new(corvo_bin())
                        .args(["cluster", "remove", &name, "--server", &via])
                        .env("CORVO_CLUSTER_SECRET", SECRET)
                        .output()
                        .await
                        .expect("corvo cluster remove");
                    let text = String::from_utf8_lossy(&out.stdout).into_owned()
                        + &String::from_utf8_lossy(&out.stderr);
                    if out.status.success() {
                        return Some(via);
                    }
                    if !text.contains("not the leader") {
                        eprintln!("faults: remove {name} via {via}: {}", text.trim());
                    }
                }
                None
            }
        })
        .await;
        std::fs::remove_dir_all(self.nodes[i].data_dir()).expect("wiping the data dir");
        self.nodes[i].set_env("CORVO_JOIN", Some(&via));
        self.nodes[i].restart().await;
        self.retarget(i);
    }
}

/// What the clients were told.
#[derive(Default)]
struct Oracle {
    /// Acknowledged keys: key → job id.
    acked: BTreeMap<String, String>,
    /// Keys sent but never acknowledged (their job may or may not exist).
    unknown: Vec<String>,
    /// Answers for an acknowledged key that named another job.
    conflicts: Vec<String>,
    /// Accepted acks (completed) per job id.
    completions: HashMap<String, u32>,
    /// Per job, the newest lease token pushed to any worker.
    newest_token: HashMap<String, u64>,
    /// Accepted acks, with the token of the lease the acking stream held.
    accepted: Vec<(String, u64)>,
    /// The most active jobs of the queue any node's state showed.
    max_active: u64,
    /// Enqueue calls answered, refused, and acks accepted, for the table.
    enqueue_calls: u64,
    enqueue_refusals: u64,
    acks_accepted: u64,
    acks_refused: u64,
    /// Per worker: its current session (for the report of a stalled drain).
    sessions: HashMap<usize, SessionSeen>,
}

/// What a worker's current session has seen, for the report of a stalled drain.
#[derive(Clone, Debug)]
struct SessionSeen {
    url: String,
    opened: Instant,
    last_frame: Option<Instant>,
    frames: u64,
}

type Shared = Arc<Mutex<Oracle>>;

fn lazy_channel(url: &str) -> Channel {
    Endpoint::from_shared(url.to_owned())
        .expect("a valid URL")
        .connect_timeout(Duration::from_secs(1))
        .connect_lazy()
}

/// Client channels by URL, made once each.
#[derive(Default)]
struct Channels(HashMap<String, Channel>);

impl Channels {
    fn worker(&mut self, url: &str) -> WorkerClient {
        let channel = self
            .0
            .entry(url.to_owned())
            .or_insert_with(|| lazy_channel(url))
            .clone();
        WorkerServiceClient::new(channel)
    }
}

fn keyed(key: &str) -> pb::EnqueueRequest {
    enqueue_req_with(
        QUEUE,
        &format!(r#"{{"key":"{key}"}}"#),
        pb::EnqueueOptions {
            idempotency_key: key.into(),
            // Leases lost to the faults count as attempts: room for many.
            max_attempts: MAX_ATTEMPTS,
            ..Default::default()
        },
    )
}

/// Sends `key` until a node acknowledges it (or `stop`); records the answer.
async fn send_key(
    key: &str,
    urls: &Urls,
    channels: &mut Channels,
    turn: &mut usize,
    stop: &AtomicBool,
    oracle: &Shared,
) {
    loop {
        let url = {
            let urls = urls.lock().expect("urls");
            urls[*turn % urls.len()].clone()
        };
        *turn += 1;
        let answer = tokio::time::timeout(CALL_BOUND, channels.worker(&url).enqueue(keyed(key)))
            .await
            .map_err(|_| "timed out".to_owned())
            .and_then(|r| r.map_err(|s| format!("{:?}: {}", s.code(), s.message())));
        let done = {
            let mut o = oracle.lock().expect("oracle");
            o.enqueue_calls += 1;
            match answer {
                Ok(r) => {
                    let r = r.into_inner();
                    match o.acked.get(key) {
                        Some(first) if *first != r.job_id => {
                            let conflict = format!("key {key}: job {first}, then job {}", r.job_id);
                            o.conflicts.push(conflict);
                        }
                        Some(_) => {}
                        None => {
                            o.acked.insert(key.to_owned(), r.job_id);
                        }
                    }
                    true
                }
                Err(e) => {
                    o.enqueue_refusals += 1;
                    let invalid = e.starts_with("InvalidArgument");
                    if invalid {
                        o.conflicts
                            .push(format!("key {key} refused as invalid: {e}"));
                    }
                    invalid
                }
            }
        };
        if done {
            return;
        }
        if stop.load(Ordering::SeqCst) {
            oracle.lock().expect("oracle").unknown.push(key.to_owned());
            return;
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

async fn produce(p: usize, seed: u64, urls: Urls, stop: Arc<AtomicBool>, oracle: Shared) {
    let mut rng = Rng(seed ^ (p as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
    let mut channels = Channels::default();
    let mut turn = p;
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let resend = n > 0 && rng.below(RESEND_ONE_IN) == 0;
        let key = if resend {
            format!("p{p}-{}", 1 + rng.below(n))
        } else {
            n += 1;
            format!("p{p}-{n}")
        };
        let known = oracle.lock().expect("oracle").acked.contains_key(&key);
        if !resend || known {
            send_key(&key, &urls, &mut channels, &mut turn, &stop, &oracle).await;
        }
        tokio::time::sleep(PRODUCER_PAUSE).await;
    }
}

/// One stream worker: a session on one node after another until `stop`.
async fn work(k: usize, urls: Urls, stop: Arc<AtomicBool>, oracle: Shared) {
    let mut turn = k;
    while !stop.load(Ordering::SeqCst) {
        let url = {
            let urls = urls.lock().expect("urls");
            urls[turn % urls.len()].clone()
        };
        turn += 1;
        if let Err(e) = session(k, &url, &stop, &oracle).await {
            eprintln!("faults: worker {k} session on {url} ended: {e}");
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }
}

fn frame(acks: Vec<pb::AckBatchItem>, credits: i32) -> pb::StreamLifecycleRequest {
    pb::StreamLifecycleRequest {
        acks,
        lease_duration: LEASE_S,
        ..credit_frame(&[QUEUE], credits)
    }
}

/// Acks every pushed job at once (with its lease token, or with none), one credit back per
/// job; records the acks the server accepted.
async fn session(k: usize, url: &str, stop: &AtomicBool, oracle: &Shared) -> Result<(), String> {
    let tokens = k.is_multiple_of(2);
    let mut w = WorkerServiceClient::new(lazy_channel(url));
    let (tx, rx) = mpsc::channel(16);
    tx.send(frame(Vec::new(), SESSION_CREDITS))
        .await
        .map_err(|e| e.to_string())?;
    let mut inbound = tokio::time::timeout(CALL_BOUND, w.stream_lifecycle(ReceiverStream::new(rx)))
        .await
        .map_err(|_| "opening the stream timed out".to_owned())?
        .map_err(|s| s.to_string())?
        .into_inner();
    oracle.lock().expect("oracle").sessions.insert(
        k,
        SessionSeen {
            url: url.to_owned(),
            opened: Instant::now(),
            last_frame: None,
            frames: 0,
        },
    );
    // The lease token each job was pushed to this stream with.
    let mut held: HashMap<String, u64> = HashMap::new();
    while !stop.load(Ordering::SeqCst) {
        let r = match tokio::time::timeout(Duration::from_secs(1), inbound.message()).await {
            Err(_) => continue,
            Ok(Ok(Some(r))) => r,
            Ok(Ok(None)) => return Err("the server ended the stream".into()),
            Ok(Err(s)) => return Err(s.to_string()),
        };
        {
            let mut o = oracle.lock().expect("oracle");
            if let Some(seen) = o.sessions.get_mut(&k) {
                seen.last_frame = Some(Instant::now());
                seen.frames += 1;
            }
            for job in &r.jobs {
                held.insert(job.job_id.clone(), job.lease_token);
                let newest = o.newest_token.entry(job.job_id.clone()).or_default();
                *newest = (*newest).max(job.lease_token);
            }
            for res in &r.ack_results {
                if res.code == pb::ErrorCode::Unspecified as i32
                    && res.state == pb::JobState::Completed as i32
                {
                    o.acks_accepted += 1;
                    *o.completions.entry(res.job_id.clone()).or_default() += 1;
                    let token = held.get(&res.job_id).copied().unwrap_or(0);
                    o.accepted.push((res.job_id.clone(), token));
                } else {
                    o.acks_refused += 1;
                }
            }
        }
        if !r.jobs.is_empty() {
            let n = i32::try_from(r.jobs.len()).unwrap_or(SESSION_CREDITS);
            let acks = r
                .jobs
                .iter()
                .map(|j| pb::AckBatchItem {
                    lease_token: if tokens { j.lease_token } else { 0 },
                    ..ack_item(j)
                })
                .collect();
            tx.send(frame(acks, n)).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Sets the queue's concurrency limit through whichever node leads.
async fn limit_concurrency(c: &Cluster) {
    let urls: Vec<String> = c.nodes.iter().map(TestServer::url).collect();
    eventually("setting the queue's concurrency limit", || {
        let urls = urls.clone();
        async move {
            for url in urls {
                let mut q = QueueClient::new(lazy_channel(&url));
                let req = pb::SetQueueLimitsRequest {
                    queue: QUEUE.into(),
                    concurrency: CONCURRENCY_LIMIT,
                    ..Default::default()
                };
                if let Ok(Ok(_)) = tokio::time::timeout(CALL_BOUND, q.set_queue_limits(req)).await {
                    return Some(());
                }
            }
            None
        }
    })
    .await;
}

/// Reads every node's count of active jobs of the queue until `stop`, keeping the largest.
async fn monitor(urls: Urls, stop: Arc<AtomicBool>, oracle: Shared) {
    let mut channels: HashMap<String, Channel> = HashMap::new();
    while !stop.load(Ordering::SeqCst) {
        let urls = urls.lock().expect("urls").clone();
        for url in urls {
            let channel = channels
                .entry(url.clone())
                .or_insert_with(|| lazy_channel(&url))
                .clone();
            let mut q = QueueClient::new(channel);
            let req = pb::GetQueueRequest {
                queue: QUEUE.into(),
            };
            let Ok(Ok(r)) = tokio::time::timeout(CALL_BOUND, q.get_queue(req)).await else {
                continue;
            };
            let active = r
                .into_inner()
                .queue
                .map(|q| {
                    q.counts
                        .iter()
                        .filter(|c| c.state == pb::JobState::Active as i32)
                        .map(|c| c.count)
                        .sum::<u64>()
                })
                .unwrap_or(0);
            let mut o = oracle.lock().expect("oracle");
            o.max_active = o.max_active.max(active);
        }
        tokio::time::sleep(MONITOR_EVERY).await;
    }
}

/// Every job of the queue, from the read view (consistent: read-your-writes on that node).
async fn list_all(jobs: &mut JobClient) -> Result<Vec<pb::Job>, tonic::Status> {
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = within(
            "ListJobs",
            jobs.list_jobs(pb::ListJobsRequest {
                queue: QUEUE.into(),
                page_size: 500,
                page_token: page_token.clone(),
                consistent: true,
                ..Default::default()
            }),
        )
        .await?
        .into_inner();
        all.extend(page.jobs);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        page_token = page.next_page_token;
    }
}

/// Says where a drain that did not finish stands: the open jobs by state (the leader's view),
/// a few of them as each node's state has them, each node's queue counts, and what each
/// worker's session last saw.
async fn report_stall(c: &Cluster, listed: &[pb::Job], oracle: &Shared) {
    let open: Vec<&pb::Job> = listed.iter().filter(|j| is_open(j)).collect();
    let mut by_state: BTreeMap<String, usize> = BTreeMap::new();
    for j in &open {
        *by_state.entry(format!("{:?}", state_of(j))).or_default() += 1;
    }
    eprintln!("faults: stalled drain: open jobs by state (leader's view): {by_state:?}");
    for (i, node) in c.nodes.iter().enumerate() {
        let status = node_status(node).await;
        eprintln!("faults: n{}: {status:?}", i + 1);
        let mut q = QueueClient::new(lazy_channel(&node.url()));
        let req = pb::GetQueueRequest {
            queue: QUEUE.into(),
        };
        match tokio::time::timeout(CALL_BOUND, q.get_queue(req)).await {
            Ok(Ok(r)) => eprintln!("faults: n{} queue: {:?}", i + 1, r.into_inner().queue),
            other => eprintln!("faults: n{} GetQueue failed: {other:?}", i + 1),
        }
        let mut jobs = JobClient::new(lazy_channel(&node.url()));
        for j in open.iter().take(3) {
            let req = pb::GetJobRequest {
                job_id: j.id.clone(),
            };
            match tokio::time::timeout(CALL_BOUND, jobs.get_job(req)).await {
                Ok(Ok(r)) => eprintln!("faults: n{} job {}: {:?}", i + 1, j.id, r.into_inner().job),
                other => eprintln!("faults: n{} GetJob {} failed: {other:?}", i + 1, j.id),
            }
        }
    }
    let now = Instant::now();
    let o = oracle.lock().expect("oracle");
    for (k, seen) in &o.sessions {
        eprintln!(
            "faults: worker {k}: session on {} opened {:?} ago, {} frames, the last {:?} ago",
            seen.url,
            now - seen.opened,
            seen.frames,
            seen.last_frame.map(|t| now - t)
        );
    }
}

/// Not finished yet: neither completed nor dead.
fn is_open(job: &pb::Job) -> bool {
    !matches!(state_of(job), pb::JobState::Completed | pb::JobState::Dead)
}

fn key_of(job: &pb::Job) -> String {
    serde_json::from_str::<serde_json::Value>(&job.payload_json)
        .ok()
        .and_then(|v| v.get("key").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_faults_lose_and_duplicate_nothing() {
    let long = std::env::var("CORVO_FAULTS_LONG").is_ok_and(|v| v == "1");
    let seed = std::env::var("CORVO_FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let steps = if long { STEPS_LONG } else { STEPS_SHORT };
    eprintln!(
        "faults: seed {seed}, {steps} steps; replay with CORVO_FAULTS_SEED={seed} tests/faults/run{}",
        if long { " --long" } else { "" }
    );
    let plan = schedule(seed, steps);

    let mut c = Cluster::start().await;
    limit_concurrency(&c).await;
    let oracle: Shared = Arc::default();
    let stop_load = Arc::new(AtomicBool::new(false));
    let stop_work = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            tokio::spawn(produce(
                p,
                seed,
                c.urls.clone(),
                stop_load.clone(),
                oracle.clone(),
            ))
        })
        .collect();
    let workers: Vec<_> = (0..WORKERS)
        .map(|k| tokio::spawn(work(k, c.urls.clone(), stop_work.clone(), oracle.clone())))
        .collect();
    let monitor = tokio::spawn(monitor(c.urls.clone(), stop_work.clone(), oracle.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;

    let started = Instant::now();
    let mut injected: BTreeMap<Fault, u32> = BTreeMap::new();
    for (n, step) in plan.iter().enumerate() {
        eprintln!(
            "faults: step {}/{steps}: {:?} on n{} for {:?}",
            n + 1,
            step.fault,
            step.node + 1,
            step.hold
        );
        c.inject(*step).await;
        *injected.entry(step.fault).or_default() += 1;
        c.recover().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let faulted = started.elapsed();

    // Stop producing; let the workers drain the queue, then check.
    stop_load.store(true, Ordering::SeqCst);
    for p in producers {
        p.await.expect("a producer task");
    }
    c.heal();
    let leader = c.recover().await;
    let mut jobs = c.nodes[leader].jobs().await;
    let drained_by = Instant::now() + DRAIN_BOUND;
    let listed = loop {
        // A node's read view may still be recovering from a fault (UNAVAILABLE): ask again.
        let listed = match list_all(&mut jobs).await {
            Ok(listed) => listed,
            Err(e) if Instant::now() < drained_by => {
                eprintln!("faults: ListJobs on the leader: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            Err(e) => {
                panic!("ListJobs on the leader still fails {DRAIN_BOUND:?} after the faults: {e}")
            }
        };
        let open = listed.iter().filter(|j| is_open(j)).count();
        if open == 0 {
            break listed;
        }
        if Instant::now() >= drained_by {
            report_stall(&c, &listed, &oracle).await;
            panic!("{open} jobs not finished {DRAIN_BOUND:?} after the faults ended (seed {seed})");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    stop_work.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.expect("a worker task");
    }
    monitor.await.expect("the monitor task");

    let o = std::mem::take(&mut *oracle.lock().expect("oracle"));
    let mut violations: Vec<String> = o.conflicts.clone();
    // No acknowledged enqueue lost; no key with two jobs.
    let mut by_key: BTreeMap<String, Vec<&pb::Job>> = BTreeMap::new();
    for job in &listed {
        by_key.entry(key_of(job)).or_default().push(job);
    }
    for (key, found) in &by_key {
        if found.len() > 1 {
            let ids: Vec<&str> = found.iter().map(|j| j.id.as_str()).collect();
            violations.push(format!("key {key:?} made {} jobs: {ids:?}", found.len()));
        }
    }
    for (key, id) in &o.acked {
        match by_key.get(key) {
            Some(found) if found.iter().any(|j| j.id == *id) => {}
            _ => violations.push(format!("acknowledged job {id} (key {key}) is lost")),
        }
    }
    // No job completed by two accepted acks; no ack accepted from a stream that did not
    // hold the job's newest lease (a stale token, or a token-less ack from a non-holder).
    for (id, n) in &o.completions {
        if *n > 1 {
            violations.push(format!("job {id} was completed by {n} accepted acks"));
        }
    }
    for (id, token) in &o.accepted {
        let newest = o.newest_token.get(id).copied().unwrap_or(0);
        if *token != newest {
            violations.push(format!(
                "job {id}: an ack was accepted from the stream holding lease {token}, the newest lease was {newest}"
            ));
        }
    }
    // The queue's concurrency limit held on every node, at every read.
    if o.max_active > u64::from(CONCURRENCY_LIMIT) {
        violations.push(format!(
            "{} jobs active at once, the limit is {CONCURRENCY_LIMIT}",
            o.max_active
        ));
    }
    // The view equals the state, job by job.
    for job in &listed {
        let stored = get_job(&mut jobs, &job.id).await;
        if stored.state != job.state || stored.attempt != job.attempt {
            violations.push(format!(
                "job {}: the view says {:?} attempt {}, the state {:?} attempt {}",
                job.id,
                state_of(job),
                job.attempt,
                state_of(&stored),
                stored.attempt
            ));
        }
    }
    c.recover().await;
    assert_digests_converge(&mut c.nodes, leader).await;

    let faults: Vec<String> = injected
        .iter()
        .map(|(f, n)| match (f, &c.no_disks) {
            (Fault::DiskFull, Some(why)) => format!("DiskFull {n} (skipped: {why})"),
            _ => format!("{f:?} {n}"),
        })
        .collect();
    let table = format!(
        "fault suite (seed {seed}, {} of faults):\n\
         | faults injected | enqueue calls (refused) | keys acknowledged / unknown | jobs | acks accepted (refused) | most active (limit) | violations |\n\
         |---|---|---|---|---|---|---|\n\
         | {} | {} ({}) | {} / {} | {} | {} ({}) | {} ({CONCURRENCY_LIMIT}) | {} |",
        format_args!("{:.0?}", faulted),
        faults.join(", "),
        o.enqueue_calls,
        o.enqueue_refusals,
        o.acked.len(),
        o.unknown.len(),
        listed.len(),
        o.acks_accepted,
        o.acks_refused,
        o.max_active,
        violations.len()
    );
    eprintln!("\n{table}");
    // `tests/run` prints it after the suite (cargo shows a passing test's output to nobody).
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/faults-table.txt");
    let _ = std::fs::write(path, format!("{table}\n"));
    assert!(
        o.acked.len() > 20,
        "the load hardly ran: {} keys acknowledged",
        o.acked.len()
    );
    assert!(
        violations.is_empty(),
        "seed {seed}: {} violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
}
