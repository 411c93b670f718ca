//! The people who use Xiansuo: users, the org tree of teams, and how they sign in (API tokens
//! and browser sessions).

pub mod audit;
pub mod auth;
pub mod callers;
pub mod users;
