//! Settings from environment variables, optionally layered over a TOML file.
//!
//! Precedence: built-in default < file named by `DUBAN_CONFIG` < environment variable.
//! A bad value stops start-up with one line naming the variable ([`ConfigError`]).

use crate::domain::destination::Destinations;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the data lives: the embedded SQLite file or a PostgreSQL server.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://path/to/file.db` (relative paths are taken from the working directory).
    Sqlite(PathBuf),
    /// `postgres://user@host:port/db` or `postgresql://…`.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a `DUBAN_DATABASE_URL` value.
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(rest) = s.strip_prefix("sqlite://") {
            if rest.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://data/duban.db".into());
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(rest)))
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(s.to_owned()))
        } else {
            Err("expected sqlite://PATH or postgres://USER@HOST:PORT/DB".into())
        }
    }

    /// True for PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, DatabaseUrl::Postgres(_))
    }
}

impl fmt::Debug for DatabaseUrl {
    /// Never prints a password embedded in a PostgreSQL URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            DatabaseUrl::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(s), Some(at)) if at > s => {
                    let creds = &url[s + 3..at];
                    let user = creds.split(':').next().unwrap_or("");
                    write!(f, "{}{}@{}", &url[..s + 3], user, &url[at + 1..])
                }
                _ => write!(f, "{url}"),
            },
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// All settings of a running duban.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DUBAN_DATABASE_URL`.
    pub database_url: DatabaseUrl,
    /// `DUBAN_DATABASE_READ_URL`: a PostgreSQL read replica for the query endpoints (ignored,
    /// with a warning, on SQLite).
    pub database_read_url: Option<DatabaseUrl>,
    /// `DUBAN_READ_YOUR_WRITES_SECONDS`: how long a caller who wrote reads from the primary.
    pub read_your_writes_secs: u64,
    /// `DUBAN_BIND`: the address the API listens on.
    pub bind: SocketAddr,
    /// `DUBAN_DATA_DIR`: where generated files (the JWT key) are kept; defaults to the SQLite
    /// file's folder, or `data` with PostgreSQL.
    pub data_dir: PathBuf,
    /// `DUBAN_JWT_SECRET`: the HMAC key of access tokens (at least 32 bytes).
    pub jwt_secret: Option<String>,
    /// `DUBAN_JWT_KEY_FILE`: a file holding the key, used when no secret is given.
    pub jwt_key_file: Option<PathBuf>,
    /// `DUBAN_JWT_PREVIOUS_SECRETS`: comma-separated keys still accepted while tokens signed
    /// with them expire (key rotation).
    pub jwt_previous_secrets: Vec<String>,
    /// `DUBAN_JWT_ISSUER`: the `iss` of tokens issued and required.
    pub jwt_issuer: String,
    /// `DUBAN_JWT_AUDIENCE`: the `aud` of tokens issued and required.
    pub jwt_audience: String,
    /// `DUBAN_ACCESS_TOKEN_TTL`: access-token lifetime in seconds.
    pub access_token_ttl_secs: i64,
    /// `DUBAN_REFRESH_TOKEN_TTL`: refresh-token lifetime in seconds.
    pub refresh_token_ttl_secs: i64,
    /// `DUBAN_ADMIN_USER`: an admin created or reset at start-up (with `DUBAN_ADMIN_PASSWORD`).
    pub admin_user: Option<String>,
    /// `DUBAN_ADMIN_PASSWORD`.
    pub admin_password: Option<String>,
    /// `DUBAN_LOG`: a tracing filter such as `info` or `duban=debug,actix_web=info`.
    pub log: String,
    /// `DUBAN_LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
    /// `DUBAN_DEMO`: load the demo data and demo users into an empty database.
    pub demo: bool,
    /// `DUBAN_POOL_SIZE`: database connections in the pool.
    pub pool_size: u32,
    /// `DUBAN_BODY_LIMIT`: the largest request body accepted, in bytes.
    pub body_limit: usize,
    /// `DUBAN_WORKERS`: HTTP worker threads.
    pub workers: usize,
    /// `DUBAN_PASSWORD_THREADS`: threads that hash and check passwords (each keeps 19 MiB of
    /// argon2 memory); 1 on machines with up to 2 cores, else half the cores.
    pub password_threads: usize,
    /// `DUBAN_TRUST_PROXY`: take the client address from `X-Forwarded-For` (only behind a proxy
    /// that sets it).
    pub trust_proxy: bool,
    /// `DUBAN_REMINDER_INTERVAL`: seconds between automatic reminder passes (0 turns them off).
    pub reminder_interval_secs: u64,
    /// `DUBAN_REMINDER_DAYS_BEFORE`: how many days before the due date a reminder goes out.
    pub reminder_days_before: u64,
    /// `DUBAN_RECEIPT_REMINDER_DAYS`: how many working days after its plan was published an
    /// assignment still unsigned gets a reminder to sign (签收); 0: none.
    pub receipt_reminder_days: u64,
    /// `DUBAN_ATTACHMENT_MAX_BYTES`: the largest evidence file accepted (default 20 MiB).
    pub attachment_max_bytes: u64,
    /// `DUBAN_ATTACHMENT_REPORT_MAX_BYTES`: the most bytes of evidence files one report's
    /// working copy holds (default 100 MiB).
    pub attachment_report_max_bytes: u64,
    /// How webhooks are delivered (`DUBAN_WEBHOOK_*`).
    pub webhooks: WebhookSettings,
    /// Where evidence files are kept: `DUBAN_STORAGE` (`local`, the default, or `s3`) with
    /// `DUBAN_STORAGE_DIR` (default `<data dir>/attachments`; with S3 it holds the spool files)
    /// and, for S3, `DUBAN_S3_ENDPOINT`, `DUBAN_S3_BUCKET`, `DUBAN_S3_REGION` (default
    /// `us-east-1`), `DUBAN_S3_ACCESS_KEY_ID` and `DUBAN_S3_SECRET_ACCESS_KEY`.
    pub storage: crate::storage::Storage,
    /// `DUBAN_CORS_ORIGINS`: comma-separated origins (`https://duban.example.gov.cn`) whose
    /// browser pages may call the API; none by default.
    pub cors_origins: Vec<String>,
}

/// A setting that could not be used; the message names the variable.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The optional TOML file: the same settings as the variables, lower-case without the prefix.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    database_read_url: Option<String>,
    read_your_writes_seconds: Option<u64>,
    bind: Option<String>,
    data_dir: Option<String>,
    jwt_secret: Option<String>,
    jwt_key_file: Option<String>,
    jwt_previous_secrets: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    access_token_ttl: Option<i64>,
    refresh_token_ttl: Option<i64>,
    admin_user: Option<String>,
    admin_password: Option<String>,
    log: Option<String>,
    log_format: Option<String>,
    demo: Option<bool>,
    pool_size: Option<u32>,
    body_limit: Option<usize>,
    workers: Option<usize>,
    password_threads: Option<usize>,
    trust_proxy: Option<bool>,
    reminder_interval: Option<u64>,
    reminder_days_before: Option<u64>,
    receipt_reminder_days: Option<u64>,
    attachment_max_bytes: Option<u64>,
    attachment_report_max_bytes: Option<u64>,
    webhook_worker: Option<bool>,
    webhook_poll_ms: Option<u64>,
    webhook_timeout: Option<u64>,
    webhook_retry_base: Option<u64>,
    webhook_max_attempts: Option<u64>,
    webhook_retention_days: Option<u64>,
    webhook_ca_file: Option<String>,
    webhook_allowed_hosts: Option<String>,
    storage: Option<String>,
    storage_dir: Option<String>,
    s3_endpoint: Option<String>,
    s3_bucket: Option<String>,
    s3_region: Option<String>,
    s3_access_key_id: Option<String>,
    s3_secret_access_key: Option<String>,
    cors_origins: Option<String>,
}

impl FileSettings {
    /// The file's values as `DUBAN_*` variables, so one parser serves both sources.
    fn into_vars(self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(format!("DUBAN_{k}"), v);
            }
        };
        put("DATABASE_URL", self.database_url);
        put("DATABASE_READ_URL", self.database_read_url);
        put(
            "READ_YOUR_WRITES_SECONDS",
            self.read_your_writes_seconds.map(|v| v.to_string()),
        );
        put("BIND", self.bind);
        put("DATA_DIR", self.data_dir);
        put("JWT_SECRET", self.jwt_secret);
        put("JWT_KEY_FILE", self.jwt_key_file);
        put("JWT_PREVIOUS_SECRETS", self.jwt_previous_secrets);
        put("JWT_ISSUER", self.jwt_issuer);
        put("JWT_AUDIENCE", self.jwt_audience);
        put(
            "ACCESS_TOKEN_TTL",
            self.access_token_ttl.map(|v| v.to_string()),
        );
        put(
            "REFRESH_TOKEN_TTL",
            self.refresh_token_ttl.map(|v| v.to_string()),
        );
        put("ADMIN_USER", self.admin_user);
        put("ADMIN_PASSWORD", self.admin_password);
        put("LOG", self.log);
        put("LOG_FORMAT", self.log_format);
        put("DEMO", self.demo.map(|v| v.to_string()));
        put("POOL_SIZE", self.pool_size.map(|v| v.to_string()));
        put("BODY_LIMIT", self.body_limit.map(|v| v.to_string()));
        put("WORKERS", self.workers.map(|v| v.to_string()));
        put(
            "PASSWORD_THREADS",
            self.password_threads.map(|v| v.to_string()),
        );
        put("TRUST_PROXY", self.trust_proxy.map(|v| v.to_string()));
        put(
            "REMINDER_INTERVAL",
            self.reminder_interval.map(|v| v.to_string()),
        );
        put(
            "REMINDER_DAYS_BEFORE",
            self.reminder_days_before.map(|v| v.to_string()),
        );
        put(
            "RECEIPT_REMINDER_DAYS",
            self.receipt_reminder_days.map(|v| v.to_string()),
        );
        put(
            "ATTACHMENT_MAX_BYTES",
            self.attachment_max_bytes.map(|v| v.to_string()),
        );
        put(
            "ATTACHMENT_REPORT_MAX_BYTES",
            self.attachment_report_max_bytes.map(|v| v.to_string()),
        );
        put("WEBHOOK_WORKER", self.webhook_worker.map(|v| v.to_string()));
        put(
            "WEBHOOK_POLL_MS",
            self.webhook_poll_ms.map(|v| v.to_string()),
        );
        put(
            "WEBHOOK_TIMEOUT",
            self.webhook_timeout.map(|v| v.to_string()),
        );
        put(
            "WEBHOOK_RETRY_BASE",
            self.webhook_retry_base.map(|v| v.to_string()),
        );
        put(
            "WEBHOOK_MAX_ATTEMPTS",
            self.webhook_max_attempts.map(|v| v.to_string()),
        );
        put(
            "WEBHOOK_RETENTION_DAYS",
            self.webhook_retention_days.map(|v| v.to_string()),
        );
        put("WEBHOOK_CA_FILE", self.webhook_ca_file);
        put("WEBHOOK_ALLOWED_HOSTS", self.webhook_allowed_hosts);
        put("STORAGE", self.storage);
        put("STORAGE_DIR", self.storage_dir);
        put("S3_ENDPOINT", self.s3_endpoint);
        put("S3_BUCKET", self.s3_bucket);
        put("S3_REGION", self.s3_region);
        put("S3_ACCESS_KEY_ID", self.s3_access_key_id);
        put("S3_SECRET_ACCESS_KEY", self.s3_secret_access_key);
        put("CORS_ORIGINS", self.cors_origins);
        m
    }
}

impl Settings {
    /// Reads the process environment (and the file named by `DUBAN_CONFIG`, if any).
    pub fn from_env() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("DUBAN_"))
            .collect();
        let mut vars = match env.get("DUBAN_CONFIG") {
            Some(path) => read_file(Path::new(path))?,
            None => HashMap::new(),
        };
        vars.extend(env);
        Self::from_vars(&vars)
    }

    /// Builds settings from `DUBAN_*` variables given as a map (tests pass their own).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| vars.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let database_url = match get("DUBAN_DATABASE_URL") {
            Some(v) => DatabaseUrl::parse(v).map_err(|m| bad("DUBAN_DATABASE_URL", &m))?,
            None => DatabaseUrl::Sqlite(PathBuf::from("data/duban.db")),
        };
        let database_read_url = match get("DUBAN_DATABASE_READ_URL") {
            Some(v) => match DatabaseUrl::parse(v) {
                Ok(u) if u.is_postgres() => Some(u),
                Ok(_) => {
                    return Err(bad(
                        "DUBAN_DATABASE_READ_URL",
                        "a read replica is a PostgreSQL URL",
                    ))
                }
                Err(m) => return Err(bad("DUBAN_DATABASE_READ_URL", &m)),
            },
            None => None,
        };
        let read_your_writes_secs: u64 = parse_or(
            get("DUBAN_READ_YOUR_WRITES_SECONDS"),
            "DUBAN_READ_YOUR_WRITES_SECONDS",
            Some(5),
        )?;
        if !(1..=300).contains(&read_your_writes_secs) {
            return Err(bad("DUBAN_READ_YOUR_WRITES_SECONDS", "must be 1 to 300"));
        }
        let bind = parse_or(
            get("DUBAN_BIND"),
            "DUBAN_BIND",
            "127.0.0.1:8080".parse().ok(),
        )?;
        let data_dir = match (get("DUBAN_DATA_DIR"), &database_url) {
            (Some(d), _) => PathBuf::from(d),
            (None, DatabaseUrl::Sqlite(p)) => match p.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            },
            (None, DatabaseUrl::Postgres(_)) => PathBuf::from("data"),
        };
        let jwt_secret = get("DUBAN_JWT_SECRET").map(str::to_owned);
        if let Some(s) = &jwt_secret {
            if s.len() < 32 {
                return Err(bad("DUBAN_JWT_SECRET", "must be at least 32 bytes long"));
            }
        }
        let jwt_previous_secrets: Vec<String> = get("DUBAN_JWT_PREVIOUS_SECRETS")
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default();
        if jwt_previous_secrets.iter().any(|s| s.len() < 32) {
            return Err(bad(
                "DUBAN_JWT_PREVIOUS_SECRETS",
                "each key must be at least 32 bytes long",
            ));
        }
        let access_token_ttl_secs: i64 = parse_or(
            get("DUBAN_ACCESS_TOKEN_TTL"),
            "DUBAN_ACCESS_TOKEN_TTL",
            Some(900),
        )?;
        if !(30..=86_400).contains(&access_token_ttl_secs) {
            return Err(bad("DUBAN_ACCESS_TOKEN_TTL", "must be 30 to 86400 seconds"));
        }
        let refresh_token_ttl_secs: i64 = parse_or(
            get("DUBAN_REFRESH_TOKEN_TTL"),
            "DUBAN_REFRESH_TOKEN_TTL",
            Some(14 * 86_400),
        )?;
        if refresh_token_ttl_secs <= access_token_ttl_secs {
            return Err(bad(
                "DUBAN_REFRESH_TOKEN_TTL",
                "must be longer than the access-token lifetime",
            ));
        }
        let admin_user = get("DUBAN_ADMIN_USER").map(str::to_owned);
        let admin_password = get("DUBAN_ADMIN_PASSWORD").map(str::to_owned);
        if admin_user.is_some() != admin_password.is_some() {
            let missing = if admin_user.is_some() {
                "DUBAN_ADMIN_PASSWORD"
            } else {
                "DUBAN_ADMIN_USER"
            };
            return Err(bad(
                missing,
                "DUBAN_ADMIN_USER and DUBAN_ADMIN_PASSWORD go together",
            ));
        }
        let log_format = match get("DUBAN_LOG_FORMAT").unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(bad("DUBAN_LOG_FORMAT", "expected text or json")),
        };
        let pool_size: u32 = parse_or(get("DUBAN_POOL_SIZE"), "DUBAN_POOL_SIZE", Some(10))?;
        if !(1..=200).contains(&pool_size) {
            return Err(bad("DUBAN_POOL_SIZE", "must be 1 to 200"));
        }
        let body_limit: usize =
            parse_or(get("DUBAN_BODY_LIMIT"), "DUBAN_BODY_LIMIT", Some(1 << 20))?;
        if body_limit < 1024 {
            return Err(bad("DUBAN_BODY_LIMIT", "must be at least 1024 bytes"));
        }
        let default_workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let workers: usize =
            parse_or(get("DUBAN_WORKERS"), "DUBAN_WORKERS", Some(default_workers))?;
        if !(1..=256).contains(&workers) {
            return Err(bad("DUBAN_WORKERS", "must be 1 to 256"));
        }
        let password_threads: usize = parse_or(
            get("DUBAN_PASSWORD_THREADS"),
            "DUBAN_PASSWORD_THREADS",
            Some(crate::auth::password::default_threads()),
        )?;
        if !(1..=64).contains(&password_threads) {
            return Err(bad("DUBAN_PASSWORD_THREADS", "must be 1 to 64"));
        }
        let reminder_interval_secs: u64 = parse_or(
            get("DUBAN_REMINDER_INTERVAL"),
            "DUBAN_REMINDER_INTERVAL",
            Some(300),
        )?;
        let reminder_days_before: u64 = parse_or(
            get("DUBAN_REMINDER_DAYS_BEFORE"),
            "DUBAN_REMINDER_DAYS_BEFORE",
            Some(7),
        )?;
        if reminder_days_before > 90 {
            return Err(bad("DUBAN_REMINDER_DAYS_BEFORE", "must be 0 to 90 days"));
        }
        let receipt_reminder_days: u64 = parse_or(
            get("DUBAN_RECEIPT_REMINDER_DAYS"),
            "DUBAN_RECEIPT_REMINDER_DAYS",
            Some(3),
        )?;
        if receipt_reminder_days > 90 {
            return Err(bad("DUBAN_RECEIPT_REMINDER_DAYS", "must be 0 to 90 days"));
        }
        let attachment_max_bytes: u64 = parse_or(
            get("DUBAN_ATTACHMENT_MAX_BYTES"),
            "DUBAN_ATTACHMENT_MAX_BYTES",
            Some(20 << 20),
        )?;
        if !(1024..=(4 << 30)).contains(&attachment_max_bytes) {
            return Err(bad(
                "DUBAN_ATTACHMENT_MAX_BYTES",
                "must be 1024 bytes to 4 GiB",
            ));
        }
        let attachment_report_max_bytes: u64 = parse_or(
            get("DUBAN_ATTACHMENT_REPORT_MAX_BYTES"),
            "DUBAN_ATTACHMENT_REPORT_MAX_BYTES",
            Some(100 << 20),
        )?;
        if attachment_report_max_bytes < attachment_max_bytes {
            return Err(bad(
                "DUBAN_ATTACHMENT_REPORT_MAX_BYTES",
                "must be at least DUBAN_ATTACHMENT_MAX_BYTES",
            ));
        }
        let ranged = |var: &str, default: u64, range: std::ops::RangeInclusive<u64>| {
            let v: u64 = parse_or(get(var), var, Some(default))?;
            if range.contains(&v) {
                Ok(v)
            } else {
                Err(bad(
                    var,
                    &format!("must be {} to {}", range.start(), range.end()),
                ))
            }
        };
        let demo = parse_bool(get("DUBAN_DEMO"), "DUBAN_DEMO", true)?;
        let webhooks = WebhookSettings {
            worker: parse_bool(get("DUBAN_WEBHOOK_WORKER"), "DUBAN_WEBHOOK_WORKER", true)?,
            poll_ms: ranged("DUBAN_WEBHOOK_POLL_MS", 1000, 10..=60_000)?,
            timeout_secs: ranged("DUBAN_WEBHOOK_TIMEOUT", 10, 1..=120)?,
            retry: crate::domain::webhook::RetryPolicy {
                base_secs: ranged("DUBAN_WEBHOOK_RETRY_BASE", 10, 1..=3600)? as i64,
                max_secs: 3600,
                max_attempts: ranged("DUBAN_WEBHOOK_MAX_ATTEMPTS", 12, 1..=50)? as i32,
            },
            retention_days: ranged("DUBAN_WEBHOOK_RETENTION_DAYS", 30, 1..=3650)?,
            ca_file: get("DUBAN_WEBHOOK_CA_FILE")
                .map(|p| CaFile::read(Path::new(p)))
                .transpose()?,
            destinations: match get("DUBAN_WEBHOOK_ALLOWED_HOSTS") {
                Some(list) => {
                    Destinations::parse(list).map_err(|m| bad("DUBAN_WEBHOOK_ALLOWED_HOSTS", &m))?
                }
                // A demo's receivers run on the machine itself.
                None if demo => Destinations::demo(),
                None => Destinations::default(),
            },
        };
        let storage_dir = get("DUBAN_STORAGE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("attachments"));
        let storage = match get("DUBAN_STORAGE").unwrap_or("local") {
            "local" => crate::storage::Storage::Local(storage_dir),
            "s3" => {
                let need = |k: &str| {
                    get(k)
                        .map(str::to_owned)
                        .ok_or_else(|| bad(k, "is required with DUBAN_STORAGE=s3"))
                };
                let endpoint = need("DUBAN_S3_ENDPOINT")?.trim_end_matches('/').to_owned();
                if !endpoint.starts_with("http://") {
                    return Err(bad(
                        "DUBAN_S3_ENDPOINT",
                        "must be an http:// address (put a TLS proxy in front of a store \
                         reached over https)",
                    ));
                }
                crate::storage::Storage::S3 {
                    store: crate::storage::s3::S3Store {
                        endpoint,
                        bucket: need("DUBAN_S3_BUCKET")?,
                        region: get("DUBAN_S3_REGION").unwrap_or("us-east-1").to_owned(),
                        access_key_id: need("DUBAN_S3_ACCESS_KEY_ID")?,
                        secret_access_key: need("DUBAN_S3_SECRET_ACCESS_KEY")?,
                    },
                    spool: storage_dir,
                }
            }
            _ => return Err(bad("DUBAN_STORAGE", "expected local or s3")),
        };
        let cors_origins = match get("DUBAN_CORS_ORIGINS") {
            Some(v) => v
                .split(',')
                .map(|o| parse_origin(o.trim()).map_err(|m| bad("DUBAN_CORS_ORIGINS", &m)))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        Ok(Settings {
            database_url,
            database_read_url,
            read_your_writes_secs,
            bind,
            data_dir,
            jwt_secret,
            jwt_key_file: get("DUBAN_JWT_KEY_FILE").map(PathBuf::from),
            jwt_previous_secrets,
            jwt_issuer: get("DUBAN_JWT_ISSUER").unwrap_or("duban").to_owned(),
            jwt_audience: get("DUBAN_JWT_AUDIENCE").unwrap_or("duban-api").to_owned(),
            access_token_ttl_secs,
            refresh_token_ttl_secs,
            admin_user,
            admin_password,
            log: get("DUBAN_LOG").unwrap_or("info").to_owned(),
            log_format,
            demo,
            pool_size,
            body_limit,
            workers,
            password_threads,
            trust_proxy: parse_bool(get("DUBAN_TRUST_PROXY"), "DUBAN_TRUST_PROXY", false)?,
            reminder_interval_secs,
            reminder_days_before,
            receipt_reminder_days,
            attachment_max_bytes,
            attachment_report_max_bytes,
            webhooks,
            storage,
            cors_origins,
        })
    }
}

/// An origin as browsers send it: `http` or `https`, a host, an optional port; no path, no
/// wildcard. Scheme and host are compared in lower case.
fn parse_origin(o: &str) -> Result<String, String> {
    let refuse = || format!("{o:?} is not an origin such as https://duban.example.gov.cn");
    let (scheme, rest) = o.split_once("://").ok_or_else(refuse)?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") || rest.is_empty() {
        return Err(refuse());
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !rest.ends_with(']') => (h, Some(p)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if !host_ok || !port_ok {
        return Err(refuse());
    }
    Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `DUBAN_WEBHOOK_WORKER`: whether this instance delivers (default true; any number of
    /// instances may).
    pub worker: bool,
    /// `DUBAN_WEBHOOK_POLL_MS`: how often the worker looks for due deliveries (it is also woken
    /// at once by writes on this instance).
    pub poll_ms: u64,
    /// `DUBAN_WEBHOOK_TIMEOUT`: seconds a receiver has to answer.
    pub timeout_secs: u64,
    /// `DUBAN_WEBHOOK_RETRY_BASE` and `DUBAN_WEBHOOK_MAX_ATTEMPTS`: the backoff.
    pub retry: crate::domain::webhook::RetryPolicy,
    /// `DUBAN_WEBHOOK_RETENTION_DAYS`: how long finished deliveries are kept.
    pub retention_days: u64,
    /// `DUBAN_WEBHOOK_CA_FILE`: roots trusted for `https://` receivers besides the public ones
    /// (a city's internal CA).
    pub ca_file: Option<CaFile>,
    /// `DUBAN_WEBHOOK_ALLOWED_HOSTS`: where deliveries may go (default `*`: any host but the
    /// server's own and link-local addresses; in a demo, loopback receivers too).
    pub destinations: Destinations,
}

/// A PEM bundle of trusted root certificates, read and checked at start-up.
#[derive(Clone)]
pub struct CaFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its certificates (DER), each usable as a trust anchor.
    pub certs: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl CaFile {
    /// Reads `DUBAN_WEBHOOK_CA_FILE`: it must be readable and hold at least one certificate,
    /// each of which can be a trust anchor; anything else in the file (text, keys) is ignored.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        const VAR: &str = "DUBAN_WEBHOOK_CA_FILE";
        let shown = path.display();
        let pem =
            std::fs::read(path).map_err(|e| bad(VAR, &format!("cannot read {shown}: {e}")))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(VAR, &format!("{shown} is not a PEM bundle: {e}")))?;
        if certs.is_empty() {
            return Err(bad(
                VAR,
                &format!(
                    "{shown} holds no certificate (expected -----BEGIN CERTIFICATE----- blocks)"
                ),
            ));
        }
        let mut roots = rustls::RootCertStore::empty();
        for (i, cert) in certs.iter().enumerate() {
            roots.add(cert.clone()).map_err(|e| {
                bad(
                    VAR,
                    &format!("certificate {} of {shown} cannot be used: {e}", i + 1),
                )
            })?;
        }
        Ok(CaFile {
            path: path.to_path_buf(),
            certs,
        })
    }
}

impl fmt::Debug for CaFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} certificates)",
            self.path.display(),
            self.certs.len()
        )
    }
}

impl WebhookSettings {
    /// How long a claimed delivery is a worker's before another may take it over: twice the
    /// timeout, at least 5 s.
    pub fn lease(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds((2 * self.timeout_secs).max(5) as i64)
    }
}

fn read_file(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        bad(
            "DUBAN_CONFIG",
            &format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let file: FileSettings = toml::from_str(&text)
        .map_err(|e| bad("DUBAN_CONFIG", &format!("{}: {e}", path.display())))?;
    Ok(file.into_vars())
}

fn bad(var: &str, message: &str) -> ConfigError {
    ConfigError(format!("{var}: {message}"))
}

fn parse_or<T: std::str::FromStr>(
    value: Option<&str>,
    var: &str,
    default: Option<T>,
) -> Result<T, ConfigError> {
    match value {
        Some(v) => v
            .parse()
            .map_err(|_| bad(var, &format!("cannot use {v:?}"))),
        None => default.ok_or_else(|| bad(var, "is required")),
    }
}

fn parse_bool(value: Option<&str>, var: &str, default: bool) -> Result<bool, ConfigError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(v) => Err(bad(var, &format!("expected true or false, not {v:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_serve_sqlite_on_localhost() {
        let s = Settings::from_vars(&HashMap::new()).unwrap();
        assert_eq!(s.database_url, DatabaseUrl::Sqlite("data/duban.db".into()));
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("data"));
        assert_eq!(s.access_token_ttl_secs, 900);
        assert!(s.demo);
    }

    #[test]
    fn webhook_destinations_default_to_any_host_with_loopback_only_in_a_demo() {
        let lo = "127.0.0.1";
        let demo = Settings::from_vars(&vars(&[])).unwrap();
        assert_eq!(demo.webhooks.destinations.check_host(lo), Ok(()));
        let served = Settings::from_vars(&vars(&[("DUBAN_DEMO", "false")])).unwrap();
        assert!(served.webhooks.destinations.check_host(lo).is_err());
        assert_eq!(
            served.webhooks.destinations.check_host("hooks.example"),
            Ok(())
        );
        let listed =
            Settings::from_vars(&vars(&[("DUBAN_WEBHOOK_ALLOWED_HOSTS", "hooks.example")]))
                .unwrap();
        assert!(
            listed.webhooks.destinations.check_host(lo).is_err(),
            "a list replaces the demo's"
        );
        assert!(listed
            .webhooks
            .destinations
            .check_host("other.example")
            .is_err());
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (k, v) in [
            ("DUBAN_BIND", "nowhere"),
            ("DUBAN_DATABASE_URL", "mysql://x"),
            ("DUBAN_JWT_SECRET", "short"),
            ("DUBAN_POOL_SIZE", "0"),
            ("DUBAN_PASSWORD_THREADS", "0"),
            ("DUBAN_DEMO", "maybe"),
            ("DUBAN_LOG_FORMAT", "xml"),
            ("DUBAN_DATABASE_READ_URL", "sqlite://replica.db"),
            ("DUBAN_READ_YOUR_WRITES_SECONDS", "0"),
            ("DUBAN_CORS_ORIGINS", "*"),
            ("DUBAN_CORS_ORIGINS", "https://a.example.org/app"),
            (
                "DUBAN_CORS_ORIGINS",
                "https://a.example.org,ftp://b.example.org",
            ),
            ("DUBAN_CORS_ORIGINS", "https://a.example.org:99999"),
            ("DUBAN_WEBHOOK_ALLOWED_HOSTS", "hooks.example,bad host"),
            ("DUBAN_WEBHOOK_ALLOWED_HOSTS", " , "),
        ] {
            let e = Settings::from_vars(&vars(&[(k, v)])).unwrap_err();
            assert!(e.0.starts_with(k), "{e} should name {k}");
        }
    }

    #[test]
    fn cors_origins_are_a_list_of_exact_origins() {
        let s = Settings::from_vars(&vars(&[(
            "DUBAN_CORS_ORIGINS",
            "https://Duban.Example.gov.cn, http://localhost:5173",
        )]))
        .unwrap();
        assert_eq!(
            s.cors_origins,
            ["https://duban.example.gov.cn", "http://localhost:5173"]
        );
        assert!(Settings::from_vars(&HashMap::new())
            .unwrap()
            .cors_origins
            .is_empty());
    }

    #[test]
    fn a_ca_file_must_be_readable_and_hold_a_certificate() {
        let dir = std::env::temp_dir().join(format!("duban-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let broken = dir.join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        for (file, says) in [
            (&missing, "cannot read"),
            (&empty, "holds no certificate"),
            (&broken, "cannot be used"),
        ] {
            let v = vars(&[("DUBAN_WEBHOOK_CA_FILE", file.to_str().unwrap())]);
            let e = Settings::from_vars(&v).unwrap_err();
            assert!(e.0.starts_with("DUBAN_WEBHOOK_CA_FILE: "), "{e}");
            assert!(e.0.contains(says), "{e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert!(Settings::from_vars(&HashMap::new())
            .unwrap()
            .webhooks
            .ca_file
            .is_none());
    }

    #[test]
    fn the_admin_user_needs_a_password() {
        let e = Settings::from_vars(&vars(&[("DUBAN_ADMIN_USER", "root")])).unwrap_err();
        assert!(e.0.starts_with("DUBAN_ADMIN_PASSWORD"));
    }

    #[test]
    fn postgres_urls_are_printed_without_password() {
        let u = DatabaseUrl::parse("postgres://app:s3cret@db:5432/duban").unwrap();
        let shown = format!("{u:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("app@db:5432/duban"));
    }

    #[test]
    fn the_file_fills_in_what_the_environment_does_not_set() {
        let file: FileSettings =
            toml::from_str("bind = \"0.0.0.0:9000\"\npool_size = 4\n").unwrap();
        let mut v = file.into_vars();
        v.insert("DUBAN_POOL_SIZE".into(), "6".into());
        let s = Settings::from_vars(&v).unwrap();
        assert_eq!(s.bind.port(), 9000);
        assert_eq!(s.pool_size, 6);
    }
}
