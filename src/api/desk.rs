//! The coordinating office's desk: overdue and due-soon work, and each unit's inbox. The
//! figures are in [`super::stats`]. The rules (overdue, severity, traffic light) are documented
//! in [`crate::domain::desk`].

use super::extract::{total_of, Caller, Page, PageQuery, Query};
use super::views::{ReportView, UrgeView};
use crate::app::AppState;
use crate::domain::assignment::{AssignmentRole, AssignmentState, Cycle};
use crate::domain::calendar::Calendar;
use crate::domain::desk::{traffic_light, Light, Severity};
use crate::domain::ids::{AssignmentId, ItemId, PlanId, UnitId};
use crate::domain::plan::ItemLevel;
use crate::domain::progress::{expected_share, is_behind};
use crate::domain::report::{ReportStatus, Workflow};
use crate::domain::standing::state_on;
use crate::error::{ApiError, ApiResult};
use crate::service;
use crate::store::desk::{DeskFilter, DeskRow};
use actix_web::{get, web};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDate;
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
    /// Working days past the deadline, on the working-day calendar (negative: working days
    /// left, for due-soon items).
    #[schema(example = 15)]
    pub days_overdue: i64,
    /// For overdue items, by working days overdue: 提醒 (up to 7), 催办 (8–30), 督办 (over 30).
    pub severity: Option<Severity>,
    /// red: overdue; yellow: due within 7 days, returned, or behind its time-proportional
    /// share; green: otherwise.
    pub light: Light,
    /// The percent done the unit last sent (序时进度), if it gave one.
    #[schema(example = 50)]
    pub progress: Option<i32>,
    /// The share due by the day asked about, by reporting periods elapsed (monthly, quarterly
    /// and half-yearly work; `null` otherwise).
    #[schema(example = 75)]
    pub expected_progress: Option<i32>,
    /// Not overdue, but the percent sent is below the share due (turns the light yellow).
    pub behind: bool,
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
    /// Its assignments in published plans not yet signed for (签收), oldest first (up to 99).
    pub unreceived: Vec<AssignmentId>,
    /// Its webhook subscriptions disabled after their deliveries kept failing: fix the
    /// receiver, then resume them (`PATCH /webhooks/{id}` with `active: true`).
    pub disabled_webhooks: Vec<super::webhooks::WebhookView>,
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

fn item(r: DeskRow, as_of: NaiveDate, cal: &Calendar) -> DeskItem {
    let state = state_on(r.phase, Some(r.deadline), as_of);
    let overdue = state == AssignmentState::Overdue;
    let days = cal.working_days_between(r.deadline, as_of);
    let behind = !overdue && is_behind(r.behind_since, as_of);
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
        light: traffic_light(state, r.due_date, as_of, r.returned || behind),
        progress: r.sent_progress,
        expected_progress: expected_share(r.cycle, r.created_at.date(), r.due_date, as_of),
        behind,
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

fn desk_page(judged: service::desk::Judged, limit: i64) -> Page<DeskItem> {
    let service::desk::Judged { as_of, rows, cal } = judged;
    let more = rows.len() as i64 > limit;
    let items: Vec<DeskItem> = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| item(r, as_of, &cal))
        .collect();
    let next_cursor = if more {
        items
            .last()
            .map(|i| encode_key(i.deadline, i.assignment_id.0))
    } else {
        None
    };
    Page {
        items,
        next_cursor,
        total: None,
    }
}

/// With `count=true`: the rows over every page of a desk list, read through the same query.
fn desk_total(
    count: bool,
    mut page: impl FnMut(Option<(NaiveDate, i64)>, i64) -> ApiResult<service::desk::Judged>,
) -> ApiResult<Option<i64>> {
    total_of(count, |after, limit| {
        let rows = page(after, limit)?.rows;
        let n = rows.len().min(limit as usize);
        let next = if rows.len() as i64 > limit {
            rows.get(n - 1).map(|r| (r.deadline, r.assignment_id))
        } else {
            None
        };
        Ok((n, next))
    })
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
    let (Query(q), ctx) = (query, caller.ctx());
    let (limit, after) = page_args(&page.0)?;
    let f = DeskFilter {
        plan_id: q.plan,
        unit_id: q.unit,
        role: q.role,
        section: q.section,
        source: q.source,
    };
    let (as_of, severity) = (q.as_of, q.severity);
    let count = page.0.wants_count();
    let (judged, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = desk_total(count, |after, limit| {
                service::desk::overdue(c, &ctx, f.clone(), as_of, severity, (after, limit))
            })?;
            let judged = service::desk::overdue(c, &ctx, f, as_of, severity, (after, limit))?;
            Ok((judged, total))
        })
        .await?;
    Ok(web::Json(desk_page(judged, limit).with_total(total)))
}

fn parse_within(s: &str) -> ApiResult<u64> {
    let bad = || {
        ApiError::invalid(
            "within",
            "write it as 7d (days) or 2w (weeks), at most 366 days",
        )
    };
    let s = s.trim();
    let (n, per) = if let Some(n) = s.strip_suffix('d') {
        (n, 1)
    } else if let Some(n) = s.strip_suffix('w') {
        (n, 7)
    } else {
        return Err(bad());
    };
    let n: u64 = n.parse().map_err(|_| bad())?;
    let days = n.checked_mul(per).ok_or_else(bad)?;
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
    let (Query(q), ctx) = (query, caller.ctx());
    let (limit, after) = page_args(&page.0)?;
    let days = parse_within(q.within.as_deref().unwrap_or("7d"))?;
    let f = DeskFilter {
        plan_id: q.plan,
        unit_id: q.unit,
        role: q.role,
        section: q.section,
        source: q.source,
    };
    let as_of = q.as_of;
    let count = page.0.wants_count();
    let (judged, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = desk_total(count, |after, limit| {
                service::desk::due_soon(c, &ctx, f.clone(), as_of, days, (after, limit))
            })?;
            let judged = service::desk::due_soon(c, &ctx, f, as_of, days, (after, limit))?;
            Ok((judged, total))
        })
        .await?;
    Ok(web::Json(desk_page(judged, limit).with_total(total)))
}

/// What awaits a unit: overdue and soon-due assignments, returned reports, open urges.
#[utoipa::path(tag = "desk", params(InboxQuery), responses((status = 200, description = "The unit's inbox", body = Inbox)))]
#[get("/inbox")]
pub async fn get_inbox(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<InboxQuery>,
) -> ApiResult<web::Json<Inbox>> {
    let (Query(q), ctx) = (query, caller.ctx());
    let inbox = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::desk::inbox(c, &ctx, q.unit, q.as_of)
        })
        .await?;
    let as_of = inbox.as_of;
    Ok(web::Json(Inbox {
        unit_id: inbox.unit_id,
        overdue: inbox
            .overdue
            .into_iter()
            .map(|r| item(r, as_of, &inbox.cal))
            .collect(),
        due_soon: inbox
            .due_soon
            .into_iter()
            .map(|r| item(r, as_of, &inbox.cal))
            .collect(),
        returned_reports: inbox.returned.into_iter().map(ReportView::from).collect(),
        open_urges: inbox.open_urges.into_iter().map(UrgeView::from).collect(),
        unreceived: inbox.unreceived,
        disabled_webhooks: inbox
            .disabled_webhooks
            .into_iter()
            .map(super::webhooks::WebhookView::from)
            .collect(),
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
        assert!(parse_within("¯7Ú").is_err());
        assert!(parse_within("Ú").is_err());
        assert!(parse_within("99999999999999999999w").is_err());
        assert!(parse_within("3074457345618258603w").is_err());
        let d = NaiveDate::from_ymd_opt(2019, 12, 31).unwrap();
        assert_eq!(decode_key(&encode_key(d, 42)), Some((d, 42)));
        assert_eq!(decode_key("junk"), None);
    }
}
