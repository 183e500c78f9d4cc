//! `Idempotency-Key` on POST: the same key with the same request gets the first answer again;
//! the same key with a different request is refused (422). Answers are kept per caller in the
//! database, written in the same transaction as the change they answer.

use crate::db::AnyConnection;
use crate::domain::ids::UserId;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, idempotency};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

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

    /// The earlier answer (status and body) to this key, or a 422 when the key was used for
    /// another request.
    pub fn replay(&self, c: &mut AnyConnection) -> ApiResult<Option<(u16, String)>> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        match idempotency::find(c, self.user, key)? {
            None => Ok(None),
            Some(r) if r.request_hash == self.hash => Ok(Some((r.status as u16, r.body))),
            Some(_) => Err(ApiError::invalid(
                HEADER,
                "this key was already used for a different request",
            )),
        }
    }

    /// Remembers the answer (inside the write's transaction).
    pub fn remember(&self, c: &mut AnyConnection, status: StatusCode, body: &str) -> ApiResult<()> {
        if let Some(key) = &self.key {
            idempotency::remember(
                c,
                self.user,
                key,
                &self.hash,
                i32::from(status.as_u16()),
                body,
                store::now(),
            )?;
        }
        Ok(())
    }
}

/// The response replaying a remembered answer.
pub fn replayed(status: u16, body: String) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .content_type("application/json")
        .insert_header(("Idempotency-Replayed", "true"))
        .body(body)
}
