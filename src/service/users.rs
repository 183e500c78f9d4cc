//! User accounts: people of every role and the service accounts of department systems. Admins
//! manage all; a unit manager manages its own unit's reporters, managers and service accounts.
//! Passwords and secrets are hashed by the caller of these functions, off the database
//! connection; they arrive here hashed.

use super::Ctx;
use crate::auth::policy::{self, UserVisibility};
use crate::auth::token::random_token;
use crate::db::{write_tx, AnyConnection};
use crate::domain::account::{check_password, parse_display_name, parse_username};
use crate::domain::ids::{UnitId, UserId};
use crate::domain::role::Role;
use crate::domain::scope::{Scope, ScopeSet};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::{audit, sessions, units, users};
use serde_json::json;

/// Parses the requested scopes into their stored form; an unknown one is a 422 on `scopes`.
fn scopes_of(raw: &[String]) -> ApiResult<String> {
    raw.iter()
        .map(|name| {
            Scope::parse(name.trim())
                .ok_or_else(|| ApiError::invalid("scopes", format!("unknown scope {name:?}")))
        })
        .collect::<ApiResult<ScopeSet>>()
        .map(|set| set.to_string())
}

/// The account, if the caller may see it; otherwise "not found", so ids reveal nothing.
fn visible(c: &mut AnyConnection, vis: UserVisibility, id: UserId) -> ApiResult<users::User> {
    users::find(c, id)?
        .filter(|u| policy::can_see_user(vis, u.unit_id))
        .ok_or_else(|| ApiError::NotFound(format!("no user {id}")))
}

fn check_unit(c: &mut AnyConnection, role: Role, unit: Option<UnitId>) -> ApiResult<()> {
    match unit {
        None if role.is_unit_bound() => Err(ApiError::invalid(
            "unit_id",
            format!("is required for the role {role}"),
        )),
        None => Ok(()),
        Some(id) => match units::find(c, id)? {
            Some(u) if u.active => Ok(()),
            Some(_) => Err(ApiError::invalid("unit_id", "the unit is inactive")),
            None => Err(ApiError::invalid("unit_id", "no such unit")),
        },
    }
}

fn keeps_an_admin(
    c: &mut AnyConnection,
    before: &users::User,
    role: Role,
    active: bool,
) -> ApiResult<()> {
    let was_admin = before.role() == Role::Admin && before.active;
    if was_admin
        && (role != Role::Admin || !active)
        && users::count_other_active_admins(c, before.id)? == 0
    {
        return Err(ApiError::Conflict {
            detail: "the last active admin cannot be demoted or deactivated".into(),
            field: Some(if active { "role" } else { "active" }.into()),
        });
    }
    Ok(())
}

/// What the audit trail keeps of an account: the account as answered, never its credentials.
fn audit_view(u: &users::User) -> serde_json::Value {
    json!({
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role(),
        "unit_id": u.unit_id,
        "scopes": u.scopes.names(),
        "active": u.active,
        "failed_logins": u.failed_logins,
        "last_login_at": u.last_login_at.map(|t| t.and_utc()),
        "created_at": u.created_at.and_utc(),
        "updated_at": u.updated_at.and_utc(),
    })
}

/// One page of the accounts the caller may see, in id order.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    mut filter: users::UserFilter,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<users::User>> {
    let vis = policy::read_users(&ctx.principal)?;
    filter.unit_id = policy::user_units(vis, filter.unit_id)?;
    filter.q = filter.q.filter(|s| !s.trim().is_empty());
    Ok(users::list(c, &filter, after, limit)?)
}

/// One account the caller may see.
pub fn get(c: &mut AnyConnection, ctx: &Ctx, id: UserId) -> ApiResult<users::User> {
    let vis = policy::read_users(&ctx.principal)?;
    visible(c, vis, id)
}

/// A new account as asked for.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Login name.
    pub username: String,
    /// The name shown to people.
    pub display_name: String,
    /// The role.
    pub role: Role,
    /// The unit.
    pub unit_id: Option<UnitId>,
    /// The initial password of a person.
    pub password: Option<String>,
    /// Scopes of a service account.
    pub scopes: Option<Vec<String>>,
}

/// A new account, checked: the secret still to be hashed.
#[derive(Debug, Clone)]
pub struct Checked {
    username: String,
    display_name: String,
    role: Role,
    unit_id: Option<UnitId>,
    scopes: String,
    /// The password or generated secret, to hash before [`create`].
    pub secret: String,
    /// True when the secret was generated (a service account's, shown once).
    pub generated: bool,
}

/// Checks that the caller may create the account and that its fields are good, naming every
/// field in error; a service account's secret is generated.
pub fn check_new(ctx: &Ctx, new: NewAccount) -> ApiResult<Checked> {
    policy::manage_user(&ctx.principal, new.role, new.unit_id)?;
    let mut errors = Vec::new();
    let mut field = |name: &str, r: Result<String, String>| {
        r.unwrap_or_else(|m| {
            errors.push(FieldError::new(name, m));
            String::new()
        })
    };
    let username = field(
        "username",
        parse_username(&new.username).map_err(Into::into),
    );
    let display_name = field(
        "display_name",
        parse_display_name(&new.display_name).map_err(Into::into),
    );
    let refused = |errors: &mut Vec<FieldError>, name: &str, m: &str| {
        errors.push(FieldError::new(name, m));
        (String::new(), String::new(), false)
    };
    let (secret, scopes, generated) = match (new.role, new.password, new.scopes) {
        (Role::Service, Some(_), _) => refused(
            &mut errors,
            "password",
            "a service account's secret is generated, not chosen",
        ),
        (Role::Service, None, scopes) => {
            let scopes = match scopes {
                Some(s) => scopes_of(&s)?,
                None => ScopeSet::from_iter(Scope::DEFAULT).to_string(),
            };
            (random_token(), scopes, true)
        }
        (_, _, Some(_)) => refused(&mut errors, "scopes", "only service accounts hold scopes"),
        (_, None, None) => refused(&mut errors, "password", "is required"),
        (_, Some(p), None) => {
            if let Err(m) = check_password(&p, &username) {
                errors.push(FieldError::new("password", m));
            }
            (p, String::new(), false)
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(Checked {
        username,
        display_name,
        role: new.role,
        unit_id: new.unit_id,
        scopes,
        secret,
        generated,
    })
}

/// Creates a checked account with its hashed secret.
pub fn create(
    c: &mut AnyConnection,
    ctx: &Ctx,
    new: &Checked,
    hash: &str,
) -> ApiResult<users::User> {
    policy::manage_user(&ctx.principal, new.role, new.unit_id)?;
    write_tx(c, |c| {
        check_unit(c, new.role, new.unit_id)?;
        if users::find_by_username(c, &new.username)?.is_some() {
            return Err(ApiError::Conflict {
                detail: format!("the username {} is taken", new.username),
                field: Some("username".into()),
            });
        }
        let id = users::insert(
            c,
            &users::NewUser {
                username: &new.username,
                display_name: &new.display_name,
                unit_id: new.unit_id,
                role: new.role,
                scopes: &new.scopes,
                active: true,
                password_hash: hash,
                password_changed_at: ctx.now,
                created_at: ctx.now,
                updated_at: ctx.now,
            },
        )?;
        let user =
            users::find(c, id)?.ok_or_else(|| ApiError::internal("inserted user vanished"))?;
        let after = audit_view(&user);
        audit::record(
            c,
            &ctx.actor,
            "user.create",
            "user",
            Some(id.0),
            None,
            Some(&after),
        )?;
        Ok(user)
    })
}

/// Changes to an account; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    /// A new display name.
    pub display_name: Option<String>,
    /// A new role.
    pub role: Option<Role>,
    /// A new unit.
    pub unit_id: Option<UnitId>,
    /// `false` deactivates the account and ends its sessions.
    pub active: Option<bool>,
    /// New scopes of a service account.
    pub scopes: Option<Vec<String>>,
}

/// Changes, deactivates or reactivates an account; deactivation and role or unit changes end
/// its sessions. The last active admin stays.
pub fn update(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: UserId,
    ch: AccountChanges,
) -> ApiResult<users::User> {
    let vis = policy::read_users(&ctx.principal)?;
    let display = match ch.display_name.as_deref().map(parse_display_name) {
        Some(Err(m)) => return Err(ApiError::invalid("display_name", m)),
        other => other.map(|r| r.unwrap_or_default()),
    };
    let scopes = ch.scopes.as_deref().map(scopes_of).transpose()?;
    write_tx(c, |c| {
        let before = visible(c, vis, id)?;
        let (old_role, new_role) = (before.role(), ch.role.unwrap_or(before.role()));
        let new_unit = ch.unit_id.or(before.unit_id);
        policy::manage_user(&ctx.principal, old_role, before.unit_id)?;
        policy::manage_user(&ctx.principal, new_role, new_unit)?;
        if (old_role == Role::Service) != (new_role == Role::Service) {
            return Err(ApiError::invalid(
                "role",
                "people and service accounts cannot change into each other",
            ));
        }
        if scopes.is_some() && new_role != Role::Service {
            return Err(ApiError::invalid(
                "scopes",
                "only service accounts hold scopes",
            ));
        }
        if ch.role.is_some() || ch.unit_id.is_some() {
            check_unit(c, new_role, new_unit)?;
        }
        let active = ch.active.unwrap_or(before.active);
        keeps_an_admin(c, &before, new_role, active)?;
        let changes = users::UserChanges {
            display_name: display,
            unit_id: ch.unit_id.map(Some),
            role: ch.role,
            scopes,
            active: ch.active,
            updated_at: Some(ctx.now),
        };
        users::update(c, id, &changes)?;
        if !active || new_role != old_role || new_unit != before.unit_id {
            sessions::revoke_user(c, id, ctx.now)?;
        }
        let after =
            users::find(c, id)?.ok_or_else(|| ApiError::internal("updated user vanished"))?;
        let action = match (before.active, active) {
            (true, false) => "user.deactivate",
            (false, true) => "user.reactivate",
            _ => "user.update",
        };
        let (b, a) = (audit_view(&before), audit_view(&after));
        audit::record(
            c,
            &ctx.actor,
            action,
            "user",
            Some(id.0),
            Some(&b),
            Some(&a),
        )?;
        Ok(after)
    })
}

/// Which credential is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A person's password, set by an admin or unit manager.
    Password,
    /// A service account's client secret, generated.
    Secret,
}

/// The account whose credential the caller may replace: one it sees and manages, a person for a
/// password (checked against the account), a service account for a secret.
pub fn credential_target(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: UserId,
    kind: Credential,
    password: Option<&str>,
) -> ApiResult<users::User> {
    let vis = policy::read_users(&ctx.principal)?;
    let target = visible(c, vis, id)?;
    policy::manage_user(&ctx.principal, target.role(), target.unit_id)?;
    let service = target.role() == Role::Service;
    match kind {
        Credential::Password if service => Err(ApiError::invalid(
            "password",
            "a service account's secret is rotated with POST /users/{id}/client-secret",
        )),
        Credential::Secret if !service => Err(ApiError::Conflict {
            detail: "only service accounts have a client secret".into(),
            field: None,
        }),
        _ => {
            if let Some(p) = password {
                check_password(p, &target.username)
                    .map_err(|m| ApiError::invalid("password", m))?;
            }
            Ok(target)
        }
    }
}

/// Replaces a password or secret with its hash; the account's sessions end.
pub fn replace_credential(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: UserId,
    kind: Credential,
    hash: &str,
) -> ApiResult<()> {
    write_tx(c, |c| {
        credential_target(c, ctx, id, kind, None)?;
        let action = match kind {
            Credential::Password => "user.password_reset",
            Credential::Secret => "user.secret_rotate",
        };
        users::replace_credentials(c, id, hash, &ctx.actor, action)?;
        Ok(())
    })
}

/// The caller's own account (`account`, as read with the caller) and the name of its unit.
pub fn me(
    c: &mut AnyConnection,
    ctx: &Ctx,
    account: users::User,
) -> ApiResult<(users::User, Option<String>)> {
    if account.id != ctx.principal.user_id {
        return Err(ApiError::NotFound("no such account".into()));
    }
    let user = account;
    let unit = match user.unit_id {
        Some(u) => units::find(c, u)?.map(|u| u.name),
        None => None,
    };
    Ok((user, unit))
}

/// Checks that the caller may choose its own password and that the new one is good.
pub fn check_own_password(ctx: &Ctx, new_password: &str) -> ApiResult<()> {
    policy::change_own_password(&ctx.principal)?;
    check_password(new_password, &ctx.principal.username)
        .map_err(|m| ApiError::invalid("new_password", m))
}

/// Stores the caller's new password (hashed); every refresh token of the account is revoked.
pub fn replace_own_password(c: &mut AnyConnection, ctx: &Ctx, hash: &str) -> ApiResult<()> {
    policy::change_own_password(&ctx.principal)?;
    let (id, action) = (ctx.principal.user_id, "user.password_change");
    write_tx(c, |c| {
        Ok(users::replace_credentials(c, id, hash, &ctx.actor, action)?)
    })
}
