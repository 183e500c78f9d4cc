//! The access matrix: every operation of the committed OpenAPI document, sent by every kind of
//! caller, answered as the one table below says. Callers: anonymous, admin, coordinator,
//! viewer, and for each of the units A (the owner of the objects asked for), B (another
//! participant) and L (the measure's lead unit): its manager, its reporter, its system with
//! every scope, and its system with each scope removed in turn. Whatever a caller outside A is
//! allowed to read must never carry the text of A's draft or of A's returned report edited but
//! not sent again.

use crate::fixtures::*;
use crate::matrix_requests::{prepare, Ctx};
use duban::domain::role::SERVICE_SCOPES;
use serde_json::Value;
use std::collections::BTreeMap;

/// The expected answer: the operation's documented success status, or this status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Out {
    Ok,
    S(u16),
    /// Refused or hidden: which check comes first is the implementation's choice.
    Either403Or404,
}

const OK: Out = Out::Ok;
const E401: Out = Out::S(401);
const E403: Out = Out::S(403);
const E404: Out = Out::S(404);

/// What one unit's callers get: its manager, its reporter, its system with every scope, and
/// its system without a scope: the answer paired with that scope in `needs`, else as with all.
#[derive(Clone, Copy, Debug)]
pub struct Unit {
    manager: Out,
    reporter: Out,
    service: Out,
    needs: &'static [(&'static str, Out)],
}

const fn u(manager: Out, reporter: Out, service: Out) -> Unit {
    Unit {
        manager,
        reporter,
        service,
        needs: &[],
    }
}

const fn all(o: Out) -> Unit {
    u(o, o, o)
}

impl Unit {
    const fn needs(mut self, scopes: &'static [(&'static str, Out)]) -> Unit {
        self.needs = scopes;
        self
    }
}

/// One row: an operation (and which of its requests, when it has several), then the answers
/// for anonymous, admin, coordinator, viewer, and the units A (owner), B (another) and L (lead).
pub struct Row {
    pub op: &'static str,
    pub variant: &'static str,
    anon: Out,
    admin: Out,
    coordinator: Out,
    viewer: Out,
    own: Unit,
    other: Unit,
    lead: Unit,
}

#[allow(clippy::too_many_arguments)]
const fn r(
    op: &'static str,
    variant: &'static str,
    [anon, admin, coordinator, viewer]: [Out; 4],
    own: Unit,
    other: Unit,
    lead: Unit,
) -> Row {
    Row {
        op,
        variant,
        anon,
        admin,
        coordinator,
        viewer,
        own,
        other,
        lead,
    }
}

/// Without `assignments:read` a system reads no units and no assignments (nor figures on them).
const AR: &[(&str, Out)] = &[("assignments:read", E403)];
/// Without `reports:read` a system reads no report text: lists are refused ...
const RR: &[(&str, Out)] = &[("reports:read", E403)];
/// ... and so is a single report (refused by scope, which reveals nothing of it).
const RR_HIDES: &[(&str, Out)] = &[("reports:read", E403)];
/// A system drafts with `reports:write`.
const RW_NEW: &[(&str, Out)] = &[("reports:write", E403)];
/// A system edits with `reports:write` what it can read.
const RW: &[(&str, Out)] = &[("reports:read", E403), ("reports:write", E403)];
/// A system submits with `reports:submit` what it can read.
const RS: &[(&str, Out)] = &[("reports:read", E403), ("reports:submit", E403)];
const UR: &[(&str, Out)] = &[("urges:reply", E403)];
/// A system answers for its unit's assignment (asks for time, disputes) with
/// `assignments:respond`, on an assignment it can read.
const RESPOND: &[(&str, Out)] = &[("assignments:read", E403), ("assignments:respond", E403)];
/// A system keeps its unit's webhooks with `webhooks:manage`.
const WM: &[(&str, Out)] = &[("webhooks:manage", E403)];
/// A unit's manager and its system keep its webhooks; reporters do not.
const KEEPS: Unit = u(OK, E403, OK).needs(WM);
/// Another unit's subscription: hidden from its keepers, refused to the rest.
const KEEPS_ELSEWHERE: Unit = u(E404, E403, E404).needs(WM);
/// Another unit's object stays hidden to a system however it is scoped.
const AR_B: &[(&str, Out)] = &[("assignments:read", Out::Either403Or404)];

const PUBLIC: [Out; 4] = [OK, OK, OK, OK];
const SIGNED_IN: [Out; 4] = [E401, OK, OK, OK];
const OFFICE_WRITES: [Out; 4] = [E401, OK, OK, E403];
const OFFICE_READS: [Out; 4] = [E401, OK, OK, OK];
const ADMIN_ONLY: [Out; 4] = [E401, OK, E403, E403];
/// Work only a unit's own people do: the office and viewers are refused.
const UNIT_WORK: [Out; 4] = [E401, E403, E403, E403];
/// Neither the office nor a viewer ever sees a unit's draft.
const DRAFT_HIDDEN: [Out; 4] = [E401, E404, E404, E404];
const NONE: Unit = all(E403);
/// Units read through `assignments:read`.
const UNITS_READ: Unit = all(OK).needs(AR);
/// A unit manager manages the accounts of its own unit (A's spare reporter or system here).
const MANAGES_A: Unit = u(OK, E403, E403);
const HIDDEN: Unit = all(E404);
const MANAGER_SEES_NOTHING_ELSEWHERE: Unit = u(E404, E403, E403);

/// The table: the rule for every operation.
#[rustfmt::skip]
pub const TABLE: &[Row] = &[
    // operation                 request              anon/admin/coord/viewer   A (owner)                  B (another unit)                 L (lead unit)
    r("healthz",                "",                  PUBLIC,                   all(OK),                   all(OK),                         all(OK)),
    r("readyz",                 "",                  PUBLIC,                   all(OK),                   all(OK),                         all(OK)),
    r("metrics",                "",                  PUBLIC,                   all(OK),                   all(OK),                         all(OK)),
    r("get_openapi",            "",                  PUBLIC,                   all(OK),                   all(OK),                         all(OK)),
    r("get_problem_type",       "",                  PUBLIC,                   all(OK),                   all(OK),                         all(OK)),
    r("login",                  "",                  PUBLIC,                   all(OK),                   all(OK),                         all(OK)),
    r("refresh",                "",                  PUBLIC,                   all(OK),                   all(OK),                         all(OK)),
    r("logout",                 "",                  PUBLIC,                   all(OK),                   all(OK),                         all(OK)),
    r("token",                  "",                  PUBLIC,                   all(OK),                   all(OK),                         all(OK)),
    r("get_me",                 "",                  SIGNED_IN,                all(OK),                   all(OK),                         all(OK)),
    r("change_my_password",     "",                  SIGNED_IN,                u(OK, OK, E403),           u(OK, OK, E403),                 u(OK, OK, E403)),
    r("list_units",             "",                  SIGNED_IN,                UNITS_READ,                UNITS_READ,                      UNITS_READ),
    r("create_unit",            "",                  OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("get_unit",               "unit A",            SIGNED_IN,                UNITS_READ,                UNITS_READ,                      UNITS_READ),
    r("update_unit",            "a spare unit",      OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("list_users",             "",                  OFFICE_READS,             MANAGES_A,                 MANAGES_A,                       MANAGES_A),
    r("create_user",            "reporter of A",     ADMIN_ONLY,               MANAGES_A,                 NONE,                            NONE),
    r("get_user",               "reporter of A",     OFFICE_READS,             MANAGES_A,                 MANAGER_SEES_NOTHING_ELSEWHERE,  MANAGER_SEES_NOTHING_ELSEWHERE),
    r("update_user",            "reporter of A",     ADMIN_ONLY,               MANAGES_A,                 MANAGER_SEES_NOTHING_ELSEWHERE,  MANAGER_SEES_NOTHING_ELSEWHERE),
    r("reset_password",         "reporter of A",     ADMIN_ONLY,               MANAGES_A,                 MANAGER_SEES_NOTHING_ELSEWHERE,  MANAGER_SEES_NOTHING_ELSEWHERE),
    r("rotate_client_secret",   "system of A",       ADMIN_ONLY,               MANAGES_A,                 MANAGER_SEES_NOTHING_ELSEWHERE,  MANAGER_SEES_NOTHING_ELSEWHERE),
    r("list_audit",             "",                  OFFICE_READS,             NONE,                      NONE,                            NONE),
    r("list_groups",            "",                  SIGNED_IN,                UNITS_READ,                UNITS_READ,                      UNITS_READ),
    r("create_group",           "",                  OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("get_group",              "A and B",           SIGNED_IN,                UNITS_READ,                UNITS_READ,                      UNITS_READ),
    r("replace_group",          "A and B",           OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("list_plans",             "",                  SIGNED_IN,                all(OK),                   all(OK),                         all(OK)),
    r("create_plan",            "",                  OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("get_plan",               "published",         SIGNED_IN,                all(OK),                   all(OK),                         all(OK)),
    r("get_plan",               "draft",             OFFICE_READS,             HIDDEN,                    HIDDEN,                          HIDDEN),
    r("update_plan",            "draft",             OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("publish_plan",           "draft",             OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("close_plan",             "published",         OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("get_plan_tree",          "published",         SIGNED_IN,                all(OK),                   all(OK),                         all(OK)),
    r("list_measures",          "published",         SIGNED_IN,                all(OK),                   all(OK),                         all(OK)),
    r("create_item",            "draft plan",        OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("update_item",            "draft plan",        OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("get_summary",            "JSON",              SIGNED_IN,                all(OK).needs(RR),         all(OK).needs(RR),               all(OK).needs(RR)),
    r("get_summary",            "CSV",               SIGNED_IN,                all(OK).needs(RR),         all(OK).needs(RR),               all(OK).needs(RR)),
    r("get_summary",            "of unit A",         SIGNED_IN,                all(OK).needs(RR),         NONE,                            NONE),
    r("import_plan_table",      "empty draft",       OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("get_annual_report",      "of unit A",         SIGNED_IN,                all(OK).needs(RR),         NONE,                            NONE),
    r("list_sources",           "",                  SIGNED_IN,                all(OK),                   all(OK),                         all(OK)),
    r("create_source",          "",                  OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("get_source",             "of the measure",    SIGNED_IN,                all(OK),                   all(OK),                         all(OK)),
    r("list_assignments",       "",                  SIGNED_IN,                all(OK).needs(AR),         all(OK).needs(AR),               all(OK).needs(AR)),
    r("reschedule_assignments", "A's",               OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("get_assignment",         "A's",               SIGNED_IN,                all(OK).needs(AR),         u(E404, E404, E404).needs(AR_B), all(OK).needs(AR)),
    r("delete_assignment",      "A's, no reports",   OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("update_assignment",      "A's",               OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("assign_measure",         "",                  OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("list_reports",           "",                  SIGNED_IN,                all(OK).needs(RR),         all(OK).needs(RR),               all(OK).needs(RR)),
    r("list_measure_reports",   "the measure",       SIGNED_IN,                all(OK).needs(RR),         all(OK).needs(RR),               all(OK).needs(RR)),
    r("create_report",          "A's assignment",    UNIT_WORK,                all(OK).needs(RW_NEW),     HIDDEN,                          all(E403)),
    // A batch of one item: the item answers as its single operation (the whole batch is
    // refused to who writes no reports at all).
    r("batch_reports",          "create on A's assignment", UNIT_WORK,         all(OK).needs(RW_NEW),     HIDDEN,                          all(E403)),
    r("batch_reports",          "submit A's draft",  UNIT_WORK,                u(OK, E403, OK).needs(RS), HIDDEN.needs(RR_HIDES),          HIDDEN.needs(RR_HIDES)),
    r("get_report",             "A's draft",         DRAFT_HIDDEN,             all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),                          HIDDEN.needs(RR_HIDES)),
    r("get_report",             "A's sent",          SIGNED_IN,                all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),                          all(OK).needs(RR_HIDES)),
    r("get_report",             "A's edited return", SIGNED_IN,                all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),                          all(OK).needs(RR_HIDES)),
    r("get_report",             "A's resubmitted",   SIGNED_IN,                all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),                          all(OK).needs(RR_HIDES)),
    r("get_report",             "A's accepted",      SIGNED_IN,                all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),                          all(OK).needs(RR_HIDES)),
    r("update_report",          "A's draft",         DRAFT_HIDDEN,             all(OK).needs(RW),         HIDDEN.needs(RR_HIDES),                          HIDDEN.needs(RR_HIDES)),
    r("submit_report",          "A's draft",         DRAFT_HIDDEN,             u(OK, E403, OK).needs(RS), HIDDEN.needs(RR_HIDES),                          HIDDEN.needs(RR_HIDES)),
    r("accept_report",          "A's sent",          OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("return_report",          "A's sent",          OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("list_revisions",         "A's sent",          SIGNED_IN,                all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),                          all(OK).needs(RR_HIDES)),
    r("list_revisions",         "A's edited return", SIGNED_IN,                all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),                          all(OK).needs(RR_HIDES)),
    r("list_revisions",         "A's resubmitted",   SIGNED_IN,                all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),                          all(OK).needs(RR_HIDES)),
    r("list_overdue",           "",                  SIGNED_IN,                all(OK).needs(AR),         all(OK).needs(AR),               all(OK).needs(AR)),
    r("list_due_soon",          "",                  SIGNED_IN,                all(OK).needs(AR),         all(OK).needs(AR),               all(OK).needs(AR)),
    r("stats_units",            "",                  SIGNED_IN,                all(OK).needs(AR),         all(OK).needs(AR),               all(OK).needs(AR)),
    r("stats_sections",         "",                  SIGNED_IN,                all(OK).needs(AR),         all(OK).needs(AR),               all(OK).needs(AR)),
    r("stats_sources",          "",                  SIGNED_IN,                all(OK).needs(AR),         all(OK).needs(AR),               all(OK).needs(AR)),
    r("stats_plan",             "published",         SIGNED_IN,                all(OK).needs(AR),         all(OK).needs(AR),               all(OK).needs(AR)),
    r("get_inbox",              "of unit A",         SIGNED_IN,                all(OK).needs(AR),         NONE,                            NONE),
    r("get_assignment_timeline", "A's",              SIGNED_IN,                all(OK).needs(AR),         u(E404, E404, E404).needs(AR_B), all(OK).needs(AR)),
    r("receive_assignment",     "A's",               UNIT_WORK,                all(OK).needs(RESPOND),    HIDDEN.needs(AR_B),              all(E403)),
    r("receive_plan",           "published",         UNIT_WORK,                all(OK).needs(RESPOND),    all(OK).needs(RESPOND),          all(OK).needs(RESPOND)),
    // On a fresh measure of A's, which L does not lead: hidden from L as from B.
    r("create_extension_request", "A's assignment", UNIT_WORK,               u(OK, E403, OK).needs(RESPOND), HIDDEN.needs(AR_B),         HIDDEN.needs(AR_B)),
    r("list_extension_requests", "",                 SIGNED_IN,                all(OK).needs(AR),         all(OK).needs(AR),               all(OK).needs(AR)),
    r("get_extension_request",  "A's pending",       SIGNED_IN,                all(OK).needs(AR),         HIDDEN.needs(AR_B),              HIDDEN.needs(AR_B)),
    r("approve_extension_request", "A's pending",    OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("reject_extension_request", "A's pending",     OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    // On a fresh measure of A's, as for extension requests.
    r("create_dispute",         "A's assignment",    UNIT_WORK,                u(OK, E403, OK).needs(RESPOND), HIDDEN.needs(AR_B),         HIDDEN.needs(AR_B)),
    r("list_disputes",          "",                  SIGNED_IN,                all(OK).needs(AR),         all(OK).needs(AR),               all(OK).needs(AR)),
    r("get_dispute",            "A's pending",       SIGNED_IN,                all(OK).needs(AR),         HIDDEN.needs(AR_B),              HIDDEN.needs(AR_B)),
    r("resolve_dispute",        "A's pending",       OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("list_urges",             "",                  SIGNED_IN,                all(OK),                   all(OK),                         all(OK)),
    r("upload_attachment",      "A's draft",         DRAFT_HIDDEN,             all(OK).needs(RW),         HIDDEN.needs(RR_HIDES),          HIDDEN.needs(RR_HIDES)),
    r("list_attachments",       "A's draft",         DRAFT_HIDDEN,             all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),          HIDDEN.needs(RR_HIDES)),
    r("list_attachments",       "A's sent",          SIGNED_IN,                all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),          all(OK).needs(RR_HIDES)),
    r("download_attachment",    "A's draft file",    DRAFT_HIDDEN,             all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),          HIDDEN.needs(RR_HIDES)),
    r("download_attachment",    "A's sent file",     SIGNED_IN,                all(OK).needs(RR_HIDES),   HIDDEN.needs(RR_HIDES),          all(OK).needs(RR_HIDES)),
    r("delete_attachment",      "A's draft file",    DRAFT_HIDDEN,             all(OK).needs(RW),         HIDDEN.needs(RR_HIDES),          HIDDEN.needs(RR_HIDES)),
    r("list_calendar",          "2019",              SIGNED_IN,                all(OK),                   all(OK),                         all(OK)),
    r("count_working_days",     "",                  SIGNED_IN,                all(OK),                   all(OK),                         all(OK)),
    r("add_calendar_day",       "",                  OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("change_calendar_day",    "2019-10-12",        OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("remove_calendar_day",    "a listed day",      OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("create_urge",            "to A",              OFFICE_WRITES,            NONE,                      NONE,                            NONE),
    r("get_urge",               "to A",              SIGNED_IN,                all(OK),                   HIDDEN,                          HIDDEN),
    r("acknowledge_urge",       "to A",              UNIT_WORK,                all(OK).needs(UR),         HIDDEN,                          HIDDEN),
    r("reply_urge",             "to A",              UNIT_WORK,                all(OK).needs(UR),         HIDDEN,                          HIDDEN),
    r("create_webhook",         "",                  OFFICE_WRITES,            KEEPS,                     KEEPS,                           KEEPS),
    r("list_webhooks",          "",                  OFFICE_WRITES,            KEEPS,                     KEEPS,                           KEEPS),
    r("get_webhook",            "A's",               OFFICE_WRITES,            KEEPS,                     KEEPS_ELSEWHERE,                 KEEPS_ELSEWHERE),
    r("update_webhook",         "A's",               OFFICE_WRITES,            KEEPS,                     KEEPS_ELSEWHERE,                 KEEPS_ELSEWHERE),
    r("delete_webhook",         "A's",               OFFICE_WRITES,            KEEPS,                     KEEPS_ELSEWHERE,                 KEEPS_ELSEWHERE),
    r("rotate_webhook_secret",  "A's",               OFFICE_WRITES,            KEEPS,                     KEEPS_ELSEWHERE,                 KEEPS_ELSEWHERE),
    r("ping_webhook",           "A's",               OFFICE_WRITES,            KEEPS,                     KEEPS_ELSEWHERE,                 KEEPS_ELSEWHERE),
    r("list_webhook_deliveries", "A's",              OFFICE_WRITES,            KEEPS,                     KEEPS_ELSEWHERE,                 KEEPS_ELSEWHERE),
    r("redeliver_webhook_delivery", "A's ping",      OFFICE_WRITES,            KEEPS,                     KEEPS_ELSEWHERE,                 KEEPS_ELSEWHERE),
];

/// Which unit a unit-bound caller belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    A,
    B,
    L,
}

/// The kind of caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Anonymous,
    Admin,
    Coordinator,
    Viewer,
    Manager(Which),
    Reporter(Which),
    /// A unit's system, without the named scope (`None`: every scope).
    Service(Which, Option<&'static str>),
}

/// A caller: its kind, its token, and (people) its current password.
pub struct Caller {
    pub kind: Kind,
    pub label: String,
    pub token: Option<String>,
    pub password: String,
}

impl Caller {
    /// True for the callers of unit A, the only ones who may read A's unsent text.
    fn of_a(&self) -> bool {
        matches!(
            self.kind,
            Kind::Manager(Which::A) | Kind::Reporter(Which::A) | Kind::Service(Which::A, _)
        )
    }
}

fn expected(row: &Row, kind: Kind) -> Out {
    let unit = |w: Which| match w {
        Which::A => row.own,
        Which::B => row.other,
        Which::L => row.lead,
    };
    match kind {
        Kind::Anonymous => row.anon,
        Kind::Admin => row.admin,
        Kind::Coordinator => row.coordinator,
        Kind::Viewer => row.viewer,
        Kind::Manager(w) => unit(w).manager,
        Kind::Reporter(w) => unit(w).reporter,
        Kind::Service(w, None) => unit(w).service,
        Kind::Service(w, Some(removed)) => {
            let u = unit(w);
            match u.needs.iter().find(|(s, _)| *s == removed) {
                Some((_, out)) => *out,
                None => u.service,
            }
        }
    }
}

/// The success of a batch's single item: 201 for a create, 200 for an edit or a submission.
fn batch_item_success(variant: &str) -> u16 {
    if variant.starts_with("create") {
        201
    } else {
        200
    }
}

/// Every operation of the committed document: operationId → (method, path, success status).
fn operations() -> BTreeMap<String, (String, String, u16)> {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op["operationId"].as_str() else {
                continue;
            };
            let success = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .filter_map(|k| k.parse::<u16>().ok())
                .find(|s| (200..300).contains(s))
                .unwrap_or_else(|| panic!("{id} documents no success"));
            out.insert(
                id.to_owned(),
                (method.to_uppercase(), path.clone(), success),
            );
        }
    }
    out
}

#[actix_rt::test]
async fn every_operation_answers_every_kind_of_caller_as_the_access_table_says() {
    let started = std::time::Instant::now();
    let ops = operations();
    let mut failures = Vec::new();
    for id in ops.keys() {
        if !TABLE.iter().any(|r| r.op == id) {
            failures.push(format!("{id}: in the document but not in the access table"));
        }
    }
    for row in TABLE {
        if !ops.contains_key(row.op) {
            failures.push(format!(
                "{}: in the access table but not in the document",
                row.op
            ));
        }
    }

    let mut ctx = Ctx::new().await;
    let mut callers = ctx.callers(SERVICE_SCOPES.as_slice()).await;
    ctx.assert_a_reads_its_unsent_text().await;
    // Changing one's own password comes last: the other operations keep the first sign-ins.
    let mut rows: Vec<&Row> = TABLE.iter().filter(|r| ops.contains_key(r.op)).collect();
    rows.sort_by_key(|r| r.op == "change_my_password");
    let (mut allowed, mut denied, mut cells) = (0usize, BTreeMap::<u16, usize>::new(), 0usize);
    for row in rows {
        let (method, path, success) = &ops[row.op];
        for caller in callers.iter_mut() {
            cells += 1;
            let want = expected(row, caller.kind);
            let req = prepare(&mut ctx, row, caller, path).await;
            let got = ctx.send(method, &req, caller.token.as_deref()).await;
            ctx.after(row, caller, &req, &got).await;
            // A batch of one item answers 200 with the item's result: that is the answer.
            let (status, success) = match (row.op, got.status) {
                ("batch_reports", 200) => (
                    got.body["items"][0]["status"].as_u64().unwrap_or(0) as u16,
                    &batch_item_success(row.variant),
                ),
                _ => (got.status, success),
            };
            if (200..300).contains(&status) {
                allowed += 1;
            } else {
                *denied.entry(status).or_default() += 1;
            }
            let what = format!(
                "{method} {} ({} {}) as {}",
                req.path, row.op, row.variant, caller.label
            );
            let expected_status = match want {
                Out::Ok => status == *success,
                Out::S(s) => status == s,
                Out::Either403Or404 => matches!(status, 403 | 404),
            };
            if !expected_status {
                let body: String = got.raw.chars().take(160).collect();
                let want = match want {
                    Out::Ok => success.to_string(),
                    Out::S(s) => s.to_string(),
                    Out::Either403Or404 => "403 or 404".into(),
                };
                failures.push(format!("{what}: expected {want}, got {status}: {body}"));
            }
            if (200..300).contains(&status) && !caller.of_a() {
                for marker in [DRAFT_MARKER, UNSENT_EDIT_MARKER] {
                    if got.raw.contains(marker) {
                        failures.push(format!(
                            "{what}: the answer carries A's unsent text {marker:?}"
                        ));
                    }
                }
            }
        }
    }
    let width = callers.len();
    println!(
        "access matrix: {} rows ({} operations) x {width} callers = {cells} requests; {allowed} allowed, denied by status {denied:?}; {} failures; {:.1?}",
        TABLE.len(),
        ops.len(),
        failures.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} failing cells:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_document_states_the_scopes_the_access_table_requires_of_department_systems() {
    use std::collections::BTreeSet;
    let mut ids: Vec<&str> = TABLE.iter().map(|r| r.op).collect();
    ids.dedup();
    for id in ids {
        let rows: Vec<&Row> = TABLE.iter().filter(|r| r.op == id).collect();
        let units = rows.iter().flat_map(|r| [r.own, r.other, r.lead]);
        let callable = units.clone().any(|u| u.service == OK);
        let needed: BTreeSet<String> = units
            .filter(|u| u.service == OK)
            .flat_map(|u| u.needs.iter())
            .filter(|(_, out)| *out != OK)
            .map(|(s, _)| s.to_string())
            .collect();
        let row = duban::api::contract::row(id).unwrap_or_else(|| panic!("{id} has no row"));
        if row.public {
            continue;
        }
        assert_eq!(
            !row.systems.is_empty(),
            callable,
            "{id}: department systems {} call it",
            if callable { "may" } else { "may not" }
        );
        if callable {
            let every: BTreeSet<String> = row
                .systems
                .iter()
                .map(|set| set.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>())
                .reduce(|a, b| a.intersection(&b).cloned().collect())
                .unwrap_or_default();
            assert_eq!(every, needed, "{id}: the scopes every token needs");
        }
    }
}
