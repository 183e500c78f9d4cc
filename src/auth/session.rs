//! Signing in and staying signed in: password login, refresh-token rotation with reuse
//! detection, logout, and the client-credentials grant of department systems.
//!
//! Each grant starts a session that its access tokens name (`sid`): a password login's
//! session lives as long as its refresh tokens and ends on logout, on reuse of a refresh token
//! or on a credential change; a client-credentials grant's session lives as long as its access
//! token and ends when the service account's secret is rotated or the account is deactivated.
//!
//! Every failed credential check is answered alike (401, same words, same argon2 cost whether
//! or not the account exists) and counted per account name and per client address; past the
//! allowance the caller gets 429 with `Retry-After` before any hash is computed.

use crate::app::AppState;
use crate::auth::password;
use crate::auth::token::{random_token, token_hash};
use crate::domain::ids::{UnitId, UserId};
use crate::domain::role::Role;
use crate::domain::scope::ScopeSet;
use crate::domain::throttle::{self, Counter, Limits};
use crate::error::{ApiError, ApiResult};
use crate::store::{self, sessions, throttle as counters, users};
use chrono::Duration;

/// What a successful grant hands out.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The signed access token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
    /// A refresh token (password logins and refreshes only).
    pub refresh_token: Option<String>,
    /// Granted scopes (client credentials only).
    pub scope: Option<String>,
}

const BAD_CREDENTIALS: &str = "the username or password is not correct";

fn account_key(name: &str) -> String {
    let name: String = name.trim().to_lowercase().chars().take(64).collect();
    format!("account:{name}")
}

fn address_key(addr: &str) -> String {
    format!("address:{addr}")
}

/// Refuses with 429 when the account name or the address is blocked.
async fn check_throttle(state: &AppState, account: &str, address: &str) -> ApiResult<()> {
    let (a, b) = (account.to_owned(), address.to_owned());
    let (acc, addr) = state
        .db
        .run(move |c| Ok((counters::get(c, &a)?, counters::get(c, &b)?)))
        .await?;
    let now = store::now();
    let wait = [
        throttle::ACCOUNT.retry_after(acc.as_ref(), now),
        throttle::ADDRESS.retry_after(addr.as_ref(), now),
    ]
    .into_iter()
    .flatten()
    .max();
    match wait {
        Some(secs) => Err(ApiError::TooManyRequests {
            retry_after_secs: secs,
            detail: "too many failed sign-ins for this account or address".into(),
        }),
        None => Ok(()),
    }
}

/// Where the account name and the address stand against the sign-in limits (the
/// `RateLimit` header of the sign-in operations).
pub async fn quotas(
    state: &AppState,
    account: &str,
    address: &str,
) -> ApiResult<[throttle::Quota; 2]> {
    let (a, b) = (account_key(account), address_key(address));
    let (acc, addr) = state
        .db
        .run(move |c| Ok((counters::get(c, &a)?, counters::get(c, &b)?)))
        .await?;
    let now = store::now();
    let quota = |name, limits: Limits, counter: Option<Counter>| throttle::Quota {
        name,
        limits,
        standing: limits.standing(counter.as_ref(), now),
    };
    Ok([
        quota("account", throttle::ACCOUNT, acc),
        quota("address", throttle::ADDRESS, addr),
    ])
}

fn bump(c: &mut crate::db::AnyConnection, key: &str, limits: &Limits) -> ApiResult<()> {
    let now = store::now();
    let current: Option<Counter> = counters::get(c, key)?;
    counters::put(c, key, &limits.after_failure(current.as_ref(), now))?;
    Ok(())
}

/// Counts a failure against the account name and the address, and answers 401.
async fn fail(
    state: &AppState,
    account: String,
    address: String,
    user: Option<UserId>,
) -> ApiResult<Grant> {
    state
        .db
        .write(move |c| {
            bump(c, &account, &throttle::ACCOUNT)?;
            bump(c, &address, &throttle::ADDRESS)?;
            if let Some(id) = user {
                users::record_failed_login(c, id, store::now())?;
            }
            Ok(())
        })
        .await?;
    Err(ApiError::Unauthorized(BAD_CREDENTIALS.into()))
}

/// Verifies a secret on the hashing pool; `None` verifies against the dummy hash. A full
/// queue is answered 503 with `Retry-After`.
async fn verify(stored: Option<String>, secret: String) -> ApiResult<bool> {
    Ok(password::verify(stored, secret).await?)
}

/// Password sign-in of a person. Service accounts use [`client_credentials`].
pub async fn login(
    state: &AppState,
    username: &str,
    secret: String,
    address: &str,
) -> ApiResult<Grant> {
    let (account, address) = (account_key(username), address_key(address));
    check_throttle(state, &account, &address).await?;
    let name = username.trim().to_lowercase();
    let user = state
        .db
        .run(move |c| Ok(users::find_by_username(c, &name)?))
        .await?;
    let ok = verify(user.as_ref().map(|u| u.password_hash.clone()), secret).await?;
    let user = match user {
        Some(u) if ok && u.active && u.role() != Role::Service => u,
        other => return fail(state, account, address, other.map(|u| u.id)).await,
    };
    let refresh = random_token();
    let (hash, ttl) = (token_hash(&refresh), state.settings.refresh_token_ttl_secs);
    let (id, sid) = (user.id, random_token());
    let family = sid.clone();
    state
        .db
        .write(move |c| {
            let now = store::now();
            let expires_at = now + Duration::seconds(ttl);
            counters::clear(c, &account)?;
            users::record_login(c, id, now)?;
            sessions::start(c, &family, id, now, expires_at)?;
            sessions::insert(c, id, &family, &hash, now, expires_at)?;
            Ok(())
        })
        .await?;
    Ok(Grant {
        access_token: state
            .keys
            .issue(user.id, user.role(), user.unit_id, None, &sid),
        expires_in: state.keys.access_ttl_secs(),
        refresh_token: Some(refresh),
        scope: None,
    })
}

enum Rotation {
    Rotated(UserId, Role, Option<UnitId>, String),
    Refused(&'static str),
}

/// Exchanges a refresh token for a new pair. A token already used revokes its whole family:
/// someone holds a copy.
pub async fn refresh(state: &AppState, token: &str) -> ApiResult<Grant> {
    let hash = token_hash(token);
    let next = random_token();
    let next_hash = token_hash(&next);
    let ttl = state.settings.refresh_token_ttl_secs;
    let outcome = state
        .db
        .write(move |c| {
            let now = store::now();
            let Some(t) = sessions::find_by_hash(c, &hash)? else {
                return Ok(Rotation::Refused("the refresh token is not known"));
            };
            if t.revoked_at.is_some() {
                return Ok(Rotation::Refused("the refresh token has been revoked"));
            }
            if t.used_at.is_some() || !sessions::mark_used(c, t.id, now)? {
                sessions::revoke_family(c, &t.family, now)?;
                tracing::warn!(user = %t.user_id, "refresh token reused; family revoked");
                return Ok(Rotation::Refused(
                    "the refresh token was already used; every session of its sign-in is revoked",
                ));
            }
            if t.expires_at <= now {
                return Ok(Rotation::Refused("the refresh token has expired"));
            }
            let user = users::find(c, t.user_id)?.filter(|u| u.active);
            let Some(user) = user else {
                sessions::revoke_family(c, &t.family, now)?;
                return Ok(Rotation::Refused("the account is not active"));
            };
            let expires_at = now + Duration::seconds(ttl);
            if !sessions::extend(c, &t.family, expires_at)? {
                return Ok(Rotation::Refused(
                    "the sign-in of this refresh token has ended",
                ));
            }
            sessions::insert(c, user.id, &t.family, &next_hash, now, expires_at)?;
            Ok(Rotation::Rotated(
                user.id,
                user.role(),
                user.unit_id,
                t.family,
            ))
        })
        .await?;
    match outcome {
        Rotation::Rotated(id, role, unit, sid) => Ok(Grant {
            access_token: state.keys.issue(id, role, unit, None, &sid),
            expires_in: state.keys.access_ttl_secs(),
            refresh_token: Some(next),
            scope: None,
        }),
        Rotation::Refused(why) => Err(ApiError::Unauthorized(why.into())),
    }
}

/// Ends the sign-in a refresh token belongs to (its whole family). Unknown tokens are ignored.
pub async fn logout(state: &AppState, token: &str) -> ApiResult<()> {
    let hash = token_hash(token);
    state
        .db
        .write(move |c| {
            if let Some(t) = sessions::find_by_hash(c, &hash)? {
                sessions::revoke_family(c, &t.family, store::now())?;
            }
            Ok(())
        })
        .await
}

/// The OAuth 2.0 client-credentials grant: a department system's service account, bound to
/// one unit, gets an access token with the requested subset of its scopes (all when none asked).
pub async fn client_credentials(
    state: &AppState,
    client_id: &str,
    client_secret: String,
    scope: Option<&str>,
    address: &str,
) -> ApiResult<Grant> {
    let requested = match scope {
        Some(s) => Some(ScopeSet::parse(s).map_err(|bad| {
            ApiError::invalid("scope", format!("invalid_scope: unknown scope {bad:?}"))
        })?),
        None => None,
    };
    let (account, address) = (account_key(client_id), address_key(address));
    check_throttle(state, &account, &address).await?;
    let name = client_id.trim().to_lowercase();
    let user = state
        .db
        .run(move |c| Ok(users::find_by_username(c, &name)?))
        .await?;
    let ok = verify(
        user.as_ref().map(|u| u.password_hash.clone()),
        client_secret,
    )
    .await?;
    let user = match user {
        Some(u) if ok && u.active && u.role() == Role::Service && u.unit_id.is_some() => u,
        other => return fail(state, account, address, other.map(|u| u.id)).await,
    };
    let granted = match requested {
        Some(req) => {
            if let Some(missing) = req.first_missing_from(&user.scopes) {
                return Err(ApiError::Forbidden(format!(
                    "this client does not hold the scope {missing}"
                )));
            }
            req
        }
        None => user.scopes.clone(),
    };
    let scope = granted.to_string();
    let (id, sid) = (user.id, random_token());
    let (session, ttl) = (sid.clone(), state.keys.access_ttl_secs());
    state
        .db
        .write(move |c| {
            let now = store::now();
            counters::clear(c, &account)?;
            users::record_login(c, id, now)?;
            sessions::start(c, &session, id, now, now + Duration::seconds(ttl))?;
            Ok(())
        })
        .await?;
    Ok(Grant {
        access_token: state.keys.issue(
            user.id,
            Role::Service,
            user.unit_id,
            Some(scope.clone()),
            &sid,
        ),
        expires_in: state.keys.access_ttl_secs(),
        refresh_token: None,
        scope: Some(scope),
    })
}

/// Checks the caller's current password (same throttling as sign-in).
pub async fn check_current_password(
    state: &AppState,
    username: &str,
    secret: String,
    address: &str,
) -> ApiResult<()> {
    let (account, address) = (account_key(username), address_key(address));
    check_throttle(state, &account, &address).await?;
    let name = username.to_owned();
    let user = state
        .db
        .run(move |c| Ok(users::find_by_username(c, &name)?))
        .await?;
    let id = user.as_ref().map(|u| u.id);
    if verify(user.map(|u| u.password_hash), secret).await? {
        Ok(())
    } else {
        fail(state, account, address, id).await.map(|_| ())
    }
}
