//! A repository in an S3 bucket, or on an S3-compatible server (MinIO, R2, Ceph, ...).
//!
//! Region and credentials come from the standard AWS chain (environment, profile files,
//! web identity, container and instance metadata) unless given. Checksums are computed
//! and validated only when an operation requires them, which S3-compatible servers
//! without the newer checksum headers accept; each part carries its `Content-MD5`
//! instead, and the returned ETag is compared when it is a plain MD5.
//!
//! Large objects go up as multipart uploads with a fixed part size chosen from the size
//! hint so that an upload stays under 10,000 parts; at most [`PARTS_IN_FLIGHT`] parts
//! are in memory and on the wire at once. A failed upload is aborted.

use std::ops::Range;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use aws_sdk_s3::Client;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use md5::{Digest, Md5};
use tokio::task::JoinSet;

mod unfinished;

use super::{check_name, next_chunk, Backend, Chunks, ObjectInfo, ObjectReader, PutOptions, Unfinished};
use crate::error::{Error, Result};

/// Smallest part S3 accepts (except the last).
pub const MIN_PART_BYTES: u64 = 5 << 20;
/// Default part size.
pub const DEFAULT_PART_BYTES: u64 = 16 << 20;
/// Largest part S3 accepts.
pub const MAX_PART_BYTES: u64 = 5 << 30;
/// Most parts in one upload.
pub const MAX_PARTS: u64 = 10_000;
/// Parts uploaded at the same time.
pub const PARTS_IN_FLIGHT: usize = 2;
/// Parts planned for the hinted size, leaving room for a hint that is too small.
const PLANNED_PARTS: u64 = 5_000;

/// Part size for an object of about `hint` bytes: the default, or larger so that
/// twice the hint still fits in 10,000 parts (rounded up to whole MiB).
pub fn part_size(hint: Option<u64>) -> u64 {
    let needed = hint.map_or(0, |h| h.div_ceil(PLANNED_PARTS));
    needed.div_ceil(1 << 20).saturating_mul(1 << 20).clamp(DEFAULT_PART_BYTES, MAX_PART_BYTES)
}

/// Server-side encryption of stored objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sse {
    /// `AES256` (S3-managed keys).
    Aes256,
    /// `aws:kms`, with an optional key ID (the account's default key otherwise).
    Kms(Option<String>),
}

/// How to reach the bucket.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// The bucket.
    pub bucket: String,
    /// Prefix of every object (no leading or trailing `/`).
    pub prefix: String,
    /// Endpoint of an S3-compatible server (`http://127.0.0.1:9000`).
    pub endpoint: Option<String>,
    /// Path-style requests (`endpoint/bucket/key`), which most S3-compatible servers need.
    pub path_style: bool,
    /// Region; else the AWS chain's, else `us-east-1` when an endpoint is given.
    pub region: Option<String>,
    /// Access key and secret; else the AWS chain's.
    pub credentials: Option<(String, String)>,
    /// Server-side encryption.
    pub sse: Option<Sse>,
}

/// A bucket (and prefix) holding a repository.
#[derive(Debug, Clone)]
pub struct S3Backend {
    client: Client,
    options: S3Options,
}

fn sdk_message<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> String {
    match e.as_service_error() {
        Some(s) => format!("{}: {}", s.code().unwrap_or("error"), s.message().unwrap_or("no message")),
        None => DisplayErrorContext(e).to_string(),
    }
}

impl S3Backend {
    /// Builds the client (reading the AWS configuration chain where options are unset).
    pub async fn connect(options: S3Options) -> Result<S3Backend> {
        use aws_config::{BehaviorVersion, Region};
        use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
        use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

        let http =
            aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some((key, secret)) = &options.credentials {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                key.clone(),
                secret.clone(),
                None,
                None,
                "rdbkit",
            ));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared).force_path_style(options.path_style);
        if let Some(endpoint) = &options.endpoint {
            config = config.endpoint_url(endpoint.clone());
            if shared.region().is_none() {
                config = config.region(Region::new("us-east-1"));
            }
        } else if shared.region().is_none() {
            return Err(Error::Usage(
                "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's region)".into(),
            ));
        }
        Ok(S3Backend { client: Client::from_conf(config.build()), options })
    }

    fn key(&self, name: &str) -> Result<String> {
        check_name(name)?;
        Ok(if self.options.prefix.is_empty() { name.to_string() } else { format!("{}/{name}", self.options.prefix) })
    }

    fn err(&self, op: &'static str, name: &str, message: impl std::fmt::Display) -> Error {
        Error::storage(&self.location(), op, name, message)
    }

    fn sse(&self) -> (Option<ServerSideEncryption>, Option<String>) {
        match &self.options.sse {
            None => (None, None),
            Some(Sse::Aes256) => (Some(ServerSideEncryption::Aes256), None),
            Some(Sse::Kms(key)) => (Some(ServerSideEncryption::AwsKms), key.clone()),
        }
    }

    /// An ETag that is a plain MD5 must be the one of the bytes sent (KMS ETags are not).
    fn check_etag(&self, name: &str, etag: Option<&str>, md5: &[u8]) -> Result<()> {
        if matches!(self.options.sse, Some(Sse::Kms(_))) {
            return Ok(());
        }
        let etag = etag.unwrap_or_default().trim_matches('"');
        if etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit()) && !etag.eq_ignore_ascii_case(&hex(md5)) {
            return Err(Error::Integrity(format!(
                "{}: {name}: the server stored different bytes than were sent (ETag {etag}, MD5 {})",
                self.location(),
                hex(md5)
            )));
        }
        Ok(())
    }

    async fn put_single(&self, name: &str, key: &str, data: Bytes) -> Result<u64> {
        let md5 = Md5::digest(&data);
        let (sse, kms_key) = self.sse();
        let size = data.len() as u64;
        let out = self
            .client
            .put_object()
            .bucket(&self.options.bucket)
            .key(key)
            .content_length(size as i64)
            .content_md5(base64::engine::general_purpose::STANDARD.encode(md5))
            .set_server_side_encryption(sse)
            .set_ssekms_key_id(kms_key)
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| self.err("put", name, sdk_message(&e)))?;
        self.check_etag(name, out.e_tag(), &md5)?;
        Ok(size)
    }

    async fn put_multipart(&self, name: &str, key: &str, first: Bytes, mut body: Chunks, part: u64) -> Result<u64> {
        let (sse, kms_key) = self.sse();
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.options.bucket)
            .key(key)
            .set_server_side_encryption(sse)
            .set_ssekms_key_id(kms_key)
            .send()
            .await
            .map_err(|e| self.err("put", name, sdk_message(&e)))?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let uploaded = match self.mark_started(name, &upload_id).await {
            Ok(()) => self.upload_parts(name, key, &upload_id, first, &mut body, part).await,
            Err(e) => Err(e),
        };
        let result = match uploaded {
            Ok((parts, size)) => self
                .client
                .complete_multipart_upload()
                .bucket(&self.options.bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                .send()
                .await
                .map(|_| size)
                .map_err(|e| self.err("put", name, sdk_message(&e))),
            Err(e) => Err(e),
        };
        if result.is_err() {
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.options.bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        self.mark_done(&upload_id).await;
        result
    }

    /// Cuts the body into parts of `part` bytes and uploads them, a few at a time.
    async fn upload_parts(
        &self,
        name: &str,
        key: &str,
        upload_id: &str,
        first: Bytes,
        body: &mut Chunks,
        part: u64,
    ) -> Result<(Vec<CompletedPart>, u64)> {
        let part = usize::try_from(part).unwrap_or(usize::MAX);
        let mut buf = BytesMut::with_capacity(part);
        buf.extend_from_slice(&first);
        let mut tasks: JoinSet<Result<CompletedPart>> = JoinSet::new();
        let mut done = Vec::new();
        let mut number = 0i32;
        let mut size = first.len() as u64;
        let mut ended = false;
        while !ended || !buf.is_empty() {
            while !ended && buf.len() < part {
                match next_chunk(body).await.map_err(|e| self.err("put", name, e))? {
                    Some(chunk) => {
                        size += chunk.len() as u64;
                        buf.extend_from_slice(&chunk);
                    }
                    None => ended = true,
                }
            }
            let data = if buf.len() > part { buf.split_to(part) } else { buf.split() }.freeze();
            if data.is_empty() {
                break;
            }
            number += 1;
            if i64::from(number) > MAX_PARTS as i64 {
                return Err(self.err("put", name, format!("more than {MAX_PARTS} parts of {part} bytes")));
            }
            while tasks.len() >= PARTS_IN_FLIGHT {
                done.push(self.joined(name, tasks.join_next().await)?);
            }
            tasks.spawn(upload_part(
                self.clone(),
                name.to_string(),
                key.to_string(),
                upload_id.to_string(),
                number,
                data,
            ));
            if buf.capacity() < part {
                buf.reserve(part - buf.len());
            }
        }
        while let Some(joined) = tasks.join_next().await {
            done.push(self.joined(name, Some(joined))?);
        }
        done.sort_by_key(|p| p.part_number());
        Ok((done, size))
    }

    fn joined(
        &self,
        name: &str,
        joined: Option<std::result::Result<Result<CompletedPart>, tokio::task::JoinError>>,
    ) -> Result<CompletedPart> {
        match joined {
            Some(Ok(r)) => r,
            Some(Err(e)) => Err(self.err("put", name, e)),
            None => Err(self.err("put", name, "no part upload running")),
        }
    }
}

async fn upload_part(
    s3: S3Backend,
    name: String,
    key: String,
    upload_id: String,
    number: i32,
    data: Bytes,
) -> Result<CompletedPart> {
    let md5 = Md5::digest(&data);
    let out = s3
        .client
        .upload_part()
        .bucket(&s3.options.bucket)
        .key(&key)
        .upload_id(&upload_id)
        .part_number(number)
        .content_length(data.len() as i64)
        .content_md5(base64::engine::general_purpose::STANDARD.encode(md5))
        .body(ByteStream::from(data))
        .send()
        .await
        .map_err(|e| s3.err("put", &name, format!("part {number}: {}", sdk_message(&e))))?;
    s3.check_etag(&name, out.e_tag(), &md5)?;
    Ok(CompletedPart::builder().part_number(number).set_e_tag(out.e_tag().map(str::to_string)).build())
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn time_of(t: Option<&aws_sdk_s3::primitives::DateTime>) -> Option<chrono::DateTime<chrono::Utc>> {
    let t = t?;
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

#[async_trait::async_trait]
impl Backend for S3Backend {
    fn location(&self) -> String {
        match self.options.prefix.as_str() {
            "" => format!("s3://{}", self.options.bucket),
            p => format!("s3://{}/{p}", self.options.bucket),
        }
    }

    async fn put(&self, name: &str, mut body: Chunks, options: PutOptions) -> Result<u64> {
        let key = self.key(name)?;
        let part = part_size(options.size_hint);
        // Objects smaller than one part go up in one request.
        let mut first = BytesMut::new();
        loop {
            match next_chunk(&mut body).await.map_err(|e| self.err("put", name, e))? {
                Some(chunk) => {
                    first.extend_from_slice(&chunk);
                    if first.len() as u64 >= part {
                        return self.put_multipart(name, &key, first.freeze(), body, part).await;
                    }
                }
                None => return self.put_single(name, &key, first.freeze()).await,
            }
        }
    }

    async fn get(&self, name: &str, range: Option<Range<u64>>) -> Result<ObjectReader> {
        let key = self.key(name)?;
        if range.as_ref().is_some_and(|r| r.start >= r.end) {
            return Ok(Box::pin(tokio::io::empty()));
        }
        let out = self
            .client
            .get_object()
            .bucket(&self.options.bucket)
            .key(&key)
            .set_range(range.map(|r| format!("bytes={}-{}", r.start, r.end - 1)))
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                    Error::Missing { location: self.location(), name: name.to_string() }
                } else {
                    self.err("get", name, sdk_message(&e))
                }
            })?;
        Ok(Box::pin(out.body.into_async_read()))
    }

    async fn stat(&self, name: &str) -> Result<Option<ObjectInfo>> {
        let key = self.key(name)?;
        match self.client.head_object().bucket(&self.options.bucket).key(&key).send().await {
            Ok(out) => Ok(Some(ObjectInfo {
                name: name.to_string(),
                size: out.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                modified: time_of(out.last_modified()),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(self.err("stat", name, sdk_message(&e))),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let root = if self.options.prefix.is_empty() { String::new() } else { format!("{}/", self.options.prefix) };
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.options.bucket)
            .prefix(format!("{root}{prefix}"))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("list", prefix, sdk_message(&e)))?;
            for o in page.contents() {
                let Some(name) = o.key().and_then(|k| k.strip_prefix(&root)) else { continue };
                out.push(ObjectInfo {
                    name: name.to_string(),
                    size: o.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                    modified: time_of(o.last_modified()),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn unfinished(&self) -> Result<Vec<Unfinished>> {
        self.list_unfinished().await
    }

    async fn discard(&self, upload: &Unfinished) -> Result<()> {
        self.abort_unfinished(upload).await
    }

    async fn delete(&self, name: &str) -> Result<()> {
        let key = self.key(name)?;
        self.client
            .delete_object()
            .bucket(&self.options.bucket)
            .key(&key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("delete", name, sdk_message(&e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes_keep_under_the_part_limit() {
        assert_eq!(part_size(None), DEFAULT_PART_BYTES);
        assert_eq!(part_size(Some(1 << 30)), DEFAULT_PART_BYTES);
        for hint in [100u64 << 30, 1 << 40, 5 << 40] {
            let p = part_size(Some(hint));
            assert!((MIN_PART_BYTES..=MAX_PART_BYTES).contains(&p) && p.is_multiple_of(1 << 20), "{hint}: {p}");
            assert!((2 * hint).div_ceil(p) <= MAX_PARTS, "twice {hint} fits in {MAX_PARTS} parts of {p}");
        }
        assert_eq!(part_size(Some(u64::MAX)), MAX_PART_BYTES);
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
    }
}
