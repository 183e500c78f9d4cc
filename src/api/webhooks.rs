//! Webhooks (`/webhooks`, 事件推送): a unit's manager or its department system (with
//! `webhooks:manage`) subscribes URLs to the events of the unit's own work; the coordinating
//! office may subscribe to every unit's. Deliveries are signed POSTs (see the README's
//! "Webhooks" section for the headers and the verification recipe); each subscription keeps a
//! delivery log, and any delivery can be sent again.

use super::extract::{total_of_pages, Caller, Json, Page, PageQuery, Query};
use crate::app::AppState;
use crate::domain::webhook::{Covers, DeliveryState, EventSet, EventType};
use crate::error::ApiResult;
use crate::service::{self, webhooks::Change, webhooks::NewSubscription};
use crate::store::webhooks::{Delivery, Webhook};
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookRequest {
    /// Where deliveries go: an `http://` or `https://` URL without credentials (up to 2000
    /// characters), naming a host the server delivers to (`DUBAN_WEBHOOK_ALLOWED_HOSTS`; never
    /// its own loopback or link-local addresses unless listed).
    #[schema(example = "https://ipo.example.gov.cn/duban/events")]
    pub url: String,
    /// The event types wanted (at least one; `*` for every type).
    #[schema(example = json!(["assignment.created", "report.returned", "urge.issued"]))]
    pub events: Vec<String>,
    /// A note for people (up to 500 characters).
    #[schema(example = "区政府办公室督办系统")]
    pub description: Option<String>,
    /// Whose events: `unit` (the subscribing unit's own; what a unit always gets) or `all`
    /// (every unit's; the coordinating office only, and its default).
    pub covers: Option<Covers>,
}

/// Changes to a subscription; omitted fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookUpdate {
    /// A new URL (checked as when subscribing).
    #[schema(example = "https://ipo.example.gov.cn/duban/events")]
    pub url: Option<String>,
    /// New event types (`*` for every type).
    #[schema(example = json!(["*"]))]
    pub events: Option<Vec<String>>,
    /// A new note (`""` clears it).
    #[schema(example = "区政府办公室督办系统")]
    pub description: Option<String>,
    /// `false` pauses deliveries; `true` resumes them, also after automatic disabling (the
    /// failures are then forgotten).
    #[schema(example = true)]
    pub active: Option<bool>,
}

/// A subscription (its secret is never shown again after creation or rotation).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 3, "unit_id": 2, "covers": "unit",
    "url": "https://ipo.example.gov.cn/duban/events",
    "events": ["assignment.created", "report.returned", "urge.issued"],
    "description": "区政府办公室督办系统", "active": true, "disabled_reason": null,
    "disabled_at": null, "created_at": "2026-03-02T08:00:00Z",
    "updated_at": "2026-03-02T08:00:00Z", "last_success_at": "2026-03-05T09:12:44Z"}))]
pub struct WebhookView {
    /// The subscription's id.
    pub id: i64,
    /// The unit that keeps it (`null`: the office's).
    pub unit_id: Option<i64>,
    /// Whose events it receives.
    pub covers: Covers,
    /// Where deliveries go.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<EventType>,
    /// A note for people.
    pub description: Option<String>,
    /// Whether deliveries go out (`false`: paused, or disabled after persistent failure).
    pub active: bool,
    /// Why it was disabled automatically (`null` unless it was).
    pub disabled_reason: Option<String>,
    /// When it was disabled automatically.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When a delivery last succeeded.
    pub last_success_at: Option<DateTime<Utc>>,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        WebhookView {
            id: w.id,
            unit_id: w.unit_id.map(|u| u.0),
            covers: w.covers,
            url: w.url,
            events: EventSet::from_stored(&w.events).types(),
            description: w.description,
            active: w.active,
            disabled_reason: w.disabled_reason,
            disabled_at: w.disabled_at.map(|t| t.and_utc()),
            created_at: w.created_at.and_utc(),
            updated_at: w.updated_at.and_utc(),
            last_success_at: w.last_success_at.map(|t| t.and_utc()),
        }
    }
}

/// A subscription with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    /// The subscription.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The signing secret: verify `Duban-Signature` with it. Keep it like a password.
    #[schema(example = "whsec_3q2+7w…")]
    pub secret: String,
}

/// One delivery of an event to a subscription.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 41, "webhook_id": 3, "event_id": 907,
    "event_type": "report.returned", "occurred_at": "2026-03-05T09:12:40Z", "state": "delivered",
    "attempts": 1, "next_attempt_at": "2026-03-05T09:12:40Z",
    "last_attempt_at": "2026-03-05T09:12:44Z", "last_status": 200, "last_error": null,
    "last_duration_ms": 38, "delivered_at": "2026-03-05T09:12:44Z",
    "created_at": "2026-03-05T09:12:40Z", "redelivery_of": null}))]
pub struct DeliveryView {
    /// The delivery's id, sent as `Duban-Delivery`.
    pub id: i64,
    /// The subscription.
    pub webhook_id: i64,
    /// The event's id, sent as the body's `id` (the same for every delivery of one event:
    /// receivers use it to drop repeats).
    pub event_id: i64,
    /// The event's type.
    pub event_type: EventType,
    /// When the event happened.
    pub occurred_at: DateTime<Utc>,
    /// Where the delivery stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: DateTime<Utc>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status at the last attempt (`null`: no answer).
    pub last_status: Option<i32>,
    /// What went wrong at the last attempt.
    pub last_error: Option<String>,
    /// How long the last attempt took.
    pub last_duration_ms: Option<i32>,
    /// When the receiver answered 2xx.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// The delivery this one sends again (manual redelivery).
    pub redelivery_of: Option<i64>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        DeliveryView {
            id: d.id,
            webhook_id: d.webhook_id,
            event_id: d.event_id,
            event_type: d.event_type,
            occurred_at: d.occurred_at.and_utc(),
            state: d.state,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.and_utc(),
            last_attempt_at: d.last_attempt_at.map(|t| t.and_utc()),
            last_status: d.last_status,
            last_error: d.last_error,
            last_duration_ms: d.last_duration_ms,
            delivered_at: d.delivered_at.map(|t| t.and_utc()),
            created_at: d.created_at.and_utc(),
            redelivery_of: d.redelivery_of,
        }
    }
}

/// Filters of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only deliveries in this state.
    pub state: Option<DeliveryState>,
}

fn secret_response(
    status: actix_web::http::StatusCode,
    w: Webhook,
    secret: String,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Location", format!("/api/v1/webhooks/{}", w.id)))
        .insert_header(("Cache-Control", "no-store"))
        .json(WebhookWithSecret {
            webhook: w.into(),
            secret,
        })
}

/// Subscribe a URL to events. The answer holds the signing secret, shown this once.
#[utoipa::path(
    tag = "webhooks",
    request_body = NewWebhookRequest,
    responses(
        (status = 201, description = "The subscription and its secret", body = WebhookWithSecret,
            headers(("Location" = String, description = "The subscription's URL"))),
        (status = 409, description = "The caller's unit (or the office) keeps 20 subscriptions already, the most it may"),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewWebhookRequest>,
) -> ApiResult<HttpResponse> {
    let (Json(b), ctx) = (body, caller.ctx());
    let new = NewSubscription {
        url: b.url,
        events: b.events,
        description: b.description,
        covers: b.covers,
    };
    let destinations = state.settings.webhooks.destinations.clone();
    let (w, secret) = state
        .db
        .run(move |c| service::webhooks::create(c, &ctx, new, &destinations))
        .await?;
    Ok(secret_response(
        actix_web::http::StatusCode::CREATED,
        w,
        secret,
    ))
}

/// List the subscriptions the caller keeps (a unit its own; the office every one), in id order.
#[utoipa::path(
    tag = "webhooks",
    params(PageQuery),
    responses((status = 200, description = "One page of subscriptions", body = Page<WebhookView>))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<WebhookView>>> {
    let (limit, after) = page.0.parse()?;
    let count = page.0.wants_count();
    let ctx = caller.ctx();
    let (page, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |after, limit| {
                service::webhooks::list(c, &ctx, after, limit)
            })?;
            Ok((service::webhooks::list(c, &ctx, after, limit)?, total))
        })
        .await?;
    Ok(web::Json(
        Page::map(page, WebhookView::from).with_total(total),
    ))
}

/// Read a subscription.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The subscription's id")),
    responses(
        (status = 200, description = "The subscription", body = WebhookView),
        (status = 404, description = "No such subscription, or not one the caller keeps"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<WebhookView>> {
    let (id, ctx) = (id.into_inner(), caller.ctx());
    let w = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::webhooks::get(c, &ctx, id)
        })
        .await?;
    Ok(web::Json(w.into()))
}

/// Change a subscription's URL, events or note; pause it, or resume it (also after it was
/// disabled for failing).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The subscription's id")),
    request_body = WebhookUpdate,
    responses(
        (status = 200, description = "The subscription as changed", body = WebhookView),
        (status = 404, description = "No such subscription, or not one the caller keeps"),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<WebhookUpdate>,
) -> ApiResult<web::Json<WebhookView>> {
    let (id, Json(b), ctx) = (id.into_inner(), body, caller.ctx());
    let change = Change {
        url: b.url,
        events: b.events,
        description: b.description.map(Some),
        active: b.active,
    };
    let destinations = state.settings.webhooks.destinations.clone();
    let w = state
        .db
        .run(move |c| service::webhooks::change(c, &ctx, id, change, &destinations))
        .await?;
    Ok(web::Json(w.into()))
}

/// Remove a subscription and its delivery log; nothing more is sent to it.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The subscription's id")),
    responses(
        (status = 204, description = "The subscription was removed"),
        (status = 404, description = "No such subscription, or not one the caller keeps"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, ctx) = (id.into_inner(), caller.ctx());
    state
        .db
        .run(move |c| service::webhooks::remove(c, &ctx, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Give a subscription a new signing secret, shown this once; the old one stops at once
/// (deliveries still waiting are signed with the new one).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The subscription's id")),
    responses(
        (status = 200, description = "The subscription and its new secret", body = WebhookWithSecret),
        (status = 404, description = "No such subscription, or not one the caller keeps"),
    )
)]
#[post("/webhooks/{id}/secret")]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, ctx) = (id.into_inner(), caller.ctx());
    let (w, secret) = state
        .db
        .run(move |c| service::webhooks::rotate_secret(c, &ctx, id))
        .await?;
    Ok(secret_response(actix_web::http::StatusCode::OK, w, secret))
}

/// Send a `ping` event to a subscription, to test its receiver (a paused or disabled one gets
/// it once resumed).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The subscription's id")),
    responses(
        (status = 202, description = "The ping's delivery, queued", body = DeliveryView),
        (status = 404, description = "No such subscription, or not one the caller keeps"),
    )
)]
#[post("/webhooks/{id}/ping")]
pub async fn ping_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, ctx) = (id.into_inner(), caller.ctx());
    let d = state
        .db
        .run(move |c| service::webhooks::ping(c, &ctx, id))
        .await?;
    Ok(HttpResponse::Accepted().json(DeliveryView::from(d)))
}

/// A subscription's delivery log, newest first.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The subscription's id"), DeliveryQuery, PageQuery),
    responses(
        (status = 200, description = "One page of deliveries", body = Page<DeliveryView>),
        (status = 404, description = "No such subscription, or not one the caller keeps"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: Query<DeliveryQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<DeliveryView>>> {
    let (limit, before) = page.0.parse()?;
    let count = page.0.wants_count();
    let (id, Query(q), ctx) = (id.into_inner(), query, caller.ctx());
    let (page, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |before, limit| {
                service::webhooks::deliveries(c, &ctx, id, q.state, before, limit)
            })?;
            let page = service::webhooks::deliveries(c, &ctx, id, q.state, before, limit)?;
            Ok((page, total))
        })
        .await?;
    Ok(web::Json(
        Page::map(page, DeliveryView::from).with_total(total),
    ))
}

/// Send a delivery's event again to its subscription, whatever became of it (the receiver
/// gets the same event `id`).
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = i64, Path, description = "The subscription's id"),
        ("delivery_id" = i64, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "The new delivery, queued", body = DeliveryView),
        (status = 404, description = "No such subscription or delivery, or not one the caller keeps"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver_webhook_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let ((id, delivery), ctx) = (path.into_inner(), caller.ctx());
    let d = state
        .db
        .run(move |c| service::webhooks::redeliver(c, &ctx, id, delivery))
        .await?;
    Ok(HttpResponse::Accepted().json(DeliveryView::from(d)))
}
