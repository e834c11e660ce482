//! Crash safety: after SIGKILL and a restart on the same data dir (durability fsync, the
//! default), every write that was acknowledged is there, exactly once.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corvo_tests::*;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

const QUEUE: &str = "durable";

/// What the enqueuers saw: acknowledged jobs, and payloads whose outcome is unknown (the call
/// failed, possibly after the server applied it).
#[derive(Default)]
struct Ledger {
    acked: Mutex<Vec<(String, String)>>,
    uncertain: Mutex<Vec<String>>,
}

impl Ledger {
    fn acked_count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }
}

/// Unary enqueues, one at a time, until the server is killed.
async fn unary_enqueuer(
    name: String,
    mut w: WorkerClient,
    ledger: Arc<Ledger>,
    killing: Arc<AtomicBool>,
) {
    for n in 0.. {
        let payload = format!(r#"{{"src":"{name}","n":{n}}}"#);
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            w.enqueue(enqueue_req(QUEUE, &payload)),
        )
        .await;
        match r {
            Ok(Ok(resp)) => ledger
                .acked
                .lock()
                .unwrap()
                .push((resp.into_inner().job_id, payload)),
            Ok(Err(_)) | Err(_) => {
                ledger.uncertain.lock().unwrap().push(payload);
                if killing.load(Ordering::SeqCst) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// StreamLifecycle frames of five enqueues each, one frame in flight, until the server is killed.
async fn stream_enqueuer(mut w: WorkerClient, ledger: Arc<Ledger>) {
    let (tx, rx) = mpsc::channel(4);
    let Ok(Ok(resp)) = tokio::time::timeout(
        Duration::from_secs(10),
        w.stream_lifecycle(ReceiverStream::new(rx)),
    )
    .await
    else {
        return;
    };
    let mut inbound = resp.into_inner();
    for frame in 1u64.. {
        let payloads: Vec<String> = (0..5)
            .map(|i| format!(r#"{{"src":"stream","n":{}}}"#, frame * 5 + i))
            .collect();
        let request = pb::StreamLifecycleRequest {
            request_id: frame,
            enqueues: payloads
                .iter()
                .map(|p| pb::LifecycleEnqueueItem {
                    queue: QUEUE.into(),
                    payload_json: p.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let sent = tx.send(request).await.is_ok();
        let answer = if sent {
            tokio::time::timeout(Duration::from_secs(10), inbound.message()).await
        } else {
            Ok(Ok(None))
        };
        match answer {
            Ok(Ok(Some(r))) if r.error.is_empty() && r.request_id == frame => {
                assert_eq!(r.enqueued_job_ids.len(), 5, "{r:?}");
                let mut acked = ledger.acked.lock().unwrap();
                acked.extend(r.enqueued_job_ids.into_iter().zip(payloads));
            }
            _ => {
                ledger.uncertain.lock().unwrap().extend(payloads);
                return;
            }
        }
    }
}

/// Three unary enqueuers and one stream enqueuer, until the server stops.
async fn start_enqueuers(
    server: &TestServer,
    ledger: &Arc<Ledger>,
    killing: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for i in 0..3 {
        let w = server.worker().await;
        tasks.push(tokio::spawn(unary_enqueuer(
            format!("unary-{i}"),
            w,
            ledger.clone(),
            killing.clone(),
        )));
    }
    tasks.push(tokio::spawn(stream_enqueuer(
        server.worker().await,
        ledger.clone(),
    )));
    tasks
}

async fn until_acked(ledger: &Arc<Ledger>, n: usize) {
    eventually(&format!("{n} acknowledged enqueues"), || {
        let ledger = ledger.clone();
        async move { (ledger.acked_count() >= n).then_some(()) }
    })
    .await;
}

/// After the restart: every acknowledged job is there once, unchanged, and the only other
/// jobs come from calls whose outcome was unknown, each at most once.
async fn assert_acknowledged_exactly_once(server: &TestServer, ledger: &Ledger) {
    let acked = ledger.acked.lock().unwrap().clone();
    let uncertain: HashSet<String> = ledger.uncertain.lock().unwrap().iter().cloned().collect();
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;

    // Every acknowledged job is there, unchanged.
    for (id, payload) in &acked {
        let job = get_job(&mut jobs, id).await;
        assert_eq!(&job.payload_json, payload, "job {id}");
        assert_eq!(job.queue, QUEUE);
        assert_eq!(state_of(&job), pb::JobState::Pending);
    }

    // Exactly once: the event log (read up to a marker written after the restart) has one
    // `enqueued` event per job, with contiguous ids, and nothing else.
    let marker = enqueue_job(&mut w, "marker", "{}").await;
    let mut events = subscribe(&mut w, 0).await;
    let log = events_until(&mut events, |e| e.job_id == marker).await;
    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=log.len() as u64).collect::<Vec<_>>(),
        "event ids are contiguous"
    );
    let mut per_job: HashMap<&str, usize> = HashMap::new();
    for e in &log[..log.len() - 1] {
        assert_eq!(e.r#type, "enqueued", "{e:?}");
        *per_job.entry(e.job_id.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = per_job.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "jobs enqueued more than once: {twice:?}");
    for (id, _) in &acked {
        assert!(
            per_job.contains_key(id.as_str()),
            "no enqueued event for acknowledged job {id}"
        );
    }

    // The jobs beyond the acknowledged ones came from calls whose outcome was unknown, each
    // at most once: acked <= total <= acked + uncertain.
    let acked_ids: HashSet<&str> = acked.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(acked_ids.len(), acked.len(), "ids are unique");
    let extra: Vec<&str> = per_job
        .keys()
        .copied()
        .filter(|id| !acked_ids.contains(id))
        .collect();
    assert!(
        extra.len() <= uncertain.len(),
        "{} jobs beyond the {} acknowledged, but only {} calls were in doubt",
        extra.len(),
        acked.len(),
        uncertain.len()
    );
    let mut payloads_seen: HashSet<String> = acked.iter().map(|(_, p)| p.clone()).collect();
    for id in extra {
        let job = get_job(&mut jobs, id).await;
        assert!(
            uncertain.contains(&job.payload_json),
            "job {id} has a payload nobody sent: {job:?}"
        );
        assert!(
            payloads_seen.insert(job.payload_json.clone()),
            "payload stored twice: {}",
            job.payload_json
        );
    }
    eprintln!(
        "acknowledged {}, in doubt {}, stored {}",
        acked.len(),
        uncertain.len(),
        per_job.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_enqueues_keeps_every_acknowledged_job_exactly_once() {
    let mut server = TestServer::start().await;
    let ledger = Arc::new(Ledger::default());
    let killing = Arc::new(AtomicBool::new(false));
    let tasks = start_enqueuers(&server, &ledger, &killing).await;

    // Kill -9 in the middle of the flow.
    until_acked(&ledger, 200).await;
    killing.store(true, Ordering::SeqCst);
    server.kill();
    for t in tasks {
        within("an enqueuer to notice the kill", t)
            .await
            .expect("enqueuer task");
    }
    assert!(
        !ledger.uncertain.lock().unwrap().is_empty(),
        "calls were in flight when the server died"
    );

    server.restart().await;
    assert_acknowledged_exactly_once(&server, &ledger).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_enqueues_exits_zero_and_keeps_every_acknowledged_job_exactly_once() {
    let mut server = TestServer::start().await;
    let ledger = Arc::new(Ledger::default());
    let killing = Arc::new(AtomicBool::new(false));
    let tasks = start_enqueuers(&server, &ledger, &killing).await;

    until_acked(&ledger, 200).await;
    killing.store(true, Ordering::SeqCst);
    let status = server.terminate_and_wait().await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    for t in tasks {
        within("an enqueuer to notice the shutdown", t)
            .await
            .expect("enqueuer task");
    }

    server.restart().await;
    assert_acknowledged_exactly_once(&server, &ledger).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_and_restart_keep_states_leases_timers_and_the_event_log() {
    let mut server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;

    let completed = enqueue_job(&mut w, "state", r#"{"k":"completed"}"#).await;
    let f = fetch_some(&mut w, "state").await;
    within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: completed.clone(),
            result_json: r#"{"r":1}"#.into(),
            lease_token: f.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Ack");
    let active = enqueue_job(&mut w, "state", r#"{"k":"active"}"#).await;
    let lease = fetch_some(&mut w, "state").await;
    assert_eq!(lease.job_id, active);
    let retrying = enqueue(
        &mut w,
        enqueue_req_with("retry", "{}", fixed_backoff(1_500, 3)),
    )
    .await
    .job_id;
    let r = fetch_some(&mut w, "retry").await;
    within(
        "Fail",
        w.fail(pb::FailRequest {
            job_id: retrying.clone(),
            error: "before the crash".into(),
            lease_token: r.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Fail");
    let due = now_ms() + 1_500;
    let scheduled = enqueue(
        &mut w,
        enqueue_req_with(
            "later",
            "{}",
            pb::EnqueueOptions {
                scheduled_at: Some(timestamp_from_ms(due)),
                ..Default::default()
            },
        ),
    )
    .await
    .job_id;
    let pending = enqueue_job(&mut w, "state", r#"{"k":"pending"}"#).await;

    let ids = [&completed, &active, &retrying, &scheduled, &pending];
    let mut before = HashMap::new();
    for id in ids {
        before.insert(id.clone(), get_job(&mut jobs, id).await);
    }
    let marker = enqueue_job(&mut w, "marker", "{}").await;
    let mut events = subscribe(&mut w, 0).await;
    let log_before = events_until(&mut events, |e| e.job_id == marker).await;
    drop(events);

    server.kill();
    // Let the timers (the retry and the schedule) fall due while the server is down.
    while now_ms() < due + 200 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.restart().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;

    // The timers that fell due during the outage fire after the restart.
    for (queue, id) in [("retry", &retrying), ("later", &scheduled)] {
        let f = fetch_some(&mut w, queue).await;
        assert_eq!(&f.job_id, id, "{queue}");
    }
    // Everything else is exactly as it was.
    for id in [&completed, &active, &pending] {
        assert_eq!(&get_job(&mut jobs, id).await, &before[id], "job {id}");
    }

    // The lease taken before the crash is still the job's lease and still fences.
    let r = within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: active.clone(),
            lease_token: lease.lease_token + 1_000,
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(
        r.expect_err("a wrong token").code(),
        tonic::Code::FailedPrecondition
    );
    within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: active.clone(),
            lease_token: lease.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("the pre-crash lease acks after the restart");

    // New leases never reuse a token issued before the crash.
    let p = fetch_some(&mut w, "state").await;
    assert_eq!(p.job_id, pending);
    assert!(
        p.lease_token > lease.lease_token,
        "token {} reused or lower",
        p.lease_token
    );

    // The event log survived and continues without reusing ids.
    let mut events = subscribe(&mut w, 0).await;
    let mut log_after = Vec::new();
    for _ in 0..log_before.len() {
        log_after.push(next_event(&mut events).await);
    }
    assert_eq!(log_after, log_before);
    let next = next_event(&mut events).await;
    assert_eq!(next.seq, log_before.len() as u64 + 1);
}

/// One server per data dir: a second server started on a live node's data dir exits at once,
/// naming the dir and the process that holds it, and the first goes on serving what it had.
/// The dir is free again once the first has stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_a_live_data_dir_exits_naming_the_holder() {
    let mut first = TestServer::start().await;
    let mut w = first.worker().await;
    let id = enqueue_job(&mut w, QUEUE, r#"{"n":1}"#).await;
    let parent = first
        .data_dir()
        .parent()
        .expect("the data dir has a parent")
        .to_owned();
    let mut second = TestServer::builder().data_parent(&parent).spawn();
    let exit = second.wait_exit(WAIT).await;
    assert!(
        !exit.success(),
        "a second server must not run on a live data dir"
    );
    let log = second.log_since_start();
    assert!(
        log.contains(&format!(
            "data dir {} is in use by another corvo server (pid {})",
            first.data_dir().display(),
            first.pid()
        )),
        "{log}"
    );
    let mut jobs = first.jobs().await;
    assert_eq!(get_job(&mut jobs, &id).await.queue, QUEUE);

    assert!(first.terminate_and_wait().await.success());
    second.restart().await;
    let mut jobs = second.jobs().await;
    assert_eq!(
        get_job(&mut jobs, &id).await.queue,
        QUEUE,
        "the dir was freed"
    );
}
