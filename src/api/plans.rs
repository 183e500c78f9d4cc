//! Plans (`/plans`): the year's plan, drafted by the office, published to the units, closed when
//! the year is done. Its task tree is in [`super::items`], its tables and reports in
//! [`super::documents`].

use super::extract::{total_of_pages, Caller, Json, Page, PageQuery, Query};
use super::views::PlanView;
use crate::app::AppState;
use crate::domain::ids::{PlanId, UnitId};
use crate::domain::plan::PlanState;
use crate::error::ApiResult;
use crate::service::{self, plans::PlanFields, plans::Step};
use crate::store;
use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// A new plan, or changes to one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// The title.
    #[schema(example = "2020年法治政府建设任务")]
    pub title: String,
    /// The year, 2000 to 2100.
    #[schema(example = 2020, minimum = 2000, maximum = 2100)]
    pub year: i32,
    /// The issuing unit; by default the caller's unit.
    pub issuing_unit_id: Option<UnitId>,
}

/// Filters of the plan list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanListQuery {
    /// Only plans of this year.
    pub year: Option<i32>,
    /// Only plans in this state.
    pub state: Option<PlanState>,
}

/// List plans (units see published and closed plans only).
#[utoipa::path(
    tag = "plans",
    params(PlanListQuery, PageQuery),
    responses((status = 200, description = "One page of plans", body = Page<PlanView>))
)]
#[get("/plans")]
pub async fn list_plans(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<PlanListQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<PlanView>>> {
    let (limit, after) = page.0.parse()?;
    let (Query(q), ctx) = (query, caller.ctx());
    let count = page.0.wants_count();
    let (rows, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |after, limit| {
                let rows = service::plans::list(c, &ctx, q.year, q.state, after, limit)?;
                Ok(store::Page::from_rows(rows, limit, |p| p.id.0))
            })?;
            let rows = service::plans::list(c, &ctx, q.year, q.state, after, limit)?;
            Ok((rows, total))
        })
        .await?;
    Ok(web::Json(
        Page::map(
            store::Page::from_rows(rows, limit, |p| p.id.0),
            PlanView::from,
        )
        .with_total(total),
    ))
}

/// Create a draft plan (the office).
#[utoipa::path(
    tag = "plans",
    request_body = PlanRequest,
    responses((status = 201, description = "The plan", body = PlanView))
)]
#[post("/plans")]
pub async fn create_plan(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<PlanRequest>,
) -> ApiResult<HttpResponse> {
    let fields = PlanFields::parse(&body.0.title, body.0.year)?;
    let (issuer, ctx) = (body.0.issuing_unit_id, caller.ctx());
    let plan = state
        .db
        .run(move |c| service::plans::create(c, &ctx, fields, issuer))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/plans/{}", plan.id)))
        .json(PlanView::from(plan)))
}

/// Read a plan.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    responses((status = 200, description = "The plan", body = PlanView), (status = 404, description = "No such plan"))
)]
#[get("/plans/{id}")]
pub async fn get_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<PlanView>> {
    let (id, ctx) = (PlanId(id.into_inner()), caller.ctx());
    let plan = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::plans::get(c, &ctx, id)
        })
        .await?;
    Ok(web::Json(plan.into()))
}

/// Change a plan's title or year (not once closed).
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    request_body = PlanRequest,
    responses((status = 200, description = "The plan", body = PlanView), (status = 404, description = "No such plan"), (status = 409, description = "The plan is closed"))
)]
#[patch("/plans/{id}")]
pub async fn update_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<PlanRequest>,
) -> ApiResult<web::Json<PlanView>> {
    let fields = PlanFields::parse(&body.0.title, body.0.year)?;
    let (id, ctx) = (PlanId(id.into_inner()), caller.ctx());
    let plan = state
        .db
        .run(move |c| service::plans::update(c, &ctx, id, fields))
        .await?;
    Ok(web::Json(plan.into()))
}

async fn transition(
    state: &AppState,
    caller: &Caller,
    id: i64,
    step: Step,
) -> ApiResult<web::Json<PlanView>> {
    let (id, ctx) = (PlanId(id), caller.ctx());
    let plan = state
        .db
        .run(move |c| service::plans::transition(c, &ctx, id, step))
        .await?;
    Ok(web::Json(plan.into()))
}

/// Publish a draft plan: the units see their assignments from now on.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    responses((status = 200, description = "The published plan", body = PlanView), (status = 404, description = "No such plan"), (status = 409, description = "The plan is not a draft"))
)]
#[post("/plans/{id}/publish")]
pub async fn publish_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<PlanView>> {
    transition(&state, &caller, id.into_inner(), Step::Publish).await
}

/// Close a published plan: it becomes read-only.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    responses((status = 200, description = "The closed plan", body = PlanView), (status = 404, description = "No such plan"), (status = 409, description = "The plan is not published"))
)]
#[post("/plans/{id}/close")]
pub async fn close_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<PlanView>> {
    transition(&state, &caller, id.into_inner(), Step::Close).await
}
