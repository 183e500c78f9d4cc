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

/// One page of a list: `{"items": [...], "next_cursor": "…" | null}`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(example = "azQy")]
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// Maps a store page into an API page.
    pub fn map<S>(page: crate::store::Page<S>, f: impl FnMut(S) -> T) -> Self {
        Page {
            items: page.items.into_iter().map(f).collect(),
            next_cursor: page.next_after.map(encode_cursor),
        }
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
        };
        assert!(q.parse().is_err());
    }
}
