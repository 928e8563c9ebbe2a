//! `strata import`: a rootfs tarball or directory as a one-layer image, like `docker import`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use strata_oci::{
    ContainerConfig, Descriptor, Empty, History, ImageConfiguration, Platform, Reference, RootFs,
    Sha256Writer, media_type,
};
use strata_store::Access;

use super::Global;
use crate::images::{creation_time, open_store};

/// Arguments of `strata import`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A tarball (plain or gzip), a directory, or - for standard input
    #[arg(value_name = "file|directory|-")]
    source: String,
    /// Name the image
    #[arg(value_name = "REPOSITORY[:TAG]")]
    repository: Option<String>,
    /// Apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)
    #[arg(short, long = "change", value_name = "INSTRUCTION")]
    changes: Vec<String>,
    /// Set a commit message for the imported image
    #[arg(short, long)]
    message: Option<String>,
    /// The image's platform [default: the host's]
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let reference = args
        .repository
        .as_deref()
        .map(Reference::parse)
        .transpose()?;
    let platform = match &args.platform {
        Some(text) => crate::images::platform_flag(text)?,
        None => Platform::host(),
    };
    let mut config = ContainerConfig::default();
    for change in &args.changes {
        apply_change(&mut config, change).with_context(|| format!("--change {change:?}"))?;
    }
    let store = open_store(global, Access::Shared)?;
    // The layer: gzip into the store while hashing the uncompressed tar (the diff ID).
    let blob = store.begin_blob()?;
    let encoder = flate2::write::GzEncoder::new(
        std::io::BufWriter::with_capacity(1 << 20, blob),
        flate2::Compression::default(),
    );
    let mut tar_writer = Sha256Writer::new(encoder);
    let path = Path::new(&args.source);
    if args.source == "-" {
        copy_tarball(std::io::stdin().lock(), &mut tar_writer, "standard input")?;
    } else if path.is_dir() {
        write_directory(path, &mut tar_writer)?;
    } else {
        let file = strata_fs::open(path)?;
        copy_tarball(file, &mut tar_writer, &args.source)?;
    }
    let (diff_id, _, encoder) = tar_writer.finish();
    let blob = encoder
        .finish()
        .and_then(|writer| {
            writer
                .into_inner()
                .map_err(std::io::IntoInnerError::into_error)
        })
        .context("compressing the layer")?;
    let (layer_digest, layer_size) = blob.commit(None)?;
    let created = creation_time()?
        .strftime("%Y-%m-%dT%H:%M:%S%.fZ")
        .to_string();
    let source_name = if args.source == "-" {
        "-".to_owned()
    } else {
        args.source.clone()
    };
    let comment = args
        .message
        .clone()
        .unwrap_or_else(|| format!("Imported from {source_name}"));
    let image_config = ImageConfiguration {
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone(),
        created: Some(created.clone()),
        config: Some(config),
        rootfs: RootFs {
            kind: "layers".to_owned(),
            diff_ids: vec![diff_id],
        },
        history: vec![History {
            created: Some(created),
            comment: Some(comment),
            ..History::default()
        }],
        ..ImageConfiguration::default()
    };
    let descriptor = store.write_image(
        &image_config,
        vec![Descriptor::new(
            media_type::OCI_LAYER_GZIP,
            layer_digest,
            layer_size,
        )],
    )?;
    let config_digest = strata_oci::Digest::of(&image_config.to_json());
    let name = reference.map_or_else(|| config_digest.to_string(), |r| r.to_string());
    store.set_ref(&name, &descriptor, None)?;
    println!("{config_digest}");
    Ok(ExitCode::SUCCESS)
}

/// Copies a tarball (gzip-compressed or plain) as the uncompressed layer.
fn copy_tarball(reader: impl Read, writer: &mut impl Write, source: &str) -> anyhow::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let head = reader.fill_buf()?;
    let mut reader: Box<dyn Read> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || head.starts_with(b"BZh")
        || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z'])
    {
        anyhow::bail!("{source}: only plain and gzip-compressed tarballs can be imported");
    } else {
        Box::new(reader)
    };
    std::io::copy(&mut reader, writer).with_context(|| format!("reading {source}"))?;
    Ok(())
}

/// A tar of `root`'s contents in sorted order, keeping modes, owners, times and symlinks.
fn write_directory(root: &Path, writer: &mut impl Write) -> anyhow::Result<()> {
    let mut builder = tar::Builder::new(writer);
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Complete);
    let mut stack: Vec<PathBuf> = vec![PathBuf::new()];
    while let Some(relative) = stack.pop() {
        let full = root.join(&relative);
        let mut children: Vec<PathBuf> = strata_fs::read_dir(&full)?
            .map(|entry| entry.map(|e| relative.join(e.file_name())))
            .collect::<Result<_, _>>()
            .with_context(|| format!("listing {}", full.display()))?;
        children.sort();
        // Depth-first in sorted order: push in reverse so the smallest comes out first.
        let mut directories = Vec::new();
        for child in &children {
            let path = root.join(child);
            let metadata = strata_fs::symlink_metadata(&path)?;
            let kind = metadata.file_type();
            if kind.is_file() || kind.is_dir() || kind.is_symlink() {
                builder
                    .append_path_with_name(&path, child)
                    .with_context(|| format!("adding {}", path.display()))?;
            } else {
                append_special(&mut builder, child, &metadata)
                    .with_context(|| format!("adding {}", path.display()))?;
            }
            if metadata.is_dir() {
                directories.push(child.clone());
            }
        }
        for directory in directories.into_iter().rev() {
            stack.push(directory);
        }
    }
    builder.finish().context("finishing the layer tar")?;
    Ok(())
}

/// Devices and FIFOs (the tar crate's own path for them rejects some names);
/// sockets are skipped, as tar does.
fn append_special(
    builder: &mut tar::Builder<impl Write>,
    name: &Path,
    metadata: &std::fs::Metadata,
) -> std::io::Result<()> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let kind = metadata.file_type();
    let entry_type = if kind.is_char_device() {
        tar::EntryType::Char
    } else if kind.is_block_device() {
        tar::EntryType::Block
    } else if kind.is_fifo() {
        tar::EntryType::Fifo
    } else {
        return Ok(());
    };
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(entry_type);
    header.set_mode(metadata.mode() & 0o7777);
    header.set_uid(u64::from(metadata.uid()));
    header.set_gid(u64::from(metadata.gid()));
    header.set_mtime(u64::try_from(metadata.mtime()).unwrap_or(0));
    header.set_size(0);
    let device = metadata.rdev();
    // glibc's encoding of dev_t.
    let major = ((device >> 8) & 0xfff) | ((device >> 32) & !0xfff);
    let minor = (device & 0xff) | ((device >> 12) & !0xff);
    header.set_device_major(u32::try_from(major).unwrap_or(0))?;
    header.set_device_minor(u32::try_from(minor).unwrap_or(0))?;
    builder.append_data(&mut header, name, std::io::empty())
}

/// Applies one `--change` instruction to `config`.
fn apply_change(config: &mut ContainerConfig, change: &str) -> anyhow::Result<()> {
    let change = change.trim();
    let (instruction, rest) = change
        .split_once(char::is_whitespace)
        .unwrap_or((change, ""));
    let rest = rest.trim();
    let command = |text: &str| -> anyhow::Result<Vec<String>> {
        if text.starts_with('[') {
            Ok(serde_json::from_str(text).context("not a JSON array of strings")?)
        } else {
            Ok(vec!["/bin/sh".to_owned(), "-c".to_owned(), text.to_owned()])
        }
    };
    let pairs = |text: &str| -> Vec<(String, String)> {
        if text.contains('=') {
            text.split_whitespace()
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
                .collect()
        } else {
            text.split_once(char::is_whitespace)
                .map(|(k, v)| vec![(k.to_owned(), v.trim().to_owned())])
                .unwrap_or_default()
        }
    };
    match instruction.to_ascii_uppercase().as_str() {
        "CMD" => config.cmd = Some(command(rest)?),
        "ENTRYPOINT" => config.entrypoint = Some(command(rest)?),
        "ENV" => {
            let env = config.env.get_or_insert_with(Vec::new);
            for (key, value) in pairs(rest) {
                env.retain(|entry| entry.split_once('=').map(|(k, _)| k) != Some(key.as_str()));
                env.push(format!("{key}={value}"));
            }
        }
        "LABEL" => {
            for (key, value) in pairs(rest) {
                config.labels.insert(key, value);
            }
        }
        "EXPOSE" => {
            for port in rest.split_whitespace() {
                let port = if port.contains('/') {
                    port.to_owned()
                } else {
                    format!("{port}/tcp")
                };
                config.exposed_ports.insert(port, Empty {});
            }
        }
        "VOLUME" => {
            let volumes: Vec<String> = if rest.starts_with('[') {
                serde_json::from_str(rest).context("not a JSON array of strings")?
            } else {
                rest.split_whitespace().map(str::to_owned).collect()
            };
            for volume in volumes {
                config.volumes.insert(volume, Empty {});
            }
        }
        "WORKDIR" => config.working_dir = rest.to_owned(),
        "USER" => config.user = rest.to_owned(),
        "STOPSIGNAL" => config.stop_signal = rest.to_owned(),
        other => anyhow::bail!(
            "{other} is not supported by import (use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR)"
        ),
    }
    Ok(())
}
