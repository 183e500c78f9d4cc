//! Bulk writing: rows with explicit ids buffered per table and written in bulk — `COPY … FROM
//! STDIN` (text format) on PostgreSQL, multi-row `INSERT`s in one transaction per batch on
//! SQLite. Values are encoded as diesel itself encodes them on each backend (timestamps
//! `%F %T%.f`, dates `%F`, booleans `t`/`f` or 1/0), so what the API reads back is what it
//! would have written.

use crate::db::schema;
use crate::db::{write_tx, AnyConnection};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::pg::CopyFormat;
use diesel::prelude::*;
use std::fmt::Write as _;

/// The tables the generator fills, in the order their rows must reach the database (a row's
/// references are written before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Units,
    UnitGroups,
    UnitGroupAliases,
    UnitGroupMembers,
    Plans,
    PlanItems,
    SourceDocuments,
    MeasureSources,
    Assignments,
    ExtensionRequests,
    Reports,
    ReportRevisions,
    Urges,
    UrgeAssignments,
    AuditLog,
}

impl Table {
    /// Every table, in writing order.
    pub const ALL: [Table; 15] = [
        Table::Units,
        Table::UnitGroups,
        Table::UnitGroupAliases,
        Table::UnitGroupMembers,
        Table::Plans,
        Table::PlanItems,
        Table::SourceDocuments,
        Table::MeasureSources,
        Table::Assignments,
        Table::ExtensionRequests,
        Table::Reports,
        Table::ReportRevisions,
        Table::Urges,
        Table::UrgeAssignments,
        Table::AuditLog,
    ];

    /// The table's name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Units => "units",
            Table::UnitGroups => "unit_groups",
            Table::UnitGroupAliases => "unit_group_aliases",
            Table::UnitGroupMembers => "unit_group_members",
            Table::Plans => "plans",
            Table::PlanItems => "plan_items",
            Table::SourceDocuments => "source_documents",
            Table::MeasureSources => "measure_sources",
            Table::Assignments => "assignments",
            Table::ExtensionRequests => "extension_requests",
            Table::Reports => "reports",
            Table::ReportRevisions => "report_revisions",
            Table::Urges => "urges",
            Table::UrgeAssignments => "urge_assignments",
            Table::AuditLog => "audit_log",
        }
    }

    /// Its columns in the order of `db::schema` (the order `COPY` names them in).
    fn columns(self) -> &'static str {
        match self {
            Table::Units => "id, name, short_name, kind, active, created_at, updated_at",
            Table::UnitGroups => "id, name, description, created_at, updated_at",
            Table::UnitGroupAliases => "id, group_id, alias",
            Table::UnitGroupMembers => "group_id, unit_id",
            Table::Plans => {
                "id, title, year, issuing_unit_id, state, created_at, updated_at, published_at, \
                 closed_at"
            }
            Table::PlanItems => {
                "id, plan_id, parent_id, level, code, number, title, position, lead_text, \
                 participant_text, created_at, updated_at"
            }
            Table::SourceDocuments => "id, doc_number, title, issuer, created_at",
            Table::MeasureSources => "measure_id, source_id, position",
            Table::Assignments => {
                "id, plan_id, measure_id, unit_id, role, via_group_id, due_date, cycle, \
                 created_at, updated_at, received_at, received_by, held_since, \
                 due_working_days, due_counted_from"
            }
            Table::ExtensionRequests => {
                "id, assignment_id, plan_id, unit_id, state, due_date, requested_due_date, \
                 reason, progress, requested_by, requested_at, granted_due_date, decision_note, \
                 decided_by, decided_at"
            }
            Table::Reports => {
                "id, assignment_id, unit_id, period, status, narrative, problems, next_steps, \
                 workflow, return_reason, version, created_by, updated_by, submitted_at, \
                 reviewed_at, reviewed_by, created_at, updated_at, sent_revision, progress"
            }
            Table::ReportRevisions => {
                "id, report_id, revision, status, narrative, problems, next_steps, \
                 submitted_by, submitted_at, progress"
            }
            Table::Urges => {
                "id, unit_id, severity, message, reply_by, automatic, issued_by, issued_at, \
                 acknowledged_at, acknowledged_by, reply, replied_at, replied_by"
            }
            Table::UrgeAssignments => "urge_id, assignment_id",
            Table::AuditLog => {
                "id, occurred_at, actor_user_id, actor_unit_id, action, entity_type, entity_id, \
                 before_json, after_json, request_id"
            }
        }
    }

    fn index(self) -> usize {
        Table::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// One value of a row.
#[derive(Debug, Clone, Copy)]
pub enum V<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Bool(bool),
    Ts(NaiveDateTime),
    Date(NaiveDate),
}

impl<'a> From<i64> for V<'a> {
    fn from(v: i64) -> Self {
        V::Int(v)
    }
}
impl<'a> From<i32> for V<'a> {
    fn from(v: i32) -> Self {
        V::Int(i64::from(v))
    }
}
impl<'a> From<&'a str> for V<'a> {
    fn from(v: &'a str) -> Self {
        V::Text(v)
    }
}
impl<'a> From<&'a String> for V<'a> {
    fn from(v: &'a String) -> Self {
        V::Text(v)
    }
}
impl<'a> From<bool> for V<'a> {
    fn from(v: bool) -> Self {
        V::Bool(v)
    }
}
impl<'a> From<NaiveDateTime> for V<'a> {
    fn from(v: NaiveDateTime) -> Self {
        V::Ts(v)
    }
}
impl<'a> From<NaiveDate> for V<'a> {
    fn from(v: NaiveDate) -> Self {
        V::Date(v)
    }
}
impl<'a, T: Into<V<'a>>> From<Option<T>> for V<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(V::Null, Into::into)
    }
}

const TIMESTAMP: &str = "%F %T%.f";
const DATE: &str = "%F";
/// Rows per SQLite `INSERT` statement.
const SQLITE_ROWS_PER_INSERT: usize = 400;
/// Buffered bytes after which [`Sink::full`] says to flush.
const FLUSH_BYTES: usize = 24 << 20;

#[derive(Default)]
struct Buffer {
    text: String,
    rows: usize,
    /// SQLite: rows in the statement being built.
    open: usize,
}

/// Buffers rows per table and writes them in bulk.
pub struct Sink {
    pg: bool,
    buffers: Vec<Buffer>,
    bytes: usize,
    /// Rows written per table so far.
    pub written: Vec<u64>,
}

impl Sink {
    /// A sink for this connection's backend.
    pub fn new(c: &AnyConnection) -> Sink {
        Sink {
            pg: matches!(c, AnyConnection::Pg(_)),
            buffers: Table::ALL.iter().map(|_| Buffer::default()).collect(),
            bytes: 0,
            written: vec![0; Table::ALL.len()],
        }
    }

    /// Adds a row (values in the order of [`Table::columns`]).
    pub fn row(&mut self, table: Table, values: &[V<'_>]) {
        let pg = self.pg;
        let b = &mut self.buffers[table.index()];
        let before = b.text.len();
        if pg {
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    b.text.push('\t');
                }
                pg_value(&mut b.text, v);
            }
            b.text.push('\n');
        } else {
            if b.open == 0 {
                let _ = write!(
                    b.text,
                    "INSERT INTO {} ({}) VALUES ",
                    table.name(),
                    table.columns()
                );
            } else {
                b.text.push(',');
            }
            b.text.push('(');
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    b.text.push(',');
                }
                sqlite_value(&mut b.text, v);
            }
            b.text.push(')');
            b.open += 1;
            if b.open == SQLITE_ROWS_PER_INSERT {
                b.text.push_str(";\n");
                b.open = 0;
            }
        }
        b.rows += 1;
        self.bytes += b.text.len() - before;
    }

    /// True when enough is buffered to be worth a flush.
    pub fn full(&self) -> bool {
        self.bytes >= FLUSH_BYTES
    }

    /// Writes everything buffered, table by table in writing order: one `COPY` per table on
    /// PostgreSQL (in the caller's transaction), one transaction for the batch on SQLite.
    pub fn flush(&mut self, c: &mut AnyConnection) -> QueryResult<()> {
        if self.bytes == 0 && self.buffers.iter().all(|b| b.rows == 0) {
            return Ok(());
        }
        let mut buffers: Vec<Buffer> = self
            .buffers
            .iter_mut()
            .map(std::mem::take)
            .collect::<Vec<_>>();
        self.bytes = 0;
        if self.pg {
            for (t, b) in Table::ALL.iter().zip(&buffers) {
                if b.rows > 0 {
                    copy(c, *t, b.text.as_bytes())?;
                }
            }
        } else {
            for b in &mut buffers {
                if b.open > 0 {
                    b.text.push_str(";\n");
                }
            }
            write_tx(c, |c| {
                for b in &buffers {
                    if b.rows > 0 {
                        c.batch_execute(&b.text)?;
                    }
                }
                Ok::<_, diesel::result::Error>(())
            })?;
        }
        for (i, b) in buffers.iter().enumerate() {
            self.written[i] += b.rows as u64;
        }
        Ok(())
    }
}

fn pg_value(out: &mut String, v: &V<'_>) {
    match v {
        V::Null => out.push_str("\\N"),
        V::Int(i) => {
            let _ = write!(out, "{i}");
        }
        V::Text(s) => {
            for ch in s.chars() {
                match ch {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
        V::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        V::Ts(t) => {
            let _ = write!(out, "{}", t.format(TIMESTAMP));
        }
        V::Date(d) => {
            let _ = write!(out, "{}", d.format(DATE));
        }
    }
}

fn sqlite_value(out: &mut String, v: &V<'_>) {
    match v {
        V::Null => out.push_str("NULL"),
        V::Int(i) => {
            let _ = write!(out, "{i}");
        }
        V::Text(s) => {
            out.push('\'');
            for ch in s.chars() {
                if ch == '\'' {
                    out.push('\'');
                }
                out.push(ch);
            }
            out.push('\'');
        }
        V::Bool(b) => out.push(if *b { '1' } else { '0' }),
        V::Ts(t) => {
            let _ = write!(out, "'{}'", t.format(TIMESTAMP));
        }
        V::Date(d) => {
            let _ = write!(out, "'{}'", d.format(DATE));
        }
    }
}

/// `COPY table (columns) FROM STDIN` with the buffered text-format rows.
fn copy(c: &mut AnyConnection, table: Table, data: &[u8]) -> QueryResult<()> {
    let AnyConnection::Pg(pg) = c else {
        return Ok(());
    };
    macro_rules! copy_into {
        ($t:path) => {{
            use $t as t;
            diesel::copy_from(t::table)
                .from_raw_data(t::table, |w| {
                    w.write_all(data)
                        .map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))
                })
                .with_format(CopyFormat::Text)
                .execute(pg)
                .map_err(|e| {
                    diesel::result::Error::QueryBuilderError(
                        format!("COPY {}: {e}", table.name()).into(),
                    )
                })
        }};
    }
    match table {
        Table::Units => copy_into!(schema::units),
        Table::UnitGroups => copy_into!(schema::unit_groups),
        Table::UnitGroupAliases => copy_into!(schema::unit_group_aliases),
        Table::UnitGroupMembers => copy_into!(schema::unit_group_members),
        Table::Plans => copy_into!(schema::plans),
        Table::PlanItems => copy_into!(schema::plan_items),
        Table::SourceDocuments => copy_into!(schema::source_documents),
        Table::MeasureSources => copy_into!(schema::measure_sources),
        Table::Assignments => copy_into!(schema::assignments),
        Table::ExtensionRequests => copy_into!(schema::extension_requests),
        Table::Reports => copy_into!(schema::reports),
        Table::ReportRevisions => copy_into!(schema::report_revisions),
        Table::Urges => copy_into!(schema::urges),
        Table::UrgeAssignments => copy_into!(schema::urge_assignments),
        Table::AuditLog => copy_into!(schema::audit_log),
    }
    .map(|_| ())
}

/// The next free id of a table (max + 1).
pub fn next_id(c: &mut AnyConnection, table: Table) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Max {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        m: Option<i64>,
    }
    let row: Max =
        diesel::sql_query(format!("SELECT MAX(id) AS m FROM {}", table.name())).get_result(c)?;
    Ok(row.m.unwrap_or(0) + 1)
}

/// Rows in a table.
pub fn count(c: &mut AnyConnection, table: &str) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let row: N = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result(c)?;
    Ok(row.n)
}

/// On PostgreSQL, moves each identity past the ids written explicitly, so that the API's next
/// insert does not collide with them.
pub fn fix_sequences(c: &mut AnyConnection, tables: &[&str]) -> QueryResult<()> {
    if !matches!(c, AnyConnection::Pg(_)) {
        return Ok(());
    }
    for t in tables {
        c.batch_execute(&format!(
            "SELECT setval(pg_get_serial_sequence('{t}', 'id'), \
             GREATEST((SELECT COALESCE(MAX(id), 0) FROM {t}), 1), \
             (SELECT COUNT(*) > 0 FROM {t}))"
        ))?;
    }
    Ok(())
}
