//! What the office and viewers see: sent reports only, never a draft; only the office reviews;
//! the summary table gives each caller only what it may read.

use crate::fixtures::*;
use serde_json::{json, Value};

#[actix_rt::test]
async fn the_office_sees_a_units_report_only_once_it_is_submitted() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let coord = &f.coordinator.token;
    let id = f
        .app
        .create_report(
            &f.l.manager.token,
            f.l.assignment(),
            &NewReport::in_progress("尚未报送的草稿"),
        )
        .await
        .id;
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
            .get(&format!("/reports?unit_id={}", f.l.id), coord)
            .await),
        Vec::<i64>::new()
    );
    f.app.submit_report(&f.l.manager.token, id).await;
    let seen = app.get(&path, coord).await;
    assert_eq!(seen.status, 200, "{}", seen.raw);
    assert_eq!(seen.body["narrative"], "尚未报送的草稿");
    assert_eq!(seen.body["workflow"], "submitted");
    assert_eq!(seen.body["unit_id"], f.l.id);
    assert_eq!(ids(&app.get("/reports", coord).await), vec![id]);
    assert_eq!(
        ids(&app
            .get(
                &format!(
                    "/reports?plan_id={}&unit_id={}&workflow=submitted",
                    f.plan, f.l.id
                ),
                coord
            )
            .await),
        vec![id]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/reports?unit_id={}", f.a.id), coord)
            .await),
        Vec::<i64>::new()
    );
    let revs = app.get(&format!("{path}/revisions"), coord).await;
    assert_eq!(
        revs.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        revs.raw
    );
}

#[actix_rt::test]
async fn unit_managers_cannot_review_and_viewers_only_read_sent_reports() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let viewer = f.viewer.token.clone();
    let id = f
        .app
        .create_report(
            &f.l.manager.token,
            f.l.assignment(),
            &NewReport::in_progress("待审的报告"),
        )
        .await
        .id;
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

    f.app.submit_report(&f.l.manager.token, id).await;
    // Managers, the one of the unit and the other, do not review.
    for manager in [&f.l.manager.token, &f.a.manager.token] {
        f.app
            .report_action(manager, id, Action::Accept)
            .await
            .assert_problem(403, "forbidden");
        f.app
            .report_action(manager, id, Action::Return)
            .await
            .assert_problem(403, "forbidden");
    }
    f.app
        .report_action(&f.l.reporter.token, id, Action::Accept)
        .await
        .assert_problem(403, "forbidden");

    // The viewer reads the sent report and its history, and nothing more.
    let seen = app.get(&path, &viewer).await;
    assert_eq!(seen.status, 200, "{}", seen.raw);
    assert_eq!(seen.body["narrative"], "待审的报告");
    assert_eq!(ids(&app.get("/reports", &viewer).await), vec![id]);
    assert_eq!(
        app.get(&format!("{path}/revisions"), &viewer).await.body["items"][0]["narrative"],
        "待审的报告"
    );
    app.post(
        &format!("/assignments/{}/reports", f.a.assignment()),
        &viewer,
        json!({"status": "completed", "narrative": "观察员不填报"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let etag = seen.header("etag").unwrap();
    app.send_with(
        "PATCH",
        &path,
        &viewer,
        &[("If-Match", &etag)],
        Some(json!({"narrative": "改"})),
    )
    .await
    .assert_problem(403, "forbidden");
    for action in [Action::Accept, Action::Return, Action::Submit] {
        f.app
            .report_action(&viewer, id, action)
            .await
            .assert_problem(403, "forbidden");
    }
    let unchanged = app.get(&path, &f.coordinator.token).await;
    assert_eq!(unchanged.body["workflow"], "submitted");
    assert_eq!(unchanged.body["version"], seen.body["version"]);
    // The office does review it.
    assert_eq!(
        f.app
            .report_action(&f.coordinator.token, id, Action::Accept)
            .await
            .body["workflow"],
        "accepted"
    );
    // A new draft on B's assignment stays out of the viewer's sight.
    let b_draft = f
        .app
        .create_report(
            &f.a.manager.token,
            f.a.assignment(),
            &NewReport::in_progress("财政局草稿"),
        )
        .await
        .id;
    app.get(&format!("/reports/{b_draft}"), &viewer)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", &viewer).await), vec![id]);
}

#[actix_rt::test]
async fn the_summary_gives_a_unit_only_its_own_answers_and_the_office_only_sent_ones() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let (a, b, coord) = (&f.l.manager.token, &f.a.manager.token, &f.coordinator.token);
    let summary = |unit: Option<i64>| match unit {
        Some(u) => format!("/plans/{}/summary?unit={u}", f.plan),
        None => format!("/plans/{}/summary", f.plan),
    };
    let a_report = f
        .app
        .create_report(
            a,
            f.l.assignment(),
            &NewReport::in_progress("司法局已下放审批权12项。"),
        )
        .await
        .id;

    app.get(&summary(Some(f.l.id)), b)
        .await
        .assert_problem(403, "forbidden");
    app.get(&summary(Some(f.a.id)), a)
        .await
        .assert_problem(403, "forbidden");

    let own = app.get(&summary(Some(f.l.id)), a).await;
    assert_eq!(own.status, 200, "{}", own.raw);
    assert_eq!(own.body["unit_id"], f.l.id);
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
    assert_eq!(b_own.body["unit_id"], f.a.id);
    assert_eq!(b_own.body["rows"][0]["completion"], "");

    // The office: nothing before submission, consolidated or per unit.
    let before = app.get(&summary(None), coord).await;
    assert_eq!(before.status, 200, "{}", before.raw);
    assert_eq!(before.body["unit_id"], Value::Null);
    assert_eq!(before.body["rows"][0]["completion"], "");
    assert!(!before.raw.contains("【市司法局】"));
    assert_eq!(
        app.get(&summary(Some(f.l.id)), coord).await.body["rows"][0]["completion"],
        ""
    );

    f.app.submit_report(a, a_report).await;
    let after = app.get(&summary(None), coord).await;
    assert_eq!(
        after.body["rows"][0]["completion"],
        "【市司法局】司法局已下放审批权12项。"
    );
    assert_eq!(
        app.get(&summary(Some(f.l.id)), coord).await.body["rows"][0]["completion"],
        "司法局已下放审批权12项。"
    );
    // B's draft stays out; once sent it follows the lead unit's answer.
    let b_report = f
        .app
        .create_report(
            b,
            f.a.assignment(),
            &NewReport::in_progress("财政局保障经费。"),
        )
        .await
        .id;
    assert_eq!(
        app.get(&summary(None), coord).await.body["rows"][0]["completion"],
        "【市司法局】司法局已下放审批权12项。"
    );
    f.app.submit_report(b, b_report).await;
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
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let narrative = "司法局内部草稿：尚未定稿";
    f.app
        .create_report(
            &f.l.manager.token,
            f.l.assignment(),
            &NewReport::in_progress(narrative),
        )
        .await;
    let (_, secret) = app
        .service_account("justice-directory", f.l.id, Some(vec!["assignments:read"]))
        .await;
    let grant = app.client_token("justice-directory", &secret, None).await;
    assert_eq!(grant.body["scope"], "assignments:read", "{}", grant.raw);
    let token = grant.body["access_token"].as_str().unwrap().to_owned();
    // It reads its assignments, but not reports: the list is refused ...
    assert_eq!(
        ids(&app.get("/assignments", &token).await),
        vec![f.l.assignment()]
    );
    app.get("/reports", &token)
        .await
        .assert_problem(403, "forbidden");
    // ... so the same report text must not come out of the summary table either.
    for path in [
        format!("/plans/{}/summary", f.plan),
        format!("/plans/{}/summary?unit={}", f.plan, f.l.id),
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
