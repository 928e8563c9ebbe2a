//! Both snapshotters over real overlayfs mounts and copies: unpack, prepare,
//! change, commit, and apply the committed layer elsewhere.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use strata_layer::{Change, ChangeKind, Compression, LayerOptions, write_layer};
use strata_oci::Digest;
use strata_snapshot::{Kind, Snapshotter, chain_id};
use strata_test::tree::{describe, difference};

fn all_changes(root: &Path) -> Vec<Change> {
    fn walk(root: &Path, relative: &Path, changes: &mut Vec<Change>) {
        for entry in fs::read_dir(root.join(relative)).unwrap() {
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

/// The busybox rootfs as a gzip layer: (diff id, blob).
fn busybox_layer() -> (Digest, Vec<u8>) {
    let rootfs = strata_test::busybox_rootfs();
    let (digests, blob) = write_layer(
        &rootfs,
        &all_changes(&rootfs),
        &LayerOptions::default(),
        Vec::new(),
    )
    .unwrap();
    (digests.diff_id, blob)
}

fn privileged(test: &str) -> bool {
    strata_test::should_run_as_root(test)
}

/// Every kind of change a step makes, done through the mounted tree.
fn mutate(root: &Path) {
    fs::write(root.join("etc/added"), b"added\n").unwrap();
    fs::write(root.join("etc/passwd"), b"root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::remove_file(root.join("bin/ls")).unwrap();
    fs::remove_dir_all(root.join("sbin")).unwrap();
    // Replaced as a whole: overlayfs makes it opaque.
    fs::remove_dir_all(root.join("usr/bin")).unwrap();
    fs::create_dir(root.join("usr/bin")).unwrap();
    fs::write(root.join("usr/bin/only"), b"only\n").unwrap();
    fs::create_dir_all(root.join("new/deep/dir")).unwrap();
    symlink("../etc/added", root.join("new/link")).unwrap();
    fs::hard_link(root.join("etc/added"), root.join("new/hardlink")).unwrap();
    xattr::set(root.join("etc/group"), "user.note", b"xattr").unwrap();
    std::os::unix::fs::chown(root.join("home/tester"), Some(2000), Some(2001)).unwrap();
    fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1770)).unwrap();
    fs::create_dir(root.join("emptydir")).unwrap();
}

fn tree_of_chain(
    snapshotter: &Snapshotter,
    chain: &Digest,
) -> std::collections::BTreeMap<PathBuf, String> {
    let view = snapshotter.prepare(Some(chain)).unwrap();
    let mounted = view.mount().unwrap();
    describe(mounted.path(), true)
}

#[test]
fn commit_and_apply_round_trip_on_both_snapshotters() {
    if !privileged("overlay and copy snapshot round trip") {
        return;
    }
    let (base_diff_id, base_blob) = busybox_layer();
    let work = tempfile::tempdir().unwrap();
    let mut trees = Vec::new();
    let mut layers = Vec::new();
    for kind in [Kind::Overlay, Kind::Copy] {
        let snapshotter = Snapshotter::with_kind(&work.path().join("store"), kind).unwrap();
        let base = snapshotter
            .unpack(None, &base_diff_id, || Ok(&base_blob[..]))
            .unwrap();
        assert_eq!(
            base, base_diff_id,
            "the first layer's chain id is its diff id"
        );
        // Unpacked once: a second unpack does not even open the blob.
        let again = snapshotter
            .unpack(None, &base_diff_id, || -> std::io::Result<&[u8]> {
                panic!("reopened")
            })
            .unwrap();
        assert_eq!(again, base);

        let active = snapshotter.prepare(Some(&base)).unwrap();
        let expected = {
            let mounted = active.mount().unwrap();
            assert_eq!(
                fs::read_to_string(mounted.path().join("etc/passwd")).unwrap(),
                strata_test::BUSYBOX_PASSWD
            );
            mutate(mounted.path());
            describe(mounted.path(), true)
        };
        let changes = active.changes().unwrap();
        let has = |path: &str, kind: ChangeKind| changes.contains(&Change::new(path, kind));
        assert!(has("bin/ls", ChangeKind::Deleted), "{kind:?}: {changes:?}");
        assert!(has("sbin", ChangeKind::Deleted), "{kind:?}");
        assert!(has("etc/added", ChangeKind::Modified), "{kind:?}");
        assert!(
            !changes.iter().any(|c| c.path.starts_with("proc")),
            "{kind:?}: unchanged paths stay out"
        );
        // usr/bin removed and made again: what it lost goes out file by
        // file, as BuildKit's differs write it, never as an opaque marker.
        assert!(
            has("usr/bin/wc", ChangeKind::Deleted),
            "{kind:?}: {changes:?}"
        );
        assert!(has("usr/bin/only", ChangeKind::Modified), "{kind:?}");
        assert!(
            !changes
                .iter()
                .any(|c| c.kind == ChangeKind::OpaqueDirectory),
            "{kind:?}"
        );
        let (committed, blob) = active.commit(&LayerOptions::default(), Vec::new()).unwrap();
        assert_eq!(
            committed.chain_id,
            chain_id(Some(&base), &committed.layer.diff_id)
        );
        assert!(snapshotter.contains(&committed.chain_id));
        let got = tree_of_chain(&snapshotter, &committed.chain_id);
        let diff = difference(&expected, &got);
        assert!(
            diff.is_empty(),
            "{kind:?}: committed snapshot differs:\n{}",
            diff.join("\n")
        );
        trees.push(got);
        layers.push((committed.layer.diff_id, blob));
        assert_eq!(
            fs::read_dir(snapshotter.root().join("active"))
                .unwrap()
                .count(),
            0,
            "{kind:?}: no active snapshot left"
        );
    }
    // The two runs happened at different times: compare all but the mtimes.
    let untimed = |tree: &std::collections::BTreeMap<PathBuf, String>| {
        tree.iter()
            .map(|(path, line)| {
                (
                    path.clone(),
                    line.split(" mtime=").next().unwrap().to_owned(),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let diff = difference(&untimed(&trees[0]), &untimed(&trees[1]));
    assert!(
        diff.is_empty(),
        "overlay and copy disagree:\n{}",
        diff.join("\n")
    );

    // Each kind's layer applied by the other kind gives the same tree.
    for (index, kind) in [Kind::Copy, Kind::Overlay].into_iter().enumerate() {
        let snapshotter =
            Snapshotter::with_kind(&work.path().join(format!("other-{index}")), kind).unwrap();
        let base = snapshotter
            .unpack(None, &base_diff_id, || Ok(&base_blob[..]))
            .unwrap();
        let (diff_id, blob) = &layers[index];
        let top = snapshotter
            .unpack(Some(&base), diff_id, || Ok(&blob[..]))
            .unwrap();
        let got = tree_of_chain(&snapshotter, &top);
        let diff = difference(&trees[index], &got);
        assert!(
            diff.is_empty(),
            "layer of {index} applied by {kind:?}:\n{}",
            diff.join("\n")
        );
    }
}

#[test]
fn deep_chains_mount_past_the_option_limit() {
    if !privileged("deep overlay chain") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    // A long root path makes each lowerdir long: 80 layers x ~130 bytes > 4 KB.
    let root = work
        .path()
        .join("a-rather-long-directory-name-for-snapshots-to-live-in");
    let snapshotter = Snapshotter::with_kind(&root, Kind::Overlay).unwrap();
    let mut parent: Option<Digest> = None;
    for index in 0..80 {
        let active = snapshotter.prepare(parent.as_ref()).unwrap();
        {
            let mounted = active.mount().unwrap();
            fs::write(
                mounted.path().join(format!("file-{index}")),
                index.to_string(),
            )
            .unwrap();
            if index > 0 {
                fs::remove_file(mounted.path().join(format!("file-{}", index - 1))).unwrap();
            }
        }
        let options = LayerOptions {
            compression: Compression::None,
            ..LayerOptions::default()
        };
        parent = Some(active.commit(&options, std::io::sink()).unwrap().0.chain_id);
    }
    let tree = tree_of_chain(&snapshotter, &parent.unwrap());
    let names: Vec<_> = tree.keys().cloned().collect();
    assert_eq!(names, [PathBuf::from("."), PathBuf::from("file-79")]);
}

#[test]
fn unpack_checks_the_diff_id() {
    let (base_diff_id, base_blob) = busybox_layer();
    let work = tempfile::tempdir().unwrap();
    let kind = if strata_test::is_root() {
        Kind::Overlay
    } else {
        Kind::Copy
    };
    let snapshotter = Snapshotter::with_kind(work.path(), kind).unwrap();
    let wrong = Digest::of(b"not this layer");
    let error = snapshotter
        .unpack(None, &wrong, || Ok(&base_blob[..]))
        .unwrap_err();
    assert!(
        matches!(error, strata_snapshot::Error::DiffIdMismatch { expected, actual } if expected == wrong && actual == base_diff_id),
        "{error}"
    );
    assert!(!snapshotter.contains(&wrong));
    assert_eq!(
        fs::read_dir(snapshotter.root().join("staging"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        fs::read_dir(snapshotter.root().join("layers"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn overlay_on_overlay_falls_back_to_copy() {
    if !privileged("overlay fallback") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let outer = Snapshotter::with_kind(&work.path().join("outer"), Kind::Overlay).unwrap();
    let active = outer.prepare(None).unwrap();
    let mounted = active.mount().unwrap();
    let inner = Snapshotter::open(&mounted.path().join("snapshots")).unwrap();
    assert_eq!(
        inner.kind(),
        Kind::Copy,
        "an upper directory on overlayfs cannot work"
    );
    let plain = Snapshotter::open(&work.path().join("plain")).unwrap();
    assert_eq!(plain.kind(), Kind::Overlay);
}

fn mounts_containing(needle: &Path) -> Vec<String> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(needle.to_str().unwrap()))
        .map(str::to_owned)
        .collect()
}

/// Run by `a_killed_process_leaves_nothing_behind` in a child process:
/// prepares a snapshot, mounts it, writes, says so, and waits to be killed.
/// Not a test of its own: ignored, and run with `--ignored` by that test.
#[test]
#[ignore = "a child process's entry point, run by a_killed_process_leaves_nothing_behind"]
fn child_prepares_and_waits() {
    let Some(root) = std::env::var_os("STRATA_SNAPSHOT_TEST_CHILD") else {
        return;
    };
    let snapshotter = Snapshotter::with_kind(Path::new(&root), Kind::Overlay).unwrap();
    let active = snapshotter.prepare(None).unwrap();
    let mounted = active.mount().unwrap();
    fs::write(mounted.path().join("partial"), b"x").unwrap();
    fs::write(Path::new(&root).join("ready"), b"").unwrap();
    std::thread::sleep(std::time::Duration::from_secs(600));
}

#[test]
fn a_killed_process_leaves_nothing_behind() {
    if !privileged("snapshot cleanup after SIGKILL") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("snapshots");
    fs::create_dir(&root).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_prepares_and_waits",
            "--ignored",
            "--nocapture",
        ])
        .env("STRATA_SNAPSHOT_TEST_CHILD", &root)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !root.join("ready").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "child never got ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let active_dir = root.join("overlay/active");
    assert_eq!(fs::read_dir(&active_dir).unwrap().count(), 1);
    assert!(
        !mounts_containing(&active_dir).is_empty(),
        "the child's mount is visible"
    );
    // A snapshotter opened while the child lives leaves its snapshot alone.
    Snapshotter::with_kind(&root, Kind::Overlay).unwrap();
    assert_eq!(fs::read_dir(&active_dir).unwrap().count(), 1);

    child.kill().unwrap();
    child.wait().unwrap();
    Snapshotter::with_kind(&root, Kind::Overlay).unwrap();
    assert_eq!(
        fs::read_dir(&active_dir).unwrap().count(),
        0,
        "the dead child's snapshot is gone"
    );
    assert!(
        mounts_containing(&active_dir).is_empty(),
        "and so is its mount"
    );
}

#[test]
fn the_probed_kind_is_remembered_for_its_file_system() {
    if !privileged("snapshotter kind record") {
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let work = tempfile::tempdir().unwrap();
    let directory = work.path().join("snapshots");
    let snapshotter = Snapshotter::open(&directory).unwrap();
    assert_eq!(snapshotter.kind(), Kind::Overlay);
    let device = fs::metadata(&directory).unwrap().dev();
    assert_eq!(
        fs::read_to_string(directory.join("kind")).unwrap(),
        format!("overlay {device}\n")
    );
    // The record is believed without probing again...
    fs::write(directory.join("kind"), format!("copy {device}\n")).unwrap();
    assert_eq!(Snapshotter::open(&directory).unwrap().kind(), Kind::Copy);
    // ...but only on the file system it was made on.
    fs::write(directory.join("kind"), format!("copy {}\n", device + 1)).unwrap();
    assert_eq!(Snapshotter::open(&directory).unwrap().kind(), Kind::Overlay);
    fs::write(directory.join("kind"), "nonsense").unwrap();
    assert_eq!(Snapshotter::open(&directory).unwrap().kind(), Kind::Overlay);
}

#[test]
fn snapshots_of_an_earlier_boot_are_dropped() {
    if !privileged("snapshots after a reboot") {
        return;
    }
    let (diff_id, blob) = busybox_layer();
    let work = tempfile::tempdir().unwrap();
    for kind in [Kind::Overlay, Kind::Copy] {
        let snapshotter = Snapshotter::with_kind(work.path(), kind).unwrap();
        let chain = snapshotter
            .unpack(None, &diff_id, || Ok(&blob[..]))
            .unwrap();
        assert_eq!(snapshotter.chain_ids().unwrap(), vec![chain]);
        // Opened again in the same boot: kept.
        let again = Snapshotter::with_kind(work.path(), kind).unwrap();
        assert!(again.contains(&chain));
        // A marker from another boot: their writes may have been lost in a
        // crash (nothing syncs them), so they go, and unpack makes them again.
        let marker = snapshotter.root().join("boot-id");
        assert!(marker.is_file());
        fs::write(&marker, "00000000-0000-0000-0000-000000000000\n").unwrap();
        let after_reboot = Snapshotter::with_kind(work.path(), kind).unwrap();
        assert!(!after_reboot.contains(&chain), "{kind:?}");
        assert!(after_reboot.chain_ids().unwrap().is_empty());
        assert_eq!(
            fs::read_dir(after_reboot.root().join("staging"))
                .unwrap()
                .count(),
            0,
            "nothing left over"
        );
        after_reboot
            .unpack(None, &diff_id, || Ok(&blob[..]))
            .unwrap();
        assert!(after_reboot.contains(&chain));
    }
}

#[test]
fn overlays_are_volatile() {
    if !privileged("volatile overlay") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let snapshotter = Snapshotter::with_kind(work.path(), Kind::Overlay).unwrap();
    let active = snapshotter.prepare(None).unwrap();
    let mounted = active.mount().unwrap();
    let lines = mounts_containing(mounted.path());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("volatile"),
        "no sync of the whole upper file system on unmount: {}",
        lines[0]
    );
    fs::write(mounted.path().join("file"), b"kept").unwrap();
    drop(mounted);
    // Mounted again (a RUN's snapshot is, after the step) despite the mark
    // a volatile overlay leaves.
    let again = active.mount().unwrap();
    assert_eq!(fs::read(again.path().join("file")).unwrap(), b"kept");
    let detached = active.detached_mount();
    drop(again);
    assert!(detached.is_ok());
}
