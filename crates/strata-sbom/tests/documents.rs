//! SPDX and CycloneDX documents of catalogues holding every kind of package,
//! checked with the reference validators (spdx-tools' pyspdxtools,
//! cyclonedx-python-lib's strict JSON validator) and read back.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use strata_oci::Digest;
use strata_sbom::format::{cyclonedx_json, spdx_json, spdx_value, table};
use strata_sbom::{Catalog, Distro, Kind, Location, Origin, Package, Subject};

const CREATED: i64 = 1_700_000_000;

fn at(path: &str, layer: Option<Digest>) -> Location {
    Location {
        path: path.into(),
        layer,
    }
}

fn package(kind: Kind, name: &str, version: &str, licenses: &[&str]) -> Package {
    let mut package = Package::new(kind, name, version);
    package.licenses = licenses.iter().map(|l| l.to_string()).collect();
    package
}

/// Every kind of package, licences valid and not, an image with two layers.
fn image_catalog() -> Catalog {
    let base = Digest::of(b"base layer");
    let app = Digest::of(b"app layer");
    let mut bash = package(Kind::Deb, "bash", "5.2.15-2+b2", &["GPL-3+", "BSD-like"]);
    bash.arch = Some("amd64".into());
    bash.origin = Some(Origin {
        name: "bash".into(),
        version: None,
    });
    bash.locations = vec![
        at("/var/lib/dpkg/status", Some(base)),
        at("/usr/share/doc/bash/copyright", Some(base)),
    ];
    let mut libc = package(
        Kind::Deb,
        "libc6",
        "2.36-9+deb12u4",
        &["GPL-2.0+", "LGPL-2.1"],
    );
    libc.arch = Some("amd64".into());
    libc.origin = Some(Origin {
        name: "glibc".into(),
        version: Some("2.36-9+deb12u4".into()),
    });
    libc.locations = vec![at("/var/lib/dpkg/status", Some(base))];
    let mut musl = package(Kind::Apk, "musl", "1.2.4-r2", &["mit"]);
    musl.arch = Some("x86_64".into());
    musl.locations = vec![at("/lib/apk/db/installed", Some(base))];
    let mut openssl = package(Kind::Rpm, "openssl-libs", "1:3.0.7-27.el9", &["ASL 2.0"]);
    openssl.arch = Some("x86_64".into());
    openssl.locations = vec![at("/var/lib/rpm/rpmdb.sqlite", Some(base))];
    let mut requests = package(Kind::Python, "requests", "2.31.0", &["Apache-2.0"]);
    requests.locations = vec![at(
        "/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
        Some(app),
    )];
    let mut babel = package(Kind::Npm, "@babel/core", "7.24.0", &["MIT OR Apache-2.0"]);
    babel.locations = vec![at("/app/node_modules/@babel/core/package.json", Some(app))];
    let mut cobra = package(Kind::GoModule, "github.com/spf13/cobra", "v1.8.0", &[]);
    cobra.locations = vec![at("/usr/local/bin/app", Some(app))];
    let mut stdlib = package(Kind::GoModule, "stdlib", "go1.22.1", &[]);
    stdlib.locations = vec![at("/usr/local/bin/app", Some(app))];
    let mut serde = package(
        Kind::RustCrate,
        "serde",
        "1.0.200",
        &["(MIT OR Apache-2.0) AND Apache-2.0 WITH LLVM-exception"],
    );
    serde.locations = vec![at("/usr/local/bin/tool", Some(app))];
    let mut guava = package(
        Kind::JavaArchive,
        "guava",
        "33.0.0-jre",
        &["LicenseRef-Guava-Terms", "Public domain; see COPYING"],
    );
    guava.namespace = Some("com.google.guava".into());
    guava.locations = vec![at(
        "/app/lib/app.jar:BOOT-INF/lib/guava-33.0.0-jre.jar",
        Some(app),
    )];
    Catalog {
        subject: Subject::Image {
            name: "example.com/app:1.0".into(),
            id: Digest::of(b"config"),
            manifest: Digest::of(b"manifest"),
            layers: vec![base, app],
        },
        distro: Some(Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            codename: Some("bookworm".into()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        }),
        packages: vec![
            bash, libc, musl, openssl, requests, babel, cobra, stdlib, serde, guava,
        ],
    }
}

/// A directory: no distribution, no layers.
fn directory_catalog() -> Catalog {
    let mut flask = package(Kind::Python, "flask", "3.0.2", &["BSD-3-Clause"]);
    flask.locations = vec![at("/venv/lib/flask-3.0.2.dist-info/METADATA", None)];
    let mut left_pad = package(Kind::Npm, "left-pad", "1.3.0", &["WTFPL"]);
    left_pad.locations = vec![
        at("/web/package-lock.json", None),
        at("/web/node_modules/left-pad/package.json", None),
    ];
    // No version, a name no SPDX id may hold, the same package found twice.
    let odd = package(Kind::Python, "naïve_π", "", &["BSD-3-Clause", "Apache 2.0"]);
    Catalog {
        subject: Subject::Directory {
            path: "/home/user/project".into(),
        },
        distro: None,
        packages: vec![flask, left_pad, odd.clone(), odd],
    }
}

/// Nothing found, at the root.
fn empty_catalog() -> Catalog {
    Catalog {
        subject: Subject::Directory { path: "/".into() },
        distro: None,
        packages: Vec::new(),
    }
}

/// What pyspdxtools says of `text` as an SPDX JSON document: None when valid.
fn spdx_problems(pyspdxtools: &Path, dir: &Path, text: &str) -> Option<String> {
    let file = dir.join("document.spdx.json");
    std::fs::write(&file, text).unwrap();
    let output = Command::new(pyspdxtools)
        .arg("-i")
        .arg(&file)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let valid = output.status.success() && !said.to_lowercase().contains("invalid");
    (!valid).then_some(said)
}

/// What cyclonedx-python-lib's strict 1.5 validator says of `text`: None when valid.
fn cyclonedx_problems(python: &Path, dir: &Path, text: &str) -> Option<String> {
    let file = dir.join("document.cdx.json");
    std::fs::write(&file, text).unwrap();
    let script = "import sys\n\
        from cyclonedx.schema import SchemaVersion\n\
        from cyclonedx.validation.json import JsonStrictValidator\n\
        error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\n\
        print('VALID' if error is None else error)\n";
    let output = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert!(
        output.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (said != "VALID").then_some(said)
}

fn purls(catalog: &Catalog) -> Vec<String> {
    let mut purls: Vec<_> = catalog
        .packages
        .iter()
        .map(|p| p.purl(catalog.distro.as_ref()))
        .collect();
    purls.sort();
    purls
}

#[test]
fn spdx_documents_are_valid() {
    let Some(pyspdxtools) = strata_test::test_tool("venv/bin/pyspdxtools") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for catalog in [image_catalog(), directory_catalog(), empty_catalog()] {
        let text = spdx_json(&catalog, CREATED);
        assert_eq!(
            spdx_problems(&pyspdxtools, dir.path(), &text),
            None,
            "{text}"
        );
    }
    // The validator does look at licences: the raw Debian spelling is refused.
    let mut document = spdx_value(&image_catalog(), CREATED);
    let packages = document["packages"].as_array_mut().unwrap();
    let bash = packages.iter_mut().find(|p| p["name"] == "bash").unwrap();
    bash["licenseDeclared"] = "GPL-3+".into();
    let said = spdx_problems(&pyspdxtools, dir.path(), &document.to_string());
    assert!(said.is_some_and(|s| s.contains("GPL-3+")));
}

#[test]
fn cyclonedx_documents_are_valid() {
    let Some(python) = strata_test::test_tool("venv/bin/python") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for catalog in [image_catalog(), directory_catalog(), empty_catalog()] {
        let text = cyclonedx_json(&catalog, CREATED);
        assert_eq!(
            cyclonedx_problems(&python, dir.path(), &text),
            None,
            "{text}"
        );
    }
    // The validator does check licence ids against the SPDX list.
    let mut document: Value =
        serde_json::from_str(&cyclonedx_json(&image_catalog(), CREATED)).unwrap();
    let components = document["components"].as_array_mut().unwrap();
    let musl = components.iter_mut().find(|c| c["name"] == "musl").unwrap();
    assert_eq!(musl["licenses"][0]["license"]["id"], "MIT");
    musl["licenses"][0]["license"]["id"] = "mit-ish".into();
    assert!(cyclonedx_problems(&python, dir.path(), &document.to_string()).is_some());
}

#[test]
fn spdx_reads_back() {
    let catalog = image_catalog();
    let document: Value = serde_json::from_str(&spdx_json(&catalog, CREATED)).unwrap();
    assert_eq!(document["spdxVersion"], "SPDX-2.3");
    assert_eq!(document["name"], "example.com/app:1.0");
    assert_eq!(document["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    let packages = document["packages"].as_array().unwrap();
    let by_purl: BTreeMap<_, _> = packages
        .iter()
        .filter_map(|p| Some((p["externalRefs"][0]["referenceLocator"].as_str()?, p)))
        .collect();
    assert_eq!(
        by_purl.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
        purls(&catalog)
    );
    for package in &catalog.packages {
        let entry = by_purl[package.purl(catalog.distro.as_ref()).as_str()];
        assert_eq!(entry["name"], package.name.as_str());
        assert_eq!(entry["versionInfo"], package.version.as_str());
        let source = entry["sourceInfo"].as_str().unwrap();
        for location in &package.locations {
            assert!(source.contains(&location.path), "{source}");
        }
        let layer = package.layer().unwrap().to_string();
        assert_eq!(
            entry["annotations"][0]["comment"],
            format!("layerID: {layer}")
        );
    }
    let declared = |name: &str| {
        let entry = packages.iter().find(|p| p["name"] == name).unwrap();
        entry["licenseDeclared"].as_str().unwrap().to_string()
    };
    assert_eq!(declared("musl"), "MIT");
    assert_eq!(declared("@babel/core"), "MIT OR Apache-2.0");
    assert_eq!(
        declared("serde"),
        "(MIT OR Apache-2.0) AND Apache-2.0 WITH LLVM-exception"
    );
    assert_eq!(declared("stdlib"), "NOASSERTION");
    assert_eq!(declared("libc6"), "GPL-2.0+ AND LGPL-2.1");
    // Texts that are not SPDX expressions are references to their own text.
    let extracted: BTreeMap<_, _> = document["hasExtractedLicensingInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["licenseId"].as_str().unwrap(),
                i["extractedText"].as_str().unwrap(),
            )
        })
        .collect();
    let guava = declared("guava");
    let texts: Vec<_> = guava.split(" AND ").map(|id| extracted[id]).collect();
    assert_eq!(
        texts,
        ["LicenseRef-Guava-Terms", "Public domain; see COPYING"]
    );
    let rpm = declared("openssl-libs");
    assert_eq!(extracted[rpm.as_str()], "ASL 2.0");
}

#[test]
fn cyclonedx_reads_back() {
    let catalog = image_catalog();
    let document: Value = serde_json::from_str(&cyclonedx_json(&catalog, CREATED)).unwrap();
    assert_eq!(document["specVersion"], "1.5");
    assert_eq!(document["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let subject = &document["metadata"]["component"];
    assert_eq!(subject["type"], "container");
    assert_eq!(subject["version"], Digest::of(b"config").to_string());
    let components = document["components"].as_array().unwrap();
    assert_eq!(components[0]["type"], "operating-system");
    assert_eq!(components[0]["name"], "debian");
    let by_purl: BTreeMap<_, _> = components
        .iter()
        .filter_map(|c| Some((c["purl"].as_str()?, c)))
        .collect();
    assert_eq!(
        by_purl.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
        purls(&catalog)
    );
    let refs: Vec<_> = components.iter().map(|c| &c["bom-ref"]).collect();
    let depends: Vec<_> = document["dependencies"][0]["dependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(depends, refs);
    assert_eq!(document["dependencies"][0]["ref"], subject["bom-ref"]);
    let licenses = |purl: &str| by_purl[purl]["licenses"].clone();
    assert_eq!(
        licenses("pkg:npm/%40babel/core@7.24.0"),
        serde_json::json!([{"expression": "MIT OR Apache-2.0"}])
    );
    assert_eq!(
        licenses("pkg:pypi/requests@2.31.0"),
        serde_json::json!([{"license": {"id": "Apache-2.0"}}])
    );
    assert_eq!(
        licenses("pkg:maven/com.google.guava/guava@33.0.0-jre"),
        serde_json::json!([
            {"license": {"name": "LicenseRef-Guava-Terms"}},
            {"license": {"name": "Public domain; see COPYING"}}
        ])
    );
    assert_eq!(
        by_purl["pkg:maven/com.google.guava/guava@33.0.0-jre"]["group"],
        "com.google.guava"
    );
    let properties: BTreeMap<_, _> = by_purl["pkg:cargo/serde@1.0.200"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert_eq!(properties["strata:package:type"], "rust-crate");
    assert_eq!(properties["strata:location:0:path"], "/usr/local/bin/tool");
    assert_eq!(
        properties["strata:location:0:layerID"],
        Digest::of(b"app layer").to_string()
    );
}

#[test]
fn documents_are_deterministic_and_identify_their_subject() {
    let catalog = image_catalog();
    assert_eq!(spdx_json(&catalog, CREATED), spdx_json(&catalog, CREATED));
    assert_eq!(
        cyclonedx_json(&catalog, CREATED),
        cyclonedx_json(&catalog, CREATED)
    );
    let mut shuffled = catalog.clone();
    shuffled.packages.rotate_left(3);
    assert_eq!(spdx_json(&catalog, CREATED), spdx_json(&shuffled, CREATED));
    assert_eq!(
        cyclonedx_json(&catalog, CREATED),
        cyclonedx_json(&shuffled, CREATED)
    );

    let mut other = catalog.clone();
    other.subject = Subject::Image {
        name: "example.com/app:1.0".into(),
        id: Digest::of(b"another config"),
        manifest: Digest::of(b"another manifest"),
        layers: Vec::new(),
    };
    let namespace = |c: &Catalog| spdx_value(c, CREATED)["documentNamespace"].clone();
    let serial = |c: &Catalog| {
        let document: Value = serde_json::from_str(&cyclonedx_json(c, CREATED)).unwrap();
        document["serialNumber"].clone()
    };
    assert_ne!(namespace(&catalog), namespace(&other));
    assert_ne!(serial(&catalog), serial(&other));
    assert_ne!(namespace(&catalog), namespace(&directory_catalog()));
    assert_ne!(serial(&catalog), serial(&directory_catalog()));
    // The time is not part of the identity: the content is.
    assert_eq!(
        namespace(&catalog),
        spdx_value(&catalog, 0)["documentNamespace"]
    );
    let namespace = namespace(&catalog);
    let namespace = namespace.as_str().unwrap();
    assert!(namespace.starts_with("https://"), "{namespace}");
    assert!(
        namespace.contains(&Digest::of(b"config").hex()),
        "{namespace}"
    );
}

#[test]
fn table_lists_every_package() {
    let catalog = image_catalog();
    let text = table(&catalog);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), catalog.packages.len() + 1);
    let type_column = lines[0].find("TYPE").unwrap();
    for (line, package) in lines[1..].iter().zip({
        let mut sorted = catalog.packages.clone();
        sorted.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        sorted
    }) {
        assert!(line.starts_with(&package.name), "{line}");
        assert_eq!(&line[type_column..], package.kind.name(), "{line}");
    }
}
