//! `duban bench-data`: fills a migrated database with a municipality at the scale the product is
//! planned for, in bulk, for the benchmarks in `bench/`.
//!
//! The city has a fixed size (about 1,600 units in groups, one published plan of the seed's
//! shape for the current year with about 100,000 monthly assignments fanned out through the
//! groups); `--reports N` says how much history exists. Reports are filled period by period
//! from January of the current year (month 1 for every assignment, then month 2, …) up to the
//! last month that has ended, so that 10^4, 10^5 and 10^6 reports are the same city at three
//! moments of its year; what the months elapsed cannot hold goes into earlier years' closed
//! plans. Each report lives the API's life (drafted, edited, sent, returned and sent again,
//! accepted) with its revisions and audit entries; the office urges some late work. The
//! standing of every assignment is then computed by the server's own rule
//! ([`crate::store::standing::backfill`]), so the desk answers as if the API had done the work.
//!
//! Units sign for their assignments (签收) within a week of publication, a few never do; some
//! units asked for more time (延期申请), most were granted it (the assignment's due date is the
//! granted one), a few refused.
//!
//! Not generated: the audit entries of receipts and extension requests, disputes, attachments,
//! webhook deliveries, automatic reminders (the reminder log), the audit entries of building
//! the plan, and the standing's history (each assignment gets one standing version, valid from
//! its creation, as the backfill gives it).

pub mod city;
pub mod history;
pub mod sink;

use crate::bootstrap::{ensure_account, AccountSpec, Ensured};
use crate::db::text::StoredName;
use crate::db::{write_tx, AnyConnection};
use crate::domain::plan::PlanState;
use crate::domain::role::Role;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use history::{Actors, Ids, PlanHistory};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;
use sink::{Sink, Table, V};
use std::collections::BTreeMap;
use std::time::Instant;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Reports in all (drafts included).
    pub reports: u64,
    /// Units in the city.
    pub units: usize,
    /// Assignments of each plan.
    pub assignments: usize,
    /// Service accounts to create (besides the office's coordinator account).
    pub accounts: usize,
    /// The accounts' password (required when `accounts > 0`).
    pub password: Option<String>,
    /// Seed of the random stream.
    pub seed: u64,
    /// The present: nothing happens after it.
    pub now: NaiveDateTime,
    /// Draw a progress bar on standard error.
    pub progress: bool,
}

/// An account created for the load benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct AccountInfo {
    pub username: String,
    pub role: Role,
    pub user_id: i64,
    pub unit_id: i64,
}

/// What was generated (printed as JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Rows per table after the load.
    pub counts: BTreeMap<String, i64>,
    /// The plan of the current year (published).
    pub plan_id: i64,
    /// Earlier years' plans (closed), oldest first.
    pub closed_plan_ids: Vec<i64>,
    /// The accounts, the office's first.
    pub accounts: Vec<AccountInfo>,
    /// The first and last day anything happened.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Seconds per phase.
    pub seconds: BTreeMap<String, f64>,
    pub seed: u64,
}

/// The username of the office's account.
pub const OFFICE_USER: &str = "bench-office";

/// Documents the measures cite (任务来源).
const DOCUMENTS: [(&str, &str); 6] = [
    ("法治政府建设实施纲要", "中共中央、国务院"),
    ("关于全面推进依法行政的实施意见", "市委、市政府"),
    ("法治政府建设年度工作要点", "市政府办公厅"),
    ("重大行政决策程序规定", "市政府"),
    ("行政执法公示制度实施办法", "市司法局"),
    ("关于加强行政复议工作的意见", "市委办公厅"),
];

fn plan_title(year: i32) -> String {
    format!("{year}年{}法治政府建设工作要点", city::CITY)
}

/// Fills the database. Refuses a database that already has plans. On PostgreSQL everything is
/// one transaction; on SQLite each batch is.
pub fn run(c: &mut AnyConnection, o: &Options) -> Result<Summary, String> {
    if o.accounts > 0 && o.password.is_none() {
        return Err(
            "DUBAN_BENCH_PASSWORD is not set: it is the password of the accounts (--accounts 0 \
             creates none)"
                .into(),
        );
    }
    if o.assignments == 0 {
        return Err("--assignments must be at least 1".into());
    }
    let plans = sink::count(c, "plans").map_err(|e| e.to_string())?;
    if plans > 0 {
        return Err(format!(
            "the database already has {plans} plan(s); bench data goes into a freshly migrated \
             database"
        ));
    }
    let pg = matches!(c, AnyConnection::Pg(_));
    let mut seconds = BTreeMap::new();
    let summary = if pg {
        write_tx(c, |c| load(c, o, &mut seconds))
    } else {
        load(c, o, &mut seconds)
    }
    .map_err(|Failure(e)| e)?;
    let started = Instant::now();
    if pg {
        c.batch_execute("VACUUM ANALYZE")
            .map_err(|e| e.to_string())?;
    } else {
        c.batch_execute("ANALYZE").map_err(|e| e.to_string())?;
    }
    seconds.insert("analyze".into(), secs(started));
    let mut counts = BTreeMap::new();
    for t in Table::ALL
        .iter()
        .map(|t| t.name())
        .chain(["users", "assignment_standings"])
    {
        counts.insert(t.to_owned(), sink::count(c, t).map_err(|e| e.to_string())?);
    }
    Ok(Summary {
        counts,
        seconds,
        ..summary
    })
}

/// Why a load failed: a statement, or a rule (an account's password).
struct Failure(String);

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure(e.to_string())
    }
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure(e)
    }
}

/// An extension request (延期申请) on one assignment in a few: about one in 53 was asked for a
/// month's more time before its original due date and granted (the due date generated is the
/// one granted, so the standing reads it as the API would after approval), one in 97 asked for
/// two months and was refused. Only what has happened by `now` is written. Returns the next id.
fn extension_request(
    sink: &mut Sink,
    id: i64,
    plan_id: i64,
    asg: &city::Assignment,
    assigned: NaiveDateTime,
    now: NaiveDateTime,
) -> i64 {
    use crate::domain::extension::ExtensionState;
    let (state, due, requested, granted, reason, note) = if asg.id % 53 == 0 {
        (
            ExtensionState::Approved,
            asg.due - chrono::Days::new(61),
            asg.due + chrono::Days::new(30),
            Some(asg.due),
            "配套制度需经会议审议，会期在原定期限之后。",
            "同意延期两个月。",
        )
    } else if asg.id % 97 == 0 {
        (
            ExtensionState::Rejected,
            asg.due,
            asg.due + chrono::Days::new(61),
            None,
            "专项工作人力不足。",
            "请按原定期限完成。",
        )
    } else {
        return id;
    };
    let asked = day_at(due - chrono::Days::new(20), 10);
    let decided = asked + chrono::Duration::days(3);
    if asked < assigned || decided > now {
        return id;
    }
    sink.row(
        Table::ExtensionRequests,
        &[
            id.into(),
            asg.id.into(),
            plan_id.into(),
            asg.unit.into(),
            state.as_str().into(),
            due.into(),
            requested.into(),
            reason.into(),
            "已完成方案制定和前期调研。".into(),
            V::Null,
            asked.into(),
            granted.into(),
            note.into(),
            V::Null,
            decided.into(),
        ],
    );
    id + 1
}

fn secs(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 100.0).round() / 100.0
}

fn day_at(d: NaiveDate, h: u32) -> NaiveDateTime {
    d.and_hms_opt(h, 0, 0).unwrap_or_default()
}

/// One plan to generate: its year and how many reports it holds.
struct PlanSpec {
    year: i32,
    reports: u64,
    current: bool,
}

fn load(
    c: &mut AnyConnection,
    o: &Options,
    seconds: &mut BTreeMap<String, f64>,
) -> Result<Summary, Failure> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(o.seed);
    let today = o.now.date();
    let year = today.year();
    let a = o.assignments as u64;
    // The current year holds what its ended months can; earlier years the rest.
    let elapsed = city::months_elapsed(year, today);
    let mut specs = vec![PlanSpec {
        year,
        reports: o.reports.min(a * u64::from(elapsed)),
        current: true,
    }];
    let mut rest = o.reports - specs[0].reports;
    let mut y = year;
    while rest > 0 {
        y -= 1;
        let n = rest.min(a * 12);
        specs.push(PlanSpec {
            year: y,
            reports: n,
            current: false,
        });
        rest -= n;
    }
    specs.reverse(); // oldest first, so ids grow with time

    let mut next = |t: Table| sink::next_id(c, t);
    let first_unit = next(Table::Units)?;
    let first_group = next(Table::UnitGroups)?;
    let first_group_alias = next(Table::UnitGroupAliases)?;
    let mut plan_id = next(Table::Plans)?;
    let mut item_id = next(Table::PlanItems)?;
    let first_document = next(Table::SourceDocuments)?;
    let mut assignment_id = next(Table::Assignments)?;
    let mut extension_id = next(Table::ExtensionRequests)?;
    let mut ids = Ids {
        report: next(Table::Reports)?,
        revision: next(Table::ReportRevisions)?,
        urge: next(Table::Urges)?,
        // Numbered after the accounts' own entries.
        audit: 0,
    };
    let mut sink = Sink::new(c);

    // The city.
    let town = city::city(o.units, first_unit, first_group);
    let founded = day_at(
        NaiveDate::from_ymd_opt(specs[0].year - 1, 12, 1).unwrap_or(today),
        8,
    );
    for u in &town.units {
        sink.row(
            Table::Units,
            &[
                u.id.into(),
                V::Text(&u.name),
                u.short_name.as_ref().into(),
                u.kind.stored_name().into(),
                true.into(),
                founded.into(),
                founded.into(),
            ],
        );
    }
    let mut alias_id = first_group_alias;
    for g in &town.groups {
        sink.row(
            Table::UnitGroups,
            &[
                g.id.into(),
                V::Text(&g.name),
                V::Text(&g.description),
                founded.into(),
                founded.into(),
            ],
        );
        if let Some(alias) = &g.alias {
            sink.row(
                Table::UnitGroupAliases,
                &[alias_id.into(), g.id.into(), V::Text(alias)],
            );
            alias_id += 1;
        }
        for m in &g.members {
            sink.row(Table::UnitGroupMembers, &[g.id.into(), (*m).into()]);
        }
    }
    let doc_numbers: Vec<String> = (0..DOCUMENTS.len())
        .map(|i| {
            format!(
                "{}法治办发〔{}〕{}号",
                city::CITY,
                specs[0].year - 1,
                11 + i * 7
            )
        })
        .collect();
    for (i, (title, issuer)) in DOCUMENTS.iter().enumerate() {
        sink.row(
            Table::SourceDocuments,
            &[
                (first_document + i as i64).into(),
                V::Text(&doc_numbers[i]),
                (*title).into(),
                (*issuer).into(),
                founded.into(),
            ],
        );
    }
    sink.flush(c)?;
    seconds.insert("city".into(), secs(started));

    // The plans' trees and assignments.
    let started = Instant::now();
    let mut plans = Vec::new();
    for spec in &specs {
        let y = spec.year;
        let jan = |d: u32| NaiveDate::from_ymd_opt(y, 1, d).unwrap_or(today);
        let created = day_at(jan(5), 9).min(o.now);
        let published = day_at(jan(8), 9).min(o.now);
        let assigned = day_at(jan(10), 10).min(o.now);
        let closed = (!spec.current)
            .then(|| day_at(NaiveDate::from_ymd_opt(y + 1, 1, 15).unwrap_or(today), 9));
        let state = if spec.current {
            PlanState::Published
        } else {
            PlanState::Closed
        };
        let tree = city::plan_tree(
            &mut rng,
            &town,
            y,
            o.assignments,
            DOCUMENTS.len(),
            item_id,
            assignment_id,
        );
        item_id += tree.items.len() as i64;
        assignment_id += tree.assignments.len() as i64;
        let title = plan_title(y);
        sink.row(
            Table::Plans,
            &[
                plan_id.into(),
                V::Text(&title),
                y.into(),
                town.office.into(),
                state.stored_name().into(),
                created.into(),
                closed.unwrap_or(published).into(),
                published.into(),
                closed.into(),
            ],
        );
        for it in &tree.items {
            sink.row(
                Table::PlanItems,
                &[
                    it.id.into(),
                    plan_id.into(),
                    it.parent.into(),
                    it.level.into(),
                    V::Text(&it.code),
                    V::Text(&it.number),
                    V::Text(&it.title),
                    it.position.into(),
                    it.lead_text.as_ref().into(),
                    it.participant_text.as_ref().into(),
                    created.into(),
                    created.into(),
                ],
            );
            for (k, s) in it.sources.iter().enumerate() {
                sink.row(
                    Table::MeasureSources,
                    &[
                        it.id.into(),
                        (first_document + *s as i64).into(),
                        (k as i64 + 1).into(),
                    ],
                );
            }
        }
        for asg in &tree.assignments {
            extension_id =
                extension_request(&mut sink, extension_id, plan_id, asg, assigned, o.now);
            // Units sign for their assignments within a week of publication; a few never do.
            let received = (asg.id % 37 != 0)
                .then(|| assigned + chrono::Duration::hours(20 + asg.id % 140))
                .filter(|t| *t <= o.now);
            sink.row(
                Table::Assignments,
                &[
                    asg.id.into(),
                    plan_id.into(),
                    asg.measure.into(),
                    asg.unit.into(),
                    asg.role.as_str().into(),
                    asg.via_group.into(),
                    asg.due.into(),
                    "monthly".into(),
                    assigned.into(),
                    assigned.into(),
                    received.into(),
                    // Signed by the unit's people, who are not among the generated accounts.
                    V::Null,
                    // Held since it was made (no move).
                    V::Null,
                    // Due on a date, not in working days.
                    V::Null,
                    V::Null,
                ],
            );
        }
        if sink.full() {
            sink.flush(c)?;
        }
        plans.push((plan_id, assigned, tree));
        plan_id += 1;
    }
    sink.flush(c)?;
    seconds.insert("plans".into(), secs(started));

    // Accounts: the office's coordinator, and department systems of units with assignments.
    let started = Instant::now();
    let mut accounts = Vec::new();
    let mut actors = Actors {
        office_unit: town.office,
        ..Default::default()
    };
    if let Some(password) = &o.password {
        let current = &plans.last().map(|p| &p.2.assignments);
        let mut with_work: Vec<i64> = current
            .map(|list| list.iter().map(|a| a.unit).collect())
            .unwrap_or_default();
        with_work.sort_unstable();
        with_work.dedup();
        let k = o.accounts.min(with_work.len());
        let chosen: Vec<i64> = (0..k).map(|i| with_work[i * with_work.len() / k]).collect();
        let name_of = |id: i64| {
            town.units
                .iter()
                .find(|u| u.id == id)
                .map(|u| u.name.clone())
                .unwrap_or_default()
        };
        let mut specs: Vec<(AccountSpec, i64)> = vec![(
            AccountSpec {
                username: OFFICE_USER.into(),
                display_name: "依法治市办督办员（基准）".into(),
                role: Role::Coordinator,
                unit: Some(name_of(town.office)),
                secret: password.clone(),
                scopes: None,
            },
            town.office,
        )];
        for (i, unit) in chosen.iter().enumerate() {
            specs.push((
                AccountSpec {
                    username: format!("bench-unit-{}", i + 1),
                    display_name: format!("{}业务系统", name_of(*unit)),
                    role: Role::Service,
                    unit: Some(name_of(*unit)),
                    secret: password.clone(),
                    scopes: None,
                },
                *unit,
            ));
        }
        for (spec, unit) in specs {
            let id = match ensure_account(c, &spec)? {
                Ensured::Created(id) | Ensured::Reset(id) => id.0,
            };
            if spec.role == Role::Coordinator {
                actors.office_user = Some(id);
            } else {
                actors.unit_user.insert(unit, id);
            }
            accounts.push(AccountInfo {
                username: spec.username,
                role: spec.role,
                user_id: id,
                unit_id: unit,
            });
        }
    }
    ids.audit = sink::next_id(c, Table::AuditLog)?;
    seconds.insert("accounts".into(), secs(started));

    // The reports, month by month.
    let started = Instant::now();
    let bar = progress(o);
    let mut urges = 0;
    let mut plan_ids = Vec::new();
    for ((pid, assigned, tree), spec) in plans.iter().zip(&specs) {
        plan_ids.push(*pid);
        bar.set_message(format!("{} reports", spec.year));
        let mut tracks = history::tracks(&mut rng, &tree.assignments);
        let mut order: Vec<usize> = (0..tree.assignments.len()).collect();
        order.shuffle(&mut rng);
        let full_months = spec.reports / a;
        let partial = (spec.reports % a) as usize;
        let months = full_months as u32 + u32::from(partial > 0);
        let mut ph = PlanHistory {
            year: spec.year,
            assignments: &tree.assignments,
            tracks: &mut tracks,
            assigned_on: assigned.date(),
            current: spec.current,
        };
        for m in 1..=months {
            let count = if u64::from(m) <= full_months {
                tree.assignments.len()
            } else {
                partial
            };
            let recency = if spec.current { months - m } else { 12 };
            let n = history::month(
                &mut rng, &mut sink, &mut ids, &actors, &mut ph, m, &order, count, recency, o.now,
            );
            bar.inc(n as u64);
            if sink.full() {
                sink.flush(c)?;
            }
        }
        if ph.current {
            urges +=
                history::overdue_urges(&mut rng, &mut sink, &mut ids, &actors, &ph, 0.04, o.now);
        }
    }
    sink.flush(c)?;
    bar.finish_and_clear();
    seconds.insert("reports".into(), secs(started));
    let _ = urges;

    // The standing, by the server's rule; then the identities past the explicit ids.
    let started = Instant::now();
    write_tx(c, crate::store::standing::backfill)?;
    seconds.insert("standing".into(), secs(started));
    sink::fix_sequences(
        c,
        &[
            "units",
            "unit_groups",
            "unit_group_aliases",
            "plans",
            "plan_items",
            "source_documents",
            "assignments",
            "extension_requests",
            "reports",
            "report_revisions",
            "urges",
            "audit_log",
            "assignment_standings",
            "users",
        ],
    )?;
    let current = *plan_ids.last().unwrap_or(&0);
    Ok(Summary {
        counts: BTreeMap::new(),
        plan_id: current,
        closed_plan_ids: plan_ids[..plan_ids.len().saturating_sub(1)].to_vec(),
        accounts,
        from: founded.date(),
        to: today,
        seconds: BTreeMap::new(),
        seed: o.seed,
    })
}

fn progress(o: &Options) -> indicatif::ProgressBar {
    if !o.progress {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(o.reports),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:>14} [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
