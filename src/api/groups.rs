//! Unit groups (`/groups`): 市级有关部门, 区县政府 and the like, which an assignment to a group
//! expands into one assignment per member.

use super::extract::{total_of_pages, Caller, Json, Page, PageQuery, Query};
use crate::app::AppState;
use crate::domain::ids::{GroupId, UnitId};
use crate::error::ApiResult;
use crate::service::{self, groups::Group, groups::GroupFields};
use actix_web::{get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A group of units.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupView {
    /// The group's id.
    pub id: GroupId,
    /// Its name.
    #[schema(example = "区县政府")]
    pub name: String,
    /// What it is.
    #[schema(example = "重庆市38个区县政府")]
    pub description: Option<String>,
    /// Other names it goes by.
    #[schema(example = json!(["各区县政府"]))]
    pub aliases: Vec<String>,
    /// Its active members.
    pub members: Vec<UnitId>,
}

/// A new group, or the complete new state of one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRequest {
    /// The name (unique).
    #[schema(example = "区县政府")]
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Other names.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Member units.
    #[schema(example = json!([3, 4, 5]))]
    pub members: Vec<UnitId>,
}

impl From<Group> for GroupView {
    fn from(g: Group) -> Self {
        GroupView {
            id: g.id,
            name: g.name,
            description: g.description,
            aliases: g.aliases,
            members: g.members,
        }
    }
}

impl From<GroupRequest> for GroupFields {
    fn from(b: GroupRequest) -> Self {
        GroupFields {
            name: b.name,
            description: b.description,
            aliases: b.aliases,
            members: b.members,
        }
    }
}

/// List the groups.
#[utoipa::path(
    tag = "groups",
    params(PageQuery),
    responses((status = 200, description = "The groups, by name", body = Page<GroupView>))
)]
#[get("/groups")]
pub async fn list_groups(
    state: web::Data<AppState>,
    caller: Caller,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<GroupView>>> {
    let (limit, after) = page.0.parse()?;
    let ctx = caller.ctx();
    let count = page.0.wants_count();
    let (page, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |after, limit| {
                service::groups::list(c, &ctx, after, limit)
            })?;
            Ok((service::groups::list(c, &ctx, after, limit)?, total))
        })
        .await?;
    Ok(web::Json(
        Page::map(page, GroupView::from).with_total(total),
    ))
}

/// Read a group with its members.
#[utoipa::path(
    tag = "groups",
    params(("id" = i64, Path, description = "The group's id")),
    responses((status = 200, description = "The group", body = GroupView), (status = 404, description = "No such group"))
)]
#[get("/groups/{id}")]
pub async fn get_group(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<GroupView>> {
    let (id, ctx) = (GroupId(id.into_inner()), caller.ctx());
    let group = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::groups::get(c, &ctx, id)
        })
        .await?;
    Ok(web::Json(group.into()))
}

/// Create a group (the office).
#[utoipa::path(
    tag = "groups",
    request_body = GroupRequest,
    responses((status = 201, description = "The group", body = GroupView), (status = 409, description = "The name is taken"))
)]
#[post("/groups")]
pub async fn create_group(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<GroupRequest>,
) -> ApiResult<HttpResponse> {
    let (fields, ctx) = (GroupFields::from(body.0), caller.ctx());
    let group = state
        .db
        .run(move |c| service::groups::create(c, &ctx, fields))
        .await?;
    Ok(HttpResponse::Created().json(GroupView::from(group)))
}

/// Replace a group's name, description, aliases and members (the office). Existing assignments
/// keep the units they expanded to.
#[utoipa::path(
    tag = "groups",
    params(("id" = i64, Path, description = "The group's id")),
    request_body = GroupRequest,
    responses((status = 200, description = "The group", body = GroupView), (status = 404, description = "No such group"), (status = 409, description = "The name is taken"))
)]
#[put("/groups/{id}")]
pub async fn replace_group(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<GroupRequest>,
) -> ApiResult<web::Json<GroupView>> {
    let (id, fields, ctx) = (
        GroupId(id.into_inner()),
        GroupFields::from(body.0),
        caller.ctx(),
    );
    let group = state
        .db
        .run(move |c| service::groups::replace(c, &ctx, id, fields))
        .await?;
    Ok(web::Json(group.into()))
}
