//! The mount points a RUN step needs and its root lacks: made for the run,
//! removed afterwards (when still empty) with their parent's times put back,
//! so that they never show in the step's diff.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timestamps};

use crate::process::linux::Linux;
use crate::process::rootfs::create_mount_point;
use crate::process::syscalls::Syscalls;
use crate::process::{Failure, setup};

/// A mount point made for the run.
pub(crate) struct Stub {
    parent: OwnedFd,
    name: PathBuf,
    parent_times: Timestamps,
}

impl Stub {
    /// Makes `target` exist; the stub to remove afterwards when something
    /// had to be created.
    pub(crate) fn create(
        sys: &Linux,
        target: &str,
        is_directory: bool,
    ) -> Result<Option<Stub>, Failure> {
        let Some(first) = first_missing(sys, target) else {
            return Ok(None);
        };
        let parent_path = first.parent().unwrap_or(Path::new("/"));
        let parent = sys
            .open(parent_path, OFlags::RDONLY | OFlags::DIRECTORY)
            .map_err(setup(format!(
                "open {} for mount point {target}",
                parent_path.display()
            )))?;
        let stat = rustix::fs::fstat(&parent).map_err(setup("stat mount point parent"))?;
        create_mount_point(sys, target, is_directory)?;
        Ok(Some(Stub {
            parent,
            name: first.file_name().map(PathBuf::from).unwrap_or_default(),
            parent_times: Timestamps {
                last_access: rustix::fs::Timespec {
                    tv_sec: stat.st_atime,
                    tv_nsec: stat.st_atime_nsec as _,
                },
                last_modification: rustix::fs::Timespec {
                    tv_sec: stat.st_mtime,
                    tv_nsec: stat.st_mtime_nsec as _,
                },
            },
        }))
    }

    /// Removes what was made, if still empty, and puts the parent's times back.
    pub(crate) fn remove(&self) {
        remove_if_empty(self.parent.as_fd(), &self.name);
        let _ = rustix::fs::futimens(&self.parent, &self.parent_times);
    }
}

/// The first component of `target` that does not exist.
fn first_missing(sys: &Linux, target: &str) -> Option<PathBuf> {
    let mut path = PathBuf::from("/");
    for component in Path::new(target).components().skip(1) {
        path.push(component);
        if sys.stat(&path).is_err() {
            return Some(path);
        }
    }
    None
}

/// Removes `name` when it is an empty file or a tree of empty directories and files.
fn remove_if_empty(parent: BorrowedFd<'_>, name: &Path) {
    let Ok(stat) = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) else {
        return;
    };
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile if stat.st_size == 0 => {
            let _ = rustix::fs::unlinkat(parent, name, AtFlags::empty());
        }
        FileType::Directory => {
            if let Ok(directory) = rustix::fs::openat(
                parent,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                let names: Vec<PathBuf> = rustix::io::dup(&directory)
                    .ok()
                    .and_then(|fd| rustix::fs::Dir::new(fd).ok())
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|entry| PathBuf::from(OsStr::from_bytes(entry.file_name().to_bytes())))
                    .filter(|n| n.as_os_str() != "." && n.as_os_str() != "..")
                    .collect();
                for child in names {
                    remove_if_empty(directory.as_fd(), &child);
                }
            }
            let _ = rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR);
        }
        _ => {}
    }
}
