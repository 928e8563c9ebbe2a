//! The content-addressed store: an OCI image layout on disk (readable by
//! skopeo and umoci), named refs, cache records, directories other crates
//! own, inter-process locks, garbage collection, and docker/OCI archives.
//!
//! Invariants: a blob is visible only once whole and verified (temporary
//! file, digest check, fsync, rename); a ref is written only after every blob
//! it reaches; `index.json` changes under an exclusive lock and by atomic
//! rename; prune runs only while no other process has the store open.
//!
//! How the other crates use it:
//! - **Open** with [`Store::open`] (shared lock) for the whole operation and
//!   drop it when done: [`Store::prune`] needs [`Access::Exclusive`] and waits
//!   for every shared handle, which is what keeps it from deleting blobs a
//!   build has written but not yet referenced. Long-lived processes (a
//!   running container) should not keep a handle open.
//! - **Content**: [`Store::begin_blob`] → write → [`BlobWriter::commit`]
//!   (with the expected digest when known); [`Store::write_blob`] for small
//!   JSON; [`Store::open_blob`] / [`Store::read_blob`] to read.
//! - **Images**: [`Store::write_image`] (config + layers → manifest), then
//!   [`Store::set_ref`] to name it; [`Store::find_image`] resolves what users
//!   type (names, IDs, ID prefixes, repo digests) to an [`Image`].
//! - **Holds**: [`Store::hold`] keeps an image whole for a holder that is
//!   not a name (a container), until [`Store::release`].
//! - **Build cache**: [`Store::put_cache_record`] / [`Store::cache_record`]:
//!   a key → JSON record, plus the blobs it keeps alive through prune.
//! - **Distribution**: [`Store::distribution_image`] turns a stored image
//!   (plain-tar layers) into what a registry or an archive gets, with layers
//!   encoded by a [`BlobEncoder`] once and kept as variants of the stored ones.
//! - **Checks**: [`Store::verify`] hashes every blob and checks every ref.
//! - **Directories of other crates** (snapshots, context metadata):
//!   [`Store::area`] gives `<root>/areas/<name>`; prune leaves areas alone,
//!   `system df` reports their size.
//!
//! Typical use (a build step):
//! ```no_run
//! # fn main() -> Result<(), strata_store::StoreError> {
//! use std::io::Write;
//! let store = strata_store::Store::open(strata_store::Store::default_root())?;
//! let mut blob = store.begin_blob()?;
//! blob.write_all(b"layer bytes").map_err(|e| strata_fs::Error::new("write", "blob", e))?;
//! let (digest, size) = blob.commit(None)?;
//! store.put_cache_record("step-key", &serde_json::json!({"layer": digest, "size": size}), &[digest])?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod archive;
mod cache;
mod error;
mod gc;
mod holds;
mod images;
mod refs;
mod store;
mod variant;

pub use archive::{ArchiveFormat, LoadedImage, SaveItem};
pub use cache::CacheRecord;
pub use error::{Result, StoreError};
pub use gc::{DiskUsage, PruneReport, Verification};
pub use holds::Hold;
pub use images::Image;
pub use refs::{ANNOTATION_DOCKER_MANIFEST, ANNOTATION_REPO_DIGEST, RefEntry};
pub use store::{Access, BlobWriter, Store};
pub use variant::{BlobEncoder, DistributionImage, MediaTypes};
