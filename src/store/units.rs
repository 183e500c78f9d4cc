//! Units (单位) and their aliases.

use crate::db::schema::{unit_aliases, units};
use crate::db::AnyConnection;
use crate::domain::ids::UnitId;
use crate::domain::unit::UnitKind;
use crate::on_backend;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

/// A unit as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = units, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Unit {
    pub id: UnitId,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: UnitKind,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A new unit.
#[derive(Debug, Insertable)]
#[diesel(table_name = units)]
pub struct NewUnit<'a> {
    pub name: &'a str,
    pub short_name: Option<&'a str>,
    pub kind: UnitKind,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to a unit; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = units)]
pub struct UnitChanges {
    pub name: Option<String>,
    pub short_name: Option<Option<String>>,
    pub kind: Option<UnitKind>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Filters of the unit list.
#[derive(Debug, Default, Clone)]
pub struct UnitFilter {
    pub kind: Option<UnitKind>,
    pub active: Option<bool>,
    /// Part of the name, short name or an alias.
    pub q: Option<String>,
}

/// The unit with this id.
pub fn find(c: &mut AnyConnection, id: UnitId) -> QueryResult<Option<Unit>> {
    units::table
        .find(id)
        .select(Unit::as_select())
        .first(c)
        .optional()
}

/// The unit whose name or alias is exactly `name`.
pub fn find_by_name_or_alias(c: &mut AnyConnection, name: &str) -> QueryResult<Option<Unit>> {
    let by_name = units::table
        .filter(units::name.eq(name))
        .select(Unit::as_select())
        .first(c)
        .optional()?;
    if by_name.is_some() {
        return Ok(by_name);
    }
    units::table
        .inner_join(unit_aliases::table)
        .filter(unit_aliases::alias.eq(name))
        .select(Unit::as_select())
        .first(c)
        .optional()
}

/// True when `name` is already a unit's name or alias (other than unit `except`'s own).
pub fn name_taken(c: &mut AnyConnection, name: &str, except: Option<UnitId>) -> QueryResult<bool> {
    let except = except.unwrap_or(UnitId(0));
    let names: i64 = units::table
        .filter(units::name.eq(name))
        .filter(units::id.ne(except))
        .count()
        .get_result(c)?;
    let aliases: i64 = unit_aliases::table
        .filter(unit_aliases::alias.eq(name))
        .filter(unit_aliases::unit_id.ne(except))
        .count()
        .get_result(c)?;
    Ok(names + aliases > 0)
}

/// Inserts a unit and returns its id.
pub fn insert(c: &mut AnyConnection, new: &NewUnit<'_>) -> QueryResult<UnitId> {
    on_backend!(c, |c| diesel::insert_into(units::table)
        .values(new)
        .returning(units::id)
        .get_result(c))
}

/// Applies changes to a unit; returns the rows changed.
pub fn update(c: &mut AnyConnection, id: UnitId, changes: &UnitChanges) -> QueryResult<usize> {
    diesel::update(units::table.find(id))
        .set(changes)
        .execute(c)
}

/// Replaces a unit's aliases.
pub fn replace_aliases(c: &mut AnyConnection, id: UnitId, aliases: &[String]) -> QueryResult<()> {
    diesel::delete(unit_aliases::table.filter(unit_aliases::unit_id.eq(id))).execute(c)?;
    let rows: Vec<_> = aliases
        .iter()
        .map(|a| (unit_aliases::unit_id.eq(id), unit_aliases::alias.eq(a)))
        .collect();
    if !rows.is_empty() {
        on_backend!(c, |c| diesel::insert_into(unit_aliases::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}

/// The aliases of these units, sorted, keyed by unit.
pub fn aliases_of(
    c: &mut AnyConnection,
    ids: &[UnitId],
) -> QueryResult<HashMap<UnitId, Vec<String>>> {
    let rows: Vec<(UnitId, String)> = unit_aliases::table
        .filter(unit_aliases::unit_id.eq_any(ids))
        .select((unit_aliases::unit_id, unit_aliases::alias))
        .order((unit_aliases::unit_id, unit_aliases::alias))
        .load(c)?;
    let mut map: HashMap<UnitId, Vec<String>> = HashMap::new();
    for (unit, alias) in rows {
        map.entry(unit).or_default().push(alias);
    }
    Ok(map)
}

/// Up to `limit + 1` units after the key `after`, in id order.
pub fn list(
    c: &mut AnyConnection,
    f: &UnitFilter,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Unit>> {
    let mut q = units::table.select(Unit::as_select()).into_boxed();
    if let Some(kind) = f.kind {
        q = q.filter(units::kind.eq(kind));
    }
    if let Some(active) = f.active {
        q = q.filter(units::active.eq(active));
    }
    if let Some(text) = &f.q {
        let p = super::contains_pattern(text);
        let by_alias = unit_aliases::table
            .filter(unit_aliases::alias.like(p.clone()).escape('\\'))
            .select(unit_aliases::unit_id);
        q = q.filter(
            units::name
                .like(p.clone())
                .escape('\\')
                .or(units::short_name.like(p).escape('\\'))
                .or(units::id.eq_any(by_alias)),
        );
    }
    if let Some(after) = after {
        q = q.filter(units::id.gt(UnitId(after)));
    }
    q.order(units::id.asc()).limit(limit + 1).load(c)
}

/// Every unit matching the filter, read page by page.
pub fn list_all(c: &mut AnyConnection, f: &UnitFilter) -> QueryResult<Vec<Unit>> {
    super::all_pages(|after, limit| list(c, f, after, limit), |u| u.id.0)
}
