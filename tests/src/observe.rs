//! Observability helpers for the black-box tests: scrape `/metrics` and parse it with a real
//! Prometheus text parser (`prometheus-parse`), run the `corvo` CLI against a server, find the
//! third-party probe binaries that `tests/tools.sh` installs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use prometheus_parse::{LineInfo, Sample, Scrape, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{TestServer, corvo_bin, within};

/// A raw HTTP/1.1 GET with extra request headers: (status, response headers, body).
pub async fn http_get_with(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, String, String)> {
    let exchange = async {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).await?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {text:?}")))?;
        let code = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no status in {head:?}")))?;
        Ok((code, head.to_owned(), body.to_owned()))
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "GET timed out"))?
}

/// One parsed scrape of `/metrics` (Prometheus text format).
pub struct Metrics {
    pub text: String,
    pub scrape: Scrape,
}

impl Metrics {
    /// Parses exposition text; panics on any line the parser does not recognise (the parser
    /// itself skips such lines silently, so the test checks every line was understood).
    pub fn parse(text: String) -> Metrics {
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            assert!(
                matches!(LineInfo::parse(line), LineInfo::Sample { .. }),
                "a /metrics line is not a valid sample: {line:?}"
            );
        }
        let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
            .expect("/metrics parses as the Prometheus text format");
        Metrics { text, scrape }
    }

    /// The samples of `metric` whose labels include all of `labels`.
    pub fn samples(&self, metric: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.scrape
            .samples
            .iter()
            .filter(|s| s.metric == metric)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(k).is_some_and(|x| x == *v))
            })
            .collect()
    }

    /// The value of the one sample of `metric` with `labels` (a histogram's count); `None`
    /// when there is no such sample.
    pub fn value(&self, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let samples = self.samples(metric, labels);
        assert!(
            samples.len() <= 1,
            "{metric}{labels:?} matches {} samples",
            samples.len()
        );
        samples.first().map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets
                .iter()
                .find(|b| b.less_than.is_infinite())
                .map_or(0.0, |b| b.count),
            Value::Summary(_) => panic!("{metric} is a summary"),
        })
    }

    /// Like [`Metrics::value`], 0 when absent (a counter or histogram not observed yet).
    pub fn count(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(metric, labels).unwrap_or(0.0)
    }

    /// Every metric name a query may use: sample names and family names (HELP lines), with
    /// the `_bucket`, `_sum` and `_count` series of histograms.
    pub fn names(&self) -> std::collections::BTreeSet<String> {
        let mut names: std::collections::BTreeSet<String> =
            self.scrape.docs.keys().cloned().collect();
        for line in self.text.lines() {
            if let LineInfo::Sample { metric_name, .. } = LineInfo::parse(line) {
                names.insert(metric_name.to_owned());
            }
            if let Some(rest) = line.strip_prefix("# TYPE ")
                && let Some((name, "histogram")) = rest.split_once(' ')
            {
                for suffix in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{suffix}"));
                }
            }
        }
        names
    }
}

/// GETs and parses `/metrics` (panics on a non-200 answer).
pub async fn scrape(server: &TestServer) -> Metrics {
    let (code, head, body) = http_get_with(server.addr(), "/metrics", &[])
        .await
        .expect("GET /metrics");
    assert_eq!(code, 200, "{head}\n{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    Metrics::parse(body)
}

/// Runs `corvo <args> --server <server>` and returns its output (panics if it cannot run).
pub async fn corvo_cli(server: &TestServer, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(corvo_bin());
    cmd.args(args).args(["--server", &server.url()]);
    within(&format!("corvo {}", args.join(" ")), cmd.output())
        .await
        .expect("running corvo")
}

/// The directory of the pinned third-party clients (grpc-health-probe, grpcurl), installed by
/// `tests/tools.sh` when missing (idempotent; needs Go the first time).
pub fn tools_bin() -> PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(root.join("tools.sh"))
        .output()
        .expect("running tests/tools.sh");
    assert!(
        out.status.success(),
        "tests/tools.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}
