//! Safe edits and retries: ETag and If-Match on every change, Idempotency-Key on creation and
//! submission.

use crate::fixtures::*;
use serde_json::json;

#[actix_rt::test]
async fn an_edit_needs_the_current_etag_in_if_match() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let a = &f.l.manager.token;
    let created = f
        .app
        .create_report(a, f.l.assignment(), &NewReport::in_progress("起草"))
        .await;
    let id = created.id;
    let path = format!("/reports/{id}");
    let first = created.etag.clone();
    assert!(first.starts_with('"') && first.ends_with('"'), "{first}");
    let read_back = app.get(&path, a).await;
    assert_eq!(read_back.header("etag").as_deref(), Some(first.as_str()));
    assert_eq!(read_back.body["version"], 1);

    let missing = app
        .send_with("PATCH", &path, a, &[], Some(json!({"narrative": "无版本"})))
        .await;
    missing.assert_problem(428, "precondition-required");

    let ok = app
        .send_with(
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

    let stale = app
        .send_with(
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
    let made_up = app
        .send_with(
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
    let third = app
        .send_with(
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
    app.send_with(
        "POST",
        &format!("{path}/submit"),
        a,
        &[("If-Match", &second)],
        None,
    )
    .await
    .assert_problem(412, "precondition-failed");
    let sent = app
        .send_with(
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
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let a = &f.l.manager.token;
    let path = format!("/assignments/{}/reports", f.l.assignment());
    let body = json!({"status": "completed", "narrative": "已完成下放工作。", "period": "2099"});
    let key = [("Idempotency-Key", "justice-2099-0001")];

    let first = app
        .send_with("POST", &path, a, &key, Some(body.clone()))
        .await;
    assert_eq!(first.status, 201, "{}", first.raw);
    assert_eq!(first.header("idempotency-replayed"), None);
    assert_eq!(first.body["period"], "2099");
    let id = first.body["id"].as_i64().unwrap();

    let again = app
        .send_with("POST", &path, a, &key, Some(body.clone()))
        .await;
    assert_eq!(again.status, 201, "{}", again.raw);
    assert_eq!(again.body, first.body, "the first answer, word for word");
    assert_eq!(again.body["id"], id);
    assert_eq!(
        again.header("idempotency-replayed").as_deref(),
        Some("true")
    );

    let other = app
        .send_with(
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
        .get(&format!("/reports?assignment_id={}", f.l.assignment()), a)
        .await;
    assert_eq!(ids(&listed), vec![id], "exactly one report was made");
    assert_eq!(listed.body["items"][0]["narrative"], "已完成下放工作。");
}

#[actix_rt::test]
async fn a_retried_submission_with_the_same_idempotency_key_answers_200_and_keeps_one_revision() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let a = &f.l.manager.token;
    let id = f
        .app
        .create_report(a, f.l.assignment(), &NewReport::in_progress("按期完成"))
        .await
        .id;
    let path = format!("/reports/{id}/submit");
    let key = [("Idempotency-Key", "justice-submit-0001")];

    let first = app.send_with("POST", &path, a, &key, None).await;
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.body["workflow"], "submitted");
    let retry = app.send_with("POST", &path, a, &key, None).await;
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
    assert_eq!(
        revs.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        revs.raw
    );
    assert_eq!(revs.body["items"][0]["narrative"], "按期完成");
    let report = app.get(&format!("/reports/{id}"), a).await;
    assert_eq!(
        report.body["version"], first.body["version"],
        "the retry changed nothing"
    );
    // Without the key a second submission is what it is: a conflict.
    assert_workflow_conflict(&f.app.report_action(a, id, Action::Submit).await);
}

#[actix_rt::test]
async fn a_replayed_creation_carries_the_etag_of_the_first_answer() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let a = &f.l.manager.token;
    let path = format!("/assignments/{}/reports", f.l.assignment());
    let body = json!({"status": "in_progress", "narrative": "系统重试", "period": "2099"});
    let key = [("Idempotency-Key", "justice-retry-0001")];
    let first = app
        .send_with("POST", &path, a, &key, Some(body.clone()))
        .await;
    assert_eq!(first.status, 201, "{}", first.raw);
    let etag = first.header("etag").expect("ETag on the first answer");
    let again = app.send_with("POST", &path, a, &key, Some(body)).await;
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
    let patched = app
        .send_with(
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
async fn a_malformed_idempotency_key_is_a_422_naming_it() {
    let f = World::builder().without_b().build().await;
    let r = f
        .app
        .send_with(
            "POST",
            &format!("/assignments/{}/reports", f.l.assignment()),
            &f.l.manager.token,
            &[("Idempotency-Key", "has spaces in it")],
            Some(json!({"status": "completed", "narrative": "x"})),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["Idempotency-Key"]);
}
