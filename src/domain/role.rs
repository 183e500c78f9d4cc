//! Roles, and the names of the scopes a department system's service account may hold.

use super::scope::Scope;
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

/// Reading the stored column: an unknown name is an error, never a default role.
impl TryFrom<String> for Role {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Role::parse(&s).ok_or_else(|| format!("stored role {s:?} is not a role"))
    }
}

/// The names of every scope, in canonical order (for documents and defaults).
pub const SERVICE_SCOPES: [&str; 7] = [
    Scope::ALL[0].as_str(),
    Scope::ALL[1].as_str(),
    Scope::ALL[2].as_str(),
    Scope::ALL[3].as_str(),
    Scope::ALL[4].as_str(),
    Scope::ALL[5].as_str(),
    Scope::ALL[6].as_str(),
];

/// The names of the scopes a service account gets when none are named.
pub const DEFAULT_SERVICE_SCOPES: [&str; 3] = [
    Scope::DEFAULT[0].as_str(),
    Scope::DEFAULT[1].as_str(),
    Scope::DEFAULT[2].as_str(),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scope::ScopeSet;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn an_unknown_stored_role_is_an_error() {
        assert_eq!(Role::try_from("viewer".to_string()), Ok(Role::Viewer));
        assert!(Role::try_from("superuser".to_string()).is_err());
        assert!(Role::try_from(String::new()).is_err());
    }

    #[test]
    fn the_scope_names_follow_the_enum() {
        assert_eq!(SERVICE_SCOPES.len(), Scope::ALL.len());
        assert!(SERVICE_SCOPES.iter().all(|s| Scope::parse(s).is_some()));
        assert_eq!(
            DEFAULT_SERVICE_SCOPES.join(" "),
            ScopeSet::from_iter(Scope::DEFAULT).to_string()
        );
    }
}
