//! Xiansuo's use cases, in folders by domain: the record engine every table shares
//! ([`records`]), the life of a lead ([`leads`]: dedup and merge, scoring, assignment, the
//! public pool, follow-ups, qualification, conversion), [`sales`] (pipeline, customers,
//! reports), [`admin`] (users, teams, tokens and sessions), [`channels`] (web forms, webhooks,
//! e-mail, notifications, events), [`data`] (import, export, a person's data on request) and
//! background [`jobs`]. Each use case takes the acting user and checks what they may do; the
//! SQL goes through `xiansuo_store`.

pub mod admin;
pub mod channels;
pub mod data;
pub mod error;
pub mod hooks;
pub mod jobs;
pub mod leads;
pub mod records;
pub mod sales;
pub mod scope;

pub use error::{StoreError, StoreResult};
pub use records::Ctx;
pub use scope::Actor;

/// Brings the database's schema up to date: the storage's migrations with the keys the
/// program computes for them. Returns the versions applied.
pub async fn migrate(db: &xiansuo_store::Db, now_ms: i64) -> anyhow::Result<Vec<&'static str>> {
    xiansuo_store::migrate::run(db, now_ms, leads::dedup::BACKFILLS).await
}
