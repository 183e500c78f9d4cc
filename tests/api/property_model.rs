//! The model the property test compares every view with: an assignment's recorded history
//! and what it says on a day, recomputed from the events alone (no standing).

use chrono::{Datelike, NaiveDate, NaiveDateTime, Weekday};
use duban::domain::assignment::{AssignmentState, Cycle};
use duban::domain::calendar::DayKind;
use duban::domain::ids::{AssignmentId, ReportId};
use duban::domain::report::ReportStatus;
use std::collections::HashMap;

/// What happened, as the model sees it.
#[derive(Debug, Clone)]
pub enum Event {
    Sent {
        report: ReportId,
        period: String,
        status: ReportStatus,
        text: String,
    },
    Returned(ReportId),
    Accepted(ReportId),
    Due(NaiveDate),
    Urged,
}

/// One assignment of the case and its recorded history.
pub struct Tracked {
    pub id: AssignmentId,
    pub cycle: Cycle,
    pub first_due: NaiveDate,
    pub created: NaiveDateTime,
    /// Reports in creation order, with their working text and status.
    pub reports: Vec<(ReportId, String, ReportStatus)>,
    pub events: Vec<(NaiveDateTime, Event)>,
}

/// What the history says about an assignment at the end of a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub state: AssignmentState,
    pub deadline: Option<NaiveDate>,
    pub reported: bool,
    pub returned: bool,
    pub urges: i64,
    pub on_time: bool,
    pub days_late: Option<i64>,
    pub due_or_done: bool,
}

pub fn end_of(day: NaiveDate) -> NaiveDateTime {
    day.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap()
}

/// The working days after `from` up to and including `to`, one day at a time.
pub fn working_days(calendar: &HashMap<NaiveDate, DayKind>, from: NaiveDate, to: NaiveDate) -> i64 {
    let mut n = 0;
    let mut d = from;
    while d < to {
        d = d.succ_opt().unwrap();
        let working = match calendar.get(&d) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        };
        n += i64::from(working);
    }
    n
}

impl Tracked {
    /// What the history says on `day`, days late counted as working days on `calendar` (the
    /// listed days; any other day is a working day from Monday to Friday).
    pub fn expected(
        &self,
        day: NaiveDate,
        calendar: &HashMap<NaiveDate, DayKind>,
    ) -> Option<Expected> {
        let cut = end_of(day);
        if self.created >= cut {
            return None;
        }
        #[derive(Default, Clone)]
        struct R {
            sent: bool,
            returned: bool,
            status: Option<ReportStatus>,
            period: String,
            sent_at: Option<NaiveDateTime>,
        }
        let mut rs: HashMap<ReportId, R> = HashMap::new();
        let (mut due, mut urges) = (self.first_due, 0);
        let mut done_since: Option<NaiveDateTime> = None;
        let done_of = |rs: &HashMap<ReportId, R>| {
            let sent = rs.values().filter(|r| r.sent);
            let statuses: Vec<ReportStatus> = sent.filter_map(|r| r.status).collect();
            if statuses.contains(&ReportStatus::Completed) {
                Some(ReportStatus::Completed)
            } else if statuses.contains(&ReportStatus::NotApplicable) {
                Some(ReportStatus::NotApplicable)
            } else {
                None
            }
        };
        for (t, e) in self.events.iter().filter(|(t, _)| *t < cut) {
            let was_done = done_of(&rs).is_some();
            match e {
                Event::Sent {
                    report,
                    period,
                    status,
                    ..
                } => {
                    let r = rs.entry(*report).or_default();
                    r.sent = true;
                    r.returned = false;
                    r.status = Some(*status);
                    r.period = period.clone();
                    r.sent_at = Some(*t);
                }
                Event::Returned(report) => {
                    let r = rs.entry(*report).or_default();
                    r.sent = false;
                    r.returned = true;
                }
                Event::Accepted(_) => {}
                Event::Due(d) => due = *d,
                Event::Urged => urges += 1,
            }
            match (was_done, done_of(&rs).is_some()) {
                (false, true) => done_since = Some(*t),
                (true, false) => done_since = None,
                _ => {}
            }
        }
        let done = done_of(&rs);
        // The deadline: the due date, or for periodic cycles the end of the first period from
        // the one the assignment was made in that ends before the due date and that no sent
        // report covers (a sent report for a later period covers the earlier ones).
        let deadline = done.is_none().then(|| {
            let mut p = self.cycle.period_of(self.created.date());
            let mut first_missing = None;
            if self.cycle.is_periodic() {
                while let Some(end) = self.cycle.period_end(&p).filter(|e| *e < due) {
                    let covered = rs
                        .values()
                        .any(|r| r.sent && self.cycle.accepts(&r.period) && r.period >= p);
                    if !covered {
                        first_missing = Some(end);
                        break;
                    }
                    p = self.cycle.period_after(&p).unwrap();
                }
            }
            first_missing.unwrap_or(due)
        });
        let overdue = deadline.is_some_and(|d| d < day);
        let latest_sent = rs
            .iter()
            .filter(|(_, r)| r.sent)
            .max_by_key(|(id, r)| (r.sent_at, id.0))
            .map(|(_, r)| r.status);
        let returned = rs.values().any(|r| r.returned);
        let state = match done {
            Some(ReportStatus::NotApplicable) => AssignmentState::NotApplicable,
            Some(_) => AssignmentState::Completed,
            None if overdue => AssignmentState::Overdue,
            None if returned => AssignmentState::InProgress,
            None => match latest_sent.flatten() {
                None | Some(ReportStatus::NotStarted) => AssignmentState::NotStarted,
                Some(_) => AssignmentState::InProgress,
            },
        };
        let late_done = done_since
            .filter(|t| t.date() > due)
            .map(|t| working_days(calendar, due, t.date()));
        Some(Expected {
            state,
            deadline,
            reported: rs.values().any(|r| r.sent),
            returned,
            urges,
            on_time: done.is_some() && late_done.is_none(),
            days_late: late_done.or_else(|| {
                deadline
                    .filter(|d| *d < day)
                    .map(|d| working_days(calendar, d, day))
            }),
            due_or_done: done.is_some() || due < day,
        })
    }

    /// The text the office's summary shows for this assignment's measure: of the reports ever
    /// sent, the one the office last acted on or received, as last sent.
    pub fn expected_summary(&self) -> String {
        let mut last: HashMap<ReportId, (NaiveDateTime, String)> = HashMap::new();
        for (t, e) in &self.events {
            match e {
                Event::Sent { report, text, .. } => {
                    last.insert(*report, (*t, text.clone()));
                }
                Event::Returned(report) | Event::Accepted(report) => {
                    if let Some(x) = last.get_mut(report) {
                        x.0 = *t;
                    }
                }
                _ => {}
            }
        }
        last.into_values()
            .max_by_key(|(t, _)| *t)
            .map(|(_, text)| text)
            .unwrap_or_default()
    }
}
