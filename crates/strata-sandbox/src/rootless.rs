//! Rootless strata: an unprivileged user's `strata` runs again in a user
//! namespace of its own that maps 0 to the user and 1..N to the user's
//! subordinate ids (`/etc/subuid`, `/etc/subgid`, written by the setuid
//! `newuidmap`/`newgidmap` of Debian's uidmap), with a mount namespace it
//! owns. Inside, strata is root over what it maps: RUN steps chown, set
//! setuid bits and make fifos, and overlayfs mounts with `userxattr`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rustix::mount::MountPropagationFlags;
use rustix::thread::UnshareFlags;

use crate::{Error, Result};

/// Set in the re-executed process's environment.
const CHILD: &str = "STRATA_ROOTLESS_CHILD";

/// Where [`enter`] left the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rootless {
    /// Real root: nothing done.
    Root,
    /// In strata's user namespace (just entered, or inherited).
    Inside,
    /// The unprivileged parent, after its namespaced copy exited with this
    /// code: exit with it.
    Finished(i32),
}

/// A user's subordinate ids: `start..start + count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// The first id.
    pub start: u32,
    /// How many.
    pub count: u32,
}

/// Makes an unprivileged process rootless strata: the first call re-runs
/// the program (same arguments, standard streams inherited) in a new user
/// namespace and waits for it; in that copy it enters the namespace. Call
/// it first thing in `main`, before any thread starts.
pub fn enter() -> Result<Rootless> {
    if rustix::process::geteuid().is_root() {
        return Ok(if strata_fs::in_user_namespace() {
            Rootless::Inside
        } else {
            Rootless::Root
        });
    }
    if std::env::var_os(CHILD).is_some() {
        become_namespaced()?;
        return Ok(Rootless::Inside);
    }
    run_namespaced()
}

fn setup(message: String) -> Error {
    Error::Setup { message }
}

/// The copy's half: unshare, wait for the parent to write the maps.
fn become_namespaced() -> Result<()> {
    crate::process::namespaces::ensure_single_threaded("a user namespace")?;
    // SAFETY: single-threaded (checked above): no other thread shares the
    // credentials or file-system attributes this unshares, and FILES is
    // not among the flags.
    unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWUSER | UnshareFlags::NEWNS) }
        .map_err(|e| setup(format!("unshare a user namespace: {e}")))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(mapped("/proc/self/uid_map") && mapped("/proc/self/gid_map")) {
        if Instant::now() > deadline {
            return Err(setup(
                "the user namespace's id maps were never written".to_owned(),
            ));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
    )
    .map_err(|e| setup(format!("make / private: {e}")))
}

fn mapped(path: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|map| !map.trim().is_empty())
}

/// The parent's half: start the copy, map its ids, wait for it.
fn run_namespaced() -> Result<Rootless> {
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
    let arguments: Vec<_> = std::env::args_os().skip(1).collect();
    let mut child = Command::new("/proc/self/exe")
        .args(&arguments)
        .env(CHILD, "1")
        .spawn()
        .map_err(|e| setup(format!("start strata in a user namespace: {e}")))?;
    if let Err(error) = map_ids(child.id(), (uid, uids), (gid, gids)) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(error);
    }
    // The terminal's Ctrl-C reaches the copy too: it decides what it means.
    // SAFETY: SIG_IGN installs no handler code; only this process changes.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
    let status = child
        .wait()
        .map_err(|e| setup(format!("wait for strata in its user namespace: {e}")))?;
    use std::os::unix::process::ExitStatusExt;
    Ok(Rootless::Finished(
        status
            .code()
            .or(status.signal().map(|s| 128 + s))
            .unwrap_or(1),
    ))
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
