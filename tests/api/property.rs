//! Every view agrees with a plain recomputation from the history: random sequences of report
//! actions (draft, edit, submit, return, accept), due-date changes, urges and days passing are
//! run through the use cases against a real database, and on many days the assignment states,
//! the overdue list, the per-unit statistics and the summary table are compared with what the
//! recorded events say, recomputed here from scratch without the standing.

use crate::helpers::TestDb;
use crate::property_model::{Event, Expected, Tracked};
use chrono::{Days, Months, NaiveDate, NaiveDateTime};
use duban::auth::Principal;
use duban::db::{write_tx, AnyConnection, Db};
use duban::domain::assignment::{AssignmentRole, AssignmentState, Cycle};
use duban::domain::calendar::DayKind;
use duban::domain::desk::Severity;
use duban::domain::ids::{PlanId, UnitId, UserId};
use duban::domain::plan::{ItemLevel, PlanState};
use duban::domain::report::ReportStatus;
use duban::domain::role::Role;
use duban::domain::scope::ScopeSet;
use duban::domain::unit::UnitKind;
use duban::service::{self, Ctx};
use duban::store::{self, assignments, desk, plans, reports, units, urges};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

const CYCLES: [Cycle; 3] = [Cycle::Yearly, Cycle::Monthly, Cycle::Quarterly];

#[derive(Debug, Clone)]
enum Step {
    Draft {
        a: usize,
        period: u32,
        status: usize,
    },
    Edit {
        a: usize,
        report: usize,
        status: usize,
    },
    Submit {
        a: usize,
        report: usize,
    },
    Return {
        a: usize,
        report: usize,
    },
    Accept {
        a: usize,
        report: usize,
    },
    Reschedule {
        a: usize,
        days: u64,
    },
    Urge {
        a: usize,
    },
    Wait {
        days: u64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let a = 0..CYCLES.len();
    prop_oneof![
        4 => (a.clone(), 0..14u32, 0..4usize).prop_map(|(a, period, status)| Step::Draft { a, period, status }),
        2 => (a.clone(), 0..4usize, 0..4usize).prop_map(|(a, report, status)| Step::Edit { a, report, status }),
        4 => (a.clone(), 0..4usize).prop_map(|(a, report)| Step::Submit { a, report }),
        2 => (a.clone(), 0..4usize).prop_map(|(a, report)| Step::Return { a, report }),
        2 => (a.clone(), 0..4usize).prop_map(|(a, report)| Step::Accept { a, report }),
        1 => (a.clone(), 0..500u64).prop_map(|(a, days)| Step::Reschedule { a, days }),
        1 => a.prop_map(|a| Step::Urge { a }),
        2 => (1..60u64).prop_map(|days| Step::Wait { days }),
    ]
}

fn principal(user: UserId, role: Role, unit: Option<UnitId>) -> Principal {
    Principal {
        user_id: user,
        username: format!("user{}", user.0),
        role,
        unit_id: unit,
        scopes: ScopeSet::empty(),
    }
}

fn ctx(p: &Principal, now: NaiveDateTime) -> Ctx {
    let mut ctx = Ctx::new(p.clone(), None);
    ctx.now = now;
    ctx
}

/// A unit with a manager, the office's coordinator, a published plan with one measure per
/// cycle, each assigned to the unit.
fn setup(
    c: &mut AnyConnection,
    n: usize,
    t0: NaiveDateTime,
    dues: &[u64],
) -> (PlanId, UnitId, Principal, Principal, Vec<Tracked>) {
    let name = format!("测试单位{n}");
    let unit = units::insert(
        c,
        &units::NewUnit {
            name: &name,
            short_name: None,
            kind: UnitKind::CityDepartment,
            active: true,
            created_at: t0,
            updated_at: t0,
        },
    )
    .unwrap();
    let account = |c: &mut AnyConnection, username: String, role: Role, unit: Option<String>| {
        let spec = duban::bootstrap::AccountSpec {
            username,
            display_name: "x".into(),
            role,
            unit,
            secret: "a property test passphrase".into(),
            scopes: None,
        };
        match duban::bootstrap::ensure_account(c, &spec).unwrap() {
            duban::bootstrap::Ensured::Created(id) | duban::bootstrap::Ensured::Reset(id) => id,
        }
    };
    let manager = account(
        c,
        format!("manager{n}"),
        Role::UnitManager,
        Some(name.clone()),
    );
    let office = account(c, format!("office{n}"), Role::Coordinator, None);
    let plan = plans::insert(c, "计划", 2031, None, t0).unwrap();
    let item = |c: &mut AnyConnection, parent, level, code: &str| {
        plans::insert_item(
            c,
            &plans::NewItem {
                plan_id: plan,
                parent_id: parent,
                level,
                code,
                number: code.rsplit('.').next().unwrap(),
                title: "措施",
                position: 0,
                lead_text: None,
                participant_text: None,
                created_at: t0,
                updated_at: t0,
            },
        )
        .unwrap()
    };
    let section = item(c, None, ItemLevel::Section, "1");
    let task = item(c, Some(section), ItemLevel::Task, "1.1");
    let mut tracked = Vec::new();
    for (i, cycle) in CYCLES.into_iter().enumerate() {
        let measure = item(c, Some(task), ItemLevel::Measure, &format!("1.1.{}", i + 1));
        let due = t0.date() + Days::new(dues[i]);
        assignments::insert_many(
            c,
            &[assignments::NewAssignment {
                plan_id: plan,
                measure_id: measure,
                unit_id: unit,
                role: AssignmentRole::Lead,
                via_group_id: None,
                due_date: due,
                cycle,
                created_at: t0,
                updated_at: t0,
                due_working_days: None,
                due_counted_from: None,
            }],
        )
        .unwrap();
        let id = assignments::of_unit_on_measure(c, unit, measure)
            .unwrap()
            .unwrap()
            .id;
        tracked.push(Tracked {
            id,
            cycle,
            first_due: due,
            created: t0,
            reports: Vec::new(),
            events: Vec::new(),
        });
    }
    plans::set_state(c, plan, PlanState::Published, t0).unwrap();
    (
        plan,
        unit,
        principal(manager, Role::UnitManager, Some(unit)),
        principal(office, Role::Coordinator, None),
        tracked,
    )
}

fn run_case(
    db: &Db,
    cases: &AtomicUsize,
    steps: &[(Step, u64)],
    dues: &[u64],
) -> Result<(), TestCaseError> {
    let n = cases.fetch_add(1, Ordering::SeqCst);
    let mut conn = db.get().unwrap();
    let c: &mut AnyConnection = &mut conn;
    let t0 = NaiveDate::from_ymd_opt(2031, 1, 5)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    let (plan, unit, manager, office, mut tracked) =
        write_tx(c, |c| Ok::<_, diesel::result::Error>(setup(c, n, t0, dues))).unwrap();
    let mut now = t0;
    let mut texts = 0;
    for (s, hours) in steps {
        now += chrono::Duration::hours(*hours as i64 + 1);
        match s {
            Step::Wait { days } => now += chrono::Duration::days(*days as i64),
            Step::Draft { a, period, status } => {
                let t = &mut tracked[*a];
                let label = t
                    .cycle
                    .period_of(t0.date().checked_add_months(Months::new(*period)).unwrap());
                texts += 1;
                let text = format!("第{texts}稿");
                let draft = service::reports::NewDraft {
                    period: Some(label),
                    status: ReportStatus::ALL[*status],
                    text: service::reports::Text::parse(Some(&text), None, None).unwrap(),
                    progress: None,
                };
                if let Ok(r) = service::reports::create(c, &ctx(&manager, now), t.id, draft) {
                    t.reports.push((r.id, text, r.status));
                }
            }
            Step::Edit { a, report, status } => {
                let t = &mut tracked[*a];
                if t.reports.is_empty() {
                    continue;
                }
                let i = report % t.reports.len();
                let id = t.reports[i].0;
                let current = reports::find(c, id).unwrap().unwrap();
                let etag = service::reports::etag(&current);
                texts += 1;
                let text = format!("第{texts}稿");
                let changes = service::reports::Text::parse(Some(&text), None, None).unwrap();
                let status = ReportStatus::ALL[*status];
                let edited = service::reports::update(
                    c,
                    &ctx(&manager, now),
                    id,
                    Some(&etag),
                    Some(status),
                    None,
                    changes,
                );
                if edited.is_ok() {
                    t.reports[i] = (id, text, status);
                }
            }
            Step::Submit { a, report } => {
                let t = &mut tracked[*a];
                if t.reports.is_empty() {
                    continue;
                }
                let (id, text, status) = t.reports[report % t.reports.len()].clone();
                if let Ok(r) = service::reports::submit(c, &ctx(&manager, now), id, None) {
                    prop_assert_eq!(&r.narrative, &text);
                    let period = r.period.clone();
                    t.events.push((
                        now,
                        Event::Sent {
                            report: id,
                            period,
                            status,
                            text,
                        },
                    ));
                }
            }
            Step::Return { a, report } | Step::Accept { a, report } => {
                let t = &mut tracked[*a];
                if t.reports.is_empty() {
                    continue;
                }
                let id = t.reports[report % t.reports.len()].0;
                let (decision, event) = match s {
                    Step::Return { .. } => (
                        service::reports::Decision::Return("请补充。".into()),
                        Event::Returned(id),
                    ),
                    _ => (service::reports::Decision::Accept, Event::Accepted(id)),
                };
                if service::reports::review(c, &ctx(&office, now), id, decision).is_ok() {
                    t.events.push((now, event));
                }
            }
            Step::Reschedule { a, days } => {
                let t = &mut tracked[*a];
                let due = t0.date() + Days::new(*days);
                write_tx(c, |c| {
                    assignments::reschedule(c, t.id, due, None, t.cycle, now)
                })
                .unwrap();
                t.events.push((now, Event::Due(due)));
            }
            Step::Urge { a } => {
                let t = &mut tracked[*a];
                let urge = urges::NewUrge {
                    unit_id: unit,
                    severity: Severity::Urge,
                    message: "请报送。".into(),
                    reply_by: None,
                    automatic: false,
                    issued_by: Some(office.user_id),
                    issued_at: now,
                };
                write_tx(c, |c| urges::insert(c, &urge, &[t.id])).unwrap();
                t.events.push((now, Event::Urged));
            }
        }
    }
    // The days to look at: the day before the plan, every day something happened, and around
    // every due date, plus a year after the end.
    let mut days: Vec<NaiveDate> = vec![t0.date().pred_opt().unwrap(), t0.date()];
    for t in &tracked {
        for (at, e) in &t.events {
            days.push(at.date());
            days.push(at.date().succ_opt().unwrap());
            if let Event::Due(d) = e {
                days.extend([d.pred_opt().unwrap(), *d, d.succ_opt().unwrap()]);
            }
        }
        days.extend([t.first_due, t.first_due.succ_opt().unwrap()]);
    }
    days.push(now.date() + Days::new(400));
    days.sort();
    days.dedup();
    let today = now.date().succ_opt().unwrap();
    // Half the runs read tallies folded into one row per combination, half the raw changes.
    if tracked.len() % 2 == 0 {
        duban::store::standing::compact_tallies(c).unwrap();
    }
    let filter = desk::DeskFilter {
        plan_id: Some(plan.0),
        ..Default::default()
    };
    let calendar: HashMap<NaiveDate, DayKind> = duban::store::calendar::between(
        c,
        NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(9998, 12, 31).unwrap(),
    )
    .unwrap()
    .into_iter()
    .map(|d| (d.day, d.kind))
    .collect();
    for day in days {
        let expected: Vec<Option<Expected>> =
            tracked.iter().map(|t| t.expected(day, &calendar)).collect();
        // Assignment states, as /assignments shows them on that day.
        let rows: Vec<_> = tracked
            .iter()
            .map(|t| assignments::find(c, t.id).unwrap().unwrap())
            .collect();
        let mut at_noon = ctx(&office, day.and_hms_opt(12, 0, 0).unwrap());
        at_noon.now = day.and_hms_opt(12, 0, 0).unwrap();
        let states =
            store::standing::as_of(c, &tracked.iter().map(|t| t.id).collect::<Vec<_>>(), day)
                .unwrap();
        for (t, e) in tracked.iter().zip(&expected) {
            let got = states.get(&t.id).map(|s| s.state(day));
            prop_assert_eq!(
                got,
                e.as_ref().map(|e| e.state),
                "state of {:?} on {}",
                t.cycle,
                day
            );
        }
        if expected.iter().all(Option::is_some) {
            let viewed = service::assignments::with_state(c, &at_noon, rows).unwrap();
            for (v, e) in viewed.iter().zip(&expected) {
                prop_assert_eq!(
                    v.state,
                    e.as_ref().unwrap().state,
                    "/assignments on {}",
                    day
                );
            }
        }
        // The overdue list.
        let overdue = desk::overdue(c, day, today, &filter, (None, None), None, 100).unwrap();
        let mut got: Vec<(i64, NaiveDate, i32, bool)> = overdue
            .iter()
            .map(|r| (r.assignment_id, r.deadline, r.urges, r.returned))
            .collect();
        got.sort();
        let mut want: Vec<(i64, NaiveDate, i32, bool)> = tracked
            .iter()
            .zip(&expected)
            .filter_map(|(t, e)| {
                let e = e.as_ref()?;
                (e.state == AssignmentState::Overdue)
                    .then(|| (t.id.0, e.deadline.unwrap(), e.urges as i32, e.returned))
            })
            .collect();
        want.sort();
        prop_assert_eq!(got, want, "overdue on {}", day);
        // The unit's line of the statistics.
        let stats = desk::stats(
            c,
            desk::Dimension::Unit,
            day,
            today,
            &filter,
            desk::StatSource::Best,
        )
        .unwrap();
        // Today's figures come from the tallies: they must equal the standings' own.
        for dim in [desk::Dimension::Unit, desk::Dimension::Plan] {
            let from_standings =
                desk::stats(c, dim, day, today, &filter, desk::StatSource::Standings).unwrap();
            let best = desk::stats(c, dim, day, today, &filter, desk::StatSource::Best).unwrap();
            prop_assert_eq!(best, from_standings, "tallies against standings on {}", day);
        }
        let present: Vec<&Expected> = expected.iter().flatten().collect();
        if present.is_empty() {
            prop_assert!(
                stats.is_empty(),
                "no statistics before the plan, on {}",
                day
            );
            continue;
        }
        prop_assert_eq!(stats.len(), 1);
        let s = &stats[0];
        let count = |f: &dyn Fn(&Expected) -> bool| present.iter().filter(|e| f(e)).count() as i64;
        let by_state = |st: AssignmentState| count(&|e| e.state == st);
        prop_assert_eq!(s.assigned, present.len() as i64);
        prop_assert_eq!(s.reported, count(&|e| e.reported), "reported on {}", day);
        prop_assert_eq!(
            s.not_started,
            by_state(AssignmentState::NotStarted),
            "on {}",
            day
        );
        prop_assert_eq!(
            s.in_progress,
            by_state(AssignmentState::InProgress),
            "on {}",
            day
        );
        prop_assert_eq!(
            s.completed,
            by_state(AssignmentState::Completed),
            "on {}",
            day
        );
        prop_assert_eq!(
            s.not_applicable,
            by_state(AssignmentState::NotApplicable),
            "on {}",
            day
        );
        prop_assert_eq!(s.overdue, by_state(AssignmentState::Overdue), "on {}", day);
        prop_assert_eq!(s.returned, count(&|e| e.returned), "returned on {}", day);
        prop_assert_eq!(s.urged, count(&|e| e.urges > 0), "urged on {}", day);
        prop_assert_eq!(s.on_time, count(&|e| e.on_time), "on time on {}", day);
        prop_assert_eq!(
            s.due_or_done,
            count(&|e| e.due_or_done),
            "due or done on {}",
            day
        );
        prop_assert_eq!(s.late, count(&|e| e.days_late.is_some()), "late on {}", day);
        let days_late: i64 = present.iter().filter_map(|e| e.days_late).sum();
        prop_assert_eq!(s.days_late, days_late, "days late on {}", day);
    }
    // The office's summary shows, per measure, what was last sent.
    let rows = duban::tables::export_table(
        c,
        plan,
        duban::tables::Answers::Unit(unit),
        reports::Reader::Office,
    )
    .unwrap();
    for (row, t) in rows.iter().zip(&tracked) {
        prop_assert_eq!(
            &row.row.completion,
            &t.expected_summary(),
            "summary of {:?}",
            t.cycle
        );
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Days off and make-up working days the office adds in the weeks the histories run in (2031,
/// past the State Council's published years), so that days late cross both.
fn office_calendar(db: &Db) {
    let mut c = db.get().unwrap();
    let now = duban::store::now();
    let days: Vec<duban::store::calendar::CalendarDay> = [
        ("2031-01-08", DayKind::Holiday),
        ("2031-01-11", DayKind::Workday),
        ("2031-01-20", DayKind::Holiday),
        ("2031-01-21", DayKind::Holiday),
        ("2031-02-01", DayKind::Workday),
        ("2031-02-15", DayKind::Holiday),
        ("2031-03-03", DayKind::Holiday),
        ("2031-03-29", DayKind::Workday),
    ]
    .into_iter()
    .map(|(d, kind)| duban::store::calendar::CalendarDay {
        day: d.parse().unwrap(),
        kind,
        name: "办公室调整".into(),
        notice: None,
        updated_at: now,
    })
    .collect();
    write_tx(&mut c, |c| {
        duban::store::calendar::put(c, &days)?;
        let cal = duban::store::calendar::load(c)?;
        duban::store::calendar::store_shifts(c, &cal)
    })
    .unwrap();
}

/// Runs `cases()` random histories (64 unless `PROPTEST_CASES` says otherwise) on one
/// database, each case on a plan and unit of its own; a failure is shrunk to a minimal history.
#[test]
fn every_view_agrees_with_a_recomputation_from_the_history() {
    let (test_db, url) = TestDb::create();
    let url = if let Some(path) = url.strip_prefix("sqlite://") {
        duban::config::DatabaseUrl::Sqlite(path.into())
    } else {
        duban::config::DatabaseUrl::Postgres(url)
    };
    let db = Db::connect(&url, 2).expect("database");
    duban::db::migrations::run_pending(&mut db.get().expect("connection")).expect("migrations");
    office_calendar(&db);
    let counter = AtomicUsize::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let histories = (
        prop::collection::vec((step(), 0..48u64), 1..40),
        prop::collection::vec(20..400u64, 3),
    );
    let result = runner.run(&histories, |(steps, dues)| {
        run_case(&db, &counter, &steps, &dues)
    });
    drop(db);
    test_db.remove();
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!(
        "property: {} random histories agreed on every view",
        counter.load(Ordering::SeqCst)
    );
}
