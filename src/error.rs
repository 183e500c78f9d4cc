//! One error type for the whole API, rendered as RFC 9457 `application/problem+json`.
//!
//! Handlers and extractors return [`ApiError`]; diesel and pool errors are mapped here once.
//! Causes of internal failures are logged with the request and never sent to the client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One offending input field of a validation problem.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Where the value sits in the request: a JSON path such as `username` or `members[2].id`,
    /// a query parameter, or a header name.
    #[schema(example = "username")]
    pub field: String,
    /// What is wrong with it, in words.
    #[schema(example = "must be 3 to 64 characters: letters, digits, '.', '_' or '-'")]
    pub message: String,
}

impl FieldError {
    /// A field error from anything printable.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document, the body of every error response.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation",
    "title": "The request is not valid",
    "status": 422,
    "detail": "1 field is not valid",
    "errors": [{"field": "username", "message": "must not be empty"}]
}))]
pub struct Problem {
    /// A stable identifier of the kind of problem, a URI reference such as `/problems/not-found`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem; the same for every occurrence of one `type`.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, in words.
    pub detail: String,
    /// For validation problems: every offending field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every way a request can fail.
#[derive(Debug)]
pub enum ApiError {
    /// The body or parameters did not parse (malformed JSON, wrong type, missing field).
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The input parsed but broke a rule (too short, unknown role, …).
    Validation(Vec<FieldError>),
    /// No valid credentials were presented.
    Unauthorized(String),
    /// The caller is known but may not do this.
    Forbidden(String),
    /// The thing named does not exist, or the caller may not know that it does.
    NotFound(String),
    /// The path exists but not with this method.
    MethodNotAllowed { allow: Vec<String> },
    /// The request clashes with the current state (a duplicate name, a stale transition).
    Conflict {
        detail: String,
        field: Option<String>,
    },
    /// `If-Match` named a version that is no longer current.
    PreconditionFailed(String),
    /// An update came without `If-Match`.
    PreconditionRequired(String),
    /// The body is larger than the configured limit.
    PayloadTooLarge { limit: usize },
    /// The body is not in a media type the endpoint accepts.
    UnsupportedMediaType(String),
    /// `Accept` admits none of the media types the operation produces (named in the detail).
    NotAcceptable(String),
    /// An uploaded file is larger than a limit: which part (`field`), the limit in bytes, and
    /// the setting that sets it.
    FileTooLarge {
        field: String,
        limit: u64,
        setting: &'static str,
    },
    /// An uploaded file's content is not of a type accepted (`detail` names those).
    FileTypeRefused { field: String, detail: String },
    /// Too many attempts; try again after this many seconds.
    TooManyRequests {
        retry_after_secs: u64,
        detail: String,
    },
    /// A request with the same `Idempotency-Key` is still running; try again after this many
    /// seconds.
    InProgress {
        retry_after_secs: u64,
        detail: String,
    },
    /// The database is unreachable or the pool is exhausted.
    Unavailable(String),
    /// Too much work of one kind is already waiting (password checks); try again after this
    /// many seconds.
    Overloaded {
        retry_after_secs: u64,
        detail: String,
    },
    /// Anything else: logged with its cause, answered opaquely.
    Internal(String),
}

impl ApiError {
    /// A validation problem with a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// An internal failure whose cause is logged, not shown.
    pub fn internal(cause: impl fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest { .. } => ("bad-request", "The request could not be read"),
            ApiError::Validation(_) => ("validation", "The request is not valid"),
            ApiError::Unauthorized(_) => ("unauthorized", "Authentication is required"),
            ApiError::Forbidden(_) => ("forbidden", "Not allowed"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            ApiError::Conflict { .. } => ("conflict", "Conflict with the current state"),
            ApiError::PreconditionFailed(_) => ("precondition-failed", "The version is stale"),
            ApiError::PreconditionRequired(_) => ("precondition-required", "If-Match is required"),
            ApiError::PayloadTooLarge { .. } => ("payload-too-large", "The body is too large"),
            ApiError::UnsupportedMediaType(_) | ApiError::FileTypeRefused { .. } => {
                ("unsupported-media-type", "Unsupported media type")
            }
            ApiError::FileTooLarge { .. } => ("file-too-large", "The file is too large"),
            ApiError::NotAcceptable(_) => ("not-acceptable", "Not acceptable"),
            ApiError::TooManyRequests { .. } => ("too-many-requests", "Too many attempts"),
            ApiError::InProgress { .. } => ("in-progress", "The same request is in progress"),
            ApiError::Unavailable(_) => ("unavailable", "The service is unavailable"),
            ApiError::Overloaded { .. } => ("overloaded", "The service is busy"),
            ApiError::Internal(_) => ("internal", "Internal error"),
        }
    }

    /// The problem document this error is answered with.
    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let (detail, errors) = match self {
            ApiError::BadRequest { detail, errors } => (detail.clone(), errors.clone()),
            ApiError::Validation(errors) => {
                let n = errors.len();
                let detail = if n == 1 {
                    format!("{}: {}", errors[0].field, errors[0].message)
                } else {
                    format!("{n} fields are not valid")
                };
                (detail, errors.clone())
            }
            ApiError::Conflict { detail, field } => (
                detail.clone(),
                field
                    .iter()
                    .map(|f| FieldError::new(f.clone(), detail.clone()))
                    .collect(),
            ),
            ApiError::MethodNotAllowed { allow } => (
                format!("this resource answers to {}", allow.join(", ")),
                vec![],
            ),
            ApiError::PayloadTooLarge { limit } => (
                format!("the body exceeds the limit of {limit} bytes"),
                vec![],
            ),
            ApiError::FileTooLarge {
                field,
                limit,
                setting,
            } => {
                let detail = format!("the limit is {limit} bytes ({setting})");
                (detail.clone(), vec![FieldError::new(field.clone(), detail)])
            }
            ApiError::FileTypeRefused { field, detail } => (
                detail.clone(),
                vec![FieldError::new(field.clone(), detail.clone())],
            ),
            ApiError::TooManyRequests {
                detail,
                retry_after_secs,
            }
            | ApiError::InProgress {
                detail,
                retry_after_secs,
            }
            | ApiError::Overloaded {
                detail,
                retry_after_secs,
            } => (
                format!("{detail}; retry after {retry_after_secs} s"),
                vec![],
            ),
            ApiError::Unavailable(_) => (
                "the database or the file storage cannot be reached; try again".into(),
                vec![],
            ),
            ApiError::Internal(_) => (
                "an unexpected error occurred; it has been logged".into(),
                vec![],
            ),
            ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::PreconditionFailed(d)
            | ApiError::PreconditionRequired(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::NotAcceptable(d) => (d.clone(), vec![]),
        };
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            errors,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Internal(cause) | ApiError::Unavailable(cause) => {
                write!(f, "{}: {cause}", self.slug_and_title().1)
            }
            other => write!(f, "{}", other.problem().detail),
        }
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) | ApiError::FileTypeRefused { .. } => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ApiError::FileTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::InProgress { .. } => StatusCode::CONFLICT,
            ApiError::Unavailable(_) | ApiError::Overloaded { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(cause = %cause, "unavailable"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            }
            | ApiError::InProgress {
                retry_after_secs, ..
            }
            | ApiError::Overloaded {
                retry_after_secs, ..
            } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::MethodNotAllowed { allow } => {
                res.insert_header((header::ALLOW, allow.join(", ")));
            }
            ApiError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"duban\""));
            }
            ApiError::Unavailable(_) => {
                res.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        res.body(body)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => ApiError::NotFound("no such record".into()),
            E::DatabaseError(K::UniqueViolation, info) => ApiError::Conflict {
                detail: "a record with this value already exists".into(),
                field: info.column_name().map(str::to_owned),
            },
            E::DatabaseError(K::ForeignKeyViolation, _) => ApiError::Conflict {
                detail: "the record refers to, or is referred to by, another record".into(),
                field: None,
            },
            E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, info) => {
                ApiError::Unavailable(info.message().to_owned())
            }
            E::DatabaseError(_, ref info) if is_busy(info.message()) => {
                ApiError::Unavailable(info.message().to_owned())
            }
            E::DeserializationError(e) => {
                // diesel wraps the value's own error ("unknown Workflow stored: …") as the source.
                let mut cause = e.to_string();
                let mut next = e.source();
                while let Some(inner) = next {
                    cause.push_str(": ");
                    cause.push_str(&inner.to_string());
                    next = inner.source();
                }
                ApiError::Internal(cause)
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

fn is_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// The result type of handlers, stores and rules.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_problem_names_each_field() {
        let e = ApiError::Validation(vec![
            FieldError::new("username", "must not be empty"),
            FieldError::new("role", "unknown role"),
        ]);
        let p = e.problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.problem_type, "/problems/validation");
        assert_eq!(p.errors.len(), 2);
        assert_eq!(p.detail, "2 fields are not valid");
    }

    #[test]
    fn internal_causes_never_reach_the_body() {
        let e = ApiError::internal("SELECT * FROM users failed: secret detail");
        let body = serde_json::to_string(&e.problem()).unwrap();
        assert!(!body.contains("SELECT"));
        assert!(!body.contains("secret"));
    }

    #[test]
    fn a_unique_violation_is_a_conflict() {
        let e: ApiError = diesel::result::Error::NotFound.into();
        assert_eq!(e.status_code(), StatusCode::NOT_FOUND);
    }
}
