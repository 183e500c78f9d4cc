//! Automatic reminders: a reminder (提醒) a few days before an assignment's due date, and an urge
//! (催办) once it has passed, never twice for the same assignment, period and kind.
//!
//! Each pass claims work in batches inside a transaction (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, the single writer lock on SQLite) and logs every reminder under a primary key
//! with `ON CONFLICT DO NOTHING`: a reminder is sent only by the worker whose log row went in,
//! so several workers can run at once.

use crate::db::{write_tx, Db};
use crate::domain::desk::ReminderKind;
use crate::domain::ids::{AssignmentId, UnitId};
use crate::error::ApiError;
use crate::store::{self, urges};
use chrono::{Days, NaiveDate};
use std::collections::BTreeMap;
use std::time::Duration;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Assignments reminded before their due date.
    pub reminded: usize,
    /// Assignments urged after their due date.
    pub urged: usize,
    /// Urges issued (one per unit and kind per batch).
    pub urges_issued: usize,
}

const BATCH: i64 = 500;

/// One batch after assignment id `after`: returns how many were claimed, the last id, how many
/// were reminded and how many urges went out.
fn batch(
    c: &mut crate::db::AnyConnection,
    kind: ReminderKind,
    (from, to): (NaiveDate, NaiveDate),
    after: i64,
    today: NaiveDate,
) -> Result<(usize, i64, usize, usize), ApiError> {
    write_tx(c, |c| {
        let now = store::now();
        let claimed = urges::claim(c, kind, from, to, after, BATCH)?;
        let Some(last) = claimed.last().map(|a| a.id) else {
            return Ok((0, after, 0, 0));
        };
        let mut by_unit: BTreeMap<i64, Vec<(i64, NaiveDate)>> = BTreeMap::new();
        for a in &claimed {
            // Once per assignment, kind and period: the period due, or the one whose report
            // is missing (the deadline's).
            let period = match kind {
                ReminderKind::BeforeDue => a.cycle.period_of(a.due_date),
                ReminderKind::AfterDue => a.cycle.period_of(a.deadline),
            };
            if urges::log_once(c, a.id, &period, kind, now)? {
                by_unit
                    .entry(a.unit_id)
                    .or_default()
                    .push((a.id, a.due_date));
            }
        }
        let mut issued = 0;
        let mut sent = 0;
        for (unit, list) in by_unit {
            let earliest = list.iter().map(|x| x.1).min().unwrap_or(today);
            let severity = kind.severity();
            let message = match kind {
                ReminderKind::BeforeDue => format!(
                    "提醒：贵单位有{}项任务将于{}前到期，请按时报送完成情况。",
                    list.len(),
                    earliest
                ),
                ReminderKind::AfterDue => format!(
                    "催办：贵单位有{}项任务已超过完成时限（最早{}），请尽快报送完成情况。",
                    list.len(),
                    earliest
                ),
            };
            let ids: Vec<AssignmentId> = list.iter().map(|x| AssignmentId(x.0)).collect();
            let urge = urges::insert(
                c,
                &urges::NewUrge {
                    unit_id: UnitId(unit),
                    severity,
                    message,
                    reply_by: today.checked_add_days(Days::new(7)),
                    automatic: true,
                    issued_by: None,
                    issued_at: now,
                },
                &ids,
            )?;
            let raw: Vec<i64> = list.iter().map(|x| x.0).collect();
            urges::attach_log(c, &raw, kind, urge)?;
            issued += 1;
            sent += list.len();
        }
        Ok((claimed.len(), last, sent, issued))
    })
}

/// Runs one pass as of `today`: reminders for work due within `days_before` days, urges for
/// work late (past its deadline, read from the standing like every other view).
pub fn run_once(db: &Db, today: NaiveDate, days_before: u64) -> Result<PassSummary, ApiError> {
    let mut c = db.get()?;
    let mut s = PassSummary::default();
    let soon = today
        .checked_add_days(Days::new(days_before))
        .unwrap_or(today);
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let long_ago = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(today);
    for (kind, window) in [
        (ReminderKind::BeforeDue, (today, soon)),
        (ReminderKind::AfterDue, (long_ago, yesterday)),
    ] {
        let mut after = 0;
        loop {
            let (claimed, last, n, issued) = batch(&mut c, kind, window, after, today)?;
            match kind {
                ReminderKind::BeforeDue => s.reminded += n,
                ReminderKind::AfterDue => s.urged += n,
            }
            s.urges_issued += issued;
            if claimed < BATCH as usize {
                break;
            }
            after = last;
        }
    }
    Ok(s)
}

/// Runs a reminder pass (and housekeeping) every `interval` on the blocking pool until the
/// process ends.
pub fn spawn(db: Db, interval: Duration, days_before: u64) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(interval);
        loop {
            tick.tick().await;
            let db = db.clone();
            let today = chrono::Utc::now().date_naive();
            match actix_web::web::block(move || {
                if let Err(e) = super::maintenance::run_once(&db) {
                    tracing::warn!(error = %e, "housekeeping failed");
                }
                run_once(&db, today, days_before)
            })
            .await
            {
                Ok(Ok(s)) if s.urges_issued > 0 => tracing::info!(
                    reminded = s.reminded,
                    urged = s.urged,
                    urges = s.urges_issued,
                    "reminder pass"
                ),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "reminder pass failed"),
                Err(e) => tracing::warn!(error = %e, "reminder pass did not run"),
            }
        }
    });
}
