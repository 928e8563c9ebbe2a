//! Holds: an image kept whole for someone who is not a name (a container
//! made from it). Prune keeps what a hold reaches as it keeps what a ref
//! reaches, so removing an image's last name never takes a container's
//! layers away.

use serde::{Deserialize, Serialize};
use strata_oci::Descriptor;

use crate::Store;
use crate::error::{Result, StoreError, io_error, json_error};

/// The directory of holds, one JSON file per holder.
pub(crate) const HOLDS: &str = "holds";

/// One hold: who holds which manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The holder (`container/<id>`): `[a-z0-9-]` words joined by `/`.
    pub holder: String,
    /// The manifest (or index) held.
    pub descriptor: Descriptor,
}

impl Store {
    fn hold_path(&self, holder: &str) -> Result<std::path::PathBuf> {
        let valid = !holder.is_empty()
            && holder.split('/').all(|word| {
                !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        if !valid {
            return Err(StoreError::InvalidAreaName {
                name: holder.to_owned(),
            });
        }
        Ok(self
            .root()
            .join(HOLDS)
            .join(format!("{}.json", holder.replace('/', "--"))))
    }

    /// Keeps `descriptor` (which must be in the store) and everything it
    /// reaches until [`Store::release`]; replaces the holder's earlier hold.
    pub fn hold(&self, holder: &str, descriptor: &Descriptor) -> Result<()> {
        let path = self.hold_path(holder)?;
        let hold = Hold {
            holder: holder.to_owned(),
            descriptor: descriptor.clone(),
        };
        let bytes = serde_json::to_vec(&hold).map_err(json_error(&path))?;
        strata_fs::create_dir_all(self.root().join(HOLDS))?;
        // Synced: a hold lost in a crash would let prune take a container's layers.
        strata_fs::write_atomic(&path, &bytes)?;
        Ok(())
    }

    /// Drops the holder's hold; nothing when it has none.
    pub fn release(&self, holder: &str) -> Result<()> {
        let path = self.hold_path(holder)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("remove", &path)(e)),
        }
    }

    /// Every hold, sorted by holder; unreadable files are skipped.
    pub fn holds(&self) -> Result<Vec<Hold>> {
        let directory = self.root().join(HOLDS);
        let entries = match std::fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error("list directory", &directory)(e)),
        };
        let mut holds = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_error("list directory", &directory))?;
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            if let Ok(hold) = serde_json::from_slice::<Hold>(&bytes) {
                holds.push(hold);
            }
        }
        holds.sort_by(|a, b| a.holder.cmp(&b.holder));
        Ok(holds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_image_survives_the_removal_of_its_name() {
        let directory = tempfile::tempdir().unwrap();
        let store = Store::open_with(directory.path(), crate::Access::Exclusive).unwrap();
        let layer = store.write_blob(b"layer").unwrap();
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{layer}","size":5}},"layers":[]}}"#
        );
        let digest = store.write_blob(manifest.as_bytes()).unwrap();
        let descriptor = Descriptor::new(
            strata_oci::media_type::OCI_MANIFEST,
            digest,
            manifest.len() as u64,
        );
        store.hold("container/abc123", &descriptor).unwrap();
        assert_eq!(store.holds().unwrap()[0].descriptor.digest, digest);
        assert!(store.prune().unwrap().blobs_removed.is_empty());
        assert!(store.has_blob(&layer));
        store.release("container/abc123").unwrap();
        store.release("container/abc123").unwrap();
        assert_eq!(store.prune().unwrap().blobs_removed.len(), 2);
        assert!(store.hold("../escape", &descriptor).is_err());
    }
}
