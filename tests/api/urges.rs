//! Urges both ways (the office issues, the unit acknowledges and replies), automatic reminders
//! sent once per assignment, kind and period even with several workers, and housekeeping.

use crate::desk::{all_pages, assignment_of, desk};
use crate::fixtures::World;
use crate::helpers::*;
use duban::jobs::reminders::Schedule;
use serde_json::json;

/// Reminders a week before the due date; no reminders to sign (tested on their own).
const SCHEDULE: Schedule = Schedule {
    days_before: 7,
    receipt_after: 0,
};

#[actix_rt::test]
async fn an_urge_is_acknowledged_and_answered_by_its_unit_only() {
    let d = desk("yearly", "2099-06-30").await;
    let a = assignment_of(&d, &d.manager_a).await;
    let r = d.app.post("/urges", &d.coordinator, json!({"unit_id": d.unit_a, "assignment_ids": [a], "severity": "supervise", "message": "请立即报送。", "reply_by": "2099-07-20"})).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["automatic"], false);
    let wrong = d.app.post("/urges", &d.coordinator, json!({"unit_id": d.unit_a + 1, "assignment_ids": [a], "severity": "urge", "message": "x"})).await;
    wrong.assert_problem(422, "validation");
    assert_eq!(wrong.fields(), vec!["assignment_ids[0]"]);
    d.app
        .post(
            "/urges",
            &d.manager_a,
            json!({"unit_id": d.unit_a, "assignment_ids": [a], "severity": "urge", "message": "x"}),
        )
        .await
        .assert_problem(403, "forbidden");

    let inbox = d.app.get("/inbox?as_of=2099-07-10", &d.manager_a).await;
    assert_eq!(inbox.status, 200, "{}", inbox.raw);
    assert_eq!(inbox.body["open_urges"][0]["id"], id);
    assert_eq!(inbox.body["overdue"][0]["assignment_id"], a);
    assert_eq!(inbox.body["overdue"][0]["urges_sent"], 1);
    // Another unit neither sees nor answers it; the office cannot answer for the unit.
    d.app
        .get(&format!("/urges/{id}"), &d.manager_b)
        .await
        .assert_problem(404, "not-found");
    d.app
        .post(
            &format!("/urges/{id}/reply"),
            &d.manager_b,
            json!({"reply": "不是我们"}),
        )
        .await
        .assert_problem(404, "not-found");
    d.app
        .post(
            &format!("/urges/{id}/reply"),
            &d.coordinator,
            json!({"reply": "代答"}),
        )
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        d.app.get("/urges", &d.manager_b).await.body["items"],
        json!([])
    );
    d.app
        .get(&format!("/inbox?unit={}", d.unit_a), &d.manager_b)
        .await
        .assert_problem(403, "forbidden");

    let ack = d
        .app
        .post(&format!("/urges/{id}/acknowledge"), &d.manager_a, json!({}))
        .await;
    assert!(ack.body["acknowledged_at"].is_string());
    let rep = d
        .app
        .post(
            &format!("/urges/{id}/reply"),
            &d.manager_a,
            json!({"reply": "已于今日报送。"}),
        )
        .await;
    assert_eq!(rep.body["reply"], "已于今日报送。");
    let history = d
        .app
        .get(&format!("/urges?assignment_id={a}"), &d.coordinator)
        .await;
    assert_eq!(history.body["items"].as_array().unwrap().len(), 1);
    assert!(history.body["items"][0]["replied_at"].is_string());
    assert_eq!(
        d.app
            .get("/inbox?as_of=2099-07-10", &d.manager_a)
            .await
            .body["open_urges"],
        json!([])
    );
    let log = d
        .app
        .get(
            &format!("/audit?entity_type=urge&entity_id={id}"),
            &d.coordinator,
        )
        .await;
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["urge.reply", "urge.acknowledge", "urge.issue"]
    );
}

#[actix_rt::test]
async fn reminders_go_out_once_per_assignment_and_period_even_with_two_workers() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut units = Vec::new();
    for i in 0..30 {
        units.push(app.unit(&format!("测试区{i}政府")).await);
    }
    let group = app
        .post(
            "/groups",
            &admin,
            json!({"name": "测试区县", "members": units}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let plan = app
        .post("/plans", &admin, json!({"title": "提醒测试", "year": 2030}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let s = app
        .post(
            &format!("/plans/{plan}/items"),
            &admin,
            json!({"level": "section", "number": "一", "title": "板块"}),
        )
        .await;
    let t = app
        .post(
            &format!("/plans/{plan}/items"),
            &admin,
            json!({"level": "task", "parent_id": s.body["id"], "number": "1", "title": "任务。"}),
        )
        .await;
    for n in 1..=5 {
        let m = app.post(&format!("/plans/{plan}/items"), &admin, json!({"level": "measure", "parent_id": t.body["id"], "number": n.to_string(), "title": format!("措施{n}。")})).await;
        let r = app
            .post(
                &format!("/measures/{}/assignments", m.body["id"]),
                &admin,
                json!({"participants": {"group_ids": [group]}, "due_date": "2030-06-30"}),
            )
            .await;
        assert_eq!(r.body["created"].as_array().unwrap().len(), 30);
    }
    app.post(&format!("/plans/{plan}/publish"), &admin, json!({}))
        .await;
    let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();

    // Long before the due date: nothing.
    let db = app.state.db.clone();
    let quiet = duban::jobs::reminders::run_once(&db, day("2030-05-01"), SCHEDULE).unwrap();
    assert_eq!(quiet, Default::default());

    // Two workers at once, five days before the due date.
    let run_two = |today: chrono::NaiveDate| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let db = app.state.db.clone();
                std::thread::spawn(move || {
                    duban::jobs::reminders::run_once(&db, today, SCHEDULE).unwrap()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    };
    let passes = run_two(day("2030-06-25"));
    assert_eq!(
        passes.iter().map(|p| p.reminded).sum::<usize>(),
        150,
        "{passes:?}"
    );
    assert_eq!(passes.iter().map(|p| p.urged).sum::<usize>(), 0);
    // Again the same day, and the next day: nothing new.
    assert_eq!(
        run_two(day("2030-06-25"))
            .iter()
            .map(|p| p.reminded)
            .sum::<usize>(),
        0
    );
    assert_eq!(
        duban::jobs::reminders::run_once(&db, day("2030-06-26"), SCHEDULE)
            .unwrap()
            .reminded,
        0
    );
    // Past the due date: one urge per assignment, once.
    let after = run_two(day("2030-07-05"));
    assert_eq!(
        after.iter().map(|p| p.urged).sum::<usize>(),
        150,
        "{after:?}"
    );
    assert_eq!(
        run_two(day("2030-07-06"))
            .iter()
            .map(|p| p.urged)
            .sum::<usize>(),
        0
    );

    // Every assignment was reminded exactly once of each kind, and units see it in their inbox.
    let urges = all_pages(&app, &admin, "/urges").await;
    let mut per_assignment = std::collections::HashMap::new();
    for u in &urges {
        assert_eq!(u["automatic"], true);
        for a in u["assignment_ids"].as_array().unwrap() {
            *per_assignment
                .entry((
                    a.as_i64().unwrap(),
                    u["severity"].as_str().unwrap().to_owned(),
                ))
                .or_insert(0) += 1;
        }
    }
    assert_eq!(per_assignment.len(), 300);
    assert!(per_assignment.values().all(|n| *n == 1));
    let reminders = urges.iter().filter(|u| u["severity"] == "reminder").count();
    assert!(
        (30..=60).contains(&reminders),
        "one reminder per unit and worker batch, got {reminders}"
    );
}

#[actix_rt::test]
async fn housekeeping_removes_only_what_has_expired() {
    let app = spawn_app().await;
    app.login_reply(ADMIN, "a wrong password guess").await;
    app.admin().await;
    let purged = duban::jobs::maintenance::run_once(&app.state.db).unwrap();
    assert_eq!(purged, Default::default(), "nothing is old enough yet");
    // An old expired token and an old idempotency answer go.
    let old = chrono::NaiveDate::from_ymd_opt(2020, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    app.state
        .db
        .write(move |c| {
            let admin = duban::store::users::find_by_username(c, ADMIN)?.unwrap().id;
            duban::store::sessions::insert(c, admin, "old-family", "old-hash", old, old)?;
            duban::store::idempotency::remember(c, admin, "old-key", "h", 201, "{}", old)?;
            Ok(())
        })
        .await
        .unwrap();
    let purged = duban::jobs::maintenance::run_once(&app.state.db).unwrap();
    assert_eq!((purged.refresh_tokens, purged.idempotency_keys), (1, 1));
    // The sessions still work.
    let r = app.login_reply(ADMIN, ADMIN_PASSWORD).await;
    let again = app
        .send(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": r.body["refresh_token"]})),
        )
        .await;
    assert_eq!(again.status, 200);
}

#[actix_rt::test]
async fn automatic_urges_follow_the_standing_once_per_missing_period() {
    let d = desk("monthly", "2099-12-31").await;
    let a = assignment_of(&d, &d.manager_a).await;
    let db = d.app.state.db.clone();
    let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    // Long before the due date, the month the assignments (A's and B's) were made in has no
    // report: both are late.
    // (Reminders go out on working days only: Monday 2 June 2098.)
    let first = duban::jobs::reminders::run_once(&db, day("2098-06-02"), SCHEDULE).unwrap();
    assert_eq!(first.urged, 2, "{first:?}");
    // Once per assignment and period: the same lapse is not urged again.
    let again = duban::jobs::reminders::run_once(&db, day("2098-06-03"), SCHEDULE).unwrap();
    assert_eq!(again.urged, 0, "{again:?}");
    assert_eq!(automatic_urges(&d.app, &d.coordinator).await, 2);
    // A report for May covers the months before it; June's lapse is a new period.
    let r = d
        .app
        .post(
            &format!("/assignments/{a}/reports"),
            &d.manager_a,
            json!({"period": "2098-05", "status": "in_progress", "narrative": "五月推进。"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let sent = d
        .app
        .post(
            &format!("/reports/{}/submit", r.body["id"]),
            &d.manager_a,
            json!({}),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.raw);
    let quiet = duban::jobs::reminders::run_once(&db, day("2098-06-16"), SCHEDULE).unwrap();
    assert_eq!(quiet.urged, 0, "{quiet:?}");
    // June lapses for A; B's lapse is the one it was already urged about.
    let june = duban::jobs::reminders::run_once(&db, day("2098-07-03"), SCHEDULE).unwrap();
    assert_eq!(june.urged, 1, "{june:?}");
    assert_eq!(automatic_urges(&d.app, &d.coordinator).await, 3);
}

async fn automatic_urges(app: &TestApp, token: &str) -> usize {
    app.get("/urges?limit=200", token).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["severity"] == "urge" && u["automatic"] == true)
        .count()
}

#[actix_rt::test]
async fn a_unit_that_has_not_signed_is_reminded_once_some_days_after_publication() {
    let d = desk("yearly", "2099-12-31").await;
    let a = assignment_of(&d, &d.manager_a).await;
    let signed = d
        .app
        .post(
            &format!("/assignments/{a}/receipt"),
            &d.manager_a,
            json!({}),
        )
        .await;
    assert_eq!(signed.status, 200, "{}", signed.raw);
    let db = d.app.state.db.clone();
    let today = chrono::Utc::now().date_naive();
    // The n-th working day after today, on the calendar.
    let working_day = |n: u32| {
        let (app, token) = (&d.app, d.coordinator.clone());
        async move {
            let r = app
                .get(
                    &format!("/calendar/working-days?from={today}&days={n}"),
                    &token,
                )
                .await;
            r.body["date"]
                .as_str()
                .unwrap()
                .parse::<chrono::NaiveDate>()
                .unwrap()
        }
    };
    let schedule = Schedule {
        days_before: 7,
        receipt_after: 3,
    };
    // Two working days after publication it is early; on the third, B (which has not signed)
    // is reminded, A (which has) is not; never twice.
    let early = duban::jobs::reminders::run_once(&db, working_day(2).await, schedule).unwrap();
    assert_eq!(early.reminded_to_sign, 0, "{early:?}");
    let due = duban::jobs::reminders::run_once(&db, working_day(3).await, schedule).unwrap();
    assert_eq!(due.reminded_to_sign, 1, "{due:?}");
    let again = duban::jobs::reminders::run_once(&db, working_day(4).await, schedule).unwrap();
    assert_eq!(again.reminded_to_sign, 0, "{again:?}");
    let b = d.app.get("/urges", &d.manager_b).await;
    let items = b.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", b.raw);
    assert_eq!(
        (&items[0]["severity"], &items[0]["automatic"]),
        (&json!("reminder"), &json!(true))
    );
    assert!(items[0]["message"].as_str().unwrap().contains("签收"));
    let mine = d.app.get("/urges", &d.manager_a).await;
    assert_eq!(mine.body["items"], json!([]), "{}", mine.raw);
    // Moved to another unit on a dispute, the assignment is the new holder's to sign for: it is
    // reminded in its turn, counted from the move.
    let b_asg = items[0]["assignment_ids"][0].as_i64().unwrap();
    let raised = d
        .app
        .post(
            &format!("/assignments/{b_asg}/disputes"),
            &d.manager_b,
            json!({"kind": "not_ours", "reason": "非本单位职责。"}),
        )
        .await;
    assert_eq!(raised.status, 201, "{}", raised.raw);
    let unit_c = d.app.unit("市公安局").await;
    let moved = d
        .app
        .post(
            &format!("/disputes/{}/resolve", raised.body["id"]),
            &d.coordinator,
            json!({"outcome": "move", "unit_id": unit_c}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.raw);
    let early = duban::jobs::reminders::run_once(&db, working_day(2).await, schedule).unwrap();
    assert_eq!(early.reminded_to_sign, 0, "{early:?}");
    let due = duban::jobs::reminders::run_once(&db, working_day(3).await, schedule).unwrap();
    assert_eq!(due.reminded_to_sign, 1, "{due:?}");

    // Turned off, nobody is reminded to sign.
    let off = duban::jobs::reminders::run_once(&db, working_day(10).await, SCHEDULE).unwrap();
    assert_eq!(off.reminded_to_sign, 0);
}

#[actix_rt::test]
async fn a_closed_plan_gets_no_automatic_reminder_urge_or_reminder_to_sign() {
    let w = World::builder().build().await;
    let db = w.app.state.db.clone();
    let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let closed = w
        .app
        .post(&format!("/plans/{}/close", w.plan), w.coord(), json!({}))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.raw);
    // The world's assignments fall due on 2099-12-31 and none is signed for: before, on and
    // long after the due date, nothing goes out.
    for today in ["2099-12-28", "2100-01-05", "2100-03-01"] {
        let pass = duban::jobs::reminders::run_once(&db, day(today), SCHEDULE).unwrap();
        assert_eq!(pass.urges_issued, 0, "{today}: {pass:?}");
        assert_eq!(
            (pass.reminded, pass.urged, pass.reminded_to_sign),
            (0, 0, 0)
        );
    }
    let urges = w.app.get("/urges", w.coord()).await;
    assert_eq!(urges.body["items"], json!([]));
}

#[actix_rt::test]
async fn urges_sent_at_once_about_one_assignment_are_all_issued_and_counted() {
    let w = World::builder().build().await;
    let assignment = w.a.assignment();
    const N: usize = 8;
    let sent = futures_util::future::join_all((0..N).map(|i| {
        w.app.post(
            "/urges",
            w.coord(),
            json!({"unit_id": w.a.id, "assignment_ids": [assignment], "severity": "urge",
                   "message": format!("第{i}次催办。")}),
        )
    }))
    .await;
    for r in &sent {
        assert_eq!(r.status, 201, "{}", r.raw);
    }
    // One current standing, counting every urge.
    let mut c = w.app.state.db.get().unwrap();
    let id = duban::domain::ids::AssignmentId(assignment);
    let today = duban::store::now().date();
    let standing = duban::store::standing::as_of(&mut c, &[id], today).unwrap();
    assert_eq!(standing[&id].urges, N as i32);
}
