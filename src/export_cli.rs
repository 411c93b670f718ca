//! `xiansuo export TABLE --format csv|xlsx --output FILE`: the same export as
//! `GET /api/v1/{table}/export`, written to a file by a user (the first admin unless
//! `--username` names one), within that user's data scope. It is recorded in the export audit
//! with the channel `job`, the channel of work not done through the UI or the API.

use anyhow::Context;
use std::io::BufWriter;
use std::path::PathBuf;
use xiansuo_app::admin::users;
use xiansuo_app::data::export::{self, Export, Format};
use xiansuo_app::{Actor, Ctx};
use xiansuo_core::history::Channel;
use xiansuo_core::Clock;
use xiansuo_store::Db;

#[derive(clap::Args)]
pub struct Args {
    /// What to export: leads, accounts, contacts or opportunities.
    table: String,
    /// csv (UTF-8 with a byte order mark) or xlsx.
    #[arg(long, default_value = "csv")]
    format: String,
    /// The file to write.
    #[arg(long)]
    output: PathBuf,
    /// Export as this user, within their data scope; default: the first admin (everything).
    #[arg(long)]
    username: Option<String>,
    /// A list filter, as in the API's query string: `--filter status=new --filter q=张`.
    #[arg(long = "filter", value_name = "NAME=VALUE")]
    filters: Vec<String>,
}

pub async fn run(db: &Db, clock: &dyn Clock, args: Args) -> anyhow::Result<()> {
    let table = export::table_named(&args.table).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let format = Format::parse(&args.format).map_err(|e| anyhow::anyhow!("{}", e.message))?;
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
    let ctx = Ctx {
        hooks: xiansuo_app::hooks::ALL,
        db,
        actor: &actor,
        channel: Channel::Job,
        now: clock.now(),
    };
    let started = Export::start(ctx, table, format, filters)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let file = std::fs::File::create(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let rows = match started.write_to(&mut BufWriter::new(file)).await {
        Ok(rows) => rows,
        Err(e) => {
            // A half-written file looks like a complete one in a spreadsheet: leave none.
            let _ = std::fs::remove_file(&args.output);
            anyhow::bail!("{e}");
        }
    };
    println!(
        "exported {rows} {} to {}",
        table.name,
        args.output.display()
    );
    Ok(())
}
