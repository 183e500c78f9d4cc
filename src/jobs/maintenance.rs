//! Housekeeping: expired refresh tokens, old idempotency answers and stale login counters.

use crate::db::{write_tx, Db};
use crate::error::ApiError;
use crate::store::{self, idempotency, sessions, throttle};
use chrono::Duration;

/// What one pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Refresh tokens expired for over a day.
    pub refresh_tokens: usize,
    /// Idempotency answers older than 7 days.
    pub idempotency_keys: usize,
    /// Login counters a day old that block nobody.
    pub login_throttles: usize,
}

/// Runs one pass.
pub fn run_once(db: &Db) -> Result<Purged, ApiError> {
    let mut c = db.get()?;
    let now = store::now();
    write_tx(&mut c, |c| {
        Ok(Purged {
            refresh_tokens: sessions::purge_expired(c, now - Duration::days(1))?,
            idempotency_keys: idempotency::purge(c, now - Duration::days(7))?,
            login_throttles: throttle::purge(c, now - Duration::days(1), now)?,
        })
    })
}
