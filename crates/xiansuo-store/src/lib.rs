//! Xiansuo's storage: one [`Db`] over an embedded SQLite file or a PostgreSQL server, its
//! transactions, the parameters and rows every statement goes through, the short-lived
//! settings cache, the schema migrations of both databases, and whole tables read and loaded
//! for backup and restore. Nothing here knows what a lead
//! is: the use cases (`xiansuo-app`) write the SQL, this crate runs it.

pub mod db;
pub mod decode;
pub mod dialect;
pub mod migrate;
pub mod param;
pub mod tables;

pub use db::{Cell, Db, Reader, Recent, Row, Settings, Tx};
pub use decode::DecodeError;
pub use dialect::{Dialect, Period};
pub use param::{Nullable, Param};
