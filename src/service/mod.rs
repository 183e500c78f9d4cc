//! The use cases: one function per operation. Each takes the caller ([`Ctx`]) and input already
//! parsed into domain types, runs in one transaction (its own, or the one its caller opened so
//! that an idempotent replay is written with it), asks the policy whether the caller may act on
//! this object, applies the domain rule, writes through [`crate::store`] (which keeps each
//! assignment's standing with its data), records the audit entry, and returns a typed result or
//! an [`crate::error::ApiError`]. Handlers in [`crate::api`] only parse, call and respond.

pub mod assignments;
pub mod attachments;
pub mod audit;
pub mod calendar;
pub mod desk;
pub mod disputes;
pub mod documents;
pub mod extensions;
pub mod groups;
pub mod items;
pub mod plans;
pub mod reports;
pub mod sources;
pub mod timeline;
pub mod units;
pub mod urges;
pub mod users;
pub mod webhooks;

use crate::auth::Principal;
use crate::store::audit::Actor;
use chrono::{NaiveDate, NaiveDateTime};

/// Who acts, for the audit trail, and when.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The caller.
    pub principal: Principal,
    /// The audit actor (account, unit, request id).
    pub actor: Actor,
    /// The time the operation happens at (stored on what it writes).
    pub now: NaiveDateTime,
}

impl Ctx {
    /// The caller acting now.
    pub fn new(principal: Principal, request_id: Option<String>) -> Self {
        Ctx {
            actor: Actor {
                user_id: Some(principal.user_id),
                unit_id: principal.unit_id,
                request_id,
            },
            principal,
            now: crate::store::now(),
        }
    }

    /// The day it is now (UTC), the default of every "as of".
    pub fn today(&self) -> NaiveDate {
        self.now.date()
    }

    /// The day an "as of" parameter names, checked, or today.
    pub fn as_of(&self, day: Option<NaiveDate>) -> crate::error::ApiResult<NaiveDate> {
        match day {
            None => Ok(self.today()),
            Some(d) => checked_day("as_of", d),
        }
    }
}

/// A text a caller must give: trimmed, 1 to `max` characters (422 naming `field`).
pub fn required_text(field: &str, value: &str, max: usize) -> crate::error::ApiResult<String> {
    let t = value.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(crate::error::ApiError::invalid(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(t.to_owned())
}

/// A text a caller may give: absent or blank is none, else as [`required_text`].
pub fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> crate::error::ApiResult<Option<String>> {
    value
        .filter(|t| !t.trim().is_empty())
        .map(|t| required_text(field, &t, max))
        .transpose()
}

/// A date given by a caller, checked against the range duban works with (422 naming `field`).
pub fn checked_day(field: &str, d: NaiveDate) -> crate::error::ApiResult<NaiveDate> {
    if crate::domain::assignment::day_in_range(d) {
        Ok(d)
    } else {
        Err(crate::error::ApiError::invalid(
            field,
            "must be a day between 1970-01-01 and 9998-12-31",
        ))
    }
}
