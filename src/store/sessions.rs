//! Sign-ins and refresh tokens. A session is one sign-in: a password login and the refresh
//! tokens rotated from it (its family, whose name is the session id), or one client-credentials
//! grant. Refresh tokens are stored hashed, rotated on use and revoked by family; revoking the
//! family ends the session, and with it every access token that names it.

use crate::db::schema::{refresh_tokens, sessions, users};
use crate::db::AnyConnection;
use crate::domain::ids::UserId;
use crate::store::users::User;
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

/// Starts a session (a sign-in) that lasts until `expires_at` unless revoked.
pub fn start(
    c: &mut AnyConnection,
    id: &str,
    user: UserId,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id),
            sessions::user_id.eq(user),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(c)
        .map(|_| ())
}

/// Lets a live session last until `expires_at` (a refresh rotated its token); false when the
/// session is revoked or unknown.
pub fn extend(c: &mut AnyConnection, id: &str, expires_at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::expires_at.eq(expires_at))
    .execute(c)?;
    Ok(n == 1)
}

/// The account, and whether the session `sid` is one of its live sessions, in one query: what
/// every authenticated request reads.
pub fn account_in_session(
    c: &mut AnyConnection,
    user: UserId,
    sid: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(User, bool)>> {
    let live = sessions::user_id
        .eq(users::id)
        .and(sessions::id.eq(sid))
        .and(sessions::revoked_at.is_null())
        .and(sessions::expires_at.gt(now));
    users::table
        .left_join(sessions::table.on(live))
        .filter(users::id.eq(user))
        .select((User::as_select(), sessions::id.nullable()))
        .first::<(User, Option<String>)>(c)
        .optional()
        .map(|row| row.map(|(u, s)| (u, s.is_some())))
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

/// Ends a sign-in: revokes its session (so its access tokens stop at once) and every refresh
/// token of its family.
pub fn revoke_family(
    c: &mut AnyConnection,
    family: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(family))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(c)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c)
}

/// Ends every session of an account and revokes its refresh tokens (password or secret
/// change, deactivation, a new role or unit).
pub fn revoke_user(c: &mut AnyConnection, user: UserId, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(c)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c)
}

/// Deletes refresh tokens, and sessions, that expired before `before`; returns how many
/// tokens.
pub fn purge_expired(c: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    let n = diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(before)))
        .execute(c)?;
    diesel::delete(sessions::table.filter(sessions::expires_at.lt(before))).execute(c)?;
    Ok(n)
}
