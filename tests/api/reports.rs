//! The report workflow: every transition allowed or refused, the revisions kept on each
//! submission, one report per period, and no more changes once the plan is closed.

use crate::fixtures::*;
use chrono::{DateTime, Datelike, Utc};
use serde_json::{json, Value};

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
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let (a, coord) = (&f.l.manager.token, &f.coordinator.token);
    let created = f
        .app
        .create_report(a, f.l.assignment(), &NewReport::in_progress("起草中"))
        .await;
    let id = created.id;
    assert_eq!(created.workflow, "draft");
    assert_eq!(created.status, "in_progress");
    assert_eq!(created.assignment_id, f.l.assignment());
    assert_eq!(created.unit_id, f.l.id);
    assert_eq!(created.period, this_year());
    assert_eq!(created.version, 1);
    assert_eq!(created.return_reason, None);
    assert_eq!(created.submitted_at, None);
    assert_eq!(created.reviewed_at, None);
    let path = format!("/reports/{id}");

    // Draft: the office cannot review what it cannot see (a draft is the unit's alone), so
    // accepting or returning it is refused as "not found", and nothing changes.
    for action in [Action::Accept, Action::Return] {
        f.app
            .report_action(coord, id, action)
            .await
            .assert_problem(404, "not-found");
        f.app
            .report_action(&f.admin, id, action)
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
    let edited = f
        .app
        .edit_report(a, id, json!({"narrative": "修改后的草稿"}))
        .await;
    assert_eq!(edited.status, 200, "{}", edited.raw);
    assert_eq!(edited.body["workflow"], "draft");
    assert_eq!(edited.body["narrative"], "修改后的草稿");
    assert_eq!(edited.body["version"], 2);

    // Draft → submitted.
    let submitted = f.app.submit_report(a, id).await;
    assert_eq!(submitted.workflow, "submitted");
    assert_eq!(submitted.version, 3);
    assert!(submitted.submitted_at.is_some(), "{}", submitted.id);
    assert_eq!(submitted.reviewed_at, None);
    // Submitted: no edit, no second submission.
    assert_workflow_conflict(
        &f.app
            .edit_report(a, id, json!({"narrative": "提交后再改"}))
            .await,
    );
    assert_workflow_conflict(&f.app.report_action(a, id, Action::Submit).await);

    // Submitted → returned, with the reason.
    let returned = f.app.report_action(coord, id, Action::Return).await;
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
    assert_workflow_conflict(&f.app.report_action(coord, id, Action::Accept).await);
    assert_workflow_conflict(&f.app.report_action(coord, id, Action::Return).await);
    let fixed = f
        .app
        .edit_report(
            a,
            id,
            json!({"narrative": "补充了数据", "status": "completed"}),
        )
        .await;
    assert_eq!(fixed.status, 200, "{}", fixed.raw);
    assert_eq!(fixed.body["workflow"], "returned");
    assert_eq!(fixed.body["return_reason"], "请补充具体数据。");
    assert_eq!(fixed.body["status"], "completed");
    assert_eq!(fixed.body["version"], 5);
    let resubmitted = f.app.submit_report(a, id).await;
    assert_eq!(resubmitted.workflow, "resubmitted");
    assert_eq!(resubmitted.version, 6);
    // Resubmitted: no edit, no submission; returned once more, resubmitted, then accepted.
    assert_workflow_conflict(&f.app.edit_report(a, id, json!({"narrative": "再改"})).await);
    assert_workflow_conflict(&f.app.report_action(a, id, Action::Submit).await);
    let returned_again = f.app.report_action(coord, id, Action::Return).await;
    assert_eq!(
        returned_again.body["workflow"], "returned",
        "{}",
        returned_again.raw
    );
    assert_eq!(f.app.submit_report(a, id).await.workflow, "resubmitted");
    let accepted = f.app.report_action(coord, id, Action::Accept).await;
    assert_eq!(accepted.status, 200, "{}", accepted.raw);
    assert_eq!(accepted.body["workflow"], "accepted");
    assert_eq!(accepted.body["narrative"], "补充了数据");
    // The office reads the third sent revision; the unit its working copy, version 9.
    assert_eq!(accepted.body["version"], 3);
    let version = 9;

    // Accepted is final: edit, submit, accept and return are all refused and change nothing.
    assert_workflow_conflict(
        &f.app
            .edit_report(a, id, json!({"narrative": "验收后再改"}))
            .await,
    );
    assert_workflow_conflict(&f.app.report_action(a, id, Action::Submit).await);
    assert_workflow_conflict(&f.app.report_action(coord, id, Action::Accept).await);
    assert_workflow_conflict(&f.app.report_action(coord, id, Action::Return).await);
    let last = app.get(&path, a).await;
    assert_eq!(last.body["workflow"], "accepted");
    assert_eq!(last.body["version"], version);
    assert_eq!(last.body["narrative"], "补充了数据");

    // Submitted → accepted directly, on the participant's report.
    let b = f
        .app
        .create_report(
            &f.a.manager.token,
            f.a.assignment(),
            &NewReport::in_progress("财政局配合完成"),
        )
        .await
        .id;
    assert_eq!(
        f.app.submit_report(&f.a.manager.token, b).await.workflow,
        "submitted"
    );
    let b_accepted = f.app.report_action(coord, b, Action::Accept).await;
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
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let a = &f.l.manager.token;
    let id = f
        .app
        .post(
            &format!("/assignments/{}/reports", f.l.assignment()),
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
        f.app
            .edit_report(a, id, json!({"narrative": "第一稿（定稿）"}))
            .await
            .status,
        200
    );
    let none = app.get(&revisions, a).await;
    assert_eq!(none.status, 200, "{}", none.raw);
    assert_eq!(none.body, json!({"items": [], "next_cursor": null}));

    f.app.submit_report(a, id).await;
    let one = app.get(&revisions, a).await;
    assert_eq!(
        one.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        one.raw
    );
    f.app
        .report_action(&f.coordinator.token, id, Action::Return)
        .await;
    // An edit after the return changes the report, not the kept revision.
    let second = f.app.edit_report(a, id, json!({"narrative": "第二稿", "status": "completed", "problems": "", "next_steps": "总结经验"}),
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.raw);
    let still_one = app.get(&revisions, &f.coordinator.token).await;
    assert_eq!(
        still_one.body, one.body,
        "an edit must not touch the revisions"
    );
    f.app.submit_report(a, id).await;

    let listed = app.get(&revisions, &f.coordinator.token).await;
    assert_eq!(listed.status, 200, "{}", listed.raw);
    let revs = listed.body["items"].as_array().unwrap();
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
        assert_eq!(r["submitted_by"], f.l.manager.id);
    }
    assert!(time(&revs[0]["submitted_at"]) <= time(&revs[1]["submitted_at"]));
    // The unit reads the same history as the office.
    assert_eq!(app.get(&revisions, a).await.body, listed.body);
}

#[actix_rt::test]
async fn a_second_report_for_the_same_period_is_a_conflict() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let a = &f.l.manager.token;
    let path = format!("/assignments/{}/reports", f.l.assignment());
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
    f.app
        .submit_report(a, first.body["id"].as_i64().unwrap())
        .await;
    app.post(
        &path,
        &f.l.reporter.token,
        json!({"status": "completed", "narrative": "再来一份", "period": "2099"}),
    )
    .await
    .assert_problem(409, "conflict");
    // The default period (this year, the due date being later) is taken once too.
    let current = f
        .app
        .create_report(a, f.l.assignment(), &NewReport::in_progress("本年度"))
        .await;
    assert_eq!(current.period, this_year());
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
            &format!("/assignments/{}/reports", f.a.assignment()),
            &f.a.manager.token,
            json!({"status": "in_progress", "narrative": "财政局", "period": "2099"}),
        )
        .await;
    assert_eq!(b.status, 201, "{}", b.raw);
    let listed = app
        .get(&format!("/reports?assignment_id={}", f.l.assignment()), a)
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
async fn a_closed_plan_takes_no_more_report_edits_or_submissions() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let a = &f.l.manager.token;
    let id = f
        .app
        .create_report(a, f.l.assignment(), &NewReport::in_progress("关闭前的草稿"))
        .await
        .id;
    let closed = app
        .post(
            &format!("/plans/{}/close", f.plan),
            &f.coordinator.token,
            json!({}),
        )
        .await;
    assert_eq!(closed.body["state"], "closed", "{}", closed.raw);
    // New reports are refused on a closed (read-only) plan ...
    app.post(
        &format!("/assignments/{}/reports", f.l.assignment()),
        a,
        json!({"status": "completed", "narrative": "关闭后新建", "period": "2099"}),
    )
    .await
    .assert_problem(409, "conflict");
    // ... and so must be changing or sending one drafted before the close.
    f.app
        .edit_report(a, id, json!({"narrative": "关闭后修改"}))
        .await
        .assert_problem(409, "conflict");
    f.app
        .report_action(a, id, Action::Submit)
        .await
        .assert_problem(409, "conflict");
    let report = app.get(&format!("/reports/{id}"), a).await;
    assert_eq!(report.body["workflow"], "draft");
    assert_eq!(report.body["narrative"], "关闭前的草稿");
    assert_eq!(report.body["version"], 1);
}

#[actix_rt::test]
async fn a_return_without_a_reason_is_a_422_naming_the_reason() {
    let f = World::builder().without_b().build().await;
    let m = &f.l.manager.token;
    let id = f
        .app
        .create_report(m, f.l.assignment(), &NewReport::in_progress("起草"))
        .await
        .id;
    f.app.submit_report(m, id).await;
    let r = f
        .app
        .post(
            &format!("/reports/{id}/return"),
            f.coord(),
            json!({"reason": ""}),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["reason"]);
    assert_eq!(f.app.report(m, id).await.workflow, "submitted");
}
