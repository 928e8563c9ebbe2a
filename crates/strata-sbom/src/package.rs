//! The catalogue's nouns: a package, where it was found, the distribution.

use serde::Serialize;
use strata_oci::Digest;

use crate::purl::Purl;

/// The kind of a package: which database or file it was catalogued from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A Debian or Ubuntu package (`/var/lib/dpkg/status`, `status.d/`).
    Deb,
    /// An Alpine package (`/lib/apk/db/installed`).
    Apk,
    /// An RPM package (the sqlite rpmdb).
    Rpm,
    /// A Python distribution (`*.dist-info`, `*.egg-info`).
    Python,
    /// An npm package (`node_modules/*/package.json`, lock files).
    Npm,
    /// A Go module, or the Go standard library, from a Go binary's build info.
    GoModule,
    /// A Rust crate, from a binary built with cargo-auditable.
    RustCrate,
    /// A Java archive (`pom.properties` inside a jar).
    JavaArchive,
}

impl Kind {
    /// The name grype and syft give the kind (`deb`, `go-module`, `java-archive` ...).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Deb => "deb",
            Kind::Apk => "apk",
            Kind::Rpm => "rpm",
            Kind::Python => "python",
            Kind::Npm => "npm",
            Kind::GoModule => "go-module",
            Kind::RustCrate => "rust-crate",
            Kind::JavaArchive => "java-archive",
        }
    }
}

/// The operating system an image's distribution packages belong to, from
/// `/etc/os-release` (or `/usr/lib/os-release`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Distro {
    /// `ID`: `debian`, `ubuntu`, `alpine`, `fedora`, `almalinux` ...
    pub id: String,
    /// `VERSION_ID`: `12`, `22.04`, `3.19.1` ...
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`: `bookworm` ...
    pub codename: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
}

/// Where a package was found: a file, and the layer that introduced it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// The path inside the image or directory, with a leading `/`
    /// (a file inside an archive is `ARCHIVE:INNER`).
    pub path: String,
    /// The layer's diff id; `None` when scanning a directory.
    pub layer: Option<Digest>,
}

/// The source package a binary package was built from (dpkg's `Source:`,
/// rpm's source rpm, apk's origin): advisories of distributions name these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// The source package's name.
    pub name: String,
    /// Its version, where it differs from the binary package's.
    pub version: Option<String>,
}

/// One package found in an image or a directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Package {
    /// Which kind of package.
    pub kind: Kind,
    /// The name as its ecosystem writes it (PEP 503-normalised for Python;
    /// `@scope/name` for npm; the module path for Go).
    pub name: String,
    /// The version as recorded (dpkg's with its epoch, Go's with its `v`).
    pub version: String,
    /// A namespace the purl needs: Maven's group id.
    pub namespace: Option<String>,
    /// Licences as declared (SPDX expressions where the metadata has them).
    pub licenses: Vec<String>,
    /// The architecture, for distribution packages.
    pub arch: Option<String>,
    /// The source package, for distribution packages.
    pub origin: Option<Origin>,
    /// The files it was found from, the first being the one that names it.
    pub locations: Vec<Location>,
}

impl Package {
    /// A package with no licences, architecture, origin or locations yet.
    pub fn new(kind: Kind, name: impl Into<String>, version: impl Into<String>) -> Self {
        Package {
            kind,
            name: name.into(),
            version: version.into(),
            namespace: None,
            licenses: Vec::new(),
            arch: None,
            origin: None,
            locations: Vec::new(),
        }
    }

    /// The package URL (purl spec): `pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12`.
    pub fn purl(&self, distro: Option<&Distro>) -> String {
        Purl::of(self, distro).to_string()
    }

    /// The layer that introduced the package (its first location's).
    pub fn layer(&self) -> Option<&Digest> {
        self.locations
            .first()
            .and_then(|location| location.layer.as_ref())
    }
}

/// What was catalogued: an image of the store or a directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Subject {
    /// An image: its name as given, its ID, manifest digest and diff ids.
    Image {
        /// The name the user gave (or the ID).
        name: String,
        /// The image ID (config digest).
        id: Digest,
        /// The manifest's digest.
        manifest: Digest,
        /// The layers' diff ids, base first.
        layers: Vec<Digest>,
    },
    /// A directory.
    Directory {
        /// The directory as given.
        path: String,
    },
}

impl Subject {
    /// The name to show: the image's name or the directory.
    pub fn name(&self) -> &str {
        match self {
            Subject::Image { name, .. } => name,
            Subject::Directory { path } => path,
        }
    }
}

/// A catalogue: every package found, sorted by kind, name and version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Catalog {
    /// What was catalogued.
    pub subject: Subject,
    /// The distribution, when the tree has an os-release file.
    pub distro: Option<Distro>,
    /// The packages.
    pub packages: Vec<Package>,
}
