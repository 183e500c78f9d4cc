//! The world most tests stand in, built once per test, and typed helpers per endpoint.
//!
//! The world: the coordinating office (市委依法治市办) and three units, a published 2020 plan with
//! one measure (下放行政审批权。) led by unit L (市司法局) with units A (市财政局) and B (市民政局)
//! taking part, a coordinator, a viewer, and a manager and a reporter per unit. On request it
//! also holds service accounts with chosen scopes and reports of A in every workflow state.

use crate::helpers::*;
use serde::Deserialize;
use serde_json::{json, Value};

/// The name of the lead unit L.
pub const LEAD_NAME: &str = "市司法局";
/// The name of participant A.
pub const A_NAME: &str = "市财政局";
/// The name of participant B.
pub const B_NAME: &str = "市民政局";

/// Text only A's unsent draft carries; nobody outside A may ever read it.
pub const DRAFT_MARKER: &str = "未报送草稿标记DRAFT-7f3a";
/// Text only A's edited-but-not-resubmitted returned report carries.
pub const UNSENT_EDIT_MARKER: &str = "退回后未重报标记EDIT-9c2e";

/// A signed-in person.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub token: String,
}

/// A unit with its manager and reporter.
#[derive(Clone, Debug)]
pub struct UnitPeople {
    pub id: i64,
    pub manager: Account,
    pub reporter: Account,
    /// The unit's assignment on the world's measure (`None` when it takes no part).
    pub assignment: Option<i64>,
}

impl UnitPeople {
    /// The assignment, which the unit must have.
    #[track_caller]
    pub fn assignment(&self) -> i64 {
        self.assignment.expect("the unit has an assignment")
    }
}

/// A service account and its client secret.
#[derive(Clone, Debug)]
pub struct Service {
    pub username: String,
    pub secret: String,
}

/// A's reports, one per workflow state, each for its own period.
#[derive(Clone, Debug)]
pub struct Reports {
    /// A draft carrying [`DRAFT_MARKER`] in narrative, problems and next steps.
    pub draft: i64,
    /// Submitted, not yet reviewed.
    pub submitted: i64,
    /// Returned by the office and edited by A (text [`UNSENT_EDIT_MARKER`]), not resubmitted.
    pub returned_edited: i64,
    /// Returned, edited and sent again.
    pub resubmitted: i64,
    /// Accepted.
    pub accepted: i64,
}

/// A report as the API answers it, with the ETag of that answer.
#[derive(Clone, Debug, Deserialize)]
pub struct Report {
    pub id: i64,
    pub assignment_id: i64,
    pub unit_id: i64,
    pub period: String,
    pub status: String,
    pub narrative: String,
    pub problems: String,
    pub next_steps: String,
    pub workflow: String,
    pub return_reason: Option<String>,
    pub version: i64,
    pub submitted_at: Option<String>,
    pub reviewed_at: Option<String>,
    #[serde(skip)]
    pub etag: String,
}

/// The body of `POST /assignments/{id}/reports`.
#[derive(Clone, Debug, Default)]
pub struct NewReport<'a> {
    pub status: &'a str,
    pub narrative: &'a str,
    pub problems: &'a str,
    pub next_steps: &'a str,
    /// `None`: the period the assignment is waiting for.
    pub period: Option<&'a str>,
}

impl<'a> NewReport<'a> {
    /// An in-progress report with this narrative for the default period.
    pub fn in_progress(narrative: &'a str) -> Self {
        NewReport {
            status: "in_progress",
            narrative,
            ..Default::default()
        }
    }

    /// The same report for another period.
    pub fn period(mut self, period: &'a str) -> Self {
        self.period = Some(period);
        self
    }

    pub(crate) fn body(&self) -> Value {
        let mut b = json!({"status": self.status, "narrative": self.narrative,
                           "problems": self.problems, "next_steps": self.next_steps});
        if let Some(p) = self.period {
            b["period"] = json!(p);
        }
        b
    }
}

/// Review and submission actions on a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Submit,
    Accept,
    Return,
}

impl Action {
    pub(crate) fn path(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Accept => "accept",
            Action::Return => "return",
        }
    }
}

/// The reason the world's office gives when it returns a report.
pub const RETURN_REASON: &str = "请补充具体数据。";

/// Options of [`World::build`].
#[derive(Default)]
pub struct WorldBuilder {
    without_b: bool,
    services: Vec<(String, char, Option<Vec<&'static str>>)>,
    reports: bool,
    settings: Vec<(&'static str, String)>,
}

impl WorldBuilder {
    /// B exists with its people but takes no part in the measure.
    pub fn without_b(mut self) -> Self {
        self.without_b = true;
        self
    }

    /// Adds a service account of unit `unit` ('L', 'A' or 'B'); `None`: the default scopes.
    pub fn service(
        mut self,
        username: &str,
        unit: char,
        scopes: Option<Vec<&'static str>>,
    ) -> Self {
        self.services.push((username.to_owned(), unit, scopes));
        self
    }

    /// Runs the app with this `DUBAN_*` setting.
    pub fn setting(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.settings.push((name, value.into()));
        self
    }

    /// Adds A's reports in every workflow state ([`Reports`]).
    pub fn with_reports(mut self) -> Self {
        self.reports = true;
        self
    }

    /// Builds the world on a fresh app.
    pub async fn build(self) -> World {
        let settings: Vec<(&str, &str)> = self
            .settings
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        let app = spawn_app_with(&settings).await;
        let admin = app.admin().await;
        let office = app.create_unit(&admin, "市委依法治市办").await;
        let (lead, a, b) = (
            app.create_unit(&admin, LEAD_NAME).await,
            app.create_unit(&admin, A_NAME).await,
            app.create_unit(&admin, B_NAME).await,
        );
        let coordinator = app
            .person(&admin, "office-staff", "coordinator", Some(office))
            .await;
        let viewer = app.person(&admin, "auditor", "viewer", None).await;
        let mut units = Vec::new();
        for (name, id) in [("justice", lead), ("finance", a), ("civil", b)] {
            units.push(UnitPeople {
                id,
                manager: app
                    .person(&admin, &format!("{name}-manager"), "unit_manager", Some(id))
                    .await,
                reporter: app
                    .person(
                        &admin,
                        &format!("{name}-reporter"),
                        "unit_reporter",
                        Some(id),
                    )
                    .await,
                assignment: None,
            });
        }
        let c = &coordinator.token;
        let plan = app.create_plan(c, "2020年计划", 2020).await;
        let section = app
            .create_item(
                c,
                plan,
                json!({"level": "section", "number": "一", "title": "依法全面履行政府职能"}),
            )
            .await;
        let task = app
            .create_item(c, plan, json!({"level": "task", "parent_id": section, "number": "1", "title": "深化改革。"}))
            .await;
        let participants = if self.without_b {
            A_NAME.to_owned()
        } else {
            format!("{A_NAME}、{B_NAME}")
        };
        let measure = app
            .create_item(
                c,
                plan,
                json!({"level": "measure", "parent_id": task, "number": "1",
                "title": "下放行政审批权。", "sources": ["渝委发〔2016〕27号"],
                "lead_units": LEAD_NAME, "participant_units": participants}),
            )
            .await;
        let mut taking_part = vec![a];
        if !self.without_b {
            taking_part.push(b);
        }
        let created = app
            .assign(
                c,
                measure,
                json!({"lead": {"unit_ids": [lead]}, "participants": {"unit_ids": taking_part},
                                      "due_date": "2099-12-31", "cycle": "yearly"}),
            )
            .await;
        for u in &mut units {
            u.assignment = created
                .iter()
                .find(|x| x["unit_id"] == u.id)
                .map(|x| x["id"].as_i64().unwrap());
        }
        let published = app
            .post(&format!("/plans/{plan}/publish"), c, json!({}))
            .await;
        assert_eq!(published.status, 200, "{}", published.raw);
        let [l, a, b]: [UnitPeople; 3] = units.try_into().unwrap();
        let mut services = Vec::new();
        for (username, unit, scopes) in self.services {
            let unit = match unit {
                'L' => l.id,
                'A' => a.id,
                _ => b.id,
            };
            let (_, secret) = app.service_account(&username, unit, scopes).await;
            services.push(Service { username, secret });
        }
        let mut world = World {
            app,
            admin,
            office,
            coordinator,
            viewer,
            l,
            a,
            b,
            plan,
            section,
            task,
            measure,
            services,
            reports: None,
        };
        if self.reports {
            world.reports = Some(world.make_reports().await);
        }
        world
    }
}

/// See the module documentation.
pub struct World {
    pub app: TestApp,
    /// The bootstrap admin's token.
    pub admin: String,
    /// 市委依法治市办, the coordinator's unit.
    pub office: i64,
    pub coordinator: Account,
    /// A viewer (auditor) of no unit.
    pub viewer: Account,
    /// The lead unit.
    pub l: UnitPeople,
    /// A participating unit.
    pub a: UnitPeople,
    /// Another participating unit (unless built [`WorldBuilder::without_b`]).
    pub b: UnitPeople,
    pub plan: i64,
    pub section: i64,
    pub task: i64,
    pub measure: i64,
    /// The service accounts asked for, in order.
    pub services: Vec<Service>,
    /// A's reports in every state, when asked for.
    pub reports: Option<Reports>,
}

impl World {
    /// A builder for a world with options.
    pub fn builder() -> WorldBuilder {
        WorldBuilder::default()
    }

    /// The coordinator's token.
    pub fn coord(&self) -> &str {
        &self.coordinator.token
    }

    /// An access token of a service account with all its scopes or the ones named.
    pub async fn service_token(&self, username: &str, scope: Option<&str>) -> String {
        let s = self
            .services
            .iter()
            .find(|s| s.username == username)
            .expect("a service of the world");
        let r = self.app.client_token(&s.username, &s.secret, scope).await;
        assert_eq!(r.status, 200, "{}", r.raw);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    async fn make_reports(&self) -> Reports {
        let (app, m, c) = (&self.app, &self.a.manager.token, self.coord());
        let asg = self.a.assignment();
        let sent = |narrative: &'static str, period: &'static str| async move {
            let r = app
                .create_report(m, asg, &NewReport::in_progress(narrative).period(period))
                .await;
            app.submit_report(m, r.id).await;
            r.id
        };
        let draft = app
            .create_report(
                m,
                asg,
                &NewReport {
                    status: "in_progress",
                    narrative: DRAFT_MARKER,
                    problems: DRAFT_MARKER,
                    next_steps: DRAFT_MARKER,
                    period: Some("2091"),
                },
            )
            .await
            .id;
        let submitted = sent("财政局已报送的情况。", "2092").await;
        let returned_edited = sent("财政局退回前报送的情况。", "2093").await;
        app.return_report(c, returned_edited, RETURN_REASON).await;
        let edited = app
            .edit_report(m, returned_edited, json!({"narrative": UNSENT_EDIT_MARKER, "problems": UNSENT_EDIT_MARKER, "next_steps": UNSENT_EDIT_MARKER}))
            .await;
        assert_eq!(edited.status, 200, "{}", edited.raw);
        let resubmitted = sent("财政局重报前的情况。", "2094").await;
        app.return_report(c, resubmitted, RETURN_REASON).await;
        app.edit_report(
            m,
            resubmitted,
            json!({"narrative": "财政局补充后重报的情况。"}),
        )
        .await;
        app.submit_report(m, resubmitted).await;
        let accepted = sent("财政局已验收的情况。", "2095").await;
        app.accept_report(c, accepted).await;
        Reports {
            draft,
            submitted,
            returned_edited,
            resubmitted,
            accepted,
        }
    }
}

/// The ids of a list answer's items.
#[track_caller]
pub fn ids(r: &Reply) -> Vec<i64> {
    assert_eq!(r.status, 200, "{}", r.raw);
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", r.raw))
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect()
}

/// 404 (hidden) or 403 (refused): either way the caller learns nothing and changes nothing.
#[track_caller]
pub fn assert_denied(r: &Reply) {
    assert!(
        matches!(r.status, 403 | 404),
        "expected 403 or 404, got {}: {}",
        r.status,
        r.raw
    );
    assert_eq!(r.content_type(), "application/problem+json", "{}", r.raw);
}

/// Asserts a 409 naming the workflow.
#[track_caller]
pub fn assert_workflow_conflict(r: &Reply) {
    r.assert_problem(409, "conflict");
    assert_eq!(r.fields(), vec!["workflow"], "{}", r.raw);
}

/// The boundary of [`multipart_file`] bodies.
pub const BOUNDARY: &str = "duban-test-boundary-7f3a";

/// The content type of [`multipart_file`] bodies.
pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// A `multipart/form-data` body with one file named `name` in the part `part`.
pub fn multipart_file(part: &str, name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

impl TestApp {
    /// Uploads an evidence file to a report as `token`.
    pub async fn upload(&self, token: &str, report: i64, name: &str, bytes: &[u8]) -> Reply {
        self.send_raw(
            "POST",
            &format!("/reports/{report}/attachments"),
            Some(token),
            &multipart_type(),
            multipart_file("file", name, bytes),
        )
        .await
    }
}
