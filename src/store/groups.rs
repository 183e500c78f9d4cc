//! Unit groups, their aliases and members.

use crate::db::schema::{unit_group_aliases, unit_group_members, unit_groups, units};
use crate::db::AnyConnection;
use crate::domain::ids::{GroupId, UnitId};
use crate::on_backend;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

/// A group as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = unit_groups, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Every group, by name.
pub fn all(c: &mut AnyConnection) -> QueryResult<Vec<Group>> {
    unit_groups::table
        .select(Group::as_select())
        .order(unit_groups::name)
        .load(c)
}

/// Up to `limit + 1` groups after id `after`, in id order.
pub fn list(c: &mut AnyConnection, after: Option<i64>, limit: i64) -> QueryResult<Vec<Group>> {
    let mut q = unit_groups::table.select(Group::as_select()).into_boxed();
    if let Some(a) = after {
        q = q.filter(unit_groups::id.gt(GroupId(a)));
    }
    q.order(unit_groups::id.asc()).limit(limit + 1).load(c)
}

/// The group with this id.
pub fn find(c: &mut AnyConnection, id: GroupId) -> QueryResult<Option<Group>> {
    unit_groups::table
        .find(id)
        .select(Group::as_select())
        .first(c)
        .optional()
}

/// The group whose name or alias is exactly `name`.
pub fn find_by_name_or_alias(c: &mut AnyConnection, name: &str) -> QueryResult<Option<Group>> {
    let by_name = unit_groups::table
        .filter(unit_groups::name.eq(name))
        .select(Group::as_select())
        .first(c)
        .optional()?;
    if by_name.is_some() {
        return Ok(by_name);
    }
    unit_groups::table
        .inner_join(unit_group_aliases::table)
        .filter(unit_group_aliases::alias.eq(name))
        .select(Group::as_select())
        .first(c)
        .optional()
}

/// Inserts a group and returns its id.
pub fn insert(
    c: &mut AnyConnection,
    name: &str,
    description: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<GroupId> {
    let values = (
        unit_groups::name.eq(name),
        unit_groups::description.eq(description),
        unit_groups::created_at.eq(now),
        unit_groups::updated_at.eq(now),
    );
    on_backend!(c, |c| diesel::insert_into(unit_groups::table)
        .values(values)
        .returning(unit_groups::id)
        .get_result(c))
}

/// Renames or re-describes a group.
pub fn update(
    c: &mut AnyConnection,
    id: GroupId,
    name: &str,
    description: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(unit_groups::table.find(id))
        .set((
            unit_groups::name.eq(name),
            unit_groups::description.eq(description),
            unit_groups::updated_at.eq(now),
        ))
        .execute(c)
}

/// Replaces a group's aliases.
pub fn replace_aliases(c: &mut AnyConnection, id: GroupId, aliases: &[String]) -> QueryResult<()> {
    diesel::delete(unit_group_aliases::table.filter(unit_group_aliases::group_id.eq(id)))
        .execute(c)?;
    let rows: Vec<_> = aliases
        .iter()
        .map(|a| {
            (
                unit_group_aliases::group_id.eq(id),
                unit_group_aliases::alias.eq(a),
            )
        })
        .collect();
    if !rows.is_empty() {
        on_backend!(c, |c| diesel::insert_into(unit_group_aliases::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}

/// Replaces a group's members.
pub fn replace_members(c: &mut AnyConnection, id: GroupId, members: &[UnitId]) -> QueryResult<()> {
    diesel::delete(unit_group_members::table.filter(unit_group_members::group_id.eq(id)))
        .execute(c)?;
    for chunk in members.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|u| {
                (
                    unit_group_members::group_id.eq(id),
                    unit_group_members::unit_id.eq(u),
                )
            })
            .collect();
        on_backend!(c, |c| diesel::insert_into(unit_group_members::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}

/// Members (active units only) of these groups, by group, in unit id order.
pub fn members_of(
    c: &mut AnyConnection,
    ids: &[GroupId],
) -> QueryResult<HashMap<GroupId, Vec<UnitId>>> {
    let rows: Vec<(GroupId, UnitId)> = unit_group_members::table
        .inner_join(units::table)
        .filter(unit_group_members::group_id.eq_any(ids))
        .filter(units::active.eq(true))
        .select((unit_group_members::group_id, unit_group_members::unit_id))
        .order((unit_group_members::group_id, unit_group_members::unit_id))
        .load(c)?;
    let mut map: HashMap<GroupId, Vec<UnitId>> = HashMap::new();
    for (g, u) in rows {
        map.entry(g).or_default().push(u);
    }
    Ok(map)
}

/// Aliases of these groups, by group.
pub fn aliases_of(
    c: &mut AnyConnection,
    ids: &[GroupId],
) -> QueryResult<HashMap<GroupId, Vec<String>>> {
    let rows: Vec<(GroupId, String)> = unit_group_aliases::table
        .filter(unit_group_aliases::group_id.eq_any(ids))
        .select((unit_group_aliases::group_id, unit_group_aliases::alias))
        .order((unit_group_aliases::group_id, unit_group_aliases::alias))
        .load(c)?;
    let mut map: HashMap<GroupId, Vec<String>> = HashMap::new();
    for (g, a) in rows {
        map.entry(g).or_default().push(a);
    }
    Ok(map)
}

/// Every alias of every group, with its group.
pub fn all_aliases(c: &mut AnyConnection) -> QueryResult<Vec<(String, GroupId)>> {
    unit_group_aliases::table
        .select((unit_group_aliases::alias, unit_group_aliases::group_id))
        .load(c)
}
