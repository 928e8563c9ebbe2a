//! Hostile layers: each is refused with an error naming the entry, and
//! nothing lands outside the target.

use std::fs;
use std::path::Path;

use strata_layer::{ApplyOptions, Error, WhiteoutMode, apply_layer};
use strata_test::tree::describe;

/// One raw archive entry; names are written as given, unchecked.
enum Raw<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    Char(&'a str, u32, u32),
    /// A PAX `path` record naming the next entry.
    PaxFile(&'a str, &'a [u8]),
    /// A GNU long-name entry naming the next entry.
    GnuLongFile(&'a str, &'a [u8]),
}

fn header(name: &[u8], kind: tar::EntryType, size: u64, link: &[u8]) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o755);
    header.set_mtime(1);
    let old = header.as_old_mut();
    old.name[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    old.linkname[..link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    header.set_cksum();
    header
}

fn push(out: &mut Vec<u8>, header: &tar::Header, data: &[u8]) {
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn archive(entries: &[Raw<'_>]) -> Vec<u8> {
    use tar::EntryType as T;
    let mut out = Vec::new();
    for entry in entries {
        match entry {
            Raw::File(name, data) => push(
                &mut out,
                &header(name.as_bytes(), T::Regular, data.len() as u64, b""),
                data,
            ),
            Raw::Dir(name) => push(
                &mut out,
                &header(name.as_bytes(), T::Directory, 0, b""),
                b"",
            ),
            Raw::Symlink(name, target) => push(
                &mut out,
                &header(name.as_bytes(), T::Symlink, 0, target.as_bytes()),
                b"",
            ),
            Raw::Hardlink(name, target) => push(
                &mut out,
                &header(name.as_bytes(), T::Link, 0, target.as_bytes()),
                b"",
            ),
            Raw::Char(name, major, minor) => {
                let mut h = header(name.as_bytes(), T::Char, 0, b"");
                h.set_device_major(*major).unwrap();
                h.set_device_minor(*minor).unwrap();
                h.set_cksum();
                push(&mut out, &h, b"");
            }
            Raw::PaxFile(name, data) => {
                let record = format!(" path={name}\n");
                let mut length = record.len() + 2;
                while length != record.len() + length.to_string().len() {
                    length = record.len() + length.to_string().len();
                }
                let records = format!("{length}{record}");
                push(
                    &mut out,
                    &header(b"PaxHeaders/x", T::XHeader, records.len() as u64, b""),
                    records.as_bytes(),
                );
                push(
                    &mut out,
                    &header(b"placeholder", T::Regular, data.len() as u64, b""),
                    data,
                );
            }
            Raw::GnuLongFile(name, data) => {
                let mut long = name.as_bytes().to_vec();
                long.push(0);
                push(
                    &mut out,
                    &header(b"././@LongLink", T::GNULongName, long.len() as u64, b""),
                    &long,
                );
                push(
                    &mut out,
                    &header(b"placeholder", T::Regular, data.len() as u64, b""),
                    data,
                );
            }
        }
    }
    out.extend_from_slice(&[0; 1024]);
    out
}

struct Arena {
    _dir: tempfile::TempDir,
    base: std::path::PathBuf,
}

impl Arena {
    /// `base/target` (where layers go) beside `base/outside` (a sentinel
    /// directory with a file, `secret`, and a subdirectory) .
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base");
        fs::create_dir_all(base.join("target")).unwrap();
        fs::create_dir_all(base.join("outside/sub")).unwrap();
        fs::write(base.join("outside/secret"), b"secret").unwrap();
        Self { _dir: dir, base }
    }

    fn target(&self) -> std::path::PathBuf {
        self.base.join("target")
    }

    fn snapshot(&self) -> std::collections::BTreeMap<std::path::PathBuf, String> {
        let mut all = describe(&self.base, true);
        // What the layer may change: the target and everything below it.
        all.retain(|path, _| !path.starts_with("target"));
        all
    }
}

/// Applies `entries` in both modes; each must fail with an error naming
/// `culprit`, and nothing outside the target may change.
fn refused(case: &str, entries: &[Raw<'_>], culprit: &str) {
    for mode in [WhiteoutMode::Delete, WhiteoutMode::Overlay] {
        if mode == WhiteoutMode::Overlay
            && !strata_test::should_run_as_root(&format!("{case} in overlay mode"))
        {
            continue;
        }
        let arena = Arena::new();
        let before = arena.snapshot();
        let options = ApplyOptions {
            whiteouts: mode,
            same_owner: strata_test::is_root(),
            owner: None,
        };
        let blob = archive(entries);
        let error = apply_layer(&blob[..], &arena.target(), &options)
            .expect_err(&format!("{case} ({mode:?}) must be refused"));
        let message = error.to_string();
        assert!(
            matches!(error, Error::UnsafeEntry { .. }),
            "{case} ({mode:?}): expected an unsafe-entry error, got: {message}"
        );
        assert!(
            message.contains(culprit),
            "{case} ({mode:?}): {message:?} does not name {culprit:?}"
        );
        assert_eq!(
            before,
            arena.snapshot(),
            "{case} ({mode:?}) changed something outside the target"
        );
        // Nothing else appeared beside the target either.
        let mut names: Vec<_> = fs::read_dir(&arena.base)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["outside", "target"], "{case}");
        // The root of the file system is untouched.
        assert!(
            !Path::new("/evil").exists() && !Path::new("/tmp/evil").exists(),
            "{case}"
        );
    }
}

#[test]
fn absolute_names() {
    refused(
        "absolute path",
        &[Raw::File("/tmp/evil", b"x")],
        "/tmp/evil",
    );
}

#[test]
fn dot_dot_names() {
    refused(
        "parent directory",
        &[Raw::File("../outside/evil", b"x")],
        "../outside/evil",
    );
    refused(
        "dot-dot in the middle",
        &[Raw::File("a/../../outside/evil", b"x")],
        "a/../../outside/evil",
    );
    refused(
        "dot-dot directory",
        &[Raw::Dir("../outside/sub/")],
        "../outside/sub/",
    );
}

#[test]
fn write_through_a_symlink_made_by_the_layer() {
    refused(
        "symlink then write through it",
        &[
            Raw::Symlink("link", "../outside"),
            Raw::File("link/evil", b"x"),
        ],
        "link/evil",
    );
    refused(
        "absolute symlink then write through it",
        &[Raw::Symlink("link", "/tmp"), Raw::File("link/evil", b"x")],
        "link/evil",
    );
    refused(
        "directory replaced by a symlink, then written through",
        &[
            Raw::Dir("d/"),
            Raw::Symlink("d", "../outside"),
            Raw::File("d/secret", b"overwritten"),
        ],
        "d/secret",
    );
    refused(
        "symlink to a parent, then a directory through it",
        &[Raw::Symlink("up", ".."), Raw::Dir("up/outside/sub/evil/")],
        "up/outside/sub/evil/",
    );
}

#[test]
fn symlink_loops() {
    refused(
        "symlink loop",
        &[Raw::Symlink("loop", "loop"), Raw::File("loop/evil", b"x")],
        "loop/evil",
    );
    refused(
        "two-symlink cycle",
        &[
            Raw::Symlink("a", "b"),
            Raw::Symlink("b", "a"),
            Raw::File("a/evil", b"x"),
        ],
        "a/evil",
    );
}

#[test]
fn hardlinks_to_outside() {
    refused(
        "hardlink with dot-dot",
        &[Raw::Hardlink("stolen", "../outside/secret")],
        "stolen",
    );
    refused(
        "hardlink to an absolute path",
        &[Raw::Hardlink("stolen", "/etc/passwd")],
        "stolen",
    );
    refused(
        "hardlink through a symlink",
        &[
            Raw::Symlink("link", "../outside"),
            Raw::Hardlink("stolen", "link/secret"),
        ],
        "stolen",
    );
    refused(
        "hardlink to the root",
        &[Raw::Hardlink("root", ".")],
        "root",
    );
}

#[test]
fn device_nodes_outside() {
    if !strata_test::should_run_as_root("device nodes in hostile layers") {
        return;
    }
    refused(
        "device node outside",
        &[Raw::Char("../outside/null", 1, 3)],
        "../outside/null",
    );
    refused(
        "device node through a symlink",
        &[
            Raw::Symlink("dev", "../outside"),
            Raw::Char("dev/sda", 8, 0),
        ],
        "dev/sda",
    );
}

#[test]
fn long_names_escaping() {
    let long = format!("{}/../../../outside/evil", "a/".repeat(60));
    refused(
        "PAX path with dot-dot",
        &[Raw::PaxFile(&long, b"x")],
        "outside/evil",
    );
    refused(
        "GNU long name with dot-dot",
        &[Raw::GnuLongFile(&long, b"x")],
        "outside/evil",
    );
    refused(
        "PAX absolute path",
        &[Raw::PaxFile("/tmp/evil", b"x")],
        "/tmp/evil",
    );
}

#[test]
fn whiteouts_escaping() {
    refused("whiteout of dot-dot", &[Raw::File(".wh...", b"")], ".wh...");
    refused(
        "whiteout of dot",
        &[Raw::File("sub/.wh..", b"")],
        "sub/.wh..",
    );
    refused("empty whiteout", &[Raw::File(".wh.", b"")], ".wh.");
    refused(
        "whiteout in a dot-dot directory",
        &[Raw::File("../outside/.wh.secret", b"")],
        ".wh.secret",
    );
    refused(
        "whiteout through a symlink",
        &[
            Raw::Symlink("link", "../outside"),
            Raw::File("link/.wh.secret", b""),
        ],
        "link/.wh.secret",
    );
    refused(
        "opaque marker through a symlink",
        &[
            Raw::Symlink("link", "../outside"),
            Raw::File("link/.wh..wh..opq", b""),
        ],
        "link/.wh..wh..opq",
    );
}

#[test]
fn the_root_cannot_become_a_symlink() {
    refused("root as a symlink", &[Raw::Symlink("./", "/")], "./");
    refused("root as a file", &[Raw::File(".", b"x")], ".");
}

#[test]
fn truncated_archives_are_errors_not_panics() {
    let arena = Arena::new();
    let mut blob = archive(&[Raw::File("file", &[1u8; 5000])]);
    blob.truncate(1024);
    let error = apply_layer(&blob[..], &arena.target(), &ApplyOptions::default()).unwrap_err();
    assert!(error.to_string().contains("file"), "{error}");
}

#[test]
fn a_symlink_from_a_lower_layer_is_replaced_not_followed() {
    // Applied onto a tree: `lib` is a symlink out of the tree made by a lower
    // layer; a new entry under it gets a real directory, as overlayfs shows it.
    let arena = Arena::new();
    std::os::unix::fs::symlink("../outside", arena.target().join("lib")).unwrap();
    let before = arena.snapshot();
    let blob = archive(&[Raw::File("lib/new", b"x")]);
    apply_layer(&blob[..], &arena.target(), &ApplyOptions::default()).unwrap();
    assert_eq!(before, arena.snapshot());
    assert!(
        arena
            .target()
            .join("lib")
            .symlink_metadata()
            .unwrap()
            .is_dir()
    );
    assert_eq!(fs::read(arena.target().join("lib/new")).unwrap(), b"x");
}

#[test]
fn legitimate_symlinks_and_hardlinks_apply() {
    let arena = Arena::new();
    let blob = archive(&[
        Raw::Dir("etc/"),
        Raw::File("etc/file", b"data"),
        Raw::Symlink("abs", "/etc/passwd"),
        Raw::Symlink("rel", "../outside/secret"),
        Raw::Hardlink("etc/link", "etc/file"),
        Raw::Hardlink("./dot-link", "./etc/file"),
    ]);
    apply_layer(&blob[..], &arena.target(), &ApplyOptions::default()).unwrap();
    assert_eq!(
        fs::read_link(arena.target().join("abs")).unwrap(),
        Path::new("/etc/passwd")
    );
    assert_eq!(fs::read(arena.target().join("etc/link")).unwrap(), b"data");
    assert_eq!(fs::read(arena.target().join("dot-link")).unwrap(), b"data");
}
