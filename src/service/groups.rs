//! Unit groups: 市级有关部门, 区县政府 and the like, which an assignment to a group expands into
//! one assignment per member. Anyone who reads the unit directory reads them; the office keeps
//! them.

use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::domain::ids::{GroupId, UnitId};
use crate::domain::unit::normalize_name;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, audit, groups, units};
use serde::Serialize;

/// A group with its aliases and active members: what is answered and what the audit trail keeps.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The group's id.
    pub id: GroupId,
    /// Its name.
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Other names it goes by.
    pub aliases: Vec<String>,
    /// Its active members.
    pub members: Vec<UnitId>,
}

/// A group as the office writes it: its complete new state.
#[derive(Debug, Clone)]
pub struct GroupFields {
    /// The name (unique).
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Other names.
    pub aliases: Vec<String>,
    /// Member units.
    pub members: Vec<UnitId>,
}

fn load(c: &mut AnyConnection, id: GroupId) -> ApiResult<Group> {
    let g = groups::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no group {id}")))?;
    let members = groups::members_of(c, &[id])?
        .remove(&id)
        .unwrap_or_default();
    let aliases = groups::aliases_of(c, &[id])?
        .remove(&id)
        .unwrap_or_default();
    Ok(Group {
        id,
        name: g.name,
        description: g.description,
        aliases,
        members,
    })
}

/// The name, aliases and members, checked: names free, members existing units.
fn check(
    c: &mut AnyConnection,
    b: &GroupFields,
    except: Option<GroupId>,
) -> ApiResult<(String, Vec<String>, Vec<UnitId>)> {
    let name = normalize_name(&b.name)
        .ok_or_else(|| ApiError::invalid("name", "must be 1 to 100 characters"))?;
    let mut aliases = Vec::new();
    for (i, a) in b.aliases.iter().enumerate() {
        let a = normalize_name(a).ok_or_else(|| {
            ApiError::invalid(format!("aliases[{i}]"), "must be 1 to 100 characters")
        })?;
        if a != name && !aliases.contains(&a) {
            aliases.push(a);
        }
    }
    for (field, n) in std::iter::once(("name", &name)).chain(aliases.iter().map(|a| ("aliases", a)))
    {
        if let Some(g) = groups::find_by_name_or_alias(c, n)? {
            if Some(g.id) != except {
                return Err(ApiError::Conflict {
                    detail: format!("{n} is already a group's name or alias"),
                    field: Some(field.into()),
                });
            }
        }
    }
    let mut members: Vec<UnitId> = Vec::new();
    for (i, m) in b.members.iter().enumerate() {
        if units::find(c, *m)?.is_none() {
            return Err(ApiError::invalid(format!("members[{i}]"), "no such unit"));
        }
        if !members.contains(m) {
            members.push(*m);
        }
    }
    Ok((name, aliases, members))
}

fn json_of(g: &Group) -> serde_json::Value {
    serde_json::to_value(g).unwrap_or_default()
}

/// One page of groups, in id order.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<store::Page<Group>> {
    policy::read_units(&ctx.principal)?;
    let rows = groups::list(c, after, limit)?;
    let page = store::Page::from_rows(rows, limit, |g| g.id.0);
    let items = page
        .items
        .into_iter()
        .map(|g| load(c, g.id))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(store::Page {
        items,
        next_after: page.next_after,
    })
}

/// One group with its members.
pub fn get(c: &mut AnyConnection, ctx: &Ctx, id: GroupId) -> ApiResult<Group> {
    policy::read_units(&ctx.principal)?;
    load(c, id)
}

/// The office creates a group.
pub fn create(c: &mut AnyConnection, ctx: &Ctx, b: GroupFields) -> ApiResult<Group> {
    policy::manage_plans(&ctx.principal)?;
    write_tx(c, |c| {
        let (name, aliases, members) = check(c, &b, None)?;
        let id = groups::insert(c, &name, b.description.as_deref(), ctx.now)?;
        groups::replace_aliases(c, id, &aliases)?;
        groups::replace_members(c, id, &members)?;
        let group = load(c, id)?;
        let after = json_of(&group);
        audit::record(
            c,
            &ctx.actor,
            "group.create",
            "group",
            Some(id.0),
            None,
            Some(&after),
        )?;
        Ok(group)
    })
}

/// The office replaces a group's name, description, aliases and members; existing assignments
/// keep the units they expanded to.
pub fn replace(c: &mut AnyConnection, ctx: &Ctx, id: GroupId, b: GroupFields) -> ApiResult<Group> {
    policy::manage_plans(&ctx.principal)?;
    write_tx(c, |c| {
        let before = load(c, id)?;
        let (name, aliases, members) = check(c, &b, Some(id))?;
        groups::update(c, id, &name, b.description.as_deref(), ctx.now)?;
        groups::replace_aliases(c, id, &aliases)?;
        groups::replace_members(c, id, &members)?;
        let after = load(c, id)?;
        let (b, a) = (json_of(&before), json_of(&after));
        audit::record(
            c,
            &ctx.actor,
            "group.update",
            "group",
            Some(id.0),
            Some(&b),
            Some(&a),
        )?;
        Ok(after)
    })
}
