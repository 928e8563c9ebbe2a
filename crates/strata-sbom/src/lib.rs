//! What an image holds, and what is known against it: the packages of an
//! image's layers (or of a directory), as a catalogue, an SPDX or CycloneDX
//! document, and matched against OSV advisories. Nothing in the image is run.
//!
//! - [`catalog_image`], [`catalog_directory`]: a [`Catalog`] of [`Package`]s,
//!   each with its purl, licences, the files it was found from and the layer
//!   that introduced it. Catalogued: dpkg, apk, rpm (sqlite rpmdb), Python
//!   (`dist-info`, `egg-info`), npm (`node_modules`, lock files), Go binaries'
//!   build info, Rust binaries built with cargo-auditable, Java archives.
//! - [`format`]: SPDX 2.3 and CycloneDX 1.5 JSON, and a table.
//! - [`version`]: each ecosystem's version order (dpkg, apk, rpm, PEP 440,
//!   semver, Go, Maven).
//! - [`osv`]: an OSV advisory database (a directory, zip archives, or
//!   downloaded), matching, and reports (table, grype-shaped JSON, SARIF).
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod catalog;
mod error;
pub mod format;
pub mod osv;
mod package;
mod purl;
mod tree;
pub mod version;
mod zip;

pub use catalog::{catalog_directory, catalog_image};
pub use error::{Error, Result};
pub use package::{Catalog, Distro, Kind, Location, Origin, Package, Subject};
