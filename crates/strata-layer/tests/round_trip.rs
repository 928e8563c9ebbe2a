//! apply(write(changes)) reproduces the tree, with every kind of entry.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use strata_layer::{
    ApplyOptions, Change, ChangeKind, Compression, LayerOptions, WhiteoutMode, apply_layer,
    write_layer,
};
use strata_test::tree::{describe, difference};

fn all_changes(root: &Path) -> Vec<Change> {
    let mut changes = Vec::new();
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
    walk(root, Path::new(""), &mut changes);
    changes
}

/// A tree with one of everything a layer holds.
fn rich_tree(root: &Path, as_root: bool) {
    fs::create_dir_all(root.join("dir/sub")).unwrap();
    fs::write(root.join("dir/file.txt"), b"hello\n").unwrap();
    fs::write(
        root.join("dir/sub/big.bin"),
        vec![7u8; 3 * 1024 * 1024 + 17],
    )
    .unwrap();
    fs::write(root.join("empty"), b"").unwrap();
    fs::hard_link(root.join("dir/file.txt"), root.join("dir/sub/hardlink")).unwrap();
    symlink("../file.txt", root.join("dir/sub/relative-link")).unwrap();
    symlink("/etc/passwd", root.join("absolute-link")).unwrap();
    fs::write(root.join("setuid"), b"#!/bin/sh\n").unwrap();
    fs::set_permissions(root.join("setuid"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::set_permissions(root.join("dir/sub"), fs::Permissions::from_mode(0o1777)).unwrap();
    let long_dir = root.join("d".repeat(120)).join("e".repeat(120));
    fs::create_dir_all(&long_dir).unwrap();
    fs::write(long_dir.join("f".repeat(200)), b"long name").unwrap();
    symlink("t".repeat(300), root.join("long-target-link")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o640),
        0,
    )
    .unwrap();
    xattr::set(root.join("dir/file.txt"), "user.comment", b"a value").unwrap();
    if as_root {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            root.join("null"),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::from_raw_mode(0o666),
            rustix::fs::makedev(1, 3),
        )
        .unwrap();
        std::os::unix::fs::chown(root.join("dir/file.txt"), Some(1234), Some(5678)).unwrap();
        std::os::unix::fs::lchown(root.join("absolute-link"), Some(42), Some(43)).unwrap();
        std::os::unix::fs::chown(root.join("dir/sub"), Some(3_000_000), Some(3_000_001)).unwrap();
        xattr::set(root.join("setuid"), "trusted.note", b"kept").unwrap();
    }
}

fn write_to_vec(
    source: &Path,
    changes: &[Change],
    compression: Compression,
) -> (strata_layer::LayerDigests, Vec<u8>) {
    let options = LayerOptions {
        compression,
        ..LayerOptions::default()
    };
    write_layer(source, changes, &options, Vec::new()).unwrap()
}

#[test]
fn every_entry_kind_round_trips_with_each_compression() {
    let as_root = strata_test::is_root();
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("source");
    fs::create_dir(&source).unwrap();
    rich_tree(&source, as_root);
    let changes = all_changes(&source);
    for compression in [Compression::None, Compression::GZIP, Compression::ZSTD] {
        let (digests, blob) = write_to_vec(&source, &changes, compression);
        assert_eq!(digests.size, blob.len() as u64);
        assert_eq!(digests.digest, strata_oci::Digest::of(&blob));
        assert_eq!(digests.media_type, compression.media_type());
        let target = work.path().join(format!("target-{compression:?}"));
        fs::create_dir(&target).unwrap();
        let report = apply_layer(&blob[..], &target, &ApplyOptions::default()).unwrap();
        assert_eq!(report.diff_id, digests.diff_id, "{compression:?}");
        assert_eq!(report.uncompressed_size, digests.uncompressed_size);
        assert_eq!((report.digest, report.size), (digests.digest, digests.size));
        let (want, got) = (describe(&source, true), describe(&target, true));
        let diff = difference(&want, &got);
        // The roots differ only in the temp dirs' own metadata.
        let diff: Vec<_> = diff
            .into_iter()
            .filter(|l| !l.starts_with("~ .:"))
            .collect();
        assert!(diff.is_empty(), "{compression:?}:\n{}", diff.join("\n"));
    }
}

#[test]
fn output_is_deterministic_and_sorted() {
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("source");
    fs::create_dir(&source).unwrap();
    rich_tree(&source, false);
    let mut changes = all_changes(&source);
    let (first, blob) = write_to_vec(&source, &changes, Compression::GZIP);
    changes.reverse();
    let (second, _) = write_to_vec(&source, &changes, Compression::GZIP);
    assert_eq!(first, second, "the order of the changes does not matter");

    // GNU tar reads it, and lists parents before children in sorted order.
    let tar_path = work.path().join("layer.tar.gz");
    fs::write(&tar_path, &blob).unwrap();
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&tar_path)
        .output()
        .unwrap();
    assert!(
        listing.status.success(),
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    let names: Vec<String> = String::from_utf8(listing.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| {
        let key = |s: &str| {
            s.trim_end_matches('/')
                .split('/')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        key(a).cmp(&key(b))
    });
    assert_eq!(names, sorted);
    assert!(names.contains(&"dir/".to_owned()));
    assert!(
        names.iter().any(|n| n.len() > 300),
        "the long name survives: {names:?}"
    );

    // And extracts the same tree.
    let extracted = work.path().join("extracted");
    fs::create_dir(&extracted).unwrap();
    let status = Command::new("tar")
        .args(["--xattrs", "--xattrs-include=*", "-xzpf"])
        .arg(&tar_path)
        .arg("-C")
        .arg(&extracted)
        .status()
        .unwrap();
    assert!(status.success());
    let diff: Vec<_> = difference(&describe(&source, true), &describe(&extracted, true))
        .into_iter()
        .filter(|l| !l.starts_with("~ .:"))
        .collect();
    assert!(diff.is_empty(), "{}", diff.join("\n"));
}

#[test]
fn source_date_epoch_clamps_mtimes() {
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("source");
    fs::create_dir(&source).unwrap();
    fs::write(source.join("new"), b"x").unwrap();
    fs::write(source.join("old"), b"y").unwrap();
    filetime::set_file_mtime(
        source.join("old"),
        filetime::FileTime::from_unix_time(1000, 0),
    )
    .unwrap();
    let options = LayerOptions {
        compression: Compression::None,
        source_date_epoch: Some(5000),
        threads: 1,
    };
    let changes = vec![
        Change::new("new", ChangeKind::Modified),
        Change::new("old", ChangeKind::Modified),
    ];
    let (_, blob) = write_layer(&source, &changes, &options, Vec::new()).unwrap();
    let mut archive = tar::Archive::new(&blob[..]);
    let times: Vec<(PathBuf, u64)> = archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.path().unwrap().into_owned(), e.header().mtime().unwrap())
        })
        .collect();
    assert_eq!(
        times,
        vec![(PathBuf::from("new"), 5000), (PathBuf::from("old"), 1000)]
    );
}

#[test]
fn whiteouts_and_opaque_directories_apply_in_both_modes() {
    let work = tempfile::tempdir().unwrap();
    // The layer: delete `gone` and `olddir`, make `opaque/` opaque with one new file.
    let source = work.path().join("source");
    fs::create_dir_all(source.join("opaque")).unwrap();
    fs::write(source.join("opaque/new"), b"new").unwrap();
    fs::create_dir_all(source.join("keep")).unwrap();
    let changes = vec![
        Change::new("gone", ChangeKind::Deleted),
        Change::new("keep/olddir", ChangeKind::Deleted),
        Change::new("opaque", ChangeKind::OpaqueDirectory),
        Change::new("opaque/new", ChangeKind::Modified),
    ];
    let (_, blob) = write_to_vec(&source, &changes, Compression::GZIP);

    // Delete mode: applied onto the lower tree.
    let target = work.path().join("target");
    fs::create_dir_all(target.join("keep/olddir/deep")).unwrap();
    fs::create_dir_all(target.join("opaque/lower-dir")).unwrap();
    fs::write(target.join("gone"), b"x").unwrap();
    fs::write(target.join("keep/stays"), b"x").unwrap();
    fs::write(target.join("opaque/lower-file"), b"x").unwrap();
    apply_layer(&blob[..], &target, &ApplyOptions::default()).unwrap();
    let names: Vec<_> = describe(&target, false).into_keys().collect();
    assert_eq!(
        names,
        [".", "keep", "keep/stays", "opaque", "opaque/new"]
            .map(PathBuf::from)
            .to_vec()
    );

    if !strata_test::should_run_as_root("overlay whiteout markers") {
        return;
    }
    // Overlay mode: unpacked alone, markers for overlayfs.
    let layer = work.path().join("layer");
    fs::create_dir(&layer).unwrap();
    let options = ApplyOptions {
        whiteouts: WhiteoutMode::Overlay,
        same_owner: true,
        owner: None,
    };
    apply_layer(&blob[..], &layer, &options).unwrap();
    let tree = describe(&layer, false);
    assert!(
        tree[Path::new("gone")].starts_with("char ") && tree[Path::new("gone")].contains("rdev=0"),
        "{tree:?}"
    );
    assert!(tree[Path::new("keep/olddir")].starts_with("char "));
    assert_eq!(
        xattr::get(layer.join("opaque"), "trusted.overlay.opaque")
            .unwrap()
            .as_deref(),
        Some(&b"y"[..])
    );
}

#[test]
fn invalid_change_paths_are_refused() {
    let work = tempfile::tempdir().unwrap();
    for bad in ["/abs", "../up", "a/../b", ""] {
        let error = write_layer(
            work.path(),
            &[Change::new(bad, ChangeKind::Modified)],
            &LayerOptions::default(),
            Vec::new(),
        )
        .unwrap_err();
        assert!(
            matches!(error, strata_layer::Error::InvalidChangePath { .. }),
            "{bad}: {error}"
        );
    }
}

#[test]
fn parents_are_included_for_nested_changes() {
    let work = tempfile::tempdir().unwrap();
    fs::create_dir_all(work.path().join("a/b")).unwrap();
    fs::write(work.path().join("a/b/c"), b"x").unwrap();
    let (_, blob) = write_to_vec(
        work.path(),
        &[Change::new("a/b/c", ChangeKind::Modified)],
        Compression::None,
    );
    let mut archive = tar::Archive::new(&blob[..]);
    let names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| String::from_utf8(e.unwrap().path_bytes().into_owned()).unwrap())
        .collect();
    assert_eq!(names, ["a/", "a/b/", "a/b/c"]);
}

#[test]
fn layers_of_many_chunks_hash_alike_on_one_thread_and_two() {
    // Past the 1 MiB chunks the diff id is hashed in on a second thread:
    // files of odd sizes around and across chunk boundaries.
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("source");
    fs::create_dir(&source).unwrap();
    for (index, size) in [0usize, 1, 511, 1 << 20, (1 << 20) + 1, 3 << 20, 12345]
        .into_iter()
        .enumerate()
    {
        let data: Vec<u8> = (0..size).map(|i| (i * 7 + index) as u8).collect();
        fs::write(source.join(format!("f{index}")), data).unwrap();
    }
    let changes = all_changes(&source);
    for compression in [Compression::None, Compression::GZIP] {
        let mut results = Vec::new();
        for threads in [1, 2] {
            let options = LayerOptions {
                compression,
                threads,
                source_date_epoch: Some(0),
            };
            let (digests, blob) = write_layer(&source, &changes, &options, Vec::new()).unwrap();
            let target = work
                .path()
                .join(format!("target-{compression:?}-{threads}"));
            fs::create_dir(&target).unwrap();
            let report = apply_layer(&blob[..], &target, &ApplyOptions::default()).unwrap();
            assert_eq!(report.diff_id, digests.diff_id, "{compression:?} {threads}");
            assert_eq!(report.uncompressed_size, digests.uncompressed_size);
            assert_eq!(digests.digest, strata_oci::Digest::of(&blob));
            assert!(digests.uncompressed_size > 5 << 20);
            results.push(digests.diff_id);
        }
        assert_eq!(results[0], results[1], "{compression:?}");
    }
}
