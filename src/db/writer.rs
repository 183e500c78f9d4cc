//! SQLite's writers queued in the process.
//!
//! SQLite lets one writer at a time hold a database file; every other writer that tries to
//! begin spins in the busy handler (sleeping and retrying until `busy_timeout`), which under
//! concurrent submissions costs long, unfair waits while the machine idles. So within this
//! process the writers of one file take a fair lock first, and the one holding it is the only
//! one of this process that begins a write transaction: the others wait in line and are handed
//! the lock in order. Readers never take it (WAL lets them read beside the writer). The busy
//! timeout stays as the fallback against other processes on the same file (the CLI).
//!
//! Every SQLite connection of the pool carries the lock of its file (as its diesel
//! instrumentation, which forwards to the default instrumentation if one is set), so
//! [`super::write_tx`] finds it on the connection it is given, whatever path the write took.

use super::AnyConnection;
use diesel::connection::{Connection, Instrumentation, InstrumentationEvent, TransactionManager};
use parking_lot::{ArcMutexGuard, Mutex, RawMutex};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

/// How long a writer waits in line before giving up with "database is busy" (a 503).
const WAIT: Duration = Duration::from_secs(10);

/// The in-process write lock of one SQLite file.
#[derive(Debug, Clone, Default)]
pub struct WriterLock(Arc<Mutex<()>>);

/// The lock held by the writer of the moment; dropping it hands it to the next in line.
pub struct Turn(Option<ArcMutexGuard<RawMutex, ()>>);

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(g) = self.0.take() {
            // Handed directly to the longest waiting writer: first come, first served.
            ArcMutexGuard::unlock_fair(g);
        }
    }
}

/// Waits for this process's turn to write on `conn`'s database: on a SQLite connection of
/// the pool outside any transaction; `None` (nothing to wait for) inside a transaction, whose
/// outermost level holds the turn already, and on PostgreSQL. After [`WAIT`] in line, the
/// error "database is busy" (a 503).
pub fn turn(conn: &mut AnyConnection) -> diesel::QueryResult<Option<Turn>> {
    let nested = AnyConnection::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some();
    let lock = match conn {
        AnyConnection::Sqlite(c) if !nested => c
            .instrumentation()
            .downcast_ref::<Carrier>()
            .map(|carrier| carrier.lock.clone()),
        _ => None,
    };
    match lock {
        None => Ok(None),
        Some(l) => match l.0.try_lock_arc_for(WAIT) {
            Some(g) => Ok(Some(Turn(Some(g)))),
            None => Err(busy()),
        },
    }
}

/// The one lock of this file in this process (the same for every pool opened on it).
pub fn lock_of(path: &Path) -> WriterLock {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Weak<Mutex<()>>>>> = OnceLock::new();
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut locks = LOCKS.get_or_init(Default::default).lock();
    locks.retain(|_, l| l.strong_count() > 0);
    if let Some(l) = locks.get(&key).and_then(Weak::upgrade) {
        return WriterLock(l);
    }
    let l = WriterLock::default();
    locks.insert(key, Arc::downgrade(&l.0));
    l
}

/// What a SQLite connection carries: its file's writer lock, and the instrumentation it would
/// otherwise have had.
pub struct Carrier {
    lock: WriterLock,
    inner: Option<Box<dyn Instrumentation>>,
}

impl Carrier {
    /// Puts `lock` on a new connection.
    /// The default instrumentation it wraps is made here, after the connection was
    /// established: while it is made, [`attaching_url`] names the connection's database, since
    /// it will not see the establishment itself.
    pub fn attach(conn: &mut diesel::SqliteConnection, lock: WriterLock, url: &str) {
        ATTACHING.with(|a| *a.borrow_mut() = Some(url.to_owned()));
        let inner = diesel::connection::get_default_instrumentation();
        ATTACHING.with(|a| *a.borrow_mut() = None);
        conn.set_instrumentation(Carrier { lock, inner });
    }
}

impl Instrumentation for Carrier {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let Some(i) = &mut self.inner {
            i.on_connection_event(event);
        }
    }
}

thread_local! {
    static ATTACHING: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The database of the SQLite connection whose instrumentation is being made on this thread,
/// if any: a default instrumentation (see `diesel::connection::set_default_instrumentation`)
/// made for a pooled SQLite connection is made after the connection was established, and can
/// learn its database here.
pub fn attaching_url() -> Option<String> {
    ATTACHING.with(|a| a.borrow().clone())
}

/// The error of a writer that waited [`WAIT`] in vain: "database is busy", answered as a 503.
fn busy() -> diesel::result::Error {
    diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::Unknown,
        Box::new("database is busy: too many writers waiting in line".to_owned()),
    )
}
