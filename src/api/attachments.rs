//! Evidence files (佐证材料, `/reports/{id}/attachments`, `/attachments/{id}`): upload to a
//! draft or returned report (multipart, part `file`), list, download, remove. Uploads stream
//! to the file storage: never held whole in memory, typed by their content, hashed (SHA-256)
//! and measured as they arrive, refused past the limits with a problem naming the limit.

use super::extract::{Caller, CallerToken, CountQuery, Query};
use crate::app::AppState;
use crate::domain::evidence::{self, ACCEPTED};
use crate::domain::ids::{ReportId, UnitId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::service::{self, attachments::Limits};
use crate::store::attachments::{Attachment, NewAttachment};
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::ToSchema;

/// An evidence file.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 7, "report_id": 42, "unit_id": 3, "file_name": "培训签到表.pdf", "size": 182044,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "content_type": "application/pdf", "uploaded_at": "2019-11-20T08:30:00Z", "uploaded_by": 12}))]
pub struct AttachmentView {
    /// The file's id (download it at `/attachments/{id}/content`).
    pub id: i64,
    /// The report it belongs to.
    pub report_id: ReportId,
    /// The unit whose report it is.
    pub unit_id: UnitId,
    /// The name it was uploaded with (given back on download).
    pub file_name: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// The type its content was found to be.
    pub content_type: String,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// Who uploaded it.
    pub uploaded_by: Option<UserId>,
}

impl From<Attachment> for AttachmentView {
    fn from(a: Attachment) -> Self {
        AttachmentView {
            id: a.id,
            report_id: a.report_id,
            unit_id: a.unit_id,
            file_name: a.file_name,
            size: a.size,
            sha256: a.sha256,
            content_type: a.content_type,
            uploaded_at: a.uploaded_at.and_utc(),
            uploaded_by: a.uploaded_by,
        }
    }
}

/// A report's files.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentList {
    /// Oldest first.
    pub items: Vec<AttachmentView>,
    /// Always `null`: the whole list fits in one answer (the shape of every list).
    #[schema(value_type = Option<String>, example = json!(null))]
    pub next_cursor: Option<String>,
    /// With `count=true` only: the number of items.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 3, nullable = false)]
    pub total: Option<i64>,
}

/// The multipart form of an upload (for the document only): the one part `file`.
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file (PDF, DOCX, XLSX, DOC, XLS, WPS, OFD, JPEG, PNG or ZIP by content).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn limits(state: &AppState) -> Limits {
    Limits {
        per_file: state.settings.attachment_max_bytes,
        per_report: state.settings.attachment_report_max_bytes,
    }
}

/// Chunks are written to the spool file in batches of this size, on the blocking pool.
const BATCH: usize = 1 << 20;

/// Add an evidence file to a draft or returned report of the caller's unit.
///
/// `multipart/form-data` with the file in the part `file` (its `filename` is kept for
/// download). The type is told by the content (PDF, DOCX, XLSX, DOC, XLS, WPS, OFD, JPEG, PNG,
/// ZIP), never by the name or the part's content type. Files beyond
/// `DUBAN_ATTACHMENT_MAX_BYTES` (default 20 MiB), or that would take the report's files past
/// `DUBAN_ATTACHMENT_REPORT_MAX_BYTES` (default 100 MiB), are refused with 413 naming the limit.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The report's id")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The file as stored", body = AttachmentView, headers(("Location" = String, description = "Its download address"))),
        (status = 404, description = "No such report, or not one the caller may see"),
        (status = 409, description = "The report is submitted or accepted: its files cannot change"),
        (status = 413, description = "The file, or the report's files together, past a limit (named)"),
        (status = 415, description = "Not multipart, or the file's content is of a type not accepted"),
        (status = 422, description = "No part `file`, an empty file, or no file name"),
    )
)]
#[post("/reports/{id}/attachments")]
pub async fn upload_attachment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    payload: Result<Multipart, actix_web::Error>,
) -> ApiResult<HttpResponse> {
    let (report, ctx) = (ReportId(id.into_inner()), caller.ctx());
    let mut form = payload.map_err(|_| {
        ApiError::UnsupportedMediaType(
            "send the file as multipart/form-data in the part `file`".into(),
        )
    })?;
    let lim = limits(&state);
    let check = ctx.clone();
    let room = state
        .db
        .run(move |c| service::attachments::room(c, &check, report, lim))
        .await?;
    let mut received = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_form)?;
        if field.name() != Some("file") {
            // Other parts are read past and ignored, within the same limit.
            let mut skipped = 0u64;
            while let Some(chunk) = field.next().await {
                skipped += chunk.map_err(bad_form)?.len() as u64;
                if skipped > room {
                    return Err(refused_size(room, lim));
                }
            }
            continue;
        }
        if received.is_some() {
            return Err(ApiError::invalid("file", "send one file per request"));
        }
        // `filename*` (RFC 5987) when a client sends it, else `filename` (UTF-8, as browsers
        // send it).
        let raw_name = field
            .content_disposition()
            .and_then(|d| {
                d.get_filename_ext()
                    .and_then(|x| String::from_utf8(x.value.clone()).ok())
                    .or_else(|| d.get_filename().map(str::to_owned))
            })
            .unwrap_or_default();
        let name = evidence::clean_file_name(&raw_name)
            .ok_or_else(|| ApiError::invalid("file", "give the file a name (filename=…)"))?;
        let mut upload = state.settings.storage.begin()?;
        let mut buf: Vec<u8> = Vec::with_capacity(BATCH);
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad_form)?;
            if upload.size() + (buf.len() + chunk.len()) as u64 > room {
                return Err(refused_size(room, lim));
            }
            buf.extend_from_slice(&chunk);
            if buf.len() >= BATCH {
                let data = std::mem::take(&mut buf);
                upload = web::block(move || upload.write(&data).map(|_| upload))
                    .await
                    .map_err(ApiError::internal)?
                    .map_err(storage_error)?;
            }
        }
        let done = web::block(move || {
            upload.write(&buf)?;
            upload.finish()
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(storage_error)?;
        received = Some((name, done));
    }
    let (name, file) =
        received.ok_or_else(|| ApiError::invalid("file", "send the file in the part `file`"))?;
    if file.size == 0 {
        return Err(ApiError::invalid("file", "the file is empty"));
    }
    let kind = evidence::sniff(&file.head, &name).ok_or_else(|| ApiError::FileTypeRefused {
        field: "file".into(),
        detail: format!("the file's content is not {ACCEPTED}"),
    })?;
    let key = crate::storage::new_key();
    state.settings.storage.store(&file, &key).await?;
    let row = NewAttachment {
        report_id: report,
        unit_id: UnitId(0),
        file_name: name,
        content_type: kind.content_type().to_owned(),
        size: i64::try_from(file.size).unwrap_or(i64::MAX),
        sha256: file.sha256.clone(),
        storage_key: key.clone(),
        uploaded_by: None,
        uploaded_at: ctx.now,
    };
    let recorded = state
        .db
        .run(move |c| service::attachments::record(c, &ctx, report, row, lim))
        .await;
    let a = match recorded {
        Ok(a) => a,
        Err(e) => {
            // No row: the object goes too (housekeeping catches it if this fails).
            let _ = state.settings.storage.delete(&key).await;
            return Err(e);
        }
    };
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/attachments/{}/content", a.id)))
        .json(AttachmentView::from(a)))
}

fn bad_form(e: actix_multipart::MultipartError) -> ApiError {
    use actix_multipart::MultipartError as E;
    match e {
        E::ContentTypeMissing
        | E::ContentTypeParse
        | E::ContentTypeIncompatible
        | E::BoundaryMissing => ApiError::UnsupportedMediaType(
            "send the file as multipart/form-data in the part `file`".into(),
        ),
        e => ApiError::BadRequest {
            detail: format!("the multipart body could not be read: {e}"),
            errors: vec![],
        },
    }
}

fn storage_error(e: std::io::Error) -> ApiError {
    ApiError::Unavailable(format!("file storage: {e}"))
}

/// The refusal of a file past `room` bytes: the per-file limit, or what the report has left.
fn refused_size(room: u64, lim: Limits) -> ApiError {
    if room >= lim.per_file {
        service::attachments::too_large("per_file", lim.per_file)
    } else {
        service::attachments::too_large("per_report", lim.per_report)
    }
}

/// A report's evidence files, as the caller may see them: its own unit the working copy;
/// the office, viewers and the lead unit those of the revision last sent.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The report's id"), CountQuery),
    responses(
        (status = 200, description = "The files", body = AttachmentList),
        (status = 404, description = "No such report, or not one the caller may see"),
    )
)]
#[get("/reports/{id}/attachments")]
pub async fn list_attachments(
    state: web::Data<AppState>,
    caller: CallerToken,
    id: web::Path<i64>,
    query: Query<CountQuery>,
) -> ApiResult<web::Json<AttachmentList>> {
    let report = ReportId(id.into_inner());
    let rows = state
        .db
        .read(caller.user_id(), move |c| {
            let ctx = caller.ctx(c)?;
            service::attachments::list(c, &ctx, report)
        })
        .await?;
    Ok(web::Json(AttachmentList {
        total: query.0.wants_count().then_some(rows.len() as i64),
        items: rows.into_iter().map(AttachmentView::from).collect(),
        next_cursor: None,
    }))
}

/// Download an evidence file, byte for byte as uploaded, with its name (RFC 6266 / 5987
/// `Content-Disposition`) and its SHA-256 in `Digest`-style header `X-Checksum-SHA256`.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Disposition" = String, description = "attachment; filename=…; filename*=UTF-8''…"),
                    ("X-Checksum-SHA256" = String, description = "SHA-256 of the bytes, hex"))),
        (status = 404, description = "No such file, or not one the caller may see"),
    )
)]
#[get("/attachments/{id}/content")]
pub async fn download_attachment(
    state: web::Data<AppState>,
    caller: CallerToken,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let a = state
        .db
        .read(caller.user_id(), move |c| {
            let ctx = caller.ctx(c)?;
            service::attachments::get(c, &ctx, id)
        })
        .await?;
    let body = state.settings.storage.open(&a.storage_key).await?;
    Ok(HttpResponse::Ok()
        .content_type(a.content_type.as_str())
        .insert_header((
            "Content-Disposition",
            evidence::content_disposition(&a.file_name),
        ))
        .insert_header(("X-Checksum-SHA256", a.sha256.clone()))
        .insert_header((header::ETAG, format!("\"{}\"", a.sha256)))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .no_chunking(u64::try_from(a.size).unwrap_or(0))
        .streaming(body))
}

/// Remove an evidence file from a draft or returned report of the caller's unit. A file the
/// report was already sent with stays in that revision.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The file's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such file, or not one the caller may see"),
        (status = 409, description = "The report is submitted or accepted, or the file is no longer in it"),
    )
)]
#[delete("/attachments/{id}")]
pub async fn delete_attachment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, ctx) = (id.into_inner(), caller.ctx());
    let gone = state
        .db
        .run(move |c| service::attachments::remove(c, &ctx, id))
        .await?;
    if let Some(key) = gone {
        // The row is gone; the bytes follow (housekeeping removes them if this fails).
        if let Err(e) = state.settings.storage.delete(&key).await {
            tracing::warn!(error = %e, key, "an evidence file's bytes were left for housekeeping");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}
