//! Disputes (异议 / 调整申请): a unit states that an assignment is not its responsibility, or
//! that it should lead the measure rather than participate, or the reverse. The office
//! resolves it: it withdraws the assignment, moves it to another unit, changes its role, or
//! rejects the dispute with a reason. This is distinct from answering "not applicable"
//! (不涉及), which stays an answer inside a report.
//!
//! The rules here take no I/O: which disputes a unit in a role may raise, which resolutions
//! are coherent, and what a resolution does to the assignment.

use super::assignment::AssignmentRole;
use super::ids::UnitId;
use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a unit disputes.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisputeKind {
    /// The measure is not this unit's responsibility (非本单位职责).
    NotOurs,
    /// The unit participates but should lead (应由本单位牵头).
    ShouldLead,
    /// The unit leads but should only participate (应为参加单位).
    ShouldParticipate,
}

crate::stored_as_text!(DisputeKind);

impl DisputeKind {
    /// Every kind.
    pub const ALL: [DisputeKind; 3] = [
        DisputeKind::NotOurs,
        DisputeKind::ShouldLead,
        DisputeKind::ShouldParticipate,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeKind::NotOurs => "not_ours",
            DisputeKind::ShouldLead => "should_lead",
            DisputeKind::ShouldParticipate => "should_participate",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The role the unit asks for, when the dispute is about the role.
    pub fn role_asked(self) -> Option<AssignmentRole> {
        match self {
            DisputeKind::NotOurs => None,
            DisputeKind::ShouldLead => Some(AssignmentRole::Lead),
            DisputeKind::ShouldParticipate => Some(AssignmentRole::Participant),
        }
    }
}

/// Where a dispute is.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisputeState {
    /// Raised, not yet resolved (待处理).
    Pending,
    /// Resolved by the office; its `outcome` says how (已处理).
    Resolved,
}

crate::stored_as_text!(DisputeState);

impl DisputeState {
    /// Every state.
    pub const ALL: [DisputeState; 2] = [DisputeState::Pending, DisputeState::Resolved];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeState::Pending => "pending",
            DisputeState::Resolved => "resolved",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// How the office resolved a dispute.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The assignment is withdrawn: it ends (撤销交办).
    Withdraw,
    /// The assignment moves to another unit; the reports its holder wrote stay, naming it
    /// (改由其他单位承办).
    Move,
    /// The unit keeps the assignment in the other role (调整牵头 / 参加).
    ChangeRole,
    /// The dispute is rejected with a reason; the assignment stays as it is (维持原交办).
    Reject,
}

crate::stored_as_text!(Outcome);

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 4] = [
        Outcome::Withdraw,
        Outcome::Move,
        Outcome::ChangeRole,
        Outcome::Reject,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Withdraw => "withdraw",
            Outcome::Move => "move",
            Outcome::ChangeRole => "change_role",
            Outcome::Reject => "reject",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Why a dispute or a resolution is refused, and the field it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The unit already plays the role it asks for (`kind`).
    AlreadyInRole(AssignmentRole),
    /// A move names no unit (`unit_id`).
    NoTarget,
    /// A move names the unit that holds the assignment already (`unit_id`).
    SameHolder,
    /// A role change names no role and the dispute implies none (`role`).
    NoRole,
    /// A role change to the role the assignment has already (`role`).
    SameRole,
    /// A rejection gives no reason (`reason`).
    NoReason,
    /// A field that belongs to another outcome (`field`).
    NotForOutcome {
        field: &'static str,
        outcome: Outcome,
    },
}

impl Refusal {
    /// The field the refusal names.
    pub fn field(&self) -> &'static str {
        match self {
            Refusal::AlreadyInRole(_) => "kind",
            Refusal::NoTarget | Refusal::SameHolder => "unit_id",
            Refusal::NoRole | Refusal::SameRole => "role",
            Refusal::NoReason => "reason",
            Refusal::NotForOutcome { field, .. } => field,
        }
    }

    /// The message for the caller.
    pub fn message(&self) -> String {
        match self {
            Refusal::AlreadyInRole(r) => format!(
                "the unit is the {} on this measure already; dispute what is wrong",
                role_name(*r)
            ),
            Refusal::NoTarget => "a move names the unit that takes the assignment over".into(),
            Refusal::SameHolder => "the unit holds the assignment already".into(),
            Refusal::NoRole => "name the role the assignment takes (lead or participant)".into(),
            Refusal::SameRole => "the assignment has this role already".into(),
            Refusal::NoReason => "a rejection gives the unit its reason".into(),
            Refusal::NotForOutcome { outcome, .. } => {
                format!("is not used when the outcome is {}", outcome.as_str())
            }
        }
    }
}

fn role_name(r: AssignmentRole) -> &'static str {
    match r {
        AssignmentRole::Lead => "lead unit",
        AssignmentRole::Participant => "participating unit",
    }
}

/// May a unit holding an assignment in `role` raise a dispute of `kind`? "Not ours" always;
/// a role dispute only when it asks for the role it does not have.
pub fn may_raise(kind: DisputeKind, role: AssignmentRole) -> Result<(), Refusal> {
    match kind.role_asked() {
        Some(asked) if asked == role => Err(Refusal::AlreadyInRole(role)),
        _ => Ok(()),
    }
}

/// What the office decides, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// How.
    pub outcome: Outcome,
    /// For a move: the unit that takes the assignment over.
    pub unit_id: Option<UnitId>,
    /// For a role change: the new role (default: the one the dispute asks for).
    pub role: Option<AssignmentRole>,
    /// For a rejection: why (required); otherwise an optional note to the unit.
    pub reason: Option<String>,
}

/// What a resolution does to the assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// It ends.
    Withdraw,
    /// It moves to this unit.
    MoveTo(UnitId),
    /// It takes this role.
    Role(AssignmentRole),
    /// Nothing changes.
    Keep,
}

/// Checks a resolution of a dispute of `kind` on an assignment held by `holder` in `role`,
/// and says what it does. A move needs another unit; a role change needs a role other than
/// the current one (by default the one the dispute asks for); a rejection needs a reason;
/// a field meant for another outcome is refused rather than ignored.
pub fn resolve(
    kind: DisputeKind,
    holder: UnitId,
    role: AssignmentRole,
    r: &Resolution,
) -> Result<Effect, Refusal> {
    let stray = |field: &'static str| Refusal::NotForOutcome {
        field,
        outcome: r.outcome,
    };
    if r.unit_id.is_some() && r.outcome != Outcome::Move {
        return Err(stray("unit_id"));
    }
    if r.role.is_some() && r.outcome != Outcome::ChangeRole {
        return Err(stray("role"));
    }
    match r.outcome {
        Outcome::Withdraw => Ok(Effect::Withdraw),
        Outcome::Move => match r.unit_id {
            None => Err(Refusal::NoTarget),
            Some(u) if u == holder => Err(Refusal::SameHolder),
            Some(u) => Ok(Effect::MoveTo(u)),
        },
        Outcome::ChangeRole => match r.role.or(kind.role_asked()) {
            None => Err(Refusal::NoRole),
            Some(new) if new == role => Err(Refusal::SameRole),
            Some(new) => Ok(Effect::Role(new)),
        },
        Outcome::Reject => match r.reason.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => Ok(Effect::Keep),
            _ => Err(Refusal::NoReason),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssignmentRole::{Lead, Participant};

    fn res(outcome: Outcome) -> Resolution {
        Resolution {
            outcome,
            unit_id: None,
            role: None,
            reason: None,
        }
    }

    #[test]
    fn a_unit_disputes_the_role_it_has_not_the_one_it_asks_for() {
        assert_eq!(may_raise(DisputeKind::NotOurs, Lead), Ok(()));
        assert_eq!(may_raise(DisputeKind::NotOurs, Participant), Ok(()));
        assert_eq!(may_raise(DisputeKind::ShouldLead, Participant), Ok(()));
        assert_eq!(may_raise(DisputeKind::ShouldParticipate, Lead), Ok(()));
        let e = may_raise(DisputeKind::ShouldLead, Lead).unwrap_err();
        assert_eq!(e.field(), "kind");
        assert_eq!(
            may_raise(DisputeKind::ShouldParticipate, Participant)
                .unwrap_err()
                .field(),
            "kind"
        );
    }

    #[test]
    fn a_move_names_another_unit() {
        let (a, b) = (UnitId(1), UnitId(2));
        let mut r = res(Outcome::Move);
        assert_eq!(
            resolve(DisputeKind::NotOurs, a, Lead, &r),
            Err(Refusal::NoTarget)
        );
        r.unit_id = Some(a);
        assert_eq!(
            resolve(DisputeKind::NotOurs, a, Lead, &r)
                .unwrap_err()
                .field(),
            "unit_id"
        );
        r.unit_id = Some(b);
        assert_eq!(
            resolve(DisputeKind::NotOurs, a, Lead, &r),
            Ok(Effect::MoveTo(b))
        );
        r.role = Some(Participant);
        assert_eq!(
            resolve(DisputeKind::NotOurs, a, Lead, &r)
                .unwrap_err()
                .field(),
            "role"
        );
    }

    #[test]
    fn a_role_change_defaults_to_the_role_asked_for_and_must_change_it() {
        let a = UnitId(1);
        let r = res(Outcome::ChangeRole);
        assert_eq!(
            resolve(DisputeKind::ShouldLead, a, Participant, &r),
            Ok(Effect::Role(Lead))
        );
        assert_eq!(
            resolve(DisputeKind::NotOurs, a, Participant, &r),
            Err(Refusal::NoRole)
        );
        let to_lead = Resolution {
            role: Some(Lead),
            ..r.clone()
        };
        assert_eq!(
            resolve(DisputeKind::NotOurs, a, Participant, &to_lead),
            Ok(Effect::Role(Lead))
        );
        assert_eq!(
            resolve(DisputeKind::NotOurs, a, Lead, &to_lead),
            Err(Refusal::SameRole)
        );
        let moved = Resolution {
            unit_id: Some(UnitId(2)),
            ..r
        };
        assert_eq!(
            resolve(DisputeKind::ShouldLead, a, Participant, &moved)
                .unwrap_err()
                .field(),
            "unit_id"
        );
    }

    #[test]
    fn a_rejection_gives_its_reason_and_a_withdrawal_ends_the_assignment() {
        let a = UnitId(1);
        let mut r = res(Outcome::Reject);
        assert_eq!(
            resolve(DisputeKind::NotOurs, a, Lead, &r),
            Err(Refusal::NoReason)
        );
        r.reason = Some("  ".into());
        assert_eq!(
            resolve(DisputeKind::NotOurs, a, Lead, &r),
            Err(Refusal::NoReason)
        );
        r.reason = Some("职责清单明确由该单位承担。".into());
        assert_eq!(resolve(DisputeKind::NotOurs, a, Lead, &r), Ok(Effect::Keep));
        assert_eq!(
            resolve(
                DisputeKind::ShouldLead,
                a,
                Participant,
                &res(Outcome::Withdraw)
            ),
            Ok(Effect::Withdraw)
        );
    }

    #[test]
    fn stored_names_read_back() {
        for k in DisputeKind::ALL {
            assert_eq!(DisputeKind::parse(k.as_str()), Some(k));
        }
        for s in DisputeState::ALL {
            assert_eq!(DisputeState::parse(s.as_str()), Some(s));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
    }
}
