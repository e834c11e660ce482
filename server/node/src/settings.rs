//! Cluster-wide settings that come from flags: the retention defaults. They live in the
//! replicated state (the state machine must not read flags); the leader proposes its own
//! values whenever the state holds others, so set the same flags on every node.

use std::time::Duration;

use corvo_api::Engine;
use corvo_core::{Command, StateRead, keys};
use tokio::sync::watch;
use tracing::{info, warn};

/// How often the leader compares its flags with the state (a new leader within this).
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Refuses retention flags the state machine would refuse (1 s to ten years), at startup.
pub fn check_retention(retention: Duration, dead_retention: Duration) -> anyhow::Result<()> {
    for (flag, d) in [
        ("--retention", retention),
        ("--dead-retention", dead_retention),
    ] {
        corvo_core::queues::check_retention(flag, d.as_millis() as u64)
            .map_err(|e| anyhow::anyhow!("{e} (got {})", humantime::format_duration(d)))?;
    }
    Ok(())
}

/// Until `stop`: while this node leads, makes the state's retention defaults its flags'.
pub async fn sync_retention(
    engine: Engine,
    retention: Duration,
    dead_retention: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let wanted = (
        retention.as_millis() as u64,
        dead_retention.as_millis() as u64,
    );
    loop {
        let s = engine.raft().status();
        if s.leader_id == Some(s.node_id) && !engine.is_draining() {
            match current(&engine) {
                Ok(now) if now == wanted => {}
                Ok(_) => {
                    let cmd = Command::SetRetentionDefaults {
                        retention_ms: wanted.0,
                        dead_retention_ms: wanted.1,
                    };
                    match engine.propose_one(cmd).await {
                        Ok(_) => info!(
                            retention_ms = wanted.0,
                            dead_retention_ms = wanted.1,
                            "retention defaults set from this node's flags"
                        ),
                        Err(e) => warn!(error = %e, "setting the retention defaults failed"),
                    }
                }
                Err(e) => warn!(error = %e, "reading the retention defaults"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

fn current(engine: &Engine) -> anyhow::Result<(u64, u64)> {
    let reader = engine.read()?;
    let read = |name: &[u8]| -> anyhow::Result<u64> {
        Ok(match reader.get(keys::Table::Meta, name)? {
            Some(b) => keys::decode_u64(keys::Table::Meta, name, &b)?,
            None => 0,
        })
    };
    Ok((
        read(keys::meta::RETENTION_MS)?,
        read(keys::meta::DEAD_RETENTION_MS)?,
    ))
}
