//! Batch submission (`POST /reports/batch`): a department system's creates, edits and
//! submissions in one request, answered item by item. Every item runs the use case of its
//! single endpoint (`POST /assignments/{id}/reports`, `PATCH /reports/{id}`,
//! `POST /reports/{id}/submit`), in a transaction of its own; the whole batch honours one
//! `Idempotency-Key`.

use super::extract::{from_value, CallerToken, Json};
use super::idempotency::{replayed, Answer, Idempotency, WriteOnce};
use super::reports::{NewReportRequest, ReportUpdate};
use super::views::ReportView;
use crate::app::AppState;
use crate::domain::ids::{AssignmentId, ReportId};
use crate::error::{ApiError, ApiResult, Problem};
use crate::service::reports::{self as uc, BatchDone, BatchOp};
use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A batch of report writes, run in order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [
    {"op": "create", "assignment_id": 10185, "status": "in_progress",
     "narrative": "已完成专利行政执法案件办理流程梳理。", "progress": 40, "submit": false},
    {"op": "create", "assignment_id": 9564, "status": "completed",
     "narrative": "已按要求完成。", "submit": true},
    {"op": "update", "report_id": 140, "if_match": "\"140.1\"", "progress": 80},
    {"op": "submit", "report_id": 141, "if_match": "\"141.1\""}
]}))]
pub struct BatchRequest {
    /// 1 to 500 items, each one write: `create`, `update` or `submit` (the field `op`).
    #[schema(value_type = Vec<BatchItem>, min_items = 1, max_items = 500)]
    pub items: Vec<Value>,
}

/// One write of a batch, told by `op`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum BatchItem {
    /// A new draft on an assignment, as `POST /assignments/{id}/reports` (with
    /// `reports:write`), sent at once when `submit` is true (as `POST /reports/{id}/submit`,
    /// with `reports:submit`; both or neither happen).
    Create(BatchCreate),
    /// An edit of a draft or returned report, as `PATCH /reports/{id}` (`if_match` required).
    Update(BatchUpdate),
    /// Sending a draft or returned report, as `POST /reports/{id}/submit`.
    Submit(BatchSubmit),
}

/// `op: create`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchCreate {
    /// The assignment reported on.
    #[schema(example = 10185)]
    pub assignment_id: i64,
    /// Send the new report at once (default false).
    #[serde(default)]
    pub submit: bool,
    /// The report, as for `POST /assignments/{id}/reports`.
    #[serde(flatten)]
    pub report: NewReportRequest,
}

/// `op: update`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchUpdate {
    /// The report edited.
    #[schema(example = 140)]
    pub report_id: i64,
    /// The ETag of the version edited, as `If-Match` of `PATCH /reports/{id}` (428 per item
    /// without it, 412 when stale).
    #[schema(example = "\"140.1\"")]
    pub if_match: Option<String>,
    /// The changes, as for `PATCH /reports/{id}`; omitted fields stay.
    #[serde(flatten)]
    pub changes: ReportUpdate,
}

/// `op: submit`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchSubmit {
    /// The report sent.
    #[schema(example = 141)]
    pub report_id: i64,
    /// The ETag of the version sent, checked when given (412 per item when stale).
    #[schema(example = "\"141.1\"")]
    pub if_match: Option<String>,
}

/// What one item did: its status as its single endpoint would answer, and the report with its
/// ETag, or the problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// The item's position in the request, from 0.
    pub index: usize,
    /// 201 (created), 200 (edited or sent), or the status of the problem.
    #[schema(example = 201)]
    pub status: u16,
    /// The report as it is after the item (success only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub report: Option<ReportView>,
    /// The report's new ETag, for the next `if_match` (success only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "\"9.1\"", nullable = false)]
    pub etag: Option<String>,
    /// Why the item failed (failure only): the problem document its single endpoint answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub problem: Option<Problem>,
}

/// The answer to a batch: one result per item, in order, and the counts.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "items": [
        {"index": 0, "status": 201, "etag": "\"142.1\"", "report": {
            "id": 142, "assignment_id": 10185, "unit_id": 2, "period": "2026", "status": "in_progress",
            "narrative": "已完成专利行政执法案件办理流程梳理。", "problems": "", "next_steps": "",
            "progress": 40, "workflow": "draft", "return_reason": null, "version": 1,
            "submitted_at": null, "reviewed_at": null,
            "created_at": "2026-12-05T09:00:00Z", "updated_at": "2026-12-05T09:00:00Z"}},
        {"index": 1, "status": 404, "problem": {"type": "/problems/not-found", "title": "Not found",
            "status": 404, "detail": "no assignment 9564"}},
        {"index": 2, "status": 412, "problem": {"type": "/problems/precondition-failed",
            "title": "The resource has changed", "status": 412,
            "detail": "the report has changed; its ETag is now \"140.2\""}},
        {"index": 3, "status": 200, "etag": "\"141.2\"", "report": {
            "id": 141, "assignment_id": 10391, "unit_id": 2, "period": "2026", "status": "completed",
            "narrative": "已按要求完成。", "problems": "", "next_steps": "", "progress": 100,
            "workflow": "submitted", "return_reason": null, "version": 2,
            "submitted_at": "2026-12-05T09:00:00Z", "reviewed_at": null,
            "created_at": "2026-12-04T16:20:00Z", "updated_at": "2026-12-05T09:00:00Z"}}
    ],
    "succeeded": 2,
    "failed": 2
}))]
pub struct BatchResponse {
    /// One result per item, in the order sent.
    pub items: Vec<BatchItemResult>,
    /// How many items succeeded.
    pub succeeded: usize,
    /// How many failed.
    pub failed: usize,
}

/// A positive id under `field`.
fn id_at(value: Option<Value>, field: &str) -> ApiResult<i64> {
    match value.as_ref().and_then(Value::as_i64) {
        Some(id) if id > 0 => Ok(id),
        _ => Err(ApiError::invalid(field, "must be a positive integer")),
    }
}

/// An optional ETag under `field`.
fn etag_at(value: Option<Value>, field: &str) -> ApiResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(field, "must be a string: an ETag")),
    }
}

/// Reads item `i`: its `op`, its own fields, and the rest as its single endpoint's body.
fn parse_item(i: usize, value: Value) -> ApiResult<BatchItem> {
    let here = format!("items[{i}]");
    let at = |f: &str| format!("{here}.{f}");
    let Value::Object(mut map) = value else {
        return Err(ApiError::invalid(here, "must be an object"));
    };
    let op = match map.remove("op") {
        Some(Value::String(op)) => op,
        _ => String::new(),
    };
    Ok(match op.as_str() {
        "create" => {
            let assignment_id = id_at(map.remove("assignment_id"), &at("assignment_id"))?;
            let submit = match map.remove("submit") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => b,
                Some(_) => return Err(ApiError::invalid(at("submit"), "must be true or false")),
            };
            let report = from_value(Value::Object(map), &here)?;
            BatchItem::Create(BatchCreate {
                assignment_id,
                submit,
                report,
            })
        }
        "update" => {
            let report_id = id_at(map.remove("report_id"), &at("report_id"))?;
            let if_match = etag_at(map.remove("if_match"), &at("if_match"))?;
            let changes = from_value(Value::Object(map), &here)?;
            BatchItem::Update(BatchUpdate {
                report_id,
                if_match,
                changes,
            })
        }
        "submit" => {
            let report_id = id_at(map.remove("report_id"), &at("report_id"))?;
            let if_match = etag_at(map.remove("if_match"), &at("if_match"))?;
            if let Some(extra) = map.keys().next() {
                return Err(ApiError::invalid(
                    at(extra),
                    "is not a field of a submit item",
                ));
            }
            BatchItem::Submit(BatchSubmit {
                report_id,
                if_match,
            })
        }
        _ => {
            return Err(ApiError::invalid(
                at("op"),
                "must be one of create, update, submit",
            ))
        }
    })
}

/// The use-case input of an item, its fields checked as its single endpoint checks them.
fn to_op(i: usize, item: BatchItem) -> ApiResult<BatchOp> {
    let named = |e: ApiError| match e {
        ApiError::Validation(errors) => ApiError::Validation(
            errors
                .into_iter()
                .map(|mut f| {
                    f.field = format!("items[{i}].{}", f.field);
                    f
                })
                .collect(),
        ),
        other => other,
    };
    Ok(match item {
        BatchItem::Create(c) => {
            let r = c.report;
            BatchOp::Create {
                assignment_id: AssignmentId(c.assignment_id),
                draft: uc::NewDraft {
                    period: r.period,
                    status: r.status,
                    text: uc::Text::parse(
                        Some(&r.narrative),
                        Some(&r.problems),
                        Some(&r.next_steps),
                    )
                    .map_err(named)?,
                    progress: uc::checked_progress(r.progress).map_err(named)?,
                },
                submit: c.submit,
            }
        }
        BatchItem::Update(u) => {
            let ch = u.changes;
            BatchOp::Update {
                report_id: ReportId(u.report_id),
                if_match: u.if_match,
                status: ch.status,
                progress: uc::checked_progress(ch.progress).map_err(named)?,
                text: uc::Text::parse(
                    ch.narrative.as_deref(),
                    ch.problems.as_deref(),
                    ch.next_steps.as_deref(),
                )
                .map_err(named)?,
            }
        }
        BatchItem::Submit(s) => BatchOp::Submit {
            report_id: ReportId(s.report_id),
            if_match: s.if_match,
        },
    })
}

/// One item's result.
fn result(index: usize, done: ApiResult<BatchDone>) -> BatchItemResult {
    let (status, r) = match done {
        Ok(BatchDone::Created(r)) => (StatusCode::CREATED, r),
        Ok(BatchDone::Updated(r) | BatchDone::Submitted(r)) => (StatusCode::OK, r),
        Err(e) => {
            if let ApiError::Internal(cause) | ApiError::Unavailable(cause) = &e {
                tracing::error!(cause = %cause, index, "a batch item failed");
            }
            let problem = e.problem();
            return BatchItemResult {
                index,
                status: problem.status,
                report: None,
                etag: None,
                problem: Some(problem),
            };
        }
    };
    BatchItemResult {
        index,
        status: status.as_u16(),
        etag: Some(uc::etag(&r)),
        report: Some(ReportView::from(r)),
        problem: None,
    }
}

/// Create, edit and submit up to 500 reports in one request.
///
/// For a unit's reporters and managers, or its department system with `reports:write` and, to
/// send, `reports:submit`. Every item is run, in order, by the use case of its single endpoint — `create` as
/// `POST /assignments/{id}/reports` (with `submit: true` also as `POST /reports/{id}/submit`,
/// both or neither), `update` as `PATCH /reports/{id}` (`if_match` in place of `If-Match`,
/// required), `submit` as `POST /reports/{id}/submit` — with the same access rules, checks and
/// answers, and in a transaction of its own: an item that fails changes nothing, and undoes
/// nothing of the items before it. The answer is 200 with one result per item (`status` as the
/// single endpoint would answer, and the report with its ETag, or the problem). The whole
/// request is refused only when its shape is wrong (422 naming the field, such as
/// `items[3].op`; no item runs), or when the caller writes no reports at all (403).
///
/// With an `Idempotency-Key` the whole batch runs at most once: the same key and body get the
/// first answer again (header `Idempotency-Replayed: true`) and create nothing twice; the same
/// key with another body is a 422 naming `Idempotency-Key`. Under a key the items' changes
/// are committed together with the remembered answer (each item still in a savepoint of its
/// own), so a batch interrupted before its answer is recorded leaves nothing behind.
#[utoipa::path(
    tag = "reports",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body get the first answer; nothing is created twice"),
    ),
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per item, in order", body = BatchResponse),
        (status = 403, description = "The caller writes no reports (the office, viewers, a system without reports:write and reports:submit)"),
        (status = 422, description = "The batch is malformed: no items or more than 500 (`items`), or an item's shape (`items[3].op`, `items[0].assignment_id`, …); nothing ran"),
    ),
)]
#[post("/reports/batch")]
pub async fn batch_reports(
    state: web::Data<AppState>,
    caller: CallerToken,
    req: HttpRequest,
    body: Json<BatchRequest>,
) -> ApiResult<HttpResponse> {
    let Json(b) = body;
    uc::check_batch_len(b.items.len())?;
    let items = b
        .items
        .into_iter()
        .enumerate()
        .map(|(i, v)| parse_item(i, v))
        .collect::<ApiResult<Vec<_>>>()?;
    let fingerprint = serde_json::to_value(&items).unwrap_or_default();
    let idem = Idempotency::new(&req, caller.user_id(), &fingerprint)?;
    let ops = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| to_op(i, item))
        .collect::<ApiResult<Vec<_>>>()?;
    state
        .db
        .write_once(idem, Outcome::Replayed, move |c| {
            let ctx = caller.ctx(c)?;
            let done = uc::batch(c, &ctx, ops)?;
            let items: Vec<BatchItemResult> = done
                .into_iter()
                .enumerate()
                .map(|(i, d)| result(i, d))
                .collect();
            let succeeded = items.iter().filter(|r| r.problem.is_none()).count();
            let answer = BatchResponse {
                failed: items.len() - succeeded,
                succeeded,
                items,
            };
            let body = serde_json::to_string(&answer).unwrap_or_default();
            Ok(Answer::new(
                StatusCode::OK,
                body.clone(),
                Outcome::Fresh(body),
            ))
        })
        .await
        .map(Outcome::respond)
}

/// The answer's body, as run now, or remembered under the `Idempotency-Key`.
enum Outcome {
    Fresh(String),
    Replayed(u16, String),
}

impl Outcome {
    fn respond(self) -> HttpResponse {
        match self {
            Outcome::Fresh(body) => HttpResponse::Ok()
                .content_type("application/json")
                .body(body),
            Outcome::Replayed(status, body) => replayed(status, body),
        }
    }
}
