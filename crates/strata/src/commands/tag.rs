//! `strata tag`: gives an image another name.

use std::process::ExitCode;

use strata_oci::Reference;
use strata_store::Access;

use super::Global;
use crate::images::open_store;

/// Arguments of `strata tag`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The existing image: name, name:tag, or image ID
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    source: String,
    /// The new name
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    target: String,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let target = Reference::parse(&args.target)?;
    if target.digest().is_some() {
        anyhow::bail!(
            "refusing to create a tag with a digest reference: {}",
            args.target
        );
    }
    let store = open_store(global, Access::Shared)?;
    let image = store.find_image(&args.source)?;
    // Point at what the source's ref points at (an index stays an index).
    let source_descriptor = image
        .names
        .iter()
        .find_map(|name| store.resolve(name).ok().flatten())
        .map(|entry| entry.descriptor)
        .unwrap_or_else(|| image.manifest_descriptor.clone());
    let mut descriptor = source_descriptor;
    descriptor
        .annotations
        .retain(|key, _| key == strata_store::ANNOTATION_DOCKER_MANIFEST);
    store.set_ref(&target.to_string(), &descriptor, None)?;
    Ok(ExitCode::SUCCESS)
}
