//! The build cache emptied (`strata builder prune`, as `docker builder
//! prune`): step cache records, the layers only they kept, the unpacked
//! snapshots no named image needs, and the context metadata cache. Named
//! images (and containers' images) stay whole, their unpacked snapshots too, so the next build starts
//! cold but does not unpack its base image again.

use std::collections::BTreeSet;

use strata_oci::Digest;
use strata_snapshot::{Kind, Snapshotter, chain_id};
use strata_store::{Access, Store};

use crate::error::{Error, Result};

/// Areas of the store that hold nothing but build cache.
const CACHE_AREAS: [&str; 1] = ["context-cache"];
/// Areas removed only with `all`: RUN cache mounts, and the keys the last
/// builds had (what a cache miss is explained against).
const ALL_AREAS: [&str; 2] = ["cache-mounts", "builds"];

/// What [`prune_cache`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CachePruneReport {
    /// The keys of the cache records removed, sorted.
    pub records_removed: Vec<String>,
    /// Layer blobs deleted (those only removed records kept).
    pub blobs_removed: usize,
    /// Unpacked snapshots deleted.
    pub snapshots_removed: usize,
    /// Bytes freed: blobs, snapshots, caches and leftovers of interrupted writes.
    pub bytes_freed: u64,
}

/// Empties the build cache of `store`, which must be opened with
/// [`Access::Exclusive`] (no build runs meanwhile). Without `all`, a record
/// whose layers all belong to a named image stays (docker's "dangling only");
/// with `all`, every record goes, and RUN cache mounts with them. Named
/// images and the snapshots of their layers are always kept.
pub fn prune_cache(store: &Store, all: bool) -> Result<CachePruneReport> {
    if store.access() != Access::Exclusive {
        return Err(Error::Option {
            flag: "prune",
            message: "pruning the build cache needs the store opened exclusively".to_owned(),
        });
    }
    let mut images = store.images()?;
    // Containers' images keep their unpacked layers as named ones do.
    for hold in store.holds()? {
        if let Ok(image) = store.load_image(&hold.descriptor) {
            images.push(image);
        }
    }
    let mut image_blobs: BTreeSet<Digest> = BTreeSet::new();
    let mut image_chains: BTreeSet<Digest> = BTreeSet::new();
    for image in &images {
        image_blobs.extend(image.manifest.layers.iter().map(|layer| layer.digest));
        let mut parent: Option<Digest> = None;
        for diff_id in &image.config.rootfs.diff_ids {
            let chain = chain_id(parent.as_ref(), diff_id);
            image_chains.insert(chain);
            parent = Some(chain);
        }
    }

    let mut report = CachePruneReport::default();
    for record in store.cache_records()? {
        let in_images =
            !record.blobs.is_empty() && record.blobs.iter().all(|b| image_blobs.contains(b));
        if all || !in_images {
            store.remove_cache_record(&record.key)?;
            report.records_removed.push(record.key);
        }
    }
    report.records_removed.sort();
    let pruned = store.prune()?;
    report.blobs_removed = pruned.blobs_removed.len();
    report.bytes_freed += pruned.bytes_freed;

    let snapshots = store.area("snapshots")?;
    for kind in [Kind::Overlay, Kind::Copy] {
        let directory = snapshots.join(match kind {
            Kind::Overlay => "overlay",
            Kind::Copy => "copy",
        });
        if !directory.is_dir() {
            continue;
        }
        let snapshotter = Snapshotter::with_kind(&snapshots, kind)?;
        for chain in snapshotter.chain_ids()? {
            if image_chains.contains(&chain) {
                continue;
            }
            report.bytes_freed +=
                strata_fs::tree_size(snapshotter.root().join("layers").join(chain.hex()));
            snapshotter.remove(&chain)?;
            report.snapshots_removed += 1;
        }
    }

    let areas: Vec<&str> = if all {
        CACHE_AREAS
            .iter()
            .chain(ALL_AREAS.iter())
            .copied()
            .collect()
    } else {
        CACHE_AREAS.to_vec()
    };
    for name in areas {
        let area = store.area(name)?;
        for entry in strata_fs::read_dir(&area)? {
            let entry = entry.map_err(|e| Error::io("list directory", &area, e))?;
            let path = entry.path();
            report.bytes_freed += strata_fs::tree_size(&path);
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                strata_fs::remove_dir_all(&path)?;
            } else {
                strata_fs::remove_file(&path)?;
            }
        }
    }
    Ok(report)
}
