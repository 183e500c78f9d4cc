//! The scopes a department system's service account may hold (OAuth 2.0 `scope`), parsed at
//! the boundary into [`Scope`] and carried as a typed [`ScopeSet`]; stored and sent as their
//! space-separated names.

use std::collections::BTreeSet;
use std::fmt;

/// One permission a service account may hold, always limited to its own unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read the unit's assignments (and the unit directory).
    AssignmentsRead,
    /// Read the unit's reports.
    ReportsRead,
    /// Draft and edit the unit's reports.
    ReportsWrite,
    /// Submit the unit's reports.
    ReportsSubmit,
    /// Acknowledge and reply to urges sent to the unit.
    UrgesReply,
    /// Answer for the unit's assignments as the unit: sign for them (签收), ask for more time
    /// (延期申请) and dispute them (异议).
    AssignmentsRespond,
    /// Subscribe the unit's webhooks and read their deliveries.
    WebhooksManage,
}

impl Scope {
    /// Every scope, in canonical order.
    pub const ALL: [Scope; 7] = [
        Scope::AssignmentsRead,
        Scope::ReportsRead,
        Scope::ReportsWrite,
        Scope::ReportsSubmit,
        Scope::UrgesReply,
        Scope::AssignmentsRespond,
        Scope::WebhooksManage,
    ];

    /// The scopes a service account gets when none are named: read and draft, not submit.
    pub const DEFAULT: [Scope; 3] = [
        Scope::AssignmentsRead,
        Scope::ReportsRead,
        Scope::ReportsWrite,
    ];

    /// The name stored and sent.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::AssignmentsRead => "assignments:read",
            Scope::ReportsRead => "reports:read",
            Scope::ReportsWrite => "reports:write",
            Scope::ReportsSubmit => "reports:submit",
            Scope::UrgesReply => "urges:reply",
            Scope::AssignmentsRespond => "assignments:respond",
            Scope::WebhooksManage => "webhooks:manage",
        }
    }

    /// Parses one name; `None` when it names no scope.
    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, iterated in canonical order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// The empty set (people: their role, not scopes, limits them).
    pub fn empty() -> Self {
        ScopeSet::default()
    }

    /// Parses a space-separated list, dropping repeats. Returns the first unknown name on
    /// failure.
    pub fn parse(s: &str) -> Result<Self, String> {
        s.split_whitespace()
            .map(|part| Scope::parse(part).ok_or_else(|| part.to_owned()))
            .collect()
    }

    /// True when the set holds the scope.
    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes held by both sets.
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        self.0.intersection(&other.0).copied().collect()
    }

    /// The first scope of `self` missing from `other`.
    pub fn first_missing_from(&self, other: &ScopeSet) -> Option<Scope> {
        self.0.difference(&other.0).next().copied()
    }

    /// The scopes in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// The names in canonical order.
    pub fn names(&self) -> Vec<String> {
        self.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        ScopeSet(iter.into_iter().collect())
    }
}

/// The stored and sent form: names separated by one space, in canonical order.
impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

/// Reading the stored column: an unknown name is an error, never silently dropped.
impl TryFrom<String> for ScopeSet {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        ScopeSet::parse(&s).map_err(|bad| format!("stored scope list holds unknown scope {bad:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_name() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("admin:all"), None);
        assert_eq!(Scope::parse("Reports:Read"), None);
    }

    #[test]
    fn sets_are_canonical_and_checked() {
        let set = ScopeSet::parse("reports:submit reports:read reports:read").unwrap();
        assert_eq!(set.to_string(), "reports:read reports:submit");
        assert!(set.contains(Scope::ReportsRead) && !set.contains(Scope::ReportsWrite));
        assert_eq!(
            ScopeSet::parse("reports:read admin:all").unwrap_err(),
            "admin:all"
        );
        assert!(ScopeSet::parse("").unwrap().is_empty());
        assert!(ScopeSet::try_from("bogus".to_string()).is_err());
    }

    #[test]
    fn intersection_and_missing() {
        let held = ScopeSet::parse("assignments:read reports:read").unwrap();
        let asked = ScopeSet::parse("reports:read reports:submit").unwrap();
        assert_eq!(held.intersection(&asked).to_string(), "reports:read");
        assert_eq!(asked.first_missing_from(&held), Some(Scope::ReportsSubmit));
        assert_eq!(held.first_missing_from(&held), None);
    }
}
