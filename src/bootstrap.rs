//! Start-up and command-line account work: the admin named by `DUBAN_ADMIN_USER`, the demo
//! data, and `duban user add` / `duban user passwd`.

use crate::auth::password;
use crate::config::Settings;
use crate::db::{write_tx, AnyConnection, Db};
use crate::domain::account::{check_password, parse_display_name, parse_username};
use crate::domain::ids::{UnitId, UserId};
use crate::domain::role::{Role, DEFAULT_SERVICE_SCOPES};
use crate::error::ApiError;
use crate::store::{self, audit, units, users};

/// An account to create, or whose password to reset when it exists.
#[derive(Debug, Clone)]
pub struct AccountSpec {
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Unit name or alias, required for unit-bound roles.
    pub unit: Option<String>,
    /// Password or client secret.
    pub secret: String,
    /// A service account's scopes (`None`: the default scopes when created, kept when reset).
    pub scopes: Option<Vec<crate::domain::scope::Scope>>,
}

/// What [`ensure_account`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    /// A new account.
    Created(UserId),
    /// An existing account got the new secret (and was reactivated).
    Reset(UserId),
}

fn system() -> audit::Actor {
    audit::Actor::default()
}

/// Creates the account, or resets its secret and reactivates it when it exists. Checks the same
/// rules as the API (username, password strength, unit).
pub fn ensure_account(c: &mut AnyConnection, spec: &AccountSpec) -> Result<Ensured, String> {
    let username = parse_username(&spec.username).map_err(|m| format!("username: {m}"))?;
    let display =
        parse_display_name(&spec.display_name).map_err(|m| format!("display name: {m}"))?;
    if spec.role != Role::Service {
        check_password(&spec.secret, &username).map_err(|m| format!("password: {m}"))?;
    }
    let hash = password::hash_blocking(&spec.secret);
    let scope_names = spec
        .scopes
        .as_ref()
        .filter(|_| spec.role == Role::Service)
        .map(|s| crate::domain::scope::ScopeSet::from_iter(s.iter().copied()).to_string());
    write_tx(c, |c| {
        let unit_id: Option<UnitId> = match &spec.unit {
            Some(name) => Some(
                units::find_by_name_or_alias(c, name)
                    ?
                    .ok_or_else(|| ApiError::invalid("unit", format!("no unit is named {name}")))?
                    .id,
            ),
            None if spec.role.is_unit_bound() => {
                return Err(ApiError::invalid("unit", format!("required for the role {}", spec.role)))
            }
            None => None,
        };
        let now = store::now();
        let existing = users::find_by_username(c, &username)?;
        let outcome = match existing {
            Some(u) => {
                users::replace_credentials(c, u.id, &hash, &system(), "user.password_reset")?;                users::update(
                    c,
                    u.id,
                    &users::UserChanges {
                        active: Some(true),
                        scopes: scope_names.clone(),
                        updated_at: Some(now),
                        ..Default::default()
                    },
                )
                ?;
                Ensured::Reset(u.id)
            }
            None => {
                let scopes = if spec.role == Role::Service {
                    scope_names.clone().unwrap_or_else(|| DEFAULT_SERVICE_SCOPES.join(" "))
                } else {
                    String::new()
                };
                let id = users::insert(
                    c,
                    &users::NewUser {
                        username: &username,
                        display_name: &display,
                        unit_id,
                        role: spec.role,
                        scopes: &scopes,
                        active: true,
                        password_hash: &hash,
                        password_changed_at: now,
                        created_at: now,
                        updated_at: now,
                    },
                )
                ?;
                let after = serde_json::json!({"username": username, "role": spec.role, "unit_id": unit_id});
                audit::record(c, &system(), "user.create", "user", Some(id.0), None, Some(&after))
                    ?;
                Ensured::Created(id)
            }
        };
        Ok::<_, ApiError>(outcome)
    })
    .map_err(|e| e.to_string())
}

/// Sets a new password for an existing person's account.
pub fn set_password(c: &mut AnyConnection, username: &str, secret: &str) -> Result<(), String> {
    let name = parse_username(username).map_err(|m| format!("username: {m}"))?;
    let user = users::find_by_username(c, &name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("username: no account {name}"))?;
    if user.role() == Role::Service {
        return Err("username: a service account's secret is rotated through the API".into());
    }
    check_password(secret, &name).map_err(|m| format!("password: {m}"))?;
    let hash = password::hash_blocking(secret);
    write_tx(c, |c| {
        users::replace_credentials(c, user.id, &hash, &system(), "user.password_reset")?;
        Ok::<_, ApiError>(())
    })
    .map_err(|e| e.to_string())
}

/// Runs at start-up: the configured admin, then the demo data when enabled.
pub fn run(db: &Db, settings: &Settings) -> Result<(), String> {
    let mut c = db.get().map_err(|e| e.to_string())?;
    if let (Some(user), Some(secret)) = (&settings.admin_user, &settings.admin_password) {
        let spec = AccountSpec {
            username: user.clone(),
            display_name: "Administrator".into(),
            role: Role::Admin,
            unit: None,
            secret: secret.clone(),
            scopes: None,
        };
        let outcome =
            ensure_account(&mut c, &spec).map_err(|e| format!("DUBAN_ADMIN_USER: {e}"))?;
        tracing::info!(username = %user, ?outcome, "admin account from DUBAN_ADMIN_USER");
    }
    if settings.demo {
        crate::demo::load(&mut c, settings.admin_user.as_deref())?;
        if settings.webhooks.destinations == crate::domain::destination::Destinations::demo() {
            println!(
                "webhook receivers on this machine (127.0.0.0/8, ::1) may be subscribed in demo \
                 mode; DUBAN_WEBHOOK_ALLOWED_HOSTS sets where deliveries may go"
            );
        }
    }
    Ok(())
}
