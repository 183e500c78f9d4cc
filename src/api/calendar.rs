//! The working-day calendar (`/calendar`, 工作日历): public holidays and make-up working days
//! (调休) as the office keeps them, seeded with the State Council's schedules for 2019 to
//! 2026, and working-day arithmetic on it ("5个工作日内").

use super::extract::{Caller, CallerToken, CountQuery, Json, Query};
use crate::app::AppState;
use crate::domain::calendar::DayKind;
use crate::error::{ApiError, ApiResult};
use crate::service::{self, calendar::CalendarDay};
use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A day the calendar lists.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"date": "2019-10-01", "kind": "holiday", "name": "国庆节", "notice": "国务院办公厅关于2019年部分节假日安排的通知（国办发明电〔2018〕15号）"}))]
pub struct CalendarDayView {
    /// The day.
    pub date: NaiveDate,
    /// `holiday` (not a working day) or `workday` (a make-up working day, 调休上班).
    pub kind: DayKind,
    /// The holiday it belongs to.
    pub name: String,
    /// The notice that set it (`null` when the office gave none).
    pub notice: Option<String>,
}

impl From<CalendarDay> for CalendarDayView {
    fn from(d: CalendarDay) -> Self {
        CalendarDayView {
            date: d.day,
            kind: d.kind,
            name: d.name,
            notice: d.notice,
        }
    }
}

/// A year's listed days.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarYear {
    /// In date order.
    pub items: Vec<CalendarDayView>,
    /// Always `null`: the whole list fits in one answer (the shape of every list).
    #[schema(value_type = Option<String>, example = json!(null))]
    pub next_cursor: Option<String>,
    /// With `count=true` only: the number of items.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 3, nullable = false)]
    pub total: Option<i64>,
}

/// Which year.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year (default: this year).
    #[param(example = 2019)]
    pub year: Option<i32>,
}

/// A day to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"date": "2027-01-01", "kind": "holiday", "name": "元旦", "notice": "国务院办公厅关于2027年部分节假日安排的通知"}))]
pub struct NewCalendarDay {
    /// The day.
    pub date: NaiveDate,
    /// `holiday` or `workday`.
    pub kind: DayKind,
    /// Its name (1 to 100 characters).
    pub name: String,
    /// The notice it comes from (up to 200 characters).
    pub notice: Option<String>,
}

/// A listed day's new kind, name and notice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "workday", "name": "国庆节调休上班", "notice": null}))]
pub struct CalendarDayChange {
    /// `holiday` or `workday`.
    pub kind: DayKind,
    /// Its name (1 to 100 characters).
    pub name: String,
    /// The notice it comes from (up to 200 characters).
    pub notice: Option<String>,
}

/// A count of working days: from a day, either `days` forward or up `to` another day.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkingDaysQuery {
    /// The day counted from (not itself counted).
    #[param(example = "2019-09-30")]
    pub from: NaiveDate,
    /// Working days forward (0 to 3650): answers the day reached.
    #[param(example = 5)]
    pub days: Option<u32>,
    /// A second day: answers the working days after `from` up to and including it
    /// (negative when it comes first).
    #[param(example = "2019-10-12")]
    pub to: Option<NaiveDate>,
}

/// The answer to a working-day count.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum WorkingDays {
    /// For `days`: the day reached.
    Date {
        /// The `days`-th working day after `from`.
        #[schema(example = "2019-10-12")]
        date: NaiveDate,
    },
    /// For `to`: the count.
    Days {
        /// Working days after `from` up to and including `to`.
        #[schema(example = 5)]
        days: i64,
    },
}

/// A year of the working-day calendar: its public holidays and make-up working days.
///
/// Anyone signed in may read it. Days not listed are working days from Monday to Friday and
/// days off at weekends.
#[utoipa::path(
    tag = "calendar",
    params(YearQuery, CountQuery),
    responses(
        (status = 200, description = "The year's listed days", body = CalendarYear),
        (status = 422, description = "The year is outside 1970 to 9998"),
    )
)]
#[get("/calendar")]
pub async fn list_calendar(
    state: web::Data<AppState>,
    caller: CallerToken,
    query: Query<YearQuery>,
    count: Query<CountQuery>,
) -> ApiResult<web::Json<CalendarYear>> {
    let Query(q) = query;
    let days = state
        .db
        .read(caller.user_id(), move |c| {
            let ctx = caller.ctx(c)?;
            let year = q.year.unwrap_or_else(|| service::calendar::this_year(&ctx));
            service::calendar::year(c, year)
        })
        .await?;
    Ok(web::Json(CalendarYear {
        total: count.0.wants_count().then_some(days.len() as i64),
        items: days.into_iter().map(CalendarDayView::from).collect(),
        next_cursor: None,
    }))
}

/// Add a day to the calendar (admins and the office).
///
/// Due dates given in working days that fall on or after the day are counted again when the
/// day is today or later; the audit entry says how many moved.
#[utoipa::path(
    tag = "calendar",
    request_body = NewCalendarDay,
    responses(
        (status = 201, description = "The day as listed", body = CalendarDayView, headers(("Location" = String, description = "The day's address"))),
        (status = 409, description = "The day is already listed: change it instead"),
        (status = 422, description = "A field is not valid (named in `errors`)"),
    )
)]
#[post("/calendar")]
pub async fn add_calendar_day(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewCalendarDay>,
) -> ApiResult<HttpResponse> {
    let (Json(b), ctx) = (body, caller.ctx());
    let spec = service::calendar::DaySpec {
        kind: b.kind,
        name: b.name,
        notice: b.notice,
    };
    let day = state
        .db
        .run(move |c| service::calendar::add(c, &ctx, b.date, spec))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/calendar/{}", day.day)))
        .json(CalendarDayView::from(day)))
}

/// Change a listed day's kind, name or notice (admins and the office).
#[utoipa::path(
    tag = "calendar",
    params(("date" = NaiveDate, Path, description = "The day", example = "2019-10-12")),
    request_body = CalendarDayChange,
    responses(
        (status = 200, description = "The day as listed", body = CalendarDayView),
        (status = 404, description = "The day is not listed"),
        (status = 422, description = "A field is not valid (named in `errors`)"),
    )
)]
#[put("/calendar/{date}")]
pub async fn change_calendar_day(
    state: web::Data<AppState>,
    caller: Caller,
    date: web::Path<NaiveDate>,
    body: Json<CalendarDayChange>,
) -> ApiResult<web::Json<CalendarDayView>> {
    let (day, Json(b), ctx) = (date.into_inner(), body, caller.ctx());
    let spec = service::calendar::DaySpec {
        kind: b.kind,
        name: b.name,
        notice: b.notice,
    };
    let row = state
        .db
        .run(move |c| service::calendar::change(c, &ctx, day, spec))
        .await?;
    Ok(web::Json(row.into()))
}

/// Remove a day from the calendar: it is an ordinary weekday or weekend day again (admins
/// and the office).
#[utoipa::path(
    tag = "calendar",
    params(("date" = NaiveDate, Path, description = "The day", example = "2019-10-12")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "The day is not listed"),
    )
)]
#[delete("/calendar/{date}")]
pub async fn remove_calendar_day(
    state: web::Data<AppState>,
    caller: Caller,
    date: web::Path<NaiveDate>,
) -> ApiResult<HttpResponse> {
    let (day, ctx) = (date.into_inner(), caller.ctx());
    state
        .db
        .run(move |c| service::calendar::remove(c, &ctx, day))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Count working days: `from` and `days` give the day N working days later (`{date}`);
/// `from` and `to` give the working days between (`{days}`).
///
/// Anyone signed in may ask. The day `from` is not counted; a make-up working day at a
/// weekend is, a public holiday on a weekday is not.
#[utoipa::path(
    tag = "calendar",
    params(WorkingDaysQuery),
    responses(
        (status = 200, description = "The day reached, or the count", body = WorkingDays),
        (status = 422, description = "Neither or both of `days` and `to`, or a day out of range"),
    )
)]
#[get("/calendar/working-days")]
pub async fn count_working_days(
    state: web::Data<AppState>,
    caller: CallerToken,
    query: Query<WorkingDaysQuery>,
) -> ApiResult<web::Json<WorkingDays>> {
    let Query(q) = query;
    let answer = state
        .db
        .read(caller.user_id(), move |c| {
            caller.ctx(c)?;
            match (q.days, q.to) {
                (Some(days), None) => service::calendar::working_days_after(c, q.from, days)
                    .map(|date| WorkingDays::Date { date }),
                (None, Some(to)) => service::calendar::working_days_between(c, q.from, to)
                    .map(|days| WorkingDays::Days { days }),
                _ => Err(ApiError::invalid("days", "give either days or to")),
            }
        })
        .await?;
    Ok(web::Json(answer))
}
