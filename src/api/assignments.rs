//! Assignments (`/assignments`): measures given to lead and participating units, with due dates
//! and reporting cycles; bulk assignment to units and groups.

use super::extract::{Caller, Json, Page, PageQuery, Query};
use crate::app::AppState;
use crate::auth::policy;
use crate::db::AnyConnection;
use crate::domain::assignment::{AssignmentRole, AssignmentState, Cycle};
use crate::domain::ids::{AssignmentId, GroupId, ItemId, PlanId, ReportId, UnitId};
use crate::domain::plan::{ItemLevel, PlanState};
use crate::error::{ApiError, ApiResult};
use crate::service::{self, Ctx};
use crate::store::{self, assignments, audit, groups, plans, units};
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
    /// How often the unit reports.
    pub cycle: Cycle,
    /// Derived: not_started, in_progress, completed, not_applicable or overdue.
    pub state: AssignmentState,
    /// The unit's latest report on it, if any.
    pub latest_report_id: Option<ReportId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
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
    /// Due date (default: 31 December of the plan's year).
    #[schema(example = "2020-06-30")]
    pub due_date: Option<NaiveDate>,
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
    /// The new due date.
    #[schema(example = "2020-03-31")]
    pub due_date: Option<NaiveDate>,
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
    /// The new due date.
    #[schema(example = "2020-03-31")]
    pub due_date: NaiveDate,
    /// A new cycle, if it changes too.
    pub cycle: Option<Cycle>,
}

/// How many assignments changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Updated {
    /// The count.
    pub updated: usize,
}

/// Builds views with their state as of today ([`service::assignments::with_state`]).
pub fn views(
    c: &mut AnyConnection,
    ctx: &Ctx,
    rows: Vec<assignments::Assignment>,
) -> ApiResult<Vec<AssignmentView>> {
    service::assignments::with_state(c, ctx, rows)?
        .into_iter()
        .map(|x| {
            let a = x.row;
            Ok(AssignmentView {
                id: a.id,
                plan_id: a.plan_id,
                measure_id: a.measure_id,
                unit_id: a.unit_id,
                role: a.role,
                via_group_id: a.via_group_id,
                due_date: a.due_date,
                cycle: a.cycle,
                state: x.state,
                latest_report_id: x.latest_report_id,
                created_at: a.created_at.and_utc(),
            })
        })
        .collect()
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
    caller: Caller,
    query: Query<AssignmentQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<AssignmentView>>> {
    let scope = policy::assignment_scope(&caller)?;
    let (limit, after) = page.0.parse()?;
    let Query(q) = query;
    let ctx = caller.ctx();
    let page = state
        .db
        .run(move |c| {
            let mut f = assignments::AssignmentFilter {
                plan_id: q.plan_id.map(PlanId),
                measure_id: q.measure_id.map(ItemId),
                unit_id: q.unit_id.map(UnitId),
                role: q.role,
                plan_states: None,
            };
            if let Some(own) = scope {
                f.plan_states = Some(vec![PlanState::Published, PlanState::Closed]);
                let leads_measure = match f.measure_id {
                    Some(m) => assignments::leads_of(c, m)?.contains(&own),
                    None => false,
                };
                match f.unit_id {
                    Some(u) if u != own && !leads_measure => {
                        return Err(ApiError::Forbidden(
                            "a unit sees only its own assignments".into(),
                        ))
                    }
                    None if !leads_measure => f.unit_id = Some(own),
                    _ => {}
                }
            }
            let rows = assignments::list(c, &f, after, limit)?;
            let page = store::Page::from_rows(rows, limit, |a| a.id.0);
            Ok(store::Page {
                items: views(c, &ctx, page.items)?,
                next_after: page.next_after,
            })
        })
        .await?;
    Ok(web::Json(Page::map(page, |v| v)))
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
    let view = state
        .db
        .run(move |c| {
            let a = service::assignments::visible(c, &ctx.principal, id)?;
            views(c, &ctx, vec![a])?
                .pop()
                .ok_or_else(|| ApiError::internal("view vanished"))
        })
        .await?;
    Ok(web::Json(view))
}

fn expand(
    c: &mut AnyConnection,
    a: &Assignees,
    field: &str,
) -> ApiResult<Vec<(UnitId, Option<GroupId>)>> {
    let mut out: Vec<(UnitId, Option<GroupId>)> = Vec::new();
    for (i, u) in a.unit_ids.iter().enumerate() {
        match units::find(c, *u)? {
            Some(unit) if unit.active => out.push((*u, None)),
            _ => {
                return Err(ApiError::invalid(
                    format!("{field}.unit_ids[{i}]"),
                    "no such active unit",
                ))
            }
        }
    }
    if !a.group_ids.is_empty() {
        let members = groups::members_of(c, &a.group_ids)?;
        for (i, g) in a.group_ids.iter().enumerate() {
            if groups::find(c, *g)?.is_none() {
                return Err(ApiError::invalid(
                    format!("{field}.group_ids[{i}]"),
                    "no such group",
                ));
            }
            for u in members.get(g).cloned().unwrap_or_default() {
                if !out.iter().any(|(x, _)| *x == u) {
                    out.push((u, Some(*g)));
                }
            }
        }
    }
    Ok(out)
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
    policy::manage_plans(&caller)?;
    let (measure_id, Json(b), actor) = (ItemId(id.into_inner()), body, caller.actor());
    let ctx = caller.ctx();
    if b.lead.unit_ids.is_empty()
        && b.lead.group_ids.is_empty()
        && b.participants.unit_ids.is_empty()
        && b.participants.group_ids.is_empty()
    {
        return Err(ApiError::invalid("lead", "name at least one unit or group"));
    }
    let result = state
        .db
        .write(move |c| {
            let m = plans::find_item(c, measure_id)?.filter(|m| m.level == ItemLevel::Measure).ok_or_else(|| ApiError::NotFound(format!("no measure {measure_id}")))?;
            let plan = plans::find(c, m.plan_id)?.ok_or_else(|| ApiError::internal("measure without plan"))?;
            if plan.state == PlanState::Closed {
                return Err(ApiError::Conflict { detail: "a closed plan cannot change".into(), field: None });
            }
            let due = match b.due_date {
                Some(d) => d,
                None => NaiveDate::from_ymd_opt(plan.year, 12, 31).ok_or_else(|| ApiError::invalid("due_date", "cannot be derived"))?,
            };
            let cycle = b.cycle.unwrap_or(Cycle::Yearly);
            let leads = expand(c, &b.lead, "lead")?;
            let mut participants = expand(c, &b.participants, "participants")?;
            participants.retain(|(u, _)| !leads.iter().any(|(l, _)| l == u));
            let existing: Vec<UnitId> = assignments::units_of_measure(c, measure_id)?.into_iter().map(|(u, _)| u).collect();
            let now = store::now();
            let mut rows = Vec::new();
            let mut skipped = Vec::new();
            for (list, role) in [(&leads, AssignmentRole::Lead), (&participants, AssignmentRole::Participant)] {
                for (unit, via) in list.iter() {
                    if existing.contains(unit) {
                        skipped.push(*unit);
                        continue;
                    }
                    rows.push(assignments::NewAssignment {
                        plan_id: m.plan_id, measure_id, unit_id: *unit, role, via_group_id: *via,
                        due_date: due, cycle, created_at: now, updated_at: now,
                    });
                }
            }
            assignments::insert_many(c, &rows)?;
            let f = assignments::AssignmentFilter { measure_id: Some(measure_id), ..Default::default() };
            let created: Vec<_> = assignments::list(c, &f, None, i64::MAX - 1)?
                .into_iter()
                .filter(|a| rows.iter().any(|r| r.unit_id == a.unit_id))
                .collect();
            let created = views(c, &ctx, created)?;
            let after = serde_json::json!({"measure_id": measure_id, "units": created.iter().map(|a| a.unit_id).collect::<Vec<_>>(), "due_date": due, "cycle": cycle});
            audit::record(c, &actor, "assignment.create", "plan_item", Some(measure_id.0), None, Some(&after))?;
            Ok(AssignResult { created, already_assigned: skipped })
        })
        .await?;
    Ok(HttpResponse::Created().json(result))
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
    policy::manage_plans(&caller)?;
    let (id, Json(b), actor) = (AssignmentId(id.into_inner()), body, caller.actor());
    let ctx = caller.ctx();
    let view = state
        .db
        .write(move |c| {
            let a = assignments::find(c, id)?
                .ok_or_else(|| ApiError::NotFound(format!("no assignment {id}")))?;
            let due = b.due_date.unwrap_or(a.due_date);
            let cycle = b.cycle.unwrap_or(a.cycle);
            assignments::reschedule(c, id, due, cycle, store::now())?;
            let before = serde_json::json!({"due_date": a.due_date, "cycle": a.cycle});
            let after = serde_json::json!({"due_date": due, "cycle": cycle});
            audit::record(
                c,
                &actor,
                "assignment.reschedule",
                "assignment",
                Some(id.0),
                Some(&before),
                Some(&after),
            )?;
            let a = assignments::find(c, id)?
                .ok_or_else(|| ApiError::internal("assignment vanished"))?;
            views(c, &ctx, vec![a])?
                .pop()
                .ok_or_else(|| ApiError::internal("view vanished"))
        })
        .await?;
    Ok(web::Json(view))
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
    policy::manage_plans(&caller)?;
    let (Json(b), actor) = (body, caller.actor());
    if b.assignment_ids.is_empty() || b.assignment_ids.len() > 1000 {
        return Err(ApiError::invalid(
            "assignment_ids",
            "name 1 to 1000 assignments",
        ));
    }
    let n = state
        .db
        .write(move |c| {
            let now = store::now();
            for (i, id) in b.assignment_ids.iter().enumerate() {
                let a = assignments::find(c, *id)?.ok_or_else(|| {
                    ApiError::invalid(format!("assignment_ids[{i}]"), "no such assignment")
                })?;
                let cycle = b.cycle.unwrap_or(a.cycle);
                assignments::reschedule(c, *id, b.due_date, cycle, now)?;
                let before = serde_json::json!({"due_date": a.due_date, "cycle": a.cycle});
                let after = serde_json::json!({"due_date": b.due_date, "cycle": cycle});
                audit::record(
                    c,
                    &actor,
                    "assignment.reschedule",
                    "assignment",
                    Some(id.0),
                    Some(&before),
                    Some(&after),
                )?;
            }
            Ok(b.assignment_ids.len())
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
    policy::manage_plans(&caller)?;
    let (id, actor) = (AssignmentId(id.into_inner()), caller.actor());
    state
        .db
        .write(move |c| {
            let a = assignments::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no assignment {id}")))?;
            if !assignments::delete_unreported(c, id)? {
                return Err(ApiError::Conflict { detail: "the assignment has reports and is kept".into(), field: None });
            }
            let before = serde_json::json!({"measure_id": a.measure_id, "unit_id": a.unit_id, "role": a.role});
            audit::record(c, &actor, "assignment.delete", "assignment", Some(id.0), Some(&before), None)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
