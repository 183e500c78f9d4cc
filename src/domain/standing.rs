//! The standing of an assignment (办理情况): the few facts that decide its state, whether and
//! since when it is overdue, how severe that is, its traffic light and every figure counted
//! from it. The facts are recomputed from the assignment's reports by [`Standing::compute`]
//! whenever something that alters them happens, and kept beside the data in the same
//! transaction, each version with the time from which it held; every view reads them.
//!
//! **Only sent work counts.** A draft, or the unsent edit of a returned report, changes nothing
//! here: what the office, the lead unit and the statistics see is what the unit sent.
//!
//! **Done** (completed or not applicable, 不涉及): some sent (submitted, resubmitted or accepted)
//! report says so; a returned report counts as not done. **Done since**: when that began.
//!
//! **Deadline**: the first day after which, if nothing more is sent, the assignment is late —
//! its due date, or, for monthly, quarterly and half-yearly cycles, the end of the first
//! reporting period (from the one the assignment was made in, or after the latest period sent)
//! that ends before the due date and has no sent report. None once done. Because it depends on
//! the facts only, never on the day asked about, it is stored; **overdue as of a day D** is
//! `deadline < D`, and nothing else decides it. **Days overdue** and **days late** are working
//! days ([`crate::domain::calendar`]): those after the deadline (or the due date, for work done
//! late) up to and including D (or the day it was done).

use crate::domain::assignment::{AssignmentState, Cycle};
use crate::domain::calendar::Calendar;
use crate::domain::desk::{traffic_light, working_days_overdue, Light, Severity};
use crate::domain::ids::ReportId;
use crate::domain::report::{ReportStatus, Workflow};
use chrono::{NaiveDate, NaiveDateTime};

/// What a report contributes to its assignment's standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFact {
    /// The report.
    pub id: ReportId,
    /// Its period label (`2019`, `2019-11`, …).
    pub period: String,
    /// Its status as last sent (while sent, the report's own status).
    pub status: ReportStatus,
    /// Where it is in review.
    pub workflow: Workflow,
    /// When it was last sent.
    pub submitted_at: Option<NaiveDateTime>,
    /// The share of the work it reports done, in percent, if it says.
    pub progress: Option<i32>,
}

/// The terms of an assignment that the standing depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// How often the unit reports.
    pub cycle: Cycle,
    /// When it is due.
    pub due_date: NaiveDate,
    /// The day it was made (the first reporting period is the one containing it).
    pub assigned_on: NaiveDate,
    /// Its unit has signed for it (签收).
    pub received: bool,
}

/// The standing of one assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The due date in force.
    pub due_date: NaiveDate,
    /// The first day after which it is late; `None` once done.
    pub deadline: Option<NaiveDate>,
    /// `Completed` or `NotApplicable` once a sent report says so.
    pub done: Option<ReportStatus>,
    /// Since when it has been done.
    pub done_at: Option<NaiveDateTime>,
    /// The latest period with a sent report (within the current cycle's labels).
    pub last_sent_period: Option<String>,
    /// The most recently sent report that still stands (not returned).
    pub sent_report_id: Option<ReportId>,
    /// Its status.
    pub sent_status: Option<ReportStatus>,
    /// Where it is in review (submitted, resubmitted or accepted).
    pub sent_workflow: Option<Workflow>,
    /// When it was sent.
    pub sent_at: Option<NaiveDateTime>,
    /// A report was returned and not yet sent again.
    pub returned: bool,
    /// Urges (提醒 / 催办 / 督办) issued about it so far.
    pub urges: i32,
    /// The state whatever the day: not started, in progress, completed or not applicable;
    /// as of a day it is overdue instead when its deadline has passed ([`Standing::state`]).
    pub phase: AssignmentState,
    /// For work done after its due date, the days between the two.
    pub done_late_days: Option<i32>,
    /// Its unit has signed for it (签收).
    pub received: bool,
    /// The percent done the latest sent report that stands gives, if any.
    pub sent_progress: Option<i32>,
    /// The first day it is behind its time-proportional share (序时进度,
    /// [`crate::domain::progress`]); `None` once done, or never on these facts.
    pub behind_since: Option<NaiveDate>,
}

impl Standing {
    /// The standing of a new assignment: nothing sent.
    pub fn initial(terms: Terms) -> Standing {
        Standing::compute(
            terms,
            &[],
            0,
            None,
            NaiveDateTime::MIN,
            &Calendar::default(),
        )
    }

    /// Recomputes the standing from the assignment's reports and urge count at time `at`;
    /// `previous` carries "done since" across a recomputation that leaves it done. `cal` must
    /// hold the calendar from the due date to `at` (what counts the working days of work done
    /// late; see [`Standing::calendar_span`]).
    pub fn compute(
        terms: Terms,
        reports: &[ReportFact],
        urges: i32,
        previous: Option<&Standing>,
        at: NaiveDateTime,
        cal: &Calendar,
    ) -> Standing {
        let sent: Vec<&ReportFact> = reports
            .iter()
            .filter(|r| r.workflow.counts_as_reported())
            .collect();
        let done = if sent.iter().any(|r| r.status == ReportStatus::Completed) {
            Some(ReportStatus::Completed)
        } else if sent.iter().any(|r| r.status == ReportStatus::NotApplicable) {
            Some(ReportStatus::NotApplicable)
        } else {
            None
        };
        let done_at = match (done, previous) {
            (None, _) => None,
            (Some(_), Some(p)) if p.done.is_some() => p.done_at,
            (Some(_), Some(_)) => Some(at),
            // Computed for the first time: the earliest sent report that settled it.
            (Some(_), None) => sent
                .iter()
                .filter(|r| {
                    r.status == ReportStatus::Completed || r.status == ReportStatus::NotApplicable
                })
                .filter_map(|r| r.submitted_at)
                .min()
                .or(Some(at)),
        };
        let last_sent_period = sent
            .iter()
            .filter(|r| terms.cycle.accepts(&r.period))
            .map(|r| r.period.clone())
            .max();
        let latest = sent
            .iter()
            .max_by_key(|r| (r.submitted_at, r.id.0))
            .copied();
        let deadline = match done {
            Some(_) => None,
            None => Some(deadline(terms, last_sent_period.as_deref())),
        };
        let returned = reports.iter().any(|r| r.workflow == Workflow::Returned);
        let sent_status = latest.map(|r| r.status);
        let phase = match done {
            Some(ReportStatus::NotApplicable) => AssignmentState::NotApplicable,
            Some(_) => AssignmentState::Completed,
            None if returned => AssignmentState::InProgress,
            None => match sent_status {
                None | Some(ReportStatus::NotStarted) => AssignmentState::NotStarted,
                Some(_) => AssignmentState::InProgress,
            },
        };
        let done_late_days = done_at.and_then(|t| days_done_late(terms.due_date, t.date(), cal));
        let sent_progress = latest.and_then(|r| r.progress);
        let behind_since = match done {
            Some(_) => None,
            None => crate::domain::progress::behind_since(
                terms.cycle,
                terms.assigned_on,
                terms.due_date,
                sent_progress,
            ),
        };
        Standing {
            sent_progress,
            behind_since,
            due_date: terms.due_date,
            deadline,
            done,
            done_at,
            last_sent_period,
            sent_report_id: latest.map(|r| r.id),
            sent_status,
            sent_workflow: latest.map(|r| r.workflow),
            sent_at: latest.and_then(|r| r.submitted_at),
            returned,
            urges,
            phase,
            done_late_days,
            received: terms.received,
        }
    }

    /// The days of the calendar [`Standing::compute`] needs for `terms` at time `at`: from the
    /// due date to `at` (none when `at` is not after the due date: nothing can be late).
    pub fn calendar_span(terms: Terms, at: NaiveDateTime) -> (NaiveDate, NaiveDate) {
        (terms.due_date, at.date())
    }

    /// Overdue as of `day`.
    pub fn is_overdue(&self, day: NaiveDate) -> bool {
        self.deadline.is_some_and(|d| d < day)
    }

    /// Working days overdue as of `day`, when overdue.
    pub fn days_overdue(&self, day: NaiveDate, cal: &Calendar) -> Option<i64> {
        self.deadline
            .filter(|d| *d < day)
            .map(|d| working_days_overdue(d, day, cal))
    }

    /// How hard the office chases it as of `day`, when overdue.
    pub fn severity(&self, day: NaiveDate, cal: &Calendar) -> Option<Severity> {
        self.days_overdue(day, cal).map(Severity::for_days_overdue)
    }

    /// The state as of `day` ([`state_on`]).
    pub fn state(&self, day: NaiveDate) -> AssignmentState {
        state_on(self.phase, self.deadline, day)
    }

    /// The traffic light as of `day`.
    pub fn light(&self, day: NaiveDate) -> Light {
        let behind = crate::domain::progress::is_behind(self.behind_since, day);
        traffic_light(self.state(day), self.due_date, day, self.returned || behind)
    }

    /// Done by its due date.
    pub fn on_time(&self) -> bool {
        self.done.is_some() && self.done_late_days.is_none()
    }

    /// Days late: for work done late, from the due date to the day it was done; for overdue
    /// work, the days overdue as of `day`.
    pub fn days_late(&self, day: NaiveDate, cal: &Calendar) -> Option<i64> {
        self.done_late_days
            .map(i64::from)
            .or_else(|| self.days_overdue(day, cal))
    }
}

/// Working days late of work due on `due` and done on `done_on`; `None` when done by the due
/// date (done on a day off after it is late by 0).
pub fn days_done_late(due: NaiveDate, done_on: NaiveDate, cal: &Calendar) -> Option<i32> {
    (done_on > due)
        .then(|| i32::try_from(cal.working_days_between(due, done_on).max(0)).unwrap_or(i32::MAX))
}

/// The state as of `day` of an assignment in `phase` with this deadline: overdue once the
/// deadline has passed, else its phase.
pub fn state_on(
    phase: AssignmentState,
    deadline: Option<NaiveDate>,
    day: NaiveDate,
) -> AssignmentState {
    match deadline {
        Some(d) if d < day => AssignmentState::Overdue,
        _ => phase,
    }
}

/// The deadline of an assignment not yet done, given the latest period it sent a report for.
pub fn deadline(terms: Terms, last_sent_period: Option<&str>) -> NaiveDate {
    if !terms.cycle.is_periodic() {
        return terms.due_date;
    }
    let first = terms.cycle.period_of(terms.assigned_on);
    let next = match last_sent_period {
        Some(p) if p >= first.as_str() => terms.cycle.period_after(p),
        _ => Some(first),
    };
    match next.and_then(|p| terms.cycle.period_end(&p)) {
        Some(end) if end < terms.due_date => end,
        _ => terms.due_date,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::report::ReportStatus as S;
    use crate::domain::report::Workflow as W;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn t(y: i32, m: u32, day: u32) -> NaiveDateTime {
        d(y, m, day).and_hms_opt(9, 0, 0).unwrap()
    }

    fn fact(id: i64, period: &str, status: S, workflow: W, at: NaiveDateTime) -> ReportFact {
        ReportFact {
            id: ReportId(id),
            period: period.into(),
            status,
            workflow,
            submitted_at: Some(at),
            progress: None,
        }
    }

    /// A calendar of weekdays only.
    fn cal() -> Calendar {
        Calendar::default()
    }

    fn yearly() -> Terms {
        Terms {
            cycle: Cycle::Yearly,
            due_date: d(2019, 12, 31),
            assigned_on: d(2019, 3, 1),
            received: false,
        }
    }

    #[test]
    fn an_assignment_with_nothing_sent_is_late_after_its_due_date() {
        let s = Standing::initial(yearly());
        assert_eq!(s.state(d(2019, 12, 31)), AssignmentState::NotStarted);
        assert_eq!(s.state(d(2020, 1, 1)), AssignmentState::Overdue);
        // 1 to 15 January 2020 hold 11 weekdays (and no holiday on this calendar).
        assert_eq!(s.days_overdue(d(2020, 1, 15), &cal()), Some(11));
        assert_eq!(s.severity(d(2020, 1, 15), &cal()), Some(Severity::Urge));
        assert_eq!(s.severity(d(2020, 1, 9), &cal()), Some(Severity::Reminder));
    }

    #[test]
    fn a_draft_changes_nothing_and_a_sent_completion_settles_it() {
        let draft = fact(1, "2019", S::Completed, W::Draft, t(2019, 11, 1));
        let s = Standing::compute(yearly(), &[draft], 0, None, t(2019, 11, 1), &cal());
        assert_eq!(s, Standing::initial(yearly()));
        let sent = fact(1, "2019", S::Completed, W::Submitted, t(2019, 11, 26));
        let s = Standing::compute(yearly(), &[sent], 0, None, t(2019, 11, 26), &cal());
        assert_eq!(s.state(d(2020, 6, 1)), AssignmentState::Completed);
        assert_eq!(s.done_at, Some(t(2019, 11, 26)));
        assert!(s.on_time());
    }

    #[test]
    fn an_accepted_completion_stays_done_whatever_a_later_draft_says() {
        let accepted = fact(1, "2019", S::Completed, W::Accepted, t(2019, 11, 26));
        let later = fact(2, "2020", S::InProgress, W::Draft, t(2020, 2, 1));
        let s = Standing::compute(yearly(), &[accepted, later], 0, None, t(2020, 2, 1), &cal());
        assert_eq!(s.state(d(2020, 3, 1)), AssignmentState::Completed);
    }

    #[test]
    fn a_returned_report_is_not_done_and_turns_the_light_yellow() {
        let returned = fact(1, "2019", S::Completed, W::Returned, t(2019, 11, 26));
        let s = Standing::compute(yearly(), &[returned], 0, None, t(2019, 11, 27), &cal());
        assert_eq!(s.done, None);
        assert_eq!(s.state(d(2019, 12, 1)), AssignmentState::InProgress);
        assert_eq!(s.light(d(2019, 12, 1)), Light::Yellow);
        assert_eq!(s.state(d(2020, 1, 1)), AssignmentState::Overdue);
    }

    #[test]
    fn done_since_survives_a_recomputation_that_leaves_it_done() {
        let first = fact(1, "2019", S::Completed, W::Submitted, t(2019, 11, 26));
        let s1 = Standing::compute(
            yearly(),
            std::slice::from_ref(&first),
            0,
            None,
            t(2019, 11, 26),
            &cal(),
        );
        let accepted = ReportFact {
            workflow: W::Accepted,
            ..first
        };
        let s2 = Standing::compute(yearly(), &[accepted], 1, Some(&s1), t(2020, 1, 20), &cal());
        assert_eq!(s2.done_at, Some(t(2019, 11, 26)));
        assert_eq!(s2.urges, 1);
    }

    #[test]
    fn a_monthly_assignment_is_late_from_the_end_of_the_first_month_not_reported() {
        let terms = Terms {
            cycle: Cycle::Monthly,
            due_date: d(2019, 12, 31),
            assigned_on: d(2019, 3, 10),
            received: false,
        };
        assert_eq!(deadline(terms, None), d(2019, 3, 31));
        assert_eq!(deadline(terms, Some("2019-10")), d(2019, 11, 30));
        assert_eq!(deadline(terms, Some("2019-11")), d(2019, 12, 31));
        assert_eq!(deadline(terms, Some("2019-12")), d(2019, 12, 31));
        let sent = fact(1, "2019-10", S::InProgress, W::Submitted, t(2019, 11, 2));
        let s = Standing::compute(terms, &[sent], 0, None, t(2019, 11, 2), &cal());
        assert!(!s.is_overdue(d(2019, 11, 30)));
        // Sunday 1 to Sunday 15 December 2019: two weeks of weekdays.
        assert_eq!(s.days_overdue(d(2019, 12, 15), &cal()), Some(10));
    }

    #[test]
    fn periods_of_another_cycle_do_not_count_as_the_latest_period() {
        let terms = Terms {
            cycle: Cycle::Quarterly,
            due_date: d(2019, 12, 31),
            assigned_on: d(2019, 1, 1),
            received: false,
        };
        let yearly_report = fact(1, "2019", S::InProgress, W::Submitted, t(2019, 5, 1));
        let s = Standing::compute(terms, &[yearly_report], 0, None, t(2019, 5, 1), &cal());
        assert_eq!(s.last_sent_period, None);
        assert_eq!(s.deadline, Some(d(2019, 3, 31)));
    }
}
