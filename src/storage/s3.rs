//! An S3-compatible object store (AWS S3, MinIO, Ceph RGW, OSS and COS in S3 mode): objects
//! put, read, deleted and listed over HTTP with path-style addresses, each request signed with
//! AWS Signature Version 4.

use crate::error::ApiError;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

/// Where the store is and how to sign for it.
#[derive(Clone)]
pub struct S3Store {
    /// `http://host:port` (no trailing slash).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn unavailable(e: impl std::fmt::Display) -> ApiError {
    ApiError::Unavailable(format!("object store: {e}"))
}

/// RFC 3986 encoding as SigV4 wants it (`/` kept in paths when `keep_slash`).
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        let plain = b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/');
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn hex_sha256(data: &[u8]) -> String {
    crate::domain::evidence::hex(&Sha256::digest(data))
}

impl S3Store {
    /// The `Host` the client sends, and so the one signed: the endpoint's, without the
    /// default port (`http://minio:80` is sent as `minio`).
    fn host(&self) -> &str {
        let h = self
            .endpoint
            .split_once("://")
            .map_or(self.endpoint.as_str(), |(_, h)| h);
        h.strip_suffix(":80").unwrap_or(h)
    }

    /// The request for `method` on `key` (empty: the bucket) with `query` pairs, signed for a
    /// payload with this SHA-256.
    fn signed(
        &self,
        client: &awc::Client,
        method: awc::http::Method,
        key: &str,
        query: &[(&str, &str)],
        payload_sha256: &str,
        at: DateTime<Utc>,
    ) -> awc::ClientRequest {
        let path = if key.is_empty() {
            format!("/{}", encode(&self.bucket, false))
        } else {
            format!("/{}/{}", encode(&self.bucket, false), encode(key, true))
        };
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (encode(k, false), encode(v, false)))
            .collect();
        pairs.sort();
        let canonical_query = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let amz_date = at.format("%Y%m%dT%H%M%SZ").to_string();
        let date = at.format("%Y%m%d").to_string();
        let host = self.host().to_owned();
        let signed_headers = "host;x-amz-content-sha256;x-amz-date";
        let canonical = format!(
            "{method}\n{path}\n{canonical_query}\nhost:{host}\nx-amz-content-sha256:{payload_sha256}\nx-amz-date:{amz_date}\n\n{signed_headers}\n{payload_sha256}"
        );
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex_sha256(canonical.as_bytes())
        );
        let k_date = hmac(format!("AWS4{}", self.secret_access_key).as_bytes(), &date);
        let k_region = hmac(&k_date, &self.region);
        let k_service = hmac(&k_region, "s3");
        let k_signing = hmac(&k_service, "aws4_request");
        let signature = crate::domain::evidence::hex(&hmac(&k_signing, &to_sign));
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            self.access_key_id
        );
        let url = if canonical_query.is_empty() {
            format!("{}{path}", self.endpoint)
        } else {
            format!("{}{path}?{canonical_query}", self.endpoint)
        };
        client
            .request(method, url)
            .insert_header(("x-amz-date", amz_date))
            .insert_header(("x-amz-content-sha256", payload_sha256.to_owned()))
            .insert_header(("authorization", authorization))
    }

    /// Sends a request without a body, signed now.
    async fn bodiless(
        &self,
        client: &awc::Client,
        method: awc::http::Method,
        key: &str,
        query: &[(&str, &str)],
    ) -> Result<awc::ClientResponse, awc::error::SendRequestError> {
        self.signed(client, method, key, query, EMPTY_SHA256, Utc::now())
            .send()
            .await
    }

    fn client() -> awc::Client {
        awc::Client::builder()
            .timeout(Duration::from_secs(300))
            .finish()
    }

    async fn expect_ok(
        res: Result<awc::ClientResponse, awc::error::SendRequestError>,
        what: &str,
        ok: &[u16],
    ) -> Result<Vec<u8>, ApiError> {
        let mut res = res.map_err(unavailable)?;
        let status = res.status().as_u16();
        let body = res.body().limit(16 << 20).await.map_err(unavailable)?;
        if ok.contains(&status) {
            Ok(body.to_vec())
        } else {
            Err(unavailable(format!(
                "{what} answered {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            )))
        }
    }

    /// Creates the bucket when it does not exist yet.
    pub async fn ensure_bucket(&self) -> Result<(), ApiError> {
        let client = Self::client();
        let head = self
            .bodiless(&client, awc::http::Method::HEAD, "", &[])
            .await
            .map_err(unavailable)?;
        if head.status().is_success() {
            return Ok(());
        }
        let res = self
            .bodiless(&client, awc::http::Method::PUT, "", &[])
            .await;
        Self::expect_ok(res, "creating the bucket", &[200, 409]).await?;
        Ok(())
    }

    /// Uploads a local file of `size` bytes whose SHA-256 is `sha256` under `key` (creating
    /// the bucket first when the store says it does not exist).
    pub async fn put_file(
        &self,
        key: &str,
        path: &Path,
        size: u64,
        sha256: &str,
    ) -> Result<(), ApiError> {
        let client = Self::client();
        for attempt in 0..2 {
            let file = std::fs::File::open(path).map_err(unavailable)?;
            let body = actix_web::body::SizedStream::new(size, super::file_chunks(file));
            let res = self
                .signed(
                    &client,
                    awc::http::Method::PUT,
                    key,
                    &[],
                    sha256,
                    Utc::now(),
                )
                .send_body(body)
                .await;
            match Self::expect_ok(res, "storing an object", &[200]).await {
                Err(ApiError::Unavailable(m)) if attempt == 0 && m.contains("NoSuchBucket") => {
                    self.ensure_bucket().await?;
                }
                other => return other.map(|_| ()),
            }
        }
        Ok(())
    }

    /// An object's bytes as they arrive.
    pub async fn get(
        &self,
        key: &str,
    ) -> Result<
        std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, ApiError>>>>,
        ApiError,
    > {
        use futures_util::StreamExt;
        let client = Self::client();
        let mut res = self
            .bodiless(&client, awc::http::Method::GET, key, &[])
            .await
            .map_err(unavailable)?;
        if !res.status().is_success() {
            let status = res.status().as_u16();
            let body = res.body().limit(64 << 10).await.unwrap_or_default();
            return Err(unavailable(format!(
                "reading an object answered {status}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        Ok(Box::pin(res.map(|chunk| chunk.map_err(unavailable))))
    }

    /// Deletes an object (S3 answers 204 whether or not it existed).
    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        let client = Self::client();
        let res = self
            .bodiless(&client, awc::http::Method::DELETE, key, &[])
            .await;
        Self::expect_ok(res, "deleting an object", &[200, 204, 404]).await?;
        Ok(())
    }

    /// Every object under `prefix` with its age.
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, Duration)>, ApiError> {
        let client = Self::client();
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let now = Utc::now();
        loop {
            let mut query = vec![("list-type", "2"), ("prefix", prefix)];
            if let Some(t) = token.as_deref() {
                query.push(("continuation-token", t));
            }
            let res = self
                .bodiless(&client, awc::http::Method::GET, "", &query)
                .await;
            let body = match Self::expect_ok(res, "listing objects", &[200]).await {
                // No bucket yet: nothing stored.
                Err(ApiError::Unavailable(m)) if m.contains("NoSuchBucket") => return Ok(out),
                other => other?,
            };
            let xml = String::from_utf8_lossy(&body).into_owned();
            for item in xml.split("<Contents>").skip(1) {
                let (Some(key), Some(modified)) =
                    (element(item, "Key"), element(item, "LastModified"))
                else {
                    continue;
                };
                let age = DateTime::parse_from_rfc3339(&modified)
                    .ok()
                    .and_then(|t| (now - t.with_timezone(&Utc)).to_std().ok())
                    .unwrap_or_default();
                out.push((unescape(&key), age));
            }
            match element(&xml, "NextContinuationToken") {
                Some(t) if element(&xml, "IsTruncated").as_deref() == Some("true") => {
                    token = Some(unescape(&t))
                }
                _ => break,
            }
        }
        Ok(out)
    }
}

/// The text of the first `<name>` element in `xml`.
fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(xml[start..end].to_owned())
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of AWS's SigV4 documentation for S3 ("GET Object" with a range header
    /// left out): the signing key and string to sign follow the published algorithm.
    #[test]
    fn signing_keys_follow_the_published_derivation() {
        // From "Examples of how to derive a signing key for Signature Version 4".
        let k_date = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215");
        let k_region = hmac(&k_date, "us-east-1");
        let k_service = hmac(&k_region, "iam");
        let k_signing = hmac(&k_service, "aws4_request");
        assert_eq!(
            crate::domain::evidence::hex(&k_signing),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
        assert_eq!(encode("objects/a b+c", true), "objects/a%20b%2Bc");
        assert_eq!(encode("a/b", false), "a%2Fb");
    }
}
