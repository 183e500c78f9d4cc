//! How much a hot request asks of the database: the statements a report submission and a report
//! read send, counted on the app's own connections (diesel's instrumentation, watching only this
//! test's database), and that each runs prepared from the connection's statement cache rather
//! than being planned on every call.
//!
//! Transaction control (`BEGIN`, `COMMIT`) goes as simple queries and is counted apart; the
//! pool's connection check (`SELECT 1`), which belongs to the pool rather than to the request,
//! is left out.

use crate::fixtures::*;
use crate::helpers::*;
use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, Once};

/// What the watched database was sent.
#[derive(Default)]
struct Seen {
    /// The address (PostgreSQL database name or SQLite folder) of the watched database.
    watched: Option<String>,
    /// Statements sent since the last [`take`], in order, and whether each ran prepared from
    /// its connection's statement cache.
    sent: Vec<(String, bool)>,
}

static SEEN: Mutex<Option<Seen>> = Mutex::new(None);

fn seen() -> MutexGuard<'static, Option<Seen>> {
    SEEN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Follows one connection (opened after [`install`]); records its statements while its database
/// is the watched one.
struct Counter {
    url: String,
    /// What diesel prepared into this connection's cache.
    cached: HashSet<String>,
}

impl Counter {
    fn record(&self, f: impl FnOnce(&mut Seen)) {
        let mut guard = seen();
        if let Some(s) = guard.as_mut() {
            if s.watched.as_deref().is_some_and(|w| self.url.contains(w)) {
                f(s);
            }
        }
    }
}

impl Instrumentation for Counter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartEstablishConnection { url, .. } => {
                self.url = url.to_owned();
            }
            InstrumentationEvent::StartQuery { query, .. } => {
                let text = query.to_string();
                let sql = text.split(" -- binds: ").next().unwrap_or("").to_owned();
                let prepared = self.cached.contains(&sql);
                self.record(|s| s.sent.push((sql, prepared)));
            }
            // Comes after the statement's StartQuery, the first time this connection runs it.
            InstrumentationEvent::CacheQuery { sql, .. } => {
                self.cached.insert(sql.to_owned());
                self.record(|s| {
                    if let Some(last) = s.sent.last_mut().filter(|(q, _)| q == sql) {
                        last.1 = true;
                    }
                });
            }
            _ => {}
        }
    }
}

/// Follows every connection opened from now on in this process (each records nothing until
/// its database is [`watch`]ed).
fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        set_default_instrumentation(|| {
            Some(Box::new(Counter {
                // A pooled SQLite connection gets its instrumentation after it was established.
                url: duban::db::writer::attaching_url().unwrap_or_default(),
                cached: HashSet::new(),
            }))
        })
        .expect("install the statement counter");
    });
}

/// Records the statements sent to the database at `address` from now on.
fn watch(address: String) {
    *seen() = Some(Seen {
        watched: Some(address),
        ..Seen::default()
    });
}

/// What one request sent.
#[derive(Debug)]
struct Sent {
    /// Statements proper (everything but transaction control, the pool's check and the read
    /// pool's lag probe).
    statements: Vec<String>,
    /// Transaction control.
    control: Vec<String>,
    /// Statements that were not prepared into the cache.
    unprepared: Vec<String>,
}

fn is_control(sql: &str) -> bool {
    let s = sql.trim().to_ascii_uppercase();
    s.starts_with("BEGIN")
        || s.starts_with("COMMIT")
        || s.starts_with("ROLLBACK")
        || s.starts_with("SAVEPOINT")
        || s.starts_with("RELEASE SAVEPOINT")
}

fn take() -> Sent {
    let mut guard = seen();
    let s = guard.as_mut().expect("watching");
    let all: Vec<(String, bool)> = std::mem::take(&mut s.sent)
        .into_iter()
        // The pool's check and the read pool's lag probe (a timer, not the request).
        .filter(|(q, _)| q.trim() != "SELECT 1" && !q.contains("pg_is_in_recovery()"))
        .collect();
    let unprepared = all
        .iter()
        .filter(|(q, prepared)| !prepared && !is_control(q))
        .map(|(q, _)| q.clone())
        .collect();
    let (control, statements): (Vec<_>, Vec<_>) =
        all.into_iter().map(|(q, _)| q).partition(|q| is_control(q));
    Sent {
        statements,
        control,
        unprepared,
    }
}

/// Statements on every submission that belong to the assignment's standing
/// (`store::standing::refresh`, kept with the change) rather than to the report.
fn is_standing(sql: &str) -> bool {
    sql.contains("assignment_standings")
}

#[actix_rt::test]
async fn a_submission_and_a_report_read_send_few_statements_all_prepared() {
    install();
    let w = World::builder().build().await;
    watch(match &w.app.db {
        TestDb::Postgres { name, .. } => format!("/{name}"),
        TestDb::Sqlite(dir) => dir.to_string_lossy().into_owned(),
    });

    let (app, m, asg) = (&w.app, &w.a.manager.token, w.a.assignment());
    // A first round prepares what the connections keep; the second is what every request costs.
    for (round, period) in ["2081", "2082"].into_iter().enumerate() {
        take();
        let draft = app
            .create_report(
                m,
                asg,
                &NewReport::in_progress("按计划推进。").period(period),
            )
            .await;
        let created = take();
        app.submit_report(m, draft.id).await;
        let submitted = take();
        app.report(m, draft.id).await;
        let read = take();
        if round == 0 {
            continue;
        }
        // The account read once, with the work, on one connection: the account, the
        // assignment and its plan, the period's report, the insert, the audit entry.
        assert_eq!(created.statements.len(), 5, "{:#?}", created);
        // The account; the report as the caller reads it; its plan's state; the update
        // returning the report; its revision; the evidence files sent with it; the standing;
        // the audit entry; the webhook subscriptions its event may reach.
        let (standing, report): (Vec<_>, Vec<_>) =
            submitted.statements.iter().partition(|q| is_standing(q));
        assert_eq!(report.len(), 8 + 3, "{:#?}", submitted);
        assert!(standing.len() <= 3, "{:#?}", submitted);
        // The account, and the report as the caller reads it.
        assert_eq!(read.statements.len(), 2, "{:#?}", read);
        assert!(read.control.is_empty(), "{:#?}", read);
        // One transaction per write, no savepoint inside it.
        assert_eq!(created.control.len(), 2, "{:#?}", created);
        assert_eq!(submitted.control.len(), 2, "{:#?}", submitted);
        for sent in [&created, &read] {
            assert!(sent.unprepared.is_empty(), "{:#?}", sent);
        }
        let unprepared: Vec<_> = submitted
            .unprepared
            .iter()
            .filter(|q| !is_standing(q))
            .collect();
        assert!(unprepared.is_empty(), "{unprepared:#?}");
    }
}
