//! Who drafts, edits and submits a unit's reports: its reporters draft, its managers submit, and
//! its department systems do what their scopes allow.

use crate::fixtures::*;
use serde_json::json;

#[actix_rt::test]
async fn a_reporter_drafts_and_edits_but_only_the_manager_submits() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let created = f
        .app
        .create_report(
            &f.l.reporter.token,
            f.l.assignment(),
            &NewReport::in_progress("填报员起草"),
        )
        .await;
    let id = created.id;
    let edited = f
        .app
        .edit_report(&f.l.reporter.token, id, json!({"narrative": "填报员修改"}))
        .await;
    assert_eq!(edited.status, 200, "{}", edited.raw);
    assert_eq!(edited.body["narrative"], "填报员修改");

    f.app
        .report_action(&f.l.reporter.token, id, Action::Submit)
        .await
        .assert_problem(403, "forbidden");
    let key = [("Idempotency-Key", "reporter-try-1")];
    app.send_with(
        "POST",
        &format!("/reports/{id}/submit"),
        &f.l.reporter.token,
        &key,
        None,
    )
    .await
    .assert_problem(403, "forbidden");
    let still = app
        .get(&format!("/reports/{id}"), &f.l.reporter.token)
        .await;
    assert_eq!(still.body["workflow"], "draft");
    assert_eq!(still.body["version"], 2);

    let sent = f.app.submit_report(&f.l.manager.token, id).await;
    assert_eq!(sent.workflow, "submitted");
    assert_eq!(sent.narrative, "填报员修改");
    let revs = app
        .get(&format!("/reports/{id}/revisions"), &f.l.reporter.token)
        .await;
    assert_eq!(
        revs.body["items"][0]["submitted_by"], f.l.manager.id,
        "{}",
        revs.raw
    );
    // After a return the reporter fixes it, and again only the manager resubmits.
    f.app
        .report_action(&f.coordinator.token, id, Action::Return)
        .await;
    assert_eq!(
        f.app
            .edit_report(&f.l.reporter.token, id, json!({"narrative": "填报员补充"}))
            .await
            .status,
        200
    );
    f.app
        .report_action(&f.l.reporter.token, id, Action::Submit)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        f.app.submit_report(&f.l.manager.token, id).await.workflow,
        "resubmitted"
    );

    // The audit trail records who did what.
    let trail = app
        .get(
            &format!("/audit?entity_type=report&entity_id={id}"),
            &f.coordinator.token,
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
    // The reporter's drafting is the unit's own; the trail shows who sent and who returned.
    let expected: Vec<(String, i64)> = [
        ("report.submit", f.l.manager.id),
        ("report.return", f.coordinator.id),
        ("report.submit", f.l.manager.id),
    ]
    .iter()
    .map(|(a, u)| (a.to_string(), *u))
    .collect();
    assert_eq!(entries, expected);
}

#[actix_rt::test]
async fn a_department_system_creates_and_submits_only_with_the_submit_scope() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let made = app
        .post(
            "/users",
            &f.admin,
            json!({"username": "justice-system", "display_name": "司法局业务系统", "role": "service",
                   "unit_id": f.l.id,
                   "scopes": ["assignments:read", "reports:read", "reports:write", "reports:submit"]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.raw);
    assert_eq!(made.body["role"], "service");
    assert_eq!(made.body["unit_id"], f.l.id);
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
        vec![f.l.assignment()]
    );
    let id = f
        .app
        .create_report(
            &system,
            f.l.assignment(),
            &NewReport::in_progress("系统报送：已完成"),
        )
        .await
        .id;
    let sent = f.app.submit_report(&system, id).await;
    assert_eq!(sent.workflow, "submitted");
    assert_eq!(sent.unit_id, f.l.id);
    let revs = app.get(&format!("/reports/{id}/revisions"), &system).await;
    assert_eq!(
        revs.body["items"][0]["submitted_by"], system_id,
        "{}",
        revs.raw
    );

    // Another system of the unit without reports:submit drafts but cannot submit.
    let (_, drafts_secret) = app
        .service_account(
            "justice-drafts",
            f.l.id,
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
            &format!("/assignments/{}/reports", f.l.assignment()),
            &drafter,
            json!({"status": "in_progress", "narrative": "草稿", "period": "2099"}),
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.raw);
    let other_id = other.body["id"].as_i64().unwrap();
    f.app
        .report_action(&drafter, other_id, Action::Submit)
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
    f.app
        .report_action(&narrow, other_id, Action::Submit)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        app.get(&format!("/reports/{other_id}"), &f.l.manager.token)
            .await
            .body["workflow"],
        "draft"
    );
    assert_eq!(
        f.app.submit_report(&system, other_id).await.workflow,
        "submitted"
    );
}

#[actix_rt::test]
async fn a_system_with_the_default_scopes_drafts_but_does_not_submit() {
    let f = World::builder()
        .without_b()
        .service("justice-drafts", 'L', None)
        .build()
        .await;
    let drafter = f.service_token("justice-drafts", None).await;
    let id = f
        .app
        .create_report(
            &drafter,
            f.l.assignment(),
            &NewReport::in_progress("系统起草"),
        )
        .await
        .id;
    f.app
        .report_action(&drafter, id, Action::Submit)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(f.app.report(&drafter, id).await.workflow, "draft");
}

#[actix_rt::test]
async fn the_lead_units_system_cannot_report_on_a_participants_assignment() {
    let f = World::builder()
        .without_b()
        .service(
            "justice-system",
            'L',
            Some(duban::domain::role::SERVICE_SCOPES.to_vec()),
        )
        .build()
        .await;
    let system = f.service_token("justice-system", None).await;
    f.app
        .try_create_report(&system, f.a.assignment(), &NewReport::in_progress("代报"))
        .await
        .assert_problem(403, "forbidden");
}
