//! `strata builder prune`: the build cache goes, named images (and the
//! unpacked snapshots of their layers) stay. The cold runs of the build
//! benchmark depend on it.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

use crate::harness::{Env, text};

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
        fs::write(fixture.context.path().join("a.txt"), "a\n").unwrap();
        fs::write(
            fixture.context.path().join("Dockerfile"),
            "FROM local/busybox\nCOPY a.txt /\nRUN echo built > /b.txt\n",
        )
        .unwrap();
        // Files of the current second are not cached (racy): age them.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        Some(fixture)
    }

    fn strata(&self) -> Command {
        self.env.command()
    }

    /// Builds `-t app:1`; the plain progress output.
    fn build(&self) -> String {
        let output = self
            .strata()
            .args(["build", "--progress=plain", "-t", "app:1"])
            .arg(self.context.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stderr)
    }

    /// Runs `strata ARGS...`, asserting success; its stdout.
    fn run(&self, args: &[&str]) -> String {
        let output = self.strata().args(args).output().unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout)
    }

    fn cache_records(&self) -> usize {
        fs::read_dir(self.env.root().join("cache"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count()
    }

    fn snapshots(&self) -> PathBuf {
        self.env.root().join("areas/snapshots/overlay/layers")
    }

    fn area_entries(&self, name: &str) -> usize {
        let path = self.env.root().join("areas").join(name);
        fs::read_dir(path).map(|d| d.count()).unwrap_or(0)
    }
}

fn cached_steps(progress: &str) -> usize {
    progress.lines().filter(|l| l.ends_with(" CACHED")).count()
}

fn inodes(directory: &Path) -> Vec<(String, u64)> {
    let mut all: Vec<(String, u64)> = fs::read_dir(directory)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().ino(),
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn builder_prune_empties_the_build_cache_and_keeps_named_images() {
    let Some(fixture) = Fixture::new("builder prune") else {
        return;
    };
    let first = fixture.build();
    assert_eq!(cached_steps(&first), 0, "{first}");
    assert_eq!(fixture.cache_records(), 2);
    assert!(fixture.area_entries("context-cache") > 0);

    // Without --all, steps a named image uses stay cached.
    let kept = fixture.run(&["builder", "prune"]);
    assert!(kept.contains("Total reclaimed space:"), "{kept}");
    assert!(!kept.contains("Deleted build cache objects:"), "{kept}");
    assert_eq!(fixture.cache_records(), 2);
    assert_eq!(
        fixture.area_entries("context-cache"),
        0,
        "context caches always go"
    );
    assert_eq!(cached_steps(&fixture.build()), 2);

    // Once no name uses them they are dangling and go.
    fixture.run(&["rmi", "app:1"]);
    let dangling = fixture.run(&["builder", "prune"]);
    assert!(
        dangling.starts_with("Deleted build cache objects:\n"),
        "{dangling}"
    );
    assert_eq!(
        dangling.lines().count(),
        5,
        "two ids, a blank, the total: {dangling}"
    );
    assert_eq!(fixture.cache_records(), 0);
    // Only the base image's unpacked layer is left.
    assert_eq!(fs::read_dir(fixture.snapshots()).unwrap().count(), 1);
    let rebuilt = fixture.build();
    assert_eq!(cached_steps(&rebuilt), 0, "{rebuilt}");

    // --all: every record, even of named images; the images themselves stay.
    let before = inodes(&fixture.snapshots());
    assert_eq!(before.len(), 3, "base, COPY and RUN layers");
    fixture.run(&["builder", "prune", "--all", "--force"]);
    assert_eq!(fixture.cache_records(), 0);
    assert_eq!(fixture.area_entries("builds"), 0);
    let images = fixture.run(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(images, "app:1\nlocal/busybox:latest\n");
    fixture.run(&["inspect", "app:1"]);
    // The named images' snapshots were not removed and unpacked again.
    assert_eq!(inodes(&fixture.snapshots()), before);
    let cold = fixture.build();
    assert_eq!(cached_steps(&cold), 0, "{cold}");
    assert!(
        cold.contains("cache miss: first build of this step"),
        "{cold}"
    );
    // The base and COPY layers are the same snapshots again; the RUN layer is
    // too unless the step ran in another second (its file times differ).
    let after = inodes(&fixture.snapshots());
    for layer in &before {
        assert!(after.contains(layer), "{layer:?} was replaced: {after:?}");
    }
    assert!(after.len() <= before.len() + 1, "{after:?}");
}
