//! Sign-in, tokens, refresh rotation, throttling and client credentials.

use crate::helpers::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

fn forge(claims: serde_json::Value, secret: &str, kid: Option<String>) -> String {
    let mut h = Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = kid;
    jsonwebtoken::encode(&h, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).unwrap().kid
}

#[actix_rt::test]
async fn login_with_the_right_password_returns_an_oauth_token_response() {
    let app = spawn_app().await;
    let r = app.login_reply(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert!(r.body["refresh_token"].as_str().unwrap().len() >= 40);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let token = r.body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert!(header.kid.is_some());
    let payload: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    for claim in ["iss", "aud", "sub", "exp", "iat"] {
        assert!(!payload[claim].is_null(), "claim {claim} missing");
    }
    let me = app.get("/me", token).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["username"], ADMIN);
    assert_eq!(me.body["role"], "admin");
}

#[actix_rt::test]
async fn a_wrong_password_and_an_unknown_user_are_answered_alike() {
    let app = spawn_app().await;
    let wrong = app.login_reply(ADMIN, "not the password at all").await;
    let unknown = app
        .login_reply("nobody-here", "not the password at all")
        .await;
    wrong.assert_problem(401, "unauthorized");
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(
        wrong.header("www-authenticate"),
        unknown.header("www-authenticate")
    );
}

#[actix_rt::test]
async fn the_username_is_case_insensitive() {
    let app = spawn_app().await;
    assert_eq!(app.login_reply("ADMIN", ADMIN_PASSWORD).await.status, 200);
}

#[actix_rt::test]
async fn expired_tampered_foreign_and_unsigned_tokens_are_refused() {
    let app = spawn_app().await;
    let good = app.admin().await;
    let kid = kid_of(&good);
    let now = chrono::Utc::now().timestamp();
    let sid = serde_json::from_slice::<serde_json::Value>(
        &URL_SAFE_NO_PAD
            .decode(good.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap()["sid"]
        .clone();
    let claims = |aud: &str, exp: i64| json!({"iss": "duban", "aud": aud, "sub": "1", "iat": now - 7200, "exp": exp, "jti": "x", "role": "admin", "sid": sid});

    let expired = forge(claims("duban-api", now - 3600), JWT_SECRET, kid.clone());
    let wrong_aud = forge(claims("another-api", now + 600), JWT_SECRET, kid.clone());
    let wrong_key = forge(
        claims("duban-api", now + 600),
        "a-different-secret-of-at-least-32-bytes",
        kid.clone(),
    );
    let no_kid = forge(claims("duban-api", now + 600), JWT_SECRET, None);
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["role"] = json!("admin");
    payload["sub"] = json!("2");
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    let tampered = parts.join(".");
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );

    // The control: a correctly forged token with the right key, audience and kid is accepted.
    let valid = forge(claims("duban-api", now + 600), JWT_SECRET, kid);
    assert_eq!(app.get("/me", &valid).await.status, 200);
    for (name, token) in [
        ("expired", expired),
        ("wrong aud", wrong_aud),
        ("wrong key", wrong_key),
        ("no kid", no_kid),
        ("tampered", tampered),
        ("alg none", unsigned),
        ("garbage", "abc".into()),
    ] {
        let r = app.get("/me", &token).await;
        assert_eq!(r.status, 401, "{name} token was not refused: {}", r.raw);
        r.assert_problem(401, "unauthorized");
    }
    let r = app.send("GET", "/me", None, None).await;
    r.assert_problem(401, "unauthorized");
}

#[actix_rt::test]
async fn refresh_rotates_the_pair_and_the_old_token_stops_working() {
    let app = spawn_app().await;
    let first = app.login_reply(ADMIN, ADMIN_PASSWORD).await;
    let rt1 = first.body["refresh_token"].as_str().unwrap().to_owned();
    let second = app
        .send(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": rt1})),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.raw);
    let rt2 = second.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2);
    assert_eq!(
        app.get("/me", second.body["access_token"].as_str().unwrap())
            .await
            .status,
        200
    );
    let third = app
        .send(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": rt2})),
        )
        .await;
    assert_eq!(third.status, 200);
}

#[actix_rt::test]
async fn reusing_a_refresh_token_revokes_its_whole_family() {
    let app = spawn_app().await;
    let first = app.login_reply(ADMIN, ADMIN_PASSWORD).await;
    let other_session = app.login_reply(ADMIN, ADMIN_PASSWORD).await;
    let rt1 = first.body["refresh_token"].as_str().unwrap().to_owned();
    let rotated = app
        .send(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": rt1})),
        )
        .await;
    let rt2 = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    // Someone replays the old token: refused, and the thief's and the owner's newer token die too.
    let replay = app
        .send(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": rt1})),
        )
        .await;
    replay.assert_problem(401, "unauthorized");
    let after = app
        .send(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": rt2})),
        )
        .await;
    after.assert_problem(401, "unauthorized");
    // A separate sign-in is a separate family and keeps working.
    let ok = app
        .send(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": other_session.body["refresh_token"]})),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
}

#[actix_rt::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let r = app.login_reply(ADMIN, ADMIN_PASSWORD).await;
    let rt = r.body["refresh_token"].clone();
    let out = app
        .send(
            "POST",
            "/auth/logout",
            None,
            Some(json!({"refresh_token": rt})),
        )
        .await;
    assert_eq!(out.status, 204);
    let again = app
        .send(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": rt})),
        )
        .await;
    again.assert_problem(401, "unauthorized");
    let unknown = app
        .send(
            "POST",
            "/auth/logout",
            None,
            Some(json!({"refresh_token": "never-issued"})),
        )
        .await;
    assert_eq!(unknown.status, 204);
}

#[actix_rt::test]
async fn repeated_failures_on_an_account_are_throttled_with_429_and_retry_after() {
    let app = spawn_app().await;
    app.account("someone-else", "viewer", None).await;
    for i in 0..5 {
        let r = app.login_reply(ADMIN, "wrong password guess").await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let sixth = app.login_reply(ADMIN, "wrong password guess").await;
    assert_eq!(
        sixth.status, 401,
        "the sixth failure is counted, then blocks"
    );
    let blocked = app.login_reply(ADMIN, ADMIN_PASSWORD).await;
    blocked.assert_problem(429, "too-many-requests");
    let retry: u64 = blocked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "retry-after {retry}");
    // Unknown accounts are throttled the same way, so 429 reveals nothing either.
    for _ in 0..6 {
        app.login_reply("ghost-account", "wrong password guess")
            .await;
    }
    app.login_reply("ghost-account", "wrong password guess")
        .await
        .assert_problem(429, "too-many-requests");
    // Other accounts from the same address are not yet blocked.
    assert_eq!(app.login_reply("someone-else", PASSWORD).await.status, 200);
}

#[actix_rt::test]
async fn many_failures_from_one_address_are_throttled_across_accounts() {
    let app = spawn_app().await;
    for i in 0..31 {
        let r = app
            .login_reply(&format!("guess-{i}"), "wrong password guess")
            .await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.raw);
    }
    app.login_reply(ADMIN, ADMIN_PASSWORD)
        .await
        .assert_problem(429, "too-many-requests");
}

#[actix_rt::test]
async fn a_service_account_gets_a_scoped_token_by_client_credentials() {
    let app = spawn_app().await;
    let unit = app.unit("重庆市知识产权局").await;
    let (_, secret) = app.service_account("ipo-system", unit, None).await;
    let r = app.client_token("ipo-system", &secret, None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(r.body.get("refresh_token").is_none());
    assert_eq!(
        r.body["scope"],
        "assignments:read reports:read reports:write"
    );
    let token = r.body["access_token"].as_str().unwrap();
    let me = app.get("/me", token).await;
    assert_eq!(me.body["role"], "service");
    assert_eq!(me.body["unit_id"], unit);
    assert_eq!(me.body["unit_name"], "重庆市知识产权局");

    let narrow = app
        .client_token("ipo-system", &secret, Some("reports:read"))
        .await;
    assert_eq!(narrow.body["scope"], "reports:read");
    let me = app
        .get("/me", narrow.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.body["token_scopes"], json!(["reports:read"]));
    // A token without assignments:read cannot read the unit directory.
    let units = app
        .get("/units", narrow.body["access_token"].as_str().unwrap())
        .await;
    units.assert_problem(403, "forbidden");

    app.client_token("ipo-system", &secret, Some("reports:submit"))
        .await
        .assert_oauth_error(400, "invalid_scope");
    app.client_token("ipo-system", &secret, Some("everything"))
        .await
        .assert_oauth_error(400, "invalid_scope");
}

#[actix_rt::test]
async fn client_credentials_accept_http_basic_and_refuse_people_and_wrong_secrets() {
    let app = spawn_app().await;
    let unit = app.unit("市司法局").await;
    let (_, secret) = app.service_account("justice-system", unit, None).await;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("justice-system:{secret}"));
    let r = app
        .client
        .post(app.url("/auth/token"))
        .insert_header(("Authorization", format!("Basic {basic}")))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body("grant_type=client_credentials")
        .await
        .unwrap();
    assert_eq!(read(r).await.status, 200);
    let wrong = app
        .client_token("justice-system", "wrong-secret", None)
        .await;
    wrong.assert_oauth_error(401, "invalid_client");
    assert_eq!(wrong.header("www-authenticate"), None, "no Basic was used");
    app.client_token(ADMIN, ADMIN_PASSWORD, None)
        .await
        .assert_oauth_error(401, "invalid_client");
    let bad_basic = base64::engine::general_purpose::STANDARD.encode("justice-system:nope");
    let r = app
        .client
        .post(app.url("/auth/token"))
        .insert_header(("Authorization", format!("Basic {bad_basic}")))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body("grant_type=client_credentials")
        .await
        .unwrap();
    let r = read(r).await;
    r.assert_oauth_error(401, "invalid_client");
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Basic realm=\"duban\"")
    );
    // And a service account cannot use the password login.
    app.login_reply("justice-system", &secret)
        .await
        .assert_problem(401, "unauthorized");
    let bad_grant = app
        .send_raw(
            "POST",
            "/auth/token",
            None,
            "application/x-www-form-urlencoded",
            b"grant_type=password".to_vec(),
        )
        .await;
    bad_grant.assert_oauth_error(400, "unsupported_grant_type");
    let no_grant = app
        .send_raw(
            "POST",
            "/auth/token",
            None,
            "application/x-www-form-urlencoded",
            b"client_id=justice-system".to_vec(),
        )
        .await;
    no_grant.assert_oauth_error(400, "invalid_request");
    let json_body = app
        .send(
            "POST",
            "/auth/token",
            None,
            Some(json!({"grant_type": "client_credentials"})),
        )
        .await;
    json_body.assert_problem(415, "unsupported-media-type");
}

#[actix_rt::test]
async fn changing_my_password_ends_my_sessions() {
    let app = spawn_app().await;
    let (_, _) = app.account("reporter-a", "viewer", None).await;
    let session = app.login_reply("reporter-a", PASSWORD).await;
    let token = session.body["access_token"].as_str().unwrap().to_owned();
    let weak = app
        .send(
            "PUT",
            "/me/password",
            Some(&token),
            Some(json!({"current_password": PASSWORD, "new_password": "short"})),
        )
        .await;
    weak.assert_problem(422, "validation");
    assert_eq!(weak.fields(), vec!["new_password"]);
    let wrong = app.send("PUT", "/me/password", Some(&token), Some(json!({"current_password": "not my password", "new_password": "a brand new passphrase"}))).await;
    wrong.assert_problem(401, "unauthorized");
    let ok = app
        .send(
            "PUT",
            "/me/password",
            Some(&token),
            Some(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(ok.status, 204, "{}", ok.raw);
    let refresh = app
        .send(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": session.body["refresh_token"]})),
        )
        .await;
    refresh.assert_problem(401, "unauthorized");
    app.login_reply("reporter-a", PASSWORD)
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(
        app.login_reply("reporter-a", "a brand new passphrase")
            .await
            .status,
        200
    );
}

#[actix_rt::test]
async fn a_deactivated_account_loses_access_at_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (id, token) = app.account("leaving", "viewer", None).await;
    assert_eq!(app.get("/me", &token).await.status, 200);
    let r = app
        .patch(&format!("/users/{id}"), &admin, json!({"active": false}))
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    app.get("/me", &token)
        .await
        .assert_problem(401, "unauthorized");
    app.login_reply("leaving", PASSWORD)
        .await
        .assert_problem(401, "unauthorized");
}

#[actix_rt::test]
async fn passwords_are_stored_as_argon2id_hashes() {
    let app = spawn_app().await;
    let (id, _) = app.account("hashed", "viewer", None).await;
    let user = app
        .state
        .db
        .run(move |c| {
            Ok(duban::store::users::find(
                c,
                duban::domain::ids::UserId(id),
            )?)
        })
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        user.password_hash
    );
    assert!(!user.password_hash.contains(PASSWORD));
}
