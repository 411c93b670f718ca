//! `xiansuo import leads FILE`: the command-line face of [`xiansuo_app::data::import`]. It picks
//! the importing user and the owner, prints the column mapping it will use, shows a progress bar
//! on stderr while batches commit, and ends with a summary on stdout. `import accounts`,
//! `contacts`, `opportunities` and `activities` pick the importing user here and go on in
//! [`crate::import_objects_cli`].

use crate::import_objects_cli::{self, ObjectArgs};
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use xiansuo_app::admin::users;
use xiansuo_app::data::import::objects::headers::Object;
use xiansuo_app::data::import::{self, mapping, source, Dedup, ImportFile};
use xiansuo_app::Actor;
use xiansuo_core::{Clock, Region};
use xiansuo_store::Db;

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import leads from a CSV (UTF-8 or GBK/GB18030, found out automatically) or XLSX file.
    /// Running the same file again continues an interrupted import and never imports a row twice.
    Leads(LeadsArgs),
    /// Import accounts (客户) from a Salesforce, HubSpot, Zoho, 纷享销客, 销售易 or Xiansuo export.
    /// A row whose id is the external_id of an account updates it instead of adding another.
    Accounts(ObjectArgs),
    /// Import contacts (联系人), linked to their accounts by the account's id in the file
    /// (AccountId, Associated Company IDs, 客户编号) or by its name.
    Contacts(ObjectArgs),
    /// Import opportunities (销售机会) with their stage, amount, close date, won/lost outcome and
    /// lost reason, linked to their accounts, contacts and leads.
    Opportunities(ObjectArgs),
    /// Import activities (跟进记录): tasks, events, calls, notes, each logged on the lead,
    /// contact, account or opportunity it names (WhoId/WhatId, associations, names).
    Activities(ObjectArgs),
}

#[derive(Args)]
pub struct LeadsArgs {
    /// The CSV or XLSX file; its first row names the columns.
    file: PathBuf,
    /// `auto`, or a JSON or TOML file of header → field (`name`, `phone`, `custom.KEY`,
    /// `ignore`, …) that overrides the automatic mapping.
    #[arg(long, default_value = "auto")]
    mapping: String,
    /// What to do with a row that certainly duplicates a lead, a contact, an account or an
    /// earlier row (the same phone, email or external id): skip it, report it as an error
    /// (block), import it flagged as a possible duplicate (warn), or put its data into the lead
    /// it duplicates (merge: empty fields filled, tags added); each such row is reported.
    #[arg(long, default_value = "skip")]
    dedup: Dedup,
    /// The same for a row that probably duplicates one (the same name at the same company, no
    /// exact key in common); default: the dedup policy of the import channel for probable
    /// matches (Settings → Dedup), which flags them for review unless an admin chose otherwise.
    #[arg(long, value_name = "DEDUP")]
    dedup_probable: Option<Dedup>,
    /// The country of rows whose Country column is empty or missing, which reads their phone
    /// numbers: an ISO code (US, GB) or a name (United States, 美国). Default: China.
    #[arg(long)]
    country: Option<String>,
    /// The source code of rows that name none (default: import).
    #[arg(long)]
    source: Option<String>,
    /// The username that owns the imported leads (default: the importing user).
    #[arg(long)]
    owner: Option<String>,
    /// The username the import runs as, whose data scope applies (default: the first admin).
    #[arg(long = "as")]
    as_user: Option<String>,
    /// Show the mapping and what the first N rows would become, and import nothing.
    #[arg(long, value_name = "N")]
    preview: Option<usize>,
}

/// Rows per transaction: large enough for multi-row statements to pay off, small enough to
/// stay under both databases' limits on bound parameters.
const BATCH: usize = 1_000;

pub async fn run(db: &Db, clock: &dyn Clock, command: ImportCommand) -> anyhow::Result<()> {
    let (object, object_args) = match command {
        ImportCommand::Leads(args) => return leads(db, clock, args).await,
        ImportCommand::Accounts(args) => (Object::Account, args),
        ImportCommand::Contacts(args) => (Object::Contact, args),
        ImportCommand::Opportunities(args) => (Object::Opportunity, args),
        ImportCommand::Activities(args) => (Object::Activity, args),
    };
    let actor = importing_user(db, object_args.as_user.as_deref()).await?;
    import_objects_cli::run(db, clock, &actor, object, object_args).await
}

async fn leads(db: &Db, clock: &dyn Clock, args: LeadsArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let actor = importing_user(db, args.as_user.as_deref()).await?;
    let owner_id = match &args.owner {
        Some(name) => Some(
            users::id_by_username(db, name)
                .await?
                .with_context(|| format!("--owner: no user is named '{name}'"))?,
        ),
        None => None,
    };
    if let Some(owner) = owner_id.filter(|o| !actor.sees_owner(*o)) {
        anyhow::bail!(
            "--owner: {} may only give leads to users within their data scope, and user {owner} is outside it",
            actor.username
        );
    }
    let country = match &args.country {
        Some(c) => Some(Region::parse(c).with_context(|| {
            format!(
                "--country: '{c}' is not a country; use an ISO code such as US or CN, or a name"
            )
        })?),
        None => None,
    };
    if let Some(source) = &args.source {
        xiansuo_core::lead::parse_source(source)
            .map_err(|e| anyhow::anyhow!("--source: {}", e.message))?;
    }

    let file = ImportFile::open(&args.file).await?;
    let previous = import::previous(db, &file).await?;
    if let Some(p) = previous.filter(|p| p.finished) {
        println!(
            "{} was already imported ({} imported, {} skipped, {} failed); nothing to do",
            args.file.display(),
            p.counts.imported,
            p.counts.skipped,
            p.counts.failed
        );
        return Ok(());
    }
    let mut sheet = source::open(&args.file).await?;
    let overrides = if args.mapping == "auto" {
        BTreeMap::new()
    } else {
        mapping::read_overrides(std::path::Path::new(&args.mapping))?
    };
    let mapping = mapping::Mapping::new(
        &sheet.headers,
        &import::custom_columns(db).await?,
        &overrides,
    )?;
    println!("{}: {}", args.file.display(), sheet.format);
    println!("column mapping:");
    for (header, target) in mapping.describe() {
        match target {
            Some(t) => println!("  {header} → {t}"),
            None => println!("  {header} → (not imported)"),
        }
    }
    let unmapped = mapping.unmapped();
    if !unmapped.is_empty() {
        println!(
            "not imported, no lead field or custom field matches: {} (map them with --mapping FILE)",
            unmapped.join(", ")
        );
    }
    let options = import::Options {
        mapping,
        dedup: args.dedup,
        probable: args.dedup_probable,
        country,
        source: args.source,
        owner_id,
        batch_size: BATCH,
        report_to: import::ReportTo::File,
    };
    if let Some(limit) = args.preview {
        for row in import::preview(db, &actor, clock, &mut sheet, &options, limit).await? {
            let verdict = match &row.report {
                None => "ok".to_owned(),
                Some(r) if r.field.is_empty() => format!("{}: {}", r.result.code(), r.reason),
                Some(r) => format!("{} ({}): {}", r.result.code(), r.field, r.reason),
            };
            println!("row {}: {} → {verdict}", row.row, row.body);
        }
        println!("preview only: nothing was imported");
        return Ok(());
    }
    if let Some(p) = previous {
        println!(
            "resuming: an earlier run committed {} rows ({} imported); continuing after them",
            p.counts.rows, p.counts.imported
        );
    }

    // A CSV's line count is its row count unless cells hold line breaks; an XLSX's rows are not
    // known before reading it, so it gets a counter without an end.
    let (bar, template) = match sheet.format {
        source::Format::Csv { .. } => (
            ProgressBar::new(file.estimated_rows),
            "{bar:40} {pos}/{len} rows, {msg} [{elapsed_precise}, {eta} left]",
        ),
        source::Format::Xlsx => (
            ProgressBar::no_length(),
            "{spinner} {pos} rows, {msg} [{elapsed_precise}]",
        ),
    };
    bar.set_style(ProgressStyle::with_template(template).context("the progress bar template")?);
    let summary = import::run(db, &actor, clock, &file, sheet, &options, |c| {
        if bar.length().is_some_and(|len| c.rows > len) {
            bar.set_length(c.rows);
        }
        bar.set_position(c.rows);
        bar.set_message(format!(
            "{} imported, {} skipped, {} failed",
            c.imported, c.skipped, c.failed
        ));
    })
    .await;
    bar.finish_and_clear();
    let summary = summary?;
    let c = summary.counts;
    println!(
        "imported {} leads, skipped {}, failed {} of {} rows in {:.1} s",
        c.imported - previous.map_or(0, |p| p.counts.imported),
        c.skipped - previous.map_or(0, |p| p.counts.skipped),
        c.failed - previous.map_or(0, |p| p.counts.failed),
        c.rows - summary.resumed_after,
        started.elapsed().as_secs_f64()
    );
    if summary.resumed_after > 0 {
        println!(
            "the whole file: {} imported, {} skipped, {} failed of {} rows",
            c.imported, c.skipped, c.failed, c.rows
        );
    }
    if summary.warned > 0 {
        println!(
            "{} imported leads may be duplicates (flagged for review)",
            summary.warned
        );
    }
    if summary.warnings > 0 {
        println!(
            "{} rows were imported with a warning (a phone kept unverified, a date not read, …)",
            summary.warnings
        );
    }
    if summary.merged > 0 {
        println!(
            "{} rows were merged into the leads they duplicate (counted as skipped)",
            summary.merged
        );
    }
    if let Some(path) = summary.errors_file {
        println!("row-by-row report: {}", path.display());
    }
    Ok(())
}

/// The user named by `--as`, or the first admin.
async fn importing_user(db: &Db, username: Option<&str>) -> anyhow::Result<Actor> {
    let id = match username {
        Some(name) => users::id_by_username(db, name)
            .await?
            .with_context(|| format!("--as: no user is named '{name}'"))?,
        None => users::first_admin(db)
            .await?
            .context("there is no admin to import as: create one with `xiansuo user create --role admin`, or name a user with --as")?,
    };
    Actor::load(db, id)
        .await?
        .context("the importing user is not active")
}
