//! Whole-image pull and push over a [`Client`], writing into a [`BlobSink`]
//! and reading from a [`BlobSource`] that the caller provides (the store, an
//! archive, a directory): this crate knows no store.

use std::io::{Read, Write};
use std::sync::Arc;

use strata_oci::{Descriptor, Digest, Manifest, Platform, Reference};
use tokio::task::JoinSet;

use crate::client::{Client, FetchedManifest, Mount};
use crate::error::{RegistryError, Result};

/// Where pulled blobs go. `create` starts a blob, `commit` makes it
/// visible under `digest` (already verified by the client; a sink may verify again).
pub trait BlobSink: Send + Sync + 'static {
    /// A blob being written.
    type Writer: Write + Send + 'static;
    /// Whether the blob is already present (then it is not fetched).
    fn has_blob(&self, digest: &Digest) -> bool;
    /// Starts a new blob.
    fn create(&self) -> std::io::Result<Self::Writer>;
    /// Makes the blob visible as `digest`.
    fn commit(&self, writer: Self::Writer, digest: &Digest) -> std::io::Result<()>;
    /// Whether `commit` itself verifies the digest of what was written and
    /// fails on a mismatch; then the client does not hash a second time.
    /// Default: false, and the client verifies.
    fn verifies_digests(&self) -> bool {
        false
    }
}

/// Where pushed blobs come from.
pub trait BlobSource: Send + Sync + 'static {
    /// Opens blob `digest` for reading from the start.
    fn open(&self, digest: &Digest) -> std::io::Result<Box<dyn Read + Send>>;
}

/// What happens during a transfer, for progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferEvent {
    /// The manifest was resolved: its digest (the index's if there is one).
    Resolved {
        /// The digest the tag points at.
        digest: Digest,
    },
    /// A layer is already where it is going.
    Exists(Digest),
    /// A layer transfer started.
    Started {
        /// The layer.
        digest: Digest,
        /// Its size.
        size: u64,
    },
    /// A layer was downloaded or uploaded.
    Done(Digest),
    /// A layer was mounted from another repository.
    Mounted {
        /// The layer.
        digest: Digest,
        /// The repository it came from.
        from: String,
    },
}

/// A progress callback.
pub type Progress = Arc<dyn Fn(TransferEvent) + Send + Sync>;

/// A pulled image: everything is in the sink when this is returned.
#[derive(Debug, Clone)]
pub struct PulledImage {
    /// The index or manifest list the reference named, if it named one.
    pub index: Option<FetchedManifest>,
    /// The chosen platform's manifest.
    pub manifest: FetchedManifest,
    /// The parsed manifest.
    pub image_manifest: strata_oci::ImageManifest,
    /// `name@digest` of what the reference points at (Docker's RepoDigest).
    pub repo_digest: Reference,
    /// Layers that were downloaded (not already present; the config is not counted).
    pub layers_fetched: usize,
}

impl PulledImage {
    /// The descriptor a ref should point at: the platform manifest.
    pub fn manifest_descriptor(&self) -> Descriptor {
        self.manifest.descriptor()
    }
}

/// Pulls `reference` for `platform` into `sink`: the manifest (and index),
/// the config, and the missing layers, at most `concurrency` at once, each
/// verified against its digest.
pub async fn pull<S: BlobSink>(
    client: &Client,
    reference: &Reference,
    platform: &Platform,
    sink: Arc<S>,
    progress: Progress,
) -> Result<PulledImage> {
    let top = client.fetch_manifest(reference).await?;
    progress(TransferEvent::Resolved { digest: top.digest });
    let repo_digest =
        Reference::parse(&format!("{}@{}", reference.name(), top.digest)).map_err(|e| {
            RegistryError::Protocol {
                url: reference.to_string(),
                reason: e.to_string(),
            }
        })?;
    let parsed = Manifest::parse(&top.bytes, Some(&top.media_type)).map_err(|source| {
        RegistryError::Manifest {
            reference: reference.familiar(),
            source,
        }
    })?;
    let (index, manifest, image_manifest) = match parsed {
        Manifest::Image(image) => (None, top, *image),
        Manifest::Index(index) => {
            let Some(chosen) = index.select(platform) else {
                return Err(RegistryError::NoMatchingPlatform {
                    reference: reference.familiar(),
                    platform: platform.to_string(),
                    available: index
                        .manifests
                        .iter()
                        .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
                        .collect(),
                });
            };
            let child = client
                .fetch_manifest(&reference.with_digest(chosen.digest))
                .await?;
            let Manifest::Image(image) = Manifest::parse(&child.bytes, Some(&child.media_type))
                .map_err(|source| RegistryError::Manifest {
                    reference: reference.familiar(),
                    source,
                })?
            else {
                return Err(RegistryError::Protocol {
                    url: reference.to_string(),
                    reason: "an index entry points at another index".to_owned(),
                });
            };
            (Some(top), child, *image)
        }
    };
    let mut blobs: Vec<Descriptor> = vec![image_manifest.config.clone()];
    blobs.extend(image_manifest.layers.iter().cloned());
    let config = image_manifest.config.digest;
    let fetched = fetch_blobs(
        client,
        reference,
        &blobs,
        Some(config),
        sink.clone(),
        progress,
    )
    .await?;
    // Manifests go in last: whoever sees them can rely on their blobs.
    for document in [Some(&manifest), index.as_ref()].into_iter().flatten() {
        write_bytes(&*sink, &document.bytes, &document.digest)?;
    }
    Ok(PulledImage {
        index,
        manifest,
        image_manifest,
        repo_digest,
        layers_fetched: fetched,
    })
}

fn write_bytes<S: BlobSink>(sink: &S, bytes: &[u8], digest: &Digest) -> Result<()> {
    if sink.has_blob(digest) {
        return Ok(());
    }
    let local = |source| RegistryError::Local {
        what: format!("store {digest}"),
        source,
    };
    let mut writer = sink.create().map_err(local)?;
    writer.write_all(bytes).map_err(local)?;
    sink.commit(writer, digest).map_err(local)
}

async fn fetch_blobs<S: BlobSink>(
    client: &Client,
    reference: &Reference,
    blobs: &[Descriptor],
    silent: Option<Digest>,
    sink: Arc<S>,
    progress: Progress,
) -> Result<usize> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(
        client.options().concurrency.max(1),
    ));
    let mut tasks = JoinSet::new();
    let mut fetched = 0;
    let mut seen = std::collections::BTreeSet::new();
    for descriptor in blobs {
        if !seen.insert(descriptor.digest) {
            continue;
        }
        let report = silent != Some(descriptor.digest);
        if sink.has_blob(&descriptor.digest) {
            if report {
                progress(TransferEvent::Exists(descriptor.digest));
            }
            continue;
        }
        if report {
            fetched += 1;
        }
        let (client, reference, descriptor, sink, progress, semaphore) = (
            client.clone(),
            reference.clone(),
            descriptor.clone(),
            sink.clone(),
            progress.clone(),
            semaphore.clone(),
        );
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            if report {
                progress(TransferEvent::Started {
                    digest: descriptor.digest,
                    size: descriptor.size,
                });
            }
            let local = |source| RegistryError::Local {
                what: format!("store {}", descriptor.digest),
                source,
            };
            let mut writer = sink.create().map_err(local)?;
            client
                .fetch_blob_checked(
                    &reference,
                    &descriptor,
                    &mut writer,
                    !sink.verifies_digests(),
                )
                .await?;
            let sink_for_commit = sink.clone();
            let digest = descriptor.digest;
            // fsync and rename off the async threads.
            tokio::task::spawn_blocking(move || sink_for_commit.commit(writer, &digest))
                .await
                .map_err(|e| local(std::io::Error::other(e)))?
                .map_err(local)?;
            if report {
                progress(TransferEvent::Done(descriptor.digest));
            }
            Ok::<(), RegistryError>(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let result = joined.map_err(|e| RegistryError::Local {
            what: "download task".to_owned(),
            source: std::io::Error::other(e),
        })?;
        if let Err(error) = result {
            tasks.abort_all();
            return Err(error);
        }
    }
    Ok(fetched)
}

/// What to push: a manifest and the blobs it needs.
#[derive(Debug, Clone)]
pub struct PushRequest {
    /// The manifest bytes, pushed as they are (so the digest is kept).
    pub manifest: Vec<u8>,
    /// The manifest's media type.
    pub media_type: String,
    /// The config and layers (for an index: every child's blobs and the child manifests).
    pub blobs: Vec<Descriptor>,
    /// Child manifests (of an index) to put by digest before the manifest itself.
    pub children: Vec<(Vec<u8>, String)>,
    /// Repositories on the same registry that may already hold the blobs (cross-repository mount).
    pub mount_from: Vec<String>,
}

/// Pushes `request` to `target` (its tag, or by digest); returns the manifest digest.
pub async fn push<S: BlobSource>(
    client: &Client,
    target: &Reference,
    request: &PushRequest,
    source: Arc<S>,
    progress: Progress,
) -> Result<Digest> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(
        client.options().concurrency.max(1),
    ));
    let mut tasks = JoinSet::new();
    let mut seen = std::collections::BTreeSet::new();
    let mount_from: Vec<String> = request
        .mount_from
        .iter()
        .filter(|from| *from != target.repository())
        .cloned()
        .collect();
    for descriptor in &request.blobs {
        if !seen.insert(descriptor.digest) {
            continue;
        }
        let (client, target, descriptor, source, progress, semaphore, mount_from) = (
            client.clone(),
            target.clone(),
            descriptor.clone(),
            source.clone(),
            progress.clone(),
            semaphore.clone(),
            mount_from.clone(),
        );
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            if client
                .blob_exists(&target, &descriptor.digest, &mount_from)
                .await?
            {
                progress(TransferEvent::Exists(descriptor.digest));
                return Ok(());
            }
            let digest = descriptor.digest;
            let open = move || source.open(&digest);
            let mut session = None;
            for from in &mount_from {
                match client
                    .mount_blob(&target, &digest, from, &mount_from)
                    .await?
                {
                    Mount::Mounted => {
                        progress(TransferEvent::Mounted {
                            digest,
                            from: from.clone(),
                        });
                        return Ok(());
                    }
                    Mount::Declined(url) => session = Some(url),
                }
            }
            progress(TransferEvent::Started {
                digest,
                size: descriptor.size,
            });
            match session {
                Some(url) => {
                    client
                        .upload_blob_at(&target, &descriptor, &open, &mount_from, url)
                        .await?
                }
                None => {
                    client
                        .upload_blob(&target, &descriptor, &open, &mount_from)
                        .await?
                }
            }
            progress(TransferEvent::Done(digest));
            Ok::<(), RegistryError>(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let result = joined.map_err(|e| RegistryError::Local {
            what: "upload task".to_owned(),
            source: std::io::Error::other(e),
        })?;
        if let Err(error) = result {
            tasks.abort_all();
            return Err(error);
        }
    }
    for (bytes, media_type) in &request.children {
        let by_digest = target.with_digest(Digest::of(bytes));
        client.push_manifest(&by_digest, bytes, media_type).await?;
    }
    client
        .push_manifest(target, &request.manifest, &request.media_type)
        .await
}
