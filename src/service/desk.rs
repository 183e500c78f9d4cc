//! The coordinating office's desk: overdue and due-soon work, statistics, and each unit's inbox,
//! all read from the assignments' standing. The rules (overdue, severity, traffic light) are in
//! [`crate::domain::desk`]. A unit reads only its own work.

use super::Ctx;
use crate::auth::policy;
use crate::db::AnyConnection;
use crate::domain::calendar::Calendar;
use crate::domain::desk::Severity;
use crate::domain::ids::{PlanId, UnitId};
use crate::domain::report::Workflow;
use crate::error::{ApiError, ApiResult};
use crate::store::desk::{self, DeskFilter, DeskRow, Dimension, MonthRow, StatRow};
use crate::store::{self, reports, urges};
use chrono::{Days, NaiveDate};
use std::collections::HashMap;

/// A keyset cursor of the desk lists: the deadline and the assignment's id.
pub type Key = (NaiveDate, i64);

/// The filter with the unit the caller may ask for: the office any (or none), a unit its own.
fn scoped(ctx: &Ctx, mut f: DeskFilter) -> ApiResult<DeskFilter> {
    f.unit_id = policy::desk_unit(&ctx.principal, f.unit_id)?;
    Ok(f)
}

/// Desk rows as of a day, with the calendar that counts their working days overdue.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The day judged by.
    pub as_of: NaiveDate,
    /// The rows.
    pub rows: Vec<DeskRow>,
    /// The calendar over the rows' deadlines and `as_of`.
    pub cal: Calendar,
}

impl Judged {
    fn of(c: &mut AnyConnection, as_of: NaiveDate, rows: Vec<DeskRow>) -> ApiResult<Judged> {
        let cal = calendar_over(c, as_of, rows.iter().map(|r| r.deadline))?;
        Ok(Judged { as_of, rows, cal })
    }
}

/// The calendar's days between the earliest and the latest of `as_of` and `days`: what
/// counts the working days between any two of them.
fn calendar_over(
    c: &mut AnyConnection,
    as_of: NaiveDate,
    days: impl Iterator<Item = NaiveDate>,
) -> ApiResult<Calendar> {
    let (lo, hi) = days.fold((as_of, as_of), |(lo, hi), d| (lo.min(d), hi.max(d)));
    Ok(store::calendar::span(c, lo, hi)?)
}

/// Overdue assignments as of a day, most overdue first, of one severity if asked (working
/// days overdue, on the calendar).
pub fn overdue(
    c: &mut AnyConnection,
    ctx: &Ctx,
    f: DeskFilter,
    as_of: Option<NaiveDate>,
    severity: Option<Severity>,
    page: (Option<Key>, i64),
) -> ApiResult<Judged> {
    let f = scoped(ctx, f)?;
    let as_of = ctx.as_of(as_of)?;
    let range = match severity {
        None => (None, None),
        Some(s) => {
            // Up to the span's longest count back from `as_of`.
            let back = s.days_span().1.unwrap_or(s.days_span().0) + 1;
            let from = as_of
                .checked_sub_days(Days::new(u64::from(back) * 7))
                .unwrap_or(as_of);
            let cal = store::calendar::span(c, from, as_of)?;
            s.deadline_bounds(as_of, &cal)
        }
    };
    let (after, limit) = page;
    let rows = desk::overdue(c, as_of, ctx.today(), &f, range, after, limit)?;
    Judged::of(c, as_of, rows)
}

/// Assignments not yet done and due within `days` of a day, soonest first.
pub fn due_soon(
    c: &mut AnyConnection,
    ctx: &Ctx,
    f: DeskFilter,
    as_of: Option<NaiveDate>,
    days: u64,
    page: (Option<Key>, i64),
) -> ApiResult<Judged> {
    let f = scoped(ctx, f)?;
    let as_of = ctx.as_of(as_of)?;
    let to = as_of.checked_add_days(Days::new(days)).unwrap_or(as_of);
    let (after, limit) = page;
    let rows = desk::due_soon(c, as_of, to, ctx.today(), &f, after, limit)?;
    Judged::of(c, as_of, rows)
}

/// Figures per unit, section or source document as of a day (a unit sees only its own line).
#[derive(Debug, Clone)]
pub struct Figures {
    /// The day judged by.
    pub as_of: NaiveDate,
    /// One line per group.
    pub rows: Vec<StatRow>,
    /// Per unit (for the unit dimension only): its requests, disputes and, as a lead unit, its
    /// participants' answers, by then.
    pub per_unit: Option<HashMap<UnitId, UnitExtras>>,
}

/// What `/stats/units` adds to a unit's line beyond the standing's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitExtras {
    /// Extension requests (延期申请) made by then.
    pub extension_requests: i64,
    /// Of them, approved by then.
    pub extensions_approved: i64,
    /// Disputes (异议) raised by then.
    pub disputes: i64,
    /// Of them, resolved by then other than by rejection.
    pub disputes_upheld: i64,
    /// As a lead unit: participant assignments on the measures it leads.
    pub participant_assignments: i64,
    /// Of them, with a sent report standing by then (牵头单位汇总: answers in).
    pub participant_answers: i64,
    /// Its assignments behind their time-proportional share then (序时进度).
    pub behind: i64,
}

/// Requests, disputes and participants' answers per unit as of the end of `as_of`, of the
/// plan if given.
fn unit_extras(
    c: &mut AnyConnection,
    as_of: NaiveDate,
    today: NaiveDate,
    plan: Option<i64>,
) -> ApiResult<HashMap<UnitId, UnitExtras>> {
    let cut = crate::store::standing::end_of(as_of);
    let mut out: HashMap<UnitId, UnitExtras> = HashMap::new();
    let p = plan.map(PlanId);
    for (u, (asked, approved)) in crate::store::extensions::counts_by_unit(c, cut, p)? {
        let e = out.entry(u).or_default();
        (e.extension_requests, e.extensions_approved) = (asked, approved);
    }
    for (u, (raised, upheld)) in crate::store::disputes::counts_by_unit(c, cut, p)? {
        let e = out.entry(u).or_default();
        (e.disputes, e.disputes_upheld) = (raised, upheld);
    }
    for r in desk::behind_by_unit(c, as_of, today, plan)? {
        out.entry(UnitId(r.unit_id)).or_default().behind = r.behind;
    }
    for r in desk::participant_answers(c, as_of, today, plan, desk::StatSource::Best)? {
        let e = out.entry(UnitId(r.unit_id)).or_default();
        (e.participant_assignments, e.participant_answers) = (r.participants, r.answered);
    }
    Ok(out)
}

/// Figures per unit, section or source document as of a day (a unit sees only its own line).
pub fn stats(
    c: &mut AnyConnection,
    ctx: &Ctx,
    dim: Dimension,
    plan: Option<i64>,
    as_of: Option<NaiveDate>,
) -> ApiResult<Figures> {
    let f = scoped(
        ctx,
        DeskFilter {
            plan_id: plan,
            ..Default::default()
        },
    )?;
    let as_of = ctx.as_of(as_of)?;
    let rows = desk::stats(c, dim, as_of, ctx.today(), &f, desk::StatSource::Best)?;
    let per_unit = match dim {
        Dimension::Unit => Some(unit_extras(c, as_of, ctx.today(), plan)?),
        _ => None,
    };
    Ok(Figures {
        as_of,
        rows,
        per_unit,
    })
}

/// A plan's figures: totals, per section, and completions by month.
#[derive(Debug, Clone)]
pub struct PlanFigures {
    /// The day judged by.
    pub as_of: NaiveDate,
    /// The plan's line.
    pub totals: StatRow,
    /// One line per section.
    pub sections: Vec<StatRow>,
    /// Completions per month.
    pub months: Vec<MonthRow>,
}

/// A published plan's figures as of a day.
pub fn plan_stats(
    c: &mut AnyConnection,
    ctx: &Ctx,
    plan: i64,
    as_of: Option<NaiveDate>,
) -> ApiResult<PlanFigures> {
    let f = scoped(
        ctx,
        DeskFilter {
            plan_id: Some(plan),
            ..Default::default()
        },
    )?;
    let (as_of, today) = (ctx.as_of(as_of)?, ctx.today());
    let totals = desk::stats(c, Dimension::Plan, as_of, today, &f, desk::StatSource::Best)?;
    let sections = desk::stats(
        c,
        Dimension::Section,
        as_of,
        today,
        &f,
        desk::StatSource::Best,
    )?;
    let months = desk::done_by_month(c, as_of, today, &f)?;
    let totals = totals
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("no published plan {plan} with assignments")))?;
    Ok(PlanFigures {
        as_of,
        totals,
        sections,
        months,
    })
}

/// What awaits a unit.
#[derive(Debug, Clone)]
pub struct Inbox {
    /// The unit.
    pub unit_id: UnitId,
    /// The calendar that counts the working days of its lists.
    pub cal: Calendar,
    /// The day judged by.
    pub as_of: NaiveDate,
    /// Its overdue assignments, most overdue first.
    pub overdue: Vec<DeskRow>,
    /// Its assignments due within 14 days.
    pub due_soon: Vec<DeskRow>,
    /// Its reports returned by the office (for callers who read reports).
    pub returned: Vec<reports::Report>,
    /// Urges to it not yet replied to.
    pub open_urges: Vec<super::urges::Urge>,
    /// Its assignments in published plans not yet signed for (签收), oldest first.
    pub unreceived: Vec<crate::domain::ids::AssignmentId>,
    /// Its webhook subscriptions disabled after their deliveries kept failing.
    pub disabled_webhooks: Vec<crate::store::webhooks::Webhook>,
}

/// A unit's inbox: overdue and soon-due assignments, returned reports, open urges (up to 99 of
/// each). The office names the unit; a unit gets its own.
pub fn inbox(
    c: &mut AnyConnection,
    ctx: &Ctx,
    unit: Option<i64>,
    as_of: Option<NaiveDate>,
) -> ApiResult<Inbox> {
    let unit = policy::desk_unit(&ctx.principal, unit)?
        .ok_or_else(|| ApiError::invalid("unit", "is required for the office"))?;
    let as_of = ctx.as_of(as_of)?;
    let soon = as_of.checked_add_days(Days::new(14)).unwrap_or(as_of);
    let f = DeskFilter {
        unit_id: Some(unit),
        ..Default::default()
    };
    let today = ctx.today();
    let overdue = desk::overdue(c, as_of, today, &f, (None, None), None, 99)?;
    let due_soon = desk::due_soon(c, as_of, soon, today, &f, None, 99)?;
    let cal = calendar_over(
        c,
        as_of,
        overdue.iter().chain(due_soon.iter()).map(|r| r.deadline),
    )?;
    // Returned reports are report text: listed for callers who read reports.
    let returned = match policy::report_reader(&ctx.principal).ok() {
        Some(reader) => {
            let mut rf = reports::ReportFilter::for_reader(reader);
            rf.unit_id = Some(UnitId(unit));
            rf.workflow = Some(Workflow::Returned);
            reports::list(c, &rf, None, 99)?
        }
        None => Vec::new(),
    };
    let uf = urges::UrgeFilter {
        unit_id: Some(UnitId(unit)),
        open: Some(true),
        ..Default::default()
    };
    let open_rows = urges::list(c, &uf, None, 99)?;
    let waiting = crate::store::assignments::AssignmentFilter {
        unit_id: Some(UnitId(unit)),
        received: Some(false),
        plan_states: Some(vec![crate::domain::plan::PlanState::Published]),
        ..Default::default()
    };
    let unreceived = crate::store::assignments::list(c, &waiting, None, 99)?
        .into_iter()
        .map(|a| a.id)
        .collect();
    let disabled_webhooks = crate::store::webhooks::list(
        c,
        crate::store::webhooks::Owner::Unit(UnitId(unit)),
        None,
        200,
    )?
    .into_iter()
    .filter(|w| w.disabled_at.is_some())
    .collect();
    Ok(Inbox {
        cal,
        unreceived,
        disabled_webhooks,
        unit_id: UnitId(unit),
        as_of,
        overdue,
        due_soon,
        returned,
        open_urges: super::urges::with_assignments(c, open_rows)?,
    })
}
