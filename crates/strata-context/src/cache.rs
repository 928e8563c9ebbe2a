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
//! A scan in which every entry came from the cache, and no entry is missing,
//! has the directory digests of the scan that wrote the file: they are
//! stored too (with the root's), so such a rescan hashes nothing at all.
//!
//! The file is one per context root and options, written with
//! `strata_fs::write_replace` and ending in a sha256 of its body, so a killed
//! or torn write reads as "no cache", never as wrong digests.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};
use strata_oci::Digest;

const MAGIC: &[u8] = b"strata-context-cache v2\n";

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

impl Stamp {
    /// The stamp of `metadata` (not following symlinks, as the scan stats).
    pub(crate) fn of(metadata: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            device: metadata.dev(),
            inode: metadata.ino(),
            size: metadata.size(),
            mtime: (metadata.mtime(), metadata.mtime_nsec() as u32),
            ctime: (metadata.ctime(), metadata.ctime_nsec() as u32),
            mode: metadata.mode(),
            uid: metadata.uid(),
            gid: metadata.gid(),
        }
    }

    /// The file type bits of the mode (`S_IFMT`).
    pub(crate) fn format(&self) -> u32 {
        self.mode & libc::S_IFMT
    }
}

/// One cached digest.
#[derive(Debug, Clone)]
pub(crate) struct CacheEntry {
    pub(crate) stamp: Stamp,
    pub(crate) digest: Digest,
    /// For a directory: the digest of its tree.
    pub(crate) directory_digest: Option<Digest>,
}

/// The loaded cache of one context, and the entries of the current scan.
#[derive(Debug)]
pub(crate) struct MetadataCache {
    file: PathBuf,
    /// The previous scan's entries, sorted by path (as the file stores them):
    /// looked up by binary search, without an allocation or a hash per path.
    previous: Previous,
    /// Seconds since the epoch from which a timestamp is racy.
    racy_from: i64,
}

/// The entries of a cache file: paths as ranges of the file's bytes.
#[derive(Debug, Default)]
struct Previous {
    bytes: Vec<u8>,
    entries: Vec<(std::ops::Range<usize>, CacheEntry)>,
    /// The digest of the whole context, if the scan that wrote the file
    /// stored its directory digests.
    root_digest: Option<Digest>,
}

impl Previous {
    /// The entry for `path`. `cursor` is where the last lookup ended: a scan
    /// asks in (nearly) the stored order, so the next entry is tried first.
    fn get(&self, path: &[u8], cursor: &mut usize) -> Option<&CacheEntry> {
        if let Some((range, entry)) = self.entries.get(*cursor)
            && &self.bytes[range.clone()] == path
        {
            *cursor += 1;
            return Some(entry);
        }
        let index = self
            .entries
            .binary_search_by(|(range, _)| self.bytes[range.clone()].cmp(path))
            .ok()?;
        *cursor = index + 1;
        Some(&self.entries[index].1)
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
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
            .and_then(decode)
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

    /// The cached digest for `path` if its stamp is unchanged; `cursor`
    /// (start at 0) makes lookups in path order cheap.
    pub(crate) fn lookup(&self, path: &[u8], stamp: &Stamp, cursor: &mut usize) -> Option<Digest> {
        self.previous
            .get(path, cursor)
            .filter(|entry| entry.stamp == *stamp)
            .map(|entry| entry.digest)
    }

    /// The directory digests and the root digest of the scan that wrote the
    /// file, when `entries` are exactly its entries (same paths, stamps and
    /// digests: the caller checked every entry hit and that the counts are
    /// equal). `None` when the file has none or any is missing.
    pub(crate) fn directory_digests<'a>(
        &self,
        directories: impl Iterator<Item = &'a [u8]>,
        count: usize,
    ) -> Option<(Vec<Digest>, Digest)> {
        if count != self.previous.len() {
            return None;
        }
        let root = self.previous.root_digest?;
        let mut cursor = 0;
        let digests = directories
            .map(|path| self.previous.get(path, &mut cursor)?.directory_digest)
            .collect::<Option<Vec<_>>>()?;
        Some((digests, root))
    }

    /// Whether an entry with this stamp may be stored.
    pub(crate) fn trustworthy(&self, stamp: &Stamp) -> bool {
        stamp.mtime.0 < self.racy_from && stamp.ctime.0 < self.racy_from
    }

    /// Writes the entries of this scan (path, stamp, digest) if they differ
    /// from what was loaded; an unchanged scan copies nothing. Returns
    /// whether the file was written.
    /// The directory digests (and `root_digest`) are kept only when every
    /// entry is stored: a rescan may reuse them only when nothing changed.
    pub(crate) fn store<'a>(
        &self,
        entries: impl Iterator<Item = (&'a [u8], &'a Stamp, &'a Digest, Option<&'a Digest>)> + Clone,
        root_digest: &Digest,
    ) -> Result<bool, strata_fs::Error> {
        let all_trusted = entries
            .clone()
            .all(|(_, stamp, _, _)| self.trustworthy(stamp));
        let root_digest = all_trusted.then_some(*root_digest);
        let trusted = entries.filter(|(_, stamp, _, _)| self.trustworthy(stamp));
        let mut count = 0;
        let mut unchanged = self.previous.root_digest == root_digest;
        let mut cursor = 0;
        for (path, stamp, digest, directory_digest) in trusted.clone() {
            if !unchanged {
                break;
            }
            count += 1;
            unchanged = self.previous.get(path, &mut cursor).is_some_and(|old| {
                old.stamp == *stamp
                    && old.digest == *digest
                    && (root_digest.is_none() || old.directory_digest.as_ref() == directory_digest)
            });
        }
        if unchanged && count == self.previous.len() {
            return Ok(false);
        }
        let mut current: Vec<(Vec<u8>, CacheEntry)> = trusted
            .map(|(path, stamp, digest, directory_digest)| {
                (
                    path.to_vec(),
                    CacheEntry {
                        stamp: *stamp,
                        digest: *digest,
                        directory_digest: root_digest.and(directory_digest.copied()),
                    },
                )
            })
            .collect();
        current.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(directory) = self.file.parent() {
            strata_fs::create_dir_all(directory)?;
        }
        // Not synced: a file a crash truncates fails its checksum (no cache).
        strata_fs::write_replace(&self.file, &encode(&current, root_digest.as_ref()))?;
        Ok(true)
    }
}

fn encode(entries: &[(Vec<u8>, CacheEntry)], root_digest: Option<&Digest>) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + entries.len() * 128);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    push_optional_digest(&mut out, root_digest);
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
        push_optional_digest(&mut out, entry.directory_digest.as_ref());
    }
    let checksum = Sha256::digest(&out);
    out.extend_from_slice(&checksum);
    out
}

fn push_optional_digest(out: &mut Vec<u8>, digest: Option<&Digest>) {
    match digest {
        Some(digest) => {
            out.push(1);
            out.extend_from_slice(digest.as_bytes());
        }
        None => out.push(0),
    }
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

    fn optional_digest(&mut self) -> Option<Option<Digest>> {
        match self.take(1)? {
            [0] => Some(None),
            [1] => Some(Some(Digest::from_bytes(self.take(32)?.try_into().ok()?))),
            _ => None,
        }
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

fn decode(bytes: Vec<u8>) -> Option<Previous> {
    let body_length = bytes.len().checked_sub(32)?;
    let (body, checksum) = bytes.split_at(body_length);
    if Sha256::digest(body).as_slice() != checksum {
        return None;
    }
    let mut reader = Reader {
        bytes: body.strip_prefix(MAGIC)?,
    };
    let count = reader.u64()?;
    let root_digest = reader.optional_digest()?;
    let mut entries = Vec::with_capacity(usize::try_from(count).ok()?.min(1 << 20));
    for _ in 0..count {
        let length = reader.u32()? as usize;
        let start = body_length - reader.bytes.len();
        reader.take(length)?;
        let path = start..start + length;
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
        let directory_digest = reader.optional_digest()?;
        entries.push((
            path,
            CacheEntry {
                stamp,
                digest,
                directory_digest,
            },
        ));
    }
    if !reader.bytes.is_empty() {
        return None;
    }
    // Written sorted; a file that is not (another writer's) is sorted here.
    if !entries.is_sorted_by(|a, b| bytes[a.0.clone()] <= bytes[b.0.clone()]) {
        entries.sort_by(|a, b| bytes[a.0.clone()].cmp(&bytes[b.0.clone()]));
    }
    Some(Previous {
        bytes,
        entries,
        root_digest,
    })
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
                directory_digest: Some(Digest::of(b"tree")),
            },
        )];
        let bytes = encode(&entries, Some(&Digest::of(b"root")));
        let previous = decode(bytes.clone()).unwrap();
        let mut cursor = 0;
        assert_eq!(
            previous.get(b"a/b", &mut cursor).unwrap().digest,
            Digest::of(b"x")
        );
        assert_eq!(cursor, 1);
        assert_eq!(previous.root_digest, Some(Digest::of(b"root")));
        assert_eq!(
            previous.get(b"a/b", &mut 0).unwrap().directory_digest,
            Some(Digest::of(b"tree"))
        );
        assert!(previous.get(b"a", &mut cursor).is_none());
        assert!(previous.get(b"a/c", &mut 0).is_none());
        assert!(
            previous.get(b"a/b", &mut 7).is_some(),
            "a cursor past the end"
        );
        let mut damaged = bytes.clone();
        damaged[MAGIC.len() + 10] ^= 1;
        assert!(decode(damaged).is_none());
        assert!(decode(bytes[..bytes.len() - 1].to_vec()).is_none());
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
