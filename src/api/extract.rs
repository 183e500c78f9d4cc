//! Request extractors that answer bad input with a problem naming the field: JSON bodies,
//! query strings and forms (parsed with the failing path kept), pagination, and the audit actor.

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, FieldError};
use crate::store::audit::Actor;
use crate::telemetry::RequestId;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;
use utoipa::{IntoParams, ToSchema};

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// A JSON request body (`application/json` or `application/*+json`), limited in size.
pub struct Json<T>(pub T);

/// A query string.
pub struct Query<T>(pub T);

/// An `application/x-www-form-urlencoded` body (the OAuth 2.0 token endpoint).
pub struct Form<T>(pub T);

/// Turns a serde failure into a problem naming the field: unparseable input is a 400 Bad
/// Request; parseable input with a wrong or missing field is a 422.
fn deserialize_problem(path: String, message: String, syntax: bool) -> ApiError {
    let field = if let Some(name) = backticked(&message, "missing field `") {
        join_path(&path, &name)
    } else {
        path
    };
    let message = strip_position(&message);
    if syntax {
        ApiError::BadRequest {
            detail: format!("the body is not valid JSON: {message}"),
            errors: vec![],
        }
    } else {
        ApiError::Validation(vec![FieldError::new(
            if field.is_empty() || field == "." {
                "body".into()
            } else {
                field
            },
            message,
        )])
    }
}

fn backticked(message: &str, prefix: &str) -> Option<String> {
    let start = message.find(prefix)? + prefix.len();
    let end = message[start..].find('`')? + start;
    Some(message[start..end].to_owned())
}

fn join_path(parent: &str, name: &str) -> String {
    if parent.is_empty() || parent == "." {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

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
        Box::pin(async move {
            let body = body.await?;
            let de = &mut serde_json::Deserializer::from_slice(&body);
            serde_path_to_error::deserialize(de).map(Json).map_err(|e| {
                let syntax = matches!(
                    e.inner().classify(),
                    serde_json::error::Category::Syntax | serde_json::error::Category::Eof
                );
                deserialize_problem(e.path().to_string(), e.inner().to_string(), syntax)
            })
        })
    }
}

fn from_urlencoded<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de)
        .map_err(|e| deserialize_problem(e.path().to_string(), e.inner().to_string(), false))
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

/// Keyset pagination parameters, shared by every list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; omit for the first page.
    #[param(example = "azQy")]
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The checked limit and the key to continue after.
    pub fn parse(&self) -> Result<(i64, Option<i64>), ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::invalid("limit", "must be 1 to 200"));
        }
        let after =
            match &self.cursor {
                None => None,
                Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                    ApiError::invalid("cursor", "is not a cursor this API issued")
                })?),
            };
        Ok((limit, after))
    }
}

/// An opaque cursor for a sort key.
pub fn encode_cursor(key: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("k{key}"))
}

fn decode_cursor(c: &str) -> Option<i64> {
    let raw = URL_SAFE_NO_PAD.decode(c).ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix('k')?
        .parse()
        .ok()
}

/// One page of a list: `{"items": [...], "next_cursor": "…" | null}`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(example = "azQy")]
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// Maps a store page into an API page.
    pub fn map<S>(page: crate::store::Page<S>, f: impl FnMut(S) -> T) -> Self {
        Page {
            items: page.items.into_iter().map(f).collect(),
            next_cursor: page.next_after.map(encode_cursor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        let q = PageQuery {
            limit: Some(0),
            cursor: None,
        };
        assert!(q.parse().is_err());
    }

    #[test]
    fn a_missing_field_is_named() {
        let e = deserialize_problem(
            ".".into(),
            "missing field `username` at line 1 column 2".into(),
            false,
        );
        match e {
            ApiError::Validation(errs) => {
                assert_eq!(errs[0].field, "username");
                assert_eq!(errs[0].message, "missing field `username`");
            }
            other => panic!("{other:?}"),
        }
    }
}
