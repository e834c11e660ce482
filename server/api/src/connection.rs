//! What the connection tells about a caller: its address (the rate limit's key in open mode)
//! and whether it presented a verified client certificate (mTLS). tonic puts the connection's
//! info into every request's extensions before the tower stack runs.

use std::net::IpAddr;

use http::Extensions;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

/// The caller's IP address, over plain TCP or TLS.
pub fn remote_ip(ext: &Extensions) -> Option<IpAddr> {
    if let Some(tcp) = ext.get::<TcpConnectInfo>() {
        return tcp.remote_addr().map(|a| a.ip());
    }
    ext.get::<TlsConnectInfo<TcpConnectInfo>>()
        .and_then(|tls| tls.get_ref().remote_addr())
        .map(|a| a.ip())
}

/// Whether the connection presented a client certificate that the TLS handshake verified
/// against the client CA.
pub fn has_client_cert(ext: &Extensions) -> bool {
    ext.get::<TlsConnectInfo<TcpConnectInfo>>()
        .and_then(TlsConnectInfo::peer_certs)
        .is_some_and(|certs| !certs.is_empty())
}
