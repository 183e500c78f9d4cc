//! Completion reports (完成情况): what a unit says about an assignment for one period, and the
//! review workflow draft → submitted → accepted | returned → resubmitted → …

use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How far the work is, in the unit's own words.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Nothing done yet.
    NotStarted,
    /// Under way.
    InProgress,
    /// Done.
    Completed,
    /// Does not concern this unit (不涉及).
    NotApplicable,
}

crate::stored_as_text!(ReportStatus);

impl ReportStatus {
    /// Every status.
    pub const ALL: [ReportStatus; 4] = [
        ReportStatus::NotStarted,
        ReportStatus::InProgress,
        ReportStatus::Completed,
        ReportStatus::NotApplicable,
    ];

    /// The statuses that settle an assignment once sent: done, or not applicable.
    pub const DONE: [ReportStatus; 2] = [ReportStatus::Completed, ReportStatus::NotApplicable];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::NotStarted => "not_started",
            ReportStatus::InProgress => "in_progress",
            ReportStatus::Completed => "completed",
            ReportStatus::NotApplicable => "not_applicable",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The status as the office's tables write it.
    pub fn label(self) -> &'static str {
        match self {
            ReportStatus::NotStarted => "未开始",
            ReportStatus::InProgress => "推进中",
            ReportStatus::Completed => "已完成",
            ReportStatus::NotApplicable => "不涉及",
        }
    }

    /// The status a free-text answer from the office's table implies: 不涉及 → not applicable,
    /// any other text → completed, nothing → not started.
    pub fn from_answer(text: &str) -> ReportStatus {
        let t = text.trim();
        if t.is_empty() {
            ReportStatus::NotStarted
        } else if t.contains("不涉及") {
            ReportStatus::NotApplicable
        } else {
            ReportStatus::Completed
        }
    }
}

/// Where a report is in review.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Workflow {
    /// Being written by the unit; only the unit sees it.
    Draft,
    /// Sent to the office for review.
    Submitted,
    /// Sent back by the office with a reason; the unit edits and resubmits.
    Returned,
    /// Sent again after a return.
    Resubmitted,
    /// Accepted by the office; final.
    Accepted,
}

crate::stored_as_text!(Workflow);

/// A step of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The unit changes the text.
    Edit,
    /// The unit sends it.
    Submit,
    /// The office accepts it.
    Accept,
    /// The office sends it back.
    Return,
}

impl Workflow {
    /// Every state.
    pub const ALL: [Workflow; 5] = [
        Workflow::Draft,
        Workflow::Submitted,
        Workflow::Returned,
        Workflow::Resubmitted,
        Workflow::Accepted,
    ];

    /// The states in which a report counts as the unit's answer: sent and not sent back.
    pub const SENT: [Workflow; 3] = [
        Workflow::Submitted,
        Workflow::Resubmitted,
        Workflow::Accepted,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::Draft => "draft",
            Workflow::Submitted => "submitted",
            Workflow::Returned => "returned",
            Workflow::Resubmitted => "resubmitted",
            Workflow::Accepted => "accepted",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The state after a step, or why the step is not allowed now.
    pub fn after(self, step: Step) -> Result<Workflow, String> {
        use Workflow::*;
        match (self, step) {
            (Draft, Step::Edit) => Ok(Draft),
            (Returned, Step::Edit) => Ok(Returned),
            (Draft, Step::Submit) => Ok(Submitted),
            (Returned, Step::Submit) => Ok(Resubmitted),
            (Submitted | Resubmitted, Step::Accept) => Ok(Accepted),
            (Submitted | Resubmitted, Step::Return) => Ok(Returned),
            (state, step) => Err(format!(
                "a {} report cannot be {}",
                state.as_str(),
                match step {
                    Step::Edit => "edited",
                    Step::Submit => "submitted",
                    Step::Accept => "accepted",
                    Step::Return => "returned",
                }
            )),
        }
    }

    /// True once the office can see it (anything but a draft).
    pub fn is_visible_to_office(self) -> bool {
        self != Workflow::Draft
    }

    /// True when it counts as the unit's answer: sent and not sent back.
    pub fn counts_as_reported(self) -> bool {
        Self::SENT.contains(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Step::*;
    use Workflow::*;

    #[test]
    fn every_transition_is_allowed_or_refused_as_designed() {
        let allowed = [
            (Draft, Edit, Draft),
            (Returned, Edit, Returned),
            (Draft, Submit, Submitted),
            (Returned, Submit, Resubmitted),
            (Submitted, Accept, Accepted),
            (Resubmitted, Accept, Accepted),
            (Submitted, Return, Returned),
            (Resubmitted, Return, Returned),
        ];
        for state in Workflow::ALL {
            for step in [Edit, Submit, Accept, Return] {
                let expected = allowed
                    .iter()
                    .find(|(s, st, _)| *s == state && *st == step)
                    .map(|(_, _, to)| *to);
                assert_eq!(state.after(step).ok(), expected, "{state:?} {step:?}");
            }
        }
    }

    #[test]
    fn answers_imply_a_status() {
        assert_eq!(
            ReportStatus::from_answer("我局不涉及"),
            ReportStatus::NotApplicable
        );
        assert_eq!(
            ReportStatus::from_answer("机构改革后，我局不涉及"),
            ReportStatus::NotApplicable
        );
        assert_eq!(ReportStatus::from_answer(" "), ReportStatus::NotStarted);
        assert_eq!(
            ReportStatus::from_answer("开展了调研。"),
            ReportStatus::Completed
        );
    }
}
