//! Distribution variants: a stored blob in another encoding (a layer kept as
//! a plain tar, gzip-compressed for a registry or an archive), made once and
//! kept as long as the blob it encodes, and the distribution image built
//! from them (what `push` and `--output type=oci|docker` send).
//!
//! A variant record `<root>/variants/<source hex>.<encoding>.json` holds the
//! encoded blob's descriptor. Prune keeps an encoded blob while its source is
//! kept and drops the record with the source; a second push of the same
//! layers therefore encodes nothing.

use std::io::{Read, Write};
use std::path::PathBuf;

use strata_oci::{Descriptor, Digest, ImageManifest, Manifest, media_type};

use crate::Store;
use crate::error::{Result, StoreError, io_error, json_error};

/// Directory of variant records under the root.
pub(crate) const VARIANTS: &str = "variants";

/// Encodes a stored blob into another blob with the same content (a layer
/// compressed). Implemented above the store (the compressors live in
/// `strata-layer`).
pub trait BlobEncoder: Sync {
    /// The encoding's name, part of the variant's key: `[a-z0-9-]+`, and
    /// different for every output it can make (`gzip-6`, `zstd-3`).
    fn name(&self) -> String;
    /// The media type of an encoded layer: OCI's, or Docker's when
    /// `docker` is set and Docker has one for it.
    fn layer_media_type(&self, docker: bool) -> &'static str;
    /// Copies `input` to `output` encoded.
    fn encode(&self, input: &mut dyn Read, output: &mut dyn Write) -> std::io::Result<()>;
}

/// The media types a distribution image is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaTypes {
    /// Docker schema 2 (what `docker build --push` sends, BuildKit's default).
    Docker,
    /// OCI image spec.
    Oci,
    /// As stored when nothing needs encoding (a pulled image goes back byte
    /// for byte); otherwise Docker's.
    Keep,
}

/// An image as a registry or an archive gets it: every blob in the store.
#[derive(Debug, Clone)]
pub struct DistributionImage {
    /// The manifest's descriptor (its blob is in the store).
    pub manifest: Descriptor,
    /// The manifest's bytes.
    pub manifest_bytes: Vec<u8>,
    /// The configuration's descriptor.
    pub config: Descriptor,
    /// The layers as sent, base first.
    pub layers: Vec<Descriptor>,
    /// How many layers were encoded by this call (0 when every variant was
    /// already in the store).
    pub encoded: usize,
}

impl Store {
    fn variant_path(&self, source: &Digest, name: &str) -> PathBuf {
        self.root()
            .join(VARIANTS)
            .join(format!("{}.{name}.json", source.hex()))
    }

    /// The variant of blob `source` made by encoding `name`, if it is recorded
    /// and its blob is present.
    pub fn variant(&self, source: &Digest, name: &str) -> Result<Option<Descriptor>> {
        let path = self.variant_path(source, name);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error("read", path)(error)),
        };
        let descriptor: Descriptor = serde_json::from_slice(&bytes).map_err(json_error(&path))?;
        Ok(self.has_blob(&descriptor.digest).then_some(descriptor))
    }

    /// Records `variant` (a blob in the store) as blob `source` encoded by `name`.
    pub fn put_variant(&self, source: &Digest, name: &str, variant: &Descriptor) -> Result<()> {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(StoreError::Archive {
                reason: format!("invalid variant name {name:?}: use [a-z0-9-]+"),
            });
        }
        if !self.has_blob(&variant.digest) {
            return Err(StoreError::MissingBlob {
                digest: variant.digest,
            });
        }
        let path = self.variant_path(source, name);
        let bytes = serde_json::to_vec(variant).map_err(json_error(&path))?;
        self.write_file(&path, &bytes)
    }

    /// Blob `source` (a plain layer) encoded by `encoder`: from the variant
    /// records when made before, else encoded now, stored and recorded.
    /// Whether it was encoded now comes second.
    pub fn encoded_variant(
        &self,
        source: &Descriptor,
        encoder: &dyn BlobEncoder,
    ) -> Result<(Descriptor, bool)> {
        let name = encoder.name();
        if let Some(found) = self.variant(&source.digest, &name)? {
            return Ok((found, false));
        }
        let path = self.blob_path(&source.digest);
        let mut input = std::io::BufReader::with_capacity(1 << 20, self.open_blob(&source.digest)?);
        let writer = self.begin_blob()?;
        let mut output = std::io::BufWriter::with_capacity(1 << 20, writer);
        encoder
            .encode(&mut input, &mut output)
            .map_err(io_error("encode", &path))?;
        let writer = output
            .into_inner()
            .map_err(|e| io_error("encode", &path)(e.into_error()))?;
        let (digest, size) = writer.commit(None)?;
        let descriptor = Descriptor::new(encoder.layer_media_type(false), digest, size);
        self.put_variant(&source.digest, &name, &descriptor)?;
        Ok((descriptor, true))
    }

    /// The image of `manifest` as it is sent to a registry or written to an
    /// archive: plain-tar layers replaced by their `encoder` variants (none:
    /// sent plain), compressed ones as they are, the media types of
    /// `media_types`. The manifest is written to the store and recorded as a
    /// variant of the stored one. An image needing no change keeps its bytes.
    pub fn distribution_image(
        &self,
        manifest: &Descriptor,
        encoder: Option<&dyn BlobEncoder>,
        media_types: MediaTypes,
    ) -> Result<DistributionImage> {
        let bytes = self.read_blob(&manifest.digest)?;
        let Manifest::Image(stored) = self.read_manifest(manifest)? else {
            return Err(StoreError::Archive {
                reason: format!(
                    "{} is an index: only single-platform images can be converted",
                    manifest.digest
                ),
            });
        };
        let stored_docker = manifest.media_type == media_type::DOCKER_MANIFEST;
        let needs_encoding =
            encoder.is_some() && stored.layers.iter().any(|l| is_plain_layer(&l.media_type));
        let docker = match media_types {
            MediaTypes::Docker => true,
            MediaTypes::Oci => false,
            MediaTypes::Keep if !needs_encoding => {
                return Ok(DistributionImage {
                    manifest: manifest.clone(),
                    manifest_bytes: bytes,
                    config: stored.config.clone(),
                    layers: stored.layers.clone(),
                    encoded: 0,
                });
            }
            MediaTypes::Keep => true,
        };
        if docker == stored_docker && !needs_encoding {
            return Ok(DistributionImage {
                manifest: manifest.clone(),
                manifest_bytes: bytes,
                config: stored.config.clone(),
                layers: stored.layers.clone(),
                encoded: 0,
            });
        }
        let mut encoded = 0;
        let mut layers = Vec::with_capacity(stored.layers.len());
        for layer in &stored.layers {
            let mut sent = match encoder {
                Some(encoder) if is_plain_layer(&layer.media_type) => {
                    let (variant, made) = self.encoded_variant(layer, encoder)?;
                    encoded += usize::from(made);
                    let mut variant = variant;
                    variant.media_type = encoder.layer_media_type(docker).to_owned();
                    variant
                }
                _ => layer.clone(),
            };
            sent.media_type = layer_type(&sent.media_type, docker);
            sent.annotations = layer.annotations.clone();
            layers.push(sent);
        }
        let mut config = stored.config.clone();
        config.media_type = if docker {
            media_type::DOCKER_CONFIG
        } else {
            media_type::OCI_CONFIG
        }
        .to_owned();
        let mut converted = ImageManifest::new(config.clone(), layers.clone());
        converted.media_type = Some(
            if docker {
                media_type::DOCKER_MANIFEST
            } else {
                media_type::OCI_MANIFEST
            }
            .to_owned(),
        );
        converted.annotations = stored.annotations.clone();
        let manifest_bytes = converted.to_json();
        let digest = self.write_blob(&manifest_bytes)?;
        let mut descriptor = Descriptor::new(
            converted.media_type.clone().unwrap_or_default(),
            digest,
            manifest_bytes.len() as u64,
        );
        descriptor.platform = manifest.platform.clone();
        let name = format!(
            "manifest-{}-{}",
            if docker { "docker" } else { "oci" },
            encoder.map_or_else(|| "plain".to_owned(), |e| e.name())
        );
        self.put_variant(&manifest.digest, &name, &descriptor)?;
        Ok(DistributionImage {
            manifest: descriptor,
            manifest_bytes,
            config,
            layers,
            encoded,
        })
    }

    /// Every variant record: (source, variant blob), unreadable ones skipped.
    pub(crate) fn variant_records(&self) -> Result<Vec<(PathBuf, Digest, Digest)>> {
        let directory = self.root().join(VARIANTS);
        let mut records = Vec::new();
        let entries = match std::fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(records),
            Err(error) => return Err(io_error("list directory", &directory)(error)),
        };
        for entry in entries {
            let entry = entry.map_err(io_error("list directory", &directory))?;
            let path = entry.path();
            let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some((hex, _)) = file_name.split_once('.') else {
                continue;
            };
            let Ok(source) = format!("sha256:{hex}").parse::<Digest>() else {
                continue;
            };
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Ok(descriptor) = serde_json::from_slice::<Descriptor>(&bytes) else {
                continue;
            };
            records.push((path, source, descriptor.digest));
        }
        Ok(records)
    }
}

/// Whether a layer is an uncompressed tar that may be encoded.
fn is_plain_layer(media_type: &str) -> bool {
    matches!(media_type, media_type::OCI_LAYER | media_type::DOCKER_LAYER)
}

/// A layer media type in the family wanted (a type the other family lacks is kept).
fn layer_type(media_type: &str, docker: bool) -> String {
    let converted = match (media_type, docker) {
        (media_type::OCI_LAYER_GZIP, true) => media_type::DOCKER_LAYER_GZIP,
        (media_type::OCI_LAYER, true) => media_type::DOCKER_LAYER,
        (media_type::DOCKER_LAYER_GZIP, false) => media_type::OCI_LAYER_GZIP,
        (media_type::DOCKER_LAYER, false) => media_type::OCI_LAYER,
        (other, _) => other,
    };
    converted.to_owned()
}
