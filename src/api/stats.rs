//! Figures (`/stats/...`): per unit with a ranking, per section, per source document, and a
//! plan's totals with its progress by month, all from the assignments' standing. A unit sees
//! only its own line.

use super::extract::{Caller, Query};
use crate::app::AppState;
use crate::domain::ids::UnitId;
use crate::error::ApiResult;
use crate::service;
use crate::store::desk::{Dimension, StatRow};
use actix_web::{get, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Filters of the statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Only this plan (default: every published plan).
    pub plan: Option<i64>,
    /// The day to judge by (default today).
    #[param(example = "2020-01-15")]
    pub as_of: Option<NaiveDate>,
}

/// Counts for one unit, section, plan or source document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatItem {
    /// The unit, section, plan or source id.
    pub id: i64,
    /// Its name (a unit's name, a section's title, a plan's title, a 文号).
    #[schema(example = "市司法局")]
    pub name: String,
    /// Assignments.
    pub assigned: i64,
    /// With a sent (submitted, resubmitted or accepted) report that stands.
    pub reported: i64,
    /// Nothing sent yet (or only "not started"), not overdue.
    pub not_started: i64,
    /// Sent work in progress, or returned to the unit, not overdue.
    pub in_progress: i64,
    /// Reported completed.
    pub completed: i64,
    /// Reported not applicable (不涉及).
    pub not_applicable: i64,
    /// Overdue by the documented rule (the same as `/overdue`). The five states add up to
    /// `assigned`, as the states in `/assignments` do.
    pub overdue: i64,
    /// With a report returned and not yet sent again.
    pub returned: i64,
    /// Urged at least once.
    pub urged: i64,
    /// Not yet signed for by the unit (签收).
    pub unreceived: i64,
    /// Done by the due date, over those done or due (1.0 when nothing is due yet).
    #[schema(example = 0.85)]
    pub on_time_rate: f64,
    /// Average days late over those done late or still overdue (0 when none).
    #[schema(example = 12.5)]
    pub average_days_late: f64,
    /// Place by on-time rate, then fewest overdue (units only; 1 is best).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rank: Option<usize>,
    /// Extension requests (延期申请) the unit made by then (units only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub extension_requests: Option<i64>,
    /// Of them, approved by then (units only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub extensions_approved: Option<i64>,
    /// Disputes (异议) the unit raised by then (units only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub disputes: Option<i64>,
    /// Of them, resolved by then other than by rejection: withdrawn, moved or re-roled (units
    /// only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub disputes_upheld: Option<i64>,
    /// As a lead unit (牵头单位): participant assignments on the measures it leads (units only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub participant_assignments: Option<i64>,
    /// Of them, with a sent report standing by then: the participants' answers it has in hand
    /// to consolidate (units only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub participant_answers: Option<i64>,
    /// Assignments behind their time-proportional share (序时进度: the percent last sent below
    /// the share of reporting periods elapsed), not done and not overdue (units only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub behind: Option<i64>,
}

/// Statistics per group.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    /// The day they were judged by.
    pub as_of: NaiveDate,
    /// One item per group.
    pub items: Vec<StatItem>,
}

/// Completions in one month.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthProgress {
    /// `YYYY-MM`.
    #[schema(example = "2019-11")]
    pub month: String,
    /// Assignments first reported done that month.
    pub done: i64,
    /// Done so far, cumulatively.
    pub cumulative: i64,
}

/// A plan's statistics with its progress by month.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanStats {
    /// The day they were judged by.
    pub as_of: NaiveDate,
    /// The plan's counts.
    pub totals: StatItem,
    /// Per section.
    pub sections: Vec<StatItem>,
    /// Completions by month.
    pub by_month: Vec<MonthProgress>,
}

fn stat_item(r: StatRow) -> StatItem {
    let rate = if r.due_or_done == 0 {
        1.0
    } else {
        r.on_time as f64 / r.due_or_done as f64
    };
    let late = if r.late == 0 {
        0.0
    } else {
        r.days_late as f64 / r.late as f64
    };
    StatItem {
        id: r.key_id,
        name: r.key_name,
        assigned: r.assigned,
        reported: r.reported,
        not_started: r.not_started,
        in_progress: r.in_progress,
        completed: r.completed,
        not_applicable: r.not_applicable,
        overdue: r.overdue,
        returned: r.returned,
        urged: r.urged,
        unreceived: r.unreceived,
        on_time_rate: (rate * 10_000.0).round() / 10_000.0,
        average_days_late: (late * 100.0).round() / 100.0,
        rank: None,
        extension_requests: None,
        extensions_approved: None,
        disputes: None,
        disputes_upheld: None,
        participant_assignments: None,
        participant_answers: None,
        behind: None,
    }
}

/// Places units by on-time rate, then fewest overdue, then id (1 is best).
fn rank(items: &mut [StatItem]) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        items[b]
            .on_time_rate
            .total_cmp(&items[a].on_time_rate)
            .then(items[a].overdue.cmp(&items[b].overdue))
            .then(items[a].id.cmp(&items[b].id))
    });
    for (place, i) in order.into_iter().enumerate() {
        items[i].rank = Some(place + 1);
    }
}

async fn stats(
    state: &AppState,
    caller: &Caller,
    dim: Dimension,
    q: StatsQuery,
) -> ApiResult<web::Json<Stats>> {
    let ctx = caller.ctx();
    let figures = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::desk::stats(c, &ctx, dim, q.plan, q.as_of)
        })
        .await?;
    let mut items: Vec<StatItem> = figures.rows.into_iter().map(stat_item).collect();
    if let Some(extras) = &figures.per_unit {
        for item in &mut items {
            let e = extras.get(&UnitId(item.id)).copied().unwrap_or_default();
            item.extension_requests = Some(e.extension_requests);
            item.extensions_approved = Some(e.extensions_approved);
            item.disputes = Some(e.disputes);
            item.disputes_upheld = Some(e.disputes_upheld);
            item.participant_assignments = Some(e.participant_assignments);
            item.participant_answers = Some(e.participant_answers);
            item.behind = Some(e.behind);
        }
    }
    if dim == Dimension::Unit {
        rank(&mut items);
    }
    Ok(web::Json(Stats {
        as_of: figures.as_of,
        items,
    }))
}

/// Statistics per unit, with a ranking (units see only their own line).
#[utoipa::path(tag = "desk", params(StatsQuery), responses((status = 200, description = "One item per unit", body = Stats)))]
#[get("/stats/units")]
pub async fn stats_units(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<StatsQuery>,
) -> ApiResult<web::Json<Stats>> {
    stats(&state, &caller, Dimension::Unit, query.0).await
}

/// Statistics per section of the plan(s).
#[utoipa::path(tag = "desk", params(StatsQuery), responses((status = 200, description = "One item per section", body = Stats)))]
#[get("/stats/sections")]
pub async fn stats_sections(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<StatsQuery>,
) -> ApiResult<web::Json<Stats>> {
    stats(&state, &caller, Dimension::Section, query.0).await
}

/// Statistics per source document (an assignment counts for each document its measure cites).
#[utoipa::path(tag = "desk", params(StatsQuery), responses((status = 200, description = "One item per source document", body = Stats)))]
#[get("/stats/sources")]
pub async fn stats_sources(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<StatsQuery>,
) -> ApiResult<web::Json<Stats>> {
    stats(&state, &caller, Dimension::Source, query.0).await
}

/// A plan's statistics: totals, per section, and completions by month.
#[utoipa::path(
    tag = "desk",
    params(("id" = i64, Path, description = "The plan's id"), ("as_of" = Option<NaiveDate>, Query, description = "The day to judge by (default today)")),
    responses((status = 200, description = "The plan's statistics", body = PlanStats), (status = 404, description = "No such published plan"))
)]
#[get("/stats/plans/{id}")]
pub async fn stats_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: Query<StatsQuery>,
) -> ApiResult<web::Json<PlanStats>> {
    let (plan, as_of, ctx) = (id.into_inner(), query.0.as_of, caller.ctx());
    let figures = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::desk::plan_stats(c, &ctx, plan, as_of)
        })
        .await?;
    let mut cumulative = 0;
    let by_month = figures
        .months
        .into_iter()
        .map(|m| {
            cumulative += m.done;
            MonthProgress {
                month: m.month,
                done: m.done,
                cumulative,
            }
        })
        .collect();
    Ok(web::Json(PlanStats {
        as_of: figures.as_of,
        totals: stat_item(figures.totals),
        sections: figures.sections.into_iter().map(stat_item).collect(),
        by_month,
    }))
}
