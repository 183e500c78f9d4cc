//! The login-throttling rule: how many failures, in what window, block for how long.
//!
//! Counters are kept per account name and per client address (in the database, so that several
//! API instances share them). Blocking grows with every failure past the allowance.

use chrono::{Duration, NaiveDateTime};

/// Limits for one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failures allowed in one window before the key is blocked.
    pub allowed: i32,
    /// The window over which failures are counted.
    pub window: Duration,
    /// The first block; each further failure doubles it.
    pub first_block: Duration,
    /// The longest block.
    pub max_block: Duration,
}

/// Per account name: 5 failures in 15 minutes, then 30 s, 60 s, … up to 15 minutes.
pub const ACCOUNT: Limits = Limits {
    allowed: 5,
    window: Duration::minutes(15),
    first_block: Duration::seconds(30),
    max_block: Duration::minutes(15),
};

/// Per client address: 30 failures in 15 minutes (an office behind one NAT shares an address).
pub const ADDRESS: Limits = Limits {
    allowed: 30,
    window: Duration::minutes(15),
    first_block: Duration::seconds(60),
    max_block: Duration::minutes(30),
};

/// The stored state of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Failures in the current window.
    pub failures: i32,
    /// When the current window began.
    pub window_started_at: NaiveDateTime,
    /// Attempts are refused until then.
    pub blocked_until: Option<NaiveDateTime>,
}

impl Limits {
    /// Seconds the caller must still wait, if the key is blocked at `now`.
    pub fn retry_after(&self, counter: Option<&Counter>, now: NaiveDateTime) -> Option<u64> {
        let until = counter?.blocked_until?;
        (until > now).then(|| {
            ((until - now).num_milliseconds() as u64)
                .div_ceil(1000)
                .max(1)
        })
    }

    /// The counter after one more failure at `now`.
    pub fn after_failure(&self, counter: Option<&Counter>, now: NaiveDateTime) -> Counter {
        let (failures, window_started_at) = match counter {
            Some(c) if now - c.window_started_at < self.window => {
                (c.failures + 1, c.window_started_at)
            }
            _ => (1, now),
        };
        let blocked_until = (failures > self.allowed).then(|| {
            let doublings = (failures - self.allowed - 1).min(20) as u32;
            let block = self.first_block * 2i32.pow(doublings.min(30));
            now + block.min(self.max_block)
        });
        Counter {
            failures,
            window_started_at,
            blocked_until,
        }
    }
}

/// Where one key stands against its limits, for the `RateLimit` header: failed attempts left
/// before it is blocked, and seconds until that allowance is whole again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Failures still allowed in the current window (0 while blocked).
    pub remaining: i32,
    /// Seconds until the window ends or the block lifts, whichever is later.
    pub reset_secs: i64,
}

/// One named limit and where a caller stands against it (`RateLimit-Policy` / `RateLimit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The policy's name: `account` or `address`.
    pub name: &'static str,
    /// The limit.
    pub limits: Limits,
    /// The caller's standing.
    pub standing: Standing,
}

impl Limits {
    /// The standing of a key at `now`: a key without failures in a live window has the whole
    /// allowance, reset in one window.
    pub fn standing(&self, counter: Option<&Counter>, now: NaiveDateTime) -> Standing {
        let live = counter.filter(|c| {
            now - c.window_started_at < self.window || c.blocked_until.is_some_and(|u| u > now)
        });
        let Some(c) = live else {
            return Standing {
                remaining: self.allowed,
                reset_secs: self.window.num_seconds(),
            };
        };
        let window_end = c.window_started_at + self.window;
        let until = c.blocked_until.map_or(window_end, |b| b.max(window_end));
        let blocked = c.blocked_until.is_some_and(|u| u > now);
        Standing {
            remaining: if blocked {
                0
            } else {
                (self.allowed - c.failures).max(0)
            },
            reset_secs: ((until - now).num_milliseconds().max(0) as u64).div_ceil(1000) as i64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_700_000_000 + secs, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn the_allowance_passes_then_blocks_grow() {
        let mut c = None;
        for i in 0..ACCOUNT.allowed {
            let next = ACCOUNT.after_failure(c.as_ref(), t(i as i64));
            assert_eq!(next.blocked_until, None);
            c = Some(next);
        }
        let sixth = ACCOUNT.after_failure(c.as_ref(), t(10));
        assert_eq!(sixth.blocked_until, Some(t(40)));
        assert_eq!(ACCOUNT.retry_after(Some(&sixth), t(10)), Some(30));
        let seventh = ACCOUNT.after_failure(Some(&sixth), t(41));
        assert_eq!(seventh.blocked_until, Some(t(101)));
        assert_eq!(ACCOUNT.retry_after(Some(&seventh), t(200)), None);
    }

    #[test]
    fn the_standing_counts_down_the_allowance_and_blocks_at_zero() {
        assert_eq!(
            ACCOUNT.standing(None, t(0)),
            Standing {
                remaining: 5,
                reset_secs: 900
            }
        );
        let mut c = None;
        for i in 0..3 {
            c = Some(ACCOUNT.after_failure(c.as_ref(), t(i)));
        }
        assert_eq!(
            ACCOUNT.standing(c.as_ref(), t(100)),
            Standing {
                remaining: 2,
                reset_secs: 800
            }
        );
        for i in 3..6 {
            c = Some(ACCOUNT.after_failure(c.as_ref(), t(i)));
        }
        assert_eq!(ACCOUNT.standing(c.as_ref(), t(10)).remaining, 0);
        assert_eq!(ACCOUNT.standing(c.as_ref(), t(2000)).remaining, 5);
    }

    #[test]
    fn an_old_window_starts_afresh() {
        let old = Counter {
            failures: 50,
            window_started_at: t(0),
            blocked_until: Some(t(60)),
        };
        let next = ACCOUNT.after_failure(Some(&old), t(16 * 60));
        assert_eq!(next.failures, 1);
        assert_eq!(next.blocked_until, None);
    }

    #[test]
    fn blocks_never_exceed_the_maximum() {
        let mut c = None;
        for i in 0..100 {
            c = Some(ACCOUNT.after_failure(c.as_ref(), t(i)));
        }
        let c = c.unwrap();
        assert!(c.blocked_until.unwrap() - t(99) <= ACCOUNT.max_block);
    }
}
