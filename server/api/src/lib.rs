//! Corvo's gRPC surface: the only crate that knows gRPC.
//!
//! ```text
//!  tonic ─▶ WorkerService / JobService (services.rs, stream.rs, subscribe.rs)
//!             │ convert.rs: proto ⇄ core, every field validated (named in errors)
//!             ▼
//!           Engine (engine.rs): proposes commands through corvo-raft's Proposer,
//!             reads state snapshots from corvo-store, waits for work on `Signals`
//!             ▲
//!  corvo-raft ApplyListener (signals.rs): applied effects ─▶ ready / events / revoked
//!                                                      └─▶ Ticker (ticker.rs): proposes
//!                                                          `Tick` when the next timer is due
//! ```
//!
//! Errors reach the wire in exactly one place, [`error::ApiError`]'s conversion into
//! `tonic::Status` (and [`error::ApiError::code`] for stream frames), which also counts them
//! as rejections.
//!
//! The tower stack of the client port is assembled in [`stack`], one module per layer:
//! [`trace_context`], [`rpc_metrics`], [`auth`] (API keys from [`keyring`], the role matrix of
//! [`permissions`], the caller as a [`principal`] whose queue scopes the services check),
//! [`rate_limit`], [`backpressure`], [`deadline`] and [`forward`] (a follower forwards
//! WorkerService, JobService and KeyService calls to the leader). [`key_service`] manages the
//! keys; [`connection`] reads what the connection tells (address, client certificate).
//!
//! Observability: [`metrics`] owns the Prometheus registry; [`status`] is the node snapshot
//! behind `/metrics` and `ClusterService` ([`cluster`]); [`readiness`] judges whether the node
//! may get traffic; [`roster`] counts open worker streams; [`host`] reads `/proc` and the data
//! dir's filesystem.

pub mod activity;
pub mod auth;
pub mod backpressure;
pub mod bulk;
pub mod cluster;
pub mod connection;
pub mod convert;
pub mod deadline;
pub mod dispatch;
pub mod engine;
pub mod error;
pub mod forward;
pub mod host;
pub mod key_service;
pub mod keyring;
pub mod metrics;
pub mod options;
pub mod permissions;
pub mod principal;
pub mod queue_service;
pub mod rate_limit;
pub mod readiness;
pub mod roster;
pub mod rpc_metrics;
pub mod services;
pub mod signals;
pub mod stack;
pub mod status;
pub mod stream;
pub mod subscribe;
pub mod ticker;
pub mod trace_context;

pub use engine::Engine;
pub use error::ApiError;
pub use metrics::{CheckpointTrigger, Metrics};
pub use options::ApiOptions;
pub use signals::Signals;
