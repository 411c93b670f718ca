//! The public pool (公海) rules that need no database: when a held lead goes back to the pool
//! (no first follow-up within N hours of assignment, no follow-up within N days, not converted
//! within N days), when its owner is warned first, how the protection period (保护期) grows with
//! each follow-up, and how a phone number is shown to reps before they claim the lead.
//!
//! Instants are Unix milliseconds, as stored.

use crate::{Invalid, Phone};

/// Why a held lead is recycled into the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecycleKind {
    /// No follow-up since the current owner got the lead.
    NoFirstFollowUp,
    /// No follow-up for a while (the last one, or the assignment if none since).
    NoFollowUp,
    /// Not converted within a while of the assignment.
    NotConverted,
}

impl RecycleKind {
    pub const ALL: &'static [RecycleKind] = &[
        RecycleKind::NoFirstFollowUp,
        RecycleKind::NoFollowUp,
        RecycleKind::NotConverted,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RecycleKind::NoFirstFollowUp => "no_first_follow_up",
            RecycleKind::NoFollowUp => "no_follow_up",
            RecycleKind::NotConverted => "not_converted",
        }
    }

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.code() == value)
            .ok_or_else(|| {
                let codes: Vec<&str> = Self::ALL.iter().map(|k| k.code()).collect();
                Invalid::new(
                    "kind",
                    format!("'{value}' is not one of: {}", codes.join(", ")),
                )
            })
    }

    /// What the rule means, for notifications.
    pub fn label(self, lang: &str) -> &'static str {
        match (self, lang) {
            (RecycleKind::NoFirstFollowUp, "en") => "no first follow-up",
            (RecycleKind::NoFollowUp, "en") => "no follow-up",
            (RecycleKind::NotConverted, "en") => "not converted",
            (RecycleKind::NoFirstFollowUp, _) => "未及时首次跟进",
            (RecycleKind::NoFollowUp, _) => "长期未跟进",
            (RecycleKind::NotConverted, _) => "长期未转化",
        }
    }
}

/// The instants a held lead's timers run from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// When the current owner got it.
    pub assigned_at: i64,
    /// The last follow-up logged on it, by anyone, at any time.
    pub last_activity_at: Option<i64>,
    /// Not recycled before this instant.
    pub protected_until: Option<i64>,
}

/// A recycle rule's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recycle {
    pub kind: RecycleKind,
    /// How long after the timer starts the lead goes back.
    pub after_ms: i64,
    /// How long before that the owner is warned (0: no warning).
    pub warn_ms: i64,
}

/// What to do with a held lead now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing yet.
    Wait,
    /// Tell the owner it goes back at `due_at` unless they act. `timer_start` identifies this
    /// deadline, so the owner is warned once per deadline.
    Warn { due_at: i64, timer_start: i64 },
    /// Back to the pool.
    Recycle,
}

impl Recycle {
    /// When the rule's timer started, or `None` when the rule does not apply (a first follow-up
    /// was already logged).
    pub fn timer_start(&self, t: &Timers) -> Option<i64> {
        let followed_up = t.last_activity_at.is_some_and(|a| a >= t.assigned_at);
        match self.kind {
            RecycleKind::NoFirstFollowUp if followed_up => None,
            RecycleKind::NoFirstFollowUp | RecycleKind::NotConverted => Some(t.assigned_at),
            RecycleKind::NoFollowUp => {
                Some(t.assigned_at.max(t.last_activity_at.unwrap_or(i64::MIN)))
            }
        }
    }

    /// When the lead goes back: the rule's deadline, or the end of its protection if later.
    pub fn due_at(&self, t: &Timers) -> Option<i64> {
        let deadline = self.timer_start(t)?.saturating_add(self.after_ms);
        Some(deadline.max(t.protected_until.unwrap_or(i64::MIN)))
    }

    pub fn decide(&self, t: &Timers, now: i64) -> Decision {
        let (Some(start), Some(due)) = (self.timer_start(t), self.due_at(t)) else {
            return Decision::Wait;
        };
        if due <= now {
            Decision::Recycle
        } else if self.warn_ms > 0 && due - self.warn_ms <= now {
            Decision::Warn {
                due_at: due,
                timer_start: start,
            }
        } else {
            Decision::Wait
        }
    }
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// A pool's protection period: a claimed lead is protected for `days`; each follow-up renews
/// that from the moment it is logged, but never past `max_days` after the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    pub days: i64,
    pub max_days: i64,
}

impl Protection {
    /// The protection right after a claim at `claimed_at`.
    pub fn on_claim(&self, claimed_at: i64) -> Option<i64> {
        (self.days > 0).then(|| claimed_at + self.days.min(self.max_days) * DAY_MS)
    }

    /// The protection after a follow-up at `now` on a lead claimed at `claimed_at`: never
    /// shorter than it was, never past the maximum.
    pub fn on_activity(&self, current: Option<i64>, claimed_at: i64, now: i64) -> Option<i64> {
        if self.days <= 0 {
            return current;
        }
        let renewed = (now + self.days * DAY_MS).min(claimed_at + self.max_days * DAY_MS);
        Some(current.map_or(renewed, |c| c.max(renewed)))
    }
}

/// A phone number as reps see it in the pool before claiming the lead: the middle digits
/// hidden, Chinese numbers in their national form (`138****5678`), others in E.164.
pub fn masked_phone(e164: &str) -> String {
    match e164.strip_prefix("+86") {
        Some(national) if national.len() == 11 => {
            format!("{}****{}", &national[..3], &national[7..])
        }
        _ => Phone::mask(e164),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600 * 1000;

    fn timers(assigned: i64, activity: Option<i64>, protected: Option<i64>) -> Timers {
        Timers {
            assigned_at: assigned,
            last_activity_at: activity,
            protected_until: protected,
        }
    }

    #[test]
    fn no_first_follow_up_counts_from_the_assignment_until_someone_follows_up() {
        let rule = Recycle {
            kind: RecycleKind::NoFirstFollowUp,
            after_ms: 24 * H,
            warn_ms: 4 * H,
        };
        let fresh = timers(0, None, None);
        assert_eq!(rule.decide(&fresh, 19 * H), Decision::Wait);
        assert_eq!(
            rule.decide(&fresh, 20 * H),
            Decision::Warn {
                due_at: 24 * H,
                timer_start: 0
            }
        );
        assert_eq!(rule.decide(&fresh, 24 * H), Decision::Recycle);
        // A follow-up after the assignment ends the timer.
        assert_eq!(
            rule.decide(&timers(0, Some(H), None), 100 * H),
            Decision::Wait
        );
        // One from before the assignment (the previous owner's) does not.
        assert_eq!(
            rule.decide(&timers(10 * H, Some(H), None), 34 * H),
            Decision::Recycle
        );
    }

    #[test]
    fn no_follow_up_restarts_with_every_follow_up_and_every_owner_change() {
        let rule = Recycle {
            kind: RecycleKind::NoFollowUp,
            after_ms: 7 * 24 * H,
            warn_ms: 0,
        };
        assert_eq!(rule.due_at(&timers(0, None, None)), Some(7 * 24 * H));
        assert_eq!(
            rule.due_at(&timers(0, Some(48 * H), None)),
            Some(9 * 24 * H)
        );
        assert_eq!(
            rule.due_at(&timers(72 * H, Some(48 * H), None)),
            Some(10 * 24 * H)
        );
        // No warning configured: straight from waiting to recycling.
        assert_eq!(
            rule.decide(&timers(0, None, None), 7 * 24 * H - 1),
            Decision::Wait
        );
    }

    #[test]
    fn protection_holds_a_lead_past_its_deadline() {
        let rule = Recycle {
            kind: RecycleKind::NotConverted,
            after_ms: 10 * H,
            warn_ms: 2 * H,
        };
        let protected = timers(0, None, Some(30 * H));
        assert_eq!(rule.decide(&protected, 20 * H), Decision::Wait);
        assert_eq!(
            rule.decide(&protected, 29 * H),
            Decision::Warn {
                due_at: 30 * H,
                timer_start: 0
            }
        );
        assert_eq!(rule.decide(&protected, 30 * H), Decision::Recycle);
    }

    #[test]
    fn each_follow_up_extends_protection_up_to_the_maximum() {
        let p = Protection {
            days: 3,
            max_days: 10,
        };
        let claimed = 0;
        let first = p.on_claim(claimed);
        assert_eq!(first, Some(3 * DAY_MS));
        let after_day_two = p.on_activity(first, claimed, 2 * DAY_MS);
        assert_eq!(after_day_two, Some(5 * DAY_MS));
        // A follow-up cannot shorten it…
        assert_eq!(
            p.on_activity(Some(9 * DAY_MS), claimed, DAY_MS),
            Some(9 * DAY_MS)
        );
        // …and cannot take it past the maximum.
        assert_eq!(
            p.on_activity(after_day_two, claimed, 9 * DAY_MS),
            Some(10 * DAY_MS)
        );
        let none = Protection {
            days: 0,
            max_days: 0,
        };
        assert_eq!(none.on_claim(claimed), None);
        assert_eq!(none.on_activity(None, claimed, DAY_MS), None);
    }

    #[test]
    fn pool_phones_hide_the_middle_digits() {
        assert_eq!(masked_phone("+8613812345678"), "138****5678");
        assert_eq!(masked_phone("+14155552671"), Phone::mask("+14155552671"));
        assert!(!masked_phone("+14155552671").contains("555"));
    }

    #[test]
    fn kinds_parse_from_their_codes() {
        for kind in RecycleKind::ALL {
            assert_eq!(RecycleKind::parse(kind.code()).unwrap(), *kind);
        }
        assert!(RecycleKind::parse("never").is_err());
    }
}
