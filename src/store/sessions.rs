//! Refresh tokens: stored hashed, rotated on use, revoked by family.

use crate::db::schema::refresh_tokens;
use crate::db::AnyConnection;
use crate::domain::ids::UserId;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A refresh token as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RefreshToken {
    pub id: i64,
    pub user_id: UserId,
    pub family: String,
    pub token_hash: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Stores a new refresh token of a family.
pub fn insert(
    c: &mut AnyConnection,
    user: UserId,
    family: &str,
    hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::user_id.eq(user),
            refresh_tokens::family.eq(family),
            refresh_tokens::token_hash.eq(hash),
            refresh_tokens::issued_at.eq(now),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(c)
        .map(|_| ())
}

/// The token with this hash.
pub fn find_by_hash(c: &mut AnyConnection, hash: &str) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshToken::as_select())
        .first(c)
        .optional()
}

/// Marks a token used; false when it already was (a concurrent or replayed use).
pub fn mark_used(c: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(c)?;
    Ok(n == 1)
}

/// Revokes every token of a family.
pub fn revoke_family(
    c: &mut AnyConnection,
    family: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c)
}

/// Revokes every token of an account (password change, deactivation).
pub fn revoke_user(c: &mut AnyConnection, user: UserId, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c)
}

/// Deletes tokens that expired before `before`; returns how many.
pub fn purge_expired(c: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(before))).execute(c)
}
