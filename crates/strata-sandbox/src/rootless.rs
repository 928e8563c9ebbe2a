//! Rootless strata: an unprivileged user's `strata` joins a user namespace
//! that maps 0 to the user and 1..N to the user's subordinate ids
//! (`/etc/subuid`, `/etc/subgid`, written by the setuid `newuidmap` and
//! `newgidmap` of Debian's uidmap), then takes a mount namespace of its own.
//! Inside, strata is root over what it maps: RUN steps chown, set setuid
//! bits and make fifos, and overlayfs mounts with `userxattr`.
//!
//! The namespace is held by a small process of strata's own (podman's
//! "pause process"), started by the first command that needs it and
//! recorded in the user's runtime directory, so that every later command
//! is in the same namespace as the containers earlier ones started (an
//! `exec` or `stop` can enter theirs).

use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::mount::MountPropagationFlags;
use rustix::thread::{LinkNameSpaceType, UnshareFlags};

use crate::{Error, Result};

/// Set in the namespace holder's environment.
const HOLDER: &str = "STRATA_ROOTLESS_HOLDER";

/// Where [`enter`] left the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rootless {
    /// Real root: nothing done.
    Root,
    /// In strata's user namespace (just joined, or inherited).
    Inside,
}

/// A user's subordinate ids: `start..start + count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// The first id.
    pub start: u32,
    /// How many.
    pub count: u32,
}

/// Makes an unprivileged process rootless strata: it joins the user's
/// strata namespace (starting its holder first if none runs) and takes a
/// private mount namespace. Call it first thing in `main`, before any
/// thread starts; the holder itself never returns from it.
pub fn enter() -> Result<Rootless> {
    if rustix::process::geteuid().is_root() {
        return Ok(if strata_fs::in_user_namespace() {
            Rootless::Inside
        } else {
            Rootless::Root
        });
    }
    let directory = runtime_directory()?;
    let holder = {
        let _lock = lock(&directory.join("namespace.lock"))?;
        let record = directory.join("namespace.pid");
        match running_holder(&record) {
            Some(pid) => pid,
            None => start_holder(&record)?,
        }
    };
    join(holder)?;
    Ok(Rootless::Inside)
}

fn setup(message: String) -> Error {
    Error::Setup { message }
}

/// Becomes the holder of a rootless user's namespace when this process
/// was started as one; returns otherwise. Call it first thing in `main`.
pub fn hold_if_requested() {
    if std::env::var_os(HOLDER).is_some() {
        hold();
    }
}

/// The holder: a user namespace of its own, then nothing until killed.
fn hold() -> ! {
    let _ = rustix::process::setsid();
    // SAFETY: single-threaded (the holder starts no thread): no other
    // thread shares the credentials this unshares; FILES is not asked.
    if unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWUSER) }.is_err() {
        std::process::exit(1);
    }
    // SAFETY: SIG_IGN installs no handler code; only this process changes.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// The user's runtime directory for strata: `$XDG_RUNTIME_DIR/strata`,
/// else `/tmp/strata-UID`; it must be the user's own, mode 0700.
fn runtime_directory() -> Result<PathBuf> {
    let uid = rustix::process::getuid().as_raw();
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| std::fs::metadata(d).is_ok_and(|m| m.uid() == uid));
    let directory = match base {
        Some(base) => base.join("strata"),
        None => PathBuf::from(format!("/tmp/strata-{uid}")),
    };
    match std::fs::create_dir(&directory) {
        Ok(()) => std::fs::set_permissions(&directory, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| setup(strata_fs::Error::new("chmod", &directory, e).to_string()))?,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => {
            return Err(setup(
                strata_fs::Error::new("create", &directory, error).to_string(),
            ));
        }
    }
    let metadata = std::fs::symlink_metadata(&directory)
        .map_err(|e| setup(strata_fs::Error::new("stat", &directory, e).to_string()))?;
    if !metadata.is_dir() || metadata.uid() != uid || metadata.mode() & 0o077 != 0 {
        return Err(setup(format!(
            "{}: not a directory of the user's own with mode 0700: rootless strata keeps its namespace's record there",
            directory.display()
        )));
    }
    Ok(directory)
}

/// An exclusive lock on `path`, held until the file is dropped.
fn lock(path: &Path) -> Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| setup(strata_fs::Error::new("open", path, e).to_string()))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| setup(format!("lock {}: {e}", path.display())))?;
    Ok(file)
}

/// The holder `record` names, if it still runs, is strata's, and has its
/// maps written.
fn running_holder(record: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(record).ok()?.trim().parse().ok()?;
    let environment = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let marker = format!("{HOLDER}=1");
    let is_holder = environment
        .split(|b| *b == 0)
        .any(|entry| entry == marker.as_bytes());
    let mapped = std::fs::read_to_string(format!("/proc/{pid}/uid_map"))
        .is_ok_and(|map| !map.trim().is_empty());
    (is_holder && mapped).then_some(pid)
}

/// Starts the holder, maps its ids and records it.
fn start_holder(record: &Path) -> Result<u32> {
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    let user = user_name(uid).unwrap_or_else(|| uid.to_string());
    let missing = |file: &str| {
        setup(format!(
            "rootless strata needs subordinate ids: {file} has none for {user}; as root, add the line \"{user}:100000:65536\" to /etc/subuid and to /etc/subgid (or run: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user})"
        ))
    };
    let uids = subordinate_ids(Path::new("/etc/subuid"), &user, uid)
        .ok_or_else(|| missing("/etc/subuid"))?;
    let gids = subordinate_ids(Path::new("/etc/subgid"), &user, uid)
        .ok_or_else(|| missing("/etc/subgid"))?;
    let mut child = Command::new("/proc/self/exe")
        .env(HOLDER, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| setup(format!("start strata's user namespace: {e}")))?;
    let pid = child.id();
    if let Err(error) = map_ids(pid, (uid, uids), (gid, gids)) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(error);
    }
    strata_fs::write_atomic(record, pid.to_string().as_bytes())
        .map_err(|e| setup(e.to_string()))?;
    Ok(pid)
}

/// Joins the holder's user namespace, then takes a mount namespace of its
/// own, private (what this process mounts dies with it).
fn join(holder: u32) -> Result<()> {
    crate::process::namespaces::ensure_single_threaded("a user namespace")?;
    let path = format!("/proc/{holder}/ns/user");
    let namespace = std::fs::File::open(&path)
        .map_err(|e| setup(strata_fs::Error::new("open", Path::new(&path), e).to_string()))?;
    rustix::thread::move_into_link_name_space(namespace.as_fd(), Some(LinkNameSpaceType::User))
        .map_err(|e| setup(format!("join strata's user namespace: {e}")))?;
    // SAFETY: single-threaded (checked above): no other thread shares the
    // file-system attributes this unshares; FILES is not asked.
    unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWNS) }
        .map_err(|e| setup(format!("unshare a mount namespace: {e}")))?;
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
    )
    .map_err(|e| setup(format!("make / private: {e}")))?;
    // The process's credentials are the namespace's now: 0 is the user.
    if !rustix::process::geteuid().is_root() {
        return Err(setup(
            "strata's user namespace does not map the user to 0".to_owned(),
        ));
    }
    Ok(())
}

/// Waits until process `pid` is in a user namespace of its own, then
/// writes its maps: 0 is the user, 1..=count the subordinate range.
fn map_ids(pid: u32, uids: (u32, IdRange), gids: (u32, IdRange)) -> Result<()> {
    let ours = std::fs::read_link("/proc/self/ns/user").ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let theirs = std::fs::read_link(format!("/proc/{pid}/ns/user")).ok();
        if theirs.is_none() {
            return Err(setup(
                "strata exited before entering its user namespace".to_owned(),
            ));
        }
        if theirs != ours {
            break;
        }
        if Instant::now() > deadline {
            return Err(setup("strata never entered its user namespace".to_owned()));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    for (program, (own, range)) in [("newuidmap", uids), ("newgidmap", gids)] {
        let output = Command::new(program)
            .args([pid.to_string(), "0".into(), own.to_string(), "1".into()])
            .args([
                "1".to_owned(),
                range.start.to_string(),
                range.count.to_string(),
            ])
            .output()
            .map_err(|e| {
                setup(format!(
                    "{program}: {e} (rootless strata needs Debian's uidmap package)"
                ))
            })?;
        if !output.status.success() {
            return Err(setup(format!(
                "{program}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
    }
    Ok(())
}

/// The name `/etc/passwd` gives `uid`.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid.to_string()).then(|| name.to_owned())
    })
}

/// The first range `file` (`/etc/subuid` format: `name-or-id:start:count`)
/// gives `user` or `uid`.
pub fn subordinate_ids(file: &Path, user: &str, uid: u32) -> Option<IdRange> {
    let text = std::fs::read_to_string(file).ok()?;
    parse_subordinate_ids(&text, user, uid)
}

fn parse_subordinate_ids(text: &str, user: &str, uid: u32) -> Option<IdRange> {
    text.lines().find_map(|line| {
        let mut fields = line.trim().split(':');
        let owner = fields.next()?;
        if owner != user && owner != uid.to_string() {
            return None;
        }
        let start = fields.next()?.parse().ok()?;
        let count: u32 = fields.next()?.parse().ok()?;
        (count > 0).then_some(IdRange { start, count })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subordinate_ids_by_name_or_uid() {
        let text = "alice:100000:65536\n1001:200000:1000\nbad line\nzero:1:0\n";
        assert_eq!(
            parse_subordinate_ids(text, "alice", 1000),
            Some(IdRange {
                start: 100000,
                count: 65536
            })
        );
        assert_eq!(
            parse_subordinate_ids(text, "bob", 1001),
            Some(IdRange {
                start: 200000,
                count: 1000
            })
        );
        assert_eq!(parse_subordinate_ids(text, "zero", 5), None);
        assert_eq!(parse_subordinate_ids(text, "carol", 1002), None);
    }
}
