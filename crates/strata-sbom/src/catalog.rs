//! Catalogers: which files each reads, and the catalogue they make together.

mod apk;
mod dpkg;
mod elf;
mod golang;
mod java;
mod npm;
mod os_release;
mod python;
mod rpm;
mod rust;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use strata_oci::Digest;
use strata_store::{Image, Store};

use crate::error::Result;
use crate::package::{Catalog, Location, Package, Subject};
use crate::tree::{Data, Tree};

/// What the tree keeps of a file, from its path (and whether it is executable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Select {
    /// Nothing.
    Skip,
    /// Its bytes: a package database or metadata file.
    Keep,
    /// The packages inside it: a binary or archive.
    Inspect,
}

/// Decides what to keep of the file at `path`.
pub(crate) fn select(path: &str, executable: bool) -> Select {
    if os_release::wants(path)
        || dpkg::wants(path)
        || apk::wants(path)
        || rpm::wants(path)
        || python::wants(path)
        || npm::wants(path)
    {
        Select::Keep
    } else if java::wants(path) || executable {
        Select::Inspect
    } else {
        Select::Skip
    }
}

/// Whether every layer's version of the file is kept: the package databases
/// whose packages are traced to the layer that added them.
pub(crate) fn keeps_history(path: &str) -> bool {
    path == dpkg::STATUS || path == apk::INSTALLED || rpm::wants(path)
}

/// Whether a selected file starting with `magic` is worth reading whole.
pub(crate) fn worth_inspecting(path: &str, magic: &[u8; 4]) -> bool {
    magic == b"\x7fELF" || (java::wants(path) && magic.starts_with(b"PK"))
}

/// The packages inside a binary or archive at `path`; locations have no layer.
pub(crate) fn inspect(path: &str, bytes: &[u8]) -> Vec<Package> {
    if bytes.starts_with(b"\x7fELF") {
        let mut packages = golang::packages(path, bytes);
        packages.extend(rust::packages(path, bytes));
        packages
    } else if java::wants(path) {
        java::packages(path, bytes)
    } else {
        Vec::new()
    }
}

/// Catalogues an image of the store; `name` is how the user named it.
pub fn catalog_image(store: &Store, image: &Image, name: &str) -> Result<Catalog> {
    let diff_ids = &image.config.rootfs.diff_ids;
    let layers: Vec<_> = image
        .manifest
        .layers
        .iter()
        .cloned()
        .zip(diff_ids.iter().cloned())
        .collect();
    let tree = Tree::from_layers(store, &layers)?;
    let subject = Subject::Image {
        name: name.to_string(),
        id: image.id(),
        manifest: image.manifest_descriptor.digest,
        layers: diff_ids.clone(),
    };
    Ok(catalog(&tree, subject))
}

/// Catalogues the files under `path`.
pub fn catalog_directory(path: &Path) -> Result<Catalog> {
    let tree = Tree::from_directory(path)?;
    let subject = Subject::Directory {
        path: path.display().to_string(),
    };
    Ok(catalog(&tree, subject))
}

fn catalog(tree: &Tree, subject: Subject) -> Catalog {
    let distro = os_release::distro(tree);
    let mut packages = Vec::new();
    packages.extend(dpkg::catalog(tree));
    packages.extend(apk::catalog(tree));
    packages.extend(rpm::catalog(tree));
    packages.extend(python::catalog(tree));
    packages.extend(npm::catalog(tree));
    for (_, file) in tree.files() {
        if let Data::Packages(found) = &file.data {
            packages.extend(found.iter().cloned());
        }
    }
    Catalog {
        subject,
        distro,
        packages: merged(packages),
    }
}

/// What makes two findings one package: kind, name, version, architecture, namespace.
type Identity = (crate::Kind, String, String, Option<String>, Option<String>);

/// Sorts packages and merges those found twice (same kind, name, version
/// and architecture) into one with both locations.
fn merged(packages: Vec<Package>) -> Vec<Package> {
    let mut by_identity: BTreeMap<Identity, Package> = BTreeMap::new();
    for package in packages {
        let key = (
            package.kind,
            package.name.clone(),
            package.version.clone(),
            package.arch.clone(),
            package.namespace.clone(),
        );
        match by_identity.get_mut(&key) {
            Some(existing) => {
                for location in package.locations {
                    if !existing.locations.contains(&location) {
                        existing.locations.push(location);
                    }
                }
            }
            None => {
                by_identity.insert(key, package);
            }
        }
    }
    by_identity.into_values().collect()
}

/// The packages of the database at `path` as the top layer has it, each
/// located at `path` in the lowest layer from which every later version of
/// the database still lists it (the layer that installed it).
pub(crate) fn database_packages(
    tree: &Tree,
    path: &str,
    parse: impl Fn(&[u8]) -> Vec<Package>,
) -> Vec<Package> {
    let versions = tree.versions(path);
    let Some((_, top)) = versions.last() else {
        return Vec::new();
    };
    let identity = |p: &Package| (p.name.clone(), p.version.clone(), p.arch.clone());
    let mut packages = parse(top);
    let mut introduced: Vec<Option<Digest>> =
        vec![versions.last().and_then(|(l, _)| *l); packages.len()];
    let mut still_present: Vec<bool> = vec![true; packages.len()];
    for (layer, bytes) in versions.iter().rev().skip(1) {
        let present: BTreeSet<_> = parse(bytes).iter().map(identity).collect();
        for (i, package) in packages.iter().enumerate() {
            if still_present[i] && present.contains(&identity(package)) {
                introduced[i] = *layer;
            } else {
                still_present[i] = false;
            }
        }
    }
    for (package, layer) in packages.iter_mut().zip(introduced) {
        package.locations.insert(
            0,
            Location {
                path: path.to_string(),
                layer,
            },
        );
    }
    packages
}

/// The location of a file kept in the tree.
pub(crate) fn located(tree: &Tree, path: &str) -> Location {
    Location {
        path: path.to_string(),
        layer: tree.get(path).and_then(|f| f.layer),
    }
}
