//! `--annotation`, `--attest` and `--provenance` as buildx reads them
//! (`util/buildflags/export.go` `ParseAnnotations`, `attests.go`) and
//! BuildKit checks the provenance attributes (`solver/llbsolver/provenance.go`).

use std::collections::BTreeMap;

use anyhow::{anyhow, bail};
use strata_build::{
    Annotation, AnnotationTarget, Annotations, ProvenanceMode, ProvenanceOptions, SlsaVersion,
};

/// `--annotation` values: `[TYPE[PLATFORM][,TYPE...]:]KEY=VALUE`, a bare
/// key being a manifest annotation; errors as buildx's, under its
/// `parse annotations:` prefix.
pub(super) fn annotations(values: &[String]) -> anyhow::Result<Annotations> {
    let mut by_key: BTreeMap<(AnnotationTarget, Option<String>, String), Annotation> =
        BTreeMap::new();
    for value in values.iter().filter(|v| !v.is_empty()) {
        for annotation in annotation(value).map_err(|e| anyhow!("parse annotations: {e}"))? {
            let key = (
                annotation.target,
                annotation.platform.as_ref().map(ToString::to_string),
                annotation.key.clone(),
            );
            by_key.insert(key, annotation);
        }
    }
    Ok(Annotations(by_key.into_values().collect()))
}

fn annotation(text: &str) -> anyhow::Result<Vec<Annotation>> {
    let Some((key, value)) = text.split_once('=') else {
        bail!("invalid annotation \"{text}\", expected key=value");
    };
    let Some((types, key)) = key.split_once(':') else {
        return Ok(vec![Annotation {
            target: AnnotationTarget::Manifest,
            platform: None,
            key: key.to_owned(),
            value: value.to_owned(),
        }]);
    };
    let mut annotations = Vec::new();
    for type_and_platform in types.split(',') {
        let (target, platform) = annotation_type(type_and_platform)?;
        annotations.push(Annotation {
            target,
            platform,
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(annotations)
}

/// `TYPE` or `TYPE[PLATFORM]` (buildx's `^([a-z-]+)(?:\[([A-Za-z0-9_/-]+)\])?$`).
fn annotation_type(text: &str) -> anyhow::Result<(AnnotationTarget, Option<strata_oci::Platform>)> {
    let malformed = || {
        anyhow!(
            "invalid annotation type \"{text}\", expected type and optional platform in square brackets"
        )
    };
    let (name, platform) = match text.split_once('[') {
        Some((name, rest)) => {
            let platform = rest.strip_suffix(']').ok_or_else(malformed)?;
            let valid = !platform.is_empty()
                && platform
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_/-".contains(&b));
            if !valid {
                return Err(malformed());
            }
            (name, Some(platform))
        }
        None => (text, None),
    };
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        return Err(malformed());
    }
    let target = match name {
        "manifest" => AnnotationTarget::Manifest,
        "manifest-descriptor" => AnnotationTarget::ManifestDescriptor,
        "index" => AnnotationTarget::Index,
        "index-descriptor" => AnnotationTarget::IndexDescriptor,
        other => bail!("unknown annotation type \"{other}\""),
    };
    let platform = platform
        .map(|p| {
            p.parse::<strata_oci::Platform>()
                .map_err(|e| anyhow!("invalid platform \"{p}\": {e}"))
        })
        .transpose()?;
    Ok((target, platform))
}

/// The attestations asked by `--attest` values, `--provenance` and
/// `--sbom` (which buildx appends as `type=provenance,...` and
/// `type=sbom,...`; a later attestation of the same type wins): the
/// provenance's options, `None` when none is asked or it is disabled, and
/// whether an SBOM is asked. The SBOM's attributes (`generator=` the
/// scanner image, `scan-context`, `scan-stage`) are accepted: strata's own
/// cataloguer always scans the final image.
pub(super) fn attestations(
    attests: &[String],
    provenance: Option<&str>,
    sbom: Option<&str>,
) -> anyhow::Result<(Option<ProvenanceOptions>, bool)> {
    let mut values: Vec<String> = attests.to_vec();
    for (kind, flag) in [("provenance", provenance), ("sbom", sbom)] {
        if let Some(value) = flag.filter(|v| !v.is_empty()) {
            values.push(match strata_go::strconv::parse_bool(value) {
                Some(enabled) => format!("type={kind},disabled={}", !enabled),
                None => format!("type={kind},{value}"),
            });
        }
    }
    let mut provenance: Option<(bool, BTreeMap<String, String>)> = None;
    let mut sbom = false;
    for value in &values {
        let (kind, disabled, attributes) = attest(value)?;
        match kind.as_str() {
            "provenance" => provenance = Some((disabled, attributes)),
            "sbom" => sbom = !disabled,
            other => bail!("--attest type={other}: unknown attestation type"),
        }
    }
    let provenance = match provenance {
        Some((false, attributes)) => Some(provenance_options(&attributes)?),
        _ => None,
    };
    Ok((provenance, sbom))
}

/// One `--attest` value (buildx's `Attest.UnmarshalText`).
fn attest(text: &str) -> anyhow::Result<(String, bool, BTreeMap<String, String>)> {
    let fields = strata_dockerfile::csv_fields(text).map_err(|e| anyhow!(e))?;
    let (mut kind, mut disabled, mut attributes) = (String::new(), false, BTreeMap::new());
    for field in &fields {
        let Some((key, value)) = field.split_once('=') else {
            bail!("invalid value {field}");
        };
        match key.trim().to_lowercase().as_str() {
            "type" => kind = value.to_owned(),
            "disabled" => disabled = strata_go::strconv::parse_bool(value).ok_or_else(|| {
                anyhow!(
                    "invalid value {field}: strconv.ParseBool: parsing \"{value}\": invalid syntax"
                )
            })?,
            _ => {
                attributes.insert(key.to_owned(), value.to_owned());
            }
        }
    }
    if kind.is_empty() {
        bail!("attestation type not specified");
    }
    Ok((kind, disabled, attributes))
}

/// BuildKit's reading of the provenance attributes.
fn provenance_options(attributes: &BTreeMap<String, String>) -> anyhow::Result<ProvenanceOptions> {
    let mut options = ProvenanceOptions::default();
    for (key, value) in attributes {
        match key.as_str() {
            "mode" => {
                options.mode = match value.as_str() {
                    "min" => ProvenanceMode::Min,
                    "max" | "full" => ProvenanceMode::Max,
                    _ => bail!("invalid mode \"{value}\""),
                }
            }
            "version" => {
                options.version = match value.as_str() {
                    "v1" => SlsaVersion::V1,
                    "v0.2" => SlsaVersion::V02,
                    "" => bail!("provenance SLSA version cannot be empty"),
                    _ => bail!("invalid provenance SLSA version: {value}"),
                }
            }
            "builder-id" => options.builder_id = value.clone(),
            "reproducible" => {
                options.reproducible = strata_go::strconv::parse_bool(value).ok_or_else(|| {
                    anyhow!(
                        "failed to parse reproducible flag \"{value}\": strconv.ParseBool: parsing \"{value}\": invalid syntax"
                    )
                })?
            }
            // Accepted and without effect here (what they select strata
            // does not record, or always does).
            _ => {}
        }
    }
    Ok(options)
}

/// buildx refuses attestations for a docker output (docker's classic store
/// cannot hold an index): in its words, which depend on whether the
/// output has a destination or loads into docker.
pub(super) fn check_docker_outputs(
    specs: &[super::outputs::OutputSpec],
    attesting: bool,
) -> anyhow::Result<()> {
    let Some(docker) = specs.iter().find(|s| s.kind == "docker") else {
        return Ok(());
    };
    if !attesting {
        return Ok(());
    }
    if docker.destination.is_some() {
        bail!(
            "docker exporter does not support exporting manifest lists, use the oci exporter instead"
        );
    }
    bail!("docker exporter does not currently support exporting manifest lists")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(values: &[&str]) -> String {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        annotations(&values).unwrap_err().to_string()
    }

    #[test]
    fn annotations_as_buildx_reads_them() {
        let values: Vec<String> = ["a=1", "index,manifest[linux/amd64]:b=2", "manifest:a=3"]
            .iter()
            .map(|v| v.to_string())
            .collect();
        let parsed = annotations(&values).unwrap().0;
        let shown: Vec<(AnnotationTarget, Option<String>, &str, &str)> = parsed
            .iter()
            .map(|a| {
                (
                    a.target,
                    a.platform.as_ref().map(ToString::to_string),
                    a.key.as_str(),
                    a.value.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (AnnotationTarget::Manifest, None, "a", "3"),
                (
                    AnnotationTarget::Manifest,
                    Some("linux/amd64".to_owned()),
                    "b",
                    "2"
                ),
                (AnnotationTarget::Index, None, "b", "2"),
            ]
        );
        assert_eq!(
            error(&["novalue"]),
            "parse annotations: invalid annotation \"novalue\", expected key=value"
        );
        assert_eq!(
            error(&["bogus:k=v"]),
            "parse annotations: unknown annotation type \"bogus\""
        );
        assert_eq!(
            error(&["Manifest:k=v"]),
            "parse annotations: invalid annotation type \"Manifest\", expected type and optional platform in square brackets"
        );
        assert_eq!(
            error(&["manifest[linux:k=v"]),
            "parse annotations: invalid annotation type \"manifest[linux\", expected type and optional platform in square brackets"
        );
    }

    #[test]
    fn sbom_flags_as_buildx_reads_them() {
        let sbom = |attests: &[&str], flag: Option<&str>| {
            let attests: Vec<String> = attests.iter().map(|a| a.to_string()).collect();
            attestations(&attests, None, flag).unwrap().1
        };
        assert!(!sbom(&[], None));
        assert!(sbom(&[], Some("true")));
        assert!(!sbom(&[], Some("false")));
        assert!(sbom(&["type=sbom"], None));
        assert!(sbom(&[], Some("generator=docker/buildkit-syft-scanner")));
        // --sbom comes after --attest: it wins.
        assert!(!sbom(&["type=sbom"], Some("0")));
    }

    fn provenance(
        attests: &[String],
        flag: Option<&str>,
    ) -> anyhow::Result<Option<ProvenanceOptions>> {
        attestations(attests, flag, None).map(|(provenance, _)| provenance)
    }

    #[test]
    fn provenance_flags_as_buildx_and_buildkit_read_them() {
        assert_eq!(provenance(&[], None).unwrap(), None);
        assert_eq!(provenance(&[], Some("false")).unwrap(), None);
        let max = provenance(&[], Some("true")).unwrap().unwrap();
        assert_eq!(max.mode, ProvenanceMode::Max);
        let min = provenance(&["type=provenance,mode=min,version=v0.2".into()], None)
            .unwrap()
            .unwrap();
        assert_eq!(
            (min.mode, min.version),
            (ProvenanceMode::Min, SlsaVersion::V02)
        );
        // --provenance comes after --attest: it wins.
        assert_eq!(
            provenance(&["type=provenance,mode=min".into()], Some("0")).unwrap(),
            None
        );
        let message = |attests: &[&str], flag: Option<&str>| {
            let attests: Vec<String> = attests.iter().map(|a| a.to_string()).collect();
            provenance(&attests, flag).unwrap_err().to_string()
        };
        assert_eq!(
            message(&["mode=min"], None),
            "attestation type not specified"
        );
        assert_eq!(message(&[], Some("mode=mid")), "invalid mode \"mid\"");
        assert_eq!(
            message(&[], Some("version=v3")),
            "invalid provenance SLSA version: v3"
        );
        assert_eq!(
            message(&["type=provenance,disabled=maybe"], None),
            "invalid value disabled=maybe: strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
    }
}
