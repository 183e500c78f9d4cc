//! Folds the tallies of the current standings (`standing_tallies`) every minute, so that the
//! figures read a few rows per unit however many changes came in since
//! ([`crate::store::standing::compact_tallies`]). Safe with any number of instances.

use crate::db::Db;
use std::time::Duration;

/// How often the tallies are folded.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// Folds the tallies every [`INTERVAL`] on the blocking pool until the process ends.
pub fn spawn(db: Db) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(INTERVAL);
        loop {
            tick.tick().await;
            let db = db.clone();
            let done = actix_web::web::block(move || {
                let mut c = db.get()?;
                Ok::<_, crate::error::ApiError>(crate::store::standing::compact_tallies(&mut c)?)
            })
            .await;
            match done {
                Ok(Ok(rows)) => tracing::debug!(rows, "standing tallies folded"),
                Ok(Err(e)) => tracing::warn!(error = %e, "folding the standing tallies failed"),
                Err(e) => tracing::warn!(error = %e, "folding the standing tallies did not run"),
            }
        }
    });
}
