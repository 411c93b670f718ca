//! What every record goes through, and how features take part in it. The record engine
//! ([`super::engine`]) parses, checks and writes records; each feature that acts on a
//! record's life (dedup, scoring, assignment, the pool's timers, qualification, the pipeline's
//! stages, events and notifications) is a [`Hook`], and the hooks run in the order of one list
//! (`xiansuo_app::hooks::ALL`) carried by every [`Ctx`]. The engine names no feature: adding
//! a step is one type implementing [`Hook`] and one line in that list.

use crate::error::StoreResult;
use crate::records::schema::Table;
use crate::scope::Actor;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use xiansuo_core::history::Channel;
use xiansuo_store::{Db, Param, Tx};

/// The hooks of a record's life, in the order they run.
pub type Hooks = [&'static dyn Hook];

/// Who does what, through which channel, at what time.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub actor: &'a Actor,
    pub channel: Channel,
    pub now: DateTime<Utc>,
    /// The steps a record's life goes through, in order (the product's are
    /// `xiansuo_app::hooks::ALL`).
    pub hooks: &'static Hooks,
}

/// Who made a change, through which channel, when: what history records of it. Unlike
/// [`Ctx`] it owns nothing borrowed, so queued writes can carry it.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub actor_id: i64,
    pub channel: Channel,
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    pub fn stamp(&self) -> Stamp {
        Stamp {
            actor_id: self.actor.user_id,
            channel: self.channel,
            now: self.now,
        }
    }
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("actor", &self.actor.user_id)
            .field("channel", &self.channel)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// A record ready to be inserted: parsed, checked against custom fields, its owner and links
/// verified. Writing it cannot fail on its values, so many can be written in one transaction.
pub struct NewRecord {
    pub(super) table: &'static Table,
    pub(super) columns: Vec<(String, Param)>,
    pub(super) stamp: Stamp,
    pub(super) owner_explicit: bool,
    pub(super) hooks: &'static Hooks,
}

impl NewRecord {
    /// The table the record goes into.
    pub fn table(&self) -> &'static Table {
        self.table
    }

    /// The value a column will get, if set.
    pub fn get(&self, column: &str) -> Option<&Param> {
        self.columns
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, p)| p)
    }

    /// Sets a column's value (rules filling in score, owner, …).
    pub fn set(&mut self, column: &str, value: Param) {
        match self.columns.iter_mut().find(|(c, _)| c == column) {
            Some((_, p)) => *p = value,
            None => self.columns.push((column.to_owned(), value)),
        }
    }

    /// True when the request named the owner; assignment rules then leave it alone.
    pub fn owner_explicit(&self) -> bool {
        self.owner_explicit
    }

    /// Who creates the record, through which channel, when.
    pub fn stamp(&self) -> Stamp {
        self.stamp
    }
}

impl std::fmt::Debug for NewRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewRecord")
            .field("table", &self.table.name)
            .field("columns", &self.columns)
            .field("stamp", &self.stamp)
            .finish_non_exhaustive()
    }
}

/// A change to a record about to be written, as the hooks see it.
#[derive(Debug)]
pub struct Change<'a> {
    pub table: &'static Table,
    pub id: i64,
    /// The record before the change, as the API shows it.
    pub before: &'a Value,
    /// The new owner, when the change gives the record to someone else.
    pub new_owner: Option<i64>,
    /// The change's time, in Unix milliseconds.
    pub now: i64,
}

/// A step of every record's life. Each method runs for every record of every table; a hook
/// returns at once for the tables it does not act on. All methods do nothing by default.
#[async_trait]
pub trait Hook: Send + Sync {
    /// A new record, parsed and checked, before it is written: it may refuse the record or
    /// fill in columns. It runs outside the write transaction, so it only reads.
    async fn preparing(&self, _ctx: Ctx<'_>, _record: &mut NewRecord) -> StoreResult<()> {
        Ok(())
    }

    /// New records about to be inserted together, in the write transaction.
    async fn inserting(&self, _tx: &mut Tx, _records: &mut [&mut NewRecord]) -> anyhow::Result<()> {
        Ok(())
    }

    /// A record just inserted, as the API shows it.
    async fn created(
        &self,
        _tx: &mut Tx,
        _stamp: Stamp,
        _table: &'static Table,
        _record: &Value,
    ) -> anyhow::Result<()> {
        Ok(())
    }

    /// A change about to be written: it may refuse it or add columns to write.
    async fn changing(
        &self,
        _tx: &mut Tx,
        _change: &Change<'_>,
        _columns: &mut Vec<(String, Param)>,
    ) -> StoreResult<()> {
        Ok(())
    }

    /// A change just written, before it is recorded in the history: it may refuse it or
    /// change the record again, and returns the record as it now is.
    async fn written(
        &self,
        _ctx: Ctx<'_>,
        _tx: &mut Tx,
        _change: &Change<'_>,
        after: Value,
    ) -> StoreResult<Value> {
        Ok(after)
    }

    /// A change recorded in the history (one that changed something): it may change the
    /// record again, and returns the record as it now is.
    async fn changed(
        &self,
        _ctx: Ctx<'_>,
        _tx: &mut Tx,
        _change: &Change<'_>,
        after: Value,
    ) -> StoreResult<Value> {
        Ok(after)
    }

    /// A record deleted (`deleted`) or restored, as it now is.
    async fn deleted(
        &self,
        _tx: &mut Tx,
        _stamp: Stamp,
        _table: &'static Table,
        _record: &Value,
        _deleted: bool,
    ) -> anyhow::Result<()> {
        Ok(())
    }
}
