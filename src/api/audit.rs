//! The audit trail (`/audit`), read-only, newest first.

use super::extract::{total_of_pages, Caller, Page, PageQuery, Query};
use crate::app::AppState;
use crate::domain::ids::{UnitId, UserId};
use crate::error::ApiResult;
use crate::service;
use crate::store::{self, audit};
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One audited write.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// The entry's id (rising with time).
    pub id: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Who did it (`null` for the system itself).
    pub actor_user_id: Option<UserId>,
    /// For which unit.
    pub actor_unit_id: Option<UnitId>,
    /// What was done, e.g. `unit.create`, `user.deactivate`.
    #[schema(example = "user.deactivate")]
    pub action: String,
    /// The kind of record, e.g. `unit`, `user`.
    #[schema(example = "user")]
    pub entity_type: String,
    /// The record's id.
    pub entity_id: Option<i64>,
    /// The record before the write.
    pub before: Option<serde_json::Value>,
    /// The record after the write.
    pub after: Option<serde_json::Value>,
    /// The request's `X-Request-Id`.
    pub request_id: Option<String>,
}

impl From<audit::AuditEntry> for AuditView {
    fn from(e: audit::AuditEntry) -> Self {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        AuditView {
            id: e.id,
            occurred_at: e.occurred_at.and_utc(),
            actor_user_id: e.actor_user_id,
            actor_unit_id: e.actor_unit_id,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            before: parse(e.before_json),
            after: parse(e.after_json),
            request_id: e.request_id,
        }
    }
}

/// Filters of the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries about this kind of record.
    #[param(example = "user")]
    pub entity_type: Option<String>,
    /// Only entries about this record (with `entity_type`).
    pub entity_id: Option<i64>,
    /// Only writes by this account.
    pub actor_user_id: Option<i64>,
    /// Only this action.
    #[param(example = "unit.create")]
    pub action: Option<String>,
}

/// Read the audit trail (admins, the coordinating office, viewers), newest first.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery, PageQuery),
    responses((status = 200, description = "One page of entries, newest first", body = Page<AuditView>))
)]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<AuditQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<AuditView>>> {
    let (Query(q), ctx) = (query, caller.ctx());
    let (limit, before) = page.0.parse()?;
    let filter = audit::AuditFilter {
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        actor_user_id: q.actor_user_id.map(UserId),
        action: q.action,
    };
    let count = page.0.wants_count();
    let (rows, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |before, limit| {
                let rows = service::audit::list(c, &ctx, filter.clone(), before, limit)?;
                Ok(store::Page::from_rows(rows, limit, |e| e.id))
            })?;
            Ok((service::audit::list(c, &ctx, filter, before, limit)?, total))
        })
        .await?;
    let page = store::Page::from_rows(rows, limit, |e| e.id);
    Ok(web::Json(
        Page::map(page, AuditView::from).with_total(total),
    ))
}
