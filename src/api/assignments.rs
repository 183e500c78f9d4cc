//! Assignments (`/assignments`): measures given to lead and participating units, with due dates
//! and reporting cycles; bulk assignment to units and groups.

use super::extract::{
    total_of_pages, Caller, CallerToken, CountQuery, Json, Page, PageQuery, Query,
};
use crate::app::AppState;
use crate::domain::assignment::{AssignmentRole, AssignmentState, Cycle};
use crate::domain::calendar::DueAnchor;
use crate::domain::ids::{AssignmentId, GroupId, ItemId, PlanId, ReportId, UnitId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::service::{self, assignments::Assign, assignments::Assigned};
use crate::store::assignments::AssignmentFilter;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An assignment and where it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentView {
    /// The assignment's id.
    pub id: AssignmentId,
    /// Its plan.
    pub plan_id: PlanId,
    /// The measure.
    pub measure_id: ItemId,
    /// The unit.
    pub unit_id: UnitId,
    /// lead (牵头单位) or participant (参加单位).
    pub role: AssignmentRole,
    /// The group it was expanded from, if any.
    pub via_group_id: Option<GroupId>,
    /// When it is due.
    #[schema(example = "2019-12-31")]
    pub due_date: NaiveDate,
    /// When the due date was given in working days: how many (`null` for a date given as
    /// such). The due date is then counted on the working-day calendar, again when the
    /// calendar changes.
    #[schema(example = json!(null))]
    pub due_working_days: Option<u32>,
    /// What those working days count from: `assignment` or `publication` (`null` with
    /// `due_working_days`).
    #[schema(example = json!(null))]
    pub due_counted_from: Option<DueAnchor>,
    /// How often the unit reports.
    pub cycle: Cycle,
    /// Derived: not_started, in_progress, completed, not_applicable or overdue.
    pub state: AssignmentState,
    /// The unit's latest report on it, if any.
    pub latest_report_id: Option<ReportId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its unit signed for it (签收); `null` until then.
    pub received_at: Option<DateTime<Utc>>,
    /// Who signed for it.
    pub received_by: Option<UserId>,
}

/// Filters of the assignment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssignmentQuery {
    /// Only this plan's.
    pub plan_id: Option<i64>,
    /// Only this measure's (a lead unit sees all of a measure it leads).
    pub measure_id: Option<i64>,
    /// Only this unit's (units always see their own only).
    pub unit_id: Option<i64>,
    /// Only leads or only participants.
    pub role: Option<AssignmentRole>,
    /// `false`: only those the unit has not signed for (签收) yet; `true`: only signed ones.
    pub received: Option<bool>,
}

/// Units and groups for one role.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignees {
    /// Units by id.
    #[serde(default)]
    pub unit_ids: Vec<UnitId>,
    /// Groups by id, each expanded to its active members.
    #[serde(default)]
    pub group_ids: Vec<GroupId>,
}

/// Assign a measure to units and groups in one go.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The lead units (牵头单位).
    #[serde(default)]
    pub lead: Assignees,
    /// The participating units (参加单位); a unit that is also a lead is assigned as lead only.
    #[serde(default)]
    pub participants: Assignees,
    /// Due date (default: 31 December of the plan's year). Give this or
    /// `due_working_days`, not both.
    #[schema(example = "2020-06-30")]
    pub due_date: Option<NaiveDate>,
    /// Due within this many working days (1 to 3650; N个工作日内), counted on the
    /// working-day calendar from `due_counted_from`.
    #[schema(example = json!(null))]
    pub due_working_days: Option<u32>,
    /// What `due_working_days` count from: `assignment` (the default: today) or
    /// `publication` (the plan's publication; while it is a draft, today, counted again when
    /// it is published).
    #[schema(example = json!(null))]
    pub due_counted_from: Option<DueAnchor>,
    /// Reporting cycle (default: yearly).
    pub cycle: Option<Cycle>,
}

/// What a bulk assignment did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignResult {
    /// The assignments made.
    pub created: Vec<AssignmentView>,
    /// Units skipped because they were already assigned to the measure.
    pub already_assigned: Vec<UnitId>,
}

/// A new due date or cycle.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reschedule {
    /// The new due date. Give this or `due_working_days`, not both; neither keeps the due
    /// date as it is.
    #[schema(example = "2020-03-31")]
    pub due_date: Option<NaiveDate>,
    /// The new due date as working days (1 to 3650) from `due_counted_from`.
    #[schema(example = json!(null))]
    pub due_working_days: Option<u32>,
    /// What `due_working_days` count from: `assignment` (the day the assignment was made;
    /// the default) or `publication`.
    #[schema(example = json!(null))]
    pub due_counted_from: Option<DueAnchor>,
    /// The new cycle.
    pub cycle: Option<Cycle>,
}

/// A due-date change for many assignments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkReschedule {
    /// The assignments (1 to 1000).
    #[schema(example = json!([101, 102, 103]))]
    pub assignment_ids: Vec<AssignmentId>,
    /// The new due date. Give this or `due_working_days`.
    #[schema(example = "2020-03-31")]
    pub due_date: Option<NaiveDate>,
    /// The new due date as working days (1 to 3650) from `due_counted_from`, counted for
    /// each assignment.
    #[schema(example = json!(null))]
    pub due_working_days: Option<u32>,
    /// What `due_working_days` count from: `assignment` (the default) or `publication`.
    #[schema(example = json!(null))]
    pub due_counted_from: Option<DueAnchor>,
    /// A new cycle, if it changes too.
    pub cycle: Option<Cycle>,
}

/// How many assignments changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Updated {
    /// The count.
    pub updated: usize,
}

impl From<Assigned> for AssignmentView {
    fn from(x: Assigned) -> Self {
        let a = x.row;
        AssignmentView {
            id: a.id,
            plan_id: a.plan_id,
            measure_id: a.measure_id,
            unit_id: a.unit_id,
            role: a.role,
            via_group_id: a.via_group_id,
            due_date: a.due_date,
            due_working_days: a.working_days_due().map(|w| w.days),
            due_counted_from: a.working_days_due().map(|w| w.from),
            cycle: a.cycle,
            state: x.state,
            latest_report_id: x.latest_report_id,
            created_at: a.created_at.and_utc(),
            received_at: a.received_at.map(|t| t.and_utc()),
            received_by: a.received_by,
        }
    }
}

impl From<Assignees> for service::assignments::Assignees {
    fn from(a: Assignees) -> Self {
        service::assignments::Assignees {
            unit_ids: a.unit_ids,
            group_ids: a.group_ids,
        }
    }
}

/// List assignments with their derived state (units see their own, and all of the measures they lead).
#[utoipa::path(
    tag = "assignments",
    params(AssignmentQuery, PageQuery),
    responses((status = 200, description = "One page of assignments", body = Page<AssignmentView>))
)]
#[get("/assignments")]
pub async fn list_assignments(
    state: web::Data<AppState>,
    caller: CallerToken,
    query: Query<AssignmentQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<AssignmentView>>> {
    let (limit, after) = page.0.parse()?;
    let Query(q) = query;
    let f = AssignmentFilter {
        plan_id: q.plan_id.map(PlanId),
        measure_id: q.measure_id.map(ItemId),
        unit_id: q.unit_id.map(UnitId),
        role: q.role,
        received: q.received,
        ..Default::default()
    };
    let count = page.0.wants_count();
    let (page, total) = state
        .db
        .read(caller.user_id(), move |c| {
            let ctx = caller.ctx(c)?;
            let total = total_of_pages(count, |after, limit| {
                service::assignments::list(c, &ctx, f.clone(), after, limit)
            })?;
            Ok((service::assignments::list(c, &ctx, f, after, limit)?, total))
        })
        .await?;
    Ok(web::Json(
        Page::map(page, AssignmentView::from).with_total(total),
    ))
}

/// Read one assignment with its derived state.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The assignment's id")),
    responses((status = 200, description = "The assignment", body = AssignmentView), (status = 404, description = "No such assignment, or not one the caller may see"))
)]
#[get("/assignments/{id}")]
pub async fn get_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<AssignmentView>> {
    let (id, ctx) = (AssignmentId(id.into_inner()), caller.ctx());
    let a = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::assignments::get(c, &ctx, id)
        })
        .await?;
    Ok(web::Json(a.into()))
}

/// One event of an assignment's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineItem {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: crate::domain::timeline::EventKind,
    /// The account that acted (`null`: the system, or history loaded without one).
    pub actor_id: Option<UserId>,
    /// The unit the event concerns: the assignment's, or for a report the unit that wrote it.
    pub unit_id: Option<UnitId>,
    /// The event's details: ids, dates, the office's reasons (never a report's text).
    #[schema(value_type = Object, example = json!({"report_id": 12, "period": "2019", "revision": 1, "status": "completed"}))]
    pub detail: serde_json::Value,
}

/// An assignment's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    /// Oldest first.
    pub items: Vec<TimelineItem>,
    /// Always `null`: the whole list fits in one answer (the shape of every list).
    #[schema(value_type = Option<String>, example = json!(null))]
    pub next_cursor: Option<String>,
    /// With `count=true` only: the number of items.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 3, nullable = false)]
    pub total: Option<i64>,
}

/// An assignment's timeline (办理记录), oldest first: assigned, signed for, reports drafted (to
/// its own unit only), sent, returned and accepted, urges and their answers, extension requests
/// and decisions, disputes and resolutions, changes of due date, holder and role — each as the
/// caller may read its source.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The assignment's id"), CountQuery),
    responses(
        (status = 200, description = "The timeline", body = Timeline),
        (status = 404, description = "No such assignment, or not one the caller may see"),
    )
)]
#[get("/assignments/{id}/timeline")]
pub async fn get_assignment_timeline(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    count: Query<CountQuery>,
) -> ApiResult<web::Json<Timeline>> {
    let (id, ctx) = (AssignmentId(id.into_inner()), caller.ctx());
    let events = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::timeline::of_assignment(c, &ctx, id)
        })
        .await?;
    let items: Vec<TimelineItem> = events
        .into_iter()
        .map(|e| TimelineItem {
            at: e.at.and_utc(),
            kind: e.kind,
            actor_id: e.data.actor_id,
            unit_id: e.data.unit_id,
            detail: e.data.detail,
        })
        .collect();
    Ok(web::Json(Timeline {
        total: count.0.wants_count().then_some(items.len() as i64),
        items,
        next_cursor: None,
    }))
}

/// Sign for an assignment (签收): its unit's people, or its system with `assignments:respond`,
/// once the plan is published. Signing again changes nothing: the first signature stands.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The assignment's id")),
    responses(
        (status = 200, description = "The assignment, signed for", body = AssignmentView),
        (status = 404, description = "No such assignment, or not one the caller may see"),
        (status = 409, description = "The plan is closed"),
    )
)]
#[post("/assignments/{id}/receipt")]
pub async fn receive_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<AssignmentView>> {
    let (id, ctx) = (AssignmentId(id.into_inner()), caller.ctx());
    let a = state
        .db
        .run(move |c| service::assignments::receive(c, &ctx, id))
        .await?;
    Ok(web::Json(a.into()))
}

/// How many assignments a unit signed for at once.
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipts {
    /// Assignments signed for now (those signed before are not counted again).
    #[schema(example = 12)]
    pub signed: usize,
    /// Their ids.
    pub assignment_ids: Vec<AssignmentId>,
}

/// Sign for all of the caller's unit's assignments in a published plan not yet signed for
/// (签收): its people, or its system with `assignments:respond`.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The plan's id")),
    responses(
        (status = 200, description = "How many were signed for now", body = Receipts),
        (status = 404, description = "No such published plan"),
        (status = 409, description = "The plan is closed"),
    )
)]
#[post("/plans/{id}/receipts")]
pub async fn receive_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Receipts>> {
    let (plan, ctx) = (PlanId(id.into_inner()), caller.ctx());
    let ids = state
        .db
        .run(move |c| service::assignments::receive_plan(c, &ctx, plan))
        .await?;
    Ok(web::Json(Receipts {
        signed: ids.len(),
        assignment_ids: ids,
    }))
}

/// Assign a measure to units and groups (groups expand to one assignment per member).
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The measure's id")),
    request_body = AssignRequest,
    responses(
        (status = 201, description = "The assignments made", body = AssignResult),
        (status = 404, description = "No such measure"),
        (status = 409, description = "The plan is closed"),
    )
)]
#[post("/measures/{id}/assignments")]
pub async fn assign_measure(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<AssignRequest>,
) -> ApiResult<HttpResponse> {
    let (measure_id, Json(b), ctx) = (ItemId(id.into_inner()), body, caller.ctx());
    let due = service::assignments::due_rule(b.due_date, b.due_working_days, b.due_counted_from)?;
    let how = Assign {
        lead: b.lead.into(),
        participants: b.participants.into(),
        due,
        cycle: b.cycle,
    };
    let (created, skipped) = state
        .db
        .run(move |c| service::assignments::assign(c, &ctx, measure_id, how))
        .await?;
    Ok(HttpResponse::Created().json(AssignResult {
        created: created.into_iter().map(AssignmentView::from).collect(),
        already_assigned: skipped,
    }))
}

/// Change an assignment's due date or cycle.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The assignment's id")),
    request_body = Reschedule,
    responses((status = 200, description = "The assignment", body = AssignmentView), (status = 404, description = "No such assignment"))
)]
#[patch("/assignments/{id}")]
pub async fn update_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<Reschedule>,
) -> ApiResult<web::Json<AssignmentView>> {
    let (id, Json(b), ctx) = (AssignmentId(id.into_inner()), body, caller.ctx());
    let due = service::assignments::due_rule(b.due_date, b.due_working_days, b.due_counted_from)?;
    let a = state
        .db
        .run(move |c| service::assignments::reschedule(c, &ctx, id, due, b.cycle))
        .await?;
    Ok(web::Json(a.into()))
}

/// Change the due date (and optionally the cycle) of many assignments at once.
#[utoipa::path(
    tag = "assignments",
    request_body = BulkReschedule,
    responses((status = 200, description = "How many changed", body = Updated))
)]
#[post("/assignments/reschedule")]
pub async fn reschedule_assignments(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<BulkReschedule>,
) -> ApiResult<web::Json<Updated>> {
    let (Json(b), ctx) = (body, caller.ctx());
    let due = service::assignments::due_rule(b.due_date, b.due_working_days, b.due_counted_from)?
        .ok_or_else(|| ApiError::invalid("due_date", "give due_date or due_working_days"))?;
    let n = state
        .db
        .run(move |c| {
            service::assignments::reschedule_many(c, &ctx, &b.assignment_ids, due, b.cycle)
        })
        .await?;
    Ok(web::Json(Updated { updated: n }))
}

/// Withdraw an assignment that has no reports yet.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The assignment's id")),
    responses((status = 204, description = "Withdrawn"), (status = 404, description = "No such assignment"), (status = 409, description = "It has reports"))
)]
#[delete("/assignments/{id}")]
pub async fn delete_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, ctx) = (AssignmentId(id.into_inner()), caller.ctx());
    state
        .db
        .run(move |c| service::assignments::withdraw(c, &ctx, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
