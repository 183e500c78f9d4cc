//! Each assignment's standing ([`crate::domain::standing`]), kept as versions valid from the
//! change that made them: written in the transaction of that change, read as of a point in
//! time. Nothing outside this module writes `assignment_standings`.

use crate::db::schema::{
    assignment_standings as st, assignments, reports, urge_assignments, urges,
};
use crate::db::AnyConnection;
use crate::domain::assignment::AssignmentRole;
use crate::domain::assignment::{AssignmentState, Cycle};
use crate::domain::calendar::Calendar;
use crate::domain::ids::{AssignmentId, ItemId, PlanId, ReportId, UnitId};
use crate::domain::report::{ReportStatus, Workflow};
use crate::domain::standing::{ReportFact, Standing, Terms};
use crate::on_backend;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashMap;

/// A stored version, as written and read.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = st, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
// Absent values are bound as NULL (the columns' default) rather than written as DEFAULT, so
// that the insert has one text and is prepared once per connection.
#[diesel(treat_none_as_default_value = false)]
struct Row {
    assignment_id: AssignmentId,
    plan_id: PlanId,
    unit_id: UnitId,
    valid_from: NaiveDateTime,
    due_date: NaiveDate,
    deadline: Option<NaiveDate>,
    done: Option<ReportStatus>,
    done_at: Option<NaiveDateTime>,
    last_sent_period: Option<String>,
    sent_report_id: Option<ReportId>,
    sent_status: Option<ReportStatus>,
    sent_workflow: Option<Workflow>,
    sent_at: Option<NaiveDateTime>,
    returned: bool,
    urges: i32,
    phase: AssignmentState,
    done_late_days: Option<i32>,
    received: bool,
    measure_id: ItemId,
    lead: bool,
    sent_progress: Option<i32>,
    behind_since: Option<NaiveDate>,
}

impl Row {
    fn standing(self) -> Standing {
        Standing {
            due_date: self.due_date,
            deadline: self.deadline,
            done: self.done,
            done_at: self.done_at,
            last_sent_period: self.last_sent_period,
            sent_report_id: self.sent_report_id,
            sent_status: self.sent_status,
            sent_workflow: self.sent_workflow,
            sent_at: self.sent_at,
            returned: self.returned,
            urges: self.urges,
            phase: self.phase,
            done_late_days: self.done_late_days,
            received: self.received,
            sent_progress: self.sent_progress,
            behind_since: self.behind_since,
        }
    }
}

/// Whose standing a row is: the assignment's plan, measure, unit and role, kept on every
/// version so the figures per unit, plan and lead unit read the standings (and their tallies)
/// alone. A change of holder or role starts a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// The assignment's plan.
    pub plan_id: PlanId,
    /// The measure.
    pub measure_id: ItemId,
    /// The unit that holds it.
    pub unit_id: UnitId,
    /// Whether the unit leads the measure (牵头) rather than participates.
    pub lead: bool,
}

impl Holder {
    /// The holder of an assignment in `role`.
    pub fn new(plan_id: PlanId, measure_id: ItemId, unit_id: UnitId, role: AssignmentRole) -> Self {
        Holder {
            plan_id,
            measure_id,
            unit_id,
            lead: role == AssignmentRole::Lead,
        }
    }
}

fn new_row(id: AssignmentId, holder: Holder, s: &Standing, from: NaiveDateTime) -> Row {
    Row {
        assignment_id: id,
        plan_id: holder.plan_id,
        unit_id: holder.unit_id,
        valid_from: from,
        due_date: s.due_date,
        deadline: s.deadline,
        done: s.done,
        done_at: s.done_at,
        last_sent_period: s.last_sent_period.clone(),
        sent_report_id: s.sent_report_id,
        sent_status: s.sent_status,
        sent_workflow: s.sent_workflow,
        sent_at: s.sent_at,
        returned: s.returned,
        urges: s.urges,
        phase: s.phase,
        done_late_days: s.done_late_days,
        received: s.received,
        measure_id: holder.measure_id,
        lead: holder.lead,
        sent_progress: s.sent_progress,
        behind_since: s.behind_since,
    }
}

/// The first instant after day `d` (the cut-off of "as of `d`": what happened by the end of it).
pub fn end_of(d: NaiveDate) -> NaiveDateTime {
    d.succ_opt()
        .unwrap_or(d)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
}

/// Records the first standing of new assignments, each valid from its creation.
pub fn insert_initial(
    c: &mut AnyConnection,
    rows: &[(AssignmentId, Holder, Terms, NaiveDateTime)],
) -> QueryResult<()> {
    let rows: Vec<Row> = rows
        .iter()
        .map(|(id, holder, terms, from)| new_row(*id, *holder, &Standing::initial(*terms), *from))
        .collect();
    for chunk in rows.chunks(500) {
        on_backend!(c, |c| diesel::insert_into(st::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// The standing of each of these assignments as it was at the end of `day` (today: the
/// current one). Assignments that did not exist yet have none.
pub fn as_of(
    c: &mut AnyConnection,
    ids: &[AssignmentId],
    day: NaiveDate,
) -> QueryResult<HashMap<AssignmentId, Standing>> {
    let cut = end_of(day);
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<Row> = st::table
            .filter(st::assignment_id.eq_any(chunk))
            .filter(st::valid_from.lt(cut))
            .filter(st::valid_to.is_null().or(st::valid_to.ge(cut)))
            .select(Row::as_select())
            .load(c)?;
        for r in rows {
            out.insert(r.assignment_id, r.standing());
        }
    }
    Ok(out)
}

/// The assignment's columns its standing's holder is made of: plan, measure, unit, role.
type HolderColumns = (PlanId, ItemId, UnitId, AssignmentRole);

/// What the standing of an assignment is computed from.
///
/// On PostgreSQL the assignment's row stays locked until the transaction ends, so changes that
/// refresh one assignment's standing at once take turns: the later one reads the facts and the
/// standing the earlier one committed, instead of both starting a current version.
fn terms_of(c: &mut AnyConnection, id: AssignmentId) -> QueryResult<(Holder, Terms)> {
    type TermsRow = (
        HolderColumns,
        NaiveDate,
        Cycle,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let q = assignments::table.find(id).select((
        (
            assignments::plan_id,
            assignments::measure_id,
            assignments::unit_id,
            assignments::role,
        ),
        assignments::due_date,
        assignments::cycle,
        assignments::created_at,
        assignments::received_at,
    ));
    let ((plan_id, measure_id, unit_id, role), due_date, cycle, created, received_at): TermsRow =
        match c {
            AnyConnection::Pg(c) => q.for_no_key_update().first(c)?,
            AnyConnection::Sqlite(c) => q.first(c)?,
        };
    let terms = Terms {
        cycle,
        due_date,
        assigned_on: created.date(),
        received: received_at.is_some(),
    };
    Ok((Holder::new(plan_id, measure_id, unit_id, role), terms))
}

/// The reports the assignment's holder wrote on it (an assignment moved to another unit keeps
/// its former holder's reports, which no longer count for it).
fn facts_of(
    c: &mut AnyConnection,
    id: AssignmentId,
    holder: UnitId,
) -> QueryResult<Vec<ReportFact>> {
    let rows: Vec<BackfillFact> = reports::table
        .filter(reports::assignment_id.eq(id))
        .filter(reports::unit_id.eq(holder))
        .select((
            reports::id,
            reports::period,
            reports::status,
            reports::workflow,
            reports::submitted_at,
            reports::progress,
        ))
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, period, status, workflow, submitted_at, progress)| ReportFact {
                id,
                period,
                status,
                workflow,
                submitted_at,
                progress,
            },
        )
        .collect())
}

/// The urges about the assignment sent to its holder (not those its former holder received).
fn urges_of(c: &mut AnyConnection, id: AssignmentId, holder: UnitId) -> QueryResult<i32> {
    let n: i64 = urge_assignments::table
        .inner_join(urges::table)
        .filter(urge_assignments::assignment_id.eq(id))
        .filter(urges::unit_id.eq(holder))
        .count()
        .get_result(c)?;
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

/// Counts again, on `cal`, the working days late of the work done late in every standing (run
/// once, when a database first gets its calendar: standings kept before counted calendar
/// days). The tallies follow through their trigger. Returns how many changed.
pub fn recount_lateness(c: &mut AnyConnection, cal: &Calendar) -> QueryResult<usize> {
    let rows: Vec<(i64, NaiveDate, Option<NaiveDateTime>, Option<i32>)> = st::table
        .filter(st::done_late_days.is_not_null())
        .select((st::id, st::due_date, st::done_at, st::done_late_days))
        .load(c)?;
    let mut changed = 0;
    for (id, due, done_at, old) in rows {
        let Some(days) =
            done_at.and_then(|t| crate::domain::standing::days_done_late(due, t.date(), cal))
        else {
            continue;
        };
        if old != Some(days) {
            diesel::update(st::table.find(id))
                .set(st::done_late_days.eq(days))
                .execute(c)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Recomputes an assignment's standing after a change made at `at` (a report sent, returned or
/// accepted, a due date or cycle changed, an urge issued) and, when it differs, closes the
/// current version and starts a new one from `at`. Call it in the change's transaction.
pub fn refresh(
    c: &mut AnyConnection,
    id: AssignmentId,
    at: NaiveDateTime,
) -> QueryResult<Standing> {
    let (holder, terms) = terms_of(c, id)?;
    let facts = facts_of(c, id, holder.unit_id)?;
    let urges = urges_of(c, id, holder.unit_id)?;
    let previous: Option<Row> = st::table
        .filter(st::assignment_id.eq(id))
        .filter(st::valid_to.is_null())
        .select(Row::as_select())
        .first(c)
        .optional()?;
    let previous_holder = previous.as_ref().map(|r| Holder {
        plan_id: r.plan_id,
        measure_id: r.measure_id,
        unit_id: r.unit_id,
        lead: r.lead,
    });
    let previous = previous.map(Row::standing);
    let (from, to) = Standing::calendar_span(terms, at);
    let cal = super::calendar::span(c, from, to)?;
    let next = Standing::compute(terms, &facts, urges, previous.as_ref(), at, &cal);
    if previous.as_ref() == Some(&next) && previous_holder == Some(holder) {
        return Ok(next);
    }
    if previous.is_some() {
        on_backend!(c, |c| crate::store::Fixed(
            diesel::update(
                st::table
                    .filter(st::assignment_id.eq(id))
                    .filter(st::valid_to.is_null()),
            )
            .set(st::valid_to.eq(at))
        )
        .execute(c))?;
    }
    let row = new_row(id, holder, &next, at);
    on_backend!(c, |c| crate::store::Fixed(
        diesel::insert_into(st::table).values(&row)
    )
    .execute(c))?;
    Ok(next)
}

/// Locks `unit`'s assignments among `ids` in id order until the transaction ends (PostgreSQL;
/// SQLite has one writer at a time), as [`refresh`] would one by one: a transaction that will
/// change several takes them all first, in the order every other one takes them, so two
/// cannot wait for each other. Only the unit's own, so a request naming others' holds none.
pub fn lock_assignments(
    c: &mut AnyConnection,
    unit: UnitId,
    ids: &[AssignmentId],
) -> QueryResult<()> {
    if let AnyConnection::Pg(pg) = c {
        for chunk in ids.chunks(1000) {
            assignments::table
                .filter(assignments::id.eq_any(chunk))
                .filter(assignments::unit_id.eq(unit))
                .order(assignments::id)
                .select(assignments::id)
                .for_no_key_update()
                .load::<AssignmentId>(pg)?;
        }
    }
    Ok(())
}

/// [`refresh`] for several assignments changed together.
pub fn refresh_all(
    c: &mut AnyConnection,
    ids: &[AssignmentId],
    at: NaiveDateTime,
) -> QueryResult<()> {
    // In one order, so two changes locking the same assignments cannot wait for each other.
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        refresh(c, id, at)?;
    }
    Ok(())
}

/// A report's facts as [`backfill`] loads them: id, period, status, workflow, sent at.
/// A report's facts as loaded: id, period, status, workflow, sent at, percent done.
type BackfillFact = (
    ReportId,
    String,
    ReportStatus,
    Workflow,
    Option<NaiveDateTime>,
    Option<i32>,
);

/// Assignments whose facts [`backfill`] loads per round trip.
const BACKFILL_BATCH: usize = 1000;

/// Gives every assignment that has no standing yet (data from before standings were kept, or
/// loaded by plain SQL) its standing, valid from its creation: the one [`refresh`] would record
/// at that instant, computed by the same rule. Works through the assignments in batches (their
/// terms in one query, the reports and urge counts of a batch in one query each, the new rows
/// inserted in chunks), so a year of data takes seconds rather than a query per assignment.
/// Returns how many were filled in.
pub fn backfill(c: &mut AnyConnection) -> QueryResult<usize> {
    type Missing = (
        AssignmentId,
        HolderColumns,
        NaiveDateTime,
        NaiveDate,
        Cycle,
        Option<NaiveDateTime>,
    );
    let missing: Vec<Missing> = assignments::table
        .filter(diesel::dsl::not(diesel::dsl::exists(
            st::table.filter(st::assignment_id.eq(assignments::id)),
        )))
        .select((
            assignments::id,
            (
                assignments::plan_id,
                assignments::measure_id,
                assignments::unit_id,
                assignments::role,
            ),
            assignments::created_at,
            assignments::due_date,
            assignments::cycle,
            assignments::received_at,
        ))
        .order(assignments::id)
        .load(c)?;
    // Work done late counts working days, however long after it was made it was done.
    let cal = if missing.is_empty() {
        crate::domain::calendar::Calendar::default()
    } else {
        super::calendar::load(c)?
    };
    for batch in missing.chunks(BACKFILL_BATCH) {
        let ids: Vec<AssignmentId> = batch.iter().map(|m| m.0).collect();
        let mut facts: HashMap<AssignmentId, Vec<ReportFact>> = HashMap::new();
        let holders: HashMap<AssignmentId, UnitId> = batch.iter().map(|m| (m.0, m.1 .2)).collect();
        let rows: Vec<(AssignmentId, UnitId, BackfillFact)> = reports::table
            .filter(reports::assignment_id.eq_any(&ids))
            .select((
                reports::assignment_id,
                reports::unit_id,
                (
                    reports::id,
                    reports::period,
                    reports::status,
                    reports::workflow,
                    reports::submitted_at,
                    reports::progress,
                ),
            ))
            .load(c)?;
        for (assignment, unit, (id, period, status, workflow, submitted_at, progress)) in rows {
            // Only the holder's own reports count, as in `refresh`.
            if holders.get(&assignment) != Some(&unit) {
                continue;
            }
            facts.entry(assignment).or_default().push(ReportFact {
                id,
                period,
                status,
                workflow,
                submitted_at,
                progress,
            });
        }
        // Urges to the holder only, as in `refresh`.
        let urges: HashMap<AssignmentId, i64> = urge_assignments::table
            .inner_join(urges::table)
            .filter(urge_assignments::assignment_id.eq_any(&ids))
            .group_by((urge_assignments::assignment_id, urges::unit_id))
            .select((
                urge_assignments::assignment_id,
                urges::unit_id,
                diesel::dsl::count_star(),
            ))
            .load::<(AssignmentId, UnitId, i64)>(c)?
            .into_iter()
            .filter(|(a, unit, _)| holders.get(a) == Some(unit))
            .map(|(a, _, n)| (a, n))
            .collect();
        let rows: Vec<Row> = batch
            .iter()
            .map(
                |&(
                    id,
                    (plan_id, measure_id, unit_id, role),
                    created,
                    due_date,
                    cycle,
                    received_at,
                )| {
                    let terms = Terms {
                        cycle,
                        due_date,
                        assigned_on: created.date(),
                        received: received_at.is_some(),
                    };
                    let n = urges.get(&id).copied().unwrap_or(0);
                    let standing = Standing::compute(
                        terms,
                        facts.get(&id).map_or(&[][..], Vec::as_slice),
                        i32::try_from(n).unwrap_or(i32::MAX),
                        None,
                        created,
                        &cal,
                    );
                    let holder = Holder::new(plan_id, measure_id, unit_id, role);
                    new_row(id, holder, &standing, created)
                },
            )
            .collect();
        for chunk in rows.chunks(500) {
            on_backend!(c, |c| diesel::insert_into(st::table)
                .values(chunk)
                .execute(c))?;
        }
    }
    if !missing.is_empty() {
        compact_tallies(c)?;
    }
    Ok(missing.len())
}

/// A table of tallies: rows of +1 / -1 per change to a current standing, written by the
/// database's triggers on `assignment_standings`, read as sums.
struct Tallies {
    table: &'static str,
    /// The columns that say which standings a tally counts.
    key: &'static str,
    /// The columns that count, summed when tallies fold.
    counts: &'static [&'static str],
}

/// Per plan, unit and the facts the desk's figures combine.
const STANDING_TALLIES: Tallies = Tallies {
    table: "standing_tallies",
    key: "plan_id, unit_id, phase, due_date, deadline, done, late",
    counts: &[
        "n",
        "reported",
        "returned",
        "urged",
        "late_days",
        "unreceived",
    ],
};

/// Per plan and measure, the participants' standings (牵头单位汇总: answers in).
const MEASURE_TALLIES: Tallies = Tallies {
    table: "measure_tallies",
    key: "plan_id, measure_id",
    counts: &["n", "reported"],
};

/// Folds the tallies of the current standings (one row per change, written by the database's
/// triggers on `assignment_standings`) into one row per combination, dropping those that net
/// to nothing, in both tally tables (per unit, and per measure). The sums do not change, so
/// readers see the same figures before and after, and writers that add tallies meanwhile are
/// neither blocked nor lost: on PostgreSQL one statement deletes exactly the rows its snapshot
/// sees, of the combinations that have more than one row or net to nothing (a table already
/// folded is only read), and reinserts their sums; on SQLite the writer holds the database.
/// Returns the rows written.
pub fn compact_tallies(c: &mut AnyConnection) -> QueryResult<usize> {
    crate::db::write_tx(c, |c| {
        Ok(fold(c, &STANDING_TALLIES)? + fold(c, &MEASURE_TALLIES)?)
    })
}

fn fold(c: &mut AnyConnection, t: &Tallies) -> QueryResult<usize> {
    use diesel::sql_types::{BigInt, Nullable};
    let (table, key) = (t.table, t.key);
    match c {
        AnyConnection::Pg(c) => {
            let same = key
                .split(", ")
                .map(|k| format!("t.{k} IS NOT DISTINCT FROM f.{k}"))
                .collect::<Vec<_>>()
                .join(" AND ");
            let sums = t
                .counts
                .iter()
                .map(|k| format!("CAST(SUM({k}) AS INTEGER)"))
                .collect::<Vec<_>>()
                .join(", ");
            diesel::sql_query(format!(
                "WITH f AS (SELECT {key} FROM {table} GROUP BY {key} \
                 HAVING COUNT(*) > 1 OR SUM(n) = 0), \
                 gone AS (DELETE FROM {table} t USING f WHERE {same} RETURNING t.*) \
                 INSERT INTO {table} SELECT {key}, {sums} \
                 FROM gone GROUP BY {key} HAVING SUM(n) <> 0"
            ))
            .execute(c)
        }
        AnyConnection::Sqlite(c) => {
            let mark: Option<i64> = diesel::select(diesel::dsl::sql::<Nullable<BigInt>>(&format!(
                "(SELECT MAX(rowid) FROM {table})"
            )))
            .get_result(c)?;
            let Some(mark) = mark else { return Ok(0) };
            let sums = t
                .counts
                .iter()
                .map(|k| format!("SUM({k})"))
                .collect::<Vec<_>>()
                .join(", ");
            let n = diesel::sql_query(format!(
                "INSERT INTO {table} SELECT {key}, {sums} \
                 FROM {table} WHERE rowid <= ?1 GROUP BY {key} HAVING SUM(n) <> 0"
            ))
            .bind::<BigInt, _>(mark)
            .execute(c)?;
            diesel::sql_query(format!("DELETE FROM {table} WHERE rowid <= ?1"))
                .bind::<BigInt, _>(mark)
                .execute(c)?;
            Ok(n)
        }
    }
}
