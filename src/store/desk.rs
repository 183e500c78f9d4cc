//! The office's queries: overdue and due-soon assignments, and statistics per unit, section,
//! plan and source document — each one aggregate SQL statement over both backends.
//!
//! The overdue rule of [`crate::domain::desk`] is written once, as [`OverdueRule`], and used by
//! the overdue list and by every statistic, so their totals agree.

use crate::db::text::{sql_list, sql_literal};
use crate::db::{AnyConnection, MultiBackend};
use crate::domain::assignment::{AssignmentRole, Cycle};
use crate::domain::desk::last_ended_period;
use crate::domain::plan::PlanState;
use crate::domain::report::{ReportStatus, Workflow};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamp};

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

    fn query(self) -> BoxedSqlQuery<'static, MultiBackend, diesel::query_builder::SqlQuery> {
        let mut q = diesel::sql_query(self.text).into_boxed::<MultiBackend>();
        for b in self.binds {
            q = match b {
                Bind::Date(d) => q.bind::<Date, _>(d),
                Bind::Text(t) => q.bind::<Text, _>(t),
                Bind::Int(i) => q.bind::<BigInt, _>(i),
                Bind::Stamp(s) => q.bind::<Timestamp, _>(s),
            };
        }
        q
    }
}

/// `('submitted', 'resubmitted', 'accepted')`: the workflows of a sent report.
fn sent() -> String {
    sql_list(&Workflow::SENT)
}

/// `('completed', 'not_applicable')`: the statuses of a done report.
fn done() -> String {
    sql_list(&ReportStatus::DONE)
}

/// `'published'`: the state of a plan whose assignments count.
fn published() -> String {
    sql_literal(PlanState::Published)
}

/// The per-assignment facts statistics read, as three `LEFT JOIN`s onto `a` (assignments), each
/// over as few reports as it needs: `rs` (some report; `sent` when one was sent), `rd` (a sent
/// completed or not-applicable report: `done_c`, `done_na`, first `done_at`; read from the
/// partial index `reports_done`) and `rp` (`sent_<cycle>` for the period each cycle waits for).
fn report_summary(sql: &mut Sql, periods: &[(Cycle, String)], plan: Option<i64>) -> String {
    let scope = match plan {
        Some(id) => {
            let p = sql.param(Bind::Int(id));
            format!(" JOIN assignments ra ON ra.id = r.assignment_id WHERE ra.plan_id = {p}")
        }
        None => String::new(),
    };
    let (sent, done) = (sent(), done());
    let (completed, not_applicable) = (
        sql_literal(ReportStatus::Completed),
        sql_literal(ReportStatus::NotApplicable),
    );
    let mut joins = format!(
        " LEFT JOIN (SELECT r.assignment_id, MAX(CASE WHEN r.workflow IN {sent} THEN 1 ELSE 0 END) AS sent \
         FROM reports r{scope} GROUP BY r.assignment_id) rs ON rs.assignment_id = a.id \
         LEFT JOIN (SELECT r.assignment_id, MAX(CASE WHEN r.status = {completed} THEN 1 ELSE 0 END) AS done_c, \
         MAX(CASE WHEN r.status = {not_applicable} THEN 1 ELSE 0 END) AS done_na, MIN(r.submitted_at) AS done_at \
         FROM reports r WHERE r.status IN {done} AND r.workflow IN {sent} \
         GROUP BY r.assignment_id) rd ON rd.assignment_id = a.id"
    );
    if !periods.is_empty() {
        let mut cols = Vec::new();
        let mut labels = Vec::new();
        for (cycle, label) in periods {
            let p = sql.param(Bind::Text(label.clone()));
            cols.push(format!(
                "MAX(CASE WHEN r.period = {p} THEN 1 ELSE 0 END) AS sent_{}",
                cycle.as_str()
            ));
            labels.push(p);
        }
        joins.push_str(&format!(
            " LEFT JOIN (SELECT r.assignment_id, {} FROM reports r WHERE r.workflow IN {sent} AND r.period IN ({}) \
             GROUP BY r.assignment_id) rp ON rp.assignment_id = a.id",
            cols.join(", "),
            labels.join(", ")
        ));
    }
    joins
}

/// The overdue rule as SQL over `a` (assignments) and `rs` (the report summary), as of a day.
struct OverdueRule {
    /// `TRUE` when the assignment is overdue.
    condition: String,
    /// The day it became overdue from (its deadline).
    deadline: String,
}

/// How a query knows, per assignment, whether it is done and whether a period's report was sent.
#[derive(Clone, Copy)]
enum Evidence {
    /// The per-assignment aggregate `rs` ([`report_summary`]), for statistics.
    Summary,
    /// The anti-joins `dn` (done) and `pm` (period report sent) of [`evidence_joins`], for lists.
    Joins,
}

impl Evidence {
    fn not_done(self) -> &'static str {
        match self {
            Evidence::Summary => "rd.assignment_id IS NULL",
            Evidence::Joins => "dn.assignment_id IS NULL",
        }
    }

    fn period_missing(self, cycle: Cycle) -> String {
        match self {
            Evidence::Summary => format!("COALESCE(rp.sent_{}, 0) = 0", cycle.as_str()),
            Evidence::Joins => "pm.assignment_id IS NULL".into(),
        }
    }
}

/// The joins of [`Evidence::Joins`]: `dn` holds the assignments with a sent completed or
/// not-applicable report, `pm` the sent report of the period each assignment's cycle waits for.
fn evidence_joins(sql: &mut Sql, periods: &[(Cycle, String)]) -> String {
    let (sent, done) = (sent(), done());
    let mut joins = format!(
        " LEFT JOIN (SELECT DISTINCT r.assignment_id FROM reports r WHERE r.workflow IN {sent} \
         AND r.status IN {done}) dn ON dn.assignment_id = a.id"
    );
    if !periods.is_empty() {
        let mut labels = Vec::new();
        let mut case = String::from("(CASE a.cycle");
        for (cycle, label) in periods {
            let p = sql.param(Bind::Text(label.clone()));
            case.push_str(&format!(" WHEN '{}' THEN {p}", cycle.as_str()));
            labels.push(p);
        }
        case.push_str(" END)");
        joins.push_str(&format!(
            " LEFT JOIN (SELECT r.assignment_id, r.period FROM reports r WHERE r.workflow IN {sent} \
             AND r.period IN ({})) pm ON pm.assignment_id = a.id AND pm.period = {case}",
            labels.join(", ")
        ));
    }
    joins
}

fn overdue_rule(
    sql: &mut Sql,
    as_of: NaiveDate,
    periods: &[(Cycle, NaiveDate)],
    ev: Evidence,
) -> OverdueRule {
    let d = sql.param(Bind::Date(as_of));
    let not_done = ev.not_done();
    let mut condition = format!("((a.due_date < {d} AND {not_done})");
    let mut deadline = format!("(CASE WHEN a.due_date < {d} THEN a.due_date");
    for (cycle, end) in periods {
        let e = sql.param(Bind::Date(*end));
        let next = sql.param(Bind::Stamp(
            crate::domain::desk::day_after(*end)
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
        ));
        let c = cycle.as_str();
        condition.push_str(&format!(
            " OR (a.cycle = '{c}' AND a.due_date > {e} AND a.created_at < {next} AND {not_done} AND {})",
            ev.period_missing(*cycle)
        ));
        deadline.push_str(&format!(" WHEN a.cycle = '{c}' THEN {e}"));
    }
    condition.push(')');
    deadline.push_str(" ELSE a.due_date END)");
    OverdueRule {
        condition,
        deadline,
    }
}

fn periodic(as_of: NaiveDate) -> Vec<(Cycle, String, NaiveDate)> {
    [Cycle::Monthly, Cycle::Quarterly, Cycle::HalfYearly]
        .into_iter()
        .filter_map(|c| last_ended_period(c, as_of).map(|(label, end)| (c, label, end)))
        .collect()
}

/// Days from `earlier` to `later` (both SQL date expressions), per backend.
fn days_between(c: &AnyConnection, later: &str, earlier: &str) -> String {
    match c {
        AnyConnection::Pg(_) => format!("(CAST({later} AS DATE) - CAST({earlier} AS DATE))"),
        AnyConnection::Sqlite(_) => {
            format!("CAST(julianday(date({later})) - julianday(date({earlier})) AS INTEGER)")
        }
    }
}

/// The calendar day of a timestamp expression, per backend.
fn date_of(c: &AnyConnection, expr: &str) -> String {
    match c {
        AnyConnection::Pg(_) => format!("CAST({expr} AS DATE)"),
        AnyConnection::Sqlite(_) => format!("date({expr})"),
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

fn push_filters(sql: &mut Sql, f: &DeskFilter) {
    if let Some(p) = f.plan_id {
        let x = sql.param(Bind::Int(p));
        sql.push(&format!(" AND a.plan_id = {x}"));
    }
    if let Some(u) = f.unit_id {
        let x = sql.param(Bind::Int(u));
        sql.push(&format!(" AND a.unit_id = {x}"));
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
    #[diesel(sql_type = Date)]
    pub due_date: NaiveDate,
    #[diesel(sql_type = Text)]
    pub cycle: Cycle,
    #[diesel(sql_type = Date)]
    pub deadline: NaiveDate,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_workflow: Option<Workflow>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_status: Option<ReportStatus>,
    #[diesel(sql_type = BigInt)]
    pub urges: i64,
}

/// Overdue assignments as of a day, most overdue first: up to `limit + 1` rows after the
/// keyset `(deadline, id)`. `deadline_range` limits the deadline (for severity filters).
pub fn overdue(
    c: &mut AnyConnection,
    as_of: NaiveDate,
    f: &DeskFilter,
    deadline_range: (Option<NaiveDate>, Option<NaiveDate>),
    after: Option<(NaiveDate, i64)>,
    limit: i64,
) -> QueryResult<Vec<DeskRow>> {
    let periods = periodic(as_of);
    let mut sql = Sql::new(c);
    let labels: Vec<(Cycle, String)> = periods.iter().map(|(c, l, _)| (*c, l.clone())).collect();
    let joins = evidence_joins(&mut sql, &labels);
    let ends: Vec<(Cycle, NaiveDate)> = periods.iter().map(|(c, _, e)| (*c, *e)).collect();
    let rule = overdue_rule(&mut sql, as_of, &ends, Evidence::Joins);
    // The overdue set is computed once, then only the page is joined to names and reports.
    sql.push(&format!(
        "WITH o AS MATERIALIZED (SELECT a.id AS assignment_id, a.plan_id, a.measure_id, a.unit_id, a.role, \
         a.due_date, a.cycle, {} AS deadline FROM assignments a JOIN plans p ON p.id = a.plan_id{joins} \
         WHERE p.state = {} AND {}",
        rule.deadline,
        published(),
        rule.condition
    ));
    push_filters(&mut sql, f);
    sql.push(") SELECT * FROM (SELECT * FROM o WHERE 1 = 1");
    if let Some(from) = deadline_range.0 {
        let x = sql.param(Bind::Date(from));
        sql.push(&format!(" AND o.deadline >= {x}"));
    }
    if let Some(to) = deadline_range.1 {
        let x = sql.param(Bind::Date(to));
        sql.push(&format!(" AND o.deadline <= {x}"));
    }
    if let Some((d, id)) = after {
        let x = sql.param(Bind::Date(d));
        let y = sql.param(Bind::Int(id));
        sql.push(&format!(
            " AND (o.deadline > {x} OR (o.deadline = {x} AND o.assignment_id > {y}))"
        ));
    }
    let l = sql.param(Bind::Int(limit + 1));
    sql.push(&format!(
        " ORDER BY o.deadline, o.assignment_id LIMIT {l}) a"
    ));
    page_columns(&mut sql);
    sql.query().load(c)
}

/// Joins a page `a` (assignment id, plan, measure, unit, role, due date, cycle, deadline) to the
/// names and latest report it is shown with, keeping its order.
fn page_columns(sql: &mut Sql) {
    let page = std::mem::take(&mut sql.text);
    sql.text = format!(
        "SELECT a.assignment_id, a.plan_id, a.measure_id, i.code AS measure_code, i.number AS measure_number, \
         i.title AS measure_title, a.unit_id, u.name AS unit_name, a.role, a.due_date, a.cycle, a.deadline, \
         (SELECT r.workflow FROM reports r WHERE r.assignment_id = a.assignment_id ORDER BY r.updated_at DESC, r.id DESC LIMIT 1) AS last_workflow, \
         (SELECT r.status FROM reports r WHERE r.assignment_id = a.assignment_id ORDER BY r.updated_at DESC, r.id DESC LIMIT 1) AS last_status, \
         (SELECT COUNT(*) FROM urge_assignments ua WHERE ua.assignment_id = a.assignment_id) AS urges \
         FROM ({}) a JOIN plan_items i ON i.id = a.measure_id JOIN units u ON u.id = a.unit_id \
         ORDER BY a.deadline, a.assignment_id",
        page.trim_start_matches(' ')
    );
}

/// Assignments not yet done and due between `from` and `to` (inclusive), soonest first.
pub fn due_soon(
    c: &mut AnyConnection,
    from: NaiveDate,
    to: NaiveDate,
    f: &DeskFilter,
    after: Option<(NaiveDate, i64)>,
    limit: i64,
) -> QueryResult<Vec<DeskRow>> {
    let mut sql = Sql::new(c);
    let joins = evidence_joins(&mut sql, &[]);
    let (a, b) = (sql.param(Bind::Date(from)), sql.param(Bind::Date(to)));
    sql.push(&format!(
        "SELECT a.id AS assignment_id, a.plan_id, a.measure_id, a.unit_id, a.role, a.due_date, a.cycle, \
         a.due_date AS deadline FROM assignments a JOIN plans p ON p.id = a.plan_id{joins} \
         WHERE p.state = {} AND a.due_date >= {a} AND a.due_date <= {b} AND {}",
        published(),
        Evidence::Joins.not_done()
    ));
    push_filters(&mut sql, f);
    if let Some((d, id)) = after {
        let x = sql.param(Bind::Date(d));
        let y = sql.param(Bind::Int(id));
        sql.push(&format!(
            " AND (a.due_date > {x} OR (a.due_date = {x} AND a.id > {y}))"
        ));
    }
    let l = sql.param(Bind::Int(limit + 1));
    sql.push(&format!(" ORDER BY a.due_date, a.id LIMIT {l}"));
    page_columns(&mut sql);
    sql.query().load(c)
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
    pub completed: i64,
    #[diesel(sql_type = BigInt)]
    pub not_applicable: i64,
    #[diesel(sql_type = BigInt)]
    pub in_progress: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub due_or_done: i64,
    #[diesel(sql_type = BigInt)]
    pub late: i64,
    #[diesel(sql_type = BigInt)]
    pub days_late: i64,
}

/// Statistics as of a day, grouped by `dim`, in one aggregate statement.
///
/// Per group: assigned; reported (a sent report exists); completed; not applicable (and not
/// completed); in progress (some report, not done); overdue (the shared rule); on time (done,
/// first done report submitted by the due date); due or done (the base of the on-time rate);
/// late (done late, or overdue) and the days late summed over them.
pub fn stats(
    c: &mut AnyConnection,
    dim: Dimension,
    as_of: NaiveDate,
    f: &DeskFilter,
) -> QueryResult<Vec<StatRow>> {
    let periods = periodic(as_of);
    let mut sql = Sql::new(c);
    let labels: Vec<(Cycle, String)> = periods.iter().map(|(c, l, _)| (*c, l.clone())).collect();
    let summary = report_summary(&mut sql, &labels, f.plan_id);
    let ends: Vec<(Cycle, NaiveDate)> = periods.iter().map(|(c, _, e)| (*c, *e)).collect();
    let rule = overdue_rule(&mut sql, as_of, &ends, Evidence::Summary);
    let as_of_p = sql.param(Bind::Date(as_of));
    let done = "(rd.assignment_id IS NOT NULL)";
    let done_late_days = days_between(c, "rd.done_at", "a.due_date");
    let overdue_days = days_between(c, &as_of_p, &rule.deadline);
    let done_day = date_of(c, "rd.done_at");
    let (key, joins, group) = match dim {
        Dimension::Unit => ("a.unit_id AS key_id, u.name AS key_name", "", "a.unit_id, u.name"),
        Dimension::Section => (
            "s.id AS key_id, s.title AS key_name",
            " JOIN plan_items t ON t.id = i.parent_id JOIN plan_items s ON s.id = t.parent_id",
            "s.id, s.title, s.position",
        ),
        Dimension::Plan => ("p.id AS key_id, p.title AS key_name", "", "p.id, p.title"),
        Dimension::Source => (
            "sd.id AS key_id, sd.doc_number AS key_name",
            " JOIN measure_sources msd ON msd.measure_id = a.measure_id JOIN source_documents sd ON sd.id = msd.source_id",
            "sd.id, sd.doc_number",
        ),
    };
    sql.push(&format!(
        "SELECT {key}, \
         COUNT(*) AS assigned, \
         SUM(CASE WHEN COALESCE(rs.sent, 0) = 1 THEN 1 ELSE 0 END) AS reported, \
         SUM(CASE WHEN COALESCE(rd.done_c, 0) = 1 THEN 1 ELSE 0 END) AS completed, \
         SUM(CASE WHEN COALESCE(rd.done_c, 0) = 0 AND COALESCE(rd.done_na, 0) = 1 THEN 1 ELSE 0 END) AS not_applicable, \
         SUM(CASE WHEN rs.assignment_id IS NOT NULL AND NOT {done} THEN 1 ELSE 0 END) AS in_progress, \
         SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS overdue, \
         SUM(CASE WHEN {done} AND {done_day} <= a.due_date THEN 1 ELSE 0 END) AS on_time, \
         SUM(CASE WHEN {done} OR a.due_date < {as_of_p} THEN 1 ELSE 0 END) AS due_or_done, \
         SUM(CASE WHEN {done} AND {done_day} > a.due_date THEN 1 WHEN {cond} THEN 1 ELSE 0 END) AS late, \
         SUM(CASE WHEN {done} AND {done_day} > a.due_date THEN {done_late_days} WHEN {cond} THEN {overdue_days} ELSE 0 END) AS days_late \
         FROM assignments a JOIN plans p ON p.id = a.plan_id JOIN plan_items i ON i.id = a.measure_id \
         JOIN units u ON u.id = a.unit_id{joins} \
         {summary} \
         WHERE p.state = {published}",
        cond = rule.condition,
        published = published(),
    ));
    push_filters(&mut sql, f);
    sql.push(&format!(
        " GROUP BY {group} ORDER BY {}",
        if dim == Dimension::Section {
            "s.position"
        } else {
            "key_id"
        }
    ));
    sql.query().load(c)
}

/// Assignments first done per month (by the month of the first sent completed / not-applicable
/// report), for progress charts.
#[derive(Debug, Clone, QueryableByName, PartialEq)]
pub struct MonthRow {
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = BigInt)]
    pub done: i64,
}

/// Completions per month for the filtered assignments, oldest month first.
pub fn done_by_month(c: &mut AnyConnection, f: &DeskFilter) -> QueryResult<Vec<MonthRow>> {
    let mut sql = Sql::new(c);
    let month = match c {
        AnyConnection::Pg(_) => "to_char(rd.done_at, 'YYYY-MM')",
        AnyConnection::Sqlite(_) => "strftime('%Y-%m', rd.done_at)",
    };
    let (sent, done, published) = (sent(), done(), published());
    sql.push(&format!(
        "SELECT {month} AS month, COUNT(*) AS done FROM assignments a JOIN plans p ON p.id = a.plan_id \
         JOIN (SELECT r.assignment_id, MIN(r.submitted_at) AS done_at FROM reports r \
         WHERE r.status IN {done} AND r.workflow IN {sent} GROUP BY r.assignment_id) rd \
         ON rd.assignment_id = a.id WHERE p.state = {published}"
    ));
    push_filters(&mut sql, f);
    sql.push(&format!(" GROUP BY {month} ORDER BY 1"));
    sql.query().load(c)
}
