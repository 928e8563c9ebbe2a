//! The builder: `docker build` without a daemon.
//!
//! - [`plan`]: the Dockerfile lowered to stages of file-system steps, each
//!   with a cache key chained from its parent's, plus each stage's image
//!   configuration and history (BuildKit's dispatch rules, docker's history
//!   texts).
//! - [`solve`]: stages run in their own threads (independent ones at the
//!   same time); a step is served from the cache or run over a snapshot of
//!   its parent (RUN in the sandbox, COPY/ADD/WORKDIR into a mounted
//!   overlay), and its diff becomes a layer; a miss says why ([`explain`]).
//! - [`ssh`]: `RUN --mount=type=ssh`: a socket in the step whose
//!   connections the build process relays to an `--ssh` agent.
//! - [`export`]: the target's image in the store, with its names.
//! - [`output`]: the other `--output`s (BuildKit's exporters): OCI and
//!   docker archives (layers compressed once, kept as the store's
//!   distribution variants), the final file system as a directory or a tar.
//! - [`attestation`]: with `--attest`/`--provenance` (or index
//!   annotations), image outputs become an index over the image manifest
//!   and an attestation manifest holding the [`provenance`] statement.
//! - [`annotations`]: `--annotation` values and where BuildKit puts them.
//! - [`named_context`]: `--build-context` values ([`NamedContext`]): local
//!   directories, images and OCI layouts standing in for a name.
//! - [`cache`]: the build cache beyond one machine (`--cache-to`,
//!   `--cache-from`): step results in a registry, an OCI layout or the
//!   image's configuration, imported lazily.
//! - [`prune`]: the build cache emptied, named images kept
//!   ([`prune_cache`], `strata builder prune`).
//!
//! Entry point: [`build`] with [`BuildOptions`], reporting through
//! [`Progress`] and stoppable with [`Cancel`].
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod annotations;
mod archive;
mod attestation;
mod cache;
mod copy;
mod driver;
mod error;
mod explain;
mod export;
mod history;
mod images;
mod named_context;
mod options;
mod output;
mod plan;
mod progress;
mod provenance;
mod prune;
mod remote;
mod rootfs;
mod sbom;
mod solve;
mod ssh;

pub use annotations::{Annotation, AnnotationTarget, Annotations};
pub use attestation::Attestations;
pub use cache::{CacheExport, CacheImport, CacheLocation, CacheMode};
pub use driver::{BuildOutput, ExportedOutput, build};
pub use error::{Error, Result};
pub use images::{StoreSink, StoreSource};
pub use named_context::{NamedContext, context_name};
pub use options::{BuildOptions, Entitlements, NetworkMode, SecretSource, SshAgent};
pub use output::{
    Destination, LayerCompression, Output, OutputKind, OutputStream, distribution_image,
};
pub use progress::{Event, Progress, Silent, Stream, VertexId};
pub use provenance::{Predicate, ProvenanceMode, ProvenanceOptions, SlsaVersion};
pub use prune::{CachePruneReport, prune_cache};
pub use solve::{Cancel, StepReport, TAIL_LINES};
pub use strata_layer::Compression;
