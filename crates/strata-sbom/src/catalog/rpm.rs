//! RPM packages: the sqlite rpmdb of current Fedora, RHEL and Alma images.
//!
//! The `Packages` table holds one rpm header per installed package; the
//! database is read with a small SQLite reader of our own (no C library).

mod header;
mod sqlite;

use header::Header;
use sqlite::{Database, Value};

use crate::package::{Kind, Origin, Package};
use crate::tree::Tree;

const PATHS: [&str; 2] = [
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
];

/// Where the rpmdb lives.
pub(super) fn wants(path: &str) -> bool {
    PATHS.contains(&path)
}

/// The packages of the image's rpmdb.
pub(super) fn catalog(tree: &Tree) -> Vec<Package> {
    PATHS
        .iter()
        .flat_map(|path| super::database_packages(tree, path, parse))
        .collect()
}

/// The packages of an rpmdb.sqlite file; none if it cannot be read.
fn parse(bytes: &[u8]) -> Vec<Package> {
    let Ok(rows) = Database::open(bytes).and_then(|db| db.table("Packages")) else {
        return Vec::new();
    };
    rows.into_iter()
        .filter_map(|(_, columns)| match columns.get(1) {
            Some(Value::Blob(blob)) => package(blob),
            _ => None,
        })
        .collect()
}

/// The package one header describes (`gpg-pubkey` entries are keys, not packages).
fn package(blob: &[u8]) -> Option<Package> {
    let header = Header::parse(blob)?;
    let name = header.string(header::NAME)?;
    if name == "gpg-pubkey" {
        return None;
    }
    let version = header.string(header::VERSION)?;
    let mut full = match header.string(header::RELEASE) {
        Some(release) => format!("{version}-{release}"),
        None => version,
    };
    if let Some(epoch) = header.int32(header::EPOCH) {
        full = format!("{epoch}:{full}");
    }
    let mut package = Package::new(Kind::Rpm, name, full);
    package.licenses = header.string(header::LICENSE).into_iter().collect();
    package.arch = header.string(header::ARCH);
    package.origin = header
        .string(header::SOURCERPM)
        .and_then(|source| origin(&source, &package.version));
    Some(package)
}

/// `name-version-release.src.rpm` → the source's name and (when it differs
/// from the binary package's) version-release.
fn origin(source_rpm: &str, binary_version: &str) -> Option<Origin> {
    let stem = source_rpm
        .strip_suffix(".src.rpm")
        .or_else(|| source_rpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    let version = format!("{version}-{release}");
    Some(Origin {
        name: name.to_string(),
        version: (version != binary_version).then_some(version),
    })
}

#[cfg(test)]
mod tests;
