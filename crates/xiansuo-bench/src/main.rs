//! `xiansuo-bench`: measures a running Xiansuo server over HTTP; it never starts one (see
//! docs/BENCHMARKS.md for how to prepare a server and its data).
//!
//! - `ingest` creates leads through `POST /api/v1/leads` from N concurrent clients and reports
//!   leads/s, latency percentiles and the number of failed requests.
//! - `read` measures a filtered, sorted list page, the page after it (via `next_cursor`) and
//!   searches by a Chinese name, a phone fragment and a company fragment, each separately.
//! - `probe` measures this machine's limits (an HTTP echo, raw SQLite and, if asked, raw
//!   PostgreSQL commits of one lead per transaction); `ingest` and `read` run it too, right
//!   after their own measurement, and print their figures as shares of those limits, with the
//!   machine's cores, CPU, load average and the date (unless `--no-probe`).
//!
//! - `csv` writes an import file of N leads (Chinese headers, the same leads as `ingest`) for
//!   measuring `xiansuo import leads`.
//!
//! It bounds itself (a fixed number of requests or seconds, a timeout on each) and refuses any
//! URL that is not on this machine, so that it can never load someone else's server.

mod leads;
mod load;
mod probe;
mod report;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use leads::{lead_body, PHONE_SPACE};
use load::{ms, run, Target, Until};
use report::{beside, Machine};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Parser)]
#[command(
    name = "xiansuo-bench",
    about = "Measures a running Xiansuo server over HTTP, beside this machine's limits"
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
        #[command(flatten)]
        probe: ProbeArgs,
    },
    /// Measure list pages and searches, each reported separately.
    Read {
        #[command(flatten)]
        server: Server,
        /// Requests per measured query.
        #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        requests: u64,
        #[command(flatten)]
        probe: ProbeArgs,
    },
    /// Measure this machine's limits: a bare HTTP echo server in this process, and one lead
    /// per transaction on raw SQLite (and PostgreSQL with --database-url).
    Probe {
        #[command(flatten)]
        load: Load,
        /// How long each part runs, in seconds.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
        seconds: u64,
        /// Also measure PostgreSQL on this machine (`postgres://…`); the probe creates a
        /// database of its own and drops it.
        #[arg(long)]
        database_url: Option<String>,
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
    #[command(flatten)]
    load: Load,
}

/// How hard the clients load a server.
#[derive(Args)]
struct Load {
    /// Concurrent clients (connections).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    clients: u64,
    /// Timeout of each request, in milliseconds.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    timeout_ms: u64,
}

/// The probe that runs after a measurement.
#[derive(Args)]
struct ProbeArgs {
    /// Do not measure this machine's limits after the measurement.
    #[arg(long)]
    no_probe: bool,
    /// Also measure PostgreSQL's limit on this machine (`postgres://…`, the server's own
    /// database URL will do: the probe creates a database of its own and drops it).
    #[arg(long)]
    database_url: Option<String>,
}

impl ProbeArgs {
    /// Runs the probe as loaded as the measurement, for as long as it took (1 s to 60 s), and
    /// prints its figures; `None` with `--no-probe`.
    async fn run(&self, load: &Load, took: Duration) -> anyhow::Result<Option<probe::Limits>> {
        if self.no_probe {
            return Ok(None);
        }
        let options = probe::Options {
            clients: load.clients,
            timeout_ms: load.timeout_ms,
            duration: took.clamp(Duration::from_secs(1), Duration::from_secs(60)),
            database_url: self.database_url.clone(),
        };
        println!(
            "probing this machine's limits, {} clients, {:.1} s each …",
            options.clients,
            options.duration.as_secs_f64()
        );
        let mut limits = probe::measure(&options).await?;
        for line in limits.lines() {
            println!("{line}");
        }
        Ok(Some(limits))
    }
}

async fn ingest(server: &Server, leads: u64, probe: &ProbeArgs) -> anyhow::Result<()> {
    let Load { clients, .. } = server.load;
    let target = Target::new(&server.url, &server.token, clients, server.load.timeout_ms)?;
    println!("{}", Machine::now().line());
    let start = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64 % PHONE_SPACE;
    let started = Instant::now();
    let mut sample = run(clients, Until::Count(leads), move |i| {
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
    let took = started.elapsed();
    let created = sample.latencies.len();
    let rate = created as f64 / took.as_secs_f64();
    println!(
        "ingest: {created} leads created by {clients} clients in {:.2} s: {rate:.0} leads/s",
        took.as_secs_f64()
    );
    println!("latency: {}", sample.percentiles());
    println!("errors (non-2xx or no answer): {}", sample.errors);
    if let Some(e) = &sample.first_error {
        println!("first error: {e}");
    }
    if let Some(mut limits) = probe.run(&server.load, took).await? {
        println!(
            "{}",
            beside("ingest", rate, "leads/s", &limits.for_writes())
        );
        println!(
            "ingest p99 {} against the HTTP echo's p99 {}",
            ms(sample.at(99.0)),
            ms(limits.echo.sample.at(99.0))
        );
    }
    Ok(())
}

async fn read(server: &Server, requests: u64, probe: &ProbeArgs) -> anyhow::Result<()> {
    let Load { clients, .. } = server.load;
    let target = Target::new(&server.url, &server.token, clients, server.load.timeout_ms)?;
    println!("{}", Machine::now().line());
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
    let mut measured = Vec::new();
    let mut took = Duration::ZERO;
    for (label, query) in queries {
        let first = target
            .send(target.client.get(target.leads()).query(&query))
            .await
            .with_context(|| format!("{label}: first request"))?;
        let items = serde_json::from_str::<Value>(&first)?["items"]
            .as_array()
            .map_or(0, Vec::len);
        let query = Arc::new(query);
        let target = target.clone();
        let started = Instant::now();
        let mut sample = run(clients, Until::Count(requests), move |_| {
            let (target, query) = (target.clone(), query.clone());
            async move {
                let request = target.client.get(target.leads()).query(&*query);
                target.send(request).await
            }
        })
        .await?;
        let elapsed = started.elapsed();
        took += elapsed;
        let rate = sample.latencies.len() as f64 / elapsed.as_secs_f64();
        println!(
            "{}  {rate:.0} req/s  errors {}  items {items}  {label}",
            sample.percentiles(),
            sample.errors
        );
        if let Some(e) = &sample.first_error {
            println!("  first error: {e}");
        }
        measured.push((label, rate, sample.at(99.0)));
    }
    let per_query = took / measured.len().max(1) as u32;
    if let Some(mut limits) = probe.run(&server.load, per_query).await? {
        let echo_p99 = ms(limits.echo.sample.at(99.0));
        for (label, rate, p99) in measured {
            println!(
                "{}; p99 {} against the echo's {echo_p99}",
                beside(label, rate, "req/s", &limits.for_reads()),
                ms(p99)
            );
        }
    }
    Ok(())
}

async fn probe_only(load: &Load, seconds: u64, database_url: Option<String>) -> anyhow::Result<()> {
    println!("{}", Machine::now().line());
    let args = ProbeArgs {
        no_probe: false,
        database_url,
    };
    args.run(load, Duration::from_secs(seconds)).await?;
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
        Command::Ingest {
            server,
            leads,
            probe,
        } => ingest(&server, leads, &probe).await,
        Command::Read {
            server,
            requests,
            probe,
        } => read(&server, requests, &probe).await,
        Command::Probe {
            load,
            seconds,
            database_url,
        } => probe_only(&load, seconds, database_url).await,
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
