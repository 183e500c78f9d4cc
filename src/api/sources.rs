//! Source documents (`/sources`, 任务来源): the 文号 measures derive from, and how far along the
//! measures citing one are, across plans and years.

use super::extract::{total_of_pages, Caller, Json, Page, PageQuery, Query};
use crate::app::AppState;
use crate::domain::ids::{ItemId, PlanId, SourceId};
use crate::domain::plan::ItemLevel;
use crate::error::ApiResult;
use crate::service::{self, sources::NewSource};
use crate::store::{self, plans};
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A source document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceView {
    /// The source's id.
    pub id: SourceId,
    /// Its 文号.
    #[schema(example = "渝委发〔2016〕27号")]
    pub doc_number: String,
    /// Its title.
    #[schema(example = "重庆市法治政府建设实施方案（2016-2020年）")]
    pub title: Option<String>,
    /// Who issued it.
    #[schema(example = "中共重庆市委 重庆市人民政府")]
    pub issuer: Option<String>,
}

impl From<plans::Source> for SourceView {
    fn from(s: plans::Source) -> Self {
        SourceView {
            id: s.id,
            doc_number: s.doc_number,
            title: s.title,
            issuer: s.issuer,
        }
    }
}

/// A new source document.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceRequest {
    /// The 文号, unique.
    #[schema(example = "渝府办发〔2019〕59号")]
    pub doc_number: String,
    /// Its title.
    pub title: Option<String>,
    /// Who issued it.
    pub issuer: Option<String>,
}

/// Filters of the source list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SourceQuery {
    /// Part of the 文号 or title.
    #[param(example = "2019")]
    pub q: Option<String>,
}

/// A measure citing a source, and how far along it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct CitingMeasure {
    /// The measure.
    pub measure_id: ItemId,
    /// Its plan.
    pub plan_id: PlanId,
    /// The plan's title.
    pub plan_title: String,
    /// The plan's year.
    pub year: i32,
    /// The measure's code in its plan.
    #[schema(example = "1.1.1")]
    pub code: String,
    /// The measure as written.
    pub heading: String,
    /// Assignments (units carrying it).
    pub assigned: i64,
    /// Of those, with a sent report.
    pub reported: i64,
    /// Of those, reported completed.
    pub completed: i64,
    /// Of those, reported not applicable.
    pub not_applicable: i64,
}

/// A source and the measures citing it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceTrace {
    /// The source.
    pub source: SourceView,
    /// Every measure citing it, newest plan first.
    pub measures: Vec<CitingMeasure>,
}

/// List source documents.
#[utoipa::path(
    tag = "sources",
    params(SourceQuery, PageQuery),
    responses((status = 200, description = "One page of sources", body = Page<SourceView>))
)]
#[get("/sources")]
pub async fn list_sources(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<SourceQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<SourceView>>> {
    let (limit, after) = page.0.parse()?;
    let (q, ctx) = (query.0.q, caller.ctx());
    let count = page.0.wants_count();
    let (rows, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |after, limit| {
                let rows = service::sources::list(c, &ctx, q.clone(), after, limit)?;
                Ok(store::Page::from_rows(rows, limit, |s| s.id.0))
            })?;
            Ok((service::sources::list(c, &ctx, q, after, limit)?, total))
        })
        .await?;
    Ok(web::Json(
        Page::map(
            store::Page::from_rows(rows, limit, |s| s.id.0),
            SourceView::from,
        )
        .with_total(total),
    ))
}

/// Register a source document (the office).
#[utoipa::path(
    tag = "sources",
    request_body = SourceRequest,
    responses((status = 201, description = "The source", body = SourceView), (status = 409, description = "The 文号 exists"))
)]
#[post("/sources")]
pub async fn create_source(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<SourceRequest>,
) -> ApiResult<HttpResponse> {
    let (Json(b), ctx) = (body, caller.ctx());
    let new = NewSource {
        doc_number: b.doc_number,
        title: b.title,
        issuer: b.issuer,
    };
    let source = state
        .db
        .run(move |c| service::sources::create(c, &ctx, new))
        .await?;
    Ok(HttpResponse::Created().json(SourceView::from(source)))
}

/// Trace a source document: which measures derive from it, in which plans, how many units carry
/// them and how many of those have reported completion.
#[utoipa::path(
    tag = "sources",
    params(("id" = i64, Path, description = "The source's id")),
    responses((status = 200, description = "The source and its measures", body = SourceTrace), (status = 404, description = "No such source"))
)]
#[get("/sources/{id}")]
pub async fn get_source(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<SourceTrace>> {
    let (id, ctx) = (SourceId(id.into_inner()), caller.ctx());
    let (source, rows) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::sources::trace(c, &ctx, id)
        })
        .await?;
    let measures = rows
        .into_iter()
        .map(|(m, p, done)| CitingMeasure {
            measure_id: m.id,
            plan_id: p.id,
            plan_title: p.title,
            year: p.year,
            heading: format!("{}{}", ItemLevel::Measure.label(&m.number), m.title),
            code: m.code,
            assigned: done.assigned,
            reported: done.reported,
            completed: done.completed,
            not_applicable: done.not_applicable,
        })
        .collect();
    Ok(web::Json(SourceTrace {
        source: source.into(),
        measures,
    }))
}
