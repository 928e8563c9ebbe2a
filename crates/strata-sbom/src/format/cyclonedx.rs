//! CycloneDX 1.5 JSON: the subject as the metadata's component, depending on
//! every package (and the operating system) listed as components.

use serde_json::{Value, json};

use super::license::{self, Expr};
use super::{TOOL, VERSION, content_digest, package_ids, rfc3339, sorted};
use crate::package::{Catalog, Distro, Kind, Package, Subject};

/// The catalogue as a CycloneDX 1.5 JSON document, indented; `created` is in Unix seconds.
pub fn cyclonedx_json(catalog: &Catalog, created: i64) -> String {
    serde_json::to_string_pretty(&cyclonedx_value(catalog, created)).unwrap_or_default()
}

fn cyclonedx_value(catalog: &Catalog, created: i64) -> Value {
    let catalog = sorted(catalog);
    let subject = subject_component(&catalog.subject);
    let mut components = Vec::new();
    if let Some(distro) = &catalog.distro {
        components.push(os_component(distro));
    }
    for (package, id) in catalog.packages.iter().zip(package_ids(&catalog)) {
        components.push(component(package, &id, catalog.distro.as_ref()));
    }
    let depends_on: Vec<_> = components.iter().map(|c| c["bom-ref"].clone()).collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial_number(&catalog),
        "version": 1,
        "metadata": {
            "timestamp": rfc3339(created),
            "tools": {
                "components": [{"type": "application", "name": TOOL, "version": VERSION}],
            },
            "component": subject,
        },
        "components": components,
        "dependencies": [{"ref": subject["bom-ref"], "dependsOn": depends_on}],
    })
}

/// `urn:uuid:` of the catalogue's digest: name-based, marked version 5 as
/// the schema allows only versions 1 to 5 (the hash is SHA-256, not SHA-1).
fn serial_number(catalog: &Catalog) -> String {
    let digest = content_digest(catalog);
    let mut bytes: [u8; 16] = [0; 16];
    bytes.copy_from_slice(&digest.as_bytes()[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn subject_component(subject: &Subject) -> Value {
    match subject {
        Subject::Image {
            name,
            id,
            manifest,
            layers,
        } => {
            let mut properties = vec![property("strata:image:manifest", &manifest.to_string())];
            for (i, layer) in layers.iter().enumerate() {
                properties.push(property(
                    &format!("strata:image:layer:{i}"),
                    &layer.to_string(),
                ));
            }
            json!({
                "bom-ref": id.to_string(),
                "type": "container",
                "name": name,
                "version": id.to_string(),
                "properties": properties,
            })
        }
        Subject::Directory { path } => json!({
            "bom-ref": format!("directory:{path}"),
            "type": "file",
            "name": path,
        }),
    }
}

fn os_component(distro: &Distro) -> Value {
    let version = distro.version_id.as_deref().unwrap_or("");
    let mut component = json!({
        "bom-ref": format!("os:{}@{version}", distro.id),
        "type": "operating-system",
        "name": distro.id,
    });
    if !version.is_empty() {
        component["version"] = json!(version);
    }
    if let Some(pretty) = &distro.pretty_name {
        component["description"] = json!(pretty);
    }
    component
}

fn component(package: &Package, id: &str, distro: Option<&Distro>) -> Value {
    let mut component = json!({
        "bom-ref": id,
        "type": "library",
        "name": package.name,
        "version": package.version,
        "purl": package.purl(distro),
        "properties": properties(package),
    });
    if let (Kind::JavaArchive, Some(group)) = (package.kind, &package.namespace) {
        component["group"] = json!(group);
    }
    let licenses = licenses(&package.licenses);
    if !licenses.is_empty() {
        component["licenses"] = json!(licenses);
    }
    component
}

fn properties(package: &Package) -> Vec<Value> {
    let mut properties = vec![property("strata:package:type", package.kind.name())];
    if let Some(arch) = &package.arch {
        properties.push(property("strata:package:arch", arch));
    }
    if let Some(origin) = &package.origin {
        properties.push(property("strata:package:sourceName", &origin.name));
        if let Some(version) = &origin.version {
            properties.push(property("strata:package:sourceVersion", version));
        }
    }
    for (i, location) in package.locations.iter().enumerate() {
        properties.push(property(
            &format!("strata:location:{i}:path"),
            &location.path,
        ));
        if let Some(layer) = &location.layer {
            let name = format!("strata:location:{i}:layerID");
            properties.push(property(&name, &layer.to_string()));
        }
    }
    properties
}

fn property(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// CycloneDX's licence choice: listed ids as `{license: {id}}`; expressions
/// as one `{expression}` (the schema allows no other entry beside it), all
/// declared licences joined by AND; when some are neither, each as it is
/// (`{license: {name}}` for those not listed).
fn licenses(declared: &[String]) -> Vec<Value> {
    // Each licence once, however it was spelt.
    let mut seen = std::collections::HashSet::new();
    let mut entries: Vec<(&str, Option<Expr>)> = Vec::new();
    for text in declared.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        let parsed = license::parse(text);
        let key = parsed.as_ref().map_or(text.to_string(), Expr::to_string);
        if seen.insert(key) {
            entries.push((text, parsed));
        }
    }
    let listed = |parsed: &Option<Expr>| {
        parsed
            .as_ref()
            .and_then(Expr::listed_id)
            .map(str::to_string)
    };
    if entries.iter().all(|(_, parsed)| listed(parsed).is_some()) {
        return entries
            .iter()
            .filter_map(|(_, parsed)| listed(parsed))
            .map(|id| json!({"license": {"id": id}}))
            .collect();
    }
    let expressions: Option<Vec<Expr>> = entries.iter().map(|(_, p)| p.clone()).collect();
    if let Some(expression) = expressions.and_then(Expr::all) {
        return vec![json!({"expression": expression.to_string()})];
    }
    entries
        .iter()
        .map(|(text, parsed)| match listed(parsed) {
            Some(id) => json!({"license": {"id": id}}),
            None => json!({"license": {"name": text}}),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Location;
    use strata_oci::Digest;

    fn strings(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn licence_choices() {
        assert_eq!(
            licenses(&strings(&["mit", "Apache-2.0", "MIT"])),
            [
                json!({"license": {"id": "MIT"}}),
                json!({"license": {"id": "Apache-2.0"}})
            ]
        );
        assert_eq!(
            licenses(&strings(&["MIT OR Apache-2.0", "Zlib"])),
            [json!({"expression": "(MIT OR Apache-2.0) AND Zlib"})]
        );
        assert_eq!(
            licenses(&strings(&["GPL-2+", "MIT", "MIT OR Zlib"])),
            [
                json!({"license": {"name": "GPL-2+"}}),
                json!({"license": {"id": "MIT"}}),
                json!({"license": {"name": "MIT OR Zlib"}})
            ]
        );
        assert_eq!(licenses(&strings(&[" "])), Vec::<Value>::new());
    }

    #[test]
    fn serial_is_an_rfc4122_uuid_that_follows_the_content() {
        let mut catalog = Catalog {
            subject: Subject::Directory {
                path: "/src".into(),
            },
            distro: None,
            packages: vec![Package::new(Kind::Python, "requests", "2.31.0")],
        };
        let first = serial_number(&catalog);
        assert_eq!(first.len(), "urn:uuid:".len() + 36);
        assert_eq!(&first[23..24], "5");
        assert!("89ab".contains(&first[28..29]), "{first}");
        catalog.packages[0].locations.push(Location {
            path: "/x".into(),
            layer: Some(Digest::of(b"l")),
        });
        assert_ne!(serial_number(&catalog), first);
    }

    #[test]
    fn maven_group_and_properties() {
        let mut jar = Package::new(Kind::JavaArchive, "guava", "33.0.0-jre");
        jar.namespace = Some("com.google.guava".into());
        jar.locations.push(Location {
            path: "/app/lib/guava.jar".into(),
            layer: Some(Digest::of(b"l")),
        });
        let value = component(&jar, "java-archive-guava-0", None);
        assert_eq!(value["group"], "com.google.guava");
        assert_eq!(value["purl"], "pkg:maven/com.google.guava/guava@33.0.0-jre");
        let properties = value["properties"].as_array().unwrap();
        assert_eq!(
            properties[0],
            property("strata:package:type", "java-archive")
        );
        assert_eq!(
            properties[1],
            property("strata:location:0:path", "/app/lib/guava.jar")
        );
        assert_eq!(
            properties[2],
            property("strata:location:0:layerID", &Digest::of(b"l").to_string())
        );
    }
}
