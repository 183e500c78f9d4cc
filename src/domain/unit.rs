//! Units (单位) and their kinds.

use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What sort of body a unit is.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// The coordinating office for the rule of law (依法治市办).
    CoordinatingOffice,
    /// A city-level department (市级部门), e.g. 市司法局.
    CityDepartment,
    /// A district or county government (区县政府).
    DistrictGovernment,
    /// A party organ (党委部门), e.g. 市委组织部.
    PartyOrgan,
    /// A court or procuratorate (市高法院, 市检察院).
    Judicial,
    /// Anything else (research institutes, associations, …).
    Other,
}

crate::stored_as_text!(UnitKind);

impl UnitKind {
    /// Every kind.
    pub const ALL: [UnitKind; 6] = [
        UnitKind::CoordinatingOffice,
        UnitKind::CityDepartment,
        UnitKind::DistrictGovernment,
        UnitKind::PartyOrgan,
        UnitKind::Judicial,
        UnitKind::Other,
    ];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::CoordinatingOffice => "coordinating_office",
            UnitKind::CityDepartment => "city_department",
            UnitKind::DistrictGovernment => "district_government",
            UnitKind::PartyOrgan => "party_organ",
            UnitKind::Judicial => "judicial",
            UnitKind::Other => "other",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A unit name or alias, trimmed, with inner whitespace removed (Chinese names carry none) and
/// full-width spaces folded; `None` when empty or longer than 100 characters.
pub fn normalize_name(raw: &str) -> Option<String> {
    let name: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect();
    let len = name.chars().count();
    (1..=100).contains(&len).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_spaces() {
        assert_eq!(
            normalize_name(" 市城管局\u{3000}").as_deref(),
            Some("市城管局")
        );
        assert_eq!(normalize_name("市 司法 局").as_deref(), Some("市司法局"));
        assert_eq!(normalize_name("   "), None);
        assert_eq!(normalize_name(&"局".repeat(101)), None);
    }

    #[test]
    fn kinds_round_trip() {
        for k in UnitKind::ALL {
            assert_eq!(UnitKind::parse(k.as_str()), Some(k));
        }
    }
}
