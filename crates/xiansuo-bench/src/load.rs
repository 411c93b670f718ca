//! The load generator's client side: a loopback-only HTTP target, the closed loop of concurrent
//! clients that loads it (bounded by a request count or a deadline), and the latencies it saw.

use anyhow::{bail, Context};
use reqwest::{Client, RequestBuilder};
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A connection to the server under test; cheap to clone (the client is shared).
#[derive(Clone)]
pub struct Target {
    pub client: Client,
    base: String,
    token: String,
}

impl Target {
    /// A client for `url` (loopback only) as `clients` concurrent connections would use it.
    pub fn new(url: &str, token: &str, clients: u64, timeout_ms: u64) -> anyhow::Result<Self> {
        let client = Client::builder()
            .timeout(Duration::from_millis(timeout_ms))
            .pool_max_idle_per_host(clients as usize)
            // A redirect or a proxy would take requests off this machine.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(Self {
            client,
            base: loopback_base(url)?,
            token: token.to_owned(),
        })
    }

    pub fn leads(&self) -> String {
        format!("{}/api/v1/leads", self.base)
    }

    /// Sends a request and reads the whole body (the time to the last byte is what a user
    /// waits for); a non-2xx status is an error carrying the start of the body.
    pub async fn send(&self, request: RequestBuilder) -> anyhow::Result<String> {
        let response = request.bearer_auth(&self.token).send().await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            bail!("{status}: {}", body.chars().take(300).collect::<String>());
        }
        Ok(body)
    }
}

/// The URL without a trailing slash, if it is plain HTTP to this machine.
fn loopback_base(url: &str) -> anyhow::Result<String> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("'{url}' is not a URL"))?;
    if parsed.scheme() != "http" || !is_loopback(parsed.host_str().unwrap_or_default()) {
        bail!("--url must be http:// on a loopback address (127.0.0.1, [::1] or localhost), not '{url}'");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Whether a host name is this machine: `localhost` or a loopback address.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Latencies of the successful requests, and the failures.
#[derive(Default)]
pub struct Sample {
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Sample {
    fn merge(&mut self, other: Sample) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// The nearest-rank percentile `p` (0–100) of the latencies.
    pub fn at(&mut self, p: f64) -> Duration {
        self.latencies.sort_unstable();
        percentile(&self.latencies, p)
    }

    /// p50, p95, p99 and max, formatted.
    pub fn percentiles(&mut self) -> String {
        format!(
            "p50 {}  p95 {}  p99 {}  max {}",
            ms(self.at(50.0)),
            ms(self.at(95.0)),
            ms(self.at(99.0)),
            ms(self.at(100.0))
        )
    }
}

/// The nearest-rank percentile of sorted latencies.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len().max(1)) - 1)
        .copied()
        .unwrap_or_default()
}

/// A duration in milliseconds, to the hundredth.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// When a closed loop stops taking new requests.
#[derive(Clone, Copy)]
pub enum Until {
    /// After this many requests in all.
    Count(u64),
    /// Once this instant has passed (requests under way are still answered).
    Deadline(Instant),
}

impl Until {
    fn reached(self, sent: u64) -> bool {
        match self {
            Until::Count(total) => sent >= total,
            Until::Deadline(at) => Instant::now() >= at,
        }
    }
}

/// Makes requests from `clients` concurrent tasks, each taking the next request number when its
/// previous request is answered (a closed loop, as real clients behave), until `until`.
pub async fn run<F, Fut>(clients: u64, until: Until, request: F) -> anyhow::Result<Sample>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<String>> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let request = Arc::new(request);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (next, request) = (next.clone(), request.clone());
            tokio::spawn(async move {
                let mut sample = Sample::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if until.reached(i) {
                        return sample;
                    }
                    let started = Instant::now();
                    match request(i).await {
                        Ok(_) => sample.latencies.push(started.elapsed()),
                        Err(e) => {
                            sample.errors += 1;
                            sample.first_error.get_or_insert(format!("{e:#}"));
                        }
                    }
                }
            })
        })
        .collect();
    let mut all = Sample::default();
    for task in tasks {
        all.merge(task.await?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        for url in [
            "http://127.0.0.1:8080/",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert!(loopback_base(url).is_ok(), "{url}");
        }
        assert_eq!(
            loopback_base("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        for url in [
            "http://10.0.0.5:8080",
            "http://example.com",
            "https://127.0.0.1",
            "127.0.0.1:8080",
        ] {
            assert!(loopback_base(url).is_err(), "{url}");
        }
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 99.0), Duration::ZERO);
        let mut sample = Sample {
            latencies: (1..=1000).rev().map(Duration::from_micros).collect(),
            ..Sample::default()
        };
        assert_eq!(sample.at(99.0), Duration::from_micros(990), "sorted first");
        assert_eq!(sample.at(50.0), Duration::from_micros(500));
        assert_eq!(
            sample.percentiles(),
            "p50 0.50 ms  p95 0.95 ms  p99 0.99 ms  max 1.00 ms"
        );
    }

    #[test]
    fn a_count_stops_at_its_total_and_a_deadline_once_passed() {
        assert!(!Until::Count(3).reached(2));
        assert!(Until::Count(3).reached(3));
        assert!(Until::Deadline(Instant::now()).reached(0));
        assert!(!Until::Deadline(Instant::now() + Duration::from_secs(60)).reached(1_000_000));
    }
}
