//! Records: the engine every table shares ([`engine`]: create, read, change, delete, list
//! with data scope), the table specs it is driven by ([`schema`]), the steps of a record's
//! life that features hook into ([`lifecycle`]), the JSON shape of a record ([`json`]), custom
//! fields, the choice lists admins edit, the audit history, the lead search index, attachments, and the group-commit writer.

pub mod attachments;
pub mod choices;
pub mod custom_fields;
pub mod engine;
pub mod history;
pub mod json;
pub mod lifecycle;
pub mod schema;
pub mod search;
pub mod totals;
pub mod writer;

pub use engine::{
    create, delete, get, insert, list, list_counted, prepare, restore, update, Count, Page,
    LIST_PARAMS,
};
pub(crate) use json::cents;
pub use json::{rfc3339, to_json, verified_name};
pub use lifecycle::{Change, Ctx, Hook, Hooks, NewRecord, Stamp};
