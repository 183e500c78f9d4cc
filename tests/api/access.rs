//! Per-unit access: a unit never reads or changes another unit's reports or assignments (both
//! ways), the office and viewers never see drafts, a lead unit reads its participants' sent
//! reports, units never see draft plans, and only the office reviews.

use crate::helpers::*;
use crate::workflow::{act, create_report, draft_report, edit, ids, send_with, setup, submit};
use serde_json::{json, Value};

/// 404 (hidden) or 403 (refused): either way the caller learns nothing and changes nothing.
#[track_caller]
fn assert_denied(r: &Reply) {
    assert!(
        matches!(r.status, 403 | 404),
        "expected 403 or 404, got {}: {}",
        r.status,
        r.raw
    );
    assert_eq!(r.content_type(), "application/problem+json", "{}", r.raw);
}

#[actix_rt::test]
async fn another_unit_can_neither_read_change_nor_submit_a_draft_both_ways() {
    let f = setup().await;
    let app = &f.app;
    let (a, b) = (&f.manager_a, &f.manager_b);
    let created = create_report(&f, f.assignment_a, a, "司法局草稿").await;
    let a_report = created.body["id"].as_i64().unwrap();
    let a_etag = created.header("etag").unwrap();
    let a_path = format!("/reports/{a_report}");

    // B on A's draft: not found, whatever it tries, even with the right ETag.
    app.get(&a_path, b).await.assert_problem(404, "not-found");
    send_with(
        app,
        "PATCH",
        &a_path,
        b,
        &[("If-Match", &a_etag)],
        Some(json!({"narrative": "篡改"})),
    )
    .await
    .assert_problem(404, "not-found");
    assert_denied(&act(&f, a_report, "submit", b).await);
    app.get(&format!("{a_path}/revisions"), b)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", b).await), Vec::<i64>::new());
    assert_eq!(
        ids(&app.get(&format!("/reports?unit_id={}", f.unit_a), b).await),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&app
            .get(&format!("/reports?assignment_id={}", f.assignment_a), b)
            .await),
        Vec::<i64>::new()
    );

    // A sees its own draft, untouched.
    let own = app.get(&a_path, a).await;
    assert_eq!(own.status, 200, "{}", own.raw);
    assert_eq!(own.body["narrative"], "司法局草稿");
    assert_eq!(own.body["workflow"], "draft");
    assert_eq!(own.body["version"], 1);
    assert_eq!(own.header("etag"), Some(a_etag));
    let listed = app.get("/reports", a).await;
    assert_eq!(ids(&listed), vec![a_report]);
    assert_eq!(listed.body["items"][0]["workflow"], "draft");
    assert_eq!(
        ids(&app.get("/reports", &f.reporter_a).await),
        vec![a_report]
    );

    // The other way: A, although it leads the measure, does not see B's draft.
    let b_created = create_report(&f, f.assignment_b, b, "财政局草稿").await;
    let b_report = b_created.body["id"].as_i64().unwrap();
    let b_etag = b_created.header("etag").unwrap();
    let b_path = format!("/reports/{b_report}");
    app.get(&b_path, a).await.assert_problem(404, "not-found");
    app.get(&b_path, &f.reporter_a)
        .await
        .assert_problem(404, "not-found");
    send_with(
        app,
        "PATCH",
        &b_path,
        a,
        &[("If-Match", &b_etag)],
        Some(json!({"narrative": "篡改"})),
    )
    .await
    .assert_problem(404, "not-found");
    assert_denied(&act(&f, b_report, "submit", a).await);
    app.get(&format!("{b_path}/revisions"), a)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", a).await), vec![a_report]);
    assert_eq!(
        ids(&app.get(&format!("/reports?unit_id={}", f.unit_b), a).await),
        Vec::<i64>::new()
    );
    assert_eq!(ids(&app.get("/reports", b).await), vec![b_report]);
    let b_own = app.get(&b_path, b).await;
    assert_eq!(b_own.body["narrative"], "财政局草稿");
    assert_eq!(b_own.body["workflow"], "draft");
    assert_eq!(b_own.body["version"], 1);
}

#[actix_rt::test]
async fn the_office_sees_a_units_report_only_once_it_is_submitted() {
    let f = setup().await;
    let app = &f.app;
    let coord = &f.coordinator;
    let id = draft_report(&f, f.assignment_a, &f.manager_a, "尚未报送的草稿").await;
    let path = format!("/reports/{id}");
    app.get(&path, coord).await.assert_problem(404, "not-found");
    app.get(&path, &f.admin)
        .await
        .assert_problem(404, "not-found");
    app.get(&format!("{path}/revisions"), coord)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", coord).await), Vec::<i64>::new());
    assert_eq!(
        ids(&app.get("/reports?workflow=draft", coord).await),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&app
            .get(&format!("/reports?unit_id={}", f.unit_a), coord)
            .await),
        Vec::<i64>::new()
    );
    submit(&f, id, &f.manager_a).await;
    let seen = app.get(&path, coord).await;
    assert_eq!(seen.status, 200, "{}", seen.raw);
    assert_eq!(seen.body["narrative"], "尚未报送的草稿");
    assert_eq!(seen.body["workflow"], "submitted");
    assert_eq!(seen.body["unit_id"], f.unit_a);
    assert_eq!(ids(&app.get("/reports", coord).await), vec![id]);
    assert_eq!(
        ids(&app
            .get(
                &format!(
                    "/reports?plan_id={}&unit_id={}&workflow=submitted",
                    f.plan, f.unit_a
                ),
                coord
            )
            .await),
        vec![id]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/reports?unit_id={}", f.unit_b), coord)
            .await),
        Vec::<i64>::new()
    );
    let revs = app.get(&format!("{path}/revisions"), coord).await;
    assert_eq!(revs.body.as_array().unwrap().len(), 1, "{}", revs.raw);
}

#[actix_rt::test]
async fn a_unit_cannot_write_on_or_read_another_units_assignment() {
    let f = setup().await;
    let app = &f.app;
    let (a, b) = (&f.manager_a, &f.manager_b);
    app.post(
        &format!("/assignments/{}/reports", f.assignment_a),
        b,
        json!({"status": "completed", "narrative": "替别人报"}),
    )
    .await
    .assert_problem(404, "not-found");
    app.get(&format!("/assignments/{}", f.assignment_a), b)
        .await
        .assert_problem(404, "not-found");
    let b_list = app.get("/assignments", b).await;
    assert_eq!(ids(&b_list), vec![f.assignment_b]);
    assert_eq!(b_list.body["items"][0]["unit_id"], f.unit_b);
    assert_eq!(b_list.body["items"][0]["role"], "participant");
    app.get(&format!("/assignments?unit_id={}", f.unit_a), b)
        .await
        .assert_problem(403, "forbidden");
    // A participant asking for the whole measure still gets only its own.
    assert_eq!(
        ids(&app
            .get(&format!("/assignments?measure_id={}", f.measure), b)
            .await),
        vec![f.assignment_b]
    );
    app.get(
        &format!("/assignments?measure_id={}&unit_id={}", f.measure, f.unit_a),
        b,
    )
    .await
    .assert_problem(403, "forbidden");
    let own = app
        .get(&format!("/assignments/{}", f.assignment_b), b)
        .await;
    assert_eq!(own.status, 200, "{}", own.raw);
    assert_eq!(own.body["unit_id"], f.unit_b);

    // The other way: A lists only its own, may not ask for B's without naming the measure it
    // leads, and may read but never write on B's assignment.
    assert_eq!(ids(&app.get("/assignments", a).await), vec![f.assignment_a]);
    app.get(&format!("/assignments?unit_id={}", f.unit_b), a)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        ids(&app
            .get(&format!("/assignments?measure_id={}", f.measure), a)
            .await),
        vec![f.assignment_a, f.assignment_b],
        "the lead sees the whole measure"
    );
    let led = app
        .get(&format!("/assignments/{}", f.assignment_b), a)
        .await;
    assert_eq!(led.status, 200, "{}", led.raw);
    app.post(
        &format!("/assignments/{}/reports", f.assignment_b),
        a,
        json!({"status": "completed", "narrative": "替参加单位报"}),
    )
    .await
    .assert_problem(403, "forbidden");
    // Nothing was written on either assignment.
    let coord = app
        .get(&format!("/reports?plan_id={}", f.plan), &f.coordinator)
        .await;
    assert_eq!(ids(&coord), Vec::<i64>::new());
    for (id, token) in [(f.assignment_a, a), (f.assignment_b, b)] {
        let r = app.get(&format!("/assignments/{id}"), token).await;
        assert_eq!(r.body["latest_report_id"], Value::Null, "{}", r.raw);
        assert_eq!(
            ids(&app
                .get(&format!("/reports?assignment_id={id}"), token)
                .await),
            Vec::<i64>::new()
        );
    }
}

#[actix_rt::test]
async fn the_lead_unit_reads_a_participants_report_once_submitted_but_not_the_reverse() {
    let f = setup().await;
    let app = &f.app;
    let (a, b) = (&f.manager_a, &f.manager_b);
    let b_report = draft_report(&f, f.assignment_b, b, "财政局配合情况").await;
    let b_path = format!("/reports/{b_report}");
    app.get(&b_path, a).await.assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", a).await), Vec::<i64>::new());

    submit(&f, b_report, b).await;
    let seen = app.get(&b_path, a).await;
    assert_eq!(seen.status, 200, "{}", seen.raw);
    assert_eq!(seen.body["narrative"], "财政局配合情况");
    assert_eq!(seen.body["unit_id"], f.unit_b);
    assert_eq!(seen.body["workflow"], "submitted");
    assert_eq!(
        app.get(&b_path, &f.reporter_a).await.body["narrative"],
        "财政局配合情况",
        "every person of the lead unit reads it"
    );
    assert_eq!(ids(&app.get("/reports", a).await), vec![b_report]);
    assert_eq!(
        ids(&app
            .get(
                &format!("/reports?plan_id={}&unit_id={}", f.plan, f.unit_b),
                a
            )
            .await),
        vec![b_report]
    );
    let revs = app.get(&format!("{b_path}/revisions"), a).await;
    assert_eq!(revs.status, 200, "{}", revs.raw);
    assert_eq!(revs.body[0]["submitted_by"], f.manager_b_id);
    assert_eq!(revs.body[0]["narrative"], "财政局配合情况");
    // Reading is all the lead may do with it.
    let after_return = act(&f, b_report, "return", &f.coordinator).await;
    assert_eq!(
        after_return.body["workflow"], "returned",
        "{}",
        after_return.raw
    );
    edit(&f, b_report, a, json!({"narrative": "牵头单位代改"}))
        .await
        .assert_problem(403, "forbidden");
    act(&f, b_report, "submit", a)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        app.get(&b_path, b).await.body["narrative"],
        "财政局配合情况"
    );

    // The participant does not read the lead's report, draft or sent.
    let a_report = draft_report(&f, f.assignment_a, a, "牵头单位汇总情况").await;
    let a_path = format!("/reports/{a_report}");
    app.get(&a_path, b).await.assert_problem(404, "not-found");
    submit(&f, a_report, a).await;
    app.get(&a_path, b).await.assert_problem(404, "not-found");
    app.get(&format!("{a_path}/revisions"), b)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", b).await), vec![b_report]);
    assert_eq!(
        ids(&app.get(&format!("/reports?unit_id={}", f.unit_a), b).await),
        Vec::<i64>::new()
    );
    assert_eq!(ids(&app.get("/reports", a).await), vec![b_report, a_report]);
}

#[actix_rt::test]
async fn units_do_not_see_draft_plans_but_the_coordinator_does() {
    let f = setup().await;
    let app = &f.app;
    let (a, coord) = (&f.manager_a, &f.coordinator);
    let p = app
        .post(
            "/plans",
            coord,
            json!({"title": "2021年计划（草案）", "year": 2021}),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.raw);
    let draft = p.body["id"].as_i64().unwrap();
    let items = format!("/plans/{draft}/items");
    let s = app
        .post(
            &items,
            coord,
            json!({"level": "section", "number": "一", "title": "草案板块"}),
        )
        .await;
    let t = app
        .post(&items, coord, json!({"level": "task", "parent_id": s.body["id"], "number": "1", "title": "草案任务。"}))
        .await;
    let m = app
        .post(&items, coord, json!({"level": "measure", "parent_id": t.body["id"], "number": "1", "title": "草案措施。"}))
        .await;
    assert_eq!(m.status, 201, "{}", m.raw);
    let assigned = app
        .post(
            &format!("/measures/{}/assignments", m.body["id"]),
            coord,
            json!({"lead": {"unit_ids": [f.unit_a]}, "due_date": "2099-12-31"}),
        )
        .await;
    assert_eq!(assigned.status, 201, "{}", assigned.raw);
    let hidden_assignment = assigned.body["created"][0]["id"].as_i64().unwrap();

    // The unit: only the published plan, and nothing of the draft.
    let listed = app.get("/plans", a).await;
    assert_eq!(ids(&listed), vec![f.plan]);
    assert_eq!(listed.body["items"][0]["state"], "published");
    assert_eq!(
        ids(&app.get("/plans?state=draft", a).await),
        Vec::<i64>::new()
    );
    for path in [
        format!("/plans/{draft}"),
        format!("/plans/{draft}/tree"),
        format!("/plans/{draft}/measures"),
        format!("/plans/{draft}/summary"),
        format!("/assignments/{hidden_assignment}"),
    ] {
        app.get(&path, a).await.assert_problem(404, "not-found");
    }
    assert_eq!(ids(&app.get("/assignments", a).await), vec![f.assignment_a]);
    assert_eq!(
        ids(&app.get(&format!("/assignments?plan_id={draft}"), a).await),
        Vec::<i64>::new()
    );
    app.post(
        &format!("/assignments/{hidden_assignment}/reports"),
        a,
        json!({"status": "in_progress", "narrative": "抢先填报"}),
    )
    .await
    .assert_problem(404, "not-found");
    // The published plan's tree is there, as built.
    let tree = app.get(&format!("/plans/{}/tree", f.plan), a).await;
    assert_eq!(tree.status, 200, "{}", tree.raw);
    let section = &tree.body["sections"][0];
    assert_eq!(section["id"], f.section);
    assert_eq!(section["children"][0]["id"], f.task);
    assert_eq!(section["children"][0]["children"][0]["id"], f.measure);
    assert_eq!(
        section["children"][0]["children"][0]["sources"],
        json!(["渝委发〔2016〕27号"])
    );

    // The coordinator sees both.
    let all = app.get("/plans", coord).await;
    assert_eq!(ids(&all), vec![f.plan, draft]);
    let states: Vec<&Value> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["state"])
        .collect();
    assert_eq!(states, vec![&json!("published"), &json!("draft")]);
    for p in all.body["items"].as_array().unwrap() {
        assert_eq!(p["issuing_unit_id"], f.office);
    }
    let d = app.get(&format!("/plans/{draft}"), coord).await;
    assert_eq!(d.status, 200, "{}", d.raw);
    assert_eq!(d.body["title"], "2021年计划（草案）");

    // Once published the unit sees it.
    app.post(&format!("/plans/{draft}/publish"), coord, json!({}))
        .await;
    assert_eq!(ids(&app.get("/plans", a).await), vec![f.plan, draft]);
    assert_eq!(
        app.get(&format!("/assignments/{hidden_assignment}"), a)
            .await
            .status,
        200
    );
}

#[actix_rt::test]
async fn unit_managers_cannot_review_and_viewers_only_read_sent_reports() {
    let f = setup().await;
    let app = &f.app;
    let (_, viewer) = app.account("auditor", "viewer", None).await;
    let id = draft_report(&f, f.assignment_a, &f.manager_a, "待审的报告").await;
    let path = format!("/reports/{id}");

    // The viewer never sees a draft.
    app.get(&path, &viewer)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", &viewer).await), Vec::<i64>::new());
    assert_eq!(
        ids(&app.get("/reports?workflow=draft", &viewer).await),
        Vec::<i64>::new()
    );

    submit(&f, id, &f.manager_a).await;
    // Managers, the one of the unit and the other, do not review.
    for manager in [&f.manager_a, &f.manager_b] {
        act(&f, id, "accept", manager)
            .await
            .assert_problem(403, "forbidden");
        act(&f, id, "return", manager)
            .await
            .assert_problem(403, "forbidden");
    }
    act(&f, id, "accept", &f.reporter_a)
        .await
        .assert_problem(403, "forbidden");

    // The viewer reads the sent report and its history, and nothing more.
    let seen = app.get(&path, &viewer).await;
    assert_eq!(seen.status, 200, "{}", seen.raw);
    assert_eq!(seen.body["narrative"], "待审的报告");
    assert_eq!(ids(&app.get("/reports", &viewer).await), vec![id]);
    assert_eq!(
        app.get(&format!("{path}/revisions"), &viewer).await.body[0]["narrative"],
        "待审的报告"
    );
    app.post(
        &format!("/assignments/{}/reports", f.assignment_b),
        &viewer,
        json!({"status": "completed", "narrative": "观察员不填报"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let etag = seen.header("etag").unwrap();
    send_with(
        app,
        "PATCH",
        &path,
        &viewer,
        &[("If-Match", &etag)],
        Some(json!({"narrative": "改"})),
    )
    .await
    .assert_problem(403, "forbidden");
    for action in ["accept", "return", "submit"] {
        act(&f, id, action, &viewer)
            .await
            .assert_problem(403, "forbidden");
    }
    let unchanged = app.get(&path, &f.coordinator).await;
    assert_eq!(unchanged.body["workflow"], "submitted");
    assert_eq!(unchanged.body["version"], seen.body["version"]);
    // The office does review it.
    assert_eq!(
        act(&f, id, "accept", &f.coordinator).await.body["workflow"],
        "accepted"
    );
    // A new draft on B's assignment stays out of the viewer's sight.
    let b_draft = draft_report(&f, f.assignment_b, &f.manager_b, "财政局草稿").await;
    app.get(&format!("/reports/{b_draft}"), &viewer)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", &viewer).await), vec![id]);
}

#[actix_rt::test]
async fn the_summary_gives_a_unit_only_its_own_answers_and_the_office_only_sent_ones() {
    let f = setup().await;
    let app = &f.app;
    let (a, b, coord) = (&f.manager_a, &f.manager_b, &f.coordinator);
    let summary = |unit: Option<i64>| match unit {
        Some(u) => format!("/plans/{}/summary?unit={u}", f.plan),
        None => format!("/plans/{}/summary", f.plan),
    };
    let a_report = draft_report(&f, f.assignment_a, a, "司法局已下放审批权12项。").await;

    app.get(&summary(Some(f.unit_a)), b)
        .await
        .assert_problem(403, "forbidden");
    app.get(&summary(Some(f.unit_b)), a)
        .await
        .assert_problem(403, "forbidden");

    let own = app.get(&summary(Some(f.unit_a)), a).await;
    assert_eq!(own.status, 200, "{}", own.raw);
    assert_eq!(own.body["unit_id"], f.unit_a);
    let rows = own.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", own.raw);
    assert_eq!(rows[0]["section"], "一、依法全面履行政府职能");
    assert_eq!(rows[0]["task"], "1．深化改革。");
    assert_eq!(rows[0]["measure"], "（1）下放行政审批权。");
    assert_eq!(rows[0]["sources"], "渝委发〔2016〕27号");
    assert_eq!(rows[0]["lead_units"], "市司法局");
    assert_eq!(rows[0]["participant_units"], "市财政局");
    assert_eq!(
        rows[0]["completion"], "司法局已下放审批权12项。",
        "a unit sees its own draft in its table"
    );
    // Without naming a unit, a unit gets its own table: B's is empty, not A's.
    let b_own = app.get(&summary(None), b).await;
    assert_eq!(b_own.body["unit_id"], f.unit_b);
    assert_eq!(b_own.body["rows"][0]["completion"], "");

    // The office: nothing before submission, consolidated or per unit.
    let before = app.get(&summary(None), coord).await;
    assert_eq!(before.status, 200, "{}", before.raw);
    assert_eq!(before.body["unit_id"], Value::Null);
    assert_eq!(before.body["rows"][0]["completion"], "");
    assert!(!before.raw.contains("【市司法局】"));
    assert_eq!(
        app.get(&summary(Some(f.unit_a)), coord).await.body["rows"][0]["completion"],
        ""
    );

    submit(&f, a_report, a).await;
    let after = app.get(&summary(None), coord).await;
    assert_eq!(
        after.body["rows"][0]["completion"],
        "【市司法局】司法局已下放审批权12项。"
    );
    assert_eq!(
        app.get(&summary(Some(f.unit_a)), coord).await.body["rows"][0]["completion"],
        "司法局已下放审批权12项。"
    );
    // B's draft stays out; once sent it follows the lead unit's answer.
    let b_report = draft_report(&f, f.assignment_b, b, "财政局保障经费。").await;
    assert_eq!(
        app.get(&summary(None), coord).await.body["rows"][0]["completion"],
        "【市司法局】司法局已下放审批权12项。"
    );
    submit(&f, b_report, b).await;
    assert_eq!(
        app.get(&summary(None), coord).await.body["rows"][0]["completion"],
        "【市司法局】司法局已下放审批权12项。\n【市财政局】财政局保障经费。"
    );
    // A unit's own table never carries the other unit's answer.
    assert_eq!(
        app.get(&summary(None), b).await.body["rows"][0]["completion"],
        "财政局保障经费。"
    );
    assert_eq!(
        app.get(&summary(None), a).await.body["rows"][0]["completion"],
        "司法局已下放审批权12项。"
    );
}

#[actix_rt::test]
async fn a_department_system_without_reports_read_gets_no_report_text_from_the_summary() {
    let f = setup().await;
    let app = &f.app;
    let narrative = "司法局内部草稿：尚未定稿";
    draft_report(&f, f.assignment_a, &f.manager_a, narrative).await;
    let (_, secret) = app
        .service_account(
            "justice-directory",
            f.unit_a,
            Some(vec!["assignments:read"]),
        )
        .await;
    let grant = app.client_token("justice-directory", &secret, None).await;
    assert_eq!(grant.body["scope"], "assignments:read", "{}", grant.raw);
    let token = grant.body["access_token"].as_str().unwrap().to_owned();
    // It reads its assignments, but not reports: the list is refused ...
    assert_eq!(
        ids(&app.get("/assignments", &token).await),
        vec![f.assignment_a]
    );
    app.get("/reports", &token)
        .await
        .assert_problem(403, "forbidden");
    // ... so the same report text must not come out of the summary table either.
    for path in [
        format!("/plans/{}/summary", f.plan),
        format!("/plans/{}/summary?unit={}", f.plan, f.unit_a),
    ] {
        let r = app.get(&path, &token).await;
        assert!(
            !r.raw.contains(narrative),
            "{path} gives a token without reports:read the unit's report text: {} {}",
            r.status,
            r.raw
        );
    }
}
