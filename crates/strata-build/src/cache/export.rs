//! `--cache-to`: the document of the steps an export covers, the layer
//! blobs the destination lacks (compressed once: the store's distribution
//! variants), then the manifest, last, so an interrupted export leaves the
//! previous cache whole.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use strata_layer::Compression;
use strata_oci::{ANNOTATION_REF_NAME, Descriptor, Digest, ImageIndex, Reference};
use strata_registry::{Mount, PushRequest};
use strata_store::{BlobEncoder as _, Store};

use super::format::{CONFIG_MEDIA_TYPE, CacheDocument, CacheLayer, CachedStep, manifest};
use super::import::ImportedCache;
use super::{CacheExport, CacheLocation, CacheMode};
use crate::output::LayerCompression;
use crate::plan::{Base, Plan};
use crate::solve::Layer;

/// A step result an export may cover.
#[derive(Clone, Debug)]
pub(crate) struct ExportedStep {
    /// Its cache key.
    pub(crate) key: Digest,
    /// Its layer (its blob may still be only in an imported cache).
    pub(crate) layer: Layer,
    /// The step's name.
    pub(crate) name: String,
}

/// The steps a `mode` export covers, with their layers: those the solve
/// served or ran, else the store's records, else the imported caches'
/// (steps of stages that did not need to run). `Min`: the stages the
/// image is made of; `Max`: every stage of the plan.
pub(crate) fn covered_steps(
    plan: &Plan,
    solved: &HashMap<Digest, Layer>,
    store: &Store,
    imported: &ImportedCache,
    mode: CacheMode,
) -> Vec<ExportedStep> {
    let mut stages = Vec::new();
    match mode {
        CacheMode::Max => stages.extend(0..plan.stages.len()),
        CacheMode::Min => {
            let mut index = Some(plan.target);
            while let Some(current) = index {
                stages.push(current);
                index = match plan.stages[current].base {
                    Base::Stage(base) => Some(base),
                    _ => None,
                };
            }
            stages.sort_unstable();
        }
    }
    let mut covered = Vec::new();
    for stage in stages {
        for step in &plan.stages[stage].steps {
            let layer = solved
                .get(&step.key)
                .cloned()
                .or_else(|| crate::solve::stored_layer(store, &step.key).ok().flatten())
                .or_else(|| imported.lookup(&step.key));
            if let Some(layer) = layer {
                covered.push(ExportedStep {
                    key: step.key,
                    layer,
                    name: step.name.clone(),
                });
            }
        }
    }
    covered
}

/// The inline cache document of an image whose layers are `layers`:
/// `steps` by the position of their layer in the image.
pub(crate) fn inline_cache(steps: &[ExportedStep], layers: &[Layer]) -> serde_json::Value {
    let mut document = CacheDocument {
        layers: layers
            .iter()
            .map(|layer| CacheLayer {
                diff_id: layer.diff_id,
                size: layer.descriptor.size,
                blob: None,
                encoding: None,
            })
            .collect(),
        steps: Vec::new(),
    };
    for step in steps {
        if let Some(index) = layers.iter().position(|l| l.diff_id == step.layer.diff_id) {
            document.steps.push(CachedStep {
                key: step.key,
                layer: index,
                created: step.layer.created.clone(),
                name: step.name.clone(),
            });
        }
    }
    serde_json::to_value(&document).unwrap_or_default()
}

/// Writes the cache of `steps` where `request` says; `status` reports
/// each blob and the manifest as BuildKit's exporter does.
pub(crate) fn export_cache(
    store: &Arc<Store>,
    request: &CacheExport,
    steps: &[ExportedStep],
    imported: &ImportedCache,
    status: &dyn Fn(&str),
) -> Result<(), String> {
    if request.image_manifest && !request.oci_media_types {
        return Err(
            "invalid configuration for cache: image-manifest=true requires oci-mediatypes=true"
                .to_owned(),
        );
    }
    let mut document = CacheDocument::default();
    let mut blobs: Vec<Descriptor> = Vec::new();
    let mut positions: HashMap<Digest, usize> = HashMap::new();
    status("preparing build cache for export done");
    for step in steps {
        let index = match positions.get(&step.layer.diff_id) {
            Some(index) => *index,
            None => {
                let (blob, encoding) = layer_blob(store, imported, &step.layer, request)?;
                document.layers.push(CacheLayer {
                    diff_id: step.layer.diff_id,
                    size: step.layer.descriptor.size,
                    blob: Some(blob.clone()),
                    encoding,
                });
                blobs.push(blob);
                positions.insert(step.layer.diff_id, document.layers.len() - 1);
                document.layers.len() - 1
            }
        };
        document.steps.push(CachedStep {
            key: step.key,
            layer: index,
            created: step.layer.created.clone(),
            name: step.name.clone(),
        });
    }
    let bytes = document.to_json();
    let digest = store.write_blob(&bytes).map_err(|e| e.to_string())?;
    let config = Descriptor::new(CONFIG_MEDIA_TYPE, digest, bytes.len() as u64);
    let (manifest_bytes, media_type) = manifest(
        config.clone(),
        blobs.clone(),
        request.image_manifest,
        request.oci_media_types,
    );
    let mut all = vec![config.clone()];
    all.extend(blobs);
    match &request.location {
        CacheLocation::Registry(reference) => push(
            store,
            imported,
            reference,
            &all,
            &manifest_bytes,
            &media_type,
            status,
        )?,
        CacheLocation::Local { directory, tag } => write_local(
            store,
            imported,
            directory,
            tag,
            &all,
            &manifest_bytes,
            &media_type,
            status,
        )?,
        CacheLocation::Inline => return Ok(()),
    }
    status(&format!("writing config {} done", config.digest));
    let kind = if request.image_manifest {
        "cache image manifest"
    } else {
        "cache manifest"
    };
    status(&format!(
        "writing {kind} {} done",
        Digest::of(&manifest_bytes)
    ));
    Ok(())
}

/// The blob that carries `layer` in the export, and strata's name of its
/// encoding: the store's variant (made now if it is the first time), or
/// the imported blob when it is already encoded that way.
fn layer_blob(
    store: &Store,
    imported: &ImportedCache,
    layer: &Layer,
    request: &CacheExport,
) -> Result<(Descriptor, Option<String>), String> {
    let encoder = LayerCompression(request.compression);
    let encoding = (request.compression != Compression::None).then(|| encoder.name());
    let media_type = encoder.layer_media_type(!request.oci_media_types);
    if !store.has_blob(&layer.diff_id) {
        if let Some(remote) = imported.layer(&layer.diff_id) {
            let same = match &encoding {
                Some(name) => remote.encoding.as_ref() == Some(name),
                None => remote.blob.digest == remote.diff_id,
            };
            if same {
                let mut blob = remote.blob.clone();
                blob.media_type = media_type.to_owned();
                return Ok((blob, encoding));
            }
        }
        imported.fetch(store, &layer.diff_id)?;
    }
    let size = store.blob_size(&layer.diff_id).map_err(|e| e.to_string())?;
    let plain = Descriptor::new(Compression::None.media_type(), layer.diff_id, size);
    let mut blob = match request.compression {
        Compression::None => plain,
        _ => {
            store
                .encoded_variant(&plain, &encoder)
                .map_err(|e| e.to_string())?
                .0
        }
    };
    blob.media_type = media_type.to_owned();
    Ok((blob, encoding))
}

/// Sends the cache to `reference`: blobs the repository lacks (mounted
/// from an imported cache's repository when the registry allows), then the
/// manifest.
fn push(
    store: &Arc<Store>,
    imported: &ImportedCache,
    reference: &Reference,
    blobs: &[Descriptor],
    manifest: &[u8],
    media_type: &str,
    status: &dyn Fn(&str),
) -> Result<(), String> {
    let connection = imported.connection()?;
    let (client, runtime) = (&connection.client, &connection.runtime);
    let mount_from: Vec<String> = imported
        .repositories_on(reference.registry())
        .into_iter()
        .filter(|from| from != reference.repository())
        .collect();
    // Blobs only an imported cache has: found or mounted at the
    // destination, else downloaded, so the push reads everything from the store.
    for blob in blobs {
        if store.has_blob(&blob.digest) {
            continue;
        }
        let exists = runtime
            .block_on(client.blob_exists(reference, &blob.digest, &mount_from))
            .map_err(|e| e.to_string())?;
        let mut placed = exists;
        for from in &mount_from {
            if placed {
                break;
            }
            let mounted = runtime
                .block_on(client.mount_blob(reference, &blob.digest, from, &mount_from))
                .map_err(|e| e.to_string())?;
            placed = mounted == Mount::Mounted;
        }
        if !placed {
            imported.fetch_layer_blob(store, &blob.digest)?;
        }
    }
    let request = PushRequest {
        manifest: manifest.to_vec(),
        media_type: media_type.to_owned(),
        blobs: blobs.to_vec(),
        children: Vec::new(),
        mount_from,
    };
    for blob in &blobs[1..] {
        status(&format!("writing layer {} done", blob.digest));
    }
    runtime
        .block_on(strata_registry::push(
            client,
            reference,
            &request,
            Arc::new(crate::images::StoreSource(store.clone())),
            Arc::new(|_| {}),
        ))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Writes the cache into the OCI layout `directory` under `tag`: blobs the
/// layout lacks, then `index.json`, atomically.
#[allow(clippy::too_many_arguments)]
fn write_local(
    store: &Store,
    imported: &ImportedCache,
    directory: &Path,
    tag: &str,
    blobs: &[Descriptor],
    manifest: &[u8],
    media_type: &str,
    status: &dyn Fn(&str),
) -> Result<(), String> {
    let error = |e: strata_fs::Error| e.to_string();
    let manifest_digest = store.write_blob(manifest).map_err(|e| e.to_string())?;
    let manifest_descriptor = Descriptor::new(media_type, manifest_digest, manifest.len() as u64);
    for blob in blobs.iter().chain(std::iter::once(&manifest_descriptor)) {
        let path = directory.join(blob.digest.layout_path());
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == blob.size) {
            continue;
        }
        if !store.has_blob(&blob.digest) {
            imported.fetch_layer_blob(store, &blob.digest)?;
        }
        let parent = path.parent().unwrap_or(directory);
        strata_fs::create_dir_all(parent).map_err(error)?;
        let temporary = parent.join(format!(".{}.{}", blob.digest.hex(), std::process::id()));
        std::fs::copy(store.blob_path(&blob.digest), &temporary)
            .map_err(|e| strata_fs::Error::new("copy", &temporary, e).to_string())?;
        std::fs::rename(&temporary, &path)
            .map_err(|e| strata_fs::Error::new("rename", &temporary, e).to_string())?;
        if blob.media_type != CONFIG_MEDIA_TYPE && blob.digest != manifest_digest {
            status(&format!("writing layer {} done", blob.digest));
        }
    }
    let layout = directory.join("oci-layout");
    if !layout.exists() {
        strata_fs::write_atomic(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(error)?;
    }
    let index_path = directory.join("index.json");
    let mut index = std::fs::read(&index_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<ImageIndex>(&bytes).ok())
        .unwrap_or_else(|| ImageIndex::new(Vec::new()));
    index
        .manifests
        .retain(|d| d.annotation(ANNOTATION_REF_NAME) != Some(tag));
    let mut entry = manifest_descriptor;
    entry
        .annotations
        .insert(ANNOTATION_REF_NAME.to_owned(), tag.to_owned());
    index.manifests.push(entry);
    strata_fs::write_atomic(&index_path, &index.to_json()).map_err(error)
}
