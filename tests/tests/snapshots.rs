//! Snapshots, log compaction, backups and restore, on real `corvo` processes.
//!
//! Nodes run with tiny snapshot settings (a snapshot every 20 entries, 5 entries kept behind
//! it) so that a few dozen sequential writes compact the log.

use std::path::{Path, PathBuf};
use std::process::Command;

use corvo_tests::cluster::*;
use corvo_tests::*;

const SNAPSHOT_ENTRIES: &str = "20";
const LOGS_KEPT: &str = "5";

fn compacting(builder: ServerBuilder) -> ServerBuilder {
    builder
        .env("CORVO_SNAPSHOT_ENTRIES", SNAPSHOT_ENTRIES)
        .env("CORVO_SNAPSHOT_LOGS_KEPT", LOGS_KEPT)
}

/// Sequential enqueues: one log entry each.
async fn enqueue_n(node: &TestServer, queue: &str, n: usize) -> Vec<String> {
    let mut w = node.worker().await;
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(enqueue_job(&mut w, queue, &format!(r#"{{"i":{i}}}"#)).await);
    }
    ids
}

async fn status(node: &TestServer) -> pb::NodeStatus {
    node_status(node)
        .await
        .unwrap_or_else(|| node.fail("GetNodeStatus did not answer"))
}

async fn list(node: &TestServer) -> Vec<pb::SnapshotInfo> {
    node.cluster()
        .await
        .list_snapshots(pb::ListSnapshotsRequest {})
        .await
        .unwrap_or_else(|e| node.fail(&format!("ListSnapshots: {e}")))
        .into_inner()
        .snapshots
}

fn snapshot_files(data_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir.join("snapshots"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.to_string_lossy().ends_with(".corvo-snapshot"));
    files.sort();
    files
}

/// Runs the `corvo` CLI; (success, stdout + stderr).
fn cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(corvo_bin())
        .args(args)
        .env_remove("CORVO_CLUSTER_SECRET")
        .output()
        .expect("running corvo");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn metric(node: &TestServer, name: &str) -> f64 {
    let (code, body) = http_get(node.addr(), "/metrics")
        .await
        .expect("GET /metrics");
    assert_eq!(code, 200);
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
}

/// The log is compacted behind automatic snapshots, two are kept, and a restart (SIGKILL)
/// comes back from the newest snapshot plus the log tail with the same state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_automatic_snapshots_compact_the_log_and_survive_a_kill() {
    let mut node = compacting(TestServer::builder()).start().await;
    let ids = enqueue_n(&node, "snap", 70).await;

    let s = eventually("a snapshot and a purged log", || async {
        let s = status(&node).await;
        let snap = s.last_snapshot.as_ref()?;
        (snap.last_index >= 40).then_some(s)
    })
    .await;
    let snapshots = list(&node).await;
    assert!(
        (1..=2).contains(&snapshots.len()),
        "at most two snapshots are kept: {snapshots:?}"
    );
    assert_eq!(snapshots.len(), snapshot_files(node.data_dir()).len());
    assert!(
        snapshots
            .windows(2)
            .all(|w| w[0].last_index > w[1].last_index)
    );
    assert!(metric(&node, "corvo_raft_purged_index").await > 0.0);
    assert!(metric(&node, "corvo_snapshot_last_index").await >= 40.0);
    assert!(metric(&node, "corvo_snapshot_size_bytes").await > 0.0);
    assert!(metric(&node, "corvo_snapshot_age_seconds").await >= 0.0);
    let applied = s.applied_index.expect("applied index");
    let before = state_digest(&node, applied).await;

    node.kill();
    node.restart().await;
    let after = state_digest(&node, applied).await;
    assert_eq!(after.digest, before.digest, "state after the restart");
    let mut jobs = node.jobs().await;
    for id in [&ids[0], &ids[35], &ids[69]] {
        get_job(&mut jobs, id).await;
    }
    assert!(
        node.log_since_start()
            .contains("raft started: state brought up to date"),
        "the start-up log reports the replay"
    );
    assert!(metric(&node, "corvo_startup_replay_seconds").await > 0.0);
    // New writes after the restart still work.
    enqueue_n(&node, "snap", 3).await;
}

/// `corvo snapshot create` makes a backup; `verify` checks it; `--restore` into a fresh data
/// dir gives the same state digest; a non-empty data dir and a damaged archive are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_backup_and_restore_into_a_fresh_node() {
    let node = TestServer::start().await;
    enqueue_n(&node, "backup", 25).await;
    let mut w = node.worker().await;
    let leased = fetch_some(&mut w, "backup").await;
    assert!(!leased.job_id.is_empty());

    let (ok, out) = cli(&[
        "snapshot",
        "create",
        "--server",
        &node.url(),
        "--output",
        "json",
    ]);
    assert!(ok, "snapshot create: {out}");
    let created: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    let path = created[0]["path"].as_str().expect("path").to_owned();
    let index = created[0]["last_index"].as_u64().expect("last_index");
    let digest = state_digest(&node, index).await;
    assert_eq!(
        digest.applied_index,
        Some(index),
        "nothing was written meanwhile"
    );

    let (ok, out) = cli(&["snapshot", "list", "--server", &node.url()]);
    assert!(
        ok && out.contains(".corvo-snapshot"),
        "snapshot list: {out}"
    );

    // The operator copies the archive off the node, and checks the copy.
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("backup.corvo-snapshot");
    std::fs::copy(&path, &backup).expect("copying the archive");
    let backup_arg = backup.display().to_string();
    let (ok, out) = cli(&["snapshot", "verify", &backup_arg]);
    assert!(ok && out.contains("OK (version 2"), "verify: {out}");
    assert!(out.contains("checksum xxh3-128:"), "verify: {out}");

    // Restore into a fresh single node (other node id, other ports): same state.
    let restored = TestServer::builder()
        .node_id("r1")
        .env("CORVO_RESTORE", &backup_arg)
        .start()
        .await;
    let again = state_digest(&restored, index).await;
    assert_eq!(again.digest, digest.digest, "restored state digest");
    let mut jobs = restored.jobs().await;
    let job = get_job(&mut jobs, &leased.job_id).await;
    assert_eq!(state_of(&job), pb::JobState::Active, "the lease came along");
    // It is a working one-node cluster: writes succeed.
    enqueue_n(&restored, "backup", 2).await;

    // A damaged archive is refused, naming the file, and the node does not start.
    let mut bytes = std::fs::read(&backup).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    let damaged = backups.path().join("damaged.corvo-snapshot");
    std::fs::write(&damaged, bytes).unwrap();
    let damaged_arg = damaged.display().to_string();
    let (ok, out) = cli(&["snapshot", "verify", &damaged_arg]);
    assert!(
        !ok && out.contains(&damaged_arg),
        "verify of a damaged archive: {out}"
    );
    let mut refused = TestServer::builder()
        .node_id("r2")
        .env("CORVO_RESTORE", &damaged_arg)
        .spawn();
    let exit = refused.wait_exit(WAIT).await;
    assert!(!exit.success());
    let log = refused.log_since_start();
    assert!(
        log.contains(&damaged_arg) && log.contains("corrupt"),
        "the error names the file: {log}"
    );

    // Restoring over existing data is refused.
    let mut restored = restored;
    restored.terminate_and_wait().await;
    restored.respawn();
    let exit = restored.wait_exit(WAIT).await;
    assert!(!exit.success());
    assert!(
        restored.log_since_start().contains("empty data dir"),
        "{}",
        restored.log_since_start()
    );
}

/// A node with a snapshot, stopped, whose newest snapshot file is then damaged on disk.
async fn node_with_a_damaged_snapshot() -> (TestServer, Vec<String>, PathBuf) {
    let mut node = compacting(TestServer::builder()).start().await;
    let ids = enqueue_n(&node, "corrupt", 30).await;
    eventually("a snapshot", || async {
        list(&node).await.first().cloned()
    })
    .await;
    node.terminate_and_wait().await;

    let newest = snapshot_files(node.data_dir())
        .pop()
        .expect("a snapshot file");
    let mut bytes = std::fs::read(&newest).unwrap();
    let at = bytes.len() - 40;
    bytes[at] ^= 0x01;
    std::fs::write(&newest, bytes).unwrap();
    (node, ids, newest)
}

/// A damaged newest snapshot that the state does not need (the state file is newer) is
/// checked in the background: the node starts and serves, and logs an error naming the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_a_corrupted_snapshot_the_state_does_not_need_is_reported_not_fatal() {
    let (mut node, ids, newest) = node_with_a_damaged_snapshot().await;
    node.respawn();
    node.wait_ready().await;
    let mut jobs = node.jobs().await;
    for id in &ids {
        assert_eq!(get_job(&mut jobs, id).await.id, *id);
    }
    let log = eventually("the error naming the damaged file", || async {
        let log = node.log_since_start();
        (log.contains("ERROR") && log.contains(&newest.display().to_string())).then_some(log)
    })
    .await;
    assert!(
        log.contains("corrupt") && log.contains("the next snapshot replaces it"),
        "the error names the cause and what follows: {log}"
    );
}

/// The same damage when the state needs the archive to recover (its file is gone): the node
/// refuses to start and names the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t31_a_corrupted_snapshot_the_state_needs_stops_the_node_with_its_name() {
    let (mut node, _, newest) = node_with_a_damaged_snapshot().await;
    std::fs::remove_file(node.data_dir().join("state.redb")).unwrap();
    node.respawn();
    let exit = node.wait_exit(WAIT).await;
    assert!(
        !exit.success(),
        "the node must not start from a damaged snapshot"
    );
    let log = node.log_since_start();
    assert!(
        log.contains(&newest.display().to_string())
            && log.contains("corrupt")
            && log.contains("will not serve from a damaged snapshot"),
        "the error names the file and the cause: {log}"
    );
}

/// A node that was down while the leader compacted its log catches up through a snapshot,
/// and a backup of the cluster restores into a fresh single node with the same digest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t40_a_lagging_node_catches_up_through_a_snapshot() {
    let n1 = compacting(TestServer::builder().node_id("n1").cluster_secret(SECRET))
        .start()
        .await;
    let n2 = compacting(
        TestServer::builder()
            .node_id("n2")
            .cluster_secret(SECRET)
            .join(&n1.url()),
    )
    .start()
    .await;
    // n3 never builds a snapshot itself: any snapshot it holds came from the leader.
    let n3 = TestServer::builder()
        .node_id("n3")
        .cluster_secret(SECRET)
        .join(&n1.url())
        .env("CORVO_SNAPSHOT_ENTRIES", "0")
        .env("CORVO_SNAPSHOT_INTERVAL_SECS", "0")
        .env("CORVO_SNAPSHOT_LOG_BYTES", "0")
        .start()
        .await;
    let mut nodes = vec![n1, n2, n3];
    let leader = leader_index(&mut nodes).await;
    enqueue_n(&nodes[leader], "lag", 5).await;
    assert_digests_converge(&mut nodes, leader).await;
    let lagging = if leader == 2 { 1 } else { 2 };
    let stopped_at = status(&nodes[lagging]).await.applied_index.unwrap_or(0);
    nodes[lagging].terminate_and_wait().await;

    // Far more entries than the leader keeps behind its snapshots.
    let leader = leader_index(&mut nodes).await;
    enqueue_n(&nodes[leader], "lag", 60).await;
    // Purging follows the snapshot a moment later: wait for the purge itself, or the
    // restarted node could still catch up from the log.
    eventually("the leader to purge past the stopped node", || async {
        let m = corvo_tests::observe::scrape(&nodes[leader]).await;
        let purged = m.value("corvo_raft_purged_index", &[]).unwrap_or(0.0) as u64;
        (purged > stopped_at + 1).then_some(())
    })
    .await;

    nodes[lagging].restart().await;
    assert_digests_converge(&mut nodes, leader).await;
    if lagging == 2 {
        let received = list(&nodes[2]).await;
        assert!(
            received.iter().any(|s| s.last_index > stopped_at),
            "n3 builds no snapshots, so it must hold the leader's: {received:?}"
        );
    }
    assert!(
        nodes[lagging]
            .log_tail(400)
            .contains("installed a snapshot"),
        "the lagging node installed a snapshot"
    );

    // Backup on the cluster, restore into a fresh single node: same digest.
    let mut cluster = nodes[leader].cluster().await;
    let mut request = tonic::Request::new(pb::CreateSnapshotRequest {});
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {SECRET}").parse().unwrap());
    let created = cluster
        .create_snapshot(request)
        .await
        .expect("CreateSnapshot with the secret")
        .into_inner()
        .snapshot
        .expect("snapshot");
    let digest = state_digest(&nodes[leader], created.last_index).await;
    let restored = TestServer::builder()
        .node_id("solo")
        .env("CORVO_RESTORE", &created.path)
        .start()
        .await;
    assert_eq!(
        state_digest(&restored, created.last_index).await.digest,
        digest.digest
    );
    // Without the secret, a snapshot is refused.
    let refused = cluster
        .create_snapshot(pb::CreateSnapshotRequest {})
        .await
        .expect_err("no secret");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
}

/// The age trigger: with the entry count off, a snapshot still comes once the last one is
/// `--snapshot-interval-secs` old and something changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t50_snapshots_also_come_by_age() {
    let node = TestServer::builder()
        .env("CORVO_SNAPSHOT_ENTRIES", "0")
        .env("CORVO_SNAPSHOT_INTERVAL_SECS", "1")
        .start()
        .await;
    enqueue_n(&node, "aged", 3).await;
    let applied = status(&node).await.applied_index.unwrap_or(0);
    let snap = eventually("a snapshot by age", || async {
        list(&node)
            .await
            .into_iter()
            .find(|s| s.last_index >= applied)
    })
    .await;
    assert!(snap.size_bytes > 0);
}

/// The guide's restore procedure in a cluster: a node that lost its disk starts from a backup
/// with `--restore` and `--join`, keeps the backup's membership, and catches up from the
/// leader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t60_a_node_restored_from_a_backup_catches_up_from_the_cluster() {
    let mut nodes = three_nodes().await;
    let leader = leader_index(&mut nodes).await;
    enqueue_n(&nodes[leader], "restore", 10).await;

    // The backup, copied off the cluster.
    let mut request = tonic::Request::new(pb::CreateSnapshotRequest {});
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {SECRET}").parse().unwrap());
    let created = nodes[leader]
        .cluster()
        .await
        .create_snapshot(request)
        .await
        .expect("CreateSnapshot")
        .into_inner()
        .snapshot
        .expect("snapshot");
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("backup.corvo-snapshot");
    std::fs::copy(&created.path, &backup).expect("copying the backup");

    // Writes after the backup, then a follower loses its disk.
    enqueue_n(&nodes[leader], "restore", 10).await;
    let lost = if leader == 2 { 1 } else { 2 };
    nodes[lost].terminate_and_wait().await;
    std::fs::remove_dir_all(nodes[lost].data_dir()).expect("wiping the data dir");
    let leader_url = nodes[leader].url();
    nodes[lost].set_env("CORVO_JOIN", Some(&leader_url));
    nodes[lost].set_env("CORVO_RESTORE", Some(&backup.display().to_string()));
    nodes[lost].restart().await;
    assert!(
        nodes[lost]
            .log_since_start()
            .contains("data dir seeded from a snapshot archive"),
        "{}",
        nodes[lost].log_since_start()
    );
    nodes[lost].set_env("CORVO_RESTORE", None);
    // It caught up past the backup: the writes made after it are there too.
    let leader = leader_index(&mut nodes).await;
    enqueue_n(&nodes[leader], "restore", 2).await;
    assert_digests_converge(&mut nodes, leader).await;
}

/// The size trigger: with the entry count off and the age trigger an hour away, a snapshot
/// comes once the log has grown by `--snapshot-log-bytes` (the size is checked every second,
/// whatever the age trigger's period: a fast-growing log must not wait for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t70_snapshots_also_come_by_log_size() {
    let node = TestServer::builder()
        .env("CORVO_SNAPSHOT_ENTRIES", "0")
        .env("CORVO_SNAPSHOT_INTERVAL_SECS", "3600")
        .env("CORVO_SNAPSHOT_LOG_BYTES", "1048576")
        .start()
        .await;
    let mut w = node.worker().await;
    let big = format!(r#"{{"blob":"{}"}}"#, "x".repeat(64 * 1024));
    // A few hundred KiB: below the trigger, no snapshot.
    for _ in 0..4 {
        enqueue_job(&mut w, "sized", &big).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(
        list(&node).await.is_empty(),
        "no snapshot below the size trigger"
    );
    // Past 1 MiB of log: a snapshot.
    for _ in 0..16 {
        enqueue_job(&mut w, "sized", &big).await;
    }
    let applied = status(&node).await.applied_index.unwrap_or(0);
    eventually("a snapshot by log size", || async {
        list(&node)
            .await
            .into_iter()
            .find(|s| s.last_index + 2 >= applied)
    })
    .await;
}

/// The entry-count trigger grows with the state: it waits for one entry per KiB of the last
/// snapshot when that is more than `--snapshot-entries` (a snapshot rewrites the whole state;
/// small entries on a large state would otherwise rewrite it far more often than the log
/// grows).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t75_the_entry_count_trigger_grows_with_the_state() {
    let node = TestServer::builder()
        .env("CORVO_SNAPSHOT_ENTRIES", "20")
        .env("CORVO_SNAPSHOT_INTERVAL_SECS", "3600")
        .env("CORVO_SNAPSHOT_LOG_BYTES", "0")
        .start()
        .await;
    let mut w = node.worker().await;
    // 25 entries of 8 KiB: past the count, a snapshot of about 200 KiB, whose size then asks
    // for about 200 entries before the next.
    let big = format!(r#"{{"blob":"{}"}}"#, "x".repeat(8 * 1024));
    for _ in 0..25 {
        enqueue_job(&mut w, "grown", &big).await;
    }
    let first = eventually("a snapshot by entry count", || async {
        list(&node).await.into_iter().next()
    })
    .await;
    assert!(
        first.size_bytes >= 150 * 1024,
        "the snapshot holds the payloads: {first:?}"
    );
    let needed = first.size_bytes / 1024;
    // Three times the configured count, well below the size's: no new snapshot.
    enqueue_n(&node, "grown", 60).await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let now = list(&node).await;
    assert_eq!(
        now.first().map(|s| s.last_index),
        Some(first.last_index),
        "no snapshot 60 entries after one of {} bytes: {now:?}",
        first.size_bytes
    );
    // Past the size's count: the next snapshot.
    enqueue_n(&node, "grown", needed as usize).await;
    eventually("a snapshot after one entry per KiB of the last", || async {
        list(&node)
            .await
            .into_iter()
            .find(|s| s.last_index > first.last_index)
    })
    .await;
}
