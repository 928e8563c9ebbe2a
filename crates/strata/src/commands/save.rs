//! `strata save`: images to a docker archive (that `docker load` reads), or an OCI archive.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use strata_oci::Reference;
use strata_store::{Access, ArchiveFormat, SaveItem};

use super::Global;
use crate::images::open_store;

/// Archive formats for `--format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    /// docker-archive (also an OCI layout, like Docker 25+ writes)
    Docker,
    /// OCI image layout
    Oci,
}

/// Arguments of `strata save`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Images: names or IDs
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    /// Write to a file instead of standard output
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Archive format
    #[arg(long, value_enum, default_value = "docker")]
    format: Format,
    /// Save this platform of multi-platform images
    #[arg(long, value_name = "PLATFORM")]
    platform: Option<String>,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let store = open_store(global, Access::Shared)?;
    let mut items: Vec<SaveItem> = Vec::new();
    for text in &args.images {
        let image = crate::images::find_image(&store, text, args.platform.as_deref())?;
        let by_name = Reference::parse(text)
            .ok()
            .filter(|r| image.names.contains(&r.to_string()));
        match items
            .iter_mut()
            .find(|item| item.image.manifest_descriptor.digest == image.manifest_descriptor.digest)
        {
            Some(item) => item.names.extend(by_name),
            None => items.push(SaveItem {
                image,
                names: by_name.into_iter().collect(),
            }),
        }
    }
    let format = match args.format {
        Format::Docker => ArchiveFormat::Docker,
        Format::Oci => ArchiveFormat::Oci,
    };
    match &args.output {
        Some(path) => {
            // Whole or absent: a temporary file beside the target, renamed at the end.
            strata_fs::write_atomic_with(path, |file| {
                let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
                store
                    .save(&items, format, &mut writer)
                    .map_err(std::io::Error::other)?;
                writer.flush()
            })
            .with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                anyhow::bail!(
                    "cowardly refusing to save to a terminal. Use the -o flag or redirect"
                );
            }
            let mut writer = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            store.save(&items, format, &mut writer)?;
            writer.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
