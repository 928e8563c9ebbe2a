//! The helper: a freshly executed, single-threaded process (the `strata`
//! binary itself, like `runc init`) that makes the namespaces, mounts the
//! root file system in its own mount namespace, forks the process as PID 1
//! of a new PID namespace, and reports how it ended.

use std::ffi::{CString, OsStr};
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags, Timestamps};
use rustix::io::Errno;
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MountPropagationFlags, MoveMountFlags,
    OpenTreeFlags, UnmountFlags,
};
use rustix::process::{Pid, Resource, Rlimit, Signal, WaitOptions};
use rustix::thread::{CapabilitySet, CapabilitySets, UnshareFlags};

use crate::files;
use crate::spec::{DEFAULT_PATH, ExitStatus, Mount, MountKind, Network, Spec};
use crate::user::{ResolvedUser, resolve_user};
use crate::wire::{
    CONTROL_FD, FailureKind, INIT_ARGUMENT, ROOT_MOUNT_FD, Report, Request, WireRootFs,
    read_request, send_report,
};

/// Docker's default capabilities (moby's `caps.DefaultCapabilities`), which
/// BuildKit's runc executor also gives a RUN step.
const DEFAULT_CAPABILITIES: CapabilitySet = CapabilitySet::CHOWN
    .union(CapabilitySet::DAC_OVERRIDE)
    .union(CapabilitySet::FSETID)
    .union(CapabilitySet::FOWNER)
    .union(CapabilitySet::MKNOD)
    .union(CapabilitySet::NET_RAW)
    .union(CapabilitySet::SETGID)
    .union(CapabilitySet::SETUID)
    .union(CapabilitySet::SETFCAP)
    .union(CapabilitySet::SETPCAP)
    .union(CapabilitySet::NET_BIND_SERVICE)
    .union(CapabilitySet::SYS_CHROOT)
    .union(CapabilitySet::KILL)
    .union(CapabilitySet::AUDIT_WRITE);

/// The open-files limit: what dockerd's systemd unit (`LimitNOFILE=infinity`,
/// capped by `fs.nr_open`) passes down to BuildKit's runc, which leaves
/// rlimits alone unless `--ulimit` is given. NPROC and CORE are unlimited
/// for the same reason. Without CAP_SYS_RESOURCE, the current hard limit.
const NOFILE_LIMIT: u64 = 1_048_576;

/// Paths Docker hides from containers (a bind of /dev/null or an empty read-only tmpfs).
const MASKED_PATHS: &[&str] = &[
    "proc/asound",
    "proc/acpi",
    "proc/kcore",
    "proc/keys",
    "proc/latency_stats",
    "proc/timer_list",
    "proc/timer_stats",
    "proc/sched_debug",
    "proc/scsi",
    "sys/firmware",
    "sys/devices/virtual/powercap",
];

/// Paths Docker makes read-only.
const READONLY_PATHS: &[&str] = &[
    "proc/bus",
    "proc/fs",
    "proc/irq",
    "proc/sys",
    "proc/sysrq-trigger",
];

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

/// A setup failure: its kind and message.
struct Failure(FailureKind, String);

fn setup(what: impl std::fmt::Display) -> impl FnOnce(Errno) -> Failure {
    move |errno| {
        Failure(
            FailureKind::Setup,
            format!("{what}: {}", std::io::Error::from(errno)),
        )
    }
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
    match run_helper(&mut control, request) {
        Ok(status) => {
            let _ = send_report(&mut control, &Report::Ended { status });
            0
        }
        Err(Failure(kind, message)) => {
            let _ = send_report(&mut control, &Report::Failed { kind, message });
            1
        }
    }
}

fn run_helper(control: &mut UnixStream, request: Request) -> Result<ExitStatus, Failure> {
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
        return Err(Failure(FailureKind::Setup, "the parent exited".to_owned()));
    }
    if !rustix::process::geteuid().is_root() {
        return Err(Failure(FailureKind::NotRoot, "not root".to_owned()));
    }
    let spec = &request.spec;
    let host_resolv_conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();

    let mut flags =
        UnshareFlags::NEWNS | UnshareFlags::NEWPID | UnshareFlags::NEWIPC | UnshareFlags::NEWUTS;
    if spec.network == Network::None {
        flags |= UnshareFlags::NEWNET;
    }
    // SAFETY: this process is single-threaded (freshly executed, no thread
    // started), and FILES is not among the flags.
    unsafe { rustix::thread::unshare_unsafe(flags) }.map_err(setup("unshare namespaces"))?;
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
    )
    .map_err(setup("make / private"))?;

    let root = match &request.rootfs {
        WireRootFs::Directory(path) => {
            rustix::mount::mount_bind_recursive(path, path)
                .map_err(setup(format!("bind root file system {}", path.display())))?;
            path.clone()
        }
        WireRootFs::Detached { mount_point } => {
            // SAFETY: the parent put the detached mount on this descriptor.
            let mount = unsafe { OwnedFd::from_raw_fd(ROOT_MOUNT_FD) };
            rustix::mount::move_mount(
                &mount,
                "",
                rustix::fs::CWD,
                mount_point,
                MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
            )
            .map_err(setup(format!(
                "attach root file system on {}",
                mount_point.display()
            )))?;
            mount_point.clone()
        }
    };
    let root_fd = rustix::fs::open(
        &root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(setup(format!("open root file system {}", root.display())))?;

    // Mount points the image lacks are made for the run and removed after it.
    let mut stubs = Vec::new();
    let mut targets: Vec<(&str, bool)> = vec![
        ("/proc", true),
        ("/dev", true),
        ("/sys", true),
        ("/etc/hosts", false),
        ("/etc/resolv.conf", false),
        ("/etc/hostname", false),
    ];
    for mount in &spec.mounts {
        let is_directory = match &mount.kind {
            MountKind::Bind { source } => source.is_dir(),
            MountKind::Tmpfs { .. } => true,
        };
        targets.push((&mount.destination, is_directory));
    }
    let mut result = Ok(());
    for (target, is_directory) in targets {
        match create_mount_point(&root_fd, target, is_directory) {
            Ok(Some(stub)) => stubs.push(stub),
            Ok(None) => {}
            Err(failure) => {
                result = Err(failure);
                break;
            }
        }
    }
    let status = result.and_then(|()| run_child(control, &request, &root, &host_resolv_conf));
    for stub in stubs.iter().rev() {
        stub.remove();
    }
    status
}

/// Set by SIGTERM (a cancel) or SIGHUP (the parent died).
static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, std::sync::atomic::Ordering::SeqCst);
}

fn stop_requested(parent_pid: i32) -> bool {
    STOP.load(std::sync::atomic::Ordering::SeqCst) || !parent_alive(parent_pid)
}

fn parent_alive(parent_pid: i32) -> bool {
    rustix::process::getppid().map(|p| p.as_raw_nonzero().get()) == Some(parent_pid)
}

/// Forks PID 1 of the sandbox, reports its pid, waits for it.
fn run_child(
    control: &mut UnixStream,
    request: &Request,
    root: &Path,
    host_resolv_conf: &str,
) -> Result<ExitStatus, Failure> {
    let (error_read, error_write) =
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(setup("create pipe"))?;
    // SAFETY: this process is single-threaded, so the child may run any code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(setup("fork")(Errno::from_raw_os_error(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        )));
    }
    if pid == 0 {
        drop(error_read);
        let Err(Failure(kind, message)) =
            child_main(request, root, host_resolv_conf, error_write.as_fd());
        let mut pipe = std::fs::File::from(error_write);
        let kind = match kind {
            FailureKind::User => b'U',
            FailureKind::Exec => b'E',
            _ => b'S',
        };
        let _ = pipe.write_all(&[kind]);
        let _ = pipe.write_all(message.as_bytes());
        // SAFETY: leaving the forked child without running the helper's
        // destructors or atexit handlers, which belong to the helper.
        unsafe { libc::_exit(127) };
    }
    drop(error_write);
    let mut message = Vec::new();
    let _ = std::fs::File::from(error_read).read_to_end(&mut message);
    // SAFETY: `pid` is our child's pid, returned by fork just above.
    let child = unsafe { Pid::from_raw_unchecked(pid) };
    if !message.is_empty() {
        let _ = rustix::process::waitpid(Some(child), WaitOptions::empty());
        let kind = match message[0] {
            b'U' => FailureKind::User,
            b'E' => FailureKind::Exec,
            _ => FailureKind::Setup,
        };
        return Err(Failure(
            kind,
            String::from_utf8_lossy(&message[1..]).into_owned(),
        ));
    }
    let _ = send_report(control, &Report::Started { pid });
    if stop_requested(request.parent_pid) {
        let _ = rustix::process::kill_process(child, Signal::KILL);
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
                if stop_requested(request.parent_pid) {
                    let _ = rustix::process::kill_process(child, Signal::KILL);
                }
            }
            Err(e) => return Err(setup("wait for the sandbox")(e)),
        }
    }
}

/// A mount point made for the run: removed afterwards when still empty, and
/// its parent's times put back, so that it never shows in a diff.
struct Stub {
    parent: OwnedFd,
    name: PathBuf,
    parent_times: Timestamps,
}

impl Stub {
    fn remove(&self) {
        remove_if_empty(self.parent.as_fd(), &self.name);
        let _ = rustix::fs::futimens(&self.parent, &self.parent_times);
    }
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

fn open_in_root(root: &OwnedFd, path: &Path, flags: OFlags) -> rustix::io::Result<OwnedFd> {
    let relative = path.strip_prefix("/").unwrap_or(path);
    let relative = if relative.as_os_str().is_empty() {
        Path::new(".")
    } else {
        relative
    };
    rustix::fs::openat2(
        root,
        relative,
        flags | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// Makes sure `target` exists in the root file system (symlinks resolved
/// inside it), creating what is missing; the first thing created is returned.
fn create_mount_point(
    root: &OwnedFd,
    target: &str,
    is_directory: bool,
) -> Result<Option<Stub>, Failure> {
    let path = Path::new(target);
    if !path.is_absolute() || path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(Failure(
            FailureKind::Setup,
            format!("mount destination {target:?} must be an absolute path without `..`"),
        ));
    }
    let components: Vec<&OsStr> = path
        .components()
        .skip(1)
        .map(Component::as_os_str)
        .collect();
    let mut created: Option<Stub> = None;
    let mut prefix = PathBuf::from("/");
    for (index, component) in components.iter().enumerate() {
        let parent_path = prefix.clone();
        prefix.push(component);
        match open_in_root(root, &prefix, OFlags::PATH) {
            Ok(_) => continue,
            Err(Errno::NOENT) => {}
            Err(e) => return Err(setup(format!("look up mount point {target}"))(e)),
        }
        let parent =
            open_in_root(root, &parent_path, OFlags::RDONLY | OFlags::DIRECTORY).map_err(setup(
                format!("open {} for mount point {target}", parent_path.display()),
            ))?;
        let last = index + 1 == components.len();
        let parent_stat = rustix::fs::fstat(&parent).map_err(setup("stat mount point parent"))?;
        if last && !is_directory {
            rustix::fs::openat(
                &parent,
                *component,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o644),
            )
            .map_err(setup(format!("create mount point {target}")))?;
        } else {
            rustix::fs::mkdirat(&parent, *component, Mode::from_raw_mode(0o755))
                .map_err(setup(format!("create mount point {target}")))?;
        }
        if created.is_none() {
            created = Some(Stub {
                parent,
                name: PathBuf::from(component),
                parent_times: Timestamps {
                    last_access: rustix::fs::Timespec {
                        tv_sec: parent_stat.st_atime,
                        tv_nsec: parent_stat.st_atime_nsec as _,
                    },
                    last_modification: rustix::fs::Timespec {
                        tv_sec: parent_stat.st_mtime,
                        tv_nsec: parent_stat.st_mtime_nsec as _,
                    },
                },
            });
        }
    }
    Ok(created)
}

/// PID 1 of the sandbox: mounts, pivot_root, hostname, user, then exec.
fn child_main(
    request: &Request,
    root_path: &Path,
    host_resolv_conf: &str,
    error_pipe: BorrowedFd<'_>,
) -> Result<std::convert::Infallible, Failure> {
    let spec = &request.spec;
    set_death_signal(error_pipe)?;
    // Our own mount namespace: pivot_root must not move the helper's root.
    // SAFETY: single-threaded (forked from a single-threaded process).
    unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWNS) }
        .map_err(setup("unshare mount namespace"))?;
    // Descriptors opened before name the helper's mounts: open the root again.
    let root = &rustix::fs::open(
        root_path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(setup(format!(
        "open root file system {}",
        root_path.display()
    )))?;

    mount_standard(root, spec, host_resolv_conf)?;
    for mount in &spec.mounts {
        // /dev is a fresh tmpfs by now: a mount point below it (BuildKit's
        // /dev/pipes for heredoc scripts) is made again there.
        if Path::new(&mount.destination).starts_with("/dev") && mount.destination != "/dev" {
            let is_directory = match &mount.kind {
                MountKind::Bind { source } => source.is_dir(),
                MountKind::Tmpfs { .. } => true,
            };
            create_mount_point(root, &mount.destination, is_directory)?;
        }
        mount_extra(root, mount)?;
    }

    rustix::process::fchdir(root).map_err(setup("enter root file system"))?;
    rustix::process::pivot_root(".", ".").map_err(setup("pivot_root"))?;
    rustix::mount::unmount(".", UnmountFlags::DETACH).map_err(setup("detach the old root"))?;
    rustix::process::chdir("/").map_err(setup("chdir /"))?;

    rustix::system::sethostname(spec.hostname.as_bytes()).map_err(setup("set hostname"))?;
    if spec.network == Network::None {
        loopback_up().map_err(setup("bring up the loopback interface"))?;
    }

    let passwd = std::fs::read_to_string("/etc/passwd").ok();
    let group = std::fs::read_to_string("/etc/group").ok();
    let user = resolve_user(&spec.user, passwd.as_deref(), group.as_deref())
        .map_err(|m| Failure(FailureKind::User, m))?;
    let environment = environment(spec, &user);
    create_working_dir(&spec.working_dir, &user)?;
    let program = find_program(spec, &environment)?;

    for (resource, limit) in [
        (Resource::Nofile, Some(NOFILE_LIMIT)),
        (Resource::Nproc, None),
        (Resource::Core, None),
    ] {
        match rustix::process::setrlimit(
            resource,
            Rlimit {
                current: limit,
                maximum: limit,
            },
        ) {
            Ok(()) => {}
            // Without CAP_SYS_RESOURCE the hard limit cannot rise: take all of it.
            Err(Errno::PERM) => {
                let hard = rustix::process::getrlimit(resource).maximum;
                rustix::process::setrlimit(
                    resource,
                    Rlimit {
                        current: hard,
                        maximum: hard,
                    },
                )
                .map_err(setup(format!("set rlimit {resource:?}")))?;
            }
            Err(e) => return Err(setup(format!("set rlimit {resource:?}"))(e)),
        }
    }
    rustix::process::umask(Mode::from_raw_mode(0o022));
    rustix::process::chdir(&spec.working_dir)
        .map_err(setup(format!("chdir {}", spec.working_dir)))?;

    drop_capabilities()?;
    let groups: Vec<rustix::fs::Gid> = user
        .supplementary_gids
        .iter()
        .map(|g| rustix::fs::Gid::from_raw(*g))
        .collect();
    rustix::thread::set_thread_groups(&groups).map_err(setup("set supplementary groups"))?;
    let gid = rustix::fs::Gid::from_raw(user.gid);
    rustix::thread::set_thread_res_gid(gid, gid, gid).map_err(setup("set gid"))?;
    let uid = rustix::fs::Uid::from_raw(user.uid);
    rustix::thread::set_thread_res_uid(uid, uid, uid).map_err(setup("set uid"))?;
    // A change of credentials clears the parent-death signal: set it again.
    set_death_signal(error_pipe)?;
    if user.uid == 0 {
        rustix::thread::set_capabilities(
            None,
            CapabilitySets {
                effective: DEFAULT_CAPABILITIES,
                permitted: DEFAULT_CAPABILITIES,
                inheritable: CapabilitySet::empty(),
            },
        )
        .map_err(setup("set capabilities"))?;
    }

    exec(&program, &spec.args, &environment)
}

/// Dies with the helper. PID 1 of a new namespace sees no parent (getppid is
/// 0), so a helper that died before the signal was set shows as the read end
/// of the error pipe being closed.
fn set_death_signal(error_pipe: BorrowedFd<'_>) -> Result<(), Failure> {
    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
        .map_err(setup("set parent death signal"))?;
    let mut fds = [rustix::event::PollFd::from_borrowed_fd(
        error_pipe,
        rustix::event::PollFlags::OUT,
    )];
    let zero = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let _ = rustix::event::poll(&mut fds, Some(&zero));
    if fds[0].revents().contains(rustix::event::PollFlags::ERR) {
        return Err(Failure(FailureKind::Setup, "the helper exited".to_owned()));
    }
    Ok(())
}

/// A new mount from `fsopen(filesystem)` with string options, attached on `target`.
fn mount_new(
    root: &OwnedFd,
    filesystem: &str,
    options: &[(&str, Option<&str>)],
    attributes: MountAttrFlags,
    target: &str,
) -> Result<(), Failure> {
    let context = rustix::mount::fsopen(filesystem, FsOpenFlags::FSOPEN_CLOEXEC)
        .map_err(setup(format!("open {filesystem} for {target}")))?;
    for (key, value) in options {
        match value {
            Some(value) => rustix::mount::fsconfig_set_string(&context, *key, *value),
            None => rustix::mount::fsconfig_set_flag(&context, *key),
        }
        .map_err(setup(format!(
            "configure {filesystem} for {target} ({key})"
        )))?;
    }
    rustix::mount::fsconfig_create(&context)
        .map_err(setup(format!("create {filesystem} for {target}")))?;
    let mount = rustix::mount::fsmount(&context, FsMountFlags::FSMOUNT_CLOEXEC, attributes)
        .map_err(setup(format!("mount {filesystem} for {target}")))?;
    attach(root, &mount, target)
}

/// Attaches a detached mount on `target` (resolved inside the root).
fn attach(root: &OwnedFd, mount: &OwnedFd, target: &str) -> Result<(), Failure> {
    let target_fd = open_in_root(root, Path::new(target), OFlags::PATH)
        .map_err(setup(format!("open mount point {target}")))?;
    rustix::mount::move_mount(
        mount,
        "",
        &target_fd,
        "",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
    .map_err(setup(format!("attach mount on {target}")))
}

/// `mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE], {attr_set})`, which rustix lacks.
fn set_mount_attributes(mount: &OwnedFd, set: u64, recursive: bool) -> Result<(), Failure> {
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    let attributes = MountAttr {
        attr_set: set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    use std::os::fd::AsRawFd;
    // SAFETY: the pointers refer to a NUL-terminated empty string and to a
    // live, correctly laid out `struct mount_attr` whose size is passed.
    let result = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            mount.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attributes as *const MountAttr,
            size_of::<MountAttr>(),
        )
    };
    if result < 0 {
        let errno =
            Errno::from_raw_os_error(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
        return Err(setup("make mount read-only")(errno));
    }
    Ok(())
}

/// A clone of the file or tree at `path` (resolved inside the root, or on the
/// host when `host`), made read-only when asked and attached on `target`.
fn bind(root: &OwnedFd, source: &OwnedFd, readonly: bool, target: &str) -> Result<(), Failure> {
    let tree = rustix::mount::open_tree(
        source,
        "",
        OpenTreeFlags::OPEN_TREE_CLONE
            | OpenTreeFlags::OPEN_TREE_CLOEXEC
            | OpenTreeFlags::AT_EMPTY_PATH
            | OpenTreeFlags::AT_RECURSIVE,
    )
    .map_err(setup(format!("clone mount for {target}")))?;
    if readonly {
        set_mount_attributes(&tree, libc::MOUNT_ATTR_RDONLY, true)?;
    }
    attach(root, &tree, target)
}

fn mount_standard(root: &OwnedFd, spec: &Spec, host_resolv_conf: &str) -> Result<(), Failure> {
    let no_suid_dev_exec = MountAttrFlags::MOUNT_ATTR_NOSUID
        | MountAttrFlags::MOUNT_ATTR_NODEV
        | MountAttrFlags::MOUNT_ATTR_NOEXEC;
    mount_new(root, "proc", &[], no_suid_dev_exec, "/proc")?;
    mount_new(
        root,
        "tmpfs",
        &[("mode", Some("755")), ("size", Some("65536k"))],
        MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_STRICTATIME,
        "/dev",
    )?;
    let dev = open_in_root(root, Path::new("/dev"), OFlags::RDONLY | OFlags::DIRECTORY)
        .map_err(setup("open /dev"))?;
    for (name, major, minor) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ] {
        rustix::fs::mknodat(
            &dev,
            name,
            FileType::CharacterDevice,
            Mode::from_raw_mode(0o666),
            rustix::fs::makedev(major, minor),
        )
        .map_err(setup(format!("create /dev/{name}")))?;
        rustix::fs::chmodat(&dev, name, Mode::from_raw_mode(0o666), AtFlags::empty())
            .map_err(setup(format!("chmod /dev/{name}")))?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
        ("core", "/proc/kcore"),
    ] {
        // As runc: /dev/core only when the host has a /proc/kcore.
        if name == "core" && !Path::new("/proc/kcore").exists() {
            continue;
        }
        rustix::fs::symlinkat(target, &dev, name).map_err(setup(format!("create /dev/{name}")))?;
    }
    for (name, mode) in [("pts", 0o755), ("shm", 0o1777), ("mqueue", 0o755)] {
        rustix::fs::mkdirat(&dev, name, Mode::from_raw_mode(mode))
            .map_err(setup(format!("create /dev/{name}")))?;
        rustix::fs::chmodat(&dev, name, Mode::from_raw_mode(mode), AtFlags::empty())
            .map_err(setup(format!("chmod /dev/{name}")))?;
    }
    mount_new(
        root,
        "devpts",
        &[
            ("newinstance", None),
            ("ptmxmode", Some("0666")),
            ("mode", Some("0620")),
            ("gid", Some("5")),
        ],
        MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NOEXEC,
        "/dev/pts",
    )?;
    mount_new(
        root,
        "tmpfs",
        &[("mode", Some("1777")), ("size", Some("65536k"))],
        no_suid_dev_exec,
        "/dev/shm",
    )?;
    mount_new(root, "mqueue", &[], no_suid_dev_exec, "/dev/mqueue")?;
    mount_new(
        root,
        "sysfs",
        &[],
        no_suid_dev_exec | MountAttrFlags::MOUNT_ATTR_RDONLY,
        "/sys",
    )?;

    // The generated /etc files live in our /dev tmpfs just long enough to be
    // bound: once unlinked there, only the read-only binds show them.
    for (name, contents) in [
        ("hosts", files::hosts(&spec.hostname, &spec.extra_hosts)),
        (
            "resolv.conf",
            files::resolv_conf(host_resolv_conf, spec.network),
        ),
        ("hostname", format!("{}\n", spec.hostname)),
    ] {
        let staging = format!(".strata-{name}");
        let file = rustix::fs::openat(
            &dev,
            staging.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map_err(setup(format!("create /etc/{name}")))?;
        std::fs::File::from(file)
            .write_all(contents.as_bytes())
            .map_err(|e| Failure(FailureKind::Setup, format!("write /etc/{name}: {e}")))?;
        rustix::fs::chmodat(
            &dev,
            staging.as_str(),
            Mode::from_raw_mode(0o644),
            AtFlags::empty(),
        )
        .map_err(setup(format!("chmod /etc/{name}")))?;
        let source = rustix::fs::openat(
            &dev,
            staging.as_str(),
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(setup(format!("open /etc/{name}")))?;
        bind(root, &source, true, &format!("/etc/{name}"))?;
        rustix::fs::unlinkat(&dev, staging.as_str(), AtFlags::empty())
            .map_err(setup(format!("unlink staged /etc/{name}")))?;
    }

    for path in MASKED_PATHS {
        let Ok(target) = open_in_root(root, Path::new(path), OFlags::PATH) else {
            continue;
        };
        let is_directory = rustix::fs::fstat(&target)
            .is_ok_and(|s| FileType::from_raw_mode(s.st_mode) == FileType::Directory);
        let target = format!("/{path}");
        if is_directory {
            mount_new(
                root,
                "tmpfs",
                &[("size", Some("0"))],
                no_suid_dev_exec | MountAttrFlags::MOUNT_ATTR_RDONLY,
                &target,
            )?;
        } else {
            let null =
                rustix::fs::openat(&dev, "null", OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
                    .map_err(setup("open /dev/null"))?;
            bind(root, &null, true, &target)?;
        }
    }
    for path in READONLY_PATHS {
        let Ok(source) = open_in_root(root, Path::new(path), OFlags::PATH) else {
            continue;
        };
        bind(root, &source, true, &format!("/{path}"))?;
    }
    Ok(())
}

fn mount_extra(root: &OwnedFd, mount: &Mount) -> Result<(), Failure> {
    match &mount.kind {
        MountKind::Bind { source } => {
            let source_fd = rustix::fs::open(source, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
                .map_err(setup(format!("open bind source {}", source.display())))?;
            bind(root, &source_fd, mount.readonly, &mount.destination)
        }
        MountKind::Tmpfs { size } => {
            let size = size.map(|s| s.to_string());
            let mut options = vec![("mode", Some("1777"))];
            if let Some(size) = &size {
                options.push(("size", Some(size.as_str())));
            }
            let mut attributes =
                MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV;
            if mount.readonly {
                attributes |= MountAttrFlags::MOUNT_ATTR_RDONLY;
            }
            mount_new(root, "tmpfs", &options, attributes, &mount.destination)
        }
    }
}

/// `ifconfig lo up` in the new network namespace.
fn loopback_up() -> rustix::io::Result<()> {
    let socket = rustix::net::socket(
        rustix::net::AddressFamily::INET,
        rustix::net::SocketType::DGRAM,
        None,
    )?;
    use std::os::fd::AsRawFd;
    // SAFETY: `ifreq` is plain data; the name is NUL-terminated within its
    // 16 bytes; the ioctls read and write only that struct.
    unsafe {
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) < 0 {
            return Err(Errno::from_raw_os_error(
                std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
            ));
        }
        request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request) < 0 {
            return Err(Errno::from_raw_os_error(
                std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
            ));
        }
    }
    Ok(())
}

/// The process's environment: the spec's, plus PATH and HOME when missing.
fn environment(spec: &Spec, user: &ResolvedUser) -> Vec<String> {
    let mut environment = spec.env.clone();
    let has = |name: &str| {
        spec.env
            .iter()
            .any(|e| e.split_once('=').map_or(e.as_str(), |(n, _)| n) == name)
    };
    if !has("PATH") {
        environment.push(format!("PATH={DEFAULT_PATH}"));
    }
    if !has("HOME") {
        environment.push(format!("HOME={}", user.home));
    }
    environment
}

/// Creates the working directory's missing components, owned by the user.
fn create_working_dir(working_dir: &str, user: &ResolvedUser) -> Result<(), Failure> {
    let path = Path::new(working_dir);
    if !path.is_absolute() {
        return Err(Failure(
            FailureKind::Setup,
            format!("working directory {working_dir:?} is not absolute"),
        ));
    }
    let mut current = PathBuf::from("/");
    for component in path.components().skip(1) {
        current.push(component);
        match std::fs::symlink_metadata(&current) {
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Failure(
                    FailureKind::Setup,
                    format!("working directory {}: {e}", current.display()),
                ));
            }
        }
        std::fs::create_dir(&current)
            .and_then(|()| std::os::unix::fs::chown(&current, Some(user.uid), Some(user.gid)))
            .map_err(|e| {
                Failure(
                    FailureKind::Setup,
                    format!("create working directory {}: {e}", current.display()),
                )
            })?;
    }
    Ok(())
}

/// `args[0]`, looked up in the process's own PATH when it has no `/`.
fn find_program(spec: &Spec, environment: &[String]) -> Result<PathBuf, Failure> {
    let Some(name) = spec.args.first() else {
        return Err(Failure(FailureKind::Exec, "no command given".to_owned()));
    };
    if name.contains('/') {
        return Ok(PathBuf::from(name));
    }
    let path = environment
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    for directory in path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(directory).join(name);
        if let Ok(metadata) = std::fs::metadata(&candidate) {
            use std::os::unix::fs::PermissionsExt;
            if metadata.is_file() && metadata.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
        }
    }
    Err(Failure(
        FailureKind::Exec,
        format!("exec: {name:?}: executable file not found in $PATH"),
    ))
}

/// Drops every capability outside Docker's default set from the bounding set,
/// and the ambient set.
fn drop_capabilities() -> Result<(), Failure> {
    for capability in 0..64u32 {
        if DEFAULT_CAPABILITIES.bits() & (1u64 << capability) != 0 {
            continue;
        }
        // SAFETY: PR_CAPBSET_DROP takes a capability number and no pointers.
        let result =
            unsafe { libc::prctl(libc::PR_CAPBSET_DROP, capability as libc::c_ulong, 0, 0, 0) };
        if result < 0 {
            let error = std::io::Error::last_os_error();
            // EINVAL: past the last capability this kernel knows.
            if error.raw_os_error() == Some(libc::EINVAL) {
                break;
            }
            return Err(Failure(
                FailureKind::Setup,
                format!("drop capability {capability}: {error}"),
            ));
        }
    }
    rustix::thread::clear_ambient_capability_set().map_err(setup("clear ambient capabilities"))
}

fn exec(
    program: &Path,
    args: &[String],
    environment: &[String],
) -> Result<std::convert::Infallible, Failure> {
    let to_c = |text: &[u8]| {
        CString::new(text).map_err(|_| {
            Failure(
                FailureKind::Exec,
                "an argument or variable contains a NUL byte".to_owned(),
            )
        })
    };
    let program_c = to_c(program.as_os_str().as_bytes())?;
    let args_c = args
        .iter()
        .map(|a| to_c(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let environment_c = environment
        .iter()
        .map(|e| to_c(e.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut argv: Vec<*const libc::c_char> = args_c.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = environment_c.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    // Nothing of ours reaches the process: every descriptor past stderr closes on exec.
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    // SAFETY: all three arrays are NUL-terminated and point into CStrings
    // that live until execve returns (it returns only on failure).
    unsafe { libc::execve(program_c.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    let error = std::io::Error::last_os_error();
    Err(Failure(
        FailureKind::Exec,
        format!("exec {}: {error}", program.display()),
    ))
}
