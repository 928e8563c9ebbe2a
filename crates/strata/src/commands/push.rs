//! `strata push`: uploads an image from the store to a registry.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use strata_oci::{Manifest, Reference};
use strata_registry::{PushRequest, TransferEvent};
use strata_store::Access;

use super::Global;
use crate::images::{StoreSource, open_store, registry_client, runtime, short_id};

/// Arguments of `strata push`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The image: NAME[:TAG]
    #[arg(value_name = "NAME[:TAG]")]
    image: String,
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let reference = Reference::parse(&args.image)?;
    let store = Arc::new(open_store(global, Access::Shared)?);
    let name = reference.to_string();
    let Some(entry) = store.resolve(&name)? else {
        anyhow::bail!(
            "An image does not exist locally with the tag: {}",
            reference.familiar_name()
        );
    };
    let target = store.ref_target(&entry)?;
    let manifest_bytes = store.read_blob(&target.digest)?;
    let (blobs, children) = match store.read_manifest(&target)? {
        Manifest::Image(manifest) => {
            let mut blobs = vec![manifest.config.clone()];
            blobs.extend(manifest.layers.iter().cloned());
            (blobs, Vec::new())
        }
        Manifest::Index(index) => {
            let mut blobs = Vec::new();
            let mut children = Vec::new();
            for child in &index.manifests {
                if !store.has_blob(&child.digest) {
                    anyhow::bail!(
                        "manifest {} of {} is not in the store",
                        child.digest,
                        reference.familiar()
                    );
                }
                if let Manifest::Image(manifest) = store.read_manifest(child)? {
                    blobs.push(manifest.config.clone());
                    blobs.extend(manifest.layers.iter().cloned());
                    children.push((store.read_blob(&child.digest)?, child.media_type.clone()));
                }
            }
            (blobs, children)
        }
    };
    // Blobs this image came with from other repositories of the same registry can be mounted.
    let mut mount_from: Vec<String> = store
        .refs()?
        .iter()
        .filter(|other| other.descriptor.digest == entry.descriptor.digest)
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
    let request = PushRequest {
        manifest: manifest_bytes.clone(),
        media_type: target.media_type.clone(),
        blobs,
        children,
        mount_from,
    };
    let quiet = args.quiet;
    // Docker reports layers only.
    let configs: std::collections::BTreeSet<strata_oci::Digest> =
        match store.read_manifest(&target)? {
            Manifest::Image(manifest) => [manifest.config.digest].into(),
            Manifest::Index(_) => request
                .blobs
                .iter()
                .filter(|b| strata_oci::media_type::layer_compression(&b.media_type).is_none())
                .map(|b| b.digest)
                .collect(),
        };
    if !quiet {
        eprintln!(
            "The push refers to repository [{}]",
            reference.familiar_name()
        );
    }
    let progress: strata_registry::Progress = Arc::new(move |event| {
        let digest = match &event {
            TransferEvent::Exists(d)
            | TransferEvent::Done(d)
            | TransferEvent::Mounted { digest: d, .. }
            | TransferEvent::Started { digest: d, .. }
            | TransferEvent::Resolved { digest: d } => *d,
        };
        if quiet || configs.contains(&digest) {
            return;
        }
        match event {
            TransferEvent::Exists(digest) => {
                eprintln!("{}: Layer already exists", short_id(&digest))
            }
            TransferEvent::Done(digest) => eprintln!("{}: Pushed", short_id(&digest)),
            TransferEvent::Mounted { digest, from } => {
                eprintln!("{}: Mounted from {from}", short_id(&digest))
            }
            _ => {}
        }
    });
    let client = registry_client(global)?;
    let digest = runtime()?
        .block_on(strata_registry::push(
            &client,
            &reference,
            &request,
            Arc::new(StoreSource(store.clone())),
            progress,
        ))
        .with_context(|| format!("pushing {}", reference.familiar()))?;
    let repo_digest = reference.with_digest(digest);
    store.set_ref(&name, &entry.descriptor, Some(&repo_digest.to_string()))?;
    let tag = reference.tag().unwrap_or(strata_oci::DEFAULT_TAG);
    println!("{tag}: digest: {digest} size: {}", manifest_bytes.len());
    Ok(ExitCode::SUCCESS)
}
