//! Readiness: may this node get traffic? (Liveness, `/healthz`, only asks whether the process
//! is up and its storage opens.) The rule lives here as a pure function so it is tested
//! without a server; `server/node` runs it periodically and publishes the answer to `/readyz`,
//! `grpc.health.v1.Health` and `corvo status`.
//!
//! Ready means all of: not draining; Raft running (a storage error stops it for good); the data
//! directory writable; a leader known, with its client address (a node that just joined hears
//! the leader before it holds the membership that names it, and could not forward); caught up: the state has applied everything that was
//! committed when the node started, and the apply backlog stays within
//! `ApiOptions::ready_apply_backlog_max`.

use corvo_raft::RaftStatus;

use crate::status::Readiness;

/// What readiness is judged on.
#[derive(Clone, Debug)]
pub struct ReadinessInputs<'a> {
    pub draining: bool,
    pub raft: &'a RaftStatus,
    /// The outcome of writing a probe file into the data directory.
    pub storage: Result<(), String>,
    /// The commit index this node saw when it started (replay target).
    pub startup_committed: Option<u64>,
    pub apply_backlog_max: u64,
    /// The leader's client address is known (always true when this node leads).
    pub leader_addr_known: bool,
}

pub fn evaluate(i: &ReadinessInputs<'_>) -> Readiness {
    let mut reasons = Vec::new();
    if i.draining {
        reasons.push("draining: the node is shutting down (SIGTERM)".to_owned());
    }
    if let Some(fatal) = &i.raft.fatal {
        reasons.push(format!("raft stopped: {fatal}"));
    }
    if let Err(e) = &i.storage {
        reasons.push(format!("storage not writable: {e}"));
    }
    match i.raft.leader_id {
        None => reasons.push("no leader known".to_owned()),
        Some(id) if !i.leader_addr_known => reasons.push(format!(
            "catching up: the leader (raft id {id}) is not in this node's membership yet"
        )),
        Some(_) => {}
    }
    let applied = i.raft.last_applied.unwrap_or(0);
    if let Some(target) = i.startup_committed
        && applied < target
    {
        reasons.push(format!(
            "catching up: applied index {applied}, {target} was committed at start-up"
        ));
    }
    let backlog = i.raft.committed.unwrap_or(0).saturating_sub(applied);
    if backlog > i.apply_backlog_max {
        reasons.push(format!(
            "apply backlog of {backlog} entries exceeds {}",
            i.apply_backlog_max
        ));
    }
    Readiness {
        ready: reasons.is_empty(),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corvo_raft::Role;

    fn leader() -> RaftStatus {
        RaftStatus {
            node_id: 1,
            role: Role::Leader,
            leader_id: Some(1),
            term: 2,
            last_log_index: Some(10),
            committed: Some(10),
            last_applied: Some(10),
            snapshot_index: None,
            purged_index: None,
            fatal: None,
            cluster_id: None,
        }
    }

    fn inputs(raft: &RaftStatus) -> ReadinessInputs<'_> {
        ReadinessInputs {
            draining: false,
            raft,
            storage: Ok(()),
            startup_committed: Some(8),
            apply_backlog_max: 100,
            leader_addr_known: true,
        }
    }

    #[test]
    fn a_caught_up_node_with_a_leader_and_writable_storage_is_ready() {
        let raft = leader();
        assert_eq!(
            evaluate(&inputs(&raft)),
            Readiness {
                ready: true,
                reasons: vec![]
            }
        );
    }

    #[test]
    fn each_condition_alone_makes_the_node_not_ready_and_says_why() {
        let raft = leader();
        let cases: Vec<(ReadinessInputs<'_>, &str)> = vec![
            (
                ReadinessInputs {
                    draining: true,
                    ..inputs(&raft)
                },
                "draining",
            ),
            (
                ReadinessInputs {
                    storage: Err("read-only file system".into()),
                    ..inputs(&raft)
                },
                "storage not writable: read-only",
            ),
            (
                ReadinessInputs {
                    startup_committed: Some(11),
                    ..inputs(&raft)
                },
                "catching up",
            ),
            (
                ReadinessInputs {
                    leader_addr_known: false,
                    ..inputs(&raft)
                },
                "not in this node's membership",
            ),
        ];
        for (i, expected) in cases {
            let r = evaluate(&i);
            assert!(!r.ready);
            assert_eq!(r.reasons.len(), 1, "{r:?}");
            assert!(r.reasons[0].contains(expected), "{r:?}");
        }
        let no_leader = RaftStatus {
            leader_id: None,
            role: Role::Candidate,
            ..leader()
        };
        assert!(evaluate(&inputs(&no_leader)).reasons[0].contains("no leader"));
        let lagging = RaftStatus {
            committed: Some(500),
            ..leader()
        };
        assert!(evaluate(&inputs(&lagging)).reasons[0].contains("apply backlog of 490"));
        let stopped = RaftStatus {
            fatal: Some("disk I/O error".into()),
            ..leader()
        };
        assert!(evaluate(&inputs(&stopped)).reasons[0].contains("raft stopped"));
    }
}
