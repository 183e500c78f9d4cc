//! The HTTP API: one module per resource, the route table, and the OpenAPI document.
//!
//! Every route is registered through utoipa-actix-web, so nothing is served undocumented; the
//! document is then completed with the error responses every operation shares.

pub mod assignments;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod contract;
pub mod desk;
pub mod disputes;
pub mod documents;
pub mod extensions;
pub mod extract;
pub mod groups;
pub mod http;
pub mod idempotency;
pub mod items;
pub mod ops;
pub mod plans;
pub mod report_batch;
pub mod reports;
pub mod sources;
pub mod stats;
pub mod units;
pub mod urges;
pub mod users;
pub mod views;
pub mod webhooks;

use crate::error::{ApiError, FieldError, Problem, PROBLEM_JSON};
use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::{web, HttpRequest};
use utoipa::openapi::path::{HttpMethod, Operation, PathItem};
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityRequirement,
    SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDoc, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, UtoipaApp};

/// The document's fixed parts: info, tags, shared schemas, security schemes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "duban 督办",
        description = "Assign the rule-of-law tasks of a city's coordinating office (依法治市办) to lead \
and participating units, collect their completion reports, chase overdue work and compile the \
summary tables.\n\nAll times are RFC 3339 UTC, all errors RFC 9457 `application/problem+json`. \
Lists use keyset pagination: pass `next_cursor` back as `cursor`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
        contact(name = "duban maintainers"),
    ),
    tags(
        (name = "auth", description = "Sign-in, tokens and the caller's own account"),
        (name = "units", description = "The unit directory (单位)"),
        (name = "users", description = "Accounts of people and department systems"),
        (name = "plans", description = "Annual plans (年度计划), their task tree, the summary table in and out"),
        (name = "assignments", description = "Measures assigned to lead and participating units"),
        (name = "reports", description = "Completion reports (完成情况) and their review"),
        (name = "groups", description = "Unit groups (市级有关部门, 区县政府, …)"),
        (name = "sources", description = "Source documents (任务来源) and traceability"),
        (name = "desk", description = "The office's desk: overdue and due-soon work, statistics, inboxes"),
        (name = "urges", description = "Reminders, urges and supervision (提醒 / 催办 / 督办)"),
        (name = "webhooks", description = "Signed event deliveries to department systems (事件推送)"),
        (name = "calendar", description = "The working-day calendar (工作日历): holidays and make-up working days (调休)"),
        (name = "audit", description = "The append-only audit trail"),
        (name = "ops", description = "Health, readiness and metrics"),
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut OpenApiDoc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from POST /api/v1/auth/login or /api/v1/auth/token",
                    ))
                    .build(),
            ),
        );
        let scopes = Scopes::from_iter(
            crate::domain::role::SERVICE_SCOPES
                .iter()
                .map(|s| (s.to_string(), format!("{s} of the account's own unit"))),
        );
        components.add_security_scheme(
            "client_credentials",
            SecurityScheme::OAuth2(OAuth2::new([Flow::ClientCredentials(
                ClientCredentials::new("/api/v1/auth/token", scopes),
            )])),
        );
        doc.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// Registers every route on an app.
pub fn register<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(ops::get_problem_type)
        .service(
            scope::scope("/api/v1")
                .service(ops::get_openapi)
                .service(auth::login)
                .service(auth::refresh)
                .service(auth::logout)
                .service(auth::token)
                .service(auth::get_me)
                .service(auth::change_my_password)
                .service(units::list_units)
                .service(units::create_unit)
                .service(units::get_unit)
                .service(units::update_unit)
                .service(users::list_users)
                .service(users::create_user)
                .service(users::get_user)
                .service(users::update_user)
                .service(users::reset_password)
                .service(users::rotate_client_secret)
                .service(audit::list_audit)
                .service(groups::list_groups)
                .service(groups::create_group)
                .service(groups::get_group)
                .service(groups::replace_group)
                .service(plans::list_plans)
                .service(plans::create_plan)
                .service(plans::get_plan)
                .service(plans::update_plan)
                .service(plans::publish_plan)
                .service(plans::close_plan)
                .service(items::get_plan_tree)
                .service(items::list_measures)
                .service(items::create_item)
                .service(items::update_item)
                .service(documents::get_summary)
                .service(documents::import_plan_table)
                .service(documents::get_annual_report)
                .service(sources::list_sources)
                .service(sources::create_source)
                .service(sources::get_source)
                .service(assignments::list_assignments)
                .service(assignments::reschedule_assignments)
                .service(assignments::get_assignment)
                .service(assignments::assign_measure)
                .service(assignments::update_assignment)
                .service(assignments::delete_assignment)
                .service(assignments::receive_assignment)
                .service(assignments::get_assignment_timeline)
                .service(assignments::receive_plan)
                .service(extensions::create_extension_request)
                .service(extensions::list_extension_requests)
                .service(extensions::get_extension_request)
                .service(extensions::approve_extension_request)
                .service(extensions::reject_extension_request)
                .service(disputes::create_dispute)
                .service(disputes::list_disputes)
                .service(disputes::get_dispute)
                .service(disputes::resolve_dispute)
                .service(attachments::upload_attachment)
                .service(attachments::list_attachments)
                .service(attachments::download_attachment)
                .service(attachments::delete_attachment)
                .service(calendar::count_working_days)
                .service(calendar::list_calendar)
                .service(calendar::add_calendar_day)
                .service(calendar::change_calendar_day)
                .service(calendar::remove_calendar_day)
                .service(report_batch::batch_reports)
                .service(reports::list_reports)
                .service(reports::list_measure_reports)
                .service(reports::create_report)
                .service(reports::get_report)
                .service(reports::update_report)
                .service(reports::submit_report)
                .service(reports::accept_report)
                .service(reports::return_report)
                .service(reports::list_revisions)
                .service(desk::list_overdue)
                .service(desk::list_due_soon)
                .service(stats::stats_units)
                .service(stats::stats_sections)
                .service(stats::stats_sources)
                .service(stats::stats_plan)
                .service(desk::get_inbox)
                .service(urges::create_urge)
                .service(urges::list_urges)
                .service(urges::get_urge)
                .service(urges::acknowledge_urge)
                .service(urges::reply_urge)
                .service(webhooks::create_webhook)
                .service(webhooks::list_webhooks)
                .service(webhooks::get_webhook)
                .service(webhooks::update_webhook)
                .service(webhooks::delete_webhook)
                .service(webhooks::rotate_webhook_secret)
                .service(webhooks::ping_webhook)
                .service(webhooks::list_webhook_deliveries)
                .service(webhooks::redeliver_webhook_delivery),
        )
}

/// The default example of a status, built from the error the server answers it with (so
/// `type` and `title` are the ones it sends), and the response's default description.
/// [`contract`] then fits the details to each operation.
fn problem_example(status: u16) -> (&'static str, serde_json::Value) {
    let (error, description) = match status {
        400 => (
            ApiError::BadRequest {
                detail: "the body is not valid JSON: EOF while parsing an object".into(),
                errors: vec![],
            },
            "The body or a parameter could not be parsed",
        ),
        401 => (
            ApiError::Unauthorized("the access token is invalid or has expired".into()),
            "No valid credentials",
        ),
        403 => (
            ApiError::Forbidden("your role may not do this".into()),
            "The caller's role or unit may not do this",
        ),
        404 => (
            ApiError::NotFound("no such record".into()),
            "No such record, or not one the caller may see",
        ),
        409 => (
            ApiError::Conflict {
                detail: "a record with this value already exists".into(),
                field: None,
            },
            "Conflicts with the current state",
        ),
        406 => (
            ApiError::NotAcceptable(
                "this operation produces application/json; the Accept header admits none of them"
                    .into(),
            ),
            "The Accept header admits none of the media types this operation answers with",
        ),
        412 => (
            ApiError::PreconditionFailed("the record has changed".into()),
            "The ETag in If-Match is not the current one",
        ),
        413 => (
            ApiError::PayloadTooLarge { limit: 1048576 },
            "The body exceeds the configured limit",
        ),
        415 => (
            ApiError::UnsupportedMediaType(
                "send the body as application/json, not text/plain".into(),
            ),
            "The body is not in a media type this operation accepts",
        ),
        422 => (
            ApiError::invalid(
                "username",
                "must be 3 to 64 characters: letters, digits, '.', '_', '-' or '@'",
            ),
            "A field is not valid; `errors` names each",
        ),
        428 => (
            ApiError::PreconditionRequired(
                "send If-Match with the ETag of the version you edited".into(),
            ),
            "If-Match is missing",
        ),
        429 => (
            ApiError::TooManyRequests {
                retry_after_secs: 30,
                detail: "too many failed sign-ins for this account or address".into(),
            },
            "Too many attempts; see Retry-After",
        ),
        500 => (
            ApiError::internal("logged"),
            "An unexpected error (logged with the request id)",
        ),
        _ => (
            ApiError::Unavailable("unreachable".into()),
            "The database is unreachable; retry later",
        ),
    };
    let example = serde_json::to_value(error.problem()).unwrap_or_default();
    (description, example)
}

fn problem_response(status: u16, description: Option<String>) -> utoipa::openapi::Response {
    let (default_description, example) = problem_example(status);
    ResponseBuilder::new()
        .description(description.unwrap_or_else(|| default_description.to_owned()))
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .example(Some(example))
                .build(),
        )
        .build()
}

fn complete_operation(op: &mut Operation, secured: bool) {
    let mut statuses: Vec<u16> = vec![500, 503];
    if secured {
        statuses.extend([401, 403]);
    }
    if op.request_body.is_some() {
        statuses.extend([400, 413, 415, 422]);
    }
    let has_query = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query));
    let mut has_key = false;
    for p in op.parameters.iter_mut().flatten() {
        if p.name == idempotency::HEADER {
            p.schema = Some(idempotency_key_schema());
            has_key = true;
        }
    }
    if has_query || has_key {
        statuses.push(422);
    }
    for status in statuses {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(problem_response(status, None)));
    }
    for (code, response) in op.responses.responses.iter_mut() {
        let status: u16 = code.parse().unwrap_or(0);
        if let RefOr::T(r) = response {
            if status >= 400 && r.content.is_empty() {
                let headers = std::mem::take(&mut r.headers);
                *r = problem_response(status, Some(r.description.clone()));
                r.headers = headers;
            }
        }
    }
    let mut sorted: Vec<_> = std::mem::take(&mut op.responses.responses)
        .into_iter()
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    op.responses.responses.extend(sorted);
}

/// What [`idempotency::Idempotency::new`] accepts (else 422 naming the header).
fn idempotency_key_schema() -> RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    RefOr::T(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(200))
            .pattern(Some("^[!-~]{1,200}$"))
            .build()
            .into(),
    )
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(|o| o.as_mut())
}

/// Completes the generated document: every operation gets the problem responses it can
/// produce (auth failures when secured, body errors when it takes a body, 500 and 503 always),
/// each with the `Problem` schema and an example; then what [`contract`] states of each
/// operation (security, description, examples fitted to it, required response fields).
pub fn finish(mut doc: OpenApiDoc) -> serde_json::Value {
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            let secured = match &op.security {
                None => true,
                Some(reqs) => !reqs.iter().all(|r| *r == SecurityRequirement::default()),
            };
            complete_operation(op, secured);
        }
    }
    http::document(&mut doc);
    let mut value = serde_json::to_value(&doc).expect("the document is JSON");
    contract::complete(&mut value);
    value
}

/// The complete OpenAPI document (also what `duban openapi` prints and the committed
/// `openapi/openapi.json` must equal).
pub fn openapi() -> serde_json::Value {
    let (_, doc) = register(actix_web::App::new().into_utoipa_app()).split_for_parts();
    finish(doc)
}

use utoipa_actix_web::AppExt;

/// The documented paths and their methods, to tell 405 from 404.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Option<String>>, Vec<&'static str>)>,
}

fn method_name(m: &HttpMethod) -> &'static str {
    match m {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Head => "HEAD",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Trace => "TRACE",
    }
}

impl RouteTable {
    /// Builds the table from the document.
    pub fn from_doc(doc: &serde_json::Value) -> Self {
        let routes = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, item)| {
                let segments = pattern_segments(path);
                let methods = [
                    HttpMethod::Get,
                    HttpMethod::Post,
                    HttpMethod::Put,
                    HttpMethod::Patch,
                    HttpMethod::Delete,
                ]
                .iter()
                .filter(|m| item.get(method_name(m).to_lowercase()).is_some())
                .map(method_name)
                .collect();
                (segments, methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// The documented paths matching `path`, with how many of their segments are literal.
    fn matching<'a>(
        &'a self,
        path: &'a str,
    ) -> impl Iterator<Item = (usize, &'a [&'static str])> + 'a {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.routes.iter().filter_map(move |(segments, methods)| {
            let matches = segments.len() == parts.len()
                && segments
                    .iter()
                    .zip(&parts)
                    .all(|(s, p)| s.as_deref().is_none_or(|lit| lit == *p) && !p.is_empty());
            matches.then(|| (segments.iter().flatten().count(), methods.as_slice()))
        })
    }

    /// The methods a path answers to, if it is a documented path: those of the most specific
    /// documented path matching it (the one with the most literal segments:
    /// `/assignments/reschedule` rather than `/assignments/{id}`).
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let most = self.matching(path).map(|(literal, _)| literal).max()?;
        Some(
            self.matching(path)
                .filter(|(literal, _)| *literal == most)
                .flat_map(|(_, methods)| methods.iter().map(|m| m.to_string()))
                .collect(),
        )
    }
}

/// A documented path as segments: literals, and `None` for each `{parameter}`.
pub(crate) fn pattern_segments(pattern: &str) -> Vec<Option<String>> {
    pattern
        .trim_matches('/')
        .split('/')
        .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
        .collect()
}

/// Whether a request path fits a documented path's segments.
pub(crate) fn pattern_matches(segments: &[Option<String>], path: &str) -> bool {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    segments.len() == parts.len()
        && segments
            .iter()
            .zip(&parts)
            .all(|(s, p)| s.as_deref().is_none_or(|lit| lit == *p) && !p.is_empty())
}

/// Answers what no route matched: 405 with `Allow` for a known path, else 404.
pub async fn fallback(
    req: HttpRequest,
    state: web::Data<crate::app::AppState>,
) -> Result<actix_web::HttpResponse, ApiError> {
    Err(match state.routes.allowed(req.path()) {
        Some(allow) => ApiError::MethodNotAllowed { allow },
        None => ApiError::NotFound(format!("no resource at {}", req.path())),
    })
}

/// The client's address for throttling: the peer, or with `DUBAN_TRUST_PROXY` the first
/// `X-Forwarded-For` entry.
pub fn client_address(req: &HttpRequest, trust_proxy: bool) -> String {
    if trust_proxy {
        if let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        {
            return first.trim().to_owned();
        }
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
