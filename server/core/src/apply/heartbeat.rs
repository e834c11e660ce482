//! Heartbeat: extend leases, store progress and checkpoints, tell workers what to stop.

use super::{CmdResult, Ctx, details};
use crate::command::{Heartbeat, HeartbeatItem, HeartbeatReply, Reply, StopReason};
use crate::keys::TimerKind;
use crate::model::{EventKind, Job, JobState};
use crate::state::{StateTxn, StoreError};

pub(super) fn heartbeat<T: StateTxn>(ctx: &mut Ctx<'_, T>, cmd: &Heartbeat) -> CmdResult {
    let mut replies = Vec::with_capacity(cmd.items.len());
    for item in &cmd.items {
        replies.push(one(ctx, item)?);
    }
    Ok(Ok(Reply::Heartbeat(replies)))
}

/// Why a worker holding `token` on `job` must stop, or `None` when its lease is current.
pub(crate) fn stop_reason(job: &Job, token: Option<u64>) -> Option<StopReason> {
    match job.state {
        JobState::Active => match (token, &job.lease) {
            (None, _) => None,
            (Some(t), Some(lease)) if lease.token == t => None,
            (Some(_), _) => Some(StopReason::StaleLease),
        },
        JobState::Cancelled => Some(StopReason::Cancelled),
        JobState::Completed | JobState::Dead => Some(StopReason::Finished),
        JobState::Pending | JobState::Scheduled | JobState::Retrying | JobState::Held => {
            Some(StopReason::Reassigned)
        }
    }
}

fn one<T: StateTxn>(
    ctx: &mut Ctx<'_, T>,
    item: &HeartbeatItem,
) -> Result<HeartbeatReply, StoreError> {
    let Some(mut job) = ctx.load_job(&item.job_id)? else {
        return Ok(HeartbeatReply::Stop(StopReason::NotFound));
    };
    if let Some(reason) = stop_reason(&job, item.lease_token) {
        return Ok(HeartbeatReply::Stop(reason));
    }
    let Some(lease) = job.lease.as_mut() else {
        return Ok(HeartbeatReply::Stop(StopReason::Reassigned));
    };
    let old_deadline = lease.deadline_ms;
    let deadline_ms = ctx.now.saturating_add(lease.duration_ms).max(old_deadline);
    lease.deadline_ms = deadline_ms;
    ctx.clear_timer(old_deadline, TimerKind::LeaseExpiry, &job.id)?;
    ctx.set_timer(deadline_ms, TimerKind::LeaseExpiry, &job.id)?;
    if item.checkpoint.is_some() {
        job.checkpoint = item.checkpoint.clone();
    }
    let progressed = item.progress.is_some();
    if progressed {
        job.progress = item.progress.clone();
    }
    ctx.save_job(&job)?;
    if progressed {
        let progress = job.progress.clone().unwrap_or_default();
        let value = serde_json::from_str(&progress).unwrap_or(serde_json::Value::Null);
        ctx.event(
            EventKind::Progress,
            &job,
            details(&[("progress", (&value).into())]),
        )?;
    }
    Ok(HeartbeatReply::Extended { deadline_ms })
}

#[cfg(test)]
mod tests {
    use crate::apply::testkit::*;
    use crate::command::{HeartbeatReply, StopReason};
    use crate::model::EnqueueOptions;

    #[test]
    fn heartbeat_extends_by_the_lease_duration_and_keeps_progress() {
        let mut w = World::new();
        w.enqueue("q", "{}", EnqueueOptions::default());
        let token = w.lease(&["q"], 1, 10_000)[0].lease.as_ref().unwrap().token;
        w.advance(4_000);
        let r = w.heartbeat(&[(
            "j1",
            Some(token),
            Some("{\"pct\":50}"),
            Some("{\"page\":3}"),
        )]);
        assert_eq!(
            r,
            vec![HeartbeatReply::Extended {
                deadline_ms: w.now + 10_000
            }]
        );
        let j = w.job("j1");
        assert_eq!(j.progress.as_deref(), Some("{\"pct\":50}"));
        assert_eq!(j.checkpoint.as_deref(), Some("{\"page\":3}"));
        // The old deadline passed without reclaiming the job.
        w.advance(7_000);
        w.tick();
        assert_eq!(j.state, w.job("j1").state);
    }

    #[test]
    fn heartbeat_answers_each_job_on_its_own() {
        let mut w = World::new();
        for _ in 0..3 {
            w.enqueue("q", "{}", EnqueueOptions::default());
        }
        let leased = w.lease(&["q"], 3, 10_000);
        let t = |i: usize| leased[i].lease.as_ref().unwrap().token;
        w.cancel("j1").unwrap();
        w.ack("j2", Some(t(1)), None).unwrap();
        let r = w.heartbeat(&[
            ("j1", Some(t(0)), None, None),
            ("j2", Some(t(1)), None, None),
            ("j3", Some(t(2)), None, None),
            ("j9", Some(1), None, None),
            ("j3", Some(t(0)), None, None),
        ]);
        assert_eq!(r[0], HeartbeatReply::Stop(StopReason::Cancelled));
        assert_eq!(r[1], HeartbeatReply::Stop(StopReason::Finished));
        assert!(matches!(r[2], HeartbeatReply::Extended { .. }));
        assert_eq!(r[3], HeartbeatReply::Stop(StopReason::NotFound));
        assert_eq!(r[4], HeartbeatReply::Stop(StopReason::StaleLease));
    }
}
