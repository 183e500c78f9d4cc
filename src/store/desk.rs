//! The office's queries: overdue and due-soon assignments, and statistics per unit, section,
//! plan and source document — each one SQL statement over both backends.
//!
//! Every query reads the assignments in force on the day asked about with their standing as it
//! was at the end of that day ([`in_force`]); the rules themselves live in
//! [`crate::domain::standing`], which stores what they decide (deadline, phase, days done
//! late), so the SQL only compares stored values with the day: overdue is `deadline < day`.

use crate::db::text::sql_literal;
use crate::db::{AnyConnection, MultiBackend};
use crate::domain::assignment::{AssignmentRole, AssignmentState, Cycle};
use crate::domain::report::{ReportStatus, Workflow};
use crate::store::Fixed;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Bool, Date, Integer, Nullable, Text, Timestamp};

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone)]
enum Bind {
    Date(NaiveDate),
    Text(String),
    Int(i64),
    Stamp(NaiveDateTime),
}

/// Builds SQL with numbered placeholders (`$n` on PostgreSQL, `?n` on SQLite), numbered in the
/// order the values are bound, so fragments can be built in any order and reused.
#[derive(Debug)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
    mark: char,
}

impl Sql {
    fn new(c: &AnyConnection) -> Self {
        let mark = match c {
            AnyConnection::Pg(_) => '$',
            AnyConnection::Sqlite(_) => '?',
        };
        Sql {
            text: String::new(),
            binds: Vec::new(),
            mark,
        }
    }

    fn param(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("{}{}", self.mark, self.binds.len())
    }

    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// The statement, kept prepared per connection ([`Fixed`]): its text depends only on
    /// which filters are given, never on their values, so a connection holds a few dozen.
    fn query(self) -> Fixed<BoxedSqlQuery<'static, MultiBackend, diesel::query_builder::SqlQuery>> {
        let mut q = diesel::sql_query(self.text).into_boxed::<MultiBackend>();
        for b in self.binds {
            q = match b {
                Bind::Date(d) => q.bind::<Date, _>(d),
                Bind::Text(t) => q.bind::<Text, _>(t),
                Bind::Int(i) => q.bind::<BigInt, _>(i),
                Bind::Stamp(s) => q.bind::<Timestamp, _>(s),
            };
        }
        Fixed(q)
    }
}

/// Filters shared by the office's queries.
#[derive(Debug, Clone, Default)]
pub struct DeskFilter {
    pub plan_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub role: Option<AssignmentRole>,
    /// A section's code, e.g. `2`.
    pub section: Option<String>,
    /// A 文号.
    pub source: Option<String>,
}

/// True when the filters look at the assignment itself (role, measure), not only at the plan and
/// unit every standing carries.
fn filters_need_assignments(f: &DeskFilter) -> bool {
    f.role.is_some() || f.section.is_some() || f.source.is_some()
}

fn push_filters(sql: &mut Sql, f: &DeskFilter) {
    if let Some(p) = f.plan_id {
        let x = sql.param(Bind::Int(p));
        sql.push(&format!(" AND s.plan_id = {x}"));
    }
    if let Some(u) = f.unit_id {
        let x = sql.param(Bind::Int(u));
        sql.push(&format!(" AND s.unit_id = {x}"));
    }
    if let Some(r) = f.role {
        let x = sql.param(Bind::Text(r.as_str().into()));
        sql.push(&format!(" AND a.role = {x}"));
    }
    if let Some(s) = &f.section {
        let x = sql.param(Bind::Text(format!("{s}.%")));
        sql.push(&format!(
            " AND a.measure_id IN (SELECT si.id FROM plan_items si WHERE si.code LIKE {x})"
        ));
    }
    if let Some(s) = &f.source {
        let x = sql.param(Bind::Text(s.clone()));
        sql.push(&format!(
            " AND EXISTS (SELECT 1 FROM measure_sources ms JOIN source_documents sd ON sd.id = ms.source_id \
             WHERE ms.measure_id = a.measure_id AND sd.doc_number = {x})"
        ));
    }
}

/// The `FROM … WHERE` of every desk query: the standings `s` in force at the end of `day` of
/// the plans `p` in force then (published by then and not yet closed), joined to their
/// assignments `a` when the query needs more than the plan and unit a standing carries.
fn in_force(sql: &mut Sql, day: NaiveDate, today: NaiveDate, assignments: bool) -> String {
    let cut = sql.param(Bind::Stamp(crate::store::standing::end_of(day)));
    // From today on the current version is the one in force (nothing is dated in the future),
    // and the partial indexes on it apply.
    let version = if day >= today {
        "s.valid_to IS NULL".to_owned()
    } else {
        format!("s.valid_from < {cut} AND (s.valid_to IS NULL OR s.valid_to >= {cut})")
    };
    let a = if assignments {
        " JOIN assignments a ON a.id = s.assignment_id"
    } else {
        ""
    };
    format!(
        " FROM assignment_standings s JOIN plans p ON p.id = s.plan_id{a} \
         WHERE {version} AND p.published_at < {cut} AND (p.closed_at IS NULL OR p.closed_at >= {cut})"
    )
}

/// One overdue (or due-soon) assignment.
#[derive(Debug, Clone, QueryableByName)]
pub struct DeskRow {
    #[diesel(sql_type = BigInt)]
    pub assignment_id: i64,
    #[diesel(sql_type = BigInt)]
    pub plan_id: i64,
    #[diesel(sql_type = BigInt)]
    pub measure_id: i64,
    #[diesel(sql_type = Text)]
    pub measure_code: String,
    #[diesel(sql_type = Text)]
    pub measure_number: String,
    #[diesel(sql_type = Text)]
    pub measure_title: String,
    #[diesel(sql_type = BigInt)]
    pub unit_id: i64,
    #[diesel(sql_type = Text)]
    pub unit_name: String,
    #[diesel(sql_type = Text)]
    pub role: AssignmentRole,
    #[diesel(sql_type = Text)]
    pub cycle: Cycle,
    /// The standing's due date and deadline (`due_date` when done).
    #[diesel(sql_type = Date)]
    pub due_date: NaiveDate,
    #[diesel(sql_type = Date)]
    pub deadline: NaiveDate,
    #[diesel(sql_type = Nullable<Text>)]
    pub sent_workflow: Option<Workflow>,
    #[diesel(sql_type = Nullable<Text>)]
    pub sent_status: Option<ReportStatus>,
    #[diesel(sql_type = Bool)]
    pub returned: bool,
    #[diesel(sql_type = Text)]
    pub phase: AssignmentState,
    #[diesel(sql_type = Integer)]
    pub urges: i32,
    /// When the assignment was made (its first reporting period).
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub created_at: chrono::NaiveDateTime,
    /// The percent done last sent, and the first day behind its time-proportional share.
    #[diesel(sql_type = Nullable<Integer>)]
    pub sent_progress: Option<i32>,
    #[diesel(sql_type = Nullable<Date>)]
    pub behind_since: Option<NaiveDate>,
}

const ROW: &str = "a.id AS assignment_id, a.plan_id, a.measure_id, i.code AS measure_code, \
     i.number AS measure_number, i.title AS measure_title, a.unit_id, u.name AS unit_name, a.role, \
     a.cycle, s.due_date, COALESCE(s.deadline, s.due_date) AS deadline, s.sent_workflow, \
     s.sent_status, s.returned, s.phase, s.urges, a.created_at, s.sent_progress, s.behind_since";

const NAMES: &str = " JOIN plan_items i ON i.id = a.measure_id JOIN units u ON u.id = a.unit_id";

/// How many rows a page's statement asks for: `limit + 1` rounded up to one of a few sizes,
/// written into the statement's text rather than bound. With the limit a parameter,
/// PostgreSQL's generic plan for a prepared statement looks far costlier than a plan for the
/// actual limit, so it plans the statement again on every call; with a literal it keeps the
/// one plan. The caller keeps the first `limit + 1` rows ([`first_rows`]).
fn page_size(limit: i64) -> i64 {
    [11, 51, 101, 201]
        .into_iter()
        .find(|&s| s > limit)
        .unwrap_or(limit + 1)
}

/// The first `limit + 1` rows of a page read with [`page_size`].
fn first_rows<T>(mut rows: Vec<T>, limit: i64) -> Vec<T> {
    rows.truncate(usize::try_from(limit + 1).unwrap_or(0));
    rows
}

/// Overdue assignments as of a day, most overdue first: up to `limit + 1` rows after the
/// keyset `(deadline, id)`. `deadline_range` limits the deadline (for severity filters).
pub fn overdue(
    c: &mut AnyConnection,
    as_of: NaiveDate,
    today: NaiveDate,
    f: &DeskFilter,
    deadline_range: (Option<NaiveDate>, Option<NaiveDate>),
    after: Option<(NaiveDate, i64)>,
    limit: i64,
) -> QueryResult<Vec<DeskRow>> {
    let mut sql = Sql::new(c);
    let from = in_force(&mut sql, as_of, today, true);
    let from = from.replacen(" WHERE ", &format!("{NAMES} WHERE "), 1);
    let d = sql.param(Bind::Date(as_of));
    sql.push(&format!("SELECT {ROW}{from} AND s.deadline < {d}"));
    push_filters(&mut sql, f);
    if let Some(lo) = deadline_range.0 {
        let x = sql.param(Bind::Date(lo));
        sql.push(&format!(" AND s.deadline >= {x}"));
    }
    if let Some(hi) = deadline_range.1 {
        let x = sql.param(Bind::Date(hi));
        sql.push(&format!(" AND s.deadline <= {x}"));
    }
    if let Some((d, id)) = after {
        let x = sql.param(Bind::Date(d));
        let y = sql.param(Bind::Int(id));
        sql.push(&format!(
            " AND (s.deadline > {x} OR (s.deadline = {x} AND a.id > {y}))"
        ));
    }
    sql.push(&format!(
        " ORDER BY s.deadline, a.id LIMIT {}",
        page_size(limit)
    ));
    Ok(first_rows(sql.query().load(c)?, limit))
}

/// Assignments not yet done and due between `from` and `to` (inclusive), soonest first.
pub fn due_soon(
    c: &mut AnyConnection,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    f: &DeskFilter,
    after: Option<(NaiveDate, i64)>,
    limit: i64,
) -> QueryResult<Vec<DeskRow>> {
    let mut sql = Sql::new(c);
    let clause = in_force(&mut sql, from, today, true);
    let clause = clause.replacen(" WHERE ", &format!("{NAMES} WHERE "), 1);
    let (a, b) = (sql.param(Bind::Date(from)), sql.param(Bind::Date(to)));
    sql.push(&format!(
        "SELECT {ROW}{clause} AND s.done IS NULL AND s.due_date >= {a} AND s.due_date <= {b}"
    ));
    push_filters(&mut sql, f);
    if let Some((d, id)) = after {
        let x = sql.param(Bind::Date(d));
        let y = sql.param(Bind::Int(id));
        sql.push(&format!(
            " AND (s.due_date > {x} OR (s.due_date = {x} AND a.id > {y}))"
        ));
    }
    sql.push(&format!(
        " ORDER BY s.due_date, a.id LIMIT {}",
        page_size(limit)
    ));
    Ok(first_rows(sql.query().load(c)?, limit))
}

/// What statistics are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Per unit.
    Unit,
    /// Per section of the plan.
    Section,
    /// Per plan.
    Plan,
    /// Per source document (an assignment counts once for each document its measure cites).
    Source,
}

/// Counts for one group.
#[derive(Debug, Clone, QueryableByName, PartialEq)]
pub struct StatRow {
    #[diesel(sql_type = BigInt)]
    pub key_id: i64,
    #[diesel(sql_type = Text)]
    pub key_name: String,
    #[diesel(sql_type = BigInt)]
    pub assigned: i64,
    #[diesel(sql_type = BigInt)]
    pub reported: i64,
    #[diesel(sql_type = BigInt)]
    pub not_started: i64,
    #[diesel(sql_type = BigInt)]
    pub in_progress: i64,
    #[diesel(sql_type = BigInt)]
    pub completed: i64,
    #[diesel(sql_type = BigInt)]
    pub not_applicable: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
    #[diesel(sql_type = BigInt)]
    pub returned: i64,
    #[diesel(sql_type = BigInt)]
    pub urged: i64,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub due_or_done: i64,
    #[diesel(sql_type = BigInt)]
    pub late: i64,
    #[diesel(sql_type = BigInt)]
    pub days_late: i64,
    #[diesel(sql_type = BigInt)]
    pub unreceived: i64,
}

/// The facts of a standing that the figures count, as SQL over the relation `s`.
struct Facts {
    /// How many assignments a row stands for.
    n: &'static str,
    /// How many of them have a sent report standing.
    reported: &'static str,
    /// How many had their last sent report returned.
    returned: &'static str,
    /// How many were urged at least once.
    urged: &'static str,
    /// The row's assignments are done (completed or not applicable).
    done: &'static str,
    /// The row's assignments were done late.
    late: &'static str,
    /// Days done late, summed over the row.
    late_days: &'static str,
    /// How many its unit has not signed for (签收) yet.
    unreceived: &'static str,
}

/// Read from the standings themselves: one row per assignment.
const STANDING_FACTS: Facts = Facts {
    n: "1",
    reported: "CASE WHEN s.sent_report_id IS NOT NULL THEN 1 ELSE 0 END",
    returned: "CASE WHEN s.returned THEN 1 ELSE 0 END",
    urged: "CASE WHEN s.urges > 0 THEN 1 ELSE 0 END",
    done: "s.done IS NOT NULL",
    late: "s.done_late_days IS NOT NULL",
    late_days: "COALESCE(s.done_late_days, 0)",
    unreceived: "CASE WHEN s.received THEN 0 ELSE 1 END",
};

/// Read from the tallies of the current standings (`standing_tallies`, whose trigger derives
/// these columns from a standing exactly as [`STANDING_FACTS`] does): one row per combination
/// of the facts a figure combines (phase, due date, deadline, done, late), with the facts only
/// ever counted (reported, returned, urged) counted in columns. A done tally has no due date
/// (done counts whatever the day), which `done OR s.due_date < d` reads as the standing's own
/// due date would be read.
const TALLY_FACTS: Facts = Facts {
    n: "s.n",
    reported: "s.reported",
    returned: "s.returned",
    urged: "s.urged",
    done: "s.done",
    late: "s.late",
    late_days: "s.late_days",
    unreceived: "s.unreceived",
};

/// The `FROM … WHERE` over the tallies of the current standings (as [`in_force`] for today)
/// of the plans in force at the end of `day`, with `joins` after the plans. The tallies are
/// read as they are, folded or not: every figure is a sum of `n` over rows whose facts match,
/// so changes not yet folded count exactly as their fold would.
fn tallies_in_force(sql: &mut Sql, day: NaiveDate, joins: &str) -> String {
    let cut = sql.param(Bind::Stamp(crate::store::standing::end_of(day)));
    format!(
        " FROM standing_tallies s JOIN plans p ON p.id = s.plan_id{joins} \
         WHERE p.published_at < {cut} AND (p.closed_at IS NULL OR p.closed_at >= {cut})"
    )
}

/// Where [`stats`] reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatSource {
    /// The tallies when they can answer (today's figures per unit or plan, filtered at most by
    /// plan and unit), else the standings.
    Best,
    /// The standings, always (tests compare both).
    Standings,
}

/// Statistics as of a day, grouped by `dim`, in one aggregate statement over the standing
/// (for today's figures per unit or plan: over its tallies, a few rows per unit instead of one
/// per assignment, with the same result).
///
/// Per group: assigned; reported (a sent report stands); the states (not started, in progress,
/// completed, not applicable, overdue — they add up to assigned); returned; urged (at least one
/// urge); on time (done by the due date); due or done (the base of the on-time rate); late
/// (done late, or overdue) and the working days late summed over them (on the calendar).
pub fn stats(
    c: &mut AnyConnection,
    dim: Dimension,
    as_of: NaiveDate,
    today: NaiveDate,
    f: &DeskFilter,
    source: StatSource,
) -> QueryResult<Vec<StatRow>> {
    let mut sql = Sql::new(c);
    let by_measure = matches!(dim, Dimension::Section | Dimension::Source);
    let tallied =
        source == StatSource::Best && as_of >= today && !by_measure && !filters_need_assignments(f);
    let d = sql.param(Bind::Date(as_of));
    let overdue = format!("(s.deadline IS NOT NULL AND s.deadline < {d})");
    let overdue_days = super::calendar::working_days_between_sql(c, "s.deadline", &d);
    let (key, joins, group) = match dim {
        Dimension::Unit => (
            "u.id AS key_id, u.name AS key_name",
            " JOIN units u ON u.id = s.unit_id",
            "u.id, u.name",
        ),
        Dimension::Section => (
            "sec.id AS key_id, sec.title AS key_name",
            " JOIN plan_items i ON i.id = a.measure_id JOIN plan_items t ON t.id = i.parent_id \
             JOIN plan_items sec ON sec.id = t.parent_id",
            "sec.id, sec.title, sec.position",
        ),
        Dimension::Plan => ("p.id AS key_id, p.title AS key_name", "", "p.id, p.title"),
        Dimension::Source => (
            "sd.id AS key_id, sd.doc_number AS key_name",
            " JOIN measure_sources msd ON msd.measure_id = a.measure_id \
             JOIN source_documents sd ON sd.id = msd.source_id",
            "sd.id, sd.doc_number",
        ),
    };
    let (from, x) = if tallied {
        (tallies_in_force(&mut sql, as_of, joins), &TALLY_FACTS)
    } else {
        let from = in_force(
            &mut sql,
            as_of,
            today,
            by_measure || filters_need_assignments(f),
        );
        (
            from.replacen(" WHERE ", &format!("{joins} WHERE "), 1),
            &STANDING_FACTS,
        )
    };
    let n = x.n;
    let count = |cond: &str| format!("SUM(CASE WHEN {cond} THEN {n} ELSE 0 END)");
    let phase =
        |p: AssignmentState| count(&format!("s.phase = {} AND NOT {overdue}", sql_literal(p)));
    sql.push(&format!(
        "SELECT {key}, SUM({n}) AS assigned, SUM({}) AS reported, \
         {} AS not_started, {} AS in_progress, {} AS completed, {} AS not_applicable, \
         {} AS overdue, SUM({}) AS returned, SUM({}) AS urged, {} AS on_time, {} AS due_or_done, \
         {} AS late, \
         SUM({} + CASE WHEN {overdue} THEN {n} * {overdue_days} ELSE 0 END) AS days_late, \
         SUM({}) AS unreceived{from}",
        x.reported,
        phase(AssignmentState::NotStarted),
        phase(AssignmentState::InProgress),
        phase(AssignmentState::Completed),
        phase(AssignmentState::NotApplicable),
        count(&overdue),
        x.returned,
        x.urged,
        count(&format!("{} AND NOT {}", x.done, x.late)),
        count(&format!("{} OR s.due_date < {d}", x.done)),
        count(&format!("{} OR {overdue}", x.late)),
        x.late_days,
        x.unreceived,
    ));
    push_filters(&mut sql, f);
    // A group of tallies that net to nothing (every standing of a unit removed) has no
    // assignment, as it has no standing.
    sql.push(&format!(
        " GROUP BY {group} HAVING SUM({n}) <> 0 ORDER BY {}",
        if dim == Dimension::Section {
            "sec.position"
        } else {
            "key_id"
        }
    ));
    sql.query().load(c)
}

/// Assignments first done per month, for progress charts.
#[derive(Debug, Clone, QueryableByName, PartialEq)]
pub struct MonthRow {
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = BigInt)]
    pub done: i64,
}

/// Completions per month (by when each assignment became done) for the filtered assignments
/// done by the end of `as_of`, oldest month first.
pub fn done_by_month(
    c: &mut AnyConnection,
    as_of: NaiveDate,
    today: NaiveDate,
    f: &DeskFilter,
) -> QueryResult<Vec<MonthRow>> {
    let mut sql = Sql::new(c);
    let from = in_force(&mut sql, as_of, today, filters_need_assignments(f));
    let month = match c {
        AnyConnection::Pg(_) => "to_char(s.done_at, 'YYYY-MM')",
        AnyConnection::Sqlite(_) => "strftime('%Y-%m', s.done_at)",
    };
    sql.push(&format!(
        "SELECT {month} AS month, COUNT(*) AS done{from} AND s.done IS NOT NULL"
    ));
    push_filters(&mut sql, f);
    sql.push(&format!(" GROUP BY {month} ORDER BY 1"));
    sql.query().load(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_asks_for_at_least_one_row_more_than_it_shows_in_one_of_four_statements() {
        let sizes: std::collections::BTreeSet<i64> = (1..=200)
            .map(|limit| {
                let size = page_size(limit);
                assert!(size > limit, "limit {limit}: size {size}");
                size
            })
            .collect();
        assert_eq!(
            sizes.into_iter().collect::<Vec<_>>(),
            vec![11, 51, 101, 201]
        );
        assert_eq!(
            first_rows((0..51).collect(), 9),
            (0..10).collect::<Vec<i64>>()
        );
        assert_eq!(first_rows(vec![1, 2], 50), vec![1, 2]);
    }
}

/// A lead unit's count of its participants' answers.
#[derive(Debug, Clone, QueryableByName, PartialEq)]
pub struct LeadRow {
    #[diesel(sql_type = BigInt)]
    pub unit_id: i64,
    #[diesel(sql_type = BigInt)]
    pub participants: i64,
    #[diesel(sql_type = BigInt)]
    pub answered: i64,
}

/// A unit's count of assignments behind their time-proportional share.
#[derive(Debug, Clone, QueryableByName, PartialEq)]
pub struct BehindRow {
    #[diesel(sql_type = BigInt)]
    pub unit_id: i64,
    #[diesel(sql_type = BigInt)]
    pub behind: i64,
}

/// Per unit: its assignments behind their time-proportional share (序时进度) at the end of
/// `as_of` — not done, not overdue, the first day behind on or before it — in the standings in
/// force then, of the plan if given ([`crate::domain::progress`]).
pub fn behind_by_unit(
    c: &mut AnyConnection,
    as_of: NaiveDate,
    today: NaiveDate,
    plan: Option<i64>,
) -> QueryResult<Vec<BehindRow>> {
    let mut q = Sql::new(c);
    let from = in_force(&mut q, as_of, today, false);
    let (d1, d2) = (q.param(Bind::Date(as_of)), q.param(Bind::Date(as_of)));
    q.push(&format!(
        "SELECT s.unit_id AS unit_id, COUNT(*) AS behind{from} \
         AND s.behind_since IS NOT NULL AND s.behind_since <= {d1} \
         AND s.done IS NULL AND NOT (s.deadline IS NOT NULL AND s.deadline < {d2})"
    ));
    if let Some(p) = plan {
        let b = q.param(Bind::Int(p));
        q.push(&format!(" AND s.plan_id = {b}"));
    }
    q.push(" GROUP BY s.unit_id");
    q.query().load(c)
}

/// Per lead unit (牵头单位): how many participant assignments the measures it leads carry, and
/// how many of them had a sent report standing at the end of `as_of`, on the plans in force
/// then (published, not closed: as every figure counts), of the plan if given. Today's figures
/// read the per-measure tallies (a few rows per measure) and the lead assignments; another
/// day's read the standings valid then, leads and participants alike.
pub fn participant_answers(
    c: &mut AnyConnection,
    as_of: NaiveDate,
    today: NaiveDate,
    plan: Option<i64>,
    source: StatSource,
) -> QueryResult<Vec<LeadRow>> {
    let mut q = Sql::new(c);
    let cut = crate::store::standing::end_of(as_of);
    let (c1, c2) = (q.param(Bind::Stamp(cut)), q.param(Bind::Stamp(cut)));
    let plan_in_force = format!(
        "JOIN plans p ON p.id = l.plan_id AND p.published_at < {c1} \
         AND (p.closed_at IS NULL OR p.closed_at >= {c2})"
    );
    if source == StatSource::Best && as_of >= today {
        let lead = sql_literal(AssignmentRole::Lead);
        q.push(&format!(
            "SELECT l.unit_id AS unit_id, CAST(COALESCE(SUM(t.n), 0) AS BIGINT) AS participants, \
             CAST(COALESCE(SUM(t.reported), 0) AS BIGINT) AS answered \
             FROM assignments l {plan_in_force} \
             JOIN measure_tallies t ON t.measure_id = l.measure_id \
             WHERE l.role = {lead}"
        ));
    } else {
        let (at, at2) = (q.param(Bind::Stamp(cut)), q.param(Bind::Stamp(cut)));
        let (at3, at4) = (q.param(Bind::Stamp(cut)), q.param(Bind::Stamp(cut)));
        q.push(&format!(
            "SELECT l.unit_id AS unit_id, COUNT(*) AS participants, \
             COALESCE(SUM(CASE WHEN s.sent_report_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS answered \
             FROM assignment_standings l {plan_in_force} \
             JOIN assignment_standings s ON s.measure_id = l.measure_id AND NOT s.lead \
             AND s.valid_from < {at} AND (s.valid_to IS NULL OR s.valid_to >= {at2}) \
             WHERE l.lead AND l.valid_from < {at3} AND (l.valid_to IS NULL OR l.valid_to >= {at4})"
        ));
    }
    if let Some(p) = plan {
        let b = q.param(Bind::Int(p));
        q.push(&format!(" AND l.plan_id = {b}"));
    }
    q.push(" GROUP BY l.unit_id");
    q.query().load(c)
}
