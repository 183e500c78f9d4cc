//! Urges (提醒 / 催办 / 督办) and the reminder log.

use crate::db::schema::{reminder_log, urge_assignments, urges};
use crate::db::text::sql_literal;
use crate::db::{AnyConnection, MultiBackend};
use crate::domain::assignment::Cycle;
use crate::domain::desk::{ReminderKind, Severity};
use crate::domain::ids::{AssignmentId, UnitId, UserId};
use crate::domain::plan::PlanState;
use crate::on_backend;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamp};
use std::collections::HashMap;

/// An urge as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = urges, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Urge {
    pub id: i64,
    pub unit_id: UnitId,
    pub severity: Severity,
    pub message: String,
    pub reply_by: Option<NaiveDate>,
    pub automatic: bool,
    pub issued_by: Option<UserId>,
    pub issued_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<UserId>,
    pub reply: Option<String>,
    pub replied_at: Option<NaiveDateTime>,
    pub replied_by: Option<UserId>,
}

/// A new urge.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = urges)]
pub struct NewUrge {
    pub unit_id: UnitId,
    pub severity: Severity,
    pub message: String,
    pub reply_by: Option<NaiveDate>,
    pub automatic: bool,
    pub issued_by: Option<UserId>,
    pub issued_at: NaiveDateTime,
}

/// Filters of the urge list.
#[derive(Debug, Clone, Default)]
pub struct UrgeFilter {
    pub unit_id: Option<UnitId>,
    pub assignment_id: Option<AssignmentId>,
    pub severity: Option<Severity>,
    /// Only urges not yet replied to.
    pub open: Option<bool>,
}

/// Issues an urge about these assignments (their standing counts it); returns its id.
pub fn insert(
    c: &mut AnyConnection,
    u: &NewUrge,
    assignments: &[AssignmentId],
) -> QueryResult<i64> {
    let id: i64 = on_backend!(c, |c| diesel::insert_into(urges::table)
        .values(u)
        .returning(urges::id)
        .get_result(c))?;
    for chunk in assignments.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|a| {
                (
                    urge_assignments::urge_id.eq(id),
                    urge_assignments::assignment_id.eq(a),
                )
            })
            .collect();
        on_backend!(c, |c| diesel::insert_into(urge_assignments::table)
            .values(&rows)
            .execute(c))?;
    }
    super::standing::refresh_all(c, assignments, u.issued_at)?;
    Ok(id)
}

/// The urge with this id.
pub fn find(c: &mut AnyConnection, id: i64) -> QueryResult<Option<Urge>> {
    urges::table
        .find(id)
        .select(Urge::as_select())
        .first(c)
        .optional()
}

/// The assignments of these urges.
pub fn assignments_of(
    c: &mut AnyConnection,
    ids: &[i64],
) -> QueryResult<HashMap<i64, Vec<AssignmentId>>> {
    let rows: Vec<(i64, AssignmentId)> = urge_assignments::table
        .filter(urge_assignments::urge_id.eq_any(ids))
        .select((urge_assignments::urge_id, urge_assignments::assignment_id))
        .order((urge_assignments::urge_id, urge_assignments::assignment_id))
        .load(c)?;
    let mut map: HashMap<i64, Vec<AssignmentId>> = HashMap::new();
    for (u, a) in rows {
        map.entry(u).or_default().push(a);
    }
    Ok(map)
}

/// Up to `limit + 1` urges before `before` (newest first).
pub fn list(
    c: &mut AnyConnection,
    f: &UrgeFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Urge>> {
    let mut q = urges::table.select(Urge::as_select()).into_boxed();
    if let Some(u) = f.unit_id {
        q = q.filter(urges::unit_id.eq(u));
    }
    if let Some(a) = f.assignment_id {
        let of = urge_assignments::table
            .filter(urge_assignments::assignment_id.eq(a))
            .select(urge_assignments::urge_id);
        q = q.filter(urges::id.eq_any(of));
    }
    if let Some(s) = f.severity {
        q = q.filter(urges::severity.eq(s));
    }
    match f.open {
        Some(true) => q = q.filter(urges::replied_at.is_null()),
        Some(false) => q = q.filter(urges::replied_at.is_not_null()),
        None => {}
    }
    if let Some(b) = before {
        q = q.filter(urges::id.lt(b));
    }
    q.order(urges::id.desc()).limit(limit + 1).load(c)
}

/// Records the acknowledgement (once); false when already acknowledged.
pub fn acknowledge(
    c: &mut AnyConnection,
    id: i64,
    by: UserId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        urges::table
            .filter(urges::id.eq(id))
            .filter(urges::acknowledged_at.is_null()),
    )
    .set((
        urges::acknowledged_at.eq(now),
        urges::acknowledged_by.eq(by),
    ))
    .execute(c)
    .map(|n| n == 1)
}

/// Records the unit's reply (acknowledging it too, if not yet).
pub fn reply(
    c: &mut AnyConnection,
    id: i64,
    text: &str,
    by: UserId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    acknowledge(c, id, by, now)?;
    diesel::update(urges::table.find(id))
        .set((
            urges::reply.eq(text),
            urges::replied_at.eq(now),
            urges::replied_by.eq(by),
        ))
        .execute(c)
}

/// An assignment a reminder pass may act on, with its current standing's dates.
#[derive(Debug, Clone, QueryableByName)]
pub struct Candidate {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub unit_id: i64,
    #[diesel(sql_type = Date)]
    pub due_date: NaiveDate,
    #[diesel(sql_type = Date)]
    pub deadline: NaiveDate,
    #[diesel(sql_type = Text)]
    pub cycle: Cycle,
}

/// Which assignments a reminder pass claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// For a reminder: due between these days.
    Due(NaiveDate, NaiveDate),
    /// For an urge: late since one of these days (its deadline between them).
    Late(NaiveDate, NaiveDate),
    /// For a reminder to sign (签收): not signed for nor reminded to, held since this instant
    /// or before (made then, or moved to its unit then), in a plan published by then.
    Unsigned(NaiveDateTime),
}

/// Claims up to `limit` assignments of published plans after `after` (by id), not done (read
/// from their current standing), as `pick` says. On PostgreSQL the rows are locked with
/// `FOR UPDATE SKIP LOCKED`, so concurrent workers take different rows; the reminder log
/// decides who sends ([`log_once`]).
pub fn claim(
    c: &mut AnyConnection,
    pick: Pick,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<Candidate>> {
    let (lock, m) = match c {
        AnyConnection::Pg(_) => (" FOR UPDATE OF a SKIP LOCKED", '$'),
        AnyConnection::Sqlite(_) => ("", '?'),
    };
    let published = sql_literal(PlanState::Published);
    // Each picks with its first one or two parameters; `after` and `limit` follow.
    let (which, next) = match pick {
        Pick::Due(..) => (format!("s.due_date >= {m}1 AND s.due_date <= {m}2"), 3),
        Pick::Late(..) => (format!("s.deadline >= {m}1 AND s.deadline <= {m}2"), 3),
        Pick::Unsigned(_) => (
            format!(
                "a.received_at IS NULL AND p.published_at <= {m}1 \
                 AND COALESCE(a.held_since, a.created_at) <= {m}1 \
                 AND NOT EXISTS (SELECT 1 FROM reminder_log r WHERE r.assignment_id = a.id \
                 AND r.kind = {})",
                sql_literal(ReminderKind::Unreceived)
            ),
            2,
        ),
    };
    let sql = format!(
        "SELECT a.id, a.unit_id, s.due_date, COALESCE(s.deadline, s.due_date) AS deadline, a.cycle \
         FROM assignments a JOIN plans p ON p.id = a.plan_id \
         JOIN assignment_standings s ON s.assignment_id = a.id AND s.valid_to IS NULL \
         WHERE p.state = {published} AND s.done IS NULL AND {which} \
         AND a.id > {m}{next} ORDER BY a.id LIMIT {m}{}{lock}",
        next + 1
    );
    let q = diesel::sql_query(sql).into_boxed::<MultiBackend>();
    let q = match pick {
        Pick::Due(from, to) | Pick::Late(from, to) => q.bind::<Date, _>(from).bind::<Date, _>(to),
        Pick::Unsigned(by) => q.bind::<Timestamp, _>(by),
    };
    q.bind::<BigInt, _>(after).bind::<BigInt, _>(limit).load(c)
}

/// Logs a reminder unless one is logged already; true when this call logged it.
pub fn log_once(
    c: &mut AnyConnection,
    assignment: i64,
    period: &str,
    kind: ReminderKind,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let row = (
        reminder_log::assignment_id.eq(assignment),
        reminder_log::period.eq(period),
        reminder_log::kind.eq(kind),
        reminder_log::created_at.eq(now),
    );
    let n = on_backend!(c, |c| diesel::insert_into(reminder_log::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// Points logged reminders at the urge that carried them.
pub fn attach_log(
    c: &mut AnyConnection,
    assignments: &[i64],
    kind: ReminderKind,
    urge: i64,
) -> QueryResult<usize> {
    diesel::update(
        reminder_log::table
            .filter(reminder_log::assignment_id.eq_any(assignments))
            .filter(reminder_log::kind.eq(kind))
            .filter(reminder_log::urge_id.is_null()),
    )
    .set(reminder_log::urge_id.eq(urge))
    .execute(c)
}
