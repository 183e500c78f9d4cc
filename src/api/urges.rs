//! Urges (`/urges`): the office reminds (提醒), urges (催办) or supervises (督办) a unit about some
//! of its assignments; the unit acknowledges and replies. Automatic reminders arrive the same way.

use super::extract::{total_of_pages, Caller, Json, Page, PageQuery, Query};
use super::views::UrgeView;
use crate::app::AppState;
use crate::domain::desk::Severity;
use crate::domain::ids::{AssignmentId, UnitId};
use crate::error::ApiResult;
use crate::service::{self, urges::NewUrge};
use crate::store::urges::UrgeFilter;
use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// A new urge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UrgeRequest {
    /// The unit.
    pub unit_id: UnitId,
    /// Its assignments the urge is about (1 to 500).
    #[schema(example = json!([101, 102]))]
    pub assignment_ids: Vec<AssignmentId>,
    /// 提醒, 催办 or 督办.
    pub severity: Severity,
    /// The message (1 to 2000 characters).
    #[schema(example = "请于1月20日前报送完成情况。")]
    pub message: String,
    /// When a reply is expected.
    pub reply_by: Option<NaiveDate>,
}

/// A unit's reply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UrgeReply {
    /// The reply (1 to 5000 characters).
    #[schema(
        example = "已于1月18日补报完成情况。",
        min_length = 1,
        max_length = 5000
    )]
    pub reply: String,
}

/// Filters of the urge list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UrgeQuery {
    /// Only this unit's (units always see only their own).
    pub unit_id: Option<i64>,
    /// Only urges about this assignment (its urge history).
    pub assignment_id: Option<i64>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// `true`: not yet replied to; `false`: replied to.
    pub open: Option<bool>,
}

/// Issue an urge to a unit about some of its assignments (the office).
#[utoipa::path(
    tag = "urges",
    request_body = UrgeRequest,
    responses((status = 201, description = "The urge", body = UrgeView))
)]
#[post("/urges")]
pub async fn create_urge(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<UrgeRequest>,
) -> ApiResult<HttpResponse> {
    let (Json(b), ctx) = (body, caller.ctx());
    let new = NewUrge {
        unit_id: b.unit_id,
        assignment_ids: b.assignment_ids,
        severity: b.severity,
        message: b.message,
        reply_by: b.reply_by,
    };
    let urge = state
        .db
        .run(move |c| service::urges::issue(c, &ctx, new))
        .await?;
    Ok(HttpResponse::Created().json(UrgeView::from(urge)))
}

/// List urges, newest first (units see their own; `assignment_id` gives an assignment's history).
#[utoipa::path(tag = "urges", params(UrgeQuery, PageQuery), responses((status = 200, description = "One page of urges", body = Page<UrgeView>)))]
#[get("/urges")]
pub async fn list_urges(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<UrgeQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<UrgeView>>> {
    let (limit, before) = page.0.parse()?;
    let (Query(q), ctx) = (query, caller.ctx());
    let f = UrgeFilter {
        unit_id: q.unit_id.map(UnitId),
        assignment_id: q.assignment_id.map(AssignmentId),
        severity: q.severity,
        open: q.open,
    };
    let count = page.0.wants_count();
    let (page, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |before, limit| {
                service::urges::list(c, &ctx, f.clone(), before, limit)
            })?;
            Ok((service::urges::list(c, &ctx, f, before, limit)?, total))
        })
        .await?;
    Ok(web::Json(Page::map(page, UrgeView::from).with_total(total)))
}

/// Read an urge.
#[utoipa::path(
    tag = "urges",
    params(("id" = i64, Path, description = "The urge's id")),
    responses((status = 200, description = "The urge", body = UrgeView), (status = 404, description = "No such urge, or not one the caller may see"))
)]
#[get("/urges/{id}")]
pub async fn get_urge(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<UrgeView>> {
    let (id, ctx) = (id.into_inner(), caller.ctx());
    let urge = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::urges::get(c, &ctx, id)
        })
        .await?;
    Ok(web::Json(urge.into()))
}

async fn answer(
    state: &AppState,
    caller: &Caller,
    id: i64,
    reply: Option<String>,
) -> ApiResult<web::Json<UrgeView>> {
    let ctx = caller.ctx();
    let urge = state
        .db
        .run(move |c| service::urges::answer(c, &ctx, id, reply))
        .await?;
    Ok(web::Json(urge.into()))
}

/// Acknowledge an urge (the urged unit); repeating it changes nothing.
#[utoipa::path(
    tag = "urges",
    params(("id" = i64, Path, description = "The urge's id")),
    responses((status = 200, description = "The urge", body = UrgeView), (status = 404, description = "No such urge, or not one the caller may see"))
)]
#[post("/urges/{id}/acknowledge")]
pub async fn acknowledge_urge(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<UrgeView>> {
    answer(&state, &caller, id.into_inner(), None).await
}

/// Reply to an urge (the urged unit); a later reply replaces the earlier one.
#[utoipa::path(
    tag = "urges",
    params(("id" = i64, Path, description = "The urge's id")),
    request_body = UrgeReply,
    responses((status = 200, description = "The urge", body = UrgeView), (status = 404, description = "No such urge, or not one the caller may see"))
)]
#[post("/urges/{id}/reply")]
pub async fn reply_urge(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<UrgeReply>,
) -> ApiResult<web::Json<UrgeView>> {
    let text = body.0.reply.trim().to_owned();
    answer(&state, &caller, id.into_inner(), Some(text)).await
}
