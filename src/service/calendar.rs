//! The working-day calendar (工作日历) the office keeps: list a year's holidays and make-up
//! working days, add, change and remove days, and count working days. Every change stores the
//! derived shifts in the same transaction and counts again the due dates given in working
//! days that fall on or after the changed day, when that day is today or later.

use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::domain::calendar::{self, DayKind, MAX_DUE_WORKING_DAYS};
use crate::error::{ApiError, ApiResult};
use crate::store::{audit, calendar as store};
use chrono::{Datelike, NaiveDate};
use serde_json::json;

pub use crate::store::calendar::CalendarDay;

/// Puts the State Council's schedules (`seed/calendar-cn.csv`) into a calendar that has never
/// had them, once, in one transaction; returns how many days went in (0 when seeded before,
/// whatever the office has changed since).
pub fn seed_official(c: &mut AnyConnection) -> ApiResult<usize> {
    write_tx(c, |c| {
        if store::is_seeded(c)? {
            return Ok(0);
        }
        let now = crate::store::now();
        let rows: Vec<CalendarDay> = calendar::official()
            .into_iter()
            .map(|o| CalendarDay {
                day: o.day,
                kind: o.kind,
                name: o.name.to_owned(),
                notice: Some(o.notice.to_owned()),
                updated_at: now,
            })
            .collect();
        store::put(c, &rows)?;
        let cal = store::load(c)?;
        store::store_shifts(c, &cal)?;
        // Standings kept before the calendar counted calendar days late.
        crate::store::standing::recount_lateness(c, &cal)?;
        store::mark_seeded(c)?;
        Ok(rows.len())
    })
}

/// A year checked against the range duban works with.
fn checked_year(year: i32) -> ApiResult<i32> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .filter(|d| crate::domain::assignment::day_in_range(*d))
        .map(|_| year)
        .ok_or_else(|| ApiError::invalid("year", "must be 1970 to 9998"))
}

/// The calendar's days of one year, in date order (anyone signed in).
pub fn year(c: &mut AnyConnection, year: i32) -> ApiResult<Vec<CalendarDay>> {
    let year = checked_year(year)?;
    let (from, to) = (
        NaiveDate::from_ymd_opt(year, 1, 1)
            .ok_or_else(|| ApiError::invalid("year", "no such year"))?,
        NaiveDate::from_ymd_opt(year, 12, 31)
            .ok_or_else(|| ApiError::invalid("year", "no such year"))?,
    );
    Ok(store::between(c, from, to)?)
}

/// What the office says of a day.
#[derive(Debug, Clone)]
pub struct DaySpec {
    /// Holiday or make-up working day.
    pub kind: DayKind,
    /// Its name (1 to 100 characters).
    pub name: String,
    /// The notice it comes from (up to 200 characters).
    pub notice: Option<String>,
}

/// The years the calendar keeps days for: a day outside them is a typing error, and the derived
/// shifts (one row per day between the first and the last listed day) stay bounded.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

fn entry(day: NaiveDate, spec: DaySpec, ctx: &Ctx) -> ApiResult<CalendarDay> {
    if !YEARS.contains(&day.year()) {
        return Err(ApiError::invalid(
            "date",
            format!("must be a day of {} to {}", YEARS.start(), YEARS.end()),
        ));
    }
    Ok(CalendarDay {
        day,
        kind: spec.kind,
        name: super::required_text("name", &spec.name, 100)?,
        notice: super::optional_text("notice", spec.notice, 200)?,
        updated_at: ctx.now,
    })
}

/// The office adds a day (409 when the day is already listed).
pub fn add(
    c: &mut AnyConnection,
    ctx: &Ctx,
    day: NaiveDate,
    spec: DaySpec,
) -> ApiResult<CalendarDay> {
    policy::keep_calendar(&ctx.principal)?;
    let row = entry(day, spec, ctx)?;
    write_tx(c, |c| {
        store::lock(c)?;
        if store::find(c, day)?.is_some() {
            return Err(ApiError::Conflict {
                detail: format!("{day} is already in the calendar: change it instead"),
                field: Some("date".into()),
            });
        }
        store::put(c, std::slice::from_ref(&row))?;
        changed(c, ctx, day, None, Some(&row))?;
        Ok(row)
    })
}

/// A listed day, with the calendar held for a change (404 when it is not listed).
fn listed(c: &mut AnyConnection, day: NaiveDate) -> ApiResult<CalendarDay> {
    store::lock(c)?;
    store::find(c, day)?.ok_or_else(|| ApiError::NotFound(format!("{day} is not in the calendar")))
}

/// The office changes a listed day (404 when it is not listed).
pub fn change(
    c: &mut AnyConnection,
    ctx: &Ctx,
    day: NaiveDate,
    spec: DaySpec,
) -> ApiResult<CalendarDay> {
    policy::keep_calendar(&ctx.principal)?;
    let row = entry(day, spec, ctx)?;
    write_tx(c, |c| {
        let before = listed(c, day)?;
        store::put(c, std::slice::from_ref(&row))?;
        changed(c, ctx, day, Some(&before), Some(&row))?;
        Ok(row)
    })
}

/// The office removes a listed day: it becomes an ordinary weekday or weekend day again (404
/// when it is not listed).
pub fn remove(c: &mut AnyConnection, ctx: &Ctx, day: NaiveDate) -> ApiResult<()> {
    policy::keep_calendar(&ctx.principal)?;
    write_tx(c, |c| {
        let before = listed(c, day)?;
        store::remove(c, day)?;
        changed(c, ctx, day, Some(&before), None)
    })
}

fn view(d: &CalendarDay) -> serde_json::Value {
    json!({"date": d.day, "kind": d.kind, "name": d.name, "notice": d.notice})
}

/// After a change to `day`: the shifts again, due dates on or after it counted again when it is
/// today or later, and the audit entry saying how many moved.
fn changed(
    c: &mut AnyConnection,
    ctx: &Ctx,
    day: NaiveDate,
    before: Option<&CalendarDay>,
    after: Option<&CalendarDay>,
) -> ApiResult<()> {
    let cal = store::load(c)?;
    store::store_shifts(c, &cal)?;
    // Work done late counts its working days again on the calendar as it now stands (the
    // figures follow through the tallies).
    crate::store::standing::recount_lateness(c, &cal)?;
    let moved = if day >= ctx.today() {
        super::assignments::recount_due_dates(c, ctx, None, Some(day), "calendar changed", true)?
    } else {
        0
    };
    let action = match (before, after) {
        (None, _) => "calendar.add",
        (Some(_), Some(_)) => "calendar.change",
        (Some(_), None) => "calendar.remove",
    };
    let after = after.map(|a| {
        let mut v = view(a);
        v["due_dates_moved"] = json!(moved);
        v
    });
    let after = after.or_else(|| Some(json!({"date": day, "due_dates_moved": moved})));
    audit::record(
        c,
        &ctx.actor,
        action,
        "calendar_day",
        None,
        before.map(view).as_ref(),
        after.as_ref(),
    )?;
    Ok(())
}

/// The day of the `days`-th working day after `from`.
pub fn working_days_after(
    c: &mut AnyConnection,
    from: NaiveDate,
    days: u32,
) -> ApiResult<NaiveDate> {
    super::checked_day("from", from)?;
    if days > MAX_DUE_WORKING_DAYS {
        return Err(ApiError::invalid(
            "days",
            format!("must be 0 to {MAX_DUE_WORKING_DAYS}"),
        ));
    }
    let cal = store::load(c)?;
    cal.add_working_days(from, days)
        .filter(|d| crate::domain::assignment::day_in_range(*d))
        .ok_or_else(|| ApiError::invalid("days", "reaches past the days duban works with"))
}

/// The working days after `from` up to and including `to` (negative when `to` comes first).
pub fn working_days_between(
    c: &mut AnyConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<i64> {
    super::checked_day("from", from)?;
    super::checked_day("to", to)?;
    let cal = if from <= to {
        store::span(c, from, to)?
    } else {
        store::span(c, to, from)?
    };
    Ok(cal.working_days_between(from, to))
}

/// The year a listing defaults to.
pub fn this_year(ctx: &Ctx) -> i32 {
    ctx.today().year()
}
