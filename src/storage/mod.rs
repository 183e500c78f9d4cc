//! Where evidence files live: outside the database, behind one interface with two backends —
//! a local folder (the default, beside the SQLite file) and an S3-compatible object store (for
//! several instances), chosen by settings.
//!
//! **Writing**: a file is streamed to a temporary name (a spool file in the local folder's
//! `tmp/`), hashed and measured as it comes; once complete it is stored under its final key
//! (`objects/<id>`: a rename in the folder, an upload to the store), and only then is its
//! database row written. A crash before the row commits leaves a temporary file or an object
//! without a row, never a row without an object; [`Storage::sweep`] removes such strays once
//! they are older than a grace period that covers any upload in flight.

pub mod s3;

use crate::error::ApiError;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Where files are kept.
#[derive(Debug, Clone)]
pub enum Storage {
    /// A folder on this machine.
    Local(PathBuf),
    /// An S3-compatible object store; spool files still go to the local folder.
    S3 { store: s3::S3Store, spool: PathBuf },
}

/// A file being received: its spool file, hash and size so far.
pub struct Upload {
    spool: PathBuf,
    file: Option<std::fs::File>,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

/// A file received whole, not yet stored under its key.
pub struct Received {
    spool: PathBuf,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// The first bytes (what the type is told by).
    pub head: Vec<u8>,
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Abandoned before completion (a refused or broken upload): its spool file goes.
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.spool);
        }
    }
}

impl Upload {
    /// Bytes so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a chunk (blocking file I/O: call it off the async workers, e.g. in batches on
    /// the blocking pool).
    pub fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        if let Some(f) = self.file.as_mut() {
            f.write_all(chunk)?;
        }
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        let want = crate::domain::evidence::SNIFF_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&chunk[..want.min(chunk.len())]);
        Ok(())
    }

    /// Completes the file: flushed to disk, its hash and size known.
    pub fn finish(mut self) -> std::io::Result<Received> {
        if let Some(f) = self.file.take() {
            f.sync_all()?;
        }
        let hasher = std::mem::take(&mut self.hasher);
        Ok(Received {
            spool: self.spool.clone(),
            sha256: crate::domain::evidence::hex(&hasher.finalize()),
            size: self.size,
            head: std::mem::take(&mut self.head),
        })
    }
}

impl Drop for Received {
    fn drop(&mut self) {
        // Stored (renamed or uploaded) or refused: the spool file is not needed any more.
        let _ = std::fs::remove_file(&self.spool);
    }
}

/// The final key of a new object.
pub fn new_key() -> String {
    use rand::Rng;
    let id: u128 = rand::thread_rng().gen();
    format!("objects/{id:032x}")
}

fn io(e: impl std::fmt::Display) -> ApiError {
    ApiError::Unavailable(format!("file storage: {e}"))
}

impl Storage {
    /// The folder spool files go to.
    fn spool_dir(&self) -> &Path {
        match self {
            Storage::Local(dir) => dir,
            Storage::S3 { spool, .. } => spool,
        }
    }

    /// Makes sure the folders exist (at start-up).
    pub fn prepare(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(self.spool_dir().join("tmp"))?;
        if let Storage::Local(dir) = self {
            std::fs::create_dir_all(dir.join("objects"))?;
        }
        Ok(())
    }

    /// Starts receiving a file under a temporary name.
    pub fn begin(&self) -> Result<Upload, ApiError> {
        let name = new_key().replace("objects/", "");
        let spool = self.spool_dir().join("tmp").join(format!("{name}.part"));
        let file = std::fs::File::create(&spool).map_err(io)?;
        Ok(Upload {
            spool,
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
        })
    }

    /// Stores a received file under `key` (a rename, or an upload to the store).
    pub async fn store(&self, received: &Received, key: &str) -> Result<(), ApiError> {
        match self {
            Storage::Local(dir) => {
                let (from, to) = (received.spool.clone(), dir.join(key));
                actix_web::web::block(move || std::fs::rename(from, to))
                    .await
                    .map_err(io)?
                    .map_err(io)
            }
            Storage::S3 { store, .. } => {
                store
                    .put_file(key, &received.spool, received.size, &received.sha256)
                    .await
            }
        }
    }

    /// The object's bytes, as a stream of chunks.
    pub async fn open(
        &self,
        key: &str,
    ) -> Result<
        std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, ApiError>>>>,
        ApiError,
    > {
        match self {
            Storage::Local(dir) => {
                let path = dir.join(key);
                let file = actix_web::web::block(move || std::fs::File::open(path))
                    .await
                    .map_err(io)?
                    .map_err(io)?;
                use futures_util::StreamExt;
                Ok(Box::pin(file_chunks(file).map(|chunk| chunk.map_err(io))))
            }
            Storage::S3 { store, .. } => store.get(key).await,
        }
    }

    /// Removes an object (nothing when it is already gone).
    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        match self {
            Storage::Local(dir) => {
                let path = dir.join(key);
                actix_web::web::block(move || match std::fs::remove_file(path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                })
                .await
                .map_err(io)?
                .map_err(io)
            }
            Storage::S3 { store, .. } => store.delete(key).await,
        }
    }

    /// Every stored object's key and age.
    pub async fn objects(&self) -> Result<Vec<(String, Duration)>, ApiError> {
        match self {
            Storage::Local(dir) => {
                let dir = dir.join("objects");
                actix_web::web::block(move || aged_files(&dir, "objects/"))
                    .await
                    .map_err(io)?
                    .map_err(io)
            }
            Storage::S3 { store, .. } => store.list("objects/").await,
        }
    }

    /// Housekeeping: removes spool files and objects without a row (`known` says which keys
    /// have one) older than `grace`; returns how many went.
    pub async fn sweep(
        &self,
        known: impl Fn(&[String]) -> Result<Vec<String>, ApiError>,
        grace: Duration,
    ) -> Result<usize, ApiError> {
        let tmp = self.spool_dir().join("tmp");
        let spools = actix_web::web::block(move || aged_files(&tmp, ""))
            .await
            .map_err(io)?
            .map_err(io)?;
        let mut removed = 0;
        for (name, age) in spools {
            if age >= grace {
                let path = self.spool_dir().join("tmp").join(&name);
                if std::fs::remove_file(path).is_ok() {
                    removed += 1;
                }
            }
        }
        let old: Vec<String> = self
            .objects()
            .await?
            .into_iter()
            .filter(|(_, age)| *age >= grace)
            .map(|(k, _)| k)
            .collect();
        for batch in old.chunks(500) {
            let kept = known(batch)?;
            for key in batch.iter().filter(|k| !kept.contains(k)) {
                self.delete(key).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The files in `dir` with their ages, named `prefix` + file name.
fn aged_files(dir: &Path, prefix: &str) -> std::io::Result<Vec<(String, Duration)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    let now = SystemTime::now();
    for entry in entries {
        let entry = entry?;
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        out.push((
            format!("{prefix}{}", entry.file_name().to_string_lossy()),
            age,
        ));
    }
    Ok(out)
}

/// A local file's bytes in 256 KiB chunks, each read on the blocking pool (downloads from the
/// folder, uploads to the object store).
pub(crate) fn file_chunks(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let read = actix_web::web::block(move || {
            use std::io::Read;
            let mut buf = vec![0u8; 256 * 1024];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok(Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    })
}
