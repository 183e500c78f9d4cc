//! HTTP as browsers and generic clients expect it: CORS for the configured origins, ETags and
//! conditional reads, content negotiation, rate-limit headers, and list totals.

use crate::fixtures::*;
use crate::helpers::*;
use serde_json::json;

const ORIGIN: &str = "https://duban.example.gov.cn";

#[actix_rt::test]
async fn an_allowed_origin_gets_cors_headers_and_a_refused_one_none() {
    let f = World::builder()
        .without_b()
        .setting(
            "DUBAN_CORS_ORIGINS",
            format!("{ORIGIN},http://localhost:5173"),
        )
        .build()
        .await;
    let app = &f.app;
    let t = &f.coordinator.token;
    let ok = app
        .send_with("GET", "/units", t, &[("Origin", ORIGIN)], None)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    let exposed = ok.header("access-control-expose-headers").unwrap();
    for h in [
        "ETag",
        "Location",
        "Retry-After",
        "Idempotency-Key",
        "RateLimit",
        "X-Request-Id",
    ] {
        assert!(exposed.contains(h), "{h} is exposed: {exposed}");
    }
    assert!(ok.header("vary").unwrap().contains("Origin"));
    assert_eq!(ok.header("access-control-allow-credentials"), None);

    let refused = app
        .send_with(
            "GET",
            "/units",
            t,
            &[("Origin", "https://evil.example.com")],
            None,
        )
        .await;
    assert_eq!(refused.status, 200);
    assert!(
        refused
            .headers
            .keys()
            .all(|k| !k.as_str().starts_with("access-control-")),
        "no CORS header for a refused origin: {:?}",
        refused.headers
    );
}

#[actix_rt::test]
async fn a_preflight_from_an_allowed_origin_lists_methods_and_headers() {
    let app = spawn_app_with(&[("DUBAN_CORS_ORIGINS", ORIGIN)]).await;
    let preflight = |origin: &'static str, method: &'static str, path: &'static str| {
        app.client
            .request(awc::http::Method::OPTIONS, app.url(path))
            .insert_header(("Origin", origin))
            .insert_header(("Access-Control-Request-Method", method))
            .insert_header((
                "Access-Control-Request-Headers",
                "authorization, content-type, if-match",
            ))
            .send()
    };
    let ok = read(preflight(ORIGIN, "PATCH", "/reports/7").await.unwrap()).await;
    assert_eq!(ok.status, 204, "{}", ok.raw);
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    assert_eq!(
        ok.header("access-control-allow-methods").as_deref(),
        Some("GET, PATCH")
    );
    let headers = ok.header("access-control-allow-headers").unwrap();
    for h in [
        "Authorization",
        "Content-Type",
        "If-Match",
        "If-None-Match",
        "Idempotency-Key",
    ] {
        assert!(headers.contains(h), "{h}: {headers}");
    }
    assert!(ok.header("access-control-max-age").is_some());

    let refused = read(
        preflight("https://evil.example.com", "PATCH", "/reports/7")
            .await
            .unwrap(),
    )
    .await;
    refused.assert_problem(403, "forbidden");
    assert_eq!(refused.header("access-control-allow-origin"), None);

    let wrong_method = read(preflight(ORIGIN, "DELETE", "/reports/7").await.unwrap()).await;
    wrong_method.assert_problem(405, "method-not-allowed");

    // Without Origin, OPTIONS is no preflight: 405 with Allow, as before.
    let plain = app.send("OPTIONS", "/units", None, None).await;
    plain.assert_problem(405, "method-not-allowed");
}

#[actix_rt::test]
async fn every_json_read_has_an_etag_and_if_none_match_answers_304() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let t = &f.coordinator.token;
    let path = format!("/units/{}", f.a.id);
    let first = app.get(&path, t).await;
    let tag = first.header("etag").expect("a computed ETag");
    assert!(tag.starts_with('"') && !tag.starts_with("W/"), "{tag}");
    let same = app
        .send_with("GET", &path, t, &[("If-None-Match", &tag)], None)
        .await;
    assert_eq!(same.status, 304);
    assert_eq!(same.raw, "");
    assert_eq!(same.header("etag").as_deref(), Some(tag.as_str()));
    // Weak comparison: W/ of the same tag matches, and so does *.
    let weak = format!("W/{tag}");
    for inm in [weak.as_str(), "*", &format!("\"other\", {tag}")] {
        let r = app
            .send_with("GET", &path, t, &[("If-None-Match", inm)], None)
            .await;
        assert_eq!(r.status, 304, "If-None-Match: {inm}");
    }
    let other = app
        .send_with("GET", &path, t, &[("If-None-Match", "\"not-it\"")], None)
        .await;
    assert_eq!(other.status, 200);
    assert_eq!(other.body, first.body);

    // A change gives a new tag.
    let changed = app
        .patch(&path, &f.admin, json!({"short_name": "改名"}))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.raw);
    let after = app
        .send_with("GET", &path, t, &[("If-None-Match", &tag)], None)
        .await;
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag"), Some(tag));
}

#[actix_rt::test]
async fn reports_keep_their_version_etag_if_none_match_is_weak_and_if_match_strong() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let a = &f.l.manager.token;
    let created = app
        .create_report(a, f.l.assignment(), &NewReport::in_progress("起草"))
        .await;
    let path = format!("/reports/{}", created.id);
    let etag = created.etag.clone();
    let cached = app
        .send_with(
            "GET",
            &path,
            a,
            &[("If-None-Match", &format!("W/{etag}"))],
            None,
        )
        .await;
    assert_eq!(cached.status, 304);
    assert_eq!(cached.header("etag"), Some(etag.clone()));

    for weak_or_any in [format!("W/{etag}"), "*".to_owned()] {
        let r = app
            .send_with(
                "PATCH",
                &path,
                a,
                &[("If-Match", &weak_or_any)],
                Some(json!({"narrative": "改"})),
            )
            .await;
        r.assert_problem(412, "precondition-failed");
    }
    let strong = app
        .send_with(
            "PATCH",
            &path,
            a,
            &[("If-Match", &etag)],
            Some(json!({"narrative": "改"})),
        )
        .await;
    assert_eq!(strong.status, 200, "{}", strong.raw);
}

#[actix_rt::test]
async fn an_accept_that_admits_nothing_produced_is_406() {
    let f = World::builder().without_b().build().await;
    let app = &f.app;
    let t = &f.coordinator.token;
    let summary = format!("/plans/{}/summary", f.plan);
    let pdf = app
        .send_with("GET", &summary, t, &[("Accept", "application/pdf")], None)
        .await;
    pdf.assert_problem(406, "not-acceptable");
    assert!(
        pdf.body["detail"].as_str().unwrap().contains("text/csv"),
        "{}",
        pdf.raw
    );
    let csv = app
        .send_with("GET", "/units", t, &[("Accept", "text/csv")], None)
        .await;
    csv.assert_problem(406, "not-acceptable");
    let refused_json = app
        .send_with(
            "GET",
            "/units",
            t,
            &[("Accept", "application/json;q=0, */*")],
            None,
        )
        .await;
    refused_json.assert_problem(406, "not-acceptable");
    for accept in ["*/*", "application/*", "text/html, application/json;q=0.9"] {
        let r = app
            .send_with("GET", "/units", t, &[("Accept", accept)], None)
            .await;
        assert_eq!(r.status, 200, "Accept: {accept}");
    }
    let as_csv = app
        .send_with(
            "GET",
            &summary,
            t,
            &[("Accept", "text/csv;q=0.9, application/pdf")],
            None,
        )
        .await;
    assert_eq!(as_csv.status, 200, "{}", as_csv.raw);
    assert!(as_csv.content_type().starts_with("text/csv"));
    assert!(as_csv.header("vary").unwrap().contains("Accept"));
    // Errors are problem documents whatever Accept says.
    let missing = app
        .send_with(
            "GET",
            "/units/999999",
            t,
            &[("Accept", "application/json")],
            None,
        )
        .await;
    missing.assert_problem(404, "not-found");
}

#[actix_rt::test]
async fn sign_in_answers_carry_rate_limits_and_429_a_retry_after() {
    let app = spawn_app().await;
    let (_, _) = app.account("counted", "viewer", None).await;
    let ok = app.login_reply("counted", PASSWORD).await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("ratelimit-policy").as_deref(),
        Some("\"account\";q=5;w=900, \"address\";q=30;w=900")
    );
    assert!(ok
        .header("ratelimit")
        .unwrap()
        .starts_with("\"account\";r=5;t="));
    let first = app.login_reply("counted", "wrong password").await;
    first.assert_problem(401, "unauthorized");
    assert!(
        first
            .header("ratelimit")
            .unwrap()
            .starts_with("\"account\";r=4;t="),
        "{:?}",
        first.header("ratelimit")
    );
    let mut last = first;
    for _ in 0..6 {
        last = app.login_reply("counted", "wrong password").await;
    }
    last.assert_problem(429, "too-many-requests");
    let wait: u64 = last.header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1);
    assert!(last
        .header("ratelimit")
        .unwrap()
        .starts_with("\"account\";r=0;t="));
}

#[actix_rt::test]
async fn count_true_adds_the_total_of_all_pages_and_revisions_are_a_page() {
    let f = World::builder().with_reports().build().await;
    let app = &f.app;
    let t = &f.coordinator.token;
    for list in [
        "/units",
        "/users",
        "/assignments",
        "/reports",
        "/audit",
        "/plans",
    ] {
        let mut walked = 0;
        let mut next = format!("{list}?limit=2");
        loop {
            let page = app.get(&next, &f.admin).await;
            assert_eq!(page.status, 200, "{list}: {}", page.raw);
            assert!(page.body.get("total").is_none(), "no total unless asked");
            walked += page.body["items"].as_array().unwrap().len();
            match page.body["next_cursor"].as_str() {
                Some(c) => next = format!("{list}?limit=2&cursor={c}"),
                None => break,
            }
        }
        let counted = app
            .get(&format!("{list}?limit=1&count=true"), &f.admin)
            .await;
        assert_eq!(
            counted.body["total"], walked as i64,
            "{list}: {}",
            counted.raw
        );
    }
    let reports = f.reports.clone().unwrap();
    let revs = app
        .get(
            &format!(
                "/reports/{}/revisions?limit=1&count=true",
                reports.resubmitted
            ),
            t,
        )
        .await;
    assert_eq!(revs.status, 200, "{}", revs.raw);
    assert_eq!(revs.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(revs.body["total"], 2, "{}", revs.raw);
    let cursor = revs.body["next_cursor"].as_str().expect("a second page");
    let second = app
        .get(
            &format!(
                "/reports/{}/revisions?limit=1&cursor={cursor}",
                reports.resubmitted
            ),
            t,
        )
        .await;
    assert_eq!(second.body["items"][0]["revision"], 2, "{}", second.raw);
    assert_eq!(second.body["next_cursor"], serde_json::Value::Null);
    let cal = app.get("/calendar?year=2024&count=true", t).await;
    assert_eq!(cal.body["next_cursor"], serde_json::Value::Null);
    assert_eq!(
        cal.body["total"],
        cal.body["items"].as_array().unwrap().len() as i64
    );
}
