//! `GET /metrics`: parsed by a Prometheus text parser, every documented family present, and
//! the numbers move when jobs flow (queue depth, lifecycle latencies, RPC counts, rejections,
//! worker streams). Label cardinality is bounded.

use corvo_tests::observe::{Metrics, http_get_with, scrape};
use corvo_tests::*;

/// Every family `docs/monitoring.md` documents, by the sample name a scrape shows once the
/// node has served some traffic (histograms by their `_count`).
const FAMILIES: &[&str] = &[
    "corvo_queue_jobs",
    "corvo_queue_paused",
    "corvo_queue_concurrency_limit",
    "corvo_queue_rate_limit_starts",
    "corvo_queue_rate_limit_window_seconds",
    "corvo_jobs_purged_total",
    "corvo_retention_lag_seconds",
    "corvo_job_enqueue_to_start_seconds_count",
    "corvo_job_start_to_finish_seconds_count",
    "corvo_job_ready_to_delivered_seconds_count",
    "corvo_raft_propose_seconds_count",
    "corvo_raft_apply_seconds_count",
    "corvo_raft_commit_seconds_count",
    "corvo_raft_batch_commands_count",
    "corvo_raft_term",
    "corvo_raft_is_leader",
    "corvo_raft_has_leader",
    "corvo_raft_leader_id",
    "corvo_raft_last_log_index",
    "corvo_raft_commit_index",
    "corvo_raft_applied_index",
    "corvo_raft_apply_backlog_entries",
    "corvo_raft_fatal",
    "corvo_data_dir_bytes",
    "corvo_data_dir_filesystem_free_bytes",
    "corvo_data_dir_filesystem_size_bytes",
    "corvo_worker_streams",
    "corvo_workers_connected",
    "corvo_ready",
    "corvo_draining",
    "corvo_node_info",
    "corvo_rpc_requests_total",
    "corvo_rpc_duration_seconds_count",
    "corvo_rejections_total",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
];

fn pending(m: &Metrics, queue: &str) -> f64 {
    m.count(
        "corvo_queue_jobs",
        &[("queue", queue), ("state", "pending")],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_metrics_are_present_and_move_when_jobs_flow() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let q = "metered";
    let before = scrape(&server).await;
    assert_eq!(before.value("corvo_raft_is_leader", &[]), Some(1.0));
    let enqueues_before = before.count(
        "corvo_rpc_requests_total",
        &[("method", "corvo.v1.WorkerService/Enqueue"), ("code", "OK")],
    );

    for i in 0..3 {
        enqueue_job(&mut w, q, &format!(r#"{{"i":{i}}}"#)).await;
    }
    let m = scrape(&server).await;
    assert_eq!(pending(&m, q), 3.0, "queue depth up on enqueue");
    assert_eq!(
        m.count(
            "corvo_rpc_requests_total",
            &[("method", "corvo.v1.WorkerService/Enqueue"), ("code", "OK")]
        ),
        enqueues_before + 3.0
    );

    let job = fetch_some(&mut w, q).await;
    let m = scrape(&server).await;
    assert_eq!(pending(&m, q), 2.0, "queue depth down on fetch");
    assert_eq!(
        m.count("corvo_queue_jobs", &[("queue", q), ("state", "active")]),
        1.0
    );
    assert_eq!(
        m.count("corvo_job_enqueue_to_start_seconds_count", &[("queue", q)]),
        1.0
    );
    assert_eq!(
        m.count(
            "corvo_job_ready_to_delivered_seconds_count",
            &[("queue", q)]
        ),
        1.0
    );

    within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: job.job_id.clone(),
            lease_token: job.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Ack");
    // A refused call: counted by method and code, and as a rejection by reason.
    let mut jobs = server.jobs().await;
    let not_found_before = m.count("corvo_rejections_total", &[("reason", "not_found")]);
    let missing = within(
        "GetJob",
        jobs.get_job(pb::GetJobRequest {
            job_id: "01M8EWM45FR0K7J6WS5YE92DFG".into(),
        }),
    )
    .await;
    assert_eq!(missing.unwrap_err().code(), tonic::Code::NotFound);

    let m = scrape(&server).await;
    assert_eq!(
        m.count("corvo_queue_jobs", &[("queue", q), ("state", "completed")]),
        1.0
    );
    assert_eq!(
        m.count("corvo_queue_jobs", &[("queue", q), ("state", "active")]),
        0.0,
        "a state that emptied reads 0 instead of vanishing"
    );
    assert_eq!(
        m.count(
            "corvo_job_start_to_finish_seconds_count",
            &[("queue", q), ("outcome", "completed")]
        ),
        1.0
    );
    assert_eq!(
        m.count(
            "corvo_rpc_requests_total",
            &[
                ("method", "corvo.v1.JobService/GetJob"),
                ("code", "NOT_FOUND")
            ]
        ),
        1.0
    );
    assert_eq!(
        m.count("corvo_rejections_total", &[("reason", "not_found")]),
        not_found_before + 1.0
    );
    assert!(m.count("corvo_raft_propose_seconds_count", &[]) >= 5.0);
    assert!(m.count("corvo_raft_apply_seconds_count", &[]) >= 1.0);
    assert!(m.count("corvo_raft_commit_seconds_count", &[]) >= 5.0);
    assert!(m.count("corvo_raft_batch_commands_count", &[]) >= 5.0);
    assert!(m.count("corvo_raft_applied_index", &[]) >= 5.0);
    assert!(m.count("corvo_raft_commit_index", &[]) >= m.count("corvo_raft_applied_index", &[]));
    assert!(m.count("corvo_data_dir_bytes", &[]) > 0.0);
    assert!(m.count("corvo_data_dir_filesystem_free_bytes", &[]) > 0.0);
    assert!(m.count("process_resident_memory_bytes", &[]) > 0.0);
    assert!(m.count("process_open_fds", &[]) > 0.0);
    assert_eq!(m.value("corvo_ready", &[]), Some(1.0));
    assert_eq!(m.value("corvo_draining", &[]), Some(0.0));
    // Scrapes count too: nothing on the port is exempt.
    assert!(
        m.count(
            "corvo_rpc_requests_total",
            &[("method", "/metrics"), ("code", "200")]
        ) >= 3.0
    );
    for family in FAMILIES {
        assert!(
            !m.samples(family, &[]).is_empty(),
            "{family} missing from /metrics:\n{}",
            m.text
        );
    }
}

/// Durable commits of the state are timed by what made them: applies in a row reach one
/// (every 125 ms or 256 applies), and a pause makes one while nothing waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t15_state_checkpoints_are_timed_by_trigger() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let checkpoints = |m: &Metrics, trigger| {
        m.count(
            "corvo_state_checkpoint_seconds_count",
            &[("trigger", trigger)],
        )
    };
    // Applies one after another until one of them was a checkpoint (bounded: at one apply
    // per enqueue the 256th is one at the latest, unless a pause made an idle one first).
    let mut by_apply = 0.0;
    for round in 0..40 {
        for i in 0..100 {
            enqueue_job(&mut w, "durable", &format!(r#"{{"i":{i}}}"#)).await;
        }
        by_apply = checkpoints(&scrape(&server).await, "apply");
        if by_apply >= 1.0 {
            break;
        }
        assert!(
            round < 39,
            "4 000 enqueues in a row and no apply was a checkpoint"
        );
    }
    assert!(by_apply >= 1.0);
    // Then nothing: the idle checkpoint makes the last applies durable. If the last apply
    // was itself a checkpoint, nothing is left for an idle one to do: a few applies in a row
    // go first each time (the first may be a checkpoint, the ones right after it are not),
    // then a pause of up to 2 s.
    let mut idle = None;
    'attempts: for attempt in 0..10 {
        for i in 0..3 {
            enqueue_job(
                &mut w,
                "durable",
                &format!(r#"{{"last":{attempt},"i":{i}}}"#),
            )
            .await;
        }
        let pause_end = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while std::time::Instant::now() < pause_end {
            let m = scrape(&server).await;
            if checkpoints(&m, "idle") >= 1.0 {
                idle = Some(m);
                break 'attempts;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let m = idle.expect("ten pauses after applies and no idle checkpoint");
    assert!(m.count("corvo_state_checkpoint_seconds_sum", &[("trigger", "idle")]) > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_worker_streams_and_connected_workers_are_counted() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut a = Lifecycle::open(&mut w).await;
    a.call(credit_frame(&["s"], 1)).await;
    let mut b = Lifecycle::open(&mut w).await;
    b.call(credit_frame(&["s"], 1)).await;
    let m = scrape(&server).await;
    assert_eq!(m.value("corvo_worker_streams", &[]), Some(2.0));
    // Both streams belong to the same worker id.
    assert_eq!(m.value("corvo_workers_connected", &[]), Some(1.0));
    drop((a, b));
    eventually("the streams to close", || {
        let server = &server;
        async move {
            let m = scrape(server).await;
            (m.value("corvo_worker_streams", &[]) == Some(0.0)
                && m.value("corvo_workers_connected", &[]) == Some(0.0))
            .then_some(())
        }
    })
    .await;
    // A stream is counted when it ends. One the client dropped ends CANCELLED, or OK when the
    // server finished its side first (the client's reset and the server's trailers race).
    eventually("both streams to be counted", || {
        let server = &server;
        async move {
            let m = scrape(server).await;
            let ended = |code| {
                m.count(
                    "corvo_rpc_duration_seconds_count",
                    &[
                        ("method", "corvo.v1.WorkerService/StreamLifecycle"),
                        ("code", code),
                    ],
                )
            };
            (ended("CANCELLED") + ended("OK") == 2.0).then_some(())
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_openmetrics_is_served_when_asked_for() {
    let server = TestServer::start().await;
    let (code, head, body) = http_get_with(
        server.addr(),
        "/metrics",
        &[(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )],
    )
    .await
    .expect("GET /metrics");
    assert_eq!(code, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0"),
        "{head}"
    );
    assert!(body.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    assert!(body.contains("# TYPE corvo_rpc_requests counter"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t40_queue_labels_are_capped_and_the_rest_add_up_under_other() {
    const QUEUES: usize = 105; // QUEUE_LABELS_MAX (100) + 5
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    for i in 0..QUEUES {
        enqueue_job(&mut w, &format!("tenant-{i:03}"), "{}").await;
    }
    let m = scrape(&server).await;
    let labels: std::collections::BTreeSet<&str> = m
        .samples("corvo_queue_jobs", &[])
        .iter()
        .filter_map(|s| s.labels.get("queue"))
        .collect();
    assert_eq!(labels.len(), 101, "100 queues and _other: {labels:?}");
    assert!(labels.contains("_other"));
    assert_eq!(pending(&m, "_other"), 5.0);
    let total: f64 = m
        .samples("corvo_queue_jobs", &[("state", "pending")])
        .iter()
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(total, QUEUES as f64, "no job is lost to the cap");
    // Unknown paths share one method label.
    for path in ["/no/such/thing", "/another/probe"] {
        let (code, _, _) = http_get_with(server.addr(), path, &[]).await.expect("GET");
        assert_eq!(code, 404);
    }
    let m = scrape(&server).await;
    assert_eq!(
        m.count(
            "corvo_rpc_requests_total",
            &[("method", "_unknown"), ("code", "404")]
        ),
        2.0
    );
}
