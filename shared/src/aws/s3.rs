//! The `BlobStore` port on an S3 bucket. Objects are encrypted by the bucket's default
//! encryption, so no request names a key or algorithm. A download is a presigned GET: the file
//! goes from S3 to the client, never through a Lambda response (6 MB at most).

use crate::ports::{BlobDownload, BlobError, BlobKey, BlobStore};
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use std::path::Path;
use std::time::Duration;

const MIB: u64 = 1024 * 1024;

/// S3 refuses a part smaller than this, unless it is the last.
pub const MIN_PART_SIZE: u64 = 5 * MIB;

const PART_SIZE: u64 = 8 * MIB;

/// Above this a file goes in parts, so a failed request resends one part, not the whole file.
const SINGLE_PUT_LIMIT: u64 = 16 * MIB;

#[derive(Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
    part_size: u64,
    single_put_limit: u64,
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> S3Blobs {
        S3Blobs { client, bucket: bucket.into(), part_size: PART_SIZE, single_put_limit: SINGLE_PUT_LIMIT }
    }

    #[cfg(any(test, feature = "testing"))]
    /// Files larger than one part go in parts of `part_size` bytes, so a test can exercise a
    /// multipart upload with a file of a few parts. Panics below [`MIN_PART_SIZE`].
    pub fn with_part_size(client: Client, bucket: impl Into<String>, part_size: u64) -> S3Blobs {
        assert!(part_size >= MIN_PART_SIZE, "S3 refuses parts smaller than {MIN_PART_SIZE} bytes");
        S3Blobs { client, bucket: bucket.into(), part_size, single_put_limit: part_size }
    }

    /// A caller that drops this future mid-upload aborts nothing: the bucket needs an
    /// `AbortIncompleteMultipartUpload` lifecycle rule to remove what such uploads leave.
    async fn put_in_parts(&self, key: &BlobKey, file: &Path, size: u64, content_type: &str) -> Result<(), BlobError> {
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .send()
            .await
            .map_err(|e| unavailable("starting the upload of", key, e))?;
        let upload_id = upload.upload_id().ok_or_else(|| BlobError::Unavailable(format!("starting the upload of {key}: S3 gave no upload id")))?;
        let sent = self.send_parts(key, file, size, upload_id).await;
        if sent.is_err() {
            // The parts of an unfinished upload are kept, and billed, until it is aborted.
            let aborted = self.client.abort_multipart_upload().bucket(&self.bucket).key(key.as_str()).upload_id(upload_id).send().await;
            if let Err(e) = aborted {
                tracing::warn!(key = %key, error = %DisplayErrorContext(&e), "could not abort a failed upload; its parts are kept");
            }
        }
        sent
    }

    /// Each part is streamed from its range of the file as it is sent, one part at a time, so
    /// memory stays small whatever the file's size.
    async fn send_parts(&self, key: &BlobKey, file: &Path, size: u64, upload_id: &str) -> Result<(), BlobError> {
        let mut parts = Vec::new();
        let (mut number, mut offset) = (1, 0);
        while offset < size {
            let length = self.part_size.min(size - offset);
            let body = ByteStream::read_from()
                .path(file)
                .offset(offset)
                .length(Length::Exact(length))
                .build()
                .await
                .map_err(|e| BlobError::Io(format!("{}: {e}", file.display())))?;
            let part = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key.as_str())
                .upload_id(upload_id)
                .part_number(number)
                .body(body)
                .send()
                .await
                .map_err(|e| unavailable(&format!("sending part {number} of"), key, e))?;
            parts.push(CompletedPart::builder().part_number(number).set_e_tag(part.e_tag).build());
            number += 1;
            offset += length;
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|e| unavailable("completing the upload of", key, e))?;
        Ok(())
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put_file(&self, key: &BlobKey, file: &Path, content_type: &str) -> Result<(), BlobError> {
        let io_error = |e: &dyn std::fmt::Display| BlobError::Io(format!("{}: {e}", file.display()));
        let size = tokio::fs::metadata(file).await.map_err(|e| io_error(&e))?.len();
        if size > self.single_put_limit {
            return self.put_in_parts(key, file, size, content_type).await;
        }
        let body = ByteStream::from_path(file).await.map_err(|e| io_error(&e))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| unavailable("storing", key, e))?;
        Ok(())
    }

    /// The link is signed with this process's credentials and stops working when they expire,
    /// even before `valid_for` has passed: a Lambda's role credentials are temporary.
    async fn download(&self, key: &BlobKey, valid_for: Duration) -> Result<Option<BlobDownload>, BlobError> {
        // Signing makes no request and would sign a link to a missing file: S3 is asked first.
        match self.client.head_object().bucket(&self.bucket).key(key.as_str()).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => return Ok(None),
            Err(e) => return Err(unavailable("looking up", key, e)),
        }
        let presigning = PresigningConfig::expires_in(valid_for).map_err(|e| BlobError::Unavailable(format!("a download link for {key}: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(presigning)
            .await
            .map_err(|e| unavailable("signing a download link for", key, e))?;
        Ok(Some(BlobDownload::Redirect(request.uri().to_owned())))
    }

    async fn read(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        let object = match self.client.get_object().bucket(&self.bucket).key(key.as_str()).send().await {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(unavailable("reading", key, e)),
        };
        let body = object.body.collect().await.map_err(|e| unavailable("reading", key, e))?;
        Ok(Some(body.into_bytes().to_vec()))
    }
}

fn unavailable(doing: &str, key: &BlobKey, e: impl std::error::Error) -> BlobError {
    BlobError::Unavailable(format!("{doing} {key}: {}", DisplayErrorContext(e)))
}
