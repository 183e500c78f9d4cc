//! The unit directory (`/units`): departments, district governments and other bodies, with
//! their aliases.

use super::extract::{total_of_pages, Caller, Json, Page, PageQuery, Query};
use crate::app::AppState;
use crate::domain::ids::UnitId;
use crate::domain::unit::UnitKind;
use crate::error::ApiResult;
use crate::service::{self, units::NewUnit, units::UnitChanges};
use crate::store::units::{self, UnitFilter};
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

impl From<(units::Unit, Vec<String>)> for UnitView {
    fn from((u, aliases): (units::Unit, Vec<String>)) -> Self {
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
    let (Query(q), ctx) = (query, caller.ctx());
    let (limit, after) = page.0.parse()?;
    let filter = UnitFilter {
        kind: q.kind,
        active: q.active,
        q: q.q,
    };
    let count = page.0.wants_count();
    let (page, total) = state
        .db
        .read(ctx.principal.user_id, move |c| {
            let total = total_of_pages(count, |after, limit| {
                service::units::list(c, &ctx, filter.clone(), after, limit)
            })?;
            Ok((service::units::list(c, &ctx, filter, after, limit)?, total))
        })
        .await?;
    Ok(web::Json(Page::map(page, UnitView::from).with_total(total)))
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
    let (id, ctx) = (UnitId(id.into_inner()), caller.ctx());
    let unit = state
        .db
        .read(ctx.principal.user_id, move |c| {
            service::units::get(c, &ctx, id)
        })
        .await?;
    Ok(web::Json(unit.into()))
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
    let (Json(b), ctx) = (body, caller.ctx());
    let new = NewUnit {
        name: b.name,
        short_name: b.short_name,
        kind: b.kind,
        aliases: b.aliases,
    };
    let view = UnitView::from(
        state
            .db
            .run(move |c| service::units::create(c, &ctx, new))
            .await?,
    );
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
    let (id, Json(b), ctx) = (UnitId(id.into_inner()), body, caller.ctx());
    let changes = UnitChanges {
        name: b.name,
        short_name: b.short_name,
        kind: b.kind,
        active: b.active,
        aliases: b.aliases,
    };
    let unit = state
        .db
        .run(move |c| service::units::update(c, &ctx, id, changes))
        .await?;
    Ok(web::Json(unit.into()))
}
