//! Evidence files in an S3-compatible object store: the same uploads, downloads, removals and
//! housekeeping as on the local folder, against a real S3 server the test starts itself
//! (moto's server mode, installed by `.ci/run` into `target/s3-venv`; `DUBAN_TEST_MOTO` names
//! its `moto_server`). Without `DUBAN_TEST_MOTO` the test says so and checks nothing else.

use crate::fixtures::*;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A moto server on a free port, stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Option<Moto> {
    let bin = std::env::var("DUBAN_TEST_MOTO")
        .ok()
        .filter(|b| !b.trim().is_empty())?;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("DUBAN_TEST_MOTO={bin} does not start: {e}"));
    let moto = Moto { child, port };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto_server did not listen on {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(moto)
}

fn pdf(len: usize, seed: u32) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n".to_vec();
    let mut x = seed + 1;
    while b.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        b.push((x >> 16) as u8);
    }
    b
}

#[actix_rt::test]
async fn evidence_files_live_in_an_s3_compatible_store() {
    let Some(moto) = start_moto() else {
        eprintln!("DUBAN_TEST_MOTO is not set: the S3 path runs in .ci/run");
        return;
    };
    let w = World::builder()
        .without_b()
        .setting("DUBAN_STORAGE", "s3")
        .setting(
            "DUBAN_S3_ENDPOINT",
            format!("http://127.0.0.1:{}", moto.port),
        )
        .setting("DUBAN_S3_BUCKET", "duban-evidence")
        .setting("DUBAN_S3_REGION", "us-east-1")
        .setting("DUBAN_S3_ACCESS_KEY_ID", "testing")
        .setting("DUBAN_S3_SECRET_ACCESS_KEY", "testing")
        .build()
        .await;
    let (app, m, c) = (&w.app, &w.a.manager.token, w.coord());
    let storage = &app.state.settings.storage;
    // Housekeeping before the bucket exists finds nothing to do.
    let none = duban::jobs::maintenance::sweep_files(&app.state.db, storage, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(none, 0);
    let draft = app
        .create_report(m, w.a.assignment(), &NewReport::in_progress("已组织培训。"))
        .await;
    let bytes = pdf(3 << 20, 7);
    let up = app.upload(m, draft.id, "培训签到表.pdf", &bytes).await;
    assert_eq!(up.status, 201, "{}", up.raw);
    let id = up.body["id"].as_i64().unwrap();
    let sha: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(up.body["sha256"], sha);
    // Byte for byte back, from the store.
    let mut res = app
        .client
        .get(app.url(&format!("/attachments/{id}/content")))
        .insert_header(("Authorization", format!("Bearer {m}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body = res.body().limit(64 << 20).await.unwrap();
    assert!(body.as_ref() == bytes.as_slice(), "the same bytes");
    // The object is in the store, and nothing is kept in the spool folder.
    let objects = storage.objects().await.unwrap();
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(std::fs::read_dir(app.files.join("tmp")).unwrap().count(), 0);
    // Hidden from the office while a draft; read once sent.
    assert_eq!(
        app.get(&format!("/reports/{}/attachments", draft.id), c)
            .await
            .status,
        404
    );
    app.submit_report(m, draft.id).await;
    let listed = app
        .get(&format!("/reports/{}/attachments", draft.id), c)
        .await;
    assert_eq!(listed.body["items"][0]["id"], id, "{}", listed.raw);
    // A file never sent goes from the store with its row.
    let second = app
        .create_report(
            m,
            w.a.assignment(),
            &NewReport::in_progress("第二期。").period("2021"),
        )
        .await;
    let temp = app.upload(m, second.id, "临时.pdf", &pdf(1000, 8)).await;
    assert_eq!(temp.status, 201, "{}", temp.raw);
    assert_eq!(storage.objects().await.unwrap().len(), 2);
    let gone = app
        .send(
            "DELETE",
            &format!("/attachments/{}", temp.body["id"]),
            Some(m),
            None,
        )
        .await;
    assert_eq!(gone.status, 204, "{}", gone.raw);
    assert_eq!(storage.objects().await.unwrap().len(), 1);
    // An object whose row never committed goes with housekeeping; the stored file stays.
    let mut spool = storage.begin().unwrap();
    spool.write(&pdf(2000, 9)).unwrap();
    let received = spool.finish().unwrap();
    storage
        .store(&received, &duban::storage::new_key())
        .await
        .unwrap();
    drop(received);
    assert_eq!(storage.objects().await.unwrap().len(), 2);
    let swept = duban::jobs::maintenance::sweep_files(&app.state.db, storage, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(swept, 1);
    assert_eq!(storage.objects().await.unwrap().len(), 1);
    let again = app
        .client
        .get(app.url(&format!("/attachments/{id}/content")))
        .insert_header(("Authorization", format!("Bearer {c}")))
        .send()
        .await
        .unwrap()
        .body()
        .limit(64 << 20)
        .await
        .unwrap();
    assert!(
        again.as_ref() == bytes.as_slice(),
        "the kept file is intact"
    );
}
