//! `strata context ls|du`: what a build would send, and why it is so big.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use strata_context::source::{self, ContextSpec, ResolveOptions};
use strata_context::{Context, IgnoreFile, ScanOptions, Usage};

use super::Global;

/// Arguments of `strata context`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Subcommand,
}

#[derive(Debug, clap::Subcommand)]
enum Subcommand {
    /// List what `COPY . /` would place in an image: every selected path,
    /// sorted bytewise, directories ending in `/`
    Ls(Target),
    /// Show what is sent and what .dockerignore leaves out, and the largest
    /// directories of each
    Du(Target),
    /// Print the digest of the whole selected context (what `COPY . /` keys
    /// on); `--stats` adds what the scan hashed to stderr
    Digest {
        #[command(flatten)]
        target: Target,
        /// Print files hashed, bytes hashed and cache hits to stderr
        #[arg(long)]
        stats: bool,
    },
}

/// The context and Dockerfile, as `strata build` takes them.
#[derive(Debug, clap::Args)]
struct Target {
    /// The build context: a directory, `-` (a tar archive or a Dockerfile on
    /// stdin), a git URL (`https://host/repo.git#ref:subdir`) or a tarball URL
    #[arg(default_value = ".")]
    context: String,
    /// The Dockerfile (its `<name>.dockerignore` wins over the context's
    /// .dockerignore) [default: <context>/Dockerfile]
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    file: Option<PathBuf>,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    match args.command {
        Subcommand::Ls(target) => {
            let context = scan(&target, global, false)?;
            let mut out = std::io::stdout().lock();
            for line in context.sorted_paths() {
                out.write_all(&line)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        Subcommand::Digest { target, stats } => {
            let context = scan(&target, global, false)?;
            let digest = context
                .root_digest()
                .context("the scan computed no digest")?;
            println!("{digest}");
            if stats {
                let stats = context.stats();
                eprintln!(
                    "entries {} files hashed {} bytes hashed {} cache hits {} cache written {}",
                    stats.entries,
                    stats.files_hashed,
                    stats.bytes_hashed,
                    stats.cache_hits,
                    stats.cache_written
                );
            }
        }
        Subcommand::Du(target) => {
            let context = scan(&target, global, true)?;
            let mut out = std::io::stdout().lock();
            write_usage(&mut out, context.usage())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn scan(target: &Target, global: &Global, account_ignored: bool) -> anyhow::Result<Context> {
    let spec = ContextSpec::parse(&target.context);
    let resolved = source::resolve(&spec, std::io::stdin(), &ResolveOptions::default())
        .with_context(|| format!("resolving build context {}", target.context))?;
    let root = resolved.root();
    let dockerfile = match &target.file {
        Some(file) => Some(file.clone()),
        None if resolved.dockerfile().is_some() => None,
        None => Some(root.join("Dockerfile")),
    };
    let ignore = IgnoreFile::for_build(root, dockerfile.as_deref())?;
    // The metadata cache lives in the store when one is named explicitly.
    let cache_directory = global
        .root
        .as_ref()
        .map(|r| r.join("cache").join("context"));
    let options = ScanOptions::new()
        .exclude(ignore.matcher().clone())
        .cache_directory(cache_directory)
        .account_ignored(account_ignored);
    let context = Context::scan(root, &options)?;
    for warning in context.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(context)
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn write_usage(out: &mut impl Write, usage: &Usage) -> std::io::Result<()> {
    writeln!(
        out,
        "sent:    {:>8} files {:>10}  ({} bytes)",
        usage.sent.files,
        human(usage.sent.bytes),
        usage.sent.bytes
    )?;
    writeln!(
        out,
        "ignored: {:>8} files {:>10}  ({} bytes)",
        usage.ignored.files,
        human(usage.ignored.bytes),
        usage.ignored.bytes
    )?;
    for (title, list) in [
        ("largest ignored directories", &usage.largest_ignored),
        ("largest included directories", &usage.largest_included),
    ] {
        writeln!(out, "{title}:")?;
        if list.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for directory in list {
            writeln!(
                out,
                "  {:>10} {:>8} files  {}/",
                human(directory.totals.bytes),
                directory.totals.files,
                display(&directory.path)
            )?;
        }
    }
    Ok(())
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
