//! What leaves a unit and what every view agrees on: others read only what a unit sent, the
//! audit trail keeps no draft text, every view reads one standing, and `as_of` is a point in
//! time.

use crate::fixtures::World;
use crate::helpers::*;
use duban::store::desk;
use serde_json::{json, Value};

/// The world's lead unit L leads the measure; A takes part.
struct Fixture {
    app: TestApp,
    coordinator: String,
    viewer: String,
    manager_a: String,
    manager_b: String,
    unit_a: i64,
    unit_b: i64,
    plan: i64,
    lead_assignment: i64,
    participant_assignment: i64,
}

async fn fixture() -> Fixture {
    let w = World::builder().without_b().build().await;
    Fixture {
        coordinator: w.coord().to_owned(),
        viewer: w.viewer.token.clone(),
        manager_a: w.l.manager.token.clone(),
        manager_b: w.a.manager.token.clone(),
        unit_a: w.l.id,
        unit_b: w.a.id,
        plan: w.plan,
        lead_assignment: w.l.assignment(),
        participant_assignment: w.a.assignment(),
        app: w.app,
    }
}

const SENT: &str = "已完成下放审批权的调研。";
const UNSENT: &str = "UNSENT-MARKER 尚未报送的修改";

async fn draft(f: &Fixture, assignment: i64, token: &str, body: Value) -> i64 {
    let r = f
        .app
        .post(&format!("/assignments/{assignment}/reports"), token, body)
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    r.body["id"].as_i64().unwrap()
}

async fn act(f: &Fixture, report: i64, action: &str, token: &str, body: Value) -> Reply {
    let r = f
        .app
        .post(&format!("/reports/{report}/{action}"), token, body)
        .await;
    assert_eq!(r.status, 200, "{action}: {}", r.raw);
    r
}

async fn edit(f: &Fixture, report: i64, token: &str, body: Value) -> Reply {
    let current = f.app.get(&format!("/reports/{report}"), token).await;
    let etag = current.header("etag").unwrap();
    let r = f
        .app
        .send_with(
            "PATCH",
            &format!("/reports/{report}"),
            token,
            &[("If-Match", etag.as_str())],
            Some(body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r
}

async fn csv(f: &Fixture, path: &str, token: &str) -> String {
    let r = f
        .app
        .send_with("GET", path, token, &[("Accept", "text/csv")], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r.raw
}

/// Unit B (a participant) sends a report, the office returns it, and B edits it without
/// sending it again.
async fn returned_and_edited(f: &Fixture) -> i64 {
    let id = draft(
        f,
        f.participant_assignment,
        &f.manager_b,
        json!({"status": "in_progress", "narrative": SENT}),
    )
    .await;
    act(f, id, "submit", &f.manager_b, json!({})).await;
    act(
        f,
        id,
        "return",
        &f.coordinator,
        json!({"reason": "请补充数据。"}),
    )
    .await;
    edit(
        f,
        id,
        &f.manager_b,
        json!({"narrative": UNSENT, "status": "completed", "problems": UNSENT}),
    )
    .await;
    id
}

#[actix_rt::test]
async fn others_read_a_returned_report_as_it_was_sent_not_as_its_unit_is_editing_it() {
    let f = fixture().await;
    let id = returned_and_edited(&f).await;
    // The unit itself sees its edit.
    let own = f.app.get(&format!("/reports/{id}"), &f.manager_b).await;
    assert_eq!(own.body["narrative"], UNSENT);
    // The office, the viewer and the lead unit see the sent revision, in every read.
    for token in [&f.coordinator, &f.viewer, &f.manager_a] {
        let one = f.app.get(&format!("/reports/{id}"), token).await;
        assert_eq!(one.status, 200, "{}", one.raw);
        assert_eq!(one.body["narrative"], SENT, "{}", one.raw);
        assert_eq!(one.body["status"], "in_progress");
        assert_eq!(one.body["workflow"], "returned");
        assert_eq!(one.body["version"], 1);
        let list = f
            .app
            .get(&format!("/reports?plan_id={}", f.plan), token)
            .await;
        assert_eq!(list.status, 200, "{}", list.raw);
        assert!(!list.raw.contains("UNSENT-MARKER"), "{}", list.raw);
        assert!(list.raw.contains(SENT), "{}", list.raw);
        // Filtering by status matches what the reader sees, not the unsent edit.
        let completed = f
            .app
            .get(
                &format!("/reports?plan_id={}&status=completed", f.plan),
                token,
            )
            .await;
        assert_eq!(completed.body["items"], json!([]), "{}", completed.raw);
    }
    // The consolidated summary, as JSON and as CSV, and the unit's answers read by the office.
    for path in [
        format!("/plans/{}/summary", f.plan),
        format!("/plans/{}/summary?unit={}", f.plan, f.unit_b),
    ] {
        let json = f.app.get(&path, &f.coordinator).await;
        assert_eq!(json.status, 200, "{}", json.raw);
        assert!(json.raw.contains(SENT), "{}", json.raw);
        assert!(!json.raw.contains("UNSENT-MARKER"), "{}", json.raw);
        let table = csv(&f, &path, &f.coordinator).await;
        assert!(table.contains(SENT), "{table}");
        assert!(!table.contains("UNSENT-MARKER"), "{table}");
    }
    // The office's view of the unit's inbox.
    let inbox = f
        .app
        .get(&format!("/inbox?unit={}", f.unit_b), &f.coordinator)
        .await;
    assert_eq!(inbox.status, 200, "{}", inbox.raw);
    assert!(!inbox.raw.contains("UNSENT-MARKER"), "{}", inbox.raw);
    assert_eq!(inbox.body["returned_reports"][0]["narrative"], SENT);
}

#[actix_rt::test]
async fn a_draft_never_sent_does_not_exist_for_anyone_but_its_unit() {
    let f = fixture().await;
    let id = draft(
        &f,
        f.participant_assignment,
        &f.manager_b,
        json!({"status": "completed", "narrative": UNSENT}),
    )
    .await;
    for token in [&f.coordinator, &f.viewer, &f.manager_a] {
        f.app
            .get(&format!("/reports/{id}"), token)
            .await
            .assert_problem(404, "not-found");
        let list = f.app.get("/reports", token).await;
        assert!(!list.raw.contains("UNSENT-MARKER"), "{}", list.raw);
        let assignment = f
            .app
            .get(&format!("/assignments/{}", f.participant_assignment), token)
            .await;
        assert_eq!(assignment.status, 200, "{}", assignment.raw);
        assert_eq!(assignment.body["state"], "not_started");
        assert_eq!(assignment.body["latest_report_id"], Value::Null);
    }
    // Its unit sees its draft as its latest report; the state waits for a sent answer.
    let own = f
        .app
        .get(
            &format!("/assignments/{}", f.participant_assignment),
            &f.manager_b,
        )
        .await;
    assert_eq!(own.body["latest_report_id"], id);
    assert_eq!(own.body["state"], "not_started");
}

#[actix_rt::test]
async fn the_audit_trail_keeps_no_report_text() {
    let f = fixture().await;
    let id = returned_and_edited(&f).await;
    let audit = f
        .app
        .get(
            &format!("/audit?entity_type=report&entity_id={id}"),
            &f.coordinator,
        )
        .await;
    assert_eq!(audit.status, 200, "{}", audit.raw);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // Sending, returning and accepting are listed; writing a draft is the unit's own.
    for a in ["report.submit", "report.return"] {
        assert!(actions.contains(&a), "{actions:?}");
    }
    for a in ["report.create", "report.update"] {
        assert!(!actions.contains(&a), "{actions:?}");
    }
    assert!(!audit.raw.contains("UNSENT-MARKER"), "{}", audit.raw);
    assert!(!audit.raw.contains(SENT), "{}", audit.raw);
    // A draft never sent leaves no trace a reader of the trail can see, not even its id.
    let never_sent = draft(
        &f,
        f.lead_assignment,
        &f.manager_a,
        json!({"status": "in_progress", "narrative": UNSENT}),
    )
    .await;
    let trail = f
        .app
        .get(
            &format!("/audit?entity_type=report&entity_id={never_sent}"),
            &f.viewer,
        )
        .await;
    assert_eq!(trail.body["items"], json!([]), "{}", trail.raw);
    // The viewer's read of the whole trail is clean as well.
    let all = f.app.get("/audit?limit=200", &f.viewer).await;
    assert!(!all.raw.contains("UNSENT-MARKER"), "{}", all.raw);
}

#[actix_rt::test]
async fn an_accepted_completion_stays_done_in_every_view_whatever_a_later_draft_says() {
    let f = fixture().await;
    let id = draft(
        &f,
        f.lead_assignment,
        &f.manager_a,
        json!({"status": "completed", "narrative": SENT}),
    )
    .await;
    act(&f, id, "submit", &f.manager_a, json!({})).await;
    act(&f, id, "accept", &f.coordinator, json!({})).await;
    // A newer draft for the next period says "in progress".
    draft(
        &f,
        f.lead_assignment,
        &f.manager_a,
        json!({"period": "2100", "status": "in_progress", "narrative": UNSENT}),
    )
    .await;
    // Then the due date moves into the past.
    let moved = f
        .app
        .post(
            "/assignments/reschedule",
            &f.coordinator,
            json!({"assignment_ids": [f.lead_assignment], "due_date": "2020-06-30"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.raw);
    for token in [&f.coordinator, &f.manager_a] {
        let a = f
            .app
            .get(&format!("/assignments/{}", f.lead_assignment), token)
            .await;
        assert_eq!(a.body["state"], "completed", "{}", a.raw);
    }
    let overdue = f
        .app
        .get(&format!("/overdue?plan={}", f.plan), &f.coordinator)
        .await;
    assert!(overdue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["assignment_id"] != f.lead_assignment));
    let stats = f
        .app
        .get(&format!("/stats/units?plan={}", f.plan), &f.coordinator)
        .await;
    let line = stats.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == f.unit_a)
        .unwrap()
        .clone();
    assert_eq!(line["completed"], 1, "{line}");
    assert_eq!(line["overdue"], 0, "{line}");
    // Done before the new due date moved? No: done on the day it was sent, after 2020-06-30.
    assert_eq!(line["on_time_rate"], 0.0, "{line}");
    let inbox = f.app.get("/inbox", &f.manager_a).await;
    assert_eq!(inbox.body["overdue"], json!([]), "{}", inbox.raw);
    let summary = f
        .app
        .get(
            &format!("/plans/{}/summary?unit={}", f.plan, f.unit_a),
            &f.coordinator,
        )
        .await;
    assert!(summary.raw.contains(SENT), "{}", summary.raw);
}

#[actix_rt::test]
async fn as_of_reads_the_demo_as_it_stood_at_the_end_of_that_day() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let units = app.get("/units?q=重庆市知识产权局", &admin).await;
    let ipo = units.body["items"][0]["id"].as_i64().unwrap();
    let line = |body: &Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == ipo)
            .cloned()
    };
    // Before the plan was published nothing was in force.
    let before = app
        .get("/stats/units?plan=1&as_of=2018-12-31", &admin)
        .await;
    assert_eq!(before.status, 200, "{}", before.raw);
    assert_eq!(before.body["items"], json!([]));
    // The day before the office's answers were sent, nothing was reported.
    let eve = app
        .get("/stats/units?plan=1&as_of=2019-11-25", &admin)
        .await;
    let l = line(&eve.body).unwrap();
    assert_eq!(l["reported"], 0, "{l}");
    assert_eq!(l["completed"], 0, "{l}");
    assert_eq!(l["not_started"], 133, "{l}");
    // The day they were sent, 132 answers count: 52 completed, 80 not applicable; one measure
    // was left unanswered.
    let day = app
        .get("/stats/units?plan=1&as_of=2019-11-26", &admin)
        .await;
    let l = line(&day.body).unwrap();
    assert_eq!(l["reported"], 132, "{l}");
    assert_eq!(l["completed"], 52, "{l}");
    assert_eq!(l["not_applicable"], 80, "{l}");
    assert_eq!(l["not_started"], 1, "{l}");
    // After the due date the one unanswered measure is 10 working days late (1 January 2020 a
    // holiday, two weekends); nothing is later than that.
    let after = app
        .get("/stats/units?plan=1&as_of=2020-01-15", &admin)
        .await;
    let l = line(&after.body).unwrap();
    assert_eq!(l["overdue"], 1, "{l}");
    assert_eq!(l["average_days_late"], 10.0, "{l}");
    assert_eq!(l["on_time_rate"], 0.9925, "{l}");
    // An urge issued today is not counted on a day long past.
    let overdue = app
        .get(
            &format!("/overdue?plan=1&unit={ipo}&as_of=2020-01-15"),
            &admin,
        )
        .await;
    let item = overdue.body["items"][0].clone();
    let assignment = item["assignment_id"].as_i64().unwrap();
    let urge = app
        .post(
            "/urges",
            &admin,
            json!({"unit_id": ipo, "assignment_ids": [assignment], "severity": "urge", "message": "请报送。"}),
        )
        .await;
    assert_eq!(urge.status, 201, "{}", urge.raw);
    let then = app
        .get(
            &format!("/overdue?plan=1&unit={ipo}&as_of=2020-01-15"),
            &admin,
        )
        .await;
    assert_eq!(then.body["items"][0]["urges_sent"], 0, "{}", then.raw);
    // Today the 2019 plan is closed: none of it is overdue any more.
    let now = app
        .get(&format!("/overdue?plan=1&unit={ipo}"), &admin)
        .await;
    assert_eq!(now.body["items"], json!([]), "{}", now.raw);
}

#[actix_rt::test]
async fn every_view_of_the_current_demo_plan_agrees_with_the_unit_statistics() {
    let app = spawn_app_with(&[("DUBAN_DEMO", "true")]).await;
    let admin = app.admin().await;
    let units = app.get("/units?q=重庆市知识产权局", &admin).await;
    let ipo = units.body["items"][0]["id"].as_i64().unwrap();
    let stats = app.get("/stats/units?plan=2", &admin).await;
    let line = stats.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == ipo)
        .unwrap()
        .clone();
    // /assignments: the states of the unit's assignments, counted.
    let assigned = crate::desk::all_pages(
        &app,
        &admin,
        &format!("/assignments?plan_id=2&unit_id={ipo}"),
    )
    .await;
    assert_eq!(assigned.len() as i64, line["assigned"].as_i64().unwrap());
    for state in [
        "not_started",
        "in_progress",
        "completed",
        "not_applicable",
        "overdue",
    ] {
        let n = assigned.iter().filter(|a| a["state"] == state).count() as i64;
        assert_eq!(n, line[state].as_i64().unwrap(), "{state}: {line}");
    }
    // /overdue and the unit's inbox.
    let overdue =
        crate::desk::all_pages(&app, &admin, &format!("/overdue?plan=2&unit={ipo}")).await;
    assert_eq!(overdue.len() as i64, line["overdue"].as_i64().unwrap());
    let inbox = app.get(&format!("/inbox?unit={ipo}"), &admin).await;
    assert_eq!(
        inbox.body["overdue"].as_array().unwrap().len() as i64,
        line["overdue"].as_i64().unwrap()
    );
    // The summary: one answer per reported measure.
    let summary = app
        .get(&format!("/plans/2/summary?unit={ipo}"), &admin)
        .await;
    let answered = summary.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["completion"].as_str().unwrap().is_empty())
        .count() as i64;
    // (a returned report's sent text is still its answer in the table)
    assert_eq!(
        answered,
        line["reported"].as_i64().unwrap() + line["returned"].as_i64().unwrap()
    );
    // The annual report states the same figures.
    let docx = crate::documents::download(
        &app,
        &format!("/plans/2/annual-report?unit={ipo}"),
        &admin,
        crate::documents::DOCX,
    )
    .await;
    assert_eq!(docx.status, 200);
    let text = crate::documents::part(&docx.body, "word/document.xml");
    let figures = format!(
        "本年度我单位承担任务{}项，已报送完成情况{}项，其中已完成{}项、不涉及{}项、正在推进{}项，逾期未完成{}项。",
        line["assigned"], line["reported"], line["completed"], line["not_applicable"], line["in_progress"], line["overdue"]
    );
    assert!(
        text.contains(&figures),
        "{figures} not in the annual report"
    );
}

#[actix_rt::test]
async fn a_source_document_counts_what_was_sent_not_drafts_nor_returned_reports() {
    let f = fixture().await;
    let sources = f.app.get("/sources?q=27号", &f.coordinator).await;
    let source = sources.body["items"][0]["id"].as_i64().unwrap();
    let progress = |body: &Value| {
        let m = &body["measures"][0];
        (
            m["assigned"].as_i64().unwrap(),
            m["reported"].as_i64().unwrap(),
            m["completed"].as_i64().unwrap(),
        )
    };
    let id = draft(
        &f,
        f.participant_assignment,
        &f.manager_b,
        json!({"status": "completed", "narrative": SENT}),
    )
    .await;
    let trace = f
        .app
        .get(&format!("/sources/{source}"), &f.coordinator)
        .await;
    assert_eq!(trace.status, 200, "{}", trace.raw);
    assert_eq!(progress(&trace.body), (2, 0, 0), "{}", trace.raw);
    act(&f, id, "submit", &f.manager_b, json!({})).await;
    let trace = f
        .app
        .get(&format!("/sources/{source}"), &f.coordinator)
        .await;
    assert_eq!(progress(&trace.body), (2, 1, 1), "{}", trace.raw);
    act(
        &f,
        id,
        "return",
        &f.coordinator,
        json!({"reason": "请补充。"}),
    )
    .await;
    let trace = f
        .app
        .get(&format!("/sources/{source}"), &f.coordinator)
        .await;
    assert_eq!(progress(&trace.body), (2, 0, 0), "{}", trace.raw);
}

#[actix_rt::test]
async fn days_outside_the_working_range_are_refused_naming_the_field() {
    let f = fixture().await;
    for path in [
        "/stats/units?as_of=9999-12-31".to_owned(),
        "/overdue?as_of=0000-01-01".to_owned(),
        format!("/inbox?unit={}&as_of=%2B10000-01-01", f.unit_a),
    ] {
        let r = f.app.get(&path, &f.coordinator).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.fields(), vec!["as_of"], "{path}: {}", r.raw);
    }
    let r = f
        .app
        .post(
            "/assignments/reschedule",
            &f.coordinator,
            json!({"assignment_ids": [f.lead_assignment], "due_date": "+10000-01-01"}),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), vec!["due_date"], "{}", r.raw);
    let a = f
        .app
        .get(
            &format!("/assignments/{}", f.lead_assignment),
            &f.coordinator,
        )
        .await;
    assert_eq!(a.body["due_date"], "2099-12-31");
}

/// Today's figures per unit and per plan, counted from the standings themselves and read from
/// their tallies (what `/stats/units` and `/stats/plans` use).
fn figures_both_ways(w: &World) -> [(Vec<desk::StatRow>, Vec<desk::StatRow>); 2] {
    let mut c = w.app.state.db.get().unwrap();
    let today = chrono::Utc::now().date_naive();
    let all = desk::DeskFilter::default();
    [desk::Dimension::Unit, desk::Dimension::Plan].map(|dim| {
        let best = desk::stats(&mut c, dim, today, today, &all, desk::StatSource::Best).unwrap();
        let counted =
            desk::stats(&mut c, dim, today, today, &all, desk::StatSource::Standings).unwrap();
        (best, counted)
    })
}

#[actix_rt::test]
async fn todays_figures_read_from_the_tallies_equal_those_counted_from_the_standings() {
    let w = World::builder().with_reports().build().await;
    let agree = |label: &str| {
        for (best, counted) in figures_both_ways(&w) {
            assert!(!counted.is_empty(), "{label}: figures exist");
            assert_eq!(best, counted, "{label}");
        }
    };
    agree("after drafts, sends, returns and an acceptance");
    // Moving a due date closes one version and starts another.
    let moved = w
        .app
        .patch(
            &format!("/assignments/{}", w.l.assignment()),
            w.coord(),
            json!({"due_date": "2000-01-31"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.raw);
    agree("after a due date moved into the past");
    // B never reported: removing its assignment deletes its standings by cascade.
    let removed = w
        .app
        .send(
            "DELETE",
            &format!("/assignments/{}", w.b.assignment()),
            Some(w.coord()),
            None,
        )
        .await;
    assert!(removed.status < 300, "{}", removed.raw);
    agree("after an assignment was removed");
    let mut c = w.app.state.db.get().unwrap();
    duban::store::standing::compact_tallies(&mut c).unwrap();
    duban::store::standing::compact_tallies(&mut c).unwrap();
    // Folded, a plan's unit has one tally per combination of the facts that a figure
    // combines: a done assignment's due date is not one of them (done counts whatever the
    // day), nor are the facts only ever counted (reported, returned, urged), so a unit's work
    // folds into a few tallies however long its history.
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |c: &mut duban::db::AnyConnection, sql: &str| -> i64 {
        use diesel::RunQueryDsl;
        diesel::sql_query(sql).get_result::<Count>(c).unwrap().n
    };
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) AS n FROM standing_tallies WHERE done AND due_date IS NOT NULL"
        ),
        0
    );
    let combinations = count(
        &mut c,
        "SELECT COUNT(*) AS n FROM (SELECT DISTINCT plan_id, unit_id, phase, \
         CASE WHEN done IS NULL THEN due_date END, deadline, done IS NOT NULL, \
         done_late_days IS NOT NULL \
         FROM assignment_standings WHERE valid_to IS NULL) k",
    );
    assert!(combinations > 0);
    assert_eq!(
        count(&mut c, "SELECT COUNT(*) AS n FROM standing_tallies"),
        combinations
    );
    drop(c);
    agree("after folding the tallies twice");
}

/// A lead unit's participant figures, read from the per-measure tallies and counted from the
/// standings, sorted by unit.
fn participant_figures_both_ways(w: &World) -> (Vec<desk::LeadRow>, Vec<desk::LeadRow>) {
    let mut c = w.app.state.db.get().unwrap();
    let today = chrono::Utc::now().date_naive();
    let mut both = [desk::StatSource::Best, desk::StatSource::Standings]
        .map(|source| desk::participant_answers(&mut c, today, today, None, source).unwrap());
    for rows in &mut both {
        rows.retain(|r| r.participants != 0);
        rows.sort_by_key(|r| r.unit_id);
    }
    let [best, counted] = both;
    (best, counted)
}

#[actix_rt::test]
async fn a_lead_units_participant_figures_from_the_tallies_equal_those_from_the_standings() {
    let w = World::builder().with_reports().build().await;
    let agree = |label: &str| {
        let (best, counted) = participant_figures_both_ways(&w);
        assert_eq!(best, counted, "{label}");
        best
    };
    let first = agree("after drafts, sends, returns and an acceptance");
    // L leads; A (which sent) and B (which did not) participate.
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(
        (first[0].unit_id, first[0].participants, first[0].answered),
        (w.l.id, 2, 1)
    );
    // A becomes a lead unit beside L on a dispute: its answers no longer count as a
    // participant's, and it now counts B as its participant too.
    let raised = w
        .app
        .post(
            &format!("/assignments/{}/disputes", w.a.assignment()),
            &w.a.manager.token,
            json!({"kind": "should_lead", "reason": "本单位主责。"}),
        )
        .await;
    assert_eq!(raised.status, 201, "{}", raised.raw);
    let resolved = w
        .app
        .post(
            &format!("/disputes/{}/resolve", raised.body["id"]),
            w.coord(),
            json!({"outcome": "change_role"}),
        )
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.raw);
    let after = agree("after a role changed");
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.iter().all(|r| (r.participants, r.answered) == (1, 0)));
    // B's assignment is withdrawn: nobody participates any more.
    let removed = w
        .app
        .send(
            "DELETE",
            &format!("/assignments/{}", w.b.assignment()),
            Some(w.coord()),
            None,
        )
        .await;
    assert!(removed.status < 300, "{}", removed.raw);
    assert!(agree("after an assignment was removed").is_empty());
    let mut c = w.app.state.db.get().unwrap();
    duban::store::standing::compact_tallies(&mut c).unwrap();
    drop(c);
    assert!(agree("after folding").is_empty());
}
