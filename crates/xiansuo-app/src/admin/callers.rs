//! Who has signed in lately: the cache of authenticated callers that every API call and page
//! reads, and that the use cases changing users, teams, tokens and sessions clear.

use crate::scope::Actor;
use std::sync::Arc;
use xiansuo_store::{Db, Recent};

/// An authenticated caller as the web layer keeps them: who they are and, for a browser
/// session, its CSRF token.
pub type Caller = (Actor, Option<String>);

/// The callers this database has authenticated lately, by the hash of their token or session
/// id, so that a burst of calls does not look the same user and scope up again and again. An
/// entry lives [`Recent::TTL`]; every use case that changes a user, a team, a token or a session
/// forgets them all at once, so only changes made through another instance can take that long
/// to be seen.
#[derive(Default)]
pub struct Callers(Recent<String, Caller>);

impl Callers {
    pub fn get(&self, key: &String) -> Option<Caller> {
        self.0.get(key)
    }

    pub fn put(&self, key: String, caller: Caller) {
        self.0.put(key, caller);
    }
}

/// The callers cache of `db`.
pub fn callers(db: &Db) -> Arc<Callers> {
    db.settings().shared::<Callers>()
}

/// Forgets every cached caller, after a change to who may do what.
pub(crate) fn forget_callers(db: &Db) {
    callers(db).0.clear();
}
