//! The requests of the access matrix: for each row, a valid request whose path parameters come
//! from the world (A's objects), and the spare or fresh objects the writes act on.

use crate::fixtures::*;
use crate::helpers::*;
use crate::matrix::{Caller, Kind, Row, Which};
use awc::http::header;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A request body.
pub enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

/// One request of the matrix.
pub struct Req {
    pub path: String,
    headers: Vec<(&'static str, String)>,
    body: Body,
    /// The fresh object this request uses up when it succeeds.
    consumes: Option<&'static str>,
}

/// The world and what the matrix's writes act on.
pub struct Ctx {
    pub w: World,
    reports: Reports,
    counter: u32,
    refresh_token: String,
    spare_unit: i64,
    spare_reporter: i64,
    spare_service: i64,
    spare_group: i64,
    draft_plan: i64,
    draft_item: i64,
    spare_measure: i64,
    source: i64,
    urge: i64,
    /// A's webhook subscription, and a delivery of it.
    webhook: i64,
    delivery: i64,
    /// Objects used up by a successful write, made again on demand.
    fresh: HashMap<&'static str, i64>,
}

const SYSTEMS: [(&str, char); 3] = [("system-a", 'A'), ("system-b", 'B'), ("system-l", 'L')];

impl Ctx {
    /// Builds the world with A's reports in every state, one system per unit with every scope,
    /// and the spare objects.
    pub async fn new() -> Ctx {
        let all = duban::domain::role::SERVICE_SCOPES.to_vec();
        let mut b = World::builder().with_reports();
        for (name, unit) in SYSTEMS {
            b = b.service(name, unit, Some(all.clone()));
        }
        let w = b.build().await;
        let app = &w.app;
        let (admin, c) = (w.admin.clone(), w.coord().to_owned());
        let spare_unit = app.create_unit(&admin, "备用单位").await;
        let spare_reporter = app
            .person(&admin, "finance-spare", "unit_reporter", Some(w.a.id))
            .await
            .id;
        let (spare_service, _) = app
            .service_account("finance-spare-system", w.a.id, None)
            .await;
        let g = app
            .post(
                "/groups",
                &c,
                json!({"name": "两个参加单位", "members": [w.a.id, w.b.id]}),
            )
            .await;
        assert_eq!(g.status, 201, "{}", g.raw);
        let draft_plan = app.create_plan(&c, "草拟中的计划", 2021).await;
        let draft_item = app
            .create_item(
                &c,
                draft_plan,
                json!({"level": "section", "number": "一", "title": "草案板块"}),
            )
            .await;
        let spare_measure = app
            .create_item(&c, w.plan, json!({"level": "measure", "parent_id": w.task, "number": "2", "title": "备用措施。"}))
            .await;
        let sources = app.get("/sources", &c).await;
        let source = ids(&sources)[0];
        let asg = w.a.assignment();
        let urge = app
            .post("/urges", &c, json!({"unit_id": w.a.id, "assignment_ids": [asg], "severity": "reminder", "message": "请按时报送。"}))
            .await;
        assert_eq!(urge.status, 201, "{}", urge.raw);
        let hook = app
            .post(
                "/webhooks",
                &w.a.manager.token,
                json!({"url": "http://127.0.0.1:9/duban", "events": ["*"]}),
            )
            .await;
        assert_eq!(hook.status, 201, "{}", hook.raw);
        let webhook = hook.body["id"].as_i64().unwrap();
        let ping = app
            .post(
                &format!("/webhooks/{webhook}/ping"),
                &w.a.manager.token,
                json!({}),
            )
            .await;
        assert_eq!(ping.status, 202, "{}", ping.raw);
        let session = app.login_reply(&w.viewer.username, PASSWORD).await;
        Ctx {
            webhook,
            delivery: ping.body["id"].as_i64().unwrap(),
            reports: w.reports.clone().unwrap(),
            refresh_token: session.body["refresh_token"].as_str().unwrap().to_owned(),
            counter: 0,
            spare_unit,
            spare_reporter,
            spare_service,
            spare_group: g.body["id"].as_i64().unwrap(),
            draft_plan,
            draft_item,
            spare_measure,
            source,
            urge: urge.body["id"].as_i64().unwrap(),
            fresh: HashMap::new(),
            w,
        }
    }

    /// A's own people read the markers, so their absence elsewhere means something.
    pub async fn assert_a_reads_its_unsent_text(&self) {
        let m = &self.w.a.manager.token;
        let draft = self.w.app.report(m, self.reports.draft).await;
        assert_eq!(
            (
                draft.narrative.as_str(),
                draft.problems.as_str(),
                draft.next_steps.as_str()
            ),
            (DRAFT_MARKER, DRAFT_MARKER, DRAFT_MARKER)
        );
        let edited = self.w.app.report(m, self.reports.returned_edited).await;
        assert_eq!(
            (edited.workflow.as_str(), edited.narrative.as_str()),
            ("returned", UNSENT_EDIT_MARKER)
        );
    }

    /// Every caller of the matrix, each signed in once.
    pub async fn callers(&self, scopes: &[&'static str]) -> Vec<Caller> {
        let w = &self.w;
        let person = |kind, label: &str, a: &Account| Caller {
            kind,
            label: label.to_owned(),
            token: Some(a.token.clone()),
            password: PASSWORD.to_owned(),
        };
        let mut out = vec![Caller {
            kind: Kind::Anonymous,
            label: "anonymous".into(),
            token: None,
            password: String::new(),
        }];
        let admin = Account {
            id: 1,
            username: ADMIN.into(),
            token: w.admin.clone(),
        };
        out.push(Caller {
            password: ADMIN_PASSWORD.into(),
            ..person(Kind::Admin, "admin", &admin)
        });
        out.push(person(Kind::Coordinator, "coordinator", &w.coordinator));
        out.push(person(Kind::Viewer, "viewer", &w.viewer));
        for (which, name, unit, system) in [
            (Which::A, "A", &w.a, "system-a"),
            (Which::B, "B", &w.b, "system-b"),
            (Which::L, "L", &w.l, "system-l"),
        ] {
            out.push(person(
                Kind::Manager(which),
                &format!("manager of {name}"),
                &unit.manager,
            ));
            out.push(person(
                Kind::Reporter(which),
                &format!("reporter of {name}"),
                &unit.reporter,
            ));
            let mut variants = vec![None];
            variants.extend(scopes.iter().map(|s| Some(*s)));
            for removed in variants {
                let scope = removed.map(|r| {
                    scopes
                        .iter()
                        .filter(|s| **s != r)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" ")
                });
                let label = match removed {
                    None => format!("system of {name}"),
                    Some(r) => format!("system of {name} without {r}"),
                };
                out.push(Caller {
                    kind: Kind::Service(which, removed),
                    label,
                    token: Some(w.service_token(system, scope.as_deref()).await),
                    password: String::new(),
                });
            }
        }
        out
    }

    fn next(&mut self) -> u32 {
        self.counter += 1;
        self.counter
    }

    /// A fresh object of this kind, made when the last one was used up.
    async fn fresh(&mut self, what: &'static str) -> i64 {
        if let Some(id) = self.fresh.get(what) {
            return *id;
        }
        let n = self.next();
        let period = format!("{}", 1000 + n);
        let (app, c, m) = (&self.w.app, self.w.coord(), &self.w.a.manager.token);
        let asg = self.w.a.assignment();
        let id = match what {
            "draft" => {
                app.create_report(
                    m,
                    asg,
                    &NewReport::in_progress("财政局待报送的草稿。").period(&period),
                )
                .await
                .id
            }
            "sent" | "sent to return" => {
                let r = app
                    .create_report(
                        m,
                        asg,
                        &NewReport::in_progress("财政局待审的情况。").period(&period),
                    )
                    .await;
                app.submit_report(m, r.id).await.id
            }
            "draft plan" | "empty plan" => app.create_plan(c, &format!("计划{n}"), 2022).await,
            "published plan" => {
                let p = app.create_plan(c, &format!("计划{n}"), 2022).await;
                let r = app.post(&format!("/plans/{p}/publish"), c, json!({})).await;
                assert_eq!(r.status, 200, "{}", r.raw);
                p
            }
            "assignment" | "pending extension" | "pending dispute" => {
                let measure = app
                    .create_item(c, self.w.plan, json!({"level": "measure", "parent_id": self.w.task, "number": format!("{}", 100 + n), "title": "临时措施。"}))
                    .await;
                let asg = app
                    .assign(
                        c,
                        measure,
                        json!({"participants": {"unit_ids": [self.w.a.id]}, "due_date": "2099-12-31"}),
                    )
                    .await[0]["id"]
                    .as_i64()
                    .unwrap();
                if what == "assignment" {
                    asg
                } else if what == "pending dispute" {
                    let r = app
                        .post(
                            &format!("/assignments/{asg}/disputes"),
                            m,
                            json!({"kind": "not_ours", "reason": "非本单位职责。"}),
                        )
                        .await;
                    assert_eq!(r.status, 201, "{}", r.raw);
                    r.body["id"].as_i64().unwrap()
                } else {
                    let r = app
                        .post(
                            &format!("/assignments/{asg}/extension-requests"),
                            m,
                            json!({"requested_due_date": "2100-06-30", "reason": "需要更多时间。", "progress": "已完成草案。"}),
                        )
                        .await;
                    assert_eq!(r.status, 201, "{}", r.raw);
                    r.body["id"].as_i64().unwrap()
                }
            }
            "webhook" => {
                let r = app
                    .post(
                        "/webhooks",
                        m,
                        json!({"url": "http://127.0.0.1:9/duban", "events": ["report.returned"]}),
                    )
                    .await;
                assert_eq!(r.status, 201, "{}", r.raw);
                r.body["id"].as_i64().unwrap()
            }
            "draft file" | "sent file" => {
                let report = if what == "draft file" {
                    self.reports.draft
                } else {
                    app.create_report(
                        m,
                        asg,
                        &NewReport::in_progress("附佐证材料的情况。").period(&period),
                    )
                    .await
                    .id
                };
                let r = app
                    .upload(m, report, "佐证材料.pdf", b"%PDF-1.7 evidence")
                    .await;
                assert_eq!(r.status, 201, "{}", r.raw);
                if what == "sent file" {
                    app.submit_report(m, report).await;
                }
                r.body["id"].as_i64().unwrap()
            }
            "calendar day" => {
                let r = app
                    .post(
                        "/calendar",
                        c,
                        json!({"date": calendar_day(n.into()), "kind": "holiday", "name": "临时调整"}),
                    )
                    .await;
                assert_eq!(r.status, 201, "{}", r.raw);
                i64::from(n)
            }
            other => panic!("no fresh {other}"),
        };
        self.fresh.insert(what, id);
        id
    }

    /// Sends a request as a caller.
    pub async fn send(&self, method: &str, req: &Req, token: Option<&str>) -> Reply {
        let mut r = self
            .w
            .app
            .client
            .request(method.parse().unwrap(), self.w.app.url(&req.path));
        if let Some(t) = token {
            r = r.insert_header((header::AUTHORIZATION, format!("Bearer {t}")));
        }
        for (k, v) in &req.headers {
            r = r.insert_header((*k, v.as_str()));
        }
        let res = match &req.body {
            Body::None => r.send().await,
            Body::Json(v) => r.send_json(v).await,
            Body::Raw(ct, bytes) => {
                r.insert_header((header::CONTENT_TYPE, *ct))
                    .send_body(bytes.clone())
                    .await
            }
        };
        read(res.expect("request sent")).await
    }

    /// Keeps the context in step with what a request changed.
    pub async fn after(&mut self, row: &Row, caller: &mut Caller, req: &Req, got: &Reply) {
        if !(200..300).contains(&got.status) {
            return;
        }
        if let Some(what) = req.consumes {
            self.fresh.remove(what);
        }
        match row.op {
            "refresh" => {
                self.refresh_token = got.body["refresh_token"].as_str().unwrap().to_owned()
            }
            "change_my_password" => caller.password = NEW_PASSWORD.to_owned(),
            _ => {}
        }
    }
}

const NEW_PASSWORD: &str = "another test passphrase 456";

fn req(path: String) -> Req {
    Req {
        path,
        headers: vec![],
        body: Body::None,
        consumes: None,
    }
}

impl Req {
    fn json(mut self, v: Value) -> Req {
        self.body = Body::Json(v);
        self
    }

    fn header(mut self, k: &'static str, v: impl Into<String>) -> Req {
        self.headers.push((k, v.into()));
        self
    }

    fn consumes(mut self, what: &'static str) -> Req {
        self.consumes = Some(what);
        self
    }
}

/// The request of `row` for `caller`, on the document's `template` path.
pub async fn prepare(ctx: &mut Ctx, row: &Row, caller: &Caller, template: &str) -> Req {
    let n = ctx.next();
    let (a, b) = (ctx.w.a.id, ctx.w.b.id);
    let asg = ctx.w.a.assignment();
    let at = |id: i64| template.replace("{id}", &id.to_string());
    let rep = ctx.reports.clone();
    match (row.op, row.variant) {
        ("login", _) => req(at(0)).json(json!({"username": ctx.w.viewer.username, "password": PASSWORD})),
        ("refresh" | "logout", _) => req(at(0)).json(json!({"refresh_token": ctx.refresh_token})),
        ("token", _) => {
            let s = &ctx.w.services[0];
            let form = format!("grant_type=client_credentials&client_id={}&client_secret={}", s.username, s.secret);
            Req { body: Body::Raw("application/x-www-form-urlencoded", form.into_bytes()), ..req(at(0)) }
        }
        ("change_my_password", _) => req(at(0)).json(json!({"current_password": caller.password, "new_password": NEW_PASSWORD})),
        ("create_unit", _) => req(at(0)).json(json!({"name": format!("新设单位{n}"), "kind": "city_department"})),
        ("get_unit", _) => req(at(a)),
        ("update_unit", _) => req(at(ctx.spare_unit)).json(json!({"short_name": "备用"})),
        ("create_user", _) => req(at(0)).json(json!({"username": format!("finance-new-{n}"), "display_name": "新填报员",
                                                     "role": "unit_reporter", "unit_id": a, "password": PASSWORD})),
        ("get_user", _) => req(at(ctx.spare_reporter)),
        ("update_user", _) => req(at(ctx.spare_reporter)).json(json!({"display_name": "财政局备用填报员"})),
        ("reset_password", _) => req(at(ctx.spare_reporter)).json(json!({"password": "a reset passphrase 789"})),
        ("rotate_client_secret", _) => req(at(ctx.spare_service)),
        ("create_group", _) => req(at(0)).json(json!({"name": format!("新组{n}"), "members": [a, b]})),
        ("get_group", _) => req(at(ctx.spare_group)),
        ("replace_group", _) => req(at(ctx.spare_group)).json(json!({"name": "两个参加单位", "members": [a, b]})),
        ("create_plan", _) => req(at(0)).json(json!({"title": format!("新计划{n}"), "year": 2021})),
        ("get_plan", "draft") => req(at(ctx.draft_plan)),
        ("update_plan", _) => req(at(ctx.draft_plan)).json(json!({"title": "草拟中的计划", "year": 2021})),
        ("publish_plan", _) => req(at(ctx.fresh("draft plan").await)).consumes("draft plan"),
        ("close_plan", _) => req(at(ctx.fresh("published plan").await)).consumes("published plan"),
        ("create_item", _) => req(at(ctx.draft_plan)).json(json!({"level": "section", "number": format!("{n}"), "title": "新板块"})),
        ("update_item", _) => req(at(ctx.draft_item)).json(json!({"title": "草案板块"})),
        ("get_summary", "CSV") => req(at(ctx.w.plan)).header("Accept", "text/csv"),
        ("get_summary" | "get_annual_report", "of unit A") => req(format!("{}?unit={a}", at(ctx.w.plan))),
        ("import_plan_table", _) => {
            let csv = format!("工作板块,工作任务,具体措施,任务来源,牵头单位,参加单位,工作措施及完成情况\n一、依法全面履行政府职能,1．深化改革。,（1）下放行政审批权。,渝委发〔2016〕27号,{LEAD_NAME},{A_NAME},\n");
            Req { body: Body::Raw("text/csv", csv.into_bytes()), ..req(at(ctx.fresh("empty plan").await)) }.consumes("empty plan")
        }
        ("create_source", _) => req(at(0)).json(json!({"doc_number": format!("渝府发〔2099〕{n}号")})),
        ("get_source", _) => req(at(ctx.source)),
        ("reschedule_assignments", _) => req(at(0)).json(json!({"assignment_ids": [asg], "due_date": "2099-12-31"})),
        ("get_assignment", _) => req(at(asg)),
        ("update_assignment", _) => req(at(asg)).json(json!({"due_date": "2099-12-31"})),
        ("delete_assignment", _) => req(at(ctx.fresh("assignment").await)).consumes("assignment"),
        ("assign_measure", _) => req(at(ctx.spare_measure)).json(json!({"participants": {"unit_ids": [a]}, "due_date": "2099-12-31"})),
        ("create_report", _) => req(at(asg)).json(json!({"status": "in_progress", "narrative": "新填报的情况。", "period": format!("{}", 3000 + n)})),
        ("get_report" | "list_revisions", "A's draft") => req(at(rep.draft)),
        ("get_report" | "list_revisions", "A's sent") => req(at(rep.submitted)),
        ("get_report" | "list_revisions", "A's edited return") => req(at(rep.returned_edited)),
        ("get_report" | "list_revisions", "A's resubmitted") => req(at(rep.resubmitted)),
        ("get_report" | "list_revisions", "A's accepted") => req(at(rep.accepted)),
        ("update_report", _) => {
            let etag = ctx.w.app.report(&ctx.w.a.manager.token, rep.draft).await.etag;
            req(at(rep.draft)).header("If-Match", etag).json(json!({"narrative": DRAFT_MARKER}))
        }
        ("submit_report", _) => req(at(ctx.fresh("draft").await)).consumes("draft"),
        ("batch_reports", "create on A's assignment") => req(at(0)).json(json!({"items": [
            {"op": "create", "assignment_id": asg, "status": "in_progress", "narrative": "批量填报的情况。", "period": format!("{}", 3000 + n)}]})),
        ("batch_reports", _) => {
            let draft = ctx.fresh("draft").await;
            req(at(0)).consumes("draft").json(json!({"items": [{"op": "submit", "report_id": draft}]}))
        }
        ("accept_report", _) => req(at(ctx.fresh("sent").await)).consumes("sent"),
        ("return_report", _) => req(at(ctx.fresh("sent to return").await)).consumes("sent to return").json(json!({"reason": RETURN_REASON})),
        ("stats_plan" | "get_plan" | "get_plan_tree" | "list_measures" | "get_summary", _) => req(at(ctx.w.plan)),
        ("get_inbox", _) => req(format!("{template}?unit={a}")),
        ("list_measure_reports", _) => req(at(ctx.w.measure)),
        ("receive_assignment" | "get_assignment_timeline", _) => req(at(asg)),
        ("receive_plan", _) => req(at(ctx.w.plan)),
        ("create_extension_request", _) => req(at(ctx.fresh("assignment").await)).consumes("assignment")
            .json(json!({"requested_due_date": "2100-06-30", "reason": "配套制度尚待审议。", "progress": "已完成草案。"})),
        ("get_extension_request", _) => req(at(ctx.fresh("pending extension").await)),
        ("approve_extension_request", _) => req(at(ctx.fresh("pending extension").await)).consumes("pending extension")
            .json(json!({"granted_due_date": "2100-03-31", "note": "同意延期。"})),
        ("reject_extension_request", _) => req(at(ctx.fresh("pending extension").await)).consumes("pending extension")
            .json(json!({"reason": "请按原定期限完成。"})),
        ("create_dispute", _) => req(at(ctx.fresh("assignment").await)).consumes("assignment")
            .json(json!({"kind": "not_ours", "reason": "该事项不属本单位职责。"})),
        ("get_dispute", _) => req(at(ctx.fresh("pending dispute").await)),
        ("resolve_dispute", _) => req(at(ctx.fresh("pending dispute").await)).consumes("pending dispute")
            .json(json!({"outcome": "reject", "reason": "职责清单明确由该单位承担。"})),
        ("create_urge", _) => req(at(0)).json(json!({"unit_id": a, "assignment_ids": [asg], "severity": "reminder", "message": "请按时报送。"})),
        ("get_urge" | "acknowledge_urge", _) => req(at(ctx.urge)),
        ("reply_urge", _) => req(at(ctx.urge)).json(json!({"reply": "已安排专人办理。"})),
        ("upload_attachment", _) => Req {
            body: Body::Raw("multipart/form-data; boundary=duban-test-boundary-7f3a", multipart_file("file", "纪要.pdf", b"%PDF-1.7 minutes")),
            ..req(at(rep.draft))
        },
        ("list_attachments", "A's draft") => req(at(rep.draft)),
        ("list_attachments", "A's sent") => req(at(rep.submitted)),
        ("download_attachment", "A's draft file") => req(at(ctx.fresh("draft file").await)),
        ("download_attachment", "A's sent file") => req(at(ctx.fresh("sent file").await)),
        ("delete_attachment", _) => req(at(ctx.fresh("draft file").await)).consumes("draft file"),
        ("list_calendar", _) => req(format!("{template}?year=2019")),
        ("add_calendar_day", _) => req(template.to_owned()).json(json!({"date": calendar_day(u64::from(n) + 10_000), "kind": "workday", "name": "调休上班"})),
        ("change_calendar_day", _) => req(template.replace("{date}", "2019-10-12")).json(json!({"kind": "workday", "name": "国庆节调休上班"})),
        ("remove_calendar_day", _) => {
            let n = ctx.fresh("calendar day").await;
            req(template.replace("{date}", &calendar_day(n as u64).to_string())).consumes("calendar day")
        }
        ("count_working_days", _) => req(format!("{template}?from=2019-09-30&days=5")),
        ("get_problem_type", _) => req(template.replace("{slug}", "precondition-failed")),
        ("create_webhook", _) => req(at(0)).json(json!({"url": format!("http://127.0.0.1:9/hook-{n}"), "events": ["report.submitted"]})),
        ("update_webhook", _) => req(at(ctx.webhook)).json(json!({"description": "财政局业务系统"})),
        ("delete_webhook", _) => req(at(ctx.fresh("webhook").await)).consumes("webhook"),
        ("redeliver_webhook_delivery", _) => req(at(ctx.webhook).replace("{delivery_id}", &ctx.delivery.to_string())),
        ("get_webhook" | "rotate_webhook_secret" | "ping_webhook" | "list_webhook_deliveries", _) => req(at(ctx.webhook)),
        _ => req(template.to_owned()),
    }
}

/// A day far ahead for the calendar's writes, one per `n`.
fn calendar_day(n: u64) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2040, 1, 1).unwrap() + chrono::Days::new(n)
}
