//! The client port: gRPC services, reflection, health and the HTTP routes on one router, behind
//! the tower stack (`corvo_api::stack`), served over plaintext or TLS with tuned sockets and
//! HTTP/2 limits.
//!
//! ```text
//!  TcpListener ─▶ corvo_net (TCP_NODELAY, keepalive; TLS handshake when configured)
//!    └▶ tonic server: HTTP/1.1 + HTTP/2, max streams per connection, HTTP/2 keepalive pings
//!        └▶ stack::public (trace → metrics → auth → rate limit → backpressure → timeout →
//!           forwarding) └▶ routes: WorkerService, JobService, ClusterService, KeyService,
//!                         QueueService (each with its message bounds), health, reflection,
//!                         /healthz /readyz /metrics /api/v1/cluster/join (with timeouts)
//! ```

use std::sync::Arc;
use std::time::Duration;

use corvo_api::Engine;
use corvo_api::cluster::Cluster;
use corvo_api::key_service::Keys;
use corvo_api::queue_service::Queues;
use corvo_api::services::Services;
use corvo_net::ServerTls;
use corvo_raft::ClusterSecret;
use corvo_sdk::proto::cluster_service_server::ClusterServiceServer;
use corvo_sdk::proto::job_service_server::JobServiceServer;
use corvo_sdk::proto::key_service_server::KeyServiceServer;
use corvo_sdk::proto::queue_service_server::QueueServiceServer;
use corvo_sdk::proto::worker_service_server::WorkerServiceServer;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::service::Routes;

use crate::{join, probes};

/// The gRPC services of the client port, as server reflection lists them.
const PUBLIC_SERVICES: [&str; 8] = [
    "corvo.v1.WorkerService",
    "corvo.v1.JobService",
    "corvo.v1.ClusterService",
    "corvo.v1.KeyService",
    "corvo.v1.QueueService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// Requests of JobService and ClusterService are small (ids and filters): 1 MiB bounds them
/// with room to spare. Their answers may carry jobs: they get the WorkerService bound.
const ADMIN_REQUEST_BYTES_MAX: usize = 1 << 20;
/// KeyService requests: a name and a few scopes.
const KEY_REQUEST_BYTES_MAX: usize = 64 << 10;
/// The HTTP routes' bound (probes and /metrics answer in milliseconds; a stuck one must not
/// pile up requests). The join route has its own: a join waits for the node to catch up.
const HTTP_ROUTE_TIMEOUT: Duration = Duration::from_secs(10);

/// How the port is served (from `corvo server` flags).
pub struct PortOptions {
    pub http2_max_streams: u32,
    pub keepalive: Duration,
    pub tls: Option<Arc<ServerTls>>,
}

/// gRPC services, reflection, health and the HTTP routes, on one router.
pub fn routes(
    engine: Engine,
    health_service: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
    secret: Option<ClusterSecret>,
    message_bytes_max: usize,
) -> anyhow::Result<Routes> {
    let services = Services::new(engine.clone());
    let cluster = Cluster::new(engine.clone(), secret);
    // Reflection lists the services this port serves: the descriptor set also describes
    // RaftPeerService, which only the peer port serves.
    let reflection = || {
        PUBLIC_SERVICES.iter().fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(corvo_sdk::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
            |builder, name| builder.with_service_name(*name),
        )
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;
    let probes = probes::http_routes(engine.clone()).layer(
        tower_http::timeout::TimeoutLayer::with_status_code(
            http::StatusCode::GATEWAY_TIMEOUT,
            HTTP_ROUTE_TIMEOUT,
        ),
    );
    let http = probes.merge(join::http_routes(cluster.clone()));
    let routes = Routes::from(http)
        .add_service(
            WorkerServiceServer::new(services.clone())
                .max_decoding_message_size(message_bytes_max)
                .max_encoding_message_size(message_bytes_max),
        )
        .add_service(
            JobServiceServer::new(services)
                .max_decoding_message_size(ADMIN_REQUEST_BYTES_MAX)
                .max_encoding_message_size(message_bytes_max),
        )
        .add_service(
            ClusterServiceServer::new(cluster)
                .max_decoding_message_size(ADMIN_REQUEST_BYTES_MAX)
                .max_encoding_message_size(message_bytes_max),
        )
        .add_service(
            KeyServiceServer::new(Keys::new(engine.clone()))
                .max_decoding_message_size(KEY_REQUEST_BYTES_MAX),
        )
        .add_service(
            QueueServiceServer::new(Queues::new(engine))
                .max_decoding_message_size(ADMIN_REQUEST_BYTES_MAX)
                .max_encoding_message_size(message_bytes_max),
        )
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    Ok(routes)
}

/// Serves `routes` behind `stack` on `listener` until `close` resolves.
pub fn serve(
    listener: TcpListener,
    stack: corvo_api::stack::PublicStack,
    routes: Routes,
    opts: PortOptions,
    close: impl std::future::Future<Output = ()> + Send + 'static,
) -> JoinHandle<Result<(), tonic::transport::Error>> {
    let router = tonic::transport::Server::builder()
        .accept_http1(true)
        .max_concurrent_streams(Some(opts.http2_max_streams))
        .http2_keepalive_interval(Some(opts.keepalive))
        .http2_keepalive_timeout(Some(opts.keepalive))
        .layer(stack)
        .add_routes(routes);
    let tcp = corvo_net::tcp_incoming(
        listener,
        corvo_net::TcpTuning {
            keepalive: Some(opts.keepalive),
        },
    );
    match opts.tls {
        None => tokio::spawn(router.serve_with_incoming_shutdown(tcp, close)),
        Some(tls) => tokio::spawn(
            router.serve_with_incoming_shutdown(corvo_net::tls_incoming(tcp, tls), close),
        ),
    }
}
