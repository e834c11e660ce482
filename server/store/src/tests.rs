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
