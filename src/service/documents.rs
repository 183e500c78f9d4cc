//! A plan's documents: the summary table (工作任务, 具体措施, 任务来源, 牵头单位, 参加单位,
//! 工作措施及完成情况) read out and imported, and a unit's annual report draft.

use super::plans::{load, visible};
use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::documents::docx::{AnnualReportInput, Done, Figures};
use crate::domain::assignment::{AssignmentState, Cycle};
use crate::domain::ids::{ItemId, PlanId, UnitId};
use crate::domain::plan::ItemLevel;
use crate::domain::table::{SummaryLine, SummaryRow};
use crate::error::{ApiError, ApiResult};
use crate::store::{assignments, audit, plans, reports, units};
use crate::tables::{self, Answers, ImportOptions, ImportReport};
use chrono::NaiveDate;
use serde_json::json;
use std::collections::HashMap;

/// The summary table of a plan the caller may see, with `unit`'s answers (or every sent answer).
pub fn summary(
    c: &mut AnyConnection,
    ctx: &Ctx,
    plan_id: PlanId,
    unit: Option<UnitId>,
) -> ApiResult<(plans::Plan, Answers, Vec<SummaryLine>)> {
    let (answers, reader) = policy::answers_for(&ctx.principal, unit)?;
    let plan = visible(c, ctx, plan_id)?;
    let rows = tables::export_table(c, plan_id, answers, reader)?;
    Ok((plan, answers, rows))
}

/// How to import a table.
#[derive(Debug, Clone)]
pub struct Import {
    /// Resolve and count only; write nothing.
    pub dry_run: bool,
    /// Import even when unit strings cannot be resolved.
    pub allow_unresolved: bool,
    /// The unit whose answers become its submitted reports.
    pub answers_unit: Option<UnitId>,
    /// Due date of the assignments (default: 31 December of the plan's year).
    pub due_date: Option<NaiveDate>,
    /// Reporting cycle of the assignments (default: yearly).
    pub cycle: Option<Cycle>,
}

/// The office imports the summary table into an empty draft plan, all or nothing.
pub fn import(
    c: &mut AnyConnection,
    ctx: &Ctx,
    plan_id: PlanId,
    rows: &[SummaryRow],
    how: Import,
) -> ApiResult<ImportReport> {
    policy::manage_plans(&ctx.principal)?;
    write_tx(c, |c| {
        let plan = load(c, plan_id)?;
        let due = match how.due_date {
            Some(d) => d,
            None => NaiveDate::from_ymd_opt(plan.year, 12, 31)
                .ok_or_else(|| ApiError::invalid("due_date", "cannot be derived"))?,
        };
        let opts = ImportOptions {
            dry_run: how.dry_run,
            allow_unresolved: how.allow_unresolved,
            answers_unit: how.answers_unit,
            due_date: due,
            cycle: how.cycle.unwrap_or(Cycle::Yearly),
            by: Some(ctx.principal.user_id),
            submitted_at: Some(ctx.now),
            made_at: Some(ctx.now),
        };
        let report = tables::import_table(c, plan_id, rows, &opts)?;
        if !how.dry_run {
            let summary = json!({"measures": report.measures, "assignments": report.assignments, "reports": report.reports});
            let id = Some(plan_id.0);
            audit::record(
                c,
                &ctx.actor,
                "plan.import",
                "plan",
                id,
                None,
                Some(&summary),
            )?;
        }
        Ok(report)
    })
}

/// The unit the annual report is about: the office must name one, a unit gets its own.
pub fn annual_report_unit(ctx: &Ctx, unit: Option<UnitId>) -> ApiResult<UnitId> {
    match policy::answers_for(&ctx.principal, unit)?.0 {
        Answers::Unit(u) => Ok(u),
        Answers::Consolidated => Err(ApiError::invalid("unit", "is required for the office")),
    }
}

/// A unit's annual report draft for a plan: the figures of its assignments, what it did measure
/// by measure, the problems and next steps it reported, and the table of its answers.
pub fn annual_report(
    c: &mut AnyConnection,
    ctx: &Ctx,
    plan_id: PlanId,
    unit: UnitId,
) -> ApiResult<AnnualReportInput> {
    let (answers, reader) = policy::answers_for(&ctx.principal, Some(unit))?;
    let plan = visible(c, ctx, plan_id)?;
    let unit_name = units::find(c, unit)?
        .ok_or_else(|| ApiError::NotFound(format!("no unit {unit}")))?
        .name;
    let filter = assignments::AssignmentFilter {
        plan_id: Some(plan_id),
        unit_id: Some(unit),
        ..Default::default()
    };
    let rows = assignments::list_all(c, &filter)?;
    let standing = super::assignments::with_state(c, ctx, rows)?;
    let mut rf = reports::ReportFilter::for_reader(reader);
    rf.plan_id = Some(plan_id);
    rf.unit_id = Some(unit);
    let unit_reports = reports::list_all(c, &rf)?;
    let items = plans::items(c, plan_id)?;
    let files = super::attachments::names_seen(c, reader, &unit_reports)?;
    Ok(AnnualReportInput {
        unit_name,
        figures: figures(&standing),
        done: done(&standing, &unit_reports, &items, &files),
        problems: listed(&unit_reports, |r| &r.problems),
        next_steps: listed(&unit_reports, |r| &r.next_steps),
        rows: tables::export_table(c, plan_id, answers, reader)?
            .into_iter()
            .map(|l| l.row)
            .collect(),
        plan_title: plan.title,
        date: ctx.today(),
    })
}

/// The unit's line of /stats/units, from the same standing.
fn figures(standing: &[super::assignments::Assigned]) -> Figures {
    let count = |s: AssignmentState| standing.iter().filter(|v| v.state == s).count() as i64;
    Figures {
        assigned: standing.len() as i64,
        reported: standing
            .iter()
            .filter(|v| v.sent_report_id.is_some())
            .count() as i64,
        completed: count(AssignmentState::Completed),
        not_applicable: count(AssignmentState::NotApplicable),
        in_progress: count(AssignmentState::InProgress),
        overdue: count(AssignmentState::Overdue),
    }
}

/// What was done: the sent report that settled each completed assignment, in plan order, as the
/// reader sees it, under its section.
fn done(
    standing: &[super::assignments::Assigned],
    unit_reports: &[reports::Report],
    items: &[plans::Item],
    files: &HashMap<crate::domain::ids::ReportId, Vec<String>>,
) -> Vec<Done> {
    let narrative: HashMap<_, &str> = unit_reports
        .iter()
        .map(|r| (r.id, r.narrative.as_str()))
        .collect();
    let mut done_by_measure: HashMap<ItemId, (String, Vec<String>)> = HashMap::new();
    for v in standing
        .iter()
        .filter(|v| v.state == AssignmentState::Completed)
    {
        let Some(report) = v.sent_report_id else {
            continue;
        };
        if let Some(text) = narrative.get(&report) {
            done_by_measure.entry(v.row.measure_id).or_insert_with(|| {
                (
                    text.trim().to_owned(),
                    files.get(&report).cloned().unwrap_or_default(),
                )
            });
        }
    }
    let by_id: HashMap<ItemId, &plans::Item> = items.iter().map(|i| (i.id, i)).collect();
    let parent = |i: &plans::Item| i.parent_id.and_then(|p| by_id.get(&p).copied());
    let mut done = Vec::new();
    for m in items.iter().filter(|i| i.level == ItemLevel::Measure) {
        if let Some((text, files)) = done_by_measure.remove(&m.id) {
            let section = parent(m).and_then(parent);
            done.push(Done {
                section: section.map(|s| s.title.clone()).unwrap_or_default(),
                measure: format!("{}{}", ItemLevel::Measure.label(&m.number), m.title),
                narrative: text,
                files,
            });
        }
    }
    done
}

/// The distinct non-empty texts of one field of the reports, in order.
fn listed(reports: &[reports::Report], f: fn(&reports::Report) -> &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in reports.iter().map(|r| f(r).trim()) {
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    out
}
