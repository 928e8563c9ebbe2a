//! `strata sbom`: what an image of the store (or a directory) holds, as a
//! table, SPDX 2.3 or CycloneDX 1.5 JSON (syft's and `docker scout sbom`'s job).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use strata_sbom::Catalog;
use strata_store::Access;

use super::Global;
use crate::images::{creation_time, open_store};

/// Arguments of `strata sbom`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The image (name or ID), or a directory (`dir:PATH`, or a path that exists)
    #[arg(value_name = "IMAGE|DIR")]
    target: String,
    /// Output format: table, spdx-json, cyclonedx-json or json (strata's catalogue)
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    format: String,
    /// Write the document to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let format = args.format.as_str();
    if !["table", "spdx-json", "cyclonedx-json", "json"].contains(&format) {
        anyhow::bail!(
            "--format {format:?}: unknown format (table, spdx-json, cyclonedx-json or json)"
        );
    }
    let catalog = catalog(&args.target, global)?;
    let created = creation_time()?.as_second();
    let text = match format {
        "spdx-json" => strata_sbom::format::spdx_json(&catalog, created),
        "cyclonedx-json" => strata_sbom::format::cyclonedx_json(&catalog, created),
        "json" => serde_json::to_string_pretty(&catalog)? + "\n",
        _ => strata_sbom::format::table(&catalog),
    };
    emit(&text, args.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// The catalogue of `target`: `dir:PATH`, an image of the store, or else an
/// existing directory.
pub(super) fn catalog(target: &str, global: &Global) -> anyhow::Result<Catalog> {
    if let Some(path) = target.strip_prefix("dir:") {
        return directory(Path::new(path));
    }
    let store = open_store(global, Access::Shared)?;
    let image = match store.find_image(target) {
        Ok(image) => image,
        Err(_) if Path::new(target).is_dir() => return directory(Path::new(target)),
        Err(error) => return Err(error.into()),
    };
    Ok(strata_sbom::catalog_image(&store, &image, target)?)
}

fn directory(path: &Path) -> anyhow::Result<Catalog> {
    if !path.is_dir() {
        anyhow::bail!("{}: no such directory", path.display());
    }
    Ok(strata_sbom::catalog_directory(path)?)
}

/// Writes `text` to `output` (atomically) or to standard output.
pub(super) fn emit(text: &str, output: Option<&Path>) -> anyhow::Result<()> {
    match output {
        Some(path) => strata_fs::write_atomic(path, text.as_bytes())
            .with_context(|| format!("write {}", path.display())),
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            Ok(stdout.flush()?)
        }
    }
}
