//! What HTTP asks of every operation, applied once around all routes ([`apply`]): CORS for the
//! origins of `DUBAN_CORS_ORIGINS`, content negotiation (an `Accept` that admits nothing the
//! operation produces is answered 406), and conditional reads (every successful JSON read
//! carries a strong `ETag`; `If-None-Match` answers 304). Also the `RateLimit` headers of the
//! sign-in operations, and the parts of the OpenAPI document that describe all this.

use super::{pattern_matches, pattern_segments};
use crate::app::AppState;
use crate::domain::throttle::Quota;
use crate::error::{ApiError, PROBLEM_JSON};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse, ResponseError};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{
    ContentBuilder, OpenApi as OpenApiDoc, Ref, RefOr, Required, ResponseBuilder,
};

/// Response headers a browser page may read (`Access-Control-Expose-Headers`).
pub const EXPOSED_HEADERS: &str = "ETag, Location, Retry-After, Idempotency-Key, \
Idempotency-Replayed, RateLimit, RateLimit-Policy, X-Request-Id, Content-Disposition, \
X-Checksum-SHA256";

/// Request headers a browser page may send (`Access-Control-Allow-Headers`).
pub const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id, Accept";

/// How long a browser may keep a preflight answer, in seconds.
pub const PREFLIGHT_MAX_AGE: u32 = 3600;

/// What a JSON read may be cached as: by the browser only, and revalidated (with its ETag)
/// before every use.
const JSON_CACHE_CONTROL: &str = "private, no-cache";

/// File downloads are documented as any bytes: they answer in the file's own type.
const ANY_BYTES: &str = "application/octet-stream";

const JSON: &str = "application/json";

/// One operation's produced media types, from the document.
#[derive(Debug, Clone)]
struct Produces {
    segments: Vec<Option<String>>,
    method: &'static str,
    /// Media types (without parameters) of its success responses; empty: no body, or any.
    media: Vec<String>,
}

/// The data of the rules: the allowed origins and what each operation produces.
#[derive(Debug, Clone, Default)]
pub struct HttpRules {
    origins: Vec<String>,
    produces: Vec<Produces>,
}

fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn success_media(op: &Operation) -> Vec<String> {
    let mut media: Vec<String> = Vec::new();
    for (code, response) in &op.responses.responses {
        let RefOr::T(r) = response else { continue };
        if !code.starts_with('2') {
            continue;
        }
        for m in r.content.keys().map(|k| essence(k)) {
            if !media.contains(&m) {
                media.push(m);
            }
        }
    }
    if media.iter().any(|m| m == ANY_BYTES) {
        media.clear();
    }
    media
}

/// [`success_media`] of an operation of the JSON document.
fn success_media_json(op: &serde_json::Value) -> Vec<String> {
    let mut media: Vec<String> = Vec::new();
    for (code, response) in op["responses"].as_object().into_iter().flatten() {
        if !code.starts_with('2') {
            continue;
        }
        for m in response["content"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| essence(k))
        {
            if !media.contains(&m) {
                media.push(m);
            }
        }
    }
    if media.iter().any(|m| m == ANY_BYTES) {
        media.clear();
    }
    media
}

fn each_operation(
    doc: &mut OpenApiDoc,
) -> impl Iterator<Item = (&String, &'static str, &mut Operation)> {
    doc.paths.paths.iter_mut().flat_map(|(path, item)| {
        [
            ("GET", &mut item.get),
            ("POST", &mut item.post),
            ("PUT", &mut item.put),
            ("PATCH", &mut item.patch),
            ("DELETE", &mut item.delete),
        ]
        .into_iter()
        .filter_map(move |(m, op)| op.as_mut().map(|op| (path, m, op)))
    })
}

impl HttpRules {
    /// The rules for this document and these origins (from `DUBAN_CORS_ORIGINS`).
    pub fn new(doc: &serde_json::Value, origins: Vec<String>) -> Self {
        let mut produces = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
                let Some(op) = item.get(method.to_ascii_lowercase()) else {
                    continue;
                };
                produces.push(Produces {
                    segments: pattern_segments(path),
                    method,
                    media: success_media_json(op),
                });
            }
        }
        HttpRules { origins, produces }
    }

    /// The request's `Origin`, if it is one of the allowed origins.
    fn allowed_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?.to_ascii_lowercase();
        self.origins.contains(&text).then(|| origin.clone())
    }

    /// What the operation produces, when `Accept` matters for it.
    fn produces(&self, method: &Method, path: &str) -> Option<Vec<&str>> {
        let mut media: Vec<&str> = Vec::new();
        for p in &self.produces {
            if p.method == method.as_str() && pattern_matches(&p.segments, path) {
                if p.media.is_empty() {
                    return None;
                }
                media.extend(p.media.iter().map(String::as_str));
            }
        }
        (!media.is_empty()).then_some(media)
    }
}

/// The request's `Accept` header(s), joined; `None` when absent.
pub fn accept_header(headers: &HeaderMap) -> Option<String> {
    let parts: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// One media range of `Accept`: type, subtype and quality.
fn media_ranges(accept: &str) -> Vec<(String, String, f32)> {
    accept
        .split(',')
        .filter_map(|range| {
            let mut params = range.split(';');
            let (ty, sub) = params
                .next()?
                .trim()
                .to_ascii_lowercase()
                .split_once('/')
                .map(|(t, s)| (t.trim().to_owned(), s.trim().to_owned()))?;
            let q = params
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1.0), |(_, v)| v.trim().parse::<f32>().ok())?;
            (!ty.is_empty() && !sub.is_empty()).then_some((ty, sub, q.clamp(0.0, 1.0)))
        })
        .collect()
}

/// The quality `Accept` gives a media type: that of the most specific range matching it
/// (RFC 9110 §12.5.1); 0 when none does. Without `Accept` (or with none that parses),
/// everything is acceptable.
fn quality(accept: Option<&str>, media: &str) -> f32 {
    let ranges = accept.map(media_ranges).unwrap_or_default();
    if ranges.is_empty() {
        return 1.0;
    }
    let (ty, sub) = media.split_once('/').unwrap_or((media, ""));
    ranges
        .iter()
        .filter_map(|(t, s, q)| {
            let specificity = match (t.as_str(), s.as_str()) {
                (t, s) if t == ty && s == sub => 2,
                (t, "*") if t == ty => 1,
                ("*", "*") => 0,
                _ => return None,
            };
            Some((specificity, *q))
        })
        .max_by_key(|(specificity, _)| *specificity)
        .map_or(0.0, |(_, q)| q)
}

/// Whether `Accept` admits this media type.
pub fn acceptable(accept: Option<&str>, media: &str) -> bool {
    quality(accept, media) > 0.0
}

/// Of the media types offered (in the server's order of preference), the one `Accept` likes
/// best; `None` when it admits none.
pub fn preferred<'a>(accept: Option<&str>, offered: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(&str, f32)> = None;
    for m in offered {
        let q = quality(accept, m);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((m, q));
        }
    }
    best.map(|(m, _)| m)
}

/// A strong validator computed from the bytes of a representation.
pub fn strong_etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Weak comparison of `If-None-Match` with the current ETag (RFC 9110 §13.1.2): `*` matches any
/// current representation, and `W/"x"` matches `"x"`.
pub fn none_match_hits(if_none_match: &str, etag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let current = opaque(etag);
    if_none_match.trim() == "*" || if_none_match.split(',').any(|t| opaque(t) == current)
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| essence(v) == JSON)
}

/// A successful read gets its ETag (computed from the body when the handler set none and the
/// body is JSON held in memory; streamed files are left alone), and 304 when `If-None-Match`
/// names it.
fn conditional(
    res: ServiceResponse<BoxBody>,
    if_none_match: Option<String>,
) -> ServiceResponse<BoxBody> {
    if res.status() != StatusCode::OK {
        return res;
    }
    let (req, mut response) = res.into_parts();
    let json = is_json(response.headers());
    if json && !response.headers().contains_key(header::ETAG) {
        let (head, body) = response.into_parts();
        response = match body.try_into_bytes() {
            Ok(bytes) => {
                let tag = strong_etag(&bytes);
                let mut r = head.set_body(BoxBody::new(bytes));
                if let Ok(v) = HeaderValue::from_str(&tag) {
                    r.headers_mut().insert(header::ETAG, v);
                }
                r
            }
            Err(body) => head.set_body(body),
        };
    }
    if json && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(JSON_CACHE_CONTROL),
        );
    }
    let etag = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let (Some(inm), Some(etag)) = (if_none_match, etag) {
        if none_match_hits(&inm, &etag) {
            let mut not_modified = HttpResponse::NotModified().finish();
            for name in [
                header::ETAG,
                header::CACHE_CONTROL,
                header::VARY,
                header::CONTENT_LOCATION,
                header::EXPIRES,
            ] {
                for v in response.headers().get_all(&name) {
                    not_modified.headers_mut().append(name.clone(), v.clone());
                }
            }
            return ServiceResponse::new(req, not_modified);
        }
    }
    ServiceResponse::new(req, response)
}

/// The answer to a CORS preflight on a documented path: 204 for an allowed origin asking for a
/// method the path answers to, 405 (with `Allow`) for another method, 403 for any other origin.
fn preflight(origin: Option<&HeaderValue>, allow: Vec<String>, requested: &str) -> HttpResponse {
    if origin.is_none() {
        return ApiError::Forbidden(
            "this origin may not call the API from a browser (it is not in DUBAN_CORS_ORIGINS)"
                .into(),
        )
        .error_response();
    }
    if !allow.iter().any(|m| m == requested) {
        return ApiError::MethodNotAllowed { allow }.error_response();
    }
    HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, allow.join(", ")))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
        .insert_header((
            header::ACCESS_CONTROL_MAX_AGE,
            PREFLIGHT_MAX_AGE.to_string(),
        ))
        .finish()
}

/// What every answer gets: CORS headers for an allowed origin (`Vary: Origin` whenever CORS is
/// on), `Vary: Accept` where the operation has several media types, and `Retry-After` on every
/// 429 and 503.
fn decorate(
    mut res: ServiceResponse<BoxBody>,
    origin: Option<HeaderValue>,
    cors_on: bool,
    vary_accept: bool,
) -> ServiceResponse<BoxBody> {
    let headers = res.headers_mut();
    if cors_on {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    if vary_accept {
        headers.append(header::VARY, HeaderValue::from_static("Accept"));
    }
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
    let status = res.status();
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) && !res.headers().contains_key(header::RETRY_AFTER)
    {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    res
}

/// The middleware: preflights, 406, conditional reads and the headers every answer gets.
pub async fn apply(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let rules = &state.http;
    let origin = rules.allowed_origin(req.headers());
    let cors_on = !rules.origins.is_empty();
    let requested = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let (&Method::OPTIONS, true, Some(requested)) = (
        req.method(),
        req.headers().contains_key(header::ORIGIN),
        requested,
    ) {
        if let Some(allow) = state.routes.allowed(req.path()) {
            let res = preflight(origin.as_ref(), allow, &requested);
            return Ok(decorate(req.into_response(res), origin, cors_on, false));
        }
    }
    let mut vary_accept = false;
    if let Some(media) = rules.produces(req.method(), req.path()) {
        let accept = accept_header(req.headers());
        if !media.iter().any(|m| acceptable(accept.as_deref(), m)) {
            let e = ApiError::NotAcceptable(format!(
                "this operation produces {}; the Accept header admits none of them",
                media.join(", ")
            ));
            let res = req.into_response(e.error_response());
            return Ok(decorate(res, origin, cors_on, media.len() > 1));
        }
        vary_accept = media.len() > 1;
    }
    let if_none_match = (req.method() == Method::GET).then(|| {
        req.headers()
            .get_all(header::IF_NONE_MATCH)
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ")
    });
    let is_get = if_none_match.is_some();
    let res = next.call(req).await?.map_into_boxed_body();
    let res = if is_get {
        conditional(res, if_none_match.filter(|v| !v.is_empty()))
    } else {
        res
    };
    Ok(decorate(res, origin, cors_on, vary_accept))
}

/// Adds `RateLimit-Policy` and `RateLimit` (IETF draft "RateLimit header fields for HTTP",
/// structured-field form) for the sign-in limits: the quota counts failed attempts.
pub fn with_rate_limits(res: &mut HttpResponse, quotas: &[Quota]) {
    let policy = quotas
        .iter()
        .map(|q| {
            format!(
                "\"{}\";q={};w={}",
                q.name,
                q.limits.allowed,
                q.limits.window.num_seconds()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let limit = quotas
        .iter()
        .map(|q| {
            format!(
                "\"{}\";r={};t={}",
                q.name, q.standing.remaining, q.standing.reset_secs
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    for (name, value) in [("RateLimit-Policy", policy), ("RateLimit", limit)] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(
                header::HeaderName::from_static(if name == "RateLimit" {
                    "ratelimit"
                } else {
                    "ratelimit-policy"
                }),
                v,
            );
        }
    }
}

fn integer_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Object::with_type(Type::Integer))
        .description(Some(description))
        .build()
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Object::with_type(Type::String))
        .description(Some(description))
        .build()
}

/// Whether an operation answers errors in the OAuth 2.0 shape (its 400 is an `OAuthError`).
fn answers_oauth_errors(op: &Operation) -> bool {
    match op.responses.responses.get("400") {
        Some(RefOr::T(r)) => r.content.values().any(
            |c| matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/OAuthError")),
        ),
        _ => false,
    }
}

/// Describes the rules in the document: 406 wherever `Accept` matters, `If-None-Match` and 304
/// on every read with a JSON answer, `Retry-After` on every 429 and 503.
pub fn document(doc: &mut OpenApiDoc) {
    for (_, method, op) in each_operation(doc) {
        let media = success_media(op);
        if !media.is_empty() {
            let example = json!({
                "type": "/problems/not-acceptable",
                "title": "Not acceptable",
                "status": 406,
                "detail": format!(
                    "this operation produces {}; the Accept header admits none of them",
                    media.join(", ")
                ),
            });
            let response = ResponseBuilder::new()
                .description(
                    "The `Accept` header admits none of the media types this operation produces",
                )
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .example(Some(example))
                        .build(),
                )
                .build();
            op.responses
                .responses
                .entry("406".into())
                .or_insert(RefOr::T(response));
        }
        if method == "GET" && media.iter().any(|m| m == JSON) {
            let not_modified = ResponseBuilder::new()
                .description("Not modified: `If-None-Match` names the current ETag")
                .header("ETag", string_header("The current version"))
                .build();
            op.responses
                .responses
                .entry("304".into())
                .or_insert(RefOr::T(not_modified));
            if let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
                ok.headers.entry("ETag".into()).or_insert_with(|| {
                    string_header("A strong validator of this answer, for `If-None-Match`")
                });
            }
            let params = op.parameters.get_or_insert_with(Vec::new);
            if !params.iter().any(|p| p.name == "If-None-Match") {
                params.push(
                    ParameterBuilder::new()
                        .name("If-None-Match")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some(
                            "ETags of versions the client holds (weak comparison; `*` matches \
                             any): 304 when one is current",
                        ))
                        .schema(Some(Object::with_type(Type::String)))
                        .build(),
                );
            }
        }
        if answers_oauth_errors(op) {
            op.responses.responses.remove("422");
        }
        for (code, response) in op.responses.responses.iter_mut() {
            if code == "429" || code == "503" {
                if let RefOr::T(r) = response {
                    r.headers
                        .entry("Retry-After".into())
                        .or_insert_with(|| integer_header("Seconds to wait before trying again"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_range_decides() {
        let a = Some("text/*;q=0, text/csv, */*;q=0.1");
        assert!(acceptable(a, "text/csv"));
        assert!(!acceptable(a, "text/plain"));
        assert!(acceptable(a, "application/json"));
        assert!(!acceptable(Some("application/pdf"), "application/json"));
        assert!(acceptable(None, "application/json"));
        assert!(!acceptable(
            Some("application/json;q=0"),
            "application/json"
        ));
    }

    #[test]
    fn the_preferred_type_has_the_highest_quality_then_the_servers_order() {
        let offered = ["application/json", "text/csv"];
        assert_eq!(preferred(None, &offered), Some("application/json"));
        assert_eq!(preferred(Some("*/*"), &offered), Some("application/json"));
        assert_eq!(
            preferred(Some("application/json;q=0.5, text/csv"), &offered),
            Some("text/csv")
        );
        assert_eq!(preferred(Some("application/pdf"), &offered), None);
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(none_match_hits("W/\"a\"", "\"a\""));
        assert!(none_match_hits("\"b\", \"a\"", "\"a\""));
        assert!(none_match_hits("*", "\"a\""));
        assert!(!none_match_hits("\"b\"", "\"a\""));
    }
}
