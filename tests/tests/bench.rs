//! `corvo bench` against a live server: every scenario runs and reports its numbers. Speed is
//! measured by `tests/bench.sh`, never asserted here; this checks that the report is there
//! and that the work it claims was done.

use corvo_tests::observe::corvo_cli;
use corvo_tests::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_runs_every_scenario_and_reports_throughput_latency_and_spread() {
    let server = TestServer::start().await;
    let out = corvo_cli(
        &server,
        &[
            "bench",
            "--jobs",
            "200",
            "--concurrency",
            "4",
            "--runs",
            "2",
            "--output",
            "json",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "corvo bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let entries = report.as_array().expect("a list of scenarios");
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["scenario"].as_str().expect("scenario"))
        .collect();
    assert_eq!(
        names,
        [
            "enqueue",
            "enqueuestream",
            "lifecycle",
            "combined",
            "dispatch"
        ]
    );
    for e in entries {
        let ops = e["ops_per_sec"].as_f64().expect("ops_per_sec");
        assert!(ops > 0.0, "{e}");
        let runs = e["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 2, "{e}");
        assert!(e["cv"].as_f64().expect("cv") >= 0.0, "{e}");
        let (p50, p99) = (
            e["p50_ms"].as_f64().expect("p50"),
            e["p99_ms"].as_f64().expect("p99"),
        );
        assert!(p50 > 0.0 && p99 >= p50, "{e}");
        // The server is local and exports process metrics: its CPU per operation is there.
        let cpu = e["server_cpu_us_per_op"]
            .as_f64()
            .expect("server_cpu_us_per_op");
        assert!(cpu > 0.0, "{e}");
    }
    // Dispatch is paced at half of the peak it measured first (the target's definition).
    let dispatch = &entries[4];
    let peak = dispatch["peak_per_sec"].as_f64().expect("peak_per_sec");
    let rate = dispatch["rate_per_sec"].as_f64().expect("rate_per_sec");
    assert!(peak > 0.0, "{dispatch}");
    assert_eq!(rate, (peak / 2.0).floor().max(1.0), "{dispatch}");

    // The work each scenario reports was done: 200 jobs per run (4 clients × 50), two runs.
    // Enqueue scenarios leave theirs pending; lifecycle, combined and dispatch (its unpaced
    // run plus two paced ones of min(200, max(100, 10 s × rate)) jobs) complete theirs.
    let v: Value = serde_json::from_slice(
        &corvo_cli(&server, &["status", "--output", "json"])
            .await
            .stdout,
    )
    .expect("status JSON");
    let paced = (rate as u64 * 10).clamp(100, 200);
    assert_eq!(v["jobs"]["pending"], 2 * 200 + 2 * 200, "{}", v["jobs"]);
    assert_eq!(
        v["jobs"]["completed"],
        2 * 200 + 2 * 200 + 200 + 2 * paced,
        "{}",
        v["jobs"]
    );
}
