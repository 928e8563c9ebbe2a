//! SPDX 2.3 JSON, shaped as syft and BuildKit's generator make it: the
//! subject is a package the document describes, containing every package.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::license::{self, Expr};
use super::{TOOL, VERSION, content_digest, package_ids, rfc3339, sorted};
use crate::package::{Catalog, Distro, Kind, Location, Package, Subject};

const NOASSERTION: &str = "NOASSERTION";

/// The catalogue as an SPDX 2.3 document; `created` is in Unix seconds.
pub fn spdx_value(catalog: &Catalog, created: i64) -> Value {
    let catalog = sorted(catalog);
    let created = rfc3339(created);
    let root = root_id(&catalog.subject);
    let mut licenses = Licenses::default();
    let mut packages = vec![root_package(&catalog.subject, &root)];
    let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", &root)];
    if let Some(distro) = &catalog.distro {
        let id = format!(
            "SPDXRef-OperatingSystem-{}",
            license::idstring(&format!(
                "{}-{}",
                distro.id,
                distro.version_id.as_deref().unwrap_or("")
            ))
        );
        packages.push(os_package(distro, &id));
        relationships.push(relationship(&root, "CONTAINS", &id));
    }
    for (package, id) in catalog.packages.iter().zip(package_ids(&catalog)) {
        let id = format!("SPDXRef-Package-{id}");
        let declared = licenses.declared(&package.licenses);
        packages.push(package_entry(&catalog, package, &id, declared, &created));
        relationships.push(relationship(&root, "CONTAINS", &id));
    }
    let mut document = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": catalog.subject.name(),
        "documentNamespace": namespace(&catalog),
        "creationInfo": {
            "created": created,
            "creators": [format!("Tool: {TOOL}-{VERSION}")],
            "licenseListVersion": license::LIST_VERSION,
        },
        "packages": packages,
        "relationships": relationships,
    });
    if !licenses.extracted.is_empty() {
        document["hasExtractedLicensingInfos"] = licenses.extracted_infos();
    }
    document
}

/// The catalogue as an SPDX 2.3 JSON document, indented.
pub fn spdx_json(catalog: &Catalog, created: i64) -> String {
    serde_json::to_string_pretty(&spdx_value(catalog, created)).unwrap_or_default()
}

/// A unique URI: the subject, and a digest of the whole catalogue. The
/// `.invalid` domain (RFC 2606) says it names the document, not a place.
fn namespace(catalog: &Catalog) -> String {
    let digest = content_digest(catalog).hex();
    match &catalog.subject {
        Subject::Image { id, .. } => {
            format!(
                "https://strata.invalid/spdx/image/sha256-{}-{digest}",
                id.hex()
            )
        }
        Subject::Directory { path } => {
            let path = license::idstring(path);
            format!("https://strata.invalid/spdx/directory/{path}-{digest}")
        }
    }
}

fn root_id(subject: &Subject) -> String {
    let (kind, name) = match subject {
        Subject::Image { name, .. } => ("Image", name),
        Subject::Directory { path } => ("Directory", path),
    };
    let name = license::idstring(name);
    let name = if name.is_empty() { "root".into() } else { name };
    format!("SPDXRef-DocumentRoot-{kind}-{name}")
}

fn root_package(subject: &Subject, id: &str) -> Value {
    let mut package = json!({
        "name": subject.name(),
        "SPDXID": id,
        "supplier": NOASSERTION,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
    });
    match subject {
        Subject::Image {
            id,
            manifest,
            layers,
            ..
        } => {
            package["versionInfo"] = json!(id.to_string());
            package["primaryPackagePurpose"] = json!("CONTAINER");
            let layers: Vec<_> = layers.iter().map(ToString::to_string).collect();
            package["comment"] = json!(format!(
                "manifest {manifest}; layers (diff ids, base first): {}",
                layers.join(", ")
            ));
        }
        Subject::Directory { .. } => package["primaryPackagePurpose"] = json!("FILE"),
    }
    package
}

fn os_package(distro: &Distro, id: &str) -> Value {
    let mut package = json!({
        "name": distro.id,
        "SPDXID": id,
        "supplier": NOASSERTION,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "primaryPackagePurpose": "OPERATING-SYSTEM",
    });
    if let Some(version) = &distro.version_id {
        package["versionInfo"] = json!(version);
    }
    if let Some(pretty) = &distro.pretty_name {
        package["description"] = json!(pretty);
    }
    package
}

fn package_entry(
    catalog: &Catalog,
    package: &Package,
    id: &str,
    declared: String,
    created: &str,
) -> Value {
    let mut entry = json!({
        "name": package.name,
        "SPDXID": id,
        "supplier": supplier(package, catalog.distro.as_ref()),
        "originator": NOASSERTION,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": declared,
        "copyrightText": NOASSERTION,
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": package.purl(catalog.distro.as_ref()),
        }],
        "primaryPackagePurpose": "LIBRARY",
    });
    if !package.version.is_empty() {
        entry["versionInfo"] = json!(package.version);
    }
    if !package.locations.is_empty() {
        entry["sourceInfo"] = json!(source_info(&package.locations));
    }
    if let Some(layer) = package.layer() {
        entry["annotations"] = json!([{
            "annotationDate": created,
            "annotationType": "OTHER",
            "annotator": format!("Tool: {TOOL}-{VERSION}"),
            "comment": format!("layerID: {layer}"),
        }]);
    }
    entry
}

/// The distribution supplies its own packages; other suppliers are not known.
fn supplier(package: &Package, distro: Option<&Distro>) -> String {
    match distro {
        Some(distro) if matches!(package.kind, Kind::Deb | Kind::Apk | Kind::Rpm) => {
            format!("Organization: {}", distro.id)
        }
        _ => NOASSERTION.to_string(),
    }
}

fn source_info(locations: &[Location]) -> String {
    let files: Vec<_> = locations
        .iter()
        .map(|location| match &location.layer {
            Some(layer) => format!("{} (layer {layer})", location.path),
            None => location.path.clone(),
        })
        .collect();
    format!("acquired package info from {}", files.join(", "))
}

fn relationship(from: &str, kind: &str, to: &str) -> Value {
    json!({
        "spdxElementId": from,
        "relationshipType": kind,
        "relatedSpdxElement": to,
    })
}

/// The document's licence references, by id, with the text each stands for.
#[derive(Default)]
struct Licenses {
    extracted: BTreeMap<String, String>,
}

impl Licenses {
    /// A package's declared licences as one expression (all of them apply),
    /// each that is not an SPDX expression made a `LicenseRef-` of its text.
    fn declared(&mut self, declared: &[String]) -> String {
        let mut parts: Vec<Expr> = Vec::new();
        for text in declared.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            let expr = license::parse(text).unwrap_or_else(|| Expr::Id(reference(text)));
            for id in expr.refs() {
                self.extracted
                    .entry(id.to_string())
                    .or_insert_with(|| text.to_string());
            }
            if !parts.contains(&expr) {
                parts.push(expr);
            }
        }
        Expr::all(parts).map_or_else(|| NOASSERTION.to_string(), |e| e.to_string())
    }

    fn extracted_infos(&self) -> Value {
        let infos: Vec<_> = self
            .extracted
            .iter()
            .map(|(id, text)| json!({"licenseId": id, "name": text, "extractedText": text}))
            .collect();
        json!(infos)
    }
}

/// `LicenseRef-TEXT`, with a digest of the text when TEXT had to be changed
/// to be an id (so two texts never share a reference).
fn reference(text: &str) -> String {
    let id = license::idstring(text);
    if id == text {
        return format!("LicenseRef-{id}");
    }
    let digest = strata_oci::Digest::of(text.as_bytes()).hex();
    let hash = &digest[..8];
    match id.is_empty() {
        true => format!("LicenseRef-{hash}"),
        false => format!("LicenseRef-{id}-{hash}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Origin;
    use strata_oci::Digest;

    fn catalog() -> Catalog {
        let layer = Digest::of(b"layer one");
        let mut bash = Package::new(Kind::Deb, "bash", "5.2.15-2+b2");
        bash.arch = Some("amd64".into());
        bash.licenses = vec!["GPL-3+".into(), "BSD-like".into(), "GPL-3+".into()];
        bash.origin = Some(Origin {
            name: "bash".into(),
            version: None,
        });
        bash.locations = vec![
            Location {
                path: "/var/lib/dpkg/status".into(),
                layer: Some(layer),
            },
            Location {
                path: "/usr/share/doc/bash/copyright".into(),
                layer: Some(layer),
            },
        ];
        let mut serde = Package::new(Kind::RustCrate, "serde", "1.0.200");
        serde.licenses = vec!["MIT OR Apache-2.0".into(), "mit".into()];
        Catalog {
            subject: Subject::Image {
                name: "debian:12".into(),
                id: Digest::of(b"config"),
                manifest: Digest::of(b"manifest"),
                layers: vec![layer],
            },
            distro: Some(Distro {
                id: "debian".into(),
                version_id: Some("12".into()),
                ..Distro::default()
            }),
            packages: vec![serde, bash],
        }
    }

    fn package<'a>(document: &'a Value, name: &str) -> &'a Value {
        let packages = document["packages"].as_array().unwrap();
        packages.iter().find(|p| p["name"] == name).unwrap()
    }

    #[test]
    fn declared_licences_are_expressions_or_references() {
        let document = spdx_value(&catalog(), 0);
        let serde = package(&document, "serde");
        assert_eq!(serde["licenseDeclared"], "(MIT OR Apache-2.0) AND MIT");
        let bash = package(&document, "bash");
        let declared = bash["licenseDeclared"].as_str().unwrap();
        let refs: Vec<_> = declared.split(" AND ").collect();
        assert_eq!(refs.len(), 2, "{declared}");
        assert!(refs[0].starts_with("LicenseRef-GPL-3-"), "{declared}");
        assert_eq!(refs[1], "LicenseRef-BSD-like");
        let infos = document["hasExtractedLicensingInfos"].as_array().unwrap();
        let texts: BTreeMap<_, _> = infos
            .iter()
            .map(|i| {
                (
                    i["licenseId"].as_str().unwrap(),
                    i["extractedText"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(texts.get(refs[0]), Some(&"GPL-3+"));
        assert_eq!(texts.get("LicenseRef-BSD-like"), Some(&"BSD-like"));
    }

    #[test]
    fn subject_describes_and_contains_everything() {
        let document = spdx_value(&catalog(), 1_700_000_000);
        assert_eq!(document["creationInfo"]["created"], "2023-11-14T22:13:20Z");
        let root = package(&document, "debian:12");
        assert_eq!(root["SPDXID"], "SPDXRef-DocumentRoot-Image-debian-12");
        assert_eq!(root["versionInfo"], Digest::of(b"config").to_string());
        let relationships = document["relationships"].as_array().unwrap();
        assert_eq!(relationships[0]["relationshipType"], "DESCRIBES");
        let contained: Vec<_> = relationships[1..]
            .iter()
            .map(|r| r["relatedSpdxElement"].as_str().unwrap())
            .collect();
        let others: Vec<_> = document["packages"].as_array().unwrap()[1..]
            .iter()
            .map(|p| p["SPDXID"].as_str().unwrap())
            .collect();
        assert_eq!(contained, others);
        assert_eq!(others.len(), 3);
        let bash = package(&document, "bash");
        assert_eq!(bash["supplier"], "Organization: debian");
        assert!(
            bash["sourceInfo"]
                .as_str()
                .unwrap()
                .contains("/usr/share/doc/bash/copyright")
        );
        let layer = Digest::of(b"layer one").to_string();
        assert_eq!(
            bash["annotations"][0]["comment"],
            format!("layerID: {layer}")
        );
        assert_eq!(
            bash["externalRefs"][0]["referenceLocator"],
            "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12&upstream=bash"
        );
    }

    #[test]
    fn packages_are_sorted_whatever_the_input_order() {
        let mut reversed = catalog();
        reversed.packages.reverse();
        assert_eq!(spdx_json(&catalog(), 5), spdx_json(&reversed, 5));
        let document = spdx_value(&catalog(), 5);
        assert_eq!(document["packages"][2]["name"], "bash");
        assert_eq!(document["packages"][3]["name"], "serde");
    }

    #[test]
    fn references_never_share_an_id() {
        assert_eq!(reference("BSD-like"), "LicenseRef-BSD-like");
        assert_ne!(reference("GPL-2+"), reference("GPL-2 "));
        assert!(reference("GPL-2+").starts_with("LicenseRef-GPL-2-"));
        assert!(license::is_idstring(
            &reference("(c) ©")["LicenseRef-".len()..]
        ));
        assert!(license::is_idstring(&reference("©")["LicenseRef-".len()..]));
    }
}
