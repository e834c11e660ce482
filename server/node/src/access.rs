//! The node's side of API keys: the bootstrap admin key, the last-used times the leader
//! records, and the loud warning while a node reachable from the network runs open.
//!
//! ```text
//!  start ──▶ bootstrap_key (flag, env or file) ──▶ task: once this node leads and no key
//!            exists, propose CreateKey{only_if_first} with the key's SHA-256
//!  every USAGE_CHECK_EVERY on the leader ──▶ KeyRing::usage_to_record ──▶ TouchKeys
//!  every OPEN_WARNING_EVERY while open and bound beyond loopback ──▶ warn!
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use corvo_api::Engine;
use corvo_api::keyring::{KeyRing, hash_secret, well_formed};
use corvo_core::access::{Role, TOUCH_KEYS_MAX};
use corvo_core::{Command, CreateKey, Reply};
use tokio::sync::watch;
use tracing::{info, warn};

/// How often the leader looks for key uses to record (each key at most once a minute).
const USAGE_CHECK_EVERY: Duration = Duration::from_secs(10);
/// How often a node that runs open beyond loopback says so.
const OPEN_WARNING_EVERY: Duration = Duration::from_secs(60);
/// How often the bootstrap task looks whether it can act.
const BOOTSTRAP_CHECK_EVERY: Duration = Duration::from_millis(500);
/// The bootstrap key must be long enough to be a secret.
const BOOTSTRAP_KEY_BYTES_MIN: usize = 32;

/// The bootstrap admin key from `--bootstrap-admin-key` (or its env) or its file, checked.
pub fn bootstrap_key(value: Option<&str>, file: Option<&Path>) -> anyhow::Result<Option<String>> {
    let key = match (value, file) {
        (Some(v), _) => v.trim().to_owned(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the bootstrap admin key file {}", path.display()))?
            .trim()
            .to_owned(),
        (None, None) => return Ok(None),
    };
    if key.len() < BOOTSTRAP_KEY_BYTES_MIN || !well_formed(&key) {
        anyhow::bail!(
            "the bootstrap admin key must be {BOOTSTRAP_KEY_BYTES_MIN} to 512 visible ASCII characters without spaces (e.g. `openssl rand -hex 32`)"
        );
    }
    Ok(Some(key))
}

/// Until a key exists: once this node leads, creates the bootstrap admin key (only if still
/// no key exists, which the state machine checks, so every node may carry the same key).
pub async fn bootstrap(
    engine: Engine,
    ring: Arc<KeyRing>,
    key: String,
    mut stop: watch::Receiver<bool>,
) {
    let hash = hash_secret(&key);
    drop(key);
    loop {
        if ring.has_keys() {
            return;
        }
        let status = engine.raft().status();
        if status.leader_id == Some(status.node_id) {
            let cmd = Command::CreateKey(CreateKey {
                id: corvo_api::key_service::new_key_id(&engine),
                name: "bootstrap admin".into(),
                role: Role::Admin,
                queues: Vec::new(),
                expires_at_ms: None,
                rate_limit_rps: None,
                hash,
                only_if_first: true,
            });
            match engine.propose_one(cmd).await {
                Ok(Reply::Key(k)) => {
                    info!(key_id = %k.id, "bootstrap admin key stored (its SHA-256 only)");
                    return;
                }
                Ok(_) => return,
                Err(e) => warn!(error = %e, "storing the bootstrap admin key failed; retrying"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(BOOTSTRAP_CHECK_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// On the leader, writes the keys' last-used times (each at most once a minute) until `stop`.
pub async fn record_usage(engine: Engine, ring: Arc<KeyRing>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(USAGE_CHECK_EVERY) => {}
            _ = stop.changed() => return,
        }
        let status = engine.raft().status();
        if status.leader_id != Some(status.node_id) {
            // Followers relay the calls that matter to the leader, which records them; the
            // uses a follower saw alone are dropped here rather than forwarded.
            ring.usage_to_record();
            continue;
        }
        let used = ring.usage_to_record();
        for chunk in used.chunks(TOUCH_KEYS_MAX) {
            let cmd = Command::TouchKeys {
                used: chunk.to_vec(),
            };
            if let Err(e) = engine.propose_one(cmd).await {
                warn!(error = %e, "recording API key use failed");
            }
        }
    }
}

/// Warns at start and every minute while the node runs open and listens beyond loopback.
pub async fn warn_while_open(
    ring: Arc<KeyRing>,
    bind: SocketAddr,
    require_auth: bool,
    mut stop: watch::Receiver<bool>,
) {
    if require_auth || bind.ip().is_loopback() {
        return;
    }
    loop {
        if ring.has_keys() {
            return;
        }
        warn!(
            bind = %bind,
            "NO API KEYS: this node listens beyond loopback and runs open, so anyone who can reach it can enqueue, delete and read every job. Create a key (`corvo keys create --role admin`), or start with --require-auth and CORVO_BOOTSTRAP_ADMIN_KEY; see docs/security.md"
        );
        tokio::select! {
            _ = tokio::time::sleep(OPEN_WARNING_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bootstrap_key_must_look_like_a_secret() {
        assert_eq!(bootstrap_key(None, None).unwrap(), None);
        let good = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            bootstrap_key(Some(&format!("  {good}\n")), None).unwrap(),
            Some(good.to_owned())
        );
        assert!(bootstrap_key(Some("too-short"), None).is_err());
        assert!(bootstrap_key(Some("0123456789abcdef 0123456789abcdef"), None).is_err());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, format!("{good}\n")).unwrap();
        assert_eq!(
            bootstrap_key(None, Some(&file)).unwrap(),
            Some(good.to_owned())
        );
        let missing = bootstrap_key(None, Some(&dir.path().join("nope"))).unwrap_err();
        assert!(format!("{missing:#}").contains("bootstrap admin key file"));
    }
}
