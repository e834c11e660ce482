//! A small driver for state machine tests: one `MemState`, a manual clock, one batch per call.

use crate::apply::apply_batch;
use crate::command::*;
use crate::keys::{self, Table};
use crate::model::{EnqueueOptions, Job, JobState};
use crate::state::{MemState, StateRead};

/// (job id, lease token, progress, checkpoint) of one heartbeat item.
pub type Beat<'a> = (&'a str, Option<u64>, Option<&'a str>, Option<&'a str>);

pub struct World {
    pub state: MemState,
    pub now: u64,
    pub index: u64,
    pub last: BatchOutcome,
    next_id: u64,
}

impl World {
    pub fn new() -> Self {
        World {
            state: MemState::new(),
            now: 1_700_000_000_000,
            index: 0,
            last: BatchOutcome::default(),
            next_id: 0,
        }
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    pub fn run(&mut self, cmd: Command) -> Result<Reply, JobError> {
        self.index += 1;
        let batch = Batch {
            now_ms: self.now,
            commands: vec![cmd],
        };
        let outcome = apply_batch(&mut self.state, &batch, self.index).expect("storage");
        self.last = outcome;
        self.last.replies[0].clone()
    }

    /// Applies several commands as one log entry; returns their replies.
    pub fn run_batch(&mut self, commands: Vec<Command>) -> Vec<Result<Reply, JobError>> {
        self.index += 1;
        let batch = Batch {
            now_ms: self.now,
            commands,
        };
        self.last = apply_batch(&mut self.state, &batch, self.index).expect("storage");
        self.last.replies.clone()
    }

    pub fn try_enqueue(
        &mut self,
        queue: &str,
        payload: &str,
        options: EnqueueOptions,
    ) -> Result<Reply, JobError> {
        self.next_id += 1;
        let id = format!("j{}", self.next_id);
        self.run(Command::Enqueue(Enqueue {
            id,
            queue: queue.into(),
            payload: payload.into(),
            options,
        }))
    }

    pub fn enqueue(&mut self, queue: &str, payload: &str, options: EnqueueOptions) -> Reply {
        self.try_enqueue(queue, payload, options).expect("enqueue")
    }

    pub fn enqueue_with_id(
        &mut self,
        id: &str,
        queue: &str,
        payload: &str,
        options: EnqueueOptions,
    ) -> Reply {
        self.run(Command::Enqueue(Enqueue {
            id: id.into(),
            queue: queue.into(),
            payload: payload.into(),
            options,
        }))
        .expect("enqueue")
    }

    pub fn lease(&mut self, queues: &[&str], count: u32, lease_ms: u64) -> Vec<Job> {
        let cmd = Lease {
            queues: queues.iter().map(|q| q.to_string()).collect(),
            count,
            worker_id: "w1".into(),
            hostname: "h1".into(),
            lease_ms,
        };
        match self.run(Command::Lease(cmd)).expect("lease") {
            Reply::Leased(jobs) => jobs,
            other => panic!("unexpected {other:?}"),
        }
    }

    pub fn ack(
        &mut self,
        id: &str,
        token: Option<u64>,
        result: Option<&str>,
    ) -> Result<Reply, JobError> {
        self.run(Command::Ack(Ack {
            job_id: id.into(),
            lease_token: token,
            result: result.map(Into::into),
        }))
    }

    pub fn fail(&mut self, id: &str, token: Option<u64>, error: &str) -> Result<Reply, JobError> {
        self.run(Command::Fail(Fail {
            job_id: id.into(),
            lease_token: token,
            error: error.into(),
            backtrace: None,
        }))
    }

    pub fn heartbeat(&mut self, items: &[Beat<'_>]) -> Vec<HeartbeatReply> {
        let items = items
            .iter()
            .map(|(id, token, progress, checkpoint)| HeartbeatItem {
                job_id: id.to_string(),
                lease_token: *token,
                progress: progress.map(Into::into),
                checkpoint: checkpoint.map(Into::into),
            })
            .collect();
        match self
            .run(Command::Heartbeat(Heartbeat { items }))
            .expect("heartbeat")
        {
            Reply::Heartbeat(r) => r,
            other => panic!("unexpected {other:?}"),
        }
    }

    pub fn cancel(&mut self, id: &str) -> Result<Reply, JobError> {
        self.run(Command::Cancel { job_id: id.into() })
    }

    pub fn retry(&mut self, id: &str) -> Result<Reply, JobError> {
        self.run(Command::Retry { job_id: id.into() })
    }

    pub fn delete(&mut self, id: &str) -> Result<Reply, JobError> {
        self.run(Command::Delete { job_id: id.into() })
    }

    pub fn tick(&mut self) {
        self.run(Command::Tick).expect("tick");
    }

    /// The job, if it (still) exists.
    pub fn try_job(&self, id: &str) -> Option<Job> {
        crate::query::job(&self.state, id).expect("storage")
    }

    pub fn job(&self, id: &str) -> Job {
        crate::query::job(&self.state, id)
            .expect("storage")
            .expect("job exists")
    }

    pub fn ready_ids(&self, queue: &str) -> Vec<String> {
        let prefix = keys::queue_prefix(queue);
        self.state
            .range(
                Table::Ready,
                &prefix,
                &keys::prefix_end(&prefix),
                usize::MAX,
            )
            .expect("storage")
            .into_iter()
            .map(|(_, v)| String::from_utf8(v).expect("utf8"))
            .collect()
    }

    pub fn event_kinds(&self) -> Vec<String> {
        crate::query::events_after(&self.state, 0, usize::MAX)
            .expect("storage")
            .into_iter()
            .map(|e| e.kind.as_str().to_string())
            .collect()
    }

    /// Invariants that hold after every batch: every index entry points at a job in the
    /// matching state, and every waiting or active job is indexed exactly where it should be.
    pub fn check_invariants(&self) {
        crate::query::check_invariants(&self.state).expect("invariants hold");
        let jobs = self
            .state
            .range(Table::Jobs, &[], &[0xff], usize::MAX)
            .expect("storage");
        for (k, v) in jobs {
            let job = keys::decode_job(&k, &v).expect("decodes");
            if job.state == JobState::Active {
                assert!(job.lease.is_some(), "active job {} has a lease", job.id);
            } else {
                assert!(
                    job.lease.is_none(),
                    "{} job {} has no lease",
                    job.state.as_str(),
                    job.id
                );
            }
        }
    }
}
