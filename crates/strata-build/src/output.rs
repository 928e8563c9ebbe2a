//! Where a build's result goes (`--output`, BuildKit's exporters): the
//! store under names, an OCI or docker archive, or the final file system as
//! a directory or a tar. Files appear whole or not at all (written beside
//! the destination and renamed); a new directory likewise.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use strata_layer::{ApplyOptions, Change, ChangeKind, Compression, LayerOptions};
use strata_oci::{Descriptor, Reference};
use strata_snapshot::Snapshotter;
use strata_store::{ArchiveFormat, BlobEncoder, MediaTypes, SaveItem, Store};

use crate::annotations::{AnnotationTarget, Annotations};
use crate::attestation::Attestations;
use crate::error::{Error, Result};
use crate::solve::{Layer, ensure_chain};

/// What an output is (BuildKit's exporter types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// The image in the store, named (`type=image`, docker build's default).
    Image,
    /// An OCI image layout tar (`type=oci`).
    Oci,
    /// A `docker save` tar that `docker load` reads (`type=docker`).
    Docker,
    /// The final file system as a directory (`type=local`).
    Local,
    /// The final file system as a tar (`type=tar`).
    Tar,
}

impl OutputKind {
    /// The exporter's name in `type=`.
    pub fn name(self) -> &'static str {
        match self {
            OutputKind::Image => "image",
            OutputKind::Oci => "oci",
            OutputKind::Docker => "docker",
            OutputKind::Local => "local",
            OutputKind::Tar => "tar",
        }
    }
}

/// A stream an output is written to (stdout, a pipe into `docker load`);
/// shared, so that [`crate::BuildOptions`] stays `Clone`.
#[derive(Clone)]
pub struct OutputStream {
    name: String,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl OutputStream {
    /// `writer`, called `name` in messages (`stdout`).
    pub fn new(name: impl Into<String>, writer: Box<dyn Write + Send>) -> Self {
        Self {
            name: name.into(),
            writer: Arc::new(Mutex::new(writer)),
        }
    }

    /// Its name in messages.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for OutputStream {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("OutputStream")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Write for &OutputStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| io::Error::other("output stream poisoned"))?;
        writer.write(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| io::Error::other("output stream poisoned"))?;
        writer.flush()
    }
}

/// Where an output's bytes go.
#[derive(Clone, Debug)]
pub enum Destination {
    /// Nowhere (an image output: the store is its destination).
    None,
    /// A file (oci, docker, tar) or a directory (local).
    Path(PathBuf),
    /// A stream the caller opened.
    Stream(OutputStream),
}

/// One output of a build.
#[derive(Clone, Debug)]
pub struct Output {
    /// The exporter.
    pub kind: OutputKind,
    /// Where it goes.
    pub destination: Destination,
    /// Names: refs in the store (image) or in the archive (oci, docker).
    pub names: Vec<Reference>,
    /// How archive layers are compressed (default gzip, as BuildKit's).
    pub compression: Compression,
    /// Media types of an archive: OCI's (default for oci) or Docker's
    /// (default for docker).
    pub oci_media_types: bool,
}

impl Output {
    /// An output of `kind` to `destination`, BuildKit's defaults otherwise.
    pub fn new(kind: OutputKind, destination: Destination) -> Self {
        Self {
            kind,
            destination,
            names: Vec::new(),
            compression: Compression::GZIP,
            oci_media_types: kind != OutputKind::Docker,
        }
    }
}

/// Layers compressed by `strata-layer` on every core: the encoder of the
/// store's distribution variants (push, archives).
#[derive(Clone, Copy, Debug)]
pub struct LayerCompression(pub Compression);

impl BlobEncoder for LayerCompression {
    fn name(&self) -> String {
        match self.0 {
            Compression::None => "plain".to_owned(),
            Compression::Gzip { level } => format!("gzip-{level}"),
            Compression::Zstd { level } if level < 0 => format!("zstd-minus{}", -level),
            Compression::Zstd { level } => format!("zstd-{level}"),
        }
    }

    fn layer_media_type(&self, docker: bool) -> &'static str {
        match (self.0, docker) {
            (Compression::None, true) => strata_oci::media_type::DOCKER_LAYER,
            (Compression::Gzip { .. }, true) => strata_oci::media_type::DOCKER_LAYER_GZIP,
            (compression, _) => compression.media_type(),
        }
    }

    fn encode(&self, input: &mut dyn io::Read, output: &mut dyn Write) -> io::Result<()> {
        strata_layer::compress(input, output, self.0, 0).map(|_| ())
    }
}

/// The store's image in the form an archive or a registry gets: layers
/// compressed with `compression` (each once: they are kept as variants).
pub fn distribution_image(
    store: &Store,
    manifest: &Descriptor,
    compression: Compression,
    media_types: MediaTypes,
) -> Result<strata_store::DistributionImage> {
    let encoder = LayerCompression(compression);
    let encoder: Option<&dyn BlobEncoder> = match compression {
        Compression::None => None,
        _ => Some(&encoder),
    };
    Ok(store.distribution_image(manifest, encoder, media_types)?)
}

/// Writes an OCI or docker archive of `manifest` to `sink`; the
/// distribution manifest's descriptor, or the index's when `attestations`
/// make one (OCI archives only: docker's cannot hold them).
pub(crate) fn write_archive(
    store: &Store,
    manifest: &Descriptor,
    output: &Output,
    attestations: Option<&Attestations>,
    annotations: &Annotations,
    sink: &mut dyn Write,
) -> Result<Descriptor> {
    let media_types = if output.oci_media_types {
        MediaTypes::Oci
    } else {
        MediaTypes::Docker
    };
    let image = distribution_image(store, manifest, output.compression, media_types)?;
    let descriptor_annotations = annotations.for_target(AnnotationTarget::ManifestDescriptor, None);
    if output.kind == OutputKind::Oci
        && (attestations.is_some() || !descriptor_annotations.is_empty())
    {
        let root = match attestations {
            Some(attestations) => {
                attestations.write_index(store, &image.manifest, &output.names)?
            }
            None => {
                let mut root = image.manifest.clone();
                root.annotations = descriptor_annotations;
                root
            }
        };
        store.save_layout(&[(root.clone(), output.names.clone())], sink)?;
        return Ok(root);
    }
    let loaded = store.load_image(&image.manifest)?;
    let format = match output.kind {
        OutputKind::Docker => ArchiveFormat::Docker,
        _ => ArchiveFormat::Oci,
    };
    let item = SaveItem {
        image: loaded,
        names: output.names.clone(),
    };
    store.save(&[item], format, sink)?;
    Ok(image.manifest)
}

/// Writes the file system of `layers` (the build's result) as one tar to
/// `sink`: every file, as the image's container would see it. Returns the
/// tar's size.
pub(crate) fn write_filesystem(
    store: &Store,
    snapshotter: &Snapshotter,
    layers: &[Layer],
    source_date_epoch: Option<i64>,
    sink: &mut dyn Write,
) -> Result<u64> {
    let chain = ensure_chain(store, snapshotter, layers)?;
    let active = snapshotter.prepare(chain.as_ref())?;
    let mounted = active.mount()?;
    let mut changes = Vec::new();
    walk(mounted.path(), Path::new(""), &mut changes)?;
    let options = LayerOptions {
        compression: Compression::None,
        source_date_epoch,
        threads: 1,
    };
    let (digests, _) = strata_layer::write_layer(mounted.path(), &changes, &options, sink)?;
    drop(mounted);
    active.discard()?;
    Ok(digests.uncompressed_size)
}

/// Every path under `root/relative`, depth first.
fn walk(root: &Path, relative: &Path, changes: &mut Vec<Change>) -> Result<()> {
    let directory = root.join(relative);
    for entry in strata_fs::read_dir(&directory)? {
        let entry = entry.map_err(|e| Error::io("list directory", &directory, e))?;
        let path = relative.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| Error::io("stat", &directory.join(entry.file_name()), e))?;
        changes.push(Change::new(path.clone(), ChangeKind::Modified));
        if kind.is_dir() {
            walk(root, &path, changes)?;
        }
    }
    Ok(())
}

/// Writes `tar` (a file system) into directory `destination`: into it when
/// it exists (what is there stays unless overwritten, as BuildKit's local
/// exporter does), else into a new directory renamed into place at the end.
pub(crate) fn unpack_into(
    destination: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<u64> + Send,
) -> Result<u64> {
    let existing = destination.is_dir();
    let target = if existing {
        destination.to_path_buf()
    } else {
        let staging = sibling(destination, "tmp");
        if let Some(parent) = staging.parent() {
            strata_fs::create_dir_all(parent)?;
        }
        strata_fs::create_dir_all(&staging)?;
        staging
    };
    let result = (|| {
        let (reader, mut writer) = io::pipe().map_err(|e| Error::io("pipe", destination, e))?;
        std::thread::scope(|scope| {
            let producer = scope.spawn(move || {
                let written = write(&mut writer);
                drop(writer);
                written
            });
            let applied = strata_layer::apply_layer(reader, &target, &ApplyOptions::default());
            let written = producer.join().unwrap_or(Err(Error::Cancelled));
            let size = written?;
            applied?;
            Ok(size)
        })
    })();
    if !existing {
        match &result {
            Ok(_) => strata_fs::rename(&target, destination)?,
            Err(_) => {
                let _ = std::fs::remove_dir_all(&target);
            }
        }
    }
    result
}

/// Writes a file at `destination` whole or not at all: into a temporary
/// file beside it, renamed when `write` succeeds.
pub(crate) fn write_file_atomically<T>(
    destination: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    let temporary = sibling(destination, "tmp");
    let file = std::fs::File::create(&temporary).map_err(|e| Error::io("create", &temporary, e))?;
    let mut buffered = io::BufWriter::with_capacity(1 << 20, file);
    let result = write(&mut buffered).and_then(|value| {
        let file = buffered
            .into_inner()
            .map_err(|e| Error::io("write", &temporary, e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io("fsync", &temporary, e))?;
        strata_fs::rename(&temporary, destination)?;
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// `.NAME.SUFFIX-PID` beside `path`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_owned());
    let hidden = format!(".{name}.{suffix}-{}", std::process::id());
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join(hidden),
        _ => PathBuf::from(hidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoder_names_are_store_keys() {
        assert_eq!(LayerCompression(Compression::GZIP).name(), "gzip-6");
        assert_eq!(
            LayerCompression(Compression::Zstd { level: -3 }).name(),
            "zstd-minus3"
        );
        assert_eq!(
            LayerCompression(Compression::GZIP).layer_media_type(true),
            strata_oci::media_type::DOCKER_LAYER_GZIP
        );
        assert_eq!(
            LayerCompression(Compression::ZSTD).layer_media_type(true),
            strata_oci::media_type::OCI_LAYER_ZSTD
        );
    }

    #[test]
    fn files_appear_whole_or_not_at_all() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("out.tar");
        let failed: Result<()> = write_file_atomically(&path, |sink| {
            sink.write_all(b"half").unwrap();
            Err(Error::Cancelled)
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 0);
        write_file_atomically(&path, |sink| {
            sink.write_all(b"whole")
                .map_err(|e| Error::io("write", Path::new("x"), e))
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 1);
    }
}
