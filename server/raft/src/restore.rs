//! Seeding an empty data dir from a snapshot archive (`corvo server --restore`).
//!
//! The archive is checked to its last byte, installed into the empty state, and the vote is
//! set to the archive's last term so that the next election starts above every entry the
//! archive covers. openraft then starts as from a snapshot: the empty log is "purged" up to the
//! archive's last entry and a fresh snapshot of the restored state is written at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use openraft::Membership;
use openraft::storage::{RaftLogReader, RaftLogStorage};

use crate::error::RaftError;
use crate::node::open_log;
use crate::options::RaftOptions;
use crate::state_machine::{AppStateMachine, RaftMeta};
use crate::types::{CorvoNode, LogId, StoredMembership, Vote};

/// What membership a restored node starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreMode {
    /// A new cluster of this node alone (disaster recovery): the archive's membership is
    /// replaced by this node as the only voter. Other nodes then join it with `--join`.
    NewCluster,
    /// Keep the archive's membership: the node is a member of the cluster the backup came
    /// from and catches up from its leader.
    Rejoin,
}

/// Seeds this node's empty log and state from `archive`. Returns the last log id restored.
/// Refuses (changing nothing) when the log or the state is not empty or the archive is damaged.
pub async fn restore(
    opts: &RaftOptions,
    app: Arc<dyn AppStateMachine>,
    archive: &Path,
    mode: RestoreMode,
) -> Result<(u64, u64), RaftError> {
    let invalid = |why: String| RaftError::InvalidOptions(format!("--restore: {why}"));
    let mut log = open_log(opts).await?;
    let state = log.get_log_state().await.map_err(RaftError::Storage)?;
    let vote = log
        .get_log_reader()
        .await
        .read_vote()
        .await
        .map_err(RaftError::Storage)?;
    if state.last_log_id.is_some() || state.last_purged_log_id.is_some() || vote.is_some() {
        return Err(invalid(format!(
            "the raft log {} is not empty: restore only into an empty data dir",
            opts.log_path.display()
        )));
    }
    if app.raft_meta().map_err(RaftError::Storage)?.is_some() {
        return Err(invalid(
            "the state is not empty: restore only into an empty data dir".to_owned(),
        ));
    }

    let path = archive.to_path_buf();
    let checker = app.clone();
    let bytes = tokio::task::spawn_blocking(move || checker.verify_snapshot(&path))
        .await
        .map_err(|e| RaftError::Fatal(format!("restore task: {e}")))?
        .map_err(RaftError::Storage)?;
    let mut meta = RaftMeta::decode(&bytes, &format!("snapshot {}", archive.display()))
        .map_err(RaftError::Storage)?;
    let Some(last): Option<LogId> = meta.last_applied else {
        return Err(invalid(format!(
            "{} holds no applied entry",
            archive.display()
        )));
    };
    let rewrite = match mode {
        RestoreMode::Rejoin => None,
        RestoreMode::NewCluster => {
            let me = CorvoNode {
                raft_addr: opts.raft_addr.clone(),
                api_addr: opts.api_addr.clone(),
                name: opts.name.clone(),
            };
            let membership = Membership::new(
                vec![BTreeSet::from([opts.node_id])],
                BTreeMap::from([(opts.node_id, me)]),
            )
            .map_err(|e| RaftError::Fatal(format!("restore membership: {e}")))?;
            meta.last_membership = StoredMembership::new(Some(last), membership);
            Some(meta.encode().map_err(RaftError::Storage)?)
        }
    };
    let path = archive.to_path_buf();
    let installer = app.clone();
    tokio::task::spawn_blocking(move || installer.install_snapshot(&path, rewrite.as_deref()))
        .await
        .map_err(|e| RaftError::Fatal(format!("restore task: {e}")))?
        .map_err(RaftError::Storage)?;

    // The next election must start above the archive's last term.
    let term = last.leader_id.term;
    let vote = Vote::new(term, opts.node_id);
    log.save_vote(&vote).await.map_err(RaftError::Storage)?;
    tracing::info!(
        archive = %archive.display(),
        index = last.index,
        term,
        ?mode,
        "restored the state from a snapshot archive"
    );
    Ok((last.index, term))
}
