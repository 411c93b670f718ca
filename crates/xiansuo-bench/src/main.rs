//! `xiansuo-bench`: measures a running Xiansuo server over HTTP; it never starts one (see
//! docs/BENCHMARKS.md for how to prepare a server and its data).
//!
//! - `ingest` creates leads through `POST /api/v1/leads` from N concurrent clients and reports
//!   leads/s, latency percentiles and the number of failed requests.
//! - `read` measures a filtered, sorted list page, the page after it (via `next_cursor`) and
//!   searches by a Chinese name, a phone fragment and a company fragment, each separately.
//!
//! - `csv` writes an import file of N leads (Chinese headers, the same leads as `ingest`) for
//!   measuring `xiansuo import leads`.
//!
//! It bounds itself (a fixed number of requests, a timeout on each) and refuses any URL that
//! is not on this machine, so that it can never load someone else's server.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Parser)]
#[command(
    name = "xiansuo-bench",
    about = "Measures a running Xiansuo server over HTTP"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create leads through POST /api/v1/leads and report leads/s and latency.
    Ingest {
        #[command(flatten)]
        server: Server,
        /// How many leads to create in all.
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        leads: u64,
    },
    /// Measure list pages and searches, each reported separately.
    Read {
        #[command(flatten)]
        server: Server,
        /// Requests per measured query.
        #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        requests: u64,
    },
    /// Write N leads as a CSV import file with Chinese headers.
    Csv {
        /// How many rows to write.
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
        rows: u64,
        /// The file to write.
        #[arg(long)]
        output: std::path::PathBuf,
        /// Add a 国家 (country) column: one row in ten is then a lead abroad, its phone written
        /// as that country writes it (with an extension now and then), as in an export of a
        /// team that sells worldwide.
        #[arg(long)]
        countries: bool,
    },
}

#[derive(Args)]
struct Server {
    /// The server's base URL; only loopback addresses are accepted.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An API token (`xiansuo token create --username NAME`).
    #[arg(long, env = "XIANSUO_TOKEN", hide_env_values = true)]
    token: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    clients: u64,
    /// Timeout of each request, in milliseconds.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    timeout_ms: u64,
}

/// A connection to the server under test; cheap to clone (the client is shared).
#[derive(Clone)]
struct Target {
    client: Client,
    base: String,
    token: String,
}

impl Target {
    fn new(server: &Server) -> anyhow::Result<Self> {
        let client = Client::builder()
            .timeout(Duration::from_millis(server.timeout_ms))
            .pool_max_idle_per_host(server.clients as usize)
            // A redirect or a proxy would take requests off this machine.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(Self {
            client,
            base: loopback_base(&server.url)?,
            token: server.token.clone(),
        })
    }

    fn leads(&self) -> String {
        format!("{}/api/v1/leads", self.base)
    }

    /// Sends a request and reads the whole body (the time to the last byte is what a user
    /// waits for); a non-2xx status is an error carrying the start of the body.
    async fn send(&self, request: RequestBuilder) -> anyhow::Result<String> {
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
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if parsed.scheme() != "http" || !loopback {
        bail!("--url must be http:// on a loopback address (127.0.0.1, [::1] or localhost), not '{url}'");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Latencies of the successful requests, and the failures.
#[derive(Default)]
struct Sample {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

impl Sample {
    fn merge(&mut self, other: Sample) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// p50, p95, p99 and max, formatted.
    fn percentiles(&mut self) -> String {
        self.latencies.sort_unstable();
        let at = |p: f64| percentile(&self.latencies, p);
        format!(
            "p50 {}  p95 {}  p99 {}  max {}",
            ms(at(50.0)),
            ms(at(95.0)),
            ms(at(99.0)),
            ms(at(100.0))
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

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Makes `total` requests from `clients` concurrent tasks, each taking the next request number
/// when its previous request is answered (a closed loop, as real clients behave).
async fn run<F, Fut>(clients: u64, total: u64, request: F) -> anyhow::Result<Sample>
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
                    if i >= total {
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

/// Bench phones use prefixes the demo data does not, and 3 × 10⁸ numbers in all.
const PHONE_PREFIXES: [&str; 3] = ["166", "173", "177"];
const PHONE_SPACE: u64 = 300_000_000;

/// splitmix64: spreads consecutive `n` over the whole range, so the parts of a bench lead vary
/// independently of each other.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The `n`-th bench lead. Phone and email derive from `n`, so leads of one run never collide,
/// and runs start at a random `n`, so they rarely collide with earlier runs. Names and companies
/// repeat as they do in life: about 50,000 names (30 surnames, given names of one or two
/// characters) and 48,000 companies, so the same name at the same company (a likely duplicate,
/// skipped or flagged by dedup) comes about once in 1,000 leads.
fn lead_body(n: u64) -> Value {
    const SURNAMES: [&str; 30] = [
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
        "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    ];
    const GIVEN: [&str; 40] = [
        "伟", "芳", "秀", "英", "敏", "晓", "明", "强", "海", "燕", "磊", "静", "丽", "军", "勇",
        "杰", "娟", "涛", "超", "霞", "平", "刚", "桂", "兰", "华", "建", "国", "红", "玉", "文",
        "斌", "宇", "浩", "婷", "鑫", "欣", "颖", "琳", "志", "峰",
    ];
    const CITIES: [&str; 6] = ["上海", "北京", "深圳", "杭州", "成都", "广州"];
    const BRAND: [&str; 40] = [
        "恒", "远", "华", "信", "博", "通", "天", "成", "鼎", "盛", "瑞", "丰", "启", "明", "金",
        "石", "宏", "图", "海", "纳", "东", "方", "星", "辰", "蓝", "创", "智", "联", "中", "科",
        "新", "源", "泰", "和", "嘉", "润", "安", "达", "佳", "德",
    ];
    const TRADES: [&str; 5] = ["信息科技", "网络技术", "贸易", "制造", "物流"];
    const TITLES: [&str; 5] = ["总经理", "采购经理", "IT总监", "销售总监", "市场经理"];
    let n = n % PHONE_SPACE;
    let digits = n % 100_000_000;
    let nth = |len: usize, salt: u64| (mix(n ^ (salt << 40)) % len as u64) as usize;
    let given = if nth(3, 2) == 0 {
        GIVEN[nth(40, 3)].to_owned()
    } else {
        format!("{}{}", GIVEN[nth(40, 3)], GIVEN[nth(40, 4)])
    };
    json!({
        "name": format!("{}{given}", SURNAMES[nth(30, 1)]),
        "company": format!(
            "{}{}{}{}有限公司",
            CITIES[nth(6, 5)],
            BRAND[nth(40, 6)],
            BRAND[nth(40, 7)],
            TRADES[nth(5, 8)]
        ),
        "title": TITLES[nth(5, 9)],
        "phone": format!(
            "{} {:04} {:04}",
            PHONE_PREFIXES[(n / 100_000_000) as usize],
            digits / 10_000,
            digits % 10_000
        ),
        "email": format!("bench{n}@example.com"),
        "source": "api",
    })
}

async fn ingest(target: Target, clients: u64, leads: u64) -> anyhow::Result<()> {
    let start = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64 % PHONE_SPACE;
    let started = Instant::now();
    let mut sample = run(clients, leads, move |i| {
        let target = target.clone();
        async move {
            let request = target
                .client
                .post(target.leads())
                .json(&lead_body(start + i));
            target.send(request).await
        }
    })
    .await?;
    let elapsed = started.elapsed().as_secs_f64();
    let created = sample.latencies.len();
    println!(
        "ingest: {created} leads created by {clients} clients in {elapsed:.2} s: {:.0} leads/s",
        created as f64 / elapsed
    );
    println!("latency: {}", sample.percentiles());
    println!("errors (non-2xx or no answer): {}", sample.errors);
    if let Some(e) = sample.first_error {
        println!("first error: {e}");
    }
    Ok(())
}

async fn read(target: Target, clients: u64, requests: u64) -> anyhow::Result<()> {
    let list = [
        ("status", "working"),
        ("sort", "-created_at"),
        ("limit", "50"),
    ];
    let first_page = target
        .send(target.client.get(target.leads()).query(&list))
        .await
        .context("fetching the first list page")?;
    let cursor = serde_json::from_str::<Value>(&first_page)?["next_cursor"]
        .as_str()
        .map(str::to_owned);
    let mut queries: Vec<(&str, Vec<(&str, String)>)> = vec![(
        "list status=working sort=-created_at limit=50",
        list.iter().map(|&(k, v)| (k, v.to_owned())).collect(),
    )];
    match cursor {
        Some(cursor) => {
            let mut page_two: Vec<_> = list.iter().map(|&(k, v)| (k, v.to_owned())).collect();
            page_two.push(("cursor", cursor));
            queries.push(("list, second page (next_cursor)", page_two));
        }
        None => println!("no next_cursor on the first list page: the second page is not measured"),
    }
    queries.push(("search 2-character name q=张伟", vec![("q", "张伟".into())]));
    queries.push((
        "search phone fragment q=1380013",
        vec![("q", "1380013".into())],
    ));
    queries.push(("search company fragment q=恒远", vec![("q", "恒远".into())]));

    println!("read: {requests} requests per query from {clients} clients");
    for (label, query) in queries {
        let probe = target
            .send(target.client.get(target.leads()).query(&query))
            .await
            .with_context(|| format!("{label}: first request"))?;
        let items = serde_json::from_str::<Value>(&probe)?["items"]
            .as_array()
            .map_or(0, Vec::len);
        let query = Arc::new(query);
        let target = target.clone();
        let mut sample = run(clients, requests, move |_| {
            let (target, query) = (target.clone(), query.clone());
            async move {
                let request = target.client.get(target.leads()).query(&*query);
                target.send(request).await
            }
        })
        .await?;
        println!(
            "{}  errors {}  items {items}  {label}",
            sample.percentiles(),
            sample.errors
        );
        if let Some(e) = sample.first_error {
            println!("  first error: {e}");
        }
    }
    Ok(())
}

/// The import file's columns: a header as Chinese users write it, and the lead field under it.
const CSV_COLUMNS: [(&str, &str); 6] = [
    ("姓名", "name"),
    ("手机", "phone"),
    ("公司", "company"),
    ("职位", "title"),
    ("邮箱", "email"),
    ("来源", "source"),
];

/// The countries of the rows abroad written by `xiansuo-bench csv --countries`, as exports
/// name them.
const ABROAD: [&str; 5] = [
    "United States",
    "USA",
    "Deutschland",
    "United Kingdom",
    "日本",
];

/// The `k`th phone number of the country `ABROAD[country]`, written as people there write it.
fn phone_abroad(country: usize, k: u64) -> String {
    let (area, line) = (200 + k / 10_000 % 700, k % 10_000);
    match country {
        0 => format!("({area}) 555-{line:04}"),
        1 => format!("+1 {area}-556-{line:04}"),
        2 => format!("030 {area}{line:04}"),
        3 => format!("020 7{area} {line:04}"),
        _ => format!("03-5{area}-{line:04}"),
    }
}

/// Writes `rows` bench leads (from `n` = 0, so the file is the same on every run) as CSV; with
/// `countries`, a 国家 column, and one row in ten abroad.
fn write_csv(rows: u64, output: &std::path::Path, countries: bool) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_path(output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let mut header: Vec<&str> = CSV_COLUMNS.map(|(header, _)| header).to_vec();
    if countries {
        header.push("国家");
    }
    writer.write_record(&header)?;
    for n in 0..rows {
        let lead = lead_body(n);
        let mut record: Vec<String> = CSV_COLUMNS
            .map(|(_, field)| lead[field].as_str().unwrap_or("").to_owned())
            .to_vec();
        if countries {
            if n % 10 == 9 {
                let country = (n / 10 % ABROAD.len() as u64) as usize;
                let extension = if n % 70 == 9 { " x12" } else { "" };
                record[1] = format!("{}{extension}", phone_abroad(country, n / 50));
                record.push(ABROAD[country].to_owned());
            } else {
                record.push("中国".to_owned());
            }
        }
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ingest { server, leads } => {
            ingest(Target::new(&server)?, server.clients, leads).await
        }
        Command::Read { server, requests } => {
            read(Target::new(&server)?, server.clients, requests).await
        }
        Command::Csv {
            rows,
            output,
            countries,
        } => write_csv(rows, &output, countries),
    }
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
    }

    #[test]
    fn bench_leads_have_distinct_chinese_mobiles_and_emails() {
        let start = PHONE_SPACE - 500;
        let bodies: Vec<Value> = (start..start + 1_000).map(lead_body).collect();
        let phones: std::collections::HashSet<_> =
            bodies.iter().map(|b| b["phone"].to_string()).collect();
        let emails: std::collections::HashSet<_> =
            bodies.iter().map(|b| b["email"].to_string()).collect();
        assert_eq!((phones.len(), emails.len()), (1_000, 1_000));
        for body in &bodies {
            let digits: String = body["phone"]
                .as_str()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            assert_eq!(digits.len(), 11, "{body}");
            assert!(PHONE_PREFIXES.contains(&&digits[..3]), "{body}");
            assert_eq!(body["source"], "api");
        }
    }

    #[test]
    fn the_import_file_has_chinese_headers_and_one_row_per_lead() {
        let path = std::env::temp_dir().join(format!("xiansuo-bench-{}.csv", std::process::id()));
        write_csv(3, &path, false).unwrap();
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let headers: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(headers, ["姓名", "手机", "公司", "职位", "邮箱", "来源"]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(&rows[1][0], lead_body(1)["name"].as_str().unwrap());
        assert_eq!(&rows[2][4], "bench2@example.com");
    }

    #[test]
    fn with_countries_one_row_in_ten_is_abroad_with_a_phone_of_its_own() {
        let path = std::env::temp_dir().join(format!("xiansuo-bench-w{}.csv", std::process::id()));
        write_csv(100, &path, true).unwrap();
        let mut reader = csv::Reader::from_path(&path).unwrap();
        assert_eq!(reader.headers().unwrap().get(6), Some("国家"));
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        std::fs::remove_file(&path).unwrap();
        let abroad: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[6] != "中国").collect();
        assert_eq!(abroad.len(), 10);
        assert_eq!(&abroad[0][6], "United States");
        assert_eq!(
            &abroad[0][1], "(200) 555-0000 x12",
            "now and then with an extension"
        );
        assert_eq!(&abroad[4][6], "日本");
        // The same number written two ways would be one lead: the numbers differ without
        // their extension and the United States' country code 1.
        let digits: std::collections::HashSet<String> = rows
            .iter()
            .map(|r| {
                let number = r[1].split(" x").next().unwrap_or_default();
                let digits: String = number.chars().filter(char::is_ascii_digit).collect();
                match digits.strip_prefix('1') {
                    Some(national) if digits.len() == 11 && number.starts_with("+1") => {
                        national.to_owned()
                    }
                    _ => digits,
                }
            })
            .collect();
        assert_eq!(digits.len(), 100, "every row has a phone of its own");
    }
}
