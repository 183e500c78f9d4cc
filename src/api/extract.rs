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

use crate::app::AppState;
use crate::auth::Principal;
use crate::domain::text::{self, NUL_MESSAGE};
use crate::error::{ApiError, FieldError};
use crate::store::audit::Actor;
use crate::telemetry::RequestId;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::{DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer};
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
        Box::pin(async move { from_json(&body.await?).map(Json) })
    }
}

/// Parses a JSON body strictly: one value and nothing after it, structs only from objects, no
/// U+0000 in any string or key; every failure names where it sits.
fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    unstorable_json(body)?;
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut track = serde_path_to_error::Track::new();
    let parsed = T::deserialize(Strict(serde_path_to_error::Deserializer::new(
        &mut de, &mut track,
    )))
    .and_then(|value| de.end().map(|()| value));
    parsed.map_err(|e| {
        let syntax = matches!(
            e.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        );
        deserialize_problem(track.path().to_string(), e.to_string(), syntax)
    })
}

/// A 422 naming the first string or key of a JSON body holding U+0000. JSON can only carry it
/// escaped, so bodies without `\u0000` are passed over without parsing.
fn unstorable_json(body: &[u8]) -> Result<(), ApiError> {
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    // Unparseable bodies are answered by the strict parse that follows.
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => match nul_path(&value, String::new()) {
            Some(path) => Err(ApiError::invalid(path, NUL_MESSAGE)),
            None => Ok(()),
        },
        Err(_) => Ok(()),
    }
}

/// The path (as serde_path_to_error writes it: `a.b`, `a[1]`) of the first string or key
/// holding U+0000 in `value`.
fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if !text::storable(s) => {
            Some(if path.is_empty() { "body".into() } else { path })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = join_path(&path, &k.replace('\0', "\\u0000"));
            if text::storable(k) {
                nul_path(v, here)
            } else {
                Some(here)
            }
        }),
        _ => None,
    }
}

/// The top of a JSON body: a struct is read only from a JSON object. serde_json, like every
/// self-describing format, lets a derived struct be filled from an array by position; a client
/// sending `[null, null]` for a PATCH would otherwise change nothing and get a 200.
struct Strict<D>(D);

macro_rules! forward {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.0.$method(visitor)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_map(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );
}

fn from_urlencoded<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let unstorable: Vec<FieldError> = form_urlencoded::parse(bytes)
        .filter(|(k, v)| !text::storable(k) || !text::storable(v))
        .map(|(k, _)| FieldError::new(k.replace('\0', "\\u0000"), NUL_MESSAGE))
        .collect();
    if !unstorable.is_empty() {
        return Err(ApiError::Validation(unstorable));
    }
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

/// How path parameters (`{id}`) that do not parse are answered: a segment holding U+0000 is a
/// 422 naming the parameter, anything else a 404 (no resource has that path).
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, req| {
        let unstorable: Vec<FieldError> = req
            .match_info()
            .iter()
            .filter(|(_, value)| !text::storable(value))
            .map(|(name, _)| FieldError::new(name, NUL_MESSAGE))
            .collect();
        if unstorable.is_empty() {
            ApiError::NotFound(format!("no resource at {}", req.path())).into()
        } else {
            ApiError::Validation(unstorable).into()
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

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Changes {
        name: Option<String>,
        aliases: Option<Vec<String>>,
        nested: Option<Vec<Changes>>,
    }

    fn field_of(e: ApiError) -> String {
        match e {
            ApiError::Validation(errs) => errs[0].field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_struct_is_read_from_an_object_only() {
        assert!(from_json::<Changes>(br#"{"name": "x"}"#).is_ok());
        assert_eq!(
            field_of(from_json::<Changes>(b"[null, null]").unwrap_err()),
            "body"
        );
        assert_eq!(field_of(from_json::<Changes>(b"42").unwrap_err()), "body");
        assert!(from_json::<Vec<i64>>(b"[1, 2]").is_ok());
    }

    #[test]
    fn anything_after_the_body_is_a_bad_request() {
        for body in [
            &br#"{"name": "x"} {"name": "y"}"#[..],
            br#"{"name": "x"}]"#,
            b"{} x",
        ] {
            assert!(
                matches!(from_json::<Changes>(body), Err(ApiError::BadRequest { .. })),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(from_json::<Changes>(b" {} \n").is_ok());
    }

    #[test]
    fn nul_is_named_by_its_json_path() {
        let e = from_json::<Changes>(br#"{"aliases": ["a", "b\u0000"]}"#).unwrap_err();
        assert_eq!(field_of(e), "aliases[1]");
        let e = from_json::<Changes>(br#"{"nested": [{"name": "\u0000"}]}"#).unwrap_err();
        assert_eq!(field_of(e), "nested[0].name");
        let e = from_json::<Changes>(br#"{"x\u0000": 1}"#).unwrap_err();
        assert_eq!(field_of(e), "x\\u0000");
        // An escaped backslash before `u0000` is text, not NUL.
        assert!(from_json::<Changes>(br#"{"name": "\\u0000"}"#).is_ok());
    }

    #[test]
    fn nul_in_a_query_or_form_parameter_is_named() {
        let e = from_urlencoded::<PageQuery>(b"limit=5&cursor=a%00b").unwrap_err();
        assert_eq!(field_of(e), "cursor");
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
