//! The store against real files: blobs, refs, images, cache records, prune, archives.

use std::io::Write;

use strata_oci::{Descriptor, Digest, ImageConfiguration, RootFs, media_type};
use strata_store::{Access, ArchiveFormat, SaveItem, Store, StoreError};

/// Adds a one-layer image with `layer` bytes; returns the manifest descriptor.
fn add_image(store: &Store, layer: &[u8], created: &str) -> Descriptor {
    let layer_digest = store.write_blob(layer).unwrap();
    let config = ImageConfiguration {
        architecture: strata_oci::Platform::host().architecture,
        os: "linux".into(),
        created: Some(created.into()),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![layer_digest],
        },
        ..Default::default()
    };
    let descriptor = store
        .write_image(
            &config,
            vec![Descriptor::new(
                media_type::OCI_LAYER,
                layer_digest,
                layer.len() as u64,
            )],
        )
        .unwrap();
    assert_eq!(
        descriptor.digest,
        Digest::of(&store.read_blob(&descriptor.digest).unwrap())
    );
    descriptor
}

#[test]
fn blob_writer_verifies_and_leaves_nothing_on_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut writer = store.begin_blob().unwrap();
    writer.write_all(b"hello").unwrap();
    let error = writer.commit(Some(&Digest::of(b"other"))).unwrap_err();
    assert!(
        matches!(error, StoreError::DigestMismatch { .. }),
        "{error}"
    );
    assert!(!store.has_blob(&Digest::of(b"hello")));
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );

    let mut writer = store.begin_blob().unwrap();
    writer.write_all(b"hello").unwrap();
    drop(writer);
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );

    let digest = store.write_blob(b"hello").unwrap();
    assert_eq!(store.read_blob(&digest).unwrap(), b"hello");
    let error = store
        .ingest(&Digest::of(b"x"), Some(3), &b"xyz"[..])
        .unwrap_err();
    assert!(matches!(error, StoreError::DigestMismatch { .. }));
}

#[test]
fn a_blob_hashed_by_its_writer_takes_the_writers_digest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut writer = store.begin_blob_hashed_by_writer().unwrap();
    writer.write_all(b"layer bytes").unwrap();
    assert_eq!(writer.written(), 11);
    let digest = Digest::of(b"layer bytes");
    assert_eq!(writer.commit(Some(&digest)).unwrap(), (digest, 11));
    assert_eq!(store.read_blob(&digest).unwrap(), b"layer bytes");

    // Without the writer's digest there is no name to give it: nothing stays.
    let mut writer = store.begin_blob_hashed_by_writer().unwrap();
    writer.write_all(b"unnamed").unwrap();
    assert!(writer.commit(None).is_err());
    assert!(!store.has_blob(&Digest::of(b"unnamed")));
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}

#[test]
fn refs_images_and_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let descriptor = add_image(&store, b"layer one", "2024-01-01T00:00:00Z");
    store.set_ref("docker.io/library/one:latest", &descriptor, Some("docker.io/library/one@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")).unwrap();
    store
        .set_ref("localhost:5000/one:v1", &descriptor, None)
        .unwrap();
    let images = store.images().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(
        images[0].names,
        vec!["docker.io/library/one:latest", "localhost:5000/one:v1"]
    );
    assert_eq!(images[0].repo_digests.len(), 1);
    let id = images[0].id();
    assert_eq!(store.find_image("one").unwrap().id(), id);
    assert_eq!(store.find_image(&id.hex()[..12]).unwrap().id(), id);
    assert_eq!(store.find_image(&id.to_string()).unwrap().id(), id);
    assert!(matches!(
        store.find_image("two"),
        Err(StoreError::NoSuchImage { .. })
    ));
    assert!(store.remove_ref("docker.io/library/one:latest").unwrap());
    assert!(!store.remove_ref("docker.io/library/one:latest").unwrap());
    assert_eq!(store.refs().unwrap().len(), 1);
    // index.json stays a valid OCI index with the ref name annotation.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("images/index.json")).unwrap())
            .unwrap();
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "localhost:5000/one:v1"
    );
}

#[test]
fn prune_keeps_referenced_and_cached_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let (kept, cached, orphan);
    {
        let store = Store::open(dir.path()).unwrap();
        kept = add_image(&store, b"kept", "2024-01-01T00:00:00Z");
        store
            .set_ref("docker.io/library/kept:latest", &kept, None)
            .unwrap();
        cached = store.write_blob(b"cached layer").unwrap();
        store
            .put_cache_record("step:abc", &serde_json::json!({"layer": cached}), &[cached])
            .unwrap();
        orphan = add_image(&store, b"orphan", "2024-01-01T00:00:00Z");
        std::fs::write(dir.path().join("tmp/ingest-1-1"), b"partial").unwrap();
        let error = store.prune().unwrap_err();
        assert!(error.to_string().contains("exclusive"), "{error}");
    }
    let store = Store::open_with(dir.path(), Access::Exclusive).unwrap();
    let report = store.prune().unwrap();
    assert_eq!(report.temporary_files_removed, 1);
    assert_eq!(report.blobs_removed.len(), 3, "{report:?}"); // orphan's layer, config, manifest
    assert!(store.has_blob(&kept.digest));
    assert!(store.has_blob(&cached));
    assert!(!store.has_blob(&orphan.digest));
    let record = store.cache_record("step:abc").unwrap().unwrap();
    assert_eq!(record.blobs, vec![cached]);
    #[derive(serde::Deserialize)]
    struct Layer {
        layer: String,
    }
    let typed: Layer = store.cache_record_as("step:abc").unwrap().unwrap();
    assert_eq!(typed.layer, cached.to_string());
    #[derive(Debug, serde::Deserialize)]
    struct Other {
        #[allow(dead_code)]
        missing: String,
    }
    assert!(
        store
            .cache_record_as::<Other>("step:abc")
            .unwrap()
            .is_none(),
        "a record of another shape reads as none"
    );
    assert!(
        store
            .cache_record_as::<Layer>("step:xyz")
            .unwrap()
            .is_none()
    );
    // Records are not synced: one a crash left empty reads as no record.
    for entry in std::fs::read_dir(dir.path().join("cache")).unwrap() {
        std::fs::write(entry.unwrap().path(), b"").unwrap();
    }
    assert!(store.cache_record("step:abc").unwrap().is_none());
    assert!(
        store
            .cache_record_as::<Layer>("step:abc")
            .unwrap()
            .is_none()
    );
    store
        .put_cache_record("step:abc", &serde_json::json!({"layer": cached}), &[cached])
        .unwrap();
    assert!(store.remove_cache_record("step:abc").unwrap());
    let report = store.prune().unwrap();
    assert_eq!(report.blobs_removed, vec![cached]);
    let usage = store.disk_usage().unwrap();
    assert_eq!(usage.images, 1);
    assert_eq!(usage.unreferenced_size, 0);
}

#[test]
fn exclusive_open_waits_for_shared_handles() {
    let dir = tempfile::tempdir().unwrap();
    let shared = Store::open(dir.path()).unwrap();
    let root = dir.path().to_path_buf();
    let (sender, receiver) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _exclusive = Store::open_with(&root, Access::Exclusive).unwrap();
        sender.send(()).unwrap();
    });
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        receiver.try_recv().is_err(),
        "exclusive lock taken while a shared one is held"
    );
    drop(shared);
    receiver
        .recv_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    thread.join().unwrap();
}

#[test]
fn concurrent_ref_updates_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let descriptor = add_image(&store, b"base", "2024-01-01T00:00:00Z");
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let descriptor = descriptor.clone();
            let root = dir.path();
            scope.spawn(move || {
                let store = Store::open(root).unwrap();
                for n in 0..10 {
                    store
                        .set_ref(
                            &format!("docker.io/library/t{thread}:{n}"),
                            &descriptor,
                            None,
                        )
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(store.refs().unwrap().len(), 40);
}

#[test]
fn write_image_needs_its_layers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let config = ImageConfiguration {
        architecture: "arm64".into(),
        os: "linux".into(),
        ..Default::default()
    };
    let absent = Descriptor::new(media_type::OCI_LAYER, Digest::of(b"absent"), 6);
    let error = store.write_image(&config, vec![absent]).unwrap_err();
    assert!(matches!(error, StoreError::MissingBlob { .. }), "{error}");
    let descriptor = store.write_image(&config, vec![]).unwrap();
    assert_eq!(descriptor.platform.unwrap().to_string(), "linux/arm64");
}

#[test]
fn areas_are_directories_under_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let snapshots = store.area("snapshots").unwrap();
    assert!(snapshots.is_dir() && snapshots.starts_with(dir.path()));
    assert!(store.area("../x").is_err());
    assert_eq!(store.areas().unwrap(), vec!["snapshots"]);
}

#[test]
fn save_and_load_round_trip_both_formats() {
    for format in [ArchiveFormat::Docker, ArchiveFormat::Oci] {
        let source_dir = tempfile::tempdir().unwrap();
        let source = Store::open(source_dir.path()).unwrap();
        let descriptor = add_image(&source, b"saved layer", "2024-01-01T00:00:00Z");
        source
            .set_ref("docker.io/library/saved:v1", &descriptor, None)
            .unwrap();
        let image = source.find_image("saved:v1").unwrap();
        let mut archive = Vec::new();
        let item = SaveItem {
            image: image.clone(),
            names: vec!["saved:v1".parse().unwrap()],
        };
        source
            .save(std::slice::from_ref(&item), format, &mut archive)
            .unwrap();
        let mut again = Vec::new();
        source.save(&[item], format, &mut again).unwrap();
        assert_eq!(archive, again, "save is deterministic");

        let target_dir = tempfile::tempdir().unwrap();
        let target = Store::open(target_dir.path()).unwrap();
        let loaded = target.load(&archive[..]).unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].name, "docker.io/library/saved:v1");
        assert_eq!(loaded[0].id, image.id());
        assert_eq!(target.find_image("saved:v1").unwrap().id(), image.id());
    }
}

#[test]
fn load_rejects_a_tampered_blob() {
    let source_dir = tempfile::tempdir().unwrap();
    let source = Store::open(source_dir.path()).unwrap();
    let descriptor = add_image(&source, b"original bytes", "2024-01-01T00:00:00Z");
    source
        .set_ref("docker.io/library/t:1", &descriptor, None)
        .unwrap();
    let item = SaveItem {
        image: source.find_image("t:1").unwrap(),
        names: vec![],
    };
    let mut archive = Vec::new();
    source
        .save(&[item], ArchiveFormat::Oci, &mut archive)
        .unwrap();
    let position = archive
        .windows(14)
        .position(|w| w == b"original bytes")
        .unwrap();
    archive[position] = b'O';
    let target_dir = tempfile::tempdir().unwrap();
    let target = Store::open(target_dir.path()).unwrap();
    let error = target.load(&archive[..]).unwrap_err();
    assert!(
        matches!(error, StoreError::DigestMismatch { .. }),
        "{error}"
    );
    assert!(target.refs().unwrap().is_empty());
}
