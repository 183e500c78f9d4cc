//! Operations endpoints outside `/api/v1`: liveness, readiness and Prometheus metrics.

use crate::app::AppState;
use crate::db::{self, migrations};
use crate::error::{ApiError, ApiResult};
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when healthy.
    #[schema(example = "ok")]
    pub status: String,
}

/// Liveness: the process is up and answering.
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "The process is up", body = Health)),
    security(())
)]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database is reachable and fully migrated.
#[utoipa::path(
    tag = "ops",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database is unreachable or not migrated"),
    ),
    security(())
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<web::Json<Health>> {
    // An open SQLite connection keeps working on a deleted file; the file must still be there.
    if let crate::config::DatabaseUrl::Sqlite(path) = &state.settings.database_url {
        if !path.exists() {
            return Err(ApiError::Unavailable(format!("{} is gone", path.display())));
        }
    }
    state
        .db
        .run(|c| {
            db::ping(c).map_err(|e| ApiError::Unavailable(e.to_string()))?;
            match migrations::is_current(c) {
                Ok(true) => Ok(()),
                Ok(false) => Err(ApiError::Unavailable("migrations are pending".into())),
                Err(e) => Err(ApiError::Unavailable(e.to_string())),
            }
        })
        .await?;
    Ok(web::Json(Health {
        status: "ok".into(),
    }))
}

/// Prometheus metrics: requests by route and status, latency histogram, pool use.
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "Prometheus text exposition format",
               content_type = "text/plain; version=0.0.4", body = String,
               example = "duban_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1")),
    security(())
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(&state.db))
}

/// The OpenAPI 3.1 document of this API (what `/docs` shows and clients are generated from).
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json",
               body = Object, example = json!({"openapi": "3.1.0", "info": {"title": "duban 督办"}}))),
    security(())
)]
#[get("/openapi.json")]
pub async fn get_openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.clone())
}

/// A page describing a problem type: what a problem's `type` (`/problems/{slug}`) refers to.
///
/// A small HTML page: the type's title and status, when it happens and what to do about it.
#[utoipa::path(
    tag = "ops",
    params(("slug" = String, Path, description = "The last segment of a problem's `type`", example = "precondition-failed")),
    responses(
        (status = 200, description = "The page", content_type = "text/html",
         body = String, example = json!("<!doctype html><title>The version is stale</title>…")),
        (status = 404, description = "No such problem type"),
    ),
    security(())
)]
#[get("/problems/{slug}")]
pub async fn get_problem_type(slug: web::Path<String>) -> ApiResult<HttpResponse> {
    let slug = slug.into_inner();
    let t = crate::error::ProblemType::find(&slug)
        .ok_or_else(|| ApiError::NotFound(format!("no problem type {slug}")))?;
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body>\n<h1>{title}</h1>\n<p><code>type</code>: <code>/problems/{slug}</code>, status {status}</p>\n\
         <h2>When it happens</h2>\n<p>{when}</p>\n<h2>What to do</h2>\n<p>{todo}</p>\n</body></html>\n",
        title = t.title,
        slug = t.slug,
        status = t.status,
        when = t.when,
        todo = t.what_to_do,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page))
}
