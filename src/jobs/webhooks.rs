//! The webhook worker: claims due deliveries from the outbox, POSTs each signed event to its
//! subscription, and records the answer — delivered on 2xx, else due again after an
//! exponential backoff with jitter, or given up after the last attempt, which disables a
//! subscription that has not succeeded since (the unit is told: its inbox lists it, and its
//! other subscriptions get `webhook.disabled`).
//!
//! Any number of instances run one each: claims take rows with `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL (the writer lock on SQLite) under a lease, so each delivery is attempted by one
//! worker at a time, and one that dies mid-delivery is retried by another once its lease ends.
//! A subscription is served by one worker at a time, its deliveries one after the other in
//! the order they were queued (a failed one is tried again after its backoff, so later ones
//! may overtake it); subscriptions side by side, so a slow receiver delays only its own.
//!
//! `https://` receivers are reached over TLS (rustls with the ring provider); their certificate
//! must chain to a public root (webpki-roots, compiled in) or to one in `DUBAN_WEBHOOK_CA_FILE`.
//! Verification is never turned off: a receiver that is not trusted gets nothing, and its
//! delivery log says why.

use crate::config::WebhookSettings;
use crate::db::{write_tx, Db};
use crate::domain::destination::Destinations;
use crate::domain::webhook::{self, EventType};
use crate::error::ApiError;
use crate::store::{self, webhooks};
use futures_util::future::select;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// Subscriptions one worker serves at once, side by side.
const SUBSCRIPTIONS: usize = 32;

/// Deliveries of one subscription claimed at once (then sent one after the other).
const QUEUE: usize = 16;

/// The body sent for an event: `{id, type, occurred_at, data}`.
pub fn body(d: &webhooks::Claimed) -> Vec<u8> {
    let data: serde_json::Value = serde_json::from_str(&d.data).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "id": d.event_id,
        "type": d.event_type,
        "occurred_at": d.occurred_at.and_utc(),
        "data": data,
    })
    .to_string()
    .into_bytes()
}

async fn attempt(
    client: &awc::Client,
    destinations: &Destinations,
    d: &webhooks::Claimed,
) -> webhooks::Outcome {
    // Checked when subscribed; again here, as the list may have changed since.
    let allowed = webhook::check_url(&d.url).and_then(|host| destinations.check_host(host));
    if let Err(why) = allowed {
        return webhooks::Outcome {
            status: None,
            error: Some(format!("not sent: {why}")),
            duration_ms: 0,
        };
    }
    let body = body(d);
    let t = chrono::Utc::now().timestamp();
    let started = Instant::now();
    let sent = client
        .post(&d.url)
        .insert_header(("Content-Type", "application/json"))
        .insert_header((
            "User-Agent",
            concat!("duban-webhooks/", env!("CARGO_PKG_VERSION")),
        ))
        .insert_header(("Duban-Event", d.event_type.as_str()))
        .insert_header(("Duban-Delivery", d.id.to_string()))
        .insert_header(("Duban-Signature", webhook::signature(&d.secret, t, &body)))
        .send_body(body)
        .await;
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    match sent {
        Ok(res) => {
            let status = res.status();
            webhooks::Outcome {
                status: Some(i32::from(status.as_u16())),
                error: (!status.is_success()).then(|| format!("the receiver answered {status}")),
                duration_ms,
            }
        }
        Err(e) => webhooks::Outcome {
            status: None,
            error: Some(e.to_string().chars().take(500).collect()),
            duration_ms,
        },
    }
}

/// Records attempts and extends the lease of the deliveries still `held`, in one
/// transaction; returns whether every one of them is still this worker's.
fn record(
    db: &Db,
    settings: &WebhookSettings,
    results: Vec<(webhooks::Claimed, webhooks::Outcome)>,
    held: &[webhooks::Claimed],
) -> Result<bool, ApiError> {
    use rand::Rng;
    let mut c = db.get()?;
    write_tx(&mut c, |c| {
        let now = store::now();
        let renewed = webhooks::renew(c, held, now, now + settings.lease())?;
        for (d, o) in &results {
            if o.error.is_none() {
                webhooks::mark_delivered(c, d, o, now)?;
                continue;
            }
            let retry = &settings.retry;
            if retry.gives_up(d.attempts) {
                if webhooks::mark_failed(c, d, o, None)? {
                    disable_if_failing(c, d, o, now)?;
                }
            } else {
                let wait = retry.wait_secs(d.attempts, rand::thread_rng().gen::<f64>());
                let at = now + chrono::TimeDelta::seconds(wait);
                webhooks::mark_failed(c, d, o, Some(at))?;
            }
        }
        Ok(renewed == held.len())
    })
}

/// A delivery was given up: its subscription is disabled unless it succeeded since the
/// delivery was made (then the failure was this event's, not the receiver's).
fn disable_if_failing(
    c: &mut crate::db::AnyConnection,
    d: &webhooks::Claimed,
    o: &webhooks::Outcome,
    now: chrono::NaiveDateTime,
) -> Result<(), ApiError> {
    let Some(w) = webhooks::find(c, d.webhook_id)? else {
        return Ok(());
    };
    if !w.active || w.last_success_at.is_some_and(|t| t >= d.created_at) {
        return Ok(());
    }
    let reason = format!(
        "{} attempts to deliver event {} failed since {}; the last: {}",
        d.attempts,
        d.event_id,
        d.created_at.and_utc().to_rfc3339(),
        o.error.as_deref().unwrap_or("no answer")
    );
    let ch = webhooks::WebhookChange {
        active: Some(false),
        disabled_reason: Some(Some(reason.clone())),
        disabled_at: Some(Some(now)),
        updated_at: Some(now),
        ..Default::default()
    };
    webhooks::update(c, w.id, &ch)?;
    let after = serde_json::json!({"active": false, "disabled_reason": reason, "url": w.url});
    let system = store::audit::Actor::default();
    store::audit::record(
        c,
        &system,
        "webhook.disable",
        "webhook",
        Some(w.id),
        None,
        Some(&after),
    )?;
    if let Some(unit) = w.unit_id {
        let data = serde_json::json!({
            "webhook_id": w.id, "url": w.url, "disabled_at": now.and_utc(), "reason": reason,
        });
        crate::service::webhooks::emit(c, now, EventType::WebhookDisabled, unit, data)?;
    }
    tracing::warn!(webhook = w.id, url = %w.url, "disabled a webhook whose deliveries kept failing");
    Ok(())
}

/// How often a worker prunes the delivery log.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Removes finished deliveries older than `retention_days` (`DUBAN_WEBHOOK_RETENTION_DAYS`)
/// and the events left without one; returns how many deliveries went.
pub fn prune(db: &Db, retention_days: u64) -> Result<usize, ApiError> {
    let mut c = db.get()?;
    let days = i64::try_from(retention_days).unwrap_or(i64::MAX);
    let before = store::now() - chrono::Duration::days(days);
    write_tx(&mut c, |c| Ok(webhooks::prune(c, before)?))
}

/// Claims due deliveries for up to `subscriptions` subscriptions (at most [`QUEUE`] each).
async fn claim(
    db: &Db,
    settings: &WebhookSettings,
    subscriptions: usize,
) -> Result<Vec<Vec<webhooks::Claimed>>, ApiError> {
    let (db, lease) = (db.clone(), settings.lease());
    let claimed = actix_web::web::block(move || {
        let mut c = db.get()?;
        write_tx(&mut c, |c| {
            webhooks::claim(c, store::now(), lease, subscriptions, QUEUE).map_err(ApiError::from)
        })
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    let mut queues: Vec<Vec<webhooks::Claimed>> = Vec::new();
    for d in claimed {
        match queues.last_mut() {
            Some(q) if q[0].webhook_id == d.webhook_id => q.push(d),
            _ => queues.push(vec![d]),
        }
    }
    Ok(queues)
}

/// Records `done` and extends the lease of `held` (the rest of the queue), in one transaction;
/// returns whether the rest is still this worker's to send.
async fn record_and_renew(
    db: &Db,
    settings: &WebhookSettings,
    done: Vec<(webhooks::Claimed, webhooks::Outcome)>,
    held: Vec<webhooks::Claimed>,
) -> bool {
    let (db, settings) = (db.clone(), settings.clone());
    let recorded = actix_web::web::block(move || record(&db, &settings, done, &held)).await;
    match recorded.map_err(ApiError::from).and_then(|r| r) {
        Ok(kept) => kept,
        // Left delivering: the deliveries are tried again once their lease ends.
        Err(e) => {
            tracing::warn!(error = %e, "recording webhook deliveries failed");
            false
        }
    }
}

/// Sends one subscription's queue in order, one at a time: each delivery waits for the
/// answer to the one before. After a delivery that got no answer the rest are not sent this
/// time (a receiver that is down costs one timeout, not one per delivery). Answers are
/// recorded at the end, or on the way whenever the next send could outlast the lease, which
/// is then extended for what is left; if it cannot be (the recording failed, or the lease
/// ended and another worker took the rest), the queue stops and its rest is left to the
/// claim that follows.
async fn serve(
    db: Db,
    settings: WebhookSettings,
    client: awc::Client,
    queue: Vec<webhooks::Claimed>,
    leased: Instant,
) {
    let lease = settings.lease().to_std().unwrap_or(Duration::from_secs(5));
    let need = Duration::from_secs(settings.timeout_secs) + lease / 4;
    let mut leased_until = leased + lease;
    let mut done = Vec::with_capacity(queue.len());
    let mut rest = queue.into_iter().peekable();
    while rest.peek().is_some() {
        if Instant::now() + need >= leased_until {
            let renewing = Instant::now();
            let held: Vec<_> = rest.clone().collect();
            if !record_and_renew(&db, &settings, std::mem::take(&mut done), held).await {
                return;
            }
            leased_until = renewing + lease;
        }
        let Some(d) = rest.next() else { break };
        let outcome = attempt(&client, &settings.destinations, &d).await;
        let silent = outcome.status.is_none();
        let first = d.id;
        done.push((d, outcome));
        if silent {
            done.extend(rest.by_ref().map(|d| {
                let outcome = webhooks::Outcome {
                    status: None,
                    error: Some(format!(
                        "not sent: delivery {first} to this URL got no answer just before"
                    )),
                    duration_ms: 0,
                };
                (d, outcome)
            }));
            break;
        }
    }
    record_and_renew(&db, &settings, done, Vec::new()).await;
}

/// The TLS settings of deliveries: the public roots and those of `DUBAN_WEBHOOK_CA_FILE`, TLS
/// 1.2 and 1.3, HTTP/2 or HTTP/1.1 as the receiver prefers.
pub fn tls_config(settings: &WebhookSettings) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(ca) = &settings.ca_file {
        // Each was checked when the settings were read.
        let (added, _) = roots.add_parsable_certificates(ca.certs.iter().cloned());
        tracing::debug!(file = %ca.path.display(), added, "trusting the roots of DUBAN_WEBHOOK_CA_FILE");
    }
    // rustls deprecates its ring provider for lacking post-quantum key exchange (X25519MLKEM768,
    // which only its aws-lc-rs provider has); ring is kept for a short build without cmake, and
    // offers the classical groups (X25519, P-256, P-384) receivers use.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring offers TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// Resolves receivers' host names, keeping only the addresses deliveries may go to
/// ([`Destinations::check_addr`]): a name that points at the server itself, or at a cloud's
/// metadata service, gets nothing.
struct Guarded(Arc<Destinations>);

impl actix_tls::connect::Resolve for Guarded {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> futures_util::future::LocalBoxFuture<
        'a,
        Result<Vec<std::net::SocketAddr>, Box<dyn std::error::Error>>,
    > {
        Box::pin(async move {
            // An IPv6 literal comes with its brackets (`[fd00::5]`).
            let host = crate::domain::destination::bare(host);
            if let Ok(ip) = host.parse::<std::net::IpAddr>() {
                self.0.check_addr(host, ip)?;
                return Ok(vec![std::net::SocketAddr::new(ip, port)]);
            }
            let mut refused = None;
            let allowed: Vec<_> = tokio::net::lookup_host((host, port))
                .await?
                .filter(|a| match self.0.check_addr(host, a.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refused.get_or_insert(why);
                        false
                    }
                })
                .collect();
            match refused {
                Some(why) if allowed.is_empty() => Err(why.into()),
                _ => Ok(allowed),
            }
        })
    }
}

/// The worker's HTTP client: `timeout_secs` per delivery, redirects not followed, TLS as
/// [`tls_config`], host names resolved by [`Guarded`].
pub fn client(settings: &WebhookSettings) -> awc::Client {
    let resolver =
        actix_tls::connect::Resolver::custom(Guarded(Arc::new(settings.destinations.clone())));
    let connector = awc::Connector::new()
        .connector(actix_tls::connect::Connector::new(resolver).service())
        .rustls_0_23(Arc::new(tls_config(settings)));
    awc::Client::builder()
        .connector(connector)
        .timeout(Duration::from_secs(settings.timeout_secs))
        .disable_redirects()
        .finish()
}

/// Runs the worker on this thread's runtime until the process ends (or the task is aborted,
/// which stops the sends in flight with it): up to [`SUBSCRIPTIONS`] subscriptions are served
/// side by side, each by its own task; whenever one finishes, or this instance writes an
/// event, or `poll_ms` passes, it claims more.
pub fn spawn(
    db: Db,
    settings: WebhookSettings,
    wake: Arc<Notify>,
) -> actix_web::rt::task::JoinHandle<()> {
    actix_web::rt::spawn(async move {
        let client = client(&settings);
        let poll = Duration::from_millis(settings.poll_ms);
        let mut pruned: Option<Instant> = None;
        // Dropped with this task: the subscriptions' tasks are aborted with it.
        let mut serving: JoinSet<()> = JoinSet::new();
        loop {
            if pruned.is_none_or(|t| t.elapsed() > PRUNE_EVERY) {
                pruned = Some(Instant::now());
                let (db, days) = (db.clone(), settings.retention_days);
                match actix_web::web::block(move || prune(&db, days)).await {
                    Ok(Ok(n)) if n > 0 => {
                        tracing::info!(removed = n, "pruned the webhook delivery log")
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "pruning webhook deliveries failed"),
                    Err(e) => tracing::warn!(error = %e, "pruning webhook deliveries failed"),
                }
            }
            let free = SUBSCRIPTIONS - serving.len();
            if free > 0 {
                let leased = Instant::now();
                match claim(&db, &settings, free).await {
                    Ok(queues) => {
                        let claimed = queues.len();
                        for queue in queues {
                            let (db, settings) = (db.clone(), settings.clone());
                            let task = serve(db, settings, client.clone(), queue, leased);
                            serving.spawn_local(task);
                        }
                        if claimed == free {
                            continue;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming webhook deliveries failed"),
                }
            }
            let finished = async {
                if serving.is_empty() {
                    std::future::pending::<()>().await;
                }
                let _ = serving.join_next().await;
            };
            let sleep = actix_web::rt::time::sleep(poll);
            let woken = wake.notified();
            futures_util::pin_mut!(finished, sleep, woken);
            let _ = select(finished, select(sleep, woken)).await;
        }
    })
}
