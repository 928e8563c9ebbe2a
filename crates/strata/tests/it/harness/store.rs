//! The store's invariants, checked from outside.

use std::path::Path;

use strata_oci::Digest;

/// Every blob hashes to its name, every ref reaches only present blobs.
pub(crate) fn assert_store_consistent(root: &Path) {
    let blobs = root.join("images/blobs/sha256");
    for entry in std::fs::read_dir(&blobs).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let bytes = std::fs::read(entry.path()).unwrap();
        assert_eq!(
            Digest::of(&bytes).hex(),
            name,
            "blob {name} does not match its digest"
        );
    }
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("images/index.json")).unwrap()).unwrap();
    // Refs, and the manifests of the indexes they name (an image with attestations).
    let mut manifests = index["manifests"].as_array().unwrap().clone();
    while let Some(manifest) = manifests.pop() {
        let digest: Digest = manifest["digest"].as_str().unwrap().parse().unwrap();
        let bytes = std::fs::read(blobs.join(digest.hex())).unwrap_or_else(|_| {
            panic!("ref {} points at missing {digest}", manifest["annotations"])
        });
        let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if let Some(children) = parsed["manifests"].as_array() {
            manifests.extend(children.iter().cloned());
            continue;
        }
        let mut needed = vec![parsed["config"]["digest"].as_str().unwrap().to_owned()];
        for layer in parsed["layers"].as_array().unwrap() {
            needed.push(layer["digest"].as_str().unwrap().to_owned());
        }
        for digest in needed {
            let digest: Digest = digest.parse().unwrap();
            assert!(
                blobs.join(digest.hex()).is_file(),
                "ref reaches missing blob {digest}"
            );
        }
    }
}
