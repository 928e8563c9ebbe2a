//! Writes that are either whole or absent: temporary file, fsync, rename;
//! and the same without the fsyncs, for files a crash may lose.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// Writes `contents` to `path` atomically: a reader sees the old file or the
/// whole new one, never a part, even if the process dies mid-write.
///
/// The data goes to a temporary file in the same directory, is fsynced, and is
/// renamed over `path`; the directory is fsynced after the rename.
pub fn write_atomic(path: impl AsRef<Path>, contents: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| file.write_all(contents))
}

/// Like [`write_atomic`], with the contents written by `fill`.
pub fn write_atomic_with(
    path: impl AsRef<Path>,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<()> {
    write_whole(path.as_ref(), fill, true)
}

/// Writes `contents` to `path` so that a reader (or a killed writer) sees the
/// old file or the whole new one, like [`write_atomic`], but syncs nothing:
/// for caches and hints that may be lost, or be found empty, after a crash of
/// the machine (each fsync costs milliseconds on a busy disk).
pub fn write_replace(path: impl AsRef<Path>, contents: &[u8]) -> Result<()> {
    write_whole(path.as_ref(), |file| file.write_all(contents), false)
}

fn write_whole(
    path: &Path,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
    durable: bool,
) -> Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        return Err(Error::new(
            "write",
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "path has no file name"),
        ));
    };
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    // Unique per process and per call, so concurrent writers never share a file.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let call = COUNTER.fetch_add(1, Ordering::Relaxed);
    temporary_name.push(format!(".tmp-{}-{call}", std::process::id()));
    let temporary = directory.join(temporary_name);

    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)
            .map_err(|e| Error::new("create", &temporary, e))?;
        fill(&mut file).map_err(|e| Error::new("write", &temporary, e))?;
        if durable {
            file.sync_all()
                .map_err(|e| Error::new("fsync", &temporary, e))?;
        }
        std::fs::rename(&temporary, path).map_err(|e| Error::new("rename", &temporary, e))?;
        if !durable {
            return Ok(());
        }
        // The rename is durable only once the directory entry is.
        File::open(directory)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::new("fsync", directory, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config.json");
        write_atomic(&target, b"old").unwrap();
        write_atomic(&target, b"new contents").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new contents");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("config.json")]);
    }

    #[test]
    fn replace_without_sync_is_whole_too() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("cache");
        write_replace(&target, b"old").unwrap();
        write_replace(&target, b"newer").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"newer");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/directory/file");
        let error = write_replace(&missing, b"x").unwrap_err();
        assert!(error.to_string().contains("no/such/directory"), "{error}");
    }

    #[test]
    fn failed_fill_leaves_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("f");
        write_atomic(&target, b"old").unwrap();
        let error = write_atomic_with(&target, |_| Err(std::io::Error::other("boom"))).unwrap_err();
        assert!(error.to_string().contains("boom"));
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
