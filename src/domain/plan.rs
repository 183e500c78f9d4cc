//! Plans (年度计划), their task tree, and the numbering the office's tables use.

use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The life of a plan: drafted, published to the units, closed at the end.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanState {
    /// Being drawn up: the task tree may change; units do not see it yet.
    Draft,
    /// Sent to the units: they see their assignments and report.
    Published,
    /// Finished: read-only.
    Closed,
}

crate::stored_as_text!(PlanState);

impl PlanState {
    /// Every state.
    pub const ALL: [PlanState; 3] = [PlanState::Draft, PlanState::Published, PlanState::Closed];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanState::Draft => "draft",
            PlanState::Published => "published",
            PlanState::Closed => "closed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The state after publishing, if allowed.
    pub fn publish(self) -> Result<Self, &'static str> {
        match self {
            PlanState::Draft => Ok(PlanState::Published),
            _ => Err("only a draft plan can be published"),
        }
    }

    /// The state after closing, if allowed.
    pub fn close(self) -> Result<Self, &'static str> {
        match self {
            PlanState::Published => Ok(PlanState::Closed),
            _ => Err("only a published plan can be closed"),
        }
    }

    /// May the task tree and assignments change?
    pub fn is_open(self) -> bool {
        self != PlanState::Closed
    }
}

/// The three levels of the task tree.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemLevel {
    /// 一、依法全面履行政府职能
    Section,
    /// 1．深化行政审批制度改革
    Task,
    /// （1）具体措施
    Measure,
}

crate::stored_as_text!(ItemLevel);

impl ItemLevel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemLevel::Section => "section",
            ItemLevel::Task => "task",
            ItemLevel::Measure => "measure",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [ItemLevel::Section, ItemLevel::Task, ItemLevel::Measure]
            .into_iter()
            .find(|l| l.as_str() == s)
    }

    /// The level a parent of this level has.
    pub fn parent(self) -> Option<ItemLevel> {
        match self {
            ItemLevel::Section => None,
            ItemLevel::Task => Some(ItemLevel::Section),
            ItemLevel::Measure => Some(ItemLevel::Task),
        }
    }

    /// How the document writes an item's number before its title: `一、`, `1．`, `（1）`.
    pub fn label(self, number: &str) -> String {
        match self {
            ItemLevel::Section => format!("{number}、"),
            ItemLevel::Task => format!("{number}．"),
            ItemLevel::Measure => format!("（{number}）"),
        }
    }
}

const CHINESE_DIGITS: [char; 10] = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];

/// Splits a heading as the office writes it into its number and title:
/// `一、依法…` (section), `1．深化…` or `1.深化…` (task), `（1）最大…` or `(1)最大…` (measure).
pub fn split_heading(level: ItemLevel, text: &str) -> Option<(String, String)> {
    let text = text.trim();
    let (number, rest) = match level {
        ItemLevel::Section => {
            let end = text.find('、')?;
            let n = &text[..end];
            if n.is_empty() || !n.chars().all(|c| CHINESE_DIGITS.contains(&c)) {
                return None;
            }
            (n.to_owned(), &text[end + '、'.len_utf8()..])
        }
        ItemLevel::Task => {
            let digits: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
            let rest = &text[digits.len()..];
            let rest = rest.strip_prefix('．').or_else(|| rest.strip_prefix('.'))?;
            if digits.is_empty() {
                return None;
            }
            (digits, rest)
        }
        ItemLevel::Measure => {
            let rest = text.strip_prefix('（').or_else(|| text.strip_prefix('('))?;
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            let rest = &rest[digits.len()..];
            let rest = rest.strip_prefix('）').or_else(|| rest.strip_prefix(')'))?;
            if digits.is_empty() {
                return None;
            }
            (digits, rest)
        }
    };
    let title = rest.trim();
    (!title.is_empty()).then(|| (number, title.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_split_into_number_and_title() {
        assert_eq!(
            split_heading(ItemLevel::Section, "一、依法全面履行政府职能"),
            Some(("一".into(), "依法全面履行政府职能".into()))
        );
        assert_eq!(
            split_heading(ItemLevel::Task, "12．提高政府规章制定的公众参与度。"),
            Some(("12".into(), "提高政府规章制定的公众参与度。".into()))
        );
        assert_eq!(
            split_heading(ItemLevel::Measure, "（133）认真开展"),
            Some(("133".into(), "认真开展".into()))
        );
        assert_eq!(split_heading(ItemLevel::Measure, "认真开展"), None);
        assert_eq!(split_heading(ItemLevel::Task, "一、x"), None);
    }

    #[test]
    fn labels_rebuild_the_heading() {
        for (level, text) in [
            (ItemLevel::Section, "八、组织保障和落实机制"),
            (ItemLevel::Task, "44．加强督促检查。"),
            (ItemLevel::Measure, "（7）建立健全基层“点菜放权”机制"),
        ] {
            let (n, t) = split_heading(level, text).unwrap();
            assert_eq!(format!("{}{}", level.label(&n), t), text);
        }
    }

    #[test]
    fn plans_move_forward_only() {
        assert_eq!(PlanState::Draft.publish(), Ok(PlanState::Published));
        assert!(PlanState::Published.publish().is_err());
        assert_eq!(PlanState::Published.close(), Ok(PlanState::Closed));
        assert!(PlanState::Draft.close().is_err());
        assert!(!PlanState::Closed.is_open());
    }
}
