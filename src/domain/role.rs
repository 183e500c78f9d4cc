//! Roles and the scopes a department system's service account may hold.

use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an account may do, before the caller's unit narrows it.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// System set-up: units, users, everything.
    Admin,
    /// Staff of the coordinating office (依法治市办): plans, assignments, review, urging, queries.
    Coordinator,
    /// Approves and submits its own unit's reports; manages its unit's users.
    UnitManager,
    /// Drafts its own unit's reports.
    UnitReporter,
    /// Read-only: submitted data, statistics and the audit log (auditors, leadership).
    Viewer,
    /// A department system, authenticated with client credentials, bound to one unit.
    Service,
}

crate::stored_as_text!(Role);

impl Role {
    /// Every role, in order of rising reach.
    pub const ALL: [Role; 6] = [
        Role::Service,
        Role::UnitReporter,
        Role::UnitManager,
        Role::Viewer,
        Role::Coordinator,
        Role::Admin,
    ];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::UnitManager => "unit_manager",
            Role::UnitReporter => "unit_reporter",
            Role::Viewer => "viewer",
            Role::Service => "service",
        }
    }

    /// Parses a stored or sent name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles whose accounts must belong to a unit and act only for it.
    pub fn is_unit_bound(self) -> bool {
        matches!(self, Role::UnitManager | Role::UnitReporter | Role::Service)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Scopes a service account can be granted (OAuth 2.0 `scope`).
pub const SERVICE_SCOPES: [&str; 5] = [
    "assignments:read",
    "reports:read",
    "reports:write",
    "reports:submit",
    "urges:reply",
];

/// The scopes a service account gets when none are named: read and draft, not submit.
pub const DEFAULT_SERVICE_SCOPES: [&str; 3] = ["assignments:read", "reports:read", "reports:write"];

/// Parses a space-separated scope list, keeping the canonical order and dropping repeats.
/// Returns the unknown scope on failure.
pub fn parse_scopes(s: &str) -> Result<Vec<&'static str>, String> {
    let mut wanted = Vec::new();
    for part in s.split_whitespace() {
        match SERVICE_SCOPES.iter().find(|k| **k == part) {
            Some(k) => wanted.push(*k),
            None => return Err(part.to_owned()),
        }
    }
    Ok(SERVICE_SCOPES
        .into_iter()
        .filter(|k| wanted.contains(k))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn scopes_are_canonical_and_checked() {
        assert_eq!(
            parse_scopes("reports:submit reports:read reports:read").unwrap(),
            vec!["reports:read", "reports:submit"]
        );
        assert_eq!(parse_scopes("admin:all").unwrap_err(), "admin:all");
        assert!(parse_scopes("").unwrap().is_empty());
    }
}
