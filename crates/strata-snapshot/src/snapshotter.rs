//! The snapshot directory: committed snapshots by chain id, active ones, and
//! the staging area for unpacks.

use std::fs::{self, File, TryLockError};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use strata_layer::{ApplyOptions, WhiteoutMode};
use strata_oci::Digest;

use crate::active::ActiveSnapshot;
use crate::{Error, Result, copy, overlay};

/// How snapshots are stored and mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// overlayfs: committed snapshots hold one layer each, active ones are mounts.
    Overlay,
    /// Whole-tree copies: for file systems where overlayfs cannot work.
    Copy,
}

impl Kind {
    /// Its name (`overlay`, `copy`), also its directory's.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Overlay => "overlay",
            Kind::Copy => "copy",
        }
    }
}

/// The OCI chain id of a layer over `parent` (the chain id of the layers
/// below it): the diff id itself for the first layer, otherwise
/// `sha256(parent + " " + diff_id)`.
pub fn chain_id(parent: Option<&Digest>, diff_id: &Digest) -> Digest {
    match parent {
        None => *diff_id,
        Some(parent) => Digest::of(format!("{parent} {diff_id}").as_bytes()),
    }
}

/// Committed snapshots under one directory, keyed by chain id.
#[derive(Debug, Clone)]
pub struct Snapshotter {
    root: PathBuf,
    kind: Kind,
}

/// A directory of a live operation, locked for as long as it lives; a
/// directory whose lock is free belongs to a process that died.
#[derive(Debug)]
pub(crate) struct WorkDirectory {
    pub(crate) path: PathBuf,
    _lock: File,
}

impl Drop for WorkDirectory {
    fn drop(&mut self) {
        // Removed while still locked, so that no cleanup races with us.
        if self.path.exists() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Snapshotter {
    /// Opens (creating it if needed) the snapshots under `directory`, of the
    /// kind `STRATA_SNAPSHOTTER` (`overlay` or `copy`) names, or else overlay
    /// when an overlayfs mount works there and copy when it does not (overlay
    /// on overlay, file systems without trusted xattrs, no privileges).
    /// The probe's answer is remembered in `directory/kind` for the file
    /// system it was made on, so that only the first open pays for a mount.
    /// Leftovers of killed processes are removed.
    pub fn open(directory: &Path) -> Result<Self> {
        let kind = match std::env::var("STRATA_SNAPSHOTTER").as_deref() {
            Ok("overlay") => Kind::Overlay,
            Ok("copy") => Kind::Copy,
            Ok(other) if !other.is_empty() => {
                return Err(Error::Unusable {
                    path: directory.to_path_buf(),
                    reason: format!("STRATA_SNAPSHOTTER={other:?}: expected overlay or copy"),
                });
            }
            _ => {
                strata_fs::create_dir_all(directory)?;
                probed_kind(directory)?
            }
        };
        Self::with_kind(directory, kind)
    }

    /// Opens the snapshots of `kind` under `directory` (each kind has its own
    /// subdirectory), removing leftovers of killed processes, and every
    /// committed snapshot when the machine booted since they were made.
    ///
    /// Snapshots are never synced to disk (overlays are mounted `volatile`,
    /// unpacks write through the page cache): they are a cache of layer
    /// blobs, which are. A crash can leave a snapshot with lost writes, so
    /// the first open after a boot drops them all, and they are unpacked
    /// again from their blobs when next needed.
    pub fn with_kind(directory: &Path, kind: Kind) -> Result<Self> {
        let root = directory.join(kind.name());
        for area in ["layers", "active", "staging"] {
            strata_fs::create_dir_all(root.join(area))?;
        }
        if kind == Kind::Overlay {
            strata_fs::create_dir_all(root.join("empty"))?;
        }
        let snapshotter = Self { root, kind };
        snapshotter.remove_leftovers()?;
        snapshotter.forget_previous_boots()?;
        Ok(snapshotter)
    }

    /// Removes what killed processes left under `directory` (work
    /// directories of either kind, and their mounts), without opening it as
    /// a snapshotter: cheap enough for every command that opens the store.
    pub fn remove_leftovers_in(directory: &Path) -> Result<()> {
        for kind in [Kind::Overlay, Kind::Copy] {
            let root = directory.join(kind.name());
            if root.join("active").is_dir() {
                Self { root, kind }.remove_leftovers()?;
            }
        }
        Ok(())
    }

    /// The kind of these snapshots.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The directory holding this kind's snapshots.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether a snapshot with this chain id is committed.
    pub fn contains(&self, chain_id: &Digest) -> bool {
        self.layer_directory(chain_id).join("diff").is_dir()
    }

    pub(crate) fn layer_directory(&self, chain_id: &Digest) -> PathBuf {
        self.root.join("layers").join(chain_id.hex())
    }

    /// The directories to stack for `chain_id`, topmost first: one per layer
    /// for overlay, the one whole tree for copy.
    pub(crate) fn lower_directories(&self, chain_id: &Digest) -> Result<Vec<PathBuf>> {
        let mut directories = Vec::new();
        let mut next = Some(*chain_id);
        while let Some(current) = next {
            let layer = self.layer_directory(&current);
            if !layer.join("diff").is_dir() {
                return Err(Error::NotFound { chain_id: current });
            }
            directories.push(layer.join("diff"));
            if self.kind == Kind::Copy {
                break;
            }
            next = match fs::read_to_string(layer.join("parent")) {
                Ok(text) => Some(text.trim().parse().map_err(|_| Error::Unusable {
                    path: layer.join("parent"),
                    reason: format!("not a chain id: {text:?}"),
                })?),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(strata_fs::Error::new("read", layer.join("parent"), e).into()),
            };
        }
        Ok(directories)
    }

    /// Makes sure the layer `diff_id` over `parent` is unpacked, and returns
    /// its chain id. `open` is called only when it is not there yet; the
    /// uncompressed content must hash to `diff_id`. Unpacking happens in a
    /// staging directory renamed into place, so a concurrent or killed unpack
    /// never shows half a layer.
    pub fn unpack<R: Read + Send>(
        &self,
        parent: Option<&Digest>,
        diff_id: &Digest,
        open: impl FnOnce() -> io::Result<R>,
    ) -> Result<Digest> {
        let chain = chain_id(parent, diff_id);
        if self.contains(&chain) {
            return Ok(chain);
        }
        if let Some(parent) = parent
            && !self.contains(parent)
        {
            return Err(Error::NotFound { chain_id: *parent });
        }
        let work = self.work_directory("staging")?;
        let tree = work.path.join("diff");
        let whiteouts = match self.kind {
            Kind::Overlay => {
                strata_fs::create_dir_all(&tree)?;
                WhiteoutMode::Overlay
            }
            Kind::Copy => {
                match parent {
                    Some(parent) => {
                        copy::copy_tree(&self.layer_directory(parent).join("diff"), &tree)?
                    }
                    None => strata_fs::create_dir_all(&tree)?,
                }
                WhiteoutMode::Delete
            }
        };
        let blob = open().map_err(|e| {
            Error::Layer(strata_layer::Error::Archive {
                entry: None,
                source: e,
            })
        })?;
        let options = ApplyOptions {
            whiteouts,
            ..ApplyOptions::default()
        };
        let report = strata_layer::apply_layer(blob, &tree, &options)?;
        if report.diff_id != *diff_id {
            return Err(Error::DiffIdMismatch {
                expected: *diff_id,
                actual: report.diff_id,
            });
        }
        self.publish(&work, parent, &chain)?;
        Ok(chain)
    }

    /// Makes sure every layer of a chain (`diff_ids`, bottom first) is
    /// unpacked, opening layer `i`'s uncompressed tar with `open(i)` only
    /// when it is missing; the chain id of the top, `None` for no layers.
    pub fn unpack_chain<R: Read + Send>(
        &self,
        diff_ids: &[Digest],
        mut open: impl FnMut(usize) -> io::Result<R>,
    ) -> Result<Option<Digest>> {
        let mut parent: Option<Digest> = None;
        for (index, diff_id) in diff_ids.iter().enumerate() {
            let chain = chain_id(parent.as_ref(), diff_id);
            if !self.contains(&chain) {
                self.unpack(parent.as_ref(), diff_id, || open(index))?;
            }
            parent = Some(chain);
        }
        Ok(parent)
    }

    /// Moves a finished `work` directory (holding `diff`) to the chain id's
    /// place. When another process committed the same chain first, its copy
    /// is kept and ours dropped with the work directory.
    pub(crate) fn publish(
        &self,
        work: &WorkDirectory,
        parent: Option<&Digest>,
        chain: &Digest,
    ) -> Result<()> {
        let staged = work.path.join("snapshot");
        strata_fs::create_dir_all(&staged)?;
        strata_fs::rename(work.path.join("diff"), staged.join("diff"))?;
        // Nothing here is synced: a crash drops every snapshot (see
        // `with_kind`), and a killed process leaves only its work directory.
        if let Some(parent) = parent {
            let path = staged.join("parent");
            fs::write(&path, format!("{parent}\n"))
                .map_err(|e| strata_fs::Error::new("write", &path, e))?;
        }
        let destination = self.layer_directory(chain);
        match fs::rename(&staged, &destination) {
            Ok(()) => {}
            Err(_) if self.contains(chain) => {}
            Err(e) => return Err(strata_fs::Error::new("rename", &staged, e).into()),
        }
        Ok(())
    }

    /// A writable snapshot over `parent` (or over nothing).
    pub fn prepare(&self, parent: Option<&Digest>) -> Result<ActiveSnapshot> {
        let lowers = match parent {
            Some(parent) => self.lower_directories(parent)?,
            None => Vec::new(),
        };
        let work = self.work_directory("active")?;
        ActiveSnapshot::new(self.clone(), work, parent.copied(), lowers)
    }

    /// The chain ids of every committed snapshot, sorted.
    pub fn chain_ids(&self) -> Result<Vec<Digest>> {
        let directory = self.root.join("layers");
        let mut chains = Vec::new();
        for entry in strata_fs::read_dir(&directory)? {
            let entry =
                entry.map_err(|e| strata_fs::Error::new("list directory", &directory, e))?;
            let Some(hex) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if let Ok(chain) = format!("sha256:{hex}").parse::<Digest>()
                && self.contains(&chain)
            {
                chains.push(chain);
            }
        }
        chains.sort();
        Ok(chains)
    }

    /// Removes a committed snapshot. Snapshots over it stop working: the
    /// caller (the store's garbage collector) removes children first.
    pub fn remove(&self, chain_id: &Digest) -> Result<()> {
        let directory = self.layer_directory(chain_id);
        if !directory.exists() {
            return Ok(());
        }
        let work = self.work_directory("staging")?;
        let doomed = work.path.join("removed");
        strata_fs::rename(&directory, &doomed)?;
        Ok(strata_fs::remove_dir_all(&doomed)?)
    }

    /// A new locked directory under `area` ("active" or "staging"): made
    /// under a hidden name, locked (flock on the directory itself), then
    /// renamed, so that a cleanup never sees it unlocked.
    pub(crate) fn work_directory(&self, area: &str) -> Result<WorkDirectory> {
        let name = format!(
            "{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let hidden = self.root.join(area).join(format!(".new-{name}"));
        let path = self.root.join(area).join(name);
        fs::create_dir(&hidden)
            .map_err(|e| strata_fs::Error::new("create directory", &hidden, e))?;
        let lock = File::open(&hidden).map_err(|e| strata_fs::Error::new("open", &hidden, e))?;
        lock.lock()
            .map_err(|e| strata_fs::Error::new("lock", &hidden, e))?;
        strata_fs::rename(&hidden, &path)?;
        Ok(WorkDirectory { path, _lock: lock })
    }

    /// Drops every committed snapshot when they were made in an earlier
    /// boot of the machine (see [`Snapshotter::with_kind`]); records this
    /// boot. Serialised by a lock, so that two processes opening at once
    /// after a reboot do not drop what the other has just made.
    fn forget_previous_boots(&self) -> Result<()> {
        let Some(boot) = boot_id() else {
            return Ok(());
        };
        let marker = self.root.join("boot-id");
        if fs::read_to_string(&marker).is_ok_and(|text| text.trim() == boot) {
            return Ok(());
        }
        let lock_path = self.root.join("boot-id.lock");
        let lock =
            File::create(&lock_path).map_err(|e| strata_fs::Error::new("create", &lock_path, e))?;
        lock.lock()
            .map_err(|e| strata_fs::Error::new("lock", &lock_path, e))?;
        if fs::read_to_string(&marker).is_ok_and(|text| text.trim() == boot) {
            return Ok(());
        }
        let layers = self.root.join("layers");
        let work = self.work_directory("staging")?;
        strata_fs::rename(&layers, work.path.join("layers"))?;
        strata_fs::create_dir_all(&layers)?;
        strata_fs::write_replace(&marker, format!("{boot}\n").as_bytes())?;
        drop(work);
        Ok(())
    }

    /// Removes the work directories of processes that died (their lock is
    /// free), unmounting what they left mounted.
    fn remove_leftovers(&self) -> Result<()> {
        for area in ["active", "staging"] {
            let directory = self.root.join(area);
            for entry in strata_fs::read_dir(&directory)? {
                let entry =
                    entry.map_err(|e| strata_fs::Error::new("list directory", &directory, e))?;
                let path = entry.path();
                if entry.file_name().as_encoded_bytes().starts_with(b".new-") {
                    // Being created right now, or left by a crash mid-creation.
                    let old = entry
                        .metadata()
                        .ok()
                        .and_then(|m| m.modified().ok())
                        .and_then(|m| m.elapsed().ok())
                        .is_some_and(|age| age.as_secs() > 600);
                    if !old {
                        continue;
                    }
                }
                let in_use = match File::open(&path) {
                    Ok(lock) => matches!(lock.try_lock(), Err(TryLockError::WouldBlock)),
                    Err(_) => false,
                };
                if in_use {
                    continue;
                }
                overlay::unmount_if_mounted(&path.join("merged"));
                strata_fs::remove_dir_all(&path)?;
            }
        }
        Ok(())
    }
}

/// This boot of the machine's id (`/proc/sys/kernel/random/boot_id`), if the kernel tells.
fn boot_id() -> Option<String> {
    let text = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The kind for `directory`: the one recorded in `directory/kind` when it
/// was probed on the same file system (device), else probed and recorded.
/// Which snapshotter [`Snapshotter::open`] takes under `directory` (which
/// must exist), and why, probed afresh (for `strata system info`).
pub fn explain_choice(directory: &Path) -> (Kind, String) {
    match std::env::var("STRATA_SNAPSHOTTER").as_deref() {
        Ok("overlay") => return (Kind::Overlay, "STRATA_SNAPSHOTTER=overlay".to_owned()),
        Ok("copy") => return (Kind::Copy, "STRATA_SNAPSHOTTER=copy".to_owned()),
        _ => {}
    }
    let namespace = if strata_fs::in_user_namespace() {
        "in strata's user namespace, with userxattr (Linux 5.11+)"
    } else {
        "with trusted xattrs"
    };
    match overlay::probe_in(directory) {
        Ok(()) => (Kind::Overlay, format!("overlayfs mounts here, {namespace}")),
        Err(error) => (
            Kind::Copy,
            format!("overlayfs cannot be mounted here ({error}): snapshots are copies"),
        ),
    }
}

fn probed_kind(directory: &Path) -> Result<Kind> {
    use std::os::unix::fs::MetadataExt;
    let device = strata_fs::metadata(directory)?.dev();
    let record = directory.join("kind");
    if let Ok(text) = fs::read_to_string(&record) {
        let mut words = text.split_whitespace();
        let kind = match words.next() {
            Some("overlay") => Some(Kind::Overlay),
            Some("copy") => Some(Kind::Copy),
            _ => None,
        };
        let same_device = words.next().and_then(|d| d.parse::<u64>().ok()) == Some(device);
        if let Some(kind) = kind
            && same_device
        {
            return Ok(kind);
        }
    }
    let kind = if overlay::probe_in(directory).is_ok() {
        Kind::Overlay
    } else {
        Kind::Copy
    };
    // Only a cache of the probe: a failed write means probing again next time.
    let _ = strata_fs::write_replace(&record, format!("{} {device}\n", kind.name()).as_bytes());
    Ok(kind)
}
