//! The demo: the coordinating office, the Chongqing Intellectual Property Office (the unit whose
//! 2019 report is the seed), and one account per role. In demo mode every start gives the demo
//! accounts fresh random passwords and prints them; nothing secret is stored in the repository.

mod current;

use crate::auth::token::random_token;
use crate::bootstrap::{ensure_account, AccountSpec, Ensured};
use crate::db::{write_tx, AnyConnection};
use crate::domain::assignment::Cycle;
use crate::domain::plan::PlanState;
use crate::domain::role::Role;
use crate::domain::table;
use crate::domain::unit::UnitKind;
use crate::error::ApiError;
use crate::store::{self, groups, plans, units};
use crate::tables::{import_table, ImportOptions};
use chrono::NaiveDate;

/// The coordinating office (依法治市办).
pub const OFFICE: &str = "中共重庆市委全面依法治市委员会办公室";
/// The seed's reporting unit.
pub const IPO: &str = "重庆市知识产权局";
/// The title of the demo plan.
pub const PLAN_TITLE: &str = "2019年法治政府建设任务";

/// The city's units: every unit the 2019 table names, the 38 district and county governments,
/// and the coordinating office (`name,short_name,kind,aliases` with aliases separated by `|`).
const UNITS_CSV: &str = include_str!("units.csv");
/// The groups the table uses (`name,aliases,members,description`; a member is a unit name or
/// `kind:KIND` for every unit of that kind).
const GROUPS_CSV: &str = include_str!("groups.csv");
/// The 2019 plan as the office's summary table, with the Intellectual Property Office's answers
/// (derived from the seed report by `tools/derive_demo.py`).
pub const PLAN_CSV: &str = include_str!("plan_2019.csv");

const ACCOUNTS: [(&str, &str, Role, Option<&str>); 6] = [
    ("admin", "系统管理员", Role::Admin, None),
    (
        "coordinator",
        "依法治市办督办员",
        Role::Coordinator,
        Some(OFFICE),
    ),
    (
        "ipo-manager",
        "知识产权局法规处负责人",
        Role::UnitManager,
        Some(IPO),
    ),
    (
        "ipo-reporter",
        "知识产权局填报员",
        Role::UnitReporter,
        Some(IPO),
    ),
    ("auditor", "审计与领导查阅", Role::Viewer, None),
    ("ipo-system", "知识产权局业务系统", Role::Service, Some(IPO)),
];

fn csv_rows(text: &str) -> Result<Vec<Vec<String>>, String> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            r.map(|r| r.iter().map(str::to_owned).collect())
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn ensure_units(c: &mut AnyConnection) -> Result<(), String> {
    let rows = csv_rows(UNITS_CSV)?;
    write_tx(c, |c| {
        for r in &rows {
            let (name, short, kind, aliases) = (&r[0], &r[1], &r[2], &r[3]);
            if units::find_by_name_or_alias(c, name)?.is_some() {
                continue;
            }
            let now = store::now();
            let kind = UnitKind::parse(kind)
                .ok_or_else(|| ApiError::internal(format!("demo unit kind {kind}")))?;
            let id = units::insert(
                c,
                &units::NewUnit {
                    name,
                    short_name: Some(short.as_str()).filter(|s| !s.is_empty()),
                    kind,
                    active: true,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let aliases: Vec<String> = aliases
                .split('|')
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
            units::replace_aliases(c, id, &aliases)?;
        }
        for r in csv_rows(GROUPS_CSV).map_err(ApiError::internal)? {
            let (name, aliases, members, description) = (&r[0], &r[1], &r[2], &r[3]);
            if groups::find_by_name_or_alias(c, name)?.is_some() {
                continue;
            }
            let mut ids = Vec::new();
            for m in members.split('|') {
                match m.strip_prefix("kind:") {
                    Some(kind) => {
                        let kind = UnitKind::parse(kind)
                            .ok_or_else(|| ApiError::internal(format!("demo group kind {kind}")))?;
                        let filter = units::UnitFilter {
                            kind: Some(kind),
                            active: Some(true),
                            q: None,
                        };
                        ids.extend(units::list_all(c, &filter)?.into_iter().map(|u| u.id));
                    }
                    None => ids.push(
                        units::find_by_name_or_alias(c, m)?
                            .ok_or_else(|| ApiError::internal(format!("demo group member {m}")))?
                            .id,
                    ),
                }
            }
            let gid = groups::insert(c, name, Some(description.as_str()), store::now())?;
            let aliases: Vec<String> = aliases
                .split('|')
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
            groups::replace_aliases(c, gid, &aliases)?;
            groups::replace_members(c, gid, &ids)?;
        }
        Ok::<_, ApiError>(())
    })
    .map_err(|e| format!("demo units: {e}"))
}

/// Loads the 2019 plan through the importer, with the Intellectual Property Office's answers as
/// its submitted reports, and publishes it.
fn load_2019(c: &mut AnyConnection) -> Result<(), String> {
    let rows = table::read_csv(PLAN_CSV.as_bytes()).map_err(|e| format!("demo plan: {e:?}"))?;
    let report = write_tx(c, |c| {
        let office = units::find_by_name_or_alias(c, OFFICE)?.map(|u| u.id);
        let ipo = units::find_by_name_or_alias(c, IPO)?.map(|u| u.id);
        // The plan counts from the start of its year, and the unit's answers carry the date of
        // the seed report, so the demo reads true as of any day.
        let start = NaiveDate::from_ymd_opt(2019, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .ok_or_else(|| ApiError::internal("date"))?;
        let plan = plans::insert(c, PLAN_TITLE, 2019, office, start)?;
        let opts = ImportOptions {
            dry_run: false,
            allow_unresolved: false,
            answers_unit: ipo,
            due_date: NaiveDate::from_ymd_opt(2019, 12, 31)
                .ok_or_else(|| ApiError::internal("date"))?,
            cycle: Cycle::Yearly,
            by: None,
            // The date of the seed report (2019-11-26).
            submitted_at: NaiveDate::from_ymd_opt(2019, 11, 26)
                .and_then(|d| d.and_hms_opt(9, 0, 0)),
            made_at: Some(start),
        };
        let report = import_table(c, plan, &rows, &opts)?;
        plans::set_state(c, plan, PlanState::Published, start)?;
        if let Some(ipo) = ipo {
            // The office's own unit signed for its assignments when the plan was issued.
            store::assignments::received_since_made(c, plan, ipo)?;
        }
        extensions(c, plan)?;
        disputes(c, plan)?;
        Ok::<_, ApiError>(report)
    })
    .map_err(|e| format!("demo plan: {e}"))?;
    tracing::info!(
        measures = report.measures,
        assignments = report.assignments,
        reports = report.reports,
        "loaded the 2019 demo plan"
    );
    Ok(())
}

/// When the office closed the 2019 plan: once the last extension granted (to 2020-03-31) had
/// run out and the year's summary was done.
fn closed_2019() -> Result<chrono::NaiveDateTime, ApiError> {
    at(2020, 4, 30, 9)
}

/// The demo's plans: the 2019 plan (loaded when the database has no plan at all) as closed
/// history, and the plan of the current year (`now`'s), added to a demo database that lacks
/// it. A database whose plans are not the demo's is left alone.
fn ensure_plans(
    c: &mut AnyConnection,
    cast: &current::Cast,
    now: chrono::NaiveDateTime,
) -> Result<(), String> {
    let list = |c: &mut AnyConnection| {
        plans::list(c, None, &PlanState::ALL, None, 1000).map_err(|e| e.to_string())
    };
    if list(c)?.is_empty() {
        load_2019(c)?;
    }
    let all = list(c)?;
    let Some(p2019) = all.iter().find(|p| p.title == PLAN_TITLE) else {
        return Ok(());
    };
    let year = chrono::Datelike::year(&now);
    let has_current = all.iter().any(|p| p.title == current::title(year));
    let (office, closing) = (cast.office, p2019.state == PlanState::Published);
    let p2019 = p2019.id;
    let started = std::time::Instant::now();
    write_tx(c, |c| {
        if closing {
            let ctx = current::acting(office.0, Role::Coordinator, office.1, closed_2019()?);
            crate::service::plans::transition(c, &ctx, p2019, crate::service::plans::Step::Close)?;
        }
        if !has_current {
            current::load(c, cast, now)?;
        }
        Ok::<_, ApiError>(())
    })
    .map_err(|e| format!("demo plan of {year}: {e}"))?;
    if !has_current {
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "demo plans ready"
        );
    }
    Ok(())
}

fn at(y: i32, m: u32, d: u32, h: u32) -> Result<chrono::NaiveDateTime, ApiError> {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(h, 0, 0))
        .ok_or_else(|| ApiError::internal("date"))
}

fn day(y: i32, m: u32, d: u32) -> Result<NaiveDate, ApiError> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| ApiError::internal("date"))
}

/// Two extension requests (延期申请) of December 2019, as they would have gone: the Justice
/// Bureau asked for six more months on its first lead assignment and was granted three (its due
/// date is 2020-03-31 from 2019-12-16 on, so it is not overdue in January); the Public Security
/// Bureau asked for two and was refused.
fn extensions(c: &mut AnyConnection, plan: crate::domain::ids::PlanId) -> Result<(), ApiError> {
    use crate::domain::assignment::AssignmentRole;
    use crate::domain::extension::ExtensionState;
    use crate::store::extensions::{self as ext, Decision, NewExtensionRequest};
    struct Case {
        unit: &'static str,
        asked_at: chrono::NaiveDateTime,
        requested: NaiveDate,
        reason: &'static str,
        progress: &'static str,
        decided_at: chrono::NaiveDateTime,
        granted: Option<NaiveDate>,
        note: &'static str,
    }
    let cases = [
        Case {
            unit: "市司法局",
            asked_at: at(2019, 12, 10, 10)?,
            requested: day(2020, 6, 30)?,
            reason: "配套规章草案需提请市政府常务会议审议，会期安排在2020年一季度。",
            progress: "已完成草案起草、征求意见和合法性审查。",
            decided_at: at(2019, 12, 16, 15)?,
            granted: Some(day(2020, 3, 31)?),
            note: "同意延期至2020年3月31日，请按期报送完成情况。",
        },
        Case {
            unit: "市公安局",
            asked_at: at(2019, 12, 12, 9)?,
            requested: day(2020, 2, 29)?,
            reason: "年底安保任务繁重，专项工作人力不足。",
            progress: "已制定工作方案并部署。",
            decided_at: at(2019, 12, 18, 11)?,
            granted: None,
            note: "该项工作已列入年度计划，请按原定期限完成。",
        },
    ];
    for case in cases {
        let Some(unit) = units::find_by_name_or_alias(c, case.unit)? else {
            continue;
        };
        let filter = store::assignments::AssignmentFilter {
            plan_id: Some(plan),
            unit_id: Some(unit.id),
            role: Some(AssignmentRole::Lead),
            ..Default::default()
        };
        let Some(a) = store::assignments::list(c, &filter, None, 1)?
            .into_iter()
            .next()
        else {
            continue;
        };
        let id = ext::insert(
            c,
            &NewExtensionRequest {
                assignment_id: a.id,
                plan_id: plan,
                unit_id: unit.id,
                state: ExtensionState::Pending,
                due_date: a.due_date,
                requested_due_date: case.requested,
                reason: case.reason.into(),
                progress: case.progress.into(),
                requested_by: None,
                requested_at: case.asked_at,
            },
        )?;
        let decision = Decision {
            state: match case.granted {
                Some(_) => ExtensionState::Approved,
                None => ExtensionState::Rejected,
            },
            granted_due_date: case.granted,
            note: Some(case.note.into()),
            by: None,
            at: case.decided_at,
        };
        ext::decide(c, id, &decision)?;
        if let Some(g) = case.granted {
            store::assignments::reschedule(c, a.id, g, None, a.cycle, case.decided_at)?;
        }
    }
    Ok(())
}

/// Two disputes (异议) of spring 2019, as they would have gone: the Statistics Bureau said a
/// measure given to every city department was not its responsibility and was told that
/// "按职责分工负责" means each answers for its own part; the Civil Affairs Bureau asked to lead
/// a measure it participated in and was made a lead unit beside the first.
fn disputes(c: &mut AnyConnection, plan: crate::domain::ids::PlanId) -> Result<(), ApiError> {
    use crate::domain::assignment::AssignmentRole;
    use crate::domain::dispute::{DisputeKind, DisputeState, Outcome};
    use crate::store::disputes::{self as dp, NewDispute, Settlement};
    struct Case {
        unit: &'static str,
        kind: DisputeKind,
        reason: &'static str,
        raised_at: chrono::NaiveDateTime,
        outcome: Outcome,
        note: &'static str,
        resolved_at: chrono::NaiveDateTime,
    }
    let cases = [
        Case {
            unit: "市统计局",
            kind: DisputeKind::NotOurs,
            reason: "该措施涉及行政审批事项，本单位无相关审批职能。",
            raised_at: at(2019, 3, 12, 10)?,
            outcome: Outcome::Reject,
            note: "“按职责分工负责”指各部门对本部门相关工作负责，请结合本单位职责落实并报送情况。",
            resolved_at: at(2019, 3, 15, 16)?,
        },
        Case {
            unit: "市民政局",
            kind: DisputeKind::ShouldLead,
            reason: "该措施主要涉及社会组织登记管理，属本单位主责。",
            raised_at: at(2019, 4, 2, 9)?,
            outcome: Outcome::ChangeRole,
            note: "同意增列为牵头单位。",
            resolved_at: at(2019, 4, 8, 11)?,
        },
    ];
    for case in cases {
        let Some(unit) = units::find_by_name_or_alias(c, case.unit)? else {
            continue;
        };
        let filter = store::assignments::AssignmentFilter {
            plan_id: Some(plan),
            unit_id: Some(unit.id),
            role: Some(AssignmentRole::Participant),
            ..Default::default()
        };
        let Some(a) = store::assignments::list(c, &filter, None, 1)?
            .into_iter()
            .next()
        else {
            continue;
        };
        let id = dp::insert(
            c,
            &NewDispute {
                assignment_id: Some(a.id),
                plan_id: plan,
                measure_id: a.measure_id,
                unit_id: unit.id,
                role: a.role,
                kind: case.kind,
                reason: case.reason.into(),
                state: DisputeState::Pending,
                raised_by: None,
                raised_at: case.raised_at,
            },
        )?;
        let new_role = (case.outcome == Outcome::ChangeRole).then_some(AssignmentRole::Lead);
        dp::settle(
            c,
            id,
            &Settlement {
                outcome: case.outcome,
                moved_to_unit_id: None,
                new_role,
                note: Some(case.note.into()),
                by: None,
                at: case.resolved_at,
            },
        )?;
        if let Some(role) = new_role {
            store::assignments::set_role(c, a.id, role, case.resolved_at)?;
        }
    }
    Ok(())
}

/// The scopes of the demo's department system: everything the README's walk-through does.
const SYSTEM_SCOPES: [crate::domain::scope::Scope; 7] = crate::domain::scope::Scope::ALL;

/// Loads the demo units and plans and (re)sets the demo accounts, printing their credentials.
/// The account named by `DUBAN_ADMIN_USER` (`configured_admin`) keeps its configured password.
pub fn load(c: &mut AnyConnection, configured_admin: Option<&str>) -> Result<(), String> {
    ensure_units(c)?;
    let mut lines = Vec::new();
    let mut ids = std::collections::HashMap::new();
    for (username, display, role, unit) in ACCOUNTS {
        if configured_admin.is_some_and(|a| a.eq_ignore_ascii_case(username)) {
            lines.push(format!(
                "  {:<14} {:<14} (DUBAN_ADMIN_PASSWORD)",
                role.as_str(),
                username
            ));
            continue;
        }
        let secret: String = random_token().chars().take(20).collect();
        let spec = AccountSpec {
            username: username.into(),
            display_name: display.into(),
            role,
            unit: unit.map(str::to_owned),
            secret: secret.clone(),
            scopes: (role == Role::Service).then(|| SYSTEM_SCOPES.to_vec()),
        };
        let outcome =
            ensure_account(c, &spec).map_err(|e| format!("demo account {username}: {e}"))?;
        let (Ensured::Created(id) | Ensured::Reset(id)) = outcome;
        ids.insert(username, id);
        lines.push(format!(
            "  {:<14} {:<14} {}",
            role.as_str(),
            username,
            secret
        ));
    }
    let unit = |c: &mut AnyConnection, name: &str| {
        units::find_by_name_or_alias(c, name)
            .map_err(|e| e.to_string())?
            .map(|u| u.id)
            .ok_or_else(|| format!("demo unit {name}"))
    };
    let (office, ipo) = (unit(c, OFFICE)?, unit(c, IPO)?);
    if let (Some(coordinator), Some(manager)) = (ids.get("coordinator"), ids.get("ipo-manager")) {
        let cast = current::Cast {
            office: (*coordinator, Some(office)),
            ipo: (*manager, ipo),
        };
        ensure_plans(c, &cast, store::now())?;
    }
    println!("duban demo mode (DUBAN_DEMO=false to turn off); accounts for this run:");
    println!(
        "  {:<14} {:<14} password / client_secret",
        "role", "username"
    );
    for l in lines {
        println!("{l}");
    }
    Ok(())
}
