//! Garbage collection and disk usage.

use std::collections::BTreeSet;

use strata_oci::{Descriptor, Digest, Manifest};

use crate::error::{Result, StoreError, io_error};
use crate::{Access, Store};

/// What prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Blobs deleted.
    pub blobs_removed: Vec<Digest>,
    /// Bytes freed (blobs and temporary files).
    pub bytes_freed: u64,
    /// Temporary files left by interrupted writes, deleted.
    pub temporary_files_removed: usize,
}

/// Sizes, for `system df`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskUsage {
    /// Number of images (distinct manifests reachable from refs).
    pub images: usize,
    /// Bytes of blobs reachable from refs.
    pub images_size: u64,
    /// Number of cache records.
    pub cache_records: usize,
    /// Bytes of blobs only cache records keep.
    pub cache_size: u64,
    /// Bytes of blobs nothing references (what prune frees).
    pub unreferenced_size: u64,
    /// Bytes of temporary files.
    pub temporary_size: u64,
    /// Each area and its size in bytes.
    pub areas: Vec<(String, u64)>,
}

/// What [`Store::verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    /// Blobs read and hashed.
    pub blobs_checked: usize,
    /// Blobs whose content does not hash to their name.
    pub corrupt_blobs: Vec<Digest>,
    /// Refs that reach a missing blob (or an unreadable manifest).
    pub incomplete_refs: Vec<String>,
    /// Cache records (by key) whose blobs are not all present.
    pub incomplete_cache_records: Vec<String>,
    /// Files in `cache/` that are not cache records.
    pub unreadable_files: Vec<std::path::PathBuf>,
    /// What is in `tmp/`: writes under way, or left by a killed process.
    pub temporary_files: Vec<std::path::PathBuf>,
}

impl Verification {
    /// Whether nothing is corrupt, dangling or left over.
    pub fn is_consistent(&self) -> bool {
        self.corrupt_blobs.is_empty()
            && self.incomplete_refs.is_empty()
            && self.incomplete_cache_records.is_empty()
            && self.unreadable_files.is_empty()
            && self.temporary_files.is_empty()
    }
}

/// The blobs each kind of root keeps.
struct Marks {
    by_refs: BTreeSet<Digest>,
    by_cache: BTreeSet<Digest>,
}

impl Store {
    /// Every blob reachable from `descriptor` (itself, and for manifests and
    /// indexes what they list and is present).
    pub fn reachable(&self, descriptor: &Descriptor, into: &mut BTreeSet<Digest>) -> Result<()> {
        if !into.insert(descriptor.digest) || !self.has_blob(&descriptor.digest) {
            return Ok(());
        }
        let media_type = descriptor.media_type.as_str();
        if !(strata_oci::media_type::is_index(media_type)
            || strata_oci::media_type::is_manifest(media_type))
        {
            return Ok(());
        }
        match self.read_manifest(descriptor)? {
            Manifest::Image(manifest) => {
                into.insert(manifest.config.digest);
                for layer in &manifest.layers {
                    into.insert(layer.digest);
                }
            }
            Manifest::Index(index) => {
                for child in &index.manifests {
                    self.reachable(child, into)?;
                }
            }
        }
        Ok(())
    }

    fn marks(&self) -> Result<Marks> {
        let mut by_refs = BTreeSet::new();
        for entry in self.refs()? {
            self.reachable(&entry.descriptor, &mut by_refs)?;
            // The Docker manifest an OCI one was converted from.
            if let Some(original) = entry
                .descriptor
                .annotation(crate::ANNOTATION_DOCKER_MANIFEST)
                && let Ok(digest) = original.parse::<Digest>()
            {
                by_refs.insert(digest);
            }
        }
        // A container's image is kept like a named one.
        for hold in self.holds()? {
            self.reachable(&hold.descriptor, &mut by_refs)?;
        }
        let mut by_cache = BTreeSet::new();
        for record in self.cache_records()? {
            by_cache.extend(record.blobs);
        }
        // A variant lives as long as what it encodes (a distribution
        // manifest's layers are variants of kept layers too).
        for _ in 0..2 {
            for (_, source, variant) in self.variant_records()? {
                if by_refs.contains(&source) {
                    by_refs.insert(variant);
                } else if by_cache.contains(&source) {
                    by_cache.insert(variant);
                }
            }
        }
        Ok(Marks { by_refs, by_cache })
    }

    fn stored_blobs(&self) -> Result<Vec<(Digest, u64)>> {
        let directory = self.layout_path().join("blobs/sha256");
        let mut blobs = Vec::new();
        for entry in strata_fs::read_dir(&directory)? {
            let entry = entry.map_err(io_error("list directory", &directory))?;
            let Some(digest) = entry
                .file_name()
                .to_str()
                .and_then(|hex| format!("sha256:{hex}").parse::<Digest>().ok())
            else {
                continue;
            };
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            blobs.push((digest, size));
        }
        Ok(blobs)
    }

    /// Every blob in the store with its size, sorted by digest.
    pub fn blobs(&self) -> Result<Vec<(Digest, u64)>> {
        let mut blobs = self.stored_blobs()?;
        blobs.sort();
        Ok(blobs)
    }

    /// Deletes blobs that no ref, hold or cache record reaches, and temporary
    /// files of interrupted writes. Needs an [`Access::Exclusive`] handle, so
    /// that no other process is between writing a blob and referencing it.
    pub fn prune(&self) -> Result<PruneReport> {
        if self.access() != Access::Exclusive {
            return Err(StoreError::Archive {
                reason: "prune needs the store opened with exclusive access".to_owned(),
            });
        }
        let marks = self.marks()?;
        let mut report = PruneReport::default();
        for (digest, size) in self.stored_blobs()? {
            if marks.by_refs.contains(&digest) || marks.by_cache.contains(&digest) {
                continue;
            }
            strata_fs::remove_file(self.blob_path(&digest))?;
            report.blobs_removed.push(digest);
            report.bytes_freed += size;
        }
        report.blobs_removed.sort();
        for (path, source, variant) in self.variant_records()? {
            let kept =
                |digest: &Digest| marks.by_refs.contains(digest) || marks.by_cache.contains(digest);
            if !kept(&source) || !kept(&variant) {
                strata_fs::remove_file(&path)?;
            }
        }
        let temporary = self.temporary_directory();
        for entry in strata_fs::read_dir(&temporary)? {
            let entry = entry.map_err(io_error("list directory", &temporary))?;
            let path = entry.path();
            report.bytes_freed += strata_fs::tree_size(&path);
            if path.is_dir() {
                strata_fs::remove_dir_all(&path)?;
            } else {
                strata_fs::remove_file(&path)?;
            }
            report.temporary_files_removed += 1;
        }
        Ok(report)
    }

    /// Checks the store: every blob hashes to its name, every ref reaches
    /// only present blobs, every cache record's blobs are present, and
    /// nothing is left in `tmp/`. Reads every blob: as slow as the store is big.
    pub fn verify(&self) -> Result<Verification> {
        let mut verification = Verification::default();
        for (digest, _) in self.blobs()? {
            let path = self.blob_path(&digest);
            let file = std::fs::File::open(&path).map_err(io_error("open", &path))?;
            let mut writer = strata_oci::Sha256Writer::new(std::io::sink());
            std::io::copy(
                &mut std::io::BufReader::with_capacity(1 << 20, file),
                &mut writer,
            )
            .map_err(io_error("read", &path))?;
            let (actual, _, _) = writer.finish();
            verification.blobs_checked += 1;
            if actual != digest {
                verification.corrupt_blobs.push(digest);
            }
        }
        for entry in self.refs()? {
            let mut reachable = BTreeSet::new();
            let complete = self.reachable(&entry.descriptor, &mut reachable).is_ok()
                && reachable.iter().all(|digest| self.has_blob(digest));
            if !complete {
                verification.incomplete_refs.push(entry.name.clone());
            }
        }
        let directory = self.root().join(crate::store::CACHE);
        for entry in strata_fs::read_dir(&directory)? {
            let entry = entry.map_err(io_error("list directory", &directory))?;
            let path = entry.path();
            let record = std::fs::read(&path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<crate::CacheRecord>(&bytes).ok());
            match record {
                Some(record) if record.blobs.iter().all(|blob| self.has_blob(blob)) => {}
                Some(record) => verification.incomplete_cache_records.push(record.key),
                None => verification.unreadable_files.push(path),
            }
        }
        let temporary = self.temporary_directory();
        for entry in strata_fs::read_dir(&temporary)? {
            let entry = entry.map_err(io_error("list directory", &temporary))?;
            verification.temporary_files.push(entry.path());
        }
        Ok(verification)
    }

    /// Sizes by kind, for `system df`.
    pub fn disk_usage(&self) -> Result<DiskUsage> {
        let marks = self.marks()?;
        let mut usage = DiskUsage {
            images: self.images()?.len(),
            cache_records: self.cache_records()?.len(),
            ..DiskUsage::default()
        };
        for (digest, size) in self.stored_blobs()? {
            if marks.by_refs.contains(&digest) {
                usage.images_size += size;
            } else if marks.by_cache.contains(&digest) {
                usage.cache_size += size;
            } else {
                usage.unreferenced_size += size;
            }
        }
        usage.temporary_size = strata_fs::tree_size(self.temporary_directory());
        for area in self.areas()? {
            let size = strata_fs::tree_size(self.root().join("areas").join(&area));
            usage.areas.push((area, size));
        }
        Ok(usage)
    }
}
