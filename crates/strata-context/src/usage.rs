//! What a context sends and what its ignore rules leave out: the answer to
//! "why is my context 2 GB?".

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Files and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Regular files.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl Totals {
    fn add(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
    }
}

/// A directory and the files and bytes below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUsage {
    /// The directory, relative to the context root.
    pub path: PathBuf,
    /// What is below it (sent or ignored, depending on the list).
    pub totals: Totals,
}

/// Sent and ignored totals of a scan, and the largest directories of each.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// Regular files (and their bytes) that are sent.
    pub sent: Totals,
    /// Regular files (and their bytes) that the rules leave out. Files inside
    /// ignored directories count only when the scan had `account_ignored`.
    pub ignored: Totals,
    /// The topmost ignored directories, largest first (at most 10).
    pub largest_ignored: Vec<DirectoryUsage>,
    /// The directories with the most bytes sent, largest first (at most 10).
    pub largest_included: Vec<DirectoryUsage>,
}

#[derive(Debug, Default)]
pub(crate) struct UsageBuilder {
    sent: Totals,
    ignored: Totals,
    sent_by_directory: HashMap<Vec<u8>, Totals>,
    ignored_by_directory: HashMap<Vec<u8>, Totals>,
    ignored_directories: HashSet<Vec<u8>>,
}

fn ancestors(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'/')
        .map(move |(index, _)| &path[..index])
}

impl UsageBuilder {
    pub(crate) fn sent_file(&mut self, path: &[u8], bytes: u64) {
        self.sent.add(bytes);
        for directory in ancestors(path) {
            self.sent_by_directory
                .entry(directory.to_vec())
                .or_default()
                .add(bytes);
        }
    }

    pub(crate) fn ignored_file(&mut self, path: &[u8], bytes: u64) {
        self.ignored.add(bytes);
        for directory in ancestors(path) {
            self.ignored_by_directory
                .entry(directory.to_vec())
                .or_default()
                .add(bytes);
        }
    }

    pub(crate) fn ignored_directory(&mut self, path: &[u8]) {
        self.ignored_directories.insert(path.to_vec());
    }

    pub(crate) fn finish(self) -> Usage {
        let top = |mut list: Vec<DirectoryUsage>| {
            list.sort_by(|a, b| {
                b.totals
                    .bytes
                    .cmp(&a.totals.bytes)
                    .then_with(|| a.path.cmp(&b.path))
            });
            list.truncate(10);
            list
        };
        let topmost_ignored = self
            .ignored_directories
            .iter()
            .filter(|dir| !ancestors(dir).any(|a| self.ignored_directories.contains(a)))
            .filter_map(|dir| {
                let totals = self.ignored_by_directory.get(dir).copied()?;
                Some(DirectoryUsage {
                    path: PathBuf::from(OsStr::from_bytes(dir)),
                    totals,
                })
            })
            .collect();
        let included = self
            .sent_by_directory
            .iter()
            .map(|(dir, totals)| DirectoryUsage {
                path: PathBuf::from(OsStr::from_bytes(dir)),
                totals: *totals,
            })
            .collect();
        Usage {
            sent: self.sent,
            ignored: self.ignored,
            largest_ignored: top(topmost_ignored),
            largest_included: top(included),
        }
    }
}
