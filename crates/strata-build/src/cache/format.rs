//! strata's cache format. A cache is one document (media type
//! [`CONFIG_MEDIA_TYPE`]) listing layers and the steps they are the result
//! of, carried by an OCI image manifest whose config is the document and
//! whose layers are the compressed layer blobs, so every registry stores
//! it and keeps its blobs. With `image-manifest=false` an index lists the
//! blobs and the document instead (BuildKit's older form). Inline, the
//! document sits in the image's configuration and its layers are the
//! image's own, by position.

use serde::{Deserialize, Serialize};
use strata_oci::{Descriptor, Digest, ImageIndex, ImageManifest, Manifest, media_type};

/// The media type of the cache document.
pub(crate) const CONFIG_MEDIA_TYPE: &str = "application/vnd.strata.cache.config.v1+json";

/// The cache document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct CacheDocument {
    /// The layers, each once.
    pub(crate) layers: Vec<CacheLayer>,
    /// The steps, each naming its layer by index.
    pub(crate) steps: Vec<CachedStep>,
}

/// A layer of the cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CacheLayer {
    /// Its uncompressed digest (the plain tar the store keeps).
    #[serde(rename = "diffID")]
    pub(crate) diff_id: Digest,
    /// Its uncompressed size.
    pub(crate) size: u64,
    /// The blob as sent; absent inline (the image's layer at this index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) blob: Option<Descriptor>,
    /// strata's name of the encoding that made the blob (`gzip-6`), so an
    /// importer keeps it as the layer's distribution variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) encoding: Option<String>,
}

/// A step's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CachedStep {
    /// The step's cache key.
    pub(crate) key: Digest,
    /// Its layer: an index into [`CacheDocument::layers`].
    pub(crate) layer: usize,
    /// When the step ran (the layer's history time in images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created: Option<String>,
    /// The step's name where it ran (`[2/5] RUN make`), for people.
    #[serde(default)]
    pub(crate) name: String,
}

impl CacheDocument {
    /// The document's bytes.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A document read from `bytes`; every step's layer must exist.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        let document: CacheDocument =
            serde_json::from_slice(bytes).map_err(|e| format!("invalid cache document: {e}"))?;
        document.checked()
    }

    /// The document, refused when a step names a layer it lacks.
    pub(crate) fn checked(self) -> Result<Self, String> {
        if let Some(step) = self.steps.iter().find(|s| s.layer >= self.layers.len()) {
            return Err(format!(
                "invalid cache document: step {} names layer {} of {}",
                step.key,
                step.layer,
                self.layers.len()
            ));
        }
        Ok(self)
    }
}

/// What a manifest found where a cache was expected holds.
#[derive(Debug)]
pub(crate) enum Found {
    /// A cache: its document's descriptor.
    Cache(Box<Descriptor>),
    /// An image manifest (its configuration may hold an inline cache).
    Image(Box<ImageManifest>),
    /// An image index (one of its images may).
    Index(Box<ImageIndex>),
}

/// Classifies a fetched manifest.
pub(crate) fn classify(bytes: &[u8], content_type: Option<&str>) -> Result<Found, String> {
    match Manifest::parse(bytes, content_type).map_err(|e| e.to_string())? {
        Manifest::Image(manifest) if manifest.config.media_type == CONFIG_MEDIA_TYPE => {
            Ok(Found::Cache(Box::new(manifest.config)))
        }
        Manifest::Image(manifest) => Ok(Found::Image(manifest)),
        Manifest::Index(index) => match index
            .manifests
            .iter()
            .find(|d| d.media_type == CONFIG_MEDIA_TYPE)
        {
            Some(document) => Ok(Found::Cache(Box::new(document.clone()))),
            None => Ok(Found::Index(index)),
        },
    }
}

/// The manifest carrying a cache: bytes and media type.
pub(crate) fn manifest(
    document: Descriptor,
    layers: Vec<Descriptor>,
    image_manifest: bool,
    oci_media_types: bool,
) -> (Vec<u8>, String) {
    if image_manifest {
        let manifest = ImageManifest::new(document, layers);
        return (manifest.to_json(), media_type::OCI_MANIFEST.to_owned());
    }
    let mut blobs = layers;
    blobs.push(document);
    let mut index = ImageIndex::new(blobs);
    if !oci_media_types {
        index.media_type = Some(media_type::DOCKER_MANIFEST_LIST.to_owned());
    }
    let media_type = index.media_type().to_owned();
    (index.to_json(), media_type)
}

/// The inline document of an image: its layers paired with the image's
/// layers (`manifest`) and diff ids; `None` when the image has none.
pub(crate) fn inline_document(
    config: &strata_oci::ImageConfiguration,
    layers: &[Descriptor],
) -> Result<Option<CacheDocument>, String> {
    let Some(value) = &config.build_cache else {
        return Ok(None);
    };
    let mut document: CacheDocument =
        serde_json::from_value(value.clone()).map_err(|e| format!("invalid inline cache: {e}"))?;
    for (index, layer) in document.layers.iter_mut().enumerate() {
        let (Some(blob), Some(diff_id)) = (layers.get(index), config.rootfs.diff_ids.get(index))
        else {
            return Err(format!(
                "invalid inline cache: the image has no layer {index}"
            ));
        };
        if *diff_id != layer.diff_id {
            return Err(format!(
                "invalid inline cache: layer {index} is {diff_id}, not {}",
                layer.diff_id
            ));
        }
        layer.blob = Some(blob.clone());
    }
    document.checked().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(n: u8) -> CacheLayer {
        CacheLayer {
            diff_id: Digest::of(&[n]),
            size: 10,
            blob: Some(Descriptor::new(
                "application/vnd.oci.image.layer.v1.tar+gzip",
                Digest::of(&[n, n]),
                5,
            )),
            encoding: Some("gzip-6".to_owned()),
        }
    }

    #[test]
    fn documents_round_trip_and_bad_indexes_are_refused() {
        let document = CacheDocument {
            layers: vec![layer(1)],
            steps: vec![CachedStep {
                key: Digest::of(b"k"),
                layer: 0,
                created: Some("2026-01-01T00:00:00Z".to_owned()),
                name: "[2/2] RUN x".to_owned(),
            }],
        };
        assert_eq!(CacheDocument::parse(&document.to_json()).unwrap(), document);
        let mut bad = document.clone();
        bad.steps[0].layer = 1;
        let error = CacheDocument::parse(&bad.to_json()).unwrap_err();
        assert!(error.contains("names layer 1 of 1"), "{error}");
        assert!(CacheDocument::parse(b"{").is_err());
    }

    #[test]
    fn both_manifest_forms_are_recognised() {
        let document = Descriptor::new(CONFIG_MEDIA_TYPE, Digest::of(b"doc"), 3);
        let blobs = vec![layer(1).blob.unwrap()];
        for image_manifest in [true, false] {
            let (bytes, media_type) =
                manifest(document.clone(), blobs.clone(), image_manifest, true);
            match classify(&bytes, Some(&media_type)).unwrap() {
                Found::Cache(found) => assert_eq!(*found, document),
                other => panic!("{other:?}"),
            }
        }
        let (bytes, media_type) = manifest(document, blobs, false, false);
        assert_eq!(media_type, media_type::DOCKER_MANIFEST_LIST);
        assert!(matches!(
            classify(&bytes, Some(&media_type)).unwrap(),
            Found::Cache(_)
        ));
    }
}
