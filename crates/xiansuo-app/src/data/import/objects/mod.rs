//! Importing the rest of a CRM beside its leads: accounts, contacts, opportunities and
//! activities from the exports of Salesforce, HubSpot, Zoho, 纷享销客, 销售易 or another
//! Xiansuo, with their links, owners, creation times and deal outcomes. [`headers`] maps the
//! columns, [`values`] reads other systems' values, [`links`] finds the records and users a
//! row names, and [`engine`] plans and writes the batches, resumable and upserting by
//! external id.

pub mod engine;
pub mod headers;
pub mod links;
pub mod values;
