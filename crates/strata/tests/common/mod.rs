//! Shared helpers for the end-to-end tests: a store, a Docker config
//! directory and the `strata` binary pointed at them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use strata_oci::{ContainerConfig, Digest, Empty, Healthcheck};
use strata_test::{Registry, TestImage};

/// A temporary store and Docker config for one test.
pub(crate) struct Env {
    pub(crate) directory: tempfile::TempDir,
}

impl Env {
    pub(crate) fn new() -> Self {
        Self {
            directory: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.directory.path().join("root")
    }

    pub(crate) fn docker_config(&self) -> PathBuf {
        self.directory.path().join("docker")
    }

    /// `strata` with `--root` and `DOCKER_CONFIG` set to this environment.
    pub(crate) fn command(&self) -> assert_cmd::Command {
        let mut command = assert_cmd::Command::cargo_bin("strata").unwrap();
        command
            .env("STRATA_ROOT", self.root())
            .env("DOCKER_CONFIG", self.docker_config())
            .env("NO_COLOR", "1")
            .env_remove("SOURCE_DATE_EPOCH")
            .env_remove("STRATA_INSECURE_REGISTRIES");
        command
    }

    /// An environment whose store holds `local/busybox:latest` (Debian's
    /// static busybox, `CMD ["/bin/sh"]`, imported at `SOURCE_DATE_EPOCH=0`);
    /// `None`, after a loud skip, when this machine cannot run build steps.
    pub(crate) fn with_busybox(test: &str) -> Option<Self> {
        if !strata_test::should_run_as_root(test) {
            return None;
        }
        let env = Self::new();
        let output = env
            .command()
            .env("SOURCE_DATE_EPOCH", "0")
            .args(["import", "-c", "CMD [\"/bin/sh\"]"])
            .arg(strata_test::busybox_rootfs())
            .arg("local/busybox:latest")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "import: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Some(env)
    }

    /// Runs strata with `args`; asserts success; returns stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "strata {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs strata with `args`; returns the whole output.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Checks the store's invariants: every blob hashes to its name, every
    /// ref reaches only present blobs, nothing half-written is visible.
    pub(crate) fn assert_consistent(&self) {
        assert_store_consistent(&self.root());
    }
}

impl Drop for Env {
    /// Removes the containers a test left behind (passed or failed), so that
    /// no process, mount or pasta outlives it.
    fn drop(&mut self) {
        if !self.root().join("areas/containers").is_dir() {
            return;
        }
        let Ok(listed) = self.command().args(["ps", "-aq", "--no-trunc"]).output() else {
            return;
        };
        let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        if !ids.is_empty() {
            let _ = self.command().args(["rm", "-f", "-v"]).args(&ids).output();
        }
    }
}

pub(crate) fn assert_store_consistent(root: &Path) {
    let blobs = root.join("images/blobs/sha256");
    for entry in std::fs::read_dir(&blobs).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let bytes = std::fs::read(entry.path()).unwrap();
        assert_eq!(
            Digest::of(&bytes).hex(),
            name,
            "blob {name} does not match its digest"
        );
    }
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("images/index.json")).unwrap()).unwrap();
    // Refs, and the manifests of the indexes they name (an image with attestations).
    let mut manifests = index["manifests"].as_array().unwrap().clone();
    while let Some(manifest) = manifests.pop() {
        let digest: Digest = manifest["digest"].as_str().unwrap().parse().unwrap();
        let bytes = std::fs::read(blobs.join(digest.hex())).unwrap_or_else(|_| {
            panic!("ref {} points at missing {digest}", manifest["annotations"])
        });
        let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if let Some(children) = parsed["manifests"].as_array() {
            manifests.extend(children.iter().cloned());
            continue;
        }
        let mut needed = vec![parsed["config"]["digest"].as_str().unwrap().to_owned()];
        for layer in parsed["layers"].as_array().unwrap() {
            needed.push(layer["digest"].as_str().unwrap().to_owned());
        }
        for digest in needed {
            let digest: Digest = digest.parse().unwrap();
            assert!(
                blobs.join(digest.hex()).is_file(),
                "ref reaches missing blob {digest}"
            );
        }
    }
}

pub(crate) fn needs_registry(test: &str) -> bool {
    strata_test::should_run(test, Registry::available(), "the docker-registry package")
}

/// An image whose config uses every field `docker inspect` shows.
pub(crate) fn full_config_image() -> TestImage {
    let config = ContainerConfig {
        user: "app".into(),
        exposed_ports: [
            ("80/tcp".to_owned(), Empty {}),
            ("53/udp".to_owned(), Empty {}),
        ]
        .into(),
        env: Some(vec!["PATH=/usr/bin:/bin".into(), "MODE=test".into()]),
        entrypoint: Some(vec!["/entry.sh".into()]),
        cmd: Some(vec!["serve".into(), "--port=80".into()]),
        volumes: [("/data".to_owned(), Empty {})].into(),
        working_dir: "/srv".into(),
        labels: [
            ("org.example.team".to_owned(), "images".to_owned()),
            ("version".to_owned(), "1.2".to_owned()),
        ]
        .into(),
        stop_signal: "SIGQUIT".into(),
        args_escaped: false,
        healthcheck: Some(Healthcheck {
            test: vec![
                "CMD-SHELL".into(),
                "curl -f http://localhost/ || exit 1".into(),
            ],
            interval: 30_000_000_000,
            timeout: 5_000_000_000,
            retries: 3,
            ..Healthcheck::default()
        }),
        on_build: vec!["RUN echo child".into()],
        shell: vec!["/bin/bash".into(), "-c".into()],
    };
    TestImage::builder()
        .platform("linux/amd64")
        .created("2024-01-02T03:04:05Z")
        .layer(&[
            ("etc/os-release", b"ID=strata-test\n"),
            ("srv/index.html", b"<h1>hello</h1>\n"),
        ])
        .layer(&[("entry.sh", b"#!/bin/sh\nexec \"$@\"\n")])
        .config(config)
        .build()
}

/// Replaces what varies between runs: the registry port, digests, relative times.
pub(crate) fn redact(text: &str, registry: &str) -> String {
    let mut out = text.replace(registry, "[REGISTRY]");
    // sha256 digests (full) and short IDs.
    let mut result = String::with_capacity(out.len());
    let bytes = out.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if out[index..].starts_with("sha256:")
            && bytes.len() >= index + 71
            && out[index + 7..index + 71]
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        {
            result.push_str("sha256:[DIGEST]");
            index += 71;
            continue;
        }
        result.push(bytes[index] as char);
        index += 1;
    }
    out = result;
    for unit in [
        "seconds", "second", "minutes", "hours", "days", "weeks", "months", "years",
    ] {
        // "2 years ago" → "[N] years ago" → "[AGO]"
        let mut replaced = String::new();
        let mut rest = out.as_str();
        while let Some(position) = rest.find(&format!(" {unit} ago")) {
            let before = &rest[..position];
            let start = before
                .rfind(|c: char| !c.is_ascii_digit())
                .map_or(0, |p| p + 1);
            replaced.push_str(&before[..start]);
            replaced.push_str("[AGO]");
            rest = &rest[position + unit.len() + 5..];
        }
        replaced.push_str(rest);
        out = replaced;
    }
    for phrase in [
        "Less than a second ago",
        "About a minute ago",
        "About an hour ago",
    ] {
        out = out.replace(phrase, "[AGO]");
    }
    out
}
