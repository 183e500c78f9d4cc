//! Time-proportional progress (序时进度): the share of periodic work due by a day beside the
//! percent the unit last sent; behind it, the light turns yellow and the unit's figures count it.

use crate::fixtures::*;
use serde_json::{json, Value};

async fn send(w: &World, assignment: i64, period: &str, progress: i64) -> Value {
    let m = &w.a.manager.token;
    let r = w
        .app
        .post(
            &format!("/assignments/{assignment}/reports"),
            m,
            json!({"period": period, "status": "in_progress", "narrative": "按计划推进。", "progress": progress}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["progress"], progress);
    let sent = w.app.submit_report(m, r.body["id"].as_i64().unwrap()).await;
    assert_eq!(sent.id, r.body["id"].as_i64().unwrap());
    r.body.clone()
}

#[actix_rt::test]
async fn behind_its_time_proportional_share_a_unit_is_yellow_and_counted() {
    let w = World::builder().without_b().build().await;
    let c = w.coord();
    let m = w
        .app
        .create_item(
            c,
            w.plan,
            json!({"level": "measure", "parent_id": w.task, "number": "2", "title": "按季度推进。"}),
        )
        .await;
    let made = w
        .app
        .post(
            &format!("/measures/{m}/assignments"),
            c,
            json!({"participants": {"unit_ids": [w.a.id]}, "due_date": "2027-12-31", "cycle": "quarterly"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.raw);
    let id = made.body["created"][0]["id"].as_i64().unwrap();
    // Made in 2026-Q4, due in 2027-Q4: five quarters. 30 % sent with the first quarter of 2027.
    send(&w, id, "2027-Q1", 30).await;
    let item = |as_of: &'static str| {
        let app = &w.app;
        let unit = w.a.id;
        async move {
            let r = app
                .get(
                    &format!("/due-soon?as_of={as_of}&within=52w&unit={unit}"),
                    c,
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.raw);
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["assignment_id"] == id)
                .cloned()
                .unwrap_or_else(|| panic!("{}", r.raw))
        }
    };
    let behind = |as_of: &'static str| {
        let app = &w.app;
        let (plan, unit) = (w.plan, w.a.id);
        async move {
            let r = app
                .get(&format!("/stats/units?as_of={as_of}&plan={plan}"), c)
                .await;
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["id"] == unit)
                .map(|l| l["behind"].clone())
                .unwrap_or_else(|| panic!("{}", r.raw))
        }
    };
    // Through March 2027 one quarter of five has passed: 20 % due, 30 % sent.
    let march = item("2027-03-20").await;
    assert_eq!(
        (
            march["progress"].clone(),
            march["expected_progress"].clone(),
            march["behind"].clone()
        ),
        (json!(30), json!(20), json!(false)),
        "{march}"
    );
    assert_eq!(march["light"], "green");
    assert_eq!(behind("2027-03-20").await, 0);
    // From 1 April two have: 40 % due, the unit is behind, the light yellow.
    let april = item("2027-04-01").await;
    assert_eq!(
        (
            april["expected_progress"].clone(),
            april["behind"].clone(),
            april["light"].clone()
        ),
        (json!(40), json!(true), json!("yellow")),
        "{april}"
    );
    assert_eq!(behind("2027-04-01").await, 1);
    // 60 % sent with the second quarter: not behind again until 80 % is due (1 October).
    send(&w, id, "2027-Q2", 60).await;
    assert_eq!(behind("2027-04-01").await, 0);
    assert_eq!(item("2027-04-01").await["behind"], false);
    assert_eq!(item("2027-09-30").await["behind"], false);
    // The third quarter's report keeps 60 %: from 1 October 80 % is due.
    send(&w, id, "2027-Q3", 60).await;
    let october = item("2027-10-01").await;
    assert_eq!(
        (
            october["expected_progress"].clone(),
            october["behind"].clone()
        ),
        (json!(80), json!(true)),
        "{october}"
    );
    // A percent is 0 to 100, named when it is not.
    for bad in [json!(101), json!(-1)] {
        let r = w
            .app
            .post(
                &format!("/assignments/{id}/reports"),
                &w.a.manager.token,
                json!({"period": "2027-Q4", "status": "in_progress", "narrative": "x", "progress": bad}),
            )
            .await;
        r.assert_problem(422, "validation");
        assert_eq!(r.fields(), vec!["progress".to_owned()], "{}", r.raw);
    }
}
