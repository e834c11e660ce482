//! Bulk operations as replicated records: started by the leader's API, advanced batch by
//! batch by its operation runner (which resumes them after a leader change), readable on
//! every node.

use super::{CmdResult, Ctx};
use crate::command::{JobError, OperationProgress, Reply};
use crate::keys::{self, Table};
use crate::queues::{BulkAction, OPERATIONS_KEPT_MAX, Operation, OperationState, QueueChange};
use crate::state::{StateTxn, StoreError};
use crate::validate::{self, invalid};

pub(super) fn start<T: StateTxn>(ctx: &mut Ctx<'_, T>, op: &Operation) -> CmdResult {
    if let Err(e) = check(op) {
        return Ok(Err(e));
    }
    if ctx.txn.get(Table::Operations, op.id.as_bytes())?.is_some() {
        return Ok(Err(invalid(
            "id",
            format!("operation {} already exists", op.id),
        )));
    }
    // The counts and cursor are the caller's: a bulk action that did its first page within
    // the call starts the operation where that page ended.
    let op = Operation {
        state: OperationState::Running,
        created_at_ms: ctx.now,
        updated_at_ms: ctx.now,
        error: None,
        ..op.clone()
    };
    save(ctx, &op)?;
    forget_old(ctx)?;
    Ok(Ok(Reply::Operation(op)))
}

pub(super) fn advance<T: StateTxn>(ctx: &mut Ctx<'_, T>, p: &OperationProgress) -> CmdResult {
    let Some(mut op) = load(ctx, &p.id)? else {
        return Ok(Err(JobError::OperationNotFound { id: p.id.clone() }));
    };
    if op.state != OperationState::Running {
        // Finished already (a runner that lost the race): nothing changes.
        return Ok(Ok(Reply::Operation(op)));
    }
    op.examined = p.examined;
    op.succeeded = p.succeeded;
    op.cursor = p.cursor;
    op.updated_at_ms = ctx.now;
    if p.finished {
        op.state = if p.error.is_some() {
            OperationState::Failed
        } else {
            OperationState::Done
        };
        op.error = p.error.clone();
        if let (Some(queue), OperationState::Done) = (&op.forget_queue, op.state) {
            super::queues::configure(ctx, queue, &QueueChange::Forget)?.ok();
        }
    }
    save(ctx, &op)?;
    Ok(Ok(Reply::Operation(op)))
}

fn check(op: &Operation) -> Result<(), JobError> {
    if op.id.is_empty() {
        return Err(invalid("id", "must not be empty"));
    }
    validate::bounded_text("id", &op.id, 64)?;
    if let BulkAction::Move { queue } = &op.action {
        validate::queue_name("queue", queue)?;
    }
    if let Some(q) = &op.filter.queue {
        validate::queue_name("filter.queue", q)?;
    }
    Ok(())
}

fn load<T: StateTxn>(ctx: &Ctx<'_, T>, id: &str) -> Result<Option<Operation>, StoreError> {
    match ctx.txn.get(Table::Operations, id.as_bytes())? {
        Some(bytes) => keys::decode_operation(id.as_bytes(), &bytes).map(Some),
        None => Ok(None),
    }
}

fn save<T: StateTxn>(ctx: &mut Ctx<'_, T>, op: &Operation) -> Result<(), StoreError> {
    ctx.txn
        .put(Table::Operations, op.id.as_bytes(), &keys::encode(op))
}

/// Keeps at most [`OPERATIONS_KEPT_MAX`] operations: the oldest finished ones go first
/// (running ones always stay).
fn forget_old<T: StateTxn>(ctx: &mut Ctx<'_, T>) -> Result<(), StoreError> {
    let all = ctx
        .txn
        .range(Table::Operations, &[], &[0xff; 1], usize::MAX)?;
    let mut excess = all.len().saturating_sub(OPERATIONS_KEPT_MAX);
    for (key, value) in all {
        if excess == 0 {
            break;
        }
        let op = keys::decode_operation(&key, &value)?;
        if op.state != OperationState::Running {
            ctx.txn.delete(Table::Operations, &key)?;
            excess -= 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::apply::testkit::World;
    use crate::command::{Command, JobError, OperationProgress, Reply};
    use crate::queues::{BulkAction, JobFilter, Operation, OperationState, QueueChange};

    fn op(id: &str) -> Operation {
        Operation {
            id: id.into(),
            action: BulkAction::Destroy,
            filter: JobFilter {
                queue: Some("q".into()),
                ..Default::default()
            },
            forget_queue: Some("q".into()),
            state: OperationState::Done,
            examined: 9,
            succeeded: 9,
            cursor: Some(1),
            created_at_ms: 0,
            updated_at_ms: 0,
            error: None,
        }
    }

    fn progress(id: &str, done: u64, finished: bool) -> Command {
        Command::AdvanceOperation(OperationProgress {
            id: id.into(),
            examined: done,
            succeeded: done,
            cursor: Some(100 - done),
            finished,
            error: None,
        })
    }

    #[test]
    fn an_operation_starts_running_advances_and_finishes_once() {
        let mut w = World::new();
        w.run(Command::ConfigureQueue {
            queue: "q".into(),
            change: QueueChange::Pause,
        })
        .unwrap();
        let Ok(Reply::Operation(started)) = w.run(Command::StartOperation(op("op1"))) else {
            panic!("started");
        };
        assert_eq!(started.state, OperationState::Running);
        assert_eq!((started.examined, started.cursor), (9, Some(1)));
        assert!(
            w.run(Command::StartOperation(op("op1"))).is_err(),
            "ids are unique"
        );
        w.run(progress("op1", 10, false)).unwrap();
        let Ok(Reply::Operation(done)) = w.run(progress("op1", 20, true)) else {
            panic!("finished");
        };
        assert_eq!((done.state, done.succeeded), (OperationState::Done, 20));
        // Destroy's last step forgot the queue's settings.
        assert!(crate::query::queue_config(&w.state, "q").unwrap().is_none());
        // A late progress report changes nothing.
        let Ok(Reply::Operation(same)) = w.run(progress("op1", 30, false)) else {
            panic!("answered");
        };
        assert_eq!(same.succeeded, 20);
        assert_eq!(
            w.run(progress("nope", 1, false)),
            Err(JobError::OperationNotFound { id: "nope".into() })
        );
    }

    #[test]
    fn only_so_many_finished_operations_are_kept() {
        let mut w = World::new();
        for i in 0..super::OPERATIONS_KEPT_MAX + 10 {
            let id = format!("op{i:05}");
            w.run(Command::StartOperation(op(&id))).unwrap();
            w.run(progress(&id, 1, true)).unwrap();
        }
        let kept = crate::query::operations(&w.state).unwrap();
        assert_eq!(kept.len(), super::OPERATIONS_KEPT_MAX);
        assert_eq!(kept[0].id, "op00010");
    }
}
