//! Caches read for a build (`--cache-from`): each document loaded before
//! the solve; a layer's blob downloaded (and verified twice: the blob
//! against its digest, its content against the diff id) only when asked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use strata_oci::{
    ANNOTATION_REF_NAME, Descriptor, Digest, ImageConfiguration, Platform, Reference,
};
use strata_store::Store;

use super::format::{CacheDocument, Found, classify, inline_document};
use super::{CacheImport, CacheLocation};
use crate::images::{Connection, Registries};
use crate::solve::Layer;

impl Connection {
    /// A small blob (a document, a configuration), verified.
    fn small_blob(
        &self,
        reference: &Reference,
        descriptor: &Descriptor,
    ) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        self.runtime
            .block_on(self.client.fetch_blob(reference, descriptor, &mut bytes))
            .map_err(|e| e.to_string())?;
        Ok(bytes)
    }
}

/// Where an imported layer's blob is.
#[derive(Debug, Clone)]
enum Source {
    Registry(Reference),
    Local(PathBuf),
}

/// A layer some imported cache has.
#[derive(Debug, Clone)]
pub(crate) struct ImportedLayer {
    /// The uncompressed digest.
    pub(crate) diff_id: Digest,
    /// The uncompressed size.
    pub(crate) size: u64,
    /// The blob as the cache holds it.
    pub(crate) blob: Descriptor,
    /// strata's name of its encoding, when strata made it.
    pub(crate) encoding: Option<String>,
    source: usize,
}

/// One layer's download, done once: its outcome.
type Fetch = OnceLock<Result<(), String>>;

/// The caches a build imports.
pub(crate) struct ImportedCache {
    steps: HashMap<Digest, (Digest, Option<String>)>,
    layers: HashMap<Digest, ImportedLayer>,
    sources: Vec<Source>,
    registries: Arc<Registries>,
    fetches: Mutex<HashMap<Digest, Arc<Fetch>>>,
}

impl ImportedCache {
    /// No cache yet; registries are reached through the build's `registries`.
    pub(crate) fn new(registries: Arc<Registries>) -> Self {
        Self {
            steps: HashMap::new(),
            layers: HashMap::new(),
            sources: Vec::new(),
            registries,
            fetches: Mutex::new(HashMap::new()),
        }
    }

    /// The build's registry connection, made on first use.
    pub(crate) fn connection(&self) -> Result<&Connection, String> {
        self.registries.connection()
    }

    /// Reads the cache `import` names; how many steps it holds. Earlier
    /// imports win where two hold the same step.
    pub(crate) fn add(&mut self, import: &CacheImport) -> Result<usize, String> {
        let (source, document) = match &import.location {
            CacheLocation::Registry(reference) => (
                Source::Registry(reference.clone()),
                self.read_registry(reference)?,
            ),
            CacheLocation::Local { directory, tag } => (
                Source::Local(directory.clone()),
                read_local(directory, tag)?,
            ),
            CacheLocation::Inline => return Err("type=inline cannot be imported".to_owned()),
        };
        let source_index = self.sources.len();
        self.sources.push(source);
        for step in &document.steps {
            let layer = &document.layers[step.layer];
            let Some(blob) = &layer.blob else { continue };
            self.layers
                .entry(layer.diff_id)
                .or_insert_with(|| ImportedLayer {
                    diff_id: layer.diff_id,
                    size: layer.size,
                    blob: blob.clone(),
                    encoding: layer.encoding.clone(),
                    source: source_index,
                });
            self.steps
                .entry(step.key)
                .or_insert((layer.diff_id, step.created.clone()));
        }
        Ok(document.steps.len())
    }

    fn read_registry(&self, reference: &Reference) -> Result<CacheDocument, String> {
        let connection = self.connection()?;
        let fetch = |reference: &Reference| {
            connection
                .runtime
                .block_on(connection.client.fetch_manifest(reference))
                .map_err(|e| e.to_string())
        };
        let fetched = fetch(reference)?;
        let mut found = classify(&fetched.bytes, Some(&fetched.media_type))?;
        if let Found::Index(index) = &found {
            let platform = Platform::host();
            let Some(child) = index.select(&platform) else {
                return Err(format!("no image for {platform} and no build cache"));
            };
            let fetched = fetch(&reference.with_digest(child.digest))?;
            found = classify(&fetched.bytes, Some(&fetched.media_type))?;
        }
        match found {
            Found::Cache(document) => {
                CacheDocument::parse(&connection.small_blob(reference, &document)?)
            }
            Found::Image(manifest) => {
                let bytes = connection.small_blob(reference, &manifest.config)?;
                inline(&bytes, &manifest.layers)
            }
            Found::Index(_) => Err("an index of indexes holds no build cache".to_owned()),
        }
    }

    /// The layer of step `key`, if an imported cache has it (its blob may
    /// not be in the store yet: [`ImportedCache::fetch`] brings it).
    pub(crate) fn lookup(&self, key: &Digest) -> Option<Layer> {
        let (diff_id, created) = self.steps.get(key)?;
        let layer = self.layers.get(diff_id)?;
        Some(Layer {
            descriptor: Descriptor::new(
                strata_layer::Compression::None.media_type(),
                layer.diff_id,
                layer.size,
            ),
            diff_id: layer.diff_id,
            created: created.clone(),
        })
    }

    /// The imported layer with this diff id.
    pub(crate) fn layer(&self, diff_id: &Digest) -> Option<&ImportedLayer> {
        self.layers.get(diff_id)
    }

    /// The repositories of the registry caches on `registry`, which hold
    /// their layers (cross-repository mounts).
    pub(crate) fn repositories_on(&self, registry: &str) -> Vec<String> {
        self.sources
            .iter()
            .filter_map(|source| match source {
                Source::Registry(reference) if reference.registry() == registry => {
                    Some(reference.repository().to_owned())
                }
                _ => None,
            })
            .collect()
    }

    /// Makes sure the store has layer `diff_id`'s plain blob: downloaded
    /// (once, whichever thread asks first) and verified.
    pub(crate) fn fetch(&self, store: &Store, diff_id: &Digest) -> Result<(), String> {
        if store.has_blob(diff_id) {
            return Ok(());
        }
        let Some(layer) = self.layers.get(diff_id) else {
            return Err(format!("layer {diff_id} is in no imported cache"));
        };
        let cell = {
            let mut fetches = self.fetches.lock().map_err(|e| e.to_string())?;
            fetches.entry(*diff_id).or_default().clone()
        };
        cell.get_or_init(|| self.download(store, layer)).clone()
    }

    fn download(&self, store: &Store, layer: &ImportedLayer) -> Result<(), String> {
        self.fetch_blob(store, layer.source, &layer.blob)?;
        if layer.blob.digest == layer.diff_id {
            return Ok(());
        }
        let file = store
            .open_blob(&layer.blob.digest)
            .map_err(|e| e.to_string())?;
        let reader = strata_layer::decompressor(std::io::BufReader::with_capacity(1 << 20, file))
            .map_err(|e| format!("blob {}: {e}", layer.blob.digest))?;
        store
            .ingest(&layer.diff_id, Some(layer.size), reader)
            .map_err(|e| format!("layer {} of blob {}: {e}", layer.diff_id, layer.blob.digest))?;
        // Kept as the layer's distribution variant: a push sends it as is.
        if let Some(encoding) = &layer.encoding
            && let Some(media_type) = variant_media_type(encoding)
        {
            let mut variant = layer.blob.clone();
            variant.media_type = media_type.to_owned();
            variant.annotations.clear();
            store
                .put_variant(&layer.diff_id, encoding, &variant)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Makes sure the store has blob `digest`, which an imported cache
    /// holds as a layer's blob: downloaded and verified.
    pub(crate) fn fetch_layer_blob(&self, store: &Store, digest: &Digest) -> Result<(), String> {
        let Some(layer) = self.layers.values().find(|l| l.blob.digest == *digest) else {
            return Err(format!("blob {digest} is in no imported cache"));
        };
        self.fetch_blob(store, layer.source, &layer.blob)
    }

    fn fetch_blob(&self, store: &Store, source: usize, blob: &Descriptor) -> Result<(), String> {
        if store.has_blob(&blob.digest) {
            return Ok(());
        }
        match &self.sources[source] {
            Source::Registry(reference) => {
                let connection = self.connection()?;
                let mut writer = store.begin_blob().map_err(|e| e.to_string())?;
                connection
                    .runtime
                    .block_on(connection.client.fetch_blob_checked(
                        reference,
                        blob,
                        &mut writer,
                        false,
                    ))
                    .map_err(|e| e.to_string())?;
                writer
                    .commit(Some(&blob.digest))
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Source::Local(directory) => {
                let path = directory.join(blob.digest.layout_path());
                let file = std::fs::File::open(&path)
                    .map_err(|e| strata_fs::Error::new("open", &path, e).to_string())?;
                store
                    .ingest(&blob.digest, Some(blob.size), file)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// The OCI media type of a blob made by strata's encoding `name`.
fn variant_media_type(name: &str) -> Option<&'static str> {
    if name.starts_with("gzip-") {
        Some(strata_layer::Compression::GZIP.media_type())
    } else if name.starts_with("zstd-") {
        Some(strata_layer::Compression::ZSTD.media_type())
    } else {
        None
    }
}

/// A blob of an OCI layout, verified.
fn read_layout_blob(directory: &Path, descriptor: &Descriptor) -> Result<Vec<u8>, String> {
    let path = directory.join(descriptor.digest.layout_path());
    let bytes =
        std::fs::read(&path).map_err(|e| strata_fs::Error::new("read", &path, e).to_string())?;
    if Digest::of(&bytes) != descriptor.digest {
        return Err(format!(
            "{}: content does not match digest {}",
            path.display(),
            descriptor.digest
        ));
    }
    Ok(bytes)
}

/// The cache tagged `tag` in the OCI layout `directory`.
fn read_local(directory: &Path, tag: &str) -> Result<CacheDocument, String> {
    let path = directory.join("index.json");
    let bytes =
        std::fs::read(&path).map_err(|e| strata_fs::Error::new("read", &path, e).to_string())?;
    let index: strata_oci::ImageIndex =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let tagged = index
        .manifests
        .iter()
        .find(|d| d.annotation(ANNOTATION_REF_NAME) == Some(tag));
    let entry = match tagged {
        Some(entry) => entry,
        None if index.manifests.len() == 1 => &index.manifests[0],
        None => return Err(format!("{}: no cache tagged {tag}", path.display())),
    };
    let manifest = read_layout_blob(directory, entry)?;
    match classify(&manifest, Some(&entry.media_type))? {
        Found::Cache(document) => CacheDocument::parse(&read_layout_blob(directory, &document)?),
        Found::Image(manifest) => inline(
            &read_layout_blob(directory, &manifest.config)?,
            &manifest.layers,
        ),
        Found::Index(_) => Err(format!("{}: no build cache", path.display())),
    }
}

/// The inline cache of an image whose configuration is `config`.
fn inline(config: &[u8], layers: &[Descriptor]) -> Result<CacheDocument, String> {
    let config: ImageConfiguration =
        serde_json::from_slice(config).map_err(|e| format!("invalid image configuration: {e}"))?;
    inline_document(&config, layers)?
        .ok_or_else(|| "the image has no inline build cache".to_owned())
}
