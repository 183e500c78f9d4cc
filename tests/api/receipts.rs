//! Signing for assignments (签收): each assigned unit signs for its assignments once the plan is
//! published, one by one or all of a plan at once; the office sees who has not signed, in the
//! assignment list, the per-unit figures and the unit's inbox.

use crate::desk::{assignment_of, desk, Desk};
use crate::fixtures::ids;
use serde_json::{json, Value};

async fn unreceived(d: &Desk) -> Vec<i64> {
    let r = d
        .app
        .get(
            &format!("/assignments?plan_id={}&received=false", d.plan),
            &d.coordinator,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    ids(&r)
}

async fn unit_figure(d: &Desk, unit: i64) -> Value {
    let r = d.app.get("/stats/units", &d.coordinator).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == unit)
        .map(|i| i["unreceived"].clone())
        .unwrap()
}

#[actix_rt::test]
async fn units_sign_for_their_assignments_and_the_office_sees_who_has_not() {
    let d = desk("yearly", "2099-06-30").await;
    let a = assignment_of(&d, &d.manager_a).await;
    let b = assignment_of(&d, &d.manager_b).await;
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(unreceived(&d).await, both);
    assert_eq!(unit_figure(&d, d.unit_a).await, 1);
    let inbox = d.app.get("/inbox", &d.manager_a).await;
    assert_eq!(inbox.body["unreceived"], json!([a]), "{}", inbox.raw);

    // Only the assigned unit signs: another unit does not see it, the office may not.
    d.app
        .post(
            &format!("/assignments/{a}/receipt"),
            &d.manager_b,
            json!({}),
        )
        .await
        .assert_problem(404, "not-found");
    d.app
        .post(
            &format!("/assignments/{a}/receipt"),
            &d.coordinator,
            json!({}),
        )
        .await
        .assert_problem(403, "forbidden");
    let signed = d
        .app
        .post(
            &format!("/assignments/{a}/receipt"),
            &d.manager_a,
            json!({}),
        )
        .await;
    assert_eq!(signed.status, 200, "{}", signed.raw);
    assert!(signed.body["received_at"].is_string(), "{}", signed.raw);
    assert!(signed.body["received_by"].is_i64(), "{}", signed.raw);
    // Signing again changes nothing: the first signature stands.
    let again = d
        .app
        .post(
            &format!("/assignments/{a}/receipt"),
            &d.manager_a,
            json!({}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body["received_at"], signed.body["received_at"]);
    assert_eq!(unreceived(&d).await, vec![b]);
    assert_eq!(unit_figure(&d, d.unit_a).await, 0);
    let inbox = d.app.get("/inbox", &d.manager_a).await;
    assert_eq!(inbox.body["unreceived"], json!([]));
    let mine = d.app.get("/assignments?received=true", &d.manager_a).await;
    assert_eq!(ids(&mine), vec![a]);

    // A whole plan at once: the unit's assignments not yet signed, counted once.
    d.app
        .post(
            &format!("/plans/{}/receipts", d.plan),
            &d.coordinator,
            json!({}),
        )
        .await
        .assert_problem(403, "forbidden");
    let all = d
        .app
        .post(
            &format!("/plans/{}/receipts", d.plan),
            &d.manager_b,
            json!({}),
        )
        .await;
    assert_eq!(all.status, 200, "{}", all.raw);
    assert_eq!(all.body, json!({"signed": 1, "assignment_ids": [b]}));
    let none = d
        .app
        .post(
            &format!("/plans/{}/receipts", d.plan),
            &d.manager_b,
            json!({}),
        )
        .await;
    assert_eq!(none.body, json!({"signed": 0, "assignment_ids": []}));
    assert_eq!(unreceived(&d).await, Vec::<i64>::new());

    let audit = d.app.get("/audit?limit=100", &d.coordinator).await;
    let receipts = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "assignment.receive")
        .count();
    assert_eq!(receipts, 2, "one entry per signature, not per repeat");
}

#[actix_rt::test]
async fn a_closed_plan_is_no_longer_signed_for() {
    let d = desk("yearly", "2099-06-30").await;
    let a = assignment_of(&d, &d.manager_a).await;
    let closed = d
        .app
        .post(
            &format!("/plans/{}/close", d.plan),
            &d.coordinator,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.raw);
    d.app
        .post(
            &format!("/assignments/{a}/receipt"),
            &d.manager_a,
            json!({}),
        )
        .await
        .assert_problem(409, "conflict");
    d.app
        .post(
            &format!("/plans/{}/receipts", d.plan),
            &d.manager_a,
            json!({}),
        )
        .await
        .assert_problem(409, "conflict");
}
