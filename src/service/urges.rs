//! Urges (提醒 / 催办 / 督办): the office reminds, urges or supervises a unit about some of its
//! assignments; the unit acknowledges and replies.

use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::domain::desk::Severity;
use crate::domain::ids::{AssignmentId, UnitId};
use crate::domain::webhook::EventType;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, assignments, audit, urges};
use chrono::NaiveDate;
use serde_json::json;

/// An urge with the assignments it is about.
pub type Urge = (urges::Urge, Vec<AssignmentId>);

/// A new urge, as the office writes it.
#[derive(Debug, Clone)]
pub struct NewUrge {
    /// The unit urged.
    pub unit_id: UnitId,
    /// Its assignments the urge is about (1 to 500).
    pub assignment_ids: Vec<AssignmentId>,
    /// 提醒, 催办 or 督办.
    pub severity: Severity,
    /// The message (1 to 2000 characters once trimmed).
    pub message: String,
    /// When a reply is expected.
    pub reply_by: Option<NaiveDate>,
}

/// Urges with the assignments each is about.
pub fn with_assignments(c: &mut AnyConnection, rows: Vec<urges::Urge>) -> ApiResult<Vec<Urge>> {
    let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
    let mut of = urges::assignments_of(c, &ids)?;
    Ok(rows
        .into_iter()
        .map(|u| {
            let a = of.remove(&u.id).unwrap_or_default();
            (u, a)
        })
        .collect())
}

fn one(c: &mut AnyConnection, row: urges::Urge) -> ApiResult<Urge> {
    with_assignments(c, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::internal("urge vanished"))
}

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("no urge {id}"))
}

fn visible(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<urges::Urge> {
    let u = urges::find(c, id)?.ok_or_else(|| not_found(id))?;
    if policy::read_urge(&ctx.principal, u.unit_id) {
        Ok(u)
    } else {
        Err(not_found(id))
    }
}

/// What the audit trail keeps of an urge: the urge as answered.
fn audit_view((u, ids): &Urge) -> serde_json::Value {
    json!({
        "id": u.id,
        "unit_id": u.unit_id,
        "severity": u.severity,
        "message": u.message,
        "reply_by": u.reply_by,
        "automatic": u.automatic,
        "issued_by": u.issued_by,
        "issued_at": u.issued_at.and_utc(),
        "assignment_ids": ids,
        "acknowledged_at": u.acknowledged_at.map(|t| t.and_utc()),
        "reply": u.reply,
        "replied_at": u.replied_at.map(|t| t.and_utc()),
    })
}

/// The office issues an urge to a unit about some of its assignments.
pub fn issue(c: &mut AnyConnection, ctx: &Ctx, new: NewUrge) -> ApiResult<Urge> {
    policy::review_reports(&ctx.principal)?;
    let message = super::required_text("message", &new.message, 2000)?;
    if new.assignment_ids.is_empty() || new.assignment_ids.len() > 500 {
        return Err(ApiError::invalid(
            "assignment_ids",
            "name 1 to 500 assignments",
        ));
    }
    write_tx(c, |c| {
        for (i, id) in new.assignment_ids.iter().enumerate() {
            if new.assignment_ids[..i].contains(id) {
                return Err(ApiError::invalid(
                    format!("assignment_ids[{i}]"),
                    "names an assignment already listed",
                ));
            }
            let why = match assignments::find(c, *id)? {
                Some(a) if a.unit_id == new.unit_id => continue,
                Some(_) => "belongs to another unit",
                None => "no such assignment",
            };
            return Err(ApiError::invalid(format!("assignment_ids[{i}]"), why));
        }
        let row = urges::NewUrge {
            unit_id: new.unit_id,
            severity: new.severity,
            message,
            reply_by: new.reply_by,
            automatic: false,
            issued_by: Some(ctx.principal.user_id),
            issued_at: ctx.now,
        };
        let id = urges::insert(c, &row, &new.assignment_ids)?;
        let row = urges::find(c, id)?.ok_or_else(|| ApiError::internal("urge vanished"))?;
        let urge = one(c, row)?;
        let after = audit_view(&urge);
        audit::record(
            c,
            &ctx.actor,
            "urge.issue",
            "urge",
            Some(id),
            None,
            Some(&after),
        )?;
        announce(c, ctx.now, EventType::UrgeIssued, &urge)?;
        Ok(urge)
    })
}

/// Tells the urged unit's subscriptions (and the office's) of an urge or its answer.
pub(crate) fn announce(
    c: &mut AnyConnection,
    now: chrono::NaiveDateTime,
    event: EventType,
    urge: &Urge,
) -> ApiResult<()> {
    let data = super::webhooks::named_id("urge_id", audit_view(urge));
    super::webhooks::emit(c, now, event, urge.0.unit_id, data)
}

/// Announces an urge the reminder pass issued (`urge.issued`).
pub(crate) fn announce_issued(
    c: &mut AnyConnection,
    now: chrono::NaiveDateTime,
    id: i64,
) -> ApiResult<()> {
    let row = urges::find(c, id)?.ok_or_else(|| ApiError::internal("urge vanished"))?;
    let urge = one(c, row)?;
    announce(c, now, EventType::UrgeIssued, &urge)
}

/// One page of the urges the caller may see, newest first.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    mut filter: urges::UrgeFilter,
    before: Option<i64>,
    limit: i64,
) -> ApiResult<store::Page<Urge>> {
    filter.unit_id = policy::urge_units(&ctx.principal, filter.unit_id)?;
    let rows = urges::list(c, &filter, before, limit)?;
    let page = store::Page::from_rows(rows, limit, |u| u.id);
    Ok(store::Page {
        items: with_assignments(c, page.items)?,
        next_after: page.next_after,
    })
}

/// One urge the caller may see.
pub fn get(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<Urge> {
    policy::unit_scope(&ctx.principal)?;
    let u = visible(c, ctx, id)?;
    one(c, u)
}

/// The urged unit acknowledges an urge (`reply`: `None`) or replies to it; a later reply
/// replaces the earlier one.
pub fn answer(c: &mut AnyConnection, ctx: &Ctx, id: i64, reply: Option<String>) -> ApiResult<Urge> {
    if let Some(text) = &reply {
        if text.is_empty() || text.chars().count() > 5000 {
            return Err(ApiError::invalid("reply", "must be 1 to 5000 characters"));
        }
    }
    policy::unit_scope(&ctx.principal)?;
    write_tx(c, |c| {
        let u = visible(c, ctx, id)?;
        policy::answer_urge(&ctx.principal, u.unit_id)?;
        let by = ctx.principal.user_id;
        let (action, changed) = match &reply {
            Some(text) => {
                urges::reply(c, id, text, by, ctx.now)?;
                ("urge.reply", true)
            }
            None => ("urge.acknowledge", urges::acknowledge(c, id, by, ctx.now)?),
        };
        let row = urges::find(c, id)?.ok_or_else(|| ApiError::internal("urge vanished"))?;
        let after = json!({ "reply": reply });
        audit::record(c, &ctx.actor, action, "urge", Some(id), None, Some(&after))?;
        let urge = one(c, row)?;
        if changed {
            announce(c, ctx.now, EventType::UrgeAnswered, &urge)?;
        }
        Ok(urge)
    })
}
