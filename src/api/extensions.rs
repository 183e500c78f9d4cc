//! Extension requests (`/extension-requests`, 延期申请): before its due date the assigned unit asks
//! for a later one (`POST /assignments/{id}/extension-requests`, honouring `Idempotency-Key`);
//! the office approves with the date it grants, or rejects with a reason.

use super::extract::{total_of_pages, Caller, Json, Page, PageQuery, Query};
use super::idempotency::{replayed, Answer, Idempotency, WriteOnce};
use crate::app::AppState;
use crate::domain::extension::ExtensionState;
use crate::domain::ids::{AssignmentId, PlanId, UnitId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::service::{self, extensions};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A unit's request for a later due date.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequestBody {
    /// The due date asked for: after the current one.
    #[schema(example = "2020-03-31")]
    pub requested_due_date: NaiveDate,
    /// Why more time is needed (1 to 2000 characters).
    #[schema(example = "配套制度需经市政府常务会议审议，会期安排在明年一季度。")]
    pub reason: String,
    /// The work done so far (1 to 5000 characters).
    #[schema(example = "已完成制度草案起草和征求意见，正在合法性审查。")]
    pub progress: String,
}

/// The office's approval.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// The due date granted (it may differ from the one asked for; after the current one).
    #[schema(example = "2020-02-29")]
    pub granted_due_date: NaiveDate,
    /// A note to the unit (up to 2000 characters).
    #[schema(example = "同意延期至2月底，请按期报送。")]
    pub note: Option<String>,
}

/// The office's rejection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why (1 to 2000 characters).
    #[schema(example = "该项工作不受会期影响，请按原定期限完成。")]
    pub reason: String,
}

/// An extension request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExtensionRequestView {
    /// The request's id.
    pub id: i64,
    /// The assignment it is about.
    pub assignment_id: AssignmentId,
    /// The assignment's plan.
    pub plan_id: PlanId,
    /// The unit asking.
    pub unit_id: UnitId,
    /// `pending`, `approved` or `rejected`.
    pub state: ExtensionState,
    /// The due date in force when it was asked.
    #[schema(example = "2019-12-31")]
    pub due_date: NaiveDate,
    /// The due date asked for.
    #[schema(example = "2020-03-31")]
    pub requested_due_date: NaiveDate,
    /// Why.
    pub reason: String,
    /// The work done so far.
    pub progress: String,
    /// Who asked.
    pub requested_by: Option<UserId>,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// The due date granted (approved requests; the assignment's due date from then on).
    #[schema(example = "2020-02-29")]
    pub granted_due_date: Option<NaiveDate>,
    /// The office's note on approving.
    pub note: Option<String>,
    /// The office's reason for rejecting.
    pub rejection_reason: Option<String>,
    /// Who decided.
    pub decided_by: Option<UserId>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<extensions::ExtensionRequest> for ExtensionRequestView {
    fn from(r: extensions::ExtensionRequest) -> Self {
        let (note, rejection_reason) = match r.state {
            ExtensionState::Rejected => (None, r.decision_note),
            _ => (r.decision_note, None),
        };
        ExtensionRequestView {
            id: r.id,
            assignment_id: r.assignment_id,
            plan_id: r.plan_id,
            unit_id: r.unit_id,
            state: r.state,
            due_date: r.due_date,
            requested_due_date: r.requested_due_date,
            reason: r.reason,
            progress: r.progress,
            requested_by: r.requested_by,
            requested_at: r.requested_at.and_utc(),
            granted_due_date: r.granted_due_date,
            note,
            rejection_reason,
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(|t| t.and_utc()),
        }
    }
}

/// Filters of the request list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExtensionQuery {
    /// Only requests in this state.
    pub state: Option<ExtensionState>,
    /// Only this unit's (units always see only their own).
    pub unit_id: Option<i64>,
    /// Only requests on this plan's assignments.
    pub plan_id: Option<i64>,
    /// Only requests on this assignment (its history of requests).
    pub assignment_id: Option<i64>,
}

enum Created {
    Request(Box<ExtensionRequestView>),
    Replayed(u16, String),
}

/// Ask for a later due date, before the current one (the assigned unit's manager, or its system
/// with `assignments:respond`). One request per assignment may be pending. Honours
/// `Idempotency-Key`.
#[utoipa::path(
    tag = "assignments",
    params(
        ("id" = i64, Path, description = "The assignment's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body get the first answer"),
    ),
    request_body = ExtensionRequestBody,
    responses(
        (status = 201, description = "The pending request", body = ExtensionRequestView),
        (status = 404, description = "No such assignment, or not one the caller may see"),
        (status = 409, description = "The due date has come, the assignment is done, its plan is closed, or a request is pending already"),
    )
)]
#[post("/assignments/{id}/extension-requests")]
pub async fn create_extension_request(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<ExtensionRequestBody>,
) -> ApiResult<HttpResponse> {
    let (assignment, Json(b)) = (AssignmentId(id.into_inner()), body);
    let ctx = caller.ctx();
    let idem = Idempotency::new(
        &req,
        ctx.principal.user_id,
        &serde_json::to_value(&b).unwrap_or_default(),
    )?;
    let ask = extensions::Ask {
        requested_due_date: b.requested_due_date,
        reason: b.reason,
        progress: b.progress,
    };
    let out = state
        .db
        .write_once(idem, Created::Replayed, move |c| {
            let r = service::extensions::request(c, &ctx, assignment, ask)?;
            let view = ExtensionRequestView::from(r);
            let body = serde_json::to_string(&view).map_err(ApiError::internal)?;
            Ok(Answer::new(
                StatusCode::CREATED,
                body,
                Created::Request(Box::new(view)),
            ))
        })
        .await?;
    Ok(match out {
        Created::Request(v) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/extension-requests/{}", v.id)))
            .json(v),
        Created::Replayed(status, body) => replayed(status, body),
    })
}

/// List extension requests, newest first (the office all; a unit its own).
#[utoipa::path(
    tag = "assignments",
    params(ExtensionQuery, PageQuery),
    responses((status = 200, description = "One page of requests", body = Page<ExtensionRequestView>))
)]
#[get("/extension-requests")]
pub async fn list_extension_requests(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ExtensionQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<ExtensionRequestView>>> {
    let (limit, before) = page.0.parse()?;
    let (Query(q), ctx) = (query, caller.ctx());
    let f = extensions::ExtensionFilter {
        unit_id: q.unit_id.map(UnitId),
        plan_id: q.plan_id.map(PlanId),
        assignment_id: q.assignment_id.map(AssignmentId),
        state: q.state,
    };
    let count = page.0.wants_count();
    let (page, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |before, limit| {
                service::extensions::list(c, &ctx, f.clone(), before, limit)
            })?;
            Ok((service::extensions::list(c, &ctx, f, before, limit)?, total))
        })
        .await?;
    Ok(web::Json(
        Page::map(page, ExtensionRequestView::from).with_total(total),
    ))
}

/// Read an extension request.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = ExtensionRequestView),
        (status = 404, description = "No such request, or not one the caller may see"),
    )
)]
#[get("/extension-requests/{id}")]
pub async fn get_extension_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<ExtensionRequestView>> {
    let (id, ctx) = (id.into_inner(), caller.ctx());
    let r = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::extensions::get(c, &ctx, id)
        })
        .await?;
    Ok(web::Json(r.into()))
}

async fn decide(
    state: &AppState,
    caller: &Caller,
    id: i64,
    answer: extensions::Answer,
) -> ApiResult<web::Json<ExtensionRequestView>> {
    let ctx = caller.ctx();
    let r = state
        .db
        .run(move |c| service::extensions::decide(c, &ctx, id, answer))
        .await?;
    Ok(web::Json(r.into()))
}

/// Approve a pending request (the office): the granted date becomes the assignment's due date,
/// so its deadline, the overdue list and the figures follow it.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The request's id")),
    request_body = ApproveBody,
    responses(
        (status = 200, description = "The approved request", body = ExtensionRequestView),
        (status = 404, description = "No such request"),
        (status = 409, description = "The request is decided already"),
    )
)]
#[post("/extension-requests/{id}/approve")]
pub async fn approve_extension_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<ApproveBody>,
) -> ApiResult<web::Json<ExtensionRequestView>> {
    let Json(b) = body;
    let answer = extensions::Answer::Approve {
        granted_due_date: b.granted_due_date,
        note: b.note,
    };
    decide(&state, &caller, id.into_inner(), answer).await
}

/// Reject a pending request, with the reason (the office); the due date stays.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "The request's id")),
    request_body = RejectBody,
    responses(
        (status = 200, description = "The rejected request", body = ExtensionRequestView),
        (status = 404, description = "No such request"),
        (status = 409, description = "The request is decided already"),
    )
)]
#[post("/extension-requests/{id}/reject")]
pub async fn reject_extension_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<RejectBody>,
) -> ApiResult<web::Json<ExtensionRequestView>> {
    let answer = extensions::Answer::Reject {
        reason: body.0.reason,
    };
    decide(&state, &caller, id.into_inner(), answer).await
}
