//! The authenticated caller as an extractor: a handler that takes a [`Principal`] requires a
//! valid bearer token for an active account in a live session.
//!
//! Every access token names its session (`sid`): a password sign-in with its refresh tokens, or
//! one client-credentials grant. One query per request ([`Bearer::account`]) reads the account
//! and whether that session is still live, so signing out, reuse of a refresh token, a password or secret
//! change, deactivation or a change of role or unit stops the access tokens at once rather than
//! when they expire. Tokens without `sid` are refused.

use crate::app::AppState;
use crate::db::AnyConnection;
use crate::domain::ids::{UnitId, UserId};
use crate::domain::role::Role;
use crate::domain::scope::{Scope, ScopeSet};
use crate::error::{ApiError, ApiResult};
use crate::store::{self, users::User};
use actix_web::{http::header, web, FromRequest, HttpRequest};
use std::future::Future;
use std::pin::Pin;

/// Who is calling: the account as it is now (role, unit, active flag and the session are read
/// from the database on every request, so a deactivation, role change or sign-out takes effect
/// at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The account.
    pub user_id: UserId,
    /// Its login name.
    pub username: String,
    /// Its role.
    pub role: Role,
    /// The unit it acts for (always set for unit-bound roles).
    pub unit_id: Option<UnitId>,
    /// For service accounts: the scopes granted to this token that the account still holds.
    pub scopes: ScopeSet,
}

impl Principal {
    /// True when the caller holds this role.
    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }

    /// True when a service account's token carries the scope (people are not limited by scope).
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.role != Role::Service || self.scopes.contains(scope)
    }
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized("an Authorization: Bearer token is required".into())
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not readable".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::Unauthorized(
            "the Authorization header must be 'Bearer <token>'".into(),
        )),
    }
}

/// A verified access token: its signature, issuer, audience and expiry checked, and the account
/// and sign-in it names, not yet read from the database. [`Bearer::principal`] reads them, on
/// the connection of the use case it serves, so that a request makes one trip to the database
/// pool rather than one for the caller and one for the work.
#[derive(Debug, Clone)]
pub struct Bearer {
    /// The account the token names.
    pub user_id: UserId,
    sid: String,
    scope: Option<String>,
}

impl Bearer {
    /// The request's bearer token, verified (401 when missing, malformed, forged or expired).
    /// No I/O.
    pub fn from_request(req: &HttpRequest) -> Result<Bearer, ApiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::internal("application state missing"))?;
        let claims = state.keys.verify(&bearer(req)?).map_err(|e| {
            tracing::debug!(reason = %e.0, "token refused");
            ApiError::Unauthorized("the access token is invalid or has expired".into())
        })?;
        let user_id = claims
            .sub
            .parse()
            .map(UserId)
            .map_err(|_| invalid_token())?;
        let sid = claims.sid.ok_or_else(|| {
            ApiError::Unauthorized("the access token names no session; sign in again".into())
        })?;
        Ok(Bearer {
            user_id,
            sid,
            scope: claims.scope,
        })
    }

    /// Who calls, as the account is now: [`Bearer::account`] without the account's row.
    pub fn principal(&self, c: &mut AnyConnection) -> ApiResult<Principal> {
        self.account(c).map(|(p, _)| p)
    }

    /// Who calls, as the account is now, and the account's row: one query reads the account and
    /// whether this token's sign-in is still live (401 when the account is inactive or the
    /// sign-in has ended).
    pub fn account(&self, c: &mut AnyConnection) -> ApiResult<(Principal, User)> {
        let (user, live) =
            store::sessions::account_in_session(c, self.user_id, &self.sid, store::now())?
                .filter(|(u, _)| u.active)
                .ok_or_else(|| ApiError::Unauthorized("the account is not active".into()))?;
        if !live {
            return Err(ApiError::Unauthorized(
                "the sign-in of this access token has ended".into(),
            ));
        }
        let role = user.role();
        let scopes = if role == Role::Service {
            let granted = ScopeSet::parse(self.scope.as_deref().unwrap_or_default())
                .map_err(|_| invalid_token())?;
            granted.intersection(&user.scopes)
        } else {
            ScopeSet::empty()
        };
        let principal = Principal {
            user_id: self.user_id,
            username: user.username.clone(),
            role,
            unit_id: user.unit_id,
            scopes,
        };
        Ok((principal, user))
    }
}

fn invalid_token() -> ApiError {
    ApiError::Unauthorized("the access token is invalid".into())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = Bearer::from_request(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token?;
            state.db.run(move |c| token.principal(c)).await
        })
    }
}
