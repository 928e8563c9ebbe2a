//! Creating and removing containers with what they hold outside their
//! directory: the image's hold in the store, anonymous volumes, and what a
//! dead monitor may have left (a pasta process, cgroups).

use strata_store::Store;

use crate::Result;
use crate::containers::Containers;
use crate::record::Container;

/// The store's holder name for a container.
pub fn holder(id: &str) -> String {
    format!("container/{id}")
}

/// Records a new container and holds its image in the store, so that
/// removing the image's name never takes the container's layers.
pub fn create(store: &Store, containers: &Containers, container: &Container) -> Result<()> {
    store.hold(&holder(&container.id), &container.image.manifest)?;
    if let Err(error) = containers.create(container) {
        let _ = store.release(&holder(&container.id));
        return Err(error);
    }
    Ok(())
}

/// Removes a container whose monitor is gone: what it holds outside, then
/// its directory; anonymous volumes too when `volumes` (`rm -v`, `--rm`).
pub fn remove_stopped(containers: &Containers, container: &Container, volumes: bool) -> Result<()> {
    let directory = containers.directory(&container.id);
    crate::pasta::Pasta::stop(&directory)?;
    crate::cgroups::Cgroups::remove(&container.id)?;
    let _ = volumes; // TEMPORARY until mounts.rs lands.
    let store = Store::open(containers.store_root())?;
    store.release(&holder(&container.id))?;
    drop(store);
    containers.remove(&container.id)
}
