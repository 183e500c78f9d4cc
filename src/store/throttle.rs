//! Login-throttling counters, shared by every API instance through the database.

use crate::db::schema::login_throttles;
use crate::db::AnyConnection;
use crate::domain::throttle::Counter;
use crate::on_backend;
use diesel::prelude::*;

/// The counter of a key (`account:NAME` or `address:IP`).
pub fn get(c: &mut AnyConnection, key: &str) -> QueryResult<Option<Counter>> {
    login_throttles::table
        .find(key)
        .select((
            login_throttles::failures,
            login_throttles::window_started_at,
            login_throttles::blocked_until,
        ))
        .first(c)
        .optional()
        .map(|row| {
            row.map(|(failures, window_started_at, blocked_until)| Counter {
                failures,
                window_started_at,
                blocked_until,
            })
        })
}

/// Stores the counter of a key.
pub fn put(c: &mut AnyConnection, key: &str, counter: &Counter) -> QueryResult<()> {
    let values = (
        login_throttles::key.eq(key),
        login_throttles::failures.eq(counter.failures),
        login_throttles::window_started_at.eq(counter.window_started_at),
        login_throttles::blocked_until.eq(counter.blocked_until),
    );
    on_backend!(c, |c| diesel::insert_into(login_throttles::table)
        .values(values)
        .on_conflict(login_throttles::key)
        .do_update()
        .set((
            login_throttles::failures.eq(counter.failures),
            login_throttles::window_started_at.eq(counter.window_started_at),
            login_throttles::blocked_until.eq(counter.blocked_until),
        ))
        .execute(c))
    .map(|_| ())
}

/// Forgets the counter of a key (after a successful sign-in).
pub fn clear(c: &mut AnyConnection, key: &str) -> QueryResult<()> {
    diesel::delete(login_throttles::table.find(key))
        .execute(c)
        .map(|_| ())
}

/// Forgets counters whose window began before `before` and that block nobody any more.
pub fn purge(
    c: &mut AnyConnection,
    before: chrono::NaiveDateTime,
    now: chrono::NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        login_throttles::table
            .filter(login_throttles::window_started_at.lt(before))
            .filter(
                login_throttles::blocked_until
                    .is_null()
                    .or(login_throttles::blocked_until.lt(now)),
            ),
    )
    .execute(c)
}
