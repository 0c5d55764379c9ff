//! Multipart uploads a killed run left behind. S3 keeps (and bills) an upload that was
//! neither completed nor aborted, and `list` never shows it; not every S3-compatible
//! server can list them (s3s-fs cannot). So each multipart upload is recorded in a small
//! marker object, `uploads/<hex of the upload ID>.json`, from its start until it is
//! completed or aborted; what markers remain name the unfinished uploads, which
//! `backup prune` aborts.

use aws_sdk_s3::error::ProvideErrorMetadata;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{sdk_message, S3Backend};
use crate::backend::{Backend, Unfinished};
use crate::error::Result;

/// Where the markers live (reserved by the S3 backend).
pub const UPLOADS: &str = "uploads/";

/// A marker's content.
#[derive(Serialize, Deserialize)]
struct Marker {
    name: String,
    upload_id: String,
    started: DateTime<Utc>,
}

fn marker_name(upload_id: &str) -> String {
    let hex: String = upload_id.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{UPLOADS}{hex}.json")
}

impl S3Backend {
    /// Records that `upload_id` is under way for `name`.
    pub(super) async fn mark_started(&self, name: &str, upload_id: &str) -> Result<()> {
        let marker = Marker { name: name.to_string(), upload_id: upload_id.to_string(), started: Utc::now() };
        let json = serde_json::to_vec(&marker).map_err(|e| self.err("put", name, e))?;
        let marker = marker_name(upload_id);
        let key = self.key(&marker)?;
        self.put_single(&marker, &key, Bytes::from(json)).await.map(|_| ())
    }

    /// Forgets the marker of an upload that was completed or aborted (best effort: a
    /// marker left behind only makes prune try an abort that finds nothing).
    pub(super) async fn mark_done(&self, upload_id: &str) {
        let _ = self.delete(&marker_name(upload_id)).await;
    }

    /// Every upload whose marker remains.
    pub(super) async fn list_unfinished(&self) -> Result<Vec<Unfinished>> {
        let mut out = Vec::new();
        for object in self.list(UPLOADS).await? {
            let bytes = crate::backend::get_bytes(self, &object.name).await?;
            // A marker that does not parse is left alone.
            let Ok(m) = serde_json::from_slice::<Marker>(&bytes) else { continue };
            out.push(Unfinished { name: m.name, upload_id: m.upload_id, started: Some(m.started) });
        }
        Ok(out)
    }

    /// Aborts an unfinished upload and removes its marker.
    pub(super) async fn abort_unfinished(&self, upload: &Unfinished) -> Result<()> {
        let key = self.key(&upload.name)?;
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&self.options.bucket)
            .key(&key)
            .upload_id(&upload.upload_id)
            .send()
            .await;
        match aborted {
            Ok(_) => {}
            // Completed or aborted already; only the marker was left.
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NoSuchUpload") => {}
            Err(e) => return Err(self.err("abort the unfinished upload of", &upload.name, sdk_message(&e))),
        }
        self.delete(&marker_name(&upload.upload_id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_names_are_valid_object_names() {
        let name = marker_name("2~abc/def+ghi=");
        assert!(crate::backend::check_name(&name).is_ok(), "{name}");
        assert!(name.starts_with(UPLOADS) && name.ends_with(".json"));
    }
}
