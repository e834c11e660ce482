//! `corvo server`: the supervisor. It owns start-up, every background task, and the
//! shutdown order, as named phases (`run_node` reads top to bottom):
//!
//! 1. [`prepare`]: the configuration checked, `--seek-cluster` resolved, the data dir ready;
//! 2. [`open_storage`]: the state, the read view, signals and metrics;
//! 3. [`start_raft`]: a restore first (`--restore`), Raft (the log replayed; a one-voter
//!    cluster on a first start unless joining), a check-only join before the peer port opens,
//!    the peer port (with a cluster secret), the join, a leader known;
//! 4. [`start_services`]: the engine, its tasks (ticker, checkpoints, TLS reload, keys, bulk
//!    operations, retention, readiness), the client port;
//! 5. [`Running::wait_for_stop`]: SIGTERM/SIGINT, or a fatal Raft error (then `/healthz` 503
//!    for the grace, and a non-zero exit);
//! 6. [`Running::shut_down`]: readiness NOT_SERVING and no new work handed out → the listener
//!    stays open (liveness 200, new worker streams refused) while open worker streams finish
//!    their in-flight acks, at most the drain grace → leadership handed over → tasks stopped
//!    → health watchers ended, listener closed → Raft stopped → peer port closed → state
//!    flushed → exit 0.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use corvo_api::auth::{AuthLayer, AuthOptions};
use corvo_api::backpressure::{PoolOptions, Pools};
use corvo_api::forward::ForwardLayer;
use corvo_api::keyring::KeyRing;
use corvo_api::rate_limit::{RateLimits, RateOptions};
use corvo_api::rpc_metrics::KnownMethods;
use corvo_api::stack::PublicLayers;
use corvo_api::status::NodeInfo;
use corvo_api::{ApiOptions, CheckpointTrigger, Engine, Metrics, Signals};
use corvo_core::query;
use corvo_net::Reserved;
use corvo_raft::{ClusterSecret, Durability, RaftNode, RaftOptions, RestoreMode};
use corvo_store::StateStore;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::config::{DurabilityArg, ServerArgs};
use crate::machine::{NodeListener, StoreMachine, last_event_seq, open_view};
use crate::{access, client_port, join, probes, telemetry, tls};

/// How long start-up waits for a leader (this node on a one-node cluster; a restarted member
/// hears from the leader within an election).
const LEADER_WAIT: Duration = Duration::from_secs(30);
/// How long a stopping leader waits for another node to take over (about two heartbeats and
/// an append in the common case; bounded so a stuck transfer never blocks shutdown).
const LEADERSHIP_HAND_OFF_MAX: Duration = Duration::from_secs(3);
/// Extra time, beyond the drain grace, for connections to close before the node stops anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// How often TLS certificate files are checked for changes (Kubernetes updates mounted
/// Secrets within about a minute; SIGHUP reloads at once).
const TLS_RELOAD_EVERY: Duration = Duration::from_secs(10);
/// After the drain grace, worker streams close themselves; this much more is allowed for
/// them to be gone before the listener closes anyway.
const STREAMS_GONE_GRACE: Duration = Duration::from_secs(1);

/// The Raft node id for a node name: the number itself when the name is numeric, else a
/// stable 64-bit hash (FNV-1a) of the name.
pub fn raft_node_id(name: &str) -> u64 {
    if let Ok(n) = name.parse::<u64>() {
        return n;
    }
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The data dir's lock file: held (an advisory `flock`) while a server runs on the dir, with
/// that server's process id in it.
const DATA_DIR_LOCK: &str = "LOCK";

/// Takes the data dir for this process: a second server on the same dir (a stale unit still
/// running, two pods on one volume) stops here, before it reads or writes anything, instead of
/// failing later on whichever file it opens first. The lock goes with the process.
fn lock_data_dir(data_dir: &Path) -> anyhow::Result<std::fs::File> {
    use std::io::{Read, Seek, Write};
    let path = data_dir.join(DATA_DIR_LOCK);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => String::new(),
                pid => format!(" (pid {pid})"),
            };
            anyhow::bail!(
                "data dir {} is in use by another corvo server{holder}: one server per data dir",
                data_dir.display()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()));
        }
    }
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(file)
}

fn check_node_name(data_dir: &Path, name: &str) -> anyhow::Result<()> {
    let path = data_dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing.trim() == name => Ok(()),
        Ok(existing) => anyhow::bail!(
            "data dir {} belongs to node {:?}, not {name:?}: a node id is fixed for its data dir",
            data_dir.display(),
            existing.trim()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(&path, format!("{name}\n"))
                .with_context(|| format!("writing {}", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The cluster secret from `--cluster-secret` or `--cluster-secret-file`, if any.
fn cluster_secret(args: &ServerArgs) -> anyhow::Result<Option<ClusterSecret>> {
    if let Some(path) = &args.cluster_secret_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the cluster secret file {}", path.display()))?;
        return match ClusterSecret::new(text) {
            Some(s) => Ok(Some(s)),
            None => anyhow::bail!("the cluster secret file {} is empty", path.display()),
        };
    }
    Ok(args.cluster_secret.clone().and_then(ClusterSecret::new))
}

/// The addresses this node is known by, stored in the membership and told to peers and
/// clients: (client, peer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertised {
    pub api: String,
    pub raft: String,
}

/// `--advertise-addr` / `--raft-advertise-addr`, defaulting to `--bind` / `--raft-bind`. A
/// node that talks to peers (it has a cluster secret) refuses to advertise an unspecified
/// address (`0.0.0.0`, `::`): nobody can reach it there.
pub fn advertised(args: &ServerArgs, clustering: bool) -> anyhow::Result<Advertised> {
    let pick = |given: &Option<String>,
                bind: SocketAddr,
                flag: &str,
                bind_flag: &str,
                env: &str| {
        let addr = match given {
            Some(a) => {
                check_host_port(a).with_context(|| format!("{flag} {a:?}"))?;
                a.clone()
            }
            None => bind.to_string(),
        };
        let unspecified = addr
            .parse::<SocketAddr>()
            .is_ok_and(|a| a.ip().is_unspecified());
        if clustering && unspecified {
            anyhow::bail!(
                "refusing to advertise {addr} to the cluster: an unspecified address (0.0.0.0 or ::) cannot be reached by peers or clients; {bind_flag} {bind} may listen on every interface, but set {flag} (or {env}) to this node's reachable host:port"
            );
        }
        Ok(addr)
    };
    Ok(Advertised {
        api: pick(
            &args.advertise_addr,
            args.bind,
            "--advertise-addr",
            "--bind",
            "CORVO_ADVERTISE_ADDR",
        )?,
        raft: pick(
            &args.raft_advertise_addr,
            args.raft_bind,
            "--raft-advertise-addr",
            "--raft-bind",
            "CORVO_RAFT_ADVERTISE_ADDR",
        )?,
    })
}

/// `host:port`, where host is a DNS name, an IPv4 address or a bracketed IPv6 address.
fn check_host_port(addr: &str) -> anyhow::Result<()> {
    let (host, port) = addr
        .rsplit_once(':')
        .context("expected host:port (no scheme)")?;
    if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
        anyhow::bail!("expected host:port (no scheme)");
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        anyhow::bail!("an IPv6 address must be bracketed: [addr]:port");
    }
    port.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .context("the port must be a number from 1 to 65535")?;
    Ok(())
}

pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let telemetry = telemetry::init(
        args.log_format,
        &args.log_level,
        telemetry::otlp_endpoint(args.otlp_endpoint.as_deref()),
    )?;
    let result = run_node(args).await;
    // Last: the spans of the whole shutdown are exported too.
    telemetry.shutdown().await;
    result
}

async fn run_node(args: ServerArgs) -> anyhow::Result<()> {
    let (setup, data_dir_lock) = prepare(args).await?;
    let storage = open_storage(&setup).await?;
    let store = storage.store.clone();
    let result = serve(setup, storage).await;
    // Closed on every way out (a clean shutdown, a start refused by the cluster, a failed
    // shutdown step), whoever still holds the store: the next start then opens the file at
    // once instead of checking all of it (redb's repair: seconds on a large state, ADR 0047).
    store.close();
    // Then the data dir is free for the next server.
    drop(data_dir_lock);
    result
}

/// Phases 3 and 4, then the wait for a stop and the shutdown.
async fn serve(mut setup: Setup, storage: Storage) -> anyhow::Result<()> {
    let peer_port = setup.peer_port.take();
    let cluster = start_raft(&setup, &storage, peer_port).await?;
    let running = start_services(setup, storage, cluster).await?;
    let fatal = running.wait_for_stop().await;
    running.shut_down(fatal).await
}

/// Phase 1: the configuration checked, the ports taken, `--seek-cluster` resolved, the data
/// dir ready.
struct Setup {
    args: ServerArgs,
    /// `--bind`, listening from phase 4.
    client_port: Reserved,
    /// `--raft-bind` (with a cluster secret only), listening from phase 3.
    peer_port: Option<Reserved>,
    secret: Option<ClusterSecret>,
    advertised: Advertised,
    node_tls: tls::NodeTls,
    bootstrap_key: Option<String>,
}

/// Also returns the data dir's lock, held until the state is closed.
async fn prepare(mut args: ServerArgs) -> anyhow::Result<(Setup, std::fs::File)> {
    let secret = cluster_secret(&args)?;
    if (args.join.is_some() || args.no_bootstrap || !args.seek_cluster.is_empty())
        && secret.is_none()
    {
        anyhow::bail!(
            "--join, --seek-cluster and --no-bootstrap need the cluster secret (--cluster-secret, CORVO_CLUSTER_SECRET or --cluster-secret-file): peers refuse unauthenticated nodes"
        );
    }
    let advertised = advertised(&args, secret.is_some())?;
    let node_tls = tls::load(&args, secret.is_some())?;
    // The ports first: one that is taken stops the start before anything is written or joined.
    let client_port =
        Reserved::bind(args.bind).with_context(|| format!("binding {}", args.bind))?;
    let peer_port = match secret {
        Some(_) => Some(
            Reserved::bind(args.raft_bind)
                .with_context(|| format!("binding the peer port {}", args.raft_bind))?,
        ),
        None => None,
    };
    // A first start with --seek-cluster: a live member found becomes this start's --join.
    if let (false, Some(secret)) = (args.seek_cluster.is_empty(), secret.as_ref())
        && !args.data_dir.join("raft-log.redb").exists()
    {
        args.join = join::seek_cluster(
            &args.seek_cluster,
            secret,
            join_request(&args, &advertised, true),
            node_tls.members.clone(),
            Duration::from_millis(args.seek_cluster_timeout_ms),
        )
        .await?;
    }
    check_message_bound(&args)?;
    crate::settings::check_retention(args.retention, args.dead_retention)?;
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating data dir {}", args.data_dir.display()))?;
    let data_dir_lock = lock_data_dir(&args.data_dir)?;
    check_node_name(&args.data_dir, &args.node_id)?;
    if args.durability == DurabilityArg::Relaxed {
        warn!(
            "--durability relaxed: writes are acknowledged before they reach the disk; a power loss can lose them"
        );
    }
    let bootstrap_key = access::bootstrap_key(
        args.bootstrap_admin_key.as_deref(),
        args.bootstrap_admin_key_file.as_deref(),
    )?;

    let setup = Setup {
        args,
        client_port,
        peer_port,
        secret,
        advertised,
        node_tls,
        bootstrap_key,
    };
    Ok((setup, data_dir_lock))
}

/// Phase 2: the state, the read view, and what applies feed (signals, metrics).
struct Storage {
    store: Arc<StateStore>,
    signals: Signals,
    metrics: Arc<Metrics>,
    view: Arc<corvo_view::View>,
    machine: Arc<StoreMachine>,
}

async fn open_storage(setup: &Setup) -> anyhow::Result<Storage> {
    let args = &setup.args;
    let store = Arc::new(StateStore::open(&args.data_dir.join("state.redb"))?);
    let (last_event_seq, next_due) = {
        let reader = store.read()?;
        (last_event_seq(&reader)?, query::next_due(&reader)?)
    };
    let signals = Signals::new(last_event_seq, next_due);
    let metrics = Arc::new(Metrics::new());
    let view = open_view(&args.data_dir, &store).await?;
    let machine = Arc::new(StoreMachine(store.clone(), metrics.clone(), view.clone()));
    Ok(Storage {
        store,
        signals,
        metrics,
        view,
        machine,
    })
}

/// Phase 3: Raft started (a restore applied first, the log replayed), admitted to the
/// cluster, its peer port open, a leader known.
struct Cluster {
    raft: Arc<RaftNode>,
    keys: Arc<KeyRing>,
    peer_close: watch::Sender<bool>,
    peer_server: Option<tokio::task::JoinHandle<Result<(), String>>>,
    /// What was committed when Raft started (readiness waits until it is applied).
    startup_committed: Option<u64>,
    started: std::time::Instant,
}

async fn start_raft(
    setup: &Setup,
    storage: &Storage,
    peer_port: Option<Reserved>,
) -> anyhow::Result<Cluster> {
    let Setup {
        args,
        secret,
        advertised,
        node_tls,
        ..
    } = setup;
    let Storage {
        store,
        signals,
        view,
        machine,
        ..
    } = storage;
    let raft_opts = RaftOptions {
        node_id: raft_node_id(&args.node_id),
        raft_addr: advertised.raft.clone(),
        api_addr: advertised.api.clone(),
        name: args.node_id.clone(),
        // A node told to join must not start a cluster of its own.
        bootstrap: args.join.is_none() && !args.no_bootstrap,
        cluster_secret: secret.clone(),
        peer_tls: node_tls.peer.clone(),
        heartbeat_ms: args.heartbeat_ms,
        log_path: args.data_dir.join("raft-log.redb"),
        snapshot_dir: args.data_dir.join("snapshots"),
        snapshot_entries: args.snapshot_entries,
        snapshot_interval: Duration::from_secs(args.snapshot_interval_secs),
        snapshot_log_bytes: args.snapshot_log_bytes,
        snapshot_logs_kept: args.snapshot_logs_kept,
        durability: match args.durability {
            DurabilityArg::Fsync => Durability::Fsync,
            DurabilityArg::Relaxed => Durability::Relaxed,
        },
        election_timeout_min_ms: args.election_timeout_ms,
        election_timeout_max_ms: args.election_timeout_ms * 2,
        ..RaftOptions::default()
    };
    if let Some(archive) = &args.restore {
        // With --join the node rejoins the cluster the backup came from; alone it becomes a
        // new one-voter cluster holding the backup's state.
        let mode = if args.join.is_some() {
            RestoreMode::Rejoin
        } else {
            RestoreMode::NewCluster
        };
        let (index, term) = corvo_raft::restore(&raft_opts, machine.clone(), archive, mode)
            .await
            .with_context(|| format!("restoring from {}", archive.display()))?;
        info!(archive = %archive.display(), index, term, ?mode, "data dir seeded from a snapshot archive");
        view.rebuild(index);
    }
    let started = corvo_clock::monotonic();
    // After a restore: the keys are the backup's.
    let keys = Arc::new(KeyRing::new(query::api_keys(&store.read()?)?));
    let listener = Arc::new(NodeListener {
        signals: signals.clone(),
        store: store.clone(),
        view: view.clone(),
        keys: keys.clone(),
    });
    let raft = Arc::new(
        RaftNode::start(raft_opts, machine.clone(), listener)
            .await
            .context("starting raft")?,
    );
    match admit(&raft, setup, peer_port, started).await {
        Ok(admitted) => Ok(Cluster {
            raft,
            keys,
            peer_close: admitted.peer_close,
            peer_server: admitted.peer_server,
            startup_committed: admitted.startup_committed,
            started,
        }),
        Err(e) => {
            // A start the cluster refused (or that found no leader) stops Raft before it
            // returns: the log's files are then closed, and the next start opens them at once.
            if let Err(stop) = raft.shutdown().await {
                warn!(error = %stop, "stopping raft after a refused start");
            }
            Err(e)
        }
    }
}

/// What [`admit`] leaves running and learnt (see [`Cluster`]).
struct Admitted {
    peer_close: watch::Sender<bool>,
    peer_server: Option<tokio::task::JoinHandle<Result<(), String>>>,
    startup_committed: Option<u64>,
}

/// Phase 3's second half: admitted to the cluster (a new node joins), the peer port open, a
/// leader known.
async fn admit(
    raft: &Arc<RaftNode>,
    setup: &Setup,
    peer_port: Option<Reserved>,
    started: std::time::Instant,
) -> anyhow::Result<Admitted> {
    let join = |check_only| {
        join_if_new(
            raft,
            &setup.args,
            &setup.advertised,
            setup.secret.as_ref(),
            setup.node_tls.members.clone(),
            check_only,
        )
    };
    // A new node first asks whether it would be admitted, before its peer port opens: a node
    // that cannot take its id (a voter's, on a wiped data dir) never answers Raft traffic.
    // The answer carries the cluster's id, which every peer call then names.
    // The peer port then serves before joining: the leader replicates the log to this node
    // before it answers the join. It closes last, after Raft has stopped.
    join(true).await?;
    let (peer_close_tx, peer_close_rx) = watch::channel(false);
    let peer_server = open_peer_port(raft, peer_port, peer_close_rx)?;
    join(false).await?;
    // Readiness waits until the state has applied what was committed at start-up.
    let startup_committed = raft.status().committed;
    let leader = wait_for_leader(raft, setup.args.no_bootstrap).await?;
    let status = raft.status();
    info!(leader, last_applied = ?status.last_applied, elapsed_ms = started.elapsed().as_millis() as u64, "raft ready (log replayed)");

    Ok(Admitted {
        peer_close: peer_close_tx,
        peer_server,
        startup_committed,
    })
}

/// A background task the supervisor stops (with the stop signal) and waits for, by name.
type Task = (&'static str, tokio::task::JoinHandle<()>);

/// Phase 4 on: everything the supervisor owns while the node serves, and stops in order.
struct Running {
    args: ServerArgs,
    engine: Engine,
    raft: Arc<RaftNode>,
    store: Arc<StateStore>,
    health: tonic_health::server::HealthReporter,
    readiness: tokio::task::JoinHandle<()>,
    /// Ticker, checkpoints, TLS reload, key and admin tasks: stopped by `stop`.
    tasks: Vec<Task>,
    stop: watch::Sender<bool>,
    close: watch::Sender<bool>,
    server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    peer_close: watch::Sender<bool>,
    peer_server: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

/// Phase 4: the engine, its background tasks, and the client port.
async fn start_services(
    setup: Setup,
    storage: Storage,
    cluster: Cluster,
) -> anyhow::Result<Running> {
    let Setup {
        args,
        client_port,
        peer_port: _,
        secret,
        advertised,
        node_tls,
        bootstrap_key,
    } = setup;
    let Storage {
        store,
        signals,
        metrics,
        view,
        ..
    } = storage;
    let Cluster {
        raft,
        keys,
        peer_close,
        peer_server,
        startup_committed,
        started,
    } = cluster;
    let api_opts = ApiOptions {
        payload_bytes_max: args.payload_max_bytes,
        drain_grace: Duration::from_millis(args.drain_grace_ms),
        message_bytes_max: args.max_message_bytes,
        member_tls: node_tls.members.clone(),
        require_lease_tokens: args.require_lease_tokens,
        idempotency_window_ms: u64::try_from(args.idempotency_window.as_millis())
            .unwrap_or(u64::MAX)
            .min(corvo_core::validate::DURATION_MS_MAX),
        ..ApiOptions::default()
    };
    let node = NodeInfo {
        name: args.node_id.clone(),
        client_addr: advertised.api.clone(),
        data_dir: args.data_dir.clone(),
        started,
    };
    let engine = Engine::new(
        raft.clone(),
        store.clone(),
        signals,
        api_opts,
        node,
        metrics.clone(),
        view.clone(),
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let ticker = tokio::spawn(corvo_api::ticker::run(engine.clone(), stop_rx.clone()));
    let checkpoints = tokio::spawn(idle_checkpoints(
        store.clone(),
        metrics.clone(),
        stop_rx.clone(),
    ));
    let admin_tasks = [
        tokio::spawn(corvo_api::bulk::run_operations(
            engine.clone(),
            stop_rx.clone(),
        )),
        tokio::spawn(crate::settings::sync_retention(
            engine.clone(),
            args.retention,
            args.dead_retention,
            stop_rx.clone(),
        )),
    ];
    let key_tasks = [
        tokio::spawn(access::record_usage(
            engine.clone(),
            keys.clone(),
            stop_rx.clone(),
        )),
        tokio::spawn(access::warn_while_open(
            keys.clone(),
            args.bind,
            args.require_auth,
            stop_rx.clone(),
        )),
        tokio::spawn(match bootstrap_key {
            Some(key) => futures::future::Either::Left(access::bootstrap(
                engine.clone(),
                keys.clone(),
                key,
                stop_rx.clone(),
            )),
            None => futures::future::Either::Right(std::future::ready(())),
        }),
    ];
    if args.require_auth && !keys.has_keys() && bootstrap_key_missing(&args) {
        warn!(
            "--require-auth with no API key and no bootstrap key: every call except probes is refused until an admin key exists (set CORVO_BOOTSTRAP_ADMIN_KEY or --bootstrap-admin-key-file)"
        );
    }

    let (health, health_service) = tonic_health::server::health_reporter();
    // NOT_SERVING until the readiness task's first verdict (tonic-health starts "" SERVING).
    probes::set_not_serving(&health).await;
    let readiness = tokio::spawn(probes::run_readiness(
        engine.clone(),
        health.clone(),
        startup_committed,
        stop_rx,
    ));
    let tls_reload = tokio::spawn(corvo_net::keep_fresh(
        node_tls.servers(),
        TLS_RELOAD_EVERY,
        {
            let mut stop = stop_tx.subscribe();
            async move {
                let _ = stop.wait_for(|s| *s).await;
            }
        },
    ));
    let auth = AuthLayer::new(
        keys.clone(),
        secret.clone(),
        AuthOptions {
            require_auth: args.require_auth,
            metrics_auth: args.metrics_auth,
            require_client_cert: args.tls_client_ca.is_some(),
        },
        Arc::new(corvo_raft::SystemClock),
        {
            let raft = raft.clone();
            Arc::new(move || {
                let s = raft.status();
                s.leader_id == Some(s.node_id)
            })
        },
    );
    let routes = client_port::routes(
        engine.clone(),
        health_service,
        secret,
        args.max_message_bytes,
    )?;
    let methods = KnownMethods::new(
        &[
            corvo_sdk::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ],
        &probes::HTTP_PATHS,
    )
    .context("reading the served methods from the descriptor sets")?;

    let listener = client_port
        .listen()
        .with_context(|| format!("listening on {}", args.bind))?;
    let local: SocketAddr = listener.local_addr()?;
    info!(addr = %local, node = %args.node_id, data_dir = %args.data_dir.display(), version = corvo_api::services::SERVER_VERSION, runtime_threads = tokio::runtime::Handle::current().metrics().num_workers(), "corvo listening (gRPC + HTTP)");

    let (close_tx, mut close_rx) = watch::channel(false);
    let stack = corvo_api::stack::public(PublicLayers {
        metrics,
        methods,
        auth,
        rate_limits: RateLimits::new(RateOptions {
            key_rps_default: args.rate_limit_rps,
            anonymous_rps: args.anonymous_rate_limit_rps,
            ..RateOptions::default()
        }),
        pools: Pools::new(PoolOptions {
            worker_streams_max: args.max_worker_streams,
            subscribe_streams_max: args.max_subscribe_streams,
            calls_max: args.max_inflight_calls,
            fetches_max: args.max_inflight_fetches,
            ..PoolOptions::default()
        }),
        call_timeout: Duration::from_millis(args.call_timeout_ms),
        fetch_wait_max: Duration::from_millis(engine.opts().fetch_wait_ms_max),
        forward: ForwardLayer::new(
            Arc::new(engine.clone()),
            &args.node_id,
            node_tls.members.clone(),
        ),
    });
    let server = client_port::serve(
        listener,
        stack,
        routes,
        client_port::PortOptions {
            http2_max_streams: args.http2_max_streams,
            keepalive: Duration::from_millis(args.keepalive_ms),
            tls: node_tls.client_port.clone(),
        },
        async move {
            let _ = close_rx.wait_for(|c| *c).await;
        },
    );

    let mut tasks: Vec<Task> = vec![
        ("ticker", ticker),
        ("checkpoints", checkpoints),
        ("tls reload", tls_reload),
    ];
    tasks.extend(key_tasks.into_iter().map(|t| ("keys", t)));
    tasks.extend(admin_tasks.into_iter().map(|t| ("admin", t)));
    Ok(Running {
        args,
        engine,
        raft,
        store,
        health,
        readiness,
        tasks,
        stop: stop_tx,
        close: close_tx,
        server,
        peer_close,
        peer_server,
    })
}

impl Running {
    /// Phase 5: serves until SIGTERM/SIGINT, or until Raft stops on a fatal error (a failed
    /// log write or fsync): then `/healthz` answers 503 for the grace and the process exits
    /// non-zero, so that it is restarted. Returns the fatal error, if that is what stopped it.
    async fn wait_for_stop(&self) -> Option<String> {
        let fatal = tokio::select! {
            () = shutdown_signal() => None,
            reason = raft_stopped(&self.raft) => Some(reason),
        };
        if let Some(reason) = &fatal {
            let grace = Duration::from_millis(self.args.fatal_exit_grace_ms);
            error!(error = %reason, ?grace, "raft stopped on an error: /healthz answers 503; exiting after the grace so that the node is restarted");
            tokio::time::sleep(grace).await;
        }
        fatal
    }

    /// Phase 6: the shutdown order (see the module doc).
    async fn shut_down(self, fatal: Option<String>) -> anyhow::Result<()> {
        let Running {
            engine,
            raft,
            store,
            health,
            readiness,
            tasks,
            stop,
            close,
            server,
            peer_close,
            peer_server,
            ..
        } = self;
        info!("shutdown: draining");
        // Stop handing out work first: whoever sees NOT_SERVING then also sees no new work.
        probes::begin_drain(&engine, &health).await;
        // The listener stays open while worker streams finish their in-flight acks: probes keep
        // answering (liveness 200, readiness NOT_SERVING) and late clients get UNAVAILABLE with a
        // retry hint instead of a refused connection. Streams end themselves at the grace.
        let drain_grace = engine.opts().drain_grace;
        let mut streams = engine.roster().watch_streams();
        let gone = tokio::time::timeout(
            drain_grace + STREAMS_GONE_GRACE,
            streams.wait_for(|n| *n == 0),
        )
        .await;
        if gone.is_err() {
            warn!(
                streams = engine.roster().streams(),
                "shutdown: worker streams still open after the drain grace"
            );
        }
        // A leader hands over before it stops, so the cluster has a new leader when this node
        // goes instead of one election timeout later; remaining clients get its address.
        match raft.hand_off_leadership(LEADERSHIP_HAND_OFF_MAX).await {
            Ok(Some(leader)) => info!(leader, "shutdown: handed leadership over"),
            Ok(None) => {}
            Err(e) => {
                warn!(error = %e, "shutdown: leadership hand-off failed; the cluster will elect a new leader")
            }
        }
        let _ = stop.send(true);
        let _ = readiness.await;
        // Health watchers saw NOT_SERVING for the drain; ending their streams now means an open
        // Watch never holds the listener open.
        let mut health = health;
        probes::clear(&mut health).await;
        info!("shutdown: closing the listener");
        let _ = close.send(true);
        match tokio::time::timeout(CLOSE_GRACE, server).await {
            Ok(Ok(Ok(()))) => info!("shutdown: listener closed"),
            Ok(Ok(Err(e))) => error!(error = %e, "shutdown: listener failed"),
            Ok(Err(e)) => error!(error = %e, "shutdown: listener task failed"),
            Err(_) => warn!(
                grace = ?CLOSE_GRACE,
                "shutdown: connections still open after the grace period; closing anyway"
            ),
        }
        for (name, task) in tasks {
            if let Err(e) = task.await {
                warn!(task = name, error = %e, "shutdown: a background task failed");
            }
        }
        raft.shutdown().await.context("stopping raft")?;
        let _ = peer_close.send(true);
        if let Some(peer_server) = peer_server {
            match tokio::time::timeout(CLOSE_GRACE, peer_server).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => error!(error = %e, "shutdown: peer server failed"),
                Ok(Err(e)) => error!(error = %e, "shutdown: peer server task failed"),
                Err(_) => warn!("shutdown: peer connections still open after the grace period"),
            }
        }
        // `run_node` closes the store once this returns.
        store.flush().context("flushing state")?;
        if let Some(reason) = fatal {
            anyhow::bail!("raft stopped on an error: {reason}");
        }
        info!("shutdown: done");
        Ok(())
    }
}

/// How often the supervisor looks whether Raft has stopped on an error.
const FATAL_POLL: Duration = Duration::from_millis(500);

/// Resolves with the error once Raft has stopped on one.
async fn raft_stopped(raft: &RaftNode) -> String {
    loop {
        if let Some(fatal) = raft.status().fatal {
            return fatal;
        }
        tokio::time::sleep(FATAL_POLL).await;
    }
}

/// Makes the state durable once applies pause (`StateStore::checkpoint_if_idle`), until `stop`
/// turns true: a burst's state writes reach the disk while nothing waits for them.
async fn idle_checkpoints(
    store: Arc<StateStore>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(corvo_store::CHECKPOINT_IDLE) => {}
            _ = stop.changed() => return,
        }
        let store = store.clone();
        match tokio::task::spawn_blocking(move || store.checkpoint_if_idle()).await {
            Ok(Ok(Some(took))) => metrics.observe_checkpoint(CheckpointTrigger::Idle, took),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => error!(error = %e, "idle state checkpoint failed"),
            Err(e) => error!(error = %e, "idle state checkpoint task failed"),
        }
    }
}

/// Serves the Raft peer service on `--raft-bind` when the node has a cluster secret (without
/// one it has no peers: the port stays closed), until `close` turns true.
fn open_peer_port(
    raft: &RaftNode,
    port: Option<Reserved>,
    mut close: watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<Result<(), String>>>> {
    let Some(port) = port else {
        info!(
            "no cluster secret: the peer port is not opened; this node runs alone and accepts no joins"
        );
        return Ok(None);
    };
    let addr = port.local_addr();
    let listener = port
        .listen()
        .with_context(|| format!("listening on the peer port {addr}"))?;
    info!(%addr, "raft peer port listening");
    let server = raft.serve_peers(listener, async move {
        let _ = close.wait_for(|c| *c).await;
    })?;
    Ok(Some(server))
}

/// With `--join`, asks the named member to add this node, unless the log already holds a
/// membership (a restarted member rejoins by starting, and must not join again).
async fn join_if_new(
    raft: &RaftNode,
    args: &ServerArgs,
    advertised: &Advertised,
    secret: Option<&ClusterSecret>,
    tls: Option<tonic::transport::ClientTlsConfig>,
    check_only: bool,
) -> anyhow::Result<()> {
    let (Some(target), Some(secret)) = (&args.join, secret) else {
        return Ok(());
    };
    if raft.was_member_at_start() {
        if !check_only {
            info!(
                target = %target,
                "the raft log already holds a membership: rejoining by starting, --join not needed"
            );
        }
        return Ok(());
    }
    if check_only {
        info!(target = %target, "asking the cluster whether it admits this node");
    } else {
        info!(target = %target, "joining the cluster");
    }
    let joined = join::join_cluster(
        target,
        secret,
        join_request(args, advertised, check_only),
        tls,
    )
    .await?;
    // A leader of an older release sends no cluster id.
    if !joined.cluster_id.is_empty() {
        raft.adopt_cluster_id(&joined.cluster_id)
            .context("recording the cluster id the join answered")?;
    }
    if check_only {
        return Ok(());
    }
    info!(
        leader = joined.leader_raft_id,
        voters = joined.voters,
        already_member = joined.already_member,
        "joined the cluster"
    );
    Ok(())
}

/// This node's request to join (or, `check_only`, to be told whether it would be admitted).
fn join_request(
    args: &ServerArgs,
    advertised: &Advertised,
    check_only: bool,
) -> corvo_sdk::proto::JoinRequest {
    corvo_sdk::proto::JoinRequest {
        raft_id: raft_node_id(&args.node_id),
        raft_address: advertised.raft.clone(),
        client_address: advertised.api.clone(),
        node_id: args.node_id.clone(),
        // Only a node whose log is empty asks to join (a member restarts without asking).
        new_data_dir: true,
        check_only,
    }
}

/// Waits for a leader: at most LEADER_WAIT, except on a node waiting to be added
/// (`--no-bootstrap`, empty log), which waits for its join as long as it takes.
async fn wait_for_leader(raft: &RaftNode, waiting_to_be_added: bool) -> anyhow::Result<u64> {
    loop {
        match raft.wait_for_leader(LEADER_WAIT).await {
            Ok(leader) => return Ok(leader),
            Err(corvo_raft::RaftError::Timeout { .. })
                if waiting_to_be_added && raft.members().is_empty() =>
            {
                info!(
                    "--no-bootstrap: still waiting to be added (POST /api/v1/cluster/join on a member)"
                );
            }
            Err(e) => return Err(e).context("waiting for a leader"),
        }
    }
}

/// A job must fit in a WorkerService message: its payload and its checkpoint, plus framing.
fn check_message_bound(args: &ServerArgs) -> anyhow::Result<()> {
    let needed = args
        .payload_max_bytes
        .saturating_mul(2)
        .saturating_add(1 << 20);
    if args.max_message_bytes < needed {
        anyhow::bail!(
            "--max-message-bytes {} is below twice --payload-max-bytes plus 1 MiB ({needed}): a job with a full payload and checkpoint would not fit in a response",
            args.max_message_bytes
        );
    }
    Ok(())
}

fn bootstrap_key_missing(args: &ServerArgs) -> bool {
    args.bootstrap_admin_key.is_none() && args.bootstrap_admin_key_file.is_none()
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C will stop the server");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => info!("SIGINT received"),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::{Cli, Command};

    fn server_args(extra: &[&str]) -> ServerArgs {
        let argv = ["corvo", "server"].iter().chain(extra);
        match Cli::try_parse_from(argv).expect("valid flags").command {
            Command::Server(args) => *args,
            _ => unreachable!("a server command"),
        }
    }

    #[test]
    fn advertised_defaults_to_the_bind_addresses() {
        let args = server_args(&["--bind", "10.0.0.1:8080", "--raft-bind", "10.0.0.1:9000"]);
        let a = advertised(&args, true).unwrap();
        assert_eq!(
            (a.api.as_str(), a.raft.as_str()),
            ("10.0.0.1:8080", "10.0.0.1:9000")
        );
    }

    #[test]
    fn unspecified_addresses_are_refused_only_when_clustering() {
        let args = server_args(&["--bind", "0.0.0.0:8080", "--raft-bind", "[::]:9000"]);
        assert!(advertised(&args, false).is_ok());
        let err = format!("{:#}", advertised(&args, true).unwrap_err());
        assert!(err.contains("set --advertise-addr"), "{err}");
        let args = server_args(&[
            "--bind",
            "0.0.0.0:8080",
            "--raft-bind",
            "[::]:9000",
            "--advertise-addr",
            "corvo-0.corvo-headless.ns.svc:8080",
        ]);
        let err = format!("{:#}", advertised(&args, true).unwrap_err());
        assert!(err.contains("set --raft-advertise-addr"), "{err}");
    }

    #[test]
    fn advertise_addresses_are_host_port() {
        for ok in [
            "corvo-0.corvo-headless.ns.svc:8080",
            "10.1.2.3:1",
            "[fd00::1]:9000",
        ] {
            assert!(check_host_port(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://a:1",
            "a",
            ":80",
            "a:0",
            "a:x",
            "fd00::1:9000",
            "a b:1",
        ] {
            assert!(check_host_port(bad).is_err(), "{bad}");
        }
    }
}
