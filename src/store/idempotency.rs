//! Remembered answers to POSTs carrying an `Idempotency-Key`, per caller.

use crate::db::schema::idempotency_keys;
use crate::db::AnyConnection;
use crate::domain::ids::UserId;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A remembered answer: the hash of the request it answered, its status and body.
#[derive(Debug, Clone, Queryable)]
pub struct Remembered {
    pub request_hash: String,
    pub status: i32,
    pub body: String,
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

/// Forgets answers older than `before`.
pub fn purge(c: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
        .execute(c)
}
