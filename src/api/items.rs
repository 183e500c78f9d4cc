//! A plan's task tree (`/plans/{id}/tree`, `/plans/{id}/measures`, `/items`): sections →
//! tasks → measures in document order, each measure with its sources and units as written.

use super::extract::{total_of_pages, Caller, Json, Page, PageQuery, Query};
use super::views::PlanView;
use crate::app::AppState;
use crate::domain::ids::{ItemId, PlanId, UnitId};
use crate::domain::plan::ItemLevel;
use crate::error::ApiResult;
use crate::service::{self, items::Item, items::ItemChanges, items::NewItem};
use crate::store::plans::MeasureFilter;
use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A section, task or measure of the tree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    /// The item's id.
    pub id: ItemId,
    /// section, task or measure.
    pub level: ItemLevel,
    /// Its place in the tree, e.g. `1.1.3`.
    #[schema(example = "1.1.3")]
    pub code: String,
    /// Its number as the document writes it (`一`, `1`, `3`).
    #[schema(example = "3")]
    pub number: String,
    /// The heading as written, number included (`（3）加大取消…`).
    #[schema(
        example = "（3）加大取消和下放束缚企业生产经营、影响群众就业创业行政许可事项的力度。"
    )]
    pub heading: String,
    /// The text without its number.
    pub title: String,
    /// For measures: the 文号 it cites.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub sources: Option<Vec<String>>,
    /// For measures: 牵头单位 as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub lead_units: Option<String>,
    /// For measures: 参加单位 as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub participant_units: Option<String>,
    /// For measures: how many assignments it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub assignment_count: Option<i64>,
    /// Children (tasks of a section, measures of a task).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<ItemView>,
}

/// A plan with its whole task tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanTree {
    /// The plan.
    pub plan: PlanView,
    /// Its sections, each with its tasks and their measures.
    pub sections: Vec<ItemView>,
}

/// Filters of the measure list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeasureQuery {
    /// Only measures of this section (its code, e.g. `2`).
    #[param(example = "2")]
    pub section: Option<String>,
    /// Only measures citing this 文号.
    #[param(example = "渝府办发〔2019〕59号")]
    pub source: Option<String>,
    /// Only measures assigned to this unit.
    pub unit_id: Option<i64>,
}

/// A new section, task or measure, appended under its parent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItemRequest {
    /// section, task or measure.
    pub level: ItemLevel,
    /// The parent: a section for a task, a task for a measure; none for a section.
    pub parent_id: Option<ItemId>,
    /// The number as the document writes it (`九`, `45`, `134`), unique per level in the plan.
    #[schema(example = "134")]
    pub number: String,
    /// The text without its number.
    #[schema(example = "建立健全法治督察工作台账。")]
    pub title: String,
    /// For measures: the 文号 it cites.
    #[serde(default)]
    pub sources: Vec<String>,
    /// For measures: 牵头单位 as written.
    pub lead_units: Option<String>,
    /// For measures: 参加单位 as written.
    pub participant_units: Option<String>,
}

/// Changes to a tree item; omitted fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemUpdate {
    /// New text without the number.
    pub title: Option<String>,
    /// For measures: the complete new list of 文号.
    pub sources: Option<Vec<String>>,
    /// For measures: 牵头单位 as written.
    pub lead_units: Option<String>,
    /// For measures: 参加单位 as written.
    pub participant_units: Option<String>,
}

impl From<Item> for ItemView {
    fn from(i: Item) -> Self {
        ItemView {
            id: i.id,
            level: i.level,
            code: i.code,
            number: i.number,
            heading: i.heading,
            title: i.title,
            sources: i.sources,
            lead_units: i.lead_units,
            participant_units: i.participant_units,
            assignment_count: i.assignment_count,
            children: vec![],
        }
    }
}

/// Nests the items, in document order, into sections → tasks → measures.
fn nest(items: Vec<Item>) -> Vec<ItemView> {
    let mut sections: Vec<ItemView> = Vec::new();
    for v in items.into_iter().map(ItemView::from) {
        match v.level {
            ItemLevel::Section => sections.push(v),
            ItemLevel::Task => {
                if let Some(s) = sections.last_mut() {
                    s.children.push(v);
                }
            }
            ItemLevel::Measure => {
                if let Some(t) = sections.last_mut().and_then(|s| s.children.last_mut()) {
                    t.children.push(v);
                }
            }
        }
    }
    sections
}

/// Read a plan's whole task tree: sections → tasks → measures, in document order.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    responses((status = 200, description = "The plan and its tree", body = PlanTree), (status = 404, description = "No such plan"))
)]
#[get("/plans/{id}/tree")]
pub async fn get_plan_tree(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<PlanTree>> {
    let (id, ctx) = (PlanId(id.into_inner()), caller.ctx());
    let (plan, items) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::items::tree(c, &ctx, id)
        })
        .await?;
    Ok(web::Json(PlanTree {
        plan: plan.into(),
        sections: nest(items),
    }))
}

/// List a plan's measures as a flat list, in document order.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id"), MeasureQuery, PageQuery),
    responses((status = 200, description = "One page of measures", body = Page<ItemView>), (status = 404, description = "No such plan"))
)]
#[get("/plans/{id}/measures")]
pub async fn list_measures(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: Query<MeasureQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<ItemView>>> {
    let (limit, after) = page.0.parse()?;
    let (id, Query(q), ctx) = (PlanId(id.into_inner()), query, caller.ctx());
    let f = MeasureFilter {
        section: q.section,
        source: q.source,
        unit_id: q.unit_id.map(UnitId),
    };
    let count = page.0.wants_count();
    let (page, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |after, limit| {
                service::items::measures(c, &ctx, id, f.clone(), after, limit)
            })?;
            Ok((
                service::items::measures(c, &ctx, id, f, after, limit)?,
                total,
            ))
        })
        .await?;
    Ok(web::Json(Page::map(page, ItemView::from).with_total(total)))
}

/// Add a section, task or measure at the end of its parent (not in a closed plan).
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    request_body = NewItemRequest,
    responses((status = 201, description = "The item", body = ItemView), (status = 404, description = "No such plan"), (status = 409, description = "The plan is closed, or the number is taken"))
)]
#[post("/plans/{id}/items")]
pub async fn create_item(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<NewItemRequest>,
) -> ApiResult<HttpResponse> {
    let (plan_id, Json(b), ctx) = (PlanId(id.into_inner()), body, caller.ctx());
    let new = NewItem {
        level: b.level,
        parent_id: b.parent_id,
        number: b.number,
        title: b.title,
        sources: b.sources,
        lead_units: b.lead_units,
        participant_units: b.participant_units,
    };
    let item = state
        .db
        .run(move |c| service::items::create(c, &ctx, plan_id, new))
        .await?;
    Ok(HttpResponse::Created().json(ItemView::from(item)))
}

/// Change a section, task or measure (not in a closed plan).
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The item's id")),
    request_body = ItemUpdate,
    responses((status = 200, description = "The item", body = ItemView), (status = 404, description = "No such item"), (status = 409, description = "The plan is closed"))
)]
#[patch("/items/{id}")]
pub async fn update_item(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<ItemUpdate>,
) -> ApiResult<web::Json<ItemView>> {
    let (id, Json(b), ctx) = (ItemId(id.into_inner()), body, caller.ctx());
    let changes = ItemChanges {
        title: b.title,
        sources: b.sources,
        lead_units: b.lead_units,
        participant_units: b.participant_units,
    };
    let item = state
        .db
        .run(move |c| service::items::update(c, &ctx, id, changes))
        .await?;
    Ok(web::Json(item.into()))
}
