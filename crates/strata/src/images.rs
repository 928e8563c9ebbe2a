//! Wiring between the store and the registry client for the image commands:
//! opening the store, building a client from flags and Docker's config, and
//! the adapters that let a pull write into (and a push read from) the store.

use std::path::PathBuf;

use anyhow::Context;
pub(crate) use strata_build::StoreSource;
use strata_oci::Digest;
use strata_registry::{Client, ClientOptions, DockerConfig};
use strata_store::{Access, Store};

use crate::commands::Global;

/// The store root from `--root`/`STRATA_ROOT`, else the default.
pub(crate) fn store_root(global: &Global) -> PathBuf {
    global.root.clone().unwrap_or_else(Store::default_root)
}

/// Opens the store with `access`.
/// Opens the store with `access`. Work directories that killed builds
/// left among the snapshots go (the store's own `tmp/` is cleaned by the
/// store when it finds itself idle).
pub(crate) fn open_store(global: &Global, access: Access) -> anyhow::Result<Store> {
    let root = store_root(global);
    let store = Store::open_with(&root, access)
        .with_context(|| format!("opening the store at {}", root.display()))?;
    let snapshots = store.root().join("areas/snapshots");
    if snapshots.is_dir() {
        // Best effort: what cannot be removed now is tried again next time.
        let _ = strata_snapshot::Snapshotter::remove_leftovers_in(&snapshots);
    }
    Ok(store)
}

/// A registry client with Docker's credentials and the insecure registries given.
pub(crate) fn registry_client(global: &Global) -> anyhow::Result<Client> {
    let options = ClientOptions {
        insecure_registries: global.insecure_registry.clone(),
        docker_config: Some(DockerConfig::from_environment()),
        ..ClientOptions::default()
    };
    Ok(Client::new(options)?)
}

/// A runtime for one command's network work (two workers: the machines have two cores).
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The time to stamp on new images: `SOURCE_DATE_EPOCH` when set, else now.
pub(crate) fn creation_time() -> anyhow::Result<jiff::Timestamp> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) if !text.is_empty() => {
            let seconds: i64 = text.trim().parse().with_context(|| {
                format!("SOURCE_DATE_EPOCH={text:?} is not a number of seconds")
            })?;
            Ok(jiff::Timestamp::from_second(seconds)?)
        }
        _ => Ok(jiff::Timestamp::now()),
    }
}

/// The first 12 hex digits of a digest (Docker's short IDs).
pub(crate) fn short_id(digest: &Digest) -> String {
    digest.hex()[..12].to_owned()
}

/// What a push sends: the request, and the configuration digests (which
/// docker's progress does not show).
pub(crate) struct PushPlan {
    /// The manifest and blobs.
    pub(crate) request: strata_registry::PushRequest,
    /// Configuration blobs among `request.blobs`.
    pub(crate) configs: std::collections::BTreeSet<Digest>,
    /// Layers compressed for this push (0 when the store had them all).
    pub(crate) encoded: usize,
}

/// Plans the push of the store's image `target` (what ref `name` points
/// at) to `reference`. A single-platform image with plain-tar layers (as
/// builds store them) goes with gzip layers and a manifest of its own, as
/// `docker push` sends it; the compressed layers are kept in the store, so a
/// second push compresses nothing. Anything else goes byte for byte.
pub(crate) fn plan_push(
    store: &Store,
    name: &str,
    reference: &strata_oci::Reference,
    target: &strata_oci::Descriptor,
    media_types: strata_store::MediaTypes,
) -> anyhow::Result<PushPlan> {
    use strata_oci::{Manifest, Reference};
    let mut encoded = 0;
    let (manifest_bytes, media_type, blobs, children, configs) =
        match store.read_manifest(target)? {
            Manifest::Image(_) => {
                let image = strata_build::distribution_image(
                    store,
                    target,
                    // gzip at level 6, what docker sends.
                    strata_build::Compression::GZIP,
                    media_types,
                )?;
                encoded = image.encoded;
                let mut blobs = vec![image.config.clone()];
                blobs.extend(image.layers.iter().cloned());
                let configs = [image.config.digest].into();
                (
                    image.manifest_bytes,
                    image.manifest.media_type,
                    blobs,
                    Vec::new(),
                    configs,
                )
            }
            Manifest::Index(index) => {
                let mut blobs = Vec::new();
                let mut children = Vec::new();
                let mut configs = std::collections::BTreeSet::new();
                for child in &index.manifests {
                    if !store.has_blob(&child.digest) {
                        anyhow::bail!(
                            "manifest {} of {} is not in the store",
                            child.digest,
                            reference.familiar()
                        );
                    }
                    if let Manifest::Image(manifest) = store.read_manifest(child)? {
                        configs.insert(manifest.config.digest);
                        blobs.push(manifest.config.clone());
                        blobs.extend(manifest.layers.iter().cloned());
                        children.push((store.read_blob(&child.digest)?, child.media_type.clone()));
                    }
                }
                (
                    store.read_blob(&target.digest)?,
                    target.media_type.clone(),
                    blobs,
                    children,
                    configs,
                )
            }
        };
    // Blobs this image came with from other repositories of the same registry can be mounted.
    let source = store.resolve(name)?.map(|entry| entry.descriptor.digest);
    let mut mount_from: Vec<String> = store
        .refs()?
        .iter()
        .filter(|other| Some(other.descriptor.digest) == source)
        .flat_map(|other| {
            [Some(other.name.as_str()), other.repo_digest()]
                .into_iter()
                .flatten()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter_map(|text| Reference::parse(&text).ok())
        .filter(|other| {
            other.registry() == reference.registry() && other.repository() != reference.repository()
        })
        .map(|other| other.repository().to_owned())
        .collect();
    mount_from.sort();
    mount_from.dedup();
    Ok(PushPlan {
        request: strata_registry::PushRequest {
            manifest: manifest_bytes,
            media_type,
            blobs,
            children,
            mount_from,
        },
        configs,
        encoded,
    })
}

/// The image `text` names, for `--platform` when given (one platform of a
/// multi-platform image), else as the store resolves it for the host.
pub(crate) fn find_image(
    store: &Store,
    text: &str,
    platform: Option<&str>,
) -> anyhow::Result<strata_store::Image> {
    match platform {
        None => Ok(store.find_image(text)?),
        Some(platform) => Ok(store.find_image_for(text, &platform_flag(platform)?)?),
    }
}

/// A `--platform` value (`linux/arm64`, `arm64` ...) as docker reads it:
/// containerd's `Normalize(Parse(text))`.
pub(crate) fn platform_flag(text: &str) -> anyhow::Result<strata_oci::Platform> {
    text.parse()
        .map_err(|e| anyhow::anyhow!("--platform {text}: {e}"))
}
