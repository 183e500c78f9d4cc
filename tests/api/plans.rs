//! Plans and their assignments: units never see draft plans nor change plans, plan states move
//! forward, closed plans are read-only, and bulk assignment expands groups.

use crate::fixtures::*;
use serde_json::{json, Value};

#[actix_rt::test]
async fn units_do_not_see_draft_plans_but_the_coordinator_does() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let (a, coord) = (&f.l.manager.token, &f.coordinator.token);
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
            json!({"lead": {"unit_ids": [f.l.id]}, "due_date": "2099-12-31"}),
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
    assert_eq!(
        ids(&app.get("/assignments", a).await),
        vec![f.l.assignment()]
    );
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
async fn units_cannot_change_plans_assignments_or_groups() {
    let f = World::builder().without_b().build().await;
    f.app
        .post(
            "/plans",
            &f.l.manager.token,
            json!({"title": "x", "year": 2099}),
        )
        .await
        .assert_problem(403, "forbidden");
    f.app
        .post(
            &format!("/plans/{}/close", f.plan),
            &f.l.manager.token,
            json!({}),
        )
        .await
        .assert_problem(403, "forbidden");
    f.app
        .post(
            &format!("/measures/{}/assignments", f.measure),
            &f.l.manager.token,
            json!({"lead": {"unit_ids": [f.a.id]}}),
        )
        .await
        .assert_problem(403, "forbidden");
    f.app
        .patch(
            &format!("/assignments/{}", f.l.assignment()),
            &f.l.manager.token,
            json!({"due_date": "2100-01-01"}),
        )
        .await
        .assert_problem(403, "forbidden");
    f.app
        .post(
            "/groups",
            &f.l.manager.token,
            json!({"name": "我的组", "members": []}),
        )
        .await
        .assert_problem(403, "forbidden");
}

#[actix_rt::test]
async fn a_plan_naming_an_unknown_issuing_unit_is_a_422_naming_the_field() {
    let f = World::builder().without_b().build().await;
    let ghost = f
        .app
        .post(
            "/plans",
            &f.coordinator.token,
            json!({"title": "x", "year": 2099, "issuing_unit_id": 999999}),
        )
        .await;
    ghost.assert_problem(422, "validation");
    assert_eq!(ghost.fields(), vec!["issuing_unit_id"]);
}

#[actix_rt::test]
async fn plan_states_move_forward_and_closed_plans_are_read_only() {
    let f = World::builder().without_b().build().await;
    f.app
        .post(
            &format!("/plans/{}/publish", f.plan),
            &f.coordinator.token,
            json!({}),
        )
        .await
        .assert_problem(409, "conflict");
    assert_eq!(
        f.app
            .post(
                &format!("/plans/{}/close", f.plan),
                &f.coordinator.token,
                json!({})
            )
            .await
            .body["state"],
        "closed"
    );
    f.app
        .post(
            &format!("/plans/{}/close", f.plan),
            &f.coordinator.token,
            json!({}),
        )
        .await
        .assert_problem(409, "conflict");
    f.app
        .post(
            &format!("/plans/{}/items", f.plan),
            &f.coordinator.token,
            json!({"level": "section", "number": "二", "title": "x"}),
        )
        .await
        .assert_problem(409, "conflict");
    f.app
        .post(
            &format!("/assignments/{}/reports", f.l.assignment()),
            &f.l.manager.token,
            json!({"status": "completed", "narrative": "x"}),
        )
        .await
        .assert_problem(409, "conflict");
}

#[actix_rt::test]
async fn bulk_assignment_expands_groups_and_skips_units_already_assigned() {
    let f = World::builder().without_b().build().await;
    let extra = f.app.unit("市民族宗教委").await;
    let group = f
        .app
        .post(
            "/groups",
            &f.coordinator.token,
            json!({"name": "两个部门", "aliases": ["二部门"], "members": [f.a.id, extra]}),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.raw);
    let r = f
        .app
        .post(
            &format!("/measures/{}/assignments", f.measure),
            &f.coordinator.token,
            json!({"participants": {"group_ids": [group.body["id"]]}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["already_assigned"], json!([f.a.id]));
    let created = r.body["created"].as_array().unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["unit_id"], extra);
    assert_eq!(created[0]["via_group_id"], group.body["id"]);
    // Without a due date, the end of the plan's year.
    assert_eq!(created[0]["due_date"], "2020-12-31");
    let id = created[0]["id"].as_i64().unwrap();
    let moved = f
        .app
        .post(
            "/assignments/reschedule",
            &f.coordinator.token,
            json!({"assignment_ids": [id, f.l.assignment()], "due_date": "2099-06-30"}),
        )
        .await;
    assert_eq!(moved.body["updated"], 2);
    assert_eq!(
        f.app
            .get(&format!("/assignments/{id}"), &f.coordinator.token)
            .await
            .body["due_date"],
        "2099-06-30"
    );
    assert_eq!(
        f.app
            .send(
                "DELETE",
                &format!("/assignments/{id}"),
                Some(&f.coordinator.token),
                None
            )
            .await
            .status,
        204
    );
    f.app
        .create_report(
            &f.l.manager.token,
            f.l.assignment(),
            &NewReport::in_progress("x"),
        )
        .await;
    f.app
        .send(
            "DELETE",
            &format!("/assignments/{}", f.l.assignment()),
            Some(&f.coordinator.token),
            None,
        )
        .await
        .assert_problem(409, "conflict");
}
