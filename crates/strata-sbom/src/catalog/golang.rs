//! Go binaries: the build info every Go executable carries (main module, dependencies, the toolchain as `stdlib`).

use crate::package::Package;

/// The Go packages of an ELF executable's build info; none if it has none.
pub(super) fn packages(path: &str, bytes: &[u8]) -> Vec<Package> {
    let _ = (path, bytes);
    Vec::new()
}
