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
                assert!(responses.contains_key("401"), "{at} lacks 401");
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

/// Every operation of the document, as (`METHOD path`, operation).
fn operations(doc: &Value) -> Vec<(String, Value)> {
    let mut out = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((format!("{} {path}", method.to_uppercase()), op.clone()));
        }
    }
    out
}

#[test]
fn every_operation_has_a_description_its_scopes_and_a_row_of_the_contract_table() {
    let doc: Value = serde_json::to_value(duban::api::openapi()).unwrap();
    for (at, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap();
        let row = duban::api::contract::row(id)
            .unwrap_or_else(|| panic!("{at} ({id}) has no row in src/api/contract.rs"));
        let description = op["description"].as_str().unwrap_or_default();
        assert!(description.len() > 20, "{at} has no description");
        assert!(
            !op["summary"].as_str().unwrap().contains('\n'),
            "{at}: the summary is one line"
        );
        let security = op["security"].as_array().unwrap();
        if row.public {
            assert_eq!(security, &vec![serde_json::json!({})], "{at} is public");
            continue;
        }
        assert!(
            security.contains(&serde_json::json!({"bearer": []})),
            "{at}"
        );
        let systems: Vec<Vec<String>> = security
            .iter()
            .filter_map(|r| r.get("client_credentials"))
            .map(|s| serde_json::from_value(s.clone()).unwrap())
            .collect();
        let expected: Vec<Vec<String>> = row
            .systems
            .iter()
            .map(|set| set.iter().map(|s| s.to_string()).collect())
            .collect();
        assert_eq!(
            systems, expected,
            "{at}: the scopes a department system needs"
        );
        assert!(
            description.contains("client_credentials") != row.systems.is_empty(),
            "{at}: the description says whether department systems may call it"
        );
    }
    for row in duban::api::contract::TABLE {
        assert!(
            operations(&doc)
                .iter()
                .any(|(_, op)| op["operationId"] == row.id),
            "the contract table names {}, which is no operation",
            row.id
        );
    }
}

#[test]
fn every_response_has_an_example_fitted_to_its_operation() {
    let doc: Value = serde_json::to_value(duban::api::openapi()).unwrap();
    let mut details: std::collections::BTreeMap<&str, std::collections::BTreeSet<String>> =
        Default::default();
    for (at, op) in operations(&doc) {
        if let Some(content) = op["requestBody"]["content"]["application/json"].as_object() {
            assert!(
                content.contains_key("example"),
                "{at}: the request body has no example"
            );
        }
        for (code, response) in op["responses"].as_object().unwrap() {
            for (media, content) in response["content"].as_object().into_iter().flatten() {
                if media.ends_with("json") {
                    assert!(
                        content.get("example").is_some(),
                        "{at} {code} {media} has no example"
                    );
                }
                if media == "application/problem+json" {
                    let example = &content["example"];
                    assert_eq!(example["status"].as_u64(), code.parse().ok(), "{at} {code}");
                    let detail = example["detail"].as_str().unwrap().to_owned();
                    match code.as_str() {
                        "412" => assert!(detail.contains("ETag is now"), "{at}: {detail}"),
                        "428" => assert!(detail.contains("If-Match"), "{at}: {detail}"),
                        "404" => {
                            let resource = at.rsplit('{').nth(1).unwrap_or_default();
                            let name = resource.trim_end_matches('/').rsplit('/').next().unwrap();
                            let singular = match name.strip_suffix("ies") {
                                Some(stem) => format!("{stem}y"),
                                None => name.trim_end_matches('s').to_owned(),
                            }
                            .replace('-', " ");
                            assert!(detail.contains(&singular), "{at}: 404 says {detail:?}");
                        }
                        "422" => {
                            let field = example["errors"][0]["field"].as_str().unwrap();
                            assert!(detail.starts_with(field), "{at}: {detail}");
                        }
                        _ => {}
                    }
                    if ["403", "404", "409"].contains(&code.as_str()) {
                        details.entry(code_name(code)).or_default().insert(detail);
                    }
                }
            }
        }
    }
    assert!(
        details["403"].len() >= 15,
        "403 examples: {:?}",
        details["403"]
    );
    assert!(
        details["404"].len() >= 12,
        "404 examples: {:?}",
        details["404"]
    );
    assert!(
        details["409"].len() >= 15,
        "409 examples: {:?}",
        details["409"]
    );
    assert!(!details["403"].contains("your role may not do this"));
}

fn code_name(code: &str) -> &'static str {
    match code {
        "403" => "403",
        "404" => "404",
        _ => "409",
    }
}

#[test]
fn fields_the_server_always_sends_are_required_in_response_schemas() {
    let doc: Value = serde_json::to_value(duban::api::openapi()).unwrap();
    let report = &doc["components"]["schemas"]["ReportView"];
    let required: Vec<&str> = report["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for field in ["return_reason", "submitted_at", "reviewed_at", "progress"] {
        assert!(
            required.contains(&field),
            "ReportView.{field} is always sent"
        );
    }
    // A request keeps its optional fields optional.
    let update = &doc["components"]["schemas"]["UnitUpdate"];
    assert!(update["required"].as_array().is_none_or(|r| r.is_empty()));
    // A field left out when empty is optional and never null.
    let token = &doc["components"]["schemas"]["TokenResponse"];
    assert!(!token["required"]
        .as_array()
        .unwrap()
        .contains(&"scope".into()));
    assert_eq!(token["properties"]["scope"]["type"], "string");
    assert!(doc["servers"].as_array().is_some_and(|s| !s.is_empty()));
}

#[actix_rt::test]
async fn every_problem_type_the_server_can_answer_with_has_a_page() {
    let app = spawn_app().await;
    for t in duban::error::PROBLEM_TYPES {
        let page = app
            .send("GET", &format!("/problems/{}", t.slug), None, None)
            .await;
        assert_eq!(page.status, 200, "/problems/{}", t.slug);
        assert!(page.raw.contains(t.title), "{}", page.raw);
    }
    let unknown = app.send("GET", "/problems/no-such-thing", None, None).await;
    assert_eq!(unknown.status, 404);
    // Every type an error or the document names is in the table.
    let doc: Value = serde_json::to_value(duban::api::openapi()).unwrap();
    let text = doc.to_string();
    for part in text.split("\"type\":\"/problems/").skip(1) {
        let slug = &part[..part.find('"').unwrap()];
        assert!(
            duban::error::ProblemType::find(slug).is_some(),
            "/problems/{slug} has no page"
        );
    }
    // And the server's own answers name a type with a page.
    let missing = app.send("GET", "/api/v1/units/1", None, None).await;
    let slug = missing.body["type"]
        .as_str()
        .unwrap()
        .trim_start_matches("/problems/");
    assert!(duban::error::ProblemType::find(slug).is_some());
}
