//! Three in-process nodes over real loopback peer ports: a join (learner, then voter),
//! replication, not-leader answers that name the leader's client address, and idempotent or
//! conflicting joins. Every wait is bounded; nothing asserts on timing.

mod common;

use std::sync::Arc;

use common::{FakeApp, Layout, Recorder, WAIT, options, tick};
use corvo_raft::{ClusterSecret, CorvoNode, MembershipError, ProposeError, RaftNode};
use tempfile::TempDir;

struct TestNode {
    node: RaftNode,
    me: CorvoNode,
    _dir: TempDir,
}

async fn start(id: u64, bootstrap: bool) -> TestNode {
    start_release(id, bootstrap, false).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_three_nodes_join_replicate_and_name_the_leader() {
    let n1 = start(1, true).await;
    assert_eq!(n1.node.wait_for_leader(WAIT).await.expect("leader"), 1);
    let n2 = start(2, false).await;
    let n3 = start(3, false).await;
    assert!(!n2.node.was_member_at_start());
    assert!(
        n2.node.members().is_empty(),
        "a joining node starts with no membership"
    );

    for joining in [&n2, &n3] {
        let id = joining.node.status().node_id;
        let done = n1
            .node
            .join(id, joining.me.clone(), true, false)
            .await
            .expect("join");
        assert!(!done.already_member);
        assert_eq!(done.leader_id, 1);
    }
    let members = n1.node.members();
    assert_eq!(members.len(), 3);
    assert!(members.iter().all(|m| m.voter), "{members:?}");
    // Nodes added by the leader learnt the cluster's id from its calls.
    let id = n1
        .node
        .cluster_id()
        .expect("the bootstrapped cluster has an id");
    for n in [&n2, &n3] {
        assert_eq!(n.node.cluster_id().as_deref(), Some(id.as_str()));
    }

    // A second join of a voter with the same addresses changes nothing; other addresses
    // are refused.
    let again = n1
        .node
        .join(2, n2.me.clone(), false, false)
        .await
        .expect("join again");
    assert!(again.already_member);
    // ...but a new data dir taking over a voter's id is refused.
    assert!(matches!(
        n1.node.join(2, n2.me.clone(), true, false).await,
        Err(MembershipError::Conflict(why)) if why.contains("cannot take over")
    ));
    // A check-only join answers as the join would, and changes nothing.
    assert!(matches!(
        n1.node.join(2, n2.me.clone(), true, true).await,
        Err(MembershipError::Conflict(why)) if why.contains("cannot take over")
    ));
    let members = n1.node.members().len();
    let newcomer = CorvoNode {
        raft_addr: "127.0.0.1:2".into(),
        api_addr: "127.0.0.1:3".into(),
        name: "n9".into(),
    };
    let checked = n1
        .node
        .join(9, newcomer, true, true)
        .await
        .expect("a check-only join of a new node");
    assert!(!checked.already_member);
    assert_eq!(n1.node.members().len(), members, "nothing was added");
    let moved = CorvoNode {
        raft_addr: "127.0.0.1:1".into(),
        ..n2.me.clone()
    };
    assert!(matches!(
        n1.node.join(2, moved, false, false).await,
        Err(MembershipError::Conflict(_))
    ));

    // Writes on the leader reach every node.
    n1.node
        .proposer()
        .propose(vec![tick()])
        .await
        .expect("propose");
    let index = n1.node.status().last_applied.expect("applied");
    for follower in [&n2, &n3] {
        follower
            .node
            .wait_applied(index, WAIT)
            .await
            .expect("replicated");
        assert_eq!(follower.node.status().leader_id, Some(1));
    }

    // Followers name the leader's client address, for writes and for joins.
    let err = n2
        .node
        .proposer()
        .propose(vec![tick()])
        .await
        .expect_err("a follower refuses writes");
    assert_eq!(
        err,
        ProposeError::NotLeader {
            leader_id: Some(1),
            leader_addr: Some(n1.me.api_addr.clone()),
        }
    );
    assert_eq!(
        n3.node.join(2, n2.me.clone(), false, false).await,
        Err(MembershipError::NotLeader {
            leader_id: Some(1),
            leader_addr: Some(n1.me.api_addr.clone()),
        })
    );

    // Every peer's answers name the command set it decodes: the leader may propose commands
    // of this release's set, and would refuse a newer one, naming the peers.
    assert_eq!(n1.node.command_set_blocker(1), None);
    assert_eq!(n1.node.command_set_blocker(corvo_core::COMMAND_SET), None);
    let newer = n1
        .node
        .command_set_blocker(corvo_core::COMMAND_SET + 1)
        .expect("no peer decodes a newer set");
    assert!(
        newer.contains("[2, 3]") || newer.contains("[3, 2]"),
        "{newer}"
    );

    for n in [&n3, &n2, &n1] {
        n.node.shutdown().await.expect("shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_peer_calls_for_another_cluster_or_node_are_refused_before_raft_sees_them() {
    use corvo_raft::identity::{CLUSTER_ID_HEADER, TARGET_NODE_HEADER};
    use corvo_raft::peer_pb::VoteRequest;
    use corvo_raft::peer_pb::raft_peer_service_client::RaftPeerServiceClient;

    // Two clusters under the same secret: each bootstrapped its own id.
    let a = start(1, true).await;
    let b = start(2, true).await;
    let a_id = a
        .node
        .cluster_id()
        .expect("a bootstrapped cluster has an id");
    let b_id = b
        .node
        .cluster_id()
        .expect("a bootstrapped cluster has an id");
    assert_ne!(a_id, b_id);
    assert_eq!(a.node.status().cluster_id.as_deref(), Some(a_id.as_str()));
    a.node.wait_for_leader(WAIT).await.expect("a leads itself");

    let mut client = RaftPeerServiceClient::connect(format!("http://{}", a.me.raft_addr))
        .await
        .expect("connect to a's peer port");
    let call = |cluster: Option<&str>, target: Option<&str>| {
        let mut req = tonic::Request::new(VoteRequest {
            payload: vec![0xff; 3],
        });
        let m = req.metadata_mut();
        m.insert(
            corvo_raft::SECRET_HEADER,
            "component-secret".parse().unwrap(),
        );
        if let Some(c) = cluster {
            m.insert(CLUSTER_ID_HEADER, c.parse().unwrap());
        }
        if let Some(t) = target {
            m.insert(TARGET_NODE_HEADER, t.parse().unwrap());
        }
        req
    };
    // From the other cluster: refused, naming both.
    let err = client
        .vote(call(Some(&b_id), Some("1")))
        .await
        .expect_err("a call from another cluster");
    assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err:?}");
    assert!(
        err.message().contains(&b_id) && err.message().contains(&a_id),
        "{err:?}"
    );
    // Meant for another node: refused.
    let err = client
        .vote(call(Some(&a_id), Some("2")))
        .await
        .expect_err("a call for node 2");
    assert_eq!(err.code(), tonic::Code::FailedPrecondition, "{err:?}");
    // The right cluster and node, or a peer of an older release that names neither, get
    // through to Raft (which refuses the garbage payload itself).
    for (cluster, target) in [(Some(a_id.as_str()), Some("1")), (None, None)] {
        let err = client
            .vote(call(cluster, target))
            .await
            .expect_err("a garbage vote");
        assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    }

    // A node waiting to join learns the id once and keeps it; another id is refused.
    let c = start(3, false).await;
    assert_eq!(c.node.cluster_id(), None);
    c.node.adopt_cluster_id(&a_id).expect("adopt");
    c.node.adopt_cluster_id(&a_id).expect("the same id again");
    assert!(c.node.adopt_cluster_id(&b_id).is_err());
    assert_eq!(c.node.cluster_id(), Some(a_id.clone()));

    // Nothing reached a's Raft: it still leads its one-member cluster.
    assert_eq!(a.node.members().len(), 1);
    assert_eq!(a.node.status().leader_id, Some(1));
}

/// Starts node `id` on a loopback peer port, as a release before `StreamAppend` when `old`
/// (it neither serves nor sends replication streams).
async fn start_release(id: u64, bootstrap: bool, old: bool) -> TestNode {
    start_app(id, bootstrap, old, FakeApp::new(), 1000).await
}

/// [`start_release`] over `app`, keeping `logs_kept` entries behind each snapshot.
async fn start_app(
    id: u64,
    bootstrap: bool,
    old: bool,
    app: Arc<FakeApp>,
    logs_kept: u64,
) -> TestNode {
    let dir = TempDir::new().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a peer port");
    let raft_addr = listener.local_addr().expect("local addr").to_string();
    let me = CorvoNode {
        raft_addr: raft_addr.clone(),
        api_addr: format!("api-of-{id}:8080"),
        name: format!("n{id}"),
    };
    let opts = corvo_raft::RaftOptions {
        node_id: id,
        raft_addr,
        api_addr: me.api_addr.clone(),
        name: me.name.clone(),
        bootstrap,
        cluster_secret: ClusterSecret::new("component-secret"),
        stream_append: !old,
        snapshot_logs_kept: logs_kept,
        ..options(dir.path())
    };
    let node = RaftNode::start(opts, app, Recorder::new())
        .await
        .expect("start");
    let _server = node
        .serve_peers(listener, std::future::pending())
        .expect("serve peers");
    TestNode {
        node,
        me,
        _dir: dir,
    }
}

/// Writes `writes` entries on `leader` and waits until every node in `all` applied them.
async fn replicate(leader: &TestNode, all: &[&TestNode], writes: usize) {
    for _ in 0..writes {
        leader
            .node
            .proposer()
            .propose(vec![tick()])
            .await
            .expect("propose");
    }
    let index = leader.node.status().last_applied.expect("applied");
    for n in all {
        n.node
            .wait_applied(index, WAIT)
            .await
            .unwrap_or_else(|e| panic!("node {} did not apply {index}: {e}", n.me.name));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_a_rolling_upgrade_replicates_between_releases_with_and_without_streams() {
    // A leader of this release, a follower of the release before StreamAppend (it answers
    // UNIMPLEMENTED) and one of this release: both followers get every entry.
    let n1 = start_release(1, true, false).await;
    n1.node.wait_for_leader(WAIT).await.expect("leader");
    let n2 = start_release(2, false, true).await;
    let n3 = start_release(3, false, false).await;
    for joining in [&n2, &n3] {
        let id = joining.node.status().node_id;
        n1.node
            .join(id, joining.me.clone(), true, false)
            .await
            .expect("join");
    }
    replicate(&n1, &[&n1, &n2, &n3], 50).await;
    for n in [&n3, &n2, &n1] {
        n.node.shutdown().await.expect("shutdown");
    }

    // A leader of the release before replicates to followers of this release with
    // AppendEntries, which they still serve.
    let n1 = start_release(1, true, true).await;
    n1.node.wait_for_leader(WAIT).await.expect("leader");
    let n2 = start_release(2, false, false).await;
    n1.node
        .join(2, n2.me.clone(), true, false)
        .await
        .expect("join");
    replicate(&n1, &[&n1, &n2], 50).await;
    for n in [&n2, &n1] {
        n.node.shutdown().await.expect("shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t32_a_leader_sends_a_peer_of_an_older_release_snapshots_in_the_layout_it_reads() {
    // A leader of this release whose log starts after a snapshot: a new node gets the
    // snapshot. A node of the release before reads only layout 1; it is sent a copy in that
    // layout (and would refuse the newer one: it never catches up without the copy).
    let n1_app = FakeApp::new();
    let n1 = start_app(1, true, false, n1_app.clone(), 0).await;
    n1.node.wait_for_leader(WAIT).await.expect("leader");
    replicate(&n1, &[&n1], 20).await;
    n1.node.create_snapshot().await.expect("snapshot");
    let old_app = FakeApp::of_layout(Layout(1));
    let old = start_app(2, false, true, old_app.clone(), 0).await;
    n1.node
        .join(2, old.me.clone(), true, false)
        .await
        .expect("an old node joins through a snapshot");
    let new_app = FakeApp::new();
    let new = start_app(3, false, false, new_app.clone(), 0).await;
    n1.node
        .join(3, new.me.clone(), true, false)
        .await
        .expect("a new node joins through a snapshot");
    replicate(&n1, &[&n1, &old, &new], 10).await;
    // The leader's own record of what it applied (its status may not show the last one yet).
    let leader = n1_app.live();
    let index = leader.last_index.expect("applied");
    for n in [&old, &new] {
        n.node.wait_applied(index, WAIT).await.expect("caught up");
    }
    let counter = leader.counter;
    assert_eq!(old_app.live().counter, counter);
    assert_eq!(new_app.live().counter, counter);
    assert_eq!(n1_app.downgrades(), 1, "one copy, for the old node only");
    for n in [&new, &old, &n1] {
        n.node.shutdown().await.expect("shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t31_a_replication_stream_answers_a_message_it_cannot_decode_with_invalid_argument() {
    use corvo_raft::peer_pb::StreamAppendRequest;
    use corvo_raft::peer_pb::raft_peer_service_client::RaftPeerServiceClient;

    let n1 = start(1, true).await;
    n1.node.wait_for_leader(WAIT).await.expect("leader");
    let before = n1.node.status();
    let mut client = RaftPeerServiceClient::connect(format!("http://{}", n1.me.raft_addr))
        .await
        .expect("connect to the peer port");
    let garbage = StreamAppendRequest {
        payload: vec![0xff; 3],
    };
    let mut req = tonic::Request::new(futures::stream::iter(vec![garbage]));
    req.metadata_mut().insert(
        corvo_raft::SECRET_HEADER,
        "component-secret".parse().unwrap(),
    );
    let mut answers = client
        .stream_append(req)
        .await
        .expect("the stream opens")
        .into_inner();
    let err = answers
        .message()
        .await
        .expect_err("a message that does not decode");
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("decoding a raft message"), "{err:?}");

    // Without the secret the stream is refused before Raft sees it.
    let req = tonic::Request::new(futures::stream::iter(Vec::<StreamAppendRequest>::new()));
    let err = client.stream_append(req).await.expect_err("no secret");
    assert_eq!(err.code(), tonic::Code::Unauthenticated, "{err:?}");

    // Nothing changed: the node still leads its one-member cluster at the same term.
    let after = n1.node.status();
    assert_eq!(after.leader_id, Some(1));
    assert_eq!(after.term, before.term);
    assert_eq!(after.last_log_index, before.last_log_index);
    n1.node.shutdown().await.expect("shutdown");
}
