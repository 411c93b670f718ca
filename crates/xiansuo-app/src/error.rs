//! The errors a use case can end in. Each says what a caller can do about it; the HTTP layer
//! gives each its status.

use serde_json::Value;
use xiansuo_core::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist, is deleted, or is outside the actor's data scope: callers must
    /// not learn which.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A value in the request cannot be accepted.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The request is understood but clashes with the state of the data.
    #[error("{0}")]
    Conflict(String),
    /// A new or changed lead duplicates existing records: refused, or merged into one of them.
    #[error("{0}")]
    Duplicate(Box<Duplicate>),
    /// The actor may see the record but not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// Anything else: a bug or the database being unavailable.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Internal(e.into())
    }
}

/// A row that does not read into its struct is a mistake in the code (a misspelt column, a
/// changed type), never the caller's.
impl From<xiansuo_store::DecodeError> for StoreError {
    fn from(e: xiansuo_store::DecodeError) -> Self {
        StoreError::Internal(e.into())
    }
}

/// A new lead that was not created because it duplicates existing records: refused (block
/// policy, with the candidates) or put into an existing lead (merge policy).
#[derive(Debug)]
pub struct Duplicate {
    /// The matches as the caller may see them (see `leads::dedup::describe`).
    pub candidates: Vec<crate::leads::dedup::candidate::Candidate>,
    /// The lead the new data went into, as the API shows it, when it was merged.
    pub merged: Option<Value>,
}

impl std::fmt::Display for Duplicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.merged {
            Some(lead) => write!(
                f,
                "the lead was merged into the existing lead {}",
                lead["id"]
            ),
            None => write!(
                f,
                "the lead duplicates {} existing record(s); see the candidates",
                self.candidates.len()
            ),
        }
    }
}
