//! Writable snapshots: mounted for a step, then committed as the next layer
//! or discarded.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::mount::{MoveMountFlags, OpenTreeFlags};
use strata_layer::{Change, LayerDigests, LayerOptions};
use strata_oci::Digest;

use crate::snapshotter::WorkDirectory;
use crate::{Error, Kind, Result, Snapshotter, chain_id, copy, overlay};

/// A writable snapshot over a committed one. Dropping it removes everything
/// it made (its directory, its mount); a process killed while holding one
/// leaves a directory that the next [`Snapshotter::open`] removes.
#[derive(Debug)]
pub struct ActiveSnapshot {
    snapshotter: Snapshotter,
    work: WorkDirectory,
    parent: Option<Digest>,
    /// overlay: the parent chain's layers, topmost first; copy: the parent tree.
    lowers: Vec<PathBuf>,
}

/// A committed snapshot and the layer written for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The new snapshot's chain id.
    pub chain_id: Digest,
    /// The layer's diff id, digest, sizes and media type.
    pub layer: LayerDigests,
}

/// The snapshot attached at a path in this process's mount namespace;
/// detached (lazily) when dropped.
#[derive(Debug)]
pub struct Mounted<'a> {
    path: PathBuf,
    _snapshot: &'a ActiveSnapshot,
}

impl Mounted<'_> {
    /// Where the snapshot's tree is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        overlay::unmount_if_mounted(&self.path);
    }
}

impl ActiveSnapshot {
    pub(crate) fn new(
        snapshotter: Snapshotter,
        work: WorkDirectory,
        parent: Option<Digest>,
        lowers: Vec<PathBuf>,
    ) -> Result<Self> {
        let snapshot = Self {
            snapshotter,
            work,
            parent,
            lowers,
        };
        strata_fs::create_dir_all(snapshot.mount_point())?;
        match snapshot.snapshotter.kind() {
            Kind::Overlay => {
                strata_fs::create_dir_all(snapshot.upper())?;
                strata_fs::create_dir_all(snapshot.work.path.join("work"))?;
            }
            Kind::Copy => match snapshot.lowers.first() {
                Some(parent_tree) => copy::copy_tree(parent_tree, &snapshot.upper())?,
                None => strata_fs::create_dir_all(snapshot.upper())?,
            },
        }
        Ok(snapshot)
    }

    /// The kind of snapshotter it belongs to.
    pub fn kind(&self) -> Kind {
        self.snapshotter.kind()
    }

    /// The chain id it was prepared over.
    pub fn parent(&self) -> Option<&Digest> {
        self.parent.as_ref()
    }

    /// overlay: the upper directory; copy: the whole tree.
    fn upper(&self) -> PathBuf {
        self.work.path.join(match self.snapshotter.kind() {
            Kind::Overlay => "upper",
            Kind::Copy => "tree",
        })
    }

    /// An empty directory to attach the snapshot on (in a private mount
    /// namespace, as the sandbox does, or with [`ActiveSnapshot::mount`]).
    pub fn mount_point(&self) -> PathBuf {
        self.work.path.join("merged")
    }

    /// The snapshot as a detached mount (`fsmount` for overlay, a recursive
    /// `open_tree` clone for copy), attached nowhere: closing the descriptor
    /// unmounts it, so a killed process leaves no mount behind.
    pub fn detached_mount(&self) -> Result<OwnedFd> {
        match self.snapshotter.kind() {
            Kind::Overlay => {
                // A volatile overlay leaves `work/incompat/volatile` behind so
                // that an upper directory a crash may have damaged is never
                // mounted again. An earlier mount of this snapshot, by this
                // process, left it: nothing crashed in between.
                let incompat = self.work.path.join("work/work/incompat");
                if incompat.exists() {
                    strata_fs::remove_dir_all(&incompat)?;
                }
                let empty = [self.snapshotter.root().join("empty")];
                let lowers = if self.lowers.is_empty() {
                    &empty[..]
                } else {
                    &self.lowers[..]
                };
                overlay::mount_fd(lowers, &self.upper(), &self.work.path.join("work"), true)
            }
            Kind::Copy => rustix::mount::open_tree(
                rustix::fs::CWD,
                self.upper(),
                OpenTreeFlags::OPEN_TREE_CLONE
                    | OpenTreeFlags::OPEN_TREE_CLOEXEC
                    | OpenTreeFlags::AT_RECURSIVE,
            )
            .map_err(|e| Error::mount("clone tree", self.upper(), e)),
        }
    }

    /// Attaches the snapshot at [`ActiveSnapshot::mount_point`] in this
    /// process's mount namespace, until the guard is dropped.
    pub fn mount(&self) -> Result<Mounted<'_>> {
        let mount = self.detached_mount()?;
        let path = self.mount_point();
        rustix::mount::move_mount(
            &mount,
            "",
            rustix::fs::CWD,
            &path,
            MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
        )
        .map_err(|e| Error::mount("attach snapshot", &path, e))?;
        Ok(Mounted {
            path,
            _snapshot: self,
        })
    }

    /// What changed in this snapshot relative to its parent. Read it with
    /// nothing running in the snapshot.
    pub fn changes(&self) -> Result<Vec<Change>> {
        match self.snapshotter.kind() {
            Kind::Overlay => overlay::upper_changes(&self.upper(), &self.lowers),
            Kind::Copy => {
                copy::tree_changes(self.lowers.first().map(PathBuf::as_path), &self.upper())
            }
        }
    }

    /// Writes the diff as a layer to `output` without committing (an export
    /// in another compression, say); returns its digests and `output`.
    pub fn write_layer<W: Write>(
        &self,
        options: &LayerOptions,
        output: W,
    ) -> Result<(LayerDigests, W)> {
        let changes = self.changes()?;
        Ok(strata_layer::write_layer(
            &self.upper(),
            &changes,
            options,
            output,
        )?)
    }

    /// Writes the diff as a layer to `output` and commits the snapshot under
    /// the resulting chain id (one rename; when that chain id is already
    /// committed, the existing one is kept). Returns the chain id, the
    /// layer's digests and `output`.
    pub fn commit<W: Write>(self, options: &LayerOptions, output: W) -> Result<(Committed, W)> {
        let changes = self.changes()?;
        let (layer, output) = strata_layer::write_layer(&self.upper(), &changes, options, output)?;
        let chain = chain_id(self.parent.as_ref(), &layer.diff_id);
        if !self.snapshotter.contains(&chain) {
            strata_fs::rename(self.upper(), self.work.path.join("diff"))?;
            self.snapshotter
                .publish(&self.work, self.parent.as_ref(), &chain)?;
        }
        Ok((
            Committed {
                chain_id: chain,
                layer,
            },
            output,
        ))
    }

    /// Removes the snapshot and everything in it (what dropping it does, with
    /// the error reported).
    pub fn discard(self) -> Result<()> {
        self.remove()
    }

    fn remove(&self) -> Result<()> {
        overlay::unmount_if_mounted(&self.mount_point());
        if self.work.path.exists() {
            strata_fs::remove_dir_all(&self.work.path)?;
        }
        Ok(())
    }
}

impl Drop for ActiveSnapshot {
    fn drop(&mut self) {
        let _ = self.remove();
    }
}
