//! Working hours (工作时间) and the clock of service-level rules: "no first contact within 4
//! working hours" counts only the time the team works, in its time zone, skipping weekends and
//! public holidays and counting the weekend days worked in their place (调休).
//!
//! Everything here is a pure function of the settings and the instants given, so SLA deadlines
//! are the same on every instance and testable without a database.

use crate::Invalid;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::BTreeSet;

/// When a team works: the days of the week, one daily window, in one time zone, with dated
/// exceptions both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    pub time_zone: Tz,
    /// ISO weekdays worked: 1 = Monday … 7 = Sunday.
    pub weekdays: BTreeSet<u8>,
    /// The daily window, `start` < `end`, in local time.
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// Dates not worked although their weekday is (public holidays).
    pub holidays: BTreeSet<NaiveDate>,
    /// Dates worked although their weekday is not (调休 make-up days).
    pub workdays: BTreeSet<NaiveDate>,
}

/// How far ahead a deadline is looked for before giving up: settings with no working day at
/// all are refused when parsed, so this only bounds pathological holiday lists.
const MAX_DAYS: u32 = 3 * 366;

impl Default for WorkingHours {
    /// Monday to Friday, 09:00–18:00, China Standard Time.
    fn default() -> Self {
        WorkingHours {
            time_zone: chrono_tz::Asia::Shanghai,
            weekdays: (1..=5).collect(),
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
        }
    }
}

/// Parses `HH:MM`.
pub fn parse_time(field: &str, value: &str) -> Result<NaiveTime, Invalid> {
    NaiveTime::parse_from_str(value.trim(), "%H:%M")
        .map_err(|_| Invalid::new(field, format!("'{value}' is not a time of day as HH:MM")))
}

/// Parses an IANA time zone name such as `Asia/Shanghai`.
pub fn parse_time_zone(field: &str, value: &str) -> Result<Tz, Invalid> {
    value.trim().parse::<Tz>().map_err(|_| {
        Invalid::new(
            field,
            format!("'{value}' is not an IANA time zone such as Asia/Shanghai"),
        )
    })
}

impl WorkingHours {
    /// Checks settings that fit together: a window that starts before it ends and at least one
    /// weekday worked.
    pub fn new(
        time_zone: Tz,
        weekdays: BTreeSet<u8>,
        start: NaiveTime,
        end: NaiveTime,
        holidays: BTreeSet<NaiveDate>,
        workdays: BTreeSet<NaiveDate>,
    ) -> Result<Self, Invalid> {
        if let Some(day) = weekdays.iter().find(|d| !(1..=7).contains(*d)) {
            return Err(Invalid::new(
                "weekdays",
                format!("{day} is not a weekday: use 1 (Monday) to 7 (Sunday)"),
            ));
        }
        if weekdays.is_empty() {
            return Err(Invalid::new("weekdays", "name at least one weekday worked"));
        }
        if start >= end {
            return Err(Invalid::new(
                "end",
                "the working day must end after it starts, on the same day",
            ));
        }
        Ok(WorkingHours {
            time_zone,
            weekdays,
            start,
            end,
            holidays,
            workdays,
        })
    }

    /// True when `date` (local) is worked.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        let weekday = date.weekday().number_from_monday() as u8;
        self.weekdays.contains(&weekday)
    }

    /// The instant a local wall-clock time happens. In a daylight-saving gap the time does not
    /// exist; the instant an hour later stands in for it.
    fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let tz = self.time_zone;
        tz.from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })
            .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// The instant at which `working` time has passed after `from`, counting only working
    /// hours: assigned on Friday at 17:00 with two working hours to go, due Monday at 10:00.
    pub fn add(&self, from: DateTime<Utc>, working: Duration) -> DateTime<Utc> {
        if working <= Duration::zero() {
            return from;
        }
        let mut left = working;
        let mut date = from.with_timezone(&self.time_zone).date_naive();
        for _ in 0..MAX_DAYS {
            if self.is_working_day(date) {
                let open = self.instant(date.and_time(self.start)).max(from);
                let close = self.instant(date.and_time(self.end));
                if open < close {
                    let available = close - open;
                    if left <= available {
                        return open + left;
                    }
                    left -= available;
                }
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        DateTime::<Utc>::MAX_UTC
    }

    /// The local calendar day `at` falls in, as the instants of its first and next midnight.
    pub fn day_bounds(&self, at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let date = at.with_timezone(&self.time_zone).date_naive();
        let next = date.succ_opt().unwrap_or(date);
        (
            self.instant(date.and_time(NaiveTime::MIN)),
            self.instant(next.and_time(NaiveTime::MIN)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A local China Standard Time as an instant.
    fn cst(date: &str, time: &str) -> DateTime<Utc> {
        let local = NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M")
            .expect("a test time");
        chrono_tz::Asia::Shanghai
            .from_local_datetime(&local)
            .single()
            .expect("one instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn friday_evening_plus_two_working_hours_is_monday_ten() {
        let hours = WorkingHours::default();
        // 2026-11-06 is a Friday.
        assert_eq!(
            hours.add(cst("2026-11-06", "17:00"), Duration::hours(2)),
            cst("2026-11-09", "10:00")
        );
    }

    #[test]
    fn time_within_a_working_day_counts_as_is() {
        let hours = WorkingHours::default();
        assert_eq!(
            hours.add(cst("2026-11-03", "10:30"), Duration::hours(4)),
            cst("2026-11-03", "14:30")
        );
        // Ending exactly at closing time stays on that day.
        assert_eq!(
            hours.add(cst("2026-11-03", "09:00"), Duration::hours(9)),
            cst("2026-11-03", "18:00")
        );
    }

    #[test]
    fn time_outside_working_hours_starts_at_the_next_opening() {
        let hours = WorkingHours::default();
        // Before opening on a Tuesday.
        assert_eq!(
            hours.add(cst("2026-11-03", "06:00"), Duration::hours(1)),
            cst("2026-11-03", "10:00")
        );
        // After closing: the next morning.
        assert_eq!(
            hours.add(cst("2026-11-03", "20:00"), Duration::minutes(30)),
            cst("2026-11-04", "09:30")
        );
        // On a Saturday: Monday.
        assert_eq!(
            hours.add(cst("2026-11-07", "11:00"), Duration::hours(3)),
            cst("2026-11-09", "12:00")
        );
    }

    #[test]
    fn several_days_of_working_hours_skip_the_weekend() {
        let hours = WorkingHours::default();
        // 24 working hours from Thursday 09:00: Thu 9h, Fri 9h, Mon 6h.
        assert_eq!(
            hours.add(cst("2026-11-05", "09:00"), Duration::hours(24)),
            cst("2026-11-09", "15:00")
        );
    }

    #[test]
    fn holidays_are_skipped_and_make_up_days_are_worked() {
        let mut hours = WorkingHours::default();
        // National Day week 2026: 10-01 (Thu) to 10-08 off, Sunday 09-27 and Saturday 10-10 worked.
        for d in 1..=8 {
            hours
                .holidays
                .insert(NaiveDate::from_ymd_opt(2026, 10, d).unwrap());
        }
        hours
            .workdays
            .insert(NaiveDate::from_ymd_opt(2026, 9, 27).unwrap());
        hours
            .workdays
            .insert(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap());
        assert_eq!(
            hours.add(cst("2026-09-30", "17:00"), Duration::hours(2)),
            cst("2026-10-09", "10:00")
        );
        assert_eq!(
            hours.add(cst("2026-09-26", "12:00"), Duration::hours(1)),
            cst("2026-09-27", "10:00")
        );
        assert!(hours.is_working_day(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()));
        assert!(!hours.is_working_day(NaiveDate::from_ymd_opt(2026, 10, 5).unwrap()));
    }

    #[test]
    fn other_time_zones_count_in_their_own_local_time() {
        let hours = WorkingHours::new(
            chrono_tz::Europe::Berlin,
            (1..=5).collect(),
            parse_time("start", "08:00").unwrap(),
            parse_time("end", "16:00").unwrap(),
            BTreeSet::new(),
            BTreeSet::new(),
        )
        .unwrap();
        // Friday 2026-03-27 15:00 in Berlin is 14:00 UTC (CET); Monday 09:00 is 07:00 UTC (CEST).
        let from = Utc.with_ymd_and_hms(2026, 3, 27, 14, 0, 0).unwrap();
        assert_eq!(
            hours.add(from, Duration::hours(2)),
            Utc.with_ymd_and_hms(2026, 3, 30, 7, 0, 0).unwrap()
        );
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        let nine = parse_time("start", "09:00").unwrap();
        let six = parse_time("end", "18:00").unwrap();
        let tz = parse_time_zone("time_zone", "Asia/Shanghai").unwrap();
        let none = BTreeSet::new;
        assert!(WorkingHours::new(tz, BTreeSet::new(), nine, six, none(), none()).is_err());
        assert!(WorkingHours::new(tz, [8].into(), nine, six, none(), none()).is_err());
        assert!(WorkingHours::new(tz, [1].into(), six, nine, none(), none()).is_err());
        assert!(parse_time_zone("time_zone", "Mars/Olympus").is_err());
        assert!(parse_time("start", "9am").is_err());
        assert!(crate::validation::date("holidays", "2026-02-30").is_err());
    }

    #[test]
    fn a_local_day_runs_from_midnight_to_midnight() {
        let hours = WorkingHours::default();
        let (start, end) = hours.day_bounds(cst("2026-11-03", "00:30"));
        assert_eq!(start, cst("2026-11-03", "00:00"));
        assert_eq!(end, cst("2026-11-04", "00:00"));
    }
}
