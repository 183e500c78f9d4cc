//! Assignments of measures to units.

use crate::db::schema::{assignments, reports, units};
use crate::db::AnyConnection;
use crate::domain::assignment::{AssignmentRole, Cycle};
use crate::domain::calendar::{DueAnchor, WorkingDaysDue};
use crate::domain::ids::{AssignmentId, GroupId, ItemId, PlanId, UnitId, UserId};
use crate::domain::plan::PlanState;
use crate::domain::report::ReportStatus;
use crate::domain::standing::Terms;
use crate::on_backend;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// An assignment as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = assignments, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Assignment {
    pub id: AssignmentId,
    pub plan_id: PlanId,
    pub measure_id: ItemId,
    pub unit_id: UnitId,
    pub role: AssignmentRole,
    pub via_group_id: Option<GroupId>,
    pub due_date: NaiveDate,
    pub cycle: Cycle,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When its unit signed for it (签收), and who.
    pub received_at: Option<NaiveDateTime>,
    pub received_by: Option<UserId>,
    /// A due date given in working days: how many, and from what (kept to count it again
    /// when the calendar changes).
    pub due_working_days: Option<i32>,
    pub due_counted_from: Option<DueAnchor>,
}

impl Assignment {
    /// The working-day rule of its due date, when it was given as one.
    pub fn working_days_due(&self) -> Option<WorkingDaysDue> {
        match (self.due_working_days, self.due_counted_from) {
            (Some(n), Some(from)) => u32::try_from(n)
                .ok()
                .map(|days| WorkingDaysDue { days, from }),
            _ => None,
        }
    }
}

/// A new assignment.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = assignments)]
pub struct NewAssignment {
    pub plan_id: PlanId,
    pub measure_id: ItemId,
    pub unit_id: UnitId,
    pub role: AssignmentRole,
    pub via_group_id: Option<GroupId>,
    pub due_date: NaiveDate,
    pub cycle: Cycle,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub due_working_days: Option<i32>,
    pub due_counted_from: Option<DueAnchor>,
}

/// Filters of the assignment list.
#[derive(Debug, Default, Clone)]
pub struct AssignmentFilter {
    pub plan_id: Option<PlanId>,
    pub measure_id: Option<ItemId>,
    pub unit_id: Option<UnitId>,
    pub role: Option<AssignmentRole>,
    /// Only plans in these states (units never see drafts).
    pub plan_states: Option<Vec<PlanState>>,
    /// Only assignments of these units.
    pub unit_ids: Option<Vec<UnitId>>,
    /// Only those signed for (`true`) or not yet (`false`).
    pub received: Option<bool>,
}

/// Inserts assignments in batches, each with its first standing.
pub fn insert_many(c: &mut AnyConnection, rows: &[NewAssignment]) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in rows.chunks(500) {
        let ids: Vec<AssignmentId> = on_backend!(c, |c| diesel::insert_into(assignments::table)
            .values(chunk)
            .returning(assignments::id)
            .get_results(c))?;
        let initial: Vec<_> = ids
            .iter()
            .zip(chunk)
            .map(|(id, a)| {
                let terms = Terms {
                    cycle: a.cycle,
                    due_date: a.due_date,
                    assigned_on: a.created_at.date(),
                    received: false,
                };
                let holder =
                    super::standing::Holder::new(a.plan_id, a.measure_id, a.unit_id, a.role);
                (*id, holder, terms, a.created_at)
            })
            .collect();
        super::standing::insert_initial(c, &initial)?;
        n += ids.len();
    }
    Ok(n)
}

/// The assignment with this id.
pub fn find(c: &mut AnyConnection, id: AssignmentId) -> QueryResult<Option<Assignment>> {
    assignments::table
        .find(id)
        .select(Assignment::as_select())
        .first(c)
        .optional()
}

/// The assignment with this id and the state of its plan, in one statement.
pub fn find_with_plan_state(
    c: &mut AnyConnection,
    id: AssignmentId,
) -> QueryResult<Option<(Assignment, PlanState)>> {
    use crate::db::schema::plans;
    assignments::table
        .inner_join(plans::table)
        .filter(assignments::id.eq(id))
        .select((Assignment::as_select(), plans::state))
        .first(c)
        .optional()
}

/// The state of the plan of this assignment.
pub fn plan_state(c: &mut AnyConnection, id: AssignmentId) -> QueryResult<Option<PlanState>> {
    use crate::db::schema::plans;
    assignments::table
        .inner_join(plans::table)
        .filter(assignments::id.eq(id))
        .select(plans::state)
        .first(c)
        .optional()
}

/// The units already assigned to a measure.
pub fn units_of_measure(
    c: &mut AnyConnection,
    measure: ItemId,
) -> QueryResult<Vec<(UnitId, AssignmentRole)>> {
    assignments::table
        .filter(assignments::measure_id.eq(measure))
        .select((assignments::unit_id, assignments::role))
        .load(c)
}

/// The assignment of a unit on a measure.
pub fn of_unit_on_measure(
    c: &mut AnyConnection,
    unit: UnitId,
    measure: ItemId,
) -> QueryResult<Option<Assignment>> {
    assignments::table
        .filter(assignments::unit_id.eq(unit))
        .filter(assignments::measure_id.eq(measure))
        .select(Assignment::as_select())
        .first(c)
        .optional()
}

/// Up to `limit + 1` assignments after `after`, in id order.
pub fn list(
    c: &mut AnyConnection,
    f: &AssignmentFilter,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Assignment>> {
    use crate::db::schema::plans;
    let mut q = assignments::table
        .inner_join(plans::table)
        .select(Assignment::as_select())
        .into_boxed();
    if let Some(p) = f.plan_id {
        q = q.filter(assignments::plan_id.eq(p));
    }
    if let Some(m) = f.measure_id {
        q = q.filter(assignments::measure_id.eq(m));
    }
    if let Some(u) = f.unit_id {
        q = q.filter(assignments::unit_id.eq(u));
    }
    if let Some(units) = &f.unit_ids {
        q = q.filter(assignments::unit_id.eq_any(units.clone()));
    }
    if let Some(r) = f.role {
        q = q.filter(assignments::role.eq(r));
    }
    if let Some(states) = &f.plan_states {
        q = q.filter(plans::state.eq_any(states.clone()));
    }
    match f.received {
        Some(true) => q = q.filter(assignments::received_at.is_not_null()),
        Some(false) => q = q.filter(assignments::received_at.is_null()),
        None => {}
    }
    if let Some(a) = after {
        q = q.filter(assignments::id.gt(AssignmentId(a)));
    }
    q.order(assignments::id.asc()).limit(limit + 1).load(c)
}

/// Every assignment matching the filter, read page by page.
pub fn list_all(c: &mut AnyConnection, f: &AssignmentFilter) -> QueryResult<Vec<Assignment>> {
    super::all_pages(|after, limit| list(c, f, after, limit), |a| a.id.0)
}

/// Changes the due date and cycle, and the standing with them.
pub fn reschedule(
    c: &mut AnyConnection,
    id: AssignmentId,
    due: NaiveDate,
    rule: Option<WorkingDaysDue>,
    cycle: Cycle,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let n = diesel::update(assignments::table.find(id))
        .set((
            assignments::due_date.eq(due),
            assignments::due_working_days.eq(rule.map(|r| r.days as i32)),
            assignments::due_counted_from.eq(rule.map(|r| r.from)),
            assignments::cycle.eq(cycle),
            assignments::updated_at.eq(now),
        ))
        .execute(c)?;
    if n > 0 {
        super::standing::refresh(c, id, now)?;
    }
    Ok(n)
}

/// The assignments whose due date was given in working days, of plans not closed, with the
/// day their plan was published: those of one plan, or those due on or after a day.
pub fn with_working_days_due(
    c: &mut AnyConnection,
    plan: Option<PlanId>,
    due_from: Option<NaiveDate>,
) -> QueryResult<Vec<(Assignment, Option<NaiveDateTime>)>> {
    let mut q = assignments::table
        .inner_join(crate::db::schema::plans::table)
        .filter(assignments::due_working_days.is_not_null())
        .filter(crate::db::schema::plans::state.ne(PlanState::Closed))
        .select((
            Assignment::as_select(),
            crate::db::schema::plans::published_at,
        ))
        .order(assignments::id)
        .into_boxed();
    if let Some(p) = plan {
        q = q.filter(assignments::plan_id.eq(p));
    }
    if let Some(d) = due_from {
        q = q.filter(assignments::due_date.ge(d));
    }
    q.load(c)
}

/// Removes an assignment that has no reports; false when it has some.
pub fn delete_unreported(c: &mut AnyConnection, id: AssignmentId) -> QueryResult<bool> {
    let n: i64 = reports::table
        .filter(reports::assignment_id.eq(id))
        .count()
        .get_result(c)?;
    if n > 0 {
        return Ok(false);
    }
    diesel::delete(assignments::table.find(id))
        .execute(c)
        .map(|n| n == 1)
}

/// The lead units of a measure.
pub fn leads_of(c: &mut AnyConnection, measure: ItemId) -> QueryResult<Vec<UnitId>> {
    assignments::table
        .filter(assignments::measure_id.eq(measure))
        .filter(assignments::role.eq(AssignmentRole::Lead))
        .select(assignments::unit_id)
        .load(c)
}

/// Assignment count per measure of a plan.
pub fn count_by_measure(c: &mut AnyConnection, plan: PlanId) -> QueryResult<Vec<(ItemId, i64)>> {
    assignments::table
        .filter(assignments::plan_id.eq(plan))
        .group_by(assignments::measure_id)
        .select((assignments::measure_id, diesel::dsl::count_star()))
        .load(c)
}

/// Names of the units assigned, for display.
pub fn unit_names(c: &mut AnyConnection, ids: &[UnitId]) -> QueryResult<Vec<(UnitId, String)>> {
    units::table
        .filter(units::id.eq_any(ids))
        .select((units::id, units::name))
        .load(c)
}

/// The measure and role of each of these assignments.
pub fn measures_of(
    c: &mut AnyConnection,
    ids: &[AssignmentId],
) -> QueryResult<Vec<(AssignmentId, ItemId, AssignmentRole)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(AssignmentId, ItemId, AssignmentRole)> = assignments::table
            .filter(assignments::id.eq_any(chunk))
            .select((assignments::id, assignments::measure_id, assignments::role))
            .load(c)?;
        out.extend(rows);
    }
    Ok(out)
}

/// How far one measure is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Assignments.
    pub assigned: i64,
    /// Of those, with a sent report.
    pub reported: i64,
    /// Of those, reported completed.
    pub completed: i64,
    /// Of those, reported not applicable.
    pub not_applicable: i64,
}

/// Progress of measures: per measure, how many assignments, and how many of them stand as
/// reported (a sent report stands), completed or not applicable — read from their current
/// standing, like every other figure.
pub fn progress_of_measures(
    c: &mut AnyConnection,
    measures: &[ItemId],
) -> QueryResult<Vec<(ItemId, Progress)>> {
    use crate::db::schema::assignment_standings as st;
    let rows: Vec<(
        ItemId,
        Option<crate::domain::ids::ReportId>,
        Option<ReportStatus>,
    )> = assignments::table
        .inner_join(st::table.on(st::assignment_id.eq(assignments::id)))
        .filter(assignments::measure_id.eq_any(measures))
        .filter(st::valid_to.is_null())
        .select((assignments::measure_id, st::sent_report_id, st::done))
        .load(c)?;
    let mut out: std::collections::HashMap<ItemId, Progress> = Default::default();
    for (m, sent, done) in rows {
        let p = out.entry(m).or_default();
        p.assigned += 1;
        p.reported += i64::from(sent.is_some());
        p.completed += i64::from(done == Some(ReportStatus::Completed));
        p.not_applicable += i64::from(done == Some(ReportStatus::NotApplicable));
    }
    Ok(out.into_iter().collect())
}

/// Records that the unit signed for the assignment (签收), once, and refreshes its standing;
/// false when it was signed for already (the first signature stands).
pub fn receive(
    c: &mut AnyConnection,
    id: AssignmentId,
    by: UserId,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        assignments::table
            .filter(assignments::id.eq(id))
            .filter(assignments::received_at.is_null()),
    )
    .set((
        assignments::received_at.eq(at),
        assignments::received_by.eq(by),
    ))
    .execute(c)?;
    if n == 1 {
        super::standing::refresh(c, id, at)?;
    }
    Ok(n == 1)
}

/// Hands the assignment over to another unit (a dispute resolved by a move): the new holder
/// has not signed for it yet and holds it in its own right (no longer through a group), from
/// `at`. The reports stay where they are, naming the unit that wrote them; the standing starts
/// a new version under the new holder, counting its reports and urges only; the automatic
/// reminders start afresh for it (their log is of the former holder).
pub fn move_to(
    c: &mut AnyConnection,
    id: AssignmentId,
    unit: UnitId,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(assignments::table.find(id))
        .set((
            assignments::unit_id.eq(unit),
            assignments::via_group_id.eq(None::<GroupId>),
            assignments::received_at.eq(None::<NaiveDateTime>),
            assignments::received_by.eq(None::<UserId>),
            assignments::held_since.eq(Some(at)),
            assignments::updated_at.eq(at),
        ))
        .execute(c)?;
    if n == 1 {
        use crate::db::schema::reminder_log;
        diesel::delete(reminder_log::table.filter(reminder_log::assignment_id.eq(id)))
            .execute(c)?;
        super::standing::refresh(c, id, at)?;
    }
    Ok(n == 1)
}

/// Gives the assignment another role (a dispute resolved by a role change).
pub fn set_role(
    c: &mut AnyConnection,
    id: AssignmentId,
    role: AssignmentRole,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(assignments::table.find(id))
        .set((assignments::role.eq(role), assignments::updated_at.eq(at)))
        .execute(c)?;
    if n == 1 {
        // The role is part of the standing's holder: a new version from now on.
        super::standing::refresh(c, id, at)?;
    }
    Ok(n == 1)
}

/// The assignments of a unit in a plan not yet signed for, in id order.
pub fn unreceived_of(
    c: &mut AnyConnection,
    plan: PlanId,
    unit: UnitId,
) -> QueryResult<Vec<AssignmentId>> {
    assignments::table
        .filter(assignments::plan_id.eq(plan))
        .filter(assignments::unit_id.eq(unit))
        .filter(assignments::received_at.is_null())
        .select(assignments::id)
        .order(assignments::id)
        .load(c)
}

/// Records that a unit signed for all its assignments in a plan when they were made (history
/// loaded after the fact, as the demo's): every version of their standing is signed, so every
/// day's figures read them as signed from the start.
pub fn received_since_made(
    c: &mut AnyConnection,
    plan: PlanId,
    unit: UnitId,
) -> QueryResult<usize> {
    use crate::db::schema::assignment_standings as st;
    let n = diesel::update(
        assignments::table
            .filter(assignments::plan_id.eq(plan))
            .filter(assignments::unit_id.eq(unit))
            .filter(assignments::received_at.is_null()),
    )
    .set(assignments::received_at.eq(assignments::created_at.nullable()))
    .execute(c)?;
    diesel::update(
        st::table
            .filter(st::plan_id.eq(plan))
            .filter(st::unit_id.eq(unit)),
    )
    .set(st::received.eq(true))
    .execute(c)?;
    Ok(n)
}
