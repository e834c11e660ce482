//! `corvo keys create|list|get|revoke|rotate`: API keys over `corvo.v1.KeyService`.
//!
//! A secret is printed once, by `create` and `rotate`; `list` and `get` never show one (the
//! server does not have it: it keeps only its SHA-256).

use anyhow::Context;
use corvo_sdk::proto as pb;
use corvo_sdk::proto::key_service_client::KeyServiceClient;
use serde_json::json;

use crate::client::{channel, status_error};
use crate::config::{KeysAction, KeysArgs, Output, RoleArg};
use crate::render::{self, role_name, time};

pub async fn run(args: KeysArgs) -> anyhow::Result<()> {
    let mut client = KeyServiceClient::new(channel(&args.client).await?);
    let output = args.client.output;
    match args.action {
        KeysAction::Create {
            name,
            role,
            queues,
            expires_in,
            rate_limit_rps,
        } => {
            let expires_in_ms = expires_in.map_or(0, |d| d.as_millis() as i64);
            let answer = client
                .create_key(pb::CreateKeyRequest {
                    name,
                    role: role_to_proto(role).into(),
                    queues,
                    expires_in_ms,
                    rate_limit_rps: rate_limit_rps.unwrap_or(0),
                    expires_at: None,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            let key = answer.key.context("the server returned no key")?;
            print_secret(&key, &answer.secret, "created", output);
        }
        KeysAction::Rotate { key_id, grace } => {
            let answer = client
                .rotate_key(pb::RotateKeyRequest {
                    key_id,
                    grace_ms: grace.map(|d| d.as_millis() as i64),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            let key = answer.key.context("the server returned no key")?;
            print_secret(&key, &answer.secret, "rotated", output);
        }
        KeysAction::List => {
            let keys = client
                .list_keys(pb::ListKeysRequest {})
                .await
                .map_err(status_error)?
                .into_inner()
                .keys;
            match output {
                Output::Json => println!(
                    "{}",
                    serde_json::Value::Array(keys.iter().map(key_json).collect())
                ),
                Output::Text => print_table(&keys),
            }
        }
        KeysAction::Get { key_id } => {
            let key = client
                .get_key(pb::GetKeyRequest { key_id })
                .await
                .map_err(status_error)?
                .into_inner()
                .key
                .context("the server returned no key")?;
            print_key(&key, output);
        }
        KeysAction::Revoke { key_id } => {
            let key = client
                .revoke_key(pb::RevokeKeyRequest { key_id })
                .await
                .map_err(status_error)?
                .into_inner()
                .key
                .context("the server returned no key")?;
            print_key(&key, output);
        }
    }
    Ok(())
}

fn role_to_proto(role: RoleArg) -> pb::KeyRole {
    match role {
        RoleArg::Admin => pb::KeyRole::Admin,
        RoleArg::Operator => pb::KeyRole::Operator,
        RoleArg::Worker => pb::KeyRole::Worker,
        RoleArg::Readonly => pb::KeyRole::Readonly,
    }
}

fn key_json(k: &pb::ApiKey) -> serde_json::Value {
    json!({
        "id": k.id,
        "name": k.name,
        "role": role_name(k.role),
        "queues": k.queues,
        "created_at": time(&k.created_at),
        "expires_at": time(&k.expires_at),
        "rate_limit_rps": (k.rate_limit_rps > 0).then_some(k.rate_limit_rps),
        "revoked_at": time(&k.revoked_at),
        "last_used_at": time(&k.last_used_at),
        "previous_secret_valid_until": time(&k.previous_secret_valid_until),
    })
}

fn print_secret(key: &pb::ApiKey, secret: &str, what: &str, output: Output) {
    match output {
        Output::Json => {
            let mut v = key_json(key);
            v["key"] = json!(secret);
            println!("{v}");
        }
        Output::Text => {
            println!(
                "{what} API key {} ({}, role {})",
                key.id,
                key.name,
                role_name(key.role)
            );
            if let Some(until) = time(&key.previous_secret_valid_until) {
                println!("the previous secret works until {until}");
            }
            println!("secret (shown only now; store it safely): {secret}");
        }
    }
}

fn print_key(key: &pb::ApiKey, output: Output) {
    match output {
        Output::Json => println!("{}", key_json(key)),
        Output::Text => print_table(std::slice::from_ref(key)),
    }
}

fn status(k: &pb::ApiKey) -> String {
    if k.revoked_at.is_some() {
        return "revoked".into();
    }
    let now = (corvo_clock::wall_ms() / 1_000) as i64;
    match &k.expires_at {
        Some(t) if t.seconds <= now => "expired".into(),
        _ => "active".into(),
    }
}

fn print_table(keys: &[pb::ApiKey]) {
    let rows: Vec<[String; 8]> = keys
        .iter()
        .map(|k| {
            [
                k.id.clone(),
                k.name.clone(),
                role_name(k.role),
                if k.queues.is_empty() {
                    "*".into()
                } else {
                    k.queues.join(",")
                },
                status(k),
                time(&k.created_at).unwrap_or_default(),
                time(&k.expires_at).unwrap_or_else(|| "never".into()),
                time(&k.last_used_at).unwrap_or_else(|| "never".into()),
            ]
        })
        .collect();
    render::table(
        [
            "ID",
            "NAME",
            "ROLE",
            "QUEUES",
            "STATUS",
            "CREATED",
            "EXPIRES",
            "LAST USED",
        ],
        &rows,
    );
}
