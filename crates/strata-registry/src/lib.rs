//! The distribution (registry API v2) client: bearer-token and basic auth,
//! Docker's credential configuration, manifests and blobs fetched as
//! verified streams, uploads (monolithic and chunked), cross-repository
//! mounts, retries with backoff. It knows no store: pulls write into a
//! [`BlobSink`] and pushes read from a [`BlobSource`] the caller provides.
//!
//! TLS is rustls on the ring provider; `localhost`, `127.0.0.1` and
//! registries listed in [`ClientOptions::insecure_registries`] use plain http.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod auth;
mod client;
mod credentials;
mod error;
mod transfer;

pub use client::{Client, ClientOptions, FetchedManifest, Mount};
pub use credentials::{Credential, DOCKER_HUB_AUTH_KEY, DockerConfig, auth_key};
pub use error::{RegistryError, Result};
pub use transfer::{
    BlobSink, BlobSource, Progress, PulledImage, PushRequest, TransferEvent, pull, push,
};
