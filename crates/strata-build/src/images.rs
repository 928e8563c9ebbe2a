//! Images a build starts from (`FROM`, `COPY --from=<image>`): found in the
//! store by name, or pulled from their registry when missing or `--pull`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use strata_oci::{Descriptor, Digest, ImageConfiguration, Platform, Reference};
use strata_registry::{BlobSink, BlobSource, Client, ClientOptions, DockerConfig};
use strata_store::{BlobWriter, Store};

use crate::error::{Error, Result};

/// A base image, resolved to one manifest.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedImage {
    /// The full reference it was resolved from (`docker.io/library/x:tag`).
    pub(crate) name: String,
    /// Its manifest's digest (shown as `name@digest`).
    pub(crate) manifest_digest: Digest,
    /// Its configuration.
    pub(crate) config: ImageConfiguration,
    /// Its layers, base first, with their diff ids.
    pub(crate) layers: Vec<(Descriptor, Digest)>,
}

/// Finds and fetches images for one build; each name is resolved once.
pub(crate) struct Images {
    store: Arc<Store>,
    /// The build's target platform: indexes are resolved and pulls made for it.
    platform: Platform,
    pull: bool,
    registries: Arc<Registries>,
    resolved: Mutex<HashMap<String, Arc<ResolvedImage>>>,
}

impl Images {
    pub(crate) fn new(
        store: Arc<Store>,
        platform: Platform,
        pull: bool,
        registries: Arc<Registries>,
    ) -> Self {
        Self {
            store,
            platform,
            pull,
            registries,
            resolved: Mutex::new(HashMap::new()),
        }
    }

    /// The image `name` (as written after expansion), from the store unless
    /// it is missing or `--pull` was given.
    pub(crate) fn resolve(&self, name: &str) -> Result<Arc<ResolvedImage>> {
        let platform = self.platform.clone();
        self.resolve_for(name, &platform)
    }

    /// [`Images::resolve`] for `platform` (a stage's `FROM --platform`).
    pub(crate) fn resolve_for(
        &self,
        name: &str,
        platform: &Platform,
    ) -> Result<Arc<ResolvedImage>> {
        let reference = Reference::parse(name).map_err(|e| Error::image(name, e.to_string()))?;
        let full = reference.to_string();
        let key = format!("{full} {platform}");
        if let Some(found) = self
            .resolved
            .lock()
            .ok()
            .and_then(|map| map.get(&key).cloned())
        {
            return Ok(found);
        }
        // A digest reference is served by the store's image with that
        // manifest digest, whatever it is named.
        let by_digest = || {
            reference
                .digest()
                .and_then(|_| self.store.find_image(&full).ok())
                .map(|image| image.manifest_descriptor)
        };
        let descriptor = match self.store.resolve(&full)? {
            Some(entry) if !self.pull => self.store.ref_target(&entry)?,
            _ => match by_digest().filter(|_| !self.pull) {
                Some(descriptor) => descriptor,
                None => self.pull_image(name, &reference, platform)?,
            },
        };
        let resolved = self.load(&full, &descriptor, platform)?;
        if let Ok(mut map) = self.resolved.lock() {
            map.insert(key, resolved.clone());
        }
        Ok(resolved)
    }

    /// The store's image `descriptor` (a manifest, or an index resolved for
    /// the build's platform), known as `name` in messages and vertex names.
    pub(crate) fn resolve_descriptor(
        &self,
        name: &str,
        descriptor: &Descriptor,
    ) -> Result<Arc<ResolvedImage>> {
        self.load(name, descriptor, &self.platform)
    }

    fn load(
        &self,
        name: &str,
        descriptor: &Descriptor,
        platform: &Platform,
    ) -> Result<Arc<ResolvedImage>> {
        let image = self.store.load_image_for(descriptor, platform)?;
        if image.config.rootfs.diff_ids.len() != image.manifest.layers.len() {
            return Err(Error::image(
                name,
                format!(
                    "its configuration lists {} layers and its manifest {}",
                    image.config.rootfs.diff_ids.len(),
                    image.manifest.layers.len()
                ),
            ));
        }
        let layers = image
            .manifest
            .layers
            .iter()
            .cloned()
            .zip(image.config.rootfs.diff_ids.iter().copied())
            .collect();
        Ok(Arc::new(ResolvedImage {
            name: name.to_owned(),
            manifest_digest: image.manifest_descriptor.digest,
            config: image.config,
            layers,
        }))
    }

    /// The build's target platform.
    pub(crate) fn platform(&self) -> &Platform {
        &self.platform
    }

    /// The store images are found in and pulled into.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Pulls `reference` for `platform` into the store and names it there.
    fn pull_image(
        &self,
        name: &str,
        reference: &Reference,
        platform: &Platform,
    ) -> Result<Descriptor> {
        let Connection { client, runtime } = self
            .registries
            .connection()
            .map_err(|message| Error::image(name, message))?;
        let pulled = runtime
            .block_on(strata_registry::pull(
                client,
                reference,
                platform,
                Arc::new(StoreSink(self.store.clone())),
                Arc::new(|_| {}),
            ))
            .map_err(|source| Error::Pull {
                reference: name.to_owned(),
                source: Box::new(source),
                span: None,
            })?;
        let mut descriptor = pulled.manifest_descriptor();
        descriptor.platform = Some(platform.clone());
        self.store
            .set_ref(
                &reference.to_string(),
                &descriptor,
                Some(&pulled.repo_digest.to_string()),
            )
            .map_err(|e| Error::image(name, e.to_string()))?;
        Ok(descriptor)
    }
}

/// The registries one build talks to: a client and its runtime, made on
/// first use and shared by the build's pulls and cache imports and exports.
pub(crate) struct Registries {
    insecure_registries: Vec<String>,
    connection: OnceLock<Result<Connection, String>>,
}

impl Registries {
    /// None reached yet; those in `insecure_registries` over plain http.
    pub(crate) fn new(insecure_registries: &[String]) -> Self {
        Self {
            insecure_registries: insecure_registries.to_vec(),
            connection: OnceLock::new(),
        }
    }

    /// The connection, opened on first use.
    pub(crate) fn connection(&self) -> Result<&Connection, String> {
        self.connection
            .get_or_init(|| Connection::open(&self.insecure_registries))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// A registry client and the runtime its requests run on (two workers:
/// the machines have two cores).
pub(crate) struct Connection {
    pub(crate) client: Client,
    pub(crate) runtime: tokio::runtime::Runtime,
}

impl Connection {
    /// A client with Docker's credentials, plain http for `insecure_registries`.
    pub(crate) fn open(insecure_registries: &[String]) -> Result<Self, String> {
        let client = Client::new(ClientOptions {
            insecure_registries: insecure_registries.to_vec(),
            docker_config: Some(DockerConfig::from_environment()),
            ..ClientOptions::default()
        })
        .map_err(|e| e.to_string())?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { client, runtime })
    }
}

/// The store as a pull's destination: it verifies every blob as it writes it.
pub struct StoreSink(pub Arc<Store>);

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

    fn verifies_digests(&self) -> bool {
        true
    }
}

/// The store as a push's source.
pub struct StoreSource(pub Arc<Store>);

impl BlobSource for StoreSource {
    fn open(&self, digest: &Digest) -> std::io::Result<Box<dyn std::io::Read + Send>> {
        let file = self.0.open_blob(digest).map_err(std::io::Error::other)?;
        Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, file)))
    }
}
