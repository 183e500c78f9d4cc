//! A plan's year of reporting, month by month: each report's life as the API would have lived
//! it (drafted, maybe edited, sent, returned and sent again, accepted), with its revisions and
//! the audit entries the use cases write for each step, and the urges the office issued about
//! late work. Events that would fall after the present are not generated.

use super::city::{month_end, Assignment};
use super::sink::{Sink, Table, V};
use crate::db::text::StoredName;
use crate::domain::assignment::{AssignmentRole, Cycle};
use crate::domain::desk::Severity;
use crate::domain::report::{ReportStatus, Workflow};
use crate::domain::standing::{deadline, Terms};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::json;
use std::collections::HashMap;

/// Who acts: the office's account and each unit's reporting account, where they exist.
#[derive(Debug, Clone, Default)]
pub struct Actors {
    /// The office's coordinator account.
    pub office_user: Option<i64>,
    /// The office unit.
    pub office_unit: i64,
    /// The account that writes a unit's reports.
    pub unit_user: HashMap<i64, i64>,
}

/// Ids handed out so far.
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    pub report: i64,
    pub revision: i64,
    pub urge: i64,
    pub audit: i64,
}

/// What a plan's assignments carry from month to month.
#[derive(Debug, Clone)]
pub struct Track {
    /// A sent report says completed or not applicable.
    pub done: bool,
    /// The latest month with a sent report.
    pub last_sent: Option<u32>,
    /// Every report says not applicable (不涉及).
    not_applicable: bool,
    /// The month from which reports say completed.
    done_month: Option<u32>,
}

/// Draws each assignment's course for the year: 不涉及 for a quarter of the participants drawn
/// in through a group, else completion around the due date (sometimes late) or, for work due
/// at the year's end, a third done during the year.
pub fn tracks(rng: &mut StdRng, assignments: &[Assignment]) -> Vec<Track> {
    use chrono::Datelike;
    assignments
        .iter()
        .map(|a| {
            let not_applicable = a.role == AssignmentRole::Participant
                && a.via_group.is_some()
                && rng.gen_bool(0.25);
            let due_month = a.due.month();
            let done_month = if due_month < 12 {
                if rng.gen_bool(0.85) {
                    Some(due_month.saturating_sub(rng.gen_range(0..=2)).max(1))
                } else {
                    Some((due_month + rng.gen_range(1..=2)).min(12))
                }
            } else if rng.gen_bool(0.35) {
                Some(rng.gen_range(5..=11))
            } else {
                None
            };
            Track {
                done: false,
                last_sent: None,
                not_applicable,
                done_month,
            }
        })
        .collect()
}

/// One step of a report's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Create,
    Update,
    Submit,
    Accept,
    Return,
}

/// An audit entry waiting for its id (entries are numbered in time order).
struct Entry {
    at: NaiveDateTime,
    user: Option<i64>,
    unit: i64,
    action: &'static str,
    entity_type: &'static str,
    entity: i64,
    before: Option<String>,
    after: Option<String>,
}

/// A report with its steps, before ids are given.
struct Life {
    assignment: usize,
    created: NaiveDateTime,
    steps: Vec<(Step, NaiveDateTime)>,
    status: ReportStatus,
    /// The text as the unit writes it: base, with a supplement from the second sending on.
    base: String,
    problems: String,
    next_steps: String,
}

const RETURN_REASON: &str = "请补充量化数据和佐证材料。";

/// The context of one plan's history.
pub struct PlanHistory<'a> {
    pub year: i32,
    pub assignments: &'a [Assignment],
    pub tracks: &'a mut [Track],
    /// The day the assignments were made.
    pub assigned_on: NaiveDate,
    /// True for the plan still open (the current year's).
    pub current: bool,
}

fn at(day: NaiveDate, hour: u32, minute: u32) -> NaiveDateTime {
    day.and_hms_opt(hour, minute, 0).unwrap_or_default()
}

fn request_id(rng: &mut StdRng) -> String {
    let b: [u8; 16] = rng.gen();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn narrative(month: u32, status: ReportStatus, n: usize) -> String {
    let lead = match status {
        ReportStatus::Completed => "该项措施已全面完成，",
        ReportStatus::NotApplicable => "我单位不涉及该项工作，",
        ReportStatus::NotStarted => "正在研究部署，",
        ReportStatus::InProgress => "按计划稳步推进，",
    };
    format!(
        "第{month}月：{lead}{}相关材料已归档。",
        "组织开展专项检查并完善制度台账，".repeat(n)
    )
}

fn text_at(life: &Life, sending: usize) -> String {
    if sending >= 2 {
        format!(
            "{}（第{sending}次报送：已补充量化数据和佐证材料。）",
            life.base
        )
    } else {
        life.base.clone()
    }
}

fn view(a: i64, unit: i64, period: &str, wf: Workflow, version: i32) -> String {
    json!({
        "assignment_id": a,
        "unit_id": unit,
        "period": period,
        "workflow": wf,
        "version": version,
    })
    .to_string()
}

/// Generates one month of reports for the first `count` assignments of `order`, writes them
/// with their revisions, urges and audit entries, and moves the tracks on. Returns the number
/// of reports written.
#[allow(clippy::too_many_arguments)]
pub fn month(
    rng: &mut StdRng,
    sink: &mut Sink,
    ids: &mut Ids,
    actors: &Actors,
    plan: &mut PlanHistory<'_>,
    month: u32,
    order: &[usize],
    count: usize,
    recency: u32,
    now: NaiveDateTime,
) -> usize {
    let end = month_end(plan.year, month);
    let period = format!("{}-{month:02}", plan.year);
    let mut lives: Vec<Life> = Vec::with_capacity(count);
    let mut entries: Vec<Entry> = Vec::with_capacity(count * 4);
    for &i in order.iter().take(count) {
        let t = &plan.tracks[i];
        let status = if t.not_applicable {
            ReportStatus::NotApplicable
        } else if t.done_month.is_some_and(|d| d <= month) {
            ReportStatus::Completed
        } else if month == 1 && rng.gen_bool(0.06) {
            ReportStatus::NotStarted
        } else {
            ReportStatus::InProgress
        };
        // When it is sent: the last week of the month, a few days after, or weeks late.
        let late: i64 = match rng.gen_range(0..100) {
            0..=69 => -rng.gen_range(0..7),
            70..=89 => rng.gen_range(1..=5),
            _ => rng.gen_range(6..=25),
        };
        let mut sent = at(
            end + Duration::days(late),
            rng.gen_range(9..18),
            rng.gen_range(0..60),
        );
        if sent >= now {
            sent = now - Duration::minutes(rng.gen_range(30..600));
        }
        let created = sent - Duration::hours(rng.gen_range(20..72));
        // How its story ends: a draft never sent, sent and awaiting review, returned and not
        // yet sent again, sent again after a return, or accepted.
        let (draft, returned, resubmitted, accepted) = match recency {
            0 => (30, 30, 15, 300),
            1 => (5, 20, 20, 800),
            _ => (2, 10, 20, 950),
        };
        let r = rng.gen_range(0..1000);
        let (returns, accept, pending_return, never_sent) = if r < draft {
            (0, false, false, true)
        } else if r < draft + returned {
            (1 + usize::from(rng.gen_bool(0.2)), false, true, false)
        } else if r < draft + returned + resubmitted {
            (1 + usize::from(rng.gen_bool(0.3)), false, false, false)
        } else if r < draft + returned + resubmitted + accepted {
            let rounds = match rng.gen_range(0..100) {
                0 => 2,
                1..=3 => 1,
                _ => 0,
            };
            (rounds, true, false, false)
        } else {
            (0, false, false, false)
        };
        let mut steps = vec![(Step::Create, created)];
        if rng.gen_bool(0.4) {
            steps.push((
                Step::Update,
                created + Duration::hours(rng.gen_range(1..12)),
            ));
        }
        if !never_sent {
            let mut t = sent;
            steps.push((Step::Submit, t));
            for round in 0..returns {
                t +=
                    Duration::days(rng.gen_range(1..=4)) + Duration::minutes(rng.gen_range(0..300));
                steps.push((Step::Return, t));
                t += Duration::days(1);
                steps.push((Step::Update, t));
                let last = round + 1 == returns;
                if !(last && pending_return) {
                    t += Duration::days(1) + Duration::hours(rng.gen_range(1..6));
                    steps.push((Step::Submit, t));
                }
            }
            if accept {
                t +=
                    Duration::days(rng.gen_range(1..=5)) + Duration::minutes(rng.gen_range(0..300));
                steps.push((Step::Accept, t));
            }
        }
        // Nothing happens after the present.
        steps.retain(|(_, t)| *t < now);
        let base = narrative(month, status, rng.gen_range(1..=4));
        let problems = if rng.gen_bool(0.33) {
            "基层执法力量不足，信息化支撑有待加强。".to_owned()
        } else {
            String::new()
        };
        let next_steps = if rng.gen_bool(0.5) {
            "下一步将持续推进并按时报送进展。".to_owned()
        } else {
            String::new()
        };
        lives.push(Life {
            assignment: i,
            created,
            steps,
            status,
            base,
            problems,
            next_steps,
        });
    }
    // Reports are numbered in the order they were started, as the API numbers them.
    lives.sort_by_key(|l| l.created);
    let office = actors.office_user;
    for life in &lives {
        let a = &plan.assignments[life.assignment];
        let report = ids.report;
        ids.report += 1;
        let user = actors.unit_user.get(&a.unit).copied();
        let mut workflow = Workflow::Draft;
        let mut version = 1;
        let mut sendings = 0usize;
        let mut text = life.base.clone();
        let (mut submitted_at, mut reviewed_at, mut reviewed_by) = (None, None, None);
        let mut return_reason: Option<&str> = None;
        let mut updated_at = life.created;
        let mut updated_by = user;
        for &(step, t) in &life.steps {
            let entry = |action, before: Option<String>, after: Option<String>, by, unit| Entry {
                at: t,
                user: by,
                unit,
                action,
                entity_type: "report",
                entity: report,
                before,
                after,
            };
            match step {
                Step::Create => {
                    let after = view(a.id, a.unit, &period, workflow, version);
                    entries.push(entry("report.create", None, Some(after), user, a.unit));
                }
                Step::Update => {
                    let before = view(a.id, a.unit, &period, workflow, version);
                    version += 1;
                    if sendings > 0 {
                        text = text_at(life, sendings + 1);
                    }
                    updated_at = t;
                    updated_by = user;
                    let after = view(a.id, a.unit, &period, workflow, version);
                    entries.push(entry(
                        "report.update",
                        Some(before),
                        Some(after),
                        user,
                        a.unit,
                    ));
                }
                Step::Submit => {
                    let before = workflow;
                    workflow = if before == Workflow::Returned {
                        Workflow::Resubmitted
                    } else {
                        Workflow::Submitted
                    };
                    version += 1;
                    sendings += 1;
                    text = text_at(life, sendings);
                    submitted_at = Some(t);
                    updated_at = t;
                    updated_by = user;
                    return_reason = None;
                    sink.row(
                        Table::ReportRevisions,
                        &[
                            ids.revision.into(),
                            report.into(),
                            (sendings as i64).into(),
                            life.status.stored_name().into(),
                            V::Text(&text),
                            V::Text(&life.problems),
                            V::Text(&life.next_steps),
                            user.into(),
                            t.into(),
                            // No percent done (序时进度) given.
                            V::Null,
                        ],
                    );
                    ids.revision += 1;
                    entries.push(entry(
                        "report.submit",
                        Some(json!({"workflow": before}).to_string()),
                        Some(json!({"workflow": workflow, "revision": sendings}).to_string()),
                        user,
                        a.unit,
                    ));
                }
                Step::Accept | Step::Return => {
                    let before = workflow;
                    let (next, reason, action) = if step == Step::Accept {
                        (Workflow::Accepted, None, "report.accept")
                    } else {
                        (Workflow::Returned, Some(RETURN_REASON), "report.return")
                    };
                    workflow = next;
                    version += 1;
                    return_reason = reason;
                    reviewed_at = Some(t);
                    reviewed_by = office;
                    updated_at = t;
                    entries.push(entry(
                        action,
                        Some(json!({"workflow": before}).to_string()),
                        Some(json!({"workflow": next, "reason": reason}).to_string()),
                        office,
                        actors.office_unit,
                    ));
                }
            }
        }
        let sent_revision = (sendings > 0).then_some(sendings as i64);
        sink.row(
            Table::Reports,
            &[
                report.into(),
                a.id.into(),
                a.unit.into(),
                V::Text(&period),
                life.status.stored_name().into(),
                V::Text(&text),
                V::Text(&life.problems),
                V::Text(&life.next_steps),
                workflow.stored_name().into(),
                return_reason.into(),
                version.into(),
                user.into(),
                updated_by.into(),
                submitted_at.into(),
                reviewed_at.into(),
                reviewed_by.into(),
                life.created.into(),
                updated_at.into(),
                sent_revision.into(),
                V::Null,
            ],
        );
        // The assignment's course, and an urge the office may have sent while it was late.
        let track = &mut plan.tracks[life.assignment];
        let first_sent = life
            .steps
            .iter()
            .find(|(s, _)| *s == Step::Submit)
            .map(|(_, t)| *t);
        if let Some(sent) = first_sent {
            let days_late = (sent.date() - end).num_days();
            if !track.done && end < a.due && days_late >= 5 && rng.gen_bool(0.25) {
                let k = rng.gen_range(2..days_late);
                let issued = at(end + Duration::days(k), 9, rng.gen_range(0..60));
                urge(
                    rng,
                    sink,
                    ids,
                    actors,
                    &mut entries,
                    a.unit,
                    &[a.id],
                    severity_after(end, end + Duration::days(k)),
                    issued,
                    now,
                );
            }
        }
        if workflow.counts_as_reported() {
            track.last_sent = Some(track.last_sent.map_or(month, |m| m.max(month)));
            if matches!(
                life.status,
                ReportStatus::Completed | ReportStatus::NotApplicable
            ) {
                track.done = true;
            }
        }
    }
    audit(rng, sink, ids, entries);
    lives.len()
}

/// Urges about the current plan's work overdue today: a few percent of it, one urge per unit
/// about its chosen assignments, issued in the past week (after each deadline).
#[allow(clippy::too_many_arguments)]
pub fn overdue_urges(
    rng: &mut StdRng,
    sink: &mut Sink,
    ids: &mut Ids,
    actors: &Actors,
    plan: &PlanHistory<'_>,
    share: f64,
    now: NaiveDateTime,
) -> usize {
    let today = now.date();
    let mut by_unit: Vec<(i64, Vec<(i64, NaiveDate)>)> = Vec::new();
    let mut index: HashMap<i64, usize> = HashMap::new();
    for (a, t) in plan.assignments.iter().zip(plan.tracks.iter()) {
        if t.done {
            continue;
        }
        let terms = Terms {
            cycle: Cycle::Monthly,
            due_date: a.due,
            assigned_on: plan.assigned_on,
            received: true,
        };
        let last = t.last_sent.map(|m| format!("{}-{m:02}", plan.year));
        let d = deadline(terms, last.as_deref());
        if d >= today || !rng.gen_bool(share) {
            continue;
        }
        let k = *index.entry(a.unit).or_insert_with(|| {
            by_unit.push((a.unit, Vec::new()));
            by_unit.len() - 1
        });
        if by_unit[k].1.len() < 500 {
            by_unit[k].1.push((a.id, d));
        }
    }
    let mut entries = Vec::new();
    let mut n = 0;
    for (unit, list) in by_unit {
        let earliest = list.iter().map(|x| x.1).min().unwrap_or(today);
        let from = (earliest + Duration::days(1)).max(today - Duration::days(7));
        let span = (today - from).num_days().max(1);
        let issued = at(
            from + Duration::days(rng.gen_range(0..span)),
            9,
            rng.gen_range(0..60),
        );
        let issued = issued.min(now - Duration::minutes(5));
        let ids_only: Vec<i64> = list.iter().map(|x| x.0).collect();
        urge(
            rng,
            sink,
            ids,
            actors,
            &mut entries,
            unit,
            &ids_only,
            severity_after(earliest, issued.date()),
            issued,
            now,
        );
        n += 1;
    }
    audit(rng, sink, ids, entries);
    n
}

/// One urge, as `service::urges::issue` writes it, with the unit's acknowledgement or reply
/// where that has happened by now.
#[allow(clippy::too_many_arguments)]
fn urge(
    rng: &mut StdRng,
    sink: &mut Sink,
    ids: &mut Ids,
    actors: &Actors,
    entries: &mut Vec<Entry>,
    unit: i64,
    assignments: &[i64],
    severity: Severity,
    issued: NaiveDateTime,
    now: NaiveDateTime,
) {
    let id = ids.urge;
    ids.urge += 1;
    let message = match severity {
        Severity::Reminder => "请按期报送本月工作措施及完成情况。",
        Severity::Urge => "相关事项已逾期，请抓紧办理并报送完成情况。",
        Severity::Supervise => "相关事项逾期时间较长，请主要负责同志督促落实并书面回复。",
    };
    let reply_by = issued.date() + Duration::days(7);
    let unit_user = actors.unit_user.get(&unit).copied();
    let acknowledged = Some(issued + Duration::days(1)).filter(|t| *t < now && rng.gen_bool(0.5));
    let replied = acknowledged
        .map(|t| t + Duration::days(1))
        .filter(|t| *t < now && rng.gen_bool(0.5));
    let reply = replied.map(|_| "已按要求督促落实，近期报送。");
    sink.row(
        Table::Urges,
        &[
            id.into(),
            unit.into(),
            severity.stored_name().into(),
            message.into(),
            reply_by.into(),
            false.into(),
            actors.office_user.into(),
            issued.into(),
            acknowledged.into(),
            acknowledged.and(unit_user).into(),
            reply.into(),
            replied.into(),
            replied.and(unit_user).into(),
        ],
    );
    for a in assignments {
        sink.row(Table::UrgeAssignments, &[id.into(), (*a).into()]);
    }
    let after = json!({
        "id": id,
        "unit_id": unit,
        "severity": severity,
        "message": message,
        "reply_by": Some(reply_by),
        "automatic": false,
        "issued_by": actors.office_user,
        "issued_at": issued.and_utc(),
        "assignment_ids": assignments,
        "acknowledged_at": Option::<chrono::DateTime<chrono::Utc>>::None,
        "reply": Option::<String>::None,
        "replied_at": Option::<chrono::DateTime<chrono::Utc>>::None,
    });
    entries.push(Entry {
        at: issued,
        user: actors.office_user,
        unit: actors.office_unit,
        action: "urge.issue",
        entity_type: "urge",
        entity: id,
        before: None,
        after: Some(after.to_string()),
    });
    if let Some(t) = acknowledged {
        entries.push(Entry {
            at: t,
            user: unit_user,
            unit,
            action: "urge.acknowledge",
            entity_type: "urge",
            entity: id,
            before: None,
            after: Some(json!({ "reply": Option::<String>::None }).to_string()),
        });
    }
    if let (Some(t), Some(text)) = (replied, reply) {
        entries.push(Entry {
            at: t,
            user: unit_user,
            unit,
            action: "urge.reply",
            entity_type: "urge",
            entity: id,
            before: None,
            after: Some(json!({ "reply": Some(text) }).to_string()),
        });
    }
}

/// Writes audit entries numbered in time order.
fn audit(rng: &mut StdRng, sink: &mut Sink, ids: &mut Ids, mut entries: Vec<Entry>) {
    entries.sort_by_key(|e| e.at);
    for e in &entries {
        let rid = request_id(rng);
        sink.row(
            Table::AuditLog,
            &[
                ids.audit.into(),
                e.at.into(),
                e.user.into(),
                e.unit.into(),
                e.action.into(),
                e.entity_type.into(),
                e.entity.into(),
                e.before.as_ref().into(),
                e.after.as_ref().into(),
                V::Text(&rid),
            ],
        );
        ids.audit += 1;
    }
}

/// The severity the office gives an urge on `day` about work late since `deadline`: by the
/// working days overdue on the State Council's calendar, as the desk counts them.
fn severity_after(deadline: NaiveDate, day: NaiveDate) -> Severity {
    static OFFICIAL: std::sync::LazyLock<crate::domain::calendar::Calendar> =
        std::sync::LazyLock::new(|| {
            crate::domain::calendar::Calendar::new(
                crate::domain::calendar::official()
                    .into_iter()
                    .map(|o| (o.day, o.kind)),
            )
        });
    Severity::for_days_overdue(crate::domain::desk::working_days_overdue(
        deadline, day, &OFFICIAL,
    ))
}
