//! The office's desk: how severe an overdue assignment is and its traffic light. When an
//! assignment is overdue, and since which day, is decided by its standing
//! ([`crate::domain::standing`]), nowhere else.
//!
//! **Severity** rises with the working days overdue ([`crate::domain::calendar`]): up to 7 a
//! reminder (提醒), 8–30 an urge (催办), over 30 supervision (督办). Work overdue over a
//! weekend or a holiday only, 0 working days, calls for a reminder.
//!
//! **Traffic light**: red when overdue; yellow when not done and due within 7 days, when the
//! latest report was returned, or when the unit is behind its time-proportional share (序时进度);
//! green otherwise (done, not applicable, or comfortably ahead).

use crate::domain::assignment::AssignmentState;
use crate::domain::calendar::Calendar;
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

    /// The severity an assignment this many working days overdue calls for.
    pub fn for_days_overdue(days: i64) -> Severity {
        Self::ALL
            .into_iter()
            .rev()
            .find(|s| days >= i64::from(s.days_span().0))
            .unwrap_or(Severity::Reminder)
    }

    /// The working days overdue this severity spans: from, and up to (`None`: no end).
    pub fn days_span(self) -> (u32, Option<u32>) {
        match self {
            Severity::Reminder => (0, Some(7)),
            Severity::Urge => (8, Some(30)),
            Severity::Supervise => (31, None),
        }
    }

    /// The deadlines of the assignments overdue as of `as_of` with this severity on `cal`:
    /// the earliest and the latest (both included; `None`: no bound). Working days overdue
    /// fall as the deadline comes later, so a severity is a span of deadlines.
    pub fn deadline_bounds(
        self,
        as_of: NaiveDate,
        cal: &Calendar,
    ) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let (from, to) = self.days_span();
        // Overdue: the deadline is before `as_of`; at least `from` working days: the
        // `from`-th working day back from `as_of` comes after the deadline.
        let latest = if from == 0 {
            as_of.pred_opt()
        } else {
            cal.nth_working_day_back(as_of, from)
                .and_then(|d| d.pred_opt())
        };
        // At most `to` working days: the deadline is on or after the (`to` + 1)-th working
        // day back.
        let earliest = to.and_then(|t| cal.nth_working_day_back(as_of, t + 1));
        (earliest, latest)
    }
}

/// Working days overdue as of `as_of` of work whose deadline was `deadline` (0 when not
/// overdue, or overdue over days off only).
pub fn working_days_overdue(deadline: NaiveDate, as_of: NaiveDate, cal: &Calendar) -> i64 {
    if deadline < as_of {
        cal.working_days_between(deadline, as_of).max(0)
    } else {
        0
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
    /// Due within 7 days and not done, the latest report returned, or behind its
    /// time-proportional share.
    Yellow,
    /// Overdue.
    Red,
}

/// Days ahead of the due date at which the light turns yellow (and reminders go out).
pub const WARNING_DAYS: i64 = 7;

/// The light of an assignment in `state`, due on `due`, as of `as_of`; `attention` when a
/// report was returned or the unit is behind its time-proportional share (序时进度).
pub fn traffic_light(
    state: AssignmentState,
    due: NaiveDate,
    as_of: NaiveDate,
    attention: bool,
) -> Light {
    match state {
        AssignmentState::Overdue => Light::Red,
        AssignmentState::Completed | AssignmentState::NotApplicable => Light::Green,
        _ if attention || (due - as_of).num_days() <= WARNING_DAYS => Light::Yellow,
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
        assert_eq!(Severity::for_days_overdue(0), Severity::Reminder);
        for s in Severity::ALL {
            assert_eq!(Severity::for_days_overdue(i64::from(s.days_span().0)), s);
        }
    }

    #[test]
    fn severity_counts_working_days_over_the_national_day_week() {
        let cal = Calendar::new(
            crate::domain::calendar::official()
                .iter()
                .map(|o| (o.day, o.kind)),
        );
        // Due 30 September 2019, judged on 12 October: 8–12 October are 5 working days and
        // the holiday week none.
        assert_eq!(
            working_days_overdue(d(2019, 9, 30), d(2019, 10, 12), &cal),
            5
        );
        assert_eq!(
            working_days_overdue(d(2019, 9, 30), d(2019, 10, 7), &cal),
            0
        );
        assert_eq!(
            working_days_overdue(d(2019, 10, 12), d(2019, 10, 12), &cal),
            0
        );
    }

    proptest::proptest! {
        #[test]
        fn each_severity_bounds_exactly_the_deadlines_of_that_severity(
            shift in 0i64..3000, back in 0i64..120,
            holidays in proptest::collection::vec(0i64..3120, 0..40),
        ) {
            let base = d(2018, 1, 1);
            let cal = Calendar::new(holidays.iter().map(|h| {
                let day = base + chrono::Duration::days(*h);
                let kind = if crate::domain::calendar::is_weekend(day) {
                    crate::domain::calendar::DayKind::Workday
                } else {
                    crate::domain::calendar::DayKind::Holiday
                };
                (day, kind)
            }));
            let as_of = base + chrono::Duration::days(shift + 120);
            let deadline = as_of - chrono::Duration::days(back);
            for s in Severity::ALL {
                let (lo, hi) = s.deadline_bounds(as_of, &cal);
                let inside = lo.is_none_or(|l| deadline >= l) && hi.is_none_or(|h| deadline <= h);
                let expected = deadline < as_of
                    && Severity::for_days_overdue(working_days_overdue(deadline, as_of, &cal)) == s;
                proptest::prop_assert_eq!(inside, expected, "{:?} deadline {} as of {}", s, deadline, as_of);
            }
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
