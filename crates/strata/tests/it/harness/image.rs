//! Images in and out of an [`Env`]: imported trees, fixture images, and what
//! `inspect` and `save` show of them.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{Env, fixtures_dir};

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

impl Env {
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
        let directory = tempfile::tempdir_in(self.work()).unwrap();
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

    /// The fixture images: builds `dockerfile` over fixtures/ as `tags`.
    pub(crate) fn fixture_image(&self, dockerfile: &str, tags: &[&str]) {
        let context = self.work().join("fixture-context");
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
        let saved = Saved::of(self, image, &[]);
        let config = serde_json::from_str(&saved.config_text()).unwrap();
        let layers = saved
            .layers()
            .iter()
            .map(|l| fs::read(l).unwrap())
            .collect();
        (config, layers)
    }

    /// The image's final file system: its layers applied in order.
    pub(crate) fn files(&self, image: &str) -> BTreeMap<String, File> {
        let saved = Saved::of(self, image, &[]);
        let mut files: BTreeMap<String, File> = BTreeMap::new();
        for layer in saved.layers() {
            let mut tar = layer_archive(&layer);
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

/// An image as `strata save` wrote it, unpacked: the archive's members in a
/// directory, its `manifest.json`, and (on first use) its file system.
pub(crate) struct Saved {
    pub(crate) directory: tempfile::TempDir,
    pub(crate) manifest: Value,
    rootfs: std::sync::OnceLock<tempfile::TempDir>,
}

impl Saved {
    /// `strata save IMAGE` (with `flags`, e.g. `--platform`) from `env`, unpacked.
    pub(crate) fn of(env: &Env, image: &str, flags: &[&str]) -> Saved {
        let directory = tempfile::tempdir_in(env.work()).unwrap();
        let archive = directory.path().join("image.tar");
        let mut args = vec!["save", "-o", archive.to_str().unwrap()];
        args.extend(flags);
        args.push(image);
        env.ok(&args);
        tar::Archive::new(fs::File::open(&archive).unwrap())
            .unpack(directory.path())
            .unwrap();
        fs::remove_file(&archive).unwrap();
        let manifest = fs::read(directory.path().join("manifest.json")).unwrap();
        Saved {
            manifest: serde_json::from_slice(&manifest).unwrap(),
            directory,
            rootfs: std::sync::OnceLock::new(),
        }
    }

    /// The image configuration's text.
    pub(crate) fn config_text(&self) -> String {
        let name = self.manifest[0]["Config"].as_str().unwrap();
        fs::read_to_string(self.directory.path().join(name)).unwrap()
    }

    /// The layers' files, lowest first.
    pub(crate) fn layers(&self) -> Vec<PathBuf> {
        self.manifest[0]["Layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|layer| self.directory.path().join(layer.as_str().unwrap()))
            .collect()
    }

    /// Every layer's entry names, lowest layer first.
    pub(crate) fn entries(&self) -> Vec<String> {
        let mut names = Vec::new();
        for layer in self.layers() {
            for entry in layer_archive(&layer).entries().unwrap() {
                names.push(
                    entry
                        .unwrap()
                        .path()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
        names
    }

    /// Whether the config or a layer's entry names mention `text`.
    pub(crate) fn mentions(&self, text: &str) -> bool {
        self.config_text().contains(text) || self.entries().iter().any(|e| e.contains(text))
    }

    /// Whether the config, a layer's entry names or a file's bytes hold `needle`.
    pub(crate) fn holds(&self, needle: &[u8]) -> bool {
        let found = |bytes: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        if found(self.config_text().as_bytes()) {
            return true;
        }
        self.layers().iter().any(|layer| {
            layer_archive(layer).entries().unwrap().any(|entry| {
                let mut entry = entry.unwrap();
                let mut bytes = entry.path_bytes().into_owned();
                entry.read_to_end(&mut bytes).unwrap();
                found(&bytes)
            })
        })
    }

    /// The image's file system: its layers applied in order, whiteouts
    /// included, owners and modes kept.
    pub(crate) fn rootfs(&self) -> &Path {
        self.rootfs
            .get_or_init(|| {
                let target = tempfile::tempdir().unwrap();
                for layer in self.layers() {
                    apply_layer(layer_archive(&layer), target.path());
                }
                target
            })
            .path()
    }

    /// The text of `path` in the image's file system.
    pub(crate) fn file(&self, path: &str) -> String {
        fs::read_to_string(self.rootfs().join(path)).unwrap()
    }
}

/// A layer file (plain or gzip) as a tar archive.
fn layer_archive(path: &Path) -> tar::Archive<Box<dyn Read>> {
    let mut file = fs::File::open(path).unwrap();
    let mut magic = [0u8; 2];
    let gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    std::io::Seek::rewind(&mut file).unwrap();
    let reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    tar::Archive::new(reader)
}

/// Applies a layer with whiteouts (enough for these tests).
fn apply_layer(mut archive: tar::Archive<Box<dyn Read>>, target: &Path) {
    archive.set_preserve_ownerships(true);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().into_owned();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(hidden) = name.strip_prefix(".wh.") {
            let victim = target.join(path.parent().unwrap()).join(hidden);
            let _ = fs::remove_dir_all(&victim);
            let _ = fs::remove_file(&victim);
            continue;
        }
        entry.set_preserve_permissions(true);
        entry.unpack_in(target).unwrap();
    }
}
