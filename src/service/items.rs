//! A plan's task tree: sections (一、…) → tasks (1．…) → measures (（3）…), in document order;
//! measures cite source documents (文号) and name their units as written.

use super::plans::{ensure_not_closed, load, visible};
use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::domain::ids::{ItemId, PlanId, SourceId};
use crate::domain::plan::ItemLevel;
use crate::domain::table::split_sources;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, assignments, audit, plans};
use serde::Serialize;
use std::collections::HashMap;

/// A section, task or measure as read: what the audit trail keeps, and what is answered.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// The item's id.
    pub id: ItemId,
    /// section, task or measure.
    pub level: ItemLevel,
    /// Its place in the tree, e.g. `1.1.3`.
    pub code: String,
    /// Its number as the document writes it.
    pub number: String,
    /// The heading as written, number included.
    pub heading: String,
    /// The text without its number.
    pub title: String,
    /// For measures: the 文号 it cites.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<String>>,
    /// For measures: 牵头单位 as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_units: Option<String>,
    /// For measures: 参加单位 as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_units: Option<String>,
    /// For measures: how many assignments it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment_count: Option<i64>,
}

type Sources = HashMap<ItemId, Vec<(SourceId, String)>>;

fn item(i: &plans::Item, sources: &Sources, counts: &HashMap<ItemId, i64>) -> Item {
    let level = i.level;
    let measure = level == ItemLevel::Measure;
    let cited = || {
        sources
            .get(&i.id)
            .map(|s| s.iter().map(|x| x.1.clone()).collect())
            .unwrap_or_default()
    };
    Item {
        id: i.id,
        level,
        code: i.code.clone(),
        number: i.number.clone(),
        heading: format!("{}{}", level.label(&i.number), i.title),
        title: i.title.clone(),
        sources: measure.then(cited),
        lead_units: measure.then(|| i.lead_text.clone().unwrap_or_default()),
        participant_units: measure.then(|| i.participant_text.clone().unwrap_or_default()),
        assignment_count: measure.then(|| counts.get(&i.id).copied().unwrap_or(0)),
    }
}

fn reread(c: &mut AnyConnection, id: ItemId) -> ApiResult<Item> {
    let i = plans::find_item(c, id)?.ok_or_else(|| ApiError::internal("item vanished"))?;
    Ok(item(
        &i,
        &plans::sources_by_measure(c, i.plan_id)?,
        &HashMap::new(),
    ))
}

fn json_of(i: &Item) -> serde_json::Value {
    serde_json::to_value(i).unwrap_or_default()
}

/// A plan the caller may see with every item of its tree, in document order.
pub fn tree(c: &mut AnyConnection, ctx: &Ctx, id: PlanId) -> ApiResult<(plans::Plan, Vec<Item>)> {
    policy::unit_scope(&ctx.principal)?;
    let plan = visible(c, ctx, id)?;
    let sources = plans::sources_by_measure(c, id)?;
    let counts: HashMap<ItemId, i64> = assignments::count_by_measure(c, id)?.into_iter().collect();
    let items = plans::items(c, id)?;
    Ok((
        plan,
        items.iter().map(|i| item(i, &sources, &counts)).collect(),
    ))
}

/// One page of a plan's measures, in document order (the cursor is the position).
pub fn measures(
    c: &mut AnyConnection,
    ctx: &Ctx,
    id: PlanId,
    filter: plans::MeasureFilter,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<store::Page<Item>> {
    policy::unit_scope(&ctx.principal)?;
    visible(c, ctx, id)?;
    // A section is named by its own code, which has no dot.
    if filter.section.as_deref().is_some_and(|s| s.contains('.')) {
        return Ok(store::Page::from_rows(Vec::new(), limit, |_: &Item| 0));
    }
    let rows = plans::measures(c, id, &filter, after, limit)?;
    let sources = plans::sources_by_measure(c, id)?;
    let counts: HashMap<ItemId, i64> = assignments::count_by_measure(c, id)?.into_iter().collect();
    let page = store::Page::from_rows(rows, limit, |i| i64::from(i.position));
    Ok(store::Page {
        items: page
            .items
            .iter()
            .map(|i| item(i, &sources, &counts))
            .collect(),
        next_after: page.next_after,
    })
}

/// A new section, task or measure.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// section, task or measure.
    pub level: ItemLevel,
    /// The parent: a section for a task, a task for a measure; none for a section.
    pub parent_id: Option<ItemId>,
    /// The number as the document writes it.
    pub number: String,
    /// The text without its number.
    pub title: String,
    /// For measures: the 文号 it cites.
    pub sources: Vec<String>,
    /// For measures: 牵头单位 as written.
    pub lead_units: Option<String>,
    /// For measures: 参加单位 as written.
    pub participant_units: Option<String>,
}

/// Changes to an item; `None` keeps the field.
#[derive(Debug, Clone)]
pub struct ItemChanges {
    /// New text without the number.
    pub title: Option<String>,
    /// For measures: the complete new list of 文号.
    pub sources: Option<Vec<String>>,
    /// For measures: 牵头单位 as written.
    pub lead_units: Option<String>,
    /// For measures: 参加单位 as written.
    pub participant_units: Option<String>,
}

/// An item's text, trimmed, 1 to 2000 characters.
pub fn check_title(title: &str) -> ApiResult<String> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > 2000 {
        return Err(ApiError::invalid("title", "must be 1 to 2000 characters"));
    }
    Ok(t.to_owned())
}

/// An item's number, trimmed, 1 to 10 characters.
pub fn check_number(number: &str) -> ApiResult<String> {
    let n = number.trim();
    if n.is_empty() || n.chars().count() > 10 {
        return Err(ApiError::invalid("number", "must be 1 to 10 characters"));
    }
    Ok(n.to_owned())
}

fn source_ids(c: &mut AnyConnection, ctx: &Ctx, numbers: &[String]) -> ApiResult<Vec<SourceId>> {
    let mut ids = Vec::new();
    for n in numbers.iter().flat_map(|n| split_sources(n)) {
        let id = plans::source_by_number(c, &n, ctx.now)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The parent a new item of `level` goes under, checked to be of the right level in the plan.
fn parent_of(
    c: &mut AnyConnection,
    plan_id: PlanId,
    level: ItemLevel,
    parent_id: Option<ItemId>,
) -> ApiResult<Option<plans::Item>> {
    match (level.parent(), parent_id) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(ApiError::invalid("parent_id", "a section has no parent")),
        (Some(_), None) => Err(ApiError::invalid(
            "parent_id",
            "is required for tasks and measures",
        )),
        (Some(level), Some(pid)) => plans::find_item(c, pid)?
            .filter(|p| p.plan_id == plan_id && p.level == level)
            .map(Some)
            .ok_or_else(|| {
                let why = format!("must be a {} of this plan", level.as_str());
                ApiError::invalid("parent_id", why)
            }),
    }
}

/// The office adds an item at the end of its parent (not in a closed plan).
pub fn create(c: &mut AnyConnection, ctx: &Ctx, plan_id: PlanId, new: NewItem) -> ApiResult<Item> {
    policy::manage_plans(&ctx.principal)?;
    let title = check_title(&new.title)?;
    let number = check_number(&new.number)?;
    write_tx(c, |c| {
        ensure_not_closed(&load(c, plan_id)?)?;
        let parent = parent_of(c, plan_id, new.level, new.parent_id)?;
        let parent_id = parent.as_ref().map(|p| p.id);
        let siblings = plans::children(c, plan_id, parent_id)?;
        let code = match &parent {
            Some(p) => format!("{}.{}", p.code, siblings.len() + 1),
            None => (siblings.len() + 1).to_string(),
        };
        // After the parent's last descendant: the next item at the parent's level or above.
        let position = match &parent {
            None => plans::max_position(c, plan_id)? + 1,
            Some(p) => plans::last_position_under(c, plan_id, &p.code)?.unwrap_or(p.position) + 1,
        };
        plans::shift_positions(c, plan_id, position, 1)?;
        let measure = new.level == ItemLevel::Measure;
        let as_written = |t: &Option<String>| measure.then(|| t.clone().unwrap_or_default());
        let (lead, participants) = (
            as_written(&new.lead_units),
            as_written(&new.participant_units),
        );
        let item_id = plans::insert_item(
            c,
            &plans::NewItem {
                plan_id,
                parent_id,
                level: new.level,
                code: &code,
                number: &number,
                title: &title,
                position,
                lead_text: lead.as_deref(),
                participant_text: participants.as_deref(),
                created_at: ctx.now,
                updated_at: ctx.now,
            },
        )?;
        if measure {
            let ids = source_ids(c, ctx, &new.sources)?;
            plans::set_measure_sources(c, item_id, &ids)?;
        }
        let after = reread(c, item_id)?;
        let a = json_of(&after);
        audit::record(
            c,
            &ctx.actor,
            "item.create",
            "plan_item",
            Some(item_id.0),
            None,
            Some(&a),
        )?;
        Ok(after)
    })
}

/// The office changes an item (not in a closed plan).
pub fn update(c: &mut AnyConnection, ctx: &Ctx, id: ItemId, ch: ItemChanges) -> ApiResult<Item> {
    policy::manage_plans(&ctx.principal)?;
    let title = ch.title.as_deref().map(check_title).transpose()?;
    write_tx(c, |c| {
        let found = plans::find_item(c, id)?;
        let i = found.ok_or_else(|| ApiError::NotFound(format!("no item {id}")))?;
        ensure_not_closed(&load(c, i.plan_id)?)?;
        let before = item(
            &i,
            &plans::sources_by_measure(c, i.plan_id)?,
            &HashMap::new(),
        );
        let names =
            ch.sources.is_some() || ch.lead_units.is_some() || ch.participant_units.is_some();
        if i.level != ItemLevel::Measure && names {
            return Err(ApiError::invalid(
                "sources",
                "only measures cite sources and name units",
            ));
        }
        let lead = ch.lead_units.or(i.lead_text.clone());
        let participants = ch.participant_units.or(i.participant_text.clone());
        let title = title.as_deref().unwrap_or(&i.title);
        plans::update_item(
            c,
            id,
            title,
            lead.as_deref(),
            participants.as_deref(),
            ctx.now,
        )?;
        if let Some(list) = &ch.sources {
            let ids = source_ids(c, ctx, list)?;
            plans::set_measure_sources(c, id, &ids)?;
        }
        let after = reread(c, id)?;
        let (b, a) = (json_of(&before), json_of(&after));
        audit::record(
            c,
            &ctx.actor,
            "item.update",
            "plan_item",
            Some(id.0),
            Some(&b),
            Some(&a),
        )?;
        Ok(after)
    })
}
