//! The life of a lead after capture: dedup and merge, scoring, assignment, the public pool,
//! follow-ups and activities, qualification, and conversion into a customer.

pub mod activities;
pub mod assignment;
pub mod bulk;
pub mod conversion;
pub mod dedup;
pub mod followups;
pub mod merge;
pub mod my_day;
pub mod pool;
pub mod prediction;
pub mod qualification;
pub mod saved_views;
pub mod scoring;
pub mod unconvert;
pub mod working_hours;
