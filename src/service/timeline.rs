//! An assignment's timeline (办理记录): assigned, signed for, reports drafted (to the unit
//! itself only), sent, returned and accepted, urges and their answers, extension requests and
//! their decisions, disputes and their resolutions, changes of due date, holder and role — each
//! read as the caller may read its source: reports by the one report rule, urges, requests and
//! disputes by theirs.

use super::Ctx;
use crate::auth::policy;
use crate::db::AnyConnection;
use crate::domain::ids::{AssignmentId, UnitId, UserId};
use crate::domain::timeline::{in_order, Event, EventKind};
use crate::error::ApiResult;
use crate::store::{audit, disputes, extensions, reports, urges};
use serde_json::{json, Value};

/// Who acted, which unit the event concerns, and its details.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The account that acted (`None`: the system, or history loaded without one).
    pub actor_id: Option<UserId>,
    /// The unit the event concerns: the assignment's, or for a report the unit that wrote it.
    pub unit_id: Option<UnitId>,
    /// What the event carries (ids, dates, the office's reasons; never a report's text).
    pub detail: Value,
}

fn event(
    at: chrono::NaiveDateTime,
    kind: EventKind,
    actor_id: Option<UserId>,
    unit_id: Option<UnitId>,
    detail: Value,
) -> Event<Entry> {
    Event {
        at,
        kind,
        data: Entry {
            actor_id,
            unit_id,
            detail,
        },
    }
}

fn parsed(text: &Option<String>) -> Value {
    text.as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

/// At most this many of each source (reports, urges, requests) are read.
const CAP: i64 = 1000;

/// The timeline of an assignment the caller may see, oldest first.
pub fn of_assignment(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: AssignmentId,
) -> ApiResult<Vec<Event<Entry>>> {
    let a = super::assignments::visible(c, &ctx.principal, id)?;
    let unit = Some(a.unit_id);
    // Changes of holder and role (disputes resolved by a move or a role change); the first
    // holder and role are what the assignment was made with.
    let changes = audit::about(
        c,
        "assignment",
        &[id.0],
        &["assignment.move", "assignment.change_role"],
    )?;
    let first = |key: &str, action: &str| {
        changes
            .iter()
            .filter(|e| e.action == action)
            .min_by_key(|e| (e.occurred_at, e.id))
            .map(|e| parsed(&e.before_json)[key].clone())
    };
    let first_unit = first("unit_id", "assignment.move")
        .and_then(|v| v.as_i64())
        .map(UnitId)
        .or(unit);
    let first_role = first("role", "assignment.change_role").unwrap_or(json!(a.role));
    let first_group = first("via_group_id", "assignment.move").unwrap_or(json!(a.via_group_id));
    let mut out = vec![event(
        a.created_at,
        EventKind::Assigned,
        None,
        first_unit,
        json!({"role": first_role, "via_group_id": first_group}),
    )];
    for e in &changes {
        let (before, after) = (parsed(&e.before_json), parsed(&e.after_json));
        let (kind, of, detail) = if e.action == "assignment.move" {
            // The former holder's signature, cleared by the move, is kept by its entry.
            let signed = before["received_at"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            if let Some(at) = signed {
                out.push(event(
                    at.naive_utc(),
                    EventKind::Received,
                    before["received_by"].as_i64().map(UserId),
                    before["unit_id"].as_i64().map(UnitId),
                    json!({}),
                ));
            }
            let to = after["unit_id"].as_i64().map(UnitId);
            let detail = json!({"from_unit_id": before["unit_id"], "to_unit_id": after["unit_id"]});
            (EventKind::HolderChanged, to, detail)
        } else {
            let detail = json!({"from": before["role"], "to": after["role"]});
            (EventKind::RoleChanged, unit, detail)
        };
        out.push(event(e.occurred_at, kind, e.actor_user_id, of, detail));
    }
    if let Some(at) = a.received_at {
        out.push(event(
            at,
            EventKind::Received,
            a.received_by,
            unit,
            json!({}),
        ));
    }

    // Reports, as the caller reads them (a system without reports:read sees none of them).
    if let Ok(reader) = policy::report_reader(&ctx.principal) {
        let mut f = reports::ReportFilter::for_reader(reader);
        f.assignment_id = Some(id);
        // The whole history: a former holder's reports too, each naming its unit.
        f.held_only = false;
        let seen = reports::list(c, &f, None, CAP)?;
        let mut sent_ids = Vec::new();
        for r in &seen {
            if reader.sees_working_copy(r.unit_id) {
                out.push(event(
                    r.created_at,
                    EventKind::ReportDrafted,
                    r.created_by,
                    Some(r.unit_id),
                    json!({"report_id": r.id, "period": r.period}),
                ));
            }
            for v in reports::revisions(c, r.id)? {
                let kind = if v.revision == 1 {
                    EventKind::Submitted
                } else {
                    EventKind::Resubmitted
                };
                out.push(event(
                    v.submitted_at,
                    kind,
                    v.submitted_by,
                    Some(r.unit_id),
                    json!({"report_id": r.id, "period": r.period, "revision": v.revision,
                           "status": v.status}),
                ));
                sent_ids.push(r.id.0);
            }
        }
        sent_ids.dedup();
        let units: std::collections::HashMap<i64, UnitId> =
            seen.iter().map(|r| (r.id.0, r.unit_id)).collect();
        for e in audit::about(c, "report", &sent_ids, &["report.accept", "report.return"])? {
            let report = e.entity_id.unwrap_or_default();
            let after = parsed(&e.after_json);
            let (kind, detail) = if e.action == "report.return" {
                (
                    EventKind::Returned,
                    json!({"report_id": report, "reason": after["reason"]}),
                )
            } else {
                (EventKind::Accepted, json!({"report_id": report}))
            };
            out.push(event(
                e.occurred_at,
                kind,
                e.actor_user_id,
                units.get(&report).copied(),
                detail,
            ));
        }
    }

    // Urges about it, to a unit the caller may see the urges of.
    let uf = urges::UrgeFilter {
        assignment_id: Some(id),
        ..Default::default()
    };
    for u in urges::list(c, &uf, None, CAP)? {
        if !policy::read_urge(&ctx.principal, u.unit_id) {
            continue;
        }
        let to = Some(u.unit_id);
        out.push(event(
            u.issued_at,
            EventKind::Urged,
            u.issued_by,
            to,
            json!({"urge_id": u.id, "severity": u.severity, "message": u.message,
                   "automatic": u.automatic}),
        ));
        if let Some(at) = u.acknowledged_at {
            let detail = json!({"urge_id": u.id});
            out.push(event(
                at,
                EventKind::Acknowledged,
                u.acknowledged_by,
                to,
                detail,
            ));
        }
        if let Some(at) = u.replied_at {
            let detail = json!({"urge_id": u.id, "reply": u.reply});
            out.push(event(at, EventKind::Replied, u.replied_by, to, detail));
        }
    }

    // Extension requests, as the caller may read them.
    let ef = extensions::ExtensionFilter {
        assignment_id: Some(id),
        ..Default::default()
    };
    for r in extensions::list(c, &ef, None, CAP)? {
        if !policy::read_request(&ctx.principal, r.unit_id)? {
            continue;
        }
        let of = Some(r.unit_id);
        out.push(event(
            r.requested_at,
            EventKind::ExtensionRequested,
            r.requested_by,
            of,
            json!({"request_id": r.id, "due_date": r.due_date,
                   "requested_due_date": r.requested_due_date, "reason": r.reason}),
        ));
        if let Some(at) = r.decided_at {
            let (kind, detail) = match r.granted_due_date {
                Some(g) => (
                    EventKind::ExtensionApproved,
                    json!({"request_id": r.id, "granted_due_date": g, "note": r.decision_note}),
                ),
                None => (
                    EventKind::ExtensionRejected,
                    json!({"request_id": r.id, "reason": r.decision_note}),
                ),
            };
            out.push(event(at, kind, r.decided_by, of, detail));
        }
    }

    // Disputes, as the caller may read them (the unit that raised them, and the office).
    let df = disputes::DisputeFilter {
        assignment_id: Some(id),
        ..Default::default()
    };
    for d in disputes::list(c, &df, None, CAP)? {
        if !policy::read_request(&ctx.principal, d.unit_id)? {
            continue;
        }
        let of = Some(d.unit_id);
        out.push(event(
            d.raised_at,
            EventKind::Disputed,
            d.raised_by,
            of,
            json!({"dispute_id": d.id, "kind": d.kind, "role": d.role, "reason": d.reason}),
        ));
        if let Some(at) = d.resolved_at {
            let detail = json!({"dispute_id": d.id, "outcome": d.outcome,
                                "moved_to_unit_id": d.moved_to_unit_id, "new_role": d.new_role,
                                "note": d.resolution_note});
            out.push(event(
                at,
                EventKind::DisputeResolved,
                d.resolved_by,
                of,
                detail,
            ));
        }
    }

    // Due-date changes (rescheduling, approved extensions).
    for e in audit::about(c, "assignment", &[id.0], &["assignment.reschedule"])? {
        let (before, after) = (parsed(&e.before_json), parsed(&e.after_json));
        out.push(event(
            e.occurred_at,
            EventKind::DueDateChanged,
            e.actor_user_id,
            unit,
            json!({"from": before["due_date"], "to": after["due_date"],
                   "cycle": after["cycle"]}),
        ));
    }
    in_order(&mut out);
    Ok(out)
}
