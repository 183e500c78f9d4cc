//! The unit directory (`/units`): departments, district governments and other bodies, with
//! their aliases.

use super::extract::{Caller, Json, Page, PageQuery, Query};
use crate::app::AppState;
use crate::auth::policy;
use crate::domain::ids::UnitId;
use crate::domain::unit::{normalize_name, UnitKind};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::{self, audit, units};
use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A unit (单位).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitView {
    /// The unit's id.
    pub id: UnitId,
    /// The full name, unique across names and aliases.
    #[schema(example = "重庆市城市管理局")]
    pub name: String,
    /// The short name used in tables.
    #[schema(example = "市城市管理局")]
    pub short_name: Option<String>,
    /// What sort of body it is.
    pub kind: UnitKind,
    /// Inactive units keep their history but get no new assignments.
    pub active: bool,
    /// Other names it goes by.
    #[schema(example = json!(["市城管局"]))]
    pub aliases: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl UnitView {
    fn new(u: units::Unit, aliases: Vec<String>) -> Self {
        UnitView {
            id: u.id,
            kind: u.kind,
            name: u.name,
            short_name: u.short_name,
            active: u.active,
            aliases,
            created_at: u.created_at.and_utc(),
            updated_at: u.updated_at.and_utc(),
        }
    }
}

/// A new unit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnitRequest {
    /// The full name (1 to 100 characters; spaces are removed).
    #[schema(example = "重庆市城市管理局")]
    pub name: String,
    /// The short name used in tables.
    #[schema(example = "市城市管理局")]
    pub short_name: Option<String>,
    /// What sort of body it is.
    pub kind: UnitKind,
    /// Other names it goes by.
    #[serde(default)]
    #[schema(example = json!(["市城管局"]))]
    pub aliases: Vec<String>,
}

/// Changes to a unit; omitted fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitUpdate {
    /// A new full name.
    pub name: Option<String>,
    /// A new short name; an empty string clears it.
    pub short_name: Option<String>,
    /// A new kind.
    pub kind: Option<UnitKind>,
    /// `false` deactivates the unit, `true` reactivates it.
    #[schema(example = false)]
    pub active: Option<bool>,
    /// The complete new list of aliases.
    pub aliases: Option<Vec<String>>,
}

/// Filters of the unit list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitListQuery {
    /// Only units of this kind.
    pub kind: Option<UnitKind>,
    /// Only active (`true`) or inactive (`false`) units.
    pub active: Option<bool>,
    /// Part of the name, short name or an alias.
    #[param(example = "城管")]
    pub q: Option<String>,
}

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

fn ensure_free(
    c: &mut crate::db::AnyConnection,
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

fn load_view(c: &mut crate::db::AnyConnection, id: UnitId) -> ApiResult<UnitView> {
    let unit = units::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no unit {id}")))?;
    let mut aliases = units::aliases_of(c, &[id])?;
    Ok(UnitView::new(unit, aliases.remove(&id).unwrap_or_default()))
}

fn to_json(v: &UnitView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// List units.
#[utoipa::path(
    tag = "units",
    params(UnitListQuery, PageQuery),
    responses((status = 200, description = "One page of units, in id order", body = Page<UnitView>))
)]
#[get("/units")]
pub async fn list_units(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<UnitListQuery>,
    page: Query<PageQuery>,
) -> ApiResult<web::Json<Page<UnitView>>> {
    policy::read_units(&caller)?;
    let Query(q) = query;
    let (limit, after) = page.0.parse()?;
    let filter = units::UnitFilter {
        kind: q.kind,
        active: q.active,
        q: q.q.filter(|s| !s.trim().is_empty()),
    };
    let page = state
        .db
        .run(move |c| {
            let rows = units::list(c, &filter, after, limit)?;
            let page = store::Page::from_rows(rows, limit, |u| u.id.0);
            let ids: Vec<UnitId> = page.items.iter().map(|u| u.id).collect();
            let aliases = units::aliases_of(c, &ids)?;
            Ok((page, aliases))
        })
        .await
        .map(|(page, mut aliases)| {
            Page::map(page, |u| {
                let a = aliases.remove(&u.id).unwrap_or_default();
                UnitView::new(u, a)
            })
        })?;
    Ok(web::Json(page))
}

/// Read one unit.
#[utoipa::path(
    tag = "units",
    params(("id" = i64, Path, description = "The unit's id")),
    responses(
        (status = 200, description = "The unit", body = UnitView),
        (status = 404, description = "No such unit"),
    )
)]
#[get("/units/{id}")]
pub async fn get_unit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<web::Json<UnitView>> {
    policy::read_units(&caller)?;
    let id = UnitId(id.into_inner());
    Ok(web::Json(state.db.run(move |c| load_view(c, id)).await?))
}

/// Create a unit (admins and the coordinating office).
#[utoipa::path(
    tag = "units",
    request_body = NewUnitRequest,
    responses(
        (status = 201, description = "The unit was created", body = UnitView),
        (status = 409, description = "The name or an alias is taken"),
    )
)]
#[post("/units")]
pub async fn create_unit(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewUnitRequest>,
) -> ApiResult<HttpResponse> {
    policy::write_units(&caller)?;
    let Json(b) = body;
    let mut errors = Vec::new();
    let main = name("name", &b.name, &mut errors);
    let short = b
        .short_name
        .as_deref()
        .map(|s| name("short_name", s, &mut errors));
    let alias_list = aliases(&b.aliases, &main, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let actor = caller.actor();
    let view = state
        .db
        .write(move |c| {
            let mut names = vec![("name", main.as_str())];
            names.extend(alias_list.iter().map(|a| ("aliases", a.as_str())));
            ensure_free(c, &names, None)?;
            let now = store::now();
            let id = units::insert(
                c,
                &units::NewUnit {
                    name: &main,
                    short_name: short.as_deref(),
                    kind: b.kind,
                    active: true,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            units::replace_aliases(c, id, &alias_list)?;
            let view = load_view(c, id)?;
            audit::record(
                c,
                &actor,
                "unit.create",
                "unit",
                Some(id.0),
                None,
                Some(&to_json(&view)),
            )?;
            Ok(view)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/units/{}", view.id)))
        .json(view))
}

/// Change or deactivate a unit (admins and the coordinating office).
#[utoipa::path(
    tag = "units",
    params(("id" = i64, Path, description = "The unit's id")),
    request_body = UnitUpdate,
    responses(
        (status = 200, description = "The unit as changed", body = UnitView),
        (status = 404, description = "No such unit"),
        (status = 409, description = "The name or an alias is taken"),
    )
)]
#[patch("/units/{id}")]
pub async fn update_unit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Json<UnitUpdate>,
) -> ApiResult<web::Json<UnitView>> {
    policy::write_units(&caller)?;
    let (id, Json(b)) = (UnitId(id.into_inner()), body);
    let mut errors = Vec::new();
    let new_name = b.name.as_deref().map(|n| name("name", n, &mut errors));
    let short = b
        .short_name
        .as_deref()
        .map(|s| (!s.trim().is_empty()).then(|| name("short_name", s, &mut errors)));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let actor = caller.actor();
    let view = state
        .db
        .write(move |c| {
            let before = load_view(c, id)?;
            let main = new_name.clone().unwrap_or_else(|| before.name.clone());
            let mut errors = Vec::new();
            let alias_list = b.aliases.as_deref().map(|a| aliases(a, &main, &mut errors));
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            let mut names = vec![("name", main.as_str())];
            if let Some(list) = &alias_list {
                names.extend(list.iter().map(|a| ("aliases", a.as_str())));
            }
            ensure_free(c, &names, Some(id))?;
            let changes = units::UnitChanges {
                name: new_name,
                short_name: short,
                kind: b.kind,
                active: b.active,
                updated_at: Some(store::now()),
            };
            units::update(c, id, &changes)?;
            if let Some(list) = &alias_list {
                units::replace_aliases(c, id, list)?;
            }
            let after = load_view(c, id)?;
            let action = match (before.active, after.active) {
                (true, false) => "unit.deactivate",
                (false, true) => "unit.reactivate",
                _ => "unit.update",
            };
            audit::record(
                c,
                &actor,
                action,
                "unit",
                Some(id.0),
                Some(&to_json(&before)),
                Some(&to_json(&after)),
            )?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(view))
}
