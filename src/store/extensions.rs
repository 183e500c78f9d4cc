//! Extension requests (延期申请) as stored.

use crate::db::schema::extension_requests as er;
use crate::db::AnyConnection;
use crate::domain::extension::ExtensionState;
use crate::domain::ids::{AssignmentId, PlanId, UnitId, UserId};
use crate::on_backend;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashMap;

/// An extension request as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = er, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ExtensionRequest {
    pub id: i64,
    pub assignment_id: AssignmentId,
    pub plan_id: PlanId,
    pub unit_id: UnitId,
    pub state: ExtensionState,
    /// The due date in force when it was asked.
    pub due_date: NaiveDate,
    pub requested_due_date: NaiveDate,
    pub reason: String,
    pub progress: String,
    pub requested_by: Option<UserId>,
    pub requested_at: NaiveDateTime,
    pub granted_due_date: Option<NaiveDate>,
    /// The office's note on approval, or its reason for rejecting.
    pub decision_note: Option<String>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<NaiveDateTime>,
}

/// A new (pending) request.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = er)]
pub struct NewExtensionRequest {
    pub assignment_id: AssignmentId,
    pub plan_id: PlanId,
    pub unit_id: UnitId,
    pub state: ExtensionState,
    pub due_date: NaiveDate,
    pub requested_due_date: NaiveDate,
    pub reason: String,
    pub progress: String,
    pub requested_by: Option<UserId>,
    pub requested_at: NaiveDateTime,
}

/// The office's decision on a pending request.
#[derive(Debug, Clone)]
pub struct Decision {
    pub state: ExtensionState,
    pub granted_due_date: Option<NaiveDate>,
    pub note: Option<String>,
    /// Who decided (`None` in history loaded after the fact).
    pub by: Option<UserId>,
    pub at: NaiveDateTime,
}

/// Filters of the request list.
#[derive(Debug, Clone, Default)]
pub struct ExtensionFilter {
    pub unit_id: Option<UnitId>,
    pub plan_id: Option<PlanId>,
    pub assignment_id: Option<AssignmentId>,
    pub state: Option<ExtensionState>,
}

/// Stores a new request; returns its id.
pub fn insert(c: &mut AnyConnection, r: &NewExtensionRequest) -> QueryResult<i64> {
    on_backend!(c, |c| diesel::insert_into(er::table)
        .values(r)
        .returning(er::id)
        .get_result(c))
}

/// The request with this id.
pub fn find(c: &mut AnyConnection, id: i64) -> QueryResult<Option<ExtensionRequest>> {
    er::table
        .find(id)
        .select(ExtensionRequest::as_select())
        .first(c)
        .optional()
}

/// The pending request on an assignment, if any.
pub fn pending_on(
    c: &mut AnyConnection,
    assignment: AssignmentId,
) -> QueryResult<Option<ExtensionRequest>> {
    er::table
        .filter(er::assignment_id.eq(assignment))
        .filter(er::state.eq(ExtensionState::Pending))
        .select(ExtensionRequest::as_select())
        .first(c)
        .optional()
}

/// Up to `limit + 1` requests before `before` (newest first).
pub fn list(
    c: &mut AnyConnection,
    f: &ExtensionFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<ExtensionRequest>> {
    let mut q = er::table.select(ExtensionRequest::as_select()).into_boxed();
    if let Some(u) = f.unit_id {
        q = q.filter(er::unit_id.eq(u));
    }
    if let Some(p) = f.plan_id {
        q = q.filter(er::plan_id.eq(p));
    }
    if let Some(a) = f.assignment_id {
        q = q.filter(er::assignment_id.eq(a));
    }
    if let Some(s) = f.state {
        q = q.filter(er::state.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(er::id.lt(b));
    }
    q.order(er::id.desc()).limit(limit + 1).load(c)
}

/// Records the decision on a request still pending; false when it was no longer pending.
pub fn decide(c: &mut AnyConnection, id: i64, d: &Decision) -> QueryResult<bool> {
    diesel::update(
        er::table
            .filter(er::id.eq(id))
            .filter(er::state.eq(ExtensionState::Pending)),
    )
    .set((
        er::state.eq(d.state),
        er::granted_due_date.eq(d.granted_due_date),
        er::decision_note.eq(d.note.as_deref()),
        er::decided_by.eq(d.by),
        er::decided_at.eq(d.at),
    ))
    .execute(c)
    .map(|n| n == 1)
}

/// Requests made and approved per unit by `cut` (approved: decided as approved by then), of
/// the plan if given.
pub fn counts_by_unit(
    c: &mut AnyConnection,
    cut: NaiveDateTime,
    plan: Option<PlanId>,
) -> QueryResult<HashMap<UnitId, (i64, i64)>> {
    let mut q = er::table
        .filter(er::requested_at.lt(cut))
        .select((er::unit_id, er::state, er::decided_at))
        .into_boxed();
    if let Some(p) = plan {
        q = q.filter(er::plan_id.eq(p));
    }
    let rows: Vec<(UnitId, ExtensionState, Option<NaiveDateTime>)> = q.load(c)?;
    let mut out: HashMap<UnitId, (i64, i64)> = HashMap::new();
    for (unit, state, decided) in rows {
        let e = out.entry(unit).or_default();
        e.0 += 1;
        if state == ExtensionState::Approved && decided.is_some_and(|t| t < cut) {
            e.1 += 1;
        }
    }
    Ok(out)
}
