//! Real namespaces over the busybox rootfs: what a RUN step sees, and that
//! nothing outlives it.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strata_sandbox::{Error, ExitStatus, Mount, MountKind, Network, RootFs, Sandbox, Spec, Stream};
use strata_test::busybox_rootfs_copy as rootfs;
use strata_test::tree::{describe, difference};

fn sandbox() -> Sandbox {
    Sandbox::with_helper(env!("CARGO_BIN_EXE_strata-sandbox-helper"))
}

fn privileged(test: &str) -> bool {
    strata_test::should_run_as_root(test)
}

struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

fn run_in(root: &Path, spec: &Spec) -> Output {
    let mut stdout = String::new();
    let mut stderr = String::new();
    let status = sandbox()
        .run(
            RootFs::Directory(root.to_path_buf()),
            spec,
            |stream, line| {
                let text = String::from_utf8_lossy(line);
                match stream {
                    Stream::Stdout => stdout.push_str(&format!("{text}\n")),
                    Stream::Stderr => stderr.push_str(&format!("{text}\n")),
                }
            },
        )
        .unwrap_or_else(|e| panic!("{:?}: {e}", spec.args));
    Output {
        status,
        stdout,
        stderr,
    }
}

fn shell(script: &str) -> Spec {
    Spec::new(["/bin/sh", "-c", script])
}

fn run(script: &str) -> Output {
    let root = rootfs();
    run_in(&root.path, &shell(script))
}

#[test]
fn namespaces_proc_dev_sys_and_hostname() {
    if !privileged("sandbox basics") {
        return;
    }
    let out = run(
        "hostname; cat /etc/hostname 2>/dev/null || echo no-hostname-file; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /dev | tr '\\n' ' '; echo; \
         grep ' /sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; touch /sys/x 2>/dev/null || echo sys-readonly; \
         echo hi > /dev/null && head -c 4 /dev/zero | wc -c; ls /proc | grep -c '^[0-9]'",
    );
    assert_eq!(out.status, ExitStatus::Code(0), "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "buildkitsandbox");
    // As in BuildKit, a RUN step sees the root's own /etc/hostname (none here).
    assert_eq!(lines[1], "no-hostname-file");
    assert!(
        lines[2].starts_with("/bin/sh -c "),
        "our shell is PID 1: {}",
        lines[2]
    );
    for device in [
        "null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "fd", "stdin", "stdout",
        "stderr", "ptmx",
    ] {
        assert!(
            lines[3].split(' ').any(|d| d == device),
            "/dev/{device} missing: {}",
            lines[3]
        );
    }
    assert_eq!(lines[4], "ro");
    assert_eq!(lines[5], "sys-readonly");
    assert_eq!(lines[6].trim(), "4");
    // A new PID namespace: only a handful of processes (sh, ls, grep).
    let processes: u32 = lines[7].trim().parse().unwrap();
    assert!(processes <= 4, "{processes} processes visible");
}

#[test]
fn generated_etc_files() {
    if !privileged("sandbox /etc files") {
        return;
    }
    let root = rootfs();
    let mut spec = shell(
        "cat /etc/hosts; grep -c nameserver /etc/resolv.conf; echo x > /etc/hosts 2>/dev/null || echo hosts-readonly",
    );
    spec.extra_hosts = vec![("db.internal".to_owned(), "10.1.2.3".to_owned())];
    let out = run_in(&root.path, &spec);
    assert_eq!(
        out.stdout.lines().take(3).collect::<Vec<_>>(),
        [
            "127.0.0.1\tlocalhost buildkitsandbox",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            "10.1.2.3\tdb.internal"
        ]
    );
    assert!(out.stdout.contains("hosts-readonly"));
}

#[test]
fn mount_points_never_reach_the_root_file_system() {
    if !privileged("sandbox mount stubs") {
        return;
    }
    let root = rootfs();
    // A scratch-like root: no /etc, no /proc, /sys or /dev either.
    for path in ["etc", "proc", "sys", "dev"] {
        fs::remove_dir_all(root.path.join(path)).unwrap();
    }
    fs::create_dir(root.path.join("data")).unwrap();
    let before = describe(&root.path, true);
    let mut spec = Spec::new(["/bin/true"]);
    spec.mounts = vec![Mount {
        destination: "/data/cache/deep".to_owned(),
        kind: MountKind::Tmpfs {
            size: Some(1 << 20),
        },
        readonly: false,
    }];
    assert_eq!(run_in(&root.path, &spec).status, ExitStatus::Code(0));
    let after = describe(&root.path, true);
    let diff = difference(&before, &after);
    assert!(diff.is_empty(), "the run left traces:\n{}", diff.join("\n"));
    // The directories' times are back too.
    let mtime = |p: &Path| fs::metadata(p).unwrap().modified().unwrap();
    let before_root = mtime(&root.path);
    run_in(&root.path, &spec);
    assert_eq!(mtime(&root.path), before_root);
}

#[test]
fn users_groups_and_supplementary_groups() {
    if !privileged("sandbox users") {
        return;
    }
    let root = rootfs();
    let ids = |user: &str| {
        let mut spec = shell("id -u; id -g; id -G; echo $HOME");
        spec.user = user.to_owned();
        let out = run_in(&root.path, &spec);
        assert_eq!(out.status, ExitStatus::Code(0), "{user}: {}", out.stderr);
        out.stdout
    };
    assert_eq!(ids(""), "0\n0\n0\n/root\n");
    assert_eq!(ids("tester"), "1000\n1000\n1000 29 50\n/home/tester\n");
    assert_eq!(ids("tester:staff"), "1000\n50\n50\n/home/tester\n");
    assert_eq!(ids("1000:29"), "1000\n29\n29\n/home/tester\n");
    assert_eq!(ids("4242"), "4242\n0\n0\n/\n");
    let mut spec = shell("true");
    spec.user = "ghost".to_owned();
    let error = sandbox()
        .run(RootFs::Directory(root.path.clone()), &spec, |_, _| {})
        .unwrap_err();
    assert!(matches!(error, Error::User { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        "unable to find user ghost: no matching entries in passwd file"
    );
    spec.user = "tester:ghosts".to_owned();
    let error = sandbox()
        .run(RootFs::Directory(root.path.clone()), &spec, |_, _| {})
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "unable to find group ghosts: no matching entries in group file"
    );
}

#[test]
fn environment_path_and_working_directory() {
    if !privileged("sandbox environment") {
        return;
    }
    let root = rootfs();
    let mut spec = shell("echo $PATH; echo $FOO; pwd; umask");
    spec.env = vec!["FOO=bar baz".to_owned()];
    spec.working_dir = "/app/src".to_owned();
    spec.user = "tester".to_owned();
    let out = run_in(&root.path, &spec);
    assert_eq!(
        out.stdout,
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nbar baz\n/app/src\n0022\n"
    );
    use std::os::unix::fs::MetadataExt;
    for created in ["app", "app/src"] {
        let metadata = fs::metadata(root.path.join(created)).unwrap();
        assert_eq!(
            (metadata.uid(), metadata.gid()),
            (1000, 1000),
            "{created} belongs to the user"
        );
    }
    // The image's PATH wins, and a program is looked up in it.
    let mut spec = Spec::new(["true-in-opt"]);
    fs::create_dir_all(root.path.join("opt/tools")).unwrap();
    std::os::unix::fs::symlink("/bin/busybox", root.path.join("opt/tools/true")).unwrap();
    fs::write(
        root.path.join("opt/tools/true-in-opt"),
        "#!/bin/sh\necho from-opt $PATH\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(
        root.path.join("opt/tools/true-in-opt"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    spec.env = vec!["PATH=/opt/tools:/bin".to_owned()];
    assert_eq!(
        run_in(&root.path, &spec).stdout,
        "from-opt /opt/tools:/bin\n"
    );
    let error = sandbox()
        .run(
            RootFs::Directory(root.path.clone()),
            &Spec::new(["no-such-program"]),
            |_, _| {},
        )
        .unwrap_err();
    assert!(matches!(error, Error::Exec { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        "exec: \"no-such-program\": executable file not found in $PATH"
    );
}

fn capability_field(status: &str, field: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

#[test]
fn capabilities_and_rlimits() {
    if !privileged("sandbox capabilities") {
        return;
    }
    let root = rootfs();
    let out = run_in(
        &root.path,
        &shell("cat /proc/self/status; echo nofile=$(ulimit -n)"),
    );
    // Docker's 14 default capabilities.
    assert_eq!(capability_field(&out.stdout, "CapEff:"), "00000000a80425fb");
    assert_eq!(capability_field(&out.stdout, "CapBnd:"), "00000000a80425fb");
    assert_eq!(capability_field(&out.stdout, "CapInh:"), "0000000000000000");
    // The helper's own signal state (a Rust program ignores SIGPIPE) is not passed on.
    assert_eq!(capability_field(&out.stdout, "SigIgn:"), "0000000000000000");
    let mut spec = shell("cat /proc/self/status");
    spec.user = "tester".to_owned();
    let out_user = run_in(&root.path, &spec);
    assert_eq!(
        capability_field(&out_user.stdout, "CapEff:"),
        "0000000000000000"
    );
    assert_eq!(
        capability_field(&out_user.stdout, "CapBnd:"),
        "00000000a80425fb"
    );
    // 1048576 open files, as dockerd's unit gives BuildKit; the hard limit
    // where this process may not raise it (no CAP_SYS_RESOURCE).
    let own = fs::read_to_string("/proc/self/status").unwrap();
    let effective = u64::from_str_radix(&capability_field(&own, "CapEff:"), 16).unwrap();
    let expected = if effective & (1 << 24) != 0 {
        1_048_576
    } else {
        rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .maximum
            .unwrap()
    };
    assert!(
        out.stdout.contains(&format!("nofile={expected}\n")),
        "{}",
        out.stdout
    );
}

#[test]
fn network_none_and_host() {
    if !privileged("sandbox networks") {
        return;
    }
    let root = rootfs();
    let mut spec = shell("ls /sys/class/net | tr '\\n' ' '; echo; cat /sys/class/net/lo/flags");
    spec.network = Network::None;
    let out = run_in(&root.path, &spec);
    assert_eq!(out.stdout, "lo \n0x9\n", "only loopback, and up");
    let host: Vec<String> = fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    spec.network = Network::Host;
    let out = run_in(&root.path, &spec);
    let seen: Vec<&str> = out
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let mut host_sorted = host.clone();
    host_sorted.sort();
    assert_eq!(seen, host_sorted, "the host's interfaces");
}

#[test]
fn exit_codes_and_streaming() {
    if !privileged("sandbox exit codes") {
        return;
    }
    let out = run("echo out; echo err >&2; exit 42");
    assert_eq!(out.status, ExitStatus::Code(42));
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("out\n", "err\n")
    );
    let out = run("printf 'no newline'");
    assert_eq!(out.stdout, "no newline\n");

    // Lines arrive while the process runs: it waits for the file the
    // callback writes when it sees the first line.
    let root = rootfs();
    let shared = tempfile::tempdir().unwrap();
    let mut spec = shell(
        "echo first; for i in $(seq 200); do [ -e /shared/seen ] && { echo second; exit 0; }; sleep 0.1; done; echo never-seen; exit 1",
    );
    spec.mounts = vec![Mount {
        destination: "/shared".to_owned(),
        kind: MountKind::Bind {
            source: shared.path().to_path_buf(),
        },
        readonly: false,
    }];
    let mut lines = Vec::new();
    let status = sandbox()
        .run(RootFs::Directory(root.path.clone()), &spec, |_, line| {
            if line == b"first" {
                fs::write(shared.path().join("seen"), b"").unwrap();
            }
            lines.push(String::from_utf8_lossy(line).into_owned());
        })
        .unwrap();
    assert_eq!(
        (status, lines),
        (
            ExitStatus::Code(0),
            vec!["first".to_owned(), "second".to_owned()]
        )
    );
}

#[test]
fn extra_mounts() {
    if !privileged("sandbox mounts") {
        return;
    }
    let root = rootfs();
    let data = tempfile::tempdir().unwrap();
    fs::write(data.path().join("secret"), b"s3cret").unwrap();
    let mut spec = shell(
        "cat /run/secrets/id; echo; touch /ro/x 2>/dev/null || echo ro-refused; echo w > /rw/new; \
         grep ' /scratch ' /proc/mounts | cut -d' ' -f3",
    );
    spec.mounts = vec![
        Mount {
            destination: "/run/secrets/id".to_owned(),
            kind: MountKind::Bind {
                source: data.path().join("secret"),
            },
            readonly: true,
        },
        Mount {
            destination: "/ro".to_owned(),
            kind: MountKind::Bind {
                source: data.path().to_path_buf(),
            },
            readonly: true,
        },
        Mount {
            destination: "/rw".to_owned(),
            kind: MountKind::Bind {
                source: data.path().to_path_buf(),
            },
            readonly: false,
        },
        Mount {
            destination: "/scratch".to_owned(),
            kind: MountKind::Tmpfs { size: None },
            readonly: false,
        },
    ];
    let out = run_in(&root.path, &spec);
    assert_eq!(out.stdout, "s3cret\nro-refused\ntmpfs\n", "{}", out.stderr);
    assert_eq!(fs::read(data.path().join("new")).unwrap(), b"w\n");
    for stub in ["run", "ro", "rw", "scratch"] {
        assert!(!root.path.join(stub).exists(), "/{stub} left in the rootfs");
    }
}

#[test]
fn a_detached_mount_as_root() {
    if !privileged("sandbox detached root") {
        return;
    }
    let root = rootfs();
    let mount = rustix::mount::open_tree(
        rustix::fs::CWD,
        &root.path,
        rustix::mount::OpenTreeFlags::OPEN_TREE_CLONE
            | rustix::mount::OpenTreeFlags::OPEN_TREE_CLOEXEC
            | rustix::mount::OpenTreeFlags::AT_RECURSIVE,
    )
    .unwrap();
    let mount_point = tempfile::tempdir().unwrap();
    let mut out = String::new();
    let status = sandbox()
        .run(
            RootFs::Detached {
                mount,
                mount_point: mount_point.path().to_path_buf(),
            },
            &shell("echo made > /made; cat /etc/passwd | head -1"),
            |_, line| out.push_str(&String::from_utf8_lossy(line)),
        )
        .unwrap();
    assert_eq!(status, ExitStatus::Code(0));
    assert_eq!(out, "root:x:0:0:root:/root:/bin/sh");
    assert_eq!(fs::read(root.path.join("made")).unwrap(), b"made\n");
    assert_eq!(
        fs::read_dir(mount_point.path()).unwrap().count(),
        0,
        "nothing attached outside"
    );
}

/// Every process whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            // Only commands that are the marker, not ones that mention it.
            if cmdline.starts_with(marker) || (marker.starts_with("__") && cmdline.contains(marker))
            {
                found.push(format!(
                    "{}: {cmdline}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
    }
    found
}

fn wait_until_gone(marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !processes_with(marker).is_empty() {
        assert!(
            Instant::now() < deadline,
            "left running: {:?}",
            processes_with(marker)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn cancel_kills_every_process() {
    if !privileged("sandbox cancel") {
        return;
    }
    let root = rootfs();
    let before = describe(&root.path, true);
    let spec = shell("sleep 1001 & sleep 1001 & (sleep 1001; echo never) & echo started; wait");
    let running = sandbox()
        .spawn(RootFs::Directory(root.path.clone()), &spec)
        .unwrap();
    let canceller = running.canceller();
    let status = running
        .wait(|_, line| {
            if line == b"started" {
                let deadline = Instant::now() + Duration::from_secs(20);
                while processes_with("sleep 1001").len() < 3 {
                    assert!(
                        Instant::now() < deadline,
                        "{:?}",
                        processes_with("sleep 1001")
                    );
                    std::thread::sleep(Duration::from_millis(10));
                }
                canceller.cancel();
            }
        })
        .unwrap();
    assert_eq!(status, ExitStatus::Signal(9));
    wait_until_gone("sleep 1001");
    assert_eq!(
        describe(&root.path, true),
        before,
        "mount points removed after a cancel too"
    );
}

#[test]
fn dropping_a_running_sandbox_kills_it() {
    if !privileged("sandbox drop") {
        return;
    }
    let root = rootfs();
    let running = sandbox()
        .spawn(RootFs::Directory(root.path.clone()), &shell("sleep 1003"))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_with("sleep 1003").is_empty() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(running);
    wait_until_gone("sleep 1003");
}

#[test]
fn killing_the_parent_leaves_nothing_behind() {
    if !privileged("sandbox parent SIGKILL") {
        return;
    }
    let root = rootfs();
    let before = describe(&root.path, true);
    let spec = shell("sleep 1002 & echo started; sleep 1002");
    let mut parent = Command::new(env!("CARGO_BIN_EXE_strata-sandbox-helper"))
        .arg("run")
        .arg(&root.path)
        .arg(serde_json::to_string(&spec).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed even if an assertion fails, so that no test run hangs on it.
    struct KillOnDrop(u32);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = rustix::process::kill_process(
                rustix::process::Pid::from_raw(self.0 as i32).unwrap(),
                rustix::process::Signal::KILL,
            );
        }
    }
    let _guard = KillOnDrop(parent.id());
    let mut stdout = std::io::BufReader::new(parent.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert_eq!(line, "started\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_with("sleep 1002").len() < 2 {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            processes_with("sleep 1002")
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    parent.kill().unwrap();
    parent.wait().unwrap();
    wait_until_gone("sleep 1002");
    wait_until_gone(strata_sandbox::INIT_ARGUMENT);
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mountinfo.contains(root.path.to_str().unwrap()),
        "no mount left"
    );
    // The helper still removed the mount points it made.
    let deadline = Instant::now() + Duration::from_secs(5);
    while describe(&root.path, true) != before {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            difference(&before, &describe(&root.path, true))
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
