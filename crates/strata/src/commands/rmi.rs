//! `strata rmi`: removes names, and images that have none left.

use std::process::ExitCode;

use strata_oci::Reference;
use strata_store::{Access, Store};

use super::Global;
use crate::images::{open_store, store_root};

/// Arguments of `strata rmi`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Images: names or IDs
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    /// Remove an image by ID even when it has several names
    #[arg(short, long)]
    force: bool,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let store = open_store(global, Access::Shared)?;
    let mut failed = false;
    for text in &args.images {
        if let Err(error) = remove(&store, text, args.force) {
            eprintln!("Error: {error}");
            failed = true;
        }
    }
    drop(store);
    // Free the content now if no other strata process holds the store.
    if let Some(store) = Store::try_open_exclusive(store_root(global))? {
        store.prune()?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn remove(store: &Store, text: &str, force: bool) -> anyhow::Result<()> {
    let image = store.find_image(text)?;
    let by_name = Reference::parse(text)
        .ok()
        .map(|reference| reference.to_string())
        .filter(|name| image.names.contains(name));
    let names: Vec<String> = match by_name {
        Some(name) => vec![name],
        None => {
            if image.names.len() > 1 && !force {
                anyhow::bail!(
                    "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                    &image.id().hex()[..12]
                );
            }
            image.names.clone()
        }
    };
    let last_names = names.len() == image.names.len();
    if last_names && !force {
        // A container made from it keeps it: Docker refuses without -f.
        let held_by = store
            .holds()?
            .into_iter()
            .find(|hold| hold.descriptor.digest == image.manifest_descriptor.digest);
        if let Some(hold) = held_by {
            let container = hold.holder.trim_start_matches("container/");
            anyhow::bail!(
                "conflict: unable to remove repository reference \"{text}\" (must force) - container {} is using its referenced image {}",
                &container[..container.len().min(12)],
                &image.id().hex()[..12]
            );
        }
    }
    for name in &names {
        store.remove_ref(name)?;
        let shown = Reference::parse(name).map_or_else(|_| name.clone(), |r| r.familiar());
        if !name.starts_with("sha256:") {
            println!("Untagged: {shown}");
        }
        for repo_digest in image.repo_digests.iter().filter(|d| {
            d.starts_with(&format!(
                "{}@",
                name.rsplit_once(':').map_or(name.as_str(), |(n, _)| n)
            ))
        }) {
            let shown = Reference::parse(repo_digest)
                .map_or_else(|_| repo_digest.clone(), |r| r.familiar());
            println!("Untagged: {shown}");
        }
    }
    let remaining = store
        .images()?
        .iter()
        .any(|other| other.manifest_descriptor.digest == image.manifest_descriptor.digest)
        || store
            .holds()?
            .iter()
            .any(|hold| hold.descriptor.digest == image.manifest_descriptor.digest);
    if !remaining {
        println!("Deleted: {}", image.id());
    }
    Ok(())
}
