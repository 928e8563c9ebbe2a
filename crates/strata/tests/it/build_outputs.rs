//! `strata build --output/--push/--load`: OCI and docker archives (read by
//! skopeo, umoci and docker), the final file system as a directory or a tar,
//! stdout, and pushes to a real registry that pull back with gzip layers.

use std::io::Read;
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use strata_test::{Registry, needs_registry};

use crate::harness;
use crate::harness::Env;

/// A store with `local/busybox:latest` and a context whose Dockerfile adds a file.
struct Fixture {
    env: Env,
    context: tempfile::TempDir,
}

impl Fixture {
    fn new(test: &str) -> Option<Self> {
        let fixture = Self {
            env: Env::with_busybox(test)?,
            context: tempfile::tempdir().unwrap(),
        };
        std::fs::write(
            fixture.context.path().join("Dockerfile"),
            "FROM local/busybox:latest\nCOPY greeting.txt /greeting.txt\nRUN echo built > /built && ln -s greeting.txt /link\n",
        )
        .unwrap();
        std::fs::write(fixture.context.path().join("greeting.txt"), "hello\n").unwrap();
        Some(fixture)
    }

    fn build(&self, args: &[&str]) -> Output {
        self.env
            .command()
            .args(["build", "--progress=plain"])
            .args(args)
            .arg(self.context.path())
            .output()
            .unwrap()
    }

    fn build_ok(&self, args: &[&str]) -> Output {
        let output = self.build(args);
        assert!(
            output.status.success(),
            "build {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn metadata(&self, args: &[&str]) -> Value {
        let path = self.env.directory.as_path().join("metadata.json");
        let mut all = vec!["--metadata-file", path.to_str().unwrap()];
        all.extend_from_slice(args);
        self.build_ok(&all);
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }
}

/// The entries of a tar: path → (kind, contents of regular files).
fn tar_entries(bytes: &[u8]) -> Vec<(String, tar::EntryType, Vec<u8>)> {
    let mut archive = tar::Archive::new(bytes);
    let mut entries = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let kind = entry.header().entry_type();
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents).unwrap();
        entries.push((path, kind, contents));
    }
    entries
}

fn file_in<'a>(entries: &'a [(String, tar::EntryType, Vec<u8>)], path: &str) -> &'a [u8] {
    &entries
        .iter()
        .find(|(p, _, _)| p == path)
        .unwrap_or_else(|| panic!("{path} not in the archive"))
        .2
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

fn program(name: &str) -> bool {
    strata_test::find_program(name).is_some()
}

#[test]
fn archives_directories_and_tars() {
    let Some(fixture) = Fixture::new("archives_directories_and_tars") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let oci = out.path().join("image-oci.tar");
    let docker = out.path().join("image-docker.tar");
    let local = out.path().join("rootfs");
    let tar = out.path().join("rootfs.tar");
    let metadata = fixture.metadata(&[
        "-t",
        "outputs:1",
        "-o",
        &format!("type=oci,dest={}", oci.display()),
        "-o",
        &format!("type=docker,dest={}", docker.display()),
        "-o",
        &format!("type=local,dest={}", local.display()),
        "-o",
        &format!("type=tar,dest={}", tar.display()),
    ]);
    let config_digest = metadata["containerimage.config.digest"]
        .as_str()
        .unwrap()
        .to_owned();
    // Nothing but the outputs was written beside them.
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["image-docker.tar", "image-oci.tar", "rootfs", "rootfs.tar"]
    );

    // The OCI layout: one manifest named by the tag, gzip layers.
    let entries = tar_entries(&std::fs::read(&oci).unwrap());
    let index: Value = serde_json::from_slice(file_in(&entries, "index.json")).unwrap();
    let descriptor = &index["manifests"][0];
    assert_eq!(
        descriptor["annotations"]["org.opencontainers.image.ref.name"],
        "docker.io/library/outputs:1"
    );
    let manifest_digest = descriptor["digest"].as_str().unwrap();
    let manifest: Value = serde_json::from_slice(file_in(
        &entries,
        &format!("blobs/sha256/{}", &manifest_digest[7..]),
    ))
    .unwrap();
    assert_eq!(manifest["config"]["digest"], config_digest.as_str());
    for layer in manifest["layers"].as_array().unwrap() {
        assert_eq!(
            layer["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
        let blob = file_in(
            &entries,
            &format!("blobs/sha256/{}", &layer["digest"].as_str().unwrap()[7..]),
        );
        assert!(is_gzip(blob));
    }
    if program("skopeo") {
        let inspected = std::process::Command::new("skopeo")
            .args(["inspect", "--format", "{{.Digest}}"])
            .arg(format!("oci-archive:{}", oci.display()))
            .output()
            .unwrap();
        assert!(inspected.status.success(), "{inspected:?}");
        assert_eq!(
            String::from_utf8_lossy(&inspected.stdout).trim(),
            manifest_digest
        );
    }
    if program("umoci") {
        let layout = out.path().join("layout");
        std::fs::create_dir(&layout).unwrap();
        let unpacked = std::process::Command::new("tar")
            .arg("xf")
            .arg(&oci)
            .arg("-C")
            .arg(&layout)
            .status()
            .unwrap();
        assert!(unpacked.success());
        let listed = std::process::Command::new("umoci")
            .args(["ls", "--layout"])
            .arg(&layout)
            .output()
            .unwrap();
        assert!(listed.status.success(), "{listed:?}");
        assert_eq!(
            String::from_utf8_lossy(&listed.stdout).trim(),
            "docker.io/library/outputs:1"
        );
        let bundle = out.path().join("bundle");
        let unpacked = std::process::Command::new("umoci")
            .args(["unpack", "--image"])
            .arg(format!("{}:docker.io/library/outputs:1", layout.display()))
            .arg(&bundle)
            .output()
            .unwrap();
        assert!(unpacked.status.success(), "{unpacked:?}");
        assert_eq!(
            std::fs::read_to_string(bundle.join("rootfs/built")).unwrap(),
            "built\n"
        );
        std::fs::remove_dir_all(&layout).unwrap();
        std::fs::remove_dir_all(&bundle).unwrap();
    }

    // The docker archive: manifest.json with the tag, and the same image ID.
    let entries = tar_entries(&std::fs::read(&docker).unwrap());
    let manifest: Value = serde_json::from_slice(file_in(&entries, "manifest.json")).unwrap();
    assert_eq!(manifest[0]["RepoTags"], serde_json::json!(["outputs:1"]));
    assert_eq!(
        manifest[0]["Config"],
        format!("blobs/sha256/{}", &config_digest[7..])
    );
    for layer in manifest[0]["Layers"].as_array().unwrap() {
        assert!(is_gzip(file_in(&entries, layer.as_str().unwrap())));
    }

    // The file system as a directory and as a tar.
    assert_eq!(
        std::fs::read_to_string(local.join("greeting.txt")).unwrap(),
        "hello\n"
    );
    assert_eq!(
        std::fs::read_to_string(local.join("built")).unwrap(),
        "built\n"
    );
    assert_eq!(
        std::fs::read_link(local.join("link")).unwrap(),
        Path::new("greeting.txt")
    );
    assert!(local.join("bin/busybox").is_file());
    let entries = tar_entries(&std::fs::read(&tar).unwrap());
    assert_eq!(file_in(&entries, "built"), b"built\n");
    assert_eq!(file_in(&entries, "greeting.txt"), b"hello\n");
    assert!(
        entries
            .iter()
            .any(|(p, kind, _)| p == "link" && *kind == tar::EntryType::Symlink)
    );
    assert!(entries.iter().any(|(p, _, _)| p == "bin/busybox"));

    // -o replaces the image output: -t names nothing in the store (as docker).
    let images = fixture.env.ok(&["images", "--format", "{{.Repository}}"]);
    assert!(!images.contains("outputs"), "{images}");
    // ...unless an image output is asked for too.
    fixture.build_ok(&[
        "-t",
        "outputs:1",
        "-o",
        "type=image",
        "-o",
        &format!("type=tar,dest={}", tar.display()),
    ]);
    let images = fixture.env.ok(&["images", "--format", "{{.Repository}}"]);
    assert!(images.contains("outputs"), "{images}");
    fixture.env.assert_consistent();
}

#[test]
fn stdout_outputs_and_their_rules() {
    let Some(fixture) = Fixture::new("stdout_outputs_and_their_rules") else {
        return;
    };
    // `-o -`: the file system as a tar on stdout; -q prints no ID into it.
    let output = fixture.build_ok(&["-q", "-o", "-"]);
    let entries = tar_entries(&output.stdout);
    assert_eq!(file_in(&entries, "built"), b"built\n");
    // type=oci without dest: stdout too.
    let output = fixture.build_ok(&["-o", "type=oci"]);
    let entries = tar_entries(&output.stdout);
    assert!(entries.iter().any(|(p, _, _)| p == "index.json"));

    let failed = fixture.build(&["-o", "-", "-o", "type=tar"]);
    assert!(!failed.status.success());
    assert!(
        String::from_utf8_lossy(&failed.stderr)
            .contains("multiple outputs configured to write to stdout"),
        "{failed:?}"
    );
    let failed = fixture.build(&["-o", "type=local"]);
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("dest is required for local exporter"),
        "{failed:?}"
    );
    let failed = fixture.build(&["--push"]);
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("tag is needed when pushing to registry"),
        "{failed:?}"
    );
    // A failing build leaves no half-written file.
    let out = tempfile::tempdir().unwrap();
    std::fs::write(
        fixture.context.path().join("Dockerfile"),
        "FROM local/busybox:latest\nRUN exit 3\n",
    )
    .unwrap();
    let failed = fixture.build(&[
        "-o",
        &format!("type=oci,dest={}/x.tar", out.path().display()),
    ]);
    assert!(!failed.status.success());
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn load_into_docker() {
    let Some(fixture) = Fixture::new("load_into_docker") else {
        return;
    };
    if !harness::docker_daemon("load_into_docker") {
        return;
    }
    let name = format!("strata-test-load:{}", std::process::id());
    let metadata = fixture.metadata(&["-t", &name, "--load"]);
    let inspected = std::process::Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", &name])
        .output()
        .unwrap();
    let _ = std::process::Command::new("docker")
        .args(["rmi", &name])
        .output();
    assert!(inspected.status.success(), "{inspected:?}");
    assert_eq!(
        String::from_utf8_lossy(&inspected.stdout).trim(),
        metadata["containerimage.config.digest"]
    );
}

#[test]
fn push_sends_gzip_layers_once() {
    let Some(fixture) = Fixture::new("push_sends_gzip_layers_once") else {
        return;
    };
    if !needs_registry("push_sends_gzip_layers_once") {
        return;
    }
    let registry = Registry::start();
    let name = format!("{}/app/built:1", registry.host());
    let metadata = fixture.metadata(&["-t", &name, "--push"]);
    let pushed_digest = metadata["containerimage.digest"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        metadata["containerimage.descriptor"]["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );

    // What the registry has: a Docker manifest over gzip layers, and the
    // image's configuration unchanged.
    let raw = harness::skopeo_raw_bytes(&["--tls-verify=false"], &format!("docker://{name}"));
    assert_eq!(strata_oci::Digest::of(&raw).to_string(), pushed_digest);
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        manifest["config"]["digest"],
        metadata["containerimage.config.digest"]
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3);
    for layer in layers {
        assert_eq!(
            layer["mediaType"],
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        );
        let digest: strata_oci::Digest = layer["digest"].as_str().unwrap().parse().unwrap();
        let blob = std::fs::read(registry.blob_data_path(&digest)).unwrap();
        assert!(is_gzip(&blob));
        assert_eq!(blob.len() as u64, layer["size"].as_u64().unwrap());
    }

    // It pulls back into another store as the same image.
    let other = Env::new();
    other.ok(&["pull", &name]);
    let id = other.ok(&["images", "--no-trunc", "--format", "{{.ID}}", &name]);
    assert_eq!(id.trim(), metadata["containerimage.config.digest"]);
    let inspected: Value = serde_json::from_str(&other.ok(&["inspect", &name])).unwrap();
    assert!(
        inspected[0]["RepoDigests"][0]
            .as_str()
            .unwrap()
            .ends_with(&pushed_digest)
    );

    // A second push (strata push, or build --push) compresses nothing: no
    // new blob appears in the store, and the registry has every layer.
    let blobs = |env: &Env| {
        std::fs::read_dir(env.root().join("images/blobs/sha256"))
            .unwrap()
            .count()
    };
    let before = blobs(&fixture.env);
    let again = fixture
        .env
        .command()
        .args(["push", &name])
        .output()
        .unwrap();
    assert!(again.status.success(), "{again:?}");
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.contains(&pushed_digest), "{stdout}");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(
        stderr.matches("Layer already exists").count(),
        3,
        "{stderr}"
    );
    let rebuilt = fixture.build_ok(&["-t", &name, "--push"]);
    let progress = String::from_utf8_lossy(&rebuilt.stderr);
    assert!(!progress.contains("compressing"), "{progress}");
    assert!(
        progress.contains(&format!("pushing manifest for {name}@{pushed_digest} done")),
        "{progress}"
    );
    assert_eq!(blobs(&fixture.env), before);
    fixture.env.assert_consistent();
}
