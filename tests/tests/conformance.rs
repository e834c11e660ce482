//! The SDK conformance suite (`sdk/conformance/README.md`): every scenario, written once here,
//! runs against every SDK's worker harness (`sdk/<lang>/conformance/harness`, built by its
//! `setup`, which `tests/run` calls) and a real `corvo` server. The harness runs one SDK worker
//! whose handler does what each job's payload says and reports JSON lines; the checks read
//! the server's state.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corvo_tests::certs::{arg, ca, leaf, write};
use corvo_tests::cluster::{kill_leader_and_fail_over, leader_index, three_nodes};
use corvo_tests::observe::scrape;
use corvo_tests::*;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::sync::mpsc;

/// A running harness: its JSON lines as they come, its stderr kept for failure messages.
struct Harness {
    lang: &'static str,
    child: tokio::process::Child,
    events: mpsc::UnboundedReceiver<Value>,
    seen: Vec<Value>,
    stderr: Arc<Mutex<String>>,
}

fn harness_path(lang: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("sdk")
        .join(lang)
        .join("conformance")
        .join("harness")
}

impl Harness {
    async fn start(lang: &'static str, args: &[String]) -> Harness {
        let path = harness_path(lang);
        assert!(
            path.exists(),
            "{}: missing (sdk/{lang}/conformance/setup builds it; tests/run calls it)",
            path.display()
        );
        let mut child = tokio::process::Command::new(&path)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (tx, events) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().expect("stdout");
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        let _ = tx.send(v);
                    }
                    Err(_) => eprintln!("harness stdout (not JSON): {line}"),
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("stderr");
        tokio::spawn({
            let stderr = stderr.clone();
            async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let mut s = stderr.lock().unwrap();
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                    // Bounded: the tail is what explains a failure.
                    if s.len() > 64 * 1024 {
                        let cut = s.len() - 32 * 1024;
                        let cut = (cut..s.len())
                            .find(|i| s.is_char_boundary(*i))
                            .unwrap_or(cut);
                        s.drain(..cut);
                    }
                }
            }
        });
        Harness {
            lang,
            child,
            events,
            seen: Vec::new(),
            stderr,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "{} harness: {what}\n--- events seen ---\n{}\n--- stderr ---\n{}",
            self.lang,
            self.seen
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            self.stderr()
        )
    }

    /// The next event matching `pred` (earlier ones are kept in `seen`), within `limit`.
    async fn event_within(
        &mut self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) => {
                    self.seen.push(e.clone());
                    if pred(&e) {
                        return e;
                    }
                }
                Ok(None) => self.fail(&format!("exited before {what}")),
                Err(_) => self.fail(&format!("no {what} within {limit:?}")),
            }
        }
    }

    async fn event(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.event_within(what, WAIT, pred).await
    }

    /// Waits for `n` events of `kind` (counting those already seen).
    async fn count(&mut self, kind: &str, n: usize) {
        while self.seen.iter().filter(|e| e["event"] == kind).count() < n {
            self.event(&format!("{n} {kind} events"), |e| e["event"] == kind)
                .await;
        }
    }

    fn sigterm(&self) {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) with a pid this test spawned and still holds.
            unsafe {
                libc::kill(pid as i32, libc::SIGTERM);
            }
        }
    }

    async fn exit_within(&mut self, limit: Duration) -> ExitStatus {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(Ok(status)) => {
                // Let the reader catch the last lines.
                tokio::time::sleep(Duration::from_millis(50)).await;
                while let Ok(e) = self.events.try_recv() {
                    self.seen.push(e);
                }
                status
            }
            Ok(Err(e)) => self.fail(&format!("waiting for the exit: {e}")),
            Err(_) => self.fail(&format!("still running after {limit:?}")),
        }
    }

    async fn exits_cleanly(&mut self, limit: Duration) {
        let status = self.exit_within(limit).await;
        if !status.success() {
            self.fail(&format!("exited with {status}"));
        }
        if !self.seen.iter().any(|e| e["event"] == "stopped") {
            self.fail("exited 0 without the stopped event");
        }
    }
}

fn args(server: &TestServer, queue: &str, extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "--server".to_owned(),
        server.url(),
        "--queue".to_owned(),
        queue.to_owned(),
    ];
    a.extend(extra.iter().map(|s| (*s).to_owned()));
    a
}

async fn enqueue_steps(
    w: &mut WorkerClient,
    queue: &str,
    payload: Value,
    options: pb::EnqueueOptions,
) -> String {
    enqueue(w, enqueue_req_with(queue, &payload.to_string(), options))
        .await
        .job_id
}

fn json_of(text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn no_retry() -> pb::EnqueueOptions {
    fixed_backoff(100, 1)
}

// ---------------------------------------------------------------------------------------------
// The scenarios

async fn lifecycle(lang: &'static str) {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let q = "conf-lifecycle";
    let mut plain = Vec::new();
    for i in 0..5 {
        plain.push(enqueue_job(&mut w, q, &json!({ "n": i }).to_string()).await);
    }
    let custom = enqueue_steps(
        &mut w,
        q,
        json!({"steps": [{"op": "complete", "result": {"custom": true, "lang": lang}}]}),
        Default::default(),
    )
    .await;
    let mut h = Harness::start(
        lang,
        &args(&server, q, &["--concurrency", "2", "--max-jobs", "6"]),
    )
    .await;
    h.exits_cleanly(WAIT).await;
    let mut jobs = server.jobs().await;
    for id in &plain {
        let job = get_job(&mut jobs, id).await;
        assert_eq!(state_of(&job), pb::JobState::Completed, "{lang}: {job:?}");
        assert_eq!(job.attempt, 1);
        assert_eq!(
            json_of(&job.result_json),
            json!({"attempt": 1, "checkpoint": null}),
            "{lang}"
        );
    }
    let worker_ids = started_by(&mut w, q).await;
    assert_eq!(worker_ids.len(), 6, "{lang}: {worker_ids:?}");
    let job = get_job(&mut jobs, &custom).await;
    assert_eq!(
        json_of(&job.result_json),
        json!({"custom": true, "lang": lang})
    );
    assert_eq!(h.seen.iter().filter(|e| e["event"] == "job").count(), 6);
    assert_eq!(
        h.seen.iter().filter(|e| e["event"] == "finished").count(),
        6
    );
    // The default worker id: `<hostname>-<8 hex>`, one per process start.
    let id = &worker_ids[0];
    assert!(worker_ids.iter().all(|w| w == id), "{worker_ids:?}");
    let (host, hex) = id
        .rsplit_once('-')
        .unwrap_or_else(|| panic!("{lang}: worker id {id:?}"));
    assert!(
        !host.is_empty() && hex.len() == 8 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "{lang}: worker id {id:?}"
    );
    let another = enqueue_job(&mut w, q, "{}").await;
    let mut h = Harness::start(lang, &args(&server, q, &["--max-jobs", "1"])).await;
    h.exits_cleanly(WAIT).await;
    assert_eq!(
        state_of(&get_job(&mut jobs, &another).await),
        pb::JobState::Completed
    );
    let ids = started_by(&mut w, q).await;
    let second = ids.last().expect("the last start");
    assert_ne!(second, id, "{lang}: two starts share a worker id");
}

/// The worker id of every start of a job of `queue`, in order (from the `started` events).
async fn started_by(w: &mut WorkerClient, queue: &str) -> Vec<String> {
    let marker = enqueue_job(w, "conf-marker", "{}").await;
    let mut events = subscribe(w, 0).await;
    events_until(&mut events, |e| e.job_id == marker)
        .await
        .into_iter()
        .filter(|e| e.queue == queue && e.r#type == "started")
        .map(|e| {
            json_of(&e.data_json)["worker_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

async fn retry_to_dead(lang: &'static str) {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let q = "conf-retry";
    let id = enqueue_steps(
        &mut w,
        q,
        json!({"steps": [{"op": "fail", "error": "boom"}]}),
        fixed_backoff(100, 3),
    )
    .await;
    let mut h = Harness::start(lang, &args(&server, q, &["--max-jobs", "3"])).await;
    h.exits_cleanly(WAIT).await;
    let job = get_job(&mut server.jobs().await, &id).await;
    assert_eq!(state_of(&job), pb::JobState::Dead, "{lang}: {job:?}");
    assert_eq!(job.attempt, 3);
    assert!(
        job.last_error.contains("boom"),
        "{lang}: {}",
        job.last_error
    );
    let attempts: Vec<i64> = h
        .seen
        .iter()
        .filter(|e| e["event"] == "job")
        .filter_map(|e| e["attempt"].as_i64())
        .collect();
    assert_eq!(attempts, [1, 2, 3], "{lang}");
}

async fn progress_checkpoint(lang: &'static str) {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let q = "conf-progress";
    let id = enqueue_steps(
        &mut w,
        q,
        json!({"steps": [
            {"op": "progress", "progress": {"pct": 50}, "checkpoint": {"cursor": 7}, "attempt": 1},
            {"op": "sleep", "ms": 4000, "attempt": 1},
            // Set just before failing: it travels with the outcome, not a later heartbeat.
            {"op": "progress", "checkpoint": {"cursor": 8}, "attempt": 1},
            {"op": "fail", "error": "retry me", "attempt": 1}
        ]}),
        fixed_backoff(100, 2),
    )
    .await;
    let mut h = Harness::start(
        lang,
        &args(&server, q, &["--lease-secs", "3", "--max-jobs", "2"]),
    )
    .await;
    h.event("the first attempt", |e| e["event"] == "job").await;
    // Visible through the admin API while the attempt runs.
    let job = wait_for_job(&mut jobs, &id, "progress and checkpoint stored", |j| {
        !j.progress_json.is_empty() && !j.checkpoint_json.is_empty()
    })
    .await;
    assert_eq!(
        state_of(&job),
        pb::JobState::Active,
        "{lang}: still running"
    );
    assert_eq!(json_of(&job.progress_json), json!({"pct": 50}), "{lang}");
    assert_eq!(
        json_of(&job.checkpoint_json),
        json!({"cursor": 7}),
        "{lang}"
    );
    h.exits_cleanly(WAIT).await;
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(state_of(&job), pb::JobState::Completed, "{lang}: {job:?}");
    assert_eq!(
        json_of(&job.result_json),
        json!({"attempt": 2, "checkpoint": {"cursor": 8}}),
        "{lang}: the last checkpoint was handed to the next attempt"
    );
    let second = h
        .seen
        .iter()
        .find(|e| e["event"] == "job" && e["attempt"] == 2)
        .cloned()
        .unwrap_or_else(|| h.fail("no second attempt"));
    assert_eq!(second["checkpoint"], json!({"cursor": 8}), "{lang}");
}

async fn cancel(lang: &'static str) {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let q = "conf-cancel";
    let id = enqueue_steps(
        &mut w,
        q,
        json!({"steps": [{"op": "wait_cancel", "timeout_ms": 25000}]}),
        no_retry(),
    )
    .await;
    let mut h = Harness::start(lang, &args(&server, q, &["--max-jobs", "1"])).await;
    h.event("the job", |e| e["event"] == "job").await;
    within(
        "CancelJob",
        jobs.cancel_job(pb::CancelJobRequest { job_id: id.clone() }),
    )
    .await
    .expect("CancelJob");
    h.event("the handler seeing the cancel", |e| {
        e["event"] == "cancelled" && e["job_id"] == id.as_str()
    })
    .await;
    h.exits_cleanly(WAIT).await;
    assert_eq!(
        state_of(&get_job(&mut jobs, &id).await),
        pb::JobState::Cancelled
    );
}

async fn throws(lang: &'static str) {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let q = "conf-throws";
    let thrown = enqueue_steps(
        &mut w,
        q,
        json!({"steps": [{"op": "throw", "error": "kaboom"}]}),
        no_retry(),
    )
    .await;
    let mut after = Vec::new();
    for i in 0..3 {
        after.push(enqueue_job(&mut w, q, &json!({ "after": i }).to_string()).await);
    }
    // One job at a time: a leaked credit would stop the worker after the throw.
    let mut h = Harness::start(
        lang,
        &args(&server, q, &["--concurrency", "1", "--max-jobs", "4"]),
    )
    .await;
    h.exits_cleanly(WAIT).await;
    let job = get_job(&mut jobs, &thrown).await;
    assert_eq!(state_of(&job), pb::JobState::Dead, "{lang}: {job:?}");
    assert!(
        job.last_error.contains("kaboom"),
        "{lang}: {}",
        job.last_error
    );
    for id in &after {
        assert_eq!(
            state_of(&get_job(&mut jobs, id).await),
            pb::JobState::Completed,
            "{lang}"
        );
    }
}

async fn drain(lang: &'static str) {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let q = "conf-drain";
    let mut running = Vec::new();
    for _ in 0..3 {
        running.push(
            enqueue_steps(
                &mut w,
                q,
                json!({"steps": [{"op": "sleep", "ms": 1500}]}),
                no_retry(),
            )
            .await,
        );
    }
    let mut h = Harness::start(lang, &args(&server, q, &["--concurrency", "3"])).await;
    h.count("job", 3).await;
    h.sigterm();
    // Work that arrives during the drain stays for the next worker.
    let mut later = Vec::new();
    for _ in 0..2 {
        later.push(enqueue_job(&mut w, q, "{}").await);
    }
    h.exits_cleanly(Duration::from_secs(20)).await;
    for id in &running {
        assert_eq!(
            state_of(&get_job(&mut jobs, id).await),
            pb::JobState::Completed,
            "{lang}: a running job finished"
        );
    }
    for id in &later {
        let job = get_job(&mut jobs, id).await;
        assert_eq!(
            state_of(&job),
            pb::JobState::Pending,
            "{lang}: nothing new was taken"
        );
        assert_eq!(job.attempt, 0);
    }

    // A job that outlives the drain timeout is failed back, not lost.
    let q = "conf-drain-timeout";
    let long = enqueue_steps(
        &mut w,
        q,
        json!({"steps": [{"op": "sleep", "ms": 60000}]}),
        fixed_backoff(100, 3),
    )
    .await;
    let mut h = Harness::start(lang, &args(&server, q, &["--drain-timeout-ms", "1000"])).await;
    h.event("the long job", |e| e["event"] == "job").await;
    let started = Instant::now();
    h.sigterm();
    h.exits_cleanly(Duration::from_secs(20)).await;
    assert!(started.elapsed() < Duration::from_secs(20));
    let job = get_job(&mut jobs, &long).await;
    assert!(
        matches!(
            state_of(&job),
            pb::JobState::Pending | pb::JobState::Retrying
        ),
        "{lang}: the job went back to the queue: {job:?}"
    );
    assert!(
        job.last_error.contains("shutting down"),
        "{lang}: {}",
        job.last_error
    );
    assert_eq!(job.attempt, 1);
}

async fn reconnect(lang: &'static str) {
    let mut server = TestServer::start().await;
    let mut w = server.worker().await;
    let q = "conf-reconnect";
    let before = enqueue_job(&mut w, q, "{}").await;
    let mut h = Harness::start(lang, &args(&server, q, &[])).await;
    h.count("finished", 1).await;
    server.kill();
    server.restart().await;
    let mut w = server.worker().await;
    let mut after = Vec::new();
    for i in 0..2 {
        after.push(enqueue_job(&mut w, q, &json!({ "after": i }).to_string()).await);
    }
    h.count("finished", 3).await;
    h.sigterm();
    h.exits_cleanly(Duration::from_secs(20)).await;
    let mut jobs = server.jobs().await;
    for id in std::iter::once(&before).chain(&after) {
        assert_eq!(
            state_of(&get_job(&mut jobs, id).await),
            pb::JobState::Completed,
            "{lang}"
        );
    }
}

const BOOT: &str = "conformance-admin-key-0123456789abcdef012345";

async fn secured() -> TestServer {
    TestServer::builder()
        .args(&["--require-auth"])
        .env("CORVO_BOOTSTRAP_ADMIN_KEY", BOOT)
        .api_key(BOOT)
        .start()
        .await
}

async fn create_key(server: &TestServer, queues: &[&str], rate_limit_rps: u32) -> String {
    let mut keys = pb::key_service_client::KeyServiceClient::new(server.channel().await);
    within(
        "CreateKey",
        keys.create_key(authed(
            pb::CreateKeyRequest {
                name: "conformance worker".into(),
                role: pb::KeyRole::Worker.into(),
                queues: queues.iter().map(|q| (*q).to_owned()).collect(),
                rate_limit_rps,
                ..Default::default()
            },
            BOOT,
        )),
    )
    .await
    .expect("CreateKey")
    .into_inner()
    .secret
}

async fn enqueue_as_admin(server: &TestServer, queue: &str, n: usize) -> Vec<String> {
    let mut w = server.worker().await;
    let mut ids = Vec::new();
    for i in 0..n {
        let r = within(
            "Enqueue",
            w.enqueue(authed(
                enqueue_req(queue, &json!({ "n": i }).to_string()),
                BOOT,
            )),
        )
        .await
        .expect("Enqueue");
        ids.push(r.into_inner().job_id);
    }
    ids
}

async fn job_as_admin(server: &TestServer, id: &str) -> pb::Job {
    let mut jobs = server.jobs().await;
    within(
        "GetJob",
        jobs.get_job(authed(pb::GetJobRequest { job_id: id.into() }, BOOT)),
    )
    .await
    .expect("GetJob")
    .into_inner()
    .job
    .expect("a job")
}

async fn rate_limited(server: &TestServer) -> f64 {
    scrape(server)
        .await
        .count("corvo_rejections_total", &[("reason", "rate_limited")])
}

async fn overload(lang: &'static str) {
    let server = secured().await;
    let q = "conf-overload";
    let key = create_key(&server, &["conf-*"], 2).await;
    let ids = enqueue_as_admin(&server, q, 8).await;
    let before = rate_limited(&server).await;
    let mut h = Harness::start(
        lang,
        &args(
            &server,
            q,
            &["--api-key", &key, "--concurrency", "1", "--max-jobs", "8"],
        ),
    )
    .await;
    h.exits_cleanly(Duration::from_secs(90)).await;
    for id in &ids {
        assert_eq!(
            state_of(&job_as_admin(&server, id).await),
            pb::JobState::Completed,
            "{lang}"
        );
    }
    let refused = rate_limited(&server).await - before;
    assert!(
        refused >= 1.0,
        "{lang}: the key's rate limit was never reached (2/s for 8 jobs)"
    );
    assert!(
        refused <= 40.0,
        "{lang}: {refused} frames refused for the rate: the worker does not wait out retry_after_ms"
    );
}

async fn scoped_key(lang: &'static str) {
    let server = secured().await;
    let key = create_key(&server, &["conf-allowed*"], 0).await;
    let ids = enqueue_as_admin(&server, "conf-forbidden", 1).await;
    let mut h = Harness::start(lang, &args(&server, "conf-forbidden", &["--api-key", &key])).await;
    let status = h.exit_within(WAIT).await;
    assert!(!status.success(), "{lang}: a refused worker exits non-zero");
    let stderr = h.stderr().to_lowercase();
    assert!(
        stderr.contains("permission"),
        "{lang}: stderr does not name the refusal: {stderr}"
    );
    assert_eq!(
        state_of(&job_as_admin(&server, &ids[0]).await),
        pb::JobState::Pending
    );
}

async fn tls(lang: &'static str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let server_ca = ca("conformance CA");
    let (cert, key) = leaf(&server_ca, "corvo");
    let cert = write(dir.path(), "server.pem", &cert);
    let key = write(dir.path(), "server.key", &key);
    let ca_file = write(dir.path(), "ca.pem", &server_ca.pem());
    let server = TestServer::builder()
        .args(&["--tls-cert", &arg(&cert), "--tls-key", &arg(&key)])
        .tls(ClientTlsFiles {
            ca_pem: server_ca.pem(),
            identity: None,
        })
        .start()
        .await;
    let mut w = server.worker().await;
    let q = "conf-tls";
    let ids = [
        enqueue_job(&mut w, q, "{}").await,
        enqueue_job(&mut w, q, "{}").await,
    ];
    assert!(server.url().starts_with("https://"));
    let mut h = Harness::start(
        lang,
        &args(
            &server,
            q,
            &["--ca-cert", &arg(&ca_file), "--max-jobs", "2"],
        ),
    )
    .await;
    h.exits_cleanly(WAIT).await;
    let mut jobs = server.jobs().await;
    for id in &ids {
        assert_eq!(
            state_of(&get_job(&mut jobs, id).await),
            pb::JobState::Completed,
            "{lang}"
        );
    }
}

async fn failover(lang: &'static str) {
    let mut nodes = three_nodes().await;
    let leader = leader_index(&mut nodes).await;
    let q = "conf-failover";
    let mut w = nodes[leader].worker().await;
    let mut ids = vec![
        enqueue_job(&mut w, q, "{}").await,
        enqueue_job(&mut w, q, "{}").await,
    ];
    // The leader first: the worker's stream starts there and must move when it dies.
    let mut a = vec!["--queue".to_owned(), q.to_owned()];
    for i in std::iter::once(leader).chain((0..3).filter(|i| *i != leader)) {
        a.push("--server".to_owned());
        a.push(nodes[i].url());
    }
    let mut h = Harness::start(lang, &a).await;
    h.count("finished", 2).await;
    let new_leader = kill_leader_and_fail_over(&mut nodes, leader, "conformance failover").await;
    let mut w = nodes[new_leader].worker().await;
    for _ in 0..2 {
        ids.push(enqueue_job(&mut w, q, "{}").await);
    }
    h.count("finished", 4).await;
    h.sigterm();
    h.exits_cleanly(Duration::from_secs(20)).await;
    let mut jobs = nodes[new_leader].jobs().await;
    for id in &ids {
        assert_eq!(
            state_of(&get_job(&mut jobs, id).await),
            pb::JobState::Completed,
            "{lang}"
        );
    }
}

/// Jobs per second through one SDK worker at concurrency 64 (reported, not asserted): appended
/// to `target/conformance-throughput.txt`, which `tests/run` prints.
/// The throughput smoke: 2 000 jobs, or `CORVO_SDK_THROUGHPUT_JOBS` (the benchmark,
/// `sdk/conformance/throughput`, runs more against a release server).
async fn throughput(lang: &'static str) {
    let jobs: usize = std::env::var("CORVO_SDK_THROUGHPUT_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(2_000)
        .div_ceil(500)
        * 500;
    let server = TestServer::start().await;
    let q = "conf-throughput";
    let mut w = server.worker().await;
    let mut stream = Lifecycle::open(&mut w).await;
    for _ in 0..jobs / 500 {
        let r = stream
            .call(pb::StreamLifecycleRequest {
                enqueues: (0..500)
                    .map(|i| pb::LifecycleEnqueueItem {
                        queue: q.into(),
                        payload_json: json!({ "i": i }).to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .await;
        assert!(r.error.is_empty(), "{r:?}");
    }
    let mut h = Harness::start(
        lang,
        &args(
            &server,
            q,
            &["--concurrency", "64", "--max-jobs", &jobs.to_string()],
        ),
    )
    .await;
    h.event("the first job", |e| e["event"] == "job").await;
    let started = Instant::now();
    h.exits_cleanly(Duration::from_secs(120)).await;
    let rate = jobs as f64 / started.elapsed().as_secs_f64();
    let profile = if corvo_bin().components().any(|c| c.as_os_str() == "release") {
        "release"
    } else {
        "debug"
    };
    let line =
        format!("{lang:<11} {rate:>8.0} jobs/s ({jobs} jobs, concurrency 64, {profile} server)\n");
    eprint!("conformance throughput: {line}");
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/conformance-throughput.txt");
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
    let queue = within(
        "GetQueue",
        server
            .queues()
            .await
            .get_queue(pb::GetQueueRequest { queue: q.into() }),
    )
    .await
    .expect("GetQueue")
    .into_inner()
    .queue
    .expect("a queue");
    let completed = queue
        .counts
        .iter()
        .find(|c| c.state == pb::JobState::Completed as i32)
        .map_or(0, |c| c.count);
    assert_eq!(completed, jobs as u64, "{lang}");
}

/// Whether `lang` is in `sdk/languages` (the SDKs the test command builds), or in
/// `CORVO_CONFORMANCE_LANGS` (comma-separated) when that is set. A language the macro below
/// names but neither lists is skipped, saying so.
fn listed(lang: &str) -> bool {
    let listed = match std::env::var("CORVO_CONFORMANCE_LANGS") {
        Ok(langs) => langs.split(',').map(str::trim).any(|l| l == lang),
        Err(_) => {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sdk/languages");
            let text = std::fs::read_to_string(&path).expect("sdk/languages");
            text.lines().map(str::trim).any(|l| l == lang)
        }
    };
    if !listed {
        eprintln!("skipped: {lang} is not listed in sdk/languages, so its harness is not built");
    }
    listed
}

/// One test per (language, scenario), so a failure names both.
macro_rules! conformance {
    ($($lang:ident),* $(,)?) => {$(
        mod $lang {
            const LANG: &str = stringify!($lang);
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn lifecycle() { if super::listed(LANG) { super::lifecycle(LANG).await } }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn retry_to_dead() { if super::listed(LANG) { super::retry_to_dead(LANG).await } }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn progress_checkpoint() { if super::listed(LANG) { super::progress_checkpoint(LANG).await } }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cancel() { if super::listed(LANG) { super::cancel(LANG).await } }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn throws() { if super::listed(LANG) { super::throws(LANG).await } }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn drain() { if super::listed(LANG) { super::drain(LANG).await } }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn reconnect() { if super::listed(LANG) { super::reconnect(LANG).await } }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn overload() { if super::listed(LANG) { super::overload(LANG).await } }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn scoped_key() { if super::listed(LANG) { super::scoped_key(LANG).await } }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn tls() { if super::listed(LANG) { super::tls(LANG).await } }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn failover() { if super::listed(LANG) { super::failover(LANG).await } }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn throughput() { if super::listed(LANG) { super::throughput(LANG).await } }
        }
    )*};
}

conformance!(rust, python, typescript, go, java);
