//! Liveness, readiness, metrics and the documentation page.

use crate::helpers::*;

#[actix_rt::test]
async fn healthz_and_readyz_answer_ok() {
    let app = spawn_app().await;
    let r = app.send("GET", "/healthz", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    let r = app.send("GET", "/readyz", None, None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
}

#[actix_rt::test]
async fn readyz_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    assert_eq!(app.send("GET", "/readyz", None, None).await.status, 200);
    app.db.remove();
    let r = app.send("GET", "/readyz", None, None).await;
    r.assert_problem(503, "unavailable");
    assert!(r.header("retry-after").is_some());
    // Liveness is unaffected: the process is still up.
    assert_eq!(app.send("GET", "/healthz", None, None).await.status, 200);
    // A request needing the database gets a 503 problem, not a 500 or a hang.
    let r = app.login_reply(ADMIN, ADMIN_PASSWORD).await;
    if app.db.is_postgres() {
        r.assert_problem(503, "unavailable");
    }
}

#[actix_rt::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.send("GET", "/healthz", None, None).await;
    app.send("GET", "/units/7", None, None).await;
    let r = app.send("GET", "/metrics", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.content_type().starts_with("text/plain"));
    assert!(
        r.raw
            .contains(r#"duban_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{}",
        r.raw
    );
    assert!(
        r.raw.contains(r#"route="/api/v1/units/{id}",status="401""#),
        "{}",
        r.raw
    );
    assert!(r.raw.contains("duban_http_request_duration_seconds_bucket"));
    assert!(r
        .raw
        .contains(r#"duban_db_pool_connections{state="max"} 4"#));
}

#[actix_rt::test]
async fn the_documentation_page_is_served_from_the_binary() {
    let app = spawn_app().await;
    let r = app.send("GET", "/docs/", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.raw.to_lowercase().contains("swagger"));
    let r = app
        .send("GET", "/docs/swagger-initializer.js", None, None)
        .await;
    assert!(r.raw.contains("/api/v1/openapi.json"), "{}", r.raw);
}
