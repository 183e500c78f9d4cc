//! The working-day calendar: the State Council's schedules as seeded, the office keeping its
//! days, working-day arithmetic, due dates given in working days, and the desk, the figures
//! and the reminders counting working days.

use crate::fixtures::*;
use crate::helpers::*;
use chrono::NaiveDate;
use duban::jobs::reminders::{run_once, Schedule};
use serde_json::{json, Value};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A new measure of the world's plan assigned to unit A alone, with `how` (due date, cycle).
async fn assigned_to_a(w: &World, number: &str, how: Value) -> Reply {
    let c = w.coord();
    let m = w
        .app
        .create_item(
            c,
            w.plan,
            json!({"level": "measure", "parent_id": w.task, "number": number, "title": format!("按期办理第{number}项。")}),
        )
        .await;
    let mut body = how;
    body["participants"] = json!({"unit_ids": [w.a.id]});
    w.app
        .post(&format!("/measures/{m}/assignments"), c, body)
        .await
}

#[actix_rt::test]
async fn the_state_councils_schedules_are_listed_with_their_notices() {
    let w = World::builder().without_b().build().await;
    let r = w.app.get("/calendar?year=2019", &w.a.reporter.token).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let items = r.body["items"].as_array().unwrap();
    let kind_of = |d: &str| {
        items
            .iter()
            .find(|i| i["date"] == d)
            .map(|i| i["kind"].as_str().unwrap().to_owned())
    };
    for x in 1..=7 {
        assert_eq!(
            kind_of(&format!("2019-10-0{x}")).as_deref(),
            Some("holiday")
        );
    }
    assert_eq!(kind_of("2019-09-29").as_deref(), Some("workday"));
    assert_eq!(kind_of("2019-10-12").as_deref(), Some("workday"));
    assert_eq!(kind_of("2019-10-08"), None, "an ordinary day is not listed");
    let national = items.iter().find(|i| i["date"] == "2019-10-01").unwrap();
    assert_eq!(national["name"], "国庆节");
    assert!(
        national["notice"]
            .as_str()
            .unwrap()
            .contains("国办发明电〔2018〕15号"),
        "{national}"
    );
    // In date order, and every year from 2019 to 2026 is there.
    let dates: Vec<&str> = items.iter().map(|i| i["date"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|p| p[0] < p[1]));
    for year in 2019..=2026 {
        let r = w
            .app
            .get(&format!("/calendar?year={year}"), &w.a.reporter.token)
            .await;
        assert!(
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["name"] == "春节"),
            "{year}: {}",
            r.raw
        );
    }
    let bad = w.app.get("/calendar?year=1969", &w.a.reporter.token).await;
    bad.assert_problem(422, "validation");
    assert_eq!(bad.fields(), vec!["year".to_owned()]);
}

#[actix_rt::test]
async fn working_days_count_as_the_state_council_set_them() {
    let w = World::builder().without_b().build().await;
    let t = &w.a.reporter.token;
    let ask = |q: &'static str| {
        let app = &w.app;
        async move { app.get(&format!("/calendar/working-days?{q}"), t).await }
    };
    // Five working days from Monday 30 September 2019: 8 to 11 October, then Saturday the 12th.
    assert_eq!(
        ask("from=2019-09-30&days=5").await.body,
        json!({"date": "2019-10-12"})
    );
    // From Friday 27 September the first is Sunday the 29th (worked), the third 8 October.
    assert_eq!(
        ask("from=2019-09-27&days=1").await.body,
        json!({"date": "2019-09-29"})
    );
    assert_eq!(
        ask("from=2019-09-27&days=3").await.body,
        json!({"date": "2019-10-08"})
    );
    assert_eq!(
        ask("from=2019-09-27&days=0").await.body,
        json!({"date": "2019-09-27"})
    );
    // 29 and 30 September, then 8 to 12 October.
    assert_eq!(
        ask("from=2019-09-28&to=2019-10-12").await.body,
        json!({"days": 7})
    );
    assert_eq!(
        ask("from=2019-10-12&to=2019-09-28").await.body,
        json!({"days": -7})
    );
    assert_eq!(
        ask("from=2019-09-30&to=2019-10-07").await.body,
        json!({"days": 0})
    );
    // Spring Festival 2020, extended to 2 February.
    assert_eq!(
        ask("from=2020-01-23&days=1").await.body,
        json!({"date": "2020-02-03"})
    );
    for (q, field) in [
        ("from=2019-09-30&days=5&to=2019-10-12", "days"),
        ("from=2019-09-30", "days"),
        ("from=2019-09-30&days=3651", "days"),
        ("from=0000-01-01&days=1", "from"),
    ] {
        let r = ask(q).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.fields(), vec![field.to_owned()], "{q}: {}", r.raw);
    }
    let r = ask("from=someday&days=1").await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["from".to_owned()], "{}", r.raw);
}

#[actix_rt::test]
async fn the_office_keeps_the_calendar_and_units_read_it() {
    let w = World::builder().without_b().build().await;
    let (app, c) = (&w.app, w.coord());
    let added = app
        .post(
            "/calendar",
            c,
            json!({"date": "2031-01-02", "kind": "holiday", "name": "元旦", "notice": "国务院办公厅关于2031年部分节假日安排的通知"}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.raw);
    assert_eq!(
        added.header("Location").as_deref(),
        Some("/api/v1/calendar/2031-01-02")
    );
    let again = app
        .post(
            "/calendar",
            c,
            json!({"date": "2031-01-02", "kind": "holiday", "name": "元旦"}),
        )
        .await;
    again.assert_problem(409, "conflict");
    // Thursday 2 January 2031 is no longer a working day.
    let count = app
        .get(
            "/calendar/working-days?from=2031-01-01&to=2031-01-03",
            &w.a.reporter.token,
        )
        .await;
    assert_eq!(count.body, json!({"days": 1}));
    let changed = app
        .send(
            "PUT",
            "/calendar/2031-01-02",
            Some(c),
            Some(json!({"kind": "workday", "name": "元旦调整"})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.raw);
    assert_eq!(changed.body["kind"], "workday");
    assert_eq!(changed.body["notice"], Value::Null);
    let listed = app.get("/calendar?year=2031", &w.a.reporter.token).await;
    assert_eq!(
        listed.body["items"][0]["name"], "元旦调整",
        "{}",
        listed.raw
    );
    let gone = app
        .send("DELETE", "/calendar/2031-01-02", Some(c), None)
        .await;
    assert_eq!(gone.status, 204, "{}", gone.raw);
    let again = app
        .send("DELETE", "/calendar/2031-01-02", Some(c), None)
        .await;
    again.assert_problem(404, "not-found");
    let unlisted = app
        .send(
            "PUT",
            "/calendar/2031-01-03",
            Some(c),
            Some(json!({"kind": "holiday", "name": "假日"})),
        )
        .await;
    unlisted.assert_problem(404, "not-found");
    // Bad input names its field and changes nothing.
    for (body, field) in [
        (
            json!({"date": "2031-01-06", "kind": "holiday", "name": "  "}),
            "name",
        ),
        (
            json!({"date": "2031-01-06", "kind": "holiday", "name": "假", "notice": "通".repeat(201)}),
            "notice",
        ),
        (
            json!({"date": "0000-01-06", "kind": "holiday", "name": "假"}),
            "date",
        ),
    ] {
        let r = app.post("/calendar", c, body).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.fields(), vec![field.to_owned()], "{}", r.raw);
    }
    let r = app
        .post(
            "/calendar",
            c,
            json!({"date": "2031-01-06", "kind": "day_off", "name": "假"}),
        )
        .await;
    assert!(matches!(r.status, 400 | 422), "{}", r.raw);
    assert!(r.raw.contains("kind"), "{}", r.raw);
    let listed = app.get("/calendar?year=2031", c).await;
    assert_eq!(listed.body["items"], json!([]), "{}", listed.raw);
    // A unit reads the calendar but cannot change it.
    let refused = app
        .post(
            "/calendar",
            &w.a.manager.token,
            json!({"date": "2031-01-06", "kind": "holiday", "name": "假"}),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.raw);
    // Every change is in the audit trail.
    let audit = app
        .get("/audit?entity_type=calendar_day&limit=200", &w.admin)
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions.len(), 3, "add, change, remove: {actions:?}");
}

#[actix_rt::test]
async fn a_due_date_in_working_days_follows_the_calendar() {
    let w = World::builder().without_b().build().await;
    let (app, c) = (&w.app, w.coord());
    let r = assigned_to_a(&w, "2", json!({"due_working_days": 10})).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let a = &r.body["created"][0];
    assert_eq!(a["due_working_days"], 10);
    assert_eq!(a["due_counted_from"], "assignment");
    let id = a["id"].as_i64().unwrap();
    let today = chrono::Utc::now().date_naive();
    let expected = app
        .get(&format!("/calendar/working-days?from={today}&days=10"), c)
        .await;
    assert_eq!(a["due_date"], expected.body["date"], "{}", r.raw);
    // The office declares the first working day after today a holiday: the due date moves one
    // working day later.
    let first = app
        .get(&format!("/calendar/working-days?from={today}&days=1"), c)
        .await
        .body["date"]
        .as_str()
        .unwrap()
        .to_owned();
    let added = app
        .post(
            "/calendar",
            c,
            json!({"date": first, "kind": "holiday", "name": "临时休假"}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.raw);
    let moved = app.get(&format!("/assignments/{id}"), c).await;
    let later = app
        .get(&format!("/calendar/working-days?from={today}&days=10"), c)
        .await;
    assert_eq!(moved.body["due_date"], later.body["date"], "{}", moved.raw);
    assert_ne!(moved.body["due_date"], a["due_date"]);
    let audit = app
        .get(
            &format!("/audit?entity_type=assignment&entity_id={id}&limit=200"),
            &w.admin,
        )
        .await;
    let entry = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "assignment.reschedule" && e["entity_id"] == id)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        entry["after"]["reason"], "calendar changed",
        "{}",
        audit.raw
    );
    // Removing the day moves it back.
    app.send("DELETE", &format!("/calendar/{first}"), Some(c), None)
        .await;
    let back = app.get(&format!("/assignments/{id}"), c).await;
    assert_eq!(back.body["due_date"], a["due_date"]);
    // A date given later replaces the rule.
    let fixed = app
        .patch(
            &format!("/assignments/{id}"),
            c,
            json!({"due_date": "2099-06-30"}),
        )
        .await;
    assert_eq!(fixed.body["due_working_days"], Value::Null, "{}", fixed.raw);
    let again = app
        .patch(
            &format!("/assignments/{id}"),
            c,
            json!({"due_working_days": 5, "due_counted_from": "publication"}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body["due_counted_from"], "publication");
    // Bad rules name their field.
    for (n, (body, field)) in [
        (
            json!({"due_date": "2099-06-30", "due_working_days": 5}),
            "due_working_days",
        ),
        (
            json!({"due_counted_from": "publication"}),
            "due_counted_from",
        ),
        (json!({"due_working_days": 0}), "due_working_days"),
        (json!({"due_working_days": 3651}), "due_working_days"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = assigned_to_a(&w, &format!("{}", n + 3), body.clone()).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.fields(), vec![field.to_owned()], "{body}: {}", r.raw);
        let r = app.patch(&format!("/assignments/{id}"), c, body).await;
        r.assert_problem(422, "validation");
    }
}

#[actix_rt::test]
async fn days_overdue_severity_and_days_late_count_working_days() {
    let w = World::builder().without_b().build().await;
    let (app, c) = (&w.app, w.coord());
    // The office's days for early 2027: New Year's Day and the week after it off, Saturday
    // 9 January worked.
    for (date, kind) in [
        ("2027-01-01", "holiday"),
        ("2027-01-04", "holiday"),
        ("2027-01-05", "holiday"),
        ("2027-01-06", "holiday"),
        ("2027-01-07", "holiday"),
        ("2027-01-08", "holiday"),
        ("2027-01-09", "workday"),
    ] {
        let r = app
            .post(
                "/calendar",
                c,
                json!({"date": date, "kind": kind, "name": "元旦"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
    }
    let r = assigned_to_a(&w, "2", json!({"due_date": "2026-12-31"})).await;
    let id = r.body["created"][0]["id"].as_i64().unwrap();
    let overdue = |as_of: &'static str, severity: &'static str| {
        let q = if severity.is_empty() {
            format!("/overdue?as_of={as_of}&unit={}", w.a.id)
        } else {
            format!("/overdue?as_of={as_of}&unit={}&severity={severity}", w.a.id)
        };
        async move { app.get(&q, c).await }
    };
    let item = |r: &Reply| {
        r.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.raw))
            .iter()
            .find(|i| i["assignment_id"] == id)
            .cloned()
    };
    // Over the days off: overdue, but no working day late yet.
    let off = item(&overdue("2027-01-08", "").await).expect("overdue");
    assert_eq!(
        (off["days_overdue"].clone(), off["severity"].clone()),
        (json!(0), json!("reminder"))
    );
    // The make-up Saturday is the first.
    assert_eq!(
        item(&overdue("2027-01-09", "").await).unwrap()["days_overdue"],
        1
    );
    // 9, 11 to 15 and 18 January: 7, a reminder; the 19th: 8, an urge.
    let mon = item(&overdue("2027-01-18", "reminder").await).expect("a reminder");
    assert_eq!(mon["days_overdue"], 7);
    assert!(item(&overdue("2027-01-18", "urge").await).is_none());
    let tue = item(&overdue("2027-01-19", "urge").await).expect("an urge by then");
    assert_eq!(tue["days_overdue"], 8);
    assert!(item(&overdue("2027-01-19", "reminder").await).is_none());
    // The unit's figures count the same days.
    let stats = app
        .get(&format!("/stats/units?as_of=2027-01-19&plan={}", w.plan), c)
        .await;
    let line = stats.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == w.a.id)
        .cloned()
        .unwrap();
    assert_eq!(line["overdue"], 1, "{line}");
    assert_eq!(line["average_days_late"], 8.0, "{line}");
}

#[actix_rt::test]
async fn reminders_go_out_on_working_days_only() {
    let w = World::builder().without_b().build().await;
    // Due Wednesday 9 October 2019; reminders three working days ahead.
    let r = assigned_to_a(&w, "2", json!({"due_date": "2019-10-09"})).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let schedule = Schedule {
        days_before: 3,
        receipt_after: 0,
    };
    let db = w.app.state.db.clone();
    // Saturday 28 September is a day off: nothing goes out.
    let sat = run_once(&db, day("2019-09-28"), schedule).unwrap();
    assert!(sat.day_off, "{sat:?}");
    assert_eq!(sat.urges_issued, 0);
    // Sunday 29 September is a make-up working day: 30 Sep, 8 Oct, 9 Oct are the next three.
    let sun = run_once(&db, day("2019-09-29"), schedule).unwrap();
    assert!(!sun.day_off);
    assert_eq!(sun.reminded, 1, "{sun:?}");
    // The holiday week: nothing, not even for work that falls late during it.
    for d in 1..=7 {
        let off = run_once(&db, day(&format!("2019-10-0{d}")), schedule).unwrap();
        assert!(off.day_off && off.urges_issued == 0, "{d}: {off:?}");
    }
    // The next working day after it falls due: the urge.
    let late = run_once(&db, day("2019-10-10"), schedule).unwrap();
    assert_eq!(late.urged, 1, "{late:?}");
    let urges = w
        .app
        .get(&format!("/urges?unit_id={}", w.a.id), w.coord())
        .await;
    let automatic: Vec<&Value> = urges.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["automatic"] == true)
        .collect();
    assert_eq!(automatic.len(), 2, "{}", urges.raw);
    // Urges ask for a reply within 7 working days: from Thursday 10 October, the 11th, the
    // 12th (a make-up Saturday), then 14 to 18 October.
    let urge = automatic.iter().find(|u| u["severity"] == "urge").unwrap();
    assert_eq!(urge["reply_by"], "2019-10-18", "{urge}");
}

#[actix_rt::test]
async fn odd_input_to_the_calendar_names_its_field() {
    let w = World::builder().without_b().build().await;
    let (app, c) = (&w.app, w.coord());
    for (body, field) in [
        (
            json!({"date": "2031-01-06", "kind": "holiday", "name": "假\u{0}日"}),
            "name",
        ),
        (
            json!({"date": "2031-01-06", "kind": "holiday", "name": 7}),
            "name",
        ),
        (
            json!({"date": "2031-01-06", "kind": "holiday", "name": "假", "notice": "通\u{0}知"}),
            "notice",
        ),
        (
            json!({"date": 20310106, "kind": "holiday", "name": "假"}),
            "date",
        ),
        (
            json!({"date": "2101-01-01", "kind": "holiday", "name": "假"}),
            "date",
        ),
    ] {
        let r = app.post("/calendar", c, body.clone()).await;
        assert!(matches!(r.status, 400 | 422), "{body}: {}", r.raw);
        assert_eq!(r.fields(), vec![field.to_owned()], "{body}: {}", r.raw);
    }
    for (q, field) in [
        ("/calendar?year=99999999999", "year"),
        ("/calendar?year=2019%00", "year"),
        (
            "/calendar/working-days?from=2019-01-01&days=99999999999",
            "days",
        ),
        ("/calendar/working-days?from=2019-01-01&days=-1", "days"),
        ("/calendar/working-days?from=2019-01-01&to=9999-12-31", "to"),
    ] {
        let r = app.get(q, c).await;
        assert!(matches!(r.status, 400 | 422), "{q}: {}", r.raw);
        assert_eq!(r.fields(), vec![field.to_owned()], "{q}: {}", r.raw);
    }
    let r = assigned_to_a(&w, "2", json!({"due_working_days": "ten"})).await;
    assert!(matches!(r.status, 400 | 422), "{}", r.raw);
    assert_eq!(r.fields(), vec!["due_working_days".to_owned()], "{}", r.raw);
    let r = app
        .send(
            "PUT",
            "/calendar/2019-13-40",
            Some(c),
            Some(json!({"kind": "holiday", "name": "假"})),
        )
        .await;
    // A path that names no day names no resource (the API's rule for every path).
    r.assert_problem(404, "not-found");
}
