//! Version orders, one per ecosystem: an advisory's "fixed in 1:2.3-4" means
//! something only under the ecosystem's own order.

use std::cmp::Ordering;

/// A version order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// dpkg's (Debian, Ubuntu): epochs, `~` before everything.
    Dpkg,
    /// apk's (Alpine): `_alpha` ... `_p` suffixes, `-rN` revisions.
    Apk,
    /// rpm's `rpmvercmp` with epochs and releases.
    Rpm,
    /// PEP 440 (PyPI).
    Pep440,
    /// Semantic Versioning 2.0 (npm, crates.io).
    Semver,
    /// Go's module versions: semver with a `v`.
    Go,
    /// Maven's `ComparableVersion`.
    Maven,
}

/// Compares `a` and `b` under `scheme`.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Ordering {
    // Placeholder until the per-scheme orders land.
    let _ = scheme;
    a.cmp(b)
}
