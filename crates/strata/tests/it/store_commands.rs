//! The store under stress: pulls killed at random points, concurrent pulls,
//! prune and `system df`.

use std::process::{Command, Stdio};
use std::time::Duration;

use strata_test::{Registry, TestImage, needs_registry};

use crate::harness::{Env, assert_store_consistent};

#[test]
fn a_pull_killed_at_any_point_leaves_a_consistent_store() {
    if !needs_registry("a_pull_killed_at_any_point_leaves_a_consistent_store") {
        return;
    }
    let registry = Registry::start();
    let host = registry.host();
    let image = TestImage::builder()
        .random_layer("a.bin", 4 << 20, 11)
        .random_layer("b.bin", 4 << 20, 12)
        .random_layer("c.bin", 4 << 20, 13)
        .build();
    let name = format!("{host}/kill/app:v1");
    image.push_with_skopeo(&name, None);
    let env = Env::new();
    let binary = assert_cmd::cargo::cargo_bin("strata");
    // A small deterministic generator: the delays vary, the test is repeatable.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut completed = 0;
    for round in 0..20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let delay = Duration::from_millis(state % 400);
        let mut child = Command::new(&binary)
            .args(["pull", "-q", &name])
            .env("STRATA_ROOT", env.root())
            .env("DOCKER_CONFIG", env.docker_config())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        if status.success() {
            completed += 1;
        }
        if env.root().join("images/index.json").exists() {
            assert_store_consistent(&env.root());
        }
        // Each round leaves the store as a killed process left it; remove the ref
        // now and then so later rounds download again.
        if round % 3 == 2 {
            let _ = env.run(&["rmi", &name]);
        }
    }
    eprintln!("{completed} of 20 pulls finished before the kill");
    env.ok(&["pull", &name]);
    assert_eq!(
        env.ok(&["inspect", "-f", "{{.Id}}", &name]).trim(),
        image.config_digest.to_string()
    );
    env.assert_consistent();
    // Prune removes what the killed pulls left (temporary files, unreferenced blobs) and keeps the image.
    env.ok(&["prune"]);
    assert_eq!(
        std::fs::read_dir(env.root().join("tmp")).unwrap().count(),
        0
    );
    env.assert_consistent();
    assert_eq!(
        env.ok(&["inspect", "-f", "{{.Id}}", &name]).trim(),
        image.config_digest.to_string()
    );
}

#[test]
fn concurrent_pulls_share_one_store() {
    if !needs_registry("concurrent_pulls_share_one_store") {
        return;
    }
    let registry = Registry::start();
    let host = registry.host();
    let images: Vec<TestImage> = (0..3)
        .map(|seed| {
            TestImage::builder()
                .random_layer("shared.bin", 1 << 20, 99)
                .random_layer("own.bin", 1 << 20, seed)
                .build()
        })
        .collect();
    for (index, image) in images.iter().enumerate() {
        image.push_with_skopeo(&format!("{host}/many/app{index}:v1"), None);
    }
    let env = Env::new();
    let binary = assert_cmd::cargo::cargo_bin("strata");
    let children: Vec<_> = (0..3)
        .map(|index| {
            Command::new(&binary)
                .args(["pull", "-q", &format!("{host}/many/app{index}:v1")])
                .env("STRATA_ROOT", env.root())
                .env("DOCKER_CONFIG", env.docker_config())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(env.ok(&["images", "-q"]).lines().count(), 3);
    env.assert_consistent();
}

#[test]
fn prune_and_system_df() {
    let source = tempfile::tempdir().unwrap();
    std::fs::write(source.path().join("data"), vec![7u8; 50_000]).unwrap();
    let env = Env::new();
    env.ok(&["import", source.path().to_str().unwrap(), "keep:v1"]);
    std::fs::write(source.path().join("data"), vec![8u8; 50_000]).unwrap();
    env.ok(&["import", source.path().to_str().unwrap(), "drop:v1"]);
    let df = env.ok(&["system", "df"]);
    assert!(
        df.starts_with(
            "TYPE          TOTAL     ACTIVE    SIZE      RECLAIMABLE\nImages        2         2"
        ),
        "{df}"
    );
    // rmi untags; with no other process holding the store the content goes at once.
    let removed = env.ok(&["rmi", "drop:v1"]);
    assert!(
        removed.starts_with("Untagged: drop:v1\nDeleted: sha256:"),
        "{removed}"
    );
    let pruned = env.ok(&["prune"]);
    assert!(pruned.ends_with("Total reclaimed space: 0B\n"), "{pruned}");
    // A leftover temporary file (as a killed write leaves) goes with the
    // next command that finds the store idle.
    std::fs::write(env.root().join("tmp/ingest-1-1"), vec![0u8; 2000]).unwrap();
    let df = env.ok(&["system", "df"]);
    assert!(!env.root().join("tmp/ingest-1-1").exists(), "{df}");
    let pruned = env.ok(&["prune"]);
    assert!(pruned.ends_with("Total reclaimed space: 0B\n"), "{pruned}");
    assert_eq!(
        env.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]),
        "keep:v1\n"
    );
    env.assert_consistent();
    let missing = env.run(&["rmi", "nosuch"]);
    assert!(!missing.status.success());
    insta::assert_snapshot!("rmi_missing", String::from_utf8_lossy(&missing.stderr));
}
