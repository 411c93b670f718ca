//! Selling to customers: the opportunity pipeline and forecast, accounts and contacts with
//! their value (RFM), and the reports over leads and deals.

pub mod customers;
pub mod pipeline;
pub mod reports;
