//! Builds the running service: database, migrations, bootstrap accounts, keys, and the actix
//! App with its routes, middleware and documentation.

use crate::api::{self, RouteTable};
use crate::auth::token::TokenKeys;
use crate::config::Settings;
use crate::db::{migrations, Db};
use crate::telemetry::{self, Metrics};
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

/// What every request handler shares.
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Token signing and verification keys.
    pub keys: TokenKeys,
    /// The settings in force.
    pub settings: Settings,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Documented paths, to answer 405 correctly.
    pub routes: RouteTable,
    /// CORS origins and what each operation produces ([`api::http`]).
    pub http: api::http::HttpRules,
    /// The OpenAPI document, serialised once.
    pub openapi_json: String,
    /// Wakes this instance's webhook worker after a write (other instances find the work
    /// within `DUBAN_WEBHOOK_POLL_MS`).
    pub webhook_wake: std::sync::Arc<tokio::sync::Notify>,
}

/// Opens the database and applies pending migrations.
pub fn open_database(settings: &Settings) -> Result<Db, String> {
    let db = Db::connect(&settings.database_url, settings.pool_size)?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    let applied =
        migrations::run_pending(&mut conn).map_err(|e| format!("migration failed: {e}"))?;
    // A new database's working-day calendar starts with the State Council's schedules.
    let seeded = crate::service::calendar::seed_official(&mut conn)
        .map_err(|e| format!("seeding the calendar failed: {e}"))?;
    if seeded > 0 {
        tracing::info!(days = seeded, "seeded the working-day calendar (2019–2026)");
    }
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied migrations");
        // Assignments from before standings were kept get theirs once, in one transaction.
        let filled = crate::db::write_tx(&mut conn, crate::store::standing::backfill)
            .map_err(|e| format!("standing backfill failed: {e}"))?;
        if filled > 0 {
            tracing::info!(
                count = filled,
                "computed the standing of existing assignments"
            );
        }
    }
    Ok(db)
}

/// Adds the read pool of `DUBAN_DATABASE_READ_URL` (PostgreSQL only; ignored with a warning
/// on SQLite, which has no replicas).
fn with_read_replica(db: Db, settings: &Settings) -> Result<Db, String> {
    let Some(url) = &settings.database_read_url else {
        return Ok(db);
    };
    if !settings.database_url.is_postgres() {
        tracing::warn!("DUBAN_DATABASE_READ_URL is ignored: SQLite has no read replicas");
        return Ok(db);
    }
    let window = std::time::Duration::from_secs(settings.read_your_writes_secs);
    let db = db
        .with_replica(url, settings.pool_size, window)
        .map_err(|e| format!("DUBAN_DATABASE_READ_URL: {e}"))?;
    tracing::info!(replica = ?url, window_secs = window.as_secs(), "query endpoints read from the replica");
    Ok(db)
}

/// Read-your-writes: after a request that may write (any method but GET, HEAD and OPTIONS)
/// from a signed-in caller, that caller's reads go to the primary for the window. The caller
/// is the subject of its bearer token, checked like every token; a request without one wrote
/// nothing of a caller's own to read back.
async fn note_writer(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let may_write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let res = next.call(req).await?;
    if let (true, Some(state)) = (may_write, &state) {
        // A write may have queued webhook deliveries: the worker need not wait for its poll.
        state.webhook_wake.notify_one();
    }
    if let (true, Some(state), Some(token)) = (may_write, state, bearer) {
        if state.db.has_replica() {
            if let Some(user) = state
                .keys
                .verify(&token)
                .ok()
                .and_then(|c| c.sub.parse().ok())
            {
                state.db.note_write(crate::domain::ids::UserId(user));
            }
        }
    }
    Ok(res)
}

/// A server bound to its port, ready to run.
pub struct Application {
    server: Server,
    port: u16,
    state: web::Data<AppState>,
}

impl Application {
    /// Opens the database, migrates, creates the configured admin and the demo data, binds the
    /// listener (port 0 picks a free port) and builds the server.
    pub fn build(settings: Settings) -> Result<Self, String> {
        let db = with_read_replica(open_database(&settings)?, &settings)?;
        crate::auth::password::start(settings.password_threads);
        crate::bootstrap::run(&db, &settings)?;
        let keys = TokenKeys::from_settings(&settings)?;
        let doc = api::openapi();
        let listener = TcpListener::bind(settings.bind)
            .map_err(|e| format!("DUBAN_BIND: cannot listen on {}: {e}", settings.bind))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let workers = settings.workers;
        let state = web::Data::new(AppState {
            db,
            keys,
            metrics: Metrics::new(),
            routes: RouteTable::from_doc(&doc),
            http: api::http::HttpRules::new(&doc, settings.cors_origins.clone()),
            openapi_json: serde_json::to_string(&doc).map_err(|e| e.to_string())?,
            webhook_wake: Default::default(),
            settings,
        });
        state
            .settings
            .storage
            .prepare()
            .map_err(|e| format!("DUBAN_STORAGE_DIR: cannot prepare the file storage: {e}"))?;
        crate::auth::password::warm_up();
        if state.settings.reminder_interval_secs > 0 {
            crate::jobs::reminders::spawn(
                state.db.clone(),
                state.settings.storage.clone(),
                std::time::Duration::from_secs(state.settings.reminder_interval_secs),
                crate::jobs::reminders::Schedule {
                    days_before: state.settings.reminder_days_before,
                    receipt_after: state.settings.receipt_reminder_days,
                },
            );
        }
        crate::jobs::tallies::spawn(state.db.clone());
        if state.settings.webhooks.worker {
            crate::jobs::webhooks::spawn(
                state.db.clone(),
                state.settings.webhooks.clone(),
                state.webhook_wake.clone(),
            );
        }
        let shared = state.clone();
        let server = HttpServer::new(move || {
            let (app, _) = api::register(App::new().into_utoipa_app()).split_for_parts();
            // Bodies are limited by DUBAN_BODY_LIMIT alone (the framework's own default, 256 KiB,
            // would cut them short with a message naming the wrong limit).
            let body_limit = web::PayloadConfig::new(shared.settings.body_limit);
            app.app_data(shared.clone())
                .app_data(body_limit)
                .app_data(api::extract::path_config())
                .service(
                    SwaggerUi::new("/docs/{_:.*}")
                        .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")),
                )
                .service(web::redirect("/docs", "/docs/"))
                .default_service(web::to(api::fallback))
                .wrap(from_fn(note_writer))
                .wrap(from_fn(api::http::apply))
                .wrap(from_fn(telemetry::observe))
        })
        .workers(workers)
        .shutdown_timeout(30)
        .listen(listener)
        .map_err(|e| e.to_string())?
        .run();
        Ok(Application {
            server,
            port,
            state,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (tests reach the database through it).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until stopped; SIGTERM and SIGINT stop it gracefully (in-flight requests finish,
    /// up to 30 s).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }

    /// The server future and a handle to stop it (tests).
    pub fn into_parts(self) -> (Server, actix_web::dev::ServerHandle) {
        let handle = self.server.handle();
        (self.server, handle)
    }
}
