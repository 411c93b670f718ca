//! `xiansuo export TABLE --format csv|xlsx --output FILE`: the same export as
//! `GET /api/v1/{table}/export`, written to a file by a user (the first admin unless
//! `--username` names one), within that user's data scope. It is recorded in the export audit
//! with the channel `job`, the channel of work not done through the UI or the API.
//!
//! `xiansuo export all --output DIR` writes the full export: leads, accounts, contacts,
//! opportunities and activities, one file each (`DIR/leads.csv`, …), with the ids that link
//! them, so that another CRM — or another Xiansuo — can import the whole of it.

use anyhow::Context;
use std::io::BufWriter;
use std::path::PathBuf;
use xiansuo_app::admin::users;
use xiansuo_app::data::export::{Export, Format, Source, SOURCES};
use xiansuo_app::{Actor, Ctx};
use xiansuo_core::history::Channel;
use xiansuo_core::Clock;
use xiansuo_store::Db;

#[derive(clap::Args)]
pub struct Args {
    /// What to export: leads, accounts, contacts, opportunities, activities, or all of them
    /// (`all`, into the directory `--output`).
    table: String,
    /// csv (UTF-8 with a byte order mark) or xlsx.
    #[arg(long, default_value = "csv")]
    format: String,
    /// The file to write; with `all`, the directory (created if missing) for the five files.
    #[arg(long)]
    output: PathBuf,
    /// Export as this user, within their data scope; default: the first admin (everything).
    #[arg(long)]
    username: Option<String>,
    /// A list filter, as in the API's query string: `--filter status=new --filter q=张`
    /// (not with `all`).
    #[arg(long = "filter", value_name = "NAME=VALUE")]
    filters: Vec<String>,
}

pub async fn run(db: &Db, clock: &dyn Clock, args: Args) -> anyhow::Result<()> {
    let format = Format::parse(&args.format).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let sources = if args.table == "all" {
        if !args.filters.is_empty() {
            anyhow::bail!("`export all` exports everything: it takes no --filter");
        }
        std::fs::create_dir_all(&args.output)
            .with_context(|| format!("creating the directory {}", args.output.display()))?;
        SOURCES.to_vec()
    } else {
        vec![Source::named(&args.table).map_err(|e| anyhow::anyhow!("{}", e.message))?]
    };
    let filters = args
        .filters
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("--filter '{f}' must be NAME=VALUE"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let user_id = match &args.username {
        Some(name) => users::id_by_username(db, name)
            .await?
            .with_context(|| format!("no user is named '{name}'"))?,
        None => users::first_admin(db).await?.context(
            "there is no admin yet; create one with `xiansuo user create` or pass --username",
        )?,
    };
    let actor = Actor::load(db, user_id)
        .await?
        .context("that user is disabled")?;
    for source in sources {
        let output = if args.table == "all" {
            args.output
                .join(format!("{}.{}", source.name(), format.code()))
        } else {
            args.output.clone()
        };
        let ctx = Ctx {
            hooks: xiansuo_app::hooks::ALL,
            db,
            actor: &actor,
            channel: Channel::Job,
            now: clock.now(),
        };
        let started = Export::start(ctx, source, format, filters.clone())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let file = std::fs::File::create(&output)
            .with_context(|| format!("creating {}", output.display()))?;
        let rows = match started.write_to(&mut BufWriter::new(file)).await {
            Ok(rows) => rows,
            Err(e) => {
                // A half-written file looks like a complete one in a spreadsheet: leave none.
                let _ = std::fs::remove_file(&output);
                anyhow::bail!("{e}");
            }
        };
        println!("exported {rows} {} to {}", source.name(), output.display());
    }
    Ok(())
}
