//! Support for the guide's tests (guide.rs, guide_debian.rs): a store with
//! local stand-ins for the images the guide names (busybox-based, or the
//! Debian minbase tree), built by strata itself from fixtures/, and ways to
//! look at what a build made.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The guide's text (../shared/guide/dockerfile-guide.txt), when present.
pub(crate) fn guide_text() -> Option<String> {
    let path = strata_test::shared_dir().join("guide/dockerfile-guide.txt");
    fs::read_to_string(path).ok()
}

/// Asserts that every line of `dockerfile` is a line of the guide (so the
/// tests build the guide's text, not a paraphrase). `added` lines are ones
/// the test had to add (a FROM before a fragment), exempt from the check.
/// Without the guide beside the workspace the check is skipped, loudly.
pub(crate) fn assert_from_guide(dockerfile: &str, added: &[&str]) {
    use std::io::Write;
    let Some(guide) = guide_text() else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED checking Dockerfiles against the guide: ../shared/guide/dockerfile-guide.txt not found"
        );
        return;
    };
    let lines: Vec<&str> = guide.lines().map(str::trim_end).collect();
    for line in dockerfile.lines() {
        if line.trim().is_empty() || added.contains(&line) {
            continue;
        }
        assert!(
            lines.contains(&line.trim_end()),
            "not a line of the guide: {line:?}"
        );
    }
}

/// A file in an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct File {
    /// `d`, `f`, `l` (symlink), `o` (other).
    pub(crate) kind: char,
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    pub(crate) content: Vec<u8>,
    /// A symlink's target.
    pub(crate) link: String,
}

/// A store with the guide's stand-in images, and a work directory.
pub(crate) struct Guide {
    pub(crate) store: PathBuf,
    pub(crate) work: PathBuf,
    _temporary: Vec<tempfile::TempDir>,
}

impl Guide {
    /// An empty store in a temporary directory.
    pub(crate) fn empty() -> Guide {
        let store = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        Guide {
            store: store.path().to_path_buf(),
            work: work.path().to_path_buf(),
            _temporary: vec![store, work],
        }
    }

    /// An empty store in `directory` (emptied first), kept afterwards: for
    /// a store the tests of one process share.
    pub(crate) fn at(directory: &Path) -> Guide {
        let _ = fs::remove_dir_all(directory);
        let guide = Guide {
            store: directory.join("store"),
            work: directory.join("work"),
            _temporary: Vec::new(),
        };
        fs::create_dir_all(&guide.store).unwrap();
        fs::create_dir_all(&guide.work).unwrap();
        guide
    }

    pub(crate) fn strata(&self) -> Command {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("strata"));
        command
            .env("STRATA_ROOT", &self.store)
            .env("NO_COLOR", "1")
            .env_remove("SOURCE_DATE_EPOCH");
        command
    }

    /// Runs strata, asserting success; its stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.strata().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "strata {args:?}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Imports `tree` as `name` (SOURCE_DATE_EPOCH=0).
    pub(crate) fn import(&self, tree: &Path, name: &str) {
        let output = self
            .strata()
            .env("SOURCE_DATE_EPOCH", "0")
            .arg("import")
            .arg(tree)
            .arg(name)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "import {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Loads `tree` as image `name` through a docker archive made with tar
    /// and sha256sum: for a big tree, much faster than `strata import` in a
    /// debug build (which gzips the layer).
    pub(crate) fn load_tree(&self, tree: &Path, name: &str) {
        let directory = tempfile::tempdir_in(&self.work).unwrap();
        let run = |command: &mut Command| {
            let output = command.output().unwrap();
            assert!(
                output.status.success(),
                "{command:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout).into_owned()
        };
        let layer = directory.path().join("layer.tar");
        run(Command::new("tar")
            .args(["--numeric-owner", "-C"])
            .arg(tree)
            .arg("-cf")
            .arg(&layer)
            .arg("."));
        let sha256 = |path: &Path| {
            run(Command::new("sha256sum").arg(path))
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned()
        };
        let architecture = strata_oci::Platform::host().architecture;
        let config = serde_json::json!({
            "architecture": architecture,
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha256(&layer))]},
            "history": [{"created": "1970-01-01T00:00:00Z", "comment": format!("loaded from {}", tree.display())}]
        });
        let config_path = directory.path().join("config.json");
        fs::write(&config_path, config.to_string()).unwrap();
        let config_name = format!("{}.json", sha256(&config_path));
        fs::rename(&config_path, directory.path().join(&config_name)).unwrap();
        let manifest = serde_json::json!([{"Config": config_name, "RepoTags": [name], "Layers": ["layer.tar"]}]);
        fs::write(directory.path().join("manifest.json"), manifest.to_string()).unwrap();
        let archive = directory.path().join("image.tar");
        run(Command::new("tar")
            .arg("-C")
            .arg(directory.path())
            .arg("-cf")
            .arg(&archive)
            .args(["manifest.json", &config_name, "layer.tar"]));
        self.ok(&["load", "-q", "-i", archive.to_str().unwrap()]);
    }

    /// A fresh context directory `name` with `files` (path, content) in it.
    pub(crate) fn context(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let directory = self.work.join(name);
        let _ = fs::remove_dir_all(&directory);
        fs::create_dir_all(&directory).unwrap();
        for (path, content) in files {
            let path = directory.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        directory
    }

    /// Builds `context` with `args` (its Dockerfile is `dockerfile` when given).
    pub(crate) fn build(&self, context: &Path, dockerfile: Option<&str>, args: &[&str]) -> Output {
        if let Some(dockerfile) = dockerfile {
            fs::write(context.join("Dockerfile"), dockerfile).unwrap();
        }
        self.strata()
            .current_dir(context)
            .args(["build", "--progress=plain"])
            .args(args)
            .arg(context)
            .output()
            .unwrap()
    }

    /// Builds, asserting success; the build's output (stderr).
    pub(crate) fn build_ok(
        &self,
        context: &Path,
        dockerfile: Option<&str>,
        args: &[&str],
    ) -> String {
        let output = self.build(context, dockerfile, args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "build failed:\n{stderr}");
        stderr
    }

    /// The fixture images: builds `dockerfile` over fixtures/ as `tags`.
    pub(crate) fn fixture_image(&self, dockerfile: &str, tags: &[&str]) {
        let context = self.work.join("fixture-context");
        let _ = fs::remove_dir_all(&context);
        fs::create_dir_all(context.join("fixtures")).unwrap();
        strata_test::copy_tree(&fixtures_dir(), &context.join("fixtures"));
        let mut args = Vec::new();
        for tag in tags {
            args.extend(["-t", *tag]);
        }
        self.build_ok(&context, Some(dockerfile), &args);
    }

    /// `strata inspect`'s object for `image`.
    pub(crate) fn inspect(&self, image: &str) -> Value {
        let mut all: Value = serde_json::from_str(&self.ok(&["inspect", image])).unwrap();
        all[0].take()
    }

    /// The image's config (`Config` of inspect).
    pub(crate) fn config(&self, image: &str) -> Value {
        self.inspect(image)["Config"].clone()
    }

    /// The image's history, `created_by` of each entry, oldest first, and
    /// whether it made a layer.
    pub(crate) fn history(&self, image: &str) -> Vec<(String, bool)> {
        let (config, _) = self.saved(image);
        config["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["created_by"].as_str().unwrap_or("").to_owned(),
                    !h["empty_layer"].as_bool().unwrap_or(false),
                )
            })
            .collect()
    }

    /// The image's configuration and its layers (tar bytes), from `strata save`.
    pub(crate) fn saved(&self, image: &str) -> (Value, Vec<Vec<u8>>) {
        let archive = tempfile::Builder::new()
            .suffix(".tar")
            .tempfile_in(&self.work)
            .unwrap();
        self.ok(&["save", "-o", archive.path().to_str().unwrap(), image]);
        let mut members: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut tar = tar::Archive::new(fs::File::open(archive.path()).unwrap());
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            members.insert(name, data);
        }
        let manifest: Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
        let config: Value =
            serde_json::from_slice(&members[manifest[0]["Config"].as_str().unwrap()]).unwrap();
        let layers = manifest[0]["Layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| members[l.as_str().unwrap()].clone())
            .collect();
        (config, layers)
    }

    /// The image's final file system: its layers applied in order.
    pub(crate) fn files(&self, image: &str) -> BTreeMap<String, File> {
        let (_, layers) = self.saved(image);
        let mut files: BTreeMap<String, File> = BTreeMap::new();
        for layer in layers {
            let reader: Box<dyn Read> = if layer.starts_with(&[0x1f, 0x8b]) {
                Box::new(flate2::read::GzDecoder::new(&layer[..]))
            } else {
                Box::new(&layer[..])
            };
            let mut tar = tar::Archive::new(reader);
            for entry in tar.entries().unwrap() {
                let mut entry = entry.unwrap();
                let raw = entry.path().unwrap().to_string_lossy().into_owned();
                let name = raw.trim_start_matches("./").trim_matches('/').to_owned();
                let (parent, base) = match name.rsplit_once('/') {
                    Some((parent, base)) => (format!("{parent}/"), base.to_owned()),
                    None => (String::new(), name.clone()),
                };
                if base == ".wh..wh..opq" {
                    files.retain(|path, _| !path.starts_with(&parent));
                    continue;
                }
                if let Some(hidden) = base.strip_prefix(".wh.") {
                    let victim = format!("{parent}{hidden}");
                    files.retain(|path, _| {
                        path != &victim && !path.starts_with(&format!("{victim}/"))
                    });
                    continue;
                }
                let header = entry.header().clone();
                let kind = match header.entry_type() {
                    tar::EntryType::Directory => 'd',
                    tar::EntryType::Symlink => 'l',
                    tar::EntryType::Regular | tar::EntryType::Link => 'f',
                    _ => 'o',
                };
                let mut content = Vec::new();
                let mut link = String::new();
                if header.entry_type() == tar::EntryType::Link {
                    let target = entry.link_name().unwrap().unwrap_or_default();
                    let target = target.to_string_lossy().trim_start_matches("./").to_owned();
                    content = files
                        .get(&target)
                        .map(|f| f.content.clone())
                        .unwrap_or_default();
                } else if kind == 'f' {
                    entry.read_to_end(&mut content).unwrap();
                } else if kind == 'l' {
                    link = entry
                        .link_name()
                        .unwrap()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned();
                }
                if name.is_empty() {
                    continue;
                }
                files.insert(
                    name,
                    File {
                        kind,
                        mode: header.mode().unwrap() & 0o7777,
                        uid: header.uid().unwrap(),
                        gid: header.gid().unwrap(),
                        content,
                        link,
                    },
                );
            }
        }
        files
    }

    /// The text of file `path` in `image`.
    pub(crate) fn read(&self, image: &str, path: &str) -> String {
        let files = self.files(image);
        let file = files
            .get(path)
            .unwrap_or_else(|| panic!("{image} has no {path}"));
        String::from_utf8_lossy(&file.content).into_owned()
    }
}

/// tests/guide/fixtures: the stand-in programs.
pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guide/fixtures")
}

/// The steps of a build (`#N [...] NAME` lines, FROM excluded) and whether
/// the cache served them.
pub(crate) fn steps(progress: &str) -> Vec<(String, bool)> {
    let mut steps: Vec<(String, bool)> = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for line in progress.lines() {
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        let Some((number, text)) = rest.split_once(' ') else {
            continue;
        };
        let is_step =
            text.starts_with('[') && !text.starts_with("[internal]") && !text.contains("] FROM ");
        if is_step && !names.contains_key(number) {
            names.insert(number.to_owned(), text.to_owned());
            steps.push((text.to_owned(), false));
        } else if text == "CACHED"
            && let Some(name) = names.get(number)
            && let Some(step) = steps.iter_mut().find(|(n, _)| n == name)
        {
            step.1 = true;
        }
    }
    steps
}
