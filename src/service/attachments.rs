//! Evidence files (佐证材料) on reports, visible with exactly the report's rules: a unit reads
//! its own report's working copy, files and all; everyone else allowed to read the report reads
//! the files of the revision it was last sent as, and nothing of a report never sent. Files are
//! added and removed only while the report can be edited (a draft, or a returned report), by
//! whoever may edit it; a file the report was sent with stays in that revision.

use super::Ctx;
use crate::auth::policy;
use crate::db::{write_tx, AnyConnection};
use crate::domain::evidence::Seen;
use crate::domain::ids::ReportId;
use crate::error::{ApiError, ApiResult};
use crate::store::attachments::{self, Attachment, NewAttachment};
use crate::store::{audit, reports};
use serde_json::json;
use std::collections::HashMap;

fn not_found(what: impl std::fmt::Display) -> ApiError {
    ApiError::NotFound(format!("no {what}"))
}

/// Which of a report's files the caller sees ([`Seen::by`]; 404 for a report it may not read).
fn seen_files(c: &mut AnyConnection, ctx: &Ctx, id: ReportId) -> ApiResult<Seen> {
    let reader = policy::report_reader(&ctx.principal)?;
    let r = reports::find_for(c, id, reader)?.ok_or_else(|| not_found(format!("report {id}")))?;
    Seen::by(reader, r.unit_id, reports::sent_revision(c, id)?)
        .ok_or_else(|| not_found(format!("report {id}")))
}

/// The names of the files each of these reports shows `reader` (the reports as that reader
/// sees them), for the documents that list an answer's evidence.
pub fn names_seen(
    c: &mut AnyConnection,
    reader: reports::Reader,
    shown: &[reports::Report],
) -> ApiResult<HashMap<ReportId, Vec<String>>> {
    let ids: Vec<ReportId> = shown.iter().map(|r| r.id).collect();
    let sent = reports::sent_revisions(c, &ids)?;
    let owners: HashMap<ReportId, crate::domain::ids::UnitId> =
        shown.iter().map(|r| (r.id, r.unit_id)).collect();
    let mut out: HashMap<ReportId, Vec<String>> = HashMap::new();
    for a in attachments::of_reports(c, &ids)? {
        let seen = owners
            .get(&a.report_id)
            .and_then(|o| Seen::by(reader, *o, sent.get(&a.report_id).copied()));
        if seen.is_some_and(|s| s.holds(a.first_revision, a.last_revision, a.removed_at.is_some()))
        {
            out.entry(a.report_id).or_default().push(a.file_name);
        }
    }
    Ok(out)
}

/// A report's files as the caller sees them, oldest first.
pub fn list(c: &mut AnyConnection, ctx: &Ctx, report: ReportId) -> ApiResult<Vec<Attachment>> {
    let which = seen_files(c, ctx, report)?;
    Ok(attachments::of_report(c, report, which)?)
}

/// A file the caller may download: one of the report's files it sees (its own unit also the
/// earlier files of its sent revisions).
pub fn get(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<Attachment> {
    let a = attachments::find(c, id)?.ok_or_else(|| not_found(format!("attachment {id}")))?;
    // Its own unit may read every file of its report, those of earlier revisions too.
    let visible = match seen_files(c, ctx, a.report_id) {
        Ok(Seen::WorkingCopy) => true,
        Ok(seen) => seen.holds(a.first_revision, a.last_revision, a.removed_at.is_some()),
        Err(ApiError::NotFound(_)) => false,
        Err(e) => return Err(e),
    };
    if visible {
        Ok(a)
    } else {
        Err(not_found(format!("attachment {id}")))
    }
}

/// The limits on evidence files.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes per file.
    pub per_file: u64,
    /// Bytes in a report's working copy.
    pub per_report: u64,
}

/// Before a file is received: the report can take files from the caller; returns the bytes
/// it may still take (the smaller of the per-file limit and what the report has left).
pub fn room(c: &mut AnyConnection, ctx: &Ctx, report: ReportId, limits: Limits) -> ApiResult<u64> {
    super::reports::editable(c, ctx, report)?;
    let used = u64::try_from(attachments::working_copy_bytes(c, report)?).unwrap_or(0);
    let left = limits.per_report.saturating_sub(used);
    if left == 0 {
        return Err(too_large("per_report", limits.per_report));
    }
    Ok(left.min(limits.per_file))
}

/// The 413 of a file past a limit, naming it: the file's own, or its report's in all.
pub fn too_large(which: &str, limit: u64) -> ApiError {
    ApiError::FileTooLarge {
        field: "file".into(),
        limit,
        setting: if which == "per_report" {
            "DUBAN_ATTACHMENT_REPORT_MAX_BYTES: the files of one report together"
        } else {
            "DUBAN_ATTACHMENT_MAX_BYTES: one file"
        },
    }
}

/// A file received and stored under its key: its row, in the same transaction as the checks
/// (the report may have been sent, or filled up by another upload, meanwhile).
pub fn record(
    c: &mut AnyConnection,
    ctx: &Ctx,
    report: ReportId,
    file: NewAttachment,
    limits: Limits,
) -> ApiResult<Attachment> {
    write_tx(c, |c| {
        reports::lock(c, report)?;
        let r = super::reports::editable(c, ctx, report)?;
        let used = u64::try_from(attachments::working_copy_bytes(c, report)?).unwrap_or(0);
        let size = u64::try_from(file.size).unwrap_or(u64::MAX);
        if used.saturating_add(size) > limits.per_report {
            return Err(too_large("per_report", limits.per_report));
        }
        let row = NewAttachment {
            report_id: report,
            unit_id: r.unit_id,
            uploaded_by: Some(ctx.principal.user_id),
            uploaded_at: ctx.now,
            ..file
        };
        let a = attachments::insert(c, &row)?;
        audit::record(
            c,
            &ctx.actor,
            "attachment.add",
            "report",
            Some(report.0),
            None,
            Some(&view(&a)),
        )?;
        Ok(a)
    })
}

fn view(a: &Attachment) -> serde_json::Value {
    json!({"attachment_id": a.id, "file_name": a.file_name, "size": a.size, "sha256": a.sha256})
}

/// Removes a file from a draft or returned report; returns the storage key to delete when the
/// file was never sent (a sent file stays in its revisions).
pub fn remove(c: &mut AnyConnection, ctx: &Ctx, id: i64) -> ApiResult<Option<String>> {
    write_tx(c, |c| {
        let report = get(c, ctx, id)?.report_id;
        reports::lock(c, report)?;
        // Read again under the lock: a concurrent removal or sending may have come first.
        let a = get(c, ctx, id)?;
        let r = super::reports::editable(c, ctx, a.report_id)?;
        if a.removed_at.is_some() {
            // An earlier revision's file, already out of the working copy.
            return Err(ApiError::Conflict {
                detail: "the file is no longer in the report; the revisions that had it keep it"
                    .into(),
                field: None,
            });
        }
        let sent = reports::sent_revision(c, r.id)?;
        let gone = attachments::remove(c, &a, sent, ctx.principal.user_id, ctx.now)?;
        audit::record(
            c,
            &ctx.actor,
            "attachment.remove",
            "report",
            Some(a.report_id.0),
            Some(&view(&a)),
            None,
        )?;
        Ok(gone.then_some(a.storage_key))
    })
}
