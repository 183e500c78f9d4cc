//! Who may manage units and accounts, checked on the role and on the caller's unit.

use crate::helpers::*;
use serde_json::json;

#[actix_rt::test]
async fn admins_create_list_update_and_deactivate_units() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let r = app.post("/units", &admin, json!({"name": "重庆市城市管理局", "short_name": "市城市管理局", "kind": "city_department", "aliases": ["市城管局", " 市城管局 "]})).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["aliases"], json!(["市城管局"]));
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/v1/units/{id}")));

    let found = app.get("/units?q=城管", &admin).await;
    assert_eq!(
        found.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        found.raw
    );
    let by_alias = app.get(&format!("/units?q={}", "市城管局"), &admin).await;
    assert_eq!(by_alias.body["items"][0]["id"], id);

    let dup = app
        .post(
            "/units",
            &admin,
            json!({"name": "市城管局", "kind": "other"}),
        )
        .await;
    dup.assert_problem(409, "conflict");
    assert_eq!(dup.fields(), vec!["name"]);

    let off = app
        .patch(
            &format!("/units/{id}"),
            &admin,
            json!({"active": false, "aliases": ["市城管局", "城管局"]}),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.raw);
    assert_eq!(off.body["active"], false);
    assert_eq!(off.body["aliases"], json!(["城管局", "市城管局"]));
    let inactive = app.get("/units?active=false", &admin).await;
    assert_eq!(inactive.body["items"].as_array().unwrap().len(), 1);
    app.get("/units/999999", &admin)
        .await
        .assert_problem(404, "not-found");
    app.get("/units/abc", &admin)
        .await
        .assert_problem(404, "not-found");
}

#[actix_rt::test]
async fn unit_lists_page_with_a_cursor() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for i in 0..5 {
        app.post(
            "/units",
            &admin,
            json!({"name": format!("区县{i}"), "kind": "district_government"}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/units?kind=district_government&limit=2&cursor={c}"),
            None => "/units?kind=district_government&limit=2".into(),
        };
        let page = app.get(&path, &admin).await;
        assert_eq!(page.status, 200, "{}", page.raw);
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["name"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, (0..5).map(|i| format!("区县{i}")).collect::<Vec<_>>());
    let bad = app.get("/units?cursor=zzz", &admin).await;
    bad.assert_problem(422, "validation");
    assert_eq!(bad.fields(), vec!["cursor"]);
}

#[actix_rt::test]
async fn coordinators_maintain_units_but_not_accounts() {
    let app = spawn_app().await;
    let office = app.unit("市委依法治市办").await;
    let (_, coordinator) = app
        .account("office-staff", "coordinator", Some(office))
        .await;
    let r = app
        .post(
            "/units",
            &coordinator,
            json!({"name": "市司法局", "kind": "city_department"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let u = app.post("/users", &coordinator, json!({"username": "x-user", "display_name": "x", "role": "viewer", "password": PASSWORD})).await;
    u.assert_problem(403, "forbidden");
    assert_eq!(app.get("/users", &coordinator).await.status, 200);
}

#[actix_rt::test]
async fn reporters_viewers_and_services_cannot_change_units_or_accounts() {
    let app = spawn_app().await;
    let unit = app.unit("重庆市知识产权局").await;
    let (_, reporter) = app
        .account("ipo-reporter", "unit_reporter", Some(unit))
        .await;
    let (_, viewer) = app.account("auditor", "viewer", None).await;
    let (_, secret) = app.service_account("ipo-system", unit, None).await;
    let service = app.client_token("ipo-system", &secret, None).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for (who, token) in [
        ("reporter", &reporter),
        ("viewer", &viewer),
        ("service", &service),
    ] {
        let r = app
            .post("/units", token, json!({"name": "新单位", "kind": "other"}))
            .await;
        r.assert_problem(403, "forbidden");
        let r = app
            .patch(&format!("/units/{unit}"), token, json!({"active": false}))
            .await;
        assert_eq!(r.status, 403, "{who} changed a unit");
        let r = app.post("/users", token, json!({"username": "intruder", "display_name": "x", "role": "unit_reporter", "unit_id": unit, "password": PASSWORD})).await;
        assert_eq!(r.status, 403, "{who} created an account");
        // Everyone may read the directory (the service with its default assignments:read scope).
        assert_eq!(
            app.get("/units", token).await.status,
            200,
            "{who} cannot read units"
        );
    }
    app.get("/users", &reporter)
        .await
        .assert_problem(403, "forbidden");
    app.get("/users", &service)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(app.get("/users", &viewer).await.status, 200);
}

#[actix_rt::test]
async fn a_unit_manager_manages_only_its_own_units_accounts() {
    let app = spawn_app().await;
    let ipo = app.unit("重庆市知识产权局").await;
    let justice = app.unit("重庆市司法局").await;
    let (_, manager) = app.account("ipo-manager", "unit_manager", Some(ipo)).await;
    let (other_id, _) = app
        .account("justice-reporter", "unit_reporter", Some(justice))
        .await;

    let own = app.post("/users", &manager, json!({"username": "ipo-new", "display_name": "新填报员", "role": "unit_reporter", "unit_id": ipo, "password": PASSWORD})).await;
    assert_eq!(own.status, 201, "{}", own.raw);
    let own_id = own.body["id"].as_i64().unwrap();
    let svc = app.post("/users", &manager, json!({"username": "ipo-sys", "display_name": "系统", "role": "service", "unit_id": ipo, "scopes": ["reports:read", "reports:submit"]})).await;
    assert_eq!(svc.status, 201, "{}", svc.raw);
    assert!(svc.body["client_secret"].is_string());

    // Another unit's accounts: neither created, listed, read, changed nor reset.
    let other = app.post("/users", &manager, json!({"username": "sneaky", "display_name": "x", "role": "unit_reporter", "unit_id": justice, "password": PASSWORD})).await;
    other.assert_problem(403, "forbidden");
    let list = app.get("/users", &manager).await;
    let units: Vec<i64> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit_id"].as_i64().unwrap())
        .collect();
    assert!(
        !units.is_empty() && units.iter().all(|u| *u == ipo),
        "{}",
        list.raw
    );
    app.get(&format!("/users?unit_id={justice}"), &manager)
        .await
        .assert_problem(403, "forbidden");
    app.get(&format!("/users/{other_id}"), &manager)
        .await
        .assert_problem(404, "not-found");
    app.patch(
        &format!("/users/{other_id}"),
        &manager,
        json!({"active": false}),
    )
    .await
    .assert_problem(404, "not-found");
    app.send(
        "PUT",
        &format!("/users/{other_id}/password"),
        Some(&manager),
        Some(json!({"password": "taken over passphrase"})),
    )
    .await
    .assert_problem(404, "not-found");
    // Nor move an own account into another unit, nor raise it above the unit's roles.
    app.patch(
        &format!("/users/{own_id}"),
        &manager,
        json!({"unit_id": justice}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch(
        &format!("/users/{own_id}"),
        &manager,
        json!({"role": "coordinator"}),
    )
    .await
    .assert_problem(403, "forbidden");
    // Own accounts can be changed and reset.
    let up = app
        .patch(
            &format!("/users/{own_id}"),
            &manager,
            json!({"role": "unit_manager", "display_name": "新负责人"}),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.raw);
    let reset = app
        .send(
            "PUT",
            &format!("/users/{own_id}/password"),
            Some(&manager),
            Some(json!({"password": "reset by my manager"})),
        )
        .await;
    assert_eq!(reset.status, 204, "{}", reset.raw);
    assert_eq!(
        app.login_reply("ipo-new", "reset by my manager")
            .await
            .status,
        200
    );
}

#[actix_rt::test]
async fn account_rules_are_checked_field_by_field() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let unit = app.unit("市财政局").await;
    let r = app.post("/users", &admin, json!({"username": "x", "display_name": "", "role": "unit_reporter", "password": "short"})).await;
    r.assert_problem(422, "validation");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, vec!["display_name", "password", "username"]);
    let r = app.post("/users", &admin, json!({"username": "no-unit", "display_name": "x", "role": "unit_reporter", "password": PASSWORD})).await;
    assert_eq!(r.fields(), vec!["unit_id"]);
    let r = app.post("/users", &admin, json!({"username": "svc", "display_name": "x", "role": "service", "unit_id": unit, "password": PASSWORD})).await;
    assert_eq!(r.fields(), vec!["password"]);
    let r = app
        .post(
            "/users",
            &admin,
            json!({"username": "svc", "display_name": "x", "role": "root", "unit_id": unit}),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["role"]);
    let r = app.post("/users", &admin, json!({"username": "ghost-unit", "display_name": "x", "role": "unit_reporter", "unit_id": 424242, "password": PASSWORD})).await;
    assert_eq!(r.fields(), vec!["unit_id"]);
    app.account("taken", "viewer", None).await;
    let r = app.post("/users", &admin, json!({"username": "TAKEN", "display_name": "x", "role": "viewer", "password": PASSWORD})).await;
    r.assert_problem(409, "conflict");
}

#[actix_rt::test]
async fn the_last_active_admin_cannot_be_demoted_or_deactivated() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let me = app.get("/me", &admin).await.body["id"].as_i64().unwrap();
    app.patch(&format!("/users/{me}"), &admin, json!({"active": false}))
        .await
        .assert_problem(409, "conflict");
    app.patch(&format!("/users/{me}"), &admin, json!({"role": "viewer"}))
        .await
        .assert_problem(409, "conflict");
    let (_, _) = app.account("second-admin", "admin", None).await;
    let r = app
        .patch(&format!("/users/{me}"), &admin, json!({"role": "viewer"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
}

#[actix_rt::test]
async fn a_rotated_client_secret_replaces_the_old_one() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let unit = app.unit("市公安局").await;
    let (id, old) = app.service_account("police-system", unit, None).await;
    let r = app
        .post(&format!("/users/{id}/client-secret"), &admin, json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let new = r.body["client_secret"].as_str().unwrap();
    app.client_token("police-system", &old, None)
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(
        app.client_token("police-system", new, None).await.status,
        200
    );
}

#[actix_rt::test]
async fn every_write_is_in_the_audit_log_for_those_who_may_read_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let unit = app.unit("市审计局").await;
    let (_, viewer) = app.account("auditor", "viewer", None).await;
    let (_, reporter) = app.account("reporter", "unit_reporter", Some(unit)).await;
    app.patch(
        &format!("/units/{unit}"),
        &admin,
        json!({"short_name": "审计局"}),
    )
    .await;
    let log = app
        .get(
            &format!("/audit?entity_type=unit&entity_id={unit}"),
            &viewer,
        )
        .await;
    assert_eq!(log.status, 200, "{}", log.raw);
    let items = log.body["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["unit.update", "unit.create"]);
    assert_eq!(items[0]["before"]["short_name"], serde_json::Value::Null);
    assert_eq!(items[0]["after"]["short_name"], "审计局");
    assert!(items[0]["request_id"].is_string());
    assert!(items[0]["actor_user_id"].is_i64());
    app.get("/audit", &reporter)
        .await
        .assert_problem(403, "forbidden");
}
