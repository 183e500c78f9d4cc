//! Importing the office's table into an empty draft plan.

use super::{directory, ImportOptions, ImportReport, Resolution};
use crate::db::AnyConnection;
use crate::domain::assignment::AssignmentRole;
use crate::domain::ids::{GroupId, ItemId, PlanId, UnitId};
use crate::domain::plan::{split_heading, ItemLevel, PlanState};
use crate::domain::report::{ReportStatus, Workflow};
use crate::domain::resolve::{Directory, Rule, BY_DUTIES};
use crate::domain::table::{split_sources, SummaryRow};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::{self, assignments, groups, plans, reports, units};
use std::collections::{BTreeMap, HashMap};

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
