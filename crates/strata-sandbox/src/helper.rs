//! The build helper: a freshly executed, single-threaded process (the
//! `strata` binary itself, like `runc init`) that reads a RUN step's request,
//! attaches the root in a mount namespace of its own, makes the mount points
//! the root lacks, launches PID 1 ([`crate::launch()`]), reports its start and
//! end to the parent, and removes the mount points again.

use std::ffi::OsStr;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::io::Errno;
use rustix::process::{Pid, Signal, WaitOptions};
use rustix::thread::UnshareFlags;

use crate::launch::{Stdio, launch};
use crate::process::linux::Linux;
use crate::process::{Failure, rootfs, setup};
use crate::spec::{ExitStatus, RootFs, Spec};
use crate::stubs::Stub;
use crate::wire::{
    CONTROL_FD, FailureKind, INIT_ARGUMENT, ROOT_MOUNT_FD, Report, Request, WireRootFs,
    read_request, send_report,
};

/// Becomes the sandbox helper when this process was started as one (its
/// first argument is the helper marker), and never returns then; otherwise
/// returns at once. Call it first thing in `main`, before any thread starts.
pub fn run_if_requested() {
    let mut arguments = std::env::args_os();
    let _ = arguments.next();
    if arguments.next().as_deref() != Some(OsStr::new(INIT_ARGUMENT)) {
        return;
    }
    std::process::exit(helper_main());
}

fn helper_main() -> i32 {
    // SAFETY: the parent put the control socket on this descriptor for us
    // alone (see `Sandbox::spawn`); nothing else owns it.
    let control = unsafe { OwnedFd::from_raw_fd(CONTROL_FD) };
    let _ = rustix::io::fcntl_setfd(&control, rustix::io::FdFlags::CLOEXEC);
    let mut control = UnixStream::from(control);
    let request = match read_request(&mut control) {
        Ok(request) => request,
        Err(_) => return 2,
    };
    match run_step(&mut control, request) {
        Ok(status) => {
            let _ = send_report(&mut control, &Report::Ended { status });
            0
        }
        Err(Failure { kind, message }) => {
            let _ = send_report(&mut control, &Report::Failed { kind, message });
            1
        }
    }
}

/// Set by SIGTERM (a cancel) or SIGHUP (the parent died).
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn stop_requested(parent_pid: i32) -> bool {
    STOP.load(Ordering::SeqCst) || !parent_alive(parent_pid)
}

fn parent_alive(parent_pid: i32) -> bool {
    rustix::process::getppid().map(|p| p.as_raw_nonzero().get()) == Some(parent_pid)
}

fn run_step(control: &mut UnixStream, request: Request) -> Result<ExitStatus, Failure> {
    // The parent's death interrupts us (SIGHUP, caught) rather than killing
    // us: we then kill the sandbox and still remove the mount points we made.
    // SIGTERM from the parent is a cancel, handled the same way.
    // SAFETY: the handler only stores to an atomic, which is
    // async-signal-safe; the sigaction struct is fully initialised.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_stop_signal as *const () as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        action.sa_flags = 0;
        libc::sigaction(libc::SIGHUP, &action, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
    }
    rustix::process::set_parent_process_death_signal(Some(Signal::HUP))
        .map_err(setup("set parent death signal"))?;
    if !parent_alive(request.parent_pid) {
        return Err(Failure::setup("the parent exited"));
    }
    if !rustix::process::geteuid().is_root() {
        return Err(Failure {
            kind: FailureKind::NotRoot,
            message: "not root".to_owned(),
        });
    }
    // A mount namespace of our own: the root attached here is seen by no one else.
    // SAFETY: this process is single-threaded (freshly executed, no thread
    // started), and FILES is not among the flags.
    unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWNS) }
        .map_err(setup("unshare the mount namespace"))?;
    let (rootfs, root_path) = match request.rootfs {
        WireRootFs::Directory(path) => (RootFs::Directory(path.clone()), path),
        WireRootFs::Detached { mount_point } => {
            // SAFETY: the parent put the detached mount on this descriptor.
            let mount = unsafe { OwnedFd::from_raw_fd(ROOT_MOUNT_FD) };
            let root = RootFs::Detached {
                mount,
                mount_point: mount_point.clone(),
            };
            (root, mount_point)
        }
    };
    let sys = Linux::new(rootfs::attach(&rootfs)?);
    let mut stubs = Vec::new();
    let mut result = Ok(());
    for (target, is_directory) in rootfs::mount_targets(&request.spec) {
        match Stub::create(&sys, &target, is_directory) {
            Ok(stub) => stubs.extend(stub),
            Err(failure) => {
                result = Err(failure);
                break;
            }
        }
    }
    let status =
        result.and_then(|()| run_pid1(control, &request.spec, root_path, request.parent_pid));
    for stub in stubs.iter().rev() {
        stub.remove();
    }
    status
}

/// Launches PID 1 over the attached root, reports its pid, waits for it.
fn run_pid1(
    control: &mut UnixStream,
    spec: &Spec,
    root: PathBuf,
    parent_pid: i32,
) -> Result<ExitStatus, Failure> {
    let stream =
        |fd| rustix::io::fcntl_dupfd_cloexec(fd, 3).map_err(setup("duplicate the output streams"));
    let stdio = Stdio::Fds {
        stdin: None,
        stdout: stream(rustix::stdio::stdout())?,
        stderr: stream(rustix::stdio::stderr())?,
    };
    let pending = launch(RootFs::Directory(root), spec, stdio)?;
    if stop_requested(parent_pid) {
        pending.abort();
        return Ok(ExitStatus::Signal(libc::SIGKILL));
    }
    let started = pending.release()?;
    let _ = send_report(control, &Report::Started { pid: started.pid });
    // SAFETY: our own child's pid, not reaped yet.
    let child = unsafe { Pid::from_raw_unchecked(started.pid) };
    if stop_requested(parent_pid) {
        let _ = rustix::process::pidfd_send_signal(&started.pidfd, Signal::KILL);
    }
    loop {
        match rustix::process::waitpid(Some(child), WaitOptions::empty()) {
            Ok(Some((_, status))) => {
                if let Some(code) = status.exit_status() {
                    return Ok(ExitStatus::Code(code));
                }
                if let Some(signal) = status.terminating_signal() {
                    return Ok(ExitStatus::Signal(signal));
                }
            }
            Ok(None) | Err(Errno::INTR) => {
                if stop_requested(parent_pid) {
                    let _ = rustix::process::pidfd_send_signal(&started.pidfd, Signal::KILL);
                }
            }
            Err(e) => return Err(setup("wait for the sandbox")(e)),
        }
    }
}
