//! The image index BuildKit's image writer makes when a build has
//! attestations (`exporter/containerimage/writer.go`): the image manifest
//! with its platform, then an attestation manifest (platform
//! `unknown/unknown`, `vnd.docker.reference.*` annotations naming the image
//! manifest) whose one layer is the in-toto statement. As BuildKit v0.32 by
//! default, the attestation manifest is an OCI artifact: an empty config,
//! `artifactType`, and the image manifest as its `subject`.

use std::collections::BTreeMap;

use serde::Serialize;
use strata_oci::{Descriptor, ImageIndex, ImageManifest, Platform, Reference, media_type};
use strata_store::Store;

use crate::annotations::{AnnotationTarget, Annotations};
use crate::error::Result;
use crate::provenance::{Predicate, purl};

/// Media type of an in-toto statement layer.
pub(crate) const IN_TOTO: &str = "application/vnd.in-toto+json";
const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
const ARTIFACT_TYPE: &str = "application/vnd.docker.attestation.manifest.v1+json";
const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
const PREDICATE_TYPE: &str = "in-toto.io/predicate-type";

/// What a build attaches to its image: when present, image outputs are an
/// index over the image manifest (and the attestation manifest, if any).
#[derive(Clone, Debug, Default)]
pub struct Attestations {
    /// The provenance predicate (`--attest type=provenance`).
    pub provenance: Option<Predicate>,
    /// The SBOM predicate (`--attest type=sbom`, `--sbom=true`).
    pub sbom: Option<Predicate>,
    /// `--annotation`s for the index and descriptors.
    pub annotations: Annotations,
}

#[derive(Serialize)]
struct Subject {
    name: String,
    digest: BTreeMap<String, String>,
}

impl Attestations {
    /// Writes the index over `manifest` (an image manifest in the store,
    /// with its platform) and what it lists; `names` name the image in
    /// the statement's subjects. The index's descriptor carries the
    /// `index-descriptor` annotations.
    pub fn write_index(
        &self,
        store: &Store,
        manifest: &Descriptor,
        names: &[Reference],
    ) -> Result<Descriptor> {
        let platform = manifest.platform.clone().unwrap_or_else(Platform::host);
        let mut image =
            Descriptor::new(manifest.media_type.clone(), manifest.digest, manifest.size);
        image.annotations = self
            .annotations
            .for_target(AnnotationTarget::ManifestDescriptor, Some(&platform));
        image.platform = Some(platform.clone());
        let mut entries = vec![image];
        // BuildKit lists the frontend's SBOM before the solver's provenance.
        let statements: Vec<(&Predicate, Vec<u8>)> = [&self.sbom, &self.provenance]
            .into_iter()
            .flatten()
            .map(|predicate| (predicate, statement(predicate, manifest, &platform, names)))
            .collect();
        if !statements.is_empty() {
            entries.push(attestation_manifest(store, manifest, &statements)?);
        }
        let mut index = ImageIndex::new(entries);
        index.annotations = self.annotations.for_target(AnnotationTarget::Index, None);
        let bytes = indented(&index);
        let digest = store.write_blob(&bytes)?;
        let mut descriptor = Descriptor::new(media_type::OCI_INDEX, digest, bytes.len() as u64);
        descriptor.annotations = self
            .annotations
            .for_target(AnnotationTarget::IndexDescriptor, None);
        Ok(descriptor)
    }
}

/// The in-toto statement: subjects (one per name, the image manifest's
/// digest) and the predicate, compact as Go's `json.Marshal`.
fn statement(
    predicate: &Predicate,
    manifest: &Descriptor,
    platform: &Platform,
    names: &[Reference],
) -> Vec<u8> {
    let subjects: Vec<Subject> = names
        .iter()
        .map(|name| Subject {
            name: purl(&name.to_string(), Some(platform)),
            digest: [(
                manifest.digest.algorithm().to_owned(),
                manifest.digest.hex(),
            )]
            .into(),
        })
        .collect();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"{\"_type\":");
    bytes.extend(go_json(&STATEMENT_TYPE));
    bytes.extend_from_slice(b",\"predicateType\":");
    bytes.extend(go_json(&predicate.predicate_type));
    bytes.extend_from_slice(b",\"subject\":");
    bytes.extend(go_json(&subjects));
    bytes.extend_from_slice(b",\"predicate\":");
    bytes.extend_from_slice(&predicate.json);
    bytes.push(b'}');
    bytes
}

/// Writes the statements, the empty config and the attestation manifest;
/// the manifest's descriptor as the index lists it.
fn attestation_manifest(
    store: &Store,
    subject: &Descriptor,
    statements: &[(&Predicate, Vec<u8>)],
) -> Result<Descriptor> {
    let mut layers = Vec::new();
    for (predicate, statement) in statements {
        let mut layer = Descriptor::of(IN_TOTO, statement);
        store.write_blob(statement)?;
        layer.annotations.insert(
            PREDICATE_TYPE.to_owned(),
            predicate.predicate_type.to_owned(),
        );
        layers.push(layer);
    }
    let mut config = Descriptor::of(media_type::OCI_EMPTY, b"{}");
    config.data = Some("e30=".to_owned());
    store.write_blob(b"{}")?;
    let mut manifest = ImageManifest::new(config, layers);
    manifest.artifact_type = Some(ARTIFACT_TYPE.to_owned());
    manifest.subject = Some(Descriptor::new(
        subject.media_type.clone(),
        subject.digest,
        subject.size,
    ));
    let bytes = indented(&manifest);
    let digest = store.write_blob(&bytes)?;
    let mut descriptor = Descriptor::new(media_type::OCI_MANIFEST, digest, bytes.len() as u64);
    descriptor.annotations = [
        (REFERENCE_DIGEST.to_owned(), subject.digest.to_string()),
        (REFERENCE_TYPE.to_owned(), "attestation-manifest".to_owned()),
    ]
    .into();
    descriptor.platform = Some(Platform::new("unknown", "unknown", None));
    Ok(descriptor)
}

/// JSON as BuildKit writes manifests and indexes (`json.MarshalIndent`, two spaces).
fn indented<T: Serialize>(value: &T) -> Vec<u8> {
    strata_oci::to_go_json_indented(value, "  ").unwrap_or_default()
}

/// Compact Go JSON of a value that always serialises.
fn go_json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    strata_oci::to_go_json(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::SLSA_V1;

    #[test]
    fn statements_name_the_image_manifest() {
        let manifest = Descriptor::of(media_type::OCI_MANIFEST, b"manifest");
        let predicate = Predicate {
            predicate_type: SLSA_V1,
            json: b"{}".to_vec(),
        };
        let names = [Reference::parse("example.com/app:1").unwrap()];
        let platform: Platform = "linux/amd64".parse().unwrap();
        let text = String::from_utf8(statement(&predicate, &manifest, &platform, &names)).unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"https://slsa.dev/provenance/v1\",\"subject\":[{{\"name\":\"pkg:docker/example.com/app@1?platform=linux%2Famd64\",\"digest\":{{\"sha256\":\"{}\"}}}}],\"predicate\":{{}}}}",
                manifest.digest.hex()
            )
        );
    }
}
