//! Helpers for multi-node tests: nodes that share a cluster secret, finding the leader,
//! state digests, and a raw HTTP POST for the join endpoint.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tonic::transport::Channel;

use crate::pb::cluster_service_client::ClusterServiceClient;
use crate::{ServerBuilder, TestServer, WAIT, eventually, pb};

/// The secret the test clusters share.
pub const SECRET: &str = "test-cluster-secret";

pub type ClusterClient = ClusterServiceClient<Channel>;

impl TestServer {
    pub async fn cluster(&self) -> ClusterClient {
        ClusterServiceClient::new(self.channel().await)
    }
}

/// What `node` answers to GetClusterStatus (the test fails if it does not answer).
pub async fn cluster_status(node: &TestServer) -> pb::GetClusterStatusResponse {
    node.cluster()
        .await
        .get_cluster_status(pb::GetClusterStatusRequest {})
        .await
        .unwrap_or_else(|e| node.fail(&format!("GetClusterStatus: {e}")))
        .into_inner()
}

/// This node's status, or `None` when it does not answer.
pub async fn node_status(node: &TestServer) -> Option<pb::NodeStatus> {
    let channel = node.try_channel().await.ok()?;
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        ClusterServiceClient::new(channel).get_node_status(pb::GetNodeStatusRequest {}),
    )
    .await
    .ok()?
    .ok()?;
    answer.into_inner().status
}

/// The index (into `nodes`) of the one running node that reports itself leader and that
/// every other answering node follows; waits (at most `WAIT`) for it.
pub async fn leader_index(nodes: &mut [TestServer]) -> usize {
    let running: Vec<bool> = nodes.iter_mut().map(TestServer::is_running).collect();
    let nodes = &*nodes;
    eventually("one leader that every answering node follows", || {
        let running = running.clone();
        async move {
            let mut leader = None;
            let mut statuses = Vec::new();
            for (i, node) in nodes.iter().enumerate() {
                if !running[i] {
                    continue;
                }
                let Some(s) = node_status(node).await else {
                    continue;
                };
                if s.role == pb::NodeRole::Leader as i32 {
                    leader = Some((i, s.raft_id));
                }
                statuses.push(s);
            }
            let (i, id) = leader?;
            statuses
                .iter()
                .all(|s| s.leader_raft_id == Some(id))
                .then_some(i)
        }
    })
    .await
}

/// Moves the leadership from `leader` to `target` (ClusterService TransferLeader) and waits
/// (at most `WAIT`) until every running node follows `target`.
pub async fn transfer_leader(nodes: &mut [TestServer], leader: usize, target: usize) {
    let target_id = node_status(&nodes[target])
        .await
        .expect("the target's status")
        .raft_id;
    let mut transfer = tonic::Request::new(pb::TransferLeaderRequest { raft_id: target_id });
    transfer
        .metadata_mut()
        .insert("x-corvo-cluster-secret", SECRET.parse().expect("ascii"));
    nodes[leader]
        .cluster()
        .await
        .transfer_leader(transfer)
        .await
        .unwrap_or_else(|e| nodes[leader].fail(&format!("TransferLeader: {e}")));
    // TransferLeader returns once Raft has the request (its documented contract); the new
    // leader shows in the cluster status shortly after.
    let deadline = Instant::now() + WAIT;
    let now_leader = loop {
        let now_leader = leader_index(nodes).await;
        if now_leader == target || Instant::now() >= deadline {
            break now_leader;
        }
        tokio::time::sleep(crate::POLL).await;
    };
    assert_eq!(
        now_leader, target,
        "leadership did not move to the chosen voter within {WAIT:?}"
    );
}

/// The failover bound documented in docs/operations.md (5 s with the default timings), with
/// a generous margin for a loaded 2-core test machine.
pub const FAILOVER_BOUND: Duration = Duration::from_secs(15);

/// Kills the leader `old` with SIGKILL and returns the new leader's index once every running
/// node follows it, asserting it came within [`FAILOVER_BOUND`]; `what` names the situation
/// in the log line.
pub async fn kill_leader_and_fail_over(nodes: &mut [TestServer], old: usize, what: &str) -> usize {
    nodes[old].kill();
    let killed_at = Instant::now();
    let new = leader_index(nodes).await;
    let took = killed_at.elapsed();
    assert_ne!(new, old);
    eprintln!("{what}: a new leader after {took:?}");
    assert!(
        took < FAILOVER_BOUND,
        "a new leader took {took:?} (bound {FAILOVER_BOUND:?})"
    );
    new
}

/// The node's state digest once it has applied `min_applied_index`.
pub async fn state_digest(node: &TestServer, min_applied_index: u64) -> pb::GetStateDigestResponse {
    node.cluster()
        .await
        .get_state_digest(pb::GetStateDigestRequest {
            min_applied_index,
            wait_ms: 20_000,
        })
        .await
        .unwrap_or_else(|e| node.fail(&format!("GetStateDigest: {e}")))
        .into_inner()
}

/// Waits until every running node reports the same digest at the leader's applied index.
pub async fn assert_digests_converge(nodes: &mut [TestServer], leader: usize) {
    let applied = node_status(&nodes[leader])
        .await
        .and_then(|s| s.applied_index)
        .expect("the leader answers with an applied index");
    let running: Vec<bool> = nodes.iter_mut().map(TestServer::is_running).collect();
    let nodes = &*nodes;
    eventually("every node's state digest to be equal", || {
        let running = running.clone();
        async move {
            let mut digests = Vec::new();
            for (i, node) in nodes.iter().enumerate() {
                if running[i] {
                    digests.push(state_digest(node, applied).await.digest);
                }
            }
            digests.windows(2).all(|w| w[0] == w[1]).then_some(())
        }
    })
    .await;
}

/// n1 bootstraps; n2 joins through n1 with `--join`; n3 waits (`--no-bootstrap`) and is added
/// through n2's HTTP join endpoint (a follower: it forwards to the leader). Returns once every
/// node has applied the full membership. Every wait is bounded.
pub async fn three_nodes() -> Vec<TestServer> {
    three_nodes_with(|b| b).await
}

/// [`three_nodes`], each node's options first passed through `configure`.
pub async fn three_nodes_with(
    configure: impl Fn(ServerBuilder) -> ServerBuilder,
) -> Vec<TestServer> {
    let n1 = configure(TestServer::builder())
        .node_id("n1")
        .cluster_secret(SECRET)
        .start()
        .await;
    let n2 = configure(TestServer::builder())
        .node_id("n2")
        .cluster_secret(SECRET)
        .join(&n1.url())
        .start()
        .await;
    let mut n3 = configure(TestServer::builder())
        .node_id("n3")
        .cluster_secret(SECRET)
        .no_bootstrap()
        .spawn();
    let body = format!(
        r#"{{"node_id":"n3","raft_addr":"{}","api_addr":"{}"}}"#,
        n3.raft_addr(),
        n3.addr()
    );
    let bearer = format!("Bearer {SECRET}");
    // n3's peer port opens a moment after the spawn; the leader retries until it answers.
    let (code, answer) = http_post_json(
        n2.addr(),
        "/api/v1/cluster/join",
        &[("authorization", bearer.as_str())],
        &body,
        WAIT,
    )
    .await
    .unwrap_or_else(|e| n2.fail(&format!("POST /api/v1/cluster/join: {e}")));
    assert_eq!(code, 200, "HTTP join answered {code}: {answer}");
    assert!(answer.contains(r#""voters":3"#), "{answer}");
    n3.wait_ready().await;
    let mut nodes = vec![n1, n2, n3];
    // A node is ready once it hears a leader, maybe before it holds the membership that
    // names the leader's address (it cannot forward until then): wait until all caught up.
    let leader = leader_index(&mut nodes).await;
    let applied = node_status(&nodes[leader])
        .await
        .and_then(|s| s.applied_index)
        .expect("the leader answers with an applied index");
    for node in &nodes {
        state_digest(node, applied).await;
    }
    nodes
}

/// A raw HTTP/1.1 POST with a JSON body; (status code, body). Bounded by `timeout`.
pub async fn http_post_json(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> std::io::Result<(u16, String)> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    crate::http_exchange(addr, req, timeout).await
}
