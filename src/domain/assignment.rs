//! Assignments: a measure given to a unit as lead (牵头单位) or participant (参加单位), with a
//! due date and a reporting cycle; the periods a cycle asks reports for.

use chrono::{Datelike, NaiveDate};
use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The part a unit plays on a measure.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentRole {
    /// 牵头单位: leads and writes the consolidated report.
    Lead,
    /// 参加单位: contributes its own part.
    Participant,
}

crate::stored_as_text!(AssignmentRole);

impl AssignmentRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentRole::Lead => "lead",
            AssignmentRole::Participant => "participant",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "lead" => Some(AssignmentRole::Lead),
            "participant" => Some(AssignmentRole::Participant),
            _ => None,
        }
    }
}

/// How often a unit reports on an assignment.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cycle {
    /// One report.
    Once,
    /// Every month.
    Monthly,
    /// Every quarter.
    Quarterly,
    /// Every half year.
    HalfYearly,
    /// Every year.
    Yearly,
}

crate::stored_as_text!(Cycle);

impl Cycle {
    /// Every cycle.
    pub const ALL: [Cycle; 5] = [
        Cycle::Once,
        Cycle::Monthly,
        Cycle::Quarterly,
        Cycle::HalfYearly,
        Cycle::Yearly,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Cycle::Once => "once",
            Cycle::Monthly => "monthly",
            Cycle::Quarterly => "quarterly",
            Cycle::HalfYearly => "half_yearly",
            Cycle::Yearly => "yearly",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The period a date falls in: `once`, `2019`, `2019-H2`, `2019-Q4`, `2019-12`.
    pub fn period_of(self, date: NaiveDate) -> String {
        let (y, m) = (date.year(), date.month());
        match self {
            Cycle::Once => "once".into(),
            Cycle::Yearly => format!("{y}"),
            Cycle::HalfYearly => format!("{y}-H{}", if m <= 6 { 1 } else { 2 }),
            Cycle::Quarterly => format!("{y}-Q{}", (m - 1) / 3 + 1),
            Cycle::Monthly => format!("{y}-{m:02}"),
        }
    }

    /// True when `period` is well-formed for this cycle.
    pub fn accepts(self, period: &str) -> bool {
        let year_ok = |y: &str| y.len() == 4 && y.chars().all(|c| c.is_ascii_digit());
        match self {
            Cycle::Once => period == "once",
            Cycle::Yearly => year_ok(period),
            Cycle::HalfYearly => {
                matches!(period.split_once("-H"), Some((y, h)) if year_ok(y) && (h == "1" || h == "2"))
            }
            Cycle::Quarterly => {
                matches!(period.split_once("-Q"), Some((y, q)) if year_ok(y) && ["1", "2", "3", "4"].contains(&q))
            }
            Cycle::Monthly => {
                matches!(period.split_once('-'), Some((y, m)) if year_ok(y) && m.len() == 2 && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_follow_the_cycle() {
        let d = NaiveDate::from_ymd_opt(2019, 11, 26).unwrap();
        assert_eq!(Cycle::Yearly.period_of(d), "2019");
        assert_eq!(Cycle::HalfYearly.period_of(d), "2019-H2");
        assert_eq!(Cycle::Quarterly.period_of(d), "2019-Q4");
        assert_eq!(Cycle::Monthly.period_of(d), "2019-11");
        assert_eq!(Cycle::Once.period_of(d), "once");
        for c in Cycle::ALL {
            assert!(c.accepts(&c.period_of(d)));
        }
        assert!(!Cycle::Monthly.accepts("2019-13"));
        assert!(!Cycle::Quarterly.accepts("2019-Q5"));
        assert!(!Cycle::Yearly.accepts("19"));
    }
}

/// Where an assignment stands, derived from its reports and the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentState {
    /// No report sent, not yet due.
    NotStarted,
    /// A draft exists, or the unit reported work in progress.
    InProgress,
    /// The unit reported it done.
    Completed,
    /// The unit reported it does not concern it.
    NotApplicable,
    /// Due and neither done nor declared not applicable.
    Overdue,
}

/// The derived state: a sent report (submitted, resubmitted or accepted) that says completed or
/// not applicable settles it; otherwise past the due date it is overdue; otherwise a draft, a
/// returned report or an in-progress report means in progress.
pub fn derive_state(
    latest: Option<(
        crate::domain::report::ReportStatus,
        crate::domain::report::Workflow,
    )>,
    due: NaiveDate,
    today: NaiveDate,
) -> AssignmentState {
    use crate::domain::report::ReportStatus as S;
    if let Some((status, wf)) = latest {
        if wf.counts_as_reported() {
            match status {
                S::Completed => return AssignmentState::Completed,
                S::NotApplicable => return AssignmentState::NotApplicable,
                _ => {}
            }
        }
    }
    if due < today {
        return AssignmentState::Overdue;
    }
    match latest {
        Some((S::NotStarted, wf)) if wf.counts_as_reported() => AssignmentState::NotStarted,
        Some(_) => AssignmentState::InProgress,
        None => AssignmentState::NotStarted,
    }
}

#[cfg(test)]
mod state_tests {
    use super::*;
    use crate::domain::report::{ReportStatus as S, Workflow as W};

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2019, 12, day).unwrap()
    }

    #[test]
    fn states_follow_the_documented_rule() {
        assert_eq!(derive_state(None, d(31), d(1)), AssignmentState::NotStarted);
        assert_eq!(derive_state(None, d(1), d(2)), AssignmentState::Overdue);
        assert_eq!(
            derive_state(Some((S::Completed, W::Draft)), d(31), d(1)),
            AssignmentState::InProgress
        );
        assert_eq!(
            derive_state(Some((S::Completed, W::Draft)), d(1), d(2)),
            AssignmentState::Overdue
        );
        assert_eq!(
            derive_state(Some((S::Completed, W::Submitted)), d(1), d(2)),
            AssignmentState::Completed
        );
        assert_eq!(
            derive_state(Some((S::NotApplicable, W::Accepted)), d(1), d(2)),
            AssignmentState::NotApplicable
        );
        assert_eq!(
            derive_state(Some((S::Completed, W::Returned)), d(1), d(2)),
            AssignmentState::Overdue
        );
        assert_eq!(
            derive_state(Some((S::InProgress, W::Submitted)), d(31), d(1)),
            AssignmentState::InProgress
        );
    }
}
