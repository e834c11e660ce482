//! `corvo status` and `corvo cluster status`: `ClusterService` answers, for a person (text) or
//! a script (`--output json`).
//!
//! `corvo cluster status` answers the operations guide's failure checklist at a glance: node
//! reachable? disk full? leader elected? apply backlog growing? workers connected? "Growing"
//! needs two looks: it samples the cluster twice, [`BACKLOG_SAMPLE`] apart.

use std::time::Duration;

use anyhow::Context;
use corvo_sdk::proto as pb;
use corvo_sdk::proto::cluster_service_client::ClusterServiceClient;
use serde_json::{Value, json};

use crate::client::{channel, status_error, with_secret};
use crate::config::{ClusterAction, ClusterArgs, Output, StatusArgs};

/// How long `cluster status` waits between its two samples of the apply backlog.
pub const BACKLOG_SAMPLE: Duration = Duration::from_secs(1);
/// A filesystem with less than this share free counts as (nearly) full: redb needs room to
/// grow its files, and a full disk stops Raft for good.
pub const DISK_FREE_RATIO_MIN: f64 = 0.10;

pub async fn node(args: StatusArgs) -> anyhow::Result<()> {
    let mut client = ClusterServiceClient::new(channel(&args.client).await?);
    let status = client
        .get_node_status(pb::GetNodeStatusRequest {})
        .await
        .map_err(status_error)?
        .into_inner()
        .status
        .context("the server sent no status")?;
    match args.client.output {
        Output::Json => println!("{}", node_json(&status)),
        Output::Text => print!("{}", node_text(&status)),
    }
    Ok(())
}

/// `cluster remove` (`remove`) or `cluster transfer-leader`.
async fn change(
    client_args: &crate::config::ClientArgs,
    node: &str,
    secret: Option<String>,
    remove: bool,
) -> anyhow::Result<()> {
    let mut client = ClusterServiceClient::new(channel(client_args).await?);
    let raft_id = crate::server::raft_node_id(node);
    if remove {
        let left = client
            .remove_node(with_secret(
                pb::RemoveNodeRequest { raft_id },
                secret.as_deref(),
            )?)
            .await
            .map_err(status_error)?
            .into_inner();
        println!(
            "removed {node} (raft id {raft_id}); {} voters left",
            left.voters
        );
    } else {
        client
            .transfer_leader(with_secret(
                pb::TransferLeaderRequest { raft_id },
                secret.as_deref(),
            )?)
            .await
            .map_err(status_error)?;
        println!("asked the leader to hand over to {node} (raft id {raft_id})");
    }
    Ok(())
}

pub async fn cluster(args: ClusterArgs) -> anyhow::Result<()> {
    match args.action {
        ClusterAction::Status => {}
        ClusterAction::Remove {
            node,
            cluster_secret,
        } => return change(&args.client, &node, cluster_secret, true).await,
        ClusterAction::TransferLeader {
            node,
            cluster_secret,
        } => return change(&args.client, &node, cluster_secret, false).await,
    }
    let mut client = ClusterServiceClient::new(channel(&args.client).await?);
    let first = client
        .get_cluster_status(pb::GetClusterStatusRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    tokio::time::sleep(BACKLOG_SAMPLE).await;
    let second = client
        .get_cluster_status(pb::GetClusterStatusRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    let checks = checklist(&first, &second);
    match args.client.output {
        Output::Json => {
            let nodes: Vec<Value> = second
                .nodes
                .iter()
                .map(|n| {
                    json!({
                        "node_id": n.node_id,
                        "raft_id": n.raft_id,
                        "voter": n.voter,
                        "client_address": n.client_address,
                        "raft_address": n.raft_address,
                        "reachable": n.reachable,
                        "error": (!n.error.is_empty()).then_some(&n.error),
                        "status": n.status.as_ref().map(node_json),
                    })
                })
                .collect();
            let checklist: serde_json::Map<String, Value> = checks
                .iter()
                .map(|c| (c.key.to_owned(), json!({"ok": c.ok, "detail": c.detail})))
                .collect();
            println!(
                "{}",
                json!({
                    "leader_raft_id": second.leader_raft_id,
                    "nodes": nodes,
                    "checklist": checklist,
                })
            );
        }
        Output::Text => {
            println!("checklist");
            for c in &checks {
                let mark = if c.ok { "ok  " } else { "FAIL" };
                println!("  {mark} {:<24} {}", c.question, c.detail);
            }
            println!("nodes");
            for n in &second.nodes {
                let member = if n.voter { "voter" } else { "learner" };
                match (&n.status, n.reachable) {
                    (Some(s), true) => {
                        println!("  {} [{member} at {}]", node_line(s), n.client_address)
                    }
                    _ => println!(
                        "  {:<12} unreachable [{member} at {}]: {}",
                        n.node_id, n.client_address, n.error
                    ),
                }
            }
        }
    }
    Ok(())
}

/// One answered question of the failure checklist.
struct Check {
    key: &'static str,
    question: &'static str,
    ok: bool,
    detail: String,
}

fn checklist(
    first: &pb::GetClusterStatusResponse,
    second: &pb::GetClusterStatusResponse,
) -> Vec<Check> {
    let reachable: Vec<&pb::NodeStatus> = second
        .nodes
        .iter()
        .filter(|n| n.reachable)
        .filter_map(|n| n.status.as_ref())
        .collect();
    let unreachable: Vec<&str> = second
        .nodes
        .iter()
        .filter(|n| !n.reachable)
        .map(|n| n.node_id.as_str())
        .collect();
    let full: Vec<String> = reachable
        .iter()
        .filter_map(|s| {
            let ratio = free_ratio(s)?;
            (ratio < DISK_FREE_RATIO_MIN)
                .then(|| format!("{} {:.1}% free", s.node_id, ratio * 100.0))
        })
        .collect();
    let leader = second.leader_raft_id.and_then(|id| {
        reachable
            .iter()
            .find(|s| s.raft_id == id)
            .map(|s| format!("{} (term {})", s.node_id, s.term))
            .or_else(|| Some(format!("raft id {id}")))
    });
    let growing: Vec<String> = reachable
        .iter()
        .filter_map(|s| {
            let before = first
                .nodes
                .iter()
                .filter_map(|n| n.status.as_ref())
                .find(|b| b.node_id == s.node_id)?
                .apply_backlog;
            (s.apply_backlog > before && s.apply_backlog > 0)
                .then(|| format!("{} {before} → {}", s.node_id, s.apply_backlog))
        })
        .collect();
    let backlog_max = reachable.iter().map(|s| s.apply_backlog).max().unwrap_or(0);
    // Every member names the same cluster (empty: not known yet, or an older release).
    let mut cluster_ids: Vec<&str> = reachable
        .iter()
        .map(|s| s.cluster_id.as_str())
        .filter(|id| !id.is_empty())
        .collect();
    cluster_ids.sort_unstable();
    cluster_ids.dedup();
    let workers: u32 = reachable.iter().map(|s| s.workers_connected).sum();
    let streams: u32 = reachable.iter().map(|s| s.worker_streams).sum();
    vec![
        Check {
            key: "nodes_reachable",
            question: "node reachable?",
            ok: unreachable.is_empty(),
            detail: if unreachable.is_empty() {
                format!("all {} answered", second.nodes.len())
            } else {
                format!("unreachable: {}", unreachable.join(", "))
            },
        },
        Check {
            key: "disk_not_full",
            question: "disk full?",
            ok: full.is_empty(),
            detail: if full.is_empty() {
                let free: Vec<String> = reachable
                    .iter()
                    .map(|s| format!("{} {} free", s.node_id, disk_free_text(s)))
                    .collect();
                format!("no: {}", free.join(", "))
            } else {
                format!("yes: {}", full.join(", "))
            },
        },
        Check {
            key: "leader_elected",
            question: "leader elected?",
            ok: leader.is_some(),
            detail: leader.map_or("no leader known".to_owned(), |l| format!("yes: {l}")),
        },
        Check {
            key: "one_cluster",
            question: "one cluster id?",
            ok: cluster_ids.len() <= 1,
            detail: match cluster_ids.as_slice() {
                [] => "no cluster id known (a cluster started before 2026-12)".to_owned(),
                [one] => format!("yes: {one}"),
                many => format!("no: the members name {}", many.join(", ")),
            },
        },
        Check {
            key: "apply_backlog_stable",
            question: "apply backlog growing?",
            ok: growing.is_empty(),
            detail: if growing.is_empty() {
                format!(
                    "no: largest backlog {backlog_max} entries (sampled {} s apart)",
                    BACKLOG_SAMPLE.as_secs()
                )
            } else {
                format!("yes: {}", growing.join(", "))
            },
        },
        Check {
            key: "workers_connected",
            question: "workers connected?",
            ok: workers > 0,
            detail: format!("{workers} workers on {streams} open streams"),
        },
    ]
}

fn free_ratio(s: &pb::NodeStatus) -> Option<f64> {
    let disk = s.disk.as_ref()?;
    let (free, size) = (disk.free_bytes?, disk.size_bytes?);
    (size > 0).then(|| free as f64 / size as f64)
}

fn disk_free_text(s: &pb::NodeStatus) -> String {
    match (s.disk.as_ref().and_then(|d| d.free_bytes), free_ratio(s)) {
        (Some(free), Some(ratio)) => format!("{} ({:.0}%)", bytes(free), ratio * 100.0),
        _ => "unknown".to_owned(),
    }
}

fn role_name(role: i32) -> String {
    pb::NodeRole::try_from(role).map_or("unknown".to_owned(), |r| {
        r.as_str_name()
            .trim_start_matches("NODE_ROLE_")
            .to_lowercase()
    })
}

fn state_name(state: i32) -> String {
    pb::JobState::try_from(state).map_or("unknown".to_owned(), |s| {
        s.as_str_name()
            .trim_start_matches("JOB_STATE_")
            .to_lowercase()
    })
}

fn node_json(s: &pb::NodeStatus) -> Value {
    let jobs: serde_json::Map<String, Value> = s
        .job_counts
        .iter()
        .map(|c| (state_name(c.state), json!(c.count)))
        .collect();
    let mut queues = serde_json::Map::new();
    for c in &s.queue_counts {
        let entry = queues.entry(c.queue.clone()).or_insert_with(|| json!({}));
        entry[state_name(c.state)] = json!(c.count);
    }
    let disk = s.disk.unwrap_or_default();
    json!({
        "node_id": s.node_id,
        "raft_id": s.raft_id,
        "cluster_id": (!s.cluster_id.is_empty()).then_some(&s.cluster_id),
        "client_address": s.client_address,
        "role": role_name(s.role),
        "term": s.term,
        "leader_raft_id": s.leader_raft_id,
        "is_leader": s.leader_raft_id == Some(s.raft_id),
        "last_log_index": s.last_log_index,
        "committed_index": s.committed_index,
        "applied_index": s.applied_index,
        "apply_backlog": s.apply_backlog,
        "disk": {
            "used_bytes": disk.used_bytes,
            "free_bytes": disk.free_bytes,
            "size_bytes": disk.size_bytes,
        },
        "worker_streams": s.worker_streams,
        "workers_connected": s.workers_connected,
        "jobs": jobs,
        "queues": queues,
        "queue_counts_truncated": s.queue_counts_truncated,
        "ready": s.ready,
        "not_ready_reasons": s.not_ready_reasons,
        "draining": s.draining,
        "version": s.version,
        "uptime_ms": s.uptime_ms,
        "raft_error": (!s.raft_error.is_empty()).then_some(&s.raft_error),
        "view_applied_index": s.view_applied_index,
        "view_error": (!s.view_error.is_empty()).then_some(&s.view_error),
        "last_snapshot": s.last_snapshot.as_ref().map(|x| json!({
            "file_name": x.file_name,
            "last_index": x.last_index,
            "size_bytes": x.size_bytes,
            "created_unix_ms": x.created_unix_ms,
        })),
    })
}

fn index(i: Option<u64>) -> String {
    i.map_or("-".to_owned(), |i| i.to_string())
}

fn node_text(s: &pb::NodeStatus) -> String {
    let leader = match s.leader_raft_id {
        Some(id) if id == s.raft_id => format!("{id} (this node)"),
        Some(id) => id.to_string(),
        None => "none known".to_owned(),
    };
    let ready = if s.ready {
        "yes".to_owned()
    } else {
        format!("no: {}", s.not_ready_reasons.join("; "))
    };
    let disk = s.disk.unwrap_or_default();
    let jobs: Vec<String> = s
        .job_counts
        .iter()
        .map(|c| format!("{} {}", state_name(c.state), c.count))
        .collect();
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<10} {v}\n"));
    line(
        "node",
        format!(
            "{} (raft id {}) at {}",
            s.node_id, s.raft_id, s.client_address
        ),
    );
    line(
        "version",
        format!("{}, up {}", s.version, duration(s.uptime_ms)),
    );
    line("ready", ready);
    line("draining", if s.draining { "yes" } else { "no" }.to_owned());
    line(
        "role",
        format!("{} in term {}; leader {leader}", role_name(s.role), s.term),
    );
    line(
        "log",
        format!(
            "last {}, committed {}, applied {} (apply backlog {})",
            index(s.last_log_index),
            index(s.committed_index),
            index(s.applied_index),
            s.apply_backlog
        ),
    );
    line(
        "view",
        if s.view_error.is_empty() {
            format!(
                "at index {} ({} behind)",
                s.view_applied_index,
                s.applied_index
                    .unwrap_or(0)
                    .saturating_sub(s.view_applied_index)
            )
        } else {
            format!("STOPPED: {}", s.view_error)
        },
    );
    line(
        "snapshot",
        match &s.last_snapshot {
            Some(x) => format!(
                "index {}, {} bytes, {}",
                x.last_index, x.size_bytes, x.file_name
            ),
            None => "none yet".to_owned(),
        },
    );
    line(
        "disk",
        format!(
            "data dir {} used; {} free of {}",
            bytes(disk.used_bytes),
            disk_free_text(s),
            disk.size_bytes.map_or("unknown".to_owned(), bytes)
        ),
    );
    line(
        "workers",
        format!(
            "{} connected on {} open streams",
            s.workers_connected, s.worker_streams
        ),
    );
    line("jobs", jobs.join(", "));
    if !s.raft_error.is_empty() {
        line("raft", format!("STOPPED: {}", s.raft_error));
    }
    if !s.queue_counts.is_empty() {
        out.push_str("queues\n");
        let mut current = "";
        let mut row = String::new();
        for c in &s.queue_counts {
            if c.queue != current {
                if !row.is_empty() {
                    out.push_str(&format!("{row}\n"));
                }
                current = &c.queue;
                row = format!("  {current:<24}");
            }
            row.push_str(&format!(" {} {}", state_name(c.state), c.count));
        }
        out.push_str(&format!("{row}\n"));
        if s.queue_counts_truncated {
            out.push_str("  ... (more queues; see the metrics)\n");
        }
    }
    out
}

fn node_line(s: &pb::NodeStatus) -> String {
    format!(
        "{:<12} {:<9} {:<9} term {} applied {}/{} backlog {} disk {} free, {} workers",
        s.node_id,
        role_name(s.role),
        if s.ready { "ready" } else { "not-ready" },
        s.term,
        index(s.applied_index),
        index(s.committed_index),
        s.apply_backlog,
        disk_free_text(s),
        s.workers_connected
    )
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn duration(ms: u64) -> String {
    let s = ms / 1_000;
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m{:02}s", s / 60, s % 60),
        3_600..86_400 => format!("{}h{:02}m", s / 3_600, (s % 3_600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3_600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
        assert_eq!(duration(59_000), "59s");
        assert_eq!(duration(3_725_000), "1h02m");
    }

    fn node(name: &str, backlog: u64, free: u64) -> pb::ClusterNodeStatus {
        pb::ClusterNodeStatus {
            node_id: name.into(),
            reachable: true,
            error: String::new(),
            status: Some(pb::NodeStatus {
                node_id: name.into(),
                raft_id: 1,
                term: 3,
                apply_backlog: backlog,
                workers_connected: 0,
                disk: Some(pb::DiskUsage {
                    used_bytes: 1,
                    free_bytes: Some(free),
                    size_bytes: Some(100),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_checklist_flags_a_full_disk_a_growing_backlog_and_no_workers() {
        let first = pb::GetClusterStatusResponse {
            nodes: vec![node("n1", 5, 5)],
            leader_raft_id: Some(1),
        };
        let second = pb::GetClusterStatusResponse {
            nodes: vec![node("n1", 9, 5)],
            leader_raft_id: Some(1),
        };
        let checks = checklist(&first, &second);
        let ok: Vec<(&str, bool)> = checks.iter().map(|c| (c.key, c.ok)).collect();
        assert_eq!(
            ok,
            vec![
                ("nodes_reachable", true),
                ("disk_not_full", false),
                ("leader_elected", true),
                ("one_cluster", true),
                ("apply_backlog_stable", false),
                ("workers_connected", false),
            ]
        );
        assert!(
            checks[2].detail.contains("n1 (term 3)"),
            "{}",
            checks[2].detail
        );
    }

    #[test]
    fn the_checklist_flags_members_that_name_two_clusters() {
        let with_id = |name: &str, id: &str| {
            let mut n = node(name, 0, 50);
            if let Some(s) = n.status.as_mut() {
                s.cluster_id = id.into();
            }
            n
        };
        let one_of = |key: &str, nodes: Vec<pb::ClusterNodeStatus>| {
            let status = pb::GetClusterStatusResponse {
                nodes,
                leader_raft_id: Some(1),
            };
            checklist(&status, &status)
                .into_iter()
                .find(|c| c.key == key)
                .map(|c| (c.ok, c.detail))
                .expect(key)
        };
        // One id (a member that has not learnt it yet does not count against it).
        let (ok, detail) = one_of(
            "one_cluster",
            vec![with_id("n1", "c1"), with_id("n2", "c1"), with_id("n3", "")],
        );
        assert!(ok && detail.contains("c1"), "{detail}");
        let (ok, detail) = one_of(
            "one_cluster",
            vec![with_id("n1", "c1"), with_id("n2", "c2")],
        );
        assert!(
            !ok && detail.contains("c1") && detail.contains("c2"),
            "{detail}"
        );
        // A cluster of an older release names none.
        let (ok, detail) = one_of("one_cluster", vec![with_id("n1", "")]);
        assert!(ok && detail.contains("no cluster id"), "{detail}");
    }
}
