//! Java archives: `META-INF/maven/*/*/pom.properties` inside jars (and jars nested in them).
//!
//! An archive without `pom.properties` is named from its manifest
//! (`Implementation-Title`/`-Version`, else `Bundle-SymbolicName`/`-Version`).
//! Archives inside archives (`BOOT-INF/lib/*.jar`, `WEB-INF/lib/*.jar` ...)
//! are read too, located as `OUTER:INNER`.

use crate::package::{Kind, Location, Package};
use crate::zip::{ZipArchive, ZipEntry};

/// How deep archives nested in archives are read.
const DEEPEST: usize = 4;
/// Nested archives larger than this are not unpacked into memory.
const LARGEST_NESTED: u64 = 256 << 20;
/// Manifests and `pom.properties` larger than this are not metadata.
const LARGEST_METADATA: u64 = 1 << 20;

/// Whether `path` names a Java archive.
pub(super) fn wants(path: &str) -> bool {
    [".jar", ".war", ".ear", ".jpi", ".hpi"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// The Maven packages inside the archive at `path`.
pub(super) fn packages(path: &str, bytes: &[u8]) -> Vec<Package> {
    let mut found = Vec::new();
    archive(path, bytes, 0, &mut found);
    found
}

/// Adds the packages of the archive located at `location`, then of the
/// archives inside it.
fn archive(location: &str, bytes: &[u8], depth: usize, found: &mut Vec<Package>) {
    let Ok(zip) = ZipArchive::parse(location, bytes) else {
        return;
    };
    let manifest = zip
        .find("META-INF/MANIFEST.MF")
        .and_then(|entry| metadata(&zip, entry))
        .map(|bytes| manifest(&String::from_utf8_lossy(&bytes)))
        .unwrap_or_default();
    let license = field(&manifest, "Bundle-License").map(str::to_string);
    let mut own: Vec<Package> = zip
        .entries()
        .iter()
        .filter(|entry| is_pom_properties(&entry.name))
        .filter_map(|entry| metadata(&zip, entry))
        .filter_map(|bytes| from_pom_properties(&String::from_utf8_lossy(&bytes)))
        .collect();
    if own.is_empty() {
        own.extend(from_manifest(&manifest));
    }
    // A manifest's licence is the archive's own: it goes to the one package
    // the archive describes, not to others shaded into it.
    if own.len() == 1 {
        own[0].licenses.extend(license);
    }
    for mut package in own {
        package.locations.push(Location {
            path: location.to_string(),
            layer: None,
        });
        found.push(package);
    }
    if depth < DEEPEST {
        for entry in zip.entries().iter().filter(|e| is_nested(e)) {
            if let Ok(inner) = zip.read(entry) {
                archive(
                    &format!("{location}:{}", entry.name),
                    &inner,
                    depth + 1,
                    found,
                );
            }
        }
    }
}

/// A small metadata file's bytes.
fn metadata(zip: &ZipArchive<'_>, entry: &ZipEntry) -> Option<Vec<u8>> {
    (entry.size() <= LARGEST_METADATA)
        .then(|| zip.read(entry).ok())
        .flatten()
}

fn is_nested(entry: &ZipEntry) -> bool {
    wants(&entry.name) && entry.size() <= LARGEST_NESTED
}

/// `META-INF/maven/GROUP/ARTIFACT/pom.properties`.
fn is_pom_properties(name: &str) -> bool {
    name.strip_prefix("META-INF/maven/")
        .and_then(|rest| rest.strip_suffix("/pom.properties"))
        .is_some_and(|middle| middle.split('/').count() == 2)
}

/// A package from `pom.properties` (Java properties: `key=value`, `key: value`).
fn from_pom_properties(text: &str) -> Option<Package> {
    let mut group = None;
    let mut artifact = None;
    let mut version = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            continue;
        };
        let value = value.trim().to_string();
        match key.trim() {
            "groupId" => group = Some(value),
            "artifactId" => artifact = Some(value),
            "version" => version = Some(value),
            _ => {}
        }
    }
    let mut package = Package::new(Kind::JavaArchive, artifact?, version.unwrap_or_default());
    package.namespace = group.filter(|g| !g.is_empty());
    Some(package)
}

/// A package from the manifest's main section, when it names one.
fn from_manifest(manifest: &[(String, String)]) -> Option<Package> {
    let symbolic = field(manifest, "Bundle-SymbolicName")
        .map(|name| name.split(';').next().unwrap_or_default().trim());
    let name = field(manifest, "Implementation-Title")
        .or(symbolic)
        .filter(|name| !name.is_empty())?;
    let version = field(manifest, "Implementation-Version")
        .or_else(|| field(manifest, "Bundle-Version"))
        .unwrap_or_default();
    Some(Package::new(Kind::JavaArchive, name, version))
}

fn field<'a>(manifest: &'a [(String, String)], key: &str) -> Option<&'a str> {
    manifest
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim())
}

/// The main section of a manifest: `Key: value` lines, continued by lines
/// starting with a space, ending at the first blank line.
fn manifest(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if let Some(continued) = line.strip_prefix(' ') {
            if let Some((_, value)) = fields.last_mut() {
                value.push_str(continued);
            }
        } else if let Some((key, value)) = line.split_once(':') {
            fields.push((key.trim().to_string(), value.trim_start().to_string()));
        }
    }
    fields
}

#[cfg(test)]
mod tests;
