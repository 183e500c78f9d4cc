//! The office's desk: overdue and due-soon work agrees with the statistics, severities and
//! lights follow the documented rule, units see only their own figures.

use crate::helpers::*;
use chrono::Datelike;
use serde_json::{json, Value};

const IPO: &str = "重庆市知识产权局";

pub async fn all_pages(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
            None => format!("{path}{sep}limit=200"),
        };
        let r = app.get(&url, token).await;
        assert_eq!(r.status, 200, "{}", r.raw);
        out.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

#[actix_rt::test]
async fn the_overdue_list_of_the_demo_plan_agrees_with_the_statistics() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let items = all_pages(&app, &admin, "/overdue?as_of=2020-01-15&plan=1").await;
    let stats = app.get("/stats/plans/1?as_of=2020-01-15", &admin).await;
    assert_eq!(stats.status, 200, "{}", stats.raw);
    let totals = &stats.body["totals"];
    assert_eq!(items.len() as i64, totals["overdue"].as_i64().unwrap());
    // Exactly the assignments without a qualifying report: all but the office's 132 answers
    // and the Justice Bureau's assignment extended to 2020-03-31 (the demo's approved
    // extension request).
    assert_eq!(
        totals["assigned"].as_i64().unwrap() - 132 - 1,
        items.len() as i64
    );
    assert_eq!(totals["completed"], 52);
    assert_eq!(totals["not_applicable"], 80);
    assert_eq!(
        stats.body["by_month"],
        json!([{"month": "2019-11", "done": 132, "cumulative": 132}])
    );
    let units = app
        .get("/stats/units?plan=1&as_of=2020-01-15", &admin)
        .await;
    let per_unit: i64 = units.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["overdue"].as_i64().unwrap())
        .sum();
    assert_eq!(per_unit, items.len() as i64);
    let sections = app
        .get("/stats/sections?plan=1&as_of=2020-01-15", &admin)
        .await;
    let per_section: i64 = sections.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["overdue"].as_i64().unwrap())
        .sum();
    assert_eq!(per_section, items.len() as i64);
    assert_eq!(sections.body["items"].as_array().unwrap().len(), 8);
    // The Intellectual Property Office left one measure unanswered: (28).
    let ipo: Vec<&Value> = items.iter().filter(|i| i["unit_name"] == IPO).collect();
    assert_eq!(ipo.len(), 1);
    assert!(ipo[0]["measure"]["text"]
        .as_str()
        .unwrap()
        .starts_with("（28）"));
    let ipo_stats = units.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == IPO)
        .unwrap()
        .clone();
    assert_eq!(ipo_stats["rank"], 1, "{ipo_stats}");
    assert_eq!(ipo_stats["reported"], 132);
    // 10 working days past 2019-12-31 (1 January 2020 a holiday, two weekends): an urge
    // (催办), red.
    assert!(items
        .iter()
        .all(|i| i["days_overdue"] == 10 && i["severity"] == "urge" && i["light"] == "red"));
    let sorted: Vec<i64> = items
        .iter()
        .map(|i| i["assignment_id"].as_i64().unwrap())
        .collect();
    let mut check = sorted.clone();
    check.sort();
    assert_eq!(sorted, check, "ties are ordered by assignment");
}

#[actix_rt::test]
async fn overdue_filters_narrow_the_list() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let count = |r: Value| r["items"].as_array().unwrap().len();
    assert_eq!(
        count(
            app.get("/overdue?as_of=2020-01-15&severity=reminder", &admin)
                .await
                .body
        ),
        0
    );
    assert_eq!(
        count(
            app.get(
                "/overdue?as_of=2020-01-05&severity=reminder&limit=5",
                &admin
            )
            .await
            .body
        ),
        5
    );
    assert_eq!(
        count(
            app.get(
                "/overdue?as_of=2020-03-15&severity=supervise&limit=5",
                &admin
            )
            .await
            .body
        ),
        5
    );
    assert_eq!(
        count(app.get("/overdue?as_of=2019-12-31", &admin).await.body),
        0,
        "not overdue on the due date itself"
    );
    let lead = app
        .get("/overdue?as_of=2020-01-15&role=lead&limit=200", &admin)
        .await;
    assert!(lead.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["role"] == "lead"));
    let section = app
        .get("/overdue?as_of=2020-01-15&section=8&limit=200", &admin)
        .await;
    assert!(section.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["measure"]["code"].as_str().unwrap().starts_with("8.")));
    let source = all_pages(&app, &admin, "/overdue?as_of=2020-01-15&source=国令第713号").await;
    assert!(!source.is_empty());
    assert!(source
        .iter()
        .all(|i| i["measure"]["text"].as_str().unwrap().starts_with("（51）")));
    app.get("/overdue?as_of=yesterday", &admin)
        .await
        .assert_problem(422, "validation");
    app.get("/overdue?severity=worst", &admin)
        .await
        .assert_problem(422, "validation");
    let soon = app
        .get("/due-soon?as_of=2019-12-26&within=7d&limit=3", &admin)
        .await;
    assert_eq!(soon.status, 200, "{}", soon.raw);
    let first = &soon.body["items"][0];
    // Due Tuesday 31 December: three working days ahead of Thursday the 26th.
    assert_eq!(first["days_overdue"], -3);
    assert_eq!(first["light"], "yellow");
    assert_eq!(
        app.get("/due-soon?as_of=2019-11-01&within=7d", &admin)
            .await
            .body["items"],
        json!([])
    );
    app.get("/due-soon?within=forever", &admin)
        .await
        .assert_problem(422, "validation");
}

pub struct Desk {
    pub app: TestApp,
    pub coordinator: String,
    pub manager_a: String,
    pub manager_b: String,
    pub unit_a: i64,
    pub unit_b: i64,
    pub measure: i64,
    pub plan: i64,
}

pub async fn desk(cycle: &str, due: &str) -> Desk {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let office = app.unit("市委依法治市办").await;
    let unit_a = app.unit("市司法局").await;
    let unit_b = app.unit("市财政局").await;
    let (_, coordinator) = app.account("office", "coordinator", Some(office)).await;
    let (_, manager_a) = app.account("manager-a", "unit_manager", Some(unit_a)).await;
    let (_, manager_b) = app.account("manager-b", "unit_manager", Some(unit_b)).await;
    let _ = admin;
    let plan = app
        .post(
            "/plans",
            &coordinator,
            json!({"title": "2026年计划", "year": 2026}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let s = app
        .post(
            &format!("/plans/{plan}/items"),
            &coordinator,
            json!({"level": "section", "number": "一", "title": "依法全面履行政府职能"}),
        )
        .await;
    let t = app.post(&format!("/plans/{plan}/items"), &coordinator, json!({"level": "task", "parent_id": s.body["id"], "number": "1", "title": "深化改革。"})).await;
    let m = app.post(&format!("/plans/{plan}/items"), &coordinator, json!({"level": "measure", "parent_id": t.body["id"], "number": "1", "title": "下放审批权。", "sources": ["渝委发〔2016〕27号"]})).await;
    let measure = m.body["id"].as_i64().unwrap();
    let r = app.post(&format!("/measures/{measure}/assignments"), &coordinator, json!({"lead": {"unit_ids": [unit_a]}, "participants": {"unit_ids": [unit_b]}, "due_date": due, "cycle": cycle})).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        app.post(&format!("/plans/{plan}/publish"), &coordinator, json!({}))
            .await
            .status,
        200
    );
    Desk {
        app,
        coordinator,
        manager_a,
        manager_b,
        unit_a,
        unit_b,
        measure,
        plan,
    }
}

/// The assignments on the office's overdue list as of a day.
pub async fn overdue_ids(d: &Desk, as_of: &str) -> Vec<i64> {
    let r = d
        .app
        .get(&format!("/overdue?as_of={as_of}"), &d.coordinator)
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["assignment_id"].as_i64().unwrap())
        .collect()
}

/// One unit's line of `/stats/units` (with `query`, e.g. `?as_of=…`) as `token` reads it.
pub async fn stats_line(app: &TestApp, token: &str, query: &str, unit: i64) -> serde_json::Value {
    let r = app.get(&format!("/stats/units{query}"), token).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == unit)
        .cloned()
        .unwrap_or_else(|| panic!("no line for unit {unit}: {}", r.raw))
}

pub async fn assignment_of(d: &Desk, token: &str) -> i64 {
    let r = d
        .app
        .get(&format!("/assignments?measure_id={}", d.measure), token)
        .await;
    r.body["items"][0]["id"].as_i64().unwrap()
}

#[actix_rt::test]
async fn a_returned_report_counts_as_not_done() {
    let d = desk("yearly", "2099-06-30").await;
    let a = assignment_of(&d, &d.manager_a).await;
    let r = d
        .app
        .post(
            &format!("/assignments/{a}/reports"),
            &d.manager_a,
            json!({"status": "completed", "narrative": "已完成。"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let id = r.body["id"].as_i64().unwrap();
    let overdue_units = |body: Value| -> Vec<i64> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["unit_id"].as_i64().unwrap())
            .collect()
    };
    // A draft is not an answer.
    assert!(overdue_units(
        d.app
            .get(
                &format!("/overdue?as_of=2099-07-10&plan={}", d.plan),
                &d.coordinator
            )
            .await
            .body
    )
    .contains(&d.unit_a));
    assert_eq!(
        d.app
            .post(&format!("/reports/{id}/submit"), &d.manager_a, json!({}))
            .await
            .status,
        200
    );
    assert!(!overdue_units(
        d.app
            .get(
                &format!("/overdue?as_of=2099-07-10&plan={}", d.plan),
                &d.coordinator
            )
            .await
            .body
    )
    .contains(&d.unit_a));
    let ret = d
        .app
        .post(
            &format!("/reports/{id}/return"),
            &d.coordinator,
            json!({"reason": "请补充数据。"}),
        )
        .await;
    assert_eq!(ret.status, 200, "{}", ret.raw);
    let after = d
        .app
        .get(
            &format!("/overdue?as_of=2099-07-10&plan={}", d.plan),
            &d.coordinator,
        )
        .await;
    let item = after.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["unit_id"] == d.unit_a)
        .unwrap()
        .clone();
    // A returned report no longer stands as sent; the item says it was returned.
    assert_eq!(item["last_report"], Value::Null);
    assert_eq!(item["returned"], true);
    assert_eq!(item["light"], "red");
    // 30 June to 10 July 2099: eight working days.
    assert_eq!(item["days_overdue"], 8);
    assert_eq!(item["severity"], "urge");
}

#[actix_rt::test]
async fn a_missing_monthly_report_makes_a_periodic_assignment_overdue() {
    let d = desk("monthly", "2099-12-31").await;
    let a = assignment_of(&d, &d.manager_a).await;
    let before = d
        .app
        .get(
            &format!(
                "/overdue?as_of=2099-01-15&plan={}&unit={}",
                d.plan, d.unit_a
            ),
            &d.coordinator,
        )
        .await;
    // Nothing sent: late since the end of the month the assignment was made in.
    let today = chrono::Utc::now().date_naive();
    let month_end = chrono::NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
        .unwrap()
        .checked_add_months(chrono::Months::new(1))
        .unwrap()
        .pred_opt()
        .unwrap();
    let as_of = chrono::NaiveDate::from_ymd_opt(2099, 1, 15).unwrap();
    let item = &before.body["items"][0];
    assert_eq!(item["deadline"], month_end.to_string(), "{}", before.raw);
    // Working days: Monday to Friday (the calendar lists nothing in between).
    let weekdays = month_end
        .iter_days()
        .skip(1)
        .take_while(|d| *d <= as_of)
        .filter(|d| d.weekday().num_days_from_monday() < 5)
        .count();
    assert_eq!(item["days_overdue"], weekdays as i64);
    let r = d
        .app
        .post(
            &format!("/assignments/{a}/reports"),
            &d.manager_a,
            json!({"period": "2098-12", "status": "in_progress", "narrative": "12月推进情况。"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    d.app
        .post(
            &format!("/reports/{}/submit", r.body["id"]),
            &d.manager_a,
            json!({}),
        )
        .await;
    let after = d
        .app
        .get(
            &format!(
                "/overdue?as_of=2099-01-15&plan={}&unit={}",
                d.plan, d.unit_a
            ),
            &d.coordinator,
        )
        .await;
    assert_eq!(after.body["items"], json!([]));
    let stats = d
        .app
        .get(
            &format!("/stats/units?plan={}&as_of=2099-01-15", d.plan),
            &d.coordinator,
        )
        .await;
    let a_line = stats.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == d.unit_a)
        .unwrap()
        .clone();
    assert_eq!(a_line["overdue"], 0);
    assert_eq!(a_line["in_progress"], 1);
    assert_eq!(a_line["reported"], 1);
}

#[actix_rt::test]
async fn units_see_only_their_own_figures() {
    let d = desk("yearly", "2099-06-30").await;
    let stats = d
        .app
        .get("/stats/units?as_of=2099-07-10", &d.manager_a)
        .await;
    let items = stats.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], d.unit_a);
    let overdue = d.app.get("/overdue?as_of=2099-07-10", &d.manager_a).await;
    assert!(overdue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["unit_id"] == d.unit_a));
    d.app
        .get(&format!("/overdue?unit={}", d.unit_a + 1), &d.manager_a)
        .await
        .assert_problem(403, "forbidden");
    let office = d.app.get("/overdue?as_of=2099-07-10", &d.coordinator).await;
    assert_eq!(office.body["items"].as_array().unwrap().len(), 2);
}
