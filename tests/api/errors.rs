//! Every failure is an RFC 9457 problem: parsing, media type, size, routing, conflicts.

use crate::helpers::*;
use serde_json::json;

#[actix_rt::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn_app().await;
    let r = app
        .send_raw(
            "POST",
            "/auth/login",
            None,
            "application/json",
            b"{\"username\": ".to_vec(),
        )
        .await;
    r.assert_problem(400, "bad-request");
}

#[actix_rt::test]
async fn a_missing_or_mistyped_field_is_a_422_naming_it() {
    let app = spawn_app().await;
    let r = app
        .send(
            "POST",
            "/auth/login",
            None,
            Some(json!({"username": "admin"})),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["password"]);
    let admin = app.admin().await;
    let r = app
        .post("/units", &admin, json!({"name": "x", "kind": "planet"}))
        .await;
    assert_eq!(r.fields(), vec!["kind"]);
    let r = app
        .post(
            "/units",
            &admin,
            json!({"name": "x", "kind": "other", "aliases": ["a", 5]}),
        )
        .await;
    assert_eq!(r.fields(), vec!["aliases[1]"]);
    let r = app
        .post(
            "/units",
            &admin,
            json!({"name": "x", "kind": "other", "colour": "red"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["colour"]);
}

#[actix_rt::test]
async fn a_bad_query_parameter_is_a_422_naming_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let r = app.get("/units?active=perhaps", &admin).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["active"]);
    let r = app.get("/units?limit=1000", &admin).await;
    assert_eq!(r.fields(), vec!["limit"]);
    let r = app.get("/units?limit=ten", &admin).await;
    assert_eq!(r.fields(), vec!["limit"]);
}

#[actix_rt::test]
async fn a_wrong_content_type_is_a_415_problem() {
    let app = spawn_app().await;
    let r = app
        .send_raw("POST", "/auth/login", None, "text/plain", b"{}".to_vec())
        .await;
    r.assert_problem(415, "unsupported-media-type");
}

#[actix_rt::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = spawn_app().await;
    let big = format!(
        "{{\"username\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(70_000)
    );
    let r = app
        .send_raw(
            "POST",
            "/auth/login",
            None,
            "application/json",
            big.into_bytes(),
        )
        .await;
    r.assert_problem(413, "payload-too-large");
}

#[actix_rt::test]
async fn an_unknown_route_is_a_404_problem_and_a_wrong_method_a_405() {
    let app = spawn_app().await;
    app.send("GET", "/no/such/thing", None, None)
        .await
        .assert_problem(404, "not-found");
    let r = app.send("DELETE", "/units", None, None).await;
    r.assert_problem(405, "method-not-allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
    let r = app.send("DELETE", "/users/5", None, None).await;
    assert_eq!(r.header("allow").as_deref(), Some("GET, PATCH"));
}

#[actix_rt::test]
async fn a_fixed_path_beside_a_parameter_answers_405_for_a_method_it_lacks() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    // `/assignments/reschedule` takes POST only, though `/assignments/{id}` takes PATCH.
    let r = app
        .send(
            "PATCH",
            "/assignments/reschedule",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    r.assert_problem(405, "method-not-allowed");
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    let r = app
        .send("GET", "/assignments/reschedule", Some(&admin), None)
        .await;
    r.assert_problem(405, "method-not-allowed");
    // Neither is `/calendar/{date}`'s DELETE advertised on `/calendar/working-days`.
    let r = app
        .send("OPTIONS", "/calendar/working-days", Some(&admin), None)
        .await;
    assert_eq!(r.header("allow").as_deref(), Some("GET"));
    // A parameter that does not parse is still no resource.
    app.send("GET", "/assignments/nine", Some(&admin), None)
        .await
        .assert_problem(404, "not-found");
}

#[actix_rt::test]
async fn every_response_carries_a_request_id_and_echoes_a_sane_one() {
    let app = spawn_app().await;
    let r = app.send("GET", "/healthz", None, None).await;
    assert_eq!(r.header("x-request-id").unwrap().len(), 32);
    let r = app.send("GET", "/nothing-here", None, None).await;
    assert!(r.header("x-request-id").is_some());
    let res = app
        .client
        .get(app.url("/healthz"))
        .insert_header(("X-Request-Id", "office-42"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("x-request-id").unwrap(), "office-42");
    let res = app
        .client
        .get(app.url("/healthz"))
        .insert_header(("X-Request-Id", "bad id with spaces"))
        .send()
        .await
        .unwrap();
    assert_ne!(
        res.headers().get("x-request-id").unwrap(),
        "bad id with spaces"
    );
}

#[actix_rt::test]
async fn database_errors_never_leak_sql() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let r = app
        .post(
            "/units",
            &admin,
            json!({"name": "市民政局", "kind": "city_department"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .post(
            "/units",
            &admin,
            json!({"name": "市民政局", "kind": "city_department"}),
        )
        .await;
    r.assert_problem(409, "conflict");
    let text = r.raw.to_lowercase();
    for word in [
        "select",
        "insert",
        "constraint",
        "sqlite",
        "postgres",
        "unique",
    ] {
        assert!(!text.contains(word), "{word} leaked: {}", r.raw);
    }
}

/// Stores `value` in `table.column` of row `id`, past the column's CHECK constraint (dropped on
/// PostgreSQL, ignored on SQLite), as a damaged or newer database might hold it.
fn store_unknown_value(app: &TestApp, table: &str, column: &str, id: i64, value: &str) {
    use diesel::connection::SimpleConnection;
    let mut c = app.state.db.get().unwrap();
    let update = format!("UPDATE {table} SET {column} = '{value}' WHERE id = {id};");
    let sql = if app.db.is_postgres() {
        format!("ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_check; {update}")
    } else {
        format!(
            "PRAGMA ignore_check_constraints = ON; {update} PRAGMA ignore_check_constraints = OFF;"
        )
    };
    c.batch_execute(&sql).unwrap();
}

#[actix_rt::test]
async fn an_unknown_stored_role_is_a_500_not_a_viewer() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (id, _) = app.account("zhang.wei", "coordinator", None).await;
    store_unknown_value(&app, "users", "role", id, "superuser");
    let r = app.get(&format!("/users/{id}"), &admin).await;
    r.assert_problem(500, "internal");
    assert!(!r.raw.contains("superuser"), "cause leaked: {}", r.raw);
    let r = app.login_reply("zhang.wei", PASSWORD).await;
    r.assert_problem(500, "internal");
    assert!(r.body["access_token"].is_null());
}

#[actix_rt::test]
async fn an_unknown_stored_unit_kind_is_a_500_not_other() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let id = app.unit("市民政局").await;
    store_unknown_value(&app, "units", "kind", id, "ministry");
    app.get(&format!("/units/{id}"), &admin)
        .await
        .assert_problem(500, "internal");
    app.get("/units", &admin)
        .await
        .assert_problem(500, "internal");
}
