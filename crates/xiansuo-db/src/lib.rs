//! Xiansuo's storage and record use cases: one [`Db`] over SQLite or PostgreSQL, embedded
//! migrations, the generic record engine (create, read, change, delete, list with data scope,
//! custom fields and audit history), users, the org tree, tokens and sessions.

pub mod activities;
pub mod assignment;
pub mod attachments;
pub mod auth;
pub mod bulk;
pub mod convert;
pub mod custom_fields;
pub mod customers;
pub mod db;
pub mod dedup;
pub mod demo;
pub mod error;
pub mod events;
pub mod export;
pub mod followups;
pub mod forms;
pub mod history;
pub mod import;
pub mod jobs;
pub mod mail;
pub mod merge;
pub mod migrate;
pub mod notifications;
pub mod pipeline;
pub mod pool;
pub mod privacy;
pub mod qualification;
pub mod record;
pub mod reports;
pub mod saved_views;
pub mod schema;
pub mod scope;
pub mod scoring;
pub mod search;
pub mod users;
pub mod webhooks;
pub mod writer;

pub use db::{Db, Dialect, Param, Row};
pub use error::{StoreError, StoreResult};
pub use record::Ctx;
pub use scope::Actor;
