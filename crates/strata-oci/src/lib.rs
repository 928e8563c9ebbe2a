//! OCI and Docker image types: digests, references, platforms, descriptors,
//! manifests, indexes and image configurations, with the exact JSON shapes the
//! specifications (and Docker's extensions) define.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod digest;

pub use digest::{Digest, DigestError, Sha256Writer};
