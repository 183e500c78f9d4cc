//! `duban bench-data`: a small generated city answers, through the API and the store, exactly as
//! if the API had done the work.

use crate::helpers::*;
use diesel::prelude::*;
use duban::benchdata::{self, Options};
use duban::db::schema::{assignments, reports, urge_assignments};
use duban::db::write_tx;
use duban::domain::assignment::{AssignmentState, Cycle};
use duban::domain::ids::{AssignmentId, ReportId};
use duban::domain::report::{ReportStatus, Workflow};
use duban::domain::standing::{ReportFact, Standing, Terms};
use duban::store;
use std::collections::HashMap;

fn options(now: chrono::NaiveDateTime) -> Options {
    Options {
        reports: 1_000,
        units: 20,
        assignments: 200,
        accounts: 2,
        password: Some(PASSWORD.into()),
        seed: 7,
        now,
        progress: false,
    }
}

#[derive(Default, Debug, PartialEq)]
struct Figures {
    assigned: i64,
    reported: i64,
    not_started: i64,
    in_progress: i64,
    completed: i64,
    not_applicable: i64,
    overdue: i64,
    returned: i64,
    urged: i64,
    unreceived: i64,
}

#[actix_rt::test]
async fn a_generated_city_answers_as_the_api_would_have_left_it() {
    let app = spawn_app().await;
    let now = store::now();
    let today = now.date();
    let mut c = app.state.db.get().unwrap();
    let summary = benchdata::run(&mut c, &options(now)).expect("bench data");
    assert_eq!(summary.counts["reports"], 1_000);
    assert_eq!(
        summary.counts["assignments"],
        200 * (1 + summary.closed_plan_ids.len() as i64)
    );
    assert_eq!(
        summary.counts["assignment_standings"],
        summary.counts["assignments"]
    );
    assert!(summary.counts["report_revisions"] > 0);
    assert!(summary.counts["audit_log"] > summary.counts["reports"]);
    assert_eq!(summary.accounts.len(), 3);

    // Generating again is refused: the database has plans.
    let again = benchdata::run(&mut c, &options(now)).unwrap_err();
    assert!(again.contains("already has"), "{again}");

    // The standing is complete: a second backfill has nothing to do.
    let filled = write_tx(&mut c, store::standing::backfill).unwrap();
    assert_eq!(filled, 0);

    // Every stored standing is the rule's answer over the assignment's reports and urges.
    /// An assignment's terms: id, plan, unit, due date, cycle, made, signed for.
    type Row = (
        AssignmentId,
        i64,
        i64,
        chrono::NaiveDate,
        Cycle,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
    );
    let rows: Vec<Row> = assignments::table
        .select((
            assignments::id,
            assignments::plan_id,
            assignments::unit_id,
            assignments::due_date,
            assignments::cycle,
            assignments::created_at,
            assignments::received_at,
        ))
        .load(&mut c)
        .unwrap();
    let mut facts: HashMap<AssignmentId, Vec<ReportFact>> = HashMap::new();
    type Rep = (
        AssignmentId,
        ReportId,
        String,
        ReportStatus,
        Workflow,
        Option<chrono::NaiveDateTime>,
        Option<i32>,
    );
    let reps: Vec<Rep> = reports::table
        .select((
            reports::assignment_id,
            reports::id,
            reports::period,
            reports::status,
            reports::workflow,
            reports::submitted_at,
            reports::progress,
        ))
        .load(&mut c)
        .unwrap();
    let workflows: Vec<Workflow> = reps.iter().map(|r| r.4).collect();
    for wf in [
        Workflow::Draft,
        Workflow::Submitted,
        Workflow::Returned,
        Workflow::Resubmitted,
        Workflow::Accepted,
    ] {
        assert!(workflows.contains(&wf), "some report is {wf:?}");
    }
    for (a, id, period, status, workflow, submitted_at, progress) in reps {
        assert!(
            submitted_at.is_none_or(|t| t <= now),
            "nothing is sent after now"
        );
        facts.entry(a).or_default().push(ReportFact {
            id,
            period,
            status,
            workflow,
            submitted_at,
            progress,
        });
    }
    let urges: HashMap<AssignmentId, i64> = urge_assignments::table
        .group_by(urge_assignments::assignment_id)
        .select((urge_assignments::assignment_id, diesel::dsl::count_star()))
        .load(&mut c)
        .unwrap()
        .into_iter()
        .collect();
    assert!(!urges.is_empty(), "the office urged some late work");
    let ids: Vec<AssignmentId> = rows.iter().map(|r| r.0).collect();
    let stored = store::standing::as_of(&mut c, &ids, today).unwrap();
    let cal = store::calendar::load(&mut c).unwrap();
    let mut expected: HashMap<i64, Figures> = HashMap::new();
    for &(id, plan, unit, due_date, cycle, created, received_at) in &rows {
        let terms = Terms {
            cycle,
            due_date,
            assigned_on: created.date(),
            received: received_at.is_some(),
        };
        let n = urges.get(&id).copied().unwrap_or(0) as i32;
        let own = facts.get(&id).map_or(&[][..], Vec::as_slice);
        let s = Standing::compute(terms, own, n, None, created, &cal);
        assert_eq!(stored.get(&id), Some(&s), "standing of assignment {id}");
        if plan != summary.plan_id {
            continue;
        }
        let f = expected.entry(unit).or_default();
        f.assigned += 1;
        f.reported += i64::from(s.sent_report_id.is_some());
        match s.state(today) {
            AssignmentState::NotStarted => f.not_started += 1,
            AssignmentState::InProgress => f.in_progress += 1,
            AssignmentState::Completed => f.completed += 1,
            AssignmentState::NotApplicable => f.not_applicable += 1,
            AssignmentState::Overdue => f.overdue += 1,
        }
        f.returned += i64::from(s.returned);
        f.urged += i64::from(s.urges > 0);
        f.unreceived += i64::from(!s.received);
    }
    drop(c);

    // The office's per-unit statistics are those figures.
    let office = app.login(benchdata::OFFICE_USER, PASSWORD).await;
    let r = app
        .get(&format!("/stats/units?plan={}", summary.plan_id), &office)
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let items = r.body["items"].as_array().unwrap();
    let got: HashMap<i64, Figures> = items
        .iter()
        .filter(|i| i["assigned"].as_i64() > Some(0))
        .map(|i| {
            let n = |k: &str| i[k].as_i64().unwrap();
            (
                n("id"),
                Figures {
                    assigned: n("assigned"),
                    reported: n("reported"),
                    not_started: n("not_started"),
                    in_progress: n("in_progress"),
                    completed: n("completed"),
                    not_applicable: n("not_applicable"),
                    overdue: n("overdue"),
                    returned: n("returned"),
                    urged: n("urged"),
                    unreceived: n("unreceived"),
                },
            )
        })
        .collect();
    assert_eq!(got, expected);

    // A department system signs in with the client-credentials grant and sees its work.
    let system = summary
        .accounts
        .iter()
        .find(|a| a.username == "bench-unit-1")
        .unwrap();
    let r = app.client_token("bench-unit-1", PASSWORD, None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let token = r.body["access_token"].as_str().unwrap().to_owned();
    let r = app
        .get(
            &format!("/assignments?plan_id={}&limit=5", summary.plan_id),
            &token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let items = r.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items
        .iter()
        .all(|a| a["unit_id"].as_i64() == Some(system.unit_id)));
}

#[actix_rt::test]
async fn accounts_need_the_password_from_the_environment() {
    let app = spawn_app().await;
    let mut c = app.state.db.get().unwrap();
    let mut o = options(store::now());
    o.password = None;
    let e = benchdata::run(&mut c, &o).unwrap_err();
    assert!(e.contains("DUBAN_BENCH_PASSWORD"), "{e}");
    let plans: i64 = duban::db::schema::plans::table
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(plans, 0);
}
