//! The `xiansuo` binary: `serve` runs the web application; `user`, `token`, `migrate`, `demo`,
//! `import` and `export` manage the database it runs on. Every command takes the same `--data-dir` /
//! `--database-url` (or `XIANSUO_DATABASE_URL`) and optional `--config FILE`.

mod config;
mod export_cli;
mod import_cli;

use anyhow::Context;
use clap::{Parser, Subcommand};
use config::Config;
use std::sync::Arc;
use xiansuo_core::role::Role;
use xiansuo_core::{Clock, SystemClock};
use xiansuo_db::{auth, migrate, users, Db};

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
    /// Import records from a CSV or XLSX file.
    Import {
        #[command(subcommand)]
        command: import_cli::ImportCommand,
    },
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
    let applied = migrate::run(&db, clock.now().timestamp_millis()).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(db)
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let db = open(&config, clock.as_ref()).await?;
    match command {
        Command::Serve { bind } => {
            let bind = bind.unwrap_or(config.bind.clone());
            let listener = tokio::net::TcpListener::bind(&bind)
                .await
                .with_context(|| format!("listening on {bind}"))?;
            tracing::info!(address = %listener.local_addr()?, database = ?db, "xiansuo is serving");
            let mut state = xiansuo_web::AppState::new(db.clone(), clock);
            state.secure_cookies = config.secure_cookies;
            xiansuo_web::serve(listener, state, shutdown_signal()).await?;
            tracing::info!("stopped accepting requests; requests in flight finished");
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
                users::NewUser {
                    username,
                    password,
                    role: Role::parse(&role)?,
                    team_id,
                    display_name: None,
                    email: None,
                    locale: "zh".into(),
                },
                clock.now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created user {} (id {}, role {})",
                user["username"], user["id"], user["role"]
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
        Command::Export(args) => export_cli::run(&db, clock.as_ref(), args).await?,
        Command::Import { command } => import_cli::run(&db, clock.as_ref(), command).await?,
        Command::Demo { leads } => {
            let started = std::time::Instant::now();
            let summary = xiansuo_db::demo::generate(&db, leads, clock.now(), |done| {
                eprint!("\r{done} / {leads} leads");
            })
            .await?;
            eprintln!();
            println!(
                "added {} teams, {} users, {} leads, {} activities in {:.1} s (demo users' password: {})",
                summary.teams,
                summary.users,
                summary.leads,
                summary.activities,
                started.elapsed().as_secs_f64(),
                xiansuo_db::demo::DEMO_PASSWORD
            );
        }
    }
    db.close().await;
    Ok(())
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
