//! `Subscribe`: the event log from `last_event_id` on, then live. Waits on the applied
//! event id (no polling) and reads from the state, so a resumed subscription sees every
//! retained event exactly once, in order.

use std::collections::HashSet;

use corvo_core::query;
use corvo_sdk::proto as pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::convert;
use crate::engine::Engine;
use crate::error::ApiError;
use crate::keyring::Credential;
use crate::principal::{Principal, Scopes};

/// Filter lists longer than this are refused (they are matched per event).
const FILTER_ITEMS_MAX: usize = 1_024;
/// Events buffered per subscriber before reading the log pauses.
const SUBSCRIBER_BUFFER_MAX: usize = 256;

struct Filter {
    queues: HashSet<String>,
    job_ids: HashSet<String>,
    types: HashSet<String>,
    /// The caller's queue scopes: events of other queues are never sent.
    scopes: std::sync::Arc<Scopes>,
}

impl Filter {
    fn matches(&self, e: &corvo_core::Event) -> bool {
        self.scopes.allows(&e.queue)
            && (self.queues.is_empty() || self.queues.contains(&e.queue))
            && (self.job_ids.is_empty() || self.job_ids.contains(&e.job_id))
            && (self.types.is_empty() || self.types.contains(e.kind.as_str()))
    }
}

/// A caller scoped to some queues may name only queues within them; without a queue filter
/// it gets the events of its queues only.
pub fn stream(
    engine: Engine,
    principal: Principal,
    credential: Option<Credential>,
    req: pb::SubscribeRequest,
) -> Result<ReceiverStream<Result<pb::SubscribeResponse, Status>>, Status> {
    for (field, len) in [
        ("queues", req.queues.len()),
        ("job_ids", req.job_ids.len()),
        ("types", req.types.len()),
    ] {
        if len > FILTER_ITEMS_MAX {
            return Err(ApiError::invalid(
                field,
                format!("has {len} entries, at most {FILTER_ITEMS_MAX}"),
            )
            .into());
        }
    }
    if let Some(t) = req.types.iter().find(|t| {
        !corvo_core::EventKind::ALL
            .iter()
            .any(|k| k.as_str() == t.as_str())
    }) {
        let known: Vec<&str> = corvo_core::EventKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect();
        return Err(ApiError::invalid(
            "types",
            format!("unknown event type {t:?} (known: {})", known.join(", ")),
        )
        .into());
    }
    for q in &req.queues {
        convert::queues(std::slice::from_ref(q), "queues")?;
        principal.check_queue(q)?;
    }
    let filter = Filter {
        queues: req.queues.into_iter().collect(),
        job_ids: req.job_ids.into_iter().collect(),
        types: req.types.into_iter().collect(),
        scopes: principal.scopes.clone(),
    };
    let after = if req.from_now {
        *engine.signals().events().borrow()
    } else {
        req.last_event_id
    };
    let (tx, rx) = mpsc::channel(SUBSCRIBER_BUFFER_MAX);
    tokio::spawn(follow(engine, filter, credential, after, tx));
    Ok(ReceiverStream::new(rx))
}

/// Sends events until the client goes, the node drains, or the key the subscription was
/// opened with is revoked, expires or is rotated out (UNAUTHENTICATED).
async fn follow(
    engine: Engine,
    filter: Filter,
    credential: Option<Credential>,
    mut after: u64,
    tx: mpsc::Sender<Result<pb::SubscribeResponse, Status>>,
) {
    let mut newest = engine.signals().events();
    let mut draining = engine.draining();
    let mut key_changes = credential.as_ref().map(Credential::reloads);
    let batch = engine.opts().subscribe_batch_max;
    loop {
        if let Some(c) = &credential
            && let Err(e) = c.recheck(crate::engine::wall_clock_ms())
        {
            let _ = tx.send(Err(e.into())).await;
            return;
        }
        let events = match engine
            .read()
            .and_then(|r| query::events_after(&r, after, batch).map_err(Into::into))
        {
            Ok(e) => e,
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        };
        let full = events.len() == batch;
        for e in events {
            after = e.seq;
            if !filter.matches(&e) {
                continue;
            }
            let msg = pb::SubscribeResponse {
                seq: e.seq,
                r#type: e.kind.as_str().to_owned(),
                job_id: e.job_id,
                queue: e.queue,
                at_ns: e.at_ms.saturating_mul(1_000_000),
                data_json: e.data,
            };
            if tx.send(Ok(msg)).await.is_err() {
                return;
            }
        }
        if full {
            continue;
        }
        if *newest.borrow_and_update() > after {
            continue;
        }
        let keys_changed = async {
            match key_changes.as_mut() {
                Some(rx) => {
                    if rx.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = newest.changed() => if r.is_err() { return },
            _ = keys_changed => {}
            _ = draining.changed() => {
                if *draining.borrow() {
                    let e = ApiError::Unavailable {
                        reason: "server is shutting down; resume from the last seq".into(),
                        retry_after_ms: 1_000,
                    };
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            }
            _ = tx.closed() => return,
        }
    }
}
