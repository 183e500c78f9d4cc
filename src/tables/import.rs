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

/// Refuses an import into anything but an empty draft plan, or with an unknown answering unit.
fn check_target(c: &mut AnyConnection, plan_id: PlanId, opts: &ImportOptions) -> ApiResult<()> {
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
    Ok(())
}

/// How every unit string resolves, refused when some do not and that is not allowed; the
/// report's counts of rules and sources.
fn resolution_report(
    c: &mut AnyConnection,
    dir: &Directory,
    rows: &[SummaryRow],
    opts: &ImportOptions,
) -> ApiResult<ImportReport> {
    let resolutions = resolve_all(c, dir, rows)?;
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
    Ok(ImportReport {
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
    })
}

/// Writes the task tree row by row, numbering sections, tasks and measures in document order.
struct TreeWriter<'a> {
    plan_id: PlanId,
    opts: &'a ImportOptions,
    now: chrono::NaiveDateTime,
    position: i32,
    section: Option<(String, ItemId, usize)>,
    task: Option<(String, ItemId, usize)>,
    sections: usize,
    tasks_in_section: usize,
    measures_in_task: usize,
}

impl TreeWriter<'_> {
    #[allow(clippy::too_many_arguments)]
    fn item(
        &mut self,
        c: &mut AnyConnection,
        parent: Option<ItemId>,
        level: ItemLevel,
        code: &str,
        (number, title): (&str, &str),
        units: (Option<&str>, Option<&str>),
    ) -> ApiResult<ItemId> {
        self.position += 1;
        if self.opts.dry_run {
            return Ok(ItemId(0));
        }
        Ok(plans::insert_item(
            c,
            &plans::NewItem {
                plan_id: self.plan_id,
                parent_id: parent,
                level,
                code,
                number,
                title,
                position: self.position,
                lead_text: units.0,
                participant_text: units.1,
                created_at: self.now,
                updated_at: self.now,
            },
        )?)
    }

    /// The section and task of this row (written when they start), and the new measure's code.
    fn enter(
        &mut self,
        c: &mut AnyConnection,
        row: &SummaryRow,
        p: &Parsed,
        report: &mut ImportReport,
    ) -> ApiResult<(ItemId, String)> {
        if self.section.as_ref().map(|s| &s.0) != Some(&row.section) {
            self.sections += 1;
            self.tasks_in_section = 0;
            self.task = None;
            let code = self.sections.to_string();
            let (number, title) = (p.section.0.as_str(), p.section.1.as_str());
            let id = self.item(
                c,
                None,
                ItemLevel::Section,
                &code,
                (number, title),
                (None, None),
            )?;
            self.section = Some((row.section.clone(), id, self.sections));
            report.sections += 1;
        }
        let (_, section_id, s_idx) = self
            .section
            .clone()
            .ok_or_else(|| ApiError::internal("no section"))?;
        if self.task.as_ref().map(|t| &t.0) != Some(&row.task) {
            self.tasks_in_section += 1;
            self.measures_in_task = 0;
            let code = format!("{s_idx}.{}", self.tasks_in_section);
            let (number, title) = (p.task.0.as_str(), p.task.1.as_str());
            let id = self.item(
                c,
                Some(section_id),
                ItemLevel::Task,
                &code,
                (number, title),
                (None, None),
            )?;
            self.task = Some((row.task.clone(), id, self.tasks_in_section));
            report.tasks += 1;
        }
        let (_, task_id, t_idx) = self
            .task
            .clone()
            .ok_or_else(|| ApiError::internal("no task"))?;
        self.measures_in_task += 1;
        Ok((
            task_id,
            format!("{s_idx}.{t_idx}.{}", self.measures_in_task),
        ))
    }
}

/// The answering unit's answers become its submitted reports, sent at `sent_at`.
fn write_answers(
    c: &mut AnyConnection,
    opts: &ImportOptions,
    answering: UnitId,
    answers: &[(ItemId, &str)],
    sent_at: chrono::NaiveDateTime,
) -> ApiResult<()> {
    let period = opts.cycle.period_of(opts.due_date);
    for (measure, text) in answers {
        let a = assignments::of_unit_on_measure(c, answering, *measure)?
            .ok_or_else(|| ApiError::internal("answer without assignment"))?;
        let id = reports::insert(
            c,
            &reports::NewReport {
                assignment_id: a.id,
                unit_id: answering,
                period: period.clone(),
                status: ReportStatus::from_answer(text),
                narrative: (*text).to_owned(),
                problems: String::new(),
                next_steps: String::new(),
                progress: None,
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
    Ok(())
}

/// Imports a table into an empty plan (or reports what it would do, with `dry_run`).
pub fn import_table(
    c: &mut AnyConnection,
    plan_id: PlanId,
    rows: &[SummaryRow],
    opts: &ImportOptions,
) -> ApiResult<ImportReport> {
    check_target(c, plan_id, opts)?;
    let parsed = parse_rows(rows)?;
    let dir = directory(c)?;
    let mut report = resolution_report(c, &dir, rows, opts)?;
    let now = opts.made_at.unwrap_or_else(store::now);
    let mut tree = TreeWriter {
        plan_id,
        opts,
        now,
        position: 0,
        section: None,
        task: None,
        sections: 0,
        tasks_in_section: 0,
        measures_in_task: 0,
    };
    let mut new_assignments = Vec::new();
    let mut answers: Vec<(ItemId, &str)> = Vec::new();
    let mut source_ids: HashMap<String, crate::domain::ids::SourceId> = HashMap::new();
    for (row, p) in rows.iter().zip(&parsed) {
        let (task_id, code) = tree.enter(c, row, p, &mut report)?;
        let leads = dir.resolve(&row.lead_units).units();
        let mut participants = dir.resolve(&row.participant_units).units();
        participants.retain(|(u, _)| !leads.iter().any(|(l, _)| l == u));
        report.assignments += leads.len() + participants.len();
        // The answering unit answers a measure it was not given as a participant.
        let answered = opts
            .answers_unit
            .filter(|_| !row.completion.trim().is_empty());
        let unassigned_answer =
            answered.filter(|a| !leads.iter().chain(&participants).any(|(u, _)| u == a));
        if answered.is_some() {
            report.reports += 1;
        }
        if unassigned_answer.is_some() {
            report.assignments += 1;
        }
        let (number, title) = (p.measure.0.as_str(), p.measure.1.as_str());
        let units = (
            Some(row.lead_units.as_str()),
            Some(row.participant_units.as_str()),
        );
        let measure_id = tree.item(
            c,
            Some(task_id),
            ItemLevel::Measure,
            &code,
            (number, title),
            units,
        )?;
        if opts.dry_run {
            continue;
        }
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
                due_working_days: None,
                due_counted_from: None,
            };
        new_assignments.extend(leads.iter().map(|x| mk(*x, AssignmentRole::Lead)));
        new_assignments.extend(
            participants
                .iter()
                .map(|x| mk(*x, AssignmentRole::Participant)),
        );
        if let Some(a) = unassigned_answer {
            new_assignments.push(mk((a, None), AssignmentRole::Participant));
        }
        if answered.is_some() {
            answers.push((measure_id, row.completion.as_str()));
        }
    }
    if opts.dry_run {
        return Ok(report);
    }
    assignments::insert_many(c, &new_assignments)?;
    if let Some(answering) = opts.answers_unit {
        write_answers(
            c,
            opts,
            answering,
            &answers,
            opts.submitted_at.unwrap_or(now),
        )?;
    }
    Ok(report)
}
