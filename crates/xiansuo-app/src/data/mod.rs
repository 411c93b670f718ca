//! Data moving in and out in bulk: backup and restore of the whole database, CSV/XLSX import and export, and a person's data exported
//! or erased on request (PIPL, GDPR).

pub mod backup;
pub mod export;
pub mod import;
pub mod privacy;
