//! Consolidation by the lead unit (牵头单位汇总): the reports on a measure, read within the one
//! visibility policy — the lead unit sees its participants' sent reports (never a draft or an
//! unsent edit), a participant only its own, the office every sent report.

use crate::fixtures::*;

#[actix_rt::test]
async fn the_lead_unit_reads_its_participants_sent_reports_on_the_measure() {
    let w = World::builder().with_reports().build().await;
    let rep = w.reports.clone().unwrap();
    let path = format!("/measures/{}/reports", w.measure);
    let read = |token: String| {
        let app = &w.app;
        let path = path.clone();
        async move {
            let r = app.get(&path, &token).await;
            assert_eq!(r.status, 200, "{}", r.raw);
            r
        }
    };
    let own = read(w.a.manager.token.clone()).await;
    let lead = read(w.l.manager.token.clone()).await;
    let office = read(w.coordinator.token.clone()).await;
    let other = read(w.b.manager.token.clone()).await;

    // A sees every report of its own, the draft and the edit it has not sent included.
    let mine = ids(&own);
    for id in [
        rep.draft,
        rep.submitted,
        rep.returned_edited,
        rep.resubmitted,
        rep.accepted,
    ] {
        assert!(mine.contains(&id), "A's own report {id}");
    }
    // The lead unit reads what A sent, as the office does; never the draft.
    let led = ids(&lead);
    assert!(!led.contains(&rep.draft));
    for id in [
        rep.submitted,
        rep.returned_edited,
        rep.resubmitted,
        rep.accepted,
    ] {
        assert!(led.contains(&id), "A's sent report {id} for the lead unit");
    }
    assert_eq!(led, ids(&office));
    // B, a participant, reads none of A's.
    assert!(ids(&other).iter().all(|id| !mine.contains(id)));
    for r in [&lead, &office, &other] {
        assert!(!r.raw.contains(DRAFT_MARKER), "{}", r.raw);
        assert!(!r.raw.contains(UNSENT_EDIT_MARKER), "{}", r.raw);
    }
    // Each answer names its unit, so the lead can set them side by side.
    let units: Vec<i64> = lead.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit_id"].as_i64().unwrap())
        .collect();
    assert!(units
        .iter()
        .all(|u| *u == w.a.id || *u == w.l.id || *u == w.b.id));

    // A measure that does not exist, or a section, is not found.
    w.app
        .get("/measures/999999/reports", w.coord())
        .await
        .assert_problem(404, "not-found");
    w.app
        .get(&format!("/measures/{}/reports", w.section), w.coord())
        .await
        .assert_problem(404, "not-found");
}

#[actix_rt::test]
async fn the_consolidated_summary_sets_the_lead_units_answer_beside_its_participants() {
    let w = World::builder().with_reports().build().await;
    let (app, c) = (&w.app, w.coord());
    // The lead unit L sends its consolidated report; B sends its own part.
    for (people, text) in [
        (&w.l, "牵头单位汇总：各单位均已落实。"),
        (&w.b, "民政局已完成。"),
    ] {
        let r = app
            .create_report(
                &people.manager.token,
                people.assignment(),
                &NewReport::in_progress(text).period("2099"),
            )
            .await;
        app.submit_report(&people.manager.token, r.id).await;
    }
    let s = app.get(&format!("/plans/{}/summary", w.plan), c).await;
    assert_eq!(s.status, 200, "{}", s.raw);
    assert_eq!(s.body["unit_id"], serde_json::Value::Null);
    let row = &s.body["rows"][0];
    let lead = row["lead_answers"].as_array().unwrap();
    assert_eq!(lead.len(), 1, "{row}");
    assert_eq!(lead[0]["unit_id"], w.l.id);
    assert_eq!(lead[0]["text"], "牵头单位汇总：各单位均已落实。");
    assert_eq!(lead[0]["status"], "in_progress");
    assert_eq!(lead[0]["period"], "2099");
    let participants = row["participants"].as_array().unwrap();
    let units: Vec<i64> = participants
        .iter()
        .map(|a| a["unit_id"].as_i64().unwrap())
        .collect();
    assert!(units.contains(&w.a.id) && units.contains(&w.b.id), "{row}");
    assert!(!units.contains(&w.l.id));
    // Only what was sent: never A's draft or its unsent edit.
    assert!(!s.raw.contains(DRAFT_MARKER) && !s.raw.contains(UNSENT_EDIT_MARKER));
    // /stats/units counts, per lead unit, the participants' answers in on its measures.
    let plan = format!("?plan={}", w.plan);
    let l = crate::desk::stats_line(app, c, &plan, w.l.id).await;
    assert_eq!(
        (&l["participant_assignments"], &l["participant_answers"]),
        (&serde_json::json!(2), &serde_json::json!(2)),
        "{l}"
    );
    let a = crate::desk::stats_line(app, c, &plan, w.a.id).await;
    assert_eq!(a["participant_assignments"], 0);
    // A unit's own view has no consolidation.
    let own = app
        .get(&format!("/plans/{}/summary", w.plan), &w.a.manager.token)
        .await;
    assert_eq!(own.body["rows"][0]["participants"], serde_json::json!([]));

    // The XLSX of the consolidated view carries the answers side by side on a second sheet,
    // the lead unit's first.
    let xlsx = crate::documents::download(
        app,
        &format!("/plans/{}/summary", w.plan),
        c,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    .await;
    assert_eq!(xlsx.status, 200);
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(&xlsx.body)).unwrap();
    assert_eq!(
        wb.sheet_names(),
        vec!["完成情况汇总".to_owned(), "牵头单位汇总".to_owned()]
    );
    let sheet = wb.worksheet_range("牵头单位汇总").unwrap();
    let cells: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(
        cells[1],
        vec![
            "具体措施",
            "单位",
            "期别",
            "角色",
            "状态",
            "工作措施及完成情况",
            "佐证材料"
        ]
    );
    assert_eq!(cells[2][2], "2099");
    assert_eq!(cells[2][3], "牵头单位");
    assert_eq!(cells[2][5], "牵头单位汇总：各单位均已落实。");
    assert!(cells[3..].iter().all(|r| r[3] == "参加单位"));
    assert_eq!(cells.len() - 2, 1 + participants.len());
    // The first sheet still reads back as the table.
    let rows = duban::documents::xlsx::read_summary(&xlsx.body).unwrap();
    assert_eq!(rows.len(), 1);
}
