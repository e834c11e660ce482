//! Raft peer network: none yet. A one-voter cluster sends no RPCs; any RPC to another node
//! fails with `Unreachable` (so openraft backs off) and a message that says why.
//!
//! TODO(issue 3): a tonic peer service (vote, pre-vote, stream append, full snapshot) with one
//! cached channel per peer, `RPCOption` deadlines and the `cancel` future honoured.

use std::future::Future;

use openraft::BasicNode;
use openraft::alias::{SnapshotOf, VoteOf};
use openraft::errors::{RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory, RaftNetworkV2};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};

use crate::types::TypeConfig;

/// Creates a [`PeerClient`] per target node.
pub struct Network {
    pub(crate) node_id: u64,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> PeerClient {
        PeerClient {
            from: self.node_id,
            target,
            addr: node.addr.clone(),
        }
    }
}

/// A client for one peer; every call fails until the peer service exists.
pub struct PeerClient {
    from: u64,
    target: u64,
    addr: String,
}

impl PeerClient {
    fn unreachable(&self, rpc: &str) -> Unreachable<TypeConfig> {
        Unreachable::from_string(format!(
            "raft {rpc} from node {} to node {} at {}: peer networking not implemented yet (single-node only)",
            self.from, self.target, self.addr
        ))
    }
}

impl RaftNetworkV2<TypeConfig> for PeerClient {
    type SnapshotData = Vec<u8>;

    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(self.unreachable("append_entries")))
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(self.unreachable("vote")))
    }

    // The default grants every pre-vote; an unreachable peer must not count as granting.
    async fn pre_vote(
        &mut self,
        _rpc: VoteRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(self.unreachable("pre_vote")))
    }

    async fn full_snapshot(
        &mut self,
        _vote: VoteOf<TypeConfig>,
        _snapshot: SnapshotOf<TypeConfig, Vec<u8>>,
        _cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        Err(StreamingError::Unreachable(
            self.unreachable("full_snapshot"),
        ))
    }
}
