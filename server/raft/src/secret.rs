//! The cluster secret: every peer RPC carries it, and membership changes (join, remove,
//! transfer) require it. A node without one runs alone: it opens no peer port, joins nothing
//! and accepts no joins.

use std::fmt;

/// The metadata entry that carries the secret on peer RPCs and on forwarded admin calls.
pub const SECRET_HEADER: &str = "x-corvo-cluster-secret";

/// A shared secret of the cluster. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct ClusterSecret(String);

impl ClusterSecret {
    /// `None` for an empty string (an unset variable must not become an empty secret that
    /// every caller knows).
    pub fn new(secret: impl Into<String>) -> Option<ClusterSecret> {
        let s: String = secret.into();
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return None;
        }
        Some(ClusterSecret(trimmed.to_owned()))
    }

    /// The value, to send to peers.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares in time independent of where the values differ (the length may leak, which
    /// says nothing useful about a secret of unknown length).
    pub fn matches(&self, presented: &[u8]) -> bool {
        let ours = self.0.as_bytes();
        if ours.len() != presented.len() {
            return false;
        }
        ours.iter()
            .zip(presented)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::ClusterSecret;

    #[test]
    fn matches_only_the_same_bytes() {
        let s = ClusterSecret::new("s3cret").expect("non-empty");
        assert!(s.matches(b"s3cret"));
        assert!(!s.matches(b"s3cres"));
        assert!(!s.matches(b"s3cret2"));
        assert!(!s.matches(b""));
        assert!(ClusterSecret::new("  ").is_none());
        assert!(!format!("{s:?}").contains("s3cret"));
    }
}
