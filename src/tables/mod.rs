//! The summary table in and out: importing the office's table into a plan (with a resolution
//! report of every unit string) and exporting a plan back into the same table.
//!
//! Both run inside the caller's transaction: an import that fails anywhere leaves nothing.

mod export;
mod import;

pub use export::{export_table, Answers};
pub use import::import_table;

use crate::db::AnyConnection;
use crate::domain::assignment::Cycle;
use crate::domain::ids::{GroupId, UnitId, UserId};
use crate::domain::resolve::{Directory, Rule};
use crate::error::ApiResult;
use crate::store::{groups, units};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Resolve and count, write nothing.
    pub dry_run: bool,
    /// Import even when some unit strings cannot be resolved (they are then skipped).
    pub allow_unresolved: bool,
    /// The unit whose answers fill the 工作措施及完成情况 column; they become its submitted
    /// reports. Without it the column is ignored.
    pub answers_unit: Option<UnitId>,
    /// The due date of the assignments made.
    pub due_date: NaiveDate,
    /// Their reporting cycle.
    pub cycle: Cycle,
    /// Who imports (recorded on the reports).
    pub by: Option<UserId>,
    /// When the answers were submitted (the date of the unit's report); default now.
    pub submitted_at: Option<chrono::NaiveDateTime>,
    /// When the task tree and assignments count as made (their standing starts then); default
    /// now.
    pub made_at: Option<chrono::NaiveDateTime>,
}

/// How one distinct unit string of the table was understood.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resolution {
    /// The string as written in a 牵头单位 or 参加单位 cell (split at 、 and ，).
    #[schema(example = "市公安局等市级有关部门")]
    pub text: String,
    /// The rule that resolved it.
    pub rule: Rule,
    /// True when it carried 按职责分工负责 (or the misspelling 按职责分工职责).
    pub by_duties: bool,
    /// The group it expanded, if any.
    #[schema(example = "市级有关部门")]
    pub group: Option<String>,
    /// How many units it stands for.
    pub unit_count: usize,
    /// How many cells it appears in.
    pub occurrences: usize,
}

/// What an import did, or would do.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// True when nothing was written.
    pub dry_run: bool,
    /// Sections in the table.
    pub sections: usize,
    /// Tasks in the table.
    pub tasks: usize,
    /// Measures (rows) in the table.
    pub measures: usize,
    /// Distinct source documents cited.
    pub sources: usize,
    /// Assignments made (lead and participant, groups expanded).
    pub assignments: usize,
    /// Reports made from the answers column.
    pub reports: usize,
    /// Distinct unit strings per rule (exact_name, alias, group, unit_with_group, unresolved).
    pub by_rule: BTreeMap<String, usize>,
    /// Distinct unit strings carrying the qualifier 按职责分工负责.
    pub with_qualifier: usize,
    /// Every distinct unit string and how it was resolved.
    pub resolutions: Vec<Resolution>,
    /// The strings that could not be resolved.
    pub unresolved: Vec<String>,
}

/// Loads the names the resolver knows.
pub fn directory(c: &mut AnyConnection) -> ApiResult<Directory> {
    let mut dir = Directory::default();
    let all_units = units::list_all(
        c,
        &units::UnitFilter {
            active: Some(true),
            ..Default::default()
        },
    )?;
    let ids: Vec<UnitId> = all_units.iter().map(|u| u.id).collect();
    for u in &all_units {
        dir.names.insert(u.name.clone(), u.id);
        if let Some(s) = &u.short_name {
            dir.aliases.entry(s.clone()).or_insert(u.id);
        }
    }
    for (id, aliases) in units::aliases_of(c, &ids)? {
        for a in aliases {
            dir.aliases.insert(a, id);
        }
    }
    let all_groups = groups::all(c)?;
    let gids: Vec<GroupId> = all_groups.iter().map(|g| g.id).collect();
    let members = groups::members_of(c, &gids)?;
    for g in &all_groups {
        dir.groups.insert(
            g.name.clone(),
            (g.id.0, members.get(&g.id).cloned().unwrap_or_default()),
        );
    }
    for (alias, gid) in groups::all_aliases(c)? {
        dir.groups.insert(
            alias,
            (gid.0, members.get(&gid).cloned().unwrap_or_default()),
        );
    }
    Ok(dir)
}
