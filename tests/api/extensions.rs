//! Extension requests (延期申请): a unit asks before its due date for a later one; the office
//! approves with the date it grants (the assignment's due date from then on: off the overdue
//! list until then) or rejects with a reason. One request per assignment may be pending.

use crate::desk::{assignment_of, desk, overdue_ids, stats_line, Desk};
use crate::fixtures::ids;
use crate::helpers::*;
use serde_json::{json, Value};

async fn ask(d: &Desk, token: &str, assignment: i64, requested: &str) -> Reply {
    d.app
        .post(
            &format!("/assignments/{assignment}/extension-requests"),
            token,
            json!({"requested_due_date": requested, "reason": "配套制度需经市政府常务会议审议。",
                   "progress": "已完成草案起草和征求意见。"}),
        )
        .await
}

/// Unit A's line of `/stats/units` as the office reads it.
async fn unit_line(d: &Desk, as_of: &str) -> Value {
    stats_line(&d.app, &d.coordinator, &format!("?as_of={as_of}"), d.unit_a).await
}

#[actix_rt::test]
async fn an_approved_extension_moves_the_due_date_and_the_assignment_is_not_overdue_until_then() {
    let d = desk("yearly", "2099-06-30").await;
    let a = assignment_of(&d, &d.manager_a).await;
    assert!(overdue_ids(&d, "2099-07-10").await.contains(&a));

    let r = ask(&d, &d.manager_a, a, "2099-12-31").await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("/api/v1/extension-requests/{id}").as_str())
    );
    assert_eq!(r.body["state"], "pending");
    assert_eq!(r.body["due_date"], "2099-06-30");
    assert_eq!(r.body["requested_due_date"], "2099-12-31");
    // Pending changes nothing yet; a second request waits for the first.
    assert!(overdue_ids(&d, "2099-07-10").await.contains(&a));
    let again = ask(&d, &d.manager_a, a, "2099-09-30").await;
    again.assert_problem(409, "conflict");
    let line = unit_line(&d, "2099-07-10").await;
    assert_eq!(
        (&line["extension_requests"], &line["extensions_approved"]),
        (&json!(1), &json!(0))
    );

    // Another unit neither sees it nor lists it; a unit does not decide.
    d.app
        .get(&format!("/extension-requests/{id}"), &d.manager_b)
        .await
        .assert_problem(404, "not-found");
    let theirs = d.app.get("/extension-requests", &d.manager_b).await;
    assert_eq!(theirs.body["items"], json!([]), "{}", theirs.raw);
    d.app
        .get(
            &format!("/extension-requests?unit_id={}", d.unit_a),
            &d.manager_b,
        )
        .await
        .assert_problem(403, "forbidden");
    d.app
        .post(
            &format!("/extension-requests/{id}/approve"),
            &d.manager_a,
            json!({"granted_due_date": "2099-12-31"}),
        )
        .await
        .assert_problem(403, "forbidden");

    // The office grants less than was asked: that date is the due date from now on.
    let ok = d
        .app
        .post(
            &format!("/extension-requests/{id}/approve"),
            &d.coordinator,
            json!({"granted_due_date": "2099-09-30", "note": "同意延期至9月底。"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    assert_eq!(ok.body["state"], "approved");
    assert_eq!(ok.body["granted_due_date"], "2099-09-30");
    assert_eq!(ok.body["note"], "同意延期至9月底。");
    assert_eq!(ok.body["rejection_reason"], Value::Null);
    let asg = d.app.get(&format!("/assignments/{a}"), &d.manager_a).await;
    assert_eq!(asg.body["due_date"], "2099-09-30", "{}", asg.raw);
    assert!(!overdue_ids(&d, "2099-07-10").await.contains(&a));
    assert!(overdue_ids(&d, "2099-10-05").await.contains(&a));
    let line = unit_line(&d, "2099-07-10").await;
    assert_eq!(line["overdue"], 0, "{line}");
    assert_eq!(
        (&line["extension_requests"], &line["extensions_approved"]),
        (&json!(1), &json!(1))
    );
    // Decided is decided; the unit sees the decision in its list.
    d.app
        .post(
            &format!("/extension-requests/{id}/reject"),
            &d.coordinator,
            json!({"reason": "再议。"}),
        )
        .await
        .assert_problem(409, "conflict");
    let mine = d
        .app
        .get("/extension-requests?state=approved", &d.manager_a)
        .await;
    assert_eq!(ids(&mine), vec![id], "{}", mine.raw);
    let pending = d
        .app
        .get("/extension-requests?state=pending", &d.coordinator)
        .await;
    assert_eq!(ids(&pending), Vec::<i64>::new());

    // The audit trail keeps the request, the decision and the due date's move.
    let audit = d.app.get("/audit?limit=100", &d.coordinator).await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "extension.request",
        "extension.approve",
        "assignment.reschedule",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[actix_rt::test]
async fn a_rejected_request_keeps_the_due_date_and_a_new_request_may_follow() {
    let d = desk("monthly", "2099-06-30").await;
    let a = assignment_of(&d, &d.manager_a).await;
    let id = ask(&d, &d.manager_a, a, "2099-12-31").await.body["id"]
        .as_i64()
        .unwrap();
    let decide = |what: &'static str, body: Value| {
        let app = &d.app;
        let coord = d.coordinator.clone();
        async move {
            app.post(&format!("/extension-requests/{id}/{what}"), &coord, body)
                .await
        }
    };
    let no_reason = decide("reject", json!({"reason": "  "})).await;
    no_reason.assert_problem(422, "validation");
    assert_eq!(no_reason.fields(), vec!["reason"]);
    let too_early = decide("approve", json!({"granted_due_date": "2099-06-30"})).await;
    too_early.assert_problem(422, "validation");
    assert_eq!(too_early.fields(), vec!["granted_due_date"]);

    let no = decide("reject", json!({"reason": "请按原定期限完成。"})).await;
    assert_eq!(no.status, 200, "{}", no.raw);
    assert_eq!(no.body["state"], "rejected");
    assert_eq!(no.body["rejection_reason"], "请按原定期限完成。");
    assert_eq!(no.body["granted_due_date"], Value::Null);
    let asg = d.app.get(&format!("/assignments/{a}"), &d.manager_a).await;
    assert_eq!(asg.body["due_date"], "2099-06-30");
    let next = ask(&d, &d.manager_a, a, "2099-08-31").await;
    assert_eq!(next.status, 201, "{}", next.raw);
    // Once the plan is closed its due dates no longer move; a refusal is still recorded.
    let closed = d
        .app
        .post(
            &format!("/plans/{}/close", d.plan),
            &d.coordinator,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.raw);
    let next_id = next.body["id"].as_i64().unwrap();
    d.app
        .post(
            &format!("/extension-requests/{next_id}/approve"),
            &d.coordinator,
            json!({"granted_due_date": "2099-08-31"}),
        )
        .await
        .assert_problem(409, "conflict");
    let refused = d
        .app
        .post(
            &format!("/extension-requests/{next_id}/reject"),
            &d.coordinator,
            json!({"reason": "计划已关闭。"}),
        )
        .await;
    assert_eq!(refused.status, 200, "{}", refused.raw);
    let history = d
        .app
        .get(
            &format!("/extension-requests?assignment_id={a}"),
            &d.coordinator,
        )
        .await;
    assert_eq!(
        ids(&history),
        vec![next.body["id"].as_i64().unwrap(), id],
        "newest first"
    );
}

#[actix_rt::test]
async fn a_request_names_what_is_wrong_with_it() {
    let d = desk("yearly", "2099-06-30").await;
    let a = assignment_of(&d, &d.manager_a).await;
    let earlier = ask(&d, &d.manager_a, a, "2099-06-30").await;
    earlier.assert_problem(422, "validation");
    assert_eq!(earlier.fields(), vec!["requested_due_date"]);
    let empty = d
        .app
        .post(
            &format!("/assignments/{a}/extension-requests"),
            &d.manager_a,
            json!({"requested_due_date": "2099-12-31", "reason": "", "progress": "已起草。"}),
        )
        .await;
    empty.assert_problem(422, "validation");
    assert_eq!(empty.fields(), vec!["reason"]);
    let unknown = d
        .app
        .post(
            &format!("/assignments/{a}/extension-requests"),
            &d.manager_a,
            json!({"requested_due_date": "2099-12-31", "reason": "x", "progress": "y", "due": 1}),
        )
        .await;
    assert!(matches!(unknown.status, 400 | 422), "{}", unknown.raw);
    // The office does not ask on a unit's behalf; nothing was stored by any of these.
    ask(&d, &d.coordinator, a, "2099-12-31")
        .await
        .assert_problem(403, "forbidden");
    let none = d.app.get("/extension-requests", &d.coordinator).await;
    assert_eq!(none.body["items"], json!([]), "{}", none.raw);

    // Once the due date has come, it is too late to ask.
    let late = desk("yearly", "2020-06-30").await;
    let b = assignment_of(&late, &late.manager_a).await;
    let r = ask(&late, &late.manager_a, b, "2099-12-31").await;
    r.assert_problem(409, "conflict");
    assert_eq!(r.fields(), vec!["due_date"], "{}", r.raw);
}

#[actix_rt::test]
async fn a_retried_request_with_the_same_key_is_answered_once() {
    let d = desk("yearly", "2099-06-30").await;
    let a = assignment_of(&d, &d.manager_a).await;
    let send = || async {
        let res = d
            .app
            .client
            .post(d.app.url(&format!("/assignments/{a}/extension-requests")))
            .insert_header(("Authorization", format!("Bearer {}", d.manager_a)))
            .insert_header(("Idempotency-Key", "extension-once"))
            .send_json(&json!({"requested_due_date": "2099-12-31", "reason": "需要更多时间。", "progress": "已起草。"}))
            .await
            .expect("sent");
        read(res).await
    };
    let first = send().await;
    assert_eq!(first.status, 201, "{}", first.raw);
    let second = send().await;
    assert_eq!(second.status, 201, "{}", second.raw);
    assert_eq!(second.body, first.body);
    assert_eq!(
        second.header("idempotency-replayed").as_deref(),
        Some("true")
    );
    let all = d.app.get("/extension-requests", &d.coordinator).await;
    assert_eq!(ids(&all).len(), 1);
}

#[actix_rt::test]
async fn the_demo_carries_an_approved_and_a_rejected_request_of_2019() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let all = app.get("/extension-requests", &admin).await;
    assert_eq!(all.status, 200, "{}", all.raw);
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", all.raw);
    let approved = items.iter().find(|r| r["state"] == "approved").unwrap();
    let rejected = items.iter().find(|r| r["state"] == "rejected").unwrap();
    assert_eq!(approved["granted_due_date"], "2020-03-31");
    assert!(rejected["rejection_reason"].is_string());
    // The granted date is the assignment's due date: not overdue in January 2020, late in April.
    let a = approved["assignment_id"].as_i64().unwrap();
    let overdue_on = |items: Vec<Value>| -> Vec<i64> {
        items
            .iter()
            .map(|i| i["assignment_id"].as_i64().unwrap())
            .collect()
    };
    let january = crate::desk::all_pages(&app, &admin, "/overdue?as_of=2020-01-15&plan=1").await;
    assert!(!overdue_on(january).contains(&a));
    let april = crate::desk::all_pages(&app, &admin, "/overdue?as_of=2020-04-15&plan=1").await;
    assert!(overdue_on(april).contains(&a));
    // The Intellectual Property Office signed for its assignments when the plan was issued.
    let units = app
        .get("/stats/units?plan=1&as_of=2020-04-15", &admin)
        .await;
    let ipo = units.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "重庆市知识产权局")
        .unwrap()
        .clone();
    assert_eq!(ipo["unreceived"], 0, "{ipo}");
    assert!(ipo["assigned"].as_i64().unwrap() > 100);
}
