//! Reports and their immutable revisions.

use crate::db::schema::{report_revisions, reports};
use crate::db::AnyConnection;
use crate::domain::assignment::AssignmentRole;
use crate::domain::ids::{AssignmentId, ReportId, UnitId, UserId};
use crate::domain::report::{ReportStatus, Workflow};
use crate::on_backend;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A report as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = reports, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Report {
    pub id: ReportId,
    pub assignment_id: AssignmentId,
    pub unit_id: UnitId,
    pub period: String,
    pub status: ReportStatus,
    pub narrative: String,
    pub problems: String,
    pub next_steps: String,
    pub workflow: Workflow,
    pub return_reason: Option<String>,
    pub version: i32,
    pub created_by: Option<UserId>,
    pub updated_by: Option<UserId>,
    pub submitted_at: Option<NaiveDateTime>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub reviewed_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A new report.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = reports)]
pub struct NewReport {
    pub assignment_id: AssignmentId,
    pub unit_id: UnitId,
    pub period: String,
    pub status: ReportStatus,
    pub narrative: String,
    pub problems: String,
    pub next_steps: String,
    pub workflow: Workflow,
    pub version: i32,
    pub created_by: Option<UserId>,
    pub updated_by: Option<UserId>,
    pub submitted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The text of a report a unit edits.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = reports)]
pub struct ReportText {
    pub status: ReportStatus,
    pub narrative: String,
    pub problems: String,
    pub next_steps: String,
}

/// A submitted version, as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = report_revisions, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Revision {
    pub id: i64,
    pub report_id: ReportId,
    pub revision: i32,
    pub status: ReportStatus,
    pub narrative: String,
    pub problems: String,
    pub next_steps: String,
    pub submitted_by: Option<UserId>,
    pub submitted_at: NaiveDateTime,
}

/// Filters of the report list.
#[derive(Debug, Default, Clone)]
pub struct ReportFilter {
    pub assignment_id: Option<AssignmentId>,
    pub unit_id: Option<UnitId>,
    pub workflow: Option<Workflow>,
    pub status: Option<ReportStatus>,
    pub plan_id: Option<crate::domain::ids::PlanId>,
    /// Hide drafts (for readers outside the unit).
    pub sent_only: bool,
    /// Only these units, or the assignments led by `lead_of` (lead-unit visibility).
    pub visible_to: Option<UnitId>,
}

/// Inserts a report and returns its id.
pub fn insert(c: &mut AnyConnection, r: &NewReport) -> QueryResult<ReportId> {
    on_backend!(c, |c| diesel::insert_into(reports::table)
        .values(r)
        .returning(reports::id)
        .get_result(c))
}

/// Inserts many reports (imports), in batches.
pub fn insert_many(c: &mut AnyConnection, rows: &[NewReport]) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in rows.chunks(200) {
        n += on_backend!(c, |c| diesel::insert_into(reports::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(n)
}

/// The report with this id.
pub fn find(c: &mut AnyConnection, id: ReportId) -> QueryResult<Option<Report>> {
    reports::table
        .find(id)
        .select(Report::as_select())
        .first(c)
        .optional()
}

/// The report of an assignment for a period.
pub fn find_for_period(
    c: &mut AnyConnection,
    assignment: AssignmentId,
    period: &str,
) -> QueryResult<Option<Report>> {
    reports::table
        .filter(reports::assignment_id.eq(assignment))
        .filter(reports::period.eq(period))
        .select(Report::as_select())
        .first(c)
        .optional()
}

/// Replaces the text if the version is still `version`; false when it moved on.
pub fn update_text(
    c: &mut AnyConnection,
    id: ReportId,
    version: i32,
    text: &ReportText,
    by: UserId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        reports::table
            .filter(reports::id.eq(id))
            .filter(reports::version.eq(version)),
    )
    .set((
        text,
        reports::version.eq(version + 1),
        reports::updated_by.eq(by),
        reports::updated_at.eq(now),
    ))
    .execute(c)?;
    Ok(n == 1)
}

/// Moves the workflow on if the version is still `version`; false when it moved on.
#[allow(clippy::too_many_arguments)]
pub fn set_workflow(
    c: &mut AnyConnection,
    id: ReportId,
    version: i32,
    workflow: Workflow,
    reason: Option<&str>,
    by: UserId,
    submitted: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let target = reports::table
        .filter(reports::id.eq(id))
        .filter(reports::version.eq(version));
    let n = if submitted {
        diesel::update(target)
            .set((
                reports::workflow.eq(workflow),
                reports::return_reason.eq(reason),
                reports::version.eq(version + 1),
                reports::submitted_at.eq(now),
                reports::updated_by.eq(by),
                reports::updated_at.eq(now),
            ))
            .execute(c)?
    } else {
        diesel::update(target)
            .set((
                reports::workflow.eq(workflow),
                reports::return_reason.eq(reason),
                reports::version.eq(version + 1),
                reports::reviewed_at.eq(now),
                reports::reviewed_by.eq(by),
                reports::updated_at.eq(now),
            ))
            .execute(c)?
    };
    Ok(n == 1)
}

/// Records a submitted version.
pub fn insert_revision(
    c: &mut AnyConnection,
    r: &Report,
    by: Option<UserId>,
    now: NaiveDateTime,
) -> QueryResult<i32> {
    let next: i32 = report_revisions::table
        .filter(report_revisions::report_id.eq(r.id))
        .select(diesel::dsl::max(report_revisions::revision))
        .first::<Option<i32>>(c)?
        .unwrap_or(0)
        + 1;
    diesel::insert_into(report_revisions::table)
        .values((
            report_revisions::report_id.eq(r.id),
            report_revisions::revision.eq(next),
            report_revisions::status.eq(r.status),
            report_revisions::narrative.eq(&r.narrative),
            report_revisions::problems.eq(&r.problems),
            report_revisions::next_steps.eq(&r.next_steps),
            report_revisions::submitted_by.eq(by),
            report_revisions::submitted_at.eq(now),
        ))
        .execute(c)?;
    Ok(next)
}

/// Every submitted version of a report, oldest first.
pub fn revisions(c: &mut AnyConnection, id: ReportId) -> QueryResult<Vec<Revision>> {
    report_revisions::table
        .filter(report_revisions::report_id.eq(id))
        .select(Revision::as_select())
        .order(report_revisions::revision)
        .load(c)
}

/// Up to `limit + 1` reports after `after`, in id order.
pub fn list(
    c: &mut AnyConnection,
    f: &ReportFilter,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Report>> {
    use crate::db::schema::assignments;
    let mut q = reports::table
        .inner_join(assignments::table)
        .select(Report::as_select())
        .into_boxed();
    if let Some(a) = f.assignment_id {
        q = q.filter(reports::assignment_id.eq(a));
    }
    if let Some(u) = f.unit_id {
        q = q.filter(reports::unit_id.eq(u));
    }
    if let Some(p) = f.plan_id {
        q = q.filter(assignments::plan_id.eq(p));
    }
    if let Some(w) = f.workflow {
        q = q.filter(reports::workflow.eq(w));
    }
    if let Some(s) = f.status {
        q = q.filter(reports::status.eq(s));
    }
    if f.sent_only {
        q = q.filter(reports::workflow.ne(Workflow::Draft));
    }
    if let Some(unit) = f.visible_to {
        // Its own reports (drafts included), and sent reports on measures it leads.
        let mine = diesel::alias!(assignments as led);
        let led = mine
            .filter(mine.field(assignments::unit_id).eq(unit))
            .filter(mine.field(assignments::role).eq(AssignmentRole::Lead))
            .select(mine.field(assignments::measure_id));
        q = q.filter(
            reports::unit_id.eq(unit).or(assignments::measure_id
                .eq_any(led)
                .and(reports::workflow.ne(Workflow::Draft))),
        );
    }
    if let Some(a) = after {
        q = q.filter(reports::id.gt(ReportId(a)));
    }
    q.order(reports::id.asc()).limit(limit + 1).load(c)
}

/// The latest report (by update time) of each of these assignments.
pub fn latest_of(c: &mut AnyConnection, ids: &[AssignmentId]) -> QueryResult<Vec<Report>> {
    let mut all: Vec<Report> = Vec::new();
    for chunk in ids.chunks(500) {
        let mut rows: Vec<Report> = reports::table
            .filter(reports::assignment_id.eq_any(chunk))
            .select(Report::as_select())
            .order((
                reports::assignment_id,
                reports::updated_at.desc(),
                reports::id.desc(),
            ))
            .load(c)?;
        rows.dedup_by_key(|r| r.assignment_id);
        all.extend(rows);
    }
    Ok(all)
}
