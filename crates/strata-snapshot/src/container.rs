//! A container's writable layer: kept in a directory the caller owns (a
//! container lives longer than any process of ours), over a committed chain.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::mount::OpenTreeFlags;
use strata_oci::Digest;

use crate::snapshotter::{Kind, Snapshotter};
use crate::{Error, Result, copy, overlay};

/// The writable layer of a container in `directory`: for overlay its
/// `upper` and `work` directories, for copy a whole `tree`.
#[derive(Debug, Clone)]
pub struct ContainerLayer {
    directory: PathBuf,
    kind: Kind,
}

impl ContainerLayer {
    /// The layer kept in `directory` for snapshots of `snapshotter`'s kind.
    pub fn new(snapshotter: &Snapshotter, directory: &Path) -> Self {
        Self {
            directory: directory.to_path_buf(),
            kind: snapshotter.kind(),
        }
    }

    /// What the container changed: the overlay's upper directory, or the
    /// whole tree for copy (whose size is then the container's whole size).
    pub fn changes_directory(&self) -> PathBuf {
        self.directory.join(match self.kind {
            Kind::Overlay => "upper",
            Kind::Copy => "tree",
        })
    }

    /// The layer over `parent` (a committed chain, or nothing) as a detached
    /// mount, creating its directories on first use. `volatile` overlays are
    /// never synced (for containers removed when they stop); a container
    /// that is kept gets an ordinary one, so its files survive a crash.
    pub fn mount(
        &self,
        snapshotter: &Snapshotter,
        parent: Option<&Digest>,
        volatile: bool,
    ) -> Result<OwnedFd> {
        let lowers = match parent {
            Some(parent) => snapshotter.lower_directories(parent)?,
            None => Vec::new(),
        };
        match self.kind {
            Kind::Overlay => {
                let upper = self.changes_directory();
                let work = self.directory.join("work");
                strata_fs::create_dir_all(&upper)?;
                strata_fs::create_dir_all(&work)?;
                // A volatile mount leaves this behind to refuse a remount.
                let incompat = work.join("work/incompat");
                if incompat.exists() {
                    strata_fs::remove_dir_all(&incompat)?;
                }
                let empty = [snapshotter.root().join("empty")];
                let lowers = if lowers.is_empty() {
                    &empty[..]
                } else {
                    &lowers[..]
                };
                overlay::mount_fd(lowers, &upper, &work, volatile)
            }
            Kind::Copy => {
                let tree = self.changes_directory();
                if !tree.exists() {
                    let staging = self.directory.join("tree.partial");
                    if staging.exists() {
                        strata_fs::remove_dir_all(&staging)?;
                    }
                    match lowers.first() {
                        Some(parent_tree) => copy::copy_tree(parent_tree, &staging)?,
                        None => strata_fs::create_dir_all(&staging)?,
                    }
                    strata_fs::rename(&staging, &tree)?;
                }
                rustix::mount::open_tree(
                    rustix::fs::CWD,
                    &tree,
                    OpenTreeFlags::OPEN_TREE_CLONE
                        | OpenTreeFlags::OPEN_TREE_CLOEXEC
                        | OpenTreeFlags::AT_RECURSIVE,
                )
                .map_err(|e| Error::mount("clone tree", &tree, e))
            }
        }
    }

    /// Removes the layer's directories (nothing may be mounted from them).
    pub fn remove(&self) -> Result<()> {
        for name in ["upper", "work", "tree", "tree.partial"] {
            let path = self.directory.join(name);
            if path.exists() {
                strata_fs::remove_dir_all(&path)?;
            }
        }
        Ok(())
    }
}
