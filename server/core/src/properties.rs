//! Property tests: hostile input is an error, never a panic.
//!
//! - any bytes decode to a record or to a `StoreError` (records come from disk);
//! - any sequence of commands, with ids, names, sizes and times chosen to collide and overflow,
//!   applies without a panic and leaves every invariant of the state intact (the ones
//!   `apply::testkit::invariants` lists; commands come from the log, which another node
//!   wrote);
//! - the input rules accept or refuse any text without a panic.

use proptest::prelude::*;

use crate::access::{ApiKey, Role};
use crate::apply::apply_batch;
use crate::apply::testkit::invariants;
use crate::command::{
    Ack, Batch, Command, CreateKey, Enqueue, Fail, Heartbeat, HeartbeatItem, Lease,
};
use crate::keys::{self, Table, UniqueLock};
use crate::model::{Backoff, BackoffKind, EnqueueOptions, Event, Job, Priority};
use crate::queues::{QueueChange, RateLimit};
use crate::state::MemState;
use crate::validate;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-c]{1,2}",
        "\\PC{0,40}",
        Just("\u{0}".to_owned()),
        Just("x".repeat(300)),
    ]
}

fn job_id() -> impl Strategy<Value = String> {
    prop_oneof!["j[0-5]", Just(String::new()), "\\PC{0,8}"]
}

fn queue() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ab]",
        Just(String::new()),
        Just("a\u{0}b".to_owned()),
        text()
    ]
}

fn ms() -> impl Strategy<Value = u64> {
    prop_oneof![0..100_000u64, Just(u64::MAX), any::<u64>()]
}

fn token() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![
        Just(None),
        (0..20u64).prop_map(Some),
        any::<u64>().prop_map(Some)
    ]
}

fn options() -> impl Strategy<Value = EnqueueOptions> {
    (
        0..5u32,
        prop_oneof![Just(0u32), 1..4u32, Just(u32::MAX)],
        (0..4u8, ms(), ms()),
        proptest::option::of(ms()),
        proptest::option::of(ms()),
        proptest::option::of(text()),
        ms(),
        proptest::collection::btree_map(text(), text(), 0..3),
    )
        .prop_map(
            |(
                priority,
                max_attempts,
                (kind, base_ms, cap_ms),
                scheduled,
                expire,
                unique,
                period,
                tags,
            )| {
                EnqueueOptions {
                    priority: [
                        Priority::Critical,
                        Priority::High,
                        Priority::Normal,
                        Priority::Low,
                    ][priority as usize % 4],
                    max_attempts,
                    backoff: Backoff {
                        kind: [
                            BackoffKind::None,
                            BackoffKind::Fixed,
                            BackoffKind::Linear,
                            BackoffKind::Exponential,
                        ][kind as usize],
                        base_ms,
                        cap_ms,
                    },
                    scheduled_at_ms: scheduled,
                    expire_after_ms: expire,
                    unique_key: unique,
                    unique_period_ms: period,
                    tags,
                    trace_parent: None,
                }
            },
        )
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (job_id(), queue(), text(), options()).prop_map(|(id, queue, payload, options)| {
            Command::Enqueue(Enqueue {
                id,
                queue,
                payload,
                options,
            })
        }),
        (
            proptest::collection::vec(queue(), 0..3),
            0..5u32,
            ms(),
            any::<u64>()
        )
            .prop_map(
                |(queues, count, lease_ms, bytes_max)| Command::LeaseWithin {
                    lease: Lease {
                        queues,
                        count,
                        worker_id: "w".into(),
                        hostname: "h".into(),
                        lease_ms,
                    },
                    bytes_max,
                }
            ),
        (job_id(), token(), proptest::option::of(text())).prop_map(
            |(job_id, lease_token, result)| {
                Command::Ack(Ack {
                    job_id,
                    lease_token,
                    result,
                })
            }
        ),
        (job_id(), token(), text()).prop_map(|(job_id, lease_token, error)| {
            Command::Fail(Fail {
                job_id,
                lease_token,
                error,
                backtrace: None,
            })
        }),
        proptest::collection::vec((job_id(), token(), proptest::option::of(text())), 0..3)
            .prop_map(|items| Command::Heartbeat(Heartbeat {
                items: items
                    .into_iter()
                    .map(|(job_id, lease_token, progress)| HeartbeatItem {
                        job_id,
                        lease_token,
                        progress,
                        checkpoint: None,
                    })
                    .collect(),
            })),
        job_id().prop_map(|job_id| Command::Cancel { job_id }),
        job_id().prop_map(|job_id| Command::Retry { job_id }),
        job_id().prop_map(|job_id| Command::Delete { job_id }),
        Just(Command::Tick),
        (
            text(),
            text(),
            proptest::collection::vec(text(), 0..3),
            any::<u8>(),
            proptest::option::of(ms())
        )
            .prop_map(
                |(id, name, queues, hash, expires_at_ms)| Command::CreateKey(CreateKey {
                    id,
                    name,
                    role: Role::ALL[hash as usize % 4],
                    queues,
                    expires_at_ms,
                    rate_limit_rps: Some(u32::from(hash)),
                    hash: [hash; 32],
                    only_if_first: hash % 2 == 0,
                })
            ),
        text().prop_map(|key_id| Command::RevokeKey { key_id }),
        (text(), any::<u8>(), ms()).prop_map(|(key_id, h, grace_ms)| Command::RotateKey {
            key_id,
            hash: [h; 32],
            grace_ms
        }),
        proptest::collection::vec((text(), ms()), 0..3)
            .prop_map(|used| Command::TouchKeys { used }),
        (
            queue(),
            0..5u8,
            proptest::option::of(0..4u32),
            proptest::option::of((0..4u32, ms())),
            proptest::option::of(ms())
        )
            .prop_map(|(queue, which, concurrency_max, rate, retention)| {
                Command::ConfigureQueue {
                    queue,
                    change: match which {
                        0 => QueueChange::Pause,
                        1 => QueueChange::Resume,
                        2 => QueueChange::Limits {
                            concurrency_max,
                            rate: rate.map(|(starts, window_ms)| RateLimit { starts, window_ms }),
                        },
                        3 => QueueChange::Retention {
                            retention_ms: retention,
                            dead_retention_ms: retention,
                        },
                        _ => QueueChange::Forget,
                    },
                }
            }),
        (ms(), ms()).prop_map(
            |(retention_ms, dead_retention_ms)| Command::SetRetentionDefaults {
                retention_ms,
                dead_retention_ms
            }
        ),
        (job_id(), queue()).prop_map(|(job_id, queue)| Command::Move { job_id, queue }),
        (job_id(), 0..4u8).prop_map(|(job_id, p)| Command::SetPriority {
            job_id,
            priority: [
                Priority::Critical,
                Priority::High,
                Priority::Normal,
                Priority::Low
            ][p as usize],
        }),
        job_id().prop_map(|job_id| Command::Destroy { job_id }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_command_sequence_applies_without_panic_and_keeps_the_invariants(
        batches in proptest::collection::vec(
            (proptest::collection::vec(command(), 1..6), 0..120_000u64),
            1..25,
        )
    ) {
        let mut state = MemState::new();
        let mut now = 1_700_000_000_000u64;
        for (index, (commands, step)) in batches.into_iter().enumerate() {
            now += step;
            let n = commands.len();
            let outcome = apply_batch(&mut state, &Batch { now_ms: now, commands }, index as u64 + 1)
                .expect("MemState does not fail");
            prop_assert_eq!(outcome.replies.len(), n);
            if let Err(e) = invariants(&state) {
                return Err(TestCaseError::fail(e));
            }
        }
    }

    #[test]
    fn any_bytes_decode_to_a_record_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = keys::decode::<Job>(Table::Jobs, b"k", &bytes);
        let _ = keys::decode::<Event>(Table::Events, b"k", &bytes);
        let _ = keys::decode::<ApiKey>(Table::ApiKeys, b"k", &bytes);
        let _ = keys::decode::<UniqueLock>(Table::Unique, b"k", &bytes);
        let _ = keys::decode::<Batch>(Table::Meta, b"k", &bytes);
        let _ = keys::decode_u64(Table::Meta, b"k", &bytes);
        let _ = keys::parse_timer_key(&bytes);
        let _ = keys::parse_counts_key(&bytes);
    }

    #[test]
    fn the_input_rules_take_any_text(s in "\\PC{0,64}|[{}\\[\\]\",:0-9a-z ]{0,64}") {
        let _ = validate::queue_name("queue", &s);
        let _ = validate::json_document("payload_json", &s, 32);
        let _ = validate::json_object("progress_json", &s, 1 << 20);
        let _ = validate::bounded_text("error", &s, 8);
        let _ = crate::access::check_new_key(&s, &s, std::slice::from_ref(&s));
    }
}

proptest! {
    /// `encode_job_record` writes what `encode_job` writes for the job without its payload,
    /// whatever the job holds.
    #[test]
    fn a_job_record_is_the_job_encoded_without_its_payload(
        payload in text(),
        options in options(),
        more in proptest::collection::vec(command(), 0..12),
    ) {
        // One job surely exists (its id, queue and options are valid); the other commands change it
        // and add more.
        let first = Command::Enqueue(Enqueue {
            id: "j1".into(),
            queue: "a".into(),
            payload,
            options: EnqueueOptions {
                priority: options.priority,
                tags: [("team".to_owned(), "a".to_owned())].into(),
                ..EnqueueOptions::default()
            },
        });
        let commands = std::iter::once(first).chain(more).collect();
        let mut state = MemState::new();
        let batch = Batch { now_ms: 1_700_000_000_000, commands };
        let _ = apply_batch(&mut state, &batch, 1);
        let jobs = crate::state::StateRead::range(&state, Table::Jobs, &[], &[0xff; 64], usize::MAX)
            .unwrap();
        // (Unless a later command in the batch deleted it.)
        prop_assume!(!jobs.is_empty());
        for (k, v) in jobs {
            let id = String::from_utf8_lossy(&k).into_owned();
            let job = crate::query::job(&state, &id).unwrap().unwrap();
            let without = Job { payload: String::new(), ..job.clone() };
            prop_assert_eq!(keys::encode_job_record(&job), keys::encode_job(&without));
            prop_assert_eq!(&keys::encode_job_record(&job), &v);
            // And the payload spliced back in gives the whole job's encoding.
            prop_assert_eq!(
                keys::job_record_with_payload(&k, &v, job.payload.as_bytes()).unwrap(),
                keys::encode_job(&job)
            );
        }
    }
}

proptest! {
    /// Any bytes as a record and a payload give a record or an error, never a panic.
    #[test]
    fn any_record_and_payload_bytes_splice_or_fail(
        record in proptest::collection::vec(any::<u8>(), 0..80),
        payload in proptest::collection::vec(any::<u8>(), 0..20),
    ) {
        let _ = keys::job_record_with_payload(b"k", &record, &payload);
    }
}

#[test]
fn a_stored_job_round_trips_and_a_damaged_one_is_an_error() {
    let mut w = crate::apply::testkit::World::new();
    w.enqueue("q", "{\"a\":1}", EnqueueOptions::default());
    let job = w.job("j1");
    let bytes = keys::encode_job(&job);
    assert_eq!(keys::decode_job(b"j1", &bytes).unwrap(), job);
    for cut in 0..bytes.len() {
        let _ = keys::decode_job(b"j1", &bytes[..cut]);
    }
    let e = keys::decode_job(b"j1", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(
        e.to_string().contains("corrupt record in table Jobs"),
        "{e}"
    );
}
