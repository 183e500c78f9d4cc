//! Reports and their immutable revisions.

use crate::db::schema::{report_revisions, reports};
use crate::db::AnyConnection;
use crate::domain::ids::{AssignmentId, ReportId, UnitId, UserId};
use crate::domain::report::{ReportStatus, Workflow};
use crate::on_backend;
use crate::store::Fixed;
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
    /// The share of the work done, in percent, if the unit says (序时进度).
    pub progress: Option<i32>,
}

/// A new report. Its `None` fields are written as NULL (not left to the column's default, which
/// is NULL too) so that the insert has one text and stays prepared.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = reports, treat_none_as_default_value = false)]
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
    pub progress: Option<i32>,
}

/// The text of a report a unit edits.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = reports)]
pub struct ReportText {
    pub status: ReportStatus,
    pub narrative: String,
    pub problems: String,
    pub next_steps: String,
    pub progress: Option<i32>,
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
    pub progress: Option<i32>,
}

/// Who reads reports: the one rule for which reports a reader sees and what of each.
///
/// A report's own unit sees it as it is now, drafts and unsent edits included. Everyone else
/// allowed to read it sees only what was last sent — the latest revision, with the review state
/// and dates the office set — and never a report that was not sent: not its text, its id, its
/// status, nor a version or time that an unsent edit moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The office, viewers and admins: every sent report.
    Office,
    /// A unit: its own reports, and the sent reports on the measures it leads.
    Unit(UnitId),
}

impl Reader {
    /// True when this reader sees the unit's working copy rather than what was sent.
    pub fn sees_working_copy(self, owner: UnitId) -> bool {
        matches!(self, Reader::Unit(u) if u == owner)
    }
}

/// Filters of the report list.
#[derive(Debug, Clone)]
pub struct ReportFilter {
    /// Who reads (decides which reports and what of them).
    pub reader: Reader,
    pub assignment_id: Option<AssignmentId>,
    pub unit_id: Option<UnitId>,
    pub workflow: Option<Workflow>,
    /// Matched against what the reader sees (the sent status for others' reports).
    pub status: Option<ReportStatus>,
    pub plan_id: Option<crate::domain::ids::PlanId>,
    /// Only reports on this measure's assignments.
    pub measure_id: Option<crate::domain::ids::ItemId>,
    /// Only reports of the unit that holds the assignment now (the default): a report its
    /// former holder wrote before the assignment moved is history, read by id or on the
    /// assignment's timeline, not an answer in a list, an inbox, a table or a queue.
    pub held_only: bool,
}

impl ReportFilter {
    /// Every report this reader may see.
    pub fn for_reader(reader: Reader) -> Self {
        ReportFilter {
            reader,
            assignment_id: None,
            unit_id: None,
            workflow: None,
            status: None,
            plan_id: None,
            measure_id: None,
            held_only: true,
        }
    }
}

/// A report as `reader` may see it: the working copy for its own unit, else what was last sent
/// (`None` when it was never sent).
fn present(r: Report, sent: Option<Revision>, reader: Reader) -> Option<Report> {
    if reader.sees_working_copy(r.unit_id) {
        return Some(r);
    }
    let rev = sent?;
    let last_event = [r.submitted_at, r.reviewed_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(rev.submitted_at);
    Some(Report {
        status: rev.status,
        narrative: rev.narrative,
        problems: rev.problems,
        next_steps: rev.next_steps,
        progress: rev.progress,
        version: rev.revision,
        updated_by: rev.submitted_by,
        updated_at: last_event,
        ..r
    })
}

/// Inserts a report and returns its id.
pub fn insert(c: &mut AnyConnection, r: &NewReport) -> QueryResult<ReportId> {
    on_backend!(c, |c| diesel::insert_into(reports::table)
        .values(r)
        .returning(reports::id)
        .get_result(c))
}

/// Inserts a report and returns it as stored, in one statement.
pub fn create(c: &mut AnyConnection, r: &NewReport) -> QueryResult<Report> {
    on_backend!(c, |c| diesel::insert_into(reports::table)
        .values(r)
        .returning(Report::as_returning())
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

/// The assignments these reports answer (those that exist).
pub fn assignments_of(c: &mut AnyConnection, ids: &[ReportId]) -> QueryResult<Vec<AssignmentId>> {
    reports::table
        .filter(reports::id.eq_any(ids))
        .select(reports::assignment_id)
        .load(c)
}

/// The report with this id as stored (the working copy: for its own unit's writes).
pub fn find(c: &mut AnyConnection, id: ReportId) -> QueryResult<Option<Report>> {
    reports::table
        .find(id)
        .select(Report::as_select())
        .first(c)
        .optional()
}

/// The report with this id as `reader` sees it ([`Reader`]); `None` when it does not exist or
/// this reader cannot see it. Whether the reader may read the assignment's reports at all is
/// the caller's check (the lead-unit rule is applied here).
pub fn find_for(
    c: &mut AnyConnection,
    id: ReportId,
    reader: Reader,
) -> QueryResult<Option<Report>> {
    let rows = list_where(c, &ReportFilter::for_reader(reader), Some(id), None, 1)?;
    Ok(rows.into_iter().next())
}

/// The id of the report a unit wrote on an assignment for a period, if there is one.
pub fn find_for_period(
    c: &mut AnyConnection,
    assignment: AssignmentId,
    unit: UnitId,
    period: &str,
) -> QueryResult<Option<ReportId>> {
    reports::table
        .filter(reports::assignment_id.eq(assignment))
        .filter(reports::unit_id.eq(unit))
        .filter(reports::period.eq(period))
        .select(reports::id)
        .first(c)
        .optional()
}

/// Replaces the text if the version is still `version` and returns the report as it now is;
/// `None` when the version moved on.
pub fn update_text(
    c: &mut AnyConnection,
    id: ReportId,
    version: i32,
    text: &ReportText,
    by: UserId,
    now: NaiveDateTime,
) -> QueryResult<Option<Report>> {
    let target = reports::table
        .filter(reports::id.eq(id))
        .filter(reports::version.eq(version));
    on_backend!(c, |c| Fixed(
        diesel::update(target)
            .set((
                text,
                reports::version.eq(version + 1),
                reports::updated_by.eq(by),
                reports::updated_at.eq(now),
            ))
            .returning(Report::as_returning())
    )
    .get_result(c)
    .optional())
}

/// Moves the workflow on if the version is still `version`, and, for a review, the assignment's
/// standing with it; false when it moved on.
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
        Fixed(diesel::update(target).set((
            reports::workflow.eq(workflow),
            reports::return_reason.eq(reason),
            reports::version.eq(version + 1),
            reports::submitted_at.eq(now),
            reports::updated_by.eq(by),
            reports::updated_at.eq(now),
        )))
        .execute(c)?
    } else {
        Fixed(diesel::update(target).set((
            reports::workflow.eq(workflow),
            reports::return_reason.eq(reason),
            reports::version.eq(version + 1),
            reports::reviewed_at.eq(now),
            reports::reviewed_by.eq(by),
            reports::updated_at.eq(now),
        )))
        .execute(c)?
    };
    // A submission's standing follows from its revision ([`insert_revision`], which every
    // sending writes next); a review changes it here.
    if n == 1 && !submitted {
        let assignment: AssignmentId = reports::table
            .find(id)
            .select(reports::assignment_id)
            .first(c)?;
        super::standing::refresh(c, assignment, now)?;
    }
    Ok(n == 1)
}

/// Sends the working copy `r` if its version is still the one read: the workflow moves to
/// `workflow`, the version and the sent revision move on, and the text becomes that revision,
/// which everyone but the unit reads from now on; the assignment's standing follows. Returns the
/// report as it now is and the number of its new revision, or `None` when the version moved on.
///
/// One `UPDATE … RETURNING` and one `INSERT`: the sent revision is the report's last revision
/// ([`insert_revision`] keeps them equal), so the next one is counted on the report's row.
pub fn send(
    c: &mut AnyConnection,
    r: &Report,
    workflow: Workflow,
    by: UserId,
    now: NaiveDateTime,
) -> QueryResult<Option<(Report, i32)>> {
    let target = reports::table
        .filter(reports::id.eq(r.id))
        .filter(reports::version.eq(r.version));
    let sent: Option<(Report, Option<i32>)> = on_backend!(c, |c| Fixed(
        diesel::update(target)
            .set((
                reports::workflow.eq(workflow),
                reports::return_reason.eq(None::<String>),
                reports::version.eq(r.version + 1),
                reports::submitted_at.eq(now),
                reports::updated_by.eq(by),
                reports::updated_at.eq(now),
                reports::sent_revision.eq(diesel::dsl::sql::<
                    diesel::sql_types::Nullable<diesel::sql_types::Integer>,
                >("COALESCE(sent_revision, 0) + 1")),
            ))
            .returning((Report::as_returning(), reports::sent_revision))
    )
    .get_result(c)
    .optional())?;
    let Some((after, Some(revision))) = sent else {
        return Ok(None);
    };
    write_revision(c, &after, revision, Some(by), now)?;
    Ok(Some((after, revision)))
}

/// Writes revision `revision` of a report from its text, and the assignment's standing.
fn write_revision(
    c: &mut AnyConnection,
    r: &Report,
    revision: i32,
    by: Option<UserId>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(report_revisions::table)
        .values((
            report_revisions::report_id.eq(r.id),
            report_revisions::revision.eq(revision),
            report_revisions::status.eq(r.status),
            report_revisions::narrative.eq(&r.narrative),
            report_revisions::problems.eq(&r.problems),
            report_revisions::next_steps.eq(&r.next_steps),
            report_revisions::progress.eq(r.progress),
            report_revisions::submitted_by.eq(by),
            report_revisions::submitted_at.eq(now),
        ))
        .execute(c)?;
    // The working copy's evidence files go with it.
    super::attachments::sent_with(c, r.id, revision)?;
    super::standing::refresh(c, r.assignment_id, now)?;
    Ok(())
}

/// Records a sent version: the revision others read from now on, and the assignment's standing.
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
    Fixed(diesel::update(reports::table.find(r.id)).set(reports::sent_revision.eq(next)))
        .execute(c)?;
    write_revision(c, r, next, by, now)?;
    Ok(next)
}

/// Holds the report's row until the transaction ends, so that changes to its evidence files and
/// its sending follow one another (PostgreSQL; SQLite's writers already go one at a time).
pub fn lock(c: &mut AnyConnection, id: ReportId) -> QueryResult<()> {
    if let AnyConnection::Pg(pg) = c {
        reports::table
            .find(id)
            .select(reports::id)
            .for_update()
            .first::<ReportId>(pg)
            .optional()?;
    }
    Ok(())
}

/// The revision of a report that everyone but its unit reads (`None` until it is sent).
pub fn sent_revision(c: &mut AnyConnection, id: ReportId) -> QueryResult<Option<i32>> {
    Ok(reports::table
        .find(id)
        .select(reports::sent_revision)
        .first::<Option<i32>>(c)
        .optional()?
        .flatten())
}

/// The sent revision of each of these reports that has one.
pub fn sent_revisions(
    c: &mut AnyConnection,
    ids: &[ReportId],
) -> QueryResult<std::collections::HashMap<ReportId, i32>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(ReportId, Option<i32>)> = reports::table
        .filter(reports::id.eq_any(ids))
        .select((reports::id, reports::sent_revision))
        .load(c)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, r)| r.map(|r| (id, r)))
        .collect())
}

/// Up to `limit + 1` submitted versions of a report after the revision `after`, oldest first.
pub fn revisions_page(
    c: &mut AnyConnection,
    id: ReportId,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Revision>> {
    let after = after.map_or(0, |a| i32::try_from(a).unwrap_or(i32::MAX));
    report_revisions::table
        .filter(report_revisions::report_id.eq(id))
        .filter(report_revisions::revision.gt(after))
        .select(Revision::as_select())
        .order(report_revisions::revision)
        .limit(limit + 1)
        .load(c)
}

/// Every submitted version of a report, oldest first.
pub fn revisions(c: &mut AnyConnection, id: ReportId) -> QueryResult<Vec<Revision>> {
    report_revisions::table
        .filter(report_revisions::report_id.eq(id))
        .select(Revision::as_select())
        .order(report_revisions::revision)
        .load(c)
}

/// Up to `limit + 1` reports after `after`, in id order, as the filter's reader sees them.
pub fn list(
    c: &mut AnyConnection,
    f: &ReportFilter,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Report>> {
    list_where(c, f, None, after, limit)
}

/// Every report matching the filter, as its reader sees them, read page by page.
pub fn list_all(c: &mut AnyConnection, f: &ReportFilter) -> QueryResult<Vec<Report>> {
    super::all_pages(
        |after, limit| list_where(c, f, None, after, limit),
        |r| r.id.0,
    )
}

fn list_where(
    c: &mut AnyConnection,
    f: &ReportFilter,
    only: Option<ReportId>,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Report>> {
    use crate::db::schema::assignments;
    let rv = report_revisions::table.on(report_revisions::report_id.eq(reports::id).and(
        report_revisions::revision
            .nullable()
            .eq(reports::sent_revision),
    ));
    let mut q = reports::table
        .inner_join(assignments::table)
        .left_join(rv)
        .select((Report::as_select(), Option::<Revision>::as_select()))
        .into_boxed();
    let sent = reports::sent_revision.is_not_null();
    q = match f.reader {
        Reader::Office => q.filter(sent),
        Reader::Unit(unit) => {
            // Its own reports, and sent reports on measures it leads.
            let mine = diesel::alias!(assignments as led);
            let led = mine
                .filter(mine.field(assignments::unit_id).eq(unit))
                // A literal, not a bound value: the plan PostgreSQL keeps for the statement can
                // use the partial index of lead assignments, not planned anew on every call.
                .filter(mine.field(assignments::role).eq(crate::db::text::LeadRole))
                .select(mine.field(assignments::measure_id));
            q.filter(
                reports::unit_id
                    .eq(unit)
                    .or(assignments::measure_id.eq_any(led).and(sent)),
            )
        }
    };
    if let Some(id) = only {
        q = q.filter(reports::id.eq(id));
    } else if f.held_only {
        q = q.filter(reports::unit_id.eq(assignments::unit_id));
    }
    if let Some(a) = f.assignment_id {
        q = q.filter(reports::assignment_id.eq(a));
    }
    if let Some(u) = f.unit_id {
        q = q.filter(reports::unit_id.eq(u));
    }
    if let Some(p) = f.plan_id {
        q = q.filter(assignments::plan_id.eq(p));
    }
    if let Some(m) = f.measure_id {
        q = q.filter(assignments::measure_id.eq(m));
    }
    if let Some(w) = f.workflow {
        q = q.filter(reports::workflow.eq(w));
    }
    if let Some(s) = &f.status {
        // The status the reader sees: its own working copy, or what was sent.
        q = match f.reader {
            Reader::Unit(unit) => q.filter(
                reports::unit_id
                    .eq(unit)
                    .and(reports::status.eq(*s))
                    .or(reports::unit_id
                        .ne(unit)
                        .and(report_revisions::status.nullable().eq(*s))),
            ),
            _ => q.filter(report_revisions::status.nullable().eq(*s)),
        };
    }
    if let Some(a) = after {
        q = q.filter(reports::id.gt(ReportId(a)));
    }
    let rows: Vec<(Report, Option<Revision>)> =
        q.order(reports::id.asc()).limit(limit + 1).load(c)?;
    Ok(rows
        .into_iter()
        .filter_map(|(r, rev)| present(r, rev, f.reader))
        .collect())
}

/// The latest report (by update time) of each of these assignments, drafts included: for the
/// assignments' own unit only.
pub fn latest_ids(
    c: &mut AnyConnection,
    ids: &[AssignmentId],
    unit: UnitId,
) -> QueryResult<Vec<(AssignmentId, ReportId)>> {
    use crate::db::schema::assignments;
    let mut all = Vec::new();
    for chunk in ids.chunks(500) {
        // One index probe per assignment (the newest of its reports), however long its history.
        let latest = reports::table
            .filter(reports::assignment_id.eq(assignments::id))
            .filter(reports::unit_id.eq(unit))
            .order((reports::updated_at.desc(), reports::id.desc()))
            .select(reports::id)
            .limit(1)
            .single_value();
        let rows: Vec<(AssignmentId, Option<ReportId>)> = assignments::table
            .filter(assignments::id.eq_any(chunk))
            .select((assignments::id, latest))
            .load(c)?;
        all.extend(rows.into_iter().filter_map(|(a, r)| Some((a, r?))));
    }
    Ok(all)
}
