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

/// Where an assignment stands on a day, read from its standing
/// ([`crate::domain::standing::Standing::state`]). Stored as the standing's phase (every state
/// but overdue, which depends on the day).
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
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

crate::stored_as_text!(AssignmentState);

impl AssignmentState {
    /// Every state.
    pub const ALL: [AssignmentState; 5] = [
        AssignmentState::NotStarted,
        AssignmentState::InProgress,
        AssignmentState::Completed,
        AssignmentState::NotApplicable,
        AssignmentState::Overdue,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentState::NotStarted => "not_started",
            AssignmentState::InProgress => "in_progress",
            AssignmentState::Completed => "completed",
            AssignmentState::NotApplicable => "not_applicable",
            AssignmentState::Overdue => "overdue",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Reporting periods as calendar spans.
impl Cycle {
    /// Monthly, quarterly and half-yearly cycles have deadlines of their own inside the
    /// assignment's span; once and yearly cycles only the due date.
    pub fn is_periodic(self) -> bool {
        matches!(self, Cycle::Monthly | Cycle::Quarterly | Cycle::HalfYearly)
    }

    /// The first and last day of a period label of this cycle (`None` for `once` and for a
    /// label of another cycle).
    pub fn period_bounds(self, period: &str) -> Option<(NaiveDate, NaiveDate)> {
        if !self.accepts(period) || self == Cycle::Once {
            return None;
        }
        let year: i32 = period.get(..4)?.parse().ok()?;
        let (first_month, months) = match self {
            Cycle::Once => return None,
            Cycle::Yearly => (1, 12),
            Cycle::HalfYearly => (if period.ends_with('1') { 1 } else { 7 }, 6),
            Cycle::Quarterly => (3 * (period.get(6..)?.parse::<u32>().ok()? - 1) + 1, 3),
            Cycle::Monthly => (period.get(5..)?.parse::<u32>().ok()?, 1),
        };
        let start = NaiveDate::from_ymd_opt(year, first_month, 1)?;
        let end = start
            .checked_add_months(chrono::Months::new(months))?
            .pred_opt()?;
        Some((start, end))
    }

    /// The last day of a period label of this cycle.
    pub fn period_end(self, period: &str) -> Option<NaiveDate> {
        self.period_bounds(period).map(|(_, end)| end)
    }

    /// The label of the period after `period`.
    pub fn period_after(self, period: &str) -> Option<String> {
        let end = self.period_end(period)?;
        Some(self.period_of(end.succ_opt()?))
    }
}

#[cfg(test)]
mod period_tests {
    use super::*;

    #[test]
    fn periods_have_bounds_and_successors() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            Cycle::Monthly.period_bounds("2019-02"),
            Some((d(2019, 2, 1), d(2019, 2, 28)))
        );
        assert_eq!(
            Cycle::Quarterly.period_end("2019-Q4"),
            Some(d(2019, 12, 31))
        );
        assert_eq!(
            Cycle::HalfYearly.period_end("2019-H1"),
            Some(d(2019, 6, 30))
        );
        assert_eq!(Cycle::Yearly.period_end("2019"), Some(d(2019, 12, 31)));
        assert_eq!(
            Cycle::Monthly.period_after("2019-12").as_deref(),
            Some("2020-01")
        );
        assert_eq!(
            Cycle::Quarterly.period_after("2019-Q2").as_deref(),
            Some("2019-Q3")
        );
        assert_eq!(Cycle::Monthly.period_end("2019-Q1"), None);
        assert_eq!(Cycle::Once.period_end("once"), None);
        for c in [
            Cycle::Monthly,
            Cycle::Quarterly,
            Cycle::HalfYearly,
            Cycle::Yearly,
        ] {
            let mut p = c.period_of(d(2019, 1, 1));
            for _ in 0..30 {
                let (start, end) = c.period_bounds(&p).unwrap();
                assert_eq!(c.period_of(start), p);
                assert_eq!(c.period_of(end), p);
                let next = c.period_after(&p).unwrap();
                assert!(next > p, "{next} after {p}");
                p = next;
            }
        }
    }
}

/// The days duban works with: due dates and "as of" days from 1970 to 9998. Outside that range
/// a date is a typing error (`0000-01-01`, `+10000-01-01`), and the end of its day could not be
/// represented or compared on every backend.
pub fn day_in_range(d: NaiveDate) -> bool {
    (1970..=9998).contains(&d.year())
}
