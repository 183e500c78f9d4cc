//! The report workflow: every allowed and refused transition, revisions, ETag/If-Match,
//! Idempotency-Key, and who may draft, submit and review.

use crate::helpers::*;
use serde_json::{json, Value};

/// A published plan with one measure led by unit A (市司法局) with unit B (市财政局) taking part.
pub struct Fixture {
    pub app: TestApp,
    pub coordinator: String,
    pub manager_a: String,
    pub reporter_a: String,
    pub manager_b: String,
    pub viewer: String,
    pub unit_a: i64,
    pub unit_b: i64,
    pub plan: i64,
    pub measure: i64,
    pub lead_assignment: i64,
    pub participant_assignment: i64,
}

pub async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let office = app.unit("市委依法治市办").await;
    let unit_a = app.unit("市司法局").await;
    let unit_b = app.unit("市财政局").await;
    let (_, coordinator) = app.account("office", "coordinator", Some(office)).await;
    let (_, manager_a) = app.account("manager-a", "unit_manager", Some(unit_a)).await;
    let (_, reporter_a) = app
        .account("reporter-a", "unit_reporter", Some(unit_a))
        .await;
    let (_, manager_b) = app.account("manager-b", "unit_manager", Some(unit_b)).await;
    let (_, viewer) = app.account("auditor", "viewer", None).await;
    let plan = app
        .post(
            "/plans",
            &coordinator,
            json!({"title": "2099年计划", "year": 2099}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let s = app
        .post(
            &format!("/plans/{plan}/items"),
            &coordinator,
            json!({"level": "section", "number": "一", "title": "依法全面履行政府职能"}),
        )
        .await;
    let t = app.post(&format!("/plans/{plan}/items"), &coordinator, json!({"level": "task", "parent_id": s.body["id"], "number": "1", "title": "深化改革。"})).await;
    let m = app
        .post(&format!("/plans/{plan}/items"), &coordinator, json!({"level": "measure", "parent_id": t.body["id"], "number": "1", "title": "下放行政审批权。", "sources": ["渝委发〔2016〕27号"], "lead_units": "市司法局", "participant_units": "市财政局"}))
        .await;
    assert_eq!(m.status, 201, "{}", m.raw);
    let measure = m.body["id"].as_i64().unwrap();
    let r = app
        .post(&format!("/measures/{measure}/assignments"), &coordinator, json!({"lead": {"unit_ids": [unit_a]}, "participants": {"unit_ids": [unit_b]}, "due_date": "2099-12-31", "cycle": "yearly"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let created = r.body["created"].as_array().unwrap();
    let id_of = |unit: i64| {
        created.iter().find(|a| a["unit_id"] == unit).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (lead_assignment, participant_assignment) = (id_of(unit_a), id_of(unit_b));
    assert_eq!(
        app.post(&format!("/plans/{plan}/publish"), &coordinator, json!({}))
            .await
            .status,
        200
    );
    Fixture {
        app,
        coordinator,
        manager_a,
        reporter_a,
        manager_b,
        viewer,
        unit_a,
        unit_b,
        plan,
        measure,
        lead_assignment,
        participant_assignment,
    }
}

/// Sends a request with extra headers.
pub async fn send_with(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut req = app
        .client
        .request(method.parse().unwrap(), app.url(path))
        .insert_header(("Authorization", format!("Bearer {token}")));
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    let res = match body {
        Some(b) => req.send_json(&b).await,
        None => req.send().await,
    };
    read(res.unwrap()).await
}

pub async fn draft(f: &Fixture, assignment: i64, token: &str, narrative: &str) -> (i64, String) {
    let r = f
        .app
        .post(
            &format!("/assignments/{assignment}/reports"),
            token,
            json!({"status": "in_progress", "narrative": narrative}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    (r.body["id"].as_i64().unwrap(), r.header("etag").unwrap())
}

async fn step(f: &Fixture, id: i64, action: &str, token: &str) -> Reply {
    let body = if action == "return" {
        json!({"reason": "请补充具体数据。"})
    } else {
        json!({})
    };
    f.app
        .post(&format!("/reports/{id}/{action}"), token, body)
        .await
}

async fn edit(f: &Fixture, id: i64, token: &str, narrative: &str) -> Reply {
    let current = f.app.get(&format!("/reports/{id}"), token).await;
    let etag = current.header("etag").unwrap_or_default();
    send_with(
        &f.app,
        "PATCH",
        &format!("/reports/{id}"),
        token,
        &[("If-Match", &etag)],
        Some(json!({"narrative": narrative})),
    )
    .await
}

#[actix_rt::test]
async fn every_transition_is_allowed_or_refused_as_the_workflow_says() {
    let f = fixture().await;
    let (id, _) = draft(&f, f.lead_assignment, &f.manager_a, "起草").await;
    // Draft: the office cannot review it.
    step(&f, id, "accept", &f.coordinator)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(edit(&f, id, &f.manager_a, "修改草稿").await.status, 200);
    let submitted = step(&f, id, "submit", &f.manager_a).await;
    assert_eq!(submitted.body["workflow"], "submitted", "{}", submitted.raw);
    // Submitted: no edit, no second submit.
    edit(&f, id, &f.manager_a, "改不了")
        .await
        .assert_problem(409, "conflict");
    step(&f, id, "submit", &f.manager_a)
        .await
        .assert_problem(409, "conflict");
    let returned = step(&f, id, "return", &f.coordinator).await;
    assert_eq!(returned.body["workflow"], "returned");
    assert_eq!(returned.body["return_reason"], "请补充具体数据。");
    // Returned: not acceptable, editable, resubmittable.
    step(&f, id, "accept", &f.coordinator)
        .await
        .assert_problem(409, "conflict");
    step(&f, id, "return", &f.coordinator)
        .await
        .assert_problem(409, "conflict");
    assert_eq!(edit(&f, id, &f.manager_a, "补充了数据").await.status, 200);
    let resubmitted = step(&f, id, "submit", &f.manager_a).await;
    assert_eq!(resubmitted.body["workflow"], "resubmitted");
    let returned_again = step(&f, id, "return", &f.coordinator).await;
    assert_eq!(returned_again.body["workflow"], "returned");
    assert_eq!(
        step(&f, id, "submit", &f.manager_a).await.body["workflow"],
        "resubmitted"
    );
    let accepted = step(&f, id, "accept", &f.coordinator).await;
    assert_eq!(accepted.body["workflow"], "accepted");
    // Accepted is final.
    for action in ["submit", "accept", "return"] {
        step(
            &f,
            id,
            action,
            if action == "submit" {
                &f.manager_a
            } else {
                &f.coordinator
            },
        )
        .await
        .assert_problem(409, "conflict");
    }
    edit(&f, id, &f.manager_a, "改不了")
        .await
        .assert_problem(409, "conflict");
    let r = f
        .app
        .post(
            &format!("/reports/{id}/return"),
            &f.coordinator,
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(r.fields(), vec!["reason"]);
}

#[actix_rt::test]
async fn every_submission_is_kept_as_an_immutable_revision() {
    let f = fixture().await;
    let (id, _) = draft(&f, f.lead_assignment, &f.manager_a, "第一稿").await;
    step(&f, id, "submit", &f.manager_a).await;
    step(&f, id, "return", &f.coordinator).await;
    edit(&f, id, &f.manager_a, "第二稿").await;
    step(&f, id, "submit", &f.manager_a).await;
    let revs = f
        .app
        .get(&format!("/reports/{id}/revisions"), &f.coordinator)
        .await;
    assert_eq!(revs.status, 200, "{}", revs.raw);
    let list = revs.body.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["revision"], 1);
    assert_eq!(list[0]["narrative"], "第一稿");
    assert_eq!(list[1]["narrative"], "第二稿");
    let history = f
        .app
        .get(
            &format!("/audit?entity_type=report&entity_id={id}"),
            &f.coordinator,
        )
        .await;
    let actions: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "report.submit",
            "report.update",
            "report.return",
            "report.submit",
            "report.create"
        ]
    );
}

#[actix_rt::test]
async fn updates_need_the_current_etag() {
    let f = fixture().await;
    let (id, etag) = draft(&f, f.lead_assignment, &f.manager_a, "起草").await;
    let path = format!("/reports/{id}");
    let missing = send_with(
        &f.app,
        "PATCH",
        &path,
        &f.manager_a,
        &[],
        Some(json!({"narrative": "x"})),
    )
    .await;
    missing.assert_problem(428, "precondition-required");
    let ok = send_with(
        &f.app,
        "PATCH",
        &path,
        &f.manager_a,
        &[("If-Match", &etag)],
        Some(json!({"narrative": "第二版", "status": "completed"})),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    let new_etag = ok.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    assert_eq!(ok.body["version"], 2);
    assert_eq!(ok.body["status"], "completed");
    let stale = send_with(
        &f.app,
        "PATCH",
        &path,
        &f.manager_a,
        &[("If-Match", &etag)],
        Some(json!({"narrative": "覆盖"})),
    )
    .await;
    stale.assert_problem(412, "precondition-failed");
    assert_eq!(
        f.app.get(&path, &f.manager_a).await.body["narrative"],
        "第二版",
        "the stale write changed nothing"
    );
    assert_eq!(
        f.app.get(&path, &f.manager_a).await.header("etag").unwrap(),
        new_etag
    );
    // A submit that names a stale version is refused too.
    send_with(
        &f.app,
        "POST",
        &format!("{path}/submit"),
        &f.manager_a,
        &[("If-Match", &etag)],
        None,
    )
    .await
    .assert_problem(412, "precondition-failed");
    assert_eq!(
        send_with(
            &f.app,
            "POST",
            &format!("{path}/submit"),
            &f.manager_a,
            &[("If-Match", &new_etag)],
            None
        )
        .await
        .status,
        200
    );
}

#[actix_rt::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let f = fixture().await;
    let path = format!("/assignments/{}/reports", f.lead_assignment);
    let body = json!({"status": "completed", "narrative": "已完成。"});
    let first = send_with(
        &f.app,
        "POST",
        &path,
        &f.manager_a,
        &[("Idempotency-Key", "sys-2099-001")],
        Some(body.clone()),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.raw);
    let again = send_with(
        &f.app,
        "POST",
        &path,
        &f.manager_a,
        &[("Idempotency-Key", "sys-2099-001")],
        Some(body.clone()),
    )
    .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(
        again.header("idempotency-replayed").as_deref(),
        Some("true")
    );
    let other = send_with(
        &f.app,
        "POST",
        &path,
        &f.manager_a,
        &[("Idempotency-Key", "sys-2099-001")],
        Some(json!({"status": "completed", "narrative": "别的内容"})),
    )
    .await;
    other.assert_problem(422, "validation");
    assert_eq!(other.fields(), vec!["Idempotency-Key"]);
    let list = f
        .app
        .get(
            &format!("/reports?assignment_id={}", f.lead_assignment),
            &f.manager_a,
        )
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    // Without a key a second create is a conflict: one report per period.
    f.app
        .post(&path, &f.manager_a, body)
        .await
        .assert_problem(409, "conflict");

    let id = first.body["id"].as_i64().unwrap();
    let submit = format!("/reports/{id}/submit");
    let s1 = send_with(
        &f.app,
        "POST",
        &submit,
        &f.manager_a,
        &[("Idempotency-Key", "sys-2099-002")],
        None,
    )
    .await;
    assert_eq!(s1.status, 200, "{}", s1.raw);
    let s2 = send_with(
        &f.app,
        "POST",
        &submit,
        &f.manager_a,
        &[("Idempotency-Key", "sys-2099-002")],
        None,
    )
    .await;
    assert_eq!(
        s2.status, 200,
        "a retried submit gets the first answer, not a 409: {}",
        s2.raw
    );
    assert_eq!(s2.body["workflow"], "submitted");
    let revs = f
        .app
        .get(&format!("/reports/{id}/revisions"), &f.manager_a)
        .await;
    assert_eq!(revs.body.as_array().unwrap().len(), 1);
    // Keys are per caller: another account's key of the same name is its own.
    let bad = send_with(
        &f.app,
        "POST",
        &path,
        &f.manager_a,
        &[("Idempotency-Key", "has spaces in it")],
        Some(json!({"status": "completed", "narrative": "x"})),
    )
    .await;
    assert_eq!(bad.fields(), vec!["Idempotency-Key"]);
}

#[actix_rt::test]
async fn a_reporter_drafts_and_the_manager_submits() {
    let f = fixture().await;
    let (id, _) = draft(&f, f.lead_assignment, &f.reporter_a, "填报员起草").await;
    assert_eq!(edit(&f, id, &f.reporter_a, "填报员修改").await.status, 200);
    step(&f, id, "submit", &f.reporter_a)
        .await
        .assert_problem(403, "forbidden");
    step(&f, id, "accept", &f.manager_a)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(step(&f, id, "submit", &f.manager_a).await.status, 200);
    step(&f, id, "accept", &f.viewer)
        .await
        .assert_problem(403, "forbidden");
    let period = f
        .app
        .post(
            &format!("/assignments/{}/reports", f.lead_assignment),
            &f.manager_a,
            json!({"period": "2099-Q1", "status": "in_progress", "narrative": "x"}),
        )
        .await;
    assert_eq!(period.fields(), vec!["period"]);
}

#[actix_rt::test]
async fn a_department_system_reports_within_its_scopes() {
    let f = fixture().await;
    let (_, full) = f
        .app
        .service_account(
            "justice-system",
            f.unit_a,
            Some(vec![
                "assignments:read",
                "reports:read",
                "reports:write",
                "reports:submit",
            ]),
        )
        .await;
    let (_, draft_only) = f
        .app
        .service_account("justice-drafts", f.unit_a, None)
        .await;
    let token = |r: Reply| r.body["access_token"].as_str().unwrap().to_owned();
    let system = token(f.app.client_token("justice-system", &full, None).await);
    let drafter = token(
        f.app
            .client_token("justice-drafts", &draft_only, None)
            .await,
    );
    let mine = f.app.get("/assignments", &system).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["items"][0]["id"], f.lead_assignment);
    let (id, _) = draft(&f, f.lead_assignment, &drafter, "系统起草").await;
    step(&f, id, "submit", &drafter)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        step(&f, id, "submit", &system).await.body["workflow"],
        "submitted"
    );
    // The participant's assignment is visible to the lead unit, but not its to report on.
    f.app
        .post(
            &format!("/assignments/{}/reports", f.participant_assignment),
            &system,
            json!({"status": "completed", "narrative": "x"}),
        )
        .await
        .assert_problem(403, "forbidden");
}
