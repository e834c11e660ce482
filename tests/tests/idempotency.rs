//! Idempotency keys (docs/adr/0030-idempotency-keys.md): an enqueue that carries
//! `options.idempotency_key` and is repeated (same queue, same key, same payload) within the
//! window answers the first call's job, `replayed`, and creates nothing: over unary calls,
//! streams, the CLI, and across a leader failover.

use std::process::Command;

use corvo_tests::cluster::*;
use corvo_tests::*;

fn keyed(queue: &str, payload: &str, key: &str) -> pb::EnqueueRequest {
    enqueue_req_with(
        queue,
        payload,
        pb::EnqueueOptions {
            idempotency_key: key.into(),
            ..Default::default()
        },
    )
}

/// Jobs of `queue` in any state, from the consistent listing.
async fn jobs_in(jobs: &mut JobClient, queue: &str) -> Vec<pb::Job> {
    jobs.list_jobs(pb::ListJobsRequest {
        queue: queue.into(),
        consistent: true,
        page_size: 100,
        ..Default::default()
    })
    .await
    .expect("ListJobs")
    .into_inner()
    .jobs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_twice_makes_one_job_and_answers_its_id() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;

    let first = enqueue(&mut w, keyed("orders", r#"{"order":7}"#, "order-7")).await;
    assert_eq!(first.status, "pending");
    assert!(!first.replayed);
    let again = enqueue(&mut w, keyed("orders", r#"{"order":7}"#, "order-7")).await;
    assert_eq!(again.job_id, first.job_id, "{again:?}");
    assert!(again.replayed);
    assert_eq!(again.status, "duplicate");
    assert_eq!(again.state, pb::JobState::Pending as i32);
    assert_eq!(jobs_in(&mut jobs, "orders").await.len(), 1);

    // Another payload under the same key is a mistake the server names; it changes nothing.
    let mut probe = WriteProbe::new(&mut w).await;
    let err = w
        .enqueue(keyed("orders", r#"{"order":8}"#, "order-7"))
        .await
        .expect_err("a different payload under a held key");
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("options.idempotency_key") && err.message().contains(&first.job_id),
        "{err:?}"
    );
    probe
        .assert_nothing_written(&mut w, "a refused idempotency key")
        .await;

    // A key is scoped to its queue; an oversize key is refused before anything is written.
    let elsewhere = enqueue(&mut w, keyed("emails", r#"{"order":7}"#, "order-7")).await;
    assert_ne!(elsewhere.job_id, first.job_id);
    assert!(!elsewhere.replayed);
    let err = w
        .enqueue(keyed("orders", "{}", &"k".repeat(256)))
        .await
        .expect_err("an oversize key");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("options.idempotency_key"), "{err:?}");

    // The job's state travels with the replay: once it is active, the replay says so.
    fetch_some(&mut w, "orders").await;
    let later = enqueue(&mut w, keyed("orders", r#"{"order":7}"#, "order-7")).await;
    assert_eq!(later.job_id, first.job_id);
    assert_eq!(later.state, pb::JobState::Active as i32);
    assert_eq!(jobs_in(&mut jobs, "orders").await.len(), 1);

    // Two keys are held ("order-7" on two queues); the gauge says so.
    let held = corvo_tests::observe::scrape(&server)
        .await
        .value("corvo_idempotency_keys", &[])
        .expect("corvo_idempotency_keys is exported");
    assert_eq!(held, 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_enqueues_with_a_key_report_the_replay_per_item() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let first = enqueue(&mut w, keyed("mail", "{}", "m-1")).await;
    let mut s = Lifecycle::open(&mut w).await;
    let item = |key: &str| pb::LifecycleEnqueueItem {
        queue: "mail".into(),
        options: Some(pb::EnqueueOptions {
            idempotency_key: key.into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let r = s
        .call(pb::StreamLifecycleRequest {
            enqueues: vec![item("m-1"), item("m-2"), item("m-2")],
            ..Default::default()
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(r.enqueued_job_ids[0], first.job_id);
    assert_eq!(r.enqueue_results[0].message, "replayed");
    assert!(r.enqueue_results[1].message.is_empty(), "{r:?}");
    // The second item of the same frame sees the first.
    assert_eq!(r.enqueued_job_ids[2], r.enqueued_job_ids[1]);
    assert_eq!(r.enqueue_results[2].message, "replayed");
    assert_eq!(jobs_in(&mut jobs, "mail").await.len(), 2);
}

/// Runs `corvo enqueue` against `server`; (success, stdout, stderr).
fn cli_enqueue(server: &TestServer, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(corvo_bin())
        .args(["enqueue", "--server", &server.url(), "--output", "json"])
        .args(args)
        .output()
        .expect("running corvo enqueue");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corvo_enqueue_takes_an_idempotency_key() {
    let server = TestServer::start().await;
    let mut jobs = server.jobs().await;
    let run = |args: &[&str]| {
        let (ok, out, err) = cli_enqueue(&server, args);
        assert!(ok, "corvo enqueue {args:?}: {out}{err}");
        serde_json::from_str::<serde_json::Value>(out.trim()).expect("JSON output")
    };
    let first = run(&["cli", r#"{"n":1}"#, "--idempotency-key", "batch-42"]);
    let again = run(&["cli", r#"{"n":1}"#, "--idempotency-key", "batch-42"]);
    assert_eq!(first["job_id"], again["job_id"]);
    assert_eq!(first["replayed"], false);
    assert_eq!(again["replayed"], true);
    // Without a key each run sends a fresh one: two runs, two jobs.
    let a = run(&["cli", r#"{"n":1}"#]);
    let b = run(&["cli", r#"{"n":1}"#]);
    assert_ne!(a["job_id"], b["job_id"]);
    assert_eq!(jobs_in(&mut jobs, "cli").await.len(), 3);
}

/// The key is replicated with the job: after the leader that took the first call is killed,
/// the same key on the new leader answers the same job, and no node holds a second one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_after_a_leader_failover_answers_the_first_job() {
    let mut nodes = three_nodes().await;
    let old = leader_index(&mut nodes).await;
    let mut w = nodes[old].worker().await;
    let first = enqueue(&mut w, keyed("failover", r#"{"x":1}"#, "fo-1")).await;
    assert!(!first.replayed);

    let new = kill_leader_and_fail_over(&mut nodes, old, "idempotency").await;
    let w = nodes[new].worker().await;
    let again = eventually("the new leader answers the keyed retry", || {
        let mut w = w.clone();
        async move {
            w.enqueue(keyed("failover", r#"{"x":1}"#, "fo-1"))
                .await
                .ok()
                .map(|r| r.into_inner())
        }
    })
    .await;
    assert_eq!(again.job_id, first.job_id, "{again:?}");
    assert!(again.replayed);
    for (i, node) in nodes.iter().enumerate() {
        if i == old {
            continue;
        }
        let jobs = node.jobs().await;
        let listed = eventually("the node lists the job", || {
            let mut jobs = jobs.clone();
            async move {
                let list = jobs_in(&mut jobs, "failover").await;
                (!list.is_empty()).then_some(list)
            }
        })
        .await;
        assert_eq!(listed.len(), 1, "node {i}: {listed:?}");
    }
}
