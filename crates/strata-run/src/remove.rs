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

/// Records a new container, making its volumes (and `-v` bind sources that
/// are missing), and holds its image in the store, so that removing the
/// image's name never takes the container's layers.
pub fn create(store: &Store, containers: &Containers, container: &mut Container) -> Result<()> {
    // Volumes exist from creation on, as Docker's; an anonymous one gets its name here.
    let volumes = crate::volumes::Volumes::new(containers.store_root());
    for mount in &mut container.mounts {
        mount.prepare(&volumes)?;
    }
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
    // A dead monitor's pasta may live on: end it (its monitor waited for it when it could).
    release_run(containers, &container.id, false)?;
    if volumes {
        remove_anonymous_volumes(containers, container)?;
    }
    let store = Store::open(containers.store_root())?;
    store.release(&holder(&container.id))?;
    drop(store);
    containers.remove(&container.id)
}

/// Releases what a run of container `id` holds outside its directory: its
/// pasta (waited for only when `wait`: it may hold published ports) and its
/// cgroups. Both are tried; the first error is returned.
pub(crate) fn release_run(containers: &Containers, id: &str, wait: bool) -> Result<()> {
    let pasta = crate::pasta::Pasta::stop_and_wait(&containers.directory(id), wait);
    let cgroups = crate::cgroups::Cgroups::remove(id);
    pasta.and(cgroups)
}

/// Removes the anonymous volumes of `container` (`-v /path`, the image's
/// VOLUMEs), as `rm -v` and `--rm` do; named volumes stay.
fn remove_anonymous_volumes(containers: &Containers, container: &Container) -> Result<()> {
    let volumes = crate::volumes::Volumes::new(containers.store_root());
    for mount in &container.mounts {
        let anonymous = matches!(
            mount.origin,
            crate::mounts::MountOrigin::AnonymousVolume | crate::mounts::MountOrigin::Image
        );
        if let (true, Some(name)) = (anonymous, &mount.volume_name) {
            match volumes.remove(name, &[]) {
                Ok(()) | Err(crate::Error::NoSuchVolume { .. }) => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(())
}
