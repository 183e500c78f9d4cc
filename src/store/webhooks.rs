//! Webhook subscriptions, the event outbox and the delivery log.
//!
//! An event is written by [`publish`] in the transaction of the change it describes, with one
//! delivery row per subscription it reaches; nothing is written when none does. Workers claim
//! due deliveries with [`claim`] (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer
//! lock on SQLite) under a lease: a worker that dies mid-delivery leaves the row
//! `delivering` until the lease ends, when it is due again. A delivery is therefore sent at
//! least once and, but for such a crash after the receiver answered, exactly once.

use crate::db::schema::{webhook_deliveries as wd, webhook_events as we, webhooks as wh};
use crate::db::AnyConnection;
use crate::domain::ids::{UnitId, UserId};
use crate::domain::webhook::{Covers, DeliveryState, EventSet, EventType};
use crate::on_backend;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A subscription as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = wh, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Webhook {
    pub id: i64,
    pub unit_id: Option<UnitId>,
    pub covers: Covers,
    pub url: String,
    pub events: String,
    pub description: Option<String>,
    pub secret: String,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_success_at: Option<NaiveDateTime>,
}

/// A new subscription.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = wh)]
pub struct NewWebhook<'a> {
    pub unit_id: Option<UnitId>,
    pub covers: Covers,
    pub url: &'a str,
    pub events: String,
    pub description: Option<&'a str>,
    pub secret: &'a str,
    pub active: bool,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A change to a subscription (`None` keeps a field).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = wh)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub events: Option<String>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
    pub disabled_reason: Option<Option<String>>,
    pub disabled_at: Option<Option<NaiveDateTime>>,
    pub secret: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Which subscriptions a caller lists: one unit's, or every one (the office).
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    /// This unit's own subscriptions (`covers: unit`).
    Unit(UnitId),
    /// Every subscription.
    Any,
}

/// Adds a subscription; returns its id.
pub fn insert(c: &mut AnyConnection, w: &NewWebhook<'_>) -> QueryResult<i64> {
    on_backend!(c, |c| diesel::insert_into(wh::table)
        .values(w)
        .returning(wh::id)
        .get_result(c))
}

/// The subscription with this id.
pub fn find(c: &mut AnyConnection, id: i64) -> QueryResult<Option<Webhook>> {
    wh::table
        .find(id)
        .select(Webhook::as_select())
        .first(c)
        .optional()
}

/// The subscriptions of `owner`, in id order after `after` (up to `limit + 1`).
pub fn list(
    c: &mut AnyConnection,
    owner: Owner,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Webhook>> {
    let mut q = wh::table
        .select(Webhook::as_select())
        .order(wh::id)
        .limit(limit + 1)
        .into_boxed();
    if let Owner::Unit(u) = owner {
        // A unit's own subscriptions (never an office subscription made by a member of it).
        q = q
            .filter(wh::unit_id.eq(u))
            .filter(wh::covers.eq(Covers::Unit));
    }
    if let Some(a) = after {
        q = q.filter(wh::id.gt(a));
    }
    q.load(c)
}

/// Makes concurrent subscriptions by one keeper take turns until the transaction ends (an
/// advisory lock on PostgreSQL; SQLite's writer lock does it there), so its count stays true.
pub fn lock_keeper(c: &mut AnyConnection, unit: Option<UnitId>, covers: Covers) -> QueryResult<()> {
    const KEEPER_LOCK: i64 = 0x6475_6261_6e00_0000;
    let key = match (covers, unit) {
        (Covers::Unit, Some(u)) => KEEPER_LOCK.wrapping_add(1).wrapping_add(u.0),
        _ => KEEPER_LOCK,
    };
    advisory_xact_lock(c, key)
}

/// Waits for PostgreSQL's transaction-level advisory lock `key` (held until the transaction
/// ends); nothing on SQLite, whose writers take turns anyway.
fn advisory_xact_lock(c: &mut AnyConnection, key: i64) -> QueryResult<()> {
    if let AnyConnection::Pg(pg) = c {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(key)
            .execute(pg)?;
    }
    Ok(())
}

/// How many subscriptions a keeper holds: `unit`'s own (`covers: unit`), or those covering
/// every unit (`covers: all`).
pub fn count_kept(c: &mut AnyConnection, unit: Option<UnitId>, covers: Covers) -> QueryResult<i64> {
    let mut q = wh::table.filter(wh::covers.eq(covers)).count().into_boxed();
    if covers == Covers::Unit {
        q = q.filter(wh::unit_id.eq(unit));
    }
    q.get_result(c)
}

/// Changes a subscription.
pub fn update(c: &mut AnyConnection, id: i64, ch: &WebhookChange) -> QueryResult<usize> {
    diesel::update(wh::table.find(id)).set(ch).execute(c)
}

/// Removes a subscription and its delivery log.
pub fn delete(c: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(wd::table.filter(wd::webhook_id.eq(id))).execute(c)?;
    diesel::delete(wh::table.find(id)).execute(c)
}

/// The active subscriptions that may receive events about some unit's work: the office's
/// (every unit's) and the units' own, with the event types each wants.
struct Subscribers(Vec<(i64, Covers, Option<UnitId>, EventSet)>);

impl Subscribers {
    /// Those that may receive events about `unit`'s work (`None`: any unit's). Both queries
    /// have a fixed text, so they stay prepared.
    fn load(c: &mut AnyConnection, unit: Option<UnitId>) -> QueryResult<Self> {
        let columns = (wh::id, wh::covers, wh::unit_id, wh::events);
        let rows: Vec<(i64, Covers, Option<UnitId>, String)> = match unit {
            Some(unit) => wh::table
                .filter(wh::active.eq(true))
                .filter(
                    wh::covers
                        .eq(Covers::All)
                        .or(wh::unit_id.eq(unit).and(wh::covers.eq(Covers::Unit))),
                )
                .select(columns)
                .load(c)?,
            None => wh::table
                .filter(wh::active.eq(true))
                .select(columns)
                .load(c)?,
        };
        Ok(Subscribers(
            rows.into_iter()
                .map(|(id, covers, owner, events)| {
                    (id, covers, owner, EventSet::from_stored(&events))
                })
                .collect(),
        ))
    }

    /// Those an event of this type about `unit`'s work reaches.
    fn reached(&self, event_type: EventType, unit: UnitId) -> Vec<i64> {
        self.0
            .iter()
            .filter(|(_, covers, owner, events)| {
                crate::domain::webhook::reaches(*covers, owner.map(|u| u.0), unit.0)
                    && events.contains(event_type)
            })
            .map(|(id, ..)| *id)
            .collect()
    }
}

/// Whether any subscription is active (events are built only when one may want them).
pub fn any_active(c: &mut AnyConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(wh::table.filter(wh::active.eq(true)))).get_result(c)
}

/// Writes an event about `unit`'s work and queues a delivery to every active subscription it
/// reaches, in the caller's transaction. Returns the event's id, or `None` when no subscription
/// wanted it (nothing is written then).
pub fn publish(
    c: &mut AnyConnection,
    now: NaiveDateTime,
    event_type: EventType,
    unit: UnitId,
    data: &serde_json::Value,
) -> QueryResult<Option<i64>> {
    publish_many(c, now, event_type, &[(unit, data.clone())]).map(|ids| ids.first().copied())
}

/// [`publish`] for many events of one type (a plan's publication), reading the subscriptions
/// once. Returns the ids of the events written.
pub fn publish_many(
    c: &mut AnyConnection,
    now: NaiveDateTime,
    event_type: EventType,
    events: &[(UnitId, serde_json::Value)],
) -> QueryResult<Vec<i64>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let one_unit = events
        .iter()
        .all(|(u, _)| *u == events[0].0)
        .then_some(events[0].0);
    let subscribers = Subscribers::load(c, one_unit)?;
    let mut written = Vec::new();
    for (unit, data) in events {
        let targets = subscribers.reached(event_type, *unit);
        if targets.is_empty() {
            continue;
        }
        let event = insert_event(c, now, event_type, Some(*unit), data)?;
        queue(c, event, &targets, now)?;
        written.push(event);
    }
    Ok(written)
}

/// Writes an event for one subscription alone (a ping); returns its delivery's id.
pub fn publish_to(
    c: &mut AnyConnection,
    now: NaiveDateTime,
    event_type: EventType,
    unit: Option<UnitId>,
    data: &serde_json::Value,
    webhook: i64,
) -> QueryResult<i64> {
    let event = insert_event(c, now, event_type, unit, data)?;
    queue(c, event, &[webhook], now)?;
    wd::table
        .filter(wd::event_id.eq(event))
        .filter(wd::webhook_id.eq(webhook))
        .select(wd::id)
        .first(c)
}

fn insert_event(
    c: &mut AnyConnection,
    now: NaiveDateTime,
    event_type: EventType,
    unit: Option<UnitId>,
    data: &serde_json::Value,
) -> QueryResult<i64> {
    on_backend!(c, |c| diesel::insert_into(we::table)
        .values((
            we::event_type.eq(event_type),
            we::unit_id.eq(unit),
            we::occurred_at.eq(now),
            we::data.eq(data.to_string()),
        ))
        .returning(we::id)
        .get_result(c))
}

fn queue(
    c: &mut AnyConnection,
    event: i64,
    targets: &[i64],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let rows: Vec<_> = targets
        .iter()
        .map(|w| {
            (
                wd::webhook_id.eq(*w),
                wd::event_id.eq(event),
                wd::state.eq(DeliveryState::Pending),
                wd::attempts.eq(0),
                wd::next_attempt_at.eq(now),
                wd::created_at.eq(now),
            )
        })
        .collect();
    on_backend!(c, |c| diesel::insert_into(wd::table)
        .values(&rows)
        .execute(c))?;
    Ok(())
}

/// A delivery as listed, with its event's type and time.
#[derive(Debug, Clone, Queryable)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub last_duration_ms: Option<i32>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub redelivery_of: Option<i64>,
    pub event_type: EventType,
    pub occurred_at: NaiveDateTime,
}

type DeliveryColumns = (
    wd::id,
    wd::webhook_id,
    wd::event_id,
    wd::state,
    wd::attempts,
    wd::next_attempt_at,
    wd::last_attempt_at,
    wd::last_status,
    wd::last_error,
    wd::last_duration_ms,
    wd::delivered_at,
    wd::created_at,
    wd::redelivery_of,
    we::event_type,
    we::occurred_at,
);

const DELIVERY_COLUMNS: DeliveryColumns = (
    wd::id,
    wd::webhook_id,
    wd::event_id,
    wd::state,
    wd::attempts,
    wd::next_attempt_at,
    wd::last_attempt_at,
    wd::last_status,
    wd::last_error,
    wd::last_duration_ms,
    wd::delivered_at,
    wd::created_at,
    wd::redelivery_of,
    we::event_type,
    we::occurred_at,
);

/// The deliveries of a subscription, newest first, before `before` (up to `limit + 1`).
pub fn deliveries(
    c: &mut AnyConnection,
    webhook: i64,
    state: Option<DeliveryState>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    let mut q = wd::table
        .inner_join(we::table)
        .filter(wd::webhook_id.eq(webhook))
        .select(DELIVERY_COLUMNS)
        .order(wd::id.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(s) = state {
        q = q.filter(wd::state.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(wd::id.lt(b));
    }
    q.load(c)
}

/// One delivery of a subscription.
pub fn delivery(c: &mut AnyConnection, webhook: i64, id: i64) -> QueryResult<Option<Delivery>> {
    wd::table
        .inner_join(we::table)
        .filter(wd::webhook_id.eq(webhook))
        .filter(wd::id.eq(id))
        .select(DELIVERY_COLUMNS)
        .first(c)
        .optional()
}

/// Queues the event of delivery `of` again for its subscription, as a new delivery; returns
/// the new delivery's id.
pub fn redeliver(c: &mut AnyConnection, of: &Delivery, now: NaiveDateTime) -> QueryResult<i64> {
    on_backend!(c, |c| diesel::insert_into(wd::table)
        .values((
            wd::webhook_id.eq(of.webhook_id),
            wd::event_id.eq(of.event_id),
            wd::state.eq(DeliveryState::Pending),
            wd::attempts.eq(0),
            wd::next_attempt_at.eq(now),
            wd::created_at.eq(now),
            wd::redelivery_of.eq(of.id),
        ))
        .returning(wd::id)
        .get_result(c))
}

/// A delivery claimed by a worker: what to send and where.
#[derive(Debug, Clone, Queryable)]
pub struct Claimed {
    pub id: i64,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub event_id: i64,
    pub event_type: EventType,
    pub occurred_at: NaiveDateTime,
    pub data: String,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
}

/// The key of the PostgreSQL advisory lock that serialises claims between instances.
const CLAIM_LOCK: i64 = 0x6475_6261_6e77_6831;

/// Claims due deliveries (pending and due, or delivering with an expired lease) of up to
/// `subscriptions` subscriptions, at most `per_subscription` each, for `lease`, counting the
/// attempt; returned by subscription, then in the order they were queued.
///
/// A paused or disabled subscription is skipped (its deliveries wait until it is resumed), and
/// so is one with a delivery in flight (delivering, its lease running), by
/// every instance: claims are serialised (an advisory lock on PostgreSQL, the writer lock on
/// SQLite), so no two workers ever send to one subscription at once, and its deliveries go
/// one after the other. Run in a write transaction.
pub fn claim(
    c: &mut AnyConnection,
    now: NaiveDateTime,
    lease: chrono::TimeDelta,
    subscriptions: usize,
    per_subscription: usize,
) -> QueryResult<Vec<Claimed>> {
    advisory_xact_lock(c, CLAIM_LOCK)?;
    let mut skipped: Vec<i64> = wd::table
        .filter(wd::state.eq(DeliveryState::Delivering))
        .filter(wd::locked_until.gt(now))
        .select(wd::webhook_id)
        .distinct()
        .load(c)?;
    // A paused or disabled subscription gets nothing until it is resumed.
    let inactive: Vec<i64> = wh::table
        .filter(wh::active.eq(false))
        .select(wh::id)
        .load(c)?;
    skipped.extend(inactive);
    let due = wd::state
        .eq(DeliveryState::Pending)
        .and(wd::next_attempt_at.le(now))
        .or(wd::state
            .eq(DeliveryState::Delivering)
            .and(wd::locked_until.le(now)));
    let limit = i64::try_from(subscriptions * per_subscription).unwrap_or(i64::MAX);
    let q = wd::table
        .filter(due)
        .filter(wd::webhook_id.ne_all(skipped))
        .order((wd::next_attempt_at, wd::id))
        .select((wd::id, wd::webhook_id))
        .limit(limit);
    let rows: Vec<(i64, i64)> = match c {
        AnyConnection::Pg(c) => q.for_update().skip_locked().load(c)?,
        AnyConnection::Sqlite(c) => q.load(c)?,
    };
    // The subscriptions due first, each with its deliveries due first.
    let mut taken: Vec<(i64, usize)> = Vec::new();
    let mut ids = Vec::new();
    for (id, webhook) in rows {
        let full = taken.len() >= subscriptions;
        match taken.iter_mut().find(|(w, _)| *w == webhook) {
            Some((_, n)) if *n < per_subscription => *n += 1,
            None if !full => taken.push((webhook, 1)),
            _ => continue,
        }
        ids.push(id);
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(wd::table.filter(wd::id.eq_any(&ids)))
        .set((
            wd::state.eq(DeliveryState::Delivering),
            wd::locked_until.eq(now + lease),
            wd::attempts.eq(wd::attempts + 1),
            wd::last_attempt_at.eq(now),
        ))
        .execute(c)?;
    wd::table
        .inner_join(we::table)
        .inner_join(wh::table)
        .filter(wd::id.eq_any(&ids))
        .select((
            wd::id,
            wd::attempts,
            wd::created_at,
            we::id,
            we::event_type,
            we::occurred_at,
            we::data,
            wh::id,
            wh::url,
            wh::secret,
        ))
        .order((wd::webhook_id, wd::id))
        .load(c)
}

/// Extends to `until` the lease of deliveries a worker still holds: those whose lease has not
/// ended at `now` and that were not claimed again since. Returns how many it extended.
pub fn renew(
    c: &mut AnyConnection,
    held: &[Claimed],
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<usize> {
    let mut renewed = 0;
    for d in held {
        renewed += diesel::update(
            wd::table
                .filter(wd::id.eq(d.id))
                .filter(wd::attempts.eq(d.attempts))
                .filter(wd::state.eq(DeliveryState::Delivering))
                .filter(wd::locked_until.gt(now)),
        )
        .set(wd::locked_until.eq(until))
        .execute(c)?;
    }
    Ok(renewed)
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The receiver's status, if it answered.
    pub status: Option<i32>,
    /// Why it failed (transport error, or the status), if it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i32,
}

/// Records a delivered attempt (only if the row is still this worker's: `attempts` as claimed).
pub fn mark_delivered(
    c: &mut AnyConnection,
    d: &Claimed,
    o: &Outcome,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        wd::table
            .filter(wd::id.eq(d.id))
            .filter(wd::attempts.eq(d.attempts))
            .filter(wd::state.eq(DeliveryState::Delivering)),
    )
    .set((
        wd::state.eq(DeliveryState::Delivered),
        wd::delivered_at.eq(now),
        wd::locked_until.eq(None::<NaiveDateTime>),
        wd::last_status.eq(o.status),
        wd::last_error.eq(None::<String>),
        wd::last_duration_ms.eq(o.duration_ms),
    ))
    .execute(c)?;
    if n == 1 {
        diesel::update(wh::table.find(d.webhook_id))
            .set(wh::last_success_at.eq(now))
            .execute(c)?;
    }
    Ok(n == 1)
}

/// Records a failed attempt: due again at `retry_at`, or failed for good when `None`.
pub fn mark_failed(
    c: &mut AnyConnection,
    d: &Claimed,
    o: &Outcome,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let (state, next) = match retry_at {
        Some(t) => (DeliveryState::Pending, t),
        None => (DeliveryState::Failed, d.created_at),
    };
    let n = diesel::update(
        wd::table
            .filter(wd::id.eq(d.id))
            .filter(wd::attempts.eq(d.attempts))
            .filter(wd::state.eq(DeliveryState::Delivering)),
    )
    .set((
        wd::state.eq(state),
        wd::next_attempt_at.eq(next),
        wd::locked_until.eq(None::<NaiveDateTime>),
        wd::last_status.eq(o.status),
        wd::last_error.eq(o.error.as_deref()),
        wd::last_duration_ms.eq(o.duration_ms),
    ))
    .execute(c)?;
    Ok(n == 1)
}

/// Removes delivered and failed deliveries older than `before`, and events no delivery
/// refers to any more; returns how many deliveries went.
pub fn prune(c: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    let n = diesel::delete(
        wd::table
            .filter(wd::state.eq_any([DeliveryState::Delivered, DeliveryState::Failed]))
            .filter(wd::created_at.lt(before)),
    )
    .execute(c)?;
    diesel::delete(we::table.filter(diesel::dsl::not(diesel::dsl::exists(
        wd::table.filter(wd::event_id.eq(we::id)),
    ))))
    .execute(c)?;
    Ok(n)
}
