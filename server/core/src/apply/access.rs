//! API keys: create, revoke, rotate, and the last-used times the leader aggregates.
//!
//! Every change that matters to authentication (a new key, a revoked one, a new secret)
//! raises [`Effect::KeysChanged`] once per batch, so the nodes reload the keys they check.
//! `TouchKeys` does not: the last-used time plays no part in checking a key.

use super::{CmdResult, Ctx};
use crate::access::{self, ApiKey, KeySecret, ROTATION_GRACE_MS_MAX, TOUCH_KEYS_MAX};
use crate::command::{CreateKey, Effect, JobError, Reply};
use crate::keys::{self, Table};
use crate::state::{StateTxn, StoreError};
use crate::validate::invalid;

pub(super) fn create<T: StateTxn>(ctx: &mut Ctx<'_, T>, cmd: &CreateKey) -> CmdResult {
    if let Err(e) = access::check_new_key(&cmd.id, &cmd.name, &cmd.queues) {
        return Ok(Err(e));
    }
    if cmd.only_if_first && any_key(ctx)? {
        return Ok(Ok(Reply::KeySkipped));
    }
    if cmd.rate_limit_rps == Some(0) {
        return Ok(Err(invalid(
            "rate_limit_rps",
            "must be at least 1 (leave it unset for the role's default)",
        )));
    }
    if cmd.expires_at_ms.is_some_and(|at| at <= ctx.now) {
        return Ok(Err(invalid("expires_at", "is in the past")));
    }
    if ctx.txn.get(Table::ApiKeys, cmd.id.as_bytes())?.is_some() {
        return Ok(Err(invalid("id", format!("key {} already exists", cmd.id))));
    }
    if ctx.txn.get(Table::KeyHashes, &cmd.hash)?.is_some() {
        return Ok(Err(invalid("key", "this secret is already in use")));
    }
    let key = ApiKey {
        id: cmd.id.clone(),
        name: cmd.name.clone(),
        role: cmd.role,
        queues: cmd.queues.clone(),
        created_at_ms: ctx.now,
        expires_at_ms: cmd.expires_at_ms,
        rate_limit_rps: cmd.rate_limit_rps,
        revoked_at_ms: None,
        last_used_ms: None,
        secrets: vec![KeySecret {
            hash: cmd.hash,
            created_at_ms: ctx.now,
            valid_until_ms: None,
        }],
    };
    ctx.txn
        .put(Table::KeyHashes, &cmd.hash, key.id.as_bytes())?;
    save(ctx, &key)?;
    changed(ctx);
    Ok(Ok(Reply::Key(key)))
}

pub(super) fn revoke<T: StateTxn>(ctx: &mut Ctx<'_, T>, key_id: &str) -> CmdResult {
    let Some(mut key) = load(ctx, key_id)? else {
        return Ok(Err(not_found(key_id)));
    };
    // Revoking twice changes nothing: the first revocation's time stays.
    if key.revoked_at_ms.is_none() {
        key.revoked_at_ms = Some(ctx.now);
        save(ctx, &key)?;
        changed(ctx);
    }
    Ok(Ok(Reply::Key(key)))
}

pub(super) fn rotate<T: StateTxn>(
    ctx: &mut Ctx<'_, T>,
    key_id: &str,
    hash: &[u8; 32],
    grace_ms: u64,
) -> CmdResult {
    let Some(mut key) = load(ctx, key_id)? else {
        return Ok(Err(not_found(key_id)));
    };
    if key.revoked_at_ms.is_some() {
        return Ok(Err(JobError::KeyRevoked {
            key_id: key_id.to_owned(),
        }));
    }
    if grace_ms > ROTATION_GRACE_MS_MAX {
        return Ok(Err(invalid(
            "grace",
            format!("at most {ROTATION_GRACE_MS_MAX} ms (30 days)"),
        )));
    }
    if ctx.txn.get(Table::KeyHashes, hash)?.is_some() {
        return Ok(Err(invalid("key", "this secret is already in use")));
    }
    // The current secret enters its grace; any older one (in or past its grace) goes now.
    let mut secrets = std::mem::take(&mut key.secrets);
    let current = (!secrets.is_empty()).then(|| secrets.remove(0));
    for old in secrets {
        ctx.txn.delete(Table::KeyHashes, &old.hash)?;
    }
    key.secrets.push(KeySecret {
        hash: *hash,
        created_at_ms: ctx.now,
        valid_until_ms: None,
    });
    if let Some(mut current) = current {
        current.valid_until_ms = Some(ctx.now.saturating_add(grace_ms));
        key.secrets.push(current);
    }
    debug_assert!(key.secrets.len() <= ApiKey::SECRETS_MAX);
    ctx.txn.put(Table::KeyHashes, hash, key.id.as_bytes())?;
    save(ctx, &key)?;
    changed(ctx);
    Ok(Ok(Reply::Key(key)))
}

pub(super) fn touch<T: StateTxn>(ctx: &mut Ctx<'_, T>, used: &[(String, u64)]) -> CmdResult {
    if used.len() > TOUCH_KEYS_MAX {
        return Ok(Err(invalid(
            "used",
            format!("{} keys, at most {TOUCH_KEYS_MAX}", used.len()),
        )));
    }
    let mut touched = 0;
    for (id, at) in used {
        // A key revoked or unknown here (a race with its creation on a new leader) is skipped.
        let Some(mut key) = load(ctx, id)? else {
            continue;
        };
        if key.last_used_ms.is_none_or(|last| last < *at) {
            key.last_used_ms = Some(*at);
            save(ctx, &key)?;
            touched += 1;
        }
    }
    Ok(Ok(Reply::Touched { keys: touched }))
}

fn any_key<T: StateTxn>(ctx: &Ctx<'_, T>) -> Result<bool, StoreError> {
    Ok(ctx.txn.first(Table::ApiKeys, &[], &[0xff; 1])?.is_some())
}

fn load<T: StateTxn>(ctx: &Ctx<'_, T>, id: &str) -> Result<Option<ApiKey>, StoreError> {
    match ctx.txn.get(Table::ApiKeys, id.as_bytes())? {
        Some(bytes) => keys::decode_api_key(id.as_bytes(), &bytes).map(Some),
        None => Ok(None),
    }
}

fn save<T: StateTxn>(ctx: &mut Ctx<'_, T>, key: &ApiKey) -> Result<(), StoreError> {
    ctx.txn
        .put(Table::ApiKeys, key.id.as_bytes(), &keys::encode(key))
}

fn changed<T: StateTxn>(ctx: &mut Ctx<'_, T>) {
    if !ctx.effects.contains(&Effect::KeysChanged) {
        ctx.effects.push(Effect::KeysChanged);
    }
}

fn not_found(key_id: &str) -> JobError {
    JobError::KeyNotFound {
        key_id: key_id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::access::{ApiKey, Role};
    use crate::apply::testkit::World;
    use crate::command::{Command, CreateKey, Effect, JobError, Reply};
    use crate::keys::Table;
    use crate::query;
    use crate::state::StateRead;

    fn create(id: &str, hash: u8) -> Command {
        Command::CreateKey(CreateKey {
            id: id.into(),
            name: format!("{id} name"),
            role: Role::Worker,
            queues: vec!["emails.*".into()],
            expires_at_ms: None,
            rate_limit_rps: Some(50),
            hash: [hash; 32],
            only_if_first: false,
        })
    }

    fn key(w: &World, id: &str) -> ApiKey {
        query::api_key(&w.state, id).unwrap().expect("key exists")
    }

    fn hash_owner(w: &World, hash: u8) -> Option<String> {
        w.state
            .get(Table::KeyHashes, &[hash; 32])
            .unwrap()
            .map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn a_created_key_is_stored_with_its_hash_and_reloads_the_keys() {
        let mut w = World::new();
        let Ok(Reply::Key(k)) = w.run(create("k1", 7)) else {
            panic!("created");
        };
        assert_eq!(k, key(&w, "k1"));
        assert_eq!(k.role, Role::Worker);
        assert_eq!(k.created_at_ms, w.now);
        assert_eq!(k.secrets.len(), 1);
        assert_eq!(hash_owner(&w, 7).as_deref(), Some("k1"));
        assert_eq!(w.last.effects, vec![Effect::KeysChanged]);
        // The same id or the same secret again: refused, nothing written.
        assert!(
            matches!(w.run(create("k1", 8)), Err(JobError::InvalidArgument { field, .. }) if field == "id")
        );
        assert!(
            matches!(w.run(create("k2", 7)), Err(JobError::InvalidArgument { field, .. }) if field == "key")
        );
        assert!(w.last.effects.is_empty());
        assert_eq!(query::api_keys(&w.state).unwrap().len(), 1);
    }

    #[test]
    fn bad_keys_are_refused_by_field() {
        let mut w = World::new();
        let now = w.now;
        let mut bad = |edit: &dyn Fn(&mut CreateKey), field: &str| {
            let Command::CreateKey(mut c) = create("k", 1) else {
                unreachable!()
            };
            edit(&mut c);
            match w.run(Command::CreateKey(c)) {
                Err(JobError::InvalidArgument { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected invalid {field}, got {other:?}"),
            }
        };
        bad(&|c| c.name.clear(), "name");
        bad(&|c| c.name = "x".repeat(129), "name");
        bad(&|c| c.id.clear(), "id");
        bad(&|c| c.queues = vec![String::new()], "queues");
        bad(&|c| c.queues = vec!["q".into(); 65], "queues");
        bad(&|c| c.rate_limit_rps = Some(0), "rate_limit_rps");
        bad(&|c| c.expires_at_ms = Some(now), "expires_at");
        assert!(query::api_keys(&w.state).unwrap().is_empty());
    }

    #[test]
    fn the_bootstrap_key_is_created_only_when_no_key_exists() {
        let mut w = World::new();
        let bootstrap = |hash| {
            let Command::CreateKey(mut c) = create("boot", hash) else {
                unreachable!()
            };
            c.only_if_first = true;
            Command::CreateKey(c)
        };
        assert!(matches!(w.run(bootstrap(1)), Ok(Reply::Key(_))));
        // A second node configured with a bootstrap key changes nothing.
        assert_eq!(w.run(bootstrap(2)), Ok(Reply::KeySkipped));
        assert!(w.last.effects.is_empty());
        assert_eq!(hash_owner(&w, 2), None);
    }

    #[test]
    fn revoking_keeps_the_key_listed_and_is_idempotent() {
        let mut w = World::new();
        w.run(create("k1", 1)).unwrap();
        w.advance(10);
        let Ok(Reply::Key(k)) = w.run(Command::RevokeKey {
            key_id: "k1".into(),
        }) else {
            panic!("revoked");
        };
        assert_eq!(k.revoked_at_ms, Some(w.now));
        assert_eq!(w.last.effects, vec![Effect::KeysChanged]);
        w.advance(10);
        w.run(Command::RevokeKey {
            key_id: "k1".into(),
        })
        .unwrap();
        assert_eq!(key(&w, "k1").revoked_at_ms, Some(w.now - 10));
        assert!(w.last.effects.is_empty());
        assert_eq!(
            w.run(Command::RevokeKey {
                key_id: "nope".into()
            }),
            Err(JobError::KeyNotFound {
                key_id: "nope".into()
            })
        );
        // A revoked key cannot be rotated back to life.
        assert_eq!(
            w.run(Command::RotateKey {
                key_id: "k1".into(),
                hash: [9; 32],
                grace_ms: 0
            }),
            Err(JobError::KeyRevoked {
                key_id: "k1".into()
            })
        );
    }

    #[test]
    fn rotation_keeps_the_old_secret_for_its_grace_and_drops_older_ones() {
        let mut w = World::new();
        w.run(create("k1", 1)).unwrap();
        let rotate = |hash: u8| Command::RotateKey {
            key_id: "k1".into(),
            hash: [hash; 32],
            grace_ms: 60_000,
        };
        w.run(rotate(2)).unwrap();
        let k = key(&w, "k1");
        assert_eq!(k.secrets[0].hash, [2; 32]);
        assert_eq!(k.secrets[0].valid_until_ms, None);
        assert_eq!(k.secrets[1].hash, [1; 32]);
        assert_eq!(k.secrets[1].valid_until_ms, Some(w.now + 60_000));
        assert_eq!(hash_owner(&w, 1).as_deref(), Some("k1"));
        assert_eq!(w.last.effects, vec![Effect::KeysChanged]);
        // Rotating again: the first secret is gone for good, the second enters its grace.
        w.advance(5);
        w.run(rotate(3)).unwrap();
        let k = key(&w, "k1");
        let hashes: Vec<u8> = k.secrets.iter().map(|s| s.hash[0]).collect();
        assert_eq!(hashes, vec![3, 2]);
        assert_eq!(hash_owner(&w, 1), None);
        assert_eq!(hash_owner(&w, 2).as_deref(), Some("k1"));
        // A secret in use elsewhere, or a grace beyond 30 days, is refused.
        assert!(w.run(rotate(3)).is_err());
        assert!(
            w.run(Command::RotateKey {
                key_id: "k1".into(),
                hash: [4; 32],
                grace_ms: u64::MAX
            })
            .is_err()
        );
        assert_eq!(key(&w, "k1").secrets.len(), 2);
    }

    #[test]
    fn touches_only_move_last_used_forward_and_wake_nobody() {
        let mut w = World::new();
        w.run(create("k1", 1)).unwrap();
        let touch = |at| Command::TouchKeys {
            used: vec![("k1".into(), at), ("unknown".into(), at)],
        };
        assert_eq!(w.run(touch(500)), Ok(Reply::Touched { keys: 1 }));
        assert!(w.last.effects.is_empty());
        assert_eq!(w.run(touch(400)), Ok(Reply::Touched { keys: 0 }));
        assert_eq!(key(&w, "k1").last_used_ms, Some(500));
    }
}
