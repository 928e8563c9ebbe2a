//! Images: a ref resolved to one platform's manifest and configuration.

use std::collections::BTreeMap;

use strata_oci::{
    Descriptor, Digest, ImageConfiguration, ImageManifest, Manifest, Platform, Reference,
};

use crate::error::{Result, StoreError};
use crate::{RefEntry, Store};

/// One image in the store: a single-platform manifest, its configuration,
/// and the names pointing at it.
#[derive(Debug, Clone)]
pub struct Image {
    /// The manifest's descriptor (its digest is the manifest digest).
    pub manifest_descriptor: Descriptor,
    /// The manifest.
    pub manifest: ImageManifest,
    /// The configuration's bytes, exactly as stored (their digest is the image ID).
    pub config_bytes: Vec<u8>,
    /// The parsed configuration.
    pub config: ImageConfiguration,
    /// Ref names pointing at this image (or at an index that resolves to it), sorted.
    pub names: Vec<String>,
    /// `name@digest` forms the registry knows it by, sorted.
    pub repo_digests: Vec<String>,
}

impl Image {
    /// The image ID: the configuration's digest, as Docker's classic store reports it.
    pub fn id(&self) -> Digest {
        self.manifest.config.digest
    }

    /// Bytes in the store: the config and the (compressed) layers.
    pub fn size(&self) -> u64 {
        self.manifest.config.size + self.manifest.layers.iter().map(|l| l.size).sum::<u64>()
    }

    /// The names that parse as references with a tag (Docker's RepoTags).
    pub fn tagged_references(&self) -> Vec<Reference> {
        self.names
            .iter()
            // Images loaded without a name are kept under their ID.
            .filter(|name| !name.starts_with("sha256:"))
            .filter_map(|name| Reference::parse(name).ok())
            .filter(|reference| reference.tag().is_some())
            .collect()
    }
}

impl Store {
    /// Writes `config` and an OCI manifest over `layers` (which must already
    /// be in the store, base first); returns the manifest's descriptor with
    /// the config's platform. Point a ref at it with [`Store::set_ref`].
    pub fn write_image(
        &self,
        config: &ImageConfiguration,
        layers: Vec<Descriptor>,
    ) -> Result<Descriptor> {
        self.write_annotated_image(config, layers, BTreeMap::new())
    }

    /// [`Store::write_image`] with `annotations` on the manifest
    /// (`--annotation manifest:K=V`).
    pub fn write_annotated_image(
        &self,
        config: &ImageConfiguration,
        layers: Vec<Descriptor>,
        annotations: BTreeMap<String, String>,
    ) -> Result<Descriptor> {
        if let Some(missing) = layers.iter().find(|layer| !self.has_blob(&layer.digest)) {
            return Err(StoreError::MissingBlob {
                digest: missing.digest,
            });
        }
        let config_bytes = config.to_json();
        let config_digest = self.write_blob(&config_bytes)?;
        let mut manifest = ImageManifest::new(
            Descriptor::new(
                strata_oci::media_type::OCI_CONFIG,
                config_digest,
                config_bytes.len() as u64,
            ),
            layers,
        );
        manifest.annotations = annotations;
        let bytes = manifest.to_json();
        let digest = self.write_blob(&bytes)?;
        let mut descriptor = Descriptor::new(
            strata_oci::media_type::OCI_MANIFEST,
            digest,
            bytes.len() as u64,
        );
        descriptor.platform = Some(Platform::new(
            &config.os,
            &config.architecture,
            config.variant.as_deref(),
        ));
        Ok(descriptor)
    }

    /// Reads and parses manifest or index `descriptor`.
    pub fn read_manifest(&self, descriptor: &Descriptor) -> Result<Manifest> {
        let bytes = self.read_blob(&descriptor.digest)?;
        Manifest::parse(&bytes, Some(&descriptor.media_type)).map_err(|source| {
            StoreError::Manifest {
                digest: descriptor.digest,
                source,
            }
        })
    }

    /// Resolves `descriptor` (a manifest, or an index: then the entry for
    /// `platform`, else the first entry present) to a single-platform manifest.
    pub fn resolve_manifest(
        &self,
        descriptor: &Descriptor,
        platform: &Platform,
    ) -> Result<(Descriptor, ImageManifest)> {
        match self.read_manifest(descriptor)? {
            Manifest::Image(manifest) => Ok((descriptor.clone(), *manifest)),
            Manifest::Index(index) => {
                let chosen = index
                    .select(platform)
                    .or_else(|| {
                        index.manifests.iter().find(|d| {
                            self.has_blob(&d.digest)
                                && strata_oci::media_type::is_manifest(&d.media_type)
                        })
                    })
                    .ok_or_else(|| StoreError::NoMatchingPlatform {
                        digest: descriptor.digest,
                        platform: platform.to_string(),
                    })?
                    .clone();
                self.resolve_manifest(&chosen, platform)
            }
        }
    }

    /// Loads the image of `manifest_descriptor` (names left empty); an
    /// index is resolved for the host's platform.
    pub fn load_image(&self, manifest_descriptor: &Descriptor) -> Result<Image> {
        self.load_image_for(manifest_descriptor, &Platform::host())
    }

    /// [`Store::load_image`], an index resolved for `platform`.
    pub fn load_image_for(
        &self,
        manifest_descriptor: &Descriptor,
        platform: &Platform,
    ) -> Result<Image> {
        let (manifest_descriptor, manifest) =
            self.resolve_manifest(manifest_descriptor, platform)?;
        let config_bytes = self.read_blob(&manifest.config.digest)?;
        let config =
            ImageConfiguration::parse(&config_bytes).map_err(|error| StoreError::Json {
                path: self.blob_path(&manifest.config.digest),
                source: error.0,
            })?;
        Ok(Image {
            manifest_descriptor,
            manifest,
            config_bytes,
            config,
            names: Vec::new(),
            repo_digests: Vec::new(),
        })
    }

    /// Every image reachable from a ref (resolved for the host platform), one
    /// per manifest, with its names; sorted by first name.
    pub fn images(&self) -> Result<Vec<Image>> {
        let mut images: Vec<Image> = Vec::new();
        for entry in self.refs()? {
            let target = match self.ref_target(&entry) {
                Ok(target) => target,
                Err(StoreError::MissingBlob { .. }) => continue,
                Err(error) => return Err(error),
            };
            let image = match self.load_image(&target) {
                Ok(image) => image,
                // A ref whose content is gone is reported by `find_image`; listing skips it.
                Err(StoreError::MissingBlob { .. }) => continue,
                Err(error) => return Err(error),
            };
            add_name(&mut images, image, &entry);
        }
        for image in &mut images {
            image.names.sort();
            image.names.dedup();
            image.repo_digests.sort();
            image.repo_digests.dedup();
        }
        Ok(images)
    }

    /// Finds an image the way Docker does: by reference (`busybox`,
    /// `busybox:1`, `host/x@sha256:…`), or by image ID or ID prefix
    /// (`sha256:3f57…`, `3f57d9`), or by manifest digest.
    pub fn find_image(&self, text: &str) -> Result<Image> {
        let images = self.images()?;
        if let Ok(reference) = Reference::parse(text) {
            let full = reference.to_string();
            let found = images.iter().find(|image| {
                image.names.contains(&full)
                    || reference.digest().is_some_and(|digest| {
                        image.manifest_descriptor.digest == digest
                            || image.repo_digests.iter().any(|d| {
                                Reference::parse(d).is_ok_and(|r| {
                                    r.digest() == Some(digest) && r.name() == reference.name()
                                })
                            })
                    })
            });
            if let Some(image) = found {
                return Ok(image.clone());
            }
        }
        let hex = text.strip_prefix("sha256:").unwrap_or(text);
        if !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let matches: Vec<&Image> = images
                .iter()
                .filter(|image| {
                    image.id().hex().starts_with(hex)
                        || (text.starts_with("sha256:")
                            && image.manifest_descriptor.digest.hex().starts_with(hex))
                })
                .collect();
            match matches.as_slice() {
                [image] => return Ok((*image).clone()),
                [] => {}
                many => {
                    if many.iter().all(|image| image.id() == many[0].id()) {
                        return Ok(many[0].clone());
                    }
                    return Err(StoreError::Ambiguous {
                        prefix: text.to_owned(),
                        count: many.len(),
                    });
                }
            }
        }
        Err(StoreError::NoSuchImage {
            name: text.to_owned(),
        })
    }
}

impl Store {
    /// [`Store::find_image`] for one platform (`--platform`): a name whose
    /// index lists that platform gives that platform's image; an image of
    /// another platform is an error in Docker's words.
    pub fn find_image_for(&self, text: &str, platform: &Platform) -> Result<Image> {
        if let Ok(reference) = Reference::parse(text)
            && let Some(entry) = self.resolve(&reference.to_string())?
        {
            let descriptor = self.ref_target(&entry)?;
            if let Manifest::Index(index) = self.read_manifest(&descriptor)? {
                let chosen = index
                    .select(platform)
                    .filter(|d| self.has_blob(&d.digest))
                    .ok_or_else(|| StoreError::NoMatchingPlatform {
                        digest: descriptor.digest,
                        platform: platform.to_string(),
                    })?
                    .clone();
                let mut image = self.load_image_for(&chosen, platform)?;
                image.names = vec![entry.name.clone()];
                return Ok(image);
            }
        }
        let image = self.find_image(text)?;
        let config = &image.config;
        let actual = Platform::new(&config.os, &config.architecture, config.variant.as_deref());
        if !actual.matches(platform) && !platform.matches(&actual) {
            return Err(StoreError::PlatformMismatch {
                name: text.to_owned(),
                wanted: platform.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(image)
    }
}

fn add_name(images: &mut Vec<Image>, image: Image, entry: &RefEntry) {
    let position = images
        .iter()
        .position(|known| known.manifest_descriptor.digest == image.manifest_descriptor.digest);
    let target = match position {
        Some(position) => &mut images[position],
        None => {
            images.push(image);
            let last = images.len() - 1;
            &mut images[last]
        }
    };
    target.names.push(entry.name.clone());
    if let Some(repo_digest) = entry.repo_digest() {
        target.repo_digests.push(repo_digest.to_owned());
    }
}
