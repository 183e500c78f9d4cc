//! Webhook deliveries to `https://` receivers: real TLS servers on 127.0.0.1 with certificates
//! made here, one issued by a CA given in `DUBAN_WEBHOOK_CA_FILE` (trusted), one by a CA the app
//! does not know (refused: nothing is delivered and the delivery log says why).

use crate::helpers::spawn_app_with;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A certificate authority made for one test.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa { issuer }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for 127.0.0.1 and localhost, and its key.
    fn server_cert(&self) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let key = PrivatePkcs8KeyDer::from(key.serialize_der());
        (cert.der().clone(), key.into())
    }
}

/// A request's headers (names in lower case) and body.
type Request = (Vec<(String, String)>, Vec<u8>);

/// What an HTTPS receiver saw.
#[derive(Default)]
struct Seen {
    /// Requests read in full.
    requests: Vec<Request>,
    /// Connections whose TLS handshake failed, with rustls's reason.
    handshake_errors: Vec<String>,
}

/// A minimal HTTPS server on 127.0.0.1 (its own thread, blocking rustls): answers every
/// request `204 No Content` and records it.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Seen>>,
}

impl Receiver {
    fn start(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> Self {
        #[allow(deprecated)] // ring has no post-quantum key exchange; the tests need none
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "https://127.0.0.1:{}/hook",
            listener.local_addr().unwrap().port()
        );
        let seen = Arc::new(Mutex::new(Seen::default()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let conn = rustls::ServerConnection::new(config.clone()).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                match serve(&mut tls) {
                    Ok(Some(request)) => record.lock().unwrap().requests.push(request),
                    Ok(None) => {}
                    Err(e) if tls.conn.is_handshaking() => {
                        record.lock().unwrap().handshake_errors.push(e.to_string())
                    }
                    Err(_) => {}
                }
            }
        });
        Receiver { url, seen }
    }
}

/// Reads one HTTP/1.1 request and answers it, closing the connection.
fn serve(
    tls: &mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>,
) -> std::io::Result<Option<Request>> {
    let mut reader = BufReader::new(tls);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let tls = reader.into_inner();
    tls.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")?;
    tls.flush()?;
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(Some((headers, body)))
}

/// Polls the delivery log of `webhook` until the outcome of its newest delivery's first attempt
/// is recorded.
async fn attempted(app: &crate::helpers::TestApp, token: &str, webhook: i64) -> Value {
    let start = Instant::now();
    loop {
        let r = app
            .get(&format!("/webhooks/{webhook}/deliveries"), token)
            .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        let newest = r.body["items"][0].clone();
        if newest["attempts"].as_i64().unwrap_or(0) >= 1 && newest["state"] != "delivering" {
            return newest;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no attempt to deliver: {}",
            r.raw
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn https_receivers_are_trusted_through_the_ca_file_and_never_otherwise() {
    let city_ca = TestCa::new("duban test: a city's internal CA");
    let stranger_ca = TestCa::new("duban test: a CA nobody trusts");
    let ca_file = std::env::temp_dir().join(format!("duban-test-ca-{}.pem", rand::random::<u64>()));
    std::fs::write(&ca_file, city_ca.pem()).unwrap();
    let (cert, key) = city_ca.server_cert();
    let trusted = Receiver::start(cert, key);
    let (cert, key) = stranger_ca.server_cert();
    let untrusted = Receiver::start(cert, key);

    let app = spawn_app_with(&[
        ("DUBAN_WEBHOOK_WORKER", "true"),
        ("DUBAN_WEBHOOK_POLL_MS", "50"),
        ("DUBAN_WEBHOOK_CA_FILE", ca_file.to_str().unwrap()),
    ])
    .await;
    let _ = std::fs::remove_file(&ca_file);
    let admin = app.admin().await;
    let mut subscriptions = Vec::new();
    for r in [&trusted, &untrusted] {
        let made = app
            .post(
                "/webhooks",
                &admin,
                json!({"url": r.url, "events": ["*"], "description": "over TLS"}),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.raw);
        subscriptions.push((
            made.body["id"].as_i64().unwrap(),
            made.body["secret"].as_str().unwrap().to_owned(),
        ));
    }
    let [(good, secret), (bad, _)] = subscriptions.try_into().unwrap();
    for id in [good, bad] {
        let ping = app
            .post(&format!("/webhooks/{id}/ping"), &admin, json!({}))
            .await;
        assert_eq!(ping.status, 202, "{}", ping.raw);
    }

    // The receiver whose certificate chains to the CA file gets the ping, signed.
    let delivered = attempted(&app, &admin, good).await;
    assert_eq!(delivered["state"], "delivered", "{delivered}");
    assert_eq!(delivered["last_status"], 204, "{delivered}");
    assert_eq!(delivered["last_error"], Value::Null, "{delivered}");
    {
        let seen = trusted.seen.lock().unwrap();
        assert_eq!(seen.requests.len(), 1, "{:?}", seen.handshake_errors);
        let (headers, body) = &seen.requests[0];
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
        };
        assert_eq!(header("duban-event"), "ping");
        assert_eq!(header("duban-delivery"), delivered["id"].to_string());
        let now = chrono::Utc::now().timestamp();
        assert!(
            duban::domain::webhook::verify(&secret, header("duban-signature"), body, now),
            "the signature {} does not verify",
            header("duban-signature")
        );
        assert!(!duban::domain::webhook::verify(
            "whsec_another",
            header("duban-signature"),
            body,
            now
        ));
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["type"], "ping", "{event}");
    }

    // The other one is refused at the handshake: nothing is sent, and the log says why.
    let refused = attempted(&app, &admin, bad).await;
    assert_eq!(refused["state"], "pending", "{refused}");
    assert_eq!(refused["last_status"], Value::Null, "{refused}");
    let error = refused["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("certificate") && error.contains("UnknownIssuer"),
        "the log should name the untrusted certificate: {refused}"
    );
    let seen = untrusted.seen.lock().unwrap();
    assert!(seen.requests.is_empty(), "an untrusted receiver got data");
    assert!(
        !seen.handshake_errors.is_empty(),
        "the worker should have tried the untrusted receiver"
    );
}
