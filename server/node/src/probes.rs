//! The node's probes on the client port: liveness (`GET /healthz`), readiness (`GET /readyz`
//! and `grpc.health.v1.Health`) and `GET /metrics`, plus the task that keeps readiness current.
//!
//! ```text
//!  readiness task ── every readiness_interval, on a Raft role/leader change, on drain ──▶
//!    probe: write <data-dir>/.readiness-probe ─┐
//!    raft status, draining, startup commit ────┴▶ corvo_api::readiness::evaluate
//!        └▶ Engine::set_readiness ─▶ /readyz, corvo status, corvo_ready
//!        └▶ grpc.health.v1: "" and corvo.v1.WorkerService SERVING / NOT_SERVING
//! ```
//!
//! Liveness stays 200 for as long as the process serves and its storage opens, draining
//! included, so an orchestrator never restarts a node that is shutting down cleanly.

use std::path::{Path, PathBuf};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use corvo_api::Engine;
use corvo_api::readiness::{self, ReadinessInputs};
use corvo_api::status::Readiness;
use tokio::sync::watch;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tracing::{info, warn};

/// The HTTP routes on the client port (also the `method` label values of their requests);
/// the join route is served by `join.rs`.
pub const HTTP_PATHS: [&str; 4] = ["/healthz", "/readyz", "/metrics", crate::join::JOIN_PATH];
/// The gRPC health names that follow readiness: the whole server and the worker service.
pub const HEALTH_SERVICES: [&str; 2] = ["", "corvo.v1.WorkerService"];
/// The file the readiness probe rewrites to prove the data directory is writable.
const PROBE_FILE: &str = ".readiness-probe";

pub fn http_routes(engine: Engine) -> axum::Router {
    axum::Router::new()
        .route(HTTP_PATHS[0], get(healthz))
        .route(HTTP_PATHS[1], get(readyz))
        .route(HTTP_PATHS[2], get(metrics))
        .with_state(engine)
}

/// Liveness: the process is up, its storage answers and Raft has not stopped on an error
/// (after one, the node cannot recover without a restart; it exits after a grace too).
async fn healthz(State(engine): State<Engine>) -> (http::StatusCode, String) {
    if let Some(fatal) = engine.raft().status().fatal {
        return (
            http::StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{}\n",
                serde_json::json!({"status": "raft stopped", "error": fatal})
            ),
        );
    }
    match engine.read() {
        Ok(_) => {
            let s = engine.raft().status();
            let body = serde_json::json!({
                "status": "ok",
                "node_id": s.node_id,
                "leader_id": s.leader_id,
                "term": s.term,
                "last_applied": s.last_applied,
                "draining": engine.is_draining(),
            });
            (http::StatusCode::OK, format!("{body}\n"))
        }
        Err(e) => (
            http::StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{}\n",
                serde_json::json!({"status": "storage unavailable", "error": e.to_string()})
            ),
        ),
    }
}

/// Readiness: 200 when the node may get traffic, else 503 with the reasons.
async fn readyz(State(engine): State<Engine>) -> (http::StatusCode, String) {
    let r = engine.readiness();
    let code = if r.ready {
        http::StatusCode::OK
    } else {
        http::StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if r.ready { "ready" } else { "not ready" },
        "reasons": r.reasons,
    });
    (code, format!("{body}\n"))
}

/// Prometheus exposition: OpenMetrics when the scraper asks for it, else text 0.0.4.
async fn metrics(State(engine): State<Engine>, headers: http::HeaderMap) -> Response {
    let openmetrics = headers
        .get(http::header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    match engine.node_status().await {
        Ok(status) => {
            let (content_type, body) = engine.metrics().encode(&status, openmetrics);
            ([(http::header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Err(e) => (http::StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    }
}

/// Keeps readiness current until `stop` turns true.
pub async fn run_readiness(
    engine: Engine,
    health: HealthReporter,
    startup_committed: Option<u64>,
    mut stop: watch::Receiver<bool>,
) {
    let mut role = engine.raft().watch_role();
    let mut draining = engine.draining();
    let data_dir = engine.node().data_dir.clone();
    let mut first = true;
    loop {
        let storage = probe_storage(data_dir.clone()).await;
        let raft = engine.raft().status();
        let leader_addr_known = raft
            .leader_id
            .is_some_and(|id| id == raft.node_id || engine.raft().api_addr_of(id).is_some());
        let verdict = readiness::evaluate(&ReadinessInputs {
            leader_addr_known,
            draining: engine.is_draining(),
            raft: &raft,
            storage,
            startup_committed,
            apply_backlog_max: engine.opts().ready_apply_backlog_max,
        });
        if engine.set_readiness(verdict.clone()) || first {
            first = false;
            publish(&health, &verdict).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(engine.opts().readiness_interval) => {}
            alive = role.changed() => if !alive {
                // Raft stopped: nothing more will change; re-check on the interval only.
                role = engine.raft().watch_role();
                tokio::time::sleep(engine.opts().readiness_interval).await;
            },
            _ = draining.changed() => {}
            changed = stop.changed() => if changed.is_err() {
                return;
            },
        }
        if *stop.borrow() {
            return;
        }
    }
}

async fn publish(health: &HealthReporter, verdict: &Readiness) {
    let status = if verdict.ready {
        info!("ready");
        ServingStatus::Serving
    } else {
        warn!(reasons = ?verdict.reasons, "not ready");
        ServingStatus::NotServing
    };
    for service in HEALTH_SERVICES {
        health.set_service_status(service, status).await;
    }
}

/// The drain begins: no new work, and `/readyz` and every health name turn not-ready
/// together. Set here rather than left to the readiness task, which probes the disk before
/// its next verdict: a client that sees NOT_SERVING must not still get 200 from `/readyz`.
/// (The storage probe is not re-run here; the task's next verdict adds its reason if any.)
pub async fn begin_drain(engine: &Engine, health: &HealthReporter) {
    engine.start_drain();
    let raft = engine.raft().status();
    engine.set_readiness(readiness::evaluate(&ReadinessInputs {
        draining: true,
        raft: &raft,
        storage: Ok(()),
        startup_committed: None,
        apply_backlog_max: engine.opts().ready_apply_backlog_max,
        // Draining is reason enough.
        leader_addr_known: true,
    }));
    set_not_serving(health).await;
}

/// Marks every health name NOT_SERVING at once (the drain begins).
pub async fn set_not_serving(health: &HealthReporter) {
    for service in HEALTH_SERVICES {
        health
            .set_service_status(service, ServingStatus::NotServing)
            .await;
    }
}

/// Removes every health name, which ends open `Health.Watch` streams (the drain is over).
pub async fn clear(health: &mut HealthReporter) {
    for service in HEALTH_SERVICES {
        health.clear_service_status(service).await;
    }
}

/// Proves the data directory takes writes by rewriting a small file in it.
async fn probe_storage(data_dir: PathBuf) -> Result<(), String> {
    tokio::task::spawn_blocking(move || write_probe(&data_dir))
        .await
        .map_err(|e| format!("probe task: {e}"))?
}

fn write_probe(data_dir: &Path) -> Result<(), String> {
    let path = data_dir.join(PROBE_FILE);
    std::fs::write(&path, b"corvo readiness probe\n")
        .map_err(|e| format!("writing {}: {e}", path.display()))
}
