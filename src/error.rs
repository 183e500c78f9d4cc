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

/// A kind of problem: its `type` is `/problems/{slug}`, and duban serves a page describing it
/// there.
#[derive(Debug, Clone, Copy)]
pub struct ProblemType {
    /// The last segment of the `type` URI.
    pub slug: &'static str,
    /// The `title` of every problem of this type.
    pub title: &'static str,
    /// The HTTP status it comes with.
    pub status: u16,
    /// When it happens.
    pub when: &'static str,
    /// What the client can do about it.
    pub what_to_do: &'static str,
}

impl ProblemType {
    /// The type with this slug.
    pub fn find(slug: &str) -> Option<&'static ProblemType> {
        PROBLEM_TYPES.iter().find(|t| t.slug == slug)
    }
}

const fn pt(
    slug: &'static str,
    title: &'static str,
    status: u16,
    when: &'static str,
    what_to_do: &'static str,
) -> ProblemType {
    ProblemType {
        slug,
        title,
        status,
        when,
        what_to_do,
    }
}

/// Every problem type the server answers with: the one table the errors, the OpenAPI
/// document's examples and the pages at `/problems/{slug}` are made from.
pub const PROBLEM_TYPES: &[ProblemType] = &[
    pt("bad-request", "The request could not be read", 400,
       "The body is not valid JSON or a parameter cannot be parsed (`detail` says where).",
       "Fix the request; sending it again unchanged fails again."),
    pt("validation", "The request is not valid", 422,
       "The request parsed but a field breaks a rule: too long, out of range, unknown, missing. `errors` names every offending field, parameter or header.",
       "Correct the fields named in `errors` and send the request again."),
    pt("unauthorized", "Authentication is required", 401,
       "No access token was sent, it has expired or been revoked, or a password or client secret is wrong.",
       "Sign in again (POST /api/v1/auth/login or /api/v1/auth/token), or refresh the token."),
    pt("forbidden", "Not allowed", 403,
       "The caller is known, but its role, its unit or its token's scopes do not allow this.",
       "Ask for it as an account that may, or have the account's scopes widened; `detail` names what is missing."),
    pt("not-found", "Not found", 404,
       "Nothing with this id exists, or not one the caller may see (another unit's work, a draft plan).",
       "Check the id; a unit's accounts see only their own unit's work."),
    pt("method-not-allowed", "Method not allowed", 405,
       "The path exists but does not answer to this method; `Allow` lists those it answers to.",
       "Use one of the methods in `Allow`."),
    pt("conflict", "Conflict with the current state", 409,
       "The request clashes with the record as it is now: a name or number taken, a report already submitted, a plan closed.",
       "Read the record again and decide; `detail` says what stands in the way."),
    pt("precondition-failed", "The version is stale", 412,
       "The ETag sent in If-Match is no longer the record's: someone changed it since it was read.",
       "Read it again (GET), apply the change to the current version and send it with the new ETag."),
    pt("precondition-required", "If-Match is required", 428,
       "An update came without If-Match.",
       "Send If-Match with the ETag of the version you edited (from the GET that read it)."),
    pt("payload-too-large", "The body is too large", 413,
       "The request body exceeds the configured limit.",
       "Send less: split the request, or upload large files through the attachment endpoint."),
    pt("unsupported-media-type", "Unsupported media type", 415,
       "The body is in a media type the operation does not take, or an uploaded file's content is of a type not accepted.",
       "Send the body as the operation documents (usually application/json); `detail` names what is accepted."),
    pt("file-too-large", "The file is too large", 413,
       "An uploaded file is larger than a limit; `detail` names the limit and the setting that sets it.",
       "Upload a smaller file, or ask the operator to raise the limit."),
    pt("not-acceptable", "Not acceptable", 406,
       "The Accept header admits none of the media types the operation answers with; `detail` lists them.",
       "Accept one of the listed types (or */*); problem details are always sent as application/problem+json."),
    pt("too-many-requests", "Too many attempts", 429,
       "Too many failed sign-ins for an account or from an address.",
       "Wait the seconds in Retry-After before trying again."),
    pt("in-progress", "The same request is in progress", 409,
       "A request with the same Idempotency-Key is still being processed.",
       "Wait the seconds in Retry-After, then send it again with the same key to get its answer."),
    pt("unavailable", "The service is unavailable", 503,
       "The database or the file storage cannot be reached.",
       "Retry after the seconds in Retry-After; the request was not carried out."),
    pt("overloaded", "The service is busy", 503,
       "Too many password checks are already waiting.",
       "Retry after the seconds in Retry-After."),
    pt("internal", "Internal error", 500,
       "Something unexpected failed; the cause is logged with the request id.",
       "Retry later, and report the X-Request-Id of the response if it persists."),
];

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

    fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "bad-request",
            ApiError::Validation(_) => "validation",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::MethodNotAllowed { .. } => "method-not-allowed",
            ApiError::Conflict { .. } => "conflict",
            ApiError::PreconditionFailed(_) => "precondition-failed",
            ApiError::PreconditionRequired(_) => "precondition-required",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::UnsupportedMediaType(_) | ApiError::FileTypeRefused { .. } => {
                "unsupported-media-type"
            }
            ApiError::FileTooLarge { .. } => "file-too-large",
            ApiError::NotAcceptable(_) => "not-acceptable",
            ApiError::TooManyRequests { .. } => "too-many-requests",
            ApiError::InProgress { .. } => "in-progress",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::Internal(_) => "internal",
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        let slug = self.slug();
        (slug, ProblemType::find(slug).map_or("Error", |t| t.title))
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
            // The database went away, or this transaction gave way to another it was waiting
            // for (a retry succeeds).
            E::DatabaseError(
                K::ClosedConnection | K::UnableToSendCommand | K::SerializationFailure,
                info,
            ) => ApiError::Unavailable(info.message().to_owned()),
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
    message.contains("database is locked")
        || message.contains("database is busy")
        || message.contains("deadlock detected")
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
    fn every_error_names_a_problem_type_of_the_table_with_its_status() {
        let d = || "x".to_string();
        let all = [
            ApiError::BadRequest {
                detail: d(),
                errors: vec![],
            },
            ApiError::Validation(vec![]),
            ApiError::Unauthorized(d()),
            ApiError::Forbidden(d()),
            ApiError::NotFound(d()),
            ApiError::MethodNotAllowed { allow: vec![] },
            ApiError::Conflict {
                detail: d(),
                field: None,
            },
            ApiError::PreconditionFailed(d()),
            ApiError::PreconditionRequired(d()),
            ApiError::PayloadTooLarge { limit: 1 },
            ApiError::UnsupportedMediaType(d()),
            ApiError::FileTooLarge {
                field: d(),
                limit: 1,
                setting: "X",
            },
            ApiError::FileTypeRefused {
                field: d(),
                detail: d(),
            },
            ApiError::TooManyRequests {
                retry_after_secs: 1,
                detail: d(),
            },
            ApiError::InProgress {
                retry_after_secs: 1,
                detail: d(),
            },
            ApiError::Unavailable(d()),
            ApiError::Overloaded {
                retry_after_secs: 1,
                detail: d(),
            },
            ApiError::Internal(d()),
        ];
        for e in all {
            let p = e.problem();
            let slug = p.problem_type.trim_start_matches("/problems/");
            let t = ProblemType::find(slug).unwrap_or_else(|| panic!("{slug} is not in the table"));
            assert_eq!((t.title, t.status), (p.title.as_str(), p.status), "{slug}");
        }
    }

    #[test]
    fn a_unique_violation_is_a_conflict() {
        let e: ApiError = diesel::result::Error::NotFound.into();
        assert_eq!(e.status_code(), StatusCode::NOT_FOUND);
    }
}
