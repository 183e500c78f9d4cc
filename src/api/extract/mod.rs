//! Request extractors that answer bad input with a problem naming the field: JSON bodies,
//! query strings and forms (parsed with the failing path kept), pagination, and the audit actor.
//!
//! Input hygiene happens here, once, for every handler:
//! - text the databases cannot store (U+0000, see [`crate::domain::text::storable`]) is a 422
//!   naming where it sits: a JSON path (`aliases[1]`), a query or form parameter, or a path
//!   segment (through [`path_config`]);
//! - a JSON body is exactly one value: anything after it is a 400;
//! - a body deserialized into a struct must be a JSON object: serde would otherwise fill the
//!   struct's fields in order from an array (`[null, null]`), which is a 422 naming `body`.

mod page;
mod parse;

pub use page::{encode_cursor, total_of, total_of_pages, CountQuery, Page, PageQuery};
pub use parse::from_value;
use parse::{from_json, from_urlencoded};

use crate::app::AppState;
use crate::auth::principal::Bearer;
use crate::auth::Principal;
use crate::db::AnyConnection;
use crate::domain::ids::UserId;
use crate::domain::text::{self, NUL_MESSAGE};
use crate::error::{ApiError, FieldError};
use crate::store::audit::Actor;
use crate::telemetry::RequestId;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// A JSON request body (`application/json` or `application/*+json`), limited in size.
pub struct Json<T>(pub T);

/// A query string.
pub struct Query<T>(pub T);

/// An `application/x-www-form-urlencoded` body (the OAuth 2.0 token endpoint).
pub struct Form<T>(pub T);

fn body_limit(req: &HttpRequest) -> usize {
    req.app_data::<web::Data<AppState>>()
        .map(|s| s.settings.body_limit)
        .unwrap_or(1 << 20)
}

fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    accepts: fn(&str) -> bool,
    expected: &'static str,
) -> LocalFuture<web::Bytes> {
    let limit = body_limit(req);
    let content_type = req.content_type().to_ascii_lowercase();
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let bytes = web::Bytes::from_request(req, payload);
    Box::pin(async move {
        if !accepts(&content_type) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send the body as {expected}, not {}",
                if content_type.is_empty() {
                    "without a Content-Type"
                } else {
                    &content_type
                }
            )));
        }
        if declared.is_some_and(|n| n > limit) {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        let body =
            bytes
                .await
                .map_err(|e| match e.as_error::<actix_web::error::PayloadError>() {
                    Some(actix_web::error::PayloadError::Overflow) => {
                        ApiError::PayloadTooLarge { limit }
                    }
                    _ => ApiError::BadRequest {
                        detail: format!("the body could not be read: {e}"),
                        errors: vec![],
                    },
                })?;
        if body.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        Ok(body)
    })
}

fn is_json(ct: &str) -> bool {
    ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json"))
}

fn is_csv(ct: &str) -> bool {
    ct == "text/csv"
}

/// A `text/csv` body (table imports), limited in size.
pub struct CsvBody(pub web::Bytes);

impl FromRequest for CsvBody {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, is_csv, "text/csv");
        Box::pin(async move { body.await.map(CsvBody) })
    }
}

fn is_xlsx(ct: &str) -> bool {
    ct == crate::documents::XLSX
}

/// An XLSX workbook body (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`,
/// table imports), limited in size.
pub struct XlsxBody(pub web::Bytes);

impl FromRequest for XlsxBody {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, is_xlsx, crate::documents::XLSX);
        Box::pin(async move { body.await.map(XlsxBody) })
    }
}

/// The summary table as either body, chosen by Content-Type: [`CsvBody`] or [`XlsxBody`].
pub enum TableBody {
    /// `text/csv`.
    Csv(CsvBody),
    /// An XLSX workbook.
    Xlsx(XlsxBody),
}

impl FromRequest for TableBody {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if is_xlsx(&req.content_type().to_ascii_lowercase()) {
            let body = XlsxBody::from_request(req, payload);
            return Box::pin(async move { body.await.map(TableBody::Xlsx) });
        }
        let body = read_body(
            req,
            payload,
            is_csv,
            "text/csv or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        );
        Box::pin(async move { body.await.map(|b| TableBody::Csv(CsvBody(b))) })
    }
}

impl TableBody {
    /// The rows of the table by the reader of its type, or the problems naming row and column.
    pub fn rows(&self) -> Result<Vec<crate::domain::table::SummaryRow>, ApiError> {
        match self {
            TableBody::Csv(b) => crate::domain::table::read_csv(&b.0),
            TableBody::Xlsx(b) => crate::documents::xlsx::read_summary(&b.0),
        }
        .map_err(ApiError::Validation)
    }
}

fn is_form(ct: &str) -> bool {
    ct == "application/x-www-form-urlencoded"
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, is_json, "application/json");
        Box::pin(async move { from_json(&body.await?).map(Json) })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(from_urlencoded(req.query_string().as_bytes()).map(Query))
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload, is_form, "application/x-www-form-urlencoded");
        Box::pin(async move { from_urlencoded(&body.await?).map(Form) })
    }
}

/// How path parameters (`{id}`) that do not parse are answered: a segment holding U+0000 is a
/// 422 naming the parameter; a path that is a more specific documented path not taking this
/// method (`PATCH /assignments/reschedule`, caught by `PATCH /assignments/{id}`) a 405 with
/// that path's `Allow`; anything else a 404 (no resource has that path).
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, req| {
        let unstorable: Vec<FieldError> = req
            .match_info()
            .iter()
            .filter(|(_, value)| !text::storable(value))
            .map(|(name, _)| FieldError::new(name, NUL_MESSAGE))
            .collect();
        if !unstorable.is_empty() {
            return ApiError::Validation(unstorable).into();
        }
        let allow = req
            .app_data::<web::Data<crate::app::AppState>>()
            .and_then(|state| state.routes.allowed(req.path()));
        match allow {
            Some(allow) if !allow.iter().any(|m| m == req.method().as_str()) => {
                ApiError::MethodNotAllowed { allow }.into()
            }
            _ => ApiError::NotFound(format!("no resource at {}", req.path())).into(),
        }
    })
}

/// The signed-in caller together with the request id: who to write into the audit log.
pub struct Caller {
    /// The caller.
    pub principal: Principal,
    /// This request's id.
    pub request_id: Option<String>,
}

impl Caller {
    /// The use-case context of this request: the caller, its audit actor, now.
    pub fn ctx(&self) -> crate::service::Ctx {
        crate::service::Ctx::new(self.principal.clone(), self.request_id.clone())
    }

    /// The audit actor of this request.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.principal.user_id),
            unit_id: self.principal.unit_id,
            request_id: self.request_id.clone(),
        }
    }
}

impl std::ops::Deref for Caller {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        let principal = Principal::from_request(req, payload);
        Box::pin(async move {
            Ok(Caller {
                principal: principal.await?,
                request_id,
            })
        })
    }
}

/// The caller as its verified access token, with the request id: the account is read on the
/// connection of the handler's use case ([`CallerToken::ctx`]), in the same trip to the database
/// pool, where [`Caller`] reads it in a trip of its own before the handler runs.
///
/// A request carrying an `Idempotency-Key` may be answered by replaying its first answer without
/// reaching the use case, so its account is read up front, like [`Caller`]'s: a replay too goes
/// only to an active account in a live sign-in.
pub struct CallerToken {
    bearer: Bearer,
    read: Option<Principal>,
    request_id: Option<String>,
}

impl CallerToken {
    /// The account the token names (checked by [`CallerToken::ctx`]).
    pub fn user_id(&self) -> UserId {
        self.bearer.user_id
    }

    /// The use-case context of this request, the account read on `c` unless already read: the
    /// caller, its audit actor, now.
    pub fn ctx(&self, c: &mut AnyConnection) -> Result<crate::service::Ctx, ApiError> {
        let principal = match &self.read {
            Some(p) => p.clone(),
            None => self.bearer.principal(c)?,
        };
        Ok(crate::service::Ctx::new(principal, self.request_id.clone()))
    }

    /// [`CallerToken::ctx`] with the account's row, read on `c` in the same query.
    pub fn ctx_and_account(
        &self,
        c: &mut AnyConnection,
    ) -> Result<(crate::service::Ctx, crate::store::users::User), ApiError> {
        let (principal, user) = self.bearer.account(c)?;
        let ctx = crate::service::Ctx::new(principal, self.request_id.clone());
        Ok((ctx, user))
    }
}

impl FromRequest for CallerToken {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        let bearer = Bearer::from_request(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let up_front = req.headers().contains_key(super::idempotency::HEADER);
        Box::pin(async move {
            let bearer = bearer?;
            let read = match state {
                Some(state) if up_front => {
                    let b = bearer.clone();
                    Some(state.db.run(move |c| b.principal(c)).await?)
                }
                _ => None,
            };
            Ok(CallerToken {
                bearer,
                read,
                request_id,
            })
        })
    }
}
