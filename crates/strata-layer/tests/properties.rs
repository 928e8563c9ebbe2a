//! Generated trees: whatever the names, sizes, links and modes, applying the
//! written layer reproduces the tree, in every compression.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use strata_layer::{
    ApplyOptions, Change, ChangeKind, Compression, LayerOptions, apply_layer, write_layer,
};
use strata_test::tree::{describe, difference};

#[derive(Debug, Clone)]
enum Node {
    File { size: usize, seed: u8, mode: u32 },
    Directory { mode: u32 },
    Symlink { target: String },
    Hardlink { to: usize },
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}",
        "[a-zA-Z0-9._ -]{1,20}",
        // Long names: past ustar's 100-byte field.
        "[a-z]{90,200}",
        // Names that look like markers but are not whiteouts.
        Just("wh.not-a-whiteout".to_owned()),
    ]
    .prop_filter("no dot names", |n| {
        n != "." && n != ".." && !n.starts_with(".wh.")
    })
}

fn node() -> impl Strategy<Value = Node> {
    prop_oneof![
        (
            0usize..70_000,
            any::<u8>(),
            prop_oneof![Just(0o644u32), Just(0o755), Just(0o600), Just(0o4755)]
        )
            .prop_map(|(size, seed, mode)| Node::File { size, seed, mode }),
        prop_oneof![Just(0o755u32), Just(0o700), Just(0o1777)]
            .prop_map(|mode| Node::Directory { mode }),
        "[a-z/.]{1,40}".prop_map(|target| Node::Symlink { target }),
        (0usize..16).prop_map(|to| Node::Hardlink { to }),
    ]
}

/// Builds the tree: each entry goes under a directory made earlier (or the root).
fn build(root: &Path, entries: &[(usize, String, Node)]) {
    let mut directories = vec![PathBuf::new()];
    let mut files: Vec<PathBuf> = Vec::new();
    let mut deferred_modes = Vec::new();
    for (parent, name, node) in entries {
        let parent = &directories[parent % directories.len()];
        let path = parent.join(name);
        let full = root.join(&path);
        if full.symlink_metadata().is_ok() {
            continue;
        }
        match node {
            Node::File { size, seed, mode } => {
                let data: Vec<u8> = (0..*size)
                    .map(|i| (i as u8).wrapping_mul(31).wrapping_add(*seed))
                    .collect();
                fs::write(&full, data).unwrap();
                fs::set_permissions(&full, fs::Permissions::from_mode(*mode)).unwrap();
                files.push(path);
            }
            Node::Directory { mode } => {
                fs::create_dir(&full).unwrap();
                deferred_modes.push((full, *mode));
                directories.push(path);
            }
            Node::Symlink { target } => symlink(target, &full).unwrap(),
            Node::Hardlink { to } => {
                if !files.is_empty() {
                    fs::hard_link(root.join(&files[to % files.len()]), &full).unwrap();
                }
            }
        }
    }
    for (path, mode) in deferred_modes {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }
}

fn changes_of(root: &Path) -> Vec<Change> {
    describe(root, false)
        .into_keys()
        .filter(|p| p != Path::new("."))
        .map(|p| Change::new(p, ChangeKind::Modified))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn generated_trees_round_trip(
        entries in prop::collection::vec((0usize..8, name(), node()), 1..24),
        compression in prop_oneof![Just(Compression::None), Just(Compression::GZIP), Just(Compression::ZSTD)],
    ) {
        let work = tempfile::tempdir().unwrap();
        let source = work.path().join("source");
        let target = work.path().join("target");
        fs::create_dir(&source).unwrap();
        fs::create_dir(&target).unwrap();
        build(&source, &entries);
        let options = LayerOptions { compression, ..LayerOptions::default() };
        let (digests, blob) = write_layer(&source, &changes_of(&source), &options, Vec::new()).unwrap();
        let report = apply_layer(&blob[..], &target, &ApplyOptions::default()).unwrap();
        prop_assert_eq!(report.diff_id, digests.diff_id);
        let diff: Vec<String> = difference(&describe(&source, true), &describe(&target, true))
            .into_iter()
            .filter(|l| !l.starts_with("~ .:"))
            .collect();
        prop_assert!(diff.is_empty(), "{}", diff.join("\n"));
    }
}
