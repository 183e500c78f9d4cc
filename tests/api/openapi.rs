//! The OpenAPI document is the contract: served, committed, complete.

use crate::helpers::*;
use serde_json::Value;

#[actix_rt::test]
async fn the_served_document_matches_the_committed_file() {
    let app = spawn_app().await;
    let served = app.send("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(served.status, 200);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(path).expect("openapi/openapi.json is committed"),
    )
    .expect("openapi/openapi.json is JSON");
    assert!(
        served.body == committed,
        "openapi/openapi.json differs from the served document; refresh it with `cargo run -- openapi > openapi/openapi.json`"
    );
    assert_eq!(served.body["openapi"], "3.1.0");
}

#[test]
fn every_operation_is_documented_with_its_errors_and_examples() {
    let doc: Value = serde_json::to_value(duban::api::openapi()).unwrap();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let at = format!("{method} {path}");
            assert!(op["operationId"].is_string(), "{at} has no operationId");
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{at} has no tag"
            );
            assert!(op["summary"].is_string(), "{at} has no summary");
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{at} has no success response"
            );
            assert!(responses.contains_key("500"), "{at} lacks 500");
            let public = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().all(|r| r.as_object().unwrap().is_empty()));
            if !public {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{at} lacks auth errors"
                );
            }
            // The token endpoint answers 400 and 401 in OAuth 2.0's shape, and never 422.
            let oauth = responses.get("400").is_some_and(|r| {
                r["content"]["application/json"]["schema"]["$ref"]
                    == "#/components/schemas/OAuthError"
            });
            if op.get("requestBody").is_some() {
                let codes: &[&str] = if oauth {
                    &["400", "413", "415"]
                } else {
                    &["400", "413", "415", "422"]
                };
                for code in codes {
                    assert!(responses.contains_key(*code), "{at} lacks {code}");
                }
            }
            for (code, r) in responses {
                if oauth && (code == "400" || code == "401") {
                    let c = &r["content"]["application/json"];
                    assert!(
                        c["schema"]["$ref"] == "#/components/schemas/OAuthError",
                        "{at} {code} is not an OAuth 2.0 error"
                    );
                    continue;
                }
                if code.starts_with('4') || code.starts_with('5') {
                    let c = &r["content"]["application/problem+json"];
                    assert!(
                        c["schema"].is_object() && c["example"].is_object(),
                        "{at} {code} is not a documented problem"
                    );
                }
            }
        }
    }
    assert!(count >= 20, "only {count} operations");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["securitySchemes"]["client_credentials"].is_object());
}
