//! The working-day calendar (工作日历): which days are working days on China's official
//! calendar, where the State Council moves weekends around public holidays (调休).
//!
//! **A working day** is a Monday to Friday that is not a public holiday, or a Saturday or
//! Sunday that the calendar makes a working day (调休上班). The calendar is data the office
//! keeps (seeded with the State Council's notices, `seed/calendar-cn.csv`): a list of
//! exceptions, each a *holiday* or a *workday*. A holiday on a weekend and a workday on a
//! weekday change nothing; they may still be listed, by name.
//!
//! **Counting.** `working_days_between(a, b)` counts the working days in `(a, b]`: the day
//! after `a` up to and including `b` (negative when `b` comes before `a`). `add_working_days(a,
//! n)` is the day of the `n`-th working day after `a`, so that counting back from it gives `n`
//! again. Both go through one count, [`Calendar::ordinal`]: the working days from a fixed
//! Monday up to and including a day, as the weekday count less the *shift* the exceptions make
//! up to that day. The shift is what a database needs to count working days in SQL too
//! ([`Calendar::shifts`]), so that no other place decides what a working day is.
//!
//! Deadlines "within N working days" (N个工作日内) are counted with these, and so are the
//! days an assignment is late and how hard the office chases it.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// What a calendar entry makes of its day.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (法定节假日 or a day off in its span): not a working day.
    Holiday,
    /// A make-up working day (调休上班), usually a Saturday or Sunday: a working day.
    Workday,
}

crate::stored_as_text!(DayKind);

impl DayKind {
    /// Every kind.
    pub const ALL: [DayKind; 2] = [DayKind::Holiday, DayKind::Workday];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A Monday before every day duban works with: the origin of [`Calendar::ordinal`].
fn origin() -> NaiveDate {
    NaiveDate::from_ymd_opt(1969, 12, 29).expect("a valid date")
}

/// True for Saturday and Sunday.
pub fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Mondays to Fridays from the origin up to and including `d` (0 before the origin).
pub fn weekdays_through(d: NaiveDate) -> i64 {
    let n = (d - origin()).num_days() + 1;
    if n <= 0 {
        return 0;
    }
    5 * (n / 7) + (n % 7).min(5)
}

/// The shift an exception makes to the working-day count: +1 for a holiday on a weekday (one
/// working day fewer), -1 for a workday on a weekend (one more), 0 otherwise.
pub fn shift_of(day: NaiveDate, kind: DayKind) -> i64 {
    match (kind, is_weekend(day)) {
        (DayKind::Holiday, false) => 1,
        (DayKind::Workday, true) => -1,
        _ => 0,
    }
}

/// The working-day calendar: the exceptions to "Monday to Friday".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, DayKind>,
}

impl Calendar {
    /// A calendar with these exceptions (a later entry for the same day wins).
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        Calendar {
            days: days.into_iter().collect(),
        }
    }

    /// The kind of `day` when the calendar lists it.
    pub fn entry(&self, day: NaiveDate) -> Option<DayKind> {
        self.days.get(&day).copied()
    }

    /// True when `day` is a working day.
    pub fn is_working(&self, day: NaiveDate) -> bool {
        match self.entry(day) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !is_weekend(day),
        }
    }

    /// The shift the exceptions make up to and including `day` (see [`shift_of`]).
    pub fn shift_through(&self, day: NaiveDate) -> i64 {
        self.days.range(..=day).map(|(d, k)| shift_of(*d, *k)).sum()
    }

    /// Working days from the origin up to and including `day`.
    pub fn ordinal(&self, day: NaiveDate) -> i64 {
        weekdays_through(day) - self.shift_through(day)
    }

    /// Working days in `(from, to]`; negative when `to` is before `from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        self.ordinal(to) - self.ordinal(from)
    }

    /// The day of the `n`-th working day after `from` (`from` itself for 0); `None` past the
    /// last day a date can hold.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut day = from;
        let mut left = n;
        // Whole weeks first: five weekdays each, then the exceptions they crossed are made up
        // one day at a time.
        let weeks = left / 5;
        if weeks > 1 {
            let jump = day.checked_add_days(Days::new(7 * u64::from(weeks - 1)))?;
            let counted = self.working_days_between(day, jump);
            // Strictly fewer: a jump that uses up every day left may land on a day off.
            if counted < i64::from(left) {
                left -= u32::try_from(counted).ok()?;
                day = jump;
            }
        }
        while left > 0 {
            day = day.succ_opt()?;
            if self.is_working(day) {
                left -= 1;
            }
        }
        Some(day)
    }

    /// The `n`-th working day counted back from `day` (1 is the latest working day on or
    /// before `day`); `None` before the first day a date can hold.
    pub fn nth_working_day_back(&self, day: NaiveDate, n: u32) -> Option<NaiveDate> {
        if n == 0 {
            return None;
        }
        let mut d = day;
        let mut left = n;
        loop {
            if self.is_working(d) {
                left -= 1;
                if left == 0 {
                    return Some(d);
                }
            }
            d = d.pred_opt()?;
        }
    }

    /// The running shift at every day from the first exception that shifts the count to the
    /// last one, and the shift after the last: what a database joins on to count working days
    /// (`ordinal = weekdays_through − shift`, the shift being 0 before the first of these
    /// days and the returned total after the last).
    pub fn shifts(&self) -> (Vec<(NaiveDate, i64)>, i64) {
        let shifting: Vec<(NaiveDate, i64)> = self
            .days
            .iter()
            .map(|(d, k)| (*d, shift_of(*d, *k)))
            .filter(|(_, s)| *s != 0)
            .collect();
        let (Some(first), Some(last)) = (shifting.first(), shifting.last()) else {
            return (Vec::new(), 0);
        };
        let mut out = Vec::new();
        let mut running = 0;
        let mut next = shifting.iter().peekable();
        let mut day = first.0;
        while day <= last.0 {
            while let Some((d, s)) = next.peek() {
                if *d == day {
                    running += s;
                    next.next();
                } else {
                    break;
                }
            }
            out.push((day, running));
            match day.succ_opt() {
                Some(d) => day = d,
                None => break,
            }
        }
        (out, running)
    }

    /// The entries in `[from, to]`, in date order.
    pub fn entries(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, DayKind)> {
        if to < from {
            return Vec::new();
        }
        self.days.range(from..=to).map(|(d, k)| (*d, *k)).collect()
    }
}

/// One day of the State Council's published schedules (`seed/calendar-cn.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialDay {
    /// The day.
    pub day: NaiveDate,
    /// Holiday or make-up working day.
    pub kind: DayKind,
    /// The holiday it belongs to (春节, 国庆节, …).
    pub name: &'static str,
    /// The notice that set it (title and document number).
    pub notice: &'static str,
}

const OFFICIAL: &str = include_str!("../../seed/calendar-cn.csv");

/// The State Council's schedules for 2019 to 2026, as committed in `seed/calendar-cn.csv`:
/// what a new database's calendar starts with.
pub fn official() -> Vec<OfficialDay> {
    OFFICIAL
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.splitn(4, ',');
            let (day, kind, name, notice) = (f.next(), f.next(), f.next(), f.next());
            OfficialDay {
                day: day
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .expect("seed/calendar-cn.csv: a date in the first column"),
                kind: kind
                    .and_then(DayKind::parse)
                    .expect("seed/calendar-cn.csv: holiday or workday in the second column"),
                name: name.expect("seed/calendar-cn.csv: a name in the third column"),
                notice: notice.expect("seed/calendar-cn.csv: a notice in the fourth column"),
            }
        })
        .collect()
}

/// What a due date given in working days is counted from.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DueAnchor {
    /// The day the assignment was made (交办之日).
    Assignment,
    /// The day its plan was published (印发之日); before that, the day it was made, counted
    /// again on publication.
    Publication,
}

crate::stored_as_text!(DueAnchor);

impl DueAnchor {
    /// Every anchor.
    pub const ALL: [DueAnchor; 2] = [DueAnchor::Assignment, DueAnchor::Publication];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DueAnchor::Assignment => "assignment",
            DueAnchor::Publication => "publication",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The most working days a due date may be given as (about ten years).
pub const MAX_DUE_WORKING_DAYS: u32 = 3650;

/// How the office gives a due date: a day, or a number of working days from an anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueRule {
    /// On this day.
    On(NaiveDate),
    /// Within N working days (N个工作日内).
    Within(WorkingDaysDue),
}

/// A due date given as "within N working days" (N个工作日内) of an anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingDaysDue {
    /// N.
    pub days: u32,
    /// Counted from.
    pub from: DueAnchor,
}

impl WorkingDaysDue {
    /// The day counted from: the day the assignment was made, or its plan's publication day
    /// (the day it was made while the plan is a draft).
    pub fn anchor_day(self, made_on: NaiveDate, published_on: Option<NaiveDate>) -> NaiveDate {
        match self.from {
            DueAnchor::Assignment => made_on,
            DueAnchor::Publication => published_on.unwrap_or(made_on),
        }
    }

    /// The due date on `cal`: the N-th working day after the anchor.
    pub fn due_date(
        self,
        cal: &Calendar,
        made_on: NaiveDate,
        published_on: Option<NaiveDate>,
    ) -> Option<NaiveDate> {
        cal.add_working_days(self.anchor_day(made_on, published_on), self.days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// The National Day week of 2019 as the State Council set it: 1–7 October off, Sunday
    /// 29 September and Saturday 12 October worked.
    fn national_day_2019() -> Calendar {
        let mut days: Vec<(NaiveDate, DayKind)> = (1..=7)
            .map(|x| (d(2019, 10, x), DayKind::Holiday))
            .collect();
        days.push((d(2019, 9, 29), DayKind::Workday));
        days.push((d(2019, 10, 12), DayKind::Workday));
        Calendar::new(days)
    }

    /// Working days in `(from, to]`, one day at a time.
    fn count_plainly(cal: &Calendar, from: NaiveDate, to: NaiveDate) -> i64 {
        let (lo, hi, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut n = 0;
        let mut x = lo;
        while x < hi {
            x = x.succ_opt().unwrap();
            if cal.is_working(x) {
                n += 1;
            }
        }
        sign * n
    }

    #[test]
    fn the_national_day_week_of_2019_counts_as_the_state_council_set_it() {
        let cal = national_day_2019();
        for x in 1..=7 {
            assert!(!cal.is_working(d(2019, 10, x)), "1–7 Oct are off");
        }
        assert!(cal.is_working(d(2019, 9, 29)), "Sunday 29 Sep is worked");
        assert!(cal.is_working(d(2019, 10, 12)), "Saturday 12 Oct is worked");
        assert!(!cal.is_working(d(2019, 10, 13)), "Sunday 13 Oct is not");
        // Friday 27 Sep → Sunday 29 Sep (worked), Monday 30 Sep, then Tuesday 8 Oct.
        assert_eq!(
            cal.add_working_days(d(2019, 9, 27), 1),
            Some(d(2019, 9, 29))
        );
        assert_eq!(
            cal.add_working_days(d(2019, 9, 27), 2),
            Some(d(2019, 9, 30))
        );
        assert_eq!(
            cal.add_working_days(d(2019, 9, 27), 3),
            Some(d(2019, 10, 8))
        );
        // "5 working days" from Monday 30 Sep: 8, 9, 10, 11, 12 October (a Saturday).
        assert_eq!(
            cal.add_working_days(d(2019, 9, 30), 5),
            Some(d(2019, 10, 12))
        );
        // September 28 to October 12: 29, 30 Sep, then 8–12 Oct.
        assert_eq!(cal.working_days_between(d(2019, 9, 28), d(2019, 10, 12)), 7);
        assert_eq!(
            cal.working_days_between(d(2019, 10, 12), d(2019, 9, 28)),
            -7
        );
        assert_eq!(cal.working_days_between(d(2019, 9, 30), d(2019, 10, 7)), 0);
    }

    #[test]
    fn a_weekend_holiday_and_a_weekday_workday_change_nothing() {
        let plain = Calendar::default();
        let cal = Calendar::new([
            (d(2019, 10, 5), DayKind::Holiday),
            (d(2019, 10, 9), DayKind::Workday),
        ]);
        assert_eq!(
            cal.working_days_between(d(2019, 9, 1), d(2019, 11, 1)),
            plain.working_days_between(d(2019, 9, 1), d(2019, 11, 1))
        );
        assert!(cal.shifts().0.is_empty());
    }

    #[test]
    fn without_exceptions_five_working_days_make_a_week() {
        let cal = Calendar::default();
        // Monday 2 December 2019 + 5 working days → Monday 9 December.
        assert_eq!(
            cal.add_working_days(d(2019, 12, 2), 5),
            Some(d(2019, 12, 9))
        );
        // From a Saturday, the first working day is Monday.
        assert_eq!(
            cal.add_working_days(d(2019, 12, 7), 1),
            Some(d(2019, 12, 9))
        );
        assert_eq!(
            cal.add_working_days(d(2019, 12, 7), 0),
            Some(d(2019, 12, 7))
        );
        assert_eq!(
            cal.nth_working_day_back(d(2019, 12, 8), 1),
            Some(d(2019, 12, 6))
        );
        assert_eq!(
            cal.nth_working_day_back(d(2019, 12, 9), 2),
            Some(d(2019, 12, 6))
        );
    }

    #[test]
    fn a_long_count_never_stops_on_a_day_off() {
        // Sunday 1 December 2019, with five weekend days of the next three weeks worked: the
        // 20th working day is Saturday the 21st, not Sunday the 22nd.
        let start = d(2019, 12, 1);
        let cal = Calendar::new(
            [7, 8, 14, 15, 21]
                .into_iter()
                .map(|x| (d(2019, 12, x), DayKind::Workday)),
        );
        let day = cal.add_working_days(start, 20).unwrap();
        assert_eq!(day, d(2019, 12, 21));
        assert!(cal.is_working(day));
        assert_eq!(cal.working_days_between(start, day), 20);
        assert_eq!(cal.nth_working_day_back(day, 0), None);
    }

    #[test]
    fn the_shifts_give_the_same_count_as_the_calendar() {
        let cal = national_day_2019();
        let (shifts, after) = cal.shifts();
        assert_eq!(shifts.first().map(|s| s.0), Some(d(2019, 9, 29)));
        assert_eq!(shifts.last().map(|s| s.0), Some(d(2019, 10, 12)));
        // Five weekday holidays less two make-up days.
        assert_eq!(after, 3);
        for (day, s) in shifts {
            assert_eq!(s, cal.shift_through(day));
        }
    }

    #[test]
    fn the_official_schedules_cover_2019_to_2026_and_count_national_day_2019_right() {
        let days = official();
        let cal = Calendar::new(days.iter().map(|o| (o.day, o.kind)));
        for year in 2019..=2026 {
            assert!(
                days.iter()
                    .any(|o| o.day.year() == year && o.kind == DayKind::Holiday),
                "{year} has holidays"
            );
        }
        // Every make-up day is a weekend day, and every entry names its notice.
        for o in &days {
            if o.kind == DayKind::Workday {
                assert!(is_weekend(o.day), "{} is a make-up day on a weekday", o.day);
            }
            assert!(
                o.notice.contains("国办发明电"),
                "{} names its notice",
                o.day
            );
        }
        for x in 1..=7 {
            assert!(!cal.is_working(d(2019, 10, x)));
        }
        assert!(cal.is_working(d(2019, 9, 29)));
        assert!(cal.is_working(d(2019, 10, 12)));
        assert_eq!(cal.working_days_between(d(2019, 9, 27), d(2019, 10, 12)), 7);
        // Spring Festival 2020, extended to 2 February.
        assert!(!cal.is_working(d(2020, 1, 31)));
        assert!(cal.is_working(d(2020, 2, 3)));
    }

    #[test]
    fn a_due_date_in_working_days_counts_from_its_anchor() {
        let cal = national_day_2019();
        let due = WorkingDaysDue {
            days: 5,
            from: DueAnchor::Publication,
        };
        // Made on Friday 27 September, published on Monday 30 September.
        let made = d(2019, 9, 27);
        assert_eq!(
            due.due_date(&cal, made, Some(d(2019, 9, 30))),
            Some(d(2019, 10, 12))
        );
        // Not yet published: counted from the day it was made.
        assert_eq!(due.due_date(&cal, made, None), Some(d(2019, 10, 10)));
        let from_made = WorkingDaysDue {
            days: 5,
            from: DueAnchor::Assignment,
        };
        assert_eq!(
            from_made.due_date(&cal, made, Some(d(2019, 9, 30))),
            Some(d(2019, 10, 10))
        );
    }

    fn any_day() -> impl Strategy<Value = NaiveDate> {
        (0i64..4000).prop_map(|n| d(2016, 1, 1) + chrono::Duration::days(n))
    }

    fn any_calendar() -> impl Strategy<Value = Calendar> {
        proptest::collection::vec(
            (
                any_day(),
                prop_oneof![Just(DayKind::Holiday), Just(DayKind::Workday)],
            ),
            0..80,
        )
        .prop_map(Calendar::new)
    }

    proptest! {
        #[test]
        fn adding_n_working_days_and_counting_back_agree(
            cal in any_calendar(), from in any_day(), n in 0u32..400
        ) {
            let to = cal.add_working_days(from, n).unwrap();
            prop_assert_eq!(cal.working_days_between(from, to), i64::from(n));
            // The day reached is a working day (or `from` itself for 0), and no earlier
            // day gives n.
            if n > 0 {
                prop_assert!(cal.is_working(to));
                prop_assert_eq!(cal.working_days_between(from, to.pred_opt().unwrap()), i64::from(n) - 1);
            } else {
                prop_assert_eq!(to, from);
            }
        }

        #[test]
        fn counting_agrees_with_a_day_by_day_count(
            cal in any_calendar(), a in any_day(), b in any_day()
        ) {
            prop_assert_eq!(cal.working_days_between(a, b), count_plainly(&cal, a, b));
        }

        #[test]
        fn make_up_weekends_count_and_weekday_holidays_do_not(
            cal in any_calendar(), day in any_day()
        ) {
            let expected = match cal.entry(day) {
                Some(DayKind::Workday) => true,
                Some(DayKind::Holiday) => false,
                None => !is_weekend(day),
            };
            prop_assert_eq!(cal.is_working(day), expected);
            let before = day.pred_opt().unwrap();
            prop_assert_eq!(cal.working_days_between(before, day), i64::from(expected));
        }

        #[test]
        fn the_nth_working_day_back_is_n_working_days_before_the_next_day(
            cal in any_calendar(), day in any_day(), n in 1u32..200
        ) {
            let back = cal.nth_working_day_back(day, n).unwrap();
            prop_assert!(cal.is_working(back));
            prop_assert_eq!(cal.working_days_between(back.pred_opt().unwrap(), day), i64::from(n));
        }

        #[test]
        fn the_stored_shifts_reproduce_every_ordinal(cal in any_calendar(), day in any_day()) {
            let (shifts, after) = cal.shifts();
            let shift = match (shifts.first(), shifts.last()) {
                (Some(f), _) if day < f.0 => 0,
                (_, Some(l)) if day > l.0 => after,
                (Some(_), Some(_)) => shifts.iter().find(|s| s.0 == day).unwrap().1,
                _ => 0,
            };
            prop_assert_eq!(weekdays_through(day) - shift, cal.ordinal(day));
        }
    }
}
