//! Base root file systems for tests: a `FROM scratch`-style busybox tree built
//! from Debian's static busybox, and a cached Debian minbase tree.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

/// The static busybox the busybox rootfs is built from (package busybox-static).
pub const BUSYBOX: &str = "/bin/busybox";

/// `/etc/passwd` of the busybox rootfs: root, a test user and nobody.
pub const BUSYBOX_PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:Test User:/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
";

/// `/etc/group` of the busybox rootfs: `tester` is also in `staff` and `audio`
/// (its supplementary groups).
pub const BUSYBOX_GROUP: &str = "\
root:x:0:
audio:x:29:tester,nobody
staff:x:50:tester
tester:x:1000:
nogroup:x:65534:
";

/// A busybox rootfs (shared and cached under the target directory; treat it
/// as read-only, copy it with [`copy_tree`] to change it). Panics when
/// busybox-static is not installed (`scripts/install-test-deps` installs it).
///
/// It holds `/bin/busybox`, a symlink for every applet `busybox --list-full`
/// names, `/etc/passwd` ([`BUSYBOX_PASSWD`]), `/etc/group` ([`BUSYBOX_GROUP`]),
/// empty `/proc`, `/sys`, `/dev`, `/tmp` (1777), `/root` (0700) and
/// `/home/tester` (owned by 1000:1000 when built as root).
pub fn busybox_rootfs() -> PathBuf {
    let busybox = Path::new(BUSYBOX);
    let metadata = fs::metadata(busybox).unwrap_or_else(|e| {
        panic!("{BUSYBOX}: {e} (install busybox-static: scripts/install-test-deps)")
    });
    let key = format!(
        "busybox-rootfs-v1-{}-{}",
        metadata.len(),
        metadata
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs())
    );
    let cache = workspace_root().join("target").join("strata-test");
    cached(&cache, &key, |tree| build_busybox(busybox, tree))
        .unwrap_or_else(|e| panic!("building the busybox rootfs: {e}"))
}

fn build_busybox(busybox: &Path, tree: &Path) -> Result<(), String> {
    let io = |what: &str, path: &Path, e: std::io::Error| format!("{what} {}: {e}", path.display());
    for (dir, mode) in [
        ("bin", 0o755),
        ("sbin", 0o755),
        ("usr/bin", 0o755),
        ("usr/sbin", 0o755),
        ("etc", 0o755),
        ("proc", 0o555),
        ("sys", 0o555),
        ("dev", 0o755),
        ("tmp", 0o1777),
        ("root", 0o700),
        ("home/tester", 0o755),
        ("var", 0o755),
    ] {
        let path = tree.join(dir);
        fs::create_dir_all(&path).map_err(|e| io("create", &path, e))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))
            .map_err(|e| io("chmod", &path, e))?;
    }
    if crate::is_root() {
        let home = tree.join("home/tester");
        std::os::unix::fs::chown(&home, Some(1000), Some(1000))
            .map_err(|e| io("chown", &home, e))?;
    }
    let target = tree.join("bin/busybox");
    fs::copy(busybox, &target).map_err(|e| io("copy", busybox, e))?;
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755))
        .map_err(|e| io("chmod", &target, e))?;
    let list = Command::new(busybox)
        .arg("--list-full")
        .output()
        .map_err(|e| io("run", busybox, e))?;
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let applet = applet.trim().trim_start_matches('/');
        if applet.is_empty() || applet == "bin/busybox" || applet.contains("..") {
            continue;
        }
        let link = tree.join(applet);
        if let Some(parent) = link.parent() {
            fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        }
        if fs::symlink_metadata(&link).is_err() {
            symlink("/bin/busybox", &link).map_err(|e| io("symlink", &link, e))?;
        }
    }
    for (name, contents) in [("etc/passwd", BUSYBOX_PASSWD), ("etc/group", BUSYBOX_GROUP)] {
        let path = tree.join(name);
        fs::write(&path, contents).map_err(|e| io("write", &path, e))?;
    }
    Ok(())
}

/// Where [`debian_rootfs`] keeps its tree: `STRATA_DEBIAN_ROOTFS` or
/// `/var/cache/strata-test/bookworm-minbase`.
pub fn debian_rootfs_dir() -> PathBuf {
    std::env::var_os("STRATA_DEBIAN_ROOTFS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/strata-test/bookworm-minbase"))
}

/// A Debian bookworm minbase tree (`debootstrap --variant=minbase`), made once
/// under a lock (about a minute, needs the Debian mirror and root) and reused
/// between runs. Errors say why it could not be made.
pub fn debian_rootfs() -> Result<PathBuf, String> {
    let wanted = debian_rootfs_dir();
    let (Some(parent), Some(name)) = (wanted.parent(), wanted.file_name()) else {
        return Err(format!("{}: not a directory path", wanted.display()));
    };
    let name = name.to_string_lossy().into_owned();
    cached(parent, &name, |tree| {
        let mirror = std::env::var("STRATA_DEBIAN_MIRROR")
            .unwrap_or_else(|_| "http://deb.debian.org/debian".to_owned());
        let status = Command::new("debootstrap")
            .args(["--variant=minbase", "bookworm"])
            .arg(tree)
            .arg(&mirror)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("run debootstrap (install it: scripts/install-test-deps): {e}"))?;
        if !status.success() {
            return Err(format!(
                "debootstrap --variant=minbase bookworm failed: {status}"
            ));
        }
        Ok(())
    })
}

/// `dir/name`, made by `build` into a temporary sibling and renamed into
/// place under a lock, so that concurrent tests build it once and never see
/// half of it.
fn cached(
    dir: &Path,
    name: &str,
    build: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let done = dir.join(name);
    if done.is_dir() {
        return Ok(done);
    }
    fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let lock_path = dir.join(format!(".{name}.lock"));
    let lock =
        fs::File::create(&lock_path).map_err(|e| format!("create {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("lock {}: {e}", lock_path.display()))?;
    if done.is_dir() {
        return Ok(done);
    }
    let partial = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = fs::remove_dir_all(&partial);
    fs::create_dir_all(&partial).map_err(|e| format!("create {}: {e}", partial.display()))?;
    if let Err(e) = build(&partial) {
        let _ = fs::remove_dir_all(&partial);
        return Err(e);
    }
    fs::rename(&partial, &done).map_err(|e| format!("rename {}: {e}", partial.display()))?;
    Ok(done)
}

/// A private, writable copy of the busybox rootfs, removed when dropped.
pub struct BusyboxCopy {
    _directory: tempfile::TempDir,
    /// The copy's root directory.
    pub path: PathBuf,
}

/// A private copy of [`busybox_rootfs`] that a test may change.
pub fn busybox_rootfs_copy() -> BusyboxCopy {
    let directory = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let path = directory.path().join("rootfs");
    fs::create_dir(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    copy_tree(&busybox_rootfs(), &path);
    BusyboxCopy {
        _directory: directory,
        path,
    }
}

/// Copies a tree with everything kept (`cp -a`): owners, modes, times,
/// xattrs, hardlinks, symlinks and device nodes.
pub fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status()
        .expect("run cp");
    assert!(
        status.success(),
        "cp -a {} {}",
        from.display(),
        to.display()
    );
}
