//! The summary table as XLSX (out and back in) and the annual report draft as DOCX.

use crate::helpers::*;
use serde_json::json;
use std::io::Read;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const IPO: &str = "重庆市知识产权局";

pub struct Download {
    pub status: u16,
    pub content_type: String,
    pub disposition: String,
    pub body: Vec<u8>,
}

pub async fn download(app: &TestApp, path: &str, token: &str, accept: &str) -> Download {
    let mut res = app
        .client
        .get(app.url(path))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Accept", accept))
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let body = res.body().limit(50 << 20).await.unwrap().to_vec();
    Download {
        status: res.status().as_u16(),
        content_type,
        disposition,
        body,
    }
}

async fn ipo(app: &TestApp, token: &str) -> i64 {
    let r = app.get(&format!("/units?q={IPO}"), token).await;
    assert_eq!(r.body["items"][0]["name"], IPO, "{}", r.raw);
    r.body["items"][0]["id"].as_i64().unwrap()
}

/// The text of one part of a zip package.
pub fn part(zip_bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("no {name} in the package: {e}"))
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[actix_rt::test]
async fn the_xlsx_summary_reads_back_to_the_json_rows_and_imports_round_trip() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let unit = ipo(&app, &admin).await;
    let xlsx = download(&app, &format!("/plans/1/summary?unit={unit}"), &admin, XLSX).await;
    assert_eq!(xlsx.status, 200);
    assert_eq!(xlsx.content_type, XLSX);
    assert!(
        xlsx.disposition.starts_with("attachment;") && xlsx.disposition.ends_with(".xlsx\""),
        "{}",
        xlsx.disposition
    );
    assert!(xlsx.body.starts_with(b"PK"));
    // A workbook calamine opens, whose first sheet reads back to the JSON summary's rows.
    use calamine::Reader;
    let wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(&xlsx.body)).unwrap();
    assert_eq!(wb.sheet_names(), vec!["完成情况汇总".to_owned()]);
    let from_xlsx = duban::documents::xlsx::read_summary(&xlsx.body).unwrap();
    let json_rows: Vec<duban::domain::table::SummaryRow> = serde_json::from_value(
        app.get(&format!("/plans/1/summary?unit={unit}"), &admin)
            .await
            .body["rows"]
            .clone(),
    )
    .unwrap();
    assert_eq!(from_xlsx.len(), 133);
    assert_eq!(from_xlsx, json_rows);

    // Imported into a new plan with the IPO's answers, it exports the demo table unchanged.
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
    let import = |body: Vec<u8>, query: String| {
        let (app, admin) = (&app, &admin);
        async move {
            app.send_raw(
                "POST",
                &format!("/plans/{plan}/import{query}"),
                Some(admin),
                XLSX,
                body,
            )
            .await
        }
    };
    let r = import(xlsx.body.clone(), format!("?answers_unit={unit}")).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        (&r.body["sections"], &r.body["tasks"], &r.body["measures"]),
        (&json!(8), &json!(44), &json!(133))
    );
    assert_eq!(r.body["reports"], 132);
    let csv = download(
        &app,
        &format!("/plans/{plan}/summary?unit={unit}"),
        &admin,
        "text/csv",
    )
    .await;
    assert_eq!(String::from_utf8(csv.body).unwrap(), duban::demo::PLAN_CSV);

    // What is not a workbook, or a workbook not laid out as the summary, is a 422 naming why.
    import(b"PK not really".to_vec(), String::new())
        .await
        .assert_problem(422, "validation");
    let mut rows = json_rows.clone();
    rows[0].task = "没有编号的任务".into();
    let bad = duban::documents::xlsx::write_summary("汇总", &rows).unwrap();
    let r = import(bad, String::new()).await;
    r.assert_problem(422, "validation");
    // Row 1 is the title, 2 the header, 3 the first section, 4 the first measure.
    assert_eq!(r.fields(), vec!["row 4: 工作任务"]);
    // Other types are refused with both accepted ones named.
    let r = app
        .send_raw(
            "POST",
            &format!("/plans/{plan}/import"),
            Some(&admin),
            "application/pdf",
            b"%PDF".to_vec(),
        )
        .await;
    r.assert_problem(415, "unsupported-media-type");
    assert!(
        r.raw.contains("text/csv") && r.raw.contains(XLSX),
        "{}",
        r.raw
    );
}

#[actix_rt::test]
async fn the_annual_report_is_a_word_document_for_the_office_and_the_unit_itself() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let unit = ipo(&app, &admin).await;
    let doc = download(
        &app,
        &format!("/plans/1/annual-report?unit={unit}"),
        &admin,
        "*/*",
    )
    .await;
    assert_eq!(doc.status, 200, "{}", String::from_utf8_lossy(&doc.body));
    assert_eq!(doc.content_type, DOCX);
    assert!(
        doc.disposition.starts_with("attachment;") && doc.disposition.ends_with(".docx\""),
        "{}",
        doc.disposition
    );
    assert!(doc.body.starts_with(b"PK"));
    let xml = part(&doc.body, "word/document.xml");
    // The IPO's 133 assignments: 52 answered with what it did, 80 不涉及, one left empty (due
    // 2019-12-31, so overdue now).
    for text in [
        "重庆市知识产权局关于推进法治政府建设情况的报告",
        "市委依法治市办：",
        "《2019年法治政府建设任务》",
        "一、工作开展情况",
        "承担任务133项，已报送完成情况132项，其中已完成52项、不涉及80项、正在推进0项，逾期未完成1项",
        "（一）依法全面履行政府职能",
        "（11）及时动态调整行政权力清单和行政责任清单。",
        "二、存在的问题及原因",
        "三、整改措施和建议",
        "特此报告。",
        "附件：2019年法治政府建设任务完成情况汇总",
        "工作措施及完成情况",
        "我局不涉及",
    ] {
        assert!(xml.contains(text), "word/document.xml lacks {text}");
    }
    // The narrative (the first, portrait section) tells the 52 completed measures, each opening
    // with its numbered heading, and none of the 80 不涉及 answers.
    let narrative = &xml[..xml.find("<w:sectPr").unwrap()];
    let measures = narrative
        .split(r#"<w:t xml:space="preserve">（"#)
        .skip(1)
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .count();
    assert_eq!(measures, 52);
    assert!(!narrative.contains("我局不涉及"));
    // The attachment is a real Word table: a header, 8 section rows and 133 measure rows.
    assert_eq!(xml.matches("<w:tbl>").count(), 1);
    assert_eq!(xml.matches("<w:tr>").count(), 1 + 8 + 133);

    // The office must name the unit; a unit gets its own by default, and never another's.
    app.get("/plans/1/annual-report", &admin)
        .await
        .assert_problem(422, "validation");
    app.get("/plans/1/annual-report?unit=999999", &admin)
        .await
        .assert_problem(404, "not-found");
    let justice = app.get("/units?q=市司法局", &admin).await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let (_, manager) = app.account("ipo-boss", "unit_manager", Some(unit)).await;
    let own = download(&app, "/plans/1/annual-report", &manager, "*/*").await;
    assert_eq!(own.status, 200);
    assert!(part(&own.body, "word/document.xml").contains(IPO));
    app.get(&format!("/plans/1/annual-report?unit={justice}"), &manager)
        .await
        .assert_problem(403, "forbidden");
    let (_, other) = app
        .account("justice-reporter", "unit_reporter", Some(justice))
        .await;
    app.get(&format!("/plans/1/annual-report?unit={unit}"), &other)
        .await
        .assert_problem(403, "forbidden");
    // The report is report text: a department system needs reports:read for it.
    let (_, secret) = app
        .service_account("ipo-directory", unit, Some(vec!["assignments:read"]))
        .await;
    let grant = app.client_token("ipo-directory", &secret, None).await;
    let token = grant.body["access_token"].as_str().unwrap().to_owned();
    app.get("/plans/1/annual-report", &token)
        .await
        .assert_problem(403, "forbidden");
}
