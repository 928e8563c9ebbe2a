//! Distribution variants, store verification and the cleanup of what killed
//! processes leave, against real files.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use strata_oci::{Descriptor, Digest, ImageConfiguration, Manifest, RootFs, media_type};
use strata_store::{Access, BlobEncoder, MediaTypes, Store};

/// gzip through flate2, counting how often it runs.
#[derive(Default)]
struct CountingGzip {
    runs: AtomicUsize,
}

impl BlobEncoder for CountingGzip {
    fn name(&self) -> String {
        "gzip-6".to_owned()
    }

    fn layer_media_type(&self, docker: bool) -> &'static str {
        if docker {
            media_type::DOCKER_LAYER_GZIP
        } else {
            media_type::OCI_LAYER_GZIP
        }
    }

    fn encode(&self, input: &mut dyn Read, output: &mut dyn Write) -> std::io::Result<()> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let mut encoder = flate2::write::GzEncoder::new(output, flate2::Compression::new(6));
        std::io::copy(input, &mut encoder)?;
        encoder.finish()?;
        Ok(())
    }
}

/// A two-layer image with plain-tar layers, named `name`.
fn add_image(store: &Store, name: &str, layers: &[&[u8]]) -> Descriptor {
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for layer in layers {
        let digest = store.write_blob(layer).unwrap();
        descriptors.push(Descriptor::new(
            media_type::OCI_LAYER,
            digest,
            layer.len() as u64,
        ));
        diff_ids.push(digest);
    }
    let config = ImageConfiguration {
        architecture: strata_oci::Platform::host().architecture,
        os: "linux".into(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids,
        },
        ..Default::default()
    };
    let manifest = store.write_image(&config, descriptors).unwrap();
    store.set_ref(name, &manifest, None).unwrap();
    manifest
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn distribution_image_compresses_each_layer_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let manifest = add_image(
        &store,
        "docker.io/library/app:1",
        &[b"first layer bytes", b"second layer bytes"],
    );
    let gzip = CountingGzip::default();
    let image = store
        .distribution_image(&manifest, Some(&gzip), MediaTypes::Docker)
        .unwrap();
    assert_eq!(image.encoded, 2);
    assert_eq!(gzip.runs.load(Ordering::SeqCst), 2);
    assert_eq!(image.manifest.media_type, media_type::DOCKER_MANIFEST);
    assert_eq!(image.config.media_type, media_type::DOCKER_CONFIG);
    // The same configuration: the image ID does not change.
    let Manifest::Image(stored) = store.read_manifest(&manifest).unwrap() else {
        panic!("an image manifest");
    };
    assert_eq!(image.config.digest, stored.config.digest);
    for (sent, original) in image.layers.iter().zip(&stored.layers) {
        assert_eq!(sent.media_type, media_type::DOCKER_LAYER_GZIP);
        let bytes = store.read_blob(&sent.digest).unwrap();
        assert_eq!(bytes.len() as u64, sent.size);
        assert_eq!(Digest::of(&gunzip(&bytes)), original.digest);
    }
    // The manifest is in the store and is what was returned.
    assert_eq!(
        store.read_blob(&image.manifest.digest).unwrap(),
        image.manifest_bytes
    );

    // Again, and in OCI media types: nothing is compressed a second time.
    let again = store
        .distribution_image(&manifest, Some(&gzip), MediaTypes::Docker)
        .unwrap();
    assert_eq!(again.encoded, 0);
    assert_eq!(again.manifest.digest, image.manifest.digest);
    let oci = store
        .distribution_image(&manifest, Some(&gzip), MediaTypes::Oci)
        .unwrap();
    assert_eq!(oci.encoded, 0);
    assert_eq!(gzip.runs.load(Ordering::SeqCst), 2);
    assert_eq!(oci.manifest.media_type, media_type::OCI_MANIFEST);
    assert_eq!(oci.layers[0].media_type, media_type::OCI_LAYER_GZIP);
    assert_eq!(oci.layers[0].digest, image.layers[0].digest);

    // Without an encoder the layers go plain.
    let plain = store
        .distribution_image(&manifest, None, MediaTypes::Docker)
        .unwrap();
    assert_eq!(plain.layers[0].media_type, media_type::DOCKER_LAYER);
    assert_eq!(plain.layers[0].digest, stored.layers[0].digest);
}

#[test]
fn compressed_images_keep_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let manifest = add_image(&store, "docker.io/library/app:1", &[b"layer"]);
    let gzip = CountingGzip::default();
    let sent = store
        .distribution_image(&manifest, Some(&gzip), MediaTypes::Docker)
        .unwrap();
    // A compressed image (as pulled) goes back as it is.
    let kept = store
        .distribution_image(&sent.manifest, Some(&gzip), MediaTypes::Keep)
        .unwrap();
    assert_eq!(kept.manifest, sent.manifest);
    assert_eq!(kept.manifest_bytes, sent.manifest_bytes);
    // A plain one under Keep becomes Docker's.
    let converted = store
        .distribution_image(&manifest, Some(&gzip), MediaTypes::Keep)
        .unwrap();
    assert_eq!(converted.manifest.digest, sent.manifest.digest);
}

#[test]
fn prune_keeps_variants_as_long_as_their_source() {
    let dir = tempfile::tempdir().unwrap();
    let manifest;
    let image;
    {
        let store = Store::open(dir.path()).unwrap();
        manifest = add_image(&store, "docker.io/library/app:1", &[b"layer one"]);
        image = store
            .distribution_image(
                &manifest,
                Some(&CountingGzip::default()),
                MediaTypes::Docker,
            )
            .unwrap();
    }
    let store = Store::open_with(dir.path(), Access::Exclusive).unwrap();
    let report = store.prune().unwrap();
    assert!(report.blobs_removed.is_empty(), "{report:?}");
    assert!(store.has_blob(&image.layers[0].digest));
    assert!(store.has_blob(&image.manifest.digest));
    let layer = &image.layers[0];
    assert!(
        store
            .variant(&Digest::of(b"layer one"), "gzip-6")
            .unwrap()
            .is_some_and(|v| v.digest == layer.digest)
    );

    store.remove_ref("docker.io/library/app:1").unwrap();
    let report = store.prune().unwrap();
    assert!(report.blobs_removed.contains(&layer.digest), "{report:?}");
    assert!(report.blobs_removed.contains(&image.manifest.digest));
    assert_eq!(
        std::fs::read_dir(dir.path().join("variants"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn verify_finds_corrupt_blobs_and_dangling_refs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let manifest = add_image(&store, "docker.io/library/app:1", &[b"layer a"]);
    let other = add_image(&store, "docker.io/library/other:1", &[b"layer b"]);
    store
        .put_cache_record("key", &serde_json::json!({}), &[Digest::of(b"layer a")])
        .unwrap();
    let clean = store.verify().unwrap();
    assert!(clean.is_consistent(), "{clean:?}");
    assert_eq!(clean.blobs_checked, 6);

    std::fs::write(store.blob_path(&Digest::of(b"layer a")), b"tampered").unwrap();
    let Manifest::Image(other_manifest) = store.read_manifest(&other).unwrap() else {
        panic!("an image manifest");
    };
    std::fs::remove_file(store.blob_path(&other_manifest.config.digest)).unwrap();
    let found = store.verify().unwrap();
    assert!(!found.is_consistent());
    assert_eq!(found.corrupt_blobs, vec![Digest::of(b"layer a")]);
    assert_eq!(found.incomplete_refs, vec!["docker.io/library/other:1"]);
    assert!(found.incomplete_cache_records.is_empty());
    let _ = manifest;
}

#[test]
fn leftovers_of_killed_writers_go_when_the_store_is_idle() {
    let dir = tempfile::tempdir().unwrap();
    let leftover = dir.path().join("tmp/ingest-99999-0");
    {
        let first = Store::open(dir.path()).unwrap();
        std::fs::write(&leftover, b"half a blob").unwrap();
        std::fs::create_dir_all(dir.path().join("tmp/scripts-99999-1/x")).unwrap();
        // Another handle is open: the files may be its writes in progress.
        let second = Store::open(dir.path()).unwrap();
        assert!(leftover.exists());
        assert_eq!(second.verify().unwrap().temporary_files.len(), 2);
        drop(first);
    }
    let store = Store::open(dir.path()).unwrap();
    assert!(!leftover.exists());
    assert!(store.verify().unwrap().is_consistent());
}
