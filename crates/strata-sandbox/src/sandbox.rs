//! The parent side: starts the helper, streams the output line by line,
//! reports the end, and cancels.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};

use rustix::event::{PollFd, PollFlags};
use rustix::process::{Pid, PidfdFlags, Signal};

use crate::spec::{ExitStatus, RootFs, Spec, Stream};
use crate::wire::{
    CONTROL_FD, INIT_ARGUMENT, ROOT_MOUNT_FD, Report, Request, WireRootFs, send_request,
};
use crate::{Error, Result};

/// The longest piece of a line delivered at once; longer lines come in pieces.
const MAX_LINE: usize = 64 * 1024;

/// Starts sandboxed processes through a helper executable: the `strata`
/// binary itself by default, which must call [`crate::run_if_requested`]
/// first thing in `main`.
#[derive(Debug, Clone)]
pub struct Sandbox {
    helper: PathBuf,
}

impl Sandbox {
    /// A sandbox whose helper is the running executable.
    pub fn new() -> Result<Self> {
        let helper = std::env::current_exe().map_err(|source| Error::Spawn {
            helper: PathBuf::from("/proc/self/exe"),
            source,
        })?;
        Ok(Self { helper })
    }

    /// A sandbox whose helper is `helper` (a binary that calls
    /// [`crate::run_if_requested`] first thing).
    pub fn with_helper(helper: impl Into<PathBuf>) -> Self {
        Self {
            helper: helper.into(),
        }
    }

    /// Runs `spec` over `rootfs` to the end, giving each output line (without
    /// its newline) to `on_line` as it comes.
    pub fn run(
        &self,
        rootfs: RootFs,
        spec: &Spec,
        on_line: impl FnMut(Stream, &[u8]),
    ) -> Result<ExitStatus> {
        self.spawn(rootfs, spec)?.wait(on_line)
    }

    /// Starts `spec` over `rootfs`. Setup errors (user, executable, mounts)
    /// come from [`Running::wait`].
    pub fn spawn(&self, rootfs: RootFs, spec: &Spec) -> Result<Running> {
        if !rustix::process::geteuid().is_root() {
            return Err(Error::NotRoot);
        }
        spec.validate()?;
        let (wire_rootfs, mount) = match rootfs {
            RootFs::Directory(path) => (WireRootFs::Directory(path), None),
            RootFs::Detached { mount, mount_point } => {
                (WireRootFs::Detached { mount_point }, Some(mount))
            }
        };
        let helper_error = |source| Error::Spawn {
            helper: self.helper.clone(),
            source,
        };
        let (control, helper_control) = UnixStream::pair().map_err(helper_error)?;
        // Above the numbers the helper expects, so that dup2 moves them there.
        let helper_control = rustix::io::fcntl_dupfd_cloexec(&helper_control, 10)
            .map_err(|e| helper_error(e.into()))?;
        let mount = mount
            .map(|m| rustix::io::fcntl_dupfd_cloexec(&m, 10))
            .transpose()
            .map_err(|e| helper_error(e.into()))?;
        let control_raw = helper_control.as_raw_fd();
        let mount_raw = mount.as_ref().map(AsRawFd::as_raw_fd);
        let mut command = Command::new(&self.helper);
        command
            .arg(INIT_ARGUMENT)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: between fork and exec only dup2 runs, which is
        // async-signal-safe and allocates nothing.
        unsafe {
            command.pre_exec(move || {
                if libc::dup2(control_raw, CONTROL_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if let Some(mount_raw) = mount_raw
                    && libc::dup2(mount_raw, ROOT_MOUNT_FD) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command.spawn().map_err(helper_error)?;
        drop(helper_control);
        drop(mount);
        let request = Request {
            spec: spec.clone(),
            rootfs: wire_rootfs,
            parent_pid: std::process::id() as i32,
        };
        let mut control = control;
        if let Err(e) = send_request(&mut control, &request) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Helper {
                message: format!("send the spec: {e}"),
            });
        }
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let shared = Arc::new(Mutex::new(Shared {
            helper_pid: child.id() as i32,
            sandbox: None,
            cancelled: false,
            finished: false,
        }));
        Ok(Running {
            child: Some(child),
            control,
            stdout,
            stderr,
            shared,
        })
    }
}

#[derive(Debug)]
struct Shared {
    helper_pid: i32,
    /// A pidfd of the sandbox's PID 1, once it runs.
    sandbox: Option<OwnedFd>,
    cancelled: bool,
    /// The helper is reaped: its pid may be reused and must not be signalled.
    finished: bool,
}

/// A running sandbox. Dropping it without [`Running::wait`] kills it.
#[derive(Debug)]
pub struct Running {
    child: Option<Child>,
    control: UnixStream,
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
    shared: Arc<Mutex<Shared>>,
}

/// Cancels a running sandbox from anywhere (it is `Send + Sync + Clone`).
#[derive(Debug, Clone)]
pub struct Canceller {
    shared: Arc<Mutex<Shared>>,
}

impl Canceller {
    /// Kills the sandbox: its PID 1, and so every process in it (the kernel
    /// kills a PID namespace whose init dies), and with them its mounts.
    /// [`Running::wait`] then reports `Signal(9)`.
    pub fn cancel(&self) {
        let Ok(mut shared) = self.shared.lock() else {
            return;
        };
        shared.cancelled = true;
        kill(&shared);
    }
}

/// Kills PID 1 when it runs; tells the helper in any case (SIGTERM), which
/// kills it as soon as it exists, then still removes its mount points.
fn kill(shared: &Shared) {
    if shared.finished {
        return;
    }
    if let Some(pidfd) = &shared.sandbox {
        let _ = rustix::process::pidfd_send_signal(pidfd, Signal::KILL);
    }
    if let Some(pid) = Pid::from_raw(shared.helper_pid) {
        let _ = rustix::process::kill_process(pid, Signal::TERM);
    }
}

impl Running {
    /// A handle that cancels this sandbox from another thread.
    pub fn canceller(&self) -> Canceller {
        Canceller {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Waits for the end, giving each output line (without its newline) to
    /// `on_line` as it comes; a last line without a newline is given too.
    /// Blocking: from async code, call it on a blocking thread.
    pub fn wait(mut self, mut on_line: impl FnMut(Stream, &[u8])) -> Result<ExitStatus> {
        let mut out_buffer = Vec::new();
        let mut err_buffer = Vec::new();
        let mut control_buffer = Vec::new();
        let mut outcome: Option<std::result::Result<ExitStatus, Error>> = None;
        let mut stdout = self.stdout.take();
        let mut stderr = self.stderr.take();
        let mut control_open = true;
        let mut chunk = vec![0u8; 64 * 1024];
        while stdout.is_some() || stderr.is_some() || control_open {
            let mut fds = Vec::with_capacity(3);
            if let Some(out) = &stdout {
                fds.push(PollFd::new(out, PollFlags::IN));
            }
            if let Some(err) = &stderr {
                fds.push(PollFd::new(err, PollFlags::IN));
            }
            if control_open {
                fds.push(PollFd::new(&self.control, PollFlags::IN));
            }
            match rustix::event::poll(&mut fds, None) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    return Err(Error::Helper {
                        message: format!("poll: {e}"),
                    });
                }
            }
            let ready: Vec<bool> = fds.iter().map(|fd| !fd.revents().is_empty()).collect();
            drop(fds);
            let mut index = 0;
            if stdout.is_some() {
                if ready[index] {
                    let open = read_lines(
                        stdout.as_mut(),
                        &mut chunk,
                        &mut out_buffer,
                        Stream::Stdout,
                        &mut on_line,
                    );
                    if !open {
                        stdout = None;
                    }
                }
                index += 1;
            }
            if stderr.is_some() {
                if ready[index] {
                    let open = read_lines(
                        stderr.as_mut(),
                        &mut chunk,
                        &mut err_buffer,
                        Stream::Stderr,
                        &mut on_line,
                    );
                    if !open {
                        stderr = None;
                    }
                }
                index += 1;
            }
            if control_open && ready[index] {
                match self.control.read(&mut chunk) {
                    Ok(0) | Err(_) => control_open = false,
                    Ok(read) => {
                        control_buffer.extend_from_slice(&chunk[..read]);
                        while let Some(end) = control_buffer.iter().position(|b| *b == b'\n') {
                            let line: Vec<u8> = control_buffer.drain(..=end).collect();
                            match serde_json::from_slice::<Report>(&line) {
                                Ok(Report::Started { pid }) => self.started(pid),
                                Ok(Report::Failed { kind, message }) => {
                                    outcome = Some(Err(kind.into_error(message)));
                                }
                                Ok(Report::Ended { status }) => outcome = Some(Ok(status)),
                                Err(e) => {
                                    outcome = Some(Err(Error::Helper {
                                        message: format!("unreadable report: {e}"),
                                    }));
                                }
                            }
                        }
                    }
                }
            }
        }
        let helper_status = self.reap();
        let cancelled = self.shared.lock().map(|s| s.cancelled).unwrap_or(false);
        match outcome {
            Some(outcome) => outcome,
            None if cancelled => Ok(ExitStatus::Signal(libc::SIGKILL)),
            None => Err(Error::Helper {
                message: format!("exited without a report ({helper_status})"),
            }),
        }
    }

    fn started(&self, pid: i32) {
        let Ok(mut shared) = self.shared.lock() else {
            return;
        };
        let Some(pid) = Pid::from_raw(pid) else {
            return;
        };
        // A pidfd: a cancel can never hit a recycled pid.
        if let Ok(pidfd) = rustix::process::pidfd_open(pid, PidfdFlags::empty()) {
            shared.sandbox = Some(pidfd);
        }
        if shared.cancelled {
            kill(&shared);
        }
    }

    fn reap(&mut self) -> String {
        let Some(mut child) = self.child.take() else {
            return "already reaped".to_owned();
        };
        let status = child.wait();
        if let Ok(mut shared) = self.shared.lock() {
            shared.finished = true;
        }
        match status {
            Ok(status) => status.to_string(),
            Err(e) => e.to_string(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.is_some() {
            if let Ok(shared) = self.shared.lock() {
                kill(&shared);
            }
            if let Some(child) = self.child.as_mut() {
                let _ = child.kill();
            }
            self.reap();
        }
    }
}

/// Reads what is there and hands out the complete lines; false at the end.
fn read_lines(
    stream: Option<&mut impl Read>,
    chunk: &mut [u8],
    buffer: &mut Vec<u8>,
    which: Stream,
    on_line: &mut impl FnMut(Stream, &[u8]),
) -> bool {
    let Some(stream) = stream else { return false };
    let read = match stream.read(chunk) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return true,
        Err(_) => 0,
    };
    if read == 0 {
        if !buffer.is_empty() {
            on_line(which, buffer);
            buffer.clear();
        }
        return false;
    }
    buffer.extend_from_slice(&chunk[..read]);
    let mut start = 0;
    while let Some(end) = buffer[start..].iter().position(|b| *b == b'\n') {
        on_line(which, &buffer[start..start + end]);
        start += end + 1;
    }
    buffer.drain(..start);
    while buffer.len() >= MAX_LINE {
        on_line(which, &buffer[..MAX_LINE]);
        buffer.drain(..MAX_LINE);
    }
    true
}
