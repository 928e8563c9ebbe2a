//! `--annotation` values as BuildKit's image writer places them: on the
//! image manifest, on its descriptor, on the index and on the index's
//! descriptor (`exporter/containerimage/annotations.go`, `writer.go`).

use std::collections::BTreeMap;

use strata_oci::Platform;

use crate::error::{Error, Result};

/// Where an annotation goes (buildx's `TYPE:` prefix; none is `manifest`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AnnotationTarget {
    /// The image manifest.
    Manifest,
    /// The image manifest's descriptor (in the index, or the layout's `index.json`).
    ManifestDescriptor,
    /// The image index (only written with attestations here).
    Index,
    /// The index's descriptor in the layout's `index.json`.
    IndexDescriptor,
}

/// One `--annotation`: where it goes, for which platform (`TYPE[PLATFORM]:`), key and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// Where it goes.
    pub target: AnnotationTarget,
    /// Only for this platform's manifest (`manifest[linux/amd64]:k=v`).
    pub platform: Option<Platform>,
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// The annotations of one build (a later one with the same target,
/// platform and key wins, as in buildx's map).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotations(pub Vec<Annotation>);

impl Annotations {
    /// Whether any annotation goes to the index or its descriptor.
    pub fn wants_index(&self) -> bool {
        self.0.iter().any(|a| {
            matches!(
                a.target,
                AnnotationTarget::Index | AnnotationTarget::IndexDescriptor
            )
        })
    }

    /// The annotations for `target`: unqualified ones, plus those for
    /// `platform` when given (BuildKit's `AnnotationsGroup.Platform`; a
    /// single manifest without an index gets only the unqualified ones).
    pub fn for_target(
        &self,
        target: AnnotationTarget,
        platform: Option<&Platform>,
    ) -> BTreeMap<String, String> {
        let mut selected = BTreeMap::new();
        let index_level = matches!(
            target,
            AnnotationTarget::Index | AnnotationTarget::IndexDescriptor
        );
        for annotation in self.0.iter().filter(|a| a.target == target) {
            let applies = match (&annotation.platform, platform) {
                (None, _) => true,
                // Index annotations of any platform group land on the index.
                (Some(_), _) if index_level => true,
                (Some(wanted), Some(platform)) => wanted.to_string() == platform.to_string(),
                (Some(_), None) => false,
            };
            if applies {
                selected.insert(annotation.key.clone(), annotation.value.clone());
            }
        }
        selected
    }

    /// BuildKit's checks before export: `oci` says whether the output has
    /// OCI media types, `index` whether it gets an index.
    pub fn check(&self, oci: bool, index: bool) -> Result<()> {
        let beyond_manifest = self
            .0
            .iter()
            .any(|a| a.target != AnnotationTarget::Manifest);
        if !oci && beyond_manifest {
            return Err(export_error(
                "cannot export annotations with \"oci-mediatypes=false\"",
            ));
        }
        if !index && self.wants_index() {
            return Err(export_error(
                "index annotations not supported for single platform export",
            ));
        }
        Ok(())
    }
}

fn export_error(message: &str) -> Error {
    Error::Option {
        flag: "annotation",
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotation(target: AnnotationTarget, platform: Option<&str>, key: &str) -> Annotation {
        Annotation {
            target,
            platform: platform.map(|p| p.parse().unwrap()),
            key: key.to_owned(),
            value: format!("{key}-value"),
        }
    }

    #[test]
    fn platform_qualified_annotations_need_their_platform() {
        let annotations = Annotations(vec![
            annotation(AnnotationTarget::Manifest, None, "a"),
            annotation(AnnotationTarget::Manifest, Some("linux/amd64"), "b"),
            annotation(AnnotationTarget::Manifest, Some("linux/arm64"), "c"),
            annotation(AnnotationTarget::Index, None, "d"),
        ]);
        let host: Platform = "linux/amd64".parse().unwrap();
        let keys = |map: BTreeMap<String, String>| map.into_keys().collect::<Vec<_>>();
        assert_eq!(
            keys(annotations.for_target(AnnotationTarget::Manifest, Some(&host))),
            ["a", "b"]
        );
        assert_eq!(
            keys(annotations.for_target(AnnotationTarget::Manifest, None)),
            ["a"]
        );
        assert_eq!(
            keys(annotations.for_target(AnnotationTarget::Index, None)),
            ["d"]
        );
        assert!(annotations.wants_index());
        assert_eq!(
            annotations.check(true, false).unwrap_err().to_string(),
            "index annotations not supported for single platform export"
        );
        assert!(annotations.check(true, true).is_ok());
    }
}
