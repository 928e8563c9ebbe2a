//! Wiring between the store and the registry client for the image commands:
//! opening the store, building a client from flags and Docker's config, and
//! the adapters that let a pull write into (and a push read from) the store.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use strata_oci::Digest;
use strata_registry::{BlobSink, BlobSource, Client, ClientOptions, DockerConfig};
use strata_store::{Access, BlobWriter, Store};

use crate::commands::Global;

/// The store root from `--root`/`STRATA_ROOT`, else the default.
pub(crate) fn store_root(global: &Global) -> PathBuf {
    global.root.clone().unwrap_or_else(Store::default_root)
}

/// Opens the store with `access`.
pub(crate) fn open_store(global: &Global, access: Access) -> anyhow::Result<Store> {
    let root = store_root(global);
    Store::open_with(&root, access)
        .with_context(|| format!("opening the store at {}", root.display()))
}

/// A registry client with Docker's credentials and the insecure registries given.
pub(crate) fn registry_client(global: &Global) -> anyhow::Result<Client> {
    let options = ClientOptions {
        insecure_registries: global.insecure_registry.clone(),
        docker_config: Some(DockerConfig::from_environment()),
        ..ClientOptions::default()
    };
    Ok(Client::new(options)?)
}

/// A runtime for one command's network work (two workers: the machines have two cores).
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The store as a pull's destination.
pub(crate) struct StoreSink(pub(crate) Arc<Store>);

impl BlobSink for StoreSink {
    type Writer = BlobWriter;

    fn has_blob(&self, digest: &Digest) -> bool {
        self.0.has_blob(digest)
    }

    fn create(&self) -> std::io::Result<BlobWriter> {
        self.0.begin_blob().map_err(std::io::Error::other)
    }

    fn commit(&self, writer: BlobWriter, digest: &Digest) -> std::io::Result<()> {
        writer
            .commit(Some(digest))
            .map(|_| ())
            .map_err(std::io::Error::other)
    }

    /// The store hashes what it is given and refuses a mismatch at commit.
    fn verifies_digests(&self) -> bool {
        true
    }
}

/// The store as a push's source.
pub(crate) struct StoreSource(pub(crate) Arc<Store>);

impl BlobSource for StoreSource {
    fn open(&self, digest: &Digest) -> std::io::Result<Box<dyn Read + Send>> {
        let file = self.0.open_blob(digest).map_err(std::io::Error::other)?;
        Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, file)))
    }
}

/// The time to stamp on new images: `SOURCE_DATE_EPOCH` when set, else now.
pub(crate) fn creation_time() -> anyhow::Result<jiff::Timestamp> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) if !text.is_empty() => {
            let seconds: i64 = text.trim().parse().with_context(|| {
                format!("SOURCE_DATE_EPOCH={text:?} is not a number of seconds")
            })?;
            Ok(jiff::Timestamp::from_second(seconds)?)
        }
        _ => Ok(jiff::Timestamp::now()),
    }
}

/// The first 12 hex digits of a digest (Docker's short IDs).
pub(crate) fn short_id(digest: &Digest) -> String {
    digest.hex()[..12].to_owned()
}
