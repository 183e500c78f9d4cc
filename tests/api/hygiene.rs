//! Input hygiene at the boundary: text the databases cannot store (U+0000) is a 422 naming where
//! it sits, wherever it comes in; JSON bodies are read strictly; CSV exports cannot smuggle
//! formulas into a spreadsheet; and the office's own workbook imports with its 文号 as typed.

use crate::helpers::*;
use duban::domain::table::{read_csv, SummaryRow};
use rust_xlsxwriter::{Format, Workbook};
use serde_json::json;

const IPO: &str = "重庆市知识产权局";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[track_caller]
fn assert_names(r: &Reply, field: &str) {
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec![field.to_owned()], "{}", r.raw);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("U+0000"),
        "{}",
        r.raw
    );
}

async fn unit_named(app: &TestApp, token: &str, name: &str) -> i64 {
    let r = app.get(&format!("/units?q={name}&limit=200"), token).await;
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name)
        .unwrap_or_else(|| panic!("no unit {name}: {}", r.raw))["id"]
        .as_i64()
        .unwrap()
}

async fn new_plan(app: &TestApp, token: &str, title: &str) -> i64 {
    let r = app
        .post("/plans", token, json!({"title": title, "year": 2019}))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    r.body["id"].as_i64().unwrap()
}

#[actix_rt::test]
async fn nul_in_the_login_body_is_a_422_naming_the_field_without_signing_in() {
    let app = spawn_app().await;
    let r = app.login_reply("adm\u{0}in", ADMIN_PASSWORD).await;
    assert_names(&r, "username");
    let r = app.login_reply(ADMIN, "pass\u{0}word").await;
    assert_names(&r, "password");
    // The server is still fine and the admin signs in.
    app.admin().await;
}

#[actix_rt::test]
async fn nul_deep_in_a_json_body_is_named_by_its_path_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let r = app
        .post(
            "/units",
            &admin,
            json!({"name": "市甲局", "kind": "city_department", "aliases": ["甲局", "乙\u{0}局"]}),
        )
        .await;
    assert_names(&r, "aliases[1]");
    let r = app
        .post(
            "/units",
            &admin,
            json!({"name": "市\u{0}甲局", "kind": "city_department"}),
        )
        .await;
    assert_names(&r, "name");
    let units = app.get("/units?q=甲局", &admin).await;
    assert_eq!(units.body["items"], json!([]), "{}", units.raw);
}

#[actix_rt::test]
async fn nul_in_a_query_filter_is_named_by_its_parameter() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    assert_names(&app.get("/units?q=%E5%B8%82%00", &admin).await, "q");
    assert_names(&app.get("/units?q=a&cursor=%00", &admin).await, "cursor");
}

#[actix_rt::test]
async fn nul_in_the_token_form_is_named_without_authentication() {
    let app = spawn_app().await;
    let unit = app.unit("市甲局").await;
    let (id, secret) = app.service_account("svc-a", unit, None).await;
    // The token endpoint answers in OAuth 2.0's shape, the field named in the description.
    let r = app.client_token("svc%00a", &secret, None).await;
    r.assert_oauth_error(400, "invalid_request");
    let said = r.body["error_description"].as_str().unwrap();
    assert!(
        said.starts_with("client_id") && said.contains("U+0000"),
        "{said}"
    );
    let r = app
        .client_token(&id.to_string(), &secret, Some("a\u{0}b"))
        .await;
    r.assert_oauth_error(400, "invalid_scope");
    let said = r.body["error_description"].as_str().unwrap();
    assert!(
        said.starts_with("scope") && said.contains("U+0000"),
        "{said}"
    );
}

#[actix_rt::test]
async fn nul_in_a_path_segment_is_named_by_its_parameter() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    assert_names(&app.get("/plans/%00", &admin).await, "id");
    assert_names(&app.get("/units/1%00", &admin).await, "id");
    // A segment that is merely not an id stays a 404.
    app.get("/plans/abc", &admin)
        .await
        .assert_problem(404, "not-found");
}

#[actix_rt::test]
async fn nul_in_an_imported_cell_is_named_by_row_and_column() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let plan = new_plan(&app, &admin, "含空字符").await;
    let csv = duban::demo::PLAN_CSV.replacen("最大程度减少", "最大程度\u{0}减少", 1);
    let r = app
        .send_raw(
            "POST",
            &format!("/plans/{plan}/import"),
            Some(&admin),
            "text/csv",
            csv.into_bytes(),
        )
        .await;
    assert_names(&r, "row 2: 具体措施");

    let mut rows = read_csv(duban::demo::PLAN_CSV.as_bytes()).unwrap();
    rows[1].completion = "完成\u{0}了".into();
    let book = duban::documents::xlsx::write_summary("汇总", &rows).unwrap();
    let r = app
        .send_raw(
            "POST",
            &format!("/plans/{plan}/import"),
            Some(&admin),
            XLSX,
            book,
        )
        .await;
    // Row 1 is the title, 2 the header, 3 the first section, 4 and 5 the first two measures.
    assert_names(&r, "row 5: 工作措施及完成情况");
    let tree = app.get(&format!("/plans/{plan}/tree"), &admin).await;
    assert_eq!(tree.body["sections"], json!([]));
}

#[actix_rt::test]
async fn a_json_body_with_data_after_it_is_a_bad_request() {
    let app = spawn_app().await;
    let body =
        format!(r#"{{"username": "{ADMIN}", "password": "{ADMIN_PASSWORD}"}} {{"username": "x"}}"#);
    let r = app
        .send_raw(
            "POST",
            "/auth/login",
            None,
            "application/json",
            body.into_bytes(),
        )
        .await;
    r.assert_problem(400, "bad-request");
    assert!(
        r.body["detail"].as_str().unwrap().contains("trailing"),
        "{}",
        r.raw
    );
}

#[actix_rt::test]
async fn an_array_where_an_object_belongs_is_a_422_naming_the_body() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let list = app.get("/assignments?limit=1", &admin).await;
    let id = list.body["items"][0]["id"].as_i64().unwrap();
    let before = app.get(&format!("/assignments/{id}"), &admin).await;
    for body in [
        json!([null, null]),
        json!(["2030-01-01", "monthly"]),
        json!(7),
    ] {
        let r = app
            .patch(&format!("/assignments/{id}"), &admin, body.clone())
            .await;
        assert_eq!(r.fields(), vec!["body".to_owned()], "{body}: {}", r.raw);
        r.assert_problem(422, "validation");
    }
    let after = app.get(&format!("/assignments/{id}"), &admin).await;
    assert_eq!(before.body, after.body);
    let r = app
        .send(
            "POST",
            "/auth/login",
            None,
            Some(json!([ADMIN, ADMIN_PASSWORD])),
        )
        .await;
    assert_eq!(r.fields(), vec!["body".to_owned()], "{}", r.raw);
    r.assert_problem(422, "validation");
}

async fn summary_csv(app: &TestApp, token: &str, plan: i64, unit: i64) -> String {
    let res = app
        .client
        .get(app.url(&format!("/plans/{plan}/summary?unit={unit}")))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Accept", "text/csv"))
        .send()
        .await
        .unwrap();
    let r = read(res).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r.raw
}

#[actix_rt::test]
async fn the_csv_export_starts_with_a_bom_neutralises_formulas_and_imports_back_as_typed() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let ipo = unit_named(&app, &admin, IPO).await;
    let answers = [
        "=HYPERLINK(\"http://example.com/x\",\"点击查看\")",
        "+86 023 1234",
        "-已完成",
        "@SUM(1,2)",
        "\t=1+1",
    ];
    let mut rows = read_csv(duban::demo::PLAN_CSV.as_bytes()).unwrap();
    rows.truncate(answers.len());
    for (row, answer) in rows.iter_mut().zip(answers) {
        row.completion = answer.into();
    }
    let plan = new_plan(&app, &admin, "公式导出").await;
    let r = app
        .send_raw(
            "POST",
            &format!("/plans/{plan}/import?answers_unit={ipo}"),
            Some(&admin),
            "text/csv",
            duban::domain::table::write_csv(&rows).into_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);

    let text = summary_csv(&app, &admin, plan, ipo).await;
    assert!(text.starts_with("\u{FEFF}工作板块,"), "{text}");
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let written: Vec<String> = reader
        .records()
        .map(|r| r.unwrap().get(6).unwrap().to_owned())
        .collect();
    for (cell, answer) in written.iter().zip(answers) {
        assert_eq!(cell, &format!("'{}", answer.trim()));
    }

    // Our own export imports back to the same answers.
    let again = new_plan(&app, &admin, "公式导出再导入").await;
    let r = app
        .send_raw(
            "POST",
            &format!("/plans/{again}/import?answers_unit={ipo}"),
            Some(&admin),
            "text/csv",
            text.clone().into_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let back = app
        .get(&format!("/plans/{again}/summary?unit={ipo}"), &admin)
        .await;
    let back: Vec<SummaryRow> = serde_json::from_value(back.body["rows"].clone()).unwrap();
    let expected: Vec<&str> = answers.iter().map(|a| a.trim()).collect();
    assert_eq!(
        back.iter()
            .map(|r| r.completion.as_str())
            .collect::<Vec<_>>(),
        expected
    );
    assert_eq!(summary_csv(&app, &admin, again, ipo).await, text);
}

/// A 文号 as offices type it into a wrapped cell: broken before the year, with the year's
/// brackets and spaces varying from row to row.
fn retyped(sources: &str, row: usize) -> String {
    let brackets = [("〔", "〕"), ("[", "]"), ("（", "）"), ("(", ")")][row % 4];
    sources
        .split('、')
        .map(|n| {
            n.replacen('〔', &format!("\n{}", brackets.0), 1)
                .replacen('〕', brackets.1, 1)
                .replacen("号", if row % 3 == 0 { " 号" } else { "号" }, 1)
        })
        .collect::<Vec<_>>()
        .join(if row % 2 == 0 { "、\n" } else { "，" })
}

/// The demo plan as an office keeps it in Excel: a title, the six columns, each section a row
/// merged across, each task merged down over its measures, each 文号 broken inside its cell.
fn office_workbook(rows: &[SummaryRow]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let wrap = Format::new().set_text_wrap();
    ws.merge_range(0, 0, 0, 5, "2019年法治政府建设任务完成情况汇总", &wrap)
        .unwrap();
    for (c, name) in [
        "工作任务",
        "具体措施",
        "任务来源",
        "牵头单位",
        "参加单位",
        "工作措施及完成情况",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(1, c as u16, *name).unwrap();
    }
    let mut r = 2u32;
    let mut i = 0;
    while i < rows.len() {
        if i == 0 || rows[i].section != rows[i - 1].section {
            ws.merge_range(r, 0, r, 5, &rows[i].section, &wrap).unwrap();
            r += 1;
        }
        let run = rows[i..]
            .iter()
            .take_while(|x| x.task == rows[i].task && x.section == rows[i].section)
            .count();
        if run > 1 {
            ws.merge_range(r, 0, r + run as u32 - 1, 0, &rows[i].task, &wrap)
                .unwrap();
        } else {
            ws.write_string_with_format(r, 0, &rows[i].task, &wrap)
                .unwrap();
        }
        for (k, row) in rows[i..i + run].iter().enumerate() {
            let cells = [
                row.measure.clone(),
                retyped(&row.sources, i + k),
                row.lead_units.clone(),
                row.participant_units.clone(),
                row.completion.clone(),
            ];
            for (c, text) in cells.iter().enumerate() {
                ws.write_string_with_format(r, c as u16 + 1, text, &wrap)
                    .unwrap();
            }
            r += 1;
        }
        i += run;
    }
    wb.save_to_buffer().unwrap()
}

#[actix_rt::test]
async fn the_offices_workbook_with_wrapped_document_numbers_imports_133_measures_from_9_sources() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let rows = read_csv(duban::demo::PLAN_CSV.as_bytes()).unwrap();
    assert_eq!(rows.len(), 133);
    assert!(retyped(&rows[0].sources, 0).contains("渝委发\n〔2016〕"));
    let plan = new_plan(&app, &admin, "办公室原表").await;
    let r = app
        .send_raw(
            "POST",
            &format!("/plans/{plan}/import"),
            Some(&admin),
            XLSX,
            office_workbook(&rows),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["measures"], 133);
    assert_eq!(r.body["sections"], 8);
    assert_eq!(r.body["tasks"], 44);
    assert_eq!(r.body["sources"], 9, "{}", r.raw);

    // Every measure cites the same documents as the demo plan, written canonically.
    let json = app.get(&format!("/plans/{plan}/summary"), &admin).await;
    let back: Vec<SummaryRow> = serde_json::from_value(json.body["rows"].clone()).unwrap();
    assert_eq!(
        back.iter().map(|r| &r.sources).collect::<Vec<_>>(),
        rows.iter().map(|r| &r.sources).collect::<Vec<_>>()
    );
}

#[actix_rt::test]
async fn a_body_within_the_configured_limit_is_read_whatever_the_framework_default() {
    let app = spawn_app_with(&[("DUBAN_BODY_LIMIT", "1048576")]).await;
    // 300 KB: over the framework's 256 KiB default, under the configured 1 MiB.
    let long = "x".repeat(300_000);
    let r = app
        .post(
            "/auth/login",
            "",
            json!({"username": long, "password": "a test passphrase"}),
        )
        .await;
    assert_ne!(r.status, 413, "{}", r.raw);
    // Over the configured limit: 413 naming that limit.
    let longer = "x".repeat(1_100_000);
    let r = app
        .post(
            "/auth/login",
            "",
            json!({"username": longer, "password": "a test passphrase"}),
        )
        .await;
    r.assert_problem(413, "payload-too-large");
    assert!(r.raw.contains("1048576"), "{}", r.raw);
}

#[actix_rt::test]
async fn an_urge_naming_an_assignment_twice_is_a_422_naming_the_repeat() {
    let d = crate::desk::desk("yearly", "2099-06-30").await;
    let a = crate::desk::assignment_of(&d, &d.manager_a).await;
    let r = d
        .app
        .post(
            "/urges",
            &d.coordinator,
            json!({"unit_id": d.unit_a, "assignment_ids": [a, a], "severity": "urge", "message": "请报送。"}),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["assignment_ids[1]"], "{}", r.raw);
}
