//! Between units: a unit never reads or changes another unit's reports or assignments (both
//! ways); a lead unit reads its participants' sent reports and nothing more.

use crate::fixtures::*;
use serde_json::{json, Value};

#[actix_rt::test]
async fn another_unit_can_neither_read_change_nor_submit_a_draft_both_ways() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let (a, b) = (&f.l.manager.token, &f.a.manager.token);
    let created = f
        .app
        .create_report(a, f.l.assignment(), &NewReport::in_progress("司法局草稿"))
        .await;
    let a_report = created.id;
    let a_etag = created.etag.clone();
    let a_path = format!("/reports/{a_report}");

    // B on A's draft: not found, whatever it tries, even with the right ETag.
    app.get(&a_path, b).await.assert_problem(404, "not-found");
    app.send_with(
        "PATCH",
        &a_path,
        b,
        &[("If-Match", &a_etag)],
        Some(json!({"narrative": "篡改"})),
    )
    .await
    .assert_problem(404, "not-found");
    assert_denied(&f.app.report_action(b, a_report, Action::Submit).await);
    app.get(&format!("{a_path}/revisions"), b)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", b).await), Vec::<i64>::new());
    assert_eq!(
        ids(&app.get(&format!("/reports?unit_id={}", f.l.id), b).await),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&app
            .get(&format!("/reports?assignment_id={}", f.l.assignment()), b)
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
        ids(&app.get("/reports", &f.l.reporter.token).await),
        vec![a_report]
    );

    // The other way: A, although it leads the measure, does not see B's draft.
    let b_created = f
        .app
        .create_report(b, f.a.assignment(), &NewReport::in_progress("财政局草稿"))
        .await;
    let b_report = b_created.id;
    let b_etag = b_created.etag.clone();
    let b_path = format!("/reports/{b_report}");
    app.get(&b_path, a).await.assert_problem(404, "not-found");
    app.get(&b_path, &f.l.reporter.token)
        .await
        .assert_problem(404, "not-found");
    app.send_with(
        "PATCH",
        &b_path,
        a,
        &[("If-Match", &b_etag)],
        Some(json!({"narrative": "篡改"})),
    )
    .await
    .assert_problem(404, "not-found");
    assert_denied(&f.app.report_action(a, b_report, Action::Submit).await);
    app.get(&format!("{b_path}/revisions"), a)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", a).await), vec![a_report]);
    assert_eq!(
        ids(&app.get(&format!("/reports?unit_id={}", f.a.id), a).await),
        Vec::<i64>::new()
    );
    assert_eq!(ids(&app.get("/reports", b).await), vec![b_report]);
    let b_own = app.get(&b_path, b).await;
    assert_eq!(b_own.body["narrative"], "财政局草稿");
    assert_eq!(b_own.body["workflow"], "draft");
    assert_eq!(b_own.body["version"], 1);
}

#[actix_rt::test]
async fn a_unit_cannot_write_on_or_read_another_units_assignment() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let (a, b) = (&f.l.manager.token, &f.a.manager.token);
    app.post(
        &format!("/assignments/{}/reports", f.l.assignment()),
        b,
        json!({"status": "completed", "narrative": "替别人报"}),
    )
    .await
    .assert_problem(404, "not-found");
    app.get(&format!("/assignments/{}", f.l.assignment()), b)
        .await
        .assert_problem(404, "not-found");
    let b_list = app.get("/assignments", b).await;
    assert_eq!(ids(&b_list), vec![f.a.assignment()]);
    assert_eq!(b_list.body["items"][0]["unit_id"], f.a.id);
    assert_eq!(b_list.body["items"][0]["role"], "participant");
    app.get(&format!("/assignments?unit_id={}", f.l.id), b)
        .await
        .assert_problem(403, "forbidden");
    // A participant asking for the whole measure still gets only its own.
    assert_eq!(
        ids(&app
            .get(&format!("/assignments?measure_id={}", f.measure), b)
            .await),
        vec![f.a.assignment()]
    );
    app.get(
        &format!("/assignments?measure_id={}&unit_id={}", f.measure, f.l.id),
        b,
    )
    .await
    .assert_problem(403, "forbidden");
    let own = app
        .get(&format!("/assignments/{}", f.a.assignment()), b)
        .await;
    assert_eq!(own.status, 200, "{}", own.raw);
    assert_eq!(own.body["unit_id"], f.a.id);

    // The other way: A lists only its own, may not ask for B's without naming the measure it
    // leads, and may read but never write on B's assignment.
    assert_eq!(
        ids(&app.get("/assignments", a).await),
        vec![f.l.assignment()]
    );
    app.get(&format!("/assignments?unit_id={}", f.a.id), a)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        ids(&app
            .get(&format!("/assignments?measure_id={}", f.measure), a)
            .await),
        vec![f.l.assignment(), f.a.assignment()],
        "the lead sees the whole measure"
    );
    let led = app
        .get(&format!("/assignments/{}", f.a.assignment()), a)
        .await;
    assert_eq!(led.status, 200, "{}", led.raw);
    app.post(
        &format!("/assignments/{}/reports", f.a.assignment()),
        a,
        json!({"status": "completed", "narrative": "替参加单位报"}),
    )
    .await
    .assert_problem(403, "forbidden");
    // Nothing was written on either assignment.
    let coord = app
        .get(
            &format!("/reports?plan_id={}", f.plan),
            &f.coordinator.token,
        )
        .await;
    assert_eq!(ids(&coord), Vec::<i64>::new());
    for (id, token) in [(f.l.assignment(), a), (f.a.assignment(), b)] {
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
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let (a, b) = (&f.l.manager.token, &f.a.manager.token);
    let b_report = f
        .app
        .create_report(
            b,
            f.a.assignment(),
            &NewReport::in_progress("财政局配合情况"),
        )
        .await
        .id;
    let b_path = format!("/reports/{b_report}");
    app.get(&b_path, a).await.assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", a).await), Vec::<i64>::new());

    f.app.submit_report(b, b_report).await;
    let seen = app.get(&b_path, a).await;
    assert_eq!(seen.status, 200, "{}", seen.raw);
    assert_eq!(seen.body["narrative"], "财政局配合情况");
    assert_eq!(seen.body["unit_id"], f.a.id);
    assert_eq!(seen.body["workflow"], "submitted");
    assert_eq!(
        app.get(&b_path, &f.l.reporter.token).await.body["narrative"],
        "财政局配合情况",
        "every person of the lead unit reads it"
    );
    assert_eq!(ids(&app.get("/reports", a).await), vec![b_report]);
    assert_eq!(
        ids(&app
            .get(
                &format!("/reports?plan_id={}&unit_id={}", f.plan, f.a.id),
                a
            )
            .await),
        vec![b_report]
    );
    let revs = app.get(&format!("{b_path}/revisions"), a).await;
    assert_eq!(revs.status, 200, "{}", revs.raw);
    assert_eq!(revs.body["items"][0]["submitted_by"], f.a.manager.id);
    assert_eq!(revs.body["items"][0]["narrative"], "财政局配合情况");
    // Reading is all the lead may do with it.
    let after_return = f
        .app
        .report_action(&f.coordinator.token, b_report, Action::Return)
        .await;
    assert_eq!(
        after_return.body["workflow"], "returned",
        "{}",
        after_return.raw
    );
    f.app
        .edit_report(a, b_report, json!({"narrative": "牵头单位代改"}))
        .await
        .assert_problem(403, "forbidden");
    f.app
        .report_action(a, b_report, Action::Submit)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        app.get(&b_path, b).await.body["narrative"],
        "财政局配合情况"
    );

    // The participant does not read the lead's report, draft or sent.
    let a_report = f
        .app
        .create_report(
            a,
            f.l.assignment(),
            &NewReport::in_progress("牵头单位汇总情况"),
        )
        .await
        .id;
    let a_path = format!("/reports/{a_report}");
    app.get(&a_path, b).await.assert_problem(404, "not-found");
    f.app.submit_report(a, a_report).await;
    app.get(&a_path, b).await.assert_problem(404, "not-found");
    app.get(&format!("{a_path}/revisions"), b)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(ids(&app.get("/reports", b).await), vec![b_report]);
    assert_eq!(
        ids(&app.get(&format!("/reports?unit_id={}", f.l.id), b).await),
        Vec::<i64>::new()
    );
    assert_eq!(ids(&app.get("/reports", a).await), vec![b_report, a_report]);
}

#[actix_rt::test]
async fn a_unit_reads_its_reports_in_every_state_and_another_unit_none_of_them() {
    let f = World::builder().with_reports().build().await;
    let reports = f.reports.clone().unwrap();
    let (a, b) = (&f.a.manager, &f.b.manager);
    let me = f.app.get("/me", &a.token).await;
    assert_eq!(me.body["username"], a.username.as_str(), "{}", me.raw);
    for (id, workflow) in [
        (reports.draft, "draft"),
        (reports.submitted, "submitted"),
        (reports.returned_edited, "returned"),
        (reports.resubmitted, "resubmitted"),
        (reports.accepted, "accepted"),
    ] {
        assert_eq!(f.app.report(&a.token, id).await.workflow, workflow);
        f.app
            .get(&format!("/reports/{id}"), &b.token)
            .await
            .assert_problem(404, "not-found");
    }
    let draft = f.app.report(&f.a.reporter.token, reports.draft).await;
    assert_eq!(
        [draft.narrative, draft.problems, draft.next_steps],
        [DRAFT_MARKER; 3]
    );
    let edited = f.app.report(&a.token, reports.returned_edited).await;
    assert_eq!(edited.narrative, UNSENT_EDIT_MARKER);
    assert_eq!(edited.return_reason.as_deref(), Some(RETURN_REASON));
    let listed = f.app.get("/reports", &b.token).await;
    assert_eq!(ids(&listed), Vec::<i64>::new());
}
