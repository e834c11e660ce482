use corvo_core::model::EnqueueOptions;
use corvo_core::{Batch, Command, Enqueue, Lease, MemState, Reply, apply_batch, query};

use super::*;

fn enqueue(id: &str) -> Command {
    Command::Enqueue(Enqueue {
        id: id.into(),
        queue: "q".into(),
        payload: "{}".into(),
        options: EnqueueOptions::default(),
    })
}

fn lease() -> Command {
    Command::Lease(Lease {
        queues: vec!["q".into()],
        count: 2,
        worker_id: "w".into(),
        hostname: "h".into(),
        lease_ms: 1_000,
    })
}

#[test]
fn apply_round_trips_and_matches_the_in_memory_model() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(&dir.path().join("state.redb")).unwrap();
    let batches = vec![
        (
            1,
            Some(Batch {
                now_ms: 10,
                commands: vec![enqueue("a"), enqueue("b"), enqueue("c")],
            }),
        ),
        (2, None),
        (
            3,
            Some(Batch {
                now_ms: 20,
                commands: vec![lease(), Command::Tick],
            }),
        ),
    ];
    let outcomes = store.apply(&batches, b"meta-3").unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes[1].is_none());
    let Some(Ok(Reply::Leased(jobs))) = outcomes[2].as_ref().map(|o| o.replies[0].clone()) else {
        panic!()
    };
    assert_eq!(
        jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        vec!["a", "b"]
    );

    // The same batches on MemState give the same replies.
    let mut mem = MemState::new();
    for (i, b) in &batches {
        if let Some(b) = b {
            let o = apply_batch(&mut mem, b, *i).unwrap();
            assert_eq!(Some(o), outcomes[(*i - 1) as usize]);
        }
    }
    let r = store.read().unwrap();
    assert_eq!(
        query::job(&r, "c").unwrap().unwrap().state,
        corvo_core::JobState::Pending
    );
    assert!(query::has_ready(&r, &["q".to_string()]).unwrap());
    query::check_invariants(&r).unwrap();
    assert_eq!(store.raft_meta().unwrap().as_deref(), Some(&b"meta-3"[..]));
}

#[test]
fn state_and_digest_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let digest = {
        let store = StateStore::open(&path).unwrap();
        store
            .apply(
                &[(
                    1,
                    Some(Batch {
                        now_ms: 1,
                        commands: vec![enqueue("x")],
                    }),
                )],
                b"m1",
            )
            .unwrap();
        store.flush().unwrap();
        store.digest().unwrap()
    };
    let store = StateStore::open(&path).unwrap();
    assert_eq!(store.digest().unwrap(), digest);
    assert!(query::job(&store.read().unwrap(), "x").unwrap().is_some());
    let other = StateStore::open(&dir.path().join("other.redb")).unwrap();
    assert_ne!(other.digest().unwrap(), digest);
}

/// A store with a few jobs in several tables (jobs, ready, counts, events, leases/timers).
fn populated(dir: &std::path::Path, name: &str) -> StateStore {
    let store = StateStore::open(&dir.join(name)).unwrap();
    let batch = |now_ms, commands| Some(Batch { now_ms, commands });
    store
        .apply(
            &[
                (1, batch(10, vec![enqueue("a"), enqueue("b"), enqueue("c")])),
                (2, batch(20, vec![lease()])),
            ],
            b"meta-2",
        )
        .unwrap();
    store
}

/// Writes an archive of `store` as the snapshot builder does (capture, then write).
fn export(
    store: &StateStore,
    path: &std::path::Path,
    created_unix_ms: u64,
) -> Result<ArchiveInfo, ArchiveError> {
    store
        .begin_export()
        .map_err(|e| ArchiveError::store(path, e))?
        .write(path, created_unix_ms)
}

/// A store at `<dir>/b.redb` holding one job, `id`, with `meta` as its Raft metadata.
fn one_job_store(dir: &std::path::Path, id: &str, meta: &[u8]) -> StateStore {
    let store = StateStore::open(&dir.join("b.redb")).unwrap();
    let batch = Batch {
        now_ms: 1,
        commands: vec![enqueue(id)],
    };
    store.apply(&[(1, Some(batch))], meta).unwrap();
    store
}

#[test]
fn an_archive_restores_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let source = populated(dir.path(), "a.redb");
    let path = dir.path().join("snap");
    let written = export(&source, &path, 1234).unwrap();
    assert_eq!(written.raft_meta, b"meta-2");
    assert!(written.rows > 3, "{written:?}");
    assert_eq!(written.bytes, std::fs::metadata(&path).unwrap().len());

    let checked = archive::verify(&path).unwrap();
    assert_eq!(checked, written);
    assert_eq!(archive::header(&path).unwrap().created_unix_ms, 1234);

    // Installing over a store with other content replaces it entirely.
    let target = one_job_store(dir.path(), "zzz", b"other");
    target.install_archive(&path, None).unwrap();
    assert_eq!(target.digest().unwrap(), source.digest().unwrap());
    assert_eq!(target.raft_meta().unwrap().as_deref(), Some(&b"meta-2"[..]));
    assert!(
        query::job(&target.read().unwrap(), "zzz")
            .unwrap()
            .is_none()
    );
    query::check_invariants(&target.read().unwrap()).unwrap();

    // The metadata can be rewritten on install (a restore into a new cluster).
    target.install_archive(&path, Some(b"rewritten")).unwrap();
    assert_eq!(
        target.raft_meta().unwrap().as_deref(),
        Some(&b"rewritten"[..])
    );
    assert_eq!(target.digest().unwrap(), source.digest().unwrap());
}

#[test]
fn a_damaged_archive_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = populated(dir.path(), "a.redb");
    let path = dir.path().join("snap");
    export(&source, &path, 1).unwrap();
    let good = std::fs::read(&path).unwrap();

    let target = one_job_store(dir.path(), "keep", b"mine");
    let before = target.digest().unwrap();

    // A flipped bit in the middle, a truncation, and trailing garbage.
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    let truncated = good[..good.len() - 10].to_vec();
    let mut longer = good.clone();
    longer.push(0);
    for (what, bytes) in [
        ("flipped", flipped),
        ("truncated", truncated),
        ("longer", longer),
    ] {
        let bad = dir.path().join(what);
        std::fs::write(&bad, bytes).unwrap();
        let err = target.install_archive(&bad, None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&bad.display().to_string()), "{what}: {text}");
        assert!(
            matches!(err, ArchiveError::Corrupt { .. }),
            "{what}: {text}"
        );
        assert!(archive::verify(&bad).is_err(), "{what}");
        assert_eq!(target.digest().unwrap(), before, "{what} changed the state");
        assert_eq!(target.raft_meta().unwrap().as_deref(), Some(&b"mine"[..]));
    }

    // Not an archive at all.
    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"hello world").unwrap();
    let err = archive::verify(&junk).unwrap_err().to_string();
    assert!(err.contains("bad magic"), "{err}");
}

/// `v2`, a version-2 archive, as the release before wrote the same content: version 1 in the
/// header and a SHA-256 trailer instead of XXH3-128 (built here by hand, not by the writer).
fn as_version_1(v2: &[u8]) -> Vec<u8> {
    assert_eq!(&v2[8..12], &2u32.to_be_bytes());
    let mut v1 = v2[..v2.len() - 16].to_vec();
    v1[8..12].copy_from_slice(&1u32.to_be_bytes());
    let sum = Sha256::digest(&v1);
    v1.extend_from_slice(&sum);
    v1
}

#[test]
fn archives_are_version_2_and_version_1_archives_still_read_and_install() {
    let dir = tempfile::tempdir().unwrap();
    let source = populated(dir.path(), "a.redb");
    let path = dir.path().join("snap");
    let written = export(&source, &path, 7).unwrap();
    assert_eq!(written.version, archive::VERSION);
    assert!(written.checksum.starts_with("xxh3-128:"), "{written:?}");
    assert_eq!(written.checksum.len(), "xxh3-128:".len() + 32);

    // An archive of the release before (a backup, or a peer's snapshot) reads and installs.
    let old = dir.path().join("old");
    std::fs::write(&old, as_version_1(&std::fs::read(&path).unwrap())).unwrap();
    let checked = archive::verify(&old).unwrap();
    assert_eq!(checked.version, 1);
    assert!(checked.checksum.starts_with("sha256:"), "{checked:?}");
    assert_eq!(
        (checked.rows, checked.raft_meta.clone()),
        (written.rows, written.raft_meta)
    );
    let target = one_job_store(dir.path(), "zzz", b"other");
    target.install_archive(&old, None).unwrap();
    assert_eq!(target.digest().unwrap(), source.digest().unwrap());

    // Damage is found in either version.
    let mut flipped = std::fs::read(&old).unwrap();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    std::fs::write(&old, flipped).unwrap();
    let err = archive::verify(&old).unwrap_err().to_string();
    assert!(err.contains("checksum mismatch"), "{err}");

    // A version this release does not know is named.
    let mut newer = std::fs::read(&path).unwrap();
    newer[8..12].copy_from_slice(&3u32.to_be_bytes());
    let newer_path = dir.path().join("newer");
    std::fs::write(&newer_path, newer).unwrap();
    let err = archive::verify(&newer_path).unwrap_err().to_string();
    assert!(
        err.contains("archive version 3; this release reads versions 1 to 2"),
        "{err}"
    );
}

#[test]
fn a_downgraded_archive_is_what_the_release_before_wrote_and_damage_is_not_passed_on() {
    let dir = tempfile::tempdir().unwrap();
    let source = populated(dir.path(), "a.redb");
    let path = dir.path().join("snap");
    export(&source, &path, 7).unwrap();
    let v2 = std::fs::read(&path).unwrap();

    let down = dir.path().join("down");
    let info = archive::downgrade(&path, &down).unwrap();
    assert_eq!(info.version, 1);
    assert_eq!(std::fs::read(&down).unwrap(), as_version_1(&v2));
    assert_eq!(archive::verify(&down).unwrap(), info);
    // A version-1 archive goes down unchanged.
    let again = dir.path().join("again");
    archive::downgrade(&down, &again).unwrap();
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&down).unwrap()
    );

    // A damaged archive is not rewritten with a fresh checksum: the error names it and
    // nothing is left behind.
    let mut flipped = v2.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    let bad = dir.path().join("bad");
    std::fs::write(&bad, flipped).unwrap();
    let out = dir.path().join("bad-down");
    let err = archive::downgrade(&bad, &out).unwrap_err().to_string();
    assert!(err.contains(&bad.display().to_string()), "{err}");
    assert!(!out.exists());
    // An existing file is never overwritten (nor removed).
    let err = archive::downgrade(&path, &again).unwrap_err().to_string();
    assert!(err.contains(&again.display().to_string()), "{err}");
    assert!(again.exists());
}

#[test]
fn exporting_needs_an_applied_entry_and_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let empty = StateStore::open(&dir.path().join("e.redb")).unwrap();
    let err = export(&empty, &dir.path().join("s"), 1).unwrap_err();
    assert!(err.to_string().contains("no applied log entry"), "{err}");
    assert!(!dir.path().join("s").exists());

    let store = populated(dir.path(), "a.redb");
    std::fs::write(dir.path().join("taken"), b"x").unwrap();
    assert!(export(&store, &dir.path().join("taken"), 1).is_err());
    assert_eq!(std::fs::read(dir.path().join("taken")).unwrap(), b"x");
}

#[test]
fn apply_reports_the_jobs_it_touched_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(&dir.path().join("s.redb")).unwrap();
    let batch = |now_ms, commands| Some(Batch { now_ms, commands });
    let touched = store
        .apply_tracked(
            &[
                (1, batch(10, vec![enqueue("a"), enqueue("b")])),
                (2, None),
                (3, batch(20, vec![lease(), enqueue("c")])),
            ],
            b"m",
            true,
        )
        .unwrap()
        .touched;
    // a and b written by the enqueue and again by the lease: listed once, in first-touch order,
    // with the record the lease left.
    let ids: Vec<&str> = touched.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let reader = store.read().unwrap();
    let written = |w: &corvo_core::JobWrite| match &w.change {
        corvo_core::JobChange::Written(Some(record)) => {
            corvo_core::keys::decode_job(w.id.as_bytes(), record).unwrap()
        }
        other => panic!("a written job carries its record: {other:?}"),
    };
    for w in &touched {
        let job = written(w);
        assert_eq!(
            Some(job),
            corvo_core::query::job_record(&reader, &w.id).unwrap()
        );
    }
    let leased = touched
        .iter()
        .filter(|w| written(w).state == corvo_core::model::JobState::Active);
    assert_eq!(leased.count(), 2, "the lease's writes are the ones carried");
    let touched = store
        .apply_tracked(&[(4, batch(30, vec![Command::Tick]))], b"m", true)
        .unwrap()
        .touched;
    assert!(touched.is_empty(), "{touched:?}");

    // A deletion carries the record the job had (the view finds its row by it).
    let c = corvo_core::query::job_record(&store.read().unwrap(), "c")
        .unwrap()
        .unwrap();
    let delete = Command::Delete { job_id: "c".into() };
    let touched = store
        .apply_tracked(&[(5, batch(40, vec![delete]))], b"m", true)
        .unwrap()
        .touched;
    assert_eq!(
        touched,
        [corvo_core::JobWrite {
            id: "c".into(),
            change: corvo_core::JobChange::Deleted(corvo_core::keys::encode(&c)),
        }]
    );
}

#[test]
fn an_idle_state_with_applies_not_yet_durable_is_checkpointed_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(&dir.path().join("s.redb")).unwrap();
    // Nothing applied: nothing to do.
    assert_eq!(store.checkpoint_if_idle().unwrap(), None);
    let set = |applies_since, last_apply| {
        let mut c = store.checkpoint.lock().unwrap();
        c.applies_since = applies_since;
        c.last_apply = last_apply;
    };
    // Applies not yet durable, the last one just now (an instant ahead): not idle.
    set(3, corvo_clock::monotonic() + Duration::from_secs(10));
    assert_eq!(store.checkpoint_if_idle().unwrap(), None);
    // Idle long enough: checkpointed once.
    set(3, corvo_clock::monotonic() - CHECKPOINT_IDLE);
    assert!(store.checkpoint_if_idle().unwrap().is_some());
    assert_eq!(store.checkpoint.lock().unwrap().applies_since, 0);
    assert_eq!(store.checkpoint_if_idle().unwrap(), None);
}

#[test]
fn an_apply_says_when_it_was_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(&dir.path().join("s.redb")).unwrap();
    let batch = |now_ms, commands| Some(Batch { now_ms, commands });
    // Just opened: no checkpoint due.
    let applied = store
        .apply_tracked(&[(1, batch(10, vec![enqueue("a")]))], b"m", true)
        .unwrap();
    assert_eq!(applied.checkpoint, None);
    // The interval has passed: the next apply commits durably and says how long it took...
    store.checkpoint.lock().unwrap().last = corvo_clock::monotonic() - CHECKPOINT_INTERVAL;
    assert!(store.checkpoint_due());
    let applied = store
        .apply_tracked(&[(2, batch(20, vec![enqueue("b")]))], b"m", true)
        .unwrap();
    assert!(applied.checkpoint.is_some());
    assert!(!store.checkpoint_due());
    // ...unless the caller cannot wait for one.
    store.checkpoint.lock().unwrap().last = corvo_clock::monotonic() - CHECKPOINT_INTERVAL;
    let applied = store
        .apply_tracked(&[(3, batch(30, vec![enqueue("c")]))], b"m", false)
        .unwrap();
    assert_eq!(applied.checkpoint, None);
    assert!(store.checkpoint_due(), "still due for the next apply");
}

#[test]
fn a_closed_store_refuses_calls_and_reopens_clean() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let store = StateStore::open(&path).unwrap();
    let batch = Some(Batch {
        now_ms: 10,
        commands: vec![enqueue("a")],
    });
    store.apply(&[(1, batch.clone())], b"m").unwrap();
    store.flush().unwrap();
    store.close();
    let err = store.apply(&[(2, batch)], b"m").unwrap_err();
    assert!(err.to_string().contains("closed"), "{err}");
    assert!(store.read().is_err());
    // The file is free (redb allows one handle per file) while the closed store still exists.
    let again = StateStore::open(&path).unwrap();
    assert_eq!(again.raft_meta().unwrap().as_deref(), Some(&b"m"[..]));
}

/// xorshift64*: a fixed pseudo-random sequence, so a failure replays.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[test]
fn rows_appended_past_the_end_read_back_and_match_the_in_memory_model() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(&dir.path().join("state.redb")).unwrap();
    let mut mem = MemState::new();
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    // Keys mostly count up (they go to the tail), some go back to older ones (straight into
    // redb, or into the middle of the tail); ranges are deleted across both. The last round
    // appends values large enough to make the tails write themselves out in the middle of a
    // transaction (TAIL_BYTES_MAX).
    let mut top = [0u64; 2];
    for round in 0..8 {
        let mut txn = store.begin_write().unwrap();
        txn.set_durability(Durability::None).unwrap();
        let mut tables = WriteTables::open(&txn);
        tables.touched = Some(Default::default());
        for _ in 0..500 {
            let which = (next(&mut rng) % 2) as usize;
            let t = [Table::Jobs, Table::Events][which];
            let r = next(&mut rng);
            let appended = r.is_multiple_of(4) || top[which] == 0;
            let n = if appended {
                top[which] += 1 + r % 3;
                top[which]
            } else {
                next(&mut rng) % (top[which] + 2)
            };
            // Job keys are ids (UTF-8, reported back as strings); zero-padded, they sort
            // like the numbers.
            let key_of = |n: u64| match t {
                Table::Jobs => format!("{n:020}").into_bytes(),
                _ => n.to_be_bytes().to_vec(),
            };
            let key = key_of(n);
            match r % 20 {
                0..=10 => {
                    let size = if round == 7 && appended {
                        300_000
                    } else {
                        (r % 64) as usize
                    };
                    let value = vec![(r >> 8) as u8; size];
                    tables.put(t, &key, &value).unwrap();
                    mem.put(t, &key, &value).unwrap();
                }
                11..=13 => {
                    tables.delete(t, &key).unwrap();
                    mem.delete(t, &key).unwrap();
                }
                14..=16 => assert_eq!(
                    tables.get(t, &key).unwrap(),
                    mem.get(t, &key).unwrap(),
                    "get {n} in {t:?}"
                ),
                19 => {
                    let end = key_of(n + r % 8);
                    tables.delete_range(t, &key, &end).unwrap();
                    mem.delete_range(t, &key, &end).unwrap();
                }
                _ => {
                    let end = key_of(n + r % 50);
                    let limit = (r % 30) as usize;
                    assert_eq!(
                        tables.range(t, &key, &end, limit).unwrap(),
                        mem.range(t, &key, &end, limit).unwrap(),
                        "range {n}.. in {t:?}"
                    );
                    assert_eq!(
                        tables.count(t, &key, &end, limit).unwrap(),
                        mem.count(t, &key, &end, limit).unwrap(),
                        "count {n}.. in {t:?}"
                    );
                }
            }
        }
        let touched = tables.finish().unwrap().unwrap().into_writes();
        txn.commit().unwrap();
        // Each job written or deleted is reported once, with the record it was left with.
        for w in &touched {
            let now = mem.get(Table::Jobs, w.id.as_bytes()).unwrap();
            match &w.change {
                JobChange::Written(record) => assert_eq!(record, &now, "job {}", w.id),
                JobChange::Deleted(_) => assert_eq!(now, None, "job {}", w.id),
            }
        }
        let r = store.read().unwrap();
        for t in [Table::Jobs, Table::Events] {
            assert_eq!(
                r.range(t, &[], &[0xff; 21], usize::MAX).unwrap(),
                mem.range(t, &[], &[0xff; 21], usize::MAX).unwrap(),
                "{t:?} after round {round}"
            );
        }
    }
    assert!(mem.len(Table::Jobs) > 100 && mem.len(Table::Events) > 100);
}

#[cfg(target_os = "linux")]
#[test]
fn the_writeback_thread_runs_with_the_store_and_stops_when_it_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(&dir.path().join("state.redb")).unwrap();
    let writeback = store._writeback.as_ref().expect("started on Linux");
    assert!(writeback.running());
    // Applies (non-durable, so the thread has pages to hand to the disk) keep it running.
    for i in 1..=20u64 {
        let id = format!("j{i}");
        store
            .apply(
                &[(
                    i,
                    Some(Batch {
                        now_ms: i,
                        commands: vec![enqueue(&id)],
                    }),
                )],
                b"meta",
            )
            .unwrap();
    }
    std::thread::sleep(WRITEBACK_INTERVAL * 3);
    assert!(store._writeback.as_ref().unwrap().running());
    // Dropping the store stops and joins it (a hang here fails the test by timeout).
    drop(store);
    let reopened = StateStore::open(&dir.path().join("state.redb")).unwrap();
    assert!(
        query::job(&reopened.read().unwrap(), "j20")
            .unwrap()
            .is_some()
    );
}

#[test]
fn tables_added_later_are_left_out_of_archives_until_used_and_then_restored() {
    let dir = tempfile::tempdir().unwrap();
    let source = populated(dir.path(), "a.redb");
    let contains = |path: &std::path::Path, name: &[u8]| {
        std::fs::read(path)
            .unwrap()
            .windows(name.len())
            .any(|w| w == name)
    };
    // Empty: an archive a node of the earlier release can read (it knows no such table).
    let before = dir.path().join("before");
    export(&source, &before, 1).unwrap();
    assert!(!contains(&before, b"idempotency"));
    let digest = source.digest().unwrap();

    let keyed = Command::EnqueueKeyed(corvo_core::EnqueueKeyed {
        enqueue: Enqueue {
            id: "k1".into(),
            queue: "q".into(),
            payload: "{}".into(),
            options: EnqueueOptions::default(),
        },
        key: "order-7".into(),
        window_ms: 60_000,
    });
    let batch = Batch {
        now_ms: 30,
        commands: vec![keyed],
    };
    source.apply(&[(3, Some(batch))], b"meta-3").unwrap();
    assert_ne!(source.digest().unwrap(), digest);
    let after = dir.path().join("after");
    export(&source, &after, 2).unwrap();
    assert!(contains(&after, b"idempotency_order"));

    let target = one_job_store(dir.path(), "zzz", b"other");
    target.install_archive(&after, None).unwrap();
    assert_eq!(target.digest().unwrap(), source.digest().unwrap());
    query::check_invariants(&target.read().unwrap()).unwrap();
    // And back: an archive without the tables empties them.
    target.install_archive(&before, None).unwrap();
    assert_eq!(target.digest().unwrap(), digest);
}

/// Payloads in their own table are this node's layout: archives and digests carry each
/// `Jobs` record with its payload, as a release before that layout wrote it. A state installed
/// from an archive holds its payloads in the records, moves each out when its job is next
/// saved, and digests the same as the state it came from all along.
#[test]
fn archives_and_digests_carry_payloads_in_their_records_whatever_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let source = StateStore::open(&dir.path().join("a.redb")).unwrap();
    let enqueue_with = |id: &str| {
        Command::Enqueue(Enqueue {
            id: id.into(),
            queue: "q".into(),
            payload: format!("{{\"needle\":\"{id}-{}\"}}", "p".repeat(300)),
            options: EnqueueOptions::default(),
        })
    };
    let batch = |now_ms, commands| Some(Batch { now_ms, commands });
    source
        .apply(
            &[(1, batch(10, vec![enqueue_with("a"), enqueue_with("b")]))],
            b"meta-1",
        )
        .unwrap();
    let reader = source.read().unwrap();
    assert_eq!(
        reader.get(Table::Payloads, b"a").unwrap().map(|p| p.len()),
        Some(315)
    );
    assert_eq!(
        corvo_core::keys::decode_job(b"a", &reader.get(Table::Jobs, b"a").unwrap().unwrap())
            .unwrap()
            .payload,
        ""
    );
    drop(reader);

    let path = dir.path().join("snap");
    export(&source, &path, 1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let has = |name: &[u8]| bytes.windows(name.len()).any(|w| w == name);
    assert!(has(b"a-ppp") && has(b"b-ppp"), "payloads in the records");
    assert!(!has(b"payloads"), "no table of the layout");

    let target = one_job_store(dir.path(), "zzz", b"other");
    target.install_archive(&path, None).unwrap();
    assert_eq!(target.digest().unwrap(), source.digest().unwrap());
    let reader = target.read().unwrap();
    assert_eq!(reader.get(Table::Payloads, b"a").unwrap(), None);
    assert!(
        query::job(&reader, "a")
            .unwrap()
            .unwrap()
            .payload
            .contains("a-ppp")
    );
    drop(reader);

    // The same lease on both: the installed state moves the leased payloads out.
    for store in [&source, &target] {
        let outcome = store
            .apply(&[(2, batch(20, vec![lease()]))], b"meta-2")
            .unwrap();
        match &outcome[0].as_ref().unwrap().replies[0] {
            Ok(Reply::Leased(jobs)) => {
                assert_eq!(jobs.len(), 2);
                assert!(jobs.iter().all(|j| j.payload.contains("-ppp")), "{jobs:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let reader = target.read().unwrap();
    assert!(reader.get(Table::Payloads, b"a").unwrap().is_some());
    query::check_invariants(&reader).unwrap();
    drop(reader);
    assert_eq!(target.digest().unwrap(), source.digest().unwrap());
}

/// Archives fold each payload back into its record whichever table holds it: a state whose
/// payloads are apart for only some jobs (here one in the middle of the key order, after an
/// install) writes the same archive, byte for byte, as a state with every payload apart.
#[test]
fn a_state_with_some_payloads_apart_writes_the_same_archive_as_one_with_all_apart() {
    let dir = tempfile::tempdir().unwrap();
    let source = StateStore::open(&dir.path().join("a.redb")).unwrap();
    let enqueue_into = |id: &str, queue: &str| {
        Command::Enqueue(Enqueue {
            id: id.into(),
            queue: queue.into(),
            payload: format!("{{\"needle\":\"{id}-{}\"}}", "p".repeat(200)),
            options: EnqueueOptions::default(),
        })
    };
    let batch = |now_ms, commands| Some(Batch { now_ms, commands });
    let jobs = ["a", "b", "c", "d", "e"];
    let commands = jobs
        .iter()
        .map(|id| enqueue_into(id, if *id == "c" { "r" } else { "q" }))
        .collect();
    source
        .apply(&[(1, batch(10, commands))], b"meta-1")
        .unwrap();
    let path = dir.path().join("snap");
    export(&source, &path, 1).unwrap();
    let target = one_job_store(dir.path(), "zzz", b"other");
    target.install_archive(&path, None).unwrap();

    // Leasing "c" moves its payload out on both; only there does the target hold one apart.
    let lease_c = Command::Lease(Lease {
        queues: vec!["r".into()],
        count: 1,
        worker_id: "w".into(),
        hostname: "h".into(),
        lease_ms: 1_000,
    });
    for store in [&source, &target] {
        store
            .apply(&[(2, batch(20, vec![lease_c.clone()]))], b"meta-2")
            .unwrap();
    }
    let reader = target.read().unwrap();
    for id in jobs {
        let apart = reader
            .get(Table::Payloads, id.as_bytes())
            .unwrap()
            .is_some();
        assert_eq!(apart, id == "c", "{id}");
    }
    drop(reader);

    assert_eq!(target.digest().unwrap(), source.digest().unwrap());
    let (from_source, from_target) = (dir.path().join("s1"), dir.path().join("s2"));
    export(&source, &from_source, 7).unwrap();
    export(&target, &from_target, 7).unwrap();
    let bytes = std::fs::read(&from_source).unwrap();
    assert_eq!(bytes, std::fs::read(&from_target).unwrap());
    for id in jobs {
        let needle = format!("{id}-ppp");
        assert!(
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{id}'s payload in the archive"
        );
    }

    // A payload whose job is gone (before, between and after the jobs) is not carried and
    // does not shift the others.
    let digest = target.digest().unwrap();
    let txn = target.begin_write().unwrap();
    {
        let mut payloads = txn.open_table(table_def(Table::Payloads)).unwrap();
        for orphan in ["0", "bb", "cc", "zz"] {
            payloads
                .insert(orphan.as_bytes(), b"orphan".as_slice())
                .unwrap();
        }
    }
    txn.commit().unwrap();
    assert_eq!(target.digest().unwrap(), digest);
    let with_orphans = dir.path().join("s3");
    export(&target, &with_orphans, 7).unwrap();
    assert_eq!(std::fs::read(&with_orphans).unwrap(), bytes);
}
