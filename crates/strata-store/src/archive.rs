//! Image archives: `docker save` tars (which `docker load` and
//! `skopeo … docker-archive:` read) and OCI image layout tars, written and read.
//!
//! A docker archive is written the way Docker 25 writes it: an OCI image
//! layout (`oci-layout`, `index.json`, `blobs/sha256/…`) plus `manifest.json`
//! and `repositories`, so that one file serves both readers. Older docker
//! archives (`<id>/layer.tar`, `<id>.json`) are read too.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use strata_oci::{
    ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, Descriptor, Digest, ImageIndex, ImageManifest,
    Reference, media_type,
};

use crate::error::{Result, StoreError, io_error, json_error};
use crate::{Image, Store};

/// The archive shapes `save` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// A docker archive (`manifest.json`, `repositories`) that is also an OCI layout.
    Docker,
    /// An OCI image layout only.
    Oci,
}

/// An image to save and the names to save it under.
#[derive(Debug, Clone)]
pub struct SaveItem {
    /// The image.
    pub image: Image,
    /// Its names in the archive (may be empty: saved by ID).
    pub names: Vec<Reference>,
}

/// One image `load` added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    /// The ref name it was stored under (a reference, or the image ID if unnamed).
    pub name: String,
    /// Whether it had a name in the archive.
    pub named: bool,
    /// The image ID (config digest).
    pub id: Digest,
}

/// One entry of a docker archive's `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DockerManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default, deserialize_with = "null_as_empty")]
    repo_tags: Vec<String>,
    #[serde(rename = "Layers", default, deserialize_with = "null_as_empty")]
    layers: Vec<String>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Most a metadata file in an archive may hold in memory.
const METADATA_LIMIT: u64 = 64 << 20;

impl Store {
    /// Writes `items` as an archive of `format` to `writer`. Entries are in a
    /// fixed order with zero times and owners, so equal input gives equal bytes.
    pub fn save(
        &self,
        items: &[SaveItem],
        format: ArchiveFormat,
        writer: impl Write,
    ) -> Result<()> {
        let mut builder = tar::Builder::new(writer);
        append_layout_start(&mut builder).map_err(write_error())?;
        let mut saver = ArchiveSaver {
            store: self,
            builder,
            written: BTreeSet::new(),
            index_entries: Vec::new(),
            docker_entries: Vec::new(),
            repositories: BTreeMap::new(),
        };
        for item in items {
            saver.save_image(item)?;
        }
        saver.finish(format)
    }

    /// Writes an OCI layout tar of `roots` (manifests or indexes, an image
    /// with its attestations) to `writer`: every blob they reach, and
    /// `index.json` listing each root with its own annotations and, once per
    /// name, the name's. Same input, same bytes, as [`Store::save`].
    pub fn save_layout(
        &self,
        roots: &[(Descriptor, Vec<Reference>)],
        writer: impl Write,
    ) -> Result<()> {
        let archive_path = PathBuf::from("<archive>");
        let fail = || io_error("write", &archive_path);
        let mut builder = tar::Builder::new(writer);
        append_layout_start(&mut builder).map_err(fail())?;
        let mut blobs = BTreeSet::new();
        for (root, _) in roots {
            self.reachable(root, &mut blobs)?;
        }
        for digest in blobs {
            let file = self.open_blob(&digest)?;
            let mut header = file_header(self.blob_size(&digest)?);
            builder
                .append_data(&mut header, format!("blobs/sha256/{}", digest.hex()), file)
                .map_err(fail())?;
        }
        let mut entries = Vec::new();
        for (root, names) in roots {
            if names.is_empty() {
                entries.push(root.clone());
            }
            for name in names {
                let mut descriptor = root.clone();
                for key in [ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME] {
                    descriptor
                        .annotations
                        .insert(key.to_owned(), name.to_string());
                }
                entries.push(descriptor);
            }
        }
        let index = ImageIndex::new(entries);
        append_bytes(&mut builder, "index.json", &index.to_json()).map_err(fail())?;
        builder
            .into_inner()
            .and_then(|mut writer| writer.flush())
            .map_err(fail())
    }

    /// Reads a docker or OCI archive from `reader` into the store and points
    /// refs at its images. Every `blobs/sha256/<hex>` entry is verified
    /// against its name while it streams in.
    pub fn load(&self, reader: impl Read) -> Result<Vec<LoadedImage>> {
        let contents = self.read_archive(reader)?;
        if let Some(bytes) = contents.metadata.get("index.json") {
            let index: ImageIndex =
                serde_json::from_slice(bytes).map_err(json_error("index.json"))?;
            return self.load_oci(&index);
        }
        let Some(bytes) = contents.metadata.get("manifest.json") else {
            return Err(StoreError::Archive {
                reason: "neither index.json nor manifest.json found: not a docker or OCI archive"
                    .to_owned(),
            });
        };
        let entries: Vec<DockerManifestEntry> =
            serde_json::from_slice(bytes).map_err(json_error("manifest.json"))?;
        let mut loaded = Vec::new();
        for entry in entries {
            loaded.extend(self.load_docker_entry(&contents, &entry)?);
        }
        Ok(loaded)
    }

    /// Reads every entry of an archive into the store or into memory.
    fn read_archive(&self, reader: impl Read) -> Result<ArchiveContents> {
        let mut archive = tar::Archive::new(reader);
        let mut contents = ArchiveContents::default();
        let entries = archive.entries().map_err(not_tar)?;
        for entry in entries {
            let mut entry = entry.map_err(not_tar)?;
            self.read_entry(&mut contents, &mut entry)?;
        }
        Ok(contents)
    }

    /// Reads one archive entry: a link is remembered, a blob verified
    /// against its name, a small metadata file kept in memory and any other
    /// file stored by its content.
    fn read_entry<R: Read>(
        &self,
        contents: &mut ArchiveContents,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<()> {
        let archive_path = PathBuf::from("<archive>");
        let path = entry
            .path()
            .map_err(io_error("read", &archive_path))?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_owned();
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            if let Ok(Some(target)) = entry.link_name() {
                let target = target.to_string_lossy().into_owned();
                let resolved = if kind.is_symlink() {
                    resolve_relative(&path, &target)
                } else {
                    target.trim_start_matches("./").to_owned()
                };
                contents.links.insert(path, resolved);
            }
            return Ok(());
        }
        if !kind.is_file() {
            return Ok(());
        }
        let size = entry.size();
        if let Some(hex) = path.strip_prefix("blobs/sha256/") {
            let expected: Digest =
                format!("sha256:{hex}")
                    .parse()
                    .map_err(|_| StoreError::Archive {
                        reason: format!("{path} is not named by a sha256 digest"),
                    })?;
            if !self.has_blob(&expected) {
                self.ingest(&expected, Some(size), entry)?;
            }
            contents.files.insert(path, (expected, size));
        } else if size <= METADATA_LIMIT && !path.ends_with(".tar") && !path.ends_with("/layer") {
            let mut bytes = Vec::with_capacity(size as usize);
            entry
                .read_to_end(&mut bytes)
                .map_err(io_error("read", &archive_path))?;
            contents.metadata.insert(path, bytes);
        } else {
            let mut writer = self.begin_blob()?;
            std::io::copy(entry, &mut writer).map_err(io_error("read", &archive_path))?;
            let (digest, size) = writer.commit(None)?;
            contents.files.insert(path, (digest, size));
        }
        Ok(())
    }

    /// Stores one image of a docker archive's `manifest.json`: its config, a
    /// Docker manifest over its layers, and refs for its tags.
    fn load_docker_entry(
        &self,
        contents: &ArchiveContents,
        entry: &DockerManifestEntry,
    ) -> Result<Vec<LoadedImage>> {
        let config_digest = self.docker_config(contents, &entry.config)?;
        let config_size = self.blob_size(&config_digest)?;
        let mut layers = Vec::new();
        for layer_path in &entry.layers {
            layers.push(self.docker_layer(contents, layer_path)?);
        }
        let mut manifest = ImageManifest::new(
            Descriptor::new(media_type::DOCKER_CONFIG, config_digest, config_size),
            layers,
        );
        manifest.media_type = Some(media_type::DOCKER_MANIFEST.to_owned());
        let bytes = manifest.to_json();
        let manifest_digest = self.write_blob(&bytes)?;
        let descriptor = Descriptor::new(
            media_type::DOCKER_MANIFEST,
            manifest_digest,
            bytes.len() as u64,
        );
        let names: Vec<String> = entry
            .repo_tags
            .iter()
            .map(|tag| {
                Reference::parse(tag)
                    .map(|r| r.to_string())
                    .map_err(|error| StoreError::Archive {
                        reason: format!("manifest.json: {error}"),
                    })
            })
            .collect::<Result<_>>()?;
        self.name_loaded(&descriptor, names, config_digest)
    }

    /// The digest of the config a docker archive names, stored as a blob.
    fn docker_config(&self, contents: &ArchiveContents, config: &str) -> Result<Digest> {
        let config_path = contents.resolve_link(config);
        match (
            contents.metadata.get(&config_path),
            contents.files.get(&config_path),
        ) {
            (Some(bytes), _) => self.write_blob(bytes),
            (None, Some((digest, _))) => Ok(*digest),
            (None, None) => Err(StoreError::Archive {
                reason: format!(
                    "manifest.json names config {config_path}, which is not in the archive"
                ),
            }),
        }
    }

    /// The descriptor of a layer a docker archive names, its media type
    /// from the compression its first bytes show.
    fn docker_layer(&self, contents: &ArchiveContents, layer_path: &str) -> Result<Descriptor> {
        let layer_path = contents.resolve_link(layer_path);
        let Some((digest, size)) = contents.files.get(&layer_path).copied() else {
            return Err(StoreError::Archive {
                reason: format!(
                    "manifest.json names layer {layer_path}, which is not in the archive"
                ),
            });
        };
        let layer_media_type = match sniff_compression(self, &digest)? {
            Sniffed::Gzip => media_type::DOCKER_LAYER_GZIP,
            Sniffed::Zstd => media_type::OCI_LAYER_ZSTD,
            Sniffed::Plain => media_type::DOCKER_LAYER,
        };
        Ok(Descriptor::new(layer_media_type, digest, size))
    }

    fn load_oci(&self, index: &ImageIndex) -> Result<Vec<LoadedImage>> {
        let mut loaded = Vec::new();
        for descriptor in &index.manifests {
            let mut reachable = BTreeSet::new();
            self.reachable(descriptor, &mut reachable)?;
            if let Some(missing) = reachable.iter().find(|digest| !self.has_blob(digest)) {
                // Indexes may list platforms whose blobs were not saved; a
                // single-platform manifest must be whole.
                if media_type::is_manifest(&descriptor.media_type) {
                    return Err(StoreError::Archive {
                        reason: format!(
                            "blob {missing} of manifest {} is missing",
                            descriptor.digest
                        ),
                    });
                }
            }
            let image = self.load_image(descriptor)?;
            let name = descriptor
                .annotation(ANNOTATION_IMAGE_NAME)
                .or_else(|| descriptor.annotation(ANNOTATION_REF_NAME))
                .and_then(|name| {
                    if name.contains(['/', ':']) {
                        Reference::parse(name).ok()
                    } else {
                        None
                    }
                })
                .map(|r| r.to_string());
            let mut clean = descriptor.clone();
            clean
                .annotations
                .retain(|key, _| key != ANNOTATION_IMAGE_NAME && key != ANNOTATION_REF_NAME);
            loaded.extend(self.name_loaded(&clean, name.into_iter().collect(), image.id())?);
        }
        Ok(loaded)
    }

    fn name_loaded(
        &self,
        descriptor: &Descriptor,
        names: Vec<String>,
        id: Digest,
    ) -> Result<Vec<LoadedImage>> {
        if names.is_empty() {
            let name = id.to_string();
            self.set_ref(&name, descriptor, None)?;
            return Ok(vec![LoadedImage {
                name,
                named: false,
                id,
            }]);
        }
        let mut loaded = Vec::new();
        for name in names {
            self.set_ref(&name, descriptor, None)?;
            loaded.push(LoadedImage {
                name,
                named: true,
                id,
            });
        }
        Ok(loaded)
    }
}

/// What `save` has written so far and what its index files will list.
struct ArchiveSaver<'a, W: Write> {
    store: &'a Store,
    builder: tar::Builder<W>,
    /// Blobs already in the archive.
    written: BTreeSet<Digest>,
    /// `index.json`'s manifests.
    index_entries: Vec<Descriptor>,
    /// `manifest.json`'s entries.
    docker_entries: Vec<DockerManifestEntry>,
    /// `repositories`: familiar name, then tag, then the top layer's hex digest.
    repositories: BTreeMap<String, BTreeMap<String, String>>,
}

impl<W: Write> ArchiveSaver<'_, W> {
    /// Writes one image's blobs and records it for the index files.
    fn save_image(&mut self, item: &SaveItem) -> Result<()> {
        self.write_image_blobs(&item.image)?;
        let base = self.write_oci_manifest(&item.image)?;
        self.add_names(item, &base);
        self.docker_entries.push(docker_manifest_entry(item));
        Ok(())
    }

    /// Writes the image's manifest, config and layers, each blob once.
    fn write_image_blobs(&mut self, image: &Image) -> Result<()> {
        let manifest = &image.manifest;
        let mut blobs = vec![image.manifest_descriptor.digest, manifest.config.digest];
        blobs.extend(manifest.layers.iter().map(|layer| layer.digest));
        for digest in blobs {
            if !self.written.insert(digest) {
                continue;
            }
            let size = self.store.blob_size(&digest)?;
            let file = self.store.open_blob(&digest)?;
            let mut header = file_header(size);
            self.builder
                .append_data(&mut header, format!("blobs/sha256/{}", digest.hex()), file)
                .map_err(write_error())?;
        }
        Ok(())
    }

    /// The descriptor `index.json` lists for the image: its OCI-addressable
    /// manifest (written when it is not the stored one), keeping only the
    /// docker-manifest annotation.
    fn write_oci_manifest(&mut self, image: &Image) -> Result<Descriptor> {
        let mut base = self.store.oci_addressable(&image.manifest_descriptor)?;
        base.annotations
            .retain(|key, _| key == crate::ANNOTATION_DOCKER_MANIFEST);
        if base.digest != image.manifest_descriptor.digest && self.written.insert(base.digest) {
            let bytes = self.store.read_blob(&base.digest)?;
            append_bytes(
                &mut self.builder,
                &format!("blobs/sha256/{}", base.digest.hex()),
                &bytes,
            )
            .map_err(write_error())?;
        }
        Ok(base)
    }

    /// Lists the image in `index.json` once per name (once unnamed), and
    /// each tagged name in `repositories`.
    fn add_names(&mut self, item: &SaveItem, base: &Descriptor) {
        if item.names.is_empty() {
            self.index_entries.push(base.clone());
        }
        for name in &item.names {
            let mut descriptor = base.clone();
            descriptor
                .annotations
                .insert(ANNOTATION_IMAGE_NAME.to_owned(), name.to_string());
            descriptor
                .annotations
                .insert(ANNOTATION_REF_NAME.to_owned(), name.to_string());
            self.index_entries.push(descriptor);
            if let Some(tag) = name.tag()
                && let Some(top) = item.image.manifest.layers.last()
            {
                self.repositories
                    .entry(name.familiar_name())
                    .or_default()
                    .insert(tag.to_owned(), top.digest.hex());
            }
        }
    }

    /// Writes `index.json` and, for a docker archive, `manifest.json` and
    /// `repositories` (when any name is tagged); then ends the tar.
    fn finish(mut self, format: ArchiveFormat) -> Result<()> {
        let index = ImageIndex::new(self.index_entries);
        append_bytes(&mut self.builder, "index.json", &index.to_json()).map_err(write_error())?;
        if format == ArchiveFormat::Docker {
            let manifest_json = strata_oci::to_go_json(&self.docker_entries)
                .map_err(json_error("manifest.json"))?;
            append_bytes(&mut self.builder, "manifest.json", &manifest_json)
                .map_err(write_error())?;
            if !self.repositories.is_empty() {
                let text = strata_oci::to_go_json(&self.repositories)
                    .map_err(json_error("repositories"))?;
                append_bytes(&mut self.builder, "repositories", &text).map_err(write_error())?;
            }
        }
        self.builder
            .into_inner()
            .and_then(|mut writer| writer.flush())
            .map_err(write_error())?;
        Ok(())
    }
}

/// The image's entry in a docker archive's `manifest.json`.
fn docker_manifest_entry(item: &SaveItem) -> DockerManifestEntry {
    let manifest = &item.image.manifest;
    DockerManifestEntry {
        config: format!("blobs/sha256/{}", manifest.config.digest.hex()),
        repo_tags: item
            .names
            .iter()
            .filter(|name| name.tag().is_some())
            .map(Reference::familiar)
            .collect(),
        layers: manifest
            .layers
            .iter()
            .map(|layer| format!("blobs/sha256/{}", layer.digest.hex()))
            .collect(),
    }
}

/// What `load` read from an archive besides the blobs it stored.
#[derive(Default)]
struct ArchiveContents {
    /// Small files (`index.json`, `manifest.json`, configs) by path.
    metadata: BTreeMap<String, Vec<u8>>,
    /// Files stored as blobs, by path: digest and size.
    files: BTreeMap<String, (Digest, u64)>,
    /// Symlinks and hardlinks, by path: the path they resolve to.
    links: BTreeMap<String, String>,
}

impl ArchiveContents {
    /// `path` with its links followed (at most 16 deep).
    fn resolve_link(&self, path: &str) -> String {
        let mut path = path.trim_start_matches("./").to_owned();
        for _ in 0..16 {
            match self.links.get(&path) {
                Some(target) => path = target.clone(),
                None => break,
            }
        }
        path
    }
}

/// The error for an archive `load` cannot read as tar.
fn not_tar(error: std::io::Error) -> StoreError {
    StoreError::Archive {
        reason: format!("not a readable tar stream: {error}"),
    }
}

/// The error for a failed write to the archive being saved.
fn write_error() -> impl FnOnce(std::io::Error) -> StoreError {
    io_error("write", "<archive>")
}

/// Writes what every OCI layout starts with: `oci-layout` and the blob
/// directories.
fn append_layout_start<W: Write>(builder: &mut tar::Builder<W>) -> std::io::Result<()> {
    append_bytes(builder, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    append_directory(builder, "blobs/")?;
    append_directory(builder, "blobs/sha256/")
}

enum Sniffed {
    Plain,
    Gzip,
    Zstd,
}

fn sniff_compression(store: &Store, digest: &Digest) -> Result<Sniffed> {
    let mut magic = [0u8; 4];
    let mut file = store.open_blob(digest)?;
    let read = file
        .read(&mut magic)
        .map_err(io_error("read", store.blob_path(digest)))?;
    Ok(match &magic[..read] {
        [0x1f, 0x8b, ..] => Sniffed::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd] => Sniffed::Zstd,
        _ => Sniffed::Plain,
    })
}

/// `a/b/layer.tar` with target `../c/layer.tar` is `c/layer.tar`.
fn resolve_relative(path: &str, target: &str) -> String {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn file_header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    header
}

fn append_bytes<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    let mut header = file_header(bytes.len() as u64);
    builder.append_data(&mut header, path, bytes)
}

fn append_directory<W: Write>(builder: &mut tar::Builder<W>, path: &str) -> std::io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(0);
    header.set_mode(0o755);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Directory);
    builder.append_data(&mut header, path, std::io::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_links() {
        assert_eq!(
            resolve_relative("a/layer.tar", "../b/layer.tar"),
            "b/layer.tar"
        );
        assert_eq!(resolve_relative("a/layer.tar", "x.tar"), "a/x.tar");
    }
}
