//! User accounts (`/users`): people of every role and the service accounts of department
//! systems. Admins manage all; a unit manager manages its own unit's reporters, managers and
//! service accounts.

use super::extract::{Caller, Json, Page, PageQuery, Query};
use super::views::UserView;
use crate::app::AppState;
use crate::auth::policy::{self, UserVisibility};
use crate::auth::{password, token::random_token};
use crate::db::AnyConnection;
use crate::domain::account::{check_password, parse_display_name, parse_username};
use crate::domain::ids::{UnitId, UserId};
use crate::domain::role::Role;
use crate::domain::scope::{Scope, ScopeSet};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::{self, audit, sessions, units, users};
use actix_web::{get, patch, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// Login name: 3 to 64 of letters, digits, `.`, `_`, `-`, `@` (stored in lower case).
    #[schema(example = "ipo-reporter")]
    pub username: String,
    /// The name shown to people.
    #[schema(example = "熊钦松")]
    pub display_name: String,
    /// The role.
    pub role: Role,
    /// The unit; required for unit managers, reporters and service accounts.
    #[schema(example = 12)]
    pub unit_id: Option<UnitId>,
    /// The initial password of a person (at least 12 characters). Not for service accounts:
    /// their secret is generated and returned once.
    #[schema(example = "a long initial passphrase")]
    pub password: Option<String>,
    /// Scopes of a service account; by default read and draft, not submit.
    #[schema(example = json!(["assignments:read", "reports:read", "reports:write"]))]
    pub scopes: Option<Vec<String>>,
}

/// A created account; a service account's `client_secret` is shown this once only.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserCreated {
    /// The account.
    #[serde(flatten)]
    pub user: UserView,
    /// The generated secret of a service account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// Changes to an account; omitted fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// A new display name.
    pub display_name: Option<String>,
    /// A new role (people stay people, service accounts stay service accounts).
    pub role: Option<Role>,
    /// A new unit.
    pub unit_id: Option<UnitId>,
    /// `false` deactivates the account and ends its sessions.
    #[schema(example = false)]
    pub active: Option<bool>,
    /// New scopes of a service account.
    pub scopes: Option<Vec<String>>,
}

/// A password set by an administrator or unit manager.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// The new password (at least 12 characters).
    #[schema(example = "a temporary passphrase to change")]
    pub password: String,
}

/// A newly generated client secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientSecret {
    /// The new secret, shown this once; the old one stops working at once.
    #[schema(example = "hW3…")]
    pub client_secret: String,
}

/// Filters of the account list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Only accounts of this unit.
    pub unit_id: Option<i64>,
    /// Only accounts with this role.
    pub role: Option<Role>,
    /// Only active (`true`) or inactive (`false`) accounts.
    pub active: Option<bool>,
    /// Part of the username or display name.
    pub q: Option<String>,
}

fn to_json(v: &UserView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

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

/// List accounts (admins, the coordinating office and viewers see all; unit managers their unit).
#[utoipa::path(
    tag = "users",
    params(UserListQuery, PageQuery),
    responses((status = 200, description = "One page of accounts, in id order", body = Page<UserView>))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<UserListQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<UserView>>> {
    let vis = policy::read_users(&caller)?;
    let Query(q) = query;
    let (limit, after) = page.0.parse()?;
    let requested = q.unit_id.map(UnitId);
    let unit_id = match vis {
        UserVisibility::All => requested,
        UserVisibility::Unit(own) if requested.is_none() || requested == Some(own) => Some(own),
        UserVisibility::Unit(_) => {
            return Err(ApiError::Forbidden(
                "you may list only your own unit's accounts".into(),
            ))
        }
    };
    let filter = users::UserFilter {
        unit_id,
        role: q.role,
        active: q.active,
        q: q.q.filter(|s| !s.trim().is_empty()),
    };
    let rows = state
        .db
        .run(move |c| Ok(users::list(c, &filter, after, limit)?))
        .await?;
    let page = store::Page::from_rows(rows, limit, |u| u.id.0);
    Ok(web::Json(Page::map(page, UserView::from)))
}

/// Read one account.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account", body = UserView),
        (status = 404, description = "No such account, or not one the caller may see"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<UserView>> {
    let vis = policy::read_users(&caller)?;
    let id = UserId(id.into_inner());
    let user = state.db.run(move |c| visible(c, vis, id)).await?;
    Ok(web::Json(user.into()))
}

/// Create an account. A service account gets a generated `client_secret`, shown once.
#[utoipa::path(
    tag = "users",
    request_body = NewUserRequest,
    responses(
        (status = 201, description = "The account was created", body = UserCreated),
        (status = 409, description = "The username is taken"),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewUserRequest>,
) -> ApiResult<HttpResponse> {
    let Json(b) = body;
    policy::manage_user(&caller, b.role, b.unit_id)?;
    let mut errors = Vec::new();
    let username = parse_username(&b.username).unwrap_or_else(|m| {
        errors.push(FieldError::new("username", m));
        String::new()
    });
    let display = parse_display_name(&b.display_name).unwrap_or_else(|m| {
        errors.push(FieldError::new("display_name", m));
        String::new()
    });
    let (secret, scopes, generated) = match (b.role, b.password, b.scopes) {
        (Role::Service, Some(_), _) => {
            errors.push(FieldError::new(
                "password",
                "a service account's secret is generated, not chosen",
            ));
            (String::new(), String::new(), false)
        }
        (Role::Service, None, scopes) => {
            let scopes = match scopes {
                Some(s) => scopes_of(&s)?,
                None => ScopeSet::from_iter(Scope::DEFAULT).to_string(),
            };
            (random_token(), scopes, true)
        }
        (_, _, Some(_)) => {
            errors.push(FieldError::new(
                "scopes",
                "only service accounts hold scopes",
            ));
            (String::new(), String::new(), false)
        }
        (_, None, None) => {
            errors.push(FieldError::new("password", "is required"));
            (String::new(), String::new(), false)
        }
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
    let to_hash = secret.clone();
    let hash = web::block(move || password::hash(&to_hash)).await?;
    let (role, unit_id, actor) = (b.role, b.unit_id, caller.actor());
    let user = state
        .db
        .write(move |c| {
            check_unit(c, role, unit_id)?;
            if users::find_by_username(c, &username)?.is_some() {
                return Err(ApiError::Conflict {
                    detail: format!("the username {username} is taken"),
                    field: Some("username".into()),
                });
            }
            let now = store::now();
            let id = users::insert(
                c,
                &users::NewUser {
                    username: &username,
                    display_name: &display,
                    unit_id,
                    role,
                    scopes: &scopes,
                    active: true,
                    password_hash: &hash,
                    password_changed_at: now,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let view = UserView::from(
                users::find(c, id)?.ok_or_else(|| ApiError::internal("inserted user vanished"))?,
            );
            audit::record(
                c,
                &actor,
                "user.create",
                "user",
                Some(id.0),
                None,
                Some(&to_json(&view)),
            )?;
            Ok(view)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .json(UserCreated {
            user,
            client_secret: generated.then_some(secret),
        }))
}

/// Change, deactivate or reactivate an account. Deactivation and role or unit changes end the
/// account's sessions.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = UserUpdate,
    responses(
        (status = 200, description = "The account as changed", body = UserView),
        (status = 404, description = "No such account, or not one the caller may see"),
        (status = 409, description = "The change would leave no active admin"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<UserUpdate>,
) -> ApiResult<web::Json<UserView>> {
    let vis = policy::read_users(&caller)?;
    let (id, Json(b)) = (UserId(id.into_inner()), body);
    let display = match b.display_name.as_deref().map(parse_display_name) {
        Some(Err(m)) => return Err(ApiError::invalid("display_name", m)),
        other => other.map(|r| r.unwrap_or_default()),
    };
    let scopes = b.scopes.as_deref().map(scopes_of).transpose()?;
    let (principal, actor) = (caller.principal.clone(), caller.actor());
    let view = state
        .db
        .write(move |c| {
            let before = visible(c, vis, id)?;
            let (old_role, new_role) = (before.role(), b.role.unwrap_or(before.role()));
            let new_unit = b.unit_id.or(before.unit_id);
            policy::manage_user(&principal, old_role, before.unit_id)?;
            policy::manage_user(&principal, new_role, new_unit)?;
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
            if b.role.is_some() || b.unit_id.is_some() {
                check_unit(c, new_role, new_unit)?;
            }
            let active = b.active.unwrap_or(before.active);
            keeps_an_admin(c, &before, new_role, active)?;
            let now = store::now();
            users::update(
                c,
                id,
                &users::UserChanges {
                    display_name: display,
                    unit_id: b.unit_id.map(Some),
                    role: b.role,
                    scopes,
                    active: b.active,
                    updated_at: Some(now),
                },
            )?;
            if !active || new_role != old_role || new_unit != before.unit_id {
                sessions::revoke_user(c, id, now)?;
            }
            let after = UserView::from(
                users::find(c, id)?.ok_or_else(|| ApiError::internal("updated user vanished"))?,
            );
            let action = match (before.active, active) {
                (true, false) => "user.deactivate",
                (false, true) => "user.reactivate",
                _ => "user.update",
            };
            audit::record(
                c,
                &actor,
                action,
                "user",
                Some(id.0),
                Some(&to_json(&UserView::from(before))),
                Some(&to_json(&after)),
            )?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(view))
}

/// Set a person's password (admins; unit managers for their unit). Ends the account's sessions.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = PasswordReset,
    responses(
        (status = 204, description = "The password was set"),
        (status = 404, description = "No such account, or not one the caller may see"),
    )
)]
#[put("/users/{id}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<PasswordReset>,
) -> ApiResult<HttpResponse> {
    let vis = policy::read_users(&caller)?;
    let id = UserId(id.into_inner());
    let target = state.db.run(move |c| visible(c, vis, id)).await?;
    policy::manage_user(&caller, target.role(), target.unit_id)?;
    if target.role() == Role::Service {
        return Err(ApiError::invalid(
            "password",
            "a service account's secret is rotated with POST /users/{id}/client-secret",
        ));
    }
    let Json(b) = body;
    check_password(&b.password, &target.username).map_err(|m| ApiError::invalid("password", m))?;
    let hash = web::block(move || password::hash(&b.password)).await?;
    let actor = caller.actor();
    state
        .db
        .write(move |c| {
            users::replace_credentials(c, id, &hash, &actor, "user.password_reset")?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Generate a new client secret for a service account; the old one stops working at once.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "The service account's id")),
    responses(
        (status = 200, description = "The new secret, shown once", body = ClientSecret),
        (status = 404, description = "No such account, or not one the caller may see"),
    )
)]
#[post("/users/{id}/client-secret")]
pub async fn rotate_client_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let vis = policy::read_users(&caller)?;
    let id = UserId(id.into_inner());
    let target = state.db.run(move |c| visible(c, vis, id)).await?;
    policy::manage_user(&caller, target.role(), target.unit_id)?;
    if target.role() != Role::Service {
        return Err(ApiError::Conflict {
            detail: "only service accounts have a client secret".into(),
            field: None,
        });
    }
    let secret = random_token();
    let to_hash = secret.clone();
    let hash = web::block(move || password::hash(&to_hash)).await?;
    let actor = caller.actor();
    state
        .db
        .write(move |c| {
            users::replace_credentials(c, id, &hash, &actor, "user.secret_rotate")?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(ClientSecret {
            client_secret: secret,
        }))
}
