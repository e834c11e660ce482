//! Membership: who is in the cluster, and the changes an operator (or a joining node) asks
//! for. Changes run on the leader only, one at a time; a follower answers `NotLeader` with the
//! leader's client address so the caller can forward.
//!
//! Join = `add_learner(blocking)` (the node catches up from the log while it cannot vote and
//! so cannot stall the quorum), then `change_membership` adding it as a voter (joint
//! consensus: two entries).

use std::collections::BTreeSet;
use std::time::Duration;

use openraft::ChangeMembers;
use openraft::async_runtime::watch::WatchReceiver;
use openraft::errors::{ClientWriteError, RaftError as OpenraftError};
use openraft::metrics::WaitError;

use crate::error::{MembershipError, RaftError};
use crate::node::RaftNode;
use crate::types::{CorvoNode, TypeConfig};

/// How long a joining node may take to catch up as a learner before the join gives up (it
/// stays a learner; repeating the join resumes). Generous: the whole log is replayed to it.
pub const JOIN_CATCH_UP_MAX: Duration = Duration::from_secs(120);
/// How long a membership change may take to commit. It needs a majority of both the old and
/// the new voters (joint consensus): removing a dead voter from a two-voter cluster can never
/// commit, and the caller must hear so rather than wait forever.
pub const MEMBERSHIP_COMMIT_MAX: Duration = Duration::from_secs(30);

/// One member as this node's membership records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub raft_id: u64,
    pub node: CorvoNode,
    /// `false`: a learner.
    pub voter: bool,
}

/// What a join did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinOutcome {
    pub leader_id: u64,
    /// The node was already a voter with the same addresses; nothing changed.
    pub already_member: bool,
    /// Voters after the join.
    pub voters: usize,
}

impl RaftNode {
    /// Every member of the latest membership this node knows (committed or not), by id.
    pub fn members(&self) -> Vec<Member> {
        // Clone at once: holding the watch borrow would block RaftCore's metrics updates.
        let m = self.raft.metrics().borrow_watched().clone();
        let voters: BTreeSet<u64> = m.membership_config.voter_ids().collect();
        m.membership_config
            .nodes()
            .map(|(id, node)| Member {
                raft_id: *id,
                node: node.clone(),
                voter: voters.contains(id),
            })
            .collect()
    }

    /// The client address of a member, from the membership.
    pub fn api_addr_of(&self, raft_id: u64) -> Option<String> {
        let m = self.raft.metrics().borrow_watched().clone();
        m.membership_config
            .get_node(&raft_id)
            .map(|n| n.api_addr.clone())
    }

    fn not_leader(&self) -> MembershipError {
        let leader_id = self.status().leader_id.filter(|id| *id != self.node_id);
        MembershipError::NotLeader {
            leader_id,
            leader_addr: leader_id.and_then(|id| self.api_addr_of(id)),
        }
    }

    /// Adds `node` as a voter (see the module doc). Idempotent: a voter with the same
    /// addresses gets `already_member`; a learner left by an interrupted join is caught up and
    /// promoted. A member with other addresses is refused: changing a member's address in
    /// place can split the cluster (remove it first). So is a node on a `new_data_dir` that
    /// claims the id of a voter: it would forget that voter's votes.
    ///
    /// `check_only`: answer as the join would (refused, or `already_member`), without adding
    /// the node.
    pub async fn join(
        &self,
        raft_id: u64,
        node: CorvoNode,
        new_data_dir: bool,
        check_only: bool,
    ) -> Result<JoinOutcome, MembershipError> {
        let _one_at_a_time = self.admin.lock().await;
        if !self.is_leader() {
            return Err(self.not_leader());
        }
        if let Some(existing) = self.members().into_iter().find(|m| m.raft_id == raft_id) {
            if existing.node != node {
                return Err(MembershipError::Conflict(format!(
                    "node {raft_id} is already a member as {}; remove it before adding it as {node}",
                    existing.node
                )));
            }
            if existing.voter && new_data_dir {
                return Err(MembershipError::Conflict(format!(
                    "node {raft_id} ({}) is already a voter with its own data; a new data dir cannot take over its id (the member's votes and log would be forgotten): remove the member first, or start this node with its old data dir",
                    existing.node.name
                )));
            }
            if existing.voter {
                return Ok(JoinOutcome {
                    leader_id: self.node_id,
                    already_member: true,
                    voters: self.voter_count(),
                });
            }
        }
        if check_only {
            return Ok(JoinOutcome {
                leader_id: self.node_id,
                already_member: false,
                voters: self.voter_count(),
            });
        }
        tracing::info!(raft_id, %node, "join: adding as learner and waiting for it to catch up");
        let added = tokio::time::timeout(
            JOIN_CATCH_UP_MAX,
            self.raft.add_learner(raft_id, node.clone(), true),
        )
        .await
        .map_err(|_| MembershipError::Timeout {
            waited: JOIN_CATCH_UP_MAX,
            what: "the joining node to catch up",
        })?;
        added.map_err(|e| self.write_error(e))?;
        tracing::info!(raft_id, %node, "join: learner caught up, promoting to voter");
        tokio::time::timeout(
            MEMBERSHIP_COMMIT_MAX,
            self.raft
                .change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([raft_id])), false),
        )
        .await
        .map_err(|_| commit_timeout())?
        .map_err(|e| self.write_error(e))?;
        let voters = self.voter_count();
        tracing::info!(raft_id, %node, voters, "join: node is a voter");
        warn_if_even(voters);
        Ok(JoinOutcome {
            leader_id: self.node_id,
            already_member: false,
            voters,
        })
    }

    /// Removes a member (voter or learner). Returns the voters left.
    pub async fn remove(&self, raft_id: u64) -> Result<usize, MembershipError> {
        let _one_at_a_time = self.admin.lock().await;
        if !self.is_leader() {
            return Err(self.not_leader());
        }
        let Some(member) = self.members().into_iter().find(|m| m.raft_id == raft_id) else {
            return Err(MembershipError::NotFound(raft_id));
        };
        let ids = BTreeSet::from([raft_id]);
        let change = if member.voter {
            ChangeMembers::RemoveVoters(ids)
        } else {
            ChangeMembers::RemoveNodes(ids)
        };
        tokio::time::timeout(
            MEMBERSHIP_COMMIT_MAX,
            self.raft.change_membership(change, false),
        )
        .await
        .map_err(|_| commit_timeout())?
        .map_err(|e| self.write_error(e))?;
        let voters = self.voter_count();
        tracing::info!(raft_id, voters, "removed a member");
        warn_if_even(voters);
        Ok(voters)
    }

    /// Asks openraft to hand leadership to `raft_id` (a voter). Returns once asked; the change
    /// shows in [`RaftNode::status`] when the target has taken over.
    pub async fn transfer_leader(&self, raft_id: u64) -> Result<(), MembershipError> {
        let _one_at_a_time = self.admin.lock().await;
        if !self.is_leader() {
            return Err(self.not_leader());
        }
        if !self
            .members()
            .iter()
            .any(|m| m.raft_id == raft_id && m.voter)
        {
            return Err(MembershipError::NotFound(raft_id));
        }
        self.raft
            .trigger()
            .transfer_leader(raft_id)
            .await
            .map_err(|e| MembershipError::Fatal(e.to_string()))
    }

    /// Before a leader stops: hands leadership to the most caught-up other voter and waits
    /// (at most `timeout`) until a leader other than this node is known, so clients find a new
    /// leader at once instead of after an election timeout. `Ok(None)`: nothing to hand off
    /// (not the leader, or no other voter).
    pub async fn hand_off_leadership(
        &self,
        timeout: Duration,
    ) -> Result<Option<u64>, MembershipError> {
        if !self.is_leader() {
            return Ok(None);
        }
        // Clone at once: holding the watch borrow would block RaftCore's metrics updates.
        let matched = self
            .raft
            .metrics()
            .borrow_watched()
            .clone()
            .replication
            .unwrap_or_default();
        let target = self
            .members()
            .into_iter()
            .filter(|m| m.voter && m.raft_id != self.node_id)
            .max_by_key(|m| matched.get(&m.raft_id).cloned().flatten().map(|l| l.index))
            .map(|m| m.raft_id);
        let Some(target) = target else {
            return Ok(None);
        };
        self.transfer_leader(target).await?;
        let me = self.node_id;
        let what = "another node to take over leadership";
        let m = self
            .raft
            .wait(Some(timeout))
            .metrics(move |m| m.current_leader.is_some_and(|l| l != me), what)
            .await
            .map_err(|e| match e {
                WaitError::Timeout(..) => MembershipError::Timeout {
                    waited: timeout,
                    what,
                },
                WaitError::ShuttingDown => MembershipError::Fatal("raft is shutting down".into()),
            })?;
        Ok(m.current_leader)
    }

    /// Waits until this node has applied at least `index`; returns its applied index.
    pub async fn wait_applied(
        &self,
        index: u64,
        timeout: Duration,
    ) -> Result<Option<u64>, RaftError> {
        let what = "the state to reach the requested applied index";
        let m = self
            .raft
            .wait(Some(timeout))
            .applied_index_at_least(Some(index), what)
            .await
            .map_err(RaftError::from_wait(timeout, what))?;
        Ok(m.last_applied.map(|id| id.index))
    }

    fn voter_count(&self) -> usize {
        self.members().iter().filter(|m| m.voter).count()
    }

    fn write_error(
        &self,
        e: OpenraftError<TypeConfig, ClientWriteError<TypeConfig>>,
    ) -> MembershipError {
        match e {
            OpenraftError::APIError(ClientWriteError::ForwardToLeader(f)) => {
                MembershipError::NotLeader {
                    leader_id: f.leader_id,
                    leader_addr: f.leader_node.map(|n| n.api_addr),
                }
            }
            OpenraftError::APIError(other) => MembershipError::Conflict(other.to_string()),
            OpenraftError::Fatal(f) => MembershipError::Fatal(f.to_string()),
        }
    }
}

/// An even number of voters tolerates no more failures than one fewer, and can split votes.
fn warn_if_even(voters: usize) {
    if voters > 0 && voters.is_multiple_of(2) {
        tracing::warn!(
            voters,
            "the cluster has an even number of voters: it tolerates no more failures than {} voters; add or remove one",
            voters - 1
        );
    }
}

fn commit_timeout() -> MembershipError {
    MembershipError::Timeout {
        waited: MEMBERSHIP_COMMIT_MAX,
        what: "the membership change to commit (it needs a majority of the old and of the new voters up)",
    }
}
