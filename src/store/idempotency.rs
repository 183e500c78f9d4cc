//! `Idempotency-Key`s per caller: the reservation of a key while its first request runs
//! (`idempotency_locks`, each change its own committed statement, so every instance sees it at
//! once), and the remembered answer (`idempotency_keys`, written in the transaction of the
//! change it answers).

use crate::db::schema::{idempotency_keys, idempotency_locks};
use crate::db::AnyConnection;
use crate::domain::ids::UserId;
use crate::on_backend;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A remembered answer: the hash of the request it answered, its status and body.
#[derive(Debug, Clone, Queryable)]
pub struct Remembered {
    pub request_hash: String,
    pub status: i32,
    pub body: String,
}

/// A key's reservation by a running request.
#[derive(Debug, Clone, Queryable)]
pub struct Lock {
    /// The hash of the request that holds it.
    pub request_hash: String,
    /// A random name of the holder.
    pub owner: String,
    /// When the reservation lapses (the holder crashed) and may be taken over.
    pub locked_until: NaiveDateTime,
}

/// The answer remembered for this caller and key.
pub fn find(c: &mut AnyConnection, user: UserId, key: &str) -> QueryResult<Option<Remembered>> {
    idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user))
        .filter(idempotency_keys::key.eq(key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::body,
        ))
        .first(c)
        .optional()
}

/// Reserves the key for `owner` until `until`; false when someone holds it already.
pub fn lock(
    c: &mut AnyConnection,
    user: UserId,
    key: &str,
    hash: &str,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let row = (
        idempotency_locks::user_id.eq(user),
        idempotency_locks::key.eq(key),
        idempotency_locks::request_hash.eq(hash),
        idempotency_locks::owner.eq(owner),
        idempotency_locks::locked_until.eq(until),
        idempotency_locks::created_at.eq(now),
    );
    let n = on_backend!(c, |c| diesel::insert_into(idempotency_locks::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// The reservation of this caller's key, if any.
pub fn find_lock(c: &mut AnyConnection, user: UserId, key: &str) -> QueryResult<Option<Lock>> {
    idempotency_locks::table
        .filter(idempotency_locks::user_id.eq(user))
        .filter(idempotency_locks::key.eq(key))
        .select((
            idempotency_locks::request_hash,
            idempotency_locks::owner,
            idempotency_locks::locked_until,
        ))
        .first(c)
        .optional()
}

/// Takes over a lapsed reservation still held by `from`; false when it changed meanwhile.
pub fn take_over(
    c: &mut AnyConnection,
    user: UserId,
    key: &str,
    from: &str,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        idempotency_locks::table
            .filter(idempotency_locks::user_id.eq(user))
            .filter(idempotency_locks::key.eq(key))
            .filter(idempotency_locks::owner.eq(from))
            .filter(idempotency_locks::locked_until.le(now)),
    )
    .set((
        idempotency_locks::owner.eq(owner),
        idempotency_locks::locked_until.eq(until),
        idempotency_locks::created_at.eq(now),
    ))
    .execute(c)?;
    Ok(n == 1)
}

/// Releases `owner`'s reservation; false when it no longer held it.
pub fn unlock(c: &mut AnyConnection, user: UserId, key: &str, owner: &str) -> QueryResult<bool> {
    let n = diesel::delete(
        idempotency_locks::table
            .filter(idempotency_locks::user_id.eq(user))
            .filter(idempotency_locks::key.eq(key))
            .filter(idempotency_locks::owner.eq(owner)),
    )
    .execute(c)?;
    Ok(n == 1)
}

/// Remembers an answer (in the transaction of the write it answers).
pub fn remember(
    c: &mut AnyConnection,
    user: UserId,
    key: &str,
    hash: &str,
    status: i32,
    body: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(hash),
            idempotency_keys::status.eq(status),
            idempotency_keys::body.eq(body),
            idempotency_keys::created_at.eq(now),
        ))
        .execute(c)
        .map(|_| ())
}

/// Forgets answers older than `before`, and reservations that lapsed before it; returns how
/// many answers.
pub fn purge(c: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    let n = diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
        .execute(c)?;
    diesel::delete(idempotency_locks::table.filter(idempotency_locks::locked_until.lt(before)))
        .execute(c)?;
    Ok(n)
}
