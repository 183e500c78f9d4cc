//! Evidence files on reports: upload and download byte for byte, visible with exactly the
//! report's rules, typed by content, limited in size, kept with the revisions they were sent
//! with, and nothing left behind by an upload that never reached its row.

use crate::fixtures::*;
use crate::helpers::*;
use sha2::{Digest, Sha256};

/// A PDF-looking file of `len` bytes with varied content.
fn pdf(len: usize, seed: u8) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n".to_vec();
    let mut x = u32::from(seed) + 1;
    while b.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        b.push((x >> 16) as u8);
    }
    b.truncate(len);
    b
}

fn hex_sha256(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

async fn upload(app: &TestApp, token: &str, report: i64, name: &str, bytes: &[u8]) -> Reply {
    app.upload(token, report, name, bytes).await
}

/// Downloads a file: status, headers and the bytes as they came.
async fn download(
    app: &TestApp,
    token: &str,
    id: i64,
) -> (u16, awc::http::header::HeaderMap, Vec<u8>) {
    let mut res = app
        .client
        .get(app.url(&format!("/attachments/{id}/content")))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .expect("request sent");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.body().limit(64 << 20).await.expect("body").to_vec();
    (status, headers, body)
}

fn ids_of(r: &Reply) -> Vec<i64> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {}", r.raw))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

#[actix_rt::test]
async fn a_file_comes_back_byte_for_byte_with_its_name_and_hash() {
    let w = World::builder().without_b().build().await;
    let (app, m) = (&w.app, &w.a.manager.token);
    let draft = app
        .create_report(m, w.a.assignment(), &NewReport::in_progress("已组织培训。"))
        .await;
    let bytes = pdf(3 << 20, 1);
    let up = upload(app, m, draft.id, "培训签到表（2019年）.pdf", &bytes).await;
    assert_eq!(up.status, 201, "{}", up.raw);
    assert_eq!(up.body["file_name"], "培训签到表（2019年）.pdf");
    assert_eq!(up.body["size"], bytes.len());
    assert_eq!(up.body["sha256"], hex_sha256(&bytes));
    assert_eq!(up.body["content_type"], "application/pdf");
    let id = up.body["id"].as_i64().unwrap();
    assert_eq!(
        up.header("Location").as_deref(),
        Some(format!("/api/v1/attachments/{id}/content").as_str())
    );
    let (status, headers, body) = download(app, m, id).await;
    assert_eq!(status, 200);
    assert_eq!(body.len(), bytes.len());
    assert!(body == bytes, "the same bytes");
    assert_eq!(hex_sha256(&body), up.body["sha256"]);
    let header = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
    assert_eq!(header("X-Checksum-SHA256"), hex_sha256(&bytes));
    assert_eq!(header("Content-Type"), "application/pdf");
    let disposition = header("Content-Disposition");
    assert!(
        disposition.contains(
            "filename*=UTF-8''%E5%9F%B9%E8%AE%AD%E7%AD%BE%E5%88%B0%E8%A1%A8%EF%BC%882019%E5%B9%B4%EF%BC%89.pdf"
        ),
        "{disposition}"
    );
    assert!(
        disposition.starts_with("attachment; filename=\""),
        "{disposition}"
    );
    let listed = app
        .get(&format!("/reports/{}/attachments", draft.id), m)
        .await;
    assert_eq!(ids_of(&listed), vec![id]);
}

#[actix_rt::test]
async fn files_are_typed_by_content_and_refused_past_their_limits() {
    let w = World::builder()
        .without_b()
        .setting("DUBAN_ATTACHMENT_MAX_BYTES", "4096")
        .setting("DUBAN_ATTACHMENT_REPORT_MAX_BYTES", "10000")
        .build()
        .await;
    let (app, m) = (&w.app, &w.a.manager.token);
    let draft = app
        .create_report(m, w.a.assignment(), &NewReport::in_progress("已组织培训。"))
        .await;
    let listed = || async {
        app.get(&format!("/reports/{}/attachments", draft.id), m)
            .await
    };
    // A program named as a PDF, and an HTML page: refused by content.
    for (name, bytes) in [
        ("通知.pdf", b"MZ\x90\x00\x03\x00\x00\x00program".to_vec()),
        (
            "纪要.docx",
            b"<html><body>not a document</body></html>".to_vec(),
        ),
    ] {
        let r = upload(app, m, draft.id, name, &bytes).await;
        r.assert_problem(415, "unsupported-media-type");
        assert_eq!(r.fields(), vec!["file".to_owned()], "{}", r.raw);
        assert!(
            r.raw
                .contains("PDF, DOCX, XLSX, DOC, XLS, WPS, OFD, JPEG, PNG or ZIP"),
            "{}",
            r.raw
        );
    }
    // One file past the per-file limit: 413 naming it.
    let big = upload(app, m, draft.id, "大文件.pdf", &pdf(5000, 2)).await;
    big.assert_problem(413, "file-too-large");
    assert_eq!(big.fields(), vec!["file".to_owned()]);
    assert!(
        big.raw.contains("4096") && big.raw.contains("DUBAN_ATTACHMENT_MAX_BYTES"),
        "{}",
        big.raw
    );
    // Files up to the report's limit, then one past it.
    for n in 0..2 {
        let r = upload(app, m, draft.id, &format!("{n}.pdf"), &pdf(4000, n)).await;
        assert_eq!(r.status, 201, "{}", r.raw);
    }
    let over = upload(app, m, draft.id, "3.pdf", &pdf(4000, 3)).await;
    over.assert_problem(413, "file-too-large");
    assert!(
        over.raw.contains("10000") && over.raw.contains("DUBAN_ATTACHMENT_REPORT_MAX_BYTES"),
        "{}",
        over.raw
    );
    assert_eq!(ids_of(&listed().await).len(), 2, "nothing refused was kept");
    // Other forms of bad input.
    let empty = upload(app, m, draft.id, "空.pdf", b"").await;
    empty.assert_problem(422, "validation");
    assert_eq!(empty.fields(), vec!["file".to_owned()]);
    let wrong_part = app
        .send_raw(
            "POST",
            &format!("/reports/{}/attachments", draft.id),
            Some(m),
            &multipart_type(),
            multipart_file("document", "a.pdf", &pdf(100, 4)),
        )
        .await;
    wrong_part.assert_problem(422, "validation");
    assert_eq!(wrong_part.fields(), vec!["file".to_owned()]);
    let not_multipart = app
        .send_raw(
            "POST",
            &format!("/reports/{}/attachments", draft.id),
            Some(m),
            "application/pdf",
            pdf(100, 5),
        )
        .await;
    assert_eq!(not_multipart.status, 415, "{}", not_multipart.raw);
    assert_eq!(ids_of(&listed().await).len(), 2);
    // No spool file is left by any of it.
    let spools = std::fs::read_dir(app.files.join("tmp")).unwrap().count();
    assert_eq!(spools, 0, "refused uploads leave no spool file");
}

#[actix_rt::test]
async fn a_drafts_files_are_its_units_alone_and_sent_files_belong_to_their_revision() {
    let w = World::builder().build().await;
    let (app, m, c) = (&w.app, &w.a.manager.token, w.coord());
    let draft = app
        .create_report(m, w.a.assignment(), &NewReport::in_progress("已组织培训。"))
        .await;
    let first = upload(app, m, draft.id, "签到表.pdf", &pdf(2000, 1)).await;
    let first_id = first.body["id"].as_i64().unwrap();
    // While a draft: its unit's people read it; the office, the viewer, the lead unit and
    // another unit see neither the list nor the file.
    assert_eq!(
        ids_of(
            &app.get(
                &format!("/reports/{}/attachments", draft.id),
                &w.a.reporter.token
            )
            .await
        ),
        vec![first_id]
    );
    // Not even the audit trail tells of a draft's files.
    let trail = app.get("/audit?limit=200", &w.admin).await;
    assert_eq!(trail.status, 200);
    assert!(!trail.raw.contains("签到表.pdf"), "{}", trail.raw);
    for token in [
        c,
        w.viewer.token.as_str(),
        &w.l.manager.token,
        &w.b.manager.token,
        &w.admin,
    ] {
        let list = app
            .get(&format!("/reports/{}/attachments", draft.id), token)
            .await;
        assert_eq!(list.status, 404, "{}", list.raw);
        assert_eq!(download(app, token, first_id).await.0, 404);
    }
    // Sent: the office, the viewer and the lead unit read the revision's files; B does not.
    app.submit_report(m, draft.id).await;
    for token in [c, w.viewer.token.as_str(), &w.l.manager.token] {
        let list = app
            .get(&format!("/reports/{}/attachments", draft.id), token)
            .await;
        assert_eq!(ids_of(&list), vec![first_id], "{}", list.raw);
        assert_eq!(download(app, token, first_id).await.0, 200);
    }
    assert_eq!(download(app, &w.b.manager.token, first_id).await.0, 404);
    // Sent files no longer change.
    let late = upload(app, m, draft.id, "补充.pdf", &pdf(100, 2)).await;
    assert_eq!(late.status, 409, "{}", late.raw);
    let removed = app
        .send("DELETE", &format!("/attachments/{first_id}"), Some(m), None)
        .await;
    assert_eq!(removed.status, 409, "{}", removed.raw);
    // Returned: the unit corrects its files; the office still reads what was sent.
    app.return_report(c, draft.id, "请补充会议纪要。").await;
    let second = upload(app, m, draft.id, "会议纪要.pdf", &pdf(1500, 3)).await;
    assert_eq!(second.status, 201, "{}", second.raw);
    let second_id = second.body["id"].as_i64().unwrap();
    let gone = app
        .send("DELETE", &format!("/attachments/{first_id}"), Some(m), None)
        .await;
    assert_eq!(gone.status, 204, "{}", gone.raw);
    assert_eq!(
        ids_of(
            &app.get(&format!("/reports/{}/attachments", draft.id), m)
                .await
        ),
        vec![second_id],
        "the working copy"
    );
    assert_eq!(
        ids_of(
            &app.get(&format!("/reports/{}/attachments", draft.id), c)
                .await
        ),
        vec![first_id],
        "the sent revision"
    );
    assert_eq!(
        download(app, c, second_id).await.0,
        404,
        "unsent file hidden"
    );
    assert_eq!(download(app, c, first_id).await.0, 200);
    // Sent again: the new revision's files only.
    app.submit_report(m, draft.id).await;
    assert_eq!(
        ids_of(
            &app.get(&format!("/reports/{}/attachments", draft.id), c)
                .await
        ),
        vec![second_id]
    );
    // A file never sent goes with its bytes.
    let draft2 = app
        .create_report(
            m,
            w.a.assignment(),
            &NewReport::in_progress("第二期。").period("2021"),
        )
        .await;
    let temp = upload(app, m, draft2.id, "临时.png", b"\x89PNG\r\n\x1a\nimage").await;
    assert_eq!(temp.body["content_type"], "image/png", "{}", temp.raw);
    let temp_id = temp.body["id"].as_i64().unwrap();
    let objects = || {
        std::fs::read_dir(app.files.join("objects"))
            .unwrap()
            .count()
    };
    let before = objects();
    let r = app
        .send("DELETE", &format!("/attachments/{temp_id}"), Some(m), None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(objects(), before - 1);
    assert_eq!(download(app, m, temp_id).await.0, 404);
    // The unit's reporter adds files too; another unit cannot.
    let by_reporter = upload(app, &w.a.reporter.token, draft2.id, "r.pdf", &pdf(50, 9)).await;
    assert_eq!(by_reporter.status, 201, "{}", by_reporter.raw);
    let foreign = upload(app, &w.b.manager.token, draft2.id, "x.pdf", &pdf(50, 8)).await;
    assert_eq!(foreign.status, 404, "{}", foreign.raw);
}

#[actix_rt::test]
async fn an_upload_cut_short_before_its_row_leaves_nothing_after_housekeeping() {
    let w = World::builder().without_b().build().await;
    let (app, m) = (&w.app, &w.a.manager.token);
    let draft = app
        .create_report(m, w.a.assignment(), &NewReport::in_progress("已组织培训。"))
        .await;
    let kept = upload(app, m, draft.id, "保留.pdf", &pdf(1000, 1)).await;
    let kept_id = kept.body["id"].as_i64().unwrap();
    // A crash after the bytes were stored and before the row committed, and one while the
    // spool file was still being written.
    let storage = &app.state.settings.storage;
    let mut spool = storage.begin().unwrap();
    spool.write(&pdf(5000, 2)).unwrap();
    let received = spool.finish().unwrap();
    let orphan = duban::storage::new_key();
    storage.store(&received, &orphan).await.unwrap();
    drop(received);
    let mut cut = storage.begin().unwrap();
    cut.write(b"%PDF-partial").unwrap();
    std::mem::forget(cut);
    assert_eq!(
        std::fs::read_dir(app.files.join("objects"))
            .unwrap()
            .count(),
        2
    );
    assert_eq!(std::fs::read_dir(app.files.join("tmp")).unwrap().count(), 1);
    // Within the grace period housekeeping leaves them (an upload may be in flight) ...
    let young = duban::jobs::maintenance::sweep_files(
        &app.state.db,
        storage,
        std::time::Duration::from_secs(3600),
    )
    .await
    .unwrap();
    assert_eq!(young, 0);
    // ... past it, the strays go and the stored file stays.
    let swept =
        duban::jobs::maintenance::sweep_files(&app.state.db, storage, std::time::Duration::ZERO)
            .await
            .unwrap();
    assert_eq!(swept, 2);
    assert_eq!(
        std::fs::read_dir(app.files.join("objects"))
            .unwrap()
            .count(),
        1
    );
    assert_eq!(std::fs::read_dir(app.files.join("tmp")).unwrap().count(), 0);
    let (status, _, body) = download(app, m, kept_id).await;
    assert_eq!((status, body), (200, pdf(1000, 1)));
}

#[actix_rt::test]
async fn the_summary_and_the_annual_report_name_each_answers_files() {
    let w = World::builder().without_b().build().await;
    let (app, m, c) = (&w.app, &w.a.manager.token, w.coord());
    let mut done = NewReport::in_progress("已完成培训并印发通知。");
    done.status = "completed";
    let r = app.create_report(m, w.a.assignment(), &done).await;
    assert_eq!(
        upload(app, m, r.id, "培训通知.pdf", &pdf(500, 1))
            .await
            .status,
        201
    );
    app.submit_report(m, r.id).await;
    // A draft's file is nobody else's business, in documents too.
    let draft = app
        .create_report(
            m,
            w.a.assignment(),
            &NewReport::in_progress("草稿。").period("2021"),
        )
        .await;
    assert_eq!(
        upload(app, m, draft.id, "草稿附件.pdf", &pdf(300, 2))
            .await
            .status,
        201
    );
    // JSON: the consolidated view lists each answer's files; one unit's view its answer's.
    let all = app.get(&format!("/plans/{}/summary", w.plan), c).await;
    assert_eq!(all.status, 200, "{}", all.raw);
    assert!(all.raw.contains("培训通知.pdf"), "{}", all.raw);
    assert!(!all.raw.contains("草稿附件.pdf"), "{}", all.raw);
    let line = &all.body["rows"][0];
    assert_eq!(
        line["participants"][0]["files"],
        serde_json::json!(["培训通知.pdf"]),
        "{line}"
    );
    let own = app
        .get(&format!("/plans/{}/summary?unit={}", w.plan, w.a.id), c)
        .await;
    assert_eq!(
        own.body["rows"][0]["files"],
        serde_json::json!(["培训通知.pdf"]),
        "{}",
        own.raw
    );
    // XLSX: the answers sheet (consolidated) and the evidence sheet (one unit) name the file.
    let xlsx = crate::documents::download(
        app,
        &format!("/plans/{}/summary", w.plan),
        c,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    .await;
    assert_eq!(xlsx.status, 200);
    let strings = crate::documents::part(&xlsx.body, "xl/sharedStrings.xml");
    assert!(
        strings.contains("培训通知.pdf") && strings.contains("佐证材料"),
        "{strings}"
    );
    assert!(!strings.contains("草稿附件.pdf"));
    let unit_xlsx = crate::documents::download(
        app,
        &format!("/plans/{}/summary?unit={}", w.plan, w.a.id),
        c,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    .await;
    let strings = crate::documents::part(&unit_xlsx.body, "xl/sharedStrings.xml");
    assert!(strings.contains("培训通知.pdf"), "{strings}");
    // DOCX: the annual report names the files after what the unit did.
    let docx = crate::documents::download(
        app,
        &format!("/plans/{}/annual-report?unit={}", w.plan, w.a.id),
        c,
        "*/*",
    )
    .await;
    assert_eq!(docx.status, 200);
    let text = crate::documents::part(&docx.body, "word/document.xml");
    assert!(
        text.contains("佐证材料：培训通知.pdf"),
        "the annual report names the file"
    );
}
