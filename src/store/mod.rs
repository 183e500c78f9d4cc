//! All SQL of the application: diesel queries, one module per aggregate.
//!
//! Functions take `&mut AnyConnection` and return `QueryResult`; transactions are opened by the
//! caller ([`crate::db::Db::write`]) so that writes that belong together commit together.

pub mod assignments;
pub mod attachments;
pub mod audit;
pub mod calendar;
pub mod desk;
pub mod disputes;
pub mod extensions;
pub mod groups;
pub mod idempotency;
pub mod plans;
pub mod reports;
pub mod sessions;
pub mod standing;
pub mod throttle;
pub mod units;
pub mod urges;
pub mod users;
pub mod webhooks;

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement whose SQL text is the same on every call, kept prepared in the connection's
/// statement cache (on both backends) instead of being planned again on each call.
///
/// diesel caches a statement only when each of its parts says it may: an `UPDATE` never does
/// (a changeset may leave out its `None` fields, so one Rust type can give several texts), nor
/// an insert whose `None` fields stand for `DEFAULT`, nor raw SQL. A statement whose type has
/// no static query id, like this one, is looked up in the cache by its SQL text and bind types,
/// so a statement whose text cannot vary is safe to cache whatever diesel assumes of its
/// parts. Wrap only such statements (no `IN` list of varying length, no optional clause):
/// every distinct text would be another prepared statement kept for the connection's life.
#[derive(Debug, Clone, Copy)]
pub struct Fixed<Q>(pub Q);

impl<Q> QueryId for Fixed<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Fixed<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> QueryFragment<DB> for Fixed<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for Fixed<Q> {}

/// The current time as stored: UTC without zone, to the microsecond.
pub fn now() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    now.with_nanosecond_truncated()
}

trait Truncate {
    fn with_nanosecond_truncated(self) -> Self;
}

impl Truncate for NaiveDateTime {
    fn with_nanosecond_truncated(self) -> Self {
        use chrono::Timelike;
        let micros = self.nanosecond() / 1000 * 1000;
        self.with_nanosecond(micros).unwrap_or(self)
    }
}

/// One page of a keyset-paginated list: the rows, and the key to continue after, if any.
#[derive(Debug)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The sort key of the last row, when more rows follow.
    pub next_after: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in key order.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> i64) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        let next_after = if more { rows.last().map(key) } else { None };
        Page {
            items: rows,
            next_after,
        }
    }
}

/// Every row of a keyset-paginated list, read page by page (`page(after, limit)` returns up to
/// `limit + 1` rows after the key `after`, in key order).
pub fn all_pages<T>(
    mut page: impl FnMut(Option<i64>, i64) -> diesel::QueryResult<Vec<T>>,
    key: impl Fn(&T) -> i64,
) -> diesel::QueryResult<Vec<T>> {
    const PAGE: i64 = 1000;
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let mut rows = page(after, PAGE)?;
        let more = rows.len() as i64 > PAGE;
        rows.truncate(PAGE as usize);
        after = rows.last().map(&key);
        out.extend(rows);
        if !more {
            return Ok(out);
        }
    }
}

/// A `LIKE` pattern matching `q` anywhere, with `%`, `_` and `\` escaped.
pub fn contains_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for ch in q.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_knows_whether_more_follow() {
        let p = Page::from_rows(vec![1, 2, 3], 2, |x| *x as i64);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(p.next_after, Some(2));
        let p = Page::from_rows(vec![1, 2], 2, |x| *x as i64);
        assert_eq!(p.next_after, None);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("5%_a\\"), "%5\\%\\_a\\\\%");
    }
}
