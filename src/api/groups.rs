//! Unit groups (`/groups`): 市级有关部门, 区县政府 and the like, which an assignment to a group
//! expands into one assignment per member.

use super::extract::{Caller, Json, Page, PageQuery, Query};
use crate::app::AppState;
use crate::auth::policy;
use crate::db::AnyConnection;
use crate::domain::ids::{GroupId, UnitId};
use crate::domain::unit::normalize_name;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, audit, groups, units};
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

fn load(c: &mut AnyConnection, id: GroupId) -> ApiResult<GroupView> {
    let g = groups::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no group {id}")))?;
    let members = groups::members_of(c, &[id])?
        .remove(&id)
        .unwrap_or_default();
    let aliases = groups::aliases_of(c, &[id])?
        .remove(&id)
        .unwrap_or_default();
    Ok(GroupView {
        id,
        name: g.name,
        description: g.description,
        aliases,
        members,
    })
}

fn check(
    c: &mut AnyConnection,
    b: &GroupRequest,
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
    policy::read_units(&caller)?;
    let (limit, after) = page.0.parse()?;
    let views = state
        .db
        .run(move |c| {
            let all = groups::all(c)?;
            let mut ids: Vec<GroupId> = all
                .iter()
                .map(|g| g.id)
                .filter(|g| after.is_none_or(|a| g.0 > a))
                .collect();
            ids.sort();
            ids.truncate(limit as usize + 1);
            ids.into_iter()
                .map(|id| load(c, id))
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(web::Json(Page::map(
        store::Page::from_rows(views, limit, |g| g.id.0),
        |g| g,
    )))
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
    policy::read_units(&caller)?;
    let id = GroupId(id.into_inner());
    Ok(web::Json(state.db.run(move |c| load(c, id)).await?))
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
    policy::manage_plans(&caller)?;
    let (Json(b), actor) = (body, caller.actor());
    let view = state
        .db
        .write(move |c| {
            let (name, aliases, members) = check(c, &b, None)?;
            let id = groups::insert(c, &name, b.description.as_deref(), store::now())?;
            groups::replace_aliases(c, id, &aliases)?;
            groups::replace_members(c, id, &members)?;
            let view = load(c, id)?;
            audit::record(
                c,
                &actor,
                "group.create",
                "group",
                Some(id.0),
                None,
                Some(&serde_json::to_value(&view).unwrap_or_default()),
            )?;
            Ok(view)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
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
    policy::manage_plans(&caller)?;
    let (id, Json(b), actor) = (GroupId(id.into_inner()), body, caller.actor());
    let view = state
        .db
        .write(move |c| {
            let before = load(c, id)?;
            let (name, aliases, members) = check(c, &b, Some(id))?;
            groups::update(c, id, &name, b.description.as_deref(), store::now())?;
            groups::replace_aliases(c, id, &aliases)?;
            groups::replace_members(c, id, &members)?;
            let after = load(c, id)?;
            let j = |v: &GroupView| serde_json::to_value(v).unwrap_or_default();
            audit::record(
                c,
                &actor,
                "group.update",
                "group",
                Some(id.0),
                Some(&j(&before)),
                Some(&j(&after)),
            )?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(view))
}
