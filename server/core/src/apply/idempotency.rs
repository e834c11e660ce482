//! Idempotency keys: an enqueue that carries the client's key answers, for as long as the key
//! holds, the job the first call with that key created (see `docs/adr/0030-idempotency-keys.md`).
//!
//! A key is scoped to its queue. It holds for the command's `window_ms`, and the keys held
//! are bounded in count ([`IDEMPOTENCY_KEYS_MAX`]) and bytes ([`IDEMPOTENCY_BYTES_MAX`]): past
//! either bound the keys nearest their end are forgotten first. Expired keys are removed a few
//! at a time by later keyed enqueues ([`SWEEP_PER_ENQUEUE`]), so the tables need no timer.

use super::{CmdResult, Ctx, enqueue};
use crate::command::{EnqueueKeyed, Reply};
use crate::keys::{self, IdempotencyRecord, Table, meta};
use crate::state::{StateTxn, StoreError};
use crate::validate;

/// Keys held at most: past it the keys nearest their end are forgotten first.
pub const IDEMPOTENCY_KEYS_MAX: u64 = 1_000_000;
/// Bytes of keys held at most (keys and values of both tables): 64 MiB.
pub const IDEMPOTENCY_BYTES_MAX: u64 = 64 << 20;
/// An idempotency key's length.
pub const IDEMPOTENCY_KEY_BYTES_MAX: usize = 255;
/// Expired keys each keyed enqueue removes at most (more than one, so the removal keeps ahead
/// of the keys added).
const SWEEP_PER_ENQUEUE: usize = 4;

pub(super) fn enqueue_keyed<T: StateTxn>(ctx: &mut Ctx<'_, T>, cmd: &EnqueueKeyed) -> CmdResult {
    if cmd.key.is_empty() {
        return Ok(Err(validate::invalid(
            "options.idempotency_key",
            "must not be empty",
        )));
    }
    if cmd.key.len() > IDEMPOTENCY_KEY_BYTES_MAX {
        return Ok(Err(validate::invalid(
            "options.idempotency_key",
            format!(
                "is {} bytes, at most {IDEMPOTENCY_KEY_BYTES_MAX} allowed",
                cmd.key.len()
            ),
        )));
    }
    let e = &cmd.enqueue;
    let lookup = keys::idempotency_key(&e.queue, &cmd.key);
    let payload_crc = crc32fast::hash(e.payload.as_bytes());
    if let Some(bytes) = ctx.txn.get(Table::Idempotency, &lookup)? {
        let record: IdempotencyRecord = keys::decode(Table::Idempotency, &lookup, &bytes)?;
        if record.expires_at_ms > ctx.now {
            if record.payload_crc != payload_crc {
                return Ok(Err(validate::invalid(
                    "options.idempotency_key",
                    format!(
                        "{:?} was first used on queue {} with a different payload (job {}); \
                         a retry must send the same payload, a new job a new key",
                        cmd.key, e.queue, record.job_id
                    ),
                )));
            }
            let state = ctx.load_job(&record.job_id)?.map(|j| j.state);
            return Ok(Ok(Reply::Replayed {
                job_id: record.job_id,
                state,
            }));
        }
        forget(ctx, &lookup, &record, bytes.len())?;
    }
    let reply = enqueue::enqueue(ctx, e)?;
    let Ok(Reply::Enqueued { job_id, .. }) = &reply else {
        return Ok(reply);
    };
    let record = IdempotencyRecord {
        job_id: job_id.clone(),
        expires_at_ms: ctx.now.saturating_add(cmd.window_ms),
        payload_crc,
    };
    let value = keys::encode(&record);
    let order = keys::idempotency_order_key(record.expires_at_ms, &lookup);
    ctx.txn.put(Table::Idempotency, &lookup, &value)?;
    ctx.txn.put(Table::IdempotencyOrder, &order, &[])?;
    ctx.add_counter(meta::IDEMPOTENCY_KEYS, 1)?;
    ctx.add_counter(
        meta::IDEMPOTENCY_BYTES,
        keys::idempotency_held_bytes(&lookup, value.len()),
    )?;
    let from = ctx.counter(meta::IDEMPOTENCY_EXPIRES_FROM)?;
    ctx.set_counter(
        meta::IDEMPOTENCY_EXPIRES_FROM,
        from.min(record.expires_at_ms),
    )?;
    sweep(ctx)?;
    Ok(reply)
}

fn forget<T: StateTxn>(
    ctx: &mut Ctx<'_, T>,
    lookup: &[u8],
    record: &IdempotencyRecord,
    value_len: usize,
) -> Result<(), StoreError> {
    ctx.txn.delete(Table::Idempotency, lookup)?;
    ctx.txn.delete(
        Table::IdempotencyOrder,
        &keys::idempotency_order_key(record.expires_at_ms, lookup),
    )?;
    let count = ctx.counter(meta::IDEMPOTENCY_KEYS)?;
    ctx.set_counter(meta::IDEMPOTENCY_KEYS, count.saturating_sub(1))?;
    let bytes = ctx.counter(meta::IDEMPOTENCY_BYTES)?;
    ctx.set_counter(
        meta::IDEMPOTENCY_BYTES,
        bytes.saturating_sub(keys::idempotency_held_bytes(lookup, value_len)),
    )?;
    Ok(())
}

/// Removes up to [`SWEEP_PER_ENQUEUE`] expired keys, then the keys nearest their end while
/// the bounds are exceeded. Looks at the order only when a key may have expired (the
/// `IDEMPOTENCY_EXPIRES_FROM` bound has passed) or a bound is exceeded, and moves that bound
/// up to the first key it leaves: with a long window, most keyed enqueues read nothing here.
fn sweep<T: StateTxn>(ctx: &mut Ctx<'_, T>) -> Result<(), StoreError> {
    let mut swept = 0;
    loop {
        let over = ctx.counter(meta::IDEMPOTENCY_KEYS)? > IDEMPOTENCY_KEYS_MAX
            || ctx.counter(meta::IDEMPOTENCY_BYTES)? > IDEMPOTENCY_BYTES_MAX;
        if !over && ctx.counter(meta::IDEMPOTENCY_EXPIRES_FROM)? > ctx.now {
            return Ok(());
        }
        let Some((order, _)) = ctx.txn.first(Table::IdempotencyOrder, &[], &[0xff; 9])? else {
            ctx.set_counter(meta::IDEMPOTENCY_EXPIRES_FROM, u64::MAX)?;
            return Ok(());
        };
        let expires_at_ms = order
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| StoreError::Corrupt {
                table: Table::IdempotencyOrder,
                key: order.clone(),
                reason: "shorter than its 8-byte expiry".into(),
            })?;
        let expired = expires_at_ms <= ctx.now && swept < SWEEP_PER_ENQUEUE;
        if !(over || expired) {
            ctx.set_counter(meta::IDEMPOTENCY_EXPIRES_FROM, expires_at_ms)?;
            return Ok(());
        }
        let lookup = &order[8..];
        match ctx.txn.get(Table::Idempotency, lookup)? {
            Some(bytes) => {
                let record: IdempotencyRecord = keys::decode(Table::Idempotency, lookup, &bytes)?;
                forget(ctx, lookup, &record, bytes.len())?;
            }
            None => {
                return Err(StoreError::Corrupt {
                    table: Table::IdempotencyOrder,
                    key: order.clone(),
                    reason: "names an idempotency key that is not held".into(),
                });
            }
        }
        swept += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::testkit::*;
    use crate::command::{Command, Enqueue, JobError};
    use crate::model::{EnqueueOptions, JobState};

    fn keyed(id: &str, key: &str, payload: &str, window_ms: u64) -> Command {
        Command::EnqueueKeyed(EnqueueKeyed {
            enqueue: Enqueue {
                id: id.into(),
                queue: "q".into(),
                payload: payload.into(),
                options: EnqueueOptions::default(),
            },
            key: key.into(),
            window_ms,
        })
    }

    #[test]
    fn the_same_key_answers_the_first_job_and_creates_nothing() {
        let mut w = World::new();
        let first = w.run(keyed("j1", "k", "{}", 60_000));
        assert!(matches!(first, Ok(Reply::Enqueued { ref job_id, .. }) if job_id == "j1"));
        w.advance(1_000);
        let again = w.run(keyed("j2", "k", "{}", 60_000));
        assert_eq!(
            again,
            Ok(Reply::Replayed {
                job_id: "j1".into(),
                state: Some(JobState::Pending)
            })
        );
        assert!(w.try_job("j2").is_none(), "the retry created nothing");
        assert_eq!(w.state.len(Table::Jobs), 1);
        // Another queue's key of the same text is another key.
        let other = w.run(Command::EnqueueKeyed(EnqueueKeyed {
            enqueue: Enqueue {
                id: "j3".into(),
                queue: "other".into(),
                payload: "{}".into(),
                options: EnqueueOptions::default(),
            },
            key: "k".into(),
            window_ms: 60_000,
        }));
        assert!(matches!(other, Ok(Reply::Enqueued { ref job_id, .. }) if job_id == "j3"));
    }

    #[test]
    fn a_different_payload_under_the_same_key_is_refused_and_changes_nothing() {
        let mut w = World::new();
        w.run(keyed("j1", "k", r#"{"a":1}"#, 60_000)).unwrap();
        let before = w.state.clone();
        match w.run(keyed("j2", "k", r#"{"a":2}"#, 60_000)) {
            Err(JobError::InvalidArgument { field, reason }) => {
                assert_eq!(field, "options.idempotency_key");
                assert!(reason.contains("different payload") && reason.contains("j1"));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(w.state, before);
    }

    #[test]
    fn a_key_past_its_window_creates_a_new_job_and_a_gone_job_replays_without_state() {
        let mut w = World::new();
        w.run(keyed("j1", "k", "{}", 1_000)).unwrap();
        w.run(Command::Delete {
            job_id: "j1".into(),
        })
        .unwrap();
        assert_eq!(
            w.run(keyed("j2", "k", "{}", 1_000)),
            Ok(Reply::Replayed {
                job_id: "j1".into(),
                state: None
            })
        );
        w.advance(1_000);
        let after = w.run(keyed("j3", "k", "{}", 1_000));
        assert!(matches!(after, Ok(Reply::Enqueued { ref job_id, .. }) if job_id == "j3"));
        assert_eq!(w.state.len(Table::Idempotency), 1);
        assert_eq!(w.state.len(Table::IdempotencyOrder), 1);
    }

    #[test]
    fn expired_keys_are_swept_by_later_keyed_enqueues() {
        let mut w = World::new();
        for i in 0..6 {
            w.run(keyed(&format!("a{i}"), &format!("k{i}"), "{}", 1_000))
                .unwrap();
        }
        w.advance(2_000);
        w.run(keyed("b0", "fresh", "{}", 1_000)).unwrap();
        // The new key, plus the expired ones the sweep has not reached yet.
        assert_eq!(
            w.state.len(Table::Idempotency),
            1 + 6 - SWEEP_PER_ENQUEUE,
            "one enqueue sweeps {SWEEP_PER_ENQUEUE}"
        );
        w.run(keyed("b1", "fresh2", "{}", 1_000)).unwrap();
        assert_eq!(w.state.len(Table::Idempotency), 2);
    }

    #[test]
    fn an_empty_or_oversize_key_is_refused() {
        let mut w = World::new();
        for key in [String::new(), "x".repeat(IDEMPOTENCY_KEY_BYTES_MAX + 1)] {
            assert!(matches!(
                w.run(keyed("j1", &key, "{}", 1_000)),
                Err(JobError::InvalidArgument { .. })
            ));
        }
        assert_eq!(w.state.len(Table::Jobs), 0);
        assert_eq!(w.state.len(Table::Idempotency), 0);
    }
}
