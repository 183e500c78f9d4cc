//! The database: one connection type over PostgreSQL and SQLite, its pools, and migrations.
//!
//! Handlers never touch a connection on an actix worker thread: [`Db::run`], [`Db::write`] and
//! [`Db::read`] take a pooled connection on the blocking thread pool. Writes and everything in
//! a write transaction run on the primary; the query endpoints read through [`Db::read`], which
//! uses the read replica when one is configured ([`replica`]). On SQLite the writers of this
//! process queue for one in-process lock ([`writer`]) before `BEGIN IMMEDIATE`.
//!
//! Connections are not tested on checkout (no `SELECT 1` before every use): a connection that
//! failed with a lost-connection error is tested when it comes back and dropped if dead, and
//! the request that met the failure gets a 503.

pub mod migrations;
pub mod replica;
pub mod schema;
pub mod text;
pub mod writer;

use crate::config::DatabaseUrl;
use crate::domain::ids::UserId;
use crate::error::{ApiError, ApiResult};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use replica::{Replica, ReplicaStats, Route};
use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;
use writer::WriterLock;

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

/// How the pool opens connections: the right backend, with SQLite's pragmas set and its
/// file's writer lock attached; read-only for a read pool.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    read_only: bool,
    writer: Option<WriterLock>,
}

impl ConnectionManager {
    /// A manager for this database.
    pub fn new(url: DatabaseUrl) -> Self {
        let writer = match &url {
            DatabaseUrl::Sqlite(path) => Some(writer::lock_of(path)),
            DatabaseUrl::Postgres(_) => None,
        };
        Self {
            url,
            read_only: false,
            writer,
        }
    }

    /// A manager whose connections refuse writes (a read pool: a write sent there by mistake
    /// fails even when the read URL names the primary itself).
    pub fn read_only(url: DatabaseUrl) -> Self {
        Self {
            read_only: true,
            ..Self::new(url)
        }
    }
}

thread_local! {
    /// Set while a connection that met a connection error goes back to the pool, so that it is
    /// tested then (and dropped if dead) instead of before every checkout.
    static SUSPECT: Cell<bool> = const { Cell::new(false) };
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut c =
                    diesel::PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                if self.read_only {
                    c.batch_execute("SET default_transaction_read_only = on")
                        .map_err(r2d2::Error::QueryError)?;
                }
                Ok(AnyConnection::Pg(c))
            }
            DatabaseUrl::Sqlite(path) => {
                let url = path.to_string_lossy();
                let mut c = diesel::SqliteConnection::establish(&url)
                    .map_err(r2d2::Error::ConnectionError)?;
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                if let Some(lock) = &self.writer {
                    writer::Carrier::attach(&mut c, lock.clone(), &url);
                }
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        AnyConnection::is_broken_transaction_manager(conn)
            || (SUSPECT.get() && self.is_valid(conn).is_err())
    }
}

/// A pooled connection.
pub type Conn = PooledConnection<ConnectionManager>;

/// The shared handle to the database.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager>,
    backend: Backend,
    replica: Option<Arc<Replica>>,
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

impl PoolState {
    fn of(pool: &Pool<ConnectionManager>) -> Self {
        let s = pool.state();
        PoolState {
            connections: s.connections,
            idle: s.idle_connections,
            max: pool.max_size(),
        }
    }
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
            .test_on_check_out(false)
            .build(ConnectionManager::new(url.clone()))
            .map_err(|e| format!("cannot open the database {url:?}: {e}"))?;
        Ok(Db {
            pool,
            backend,
            replica: None,
        })
    }

    /// Adds a read pool of `size` connections on the replica at `url` (PostgreSQL only), used
    /// by [`Db::read`]; a caller who wrote reads from the primary for `window`. The replica
    /// need not be up: reads use the primary until it answers.
    pub fn with_replica(
        mut self,
        url: &DatabaseUrl,
        size: u32,
        window: Duration,
    ) -> Result<Self, String> {
        if !url.is_postgres() || self.backend != Backend::Postgres {
            return Err("a read replica needs PostgreSQL for both URLs".into());
        }
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(1.min(size)))
            .connection_timeout(Duration::from_secs(1))
            .test_on_check_out(false)
            .build_unchecked(ConnectionManager::read_only(url.clone()));
        self.replica = Some(Replica::start(pool, window));
        Ok(self)
    }

    /// The backend of this database.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for synchronous callers (CLI, start-up).
    pub fn get(&self) -> ApiResult<Conn> {
        Ok(self.pool.get()?)
    }

    /// The primary pool's occupancy.
    pub fn pool_state(&self) -> PoolState {
        PoolState::of(&self.pool)
    }

    /// The read replica's pool, lag and reads, when one is configured.
    pub fn replica_stats(&self) -> Option<ReplicaStats> {
        self.replica.as_ref().map(|r| r.stats())
    }

    /// Runs work on the blocking pool with a connection to the primary: writes, reads inside
    /// or ahead of a write, and reads that must see the latest state (the caller's account).
    pub async fn run<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || use_conn(pool.get()?, f)).await?
    }

    /// Runs query work for `reader`: on the read replica when there is one, it is close
    /// behind, and `reader` has not written within the read-your-writes window; on the
    /// primary otherwise. The work must not write (the read pool refuses writes).
    pub async fn read<T, F>(&self, reader: UserId, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let Some(replica) = self.replica.clone() else {
            return self.run(f).await;
        };
        let primary = self.pool.clone();
        actix_web::web::block(move || {
            let mut route = replica.route(reader);
            if route == Route::Replica {
                match replica.pool.get() {
                    Ok(conn) => {
                        replica.count(route);
                        let out = use_conn(conn, f);
                        if let Err(ApiError::Unavailable(cause)) = &out {
                            replica.set_aside(cause);
                        }
                        return out;
                    }
                    Err(e) => {
                        replica.set_aside(&e.to_string());
                        route = Route::ReplicaUnavailable;
                    }
                }
            }
            replica.count(route);
            use_conn(primary.get()?, f)
        })
        .await?
    }

    /// True when a read replica is configured.
    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// Notes that `writer` has just written, so that its reads go to the primary for the
    /// read-your-writes window (nothing to do without a replica).
    pub fn note_write(&self, writer: UserId) {
        if let Some(r) = &self.replica {
            r.note_write(writer);
        }
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

/// Runs `f` on a checked-out connection; a connection that met a connection error is tested
/// when it goes back to the pool.
fn use_conn<T, F>(mut conn: Conn, f: F) -> ApiResult<T>
where
    F: FnOnce(&mut AnyConnection) -> ApiResult<T>,
{
    let out = f(&mut conn);
    let suspect = matches!(out, Err(ApiError::Unavailable(_)));
    SUSPECT.set(suspect);
    drop(conn);
    SUSPECT.set(false);
    out
}

/// Whether `conn` is inside a transaction (a use case called by another, or a request
/// recorded under an idempotency key).
pub fn in_transaction(conn: &mut AnyConnection) -> QueryResult<bool> {
    Ok(AnyConnection::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some())
}

/// Runs `f` in a transaction. On SQLite the writer first waits for its turn in this process
/// ([`writer`]), then the transaction is `BEGIN IMMEDIATE`, so it takes the database's write
/// lock up front (waiting on the busy timeout only for other processes) instead of failing on
/// a lock upgrade; the turn passes on after commit or rollback. Called inside a transaction,
/// it runs `f` in a savepoint of it.
pub fn write_tx<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let _turn = writer::turn(conn)?;
    let nested = in_transaction(conn)?;
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

/// Runs statements that write outside a transaction, each committed on its own (the
/// reservation of an `Idempotency-Key`), as this process's one SQLite writer of the moment,
/// like [`write_tx`] does for a transaction.
pub fn one_writer<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let _turn = writer::turn(conn)?;
    f(conn)
}

/// Checks that the database answers (for `/readyz`).
pub fn ping(conn: &mut AnyConnection) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}
