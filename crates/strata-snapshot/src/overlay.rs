//! overlayfs: mounts built with the new mount API, and the diff read from the
//! upper directory.

use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags, UnmountFlags};
use strata_layer::{Change, ChangeKind};

use crate::{Error, Result, copy};

/// Set once the kernel refused `volatile`: later mounts go without it.
static VOLATILE_UNSUPPORTED: AtomicBool = AtomicBool::new(false);

/// In a user namespace (rootless) overlayfs keeps its whiteouts and opaque
/// marks in `user.overlay.*` xattrs: `trusted.*` needs the initial
/// namespace's CAP_SYS_ADMIN (Linux 5.11+).
fn user_xattrs(context: &OwnedFd, path: &Path) -> Result<()> {
    if !strata_fs::in_user_namespace() {
        return Ok(());
    }
    rustix::mount::fsconfig_set_flag(context, "userxattr")
        .map_err(|e| Error::mount("configure overlay", path, with_log(context, e)))
}

/// A detached overlayfs mount (not attached anywhere until `move_mount`):
/// `lowers` topmost first, each added with its own `lowerdir+` so that no
/// option string limits the depth. Data and metadata are copied up whole and
/// directory renames are copies (`redirect_dir=off`, `metacopy=off`,
/// `index=off`), so that the upper directory alone is the layer.
///
/// `volatile` when asked and the kernel has it (5.10+): without it, overlayfs syncs
/// the whole upper file system when the mount goes away, which on a busy
/// machine took 2-350 ms per step here (everyone's dirty pages are written).
/// Snapshots need no sync: see [`crate::Snapshotter::with_kind`].
pub(crate) fn mount_fd(
    lowers: &[PathBuf],
    upper: &Path,
    work: &Path,
    volatile: bool,
) -> Result<OwnedFd> {
    let context = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)
        .map_err(|e| Error::mount("open overlay context", upper, e))?;
    let set = |key: &str, value: &Path| {
        rustix::mount::fsconfig_set_string(&context, key, value)
            .map_err(|e| Error::mount("configure overlay", value, with_log(&context, e)))
    };
    set("source", Path::new("strata"))?;
    for lower in lowers {
        set("lowerdir+", lower)?;
    }
    set("upperdir", upper)?;
    set("workdir", work)?;
    // `off` still follows redirects, which `userxattr` forbids: rootless
    // overlays take `nofollow` (neither made nor followed; none exist).
    let redirect_dir = if strata_fs::in_user_namespace() {
        "nofollow"
    } else {
        "off"
    };
    for (key, value) in [
        ("redirect_dir", redirect_dir),
        ("metacopy", "off"),
        ("index", "off"),
    ] {
        rustix::mount::fsconfig_set_string(&context, key, value)
            .map_err(|e| Error::mount("configure overlay", upper, with_log(&context, e)))?;
    }
    user_xattrs(&context, upper)?;
    if volatile && !VOLATILE_UNSUPPORTED.load(Ordering::Relaxed) {
        match rustix::mount::fsconfig_set_flag(&context, "volatile") {
            Ok(()) => {}
            // An older kernel: its mounts sync on unmount, and that is all.
            Err(rustix::io::Errno::INVAL) => VOLATILE_UNSUPPORTED.store(true, Ordering::Relaxed),
            Err(e) => {
                return Err(Error::mount(
                    "configure overlay",
                    upper,
                    with_log(&context, e),
                ));
            }
        }
    }
    rustix::mount::fsconfig_create(&context)
        .map_err(|e| Error::mount("create overlay", upper, with_log(&context, e)))?;
    rustix::mount::fsmount(
        &context,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::empty(),
    )
    .map_err(|e| Error::mount("mount overlay", upper, with_log(&context, e)))
}

/// The kernel's own message for a failed `fsconfig`, read from the context.
fn with_log(context: &OwnedFd, errno: rustix::io::Errno) -> std::io::Error {
    let mut messages = Vec::new();
    let mut buffer = [0u8; 512];
    while let Ok(read) = rustix::io::read(context, &mut buffer) {
        if read == 0 {
            break;
        }
        messages.push(String::from_utf8_lossy(&buffer[..read]).trim().to_owned());
    }
    let errno = std::io::Error::from(errno);
    if messages.is_empty() {
        errno
    } else {
        std::io::Error::new(errno.kind(), format!("{errno} ({})", messages.join("; ")))
    }
}

/// Whether an overlayfs with its upper directory in `directory` can be
/// mounted: a small one is (with an xattr set on its upper directory, as
/// overlayfs sets its own); why not, if it cannot.
pub(crate) fn probe_in(directory: &Path) -> Result<()> {
    let probe = directory.join(format!(".overlay-probe-{}", std::process::id()));
    let works = (|| -> Result<()> {
        for part in ["lower", "upper", "work"] {
            strata_fs::create_dir_all(probe.join(part))?;
        }
        // The namespace overlayfs will keep its own xattrs in.
        let name = if strata_fs::in_user_namespace() {
            "user.strata.probe"
        } else {
            "trusted.strata.probe"
        };
        rustix::fs::lsetxattr(
            probe.join("upper"),
            name,
            b"1",
            rustix::fs::XattrFlags::empty(),
        )
        .map_err(|e| Error::mount("set an xattr", probe.join("upper"), e))?;
        mount_fd(
            &[probe.join("lower")],
            &probe.join("upper"),
            &probe.join("work"),
            true,
        )
        .map(drop)
    })();
    let _ = fs::remove_dir_all(&probe);
    works
}

/// Detaches whatever is mounted at `path`; quiet when nothing is.
pub(crate) fn unmount_if_mounted(path: &Path) {
    let _ = rustix::mount::unmount(path, UnmountFlags::DETACH);
}

/// The changes recorded in an overlay upper directory, as BuildKit's overlay
/// differ reads them: a 0/0 character device is a deletion (when a lower
/// holds the path); an entry a lower holds with the same metadata (copied up
/// only, e.g. a directory around a mount point that was removed again) is no
/// change by itself; an opaque directory that hid a lower one is compared
/// with the lowers file by file, so that what it removed becomes whiteouts.
pub(crate) fn upper_changes(upper: &Path, lowers: &[PathBuf]) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    let mut opaque = Vec::new();
    // Each directory to read, and whether the lowers may hold its entries
    // (not below a directory they lack: no lookups for a new tree's files).
    let mut pending = vec![(PathBuf::new(), true)];
    while let Some((directory, in_lowers)) = pending.pop() {
        let full = upper.join(&directory);
        for entry in strata_fs::read_dir(&full)? {
            let entry = entry.map_err(|e| strata_fs::Error::new("list directory", &full, e))?;
            let relative = directory.join(entry.file_name());
            let path = upper.join(&relative);
            // Relative to the directory being read: no walk of the whole path.
            let metadata = entry
                .metadata()
                .map_err(|e| strata_fs::Error::new("stat", &path, e))?;
            let below = if in_lowers {
                below(&relative, lowers)
            } else {
                None
            };
            let file_type = metadata.file_type();
            if file_type.is_char_device() && metadata.rdev() == 0 {
                if below.is_some() {
                    changes.push(Change::new(relative, ChangeKind::Deleted));
                }
                continue;
            }
            let changed = match &below {
                Some((lower, old)) => copy::differs(lower, old, &path, &metadata)?,
                None => true,
            };
            if changed {
                changes.push(Change::new(&relative, ChangeKind::Modified));
            }
            if file_type.is_dir() {
                let directory_below = below.as_ref().is_some_and(|(_, old)| old.is_dir());
                if directory_below && is_opaque(&path)? {
                    opaque.push(relative);
                } else {
                    pending.push((relative, directory_below));
                }
            }
        }
    }
    if !opaque.is_empty() {
        let view = LowerView::open(lowers)?;
        for directory in opaque {
            copy::compare(Some(view.path()), upper, &directory, &mut changes)?;
        }
    }
    Ok(changes)
}

/// The topmost lower layer's entry at `relative`: its path and metadata.
fn below(relative: &Path, lowers: &[PathBuf]) -> Option<(PathBuf, fs::Metadata)> {
    lowers.iter().find_map(|lower| {
        let candidate = lower.join(relative);
        fs::symlink_metadata(&candidate)
            .ok()
            .map(|metadata| (candidate, metadata))
    })
}

/// The lower layers merged, read-only: the one lower itself, or an overlay
/// of them all (whiteouts and opaque directories applied), detached and
/// reached through its file descriptor.
enum LowerView {
    Single(PathBuf),
    /// `path` reaches the mount through `_mount`, kept open for that.
    Merged {
        _mount: OwnedFd,
        path: PathBuf,
    },
}

impl LowerView {
    fn open(lowers: &[PathBuf]) -> Result<Self> {
        if let [lower] = lowers {
            return Ok(Self::Single(lower.clone()));
        }
        let context = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)
            .map_err(|e| Error::mount("open overlay context", &lowers[0], e))?;
        for lower in lowers {
            rustix::mount::fsconfig_set_string(&context, "lowerdir+", lower)
                .map_err(|e| Error::mount("configure overlay", lower, with_log(&context, e)))?;
        }
        user_xattrs(&context, &lowers[0])?;
        rustix::mount::fsconfig_create(&context)
            .map_err(|e| Error::mount("create overlay", &lowers[0], with_log(&context, e)))?;
        let mount = rustix::mount::fsmount(
            &context,
            FsMountFlags::FSMOUNT_CLOEXEC,
            MountAttrFlags::MOUNT_ATTR_RDONLY,
        )
        .map_err(|e| Error::mount("mount overlay", &lowers[0], with_log(&context, e)))?;
        let path = PathBuf::from(format!("/proc/self/fd/{}", mount.as_raw_fd()));
        Ok(Self::Merged {
            _mount: mount,
            path,
        })
    }

    fn path(&self) -> &Path {
        match self {
            Self::Single(path) | Self::Merged { path, .. } => path,
        }
    }
}

fn is_opaque(path: &Path) -> Result<bool> {
    let mut value = [0u8; 8];
    match rustix::fs::lgetxattr(path, strata_layer::opaque_xattr(), &mut value[..]) {
        Ok(length) => Ok(&value[..length] == b"y"),
        Err(rustix::io::Errno::NODATA | rustix::io::Errno::NOTSUP | rustix::io::Errno::RANGE) => {
            Ok(false)
        }
        Err(e) => Err(strata_fs::Error::new("read xattr", path, e.into()).into()),
    }
}
