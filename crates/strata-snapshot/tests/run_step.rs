//! A RUN step end to end: a snapshot mounted as the sandbox's root, the
//! command run, the diff committed. Both snapshotters.
//!
//! This test binary is its own sandbox helper: `main` calls
//! `strata_sandbox::run_if_requested` before anything else, as `strata`
//! does, so it has no libtest harness and prints its own summary.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use strata_layer::{Change, ChangeKind, LayerOptions, write_layer};
use strata_sandbox::{ExitStatus, RootFs, Sandbox, Spec};
use strata_snapshot::{ActiveSnapshot, Kind, Snapshotter};

fn all_changes(root: &Path) -> Vec<Change> {
    fn walk(root: &Path, relative: &Path, changes: &mut Vec<Change>) {
        for entry in std::fs::read_dir(root.join(relative)).unwrap() {
            let entry = entry.unwrap();
            let path = relative.join(entry.file_name());
            changes.push(Change::new(&path, ChangeKind::Modified));
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, changes);
            }
        }
    }
    let mut changes = Vec::new();
    walk(root, Path::new(""), &mut changes);
    changes
}

fn base(snapshotter: &Snapshotter) -> strata_oci::Digest {
    let rootfs = strata_test::busybox_rootfs();
    let (digests, blob) = write_layer(
        &rootfs,
        &all_changes(&rootfs),
        &LayerOptions::default(),
        Vec::new(),
    )
    .unwrap();
    snapshotter
        .unpack(None, &digests.diff_id, || Ok(&blob[..]))
        .unwrap()
}

fn rootfs(active: &ActiveSnapshot) -> RootFs {
    RootFs::Detached {
        mount: active.detached_mount().unwrap(),
        mount_point: active.mount_point(),
    }
}

fn run_commits_only_what_the_step_changed() {
    let work = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::new().unwrap();
    for kind in [Kind::Overlay, Kind::Copy] {
        let snapshotter = Snapshotter::with_kind(work.path(), kind).unwrap();
        let base = base(&snapshotter);
        let active = snapshotter.prepare(Some(&base)).unwrap();
        let mut spec = Spec::new([
            "/bin/sh",
            "-c",
            "echo hi > /hello; rm /bin/ls; mkdir -p /app/data; cat /etc/hosts > /app/hosts-copy",
        ]);
        spec.working_dir = "/work/dir".to_owned();
        let status = sandbox.run(rootfs(&active), &spec, |_, _| {}).unwrap();
        assert_eq!(status, ExitStatus::Code(0), "{kind:?}");
        let mut changes: Vec<(PathBuf, ChangeKind)> = active
            .changes()
            .unwrap()
            .into_iter()
            .map(|c| (c.path, c.kind))
            .collect();
        changes.sort();
        let expected: Vec<(PathBuf, ChangeKind)> = [
            ("app", ChangeKind::Modified),
            ("app/data", ChangeKind::Modified),
            ("app/hosts-copy", ChangeKind::Modified),
            ("bin/ls", ChangeKind::Deleted),
            ("hello", ChangeKind::Modified),
            ("work", ChangeKind::Modified),
            ("work/dir", ChangeKind::Modified),
        ]
        .into_iter()
        .map(|(p, k)| (PathBuf::from(p), k))
        .collect();
        // Neither /etc/hosts, resolv.conf, hostname nor /etc itself, /proc,
        // /dev or /sys: the mount points are gone and /etc's times restored.
        // /bin changed only in its times: as in BuildKit, no change by itself
        // (the layer writes it as the whiteout's parent).
        assert_eq!(changes, expected, "{kind:?}");
        let (committed, _) = active
            .commit(&LayerOptions::default(), std::io::sink())
            .unwrap();
        assert!(snapshotter.contains(&committed.chain_id));
    }
}

fn processes_with(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .starts_with(marker)
                })
                .unwrap_or(false)
        })
        .count()
}

/// Sandbox helpers alive (this binary re-executed as one).
fn helpers() -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(strata_sandbox::INIT_ARGUMENT))
                .unwrap_or(false)
        })
        .count()
}

fn cancel_leaves_no_process_mount_or_snapshot() {
    let work = tempfile::tempdir().unwrap();
    let snapshotter = Snapshotter::with_kind(work.path(), Kind::Overlay).unwrap();
    let base = base(&snapshotter);
    let active = snapshotter.prepare(Some(&base)).unwrap();
    let spec = Spec::new([
        "/bin/sh",
        "-c",
        "echo partial > /partial; sleep 1004 & echo started; sleep 1004",
    ]);
    let running = Sandbox::new()
        .unwrap()
        .spawn(rootfs(&active), &spec)
        .unwrap();
    let canceller = running.canceller();
    let status = running
        .wait(|_, line| {
            if line == b"started" {
                canceller.cancel();
            }
        })
        .unwrap();
    assert_eq!(status, ExitStatus::Signal(9));
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_with("sleep 1004") > 0 {
        assert!(Instant::now() < deadline, "processes left");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mountinfo.contains(work.path().to_str().unwrap()),
        "a mount was left: {mountinfo}"
    );
    active.discard().unwrap();
    assert_eq!(
        std::fs::read_dir(snapshotter.root().join("active"))
            .unwrap()
            .count(),
        0
    );
}

/// The child of `killing_the_builder_leaves_nothing_behind`: a build step in
/// progress (an active overlay snapshot, a sandbox running in it), until killed.
fn child_runs_a_step(root: &Path) {
    let snapshotter = Snapshotter::with_kind(root, Kind::Overlay).unwrap();
    let base = base(&snapshotter);
    let active = snapshotter.prepare(Some(&base)).unwrap();
    let spec = Spec::new([
        "/bin/sh",
        "-c",
        "echo partial > /partial; sleep 1005 & echo started; sleep 1005",
    ]);
    let running = Sandbox::new()
        .unwrap()
        .spawn(rootfs(&active), &spec)
        .unwrap();
    let ready = root.join("ready");
    let _ = running.wait(|_, line| {
        if line == b"started" {
            std::fs::write(&ready, b"").unwrap();
        }
    });
}

fn killing_the_builder_leaves_nothing_behind() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("snapshots");
    std::fs::create_dir(&root).unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .env("STRATA_RUN_STEP_CHILD", &root)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !root.join("ready").exists() {
        assert!(Instant::now() < deadline, "the step never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The second sleep starts after "started" is printed: wait for it.
    while processes_with("sleep 1005") < 2 {
        assert!(Instant::now() < deadline, "the step's sleeps never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(processes_with("sleep 1005"), 2);
    assert_eq!(
        std::fs::read_dir(root.join("overlay/active"))
            .unwrap()
            .count(),
        1
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_with("sleep 1005") > 0 || helpers() > 0 {
        assert!(Instant::now() < deadline, "processes left behind");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mountinfo.contains(root.to_str().unwrap()),
        "a mount was left: {mountinfo}"
    );
    // The next snapshotter to open the directory removes the dead step's snapshot.
    Snapshotter::with_kind(&root, Kind::Overlay).unwrap();
    assert_eq!(
        std::fs::read_dir(root.join("overlay/active"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(root.join("overlay/staging"))
            .unwrap()
            .count(),
        0
    );
}

fn main() {
    strata_sandbox::run_if_requested();
    if let Some(root) = std::env::var_os("STRATA_RUN_STEP_CHILD") {
        child_runs_a_step(Path::new(&root));
        return;
    }
    let tests: [(&str, fn()); 3] = [
        (
            "killing_the_builder_leaves_nothing_behind",
            killing_the_builder_leaves_nothing_behind,
        ),
        (
            "run_commits_only_what_the_step_changed",
            run_commits_only_what_the_step_changed,
        ),
        (
            "cancel_leaves_no_process_mount_or_snapshot",
            cancel_leaves_no_process_mount_or_snapshot,
        ),
    ];
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in tests {
        if !strata_test::should_run_as_root(name) {
            continue;
        }
        match std::panic::catch_unwind(test) {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(101);
    }
}
