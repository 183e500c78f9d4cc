//! Plans, their task tree (sections, tasks, measures) and source documents.

use crate::db::schema::{assignments, measure_sources, plan_items, plans, source_documents};
use crate::db::AnyConnection;
use crate::domain::ids::{ItemId, PlanId, SourceId, UnitId};
use crate::domain::plan::{ItemLevel, PlanState};
use crate::on_backend;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

/// A plan as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = plans, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Plan {
    pub id: PlanId,
    pub title: String,
    pub year: i32,
    pub issuing_unit_id: Option<UnitId>,
    pub state: PlanState,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
}

/// A section, task or measure as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = plan_items, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Item {
    pub id: ItemId,
    pub plan_id: PlanId,
    pub parent_id: Option<ItemId>,
    pub level: ItemLevel,
    pub code: String,
    pub number: String,
    pub title: String,
    pub position: i32,
    pub lead_text: Option<String>,
    pub participant_text: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A new tree item.
#[derive(Debug, Insertable)]
#[diesel(table_name = plan_items)]
pub struct NewItem<'a> {
    pub plan_id: PlanId,
    pub parent_id: Option<ItemId>,
    pub level: ItemLevel,
    pub code: &'a str,
    pub number: &'a str,
    pub title: &'a str,
    pub position: i32,
    pub lead_text: Option<&'a str>,
    pub participant_text: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A source document as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = source_documents, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Source {
    pub id: SourceId,
    pub doc_number: String,
    pub title: Option<String>,
    pub issuer: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Inserts a plan and returns its id.
pub fn insert(
    c: &mut AnyConnection,
    title: &str,
    year: i32,
    issuer: Option<UnitId>,
    now: NaiveDateTime,
) -> QueryResult<PlanId> {
    let v = (
        plans::title.eq(title),
        plans::year.eq(year),
        plans::issuing_unit_id.eq(issuer),
        plans::state.eq(PlanState::Draft),
        plans::created_at.eq(now),
        plans::updated_at.eq(now),
    );
    on_backend!(c, |c| diesel::insert_into(plans::table)
        .values(v)
        .returning(plans::id)
        .get_result(c))
}

/// The plan with this id.
pub fn find(c: &mut AnyConnection, id: PlanId) -> QueryResult<Option<Plan>> {
    plans::table
        .find(id)
        .select(Plan::as_select())
        .first(c)
        .optional()
}

/// Up to `limit + 1` plans after `after`, newest year first then id; `states` limits the states.
pub fn list(
    c: &mut AnyConnection,
    year: Option<i32>,
    states: &[PlanState],
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Plan>> {
    let mut q = plans::table
        .select(Plan::as_select())
        .filter(plans::state.eq_any(states.to_vec()))
        .into_boxed();
    if let Some(y) = year {
        q = q.filter(plans::year.eq(y));
    }
    if let Some(a) = after {
        q = q.filter(plans::id.gt(PlanId(a)));
    }
    q.order(plans::id.asc()).limit(limit + 1).load(c)
}

/// Changes title and year.
pub fn update(
    c: &mut AnyConnection,
    id: PlanId,
    title: &str,
    year: i32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(plans::table.find(id))
        .set((
            plans::title.eq(title),
            plans::year.eq(year),
            plans::updated_at.eq(now),
        ))
        .execute(c)
}

/// Moves the plan to a new state, stamping when it was published or closed.
pub fn set_state(
    c: &mut AnyConnection,
    id: PlanId,
    state: PlanState,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = plans::table.find(id);
    match state {
        PlanState::Published => diesel::update(target)
            .set((
                plans::state.eq(state),
                plans::published_at.eq(now),
                plans::updated_at.eq(now),
            ))
            .execute(c),
        PlanState::Closed => diesel::update(target)
            .set((
                plans::state.eq(state),
                plans::closed_at.eq(now),
                plans::updated_at.eq(now),
            ))
            .execute(c),
        PlanState::Draft => diesel::update(target)
            .set((plans::state.eq(state), plans::updated_at.eq(now)))
            .execute(c),
    }
}

/// Inserts tree items in one statement per chunk; returns their ids in order.
pub fn insert_item(c: &mut AnyConnection, item: &NewItem<'_>) -> QueryResult<ItemId> {
    on_backend!(c, |c| diesel::insert_into(plan_items::table)
        .values(item)
        .returning(plan_items::id)
        .get_result(c))
}

/// Every item of a plan in document order.
pub fn items(c: &mut AnyConnection, plan: PlanId) -> QueryResult<Vec<Item>> {
    plan_items::table
        .filter(plan_items::plan_id.eq(plan))
        .select(Item::as_select())
        .order(plan_items::position)
        .load(c)
}

/// Which measures of a plan to list.
#[derive(Debug, Clone, Default)]
pub struct MeasureFilter {
    /// Only measures of this section (its code, e.g. `2`).
    pub section: Option<String>,
    /// Only measures citing this 文号.
    pub source: Option<String>,
    /// Only measures assigned to this unit.
    pub unit_id: Option<UnitId>,
}

/// Up to `limit + 1` measures of a plan after position `after`, in document order.
pub fn measures(
    c: &mut AnyConnection,
    plan: PlanId,
    f: &MeasureFilter,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Item>> {
    let mut q = plan_items::table
        .filter(plan_items::plan_id.eq(plan))
        .filter(plan_items::level.eq(ItemLevel::Measure))
        .select(Item::as_select())
        .into_boxed();
    if let Some(section) = &f.section {
        let mut p = super::contains_pattern(section);
        p.remove(0);
        p.pop();
        q = q.filter(plan_items::code.like(format!("{p}.%")).escape('\\'));
    }
    if let Some(number) = &f.source {
        let citing = measure_sources::table
            .inner_join(source_documents::table)
            .filter(source_documents::doc_number.eq(number.clone()))
            .select(measure_sources::measure_id);
        q = q.filter(plan_items::id.eq_any(citing));
    }
    if let Some(unit) = f.unit_id {
        let assigned = assignments::table
            .filter(assignments::plan_id.eq(plan))
            .filter(assignments::unit_id.eq(unit))
            .select(assignments::measure_id);
        q = q.filter(plan_items::id.eq_any(assigned));
    }
    if let Some(a) = after {
        q = q.filter(plan_items::position.gt(i32::try_from(a).unwrap_or(i32::MAX)));
    }
    q.order(plan_items::position.asc()).limit(limit + 1).load(c)
}

/// The last position among the descendants of the item coded `code`, if it has any.
pub fn last_position_under(
    c: &mut AnyConnection,
    plan: PlanId,
    code: &str,
) -> QueryResult<Option<i32>> {
    let mut p = super::contains_pattern(code);
    p.remove(0);
    p.pop();
    plan_items::table
        .filter(plan_items::plan_id.eq(plan))
        .filter(plan_items::code.like(format!("{p}.%")).escape('\\'))
        .select(diesel::dsl::max(plan_items::position))
        .first(c)
}

/// The item with this id.
pub fn find_item(c: &mut AnyConnection, id: ItemId) -> QueryResult<Option<Item>> {
    plan_items::table
        .find(id)
        .select(Item::as_select())
        .first(c)
        .optional()
}

/// Children of an item (or the sections, for `None`), in order.
pub fn children(
    c: &mut AnyConnection,
    plan: PlanId,
    parent: Option<ItemId>,
) -> QueryResult<Vec<Item>> {
    let q = plan_items::table
        .filter(plan_items::plan_id.eq(plan))
        .select(Item::as_select())
        .order(plan_items::position)
        .into_boxed();
    match parent {
        Some(p) => q.filter(plan_items::parent_id.eq(p)).load(c),
        None => q.filter(plan_items::parent_id.is_null()).load(c),
    }
}

/// The largest position used in a plan (0 when empty).
pub fn max_position(c: &mut AnyConnection, plan: PlanId) -> QueryResult<i32> {
    plan_items::table
        .filter(plan_items::plan_id.eq(plan))
        .select(diesel::dsl::max(plan_items::position))
        .first::<Option<i32>>(c)
        .map(|m| m.unwrap_or(0))
}

/// Shifts items at or after `from` down by `by`, to make room for an insertion.
pub fn shift_positions(
    c: &mut AnyConnection,
    plan: PlanId,
    from: i32,
    by: i32,
) -> QueryResult<usize> {
    diesel::update(
        plan_items::table
            .filter(plan_items::plan_id.eq(plan))
            .filter(plan_items::position.ge(from)),
    )
    .set(plan_items::position.eq(plan_items::position + by))
    .execute(c)
}

/// Changes an item's title and unit texts.
pub fn update_item(
    c: &mut AnyConnection,
    id: ItemId,
    title: &str,
    lead: Option<&str>,
    participants: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(plan_items::table.find(id))
        .set((
            plan_items::title.eq(title),
            plan_items::lead_text.eq(lead),
            plan_items::participant_text.eq(participants),
            plan_items::updated_at.eq(now),
        ))
        .execute(c)
}

/// The source with this 文号, created when new.
pub fn source_by_number(
    c: &mut AnyConnection,
    number: &str,
    now: NaiveDateTime,
) -> QueryResult<SourceId> {
    if let Some(id) = source_documents::table
        .filter(source_documents::doc_number.eq(number))
        .select(source_documents::id)
        .first(c)
        .optional()?
    {
        return Ok(id);
    }
    let v = (
        source_documents::doc_number.eq(number),
        source_documents::created_at.eq(now),
    );
    on_backend!(c, |c| diesel::insert_into(source_documents::table)
        .values(v)
        .returning(source_documents::id)
        .get_result(c))
}

/// Inserts a source document with its details.
pub fn insert_source(
    c: &mut AnyConnection,
    number: &str,
    title: Option<&str>,
    issuer: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<SourceId> {
    let v = (
        source_documents::doc_number.eq(number),
        source_documents::title.eq(title),
        source_documents::issuer.eq(issuer),
        source_documents::created_at.eq(now),
    );
    on_backend!(c, |c| diesel::insert_into(source_documents::table)
        .values(v)
        .returning(source_documents::id)
        .get_result(c))
}

/// The source with this id.
pub fn find_source(c: &mut AnyConnection, id: SourceId) -> QueryResult<Option<Source>> {
    source_documents::table
        .find(id)
        .select(Source::as_select())
        .first(c)
        .optional()
}

/// Up to `limit + 1` sources after `after`, in id order; `q` matches part of the 文号 or title.
pub fn list_sources(
    c: &mut AnyConnection,
    q: Option<&str>,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Source>> {
    let mut query = source_documents::table
        .select(Source::as_select())
        .into_boxed();
    if let Some(text) = q {
        let p = super::contains_pattern(text);
        query = query.filter(
            source_documents::doc_number
                .like(p.clone())
                .escape('\\')
                .or(source_documents::title.like(p).escape('\\')),
        );
    }
    if let Some(a) = after {
        query = query.filter(source_documents::id.gt(SourceId(a)));
    }
    query
        .order(source_documents::id.asc())
        .limit(limit + 1)
        .load(c)
}

/// Replaces the sources a measure cites.
pub fn set_measure_sources(
    c: &mut AnyConnection,
    measure: ItemId,
    sources: &[SourceId],
) -> QueryResult<()> {
    diesel::delete(measure_sources::table.filter(measure_sources::measure_id.eq(measure)))
        .execute(c)?;
    let rows: Vec<_> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                measure_sources::measure_id.eq(measure),
                measure_sources::source_id.eq(s),
                measure_sources::position.eq(i as i32),
            )
        })
        .collect();
    if !rows.is_empty() {
        on_backend!(c, |c| diesel::insert_into(measure_sources::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}

/// The 文号 each measure of a plan cites, in order.
pub fn sources_by_measure(
    c: &mut AnyConnection,
    plan: PlanId,
) -> QueryResult<HashMap<ItemId, Vec<(SourceId, String)>>> {
    let rows: Vec<(ItemId, SourceId, String)> = measure_sources::table
        .inner_join(source_documents::table)
        .inner_join(plan_items::table)
        .filter(plan_items::plan_id.eq(plan))
        .select((
            measure_sources::measure_id,
            source_documents::id,
            source_documents::doc_number,
        ))
        .order((measure_sources::measure_id, measure_sources::position))
        .load(c)?;
    let mut map: HashMap<ItemId, Vec<(SourceId, String)>> = HashMap::new();
    for (m, s, n) in rows {
        map.entry(m).or_default().push((s, n));
    }
    Ok(map)
}

/// The measures citing a source, across plans in these states, with their plan.
pub fn measures_citing(
    c: &mut AnyConnection,
    source: SourceId,
    states: &[PlanState],
) -> QueryResult<Vec<(Item, Plan)>> {
    measure_sources::table
        .inner_join(plan_items::table.inner_join(plans::table))
        .filter(measure_sources::source_id.eq(source))
        .filter(plans::state.eq_any(states.to_vec()))
        .select((Item::as_select(), Plan::as_select()))
        .order((plans::year.desc(), plans::id, plan_items::position))
        .load(c)
}
