//! Extension requests (延期申请): before an assignment's due date its unit asks for a later one,
//! stating why and what it has done so far; the office approves, granting a date (which may
//! differ from the one asked for), or rejects with a reason. An approved request moves the
//! assignment's due date, and with it the deadline, the overdue list, severity and figures.
//!
//! The rules here take no I/O: whether a request may be made, and whether a grant may be given.

use chrono::NaiveDate;
use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an extension request is.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionState {
    /// Asked, not yet decided (待审核).
    Pending,
    /// Approved: the granted date is the assignment's due date (已批准).
    Approved,
    /// Rejected, with the office's reason (不予批准).
    Rejected,
}

crate::stored_as_text!(ExtensionState);

impl ExtensionState {
    /// Every state.
    pub const ALL: [ExtensionState; 3] = [
        ExtensionState::Pending,
        ExtensionState::Approved,
        ExtensionState::Rejected,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExtensionState::Pending => "pending",
            ExtensionState::Approved => "approved",
            ExtensionState::Rejected => "rejected",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The states a request in this state may move to: only a pending request is decided.
    pub fn next(self) -> &'static [ExtensionState] {
        match self {
            ExtensionState::Pending => &[ExtensionState::Approved, ExtensionState::Rejected],
            ExtensionState::Approved | ExtensionState::Rejected => &[],
        }
    }
}

/// Why a request or a grant is refused, and the field it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The due date has come: a request is made before it (`due_date`).
    DueDatePassed { due_date: NaiveDate },
    /// The date asked for or granted is not after the due date in force (`field`).
    NotLater {
        field: &'static str,
        due_date: NaiveDate,
    },
    /// The assignment is done already: there is nothing to extend.
    Done,
}

impl Refusal {
    /// The field the refusal names.
    pub fn field(&self) -> &'static str {
        match self {
            Refusal::DueDatePassed { .. } => "due_date",
            Refusal::NotLater { field, .. } => field,
            Refusal::Done => "assignment_id",
        }
    }

    /// The message for the caller.
    pub fn message(&self) -> String {
        match self {
            Refusal::DueDatePassed { due_date } => format!(
                "the due date {due_date} has come: an extension is asked for before the due date"
            ),
            Refusal::NotLater { due_date, .. } => {
                format!("must be after the due date in force, {due_date}")
            }
            Refusal::Done => "the assignment is done already; there is nothing to extend".into(),
        }
    }
}

/// May a unit ask on `today` to move an assignment due on `due_date` (and not yet `done`) to
/// `requested`? Only before the due date, only for work not done, only to a later date.
pub fn may_request(
    due_date: NaiveDate,
    done: bool,
    today: NaiveDate,
    requested: NaiveDate,
) -> Result<(), Refusal> {
    if done {
        return Err(Refusal::Done);
    }
    if today >= due_date {
        return Err(Refusal::DueDatePassed { due_date });
    }
    if requested <= due_date {
        return Err(Refusal::NotLater {
            field: "requested_due_date",
            due_date,
        });
    }
    Ok(())
}

/// May the office grant `granted` for an assignment now due on `due_date`? The granted date
/// may differ from the one asked for, but it must move the due date later.
pub fn may_grant(due_date: NaiveDate, granted: NaiveDate) -> Result<(), Refusal> {
    if granted <= due_date {
        return Err(Refusal::NotLater {
            field: "granted_due_date",
            due_date,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_request_is_made_before_the_due_date_for_a_later_date() {
        let due = d(2019, 12, 31);
        assert_eq!(
            may_request(due, false, d(2019, 12, 1), d(2020, 3, 31)),
            Ok(())
        );
        assert_eq!(
            may_request(due, false, d(2019, 12, 31), d(2020, 3, 31)),
            Err(Refusal::DueDatePassed { due_date: due })
        );
        assert_eq!(
            may_request(due, false, d(2020, 1, 5), d(2020, 3, 31))
                .unwrap_err()
                .field(),
            "due_date"
        );
        let same = may_request(due, false, d(2019, 12, 1), due).unwrap_err();
        assert_eq!(same.field(), "requested_due_date");
        let earlier = may_request(due, false, d(2019, 12, 1), d(2019, 12, 20)).unwrap_err();
        assert_eq!(earlier.field(), "requested_due_date");
        assert_eq!(
            may_request(due, true, d(2019, 12, 1), d(2020, 3, 31)),
            Err(Refusal::Done)
        );
    }

    #[test]
    fn a_grant_moves_the_due_date_later_whatever_was_asked() {
        let due = d(2019, 12, 31);
        assert!(may_grant(due, d(2020, 1, 31)).is_ok());
        assert_eq!(may_grant(due, due).unwrap_err().field(), "granted_due_date");
        assert!(may_grant(due, d(2019, 6, 30)).is_err());
    }

    #[test]
    fn only_a_pending_request_is_decided() {
        assert_eq!(
            ExtensionState::Pending.next(),
            &[ExtensionState::Approved, ExtensionState::Rejected]
        );
        assert!(ExtensionState::Approved.next().is_empty());
        assert!(ExtensionState::Rejected.next().is_empty());
        for s in ExtensionState::ALL {
            assert_eq!(ExtensionState::parse(s.as_str()), Some(s));
        }
    }
}
