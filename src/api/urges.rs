//! Urges (`/urges`): the office reminds (提醒), urges (催办) or supervises (督办) a unit about some
//! of its assignments; the unit acknowledges and replies. Automatic reminders arrive the same way.

use super::extract::{Caller, Json, Page, PageQuery, Query};
use crate::app::AppState;
use crate::auth::{policy, Principal};
use crate::db::AnyConnection;
use crate::domain::desk::Severity;
use crate::domain::ids::{AssignmentId, UnitId, UserId};
use crate::domain::role::Role;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, assignments, audit, urges};
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An urge.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UrgeView {
    /// The urge's id.
    pub id: i64,
    /// The unit urged.
    pub unit_id: UnitId,
    /// 提醒, 催办 or 督办.
    pub severity: Severity,
    /// The message.
    #[schema(example = "请于1月20日前报送第（11）项措施的完成情况。")]
    pub message: String,
    /// The date a reply is expected by.
    pub reply_by: Option<NaiveDate>,
    /// True for automatic reminders.
    pub automatic: bool,
    /// Who issued it (`null`: the system).
    pub issued_by: Option<UserId>,
    /// When.
    pub issued_at: DateTime<Utc>,
    /// The assignments it is about.
    pub assignment_ids: Vec<AssignmentId>,
    /// When the unit acknowledged it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The unit's reply.
    pub reply: Option<String>,
    /// When it replied.
    pub replied_at: Option<DateTime<Utc>>,
}

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
    #[schema(example = "已于1月18日补报完成情况。")]
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

/// Views of urges with their assignments.
pub fn views(c: &mut AnyConnection, rows: Vec<urges::Urge>) -> ApiResult<Vec<UrgeView>> {
    let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
    let mut of = urges::assignments_of(c, &ids)?;
    Ok(rows
        .into_iter()
        .map(|u| UrgeView {
            id: u.id,
            unit_id: u.unit_id,
            severity: u.severity,
            message: u.message,
            reply_by: u.reply_by,
            automatic: u.automatic,
            issued_by: u.issued_by,
            issued_at: u.issued_at.and_utc(),
            assignment_ids: of.remove(&u.id).unwrap_or_default(),
            acknowledged_at: u.acknowledged_at.map(|t| t.and_utc()),
            reply: u.reply,
            replied_at: u.replied_at.map(|t| t.and_utc()),
        })
        .collect())
}

fn visible(c: &mut AnyConnection, p: &Principal, id: i64) -> ApiResult<urges::Urge> {
    let u = urges::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no urge {id}")))?;
    if policy::is_office(p) || p.unit_id == Some(u.unit_id) {
        Ok(u)
    } else {
        Err(ApiError::NotFound(format!("no urge {id}")))
    }
}

/// May the caller answer for the urged unit? Its people, or its system with `urges:reply`.
fn answer_for(p: &Principal, unit: UnitId) -> ApiResult<()> {
    let own = p.unit_id == Some(unit);
    match p.role {
        Role::UnitManager | Role::UnitReporter if own => Ok(()),
        Role::Service if own && p.has_scope(crate::domain::scope::Scope::UrgesReply) => Ok(()),
        _ => Err(ApiError::Forbidden(
            "only the urged unit answers an urge".into(),
        )),
    }
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
    policy::review_reports(&caller)?;
    let (Json(b), actor, by) = (body, caller.actor(), caller.user_id);
    let message = b.message.trim().to_owned();
    if message.is_empty() || message.chars().count() > 2000 {
        return Err(ApiError::invalid("message", "must be 1 to 2000 characters"));
    }
    if b.assignment_ids.is_empty() || b.assignment_ids.len() > 500 {
        return Err(ApiError::invalid(
            "assignment_ids",
            "name 1 to 500 assignments",
        ));
    }
    let view = state
        .db
        .write(move |c| {
            for (i, id) in b.assignment_ids.iter().enumerate() {
                match assignments::find(c, *id)? {
                    Some(a) if a.unit_id == b.unit_id => {}
                    Some(_) => {
                        return Err(ApiError::invalid(
                            format!("assignment_ids[{i}]"),
                            "belongs to another unit",
                        ))
                    }
                    None => {
                        return Err(ApiError::invalid(
                            format!("assignment_ids[{i}]"),
                            "no such assignment",
                        ))
                    }
                }
            }
            let new = urges::NewUrge {
                unit_id: b.unit_id,
                severity: b.severity,
                message,
                reply_by: b.reply_by,
                automatic: false,
                issued_by: Some(by),
                issued_at: store::now(),
            };
            let id = urges::insert(c, &new, &b.assignment_ids)?;
            let row = urges::find(c, id)?.ok_or_else(|| ApiError::internal("urge vanished"))?;
            let view = views(c, vec![row])?
                .pop()
                .ok_or_else(|| ApiError::internal("urge vanished"))?;
            audit::record(
                c,
                &actor,
                "urge.issue",
                "urge",
                Some(id),
                None,
                Some(&serde_json::to_value(&view).unwrap_or_default()),
            )?;
            Ok(view)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
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
    let scope = policy::unit_scope(&caller)?;
    let (limit, before) = page.0.parse()?;
    let Query(q) = query;
    let unit_id = match (scope, q.unit_id) {
        (None, u) => u.map(UnitId),
        (Some(own), None) => Some(own),
        (Some(own), Some(u)) if u == own.0 => Some(own),
        (Some(_), Some(_)) => {
            return Err(ApiError::Forbidden("a unit sees only its own urges".into()))
        }
    };
    let f = urges::UrgeFilter {
        unit_id,
        assignment_id: q.assignment_id.map(AssignmentId),
        severity: q.severity,
        open: q.open,
    };
    let page = state
        .db
        .run(move |c| {
            let rows = urges::list(c, &f, before, limit)?;
            let page = store::Page::from_rows(rows, limit, |u| u.id);
            Ok(store::Page {
                items: views(c, page.items)?,
                next_after: page.next_after,
            })
        })
        .await?;
    Ok(web::Json(Page::map(page, |u| u)))
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
    policy::unit_scope(&caller)?;
    let (id, p) = (id.into_inner(), caller.principal.clone());
    let view = state
        .db
        .run(move |c| {
            let u = visible(c, &p, id)?;
            views(c, vec![u])?
                .pop()
                .ok_or_else(|| ApiError::internal("urge vanished"))
        })
        .await?;
    Ok(web::Json(view))
}

async fn answer(
    state: &AppState,
    caller: &Caller,
    id: i64,
    reply: Option<String>,
) -> ApiResult<UrgeView> {
    policy::unit_scope(caller)?;
    let (p, actor) = (caller.principal.clone(), caller.actor());
    state
        .db
        .write(move |c| {
            let u = visible(c, &p, id)?;
            answer_for(&p, u.unit_id)?;
            let now = store::now();
            let action = match &reply {
                Some(text) => {
                    urges::reply(c, id, text, p.user_id, now)?;
                    "urge.reply"
                }
                None => {
                    urges::acknowledge(c, id, p.user_id, now)?;
                    "urge.acknowledge"
                }
            };
            let row = urges::find(c, id)?.ok_or_else(|| ApiError::internal("urge vanished"))?;
            audit::record(
                c,
                &actor,
                action,
                "urge",
                Some(id),
                None,
                Some(&serde_json::json!({"reply": reply})),
            )?;
            views(c, vec![row])?
                .pop()
                .ok_or_else(|| ApiError::internal("urge vanished"))
        })
        .await
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
    Ok(web::Json(
        answer(&state, &caller, id.into_inner(), None).await?,
    ))
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
    if text.is_empty() || text.chars().count() > 5000 {
        return Err(ApiError::invalid("reply", "must be 1 to 5000 characters"));
    }
    Ok(web::Json(
        answer(&state, &caller, id.into_inner(), Some(text)).await?,
    ))
}
