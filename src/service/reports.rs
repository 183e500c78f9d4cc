//! Reports (完成情况): drafted by the assigned unit, sent by its manager or a department system
//! with `reports:submit`, accepted or returned by the office. Every sent version is kept; what
//! anyone but the unit reads is the last sent one ([`reports::Reader`]).

use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::domain::ids::{AssignmentId, ReportId};
use crate::domain::plan::PlanState;
use crate::domain::report::{ReportStatus, Step, Workflow};
use crate::domain::webhook::EventType;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, assignments, audit, reports};
use serde_json::json;

/// The longest text field, in characters.
pub const MAX_TEXT: usize = 20_000;

/// A report's text as the unit writes it, checked.
#[derive(Debug, Clone, Default)]
pub struct Text {
    /// 工作措施及完成情况: what was done.
    pub narrative: Option<String>,
    /// 存在的问题: problems met.
    pub problems: Option<String>,
    /// 下一步打算: next steps.
    pub next_steps: Option<String>,
}

impl Text {
    /// Checks the lengths (naming the field) and trims.
    pub fn parse(
        narrative: Option<&str>,
        problems: Option<&str>,
        next_steps: Option<&str>,
    ) -> ApiResult<Text> {
        let check = |field: &str, t: Option<&str>| -> ApiResult<Option<String>> {
            match t {
                Some(t) if t.chars().count() > MAX_TEXT => Err(ApiError::invalid(
                    field,
                    format!("must be at most {MAX_TEXT} characters"),
                )),
                Some(t) => Ok(Some(t.trim().to_owned())),
                None => Ok(None),
            }
        };
        Ok(Text {
            narrative: check("narrative", narrative)?,
            problems: check("problems", problems)?,
            next_steps: check("next_steps", next_steps)?,
        })
    }
}

/// A new draft.
#[derive(Debug, Clone)]
pub struct NewDraft {
    /// The period; default the period of today, or of the due date once it has passed.
    pub period: Option<String>,
    /// How far the work is.
    pub status: ReportStatus,
    /// The text.
    pub text: Text,
    /// The share of the work done, in percent (序时进度), if the unit says.
    pub progress: Option<i32>,
}

/// A percent done as a caller gives it: 0 to 100 (422 naming `progress`).
pub fn checked_progress(v: Option<i64>) -> ApiResult<Option<i32>> {
    match v {
        None => Ok(None),
        Some(p) if (0..=100).contains(&p) => Ok(Some(p as i32)),
        Some(_) => Err(ApiError::invalid("progress", "must be a percent, 0 to 100")),
    }
}

/// What the office decides about a sent report.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Accept it (final).
    Accept,
    /// Return it to the unit with a reason.
    Return(String),
}

/// The report's `ETag` value for its own unit (its version).
pub fn etag(r: &reports::Report) -> String {
    format!("\"{}.{}\"", r.id, r.version)
}

/// What the audit trail keeps of a report: never its text (a draft is the unit's own until
/// sent; a sent version is in the revisions), only the fields that are not text. Entries of
/// draft writes (`report.create`, `report.update`) are, besides, the unit's own: the audit
/// trail's readers do not see them ([`crate::store::audit::UNIT_PRIVATE_ACTIONS`]).
fn audit_view(r: &reports::Report) -> serde_json::Value {
    json!({
        "assignment_id": r.assignment_id,
        "unit_id": r.unit_id,
        "period": r.period,
        "workflow": r.workflow,
        "version": r.version,
    })
}

fn conflict(detail: impl Into<String>, field: &str) -> ApiError {
    ApiError::Conflict {
        detail: detail.into(),
        field: Some(field.into()),
    }
}

fn stale() -> ApiError {
    ApiError::PreconditionFailed(
        "the report changed while this request was processed; read it again".into(),
    )
}

fn not_found(id: ReportId) -> ApiError {
    ApiError::NotFound(format!("no report {id}"))
}

/// Units write reports on published plans only (a closed plan is read-only).
fn ensure_open(plan: PlanState) -> ApiResult<()> {
    if plan == PlanState::Published {
        Ok(())
    } else {
        Err(ApiError::Conflict {
            detail: "reports are written on published plans only".into(),
            field: None,
        })
    }
}

/// `If-Match` against the unit's working copy: 428 without it, 412 when stale. Only strong
/// validators match (a weak one, or `*`, does not name a version).
pub fn check_if_match(header: Option<&str>, current: &reports::Report) -> ApiResult<()> {
    let Some(v) = header else {
        return Err(ApiError::PreconditionRequired(
            "send If-Match with the ETag of the version you edited".into(),
        ));
    };
    if v.split(',').any(|t| t.trim() == etag(current)) {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(format!(
            "the report has changed; its ETag is now {}",
            etag(current)
        )))
    }
}

/// The unit's own report, for its writes (the working copy), and the state of its plan;
/// "not found" for anyone who may not see it, "forbidden" for who may see but not write.
fn own_report(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: ReportId,
    may_write: fn(&crate::auth::Principal, crate::domain::ids::UnitId) -> ApiResult<()>,
) -> ApiResult<(reports::Report, PlanState)> {
    let reader = policy::report_reader(&ctx.principal)?;
    let seen = reports::find_for(c, id, reader)?.ok_or_else(|| not_found(id))?;
    may_write(&ctx.principal, seen.unit_id)?;
    // Who may write reads the working copy already; anyone else reads it once more.
    let r = if reader.sees_working_copy(seen.unit_id) {
        seen
    } else {
        reports::find(c, id)?.ok_or_else(|| not_found(id))?
    };
    let plan = held_by_writer(c, &r)?;
    Ok((r, plan))
}

/// The state of the report's plan, once it is known that the unit that wrote the report still
/// holds the assignment: a report its former holder wrote before the assignment moved to
/// another unit is kept as history and no longer changes (409).
fn held_by_writer(c: &mut AnyConnection, r: &reports::Report) -> ApiResult<PlanState> {
    let (a, plan) = assignments::find_with_plan_state(c, r.assignment_id)?
        .ok_or_else(|| ApiError::internal("report without assignment"))?;
    if a.unit_id != r.unit_id {
        return Err(conflict(
            "the assignment has moved to another unit; this report is kept as its history",
            "assignment_id",
        ));
    }
    Ok(plan)
}

/// Reports the caller may see, one page, as the caller may see them.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    mut filter: reports::ReportFilter,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<reports::Report>> {
    filter.reader = policy::report_reader(&ctx.principal)?;
    Ok(reports::list(c, &filter, after, limit)?)
}

/// The reports on a measure, as the caller may see them: the lead unit reads its participants'
/// sent reports here to consolidate them (牵头单位汇总), a participant its own, the office every
/// sent one. The measure must be one the caller may see (units: of a published plan).
pub fn list_for_measure(
    c: &mut AnyConnection,
    ctx: &Ctx,
    measure: crate::domain::ids::ItemId,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<reports::Report>> {
    use crate::domain::plan::ItemLevel;
    let reader = policy::report_reader(&ctx.principal)?;
    let not_found = || ApiError::NotFound(format!("no measure {measure}"));
    let m = crate::store::plans::find_item(c, measure)?
        .filter(|m| m.level == ItemLevel::Measure)
        .ok_or_else(not_found)?;
    let plan = crate::store::plans::find(c, m.plan_id)?.ok_or_else(not_found)?;
    if !policy::read_plan(&ctx.principal, plan.state) {
        return Err(not_found());
    }
    let mut f = reports::ReportFilter::for_reader(reader);
    f.measure_id = Some(measure);
    Ok(reports::list(c, &f, after, limit)?)
}

/// One report as the caller may see it.
pub fn get(c: &mut AnyConnection, ctx: &Ctx, id: ReportId) -> ApiResult<reports::Report> {
    let reader = policy::report_reader(&ctx.principal)?;
    reports::find_for(c, id, reader)?.ok_or_else(|| not_found(id))
}

/// Every sent version of a report the caller may see, oldest first.
pub fn revisions(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: ReportId,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<store::Page<reports::Revision>> {
    get(c, ctx, id)?;
    let rows = reports::revisions_page(c, id, after, limit)?;
    Ok(store::Page::from_rows(rows, limit, |r| {
        i64::from(r.revision)
    }))
}

/// Starts a draft on an assignment of the caller's unit.
pub fn create(
    c: &mut AnyConnection,
    ctx: &Ctx,
    assignment_id: AssignmentId,
    draft: NewDraft,
) -> ApiResult<reports::Report> {
    write_tx(c, |c| {
        // A unit reports on what it can see of its own (a system needs a read scope, either).
        let scope = policy::unit_scope(&ctx.principal)?;
        let (a, plan) = super::assignments::visible_with_plan_state(c, scope, assignment_id)?;
        policy::write_report(&ctx.principal, a.unit_id)?;
        ensure_open(plan)?;
        let cycle = a.cycle;
        let period = match draft.period {
            Some(p) if cycle.accepts(&p) => p,
            Some(_) => {
                return Err(ApiError::invalid(
                    "period",
                    format!("is not a period of a {} cycle", cycle.as_str()),
                ))
            }
            None => cycle.period_of(ctx.today().min(a.due_date)),
        };
        if reports::find_for_period(c, assignment_id, a.unit_id, &period)?.is_some() {
            return Err(conflict(
                format!("a report for {period} exists; edit it instead"),
                "period",
            ));
        }
        let r = reports::create(
            c,
            &reports::NewReport {
                assignment_id,
                unit_id: a.unit_id,
                period,
                status: draft.status,
                narrative: draft.text.narrative.unwrap_or_default(),
                problems: draft.text.problems.unwrap_or_default(),
                next_steps: draft.text.next_steps.unwrap_or_default(),
                progress: draft.progress,
                workflow: Workflow::Draft,
                version: 1,
                created_by: Some(ctx.principal.user_id),
                updated_by: Some(ctx.principal.user_id),
                submitted_at: None,
                created_at: ctx.now,
                updated_at: ctx.now,
            },
        )?;
        audit::record(
            c,
            &ctx.actor,
            "report.create",
            "report",
            Some(r.id.0),
            None,
            Some(&audit_view(&r)),
        )?;
        Ok(r)
    })
}

/// A report of the caller's unit that it may change now — a draft or a returned report, on a
/// published plan, of an assignment its unit still holds — as its unit sees it: the one rule
/// for editing a report's text and its evidence files.
pub(crate) fn editable(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: ReportId,
) -> ApiResult<reports::Report> {
    let (r, plan) = own_report(c, ctx, id, policy::write_report)?;
    ensure_open(plan)?;
    r.workflow
        .after(Step::Edit)
        .map_err(|m| conflict(m, "workflow"))?;
    Ok(r)
}

/// Edits a draft or returned report of the caller's unit (`If-Match` required).
pub fn update(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: ReportId,
    if_match: Option<&str>,
    status: Option<ReportStatus>,
    progress: Option<i32>,
    text: Text,
) -> ApiResult<reports::Report> {
    write_tx(c, |c| {
        let r = editable(c, ctx, id)?;
        check_if_match(if_match, &r)?;
        let changes = reports::ReportText {
            status: status.unwrap_or(r.status),
            narrative: text.narrative.unwrap_or(r.narrative.clone()),
            problems: text.problems.unwrap_or(r.problems.clone()),
            next_steps: text.next_steps.unwrap_or(r.next_steps.clone()),
            progress: progress.or(r.progress),
        };
        let after =
            reports::update_text(c, id, r.version, &changes, ctx.principal.user_id, ctx.now)?
                .ok_or_else(stale)?;
        audit::record(
            c,
            &ctx.actor,
            "report.update",
            "report",
            Some(id.0),
            Some(&audit_view(&r)),
            Some(&audit_view(&after)),
        )?;
        Ok(after)
    })
}

/// Sends a draft, or sends a returned report again; the text becomes a new immutable revision
/// and the assignment's standing follows. `If-Match`, when given, must match.
pub fn submit(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: ReportId,
    if_match: Option<&str>,
) -> ApiResult<reports::Report> {
    write_tx(c, |c| {
        let (r, plan) = own_report(c, ctx, id, policy::submit_report)?;
        ensure_open(plan)?;
        if if_match.is_some() {
            check_if_match(if_match, &r)?;
        }
        let before = r.workflow;
        let next = before
            .after(Step::Submit)
            .map_err(|m| conflict(m, "workflow"))?;
        let by = ctx.principal.user_id;
        let (after, revision) = reports::send(c, &r, next, by, ctx.now)?.ok_or_else(stale)?;
        audit::record(
            c,
            &ctx.actor,
            "report.submit",
            "report",
            Some(id.0),
            Some(&json!({"workflow": before})),
            Some(&json!({"workflow": next, "revision": revision})),
        )?;
        let data = super::webhooks::with_revision(super::webhooks::report_data(&after), revision);
        super::webhooks::emit(c, ctx.now, EventType::ReportSubmitted, after.unit_id, data)?;
        Ok(after)
    })
}

/// The office accepts or returns a sent report.
pub fn review(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: ReportId,
    decision: Decision,
) -> ApiResult<reports::Report> {
    policy::review_reports(&ctx.principal)?;
    write_tx(c, |c| {
        let reader = policy::report_reader(&ctx.principal)?;
        reports::find_for(c, id, reader)?.ok_or_else(|| not_found(id))?;
        let r = reports::find(c, id)?.ok_or_else(|| not_found(id))?;
        held_by_writer(c, &r)?;
        let (step, reason, action) = match &decision {
            Decision::Accept => (Step::Accept, None, "report.accept"),
            Decision::Return(why) => (Step::Return, Some(why.as_str()), "report.return"),
        };
        let before = r.workflow;
        let next = before.after(step).map_err(|m| conflict(m, "workflow"))?;
        let by = ctx.principal.user_id;
        if !reports::set_workflow(c, id, r.version, next, reason, by, false, ctx.now)? {
            return Err(stale());
        }
        audit::record(
            c,
            &ctx.actor,
            action,
            "report",
            Some(id.0),
            Some(&json!({"workflow": before})),
            Some(&json!({"workflow": next, "reason": reason})),
        )?;
        let reviewed = reports::find_for(c, id, reader)?.ok_or_else(|| not_found(id))?;
        let event = match decision {
            Decision::Accept => EventType::ReportAccepted,
            Decision::Return(_) => EventType::ReportReturned,
        };
        let data = super::webhooks::report_data(&reviewed);
        super::webhooks::emit(c, ctx.now, event, reviewed.unit_id, data)?;
        Ok(reviewed)
    })
}

/// The most items one batch may hold.
pub const MAX_BATCH: usize = 500;

/// A batch holds 1 to [`MAX_BATCH`] items (422 naming `items`).
pub fn check_batch_len(n: usize) -> ApiResult<()> {
    if (1..=MAX_BATCH).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "items",
            format!("must hold 1 to {MAX_BATCH} items, not {n}"),
        ))
    }
}

/// One write of a batch, with the input of its single operation.
#[derive(Debug, Clone)]
pub enum BatchOp {
    /// [`create`], then [`submit`] when `submit` is set (both or neither).
    Create {
        /// The assignment.
        assignment_id: AssignmentId,
        /// The draft.
        draft: NewDraft,
        /// Send it at once.
        submit: bool,
    },
    /// [`update`].
    Update {
        /// The report.
        report_id: ReportId,
        /// The ETag of the version edited.
        if_match: Option<String>,
        /// New status, if any.
        status: Option<ReportStatus>,
        /// New percent done, if any.
        progress: Option<i32>,
        /// New text, field by field.
        text: Text,
    },
    /// [`submit`].
    Submit {
        /// The report.
        report_id: ReportId,
        /// The ETag of the version sent, if checked.
        if_match: Option<String>,
    },
}

/// What one item of a batch did.
#[derive(Debug, Clone)]
pub enum BatchDone {
    /// A new report (sent already if the item asked).
    Created(reports::Report),
    /// A report edited.
    Updated(reports::Report),
    /// A report sent.
    Submitted(reports::Report),
}

/// Runs a batch of report writes, item after item, each through the use case of its single
/// operation and in a transaction of its own (inside the caller's transaction, as a savepoint,
/// when the batch is recorded under an `Idempotency-Key`): an item that fails changes nothing
/// and undoes nothing of the others. The caller must be one who writes reports at all (403);
/// each item is then allowed, found and checked exactly as its single operation.
pub fn batch(
    c: &mut AnyConnection,
    ctx: &Ctx,
    ops: Vec<BatchOp>,
) -> ApiResult<Vec<ApiResult<BatchDone>>> {
    policy::write_reports_in_batch(&ctx.principal)?;
    check_batch_len(ops.len())?;
    lock_batch(c, ctx, &ops)?;
    Ok(ops.into_iter().map(|op| batch_item(c, ctx, op)).collect())
}

/// A batch under an `Idempotency-Key` runs in one transaction, its items changing their
/// assignments in item order; it takes all of them first, in id order.
fn lock_batch(c: &mut AnyConnection, ctx: &Ctx, ops: &[BatchOp]) -> ApiResult<()> {
    let in_transaction = crate::db::in_transaction(c)?;
    let Some(unit) = ctx.principal.unit_id.filter(|_| in_transaction) else {
        return Ok(());
    };
    let mut ids = Vec::with_capacity(ops.len());
    let mut reports_named = Vec::new();
    for op in ops {
        match op {
            BatchOp::Create { assignment_id, .. } => ids.push(*assignment_id),
            BatchOp::Update { report_id, .. } | BatchOp::Submit { report_id, .. } => {
                reports_named.push(*report_id)
            }
        }
    }
    ids.extend(reports::assignments_of(c, &reports_named)?);
    ids.sort_unstable();
    ids.dedup();
    Ok(store::standing::lock_assignments(c, unit, &ids)?)
}

fn batch_item(c: &mut AnyConnection, ctx: &Ctx, op: BatchOp) -> ApiResult<BatchDone> {
    match op {
        BatchOp::Create {
            assignment_id,
            draft,
            submit: send,
        } => write_tx(c, |c| {
            let r = create(c, ctx, assignment_id, draft)?;
            if send {
                submit(c, ctx, r.id, None).map(BatchDone::Created)
            } else {
                Ok(BatchDone::Created(r))
            }
        }),
        BatchOp::Update {
            report_id,
            if_match,
            status,
            progress,
            text,
        } => update(
            c,
            ctx,
            report_id,
            if_match.as_deref(),
            status,
            progress,
            text,
        )
        .map(BatchDone::Updated),
        BatchOp::Submit {
            report_id,
            if_match,
        } => submit(c, ctx, report_id, if_match.as_deref()).map(BatchDone::Submitted),
    }
}
