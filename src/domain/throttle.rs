//! The login-throttling rule: how many failures, in what window, block for how long.
//!
//! Counters are kept per account name and per client address (in the database, so that several
//! API instances share them). Blocking grows with every failure past the allowance.

use chrono::{Duration, NaiveDateTime};

/// Limits for one kind of key.
#[derive(Debug, Clone, Copy)]
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
