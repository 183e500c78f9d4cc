//! The append-only audit log: who, for which unit, did what to which record, before and after.

use crate::db::schema::audit_log;
use crate::db::AnyConnection;
use crate::domain::ids::{UnitId, UserId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Who is writing, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// The account, or `None` for the system (start-up, CLI).
    pub user_id: Option<UserId>,
    /// The unit it acts for.
    pub unit_id: Option<UnitId>,
    /// The request's `X-Request-Id`.
    pub request_id: Option<String>,
}

/// An audit entry as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: NaiveDateTime,
    pub actor_user_id: Option<UserId>,
    pub actor_unit_id: Option<UnitId>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<i64>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: Option<String>,
}

/// Appends an entry: `action` such as `unit.create`, the entity, and its JSON before and after.
pub fn record(
    c: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: Option<i64>,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::occurred_at.eq(super::now()),
            audit_log::actor_user_id.eq(actor.user_id),
            audit_log::actor_unit_id.eq(actor.unit_id),
            audit_log::action.eq(action),
            audit_log::entity_type.eq(entity_type),
            audit_log::entity_id.eq(entity_id),
            audit_log::before_json.eq(before.map(|v| v.to_string())),
            audit_log::after_json.eq(after.map(|v| v.to_string())),
            audit_log::request_id.eq(actor.request_id.as_deref()),
        ))
        .execute(c)
        .map(|_| ())
}

/// Filters of the audit list.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    pub actor_user_id: Option<UserId>,
    pub action: Option<String>,
}

/// Entries about a unit's drafts (writing a report before it is sent): kept, but never listed
/// to the audit trail's readers (the office, viewers, admins), who must not learn of a draft —
/// not even that it exists. Sending it (`report.submit`) is listed.
pub const UNIT_PRIVATE_ACTIONS: [&str; 4] = [
    "report.create",
    "report.update",
    "attachment.add",
    "attachment.remove",
];

/// Up to `limit + 1` entries before the key `before` (newest first), without the units' own
/// draft entries ([`UNIT_PRIVATE_ACTIONS`]).
pub fn list(
    c: &mut AnyConnection,
    f: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    let mut q = audit_log::table
        .select(AuditEntry::as_select())
        .filter(audit_log::action.ne_all(UNIT_PRIVATE_ACTIONS))
        .into_boxed();
    if let Some(t) = &f.entity_type {
        q = q.filter(audit_log::entity_type.eq(t.clone()));
    }
    if let Some(id) = f.entity_id {
        q = q.filter(audit_log::entity_id.eq(id));
    }
    if let Some(u) = f.actor_user_id {
        q = q.filter(audit_log::actor_user_id.eq(u));
    }
    if let Some(a) = &f.action {
        q = q.filter(audit_log::action.eq(a.clone()));
    }
    if let Some(before) = before {
        q = q.filter(audit_log::id.lt(before));
    }
    q.order(audit_log::id.desc()).limit(limit + 1).load(c)
}

/// The entries with one of `actions` about these entities of a type, oldest first (for an
/// assignment's timeline: reviews of its reports, changes of its due date).
pub fn about(
    c: &mut AnyConnection,
    entity_type: &str,
    ids: &[i64],
    actions: &[&str],
) -> QueryResult<Vec<AuditEntry>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    audit_log::table
        .select(AuditEntry::as_select())
        .filter(audit_log::entity_type.eq(entity_type))
        .filter(audit_log::entity_id.eq_any(ids))
        .filter(audit_log::action.eq_any(actions))
        .order((audit_log::occurred_at.asc(), audit_log::id.asc()))
        .load(c)
}
