//! Sign-in endpoints (`/auth/*`) and the caller's own account (`/me`).

use super::extract::{Caller, CallerToken, Form, Json};
use super::views::UserView;
use crate::app::AppState;
use crate::auth::password;
use crate::auth::session::{self, Grant};
use crate::error::{ApiError, ApiResult};
use crate::service;
use actix_web::http::{header, StatusCode};
use actix_web::{get, post, put, web, HttpRequest, HttpResponse, ResponseError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Credentials of a person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The login name (case-insensitive).
    #[schema(example = "coordinator")]
    pub username: String,
    /// The password.
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

/// A refresh token, to rotate or to end.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last sign-in or refresh.
    #[schema(example = "q8Jm3W0n0b2sZ6eVbW1cY1Q9a2VwQ0x3V1h0c2Z6d2c")]
    pub refresh_token: String,
}

/// The OAuth 2.0 client-credentials request of a department system
/// (`application/x-www-form-urlencoded`; the client may instead authenticate with HTTP Basic).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    #[schema(example = "client_credentials")]
    pub grant_type: String,
    /// The service account's username.
    #[schema(example = "ipo-system")]
    pub client_id: Option<String>,
    /// The service account's secret.
    #[schema(example = "Zq9…")]
    pub client_secret: Option<String>,
    /// Space-separated scopes wanted; all the account holds when omitted.
    #[schema(example = "reports:read reports:write")]
    pub scope: Option<String>,
}

/// An OAuth 2.0 token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6IjNmMmE5YzBkMTJhYjM0Y2QifQ.eyJzdWIiOiI0In0.sig",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "q8Jm3W0n0b2sZ6eVbW1cY1Q9a2VwQ0x3V1h0c2Z6d2c"
}))]
pub struct TokenResponse {
    /// The access token, a JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// A single-use token for `POST /auth/refresh` (not issued to client credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
    /// The scopes granted (client credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub scope: Option<String>,
}

/// The error codes of the token endpoint (RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    /// A parameter is missing, repeated or malformed.
    InvalidRequest,
    /// Client authentication failed: unknown client, wrong secret, or no credentials (401).
    InvalidClient,
    /// The grant is invalid (not issued by the client-credentials grant, listed for clients).
    InvalidGrant,
    /// The client may not use this grant type.
    UnauthorizedClient,
    /// The grant type is not `client_credentials`.
    UnsupportedGrantType,
    /// A scope asked for is unknown or not held by the client.
    InvalidScope,
}

/// An OAuth 2.0 error response (RFC 6749 §5.2): the body of the token endpoint's 400 and 401,
/// as OAuth client libraries read it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "the username or password is not correct"}))]
pub struct OAuthError {
    /// The error code.
    pub error: OAuthErrorCode,
    /// What went wrong, in words.
    pub error_description: String,
}

/// A password change by the account holder.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now.
    #[schema(example = "correct horse battery staple")]
    pub current_password: String,
    /// The new password: at least 12 characters.
    #[schema(example = "a new and longer passphrase")]
    pub new_password: String,
}

fn token_response(g: Grant) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token: g.access_token,
            token_type: "Bearer".into(),
            expires_in: g.expires_in,
            refresh_token: g.refresh_token,
            scope: g.scope,
        })
}

/// A sign-in answer (success or error) with the `RateLimit` headers of the account name and
/// address it was counted against.
async fn with_quotas(
    state: &AppState,
    mut res: HttpResponse,
    account: Option<&str>,
    address: &str,
) -> HttpResponse {
    if let Some(account) = account {
        if let Ok(quotas) = session::quotas(state, account, address).await {
            super::http::with_rate_limits(&mut res, &quotas);
        }
    }
    res
}

const ONLY_CLIENT_CREDENTIALS: &str = "only client_credentials is supported";

/// The token endpoint's error answer: OAuth 2.0's shape for what RFC 6749 §5.2 names (400,
/// 401), the service's own problem documents otherwise (413, 415, 429, 500, 503); never cached.
fn oauth_error(e: ApiError, used_basic: bool) -> HttpResponse {
    let problem = e.problem();
    let code = match &e {
        ApiError::Unauthorized(_) => Some(OAuthErrorCode::InvalidClient),
        ApiError::Forbidden(_) => Some(OAuthErrorCode::InvalidScope),
        ApiError::Validation(errors) if errors.iter().any(|f| f.field == "scope") => {
            Some(OAuthErrorCode::InvalidScope)
        }
        ApiError::Validation(errors)
            if errors
                .iter()
                .any(|f| f.field == "grant_type" && f.message == ONLY_CLIENT_CREDENTIALS) =>
        {
            Some(OAuthErrorCode::UnsupportedGrantType)
        }
        ApiError::BadRequest { .. } | ApiError::Validation(_) => {
            Some(OAuthErrorCode::InvalidRequest)
        }
        _ => None,
    };
    let mut res = match code {
        Some(code) => {
            let status = if code == OAuthErrorCode::InvalidClient {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            let mut res = HttpResponse::build(status);
            if code == OAuthErrorCode::InvalidClient && used_basic {
                res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"duban\""));
            }
            res.json(OAuthError {
                error: code,
                error_description: problem.detail,
            })
        }
        None => e.error_response(),
    };
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res.headers_mut()
        .insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    res
}

/// Sign in with a username and password.
///
/// Answers in the OAuth 2.0 token-response shape. Wrong password and unknown user are answered
/// alike; repeated failures per account or address are refused with 429 and `Retry-After`.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse, headers(
            ("RateLimit-Policy" = String, description = "`\"account\";q=5;w=900, \"address\";q=30;w=900`: failed attempts allowed per account name and per client address in 15 minutes"),
            ("RateLimit" = String, description = "Failed attempts left (`r`) and seconds until the allowance is whole again (`t`), per policy: `\"account\";r=3;t=612, \"address\";r=28;t=612`"),
        )),
        (status = 401, description = "Wrong username or password", headers(
            ("RateLimit-Policy" = String, description = "`\"account\";q=5;w=900, \"address\";q=30;w=900`: failed attempts allowed per account name and per client address in 15 minutes"),
            ("RateLimit" = String, description = "Failed attempts left (`r`) and seconds until the allowance is whole again (`t`), per policy: `\"account\";r=3;t=612, \"address\";r=28;t=612`"),
        )),
        (status = 429, description = "Too many failed attempts for this account or address", headers(
            ("Retry-After" = u64, description = "Seconds to wait before trying again"),
            ("RateLimit-Policy" = String, description = "`\"account\";q=5;w=900, \"address\";q=30;w=900`: failed attempts allowed per account name and per client address in 15 minutes"),
            ("RateLimit" = String, description = "Failed attempts left (`r`) and seconds until the allowance is whole again (`t`), per policy: `\"account\";r=3;t=612, \"address\";r=28;t=612`"),
        )),
        (status = 503, description = "Too many password checks are waiting (`/problems/overloaded`), or the database is unreachable (`/problems/unavailable`)", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    ),
    security(())
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let Json(b) = body;
    let addr = super::client_address(&req, state.settings.trust_proxy);
    let res = match session::login(&state, &b.username, b.password, &addr).await {
        Ok(grant) => token_response(grant),
        Err(e) => e.error_response(),
    };
    Ok(with_quotas(&state, res, Some(&b.username), &addr).await)
}

/// Exchange a refresh token for a new access and refresh token.
///
/// Each refresh token works once. Presenting one that was already used revokes every token of
/// that sign-in: a copy is in someone else's hands.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 401, description = "Unknown, used, revoked or expired refresh token"),
    ),
    security(())
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    Ok(token_response(
        session::refresh(&state, &body.0.refresh_token).await?,
    ))
}

/// Sign out: revoke the refresh token and every token rotated from the same sign-in.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Signed out (also when the token was unknown)")),
    security(())
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    session::logout(&state, &body.0.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(rest.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Get an access token for a department system (OAuth 2.0 client credentials).
///
/// The service account is bound to one unit; the token carries the granted scopes and no
/// refresh token. Client authentication by HTTP Basic or by `client_id`/`client_secret` fields.
#[utoipa::path(
    tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token", body = TokenResponse,
         headers(
            ("Cache-Control" = String, description = "`no-store`"),
            ("Pragma" = String, description = "`no-cache`"),
            ("RateLimit-Policy" = String, description = "`\"account\";q=5;w=900, \"address\";q=30;w=900`: failed attempts allowed per account name and per client address in 15 minutes"),
            ("RateLimit" = String, description = "Failed attempts left (`r`) and seconds until the allowance is whole again (`t`), per policy: `\"account\";r=3;t=612, \"address\";r=28;t=612`"),
         ),
         example = json!({"access_token": "eyJhbGciOiJIUzI1NiJ9.e30.sig", "token_type": "Bearer",
                          "expires_in": 900, "scope": "assignments:read reports:read reports:write"})),
        (status = 400, description = "An OAuth 2.0 error: `invalid_request` (a parameter missing or malformed), `unsupported_grant_type`, or `invalid_scope` (unknown, or not held by the client)", body = OAuthError,
         examples(
            ("invalid_scope" = (value = json!({"error": "invalid_scope", "error_description": "this client does not hold the scope reports:submit"}))),
            ("unsupported_grant_type" = (value = json!({"error": "unsupported_grant_type", "error_description": "grant_type: only client_credentials is supported"}))),
            ("invalid_request" = (value = json!({"error": "invalid_request", "error_description": "grant_type: missing field `grant_type`"}))),
         )),
        (status = 401, description = "`invalid_client`: unknown client, wrong secret or no client credentials; with `WWW-Authenticate: Basic realm=\"duban\"` when the client sent HTTP Basic", body = OAuthError,
         headers(
            ("WWW-Authenticate" = String, description = "`Basic realm=\"duban\"`, when the client authenticated with HTTP Basic"),
            ("RateLimit-Policy" = String, description = "`\"account\";q=5;w=900, \"address\";q=30;w=900`: failed attempts allowed per account name and per client address in 15 minutes"),
            ("RateLimit" = String, description = "Failed attempts left (`r`) and seconds until the allowance is whole again (`t`), per policy: `\"account\";r=3;t=612, \"address\";r=28;t=612`"),
         ),
         example = json!({"error": "invalid_client", "error_description": "the username or password is not correct"})),
        (status = 429, description = "Too many failed attempts for this client or address", headers(
            ("Retry-After" = u64, description = "Seconds to wait before trying again"),
            ("RateLimit-Policy" = String, description = "`\"account\";q=5;w=900, \"address\";q=30;w=900`: failed attempts allowed per account name and per client address in 15 minutes"),
            ("RateLimit" = String, description = "Failed attempts left (`r`) and seconds until the allowance is whole again (`t`), per policy: `\"account\";r=3;t=612, \"address\";r=28;t=612`"),
        )),
        (status = 503, description = "Too many password checks are waiting (`/problems/overloaded`), or the database is unreachable (`/problems/unavailable`)", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    ),
    security(())
)]
#[post("/auth/token")]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Result<Form<TokenRequest>, ApiError>,
) -> HttpResponse {
    let used_basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"));
    let addr = super::client_address(&req, state.settings.trust_proxy);
    let (outcome, client) = client_credentials(&state, &req, body, &addr).await;
    let res = match outcome {
        Ok(grant) => token_response(grant),
        Err(e) => oauth_error(e, used_basic),
    };
    with_quotas(&state, res, client.as_deref(), &addr).await
}

/// The client-credentials grant of one token request, and the client it named (if any).
async fn client_credentials(
    state: &AppState,
    req: &HttpRequest,
    body: Result<Form<TokenRequest>, ApiError>,
    addr: &str,
) -> (ApiResult<Grant>, Option<String>) {
    let b = match body {
        Ok(Form(b)) => b,
        Err(e) => return (Err(e), None),
    };
    if b.grant_type != "client_credentials" {
        let e = ApiError::invalid("grant_type", ONLY_CLIENT_CREDENTIALS);
        return (Err(e), None);
    }
    let (id, secret) = match (basic_credentials(req), b.client_id, b.client_secret) {
        (Some(pair), _, _) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, None, _) => {
            let e =
                ApiError::Unauthorized("send client_id and client_secret, or HTTP Basic".into());
            return (Err(e), None);
        }
        (None, Some(id), None) => {
            let e = ApiError::Unauthorized("client_secret is missing".into());
            return (Err(e), Some(id));
        }
    };
    let grant = session::client_credentials(state, &id, secret, b.scope.as_deref(), addr).await;
    (grant, Some(id))
}

/// The caller's own account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The account.
    #[serde(flatten)]
    pub user: UserView,
    /// The name of the caller's unit, if any.
    #[schema(example = "重庆市知识产权局")]
    pub unit_name: Option<String>,
    /// For a service account: the scopes of this token.
    pub token_scopes: Vec<String>,
}

/// Who am I: the signed-in account, its role and unit.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "The caller's account", body = Me))
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, caller: CallerToken) -> ApiResult<web::Json<Me>> {
    let (ctx, user, unit_name) = state
        .db
        .run(move |c| {
            let (ctx, account) = caller.ctx_and_account(c)?;
            let (user, unit_name) = service::users::me(c, &ctx, account)?;
            Ok((ctx, user, unit_name))
        })
        .await?;
    Ok(web::Json(Me {
        user: UserView::from(user),
        unit_name,
        token_scopes: ctx.principal.scopes.names(),
    }))
}

/// Change the caller's own password; every refresh token of the account is revoked.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Password changed"),
        (status = 401, description = "The current password is wrong"),
        (status = 429, description = "Too many failed attempts"),
        (status = 503, description = "Too many password checks are waiting (`/problems/overloaded`), or the database is unreachable (`/problems/unavailable`)", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[put("/me/password")]
pub async fn change_my_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Json<PasswordChange>,
) -> ApiResult<HttpResponse> {
    let (Json(b), ctx) = (body, caller.ctx());
    service::users::check_own_password(&ctx, &b.new_password)?;
    let addr = super::client_address(&req, state.settings.trust_proxy);
    session::check_current_password(&state, &caller.username, b.current_password, &addr).await?;
    let hash = password::hash(b.new_password).await?;
    state
        .db
        .run(move |c| service::users::replace_own_password(c, &ctx, &hash))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
