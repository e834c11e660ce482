//! Test harness: start the real `corvo` binary on loopback with a temporary data directory and
//! drive it through the generated gRPC client.
//!
//! ```text
//!  TestServer::start()            one `corvo server` per test (free loopback ports, temp dir,
//!    │                            log file in the temp dir, printed when a test panics)
//!    ├─ worker() / jobs()         gRPC clients on a fresh connection
//!    ├─ kill() / terminate()      SIGKILL / SIGTERM, then wait_exit() with a deadline
//!    └─ restart()                 the same data dir and port again (a new port only if
//!                                 another process took it while the server was down)
//!  Lifecycle                      one StreamLifecycle session: call() a frame and get the
//!                                 response echoing its request id; pushes and cancel notices
//!                                 (request_id 0) are kept for next_unsolicited()
//!  WriteProbe                     proves that a call wrote nothing: the next event after a
//!                                 known id must be the probe's own
//! ```
//!
//! Every wait is bounded (see [`WAIT`]) and polls instead of sleeping for a fixed time, so the
//! tests hold on a slow, loaded machine. [`observe`] scrapes and parses `/metrics`, runs the
//! `corvo` CLI and finds the third-party probe binaries. [`cluster`] starts and inspects
//! three-node clusters; [`proxy`] is a TCP proxy a partition test can cut.

use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub mod certs;
pub mod cluster;
pub mod observe;
pub mod proxy;

pub use corvo_sdk::proto as pb;
use pb::job_service_client::JobServiceClient;
use pb::queue_service_client::QueueServiceClient;
use pb::worker_service_client::WorkerServiceClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status, Streaming};

pub type WorkerClient = WorkerServiceClient<Channel>;
pub type JobClient = JobServiceClient<Channel>;
pub type QueueClient = QueueServiceClient<Channel>;

/// The bound of every wait in the tests: generous, because the machine may be slow and loaded.
pub const WAIT: Duration = Duration::from_secs(30);
/// How often a condition is polled while waiting for it.
pub const POLL: Duration = Duration::from_millis(50);
/// The drain grace every test server runs with, unless a test asks otherwise.
pub const DRAIN_GRACE_MS: u64 = 3_000;

/// Environment variables the server reads; removed from the child so the caller's environment
/// cannot change a test.
const CORVO_ENV: &[&str] = &[
    "CORVO_DATA_DIR",
    "CORVO_BIND",
    "CORVO_RAFT_BIND",
    "CORVO_ADVERTISE_ADDR",
    "CORVO_RAFT_ADVERTISE_ADDR",
    "CORVO_NODE_ID",
    "CORVO_DURABILITY",
    "CORVO_PAYLOAD_MAX_BYTES",
    "CORVO_DRAIN_GRACE_MS",
    "CORVO_ELECTION_TIMEOUT_MS",
    "CORVO_LOG_FORMAT",
    "CORVO_LOG_LEVEL",
    "CORVO_HEARTBEAT_MS",
    "CORVO_JOIN",
    "CORVO_NO_BOOTSTRAP",
    "CORVO_CLUSTER_SECRET",
    "CORVO_CLUSTER_SECRET_FILE",
    "CORVO_OTLP_ENDPOINT",
    "CORVO_SNAPSHOT_ENTRIES",
    "CORVO_SNAPSHOT_INTERVAL_SECS",
    "CORVO_SNAPSHOT_LOGS_KEPT",
    "CORVO_SNAPSHOT_LOG_BYTES",
    "CORVO_RESTORE",
    "CORVO_REQUIRE_AUTH",
    "CORVO_BOOTSTRAP_ADMIN_KEY",
    "CORVO_BOOTSTRAP_ADMIN_KEY_FILE",
    "CORVO_METRICS_AUTH",
    "CORVO_API_KEY",
    "CORVO_RETENTION",
    "CORVO_DEAD_RETENTION",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// The `corvo` binary under test: `$CORVO_BIN`, else `debug/corvo` in `$CARGO_TARGET_DIR`,
/// else next to this test executable, else `<workspace>/target/debug/corvo`.
pub fn corvo_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("CORVO_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "CORVO_BIN={} does not exist: build it first: cargo build -p corvo",
            p.display()
        );
        return p;
    }
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        let dir = if dir.is_absolute() {
            dir
        } else {
            workspace_root().join(dir)
        };
        candidates.push(dir.join("debug").join("corvo"));
    }
    // <target>/debug/deps/<test>-<hash> → <target>/debug/corvo
    if let Ok(exe) = std::env::current_exe()
        && let Some(debug) = exe.parent().and_then(Path::parent)
    {
        candidates.push(debug.join("corvo"));
    }
    candidates.push(workspace_root().join("target").join("debug").join("corvo"));
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => p.clone(),
        None => panic!(
            "the corvo binary was not found (looked at {candidates:?}): build it first: cargo build -p corvo"
        ),
    }
}

/// A free loopback port (bound, read, released: another process may still take it, so a
/// start that fails to bind is retried on new ports). Never one this process handed out
/// before: the kernel offers a released port again, and the tests of one binary run side by
/// side, so two of them could otherwise be given the same port for their servers.
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<BTreeSet<u16>> = std::sync::Mutex::new(BTreeSet::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("binding 127.0.0.1:0")
            .port();
        if handed_out.insert(port) {
            return port;
        }
    }
}

/// Unix milliseconds by the local clock (the server runs on the same machine).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

pub fn timestamp_ms(ts: &prost_types::Timestamp) -> i64 {
    ts.seconds * 1_000 + i64::from(ts.nanos) / 1_000_000
}

pub fn timestamp_from_ms(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1_000),
        nanos: (ms.rem_euclid(1_000) * 1_000_000) as i32,
    }
}

/// Job ids are ULIDs: 26 characters of Crockford base32.
pub fn is_ulid(id: &str) -> bool {
    id.len() == 26 && ulid::Ulid::from_string(id).is_ok()
}

/// Runs `fut`, panicking with `what` if it takes longer than [`WAIT`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out after {WAIT:?}: {what}"),
    }
}

/// Polls `check` until it returns `Some`, at most [`WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// A plain HTTP/1.1 GET over a raw TCP connection: (status code, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    http_exchange(addr, req, Duration::from_secs(5)).await
}

/// Sends one raw HTTP/1.1 request (`Connection: close`) and reads the whole answer, within
/// `timeout`: (status code, body).
pub(crate) async fn http_exchange(
    addr: SocketAddr,
    request: String,
    timeout: Duration,
) -> std::io::Result<(u16, String)> {
    let exchange = async {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        s.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let code = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {text:?}")))?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok((code, body))
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no HTTP answer from {addr} within {timeout:?}"),
        )
    })?
}

/// Whether process `pid` holds a TCP socket of /proc/net/tcp whose row `matches` (fields:
/// [1] local address as `AABBCCDD:PORT` in hex, [3] state, `0A` = LISTEN; from /proc/net/tcp
/// and /proc/<pid>/fd).
#[cfg(target_os = "linux")]
pub(crate) fn pid_holds_socket(pid: u32, matches: impl Fn(&[&str]) -> bool) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    let sockets: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            // f[9] inode
            (f.len() > 9 && matches(&f)).then(|| format!("socket:[{}]", f[9]))
        })
        .collect();
    if sockets.is_empty() {
        return false;
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .is_ok_and(|target| sockets.iter().any(|s| target.as_os_str() == s.as_str()))
    })
}

/// Whether process `pid` holds the socket listening on 127.0.0.1:`port` or 0.0.0.0:`port`.
#[cfg(target_os = "linux")]
fn owns_listener(pid: u32, port: u16) -> bool {
    let local = [
        format!("0100007F:{port:04X}"),
        format!("00000000:{port:04X}"),
    ];
    pid_holds_socket(pid, |f| local.iter().any(|l| f[1] == l) && f[3] == "0A")
}

/// Elsewhere the check is skipped (a port taken by another server is then not detected).
#[cfg(not(target_os = "linux"))]
fn owns_listener(_pid: u32, _port: u16) -> bool {
    true
}

/// How a test server is started; [`TestServer::builder`].
#[derive(Clone, Debug)]
pub struct ServerBuilder {
    drain_grace_ms: u64,
    payload_max_bytes: Option<usize>,
    durability: Option<String>,
    election_timeout_ms: Option<u64>,
    node_id: String,
    join: Option<String>,
    no_bootstrap: bool,
    cluster_secret: Option<String>,
    bind_any: bool,
    advertise_loopback: bool,
    /// `--advertise-addr` and `--raft-advertise-addr`, when given explicitly.
    advertise: Option<(SocketAddr, SocketAddr)>,
    /// Extra environment for the process (after the `CORVO_ENV` clean-up).
    env: Vec<(String, String)>,
    /// Extra `corvo server` arguments.
    extra_args: Vec<String>,
    /// The key the harness itself calls with (readiness checks) on a server that requires one.
    api_key: Option<String>,
    /// How the harness reaches a server whose client port serves TLS.
    tls: Option<ClientTlsFiles>,
    /// Where the data dir goes (`<this>/data`) instead of the server's temp dir: a
    /// filesystem the test made (a small tmpfs, to fill it).
    data_parent: Option<PathBuf>,
}

/// What a client needs to reach a TLS client port: the CA (PEM), and a client certificate and
/// key (PEM) when the server asks for one.
#[derive(Clone, Debug)]
pub struct ClientTlsFiles {
    pub ca_pem: String,
    pub identity: Option<(String, String)>,
}

impl ClientTlsFiles {
    pub fn config(&self) -> tonic::transport::ClientTlsConfig {
        let mut tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(&self.ca_pem));
        if let Some((cert, key)) = &self.identity {
            tls = tls.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        tls
    }
}

impl ServerBuilder {
    /// Puts the data dir under `parent` (`<parent>/data`), e.g. on a filesystem the test made.
    pub fn data_parent(mut self, parent: &Path) -> Self {
        self.data_parent = Some(parent.to_owned());
        self
    }

    /// `--node-id` (default `n1`).
    pub fn node_id(mut self, name: &str) -> Self {
        self.node_id = name.to_owned();
        self
    }

    /// `--join <url>`: join the cluster of that node.
    pub fn join(mut self, url: &str) -> Self {
        self.join = Some(url.to_owned());
        self
    }

    /// `--no-bootstrap`: wait to be added instead of starting a one-node cluster.
    pub fn no_bootstrap(mut self) -> Self {
        self.no_bootstrap = true;
        self
    }

    /// `--cluster-secret`.
    pub fn cluster_secret(mut self, secret: &str) -> Self {
        self.cluster_secret = Some(secret.to_owned());
        self
    }

    /// `--bind 0.0.0.0:<port>` and `--raft-bind 0.0.0.0:<port>` (clients still connect to
    /// 127.0.0.1).
    pub fn bind_any(mut self) -> Self {
        self.bind_any = true;
        self
    }

    /// `--advertise-addr 127.0.0.1:<port>` and `--raft-advertise-addr 127.0.0.1:<raft port>`.
    pub fn advertise_loopback(mut self) -> Self {
        self.advertise_loopback = true;
        self
    }

    /// `--advertise-addr <api>` and `--raft-advertise-addr <raft>` (e.g. proxies in front of
    /// the node's ports).
    pub fn advertise(mut self, api: SocketAddr, raft: SocketAddr) -> Self {
        self.advertise = Some((api, raft));
        self
    }

    /// Adds `corvo server` arguments (e.g. `--require-auth`).
    pub fn args(mut self, args: &[&str]) -> Self {
        self.extra_args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// The client port serves TLS (the server's own flags go in [`ServerBuilder::args`]); the
    /// harness connects with `client`.
    pub fn tls(mut self, client: ClientTlsFiles) -> Self {
        self.tls = Some(client);
        self
    }

    /// The API key the harness uses for its own readiness checks (a server started with
    /// `--require-auth` refuses them otherwise); usually the bootstrap admin key.
    pub fn api_key(mut self, key: &str) -> Self {
        self.api_key = Some(key.to_owned());
        self
    }

    /// Sets an environment variable for the server process (e.g. `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn drain_grace_ms(mut self, ms: u64) -> Self {
        self.drain_grace_ms = ms;
        self
    }

    pub fn payload_max_bytes(mut self, bytes: usize) -> Self {
        self.payload_max_bytes = Some(bytes);
        self
    }

    /// `fsync` (the server's default) or `relaxed`.
    pub fn durability(mut self, mode: &str) -> Self {
        self.durability = Some(mode.to_owned());
        self
    }

    pub fn election_timeout_ms(mut self, ms: u64) -> Self {
        self.election_timeout_ms = Some(ms);
        self
    }

    /// Starts the server and waits until `/healthz` answers 200 and GetServerInfo succeeds.
    pub async fn start(self) -> TestServer {
        let mut server = self.unstarted();
        if let Err(e) = server.launch_on_free_ports(false).await {
            server.fail(&format!("the server did not start: {e}"));
        }
        server
    }

    /// Spawns the server on fresh ports without waiting for it to be ready (a node that waits
    /// to be added does not listen before it is); then [`TestServer::wait_ready`].
    pub fn spawn(self) -> TestServer {
        self.spawn_on(free_port(), free_port())
    }

    /// [`ServerBuilder::spawn`] on the given client and peer ports (e.g. one already taken).
    pub fn spawn_on(self, port: u16, raft_port: u16) -> TestServer {
        let mut server = self.unstarted();
        server.port = port;
        server.raft_port = raft_port;
        if let Err(e) = server.spawn() {
            server.fail(&format!("spawning corvo: {e}"));
        }
        server
    }

    fn unstarted(self) -> TestServer {
        let dir = tempfile::Builder::new()
            .prefix("corvo-test-")
            .tempdir()
            .expect("creating a temp dir");
        let log_path = dir.path().join("corvo.log");
        let data_dir = self
            .data_parent
            .clone()
            .unwrap_or_else(|| dir.path().to_owned())
            .join("data");
        TestServer {
            opts: self,
            data_dir,
            log_path,
            dir: Some(dir),
            port: 0,
            raft_port: 0,
            child: None,
            starts: 0,
            log_offset: 0,
        }
    }
}

/// One `corvo server` process on loopback. Killed on drop.
pub struct TestServer {
    opts: ServerBuilder,
    dir: Option<tempfile::TempDir>,
    data_dir: PathBuf,
    log_path: PathBuf,
    port: u16,
    raft_port: u16,
    child: Option<Child>,
    starts: u32,
    /// Where the current start's output begins in the log file.
    log_offset: u64,
}

impl TestServer {
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            drain_grace_ms: DRAIN_GRACE_MS,
            payload_max_bytes: None,
            durability: None,
            election_timeout_ms: None,
            node_id: "n1".to_owned(),
            join: None,
            no_bootstrap: false,
            cluster_secret: None,
            bind_any: false,
            advertise_loopback: false,
            advertise: None,
            env: Vec::new(),
            extra_args: Vec::new(),
            api_key: None,
            tls: None,
            data_parent: None,
        }
    }

    /// A server with the default options.
    pub async fn start() -> TestServer {
        Self::builder().start().await
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `http://` or, when the client port serves TLS, `https://` (for `localhost`, which the
    /// test certificates name).
    pub fn url(&self) -> String {
        match self.opts.tls {
            None => format!("http://{}", self.addr()),
            Some(_) => format!("https://localhost:{}", self.port),
        }
    }

    /// The peer address (`--raft-bind`).
    pub fn raft_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.raft_port))
    }

    /// Waits (at most [`WAIT`]) until a server started with [`ServerBuilder::spawn`] is ready.
    pub async fn wait_ready(&mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.try_exit_status() {
                self.fail(&format!("corvo exited during start-up with {status}"));
            }
            if self.is_ready().await {
                return;
            }
            if Instant::now() >= deadline {
                self.fail(&format!("not ready after {WAIT:?}"));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is not running").id()
    }

    fn args(&self) -> Vec<String> {
        let host = if self.opts.bind_any {
            "0.0.0.0"
        } else {
            "127.0.0.1"
        };
        let mut args: Vec<String> = vec![
            "server".into(),
            "--bind".into(),
            format!("{host}:{}", self.port),
            "--raft-bind".into(),
            format!("{host}:{}", self.raft_port),
            "--data-dir".into(),
            self.data_dir.display().to_string(),
            "--node-id".into(),
            self.opts.node_id.clone(),
            "--drain-grace-ms".into(),
            self.opts.drain_grace_ms.to_string(),
        ];
        if let Some(b) = self.opts.payload_max_bytes {
            args.extend(["--payload-max-bytes".into(), b.to_string()]);
        }
        if let Some(d) = &self.opts.durability {
            args.extend(["--durability".into(), d.clone()]);
        }
        if let Some(ms) = self.opts.election_timeout_ms {
            args.extend(["--election-timeout-ms".into(), ms.to_string()]);
        }
        if let Some(url) = &self.opts.join {
            args.extend(["--join".into(), url.clone()]);
        }
        if self.opts.no_bootstrap {
            args.push("--no-bootstrap".into());
        }
        if let Some(secret) = &self.opts.cluster_secret {
            args.extend(["--cluster-secret".into(), secret.clone()]);
        }
        if self.opts.advertise_loopback {
            args.extend([
                "--advertise-addr".into(),
                format!("127.0.0.1:{}", self.port),
                "--raft-advertise-addr".into(),
                format!("127.0.0.1:{}", self.raft_port),
            ]);
        }
        if let Some((api, raft)) = self.opts.advertise {
            args.extend([
                "--advertise-addr".into(),
                api.to_string(),
                "--raft-advertise-addr".into(),
                raft.to_string(),
            ]);
        }
        args.extend(self.opts.extra_args.iter().cloned());
        args
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        self.starts += 1;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)?;
        self.log_offset = log.metadata()?.len();
        let args = self.args();
        writeln!(
            log,
            "==== corvo start #{}: {} ====",
            self.starts,
            args.join(" ")
        )?;
        let mut cmd = Command::new(corvo_bin());
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .env("NO_COLOR", "1");
        for var in CORVO_ENV {
            cmd.env_remove(var);
        }
        for (key, value) in &self.opts.env {
            cmd.env(key, value);
        }
        self.child = Some(cmd.spawn()?);
        Ok(())
    }

    /// Spawns the process and waits until it is ready.
    async fn launch(&mut self) -> Result<(), String> {
        self.spawn().map_err(|e| format!("spawning corvo: {e}"))?;
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.try_exit_status() {
                return Err(format!("corvo exited during start-up with {status}"));
            }
            if self.is_ready().await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("not ready after {WAIT:?}"));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Launches on the current ports (when `keep_ports`) or on fresh ones, and again while the
    /// server fails because its port was taken (a restart on its own ports twice more, then on
    /// fresh ones): a port picked by free_port() is free only until someone binds it.
    async fn launch_on_free_ports(&mut self, keep_ports: bool) -> Result<(), String> {
        const ATTEMPTS: u32 = 6;
        const SAME_PORT_ATTEMPTS: u32 = 3;
        const SAME_PORT_WAIT: Duration = Duration::from_millis(500);
        // A first start that fails is retried on a data dir as new as the first attempt's (the
        // server takes its ports before writing, but a port lost between bind and listen
        // fails later, possibly after joining a cluster on the old peer port).
        let fresh = !self.data_dir.exists();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 && fresh && self.data_dir.exists() {
                std::fs::remove_dir_all(&self.data_dir)
                    .map_err(|e| format!("clearing {} to retry: {e}", self.data_dir.display()))?;
            }
            // A restart tries its own ports again first (a cluster member's peer address is in
            // the membership): whatever holds them may be gone a moment later.
            let same_ports = keep_ports && attempt <= SAME_PORT_ATTEMPTS;
            if same_ports && attempt > 1 {
                tokio::time::sleep(SAME_PORT_WAIT).await;
            }
            if !same_ports {
                let old = self.port;
                self.port = free_port();
                self.raft_port = free_port();
                if keep_ports {
                    eprintln!(
                        "port {old} was taken while the server was down; restarting on {}",
                        self.port
                    );
                }
            }
            match self.launch().await {
                Ok(()) => return Ok(()),
                Err(e)
                    if attempt < ATTEMPTS
                        && self.log_of_this_start().contains("Address already in use") =>
                {
                    eprintln!("corvo could not bind port {} ({e}); retrying", self.port);
                }
                Err(e) => return Err(e),
            }
        }
        unreachable!("the last attempt returns")
    }

    /// The log written since the current start.
    fn log_of_this_start(&self) -> String {
        let text = std::fs::read(&self.log_path).unwrap_or_default();
        let from = usize::try_from(self.log_offset)
            .unwrap_or(0)
            .min(text.len());
        String::from_utf8_lossy(&text[from..]).into_owned()
    }

    async fn is_ready(&self) -> bool {
        // (Over TLS, plain HTTP cannot probe: the gRPC check below is the probe.)
        if self.opts.tls.is_none()
            && !matches!(http_get(self.addr(), "/healthz").await, Ok((200, _)))
        {
            return false;
        }
        // Whoever answered must be this process, not another test's server on the same port.
        let Some(pid) = self.child.as_ref().map(Child::id) else {
            return false;
        };
        if !owns_listener(pid, self.port) {
            return false;
        }
        let Ok(channel) = self.try_channel().await else {
            return false;
        };
        let mut w = WorkerServiceClient::new(channel);
        let mut req = tonic::Request::new(pb::GetServerInfoRequest {});
        if let Some(key) = &self.opts.api_key {
            req = authed(pb::GetServerInfoRequest {}, key);
        }
        tokio::time::timeout(Duration::from_secs(5), w.get_server_info(req))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    fn try_exit_status(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        child.try_wait().expect("checking the server process")
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.is_some() && self.try_exit_status().is_none()
    }

    pub(crate) async fn try_channel(&self) -> Result<Channel, tonic::transport::Error> {
        let mut endpoint = Endpoint::from_shared(self.url())
            .expect("a valid URL")
            .connect_timeout(Duration::from_secs(5))
            // A safety net for unary calls (the longest long-poll the tests use is 30 s).
            .timeout(Duration::from_secs(60));
        if let Some(tls) = &self.opts.tls {
            endpoint = endpoint.tls_config(tls.config())?;
        }
        endpoint.connect().await
    }

    /// A new connection to the server.
    pub async fn channel(&self) -> Channel {
        match self.try_channel().await {
            Ok(c) => c,
            Err(e) => self.fail(&format!("connecting to {}: {e}", self.url())),
        }
    }

    pub async fn worker(&self) -> WorkerClient {
        WorkerServiceClient::new(self.channel().await)
    }

    pub async fn jobs(&self) -> JobClient {
        JobServiceClient::new(self.channel().await)
    }

    pub async fn queues(&self) -> QueueClient {
        QueueServiceClient::new(self.channel().await)
    }

    /// SIGKILL, and reap the process.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("the server is not running");
        child.kill().expect("SIGKILL");
        child.wait().expect("reaping the killed server");
    }

    /// Sends SIGTERM (a graceful shutdown) without waiting for the exit.
    pub fn terminate(&self) {
        self.signal(libc::SIGTERM);
    }

    /// Sends `sig` to the running server (SIGSTOP and SIGCONT pause and resume it).
    pub fn signal(&self, sig: libc::c_int) {
        let pid = libc::pid_t::try_from(self.pid()).expect("pid fits pid_t");
        // SAFETY: kill(2) with a pid this process spawned and has not reaped yet.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill({sig}): {}", std::io::Error::last_os_error());
    }

    /// Waits until the process exits, at most `within`; panics (with the log) if it does not.
    pub async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.try_exit_status() {
                self.child = None;
                return status;
            }
            if Instant::now() >= deadline {
                self.fail(&format!("the server did not exit within {within:?}"));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// SIGTERM, then wait (at most [`WAIT`]) for the exit.
    pub async fn terminate_and_wait(&mut self) -> ExitStatus {
        self.terminate();
        self.wait_exit(WAIT).await
    }

    /// Starts the server again on the same data dir and port; it must have been stopped.
    pub async fn restart(&mut self) {
        assert!(
            !self.is_running(),
            "restart: the server is still running; kill() or terminate() it first"
        );
        self.child = None;
        if let Err(e) = self.launch_on_free_ports(true).await {
            self.fail(&format!("the server did not restart: {e}"));
        }
    }

    /// Starts the stopped server again on the same data dir and ports without waiting for it
    /// (for a start that is expected to fail: then [`TestServer::wait_exit`]).
    pub fn respawn(&mut self) {
        assert!(!self.is_running(), "respawn: the server is still running");
        self.child = None;
        if let Err(e) = self.spawn() {
            self.fail(&format!("spawning corvo: {e}"));
        }
    }

    /// Sets (or replaces) an environment variable for the next starts.
    pub fn set_env(&mut self, key: &str, value: Option<&str>) {
        self.opts.env.retain(|(k, _)| k != key);
        if let Some(value) = value {
            self.opts.env.push((key.to_owned(), value.to_owned()));
        }
    }

    /// What the server logged since its current (or last) start.
    pub fn log_since_start(&self) -> String {
        self.log_of_this_start()
    }

    /// The last `lines` lines of the server's log (every start appends to it), without the
    /// frames of a panic's backtrace: its message and what came before it stay in view.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let all: Vec<&str> = text.lines().filter(|l| !is_backtrace_frame(l)).collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Panics with `msg` and the tail of the server log.
    pub fn fail(&self, msg: &str) -> ! {
        panic!(
            "{msg}\n---- corvo log tail ({}) ----\n{}\n----",
            self.log_path.display(),
            self.log_tail(60)
        );
    }
}

/// `  12: tokio::runtime::...` or `             at /path/file.rs:3:9`: one frame of a printed
/// backtrace.
fn is_backtrace_frame(line: &str) -> bool {
    let trimmed = line.trim_start();
    if trimmed.len() == line.len() {
        return false;
    }
    trimmed.starts_with("at ")
        || trimmed
            .split_once(": ")
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "---- corvo log tail ({}) ----\n{}\n----",
                self.log_path.display(),
                self.log_tail(60)
            );
        }
        if std::env::var_os("CORVO_TEST_KEEP").is_some()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("keeping {}", dir.keep().display());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and assertions

/// A request carrying `authorization: Bearer <key>`.
pub fn authed<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {key}").parse().expect("a key is ASCII"),
    );
    req
}

/// An enqueue request with no options.
pub fn enqueue_req(queue: &str, payload_json: &str) -> pb::EnqueueRequest {
    pb::EnqueueRequest {
        queue: queue.into(),
        payload_json: payload_json.into(),
        ..Default::default()
    }
}

/// An enqueue request with `options`.
pub fn enqueue_req_with(
    queue: &str,
    payload_json: &str,
    options: pb::EnqueueOptions,
) -> pb::EnqueueRequest {
    pb::EnqueueRequest {
        options: Some(options),
        ..enqueue_req(queue, payload_json)
    }
}

/// A fixed backoff of `ms` with `max_attempts` attempts in total.
pub fn fixed_backoff(ms: i64, max_attempts: i32) -> pb::EnqueueOptions {
    pb::EnqueueOptions {
        max_attempts,
        backoff: Some(pb::BackoffPolicy {
            kind: pb::BackoffKind::Fixed.into(),
            base_ms: ms,
            cap_ms: ms,
        }),
        ..Default::default()
    }
}

/// Enqueues and returns the response (panics on error).
pub async fn enqueue(w: &mut WorkerClient, req: pb::EnqueueRequest) -> pb::EnqueueResponse {
    within("Enqueue", w.enqueue(req))
        .await
        .expect("Enqueue")
        .into_inner()
}

/// Enqueues a job with `payload_json` on `queue` and returns its id.
pub async fn enqueue_job(w: &mut WorkerClient, queue: &str, payload_json: &str) -> String {
    enqueue(w, enqueue_req(queue, payload_json)).await.job_id
}

/// A fetch request for `queue` that waits at most `max_wait_ms`.
/// A heartbeat for one job under `lease_token` (0 = unchecked).
pub fn heartbeat_req(job_id: &str, lease_token: u64) -> pb::HeartbeatRequest {
    pb::HeartbeatRequest {
        jobs: [(
            job_id.to_owned(),
            pb::HeartbeatJobUpdate {
                lease_token,
                ..Default::default()
            },
        )]
        .into(),
    }
}

pub fn fetch_req(queue: &str, max_wait_ms: i32) -> pb::FetchRequest {
    pb::FetchRequest {
        queues: vec![queue.into()],
        worker_id: "test-worker".into(),
        hostname: "localhost".into(),
        lease_duration: 0,
        max_wait_ms: Some(max_wait_ms),
    }
}

/// Fetches from `queue`, waiting at most `max_wait_ms`; `None` when nothing was leased.
pub async fn fetch(
    w: &mut WorkerClient,
    queue: &str,
    max_wait_ms: i32,
) -> Option<pb::FetchResponse> {
    let r = within("Fetch", w.fetch(fetch_req(queue, max_wait_ms)))
        .await
        .expect("Fetch")
        .into_inner();
    r.found.then_some(r)
}

/// Fetches from `queue`, waiting up to 20 s for a job; panics if none arrived.
pub async fn fetch_some(w: &mut WorkerClient, queue: &str) -> pb::FetchResponse {
    fetch(w, queue, 20_000)
        .await
        .unwrap_or_else(|| panic!("no job arrived on {queue} within 20 s"))
}

pub async fn get_job(jobs: &mut JobClient, id: &str) -> pb::Job {
    within(
        "GetJob",
        jobs.get_job(pb::GetJobRequest { job_id: id.into() }),
    )
    .await
    .unwrap_or_else(|e| panic!("GetJob {id}: {e}"))
    .into_inner()
    .job
    .expect("GetJob returns a job")
}

pub fn state_of(job: &pb::Job) -> pb::JobState {
    pb::JobState::try_from(job.state).expect("a known JobState")
}

/// Polls GetJob until `pred` holds for the job, at most [`WAIT`].
pub async fn wait_for_job(
    jobs: &mut JobClient,
    id: &str,
    what: &str,
    pred: impl Fn(&pb::Job) -> bool,
) -> pb::Job {
    eventually(&format!("job {id}: {what}"), || {
        let mut jobs = jobs.clone();
        let pred = &pred;
        async move {
            let job = get_job(&mut jobs, id).await;
            pred(&job).then_some(job)
        }
    })
    .await
}

/// Asserts that `result` failed with `code` and that its message names `field`.
#[track_caller]
pub fn assert_status<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, field: &str) {
    match result {
        Ok(v) => panic!("expected {code:?} naming {field:?}, got Ok({v:?})"),
        Err(s) => {
            assert_eq!(s.code(), code, "wrong code; message: {}", s.message());
            assert!(
                s.message().contains(field),
                "the message {:?} does not name {field:?}",
                s.message()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Events

/// Opens Subscribe after `last_event_id` with no filter.
pub async fn subscribe(
    w: &mut WorkerClient,
    last_event_id: u64,
) -> Streaming<pb::SubscribeResponse> {
    subscribe_with(
        w,
        pb::SubscribeRequest {
            last_event_id,
            ..Default::default()
        },
    )
    .await
}

pub async fn subscribe_with(
    w: &mut WorkerClient,
    req: pb::SubscribeRequest,
) -> Streaming<pb::SubscribeResponse> {
    within("Subscribe", w.subscribe(req))
        .await
        .expect("Subscribe")
        .into_inner()
}

/// The next event, at most [`WAIT`]; panics if the stream ends or fails.
pub async fn next_event(events: &mut Streaming<pb::SubscribeResponse>) -> pb::SubscribeResponse {
    match within("the next event", events.message()).await {
        Ok(Some(e)) => e,
        Ok(None) => panic!("the event stream ended"),
        Err(s) => panic!("the event stream failed: {s}"),
    }
}

/// Reads events until one satisfies `last` (included).
pub async fn events_until(
    events: &mut Streaming<pb::SubscribeResponse>,
    last: impl Fn(&pb::SubscribeResponse) -> bool,
) -> Vec<pb::SubscribeResponse> {
    let mut out = Vec::new();
    loop {
        let e = next_event(events).await;
        let done = last(&e);
        out.push(e);
        if done {
            return out;
        }
    }
}

/// The queue the write probe enqueues to.
pub const PROBE_QUEUE: &str = "probe";

/// Proves that calls wrote nothing: every transition appends an event, so if the next event
/// after a known id is the probe's own enqueue, nothing else was written in between. (A
/// heartbeat without progress moves a lease deadline without an event: compare GetJob too.)
pub struct WriteProbe {
    last_seq: u64,
}

impl WriteProbe {
    /// Marks the current end of the event log.
    pub async fn new(w: &mut WorkerClient) -> Self {
        let id = enqueue_job(w, PROBE_QUEUE, "{}").await;
        let mut events = subscribe(w, 0).await;
        let seen = events_until(&mut events, |e| e.job_id == id).await;
        WriteProbe {
            last_seq: seen.last().expect("at least the probe's event").seq,
        }
    }

    /// The id of the last event the probe saw.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Asserts that nothing was written since the last mark, and marks again.
    pub async fn assert_nothing_written(&mut self, w: &mut WorkerClient, after: &str) {
        let id = enqueue_job(w, PROBE_QUEUE, "{}").await;
        let mut events = subscribe(w, self.last_seq).await;
        let e = next_event(&mut events).await;
        assert!(
            e.job_id == id && e.r#type == "enqueued" && e.seq == self.last_seq + 1,
            "{after}: something was written: the event after #{} is {e:?}, not the probe's enqueue of {id}",
            self.last_seq
        );
        self.last_seq = e.seq;
    }
}

// ---------------------------------------------------------------------------------------------
// StreamLifecycle

/// One open StreamLifecycle session.
pub struct Lifecycle {
    tx: Option<mpsc::Sender<pb::StreamLifecycleRequest>>,
    inbound: Streaming<pb::StreamLifecycleResponse>,
    /// Responses with request_id 0 (pushes, cancel notices) that arrived while `call` waited.
    unsolicited: VecDeque<pb::StreamLifecycleResponse>,
    next_request_id: u64,
}

impl Lifecycle {
    pub async fn open(w: &mut WorkerClient) -> Self {
        Self::try_open(w, None).await.expect("StreamLifecycle")
    }

    /// Opens a stream that authenticates with `key`; the error is the server's refusal.
    pub async fn open_with_key(w: &mut WorkerClient, key: &str) -> Result<Self, Status> {
        Self::try_open(w, Some(key)).await
    }

    /// Opens a stream (with `key`, when given); the error is the server's refusal.
    pub async fn try_open(w: &mut WorkerClient, key: Option<&str>) -> Result<Self, Status> {
        let (tx, rx) = mpsc::channel(64);
        let stream = ReceiverStream::new(rx);
        let req = match key {
            Some(key) => authed(stream, key),
            None => tonic::Request::new(stream),
        };
        let inbound = within("StreamLifecycle", w.stream_lifecycle(req))
            .await?
            .into_inner();
        Ok(Lifecycle {
            tx: Some(tx),
            inbound,
            unsolicited: VecDeque::new(),
            next_request_id: 1,
        })
    }

    /// Sends `frame` as is.
    pub async fn send(&self, frame: pb::StreamLifecycleRequest) {
        let tx = self.tx.as_ref().expect("the stream is half-closed");
        within("sending a frame", tx.send(frame))
            .await
            .expect("the stream is open");
    }

    /// The next response of any kind; `Ok(None)` when the server ended the stream.
    pub async fn recv(&mut self) -> Result<Option<pb::StreamLifecycleResponse>, Status> {
        if let Some(r) = self.unsolicited.pop_front() {
            return Ok(Some(r));
        }
        within("the next stream response", self.inbound.message()).await
    }

    /// The next response if one arrives within `d` (for "nothing more arrives" checks).
    pub async fn recv_within(
        &mut self,
        d: Duration,
    ) -> Option<Result<Option<pb::StreamLifecycleResponse>, Status>> {
        if let Some(r) = self.unsolicited.pop_front() {
            return Some(Ok(Some(r)));
        }
        tokio::time::timeout(d, self.inbound.message()).await.ok()
    }

    /// Sends `frame` with a fresh request id and returns the response echoing it. Responses
    /// with request_id 0 that arrive first are kept for [`Lifecycle::next_unsolicited`].
    pub async fn call(
        &mut self,
        mut frame: pb::StreamLifecycleRequest,
    ) -> pb::StreamLifecycleResponse {
        frame.request_id = self.next_request_id;
        self.next_request_id += 1;
        let id = frame.request_id;
        self.send(frame).await;
        loop {
            let r = match within("the response to a frame", self.inbound.message()).await {
                Ok(Some(r)) => r,
                Ok(None) => panic!("the stream ended before the response to frame {id}"),
                Err(s) => panic!("the stream failed before the response to frame {id}: {s}"),
            };
            if r.request_id == id {
                return r;
            }
            assert_eq!(
                r.request_id, 0,
                "a response to another frame arrived while waiting for {id}: {r:?}"
            );
            self.unsolicited.push_back(r);
        }
    }

    /// The next response with request_id 0 (a push of jobs or a cancel notice).
    pub async fn next_unsolicited(&mut self) -> pb::StreamLifecycleResponse {
        if let Some(r) = self.unsolicited.pop_front() {
            return r;
        }
        match within("a pushed response", self.inbound.message()).await {
            Ok(Some(r)) => {
                assert_eq!(r.request_id, 0, "expected an unsolicited response: {r:?}");
                r
            }
            Ok(None) => panic!("the stream ended"),
            Err(s) => panic!("the stream failed: {s}"),
        }
    }

    /// Collects pushed jobs until `n` have arrived.
    pub async fn pushed_jobs(&mut self, n: usize) -> Vec<pb::FetchBatchJob> {
        let mut jobs = Vec::new();
        while jobs.len() < n {
            let r = self.next_unsolicited().await;
            assert!(r.error.is_empty(), "a push carried an error: {r:?}");
            jobs.extend(r.jobs);
        }
        jobs
    }

    /// Closes the sending side (the server sees the end of the request stream).
    pub fn half_close(&mut self) {
        self.tx = None;
    }
}

/// A frame that subscribes this stream to `queues` and grants `credits`.
pub fn credit_frame(queues: &[&str], credits: i32) -> pb::StreamLifecycleRequest {
    pb::StreamLifecycleRequest {
        queues: queues.iter().map(|q| (*q).to_owned()).collect(),
        worker_id: "stream-worker".into(),
        hostname: "localhost".into(),
        credits,
        ..Default::default()
    }
}

/// An ack item for a leased job (with its lease token).
pub fn ack_item(job: &pb::FetchBatchJob) -> pb::AckBatchItem {
    pb::AckBatchItem {
        job_id: job.job_id.clone(),
        lease_token: job.lease_token,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn owns_listener_tells_whose_socket_a_port_is() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert!(owns_listener(std::process::id(), port));
        // PID 1 does not hold this test's socket.
        assert!(!owns_listener(1, port));
        drop(listener);
        assert!(!owns_listener(std::process::id(), port));
    }

    #[test]
    fn a_log_tail_leaves_out_backtrace_frames_only() {
        let frames = [
            "   0: __rustc::rust_begin_unwind",
            "  11: with_mut<tokio::runtime::task::core::Stage<..>>",
            "             at /rustc/5980/library/std/src/panicking.rs:689:5",
        ];
        assert!(frames.iter().all(|l| is_backtrace_frame(l)));
        let kept = [
            "thread 'tokio-rt-worker' (13072) panicked at /x/valid.rs:96:13:",
            "invalid state: expect: purge_upto <= snapshot_last_log_id",
            "2026-12-06T14:39:40.480684Z  INFO corvo_raft::node: raft started",
            "stack backtrace:",
            "  note: 3 frames omitted",
            "12: not indented",
        ];
        assert!(kept.iter().all(|l| !is_backtrace_frame(l)));
    }
}
