//! A controllable TCP proxy for partition tests: one in front of each node's peer port and
//! client port, advertised as the node's addresses, so every peer connection and every
//! forwarded call crosses a proxy the test can cut.
//!
//! ```text
//!  node A ──▶ proxy(B) ──▶ node B        isolate(): refuse new connections, drop open ones
//!             │                          block_process(pid): the same, only for connections
//!             └ peer socket ─▶ /proc/net/tcp inode ─▶ /proc/<pid>/fd: which process dialled
//! ```
//!
//! Linux only for `block_process` (it reads `/proc`). A refused connection is accepted and
//! closed at once, so callers fail fast instead of waiting on a black hole.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// Connecting to the proxied port (a node restarting may not listen yet).
const TARGET_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause after a failed accept.
const ACCEPT_RETRY_EVERY: Duration = Duration::from_millis(10);

/// One proxy: listens on a loopback port and relays to a target set later.
pub struct TcpProxy {
    addr: SocketAddr,
    state: Arc<State>,
    accept: AbortHandle,
}

#[derive(Default)]
struct State {
    target: Mutex<Option<SocketAddr>>,
    isolated: AtomicBool,
    blocked: Mutex<HashSet<u32>>,
    conns: Mutex<Vec<Conn>>,
    next_id: AtomicU64,
}

struct Conn {
    id: u64,
    /// The dialling side's address (its socket's local address).
    peer: SocketAddr,
    relay: AbortHandle,
}

impl TcpProxy {
    /// Binds a free loopback port; relays nothing until [`TcpProxy::set_target`].
    pub async fn start() -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a proxy port");
        let addr = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(State::default());
        let accept = tokio::spawn(accept_loop(listener, state.clone())).abort_handle();
        TcpProxy {
            addr,
            state,
            accept,
        }
    }

    /// Where clients connect (what the node advertises).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where connections are relayed to.
    pub fn set_target(&self, target: SocketAddr) {
        *lock(&self.state.target) = Some(target);
    }

    /// Refuses every new connection and drops the open ones (until [`TcpProxy::heal`]).
    pub fn isolate(&self) {
        self.state.isolated.store(true, Ordering::SeqCst);
        for c in lock(&self.state.conns).drain(..) {
            c.relay.abort();
        }
    }

    /// Refuses new connections dialled by process `pid` and drops its open ones.
    pub fn block_process(&self, pid: u32) {
        lock(&self.state.blocked).insert(pid);
        lock(&self.state.conns).retain(|c| {
            let theirs = socket_owned_by(pid, c.peer);
            if theirs {
                c.relay.abort();
            }
            !theirs
        });
    }

    /// Relays everything again.
    pub fn heal(&self) {
        self.state.isolated.store(false, Ordering::SeqCst);
        lock(&self.state.blocked).clear();
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        for c in lock(&self.state.conns).drain(..) {
            c.relay.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((inbound, peer)) = listener.accept().await else {
            // Out of file descriptors or similar: do not spin.
            tokio::time::sleep(ACCEPT_RETRY_EVERY).await;
            continue;
        };
        if refused(&state, peer) {
            drop(inbound);
            continue;
        }
        let id = state.next_id.fetch_add(1, Ordering::Relaxed);
        let task_state = state.clone();
        let relay = tokio::spawn(async move {
            relay(inbound, &task_state).await;
            lock(&task_state.conns).retain(|c| c.id != id);
        });
        lock(&state.conns).push(Conn {
            id,
            peer,
            relay: relay.abort_handle(),
        });
    }
}

fn refused(state: &State, peer: SocketAddr) -> bool {
    if state.isolated.load(Ordering::SeqCst) {
        return true;
    }
    let blocked: Vec<u32> = lock(&state.blocked).iter().copied().collect();
    blocked.into_iter().any(|pid| socket_owned_by(pid, peer))
}

async fn relay(mut inbound: TcpStream, state: &State) {
    let Some(target) = *lock(&state.target) else {
        return;
    };
    let Ok(Ok(mut outbound)) =
        tokio::time::timeout(TARGET_CONNECT_TIMEOUT, TcpStream::connect(target)).await
    else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
}

/// Whether process `pid` holds the TCP socket whose local address is `local`.
#[cfg(target_os = "linux")]
pub fn socket_owned_by(pid: u32, local: SocketAddr) -> bool {
    let SocketAddr::V4(v4) = local else {
        return false;
    };
    let wanted = format!(
        "{:08X}:{:04X}",
        u32::from_le_bytes(v4.ip().octets()),
        v4.port()
    );
    crate::pid_holds_socket(pid, |f| f[1] == wanted)
}

/// Elsewhere no process can be told apart: nothing is blocked by process.
#[cfg(not(target_os = "linux"))]
pub fn socket_owned_by(_pid: u32, _local: SocketAddr) -> bool {
    false
}

/// The proxies a node advertises: its client port's and its peer port's.
pub struct Proxies {
    pub api: TcpProxy,
    pub raft: TcpProxy,
}

/// Spawns a node of the test cluster (`SECRET`) advertising two new proxies, points them at
/// its real ports, waits until it is ready. `configure` adds options first.
pub async fn proxied_node(
    name: &str,
    join: Option<&str>,
    configure: impl FnOnce(crate::ServerBuilder) -> crate::ServerBuilder,
) -> (crate::TestServer, Proxies) {
    let api = TcpProxy::start().await;
    let raft = TcpProxy::start().await;
    let mut builder = configure(crate::TestServer::builder())
        .node_id(name)
        .cluster_secret(crate::cluster::SECRET)
        .advertise(api.addr(), raft.addr());
    if let Some(url) = join {
        builder = builder.join(url);
    }
    let mut node = builder.spawn();
    api.set_target(node.addr());
    raft.set_target(node.raft_addr());
    node.wait_ready().await;
    (node, Proxies { api, raft })
}

/// Cuts node `cut` (process `cut_pid`) off, both ways: its own proxies drop everything, and
/// the others' proxies refuse its connections.
pub fn isolate(proxied: &[Proxies], cut: usize, cut_pid: u32) {
    for (i, p) in proxied.iter().enumerate() {
        if i == cut {
            p.api.isolate();
            p.raft.isolate();
        } else {
            p.api.block_process(cut_pid);
            p.raft.block_process(cut_pid);
        }
    }
}

/// Relays everything again, on every node's proxies.
pub fn heal_all(proxied: &[Proxies]) {
    for p in proxied {
        p.api.heal();
        p.raft.heal();
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn echo_server() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    /// Sends a byte through the proxy; whether it came back.
    async fn round_trip(s: &mut TcpStream) -> bool {
        if s.write_all(b"x").await.is_err() {
            return false;
        }
        let mut b = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await,
            Ok(Ok(1))
        )
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn relays_and_cuts_by_isolation_or_by_process() {
        let proxy = TcpProxy::start().await;
        proxy.set_target(echo_server().await);
        let mut open = TcpStream::connect(proxy.addr()).await.unwrap();
        assert!(round_trip(&mut open).await);

        // This process dialled `open`: blocking it drops the connection and refuses new ones.
        assert!(socket_owned_by(
            std::process::id(),
            open.local_addr().unwrap()
        ));
        assert!(!socket_owned_by(1, open.local_addr().unwrap()));
        proxy.block_process(std::process::id());
        assert!(!round_trip(&mut open).await);
        let mut next = TcpStream::connect(proxy.addr()).await.unwrap();
        assert!(!round_trip(&mut next).await);

        proxy.heal();
        let mut healed = TcpStream::connect(proxy.addr()).await.unwrap();
        assert!(round_trip(&mut healed).await);
        proxy.isolate();
        assert!(!round_trip(&mut healed).await);
        let mut refused = TcpStream::connect(proxy.addr()).await.unwrap();
        assert!(!round_trip(&mut refused).await);
    }
}
