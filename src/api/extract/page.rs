//! Keyset pagination shared by every list: `limit` and an opaque `cursor` in, `{"items": [...],
//! "next_cursor": "…" | null}` out.

use crate::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Keyset pagination parameters, shared by every list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; omit for the first page.
    #[param(example = "azQy")]
    pub cursor: Option<String>,
    /// `true`: add `total`, the number of items matching the filters over all pages.
    #[param(example = true)]
    pub count: Option<bool>,
}

impl PageQuery {
    /// The checked limit and the key to continue after.
    pub fn parse(&self) -> Result<(i64, Option<i64>), ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::invalid("limit", "must be 1 to 200"));
        }
        let after =
            match &self.cursor {
                None => None,
                Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                    ApiError::invalid("cursor", "is not a cursor this API issued")
                })?),
            };
        Ok((limit, after))
    }
}

/// An opaque cursor for a sort key.
pub fn encode_cursor(key: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("k{key}"))
}

fn decode_cursor(c: &str) -> Option<i64> {
    let raw = URL_SAFE_NO_PAD.decode(c).ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix('k')?
        .parse()
        .ok()
}

/// `count` alone, for the lists answered whole (a report's files, a year's calendar, a timeline).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountQuery {
    /// `true`: add `total`, the number of items.
    #[param(example = true)]
    pub count: Option<bool>,
}

impl CountQuery {
    /// Whether the caller asked for `total`.
    pub fn wants_count(&self) -> bool {
        self.count == Some(true)
    }
}

/// One page of a list: `{"items": [...], "next_cursor": "…" | null}`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(example = "azQy")]
    pub next_cursor: Option<String>,
    /// With `count=true` only: the number of items matching the filters, over all pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 124, nullable = false)]
    pub total: Option<i64>,
}

impl<T: ToSchema> Page<T> {
    /// Maps a store page into an API page.
    pub fn map<S>(page: crate::store::Page<S>, f: impl FnMut(S) -> T) -> Self {
        Page {
            items: page.items.into_iter().map(f).collect(),
            next_cursor: page.next_after.map(encode_cursor),
            total: None,
        }
    }

    /// A list answered whole: every item, no next page.
    pub fn whole(items: Vec<T>, count: bool) -> Self {
        let total = count.then_some(items.len() as i64);
        Page {
            items,
            next_cursor: None,
            total,
        }
    }

    /// The page with its `total` (from [`total_of`]).
    pub fn with_total(self, total: Option<i64>) -> Self {
        Page { total, ..self }
    }
}

/// Pages read to count a list: larger than a client's, to take few queries.
const COUNTING_PAGE: i64 = 1000;

/// With `count=true`: the number of items over every page, read through the same function that
/// serves one page (so the same filters and the same visibility apply); `None` otherwise.
pub fn total_of<K>(
    wanted: bool,
    mut page: impl FnMut(Option<K>, i64) -> Result<(usize, Option<K>), ApiError>,
) -> Result<Option<i64>, ApiError> {
    if !wanted {
        return Ok(None);
    }
    let (mut total, mut after) = (0i64, None);
    loop {
        let (n, next) = page(after, COUNTING_PAGE)?;
        total += n as i64;
        match next {
            Some(k) => after = Some(k),
            None => return Ok(Some(total)),
        }
    }
}

/// [`total_of`] for the lists whose pages are store pages keyed by an `i64`.
pub fn total_of_pages<T>(
    wanted: bool,
    mut page: impl FnMut(Option<i64>, i64) -> Result<crate::store::Page<T>, ApiError>,
) -> Result<Option<i64>, ApiError> {
    total_of(wanted, |after, limit| {
        let p = page(after, limit)?;
        Ok((p.items.len(), p.next_after))
    })
}

impl PageQuery {
    /// Whether the caller asked for `total`.
    pub fn wants_count(&self) -> bool {
        self.count == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        let q = PageQuery {
            limit: Some(0),
            cursor: None,
            count: None,
        };
        assert!(q.parse().is_err());
    }
}
