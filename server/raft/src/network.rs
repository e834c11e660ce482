//! Raft peer network, client side: one [`PeerClient`] per target node over one cached tonic
//! channel, calling `corvo.v1.RaftPeerService` (served by [`crate::peer`]) on the target's
//! `raft_addr`.
//!
//! Each call carries the cluster secret as metadata and openraft's own message encoded with
//! postcard (the layout of the pinned openraft, see `proto/corvo/v1/raft.proto`). It is bounded
//! by openraft's `RPCOption::soft_ttl`, plus, for an append, the time its bytes take to move
//! (see [`APPEND_BYTES_PER_SEC_MIN`]). A peer that cannot be reached (connection refused,
//! UNAVAILABLE) answers `Unreachable`, so openraft backs off instead of retrying at once.
//!
//! Replication runs on one `StreamAppend` call per follower (ADR 0049): openraft's requests
//! go out as they come, without waiting for the answers before them, and the follower answers
//! each in order once it is durable. A peer that answers it UNIMPLEMENTED (a release before
//! it) is sent one `AppendEntries` call per request instead, and asked again after
//! [`STREAM_RETRY_AFTER`].

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::peer_pb as pb;
use crate::peer_pb::raft_peer_service_client::RaftPeerServiceClient;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use openraft::alias::{SnapshotOf, VoteOf};
use openraft::entry::RaftEntry;
use openraft::errors::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory, RaftNetworkV2, stream_append_sequential};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, StreamAppendResult,
    TransferLeaderRequest, TransferLeaderResponse, VoteRequest, VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

use crate::identity::{ClusterId, PeerCommandSets};
use crate::options::RaftOptions;
use crate::peer::SnapshotSink;
use crate::secret::{ClusterSecret, SECRET_HEADER};
use crate::snapshot::{SnapshotFile, TempFile};
use crate::types::{CorvoNode, TypeConfig};

/// Bytes of a snapshot archive per `SendSnapshot` message (1 MiB): small next to the message
/// limit, large enough that per-message overhead does not matter.
pub(crate) const SNAPSHOT_CHUNK_BYTES: usize = 1 << 20;

/// How long establishing a TCP connection to a peer may take. Short: a peer that does not
/// accept within this is down or partitioned, and openraft backs off.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Largest peer message (256 MiB). An append carries at most `append_entries_max` entries of at
/// most `batch_commands_max` commands each, but entries are not bounded in bytes: this stops a
/// runaway frame, and an append beyond it fails (and is retried) rather than exhausting memory.
pub(crate) const PEER_MESSAGE_BYTES_MAX: usize = 256 << 20;
/// The slowest rate an append is expected to move at (8 MiB/s: transfer, decode, write and
/// fsync on a loaded small machine). openraft gives an append 3/4 of a heartbeat, which an
/// empty heartbeat needs but a catch-up append of many MiB cannot meet: it would time out and
/// be re-sent forever. So an append's deadline grows by its size at this rate.
const APPEND_BYTES_PER_SEC_MIN: u64 = 8 << 20;

/// How long a leader replicates with `AppendEntries` calls to a peer that answered
/// `StreamAppend` UNIMPLEMENTED (a release before it) before it asks again: a peer upgraded
/// meanwhile gets the stream within this.
pub(crate) const STREAM_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The deadline of an append of `bytes`: openraft's soft TTL plus the time to move the bytes
/// at [`APPEND_BYTES_PER_SEC_MIN`].
fn append_deadline(option: &RPCOption, bytes: usize) -> Duration {
    let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
    let transfer_ms = bytes.saturating_mul(1000) / APPEND_BYTES_PER_SEC_MIN;
    option.soft_ttl() + Duration::from_millis(transfer_ms)
}

/// Encodes an openraft message for the wire.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    postcard::to_allocvec(value).map_err(|e| format!("encoding a raft message: {e}"))
}

/// Decodes an openraft message from the wire; the bytes came from the network, so a failure is
/// an error, never a panic.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| {
        format!("decoding a raft message ({} bytes; is the peer running the same openraft version?): {e}", bytes.len())
    })
}

/// Creates a [`PeerClient`] per target node, sharing one channel per target.
pub struct Network {
    pub(crate) node_id: u64,
    pub(crate) secret: Option<ClusterSecret>,
    /// Named on every call, with the target's node id (see [`crate::identity`]).
    pub(crate) cluster: ClusterId,
    /// What each peer's answers say it decodes.
    pub(crate) command_sets: PeerCommandSets,
    /// TLS for calls to peers (`https://`); `None`: plaintext.
    pub(crate) tls: Option<tonic::transport::ClientTlsConfig>,
    /// At most this many bytes of entries per append (see `RaftOptions::append_bytes_max`).
    pub(crate) append_bytes_max: usize,
    /// target id -> (raft_addr, channel). A channel reconnects by itself; it is replaced only
    /// when the target's address changes.
    pub(crate) channels: Arc<Mutex<HashMap<u64, (String, Channel)>>>,
    /// Which peers get replication streams.
    pub(crate) streams: StreamPeers,
    /// Where this node's archives live and who reads them: an archive goes to a peer of an
    /// older layout rewritten in that layout.
    pub(crate) archives: SnapshotSink,
}

/// Which peers a leader replicates to with `StreamAppend`: all of them (unless switched off),
/// except, for [`STREAM_RETRY_AFTER`], one that answered it UNIMPLEMENTED.
#[derive(Clone)]
pub(crate) struct StreamPeers {
    enabled: bool,
    /// target id -> when it refused the stream.
    refused: Arc<Mutex<HashMap<u64, Instant>>>,
}

impl StreamPeers {
    pub(crate) fn new(enabled: bool) -> StreamPeers {
        StreamPeers {
            enabled,
            refused: Arc::default(),
        }
    }

    fn stream_to(&self, target: u64) -> bool {
        if !self.enabled {
            return false;
        }
        let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        match refused.get(&target) {
            Some(at)
                if corvo_clock::monotonic().saturating_duration_since(*at) < STREAM_RETRY_AFTER =>
            {
                false
            }
            Some(_) => {
                refused.remove(&target);
                true
            }
            None => true,
        }
    }

    fn refused_by(&self, target: u64) {
        self.refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(target, corvo_clock::monotonic());
    }
}

impl Network {
    pub(crate) fn new(
        opts: &RaftOptions,
        cluster: ClusterId,
        command_sets: PeerCommandSets,
        archives: SnapshotSink,
    ) -> Network {
        Network {
            node_id: opts.node_id,
            secret: opts.cluster_secret.clone(),
            cluster,
            command_sets,
            tls: opts.peer_tls.as_ref().map(|t| t.client.clone()),
            append_bytes_max: opts.append_bytes_max,
            channels: Arc::new(Mutex::new(HashMap::new())),
            streams: StreamPeers::new(opts.stream_append),
            archives,
        }
    }

    fn channel(&self, target: u64, addr: &str) -> Result<Channel, String> {
        let mut channels = self
            .channels
            .lock()
            .map_err(|_| "peer channel cache poisoned".to_owned())?;
        if let Some((cached_addr, channel)) = channels.get(&target)
            && cached_addr == addr
        {
            return Ok(channel.clone());
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{addr}"))
            .map_err(|e| format!("peer address {addr:?}: {e}"))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true);
        if let Some(tls) = &self.tls {
            endpoint = endpoint
                .tls_config(tls.clone())
                .map_err(|e| format!("TLS for peer {addr:?}: {e}"))?;
        }
        let channel = endpoint.connect_lazy();
        channels.insert(target, (addr.to_owned(), channel.clone()));
        Ok(channel)
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: u64, node: &CorvoNode) -> PeerClient {
        let client = self.channel(target, &node.raft_addr).map(|c| {
            RaftPeerServiceClient::new(c)
                .max_decoding_message_size(PEER_MESSAGE_BYTES_MAX)
                .max_encoding_message_size(PEER_MESSAGE_BYTES_MAX)
        });
        PeerClient {
            from: self.node_id,
            target,
            addr: node.raft_addr.clone(),
            secret: self.secret.clone(),
            cluster: self.cluster.clone(),
            command_sets: self.command_sets.clone(),
            client,
            append_bytes_max: self.append_bytes_max,
            streams: self.streams.clone(),
            archives: self.archives.clone(),
        }
    }
}

/// A client for one peer.
pub struct PeerClient {
    from: u64,
    target: u64,
    addr: String,
    secret: Option<ClusterSecret>,
    cluster: ClusterId,
    command_sets: PeerCommandSets,
    /// `Err` when the address cannot make a channel: every call answers Unreachable.
    client: Result<RaftPeerServiceClient<Channel>, String>,
    append_bytes_max: usize,
    streams: StreamPeers,
    archives: SnapshotSink,
}

impl PeerClient {
    fn describe(&self, rpc: &str) -> String {
        format!(
            "raft {rpc} from node {} to node {} at {}",
            self.from, self.target, self.addr
        )
    }

    fn unreachable(&self, rpc: &str, why: impl std::fmt::Display) -> Unreachable<TypeConfig> {
        Unreachable::from_string(format!("{}: {why}", self.describe(rpc)))
    }

    fn network(&self, rpc: &str, why: impl std::fmt::Display) -> NetworkError<TypeConfig> {
        NetworkError::from_string(format!("{}: {why}", self.describe(rpc)))
    }

    /// The client and a request carrying the secret, or why there is none.
    fn prepare<T>(
        &self,
        rpc: &str,
        message: T,
    ) -> Result<(RaftPeerServiceClient<Channel>, tonic::Request<T>), RPCError<TypeConfig>> {
        let client = self
            .client
            .clone()
            .map_err(|e| RPCError::Unreachable(self.unreachable(rpc, e)))?;
        let Some(secret) = &self.secret else {
            return Err(RPCError::Unreachable(
                self.unreachable(rpc, "no cluster secret configured"),
            ));
        };
        let value = MetadataValue::try_from(secret.expose()).map_err(|_| {
            RPCError::Unreachable(self.unreachable(rpc, "cluster secret is not valid metadata"))
        })?;
        let mut request = tonic::Request::new(message);
        request.metadata_mut().insert(SECRET_HEADER, value);
        crate::identity::stamp(request.metadata_mut(), self.target, &self.cluster);
        Ok((client, request))
    }

    /// Runs one call within `ttl` and maps its failure for openraft.
    async fn finish<R>(
        &self,
        rpc: &str,
        ttl: Duration,
        call: impl Future<Output = Result<tonic::Response<R>, tonic::Status>>,
    ) -> Result<R, RPCError<TypeConfig>> {
        match tokio::time::timeout(ttl, call).await {
            Err(_) => Err(RPCError::Network(
                self.network(rpc, format!("no answer within {ttl:?}")),
            )),
            Ok(Ok(response)) => {
                self.command_sets.record(self.target, response.metadata());
                Ok(response.into_inner())
            }
            Ok(Err(status)) => Err(self.status_error(rpc, &status)),
        }
    }

    /// A failed call or stream for openraft: UNAVAILABLE (connection refused or reset, or a
    /// peer whose Raft is stopped) backs off.
    fn status_error(&self, rpc: &str, status: &tonic::Status) -> RPCError<TypeConfig> {
        status_error(&self.describe(rpc), status)
    }

    /// Opens a replication stream to the peer (see [`ReplicationStream`]).
    async fn open_stream<S>(
        &mut self,
        input: S,
        option: RPCOption,
    ) -> Result<
        BoxStream<'static, Result<StreamAppendResult<TypeConfig>, RPCError<TypeConfig>>>,
        RPCError<TypeConfig>,
    >
    where
        S: Stream<Item = AppendEntriesRequest<TypeConfig>> + Send + Unpin + 'static,
    {
        const RPC: &str = "stream_append";
        let stream = ReplicationStream::new(self.append_bytes_max);
        let requests = stream.requests(input, option.clone());
        let (mut client, request) = self.prepare(RPC, requests)?;
        let opened = tokio::time::timeout(option.soft_ttl(), client.stream_append(request)).await;
        let response = match opened {
            Err(_) => {
                return Err(RPCError::Network(
                    self.network(RPC, format!("no answer within {:?}", option.soft_ttl())),
                ));
            }
            Ok(Err(status)) if status.code() == tonic::Code::Unimplemented => {
                self.streams.refused_by(self.target);
                tracing::info!(
                    target = self.target,
                    "the peer does not serve StreamAppend (a release before it): replicating to it with AppendEntries"
                );
                return Err(RPCError::Network(self.network(
                    RPC,
                    "the peer does not serve StreamAppend; the next attempt uses AppendEntries",
                )));
            }
            Ok(Err(status)) => return Err(self.status_error(RPC, &status)),
            Ok(Ok(response)) => response,
        };
        self.command_sets.record(self.target, response.metadata());
        let describe = self.describe(RPC);
        Ok(stream.answers(response.into_inner(), describe).boxed())
    }

    /// The archive to send to the peer: `path` itself when the peer reads its layout, else a
    /// copy rewritten in the newest layout the peer said it reads (removed when the returned
    /// guard drops). A peer not heard from yet counts as reading layout 1.
    async fn archive_for_peer(&self, path: PathBuf) -> Result<(PathBuf, Option<TempFile>), String> {
        let reads = self.command_sets.archive_version(self.target).unwrap_or(1);
        let (app, dir) = (self.archives.app.clone(), self.archives.dir.clone());
        let target = self.target;
        tokio::task::spawn_blocking(move || {
            let version = app.snapshot_version(&path).map_err(|e| e.to_string())?;
            if version <= reads {
                return Ok((path, None));
            }
            tracing::info!(
                target,
                file = %path.display(),
                version,
                reads,
                "the peer reads an older archive layout (a release before this one): sending it a copy in that layout"
            );
            let temp = dir.temp_path("downgrade");
            let guard = TempFile(temp.clone());
            app.downgrade_snapshot(&path, reads, &temp)
                .map_err(|e| format!("rewriting {} in layout {reads}: {e}", path.display()))?;
            Ok((temp, Some(guard)))
        })
        .await
        .map_err(|e| format!("archive layout task: {e}"))?
    }

    fn encode<T: Serialize>(&self, rpc: &str, value: &T) -> Result<Vec<u8>, RPCError<TypeConfig>> {
        encode(value).map_err(|e| RPCError::Network(self.network(rpc, e)))
    }

    fn decode<T: DeserializeOwned>(
        &self,
        rpc: &str,
        bytes: &[u8],
    ) -> Result<T, RPCError<TypeConfig>> {
        decode(bytes).map_err(|e| RPCError::Network(self.network(rpc, e)))
    }
}

impl RaftNetworkV2<TypeConfig> for PeerClient {
    type SnapshotData = SnapshotFile;

    fn stream_append<'s, S>(
        &'s mut self,
        input: S,
        option: RPCOption,
    ) -> BoxFuture<
        's,
        Result<
            BoxStream<'s, Result<StreamAppendResult<TypeConfig>, RPCError<TypeConfig>>>,
            RPCError<TypeConfig>,
        >,
    >
    where
        S: Stream<Item = AppendEntriesRequest<TypeConfig>> + Send + Unpin + 'static,
    {
        if !self.streams.stream_to(self.target) {
            return stream_append_sequential(self, input, option);
        }
        Box::pin(async move { self.open_stream(input, option).await })
    }

    async fn append_entries(
        &mut self,
        mut rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        const RPC: &str = "append_entries";
        // A run of entries larger than the byte bound goes in parts: this call sends the
        // first part and reports how far it got (openraft sends the rest next).
        let sent = fitting_entries(&rpc.entries, self.append_bytes_max);
        let partial = (sent < rpc.entries.len()).then(|| {
            rpc.entries.truncate(sent);
            rpc.entries.last().map(|e| e.log_id())
        });
        let payload = self.encode(RPC, &rpc)?;
        let ttl = append_deadline(&option, payload.len());
        let (mut client, request) = self.prepare(RPC, pb::AppendEntriesRequest { payload })?;
        let answer = self
            .finish(RPC, ttl, client.append_entries(request))
            .await?;
        let response = self.decode(RPC, &answer.payload)?;
        Ok(match (response, partial) {
            (AppendEntriesResponse::Success, Some(last)) => {
                AppendEntriesResponse::PartialSuccess(last)
            }
            (response, _) => response,
        })
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        const RPC: &str = "vote";
        let payload = self.encode(RPC, &rpc)?;
        let (mut client, request) = self.prepare(RPC, pb::VoteRequest { payload })?;
        let answer = self
            .finish(RPC, option.soft_ttl(), client.vote(request))
            .await?;
        self.decode(RPC, &answer.payload)
    }

    // The default grants every pre-vote; a peer must really be asked.
    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        const RPC: &str = "pre_vote";
        let payload = self.encode(RPC, &rpc)?;
        let (mut client, request) = self.prepare(RPC, pb::PreVoteRequest { payload })?;
        let answer = self
            .finish(RPC, option.soft_ttl(), client.pre_vote(request))
            .await?;
        self.decode(RPC, &answer.payload)
    }

    async fn transfer_leader(
        &mut self,
        req: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        const RPC: &str = "transfer_leader";
        let payload = self.encode(RPC, &req)?;
        let (mut client, request) =
            self.prepare(RPC, pb::RaftPeerServiceTransferLeaderRequest { payload })?;
        let answer = self
            .finish(RPC, option.soft_ttl(), client.transfer_leader(request))
            .await?;
        self.decode(RPC, &answer.payload)
    }

    // The archive goes in chunks on one client stream: the first carries the vote and meta.
    // No overall deadline (an archive may take minutes); openraft cancels it when the
    // replication stops.
    async fn full_snapshot(
        &mut self,
        vote: VoteOf<TypeConfig>,
        snapshot: SnapshotOf<TypeConfig, SnapshotFile>,
        cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        const RPC: &str = "send_snapshot";
        let header = self.encode(RPC, &(vote, snapshot.meta.clone()))?;
        let (path, _downgraded) = self
            .archive_for_peer(snapshot.snapshot.path)
            .await
            .map_err(|e| StreamingError::Network(self.network(RPC, e)))?;
        let file = tokio::fs::File::open(&path).await.map_err(|e| {
            StreamingError::Network(self.network(RPC, format!("opening {}: {e}", path.display())))
        })?;
        tracing::info!(target = self.target, file = %path.display(), "sending a snapshot");
        let (mut client, request) = self.prepare(RPC, archive_chunks(file, header, path))?;
        tokio::select! {
            answer = client.send_snapshot(request) => match answer {
                Ok(answer) => self.decode(RPC, &answer.into_inner().payload).map_err(Into::into),
                Err(status) if status.code() == tonic::Code::Unavailable => Err(
                    StreamingError::Unreachable(self.unreachable(RPC, status.message())),
                ),
                Err(status) => Err(StreamingError::Network(self.network(
                    RPC,
                    format!("{:?}: {}", status.code(), status.message()),
                ))),
            },
            closed = cancel => Err(StreamingError::Closed(closed)),
        }
    }
}

/// A failed peer call or stream for openraft, `describe`d: UNAVAILABLE (connection refused or
/// reset, or a peer whose Raft is stopped) is `Unreachable`, so openraft backs off.
fn status_error(describe: &str, status: &tonic::Status) -> RPCError<TypeConfig> {
    if status.code() == tonic::Code::Unavailable {
        RPCError::Unreachable(Unreachable::from_string(format!(
            "{describe}: {}",
            status.message()
        )))
    } else {
        RPCError::Network(NetworkError::from_string(format!(
            "{describe}: {:?}: {}",
            status.code(),
            status.message()
        )))
    }
}

/// One replication stream's flow control and watchdog, shared by its request and answer sides.
///
/// - A request waits for room: the bytes of unanswered requests stay within
///   `append_bytes_max` (one request always goes), which bounds what the follower queues.
/// - A run of entries larger than that goes in part, and the request stream ends after it: the
///   follower answers how far it got, and openraft opens the next stream from there.
/// - Each answer must come within its request's deadline ([`append_deadline`]) counted from
///   its sending or from the answer before it, whichever is later; otherwise the stream ends
///   with an error, as a unary append would have timed out.
struct ReplicationStream {
    sent: Arc<Mutex<VecDeque<Sent>>>,
    /// Wakes the answer side when a request goes out on an idle stream.
    more: Arc<Notify>,
    room: Arc<Semaphore>,
    room_max: usize,
}

/// An unanswered request.
struct Sent {
    at: Instant,
    deadline: Duration,
    _room: OwnedSemaphorePermit,
}

impl ReplicationStream {
    fn new(append_bytes_max: usize) -> ReplicationStream {
        // Fits the u32 a semaphore acquires at once.
        let room_max = append_bytes_max
            .clamp(1, u32::MAX as usize)
            .min(Semaphore::MAX_PERMITS);
        ReplicationStream {
            sent: Arc::default(),
            more: Arc::default(),
            room: Arc::new(Semaphore::new(room_max)),
            room_max,
        }
    }

    /// openraft's requests, encoded, as they find room.
    fn requests<S>(
        &self,
        input: S,
        option: RPCOption,
    ) -> impl Stream<Item = pb::StreamAppendRequest> + Send + 'static
    where
        S: Stream<Item = AppendEntriesRequest<TypeConfig>> + Send + Unpin + 'static,
    {
        let (sent, more, room, room_max) = (
            self.sent.clone(),
            self.more.clone(),
            self.room.clone(),
            self.room_max,
        );
        futures::stream::unfold(Some(input), move |input| {
            let (sent, more, room, option) =
                (sent.clone(), more.clone(), room.clone(), option.clone());
            async move {
                let mut input = input?;
                let mut rpc = input.next().await?;
                let fits = fitting_entries(&rpc.entries, room_max);
                let partial = fits < rpc.entries.len();
                rpc.entries.truncate(fits);
                let payload = match encode(&rpc) {
                    Ok(payload) => payload,
                    Err(e) => {
                        tracing::error!("replication stream: {e}");
                        return None;
                    }
                };
                let permits = payload.len().clamp(1, room_max);
                let permits = u32::try_from(permits).unwrap_or(u32::MAX);
                let room = room.acquire_many_owned(permits).await.ok()?;
                sent.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push_back(Sent {
                        at: corvo_clock::monotonic(),
                        deadline: append_deadline(&option, payload.len()),
                        _room: room,
                    });
                more.notify_one();
                let next = (!partial).then_some(input);
                Some((pb::StreamAppendRequest { payload }, next))
            }
        })
    }

    /// The follower's answers, decoded, each within its deadline.
    fn answers(
        self,
        answers: tonic::Streaming<pb::StreamAppendResponse>,
        describe: String,
    ) -> impl Stream<Item = Result<StreamAppendResult<TypeConfig>, RPCError<TypeConfig>>> + Send + 'static
    {
        let last = corvo_clock::monotonic();
        futures::stream::unfold(Some((answers, last)), move |state| {
            let (sent, more, describe) = (self.sent.clone(), self.more.clone(), describe.clone());
            async move {
                let failed = |why: String| {
                    Err(RPCError::Network(NetworkError::from_string(format!(
                        "{describe}: {why}"
                    ))))
                };
                let (mut answers, last) = state?;
                let answer = loop {
                    let oldest = sent
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .front()
                        .map(|s| (s.at.max(last), s.deadline));
                    match oldest {
                        Some((from, deadline)) => {
                            let until = tokio::time::Instant::from_std(from + deadline);
                            match tokio::time::timeout_at(until, answers.message()).await {
                                Ok(answer) => break answer,
                                Err(_) => {
                                    return Some((
                                        failed(format!("no answer within {deadline:?}")),
                                        None,
                                    ));
                                }
                            }
                        }
                        None => tokio::select! {
                            answer = answers.message() => break answer,
                            _ = more.notified() => continue,
                        },
                    }
                };
                let message = match answer {
                    Ok(Some(message)) => message,
                    // The follower ended the stream: after a part, or it is shutting down.
                    Ok(None) => return None,
                    Err(status) => return Some((Err(status_error(&describe, &status)), None)),
                };
                if sent
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .pop_front()
                    .is_none()
                {
                    return Some((failed("an answer to no request".to_owned()), None));
                }
                match decode::<StreamAppendResult<TypeConfig>>(&message.payload) {
                    Ok(result) => {
                        let more = result
                            .is_ok()
                            .then_some((answers, corvo_clock::monotonic()));
                        Some((Ok(result), more))
                    }
                    Err(e) => Some((failed(e), None)),
                }
            }
        })
    }
}

/// How many of `entries` one append carries: as many as fit in `bytes_max` (by their commands'
/// `approx_bytes`), at least one.
fn fitting_entries(entries: &[crate::types::Entry], bytes_max: usize) -> usize {
    let mut bytes = 0usize;
    for (i, entry) in entries.iter().enumerate() {
        bytes = bytes.saturating_add(entry_bytes(entry));
        if i > 0 && bytes > bytes_max {
            return i;
        }
    }
    entries.len()
}

/// About how many bytes an entry takes on the wire.
fn entry_bytes(entry: &crate::types::Entry) -> usize {
    match &entry.payload {
        openraft::EntryPayload::Normal(data) => data
            .0
            .commands
            .iter()
            .map(corvo_core::Command::approx_bytes)
            .sum(),
        // A blank or membership entry: a few ids and addresses.
        _ => 256,
    }
}

/// The `SendSnapshot` messages for one archive: the header first, then the file in chunks.
/// A read error ends the stream early; the receiver then finds the archive truncated.
fn archive_chunks(
    file: tokio::fs::File,
    header: Vec<u8>,
    path: std::path::PathBuf,
) -> impl futures::Stream<Item = pb::SendSnapshotRequest> + Send + 'static {
    use tokio::io::AsyncReadExt;
    futures::stream::unfold((Some(file), Some(header)), move |(file, header)| {
        let path = path.clone();
        async move {
            let mut file = file?;
            let mut data = vec![0u8; SNAPSHOT_CHUNK_BYTES];
            let mut filled = 0;
            while filled < data.len() {
                match file.read(&mut data[filled..]).await {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) => {
                        tracing::warn!(file = %path.display(), "reading a snapshot to send: {e}");
                        return None;
                    }
                }
            }
            data.truncate(filled);
            if filled == 0 && header.is_none() {
                return None;
            }
            let message = pb::SendSnapshotRequest {
                header: header.unwrap_or_default(),
                data,
            };
            let more = filled == SNAPSHOT_CHUNK_BYTES;
            Some((message, (more.then_some(file), None)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_run_of_entries_is_sent_in_parts_of_at_most_the_byte_bound() {
        use std::sync::Arc;

        use corvo_core::{Batch, Command};

        let entry = |index: u64, payload_bytes: usize| {
            let batch = Batch {
                now_ms: 1,
                commands: vec![Command::Enqueue(corvo_core::Enqueue {
                    id: "j".into(),
                    queue: "q".into(),
                    payload: "x".repeat(payload_bytes),
                    options: Default::default(),
                })],
            };
            crate::types::Entry::new_normal(
                openraft::testing::log_id::<crate::types::TypeConfig>(1, 1, index),
                crate::types::BatchData(Arc::new(batch)),
            )
        };
        let entries: Vec<_> = (1..=10).map(|i| entry(i, 1_000)).collect();
        let one = entry_bytes(&entries[0]);
        assert!(one > 1_000);
        assert_eq!(fitting_entries(&entries, one * 3), 3);
        assert_eq!(fitting_entries(&entries, usize::MAX), 10);
        // A single entry larger than the bound still goes, alone.
        assert_eq!(fitting_entries(&entries, 1), 1);
        assert_eq!(fitting_entries(&[], 1), 0);
    }

    #[tokio::test]
    async fn a_replication_stream_holds_requests_beyond_its_room_and_ends_after_a_part() {
        use std::sync::Arc;

        use corvo_core::{Batch, Command};
        use futures::FutureExt;

        let entry = |index: u64| {
            let batch = Batch {
                now_ms: 1,
                commands: vec![Command::Enqueue(corvo_core::Enqueue {
                    id: format!("j{index}"),
                    queue: "q".into(),
                    payload: "x".repeat(1_000),
                    options: Default::default(),
                })],
            };
            crate::types::Entry::new_normal(
                openraft::testing::log_id::<TypeConfig>(1, 1, index),
                crate::types::BatchData(Arc::new(batch)),
            )
        };
        let request = |indexes: std::ops::RangeInclusive<u64>| AppendEntriesRequest::<TypeConfig> {
            vote: openraft::alias::VoteOf::<TypeConfig>::new(1, 1),
            prev_log_id: None,
            leader_commit: None,
            entries: indexes.map(entry).collect(),
        };
        let option = RPCOption::new(Duration::from_millis(200));

        // Room for about two one-entry requests.
        let stream = ReplicationStream::new(2_500);
        let input = futures::stream::iter(vec![request(1..=1), request(2..=2), request(3..=3)]);
        let mut requests = Box::pin(stream.requests(input, option.clone()));
        assert!(requests.next().await.is_some());
        assert!(requests.next().await.is_some());
        assert!(
            requests.next().now_or_never().is_none(),
            "a third request waits while two are unanswered"
        );
        assert_eq!(stream.sent.lock().unwrap().len(), 2);
        // An answer frees its room.
        stream.sent.lock().unwrap().pop_front();
        let third = requests.next().await.expect("the third request goes");
        let third: AppendEntriesRequest<TypeConfig> = decode(&third.payload).expect("decodes");
        assert_eq!(third.entries.len(), 1);
        assert!(requests.next().await.is_none(), "the input is done");

        // A run larger than the room goes in part, and the stream ends after it.
        let stream = ReplicationStream::new(2_500);
        let input = futures::stream::iter(vec![request(1..=5), request(6..=6)]);
        let mut requests = Box::pin(stream.requests(input, option));
        let part = requests.next().await.expect("a part goes");
        let part: AppendEntriesRequest<TypeConfig> = decode(&part.payload).expect("decodes");
        assert_eq!(
            part.entries.len(),
            2,
            "as many entries as fit, at least one"
        );
        assert!(requests.next().await.is_none(), "nothing more after a part");
    }

    #[test]
    fn an_append_gets_time_for_its_bytes() {
        let option = RPCOption::new(Duration::from_millis(200));
        // An empty heartbeat keeps openraft's soft TTL (3/4 of 200 ms).
        assert_eq!(append_deadline(&option, 0), Duration::from_millis(150));
        // 16 MiB at 8 MiB/s: two more seconds.
        assert_eq!(
            append_deadline(&option, 16 << 20),
            Duration::from_millis(2150)
        );
    }
}
