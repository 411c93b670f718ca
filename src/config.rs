//! Configuration: command-line flags win over environment variables, which win over the
//! optional TOML file (`--config FILE` or `XIANSUO_CONFIG`), which wins over the defaults
//! (SQLite in `./data`, listening on 127.0.0.1:8080, text logs).

use anyhow::Context;
use serde::Deserialize;
use std::path::PathBuf;

/// The flags every command shares.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory for the embedded SQLite database and other files.
    #[arg(long, global = true, env = "XIANSUO_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB; overrides the embedded database.
    #[arg(long, global = true, env = "XIANSUO_DATABASE_URL")]
    database_url: Option<String>,
    /// A TOML file with any of: bind, data_dir, database_url, log_format, secure_cookies,
    /// smtp_url, smtp_from, trust_forwarded_for, max_connections_per_address, backup_dir.
    #[arg(long, global = true, env = "XIANSUO_CONFIG")]
    config: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, global = true, env = "XIANSUO_LOG_FORMAT")]
    log_format: Option<String>,
    /// Outgoing mail server, e.g. smtp://127.0.0.1:25 or smtps://USER:PASSWORD@HOST; without
    /// it no email is sent.
    #[arg(long, global = true, env = "XIANSUO_SMTP_URL")]
    smtp_url: Option<String>,
    /// The sender of outgoing email, e.g. "Xiansuo <crm@example.com>".
    #[arg(long, global = true, env = "XIANSUO_SMTP_FROM")]
    smtp_from: Option<String>,
    /// Take web-form visitors' addresses (for the rate limit) from X-Forwarded-For; only behind
    /// a reverse proxy that sets it.
    #[arg(long, global = true, env = "XIANSUO_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
    /// Connections one client address may hold at once (default 256; 0 for no cap). Behind a
    /// reverse proxy every client has the proxy's address: raise it or set 0 there.
    #[arg(long, global = true, env = "XIANSUO_MAX_CONNECTIONS_PER_ADDRESS")]
    max_connections_per_address: Option<usize>,
    /// Where scheduled backups and those taken from the settings page go (default
    /// DATA_DIR/backups).
    #[arg(long, global = true, env = "XIANSUO_BACKUP_DIR")]
    backup_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    log_format: Option<String>,
    secure_cookies: Option<bool>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    trust_forwarded_for: Option<bool>,
    max_connections_per_address: Option<usize>,
    backup_dir: Option<PathBuf>,
}

/// The settled configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub data_dir: PathBuf,
    database_url: Option<String>,
    pub json_logs: bool,
    pub secure_cookies: bool,
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    pub trust_forwarded_for: bool,
    pub max_connections_per_address: Option<usize>,
    pub backup_dir: PathBuf,
}

impl Config {
    pub fn load(args: Args) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str::<File>(&text)
                    .with_context(|| format!("parsing {}", path.display()))?
            }
            None => File::default(),
        };
        let log_format = args
            .log_format
            .or(file.log_format)
            .unwrap_or_else(|| "text".into());
        let json_logs = match log_format.as_str() {
            "json" => true,
            "text" => false,
            other => anyhow::bail!("log format '{other}' is not text or json"),
        };
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        Ok(Config {
            bind: file.bind.unwrap_or_else(|| "127.0.0.1:8080".into()),
            backup_dir: args
                .backup_dir
                .or(file.backup_dir)
                .unwrap_or_else(|| data_dir.join("backups")),
            data_dir,
            database_url: args
                .database_url
                .or(file.database_url)
                .filter(|u| !u.is_empty()),
            json_logs,
            secure_cookies: file.secure_cookies.unwrap_or(false),
            smtp_url: args.smtp_url.or(file.smtp_url).filter(|u| !u.is_empty()),
            smtp_from: args.smtp_from.or(file.smtp_from).filter(|u| !u.is_empty()),
            trust_forwarded_for: args.trust_forwarded_for
                || file.trust_forwarded_for.unwrap_or(false),
            max_connections_per_address: args
                .max_connections_per_address
                .or(file.max_connections_per_address),
        })
    }

    /// The database to open: the configured URL, or `xiansuo.db` in the data directory
    /// (created if missing).
    pub fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating the data directory {}", self.data_dir.display()))?;
        Ok(format!(
            "sqlite://{}",
            self.data_dir.join("xiansuo.db").display()
        ))
    }
}

impl Config {
    /// What background jobs need besides the database.
    pub fn job_env(&self) -> xiansuo_app::jobs::JobEnv {
        xiansuo_app::jobs::JobEnv {
            http: reqwest::Client::new(),
            smtp_url: self.smtp_url.clone(),
            smtp_from: self.smtp_from.clone(),
            backup_dir: Some(self.backup_dir.clone()),
        }
    }
}

/// Logs go to stderr, so that commands such as `token create` print only their result.
pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.json_logs {
        builder.json().init();
    } else {
        builder.init();
    }
}
