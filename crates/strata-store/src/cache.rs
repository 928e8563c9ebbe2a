//! Cache records: a key (any string, e.g. a build step's cache key) mapped to
//! a JSON record, plus the blobs the record needs, which prune keeps.

use serde::{Deserialize, Serialize};
use strata_oci::Digest;

use crate::Store;
use crate::error::{Result, io_error, json_error};
use crate::store::CACHE;

/// A stored cache record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheRecord {
    /// The key it was stored under.
    pub key: String,
    /// Blobs kept alive while the record exists.
    pub blobs: Vec<Digest>,
    /// The caller's data.
    pub record: serde_json::Value,
}

impl Store {
    fn cache_path(&self, key: &str) -> std::path::PathBuf {
        self.root()
            .join(CACHE)
            .join(format!("{}.json", Digest::of(key.as_bytes()).hex()))
    }

    /// Stores `record` under `key` (atomically replacing any previous one);
    /// `blobs` (which must be in the store) are kept by prune while it exists.
    /// Not synced to disk: after a crash a record may be gone or empty, which
    /// reads as no record.
    pub fn put_cache_record(
        &self,
        key: &str,
        record: &serde_json::Value,
        blobs: &[Digest],
    ) -> Result<()> {
        let mut blobs = blobs.to_vec();
        blobs.sort();
        blobs.dedup();
        let stored = CacheRecord {
            key: key.to_owned(),
            blobs,
            record: record.clone(),
        };
        let path = self.cache_path(key);
        let bytes = serde_json::to_vec(&stored).map_err(json_error(&path))?;
        // Not synced: a record a crash loses costs a rebuild of its step, and
        // one that survives is served only while all its blobs are present
        // (blobs are synced before they appear).
        self.write_file_unsynced(&path, &bytes)
    }

    /// The record stored under `key`, if any, readable (a crash may leave an
    /// empty file) and with all its blobs still present.
    pub fn cache_record(&self, key: &str) -> Result<Option<CacheRecord>> {
        let path = self.cache_path(key);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error("read", path)(error)),
        };
        let Ok(record) = serde_json::from_slice::<CacheRecord>(&bytes) else {
            return Ok(None);
        };
        if record.key != key || !record.blobs.iter().all(|blob| self.has_blob(blob)) {
            return Ok(None);
        }
        Ok(Some(record))
    }

    /// The record stored under `key` read as `T` (fields `T` does not name
    /// are skipped, not built: a build's cache lookup reads only the layer
    /// out of records that also list thousands of inputs); `None` when there
    /// is none, when it is not a `T`, or when one of its blobs is gone.
    pub fn cache_record_as<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        #[derive(Deserialize)]
        struct Typed<T> {
            key: String,
            blobs: Vec<Digest>,
            record: T,
        }
        let path = self.cache_path(key);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error("read", path)(error)),
        };
        let Ok(typed) = serde_json::from_slice::<Typed<T>>(&bytes) else {
            return Ok(None);
        };
        if typed.key != key || !typed.blobs.iter().all(|blob| self.has_blob(blob)) {
            return Ok(None);
        }
        Ok(Some(typed.record))
    }

    /// Removes the record under `key`; whether it existed.
    pub fn remove_cache_record(&self, key: &str) -> Result<bool> {
        let path = self.cache_path(key);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(io_error("remove", path)(error)),
        }
    }

    /// Every cache record (unreadable files are skipped).
    pub fn cache_records(&self) -> Result<Vec<CacheRecord>> {
        let directory = self.root().join(CACHE);
        let mut records = Vec::new();
        for entry in strata_fs::read_dir(&directory)? {
            let entry = entry.map_err(io_error("list directory", &directory))?;
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            if let Ok(bytes) = std::fs::read(&path)
                && let Ok(record) = serde_json::from_slice::<CacheRecord>(&bytes)
            {
                records.push(record);
            }
        }
        records.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(records)
    }
}
