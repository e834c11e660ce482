//! The event log: every transition appends an event; the oldest go when the log holds more
//! than [`EVENTS_RETAINED_MAX`] events or more than [`EVENTS_BYTES_MAX`] bytes.
//!
//! Bytes are counted without reading old events back: `Meta` holds the bytes written since
//! the start, and an event leaves a mark (its seq → the bytes written up to it) in `EventMarks`
//! every [`MARK_EVERY`] events or [`MARK_BYTES`] bytes, whichever comes first. The bytes after
//! a mark are the total minus the mark's, so trimming by bytes walks marks from the oldest, a
//! few per batch, and drops whole runs of events: the log holds at most `EVENTS_BYTES_MAX` plus
//! one mark's run (at most `MARK_BYTES` and one event).

use super::Ctx;
use crate::keys::{self, Table, meta};
use crate::model::{EventKind, Job};
use crate::state::{StateTxn, StoreError};
use serde::Serialize;

/// How many events the log keeps; older ones are dropped as new ones arrive. 100k events
/// cover minutes of peak traffic for a `Subscribe` client to reconnect and resume.
pub const EVENTS_RETAINED_MAX: u64 = 100_000;
/// How many bytes of events the log keeps (128 MiB): events carrying large progress documents
/// or error texts push out old ones sooner.
pub const EVENTS_BYTES_MAX: u64 = 128 << 20;
/// Every this many events, or this many bytes, a mark records the bytes written so far.
pub const MARK_EVERY: u64 = 256;
pub const MARK_BYTES: u64 = 1 << 20;
/// Marks passed per batch when trimming by bytes (so one batch never walks the whole log).
const MARKS_PER_BATCH_MAX: usize = 64;

/// An [`Event`](crate::model::Event) as [`Ctx::event`] stores it, borrowing the job's id and
/// queue instead of copying them: the same fields in the same order, so it encodes to the same
/// bytes (postcard writes a `&str` as it writes a `String`) and reads back as an `Event`.
#[derive(Serialize)]
struct EventRecord<'a> {
    seq: u64,
    kind: EventKind,
    job_id: &'a str,
    queue: &'a str,
    at_ms: u64,
    data: &'a str,
}

impl<T: StateTxn> Ctx<'_, T> {
    /// Appends to the event log (the oldest events past the bounds go at the end of the
    /// batch) and counts the event in its queue's activity.
    pub fn event(&mut self, kind: EventKind, job: &Job, data: String) -> Result<(), StoreError> {
        let seq = self.next_counter(meta::EVENT_SEQ)?;
        let value = keys::encode(&EventRecord {
            seq,
            kind,
            job_id: &job.id,
            queue: &job.queue,
            at_ms: self.now,
            data: &data,
        });
        let written = self.add_counter(meta::EVENT_BYTES, value.len() as u64)?;
        self.txn.put(Table::Events, &keys::event_key(seq), &value)?;
        let last_mark = self.counter(meta::EVENT_MARK_BYTES)?;
        if seq.is_multiple_of(MARK_EVERY) || written.saturating_sub(last_mark) >= MARK_BYTES {
            self.txn.put(
                Table::EventMarks,
                &keys::event_key(seq),
                &written.to_be_bytes(),
            )?;
            self.set_counter(meta::EVENT_MARK_BYTES, written)?;
        }
        if seq > EVENTS_RETAINED_MAX {
            let dropped = seq - EVENTS_RETAINED_MAX;
            let first = self.events_dropped.map_or(dropped, |(first, _)| first);
            self.events_dropped = Some((first, dropped));
        }
        self.last_event_seq = Some(seq);
        self.note_event(kind, &job.queue);
        Ok(())
    }

    /// Deletes the events this batch pushed past the count bound, in one range, then trims by
    /// bytes.
    pub(super) fn drop_old_events(&mut self) -> Result<(), StoreError> {
        if let Some((first, last)) = self.events_dropped.take() {
            let end = keys::event_key(last + 1);
            self.txn
                .delete_range(Table::Events, &keys::event_key(first), &end)?;
            self.txn
                .delete_range(Table::EventMarks, &keys::event_key(0), &end)?;
        }
        self.trim_by_bytes()
    }

    /// While the events after the oldest mark still exceed the byte bound, everything up to
    /// that mark goes.
    fn trim_by_bytes(&mut self) -> Result<(), StoreError> {
        let written = self.counter(meta::EVENT_BYTES)?;
        // Most batches: the oldest mark is within the bound, and one row read says so.
        let within = |at: u64| written.saturating_sub(at) <= EVENTS_BYTES_MAX;
        let oldest = self.txn.first(
            Table::EventMarks,
            &keys::event_key(0),
            &keys::event_key(u64::MAX),
        )?;
        match oldest {
            None => return Ok(()),
            Some((key, value)) if within(keys::decode_u64(Table::EventMarks, &key, &value)?) => {
                return Ok(());
            }
            Some(_) => {}
        }
        let marks = self.txn.range(
            Table::EventMarks,
            &keys::event_key(0),
            &keys::event_key(u64::MAX),
            MARKS_PER_BATCH_MAX,
        )?;
        let mut drop_through = None;
        for (key, value) in marks {
            let at = keys::decode_u64(Table::EventMarks, &key, &value)?;
            if within(at) {
                break;
            }
            drop_through = Some(keys::decode_u64(Table::EventMarks, &key, &key)?);
        }
        if let Some(seq) = drop_through {
            let end = keys::event_key(seq + 1);
            self.txn
                .delete_range(Table::Events, &keys::event_key(0), &end)?;
            self.txn
                .delete_range(Table::EventMarks, &keys::event_key(0), &end)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::command::{Batch, Command, Enqueue};
    use crate::keys::{Table, event_key};
    use crate::state::{MemState, StateRead};

    /// What `Ctx::event` stores reads back as the `Event` it stands for, byte for byte.
    #[test]
    fn an_event_record_encodes_as_the_event() {
        use super::EventRecord;
        use crate::keys;
        use crate::model::{Event, EventKind};
        let event = Event {
            seq: 300,
            kind: EventKind::Started,
            job_id: "01JOB".into(),
            queue: "emails ✓".into(),
            at_ms: u64::MAX - 1,
            data: r#"{"attempt":2}"#.into(),
        };
        let record = keys::encode(&EventRecord {
            seq: event.seq,
            kind: event.kind,
            job_id: &event.job_id,
            queue: &event.queue,
            at_ms: event.at_ms,
            data: &event.data,
        });
        assert_eq!(record, keys::encode(&event));
        let back: Event = keys::decode(Table::Events, &event_key(300), &record).unwrap();
        assert_eq!(back, event);
    }

    fn enqueue(n: u64, payload_bytes: usize) -> Command {
        Command::Enqueue(Enqueue {
            id: format!("j{n:07}"),
            queue: "q".into(),
            payload: format!("\"{}\"", "x".repeat(payload_bytes)),
            options: Default::default(),
        })
    }

    #[test]
    fn the_event_log_keeps_exactly_the_newest_events_across_batches() {
        let mut state = MemState::new();
        let total = super::EVENTS_RETAINED_MAX + 2_500;
        let mut n = 0u64;
        // Uneven batches, so the dropped ranges start and end anywhere.
        for (i, size) in [700u64, 1, 1_300].iter().cycle().enumerate() {
            if n >= total {
                break;
            }
            let commands = (0..(*size).min(total - n))
                .map(|_| {
                    n += 1;
                    enqueue(n, 2)
                })
                .collect();
            let batch = Batch {
                now_ms: 1,
                commands,
            };
            crate::apply::apply_batch(&mut state, &batch, i as u64 + 1).unwrap();
        }
        assert_eq!(
            state.len(Table::Events),
            super::EVENTS_RETAINED_MAX as usize
        );
        let first = state
            .first(Table::Events, &event_key(0), &event_key(u64::MAX))
            .unwrap()
            .unwrap();
        assert_eq!(first.0, event_key(total - super::EVENTS_RETAINED_MAX + 1));
        // Marks below the oldest event are gone with it.
        let mark = state
            .first(Table::EventMarks, &event_key(0), &event_key(u64::MAX))
            .unwrap()
            .unwrap();
        assert!(mark.0 >= first.0);
    }

    #[test]
    fn large_events_are_bounded_by_bytes_before_count() {
        use crate::command::{Fail, Lease};
        use crate::model::EnqueueOptions;
        let mut w = crate::apply::testkit::World::new();
        let error = "e".repeat(128 << 10);
        // 700 jobs failing for good: a Failed and a Dead event of 128 KiB each, 175 MiB.
        let jobs = 700;
        for n in 0..jobs {
            w.run_batch(vec![Command::Enqueue(Enqueue {
                id: format!("j{n:05}"),
                queue: "q".into(),
                payload: "{}".into(),
                options: EnqueueOptions {
                    max_attempts: 1,
                    ..Default::default()
                },
            })]);
        }
        for chunk in 0..jobs / 100 {
            w.run(Command::Lease(Lease {
                queues: vec!["q".into()],
                count: 100,
                worker_id: "w".into(),
                hostname: "h".into(),
                lease_ms: 60_000,
            }))
            .unwrap();
            let fails = (chunk * 100..chunk * 100 + 100)
                .map(|n| {
                    Command::Fail(Fail {
                        job_id: format!("j{n:05}"),
                        lease_token: None,
                        error: error.clone(),
                        backtrace: None,
                    })
                })
                .collect();
            w.run_batch(fails);
        }
        let retained: u64 = w
            .state
            .range(
                Table::Events,
                &event_key(0),
                &event_key(u64::MAX),
                usize::MAX,
            )
            .unwrap()
            .iter()
            .map(|(_, v)| v.len() as u64)
            .sum();
        let count = w.state.len(Table::Events) as u64;
        assert!(
            count < super::EVENTS_RETAINED_MAX,
            "the byte bound applied first"
        );
        assert!(
            retained <= super::EVENTS_BYTES_MAX + super::MARK_BYTES + (200 << 10),
            "{retained} bytes retained"
        );
        assert!(
            retained > super::EVENTS_BYTES_MAX / 2,
            "{retained} bytes retained"
        );
        // The newest event is kept.
        let last = w
            .state
            .range(
                Table::Events,
                &event_key(0),
                &event_key(u64::MAX),
                usize::MAX,
            )
            .unwrap()
            .last()
            .map(|(k, _)| k.clone())
            .unwrap();
        assert_eq!(last, event_key(w.last.last_event_seq).to_vec());
    }
}
