//! Refs: the entries of the layout's `index.json`, one per name.
//!
//! Each entry carries `org.opencontainers.image.ref.name` = the full
//! normalised reference (`docker.io/library/busybox:latest`), which skopeo
//! addresses as `oci:<root>/images:docker.io/library/busybox:latest`, and
//! `io.containerd.image.name` with the same value. Docker's RepoDigests ride
//! along as [`ANNOTATION_REPO_DIGEST`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strata_oci::{
    ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, Descriptor, Digest, ImageConfiguration, ImageIndex,
    ImageManifest, Manifest, Platform, media_type,
};

use crate::Store;
use crate::error::{Result, StoreError, json_error};

/// Annotation holding the `name@digest` the registry knows the image by.
pub const ANNOTATION_REPO_DIGEST: &str = "dev.strata.image.repo-digest";

/// Annotation on a ref to an OCI manifest that strata converted from a
/// Docker schema 2 manifest: the Docker manifest's digest. OCI tools
/// (skopeo's and umoci's `oci:` transports) address only OCI media types in
/// `index.json`, while the Docker manifest's bytes must be kept as they are
/// (their digest is what the registry knows; push sends them).
pub const ANNOTATION_DOCKER_MANIFEST: &str = "dev.strata.image.docker-manifest";

/// One named ref: a name and the manifest (or index) it points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefEntry {
    /// The full reference text (`docker.io/library/busybox:latest`), or an
    /// image ID (`sha256:…`) for images loaded without a name.
    pub name: String,
    /// The manifest or index, with its annotations.
    pub descriptor: Descriptor,
}

impl RefEntry {
    /// The registry digest recorded at pull/push time (`name@sha256:…`).
    pub fn repo_digest(&self) -> Option<&str> {
        self.descriptor.annotation(ANNOTATION_REPO_DIGEST)
    }
}

impl Store {
    /// All refs, sorted by name.
    pub fn refs(&self) -> Result<Vec<RefEntry>> {
        let path = self.layout_path().join("index.json");
        let bytes = strata_fs::read(&path)?;
        let index: ImageIndex = serde_json::from_slice(&bytes).map_err(json_error(&path))?;
        let mut entries: Vec<RefEntry> = index
            .manifests
            .into_iter()
            .filter_map(|descriptor| {
                let name = descriptor.annotation(ANNOTATION_REF_NAME)?.to_owned();
                Some(RefEntry { name, descriptor })
            })
            .collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// The ref named `name` (full reference text), if any.
    pub fn resolve(&self, name: &str) -> Result<Option<RefEntry>> {
        Ok(self.refs()?.into_iter().find(|entry| entry.name == name))
    }

    /// Points `name` at `descriptor` (whose blobs must already be in the
    /// store), replacing any previous target; `repo_digest` is recorded for
    /// Docker's RepoDigests.
    pub fn set_ref(
        &self,
        name: &str,
        descriptor: &Descriptor,
        repo_digest: Option<&str>,
    ) -> Result<()> {
        let mut descriptor = self.oci_addressable(descriptor)?;
        descriptor
            .annotations
            .insert(ANNOTATION_REF_NAME.to_owned(), name.to_owned());
        descriptor
            .annotations
            .insert(ANNOTATION_IMAGE_NAME.to_owned(), name.to_owned());
        match repo_digest {
            Some(value) => {
                descriptor
                    .annotations
                    .insert(ANNOTATION_REPO_DIGEST.to_owned(), value.to_owned());
            }
            None => {
                descriptor.annotations.remove(ANNOTATION_REPO_DIGEST);
            }
        }
        self.update_refs(|entries| {
            entries.insert(name.to_owned(), descriptor);
        })
    }

    /// `descriptor` itself if OCI tools can address it in `index.json`; for a
    /// Docker schema 2 manifest, the same config and layers under an OCI
    /// manifest (written to the store) that names the Docker one in
    /// [`ANNOTATION_DOCKER_MANIFEST`].
    pub fn oci_addressable(&self, descriptor: &Descriptor) -> Result<Descriptor> {
        if descriptor.media_type != media_type::DOCKER_MANIFEST {
            return Ok(descriptor.clone());
        }
        let Manifest::Image(docker) = self.read_manifest(descriptor)? else {
            return Ok(descriptor.clone());
        };
        let oci_type = |docker_type: &str| -> String {
            match docker_type {
                media_type::DOCKER_CONFIG => media_type::OCI_CONFIG,
                media_type::DOCKER_LAYER_GZIP => media_type::OCI_LAYER_GZIP,
                media_type::DOCKER_LAYER => media_type::OCI_LAYER,
                media_type::DOCKER_FOREIGN_LAYER => {
                    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
                }
                other => other,
            }
            .to_owned()
        };
        let mut config = docker.config.clone();
        config.media_type = oci_type(&config.media_type);
        let layers = docker
            .layers
            .iter()
            .map(|layer| {
                let mut layer = layer.clone();
                layer.media_type = oci_type(&layer.media_type);
                layer
            })
            .collect();
        let mut converted = ImageManifest::new(config, layers);
        converted.annotations = docker.annotations.clone();
        let bytes = converted.to_json();
        let digest = self.write_blob(&bytes)?;
        let mut result = Descriptor::new(media_type::OCI_MANIFEST, digest, bytes.len() as u64);
        result.annotations = descriptor.annotations.clone();
        result.annotations.insert(
            ANNOTATION_DOCKER_MANIFEST.to_owned(),
            descriptor.digest.to_string(),
        );
        result.platform = match &descriptor.platform {
            Some(platform) => Some(platform.clone()),
            None => {
                let bytes = self.read_blob(&docker.config.digest)?;
                let config =
                    ImageConfiguration::parse(&bytes).map_err(|error| StoreError::Json {
                        path: self.blob_path(&docker.config.digest),
                        source: error.0,
                    })?;
                Some(Platform::new(
                    &config.os,
                    &config.architecture,
                    config.variant.as_deref(),
                ))
            }
        };
        Ok(result)
    }

    /// What a ref names as an image: the manifest (or index) it points at,
    /// or the Docker manifest an OCI one was converted from. Push this; its
    /// digest is the image's manifest digest.
    pub fn ref_target(&self, entry: &RefEntry) -> Result<Descriptor> {
        let Some(original) = entry.descriptor.annotation(ANNOTATION_DOCKER_MANIFEST) else {
            return Ok(entry.descriptor.clone());
        };
        let digest: Digest = original.parse().map_err(|_| StoreError::Archive {
            reason: format!(
                "ref {} has an invalid {ANNOTATION_DOCKER_MANIFEST}",
                entry.name
            ),
        })?;
        let mut descriptor = Descriptor::new(
            media_type::DOCKER_MANIFEST,
            digest,
            self.blob_size(&digest)?,
        );
        descriptor.platform = entry.descriptor.platform.clone();
        Ok(descriptor)
    }

    /// Removes ref `name`; whether it existed.
    pub fn remove_ref(&self, name: &str) -> Result<bool> {
        let mut existed = false;
        self.update_refs(|entries| existed = entries.remove(name).is_some())?;
        Ok(existed)
    }

    /// Read-modify-write of `index.json` under the index lock, written atomically.
    fn update_refs(&self, change: impl FnOnce(&mut BTreeMap<String, Descriptor>)) -> Result<()> {
        let _guard = self.lock("index")?;
        let path = self.layout_path().join("index.json");
        let bytes = strata_fs::read(&path)?;
        let mut index: ImageIndex = serde_json::from_slice(&bytes).map_err(json_error(&path))?;
        // Entries without a name (written by other tools) are kept as they are.
        let mut unnamed = Vec::new();
        let mut named = BTreeMap::new();
        for descriptor in index.manifests.drain(..) {
            match descriptor.annotation(ANNOTATION_REF_NAME) {
                Some(name) => {
                    named.insert(name.to_owned(), descriptor);
                }
                None => unnamed.push(descriptor),
            }
        }
        change(&mut named);
        index.manifests = unnamed;
        index.manifests.extend(named.into_values());
        index.media_type = Some(media_type::OCI_INDEX.to_owned());
        let updated = index.to_json();
        // A rebuild names the same image again: nothing to write (nor fsync).
        if updated == bytes {
            return Ok(());
        }
        // The renames of the blobs the new refs name, durable first.
        let blobs = self.layout_path().join("blobs/sha256");
        std::fs::File::open(&blobs)
            .and_then(|directory| directory.sync_all())
            .map_err(crate::error::io_error("fsync", &blobs))?;
        self.write_file(&path, &updated)
    }
}
