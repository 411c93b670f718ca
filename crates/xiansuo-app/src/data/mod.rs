//! Data moving in and out in bulk: CSV/XLSX import and export, and a person's data exported
//! or erased on request (PIPL, GDPR).

pub mod export;
pub mod import;
pub mod privacy;
