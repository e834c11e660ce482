//! A minority partition: one follower is cut off from the other two (both ways, peer and
//! client traffic), refuses writes with a prompt UNAVAILABLE while the majority keeps
//! taking them, and converges to the same state once the partition heals.
//!
//! Each node advertises TCP proxies ([`corvo_tests::proxy`]) in front of its peer and client
//! ports, so every connection between nodes (Raft, forwarded calls, status) crosses a proxy;
//! the test itself talks to the nodes' real ports. Isolating a node: its own proxies refuse
//! everything, and the other nodes' proxies refuse whatever its process dials.
//!
//! Every wait is bounded (`WAIT`, 30 s) and nothing asserts on timing beyond "no hang".

use std::time::{Duration, Instant};

use corvo_tests::cluster::*;
use corvo_tests::proxy::{heal_all, isolate, proxied_node};
use corvo_tests::*;
use tonic::Code;

/// How long the isolated node may take to refuse a write: the forward's connect bound (1 s)
/// with a wide margin for a loaded machine. The point is "no hang".
const REFUSAL_BOUND: Duration = Duration::from_secs(10);
/// How long writes are sent to the isolated node: past an election timeout, so both of its
/// views are covered (the old leader unreachable, then no leader).
const ISOLATION_PROBE: Duration = Duration::from_secs(4);

/// Enqueues `n` jobs on `node`, retrying a call answered UNAVAILABLE (on a slow machine
/// the majority may elect a new leader meanwhile); returns the acknowledged ids.
async fn enqueue_ids(node: &TestServer, queue: &str, n: usize) -> Vec<String> {
    let w = node.worker().await;
    let mut ids = Vec::new();
    for i in 0..n {
        let id = eventually("the majority to take a write", || {
            let mut w = w.clone();
            async move {
                let req = enqueue_req(queue, &format!(r#"{{"i":{i}}}"#));
                match within("Enqueue on the majority", w.enqueue(req)).await {
                    Ok(r) => Some(r.into_inner().job_id),
                    Err(e) if e.code() == Code::Unavailable => None,
                    Err(e) => node.fail(&format!("Enqueue on the majority: {e}")),
                }
            }
        })
        .await;
        ids.push(id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t50_an_isolated_follower_refuses_writes_and_converges_after_healing() {
    let (n1, p1) = proxied_node("n1", None, |b| b).await;
    let (n2, p2) = proxied_node("n2", Some(&n1.url()), |b| b).await;
    let (n3, p3) = proxied_node("n3", Some(&n1.url()), |b| b).await;
    let mut nodes = vec![n1, n2, n3];
    let proxied = [p1, p2, p3];
    let leader = leader_index(&mut nodes).await;
    let before = enqueue_ids(&nodes[leader], "pq", 5).await;
    assert_digests_converge(&mut nodes, leader).await;

    // Cut one follower off, both ways.
    let cut = (leader + 1) % nodes.len();
    isolate(&proxied, cut, nodes[cut].pid());

    // The minority refuses writes, promptly, with a retry hint; the majority takes them.
    let mut minority = nodes[cut].worker().await;
    let other = (0..nodes.len())
        .find(|i| *i != leader && *i != cut)
        .expect("three nodes");
    let mut written = Vec::new();
    let until = Instant::now() + ISOLATION_PROBE;
    let mut refusals = 0;
    while Instant::now() < until || refusals < 3 {
        let answer = tokio::time::timeout(
            REFUSAL_BOUND,
            minority.enqueue(enqueue_req("pq", r#"{"side":"minority"}"#)),
        )
        .await
        .unwrap_or_else(|_| nodes[cut].fail(&format!("a write hung for {REFUSAL_BOUND:?}")));
        match answer {
            Ok(r) => nodes[cut].fail(&format!(
                "the isolated node accepted a write: {:?}",
                r.into_inner()
            )),
            Err(e) => {
                assert_eq!(e.code(), Code::Unavailable, "{e:?}");
                assert!(
                    e.metadata().contains_key("grpc-retry-pushback-ms"),
                    "no retry hint: {e:?}"
                );
            }
        }
        refusals += 1;
        // The majority: the leader directly and the other follower by forwarding.
        written.extend(enqueue_ids(&nodes[leader], "pq", 1).await);
        written.extend(enqueue_ids(&nodes[other], "pq", 1).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The cut was real: the majority applied writes the isolated node never saw, and the
    // leader cannot reach it (it asks each member through its advertised client address).
    let applied = |s: Option<pb::NodeStatus>| s.and_then(|s| s.applied_index).unwrap_or(0);
    let leader_applied = applied(node_status(&nodes[leader]).await);
    let cut_applied = applied(node_status(&nodes[cut]).await);
    assert!(
        cut_applied < leader_applied,
        "the isolated node applied {cut_applied}, the leader {leader_applied}: writes leaked through"
    );
    let members = cluster_status(&nodes[leader]).await.nodes;
    let cut_addr = proxied[cut].api.addr().to_string();
    assert!(
        members
            .iter()
            .any(|m| m.client_address == cut_addr && !m.reachable),
        "the leader still reaches the isolated node: {members:#?}"
    );

    // Heal: every node follows one leader again and all states are equal.
    heal_all(&proxied);
    let leader = leader_index(&mut nodes).await;
    written.extend(enqueue_ids(&nodes[leader], "pq", 1).await);
    assert_digests_converge(&mut nodes, leader).await;

    // Every write the majority acknowledged is there, read through the healed node.
    let mut jobs = nodes[cut].jobs().await;
    for id in before.iter().chain(&written) {
        get_job(&mut jobs, id).await;
    }
}

/// The leader itself is cut off: the majority elects a new leader and goes on, and the old
/// leader, alone, refuses writes (no hang) instead of acknowledging what it cannot commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t60_an_isolated_leader_stops_taking_writes_and_the_majority_goes_on() {
    let (n1, p1) = proxied_node("n1", None, |b| b).await;
    let (n2, p2) = proxied_node("n2", Some(&n1.url()), |b| b).await;
    let (n3, p3) = proxied_node("n3", Some(&n1.url()), |b| b).await;
    let mut nodes = vec![n1, n2, n3];
    let proxied = [p1, p2, p3];
    let old = leader_index(&mut nodes).await;
    enqueue_ids(&nodes[old], "lq", 3).await;
    assert_digests_converge(&mut nodes, old).await;

    isolate(&proxied, old, nodes[old].pid());

    // A write to the old leader at once, while it still believes it leads: it cannot commit
    // it, so it must not acknowledge it, and must answer (no hang) once it steps down.
    let mut minority = nodes[old].worker().await;
    let mut keyed_minority = minority.clone();
    let started = Instant::now();
    let old_leader_write = tokio::spawn(async move {
        tokio::time::timeout(
            Duration::from_secs(30),
            minority.enqueue(enqueue_req("lq", r#"{"side":"old leader"}"#)),
        )
        .await
    });
    // The same with an idempotency key: safe to retry, so the answer invites a retry.
    let keyed = pb::EnqueueOptions {
        idempotency_key: "old-leader-1".into(),
        ..Default::default()
    };
    let old_leader_keyed_write = tokio::spawn(async move {
        tokio::time::timeout(
            Duration::from_secs(30),
            keyed_minority.enqueue(enqueue_req_with("lq", r#"{"side":"keyed"}"#, keyed)),
        )
        .await
    });

    // The majority: a write through one of the two others eventually lands (a new leader).
    let other = (old + 1) % nodes.len();
    let written = enqueue_ids(&nodes[other], "lq", 2).await;

    let answer = old_leader_write.await.expect("the write task");
    eprintln!(
        "the old leader answered after {:?}: {answer:?}",
        started.elapsed()
    );
    let answer = answer
        .unwrap_or_else(|_| nodes[old].fail("a write to the isolated old leader hung for 30 s"));
    let err = answer.expect_err("the isolated old leader acknowledged a write it cannot commit");
    // Either it had stepped down before taking the write (UNAVAILABLE, not the leader), or
    // the write's outcome is unknown: UNKNOWN, without a retry hint (a blind retry could
    // enqueue the job twice).
    match err.code() {
        Code::Unavailable => {}
        Code::Unknown => {
            assert!(err.message().contains("outcome unknown"), "{err:?}");
            assert!(
                !err.metadata().contains_key("grpc-retry-pushback-ms"),
                "{err:?}"
            );
        }
        other => panic!("unexpected {other:?}: {err:?}"),
    }
    let keyed = old_leader_keyed_write
        .await
        .expect("the keyed write task")
        .unwrap_or_else(|_| nodes[old].fail("a keyed write to the isolated old leader hung"));
    let err = keyed.expect_err("the isolated old leader acknowledged a keyed write");
    assert_eq!(
        err.code(),
        Code::Unavailable,
        "a keyed write is safe to retry: {err:?}"
    );
    assert!(
        err.metadata().contains_key("grpc-retry-pushback-ms"),
        "{err:?}"
    );

    heal_all(&proxied);
    let leader = leader_index(&mut nodes).await;
    assert_digests_converge(&mut nodes, leader).await;
    let mut jobs = nodes[old].jobs().await;
    for id in &written {
        get_job(&mut jobs, id).await;
    }
}

/// Reads that claim consistency are linearizable: a leader cut off from the majority cannot
/// confirm that it still leads, so it refuses GetJob (and the other consistent reads) with
/// UNAVAILABLE instead of answering from a state the majority has moved past.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t70_a_deposed_leader_cut_off_from_the_majority_refuses_consistent_reads() {
    let (n1, p1) = proxied_node("n1", None, |b| b).await;
    let (n2, p2) = proxied_node("n2", Some(&n1.url()), |b| b).await;
    let (n3, p3) = proxied_node("n3", Some(&n1.url()), |b| b).await;
    let mut nodes = vec![n1, n2, n3];
    let proxied = [p1, p2, p3];
    let old = leader_index(&mut nodes).await;
    let id = enqueue_ids(&nodes[old], "rq", 1).await.remove(0);
    assert_digests_converge(&mut nodes, old).await;
    let mut stale_jobs = nodes[old].jobs().await;
    let mut stale_queues = nodes[old].queues().await;
    get_job(&mut stale_jobs, &id).await;

    isolate(&proxied, old, nodes[old].pid());

    // At once, while it may still believe it leads: no answer from its own state.
    let read = within(
        "GetJob on the isolated old leader",
        stale_jobs.get_job(pb::GetJobRequest { job_id: id.clone() }),
    )
    .await;
    let e = read.expect_err("the isolated leader answered a read it cannot confirm");
    assert_eq!(e.code(), Code::Unavailable, "{e:?}");

    // The majority moves on: it cancels the job.
    let other = (old + 1) % nodes.len();
    let majority = nodes[other].jobs().await;
    eventually("the majority to cancel the job", || {
        let mut majority = majority.clone();
        let id = id.clone();
        async move {
            match within(
                "CancelJob",
                majority.cancel_job(pb::CancelJobRequest { job_id: id }),
            )
            .await
            {
                Ok(_) => Some(()),
                Err(e) if matches!(e.code(), Code::Unavailable | Code::Unknown) => None,
                // An earlier attempt whose outcome was unknown did cancel it.
                Err(e) if e.message().contains("is cancelled") => Some(()),
                Err(e) => panic!("CancelJob on the majority: {e:?}"),
            }
        }
    })
    .await;
    let e = within(
        "GetJob on the isolated old leader",
        stale_jobs.get_job(pb::GetJobRequest { job_id: id.clone() }),
    )
    .await
    .expect_err("the isolated old leader served a stale job");
    assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    let e = within(
        "GetQueue on the isolated old leader",
        stale_queues.get_queue(pb::GetQueueRequest { queue: "rq".into() }),
    )
    .await
    .expect_err("the isolated old leader served stale queue counts");
    assert_eq!(e.code(), Code::Unavailable, "{e:?}");

    heal_all(&proxied);
    let leader = leader_index(&mut nodes).await;
    assert_digests_converge(&mut nodes, leader).await;
    let job = eventually("the healed node to answer", || {
        let mut jobs = stale_jobs.clone();
        let id = id.clone();
        async move { jobs.get_job(pb::GetJobRequest { job_id: id }).await.ok() }
    })
    .await
    .into_inner()
    .job
    .expect("a job");
    assert_eq!(job.state, pb::JobState::Cancelled as i32);
}

/// An enqueue whose client gives up while its entry waits for a majority still hands its job
/// to the stream whose credit the leader reserved for it (a lease riding in the same entry):
/// the entry commits once the majority is back, cancelled call or not. Before, the cancelled
/// call took the reservation with it: the job sat leased to nobody until its lease ran out,
/// and the stream's credit was gone for good, so a worker that lost all its credits this way
/// got nothing more, ever (the fault suite's stalled drains: every job pending, both workers
/// connected to the leader, no push for minutes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t80_an_enqueue_cancelled_before_its_commit_still_delivers_its_job() {
    // Elections far slower than the pause: the followers come back to the same leader and
    // take its entry, instead of possibly electing one of them without it.
    let mut nodes = three_nodes_with(|b| b.election_timeout_ms(10_000)).await;
    let leader = leader_index(&mut nodes).await;
    let mut w = nodes[leader].worker().await;
    let mut s = Lifecycle::open(&mut w).await;
    let granted = s.call(credit_frame(&["given-up"], 1)).await;
    assert!(granted.error.is_empty(), "{granted:?}");

    // Without its followers the leader cannot commit: the client gives up on the enqueue.
    let followers: Vec<usize> = (0..nodes.len()).filter(|i| *i != leader).collect();
    for &f in &followers {
        nodes[f].signal(libc::SIGSTOP);
    }
    let mut producer = nodes[leader].worker().await;
    let gave_up = tokio::time::timeout(
        Duration::from_millis(500),
        producer.enqueue(enqueue_req("given-up", r#"{"n":1}"#)),
    )
    .await;
    assert!(gave_up.is_err(), "answered without a majority: {gave_up:?}");
    for &f in &followers {
        nodes[f].signal(libc::SIGCONT);
    }

    // The entry commits; its job reaches the stream, which can settle it.
    let pushed = s.pushed_jobs(1).await;
    let acked = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![ack_item(&pushed[0])],
            ..credit_frame(&["given-up"], 1)
        })
        .await;
    assert_eq!(acked.acked, 1, "{acked:?}");
    let job = get_job(&mut nodes[leader].jobs().await, &pushed[0].job_id).await;
    assert_eq!(state_of(&job), pb::JobState::Completed);
}
