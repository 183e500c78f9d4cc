//! Extension requests (延期申请): a unit asks before its due date for a later one; the office
//! approves with the date it grants (which becomes the assignment's due date, so overdue,
//! severity, standing and figures follow it) or rejects with a reason.

use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::domain::extension::{self, ExtensionState, Refusal};
use crate::domain::ids::AssignmentId;
use crate::domain::plan::PlanState;
use crate::domain::webhook::EventType;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, extensions, standing};
use chrono::NaiveDate;
use serde_json::json;

pub use crate::store::extensions::{ExtensionFilter, ExtensionRequest};

/// What a unit asks for.
#[derive(Debug, Clone)]
pub struct Ask {
    /// The due date it asks for.
    pub requested_due_date: NaiveDate,
    /// Why (1 to 2000 characters once trimmed).
    pub reason: String,
    /// The work done so far (1 to 5000 characters once trimmed).
    pub progress: String,
}

/// The office's answer.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Approve, granting this due date (with an optional note).
    Approve {
        granted_due_date: NaiveDate,
        note: Option<String>,
    },
    /// Reject, with the reason.
    Reject { reason: String },
}

fn refused(r: Refusal) -> ApiError {
    match r {
        // The date asked for or granted is the caller's mistake: a field to correct.
        Refusal::NotLater { .. } => ApiError::invalid(r.field(), r.message()),
        // The assignment's own state refuses it.
        Refusal::DueDatePassed { .. } | Refusal::Done => ApiError::Conflict {
            detail: r.message(),
            field: Some(r.field().to_owned()),
        },
    }
}

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("no extension request {id}"))
}

/// The request, if the caller may see it (else "not found").
fn visible(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<ExtensionRequest> {
    let r = extensions::find(c, id)?.ok_or_else(|| not_found(id))?;
    if policy::read_request(&ctx.principal, r.unit_id)? {
        Ok(r)
    } else {
        Err(not_found(id))
    }
}

fn reread(c: &mut AnyConnection, id: i64) -> ApiResult<ExtensionRequest> {
    extensions::find(c, id)?.ok_or_else(|| ApiError::internal("extension request vanished"))
}

/// What the audit trail keeps of a request: its dates and state, and the texts (a request is
/// the unit's formal statement to the office, never a draft).
fn audit_view(r: &ExtensionRequest) -> serde_json::Value {
    json!({
        "id": r.id,
        "assignment_id": r.assignment_id,
        "unit_id": r.unit_id,
        "state": r.state,
        "due_date": r.due_date,
        "requested_due_date": r.requested_due_date,
        "granted_due_date": r.granted_due_date,
        "reason": r.reason,
        "progress": r.progress,
        "decision_note": r.decision_note,
    })
}

/// The assignment's unit asks for a later due date, before the current one has come.
pub fn request(
    c: &mut AnyConnection,
    ctx: &Ctx,
    assignment_id: AssignmentId,
    ask: Ask,
) -> ApiResult<ExtensionRequest> {
    let reason = super::required_text("reason", &ask.reason, 2000)?;
    let progress = super::required_text("progress", &ask.progress, 5000)?;
    super::checked_day("requested_due_date", ask.requested_due_date)?;
    write_tx(c, |c| {
        let (a, plan_state) = super::assignments::visible_with_plan_state(
            c,
            policy::assignment_scope(&ctx.principal)?,
            assignment_id,
        )?;
        policy::respond_for_unit(&ctx.principal, a.unit_id, true)?;
        if plan_state != PlanState::Published {
            return Err(ApiError::Conflict {
                detail: "the plan is closed: its assignments are no longer extended".into(),
                field: None,
            });
        }
        let today = ctx.today();
        let done = standing::as_of(c, &[a.id], today)?
            .get(&a.id)
            .is_some_and(|s| s.done.is_some());
        extension::may_request(a.due_date, done, today, ask.requested_due_date).map_err(refused)?;
        if let Some(p) = extensions::pending_on(c, a.id)? {
            return Err(ApiError::Conflict {
                detail: format!(
                    "extension request {} on this assignment is still pending",
                    p.id
                ),
                field: None,
            });
        }
        let id = extensions::insert(
            c,
            &extensions::NewExtensionRequest {
                assignment_id: a.id,
                plan_id: a.plan_id,
                unit_id: a.unit_id,
                state: ExtensionState::Pending,
                due_date: a.due_date,
                requested_due_date: ask.requested_due_date,
                reason,
                progress,
                requested_by: Some(ctx.principal.user_id),
                requested_at: ctx.now,
            },
        )?;
        let r = reread(c, id)?;
        store::audit::record(
            c,
            &ctx.actor,
            "extension.request",
            "extension_request",
            Some(id),
            None,
            Some(&audit_view(&r)),
        )?;
        announce(c, ctx, EventType::ExtensionRequested, &r)?;
        Ok(r)
    })
}

/// One page of the requests the caller may see, newest first.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    mut filter: ExtensionFilter,
    before: Option<i64>,
    limit: i64,
) -> ApiResult<store::Page<ExtensionRequest>> {
    filter.unit_id = policy::request_units(&ctx.principal, filter.unit_id)?;
    let rows = extensions::list(c, &filter, before, limit)?;
    Ok(store::Page::from_rows(rows, limit, |r| r.id))
}

/// One request the caller may see.
pub fn get(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<ExtensionRequest> {
    visible(c, ctx, id)
}

/// The office approves (moving the assignment's due date to the granted one) or rejects a
/// pending request.
pub fn decide(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: i64,
    answer: Answer,
) -> ApiResult<ExtensionRequest> {
    policy::decide_requests(&ctx.principal)?;
    let (state, granted, note) = match answer {
        Answer::Approve {
            granted_due_date,
            note,
        } => {
            super::checked_day("granted_due_date", granted_due_date)?;
            let note = super::optional_text("note", note, 2000)?;
            (ExtensionState::Approved, Some(granted_due_date), note)
        }
        Answer::Reject { reason } => (
            ExtensionState::Rejected,
            None,
            Some(super::required_text("reason", &reason, 2000)?),
        ),
    };
    write_tx(c, |c| {
        let before = visible(c, ctx, id)?;
        if !before.state.next().contains(&state) {
            return Err(ApiError::Conflict {
                detail: format!("the request is {} already", before.state.as_str()),
                field: None,
            });
        }
        let (a, plan_state) = store::assignments::find_with_plan_state(c, before.assignment_id)?
            .ok_or_else(|| ApiError::internal("assignment of a request vanished"))?;
        if let Some(g) = granted {
            if plan_state != PlanState::Published {
                return Err(ApiError::Conflict {
                    detail: "the plan is closed: its due dates no longer move".into(),
                    field: None,
                });
            }
            extension::may_grant(a.due_date, g).map_err(refused)?;
        }
        let decision = extensions::Decision {
            state,
            granted_due_date: granted,
            note,
            by: Some(ctx.principal.user_id),
            at: ctx.now,
        };
        if !extensions::decide(c, id, &decision)? {
            return Err(ApiError::Conflict {
                detail: "the request was decided meanwhile".into(),
                field: None,
            });
        }
        if let Some(g) = granted {
            // The one way a due date moves: the assignment's history and standing follow.
            super::assignments::moved(c, ctx, &a, (g, None), a.cycle, None, true)?;
        }
        let after = reread(c, id)?;
        let action = match state {
            ExtensionState::Approved => "extension.approve",
            _ => "extension.reject",
        };
        store::audit::record(
            c,
            &ctx.actor,
            action,
            "extension_request",
            Some(id),
            Some(&audit_view(&before)),
            Some(&audit_view(&after)),
        )?;
        announce(c, ctx, EventType::ExtensionDecided, &after)?;
        Ok(after)
    })
}

/// Refuses the request pending on an assignment, if any, with `note` as the office's reason
/// (its assignment moved to another unit: the request was its former holder's).
pub(crate) fn refuse_pending(
    c: &mut AnyConnection,
    ctx: &Ctx,
    assignment: AssignmentId,
    note: String,
) -> ApiResult<()> {
    let Some(before) = extensions::pending_on(c, assignment)? else {
        return Ok(());
    };
    let decision = extensions::Decision {
        state: ExtensionState::Rejected,
        granted_due_date: None,
        note: Some(note),
        by: Some(ctx.principal.user_id),
        at: ctx.now,
    };
    extensions::decide(c, before.id, &decision)?;
    let after = reread(c, before.id)?;
    store::audit::record(
        c,
        &ctx.actor,
        "extension.reject",
        "extension_request",
        Some(before.id),
        Some(&audit_view(&before)),
        Some(&audit_view(&after)),
    )?;
    announce(c, ctx, EventType::ExtensionDecided, &after)
}

/// Tells the asking unit's subscriptions (and the office's) of a request's step.
fn announce(
    c: &mut AnyConnection,
    ctx: &Ctx,
    event: EventType,
    r: &ExtensionRequest,
) -> ApiResult<()> {
    let data = super::webhooks::named_id("extension_request_id", audit_view(r));
    super::webhooks::emit(c, ctx.now, event, r.unit_id, data)
}
