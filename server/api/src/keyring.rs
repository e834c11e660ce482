//! The API keys this node checks calls against: an in-memory copy of the replicated `ApiKeys`
//! table, indexed by secret hash, reloaded whenever an apply changes a key.
//!
//! ```text
//!  apply (KeysChanged) ──▶ KeyRing::reload(keys from the state)
//!  auth layer ──▶ KeyRing::authenticate(secret, now) ──▶ Principal, or why not
//!                   └▶ notes the key's use (an atomic per key)
//!  leader, every USAGE_FLUSH_EVERY ──▶ KeyRing::usage_to_record ──▶ TouchKeys
//! ```
//!
//! Checking a key costs one SHA-256 of the presented secret and one hash-map lookup: no read
//! of the state and no Raft entry per request. Last-used times are written at most once per
//! [`USAGE_RECORD_INTERVAL_MS`] per key, by the leader (which serves every call that reads or
//! writes jobs, forwarded ones included).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use corvo_core::access::{ApiKey, Role};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::principal::{Identity, Principal, Scopes};

/// A key's last use is written to the state at most this often (one minute).
pub const USAGE_RECORD_INTERVAL_MS: u64 = 60_000;
/// The prefix of the secrets this server makes (`cvk_` + 64 hex digits): easy to recognise in
/// a leak scanner, and never confused with a cluster secret.
pub const SECRET_PREFIX: &str = "cvk_";
/// A presented credential must be 16..=512 visible ASCII characters to be looked up at all.
pub const CREDENTIAL_BYTES_MIN: usize = 16;
pub const CREDENTIAL_BYTES_MAX: usize = 512;

/// A fresh secret: 256 bits from the OS RNG, hex-encoded behind [`SECRET_PREFIX`].
pub fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(format!("the OS random number generator failed: {e}")))?;
    let mut secret = String::with_capacity(SECRET_PREFIX.len() + 64);
    secret.push_str(SECRET_PREFIX);
    for b in bytes {
        secret.push_str(&format!("{b:02x}"));
    }
    Ok(secret)
}

/// The key a call authenticated with, kept in its extensions: a stream re-checks it on every
/// frame.
#[derive(Clone)]
pub struct Credential {
    ring: std::sync::Arc<KeyRing>,
    hash: [u8; 32],
}

impl Credential {
    pub fn new(ring: std::sync::Arc<KeyRing>, secret: &str) -> Credential {
        Credential {
            ring,
            hash: hash_secret(secret),
        }
    }

    /// Changes whenever the keys are reloaded (a revocation among them).
    pub fn reloads(&self) -> tokio::sync::watch::Receiver<u64> {
        self.ring.reloads()
    }

    /// UNAUTHENTICATED once the key is revoked, expired or (this secret) rotated out.
    pub fn recheck(&self, now_ms: u64) -> Result<(), ApiError> {
        self.ring
            .lookup_hash(&self.hash, now_ms)
            .map(|_| ())
            .map_err(ApiError::from)
    }
}

/// The SHA-256 of a secret: all the state ever holds of it.
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether `text` could be a credential: 16..=512 visible ASCII characters.
pub fn well_formed(text: &str) -> bool {
    (CREDENTIAL_BYTES_MIN..=CREDENTIAL_BYTES_MAX).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_graphic())
}

/// What one key's secrets share: who it is and when it was last used.
struct KeyState {
    principal: Principal,
    expires_at_ms: Option<u64>,
    revoked_at_ms: Option<u64>,
    /// Last use seen by this node (Unix ms; 0 = none).
    used_ms: AtomicU64,
    /// Last use written to the state (from the state, or by this node's last touch).
    recorded_ms: AtomicU64,
}

/// One secret of a key.
struct Secret {
    key: Arc<KeyState>,
    /// Set once the secret was rotated out: it works until then.
    valid_until_ms: Option<u64>,
}

#[derive(Default)]
struct Ring {
    by_hash: HashMap<[u8; 32], Secret>,
    by_id: HashMap<String, Arc<KeyState>>,
}

/// See the module doc. Cheap to share (`Arc`); every method takes `&self`.
#[derive(Default)]
pub struct KeyRing {
    ring: RwLock<Arc<Ring>>,
    /// Bumped on every reload: a follower that did not know a key waits for the next one.
    reloads: tokio::sync::watch::Sender<u64>,
}

/// Why a presented secret was not taken.
#[derive(Debug)]
pub enum KeyRefusal {
    /// No key has this secret (on a follower: maybe not yet).
    Unknown,
    /// The key exists but is revoked, expired or rotated out: UNAUTHENTICATED, saying which.
    Refused(ApiError),
}

impl From<KeyRefusal> for ApiError {
    fn from(r: KeyRefusal) -> ApiError {
        match r {
            KeyRefusal::Unknown => ApiError::Unauthenticated {
                reason: "unknown API key".into(),
            },
            KeyRefusal::Refused(e) => e,
        }
    }
}

impl KeyRing {
    pub fn new(keys: Vec<ApiKey>) -> KeyRing {
        let ring = KeyRing::default();
        ring.reload(keys);
        ring
    }

    /// Whether any key exists (revoked ones included): once one does, the server requires
    /// keys for good; revoking every key never opens it again.
    pub fn has_keys(&self) -> bool {
        !self.current().by_id.is_empty()
    }

    fn current(&self) -> Arc<Ring> {
        self.ring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the keys with `keys` (the whole table). Uses seen by this node carry over.
    pub fn reload(&self, keys: Vec<ApiKey>) {
        let old = self.current();
        let mut ring = Ring::default();
        for key in keys {
            // A scope that does not compile (written by a newer release?) allows nothing
            // rather than everything.
            let scopes = Scopes::parse(&key.queues)
                .unwrap_or_else(|_| Scopes::parse(&["\u{0}never".to_owned()]).unwrap_or_default());
            let recorded = key.last_used_ms.unwrap_or(0);
            let used = old
                .by_id
                .get(&key.id)
                .map_or(0, |k| k.used_ms.load(Ordering::Relaxed));
            let state = Arc::new(KeyState {
                principal: Principal {
                    identity: Identity::Key {
                        id: key.id.clone(),
                        name: key.name.clone(),
                    },
                    role: key.role,
                    scopes: Arc::new(scopes),
                    rate_limit_rps: key.rate_limit_rps,
                },
                expires_at_ms: key.expires_at_ms,
                revoked_at_ms: key.revoked_at_ms,
                used_ms: AtomicU64::new(used.max(recorded)),
                recorded_ms: AtomicU64::new(recorded),
            });
            for secret in &key.secrets {
                ring.by_hash.insert(
                    secret.hash,
                    Secret {
                        key: state.clone(),
                        valid_until_ms: secret.valid_until_ms,
                    },
                );
            }
            ring.by_id.insert(key.id, state);
        }
        *self
            .ring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(ring);
        self.reloads.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes on every reload.
    pub fn reloads(&self) -> tokio::sync::watch::Receiver<u64> {
        self.reloads.subscribe()
    }

    /// The principal of a presented secret at `now_ms`, or UNAUTHENTICATED saying why not
    /// (unknown, revoked, expired, or a rotated-out secret past its grace). Notes the use.
    pub fn authenticate(&self, secret: &str, now_ms: u64) -> Result<Principal, ApiError> {
        self.lookup(secret, now_ms).map_err(ApiError::from)
    }

    /// [`KeyRing::authenticate`], telling an unknown key apart from a refused one.
    pub fn lookup(&self, secret: &str, now_ms: u64) -> Result<Principal, KeyRefusal> {
        self.lookup_hash(&hash_secret(secret), now_ms)
    }

    /// [`KeyRing::lookup`] by the secret's hash: what a long-lived stream re-checks, so a key
    /// revoked, expired or rotated out while the stream is open stops it too.
    pub fn lookup_hash(&self, hash: &[u8; 32], now_ms: u64) -> Result<Principal, KeyRefusal> {
        let ring = self.current();
        let refuse =
            |reason: String| Err(KeyRefusal::Refused(ApiError::Unauthenticated { reason }));
        let Some(found) = ring.by_hash.get(hash) else {
            return Err(KeyRefusal::Unknown);
        };
        let key = &found.key;
        let who = &key.principal;
        if let Some(at) = key.revoked_at_ms {
            return refuse(format!("{who} was revoked at {}", rfc3339(at)));
        }
        if let Some(at) = key.expires_at_ms.filter(|at| *at <= now_ms) {
            return refuse(format!("{who} expired at {}", rfc3339(at)));
        }
        if let Some(until) = found.valid_until_ms.filter(|until| *until <= now_ms) {
            return refuse(format!(
                "this secret of {who} was rotated out; its grace period ended at {}",
                rfc3339(until)
            ));
        }
        key.used_ms.fetch_max(now_ms, Ordering::Relaxed);
        Ok(who.clone())
    }

    /// Keys used since their last recorded use by more than [`USAGE_RECORD_INTERVAL_MS`]:
    /// (key id, last use), marked as recorded. The caller proposes them as `TouchKeys`; if
    /// that fails, they come again next time only after another use.
    pub fn usage_to_record(&self) -> Vec<(String, u64)> {
        let ring = self.current();
        let mut due = Vec::new();
        for (id, key) in &ring.by_id {
            let used = key.used_ms.load(Ordering::Relaxed);
            let recorded = key.recorded_ms.load(Ordering::Relaxed);
            if used > recorded && used - recorded >= USAGE_RECORD_INTERVAL_MS
                || used > 0 && recorded == 0
            {
                key.recorded_ms.store(used, Ordering::Relaxed);
                due.push((id.clone(), used));
            }
        }
        due.sort();
        due
    }

    /// How many keys (for status and tests).
    pub fn len(&self) -> usize {
        self.current().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The roles of the keys, for the warnings at start-up (an admin key exists?).
    pub fn has_role(&self, role: Role) -> bool {
        self.current()
            .by_id
            .values()
            .any(|k| k.principal.role == role && k.revoked_at_ms.is_none())
    }
}

/// Unix ms as an RFC 3339 UTC time (seconds), for messages.
pub fn rfc3339(ms: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    use corvo_core::access::KeySecret;

    use super::*;

    fn key(id: &str, secret: &str) -> ApiKey {
        ApiKey {
            id: id.into(),
            name: format!("{id} name"),
            role: Role::Worker,
            queues: vec!["emails.*".into()],
            created_at_ms: 1_000,
            expires_at_ms: None,
            rate_limit_rps: Some(7),
            revoked_at_ms: None,
            last_used_ms: None,
            secrets: vec![KeySecret {
                hash: hash_secret(secret),
                created_at_ms: 1_000,
                valid_until_ms: None,
            }],
        }
    }

    #[test]
    fn secrets_are_random_prefixed_and_well_formed() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_PREFIX) && a.len() == SECRET_PREFIX.len() + 64);
        assert!(well_formed(&a));
        assert!(!well_formed("short"));
        assert!(!well_formed("has a space in the middle of it"));
        assert!(!well_formed(&"x".repeat(513)));
    }

    #[test]
    fn a_key_authenticates_until_revoked_or_expired() {
        let ring = KeyRing::new(vec![key("k1", "secret-number-one")]);
        assert!(ring.has_keys());
        let p = ring.authenticate("secret-number-one", 5_000).unwrap();
        assert_eq!(p.role, Role::Worker);
        assert_eq!(p.rate_limit_rps, Some(7));
        assert!(p.scopes.allows("emails.x") && !p.scopes.allows("billing"));
        let e = ring.authenticate("secret-number-two", 5_000).unwrap_err();
        assert!(e.to_string().contains("unknown API key"), "{e}");

        let mut expiring = key("k1", "secret-number-one");
        expiring.expires_at_ms = Some(6_000);
        ring.reload(vec![expiring.clone()]);
        assert!(ring.authenticate("secret-number-one", 5_999).is_ok());
        let e = ring.authenticate("secret-number-one", 6_000).unwrap_err();
        assert!(
            e.to_string().contains("expired at 1970-01-01T00:00:06Z"),
            "{e}"
        );

        expiring.revoked_at_ms = Some(5_500);
        ring.reload(vec![expiring]);
        let e = ring.authenticate("secret-number-one", 5_000).unwrap_err();
        assert!(e.to_string().contains("revoked"), "{e}");
        // Revoked keys still count: the server does not fall back to open mode.
        assert!(ring.has_keys());
    }

    #[test]
    fn a_rotated_out_secret_works_only_during_its_grace() {
        let mut k = key("k1", "the-new-secret-value");
        k.secrets.push(KeySecret {
            hash: hash_secret("the-old-secret-value"),
            created_at_ms: 0,
            valid_until_ms: Some(10_000),
        });
        let ring = KeyRing::new(vec![k]);
        assert!(ring.authenticate("the-old-secret-value", 9_999).is_ok());
        let e = ring
            .authenticate("the-old-secret-value", 10_000)
            .unwrap_err();
        assert!(e.to_string().contains("rotated out"), "{e}");
        assert!(ring.authenticate("the-new-secret-value", 10_000).is_ok());
    }

    #[test]
    fn uses_are_recorded_at_most_once_a_minute_and_survive_a_reload() {
        let ring = KeyRing::new(vec![key("k1", "secret-number-one")]);
        assert!(ring.usage_to_record().is_empty());
        ring.authenticate("secret-number-one", 100_000).unwrap();
        assert_eq!(ring.usage_to_record(), vec![("k1".to_owned(), 100_000)]);
        ring.authenticate("secret-number-one", 130_000).unwrap();
        assert!(ring.usage_to_record().is_empty(), "within a minute");
        ring.reload(vec![key("k1", "secret-number-one")]);
        ring.authenticate("secret-number-one", 170_000).unwrap();
        assert_eq!(ring.usage_to_record(), vec![("k1".to_owned(), 170_000)]);
    }
}
