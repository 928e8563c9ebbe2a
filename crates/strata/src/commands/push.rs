//! `strata push`: uploads an image from the store to a registry.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use strata_oci::Reference;
use strata_registry::TransferEvent;
use strata_store::{Access, MediaTypes};

use super::Global;
use crate::images::{StoreSource, open_store, plan_push, registry_client, runtime, short_id};

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
    let plan = plan_push(&store, &name, &reference, &target, MediaTypes::Keep)?;
    let quiet = args.quiet;
    if !quiet {
        eprintln!(
            "The push refers to repository [{}]",
            reference.familiar_name()
        );
    }
    let configs = plan.configs.clone();
    let progress: strata_registry::Progress = Arc::new(move |event| {
        let digest = match &event {
            TransferEvent::Exists(d)
            | TransferEvent::Done(d)
            | TransferEvent::Mounted { digest: d, .. }
            | TransferEvent::Started { digest: d, .. }
            | TransferEvent::Resolved { digest: d } => *d,
        };
        // Docker reports layers only.
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
            &plan.request,
            Arc::new(StoreSource(store.clone())),
            progress,
        ))
        .with_context(|| format!("pushing {}", reference.familiar()))?;
    let repo_digest = reference.with_digest(digest);
    store.set_ref(&name, &entry.descriptor, Some(&repo_digest.to_string()))?;
    let tag = reference.tag().unwrap_or(strata_oci::DEFAULT_TAG);
    println!(
        "{tag}: digest: {digest} size: {}",
        plan.request.manifest.len()
    );
    Ok(ExitCode::SUCCESS)
}
