//! The summary table in and out: importing the office's table into a plan (with a resolution
//! report of every unit string) and exporting a plan back into the same table.
//!
//! Both run inside the caller's transaction: an import that fails anywhere leaves nothing.

use crate::db::AnyConnection;
use crate::domain::assignment::{AssignmentRole, Cycle};
use crate::domain::ids::{AssignmentId, GroupId, ItemId, PlanId, UnitId, UserId};
use crate::domain::plan::{split_heading, ItemLevel, PlanState};
use crate::domain::report::{ReportStatus, Workflow};
use crate::domain::resolve::{Directory, Rule, BY_DUTIES};
use crate::domain::table::{split_sources, SummaryRow};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::{self, assignments, groups, plans, reports, units};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Resolve and count, write nothing.
    pub dry_run: bool,
    /// Import even when some unit strings cannot be resolved (they are then skipped).
    pub allow_unresolved: bool,
    /// The unit whose answers fill the 工作措施及完成情况 column; they become its submitted
    /// reports. Without it the column is ignored.
    pub answers_unit: Option<UnitId>,
    /// The due date of the assignments made.
    pub due_date: NaiveDate,
    /// Their reporting cycle.
    pub cycle: Cycle,
    /// Who imports (recorded on the reports).
    pub by: Option<UserId>,
    /// When the answers were submitted (the date of the unit's report); default now.
    pub submitted_at: Option<chrono::NaiveDateTime>,
    /// When the task tree and assignments count as made (their standing starts then); default
    /// now.
    pub made_at: Option<chrono::NaiveDateTime>,
}

/// How one distinct unit string of the table was understood.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resolution {
    /// The string as written in a 牵头单位 or 参加单位 cell (split at 、 and ，).
    #[schema(example = "市公安局等市级有关部门")]
    pub text: String,
    /// The rule that resolved it.
    pub rule: Rule,
    /// True when it carried 按职责分工负责 (or the misspelling 按职责分工职责).
    pub by_duties: bool,
    /// The group it expanded, if any.
    #[schema(example = "市级有关部门")]
    pub group: Option<String>,
    /// How many units it stands for.
    pub unit_count: usize,
    /// How many cells it appears in.
    pub occurrences: usize,
}

/// What an import did, or would do.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// True when nothing was written.
    pub dry_run: bool,
    /// Sections in the table.
    pub sections: usize,
    /// Tasks in the table.
    pub tasks: usize,
    /// Measures (rows) in the table.
    pub measures: usize,
    /// Distinct source documents cited.
    pub sources: usize,
    /// Assignments made (lead and participant, groups expanded).
    pub assignments: usize,
    /// Reports made from the answers column.
    pub reports: usize,
    /// Distinct unit strings per rule (exact_name, alias, group, unit_with_group, unresolved).
    pub by_rule: BTreeMap<String, usize>,
    /// Distinct unit strings carrying the qualifier 按职责分工负责.
    pub with_qualifier: usize,
    /// Every distinct unit string and how it was resolved.
    pub resolutions: Vec<Resolution>,
    /// The strings that could not be resolved.
    pub unresolved: Vec<String>,
}

/// Loads the names the resolver knows.
pub fn directory(c: &mut AnyConnection) -> ApiResult<Directory> {
    let mut dir = Directory::default();
    let all_units = units::list_all(
        c,
        &units::UnitFilter {
            active: Some(true),
            ..Default::default()
        },
    )?;
    let ids: Vec<UnitId> = all_units.iter().map(|u| u.id).collect();
    for u in &all_units {
        dir.names.insert(u.name.clone(), u.id);
        if let Some(s) = &u.short_name {
            dir.aliases.entry(s.clone()).or_insert(u.id);
        }
    }
    for (id, aliases) in units::aliases_of(c, &ids)? {
        for a in aliases {
            dir.aliases.insert(a, id);
        }
    }
    let all_groups = groups::all(c)?;
    let gids: Vec<GroupId> = all_groups.iter().map(|g| g.id).collect();
    let members = groups::members_of(c, &gids)?;
    for g in &all_groups {
        dir.groups.insert(
            g.name.clone(),
            (g.id.0, members.get(&g.id).cloned().unwrap_or_default()),
        );
    }
    for (alias, gid) in groups::all_aliases(c)? {
        dir.groups.insert(
            alias,
            (gid.0, members.get(&gid).cloned().unwrap_or_default()),
        );
    }
    Ok(dir)
}

fn raw_tokens(cell: &str) -> impl Iterator<Item = String> + '_ {
    cell.split(['、', '，', ',', '；', ';'])
        .map(|t| t.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .filter(|t| !t.is_empty() && !BY_DUTIES.contains(&t.as_str()))
}

struct Parsed {
    section: (String, String),
    task: (String, String),
    measure: (String, String),
}

fn parse_rows(rows: &[SummaryRow]) -> Result<Vec<Parsed>, ApiError> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let line = i + 2;
        let mut get = |level: ItemLevel, text: &str, col: &str| {
            split_heading(level, text).ok_or_else(|| {
                errors.push(FieldError::new(
                    format!("row {line}: {col}"),
                    format!("expected a numbered heading such as {}", level.label("1")),
                ))
            })
        };
        let s = get(ItemLevel::Section, &r.section, "工作板块");
        let t = get(ItemLevel::Task, &r.task, "工作任务");
        let m = get(ItemLevel::Measure, &r.measure, "具体措施");
        if let (Ok(section), Ok(task), Ok(measure)) = (s, t, m) {
            out.push(Parsed {
                section,
                task,
                measure,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn group_names(c: &mut AnyConnection) -> ApiResult<HashMap<i64, String>> {
    Ok(groups::all(c)?
        .into_iter()
        .map(|g| (g.id.0, g.name))
        .collect())
}

/// Resolves every distinct unit string of the table.
fn resolve_all(
    c: &mut AnyConnection,
    dir: &Directory,
    rows: &[SummaryRow],
) -> ApiResult<Vec<Resolution>> {
    let names = group_names(c)?;
    let mut seen: Vec<Resolution> = Vec::new();
    for r in rows {
        for cell in [&r.lead_units, &r.participant_units] {
            for token in raw_tokens(cell) {
                if let Some(existing) = seen.iter_mut().find(|x| x.text == token) {
                    existing.occurrences += 1;
                    continue;
                }
                let resolved = dir.resolve(&token);
                let (rule, group, unit_count) = match resolved.pieces.first() {
                    Some(p) => (
                        p.rule,
                        p.group.and_then(|g| names.get(&g).cloned()),
                        p.units.len(),
                    ),
                    None => (Rule::Unresolved, None, 0),
                };
                seen.push(Resolution {
                    text: token,
                    rule,
                    by_duties: resolved.by_duties,
                    group,
                    unit_count,
                    occurrences: 1,
                });
            }
        }
    }
    Ok(seen)
}

/// Imports a table into an empty plan (or reports what it would do, with `dry_run`).
pub fn import_table(
    c: &mut AnyConnection,
    plan_id: PlanId,
    rows: &[SummaryRow],
    opts: &ImportOptions,
) -> ApiResult<ImportReport> {
    let plan =
        plans::find(c, plan_id)?.ok_or_else(|| ApiError::NotFound(format!("no plan {plan_id}")))?;
    if plan.state != PlanState::Draft {
        return Err(ApiError::Conflict {
            detail: "tables are imported into draft plans only".into(),
            field: None,
        });
    }
    if !plans::items(c, plan_id)?.is_empty() {
        return Err(ApiError::Conflict {
            detail: "the plan already has a task tree; import into an empty plan".into(),
            field: None,
        });
    }
    if let Some(u) = opts.answers_unit {
        if !units::find(c, u)?.is_some_and(|unit| unit.active) {
            return Err(ApiError::invalid("answers_unit", "no such active unit"));
        }
    }
    let parsed = parse_rows(rows)?;
    let dir = directory(c)?;
    let resolutions = resolve_all(c, &dir, rows)?;
    let unresolved: Vec<String> = resolutions
        .iter()
        .filter(|r| r.rule == Rule::Unresolved)
        .map(|r| r.text.clone())
        .collect();
    if !unresolved.is_empty() && !opts.allow_unresolved {
        return Err(ApiError::Validation(
            unresolved
                .iter()
                .map(|u| FieldError::new("units", format!("cannot resolve {u}")))
                .collect(),
        ));
    }
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for r in &resolutions {
        let key = serde_json::to_value(r.rule)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        *by_rule.entry(key).or_default() += 1;
    }
    let mut sources: Vec<String> = Vec::new();
    for r in rows {
        for s in split_sources(&r.sources) {
            if !sources.contains(&s) {
                sources.push(s);
            }
        }
    }
    let mut report = ImportReport {
        dry_run: opts.dry_run,
        sections: 0,
        tasks: 0,
        measures: rows.len(),
        sources: sources.len(),
        assignments: 0,
        reports: 0,
        by_rule,
        with_qualifier: resolutions.iter().filter(|r| r.by_duties).count(),
        resolutions,
        unresolved,
    };
    let now = opts.made_at.unwrap_or_else(store::now);
    let mut position = 0;
    let mut section: Option<(String, ItemId, usize)> = None;
    let mut task: Option<(String, ItemId, usize)> = None;
    let (mut section_count, mut task_in_section, mut measure_in_task) = (0usize, 0usize, 0usize);
    let mut new_assignments = Vec::new();
    let mut answers: Vec<(ItemId, &str)> = Vec::new();
    let mut source_ids: HashMap<String, crate::domain::ids::SourceId> = HashMap::new();
    for (row, p) in rows.iter().zip(&parsed) {
        if section.as_ref().map(|s| &s.0) != Some(&row.section) {
            section_count += 1;
            task_in_section = 0;
            task = None;
            position += 1;
            let code = section_count.to_string();
            let id = if opts.dry_run {
                ItemId(0)
            } else {
                plans::insert_item(
                    c,
                    &plans::NewItem {
                        plan_id,
                        parent_id: None,
                        level: ItemLevel::Section,
                        code: &code,
                        number: &p.section.0,
                        title: &p.section.1,
                        position,
                        lead_text: None,
                        participant_text: None,
                        created_at: now,
                        updated_at: now,
                    },
                )?
            };
            section = Some((row.section.clone(), id, section_count));
            report.sections += 1;
        }
        let (_, section_id, s_idx) = section
            .clone()
            .ok_or_else(|| ApiError::internal("no section"))?;
        if task.as_ref().map(|t| &t.0) != Some(&row.task) {
            task_in_section += 1;
            measure_in_task = 0;
            position += 1;
            let code = format!("{s_idx}.{task_in_section}");
            let id = if opts.dry_run {
                ItemId(0)
            } else {
                plans::insert_item(
                    c,
                    &plans::NewItem {
                        plan_id,
                        parent_id: Some(section_id),
                        level: ItemLevel::Task,
                        code: &code,
                        number: &p.task.0,
                        title: &p.task.1,
                        position,
                        lead_text: None,
                        participant_text: None,
                        created_at: now,
                        updated_at: now,
                    },
                )?
            };
            task = Some((row.task.clone(), id, task_in_section));
            report.tasks += 1;
        }
        let (_, task_id, t_idx) = task.clone().ok_or_else(|| ApiError::internal("no task"))?;
        measure_in_task += 1;
        position += 1;
        let code = format!("{s_idx}.{t_idx}.{measure_in_task}");
        let leads = dir.resolve(&row.lead_units).units();
        let mut participants = dir.resolve(&row.participant_units).units();
        participants.retain(|(u, _)| !leads.iter().any(|(l, _)| l == u));
        report.assignments += leads.len() + participants.len();
        if let Some(answering) = opts.answers_unit {
            let assigned = leads
                .iter()
                .chain(&participants)
                .any(|(u, _)| *u == answering);
            if !row.completion.trim().is_empty() {
                report.reports += 1;
                if !assigned {
                    report.assignments += 1;
                }
            }
        }
        if opts.dry_run {
            continue;
        }
        let measure_id = plans::insert_item(
            c,
            &plans::NewItem {
                plan_id,
                parent_id: Some(task_id),
                level: ItemLevel::Measure,
                code: &code,
                number: &p.measure.0,
                title: &p.measure.1,
                position,
                lead_text: Some(&row.lead_units),
                participant_text: Some(&row.participant_units),
                created_at: now,
                updated_at: now,
            },
        )?;
        let mut ids = Vec::new();
        for s in split_sources(&row.sources) {
            let id = match source_ids.get(&s) {
                Some(id) => *id,
                None => {
                    let id = plans::source_by_number(c, &s, now)?;
                    source_ids.insert(s, id);
                    id
                }
            };
            ids.push(id);
        }
        plans::set_measure_sources(c, measure_id, &ids)?;
        let mk =
            |(unit, via): (UnitId, Option<i64>), role: AssignmentRole| assignments::NewAssignment {
                plan_id,
                measure_id,
                unit_id: unit,
                role,
                via_group_id: via.map(GroupId),
                due_date: opts.due_date,
                cycle: opts.cycle,
                created_at: now,
                updated_at: now,
            };
        new_assignments.extend(leads.iter().map(|x| mk(*x, AssignmentRole::Lead)));
        new_assignments.extend(
            participants
                .iter()
                .map(|x| mk(*x, AssignmentRole::Participant)),
        );
        if let Some(answering) = opts.answers_unit {
            let assigned = leads
                .iter()
                .chain(&participants)
                .any(|(u, _)| *u == answering);
            if !row.completion.trim().is_empty() {
                if !assigned {
                    new_assignments.push(mk((answering, None), AssignmentRole::Participant));
                }
                answers.push((measure_id, row.completion.as_str()));
            }
        }
    }
    if opts.dry_run {
        return Ok(report);
    }
    assignments::insert_many(c, &new_assignments)?;
    if let Some(answering) = opts.answers_unit {
        let period = opts.cycle.period_of(opts.due_date);
        let sent_at = opts.submitted_at.unwrap_or(now);
        for (measure, text) in answers {
            let a = assignments::of_unit_on_measure(c, answering, measure)?
                .ok_or_else(|| ApiError::internal("answer without assignment"))?;
            let id = reports::insert(
                c,
                &reports::NewReport {
                    assignment_id: a.id,
                    unit_id: answering,
                    period: period.clone(),
                    status: ReportStatus::from_answer(text),
                    narrative: text.to_owned(),
                    problems: String::new(),
                    next_steps: String::new(),
                    workflow: Workflow::Submitted,
                    version: 1,
                    created_by: opts.by,
                    updated_by: opts.by,
                    submitted_at: Some(sent_at),
                    created_at: sent_at,
                    updated_at: sent_at,
                },
            )?;
            let r = reports::find(c, id)?.ok_or_else(|| ApiError::internal("report vanished"))?;
            reports::insert_revision(c, &r, opts.by, sent_at)?;
        }
    }
    Ok(report)
}

/// Whose answers fill the last column of an export.
#[derive(Debug, Clone, Copy)]
pub enum Answers {
    /// One unit's latest report per measure.
    Unit(UnitId),
    /// Every sent report per measure, the lead units' first, each prefixed with 【unit】.
    Consolidated,
}

/// Exports a plan as the summary table, each answer as `reader` may see it (a unit its own
/// working copy, everyone else what was last sent).
pub fn export_table(
    c: &mut AnyConnection,
    plan_id: PlanId,
    answers: Answers,
    reader: reports::Reader,
) -> ApiResult<Vec<SummaryRow>> {
    plans::find(c, plan_id)?.ok_or_else(|| ApiError::NotFound(format!("no plan {plan_id}")))?;
    let items = plans::items(c, plan_id)?;
    let sources = plans::sources_by_measure(c, plan_id)?;
    let by_id: HashMap<ItemId, &plans::Item> = items.iter().map(|i| (i.id, i)).collect();
    let mut filter = reports::ReportFilter::for_reader(reader);
    filter.plan_id = Some(plan_id);
    filter.unit_id = match answers {
        Answers::Unit(u) => Some(u),
        Answers::Consolidated => None,
    };
    let all_reports = reports::list_all(c, &filter)?;
    let assignment_ids: Vec<AssignmentId> = all_reports.iter().map(|r| r.assignment_id).collect();
    let measure_of: HashMap<AssignmentId, (ItemId, AssignmentRole)> =
        assignments::measures_of(c, &assignment_ids)?
            .into_iter()
            .map(|(a, m, role)| (a, (m, role)))
            .collect();
    let unit_ids: Vec<UnitId> = all_reports.iter().map(|r| r.unit_id).collect();
    let names: HashMap<UnitId, String> =
        assignments::unit_names(c, &unit_ids)?.into_iter().collect();
    let mut texts: HashMap<ItemId, Vec<(bool, String, chrono::NaiveDateTime, String)>> =
        HashMap::new();
    for r in &all_reports {
        if let Some((m, role)) = measure_of.get(&r.assignment_id) {
            texts.entry(*m).or_default().push((
                *role != AssignmentRole::Lead,
                names.get(&r.unit_id).cloned().unwrap_or_default(),
                r.updated_at,
                r.narrative.clone(),
            ));
        }
    }
    let mut rows = Vec::new();
    for m in items.iter().filter(|i| i.level == ItemLevel::Measure) {
        let task = m
            .parent_id
            .and_then(|p| by_id.get(&p))
            .ok_or_else(|| ApiError::internal("measure without task"))?;
        let section = task
            .parent_id
            .and_then(|p| by_id.get(&p))
            .ok_or_else(|| ApiError::internal("task without section"))?;
        let mut answers_here = texts.remove(&m.id).unwrap_or_default();
        let completion = match answers {
            Answers::Unit(_) => answers_here
                .iter()
                .max_by_key(|a| a.2)
                .map(|a| a.3.clone())
                .unwrap_or_default(),
            Answers::Consolidated => {
                answers_here.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
                answers_here
                    .iter()
                    .map(|a| format!("【{}】{}", a.1, a.3))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        rows.push(SummaryRow {
            section: format!(
                "{}{}",
                ItemLevel::Section.label(&section.number),
                section.title
            ),
            task: format!("{}{}", ItemLevel::Task.label(&task.number), task.title),
            measure: format!("{}{}", ItemLevel::Measure.label(&m.number), m.title),
            sources: sources
                .get(&m.id)
                .map(|s| {
                    s.iter()
                        .map(|x| x.1.as_str())
                        .collect::<Vec<_>>()
                        .join("、")
                })
                .unwrap_or_default(),
            lead_units: m.lead_text.clone().unwrap_or_default(),
            participant_units: m.participant_text.clone().unwrap_or_default(),
            completion,
        });
    }
    Ok(rows)
}
