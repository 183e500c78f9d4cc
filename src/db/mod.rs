//! The database: one connection type over PostgreSQL and SQLite, its pool, and migrations.
//!
//! Handlers never touch a connection on an actix worker thread: [`Db::run`] and [`Db::write`]
//! take a pooled connection on the blocking thread pool.

pub mod migrations;
pub mod schema;
pub mod text;

use crate::config::DatabaseUrl;
use crate::error::ApiResult;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use std::time::Duration;

/// A connection to either backend; statements that both understand are written once.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL, the production and scale-out backend.
    Pg(diesel::PgConnection),
    /// SQLite, the embedded default.
    Sqlite(diesel::SqliteConnection),
}

/// Runs the same diesel expression against whichever backend the connection is, for the
/// statements the multi-backend cannot express (`RETURNING`, `ON CONFLICT`).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Pg($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}

/// How the pool opens connections: the right backend, with SQLite's pragmas set.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    /// A manager for this database.
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => diesel::PgConnection::establish(url)
                .map(AnyConnection::Pg)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut c = diesel::SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::connection::TransactionManager;
        AnyConnection::is_broken_transaction_manager(conn)
    }
}

/// A pooled connection.
pub type Conn = PooledConnection<ConnectionManager>;

/// The shared handle to the database.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager>,
    backend: Backend,
}

/// Which backend a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// Pool occupancy, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    /// Connections open.
    pub connections: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// The configured maximum.
    pub max: u32,
}

impl Db {
    /// Opens the pool (creating the SQLite file's folder if needed). Fails when the database
    /// cannot be reached.
    pub fn connect(url: &DatabaseUrl, size: u32) -> Result<Self, String> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
        }
        let backend = match url {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
        };
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(1.min(size)))
            .connection_timeout(Duration::from_secs(5))
            .build(ConnectionManager::new(url.clone()))
            .map_err(|e| format!("cannot open the database {url:?}: {e}"))?;
        Ok(Db { pool, backend })
    }

    /// The backend of this database.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for synchronous callers (CLI, start-up).
    pub fn get(&self) -> ApiResult<Conn> {
        Ok(self.pool.get()?)
    }

    /// The pool's occupancy.
    pub fn pool_state(&self) -> PoolState {
        let s = self.pool.state();
        PoolState {
            connections: s.connections,
            idle: s.idle_connections,
            max: self.pool.max_size(),
        }
    }

    /// Runs read work on the blocking pool with a pooled connection.
    pub async fn run<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Runs write work in one transaction on the blocking pool: everything or nothing.
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| write_tx(conn, f)).await
    }
}

/// Runs `f` in a transaction. On SQLite the transaction is `BEGIN IMMEDIATE`, so it takes the
/// write lock up front and waits on the busy timeout instead of failing on a lock upgrade.
/// Called inside a transaction, it runs `f` in a savepoint of it.
pub fn write_tx<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let nested = AnyConnection::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some();
    match conn {
        // Inside a transaction already (a use case called by another): a savepoint.
        _ if nested => AnyConnection::begin_transaction(conn)?,
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        AnyConnection::Pg(_) => AnyConnection::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => match AnyConnection::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = AnyConnection::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            AnyConnection::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Checks that the database answers (for `/readyz`).
pub fn ping(conn: &mut AnyConnection) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}
