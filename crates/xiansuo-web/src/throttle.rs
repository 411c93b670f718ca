//! Sign-in throttling that cannot be turned against a user. Failed sign-ins are counted per
//! (username, address) and per address, each with growing delays once its free attempts are
//! spent; nothing is counted per username alone, so wrong passwords sent from elsewhere never
//! keep the right password from an address without failures out. An admin can lift a user's
//! throttles at once. The counts live in each instance's memory and are forgotten an hour after
//! the last failure.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins for one username from one address before delays start.
pub const FREE_PER_USER_AND_ADDRESS: u32 = 5;
/// Failed sign-ins from one address, for any usernames, before delays start.
pub const FREE_PER_ADDRESS: u32 = 20;
/// The first delay; each further failure doubles it, up to [`LONGEST_DELAY`].
pub const FIRST_DELAY: Duration = Duration::from_secs(30);
/// The longest delay between two attempts.
pub const LONGEST_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures are forgotten this long after the last one.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Beyond this many keys, forgotten ones are swept on the next failure.
const SWEEP_ABOVE: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    UserAt(String, IpAddr),
    Address(IpAddr),
}

impl Key {
    fn free(&self) -> u32 {
        match self {
            Key::UserAt(..) => FREE_PER_USER_AND_ADDRESS,
            Key::Address(_) => FREE_PER_ADDRESS,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Strikes {
    count: u32,
    last: Instant,
}

impl Strikes {
    /// How long after the last failure the next attempt waits.
    fn delay(self, free: u32) -> Duration {
        if self.count < free {
            return Duration::ZERO;
        }
        let doublings = (self.count - free).min(10);
        (FIRST_DELAY * 2_u32.pow(doublings)).min(LONGEST_DELAY)
    }
}

/// Why a sign-in attempt must wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    /// Whole seconds until an attempt is taken again (at least 1).
    pub retry_after_secs: u64,
    /// What is throttled, for the log: the username at the address, or the address.
    pub what: String,
}

/// The failed sign-ins an instance has seen.
#[derive(Default)]
pub struct SignInThrottle {
    strikes: Mutex<HashMap<Key, Strikes>>,
}

fn keys(username: &str, address: IpAddr) -> [Key; 2] {
    [
        Key::UserAt(username.to_lowercase(), address),
        Key::Address(address),
    ]
}

impl SignInThrottle {
    /// Refuses an attempt that comes before its delay has passed.
    pub fn check(&self, username: &str, address: IpAddr) -> Result<(), Throttled> {
        let strikes = self.strikes.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        for key in keys(username, address) {
            let Some(s) = strikes.get(&key) else { continue };
            let wait = (s.last + s.delay(key.free())).saturating_duration_since(now);
            if !wait.is_zero() {
                return Err(Throttled {
                    // Rounded up: an attempt made after that many seconds is taken.
                    retry_after_secs: (wait + Duration::from_millis(999)).as_secs(),
                    what: match key {
                        Key::UserAt(user, at) => format!("{user} at {at}"),
                        Key::Address(at) => at.to_string(),
                    },
                });
            }
        }
        Ok(())
    }

    /// Counts a failed attempt.
    pub fn failed(&self, username: &str, address: IpAddr) {
        let mut strikes = self.strikes.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if strikes.len() > SWEEP_ABOVE {
            strikes.retain(|_, s| now.duration_since(s.last) < FORGET_AFTER);
        }
        for key in keys(username, address) {
            let s = strikes.entry(key).or_insert(Strikes {
                count: 0,
                last: now,
            });
            if now.duration_since(s.last) >= FORGET_AFTER {
                s.count = 0;
            }
            s.count += 1;
            s.last = now;
        }
    }

    /// A successful sign-in clears the failures of that username at that address.
    pub fn succeeded(&self, username: &str, address: IpAddr) {
        let mut strikes = self.strikes.lock().unwrap_or_else(|e| e.into_inner());
        strikes.remove(&Key::UserAt(username.to_lowercase(), address));
    }

    /// Lifts every throttle of a username (an admin's unlock); says whether there was one.
    pub fn unlock(&self, username: &str) -> bool {
        let username = username.to_lowercase();
        let mut strikes = self.strikes.lock().unwrap_or_else(|e| e.into_inner());
        let before = strikes.len();
        strikes.retain(|key, _| !matches!(key, Key::UserAt(user, _) if *user == username));
        strikes.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(address: &str) -> IpAddr {
        address.parse().unwrap()
    }

    #[test]
    fn failures_from_one_address_do_not_lock_the_user_out_elsewhere() {
        let throttle = SignInThrottle::default();
        let attacker = at("203.0.113.9");
        for _ in 0..FREE_PER_USER_AND_ADDRESS {
            assert!(throttle.check("alice", attacker).is_ok());
            throttle.failed("alice", attacker);
        }
        let refused = throttle.check("Alice", attacker).unwrap_err();
        assert_eq!(refused.retry_after_secs, FIRST_DELAY.as_secs());
        assert_eq!(refused.what, "alice at 203.0.113.9");
        assert!(throttle.check("alice", at("198.51.100.7")).is_ok());
        assert!(throttle.check("bob", attacker).is_ok());
    }

    #[test]
    fn delays_double_up_to_the_longest() {
        let free = FREE_PER_USER_AND_ADDRESS;
        let strikes = |count| Strikes {
            count,
            last: Instant::now(),
        };
        assert_eq!(strikes(free - 1).delay(free), Duration::ZERO);
        assert_eq!(strikes(free).delay(free), FIRST_DELAY);
        assert_eq!(strikes(free + 1).delay(free), FIRST_DELAY * 2);
        assert_eq!(strikes(free + 2).delay(free), FIRST_DELAY * 4);
        assert_eq!(strikes(free + 30).delay(free), LONGEST_DELAY);
    }

    #[test]
    fn many_usernames_from_one_address_throttle_the_address() {
        let throttle = SignInThrottle::default();
        let sprayer = at("203.0.113.10");
        for i in 0..FREE_PER_ADDRESS {
            throttle.failed(&format!("user{i}"), sprayer);
        }
        let refused = throttle.check("someone-new", sprayer).unwrap_err();
        assert_eq!(refused.what, "203.0.113.10");
        assert!(throttle.check("someone-new", at("198.51.100.8")).is_ok());
    }

    #[test]
    fn an_unlock_or_a_success_clears_the_user() {
        let throttle = SignInThrottle::default();
        let (home, office) = (at("10.0.0.1"), at("10.0.0.2"));
        for _ in 0..FREE_PER_USER_AND_ADDRESS {
            throttle.failed("alice", home);
            throttle.failed("alice", office);
        }
        throttle.succeeded("alice", home);
        assert!(throttle.check("alice", home).is_ok());
        assert!(throttle.check("alice", office).is_err());
        assert!(throttle.unlock("ALICE"));
        assert!(throttle.check("alice", office).is_ok());
        assert!(!throttle.unlock("alice"), "nothing left to lift");
    }
}
