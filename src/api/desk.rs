//! The coordinating office's desk: overdue and due-soon work, statistics, and each unit's inbox.
//! The rules (overdue, severity, traffic light) are documented in [`crate::domain::desk`].

use super::extract::{Caller, Page, PageQuery, Query};
use super::views::{ReportView, UrgeView};
use crate::app::AppState;
use crate::auth::policy;
use crate::domain::assignment::{AssignmentRole, AssignmentState, Cycle};
use crate::domain::desk::{traffic_light, Light, Severity};
use crate::domain::ids::{AssignmentId, ItemId, PlanId, UnitId};
use crate::domain::plan::ItemLevel;
use crate::domain::report::{ReportStatus, Workflow};
use crate::domain::standing::state_on;
use crate::error::{ApiError, ApiResult};
use crate::store::desk::{self, DeskFilter, DeskRow, Dimension, StatRow};
use crate::store::{reports, urges};
use actix_web::{get, web};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The measure an item is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeasureRef {
    /// The measure's id.
    pub id: ItemId,
    /// Its code, e.g. `1.2.1`.
    #[schema(example = "1.2.1")]
    pub code: String,
    /// Its text as written.
    #[schema(example = "（9）建立完善行政事业性收费和政府性基金清单制度。")]
    pub text: String,
}

/// The latest sent report on an assignment: never a draft.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastReport {
    /// Where it is in review.
    pub workflow: Workflow,
    /// What it says.
    pub status: ReportStatus,
}

/// An overdue or due-soon assignment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeskItem {
    /// The assignment.
    pub assignment_id: AssignmentId,
    /// Its plan.
    pub plan_id: PlanId,
    /// The measure.
    pub measure: MeasureRef,
    /// The unit.
    pub unit_id: UnitId,
    /// The unit's name.
    #[schema(example = "市财政局")]
    pub unit_name: String,
    /// lead or participant.
    pub role: AssignmentRole,
    /// The due date.
    pub due_date: NaiveDate,
    /// The reporting cycle.
    pub cycle: Cycle,
    /// The day it is counted overdue from: the due date, or the end of the reporting period
    /// whose report is missing.
    pub deadline: NaiveDate,
    /// Days past the deadline (negative: days left, for due-soon items).
    #[schema(example = 15)]
    pub days_overdue: i64,
    /// For overdue items: 提醒 (1–7 days), 催办 (8–30), 督办 (over 30).
    pub severity: Option<Severity>,
    /// red: overdue; yellow: due within 7 days or returned; green: otherwise.
    pub light: Light,
    /// Its state on the day asked about.
    pub state: AssignmentState,
    /// The latest sent report that stands (a returned one does not: see `returned`).
    pub last_report: Option<LastReport>,
    /// A report was returned and not yet sent again.
    pub returned: bool,
    /// Urges already sent about this assignment.
    pub urges_sent: i64,
}

/// Filters of the overdue list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverdueQuery {
    /// The day to judge by (default today).
    #[param(example = "2020-01-15")]
    pub as_of: Option<NaiveDate>,
    /// Only this plan.
    pub plan: Option<i64>,
    /// Only this section (its code, e.g. `2`).
    pub section: Option<String>,
    /// Only this unit (units always see only their own).
    pub unit: Option<i64>,
    /// Only leads or only participants.
    pub role: Option<AssignmentRole>,
    /// Only measures citing this 文号.
    pub source: Option<String>,
    /// Only this severity.
    pub severity: Option<Severity>,
}

/// Filters of the due-soon list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueSoonQuery {
    /// The window: `7d` (days) or `2w` (weeks), at most 366 days (default `7d`).
    #[param(example = "7d")]
    pub within: Option<String>,
    /// The day to count from (default today).
    pub as_of: Option<NaiveDate>,
    /// Only this plan.
    pub plan: Option<i64>,
    /// Only this section.
    pub section: Option<String>,
    /// Only this unit.
    pub unit: Option<i64>,
    /// Only leads or only participants.
    pub role: Option<AssignmentRole>,
    /// Only measures citing this 文号.
    pub source: Option<String>,
}

/// Filters of the statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Only this plan (default: every published plan).
    pub plan: Option<i64>,
    /// The day to judge by (default today).
    #[param(example = "2020-01-15")]
    pub as_of: Option<NaiveDate>,
}

/// Counts for one unit, section, plan or source document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatItem {
    /// The unit, section, plan or source id.
    pub id: i64,
    /// Its name (a unit's name, a section's title, a plan's title, a 文号).
    #[schema(example = "市司法局")]
    pub name: String,
    /// Assignments.
    pub assigned: i64,
    /// With a sent (submitted, resubmitted or accepted) report that stands.
    pub reported: i64,
    /// Nothing sent yet (or only "not started"), not overdue.
    pub not_started: i64,
    /// Sent work in progress, or returned to the unit, not overdue.
    pub in_progress: i64,
    /// Reported completed.
    pub completed: i64,
    /// Reported not applicable (不涉及).
    pub not_applicable: i64,
    /// Overdue by the documented rule (the same as `/overdue`). The five states add up to
    /// `assigned`, as the states in `/assignments` do.
    pub overdue: i64,
    /// With a report returned and not yet sent again.
    pub returned: i64,
    /// Urged at least once.
    pub urged: i64,
    /// Done by the due date, over those done or due (1.0 when nothing is due yet).
    #[schema(example = 0.85)]
    pub on_time_rate: f64,
    /// Average days late over those done late or still overdue (0 when none).
    #[schema(example = 12.5)]
    pub average_days_late: f64,
    /// Place by on-time rate, then fewest overdue (units only; 1 is best).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
}

/// Statistics per group.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    /// The day they were judged by.
    pub as_of: NaiveDate,
    /// One item per group.
    pub items: Vec<StatItem>,
}

/// Completions in one month.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthProgress {
    /// `YYYY-MM`.
    #[schema(example = "2019-11")]
    pub month: String,
    /// Assignments first reported done that month.
    pub done: i64,
    /// Done so far, cumulatively.
    pub cumulative: i64,
}

/// A plan's statistics with its progress by month.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanStats {
    /// The day they were judged by.
    pub as_of: NaiveDate,
    /// The plan's counts.
    pub totals: StatItem,
    /// Per section.
    pub sections: Vec<StatItem>,
    /// Completions by month.
    pub by_month: Vec<MonthProgress>,
}

/// What awaits a unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    /// The unit.
    pub unit_id: UnitId,
    /// Its overdue assignments, most overdue first (up to 100).
    pub overdue: Vec<DeskItem>,
    /// Its assignments due within 14 days (up to 100).
    pub due_soon: Vec<DeskItem>,
    /// Its reports the office returned, to edit and resubmit (as the caller may read them; empty
    /// for a department system without `reports:read`).
    pub returned_reports: Vec<ReportView>,
    /// Urges not yet replied to.
    pub open_urges: Vec<UrgeView>,
}

/// Whose inbox.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// The unit (the office only; a unit always gets its own).
    pub unit: Option<i64>,
    /// The day to judge by (default today).
    pub as_of: Option<NaiveDate>,
}

fn item(r: DeskRow, as_of: NaiveDate) -> DeskItem {
    let state = state_on(r.phase, Some(r.deadline), as_of);
    let overdue = state == AssignmentState::Overdue;
    let days = (as_of - r.deadline).num_days();
    let last_report = match (r.sent_workflow, r.sent_status) {
        (Some(workflow), Some(status)) => Some(LastReport { workflow, status }),
        _ => None,
    };
    DeskItem {
        assignment_id: AssignmentId(r.assignment_id),
        plan_id: PlanId(r.plan_id),
        measure: MeasureRef {
            id: ItemId(r.measure_id),
            code: r.measure_code,
            text: format!(
                "{}{}",
                ItemLevel::Measure.label(&r.measure_number),
                r.measure_title
            ),
        },
        unit_id: UnitId(r.unit_id),
        unit_name: r.unit_name,
        role: r.role,
        due_date: r.due_date,
        cycle: r.cycle,
        deadline: r.deadline,
        days_overdue: days,
        severity: overdue.then(|| Severity::for_days_overdue(days)),
        light: traffic_light(state, r.due_date, as_of, r.returned),
        state,
        last_report,
        returned: r.returned,
        urges_sent: i64::from(r.urges),
    }
}

fn encode_key(deadline: NaiveDate, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{deadline}/{id}"))
}

fn decode_key(c: &str) -> Option<(NaiveDate, i64)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    let (d, id) = raw.split_once('/')?;
    Some((d.parse().ok()?, id.parse().ok()?))
}

fn page_args(p: &PageQuery) -> ApiResult<(i64, Option<(NaiveDate, i64)>)> {
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 200"));
    }
    let after = match &p.cursor {
        None => None,
        Some(c) => Some(
            decode_key(c)
                .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this API issued"))?,
        ),
    };
    Ok((limit, after))
}

fn desk_page(rows: Vec<DeskRow>, limit: i64, as_of: NaiveDate) -> Page<DeskItem> {
    let more = rows.len() as i64 > limit;
    let items: Vec<DeskItem> = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| item(r, as_of))
        .collect();
    let next_cursor = if more {
        items
            .last()
            .map(|i| encode_key(i.deadline, i.assignment_id.0))
    } else {
        None
    };
    Page { items, next_cursor }
}

/// The unit filter a caller may use: the office any (or none), a unit only its own.
fn unit_filter(caller: &Caller, asked: Option<i64>) -> ApiResult<Option<i64>> {
    match (policy::assignment_scope(caller)?, asked) {
        (None, asked) => Ok(asked),
        (Some(own), None) => Ok(Some(own.0)),
        (Some(own), Some(u)) if u == own.0 => Ok(Some(u)),
        (Some(_), Some(_)) => Err(ApiError::Forbidden("a unit sees only its own work".into())),
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Overdue assignments, most overdue first (severity and light by the documented rule).
#[utoipa::path(
    tag = "desk",
    params(OverdueQuery, PageQuery),
    responses((status = 200, description = "One page of overdue assignments", body = Page<DeskItem>))
)]
#[get("/overdue")]
pub async fn list_overdue(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<OverdueQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<DeskItem>>> {
    let Query(q) = query;
    let unit = unit_filter(&caller, q.unit)?;
    let (limit, after) = page_args(&page.0)?;
    let as_of = q.as_of.unwrap_or_else(today);
    let range = match q.severity {
        None => (None, None),
        Some(s) => {
            let newest = as_of.checked_sub_days(Days::new(s.min_days() as u64));
            let oldest = match s {
                Severity::Reminder => as_of.checked_sub_days(Days::new(7)),
                Severity::Urge => as_of.checked_sub_days(Days::new(30)),
                Severity::Supervise => None,
            };
            (oldest, newest)
        }
    };
    let f = DeskFilter {
        plan_id: q.plan,
        unit_id: unit,
        role: q.role,
        section: q.section,
        source: q.source,
    };
    let rows = state
        .db
        .run(move |c| Ok(desk::overdue(c, as_of, today(), &f, range, after, limit)?))
        .await?;
    Ok(web::Json(desk_page(rows, limit, as_of)))
}

fn parse_within(s: &str) -> ApiResult<u64> {
    let bad = || {
        ApiError::invalid(
            "within",
            "write it as 7d (days) or 2w (weeks), at most 366 days",
        )
    };
    let (n, unit) = s.trim().split_at(s.trim().len().saturating_sub(1));
    let n: u64 = n.parse().map_err(|_| bad())?;
    let days = match unit {
        "d" => n,
        "w" => n * 7,
        _ => return Err(bad()),
    };
    if days > 366 {
        Err(bad())
    } else {
        Ok(days)
    }
}

/// Assignments not yet done and due within a window, soonest first.
#[utoipa::path(
    tag = "desk",
    params(DueSoonQuery, PageQuery),
    responses((status = 200, description = "One page of assignments due soon", body = Page<DeskItem>))
)]
#[get("/due-soon")]
pub async fn list_due_soon(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<DueSoonQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<DeskItem>>> {
    let Query(q) = query;
    let unit = unit_filter(&caller, q.unit)?;
    let (limit, after) = page_args(&page.0)?;
    let days = parse_within(q.within.as_deref().unwrap_or("7d"))?;
    let as_of = q.as_of.unwrap_or_else(today);
    let to = as_of.checked_add_days(Days::new(days)).unwrap_or(as_of);
    let f = DeskFilter {
        plan_id: q.plan,
        unit_id: unit,
        role: q.role,
        section: q.section,
        source: q.source,
    };
    let rows = state
        .db
        .run(move |c| Ok(desk::due_soon(c, as_of, to, today(), &f, after, limit)?))
        .await?;
    Ok(web::Json(desk_page(rows, limit, as_of)))
}

fn stat_item(r: StatRow) -> StatItem {
    let rate = if r.due_or_done == 0 {
        1.0
    } else {
        r.on_time as f64 / r.due_or_done as f64
    };
    let late = if r.late == 0 {
        0.0
    } else {
        r.days_late as f64 / r.late as f64
    };
    StatItem {
        id: r.key_id,
        name: r.key_name,
        assigned: r.assigned,
        reported: r.reported,
        not_started: r.not_started,
        in_progress: r.in_progress,
        completed: r.completed,
        not_applicable: r.not_applicable,
        overdue: r.overdue,
        returned: r.returned,
        urged: r.urged,
        on_time_rate: (rate * 10_000.0).round() / 10_000.0,
        average_days_late: (late * 100.0).round() / 100.0,
        rank: None,
    }
}

async fn stats(
    state: &AppState,
    caller: &Caller,
    dim: Dimension,
    q: StatsQuery,
) -> ApiResult<Stats> {
    let unit = unit_filter(caller, None)?;
    let as_of = q.as_of.unwrap_or_else(today);
    let f = DeskFilter {
        plan_id: q.plan,
        unit_id: unit,
        ..Default::default()
    };
    let rows = state
        .db
        .run(move |c| Ok(desk::stats(c, dim, as_of, today(), &f)?))
        .await?;
    let mut items: Vec<StatItem> = rows.into_iter().map(stat_item).collect();
    if dim == Dimension::Unit {
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&a, &b| {
            items[b]
                .on_time_rate
                .total_cmp(&items[a].on_time_rate)
                .then(items[a].overdue.cmp(&items[b].overdue))
                .then(items[a].id.cmp(&items[b].id))
        });
        for (place, i) in order.into_iter().enumerate() {
            items[i].rank = Some(place + 1);
        }
    }
    Ok(Stats { as_of, items })
}

/// Statistics per unit, with a ranking (units see only their own line).
#[utoipa::path(tag = "desk", params(StatsQuery), responses((status = 200, description = "One item per unit", body = Stats)))]
#[get("/stats/units")]
pub async fn stats_units(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<StatsQuery>,
) -> ApiResult<web::Json<Stats>> {
    Ok(web::Json(
        stats(&state, &caller, Dimension::Unit, query.0).await?,
    ))
}

/// Statistics per section of the plan(s).
#[utoipa::path(tag = "desk", params(StatsQuery), responses((status = 200, description = "One item per section", body = Stats)))]
#[get("/stats/sections")]
pub async fn stats_sections(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<StatsQuery>,
) -> ApiResult<web::Json<Stats>> {
    Ok(web::Json(
        stats(&state, &caller, Dimension::Section, query.0).await?,
    ))
}

/// Statistics per source document (an assignment counts for each document its measure cites).
#[utoipa::path(tag = "desk", params(StatsQuery), responses((status = 200, description = "One item per source document", body = Stats)))]
#[get("/stats/sources")]
pub async fn stats_sources(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<StatsQuery>,
) -> ApiResult<web::Json<Stats>> {
    Ok(web::Json(
        stats(&state, &caller, Dimension::Source, query.0).await?,
    ))
}

/// A plan's statistics: totals, per section, and completions by month.
#[utoipa::path(
    tag = "desk",
    params(("id" = i64, Path, description = "The plan's id"), ("as_of" = Option<NaiveDate>, Query, description = "The day to judge by (default today)")),
    responses((status = 200, description = "The plan's statistics", body = PlanStats), (status = 404, description = "No such published plan"))
)]
#[get("/stats/plans/{id}")]
pub async fn stats_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: Query<StatsQuery>,
) -> ApiResult<web::Json<PlanStats>> {
    let unit = unit_filter(&caller, None)?;
    let plan = id.into_inner();
    let as_of = query.0.as_of.unwrap_or_else(today);
    let f = DeskFilter {
        plan_id: Some(plan),
        unit_id: unit,
        ..Default::default()
    };
    let (totals, sections, months) = state
        .db
        .run(move |c| {
            let totals = desk::stats(c, Dimension::Plan, as_of, today(), &f)?;
            let sections = desk::stats(c, Dimension::Section, as_of, today(), &f)?;
            let months = desk::done_by_month(c, as_of, today(), &f)?;
            Ok((totals, sections, months))
        })
        .await?;
    let totals =
        totals.into_iter().next().map(stat_item).ok_or_else(|| {
            ApiError::NotFound(format!("no published plan {plan} with assignments"))
        })?;
    let mut cumulative = 0;
    let by_month = months
        .into_iter()
        .map(|m| {
            cumulative += m.done;
            MonthProgress {
                month: m.month,
                done: m.done,
                cumulative,
            }
        })
        .collect();
    Ok(web::Json(PlanStats {
        as_of,
        totals,
        sections: sections.into_iter().map(stat_item).collect(),
        by_month,
    }))
}

/// What awaits a unit: overdue and soon-due assignments, returned reports, open urges.
#[utoipa::path(tag = "desk", params(InboxQuery), responses((status = 200, description = "The unit's inbox", body = Inbox)))]
#[get("/inbox")]
pub async fn get_inbox(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<InboxQuery>,
) -> ApiResult<web::Json<Inbox>> {
    let Query(q) = query;
    let unit = unit_filter(&caller, q.unit)?
        .ok_or_else(|| ApiError::invalid("unit", "is required for the office"))?;
    let as_of = q.as_of.unwrap_or_else(today);
    let soon = as_of.checked_add_days(Days::new(14)).unwrap_or(as_of);
    let f = DeskFilter {
        unit_id: Some(unit),
        ..Default::default()
    };
    // Returned reports are report text: listed for callers who read reports.
    let reader = policy::report_reader(&caller).ok();
    let (overdue, due, returned, open) = state
        .db
        .run(move |c| {
            let overdue = desk::overdue(c, as_of, today(), &f, (None, None), None, 99)?;
            let due = desk::due_soon(c, as_of, soon, today(), &f, None, 99)?;
            let returned = match reader {
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
            let open = crate::service::urges::with_assignments(c, open_rows)?;
            Ok((overdue, due, returned, open))
        })
        .await?;
    Ok(web::Json(Inbox {
        unit_id: UnitId(unit),
        overdue: overdue.into_iter().map(|r| item(r, as_of)).collect(),
        due_soon: due.into_iter().map(|r| item(r, as_of)).collect(),
        returned_reports: returned.into_iter().map(ReportView::from).collect(),
        open_urges: open.into_iter().map(UrgeView::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_cursors_parse() {
        assert_eq!(parse_within("7d").unwrap(), 7);
        assert_eq!(parse_within("2w").unwrap(), 14);
        assert!(parse_within("7").is_err());
        assert!(parse_within("400d").is_err());
        let d = NaiveDate::from_ymd_opt(2019, 12, 31).unwrap();
        assert_eq!(decode_key(&encode_key(d, 42)), Some((d, 42)));
        assert_eq!(decode_key("junk"), None);
    }
}
