//! Raft peer network, server side: `corvo.v1.RaftPeerService` on the peer port. It has its
//! own tonic server, outside the public port's tower stack (no API keys, rate limits or load
//! shedding: Raft traffic must never be shed), and an interceptor that refuses any call
//! without the cluster secret, for another node or from another cluster ([`crate::identity`]).

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::peer_pb as pb;
use crate::peer_pb::raft_peer_service_server::{RaftPeerService, RaftPeerServiceServer};
use futures::StreamExt;
use futures::stream::BoxStream;
use openraft::alias::{SnapshotMetaOf, SnapshotOf, VoteOf};
use openraft::raft::{AppendEntriesRequest, TransferLeaderRequest, VoteRequest};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Response, Status, Streaming};

use crate::identity::ClusterId;
use crate::network::{PEER_MESSAGE_BYTES_MAX, decode, encode};
use crate::secret::{ClusterSecret, SECRET_HEADER};
use crate::snapshot::{SnapshotDir, SnapshotFile, TempFile};
use crate::state_machine::{AppStateMachine, RaftMeta};
use crate::types::{RaftHandle, TypeConfig};

/// What a node needs to receive snapshots: where they go and who checks them.
#[derive(Clone)]
pub(crate) struct SnapshotSink {
    pub(crate) dir: Arc<SnapshotDir>,
    pub(crate) app: Arc<dyn AppStateMachine>,
}

/// Serves the peer service on `listener` (over TLS when `tls` is set) until `shutdown`
/// resolves. Accepted sockets get TCP_NODELAY and keepalive.
pub(crate) fn serve(
    service: PeerService,
    secret: ClusterSecret,
    (node_id, cluster): (u64, ClusterId),
    listener: TcpListener,
    tls: Option<std::sync::Arc<corvo_net::ServerTls>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<Result<(), tonic::transport::Error>> {
    let service = RaftPeerServiceServer::new(service)
        .max_decoding_message_size(PEER_MESSAGE_BYTES_MAX)
        .max_encoding_message_size(PEER_MESSAGE_BYTES_MAX);
    let service = InterceptedService::new(service, move |req| {
        let req = check_secret(&secret, req)?;
        crate::identity::check(node_id, &cluster, req.metadata())?;
        Ok(req)
    });
    let router = tonic::transport::Server::builder().add_service(service);
    let tcp = corvo_net::tcp_incoming(listener, corvo_net::TcpTuning::default());
    match tls {
        None => tokio::spawn(router.serve_with_incoming_shutdown(tcp, shutdown)),
        Some(tls) => tokio::spawn(
            router.serve_with_incoming_shutdown(corvo_net::tls_incoming(tcp, tls), shutdown),
        ),
    }
}

/// UNAUTHENTICATED without the secret, PERMISSION_DENIED with a wrong one.
fn check_secret(secret: &ClusterSecret, req: Request<()>) -> Result<Request<()>, Status> {
    match req.metadata().get(SECRET_HEADER) {
        None => Err(Status::unauthenticated(
            "peer call without the cluster secret",
        )),
        Some(v) if secret.matches(v.as_bytes()) => Ok(req),
        Some(_) => Err(Status::permission_denied("wrong cluster secret")),
    }
}

/// The peer service's state.
pub(crate) struct PeerService {
    pub(crate) raft: RaftHandle,
    pub(crate) sink: SnapshotSink,
    /// Serves `StreamAppend`; `false` answers it UNIMPLEMENTED as a release before it did
    /// (`RaftOptions::stream_append`, for tests of mixed-release clusters).
    pub(crate) stream_append: bool,
}

impl PeerService {
    /// Writes the streamed archive to `temp` and fsyncs it.
    async fn receive(
        &self,
        first: pb::SendSnapshotRequest,
        stream: &mut Streaming<pb::SendSnapshotRequest>,
        temp: &Path,
    ) -> Result<u64, Status> {
        let failed = |e: std::io::Error| {
            Status::internal(format!(
                "writing the received snapshot {}: {e}",
                temp.display()
            ))
        };
        let mut file = tokio::fs::File::create(temp).await.map_err(failed)?;
        let mut bytes = first.data.len() as u64;
        file.write_all(&first.data).await.map_err(failed)?;
        while let Some(chunk) = stream.message().await? {
            bytes += chunk.data.len() as u64;
            file.write_all(&chunk.data).await.map_err(failed)?;
        }
        file.sync_all().await.map_err(failed)?;
        Ok(bytes)
    }
}

fn bad_payload(e: String) -> Status {
    Status::invalid_argument(e)
}

/// openraft answers an error only when it has stopped: UNAVAILABLE, so the caller backs off.
fn stopped(e: impl std::fmt::Display) -> Status {
    Status::unavailable(format!("raft on this node has stopped: {e}"))
}

impl PeerService {
    /// An answer naming this node's command set and archive layout (see
    /// [`crate::identity::PeerCommandSets`]).
    fn answered<T>(&self, message: T) -> Response<T> {
        let mut response = Response::new(message);
        crate::identity::stamp_answer(response.metadata_mut(), self.sink.app.archive_version());
        response
    }
}

fn encoded(value: &impl serde::Serialize) -> Result<Vec<u8>, Status> {
    encode(value).map_err(Status::internal)
}

/// The requests of a replication stream, decoded; the stream ends at the first message that
/// does not decode (or a transport error), leaving the reason in `ended`.
fn decoded_requests(
    incoming: Streaming<pb::StreamAppendRequest>,
    ended: Arc<Mutex<Option<Status>>>,
) -> impl futures::Stream<Item = AppendEntriesRequest<TypeConfig>> + Send + 'static {
    futures::stream::unfold(Some(incoming), move |incoming| {
        let ended = ended.clone();
        async move {
            let mut incoming = incoming?;
            let failure = match incoming.message().await {
                Ok(Some(message)) => match decode(&message.payload) {
                    Ok(rpc) => return Some((rpc, Some(incoming))),
                    Err(e) => bad_payload(e),
                },
                Ok(None) => return None,
                Err(status) => status,
            };
            *ended.lock().unwrap_or_else(|p| p.into_inner()) = Some(failure);
            None
        }
    })
}

#[tonic::async_trait]
impl RaftPeerService for PeerService {
    type StreamAppendStream = BoxStream<'static, Result<pb::StreamAppendResponse, Status>>;

    /// Hands the requests to openraft, which appends them in order and answers each once it is
    /// durable; a refusal or a stopped Raft ends the answers. Answers to the requests before a
    /// message that does not decode go out first, then INVALID_ARGUMENT naming it.
    async fn stream_append(
        &self,
        req: Request<Streaming<pb::StreamAppendRequest>>,
    ) -> Result<Response<Self::StreamAppendStream>, Status> {
        if !self.stream_append {
            return Err(Status::unimplemented(
                "StreamAppend is not served by this node (as by a release before it)",
            ));
        }
        let ended = Arc::new(Mutex::new(None));
        let requests = decoded_requests(req.into_inner(), ended.clone());
        let answers = self
            .raft
            .stream_append(requests)
            .map(|answer| match answer {
                Ok(result) => encoded(&result).map(|payload| pb::StreamAppendResponse { payload }),
                Err(fatal) => Err(stopped(fatal)),
            });
        let why_ended =
            futures::stream::once(
                async move { ended.lock().unwrap_or_else(|p| p.into_inner()).take() },
            )
            .filter_map(|status| async move { status.map(Err) });
        Ok(self.answered(answers.chain(why_ended).boxed()))
    }

    async fn append_entries(
        &self,
        req: Request<pb::AppendEntriesRequest>,
    ) -> Result<Response<pb::AppendEntriesResponse>, Status> {
        let rpc = decode(&req.into_inner().payload).map_err(bad_payload)?;
        let answer = self.raft.append_entries(rpc).await.map_err(stopped)?;
        Ok(self.answered(pb::AppendEntriesResponse {
            payload: encoded(&answer)?,
        }))
    }

    async fn vote(
        &self,
        req: Request<pb::VoteRequest>,
    ) -> Result<Response<pb::VoteResponse>, Status> {
        let rpc: VoteRequest<TypeConfig> =
            decode(&req.into_inner().payload).map_err(bad_payload)?;
        let answer = self.raft.vote(rpc).await.map_err(stopped)?;
        Ok(self.answered(pb::VoteResponse {
            payload: encoded(&answer)?,
        }))
    }

    async fn pre_vote(
        &self,
        req: Request<pb::PreVoteRequest>,
    ) -> Result<Response<pb::PreVoteResponse>, Status> {
        let rpc: VoteRequest<TypeConfig> =
            decode(&req.into_inner().payload).map_err(bad_payload)?;
        let answer = self.raft.pre_vote(rpc).await.map_err(stopped)?;
        Ok(self.answered(pb::PreVoteResponse {
            payload: encoded(&answer)?,
        }))
    }

    async fn full_snapshot(
        &self,
        _req: Request<pb::FullSnapshotRequest>,
    ) -> Result<Response<pb::FullSnapshotResponse>, Status> {
        Err(Status::unimplemented(
            "FullSnapshot is superseded by SendSnapshot: upgrade the sending node",
        ))
    }

    async fn send_snapshot(
        &self,
        req: Request<Streaming<pb::SendSnapshotRequest>>,
    ) -> Result<Response<pb::SendSnapshotResponse>, Status> {
        let mut stream = req.into_inner();
        let first = stream
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("empty snapshot stream"))?;
        let (vote, meta): (VoteOf<TypeConfig>, SnapshotMetaOf<TypeConfig>) =
            decode(&first.header).map_err(bad_payload)?;
        let temp = self.sink.dir.temp_path("receive");
        let _cleanup = TempFile(temp.clone());
        let bytes = self.receive(first, &mut stream, &temp).await?;

        // Check the whole archive before openraft sees it, and that it is what the meta says.
        let (app, path) = (self.sink.app.clone(), temp.clone());
        let stored = tokio::task::spawn_blocking(move || app.verify_snapshot(&path))
            .await
            .map_err(|e| Status::internal(format!("snapshot check task: {e}")))?
            .map_err(|e| Status::data_loss(format!("received snapshot refused: {e}")))?;
        let stored = RaftMeta::decode(&stored, &"received snapshot raft_meta")
            .map_err(|e| Status::data_loss(e.to_string()))?;
        if stored.last_applied != meta.last_log_id {
            return Err(Status::invalid_argument(format!(
                "snapshot meta says {:?} but the archive holds {:?}",
                meta.last_log_id, stored.last_applied
            )));
        }
        tracing::info!(bytes, last = ?meta.last_log_id, "received a snapshot; installing it");
        let snapshot = SnapshotOf::<TypeConfig, SnapshotFile> {
            meta,
            snapshot: SnapshotFile { path: temp.clone() },
        };
        let answer = self
            .raft
            .install_full_snapshot(vote, snapshot)
            .await
            .map_err(stopped)?;
        Ok(Response::new(pb::SendSnapshotResponse {
            payload: encoded(&answer)?,
        }))
    }

    async fn transfer_leader(
        &self,
        req: Request<pb::RaftPeerServiceTransferLeaderRequest>,
    ) -> Result<Response<pb::RaftPeerServiceTransferLeaderResponse>, Status> {
        let rpc: TransferLeaderRequest<TypeConfig> =
            decode(&req.into_inner().payload).map_err(bad_payload)?;
        let answer = self
            .raft
            .handle_transfer_leader(rpc)
            .await
            .map_err(stopped)?;
        Ok(Response::new(pb::RaftPeerServiceTransferLeaderResponse {
            payload: encoded(&answer)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(secret: Option<&str>) -> Request<()> {
        let mut req = Request::new(());
        if let Some(s) = secret {
            req.metadata_mut()
                .insert(SECRET_HEADER, s.parse().expect("ascii"));
        }
        req
    }

    #[test]
    fn the_interceptor_wants_the_right_secret() {
        let secret = ClusterSecret::new("peer-secret").expect("non-empty");
        assert!(check_secret(&secret, request(Some("peer-secret"))).is_ok());
        let missing = check_secret(&secret, request(None)).expect_err("no secret");
        assert_eq!(missing.code(), tonic::Code::Unauthenticated);
        let wrong = check_secret(&secret, request(Some("other"))).expect_err("wrong secret");
        assert_eq!(wrong.code(), tonic::Code::PermissionDenied);
    }

    #[test]
    fn garbage_payloads_are_errors_not_panics() {
        let err = decode::<VoteRequest<TypeConfig>>(&[0xff, 0xff, 0xff]).expect_err("garbage");
        assert!(err.contains("same openraft version"), "{err}");
        assert_eq!(bad_payload(err).code(), tonic::Code::InvalidArgument);
    }
}
