//! Assignments: who may see which, and where each stands (its state read from its standing,
//! the same facts the desk, the statistics and the documents read).

use super::Ctx;
use crate::auth::{policy, Principal};
use crate::db::write_tx;
use crate::db::AnyConnection;
use crate::domain::assignment::{AssignmentRole, AssignmentState, Cycle};
use crate::domain::calendar::{DueAnchor, DueRule, WorkingDaysDue, MAX_DUE_WORKING_DAYS};
use crate::domain::ids::{AssignmentId, GroupId, ItemId, ReportId, UnitId};
use crate::domain::plan::{ItemLevel, PlanState};
use crate::domain::webhook::EventType;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, assignments, audit, groups, plans, reports, standing, units};
use chrono::NaiveDate;
use serde_json::json;
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
    visible_with_plan_state(c, scope, id).map(|(a, _)| a)
}

/// [`visible_in`], with the state of the assignment's plan read in the same statement.
pub fn visible_with_plan_state(
    c: &mut AnyConnection,
    scope: Option<UnitId>,
    id: AssignmentId,
) -> ApiResult<(assignments::Assignment, PlanState)> {
    let not_found = || ApiError::NotFound(format!("no assignment {id}"));
    let (a, plan_state) = assignments::find_with_plan_state(c, id)?.ok_or_else(not_found)?;
    let Some(own) = scope else {
        return Ok((a, plan_state));
    };
    let published = plan_state != PlanState::Draft;
    if published && (a.unit_id == own || assignments::leads_of(c, a.measure_id)?.contains(&own)) {
        Ok((a, plan_state))
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
    let latest_own: HashMap<AssignmentId, ReportId> = match own {
        Some(u) => reports::latest_ids(c, &own_ids, u)?.into_iter().collect(),
        None => HashMap::new(),
    };
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

fn one(c: &mut AnyConnection, ctx: &Ctx, a: assignments::Assignment) -> ApiResult<Assigned> {
    with_state(c, ctx, vec![a])?
        .pop()
        .ok_or_else(|| ApiError::internal("view vanished"))
}

/// One page of the assignments the caller may see, with their state.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    mut f: assignments::AssignmentFilter,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<store::Page<Assigned>> {
    let scope = policy::assignment_scope(&ctx.principal)?;
    if let Some(own) = scope {
        f.plan_states = Some(vec![PlanState::Published, PlanState::Closed]);
        let leads_measure = match f.measure_id {
            Some(m) => assignments::leads_of(c, m)?.contains(&own),
            None => false,
        };
        f.unit_id = policy::assignment_units(scope, f.unit_id, leads_measure)?;
    }
    let rows = assignments::list(c, &f, after, limit)?;
    let page = store::Page::from_rows(rows, limit, |a| a.id.0);
    Ok(store::Page {
        items: with_state(c, ctx, page.items)?,
        next_after: page.next_after,
    })
}

/// One assignment the caller may see, with its state.
pub fn get(c: &mut AnyConnection, ctx: &Ctx, id: AssignmentId) -> ApiResult<Assigned> {
    let a = visible(c, &ctx.principal, id)?;
    one(c, ctx, a)
}

/// Units and groups for one role.
#[derive(Debug, Clone, Default)]
pub struct Assignees {
    /// Units by id.
    pub unit_ids: Vec<UnitId>,
    /// Groups by id, each expanded to its active members.
    pub group_ids: Vec<GroupId>,
}

impl Assignees {
    fn is_empty(&self) -> bool {
        self.unit_ids.is_empty() && self.group_ids.is_empty()
    }
}

/// A measure given to lead and participating units.
#[derive(Debug, Clone)]
pub struct Assign {
    /// The lead units (牵头单位).
    pub lead: Assignees,
    /// The participating units; a unit that is also a lead is assigned as lead only.
    pub participants: Assignees,
    /// Due date, or working days from the assignment or the plan's publication (default:
    /// 31 December of the plan's year).
    pub due: Option<DueRule>,
    /// Reporting cycle (default: yearly).
    pub cycle: Option<Cycle>,
}

/// The due date as a caller gives it: a day or a number of working days, not both (422 naming
/// the field); `None` when neither is given.
pub fn due_rule(
    due_date: Option<NaiveDate>,
    working_days: Option<u32>,
    counted_from: Option<DueAnchor>,
) -> ApiResult<Option<DueRule>> {
    match (due_date, working_days, counted_from) {
        (Some(_), Some(_), _) => Err(ApiError::invalid(
            "due_working_days",
            "give due_date or due_working_days, not both",
        )),
        (_, None, Some(_)) => Err(ApiError::invalid(
            "due_counted_from",
            "goes with due_working_days",
        )),
        (Some(d), None, None) => Ok(Some(DueRule::On(d))),
        (None, Some(days), from) => Ok(Some(DueRule::Within(WorkingDaysDue {
            days,
            from: from.unwrap_or(DueAnchor::Assignment),
        }))),
        (None, None, None) => Ok(None),
    }
}

/// The due date a rule gives for an assignment made on `made_on` in a plan published on
/// `published_on`, on the calendar as it stands, and the working-day rule to keep (422 naming
/// `due_date` or `due_working_days` when it falls outside the days duban works with).
pub(crate) fn due_of(
    c: &mut AnyConnection,
    rule: DueRule,
    made_on: NaiveDate,
    published_on: Option<NaiveDate>,
) -> ApiResult<(NaiveDate, Option<WorkingDaysDue>)> {
    match rule {
        DueRule::On(d) => Ok((super::checked_day("due_date", d)?, None)),
        DueRule::Within(w) => {
            if w.days == 0 || w.days > MAX_DUE_WORKING_DAYS {
                return Err(ApiError::invalid(
                    "due_working_days",
                    format!("must be 1 to {MAX_DUE_WORKING_DAYS} working days"),
                ));
            }
            let cal = store::calendar::load(c)?;
            let due = w
                .due_date(&cal, made_on, published_on)
                .filter(|d| crate::domain::assignment::day_in_range(*d))
                .ok_or_else(|| {
                    ApiError::invalid("due_working_days", "reaches past the days duban works with")
                })?;
            Ok((due, Some(w)))
        }
    }
}

/// Counts again the due dates given in working days, on the calendar as it now stands: those
/// of one plan (on its publication) or those due on or after a day whose calendar changed.
/// Each that moves is rescheduled as any other, with its audit entry naming the reason.
pub(crate) fn recount_due_dates(
    c: &mut AnyConnection,
    ctx: &Ctx,
    plan: Option<crate::domain::ids::PlanId>,
    due_from: Option<NaiveDate>,
    reason: &str,
    announce: bool,
) -> ApiResult<usize> {
    let rows = assignments::with_working_days_due(c, plan, due_from)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let cal = store::calendar::load(c)?;
    let mut moved_n = 0;
    for (a, published_at) in rows {
        let Some(rule) = a.working_days_due() else {
            continue;
        };
        let Some(due) = rule
            .due_date(&cal, a.created_at.date(), published_at.map(|t| t.date()))
            .filter(|d| crate::domain::assignment::day_in_range(*d))
        else {
            continue;
        };
        if due != a.due_date {
            moved(
                c,
                ctx,
                &a,
                (due, Some(rule)),
                a.cycle,
                Some(reason),
                announce,
            )?;
            moved_n += 1;
        }
    }
    Ok(moved_n)
}

/// The units named, each with the group it came through, groups expanded to their members.
fn expand(
    c: &mut AnyConnection,
    a: &Assignees,
    field: &str,
) -> ApiResult<Vec<(UnitId, Option<GroupId>)>> {
    let mut out: Vec<(UnitId, Option<GroupId>)> = Vec::new();
    for (i, u) in a.unit_ids.iter().enumerate() {
        match units::find(c, *u)? {
            Some(unit) if unit.active => out.push((*u, None)),
            _ => {
                let at = format!("{field}.unit_ids[{i}]");
                return Err(ApiError::invalid(at, "no such active unit"));
            }
        }
    }
    if !a.group_ids.is_empty() {
        let members = groups::members_of(c, &a.group_ids)?;
        for (i, g) in a.group_ids.iter().enumerate() {
            if groups::find(c, *g)?.is_none() {
                let at = format!("{field}.group_ids[{i}]");
                return Err(ApiError::invalid(at, "no such group"));
            }
            for u in members.get(g).cloned().unwrap_or_default() {
                if !out.iter().any(|(x, _)| *x == u) {
                    out.push((u, Some(*g)));
                }
            }
        }
    }
    Ok(out)
}

/// The measure, in a plan that is not closed.
fn open_measure(c: &mut AnyConnection, id: ItemId) -> ApiResult<(plans::Item, plans::Plan)> {
    let m = plans::find_item(c, id)?
        .filter(|m| m.level == ItemLevel::Measure)
        .ok_or_else(|| ApiError::NotFound(format!("no measure {id}")))?;
    let plan =
        plans::find(c, m.plan_id)?.ok_or_else(|| ApiError::internal("measure without plan"))?;
    super::plans::ensure_not_closed(&plan)?;
    Ok((m, plan))
}

/// The office assigns a measure to units and groups (groups expand to one assignment per
/// member); units already assigned are skipped and named.
pub fn assign(
    c: &mut AnyConnection,
    ctx: &Ctx,
    measure_id: ItemId,
    how: Assign,
) -> ApiResult<(Vec<Assigned>, Vec<UnitId>)> {
    policy::manage_plans(&ctx.principal)?;
    if how.lead.is_empty() && how.participants.is_empty() {
        return Err(ApiError::invalid("lead", "name at least one unit or group"));
    }
    write_tx(c, |c| {
        let (m, plan) = open_measure(c, measure_id)?;
        let (due, rule) = match how.due {
            Some(r) => due_of(c, r, ctx.today(), plan.published_at.map(|t| t.date()))?,
            None => (
                NaiveDate::from_ymd_opt(plan.year, 12, 31)
                    .ok_or_else(|| ApiError::invalid("due_date", "cannot be derived"))?,
                None,
            ),
        };
        let cycle = how.cycle.unwrap_or(Cycle::Yearly);
        let leads = expand(c, &how.lead, "lead")?;
        let mut participants = expand(c, &how.participants, "participants")?;
        participants.retain(|(u, _)| !leads.iter().any(|(l, _)| l == u));
        let existing: Vec<UnitId> = assignments::units_of_measure(c, measure_id)?
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        let mut rows = Vec::new();
        let mut skipped = Vec::new();
        let roles = [
            (&leads, AssignmentRole::Lead),
            (&participants, AssignmentRole::Participant),
        ];
        for (list, role) in roles {
            for (unit, via) in list.iter() {
                if existing.contains(unit) {
                    skipped.push(*unit);
                    continue;
                }
                rows.push(assignments::NewAssignment {
                    plan_id: m.plan_id,
                    measure_id,
                    unit_id: *unit,
                    role,
                    via_group_id: *via,
                    due_date: due,
                    cycle,
                    created_at: ctx.now,
                    updated_at: ctx.now,
                    due_working_days: rule.map(|r| r.days as i32),
                    due_counted_from: rule.map(|r| r.from),
                });
            }
        }
        assignments::insert_many(c, &rows)?;
        let f = assignments::AssignmentFilter {
            measure_id: Some(measure_id),
            unit_ids: Some(rows.iter().map(|r| r.unit_id).collect()),
            ..Default::default()
        };
        let rows = assignments::list_all(c, &f)?;
        if policy::units_see_plan(plan.state) {
            super::webhooks::emit_created(c, ctx.now, &rows)?;
        }
        let created = with_state(c, ctx, rows)?;
        let units: Vec<UnitId> = created.iter().map(|a| a.row.unit_id).collect();
        let after = json!({
            "measure_id": measure_id, "units": units, "due_date": due, "cycle": cycle,
            "due_working_days": rule.map(|r| r.days), "due_counted_from": rule.map(|r| r.from),
        });
        let id = Some(measure_id.0);
        audit::record(
            c,
            &ctx.actor,
            "assignment.create",
            "plan_item",
            id,
            None,
            Some(&after),
        )?;
        Ok((created, skipped))
    })
}

/// Gives an assignment a new due date (with the working-day rule it came from, if any) and
/// cycle, with its audit entry (`reason` says why when it was not the caller's own choice).
pub(crate) fn moved(
    c: &mut AnyConnection,
    ctx: &Ctx,
    a: &assignments::Assignment,
    (due, rule): (NaiveDate, Option<WorkingDaysDue>),
    cycle: Cycle,
    reason: Option<&str>,
    announce: bool,
) -> ApiResult<()> {
    assignments::reschedule(c, a.id, due, rule, cycle, ctx.now)?;
    let before = json!({
        "due_date": a.due_date, "cycle": a.cycle,
        "due_working_days": a.due_working_days, "due_counted_from": a.due_counted_from,
    });
    let mut after = json!({
        "due_date": due, "cycle": cycle,
        "due_working_days": rule.map(|r| r.days), "due_counted_from": rule.map(|r| r.from),
    });
    if let Some(r) = reason {
        after["reason"] = json!(r);
    }
    let (id, action) = (Some(a.id.0), "assignment.reschedule");
    audit::record(
        c,
        &ctx.actor,
        action,
        "assignment",
        id,
        Some(&before),
        Some(&after),
    )?;
    if announce && (due, cycle) != (a.due_date, a.cycle) {
        let now = assignments::Assignment {
            due_date: due,
            cycle,
            ..a.clone()
        };
        let extra = json!({"before": {"due_date": a.due_date, "cycle": a.cycle}, "reason": reason});
        super::webhooks::emit_assignment(c, ctx.now, EventType::AssignmentChanged, &now, extra)?;
    }
    Ok(())
}

/// The office changes an assignment's due date or cycle (`None` keeps it).
pub fn reschedule(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: AssignmentId,
    due: Option<DueRule>,
    cycle: Option<Cycle>,
) -> ApiResult<Assigned> {
    policy::manage_plans(&ctx.principal)?;
    if let Some(DueRule::On(d)) = due {
        super::checked_day("due_date", d)?;
    }
    write_tx(c, |c| {
        let a = assignments::find(c, id)?
            .ok_or_else(|| ApiError::NotFound(format!("no assignment {id}")))?;
        let due = match due {
            Some(rule) => rescheduled_due(c, &a, rule)?,
            None => (a.due_date, a.working_days_due()),
        };
        moved(c, ctx, &a, due, cycle.unwrap_or(a.cycle), None, true)?;
        let a =
            assignments::find(c, id)?.ok_or_else(|| ApiError::internal("assignment vanished"))?;
        one(c, ctx, a)
    })
}

/// The office moves the due date (and the cycle, if given) of 1 to 1000 assignments at once;
/// returns how many changed.
pub fn reschedule_many(
    c: &mut AnyConnection,
    ctx: &Ctx,
    ids: &[AssignmentId],
    due: DueRule,
    cycle: Option<Cycle>,
) -> ApiResult<usize> {
    policy::manage_plans(&ctx.principal)?;
    if let DueRule::On(d) = due {
        super::checked_day("due_date", d)?;
    }
    if ids.is_empty() || ids.len() > 1000 {
        return Err(ApiError::invalid(
            "assignment_ids",
            "name 1 to 1000 assignments",
        ));
    }
    // In id order: a change that locks several assignments locks them in one order, so two
    // cannot wait for each other.
    let mut order: Vec<(usize, AssignmentId)> = ids.iter().copied().enumerate().collect();
    order.sort_by_key(|(_, id)| *id);
    write_tx(c, |c| {
        for (i, id) in order {
            let a = assignments::find(c, id)?.ok_or_else(|| {
                ApiError::invalid(format!("assignment_ids[{i}]"), "no such assignment")
            })?;
            let due = rescheduled_due(c, &a, due)?;
            moved(c, ctx, &a, due, cycle.unwrap_or(a.cycle), None, true)?;
        }
        Ok(ids.len())
    })
}

/// The due date a reschedule gives `a`: working days count from the day it was made or its
/// plan's publication.
fn rescheduled_due(
    c: &mut AnyConnection,
    a: &assignments::Assignment,
    rule: DueRule,
) -> ApiResult<(NaiveDate, Option<WorkingDaysDue>)> {
    let published_on = match rule {
        DueRule::Within(_) => plans::find(c, a.plan_id)?
            .and_then(|p| p.published_at)
            .map(|t| t.date()),
        DueRule::On(_) => None,
    };
    due_of(c, rule, a.created_at.date(), published_on)
}

/// The office withdraws an assignment that has no reports yet.
pub fn withdraw(c: &mut AnyConnection, ctx: &Ctx, id: AssignmentId) -> ApiResult<()> {
    policy::manage_plans(&ctx.principal)?;
    write_tx(c, |c| {
        let a = assignments::find(c, id)?
            .ok_or_else(|| ApiError::NotFound(format!("no assignment {id}")))?;
        withdrawn(c, ctx, &a)
    })
}

/// Ends an assignment on which no report was written (nothing is lost: one with reports is
/// kept, 409); a dispute pending on it is answered by the withdrawal. The one way an
/// assignment ends, directly or on a dispute.
pub(crate) fn withdrawn(
    c: &mut AnyConnection,
    ctx: &Ctx,
    a: &assignments::Assignment,
) -> ApiResult<()> {
    super::disputes::settle_on_withdrawal(c, ctx, a.id)?;
    if !assignments::delete_unreported(c, a.id)? {
        return Err(ApiError::Conflict {
            detail: "reports were written on the assignment, so it is kept; move it to another \
                     unit or leave it to be answered"
                .into(),
            field: None,
        });
    }
    let before = json!({"measure_id": a.measure_id, "unit_id": a.unit_id, "role": a.role});
    audit::record(
        c,
        &ctx.actor,
        "assignment.delete",
        "assignment",
        Some(a.id.0),
        Some(&before),
        None,
    )?;
    let extra = json!({"reason": "withdrawn"});
    super::webhooks::emit_assignment(c, ctx.now, EventType::AssignmentWithdrawn, a, extra)?;
    Ok(())
}

/// The assignment's unit signs for it (签收): its people or its system with
/// `assignments:respond`, once its plan is published. Signing again changes nothing (the
/// first signature stands).
pub fn receive(c: &mut AnyConnection, ctx: &Ctx, id: AssignmentId) -> ApiResult<Assigned> {
    write_tx(c, |c| {
        let (a, plan_state) =
            visible_with_plan_state(c, policy::assignment_scope(&ctx.principal)?, id)?;
        policy::respond_for_unit(&ctx.principal, a.unit_id, false)?;
        if plan_state != PlanState::Published {
            return Err(ApiError::Conflict {
                detail: "the plan is closed: its assignments are no longer signed for".into(),
                field: None,
            });
        }
        let signed = assignments::receive(c, id, ctx.principal.user_id, ctx.now)?;
        if signed {
            audit::record(
                c,
                &ctx.actor,
                "assignment.receive",
                "assignment",
                Some(id.0),
                None,
                Some(&json!({"received_at": ctx.now.and_utc()})),
            )?;
        }
        let a =
            assignments::find(c, id)?.ok_or_else(|| ApiError::internal("assignment vanished"))?;
        if signed {
            let extra = json!({"received_at": ctx.now.and_utc()});
            super::webhooks::emit_assignment(c, ctx.now, EventType::AssignmentReceived, &a, extra)?;
        }
        one(c, ctx, a)
    })
}

/// The caller's unit signs for all its assignments in a published plan not yet signed for;
/// returns the ones it signed now.
pub fn receive_plan(
    c: &mut AnyConnection,
    ctx: &Ctx,
    plan_id: crate::domain::ids::PlanId,
) -> ApiResult<Vec<AssignmentId>> {
    let Some(unit) = policy::assignment_scope(&ctx.principal)? else {
        return Err(ApiError::Forbidden(
            "the office signs for no assignment: each unit signs for its own".into(),
        ));
    };
    policy::respond_for_unit(&ctx.principal, unit, false)?;
    write_tx(c, |c| {
        let plan = plans::find(c, plan_id)?
            .filter(|p| policy::read_plan(&ctx.principal, p.state))
            .ok_or_else(|| ApiError::NotFound(format!("no plan {plan_id}")))?;
        if plan.state != PlanState::Published {
            return Err(ApiError::Conflict {
                detail: "the plan is closed: its assignments are no longer signed for".into(),
                field: None,
            });
        }
        let ids = assignments::unreceived_of(c, plan_id, unit)?;
        let listening = super::webhooks::listening(c)?;
        for id in &ids {
            if assignments::receive(c, *id, ctx.principal.user_id, ctx.now)? && listening {
                if let Some(a) = assignments::find(c, *id)? {
                    let extra = json!({"received_at": ctx.now.and_utc()});
                    let event = EventType::AssignmentReceived;
                    super::webhooks::emit_assignment(c, ctx.now, event, &a, extra)?;
                }
            }
        }
        if !ids.is_empty() {
            audit::record(
                c,
                &ctx.actor,
                "assignment.receive",
                "plan",
                Some(plan_id.0),
                None,
                Some(
                    &json!({"unit_id": unit, "assignment_ids": ids, "received_at": ctx.now.and_utc()}),
                ),
            )?;
        }
        Ok(ids)
    })
}
