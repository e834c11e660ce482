//! `corvo status`, `corvo cluster status` and the ClusterService behind them reflect what the
//! node is doing: job counts by state and queue, open worker streams, Raft role and indexes.

use corvo_tests::observe::corvo_cli;
use corvo_tests::*;
use pb::cluster_service_client::ClusterServiceClient;
use serde_json::Value;

fn json_of(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "corvo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// 3 jobs on `sq` (one leased over an open stream), 1 scheduled far ahead on `later`.
async fn workload(server: &TestServer) -> (WorkerClient, Lifecycle) {
    let mut w = server.worker().await;
    for _ in 0..3 {
        enqueue_job(&mut w, "sq", "{}").await;
    }
    enqueue(
        &mut w,
        enqueue_req_with(
            "later",
            "{}",
            pb::EnqueueOptions {
                scheduled_at: Some(timestamp_from_ms(now_ms() + 3_600_000)),
                ..Default::default()
            },
        ),
    )
    .await;
    let mut s = Lifecycle::open(&mut w).await;
    s.call(credit_frame(&["sq"], 1)).await;
    assert_eq!(s.pushed_jobs(1).await.len(), 1);
    (w, s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_status_json_reflects_the_workload() {
    let server = TestServer::start().await;
    let (_w, _stream) = workload(&server).await;
    let v = json_of(&corvo_cli(&server, &["status", "--output", "json"]).await);
    assert_eq!(v["node_id"], "n1");
    assert_eq!(v["role"], "leader");
    assert_eq!(v["is_leader"], true);
    assert_eq!(v["ready"], true, "{v}");
    assert_eq!(v["draining"], false);
    assert_eq!(v["worker_streams"], 1);
    assert_eq!(v["workers_connected"], 1);
    assert_eq!(v["jobs"]["pending"], 2);
    assert_eq!(v["jobs"]["active"], 1);
    assert_eq!(v["jobs"]["scheduled"], 1);
    assert_eq!(v["jobs"]["completed"], 0, "every state is listed");
    assert_eq!(v["queues"]["sq"]["pending"], 2);
    assert_eq!(v["queues"]["sq"]["active"], 1);
    assert_eq!(v["queues"]["later"]["scheduled"], 1);
    assert!(v["term"].as_u64().is_some_and(|t| t >= 1));
    let applied = v["applied_index"].as_u64().expect("applied_index");
    assert!(v["committed_index"].as_u64().expect("committed") >= applied);
    assert!(v["apply_backlog"].as_u64().is_some());
    assert!(v["disk"]["used_bytes"].as_u64().is_some_and(|b| b > 0));
    assert!(v["disk"]["free_bytes"].as_u64().is_some_and(|b| b > 0));
    assert!(v["version"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(v["uptime_ms"].as_u64().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_status_text_is_readable() {
    let server = TestServer::start().await;
    let (_w, _stream) = workload(&server).await;
    let out = corvo_cli(&server, &["status"]).await;
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "node       n1",
        "ready      yes",
        "role       leader in term",
        "apply backlog",
        "1 connected on 1 open streams",
        "pending 2",
        "active 1",
        "sq",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_cluster_status_answers_the_failure_checklist() {
    let server = TestServer::start().await;
    let (_w, _stream) = workload(&server).await;
    let v = json_of(&corvo_cli(&server, &["cluster", "status", "--output", "json"]).await);
    let nodes = v["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["reachable"], true);
    assert_eq!(nodes[0]["status"]["jobs"]["active"], 1);
    for check in [
        "nodes_reachable",
        "leader_elected",
        "one_cluster",
        "apply_backlog_stable",
        "workers_connected",
    ] {
        assert_eq!(v["checklist"][check]["ok"], true, "{check}: {v}");
    }
    // A node that started a cluster names it; the check quotes the id.
    let id = nodes[0]["status"]["cluster_id"]
        .as_str()
        .expect("cluster_id");
    assert_eq!(id.len(), 26, "a ULID: {id}");
    let detail = v["checklist"]["one_cluster"]["detail"]
        .as_str()
        .unwrap_or("");
    assert!(detail.contains(id), "{detail}");
    assert!(v["checklist"]["disk_not_full"]["ok"].is_boolean());
    let text = corvo_cli(&server, &["cluster", "status"]).await;
    let text = String::from_utf8_lossy(&text.stdout);
    for question in [
        "node reachable?",
        "disk full?",
        "leader elected?",
        "one cluster id?",
        "apply backlog growing?",
        "workers connected?",
    ] {
        assert!(text.contains(question), "{question:?} missing:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t40_cluster_service_over_grpc() {
    let server = TestServer::start().await;
    let mut c = ClusterServiceClient::new(server.channel().await);
    let node = within(
        "GetNodeStatus",
        c.get_node_status(pb::GetNodeStatusRequest {}),
    )
    .await
    .expect("GetNodeStatus")
    .into_inner()
    .status
    .expect("a status");
    assert_eq!(node.node_id, "n1");
    assert_eq!(node.role, pb::NodeRole::Leader as i32);
    assert_eq!(node.leader_raft_id, Some(node.raft_id));
    assert_eq!(node.job_counts.len(), 8, "every state");
    let cluster = within(
        "GetClusterStatus",
        c.get_cluster_status(pb::GetClusterStatusRequest {}),
    )
    .await
    .expect("GetClusterStatus")
    .into_inner();
    assert_eq!(cluster.leader_raft_id, Some(node.raft_id));
    assert_eq!(cluster.nodes.len(), 1);
    assert!(cluster.nodes[0].reachable);
}
