//! Xiansuo's domain: the types a lead, an account, a user or a history entry is made of, and the
//! rules over them that need no database and no HTTP. Values are parsed here once, at the edge
//! (`Phone`, `Email`, `LeadStatus`, …), so that the rest of the program never validates twice.

pub mod assignment;
pub mod choice;
pub mod clock;
pub mod contact;
pub mod custom_field;
pub mod dedup;
pub mod history;
pub mod lead;
pub mod pool;
pub mod prediction;
pub mod role;
pub mod rules;
pub mod schema;
pub mod scoring;
pub mod search;
pub mod validation;
pub mod working_hours;

pub use clock::{Clock, FixedClock, SystemClock};
pub use contact::{Email, ImportedPhone, Phone, Region};
pub use validation::{Invalid, Text};
