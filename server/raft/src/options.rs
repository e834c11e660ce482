//! Everything a [`crate::RaftNode`] can be tuned with, each limit with its reason.

use std::path::PathBuf;
use std::time::Duration;

/// When an appended log entry counts as persisted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// An entry is reported persisted only after an fsync'ing commit of the log file. Appends
    /// that arrive while an fsync runs share the next one (group fsync).
    #[default]
    Fsync,
    /// An entry is reported persisted as soon as it is written to the log file, without an
    /// fsync; a background flush makes the log durable every
    /// [`RaftOptions::relaxed_flush_interval`].
    ///
    /// Risk: redb keeps non-durable commits in process memory until the next durable commit,
    /// so a crash of the *process* (not only of the OS) loses every entry appended since the
    /// last flush, up to `relaxed_flush_interval` of writes that clients were told succeeded.
    /// On a single node those writes are gone. In a cluster it is worse than losing a
    /// follower's tail: this node may have counted towards a quorum for entries it then
    /// forgets, so the guarantee "an acknowledged write survives while a quorum of disks
    /// survives" no longer holds when nodes of that quorum crash within one flush interval.
    /// The vote is always saved with an fsync.
    Relaxed,
}

/// Options of one Raft node. Plain data: `server/node` fills it from flags.
#[derive(Clone, Debug)]
pub struct RaftOptions {
    /// This node's id in the cluster. Stable for the life of the log; never reused.
    pub node_id: u64,
    /// This node's peer address, stored in membership (`CorvoNode::raft_addr`).
    pub raft_addr: String,
    /// This node's client address, stored in membership (`CorvoNode::api_addr`): followers
    /// send clients and joins there.
    pub api_addr: String,
    /// This node's name (`--node-id`), stored in membership.
    pub name: String,
    /// On first start (empty log), initialize a one-voter cluster of this node. `false` for a
    /// node that joins an existing cluster: it waits to be added by the leader.
    pub bootstrap: bool,
    /// Sent on every peer RPC and required on every one received. `None`: a single node that
    /// sends no peer RPCs and serves none.
    pub cluster_secret: Option<crate::ClusterSecret>,
    /// TLS on the peer port and on this node's calls to peers; `None`: plaintext (a private
    /// network only: the cluster secret crosses it in clear).
    pub peer_tls: Option<PeerTls>,
    /// The redb file of the Raft log (its own file, not the state machine's).
    pub log_path: PathBuf,
    /// The directory of snapshot archives.
    pub snapshot_dir: PathBuf,
    /// Build a snapshot (and purge the log behind it) after this many entries since the last
    /// one, or one per KiB of the last snapshot if that is more (a snapshot rewrites the whole
    /// state); 0 turns the count trigger off.
    pub snapshot_entries: u64,
    /// Build a snapshot when the last one is this old and entries were applied since; zero
    /// turns the age trigger off.
    pub snapshot_interval: Duration,
    /// Build a snapshot when the log has grown by this many bytes since the last one, or by
    /// the size of the last snapshot if that is larger (so compaction costs a bounded share of
    /// the writes whatever the state's size); 0 turns the size trigger off.
    pub snapshot_log_bytes: u64,
    /// Entries kept in the log behind a snapshot: a follower at most this far behind catches
    /// up from the log instead of receiving the whole snapshot.
    pub snapshot_logs_kept: u64,
    /// When an appended entry counts as persisted.
    pub durability: Durability,
    /// Leader heartbeat interval, ms.
    pub heartbeat_ms: u64,
    /// Lower bound of the randomized election timeout, ms.
    pub election_timeout_min_ms: u64,
    /// Upper bound of the randomized election timeout, ms.
    pub election_timeout_max_ms: u64,
    /// Group commit: at most this many commands per log entry.
    pub batch_commands_max: usize,
    /// Log entries proposed but not yet applied.
    pub proposals_in_flight_max: usize,
    /// Commands queued and not yet in a log entry; when full, `propose` answers `Overloaded`.
    pub propose_queue_max: usize,
    /// Bytes of commands queued and not yet in a log entry (by `Command::approx_bytes`); when
    /// full, `propose` answers `Overloaded`. Bounds the queue's memory whatever the payloads.
    pub propose_queue_bytes_max: usize,
    /// Group commit: at most this many bytes of commands per log entry, unless one call alone
    /// is larger (a call's commands always share one entry; the API bounds a call's message).
    pub batch_bytes_max: usize,
    /// At most this many bytes of entries per AppendEntries RPC: a longer run is sent in
    /// parts, at least one entry each. Bounds one peer message and the follower's work per RPC,
    /// and on a replication stream the bytes of requests not yet answered.
    pub append_bytes_max: usize,
    /// Replicate on one pipelined `StreamAppend` call per follower, and serve it (ADR 0049).
    /// `false` sends one `AppendEntries` call per request and answers `StreamAppend`
    /// UNIMPLEMENTED, as a release before it did: for tests of mixed-release clusters.
    pub stream_append: bool,
    /// The retry hint sent with `Overloaded`, ms.
    pub overloaded_retry_after_ms: u64,
    /// At most this many log entries per `AppStateMachine::apply` call (one storage
    /// transaction).
    pub apply_entries_max: usize,
    /// At most this many log entries per AppendEntries RPC (openraft's `max_payload_entries`).
    /// Bounds one peer message and the work a follower does before it answers.
    pub append_entries_max: u64,
    /// With [`Durability::Relaxed`], the longest time a written log entry stays non-durable.
    pub relaxed_flush_interval: Duration,
    /// On shutdown, how long to wait for entries in flight to be applied before stopping Raft.
    pub shutdown_drain_max: Duration,
    /// How long a caller waits for its proposed entry to be applied before it is told the
    /// outcome is unknown (`ProposeError::CommitTimeout`): a leader cut off from its majority
    /// can neither commit nor, until it hears of a new term, fail its entries.
    pub commit_wait_max: Duration,
    /// Run Raft's tasks on a single-threaded runtime in a thread of its own (`corvo-raft`)
    /// instead of the caller's runtime (see [`crate::runtime`]).
    pub own_runtime: bool,
}

/// Mutual TLS between nodes: the peer port serves `server` (which requires client certificates
/// signed by the peers' CA), and calls to peers use `client` (that CA, and this node's
/// certificate as a client certificate).
#[derive(Clone, Debug)]
pub struct PeerTls {
    pub server: std::sync::Arc<corvo_net::ServerTls>,
    pub client: tonic::transport::ClientTlsConfig,
}

impl Default for RaftOptions {
    fn default() -> Self {
        Self {
            node_id: 1,
            raft_addr: "127.0.0.1:9000".to_string(),
            api_addr: "127.0.0.1:8080".to_string(),
            name: "n1".to_string(),
            // A node alone forms its own cluster unless told to join one.
            bootstrap: true,
            cluster_secret: None,
            peer_tls: None,
            log_path: PathBuf::from("raft-log.redb"),
            snapshot_dir: PathBuf::from("snapshots"),
            // With one command per entry (unary writes) about 200 MB of log; under batched load
            // the size trigger comes first.
            snapshot_entries: 100_000,
            // A backup at least this fresh whenever anything changed.
            snapshot_interval: Duration::from_secs(15 * 60),
            // The log stays within about twice the state (or this much) behind a snapshot.
            snapshot_log_bytes: 256 << 20,
            // openraft's default; a restarted follower usually needs far fewer.
            snapshot_logs_kept: 1000,
            // An acknowledged write must survive a crash unless the operator opts out.
            durability: Durability::Fsync,
            // openraft's 50 ms is too eager for fsync latencies on small shared machines.
            heartbeat_ms: 250,
            // >= 4 heartbeats and >= 10x a slow fsync, so a busy disk does not cause elections.
            election_timeout_min_ms: 1000,
            // A wide range makes split votes unlikely.
            election_timeout_max_ms: 2000,
            // Bounds one entry's size and the work of applying it.
            batch_commands_max: 1024,
            // Long enough to gather concurrent callers, short next to an fsync.
            // Enough to keep the disk and the state machine busy while entries commit.
            proposals_in_flight_max: 16,
            // 64 full entries of backlog: beyond that, waiting only adds latency.
            propose_queue_max: 65_536,
            // 256 MiB: sixteen full-size entries; payloads up to the API's message bound.
            propose_queue_bytes_max: 256 << 20,
            // 16 MiB: one entry is written, replicated and applied as a unit.
            batch_bytes_max: 16 << 20,
            // 64 MiB per append: a catch-up moves in parts a follower applies in seconds.
            append_bytes_max: 64 << 20,
            // Entries go out without waiting for the answers before them.
            stream_append: true,
            // About one group-commit round on a healthy node.
            overloaded_retry_after_ms: 10,
            // Bounds one state-machine transaction during catch-up or replay at startup.
            apply_entries_max: 256,
            // openraft's 300 full group-commit entries (1024 commands each) made catch-up
            // messages of hundreds of MiB; 32 keeps a typical one to tens of MiB.
            append_entries_max: 32,
            // At most this much acknowledged work is lost by a crash under Relaxed.
            relaxed_flush_interval: Duration::from_millis(1000),
            // Several election timeouts: in-flight entries either commit or fail by then.
            shutdown_drain_max: Duration::from_secs(5),
            // Far above a loaded node's commit latency (well under a second) and above an
            // election, so only a node without a majority hits it.
            commit_wait_max: Duration::from_secs(10),
            // Entries' hand-offs do not queue behind the client port's request tasks.
            own_runtime: true,
        }
    }
}

impl RaftOptions {
    /// Checks the options for values that would make the node misbehave.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let positive = [
            ("heartbeat_ms", self.heartbeat_ms as usize),
            (
                "election_timeout_min_ms",
                self.election_timeout_min_ms as usize,
            ),
            ("batch_commands_max", self.batch_commands_max),
            ("proposals_in_flight_max", self.proposals_in_flight_max),
            ("propose_queue_max", self.propose_queue_max),
            ("apply_entries_max", self.apply_entries_max),
            ("append_entries_max", self.append_entries_max as usize),
            ("propose_queue_bytes_max", self.propose_queue_bytes_max),
            ("batch_bytes_max", self.batch_bytes_max),
            ("append_bytes_max", self.append_bytes_max),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} must be > 0"));
        }
        if self.election_timeout_min_ms <= self.heartbeat_ms {
            return Err("election_timeout_min_ms must exceed heartbeat_ms".to_string());
        }
        if self.election_timeout_max_ms <= self.election_timeout_min_ms {
            return Err("election_timeout_max_ms must exceed election_timeout_min_ms".to_string());
        }
        if self.propose_queue_max < self.batch_commands_max {
            return Err("propose_queue_max must be >= batch_commands_max".to_string());
        }
        if self.propose_queue_bytes_max < self.batch_bytes_max {
            return Err("propose_queue_bytes_max must be >= batch_bytes_max".to_string());
        }
        // Semaphores take a u32 count in acquire_many.
        if self.propose_queue_max > u32::MAX as usize
            || self.proposals_in_flight_max > u32::MAX as usize
            || self.propose_queue_bytes_max > u32::MAX as usize
        {
            return Err(
                "propose_queue_max and proposals_in_flight_max must fit in u32".to_string(),
            );
        }
        Ok(())
    }
}
