//! `strata pull`: fetches an image from a registry into the store.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use strata_oci::{Platform, Reference};
use strata_registry::TransferEvent;
use strata_store::Access;

use super::Global;
use strata_build::StoreSink;

use crate::images::{open_store, registry_client, runtime, short_id};

/// Arguments of `strata pull`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The image: NAME[:TAG|@DIGEST]
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    image: String,
    /// The platform to pull from a multi-platform image [default: the host's]
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    /// Download all tagged images in the repository: every platform of a
    /// multi-platform image, named by its index
    #[arg(short = 'a', long, conflicts_with = "platform")]
    all_platforms: bool,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let reference = Reference::parse(&args.image)?;
    let platform = match &args.platform {
        Some(text) => crate::images::platform_flag(text)?,
        None => Platform::host(),
    };
    if args.all_platforms {
        pull_all_platforms(global, &reference, args.quiet)?;
        return Ok(ExitCode::SUCCESS);
    }
    let last_component = args.image.rsplit('/').next().unwrap_or_default();
    if !args.quiet && !last_component.contains(':') && !args.image.contains('@') {
        eprintln!("Using default tag: {}", strata_oci::DEFAULT_TAG);
    }
    let name = pull(global, &reference, &platform, args.quiet)?;
    println!("{name}");
    Ok(ExitCode::SUCCESS)
}

/// Pulls `reference` for `platform` into the store and names it, printing
/// Docker's progress lines on stderr unless `quiet`; the full name.
pub(crate) fn pull(
    global: &Global,
    reference: &Reference,
    platform: &Platform,
    quiet: bool,
) -> anyhow::Result<String> {
    let store = Arc::new(open_store(global, Access::Shared)?);
    let client = registry_client(global)?;
    if !quiet {
        let label = reference.tag().map_or_else(
            || {
                reference
                    .digest()
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            },
            str::to_owned,
        );
        eprintln!("{label}: Pulling from {}", reference.repository());
    }
    let progress: strata_registry::Progress = Arc::new(move |event| {
        if quiet {
            return;
        }
        match event {
            TransferEvent::Exists(digest) => eprintln!("{}: Already exists", short_id(&digest)),
            TransferEvent::Done(digest) => eprintln!("{}: Pull complete", short_id(&digest)),
            _ => {}
        }
    });
    let name = reference.to_string();
    let previous = store.resolve(&name)?;
    let pulled = runtime()?
        .block_on(strata_registry::pull(
            &client,
            reference,
            platform,
            Arc::new(StoreSink(store.clone())),
            progress,
        ))
        .with_context(|| format!("pulling {}", reference.familiar()))?;
    let mut descriptor = pulled.manifest_descriptor();
    descriptor.platform = Some(platform_of(&pulled, &store)?);
    store.set_ref(&name, &descriptor, Some(&pulled.repo_digest.to_string()))?;
    if !quiet {
        let digest = pulled
            .repo_digest
            .digest()
            .map(|d| d.to_string())
            .unwrap_or_default();
        eprintln!("Digest: {digest}");
        let up_to_date = previous.is_some_and(|entry| entry.descriptor.digest == descriptor.digest)
            && pulled.layers_fetched == 0;
        if up_to_date {
            eprintln!("Status: Image is up to date for {}", reference.familiar());
        } else {
            eprintln!(
                "Status: Downloaded newer image for {}",
                reference.familiar()
            );
        }
    }
    Ok(name)
}

/// Every platform an index lists (attestation manifests left out), then
/// the index itself under the name: each platform resolvable by `--platform`.
fn pull_all_platforms(global: &Global, reference: &Reference, quiet: bool) -> anyhow::Result<()> {
    let store = open_store(global, Access::Shared)?;
    let client = registry_client(global)?;
    let runtime = runtime()?;
    let top = runtime
        .block_on(client.fetch_manifest(reference))
        .with_context(|| format!("pulling {}", reference.familiar()))?;
    let strata_oci::Manifest::Index(index) =
        strata_oci::Manifest::parse(&top.bytes, Some(&top.media_type))?
    else {
        pull(global, reference, &Platform::host(), quiet)?;
        return Ok(());
    };
    for platform in index.manifests.iter().filter_map(|m| m.platform.as_ref()) {
        if platform.os != "unknown" {
            pull(global, reference, platform, quiet)?;
        }
    }
    store.write_blob(&top.bytes)?;
    let repo_digest = format!("{}@{}", reference.name(), top.digest);
    store.set_ref(
        &reference.to_string(),
        &top.descriptor(),
        Some(&repo_digest),
    )?;
    Ok(())
}

/// The platform of the pulled image, from its configuration.
fn platform_of(
    pulled: &strata_registry::PulledImage,
    store: &strata_store::Store,
) -> anyhow::Result<Platform> {
    let bytes = store.read_blob(&pulled.image_manifest.config.digest)?;
    let config = strata_oci::ImageConfiguration::parse(&bytes)?;
    Ok(Platform::new(
        &config.os,
        &config.architecture,
        config.variant.as_deref(),
    ))
}
