//! The limits in front of the engine, against live servers: stream limits refuse new streams
//! and leave open ones alone; a fetch never leases more than fits in one message; a key over
//! its rate is refused with a hint (stream frames too); an offered load far above capacity is
//! shed with hints while probes answer, nothing acknowledged is lost, and service returns when
//! the load stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use corvo_tests::observe::http_get_with;
use corvo_tests::*;
use tonic::Code;

fn pushback_ms(s: &tonic::Status) -> Option<u64> {
    s.metadata()
        .get("grpc-retry-pushback-ms")
        .and_then(|v| v.to_str().ok()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_streams_past_the_limit_are_refused_while_the_first_ones_keep_working() {
    let server = TestServer::builder()
        .args(&["--max-worker-streams", "2", "--max-subscribe-streams", "1"])
        .start()
        .await;
    let mut w = server.worker().await;
    let mut first = Lifecycle::open(&mut w).await;
    let mut second = Lifecycle::open(&mut w).await;
    first.call(credit_frame(&["lim"], 1)).await;
    second.call(credit_frame(&["lim"], 1)).await;
    let refused = Lifecycle::try_open(&mut w, None)
        .await
        .err()
        .expect("a third worker stream is refused");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains("at most 2"),
        "{}",
        refused.message()
    );
    assert!(pushback_ms(&refused).is_some_and(|ms| ms > 0));
    // The open streams are unharmed: two jobs reach them.
    enqueue_job(&mut w, "lim", "{}").await;
    enqueue_job(&mut w, "lim", "{}").await;
    let a = first.pushed_jobs(1).await;
    let b = second.pushed_jobs(1).await;
    assert_ne!(a[0].job_id, b[0].job_id);
    // A closed stream frees its place.
    drop(first);
    eventually("a new stream to be admitted", || {
        let mut w = w.clone();
        async move { Lifecycle::try_open(&mut w, None).await.ok() }
    })
    .await;
    // Subscribe has its own limit.
    let _events = subscribe(&mut w, 0).await;
    let refused = w
        .subscribe(pb::SubscribeRequest::default())
        .await
        .expect_err("a second subscription is refused");
    assert_eq!(refused.code(), Code::ResourceExhausted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_a_fetch_leases_only_what_fits_in_one_message_and_leaves_the_rest_pending() {
    const JOBS: usize = 1_000;
    const MESSAGE_BYTES: usize = 2 << 20;
    let server = TestServer::builder()
        .args(&[
            "--payload-max-bytes",
            "65536",
            "--max-message-bytes",
            &MESSAGE_BYTES.to_string(),
        ])
        .start()
        .await;
    let mut w = server.worker().await;
    // 1 000 jobs of 8 KB: about 8 MB, four times the message bound.
    let payload = format!("\"{}\"", "p".repeat(8_000));
    let mut s = Lifecycle::open(&mut w).await;
    for _ in 0..JOBS / 100 {
        let r = s
            .call(pb::StreamLifecycleRequest {
                enqueues: (0..100)
                    .map(|_| pb::LifecycleEnqueueItem {
                        queue: "big".into(),
                        payload_json: payload.clone(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .await;
        assert!(r.error.is_empty(), "{r:?}");
    }
    let leased = w
        .fetch_batch(pb::FetchBatchRequest {
            queues: vec!["big".into()],
            worker_id: "w".into(),
            count: JOBS as i32,
            max_wait_ms: Some(0),
            ..Default::default()
        })
        .await
        .expect("FetchBatch answers with what fits")
        .into_inner();
    let n = leased.jobs.len();
    let bytes: usize = leased.jobs.iter().map(|j| j.payload_json.len()).sum();
    eprintln!("one FetchBatch leased {n} jobs, {bytes} payload bytes");
    assert!(n > 10 && n < JOBS, "{n} jobs leased");
    assert!(bytes < MESSAGE_BYTES);
    // Exactly those are active; the rest are pending, not leased.
    let status = corvo_tests::cluster::node_status(&server)
        .await
        .expect("status");
    let count = |state: pb::JobState| {
        status
            .job_counts
            .iter()
            .find(|c| c.state == state as i32)
            .map_or(0, |c| c.count)
    };
    assert_eq!(count(pb::JobState::Active), n as u64);
    assert_eq!(count(pb::JobState::Pending), (JOBS - n) as u64);
    // A stream with credits for everything gets pushes that each fit, and all of the rest.
    let r = s.call(credit_frame(&["big"], JOBS as i32)).await;
    assert!(r.error.is_empty(), "{r:?}");
    let pushed = s.pushed_jobs(JOBS - n).await;
    assert_eq!(pushed.len(), JOBS - n);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_a_key_over_its_rate_is_refused_with_a_hint_and_so_are_its_stream_frames() {
    const BOOT: &str = "boot-admin-key-0123456789abcdef0123456789";
    let server = TestServer::builder()
        .args(&["--require-auth"])
        .env("CORVO_BOOTSTRAP_ADMIN_KEY", BOOT)
        .api_key(BOOT)
        .start()
        .await;
    let slow = pb::key_service_client::KeyServiceClient::new(server.channel().await)
        .create_key(authed(
            pb::CreateKeyRequest {
                name: "slow".into(),
                role: pb::KeyRole::Worker.into(),
                rate_limit_rps: 2,
                ..Default::default()
            },
            BOOT,
        ))
        .await
        .expect("CreateKey")
        .into_inner()
        .secret;
    let mut w = server.worker().await;
    let mut refused = None;
    for _ in 0..4 {
        if let Err(s) = w
            .get_server_info(authed(pb::GetServerInfoRequest {}, &slow))
            .await
        {
            refused = Some(s);
            break;
        }
    }
    let refused = refused.expect("a burst of four calls at 2/s is refused");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(pushback_ms(&refused).is_some_and(|ms| (1..=1_000).contains(&ms)));
    assert!(
        refused.message().contains("2 requests per second"),
        "{}",
        refused.message()
    );
    // Other keys are not slowed down.
    for _ in 0..10 {
        w.get_server_info(authed(pb::GetServerInfoRequest {}, BOOT))
            .await
            .expect("the admin key has its own bucket");
    }
    // Stream frames draw from the same bucket: a burst of frames gets OVERLOADED with a hint.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let mut s = Lifecycle::open_with_key(&mut w, &slow)
        .await
        .expect("stream");
    let mut overloaded = None;
    for _ in 0..4 {
        let r = s.call(pb::StreamLifecycleRequest::default()).await;
        if r.error_code == pb::ErrorCode::Overloaded as i32 {
            overloaded = Some(r);
            break;
        }
    }
    let r = overloaded.expect("a burst of frames at 2/s is refused");
    assert!(r.retry_after_ms > 0, "{r:?}");
    assert!(r.error.starts_with("OVERLOADED"), "{}", r.error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t40_an_offered_load_far_above_capacity_is_shed_with_hints_and_nothing_acked_is_lost() {
    const CLIENTS: usize = 48;
    const INFLIGHT: usize = 4;
    const LOAD: Duration = Duration::from_secs(3);
    let server = TestServer::builder()
        .args(&["--max-inflight-calls", &INFLIGHT.to_string()])
        .start()
        .await;
    let stop = Arc::new(AtomicBool::new(false));
    // Probes, every 50 ms for the whole load: liveness over HTTP, readiness over gRPC.
    let prober = {
        let stop = stop.clone();
        let addr = server.addr();
        let channel = server.channel().await;
        tokio::spawn(async move {
            let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let (code, _, _) = http_get_with(addr, "/healthz", &[]).await.expect("GET");
                assert_eq!(code, 200);
                health
                    .check(tonic_health::pb::HealthCheckRequest::default())
                    .await
                    .expect("health answers under load");
                latencies.push(started.elapsed() / 2);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            latencies
        })
    };
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let mut w = server.worker().await;
        let stop = stop.clone();
        clients.push(tokio::spawn(async move {
            let (mut acked, mut shed, mut latencies) = (Vec::new(), 0usize, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                match w
                    .enqueue(enqueue_req("overload", &format!("{{\"c\":{i}}}")))
                    .await
                {
                    Ok(r) => {
                        latencies.push(started.elapsed());
                        acked.push(r.into_inner().job_id);
                    }
                    Err(s) => {
                        assert!(
                            matches!(s.code(), Code::Unavailable | Code::ResourceExhausted),
                            "{s:?}"
                        );
                        let hint = pushback_ms(&s).expect("every refusal carries a retry hint");
                        shed += 1;
                        // A well-behaved client honours the hint (capped, to keep offering load).
                        tokio::time::sleep(Duration::from_millis(hint.min(20))).await;
                    }
                }
            }
            (acked, shed, latencies)
        }));
    }
    tokio::time::sleep(LOAD).await;
    stop.store(true, Ordering::Relaxed);
    let (mut acked, mut shed, mut admitted) = (Vec::new(), 0, Vec::new());
    for c in clients {
        let (a, s, l) = c.await.expect("client task");
        acked.extend(a);
        shed += s;
        admitted.extend(l);
    }
    let mut probes = prober.await.expect("prober");
    admitted.sort();
    probes.sort();
    let p99 = admitted[admitted.len() * 99 / 100];
    let probe_p90 = probes[probes.len() * 9 / 10];
    eprintln!(
        "{} acked, {shed} shed; admitted p99 {p99:?}; probe p90 {probe_p90:?}, max {:?}",
        acked.len(),
        probes.last()
    );
    assert!(
        shed > acked.len() / 4,
        "the load was shed: {shed} vs {}",
        acked.len()
    );
    assert!(!acked.is_empty());
    // Bounds generous enough for a slow, shared machine running a debug build.
    assert!(p99 < Duration::from_secs(5), "admitted p99 {p99:?}");
    assert!(
        probe_p90 < Duration::from_millis(100),
        "probe p90 {probe_p90:?}"
    );
    // Nothing acknowledged is lost: every acked job exists, and no other job was created.
    let mut jobs = server.jobs().await;
    for id in acked.iter().step_by((acked.len() / 200).max(1)) {
        get_job(&mut jobs, id).await;
    }
    let status = corvo_tests::cluster::node_status(&server)
        .await
        .expect("status");
    let pending: u64 = status
        .queue_counts
        .iter()
        .filter(|c| c.queue == "overload")
        .map(|c| c.count)
        .sum();
    assert_eq!(pending, acked.len() as u64);
    // Once the load stops, calls go through again without refusals.
    let mut w = server.worker().await;
    for _ in 0..50 {
        w.enqueue(enqueue_req("after", "{}"))
            .await
            .expect("full service after the load");
    }
}

/// The load-management table of docs/operations.md names every limit flag with the default
/// `corvo server --help` prints, and every limit flag of `--help` is in the table.
#[test]
fn t50_every_limit_flag_is_documented_with_its_default() {
    let help = std::process::Command::new(corvo_bin())
        .args(["server", "--help"])
        .output()
        .expect("corvo server --help");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    // Each option's block of the help: from its `--flag` line to the next option.
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("--") && line.starts_with("      --") {
            let flag = trimmed.split_whitespace().next().unwrap_or("").to_owned();
            blocks.push((flag, String::new()));
        } else if let Some((_, text)) = blocks.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operations.md"),
    )
    .expect("docs/operations.md");
    let rows: Vec<(String, String)> = doc
        .lines()
        .filter(|l| l.starts_with("| `--"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_owned(), cells[2].to_owned())
        })
        .collect();
    assert!(rows.len() >= 10, "{rows:?}");
    for (flag, default) in &rows {
        let (_, text) = blocks
            .iter()
            .find(|(f, _)| f == flag)
            .unwrap_or_else(|| panic!("{flag} is documented but not an option of corvo server"));
        assert!(
            text.contains(&format!("[default: {default}]")),
            "{flag}: documented default {default}, --help says:\n{text}"
        );
    }
    for limit in [
        "--max-",
        "--rate-limit",
        "--anonymous-rate",
        "--call-timeout",
        "--keepalive",
        "--http2-",
    ] {
        for (flag, _) in blocks.iter().filter(|(f, _)| f.starts_with(limit)) {
            assert!(
                rows.iter().any(|(f, _)| f == flag),
                "{flag} is a limit but not in the load-management table"
            );
        }
    }
}

/// A long poll that reaches the caller's deadline answers DEADLINE_EXCEEDED, every time: not
/// CANCELLED "Timeout expired", which tonic's own timer would answer if it ran out first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t60_an_empty_long_poll_at_the_callers_deadline_answers_deadline_exceeded() {
    const CALLS: usize = 20;
    let server = TestServer::start().await;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..CALLS {
        let mut w = server.worker().await;
        calls.spawn(async move {
            let mut req = tonic::Request::new(pb::FetchBatchRequest {
                queues: vec![format!("empty-{i}")],
                worker_id: format!("w{i}"),
                count: 10,
                max_wait_ms: Some(30_000),
                ..Default::default()
            });
            req.set_timeout(Duration::from_secs(2));
            let started = Instant::now();
            let status = w.fetch_batch(req).await.expect_err("nothing to fetch");
            (status, started.elapsed())
        });
    }
    for (status, took) in calls.join_all().await {
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        assert!(
            status.message().contains("deadline"),
            "the message names the deadline: {status:?}"
        );
        assert!(
            took < Duration::from_secs(10),
            "answered at the deadline: {took:?}"
        );
    }
}
