//! TLS of both ports, from the `corvo server` flags (docs/security.md#tls).
//!
//! - client port: `--tls-cert` + `--tls-key`, optionally `--tls-client-ca` (mTLS: a
//!   connection without a client certificate may reach only the open probes);
//! - peer port: `--peer-tls-cert` + `--peer-tls-key` + `--peer-tls-ca`, mutual between nodes;
//! - this node's calls to other members' client ports: verified against `--tls-ca` (default
//!   `--peer-tls-ca`), presenting `--tls-cert` when the client ports ask for certificates.

use std::sync::Arc;

use anyhow::Context;
use corvo_net::{ClientAuth, ClientTls, ServerTls, TlsFiles};
use corvo_raft::PeerTls;

use crate::config::ServerArgs;

/// Both ports' TLS, as the node serves and calls them.
pub struct NodeTls {
    pub client_port: Option<Arc<ServerTls>>,
    pub peer: Option<PeerTls>,
    /// For calls to other members' client ports.
    pub members: Option<tonic::transport::ClientTlsConfig>,
}

impl NodeTls {
    /// The servers whose certificates are reloaded on SIGHUP and file changes.
    pub fn servers(&self) -> Vec<Arc<ServerTls>> {
        self.client_port
            .iter()
            .cloned()
            .chain(self.peer.iter().map(|p| p.server.clone()))
            .collect()
    }
}

pub fn load(args: &ServerArgs, clustering: bool) -> anyhow::Result<NodeTls> {
    let client_port = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            ServerTls::load(
                "client",
                TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: args.tls_client_ca.clone(),
                    client_auth: if args.tls_client_ca.is_some() {
                        ClientAuth::Optional
                    } else {
                        ClientAuth::None
                    },
                },
            )
            .context("TLS of the client port")?,
        ),
        _ => None,
    };
    let peer = match (&args.peer_tls_cert, &args.peer_tls_key, &args.peer_tls_ca) {
        (Some(cert), Some(key), Some(ca)) => {
            let server = ServerTls::load(
                "peer",
                TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: Some(ca.clone()),
                    client_auth: ClientAuth::Required,
                },
            )
            .context("TLS of the peer port")?;
            let client = ClientTls {
                ca: ca.clone(),
                identity: Some((cert.clone(), key.clone())),
            }
            .config()
            .context("TLS for calls to peers")?;
            Some(PeerTls { server, client })
        }
        _ => None,
    };
    let members = match (
        &client_port,
        args.tls_ca.as_ref().or(args.peer_tls_ca.as_ref()),
    ) {
        (None, _) => None,
        (Some(_), Some(ca)) => Some(
            ClientTls {
                ca: ca.clone(),
                identity: args
                    .tls_client_ca
                    .is_some()
                    .then(|| (args.tls_cert.clone(), args.tls_key.clone()))
                    .and_then(|(c, k)| Some((c?, k?))),
            }
            .config()
            .context("TLS for calls to other members (--tls-ca)")?,
        ),
        (Some(_), None) if clustering => anyhow::bail!(
            "the client port serves TLS: set --tls-ca (or --peer-tls-ca) to the CA that signed the members' client certificates, so members can reach each other"
        ),
        (Some(_), None) => None,
    };
    Ok(NodeTls {
        client_port,
        peer,
        members,
    })
}
