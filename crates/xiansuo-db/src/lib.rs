//! Xiansuo's storage and record use cases: one [`Db`] over SQLite or PostgreSQL, embedded
//! migrations, the generic record engine (create, read, change, delete, list with data scope,
//! custom fields and audit history), users, the org tree, tokens and sessions.

pub mod activities;
pub mod auth;
pub mod custom_fields;
pub mod db;
pub mod dedup;
pub mod demo;
pub mod error;
pub mod export;
pub mod history;
pub mod import;
pub mod migrate;
pub mod record;
pub mod schema;
pub mod scope;
pub mod search;
pub mod users;
pub mod writer;

pub use db::{Db, Dialect, Param, Row};
pub use error::{StoreError, StoreResult};
pub use record::Ctx;
pub use scope::Actor;
