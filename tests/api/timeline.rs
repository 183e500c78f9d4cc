//! An assignment's timeline (办理记录): every step in time order, each as the caller may read
//! its source — the unit's drafting only to the unit itself, urges and requests only to the
//! unit and the office, never a report's text.

use crate::desk::{assignment_of, desk};
use serde_json::{json, Value};

fn kinds(r: &Value) -> Vec<String> {
    r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_rt::test]
async fn the_timeline_tells_an_assignments_history_in_order_and_as_each_caller_may_see_it() {
    let d = desk("yearly", "2099-06-30").await;
    let a = assignment_of(&d, &d.manager_a).await;
    let ok = |r: crate::helpers::Reply| {
        assert!(r.status < 300, "{}", r.raw);
        r
    };
    ok(d.app
        .post(
            &format!("/assignments/{a}/receipt"),
            &d.manager_a,
            json!({}),
        )
        .await);
    let draft = ok(d
        .app
        .post(
            &format!("/assignments/{a}/reports"),
            &d.manager_a,
            json!({"status": "in_progress", "narrative": "时间线草稿正文。"}),
        )
        .await);
    let report = draft.body["id"].as_i64().unwrap();
    ok(d.app
        .post(
            &format!("/reports/{report}/submit"),
            &d.manager_a,
            json!({}),
        )
        .await);
    ok(d.app
        .post(
            &format!("/reports/{report}/return"),
            &d.coordinator,
            json!({"reason": "请补充数据。"}),
        )
        .await);
    ok(d.app
        .post(
            &format!("/reports/{report}/submit"),
            &d.manager_a,
            json!({}),
        )
        .await);
    ok(d.app
        .post(
            &format!("/reports/{report}/accept"),
            &d.coordinator,
            json!({}),
        )
        .await);
    ok(d.app
        .post(
            "/urges",
            &d.coordinator,
            json!({"unit_id": d.unit_a, "assignment_ids": [a], "severity": "urge", "message": "请尽快办理。"}),
        )
        .await);
    let req = ok(d
        .app
        .post(
            &format!("/assignments/{a}/extension-requests"),
            &d.manager_a,
            json!({"requested_due_date": "2099-12-31", "reason": "需要更多时间。", "progress": "已起草。"}),
        )
        .await);
    let rid = req.body["id"].as_i64().unwrap();
    ok(d.app
        .post(
            &format!("/extension-requests/{rid}/approve"),
            &d.coordinator,
            json!({"granted_due_date": "2099-09-30"}),
        )
        .await);

    let path = format!("/assignments/{a}/timeline");
    let own = d.app.get(&path, &d.manager_a).await;
    assert_eq!(own.status, 200, "{}", own.raw);
    assert_eq!(
        kinds(&own.body),
        vec![
            "assigned",
            "received",
            "report_drafted",
            "submitted",
            "returned",
            "resubmitted",
            "accepted",
            "urged",
            "extension_requested",
            "extension_approved",
            "due_date_changed",
        ],
        "{}",
        own.raw
    );
    let items = own.body["items"].as_array().unwrap();
    let times: Vec<&str> = items.iter().map(|i| i["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");
    let returned = items.iter().find(|i| i["kind"] == "returned").unwrap();
    assert_eq!(returned["detail"]["reason"], "请补充数据。");
    assert_eq!(returned["detail"]["report_id"], report);
    let moved = items
        .iter()
        .find(|i| i["kind"] == "due_date_changed")
        .unwrap();
    assert_eq!(
        (&moved["detail"]["from"], &moved["detail"]["to"]),
        (&json!("2099-06-30"), &json!("2099-09-30"))
    );
    assert!(items.iter().all(|i| i["unit_id"] == d.unit_a));
    // Never a report's text.
    assert!(!own.raw.contains("时间线草稿正文"), "{}", own.raw);

    // The office sees the same steps except the unit's own drafting.
    let office = d.app.get(&path, &d.coordinator).await;
    let mut expected = kinds(&own.body);
    expected.retain(|k| k != "report_drafted");
    assert_eq!(kinds(&office.body), expected);
    // Another unit does not see the assignment at all.
    let other = d.app.get(&path, &d.manager_b).await;
    assert_eq!(other.status, 404, "{}", other.raw);
}
