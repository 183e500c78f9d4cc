//! The demo's current-year plan: the 2019 table again, titled for the year of the day the
//! demo is loaded, issued and published on 1 January, due 31 December, and worked on since —
//! every step through the use case a request would run, as the office's coordinator and the
//! Intellectual Property Office's manager, at times spread evenly between 1 January and now.
//! Deterministic: what happens to an assignment depends only on its place in the unit's list
//! and on today's date.

use crate::db::AnyConnection;
use crate::domain::calendar::DueRule;
use crate::domain::ids::{AssignmentId, PlanId, UnitId, UserId};
use crate::domain::plan::ItemLevel;
use crate::domain::report::ReportStatus;
use crate::domain::role::Role;
use crate::domain::scope::ScopeSet;
use crate::domain::table;
use crate::error::{ApiError, ApiResult};
use crate::service::{self, Ctx};
use crate::store::{assignments, audit, plans};
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use std::collections::HashMap;

/// The title of the current year's plan.
pub fn title(year: i32) -> String {
    format!("{year}年法治政府建设工作要点")
}

/// Someone acting at `now`.
pub(super) fn acting(user: UserId, role: Role, unit: Option<UnitId>, now: NaiveDateTime) -> Ctx {
    Ctx {
        principal: crate::auth::Principal {
            user_id: user,
            username: String::new(),
            role,
            unit_id: unit,
            scopes: ScopeSet::empty(),
        },
        actor: audit::Actor {
            user_id: Some(user),
            unit_id: unit,
            request_id: None,
        },
        now,
    }
}

/// Who the demo acts as.
pub struct Cast {
    /// The coordinator and the office.
    pub office: (UserId, Option<UnitId>),
    /// The Intellectual Property Office's manager and the unit.
    pub ipo: (UserId, UnitId),
}

/// What one of the unit's assignments goes through, by its place `i` in the unit's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Accepted,
    Submitted,
    Returned,
    Draft,
    NotStarted,
}

fn fate(i: usize) -> Fate {
    match i % 10 {
        0 => Fate::Accepted,
        1 => Fate::Submitted,
        2 if i < 70 => Fate::Returned,
        3 => Fate::Draft,
        _ => Fate::NotStarted,
    }
}

/// Loads the plan of `now`'s year; returns its id.
pub fn load(c: &mut AnyConnection, cast: &Cast, now: NaiveDateTime) -> ApiResult<PlanId> {
    let year = now.year();
    let start = NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| ApiError::internal("date"))?;
    let end = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| ApiError::internal("date"))?;
    let today = now.date();
    // A moment a share of the way from 1 January to now.
    let at = |share: f64| {
        start
            + (now - start)
                .to_std()
                .map_or(chrono::TimeDelta::zero(), |d| {
                    chrono::TimeDelta::from_std(d.mul_f64(share)).unwrap_or_default()
                })
    };
    let office = |t| acting(cast.office.0, Role::Coordinator, cast.office.1, t);
    let ipo = |t| acting(cast.ipo.0, Role::UnitManager, Some(cast.ipo.1), t);
    let rows = table::read_csv(super::PLAN_CSV.as_bytes())
        .map_err(|e| ApiError::internal(format!("{e:?}")))?;
    // The office issues the plan on 1 January: created, its table imported, published.
    let fields = service::plans::PlanFields::parse(&title(year), year)?;
    let plan = service::plans::create(c, &office(start), fields, cast.office.1)?.id;
    let how = service::documents::Import {
        dry_run: false,
        allow_unresolved: false,
        answers_unit: None,
        due_date: Some(end),
        cycle: None,
    };
    service::documents::import(c, &office(start), plan, &rows, how)?;
    service::plans::transition(c, &office(start), plan, service::plans::Step::Publish)?;

    let all = assignments::list_all(
        c,
        &assignments::AssignmentFilter {
            plan_id: Some(plan),
            ..Default::default()
        },
    )?;
    let mine: Vec<&assignments::Assignment> =
        all.iter().filter(|a| a.unit_id == cast.ipo.1).collect();
    // Every unit but the last three (by id) signed for its assignments when they were issued.
    let mut units: Vec<UnitId> = all.iter().map(|a| a.unit_id).collect();
    units.sort();
    units.dedup();
    let late_signers = units.len().saturating_sub(3);
    for u in &units[..late_signers] {
        assignments::received_since_made(c, plan, *u)?;
    }

    // Earlier due dates, set by the office when it issued the plan: some passed (5, 20 and 60
    // days ago: a reminder, an urge, supervision), some soon (in 3 and 6 days).
    let day = |back: i64| -> NaiveDate {
        let d = if back >= 0 {
            today.checked_sub_days(Days::new(back as u64))
        } else {
            today.checked_add_days(Days::new(back.unsigned_abs()))
        };
        d.unwrap_or(today).clamp(start.date(), end)
    };
    let mut due: HashMap<NaiveDate, Vec<AssignmentId>> = HashMap::new();
    let not_started: Vec<usize> = (0..mine.len()).filter(|i| i % 10 == 4).collect();
    for (k, back) in [5, 20, 60].into_iter().enumerate() {
        if let Some(i) = not_started.get(k) {
            due.entry(day(back)).or_default().push(mine[*i].id);
        }
    }
    for (k, ahead) in [3, 6].into_iter().enumerate() {
        if let Some(i) = (0..mine.len()).filter(|i| i % 10 == 5).nth(k) {
            due.entry(day(-ahead)).or_default().push(mine[i].id);
        }
    }
    if let Some(returned) = mine.get(2) {
        due.entry(day(20)).or_default().push(returned.id);
    }
    let others: Vec<&assignments::Assignment> =
        all.iter().filter(|a| a.unit_id != cast.ipo.1).collect();
    for (k, a) in others.iter().step_by(400).enumerate() {
        due.entry(day([5, 20, 60][k % 3])).or_default().push(a.id);
    }
    let mut days: Vec<_> = due.into_iter().collect();
    days.sort();
    for (d, ids) in days {
        service::assignments::reschedule_many(c, &office(start), &ids, DueRule::On(d), None)?;
    }

    // The unit's answers this year: its 2019 answers again, sent, reviewed, returned, drafted.
    let answers: HashMap<_, _> = plans::items(c, plan)?
        .into_iter()
        .filter(|m| m.level == ItemLevel::Measure)
        .zip(&rows)
        .map(|(m, r)| (m.id, r.completion.trim().to_owned()))
        .collect();
    for (i, a) in mine.iter().enumerate() {
        let f = fate(i);
        if f == Fate::NotStarted {
            continue;
        }
        let text = answers
            .get(&a.measure_id)
            .filter(|t| !t.is_empty())
            .cloned()
            .unwrap_or_else(|| "已部署开展相关工作，正在推进中。".into());
        let (status, progress, text) = match f {
            Fate::Draft => (
                ReportStatus::InProgress,
                Some(50),
                format!("（草稿）{text}"),
            ),
            _ => (ReportStatus::from_answer(&text), Some(100), text),
        };
        let share = |base: f64| base + (i as f64) / (mine.len() as f64 * 20.0);
        let draft = service::reports::NewDraft {
            period: None,
            status,
            text: service::reports::Text::parse(Some(&text), None, None)?,
            progress: service::reports::checked_progress(progress)?,
        };
        let when = if f == Fate::Draft { 0.6 } else { 0.3 };
        let r = service::reports::create(c, &ipo(at(share(when))), a.id, draft)?;
        if f == Fate::Draft {
            continue;
        }
        let sent = if f == Fate::Submitted { 0.5 } else { 0.31 };
        service::reports::submit(c, &ipo(at(share(sent))), r.id, None)?;
        let decision = match f {
            Fate::Accepted => service::reports::Decision::Accept,
            Fate::Returned => service::reports::Decision::Return(
                "请补充具体数据和完成时间，并附佐证材料。".into(),
            ),
            _ => continue,
        };
        service::reports::review(c, &office(at(share(0.45))), r.id, decision)?;
    }
    tracing::info!(
        year,
        assignments = all.len(),
        of_the_unit = mine.len(),
        "loaded the current-year demo plan"
    );
    Ok(plan)
}
