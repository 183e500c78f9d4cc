//! Disputes (异议 / 调整申请): the assigned unit states that an assignment is not its
//! responsibility, or that its role is wrong; the office resolves it by withdrawing the
//! assignment, moving it to another unit (the reports the former holder wrote stay, naming
//! it), changing its role, or rejecting the dispute with a reason.

use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::domain::dispute::{self, DisputeKind, DisputeState, Effect, Outcome, Refusal};
use crate::domain::ids::AssignmentId;
use crate::domain::plan::PlanState;
use crate::domain::webhook::EventType;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, assignments, audit, disputes, units};
use serde_json::json;

pub use crate::store::disputes::{Dispute, DisputeFilter};

/// What a unit states.
#[derive(Debug, Clone)]
pub struct Raise {
    /// What it disputes.
    pub kind: DisputeKind,
    /// Why (1 to 2000 characters once trimmed).
    pub reason: String,
}

fn refused(r: Refusal) -> ApiError {
    ApiError::invalid(r.field(), r.message())
}

fn conflict(detail: impl Into<String>, field: Option<&str>) -> ApiError {
    ApiError::Conflict {
        detail: detail.into(),
        field: field.map(str::to_owned),
    }
}

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("no dispute {id}"))
}

/// The dispute, if the caller may see it (else "not found"): the office any, a unit those
/// it raised.
fn visible(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<Dispute> {
    let d = disputes::find(c, id)?.ok_or_else(|| not_found(id))?;
    if policy::read_request(&ctx.principal, d.unit_id)? {
        Ok(d)
    } else {
        Err(not_found(id))
    }
}

fn reread(c: &mut AnyConnection, id: i64) -> ApiResult<Dispute> {
    disputes::find(c, id)?.ok_or_else(|| ApiError::internal("dispute vanished"))
}

/// What the audit trail keeps of a dispute (a formal statement to the office, never a draft).
fn audit_view(d: &Dispute) -> serde_json::Value {
    json!({
        "id": d.id,
        "assignment_id": d.assignment_id,
        "measure_id": d.measure_id,
        "unit_id": d.unit_id,
        "role": d.role,
        "kind": d.kind,
        "reason": d.reason,
        "state": d.state,
        "outcome": d.outcome,
        "moved_to_unit_id": d.moved_to_unit_id,
        "new_role": d.new_role,
        "resolution_note": d.resolution_note,
    })
}

/// The assigned unit disputes its assignment (its manager, or its system with
/// `assignments:respond`) while the plan is published; one dispute per assignment may be
/// pending.
pub fn raise(
    c: &mut AnyConnection,
    ctx: &Ctx,
    assignment_id: AssignmentId,
    raise: Raise,
) -> ApiResult<Dispute> {
    let reason = super::required_text("reason", &raise.reason, 2000)?;
    write_tx(c, |c| {
        let (a, plan_state) = super::assignments::visible_with_plan_state(
            c,
            policy::assignment_scope(&ctx.principal)?,
            assignment_id,
        )?;
        policy::respond_for_unit(&ctx.principal, a.unit_id, true)?;
        if plan_state != PlanState::Published {
            return Err(conflict(
                "the plan is closed: its assignments are no longer disputed",
                None,
            ));
        }
        dispute::may_raise(raise.kind, a.role).map_err(refused)?;
        if let Some(p) = disputes::pending_on(c, a.id)? {
            return Err(conflict(
                format!("dispute {} on this assignment is still pending", p.id),
                None,
            ));
        }
        let id = disputes::insert(
            c,
            &disputes::NewDispute {
                assignment_id: Some(a.id),
                plan_id: a.plan_id,
                measure_id: a.measure_id,
                unit_id: a.unit_id,
                role: a.role,
                kind: raise.kind,
                reason,
                state: DisputeState::Pending,
                raised_by: Some(ctx.principal.user_id),
                raised_at: ctx.now,
            },
        )?;
        let d = reread(c, id)?;
        audit::record(
            c,
            &ctx.actor,
            "dispute.raise",
            "dispute",
            Some(id),
            None,
            Some(&audit_view(&d)),
        )?;
        announce(c, ctx, EventType::DisputeRaised, &d)?;
        Ok(d)
    })
}

/// One page of the disputes the caller may see, newest first.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    mut filter: DisputeFilter,
    before: Option<i64>,
    limit: i64,
) -> ApiResult<store::Page<Dispute>> {
    filter.unit_id = policy::request_units(&ctx.principal, filter.unit_id)?;
    let rows = disputes::list(c, &filter, before, limit)?;
    Ok(store::Page::from_rows(rows, limit, |d| d.id))
}

/// One dispute the caller may see.
pub fn get(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<Dispute> {
    visible(c, ctx, id)
}

/// The office resolves a pending dispute: withdraws the assignment (when no report was written
/// on it), moves it to another unit, changes its role, or rejects the dispute with a reason.
/// The dispute, the change to the assignment and their audit entries commit together.
pub fn resolve(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: i64,
    mut r: dispute::Resolution,
) -> ApiResult<Dispute> {
    policy::decide_requests(&ctx.principal)?;
    r.reason = super::optional_text("reason", r.reason, 2000)?;
    write_tx(c, |c| {
        let before = visible(c, ctx, id)?;
        if before.state != DisputeState::Pending {
            return Err(conflict("the dispute is resolved already", None));
        }
        let withdrawn = || conflict("the assignment was withdrawn meanwhile", None);
        let asg = before.assignment_id.ok_or_else(withdrawn)?;
        let (a, plan_state) = assignments::find_with_plan_state(c, asg)?.ok_or_else(withdrawn)?;
        let effect = dispute::resolve(before.kind, a.unit_id, a.role, &r).map_err(refused)?;
        if effect != Effect::Keep && plan_state != PlanState::Published {
            return Err(conflict(
                "the plan is closed: its assignments no longer change; reject the dispute instead",
                Some("outcome"),
            ));
        }
        if let Effect::MoveTo(u) = effect {
            may_take_over(c, &a, u)?;
        }
        let settlement = disputes::Settlement {
            outcome: r.outcome,
            moved_to_unit_id: match effect {
                Effect::MoveTo(u) => Some(u),
                _ => None,
            },
            new_role: match effect {
                Effect::Role(role) => Some(role),
                _ => None,
            },
            note: r.reason.clone(),
            by: Some(ctx.principal.user_id),
            at: ctx.now,
        };
        if !disputes::settle(c, id, &settlement)? {
            return Err(conflict("the dispute was resolved meanwhile", None));
        }
        match effect {
            Effect::Withdraw => super::assignments::withdrawn(c, ctx, &a)?,
            Effect::MoveTo(u) => moved_to(c, ctx, &a, u)?,
            Effect::Role(role) => {
                assignments::set_role(c, a.id, role, ctx.now)?;
                audit::record(
                    c,
                    &ctx.actor,
                    "assignment.change_role",
                    "assignment",
                    Some(a.id.0),
                    Some(&json!({"role": a.role})),
                    Some(&json!({"role": role, "dispute_id": id})),
                )?;
                let now = assignments::Assignment { role, ..a.clone() };
                let extra =
                    json!({"before": {"role": a.role}, "reason": "dispute", "dispute_id": id});
                let event = EventType::AssignmentChanged;
                super::webhooks::emit_assignment(c, ctx.now, event, &now, extra)?;
            }
            Effect::Keep => {}
        }
        let after = reread(c, id)?;
        audit::record(
            c,
            &ctx.actor,
            "dispute.resolve",
            "dispute",
            Some(id),
            Some(&audit_view(&before)),
            Some(&audit_view(&after)),
        )?;
        announce(c, ctx, EventType::DisputeResolved, &after)?;
        Ok(after)
    })
}

/// May `unit` take the assignment over? An active unit that holds nothing on the measure yet.
fn may_take_over(
    c: &mut AnyConnection,
    a: &assignments::Assignment,
    unit: crate::domain::ids::UnitId,
) -> ApiResult<()> {
    if !units::find(c, unit)?.is_some_and(|u| u.active) {
        return Err(ApiError::invalid("unit_id", "no such active unit"));
    }
    if assignments::of_unit_on_measure(c, unit, a.measure_id)?.is_some() {
        return Err(conflict(
            "the unit holds an assignment on this measure already; withdraw this one instead",
            Some("unit_id"),
        ));
    }
    Ok(())
}

/// Hands an assignment over to `unit` (checked by [`may_take_over`]). A request for more time
/// its former holder has pending is refused, naming the move.
fn moved_to(
    c: &mut AnyConnection,
    ctx: &Ctx,
    a: &assignments::Assignment,
    unit: crate::domain::ids::UnitId,
) -> ApiResult<()> {
    super::extensions::refuse_pending(
        c,
        ctx,
        a.id,
        format!("the assignment moved to another unit (unit {unit}) on a dispute"),
    )?;
    assignments::move_to(c, a.id, unit, ctx.now)?;
    audit::record(
        c,
        &ctx.actor,
        "assignment.move",
        "assignment",
        Some(a.id.0),
        Some(
            &json!({"unit_id": a.unit_id, "via_group_id": a.via_group_id,
                     "received_at": a.received_at.map(|t| t.and_utc()),
                     "received_by": a.received_by}),
        ),
        Some(&json!({"unit_id": unit})),
    )?;
    // The former holder sees it go; the new one sees it come (the office both).
    let extra = json!({"reason": "moved"});
    super::webhooks::emit_assignment(c, ctx.now, EventType::AssignmentWithdrawn, a, extra)?;
    let taken =
        assignments::find(c, a.id)?.ok_or_else(|| ApiError::internal("assignment vanished"))?;
    super::webhooks::emit_created(c, ctx.now, std::slice::from_ref(&taken))?;
    Ok(())
}

/// Settles the disputes pending on an assignment the office withdraws directly: the
/// withdrawal answers them.
pub(crate) fn settle_on_withdrawal(
    c: &mut AnyConnection,
    ctx: &Ctx,
    assignment: AssignmentId,
) -> ApiResult<()> {
    if let Some(p) = disputes::pending_on(c, assignment)? {
        let s = disputes::Settlement {
            outcome: Outcome::Withdraw,
            moved_to_unit_id: None,
            new_role: None,
            note: None,
            by: Some(ctx.principal.user_id),
            at: ctx.now,
        };
        disputes::settle(c, p.id, &s)?;
        let after = reread(c, p.id)?;
        audit::record(
            c,
            &ctx.actor,
            "dispute.resolve",
            "dispute",
            Some(p.id),
            Some(&audit_view(&p)),
            Some(&audit_view(&after)),
        )?;
        announce(c, ctx, EventType::DisputeResolved, &after)?;
    }
    Ok(())
}

/// Tells the disputing unit's subscriptions (and the office's) of a dispute's step.
fn announce(c: &mut AnyConnection, ctx: &Ctx, event: EventType, d: &Dispute) -> ApiResult<()> {
    let data = super::webhooks::named_id("dispute_id", audit_view(d));
    super::webhooks::emit(c, ctx.now, event, d.unit_id, data)
}
