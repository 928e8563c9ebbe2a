//! Java archives: `META-INF/maven/*/*/pom.properties` inside jars (and jars nested in them).

use crate::package::Package;

/// Whether `path` names a Java archive.
pub(super) fn wants(path: &str) -> bool {
    [".jar", ".war", ".ear", ".jpi", ".hpi"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// The Maven packages inside the archive at `path`.
pub(super) fn packages(path: &str, bytes: &[u8]) -> Vec<Package> {
    let _ = (path, bytes);
    Vec::new()
}
