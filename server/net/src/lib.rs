//! Corvo's sockets and TLS, for the client port and the peer port alike.
//!
//! ```text
//!  Reserved ─▶ a port bound at start-up, listening (a TcpListener) once the node serves
//!  TcpListener ─▶ tcp_incoming: TCP_NODELAY (small answers must not wait for a delayed ACK)
//!                 and TCP keepalive (a vanished peer is noticed) on every accepted socket
//!     └─▶ plaintext: served as is
//!     └─▶ tls_incoming(ServerTls): handshakes off the accept path (bounded in time), then
//!         served; ServerTls holds the current certificate and swaps it on reload (SIGHUP or a
//!         changed file, see `keep_fresh`) without touching open connections
//!  ClientTls ─▶ tonic ClientTlsConfig: the CA that signed the other side, and this node's
//!               certificate when the other side asks for one (mTLS)
//! ```
//!
//! rustls with the ring provider throughout (the one tonic uses); PEM files for every input.

pub mod listen;
pub mod tls;

pub use listen::{Reserved, TcpTuning, tcp_incoming, tls_incoming};
pub use tls::{ClientAuth, ClientTls, ServerTls, TlsError, TlsFiles, keep_fresh};
