//! The containers of a store (`<store>/areas/containers/<id>/`): create,
//! find as Docker does (name, ID, unique ID prefix), read, update, remove.
//!
//! Each container directory holds `config.json` (its [`Container`] record,
//! written once, synced), `state.json` (its [`State`], replaced atomically),
//! `lock` (taken by any process changing its life: start, remove) and
//! `monitor.lock` (held by its monitor for as long as the monitor lives, so
//! that a SIGKILLed monitor or a reboot shows as a free lock).

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use crate::record::Container;
use crate::state::{State, Status, now};
use crate::{Error, Result};

/// The containers under one directory.
#[derive(Debug, Clone)]
pub struct Containers {
    directory: PathBuf,
}

/// A container with its state as it really is.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its record.
    pub container: Container,
    /// Its state; a running state whose monitor is gone reads as exited.
    pub state: State,
}

const CONFIG: &str = "config.json";

const STATE: &str = "state.json";

impl Containers {
    /// The containers kept in `directory` (created if missing).
    pub fn open(directory: &Path) -> Result<Self> {
        strata_fs::create_dir_all(directory)?;
        Ok(Self {
            directory: directory.to_path_buf(),
        })
    }

    /// The containers of a store.
    pub fn of_store(store: &strata_store::Store) -> Result<Self> {
        let directory = store.area("containers")?;
        Self::open(&directory)
    }

    /// The directory of all containers.
    pub fn root(&self) -> &Path {
        &self.directory
    }

    /// The root of the store they belong to (`<store>/areas/containers`).
    pub fn store_root(&self) -> PathBuf {
        self.directory
            .parent()
            .and_then(Path::parent)
            .map_or_else(|| self.directory.clone(), Path::to_path_buf)
    }

    /// The IDs of the containers using volume `name`.
    pub fn volume_users(&self, name: &str) -> Result<Vec<String>> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|entry| {
                entry
                    .container
                    .mounts
                    .iter()
                    .any(|m| m.volume_name.as_deref() == Some(name))
            })
            .map(|entry| entry.container.id)
            .collect())
    }

    /// Container `id`'s json-file log.
    pub fn log_path(&self, id: &str) -> PathBuf {
        self.directory(id).join(format!("{id}-json.log"))
    }

    /// Bytes container `id` wrote to its writable layer (`ps -s`).
    pub fn writable_layer_size(&self, id: &str) -> u64 {
        let layer = self.directory(id).join("layer");
        ["upper", "tree"]
            .iter()
            .map(|name| strata_fs::tree_size(layer.join(name)))
            .sum()
    }

    /// The directory of container `id`.
    pub fn directory(&self, id: &str) -> PathBuf {
        self.directory.join(id)
    }

    /// Records a new container (state `created`). The name must be free:
    /// otherwise Docker's conflict error, and nothing is written.
    pub fn create(&self, container: &Container) -> Result<()> {
        let _names = self.lock_names()?;
        if let Some(existing) = self.by_name(&container.name)? {
            return Err(Error::NameConflict {
                name: container.name.clone(),
                id: existing.container.id,
            });
        }
        let directory = self.directory(&container.id);
        let staging = self.directory.join(format!(".new-{}", container.id));
        strata_fs::create_dir_all(&staging)?;
        let config = serde_json::to_vec_pretty(container).map_err(Error::json(CONFIG))?;
        strata_fs::write_atomic(staging.join(CONFIG), &config)?;
        let state = serde_json::to_vec(&State::default()).map_err(Error::json(STATE))?;
        strata_fs::write_replace(staging.join(STATE), &state)?;
        // Appears whole or not at all.
        strata_fs::rename(&staging, &directory)?;
        Ok(())
    }

    /// Every container, newest first.
    pub fn list(&self) -> Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for item in strata_fs::read_dir(&self.directory)? {
            let item = item.map_err(|e| strata_fs::Error::new("list", &self.directory, e))?;
            let Some(name) = item.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if name.len() != 64 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            // A container removed meanwhile is simply not listed.
            if let Ok(entry) = self.load(&name) {
                entries.push(entry);
            }
        }
        entries.sort_by(|a, b| b.container.created.cmp(&a.container.created));
        Ok(entries)
    }

    /// Finds a container as Docker does: full ID, name (with or without
    /// `/`), or a prefix of exactly one ID. `No such container: X` otherwise.
    pub fn find(&self, text: &str) -> Result<Entry> {
        let not_found = || Error::NoSuchContainer {
            name: text.to_owned(),
        };
        if text.is_empty() {
            return Err(not_found());
        }
        if text.len() == 64 && self.directory(text).join(CONFIG).is_file() {
            return self.load(text);
        }
        if let Some(entry) = self.by_name(text.strip_prefix('/').unwrap_or(text))? {
            return Ok(entry);
        }
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let mut found: Vec<Entry> = self
            .list()?
            .into_iter()
            .filter(|e| e.container.id.starts_with(text))
            .collect();
        match found.len() {
            0 => Err(not_found()),
            1 => Ok(found.remove(0)),
            _ => Err(Error::AmbiguousPrefix {
                prefix: text.to_owned(),
            }),
        }
    }

    fn by_name(&self, name: &str) -> Result<Option<Entry>> {
        Ok(self
            .list()?
            .into_iter()
            .find(|entry| entry.container.name == name))
    }

    /// Container `id` with its state as it really is: recorded as running
    /// while no monitor holds its lock means the monitor died (SIGKILL, a
    /// reboot), and with it the container: it then reads as exited (255,
    /// as Docker reports containers it finds dead), and is recorded so.
    pub fn load(&self, id: &str) -> Result<Entry> {
        let directory = self.directory(id);
        let config_path = directory.join(CONFIG);
        let bytes = strata_fs::read(&config_path)?;
        let container: Container =
            serde_json::from_slice(&bytes).map_err(Error::json(config_path.display()))?;
        let mut state = self.read_state(id);
        if state.running() && !self.monitor_alive(id) {
            state.status = Status::Exited;
            state.pid = 0;
            state.exit_code = 255;
            state.error = "the container's monitor exited unexpectedly".to_owned();
            state.finished_at = now();
            state.health = state.health.map(|mut health| {
                health.status = crate::state::HealthStatus::Unhealthy;
                health
            });
            // Best effort: another reader may be correcting it too.
            let _ = self.write_state(id, &state);
        }
        Ok(Entry { container, state })
    }

    /// The recorded state (a missing or unreadable file reads as `created`).
    pub fn read_state(&self, id: &str) -> State {
        std::fs::read(self.directory(id).join(STATE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Replaces the recorded state.
    pub fn write_state(&self, id: &str, state: &State) -> Result<()> {
        let bytes = serde_json::to_vec(state).map_err(Error::json(STATE))?;
        Ok(strata_fs::write_replace(
            self.directory(id).join(STATE),
            &bytes,
        )?)
    }

    /// Whether a monitor holds container `id`'s monitor lock.
    pub fn monitor_alive(&self, id: &str) -> bool {
        let Ok(file) = File::open(self.directory(id).join("monitor.lock")) else {
            return false;
        };
        matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
    }

    /// Takes container `id`'s monitor lock for this process's life, or
    /// `None` when another monitor has it.
    pub fn take_monitor_lock(&self, id: &str) -> Result<Option<File>> {
        let path = self.directory(id).join("monitor.lock");
        let file = File::create(&path).map_err(|e| strata_fs::Error::new("create", &path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(strata_fs::Error::new("lock", &path, e).into()),
        }
    }

    /// Container `id`'s lifecycle lock (start, remove), waiting for it.
    pub fn lock(&self, id: &str) -> Result<File> {
        let path = self.directory(id).join("lock");
        let file = File::create(&path).map_err(|e| strata_fs::Error::new("create", &path, e))?;
        file.lock()
            .map_err(|e| strata_fs::Error::new("lock", &path, e))?;
        Ok(file)
    }

    /// The lock serialising name checks with creations and removals.
    fn lock_names(&self) -> Result<File> {
        let path = self.directory.join(".names.lock");
        let file = File::create(&path).map_err(|e| strata_fs::Error::new("create", &path, e))?;
        file.lock()
            .map_err(|e| strata_fs::Error::new("lock", &path, e))?;
        Ok(file)
    }

    /// Removes container `id`'s directory; its monitor must be gone. The
    /// directory is renamed away first, so that no reader sees half of it.
    pub fn remove(&self, id: &str) -> Result<()> {
        let _names = self.lock_names()?;
        let directory = self.directory(id);
        if !directory.exists() {
            return Ok(());
        }
        let doomed = self.directory.join(format!(".removing-{id}"));
        strata_fs::rename(&directory, &doomed)?;
        Ok(strata_fs::remove_dir_all(&doomed)?)
    }
}
