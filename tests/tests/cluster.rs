//! Three real `corvo` processes form a cluster with `--join` (and one join over HTTP),
//! replicate writes, forward writes sent to followers to the leader, refuse joins
//! without the cluster secret, and fail over when the leader is killed.
//!
//! Every wait is bounded (`WAIT`, 30 s): the machine running these may be small and busy.

use std::time::Instant;

use corvo_tests::cluster::*;
use corvo_tests::*;
use tonic::Code;

async fn enqueue_on(node: &TestServer, n: usize) -> Vec<String> {
    let mut w = node.worker().await;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(enqueue_job(&mut w, "cq", &format!(r#"{{"i":{i}}}"#)).await);
    }
    ids
}

/// Fetches and acks `n` jobs of `cq` on `node`; returns their ids.
async fn work_on(node: &TestServer, n: usize) -> Vec<String> {
    let mut w = node.worker().await;
    let mut done = Vec::new();
    for _ in 0..n {
        let job = fetch_some(&mut w, "cq").await;
        within(
            "Ack",
            w.ack(pb::AckRequest {
                job_id: job.job_id.clone(),
                result_json: r#"{"ok":true}"#.into(),
                ..Default::default()
            }),
        )
        .await
        .unwrap_or_else(|e| node.fail(&format!("Ack: {e}")));
        done.push(job.job_id);
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_three_nodes_join_replicate_and_forward_follower_writes() {
    let mut nodes = three_nodes().await;
    let leader = leader_index(&mut nodes).await;

    // (a) Every node's GetClusterStatus lists 3 reachable voters and the same leader (a
    // follower learns the last membership entry a moment after the leader: poll).
    let leader_addr = nodes[leader].addr().to_string();
    for node in &nodes {
        let deadline = Instant::now() + WAIT;
        loop {
            let status = cluster_status(node).await;
            let leaders: Vec<&str> = status
                .nodes
                .iter()
                .filter(|m| {
                    m.status
                        .as_ref()
                        .is_some_and(|s| s.role == pb::NodeRole::Leader as i32)
                })
                .map(|m| m.client_address.as_str())
                .collect();
            if status.nodes.len() == 3
                && status.nodes.iter().all(|m| m.voter && m.reachable)
                && leaders == [leader_addr.as_str()]
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no 3 reachable voters with leader {leader_addr} after {WAIT:?}: {status:#?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    // Every node names the same cluster id: made by the bootstrapping node, learnt by the
    // others from their check-only join before their peer ports opened.
    let mut ids = Vec::new();
    for node in &nodes {
        let status = node_status(node).await.expect("the node's own status");
        ids.push(status.cluster_id);
    }
    assert!(!ids[0].is_empty(), "{ids:?}");
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");

    // (b) Writes through the leader replicate: equal digests on every node.
    let ids = enqueue_on(&nodes[leader], 20).await;
    let acked = work_on(&nodes[leader], 5).await;
    assert_eq!(acked.len(), 5);
    assert_eq!(ids.len(), 20);
    assert_digests_converge(&mut nodes, leader).await;

    // (c) A write to a follower is forwarded to the leader: it succeeds and the job is on
    // the leader (tests/tests/forwarding.rs covers forwarding in depth).
    let follower = (leader + 1) % nodes.len();
    let mut w = nodes[follower].worker().await;
    let id = within("Enqueue on a follower", w.enqueue(enqueue_req("cq", "{}")))
        .await
        .unwrap_or_else(|e| nodes[follower].fail(&format!("a follower refused a write: {e}")))
        .into_inner()
        .job_id;
    get_job(&mut nodes[leader].jobs().await, &id).await;

    // (e) Joins without or with a wrong secret are refused and change nothing.
    let join = pb::JoinRequest {
        raft_id: 4242,
        raft_address: "127.0.0.1:1".into(),
        client_address: "127.0.0.1:2".into(),
        node_id: "intruder".into(),
        new_data_dir: true,
        check_only: false,
    };
    let mut c = nodes[follower].cluster().await;
    let err = c
        .join(join.clone())
        .await
        .expect_err("join without a secret");
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let mut wrong = tonic::Request::new(join.clone());
    wrong.metadata_mut().insert(
        "authorization",
        "Bearer not-the-secret".parse().expect("ascii"),
    );
    let err = c.join(wrong).await.expect_err("join with a wrong secret");
    // A wrong secret is no credential at all (docs/security.md).
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let (code, _) = http_post_json(
        nodes[leader].addr(),
        "/api/v1/cluster/join",
        &[("x-corvo-cluster-secret", "wrong")],
        r#"{"node_id":"intruder","raft_addr":"127.0.0.1:1","api_addr":"127.0.0.1:2"}"#,
        WAIT,
    )
    .await
    .expect("POST join");
    assert_eq!(code, 401);
    let members = cluster_status(&nodes[leader]).await.nodes;
    assert_eq!(
        members.len(),
        3,
        "a refused join changed the membership: {members:?}"
    );

    // TransferLeader moves leadership to the chosen voter; RemoveNode then takes a member
    // out (asked of the new leader).
    let target = (leader + 2) % nodes.len();
    transfer_leader(&mut nodes, leader, target).await;

    let removed = node_status(&nodes[leader]).await.expect("status").raft_id;
    let mut remove = tonic::Request::new(pb::RemoveNodeRequest { raft_id: removed });
    remove
        .metadata_mut()
        .insert("x-corvo-cluster-secret", SECRET.parse().expect("ascii"));
    let left = nodes[target]
        .cluster()
        .await
        .remove_node(remove)
        .await
        .unwrap_or_else(|e| nodes[target].fail(&format!("RemoveNode: {e}")))
        .into_inner();
    assert_eq!(left.voters, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_leader_killed_new_leader_keeps_acked_writes_and_old_leader_rejoins() {
    let mut nodes = three_nodes().await;
    let old = leader_index(&mut nodes).await;
    let ids = enqueue_on(&nodes[old], 10).await;
    let acked = work_on(&nodes[old], 3).await;

    let new = kill_leader_and_fail_over(&mut nodes, old, "failover").await;

    // Every acknowledged write is on the new leader.
    let mut jobs = nodes[new].jobs().await;
    for id in &ids {
        get_job(&mut jobs, id).await;
    }
    for id in &acked {
        assert_eq!(
            state_of(&get_job(&mut jobs, id).await),
            pb::JobState::Completed
        );
    }
    // The new leader takes writes.
    enqueue_on(&nodes[new], 2).await;

    // The old leader restarts on its data dir and rejoins without a join call.
    nodes[old].restart().await;
    assert!(
        nodes[old].log_tail(200).contains("rejoining by starting")
            || !nodes[old].log_tail(200).contains("joining the cluster"),
        "the restarted node asked to join again:\n{}",
        nodes[old].log_tail(40)
    );
    let leader = leader_index(&mut nodes).await;
    assert_digests_converge(&mut nodes, leader).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_sigterm_on_the_leader_hands_leadership_over_before_it_exits() {
    let mut nodes = three_nodes().await;
    let old = leader_index(&mut nodes).await;
    let ids = enqueue_on(&nodes[old], 5).await;

    let status = nodes[old].terminate_and_wait().await;
    assert!(status.success(), "SIGTERM exit: {status:?}");
    let log = nodes[old].log_tail(200);
    // Logged only once another node was seen leading (a bounded wait inside the shutdown).
    assert!(
        log.contains("handed leadership over"),
        "the leader stopped without handing over:\n{}",
        nodes[old].log_tail(40)
    );
    let new = leader_index(&mut nodes).await;
    assert_ne!(new, old);
    let mut jobs = nodes[new].jobs().await;
    for id in &ids {
        get_job(&mut jobs, id).await;
    }
    enqueue_on(&nodes[new], 2).await;
}

/// A node id stays bound to its data: a node restarted on a new (wiped) data dir under the id
/// of a voter is refused by the leader, and the cluster goes on without it. The documented
/// fix works: remove the old member (`corvo cluster remove`), then the new data dir joins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t40_a_new_data_dir_cannot_take_over_a_voters_id() {
    let mut nodes = three_nodes().await;
    let leader = leader_index(&mut nodes).await;
    let wiped = (leader + 1) % nodes.len();
    let name = ["n1", "n2", "n3"][wiped];
    nodes[wiped].terminate_and_wait().await;
    std::fs::remove_dir_all(nodes[wiped].data_dir()).expect("wiping the data dir");
    let leader_url = nodes[leader].url();
    nodes[wiped].set_env("CORVO_JOIN", Some(&leader_url));
    nodes[wiped].respawn();
    let exit = nodes[wiped].wait_exit(WAIT).await;
    assert!(
        !exit.success(),
        "a wiped node must not rejoin under its old id"
    );
    let log = nodes[wiped].log_since_start();
    assert!(log.contains("cannot take over its id"), "{log}");
    // The refused start closed the state and the Raft log it had opened: the next start
    // checks neither.
    nodes[wiped].respawn();
    nodes[wiped].wait_exit(WAIT).await;
    let log = nodes[wiped].log_since_start();
    assert!(log.contains("cannot take over its id"), "{log}");
    assert!(!log.contains("not closed cleanly"), "{log}");
    let status = node_status(&nodes[leader])
        .await
        .expect("the leader answers");
    assert_eq!(status.role, pb::NodeRole::Leader as i32);

    let out = std::process::Command::new(corvo_bin())
        .args(["cluster", "remove", name, "--server", &nodes[leader].url()])
        .env("CORVO_CLUSTER_SECRET", SECRET)
        .output()
        .expect("corvo cluster remove");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("2 voters left"), "{text}");
    std::fs::remove_dir_all(nodes[wiped].data_dir()).expect("wiping the data dir again");
    nodes[wiped].restart().await;
    let leader = leader_index(&mut nodes).await;
    assert_digests_converge(&mut nodes, leader).await;
}

/// `--seek-cluster` (for Kubernetes pod 0, the node that starts the cluster): with no live
/// member to find, a first start starts a new cluster once the search times out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t50_seek_cluster_starts_a_new_cluster_when_no_member_answers() {
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let mut node = TestServer::builder()
        .node_id("n1")
        .cluster_secret(SECRET)
        .env("CORVO_SEEK_CLUSTER", &nobody)
        .env("CORVO_SEEK_CLUSTER_TIMEOUT_MS", "1000")
        .start()
        .await;
    let nodes = std::slice::from_mut(&mut node);
    assert_eq!(leader_index(nodes).await, 0, "it leads its own cluster");
    assert!(
        nodes[0]
            .log_since_start()
            .contains("no member answered; starting a new cluster")
    );
}

/// Pod 0 that lost its volume: with `--seek-cluster` naming the other members it never
/// starts a second cluster under the same secret. While it is still a voter it is refused
/// (a new data dir cannot take over a voter's id) and exits; once removed it joins the live
/// cluster, which goes on with three voters and one state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t60_a_bootstrapping_node_with_an_empty_volume_joins_the_live_cluster() {
    let mut nodes = three_nodes().await;
    let others = format!("{},{}", nodes[1].url(), nodes[2].url());
    nodes[0].terminate_and_wait().await;
    std::fs::remove_dir_all(nodes[0].data_dir()).expect("wiping pod 0's volume");
    nodes[0].set_env("CORVO_SEEK_CLUSTER", Some(&others));

    // Still a voter: refused, and no second cluster.
    nodes[0].respawn();
    let exit = nodes[0].wait_exit(WAIT).await;
    assert!(!exit.success(), "a wiped voter must not start or join");
    let log = nodes[0].log_since_start();
    assert!(log.contains("cannot take over its id"), "{log}");
    assert!(!log.contains("starting a new cluster"), "{log}");

    // The operator removes the old member; the wiped node then joins the live cluster.
    let out = std::process::Command::new(corvo_bin())
        .args(["cluster", "remove", "n1", "--server", &nodes[1].url()])
        .env("CORVO_CLUSTER_SECRET", SECRET)
        .output()
        .expect("corvo cluster remove");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !nodes[0].data_dir().join("raft-log.redb").exists(),
        "the refused start wrote nothing"
    );
    nodes[0].restart().await;
    let log = nodes[0].log_since_start();
    assert!(log.contains("found a live member; joining it"), "{log}");
    let leader = leader_index(&mut nodes).await;
    let members = cluster_status(&nodes[leader]).await.nodes;
    let mut voters: Vec<&str> = members
        .iter()
        .filter(|m| m.voter)
        .map(|m| m.node_id.as_str())
        .collect();
    voters.sort_unstable();
    assert_eq!(voters, ["n1", "n2", "n3"], "{members:?}");
    assert_digests_converge(&mut nodes, leader).await;
}

/// A node takes its ports before it writes or joins anything: with its client port (or peer
/// port) held by another process, a node told to join exits naming the port, its data dir
/// holds no state, and the cluster keeps one voter (a node that joined and then could not
/// serve would be a dead voter, and with two voters the cluster could not commit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t70_a_node_whose_port_is_taken_exits_before_joining() {
    let leader = TestServer::builder()
        .node_id("n1")
        .cluster_secret(SECRET)
        .start()
        .await;
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a port to hold");
    let taken = holder.local_addr().expect("the held port").port();
    for (what, port, raft_port) in [("client", taken, free_port()), ("peer", free_port(), taken)] {
        let mut node = TestServer::builder()
            .node_id("n2")
            .cluster_secret(SECRET)
            .join(&leader.url())
            .spawn_on(port, raft_port);
        let exit = node.wait_exit(WAIT).await;
        assert!(!exit.success(), "{what} port taken: the start must fail");
        let log = node.log_since_start();
        assert!(
            log.contains(&format!("127.0.0.1:{taken}")) && log.contains("Address already in use"),
            "{what} port taken: the error names the port: {log}"
        );
        for file in ["state.redb", "raft-log.redb"] {
            assert!(
                !node.data_dir().join(file).exists(),
                "{what} port taken: {file} was written before the ports were taken"
            );
        }
        assert!(
            !log.contains("joining the cluster"),
            "{what} port taken: it asked to join: {log}"
        );
        let members = cluster_status(&leader).await.nodes;
        assert_eq!(members.len(), 1, "{what} port taken: {members:?}");
    }
    drop(holder);
}
