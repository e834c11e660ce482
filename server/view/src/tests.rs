use std::collections::BTreeMap;

use corvo_core::model::Backoff;

use corvo_core::JobChange;

use super::*;

/// An in-memory state: what the projector reads.
#[derive(Default)]
struct MemSource {
    jobs: Mutex<BTreeMap<String, Job>>,
    /// Every read fails while set (a disk that cannot be read or written).
    failing: std::sync::atomic::AtomicBool,
}

impl MemSource {
    fn check(&self) -> Result<(), String> {
        match self.failing.load(Ordering::SeqCst) {
            true => Err("I/O error (a test failure)".into()),
            false => Ok(()),
        }
    }
}

impl JobSource for MemSource {
    fn jobs(&self, ids: &[String]) -> Result<Vec<Option<Job>>, String> {
        self.check()?;
        let jobs = self.jobs.lock().unwrap();
        Ok(ids.iter().map(|id| jobs.get(id).cloned()).collect())
    }

    fn for_each_job(&self, f: &mut dyn FnMut(Job) -> Result<(), String>) -> Result<(), String> {
        self.check()?;
        for job in self.jobs.lock().unwrap().values() {
            f(job.clone())?;
        }
        Ok(())
    }
}

impl MemSource {
    fn put(&self, job: Job) {
        self.jobs.lock().unwrap().insert(job.id.clone(), job);
    }
}

/// A view over a source that knows no job: every row comes from the records it is handed.
fn empty_view(dir: &tempfile::TempDir) -> View {
    View::open(
        &dir.path().join("view.sqlite"),
        Arc::new(MemSource::default()),
        None,
    )
    .unwrap()
}

/// Jobs written without their records: the projector reads them from the source.
fn unread(ids: &[&str]) -> Vec<JobWrite> {
    ids.iter()
        .map(|id| JobWrite {
            id: (*id).to_owned(),
            change: JobChange::Written(None),
        })
        .collect()
}

/// A job written with its record, as the apply hands it over.
fn written(job: &Job) -> JobWrite {
    JobWrite {
        id: job.id.clone(),
        change: JobChange::Written(Some(corvo_core::keys::encode(job))),
    }
}

/// A job deleted, with the record it had.
fn deleted(job: &Job) -> JobWrite {
    JobWrite {
        id: job.id.clone(),
        change: JobChange::Deleted(corvo_core::keys::encode(job)),
    }
}

fn job(id: &str, queue: &str, state: JobState, created_at_ms: u64) -> Job {
    Job {
        id: id.into(),
        queue: queue.into(),
        state,
        payload: format!(r#"{{"id":"{id}"}}"#),
        priority: Priority::Normal,
        attempt: 0,
        max_attempts: 3,
        backoff: Backoff::default(),
        tags: BTreeMap::new(),
        unique_key: None,
        seq: created_at_ms,
        created_at_ms,
        scheduled_at_ms: None,
        started_at_ms: None,
        finished_at_ms: None,
        expire_at_ms: None,
        next_attempt_at_ms: None,
        lease: None,
        progress: None,
        checkpoint: None,
        result: None,
        last_error: None,
        ready_at_ms: None,
        trace_parent: None,
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn wait(view: &View, index: u64) {
    rt().block_on(view.wait_for(index, Duration::from_secs(10)))
        .unwrap();
}

fn ids(page: &JobPage) -> Vec<&str> {
    page.ids.iter().map(String::as_str).collect()
}

#[test]
fn searches_filter_and_page_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(MemSource::default());
    let view = View::open(&dir.path().join("view.sqlite"), source.clone(), None).unwrap();

    let mut a = job("a", "mail", JobState::Pending, 10);
    a.tags.insert("tenant".into(), "acme".into());
    let mut b = job("b", "mail", JobState::Dead, 20);
    b.last_error = Some("SMTP 550: mailbox 100% full".into());
    b.priority = Priority::High;
    let c = job("c", "reports", JobState::Pending, 30);
    let mut d = job("d", "mail", JobState::Pending, 40);
    d.tags.insert("tenant".into(), "globex".into());
    for j in [a, b, c.clone(), d] {
        source.put(j);
    }
    view.changed(1, unread(&["a", "b"]));
    view.changed(2, unread(&["c", "d"]));
    wait(&view, 2);
    assert_eq!(view.applied_index(), 2);

    let all = view.search(&JobQuery::default()).unwrap();
    assert_eq!(ids(&all), ["d", "c", "b", "a"]);
    assert!(all.next.is_none());
    let q = |f: fn(&mut JobQuery)| {
        let mut q = JobQuery::default();
        f(&mut q);
        ids(&view.search(&q).unwrap())
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(q(|q| q.queue = Some("mail".into())), ["d", "b", "a"]);
    assert_eq!(q(|q| q.states = vec![JobState::Dead]), ["b"]);
    let mut both = q(|q| q.states = vec![JobState::Dead, JobState::Pending]);
    both.sort();
    let mut expected = q(|q| q.states = vec![JobState::Dead]);
    expected.extend(q(|q| q.states = vec![JobState::Pending]));
    expected.sort();
    assert_eq!(both, expected, "states are a set");
    assert_eq!(q(|q| q.priority = Some(Priority::High)), ["b"]);
    assert_eq!(
        q(|q| q.tags = vec![("tenant".into(), "acme".into())]),
        ["a"]
    );
    assert_eq!(
        q(|q| q.payload_contains = Some(r#""id":"c""#.into())),
        ["c"]
    );
    // LIKE wildcards in the text are literal.
    assert_eq!(q(|q| q.error_contains = Some("100% full".into())), ["b"]);
    assert!(q(|q| q.error_contains = Some("1_0".into())).is_empty());
    assert_eq!(
        q(|q| {
            q.created_from_ms = Some(20);
            q.created_before_ms = Some(40);
        }),
        ["c", "b"]
    );

    // Keyset pages of two.
    let first = view
        .search(&JobQuery {
            limit: 2,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(&first), ["d", "c"]);
    let cursor = first.next.expect("a next page");
    let token = cursor.token();
    let second = view
        .search(&JobQuery {
            limit: 2,
            after: Some(Cursor::parse(&token).unwrap()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(&second), ["b", "a"]);
    assert!(second.next.is_none());
    assert!(Cursor::parse("garbage").is_err());
    assert!(
        view.search(&JobQuery {
            limit: PAGE_SIZE_MAX + 1,
            ..Default::default()
        })
        .is_err()
    );

    // A change and a deletion are seen after the next entry.
    source.jobs.lock().unwrap().get_mut("a").unwrap().state = JobState::Completed;
    source.jobs.lock().unwrap().remove("c");
    let mut changes = unread(&["a"]);
    changes.push(deleted(&c));
    view.changed(3, changes);
    wait(&view, 3);
    assert_eq!(q(|q| q.states = vec![JobState::Completed]), ["a"]);
    assert_eq!(q(|_| {}), ["d", "b", "a"]);
}

#[test]
fn records_carried_by_the_apply_are_used_as_written_and_the_latest_write_wins() {
    let dir = tempfile::tempdir().unwrap();
    // The source knows nothing: every row below comes from the carried records.
    let view = empty_view(&dir);
    let pending = job("a", "mail", JobState::Pending, 10);
    let mut active = pending.clone();
    active.state = JobState::Active;
    let other = job("b", "mail", JobState::Pending, 20);
    view.changed(1, vec![written(&pending), written(&other)]);
    view.changed(2, vec![written(&active)]);
    wait(&view, 2);
    let q = |state| {
        let query = JobQuery {
            states: vec![state],
            ..Default::default()
        };
        view.search(&query).unwrap().ids
    };
    assert_eq!(q(JobState::Active), ["a"]);
    assert_eq!(q(JobState::Pending), ["b"]);

    // A write without a record is read from the source; one gone there is left for its
    // deletion, which carries the record it had.
    view.changed(3, unread(&["b"]));
    wait(&view, 3);
    assert_eq!(q(JobState::Pending), ["b"]);
    view.changed(4, vec![deleted(&other)]);
    wait(&view, 4);
    assert!(q(JobState::Pending).is_empty());

    // A record that does not decode is reported, naming the job, and the view is rebuilt
    // from the state (here empty).
    view.changed(
        5,
        vec![JobWrite {
            id: "c".into(),
            change: JobChange::Written(Some(vec![0xff, 0xff])),
        }],
    );
    let failure = reported_failure(&view);
    assert!(failure.contains("job c"), "{failure}");
    recovered(&view);
    wait(&view, 5);
    assert!(q(JobState::Active).is_empty());
}

/// The failure the view reports, once it does (within 10 s).
fn reported_failure(view: &View) -> String {
    let deadline = corvo_clock::monotonic() + Duration::from_secs(10);
    loop {
        if let Some(failure) = view.failure() {
            return failure;
        }
        assert!(corvo_clock::monotonic() < deadline, "no failure reported");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits (at most 10 s) until the view reports no failure any more.
fn recovered(view: &View) {
    let deadline = corvo_clock::monotonic() + Duration::from_secs(10);
    while let Some(failure) = view.failure() {
        assert!(
            corvo_clock::monotonic() < deadline,
            "not recovered: {failure}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn time_filters_match_a_scan_with_equal_times_and_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let view = empty_view(&dir);
    // seq 1..=60, three jobs per millisecond step of 10, every seventh deleted.
    let jobs: Vec<Job> = (1..=60u64)
        .map(|seq| {
            let mut j = job(
                &format!("j{seq:02}"),
                "q",
                JobState::Pending,
                100 + seq / 3 * 10,
            );
            j.seq = seq;
            j
        })
        .collect();
    view.changed(1, jobs.iter().map(written).collect());
    let gone: Vec<&Job> = jobs.iter().filter(|j| j.seq % 7 == 0).collect();
    view.changed(2, gone.iter().map(|j| deleted(j)).collect());
    wait(&view, 2);
    let live: Vec<&Job> = jobs.iter().filter(|j| j.seq % 7 != 0).collect();
    for from in [
        None,
        Some(0),
        Some(99),
        Some(100),
        Some(135),
        Some(140),
        Some(300),
        Some(400),
    ] {
        for before in [
            None,
            Some(0),
            Some(100),
            Some(141),
            Some(200),
            Some(301),
            Some(500),
        ] {
            let page = view
                .search(&JobQuery {
                    created_from_ms: from,
                    created_before_ms: before,
                    limit: PAGE_SIZE_MAX,
                    ..Default::default()
                })
                .unwrap();
            let expected: Vec<String> = live
                .iter()
                .rev()
                .filter(|j| from.is_none_or(|f| j.created_at_ms >= f))
                .filter(|j| before.is_none_or(|b| j.created_at_ms < b))
                .map(|j| j.id.clone())
                .collect();
            assert_eq!(page.ids, expected, "from {from:?} before {before:?}");
        }
    }
}

#[test]
fn a_view_behind_the_state_is_rebuilt_and_an_index_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("view.sqlite");
    let source = Arc::new(MemSource::default());
    source.put(job("x", "q", JobState::Pending, 1));
    {
        let view = View::open(&path, source.clone(), None).unwrap();
        view.changed(5, unread(&["x"]));
        wait(&view, 5);
    }
    // The state moved on while the view was not fed (a crash while it lagged).
    source.put(job("y", "q", JobState::Pending, 2));
    let view = View::open(&path, source.clone(), Some(9)).unwrap();
    assert_eq!(view.applied_index(), 9);
    assert_eq!(ids(&view.search(&JobQuery::default()).unwrap()), ["y", "x"]);
    drop(view);
    // Not behind: no rebuild, the stored index stays.
    let view = View::open(&path, source.clone(), Some(7)).unwrap();
    assert_eq!(view.applied_index(), 9);

    // A snapshot install replaces the state: rebuild on request.
    source.jobs.lock().unwrap().clear();
    source.put(job("z", "q", JobState::Pending, 3));
    view.rebuild(20);
    wait(&view, 20);
    assert_eq!(ids(&view.search(&JobQuery::default()).unwrap()), ["z"]);
}

/// A view at index 1 holding job "x", and its source.
fn view_with_one_job(dir: &tempfile::TempDir) -> (View, Arc<MemSource>) {
    let source = Arc::new(MemSource::default());
    let view = View::open(&dir.path().join("view.sqlite"), source.clone(), None).unwrap();
    source.put(job("x", "q", JobState::Pending, 1));
    view.changed(1, unread(&["x"]));
    wait(&view, 1);
    (view, source)
}

/// A write that fails (here the state cannot be read; a full disk fails the same way) does
/// not stop the projector for good: reads say why at once, updates keep being taken (the
/// applies never wait on a view that cannot move), and once writing works again the view is
/// rebuilt from the state and goes on.
#[test]
fn a_failed_write_is_followed_by_a_rebuild_and_reads_say_why_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let (view, source) = view_with_one_job(&dir);

    source.failing.store(true, Ordering::SeqCst);
    source.put(job("y", "q", JobState::Pending, 2));
    view.changed(2, unread(&["y"]));
    reported_failure(&view);
    let err = rt()
        .block_on(view.wait_for(2, Duration::from_secs(10)))
        .unwrap_err();
    assert!(matches!(err, ViewError::Failing(_)), "{err}");
    assert!(err.to_string().contains("I/O error"), "{err}");
    // More updates than the queue holds: taken off it while the view cannot be written.
    let last = 3 + 2 * UPDATES_QUEUED_MAX as u64;
    for index in 3..=last {
        view.changed(index, unread(&["y"]));
    }

    source.failing.store(false, Ordering::SeqCst);
    source.put(job("z", "q", JobState::Pending, 3));
    recovered(&view);
    view.changed(last + 1, unread(&["z"]));
    wait(&view, last + 1);
    assert_eq!(
        ids(&view.search(&JobQuery::default()).unwrap()),
        ["z", "y", "x"]
    );
}

/// A read already waiting for an index when a write fails is told why at once, not at its
/// timeout.
#[test]
fn a_read_waiting_when_a_write_fails_is_told_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (view, source) = view_with_one_job(&dir);

    // The read starts waiting for index 2 while the view is healthy; then index 2's write
    // fails. The read learns why well before its 60 s are up.
    let (result, took) = rt().block_on(async {
        let waiting = view.wait_for(2, Duration::from_secs(60));
        tokio::pin!(waiting);
        tokio::select! {
            r = &mut waiting => panic!("index 2 has not come yet: {r:?}"),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
        source.failing.store(true, Ordering::SeqCst);
        source.put(job("y", "q", JobState::Pending, 2));
        view.changed(2, unread(&["y"]));
        let started = corvo_clock::monotonic();
        (waiting.await, started.elapsed())
    });
    let err = result.unwrap_err();
    assert!(matches!(err, ViewError::Failing(_)), "{err}");
    assert!(err.to_string().contains("I/O error"), "{err}");
    assert!(
        took < Duration::from_secs(30),
        "told at once, not at the timeout: {took:?}"
    );
}

#[test]
fn waiting_for_an_index_times_out_with_where_the_view_is() {
    let dir = tempfile::tempdir().unwrap();
    let view = empty_view(&dir);
    let err = rt()
        .block_on(view.wait_for(3, Duration::from_millis(50)))
        .unwrap_err();
    assert!(
        matches!(
            err,
            ViewError::Timeout {
                wanted: 3,
                at: 0,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn payload_search_scans_within_a_budget_and_pages_on() {
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(MemSource::default());
    let view = View::open(&dir.path().join("view.sqlite"), source.clone(), None).unwrap();
    let total = PAYLOAD_SCAN_MAX + 300;
    let mut ids = Vec::new();
    for i in 0..total {
        let id = format!("j{i:06}");
        let mut j = job(&id, "q", JobState::Pending, i as u64);
        // Only the five oldest jobs match: the newest-first scan reaches them last.
        j.payload = if i < 5 {
            format!(r#"{{"needle":{i}}}"#)
        } else {
            "{}".into()
        };
        source.put(j);
        ids.push(id);
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    view.changed(1, unread(&refs));
    wait(&view, 1);
    let query = |after| JobQuery {
        payload_contains: Some("needle".into()),
        limit: 3,
        after,
        ..Default::default()
    };
    // The first call spends its budget on non-matching rows: no jobs, but a way on.
    let first = view.search(&query(None)).unwrap();
    assert!(first.ids.is_empty(), "{:?}", first.ids);
    let second = view.search(&query(first.next)).unwrap();
    assert_eq!(second.ids, ["j000004", "j000003", "j000002"]);
    let third = view.search(&query(second.next)).unwrap();
    assert_eq!(third.ids, ["j000001", "j000000"]);
    assert!(third.next.is_none());
}
