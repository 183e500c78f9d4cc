//! The working-day calendar as stored: the office's entries (`calendar_days`) and the running
//! shifts derived from them (`calendar_shifts`, `calendar_state.shift_after`), which let SQL
//! count working days exactly as [`crate::domain::calendar::Calendar`] does.

use crate::db::schema::{calendar_days as cd, calendar_shifts as cs, calendar_state as st};
use crate::db::AnyConnection;
use crate::domain::calendar::{Calendar, DayKind};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// A calendar entry as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, PartialEq)]
#[diesel(table_name = cd, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub kind: DayKind,
    pub name: String,
    /// The notice it came from, if any.
    pub notice: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// The entries from `from` to `to`, both included, in date order.
pub fn between(
    c: &mut AnyConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<CalendarDay>> {
    cd::table
        .filter(cd::day.ge(from))
        .filter(cd::day.le(to))
        .order(cd::day)
        .select(CalendarDay::as_select())
        .load(c)
}

/// The entry of one day.
pub fn find(c: &mut AnyConnection, day: NaiveDate) -> QueryResult<Option<CalendarDay>> {
    cd::table
        .find(day)
        .select(CalendarDay::as_select())
        .first(c)
        .optional()
}

/// The whole calendar.
pub fn load(c: &mut AnyConnection) -> QueryResult<Calendar> {
    let rows: Vec<(NaiveDate, DayKind)> = cd::table.select((cd::day, cd::kind)).load(c)?;
    Ok(Calendar::new(rows))
}

/// The calendar's entries in `[from, to]` only: enough to count working days between two of
/// those days (an empty calendar, without a query, when `to` is before `from`).
pub fn span(c: &mut AnyConnection, from: NaiveDate, to: NaiveDate) -> QueryResult<Calendar> {
    if to < from {
        return Ok(Calendar::default());
    }
    let rows: Vec<(NaiveDate, DayKind)> = cd::table
        .filter(cd::day.ge(from))
        .filter(cd::day.le(to))
        .select((cd::day, cd::kind))
        .load(c)?;
    Ok(Calendar::new(rows))
}

/// Adds or replaces entries.
pub fn put(c: &mut AnyConnection, rows: &[CalendarDay]) -> QueryResult<()> {
    for r in rows {
        let n = diesel::update(cd::table.find(r.day)).set(r).execute(c)?;
        if n == 0 {
            diesel::insert_into(cd::table).values(r).execute(c)?;
        }
    }
    Ok(())
}

/// Removes the entry of a day; false when there was none.
pub fn remove(c: &mut AnyConnection, day: NaiveDate) -> QueryResult<bool> {
    Ok(diesel::delete(cd::table.find(day)).execute(c)? > 0)
}

/// Stores the shifts of `cal` (after any change to the entries, in the same transaction).
pub fn store_shifts(c: &mut AnyConnection, cal: &Calendar) -> QueryResult<()> {
    let (shifts, after) = cal.shifts();
    diesel::delete(cs::table).execute(c)?;
    for chunk in shifts.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(d, s)| {
                (
                    cs::day.eq(*d),
                    cs::shift.eq(i32::try_from(*s).unwrap_or(i32::MAX)),
                )
            })
            .collect();
        crate::on_backend!(c, |c| diesel::insert_into(cs::table)
            .values(&rows)
            .execute(c))?;
    }
    diesel::update(st::table.find(1))
        .set(st::shift_after.eq(i32::try_from(after).unwrap_or(i32::MAX)))
        .execute(c)?;
    Ok(())
}

/// Holds the calendar until the transaction ends, so that changes to it follow one another
/// (PostgreSQL; SQLite's writers already go one at a time).
pub fn lock(c: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Pg(pg) = c {
        st::table
            .find(1)
            .select(st::id)
            .for_update()
            .first::<i32>(pg)
            .optional()?;
    }
    Ok(())
}

/// True once the official schedules went in.
pub fn is_seeded(c: &mut AnyConnection) -> QueryResult<bool> {
    st::table.find(1).select(st::seeded).first(c)
}

/// Notes that the official schedules went in.
pub fn mark_seeded(c: &mut AnyConnection) -> QueryResult<()> {
    diesel::update(st::table.find(1))
        .set(st::seeded.eq(true))
        .execute(c)
        .map(|_| ())
}

/// SQL for the working days from the origin up to and including the date expression `day`
/// ([`Calendar::ordinal`]): the weekdays through it less the stored shift (0 before the first
/// shifted day, `calendar_state.shift_after` after the last).
fn ordinal_sql(c: &AnyConnection, day: &str) -> String {
    let weekdays = match c {
        AnyConnection::Pg(_) => format!(
            "(5 * ((CAST({day} AS DATE) - DATE '1969-12-29' + 1) / 7) \
             + LEAST((CAST({day} AS DATE) - DATE '1969-12-29' + 1) % 7, 5))"
        ),
        AnyConnection::Sqlite(_) => format!(
            "(5 * ((CAST(julianday(date({day})) - julianday('1969-12-29') AS INTEGER) + 1) / 7) \
             + min((CAST(julianday(date({day})) - julianday('1969-12-29') AS INTEGER) + 1) % 7, 5))"
        ),
    };
    let shift = format!(
        "COALESCE((SELECT cs.shift FROM calendar_shifts cs WHERE cs.day = {day}), \
         CASE WHEN {day} > (SELECT MAX(cs2.day) FROM calendar_shifts cs2) \
         THEN (SELECT st.shift_after FROM calendar_state st WHERE st.id = 1) ELSE 0 END)"
    );
    format!("({weekdays} - {shift})")
}

/// SQL for the working days in `(earlier, later]` (two date expressions), counted as
/// [`Calendar::working_days_between`] counts them.
pub fn working_days_between_sql(c: &AnyConnection, earlier: &str, later: &str) -> String {
    format!("({} - {})", ordinal_sql(c, later), ordinal_sql(c, earlier))
}
