//! The seam between the setup steps and the kernel: the calls the steps make,
//! at paths inside the sandbox's root. [`super::linux::Linux`] makes them;
//! the tests' recording fake writes them down.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::io::Errno;
use rustix::mount::MountAttrFlags;
use rustix::process::{Resource, Rlimit};

use crate::capabilities::Capabilities;

/// What a path inside the sandbox is, symlinks followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// A directory.
    Directory,
    /// A regular file; `executable` when any execute bit is set.
    File { executable: bool },
    /// A device, socket or pipe.
    Other,
}

/// Where a bind mount's tree comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BindSource {
    /// A path inside the sandbox's root (resolved in it).
    Inside(PathBuf),
    /// A path on the host (before pivot_root).
    Host(PathBuf),
}

/// The calls the setup steps make. Paths are absolute and resolved inside
/// the sandbox's root (symlinks included), before and after pivot_root alike.
pub(crate) trait Syscalls {
    /// What `path` is.
    fn stat(&self, path: &Path) -> Result<FileKind, Errno>;
    /// The contents of the file at `path`.
    fn read_file(&self, path: &Path) -> Result<Vec<u8>, Errno>;
    /// A new directory with exactly `mode` (the umask does not apply).
    fn make_directory(&self, path: &Path, mode: u32) -> Result<(), Errno>;
    /// A new file (it must not exist) with exactly `mode`, holding `contents`.
    fn make_file(&self, path: &Path, mode: u32, contents: &[u8]) -> Result<(), Errno>;
    /// A new device node (a block device when `block`, else a character
    /// device) with exactly `mode`.
    fn make_device(
        &self,
        path: &Path,
        block: bool,
        mode: u32,
        major: u32,
        minor: u32,
    ) -> Result<(), Errno>;
    /// A new symbolic link at `path` pointing to `target`.
    fn make_symlink(&self, target: &str, path: &Path) -> Result<(), Errno>;
    /// `chown` without following a last symlink.
    fn change_owner(&self, path: &Path, uid: u32, gid: u32) -> Result<(), Errno>;
    /// Removes the file at `path`.
    fn remove_file(&self, path: &Path) -> Result<(), Errno>;

    /// Mounts a new `filesystem` with string (or flag) `options` on `target`.
    fn mount(
        &self,
        filesystem: &str,
        options: &[(&str, Option<&str>)],
        attributes: MountAttrFlags,
        target: &Path,
    ) -> Result<(), Errno>;
    /// Binds `source` (recursively) on `target`, read-only (recursively) when asked.
    fn bind(&self, source: &BindSource, readonly: bool, target: &Path) -> Result<(), Errno>;
    /// Makes the root mount itself read-only (not the mounts on it).
    fn make_root_readonly(&self) -> Result<(), Errno>;
    /// Makes the root the process's `/` and detaches the old one.
    fn pivot_root(&self) -> Result<(), Errno>;

    /// Sets the UTS namespace's hostname.
    fn set_hostname(&self, name: &str) -> Result<(), Errno>;
    /// Brings the loopback interface of the network namespace up.
    fn loopback_up(&self) -> Result<(), Errno>;
    /// A new session (the process becomes its leader).
    fn new_session(&self) -> Result<(), Errno>;
    /// A new pseudo-terminal of the sandbox's devpts, `rows` by `columns`,
    /// made the controlling terminal and 0, 1 and 2 (and bound on
    /// /dev/console when `console`); the master.
    fn terminal(&self, rows: u16, columns: u16, console: bool) -> Result<OwnedFd, Errno>;

    /// Sets the soft and hard limits (`None`: unlimited).
    fn set_rlimit(&self, resource: Resource, limit: Rlimit) -> Result<(), Errno>;
    /// The current hard limit (`None`: unlimited).
    fn hard_rlimit(&self, resource: Resource) -> Option<u64>;
    /// Sets the umask.
    fn set_umask(&self, mode: u32);
    /// Changes the working directory (the process's view: after pivot_root).
    fn change_directory(&self, path: &Path) -> Result<(), Errno>;

    /// Removes capability `number` from the bounding set (EINVAL past the kernel's last).
    fn drop_from_bounding_set(&self, number: u32) -> Result<(), Errno>;
    /// Clears the ambient set.
    fn clear_ambient_capabilities(&self) -> Result<(), Errno>;
    /// This process's permitted set.
    fn current_capabilities(&self) -> Capabilities;
    /// Sets the effective and permitted sets (the inheritable set empty).
    fn set_capabilities(
        &self,
        effective: Capabilities,
        permitted: Capabilities,
    ) -> Result<(), Errno>;
    /// Sets the supplementary groups.
    fn set_groups(&self, gids: &[u32]) -> Result<(), Errno>;
    /// Sets real, effective and saved gid, then uid.
    fn set_ids(&self, uid: u32, gid: u32) -> Result<(), Errno>;
    /// Gives standard streams owned by someone else (not /dev/null) to `uid`.
    fn own_stdio(&self, uid: u32) -> Result<(), Errno>;
    /// PR_SET_NO_NEW_PRIVS.
    fn set_no_new_privileges(&self) -> Result<(), Errno>;
    /// PR_SET_DUMPABLE.
    fn set_dumpable(&self, dumpable: bool) -> Result<(), Errno>;
    /// SIGKILL when the parent dies (a credential change clears it).
    fn set_parent_death_signal(&self) -> Result<(), Errno>;

    /// Executes `program`; returns only on failure.
    fn execute(&self, program: &Path, args: &[String], environment: &[String]) -> Errno;
}
