//! Named and anonymous volumes in the store: `<store>/areas/volumes/<name>/_data`
//! and a small `volume.json`, as Docker's `local` driver keeps them under
//! `/var/lib/docker/volumes`; the copy of the image's content into a new
//! empty volume (Docker's copy-up, owners, modes, times, links and xattrs kept).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use filetime::FileTime;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// The directory holding a volume's content.
pub const VOLUME_DATA: &str = "_data";

/// The file holding a volume's metadata, beside its `_data`.
const VOLUME_METADATA: &str = "volume.json";

/// A volume of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// Its name (64 hex digits for an anonymous one).
    pub name: String,
    /// Its content's directory (`<store>/volumes/<name>/_data`).
    pub mountpoint: PathBuf,
    /// When it was made, RFC 3339 in UTC (`2026-12-06T12:00:00Z`).
    pub created_at: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Whether it was made for a container without a name given.
    pub anonymous: bool,
}

impl Volume {
    /// `docker volume inspect`'s object for it.
    pub fn inspect_json(&self) -> Value {
        let labels = if self.labels.is_empty() {
            Value::Null
        } else {
            json!(self.labels)
        };
        json!({
            "CreatedAt": self.created_at,
            "Driver": "local",
            "Labels": labels,
            "Mountpoint": self.mountpoint.display().to_string(),
            "Name": self.name,
            "Options": null,
            "Scope": "local",
        })
    }
}

/// The store's volumes.
#[derive(Debug, Clone)]
pub struct Volumes {
    root: PathBuf,
}

/// What `volume.json` holds.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    created_at: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    anonymous: bool,
}

impl Volumes {
    /// The volumes of the store at `store_root` (its `areas/volumes`, an
    /// area the store's prune leaves alone).
    pub fn new(store_root: impl AsRef<Path>) -> Self {
        Self {
            root: store_root.as_ref().join("areas/volumes"),
        }
    }

    /// Where the volumes live.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates volume `name` (Docker's name rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`)
    /// or returns it if it exists, as Docker's `local` driver does.
    pub fn create(&self, name: &str, labels: BTreeMap<String, String>) -> Result<Volume> {
        check_name(name)?;
        self.create_checked(name, labels, false)
    }

    /// Creates an anonymous volume, named with 64 random hex digits.
    pub fn create_anonymous(&self) -> Result<Volume> {
        let name = random_name()?;
        self.create_checked(&name, BTreeMap::new(), true)
    }

    fn create_checked(
        &self,
        name: &str,
        labels: BTreeMap<String, String>,
        anonymous: bool,
    ) -> Result<Volume> {
        let directory = self.root.join(name);
        strata_fs::create_dir_all(directory.join(VOLUME_DATA))?;
        let metadata_path = directory.join(VOLUME_METADATA);
        if !metadata_path.exists() {
            let metadata = Metadata {
                created_at: jiff::Timestamp::now()
                    .strftime("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
                labels,
                anonymous,
            };
            let text = serde_json::to_vec(&metadata).map_err(|error| Error::VolumeMetadata {
                path: metadata_path.clone(),
                reason: error.to_string(),
            })?;
            strata_fs::write_atomic(&metadata_path, &text)?;
        }
        self.get(name)
    }

    /// Volume `name`, or Docker's "No such volume".
    pub fn get(&self, name: &str) -> Result<Volume> {
        let directory = self.root.join(name);
        let metadata_path = directory.join(VOLUME_METADATA);
        let text = match std::fs::read(&metadata_path) {
            Ok(text) => text,
            Err(error) if error.kind() == ErrorKind::NotFound || name.contains('/') => {
                return Err(Error::NoSuchVolume {
                    name: name.to_owned(),
                });
            }
            Err(error) => return Err(strata_fs::Error::new("read", &metadata_path, error).into()),
        };
        let metadata: Metadata =
            serde_json::from_slice(&text).map_err(|error| Error::VolumeMetadata {
                path: metadata_path,
                reason: error.to_string(),
            })?;
        Ok(Volume {
            name: name.to_owned(),
            mountpoint: directory.join(VOLUME_DATA),
            created_at: metadata.created_at,
            labels: metadata.labels,
            anonymous: metadata.anonymous,
        })
    }

    /// Every volume, by name.
    pub fn list(&self) -> Result<Vec<Volume>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => {
                return Err(strata_fs::Error::new("read directory", &self.root, error).into());
            }
        };
        let mut volumes = Vec::new();
        for entry in entries {
            let entry = entry
                .map_err(|error| strata_fs::Error::new("read directory", &self.root, error))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            match self.get(&name) {
                Ok(volume) => volumes.push(volume),
                Err(Error::NoSuchVolume { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        volumes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(volumes)
    }

    /// Removes volume `name`, refused while containers use it: `users` are
    /// their ids, as the caller knows them (Docker's "volume is in use").
    pub fn remove(&self, name: &str, users: &[String]) -> Result<()> {
        let volume = self.get(name)?;
        if !users.is_empty() {
            return Err(Error::VolumeInUse {
                name: volume.name,
                containers: users.to_vec(),
            });
        }
        strata_fs::remove_dir_all(self.root.join(name))?;
        Ok(())
    }

    /// Removes every volume not in `in_use` (docker 20.10's `volume prune`,
    /// named ones too); returns the names removed and the bytes they held.
    pub fn prune(&self, in_use: &BTreeSet<String>) -> Result<(Vec<String>, u64)> {
        let mut removed = Vec::new();
        let mut reclaimed = 0;
        for volume in self.list()? {
            if in_use.contains(&volume.name) {
                continue;
            }
            reclaimed += directory_size(&volume.mountpoint)?;
            strata_fs::remove_dir_all(self.root.join(&volume.name))?;
            removed.push(volume.name);
        }
        Ok((removed, reclaimed))
    }

    /// Docker's copy-up: when volume `name` is empty and `from` (the image's
    /// directory at the mount's destination) exists, copies `from` into it
    /// keeping owners, modes, times, symlinks, hard links, special files and
    /// extended attributes. Returns whether anything was copied.
    pub fn populate(&self, name: &str, from: &Path) -> Result<bool> {
        let volume = self.get(name)?;
        let Ok(source) = std::fs::metadata(from) else {
            return Ok(false);
        };
        if !source.is_dir() {
            return Ok(false);
        }
        let mut existing = strata_fs::read_dir(&volume.mountpoint)?;
        if existing.next().is_some() {
            return Ok(false);
        }
        let mut links = HashMap::new();
        copy_directory(from, &volume.mountpoint, &mut links)?;
        copy_metadata(from, &volume.mountpoint, &source)?;
        Ok(true)
    }
}

/// Docker's local volume name rule and its messages.
fn check_name(name: &str) -> Result<()> {
    if name.chars().count() == 1 {
        return Err(Error::VolumeNameTooShort {
            name: name.to_owned(),
        });
    }
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !first_ok || !rest_ok || name.len() < 2 {
        return Err(Error::InvalidVolumeName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Docker's `GenerateRandomID`: 32 random bytes in hex, never a short form
/// that reads as a number.
fn random_name() -> Result<String> {
    let path = Path::new("/dev/urandom");
    let mut file = strata_fs::open(path)?;
    loop {
        let mut bytes = [0u8; 32];
        file.read_exact(&mut bytes)
            .map_err(|error| strata_fs::Error::new("read", path, error))?;
        let name: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        if !name[..12].bytes().all(|b| b.is_ascii_digit()) {
            return Ok(name);
        }
    }
}

/// The bytes of the regular files under `path`, hard links counted once.
fn directory_size(path: &Path) -> Result<u64> {
    let mut seen = BTreeSet::new();
    let mut total = 0;
    let mut pending = vec![path.to_owned()];
    while let Some(directory) = pending.pop() {
        for entry in strata_fs::read_dir(&directory)? {
            let entry = entry
                .map_err(|error| strata_fs::Error::new("read directory", &directory, error))?;
            let metadata = strata_fs::symlink_metadata(entry.path())?;
            if metadata.is_dir() {
                pending.push(entry.path());
            } else if metadata.is_file() && seen.insert((metadata.dev(), metadata.ino())) {
                total += metadata.len();
            }
        }
    }
    Ok(total)
}

/// Copies the content of `from` into the existing directory `to`.
fn copy_directory(from: &Path, to: &Path, links: &mut HashMap<(u64, u64), PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = strata_fs::read_dir(from)?
        .map(|entry| entry.map(|entry| entry.file_name()))
        .collect::<std::io::Result<_>>()
        .map_err(|error| strata_fs::Error::new("read directory", from, error))?;
    entries.sort();
    for name in entries {
        copy_entry(&from.join(&name), &to.join(&name), links)?;
    }
    Ok(())
}

fn copy_entry(
    source: &Path,
    target: &Path,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<()> {
    let metadata = strata_fs::symlink_metadata(source)?;
    let kind = metadata.file_type();
    let io = |operation, error| -> Error { strata_fs::Error::new(operation, target, error).into() };
    if kind.is_dir() {
        std::fs::create_dir(target).map_err(|error| io("create directory", error))?;
        copy_directory(source, target, links)?;
    } else if kind.is_symlink() {
        let destination = strata_fs::read_link(source)?;
        std::os::unix::fs::symlink(destination, target)
            .map_err(|error| io("create symlink", error))?;
    } else if kind.is_file() {
        let key = (metadata.dev(), metadata.ino());
        if metadata.nlink() > 1 {
            if let Some(first) = links.get(&key) {
                return std::fs::hard_link(first, target)
                    .map_err(|error| io("create hard link", error));
            }
            links.insert(key, target.to_owned());
        }
        std::fs::copy(source, target).map_err(|error| io("copy to", error))?;
    } else if kind.is_fifo() || kind.is_char_device() || kind.is_block_device() {
        let file_type = if kind.is_fifo() {
            rustix::fs::FileType::Fifo
        } else if kind.is_char_device() {
            rustix::fs::FileType::CharacterDevice
        } else {
            rustix::fs::FileType::BlockDevice
        };
        let mode = rustix::fs::Mode::from_raw_mode(metadata.mode() & 0o7777);
        rustix::fs::mknodat(rustix::fs::CWD, target, file_type, mode, metadata.rdev())
            .map_err(|error| io("create node", error.into()))?;
    } else {
        // Sockets belong to the processes that made them: not copied.
        return Ok(());
    }
    copy_metadata(source, target, &metadata)
}

/// Owner, then mode (a chown clears set-id bits), xattrs, then times.
fn copy_metadata(source: &Path, target: &Path, metadata: &std::fs::Metadata) -> Result<()> {
    let symlink = metadata.file_type().is_symlink();
    let io = |operation, error| -> Error { strata_fs::Error::new(operation, target, error).into() };
    std::os::unix::fs::lchown(target, Some(metadata.uid()), Some(metadata.gid()))
        .map_err(|error| io("change owner of", error))?;
    if !symlink {
        let permissions = std::fs::Permissions::from_mode(metadata.mode() & 0o7777);
        std::fs::set_permissions(target, permissions)
            .map_err(|error| io("change mode of", error))?;
    }
    copy_xattrs(source, target);
    let accessed = FileTime::from_last_access_time(metadata);
    let modified = FileTime::from_last_modification_time(metadata);
    filetime::set_symlink_file_times(target, accessed, modified)
        .map_err(|error| io("set times of", error))
}

/// Extended attributes, best effort as Docker's copy (a file system without
/// them, or a namespace we may not write, is skipped).
fn copy_xattrs(source: &Path, target: &Path) {
    let Ok(names) = xattr::list(source) else {
        return;
    };
    for name in names {
        if let Ok(Some(value)) = xattr::get(source, &name) {
            let _ = xattr::set(target, &name, &value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        for name in ["ab", "data", "my.vol-1_x", "0cache"] {
            assert!(check_name(name).is_ok(), "{name}");
        }
        assert_eq!(
            check_name("./rel").unwrap_err().to_string(),
            r#"create ./rel: "./rel" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path"#
        );
        assert!(check_name("_x").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name("").is_err());
        assert_eq!(
            check_name("x").unwrap_err().to_string(),
            "create x: volume name is too short, names should be at least two alphanumeric characters"
        );
    }

    #[test]
    fn volumes_are_created_listed_and_removed() {
        let store = tempfile::tempdir().unwrap();
        let volumes = Volumes::new(store.path());
        assert!(volumes.list().unwrap().is_empty());
        let labels = BTreeMap::from([("team".to_owned(), "web".to_owned())]);
        let data = volumes.create("data", labels.clone()).unwrap();
        assert_eq!(
            data.mountpoint,
            store.path().join("areas/volumes/data/_data")
        );
        assert!(data.mountpoint.is_dir());
        assert_eq!(data.labels, labels);
        assert!(
            data.created_at.ends_with('Z') && data.created_at.len() == 20,
            "{}",
            data.created_at
        );
        // Again: the same volume, its labels kept.
        std::fs::write(data.mountpoint.join("kept"), "x").unwrap();
        let again = volumes.create("data", BTreeMap::new()).unwrap();
        assert_eq!(again, data);
        assert!(again.mountpoint.join("kept").exists());
        let anonymous = volumes.create_anonymous().unwrap();
        assert_eq!(anonymous.name.len(), 64);
        assert!(anonymous.anonymous);
        let names: Vec<String> = volumes
            .list()
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect();
        let mut expected = vec![anonymous.name.clone(), "data".to_owned()];
        expected.sort();
        assert_eq!(names, expected);
        let inspect = data.inspect_json();
        assert_eq!(inspect["Driver"], "local");
        assert_eq!(inspect["Labels"]["team"], "web");
        assert_eq!(inspect["Mountpoint"], data.mountpoint.display().to_string());

        let error = volumes
            .remove("data", &["c1".to_owned(), "c2".to_owned()])
            .unwrap_err();
        assert_eq!(error.to_string(), "remove data: volume is in use - [c1 c2]");
        volumes.remove("data", &[]).unwrap();
        assert_eq!(
            volumes.remove("data", &[]).unwrap_err().to_string(),
            "No such volume: data"
        );
        assert_eq!(
            volumes.get("nope").unwrap_err().to_string(),
            "No such volume: nope"
        );
        assert!(!store.path().join("volumes/data").exists());
    }

    #[test]
    fn prune_keeps_what_is_in_use() {
        let store = tempfile::tempdir().unwrap();
        let volumes = Volumes::new(store.path());
        for name in ["used", "idle", "other"] {
            let volume = volumes.create(name, BTreeMap::new()).unwrap();
            std::fs::write(volume.mountpoint.join("file"), vec![0u8; 1000]).unwrap();
        }
        let idle = volumes.get("idle").unwrap();
        std::fs::hard_link(idle.mountpoint.join("file"), idle.mountpoint.join("link")).unwrap();
        let (removed, reclaimed) = volumes.prune(&BTreeSet::from(["used".to_owned()])).unwrap();
        assert_eq!(removed, ["idle", "other"]);
        assert_eq!(reclaimed, 2000);
        let left: Vec<String> = volumes
            .list()
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect();
        assert_eq!(left, ["used"]);
    }

    #[test]
    fn populate_copies_only_into_an_empty_volume() {
        let store = tempfile::tempdir().unwrap();
        let image = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(image.path().join("etc/conf.d")).unwrap();
        std::fs::write(image.path().join("etc/conf.d/app.conf"), "port=80\n").unwrap();
        std::os::unix::fs::symlink("conf.d/app.conf", image.path().join("etc/app.conf")).unwrap();
        let volumes = Volumes::new(store.path());
        let volume = volumes.create("conf", BTreeMap::new()).unwrap();
        assert!(
            !volumes
                .populate("conf", &image.path().join("missing"))
                .unwrap()
        );
        assert!(volumes.populate("conf", &image.path().join("etc")).unwrap());
        assert_eq!(
            std::fs::read_to_string(volume.mountpoint.join("app.conf")).unwrap(),
            "port=80\n"
        );
        assert_eq!(
            std::fs::read_link(volume.mountpoint.join("app.conf")).unwrap(),
            Path::new("conf.d/app.conf")
        );
        // Not empty any more: a second image path is not copied in.
        std::fs::write(image.path().join("other"), "x").unwrap();
        assert!(!volumes.populate("conf", image.path()).unwrap());
        assert!(!volume.mountpoint.join("other").exists());
    }
}
