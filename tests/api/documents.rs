//! The summary table as XLSX (out and back in) and the annual report draft as DOCX.

use crate::helpers::*;
use serde_json::json;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const IPO: &str = "重庆市知识产权局";

async fn fetch(app: &TestApp, path: &str, token: &str, accept: &str) -> (u16, String, Vec<u8>) {
    let mut res = app
        .client
        .get(app.url(path))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Accept", accept))
        .send()
        .await
        .unwrap();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.body().limit(50 << 20).await.unwrap().to_vec();
    (res.status().as_u16(), ct, body)
}

async fn ipo(app: &TestApp, token: &str) -> i64 {
    let r = app.get(&format!("/units?q={IPO}"), token).await;
    r.body["items"][0]["id"].as_i64().unwrap()
}

#[actix_rt::test]
async fn the_xlsx_summary_reads_back_to_the_same_table_and_imports_round_trip() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true"), ("DUBAN_BODY_LIMIT", "4194304")]).await;
    let admin = app.admin().await;
    let unit = ipo(&app, &admin).await;
    let (status, ct, bytes) =
        fetch(&app, &format!("/plans/1/summary?unit={unit}"), &admin, XLSX).await;
    assert_eq!(status, 200);
    assert_eq!(ct, XLSX);
    assert!(bytes.starts_with(b"PK"));
    let from_xlsx = duban::documents::xlsx::read_summary(&bytes).unwrap();
    let json_rows: Vec<duban::domain::table::SummaryRow> = serde_json::from_value(
        app.get(&format!("/plans/1/summary?unit={unit}"), &admin)
            .await
            .body["rows"]
            .clone(),
    )
    .unwrap();
    assert_eq!(from_xlsx.len(), 133);
    assert_eq!(from_xlsx, json_rows);

    let plan = app
        .post(
            "/plans",
            &admin,
            json!({"title": "从表格导入", "year": 2019}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let r = app
        .send_raw(
            "POST",
            &format!("/plans/{plan}/import?answers_unit={unit}"),
            Some(&admin),
            XLSX,
            bytes,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["measures"], 133);
    let (_, _, csv) = fetch(
        &app,
        &format!("/plans/{plan}/summary?unit={unit}"),
        &admin,
        "text/csv",
    )
    .await;
    assert_eq!(String::from_utf8(csv).unwrap(), duban::demo::PLAN_CSV);
    let broken = app
        .send_raw(
            "POST",
            &format!("/plans/{plan}/import"),
            Some(&admin),
            XLSX,
            b"PK not really".to_vec(),
        )
        .await;
    broken.assert_problem(422, "validation");
}

#[actix_rt::test]
async fn the_annual_report_is_a_word_document_for_the_unit_itself_or_the_office() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let unit = ipo(&app, &admin).await;
    let (status, ct, bytes) = fetch(
        &app,
        &format!("/plans/1/annual-report?unit={unit}"),
        &admin,
        "*/*",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(
        ct,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert!(bytes.starts_with(b"PK"));
    let doc = docx_rs::read_docx(&bytes).unwrap().json();
    for text in [
        "重庆市知识产权局关于推进法治政府建设情况的报告",
        "工作开展情况",
        "存在的问题及原因",
        "整改措施和建议",
        "已完成52项",
        "（11）及时动态调整行政权力清单和行政责任清单",
        "附件",
    ] {
        assert!(doc.contains(text), "the report lacks {text}");
    }
    // The office must name the unit; a unit gets its own, and never another's.
    app.get("/plans/1/annual-report", &admin)
        .await
        .assert_problem(422, "validation");
    let justice = app.get("/units?q=市司法局", &admin).await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let (_, manager) = app.account("ipo-boss", "unit_manager", Some(unit)).await;
    let (status, _, _) = fetch(&app, "/plans/1/annual-report", &manager, "*/*").await;
    assert_eq!(status, 200);
    app.get(&format!("/plans/1/annual-report?unit={justice}"), &manager)
        .await
        .assert_problem(403, "forbidden");
}
