//! Who is calling: the [`Principal`] the auth layer found for a request (an API key, the
//! cluster secret, or nobody while the server runs open), with the queue scopes the services
//! check on every queue-touching call.
//!
//! The auth layer puts the principal into the request's extensions; services read it with
//! [`Principal::of`]. Role checks happen in the layer (they need only the method); scope
//! checks happen in the services (they need the message: which queue, which job).

use std::fmt;
use std::sync::Arc;

use corvo_core::access::Role;

use crate::error::ApiError;

/// Queue-name globs a key may touch (`emails.*`); empty means every queue.
#[derive(Clone, Debug, Default)]
pub struct Scopes {
    patterns: Vec<glob::Pattern>,
}

impl Scopes {
    /// Every queue.
    pub fn all() -> Scopes {
        Scopes::default()
    }

    /// Compiles scope globs; the error names the first one that is not a valid glob.
    pub fn parse(globs: &[String]) -> Result<Scopes, ApiError> {
        let patterns = globs
            .iter()
            .enumerate()
            .map(|(i, g)| {
                glob::Pattern::new(g).map_err(|e| {
                    ApiError::invalid(&format!("queues[{i}]"), format!("{g:?} is not a glob: {e}"))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Scopes { patterns })
    }

    /// Whether every queue is allowed.
    pub fn is_all(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn allows(&self, queue: &str) -> bool {
        self.is_all() || self.patterns.iter().any(|p| p.matches(queue))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("every queue");
        }
        let globs: Vec<&str> = self.patterns.iter().map(glob::Pattern::as_str).collect();
        f.write_str(&globs.join(", "))
    }
}

/// How the caller proved who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// No credential, and the server runs open (no key exists and `--require-auth` is off).
    Anonymous,
    /// The cluster secret: another node of the cluster, or an operator holding the secret.
    Cluster,
    /// An API key.
    Key { id: String, name: String },
}

/// The caller of one request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub identity: Identity,
    pub role: Role,
    pub scopes: Arc<Scopes>,
    /// The key's own rate limit (requests per second), when it has one.
    pub rate_limit_rps: Option<u32>,
}

impl Principal {
    /// The caller of a server that runs open: admin on every queue.
    pub fn anonymous() -> Principal {
        Principal {
            identity: Identity::Anonymous,
            role: Role::Admin,
            scopes: Arc::new(Scopes::all()),
            rate_limit_rps: None,
        }
    }

    /// A caller holding the cluster secret: admin on every queue.
    pub fn cluster() -> Principal {
        Principal {
            identity: Identity::Cluster,
            ..Principal::anonymous()
        }
    }

    /// The principal the auth layer attached to a request. Every request that reaches a
    /// service went through the layer, so a missing principal is refused rather than trusted.
    pub fn of<T>(req: &tonic::Request<T>) -> Result<Principal, ApiError> {
        req.extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthenticated {
                reason: "the request was not authenticated".into(),
            })
    }

    /// Whether the caller is limited to some queues.
    pub fn is_scoped(&self) -> bool {
        !self.scopes.is_all()
    }

    /// PERMISSION_DENIED unless `queue` is within the caller's scopes; the error names it.
    pub fn check_queue(&self, queue: &str) -> Result<(), ApiError> {
        if self.scopes.allows(queue) {
            return Ok(());
        }
        Err(ApiError::PermissionDenied {
            reason: format!(
                "queue {queue} is outside the scopes of {self} ({})",
                self.scopes
            ),
        })
    }

    pub fn check_queues(&self, queues: &[String]) -> Result<(), ApiError> {
        queues.iter().try_for_each(|q| self.check_queue(q))
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.identity {
            Identity::Anonymous => f.write_str("anonymous caller"),
            Identity::Cluster => f.write_str("cluster secret"),
            Identity::Key { id, name } => write!(f, "API key {id} ({name})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_match_globs_and_name_the_refused_queue() {
        let scopes = Scopes::parse(&["emails.*".into(), "sms".into()]).unwrap();
        assert!(scopes.allows("emails.welcome"));
        assert!(scopes.allows("sms"));
        assert!(!scopes.allows("sms.bulk"));
        assert!(!scopes.allows("billing.charge"));
        let p = Principal {
            identity: Identity::Key {
                id: "key_1".into(),
                name: "mailer".into(),
            },
            role: Role::Worker,
            scopes: Arc::new(scopes),
            rate_limit_rps: None,
        };
        assert!(p.is_scoped());
        let e = p.check_queue("billing.charge").unwrap_err().to_string();
        assert!(
            e.contains("billing.charge") && e.contains("key_1") && e.contains("emails.*"),
            "{e}"
        );
        assert!(p.check_queues(&["emails.a".into(), "sms".into()]).is_ok());
        assert!(Principal::anonymous().check_queue("anything").is_ok());
        let bad = Scopes::parse(&["ok".into(), "[".into()]).unwrap_err();
        assert!(bad.to_string().contains("queues[1]"), "{bad}");
    }
}
