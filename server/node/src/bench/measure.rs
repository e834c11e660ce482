//! What the scenarios measure with: latency histograms, the server's CPU time, the tally of
//! errors the compatibility scenarios count instead of failing on, and the probes that time a
//! job from its enqueue to the worker that receives it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corvo_sdk::proto as pb;
use hdrhistogram::Histogram;

/// How long reading the server's `/metrics` may take before the CPU figure is left out.
const METRICS_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest latency a histogram holds (60 s, in µs); longer ones are recorded as 60 s.
const LATENCY_US_MAX: u64 = 60_000_000;

/// What one run of a scenario did. One op is one job in every scenario.
pub(super) struct RunResult {
    /// Jobs moved (enqueued, or leased and acked): what ops/s counts.
    pub ops: u64,
    pub elapsed: Duration,
    pub latency: Histogram<u64>,
    /// Jobs the run meant to move and did not (the compatibility scenarios and `e2e` count
    /// these; the others fail on the first error).
    pub errors: u64,
    /// Frames answered with `error` set.
    pub error_frames: u64,
    /// Streams that failed to open or broke.
    pub failed_streams: u64,
    /// Legacy fetches answered without a job.
    pub empty_fetches: u64,
    pub first_error: Option<String>,
    /// The server's CPU seconds spent on the run's untimed set-up (pre-enqueue), when read.
    pub setup_cpu_s: Option<f64>,
}

impl RunResult {
    pub fn new(ops: u64, elapsed: Duration, latency: Histogram<u64>) -> RunResult {
        RunResult {
            ops,
            elapsed,
            latency,
            errors: 0,
            error_frames: 0,
            failed_streams: 0,
            empty_fetches: 0,
            first_error: None,
            setup_cpu_s: None,
        }
    }
}

pub(super) fn histogram() -> Histogram<u64> {
    // 1 µs .. 60 s at 3 significant digits: bounded memory whatever the run length.
    Histogram::new_with_bounds(1, LATENCY_US_MAX, 3)
        .unwrap_or_else(|_| Histogram::new(3).expect("histogram"))
}

pub(super) fn record(h: &mut Histogram<u64>, d: Duration) {
    let _ = h.record((d.as_micros() as u64).clamp(1, LATENCY_US_MAX));
}

/// `total` split over `parts` as evenly as whole jobs allow: part `i`'s share.
pub(super) fn share(total: u64, parts: usize, i: usize) -> u64 {
    let parts = parts.max(1) as u64;
    total / parts + u64::from((i as u64) < total % parts)
}

/// The server's `process_cpu_seconds_total`, from `/metrics` on its address; `None` when it
/// cannot be read (TLS, another host's firewall, a server without the process metrics).
pub(super) async fn server_cpu_seconds(server: &str) -> Option<f64> {
    server_metric(server, "process_cpu_seconds_total").await
}

/// The server's resident memory (`process_resident_memory_bytes`), as for the CPU figure.
pub(super) async fn server_rss_bytes(server: &str) -> Option<f64> {
    server_metric(server, "process_resident_memory_bytes").await
}

/// Samples the server's resident memory every [`RSS_SAMPLE_INTERVAL`] until dropped, keeping
/// the largest value seen.
pub(super) struct RssSampler {
    server: String,
    max: Arc<Mutex<Option<f64>>>,
    task: tokio::task::JoinHandle<()>,
}

/// How often [`RssSampler`] reads the server's `/metrics`.
pub(super) const RSS_SAMPLE_INTERVAL: Duration = Duration::from_millis(250);

impl RssSampler {
    pub(super) fn start(server: &str) -> RssSampler {
        let max = Arc::new(Mutex::new(None::<f64>));
        let url = server.to_owned();
        let (server, seen) = (url.clone(), max.clone());
        let task = tokio::spawn(async move {
            loop {
                if let Some(rss) = server_rss_bytes(&server).await {
                    let mut m = seen.lock().unwrap_or_else(|p| p.into_inner());
                    *m = Some(m.map_or(rss, |m: f64| m.max(rss)));
                }
                tokio::time::sleep(RSS_SAMPLE_INTERVAL).await;
            }
        });
        RssSampler {
            server: url,
            max,
            task,
        }
    }

    /// Stops sampling after one last sample; the largest resident memory seen, bytes
    /// (`None`: `/metrics` not reachable).
    pub(super) async fn stop(self) -> Option<f64> {
        self.task.abort();
        let last = server_rss_bytes(&self.server).await;
        let seen = *self.max.lock().unwrap_or_else(|p| p.into_inner());
        match (seen, last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One unlabelled sample of the server's `/metrics` on its address; `None` when it is not
/// reachable over plain HTTP or lacks the metric.
async fn server_metric(server: &str, name: &str) -> Option<f64> {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let uri: http::Uri = format!("{}/metrics", server.trim_end_matches('/'))
        .parse()
        .ok()?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    let read = async {
        let response = client.get(uri).await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response
            .into_body()
            .collect()
            .await
            .ok()
            .map(|b| b.to_bytes())
    };
    let body = tokio::time::timeout(METRICS_READ_TIMEOUT, read)
        .await
        .ok()??;
    std::str::from_utf8(&body).ok()?.lines().find_map(|line| {
        line.strip_prefix(name)?
            .strip_prefix(' ')
            .and_then(|v| v.trim().parse().ok())
    })
}

/// The errors of a run that counts them instead of failing: shared by its streams.
#[derive(Default)]
pub(super) struct ErrorTally {
    /// Jobs not moved (items refused, frames refused whole, streams that failed).
    failed: AtomicU64,
    error_frames: AtomicU64,
    failed_streams: AtomicU64,
    empty_fetches: AtomicU64,
    first: Mutex<Option<String>>,
}

impl ErrorTally {
    /// `jobs` were not moved because of `why`.
    pub fn failed(&self, jobs: u64, why: &str) {
        self.failed.fetch_add(jobs, Ordering::Relaxed);
        self.note(why);
    }

    /// A frame was answered with `error` set (its items are counted by [`Self::failed`]).
    pub fn error_frame(&self, error: &str) {
        self.error_frames.fetch_add(1, Ordering::Relaxed);
        self.note(error);
    }

    /// A stream failed to open or broke (what it had not done is counted by the caller).
    pub fn stream_failed(&self, why: &str) {
        self.failed_streams.fetch_add(1, Ordering::Relaxed);
        self.note(why);
    }

    pub fn empty_fetch(&self) {
        self.empty_fetches.fetch_add(1, Ordering::Relaxed);
    }

    fn note(&self, why: &str) {
        let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() && !why.is_empty() {
            *first = Some(why.to_owned());
        }
    }

    pub fn failed_jobs(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Copies the frame counts and the first error into `r` (its `errors` are the caller's).
    pub fn fill(&self, r: &mut RunResult) {
        r.error_frames = self.error_frames.load(Ordering::Relaxed);
        r.failed_streams = self.failed_streams.load(Ordering::Relaxed);
        r.empty_fetches = self.empty_fetches.load(Ordering::Relaxed);
        r.first_error = self.first.lock().unwrap_or_else(|p| p.into_inner()).clone();
    }
}

/// A payload of about `bytes` bytes that carries its sequence number first, so a worker can
/// tell which enqueue a job came from before the enqueue has answered.
pub(super) fn sequenced_payload(seq: u64, filler: &str) -> String {
    format!("{{\"seq\":{seq},\"data\":\"{filler}\"}}")
}

/// The filler that makes [`sequenced_payload`] about `bytes` long.
pub(super) fn payload_filler(bytes: usize) -> String {
    "x".repeat(bytes.saturating_sub(24))
}

/// The sequence number of a [`sequenced_payload`]; `None` for any other document.
fn payload_seq(payload: &str) -> Option<u64> {
    const KEY: &str = "\"seq\":";
    let at = payload.find(KEY)? + KEY.len();
    let digits = &payload[at..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// Times jobs between the producer of a paced scenario and the workers that receive them.
pub(super) trait Probe: Send + Sync {
    /// Enqueue number `seq` is being sent.
    fn enqueue_started(&self, _seq: u64, _at: Instant) {}
    /// An enqueue answered with `job_id` (the job is ready).
    fn enqueue_answered(&self, _job_id: String, _at: Instant) {}
    /// A worker received `job`.
    fn received(&self, job: &pb::FetchBatchJob, at: Instant);
    fn histogram(&self) -> Histogram<u64>;
    /// Receipts that matched no enqueue (0 unless a job is delivered twice or altered).
    fn unmatched(&self) -> u64 {
        0
    }
}

/// Ready → delivered, per job: the producer stamps when the enqueue answered (the job is
/// ready), the worker when it received the job; whichever comes second records the latency
/// (0 when the job arrived before the enqueue's answer, as piggybacked jobs can).
#[derive(Default)]
pub(super) struct DeliveryClock {
    stamps: Mutex<(HashMap<String, Instant>, HashMap<String, Instant>)>,
    latency: Mutex<Option<Histogram<u64>>>,
}

impl DeliveryClock {
    fn record(&self, d: Duration) {
        let mut h = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        record(h.get_or_insert_with(histogram), d);
    }
}

impl Probe for DeliveryClock {
    fn enqueue_answered(&self, id: String, at: Instant) {
        let mut s = self.stamps.lock().unwrap_or_else(|p| p.into_inner());
        match s.1.remove(&id) {
            Some(_received) => self.record(Duration::ZERO),
            None => {
                s.0.insert(id, at);
            }
        }
    }

    fn received(&self, job: &pb::FetchBatchJob, at: Instant) {
        let mut s = self.stamps.lock().unwrap_or_else(|p| p.into_inner());
        match s.0.remove(&job.job_id) {
            Some(ready) => self.record(at.saturating_duration_since(ready)),
            None => {
                s.1.insert(job.job_id.clone(), at);
            }
        }
    }

    fn histogram(&self) -> Histogram<u64> {
        self.latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_else(histogram)
    }
}

/// Enqueue sent → delivered, per job, matched by the sequence number in the payload: the
/// producer stamps the moment it starts the call, the worker's receipt records the latency.
pub(super) struct EnqueueClock {
    base: Instant,
    /// Per sequence number: nanoseconds since `base` plus one when its enqueue started, 0
    /// before that and after its receipt was recorded.
    started: Vec<AtomicU64>,
    latency: Mutex<Histogram<u64>>,
    unmatched: AtomicU64,
}

impl EnqueueClock {
    pub fn new(jobs: u64) -> EnqueueClock {
        EnqueueClock {
            base: corvo_clock::monotonic(),
            started: (0..jobs).map(|_| AtomicU64::new(0)).collect(),
            latency: Mutex::new(histogram()),
            unmatched: AtomicU64::new(0),
        }
    }
}

impl Probe for EnqueueClock {
    fn enqueue_started(&self, seq: u64, at: Instant) {
        if let Some(slot) = usize::try_from(seq).ok().and_then(|i| self.started.get(i)) {
            let ns = at.saturating_duration_since(self.base).as_nanos() as u64;
            slot.store(ns.saturating_add(1), Ordering::Release);
        }
    }

    fn received(&self, job: &pb::FetchBatchJob, at: Instant) {
        let slot = payload_seq(&job.payload_json)
            .and_then(|s| usize::try_from(s).ok())
            .and_then(|i| self.started.get(i));
        // Taking the stamp (swap to 0) makes a second receipt of the same job unmatched.
        match slot.map(|s| s.swap(0, Ordering::AcqRel)) {
            Some(ns) if ns > 0 => {
                let sent = self.base + Duration::from_nanos(ns - 1);
                let mut h = self.latency.lock().unwrap_or_else(|p| p.into_inner());
                record(&mut h, at.saturating_duration_since(sent));
            }
            _ => {
                self.unmatched.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn histogram(&self) -> Histogram<u64> {
        std::mem::replace(
            &mut *self.latency.lock().unwrap_or_else(|p| p.into_inner()),
            histogram(),
        )
    }

    fn unmatched(&self) -> u64 {
        self.unmatched.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_total_and_differ_by_at_most_one() {
        for (total, parts) in [(0, 3), (7, 3), (200, 8), (5, 200), (100_000, 7)] {
            let s: Vec<u64> = (0..parts).map(|i| share(total, parts, i)).collect();
            assert_eq!(s.iter().sum::<u64>(), total);
            assert!(s.iter().max().unwrap() - s.iter().min().unwrap() <= 1);
        }
    }

    #[test]
    fn a_sequenced_payload_gives_back_its_number_and_is_about_the_asked_size() {
        let filler = payload_filler(1024);
        let p = sequenced_payload(123_456, &filler);
        assert_eq!(payload_seq(&p), Some(123_456));
        assert!((1000..=1040).contains(&p.len()), "{}", p.len());
        let _: serde_json::Value = serde_json::from_str(&p).expect("valid JSON");
        assert_eq!(payload_seq("{\"data\":\"x\"}"), None);
        assert_eq!(payload_seq("{\"seq\":}"), None);
    }

    #[test]
    fn an_enqueue_clock_matches_each_job_once() {
        let clock = EnqueueClock::new(2);
        let job = |seq| pb::FetchBatchJob {
            payload_json: sequenced_payload(seq, "x"),
            ..Default::default()
        };
        let t = corvo_clock::monotonic();
        clock.enqueue_started(0, t);
        clock.received(&job(0), t + Duration::from_millis(3));
        clock.received(&job(0), t + Duration::from_millis(4)); // delivered twice
        clock.received(&job(1), t); // never started
        clock.received(&job(9), t); // out of range
        assert_eq!(clock.unmatched(), 3);
        let h = clock.histogram();
        assert_eq!(h.len(), 1);
        assert!((2_990..=3_010).contains(&h.max()), "{}", h.max());
    }
}
