//! Image manifests and indexes (OCI and Docker schema 2 share one shape).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Descriptor, Platform, media_type};

/// An image manifest: a config and its layers. Field order is the Go struct's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`media_type::OCI_MANIFEST`] or [`media_type::DOCKER_MANIFEST`]; absent in some OCI manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Artifact type, for artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The image configuration.
    pub config: Descriptor,
    /// The layers, base first.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (referrers API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata, sorted by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An index (OCI) or manifest list (Docker): manifests for several platforms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// [`media_type::OCI_INDEX`] or [`media_type::DOCKER_MANIFEST_LIST`]; absent in some OCI indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Artifact type, for artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests, each with its platform.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata, sorted by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageManifest {
    /// An OCI manifest for `config` and `layers`.
    pub fn new(config: Descriptor, layers: Vec<Descriptor>) -> Self {
        Self {
            schema_version: 2,
            media_type: Some(media_type::OCI_MANIFEST.to_owned()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    /// The media type, OCI's when the document does not say.
    pub fn media_type(&self) -> &str {
        self.media_type
            .as_deref()
            .unwrap_or(media_type::OCI_MANIFEST)
    }

    /// Compact JSON as Go writes it: what gets hashed.
    pub fn to_json(&self) -> Vec<u8> {
        crate::to_go_json(self).unwrap_or_default()
    }
}

impl ImageIndex {
    /// An OCI index of `manifests`.
    pub fn new(manifests: Vec<Descriptor>) -> Self {
        Self {
            schema_version: 2,
            media_type: Some(media_type::OCI_INDEX.to_owned()),
            artifact_type: None,
            manifests,
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    /// The media type, OCI's when the document does not say.
    pub fn media_type(&self) -> &str {
        self.media_type.as_deref().unwrap_or(media_type::OCI_INDEX)
    }

    /// The first manifest whose platform serves `wanted`, in index order
    /// (entries without a platform are skipped; attestation manifests have
    /// platform `unknown/unknown` and never match).
    pub fn select(&self, wanted: &Platform) -> Option<&Descriptor> {
        self.manifests.iter().find(|descriptor| {
            descriptor
                .platform
                .as_ref()
                .is_some_and(|platform| wanted.matches(platform))
        })
    }

    /// Compact JSON as Go writes it: what gets hashed.
    pub fn to_json(&self) -> Vec<u8> {
        crate::to_go_json(self).unwrap_or_default()
    }
}

/// A manifest document of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// One image.
    Image(Box<ImageManifest>),
    /// Several, by platform.
    Index(Box<ImageIndex>),
}

/// Why bytes are not a manifest.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON of the expected shape.
    #[error("invalid manifest JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A media type strata does not handle (schema 1, artifacts of other kinds).
    #[error("unsupported manifest media type {media_type:?}")]
    UnsupportedMediaType {
        /// The media type found.
        media_type: String,
    },
}

impl Manifest {
    /// Parses a manifest; the media type comes from the document, else from
    /// `content_type` (the registry's header), else from its shape.
    pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Self, ManifestError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Probe {
            media_type: Option<String>,
            manifests: Option<serde_json::Value>,
            config: Option<serde_json::Value>,
        }
        let probe: Probe = serde_json::from_slice(bytes)?;
        let declared = probe
            .media_type
            .or_else(|| content_type.map(|t| t.split(';').next().unwrap_or(t).trim().to_owned()));
        let media_type = match declared {
            Some(declared)
                if media_type::is_index(&declared) || media_type::is_manifest(&declared) =>
            {
                declared
            }
            Some(declared) if !declared.is_empty() && declared != "application/json" => {
                return Err(ManifestError::UnsupportedMediaType {
                    media_type: declared,
                });
            }
            _ if probe.manifests.is_some() => media_type::OCI_INDEX.to_owned(),
            _ if probe.config.is_some() => media_type::OCI_MANIFEST.to_owned(),
            _ => String::new(),
        };
        if media_type::is_index(&media_type) {
            Ok(Self::Index(Box::new(serde_json::from_slice(bytes)?)))
        } else if media_type::is_manifest(&media_type) {
            Ok(Self::Image(Box::new(serde_json::from_slice(bytes)?)))
        } else {
            Err(ManifestError::UnsupportedMediaType { media_type })
        }
    }

    /// The media type of the document.
    pub fn media_type(&self) -> &str {
        match self {
            Self::Image(manifest) => manifest.media_type(),
            Self::Index(index) => index.media_type(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Digest;

    #[test]
    fn round_trips_docker_manifest() {
        let text = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":7},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":32}]}"#;
        let Manifest::Image(manifest) = Manifest::parse(text.as_bytes(), None).unwrap() else {
            panic!("not an image manifest");
        };
        assert_eq!(String::from_utf8(manifest.to_json()).unwrap(), text);
    }

    #[test]
    fn selects_platform() {
        let mut amd = Descriptor::new(media_type::OCI_MANIFEST, Digest::of(b"a"), 1);
        amd.platform = Some("linux/amd64".parse().unwrap());
        let mut arm = Descriptor::new(media_type::OCI_MANIFEST, Digest::of(b"b"), 1);
        arm.platform = Some(Platform::new("linux", "arm64", Some("v8")));
        let index = ImageIndex::new(vec![amd, arm]);
        let text = index.to_json();
        let Manifest::Index(parsed) = Manifest::parse(&text, None).unwrap() else {
            panic!("not an index");
        };
        let chosen = parsed.select(&"linux/arm64".parse().unwrap()).unwrap();
        assert_eq!(chosen.digest, Digest::of(b"b"));
        assert!(parsed.select(&"linux/s390x".parse().unwrap()).is_none());
    }

    #[test]
    fn rejects_schema1() {
        let text = br#"{"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"}"#;
        assert!(matches!(
            Manifest::parse(text, None),
            Err(ManifestError::UnsupportedMediaType { .. })
        ));
    }
}
