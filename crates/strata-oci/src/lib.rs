//! OCI and Docker image types: digests, references, platforms, descriptors,
//! manifests, indexes and image configurations, with the exact JSON shapes the
//! specifications (and Docker's extensions) define.
//!
//! Everything serialises deterministically with Go's escaping through
//! [`to_go_json`], so digests of what strata writes match Docker's and
//! BuildKit's for the same content. No I/O here.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod config;
mod descriptor;
mod digest;
mod json;
mod manifest;
pub mod media_type;
mod platform;
mod reference;

pub use config::{
    ConfigurationError, ContainerConfig, Empty, Healthcheck, History, ImageConfiguration, RootFs,
};
pub use descriptor::{ANNOTATION_CREATED, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, Descriptor};
pub use digest::{Digest, DigestError, Sha256Writer};
pub use json::{to_go_json, to_go_json_indented, to_go_json_pretty};
pub use manifest::{ImageIndex, ImageManifest, Manifest, ManifestError};
pub use platform::{Platform, PlatformError};
pub use reference::{DEFAULT_TAG, DOCKER_HUB, DOCKER_HUB_HOST, Reference, ReferenceError};
