//! The per-entry digests BuildKit's content hash uses as cache keys: a sha256
//! over a "tarsum v1" header (mode, owner, size, type, symlink target, device
//! numbers, most extended attributes; not the name, not the mtime) followed
//! by the file's content. Computing them the same way makes our keys equal to
//! BuildKit's for the same files.

use std::io::Read;

use sha2::{Digest as _, Sha256};
use strata_oci::Digest;

/// The metadata one digest covers.
#[derive(Debug, Clone)]
pub(crate) struct Header<'a> {
    /// Permission bits plus setuid/setgid/sticky (as in a tar header).
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// The content size for regular files, 0 otherwise.
    pub(crate) size: u64,
    /// The tar type flag: `0` file, `5` directory, `2` symlink.
    pub(crate) typeflag: u8,
    pub(crate) linkname: &'a [u8],
    /// Extended attributes as covered: sorted, `security.*` and `system.*`
    /// dropped except `security.capability`.
    pub(crate) xattrs: &'a [(Vec<u8>, Vec<u8>)],
}

impl Header<'_> {
    /// The header bytes, in BuildKit's order.
    fn write(&self, hasher: &mut Sha256) {
        let mut field = |name: &str, value: &[u8]| {
            hasher.update(name.as_bytes());
            hasher.update(value);
        };
        field("name", b"");
        field("mode", self.mode.to_string().as_bytes());
        field("uid", self.uid.to_string().as_bytes());
        field("gid", self.gid.to_string().as_bytes());
        field("size", self.size.to_string().as_bytes());
        field("typeflag", &[self.typeflag]);
        field("linkname", self.linkname);
        field("uname", b"");
        field("gname", b"");
        field("devmajor", b"0");
        field("devminor", b"0");
        for (key, value) in self.xattrs {
            hasher.update(key);
            hasher.update(value);
        }
    }

    /// The digest of an entry without content (directory header, symlink).
    pub(crate) fn digest(&self) -> Digest {
        let mut hasher = Sha256::new();
        self.write(&mut hasher);
        Digest::from_bytes(hasher.finalize().into())
    }

    /// The digest of a regular file: header then content, streamed through
    /// `buffer`. Returns the digest and the number of content bytes read.
    pub(crate) fn digest_content(
        &self,
        reader: &mut impl Read,
        buffer: &mut [u8],
    ) -> std::io::Result<(Digest, u64)> {
        let mut hasher = Sha256::new();
        self.write(&mut hasher);
        let mut total = 0u64;
        loop {
            let read = match reader.read(buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            hasher.update(&buffer[..read]);
            total += read as u64;
        }
        Ok((Digest::from_bytes(hasher.finalize().into()), total))
    }
}

/// Whether BuildKit's header covers this extended attribute.
pub(crate) fn covers_xattr(name: &[u8]) -> bool {
    name == b"security.capability"
        || !(name.starts_with(b"security.") || name.starts_with(b"system."))
}

/// The digest of a directory's contents from its header digest and its
/// children's digests (names sorted bytewise; a child directory contributes
/// its own contents digest): BuildKit's directory record.
pub(crate) fn directory_digest<'a>(
    header: &Digest,
    children: impl Iterator<Item = (&'a [u8], &'a Digest)>,
) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(header.to_string().as_bytes());
    for (name, digest) in children {
        hasher.update([0u8]);
        hasher.update(name);
        hasher.update(digest.to_string().as_bytes());
    }
    Digest::from_bytes(hasher.finalize().into())
}

/// The digest of a list of (key, digest) pairs, BuildKit's `file-list` hash
/// for selections with wildcards or patterns.
pub(crate) fn list_digest<'a>(items: impl Iterator<Item = (Vec<u8>, &'a Digest)>) -> Digest {
    let mut hasher = Sha256::new();
    for (key, digest) in items {
        hasher.update(&key);
        hasher.update(digest.to_string().as_bytes());
    }
    Digest::from_bytes(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_header(size: u64) -> Header<'static> {
        Header {
            mode: 0o644,
            uid: 0,
            gid: 0,
            size,
            typeflag: b'0',
            linkname: b"",
            xattrs: &[],
        }
    }

    #[test]
    fn matches_buildkit_test_vectors() {
        // BuildKit's checksum_test.go: "ADD foo file data0" and "bar data1".
        let mut buffer = [0u8; 16];
        let (digest, size) = file_header(5)
            .digest_content(&mut &b"data0"[..], &mut buffer)
            .unwrap();
        assert_eq!(size, 5);
        assert_eq!(
            digest.to_string(),
            "sha256:cd8e75bca50f2d695f220d0cb0997d8ead387e4f926e8669a92d7f104cc9885b"
        );
        let (digest, _) = file_header(5)
            .digest_content(&mut &b"data1"[..], &mut buffer)
            .unwrap();
        assert_eq!(
            digest.to_string(),
            "sha256:c2b5e234f5f38fc5864da7def04782f82501a40d46192e4207d5b3f0c3c4732b"
        );
    }

    #[test]
    fn xattr_coverage() {
        assert!(covers_xattr(b"user.foo"));
        assert!(covers_xattr(b"security.capability"));
        assert!(!covers_xattr(b"security.selinux"));
        assert!(!covers_xattr(b"system.posix_acl_access"));
    }
}
