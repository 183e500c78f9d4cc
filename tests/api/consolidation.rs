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
