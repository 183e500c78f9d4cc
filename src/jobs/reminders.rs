//! Automatic reminders: a reminder (提醒) a few working days before an assignment's due date,
//! an urge (催办) once it has passed, and a reminder to sign (签收) for an assignment its unit
//! has not signed for some working days after the plan was published — never twice for the
//! same assignment, period and kind while the same unit holds it, and never on a day that is
//! not a working day on the calendar: what falls due then goes out on the next working day.
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
    /// Assignments whose unit was reminded to sign for them.
    pub reminded_to_sign: usize,
    /// Urges issued (one per unit and kind per batch).
    pub urges_issued: usize,
    /// The day was not a working day: nothing went out.
    pub day_off: bool,
}

/// When reminders go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Working days before the due date that a reminder goes out.
    pub days_before: u64,
    /// Working days after its plan was published (or it was made, if later) that an
    /// assignment still unsigned gets a reminder to sign; 0: none.
    pub receipt_after: u64,
}

const BATCH: i64 = 500;

/// One batch after assignment id `after`: returns how many were claimed, the last id, how many
/// were reminded and how many urges went out.
fn batch(
    c: &mut crate::db::AnyConnection,
    kind: ReminderKind,
    pick: urges::Pick,
    after: i64,
    today: NaiveDate,
    reply_by: Option<NaiveDate>,
) -> Result<(usize, i64, usize, usize), ApiError> {
    write_tx(c, |c| {
        let now = store::now();
        let claimed = urges::claim(c, pick, after, BATCH)?;
        let Some(last) = claimed.last().map(|a| a.id) else {
            return Ok((0, after, 0, 0));
        };
        let mut by_unit: BTreeMap<i64, Vec<(i64, NaiveDate)>> = BTreeMap::new();
        let listening = crate::service::webhooks::listening(c)?;
        for a in &claimed {
            // Once per assignment, kind and period: the period due, or the one whose report
            // is missing (the deadline's).
            let period = match kind {
                ReminderKind::BeforeDue => a.cycle.period_of(a.due_date),
                ReminderKind::AfterDue => a.cycle.period_of(a.deadline),
                // Once (a move to another unit clears the log: the new holder in its turn).
                ReminderKind::Unreceived => "receipt".to_owned(),
            };
            if urges::log_once(c, a.id, &period, kind, now)? {
                if kind == ReminderKind::AfterDue && listening {
                    overdue(c, now, a.id, a.deadline, &period)?;
                }
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
                ReminderKind::Unreceived => format!(
                    "提醒：贵单位有{}项交办任务尚未签收，请及时签收并按时办理。",
                    list.len()
                ),
            };
            let ids: Vec<AssignmentId> = list.iter().map(|x| AssignmentId(x.0)).collect();
            let urge = urges::insert(
                c,
                &urges::NewUrge {
                    unit_id: UnitId(unit),
                    severity,
                    message,
                    reply_by,
                    automatic: true,
                    issued_by: None,
                    issued_at: now,
                },
                &ids,
            )?;
            let raw: Vec<i64> = list.iter().map(|x| x.0).collect();
            urges::attach_log(c, &raw, kind, urge)?;
            crate::service::urges::announce_issued(c, now, urge)?;
            issued += 1;
            sent += list.len();
        }
        Ok((claimed.len(), last, sent, issued))
    })
}

/// Announces that an assignment passed its deadline (`assignment.overdue`), once per period,
/// as the reminder pass logs it.
fn overdue(
    c: &mut crate::db::AnyConnection,
    now: chrono::NaiveDateTime,
    id: i64,
    deadline: NaiveDate,
    period: &str,
) -> Result<(), ApiError> {
    if let Some(a) = store::assignments::find(c, AssignmentId(id))? {
        let extra = serde_json::json!({"deadline": deadline, "period": period});
        let event = crate::domain::webhook::EventType::AssignmentOverdue;
        crate::service::webhooks::emit_assignment(c, now, event, &a, extra)?;
    }
    Ok(())
}

/// Runs one pass as of `today`, a working day (on a day off nothing goes out): reminders for
/// work due within `days_before` working days, urges for work late (past its deadline, read
/// from the standing like every other view), and reminders to sign for work issued at least
/// `receipt_after` working days ago and not signed for. Urges ask for a reply within 7
/// working days.
pub fn run_once(db: &Db, today: NaiveDate, schedule: Schedule) -> Result<PassSummary, ApiError> {
    let mut c = db.get()?;
    let mut s = PassSummary::default();
    let cal = store::calendar::load(&mut c)?;
    if !cal.is_working(today) {
        s.day_off = true;
        return Ok(s);
    }
    let working_days = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    let soon = cal
        .add_working_days(today, working_days(schedule.days_before))
        .unwrap_or(today);
    let reply_by = cal.add_working_days(today, 7);
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let long_ago = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(today);
    let mut passes = vec![
        (ReminderKind::BeforeDue, urges::Pick::Due(today, soon)),
        (
            ReminderKind::AfterDue,
            urges::Pick::Late(long_ago, yesterday),
        ),
    ];
    if schedule.receipt_after > 0 {
        // Issued on a day at least `receipt_after` working days before today: by the last
        // second of the day before the `receipt_after`-th working day back.
        let by = cal
            .nth_working_day_back(today, working_days(schedule.receipt_after))
            .and_then(|d| d.pred_opt())
            .map(store::standing::end_of)
            .and_then(|t| t.checked_sub_signed(chrono::TimeDelta::seconds(1)));
        if let Some(by) = by {
            passes.push((ReminderKind::Unreceived, urges::Pick::Unsigned(by)));
        }
    }
    for (kind, pick) in passes {
        let mut after = 0;
        loop {
            let (claimed, last, n, issued) = batch(&mut c, kind, pick, after, today, reply_by)?;
            match kind {
                ReminderKind::BeforeDue => s.reminded += n,
                ReminderKind::AfterDue => s.urged += n,
                ReminderKind::Unreceived => s.reminded_to_sign += n,
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
pub fn spawn(db: Db, storage: crate::storage::Storage, interval: Duration, schedule: Schedule) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(interval);
        loop {
            tick.tick().await;
            match super::maintenance::sweep_files(&db, &storage, super::maintenance::FILE_GRACE)
                .await
            {
                Ok(n) if n > 0 => tracing::info!(removed = n, "removed stray evidence files"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sweeping evidence files failed"),
            }
            let db = db.clone();
            let today = chrono::Utc::now().date_naive();
            match actix_web::web::block(move || {
                if let Err(e) = super::maintenance::run_once(&db) {
                    tracing::warn!(error = %e, "housekeeping failed");
                }
                run_once(&db, today, schedule)
            })
            .await
            {
                Ok(Ok(s)) if s.urges_issued > 0 => tracing::info!(
                    reminded = s.reminded,
                    urged = s.urged,
                    reminded_to_sign = s.reminded_to_sign,
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
