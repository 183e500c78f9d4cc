//! Evidence files (佐证材料) as stored: one row per file, its place in the report's working copy
//! and sent revisions ([`crate::domain::evidence`]).

use crate::db::schema::attachments as at;
use crate::db::AnyConnection;
use crate::domain::evidence::Seen;
use crate::domain::ids::{ReportId, UnitId, UserId};
use crate::on_backend;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A file's row.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = at, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Attachment {
    pub id: i64,
    pub report_id: ReportId,
    pub unit_id: UnitId,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by: Option<UserId>,
    pub uploaded_at: NaiveDateTime,
    pub first_revision: Option<i32>,
    pub last_revision: Option<i32>,
    pub removed_at: Option<NaiveDateTime>,
    pub removed_by: Option<UserId>,
}

/// A stored file's new row.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = at)]
pub struct NewAttachment {
    pub report_id: ReportId,
    pub unit_id: UnitId,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by: Option<UserId>,
    pub uploaded_at: NaiveDateTime,
}

/// Stores a row; returns it.
pub fn insert(c: &mut AnyConnection, a: &NewAttachment) -> QueryResult<Attachment> {
    on_backend!(c, |c| diesel::insert_into(at::table)
        .values(a)
        .returning(Attachment::as_returning())
        .get_result(c))
}

/// The row of a file.
pub fn find(c: &mut AnyConnection, id: i64) -> QueryResult<Option<Attachment>> {
    at::table
        .find(id)
        .select(Attachment::as_select())
        .first(c)
        .optional()
}

/// A report's files, oldest first, those `seen` only.
pub fn of_report(
    c: &mut AnyConnection,
    report: ReportId,
    seen: Seen,
) -> QueryResult<Vec<Attachment>> {
    Ok(of_reports(c, &[report])?
        .into_iter()
        .filter(|a| seen.holds(a.first_revision, a.last_revision, a.removed_at.is_some()))
        .collect())
}

/// Every file row of these reports, oldest first.
pub fn of_reports(c: &mut AnyConnection, reports: &[ReportId]) -> QueryResult<Vec<Attachment>> {
    if reports.is_empty() {
        return Ok(Vec::new());
    }
    at::table
        .filter(at::report_id.eq_any(reports))
        .select(Attachment::as_select())
        .order(at::id)
        .load(c)
}

/// The bytes in a report's working copy.
pub fn working_copy_bytes(c: &mut AnyConnection, report: ReportId) -> QueryResult<i64> {
    let sizes: Vec<i64> = at::table
        .filter(at::report_id.eq(report))
        .filter(at::removed_at.is_null())
        .select(at::size)
        .load(c)?;
    Ok(sizes.into_iter().sum())
}

/// The report was sent as revision `revision`: the files of its working copy not yet in a
/// revision join it (and every later one until removed).
pub fn sent_with(c: &mut AnyConnection, report: ReportId, revision: i32) -> QueryResult<usize> {
    // With RETURNING, so that both backends keep it prepared like the report's own update.
    let ids: Vec<i64> = on_backend!(c, |c| crate::store::Fixed(
        diesel::update(
            at::table
                .filter(at::report_id.eq(report))
                .filter(at::removed_at.is_null())
                .filter(at::first_revision.is_null()),
        )
        .set(at::first_revision.eq(revision))
        .returning(at::id)
    )
    .load(c))?;
    Ok(ids.len())
}

/// Removes a file from the working copy: a file never sent goes (its row; the caller removes
/// its bytes and gets true), a sent one stays in the revisions that have it, up to `sent`.
pub fn remove(
    c: &mut AnyConnection,
    a: &Attachment,
    sent: Option<i32>,
    by: UserId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    match (a.first_revision, sent) {
        (Some(_), Some(last)) => {
            diesel::update(at::table.find(a.id))
                .set((
                    at::removed_at.eq(now),
                    at::removed_by.eq(by),
                    at::last_revision.eq(last),
                ))
                .execute(c)?;
            Ok(false)
        }
        _ => {
            diesel::delete(at::table.find(a.id)).execute(c)?;
            Ok(true)
        }
    }
}

/// Of these storage keys, those that have a row.
pub fn known_keys(c: &mut AnyConnection, keys: &[String]) -> QueryResult<Vec<String>> {
    at::table
        .filter(at::storage_key.eq_any(keys))
        .select(at::storage_key)
        .load(c)
}
