//! Restarts under load: while a producer enqueues without pause and stream workers lease and
//! ack (each through any node: followers forward), either every node is stopped with SIGTERM
//! and restarted on its data dir, one at a time, each caught up before the next (t60), or
//! the leader is killed with SIGKILL (t70). Afterwards every acknowledged enqueue exists and
//! ends completed, and no job was completed twice with a valid lease token.
//!
//! Clients only see transient errors during the restarts (a node down, a leader handing
//! over); they retry on the next node. Every wait is bounded; no assertion is on timing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corvo_tests::cluster::*;
use corvo_tests::*;
use pb::worker_service_client::WorkerServiceClient;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};

const QUEUE: &str = "rolling";
/// Stream workers (each holds one StreamLifecycle session at a time).
const WORKERS: usize = 2;
/// Credits each session keeps outstanding.
const SESSION_CREDITS: i32 = 4;
/// Lease length asked by the workers (s): a lease left behind by a session cut by a restart
/// comes back this soon.
const LEASE_S: i32 = 5;
/// Bound of one client call (a call to a stopping node must not stall the load).
const CALL_BOUND: Duration = Duration::from_secs(10);
/// Pause between enqueues and before a client retries elsewhere.
const PRODUCER_PAUSE: Duration = Duration::from_millis(20);
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// A lazily connecting channel that reconnects by itself after a node restarts.
fn lazy_channel(url: &str) -> Channel {
    Endpoint::from_shared(url.to_owned())
        .expect("a valid URL")
        .connect_timeout(Duration::from_secs(2))
        .connect_lazy()
}

/// Enqueues until `stop`, round robin over the nodes; returns the acknowledged job ids.
async fn produce(urls: Vec<String>, stop: Arc<AtomicBool>) -> Vec<String> {
    let clients: Vec<WorkerClient> = urls
        .iter()
        .map(|u| WorkerServiceClient::new(lazy_channel(u)))
        .collect();
    let mut acked = Vec::new();
    let mut i = 0usize;
    while !stop.load(Ordering::SeqCst) {
        let mut w = clients[i % clients.len()].clone();
        i += 1;
        let req = enqueue_req_with(QUEUE, &format!(r#"{{"n":{i}}}"#), fixed_backoff(100, 50));
        match tokio::time::timeout(CALL_BOUND, w.enqueue(req)).await {
            Ok(Ok(r)) => acked.push(r.into_inner().job_id),
            // Unknown outcome: the job may exist, but nobody was told so.
            _ => tokio::time::sleep(RETRY_PAUSE).await,
        }
        tokio::time::sleep(PRODUCER_PAUSE).await;
    }
    acked
}

/// Successful acks (code unspecified, state completed) by job id, over every worker.
type Completions = Arc<Mutex<HashMap<String, u32>>>;

/// One stream worker: a session on one node after another until `stop`.
async fn work(urls: Vec<String>, first: usize, stop: Arc<AtomicBool>, done: Completions) {
    let mut i = first;
    while !stop.load(Ordering::SeqCst) {
        let url = &urls[i % urls.len()];
        i += 1;
        if let Err(e) = session(url, &stop, &done).await {
            eprintln!("worker session on {url} ended: {e}");
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

/// Acks every pushed job at once, granting one credit back per job.
async fn session(url: &str, stop: &AtomicBool, done: &Completions) -> Result<(), String> {
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
    while !stop.load(Ordering::SeqCst) {
        let r = match tokio::time::timeout(Duration::from_secs(1), inbound.message()).await {
            Err(_) => continue,
            Ok(Ok(Some(r))) => r,
            Ok(Ok(None)) => return Err("the server ended the stream".into()),
            Ok(Err(s)) => return Err(s.to_string()),
        };
        {
            let mut done = done.lock().expect("completions");
            for res in &r.ack_results {
                if res.code == pb::ErrorCode::Unspecified as i32
                    && res.state == pb::JobState::Completed as i32
                {
                    *done.entry(res.job_id.clone()).or_default() += 1;
                }
            }
        }
        if !r.jobs.is_empty() {
            let n = i32::try_from(r.jobs.len()).unwrap_or(SESSION_CREDITS);
            let acks = r.jobs.iter().map(ack_item).collect();
            tx.send(frame(acks, n)).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Waits until `node` has applied everything the leader had applied when asked.
async fn caught_up(nodes: &mut [TestServer], node: usize) {
    let leader = leader_index(nodes).await;
    let applied = node_status(&nodes[leader])
        .await
        .and_then(|s| s.applied_index)
        .expect("the leader answers with an applied index");
    state_digest(&nodes[node], applied).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t60_rolling_restart_under_load_loses_and_duplicates_nothing() {
    let mut nodes = three_nodes().await;
    let load = Load::start(&nodes);

    // Let the load run, then restart each node in turn (the leader among them).
    tokio::time::sleep(Duration::from_secs(2)).await;
    for i in 0..nodes.len() {
        let status = nodes[i].terminate_and_wait().await;
        assert!(status.success(), "node {i} exited with {status:?}");
        nodes[i].restart().await;
        caught_up(&mut nodes, i).await;
        eprintln!("node {i} restarted and caught up");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    load.stop_and_check(&mut nodes).await;
}

/// The load: a producer and stream workers over every node.
struct Load {
    stop_load: Arc<AtomicBool>,
    stop_work: Arc<AtomicBool>,
    done: Completions,
    producer: tokio::task::JoinHandle<Vec<String>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(nodes: &[TestServer]) -> Load {
        let urls: Vec<String> = nodes.iter().map(TestServer::url).collect();
        let stop_load = Arc::new(AtomicBool::new(false));
        let stop_work = Arc::new(AtomicBool::new(false));
        let done: Completions = Arc::default();
        let producer = tokio::spawn(produce(urls.clone(), stop_load.clone()));
        let workers = (0..WORKERS)
            .map(|k| tokio::spawn(work(urls.clone(), k + 1, stop_work.clone(), done.clone())))
            .collect();
        Load {
            stop_load,
            stop_work,
            done,
            producer,
            workers,
        }
    }

    /// Stops the load, then checks: every acknowledged enqueue ends completed, no job
    /// completed twice with a valid lease, and the replicas converge.
    async fn stop_and_check(self, nodes: &mut [TestServer]) {
        self.stop_load.store(true, Ordering::SeqCst);
        let acked = self.producer.await.expect("the producer task");
        assert!(
            acked.len() > 20,
            "the load hardly ran: {} enqueues acknowledged",
            acked.len()
        );
        let leader = leader_index(nodes).await;
        let mut jobs = nodes[leader].jobs().await;
        for id in &acked {
            wait_for_job(&mut jobs, id, "completed", |j| {
                state_of(j) == pb::JobState::Completed
            })
            .await;
        }
        self.stop_work.store(true, Ordering::SeqCst);
        for w in self.workers {
            w.await.expect("a worker task");
        }
        let done = self.done.lock().expect("completions").clone();
        let twice: Vec<(&String, &u32)> = done.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            twice.is_empty(),
            "jobs completed more than once with a valid lease: {twice:?}"
        );
        eprintln!(
            "{} enqueues acknowledged, {} acks confirmed to workers",
            acked.len(),
            done.len()
        );
        assert_digests_converge(nodes, leader).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t70_leader_killed_under_load_fails_over_and_loses_nothing() {
    let mut nodes = three_nodes().await;
    let load = Load::start(&nodes);

    tokio::time::sleep(Duration::from_secs(2)).await;
    let old = leader_index(&mut nodes).await;
    kill_leader_and_fail_over(&mut nodes, old, "failover under load").await;
    // The load goes on against the two survivors, then the old leader comes back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    nodes[old].restart().await;
    caught_up(&mut nodes, old).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    load.stop_and_check(&mut nodes).await;
}
