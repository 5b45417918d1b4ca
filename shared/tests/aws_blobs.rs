//! `S3Blobs` against moto, through the real SDK: single and multipart uploads, reads, and
//! presigned download links fetched over plain HTTP.

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;
use vaccount::aws::s3::{MIN_PART_SIZE, S3Blobs};
use vaccount::aws::s3_client;
use vaccount::ports::{BlobDownload, BlobKey, BlobStore};
use vaccount::testing::moto_config;

const CSV: &str = "text/csv";

struct Bucket {
    client: aws_sdk_s3::Client,
    name: String,
}

/// A fresh bucket, so tests running at once never see each other's files.
async fn bucket() -> Bucket {
    let client = s3_client(&moto_config().await);
    let name = format!("vaccount-test-{}", ulid::Ulid::new().to_string().to_lowercase());
    // Outside us-east-1, S3 wants the bucket's region stated.
    let location = CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::ApNortheast2).build();
    client.create_bucket().bucket(&name).create_bucket_configuration(location).send().await.unwrap();
    Bucket { client, name }
}

fn key(text: &str) -> BlobKey {
    BlobKey::new(text).unwrap()
}

fn random_file(dir: &Path, len: usize) -> (PathBuf, Vec<u8>) {
    let mut content = vec![0; len];
    rand::rng().fill_bytes(&mut content);
    let path = dir.join("upload.bin");
    std::fs::write(&path, &content).unwrap();
    (path, content)
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_file_reads_back_byte_identical_with_its_content_type() {
    let bucket = bucket().await;
    let blobs = S3Blobs::new(bucket.client.clone(), &bucket.name);
    let dir = tempfile::tempdir().unwrap();
    let (file, content) = random_file(dir.path(), 10_000);

    blobs.put_file(&key("settlements/m_1/2025-01-02.csv"), &file, CSV).await.unwrap();

    assert_eq!(blobs.read(&key("settlements/m_1/2025-01-02.csv")).await.unwrap(), Some(content));
    let head = bucket.client.head_object().bucket(&bucket.name).key("settlements/m_1/2025-01-02.csv").send().await.unwrap();
    assert_eq!(head.content_type(), Some(CSV));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_larger_than_a_part_goes_in_parts_and_reads_back_whole() {
    let bucket = bucket().await;
    let blobs = S3Blobs::with_part_size(bucket.client.clone(), &bucket.name, MIN_PART_SIZE);
    let dir = tempfile::tempdir().unwrap();
    // Two whole parts and a short last one.
    let (file, content) = random_file(dir.path(), 11 * 1024 * 1024 + 12_345);

    blobs.put_file(&key("exports/big.bin"), &file, "application/octet-stream").await.unwrap();

    // A multipart object's ETag ends with its number of parts.
    let head = bucket.client.head_object().bucket(&bucket.name).key("exports/big.bin").send().await.unwrap();
    assert!(head.e_tag().unwrap_or_default().ends_with("-3\""), "{:?}", head.e_tag());
    let read = blobs.read(&key("exports/big.bin")).await.unwrap().expect("stored");
    assert_eq!(sha256(&read), sha256(&content));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_is_a_link_that_a_plain_get_fetches() {
    let bucket = bucket().await;
    let blobs = S3Blobs::new(bucket.client.clone(), &bucket.name);
    let dir = tempfile::tempdir().unwrap();
    let (file, content) = random_file(dir.path(), 50_000);
    blobs.put_file(&key("reports/r.csv"), &file, CSV).await.unwrap();

    let download = blobs.download(&key("reports/r.csv"), Duration::from_secs(300)).await.unwrap();

    let Some(BlobDownload::Redirect(url)) = download else { panic!("expected a link, got {download:?}") };
    let response = reqwest::get(&url).await.unwrap().error_for_status().unwrap();
    assert_eq!(response.bytes().await.unwrap(), content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_with_no_object_reads_and_downloads_as_none() {
    let bucket = bucket().await;
    let blobs = S3Blobs::new(bucket.client.clone(), &bucket.name);

    assert_eq!(blobs.read(&key("reports/missing.csv")).await.unwrap(), None);
    assert!(blobs.download(&key("reports/missing.csv"), Duration::from_secs(300)).await.unwrap().is_none());
}
