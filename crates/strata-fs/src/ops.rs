//! `std::fs` calls that name their path on error.

use std::fs::{self, File, Metadata, ReadDir};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

fn at<T>(operation: &'static str, path: &Path, result: std::io::Result<T>) -> Result<T> {
    result.map_err(|source| Error::new(operation, path, source))
}

/// Reads a whole file.
pub fn read(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    at("read", path, fs::read(path))
}

/// Reads a whole file that must be UTF-8.
pub fn read_to_string(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    at("read", path, fs::read_to_string(path))
}

/// Opens a file for reading.
pub fn open(path: impl AsRef<Path>) -> Result<File> {
    let path = path.as_ref();
    at("open", path, File::open(path))
}

/// Creates a directory and its missing parents.
pub fn create_dir_all(path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    at("create directory", path, fs::create_dir_all(path))
}

/// Lists a directory.
pub fn read_dir(path: impl AsRef<Path>) -> Result<ReadDir> {
    let path = path.as_ref();
    at("list directory", path, fs::read_dir(path))
}

/// Reads a symlink's target.
pub fn read_link(path: impl AsRef<Path>) -> Result<PathBuf> {
    let path = path.as_ref();
    at("read symlink", path, fs::read_link(path))
}

/// Metadata, following symlinks.
pub fn metadata(path: impl AsRef<Path>) -> Result<Metadata> {
    let path = path.as_ref();
    at("stat", path, fs::metadata(path))
}

/// Metadata of the path itself, not following a final symlink.
pub fn symlink_metadata(path: impl AsRef<Path>) -> Result<Metadata> {
    let path = path.as_ref();
    at("stat", path, fs::symlink_metadata(path))
}

/// Removes a file or symlink.
pub fn remove_file(path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    at("remove", path, fs::remove_file(path))
}

/// Removes a directory and everything below it.
pub fn remove_dir_all(path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    at("remove directory", path, fs::remove_dir_all(path))
}

/// Renames `from` to `to`; the error names `to`'s source path.
pub fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<()> {
    let from = from.as_ref();
    at("rename", from, fs::rename(from, to.as_ref()))
}

/// Bytes of the regular files under `path` (symlinks not followed; what
/// cannot be read counts as nothing): the space a tree takes, for reports.
pub fn tree_size(path: impl AsRef<Path>) -> u64 {
    let path = path.as_ref();
    let Ok(metadata) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !metadata.is_dir() {
        return if metadata.is_file() {
            metadata.len()
        } else {
            0
        };
    }
    let Ok(entries) = fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(|entry| entry.ok())
        .map(|entry| tree_size(entry.path()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-file");
        let error = read(&missing).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
        let text = error.to_string();
        assert!(text.starts_with("read "), "{text}");
        assert!(text.contains("no-such-file"), "{text}");
    }
}
