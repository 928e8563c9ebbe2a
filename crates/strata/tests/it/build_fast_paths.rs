//! The paths `strata build` takes for speed give the same images as the slow
//! ones would: a COPY of many files (copied on two threads), of a large file
//! (copied by the kernel), a RUN whose snapshot is mounted again after the
//! step (volatile overlays), uncompressed layers hashed once, and a no-op
//! rebuild that writes nothing.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use assert_cmd::Command;

use crate::harness::{Env, Saved, text};

struct Fixture {
    env: Env,
    context: tempfile::TempDir,
}

impl Fixture {
    fn new(test: &str) -> Option<Fixture> {
        let fixture = Fixture {
            env: Env::with_busybox(test)?,
            context: tempfile::tempdir().unwrap(),
        };
        Some(fixture)
    }

    fn strata(&self) -> Command {
        self.env.command()
    }

    fn write(&self, path: &str, contents: &[u8], mode: u32) {
        let path = self.context.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn build(&self, tag: &str) -> String {
        let output = self
            .strata()
            .args(["build", "--progress=plain", "-t", tag])
            .arg(self.context.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stderr)
    }
}

/// Every regular file of a layer tar: path -> (mode, uid, gid, mtime, bytes).
fn layer_files(path: &Path) -> std::collections::BTreeMap<String, (u32, u64, u64, u64, Vec<u8>)> {
    let mut files = std::collections::BTreeMap::new();
    let mut archive = tar::Archive::new(fs::File::open(path).unwrap());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let header = entry.header().clone();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        files.insert(
            name,
            (
                header.mode().unwrap(),
                header.uid().unwrap(),
                header.gid().unwrap(),
                header.mtime().unwrap(),
                bytes,
            ),
        );
    }
    files
}

/// Every hardlink of a layer tar: (path, target).
fn layer_links(path: &Path) -> Vec<(String, String)> {
    let mut archive = tar::Archive::new(fs::File::open(path).unwrap());
    let mut links = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        if entry.header().entry_type() == tar::EntryType::Link {
            links.push((
                entry.path().unwrap().to_string_lossy().into_owned(),
                entry
                    .link_name()
                    .unwrap()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            ));
        }
    }
    links
}

#[test]
fn copies_of_many_and_large_files_keep_every_byte_mode_owner_and_time() {
    let Some(fixture) = Fixture::new("COPY fast paths") else {
        return;
    };
    // 150 files (over the two-thread threshold) in nested directories, and
    // a 3 MiB file (copied by the kernel rather than through a buffer).
    for index in 0..150 {
        let contents = format!("file {index}\n").repeat(index % 40 + 1);
        let mode = if index % 3 == 0 { 0o755 } else { 0o644 };
        fixture.write(
            &format!("tree/d{}/e{}/f{index}.txt", index % 5, index % 3),
            contents.as_bytes(),
            mode,
        );
    }
    // A hardlink among them: copied as a link to the first of its names.
    fs::hard_link(
        fixture.context.path().join("tree/d0/e0/f0.txt"),
        fixture.context.path().join("tree/d4/e2/zz-link.txt"),
    )
    .unwrap();
    let large: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    fixture.write("large.bin", &large, 0o600);
    fixture.write(
        "Dockerfile",
        b"FROM local/busybox\nCOPY tree/ /app/tree/\nCOPY --chown=7:8 --chmod=640 tree /owned/\nCOPY large.bin /data/\nRUN cat /app/tree/d1/e1/f1.txt > /from-run\n",
        0o644,
    );
    fixture.build("fast:1");
    let saved = Saved::of(&fixture.env, "fast:1", &[]);
    let manifest = &saved.manifest;
    let layers: Vec<String> = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(layers.len(), 5, "base + 3 COPY + RUN: {layers:?}");

    // Uncompressed layers: the blob's name is the sha256 of its bytes.
    for layer in &layers {
        let bytes = fs::read(saved.directory.path().join(layer)).unwrap();
        let digest = strata_oci::Digest::of(&bytes);
        assert!(
            layer.contains(&digest.hex()),
            "{layer} is not named by its sha256"
        );
    }

    let copied = layer_files(&saved.directory.path().join(&layers[1]));
    assert_eq!(copied.len(), 150);
    assert_eq!(
        layer_links(&saved.directory.path().join(&layers[1])),
        vec![(
            "app/tree/d4/e2/zz-link.txt".to_owned(),
            "app/tree/d0/e0/f0.txt".to_owned()
        )]
    );
    let owned = layer_files(&saved.directory.path().join(&layers[2]));
    assert_eq!(owned.len(), 150);
    assert_eq!(
        layer_links(&saved.directory.path().join(&layers[2])).len(),
        1
    );
    for index in 0..150 {
        let relative = format!("d{}/e{}/f{index}.txt", index % 5, index % 3);
        let on_disk = fixture.context.path().join("tree").join(&relative);
        let metadata = fs::metadata(&on_disk).unwrap();
        let contents = fs::read(&on_disk).unwrap();
        let (mode, uid, gid, mtime, bytes) = &copied[&format!("app/tree/{relative}")];
        assert_eq!(*mode, metadata.mode() & 0o7777, "{relative}");
        assert_eq!((*uid, *gid), (0, 0), "{relative}");
        assert_eq!(*mtime, metadata.mtime() as u64, "{relative}");
        assert_eq!(bytes, &contents, "{relative}");
        let (mode, uid, gid, _, bytes) = &owned[&format!("owned/{relative}")];
        assert_eq!((*mode, *uid, *gid), (0o640, 7, 8), "{relative}");
        assert_eq!(bytes, &contents, "{relative}");
    }
    let data = layer_files(&saved.directory.path().join(&layers[3]));
    let (mode, _, _, _, bytes) = &data["data/large.bin"];
    assert_eq!(*mode, 0o600);
    assert!(bytes == &large, "the large file arrived whole");
    let run = layer_files(&saved.directory.path().join(&layers[4]));
    assert_eq!(run["from-run"].4, b"file 1\nfile 1\n".to_vec());

    // A no-op rebuild: every step cached, and nothing in the store rewritten.
    let index = fixture.env.root().join("images/index.json");
    let before = fs::metadata(&index).unwrap().ino();
    let again = fixture.build("fast:1");
    assert_eq!(
        again.lines().filter(|l| l.ends_with(" CACHED")).count(),
        4,
        "{again}"
    );
    assert_eq!(
        fs::metadata(&index).unwrap().ino(),
        before,
        "index.json was rewritten"
    );
}
