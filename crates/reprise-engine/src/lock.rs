//! S3 Object Lock for immutable repositories: what OpenDAL does not send.
//!
//! A repository declared immutable keeps every object a restore needs (`config`, `keys/`,
//! `snapshots/`, `data/`) under an Object Lock retention nobody can shorten, the
//! repository's own credentials included: written with its retention, extended while a
//! kept restore point still needs it, deleted (by version, so the storage is freed) only
//! once it lapsed. Index files are derived data (the packs' headers hold the same), so
//! they stay unlocked and are rebuilt when lost.
//!
//! Restic files are written once under a name that is their content's SHA-256 (the
//! `config` too is written once), so the oldest version of a name is the one Reprise
//! wrote: an intruder's deletion (a delete marker) or overwrite (a newer version) is
//! undone by copying the oldest version back ([`S3Api::restore_oldest`]).
//!
//! Requests are signed with AWS SigV4 (`reqsign`, the signer OpenDAL itself uses) and
//! sent with `reqwest`, addressed path-style like OpenDAL's.

use base64::Engine as _;
use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use md5::Digest as _;
use reqsign_aws_v4::{Credential, RequestSigner, StaticCredentialProvider};
use reqsign_core::{Context, Signer};
use serde::Deserialize;

/// How locked objects resist deletion (S3's retention modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LockMode {
    /// Nobody can delete or shorten the lock, not even the account's root user.
    #[default]
    Compliance,
    /// Users with `s3:BypassGovernanceRetention` can lift it: for a trial period.
    Governance,
}

impl LockMode {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "compliance" => Some(Self::Compliance),
            "governance" => Some(Self::Governance),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliance => "compliance",
            Self::Governance => "governance",
        }
    }

    fn header(self) -> &'static str {
        match self {
            Self::Compliance => "COMPLIANCE",
            Self::Governance => "GOVERNANCE",
        }
    }
}

/// The lock an immutable repository puts on what it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectLock {
    pub period: SignedDuration,
    pub mode: LockMode,
}

impl ObjectLock {
    /// The date a lock taken `now` holds until.
    pub fn until(&self, now: Timestamp) -> Timestamp {
        now.saturating_add(self.period).unwrap_or(now)
    }

    /// Whether a lock holding until `until` is extended `now`: when less than half its
    /// period is left, so that a day of maintenance missed never lets it lapse.
    pub fn needs_extension(&self, until: Option<Timestamp>, now: Timestamp) -> bool {
        match until {
            None => true,
            Some(until) => until.duration_since(now) < self.period / 2,
        }
    }
}

/// One version of an object (or a delete marker) as the bucket lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub key: String,
    pub version_id: String,
    pub last_modified: String,
    pub delete_marker: bool,
    /// The content's digest as the bucket gives it: a copy brought back has the
    /// original's.
    pub etag: String,
    /// Whether it is the current state of its key.
    pub latest: bool,
}

/// What a HEAD says of an object's current (or given) version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub version_id: Option<String>,
    pub retain_until: Option<Timestamp>,
}

/// Signed requests to one bucket, below one prefix.
pub(crate) struct S3Api {
    client: reqwest::Client,
    signer: Signer<Credential>,
    endpoint: String,
    bucket: String,
    /// `""` or `backups/reprise/`: what precedes the repository's own paths.
    prefix: String,
}

impl std::fmt::Debug for S3Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Api")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn md5_base64(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(body))
}

fn sha256_hex(body: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(body);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// S3 writes dates as `2026-12-05T21:07:40Z` (with or without fractions).
fn s3_date(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "Code", default)]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

#[derive(Deserialize, Default)]
struct ListVersions {
    #[serde(rename = "Version", default)]
    versions: Vec<VersionXml>,
    #[serde(rename = "DeleteMarker", default)]
    markers: Vec<VersionXml>,
    #[serde(rename = "IsTruncated", default)]
    truncated: bool,
    #[serde(rename = "NextKeyMarker", default)]
    next_key: Option<String>,
    #[serde(rename = "NextVersionIdMarker", default)]
    next_version: Option<String>,
}

#[derive(Deserialize)]
struct VersionXml {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "VersionId")]
    version_id: String,
    #[serde(rename = "LastModified", default)]
    last_modified: String,
    #[serde(rename = "ETag", default)]
    etag: String,
    #[serde(rename = "IsLatest", default)]
    latest: bool,
}

#[derive(Deserialize)]
struct LockConfiguration {
    #[serde(rename = "ObjectLockEnabled", default)]
    enabled: String,
}

/// Percent-encoding of a query value or a copy source, as SigV4 canonicalises it.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl S3Api {
    pub(crate) fn new(
        endpoint: &str,
        bucket: &str,
        root: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> std::result::Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(300))
            .build()
            .map_err(|e| format!("cannot make the HTTP client: {e}"))?;
        let signer = Signer::new(
            Context::new(),
            StaticCredentialProvider::new(access_key_id, secret_access_key),
            RequestSigner::new("s3", region),
        );
        let prefix = root.trim_matches('/');
        Ok(Self {
            client,
            signer,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }

    /// The bucket's key of a repository path (`data/ab/abcd…`).
    pub(crate) fn key(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// The repository path of a bucket key, when it is below the prefix.
    pub(crate) fn path<'a>(&self, key: &'a str) -> Option<&'a str> {
        key.strip_prefix(self.prefix.as_str())
    }

    async fn send(
        &self,
        method: http::Method,
        key: &str,
        query: &[(&str, &str)],
        headers: &[(&str, String)],
        body: Bytes,
    ) -> std::result::Result<reqwest::Response, String> {
        let path: String = key.split('/').map(encode).collect::<Vec<_>>().join("/");
        let mut url = format!("{}/{}/{path}", self.endpoint, self.bucket);
        if !query.is_empty() {
            let pairs: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect();
            url = format!("{url}?{}", pairs.join("&"));
        }
        let mut builder = http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        builder = builder.header("x-amz-content-sha256", sha256_hex(&body));
        let (mut parts, ()) = builder
            .body(())
            .map_err(|e| format!("bad request to {url}: {e}"))?
            .into_parts();
        self.signer
            .sign(&mut parts, None)
            .await
            .map_err(|e| format!("cannot sign the request: {e}"))?;
        let request = reqwest::Request::try_from(http::Request::from_parts(parts, body))
            .map_err(|e| format!("bad request to {url}: {e}"))?;
        self.client
            .execute(request)
            .await
            .map_err(|e| format!("{url}: {e}"))
    }

    /// The error a failed answer carries, in S3's words.
    async fn failure(what: &str, response: reqwest::Response) -> String {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        match quick_xml::de::from_str::<ErrorBody>(&text) {
            Ok(e) if !e.code.is_empty() => format!("{what}: {} ({})", e.message, e.code),
            _ => format!("{what}: HTTP {status}"),
        }
    }

    /// Whether the bucket has Object Lock enabled (it can only be, for a bucket made so).
    pub(crate) async fn lock_enabled(&self) -> std::result::Result<bool, String> {
        let response = self
            .send(
                http::Method::GET,
                "",
                &[("object-lock", "")],
                &[],
                Bytes::new(),
            )
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(false);
        }
        if !response.status().is_success() {
            let text = Self::failure("reading the bucket's Object Lock", response).await;
            // Buckets without a lock answer with this code rather than a 404 on some servers.
            return if text.contains("ObjectLockConfigurationNotFound") {
                Ok(false)
            } else {
                Err(text)
            };
        }
        let text = response.text().await.map_err(|e| e.to_string())?;
        let config: LockConfiguration =
            quick_xml::de::from_str(&text).map_err(|e| format!("unreadable lock answer: {e}"))?;
        Ok(config.enabled == "Enabled")
    }

    /// Writes an object locked until `until`.
    pub(crate) async fn put_locked(
        &self,
        key: &str,
        body: Bytes,
        lock: ObjectLock,
        until: Timestamp,
    ) -> std::result::Result<(), String> {
        let headers = [
            ("content-md5", md5_base64(&body)),
            ("x-amz-object-lock-mode", lock.mode.header().to_string()),
            ("x-amz-object-lock-retain-until-date", s3_date(until)),
        ];
        let response = self
            .send(http::Method::PUT, key, &[], &headers, body)
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Self::failure(&format!("writing {key}"), response).await)
        }
    }

    /// The version and lock of an object (its current version, or `version`); `None`
    /// when there is no such object.
    pub(crate) async fn head(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> std::result::Result<Option<Head>, String> {
        let query: Vec<(&str, &str)> = version.map(|v| ("versionId", v)).into_iter().collect();
        let response = self
            .send(http::Method::HEAD, key, &query, &[], Bytes::new())
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(format!("reading {key}: HTTP {}", response.status()));
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retain_until = header("x-amz-object-lock-retain-until-date")
            .map(|date| {
                date.parse::<Timestamp>()
                    .map_err(|e| format!("{key}: unreadable lock date {date:?}: {e}"))
            })
            .transpose()?;
        Ok(Some(Head {
            version_id: header("x-amz-version-id").filter(|v| v != "null"),
            retain_until,
        }))
    }

    /// Sets an object version's lock to `until` (it can only be lengthened).
    pub(crate) async fn retain(
        &self,
        key: &str,
        version: Option<&str>,
        lock: ObjectLock,
        until: Timestamp,
    ) -> std::result::Result<(), String> {
        let body = Bytes::from(format!(
            "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>{}</Mode>\
             <RetainUntilDate>{}</RetainUntilDate></Retention>",
            lock.mode.header(),
            s3_date(until)
        ));
        let mut query = vec![("retention", "")];
        if let Some(v) = version {
            query.push(("versionId", v));
        }
        let headers = [("content-md5", md5_base64(&body))];
        let response = self
            .send(http::Method::PUT, key, &query, &headers, body)
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Self::failure(&format!("extending the lock of {key}"), response).await)
        }
    }

    /// Deletes one version of an object for good (refused by the bucket while locked).
    pub(crate) async fn delete_version(
        &self,
        key: &str,
        version: &str,
    ) -> std::result::Result<(), String> {
        let response = self
            .send(
                http::Method::DELETE,
                key,
                &[("versionId", version)],
                &[],
                Bytes::new(),
            )
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Self::failure(&format!("deleting {key}"), response).await)
        }
    }

    /// Every version and delete marker below the prefix.
    pub(crate) async fn versions(&self) -> std::result::Result<Vec<Version>, String> {
        let mut out = Vec::new();
        let mut markers: Option<(String, String)> = None;
        loop {
            let mut query = vec![("prefix", self.prefix.as_str()), ("versions", "")];
            if let Some((key, version)) = &markers {
                query.push(("key-marker", key));
                query.push(("version-id-marker", version));
            }
            let response = self
                .send(http::Method::GET, "", &query, &[], Bytes::new())
                .await?;
            if !response.status().is_success() {
                return Err(Self::failure("listing the bucket's versions", response).await);
            }
            let text = response.text().await.map_err(|e| e.to_string())?;
            let page: ListVersions = quick_xml::de::from_str(&text)
                .map_err(|e| format!("unreadable version list: {e}"))?;
            let version = |v: VersionXml, delete_marker| Version {
                key: v.key,
                version_id: v.version_id,
                last_modified: v.last_modified,
                delete_marker,
                etag: v.etag,
                latest: v.latest,
            };
            out.extend(page.versions.into_iter().map(|v| version(v, false)));
            out.extend(page.markers.into_iter().map(|v| version(v, true)));
            match (page.truncated, page.next_key, page.next_version) {
                (true, Some(key), Some(version)) => markers = Some((key, version)),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Makes a version current again by copying it over (locked like a new write when
    /// `lock` is given).
    pub(crate) async fn restore_version(
        &self,
        key: &str,
        version: &str,
        lock: Option<ObjectLock>,
        until: Timestamp,
    ) -> std::result::Result<(), String> {
        let source = format!(
            "/{}/{}?versionId={}",
            self.bucket,
            key.split('/').map(encode).collect::<Vec<_>>().join("/"),
            encode(version)
        );
        let mut headers = vec![("x-amz-copy-source", source)];
        if let Some(lock) = lock {
            // Some servers ask for it on any locked write, copies included (of the
            // request's body, empty here).
            headers.push(("content-md5", md5_base64(&[])));
            headers.push(("x-amz-object-lock-mode", lock.mode.header().to_string()));
            headers.push(("x-amz-object-lock-retain-until-date", s3_date(until)));
        }
        let response = self
            .send(http::Method::PUT, key, &[], &headers, Bytes::new())
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Self::failure(&format!("restoring {key}"), response).await)
        }
    }
}

/// For each name whose current state is not its first version's content (deleted, or
/// written over), that first version: restic writes a name once, so it is the original.
/// A copy of it made current again (same content, same ETag) is the original.
pub(crate) fn originals_hidden(versions: &[Version]) -> Vec<(String, String)> {
    // Buckets list the versions of a key newest first (dates alone may tie: some keep
    // seconds only), and flag the current state of each key.
    let mut by_key: std::collections::BTreeMap<&str, Vec<&Version>> = Default::default();
    for v in versions {
        by_key.entry(v.key.as_str()).or_default().push(v);
    }
    let mut out = Vec::new();
    for (key, list) in by_key {
        let Some(first) = list.iter().rev().find(|v| !v.delete_marker) else {
            continue;
        };
        let Some(newest) = list.iter().find(|v| v.latest) else {
            continue;
        };
        let original = newest.version_id == first.version_id
            || (!newest.delete_marker && !newest.etag.is_empty() && newest.etag == first.etag);
        if !original {
            out.push((key.to_string(), first.version_id.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(key: &str, id: &str, latest: bool, marker: bool) -> Version {
        Version {
            key: key.into(),
            version_id: id.into(),
            last_modified: "2026-12-01T10:00:00.000Z".into(),
            delete_marker: marker,
            etag: if marker {
                String::new()
            } else {
                format!("\"{key}-{id}\"")
            },
            latest,
        }
    }

    #[test]
    fn a_lock_is_extended_when_less_than_half_its_period_is_left() {
        let lock = ObjectLock {
            period: SignedDuration::from_hours(24 * 30),
            mode: LockMode::Compliance,
        };
        let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        assert!(
            lock.needs_extension(None, now),
            "an unlocked object is locked"
        );
        let soon = now + SignedDuration::from_hours(24 * 10);
        assert!(lock.needs_extension(Some(soon), now));
        let later = now + SignedDuration::from_hours(24 * 20);
        assert!(!lock.needs_extension(Some(later), now));
        assert_eq!(
            lock.until(now),
            "2026-12-31T00:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn the_first_version_of_a_deleted_or_overwritten_name_is_brought_back() {
        // As buckets list them: versions newest first, delete markers apart, all with
        // the same date (some buckets keep seconds only).
        let versions = [
            v("data/ab/ab1", "1", false, false),
            v("snapshots/s1", "4", true, false),
            v("snapshots/s1", "3", false, false),
            v("keys/k1", "5", true, false),
            Version {
                etag: "\"index/i1-6\"".into(),
                ..v("index/i1", "8", true, false)
            },
            v("index/i1", "6", false, false),
            v("data/ab/ab1", "2", true, true),
            v("index/i1", "7", false, true),
        ];
        assert_eq!(
            originals_hidden(&versions),
            vec![
                ("data/ab/ab1".to_string(), "1".to_string()),
                ("snapshots/s1".to_string(), "3".to_string()),
            ],
            "a key brought back once (index/i1: the copy has the original's content) is left"
        );
    }

    #[test]
    fn s3_names_and_dates_are_written_as_sigv4_and_s3_read_them() {
        assert_eq!(encode("a b/c~d"), "a%20b%2Fc~d");
        let ts: Timestamp = "2026-12-05T21:07:40.123Z".parse().unwrap();
        assert_eq!(s3_date(ts), "2026-12-05T21:07:40Z");
        assert_eq!(LockMode::parse("governance"), Some(LockMode::Governance));
        assert_eq!(LockMode::parse("strict"), None);
    }
}
