//! `xiansuo backup --output FILE` and `xiansuo restore FILE`: the whole database into one
//! archive while the server runs, and an archive into an empty database. Each prints a one-line
//! JSON summary on stdout. Restoring a backup of the SQLite file into PostgreSQL is how a team
//! moves to PostgreSQL.

use crate::config::Config;
use std::path::PathBuf;
use xiansuo_app::data::backup;
use xiansuo_core::Clock;
use xiansuo_store::Db;

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The archive to write (a zip file).
    #[arg(long)]
    output: PathBuf,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The archive written by `xiansuo backup`.
    file: PathBuf,
}

pub async fn backup(db: &Db, clock: &dyn Clock, args: BackupArgs) -> anyhow::Result<()> {
    let summary = backup::backup(db, &args.output, clock.now()).await?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

/// Opens the configured database without migrating it (the restore does, to the backup's
/// version first) and loads the archive into it.
pub async fn restore(config: &Config, clock: &dyn Clock, args: RestoreArgs) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url()?).await?;
    let restored = backup::restore(&db, &args.file, clock.now()).await;
    db.close().await;
    println!("{}", serde_json::to_string(&restored?)?);
    Ok(())
}
