//! `corvo.v1.KeyService`: create, list, revoke and rotate API keys (admin only; the auth
//! layer checks the role). A secret is drawn here, returned once, and only its SHA-256 is
//! proposed: it never reaches the log, the state, a snapshot or a log line.

use std::time::Duration;

use corvo_core::access::{ApiKey, Role};
use corvo_core::{Command, CreateKey, Reply, query};
use corvo_sdk::proto as pb;
use corvo_sdk::proto::key_service_server::KeyService;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::engine::Engine;
use crate::error::ApiError;
use crate::keyring::{hash_secret, new_secret};
use crate::principal::Scopes;

/// How long a rotated-out secret keeps working when the request does not say (24 h: a day
/// to roll the new secret out to every client).
pub const ROTATION_GRACE_DEFAULT: Duration = Duration::from_secs(24 * 3_600);

#[derive(Clone)]
pub struct Keys {
    engine: Engine,
}

impl Keys {
    pub fn new(engine: Engine) -> Self {
        Keys { engine }
    }

    async fn propose_key(&self, cmd: Command) -> Result<ApiKey, ApiError> {
        match self.engine.propose_one(cmd).await? {
            Reply::Key(key) => Ok(key),
            other => Err(ApiError::unexpected("key", &other)),
        }
    }
}

/// `key_` + a time-ordered id chosen before proposing (every replica stores the same).
pub fn new_key_id(engine: &Engine) -> String {
    format!("key_{}", engine.new_job_id())
}

pub fn role_from_proto(v: i32) -> Result<Role, ApiError> {
    match pb::KeyRole::try_from(v) {
        Ok(pb::KeyRole::Admin) => Ok(Role::Admin),
        Ok(pb::KeyRole::Operator) => Ok(Role::Operator),
        Ok(pb::KeyRole::Worker) => Ok(Role::Worker),
        Ok(pb::KeyRole::Readonly) => Ok(Role::Readonly),
        Ok(pb::KeyRole::Unspecified) => Err(ApiError::invalid(
            "role",
            "required: admin, operator, worker or readonly",
        )),
        Err(_) => Err(ApiError::invalid(
            "role",
            format!("unknown KeyRole value {v}"),
        )),
    }
}

pub fn role_to_proto(role: Role) -> pb::KeyRole {
    match role {
        Role::Admin => pb::KeyRole::Admin,
        Role::Operator => pb::KeyRole::Operator,
        Role::Worker => pb::KeyRole::Worker,
        Role::Readonly => pb::KeyRole::Readonly,
    }
}

pub fn key_to_proto(key: &ApiKey) -> pb::ApiKey {
    pb::ApiKey {
        id: key.id.clone(),
        name: key.name.clone(),
        role: role_to_proto(key.role).into(),
        queues: key.queues.clone(),
        created_at: Some(convert::ms_to_timestamp(key.created_at_ms)),
        expires_at: key.expires_at_ms.map(convert::ms_to_timestamp),
        rate_limit_rps: key.rate_limit_rps.unwrap_or(0),
        revoked_at: key.revoked_at_ms.map(convert::ms_to_timestamp),
        last_used_at: key.last_used_ms.map(convert::ms_to_timestamp),
        previous_secret_valid_until: key
            .secrets
            .iter()
            .find_map(|s| s.valid_until_ms)
            .map(convert::ms_to_timestamp),
    }
}

/// The expiry a CreateKey asks for: absolute, relative to now, or none.
fn expiry(req: &pb::CreateKeyRequest, now_ms: u64) -> Result<Option<u64>, ApiError> {
    match (req.expires_in_ms, &req.expires_at) {
        (0, None) => Ok(None),
        (ms, None) if ms < 0 => Err(ApiError::invalid(
            "expires_in_ms",
            format!("must not be negative, got {ms}"),
        )),
        (ms, None) => Ok(Some(now_ms.saturating_add(ms.unsigned_abs()))),
        (0, Some(at)) => Ok(Some(convert::timestamp_ms(at, "expires_at")?)),
        (_, Some(_)) => Err(ApiError::invalid(
            "expires_at",
            "set expires_at or expires_in_ms, not both",
        )),
    }
}

#[tonic::async_trait]
impl KeyService for Keys {
    async fn create_key(
        &self,
        req: Request<pb::CreateKeyRequest>,
    ) -> Result<Response<pb::CreateKeyResponse>, Status> {
        let r = req.into_inner();
        let role = role_from_proto(r.role)?;
        Scopes::parse(&r.queues)?;
        let expires_at_ms = expiry(&r, crate::engine::wall_clock_ms())?;
        let secret = new_secret()?;
        let key = self
            .propose_key(Command::CreateKey(CreateKey {
                id: new_key_id(&self.engine),
                name: r.name,
                role,
                queues: r.queues,
                expires_at_ms,
                rate_limit_rps: (r.rate_limit_rps > 0).then_some(r.rate_limit_rps),
                hash: hash_secret(&secret),
                only_if_first: false,
            }))
            .await?;
        tracing::info!(key_id = %key.id, name = %key.name, role = key.role.as_str(), "API key created");
        Ok(Response::new(pb::CreateKeyResponse {
            key: Some(key_to_proto(&key)),
            secret,
        }))
    }

    async fn list_keys(
        &self,
        _req: Request<pb::ListKeysRequest>,
    ) -> Result<Response<pb::ListKeysResponse>, Status> {
        let mut keys = query::api_keys(&self.engine.read()?).map_err(ApiError::from)?;
        keys.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
        Ok(Response::new(pb::ListKeysResponse {
            keys: keys.iter().map(key_to_proto).collect(),
        }))
    }

    async fn get_key(
        &self,
        req: Request<pb::GetKeyRequest>,
    ) -> Result<Response<pb::GetKeyResponse>, Status> {
        let id = key_id(&req.get_ref().key_id)?;
        match query::api_key(&self.engine.read()?, &id).map_err(ApiError::from)? {
            Some(key) => Ok(Response::new(pb::GetKeyResponse {
                key: Some(key_to_proto(&key)),
            })),
            None => Err(ApiError::Missing {
                what: format!("API key {id}"),
            }
            .into()),
        }
    }

    async fn revoke_key(
        &self,
        req: Request<pb::RevokeKeyRequest>,
    ) -> Result<Response<pb::RevokeKeyResponse>, Status> {
        let key_id = key_id(&req.get_ref().key_id)?;
        let key = self.propose_key(Command::RevokeKey { key_id }).await?;
        tracing::info!(key_id = %key.id, name = %key.name, "API key revoked");
        Ok(Response::new(pb::RevokeKeyResponse {
            key: Some(key_to_proto(&key)),
        }))
    }

    async fn rotate_key(
        &self,
        req: Request<pb::RotateKeyRequest>,
    ) -> Result<Response<pb::RotateKeyResponse>, Status> {
        let r = req.into_inner();
        let key_id = key_id(&r.key_id)?;
        let grace_ms = match r.grace_ms {
            None => ROTATION_GRACE_DEFAULT.as_millis() as u64,
            Some(ms) if ms < 0 => {
                return Err(ApiError::invalid(
                    "grace_ms",
                    format!("must not be negative, got {ms}"),
                )
                .into());
            }
            Some(ms) => ms.unsigned_abs(),
        };
        let secret = new_secret()?;
        let key = self
            .propose_key(Command::RotateKey {
                key_id,
                hash: hash_secret(&secret),
                grace_ms,
            })
            .await?;
        tracing::info!(key_id = %key.id, name = %key.name, grace_ms, "API key rotated");
        Ok(Response::new(pb::RotateKeyResponse {
            key: Some(key_to_proto(&key)),
            secret,
        }))
    }
}

fn key_id(id: &str) -> Result<String, ApiError> {
    corvo_core::access::check_key_id("key_id", id)?;
    Ok(id.to_owned())
}
