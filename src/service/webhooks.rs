//! Webhooks (事件推送): subscriptions kept by a unit (or the office), the events every other use
//! case emits through [`emit`] in its own transaction, and the delivery log.
//!
//! Whom an event reaches is decided once, in [`crate::domain::webhook::reaches`]: a unit's
//! subscriptions get events about the unit's own work, the office's get every unit's. Events
//! carry what their receiver may read anyway: ids, states, dates and the sent revision's
//! figures — never a draft, whose writes emit nothing.

use super::Ctx;
use crate::auth::policy::{self, WebhookKeeper};
use crate::db::{write_tx, AnyConnection};
use crate::domain::destination::Destinations;
use crate::domain::ids::UnitId;
use crate::domain::webhook::{self, Covers, DeliveryState, EventSet, EventType};
use crate::error::{ApiError, ApiResult};
use crate::store::{self, audit, webhooks};
use serde_json::{json, Value};

/// A new subscription, as a caller asks for it.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// Where deliveries go (`http://` or `https://`).
    pub url: String,
    /// The event type names (`*` for all).
    pub events: Vec<String>,
    /// A note for people (up to 500 characters).
    pub description: Option<String>,
    /// Whose events: the office may choose; a unit gets its own.
    pub covers: Option<Covers>,
}

/// A change to a subscription (`None` keeps a field).
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    /// `true` turns a disabled subscription back on (its failures forgotten), `false` pauses it.
    pub active: Option<bool>,
}

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("no webhook {id}"))
}

/// A subscriber URL, well formed and naming a host this server delivers to.
fn checked_url(url: &str, destinations: &Destinations) -> ApiResult<String> {
    let url = url.trim();
    let host = webhook::check_url(url).map_err(|m| ApiError::invalid("url", m))?;
    destinations
        .check_host(host)
        .map_err(|m| ApiError::invalid("url", m))?;
    Ok(url.to_owned())
}

fn checked_events(names: &[String]) -> ApiResult<EventSet> {
    EventSet::from_names(names).map_err(|m| ApiError::invalid("events", m))
}

/// What the audit trail keeps of a subscription: never its secret.
fn audit_view(w: &webhooks::Webhook) -> Value {
    json!({
        "unit_id": w.unit_id, "covers": w.covers, "url": w.url, "events": w.events,
        "active": w.active,
    })
}

/// The subscription, if the caller keeps it; "not found" otherwise.
fn kept(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<webhooks::Webhook> {
    let keeper = policy::keep_webhooks(&ctx.principal)?;
    let w = webhooks::find(c, id)?.ok_or_else(|| not_found(id))?;
    match keeper {
        WebhookKeeper::Office(_) => Ok(w),
        WebhookKeeper::Unit(u) if w.unit_id == Some(u) && w.covers == Covers::Unit => Ok(w),
        WebhookKeeper::Unit(_) => Err(not_found(id)),
    }
}

/// Subscribes: returns the subscription and its signing secret (shown this once).
pub fn create(
    c: &mut AnyConnection,
    ctx: &Ctx,
    new: NewSubscription,
    destinations: &Destinations,
) -> ApiResult<(webhooks::Webhook, String)> {
    let keeper = policy::keep_webhooks(&ctx.principal)?;
    let url = checked_url(&new.url, destinations)?;
    let events = checked_events(&new.events)?;
    let description = super::optional_text("description", new.description, 500)?;
    let (unit, covers) = match (keeper, new.covers) {
        (WebhookKeeper::Office(unit), covers) => (unit, covers.unwrap_or(Covers::All)),
        (WebhookKeeper::Unit(unit), None | Some(Covers::Unit)) => (Some(unit), Covers::Unit),
        (WebhookKeeper::Unit(_), Some(Covers::All)) => {
            return Err(ApiError::Forbidden(
                "only the coordinating office subscribes to every unit's events".into(),
            ))
        }
    };
    if covers == Covers::Unit && unit.is_none() {
        return Err(ApiError::invalid(
            "covers",
            "an account of no unit subscribes to every unit's events (covers: all)",
        ));
    }
    let secret = webhook::new_secret();
    write_tx(c, |c| {
        webhooks::lock_keeper(c, unit, covers)?;
        if webhooks::count_kept(c, unit, covers)? >= webhook::MAX_SUBSCRIPTIONS {
            let keeper = match covers {
                Covers::Unit => "the unit",
                Covers::All => "the office",
            };
            return Err(ApiError::Conflict {
                detail: format!(
                    "{keeper} keeps {} webhooks already, the most it may; delete one first",
                    webhook::MAX_SUBSCRIPTIONS
                ),
                field: None,
            });
        }
        let id = webhooks::insert(
            c,
            &webhooks::NewWebhook {
                unit_id: unit,
                covers,
                url: &url,
                events: events.to_stored(),
                description: description.as_deref(),
                secret: &secret,
                active: true,
                created_by: Some(ctx.principal.user_id),
                created_at: ctx.now,
                updated_at: ctx.now,
            },
        )?;
        let w = webhooks::find(c, id)?.ok_or_else(|| ApiError::internal("webhook vanished"))?;
        let after = audit_view(&w);
        audit::record(
            c,
            &ctx.actor,
            "webhook.create",
            "webhook",
            Some(id),
            None,
            Some(&after),
        )?;
        Ok((w, secret.clone()))
    })
}

/// One page of the subscriptions the caller keeps.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<store::Page<webhooks::Webhook>> {
    let owner = match policy::keep_webhooks(&ctx.principal)? {
        WebhookKeeper::Office(_) => webhooks::Owner::Any,
        WebhookKeeper::Unit(u) => webhooks::Owner::Unit(u),
    };
    let rows = webhooks::list(c, owner, after, limit)?;
    Ok(store::Page::from_rows(rows, limit, |w| w.id))
}

/// One subscription the caller keeps.
pub fn get(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<webhooks::Webhook> {
    kept(c, ctx, id)
}

/// Changes a subscription: its URL, events, description, or whether it is active.
pub fn change(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: i64,
    ch: Change,
    destinations: &Destinations,
) -> ApiResult<webhooks::Webhook> {
    let url = ch
        .url
        .as_deref()
        .map(|u| checked_url(u, destinations))
        .transpose()?;
    let events = ch.events.as_deref().map(checked_events).transpose()?;
    let description = match ch.description {
        Some(d) => Some(super::optional_text("description", d, 500)?),
        None => None,
    };
    write_tx(c, |c| {
        let before = kept(c, ctx, id)?;
        let reenabled = ch.active == Some(true) && !before.active;
        let mut set = webhooks::WebhookChange {
            url: url.clone(),
            events: events.as_ref().map(EventSet::to_stored),
            description: description.clone(),
            active: ch.active,
            updated_at: Some(ctx.now),
            ..Default::default()
        };
        if reenabled || ch.active == Some(false) {
            set.disabled_reason = Some(None);
            set.disabled_at = Some(None);
        }
        webhooks::update(c, id, &set)?;
        let after = webhooks::find(c, id)?.ok_or_else(|| not_found(id))?;
        audit::record(
            c,
            &ctx.actor,
            "webhook.update",
            "webhook",
            Some(id),
            Some(&audit_view(&before)),
            Some(&audit_view(&after)),
        )?;
        Ok(after)
    })
}

/// Gives a subscription a new signing secret (shown this once); the old one stops at once.
pub fn rotate_secret(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: i64,
) -> ApiResult<(webhooks::Webhook, String)> {
    let secret = webhook::new_secret();
    write_tx(c, |c| {
        let w = kept(c, ctx, id)?;
        let set = webhooks::WebhookChange {
            secret: Some(secret.clone()),
            updated_at: Some(ctx.now),
            ..Default::default()
        };
        webhooks::update(c, id, &set)?;
        let view = audit_view(&w);
        let action = "webhook.rotate_secret";
        audit::record(
            c,
            &ctx.actor,
            action,
            "webhook",
            Some(id),
            None,
            Some(&view),
        )?;
        let w = webhooks::find(c, id)?.ok_or_else(|| not_found(id))?;
        Ok((w, secret.clone()))
    })
}

/// Removes a subscription and its delivery log.
pub fn remove(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<()> {
    write_tx(c, |c| {
        let w = kept(c, ctx, id)?;
        webhooks::delete(c, id)?;
        let before = audit_view(&w);
        audit::record(
            c,
            &ctx.actor,
            "webhook.delete",
            "webhook",
            Some(id),
            Some(&before),
            None,
        )?;
        Ok(())
    })
}

/// Sends a `ping` event to one subscription; returns the delivery queued (a paused or
/// disabled subscription gets it once resumed).
pub fn ping(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<webhooks::Delivery> {
    write_tx(c, |c| {
        let w = kept(c, ctx, id)?;
        let data = json!({"webhook_id": w.id, "url": w.url});
        let d = webhooks::publish_to(c, ctx.now, EventType::Ping, w.unit_id, &data, id)?;
        webhooks::delivery(c, id, d)?.ok_or_else(|| ApiError::internal("ping delivery vanished"))
    })
}

/// One page of a subscription's deliveries, newest first.
pub fn deliveries(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: i64,
    state: Option<DeliveryState>,
    before: Option<i64>,
    limit: i64,
) -> ApiResult<store::Page<webhooks::Delivery>> {
    kept(c, ctx, id)?;
    let rows = webhooks::deliveries(c, id, state, before, limit)?;
    Ok(store::Page::from_rows(rows, limit, |d| d.id))
}

/// Queues a delivery's event again for its subscription (whatever became of it); returns the
/// new delivery.
pub fn redeliver(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: i64,
    delivery: i64,
) -> ApiResult<webhooks::Delivery> {
    write_tx(c, |c| {
        kept(c, ctx, id)?;
        let d = webhooks::delivery(c, id, delivery)?
            .ok_or_else(|| ApiError::NotFound(format!("no delivery {delivery} of webhook {id}")))?;
        let new = webhooks::redeliver(c, &d, ctx.now)?;
        let after = json!({"delivery_id": new, "event_id": d.event_id, "redelivery_of": d.id});
        audit::record(
            c,
            &ctx.actor,
            "webhook.redeliver",
            "webhook",
            Some(id),
            None,
            Some(&after),
        )?;
        webhooks::delivery(c, id, new)?.ok_or_else(|| ApiError::internal("delivery vanished"))
    })
}

/// Emits an event about `unit`'s work, in the caller's transaction: delivered to the
/// subscriptions it reaches once that transaction commits, never if it rolls back.
pub fn emit(
    c: &mut AnyConnection,
    now: chrono::NaiveDateTime,
    event: EventType,
    unit: UnitId,
    data: Value,
) -> ApiResult<()> {
    store::webhooks::publish(c, now, event, unit, &data)?;
    Ok(())
}

/// Emits an event about an assignment, with [`assignment_data`] and `extra`'s fields, if its
/// unit may see it (its plan is published: [`policy::units_see_plan`]); an assignment of a
/// draft plan is announced when the plan is published.
pub fn emit_assignment(
    c: &mut AnyConnection,
    now: chrono::NaiveDateTime,
    event: EventType,
    a: &store::assignments::Assignment,
    extra: Value,
) -> ApiResult<()> {
    if !listening(c)? {
        return Ok(());
    }
    let plan = store::plans::find(c, a.plan_id)?;
    if !plan.is_some_and(|p| policy::units_see_plan(p.state)) {
        return Ok(());
    }
    emit(c, now, event, a.unit_id, with(assignment_data(a), extra))
}

/// Whether any subscription is active: callers that would load records only to build events
/// ask first, so that without subscribers a write costs one query more, not a load.
pub fn listening(c: &mut AnyConnection) -> ApiResult<bool> {
    Ok(store::webhooks::any_active(c)?)
}

/// Announces a plan's assignments at its publication (`assignment.created`), as they stand.
pub fn announce_plan(
    c: &mut AnyConnection,
    now: chrono::NaiveDateTime,
    plan: crate::domain::ids::PlanId,
) -> ApiResult<()> {
    if !listening(c)? {
        return Ok(());
    }
    let filter = store::assignments::AssignmentFilter {
        plan_id: Some(plan),
        ..Default::default()
    };
    let all = store::assignments::list_all(c, &filter)?;
    emit_created(c, now, &all)
}

/// Announces assignments its units may now see (`assignment.created`): on a published plan at
/// once, and all of a plan's when it is published.
pub fn emit_created(
    c: &mut AnyConnection,
    now: chrono::NaiveDateTime,
    assignments: &[store::assignments::Assignment],
) -> ApiResult<()> {
    let events: Vec<(UnitId, Value)> = assignments
        .iter()
        .map(|a| (a.unit_id, assignment_data(a)))
        .collect();
    store::webhooks::publish_many(c, now, EventType::AssignmentCreated, &events)?;
    Ok(())
}

/// Report data with the number of the revision just sent.
pub fn with_revision(data: Value, revision: i32) -> Value {
    with(data, json!({ "revision": revision }))
}

/// A record's view as event data: its `id` named for what it is (`dispute_id`, …), so that the
/// body's own `id` stays the event's.
pub fn named_id(name: &str, mut view: Value) -> Value {
    if let Some(o) = view.as_object_mut() {
        if let Some(id) = o.remove("id") {
            o.insert(name.to_owned(), id);
        }
    }
    view
}

/// `base` with `extra`'s fields added (an object; anything else adds nothing).
fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

/// The data of an event about an assignment.
pub fn assignment_data(a: &store::assignments::Assignment) -> Value {
    json!({
        "assignment_id": a.id, "plan_id": a.plan_id, "measure_id": a.measure_id,
        "unit_id": a.unit_id, "role": a.role, "due_date": a.due_date, "cycle": a.cycle,
    })
}

/// The data of an event about a sent report: what was sent (never a draft's text, nor any
/// text: the receiver reads the report through the API, as its policy allows).
pub fn report_data(r: &store::reports::Report) -> Value {
    json!({
        "report_id": r.id, "assignment_id": r.assignment_id, "unit_id": r.unit_id,
        "period": r.period, "workflow": r.workflow, "status": r.status, "progress": r.progress,
        "submitted_at": r.submitted_at.map(|t| t.and_utc()),
        "reviewed_at": r.reviewed_at.map(|t| t.and_utc()),
        "return_reason": r.return_reason,
    })
}
