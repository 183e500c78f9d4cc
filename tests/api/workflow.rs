//! The report workflow end to end: every transition allowed or refused, the revisions kept on
//! each submission, ETag/If-Match on edits, Idempotency-Key on creation and submission, one
//! report per period, and who may draft, edit and submit (people and department systems).

use crate::helpers::*;
use chrono::{DateTime, Datelike, Utc};
use serde_json::{json, Value};

/// A published 2020 plan with one measure (下放行政审批权。) led by unit A (市司法局), unit B
/// (市财政局) taking part, and the accounts that work on it.
pub(crate) struct Setup {
    pub app: TestApp,
    /// The bootstrap admin's token.
    pub admin: String,
    /// 市委依法治市办, the coordinator's unit.
    pub office: i64,
    /// 市司法局, the lead unit.
    pub unit_a: i64,
    /// 市财政局, the participating unit.
    pub unit_b: i64,
    pub coordinator_id: i64,
    pub coordinator: String,
    pub manager_a_id: i64,
    pub manager_a: String,
    pub reporter_a_id: i64,
    pub reporter_a: String,
    pub manager_b_id: i64,
    pub manager_b: String,
    pub plan: i64,
    pub section: i64,
    pub task: i64,
    pub measure: i64,
    /// A's lead assignment.
    pub assignment_a: i64,
    /// B's participant assignment.
    pub assignment_b: i64,
}

/// Builds [`Setup`] on a fresh app.
pub(crate) async fn setup() -> Setup {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let office = app.unit("市委依法治市办").await;
    let unit_a = app.unit("市司法局").await;
    let unit_b = app.unit("市财政局").await;
    let (coordinator_id, coordinator) = app
        .account("office-staff", "coordinator", Some(office))
        .await;
    let (manager_a_id, manager_a) = app
        .account("justice-manager", "unit_manager", Some(unit_a))
        .await;
    let (reporter_a_id, reporter_a) = app
        .account("justice-reporter", "unit_reporter", Some(unit_a))
        .await;
    let (manager_b_id, manager_b) = app
        .account("finance-manager", "unit_manager", Some(unit_b))
        .await;

    let p = app
        .post(
            "/plans",
            &coordinator,
            json!({"title": "2020年计划", "year": 2020}),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.raw);
    assert_eq!(p.body["state"], "draft");
    let plan = p.body["id"].as_i64().unwrap();
    let items = format!("/plans/{plan}/items");
    let s = app
        .post(
            &items,
            &coordinator,
            json!({"level": "section", "number": "一", "title": "依法全面履行政府职能"}),
        )
        .await;
    assert_eq!(s.status, 201, "{}", s.raw);
    let section = s.body["id"].as_i64().unwrap();
    let t = app
        .post(
            &items,
            &coordinator,
            json!({"level": "task", "parent_id": section, "number": "1", "title": "深化改革。"}),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.raw);
    let task = t.body["id"].as_i64().unwrap();
    let m = app
        .post(
            &items,
            &coordinator,
            json!({"level": "measure", "parent_id": task, "number": "1", "title": "下放行政审批权。",
                   "sources": ["渝委发〔2016〕27号"], "lead_units": "市司法局", "participant_units": "市财政局"}),
        )
        .await;
    assert_eq!(m.status, 201, "{}", m.raw);
    assert_eq!(m.body["code"], "1.1.1");
    let measure = m.body["id"].as_i64().unwrap();

    let r = app
        .post(
            &format!("/measures/{measure}/assignments"),
            &coordinator,
            json!({"lead": {"unit_ids": [unit_a]}, "participants": {"unit_ids": [unit_b]},
                   "due_date": "2099-12-31", "cycle": "yearly"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["already_assigned"], json!([]));
    let created = r.body["created"].as_array().unwrap();
    assert_eq!(created.len(), 2, "{}", r.raw);
    let of_unit = |unit: i64| -> &Value {
        created
            .iter()
            .find(|a| a["unit_id"] == unit)
            .unwrap_or_else(|| panic!("no assignment of unit {unit}: {}", r.raw))
    };
    let (a, b) = (of_unit(unit_a), of_unit(unit_b));
    assert_eq!(a["role"], "lead");
    assert_eq!(b["role"], "participant");
    for x in [a, b] {
        assert_eq!(x["plan_id"], plan);
        assert_eq!(x["measure_id"], measure);
        assert_eq!(x["due_date"], "2099-12-31");
        assert_eq!(x["cycle"], "yearly");
        assert_eq!(x["state"], "not_started");
        assert_eq!(x["latest_report_id"], Value::Null);
    }
    let (assignment_a, assignment_b) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());

    let published = app
        .post(&format!("/plans/{plan}/publish"), &coordinator, json!({}))
        .await;
    assert_eq!(published.status, 200, "{}", published.raw);
    assert_eq!(published.body["state"], "published");

    Setup {
        app,
        admin,
        office,
        unit_a,
        unit_b,
        coordinator_id,
        coordinator,
        manager_a_id,
        manager_a,
        reporter_a_id,
        reporter_a,
        manager_b_id,
        manager_b,
        plan,
        section,
        task,
        measure,
        assignment_a,
        assignment_b,
    }
}

/// Sends a request with a bearer token and extra headers (If-Match, Idempotency-Key).
pub(crate) async fn send_with(
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
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    let res = match body {
        Some(b) => req.send_json(&b).await,
        None => req.send().await,
    };
    read(res.expect("request sent")).await
}

/// Starts a draft (status in_progress, default period) and returns the whole answer (201).
pub(crate) async fn create_report(
    f: &Setup,
    assignment: i64,
    token: &str,
    narrative: &str,
) -> Reply {
    let r = f
        .app
        .post(
            &format!("/assignments/{assignment}/reports"),
            token,
            json!({"status": "in_progress", "narrative": narrative}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    r
}

/// Starts a draft and returns its id.
pub(crate) async fn draft_report(f: &Setup, assignment: i64, token: &str, narrative: &str) -> i64 {
    create_report(f, assignment, token, narrative).await.body["id"]
        .as_i64()
        .unwrap()
}

/// POST /reports/{id}/{action} without extra headers (`return` carries a reason).
pub(crate) async fn act(f: &Setup, id: i64, action: &str, token: &str) -> Reply {
    let body = if action == "return" {
        json!({"reason": "请补充具体数据。"})
    } else {
        json!({})
    };
    f.app
        .post(&format!("/reports/{id}/{action}"), token, body)
        .await
}

/// Submits and checks it worked; returns the answer.
pub(crate) async fn submit(f: &Setup, id: i64, token: &str) -> Reply {
    let r = act(f, id, "submit", token).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r
}

/// PATCHes with the ETag the same caller reads just before.
pub(crate) async fn edit(f: &Setup, id: i64, token: &str, changes: Value) -> Reply {
    let current = f.app.get(&format!("/reports/{id}"), token).await;
    assert_eq!(current.status, 200, "{}", current.raw);
    let etag = current.header("etag").expect("an ETag on GET");
    send_with(
        &f.app,
        "PATCH",
        &format!("/reports/{id}"),
        token,
        &[("If-Match", &etag)],
        Some(changes),
    )
    .await
}

/// The ids of a list answer's items.
pub(crate) fn ids(r: &Reply) -> Vec<i64> {
    assert_eq!(r.status, 200, "{}", r.raw);
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", r.raw))
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect()
}

/// Asserts a 409 naming the workflow.
#[track_caller]
fn assert_refused(r: &Reply) {
    r.assert_problem(409, "conflict");
    assert_eq!(r.fields(), vec!["workflow"], "{}", r.raw);
}

fn this_year() -> String {
    Utc::now().year().to_string()
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {v}"))
        .parse()
        .unwrap_or_else(|e| panic!("{v}: {e}"))
}

#[actix_rt::test]
async fn every_allowed_transition_works_and_every_refused_one_is_a_conflict() {
    let f = setup().await;
    let app = &f.app;
    let (a, coord) = (&f.manager_a, &f.coordinator);
    let created = create_report(&f, f.assignment_a, a, "起草中").await;
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(created.body["workflow"], "draft");
    assert_eq!(created.body["status"], "in_progress");
    assert_eq!(created.body["assignment_id"], f.assignment_a);
    assert_eq!(created.body["unit_id"], f.unit_a);
    assert_eq!(created.body["period"], this_year());
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["return_reason"], Value::Null);
    assert_eq!(created.body["submitted_at"], Value::Null);
    assert_eq!(created.body["reviewed_at"], Value::Null);
    let path = format!("/reports/{id}");

    // Draft: the office cannot review what it cannot see (a draft is the unit's alone), so
    // accepting or returning it is refused as "not found", and nothing changes.
    for action in ["accept", "return"] {
        act(&f, id, action, coord)
            .await
            .assert_problem(404, "not-found");
        act(&f, id, action, &f.admin)
            .await
            .assert_problem(404, "not-found");
    }
    let still = app.get(&path, a).await;
    assert_eq!(
        (
            still.body["workflow"].clone(),
            still.body["version"].clone()
        ),
        (json!("draft"), json!(1))
    );
    // Draft: edit allowed, stays a draft.
    let edited = edit(&f, id, a, json!({"narrative": "修改后的草稿"})).await;
    assert_eq!(edited.status, 200, "{}", edited.raw);
    assert_eq!(edited.body["workflow"], "draft");
    assert_eq!(edited.body["narrative"], "修改后的草稿");
    assert_eq!(edited.body["version"], 2);

    // Draft → submitted.
    let submitted = submit(&f, id, a).await;
    assert_eq!(submitted.body["workflow"], "submitted");
    assert_eq!(submitted.body["version"], 3);
    assert!(
        submitted.body["submitted_at"].is_string(),
        "{}",
        submitted.raw
    );
    assert_eq!(submitted.body["reviewed_at"], Value::Null);
    // Submitted: no edit, no second submission.
    assert_refused(&edit(&f, id, a, json!({"narrative": "提交后再改"})).await);
    assert_refused(&act(&f, id, "submit", a).await);

    // Submitted → returned, with the reason.
    let returned = act(&f, id, "return", coord).await;
    assert_eq!(returned.status, 200, "{}", returned.raw);
    assert_eq!(returned.body["workflow"], "returned");
    assert_eq!(returned.body["return_reason"], "请补充具体数据。");
    // The office reads what was sent: its version is the revision it reads.
    assert_eq!(returned.body["version"], 1);
    assert!(returned.body["reviewed_at"].is_string(), "{}", returned.raw);
    let seen = app.get(&path, a).await;
    assert_eq!(seen.body["workflow"], "returned");
    assert_eq!(seen.body["return_reason"], "请补充具体数据。");
    // Returned: not accepted, not returned again; edited (the reason stays in view), then
    // resubmitted.
    assert_refused(&act(&f, id, "accept", coord).await);
    assert_refused(&act(&f, id, "return", coord).await);
    let fixed = edit(
        &f,
        id,
        a,
        json!({"narrative": "补充了数据", "status": "completed"}),
    )
    .await;
    assert_eq!(fixed.status, 200, "{}", fixed.raw);
    assert_eq!(fixed.body["workflow"], "returned");
    assert_eq!(fixed.body["return_reason"], "请补充具体数据。");
    assert_eq!(fixed.body["status"], "completed");
    assert_eq!(fixed.body["version"], 5);
    let resubmitted = submit(&f, id, a).await;
    assert_eq!(resubmitted.body["workflow"], "resubmitted");
    assert_eq!(resubmitted.body["version"], 6);
    // Resubmitted: no edit, no submission; returned once more, resubmitted, then accepted.
    assert_refused(&edit(&f, id, a, json!({"narrative": "再改"})).await);
    assert_refused(&act(&f, id, "submit", a).await);
    let returned_again = act(&f, id, "return", coord).await;
    assert_eq!(
        returned_again.body["workflow"], "returned",
        "{}",
        returned_again.raw
    );
    assert_eq!(submit(&f, id, a).await.body["workflow"], "resubmitted");
    let accepted = act(&f, id, "accept", coord).await;
    assert_eq!(accepted.status, 200, "{}", accepted.raw);
    assert_eq!(accepted.body["workflow"], "accepted");
    assert_eq!(accepted.body["narrative"], "补充了数据");
    // The office reads the third sent revision; the unit its working copy, version 9.
    assert_eq!(accepted.body["version"], 3);
    let version = 9;

    // Accepted is final: edit, submit, accept and return are all refused and change nothing.
    assert_refused(&edit(&f, id, a, json!({"narrative": "验收后再改"})).await);
    assert_refused(&act(&f, id, "submit", a).await);
    assert_refused(&act(&f, id, "accept", coord).await);
    assert_refused(&act(&f, id, "return", coord).await);
    let last = app.get(&path, a).await;
    assert_eq!(last.body["workflow"], "accepted");
    assert_eq!(last.body["version"], version);
    assert_eq!(last.body["narrative"], "补充了数据");

    // Submitted → accepted directly, on the participant's report.
    let b = draft_report(&f, f.assignment_b, &f.manager_b, "财政局配合完成").await;
    assert_eq!(
        submit(&f, b, &f.manager_b).await.body["workflow"],
        "submitted"
    );
    let b_accepted = act(&f, b, "accept", coord).await;
    assert_eq!(b_accepted.status, 200, "{}", b_accepted.raw);
    assert_eq!(b_accepted.body["workflow"], "accepted");
    assert_eq!(b_accepted.body["return_reason"], Value::Null);

    // The office's review list tells the states apart.
    let accepted_list = app
        .get(
            &format!("/reports?plan_id={}&workflow=accepted", f.plan),
            coord,
        )
        .await;
    assert_eq!(ids(&accepted_list), vec![id, b]);
    let returned_list = app.get("/reports?workflow=returned", coord).await;
    assert_eq!(ids(&returned_list), Vec::<i64>::new());
}

#[actix_rt::test]
async fn each_submission_adds_one_revision_with_the_text_as_submitted() {
    let f = setup().await;
    let app = &f.app;
    let a = &f.manager_a;
    let id = f
        .app
        .post(
            &format!("/assignments/{}/reports", f.assignment_a),
            a,
            json!({"status": "in_progress", "narrative": "第一稿", "problems": "人手不足", "next_steps": "继续推进"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let revisions = format!("/reports/{id}/revisions");
    // A draft, even edited, has no revision yet.
    assert_eq!(
        edit(&f, id, a, json!({"narrative": "第一稿（定稿）"}))
            .await
            .status,
        200
    );
    let none = app.get(&revisions, a).await;
    assert_eq!(none.status, 200, "{}", none.raw);
    assert_eq!(none.body, json!([]));

    submit(&f, id, a).await;
    let one = app.get(&revisions, a).await;
    assert_eq!(one.body.as_array().unwrap().len(), 1, "{}", one.raw);
    act(&f, id, "return", &f.coordinator).await;
    // An edit after the return changes the report, not the kept revision.
    let second = edit(
        &f,
        id,
        a,
        json!({"narrative": "第二稿", "status": "completed", "problems": "", "next_steps": "总结经验"}),
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.raw);
    let still_one = app.get(&revisions, &f.coordinator).await;
    assert_eq!(
        still_one.body, one.body,
        "an edit must not touch the revisions"
    );
    submit(&f, id, a).await;

    let listed = app.get(&revisions, &f.coordinator).await;
    assert_eq!(listed.status, 200, "{}", listed.raw);
    let revs = listed.body.as_array().unwrap();
    assert_eq!(revs.len(), 2, "{}", listed.raw);
    assert_eq!(revs[0]["revision"], 1);
    assert_eq!(revs[0]["narrative"], "第一稿（定稿）");
    assert_eq!(revs[0]["status"], "in_progress");
    assert_eq!(revs[0]["problems"], "人手不足");
    assert_eq!(revs[0]["next_steps"], "继续推进");
    assert_eq!(revs[1]["revision"], 2);
    assert_eq!(revs[1]["narrative"], "第二稿");
    assert_eq!(revs[1]["status"], "completed");
    assert_eq!(revs[1]["problems"], "");
    assert_eq!(revs[1]["next_steps"], "总结经验");
    assert_ne!(revs[0]["narrative"], revs[1]["narrative"]);
    for r in revs {
        assert_eq!(r["submitted_by"], f.manager_a_id);
    }
    assert!(time(&revs[0]["submitted_at"]) <= time(&revs[1]["submitted_at"]));
    // The unit reads the same history as the office.
    assert_eq!(app.get(&revisions, a).await.body, listed.body);
}

#[actix_rt::test]
async fn an_edit_needs_the_current_etag_in_if_match() {
    let f = setup().await;
    let app = &f.app;
    let a = &f.manager_a;
    let created = create_report(&f, f.assignment_a, a, "起草").await;
    let id = created.body["id"].as_i64().unwrap();
    let path = format!("/reports/{id}");
    let first = created.header("etag").expect("ETag on creation");
    assert!(first.starts_with('"') && first.ends_with('"'), "{first}");
    let read_back = app.get(&path, a).await;
    assert_eq!(read_back.header("etag").as_deref(), Some(first.as_str()));
    assert_eq!(read_back.body["version"], 1);

    let missing = send_with(
        app,
        "PATCH",
        &path,
        a,
        &[],
        Some(json!({"narrative": "无版本"})),
    )
    .await;
    missing.assert_problem(428, "precondition-required");

    let ok = send_with(
        app,
        "PATCH",
        &path,
        a,
        &[("If-Match", &first)],
        Some(json!({"narrative": "第二版"})),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    let second = ok.header("etag").expect("ETag on PATCH");
    assert_ne!(second, first);
    assert_eq!(ok.body["version"], 2);
    assert_eq!(ok.body["narrative"], "第二版");

    let stale = send_with(
        app,
        "PATCH",
        &path,
        a,
        &[("If-Match", &first)],
        Some(json!({"narrative": "基于旧版本的修改"})),
    )
    .await;
    stale.assert_problem(412, "precondition-failed");
    assert!(
        stale.body["detail"].as_str().unwrap().contains(&second),
        "the problem names the current ETag: {}",
        stale.raw
    );
    let made_up = send_with(
        app,
        "PATCH",
        &path,
        a,
        &[("If-Match", "\"no-such-version\"")],
        Some(json!({"narrative": "x"})),
    )
    .await;
    made_up.assert_problem(412, "precondition-failed");

    // Neither refused write changed anything.
    let now = app.get(&path, a).await;
    assert_eq!(now.body["narrative"], "第二版");
    assert_eq!(now.body["version"], 2);
    assert_eq!(now.header("etag").as_deref(), Some(second.as_str()));

    // The current one works again, and the version keeps rising.
    let third = send_with(
        app,
        "PATCH",
        &path,
        a,
        &[("If-Match", &second)],
        Some(json!({"status": "completed"})),
    )
    .await;
    assert_eq!(third.status, 200, "{}", third.raw);
    assert_eq!(third.body["version"], 3);
    assert_eq!(third.body["narrative"], "第二版", "omitted fields stay");
    assert_eq!(third.body["status"], "completed");
    let third_tag = third.header("etag").unwrap();
    assert!(third_tag != second && third_tag != first);

    // On submission If-Match is optional, but a stale one is refused.
    send_with(
        app,
        "POST",
        &format!("{path}/submit"),
        a,
        &[("If-Match", &second)],
        None,
    )
    .await
    .assert_problem(412, "precondition-failed");
    let sent = send_with(
        app,
        "POST",
        &format!("{path}/submit"),
        a,
        &[("If-Match", &third_tag)],
        None,
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.raw);
    assert_eq!(sent.body["workflow"], "submitted");
    assert_eq!(sent.body["version"], 4);
    assert_ne!(sent.header("etag"), Some(third_tag));
}

#[actix_rt::test]
async fn an_idempotency_key_replays_report_creation_and_refuses_another_body() {
    let f = setup().await;
    let app = &f.app;
    let a = &f.manager_a;
    let path = format!("/assignments/{}/reports", f.assignment_a);
    let body = json!({"status": "completed", "narrative": "已完成下放工作。", "period": "2099"});
    let key = [("Idempotency-Key", "justice-2099-0001")];

    let first = send_with(app, "POST", &path, a, &key, Some(body.clone())).await;
    assert_eq!(first.status, 201, "{}", first.raw);
    assert_eq!(first.header("idempotency-replayed"), None);
    assert_eq!(first.body["period"], "2099");
    let id = first.body["id"].as_i64().unwrap();

    let again = send_with(app, "POST", &path, a, &key, Some(body.clone())).await;
    assert_eq!(again.status, 201, "{}", again.raw);
    assert_eq!(again.body, first.body, "the first answer, word for word");
    assert_eq!(again.body["id"], id);
    assert_eq!(
        again.header("idempotency-replayed").as_deref(),
        Some("true")
    );

    let other = send_with(
        app,
        "POST",
        &path,
        a,
        &key,
        Some(json!({"status": "completed", "narrative": "另一份内容。", "period": "2099"})),
    )
    .await;
    other.assert_problem(422, "validation");
    assert_eq!(other.fields(), vec!["Idempotency-Key"]);

    let listed = app
        .get(&format!("/reports?assignment_id={}", f.assignment_a), a)
        .await;
    assert_eq!(ids(&listed), vec![id], "exactly one report was made");
    assert_eq!(listed.body["items"][0]["narrative"], "已完成下放工作。");
}

#[actix_rt::test]
async fn a_retried_submission_with_the_same_idempotency_key_answers_200_and_keeps_one_revision() {
    let f = setup().await;
    let app = &f.app;
    let a = &f.manager_a;
    let id = draft_report(&f, f.assignment_a, a, "按期完成").await;
    let path = format!("/reports/{id}/submit");
    let key = [("Idempotency-Key", "justice-submit-0001")];

    let first = send_with(app, "POST", &path, a, &key, None).await;
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.body["workflow"], "submitted");
    let retry = send_with(app, "POST", &path, a, &key, None).await;
    assert_eq!(
        retry.status, 200,
        "a retry gets the first answer, not a 409: {}",
        retry.raw
    );
    assert_eq!(retry.body, first.body);
    assert_eq!(
        retry.header("idempotency-replayed").as_deref(),
        Some("true")
    );

    let revs = app.get(&format!("/reports/{id}/revisions"), a).await;
    assert_eq!(revs.body.as_array().unwrap().len(), 1, "{}", revs.raw);
    assert_eq!(revs.body[0]["narrative"], "按期完成");
    let report = app.get(&format!("/reports/{id}"), a).await;
    assert_eq!(
        report.body["version"], first.body["version"],
        "the retry changed nothing"
    );
    // Without the key a second submission is what it is: a conflict.
    assert_refused(&act(&f, id, "submit", a).await);
}

#[actix_rt::test]
async fn a_second_report_for_the_same_period_is_a_conflict() {
    let f = setup().await;
    let app = &f.app;
    let a = &f.manager_a;
    let path = format!("/assignments/{}/reports", f.assignment_a);
    let first = app
        .post(
            &path,
            a,
            json!({"status": "in_progress", "narrative": "上半年进展", "period": "2099"}),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.raw);
    assert_eq!(first.body["period"], "2099");
    let dup = app
        .post(
            &path,
            a,
            json!({"status": "completed", "narrative": "另起一份", "period": "2099"}),
        )
        .await;
    dup.assert_problem(409, "conflict");
    assert_eq!(dup.fields(), vec!["period"]);
    // Also once the first is sent, and for the reporter of the same unit.
    submit(&f, first.body["id"].as_i64().unwrap(), a).await;
    app.post(
        &path,
        &f.reporter_a,
        json!({"status": "completed", "narrative": "再来一份", "period": "2099"}),
    )
    .await
    .assert_problem(409, "conflict");
    // The default period (this year, the due date being later) is taken once too.
    let current = create_report(&f, f.assignment_a, a, "本年度").await;
    assert_eq!(current.body["period"], this_year());
    app.post(
        &path,
        a,
        json!({"status": "in_progress", "narrative": "本年度第二份"}),
    )
    .await
    .assert_problem(409, "conflict");
    // A yearly cycle takes years only.
    let bad = app
        .post(
            &path,
            a,
            json!({"status": "in_progress", "narrative": "x", "period": "2099-Q1"}),
        )
        .await;
    bad.assert_problem(422, "validation");
    assert_eq!(bad.fields(), vec!["period"]);
    // The same period on another unit's assignment is that unit's own.
    let b = app
        .post(
            &format!("/assignments/{}/reports", f.assignment_b),
            &f.manager_b,
            json!({"status": "in_progress", "narrative": "财政局", "period": "2099"}),
        )
        .await;
    assert_eq!(b.status, 201, "{}", b.raw);
    let listed = app
        .get(&format!("/reports?assignment_id={}", f.assignment_a), a)
        .await;
    let periods: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["period"].as_str().unwrap())
        .collect();
    let year = this_year();
    assert_eq!(periods, vec!["2099", year.as_str()]);
}

#[actix_rt::test]
async fn a_reporter_drafts_and_edits_but_only_the_manager_submits() {
    let f = setup().await;
    let app = &f.app;
    let created = create_report(&f, f.assignment_a, &f.reporter_a, "填报员起草").await;
    let id = created.body["id"].as_i64().unwrap();
    let edited = edit(&f, id, &f.reporter_a, json!({"narrative": "填报员修改"})).await;
    assert_eq!(edited.status, 200, "{}", edited.raw);
    assert_eq!(edited.body["narrative"], "填报员修改");

    act(&f, id, "submit", &f.reporter_a)
        .await
        .assert_problem(403, "forbidden");
    let key = [("Idempotency-Key", "reporter-try-1")];
    send_with(
        app,
        "POST",
        &format!("/reports/{id}/submit"),
        &f.reporter_a,
        &key,
        None,
    )
    .await
    .assert_problem(403, "forbidden");
    let still = app.get(&format!("/reports/{id}"), &f.reporter_a).await;
    assert_eq!(still.body["workflow"], "draft");
    assert_eq!(still.body["version"], 2);

    let sent = submit(&f, id, &f.manager_a).await;
    assert_eq!(sent.body["workflow"], "submitted");
    assert_eq!(sent.body["narrative"], "填报员修改");
    let revs = app
        .get(&format!("/reports/{id}/revisions"), &f.reporter_a)
        .await;
    assert_eq!(revs.body[0]["submitted_by"], f.manager_a_id, "{}", revs.raw);
    // After a return the reporter fixes it, and again only the manager resubmits.
    act(&f, id, "return", &f.coordinator).await;
    assert_eq!(
        edit(&f, id, &f.reporter_a, json!({"narrative": "填报员补充"}))
            .await
            .status,
        200
    );
    act(&f, id, "submit", &f.reporter_a)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        submit(&f, id, &f.manager_a).await.body["workflow"],
        "resubmitted"
    );

    // The audit trail records who did what.
    let trail = app
        .get(
            &format!("/audit?entity_type=report&entity_id={id}"),
            &f.coordinator,
        )
        .await;
    assert_eq!(trail.status, 200, "{}", trail.raw);
    let entries: Vec<(String, i64)> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor_user_id"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, i64)> = [
        ("report.create", f.reporter_a_id),
        ("report.update", f.reporter_a_id),
        ("report.submit", f.manager_a_id),
        ("report.return", f.coordinator_id),
        ("report.update", f.reporter_a_id),
        ("report.submit", f.manager_a_id),
    ]
    .iter()
    .map(|(a, u)| (a.to_string(), *u))
    .collect();
    assert_eq!(entries, expected);
}

#[actix_rt::test]
async fn a_department_system_creates_and_submits_only_with_the_submit_scope() {
    let f = setup().await;
    let app = &f.app;
    let made = app
        .post(
            "/users",
            &f.admin,
            json!({"username": "justice-system", "display_name": "司法局业务系统", "role": "service",
                   "unit_id": f.unit_a,
                   "scopes": ["assignments:read", "reports:read", "reports:write", "reports:submit"]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.raw);
    assert_eq!(made.body["role"], "service");
    assert_eq!(made.body["unit_id"], f.unit_a);
    let system_id = made.body["id"].as_i64().unwrap();
    let secret = made.body["client_secret"].as_str().unwrap().to_owned();
    let grant = app.client_token("justice-system", &secret, None).await;
    assert_eq!(grant.status, 200, "{}", grant.raw);
    let mut granted: Vec<&str> = grant.body["scope"].as_str().unwrap().split(' ').collect();
    granted.sort_unstable();
    assert_eq!(
        granted,
        vec![
            "assignments:read",
            "reports:read",
            "reports:submit",
            "reports:write"
        ]
    );
    let system = grant.body["access_token"].as_str().unwrap().to_owned();

    // It sees its unit's assignment only, creates, and submits.
    assert_eq!(
        ids(&app.get("/assignments", &system).await),
        vec![f.assignment_a]
    );
    let id = draft_report(&f, f.assignment_a, &system, "系统报送：已完成").await;
    let sent = submit(&f, id, &system).await;
    assert_eq!(sent.body["workflow"], "submitted");
    assert_eq!(sent.body["unit_id"], f.unit_a);
    let revs = app.get(&format!("/reports/{id}/revisions"), &system).await;
    assert_eq!(revs.body[0]["submitted_by"], system_id, "{}", revs.raw);

    // Another system of the unit without reports:submit drafts but cannot submit.
    let (_, drafts_secret) = app
        .service_account(
            "justice-drafts",
            f.unit_a,
            Some(vec!["assignments:read", "reports:read", "reports:write"]),
        )
        .await;
    let drafter = app
        .client_token("justice-drafts", &drafts_secret, None)
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app
        .post(
            &format!("/assignments/{}/reports", f.assignment_a),
            &drafter,
            json!({"status": "in_progress", "narrative": "草稿", "period": "2099"}),
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.raw);
    let other_id = other.body["id"].as_i64().unwrap();
    act(&f, other_id, "submit", &drafter)
        .await
        .assert_problem(403, "forbidden");
    // A token of the full system asked for fewer scopes is limited to them.
    let narrow = app
        .client_token(
            "justice-system",
            &secret,
            Some("reports:read reports:write"),
        )
        .await;
    assert_eq!(narrow.status, 200, "{}", narrow.raw);
    let narrow = narrow.body["access_token"].as_str().unwrap().to_owned();
    act(&f, other_id, "submit", &narrow)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        app.get(&format!("/reports/{other_id}"), &f.manager_a)
            .await
            .body["workflow"],
        "draft"
    );
    assert_eq!(
        submit(&f, other_id, &system).await.body["workflow"],
        "submitted"
    );
}

#[actix_rt::test]
async fn a_replayed_creation_carries_the_etag_of_the_first_answer() {
    let f = setup().await;
    let app = &f.app;
    let a = &f.manager_a;
    let path = format!("/assignments/{}/reports", f.assignment_a);
    let body = json!({"status": "in_progress", "narrative": "系统重试", "period": "2099"});
    let key = [("Idempotency-Key", "justice-retry-0001")];
    let first = send_with(app, "POST", &path, a, &key, Some(body.clone())).await;
    assert_eq!(first.status, 201, "{}", first.raw);
    let etag = first.header("etag").expect("ETag on the first answer");
    let again = send_with(app, "POST", &path, a, &key, Some(body)).await;
    assert_eq!(again.status, 201, "{}", again.raw);
    assert_eq!(
        again.header("idempotency-replayed").as_deref(),
        Some("true")
    );
    // "Same key and body: the first answer again" — a system that lost the first answer must
    // get the ETag it needs for its next PATCH.
    assert_eq!(
        again.header("etag"),
        Some(etag.clone()),
        "the replayed 201 lacks the ETag header of the first answer"
    );
    let id = first.body["id"].as_i64().unwrap();
    let patched = send_with(
        app,
        "PATCH",
        &format!("/reports/{id}"),
        a,
        &[("If-Match", &again.header("etag").unwrap_or_default())],
        Some(json!({"narrative": "重试后继续编辑"})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.raw);
}

#[actix_rt::test]
async fn a_closed_plan_takes_no_more_report_edits_or_submissions() {
    let f = setup().await;
    let app = &f.app;
    let a = &f.manager_a;
    let id = draft_report(&f, f.assignment_a, a, "关闭前的草稿").await;
    let closed = app
        .post(
            &format!("/plans/{}/close", f.plan),
            &f.coordinator,
            json!({}),
        )
        .await;
    assert_eq!(closed.body["state"], "closed", "{}", closed.raw);
    // New reports are refused on a closed (read-only) plan ...
    app.post(
        &format!("/assignments/{}/reports", f.assignment_a),
        a,
        json!({"status": "completed", "narrative": "关闭后新建", "period": "2099"}),
    )
    .await
    .assert_problem(409, "conflict");
    // ... and so must be changing or sending one drafted before the close.
    edit(&f, id, a, json!({"narrative": "关闭后修改"}))
        .await
        .assert_problem(409, "conflict");
    act(&f, id, "submit", a)
        .await
        .assert_problem(409, "conflict");
    let report = app.get(&format!("/reports/{id}"), a).await;
    assert_eq!(report.body["workflow"], "draft");
    assert_eq!(report.body["narrative"], "关闭前的草稿");
    assert_eq!(report.body["version"], 1);
}
