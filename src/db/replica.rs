//! Read replicas: query endpoints read from a PostgreSQL streaming replica, with
//! read-your-writes for the caller who has just written.
//!
//! - A caller (account) who has written is sent to the primary for the next
//!   `DUBAN_READ_YOUR_WRITES_SECONDS` (5 by default): kept in this process's memory, keyed by
//!   the account. Behind a load balancer the same caller must reach the same instance for that
//!   long (nginx: `hash $http_authorization consistent`, see the README).
//! - The replica serves only while it is known to be close behind: a probe every
//!   [`PROBE_EVERY`] measures its replay lag, and while the lag is unknown or more than the
//!   window less one probe interval, every read goes to the primary. So a write is on the
//!   replica before its writer's window closes.
//! - A replica that cannot be reached (or fails a read with a lost connection) is left out
//!   until the next successful probe; reads go to the primary meanwhile.

use super::{ConnectionManager, PoolState};
use crate::domain::ids::UserId;
use diesel::prelude::*;
use diesel::r2d2::Pool;
use diesel::sql_types::{Double, Nullable};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// How often the replica's lag is measured.
pub const PROBE_EVERY: Duration = Duration::from_millis(500);

/// The replica's replay lag in milliseconds: 0 when it has replayed all it received (or is
/// not a standby at all, e.g. the primary itself), NULL when no WAL receiver runs (it is
/// cut off from the primary, so its lag is unknown).
const LAG_SQL: &str = "CASE WHEN NOT pg_is_in_recovery() THEN 0::float8 \
     WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN NULL \
     WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8 \
     ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 * 1000 END";

/// Where a read went, counted for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// To the replica.
    Replica = 0,
    /// To the primary: the caller wrote within the window.
    RecentWriter = 1,
    /// To the primary: the replica is down, or too far behind.
    ReplicaUnavailable = 2,
}

impl Route {
    /// The label of this route in `/metrics`.
    pub fn label(self) -> &'static str {
        match self {
            Route::Replica => "replica",
            Route::RecentWriter => "primary_recent_writer",
            Route::ReplicaUnavailable => "primary_replica_unavailable",
        }
    }

    const ALL: [Route; 3] = [
        Route::Replica,
        Route::RecentWriter,
        Route::ReplicaUnavailable,
    ];
}

/// The read pool and what decides whether a read may use it.
pub struct Replica {
    pub(super) pool: Pool<ConnectionManager>,
    window: Duration,
    usable: AtomicBool,
    lag_ms: AtomicU64,
    writers: Mutex<HashMap<UserId, Instant>>,
    counts: [AtomicU64; 3],
}

impl Replica {
    /// The replica behind `pool`; measures its lag once now, then every [`PROBE_EVERY`] on a
    /// thread of its own for as long as the replica is in use.
    pub(super) fn start(pool: Pool<ConnectionManager>, window: Duration) -> Arc<Self> {
        let replica = Arc::new(Replica {
            pool,
            window,
            usable: AtomicBool::new(false),
            lag_ms: AtomicU64::new(0),
            writers: Mutex::new(HashMap::new()),
            counts: Default::default(),
        });
        replica.probe();
        let weak: Weak<Replica> = Arc::downgrade(&replica);
        let spawned = std::thread::Builder::new()
            .name("duban-replica-probe".into())
            .spawn(move || loop {
                std::thread::sleep(PROBE_EVERY);
                match weak.upgrade() {
                    Some(r) => r.probe(),
                    None => break,
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the replica probe; reads stay on the primary");
        }
        replica
    }

    /// Measures the lag and decides whether the replica may serve.
    fn probe(&self) {
        let lag = self
            .pool
            .get()
            .map_err(|e| e.to_string())
            .and_then(|mut c| match &mut *c {
                super::AnyConnection::Pg(pg) => {
                    diesel::select(diesel::dsl::sql::<Nullable<Double>>(LAG_SQL))
                        .get_result::<Option<f64>>(pg)
                        .map_err(|e| e.to_string())
                }
                super::AnyConnection::Sqlite(_) => Err("a replica is PostgreSQL only".into()),
            });
        let limit = self.window.saturating_sub(PROBE_EVERY).as_millis() as f64;
        let usable = match lag {
            Ok(Some(ms)) => {
                self.lag_ms.store(ms.max(0.0) as u64, Ordering::Relaxed);
                ms <= limit
            }
            Ok(None) => false,
            Err(e) => {
                tracing::debug!(error = %e, "replica probe failed");
                false
            }
        };
        if self.usable.swap(usable, Ordering::Relaxed) != usable {
            if usable {
                tracing::info!("the read replica serves reads");
            } else {
                tracing::warn!(
                    lag_ms = self.lag_ms.load(Ordering::Relaxed),
                    "the read replica is unreachable or behind; reads go to the primary"
                );
            }
        }
        let now = Instant::now();
        if let Ok(mut w) = self.writers.lock() {
            w.retain(|_, until| *until > now);
        }
    }

    /// Where `reader`'s next read goes.
    pub(super) fn route(&self, reader: UserId) -> Route {
        let recent = self
            .writers
            .lock()
            .map(|w| w.get(&reader).is_some_and(|until| *until > Instant::now()))
            .unwrap_or(true);
        if recent {
            Route::RecentWriter
        } else if self.usable.load(Ordering::Relaxed) {
            Route::Replica
        } else {
            Route::ReplicaUnavailable
        }
    }

    /// Counts a read served by `route`.
    pub(super) fn count(&self, route: Route) {
        self.counts[route as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Leaves the replica out until the next successful probe.
    pub(super) fn set_aside(&self, why: &str) {
        if self.usable.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                cause = why,
                "the read replica failed; reads go to the primary"
            );
        }
    }

    /// Sends `writer` to the primary for the window.
    pub(super) fn note_write(&self, writer: UserId) {
        if let Ok(mut w) = self.writers.lock() {
            w.insert(writer, Instant::now() + self.window);
        }
    }

    /// The read pool's occupancy.
    pub(super) fn pool_state(&self) -> PoolState {
        PoolState::of(&self.pool)
    }

    /// What `/metrics` shows of the replica.
    pub(super) fn stats(&self) -> ReplicaStats {
        ReplicaStats {
            pool: self.pool_state(),
            usable: self.usable.load(Ordering::Relaxed),
            lag_ms: self.lag_ms.load(Ordering::Relaxed),
            reads: Route::ALL.map(|r| (r.label(), self.counts[r as usize].load(Ordering::Relaxed))),
        }
    }
}

/// The read replica's state, for `/metrics`.
#[derive(Debug, Clone)]
pub struct ReplicaStats {
    /// The read pool's occupancy.
    pub pool: PoolState,
    /// Whether the replica serves reads now.
    pub usable: bool,
    /// Its last measured replay lag.
    pub lag_ms: u64,
    /// Reads served so far, by route label.
    pub reads: [(&'static str, u64); 3],
}

impl ReplicaStats {
    /// The Prometheus text exposition of these figures (beside the primary pool's
    /// `duban_db_pool_connections`).
    pub fn exposition(&self) -> String {
        use std::fmt::Write;
        let p = &self.pool;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP duban_db_read_pool_connections Read replica pool connections by state\n\
             # TYPE duban_db_read_pool_connections gauge\n\
             duban_db_read_pool_connections{{state=\"idle\"}} {}\n\
             duban_db_read_pool_connections{{state=\"in_use\"}} {}\n\
             duban_db_read_pool_connections{{state=\"max\"}} {}",
            p.idle,
            p.connections - p.idle,
            p.max
        );
        let _ = writeln!(
            out,
            "# HELP duban_db_replica_usable Whether the read replica serves reads (1) or not (0)\n\
             # TYPE duban_db_replica_usable gauge\n\
             duban_db_replica_usable {}\n\
             # HELP duban_db_replica_lag_milliseconds The read replica's last measured replay lag\n\
             # TYPE duban_db_replica_lag_milliseconds gauge\n\
             duban_db_replica_lag_milliseconds {}",
            u8::from(self.usable),
            self.lag_ms
        );
        let _ = writeln!(
            out,
            "# HELP duban_db_reads_total Query endpoint reads by the pool that served them\n\
             # TYPE duban_db_reads_total counter"
        );
        for (label, n) in self.reads {
            let _ = writeln!(out, "duban_db_reads_total{{served_by=\"{label}\"}} {n}");
        }
        out
    }
}
