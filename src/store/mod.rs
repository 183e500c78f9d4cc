//! All SQL of the application: diesel queries, one module per aggregate.
//!
//! Functions take `&mut AnyConnection` and return `QueryResult`; transactions are opened by the
//! caller ([`crate::db::Db::write`]) so that writes that belong together commit together.

pub mod assignments;
pub mod audit;
pub mod desk;
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

use chrono::NaiveDateTime;

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
