//! `Idempotency-Key` on POST (IETF draft "The Idempotency-Key HTTP Header Field"): the same key
//! with the same request gets the first answer again, on any instance; the same key with a
//! different request is refused (422).
//!
//! How it holds across instances sharing one database:
//! 1. the key is reserved in its own committed statement (`INSERT … ON CONFLICT DO NOTHING`);
//! 2. the holder runs the work, and records the answer and drops the reservation in the work's
//!    own transaction, so the answer exists exactly when the change does;
//! 3. a request finding the key reserved polls briefly ([`WAIT`]) for the answer, then gives up
//!    with 409 and `Retry-After`;
//! 4. a failed request (any error, its transaction rolled back) releases the key, so a retry
//!    runs; a reservation whose holder crashed lapses after [`LEASE_SECS`] and is taken over.

use crate::db::{AnyConnection, Db};
use crate::domain::ids::UserId;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, idempotency};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Duration;
use sha2::{Digest, Sha256};
use std::time::{Duration as Wait, Instant};

/// How long a reservation holds before it is taken to be abandoned (its holder crashed).
pub const LEASE_SECS: i64 = 30;
/// How long a request waits for the answer of the same key's running request.
pub const WAIT: Wait = Wait::from_secs(5);
/// The `Retry-After` of a 409 for a key still in progress.
const RETRY_AFTER_SECS: u64 = 2;

/// The header.
pub const HEADER: &str = "Idempotency-Key";

/// The key and request fingerprint of one POST.
#[derive(Debug, Clone)]
pub struct Idempotency {
    user: UserId,
    key: Option<String>,
    hash: String,
}

impl Idempotency {
    /// Reads the key (1 to 200 visible ASCII characters) and fingerprints method, path and body.
    pub fn new(req: &HttpRequest, user: UserId, body: &serde_json::Value) -> ApiResult<Self> {
        let key = match req.headers().get(HEADER) {
            None => None,
            Some(v) => {
                let k = v.to_str().unwrap_or("").trim().to_owned();
                if k.is_empty() || k.len() > 200 || !k.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(ApiError::invalid(
                        HEADER,
                        "must be 1 to 200 visible ASCII characters",
                    ));
                }
                Some(k)
            }
        };
        let mut h = Sha256::new();
        h.update(req.method().as_str());
        h.update(b" ");
        h.update(req.path());
        h.update(b"\n");
        h.update(body.to_string());
        let hash = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Idempotency { user, key, hash })
    }

    /// Runs `work` once per key: in one transaction (like [`Db::write`]) that also records its
    /// answer, or not at all when the key already has an answer, which is replayed through
    /// `replayed(status, body)`. Without a key, `work` simply runs, in the transaction its use
    /// case opens (`work` calls one use case, which holds its transaction).
    pub async fn write<T, F>(self, db: &Db, replayed: fn(u16, String) -> T, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> ApiResult<Answer<T>> + Send + 'static,
        T: Send + 'static,
    {
        let Some(key) = self.key.clone() else {
            // Nothing to record with it: the work's use case holds its own transaction.
            return db.run(move |c| work(c).map(|a| a.value)).await;
        };
        let owner = crate::auth::token::random_token();
        let deadline = Instant::now() + WAIT;
        let mut pause = Wait::from_millis(20);
        loop {
            let (me, key, owner) = (self.clone(), key.clone(), owner.clone());
            let claim = move |c: &mut AnyConnection| me.claim(c, &key, &owner);
            match db.run(move |c| crate::db::one_writer(c, claim)).await? {
                Claim::Held => break,
                Claim::Answered(status, body) => return Ok(replayed(status, body)),
                Claim::Changed => {}
                Claim::Busy if Instant::now() >= deadline => {
                    return Err(ApiError::InProgress {
                        retry_after_secs: RETRY_AFTER_SECS,
                        detail: "a request with this Idempotency-Key is still being processed"
                            .into(),
                    })
                }
                Claim::Busy => {
                    actix_web::rt::time::sleep(pause).await;
                    pause = (pause * 2).min(Wait::from_millis(200));
                }
            }
        }
        let (user, hash) = (self.user, self.hash);
        let (k, o) = (key.clone(), owner.clone());
        let done = db
            .write(move |c| {
                let answer = work(c)?;
                if !idempotency::unlock(c, user, &k, &o)? {
                    return Err(ApiError::Conflict {
                        detail: "the reservation of this Idempotency-Key lapsed while the \
                                 request ran; nothing was changed, send it again"
                            .into(),
                        field: Some(HEADER.into()),
                    });
                }
                let status = i32::from(answer.status.as_u16());
                idempotency::remember(c, user, &k, &hash, status, &answer.body, store::now())?;
                Ok(answer.value)
            })
            .await;
        if done.is_err() {
            let released = db
                .run(move |c| {
                    crate::db::one_writer(c, |c| Ok(idempotency::unlock(c, user, &key, &owner)?))
                })
                .await;
            if let Err(e) = released {
                tracing::warn!(error = %e, "could not release an Idempotency-Key; it lapses");
            }
        }
        done
    }

    /// One attempt to reserve the key (statements committed one by one, outside any
    /// transaction).
    fn claim(&self, c: &mut AnyConnection, key: &str, owner: &str) -> ApiResult<Claim> {
        if let Some(answer) = self.answered(c, key)? {
            return Ok(answer);
        }
        let now = store::now();
        let until = now + Duration::seconds(LEASE_SECS);
        let held = if idempotency::lock(c, self.user, key, &self.hash, owner, now, until)? {
            true
        } else {
            match idempotency::find_lock(c, self.user, key)? {
                None => return Ok(Claim::Changed),
                Some(l) if l.request_hash != self.hash => return Err(reused()),
                Some(l) if l.locked_until <= now => {
                    let taken =
                        idempotency::take_over(c, self.user, key, &l.owner, owner, now, until)?;
                    if taken {
                        tracing::warn!(key, "took over a lapsed Idempotency-Key reservation");
                    }
                    taken
                }
                Some(_) => return Ok(Claim::Busy),
            }
        };
        if !held {
            return Ok(Claim::Changed);
        }
        // The holder before may have answered between the first look and the reservation.
        match self.answered(c, key) {
            Ok(None) => Ok(Claim::Held),
            other => {
                idempotency::unlock(c, self.user, key, owner)?;
                other.map(|a| a.unwrap_or(Claim::Changed))
            }
        }
    }

    /// The remembered answer to this key, or a 422 when it answered a different request.
    fn answered(&self, c: &mut AnyConnection, key: &str) -> ApiResult<Option<Claim>> {
        match idempotency::find(c, self.user, key)? {
            None => Ok(None),
            Some(r) if r.request_hash == self.hash => {
                Ok(Some(Claim::Answered(r.status as u16, r.body)))
            }
            Some(_) => Err(reused()),
        }
    }
}

/// [`Db::write`] for a request that may carry an `Idempotency-Key`:
/// `state.db.write_once(idem, Outcome::Replayed, move |c| { …; Ok(Answer::new(…)) })`.
pub trait WriteOnce {
    /// Runs `work` at most once per key; see [`Idempotency::write`].
    fn write_once<T, F>(
        &self,
        idem: Idempotency,
        replayed: fn(u16, String) -> T,
        work: F,
    ) -> impl std::future::Future<Output = ApiResult<T>>
    where
        F: FnOnce(&mut AnyConnection) -> ApiResult<Answer<T>> + Send + 'static,
        T: Send + 'static;
}

impl WriteOnce for Db {
    fn write_once<T, F>(
        &self,
        idem: Idempotency,
        replayed: fn(u16, String) -> T,
        work: F,
    ) -> impl std::future::Future<Output = ApiResult<T>>
    where
        F: FnOnce(&mut AnyConnection) -> ApiResult<Answer<T>> + Send + 'static,
        T: Send + 'static,
    {
        idem.write(self, replayed, work)
    }
}

/// What the work of an idempotent request produced: the answer to remember (status and JSON
/// body) and the value to respond with.
#[derive(Debug)]
pub struct Answer<T> {
    status: StatusCode,
    body: String,
    value: T,
}

impl<T> Answer<T> {
    /// The answer `status` with `body`, responded to now as `value`.
    pub fn new(status: StatusCode, body: String, value: T) -> Self {
        Answer {
            status,
            body,
            value,
        }
    }
}

enum Claim {
    /// This request holds the key: it runs.
    Held,
    /// The key has an answer to replay.
    Answered(u16, String),
    /// Another request holds the key and is running.
    Busy,
    /// The reservation changed between two statements: look again at once.
    Changed,
}

fn reused() -> ApiError {
    ApiError::invalid(HEADER, "this key was already used for a different request")
}

/// The response replaying a remembered answer.
pub fn replayed(status: u16, body: String) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .content_type("application/json")
        .insert_header(("Idempotency-Replayed", "true"))
        .body(body)
}
