//! The office's desk: when an assignment is overdue, how severe it is, its traffic light, and
//! which reporting period a cycle is waiting for.
//!
//! **Overdue** (as of a day D): the due date has passed without a sent (submitted, resubmitted or
//! accepted) report saying completed or not applicable — a returned report counts as not done;
//! or, for monthly, quarterly and half-yearly cycles, the last reporting period that ended
//! before D (and before the due date) has no sent report at all. Days overdue count from the
//! due date, or from the end of that period.
//!
//! **Severity** rises with the days overdue: 1–7 days a reminder (提醒), 8–30 an urge (催办),
//! over 30 supervision (督办).
//!
//! **Traffic light**: red when overdue; yellow when not done and due within 7 days, or when the
//! latest report was returned; green otherwise (done, not applicable, or comfortably ahead).

use crate::domain::assignment::{AssignmentState, Cycle};
use chrono::{Datelike, Days, NaiveDate};
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
}

crate::stored_as_text!(ReminderKind);

impl ReminderKind {
    /// Every kind.
    pub const ALL: [ReminderKind; 2] = [ReminderKind::BeforeDue, ReminderKind::AfterDue];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::BeforeDue => "before_due",
            ReminderKind::AfterDue => "after_due",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The severity of the urge that carries reminders of this kind.
    pub fn severity(self) -> Severity {
        match self {
            ReminderKind::BeforeDue => Severity::Reminder,
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

/// The last reporting period of a periodic cycle that ended before `as_of`: its label and its
/// last day. `None` for once and yearly cycles (their deadline is the due date).
pub fn last_ended_period(cycle: Cycle, as_of: NaiveDate) -> Option<(String, NaiveDate)> {
    let months = match cycle {
        Cycle::Monthly => 1,
        Cycle::Quarterly => 3,
        Cycle::HalfYearly => 6,
        Cycle::Once | Cycle::Yearly => return None,
    };
    let month0 = as_of.month0() / months * months;
    let current_start = NaiveDate::from_ymd_opt(as_of.year(), month0 + 1, 1)?;
    let end = current_start.checked_sub_days(Days::new(1))?;
    Some((cycle.period_of(end), end))
}

/// The day after the period ending on `end` (a convenience for half-open comparisons).
pub fn day_after(end: NaiveDate) -> NaiveDate {
    end.checked_add_days(Days::new(1)).unwrap_or(end)
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
    fn the_last_ended_period_follows_the_cycle() {
        let as_of = d(2020, 1, 15);
        assert_eq!(
            last_ended_period(Cycle::Monthly, as_of),
            Some(("2019-12".into(), d(2019, 12, 31)))
        );
        assert_eq!(
            last_ended_period(Cycle::Quarterly, d(2019, 8, 2)),
            Some(("2019-Q2".into(), d(2019, 6, 30)))
        );
        assert_eq!(
            last_ended_period(Cycle::HalfYearly, d(2019, 8, 2)),
            Some(("2019-H1".into(), d(2019, 6, 30)))
        );
        assert_eq!(
            last_ended_period(Cycle::Monthly, d(2019, 3, 1)),
            Some(("2019-02".into(), d(2019, 2, 28)))
        );
        assert_eq!(last_ended_period(Cycle::Yearly, as_of), None);
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
