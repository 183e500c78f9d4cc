//! Reports (`/reports`, 完成情况): drafted by the assigned unit, submitted by its manager (or a
//! department system with `reports:submit`), accepted or returned by the office. Every submitted
//! version is kept. Updates need `If-Match`; creation and submission honour `Idempotency-Key`.

use super::extract::{total_of_pages, Caller, CallerToken, Json, Page, PageQuery, Query};
use super::idempotency::{replayed, Answer, Idempotency, WriteOnce};
use super::views::ReportView;
use crate::app::AppState;
use crate::auth::policy;
use crate::domain::ids::{AssignmentId, PlanId, ReportId, UnitId, UserId};
use crate::domain::report::{ReportStatus, Workflow};
use crate::error::{ApiError, ApiResult};
use crate::service;
use crate::store::{self, reports};
use actix_web::http::{header, StatusCode};
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A new draft.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReportRequest {
    /// The period (default: the period of today, or of the due date once it has passed).
    #[schema(example = "2019")]
    pub period: Option<String>,
    /// How far the work is.
    pub status: ReportStatus,
    /// What was done.
    #[schema(example = "开展《重庆市专利促进与保护条例》修订的相关调研工作。")]
    pub narrative: String,
    /// Problems met.
    #[serde(default)]
    pub problems: String,
    /// Next steps.
    #[serde(default)]
    pub next_steps: String,
    /// The share of the work done, in percent (0 to 100; 序时进度), beside the share due by now.
    #[schema(example = 60, minimum = 0, maximum = 100)]
    pub progress: Option<i64>,
}

/// Changes to a draft or returned report; omitted fields stay.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportUpdate {
    /// How far the work is.
    pub status: Option<ReportStatus>,
    /// What was done.
    pub narrative: Option<String>,
    /// Problems met.
    pub problems: Option<String>,
    /// Next steps.
    pub next_steps: Option<String>,
    /// The share of the work done, in percent (0 to 100).
    #[schema(example = 75, minimum = 0, maximum = 100)]
    pub progress: Option<i64>,
}

/// Why a report goes back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// The reason, shown to the unit.
    #[schema(
        example = "请补充具体数据和完成时间。",
        min_length = 1,
        max_length = 2000
    )]
    pub reason: String,
}

/// A submitted version.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionView {
    /// 1 for the first submission, then rising.
    pub revision: i32,
    /// The status then.
    pub status: ReportStatus,
    /// The narrative then.
    pub narrative: String,
    /// The problems then.
    pub problems: String,
    /// The next steps then.
    pub next_steps: String,
    /// The percent done then, if given.
    pub progress: Option<i32>,
    /// Who submitted it.
    pub submitted_by: Option<UserId>,
    /// When.
    pub submitted_at: DateTime<Utc>,
}

/// Filters of the report list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Only this plan's.
    pub plan_id: Option<i64>,
    /// Only this assignment's.
    pub assignment_id: Option<i64>,
    /// Only this unit's.
    pub unit_id: Option<i64>,
    /// Only in this review state.
    pub workflow: Option<Workflow>,
    /// Only with this status.
    pub status: Option<ReportStatus>,
}

fn with_etag(status: StatusCode, r: reports::Report) -> HttpResponse {
    let tag = service::reports::etag(&r);
    HttpResponse::build(status)
        .insert_header((header::ETAG, tag))
        .json(ReportView::from(r))
}

/// What a write produced: a fresh report, or a remembered answer to replay.
enum Outcome {
    Report(StatusCode, Box<reports::Report>),
    Replayed(u16, String),
}

impl Outcome {
    fn respond(self) -> HttpResponse {
        match self {
            Outcome::Report(status, r) => with_etag(status, *r),
            Outcome::Replayed(status, body) => {
                // The first answer again, with the ETag it carried (from the report it holds).
                let tag = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| {
                        Some(format!(
                            "\"{}.{}\"",
                            v["id"].as_i64()?,
                            v["version"].as_i64()?
                        ))
                    });
                let mut res = replayed(status, body);
                if let Some(tag) = tag.and_then(|t| header::HeaderValue::from_str(&t).ok()) {
                    res.headers_mut().insert(header::ETAG, tag);
                }
                res
            }
        }
    }
}

fn if_match_header(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").to_owned())
}

fn view_json(r: &reports::Report) -> String {
    serde_json::to_value(ReportView::from(r.clone()))
        .unwrap_or_default()
        .to_string()
}

/// List reports the caller may see (the office: every sent report; a unit: its own, drafts
/// included, and the sent reports on measures it leads).
#[utoipa::path(
    tag = "reports",
    params(ReportQuery, PageQuery),
    responses((status = 200, description = "One page of reports", body = Page<ReportView>))
)]
#[get("/reports")]
pub async fn list_reports(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ReportQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<ReportView>>> {
    let (limit, after) = page.0.parse()?;
    let Query(q) = query;
    let ctx = caller.ctx();
    let mut f = reports::ReportFilter::for_reader(policy::report_reader(&caller)?);
    f.assignment_id = q.assignment_id.map(AssignmentId);
    f.unit_id = q.unit_id.map(UnitId);
    f.workflow = q.workflow;
    f.status = q.status;
    f.plan_id = q.plan_id.map(PlanId);
    let count = page.0.wants_count();
    let (rows, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |after, limit| {
                let rows = service::reports::list(c, &ctx, f.clone(), after, limit)?;
                Ok(store::Page::from_rows(rows, limit, |r| r.id.0))
            })?;
            Ok((service::reports::list(c, &ctx, f, after, limit)?, total))
        })
        .await?;
    Ok(web::Json(
        Page::map(
            store::Page::from_rows(rows, limit, |r| r.id.0),
            ReportView::from,
        )
        .with_total(total),
    ))
}

/// The reports on a measure, within the visibility policy: the lead unit reads its
/// participants' sent reports to consolidate them (牵头单位汇总); a participant sees its own; the
/// office every sent report.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The measure's id"), PageQuery),
    responses(
        (status = 200, description = "One page of the reports on the measure", body = Page<ReportView>),
        (status = 404, description = "No such measure, or not one the caller may see"),
    )
)]
#[get("/measures/{id}/reports")]
pub async fn list_measure_reports(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<ReportView>>> {
    let (limit, after) = page.0.parse()?;
    let (measure, ctx) = (crate::domain::ids::ItemId(id.into_inner()), caller.ctx());
    let count = page.0.wants_count();
    let (rows, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |after, limit| {
                let rows = service::reports::list_for_measure(c, &ctx, measure, after, limit)?;
                Ok(store::Page::from_rows(rows, limit, |r| r.id.0))
            })?;
            let rows = service::reports::list_for_measure(c, &ctx, measure, after, limit)?;
            Ok((rows, total))
        })
        .await?;
    Ok(web::Json(
        Page::map(
            store::Page::from_rows(rows, limit, |r| r.id.0),
            ReportView::from,
        )
        .with_total(total),
    ))
}

/// Start a draft report on an assignment (its unit's reporters and managers, or a department
/// system with `reports:write`). Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "reports",
    params(
        ("id" = i64, Path, description = "The assignment's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body get the first answer"),
    ),
    request_body = NewReportRequest,
    responses(
        (status = 201, description = "The draft; its ETag is in the header", body = ReportView, headers(("ETag" = String, description = "The version to send as If-Match"))),
        (status = 404, description = "No such assignment, or not one the caller may see"),
        (status = 409, description = "A report for this period exists, or the plan is not open"),
    )
)]
#[post("/assignments/{id}/reports")]
pub async fn create_report(
    state: web::Data<AppState>,
    caller: CallerToken,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<NewReportRequest>,
) -> ApiResult<HttpResponse> {
    let (assignment_id, Json(b)) = (AssignmentId(id.into_inner()), body);
    let idem = Idempotency::new(
        &req,
        caller.user_id(),
        &serde_json::to_value(&b).unwrap_or_default(),
    )?;
    let draft = service::reports::NewDraft {
        period: b.period,
        status: b.status,
        text: service::reports::Text::parse(
            Some(&b.narrative),
            Some(&b.problems),
            Some(&b.next_steps),
        )?,
        progress: service::reports::checked_progress(b.progress)?,
    };
    state
        .db
        .write_once(idem, Outcome::Replayed, move |c| {
            let ctx = caller.ctx(c)?;
            let r = service::reports::create(c, &ctx, assignment_id, draft)?;
            let body = view_json(&r);
            let report = Outcome::Report(StatusCode::CREATED, Box::new(r));
            Ok(Answer::new(StatusCode::CREATED, body, report))
        })
        .await
        .map(Outcome::respond)
}

/// Read a report; the `ETag` header carries its version.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The report", body = ReportView, headers(("ETag" = String, description = "The version to send as If-Match"))),
        (status = 404, description = "No such report, or not one the caller may see"),
    )
)]
#[get("/reports/{id}")]
pub async fn get_report(
    state: web::Data<AppState>,
    caller: CallerToken,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = ReportId(id.into_inner());
    let r = state
        .db
        .read(caller.user_id(), move |c| {
            let ctx = caller.ctx(c)?;
            service::reports::get(c, &ctx, id)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, r))
}

/// Edit a draft or returned report. `If-Match` with the current ETag is required: 428 without
/// it, 412 when someone changed the report since.
#[utoipa::path(
    tag = "reports",
    params(
        ("id" = i64, Path, description = "The report's id"),
        ("If-Match" = String, Header, description = "The ETag of the version edited"),
    ),
    request_body = ReportUpdate,
    responses(
        (status = 200, description = "The report", body = ReportView, headers(("ETag" = String, description = "The new version"))),
        (status = 404, description = "No such report, or not one the caller may see"),
        (status = 409, description = "The report is submitted or accepted and cannot change"),
        (status = 412, description = "The ETag is stale"),
        (status = 428, description = "If-Match is missing"),
    )
)]
#[patch("/reports/{id}")]
pub async fn update_report(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<ReportUpdate>,
) -> ApiResult<HttpResponse> {
    let (id, Json(b)) = (ReportId(id.into_inner()), body);
    let text = service::reports::Text::parse(
        b.narrative.as_deref(),
        b.problems.as_deref(),
        b.next_steps.as_deref(),
    )?;
    let progress = service::reports::checked_progress(b.progress)?;
    let (ctx, header) = (caller.ctx(), if_match_header(&req));
    let r = state
        .db
        .run(move |c| {
            service::reports::update(c, &ctx, id, header.as_deref(), b.status, progress, text)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, r))
}

/// Submit a draft, or resubmit a returned report (the unit's manager, or a department system with
/// `reports:submit`). The submitted text is kept as a new immutable revision. Honours
/// `Idempotency-Key`; `If-Match`, when sent, must match.
#[utoipa::path(
    tag = "reports",
    params(
        ("id" = i64, Path, description = "The report's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key gets the first answer"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version being submitted"),
    ),
    responses(
        (status = 200, description = "The submitted report", body = ReportView, headers(("ETag" = String, description = "The new version"))),
        (status = 404, description = "No such report, or not one the caller may see"),
        (status = 409, description = "The report is already submitted or accepted"),
        (status = 412, description = "The ETag is stale"),
    )
)]
#[post("/reports/{id}/submit")]
pub async fn submit_report(
    state: web::Data<AppState>,
    caller: CallerToken,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = ReportId(id.into_inner());
    let idem = Idempotency::new(&req, caller.user_id(), &serde_json::Value::Null)?;
    let header = if_match_header(&req);
    state
        .db
        .write_once(idem, Outcome::Replayed, move |c| {
            let ctx = caller.ctx(c)?;
            let r = service::reports::submit(c, &ctx, id, header.as_deref())?;
            let body = view_json(&r);
            let report = Outcome::Report(StatusCode::OK, Box::new(r));
            Ok(Answer::new(StatusCode::OK, body, report))
        })
        .await
        .map(Outcome::respond)
}

async fn review(
    state: &AppState,
    caller: &Caller,
    id: i64,
    decision: service::reports::Decision,
) -> ApiResult<HttpResponse> {
    let (id, ctx) = (ReportId(id), caller.ctx());
    let r = state
        .db
        .run(move |c| service::reports::review(c, &ctx, id, decision))
        .await?;
    Ok(with_etag(StatusCode::OK, r))
}

/// Accept a submitted or resubmitted report (the office). Accepted reports are final.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The accepted report", body = ReportView),
        (status = 404, description = "No such report"),
        (status = 409, description = "The report is not awaiting review"),
    )
)]
#[post("/reports/{id}/accept")]
pub async fn accept_report(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    review(
        &state,
        &caller,
        id.into_inner(),
        service::reports::Decision::Accept,
    )
    .await
}

/// Return a submitted or resubmitted report to its unit with a reason (the office).
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The report's id")),
    request_body = ReturnRequest,
    responses(
        (status = 200, description = "The returned report", body = ReportView),
        (status = 404, description = "No such report"),
        (status = 409, description = "The report is not awaiting review"),
    )
)]
#[post("/reports/{id}/return")]
pub async fn return_report(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<ReturnRequest>,
) -> ApiResult<HttpResponse> {
    let reason = body.0.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(ApiError::invalid("reason", "must be 1 to 2000 characters"));
    }
    review(
        &state,
        &caller,
        id.into_inner(),
        service::reports::Decision::Return(reason),
    )
    .await
}

/// The submitted versions of a report, oldest first, a page at a time (the cursor is the
/// revision number).
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The report's id"), PageQuery),
    responses(
        (status = 200, description = "One page of revisions", body = Page<RevisionView>),
        (status = 404, description = "No such report, or not one the caller may see"),
    )
)]
#[get("/reports/{id}/revisions")]
pub async fn list_revisions(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<RevisionView>>> {
    let (limit, after) = page.0.parse()?;
    let (id, ctx, count) = (
        ReportId(id.into_inner()),
        caller.ctx(),
        page.0.wants_count(),
    );
    let (revs, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |after, limit| {
                service::reports::revisions(c, &ctx, id, after, limit)
            })?;
            Ok((
                service::reports::revisions(c, &ctx, id, after, limit)?,
                total,
            ))
        })
        .await?;
    let page = Page::map(revs, |r| RevisionView {
        revision: r.revision,
        status: r.status,
        narrative: r.narrative,
        problems: r.problems,
        next_steps: r.next_steps,
        progress: r.progress,
        submitted_by: r.submitted_by,
        submitted_at: r.submitted_at.and_utc(),
    });
    Ok(web::Json(page.with_total(total)))
}
