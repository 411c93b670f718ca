//! Where "now" comes from. Every rule that depends on time reads a `Clock`, never the system
//! time directly and never SQL `now()`, so that tests of timers are deterministic and both
//! databases store the same instants.

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::{Arc, Mutex};

/// A source of the current instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move: for tests and for `jobs run-due --at`.
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<DateTime<Utc>>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Milliseconds since the Unix epoch: how instants are stored in both databases.
pub fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// China Standard Time's offset from UTC, in milliseconds: the days, weeks and months of
/// reports and forecasts are counted in it.
pub const CHINA_OFFSET_MS: i64 = 8 * 3_600_000;

/// The calendar day in China at an instant.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    (at + chrono::Duration::milliseconds(CHINA_OFFSET_MS)).date_naive()
}

/// The instant (in milliseconds) at which a day begins in China.
pub fn china_midnight(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis())
        - CHINA_OFFSET_MS
}

/// A bound of a time range given as an RFC 3339 instant, or as a date in China time: its
/// start, or for the end bound (`end`) the start of the next day, so the date is included.
pub fn parse_bound(name: &str, value: &str, end: bool) -> Result<i64, crate::Invalid> {
    let value = value.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        // An instant given as the end is included.
        return Ok(at.timestamp_millis() + i64::from(end));
    }
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let start = china_midnight(date);
        return Ok(if end { start + 86_400_000 } else { start });
    }
    Err(crate::Invalid::new(
        name,
        format!("'{value}' is not a date (YYYY-MM-DD) or an RFC 3339 time"),
    ))
}

/// The inverse of [`to_millis`]; out-of-range values clamp to the epoch rather than panic.
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
