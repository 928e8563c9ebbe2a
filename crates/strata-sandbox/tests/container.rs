//! Containers over the busybox rootfs through `launch`, `release` and
//! `exec_in`, as the container monitor calls them: output and exit codes,
//! Docker's 127 and 126, `--init`, terminals, exec into a running sandbox,
//! capabilities, a read-only root, a private network, and a killed monitor.
//!
//! `launch` and `exec_in` need a single-threaded caller, so the tests run one
//! by one on the main thread; with `STRATA_TEST_MONITOR` set, the binary is a
//! monitor the last test kills.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio as ProcessStdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Trial};
use rustix::process::{Pid, Signal, WaitOptions};
use strata_sandbox::{
    Capabilities, Error, Mount, MountKind, Network, Pending, RootFs, Spec, Started, Stdio, exec_in,
    launch,
};
use strata_test::busybox_rootfs_copy as rootfs;

fn privileged(test: &str) -> bool {
    strata_test::should_run_as_root(test)
}

fn shell(script: &str) -> Spec {
    Spec::new(["/bin/sh", "-c", script])
}

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap()
}

/// Output pipes for a process: the Stdio, and the read ends.
fn output_pipes(stdin: Option<OwnedFd>) -> (Stdio, fs::File, fs::File) {
    let (out_read, out_write) = pipe();
    let (err_read, err_write) = pipe();
    let stdio = Stdio::Fds {
        stdin,
        stdout: out_write,
        stderr: err_write,
    };
    (stdio, out_read.into(), err_read.into())
}

fn read_all(mut file: fs::File) -> String {
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    text
}

/// Reaps `pid`: its exit code, or 128+N when killed by signal N.
fn wait(pid: i32) -> i32 {
    let pid = Pid::from_raw(pid).unwrap();
    let (_, status) = rustix::process::waitpid(Some(pid), WaitOptions::empty())
        .unwrap()
        .unwrap();
    status
        .exit_status()
        .or_else(|| status.terminating_signal().map(|s| 128 + s))
        .unwrap()
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_with_stdin(root: &Path, spec: &Spec, stdin: Option<OwnedFd>) -> Output {
    let (stdio, stdout, stderr) = output_pipes(stdin);
    let started = launch(RootFs::Directory(root.to_path_buf()), spec, stdio)
        .and_then(Pending::release)
        .unwrap_or_else(|e| panic!("{:?}: {e}", spec.args));
    let stdout = read_all(stdout);
    let stderr = read_all(stderr);
    Output {
        code: wait(started.pid),
        stdout,
        stderr,
    }
}

fn run(root: &Path, spec: &Spec) -> Output {
    run_with_stdin(root, spec, None)
}

fn output_and_exit_codes() {
    if !privileged("launch output") {
        return;
    }
    let root = rootfs();
    let out = run(&root.path, &shell("echo out; echo err >&2; exit 42"));
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (42, "out\n", "err\n")
    );
    let (stdin_read, stdin_write) = pipe();
    fs::File::from(stdin_write)
        .write_all(b"from stdin")
        .unwrap();
    let out = run_with_stdin(&root.path, &Spec::new(["cat"]), Some(stdin_read));
    assert_eq!((out.code, out.stdout.as_str()), (0, "from stdin"));
    // PID 1 is the command, in namespaces of its own.
    let out = run(
        &root.path,
        &shell("echo $$; hostname; ls /proc | grep -c '^[0-9]'"),
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[..2], ["1", "buildkitsandbox"]);
    assert!(lines[2].parse::<u32>().unwrap() <= 3, "{}", out.stdout);
    // Nothing blocked or ignored: not the SIGPIPE a Rust caller ignores, nor
    // what its own caller left ignored.
    let status = run(&root.path, &Spec::new(["cat", "/proc/self/status"])).stdout;
    assert_eq!(status_field(&status, "SigBlk:"), "0000000000000000");
    assert_eq!(status_field(&status, "SigIgn:"), "0000000000000000");
}

fn launch_error(root: &Path, spec: &Spec) -> Error {
    let (stdio, _, _) = output_pipes(None);
    match launch(RootFs::Directory(root.to_path_buf()), spec, stdio).and_then(Pending::release) {
        Ok(started) => panic!("{:?} ran (exit {})", spec.args, wait(started.pid)),
        Err(error) => error,
    }
}

fn not_found_is_127_and_not_executable_126() {
    if !privileged("launch exit codes") {
        return;
    }
    let root = rootfs();
    let cases = [
        (
            "nope",
            "exec: \"nope\": executable file not found in $PATH",
            127,
        ),
        (
            "/nope",
            "exec: \"/nope\": stat /nope: no such file or directory",
            127,
        ),
        (
            "/etc/passwd",
            "exec: \"/etc/passwd\": permission denied",
            126,
        ),
        ("/tmp", "exec: \"/tmp\": is a directory", 126),
    ];
    for (command, message, code) in cases {
        let error = launch_error(&root.path, &Spec::new([command]));
        assert_eq!(error.to_string(), message);
        assert_eq!(error.exit_code(), Some(code), "{command}");
    }
    // Found, but its interpreter is not: the execve itself fails, with and
    // without an init in between.
    let script = root.path.join("bin/bad-interpreter");
    fs::write(&script, "#!/no/such/shell\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    for init in [false, true] {
        let mut spec = Spec::new(["bad-interpreter"]);
        spec.init = init;
        let error = launch_error(&root.path, &spec);
        assert_eq!(
            error.to_string(),
            "exec /bin/bad-interpreter: no such file or directory",
            "init: {init}"
        );
        assert_eq!(error.exit_code(), Some(127));
    }
}

/// Every process whose command line starts with `marker`.
fn processes_with(marker: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmdline) = fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmdline)
                .replace('\0', " ")
                .starts_with(marker)
        {
            found.push(pid);
        }
    }
    found
}

/// (state, parent pid) of each child of `parent`.
fn children_of(parent: i32) -> Vec<(char, i32)> {
    let mut children = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(status) = fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        if field("PPid:").parse::<i32>().ok() == Some(parent) {
            let state = field("State:").chars().next().unwrap_or('?');
            let pid = entry.file_name().to_string_lossy().parse().unwrap_or(0);
            children.push((state, pid));
        }
    }
    children
}

fn init_forwards_signals_and_reaps_zombies() {
    if !privileged("launch --init") {
        return;
    }
    let root = rootfs();
    let mut spec = shell(
        "trap 'echo got-term; exit 3' TERM; \
         for i in 1 2 3; do sh -c 'sleep 0.1 &'; done; sleep 0.5; \
         readlink /proc/1/exe || echo exe-hidden; tr '\\0' ' ' < /proc/1/cmdline | head -c 20; echo; \
         echo ready; while true; do sleep 0.1; done",
    );
    spec.init = true;
    let (stdio, stdout, _stderr) = output_pipes(None);
    let started = launch(RootFs::Directory(root.path.clone()), &spec, stdio)
        .and_then(Pending::release)
        .unwrap();
    let mut stdout = BufReader::new(stdout);
    let mut lines = Vec::new();
    while lines.last().map(String::as_str) != Some("ready") {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "{lines:?}");
        lines.push(line.trim_end().to_owned());
    }
    assert_eq!(lines[0], "exe-hidden", "PID 1 (ours) is not dumpable");
    assert!(
        !lines[1].starts_with("/bin/sh"),
        "PID 1 is the init: {}",
        lines[1]
    );
    // The orphans died at 0.1 s and were reparented to the init, which reaped
    // them: only the command is left under it, and not a zombie.
    let children = children_of(started.pid);
    assert_eq!(children.len(), 1, "{children:?}");
    assert_ne!(children[0].0, 'Z');
    rustix::process::pidfd_send_signal(&started.pidfd, Signal::TERM).unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(wait(started.pid), 3, "the command's status");

    let mut spec = shell("kill -KILL $$");
    spec.init = true;
    assert_eq!(run(&root.path, &spec).code, 128 + 9, "128+N for signal N");
    // Without the init, PID 1 is the command and its binary is visible.
    let out = run(&root.path, &shell("readlink /proc/1/exe"));
    assert_eq!(out.stdout, "/bin/busybox\n");
}

/// Everything the terminal's master gives until the other side is gone
/// (EIO), with the terminal's line ends made plain.
fn read_terminal(master: OwnedFd) -> String {
    let mut master = fs::File::from(master);
    let mut output = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(read @ 1..) = master.read(&mut chunk) {
        output.extend_from_slice(&chunk[..read]);
    }
    String::from_utf8_lossy(&output).replace("\r\n", "\n")
}

fn terminal_is_the_sandboxes_own() {
    if !privileged("launch terminal") {
        return;
    }
    let root = rootfs();
    let spec = shell("tty; stty size; [ -c /dev/console ] && echo console; echo err >&2");
    let stdio = Stdio::Terminal {
        rows: 33,
        columns: 101,
    };
    let started = launch(RootFs::Directory(root.path.clone()), &spec, stdio)
        .and_then(Pending::release)
        .unwrap();
    let output = read_terminal(started.terminal.unwrap());
    assert_eq!(wait(started.pid), 0);
    assert_eq!(output, "/dev/pts/0\n33 101\nconsole\nerr\n");
    // Behind an init, the command's process group has the terminal's foreground.
    let mut spec = shell(
        "read -r pid comm state ppid group session tty foreground rest < /proc/$$/stat; \
         [ $group = $foreground ] && [ $$ != 1 ] && echo foreground; tty",
    );
    spec.init = true;
    let stdio = Stdio::Terminal {
        rows: 24,
        columns: 80,
    };
    let started = launch(RootFs::Directory(root.path.clone()), &spec, stdio)
        .and_then(Pending::release)
        .unwrap();
    let output = read_terminal(started.terminal.unwrap());
    assert_eq!(wait(started.pid), 0, "{output}");
    assert_eq!(output, "foreground\n/dev/pts/0\n");
}

/// A cgroup of this test in each hierarchy it can write: the `cgroup.procs`
/// files, and the names to find in /proc/self/cgroup.
struct Cgroups {
    directories: Vec<PathBuf>,
}

impl Cgroups {
    fn new(name: &str) -> Self {
        let mut directories = Vec::new();
        for hierarchy in [
            "/sys/fs/cgroup/pids",
            "/sys/fs/cgroup/unified",
            "/sys/fs/cgroup",
        ] {
            let procs = Path::new(hierarchy).join("cgroup.procs");
            let directory = Path::new(hierarchy).join(name);
            if procs.exists() && fs::create_dir(&directory).is_ok() {
                directories.push(directory);
            }
        }
        Self { directories }
    }

    fn procs(&self) -> Vec<PathBuf> {
        self.directories
            .iter()
            .map(|d| d.join("cgroup.procs"))
            .collect()
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        for directory in &self.directories {
            let _ = fs::remove_dir(directory);
        }
    }
}

fn exec_joins_a_running_sandbox() {
    if !privileged("exec_in") {
        return;
    }
    let root = rootfs();
    let mut spec = shell("echo written > /tmp/from-pid1; echo ready; exec sleep 1008");
    spec.hostname = "web1".into();
    let (stdio, stdout, _stderr) = output_pipes(None);
    let pid1 = launch(RootFs::Directory(root.path.clone()), &spec, stdio)
        .and_then(Pending::release)
        .unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");

    let cgroups = Cgroups::new(&format!("strata-exec-test-{}", std::process::id()));
    let mut exec = shell(
        "hostname; cat /tmp/from-pid1; tr '\\0' ' ' < /proc/1/cmdline; echo; id -u; id -G; pwd; \
         grep -c strata-exec-test /proc/self/cgroup; echo $$",
    );
    exec.user = "tester".into();
    exec.working_dir = "/home/tester".into();
    let (stdio, stdout, stderr) = output_pipes(None);
    let started = exec_in(pid1.pid, &exec, stdio, &cgroups.procs()).unwrap();
    let (stdout, stderr) = (read_all(stdout), read_all(stderr));
    assert_eq!(wait(started.pid), 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..6],
        [
            "web1",
            "written",
            "sleep 1008 ",
            "1000",
            "1000 29 50",
            "/home/tester"
        ]
    );
    assert_eq!(lines[6], cgroups.directories.len().to_string());
    assert!(!cgroups.directories.is_empty(), "no cgroup to test with");
    let pid_inside: i32 = lines[7].parse().unwrap();
    assert!(pid_inside > 1 && pid_inside != started.pid, "{pid_inside}");

    // Errors come back from exec_in, with Docker's codes.
    let (stdio, _, _) = output_pipes(None);
    let error = exec_in(pid1.pid, &Spec::new(["nope"]), stdio, &[]).unwrap_err();
    assert_eq!(error.exit_code(), Some(127), "{error}");
    let mut missing = Spec::new(["true"]);
    missing.working_dir = "/nowhere".into();
    let (stdio, _, _) = output_pipes(None);
    let error = exec_in(pid1.pid, &missing, stdio, &[]).unwrap_err();
    assert!(
        error.to_string().contains("chdir to cwd (\"/nowhere\")"),
        "{error}"
    );
    // A terminal of the sandbox's devpts.
    let stdio = Stdio::Terminal {
        rows: 5,
        columns: 7,
    };
    let started = exec_in(pid1.pid, &shell("tty; stty size"), stdio, &[]).unwrap();
    let output = read_terminal(started.terminal.unwrap());
    assert_eq!(wait(started.pid), 0);
    assert_eq!(output, "/dev/pts/0\n5 7\n");

    rustix::process::pidfd_send_signal(&pid1.pidfd, Signal::KILL).unwrap();
    assert_eq!(wait(pid1.pid), 128 + 9);
}

fn status_field(status: &str, field: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

fn capabilities_add_drop_and_no_new_privileges() {
    if !privileged("launch capabilities") {
        return;
    }
    let root = rootfs();
    let capabilities = Capabilities::docker_default()
        .apply_docker_flags(&["net_admin"], &["CHOWN"])
        .unwrap();
    let expected = format!("{:016x}", capabilities.bits());
    let mut spec = shell("cat /proc/self/status");
    spec.capabilities = capabilities;
    let status = run(&root.path, &spec).stdout;
    assert_eq!(status_field(&status, "CapEff:"), expected);
    assert_eq!(status_field(&status, "CapPrm:"), expected);
    assert_eq!(status_field(&status, "CapBnd:"), expected);
    assert_eq!(status_field(&status, "NoNewPrivs:"), "0");
    // Docker's profile is in force (mode 2: filter), whichever order installed it.
    assert_eq!(status_field(&status, "Seccomp:"), "2");
    spec.user = "tester".into();
    spec.no_new_privileges = true;
    let status = run(&root.path, &spec).stdout;
    assert_eq!(status_field(&status, "CapEff:"), "0000000000000000");
    assert_eq!(status_field(&status, "CapBnd:"), expected);
    assert_eq!(status_field(&status, "NoNewPrivs:"), "1");
    assert_eq!(status_field(&status, "Seccomp:"), "2");
    spec.seccomp = strata_sandbox::Seccomp::Unconfined;
    let status = run(&root.path, &spec).stdout;
    assert_eq!(status_field(&status, "Seccomp:"), "0");
}

fn seccomp_denies_what_docker_denies() {
    if !privileged("launch seccomp") {
        return;
    }
    let root = rootfs();
    // busybox unshare calls unshare(2): EPERM under the profile without CAP_SYS_ADMIN.
    let spec = shell("unshare -m true 2>&1; echo status=$?");
    let output = run(&root.path, &spec).stdout;
    assert!(output.contains("status=1"), "{output}");
    assert!(output.contains("Operation not permitted"), "{output}");
    let mut spec = shell("unshare -m true && echo allowed");
    spec.capabilities = Capabilities::docker_default()
        .apply_docker_flags(&["SYS_ADMIN"], &[])
        .unwrap();
    assert_eq!(run(&root.path, &spec).stdout, "allowed\n");
}

fn read_only_root_with_writable_mounts() {
    if !privileged("launch --read-only") {
        return;
    }
    let root = rootfs();
    let mut spec = shell(
        "touch /x 2>/dev/null || echo root-refused; touch /tmp/ok && echo tmp-ok; \
         touch /data/cache/y && echo mount-ok; echo x > /dev/shm/x && echo shm-ok; \
         echo '10.0.0.9 db' >> /etc/hosts && echo hosts-ok",
    );
    spec.readonly_rootfs = true;
    spec.hosts = Some("127.0.0.1\tlocalhost\n".into());
    spec.mounts = vec![
        Mount {
            destination: "/tmp".into(),
            kind: MountKind::Tmpfs { size: None },
            readonly: false,
        },
        Mount {
            destination: "/data/cache".into(),
            kind: MountKind::Tmpfs {
                size: Some(1 << 20),
            },
            readonly: false,
        },
    ];
    let out = run(&root.path, &spec);
    assert_eq!(
        out.stdout, "root-refused\ntmp-ok\nmount-ok\nshm-ok\nhosts-ok\n",
        "{}",
        out.stderr
    );
    assert!(!root.path.join("x").exists());
    // A container keeps the mount points it needed, in its own layer.
    assert!(root.path.join("data/cache").is_dir());
    assert!(root.path.join("etc/hosts").is_file());
    assert_eq!(fs::read(root.path.join("etc/hosts")).unwrap(), b"");
}

fn private_network_has_only_loopback() {
    if !privileged("launch private network") {
        return;
    }
    let root = rootfs();
    let mut spec = shell("ls /sys/class/net; cat /sys/class/net/lo/flags");
    spec.network = Network::Private;
    let (stdio, stdout, _stderr) = output_pipes(None);
    let pending = launch(RootFs::Directory(root.path.clone()), &spec, stdio).unwrap();
    let namespace = |pid: &str| fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    assert_ne!(
        namespace(&pending.pid().to_string()),
        namespace("self"),
        "a network namespace of its own, there for the caller to connect before the release"
    );
    let started = pending.release().unwrap();
    assert_eq!(read_all(stdout), "lo\n0x9\n");
    assert_eq!(wait(started.pid), 0);
}

fn abort_and_drop_kill_a_held_process() {
    if !privileged("launch abort") {
        return;
    }
    let root = rootfs();
    for abort in [true, false] {
        let (stdio, _, _) = output_pipes(None);
        let pending = launch(
            RootFs::Directory(root.path.clone()),
            &Spec::new(["true"]),
            stdio,
        )
        .unwrap();
        let pid = pending.pid();
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        if abort {
            pending.abort();
        } else {
            drop(pending);
        }
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "killed and reaped"
        );
    }
}

/// The monitor the next test kills: a detached root, an init and two sleeps.
fn monitor(root: &Path, mount_point: &Path) {
    let mount = rustix::mount::open_tree(
        rustix::fs::CWD,
        root,
        rustix::mount::OpenTreeFlags::OPEN_TREE_CLONE
            | rustix::mount::OpenTreeFlags::OPEN_TREE_CLOEXEC
            | rustix::mount::OpenTreeFlags::AT_RECURSIVE,
    )
    .unwrap();
    let rootfs = RootFs::Detached {
        mount,
        mount_point: mount_point.to_path_buf(),
    };
    let mut spec = shell("sleep 1006 & sleep 1006");
    spec.init = true;
    let (stdio, _, _) = output_pipes(None);
    let started: Started = launch(rootfs, &spec, stdio)
        .and_then(Pending::release)
        .unwrap();
    println!("started {}", started.pid);
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn a_killed_monitor_leaves_nothing_behind() {
    if !privileged("launch monitor SIGKILL") {
        return;
    }
    let root = rootfs();
    let mount_point = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("STRATA_TEST_MONITOR", &root.path)
        .env("STRATA_TEST_MOUNT_POINT", mount_point.path())
        .stdout(ProcessStdio::piped())
        .stderr(ProcessStdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("started "), "{line:?}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_with("sleep 1006").len() < 2 {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            processes_with("sleep 1006")
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !processes_with("sleep 1006").is_empty() {
        assert!(Instant::now() < deadline, "left running");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    for path in [&root.path, mount_point.path()] {
        assert!(
            !mountinfo.contains(path.to_str().unwrap()),
            "a mount of {} was left",
            path.display()
        );
    }
    assert_eq!(fs::read_dir(mount_point.path()).unwrap().count(), 0);
}

fn main() {
    strata_sandbox::run_if_requested();
    if let (Some(root), Some(mount_point)) = (
        std::env::var_os("STRATA_TEST_MONITOR"),
        std::env::var_os("STRATA_TEST_MOUNT_POINT"),
    ) {
        monitor(Path::new(&root), Path::new(&mount_point));
        return;
    }
    let mut arguments = Arguments::from_args();
    // The tests call launch and exec_in, which refuse a multi-threaded caller.
    arguments.test_threads = Some(1);
    let tests: [(&str, fn()); 11] = [
        ("output_and_exit_codes", output_and_exit_codes),
        (
            "not_found_is_127_and_not_executable_126",
            not_found_is_127_and_not_executable_126,
        ),
        (
            "init_forwards_signals_and_reaps_zombies",
            init_forwards_signals_and_reaps_zombies,
        ),
        (
            "terminal_is_the_sandboxes_own",
            terminal_is_the_sandboxes_own,
        ),
        ("exec_joins_a_running_sandbox", exec_joins_a_running_sandbox),
        (
            "capabilities_add_drop_and_no_new_privileges",
            capabilities_add_drop_and_no_new_privileges,
        ),
        (
            "seccomp_denies_what_docker_denies",
            seccomp_denies_what_docker_denies,
        ),
        (
            "read_only_root_with_writable_mounts",
            read_only_root_with_writable_mounts,
        ),
        (
            "private_network_has_only_loopback",
            private_network_has_only_loopback,
        ),
        (
            "abort_and_drop_kill_a_held_process",
            abort_and_drop_kill_a_held_process,
        ),
        (
            "a_killed_monitor_leaves_nothing_behind",
            a_killed_monitor_leaves_nothing_behind,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, test)| {
            Trial::test(name, move || {
                test();
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&arguments, trials).exit();
}
