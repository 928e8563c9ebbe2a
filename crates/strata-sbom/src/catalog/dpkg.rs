//! Debian and Ubuntu packages: dpkg's status database, distroless images'
//! `status.d/` (one file per package), licences from DEP-5 copyright files.

use std::collections::BTreeSet;

use crate::catalog::{database_packages, located};
use crate::package::{Kind, Origin, Package};
use crate::tree::Tree;

/// dpkg's database of installed packages.
pub(super) const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d/";
const DOC: &str = "/usr/share/doc/";

pub(super) fn wants(path: &str) -> bool {
    path == STATUS
        || path
            .strip_prefix(STATUS_D)
            .is_some_and(|name| !name.contains('/') && !name.ends_with(".md5sums"))
        || copyright_package(path).is_some()
}

/// The packages of the status database and of `status.d/`.
pub(super) fn catalog(tree: &Tree) -> Vec<Package> {
    let mut packages = database_packages(tree, STATUS, parse);
    for (path, _) in tree.files().filter(|(path, _)| path.starts_with(STATUS_D)) {
        if let Some((bytes, _)) = tree.bytes(path) {
            packages.extend(parse(bytes).into_iter().map(|mut package| {
                package.locations.insert(0, located(tree, path));
                package
            }));
        }
    }
    for package in &mut packages {
        let copyright = format!("{DOC}{}/copyright", package.name);
        if let Some((bytes, _)) = tree.bytes(&copyright) {
            package.licenses = licenses(&String::from_utf8_lossy(bytes));
            package.locations.push(located(tree, &copyright));
        }
    }
    packages
}

/// The installed packages of a status file's paragraphs.
fn parse(bytes: &[u8]) -> Vec<Package> {
    let text = String::from_utf8_lossy(bytes);
    paragraphs(&text)
        .filter_map(|fields| package(&fields))
        .collect()
}

fn package(fields: &[(&str, String)]) -> Option<Package> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    // Removed packages whose configuration remains have `deinstall ok config-files`.
    if field("Status").is_some_and(|status| status.split_whitespace().nth(2) != Some("installed")) {
        return None;
    }
    let mut package = Package::new(Kind::Deb, field("Package")?, field("Version")?);
    package.arch = field("Architecture").map(str::to_string);
    package.origin = field("Source").map(|source| match source.split_once(' ') {
        // `Source: glibc (2.36-9)` when the source version differs (binNMUs).
        Some((name, version)) => Origin {
            name: name.to_string(),
            version: Some(
                version
                    .trim_matches(|c| c == '(' || c == ')' || c == ' ')
                    .to_string(),
            ),
        },
        None => Origin {
            name: source.to_string(),
            version: None,
        },
    });
    Some(package)
}

/// The paragraphs of a deb822 file, as (field, value) lists; continuation
/// lines join the value with newlines.
fn paragraphs(text: &str) -> impl Iterator<Item = Vec<(&str, String)>> {
    text.split("\n\n").map(|paragraph| {
        let mut fields: Vec<(&str, String)> = Vec::new();
        for line in paragraph.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = fields.last_mut() {
                    value.push('\n');
                    value.push_str(line.trim());
                }
            } else if let Some((key, value)) = line.split_once(':') {
                fields.push((key.trim(), value.trim().to_string()));
            }
        }
        fields
    })
}

/// `/usr/share/doc/NAME/copyright` → NAME.
fn copyright_package(path: &str) -> Option<&str> {
    let name = path.strip_prefix(DOC)?.strip_suffix("/copyright")?;
    (!name.contains('/')).then_some(name)
}

/// The distinct `License:` values of a machine-readable (DEP-5) copyright file.
fn licenses(text: &str) -> Vec<String> {
    let found: BTreeSet<String> = text
        .lines()
        .filter_map(|line| line.strip_prefix("License:"))
        .map(str::trim)
        .filter(|license| !license.is_empty())
        .map(str::to_string)
        .collect();
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_packages_with_sources() {
        let status = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\nDescription: GNU C\n Library\n\nPackage: old\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nSource: bash (5.2.15-2)\nArchitecture: amd64\n";
        let packages = parse(status.as_bytes());
        assert_eq!(packages.len(), 2);
        assert_eq!(
            packages[0].origin.as_ref().map(|o| o.name.as_str()),
            Some("glibc")
        );
        assert_eq!(
            packages[1].origin,
            Some(Origin {
                name: "bash".into(),
                version: Some("5.2.15-2".into())
            })
        );
    }

    #[test]
    fn dep5_licences() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n\nFiles: lib/*\nLicense: LGPL-2.1+\n\nLicense: GPL-3+\n text";
        assert_eq!(licenses(text), ["GPL-3+", "LGPL-2.1+"]);
        assert!(wants("/usr/share/doc/bash/copyright"));
        assert!(!wants("/usr/share/doc/bash/examples/copyright"));
    }
}
