//! `corvo bench` against a live server: every scenario runs and reports its numbers. Speed is
//! measured by `tests/bench.sh`, never asserted here; this checks that the report is there
//! and that the work it claims was done.

use corvo_tests::observe::corvo_cli;
use corvo_tests::*;
use serde_json::Value;

/// Runs `corvo bench` with `args` and JSON output; the report's entries.
async fn bench_json(server: &TestServer, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--output", "json"]);
    let out = corvo_cli(server, &all).await;
    assert!(
        out.status.success(),
        "corvo {} failed: {}",
        all.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    report.as_array().expect("a list of scenarios").clone()
}

async fn job_counts(server: &TestServer) -> Value {
    let out = corvo_cli(server, &["status", "--output", "json"]).await;
    let v: Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    v["jobs"].clone()
}

/// The fields a scenario that counts its errors reports, all clean.
fn assert_no_errors(e: &Value) {
    assert_eq!(e["errors"], 0, "{e}");
    assert_eq!(e["error_frames"], 0, "{e}");
    assert_eq!(e["failed_streams"], 0, "{e}");
    assert!(e["first_error"].is_null(), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_runs_every_scenario_and_reports_throughput_latency_and_spread() {
    let server = TestServer::start().await;
    let entries = bench_json(
        &server,
        &["--jobs", "200", "--concurrency", "4", "--runs", "2"],
    )
    .await;
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["scenario"].as_str().expect("scenario"))
        .collect();
    assert_eq!(
        names,
        [
            "enqueue",
            "enqueue-stream",
            "lifecycle",
            "combined",
            "dispatch",
            "compat-enqueue",
            "compat-lifecycle",
            "e2e"
        ]
    );
    for e in &entries {
        let ops = e["ops_per_sec"].as_f64().expect("ops_per_sec");
        assert!(ops > 0.0, "{e}");
        let runs = e["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 2, "{e}");
        assert!(e["cv"].as_f64().expect("cv") >= 0.0, "{e}");
        let (p50, p99, max) = (
            e["p50_ms"].as_f64().expect("p50"),
            e["p99_ms"].as_f64().expect("p99"),
            e["max_ms"].as_f64().expect("max"),
        );
        assert!(p50 > 0.0 && p99 >= p50 && max >= p99, "{e}");
        assert_eq!(e["errors"], 0, "{e}");
        // The server is local and exports process metrics: its CPU per operation is there.
        let cpu = e["server_cpu_us_per_op"]
            .as_f64()
            .expect("server_cpu_us_per_op");
        assert!(cpu > 0.0, "{e}");
    }
    let by_name = |n: &str| &entries[names.iter().position(|x| *x == n).expect(n)];
    // Dispatch and e2e are paced at half of the peak they measured first (the target's
    // definition).
    let mut paced = Vec::new();
    for name in ["dispatch", "e2e"] {
        let e = by_name(name);
        let peak = e["peak_per_sec"].as_f64().expect("peak_per_sec");
        let rate = e["rate_per_sec"].as_f64().expect("rate_per_sec");
        assert!(peak > 0.0, "{e}");
        assert_eq!(rate, (peak / 2.0).floor().max(1.0), "{e}");
        paced.push((rate as u64 * 10).clamp(100, 200));
    }
    let (dispatch_paced, e2e_paced) = (paced[0], paced[1]);
    // The original-contract scenarios and e2e count errors: none, at their defaults.
    for name in ["compat-enqueue", "compat-lifecycle", "e2e"] {
        assert_no_errors(by_name(name));
    }
    let ce = by_name("compat-enqueue");
    assert_eq!(
        (&ce["producers"], &ce["batch"]),
        (&4.into(), &64.into()),
        "{ce}"
    );
    assert_eq!(ce["ops_done"], 2 * 200, "{ce}");
    let cl = by_name("compat-lifecycle");
    assert_eq!(
        (&cl["workers"], &cl["batch"]),
        (&8.into(), &64.into()),
        "{cl}"
    );
    assert_eq!(cl["ops_done"], 2 * 200, "{cl}");
    assert!(cl["empty_fetches"].is_u64(), "{cl}");
    assert_eq!(by_name("e2e")["ops_done"], 2 * e2e_paced);
    for name in ["lifecycle", "compat-lifecycle"] {
        let e = by_name(name);
        assert!(
            e["setup_cpu_us_per_op"].as_f64().expect("setup cpu") >= 0.0,
            "{e}"
        );
    }

    // The work each scenario reports was done: 200 jobs per run, two runs. Enqueue scenarios
    // leave theirs pending; the others complete theirs (dispatch and e2e: their unpaced run
    // plus two paced ones of min(200, max(100, 10 s × rate)) jobs).
    let jobs = job_counts(&server).await;
    assert_eq!(jobs["pending"], 3 * 2 * 200, "{jobs}");
    assert_eq!(
        jobs["completed"],
        3 * 2 * 200 + (200 + 2 * dispatch_paced) + (200 + 2 * e2e_paced),
        "{jobs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_contract_scenarios_move_every_job_and_count_what_they_could_not() {
    let server = TestServer::start().await;

    // 200 workers fetching one job per frame: every job acked, no error; the workers that
    // found the queue empty were answered at once (counted, not an error).
    let cl = &bench_json(
        &server,
        &[
            "--scenario",
            "compat-lifecycle",
            "--workers",
            "200",
            "--batch",
            "1",
            "--jobs",
            "400",
            "--runs",
            "1",
        ],
    )
    .await[0];
    assert_no_errors(cl);
    assert_eq!(cl["ops_done"], 400, "{cl}");
    assert_eq!(
        (&cl["workers"], &cl["batch"]),
        (&200.into(), &1.into()),
        "{cl}"
    );

    // Shares and frames that do not divide evenly (34 + 33 + 33 jobs, frames of 7).
    let ce = &bench_json(
        &server,
        &[
            "--scenario",
            "compat-enqueue",
            "--producers",
            "3",
            "--batch",
            "7",
            "--jobs",
            "100",
            "--runs",
            "1",
        ],
    )
    .await[0];
    assert_no_errors(ce);
    assert_eq!(ce["ops_done"], 100, "{ce}");

    // Frames the server refuses (over its 1024 items per frame) are counted, not fatal.
    let refused = &bench_json(
        &server,
        &[
            "--scenario",
            "compat-enqueue",
            "--producers",
            "1",
            "--batch",
            "2000",
            "--jobs",
            "2500",
            "--runs",
            "1",
        ],
    )
    .await[0];
    assert_eq!(refused["ops_done"], 500, "{refused}");
    assert_eq!(refused["errors"], 2000, "{refused}");
    assert_eq!(refused["error_frames"], 1, "{refused}");
    let first = refused["first_error"].as_str().expect("first_error");
    assert!(first.contains("1024"), "{refused}");

    // e2e at a given rate: no peak run, every job received once.
    let e2e = &bench_json(
        &server,
        &[
            "--scenario",
            "e2e",
            "--workers",
            "3",
            "--rate",
            "100",
            "--jobs",
            "100",
            "--runs",
            "1",
        ],
    )
    .await[0];
    assert_no_errors(e2e);
    assert_eq!(e2e["ops_done"], 100, "{e2e}");
    assert_eq!(e2e["rate_per_sec"], 100, "{e2e}");
    assert!(e2e["peak_per_sec"].is_null(), "{e2e}");
    assert!(e2e["max_ms"].as_f64().expect("max_ms") > 0.0, "{e2e}");

    let jobs = job_counts(&server).await;
    assert_eq!(jobs["completed"], 400 + 100, "{jobs}");
    assert_eq!(jobs["pending"], 100 + 500, "{jobs}");

    // The text report: one line per scenario with its errors, and a line of details.
    let out = corvo_cli(
        &server,
        &[
            "bench",
            "--scenario",
            "compat-enqueue",
            "--jobs",
            "64",
            "--runs",
            "1",
        ],
    )
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.starts_with("compat-enqueue ") && text.contains("errors 0"),
        "{text}"
    );
    assert!(
        text.contains("4 producers × 64 enqueues per frame"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefill_loads_pending_and_finished_jobs_before_the_runs_and_rss_is_reported() {
    let server = TestServer::start().await;
    let e = &bench_json(
        &server,
        &[
            "--scenario",
            "enqueue-stream",
            "--prefill-pending",
            "300",
            "--prefill-finished",
            "250",
            "--jobs",
            "100",
            "--concurrency",
            "3",
            "--runs",
            "1",
        ],
    )
    .await[0];
    assert_eq!(e["prefill"]["pending"], 300, "{e}");
    assert_eq!(e["prefill"]["finished"], 250, "{e}");
    assert!(
        e["prefill"]["seconds"].as_f64().expect("seconds") >= 0.0,
        "{e}"
    );
    // The pending load is timed per slice: 300 jobs are one slice.
    let slices = e["prefill"]["pending_slices_jobs_per_s"]
        .as_array()
        .expect("the pending slices' rates");
    assert_eq!(slices.len(), 1, "{e}");
    assert!(slices[0].as_f64().expect("a rate") > 0.0, "{e}");
    // The server is local and exports process metrics: its resident memory is there.
    for rss in [&e["prefill"]["server_rss_mb"], &e["server_rss_max_mb"]] {
        assert!(rss.as_f64().expect("rss in MiB") > 1.0, "{e}");
    }
    // The state holds what the prefill said, beside the run's own 100 pending jobs.
    let jobs = job_counts(&server).await;
    assert_eq!(jobs["pending"], 300 + 100, "{jobs}");
    assert_eq!(jobs["completed"], 250, "{jobs}");
}

/// `--idempotency-keys`: every enqueue carries a key of its own, so each still makes a job
/// (no two share a key), and the state holds the keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_enqueues_each_make_a_job_and_hold_a_key() {
    let server = TestServer::start().await;
    for scenario in ["enqueue", "enqueue-stream"] {
        bench_json(
            &server,
            &[
                "--scenario",
                scenario,
                "--idempotency-keys",
                "--jobs",
                "120",
                "--concurrency",
                "3",
                "--batch",
                "16",
                "--runs",
                "1",
            ],
        )
        .await;
    }
    let jobs = job_counts(&server).await;
    assert_eq!(jobs["pending"], 240, "{jobs}");
    let held = corvo_tests::observe::scrape(&server)
        .await
        .value("corvo_idempotency_keys", &[])
        .expect("corvo_idempotency_keys");
    assert_eq!(held, 240.0);
}
