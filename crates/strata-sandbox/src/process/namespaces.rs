//! Namespaces: PID 1 cloned into new ones (so the caller stays where it is
//! and can launch again), an exec joining a running sandbox's, and the UTS
//! and network namespaces' contents.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};

use rustix::fs::{Mode, OFlags};
use rustix::process::Pid;
use rustix::thread::{LinkNameSpaceType, ThreadNameSpaceType};

use super::syscalls::Syscalls;
use super::{Failure, last_errno, setup};
use crate::spec::{Network, Spec};
use crate::{Error, Result};

/// Which side of a clone or fork this is.
pub(crate) enum Cloned {
    /// The caller: the child's pid and a pidfd of it.
    Parent { pid: Pid, pidfd: OwnedFd },
    /// The new process.
    Child,
}

/// The namespaces PID 1 of `spec` gets: mount, PID, IPC, UTS, and network
/// unless it shares the host's.
pub(crate) fn clone_flags(spec: &Spec) -> u64 {
    let mut flags =
        libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS;
    if spec.network != Network::Host && joined_network(spec).is_none() {
        flags |= libc::CLONE_NEWNET;
    }
    flags as u64
}

/// The network namespace PID 1 joins rather than making one, if any.
pub(crate) fn joined_network(spec: &Spec) -> Option<&std::path::Path> {
    match spec.network {
        Network::Private => spec.network_namespace.as_deref(),
        _ => None,
    }
}

/// Joins the network namespace bound to `path` (before the root changes:
/// the path is the caller's).
pub(crate) fn join_network(path: &std::path::Path) -> Result<(), Failure> {
    let namespace = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(setup(format!("open network namespace {}", path.display())))?;
    rustix::thread::move_into_link_name_space(namespace.as_fd(), Some(LinkNameSpaceType::Network))
        .map_err(setup(format!("join network namespace {}", path.display())))
}

/// Makes a network namespace with loopback up and binds it onto `path` (an
/// empty file is created), in the caller's mount namespace: it lives while
/// that bind does, or a process is in it. A short-lived child does the work,
/// so the caller stays where it is. Needs root and a single-threaded caller.
pub fn new_network_namespace(path: &std::path::Path) -> Result<()> {
    ensure_single_threaded("making a network namespace")?;
    std::fs::File::create(path).map_err(|e| Error::Setup {
        message: format!("create {}: {e}", path.display()),
    })?;
    match fork()? {
        Cloned::Child => {
            let made = (|| -> Result<(), Failure> {
                // SAFETY: this forked child of a single-threaded caller is
                // single-threaded, and FILES is not among the flags.
                unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
                    .map_err(setup("unshare the network namespace"))?;
                super::linux::bring_loopback_up()
                    .map_err(setup("bring up the loopback interface"))?;
                rustix::mount::mount_bind("/proc/self/ns/net", path).map_err(setup(format!(
                    "bind the network namespace onto {}",
                    path.display()
                )))
            })();
            // SAFETY: ends this fork without the caller's destructors or atexit handlers.
            unsafe { libc::_exit(i32::from(made.is_err())) }
        }
        Cloned::Parent { pid, .. } => {
            let status = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty());
            match status {
                Ok(Some((_, status))) if status.exit_status() == Some(0) => Ok(()),
                _ => Err(Error::Setup {
                    message: format!("make a network namespace at {}", path.display()),
                }),
            }
        }
    }
}

/// Errors unless the process has exactly one thread: namespaces are
/// per-thread, and a fork of a multi-threaded process may inherit held locks.
pub(crate) fn ensure_single_threaded(what: &str) -> Result<()> {
    let threads = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Threads:"))
                .and_then(|count| count.trim().parse::<u32>().ok())
        });
    if threads == Some(1) {
        return Ok(());
    }
    Err(Error::Setup {
        message: format!(
            "{what} needs a single-threaded process ({} threads)",
            threads.map_or_else(|| "unknown".to_owned(), |t| t.to_string())
        ),
    })
}

/// `struct clone_args` (linux/sched.h, version 2).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `clone3` with `namespace_flags`, like fork (the child continues here), and
/// a pidfd of the child. Single-threaded callers only (checked by the public API).
pub(crate) fn clone_into(namespace_flags: u64) -> Result<Cloned> {
    let mut pidfd: libc::c_int = -1;
    let args = CloneArgs {
        flags: namespace_flags | libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    // SAFETY: without CLONE_VM the child gets a copy of this single-threaded
    // process, as with fork, so it may run any code; `args` is a live,
    // correctly sized `struct clone_args` and `pidfd` outlives the call.
    let result = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            size_of::<CloneArgs>(),
        )
    };
    match result {
        0 => Ok(Cloned::Child),
        pid if pid > 0 => Ok(Cloned::Parent {
            pid: Pid::from_raw(pid as i32).ok_or_else(|| clone_error("clone3 gave pid 0"))?,
            // SAFETY: the kernel stored a new descriptor, ours alone, there.
            pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
        }),
        _ => Err(clone_error(&format!(
            "clone3: {}",
            std::io::Error::from(last_errno())
        ))),
    }
}

/// A plain fork with a pidfd of the child (an exec's process).
pub(crate) fn fork() -> Result<Cloned> {
    clone_into(0)
}

fn clone_error(message: &str) -> Error {
    Error::Setup {
        message: message.to_owned(),
    }
}

/// While it lives, the caller's children are born in the PID namespace of
/// another process (setns of the namespace for children only); dropping it
/// puts the caller's own back.
pub(crate) struct ChildrenInPidNamespace {
    own: OwnedFd,
}

impl ChildrenInPidNamespace {
    /// Children from now on go to `target`'s PID namespace.
    pub(crate) fn enter(target: &OwnedFd) -> Result<Self> {
        let own = rustix::fs::open(
            "/proc/self/ns/pid",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::Setup {
            message: format!("open /proc/self/ns/pid: {e}"),
        })?;
        rustix::thread::move_into_thread_name_spaces(
            target.as_fd(),
            ThreadNameSpaceType::PROCESS_ID,
        )
        .map_err(|e| Error::Setup {
            message: format!("join the sandbox's PID namespace: {e}"),
        })?;
        Ok(Self { own })
    }
}

impl Drop for ChildrenInPidNamespace {
    fn drop(&mut self) {
        // The caller's own namespace is its active one, always allowed.
        let _ = rustix::thread::move_into_link_name_space(
            self.own.as_fd(),
            Some(LinkNameSpaceType::ProcessID),
        );
    }
}

/// Joins the mount, IPC, UTS and network namespaces of the process `target`
/// refers to (a pidfd) at once; the root and working directory become its
/// mount namespace's root.
pub(crate) fn join(target: &OwnedFd) -> Result<(), Failure> {
    rustix::thread::move_into_thread_name_spaces(
        target.as_fd(),
        ThreadNameSpaceType::MOUNT
            | ThreadNameSpaceType::INTER_PROCESS_COMMUNICATION
            | ThreadNameSpaceType::HOST_NAME_AND_NIS_DOMAIN_NAME
            | ThreadNameSpaceType::NETWORK,
    )
    .map_err(setup("join the sandbox's namespaces"))
}

/// The UTS namespace's hostname, and loopback up in a new network namespace.
pub(crate) fn configure(sys: &impl Syscalls, spec: &Spec) -> Result<(), Failure> {
    sys.set_hostname(&spec.hostname)
        .map_err(setup("set hostname"))?;
    if spec.network != Network::Host {
        sys.loopback_up()
            .map_err(setup("bring up the loopback interface"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::recording::{Call, Recording};

    #[test]
    fn namespaces_follow_the_network() {
        let mut spec = Spec::new(["true"]);
        let base =
            (libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS)
                as u64;
        assert_eq!(clone_flags(&spec), base);
        for network in [Network::None, Network::Private] {
            spec.network = network;
            assert_eq!(clone_flags(&spec), base | libc::CLONE_NEWNET as u64);
        }
    }

    #[test]
    fn hostname_and_loopback() {
        let fake = Recording::new();
        let mut spec = Spec::new(["true"]);
        spec.hostname = "web".into();
        configure(&fake, &spec).unwrap();
        assert_eq!(fake.calls(), [Call::SetHostname("web".into())]);
        let fake = Recording::new();
        spec.network = Network::Private;
        configure(&fake, &spec).unwrap();
        assert_eq!(
            fake.calls(),
            [Call::SetHostname("web".into()), Call::LoopbackUp]
        );
    }

    #[test]
    fn a_multi_threaded_process_is_refused() {
        let _other = std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_secs(1)));
        let error = ensure_single_threaded("launching").unwrap_err();
        assert!(error.to_string().contains("single-threaded"), "{error}");
    }
}
