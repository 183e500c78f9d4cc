//! Time-proportional progress (序时进度): for work reported monthly, quarterly or half-yearly, the
//! share of it that should be done by a day, by the reporting periods elapsed, beside the share
//! the unit last reported (an optional percent on its reports).
//!
//! **Periods**: from the one the assignment was made in to the one its due date falls in; N of
//! them. **Expected share on day D**: the periods that ended before D, over N, as a percent
//! (rounded down). **Behind on day D**: the percent last sent is below the expected share. Work
//! not reported in percent, work done (completed or not applicable) and yearly or one-off work
//! is never behind. Because the expected share only rises, and only on the day after a period
//! ends, "behind" has a first day that depends on the facts alone — [`behind_since`] — which the
//! standing keeps, as it keeps the deadline; behind on D is `behind_since <= D`.

use crate::domain::assignment::Cycle;
use chrono::NaiveDate;

/// The end of each reporting period from the one containing `assigned_on` to the one
/// containing `due` (none for cycles without periods, or a due date before the assignment).
pub fn period_ends(cycle: Cycle, assigned_on: NaiveDate, due: NaiveDate) -> Vec<NaiveDate> {
    if !cycle.is_periodic() || due < assigned_on {
        return Vec::new();
    }
    let last = cycle.period_of(due);
    let mut out = Vec::new();
    let mut p = cycle.period_of(assigned_on);
    while let Some(end) = cycle.period_end(&p) {
        out.push(end);
        if p >= last {
            break;
        }
        match cycle.period_after(&p) {
            Some(next) => p = next,
            None => break,
        }
    }
    out
}

/// The expected share (percent) on `day`; `None` for work without periods.
pub fn expected_share(
    cycle: Cycle,
    assigned_on: NaiveDate,
    due: NaiveDate,
    day: NaiveDate,
) -> Option<i32> {
    let ends = period_ends(cycle, assigned_on, due);
    if ends.is_empty() {
        return None;
    }
    let elapsed = ends.iter().filter(|e| **e < day).count();
    Some(share(elapsed, ends.len()))
}

fn share(elapsed: usize, total: usize) -> i32 {
    i32::try_from(elapsed * 100 / total).unwrap_or(100)
}

/// The first day on which work last reported at `progress` percent is behind its
/// time-proportional share (`None`: never, or not judged — no percent, or no periods).
pub fn behind_since(
    cycle: Cycle,
    assigned_on: NaiveDate,
    due: NaiveDate,
    progress: Option<i32>,
) -> Option<NaiveDate> {
    let p = progress?;
    let ends = period_ends(cycle, assigned_on, due);
    let n = ends.len();
    ends.iter()
        .enumerate()
        .find(|(k, _)| share(k + 1, n) > p)
        .and_then(|(_, end)| end.succ_opt())
}

/// Behind on `day`, given the first day behind.
pub fn is_behind(behind_since: Option<NaiveDate>, day: NaiveDate) -> bool {
    behind_since.is_some_and(|d| d <= day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_quarterly_years_work_is_a_quarter_due_after_each_quarter() {
        let (made, due) = (d(2019, 1, 10), d(2019, 12, 31));
        let q = |day| expected_share(Cycle::Quarterly, made, due, day);
        assert_eq!(q(d(2019, 3, 31)), Some(0));
        assert_eq!(q(d(2019, 4, 1)), Some(25));
        assert_eq!(q(d(2019, 10, 1)), Some(75));
        assert_eq!(q(d(2020, 1, 1)), Some(100));
        assert_eq!(
            expected_share(Cycle::Yearly, made, due, d(2019, 7, 1)),
            None
        );
        // 30 % reported: the 25 % due after the first quarter is not above it; the 50 % due
        // after the second is, from 1 July.
        assert_eq!(
            behind_since(Cycle::Quarterly, made, due, Some(30)),
            Some(d(2019, 7, 1))
        );
        assert_eq!(behind_since(Cycle::Quarterly, made, due, Some(100)), None);
        assert_eq!(behind_since(Cycle::Quarterly, made, due, None), None);
        // Half-yearly, made in March: two halves.
        assert_eq!(
            behind_since(Cycle::HalfYearly, d(2019, 3, 1), due, Some(0)),
            Some(d(2019, 7, 1))
        );
    }

    proptest! {
        #[test]
        fn behind_since_is_the_first_day_the_expected_share_exceeds_the_report(
            start in 0i64..700, len in 0i64..800, p in 0i32..=100, q in 0usize..3
        ) {
            let cycle = [Cycle::Monthly, Cycle::Quarterly, Cycle::HalfYearly][q];
            let made = d(2019, 1, 1) + chrono::Duration::days(start);
            let due = made + chrono::Duration::days(len);
            let since = behind_since(cycle, made, due, Some(p));
            let mut day = made;
            while day <= due + chrono::Duration::days(200) {
                let behind = expected_share(cycle, made, due, day).is_some_and(|e| p < e);
                prop_assert_eq!(behind, is_behind(since, day), "{} {:?} {}", day, since, p);
                day += chrono::Duration::days(1);
            }
        }
    }
}
