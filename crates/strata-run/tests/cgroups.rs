//! Limits through this host's real cgroups: processes placed in a
//! container's groups feel them, an OOM kill is seen, removal cleans up.

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use strata_run::{CgroupVersion, Cgroups, Hierarchies, Limits};

/// A busybox shell that waits for a line on stdin before running `script`,
/// so that it can be placed in the groups first (as the container's PID 1 is).
struct Waiting {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Waiting {
    fn new(script: &str) -> Self {
        let mut child = Command::new("busybox")
            .args(["sh", "-c", &format!("read go; {script}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("busybox");
        let stdin = child.stdin.take();
        Self { child, stdin }
    }

    fn place(&self, cgroups: &Cgroups) {
        for procs in cgroups.procs_files() {
            std::fs::write(&procs, self.child.id().to_string()).unwrap();
        }
    }

    fn go(mut self) -> std::process::Output {
        let mut stdin = self.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
        drop(stdin);
        self.child.wait_with_output().unwrap()
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().trim().to_owned()
}

fn unique(name: &str) -> String {
    format!("strata-test-{name}-{}", std::process::id())
}

fn v1_group(cgroups: &Cgroups, file: &str) -> Option<std::path::PathBuf> {
    cgroups
        .groups
        .iter()
        .find(|group| group.version == CgroupVersion::V1 && group.path.join(file).exists())
        .map(|group| group.path.clone())
}

#[test]
fn a_memory_limit_is_felt_and_its_oom_kill_seen() {
    if !strata_test::should_run_as_root("cgroups_memory") {
        return;
    }
    let host = Hierarchies::detect().unwrap();
    if !strata_test::should_run(
        "cgroups_memory",
        host.memory.is_some(),
        "a memory controller",
    ) {
        return;
    }
    let id = unique("memory");
    let limits = Limits {
        memory: Some(16 << 20),
        ..Default::default()
    };
    let (limits, warnings) = limits.verify(&host).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let cgroups = Cgroups::create(&id, &limits).unwrap();
    assert_eq!(cgroups.groups.len(), 1);
    if let Some(group) = v1_group(&cgroups, "memory.limit_in_bytes") {
        assert_eq!(
            read(&group.join("memory.limit_in_bytes")),
            (16u64 << 20).to_string()
        );
        if host.swap_limit {
            assert_eq!(
                read(&group.join("memory.memsw.limit_in_bytes")),
                (32u64 << 20).to_string()
            );
        }
    }
    assert!(!cgroups.oom_killed());

    // 64 MiB through dd's buffer: past memory and memory+swap alike.
    let hungry = Waiting::new("exec busybox dd if=/dev/zero of=/dev/null bs=64M count=1");
    hungry.place(&cgroups);
    let output = hungry.go();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(output.status.signal(), Some(9), "{:?}", output.status);
    assert!(cgroups.oom_killed());
    assert!(
        Cgroups::open(&id).unwrap().oom_killed(),
        "seen from another handle too"
    );

    // A modest one lives.
    let modest = Waiting::new("exec busybox dd if=/dev/zero of=/dev/null bs=1M count=4");
    modest.place(&cgroups);
    assert!(modest.go().status.success());

    Cgroups::remove(&id).unwrap();
    for group in &cgroups.groups {
        assert!(!group.path.exists(), "{}", group.path.display());
    }
    Cgroups::remove(&id).unwrap();
}

#[test]
fn a_pids_limit_stops_the_sixth_process() {
    if !strata_test::should_run_as_root("cgroups_pids") {
        return;
    }
    let host = Hierarchies::detect().unwrap();
    if !strata_test::should_run("cgroups_pids", host.pids.is_some(), "a pids controller") {
        return;
    }
    let id = unique("pids");
    let limits = Limits {
        pids: Some(5),
        ..Default::default()
    };
    let cgroups = Cgroups::create(&id, &limits).unwrap();
    let group = &cgroups.groups[0].path;
    assert_eq!(read(&group.join("pids.max")), "5");
    // The shell and four sleeps fit; the next forks fail.
    let shell = Waiting::new("for i in 1 2 3 4 5 6 7; do busybox sleep 1 & done 2>/dev/null; wait");
    shell.place(&cgroups);
    let output = shell.go();
    let events = std::fs::read_to_string(group.join("pids.events")).unwrap_or_default();
    let refused: u64 = events
        .lines()
        .find_map(|line| line.strip_prefix("max "))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or(0);
    // Room for the shell and four sleeps: the sixth process is refused
    // (busybox's shell gives up at its first failed fork).
    assert_eq!(refused, 1, "{events:?}, {output:?}");
    assert!(!output.status.success());
    if group.join("pids.peak").exists() {
        assert_eq!(read(&group.join("pids.peak")), "5");
    }
    // Wait for the sleeps, then remove.
    let deadline = Instant::now() + Duration::from_secs(5);
    while read(&group.join("pids.current")) != "0" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    Cgroups::remove(&id).unwrap();
    assert!(!group.exists());
}

#[test]
fn a_cpu_limit_is_a_cfs_quota() {
    if !strata_test::should_run_as_root("cgroups_cpu") {
        return;
    }
    let host = Hierarchies::detect().unwrap();
    if !strata_test::should_run(
        "cgroups_cpu",
        host.cpu.is_some(),
        "a cpu controller with CFS",
    ) {
        return;
    }
    let id = unique("cpu");
    let limits = Limits {
        nano_cpus: Some(1_500_000_000),
        ..Default::default()
    };
    let cgroups = Cgroups::create(&id, &limits).unwrap();
    let group = &cgroups.groups[0];
    match group.version {
        CgroupVersion::V1 => {
            assert_eq!(read(&group.path.join("cpu.cfs_period_us")), "100000");
            assert_eq!(read(&group.path.join("cpu.cfs_quota_us")), "150000");
        }
        CgroupVersion::V2 => assert_eq!(read(&group.path.join("cpu.max")), "150000 100000"),
    }
    let quick = Waiting::new("exit 3");
    quick.place(&cgroups);
    assert_eq!(quick.go().status.code(), Some(3));
    Cgroups::remove(&id).unwrap();
    assert!(!group.path.exists());
}

#[test]
fn no_limits_make_no_groups() {
    let cgroups = Cgroups::create(&unique("none"), &Limits::default()).unwrap();
    assert!(cgroups.groups.is_empty());
    assert!(cgroups.procs_files().is_empty());
    assert!(!cgroups.oom_killed());
}

#[test]
fn all_three_limits_share_one_id_across_hierarchies() {
    if !strata_test::should_run_as_root("cgroups_all") {
        return;
    }
    let host = Hierarchies::detect().unwrap();
    if host.memory.is_none() || host.cpu.is_none() || host.pids.is_none() {
        return;
    }
    let id = unique("all");
    let limits = Limits {
        memory: Some(64 << 20),
        nano_cpus: Some(500_000_000),
        pids: Some(100),
        memory_swap: None,
    };
    let cgroups = Cgroups::create(&id, &limits).unwrap();
    let opened = Cgroups::open(&id).unwrap();
    let mut created: Vec<_> = cgroups
        .groups
        .iter()
        .map(|group| group.path.clone())
        .collect();
    let mut found: Vec<_> = opened
        .groups
        .iter()
        .map(|group| group.path.clone())
        .collect();
    created.sort();
    found.sort();
    assert_eq!(created, found);
    assert!(
        created
            .iter()
            .all(|path| path.ends_with(format!("strata/{id}")))
    );
    let shell = Waiting::new("cat /proc/self/cgroup");
    shell.place(&cgroups);
    let output = String::from_utf8(shell.go().stdout).unwrap();
    let mentions = output
        .lines()
        .filter(|line| line.ends_with(&format!("/strata/{id}")))
        .count();
    assert_eq!(mentions, cgroups.groups.len(), "{output}");
    Cgroups::remove(&id).unwrap();
    assert!(Cgroups::open(&id).unwrap().groups.is_empty());
}
