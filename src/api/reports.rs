//! Reports (`/reports`, 完成情况): drafted by the assigned unit, submitted by its manager (or a
//! department system with `reports:submit`), accepted or returned by the office. Every submitted
//! version is kept. Updates need `If-Match`; creation and submission honour `Idempotency-Key`.

use super::assignments::visible as visible_assignment;
use super::extract::{Caller, Json, Page, PageQuery, Query};
use super::idempotency::{replayed, Answer, Idempotency, WriteOnce};
use crate::app::AppState;
use crate::auth::{policy, Principal};
use crate::db::AnyConnection;
use crate::domain::assignment::Cycle;
use crate::domain::ids::{AssignmentId, PlanId, ReportId, UnitId, UserId};
use crate::domain::report::{ReportStatus, Step, Workflow};
use crate::error::{ApiError, ApiResult};
use crate::store::{self, assignments, audit, reports};
use actix_web::http::{header, StatusCode};
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    /// The report's id.
    pub id: ReportId,
    /// The assignment it reports on.
    pub assignment_id: AssignmentId,
    /// The reporting unit.
    pub unit_id: UnitId,
    /// The period: `2019`, `2019-H2`, `2019-Q4`, `2019-11` or `once`.
    #[schema(example = "2019")]
    pub period: String,
    /// How far the work is.
    pub status: ReportStatus,
    /// 工作措施及完成情况: what was done.
    #[schema(
        example = "机构改革后，对我局行政权力进行了清理，目前保留2项行政权力，16项公共服务事项。"
    )]
    pub narrative: String,
    /// 存在的问题: problems met.
    pub problems: String,
    /// 下一步打算: next steps.
    pub next_steps: String,
    /// Where it is in review.
    pub workflow: Workflow,
    /// Why the office returned it.
    pub return_reason: Option<String>,
    /// The version, as in the `ETag`.
    pub version: i32,
    /// When it was last submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When the office last reviewed it.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<reports::Report> for ReportView {
    fn from(r: reports::Report) -> Self {
        ReportView {
            id: r.id,
            assignment_id: r.assignment_id,
            unit_id: r.unit_id,
            period: r.period,
            status: ReportStatus::parse(&r.status).unwrap_or(ReportStatus::NotStarted),
            narrative: r.narrative,
            problems: r.problems,
            next_steps: r.next_steps,
            workflow: Workflow::parse(&r.workflow).unwrap_or(Workflow::Draft),
            return_reason: r.return_reason,
            version: r.version,
            submitted_at: r.submitted_at.map(|t| t.and_utc()),
            reviewed_at: r.reviewed_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

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
}

/// Changes to a draft or returned report; omitted fields stay.
#[derive(Debug, Deserialize, ToSchema)]
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
}

/// Why a report goes back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// The reason, shown to the unit.
    #[schema(example = "请补充具体数据和完成时间。")]
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

const MAX_TEXT: usize = 20_000;

fn check_text(field: &str, text: &str) -> ApiResult<String> {
    if text.chars().count() > MAX_TEXT {
        return Err(ApiError::invalid(field, "must be at most 20000 characters"));
    }
    Ok(text.trim().to_owned())
}

fn etag(r: &reports::Report) -> String {
    format!("\"{}.{}\"", r.id, r.version)
}

fn with_etag(status: StatusCode, r: reports::Report) -> HttpResponse {
    let tag = etag(&r);
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

/// Refuses writes by the unit once the plan is no longer published (a closed plan is read-only).
fn ensure_open(c: &mut AnyConnection, a: &assignments::Assignment) -> ApiResult<()> {
    let state = crate::store::plans::find(c, a.plan_id)?
        .map(|p| p.state)
        .unwrap_or_default();
    if state == "published" {
        Ok(())
    } else {
        Err(ApiError::Conflict {
            detail: "reports are written on published plans only".into(),
            field: None,
        })
    }
}

fn if_match_header(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").to_owned())
}

/// The report, if the caller may read it (drafts: own unit only; sent: the office, the unit,
/// the measure's lead unit). Otherwise "not found".
fn readable(
    c: &mut AnyConnection,
    p: &Principal,
    id: ReportId,
) -> ApiResult<(reports::Report, assignments::Assignment)> {
    let r = reports::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no report {id}")))?;
    let a = assignments::find(c, r.assignment_id)?
        .ok_or_else(|| ApiError::internal("report without assignment"))?;
    let leads = match p.unit_id {
        Some(u) if u != r.unit_id => assignments::leads_of(c, a.measure_id)?.contains(&u),
        _ => false,
    };
    if policy::read_report(p, r.unit_id, r.workflow == "draft", leads) {
        Ok((r, a))
    } else {
        Err(ApiError::NotFound(format!("no report {id}")))
    }
}

fn if_match(header: Option<&str>, current: &reports::Report) -> ApiResult<()> {
    let Some(v) = header else {
        return Err(ApiError::PreconditionRequired(
            "send If-Match with the ETag of the version you edited".into(),
        ));
    };
    if v.trim() == "*"
        || v.split(',')
            .any(|t| t.trim().trim_start_matches("W/") == etag(current))
    {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(format!(
            "the report has changed; its ETag is now {}",
            etag(current)
        )))
    }
}

fn stale() -> ApiError {
    ApiError::PreconditionFailed(
        "the report changed while this request was processed; read it again".into(),
    )
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
    let scope = policy::unit_scope(&caller)?;
    if caller.role == crate::domain::role::Role::Service
        && !caller.has_scope(crate::domain::scope::Scope::ReportsRead)
    {
        return Err(ApiError::Forbidden(
            "this token lacks the reports:read scope".into(),
        ));
    }
    let (limit, after) = page.0.parse()?;
    let Query(q) = query;
    let f = reports::ReportFilter {
        assignment_id: q.assignment_id.map(AssignmentId),
        unit_id: q.unit_id.map(UnitId),
        workflow: q.workflow.map(|w| w.as_str().to_owned()),
        status: q.status.map(|s| s.as_str().to_owned()),
        plan_id: q.plan_id.map(PlanId),
        sent_only: scope.is_none(),
        visible_to: scope,
    };
    let rows = state
        .db
        .run(move |c| Ok(reports::list(c, &f, after, limit)?))
        .await?;
    Ok(web::Json(Page::map(
        store::Page::from_rows(rows, limit, |r| r.id.0),
        ReportView::from,
    )))
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
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<NewReportRequest>,
) -> ApiResult<HttpResponse> {
    let scope = policy::unit_scope(&caller)?;
    let (assignment_id, Json(b)) = (AssignmentId(id.into_inner()), body);
    let idem = Idempotency::new(
        &req,
        caller.user_id,
        &serde_json::to_value(&b).unwrap_or_default(),
    )?;
    let narrative = check_text("narrative", &b.narrative)?;
    let problems = check_text("problems", &b.problems)?;
    let next_steps = check_text("next_steps", &b.next_steps)?;
    let (principal, actor) = (caller.principal.clone(), caller.actor());
    state
        .db
        .write_once(idem, Outcome::Replayed, move |c| {
            let a = visible_assignment(c, scope, assignment_id)?;
            policy::write_report(&principal, a.unit_id)?;
            ensure_open(c, &a)?;
            let cycle = Cycle::parse(&a.cycle).unwrap_or(Cycle::Yearly);
            let today = Utc::now().date_naive();
            let period = match b.period.as_deref() {
                Some(p) if cycle.accepts(p) => p.to_owned(),
                Some(_) => {
                    return Err(ApiError::invalid(
                        "period",
                        format!("is not a period of a {} cycle", cycle.as_str()),
                    ))
                }
                None => cycle.period_of(today.min(a.due_date)),
            };
            if reports::find_for_period(c, assignment_id, &period)?.is_some() {
                return Err(ApiError::Conflict {
                    detail: format!("a report for {period} exists; edit it instead"),
                    field: Some("period".into()),
                });
            }
            let now = store::now();
            let id = reports::insert(
                c,
                &reports::NewReport {
                    assignment_id,
                    unit_id: a.unit_id,
                    period,
                    status: b.status.as_str().into(),
                    narrative,
                    problems,
                    next_steps,
                    workflow: Workflow::Draft.as_str().into(),
                    version: 1,
                    created_by: Some(principal.user_id),
                    updated_by: Some(principal.user_id),
                    submitted_at: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let r = reports::find(c, id)?.ok_or_else(|| ApiError::internal("report vanished"))?;
            let view = serde_json::to_value(ReportView::from(r.clone())).unwrap_or_default();
            audit::record(
                c,
                &actor,
                "report.create",
                "report",
                Some(id.0),
                None,
                Some(&view),
            )?;
            let report = Outcome::Report(StatusCode::CREATED, Box::new(r));
            Ok(Answer::new(StatusCode::CREATED, view.to_string(), report))
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
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    policy::unit_scope(&caller)?;
    let id = ReportId(id.into_inner());
    let p = caller.principal.clone();
    let (r, _) = state.db.run(move |c| readable(c, &p, id)).await?;
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
    policy::unit_scope(&caller)?;
    let (id, Json(b)) = (ReportId(id.into_inner()), body);
    let narrative = b
        .narrative
        .as_deref()
        .map(|t| check_text("narrative", t))
        .transpose()?;
    let problems = b
        .problems
        .as_deref()
        .map(|t| check_text("problems", t))
        .transpose()?;
    let next_steps = b
        .next_steps
        .as_deref()
        .map(|t| check_text("next_steps", t))
        .transpose()?;
    let (principal, actor, header) = (
        caller.principal.clone(),
        caller.actor(),
        if_match_header(&req),
    );
    state
        .db
        .write(move |c| {
            let (r, a) = readable(c, &principal, id)?;
            policy::write_report(&principal, r.unit_id)?;
            ensure_open(c, &a)?;
            if_match(header.as_deref(), &r)?;
            let wf = Workflow::parse(&r.workflow).unwrap_or(Workflow::Draft);
            wf.after(Step::Edit).map_err(|m| ApiError::Conflict {
                detail: m,
                field: Some("workflow".into()),
            })?;
            let text = reports::ReportText {
                status: b
                    .status
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or(r.status.clone()),
                narrative: narrative.unwrap_or(r.narrative.clone()),
                problems: problems.unwrap_or(r.problems.clone()),
                next_steps: next_steps.unwrap_or(r.next_steps.clone()),
            };
            if !reports::update_text(c, id, r.version, &text, principal.user_id, store::now())? {
                return Err(stale());
            }
            let after =
                reports::find(c, id)?.ok_or_else(|| ApiError::internal("report vanished"))?;
            let j = |r: &reports::Report| {
                serde_json::to_value(ReportView::from(r.clone())).unwrap_or_default()
            };
            audit::record(
                c,
                &actor,
                "report.update",
                "report",
                Some(id.0),
                Some(&j(&r)),
                Some(&j(&after)),
            )?;
            Ok(after)
        })
        .await
        .map(|r| with_etag(StatusCode::OK, r))
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
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    policy::unit_scope(&caller)?;
    let id = ReportId(id.into_inner());
    let idem = Idempotency::new(&req, caller.user_id, &serde_json::Value::Null)?;
    let (principal, actor, header) = (
        caller.principal.clone(),
        caller.actor(),
        if_match_header(&req),
    );
    state
        .db
        .write_once(idem, Outcome::Replayed, move |c| {
            let (r, a) = readable(c, &principal, id)?;
            policy::submit_report(&principal, r.unit_id)?;
            ensure_open(c, &a)?;
            if header.is_some() {
                if_match(header.as_deref(), &r)?;
            }
            let wf = Workflow::parse(&r.workflow).unwrap_or(Workflow::Draft);
            let next = wf.after(Step::Submit).map_err(|m| ApiError::Conflict {
                detail: m,
                field: Some("workflow".into()),
            })?;
            let now = store::now();
            if !reports::set_workflow(
                c,
                id,
                r.version,
                next.as_str(),
                None,
                principal.user_id,
                true,
                now,
            )? {
                return Err(stale());
            }
            let after =
                reports::find(c, id)?.ok_or_else(|| ApiError::internal("report vanished"))?;
            let revision = reports::insert_revision(c, &after, Some(principal.user_id), now)?;
            let view = serde_json::to_value(ReportView::from(after.clone())).unwrap_or_default();
            audit::record(
                c,
                &actor,
                "report.submit",
                "report",
                Some(id.0),
                Some(&serde_json::json!({"workflow": r.workflow})),
                Some(&serde_json::json!({"workflow": next, "revision": revision})),
            )?;
            let report = Outcome::Report(StatusCode::OK, Box::new(after));
            Ok(Answer::new(StatusCode::OK, view.to_string(), report))
        })
        .await
        .map(Outcome::respond)
}

async fn review(
    state: &AppState,
    caller: &Caller,
    id: i64,
    step: Step,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    policy::review_reports(caller)?;
    let id = ReportId(id);
    let (principal, actor) = (caller.principal.clone(), caller.actor());
    state
        .db
        .write(move |c| {
            let (r, _) = readable(c, &principal, id)?;
            let wf = Workflow::parse(&r.workflow).unwrap_or(Workflow::Draft);
            let next = wf.after(step).map_err(|m| ApiError::Conflict {
                detail: m,
                field: Some("workflow".into()),
            })?;
            if !reports::set_workflow(
                c,
                id,
                r.version,
                next.as_str(),
                reason.as_deref(),
                principal.user_id,
                false,
                store::now(),
            )? {
                return Err(stale());
            }
            let after =
                reports::find(c, id)?.ok_or_else(|| ApiError::internal("report vanished"))?;
            let action = if step == Step::Accept {
                "report.accept"
            } else {
                "report.return"
            };
            audit::record(
                c,
                &actor,
                action,
                "report",
                Some(id.0),
                Some(&serde_json::json!({"workflow": r.workflow})),
                Some(&serde_json::json!({"workflow": next, "reason": reason})),
            )?;
            Ok(after)
        })
        .await
        .map(|r| with_etag(StatusCode::OK, r))
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
    review(&state, &caller, id.into_inner(), Step::Accept, None).await
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
    review(&state, &caller, id.into_inner(), Step::Return, Some(reason)).await
}

/// Every submitted version of a report, oldest first.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The revisions", body = Vec<RevisionView>),
        (status = 404, description = "No such report, or not one the caller may see"),
    )
)]
#[get("/reports/{id}/revisions")]
pub async fn list_revisions(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Vec<RevisionView>>> {
    policy::unit_scope(&caller)?;
    let id = ReportId(id.into_inner());
    let p = caller.principal.clone();
    let revs = state
        .db
        .run(move |c| {
            readable(c, &p, id)?;
            Ok(reports::revisions(c, id)?)
        })
        .await?;
    Ok(web::Json(
        revs.into_iter()
            .map(|r| RevisionView {
                revision: r.revision,
                status: ReportStatus::parse(&r.status).unwrap_or(ReportStatus::NotStarted),
                narrative: r.narrative,
                problems: r.problems,
                next_steps: r.next_steps,
                submitted_by: r.submitted_by,
                submitted_at: r.submitted_at.and_utc(),
            })
            .collect(),
    ))
}
