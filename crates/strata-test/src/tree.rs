//! A description of a directory tree, for comparing two trees in tests.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Every path under `root` (relative, the root itself as `.`) mapped to a line
/// with its type, mode, owner, size, content hash, link target, device
/// numbers, xattrs (overlayfs's own left out) and, unless `with_times` is
/// false, the mtime of non-directories. Hardlinked files share an inode
/// number, shown as the first path with that inode.
pub fn describe(root: &Path, with_times: bool) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<(u64, u64), PathBuf> = BTreeMap::new();
    walk(root, Path::new(""), with_times, &mut out, &mut inodes);
    out
}

fn walk(
    root: &Path,
    relative: &Path,
    with_times: bool,
    out: &mut BTreeMap<PathBuf, String>,
    inodes: &mut BTreeMap<(u64, u64), PathBuf>,
) {
    let full = root.join(relative);
    let metadata =
        std::fs::symlink_metadata(&full).unwrap_or_else(|e| panic!("stat {}: {e}", full.display()));
    let file_type = metadata.file_type();
    let mut line = format!(
        "mode={:o} uid={} gid={}",
        metadata.mode() & 0o7777,
        metadata.uid(),
        metadata.gid()
    );
    if file_type.is_dir() {
        line.insert_str(0, "dir ");
    } else if file_type.is_file() {
        let data = std::fs::read(&full).unwrap();
        let mut hash: u64 = 0xcbf29ce484222325;
        for byte in &data {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x100000001b3);
        }
        line = format!("file {line} size={} fnv={hash:016x}", data.len());
        if metadata.nlink() > 1 {
            let first = inodes
                .entry((metadata.dev(), metadata.ino()))
                .or_insert_with(|| relative.to_path_buf());
            line.push_str(&format!(" inode-of={}", first.display()));
        }
    } else if file_type.is_symlink() {
        let target = std::fs::read_link(&full).unwrap();
        line = format!("symlink {line} -> {}", target.display());
    } else if file_type.is_char_device() || file_type.is_block_device() {
        let kind = if file_type.is_char_device() {
            "char"
        } else {
            "block"
        };
        line = format!("{kind} {line} rdev={:x}", metadata.rdev());
    } else if file_type.is_fifo() {
        line = format!("fifo {line}");
    } else {
        line = format!("other {line}");
    }
    if with_times && !file_type.is_dir() {
        line.push_str(&format!(" mtime={}", metadata.mtime()));
    }
    if let Ok(names) = xattr::list(&full) {
        let mut names: Vec<_> = names
            .filter(|n| {
                let n = n.as_bytes();
                !n.starts_with(b"trusted.overlay.") && n != b"security.selinux"
            })
            .collect();
        names.sort();
        for name in names {
            let value = xattr::get(&full, &name).ok().flatten().unwrap_or_default();
            line.push_str(&format!(
                " xattr:{}={}",
                name.to_string_lossy(),
                String::from_utf8_lossy(&value)
            ));
        }
    }
    let key = if relative.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        relative.to_path_buf()
    };
    out.insert(key, line);
    if file_type.is_dir() {
        let mut children: Vec<_> = std::fs::read_dir(&full)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        children.sort();
        for child in children {
            walk(root, &relative.join(child), with_times, out, inodes);
        }
    }
}

/// The lines of two descriptions that differ, for an assertion message.
pub fn difference(
    left: &BTreeMap<PathBuf, String>,
    right: &BTreeMap<PathBuf, String>,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (path, line) in left {
        match right.get(path) {
            Some(other) if other == line => {}
            Some(other) => lines.push(format!("~ {}: {line}  !=  {other}", path.display())),
            None => lines.push(format!("- {}: {line}", path.display())),
        }
    }
    for (path, line) in right {
        if !left.contains_key(path) {
            lines.push(format!("+ {}: {line}", path.display()));
        }
    }
    lines
}
