//! The steps of every record's life, in the order they run (see
//! [`crate::records::lifecycle::Hook`] for when each method runs): the qualification checklist
//! and the pipeline's stages check a record first, dedup screens it, scoring scores it, the win prediction gives it its probability,
//! assignment gives a new lead its owner, the pool's timers follow a change of owner, and the
//! announcements (events, the new owner told) come last, when the record is as it will stay.

use crate::channels::announce::Announcements;
use crate::leads::assignment::Assignment;
use crate::leads::dedup::Screening;
use crate::leads::pool::PoolTimers;
use crate::leads::prediction::Predicting;
use crate::leads::qualification::Qualifying;
use crate::leads::scoring::Scoring;
use crate::records::lifecycle::Hooks;
use crate::sales::pipeline::Stages;

/// The product's hooks, in order.
pub static ALL: &Hooks = &[
    &Qualifying,
    &Stages,
    &Screening,
    &Scoring,
    &Predicting,
    &Assignment,
    &PoolTimers,
    &Announcements,
];
