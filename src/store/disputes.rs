//! Disputes (异议 / 调整申请) as stored.

use crate::db::schema::disputes as dp;
use crate::db::AnyConnection;
use crate::domain::assignment::AssignmentRole;
use crate::domain::dispute::{DisputeKind, DisputeState, Outcome};
use crate::domain::ids::{AssignmentId, ItemId, PlanId, UnitId, UserId};
use crate::on_backend;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

/// A dispute as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = dp, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Dispute {
    pub id: i64,
    /// The assignment disputed (`None` once it was withdrawn).
    pub assignment_id: Option<AssignmentId>,
    pub plan_id: PlanId,
    pub measure_id: ItemId,
    /// The unit that disputed (the holder then).
    pub unit_id: UnitId,
    /// The assignment's role when disputed.
    pub role: AssignmentRole,
    pub kind: DisputeKind,
    pub reason: String,
    pub state: DisputeState,
    pub outcome: Option<Outcome>,
    pub moved_to_unit_id: Option<UnitId>,
    pub new_role: Option<AssignmentRole>,
    /// The office's reason for rejecting, or its note on another outcome.
    pub resolution_note: Option<String>,
    pub raised_by: Option<UserId>,
    pub raised_at: NaiveDateTime,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<NaiveDateTime>,
}

/// A new (pending) dispute.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = dp)]
pub struct NewDispute {
    pub assignment_id: Option<AssignmentId>,
    pub plan_id: PlanId,
    pub measure_id: ItemId,
    pub unit_id: UnitId,
    pub role: AssignmentRole,
    pub kind: DisputeKind,
    pub reason: String,
    pub state: DisputeState,
    pub raised_by: Option<UserId>,
    pub raised_at: NaiveDateTime,
}

/// The office's resolution of a pending dispute.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub outcome: Outcome,
    pub moved_to_unit_id: Option<UnitId>,
    pub new_role: Option<AssignmentRole>,
    pub note: Option<String>,
    /// Who resolved (`None` in history loaded after the fact).
    pub by: Option<UserId>,
    pub at: NaiveDateTime,
}

/// Filters of the dispute list.
#[derive(Debug, Clone, Default)]
pub struct DisputeFilter {
    pub unit_id: Option<UnitId>,
    pub plan_id: Option<PlanId>,
    pub assignment_id: Option<AssignmentId>,
    pub state: Option<DisputeState>,
    pub kind: Option<DisputeKind>,
}

/// Stores a new dispute; returns its id.
pub fn insert(c: &mut AnyConnection, d: &NewDispute) -> QueryResult<i64> {
    on_backend!(c, |c| diesel::insert_into(dp::table)
        .values(d)
        .returning(dp::id)
        .get_result(c))
}

/// The dispute with this id.
pub fn find(c: &mut AnyConnection, id: i64) -> QueryResult<Option<Dispute>> {
    dp::table
        .find(id)
        .select(Dispute::as_select())
        .first(c)
        .optional()
}

/// The pending dispute on an assignment, if any.
pub fn pending_on(c: &mut AnyConnection, assignment: AssignmentId) -> QueryResult<Option<Dispute>> {
    dp::table
        .filter(dp::assignment_id.eq(assignment))
        .filter(dp::state.eq(DisputeState::Pending))
        .select(Dispute::as_select())
        .first(c)
        .optional()
}

/// Up to `limit + 1` disputes before `before` (newest first).
pub fn list(
    c: &mut AnyConnection,
    f: &DisputeFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Dispute>> {
    let mut q = dp::table.select(Dispute::as_select()).into_boxed();
    if let Some(u) = f.unit_id {
        q = q.filter(dp::unit_id.eq(u));
    }
    if let Some(p) = f.plan_id {
        q = q.filter(dp::plan_id.eq(p));
    }
    if let Some(a) = f.assignment_id {
        q = q.filter(dp::assignment_id.eq(a));
    }
    if let Some(s) = f.state {
        q = q.filter(dp::state.eq(s));
    }
    if let Some(k) = f.kind {
        q = q.filter(dp::kind.eq(k));
    }
    if let Some(b) = before {
        q = q.filter(dp::id.lt(b));
    }
    q.order(dp::id.desc()).limit(limit + 1).load(c)
}

/// Records the resolution of a dispute still pending; false when it was no longer pending.
pub fn settle(c: &mut AnyConnection, id: i64, s: &Settlement) -> QueryResult<bool> {
    diesel::update(
        dp::table
            .filter(dp::id.eq(id))
            .filter(dp::state.eq(DisputeState::Pending)),
    )
    .set((
        dp::state.eq(DisputeState::Resolved),
        dp::outcome.eq(s.outcome),
        dp::moved_to_unit_id.eq(s.moved_to_unit_id),
        dp::new_role.eq(s.new_role),
        dp::resolution_note.eq(s.note.as_deref()),
        dp::resolved_by.eq(s.by),
        dp::resolved_at.eq(s.at),
    ))
    .execute(c)
    .map(|n| n == 1)
}

/// Disputes raised and disputes resolved other than by rejection ("upheld") per unit by
/// `cut`, of the plan if given.
pub fn counts_by_unit(
    c: &mut AnyConnection,
    cut: NaiveDateTime,
    plan: Option<PlanId>,
) -> QueryResult<HashMap<UnitId, (i64, i64)>> {
    let mut q = dp::table
        .filter(dp::raised_at.lt(cut))
        .select((dp::unit_id, dp::outcome, dp::resolved_at))
        .into_boxed();
    if let Some(p) = plan {
        q = q.filter(dp::plan_id.eq(p));
    }
    let rows: Vec<(UnitId, Option<Outcome>, Option<NaiveDateTime>)> = q.load(c)?;
    let mut out: HashMap<UnitId, (i64, i64)> = HashMap::new();
    for (unit, outcome, resolved) in rows {
        let e = out.entry(unit).or_default();
        e.0 += 1;
        let upheld = outcome.is_some_and(|o| o != Outcome::Reject);
        if upheld && resolved.is_some_and(|t| t < cut) {
            e.1 += 1;
        }
    }
    Ok(out)
}
