//! Selling to customers: the opportunity pipeline and forecast, accounts and contacts with
//! their value (RFM), and the reports over leads and deals with the per-day summaries they read.

pub mod customers;
pub mod pipeline;
pub mod reports;
pub mod summaries;
