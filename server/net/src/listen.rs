//! Accepting connections: tuned TCP sockets, and TLS handshakes that never hold up the
//! accept loop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::TcpIncoming;

use crate::tls::ServerTls;

/// Socket options of every accepted connection.
#[derive(Clone, Copy, Debug)]
pub struct TcpTuning {
    /// TCP keepalive: the first probe after this much idle time, then every interval.
    pub keepalive: Option<Duration>,
}

impl Default for TcpTuning {
    fn default() -> Self {
        TcpTuning {
            // The kernel's default is two hours: far too long to notice a vanished worker.
            keepalive: Some(Duration::from_secs(20)),
        }
    }
}

/// The kernel's queue of connections not yet accepted (tokio's own for `TcpListener::bind`).
pub const ACCEPT_BACKLOG: u32 = 1024;

/// A port bound but not yet listening: the node takes its ports first, so a port another
/// process holds fails the start before the data dir is touched or a cluster joined (a node
/// that joined and then could not serve would be a dead voter). Connections are refused, as
/// on a closed port, until [`Reserved::listen`].
#[derive(Debug)]
pub struct Reserved {
    socket: TcpSocket,
    addr: SocketAddr,
}

impl Reserved {
    /// Binds `addr` (port 0: the kernel picks one). Address reuse is on, as for
    /// `TcpListener::bind`: a restart binds over its own old connections in TIME_WAIT, but
    /// never over another process's listening socket.
    pub fn bind(addr: SocketAddr) -> std::io::Result<Reserved> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let addr = socket.local_addr()?;
        Ok(Reserved { socket, addr })
    }

    /// The bound address (with the port the kernel picked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts listening: connections queue for `accept` from here on.
    pub fn listen(self) -> std::io::Result<TcpListener> {
        self.socket.listen(ACCEPT_BACKLOG)
    }
}

/// Connections accepted on `listener` with TCP_NODELAY and keepalive set (tonic's own
/// incoming stream, which logs and skips failed accepts instead of ending the server).
pub fn tcp_incoming(listener: TcpListener, tuning: TcpTuning) -> TcpIncoming {
    TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(tuning.keepalive)
        .with_keepalive_interval(tuning.keepalive)
}

/// A TLS handshake not done within this is abandoned (a client that connects and sends
/// nothing must not hold a task for long).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; more connections wait in the kernel's accept queue.
pub const HANDSHAKES_MAX: usize = 256;

/// TLS connections over `tcp`, handshaken with the certificate `tls` holds at the time each
/// connection arrives. Failed handshakes are logged and dropped; the stream ends when `tcp`
/// does (the listener is dropped with it).
pub fn tls_incoming(
    tcp: TcpIncoming,
    tls: Arc<ServerTls>,
) -> ReceiverStream<std::io::Result<TlsStream<TcpStream>>> {
    let (tx, rx) = mpsc::channel(64);
    let slots = Arc::new(tokio::sync::Semaphore::new(HANDSHAKES_MAX));
    tokio::spawn(async move {
        let mut tcp = std::pin::pin!(tcp);
        loop {
            let conn = tokio::select! {
                conn = tcp.next() => conn,
                _ = tx.closed() => return,
            };
            let stream = match conn {
                Some(Ok(s)) => s,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "accept failed");
                    continue;
                }
                None => return,
            };
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let acceptor = tls.acceptor();
            let tx = tx.clone();
            tokio::spawn(async move {
                let peer = stream.peer_addr().ok();
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls_stream)) => {
                        drop(slot);
                        let _ = tx.send(Ok(tls_stream)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(?peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(?peer, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port another process listens on cannot be reserved; a reserved port refuses
    /// connections until it listens, then accepts them. Fails if `Reserved::bind` stops
    /// checking the port or starts accepting early.
    #[tokio::test]
    async fn a_reserved_port_is_taken_at_once_and_opens_on_listen() {
        let other = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let taken = other.local_addr().unwrap();
        let err = Reserved::bind(taken).expect_err("a listening port cannot be reserved");
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");

        let reserved = Reserved::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = reserved.local_addr();
        assert_ne!(addr.port(), 0, "the kernel's port is reported");
        let refused = TcpStream::connect(addr)
            .await
            .expect_err("nothing accepts before listen");
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        let listener = reserved.listen().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (_accepted, _) = listener.accept().await.unwrap();
    }

    /// Small answers must not wait for the client's delayed ACK (about 40 ms): every accepted
    /// socket has TCP_NODELAY. Fails if `tcp_incoming` stops setting it.
    #[tokio::test]
    async fn accepted_sockets_have_nodelay() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut incoming = std::pin::pin!(tcp_incoming(listener, TcpTuning::default()));
        let _client = TcpStream::connect(addr).await.unwrap();
        let accepted = incoming
            .next()
            .await
            .expect("a connection")
            .expect("accepted");
        assert!(
            accepted.nodelay().unwrap(),
            "TCP_NODELAY on an accepted socket"
        );
    }
}
