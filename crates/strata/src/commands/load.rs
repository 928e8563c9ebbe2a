//! `strata load`: images from a docker or OCI archive (plain or gzip) into the store.

use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use strata_oci::Reference;
use strata_store::Access;

use super::Global;
use crate::images::open_store;

/// Arguments of `strata load`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Read from a file instead of standard input
    #[arg(short, long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short, long)]
    quiet: bool,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let reader: Box<dyn Read> = match &args.input {
        Some(path) => Box::new(strata_fs::open(path)?),
        None => {
            if std::io::stdin().is_terminal() {
                anyhow::bail!("requested load from stdin, but stdin is empty");
            }
            Box::new(std::io::stdin().lock())
        }
    };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let gzip = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    let store = open_store(global, Access::Shared)?;
    let source = args
        .input
        .as_ref()
        .map_or_else(|| "standard input".to_owned(), |p| p.display().to_string());
    let loaded = store
        .load(reader)
        .with_context(|| format!("loading {source}"))?;
    if !args.quiet {
        for image in &loaded {
            if image.named {
                let shown = Reference::parse(&image.name)
                    .map_or_else(|_| image.name.clone(), |r| r.familiar());
                println!("Loaded image: {shown}");
            } else {
                println!("Loaded image ID: {}", image.id);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
