//! The office's desk: how severe an overdue assignment is and its traffic light. When an
//! assignment is overdue, and since which day, is decided by its standing
//! ([`crate::domain::standing`]), nowhere else.
//!
//! **Severity** rises with the days overdue: 1–7 days a reminder (提醒), 8–30 an urge (催办),
//! over 30 supervision (督办).
//!
//! **Traffic light**: red when overdue; yellow when not done and due within 7 days, or when the
//! latest report was returned; green otherwise (done, not applicable, or comfortably ahead).

use crate::domain::assignment::AssignmentState;
use chrono::NaiveDate;
use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How hard the office chases (提醒 → 催办 → 督办).
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 提醒: a reminder.
    Reminder,
    /// 催办: an urge.
    Urge,
    /// 督办: supervision.
    Supervise,
}

crate::stored_as_text!(Severity);

impl Severity {
    /// Every severity, rising.
    pub const ALL: [Severity; 3] = [Severity::Reminder, Severity::Urge, Severity::Supervise];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Reminder => "reminder",
            Severity::Urge => "urge",
            Severity::Supervise => "supervise",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The severity an assignment this many days overdue calls for.
    pub fn for_days_overdue(days: i64) -> Severity {
        match days {
            ..=7 => Severity::Reminder,
            8..=30 => Severity::Urge,
            _ => Severity::Supervise,
        }
    }

    /// The smallest number of days overdue with this severity.
    pub fn min_days(self) -> i64 {
        match self {
            Severity::Reminder => 1,
            Severity::Urge => 8,
            Severity::Supervise => 31,
        }
    }
}

/// Which automatic reminder was sent about an assignment (the reminder log's `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum ReminderKind {
    /// A few days before the due date: a reminder (提醒).
    BeforeDue,
    /// After the due date: an urge (催办).
    AfterDue,
    /// Some days after the plan was published, to a unit that has not signed for the
    /// assignment yet: a reminder to sign (签收提醒).
    Unreceived,
}

crate::stored_as_text!(ReminderKind);

impl ReminderKind {
    /// Every kind.
    pub const ALL: [ReminderKind; 3] = [
        ReminderKind::BeforeDue,
        ReminderKind::AfterDue,
        ReminderKind::Unreceived,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::BeforeDue => "before_due",
            ReminderKind::AfterDue => "after_due",
            ReminderKind::Unreceived => "unreceived",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The severity of the urge that carries reminders of this kind.
    pub fn severity(self) -> Severity {
        match self {
            ReminderKind::BeforeDue | ReminderKind::Unreceived => Severity::Reminder,
            ReminderKind::AfterDue => Severity::Urge,
        }
    }
}

/// The traffic light of an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// Done, not applicable, or comfortably ahead.
    Green,
    /// Due within 7 days and not done, or the latest report was returned.
    Yellow,
    /// Overdue.
    Red,
}

/// Days ahead of the due date at which the light turns yellow (and reminders go out).
pub const WARNING_DAYS: i64 = 7;

/// The light of an assignment in `state`, due on `due`, as of `as_of`.
pub fn traffic_light(
    state: AssignmentState,
    due: NaiveDate,
    as_of: NaiveDate,
    returned: bool,
) -> Light {
    match state {
        AssignmentState::Overdue => Light::Red,
        AssignmentState::Completed | AssignmentState::NotApplicable => Light::Green,
        _ if returned || (due - as_of).num_days() <= WARNING_DAYS => Light::Yellow,
        _ => Light::Green,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn severity_rises_with_days_overdue() {
        assert_eq!(Severity::for_days_overdue(1), Severity::Reminder);
        assert_eq!(Severity::for_days_overdue(7), Severity::Reminder);
        assert_eq!(Severity::for_days_overdue(8), Severity::Urge);
        assert_eq!(Severity::for_days_overdue(30), Severity::Urge);
        assert_eq!(Severity::for_days_overdue(31), Severity::Supervise);
        for s in Severity::ALL {
            assert_eq!(Severity::for_days_overdue(s.min_days()), s);
        }
    }

    #[test]
    fn lights_follow_the_documented_rule() {
        let due = d(2019, 12, 31);
        assert_eq!(
            traffic_light(AssignmentState::Overdue, due, d(2020, 1, 2), false),
            Light::Red
        );
        assert_eq!(
            traffic_light(AssignmentState::Completed, due, d(2020, 1, 2), false),
            Light::Green
        );
        assert_eq!(
            traffic_light(AssignmentState::NotStarted, due, d(2019, 12, 28), false),
            Light::Yellow
        );
        assert_eq!(
            traffic_light(AssignmentState::InProgress, due, d(2019, 11, 1), false),
            Light::Green
        );
        assert_eq!(
            traffic_light(AssignmentState::InProgress, due, d(2019, 11, 1), true),
            Light::Yellow
        );
    }
}
