//! ListJobs over the SQLite read view: filters, keyset pages, read-your-writes, bad input,
//! and the view surviving a kill and a deleted file.

use std::collections::HashSet;

use corvo_tests::*;
use tonic::Code;

type Jobs = corvo_tests::JobClient;

async fn list(jobs: &mut Jobs, req: pb::ListJobsRequest) -> pb::ListJobsResponse {
    within("ListJobs", jobs.list_jobs(req))
        .await
        .expect("ListJobs")
        .into_inner()
}

fn consistent() -> pb::ListJobsRequest {
    pb::ListJobsRequest {
        consistent: true,
        ..Default::default()
    }
}

fn ids(r: &pb::ListJobsResponse) -> Vec<String> {
    r.jobs.iter().map(|j| j.id.clone()).collect()
}

/// Enqueues the fixture: 6 mail jobs (2 tagged acme, 1 high priority), 3 report jobs, one
/// mail job dead with an error. Returns every id in enqueue order and the dead one.
async fn fixture(server: &TestServer) -> (Vec<String>, String) {
    let mut w = server.worker().await;
    let mut all = Vec::new();
    for i in 0..6 {
        let mut options = fixed_backoff(10, 1);
        if i < 2 {
            options.tags.insert("tenant".into(), "acme".into());
        }
        if i == 5 {
            options.priority = pb::Priority::High.into();
        }
        let req = enqueue_req_with(
            "mail",
            &format!(r#"{{"to":"user{i}@example.com"}}"#),
            options,
        );
        all.push(enqueue(&mut w, req).await.job_id);
    }
    for i in 0..3 {
        all.push(enqueue_job(&mut w, "reports", &format!(r#"{{"n":{i}}}"#)).await);
    }
    // The oldest mail job runs once and fails for good.
    let job = fetch_some(&mut w, "mail").await;
    within(
        "Fail",
        w.fail(pb::FailRequest {
            job_id: job.job_id.clone(),
            error: "SMTP 550: mailbox 100% full".into(),
            ..Default::default()
        }),
    )
    .await
    .expect("Fail");
    (all, job.job_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_filters_pages_and_read_your_writes() {
    let server = TestServer::start().await;
    let (all, dead) = fixture(&server).await;
    let mut jobs = server.jobs().await;

    // Read-your-writes: every job just written is listed, newest first.
    let everything = list(&mut jobs, consistent()).await;
    let newest_first: Vec<String> = all.iter().rev().cloned().collect();
    assert_eq!(ids(&everything), newest_first);
    assert!(everything.next_page_token.is_empty());
    assert!(everything.view_index > 0);
    assert_eq!(
        everything.view_stale_reason, "",
        "a healthy view is not stale"
    );

    let by = |f: fn(&mut pb::ListJobsRequest)| {
        let mut req = consistent();
        f(&mut req);
        req
    };
    let mail = list(&mut jobs, by(|r| r.queue = "mail".into())).await;
    assert_eq!(mail.jobs.len(), 6);
    assert!(mail.jobs.iter().all(|j| j.queue == "mail"));
    let dead_jobs = list(&mut jobs, by(|r| r.state = pb::JobState::Dead.into())).await;
    assert_eq!(ids(&dead_jobs), std::slice::from_ref(&dead));
    assert_eq!(dead_jobs.jobs[0].last_error, "SMTP 550: mailbox 100% full");
    let acme = list(
        &mut jobs,
        by(|r| {
            r.tags.insert("tenant".into(), "acme".into());
        }),
    )
    .await;
    assert_eq!(ids(&acme), [all[1].clone(), all[0].clone()]);
    let high = list(&mut jobs, by(|r| r.priority = pb::Priority::High.into())).await;
    assert_eq!(ids(&high), [all[5].clone()]);
    let payload = list(&mut jobs, by(|r| r.payload_contains = "user3@".into())).await;
    assert_eq!(ids(&payload), [all[3].clone()]);
    let error = list(&mut jobs, by(|r| r.error_contains = "100% full".into())).await;
    assert_eq!(ids(&error), std::slice::from_ref(&dead));
    let none = list(&mut jobs, by(|r| r.error_contains = "100_ full".into())).await;
    assert!(none.jobs.is_empty(), "LIKE wildcards are literal");

    // Keyset pages of 4: every job once, in order.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(
            &mut jobs,
            pb::ListJobsRequest {
                page_size: 4,
                page_token: token.clone(),
                ..Default::default()
            },
        )
        .await;
        assert!(page.jobs.len() <= 4);
        seen.extend(ids(&page));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, newest_first);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_bad_searches_are_refused_with_the_field_named() {
    let server = TestServer::start().await;
    let mut jobs = server.jobs().await;
    let cases = [
        (
            pb::ListJobsRequest {
                page_token: "not-a-token".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            pb::ListJobsRequest {
                page_size: 1001,
                ..Default::default()
            },
            "page_size",
        ),
        (
            pb::ListJobsRequest {
                page_size: -1,
                ..Default::default()
            },
            "page_size",
        ),
        (
            pb::ListJobsRequest {
                state: 99,
                ..Default::default()
            },
            "state",
        ),
        (
            pb::ListJobsRequest {
                priority: 99,
                ..Default::default()
            },
            "priority",
        ),
        (
            pb::ListJobsRequest {
                payload_contains: "x".repeat(1025),
                ..Default::default()
            },
            "payload_contains",
        ),
    ];
    for (req, field) in cases {
        assert_status(
            within("ListJobs", jobs.list_jobs(req)).await,
            Code::InvalidArgument,
            field,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_the_view_survives_a_kill_and_a_deleted_file() {
    let mut server = TestServer::start().await;
    let (all, dead) = fixture(&server).await;
    let mut jobs = server.jobs().await;
    let before = ids(&list(&mut jobs, consistent()).await);
    assert_eq!(before.len(), all.len());

    server.kill();
    server.restart().await;
    let mut jobs = server.jobs().await;
    assert_eq!(ids(&list(&mut jobs, consistent()).await), before);

    server.terminate_and_wait().await;
    for name in ["view.sqlite", "view.sqlite-wal", "view.sqlite-shm"] {
        let _ = std::fs::remove_file(server.data_dir().join(name));
    }
    server.restart().await;
    assert!(
        server
            .log_since_start()
            .contains("read view behind the state: rebuilding it"),
        "{}",
        server.log_since_start()
    );
    let mut jobs = server.jobs().await;
    assert_eq!(ids(&list(&mut jobs, consistent()).await), before);
    let dead_jobs = list(
        &mut jobs,
        pb::ListJobsRequest {
            state: pb::JobState::Dead.into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ids(&dead_jobs), [dead]);

    // The lag and index are exported.
    let (code, body) = http_get(server.addr(), "/metrics").await.expect("/metrics");
    assert_eq!(code, 200);
    let value = |name: &str| -> f64 {
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert!(value("corvo_view_applied_index") > 0.0);
    assert!(value("corvo_view_lag_entries") >= 0.0);
    assert_eq!(value("corvo_view_failed"), 0.0);

    // The CLI lists too.
    let out = std::process::Command::new(corvo_bin())
        .args([
            "jobs",
            "list",
            "--server",
            &server.url(),
            "--queue",
            "reports",
            "--output",
            "json",
        ])
        .output()
        .expect("corvo jobs list");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(listed["jobs"].as_array().map(Vec::len), Some(3));
}

/// `corvo jobs list | head`: the CLI ends quietly when its output pipe closes early (killed
/// by SIGPIPE, as Unix tools are), never with a panic about a broken pipe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t40_the_cli_ends_quietly_when_its_reader_goes_away() {
    use std::os::unix::process::ExitStatusExt;
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    for _ in 0..20 {
        w.enqueue(enqueue_req("piped", "{}"))
            .await
            .expect("enqueue");
    }
    let mut child = std::process::Command::new(corvo_bin())
        .args(["jobs", "list", "--consistent", "--server", &server.url()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("corvo jobs list");
    drop(child.stdout.take()); // the reader is gone before the first line is written
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?}: {stderr}",
        out.status
    );
}
