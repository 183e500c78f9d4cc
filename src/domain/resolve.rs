//! Resolving the unit strings of the office's tables (牵头单位, 参加单位) into units.
//!
//! A cell such as `市司法局、市政府督查办等市级有关部门，区县政府按职责分工负责` names units, aliases
//! of units, groups (expanded to their members), a unit together with a group (`X等Y`), and the
//! qualifier 按职责分工负责 ("each according to its duties", once misspelt 按职责分工职责), which
//! applies to the whole cell. Every piece is resolved by one named rule, so an import can report
//! how each string was understood.

use crate::domain::ids::UnitId;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The qualifier and its known misspelling.
pub const BY_DUTIES: [&str; 2] = ["按职责分工负责", "按职责分工职责"];

/// How one piece of a cell was understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The exact name of a unit.
    ExactName,
    /// An alias of a unit (市城管局 → 市城市管理局).
    Alias,
    /// A group, expanded to its members (区县政府 → the 38 district and county governments).
    Group,
    /// A unit named together with a group (市公安局等市级有关部门).
    UnitWithGroup,
    /// Not understood.
    Unresolved,
}

/// The names the resolver knows: units (by name and alias) and groups (by name and alias).
#[derive(Debug, Default, Clone)]
pub struct Directory {
    /// Unit name → unit.
    pub names: HashMap<String, UnitId>,
    /// Unit alias → unit.
    pub aliases: HashMap<String, UnitId>,
    /// Group name or alias → (group id, members in order).
    pub groups: HashMap<String, (i64, Vec<UnitId>)>,
}

/// One resolved piece of a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The piece as written (after splitting and dropping the qualifier).
    pub text: String,
    /// The rule that resolved it.
    pub rule: Rule,
    /// The units it stands for, in order.
    pub units: Vec<UnitId>,
    /// The group it expanded, if any.
    pub group: Option<i64>,
}

/// A resolved cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// True when the cell carried 按职责分工负责 (or its misspelling).
    pub by_duties: bool,
    /// Its pieces in order.
    pub pieces: Vec<Piece>,
}

impl Cell {
    /// The units of the cell in order, each once, with the group it came from (if any).
    pub fn units(&self) -> Vec<(UnitId, Option<i64>)> {
        let mut out: Vec<(UnitId, Option<i64>)> = Vec::new();
        for p in &self.pieces {
            for (i, u) in p.units.iter().enumerate() {
                if out.iter().any(|(x, _)| x == u) {
                    continue;
                }
                // In `X等Y` the first unit is X itself, the rest come from the group.
                let via = match p.rule {
                    Rule::Group => p.group,
                    Rule::UnitWithGroup if i > 0 => p.group,
                    _ => None,
                };
                out.push((*u, via));
            }
        }
        out
    }

    /// The pieces nobody could resolve.
    pub fn unresolved(&self) -> impl Iterator<Item = &str> {
        self.pieces
            .iter()
            .filter(|p| p.rule == Rule::Unresolved)
            .map(|p| p.text.as_str())
    }
}

impl Directory {
    fn unit(&self, name: &str) -> Option<(UnitId, Rule)> {
        if let Some(id) = self.names.get(name) {
            return Some((*id, Rule::ExactName));
        }
        self.aliases.get(name).map(|id| (*id, Rule::Alias))
    }

    fn piece(&self, token: &str) -> Piece {
        let token = token.trim_end_matches('等');
        if let Some((id, rule)) = self.unit(token) {
            return Piece {
                text: token.into(),
                rule,
                units: vec![id],
                group: None,
            };
        }
        if let Some((gid, members)) = self.groups.get(token) {
            return Piece {
                text: token.into(),
                rule: Rule::Group,
                units: members.clone(),
                group: Some(*gid),
            };
        }
        if let Some((left, right)) = token.split_once('等') {
            if let (Some((id, _)), Some((gid, members))) = (self.unit(left), self.groups.get(right))
            {
                let mut units = vec![id];
                units.extend(members.iter().filter(|m| **m != id));
                return Piece {
                    text: token.into(),
                    rule: Rule::UnitWithGroup,
                    units,
                    group: Some(*gid),
                };
            }
        }
        Piece {
            text: token.into(),
            rule: Rule::Unresolved,
            units: vec![],
            group: None,
        }
    }

    /// Resolves one cell of the table.
    pub fn resolve(&self, cell: &str) -> Cell {
        let mut text: String = cell
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
            .collect();
        let mut by_duties = false;
        for q in BY_DUTIES {
            if text.contains(q) {
                by_duties = true;
                text = text.replace(q, "");
            }
        }
        let pieces = text
            .split(['、', '，', ',', '；', ';'])
            .map(|t| t.trim_end_matches('等'))
            .filter(|t| !t.is_empty())
            .map(|t| self.piece(t))
            .collect();
        Cell { by_duties, pieces }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Directory {
        let mut d = Directory::default();
        for (i, n) in [
            "市司法局",
            "市公安局",
            "市政府督查办",
            "市城市管理局",
            "市委编办",
        ]
        .iter()
        .enumerate()
        {
            d.names.insert(n.to_string(), UnitId(i as i64 + 1));
        }
        d.aliases.insert("市城管局".into(), UnitId(4));
        d.groups.insert(
            "市级有关部门".into(),
            (
                100,
                vec![UnitId(1), UnitId(2), UnitId(3), UnitId(4), UnitId(5)],
            ),
        );
        d.groups
            .insert("区县政府".into(), (200, vec![UnitId(10), UnitId(11)]));
        d.groups
            .insert("各区县政府".into(), (200, vec![UnitId(10), UnitId(11)]));
        d
    }

    #[test]
    fn names_aliases_and_groups_resolve_by_their_rule() {
        let c = dir().resolve("市司法局、市城管局");
        assert_eq!(
            c.pieces.iter().map(|p| p.rule).collect::<Vec<_>>(),
            vec![Rule::ExactName, Rule::Alias]
        );
        assert_eq!(c.units(), vec![(UnitId(1), None), (UnitId(4), None)]);
        assert!(!c.by_duties);
    }

    #[test]
    fn the_qualifier_applies_to_the_whole_cell_and_its_misspelling_too() {
        let c = dir().resolve("市级有关部门，区县政府按职责分工负责");
        assert!(c.by_duties);
        assert_eq!(c.pieces[1].rule, Rule::Group);
        assert_eq!(c.units().len(), 7);
        assert!(
            dir()
                .resolve("市级有关部门，各区县政府按职责分工职责")
                .by_duties
        );
    }

    #[test]
    fn a_unit_named_with_a_group_comes_first_and_once() {
        let c = dir().resolve("市司法局、市政府督查办等市级有关部门，区县政府按职责分工负责");
        assert_eq!(c.pieces[1].rule, Rule::UnitWithGroup);
        let units = c.units();
        assert_eq!(units[0], (UnitId(1), None));
        assert_eq!(units[1], (UnitId(3), None));
        assert!(units.contains(&(UnitId(2), Some(100))));
        assert_eq!(units.iter().filter(|(u, _)| *u == UnitId(1)).count(), 1);
    }

    #[test]
    fn a_trailing_etc_is_dropped_and_the_unknown_is_reported() {
        let c = dir().resolve("市委编办、市司法局等");
        assert!(c.pieces.iter().all(|p| p.rule == Rule::ExactName));
        let c = dir().resolve("市财政局、市司法局");
        assert_eq!(c.unresolved().collect::<Vec<_>>(), vec!["市财政局"]);
        assert!(dir().resolve("").pieces.is_empty());
    }
}
