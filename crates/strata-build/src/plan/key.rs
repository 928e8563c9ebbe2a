//! Cache keys: a step's key hashes its parent's key and its definition.

use serde::Serialize;
use strata_oci::Digest;

/// The version of the cache-key encoding; bump it when a key's meaning changes.
const KEY_VERSION: &str = "strata.cache.v1";

/// The key of a step: its parent's key and its definition, hashed.
pub(crate) fn key_of(parent: &Digest, definition: &impl Serialize) -> Digest {
    let mut bytes = Vec::with_capacity(256);
    bytes.extend_from_slice(KEY_VERSION.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(parent.as_bytes());
    bytes.push(0);
    // Serialising plain data cannot fail; an empty definition would still differ by parent.
    bytes.extend_from_slice(&serde_json::to_vec(definition).unwrap_or_default());
    Digest::of(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_chain_and_differ() {
        let root = Digest::of(b"");
        let a = key_of(&root, &("run", "make"));
        assert_eq!(a, key_of(&root, &("run", "make")));
        assert_ne!(a, key_of(&root, &("run", "make all")));
        assert_ne!(key_of(&a, &("run", "x")), key_of(&root, &("run", "x")));
    }
}
