//! Plans (`/plans`): the year's plan, its task tree, the flat list of measures, and the summary
//! table in and out.

use super::extract::{Caller, Json, Page, PageQuery, Query, TableBody};
use crate::app::AppState;
use crate::auth::policy;
use crate::db::AnyConnection;
use crate::domain::assignment::Cycle;
use crate::domain::ids::{ItemId, PlanId, SourceId, UnitId};
use crate::domain::plan::{ItemLevel, PlanState};
use crate::domain::table::{self, split_sources, SummaryRow};
use crate::error::{ApiError, ApiResult};
use crate::store::{self, assignments, audit, plans};
use crate::tables::{self, Answers, ImportOptions, ImportReport};
use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// A plan (年度计划).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanView {
    /// The plan's id.
    pub id: PlanId,
    /// Its title.
    #[schema(example = "2019年法治政府建设任务")]
    pub title: String,
    /// The year it covers.
    #[schema(example = 2019)]
    pub year: i32,
    /// The unit that issued it (normally the coordinating office).
    pub issuing_unit_id: Option<UnitId>,
    /// draft, published or closed.
    pub state: PlanState,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<plans::Plan> for PlanView {
    fn from(p: plans::Plan) -> Self {
        PlanView {
            id: p.id,
            title: p.title,
            year: p.year,
            issuing_unit_id: p.issuing_unit_id,
            state: PlanState::parse(&p.state).unwrap_or(PlanState::Draft),
            created_at: p.created_at.and_utc(),
            published_at: p.published_at.map(|t| t.and_utc()),
            closed_at: p.closed_at.map(|t| t.and_utc()),
        }
    }
}

/// A new plan, or changes to one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// The title.
    #[schema(example = "2020年法治政府建设任务")]
    pub title: String,
    /// The year, 2000 to 2100.
    #[schema(example = 2020)]
    pub year: i32,
    /// The issuing unit; by default the caller's unit.
    pub issuing_unit_id: Option<UnitId>,
}

/// Filters of the plan list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanListQuery {
    /// Only plans of this year.
    pub year: Option<i32>,
    /// Only plans in this state.
    pub state: Option<PlanState>,
}

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

/// Whose answers the summary shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// One unit's answers; without it, every sent report per measure (lead units first).
    pub unit: Option<i64>,
}

/// The summary table as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    /// The plan.
    pub plan_id: PlanId,
    /// Whose answers fill 工作措施及完成情况 (`null`: consolidated).
    pub unit_id: Option<UnitId>,
    /// The column headers, in order.
    #[schema(example = json!(table::HEADERS))]
    pub columns: Vec<String>,
    /// One row per measure, in plan order.
    pub rows: Vec<SummaryRow>,
}

/// How to import a table.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Resolve and count only; write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Import even when unit strings cannot be resolved (they are skipped and listed).
    #[serde(default)]
    pub allow_unresolved: bool,
    /// The unit whose answers fill 工作措施及完成情况; they become its submitted reports.
    pub answers_unit: Option<i64>,
    /// Due date of the assignments (default: 31 December of the plan's year).
    pub due_date: Option<NaiveDate>,
    /// Reporting cycle of the assignments (default: yearly).
    pub cycle: Option<Cycle>,
}

fn load_plan(c: &mut AnyConnection, id: PlanId) -> ApiResult<plans::Plan> {
    plans::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no plan {id}")))
}

/// A plan the caller may see: units never see drafts.
fn visible_plan(c: &mut AnyConnection, caller: &Caller, id: PlanId) -> ApiResult<plans::Plan> {
    let plan = load_plan(c, id)?;
    if !policy::is_office(caller) && plan.state == "draft" {
        return Err(ApiError::NotFound(format!("no plan {id}")));
    }
    Ok(plan)
}

fn check_plan_fields(b: &PlanRequest) -> ApiResult<(String, i32)> {
    let title = b.title.trim().to_owned();
    let mut errors = Vec::new();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(crate::error::FieldError::new(
            "title",
            "must be 1 to 200 characters",
        ));
    }
    if !(2000..=2100).contains(&b.year) {
        errors.push(crate::error::FieldError::new(
            "year",
            "must be 2000 to 2100",
        ));
    }
    if errors.is_empty() {
        Ok((title, b.year))
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn json_of<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// List plans (units see published and closed plans only).
#[utoipa::path(
    tag = "plans",
    params(PlanListQuery, PageQuery),
    responses((status = 200, description = "One page of plans", body = Page<PlanView>))
)]
#[get("/plans")]
pub async fn list_plans(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<PlanListQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<PlanView>>> {
    policy::unit_scope(&caller)?;
    let (limit, after) = page.0.parse()?;
    let Query(q) = query;
    let mut states: Vec<&str> = if policy::is_office(&caller) {
        vec!["draft", "published", "closed"]
    } else {
        vec!["published", "closed"]
    };
    if let Some(s) = q.state {
        states.retain(|x| *x == s.as_str());
    }
    let rows = state
        .db
        .run(move |c| Ok(plans::list(c, q.year, &states, after, limit)?))
        .await?;
    Ok(web::Json(Page::map(
        store::Page::from_rows(rows, limit, |p| p.id.0),
        PlanView::from,
    )))
}

/// Create a draft plan (the office).
#[utoipa::path(
    tag = "plans",
    request_body = PlanRequest,
    responses((status = 201, description = "The plan", body = PlanView))
)]
#[post("/plans")]
pub async fn create_plan(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<PlanRequest>,
) -> ApiResult<HttpResponse> {
    policy::manage_plans(&caller)?;
    let (title, year) = check_plan_fields(&body.0)?;
    let issuer = body.0.issuing_unit_id.or(caller.unit_id);
    let actor = caller.actor();
    let view = state
        .db
        .write(move |c| {
            if let Some(u) = issuer {
                if crate::store::units::find(c, u)?.is_none() {
                    return Err(ApiError::invalid("issuing_unit_id", "no such unit"));
                }
            }
            let id = plans::insert(c, &title, year, issuer, store::now())?;
            let view = PlanView::from(load_plan(c, id)?);
            audit::record(
                c,
                &actor,
                "plan.create",
                "plan",
                Some(id.0),
                None,
                Some(&json_of(&view)),
            )?;
            Ok(view)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/plans/{}", view.id)))
        .json(view))
}

/// Read a plan.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    responses((status = 200, description = "The plan", body = PlanView), (status = 404, description = "No such plan"))
)]
#[get("/plans/{id}")]
pub async fn get_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<PlanView>> {
    policy::unit_scope(&caller)?;
    let id = PlanId(id.into_inner());
    let plan = state.db.run(move |c| visible_plan(c, &caller, id)).await?;
    Ok(web::Json(plan.into()))
}

/// Change a plan's title or year (not once closed).
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    request_body = PlanRequest,
    responses((status = 200, description = "The plan", body = PlanView), (status = 404, description = "No such plan"), (status = 409, description = "The plan is closed"))
)]
#[patch("/plans/{id}")]
pub async fn update_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<PlanRequest>,
) -> ApiResult<web::Json<PlanView>> {
    policy::manage_plans(&caller)?;
    let (title, year) = check_plan_fields(&body.0)?;
    let (id, actor) = (PlanId(id.into_inner()), caller.actor());
    let view = state
        .db
        .write(move |c| {
            let before = PlanView::from(load_plan(c, id)?);
            if !before.state.is_open() {
                return Err(ApiError::Conflict {
                    detail: "a closed plan cannot change".into(),
                    field: None,
                });
            }
            plans::update(c, id, &title, year, store::now())?;
            let after = PlanView::from(load_plan(c, id)?);
            audit::record(
                c,
                &actor,
                "plan.update",
                "plan",
                Some(id.0),
                Some(&json_of(&before)),
                Some(&json_of(&after)),
            )?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(view))
}

async fn transition(
    state: &AppState,
    caller: &Caller,
    id: i64,
    step: fn(PlanState) -> Result<PlanState, &'static str>,
    action: &'static str,
) -> ApiResult<web::Json<PlanView>> {
    policy::manage_plans(caller)?;
    let (id, actor) = (PlanId(id), caller.actor());
    let view = state
        .db
        .write(move |c| {
            let before = PlanView::from(load_plan(c, id)?);
            let next = step(before.state).map_err(|m| ApiError::Conflict {
                detail: m.into(),
                field: Some("state".into()),
            })?;
            plans::set_state(c, id, next.as_str(), store::now())?;
            let after = PlanView::from(load_plan(c, id)?);
            audit::record(
                c,
                &actor,
                action,
                "plan",
                Some(id.0),
                Some(&json_of(&before)),
                Some(&json_of(&after)),
            )?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(view))
}

/// Publish a draft plan: the units see their assignments from now on.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    responses((status = 200, description = "The published plan", body = PlanView), (status = 404, description = "No such plan"), (status = 409, description = "The plan is not a draft"))
)]
#[post("/plans/{id}/publish")]
pub async fn publish_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<PlanView>> {
    transition(
        &state,
        &caller,
        id.into_inner(),
        PlanState::publish,
        "plan.publish",
    )
    .await
}

/// Close a published plan: it becomes read-only.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id")),
    responses((status = 200, description = "The closed plan", body = PlanView), (status = 404, description = "No such plan"), (status = 409, description = "The plan is not published"))
)]
#[post("/plans/{id}/close")]
pub async fn close_plan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<PlanView>> {
    transition(
        &state,
        &caller,
        id.into_inner(),
        PlanState::close,
        "plan.close",
    )
    .await
}

fn item_view(
    i: &plans::Item,
    sources: &HashMap<ItemId, Vec<(SourceId, String)>>,
    counts: &HashMap<ItemId, i64>,
) -> ItemView {
    let level = ItemLevel::parse(&i.level).unwrap_or(ItemLevel::Measure);
    let measure = level == ItemLevel::Measure;
    ItemView {
        id: i.id,
        level,
        code: i.code.clone(),
        number: i.number.clone(),
        heading: format!("{}{}", level.label(&i.number), i.title),
        title: i.title.clone(),
        sources: measure.then(|| {
            sources
                .get(&i.id)
                .map(|s| s.iter().map(|x| x.1.clone()).collect())
                .unwrap_or_default()
        }),
        lead_units: if measure {
            Some(i.lead_text.clone().unwrap_or_default())
        } else {
            None
        },
        participant_units: if measure {
            Some(i.participant_text.clone().unwrap_or_default())
        } else {
            None
        },
        assignment_count: measure.then(|| counts.get(&i.id).copied().unwrap_or(0)),
        children: vec![],
    }
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
    policy::unit_scope(&caller)?;
    let id = PlanId(id.into_inner());
    let (plan, items, sources, counts) = state
        .db
        .run(move |c| {
            let plan = visible_plan(c, &caller, id)?;
            let items = plans::items(c, id)?;
            let sources = plans::sources_by_measure(c, id)?;
            let counts: HashMap<ItemId, i64> =
                assignments::count_by_measure(c, id)?.into_iter().collect();
            Ok((plan, items, sources, counts))
        })
        .await?;
    let mut sections: Vec<ItemView> = Vec::new();
    for i in &items {
        let v = item_view(i, &sources, &counts);
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
    Ok(web::Json(PlanTree {
        plan: plan.into(),
        sections,
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
    policy::unit_scope(&caller)?;
    let (limit, after) = page.0.parse()?;
    let (id, Query(q)) = (PlanId(id.into_inner()), query);
    let page = state
        .db
        .run(move |c| {
            visible_plan(c, &caller, id)?;
            let items = plans::items(c, id)?;
            let sources = plans::sources_by_measure(c, id)?;
            let counts: HashMap<ItemId, i64> =
                assignments::count_by_measure(c, id)?.into_iter().collect();
            let assigned: Option<Vec<ItemId>> = match q.unit_id {
                Some(u) => Some(
                    assignments::list(
                        c,
                        &assignments::AssignmentFilter {
                            plan_id: Some(id),
                            unit_id: Some(UnitId(u)),
                            ..Default::default()
                        },
                        None,
                        i64::MAX - 1,
                    )?
                    .into_iter()
                    .map(|a| a.measure_id)
                    .collect(),
                ),
                None => None,
            };
            let rows: Vec<ItemView> = items
                .iter()
                .filter(|i| i.level == "measure")
                .filter(|i| after.is_none_or(|a| i64::from(i.position) > a))
                .filter(|i| {
                    q.section
                        .as_deref()
                        .is_none_or(|s| i.code.split('.').next() == Some(s))
                })
                .filter(|i| {
                    q.source.as_deref().is_none_or(|s| {
                        sources
                            .get(&i.id)
                            .is_some_and(|v| v.iter().any(|x| x.1 == s))
                    })
                })
                .filter(|i| assigned.as_ref().is_none_or(|a| a.contains(&i.id)))
                .take(limit as usize + 1)
                .map(|i| item_view(i, &sources, &counts))
                .collect();
            let positions: HashMap<ItemId, i64> = items
                .iter()
                .map(|i| (i.id, i64::from(i.position)))
                .collect();
            Ok(store::Page::from_rows(rows, limit, |v| {
                positions.get(&v.id).copied().unwrap_or(0)
            }))
        })
        .await?;
    Ok(web::Json(Page::map(page, |v| v)))
}

fn check_item_text(title: &str) -> ApiResult<String> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > 2000 {
        return Err(ApiError::invalid("title", "must be 1 to 2000 characters"));
    }
    Ok(t.to_owned())
}

fn source_ids(c: &mut AnyConnection, numbers: &[String]) -> ApiResult<Vec<SourceId>> {
    let mut ids = Vec::new();
    for n in numbers.iter().flat_map(|n| split_sources(n)) {
        let id = plans::source_by_number(c, &n, store::now())?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
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
    policy::manage_plans(&caller)?;
    let (plan_id, Json(b), actor) = (PlanId(id.into_inner()), body, caller.actor());
    let title = check_item_text(&b.title)?;
    let number = b.number.trim().to_owned();
    if number.is_empty() || number.chars().count() > 10 {
        return Err(ApiError::invalid("number", "must be 1 to 10 characters"));
    }
    let view = state
        .db
        .write(move |c| {
            let plan = load_plan(c, plan_id)?;
            if plan.state == "closed" {
                return Err(ApiError::Conflict {
                    detail: "a closed plan cannot change".into(),
                    field: None,
                });
            }
            let parent = match (b.level.parent(), b.parent_id) {
                (None, None) => None,
                (None, Some(_)) => {
                    return Err(ApiError::invalid("parent_id", "a section has no parent"))
                }
                (Some(_), None) => {
                    return Err(ApiError::invalid(
                        "parent_id",
                        "is required for tasks and measures",
                    ))
                }
                (Some(level), Some(pid)) => {
                    let p = plans::find_item(c, pid)?
                        .filter(|p| p.plan_id == plan_id && p.level == level.as_str());
                    Some(p.ok_or_else(|| {
                        ApiError::invalid(
                            "parent_id",
                            format!("must be a {} of this plan", level.as_str()),
                        )
                    })?)
                }
            };
            let siblings = plans::children(c, plan_id, parent.as_ref().map(|p| p.id))?;
            let code = match &parent {
                Some(p) => format!("{}.{}", p.code, siblings.len() + 1),
                None => (siblings.len() + 1).to_string(),
            };
            // After the parent's last descendant: the next item at the parent's level or above.
            let items = plans::items(c, plan_id)?;
            let position = match &parent {
                None => plans::max_position(c, plan_id)? + 1,
                Some(p) => {
                    let prefix = format!("{}.", p.code);
                    items
                        .iter()
                        .filter(|i| i.code.starts_with(&prefix))
                        .map(|i| i.position)
                        .max()
                        .unwrap_or(p.position)
                        + 1
                }
            };
            plans::shift_positions(c, plan_id, position, 1)?;
            let measure = b.level == ItemLevel::Measure;
            let now = store::now();
            let item_id = plans::insert_item(
                c,
                &plans::NewItem {
                    plan_id,
                    parent_id: parent.as_ref().map(|p| p.id),
                    level: b.level.as_str(),
                    code: &code,
                    number: &number,
                    title: &title,
                    position,
                    lead_text: if measure {
                        Some(b.lead_units.as_deref().unwrap_or(""))
                    } else {
                        None
                    },
                    participant_text: if measure {
                        Some(b.participant_units.as_deref().unwrap_or(""))
                    } else {
                        None
                    },
                    created_at: now,
                    updated_at: now,
                },
            )?;
            if measure {
                let ids = source_ids(c, &b.sources)?;
                plans::set_measure_sources(c, item_id, &ids)?;
            }
            let item =
                plans::find_item(c, item_id)?.ok_or_else(|| ApiError::internal("item vanished"))?;
            let view = item_view(
                &item,
                &plans::sources_by_measure(c, plan_id)?,
                &HashMap::new(),
            );
            audit::record(
                c,
                &actor,
                "item.create",
                "plan_item",
                Some(item_id.0),
                None,
                Some(&json_of(&view)),
            )?;
            Ok(view)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
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
    policy::manage_plans(&caller)?;
    let (id, Json(b), actor) = (ItemId(id.into_inner()), body, caller.actor());
    let title = b.title.as_deref().map(check_item_text).transpose()?;
    let view = state
        .db
        .write(move |c| {
            let item = plans::find_item(c, id)?
                .ok_or_else(|| ApiError::NotFound(format!("no item {id}")))?;
            if load_plan(c, item.plan_id)?.state == "closed" {
                return Err(ApiError::Conflict {
                    detail: "a closed plan cannot change".into(),
                    field: None,
                });
            }
            let sources = plans::sources_by_measure(c, item.plan_id)?;
            let before = item_view(&item, &sources, &HashMap::new());
            let measure = item.level == "measure";
            if !measure
                && (b.sources.is_some() || b.lead_units.is_some() || b.participant_units.is_some())
            {
                return Err(ApiError::invalid(
                    "sources",
                    "only measures cite sources and name units",
                ));
            }
            let lead = b.lead_units.or(item.lead_text.clone());
            let participants = b.participant_units.or(item.participant_text.clone());
            plans::update_item(
                c,
                id,
                title.as_deref().unwrap_or(&item.title),
                lead.as_deref(),
                participants.as_deref(),
                store::now(),
            )?;
            if let Some(list) = &b.sources {
                let ids = source_ids(c, list)?;
                plans::set_measure_sources(c, id, &ids)?;
            }
            let item =
                plans::find_item(c, id)?.ok_or_else(|| ApiError::internal("item vanished"))?;
            let after = item_view(
                &item,
                &plans::sources_by_measure(c, item.plan_id)?,
                &HashMap::new(),
            );
            audit::record(
                c,
                &actor,
                "item.update",
                "plan_item",
                Some(id.0),
                Some(&json_of(&before)),
                Some(&json_of(&after)),
            )?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(view))
}

fn accepts(req: &HttpRequest) -> String {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Whose answers a caller may put in the table: the office any unit's sent answers, or every
/// sent answer; a unit only its own, drafts included.
fn answers_for(caller: &Caller, unit: Option<UnitId>) -> ApiResult<(Answers, bool)> {
    let scope = policy::unit_scope(caller)?;
    // The answers are report text: a department system needs reports:read, as for /reports.
    if !caller.has_scope(crate::domain::scope::Scope::ReportsRead) {
        return Err(ApiError::Forbidden(
            "this token lacks the reports:read scope".into(),
        ));
    }
    let answers = match (scope, unit) {
        (None, Some(u)) => Answers::Unit(u),
        (None, None) => Answers::Consolidated,
        (Some(own), Some(u)) if own == u => Answers::Unit(u),
        (Some(own), None) => Answers::Unit(own),
        (Some(_), Some(_)) => {
            return Err(ApiError::Forbidden(
                "a unit reads only its own answers".into(),
            ))
        }
    };
    Ok((answers, scope.is_some()))
}

/// The summary table (工作任务, 具体措施, 任务来源, 牵头单位, 参加单位, 工作措施及完成情况) as JSON,
/// as CSV with `Accept: text/csv`, or as the office's XLSX layout with `Accept:
/// application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`.
///
/// With `unit`, the last column holds that unit's answers (a unit may ask only for its own,
/// drafts included); without, every sent report of the measure, lead units first (the office).
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id"), SummaryQuery),
    responses(
        (status = 200, description = "The table", content(
            (Summary = "application/json"),
            (String = "text/csv", example = "工作板块,工作任务,具体措施,任务来源,牵头单位,参加单位,工作措施及完成情况\n一、依法全面履行政府职能,1．深化行政审批制度改革。,（2）下放行政审批权。,渝委发〔2016〕27号,市政府办公厅,市级有关部门，区县政府按职责分工负责,我局不涉及\n"),
            (inline(FileBytes) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 404, description = "No such plan"),
    )
)]
#[get("/plans/{id}/summary")]
pub async fn get_summary(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
    query: Query<SummaryQuery>,
) -> ApiResult<HttpResponse> {
    let (plan_id, unit) = (PlanId(id.into_inner()), query.0.unit.map(UnitId));
    let (answers, own_drafts) = answers_for(&caller, unit)?;
    let (plan, rows) = state
        .db
        .run(move |c| {
            let plan = visible_plan(c, &caller, plan_id)?;
            Ok((plan, tables::export_table(c, plan_id, answers, own_drafts)?))
        })
        .await?;
    let accept = accepts(&req);
    if accept.contains(crate::documents::XLSX) {
        let title = format!("{}完成情况汇总", plan.title);
        let bytes =
            crate::documents::xlsx::write_summary(&title, &rows).map_err(ApiError::internal)?;
        return Ok(HttpResponse::Ok()
            .content_type(crate::documents::XLSX)
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"plan-{plan_id}-summary.xlsx\""),
            ))
            .body(bytes));
    }
    if accept.contains("text/csv") {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"plan-{plan_id}-summary.csv\""),
            ))
            .body(table::write_csv(&rows)));
    }
    let unit_id = match answers {
        Answers::Unit(u) => Some(u),
        Answers::Consolidated => None,
    };
    Ok(HttpResponse::Ok().json(Summary {
        plan_id,
        unit_id,
        columns: table::HEADERS.iter().map(|s| s.to_string()).collect(),
        rows,
    }))
}

/// Import the summary table (CSV, or an XLSX workbook in the layout of the summary export) into
/// an empty draft plan, or with `dry_run=true` only report how every unit string resolves.
/// Unresolved names fail the import unless `allow_unresolved`; the import is all or nothing.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id"), ImportQuery),
    request_body(description = "The table: CSV with its header row, or an XLSX workbook laid out as the summary export", content(
        (String = "text/csv", example = "工作板块,工作任务,具体措施,任务来源,牵头单位,参加单位,工作措施及完成情况\n一、依法全面履行政府职能,1．深化行政审批制度改革。,（2）下放行政审批权。,渝委发〔2016〕27号,市政府办公厅,市级有关部门，区县政府按职责分工负责,\n"),
        (inline(FileBytes) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses(
        (status = 200, description = "What was imported (or would be, in a dry run)", body = ImportReport),
        (status = 404, description = "No such plan"),
        (status = 409, description = "The plan is not an empty draft, or the table repeats a number"),
    )
)]
#[post("/plans/{id}/import")]
pub async fn import_plan_table(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: Query<ImportQuery>,
    body: TableBody,
) -> ApiResult<web::Json<ImportReport>> {
    policy::manage_plans(&caller)?;
    let rows = body.rows()?;
    let (plan_id, Query(q), actor) = (PlanId(id.into_inner()), query, caller.actor());
    let by = Some(caller.user_id);
    let report = state
        .db
        .write(move |c| {
            let plan = load_plan(c, plan_id)?;
            let due = match q.due_date {
                Some(d) => d,
                None => NaiveDate::from_ymd_opt(plan.year, 12, 31).ok_or_else(|| ApiError::invalid("due_date", "cannot be derived"))?,
            };
            let opts = ImportOptions {
                dry_run: q.dry_run,
                allow_unresolved: q.allow_unresolved,
                answers_unit: q.answers_unit.map(UnitId),
                due_date: due,
                cycle: q.cycle.unwrap_or(Cycle::Yearly),
                by,
                submitted_at: None,
            };
            let report = tables::import_table(c, plan_id, &rows, &opts)?;
            if !q.dry_run {
                let summary = serde_json::json!({"measures": report.measures, "assignments": report.assignments, "reports": report.reports});
                audit::record(c, &actor, "plan.import", "plan", Some(plan_id.0), None, Some(&summary))?;
            }
            Ok(report)
        })
        .await?;
    Ok(web::Json(report))
}

/// Whose annual report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnnualReportQuery {
    /// The unit (the office must name one; a unit's own people get their own, the default).
    pub unit: Option<i64>,
}

/// A file's bytes (an XLSX workbook or a DOCX document).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);

/// A unit's annual report draft (DOCX) for a plan, shaped like the reports units send the
/// office: the figures of its assignments, what it did measure by measure (its completed
/// measures under their sections), the problems and next steps it reported, and the attachment
/// table of its answers. The office may ask for any unit; a unit's own people for their own.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "The plan's id"), AnnualReportQuery),
    responses(
        (status = 200, description = "The report draft, as an attachment", content(
            (inline(FileBytes) = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ), headers(("Content-Disposition" = String, description = "attachment; filename=\"plan-1-unit-2-report.docx\""))),
        (status = 403, description = "A unit asked for another unit's report, or the token lacks the reports:read scope"),
        (status = 404, description = "No such plan (units do not see drafts) or unit"),
        (status = 422, description = "The office did not name the unit"),
    )
)]
#[get("/plans/{id}/annual-report")]
pub async fn get_annual_report(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: Query<AnnualReportQuery>,
) -> ApiResult<HttpResponse> {
    use crate::documents::docx::{AnnualReportInput, Done, Figures};
    use crate::domain::assignment::AssignmentState;
    use crate::domain::report::Workflow;
    use crate::store::{reports, units};
    let plan_id = PlanId(id.into_inner());
    let (answers, own_drafts) = answers_for(&caller, query.0.unit.map(UnitId))?;
    let Answers::Unit(unit) = answers else {
        return Err(ApiError::invalid("unit", "is required for the office"));
    };
    let today = Utc::now().date_naive();
    let input = state
        .db
        .run(move |c| {
            let plan = visible_plan(c, &caller, plan_id)?;
            let unit_name = units::find(c, unit)?
                .ok_or_else(|| ApiError::NotFound(format!("no unit {unit}")))?
                .name;
            let filter = assignments::AssignmentFilter {
                plan_id: Some(plan_id),
                unit_id: Some(unit),
                ..Default::default()
            };
            let rows = assignments::list(c, &filter, None, i64::MAX - 1)?;
            let views = super::assignments::views(c, rows)?;
            let unit_reports = reports::list(
                c,
                &reports::ReportFilter {
                    plan_id: Some(plan_id),
                    unit_id: Some(unit),
                    sent_only: !own_drafts,
                    ..Default::default()
                },
                None,
                i64::MAX - 1,
            )?;
            let count = |s: AssignmentState| views.iter().filter(|v| v.state == s).count() as i64;
            let sent: std::collections::HashSet<_> = unit_reports
                .iter()
                .filter(|r| Workflow::parse(&r.workflow).is_some_and(Workflow::counts_as_reported))
                .map(|r| r.assignment_id)
                .collect();
            let figures = Figures {
                assigned: views.len() as i64,
                reported: views.iter().filter(|v| sent.contains(&v.id)).count() as i64,
                completed: count(AssignmentState::Completed),
                not_applicable: count(AssignmentState::NotApplicable),
                in_progress: count(AssignmentState::InProgress),
                overdue: count(AssignmentState::Overdue),
            };
            // What was done: the latest report of every completed assignment, in plan order.
            let narrative: HashMap<_, &str> = unit_reports
                .iter()
                .map(|r| (r.id, r.narrative.as_str()))
                .collect();
            let mut done_by_measure: HashMap<ItemId, String> = HashMap::new();
            for v in views
                .iter()
                .filter(|v| v.state == AssignmentState::Completed)
            {
                if let Some(text) = v.latest_report_id.and_then(|r| narrative.get(&r)) {
                    done_by_measure
                        .entry(v.measure_id)
                        .or_insert_with(|| text.trim().to_owned());
                }
            }
            let items = plans::items(c, plan_id)?;
            let by_id: HashMap<ItemId, &plans::Item> = items.iter().map(|i| (i.id, i)).collect();
            let parent = |i: &plans::Item| i.parent_id.and_then(|p| by_id.get(&p).copied());
            let mut done = Vec::new();
            for m in items.iter().filter(|i| i.level == "measure") {
                if let Some(text) = done_by_measure.remove(&m.id) {
                    let section = parent(m).and_then(parent);
                    done.push(Done {
                        section: section.map(|s| s.title.clone()).unwrap_or_default(),
                        measure: format!("{}{}", ItemLevel::Measure.label(&m.number), m.title),
                        narrative: text,
                    });
                }
            }
            let listed = |f: fn(&reports::Report) -> &str| -> Vec<String> {
                let mut out: Vec<String> = Vec::new();
                for t in unit_reports.iter().map(|r| f(r).trim()) {
                    if !t.is_empty() && !out.iter().any(|o| o == t) {
                        out.push(t.to_owned());
                    }
                }
                out
            };
            Ok(AnnualReportInput {
                unit_name,
                figures,
                done,
                problems: listed(|r| &r.problems),
                next_steps: listed(|r| &r.next_steps),
                rows: tables::export_table(c, plan_id, answers, own_drafts)?,
                plan_title: plan.title,
                date: today,
            })
        })
        .await?;
    let bytes = crate::documents::docx::annual_report(&input).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(crate::documents::DOCX)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"plan-{plan_id}-unit-{unit}-report.docx\""),
        ))
        .body(bytes))
}
