//! Access tokens (HS256 JWTs with `kid` for key rotation) and opaque refresh tokens.

use crate::config::Settings;
use crate::domain::ids::{UnitId, UserId};
use crate::domain::role::Role;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The only algorithm issued or accepted; the header's `alg` is never trusted.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Issuer, checked.
    pub iss: String,
    /// Audience, checked.
    pub aud: String,
    /// The user id, as a string.
    pub sub: String,
    /// Expiry (seconds since the epoch), checked.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// A random token id.
    pub jti: String,
    /// The role when issued (the account's current role is what counts).
    pub role: Role,
    /// The unit when issued.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unit_id: Option<UnitId>,
    /// Granted scopes (service accounts), space-separated.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scope: Option<String>,
    /// The session (sign-in) the token belongs to; the token works only while it is live.
    /// Tokens without one (issued before sessions were kept) are refused.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Key {
    fn new(secret: &[u8]) -> Self {
        let digest = Sha256::digest(secret);
        Key {
            kid: hex(&digest[..8]),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

/// The signing key and the keys still accepted.
pub struct TokenKeys {
    current: Key,
    previous: Vec<Key>,
    issuer: String,
    audience: String,
    access_ttl_secs: i64,
}

/// Why a token was refused (all answered alike, as 401).
#[derive(Debug)]
pub struct InvalidToken(pub String);

impl TokenKeys {
    /// Loads the keys from the settings: `DUBAN_JWT_SECRET`, else the key file, else a key
    /// generated once into the data folder (0600) with a warning.
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let secret = match (&settings.jwt_secret, &settings.jwt_key_file) {
            (Some(s), _) => s.as_bytes().to_vec(),
            (None, Some(file)) => read_key_file(file)?,
            (None, None) => {
                let file = settings.data_dir.join("jwt.key");
                if !file.exists() {
                    write_new_key(&file)?;
                    tracing::warn!(
                        file = %file.display(),
                        "no DUBAN_JWT_SECRET: generated a signing key and kept it in the data folder"
                    );
                }
                read_key_file(&file)?
            }
        };
        Ok(TokenKeys {
            current: Key::new(&secret),
            previous: settings
                .jwt_previous_secrets
                .iter()
                .map(|s| Key::new(s.as_bytes()))
                .collect(),
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            access_ttl_secs: settings.access_token_ttl_secs,
        })
    }

    /// The access-token lifetime in seconds.
    pub fn access_ttl_secs(&self) -> i64 {
        self.access_ttl_secs
    }

    /// Signs an access token for an account, bound to one of its sessions.
    pub fn issue(
        &self,
        user: UserId,
        role: Role,
        unit_id: Option<UnitId>,
        scope: Option<String>,
        sid: &str,
    ) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.0.to_string(),
            exp: now + self.access_ttl_secs,
            iat: now,
            jti: random_token(),
            role,
            unit_id,
            scope,
            sid: Some(sid.to_owned()),
        };
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.current.encoding)
            .expect("HMAC signing cannot fail")
    }

    /// Verifies signature, algorithm, `kid`, `iss`, `aud` and `exp`, and returns the claims.
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| InvalidToken(e.to_string()))?;
        if header.alg != ALGORITHM {
            return Err(InvalidToken("algorithm not allowed".into()));
        }
        let kid = header.kid.ok_or_else(|| InvalidToken("no kid".into()))?;
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.kid == kid)
            .ok_or_else(|| InvalidToken("unknown kid".into()))?;
        let mut v = Validation::new(ALGORITHM);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub", "iat"]);
        v.leeway = 30;
        jsonwebtoken::decode::<Claims>(token, &key.decoding, &v)
            .map(|d| d.claims)
            .map_err(|e| InvalidToken(e.to_string()))
    }
}

/// 32 random bytes, base64url: refresh tokens, client secrets, token ids.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 of a refresh token, the only form in which it is stored.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_key_file(file: &Path) -> Result<Vec<u8>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("DUBAN_JWT_KEY_FILE: cannot read {}: {e}", file.display()))?;
    let key = text.trim().as_bytes().to_vec();
    if key.len() < 32 {
        return Err(format!(
            "DUBAN_JWT_KEY_FILE: {} holds fewer than 32 bytes",
            file.display()
        ));
    }
    Ok(key)
}

fn write_new_key(file: &Path) -> Result<(), String> {
    use std::io::Write;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("DUBAN_DATA_DIR: cannot create {}: {e}", dir.display()))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(file)
        .map_err(|e| format!("DUBAN_DATA_DIR: cannot write {}: {e}", file.display()))?;
    let key = format!("{}{}", random_token(), random_token());
    f.write_all(key.as_bytes())
        .map_err(|e| format!("DUBAN_DATA_DIR: cannot write {}: {e}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn keys(secret: &str, previous: &str) -> TokenKeys {
        let mut v = HashMap::new();
        v.insert("DUBAN_JWT_SECRET".to_string(), secret.to_string());
        if !previous.is_empty() {
            v.insert(
                "DUBAN_JWT_PREVIOUS_SECRETS".to_string(),
                previous.to_string(),
            );
        }
        TokenKeys::from_settings(&Settings::from_vars(&v).unwrap()).unwrap()
    }

    const A: &str = "an-example-secret-of-at-least-32-bytes!";
    const B: &str = "another-example-secret-of-32-bytes-or-more";

    #[test]
    fn a_token_round_trips() {
        let k = keys(A, "");
        let t = k.issue(UserId(7), Role::Viewer, Some(UnitId(3)), None, "s1");
        let c = k.verify(&t).unwrap();
        assert_eq!(c.sub, "7");
        assert_eq!(c.unit_id, Some(UnitId(3)));
        assert_eq!(c.sid.as_deref(), Some("s1"));
        assert_eq!(c.exp - c.iat, 900);
    }

    #[test]
    fn rotation_accepts_the_previous_key_and_refuses_others() {
        let old = keys(A, "");
        let token = old.issue(UserId(1), Role::Admin, None, None, "s1");
        assert!(keys(B, A).verify(&token).is_ok());
        assert!(keys(B, "").verify(&token).is_err());
    }

    #[test]
    fn the_none_algorithm_is_refused() {
        let k = keys(A, "");
        let t = k.issue(UserId(1), Role::Admin, None, None, "s1");
        let payload = t.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert!(k.verify(&format!("{header}.{payload}.")).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = random_token();
        assert_ne!(a, random_token());
        assert_eq!(token_hash(&a).len(), 64);
    }
}
