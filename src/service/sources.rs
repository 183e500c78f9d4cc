//! Source documents (任务来源): the 文号 measures derive from, and how far along the measures
//! citing one are, across plans and years.

use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::domain::ids::{ItemId, SourceId};
use crate::error::{ApiError, ApiResult};
use crate::store::assignments::{self, Progress};
use crate::store::{audit, plans};
use serde_json::json;
use std::collections::HashMap;

/// One page of the source documents whose 文号 or title contains `q`.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    q: Option<String>,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<plans::Source>> {
    policy::unit_scope(&ctx.principal)?;
    let q = q.filter(|s| !s.trim().is_empty());
    Ok(plans::list_sources(c, q.as_deref(), after, limit)?)
}

/// A source document as the office registers it.
#[derive(Debug, Clone)]
pub struct NewSource {
    /// Its 文号 (white space is dropped).
    pub doc_number: String,
    /// Its title.
    pub title: Option<String>,
    /// Who issued it.
    pub issuer: Option<String>,
}

/// The office registers a source document.
pub fn create(c: &mut AnyConnection, ctx: &Ctx, new: NewSource) -> ApiResult<plans::Source> {
    policy::manage_plans(&ctx.principal)?;
    let number: String = new
        .doc_number
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if number.is_empty() || number.chars().count() > 100 {
        return Err(ApiError::invalid(
            "doc_number",
            "must be 1 to 100 characters",
        ));
    }
    write_tx(c, |c| {
        let (title, issuer) = (new.title.as_deref(), new.issuer.as_deref());
        let id = plans::insert_source(c, &number, title, issuer, ctx.now)?;
        let s = plans::find_source(c, id)?.ok_or_else(|| ApiError::internal("source vanished"))?;
        let after =
            json!({"id": s.id, "doc_number": s.doc_number, "title": s.title, "issuer": s.issuer});
        audit::record(
            c,
            &ctx.actor,
            "source.create",
            "source",
            Some(id.0),
            None,
            Some(&after),
        )?;
        Ok(s)
    })
}

/// A source, and every measure citing it in a plan the caller may see (newest plan first) with
/// its progress.
pub type Trace = (plans::Source, Vec<(plans::Item, plans::Plan, Progress)>);

/// Traces a source document to the measures deriving from it and how far along they are.
pub fn trace(c: &mut AnyConnection, ctx: &Ctx, id: SourceId) -> ApiResult<Trace> {
    policy::unit_scope(&ctx.principal)?;
    let source =
        plans::find_source(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no source {id}")))?;
    let states = policy::plan_states(&ctx.principal);
    let rows = plans::measures_citing(c, id, &states)?;
    let ids: Vec<ItemId> = rows.iter().map(|(m, _)| m.id).collect();
    let progress: HashMap<ItemId, Progress> = assignments::progress_of_measures(c, &ids)?
        .into_iter()
        .collect();
    let measures = rows
        .into_iter()
        .map(|(m, p)| {
            let done = progress.get(&m.id).copied().unwrap_or_default();
            (m, p, done)
        })
        .collect();
    Ok((source, measures))
}
