//! Disputes (`/disputes`, 异议 / 调整申请): the assigned unit states that an assignment is not
//! its responsibility or that its role is wrong (`POST /assignments/{id}/disputes`, honouring
//! `Idempotency-Key`); the office resolves it by withdrawing, moving or re-roling the
//! assignment, or rejects it with a reason.

use super::extract::{total_of_pages, Caller, Json, Page, PageQuery, Query};
use super::idempotency::{replayed, Answer, Idempotency, WriteOnce};
use crate::app::AppState;
use crate::domain::assignment::AssignmentRole;
use crate::domain::dispute::{DisputeKind, DisputeState, Outcome, Resolution};
use crate::domain::ids::{AssignmentId, ItemId, PlanId, UnitId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::service::{self, disputes};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A unit's dispute of its assignment.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeBody {
    /// `not_ours` (not this unit's responsibility), `should_lead` (it participates but should
    /// lead) or `should_participate` (it leads but should only participate).
    #[schema(example = "not_ours")]
    pub kind: DisputeKind,
    /// Why (1 to 2000 characters).
    #[schema(example = "该事项属市场监管部门职责，本单位无相关执法权限。")]
    pub reason: String,
}

/// The office's resolution.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "move", "unit_id": 12, "reason": "按职责分工改由市市场监管局承办。"}))]
pub struct ResolveBody {
    /// `withdraw` (the assignment ends; only when no report was written on it), `move` (to
    /// `unit_id`), `change_role` (to `role`) or `reject` (with `reason`).
    pub outcome: Outcome,
    /// For `move`: the unit that takes the assignment over (active, holding nothing on the
    /// measure yet).
    pub unit_id: Option<i64>,
    /// For `change_role`: the new role (default: the one the dispute asks for).
    pub role: Option<AssignmentRole>,
    /// For `reject`: why (required). For the other outcomes: an optional note to the unit.
    /// Up to 2000 characters.
    pub reason: Option<String>,
}

/// A dispute.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisputeView {
    /// The dispute's id.
    pub id: i64,
    /// The assignment disputed (`null` once it was withdrawn).
    pub assignment_id: Option<AssignmentId>,
    /// The assignment's plan.
    pub plan_id: PlanId,
    /// The measure.
    pub measure_id: ItemId,
    /// The unit that disputed (the assignment's holder then).
    pub unit_id: UnitId,
    /// The assignment's role when disputed.
    pub role: AssignmentRole,
    /// What is disputed.
    pub kind: DisputeKind,
    /// Why.
    pub reason: String,
    /// `pending` or `resolved`.
    pub state: DisputeState,
    /// How the office resolved it (`null` while pending).
    pub outcome: Option<Outcome>,
    /// For a move: the unit that took the assignment over.
    pub moved_to_unit_id: Option<UnitId>,
    /// For a role change: the role the assignment took.
    pub new_role: Option<AssignmentRole>,
    /// The office's reason for rejecting, or its note on another outcome.
    pub resolution_note: Option<String>,
    /// Who disputed.
    pub raised_by: Option<UserId>,
    /// When.
    pub raised_at: DateTime<Utc>,
    /// Who resolved it.
    pub resolved_by: Option<UserId>,
    /// When.
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<disputes::Dispute> for DisputeView {
    fn from(d: disputes::Dispute) -> Self {
        DisputeView {
            id: d.id,
            assignment_id: d.assignment_id,
            plan_id: d.plan_id,
            measure_id: d.measure_id,
            unit_id: d.unit_id,
            role: d.role,
            kind: d.kind,
            reason: d.reason,
            state: d.state,
            outcome: d.outcome,
            moved_to_unit_id: d.moved_to_unit_id,
            new_role: d.new_role,
            resolution_note: d.resolution_note,
            raised_by: d.raised_by,
            raised_at: d.raised_at.and_utc(),
            resolved_by: d.resolved_by,
            resolved_at: d.resolved_at.map(|t| t.and_utc()),
        }
    }
}

/// Filters of the dispute list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisputeQuery {
    /// Only disputes in this state.
    pub state: Option<DisputeState>,
    /// Only disputes of this kind.
    pub kind: Option<DisputeKind>,
    /// Only this unit's (units always see only their own).
    pub unit_id: Option<i64>,
    /// Only disputes on this plan's assignments.
    pub plan_id: Option<i64>,
    /// Only disputes of this assignment (its history of disputes).
    pub assignment_id: Option<i64>,
}

enum Created {
    Dispute(Box<DisputeView>),
    Replayed(u16, String),
}

/// Dispute an assignment (the assigned unit's manager, or its system with
/// `assignments:respond`): not the unit's responsibility, or the wrong role. One dispute per
/// assignment may be pending. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "assignments",
    params(
        ("id" = i64, Path, description = "The assignment's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body get the first answer"),
    ),
    request_body = DisputeBody,
    responses(
        (status = 201, description = "The pending dispute", body = DisputeView),
        (status = 404, description = "No such assignment, or not one the caller may see"),
        (status = 409, description = "The plan is closed, or a dispute is pending already"),
        (status = 422, description = "The unit already has the role it asks for (`kind`), or the reason is empty"),
    )
)]
#[post("/assignments/{id}/disputes")]
pub async fn create_dispute(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<DisputeBody>,
) -> ApiResult<HttpResponse> {
    let (assignment, Json(b)) = (AssignmentId(id.into_inner()), body);
    let ctx = caller.ctx();
    let idem = Idempotency::new(
        &req,
        ctx.principal.user_id,
        &serde_json::to_value(&b).unwrap_or_default(),
    )?;
    let raise = disputes::Raise {
        kind: b.kind,
        reason: b.reason,
    };
    let out = state
        .db
        .write_once(idem, Created::Replayed, move |c| {
            let d = service::disputes::raise(c, &ctx, assignment, raise)?;
            let view = DisputeView::from(d);
            let body = serde_json::to_string(&view).map_err(ApiError::internal)?;
            Ok(Answer::new(
                StatusCode::CREATED,
                body,
                Created::Dispute(Box::new(view)),
            ))
        })
        .await?;
    Ok(match out {
        Created::Dispute(v) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/disputes/{}", v.id)))
            .json(v),
        Created::Replayed(status, body) => replayed(status, body),
    })
}

/// List disputes, newest first (the office all; a unit those it raised).
#[utoipa::path(
    tag = "assignments",
    params(DisputeQuery, PageQuery),
    responses((status = 200, description = "One page of disputes", body = Page<DisputeView>))
)]
#[get("/disputes")]
pub async fn list_disputes(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<DisputeQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<DisputeView>>> {
    let (limit, before) = page.0.parse()?;
    let (Query(q), ctx) = (query, caller.ctx());
    let f = disputes::DisputeFilter {
        unit_id: q.unit_id.map(UnitId),
        plan_id: q.plan_id.map(PlanId),
        assignment_id: q.assignment_id.map(AssignmentId),
        state: q.state,
        kind: q.kind,
    };
    let count = page.0.wants_count();
    let (page, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |before, limit| {
                service::disputes::list(c, &ctx, f.clone(), before, limit)
            })?;
            Ok((service::disputes::list(c, &ctx, f, before, limit)?, total))
        })
        .await?;
    Ok(web::Json(
        Page::map(page, DisputeView::from).with_total(total),
    ))
}

/// Read a dispute.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The dispute's id")),
    responses(
        (status = 200, description = "The dispute", body = DisputeView),
        (status = 404, description = "No such dispute, or not one the caller may see"),
    )
)]
#[get("/disputes/{id}")]
pub async fn get_dispute(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<DisputeView>> {
    let (id, ctx) = (id.into_inner(), caller.ctx());
    let d = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::disputes::get(c, &ctx, id)
        })
        .await?;
    Ok(web::Json(d.into()))
}

/// Resolve a pending dispute (the office): withdraw the assignment, move it to another unit
/// (the reports its holder wrote stay, naming it; the new holder signs and answers anew),
/// change its role, or reject the dispute with a reason.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The dispute's id")),
    request_body = ResolveBody,
    responses(
        (status = 200, description = "The resolved dispute", body = DisputeView),
        (status = 404, description = "No such dispute"),
        (status = 409, description = "The dispute is resolved already, reports were written on an assignment to withdraw, the unit named holds the measure already, or the plan is closed"),
        (status = 422, description = "A field the outcome needs is missing or wrong (`unit_id`, `role`, `reason`), or one it does not use is given"),
    )
)]
#[post("/disputes/{id}/resolve")]
pub async fn resolve_dispute(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<ResolveBody>,
) -> ApiResult<web::Json<DisputeView>> {
    let (id, Json(b), ctx) = (id.into_inner(), body, caller.ctx());
    let r = Resolution {
        outcome: b.outcome,
        unit_id: b.unit_id.map(UnitId),
        role: b.role,
        reason: b.reason,
    };
    let d = state
        .db
        .run(move |c| service::disputes::resolve(c, &ctx, id, r))
        .await?;
    Ok(web::Json(d.into()))
}
