//! The build cache beyond one machine (`--cache-to`, `--cache-from`): the
//! store's step results (a cache key → the layer the step made) written to
//! a registry, an OCI layout directory or the image's own configuration,
//! and read back on another machine.
//!
//! - [`format`]: the cache document and the manifest that carries it.
//! - [`import`]: caches read before the solve; a step found there is served
//!   without running, and its layer is downloaded only when something needs
//!   its bytes (a step that runs over it, an output).
//! - [`export`]: the records of the steps `mode=min|max` covers, sent with
//!   the layers the destination lacks.
//!
//! Step keys hash only content digests and step definitions, so a record
//! written on one machine means the same on every other.

mod export;
mod format;
mod import;

use std::path::PathBuf;

use strata_layer::Compression;
use strata_oci::Reference;

pub(crate) use export::{covered_steps, export_cache, inline_cache};

pub(crate) use import::ImportedCache;

/// Where a build cache is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheLocation {
    /// A registry repository and tag (`type=registry,ref=REF`). Read from,
    /// it may also name an image built with an inline cache.
    Registry(Reference),
    /// An OCI layout directory (`type=local,dest=DIR` / `src=DIR`) and the
    /// tag of the cache in it (`tag=`, default `latest`).
    Local {
        /// The directory.
        directory: PathBuf,
        /// The tag.
        tag: String,
    },
    /// The image's own configuration (`type=inline`; export only).
    Inline,
}

/// Which steps an export covers (`mode=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CacheMode {
    /// The steps of the final image (BuildKit's default).
    #[default]
    Min,
    /// Every step of every stage the build solved.
    Max,
}

/// One `--cache-to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheExport {
    /// Where it goes.
    pub location: CacheLocation,
    /// `mode=`.
    pub mode: CacheMode,
    /// `image-manifest=` (default true, BuildKit v0.21's): an OCI image
    /// manifest; false: an index listing the blobs (BuildKit's older form).
    pub image_manifest: bool,
    /// `oci-mediatypes=` (default true): OCI media types, else Docker's.
    pub oci_media_types: bool,
    /// `compression=` (default gzip).
    pub compression: Compression,
    /// `ignore-error=`: a failed export is a warning, not a failed build.
    pub ignore_error: bool,
}

impl CacheExport {
    /// An export to `location` with BuildKit's defaults.
    pub fn new(location: CacheLocation) -> Self {
        Self {
            location,
            mode: CacheMode::Min,
            image_manifest: true,
            oci_media_types: true,
            compression: Compression::GZIP,
            ignore_error: false,
        }
    }
}

/// One `--cache-from`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheImport {
    /// Where it is read from (never [`CacheLocation::Inline`]: an image
    /// with an inline cache is a registry reference).
    pub location: CacheLocation,
}

impl CacheLocation {
    /// How the location is named in progress and messages.
    pub fn describe(&self) -> String {
        match self {
            CacheLocation::Registry(reference) => reference.to_string(),
            CacheLocation::Local { directory, tag } => {
                format!("{}:{tag}", directory.display())
            }
            CacheLocation::Inline => "inline".to_owned(),
        }
    }
}
