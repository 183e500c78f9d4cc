//! Disputes (异议 / 调整申请): the assigned unit states that an assignment is not its
//! responsibility, or that its role is wrong; the office withdraws the assignment, moves it to
//! another unit (the reports its holder wrote stay, naming it), changes its role, or rejects
//! the dispute with a reason. One dispute per assignment may be pending.

use crate::desk::{desk, overdue_ids, stats_line, Desk};
use crate::fixtures::ids;
use crate::helpers::*;
use serde_json::{json, Value};

/// B's (the participant's) assignment on the desk's measure.
async fn participant_assignment(d: &Desk) -> i64 {
    let r = d
        .app
        .get(
            &format!("/assignments?measure_id={}", d.measure),
            &d.manager_b,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["role"] == "participant")
        .and_then(|a| a["id"].as_i64())
        .expect("B's assignment")
}

async fn dispute(d: &Desk, token: &str, assignment: i64, kind: &str) -> Reply {
    d.app
        .post(
            &format!("/assignments/{assignment}/disputes"),
            token,
            json!({"kind": kind, "reason": "该事项不属本单位职责。"}),
        )
        .await
}

async fn resolve(d: &Desk, id: i64, body: Value) -> Reply {
    d.app
        .post(&format!("/disputes/{id}/resolve"), &d.coordinator, body)
        .await
}

async fn timeline_kinds(d: &Desk, token: &str, assignment: i64) -> Vec<String> {
    let r = d
        .app
        .get(&format!("/assignments/{assignment}/timeline"), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_rt::test]
async fn a_participant_that_should_lead_is_made_lead_by_the_office() {
    let d = desk("yearly", "2099-06-30").await;
    let b = participant_assignment(&d).await;
    // A participant cannot ask to participate: it names what is wrong.
    let wrong = dispute(&d, &d.manager_b, b, "should_participate").await;
    wrong.assert_problem(422, "validation");
    assert_eq!(wrong.fields(), vec!["kind"]);

    let r = dispute(&d, &d.manager_b, b, "should_lead").await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("/api/v1/disputes/{id}").as_str())
    );
    assert_eq!(
        (&r.body["state"], &r.body["kind"], &r.body["role"]),
        (
            &json!("pending"),
            &json!("should_lead"),
            &json!("participant")
        )
    );
    assert_eq!(r.body["outcome"], Value::Null);
    // One pending dispute per assignment.
    dispute(&d, &d.manager_b, b, "not_ours")
        .await
        .assert_problem(409, "conflict");

    // The disputing unit and the office see it; the lead unit A neither reads nor lists it,
    // and no unit resolves.
    let own = d.app.get(&format!("/disputes/{id}"), &d.manager_b).await;
    assert_eq!(own.status, 200, "{}", own.raw);
    d.app
        .get(&format!("/disputes/{id}"), &d.manager_a)
        .await
        .assert_problem(404, "not-found");
    let theirs = d.app.get("/disputes", &d.manager_a).await;
    assert_eq!(theirs.body["items"], json!([]), "{}", theirs.raw);
    d.app
        .post(
            &format!("/disputes/{id}/resolve"),
            &d.manager_b,
            json!({"outcome": "change_role"}),
        )
        .await
        .assert_problem(403, "forbidden");
    let pending = d.app.get("/disputes?state=pending", &d.coordinator).await;
    assert_eq!(ids(&pending), vec![id]);

    // The office changes the role to the one asked for (the default of change_role).
    let ok = resolve(
        &d,
        id,
        json!({"outcome": "change_role", "reason": "同意由该单位牵头。"}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    assert_eq!(
        (&ok.body["state"], &ok.body["outcome"], &ok.body["new_role"]),
        (&json!("resolved"), &json!("change_role"), &json!("lead"))
    );
    assert_eq!(ok.body["resolution_note"], "同意由该单位牵头。");
    let asg = d.app.get(&format!("/assignments/{b}"), &d.manager_b).await;
    assert_eq!(asg.body["role"], "lead", "{}", asg.raw);
    let line = stats_line(&d.app, &d.coordinator, "", d.unit_b).await;
    assert_eq!(
        (&line["disputes"], &line["disputes_upheld"]),
        (&json!(1), &json!(1)),
        "{line}"
    );
    let kinds = timeline_kinds(&d, &d.manager_b, b).await;
    for k in ["assigned", "disputed", "dispute_resolved", "role_changed"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    // Resolved once: a second resolution is refused; the audit trail has both steps.
    resolve(&d, id, json!({"outcome": "reject", "reason": "再议。"}))
        .await
        .assert_problem(409, "conflict");
    let audit = d
        .app
        .get("/audit?entity_type=dispute", &d.coordinator)
        .await;
    assert_eq!(audit.status, 200, "{}", audit.raw);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"dispute.raise") && actions.contains(&"dispute.resolve"));
}

#[actix_rt::test]
async fn a_moved_assignment_appears_under_its_new_unit_with_its_reports_kept() {
    let d = desk("yearly", "2099-06-30").await;
    let b = participant_assignment(&d).await;
    let unit_c = d.app.unit("市公安局").await;
    let (_, manager_c) = d
        .app
        .account("manager-c", "unit_manager", Some(unit_c))
        .await;
    // B answered before it disputed: its sent report stays with it after the move.
    let rep = d
        .app
        .post(
            &format!("/assignments/{b}/reports"),
            &d.manager_b,
            json!({"status": "in_progress", "narrative": "财政局已开展的工作。", "period": "2099"}),
        )
        .await;
    assert_eq!(rep.status, 201, "{}", rep.raw);
    let report = rep.body["id"].as_i64().unwrap();
    let sent = d
        .app
        .post(
            &format!("/reports/{report}/submit"),
            &d.manager_b,
            json!({}),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.raw);
    // B signed for it and was urged about it.
    let signed = d
        .app
        .post(
            &format!("/assignments/{b}/receipt"),
            &d.manager_b,
            json!({}),
        )
        .await;
    assert_eq!(signed.status, 200, "{}", signed.raw);
    let urged = d.app.post("/urges", &d.coordinator, json!({"unit_id": d.unit_b, "assignment_ids": [b], "severity": "urge", "message": "请尽快报送。"})).await;
    assert_eq!(urged.status, 201, "{}", urged.raw);
    let id = dispute(&d, &d.manager_b, b, "not_ours").await.body["id"]
        .as_i64()
        .unwrap();

    // A move names an active unit that holds nothing on the measure yet.
    let r = resolve(&d, id, json!({"outcome": "move"})).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["unit_id"]);
    let r = resolve(&d, id, json!({"outcome": "move", "unit_id": 999_999})).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["unit_id"]);
    let r = resolve(&d, id, json!({"outcome": "move", "unit_id": d.unit_a})).await;
    r.assert_problem(409, "conflict");
    assert_eq!(r.fields(), vec!["unit_id"]);
    let r = resolve(
        &d,
        id,
        json!({"outcome": "move", "unit_id": unit_c, "role": "lead"}),
    )
    .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["role"]);

    let ok = resolve(&d, id, json!({"outcome": "move", "unit_id": unit_c})).await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    assert_eq!(ok.body["moved_to_unit_id"], unit_c);

    // The assignment is C's now, unsigned and not yet answered by C; B no longer sees it.
    let asg = d.app.get(&format!("/assignments/{b}"), &manager_c).await;
    assert_eq!(asg.status, 200, "{}", asg.raw);
    assert_eq!(asg.body["unit_id"], unit_c);
    assert_eq!(asg.body["state"], "not_started", "{}", asg.raw);
    assert_eq!(asg.body["received_at"], Value::Null);
    assert_eq!(asg.body["latest_report_id"], Value::Null);
    // The urge was B's: C's line counts none, nor an answer.
    let c_line = stats_line(&d.app, &d.coordinator, "", unit_c).await;
    assert_eq!(
        (&c_line["urged"], &c_line["reported"], &c_line["unreceived"]),
        (&json!(0), &json!(0), &json!(1)),
        "{c_line}"
    );
    let listed = d
        .app
        .get(&format!("/assignments?unit_id={unit_c}"), &d.coordinator)
        .await;
    assert_eq!(ids(&listed), vec![b]);
    d.app
        .get(&format!("/assignments/{b}"), &d.manager_b)
        .await
        .assert_problem(404, "not-found");

    // B's report is kept, naming B; the office still reads it; B can no longer change it.
    let kept = d
        .app
        .get(&format!("/reports/{report}"), &d.coordinator)
        .await;
    assert_eq!(kept.status, 200, "{}", kept.raw);
    assert_eq!(kept.body["unit_id"], d.unit_b, "B wrote it");
    let mine = d.app.get(&format!("/reports/{report}"), &d.manager_b).await;
    assert_eq!(mine.status, 200, "{}", mine.raw);
    // It is history, not an answer: the measure's reports and the lists leave it out.
    let on_measure = d
        .app
        .get(&format!("/measures/{}/reports", d.measure), &d.coordinator)
        .await;
    assert!(!ids(&on_measure).contains(&report), "{}", on_measure.raw);
    let queue = d
        .app
        .get("/reports?workflow=submitted", &d.coordinator)
        .await;
    assert!(!ids(&queue).contains(&report), "{}", queue.raw);
    d.app
        .post(
            &format!("/reports/{report}/accept"),
            &d.coordinator,
            json!({}),
        )
        .await
        .assert_problem(409, "conflict");

    // C answers the same period itself, and that answer is what counts.
    let c_rep = d
        .app
        .post(
            &format!("/assignments/{b}/reports"),
            &manager_c,
            json!({"status": "completed", "narrative": "公安局已完成。", "period": "2099"}),
        )
        .await;
    assert_eq!(c_rep.status, 201, "{}", c_rep.raw);
    let c_id = c_rep.body["id"].as_i64().unwrap();
    let c_sent = d
        .app
        .post(&format!("/reports/{c_id}/submit"), &manager_c, json!({}))
        .await;
    assert_eq!(c_sent.status, 200, "{}", c_sent.raw);
    let asg = d
        .app
        .get(&format!("/assignments/{b}"), &d.coordinator)
        .await;
    assert_eq!(asg.body["state"], "completed", "{}", asg.raw);

    // The summary's answers are the holders': C's, no longer B's.
    let summary = d
        .app
        .get(&format!("/plans/{}/summary", d.plan), &d.coordinator)
        .await;
    let answered: Vec<&Value> = summary.body["rows"][0]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["unit_id"])
        .collect();
    assert_eq!(answered, vec![&json!(unit_c)], "{}", summary.raw);

    // The office's timeline names both holders: B's sending, the move, C's sending.
    let r = d
        .app
        .get(&format!("/assignments/{b}/timeline"), &d.coordinator)
        .await;
    let items = r.body["items"].as_array().unwrap().clone();
    let moved = items
        .iter()
        .find(|e| e["kind"] == "holder_changed")
        .unwrap();
    assert_eq!(moved["detail"]["to_unit_id"], unit_c);
    let senders: Vec<&Value> = items
        .iter()
        .filter(|e| e["kind"] == "submitted")
        .map(|e| &e["unit_id"])
        .collect();
    assert_eq!(senders, vec![&json!(d.unit_b), &json!(unit_c)]);
    assert_eq!(items[0]["kind"], "assigned");
    assert_eq!(items[0]["unit_id"], d.unit_b, "first held by B");
    let receipt = items.iter().find(|e| e["kind"] == "received").unwrap();
    assert_eq!(receipt["unit_id"], d.unit_b, "B's signature is kept");
}

#[actix_rt::test]
async fn a_withdrawal_ends_an_unreported_assignment_and_keeps_a_reported_one() {
    let d = desk("yearly", "2099-06-30").await;
    let b = participant_assignment(&d).await;
    assert!(overdue_ids(&d, "2099-07-10").await.contains(&b));
    let id = dispute(&d, &d.manager_b, b, "not_ours").await.body["id"]
        .as_i64()
        .unwrap();
    let ok = resolve(&d, id, json!({"outcome": "withdraw"})).await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    assert_eq!(ok.body["outcome"], "withdraw");
    assert_eq!(
        ok.body["assignment_id"],
        Value::Null,
        "the assignment ended"
    );
    assert_eq!(
        ok.body["measure_id"], d.measure,
        "the record names what it was"
    );
    d.app
        .get(&format!("/assignments/{b}"), &d.coordinator)
        .await
        .assert_problem(404, "not-found");
    assert!(!overdue_ids(&d, "2099-07-10").await.contains(&b));
    // B still reads its dispute and how it ended.
    let own = d.app.get(&format!("/disputes/{id}"), &d.manager_b).await;
    assert_eq!(own.body["state"], "resolved", "{}", own.raw);

    // A lead unit that reported is kept: nothing is lost, the dispute stays pending.
    let a = d
        .app
        .get(
            &format!("/assignments?measure_id={}", d.measure),
            &d.manager_a,
        )
        .await
        .body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let rep = d
        .app
        .post(
            &format!("/assignments/{a}/reports"),
            &d.manager_a,
            json!({"status": "in_progress", "narrative": "已起草。"}),
        )
        .await;
    assert_eq!(rep.status, 201, "{}", rep.raw);
    let id = dispute(&d, &d.manager_a, a, "not_ours").await.body["id"]
        .as_i64()
        .unwrap();
    resolve(&d, id, json!({"outcome": "withdraw"}))
        .await
        .assert_problem(409, "conflict");
    let still = d.app.get(&format!("/disputes/{id}"), &d.coordinator).await;
    assert_eq!(still.body["state"], "pending", "{}", still.raw);
    assert_eq!(still.body["assignment_id"], a);
}

#[actix_rt::test]
async fn a_rejected_dispute_keeps_the_assignment_and_gives_the_reason() {
    let d = desk("yearly", "2099-06-30").await;
    let b = participant_assignment(&d).await;
    let id = dispute(&d, &d.manager_b, b, "not_ours").await.body["id"]
        .as_i64()
        .unwrap();
    let r = resolve(&d, id, json!({"outcome": "reject"})).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["reason"]);
    let r = resolve(&d, id, json!({"outcome": "change_role"})).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["role"], "not_ours asks for no role");
    let r = resolve(
        &d,
        id,
        json!({"outcome": "reject", "reason": "x", "unit_id": d.unit_a}),
    )
    .await;
    assert_eq!(r.fields(), vec!["unit_id"], "{}", r.raw);
    let r = resolve(&d, id, json!({"outcome": "dismiss", "reason": "x"})).await;
    assert!(matches!(r.status, 400 | 422), "{}", r.raw);
    // Bad input names its field on both backends: a NUL, an id past any unit, a wrong type,
    // a reason past its limit; the dispute stays pending through all of them.
    let r = resolve(
        &d,
        id,
        json!({"outcome": "reject", "reason": "职责\u{0}清单"}),
    )
    .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["reason"]);
    let r = resolve(&d, id, json!({"outcome": "move", "unit_id": i64::MAX})).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["unit_id"]);
    let r = resolve(&d, id, json!({"outcome": "move", "unit_id": "市公安局"})).await;
    assert!(matches!(r.status, 400 | 422), "{}", r.raw);
    assert_eq!(r.fields(), vec!["unit_id"], "{}", r.raw);
    let long = "理".repeat(2001);
    let r = resolve(&d, id, json!({"outcome": "reject", "reason": long})).await;
    assert_eq!(r.fields(), vec!["reason"], "{}", r.raw);
    let r = dispute(&d, &d.manager_b, b, "not_ours").await;
    r.assert_problem(409, "conflict");

    let ok = resolve(
        &d,
        id,
        json!({"outcome": "reject", "reason": "职责清单明确由该单位承担。"}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    assert_eq!(ok.body["resolution_note"], "职责清单明确由该单位承担。");
    let asg = d.app.get(&format!("/assignments/{b}"), &d.manager_b).await;
    assert_eq!(
        (&asg.body["unit_id"], &asg.body["role"]),
        (&json!(d.unit_b), &json!("participant"))
    );
    // A new dispute may follow a resolved one; the history lists both, newest first.
    let next = dispute(&d, &d.manager_b, b, "should_lead").await;
    assert_eq!(next.status, 201, "{}", next.raw);
    let history = d
        .app
        .get(&format!("/disputes?assignment_id={b}"), &d.coordinator)
        .await;
    assert_eq!(ids(&history), vec![next.body["id"].as_i64().unwrap(), id]);

    // Once the plan is closed the assignment no longer changes; a rejection is still recorded,
    // and no new dispute is raised.
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
    resolve(&d, next_id, json!({"outcome": "change_role"}))
        .await
        .assert_problem(409, "conflict");
    let rejected = resolve(
        &d,
        next_id,
        json!({"outcome": "reject", "reason": "计划已关闭。"}),
    )
    .await;
    assert_eq!(rejected.status, 200, "{}", rejected.raw);
    dispute(&d, &d.manager_b, b, "not_ours")
        .await
        .assert_problem(409, "conflict");
}

#[actix_rt::test]
async fn a_retried_dispute_with_the_same_key_is_answered_once() {
    let d = desk("yearly", "2099-06-30").await;
    let b = participant_assignment(&d).await;
    let send = || async {
        let res = d
            .app
            .client
            .post(d.app.url(&format!("/assignments/{b}/disputes")))
            .insert_header(("Authorization", format!("Bearer {}", d.manager_b)))
            .insert_header(("Idempotency-Key", "dispute-once"))
            .send_json(&json!({"kind": "not_ours", "reason": "非本单位职责。"}))
            .await
            .expect("sent");
        read(res).await
    };
    let first = send().await;
    assert_eq!(first.status, 201, "{}", first.raw);
    let second = send().await;
    assert_eq!(second.body, first.body);
    assert_eq!(
        second.header("idempotency-replayed").as_deref(),
        Some("true")
    );
    let all = d.app.get("/disputes", &d.coordinator).await;
    assert_eq!(ids(&all).len(), 1);
    // The office does not dispute on a unit's behalf.
    dispute(&d, &d.coordinator, b, "not_ours")
        .await
        .assert_problem(403, "forbidden");
}

#[actix_rt::test]
async fn the_demo_carries_a_rejected_dispute_and_one_that_made_a_unit_lead() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let all = app.get("/disputes", &admin).await;
    assert_eq!(all.status, 200, "{}", all.raw);
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", all.raw);
    assert!(items.iter().all(|d| d["state"] == "resolved"));
    let rejected = items.iter().find(|d| d["outcome"] == "reject").unwrap();
    assert_eq!(rejected["kind"], "not_ours");
    assert!(rejected["resolution_note"].is_string());
    let upheld = items
        .iter()
        .find(|d| d["outcome"] == "change_role")
        .unwrap();
    assert_eq!(upheld["kind"], "should_lead");
    let a = upheld["assignment_id"].as_i64().unwrap();
    let asg = app.get(&format!("/assignments/{a}"), &admin).await;
    assert_eq!(asg.body["role"], "lead", "{}", asg.raw);
    assert!(upheld["resolved_at"]
        .as_str()
        .unwrap()
        .starts_with("2019-04"));
}
