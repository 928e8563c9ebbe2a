//! The files catalogers read: an image's layers merged as a container sees
//! them (whiteouts and opaque directories applied), or a directory. Only the
//! files a cataloger wants are kept; binaries and archives are inspected as
//! their layer streams, and kept as the packages found in them. Every file
//! remembers the layer that wrote it, and package databases keep each
//! layer's version, so a package can be traced to the layer that added it.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use strata_oci::{Descriptor, Digest};
use strata_store::Store;

use crate::catalog::{self, Select};
use crate::error::{Error, Result};
use crate::package::Package;

/// Binaries larger than this are not inspected (nor held in memory).
const LARGEST_INSPECTED: u64 = 1 << 30;

/// What the tree holds of a file.
#[derive(Clone, Debug)]
pub(crate) enum Data {
    /// A metadata file's bytes.
    Bytes(Vec<u8>),
    /// The packages found inside a binary or archive (possibly none).
    Packages(Vec<Package>),
}

/// A kept file: its data and the layer that wrote it.
#[derive(Clone, Debug)]
pub(crate) struct File {
    pub(crate) layer: Option<Digest>,
    pub(crate) data: Data,
}

/// One version of a package database: the layer that wrote it, its bytes.
pub(crate) type Version = (Option<Digest>, Vec<u8>);

/// The kept files of an image or a directory, by absolute path.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    files: BTreeMap<String, File>,
    history: BTreeMap<String, Vec<Version>>,
}

/// What one layer does to the tree; deletions apply before additions.
#[derive(Default)]
struct LayerChanges {
    whiteouts: Vec<String>,
    opaque: Vec<String>,
    removed: Vec<String>,
    added: Vec<(String, Data)>,
    links: Vec<(String, String)>,
}

impl Tree {
    /// Merges `layers` (blob descriptor and diff id, base first), reading
    /// them in parallel.
    pub(crate) fn from_layers(store: &Store, layers: &[(Descriptor, Digest)]) -> Result<Tree> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<LayerChanges>>>> =
            Mutex::new((0..layers.len()).map(|_| None).collect());
        let workers = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(layers.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((blob, diff_id)) = layers.get(i) else {
                            break;
                        };
                        let changes = read_layer(store, blob, diff_id);
                        if let Ok(mut results) = results.lock() {
                            results[i] = Some(changes);
                        }
                    }
                });
            }
        });
        let results = results.into_inner().unwrap_or_default();
        let mut tree = Tree::default();
        for ((_, diff_id), changes) in layers.iter().zip(results) {
            let changes = changes.unwrap_or_else(|| Ok(LayerChanges::default()))?;
            tree.apply(Some(diff_id), changes);
        }
        Ok(tree)
    }

    /// The kept files under `root`, which is walked without following links.
    pub(crate) fn from_directory(root: &Path) -> Result<Tree> {
        let mut changes = LayerChanges::default();
        walk(root, "", &mut changes)?;
        let mut tree = Tree::default();
        tree.apply(None, changes);
        Ok(tree)
    }

    /// The kept file at `path` (absolute, `/`-separated).
    pub(crate) fn get(&self, path: &str) -> Option<&File> {
        self.files.get(path)
    }

    /// A metadata file's bytes and layer.
    pub(crate) fn bytes(&self, path: &str) -> Option<(&[u8], Option<&Digest>)> {
        match self.files.get(path) {
            Some(File {
                layer,
                data: Data::Bytes(bytes),
            }) => Some((bytes, layer.as_ref())),
            _ => None,
        }
    }

    /// Every kept file, by path.
    pub(crate) fn files(&self) -> impl Iterator<Item = (&str, &File)> {
        self.files.iter().map(|(path, file)| (path.as_str(), file))
    }

    /// Every layer's version of a package database at `path`, base first,
    /// since it was last deleted; empty if the tree does not hold it.
    pub(crate) fn versions(&self, path: &str) -> &[Version] {
        if !self.files.contains_key(path) {
            return &[];
        }
        self.history.get(path).map_or(&[], Vec::as_slice)
    }

    fn apply(&mut self, layer: Option<&Digest>, changes: LayerChanges) {
        for path in &changes.whiteouts {
            self.remove_under(path, true);
        }
        // An entry this layer writes replaces the lower file, but a package
        // database rewritten in place keeps its history.
        for path in &changes.removed {
            self.files.remove(path);
        }
        for directory in &changes.opaque {
            self.remove_under(directory, false);
        }
        for (path, data) in changes.added {
            self.add(layer, path, data);
        }
        for (path, target) in changes.links {
            if let Some(file) = self.files.get(&target) {
                let data = relocated(&file.data, &target, &path);
                self.add(layer, path, data);
            }
        }
    }

    fn add(&mut self, layer: Option<&Digest>, path: String, data: Data) {
        if let Data::Bytes(bytes) = &data
            && catalog::keeps_history(&path)
        {
            self.history
                .entry(path.clone())
                .or_default()
                .push((layer.cloned(), bytes.clone()));
        }
        self.files.insert(
            path,
            File {
                layer: layer.cloned(),
                data,
            },
        );
    }

    /// Removes `path` itself (when `itself`) and everything beneath it.
    fn remove_under(&mut self, path: &str, itself: bool) {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let doomed: Vec<String> = self
            .files
            .range(path.to_string()..)
            .map(|(key, _)| key)
            .take_while(|key| key.starts_with(path))
            .filter(|key| (itself && key.as_str() == path) || key.starts_with(&prefix))
            .cloned()
            .collect();
        for key in doomed {
            self.files.remove(&key);
            self.history.remove(&key);
        }
    }
}

/// A hard link's data: the target's, with package locations naming the link.
fn relocated(data: &Data, target: &str, path: &str) -> Data {
    match data {
        Data::Bytes(bytes) => Data::Bytes(bytes.clone()),
        Data::Packages(packages) => Data::Packages(
            packages
                .iter()
                .cloned()
                .map(|mut package| {
                    for location in &mut package.locations {
                        if let Some(rest) = location.path.strip_prefix(target) {
                            location.path = format!("{path}{rest}");
                        }
                    }
                    package
                })
                .collect(),
        ),
    }
}

/// Reads one layer blob into the changes it makes to kept files.
fn read_layer(store: &Store, blob: &Descriptor, diff_id: &Digest) -> Result<LayerChanges> {
    let layer_error = |source| Error::Layer {
        layer: blob.digest.to_string(),
        source,
    };
    let file = store.open_blob(&blob.digest)?;
    let reader = strata_layer::decompressor(file).map_err(layer_error)?;
    let mut archive = tar::Archive::new(reader);
    let mut changes = LayerChanges::default();
    for entry in archive.entries().map_err(layer_error)? {
        let mut entry = entry.map_err(layer_error)?;
        let path = match entry.path() {
            Ok(path) => absolute(&path.to_string_lossy()),
            Err(error) => return Err(layer_error(error)),
        };
        let name = path.rsplit('/').next().unwrap_or("");
        if name == strata_layer::OPAQUE_MARKER {
            changes.opaque.push(parent(&path).to_string());
            continue;
        }
        if let Some(hidden) = name.strip_prefix(strata_layer::WHITEOUT_PREFIX) {
            changes
                .whiteouts
                .push(format!("{}/{hidden}", parent(&path)));
            continue;
        }
        let header = entry.header();
        let kind = header.entry_type();
        if kind.is_dir() {
            continue;
        }
        if kind.is_hard_link() {
            if let Ok(Some(target)) = entry.link_name() {
                changes.removed.push(path.clone());
                changes
                    .links
                    .push((path, absolute(&target.to_string_lossy())));
            }
            continue;
        }
        let executable = header.mode().is_ok_and(|mode| mode & 0o111 != 0);
        let size = header.size().unwrap_or(0);
        let select = if kind.is_file() {
            catalog::select(&path, executable)
        } else {
            Select::Skip
        };
        changes.removed.push(path.clone());
        if let Some(data) = keep(&path, select, size, &mut entry).map_err(layer_error)? {
            let data = with_layer(data, diff_id);
            changes.added.push((path, data));
        }
    }
    Ok(changes)
}

/// The data kept of a selected file.
fn keep(
    path: &str,
    select: Select,
    size: u64,
    reader: &mut impl Read,
) -> std::io::Result<Option<Data>> {
    match select {
        Select::Skip => Ok(None),
        Select::Keep => {
            let mut bytes = Vec::with_capacity(usize::try_from(size.min(1 << 24)).unwrap_or(0));
            reader.read_to_end(&mut bytes)?;
            Ok(Some(Data::Bytes(bytes)))
        }
        Select::Inspect if !(4..=LARGEST_INSPECTED).contains(&size) => Ok(None),
        Select::Inspect => {
            let mut magic = [0u8; 4];
            reader.read_exact(&mut magic)?;
            if !catalog::worth_inspecting(path, &magic) {
                return Ok(None);
            }
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            bytes.extend_from_slice(&magic);
            reader.read_to_end(&mut bytes)?;
            Ok(Some(Data::Packages(catalog::inspect(path, &bytes))))
        }
    }
}

fn with_layer(data: Data, layer: &Digest) -> Data {
    match data {
        Data::Packages(mut packages) => {
            for location in packages.iter_mut().flat_map(|p| p.locations.iter_mut()) {
                location.layer = Some(*layer);
            }
            Data::Packages(packages)
        }
        bytes => bytes,
    }
}

/// Top-level directories a directory scan skips (as syft does for `/`).
const PSEUDO: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Walks `directory` (the tree's `relative` path), adding kept files.
fn walk(directory: &Path, relative: &str, changes: &mut LayerChanges) -> Result<()> {
    let io_error = |path: &Path, source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let entries = std::fs::read_dir(directory).map_err(|e| io_error(directory, e))?;
    let mut entries: Vec<_> = entries
        .collect::<std::io::Result<_>>()
        .map_err(|e| io_error(directory, e))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let full = entry.path();
        let path = format!("{relative}/{}", entry.file_name().to_string_lossy());
        let metadata = std::fs::symlink_metadata(&full).map_err(|e| io_error(&full, e))?;
        if metadata.is_dir() {
            // The kernel's pseudo file systems of a live root hold no packages.
            if !PSEUDO.contains(&path.as_str()) {
                walk(&full, &path, changes)?;
            }
            continue;
        }
        if !metadata.is_file() {
            continue;
        }
        let executable =
            std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o111 != 0;
        let select = catalog::select(&path, executable);
        if matches!(select, Select::Skip) {
            continue;
        }
        let mut file = std::fs::File::open(&full).map_err(|e| io_error(&full, e))?;
        if let Some(data) =
            keep(&path, select, metadata.len(), &mut file).map_err(|e| io_error(&full, e))?
        {
            changes.added.push((path, data));
        }
    }
    Ok(())
}

/// `./usr/bin/x`, `usr/bin/x` → `/usr/bin/x`.
fn absolute(name: &str) -> String {
    let trimmed = name
        .trim_start_matches("./")
        .trim_start_matches('/')
        .trim_end_matches('/');
    format!("/{trimmed}")
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}
