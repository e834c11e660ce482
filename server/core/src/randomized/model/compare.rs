//! Comparing the model with the state after a batch, and its answers with the replies.

use std::collections::{BTreeMap, BTreeSet};

use super::{Answer, MJob, MLease, Model};
use crate::apply::testkit::Snapshot;
use crate::command::{JobError, Reply};
use crate::keys::{self, TimerKind};
use crate::model::{Job, JobState};
use crate::queues::QueueConfig;
use crate::state::MemState;

impl Model {
    /// Compares the model with the state: the same jobs, each as expected, the same unique
    /// locks, purge timers, counts per queue and state, and queue settings. Then takes each
    /// job's size on the wire from the state (the model does not compute it).
    pub fn compare(&mut self, snap: &Snapshot, state: &MemState) -> Result<(), String> {
        let model_ids: Vec<&String> = self.jobs.keys().collect();
        let state_ids: Vec<&String> = snap.jobs.keys().collect();
        if model_ids != state_ids {
            let missing: Vec<_> = model_ids
                .iter()
                .filter(|id| !snap.jobs.contains_key(**id))
                .collect();
            let extra: Vec<_> = state_ids
                .iter()
                .filter(|id| !self.jobs.contains_key(**id))
                .collect();
            return Err(format!(
                "jobs differ: missing from the state {missing:?}, not in the model {extra:?}"
            ));
        }
        let mut purges: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
        for (due, kind, id) in &snap.timers {
            if *kind == TimerKind::Purge as u8 && self.jobs.contains_key(id) {
                purges.entry(id).or_default().insert(*due);
            }
        }
        for (id, job) in &snap.jobs {
            let m = &self.jobs[id];
            diff_job(id, m, job)?;
            let got = purges.remove(id.as_str()).unwrap_or_default();
            if got != m.purge_timers {
                return Err(format!(
                    "job {id}: purge timers {got:?}, expected {:?}",
                    m.purge_timers
                ));
            }
        }
        self.compare_tables(snap, state)?;
        for (id, job) in &snap.jobs {
            self.jobs.get_mut(id).expect("same ids").wire_bytes = Some(job.wire_bytes());
        }
        Ok(())
    }

    fn compare_tables(&self, snap: &Snapshot, state: &MemState) -> Result<(), String> {
        let locks: BTreeMap<Vec<u8>, (String, u64)> = self
            .locks
            .iter()
            .map(|((q, k), lock)| (keys::unique_key(q, k), lock.clone()))
            .collect();
        let got: BTreeMap<Vec<u8>, (String, u64)> = snap
            .locks
            .iter()
            .map(|(k, l)| (k.clone(), (l.job_id.clone(), l.expires_at_ms)))
            .collect();
        if locks != got {
            return Err(format!("unique locks {got:?}, expected {locks:?}"));
        }
        let mut counts: BTreeMap<(String, JobState), u64> = BTreeMap::new();
        for job in self.jobs.values() {
            *counts.entry((job.queue.clone(), job.state)).or_default() += 1;
        }
        let stored: BTreeMap<(String, JobState), u64> = crate::query::queue_counts(state)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(q, s, n)| ((q, s), n))
            .collect();
        if stored != counts {
            return Err(format!("queue counts {stored:?}, expected {counts:?}"));
        }
        let configs: Vec<(String, QueueConfig)> = self
            .queues
            .iter()
            .filter(|(_, c)| !c.is_default())
            .map(|(q, c)| (q.clone(), c.clone()))
            .collect();
        if configs != snap.queues {
            return Err(format!(
                "queue settings {:?}, expected {configs:?}",
                snap.queues
            ));
        }
        Ok(())
    }
}

/// The fields of a stored job the model knows, compared one by one.
pub(super) fn diff_job(id: &str, m: &MJob, job: &Job) -> Result<(), String> {
    fn same<T: PartialEq + std::fmt::Debug>(
        id: &str,
        field: &str,
        want: T,
        got: T,
    ) -> Result<(), String> {
        if want == got {
            return Ok(());
        }
        Err(format!("job {id}: {field} is {got:?}, expected {want:?}"))
    }
    let lease = job.lease.as_ref().map(|l| MLease {
        token: l.token,
        worker: l.worker_id.clone(),
        deadline: l.deadline_ms,
        duration: l.duration_ms,
    });
    same(id, "queue", &m.queue, &job.queue)?;
    same(id, "state", m.state, job.state)?;
    same(id, "attempt", m.attempt, job.attempt)?;
    same(id, "max_attempts", m.max_attempts, job.max_attempts)?;
    same(id, "priority", m.priority, job.priority)?;
    same(id, "seq", m.seq, job.seq)?;
    same(id, "scheduled_at", m.scheduled_at, job.scheduled_at_ms)?;
    same(id, "expire_at", m.expire_at, job.expire_at_ms)?;
    same(
        id,
        "next_attempt_at",
        m.next_attempt_at,
        job.next_attempt_at_ms,
    )?;
    same(id, "lease", &m.lease, &lease)?;
    same(id, "started_at", m.started_at, job.started_at_ms)?;
    same(id, "finished_at", m.finished_at, job.finished_at_ms)?;
    same(id, "unique_key", &m.unique_key, &job.unique_key)?;
    same(id, "last_error", &m.last_error, &job.last_error)?;
    same(id, "backoff", m.backoff, job.backoff)
}

/// The same answer, where errors are compared by kind, job and field (not their wording) and
/// a tick by having fired (not how many timers).
pub(super) fn same_answer(expected: &Answer, got: &Answer) -> Result<(), String> {
    let same = match (expected, got) {
        (Ok(Reply::Ticked { .. }), Ok(Reply::Ticked { .. })) => true,
        (
            Err(JobError::InvalidState { job_id, state, .. }),
            Err(JobError::InvalidState {
                job_id: j,
                state: s,
                ..
            }),
        ) => job_id == j && state == s,
        (
            Err(JobError::InvalidArgument { field, .. }),
            Err(JobError::InvalidArgument { field: f, .. }),
        ) => field == f,
        (e, g) => e == g,
    };
    if same {
        Ok(())
    } else {
        Err(format!("answered {got:?}, expected {expected:?}"))
    }
}
