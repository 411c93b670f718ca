//! The `xiansuo` binary: `serve` runs the web application; `user`, `token`, `migrate`, `demo`,
//! `import`, `export`, `predict`, `backup` and `restore` manage the database it runs on. Every command takes the same `--data-dir` /
//! `--database-url` (or `XIANSUO_DATABASE_URL`) and optional `--config FILE`.

mod backup_cli;
mod config;
mod demo;
mod export_cli;
mod import_cli;
mod import_objects_cli;

use anyhow::Context;
use clap::{Parser, Subcommand};
use config::Config;
use std::sync::Arc;
use xiansuo_app::admin::{auth, users};
use xiansuo_core::{Clock, SystemClock};
use xiansuo_store::Db;

#[derive(Parser)]
#[command(
    name = "xiansuo",
    version,
    about = "Xiansuo (线索): self-hosted lead management"
)]
struct Cli {
    #[command(flatten)]
    config: config::Args,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web application and the API.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "XIANSUO_BIND")]
        bind: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Export records to a CSV or XLSX file, as a user within their data scope.
    Export(export_cli::Args),
    /// Run background jobs (recycling, reminders, SLA checks, deliveries) outside `serve`.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Import records from a CSV or XLSX file.
    Import {
        #[command(subcommand)]
        command: import_cli::ImportCommand,
    },
    /// Train the win prediction on the leads' outcomes and score every lead.
    Predict {
        #[command(subcommand)]
        command: PredictCommand,
    },
    /// Write a consistent backup of the whole database to one archive while it stays in use.
    Backup(backup_cli::BackupArgs),
    /// Load a backup archive into an empty database (a new SQLite file or PostgreSQL database).
    Restore(backup_cli::RestoreArgs),
    /// Fill the database with realistic demo data: an org tree, users (password `demo12345`),
    /// leads with follow-ups.
    Demo {
        /// How many leads to add.
        #[arg(long, default_value_t = 10_000)]
        leads: u64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        /// admin, manager or rep
        #[arg(long)]
        role: String,
        /// The name of an existing team.
        #[arg(long)]
        team: Option<String>,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Run every job due at the given time (default: now) once, then exit; prints what ran.
    RunDue {
        /// The instant to run at, e.g. 2026-11-22T09:00:00+08:00.
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Subcommand)]
enum PredictCommand {
    /// Train on converted/won against disqualified/lost leads, keep the better of gradient-boosted
    /// trees and logistic regression by cross-validated AUC, score every lead, and print
    /// `{"auc", "leads", "positives", "features", "model", …}` as JSON.
    Train,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (and nothing else) on stdout.
    Create {
        #[arg(long)]
        username: String,
        /// A label for the token.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = match Config::load(cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    };
    config::init_logging(&config);
    if let Err(e) = run(cli.command, config).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn open(config: &Config, clock: &dyn Clock) -> anyhow::Result<Db> {
    let url = config.database_url()?;
    let db = Db::connect(&url).await?;
    let applied = xiansuo_app::migrate(&db, clock.now().timestamp_millis()).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(db)
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if let Command::Restore(args) = command {
        // A restore migrates the database itself, to the backup's schema version first.
        return backup_cli::restore(&config, clock.as_ref(), args).await;
    }
    let db = open(&config, clock.as_ref()).await?;
    match command {
        Command::Serve { bind } => {
            let bind = bind.unwrap_or(config.bind.clone());
            let listener = tokio::net::TcpListener::bind(&bind)
                .await
                .with_context(|| format!("listening on {bind}"))?;
            tracing::info!(address = %listener.local_addr()?, database = ?db, "xiansuo is serving");
            let mut state = xiansuo_web::AppState::new(db.clone(), clock.clone());
            state.secure_cookies = config.secure_cookies;
            state.trust_forwarded_for = config.trust_forwarded_for;
            if let Some(cap) = config.max_connections_per_address {
                state.limits.connections_per_address = cap;
            }
            let job_env = config.job_env();
            state.smtp = xiansuo_app::channels::mail::SmtpSettings::of(&job_env);
            let (stop_jobs, stopped) = tokio::sync::watch::channel(false);
            let jobs = tokio::spawn(run_jobs(db.clone(), job_env, clock, stopped));
            xiansuo_web::serve(listener, state, shutdown_signal()).await?;
            tracing::info!("stopped accepting requests; requests in flight finished");
            let _ = stop_jobs.send(true);
            let _ = jobs.await;
        }
        Command::Migrate => {}
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    password,
                    role,
                    team,
                },
        } => {
            let team_id = match team {
                Some(name) => Some(
                    users::team_id_by_name(&db, &name)
                        .await?
                        .with_context(|| format!("no team is named '{name}'"))?,
                ),
                None => None,
            };
            let user = users::create(
                &db,
                None,
                users::NewUser {
                    username,
                    password,
                    role,
                    team_id,
                    display_name: None,
                    email: None,
                    locale: None,
                },
                clock.now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created user {} (id {}, role {})",
                user.username, user.id, user.role
            );
        }
        Command::Token {
            command: TokenCommand::Create { username, name },
        } => {
            let user_id = users::id_by_username(&db, &username)
                .await?
                .with_context(|| format!("no user is named '{username}'"))?;
            let (_, token) = auth::create_token(&db, user_id, &name, clock.now()).await?;
            println!("{token}");
        }
        Command::Jobs {
            command: JobsCommand::RunDue { at },
        } => {
            let at = match at {
                Some(text) => chrono::DateTime::parse_from_rfc3339(&text)
                    .with_context(|| format!("--at '{text}' is not an RFC 3339 time"))?
                    .with_timezone(&chrono::Utc),
                None => clock.now(),
            };
            let report = xiansuo_app::jobs::run_due(&db, &config.job_env(), at).await?;
            println!("{}", serde_json::to_string(&report)?);
        }
        Command::Predict {
            command: PredictCommand::Train,
        } => {
            let summary = xiansuo_app::leads::prediction::train(&db, None, clock.now())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&summary)?);
        }
        Command::Export(args) => export_cli::run(&db, clock.as_ref(), args).await?,
        Command::Import { command } => import_cli::run(&db, clock.as_ref(), command).await?,
        Command::Backup(args) => backup_cli::backup(&db, clock.as_ref(), args).await?,
        Command::Restore(_) => {}
        Command::Demo { leads } => {
            let started = std::time::Instant::now();
            let summary = demo::generate(&db, leads, clock.now(), |done| {
                eprint!("\r{done} / {leads} leads");
            })
            .await?;
            eprintln!();
            println!(
                "added {} teams, {} users, {} leads, {} activities, {} opportunities, {} leads in the public pool in {:.1} s (demo users' password: {})",
                summary.teams,
                summary.users,
                summary.leads,
                summary.activities,
                summary.opportunities,
                summary.pooled,
                started.elapsed().as_secs_f64(),
                demo::DEMO_PASSWORD
            );
        }
    }
    db.close().await;
    Ok(())
}

/// How often `serve` looks for due jobs.
const JOB_POLL: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs due jobs every few seconds until told to stop; a run in progress is finished first.
async fn run_jobs(
    db: Db,
    env: xiansuo_app::jobs::JobEnv,
    clock: Arc<dyn Clock>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(JOB_POLL) => {
                if let Err(e) = xiansuo_app::jobs::run_due(&db, &env, clock.now()).await {
                    tracing::error!(error = format!("{e:#}"), "running due jobs failed");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
