//! The store handle: its root, its directories, its locks, and its blobs.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use strata_oci::{Digest, Sha256Writer};

use crate::error::{Result, StoreError, io_error};

/// Directory of the OCI image layout under the root.
const LAYOUT: &str = "images";
/// Directory of temporary (ingest) files: same file system as the blobs.
const TEMPORARY: &str = "tmp";
/// Directory of lock files.
const LOCKS: &str = "locks";
/// Directory of areas other crates own.
const AREAS: &str = "areas";
/// Directory of cache records.
pub(crate) const CACHE: &str = "cache";

/// How a handle shares the store with other processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read and add content; many processes at once (a shared lock).
    Shared,
    /// Also delete content (prune); waits until no other handle is open.
    Exclusive,
}

/// An open store. Holds a lock on `<root>/locks/store` for its lifetime:
/// shared for normal use, exclusive for garbage collection, so prune never
/// deletes a blob that a concurrent pull has written but not yet referenced.
///
/// Layout of the root:
/// - `images/`: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`),
///   readable by skopeo and umoci as `oci:<root>/images:<full reference>`;
/// - `cache/`: cache records (key → JSON record and the blobs it keeps alive);
/// - `areas/<name>/`: directories other crates own (snapshots, context metadata);
/// - `tmp/`: files being written; never seen as blobs, removed by prune;
/// - `locks/`: lock files.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    layout: PathBuf,
    access: Access,
    _lock: File,
}

/// A blob being written: bytes go to a temporary file and are hashed on the
/// way (unless the writer hashes them itself, [`Store::begin_blob_hashed_by_writer`]).
/// [`BlobWriter::commit`] verifies, fsyncs and renames it into place;
/// dropping it without commit removes the temporary file.
#[derive(Debug)]
pub struct BlobWriter {
    writer: Option<Sink>,
    temporary: PathBuf,
    blobs: PathBuf,
}

/// Where a blob's bytes go.
#[derive(Debug)]
enum Sink {
    /// Hashed by the store.
    Hashing(Sha256Writer<File>),
    /// Hashed by the writer, which gives the digest to `commit`.
    Counting { file: File, size: u64 },
}

impl Store {
    /// The default root: `/var/lib/strata` for root, else (rootless, in
    /// its user namespace too) `$XDG_DATA_HOME/strata` (`~/.local/share/strata`).
    pub fn default_root() -> PathBuf {
        use std::os::unix::fs::MetadataExt;
        let is_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
            && !strata_fs::in_user_namespace();
        if is_root {
            return PathBuf::from("/var/lib/strata");
        }
        if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
            return PathBuf::from(data).join("strata");
        }
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from);
        home.join(".local/share/strata")
    }

    /// Opens (creating if needed) the store at `root` with a shared lock.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(root, Access::Shared)
    }

    /// Opens the store exclusively if no other handle is open right now; `None` otherwise.
    pub fn try_open_exclusive(root: impl AsRef<Path>) -> Result<Option<Self>> {
        Self::open_inner(root.as_ref(), Access::Exclusive, false)
    }

    /// Opens the store at `root` with the given access, waiting for the lock.
    pub fn open_with(root: impl AsRef<Path>, access: Access) -> Result<Self> {
        match Self::open_inner(root.as_ref(), access, true)? {
            Some(store) => Ok(store),
            None => Err(StoreError::Archive {
                reason: "store lock not taken".to_owned(),
            }),
        }
    }

    fn open_inner(root: &Path, access: Access, wait: bool) -> Result<Option<Self>> {
        let root = root.to_path_buf();
        let layout = root.join(LAYOUT);
        for directory in [
            layout.join("blobs/sha256"),
            root.join(TEMPORARY),
            root.join(LOCKS),
            root.join(CACHE),
            root.join(AREAS),
            root.join(crate::variant::VARIANTS),
        ] {
            strata_fs::create_dir_all(&directory)?;
        }
        let lock_path = root.join(LOCKS).join("store");
        let lock = open_lock(&lock_path)?;
        // Alone with the store: whatever is in tmp/ was left by a process
        // that died mid-write (killed, power lost), and goes now.
        if access == Access::Shared && lock.try_lock().is_ok() {
            remove_leftovers(&root.join(TEMPORARY));
        }
        if wait {
            match access {
                Access::Shared => lock.lock_shared(),
                Access::Exclusive => lock.lock(),
            }
            .map_err(io_error("lock", &lock_path))?;
        } else {
            let attempt = match access {
                Access::Shared => lock.try_lock_shared(),
                Access::Exclusive => lock.try_lock(),
            };
            match attempt {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(error)) => {
                    return Err(io_error("lock", &lock_path)(error));
                }
            }
        }
        let oci_layout = layout.join("oci-layout");
        if !oci_layout.exists() {
            strata_fs::write_atomic(&oci_layout, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        let index = layout.join("index.json");
        if !index.exists() {
            let _guard = Self::lock_file(&root, "index")?;
            if !index.exists() {
                strata_fs::write_atomic(&index, br#"{"schemaVersion":2,"manifests":[]}"#)?;
            }
        }
        Ok(Some(Self {
            root,
            layout,
            access,
            _lock: lock,
        }))
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The OCI image layout directory (`<root>/images`).
    pub fn layout_path(&self) -> &Path {
        &self.layout
    }

    /// How this handle holds the store.
    pub fn access(&self) -> Access {
        self.access
    }

    /// The directory of area `name` (`<root>/areas/<name>`), created if
    /// missing. Areas belong to other crates (snapshots, context caches);
    /// prune leaves them alone and `system df` reports their size.
    pub fn area(&self, name: &str) -> Result<PathBuf> {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(StoreError::InvalidAreaName {
                name: name.to_owned(),
            });
        }
        let path = self.root.join(AREAS).join(name);
        strata_fs::create_dir_all(&path)?;
        Ok(path)
    }

    /// The names of existing areas, sorted.
    pub fn areas(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let directory = self.root.join(AREAS);
        for entry in strata_fs::read_dir(&directory)? {
            let entry = entry.map_err(io_error("list directory", &directory))?;
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// An exclusive lock on `<root>/locks/<name>`, released on drop; for
    /// read-modify-write of one file by several processes.
    pub fn lock(&self, name: &str) -> Result<File> {
        Self::lock_file(&self.root, name)
    }

    fn lock_file(root: &Path, name: &str) -> Result<File> {
        let path = root.join(LOCKS).join(name);
        let file = open_lock(&path)?;
        file.lock().map_err(io_error("lock", &path))?;
        Ok(file)
    }

    /// Where blob `digest` lives (whether or not it is present).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.layout.join(digest.layout_path())
    }

    /// Whether blob `digest` is present. Presence implies completeness:
    /// blobs appear only by rename after verification.
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// The size of blob `digest`.
    pub fn blob_size(&self, digest: &Digest) -> Result<u64> {
        let path = self.blob_path(digest);
        match std::fs::metadata(&path) {
            Ok(metadata) => Ok(metadata.len()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::MissingBlob { digest: *digest })
            }
            Err(error) => Err(io_error("stat", path)(error)),
        }
    }

    /// Opens blob `digest` for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<File> {
        let path = self.blob_path(digest);
        File::open(&path).map_err(|error| {
            if error.kind() == io::ErrorKind::NotFound {
                StoreError::MissingBlob { digest: *digest }
            } else {
                io_error("open", path)(error)
            }
        })
    }

    /// Reads blob `digest` whole (for manifests and configs).
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        let path = self.blob_path(digest);
        self.open_blob(digest)?
            .read_to_end(&mut bytes)
            .map_err(io_error("read", path))?;
        Ok(bytes)
    }

    /// Adds `bytes` as a blob; returns its digest.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::of(bytes);
        if self.has_blob(&digest) {
            return Ok(digest);
        }
        let mut writer = self.begin_blob()?;
        writer
            .write_all(bytes)
            .map_err(io_error("write", &writer.temporary))?;
        writer.commit(Some(&digest))?;
        Ok(digest)
    }

    /// Copies `reader` into the store as blob `expected`, verifying digest and
    /// (when given) size; returns the size.
    pub fn ingest(&self, expected: &Digest, size: Option<u64>, reader: impl Read) -> Result<u64> {
        let mut reader = reader;
        let mut writer = self.begin_blob()?;
        let copied =
            io::copy(&mut reader, &mut writer).map_err(io_error("write", &writer.temporary))?;
        if let Some(size) = size
            && size != copied
        {
            return Err(StoreError::SizeMismatch {
                digest: *expected,
                expected: size,
                actual: copied,
            });
        }
        writer.commit(Some(expected))?;
        Ok(copied)
    }

    /// Starts writing a blob whose digest is known only at the end (or is
    /// verified there).
    pub fn begin_blob(&self) -> Result<BlobWriter> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let call = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temporary = self
            .root
            .join(TEMPORARY)
            .join(format!("ingest-{}-{call}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
            .map_err(io_error("create", &temporary))?;
        Ok(BlobWriter {
            writer: Some(Sink::Hashing(Sha256Writer::new(file))),
            temporary,
            blobs: self.layout.join("blobs/sha256"),
        })
    }

    /// Starts writing a blob whose writer computes the sha256 of exactly the
    /// bytes it writes (a layer writer does, for the manifest): the store
    /// does not hash them again, and [`BlobWriter::commit`] takes the
    /// writer's digest as the blob's name (it must be given). For an
    /// uncompressed layer this saves a pass of sha256 over every byte.
    pub fn begin_blob_hashed_by_writer(&self) -> Result<BlobWriter> {
        let mut writer = self.begin_blob()?;
        if let Some(Sink::Hashing(hashing)) = writer.writer.take() {
            let (_, _, file) = hashing.finish();
            writer.writer = Some(Sink::Counting { file, size: 0 });
        }
        Ok(writer)
    }

    /// A path for a scratch file under `<root>/tmp` (removed by prune if left).
    pub fn temporary_path(&self, purpose: &str) -> PathBuf {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let call = COUNTER.fetch_add(1, Ordering::Relaxed);
        self.root
            .join(TEMPORARY)
            .join(format!("{purpose}-{}-{call}", std::process::id()))
    }

    pub(crate) fn temporary_directory(&self) -> PathBuf {
        self.root.join(TEMPORARY)
    }

    /// Writes a small file of the store atomically, staged in `tmp/` (so
    /// that what a killed process leaves is found and removed there).
    pub(crate) fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.write_file_with(path, bytes, true)
    }

    /// Like [`Store::write_file`] without the fsyncs: for files a crash may
    /// lose (or leave empty) at no cost but some lost cache.
    pub(crate) fn write_file_unsynced(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.write_file_with(path, bytes, false)
    }

    fn write_file_with(&self, path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
        let temporary = self.temporary_path("file");
        let result = (|| {
            let mut file = File::create(&temporary).map_err(io_error("create", &temporary))?;
            file.write_all(bytes)
                .map_err(io_error("write", &temporary))?;
            if durable {
                file.sync_all().map_err(io_error("fsync", &temporary))?;
            }
            std::fs::rename(&temporary, path).map_err(io_error("rename", &temporary))?;
            if !durable {
                return Ok(());
            }
            if let Some(directory) = path.parent() {
                File::open(directory)
                    .and_then(|d| d.sync_all())
                    .map_err(io_error("fsync", directory))?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        result
    }
}

/// Removes everything in `directory` (best effort: what cannot be removed
/// now is tried again next time).
fn remove_leftovers(directory: &Path) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let _ = match entry.file_type() {
            Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
    }
}

impl BlobWriter {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        match &self.writer {
            Some(Sink::Hashing(writer)) => writer.size(),
            Some(Sink::Counting { size, .. }) => *size,
            None => 0,
        }
    }

    /// Verifies against `expected` (if given), fsyncs and renames the blob
    /// into place; returns its digest and size. On mismatch nothing appears.
    /// The rename itself becomes durable when the next ref update syncs the
    /// blob directory (one sync for all the blobs of a pull or a build, not
    /// one each); until then a crash can only lose the blob, never leave part
    /// of it under its name.
    pub fn commit(mut self, expected: Option<&Digest>) -> Result<(Digest, u64)> {
        let (digest, size, file) = match self.writer.take() {
            Some(Sink::Hashing(writer)) => writer.finish(),
            Some(Sink::Counting { file, size }) => {
                let Some(digest) = expected else {
                    drop(file);
                    let _ = std::fs::remove_file(&self.temporary);
                    return Err(StoreError::Archive {
                        reason: "a blob hashed by its writer needs its digest at commit".to_owned(),
                    });
                };
                (*digest, size, file)
            }
            None => {
                return Err(StoreError::Archive {
                    reason: "blob writer already committed".to_owned(),
                });
            }
        };
        if let Some(expected) = expected
            && *expected != digest
        {
            drop(file);
            let _ = std::fs::remove_file(&self.temporary);
            return Err(StoreError::DigestMismatch {
                expected: *expected,
                actual: digest,
                size,
            });
        }
        file.sync_all()
            .map_err(io_error("fsync", &self.temporary))?;
        drop(file);
        let target = self.blobs.join(digest.hex());
        std::fs::rename(&self.temporary, &target).map_err(io_error("rename", &self.temporary))?;
        Ok((digest, size))
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.writer {
            Some(Sink::Hashing(writer)) => writer.write(buf),
            Some(Sink::Counting { file, size }) => {
                let written = file.write(buf)?;
                *size += written as u64;
                Ok(written)
            }
            None => Err(io::Error::other("blob writer already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

fn open_lock(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io_error("open", path))
}
