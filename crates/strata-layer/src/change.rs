//! What a step changed: one entry per path, relative to the snapshot root.

use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// The prefix of a whiteout entry's base name (`dir/.wh.name` deletes `dir/name`).
pub const WHITEOUT_PREFIX: &str = ".wh.";

/// The base name of the entry that makes its directory opaque (hides what the
/// layers below put in it).
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// What happened to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    /// Added or modified: written from the source tree as it is now.
    Modified,
    /// Deleted: written as a whiteout (`.wh.<name>`).
    Deleted,
    /// A directory replaced as a whole: written from the source tree, followed
    /// by an opaque marker (`.wh..wh..opq`) so that lower layers' contents are hidden.
    OpaqueDirectory,
}

/// One changed path, relative to the root of the snapshot (no leading `/`,
/// no `.` or `..` components).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Change {
    /// The path, relative to the snapshot root.
    pub path: PathBuf,
    /// What happened to it.
    pub kind: ChangeKind,
}

impl Change {
    /// A change of `kind` at `path`.
    pub fn new(path: impl Into<PathBuf>, kind: ChangeKind) -> Self {
        Self {
            path: path.into(),
            kind,
        }
    }

    /// Whether the path is relative and made only of normal components.
    pub(crate) fn is_valid_path(path: &Path) -> bool {
        path.as_os_str().as_bytes().first() != Some(&b'/')
            && path.components().next().is_some()
            && path.components().all(|c| matches!(c, Component::Normal(_)))
    }
}

/// The order in which entries appear in a layer: depth first, siblings by the
/// bytes of their names, a directory's opaque marker right after it.
pub(crate) fn sort_key(path: &Path) -> Vec<&[u8]> {
    path.components()
        .map(|c| c.as_os_str().as_bytes())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_paths() {
        assert!(Change::is_valid_path(Path::new("a/b")));
        assert!(!Change::is_valid_path(Path::new("/a")));
        assert!(!Change::is_valid_path(Path::new("a/../b")));
        assert!(!Change::is_valid_path(Path::new("")));
        assert!(!Change::is_valid_path(Path::new("./a")));
    }

    #[test]
    fn sort_is_depth_first() {
        let mut paths = vec!["a.b", "a/z", "a", "a/b/c", "b"];
        paths.sort_by(|x, y| sort_key(Path::new(x)).cmp(&sort_key(Path::new(y))));
        assert_eq!(paths, vec!["a", "a/b/c", "a/z", "a.b", "b"]);
    }
}
