//! A unit never reads or changes another unit's data; the office never sees a unit's drafts; a
//! lead unit reads its participants' sent reports.

use crate::review::{draft, fixture, send_with};
use serde_json::json;

#[actix_rt::test]
async fn another_unit_can_neither_read_nor_change_a_draft() {
    let f = fixture().await;
    let (id, etag) = draft(&f, f.lead_assignment, &f.manager_a, "司法局草稿").await;
    let path = format!("/reports/{id}");
    assert_eq!(f.app.get(&path, &f.manager_a).await.status, 200);
    f.app
        .get(&path, &f.manager_b)
        .await
        .assert_problem(404, "not-found");
    send_with(
        &f.app,
        "PATCH",
        &path,
        &f.manager_b,
        &[("If-Match", &etag)],
        Some(json!({"narrative": "篡改"})),
    )
    .await
    .assert_problem(404, "not-found");
    f.app
        .post(&format!("{path}/submit"), &f.manager_b, json!({}))
        .await
        .assert_problem(404, "not-found");
    f.app
        .get(&format!("{path}/revisions"), &f.manager_b)
        .await
        .assert_problem(404, "not-found");
    let b_list = f.app.get("/reports", &f.manager_b).await;
    assert_eq!(b_list.body["items"], json!([]));
    assert_eq!(
        f.app.get(&path, &f.manager_a).await.body["narrative"],
        "司法局草稿"
    );
    // Nor can it write on A's assignment, or see it.
    f.app
        .post(
            &format!("/assignments/{}/reports", f.lead_assignment),
            &f.manager_b,
            json!({"status": "completed", "narrative": "x"}),
        )
        .await
        .assert_problem(404, "not-found");
    f.app
        .get(&format!("/assignments/{}", f.lead_assignment), &f.manager_b)
        .await
        .assert_problem(404, "not-found");
    let b_assignments = f.app.get("/assignments", &f.manager_b).await;
    let units: Vec<i64> = b_assignments.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["unit_id"].as_i64().unwrap())
        .collect();
    assert_eq!(units, vec![f.unit_b]);
    f.app
        .get(&format!("/assignments?unit_id={}", f.unit_a), &f.manager_b)
        .await
        .assert_problem(403, "forbidden");
    f.app
        .get(
            &format!("/plans/{}/summary?unit={}", f.plan, f.unit_a),
            &f.manager_b,
        )
        .await
        .assert_problem(403, "forbidden");
}

#[actix_rt::test]
async fn the_office_sees_a_report_only_once_it_is_sent() {
    let f = fixture().await;
    let (id, _) = draft(&f, f.lead_assignment, &f.manager_a, "草稿内容").await;
    let path = format!("/reports/{id}");
    f.app
        .get(&path, &f.coordinator)
        .await
        .assert_problem(404, "not-found");
    f.app
        .get(&path, &f.viewer)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(
        f.app.get("/reports", &f.coordinator).await.body["items"],
        json!([])
    );
    let summary = f
        .app
        .get(&format!("/plans/{}/summary", f.plan), &f.coordinator)
        .await;
    assert_eq!(summary.body["rows"][0]["completion"], "");
    let own = f
        .app
        .get(&format!("/plans/{}/summary", f.plan), &f.manager_a)
        .await;
    assert_eq!(
        own.body["rows"][0]["completion"], "草稿内容",
        "a unit sees its own draft in its table"
    );
    f.app
        .post(&format!("{path}/submit"), &f.manager_a, json!({}))
        .await;
    assert_eq!(f.app.get(&path, &f.coordinator).await.status, 200);
    assert_eq!(f.app.get(&path, &f.viewer).await.status, 200);
    let summary = f
        .app
        .get(&format!("/plans/{}/summary", f.plan), &f.coordinator)
        .await;
    assert_eq!(
        summary.body["rows"][0]["completion"],
        "【市司法局】草稿内容"
    );
    // Viewers read but neither write nor review.
    f.app
        .post(
            &format!("/assignments/{}/reports", f.lead_assignment),
            &f.viewer,
            json!({"status": "completed", "narrative": "x"}),
        )
        .await
        .assert_problem(403, "forbidden");
    f.app
        .post(&format!("{path}/return"), &f.viewer, json!({"reason": "x"}))
        .await
        .assert_problem(403, "forbidden");
}

#[actix_rt::test]
async fn a_lead_unit_reads_its_participants_sent_reports_but_not_the_other_way() {
    let f = fixture().await;
    let (b_report, _) = draft(&f, f.participant_assignment, &f.manager_b, "财政局配合情况").await;
    let b_path = format!("/reports/{b_report}");
    f.app
        .get(&b_path, &f.manager_a)
        .await
        .assert_problem(404, "not-found");
    f.app
        .post(&format!("{b_path}/submit"), &f.manager_b, json!({}))
        .await;
    let seen = f.app.get(&b_path, &f.manager_a).await;
    assert_eq!(seen.status, 200, "{}", seen.raw);
    assert_eq!(seen.body["narrative"], "财政局配合情况");
    let listed = f
        .app
        .get(&format!("/reports?plan_id={}", f.plan), &f.manager_a)
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let measure_assignments = f
        .app
        .get(
            &format!("/assignments?measure_id={}", f.measure),
            &f.manager_a,
        )
        .await;
    assert_eq!(
        measure_assignments.body["items"].as_array().unwrap().len(),
        2,
        "the lead sees the whole measure"
    );
    // The lead may read, not change.
    f.app
        .post(&format!("{b_path}/submit"), &f.manager_a, json!({}))
        .await
        .assert_problem(403, "forbidden");
    // The participant does not read the lead's report.
    let (a_report, _) = draft(&f, f.lead_assignment, &f.manager_a, "牵头单位汇总").await;
    f.app
        .post(
            &format!("/reports/{a_report}/submit"),
            &f.manager_a,
            json!({}),
        )
        .await;
    f.app
        .get(&format!("/reports/{a_report}"), &f.manager_b)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(
        f.app
            .get(
                &format!("/assignments?measure_id={}", f.measure),
                &f.manager_b
            )
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_rt::test]
async fn units_do_not_see_draft_plans_and_cannot_change_plans() {
    let f = fixture().await;
    let draft_plan = f
        .app
        .post(
            "/plans",
            &f.coordinator,
            json!({"title": "草拟中的计划", "year": 2100}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let listed = f.app.get("/plans", &f.manager_a).await;
    let ids: Vec<i64> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![f.plan]);
    f.app
        .get(&format!("/plans/{draft_plan}"), &f.manager_a)
        .await
        .assert_problem(404, "not-found");
    f.app
        .get(&format!("/plans/{draft_plan}/tree"), &f.manager_a)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(
        f.app.get("/plans", &f.coordinator).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    f.app
        .post("/plans", &f.manager_a, json!({"title": "x", "year": 2099}))
        .await
        .assert_problem(403, "forbidden");
    let ghost = f
        .app
        .post(
            "/plans",
            &f.coordinator,
            json!({"title": "x", "year": 2099, "issuing_unit_id": 999999}),
        )
        .await;
    ghost.assert_problem(422, "validation");
    assert_eq!(ghost.fields(), vec!["issuing_unit_id"]);
    f.app
        .post(&format!("/plans/{}/close", f.plan), &f.manager_a, json!({}))
        .await
        .assert_problem(403, "forbidden");
    f.app
        .post(
            &format!("/measures/{}/assignments", f.measure),
            &f.manager_a,
            json!({"lead": {"unit_ids": [f.unit_b]}}),
        )
        .await
        .assert_problem(403, "forbidden");
    f.app
        .patch(
            &format!("/assignments/{}", f.lead_assignment),
            &f.manager_a,
            json!({"due_date": "2100-01-01"}),
        )
        .await
        .assert_problem(403, "forbidden");
    f.app
        .post(
            "/groups",
            &f.manager_a,
            json!({"name": "我的组", "members": []}),
        )
        .await
        .assert_problem(403, "forbidden");
}

#[actix_rt::test]
async fn plan_states_move_forward_and_closed_plans_are_read_only() {
    let f = fixture().await;
    f.app
        .post(
            &format!("/plans/{}/publish", f.plan),
            &f.coordinator,
            json!({}),
        )
        .await
        .assert_problem(409, "conflict");
    assert_eq!(
        f.app
            .post(
                &format!("/plans/{}/close", f.plan),
                &f.coordinator,
                json!({})
            )
            .await
            .body["state"],
        "closed"
    );
    f.app
        .post(
            &format!("/plans/{}/close", f.plan),
            &f.coordinator,
            json!({}),
        )
        .await
        .assert_problem(409, "conflict");
    f.app
        .post(
            &format!("/plans/{}/items", f.plan),
            &f.coordinator,
            json!({"level": "section", "number": "二", "title": "x"}),
        )
        .await
        .assert_problem(409, "conflict");
    f.app
        .post(
            &format!("/assignments/{}/reports", f.lead_assignment),
            &f.manager_a,
            json!({"status": "completed", "narrative": "x"}),
        )
        .await
        .assert_problem(409, "conflict");
}

#[actix_rt::test]
async fn bulk_assignment_expands_groups_and_skips_units_already_assigned() {
    let f = fixture().await;
    let extra = f.app.unit("市民政局").await;
    let group = f
        .app
        .post(
            "/groups",
            &f.coordinator,
            json!({"name": "两个部门", "aliases": ["二部门"], "members": [f.unit_b, extra]}),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.raw);
    let r = f
        .app
        .post(
            &format!("/measures/{}/assignments", f.measure),
            &f.coordinator,
            json!({"participants": {"group_ids": [group.body["id"]]}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["already_assigned"], json!([f.unit_b]));
    let created = r.body["created"].as_array().unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["unit_id"], extra);
    assert_eq!(created[0]["via_group_id"], group.body["id"]);
    assert_eq!(created[0]["due_date"], "2099-12-31");
    let id = created[0]["id"].as_i64().unwrap();
    let moved = f
        .app
        .post(
            "/assignments/reschedule",
            &f.coordinator,
            json!({"assignment_ids": [id, f.lead_assignment], "due_date": "2099-06-30"}),
        )
        .await;
    assert_eq!(moved.body["updated"], 2);
    assert_eq!(
        f.app
            .get(&format!("/assignments/{id}"), &f.coordinator)
            .await
            .body["due_date"],
        "2099-06-30"
    );
    assert_eq!(
        f.app
            .send(
                "DELETE",
                &format!("/assignments/{id}"),
                Some(&f.coordinator),
                None
            )
            .await
            .status,
        204
    );
    let (rid, _) = draft(&f, f.lead_assignment, &f.manager_a, "x").await;
    assert!(rid > 0);
    f.app
        .send(
            "DELETE",
            &format!("/assignments/{}", f.lead_assignment),
            Some(&f.coordinator),
            None,
        )
        .await
        .assert_problem(409, "conflict");
}
