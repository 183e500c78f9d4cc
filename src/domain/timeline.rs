//! An assignment's timeline (办理记录): what happened to it, in time order. The kinds of event
//! and the order of events at the same instant; the events themselves are read from the data by
//! [`crate::service::timeline`].

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The office assigned the measure to the unit (交办).
    Assigned,
    /// The unit signed for it (签收).
    Received,
    /// The unit started a draft report (shown to the unit itself only).
    ReportDrafted,
    /// A report was sent for the first time.
    Submitted,
    /// A returned report was sent again.
    Resubmitted,
    /// The office returned a report, with its reason.
    Returned,
    /// The office accepted a report.
    Accepted,
    /// The office reminded, urged or supervised (提醒 / 催办 / 督办).
    Urged,
    /// The unit acknowledged an urge.
    Acknowledged,
    /// The unit replied to an urge.
    Replied,
    /// The unit asked for a later due date (延期申请).
    ExtensionRequested,
    /// The office granted it.
    ExtensionApproved,
    /// The office refused it.
    ExtensionRejected,
    /// The unit disputed the assignment (异议): not its responsibility, or the wrong role.
    Disputed,
    /// The office resolved the dispute (withdrawn, moved, role changed, or rejected).
    DisputeResolved,
    /// The assignment moved to another unit (its reports stay with the unit that wrote them).
    HolderChanged,
    /// The assignment's role changed (lead ↔ participant).
    RoleChanged,
    /// The due date (or cycle) changed.
    DueDateChanged,
}

/// One event, as the timeline orders it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<T> {
    /// When.
    pub at: NaiveDateTime,
    /// What.
    pub kind: EventKind,
    /// The rest (who, which unit, the details).
    pub data: T,
}

/// Puts events in time order; events at the same instant in the order of their kinds (a
/// request before its approval, a report's sending before its review).
pub fn in_order<T>(events: &mut [Event<T>]) {
    events.sort_by(|a, b| a.at.cmp(&b.at).then(a.kind.cmp(&b.kind)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2019, 12, 1)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn events_follow_time_then_the_order_of_their_kinds() {
        let mut e = vec![
            Event {
                at: t(10),
                kind: EventKind::ExtensionApproved,
                data: 3,
            },
            Event {
                at: t(9),
                kind: EventKind::Received,
                data: 2,
            },
            Event {
                at: t(10),
                kind: EventKind::ExtensionRequested,
                data: 4,
            },
            Event {
                at: t(8),
                kind: EventKind::Assigned,
                data: 1,
            },
        ];
        in_order(&mut e);
        let order: Vec<i32> = e.iter().map(|e| e.data).collect();
        assert_eq!(order, vec![1, 2, 4, 3]);
    }
}
