//! Whole-tree copies, and the diff of two trees found by comparing them.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Mode, Timespec, Timestamps, XattrFlags};
use strata_layer::{Change, ChangeKind};

use crate::Result;

/// Copies the tree at `from` to `to` (which must not exist) with everything
/// kept: owners (when root), modes, times, xattrs, hardlinks, symlinks,
/// device nodes and fifos. Sockets are skipped.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let mut hardlinks = HashMap::new();
    let metadata = strata_fs::symlink_metadata(from)?;
    copy_entry(from, to, &metadata, &mut hardlinks)
}

fn copy_entry(
    from: &Path,
    to: &Path,
    metadata: &Metadata,
    hardlinks: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<()> {
    let file_type = metadata.file_type();
    if file_type.is_dir() {
        fs::create_dir(to).map_err(|e| strata_fs::Error::new("create directory", to, e))?;
        for entry in strata_fs::read_dir(from)? {
            let entry = entry.map_err(|e| strata_fs::Error::new("list directory", from, e))?;
            let child = from.join(entry.file_name());
            let child_metadata = strata_fs::symlink_metadata(&child)?;
            copy_entry(
                &child,
                &to.join(entry.file_name()),
                &child_metadata,
                hardlinks,
            )?;
        }
    } else if file_type.is_file() {
        let key = (metadata.dev(), metadata.ino());
        if metadata.nlink() > 1 {
            if let Some(first) = hardlinks.get(&key) {
                fs::hard_link(first, to).map_err(|e| strata_fs::Error::new("hardlink", to, e))?;
                return Ok(());
            }
            hardlinks.insert(key, to.to_path_buf());
        }
        fs::copy(from, to).map_err(|e| strata_fs::Error::new("copy", from, e))?;
    } else if file_type.is_symlink() {
        let target = strata_fs::read_link(from)?;
        std::os::unix::fs::symlink(&target, to)
            .map_err(|e| strata_fs::Error::new("symlink", to, e))?;
    } else if file_type.is_char_device() || file_type.is_block_device() || file_type.is_fifo() {
        let kind = if file_type.is_char_device() {
            FileType::CharacterDevice
        } else if file_type.is_block_device() {
            FileType::BlockDevice
        } else {
            FileType::Fifo
        };
        match rustix::fs::mknodat(CWD, to, kind, Mode::from_raw_mode(0o600), metadata.rdev()) {
            // Rootless: no device can be made; skipped, as layers unpack.
            Err(rustix::io::Errno::PERM)
                if kind != FileType::Fifo && strata_fs::in_user_namespace() =>
            {
                return Ok(());
            }
            result => {
                result.map_err(|e| strata_fs::Error::new("create device node", to, e.into()))?
            }
        }
    } else {
        return Ok(());
    }
    copy_metadata(from, to, metadata)
}

/// Owner, mode, xattrs and times of `from`, onto `to` (not following symlinks).
fn copy_metadata(from: &Path, to: &Path, metadata: &Metadata) -> Result<()> {
    let is_symlink = metadata.file_type().is_symlink();
    match rustix::fs::chownat(
        CWD,
        to,
        Some(rustix::fs::Uid::from_raw(metadata.uid())),
        Some(rustix::fs::Gid::from_raw(metadata.gid())),
        AtFlags::SYMLINK_NOFOLLOW,
    ) {
        Ok(()) => {}
        Err(rustix::io::Errno::PERM) if !rustix::process::geteuid().is_root() => {}
        Err(e) => return Err(strata_fs::Error::new("set owner", to, e.into()).into()),
    }
    if !is_symlink {
        rustix::fs::chmodat(
            CWD,
            to,
            Mode::from_raw_mode(metadata.mode() & 0o7777),
            AtFlags::empty(),
        )
        .map_err(|e| strata_fs::Error::new("set mode", to, e.into()))?;
    }
    for (name, value) in strata_layer::layer_xattrs(from)? {
        match rustix::fs::lsetxattr(
            to,
            std::ffi::OsStr::from_bytes(&name),
            &value,
            XattrFlags::empty(),
        ) {
            Ok(()) | Err(rustix::io::Errno::NOTSUP) => {}
            Err(rustix::io::Errno::PERM) if is_symlink => {}
            Err(e) => return Err(strata_fs::Error::new("set xattr", to, e.into()).into()),
        }
    }
    let times = Timestamps {
        last_access: Timespec {
            tv_sec: metadata.atime(),
            tv_nsec: metadata.atime_nsec(),
        },
        last_modification: Timespec {
            tv_sec: metadata.mtime(),
            tv_nsec: metadata.mtime_nsec(),
        },
    };
    rustix::fs::utimensat(CWD, to, &times, AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| strata_fs::Error::new("set times", to, e.into()))?;
    Ok(())
}

/// The changes that turn the tree `old` (or nothing) into the tree `new`.
pub(crate) fn tree_changes(old: Option<&Path>, new: &Path) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    compare(old, new, Path::new(""), &mut changes)?;
    Ok(changes)
}

fn list(directory: &Path) -> Result<BTreeMap<OsString, Metadata>> {
    let mut entries = BTreeMap::new();
    for entry in strata_fs::read_dir(directory)? {
        let entry = entry.map_err(|e| strata_fs::Error::new("list directory", directory, e))?;
        let path = directory.join(entry.file_name());
        entries.insert(entry.file_name(), strata_fs::symlink_metadata(&path)?);
    }
    Ok(entries)
}

/// Adds the changes that turn `old_root/relative` into `new_root/relative`
/// (both directories, or no old one) to `changes`.
pub(crate) fn compare(
    old_root: Option<&Path>,
    new_root: &Path,
    relative: &Path,
    changes: &mut Vec<Change>,
) -> Result<()> {
    let new_entries = list(&new_root.join(relative))?;
    let old_entries = match old_root {
        Some(old_root) => list(&old_root.join(relative))?,
        None => BTreeMap::new(),
    };
    for (name, old_metadata) in &old_entries {
        if !new_entries.contains_key(name) {
            changes.push(Change::new(relative.join(name), ChangeKind::Deleted));
            let _ = old_metadata;
        }
    }
    for (name, new_metadata) in &new_entries {
        let path = relative.join(name);
        let old_metadata = old_entries.get(name);
        let changed = match (old_root, old_metadata) {
            (Some(old_root), Some(old_metadata)) => differs(
                &old_root.join(&path),
                old_metadata,
                &new_root.join(&path),
                new_metadata,
            )?,
            _ => true,
        };
        if changed {
            changes.push(Change::new(&path, ChangeKind::Modified));
        }
        if new_metadata.is_dir() {
            let old_is_directory = old_metadata.is_some_and(Metadata::is_dir);
            compare(
                old_root.filter(|_| old_is_directory),
                new_root,
                &path,
                changes,
            )?;
        }
    }
    Ok(())
}

/// Whether an entry changed between two trees, as BuildKit's differs
/// (continuity's `sameFile`) decide: type, mode, owner, device or xattrs
/// (BuildKit looks at file capabilities only; a layer here keeps every xattr,
/// so a change to one must reach it); for anything but a directory also size
/// and mtime, and when neither mtime has nanoseconds (a tool that keeps only
/// seconds) the link target or contents. A directory's mtime alone is no
/// change: it is written as the parent of what changed inside it.
pub(crate) fn differs(
    old_path: &Path,
    old: &Metadata,
    new_path: &Path,
    new: &Metadata,
) -> Result<bool> {
    if old.mode() != new.mode()
        || old.uid() != new.uid()
        || old.gid() != new.gid()
        || old.rdev() != new.rdev()
        || strata_layer::layer_xattrs(old_path)? != strata_layer::layer_xattrs(new_path)?
    {
        return Ok(true);
    }
    if new.is_dir() {
        return Ok(false);
    }
    if old.len() != new.len() || old.mtime() != new.mtime() {
        return Ok(true);
    }
    if old.mtime_nsec() != 0 || new.mtime_nsec() != 0 {
        return Ok(old.mtime_nsec() != new.mtime_nsec());
    }
    if new.file_type().is_symlink() {
        return Ok(strata_fs::read_link(old_path)? != strata_fs::read_link(new_path)?);
    }
    Ok(new.len() != 0 && strata_fs::read(old_path)? != strata_fs::read(new_path)?)
}
