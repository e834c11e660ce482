//! `corvo snapshot create|list|verify`: snapshots as the operator's backup unit.
//!
//! `create` and `list` ask a running node (`ClusterService.CreateSnapshot` / `ListSnapshots`);
//! `verify` checks an archive file offline, e.g. a backup copied off the node, before it is
//! needed for a restore.

use anyhow::Context;
use corvo_sdk::proto as pb;
use corvo_sdk::proto::cluster_service_client::ClusterServiceClient;
use serde_json::json;

use crate::client::{channel, status_error, with_secret};
use crate::config::{Output, SnapshotAction, SnapshotArgs};

pub async fn run(args: SnapshotArgs) -> anyhow::Result<()> {
    let output = args.client.output;
    match args.action {
        SnapshotAction::Create { cluster_secret } => {
            let mut client = ClusterServiceClient::new(channel(&args.client).await?);
            let request = with_secret(pb::CreateSnapshotRequest {}, cluster_secret.as_deref())?;
            let created = client
                .create_snapshot(request)
                .await
                .map_err(status_error)?
                .into_inner()
                .snapshot
                .context("the server sent no snapshot")?;
            print(output, std::slice::from_ref(&created));
        }
        SnapshotAction::List => {
            let mut client = ClusterServiceClient::new(channel(&args.client).await?);
            let listed = client
                .list_snapshots(pb::ListSnapshotsRequest {})
                .await
                .map_err(status_error)?
                .into_inner()
                .snapshots;
            print(output, &listed);
        }
        SnapshotAction::Verify { file } => {
            let info = corvo_store::archive::verify(&file)?;
            match output {
                Output::Json => println!(
                    "{}",
                    json!({
                        "file": file.display().to_string(),
                        "ok": true,
                        "rows": info.rows,
                        "size_bytes": info.bytes,
                        "version": info.version,
                        "checksum": info.checksum,
                        "created_unix_ms": info.created_unix_ms,
                    })
                ),
                Output::Text => println!(
                    "{}: OK (version {}, {} rows, {} bytes, checksum {})",
                    file.display(),
                    info.version,
                    info.rows,
                    info.bytes,
                    info.checksum
                ),
            }
        }
    }
    Ok(())
}

fn print(output: Output, snapshots: &[pb::SnapshotInfo]) {
    match output {
        Output::Json => {
            let list: Vec<_> = snapshots
                .iter()
                .map(|s| {
                    json!({
                        "file_name": s.file_name,
                        "path": s.path,
                        "last_index": s.last_index,
                        "last_term": s.last_term,
                        "size_bytes": s.size_bytes,
                        "created_unix_ms": s.created_unix_ms,
                    })
                })
                .collect();
            println!("{}", serde_json::Value::Array(list));
        }
        Output::Text => {
            if snapshots.is_empty() {
                println!("no snapshots yet");
            }
            for s in snapshots {
                println!(
                    "{}  index {}  term {}  {} bytes  created {} ms\n  {}",
                    s.file_name, s.last_index, s.last_term, s.size_bytes, s.created_unix_ms, s.path
                );
            }
        }
    }
}
