//! Content digests (`sha256:<64 hex>`), the addresses of everything in an image.

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// A sha256 content digest. Only sha256 is accepted: it is what every registry
/// and image in the wild uses, and a second algorithm would double every code
/// path for no user.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    bytes: [u8; 32],
}

/// Why a string is not a digest.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DigestError {
    /// The text before `:` is not `sha256`.
    #[error("unsupported digest algorithm {algorithm:?} in {text:?} (only sha256 is supported)")]
    UnsupportedAlgorithm {
        /// The algorithm named.
        algorithm: String,
        /// The whole text.
        text: String,
    },
    /// The text is not `algorithm:hex`, or the hex is not 64 lower-case digits.
    #[error("invalid digest {text:?}: expected sha256:<64 lower-case hex digits>")]
    Invalid {
        /// The whole text.
        text: String,
    },
}

impl Digest {
    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        Self {
            bytes: Sha256::digest(data).into(),
        }
    }

    /// A digest from its raw 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self { bytes }
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The 64 lower-case hex digits, without the algorithm.
    pub fn hex(&self) -> String {
        let mut text = [0u8; 64];
        String::from_utf8_lossy(self.hex_bytes(&mut text)).into_owned()
    }

    /// The 64 lowercase hex digits, written into `text` (no allocation:
    /// digests are formatted by the thousand for cache keys).
    fn hex_bytes<'a>(&self, text: &'a mut [u8; 64]) -> &'a [u8] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for (index, byte) in self.bytes.iter().enumerate() {
            text[2 * index] = DIGITS[usize::from(byte >> 4)];
            text[2 * index + 1] = DIGITS[usize::from(byte & 0x0f)];
        }
        text
    }

    /// The algorithm name, always `sha256`.
    pub fn algorithm(&self) -> &'static str {
        "sha256"
    }

    /// Where an OCI image layout keeps this blob, relative to the layout's
    /// root: `blobs/sha256/<hex>`.
    pub fn layout_path(&self) -> std::path::PathBuf {
        std::path::Path::new("blobs")
            .join(self.algorithm())
            .join(self.hex())
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || DigestError::Invalid {
            text: text.to_owned(),
        };
        let (algorithm, encoded) = text.split_once(':').ok_or_else(invalid)?;
        if algorithm != "sha256" {
            return Err(DigestError::UnsupportedAlgorithm {
                algorithm: algorithm.to_owned(),
                text: text.to_owned(),
            });
        }
        if encoded.len() != 64 || encoded.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(invalid());
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(encoded, &mut bytes).map_err(|_| invalid())?;
        Ok(Self { bytes })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0u8; 64];
        let hex = std::str::from_utf8(self.hex_bytes(&mut text)).map_err(|_| fmt::Error)?;
        f.write_str("sha256:")?;
        f.write_str(hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A writer that computes the sha256 digest and the size of what passes
/// through it, forwarding the bytes to an inner writer.
#[derive(Debug)]
pub struct Sha256Writer<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W> Sha256Writer<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// The number of bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The digest and byte count of everything written, and the inner writer.
    pub fn finish(self) -> (Digest, u64, W) {
        (
            Digest {
                bytes: self.hasher.finalize().into(),
            },
            self.size,
            self.inner,
        )
    }
}

impl<W: Write> Write for Sha256Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.size += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn digest_of_empty_input() {
        assert_eq!(Digest::of(b"").to_string(), EMPTY);
    }

    #[test]
    fn parses_and_prints_round_trip() {
        let digest: Digest = EMPTY.parse().unwrap();
        assert_eq!(digest.to_string(), EMPTY);
        assert_eq!(
            serde_json::to_string(&digest).unwrap(),
            format!("\"{EMPTY}\"")
        );
        let back: Digest = serde_json::from_str(&format!("\"{EMPTY}\"")).unwrap();
        assert_eq!(back, digest);
    }

    #[test]
    fn rejects_bad_digests() {
        assert!(matches!(
            "sha512:abcd".parse::<Digest>(),
            Err(DigestError::UnsupportedAlgorithm { .. })
        ));
        for bad in [
            "",
            "sha256",
            "sha256:",
            "sha256:abc",
            &EMPTY.to_uppercase()[..],
            &EMPTY.replace('e', "g"),
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn writer_hashes_what_passes() {
        let mut writer = Sha256Writer::new(Vec::new());
        writer.write_all(b"hello ").unwrap();
        writer.write_all(b"world").unwrap();
        let (digest, size, inner) = writer.finish();
        assert_eq!(digest, Digest::of(b"hello world"));
        assert_eq!(size, 11);
        assert_eq!(inner, b"hello world");
    }
}
