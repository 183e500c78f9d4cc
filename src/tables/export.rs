//! Exporting a plan as the office's table.

use crate::db::AnyConnection;
use crate::domain::assignment::AssignmentRole;
use crate::domain::ids::{AssignmentId, ItemId, PlanId, UnitId};
use crate::domain::plan::ItemLevel;
use crate::domain::report::ReportStatus;
use crate::domain::table::{SummaryLine, SummaryRow, UnitAnswer};
use crate::error::{ApiError, ApiResult};
use crate::store::{assignments, plans, reports};
use std::collections::HashMap;

/// Whose answers fill the last column of an export.
#[derive(Debug, Clone, Copy)]
pub enum Answers {
    /// One unit's latest report per measure.
    Unit(UnitId),
    /// Every sent report per measure, the lead units' first, each prefixed with 【unit】.
    Consolidated,
}

/// One answer as the export gathers it.
struct Gathered {
    lead: bool,
    unit_id: UnitId,
    unit: String,
    period: String,
    updated_at: chrono::NaiveDateTime,
    status: ReportStatus,
    text: String,
    files: Vec<String>,
}

/// Exports a plan as the summary table, each answer as `reader` may see it (a unit its own
/// working copy, everyone else what was last sent). An answer is a report of the unit that
/// holds the assignment (the report lists' rule, [`reports::ReportFilter::held_only`]). In the
/// consolidated view each line also carries the lead units' and the participants' answers side
/// by side.
pub fn export_table(
    c: &mut AnyConnection,
    plan_id: PlanId,
    answers: Answers,
    reader: reports::Reader,
) -> ApiResult<Vec<SummaryLine>> {
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
    let mut files = crate::service::attachments::names_seen(c, reader, &all_reports)?;
    let mut texts: HashMap<ItemId, Vec<Gathered>> = HashMap::new();
    for r in &all_reports {
        if let Some((m, role)) = measure_of.get(&r.assignment_id) {
            texts.entry(*m).or_default().push(Gathered {
                lead: *role == AssignmentRole::Lead,
                unit_id: r.unit_id,
                unit: names.get(&r.unit_id).cloned().unwrap_or_default(),
                period: r.period.clone(),
                updated_at: r.updated_at,
                status: r.status,
                text: r.narrative.clone(),
                files: files.remove(&r.id).unwrap_or_default(),
            });
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
        let (mut lead_answers, mut participants) = (Vec::new(), Vec::new());
        let mut completion_files = Vec::new();
        let completion = match answers {
            Answers::Unit(_) => {
                let latest = answers_here.iter().max_by_key(|a| a.updated_at);
                completion_files = latest.map(|a| a.files.clone()).unwrap_or_default();
                latest.map(|a| a.text.clone()).unwrap_or_default()
            }
            Answers::Consolidated => {
                answers_here.sort_by(|a, b| {
                    (!a.lead, &a.unit, &a.period).cmp(&(!b.lead, &b.unit, &b.period))
                });
                let text = answers_here
                    .iter()
                    .map(|a| format!("【{}】{}", a.unit, a.text))
                    .collect::<Vec<_>>()
                    .join("\n");
                for a in answers_here {
                    let answer = UnitAnswer {
                        unit_id: a.unit_id,
                        unit: a.unit,
                        period: a.period,
                        status: a.status,
                        text: a.text,
                        files: a.files,
                    };
                    if a.lead {
                        lead_answers.push(answer);
                    } else {
                        participants.push(answer);
                    }
                }
                text
            }
        };
        let row = SummaryRow {
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
        };
        rows.push(SummaryLine {
            row,
            lead_answers,
            participants,
            files: completion_files,
        });
    }
    Ok(rows)
}
