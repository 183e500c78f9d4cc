//! User accounts (`/users`): people of every role and the service accounts of department
//! systems. Admins manage all; a unit manager manages its own unit's reporters, managers and
//! service accounts.

use super::extract::{total_of_pages, Caller, Json, Page, PageQuery, Query};
use super::views::UserView;
use crate::app::AppState;
use crate::auth::{password, token::random_token};
use crate::domain::ids::{UnitId, UserId};
use crate::domain::role::Role;
use crate::error::ApiResult;
use crate::service::users::{AccountChanges, Credential, NewAccount};
use crate::service::{self, Ctx};
use crate::store::{self, users::UserFilter};
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
    #[schema(nullable = false)]
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
    let (Query(q), ctx) = (query, caller.ctx());
    let (limit, after) = page.0.parse()?;
    let filter = UserFilter {
        unit_id: q.unit_id.map(UnitId),
        role: q.role,
        active: q.active,
        q: q.q,
    };
    let count = page.0.wants_count();
    let (rows, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |after, limit| {
                let rows = service::users::list(c, &ctx, filter.clone(), after, limit)?;
                Ok(store::Page::from_rows(rows, limit, |u| u.id.0))
            })?;
            Ok((service::users::list(c, &ctx, filter, after, limit)?, total))
        })
        .await?;
    let page = store::Page::from_rows(rows, limit, |u| u.id.0);
    Ok(web::Json(Page::map(page, UserView::from).with_total(total)))
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
    let (id, ctx) = (UserId(id.into_inner()), caller.ctx());
    let user = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::users::get(c, &ctx, id)
        })
        .await?;
    Ok(web::Json(user.into()))
}

/// Create an account. A service account gets a generated `client_secret`, shown once.
#[utoipa::path(
    tag = "users",
    request_body = NewUserRequest,
    responses(
        (status = 201, description = "The account was created", body = UserCreated),
        (status = 409, description = "The username is taken"),
        (status = 503, description = "Too many password checks are waiting (`/problems/overloaded`), or the database is unreachable (`/problems/unavailable`)", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewUserRequest>,
) -> ApiResult<HttpResponse> {
    let (Json(b), ctx) = (body, caller.ctx());
    let new = NewAccount {
        username: b.username,
        display_name: b.display_name,
        role: b.role,
        unit_id: b.unit_id,
        password: b.password,
        scopes: b.scopes,
    };
    let checked = service::users::check_new(&ctx, new)?;
    let to_hash = checked.secret.clone();
    let hash = password::hash(to_hash).await?;
    let (secret, generated) = (checked.secret.clone(), checked.generated);
    let user = state
        .db
        .run(move |c| service::users::create(c, &ctx, &checked, &hash))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .json(UserCreated {
            user: user.into(),
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
    let (id, Json(b), ctx) = (UserId(id.into_inner()), body, caller.ctx());
    let changes = AccountChanges {
        display_name: b.display_name,
        role: b.role,
        unit_id: b.unit_id,
        active: b.active,
        scopes: b.scopes,
    };
    let user = state
        .db
        .run(move |c| service::users::update(c, &ctx, id, changes))
        .await?;
    Ok(web::Json(user.into()))
}

/// Checks the caller may replace the account's credential, hashes the new one off the database
/// connection, and stores it.
async fn replace(
    state: &AppState,
    ctx: Ctx,
    id: UserId,
    kind: Credential,
    secret: String,
) -> ApiResult<()> {
    let (check, to_hash) = (ctx.clone(), secret.clone());
    let password = (kind == Credential::Password).then_some(secret);
    state
        .db
        .run(move |c| service::users::credential_target(c, &check, id, kind, password.as_deref()))
        .await?;
    let hash = password::hash(to_hash).await?;
    state
        .db
        .run(move |c| service::users::replace_credential(c, &ctx, id, kind, &hash))
        .await
}

/// Set a person's password (admins; unit managers for their unit). Ends the account's sessions.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = PasswordReset,
    responses(
        (status = 204, description = "The password was set"),
        (status = 404, description = "No such account, or not one the caller may see"),
        (status = 503, description = "Too many password checks are waiting (`/problems/overloaded`), or the database is unreachable (`/problems/unavailable`)", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[put("/users/{id}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<PasswordReset>,
) -> ApiResult<HttpResponse> {
    let (id, Json(b)) = (UserId(id.into_inner()), body);
    replace(&state, caller.ctx(), id, Credential::Password, b.password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Generate a new client secret for a service account; the old one stops working at once.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "The service account's id")),
    responses(
        (status = 200, description = "The new secret, shown once", body = ClientSecret),
        (status = 404, description = "No such account, or not one the caller may see"),
        (status = 503, description = "Too many password checks are waiting (`/problems/overloaded`), or the database is unreachable (`/problems/unavailable`)", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/users/{id}/client-secret")]
pub async fn rotate_client_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, secret) = (UserId(id.into_inner()), random_token());
    replace(&state, caller.ctx(), id, Credential::Secret, secret.clone()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(ClientSecret {
            client_secret: secret,
        }))
}
