//! A container's root file system when nothing runs in it: its image
//! unpacked (once per chain, shared) and its writable layer mounted over it,
//! detached (the caller attaches it, or uses its fd as a root directory).

use std::os::fd::OwnedFd;

use strata_snapshot::{ContainerLayer, Snapshotter};
use strata_store::Store;

use crate::Result;
use crate::containers::Containers;
use crate::record::Container;

/// Unpacks `container`'s image where needed and mounts its writable layer
/// over it as a detached mount (unmounted when the fd closes). `volatile`
/// overlays are never synced: for containers removed when they stop. The
/// caller must hold the container's lock or be its monitor: two mounts of
/// one writable layer must never be alive at once.
pub(crate) fn mount_writable_layer(
    containers: &Containers,
    container: &Container,
    volatile: bool,
) -> Result<OwnedFd> {
    let store = Store::open(containers.store_root())?;
    let snapshotter = Snapshotter::open(&store.area("snapshots")?)?;
    let layers = &container.image.layers;
    let chain = snapshotter.unpack_chain(&container.image.diff_ids, |index| {
        let digest = layers.get(index).ok_or_else(|| {
            std::io::Error::other("the container's image lists fewer layers than diff ids")
        })?;
        store
            .open_blob(digest)
            .map(std::io::BufReader::new)
            .map_err(std::io::Error::other)
    })?;
    // The store is not kept open: a long-lived process must not hold off prune.
    drop(store);
    let layer = ContainerLayer::new(
        &snapshotter,
        &containers.directory(&container.id).join("layer"),
    );
    Ok(layer.mount(&snapshotter, chain.as_ref(), volatile)?)
}
