//! Refs: the entries of the layout's `index.json`, one per name.
//!
//! Each entry carries `org.opencontainers.image.ref.name` = the full
//! normalised reference (`docker.io/library/busybox:latest`), which skopeo
//! addresses as `oci:<root>/images:docker.io/library/busybox:latest`, and
//! `io.containerd.image.name` with the same value. Docker's RepoDigests ride
//! along as [`ANNOTATION_REPO_DIGEST`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strata_oci::{ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, Descriptor, ImageIndex};

use crate::Store;
use crate::error::{Result, json_error};

/// Annotation holding the `name@digest` the registry knows the image by.
pub const ANNOTATION_REPO_DIGEST: &str = "dev.strata.image.repo-digest";

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
        let mut descriptor = descriptor.clone();
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
        index.media_type = Some(strata_oci::media_type::OCI_INDEX.to_owned());
        strata_fs::write_atomic(&path, &index.to_json())?;
        Ok(())
    }
}
