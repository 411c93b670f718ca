//! The machine's own limits, measured in the same run as a figure so that the figure can be read
//! as a share of what this machine allows right now (on a shared machine both move together):
//!
//! - an HTTP echo: a bare axum server started in this process, on its own runtime and threads
//!   as a server process would have, answering `POST /api/v1/leads` with the body it was sent,
//!   loaded by the same client, connection count and duration as the measurement;
//! - raw SQLite: one lead per transaction (a dedup probe by phone, the insert, a history row)
//!   on a temporary file with the server's settings (WAL, `synchronous=NORMAL`, its cache and
//!   memory map), into a lead table with the five indexes of the first schema;
//! - the same on PostgreSQL when a database URL is given, in a database the probe creates and
//!   drops.

use crate::leads::lead_body;
use crate::load::{is_loopback, run, Sample, Target, Until};
use crate::report::Limit;
use anyhow::{bail, Context};
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::routing::post;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, Database};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use xiansuo_store::db::{postgres_options, sqlite_options};

/// How to load the probe: like the measurement it stands beside.
pub struct Options {
    pub clients: u64,
    pub timeout_ms: u64,
    /// How long each part runs.
    pub duration: Duration,
    /// A `postgres://` URL on this machine: also measure PostgreSQL.
    pub database_url: Option<String>,
}

/// What the HTTP echo answered.
pub struct Echo {
    pub rate: f64,
    pub sample: Sample,
}

/// The limits measured.
pub struct Limits {
    pub echo: Echo,
    /// One-lead transactions per second on SQLite.
    pub sqlite: f64,
    /// The same on PostgreSQL, when asked for.
    pub postgres: Option<f64>,
}

impl Limits {
    /// The figures, one line each.
    pub fn lines(&mut self) -> Vec<String> {
        use crate::report::thousands;
        let echo = &mut self.echo;
        let mut lines = vec![format!(
            "probe, HTTP echo: {} req/s, {}, errors {}",
            thousands(echo.rate),
            echo.sample.percentiles(),
            echo.sample.errors
        )];
        if let Some(e) = &echo.sample.first_error {
            lines.push(format!("  first error: {e}"));
        }
        lines.push(format!(
            "probe, raw SQLite, one lead per transaction (dedup probe by phone, insert, history row, 5 indexes): {} tx/s",
            thousands(self.sqlite)
        ));
        if let Some(postgres) = self.postgres {
            lines.push(format!(
                "probe, raw PostgreSQL, the same: {} tx/s",
                thousands(postgres)
            ));
        }
        lines
    }

    /// The limits a write (a create through the API) is measured against.
    pub fn for_writes(&self) -> Vec<Limit> {
        let mut limits = vec![Limit {
            name: "the raw SQLite limit",
            rate: self.sqlite,
            unit: "tx/s",
        }];
        if let Some(rate) = self.postgres {
            limits.push(Limit {
                name: "the raw PostgreSQL limit",
                rate,
                unit: "tx/s",
            });
        }
        limits.extend(self.for_reads());
        limits
    }

    /// The limit any request is measured against.
    pub fn for_reads(&self) -> Vec<Limit> {
        vec![Limit {
            name: "the HTTP echo",
            rate: self.echo.rate,
            unit: "req/s",
        }]
    }
}

/// Measures every limit, one after the other.
pub async fn measure(options: &Options) -> anyhow::Result<Limits> {
    let echo = echo(options).await.context("the HTTP echo probe")?;
    let sqlite = sqlite(options.duration).await.context("the SQLite probe")?;
    let postgres = match &options.database_url {
        Some(url) => Some(
            postgres(url, options.duration)
                .await
                .context("the PostgreSQL probe")?,
        ),
        None => None,
    };
    Ok(Limits {
        echo,
        sqlite,
        postgres,
    })
}

/// Starts the echo server on a thread and runtime of its own, loads it, and stops it.
async fn echo(options: &Options) -> anyhow::Result<Echo> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let app = axum::Router::new().route(
                "/api/v1/leads",
                post(|body: Bytes| async move { ([(CONTENT_TYPE, "application/json")], body) }),
            );
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        })
    });

    let target = Target::new(
        &format!("http://{address}"),
        "probe",
        options.clients,
        options.timeout_ms,
    )?;
    let started = Instant::now();
    let loaded = run(
        options.clients,
        Until::Deadline(started + options.duration),
        move |i| {
            let target = target.clone();
            async move {
                let request = target.client.post(target.leads()).json(&lead_body(i));
                target.send(request).await
            }
        },
    )
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    // The client and its idle connections are gone with the loop, so the server stops at once.
    let _ = stop.send(());
    let served = tokio::task::spawn_blocking(move || server.join()).await?;
    match served {
        Ok(result) => result.context("the echo server")?,
        Err(_) => bail!("the echo server panicked"),
    }
    let sample = loaded?;
    Ok(Echo {
        rate: sample.latencies.len() as f64 / elapsed,
        sample,
    })
}

/// The probe's tables: a lead table shaped like the product's first one, with its five
/// indexes, a history table with its index, and the user who owns and creates the leads.
/// `{id}` is the database's auto-numbered primary key.
const SCHEMA: &str = "
CREATE TABLE users (id BIGINT PRIMARY KEY, username TEXT NOT NULL);
INSERT INTO users (id, username) VALUES (1, 'probe');
CREATE TABLE leads (
    id {id},
    name TEXT NOT NULL,
    company TEXT,
    title TEXT,
    phone TEXT,
    phone_normalized TEXT,
    email TEXT,
    email_normalized TEXT,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id),
    score BIGINT NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]',
    custom TEXT NOT NULL DEFAULT '{}',
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX leads_created_idx ON leads (created_at, id);
CREATE INDEX leads_owner_created_idx ON leads (owner_id, created_at, id);
CREATE INDEX leads_status_created_idx ON leads (status, created_at, id);
CREATE INDEX leads_phone_idx ON leads (phone_normalized);
CREATE INDEX leads_email_idx ON leads (email_normalized);
CREATE TABLE history (
    id {id},
    record_type TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    new_value TEXT,
    actor_id BIGINT,
    channel TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX history_record_idx ON history (record_type, record_id, id);
";

/// One-lead transactions per second on a temporary SQLite file with the server's settings.
async fn sqlite(duration: Duration) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    // The settings of the server's own connections.
    let options = sqlite_options(&format!(
        "sqlite://{}",
        dir.path().join("probe.db").display()
    ))?;
    let mut connection = SqliteConnection::connect_with(&options).await?;
    sqlx::raw_sql(&SCHEMA.replace("{id}", "INTEGER PRIMARY KEY"))
        .execute(&mut connection)
        .await?;
    let rate = one_lead_transactions::<sqlx::Sqlite>(&mut connection, duration).await?;
    connection.close().await?;
    Ok(rate)
}

/// One-lead transactions per second in a new database on the PostgreSQL server of `url`,
/// dropped afterwards.
async fn postgres(url: &str, duration: Duration) -> anyhow::Result<f64> {
    // The settings of the server's own connections (each execution planned with its values).
    let options = postgres_options(url)?;
    let host = options.get_host();
    if !(is_loopback(host) || host.starts_with('/')) {
        bail!("--database-url must name a PostgreSQL server on this machine, not '{host}'");
    }
    let mut admin = PgConnection::connect_with(&options)
        .await
        .context("connecting to PostgreSQL")?;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let name = format!("xiansuo_probe_{}_{nanos}", std::process::id());
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let measured = async {
        let mut connection = PgConnection::connect_with(&options.clone().database(&name)).await?;
        sqlx::raw_sql(&SCHEMA.replace("{id}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"))
            .execute(&mut connection)
            .await?;
        let rate = one_lead_transactions::<sqlx::Postgres>(&mut connection, duration).await?;
        connection.close().await?;
        anyhow::Ok(rate)
    }
    .await;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    measured
}

/// Commits one lead per transaction for `duration`: a dedup probe by normalised phone, the
/// insert, and its history row. Returns transactions per second.
async fn one_lead_transactions<DB>(
    connection: &mut DB::Connection,
    duration: Duration,
) -> anyhow::Result<f64>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let text =
        |lead: &serde_json::Value, field: &str| lead[field].as_str().unwrap_or("").to_owned();
    let started = Instant::now();
    let mut committed = 0u64;
    while started.elapsed() < duration {
        let lead = lead_body(committed);
        let phone = text(&lead, "phone");
        let normalized: String = phone.chars().filter(char::is_ascii_digit).collect();
        let normalized = format!("+86{normalized}");
        let email = text(&lead, "email");
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;

        let mut transaction = connection.begin().await?;
        let _duplicate: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM leads WHERE phone_normalized = $1 AND deleted_at IS NULL LIMIT 1",
        )
        .bind(normalized.clone())
        .fetch_optional(&mut *transaction)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO leads (name, company, title, phone, phone_normalized, email, \
             email_normalized, source, status, owner_id, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'new', 1, 1, $9, $9) RETURNING id",
        )
        .bind(text(&lead, "name"))
        .bind(text(&lead, "company"))
        .bind(text(&lead, "title"))
        .bind(phone)
        .bind(normalized)
        .bind(email.clone())
        .bind(email)
        .bind(text(&lead, "source"))
        .bind(now)
        .fetch_one(&mut *transaction)
        .await?;
        sqlx::query(
            "INSERT INTO history (record_type, record_id, action, new_value, actor_id, channel, at) \
             VALUES ('lead', $1, 'created', $2, 1, 'api', $3)",
        )
        .bind(id)
        .bind(lead.to_string())
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        committed += 1;
    }
    Ok(committed as f64 / started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(database_url: Option<String>) -> Options {
        Options {
            clients: 2,
            timeout_ms: 5_000,
            duration: Duration::from_millis(400),
            database_url,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_probe_reports_what_this_machine_answers_and_commits() {
        let mut limits = measure(&options(None)).await.unwrap();
        assert!(limits.echo.rate > 0.0, "echo answered");
        assert_eq!(
            limits.echo.sample.errors, 0,
            "{:?}",
            limits.echo.sample.first_error
        );
        assert!(limits.echo.sample.at(99.0) > Duration::ZERO);
        assert!(limits.sqlite > 0.0, "SQLite committed");
        assert_eq!(limits.postgres, None);
        let lines = limits.lines();
        assert!(lines[0].starts_with("probe, HTTP echo: "), "{lines:?}");
        assert!(lines[1].contains("tx/s"), "{lines:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgresql_the_probe_commits_in_a_database_it_drops() {
        const ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
        let Ok(mut admin) = PgConnection::connect(ADMIN).await else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("PostgreSQL at 127.0.0.1:5432 is required in CI");
            }
            eprintln!("skipping: PostgreSQL at 127.0.0.1:5432 is not reachable");
            return;
        };
        let rate = postgres(ADMIN, Duration::from_millis(400)).await.unwrap();
        assert!(rate > 0.0, "PostgreSQL committed");
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'xiansuo_probe_' || $1 || '_%'",
        )
        .bind(std::process::id().to_string())
        .fetch_one(&mut admin)
        .await
        .unwrap();
        assert_eq!(left, 0, "the probe's database is dropped");
        assert!(
            postgres("postgres://postgres@10.0.0.5:5432/postgres", Duration::ZERO)
                .await
                .is_err(),
            "only a server on this machine"
        );
    }
}
