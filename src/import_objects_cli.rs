//! `xiansuo import accounts|contacts|opportunities|activities FILE`: the command-line face of
//! [`xiansuo_app::data::import::objects`]. It prints the column mapping, shows a progress bar
//! on stderr while batches commit, and ends with a one-line summary of created, updated,
//! skipped and failed rows on stdout; the rows it reports are in `FILE.errors.csv`.

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use xiansuo_app::admin::users;
use xiansuo_app::data::import::objects::engine::{self, Options};
use xiansuo_app::data::import::objects::headers::{Object, ObjectMapping};
use xiansuo_app::data::import::{mapping, source, ImportFile};
use xiansuo_app::Actor;
use xiansuo_core::Clock;
use xiansuo_store::Db;

#[derive(Args)]
pub struct ObjectArgs {
    /// The CSV (UTF-8 or GBK/GB18030) or XLSX file; its first row names the columns. Running
    /// the same file again continues an interrupted import.
    file: PathBuf,
    /// `auto`, or a JSON or TOML file of header → target (`name`, `account_ref`,
    /// `custom.KEY`, `ignore`, …) and `stage:NAME` → stage code, over the automatic mapping.
    #[arg(long, default_value = "auto")]
    mapping: String,
    /// The username that owns rows naming no owner, or an owner who is no user (default: the
    /// importing user).
    #[arg(long)]
    owner: Option<String>,
    /// The username the import runs as, whose data scope applies (default: the first admin).
    #[arg(long = "as")]
    pub as_user: Option<String>,
    /// Show the mapping and what the first N rows would become, and import nothing.
    #[arg(long, value_name = "N")]
    preview: Option<usize>,
}

/// Rows per transaction, as for leads.
const BATCH: usize = 1_000;

pub async fn run(
    db: &Db,
    clock: &dyn Clock,
    actor: &Actor,
    object: Object,
    args: ObjectArgs,
) -> anyhow::Result<()> {
    let started = Instant::now();
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
            "--owner: {} may only give records to users within their data scope, and user {owner} is outside it",
            actor.username
        );
    }
    let file = ImportFile::open(&args.file).await?;
    let previous = engine::previous(db, object, &file).await?;
    if let Some(p) = previous.filter(|p| p.finished) {
        println!(
            "{} was already imported as {} ({} created, {} updated, {} skipped, {} failed); nothing to do",
            args.file.display(),
            object.plural(),
            p.counts.created,
            p.counts.updated,
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
    let mapping = ObjectMapping::new(
        object,
        &sheet.headers,
        &engine::custom_columns(db, object).await?,
        &overrides,
    )?;
    println!(
        "{}: {} as {}",
        args.file.display(),
        sheet.format,
        object.plural()
    );
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
            "not imported, no field of {} matches: {} (map them with --mapping FILE)",
            object.plural(),
            unmapped.join(", ")
        );
    }
    let options = Options {
        mapping,
        owner_id,
        batch_size: BATCH,
    };
    if let Some(limit) = args.preview {
        for row in engine::preview(db, actor, clock, &mut sheet, &options, limit).await? {
            let verdict = if row.reports.is_empty() {
                "ok".to_owned()
            } else {
                row.reports
                    .iter()
                    .map(|r| format!("{} ({}): {}", r.result.code(), r.field, r.reason))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            println!("row {}: {} → {verdict}", row.row, row.shown);
        }
        println!("preview only: nothing was imported");
        return Ok(());
    }
    if let Some(p) = previous {
        println!(
            "resuming: an earlier run committed {} rows; continuing after them",
            p.counts.rows
        );
    }
    let bar = ProgressBar::new(file.estimated_rows);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows, {msg} [{elapsed_precise}]")
            .context("the progress bar template")?,
    );
    let summary = engine::run(db, actor, clock, &file, sheet, &options, |c| {
        if c.rows > bar.length().unwrap_or(0) {
            bar.set_length(c.rows);
        }
        bar.set_position(c.rows);
        bar.set_message(format!(
            "{} created, {} updated, {} failed",
            c.created, c.updated, c.failed
        ));
    })
    .await;
    bar.finish_and_clear();
    let summary = summary?;
    let c = summary.counts;
    println!(
        "{}: created {}, updated {}, skipped {}, failed {} of {} rows ({} with warnings) in {:.1} s{}",
        object.plural(),
        c.created,
        c.updated,
        c.skipped,
        c.failed,
        c.rows,
        summary.warned,
        started.elapsed().as_secs_f64(),
        match summary.resumed_after {
            0 => String::new(),
            n => format!(", the first {n} rows by an earlier run"),
        }
    );
    if let Some(path) = summary.errors_file {
        println!("row-by-row report: {}", path.display());
    }
    Ok(())
}
