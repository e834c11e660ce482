//! API keys as replicated state: who may call the server, with which role, on which queues.
//!
//! A key's secret never enters the state: the API layer draws it from the OS RNG, shows it
//! once, and proposes only its SHA-256 ([`KeySecret::hash`]). Checking a presented key (hash
//! lookup, expiry, role, queue scopes) is the API layer's job; this module holds the records
//! and the structural rules every replica enforces on them.

use serde::{Deserialize, Serialize};

use crate::command::JobError;
use crate::validate::{self, invalid};

/// What a key may do. The role × RPC matrix lives with the API layer's auth (and in
/// `docs/security.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Everything, keys and membership changes included.
    Admin,
    /// Queues, jobs and cluster status; no keys, no membership changes.
    Operator,
    /// Enqueue, fetch, ack, fail, heartbeat, subscribe and get its own jobs, within its scopes.
    Worker,
    /// Get, list, subscribe and status.
    Readonly,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Operator, Role::Worker, Role::Readonly];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Worker => "worker",
            Role::Readonly => "readonly",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// One secret of a key: its SHA-256 and, once rotated out, the end of its grace period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySecret {
    pub hash: [u8; 32],
    pub created_at_ms: u64,
    /// `None` for the current secret; the end of the grace period for a rotated-out one.
    pub valid_until_ms: Option<u64>,
}

/// An API key as stored in the `ApiKeys` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Chosen by the leader at proposal (`key_` + a ULID).
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Queue-name globs (`emails.*`) the key may touch; empty means every queue.
    pub queues: Vec<String>,
    pub created_at_ms: u64,
    pub expires_at_ms: Option<u64>,
    /// Requests (and stream frames) per second; `None` takes the role's default.
    pub rate_limit_rps: Option<u32>,
    pub revoked_at_ms: Option<u64>,
    /// The last use the leader recorded (written at most once a minute per key).
    pub last_used_ms: Option<u64>,
    /// The current secret first, then at most one rotated-out secret in its grace period.
    pub secrets: Vec<KeySecret>,
}

impl ApiKey {
    /// How many secrets a key holds at most: the current one and the one it replaced.
    pub const SECRETS_MAX: usize = 2;
}

/// Key names: 1..=128 bytes.
pub const KEY_NAME_BYTES_MAX: usize = 128;
/// Key ids: 1..=64 bytes.
pub const KEY_ID_BYTES_MAX: usize = 64;
/// Queue scopes per key.
pub const KEY_SCOPES_MAX: usize = 64;
/// The longest grace a rotated-out secret may keep (30 days).
pub const ROTATION_GRACE_MS_MAX: u64 = 30 * 24 * 3_600_000;
/// At most this many keys in one `TouchKeys`.
pub const TOUCH_KEYS_MAX: usize = 1_024;

/// The structural rules of a new key (the API layer also checks each scope's glob syntax).
pub fn check_new_key(id: &str, name: &str, queues: &[String]) -> Result<(), JobError> {
    check_key_id("id", id)?;
    if name.is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    validate::bounded_text("name", name, KEY_NAME_BYTES_MAX)?;
    if name.chars().any(char::is_control) {
        return Err(invalid("name", "must not contain control characters"));
    }
    if queues.len() > KEY_SCOPES_MAX {
        return Err(invalid(
            "queues",
            format!("has {} entries, at most {KEY_SCOPES_MAX}", queues.len()),
        ));
    }
    for q in queues {
        if q.is_empty() {
            return Err(invalid("queues", "a scope must not be empty"));
        }
        validate::bounded_text("queues", q, validate::QUEUE_NAME_BYTES_MAX)?;
    }
    Ok(())
}

pub fn check_key_id(field: &str, id: &str) -> Result<(), JobError> {
    if id.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    validate::bounded_text(field, id, KEY_ID_BYTES_MAX)
}
