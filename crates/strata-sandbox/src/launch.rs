//! PID 1 of a new sandbox, started from the calling process itself (the
//! container monitor, or the build helper): cloned into new namespaces, set
//! up up to the exec, held there until the caller releases it.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use rustix::process::{Pid, Signal, WaitOptions};

use crate::process::channel::{self, Channel, Message};
use crate::process::linux::Linux;
use crate::process::namespaces::{self, Cloned};
use crate::process::terminal::{self, TerminalSize};
use crate::process::{
    Failure, Syscalls, child_only, credentials, etc_files, exec, init_process, mounts, pivot,
    rootfs, signals,
};
use crate::spec::{RootFs, Spec};
use crate::{Error, Result};

/// Where the process's standard streams go.
#[derive(Debug)]
pub enum Stdio {
    /// These become 0, 1 and 2 (`stdin: None`: /dev/null).
    Fds {
        /// Standard input, or `None` for /dev/null.
        stdin: Option<OwnedFd>,
        /// Standard output.
        stdout: OwnedFd,
        /// Standard error.
        stderr: OwnedFd,
    },
    /// A new pseudo-terminal from the sandbox's own devpts instance
    /// (`/dev/pts/N` inside), made the process's controlling terminal and
    /// 0, 1 and 2; the master comes back in [`Started::terminal`].
    Terminal {
        /// Rows.
        rows: u16,
        /// Columns.
        columns: u16,
    },
}

/// A process that runs: its host pid, a pidfd, and a terminal's master.
/// The caller reaps it (waitpid or waitid on the pid or pidfd).
#[derive(Debug)]
pub struct Started {
    /// The process's pid in the caller's PID namespace.
    pub pid: i32,
    /// A pidfd of it.
    pub pidfd: OwnedFd,
    /// The master of its terminal, for [`Stdio::Terminal`].
    pub terminal: Option<OwnedFd>,
}

/// PID 1 of a new sandbox, set up and held before its exec. Dropping it
/// without [`Pending::release`] kills it, as [`Pending::abort`] does.
#[derive(Debug)]
pub struct Pending {
    pid: Pid,
    process: Option<(OwnedFd, Channel)>,
    terminal: Option<OwnedFd>,
    ready: bool,
}

/// Starts PID 1 of a new sandbox over `rootfs`: cloned into new mount, PID,
/// IPC and UTS namespaces (and network, unless [`crate::Network::Host`]),
/// so that the caller stays in its own and can launch again; it sets itself
/// up to the exec while the caller goes on (connecting its network, say),
/// then waits for [`Pending::release`], which reports its setup errors. It dies with the caller (parent-death SIGKILL), and
/// every mount it makes lives and dies in its own mount namespace. Needs
/// root and a single-threaded caller (checked).
pub fn launch(rootfs: RootFs, spec: &Spec, stdio: Stdio) -> Result<Pending> {
    if !rustix::process::geteuid().is_root() {
        return Err(Error::NotRoot);
    }
    spec.validate()?;
    namespaces::ensure_single_threaded("launching a sandbox")?;
    let host_resolv_conf = match spec.resolv_conf {
        Some(_) => String::new(),
        None => std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
    };
    let (caller, process) = channel::pair().map_err(|e| Error::Setup {
        message: format!("create the sandbox's channel: {e}"),
    })?;
    match namespaces::clone_into(namespaces::clone_flags(spec))? {
        Cloned::Child => {
            drop(caller);
            child_only(|| pid1(&rootfs, spec, stdio, process, &host_resolv_conf))
        }
        Cloned::Parent { pid, pidfd } => {
            drop((process, rootfs, stdio));
            // Not waiting for it here: the caller connects its network
            // while PID 1 sets itself up.
            Ok(Pending {
                pid,
                process: Some((pidfd, caller)),
                terminal: None,
                ready: false,
            })
        }
    }
}

impl Pending {
    /// The host pid of PID 1 (for cgroup placement, or its network
    /// namespace at /proc/PID/ns/net).
    pub fn pid(&self) -> i32 {
        self.pid.as_raw_nonzero().get()
    }

    /// Lets it execute; returns once the exec happened, or with the error
    /// that kept it from happening (PID 1 is then reaped).
    pub fn release(mut self) -> Result<Started> {
        self.ready()?;
        let Some(channel) = self.channel() else {
            return Err(self.fail(None));
        };
        if let Err(e) = channel.send(&Message::Release, None) {
            return Err(self.fail(Some(Err(e))));
        }
        match channel.receive() {
            Ok(None) => {}
            other => return Err(self.fail(Some(other))),
        }
        let Some((pidfd, _)) = self.process.take() else {
            return Err(self.fail(None));
        };
        Ok(Started {
            pid: self.pid(),
            pidfd,
            terminal: self.terminal.take(),
        })
    }

    /// Waits until it has set itself up (its root is then the sandbox's:
    /// `/proc/PID/root` may be written through); setup errors come here.
    pub fn ready(&mut self) -> Result<()> {
        if self.ready {
            return Ok(());
        }
        let Some(channel) = self.channel() else {
            return Err(self.fail(None));
        };
        match channel.receive() {
            Ok(Some((Message::Ready, terminal))) => {
                self.terminal = terminal;
                self.ready = true;
                Ok(())
            }
            other => Err(self.fail(Some(other))),
        }
    }

    /// Kills and reaps it (the caller's own setup failed).
    pub fn abort(mut self) {
        self.kill_and_reap();
    }

    fn channel(&self) -> Option<&Channel> {
        self.process.as_ref().map(|(_, channel)| channel)
    }

    /// The error for what the channel said instead of what was expected;
    /// PID 1 is killed and reaped.
    fn fail(&mut self, said: Option<ChannelResult>) -> Error {
        self.kill_and_reap();
        match said {
            Some(Ok(Some((Message::Failed { kind, message }, _)))) => kind.into_error(message),
            Some(Err(e)) => Error::Setup {
                message: format!("talk to the sandbox's PID 1: {e}"),
            },
            _ => Error::Setup {
                message: "the sandbox's PID 1 exited during setup".to_owned(),
            },
        }
    }

    fn kill_and_reap(&mut self) {
        if let Some((pidfd, _)) = self.process.take() {
            let _ = rustix::process::pidfd_send_signal(&pidfd, Signal::KILL);
            let _ = rustix::process::waitpid(Some(self.pid), WaitOptions::empty());
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

type ChannelResult = std::result::Result<Option<(Message, Option<OwnedFd>)>, rustix::io::Errno>;

/// PID 1 after the clone: sets up, reports, waits for the release, executes.
fn pid1(rootfs: &RootFs, spec: &Spec, stdio: Stdio, channel: Channel, host_resolv_conf: &str) -> ! {
    let failure = match pid1_steps(rootfs, spec, stdio, &channel, host_resolv_conf) {
        Err(failure) => failure,
        Ok(Held::Released(prepared)) => match credentials::install_late_seccomp(spec) {
            Err(failure) => failure,
            Ok(()) if spec.init => {
                let terminal = prepared.terminal.is_some();
                init_process::run(channel, terminal, || run(&prepared, spec))
            }
            Ok(()) => run(&prepared, spec),
        },
        Ok(Held::Abandoned) => exit(1),
    };
    let _ = channel.send(&failure.into(), None);
    exit(1)
}

fn run<S: Syscalls>(prepared: &Prepared<S>, spec: &Spec) -> Failure {
    exec::execute(
        &prepared.sys,
        &prepared.program,
        &spec.args,
        &prepared.environment,
    )
}

/// How the hold ended.
enum Held {
    /// The caller released the process.
    Released(Prepared<Linux>),
    /// The caller went away (or aborted).
    Abandoned,
}

fn pid1_steps(
    rootfs: &RootFs,
    spec: &Spec,
    stdio: Stdio,
    channel: &Channel,
    host_resolv_conf: &str,
) -> std::result::Result<Held, Failure> {
    signals::reset();
    // Nothing in the sandbox may open our /proc/PID/exe (our binary) before the exec.
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(crate::process::setup("prctl(SET_DUMPABLE)"))?;
    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
        .map_err(crate::process::setup("set parent death signal"))?;
    // The caller may have died before the signal was set.
    if channel.peer_closed() {
        return Ok(Held::Abandoned);
    }
    if let Some(network) = namespaces::joined_network(spec) {
        namespaces::join_network(network)?;
    }
    let terminal = terminal::install_streams(stdio)?;
    let sys = Linux::new(rootfs::attach(rootfs)?);
    let prepared = set_up(sys, spec, host_resolv_conf, terminal)?;
    channel
        .send(&Message::Ready, prepared.terminal.as_ref().map(AsFd::as_fd))
        .map_err(crate::process::setup("report ready"))?;
    match channel.receive() {
        Ok(Some((Message::Release, _))) => Ok(Held::Released(prepared)),
        _ => Ok(Held::Abandoned),
    }
}

/// What PID 1 holds between its setup and its exec.
pub(crate) struct Prepared<S> {
    sys: S,
    program: PathBuf,
    environment: Vec<String>,
    terminal: Option<OwnedFd>,
}

/// Everything up to the exec, in runc's order: mount points, mounts, /etc
/// files, masked paths, extra mounts, pivot_root, hostname and loopback,
/// session and terminal, the user, the working directory, the read-only
/// root, the program's lookup, limits, then the credentials.
pub(crate) fn set_up<S: Syscalls>(
    sys: S,
    spec: &Spec,
    host_resolv_conf: &str,
    terminal: Option<TerminalSize>,
) -> std::result::Result<Prepared<S>, Failure> {
    rootfs::create_mount_points(&sys, spec)?;
    mounts::mount_standard(&sys, spec.insecure)?;
    etc_files::mount_etc_files(&sys, spec, host_resolv_conf)?;
    // BuildKit's insecure steps see /proc and /sys unmasked.
    if !spec.insecure {
        mounts::protect_kernel_paths(&sys)?;
    }
    mounts::mount_extra(&sys, spec)?;
    pivot::pivot_root(&sys)?;
    namespaces::configure(&sys, spec)?;
    let terminal = terminal::start_session(&sys, terminal, true)?;
    let user = credentials::resolve(&sys, spec)?;
    rootfs::create_working_dir(&sys, &spec.working_dir, user.uid, user.gid)?;
    rootfs::make_readonly(&sys, spec)?;
    let environment = exec::environment(spec, &user);
    let program = exec::find_program(&sys, spec, &environment)?;
    credentials::set_limits(&sys, spec)?;
    credentials::become_user(&sys, spec, &user)?;
    Ok(Prepared {
        sys,
        program,
        environment,
        terminal,
    })
}

fn exit(code: i32) -> ! {
    // SAFETY: ends this clone of the caller without running the caller's
    // destructors or atexit handlers, which are not ours to run.
    unsafe { libc::_exit(code) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::recording::{Call, Recording};

    fn prepared(spec: &Spec) -> Prepared<Recording> {
        let fake = Recording::with_image();
        set_up(fake, spec, "nameserver 10.0.0.1\n", None).unwrap()
    }

    #[test]
    fn setup_then_exec_in_order() {
        let mut spec = Spec::new(["sh", "-c", "true"]);
        spec.user = "tester".into();
        spec.working_dir = "/tmp".into();
        spec.readonly_rootfs = true;
        let prepared = prepared(&spec);
        let failure = run(&prepared, &spec);
        assert!(
            failure.message.starts_with("exec /bin/sh"),
            "{}",
            failure.message
        );
        let fake = &prepared.sys;
        let proc_mount = fake.position(
            "/proc",
            |c| matches!(c, Call::Mount { target, .. } if target == "/proc"),
        );
        let extra = fake.position(
            "/etc/hosts bind",
            |c| matches!(c, Call::Bind { target, .. } if target == "/etc/hosts"),
        );
        let pivot = fake.position("pivot", |c| *c == Call::PivotRoot);
        let hostname = fake.position("hostname", |c| matches!(c, Call::SetHostname(_)));
        let session = fake.position("session", |c| *c == Call::NewSession);
        let read_only = fake.position("ro root", |c| *c == Call::MakeRootReadonly);
        let chdir = fake.position("chdir", |c| *c == Call::ChangeDirectory("/tmp".into()));
        let ids = fake.position("ids", |c| {
            *c == Call::SetIds {
                uid: 1000,
                gid: 1000,
            }
        });
        let capabilities = fake.position("caps", |c| matches!(c, Call::SetCapabilities { .. }));
        let execute = fake.position("exec", |c| matches!(c, Call::Execute { .. }));
        assert!(
            proc_mount < extra && extra < pivot,
            "mounts before pivot_root"
        );
        assert!(pivot < hostname && hostname < session);
        assert!(session < read_only && read_only < chdir && chdir < ids);
        assert!(
            ids < capabilities && capabilities < execute,
            "credentials before exec"
        );
        assert_eq!(
            fake.calls()[execute],
            Call::Execute {
                program: "/bin/sh".into(),
                args: spec.args.clone(),
                environment: vec![
                    format!("PATH={}", crate::DEFAULT_PATH),
                    "HOME=/home/tester".into()
                ],
            }
        );
    }

    #[test]
    fn a_missing_program_fails_before_the_hold() {
        let fake = Recording::with_image();
        let spec = Spec::new(["nope"]);
        let failure = set_up(fake, &spec, "", None).err().unwrap();
        assert_eq!(
            failure.message,
            "exec: \"nope\": executable file not found in $PATH"
        );
    }

    #[test]
    fn a_terminal_becomes_the_console() {
        let fake = Recording::with_image();
        let spec = Spec::new(["sh"]);
        let size = TerminalSize {
            rows: 30,
            columns: 100,
        };
        let prepared = set_up(fake, &spec, "", Some(size)).unwrap();
        assert!(prepared.terminal.is_some());
        assert!(prepared.sys.calls().contains(&Call::Terminal {
            rows: 30,
            columns: 100,
            console: true
        }));
    }
}
