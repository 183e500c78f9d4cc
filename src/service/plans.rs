//! Plans (年度计划): built by the office as drafts, published to the units, closed when the year
//! is done. Units never see drafts.

use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::domain::ids::{PlanId, UnitId};
use crate::domain::plan::PlanState;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::{audit, plans, units};
use serde_json::json;

/// A plan's title and year as the office writes them, checked.
#[derive(Debug, Clone)]
pub struct PlanFields {
    /// The title, trimmed, 1 to 200 characters.
    pub title: String,
    /// The year, 2000 to 2100.
    pub year: i32,
}

impl PlanFields {
    /// Checks the title and the year, naming every field in error.
    pub fn parse(title: &str, year: i32) -> ApiResult<PlanFields> {
        let title = title.trim().to_owned();
        let mut errors = Vec::new();
        if title.is_empty() || title.chars().count() > 200 {
            errors.push(FieldError::new("title", "must be 1 to 200 characters"));
        }
        if !(2000..=2100).contains(&year) {
            errors.push(FieldError::new("year", "must be 2000 to 2100"));
        }
        if errors.is_empty() {
            Ok(PlanFields { title, year })
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// The plan, whoever asks.
pub fn load(c: &mut AnyConnection, id: PlanId) -> ApiResult<plans::Plan> {
    plans::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no plan {id}")))
}

/// The plan, if the caller may see it (units never see drafts); otherwise "not found".
pub fn visible(c: &mut AnyConnection, ctx: &Ctx, id: PlanId) -> ApiResult<plans::Plan> {
    let plan = load(c, id)?;
    if policy::read_plan(&ctx.principal, plan.state) {
        Ok(plan)
    } else {
        Err(ApiError::NotFound(format!("no plan {id}")))
    }
}

/// What the audit trail keeps of a plan: the plan as answered.
fn audit_view(p: &plans::Plan) -> serde_json::Value {
    json!({
        "id": p.id,
        "title": p.title,
        "year": p.year,
        "issuing_unit_id": p.issuing_unit_id,
        "state": p.state,
        "created_at": p.created_at.and_utc(),
        "published_at": p.published_at.map(|t| t.and_utc()),
        "closed_at": p.closed_at.map(|t| t.and_utc()),
    })
}

/// The plan as it is after a change, with the audit entry of the change.
fn changed(
    c: &mut AnyConnection,
    ctx: &Ctx,
    action: &str,
    before: &plans::Plan,
) -> ApiResult<plans::Plan> {
    let after = load(c, before.id)?;
    let (b, a) = (audit_view(before), audit_view(&after));
    let id = Some(before.id.0);
    audit::record(c, &ctx.actor, action, "plan", id, Some(&b), Some(&a))?;
    Ok(after)
}

/// One page of the plans the caller may see, of a year and in a state if asked.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    year: Option<i32>,
    state: Option<PlanState>,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<plans::Plan>> {
    policy::unit_scope(&ctx.principal)?;
    let mut states = policy::plan_states(&ctx.principal);
    if let Some(s) = state {
        states.retain(|x| *x == s);
    }
    Ok(plans::list(c, year, &states, after, limit)?)
}

/// One plan the caller may see.
pub fn get(c: &mut AnyConnection, ctx: &Ctx, id: PlanId) -> ApiResult<plans::Plan> {
    policy::unit_scope(&ctx.principal)?;
    visible(c, ctx, id)
}

/// The office creates a draft plan, issued by `issuer` (by default the caller's unit).
pub fn create(
    c: &mut AnyConnection,
    ctx: &Ctx,
    fields: PlanFields,
    issuer: Option<UnitId>,
) -> ApiResult<plans::Plan> {
    policy::manage_plans(&ctx.principal)?;
    let issuer = issuer.or(ctx.principal.unit_id);
    write_tx(c, |c| {
        if let Some(u) = issuer {
            if units::find(c, u)?.is_none() {
                return Err(ApiError::invalid("issuing_unit_id", "no such unit"));
            }
        }
        let id = plans::insert(c, &fields.title, fields.year, issuer, ctx.now)?;
        let plan = load(c, id)?;
        let after = audit_view(&plan);
        audit::record(
            c,
            &ctx.actor,
            "plan.create",
            "plan",
            Some(id.0),
            None,
            Some(&after),
        )?;
        Ok(plan)
    })
}

/// The office changes a plan's title or year (not once closed).
pub fn update(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: PlanId,
    fields: PlanFields,
) -> ApiResult<plans::Plan> {
    policy::manage_plans(&ctx.principal)?;
    write_tx(c, |c| {
        let before = load(c, id)?;
        ensure_not_closed(&before)?;
        plans::update(c, id, &fields.title, fields.year, ctx.now)?;
        changed(c, ctx, "plan.update", &before)
    })
}

/// A step in a plan's life.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// Draft → published: the units see their assignments from now on.
    Publish,
    /// Published → closed: the plan becomes read-only.
    Close,
}

/// The office publishes or closes a plan.
pub fn transition(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: PlanId,
    step: Step,
) -> ApiResult<plans::Plan> {
    policy::manage_plans(&ctx.principal)?;
    let action = match step {
        Step::Publish => "plan.publish",
        Step::Close => "plan.close",
    };
    write_tx(c, |c| {
        let before = load(c, id)?;
        let next = match step {
            Step::Publish => PlanState::publish(before.state),
            Step::Close => PlanState::close(before.state),
        };
        let next = next.map_err(|m| ApiError::Conflict {
            detail: m.into(),
            field: Some("state".into()),
        })?;
        plans::set_state(c, id, next, ctx.now)?;
        if let Step::Publish = step {
            // Due dates given as working days after publication count from today.
            super::assignments::recount_due_dates(c, ctx, Some(id), None, "plan published", false)?;
            // Its units see its assignments from now on: each is announced once, as it stands.
            super::webhooks::announce_plan(c, ctx.now, id)?;
        }
        changed(c, ctx, action, &before)
    })
}

/// A plan open to changes of its tree: not closed.
pub fn ensure_not_closed(plan: &plans::Plan) -> ApiResult<()> {
    if plan.state == PlanState::Closed {
        return Err(ApiError::Conflict {
            detail: "a closed plan cannot change".into(),
            field: None,
        });
    }
    Ok(())
}
