//! Assignments: who may see which, and where each stands (its state read from its standing,
//! the same facts the desk, the statistics and the documents read).

use super::Ctx;
use crate::auth::{policy, Principal};
use crate::db::AnyConnection;
use crate::domain::assignment::AssignmentState;
use crate::domain::ids::{AssignmentId, ReportId, UnitId};
use crate::domain::plan::PlanState;
use crate::error::{ApiError, ApiResult};
use crate::store::{assignments, plans, reports, standing};
use std::collections::HashMap;

/// An assignment with where it stands today.
#[derive(Debug, Clone)]
pub struct Assigned {
    /// The assignment.
    pub row: assignments::Assignment,
    /// Its state as of today.
    pub state: AssignmentState,
    /// The latest report the caller may see on it: for its own unit the latest report, drafts
    /// included; for anyone else the latest sent report that stands.
    pub latest_report_id: Option<ReportId>,
    /// The latest sent report that stands (what the office reads), if any.
    pub sent_report_id: Option<ReportId>,
}

/// The assignment, if the caller may see it: the office any; a unit its own and those on the
/// measures it leads, once the plan is published. Otherwise "not found". A department system
/// needs `assignments:read`.
pub fn visible(
    c: &mut AnyConnection,
    p: &Principal,
    id: AssignmentId,
) -> ApiResult<assignments::Assignment> {
    visible_in(c, policy::assignment_scope(p)?, id)
}

/// [`visible`] for a caller limited to `scope` (`None`: the office).
pub fn visible_in(
    c: &mut AnyConnection,
    scope: Option<UnitId>,
    id: AssignmentId,
) -> ApiResult<assignments::Assignment> {
    let not_found = || ApiError::NotFound(format!("no assignment {id}"));
    let a = assignments::find(c, id)?.ok_or_else(not_found)?;
    let Some(own) = scope else {
        return Ok(a);
    };
    let plan = plans::find(c, a.plan_id)?.ok_or_else(not_found)?;
    let published = plan.state != PlanState::Draft;
    if published && (a.unit_id == own || assignments::leads_of(c, a.measure_id)?.contains(&own)) {
        Ok(a)
    } else {
        Err(not_found())
    }
}

/// The assignments with their state as of today and the latest report the caller may see.
pub fn with_state(
    c: &mut AnyConnection,
    ctx: &Ctx,
    rows: Vec<assignments::Assignment>,
) -> ApiResult<Vec<Assigned>> {
    let ids: Vec<AssignmentId> = rows.iter().map(|a| a.id).collect();
    let today = ctx.today();
    let standings = standing::as_of(c, &ids, today)?;
    let own: Option<UnitId> = match policy::report_reader(&ctx.principal) {
        Ok(reports::Reader::Unit(u)) => Some(u),
        _ => None,
    };
    let own_ids: Vec<AssignmentId> = rows
        .iter()
        .filter(|a| Some(a.unit_id) == own)
        .map(|a| a.id)
        .collect();
    let latest_own: HashMap<AssignmentId, ReportId> =
        reports::latest_ids(c, &own_ids)?.into_iter().collect();
    rows.into_iter()
        .map(|a| {
            let s = standings.get(&a.id).ok_or_else(|| {
                ApiError::internal(format!("assignment {} has no standing", a.id))
            })?;
            let latest_report_id = if Some(a.unit_id) == own {
                latest_own.get(&a.id).copied()
            } else {
                s.sent_report_id
            };
            Ok(Assigned {
                state: s.state(today),
                sent_report_id: s.sent_report_id,
                latest_report_id,
                row: a,
            })
        })
        .collect()
}
