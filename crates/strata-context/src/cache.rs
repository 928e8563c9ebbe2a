//! The metadata cache: for each path of a context, the stat fields that prove
//! the file unchanged (device, inode, size, mtime, ctime, mode, owner) and the
//! digest computed from it. A rescan trusts an entry only when every field is
//! equal; ctime catches an edit whose mtime was put back.
//!
//! Racy entries: a file changed in the same timestamp tick as it was hashed
//! could change again without its timestamps moving. An entry is therefore
//! stored only when its mtime and ctime are older than the second in which
//! the scan started (less 50 ms of coarse-clock lag); a newer file is hashed
//! again next time, and stored then.
//!
//! The file is one per context root and options, written with
//! `strata_fs::write_atomic` and ending in a sha256 of its body, so a killed
//! or torn write reads as "no cache", never as wrong digests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};
use strata_oci::Digest;

const MAGIC: &[u8] = b"strata-context-cache v1\n";

/// The stat fields an entry is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) device: u64,
    pub(crate) inode: u64,
    pub(crate) size: u64,
    pub(crate) mtime: (i64, u32),
    pub(crate) ctime: (i64, u32),
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// One cached digest.
#[derive(Debug, Clone)]
pub(crate) struct CacheEntry {
    pub(crate) stamp: Stamp,
    pub(crate) digest: Digest,
}

/// The loaded cache of one context, and the entries of the current scan.
#[derive(Debug)]
pub(crate) struct MetadataCache {
    file: PathBuf,
    previous: HashMap<Vec<u8>, CacheEntry>,
    /// Seconds since the epoch from which a timestamp is racy.
    racy_from: i64,
}

impl MetadataCache {
    /// Opens the cache of `root` (already canonical) in `directory`; a missing,
    /// foreign or damaged file is an empty cache. `flavour` separates caches
    /// of scans whose digests differ (owner reset).
    pub(crate) fn open(directory: &Path, root: &Path, flavour: &str) -> Self {
        let mut key = Sha256::new();
        key.update(std::os::unix::ffi::OsStrExt::as_bytes(root.as_os_str()));
        key.update([0]);
        key.update(flavour.as_bytes());
        let file = directory.join(format!("{}.cache", hex::encode(key.finalize())));
        let previous = std::fs::read(&file)
            .ok()
            .and_then(|bytes| decode(&bytes))
            .unwrap_or_default();
        let now = SystemTime::now()
            .checked_sub(Duration::from_millis(50))
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        Self {
            file,
            previous,
            racy_from: now,
        }
    }

    /// The cached digest for `path` if its stamp is unchanged.
    pub(crate) fn lookup(&self, path: &[u8], stamp: &Stamp) -> Option<Digest> {
        self.previous
            .get(path)
            .filter(|entry| entry.stamp == *stamp)
            .map(|entry| entry.digest)
    }

    /// Whether an entry with this stamp may be stored.
    pub(crate) fn trustworthy(&self, stamp: &Stamp) -> bool {
        stamp.mtime.0 < self.racy_from && stamp.ctime.0 < self.racy_from
    }

    /// Writes the entries of this scan if they differ from what was loaded.
    /// Returns whether the file was written.
    pub(crate) fn store(
        &self,
        entries: impl Iterator<Item = (Vec<u8>, CacheEntry)>,
    ) -> Result<bool, strata_fs::Error> {
        let mut current: Vec<(Vec<u8>, CacheEntry)> = entries
            .filter(|(_, entry)| self.trustworthy(&entry.stamp))
            .collect();
        let unchanged = current.len() == self.previous.len()
            && current.iter().all(|(path, entry)| {
                self.previous
                    .get(path)
                    .is_some_and(|old| old.stamp == entry.stamp && old.digest == entry.digest)
            });
        if unchanged {
            return Ok(false);
        }
        current.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(directory) = self.file.parent() {
            strata_fs::create_dir_all(directory)?;
        }
        strata_fs::write_atomic(&self.file, &encode(&current))?;
        Ok(true)
    }
}

fn encode(entries: &[(Vec<u8>, CacheEntry)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + entries.len() * 128);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (path, entry) in entries {
        let s = &entry.stamp;
        out.extend_from_slice(&(path.len() as u32).to_le_bytes());
        out.extend_from_slice(path);
        for value in [s.device, s.inode, s.size] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&s.mtime.0.to_le_bytes());
        out.extend_from_slice(&s.mtime.1.to_le_bytes());
        out.extend_from_slice(&s.ctime.0.to_le_bytes());
        out.extend_from_slice(&s.ctime.1.to_le_bytes());
        for value in [s.mode, s.uid, s.gid] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(entry.digest.as_bytes());
    }
    let checksum = Sha256::digest(&out);
    out.extend_from_slice(&checksum);
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < count {
            return None;
        }
        let (head, tail) = self.bytes.split_at(count);
        self.bytes = tail;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

fn decode(bytes: &[u8]) -> Option<HashMap<Vec<u8>, CacheEntry>> {
    let body_length = bytes.len().checked_sub(32)?;
    let (body, checksum) = bytes.split_at(body_length);
    if Sha256::digest(body).as_slice() != checksum {
        return None;
    }
    let mut reader = Reader {
        bytes: body.strip_prefix(MAGIC)?,
    };
    let count = reader.u64()?;
    let mut map = HashMap::with_capacity(usize::try_from(count).ok()?.min(1 << 20));
    for _ in 0..count {
        let length = reader.u32()? as usize;
        let path = reader.take(length)?.to_vec();
        let stamp = Stamp {
            device: reader.u64()?,
            inode: reader.u64()?,
            size: reader.u64()?,
            mtime: (reader.i64()?, reader.u32()?),
            ctime: (reader.i64()?, reader.u32()?),
            mode: reader.u32()?,
            uid: reader.u32()?,
            gid: reader.u32()?,
        };
        let digest = Digest::from_bytes(reader.take(32)?.try_into().ok()?);
        map.insert(path, CacheEntry { stamp, digest });
    }
    if !reader.bytes.is_empty() {
        return None;
    }
    Some(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(seconds: i64) -> Stamp {
        Stamp {
            device: 1,
            inode: 2,
            size: 3,
            mtime: (seconds, 5),
            ctime: (seconds, 6),
            mode: 0o100644,
            uid: 0,
            gid: 0,
        }
    }

    #[test]
    fn round_trip_and_damage() {
        let entries = vec![(
            b"a/b".to_vec(),
            CacheEntry {
                stamp: stamp(10),
                digest: Digest::of(b"x"),
            },
        )];
        let bytes = encode(&entries);
        let map = decode(&bytes).unwrap();
        assert_eq!(map[&b"a/b".to_vec()].digest, Digest::of(b"x"));
        let mut damaged = bytes.clone();
        damaged[MAGIC.len() + 10] ^= 1;
        assert!(decode(&damaged).is_none());
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
    }

    #[test]
    fn recent_timestamps_are_not_stored() {
        let directory = tempfile::tempdir().unwrap();
        let cache = MetadataCache::open(directory.path(), Path::new("/ctx"), "");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!(!cache.trustworthy(&stamp(now)));
        assert!(cache.trustworthy(&stamp(now - 5)));
    }
}
