//! The summary table in and out: the demo reproduces the seed's table, imports round-trip, unit
//! names resolve by their rules, and a failed import leaves nothing behind.

use crate::helpers::*;
use serde_json::Value;

const IPO: &str = "重庆市知识产权局";

async fn demo_app() -> (TestApp, String) {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    (app, admin)
}

async fn unit_id(app: &TestApp, token: &str, name: &str) -> i64 {
    let r = app.get(&format!("/units?q={name}"), token).await;
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn csv(app: &TestApp, path: &str, token: &str) -> (u16, String) {
    let res = app
        .client
        .get(app.url(path))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Accept", "text/csv"))
        .send()
        .await
        .unwrap();
    let r = read(res).await;
    assert!(r.content_type().starts_with("text/csv"), "{}", r.raw);
    (r.status, r.raw)
}

async fn new_plan(app: &TestApp, token: &str, title: &str) -> i64 {
    let r = app
        .post(
            "/plans",
            token,
            serde_json::json!({"title": title, "year": 2019}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    r.body["id"].as_i64().unwrap()
}

async fn import(app: &TestApp, token: &str, plan: i64, query: &str, body: &str) -> Reply {
    app.send_raw(
        "POST",
        &format!("/plans/{plan}/import?{query}"),
        Some(token),
        "text/csv",
        body.as_bytes().to_vec(),
    )
    .await
}

#[actix_rt::test]
async fn the_demo_export_of_the_intellectual_property_office_reproduces_the_seed_table() {
    let (app, admin) = demo_app().await;
    let plans = app.get("/plans", &admin).await;
    let plan = plans.body["items"][0]["id"].as_i64().unwrap();
    // The 2019 plan is closed history.
    assert_eq!(plans.body["items"][0]["title"], duban::demo::PLAN_TITLE);
    assert_eq!(plans.body["items"][0]["state"], "closed");
    let ipo = unit_id(&app, &admin, IPO).await;
    let (status, text) = csv(&app, &format!("/plans/{plan}/summary?unit={ipo}"), &admin).await;
    assert_eq!(status, 200);
    assert_eq!(
        text,
        duban::demo::PLAN_CSV,
        "the export differs from the seed's table"
    );

    let json = app
        .get(&format!("/plans/{plan}/summary?unit={ipo}"), &admin)
        .await;
    let rows = json.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 133);
    assert_eq!(rows[0]["measure"], "（1）最大程度减少对生产经营活动的限制性许可，最大限度缩小投资项目审批、核准的范围，最大幅度减少对各类机构及其活动的认定。");
    assert_eq!(
        rows[41]["sources"],
        "国办发〔2019〕9号、渝府办发〔2019〕59号"
    );
    assert_eq!(
        rows[27]["completion"], "",
        "measure 28 was left empty and stays not started"
    );
    let not_applicable = rows
        .iter()
        .filter(|r| r["completion"].as_str().unwrap().contains("不涉及"))
        .count();
    assert_eq!(not_applicable, 80);

    let tree = app.get(&format!("/plans/{plan}/tree"), &admin).await;
    let sections = tree.body["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 8);
    let tasks: usize = sections
        .iter()
        .map(|s| s["children"].as_array().unwrap().len())
        .sum();
    assert_eq!(tasks, 44);
    assert_eq!(sections[0]["heading"], "一、依法全面履行政府职能");
    assert_eq!(sections[0]["children"][0]["children"][2]["code"], "1.1.3");
    let reports = app
        .get(
            &format!("/reports?plan_id={plan}&unit_id={ipo}&limit=200"),
            &admin,
        )
        .await;
    let items = reports.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 132);
    assert_eq!(
        items
            .iter()
            .filter(|r| r["status"] == "not_applicable")
            .count(),
        80
    );
    assert!(items.iter().all(|r| r["workflow"] == "submitted"));
}

#[actix_rt::test]
async fn importing_that_export_into_a_new_plan_round_trips_to_the_same_table() {
    let (app, admin) = demo_app().await;
    let ipo = unit_id(&app, &admin, IPO).await;
    let plan = new_plan(&app, &admin, "往返导入").await;
    let r = import(
        &app,
        &admin,
        plan,
        &format!("answers_unit={ipo}"),
        duban::demo::PLAN_CSV,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["dry_run"], false);
    assert_eq!(r.body["measures"], 133);
    assert_eq!(r.body["reports"], 132);
    let (_, text) = csv(&app, &format!("/plans/{plan}/summary?unit={ipo}"), &admin).await;
    assert_eq!(text, duban::demo::PLAN_CSV);
    // And once more from that export: still the same table.
    let again = new_plan(&app, &admin, "再次导入").await;
    assert_eq!(
        import(&app, &admin, again, &format!("answers_unit={ipo}"), &text)
            .await
            .status,
        200
    );
    assert_eq!(
        csv(&app, &format!("/plans/{again}/summary?unit={ipo}"), &admin)
            .await
            .1,
        duban::demo::PLAN_CSV
    );
}

#[actix_rt::test]
async fn a_dry_run_reports_how_every_unit_string_resolved_and_writes_nothing() {
    let (app, admin) = demo_app().await;
    let plan = new_plan(&app, &admin, "试导入").await;
    let r = import(&app, &admin, plan, "dry_run=true", duban::demo::PLAN_CSV).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["dry_run"], true);
    assert_eq!(r.body["sections"], 8);
    assert_eq!(r.body["tasks"], 44);
    assert_eq!(r.body["measures"], 133);
    assert_eq!(r.body["sources"], 9);
    assert_eq!(
        r.body["by_rule"],
        serde_json::json!({"exact_name": 43, "alias": 2, "group": 6, "unit_with_group": 12})
    );
    assert_eq!(r.body["with_qualifier"], 6);
    assert_eq!(r.body["unresolved"], serde_json::json!([]));
    let find = |text: &str| -> Value {
        r.body["resolutions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["text"] == text)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(find("市城管局")["rule"], "alias");
    assert_eq!(find("市委党校（市行政学院）")["rule"], "alias");
    assert_eq!(find("区县政府按职责分工负责")["rule"], "group");
    assert_eq!(find("区县政府按职责分工负责")["unit_count"], 38);
    assert_eq!(find("区县政府按职责分工负责")["by_duties"], true);
    assert_eq!(
        find("各区县政府按职责分工职责")["by_duties"],
        true,
        "the misspelt qualifier is recognised"
    );
    assert_eq!(find("市公安局等市级有关部门")["rule"], "unit_with_group");
    assert_eq!(find("市公安局等市级有关部门")["group"], "市级有关部门");
    assert_eq!(find("市司法局")["rule"], "exact_name");
    let tree = app.get(&format!("/plans/{plan}/tree"), &admin).await;
    assert_eq!(tree.body["sections"], serde_json::json!([]));
}

#[actix_rt::test]
async fn unresolved_names_fail_the_import_with_a_list_unless_allowed() {
    let (app, admin) = demo_app().await;
    let plan = new_plan(&app, &admin, "有未知单位").await;
    let table =
        duban::demo::PLAN_CSV.replacen("市政府办公厅、市发展改革委", "市政府办公厅、市不存在局", 1);
    let r = import(&app, &admin, plan, "", &table).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.body["errors"][0]["field"], "units");
    assert!(r.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("市不存在局"));
    assert_eq!(
        app.get(&format!("/plans/{plan}/tree"), &admin).await.body["sections"],
        serde_json::json!([])
    );
    let r = import(&app, &admin, plan, "allow_unresolved=true", &table).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["unresolved"], serde_json::json!(["市不存在局"]));
}

#[actix_rt::test]
async fn an_import_failing_half_way_leaves_nothing_behind() {
    let (app, admin) = demo_app().await;
    let ipo = unit_id(&app, &admin, IPO).await;
    let plan = new_plan(&app, &admin, "中途失败").await;
    let sources_before = app.get("/sources?limit=200", &admin).await.body["items"]
        .as_array()
        .unwrap()
        .len();
    let audit_before = app.get("/audit?action=plan.import", &admin).await.body["items"]
        .as_array()
        .unwrap()
        .len();
    // Row 100 reuses measure number 60: the first 99 measures are written before the clash.
    let table = duban::demo::PLAN_CSV.replacen("（100）", "（60）", 1);
    let r = import(&app, &admin, plan, &format!("answers_unit={ipo}"), &table).await;
    r.assert_problem(409, "conflict");
    assert_eq!(
        app.get(&format!("/plans/{plan}/tree"), &admin).await.body["sections"],
        serde_json::json!([])
    );
    assert_eq!(
        app.get(&format!("/assignments?plan_id={plan}"), &admin)
            .await
            .body["items"],
        serde_json::json!([])
    );
    assert_eq!(
        app.get(&format!("/reports?plan_id={plan}"), &admin)
            .await
            .body["items"],
        serde_json::json!([])
    );
    assert_eq!(
        app.get("/sources?limit=200", &admin).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        sources_before
    );
    assert_eq!(
        app.get("/audit?action=plan.import", &admin).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        audit_before
    );
    // The same plan then takes the correct table.
    assert_eq!(
        import(
            &app,
            &admin,
            plan,
            &format!("answers_unit={ipo}"),
            duban::demo::PLAN_CSV
        )
        .await
        .status,
        200
    );
}

#[actix_rt::test]
async fn an_unknown_answering_unit_is_named_and_nothing_is_written() {
    let (app, admin) = demo_app().await;
    let plan = new_plan(&app, &admin, "答复单位不存在").await;
    for query in ["answers_unit=999999", "answers_unit=999999&dry_run=true"] {
        let r = import(&app, &admin, plan, query, duban::demo::PLAN_CSV).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.fields(), vec!["answers_unit"]);
    }
    assert_eq!(
        app.get(&format!("/plans/{plan}/tree"), &admin).await.body["sections"],
        serde_json::json!([])
    );
}

#[actix_rt::test]
async fn only_an_empty_draft_plan_takes_an_import() {
    let (app, admin) = demo_app().await;
    let demo_plan = app.get("/plans", &admin).await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    import(&app, &admin, demo_plan, "", duban::demo::PLAN_CSV)
        .await
        .assert_problem(409, "conflict");
    let plan = new_plan(&app, &admin, "两次导入").await;
    assert_eq!(
        import(&app, &admin, plan, "", duban::demo::PLAN_CSV)
            .await
            .status,
        200
    );
    import(&app, &admin, plan, "", duban::demo::PLAN_CSV)
        .await
        .assert_problem(409, "conflict");
}

#[actix_rt::test]
async fn a_malformed_table_is_refused_naming_the_row_and_column() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let plan = new_plan(&app, &admin, "格式错误").await;
    let r = import(&app, &admin, plan, "", "a,b,c\n1,2,3\n").await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["header"]);
    let header = duban::domain::table::HEADERS.join(",");
    let r = import(
        &app,
        &admin,
        plan,
        "",
        &format!("{header}\n一、板块,没有编号的任务,（1）措施,渝委发〔2016〕27号,市司法局,,\n"),
    )
    .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["row 2: 工作任务"]);
    let r = app
        .send_raw(
            "POST",
            &format!("/plans/{plan}/import"),
            Some(&admin),
            "application/json",
            b"{}".to_vec(),
        )
        .await;
    r.assert_problem(415, "unsupported-media-type");
    let (_, reporter) = app
        .account(
            "reporter",
            "unit_reporter",
            Some(app.unit("市司法局").await),
        )
        .await;
    import(&app, &reporter, plan, "", &format!("{header}\n"))
        .await
        .assert_problem(403, "forbidden");
}

#[actix_rt::test]
async fn a_source_document_is_traced_to_its_measures_and_their_progress() {
    let (app, admin) = demo_app().await;
    let sources = app.get("/sources?q=渝府办发", &admin).await;
    let src = sources.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["doc_number"] == "渝府办发〔2019〕59号")
        .unwrap()
        .clone();
    let trace = app.get(&format!("/sources/{}", src["id"]), &admin).await;
    assert_eq!(trace.status, 200, "{}", trace.raw);
    let measures = trace.body["measures"].as_array().unwrap();
    assert_eq!(
        measures.len(),
        64,
        "in each demo plan, 24 measures cite it alone and 8 together with another document"
    );
    assert!(measures.iter().all(|m| m["assigned"].as_i64().unwrap() > 0));
    let reported: i64 = measures
        .iter()
        .map(|m| m["reported"].as_i64().unwrap())
        .sum();
    assert!(
        reported >= 31,
        "the Intellectual Property Office answered these measures"
    );
}
