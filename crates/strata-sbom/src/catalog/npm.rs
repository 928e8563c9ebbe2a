//! npm packages: `node_modules/NAME/package.json` (and `@scope/NAME`), and
//! the packages a `package-lock.json` records.

use serde_json::Value;

use crate::catalog::located;
use crate::package::{Kind, Package};
use crate::tree::Tree;

const LOCK: &str = "package-lock.json";

pub(super) fn wants(path: &str) -> bool {
    is_installed_manifest(path)
        || (path.rsplit('/').next() == Some(LOCK) && !path.contains("/node_modules/"))
}

/// `.../node_modules/NAME/package.json` or `.../node_modules/@SCOPE/NAME/package.json`.
fn is_installed_manifest(path: &str) -> bool {
    let Some(rest) = path.strip_suffix("/package.json") else {
        return false;
    };
    let Some((modules, name)) = rest.rsplit_once("/node_modules/") else {
        return false;
    };
    let _ = modules;
    match name.split_once('/') {
        Some((scope, name)) => scope.starts_with('@') && !name.contains('/'),
        None => true,
    }
}

/// Installed packages, then those of lock files.
pub(super) fn catalog(tree: &Tree) -> Vec<Package> {
    let mut packages = Vec::new();
    for (path, _) in tree.files() {
        let Some((bytes, _)) = tree.bytes(path) else {
            continue;
        };
        let Ok(json) = serde_json::from_slice::<Value>(bytes) else {
            continue;
        };
        let found = if is_installed_manifest(path) {
            manifest(&json).into_iter().collect()
        } else if path.ends_with(LOCK) {
            lock(&json)
        } else {
            continue;
        };
        packages.extend(found.into_iter().map(|mut package| {
            package.locations.push(located(tree, path));
            package
        }));
    }
    packages
}

fn manifest(json: &Value) -> Option<Package> {
    let name = json.get("name")?.as_str()?;
    let version = json.get("version")?.as_str()?;
    let mut package = Package::new(Kind::Npm, name, version);
    package.licenses = licenses(json);
    Some(package)
}

/// `license: "MIT"`, `license: {type: "MIT"}`, or the old `licenses: [{type}]`.
fn licenses(json: &Value) -> Vec<String> {
    let of = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Object(object) => object
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    };
    match (json.get("license"), json.get("licenses")) {
        (Some(license), _) => of(license).into_iter().collect(),
        (None, Some(Value::Array(list))) => list.iter().filter_map(of).collect(),
        _ => Vec::new(),
    }
}

/// Lock files v2/v3 (`packages` keyed by install path) and v1 (nested `dependencies`).
fn lock(json: &Value) -> Vec<Package> {
    let mut packages = Vec::new();
    if let Some(Value::Object(entries)) = json.get("packages") {
        for (key, entry) in entries {
            // "" is the project itself; links point at workspace folders.
            let Some((_, name)) = key.rsplit_once("node_modules/") else {
                continue;
            };
            if entry.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = entry.get("name").and_then(Value::as_str).unwrap_or(name);
            if let Some(version) = entry.get("version").and_then(Value::as_str) {
                let mut package = Package::new(Kind::Npm, name, version);
                package.licenses = licenses(entry);
                packages.push(package);
            }
        }
    } else if let Some(dependencies) = json.get("dependencies") {
        lock_v1(dependencies, &mut packages);
    }
    packages
}

fn lock_v1(dependencies: &Value, packages: &mut Vec<Package>) {
    let Value::Object(entries) = dependencies else {
        return;
    };
    for (name, entry) in entries {
        if let Some(version) = entry.get("version").and_then(Value::as_str) {
            packages.push(Package::new(Kind::Npm, name, version));
        }
        if let Some(nested) = entry.get("dependencies") {
            lock_v1(nested, packages);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths() {
        assert!(wants("/app/node_modules/express/package.json"));
        assert!(wants("/app/node_modules/@babel/core/package.json"));
        assert!(wants("/app/node_modules/a/node_modules/b/package.json"));
        assert!(!wants("/app/node_modules/express/lib/package.json"));
        assert!(!wants("/app/package.json"));
        assert!(wants("/app/package-lock.json"));
        assert!(!wants("/app/node_modules/x/package-lock.json"));
    }

    #[test]
    fn lock_v3_packages() {
        let json: Value = serde_json::from_str(r#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/ms":{"version":"2.1.3","license":"MIT"},"node_modules/@types/node":{"version":"20.1.0"},"node_modules/w":{"link":true}}}"#).unwrap();
        let names: Vec<_> = lock(&json)
            .into_iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(names, ["@types/node@20.1.0", "ms@2.1.3"]);
    }
}
