//! Accepting connections: tuned TCP sockets, and TLS handshakes that never hold up the
//! accept loop.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
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
