//! `spawn_app()` and typed request helpers.

use actix_web::web::Data;
use awc::http::header;
use diesel::{Connection, PgConnection, RunQueryDsl};
use duban::{AppState, Application, Settings};
use rand::RngCore;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;

/// The JWT key of every test app, so tests can forge tokens to prove they are refused.
pub const JWT_SECRET: &str = "integration-test-secret-of-more-than-32-bytes";
/// The bootstrap admin of every test app.
pub const ADMIN: &str = "admin";
/// Its password.
pub const ADMIN_PASSWORD: &str = "admin password for tests";
/// The password given to accounts made with [`TestApp::account`].
pub const PASSWORD: &str = "a test passphrase 123";

fn random_suffix() -> String {
    let mut b = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A database made for one test and removed afterwards.
pub enum TestDb {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub fn create() -> (Self, String) {
        match std::env::var("DUBAN_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.trim().is_empty() => {
                let name = format!("duban_test_{}", random_suffix());
                let mut c = PgConnection::establish(&admin_url)
                    .expect("connect to DUBAN_TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut c)
                    .expect("create test database");
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(&admin_url);
                let url = format!("{base}/{name}");
                (TestDb::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = std::env::temp_dir().join(format!("duban-test-{}", random_suffix()));
                let file = dir.join("duban.db");
                let url = format!("sqlite://{}", file.display());
                (TestDb::Sqlite(dir), url)
            }
        }
    }

    /// Makes the database disappear under the running app.
    pub fn remove(&self) {
        match self {
            TestDb::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres { admin_url, name } => {
                if let Ok(mut c) = PgConnection::establish(admin_url) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut c);
                }
            }
        }
    }

    /// True on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A running app and a client for it.
pub struct TestApp {
    pub base: String,
    pub state: Data<AppState>,
    pub client: awc::Client,
    pub db: TestDb,
    /// The app's file storage folder (evidence files, spool files), removed with the app.
    pub files: PathBuf,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.files);
        let h = self.handle.clone();
        actix_rt::spawn(async move { h.stop(false).await });
    }
}

/// A response: status, headers and parsed body.
pub struct Reply {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: Value,
    pub raw: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn content_type(&self) -> String {
        self.header("content-type").unwrap_or_default()
    }

    /// Asserts an RFC 9457 problem with this status and type slug.
    #[track_caller]
    /// An OAuth 2.0 error of the token endpoint (RFC 6749 §5.2), never cached.
    pub fn assert_oauth_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.raw);
        assert_eq!(
            self.content_type(),
            "application/json",
            "body: {}",
            self.raw
        );
        assert_eq!(self.body["error"], code, "body: {}", self.raw);
        assert!(self.body["error_description"].is_string(), "{}", self.raw);
        assert_eq!(self.header("cache-control").as_deref(), Some("no-store"));
        assert_eq!(self.header("pragma").as_deref(), Some("no-cache"));
    }

    pub fn assert_problem(&self, status: u16, slug: &str) {
        assert_eq!(self.status, status, "body: {}", self.raw);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "body: {}",
            self.raw
        );
        assert_eq!(
            self.body["type"],
            format!("/problems/{slug}"),
            "body: {}",
            self.raw
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
    }

    /// The field names of a validation problem.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Starts the app on a random port against a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app with extra `DUBAN_*` settings.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let (db, url) = TestDb::create();
    let mut vars: HashMap<String, String> = [
        ("DUBAN_DATABASE_URL", url.as_str()),
        ("DUBAN_BIND", "127.0.0.1:0"),
        ("DUBAN_JWT_SECRET", JWT_SECRET),
        ("DUBAN_DEMO", "false"),
        ("DUBAN_ADMIN_USER", ADMIN),
        ("DUBAN_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("DUBAN_WORKERS", "1"),
        ("DUBAN_POOL_SIZE", "4"),
        ("DUBAN_BODY_LIMIT", "65536"),
        ("DUBAN_REMINDER_INTERVAL", "0"),
        // Webhook deliveries go out only in the tests that receive them.
        ("DUBAN_WEBHOOK_WORKER", "false"),
        // Their receivers run on this machine (loopback is refused by default).
        ("DUBAN_WEBHOOK_ALLOWED_HOSTS", "*,127.0.0.1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // On PostgreSQL the query endpoints read through the read pool, here on the primary itself
    // (its connections refuse writes, so a query endpoint that wrote would fail).
    if db.is_postgres() {
        vars.insert("DUBAN_DATABASE_READ_URL".into(), url.clone());
    }
    // `{db}` in a value stands for this test's PostgreSQL database name.
    let name = match &db {
        TestDb::Postgres { name, .. } => name.clone(),
        TestDb::Sqlite(_) => String::new(),
    };
    let files = std::env::temp_dir().join(format!("duban-files-{}", random_suffix()));
    vars.insert("DUBAN_STORAGE_DIR".into(), files.display().to_string());
    for (k, v) in extra {
        vars.insert(k.to_string(), v.replace("{db}", &name));
    }
    let settings = Settings::from_vars(&vars).expect("test settings");
    let app = Application::build(settings).expect("app builds");
    let port = app.port();
    let state = app.state();
    let (server, handle) = app.into_parts();
    actix_rt::spawn(server);
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        state,
        client: awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish(),
        db,
        files,
        handle,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        let path: String = path
            .bytes()
            .map(|b| {
                if b.is_ascii() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let path = path.as_str();
        if path.starts_with("/api")
            || path.starts_with("/healthz")
            || path.starts_with("/readyz")
            || path.starts_with("/metrics")
            || path.starts_with("/docs")
            || path.starts_with("/problems/")
        {
            format!("{}{}", self.base, path)
        } else {
            format!("{}/api/v1{}", self.base, path)
        }
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method.parse().unwrap(), self.url(path));
        if let Some(t) = token {
            req = req.insert_header((header::AUTHORIZATION, format!("Bearer {t}")));
        }
        let res = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        };
        read(res.expect("request sent")).await
    }

    /// Sends a raw body with a content type.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .insert_header((header::CONTENT_TYPE, content_type.to_owned()));
        if let Some(t) = token {
            req = req.insert_header((header::AUTHORIZATION, format!("Bearer {t}")));
        }
        read(req.send_body(body).await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send("POST", path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send("PATCH", path, Some(token), Some(body)).await
    }

    /// Signs in; returns the whole token response.
    pub async fn login_reply(&self, username: &str, password: &str) -> Reply {
        self.send(
            "POST",
            "/auth/login",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await
    }

    /// Signs in and returns the access token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self.login_reply(username, password).await;
        assert_eq!(r.status, 200, "login of {username}: {}", r.raw);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn admin(&self) -> String {
        self.login(ADMIN, ADMIN_PASSWORD).await
    }

    /// Creates a unit as admin; returns its id.
    pub async fn unit(&self, name: &str) -> i64 {
        let admin = self.admin().await;
        let r = self
            .post(
                "/units",
                &admin,
                json!({"name": name, "kind": "city_department"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        r.body["id"].as_i64().unwrap()
    }

    /// Creates a person's account as admin and signs it in; returns (id, token).
    pub async fn account(&self, username: &str, role: &str, unit: Option<i64>) -> (i64, String) {
        let admin = self.admin().await;
        let r = self
            .post("/users", &admin, json!({"username": username, "display_name": username, "role": role, "unit_id": unit, "password": PASSWORD}))
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        let id = r.body["id"].as_i64().unwrap();
        (id, self.login(username, PASSWORD).await)
    }

    /// Creates a service account as admin; returns (id, client_secret).
    pub async fn service_account(
        &self,
        username: &str,
        unit: i64,
        scopes: Option<Vec<&str>>,
    ) -> (i64, String) {
        let admin = self.admin().await;
        let mut body = json!({"username": username, "display_name": username, "role": "service", "unit_id": unit});
        if let Some(s) = scopes {
            body["scopes"] = json!(s);
        }
        let r = self.post("/users", &admin, body).await;
        assert_eq!(r.status, 201, "{}", r.raw);
        (
            r.body["id"].as_i64().unwrap(),
            r.body["client_secret"].as_str().unwrap().to_owned(),
        )
    }

    /// Client-credentials grant with form fields.
    pub async fn client_token(&self, id: &str, secret: &str, scope: Option<&str>) -> Reply {
        let mut form =
            format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
        if let Some(s) = scope {
            form.push_str(&format!("&scope={}", s.replace(' ', "+")));
        }
        self.send_raw(
            "POST",
            "/auth/token",
            None,
            "application/x-www-form-urlencoded",
            form.into_bytes(),
        )
        .await
    }
}

pub async fn read(
    mut res: awc::ClientResponse<
        impl futures_core::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
    >,
) -> Reply {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.body().limit(10 << 20).await.expect("body read");
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        raw,
    }
}
