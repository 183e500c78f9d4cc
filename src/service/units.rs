//! The unit directory: departments, district governments and other bodies, with their aliases.
//! Anyone signed in reads it; admins and the coordinating office maintain it.

use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::domain::ids::UnitId;
use crate::domain::unit::{normalize_name, UnitKind};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::{self, audit, units};
use serde_json::json;

/// A unit with its aliases.
pub type Unit = (units::Unit, Vec<String>);

fn name(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> String {
    normalize_name(raw).unwrap_or_else(|| {
        errors.push(FieldError::new(field, "must be 1 to 100 characters"));
        String::new()
    })
}

fn aliases(raw: &[String], main: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, a) in raw.iter().enumerate() {
        let a = name(&format!("aliases[{i}]"), a, errors);
        if !a.is_empty() && a != main && !out.contains(&a) {
            out.push(a);
        }
    }
    out.sort();
    out
}

fn invalid_if_any(errors: Vec<FieldError>) -> ApiResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn ensure_free(
    c: &mut AnyConnection,
    names: &[(&str, &str)],
    except: Option<UnitId>,
) -> ApiResult<()> {
    for (field, n) in names {
        if units::name_taken(c, n, except)? {
            return Err(ApiError::Conflict {
                detail: format!("{n} is already the name or alias of a unit"),
                field: Some((*field).to_owned()),
            });
        }
    }
    Ok(())
}

fn load(c: &mut AnyConnection, id: UnitId) -> ApiResult<Unit> {
    let unit = units::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no unit {id}")))?;
    let mut aliases = units::aliases_of(c, &[id])?;
    Ok((unit, aliases.remove(&id).unwrap_or_default()))
}

/// What the audit trail keeps of a unit: the unit as answered.
fn audit_view((u, aliases): &Unit) -> serde_json::Value {
    json!({
        "id": u.id,
        "name": u.name,
        "short_name": u.short_name,
        "kind": u.kind,
        "active": u.active,
        "aliases": aliases,
        "created_at": u.created_at.and_utc(),
        "updated_at": u.updated_at.and_utc(),
    })
}

/// One page of units, in id order, with their aliases.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    mut filter: units::UnitFilter,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<store::Page<Unit>> {
    policy::read_units(&ctx.principal)?;
    filter.q = filter.q.filter(|s| !s.trim().is_empty());
    let rows = units::list(c, &filter, after, limit)?;
    let page = store::Page::from_rows(rows, limit, |u| u.id.0);
    let ids: Vec<UnitId> = page.items.iter().map(|u| u.id).collect();
    let mut aliases = units::aliases_of(c, &ids)?;
    Ok(store::Page {
        items: page
            .items
            .into_iter()
            .map(|u| {
                let a = aliases.remove(&u.id).unwrap_or_default();
                (u, a)
            })
            .collect(),
        next_after: page.next_after,
    })
}

/// One unit with its aliases.
pub fn get(c: &mut AnyConnection, ctx: &Ctx, id: UnitId) -> ApiResult<Unit> {
    policy::read_units(&ctx.principal)?;
    load(c, id)
}

/// A new unit as asked for.
#[derive(Debug, Clone)]
pub struct NewUnit {
    /// The full name.
    pub name: String,
    /// The short name used in tables.
    pub short_name: Option<String>,
    /// What sort of body it is.
    pub kind: UnitKind,
    /// Other names it goes by.
    pub aliases: Vec<String>,
}

/// Creates a unit; its name and aliases must be free.
pub fn create(c: &mut AnyConnection, ctx: &Ctx, new: NewUnit) -> ApiResult<Unit> {
    policy::write_units(&ctx.principal)?;
    let mut errors = Vec::new();
    let main = name("name", &new.name, &mut errors);
    let short = new
        .short_name
        .as_deref()
        .map(|s| name("short_name", s, &mut errors));
    let alias_list = aliases(&new.aliases, &main, &mut errors);
    invalid_if_any(errors)?;
    write_tx(c, |c| {
        let mut names = vec![("name", main.as_str())];
        names.extend(alias_list.iter().map(|a| ("aliases", a.as_str())));
        ensure_free(c, &names, None)?;
        let id = units::insert(
            c,
            &units::NewUnit {
                name: &main,
                short_name: short.as_deref(),
                kind: new.kind,
                active: true,
                created_at: ctx.now,
                updated_at: ctx.now,
            },
        )?;
        units::replace_aliases(c, id, &alias_list)?;
        let unit = load(c, id)?;
        let after = audit_view(&unit);
        audit::record(
            c,
            &ctx.actor,
            "unit.create",
            "unit",
            Some(id.0),
            None,
            Some(&after),
        )?;
        Ok(unit)
    })
}

/// Changes to a unit; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct UnitChanges {
    /// A new full name.
    pub name: Option<String>,
    /// A new short name; an empty string clears it.
    pub short_name: Option<String>,
    /// A new kind.
    pub kind: Option<UnitKind>,
    /// `false` deactivates the unit, `true` reactivates it.
    pub active: Option<bool>,
    /// The complete new list of aliases.
    pub aliases: Option<Vec<String>>,
}

/// Changes, deactivates or reactivates a unit.
pub fn update(c: &mut AnyConnection, ctx: &Ctx, id: UnitId, ch: UnitChanges) -> ApiResult<Unit> {
    policy::write_units(&ctx.principal)?;
    let mut errors = Vec::new();
    let new_name = ch.name.as_deref().map(|n| name("name", n, &mut errors));
    let short = ch
        .short_name
        .as_deref()
        .map(|s| (!s.trim().is_empty()).then(|| name("short_name", s, &mut errors)));
    invalid_if_any(errors)?;
    write_tx(c, |c| {
        let before = load(c, id)?;
        let main = new_name.clone().unwrap_or_else(|| before.0.name.clone());
        let mut errors = Vec::new();
        let alias_list = ch
            .aliases
            .as_deref()
            .map(|a| aliases(a, &main, &mut errors));
        invalid_if_any(errors)?;
        let mut names = vec![("name", main.as_str())];
        if let Some(list) = &alias_list {
            names.extend(list.iter().map(|a| ("aliases", a.as_str())));
        }
        ensure_free(c, &names, Some(id))?;
        let changes = units::UnitChanges {
            name: new_name,
            short_name: short,
            kind: ch.kind,
            active: ch.active,
            updated_at: Some(ctx.now),
        };
        units::update(c, id, &changes)?;
        if let Some(list) = &alias_list {
            units::replace_aliases(c, id, list)?;
        }
        let after = load(c, id)?;
        let action = match (before.0.active, after.0.active) {
            (true, false) => "unit.deactivate",
            (false, true) => "unit.reactivate",
            _ => "unit.update",
        };
        let (b, a) = (audit_view(&before), audit_view(&after));
        audit::record(
            c,
            &ctx.actor,
            action,
            "unit",
            Some(id.0),
            Some(&b),
            Some(&a),
        )?;
        Ok(after)
    })
}
