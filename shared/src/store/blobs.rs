//! The `BlobStore` port on a local directory, for `serve`: the file of key `a/b.csv` is
//! `<root>/a/b.csv`. `BlobKey` admits only safe segments, so a key never leaves the root.

use crate::ports::{BlobDownload, BlobError, BlobKey, BlobStore};
use async_trait::async_trait;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    pub fn new(root: PathBuf) -> LocalBlobs {
        LocalBlobs { root }
    }

    fn path_of(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.as_str())
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn put_file(&self, key: &BlobKey, file: &Path, _content_type: &str) -> Result<(), BlobError> {
        let (source, target) = (file.to_owned(), self.path_of(key));
        tokio::task::spawn_blocking(move || replace_with_copy(&source, &target))
            .await
            .map_err(|e| BlobError::Io(e.to_string()))?
            .map_err(|e| BlobError::Io(format!("storing {key}: {e}")))
    }

    async fn download(&self, key: &BlobKey, _valid_for: std::time::Duration) -> Result<Option<BlobDownload>, BlobError> {
        let path = self.path_of(key);
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_file() => Ok(Some(BlobDownload::Local(path))),
            Ok(_) => Ok(None),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(BlobError::Io(format!("{key}: {e}"))),
        }
    }

    async fn read(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        match tokio::fs::read(self.path_of(key)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(BlobError::Io(format!("{key}: {e}"))),
        }
    }
}

/// A directory where a file is expected (key `a` while `a/b` exists), or a file where a
/// directory is (key `a/b` while `a` exists), is as good as nothing under that key.
fn is_absent(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::IsADirectory)
}

/// Copies `source` over `target` so that a reader sees the old file or the new one, never a
/// part: the copy is written beside the target, flushed to disk, then renamed over it.
fn replace_with_copy(source: &Path, target: &Path) -> io::Result<()> {
    let dir = target.parent().ok_or_else(|| io::Error::other("a key names a file below the root"))?;
    std::fs::create_dir_all(dir)?;
    // `~` is not allowed in keys, so the temporary name can never be another file's key.
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!("{name}~{}", ulid::Ulid::new()));
    let written = write_synced_copy(source, &temporary).and_then(|()| std::fs::rename(&temporary, target));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written?;
    // The rename is durable once the directory entry is: without this, a crash could bring
    // back the old file even though `put_file` returned.
    std::fs::File::open(dir)?.sync_all()
}

fn write_synced_copy(source: &Path, temporary: &Path) -> io::Result<()> {
    let mut from = std::fs::File::open(source)?;
    let mut to = std::fs::File::create_new(temporary)?;
    io::copy(&mut from, &mut to)?;
    to.sync_all()
}
