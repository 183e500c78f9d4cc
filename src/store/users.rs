//! User accounts: people and department systems' service accounts.

use crate::db::schema::users;
use crate::db::AnyConnection;
use crate::domain::ids::{UnitId, UserId};
use crate::domain::role::Role;
use crate::domain::scope::ScopeSet;
use crate::on_backend;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// An account as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub unit_id: Option<UnitId>,
    /// Read strictly: a stored name that is not a role fails the query (an internal error),
    /// it never becomes some default role.
    pub role: Role,
    /// Read strictly, like the role.
    #[diesel(deserialize_as = String)]
    pub scopes: ScopeSet,
    pub active: bool,
    pub password_hash: String,
    pub password_changed_at: NaiveDateTime,
    pub failed_logins: i32,
    pub last_failed_login_at: Option<NaiveDateTime>,
    pub last_login_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl User {
    /// The account's role.
    pub fn role(&self) -> Role {
        self.role
    }
}

/// A new account.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub unit_id: Option<UnitId>,
    pub role: Role,
    pub scopes: &'a str,
    pub active: bool,
    pub password_hash: &'a str,
    pub password_changed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub unit_id: Option<Option<UnitId>>,
    pub role: Option<Role>,
    pub scopes: Option<String>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Filters of the account list.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub unit_id: Option<UnitId>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub q: Option<String>,
}

/// The account with this id.
pub fn find(c: &mut AnyConnection, id: UserId) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(c)
        .optional()
}

/// The account with this (lower-case) login name.
pub fn find_by_username(c: &mut AnyConnection, username: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(c)
        .optional()
}

/// Inserts an account and returns its id.
pub fn insert(c: &mut AnyConnection, new: &NewUser<'_>) -> QueryResult<UserId> {
    on_backend!(c, |c| diesel::insert_into(users::table)
        .values(new)
        .returning(users::id)
        .get_result(c))
}

/// Applies changes to an account; returns the rows changed.
pub fn update(c: &mut AnyConnection, id: UserId, changes: &UserChanges) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(changes)
        .execute(c)
}

/// Replaces the password (or client secret) hash.
pub fn set_password(
    c: &mut AnyConnection,
    id: UserId,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::password_changed_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(c)
}

/// Replaces the password (or client secret), ends every session of the account, and records
/// `action` (e.g. `user.password_reset`) in the audit log: what every credential change does.
pub fn replace_credentials(
    c: &mut AnyConnection,
    id: UserId,
    hash: &str,
    actor: &super::audit::Actor,
    action: &str,
) -> QueryResult<()> {
    let now = super::now();
    set_password(c, id, hash, now)?;
    super::sessions::revoke_user(c, id, now)?;
    super::audit::record(c, actor, action, "user", Some(id.0), None, None)
}

/// Records a successful sign-in: the failure counter starts again.
pub fn record_login(c: &mut AnyConnection, id: UserId, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::failed_logins.eq(0), users::last_login_at.eq(now)))
        .execute(c)
}

/// Records a failed sign-in on an existing account.
pub fn record_failed_login(
    c: &mut AnyConnection,
    id: UserId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::failed_logins.eq(users::failed_logins + 1),
            users::last_failed_login_at.eq(now),
        ))
        .execute(c)
}

/// Active admins other than `except`: an admin cannot demote or deactivate the last one.
pub fn count_other_active_admins(c: &mut AnyConnection, except: UserId) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Admin))
        .filter(users::active.eq(true))
        .filter(users::id.ne(except))
        .count()
        .get_result(c)
}

/// True when no account exists yet.
pub fn is_empty(c: &mut AnyConnection) -> QueryResult<bool> {
    let n: i64 = users::table.count().get_result(c)?;
    Ok(n == 0)
}

/// Up to `limit + 1` accounts after the key `after`, in id order.
pub fn list(
    c: &mut AnyConnection,
    f: &UserFilter,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let mut q = users::table.select(User::as_select()).into_boxed();
    if let Some(unit) = f.unit_id {
        q = q.filter(users::unit_id.eq(unit));
    }
    if let Some(role) = f.role {
        q = q.filter(users::role.eq(role));
    }
    if let Some(active) = f.active {
        q = q.filter(users::active.eq(active));
    }
    if let Some(text) = &f.q {
        let p = super::contains_pattern(text);
        q = q.filter(
            users::username
                .like(p.clone())
                .escape('\\')
                .or(users::display_name.like(p).escape('\\')),
        );
    }
    if let Some(after) = after {
        q = q.filter(users::id.gt(UserId(after)));
    }
    q.order(users::id.asc()).limit(limit + 1).load(c)
}
