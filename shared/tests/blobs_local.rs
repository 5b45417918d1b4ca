//! `LocalBlobs`, the file store of `serve`, in a temporary directory.

use std::path::{Path, PathBuf};
use std::time::Duration;
use vaccount::ports::{BlobDownload, BlobError, BlobKey, BlobStore};
use vaccount::store::LocalBlobs;

const CSV: &str = "text/csv";

fn key(text: &str) -> BlobKey {
    BlobKey::new(text).unwrap()
}

fn source_file(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[tokio::test]
async fn a_stored_file_reads_back_byte_identical() {
    let (root, sources) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let blobs = LocalBlobs::new(root.path().to_owned());
    let file = source_file(sources.path(), "in.csv", b"day,amount\n2025-01-02,15000\n");

    blobs.put_file(&key("settlements/m_1/2025-01-02.csv"), &file, CSV).await.unwrap();

    let read = blobs.read(&key("settlements/m_1/2025-01-02.csv")).await.unwrap();
    assert_eq!(read.as_deref(), Some(&b"day,amount\n2025-01-02,15000\n"[..]));
}

#[tokio::test]
async fn a_download_is_the_stored_file_below_the_root() {
    let (root, sources) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let blobs = LocalBlobs::new(root.path().to_owned());
    let file = source_file(sources.path(), "in.csv", b"report");
    blobs.put_file(&key("reports/r.csv"), &file, CSV).await.unwrap();

    let download = blobs.download(&key("reports/r.csv"), Duration::from_secs(60)).await.unwrap();

    let Some(BlobDownload::Local(path)) = download else { panic!("expected a local file, got {download:?}") };
    assert!(path.starts_with(root.path()), "{}", path.display());
    assert_eq!(std::fs::read(&path).unwrap(), b"report");
}

#[tokio::test]
async fn a_second_put_replaces_the_file_and_leaves_nothing_else_behind() {
    let (root, sources) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let blobs = LocalBlobs::new(root.path().to_owned());
    blobs.put_file(&key("a/f.csv"), &source_file(sources.path(), "old.csv", b"old, and longer"), CSV).await.unwrap();

    blobs.put_file(&key("a/f.csv"), &source_file(sources.path(), "new.csv", b"new"), CSV).await.unwrap();

    let names: Vec<_> = std::fs::read_dir(root.path().join("a")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["f.csv"], "no temporary file is left beside the file");
    assert_eq!(blobs.read(&key("a/f.csv")).await.unwrap(), Some(b"new".to_vec()));
}

#[tokio::test]
async fn a_key_with_no_file_reads_and_downloads_as_none() {
    let (root, sources) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let blobs = LocalBlobs::new(root.path().to_owned());
    blobs.put_file(&key("a/f.csv"), &source_file(sources.path(), "in.csv", b"x"), CSV).await.unwrap();

    // Never stored; a directory, not a file; below a file, not a directory.
    for missing in ["b.csv", "a", "a/f.csv/g"] {
        assert_eq!(blobs.read(&key(missing)).await.unwrap(), None, "{missing}");
        assert!(blobs.download(&key(missing), Duration::from_secs(60)).await.unwrap().is_none(), "{missing}");
    }
}

#[tokio::test]
async fn a_missing_source_file_is_an_io_error() {
    let root = tempfile::tempdir().unwrap();
    let blobs = LocalBlobs::new(root.path().to_owned());

    let stored = blobs.put_file(&key("a.csv"), &root.path().join("no-such-file"), CSV).await;

    assert!(matches!(stored, Err(BlobError::Io(_))), "{stored:?}");
}

#[test]
fn a_key_that_could_leave_the_root_is_refused() {
    for bad in ["..", "../etc/passwd", "a/../../b", "/abs", "a//b", "a/./b", "a\\b", ""] {
        assert!(matches!(BlobKey::new(bad), Err(BlobError::BadKey(_))), "{bad}");
    }
}

/// A standby region's file store reads the replicated files and writes none: a report or a
/// settlement file run by hand there is refused, naming the home region.
#[tokio::test]
async fn a_standby_reads_files_and_writes_none() {
    let (root, sources) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let home = LocalBlobs::new(root.path().to_owned());
    let file = source_file(sources.path(), "in.csv", b"report");
    home.put_file(&key("reports/r.csv"), &file, CSV).await.unwrap();

    let standby = vaccount::store::StandbyBlobs::new(LocalBlobs::new(root.path().to_owned()), "ap-northeast-2");
    assert_eq!(standby.read(&key("reports/r.csv")).await.unwrap().as_deref(), Some(&b"report"[..]));
    let refused = standby.put_file(&key("reports/other.csv"), &file, CSV).await;
    assert!(matches!(&refused, Err(BlobError::Unavailable(why)) if why.contains("ap-northeast-2")), "{refused:?}");
    assert_eq!(home.read(&key("reports/other.csv")).await.unwrap(), None, "nothing written");
}
