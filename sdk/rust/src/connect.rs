//! Where the server is and how to reach it: one or more node URLs, the API key, TLS. Shared
//! by [`crate::Client`] and [`crate::worker::Worker`].
//!
//! Any node serves every call (followers forward to the leader). The current node is kept
//! until a call fails to reach it; then the next URL is used, or the leader a node named
//! (`x-corvo-leader`, a stream's `leader_addr`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::error::Error;

/// Default server URL.
pub const SERVER_DEFAULT: &str = "http://127.0.0.1:8080";
/// Default timeout of unary calls.
pub const CALL_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// How long connecting to one node may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How to reach the server: URLs, key, TLS.
#[derive(Clone)]
pub struct ConnectOptions {
    servers: Vec<String>,
    api_key: Option<String>,
    ca_pem: Option<Vec<u8>>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
    call_timeout: Duration,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("servers", &self.servers)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("ca", &self.ca_pem.is_some())
            .field("client_identity", &self.identity.is_some())
            .field("call_timeout", &self.call_timeout)
            .finish()
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions::new([SERVER_DEFAULT])
    }
}

impl ConnectOptions {
    /// These node URLs (`http://host:port` or `https://host:port`), tried in order. The API
    /// key defaults to `CORVO_API_KEY` when that is set.
    pub fn new<S: Into<String>>(servers: impl IntoIterator<Item = S>) -> ConnectOptions {
        ConnectOptions {
            servers: servers.into_iter().map(Into::into).collect(),
            api_key: std::env::var("CORVO_API_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty()),
            ca_pem: None,
            identity: None,
            call_timeout: CALL_TIMEOUT_DEFAULT,
        }
    }

    /// The API key sent as `authorization: Bearer <key>` on every call and stream.
    pub fn api_key(mut self, key: impl Into<String>) -> ConnectOptions {
        self.api_key = Some(key.into().trim().to_owned());
        self
    }

    /// Trust this CA (PEM) for `https://` servers instead of the system's roots.
    pub fn ca_cert_pem(mut self, pem: impl Into<Vec<u8>>) -> ConnectOptions {
        self.ca_pem = Some(pem.into());
        self
    }

    /// [`ConnectOptions::ca_cert_pem`] from a file.
    pub fn ca_cert_file(self, path: impl AsRef<Path>) -> Result<ConnectOptions, Error> {
        let pem = read(path.as_ref(), "CA certificate")?;
        Ok(self.ca_cert_pem(pem))
    }

    /// A client certificate and key (PEM), for servers that require mutual TLS.
    pub fn client_identity_pem(
        mut self,
        cert: impl Into<Vec<u8>>,
        key: impl Into<Vec<u8>>,
    ) -> ConnectOptions {
        self.identity = Some((cert.into(), key.into()));
        self
    }

    /// [`ConnectOptions::client_identity_pem`] from files.
    pub fn client_identity_files(
        self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<ConnectOptions, Error> {
        let cert = read(cert.as_ref(), "client certificate")?;
        let key = read(key.as_ref(), "client key")?;
        Ok(self.client_identity_pem(cert, key))
    }

    /// The timeout of unary calls (default 30 s).
    pub fn call_timeout(mut self, timeout: Duration) -> ConnectOptions {
        self.call_timeout = timeout;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.servers.is_empty() {
            return Err(Error::config("at least one server URL"));
        }
        for url in &self.servers {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Error::config(format!(
                    "server {url:?}: expected http://host:port or https://host:port"
                )));
            }
            Endpoint::from_shared(url.clone())
                .map_err(|e| Error::config(format!("server {url:?}: {e}")))?;
        }
        if let Some(key) = &self.api_key {
            bearer(key)?;
        }
        Ok(())
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path)
        .map_err(|e| Error::config(format!("reading the {what} {}: {e}", path.display())))
}

fn bearer(key: &str) -> Result<MetadataValue<Ascii>, Error> {
    let mut v: MetadataValue<Ascii> = format!("Bearer {key}")
        .parse()
        .map_err(|_| Error::config("the API key is not valid in a header"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// Adds the API key and the current trace context to every call.
#[derive(Clone)]
pub struct Auth {
    bearer: Option<MetadataValue<Ascii>>,
}

impl Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.bearer
            && !req.metadata().contains_key("authorization")
        {
            req.metadata_mut().insert("authorization", v.clone());
        }
        crate::trace::inject(req.metadata_mut());
        Ok(req)
    }
}

/// A channel to one node, with the key and trace context added to every call.
pub type AuthedChannel = InterceptedService<Channel, Auth>;

/// The nodes of one deployment and which of them is in use.
pub(crate) struct Servers {
    opts: ConnectOptions,
    auth: Auth,
    state: Mutex<State>,
}

struct State {
    /// URLs in use: the configured ones, then leaders learned from hints.
    urls: Vec<String>,
    current: usize,
    channels: HashMap<String, Channel>,
}

impl Servers {
    pub(crate) fn new(opts: ConnectOptions) -> Result<Arc<Servers>, Error> {
        opts.validate()?;
        let bearer = opts.api_key.as_deref().map(bearer).transpose()?;
        Ok(Arc::new(Servers {
            state: Mutex::new(State {
                urls: opts.servers.clone(),
                current: 0,
                channels: HashMap::new(),
            }),
            auth: Auth { bearer },
            opts,
        }))
    }

    /// A fixed channel (no other nodes to try).
    pub(crate) fn from_channel(
        channel: Channel,
        api_key: Option<&str>,
    ) -> Result<Arc<Servers>, Error> {
        let url = "fixed://channel".to_owned();
        let bearer = api_key.map(bearer).transpose()?;
        Ok(Arc::new(Servers {
            state: Mutex::new(State {
                urls: vec![url.clone()],
                current: 0,
                channels: HashMap::from([(url, channel)]),
            }),
            auth: Auth { bearer },
            opts: ConnectOptions {
                servers: Vec::new(),
                api_key: api_key.map(str::to_owned),
                ca_pem: None,
                identity: None,
                call_timeout: CALL_TIMEOUT_DEFAULT,
            },
        }))
    }

    pub(crate) fn call_timeout(&self) -> Duration {
        self.opts.call_timeout
    }

    pub(crate) fn auth(&self) -> Auth {
        self.auth.clone()
    }

    /// The node in use: its URL and a (lazily connecting) channel to it.
    pub(crate) fn current(&self) -> Result<(String, Channel), Error> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let url = s.urls[s.current].clone();
        if let Some(c) = s.channels.get(&url) {
            return Ok((url, c.clone()));
        }
        let channel = self.endpoint(&url)?.connect_lazy();
        s.channels.insert(url.clone(), channel.clone());
        Ok((url, channel))
    }

    /// The node in use, with the key and trace context on every call.
    pub(crate) fn authed(&self) -> Result<AuthedChannel, Error> {
        let (_, channel) = self.current()?;
        Ok(InterceptedService::new(channel, self.auth()))
    }

    fn endpoint(&self, url: &str) -> Result<Endpoint, Error> {
        let mut e = Endpoint::from_shared(url.to_owned())
            .map_err(|e| Error::config(format!("server {url:?}: {e}")))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(20))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(true);
        if url.starts_with("https://") {
            let mut tls = ClientTlsConfig::new();
            tls = match &self.opts.ca_pem {
                Some(pem) => tls.ca_certificate(Certificate::from_pem(pem)),
                None => tls.with_native_roots(),
            };
            if let Some((cert, key)) = &self.opts.identity {
                tls = tls.identity(Identity::from_pem(cert, key));
            }
            e = e
                .tls_config(tls)
                .map_err(|e| Error::config(format!("TLS for {url:?}: {e}")))?;
        }
        Ok(e)
    }

    /// `url` could not be reached: use the next node from now on (if `url` is still current).
    pub(crate) fn failed(&self, url: &str) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if s.urls[s.current] == url && s.urls.len() > 1 {
            s.current = (s.current + 1) % s.urls.len();
            tracing::info!(from = url, to = %s.urls[s.current], "corvo: trying the next server");
        }
    }

    /// A node said the leader is at `addr` (`host:port`): use it from now on.
    pub(crate) fn leader_hint(&self, addr: &str) {
        if addr.is_empty() || self.opts.servers.is_empty() {
            return;
        }
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let scheme = if s.urls[s.current].starts_with("https://") {
            "https"
        } else {
            "http"
        };
        let url = format!("{scheme}://{addr}");
        if Endpoint::from_shared(url.clone()).is_err() {
            return;
        }
        let index = match s.urls.iter().position(|u| *u == url) {
            Some(i) => i,
            None => {
                // Bounded: learned leaders beyond the configured URLs replace each other.
                if s.urls.len() > self.opts.servers.len() {
                    s.urls.pop();
                }
                s.urls.push(url.clone());
                s.urls.len() - 1
            }
        };
        if s.current != index {
            tracing::info!(leader = %url, "corvo: following the leader");
            s.current = index;
        }
    }
}
