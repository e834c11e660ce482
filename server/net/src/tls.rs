//! TLS configuration from PEM files: a server side that reloads, a client side for calls to
//! other nodes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};

/// Why TLS could not be set up (or reloaded).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn file_error(path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// Whether and how the server asks for client certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificates.
    None,
    /// Verified against the client CA when presented; connections without one are accepted
    /// (the application decides what they may do: on the client port, only the open probes).
    Optional,
    /// Required by the handshake (the peer port: only members connect).
    Required,
}

/// The PEM files of one server side.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The CA client certificates must chain to (with [`ClientAuth::Optional`] or
    /// [`ClientAuth::Required`]).
    pub client_ca: Option<PathBuf>,
    pub client_auth: ClientAuth,
}

impl TlsFiles {
    fn paths(&self) -> Vec<&Path> {
        let mut paths = vec![self.cert.as_path(), self.key.as_path()];
        paths.extend(self.client_ca.as_deref());
        paths
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| file_error(path, e))
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(path, format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(file_error(path, "holds no certificate"));
    }
    Ok(certs)
}

fn key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|e| file_error(path, format!("not a PEM private key: {e}")))
}

fn roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certs(path)? {
        roots
            .add(cert)
            .map_err(|e| file_error(path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// ring, as tonic's own TLS uses it. rustls 0.23.48 deprecates it for lacking post-quantum key
/// exchange; aws-lc-rs has it but needs a C toolchain (cmake) and doubles the build time. The
/// classical suites ring offers are rustls' defaults of the last years.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds a server configuration from the files as they are now.
fn server_config(files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match (&files.client_ca, files.client_auth) {
        (_, ClientAuth::None) => builder.with_no_client_auth(),
        (None, _) => {
            return Err(TlsError::Config(
                "client certificates need a client CA file".into(),
            ));
        }
        (Some(ca), auth) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider());
            let verifier = if auth == ClientAuth::Optional {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier
                .build()
                .map_err(|e| file_error(ca, format!("cannot verify clients with it: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs(&files.cert)?, key(&files.key)?)
        .map_err(|e| file_error(&files.key, format!("does not match the certificate: {e}")))?;
    // gRPC needs HTTP/2; HTTP/1.1 serves /healthz, /metrics and the join route.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A digest of the files' contents: a reload happens only when it changes.
fn stamp(files: &TlsFiles) -> Result<[u8; 32], TlsError> {
    let mut digest = Sha256::new();
    for path in files.paths() {
        digest.update(read(path)?);
        digest.update([0u8]);
    }
    Ok(digest.finalize().into())
}

/// The server side of TLS on one port: the configuration new connections get, replaced on
/// reload. Connections already open keep the configuration they were accepted with.
#[derive(Debug)]
pub struct ServerTls {
    name: &'static str,
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
    stamp: Mutex<[u8; 32]>,
}

impl ServerTls {
    /// Loads the files; `name` says which port, in logs.
    pub fn load(name: &'static str, files: TlsFiles) -> Result<Arc<ServerTls>, TlsError> {
        let config = server_config(&files)?;
        let stamp = stamp(&files)?;
        Ok(Arc::new(ServerTls {
            name,
            files,
            current: RwLock::new(Arc::new(config)),
            stamp: Mutex::new(stamp),
        }))
    }

    /// The acceptor for a new connection (the current certificate).
    pub fn acceptor(&self) -> TlsAcceptor {
        let config = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        TlsAcceptor::from(config)
    }

    /// Reloads when the files' contents changed: `Ok(true)` when the certificate was
    /// replaced. A failed reload leaves the current configuration in place.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let now = stamp(&self.files)?;
        let mut last = self
            .stamp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *last == now {
            return Ok(false);
        }
        let config = server_config(&self.files)?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(config);
        *last = now;
        Ok(true)
    }
}

/// Reloads `servers` on SIGHUP and whenever their files change (checked every `every`), until
/// `stop` resolves. A file that fails to load is logged; the previous certificate stays.
pub async fn keep_fresh(
    servers: Vec<Arc<ServerTls>>,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    if servers.is_empty() {
        return;
    }
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut stop = std::pin::pin!(stop);
    loop {
        let hup = async {
            match hangup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(every) => {}
            _ = hup => tracing::info!("SIGHUP: reloading TLS certificates"),
        }
        for tls in &servers {
            match tls.reload_if_changed() {
                Ok(true) => {
                    tracing::info!(port = tls.name, cert = %tls.files.cert.display(), "TLS certificate reloaded")
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(port = tls.name, error = %e, "TLS reload failed; keeping the previous certificate")
                }
            }
        }
    }
}

/// The client side of calls to other nodes: the CA that signed them, and this node's
/// certificate for servers that ask for one.
#[derive(Clone, Debug)]
pub struct ClientTls {
    pub ca: PathBuf,
    /// (certificate, key) presented when the server asks for a client certificate.
    pub identity: Option<(PathBuf, PathBuf)>,
}

impl ClientTls {
    /// tonic's client configuration, read from the files now.
    pub fn config(&self) -> Result<tonic::transport::ClientTlsConfig, TlsError> {
        roots(&self.ca)?; // a clear error now rather than at the first connection
        let mut config = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(read(&self.ca)?));
        if let Some((cert, key_path)) = &self.identity {
            certs(cert)?;
            key(key_path)?;
            config = config.identity(tonic::transport::Identity::from_pem(
                read(cert)?,
                read(key_path)?,
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rcgen::{
        CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls::ClientConfig;
    use tokio_rustls::rustls::pki_types::ServerName;

    use super::*;
    use crate::listen::{TcpTuning, tcp_incoming, tls_incoming};

    type Ca = CertifiedIssuer<'static, KeyPair>;

    fn ca(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    }

    /// A leaf for localhost/127.0.0.1 signed by `ca`: (cert PEM, key PEM).
    fn leaf(ca: &Ca, name: &str) -> (String, String) {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().unwrap();
        (
            params.signed_by(&key, ca).unwrap().pem(),
            key.serialize_pem(),
        )
    }

    fn client(ca: &Ca, identity: Option<(String, String)>) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = match identity {
            Some((cert, key)) => builder
                .with_client_auth_cert(
                    CertificateDer::pem_slice_iter(cert.as_bytes())
                        .collect::<Result<_, _>>()
                        .unwrap(),
                    PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        TlsConnector::from(Arc::new(config))
    }

    /// Echo server on TLS; returns its address.
    async fn serve(tls: Arc<ServerTls>) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut incoming = tls_incoming(tcp_incoming(listener, TcpTuning::default()), tls);
        tokio::spawn(async move {
            use tokio_stream::StreamExt;
            while let Some(Ok(mut conn)) = incoming.next().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4];
                    while conn.read_exact(&mut buf).await.is_ok() {
                        if conn.write_all(&buf).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    /// Connects and echoes once; the server certificate's common name... as its DER.
    async fn connect(
        addr: std::net::SocketAddr,
        connector: &TlsConnector,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let mut conn = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await?;
        conn.write_all(b"ping").await?;
        let mut buf = [0u8; 4];
        conn.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ping");
        Ok(conn)
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[tokio::test]
    async fn a_reload_swaps_the_certificate_for_new_connections_only() {
        let dir = tempfile::tempdir().unwrap();
        let (ca_a, ca_b) = (ca("A"), ca("B"));
        let (cert, key) = leaf(&ca_a, "server-a");
        let files = TlsFiles {
            cert: write(dir.path(), "cert.pem", &cert),
            key: write(dir.path(), "key.pem", &key),
            client_ca: None,
            client_auth: ClientAuth::None,
        };
        let tls = ServerTls::load("test", files).unwrap();
        let addr = serve(tls.clone()).await;
        let mut open = connect(addr, &client(&ca_a, None)).await.expect("trusts A");
        assert!(connect(addr, &client(&ca_b, None)).await.is_err());
        assert!(!tls.reload_if_changed().unwrap(), "nothing changed");

        let (cert, key) = leaf(&ca_b, "server-b");
        write(dir.path(), "cert.pem", &cert);
        write(dir.path(), "key.pem", &key);
        assert!(tls.reload_if_changed().unwrap());
        connect(addr, &client(&ca_b, None)).await.expect("now B");
        assert!(connect(addr, &client(&ca_a, None)).await.is_err());
        // The connection made before the reload still works.
        open.write_all(b"more").await.unwrap();
        let mut buf = [0u8; 4];
        open.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"more");

        // A broken file is refused and the current certificate stays.
        write(dir.path(), "key.pem", "not a key");
        assert!(tls.reload_if_changed().is_err());
        connect(addr, &client(&ca_b, None)).await.expect("still B");
    }

    #[tokio::test]
    async fn required_client_certificates_must_chain_to_the_client_ca() {
        let dir = tempfile::tempdir().unwrap();
        let (server_ca, client_ca, other_ca) = (ca("S"), ca("C"), ca("X"));
        let (cert, key) = leaf(&server_ca, "server");
        let files = TlsFiles {
            cert: write(dir.path(), "cert.pem", &cert),
            key: write(dir.path(), "key.pem", &key),
            client_ca: Some(write(dir.path(), "ca.pem", &client_ca.pem())),
            client_auth: ClientAuth::Required,
        };
        let addr = serve(ServerTls::load("test", files.clone()).unwrap()).await;
        connect(addr, &client(&server_ca, Some(leaf(&client_ca, "c1"))))
            .await
            .expect("a client of the client CA");
        assert!(
            connect(addr, &client(&server_ca, Some(leaf(&other_ca, "x"))))
                .await
                .is_err()
        );
        assert!(connect(addr, &client(&server_ca, None)).await.is_err());
        // Optional: no certificate is let through the handshake, a wrong one is not.
        let optional = TlsFiles {
            client_auth: ClientAuth::Optional,
            ..files
        };
        let addr = serve(ServerTls::load("test", optional).unwrap()).await;
        connect(addr, &client(&server_ca, None))
            .await
            .expect("none");
        assert!(
            connect(addr, &client(&server_ca, Some(leaf(&other_ca, "x"))))
                .await
                .is_err()
        );
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles {
            cert: write(dir.path(), "cert.pem", "garbage"),
            key: dir.path().join("missing.pem"),
            client_ca: None,
            client_auth: ClientAuth::None,
        };
        let e = ServerTls::load("test", files).err().unwrap().to_string();
        assert!(e.contains("cert.pem"), "{e}");
    }
}
