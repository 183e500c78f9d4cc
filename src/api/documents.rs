//! A plan's documents (`/plans/{id}/summary`, `/plans/{id}/import`,
//! `/plans/{id}/annual-report`): the summary table out as JSON, CSV or XLSX and in from CSV or
//! XLSX, and a unit's annual report draft as DOCX.

use super::extract::{Caller, Query, TableBody};
use crate::app::AppState;
use crate::domain::assignment::Cycle;
use crate::domain::ids::{PlanId, UnitId};
use crate::domain::table;
use crate::error::{ApiError, ApiResult};
use crate::service::{self, documents::Import};
use crate::tables::{Answers, ImportReport};
use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Whose answers the summary shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// One unit's answers; without it, every sent report per measure (lead units first).
    pub unit: Option<i64>,
}

/// The summary table as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    /// The plan.
    pub plan_id: PlanId,
    /// Whose answers fill 工作措施及完成情况 (`null`: consolidated).
    pub unit_id: Option<UnitId>,
    /// The column headers, in order.
    #[schema(example = json!(table::HEADERS))]
    pub columns: Vec<String>,
    /// One row per measure, in plan order; in the consolidated view (no `unit`) each with the
    /// lead units' answers and the participants' beside them.
    pub rows: Vec<table::SummaryLine>,
}

/// How to import a table.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Resolve and count only; write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Import even when unit strings cannot be resolved (they are skipped and listed).
    #[serde(default)]
    pub allow_unresolved: bool,
    /// The unit whose answers fill 工作措施及完成情况; they become its submitted reports.
    pub answers_unit: Option<i64>,
    /// Due date of the assignments (default: 31 December of the plan's year).
    pub due_date: Option<NaiveDate>,
    /// Reporting cycle of the assignments (default: yearly).
    pub cycle: Option<Cycle>,
}

/// Whose annual report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnnualReportQuery {
    /// The unit (the office must name one; a unit's own people get their own, the default).
    pub unit: Option<i64>,
}

/// A file's bytes (an XLSX workbook or a DOCX document).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);

/// The summary's format: the media type `Accept` likes best (JSON when it admits any).
fn summary_format(req: &HttpRequest) -> &'static str {
    let accept = super::http::accept_header(req.headers());
    let offered = ["application/json", "text/csv", crate::documents::XLSX];
    super::http::preferred(accept.as_deref(), &offered).unwrap_or("application/json")
}

/// A file to download.
fn attachment(content_type: &str, name: String, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes)
}

/// The summary table (工作任务, 具体措施, 任务来源, 牵头单位, 参加单位, 工作措施及完成情况) as JSON,
/// as CSV with `Accept: text/csv`, or as the office's XLSX layout with `Accept:
/// application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`.
///
/// With `unit`, the last column holds that unit's answers (a unit may ask only for its own,
/// drafts included); without, every sent report of the measure, lead units first (the office).
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id"), SummaryQuery),
    responses(
        (status = 200, description = "The table", content(
            (Summary = "application/json"),
            (String = "text/csv", example = "工作板块,工作任务,具体措施,任务来源,牵头单位,参加单位,工作措施及完成情况\n一、依法全面履行政府职能,1．深化行政审批制度改革。,（2）下放行政审批权。,渝委发〔2016〕27号,市政府办公厅,市级有关部门，区县政府按职责分工负责,我局不涉及\n"),
            (inline(FileBytes) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 404, description = "No such plan"),
    )
)]
#[get("/plans/{id}/summary")]
pub async fn get_summary(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
    query: Query<SummaryQuery>,
) -> ApiResult<HttpResponse> {
    let (plan_id, unit) = (PlanId(id.into_inner()), query.0.unit.map(UnitId));
    let ctx = caller.ctx();
    let (plan, answers, rows) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::documents::summary(c, &ctx, plan_id, unit)
        })
        .await?;
    let format = summary_format(&req);
    if format == crate::documents::XLSX {
        let title = format!("{}完成情况汇总", plan.title);
        let bytes = match answers {
            Answers::Consolidated => crate::documents::xlsx::write_consolidated(&title, &rows),
            Answers::Unit(_) => crate::documents::xlsx::write_unit_summary(&title, &rows),
        }
        .map_err(ApiError::internal)?;
        let name = format!("plan-{plan_id}-summary.xlsx");
        return Ok(attachment(crate::documents::XLSX, name, bytes));
    }
    if format == "text/csv" {
        let (csv, name) = (
            table::write_csv(&rows),
            format!("plan-{plan_id}-summary.csv"),
        );
        return Ok(attachment("text/csv; charset=utf-8", name, csv.into()));
    }
    let unit_id = match answers {
        Answers::Unit(u) => Some(u),
        Answers::Consolidated => None,
    };
    Ok(HttpResponse::Ok().json(Summary {
        plan_id,
        unit_id,
        columns: table::HEADERS.iter().map(|s| s.to_string()).collect(),
        rows,
    }))
}

/// Import the summary table (CSV, or an XLSX workbook in the layout of the summary export) into
/// an empty draft plan, or with `dry_run=true` only report how every unit string resolves.
/// Unresolved names fail the import unless `allow_unresolved`; the import is all or nothing.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id"), ImportQuery),
    request_body(description = "The table: CSV with its header row, or an XLSX workbook laid out as the summary export", content(
        (String = "text/csv", example = "工作板块,工作任务,具体措施,任务来源,牵头单位,参加单位,工作措施及完成情况\n一、依法全面履行政府职能,1．深化行政审批制度改革。,（2）下放行政审批权。,渝委发〔2016〕27号,市政府办公厅,市级有关部门，区县政府按职责分工负责,\n"),
        (inline(FileBytes) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses(
        (status = 200, description = "What was imported (or would be, in a dry run)", body = ImportReport),
        (status = 404, description = "No such plan"),
        (status = 409, description = "The plan is not an empty draft, or the table repeats a number"),
    )
)]
#[post("/plans/{id}/import")]
pub async fn import_plan_table(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: Query<ImportQuery>,
    body: TableBody,
) -> ApiResult<web::Json<ImportReport>> {
    crate::auth::policy::manage_plans(&caller)?;
    let rows = body.rows()?;
    let (plan_id, Query(q), ctx) = (PlanId(id.into_inner()), query, caller.ctx());
    let how = Import {
        dry_run: q.dry_run,
        allow_unresolved: q.allow_unresolved,
        answers_unit: q.answers_unit.map(UnitId),
        due_date: q.due_date,
        cycle: q.cycle,
    };
    let report = state
        .db
        .run(move |c| service::documents::import(c, &ctx, plan_id, &rows, how))
        .await?;
    Ok(web::Json(report))
}

/// A unit's annual report draft (DOCX) for a plan, shaped like the reports units send the
/// office: the figures of its assignments, what it did measure by measure (its completed
/// measures under their sections), the problems and next steps it reported, and the attachment
/// table of its answers. The office may ask for any unit; a unit's own people for their own.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id"), AnnualReportQuery),
    responses(
        (status = 200, description = "The report draft, as an attachment", content(
            (inline(FileBytes) = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ), headers(("Content-Disposition" = String, description = "attachment; filename=\"plan-1-unit-2-report.docx\""))),
        (status = 403, description = "A unit asked for another unit's report, or the token lacks the reports:read scope"),
        (status = 404, description = "No such plan (units do not see drafts) or unit"),
        (status = 422, description = "The office did not name the unit"),
    )
)]
#[get("/plans/{id}/annual-report")]
pub async fn get_annual_report(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: Query<AnnualReportQuery>,
) -> ApiResult<HttpResponse> {
    let (plan_id, ctx) = (PlanId(id.into_inner()), caller.ctx());
    let unit = service::documents::annual_report_unit(&ctx, query.0.unit.map(UnitId))?;
    let input = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::documents::annual_report(c, &ctx, plan_id, unit)
        })
        .await?;
    let bytes = crate::documents::docx::annual_report(&input).map_err(ApiError::internal)?;
    let name = format!("plan-{plan_id}-unit-{unit}-report.docx");
    Ok(attachment(crate::documents::DOCX, name, bytes))
}
