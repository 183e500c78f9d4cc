//! What the OpenAPI document states of each operation beyond what its handler declares: which
//! OAuth scopes a department system's token needs, and the refusals (403, 409) it answers with,
//! in the words the policy and the use cases use. One row per operation; [`complete`] turns
//! the table into security requirements, descriptions and per-operation problem examples.
//!
//! The access matrix (tests/api/matrix.rs) checks the scopes against the running server, and
//! tests/api/openapi.rs that every operation has a row.

mod schemas;

use crate::domain::scope::Scope::{self, *};
use crate::domain::text::NUL_MESSAGE;
use crate::error::PROBLEM_JSON;
use serde_json::{json, Value};

/// Which tokens of department systems (service accounts) may call an operation: one holding
/// every scope of at least one of these sets. Empty: none (people only, or anyone, see
/// [`Row::public`]); one empty set: any token of a department system.
pub type Systems = &'static [&'static [Scope]];

/// One operation's row.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The operationId (the handler's name).
    pub id: &'static str,
    /// Callable without credentials.
    pub public: bool,
    /// What a department system's token needs.
    pub systems: Systems,
    /// The refusal a caller without the right meets (`None`: nobody signed in is refused).
    pub forbidden: Option<&'static str>,
    /// The conflict with the current state it can answer with.
    pub conflict: Option<&'static str>,
    /// A field it rejects, and why (default: derived from the request).
    pub invalid: Option<(&'static str, &'static str)>,
}

const fn public(id: &'static str) -> Row {
    Row {
        id,
        public: true,
        systems: &[],
        forbidden: None,
        conflict: None,
        invalid: None,
    }
}

/// Department systems need the scopes of one of `systems`.
const fn op(id: &'static str, systems: Systems, forbidden: &'static str) -> Row {
    Row {
        id,
        public: false,
        systems,
        forbidden: Some(forbidden),
        conflict: None,
        invalid: None,
    }
}

/// People only.
const fn people(id: &'static str, forbidden: &'static str) -> Row {
    Row {
        systems: &[],
        ..op(id, &[], forbidden)
    }
}

/// What a unit's caller reads with either read scope (`unit_scope` in the policy).
const READS: Systems = &[&[AssignmentsRead], &[ReportsRead]];
const AR: Systems = &[&[AssignmentsRead]];
const RR: Systems = &[&[ReportsRead]];
const ANY: Systems = &[&[]];
const WH: Systems = &[&[WebhooksManage]];

impl Row {
    const fn conflict(mut self, detail: &'static str) -> Row {
        self.conflict = Some(detail);
        self
    }

    const fn invalid(mut self, field: &'static str, message: &'static str) -> Row {
        self.invalid = Some((field, message));
        self
    }

    const fn never_forbidden(mut self) -> Row {
        self.forbidden = None;
        self
    }
}

const NO_READ_SCOPE: &str = "your role may not read assignments without the assignments:read scope";
const OFFICE_BUILDS: &str = "your role may not change plans, groups, sources or assignments";
const MANAGES_USERS: &str =
    "a unit manager manages only reporters, managers and service accounts of its own unit";
const REVIEWS: &str = "your role may not review reports";
const DECIDES: &str = "your role may not decide units' requests";
const CALENDAR: &str = "your role may not change the working-day calendar";
const LACKS_RR: &str = "this token lacks the reports:read scope";
const KEEPS_WEBHOOKS: &str = "your role may not keep webhooks";
const PLAN_CLOSED: &str = "a closed plan cannot change";
const ASSIGNMENT_CLOSED: &str = "the plan is closed: its assignments are no longer signed for";

/// The table: every operation of the API.
#[rustfmt::skip]
pub const TABLE: &[Row] = &[
    public("healthz"),
    public("readyz"),
    public("metrics"),
    public("get_openapi"),
    public("get_problem_type"),
    public("login").invalid("username", "is required"),
    public("refresh"),
    public("logout"),
    public("token").invalid("client_id", "is required"),
    op("get_me", ANY, "").never_forbidden(),
    people("change_my_password", "a service account rotates its secret through an administrator"),
    op("list_units", AR, "your role may not read units without the assignments:read scope"),
    people("create_unit", "your role may not change units")
        .conflict("重庆市城市管理局 is already the name or alias of a unit"),
    op("get_unit", AR, "your role may not read units without the assignments:read scope"),
    people("update_unit", "your role may not change units")
        .conflict("市城管局 is already the name or alias of a unit"),
    people("list_users", "you may list only your own unit's accounts"),
    people("create_user", MANAGES_USERS).conflict("the username finance-reporter is taken"),
    people("get_user", "your role may not read user accounts"),
    people("update_user", MANAGES_USERS)
        .conflict("the last active admin cannot be demoted or deactivated"),
    people("reset_password", MANAGES_USERS),
    people("rotate_client_secret", MANAGES_USERS)
        .conflict("only service accounts have a client secret"),
    people("list_audit", "your role may not read the audit log"),
    op("list_groups", AR, "your role may not read units without the assignments:read scope"),
    people("create_group", OFFICE_BUILDS).conflict("区县政府 is already a group's name or alias"),
    op("get_group", AR, "your role may not read units without the assignments:read scope"),
    people("replace_group", OFFICE_BUILDS).conflict("区县政府 is already a group's name or alias"),
    op("list_plans", READS, NO_READ_SCOPE),
    people("create_plan", OFFICE_BUILDS),
    op("get_plan", READS, NO_READ_SCOPE),
    people("update_plan", OFFICE_BUILDS).conflict(PLAN_CLOSED),
    people("publish_plan", OFFICE_BUILDS).conflict("only a draft plan can be published"),
    people("close_plan", OFFICE_BUILDS).conflict("only a published plan can be closed"),
    op("get_plan_tree", READS, NO_READ_SCOPE),
    op("list_measures", READS, NO_READ_SCOPE),
    people("create_item", OFFICE_BUILDS).conflict(PLAN_CLOSED),
    people("update_item", OFFICE_BUILDS).conflict(PLAN_CLOSED),
    op("get_summary", RR, "a unit reads only its own answers"),
    people("import_plan_table", OFFICE_BUILDS)
        .conflict("the plan already has a task tree; import into an empty plan")
        .invalid("file", "send the file in the part `file`"),
    op("get_annual_report", RR, "a unit reads only its own answers"),
    op("list_sources", READS, NO_READ_SCOPE),
    people("create_source", OFFICE_BUILDS),
    op("get_source", READS, NO_READ_SCOPE),
    op("list_assignments", AR, "a unit sees only its own assignments"),
    people("reschedule_assignments", OFFICE_BUILDS),
    op("get_assignment", AR, NO_READ_SCOPE),
    people("delete_assignment", OFFICE_BUILDS).conflict(
        "reports were written on the assignment, so it is kept; move it to another unit or leave it to be answered",
    ),
    people("update_assignment", OFFICE_BUILDS).conflict(PLAN_CLOSED),
    people("assign_measure", OFFICE_BUILDS).conflict(PLAN_CLOSED),
    op("receive_assignment", &[&[AssignmentsRead, AssignmentsRespond]], "only the assigned unit answers for its assignments")
        .conflict(ASSIGNMENT_CLOSED),
    op("get_assignment_timeline", AR, NO_READ_SCOPE),
    op("receive_plan", &[&[AssignmentsRead, AssignmentsRespond]], "this token lacks the assignments:respond scope")
        .conflict(ASSIGNMENT_CLOSED),
    op("create_extension_request", &[&[AssignmentsRead, AssignmentsRespond]], "a reporter drafts; the unit manager asks the office")
        .conflict("extension request 7 on this assignment is still pending"),
    op("list_extension_requests", AR, "a unit sees only its own requests"),
    op("get_extension_request", AR, NO_READ_SCOPE),
    people("approve_extension_request", DECIDES).conflict("the request is approved already"),
    people("reject_extension_request", DECIDES).conflict("the request is rejected already"),
    op("create_dispute", &[&[AssignmentsRead, AssignmentsRespond]], "a reporter drafts; the unit manager asks the office")
        .conflict("dispute 7 on this assignment is still pending"),
    op("list_disputes", AR, "a unit sees only its own requests"),
    op("get_dispute", AR, NO_READ_SCOPE),
    people("resolve_dispute", DECIDES).conflict("the dispute is resolved already"),
    op("list_attachments", RR, LACKS_RR),
    op("upload_attachment", &[&[ReportsRead, ReportsWrite]], "this token lacks the reports:write scope")
        .conflict("a submitted report cannot be edited")
        .invalid("file", "the file is empty"),
    op("download_attachment", RR, LACKS_RR),
    op("delete_attachment", &[&[ReportsRead, ReportsWrite]], "this token lacks the reports:write scope")
        .conflict("a submitted report cannot be edited"),
    op("count_working_days", ANY, "").never_forbidden().invalid("days", "give either days or to"),
    op("list_calendar", ANY, "").never_forbidden(),
    people("add_calendar_day", CALENDAR).conflict("2019-10-12 is already in the calendar: change it instead"),
    people("change_calendar_day", CALENDAR),
    people("remove_calendar_day", CALENDAR),
    op("list_reports", RR, LACKS_RR),
    op("list_measure_reports", RR, LACKS_RR),
    op("create_report", &[&[ReportsWrite]], "only the assigned unit's reporters and managers write its reports")
        .conflict("a report for 2019 exists; edit it instead"),
    op("get_report", RR, LACKS_RR),
    op("update_report", &[&[ReportsRead, ReportsWrite]], "this token lacks the reports:write scope")
        .conflict("a submitted report cannot be edited"),
    op("submit_report", &[&[ReportsRead, ReportsSubmit]], "a reporter drafts; the unit manager submits")
        .conflict("a submitted report cannot be submitted"),
    // Each item needs what its single operation needs; a batch that creates, edits and
    // submits what it reads back needs all three.
    op(
        "batch_reports",
        &[&[ReportsRead, ReportsWrite, ReportsSubmit]],
        "only a unit's reporters, managers and systems write reports",
    ),
    people("accept_report", REVIEWS).conflict("a draft report cannot be accepted"),
    people("return_report", REVIEWS).conflict("a draft report cannot be returned"),
    op("list_revisions", RR, LACKS_RR),
    op("list_overdue", AR, "a unit sees only its own work"),
    op("list_due_soon", AR, "a unit sees only its own work"),
    op("stats_units", AR, NO_READ_SCOPE),
    op("stats_sections", AR, NO_READ_SCOPE),
    op("stats_sources", AR, NO_READ_SCOPE),
    op("stats_plan", AR, NO_READ_SCOPE),
    op("get_inbox", AR, "a unit sees only its own work"),
    people("create_urge", REVIEWS),
    op("list_urges", READS, NO_READ_SCOPE).invalid("limit", "must be 1 to 200"),
    op("get_urge", READS, NO_READ_SCOPE),
    op("acknowledge_urge", &[&[AssignmentsRead, UrgesReply], &[ReportsRead, UrgesReply]], "only the urged unit answers an urge"),
    op("reply_urge", &[&[AssignmentsRead, UrgesReply], &[ReportsRead, UrgesReply]], "only the urged unit answers an urge"),
    op("create_webhook", WH, KEEPS_WEBHOOKS)
        .invalid("url", "must be an http:// or https:// URL")
        .conflict("the unit keeps 20 webhooks already, the most it may; delete one first"),
    op("list_webhooks", WH, KEEPS_WEBHOOKS).invalid("limit", "must be 1 to 200"),
    op("get_webhook", WH, KEEPS_WEBHOOKS),
    op("update_webhook", WH, KEEPS_WEBHOOKS).invalid("events", "'report.deleted' is not an event type"),
    op("delete_webhook", WH, KEEPS_WEBHOOKS),
    op("rotate_webhook_secret", WH, KEEPS_WEBHOOKS),
    op("ping_webhook", WH, KEEPS_WEBHOOKS),
    op("list_webhook_deliveries", WH, KEEPS_WEBHOOKS),
    op("redeliver_webhook_delivery", WH, KEEPS_WEBHOOKS),
];

/// The row of an operation.
pub fn row(id: &str) -> Option<&'static Row> {
    TABLE.iter().find(|r| r.id == id)
}

/// Where the document says the API is served: the origin that serves it, or a local server.
const SERVERS: &str = r#"[
  {"url": "/", "description": "The server that serves this document; every path starts at /api/v1 or is an operations endpoint"},
  {"url": "http://127.0.0.1:8080", "description": "A local server, as `cargo run --release` or the demo starts it"}
]"#;

/// Completes the document from the table: servers, each operation's security requirements,
/// description and problem examples, required response fields, and examples of bodies.
pub fn complete(doc: &mut Value) {
    doc["servers"] = serde_json::from_str(SERVERS).unwrap_or_default();
    schemas::merge_all_of(doc);
    let schemas = doc["components"]["schemas"].clone();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            for method in ["get", "put", "post", "delete", "patch"] {
                if let Some(op) = item.get_mut(method).filter(|o| o.is_object()) {
                    complete_operation(path, op, &schemas);
                }
            }
        }
    }
    schemas::mark_required(doc);
    schemas::drop_unused(doc);
    file_media_types(doc);
}

/// A stored file is served with the media type of its kind: the download's 200 lists each one
/// instead of the generator's `application/octet-stream`.
fn file_media_types(doc: &mut Value) {
    let ok = &mut doc["paths"]["/api/v1/attachments/{id}/content"]["get"]["responses"]["200"];
    let Some(content) = ok.get_mut("content").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(binary) = content.remove("application/octet-stream") else {
        return;
    };
    for kind in crate::domain::evidence::FileKind::ALL {
        content.insert(kind.content_type().to_owned(), binary.clone());
    }
}

fn complete_operation(path: &str, op: &mut Value, schemas: &Value) {
    let id = op["operationId"].as_str().unwrap_or_default().to_owned();
    if let Some(row) = row(&id) {
        if !row.public {
            let mut security = vec![json!({"bearer": []})];
            for set in row.systems {
                let names: Vec<&str> = set.iter().map(|s| s.as_str()).collect();
                security.push(json!({ "client_credentials": names }));
            }
            op["security"] = Value::Array(security);
        }
        describe(op, row);
    }
    let row = row(&id);
    let invalid = row
        .and_then(|r| r.invalid)
        .map(|(f, m)| (f.to_owned(), m.to_owned()))
        .or_else(|| derived_invalid(op, schemas));
    let resource = resource_of(path);
    if let Some(body) = op.get_mut("requestBody") {
        let contents = body.get_mut("content").and_then(Value::as_object_mut);
        for (media, content) in contents.into_iter().flatten() {
            if media.ends_with("json") && content.get("example").is_none() {
                if let Some(ex) =
                    schemas::example(&content["schema"], schemas, schemas::Side::Request)
                {
                    content["example"] = ex;
                }
            }
        }
    }
    let Some(responses) = op["responses"].as_object_mut() else {
        return;
    };
    if row.is_some_and(|r| r.forbidden.is_none()) {
        responses.remove("403");
    }
    for (code, response) in responses.iter_mut() {
        let status: u16 = code.parse().unwrap_or(0);
        let contents = response.get_mut("content").and_then(Value::as_object_mut);
        for (media, content) in contents.into_iter().flatten() {
            if media == PROBLEM_JSON {
                if let Some(example) = content.get_mut("example") {
                    problem_detail(example, status, row, &resource, invalid.as_ref());
                }
            } else if media.ends_with("json") && content.get("example").is_none() {
                if let Some(ex) =
                    schemas::example(&content["schema"], schemas, schemas::Side::Response)
                {
                    content["example"] = ex;
                }
            }
        }
    }
}

/// The operation's description: its handler's words, then what calling it takes.
fn describe(op: &mut Value, row: &Row) {
    let summary = op["summary"].as_str().unwrap_or_default().to_owned();
    let more = op["description"].as_str().unwrap_or_default().to_owned();
    let first = first_sentence(&summary);
    let mut text = summary.replace('\n', " ");
    if !more.is_empty() {
        text = format!("{text}\n\n{more}");
    }
    let access = if row.public {
        "No credentials are needed.".to_owned()
    } else if row.systems.is_empty() {
        "Needs a person's access token (`bearer`); department systems may not call it.".to_owned()
    } else {
        let sets: Vec<String> = row
            .systems
            .iter()
            .map(|set| {
                if set.is_empty() {
                    "any scope".to_owned()
                } else {
                    let names: Vec<String> = set.iter().map(|s| format!("`{s}`")).collect();
                    names.join(" and ")
                }
            })
            .collect();
        format!(
            "Needs an access token (`bearer`); a department system's token (`client_credentials`) needs {}.",
            sets.join(", or ")
        )
    };
    op["summary"] = Value::String(first);
    op["description"] = Value::String(format!("{text}\n\n{access}"));
}

/// The first sentence of a summary, on one line.
fn first_sentence(summary: &str) -> String {
    let one_line = summary.replace('\n', " ");
    match one_line.find(". ") {
        Some(i) => one_line[..=i].to_owned(),
        None => one_line,
    }
}

/// The resource a path names by its last parameter: `/reports/{id}/submit` → ("report",
/// "42"), `/webhooks/{id}/deliveries/{delivery_id}` → ("delivery", "42"), `/calendar/{date}`
/// → ("calendar", "2019-10-01").
fn resource_of(path: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    let at = segments.iter().rposition(|s| s.starts_with('{'))?;
    let name = segments.get(at.checked_sub(1)?)?;
    let singular = match name.strip_suffix("ies") {
        Some(stem) => format!("{stem}y"),
        None => name.strip_suffix('s').unwrap_or(name).to_owned(),
    }
    .replace('-', " ");
    let value = if segments[at] == "{date}" {
        "2019-10-01"
    } else {
        "42"
    };
    Some((singular, value.to_owned()))
}

/// A 422 the operation answers without a row of its own: a required field of its JSON body
/// left out, a text field of it holding U+0000, or a page size out of range.
fn derived_invalid(op: &Value, schemas: &Value) -> Option<(String, String)> {
    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
    if !schema.is_null() {
        let object = schemas::resolve(schema, schemas);
        if let Some(first) = object["required"].as_array().and_then(|r| r.first()) {
            let name = first.as_str()?;
            return Some((name.to_owned(), format!("missing field `{name}`")));
        }
        let text = object["properties"].as_object().and_then(|props| {
            props.iter().find(|(_, p)| {
                let p = schemas::resolve(p, schemas);
                p["type"] == "string"
                    || p["type"]
                        .as_array()
                        .is_some_and(|t| t.contains(&json!("string")))
            })
        });
        if let Some((name, _)) = text {
            return Some((name.clone(), NUL_MESSAGE.to_owned()));
        }
    }
    let params = op["parameters"].as_array()?;
    if params.iter().any(|p| p["name"] == "limit") {
        return Some(("limit".into(), "must be 1 to 200".into()));
    }
    let text = params.iter().find(|p| {
        p["in"] == "query" && schemas::resolve(&p["schema"], schemas)["type"] == "string"
    })?;
    Some((text["name"].as_str()?.to_owned(), NUL_MESSAGE.to_owned()))
}

/// Fits a problem example to the operation.
fn problem_detail(
    example: &mut Value,
    status: u16,
    row: Option<&Row>,
    resource: &Option<(String, String)>,
    invalid: Option<&(String, String)>,
) {
    let detail = match status {
        403 => row.and_then(|r| r.forbidden).map(str::to_owned),
        404 => resource.as_ref().map(|(name, value)| match name.as_str() {
            "calendar" => format!("{value} is not in the calendar"),
            _ => format!("no {name} {value}"),
        }),
        409 => row.and_then(|r| r.conflict).map(str::to_owned),
        412 => resource
            .as_ref()
            .map(|(name, value)| format!("the {name} has changed; its ETag is now \"{value}.3\"")),
        428 => Some("send If-Match with the ETag of the version you edited".to_owned()),
        422 => invalid.map(|(field, message)| {
            example["errors"] = json!([{"field": field, "message": message}]);
            format!("{field}: {message}")
        }),
        _ => None,
    };
    if let Some(detail) = detail {
        example["detail"] = Value::String(detail);
    }
}
