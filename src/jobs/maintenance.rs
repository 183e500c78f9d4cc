//! Housekeeping: expired refresh tokens, old idempotency answers and stale login counters, and
//! evidence files whose upload never reached its database row.

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

/// How long a spool file or an object without a row may be an upload still in flight.
pub const FILE_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes spool files and stored objects that have no row and are older than `grace` (an
/// upload cut short by a crash); returns how many went.
pub async fn sweep_files(
    db: &Db,
    storage: &crate::storage::Storage,
    grace: std::time::Duration,
) -> Result<usize, ApiError> {
    let db = db.clone();
    storage
        .sweep(
            move |keys| {
                let mut c = db.get()?;
                Ok(store::attachments::known_keys(&mut c, keys)?)
            },
            grace,
        )
        .await
}
