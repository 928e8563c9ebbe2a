//! `strata sbom` and `strata build --sbom` on a real image: the Debian
//! minbase tree (debootstrap) with a package removed and reinstalled by the
//! real dpkg in later layers, wheels from PyPI, packages from the npm
//! registry (both fetched by scripts/install-test-deps) and Debian's own Go
//! binary. Each finding is checked against the tool that owns the metadata
//! (dpkg-query, the wheels' and tarballs' names, `go version`), and the
//! documents against the reference validators (spdx-tools,
//! cyclonedx-python-lib).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::harness;
use crate::harness::Env;

const IMAGE: &str = "example.com/sbom/app:1";
const KEYRING: &str = "debian-archive-keyring";
const DOCKERFILE: &str = r#"FROM local/debian
RUN dpkg --purge --force-depends debian-archive-keyring
RUN dpkg -i /var/cache/apt/archives/debian-archive-keyring_*.deb
COPY site-packages/ /usr/local/lib/python3.11/site-packages/
COPY node_modules/ /app/node_modules/
COPY registry /usr/local/bin/registry
"#;

struct Fixture {
    guide: Env,
    tree: PathBuf,
    context: PathBuf,
    packages: PathBuf,
}

static FIXTURE: OnceLock<Result<Fixture, String>> = OnceLock::new();

/// The store with the Debian base and the test image, made once per process.
fn fixture(test: &str) -> Option<&'static Fixture> {
    if !strata_test::should_run_as_root(test) {
        return None;
    }
    let packages = strata_test::test_tool("packages/done")?
        .parent()
        .unwrap()
        .to_path_buf();
    let fixture = FIXTURE.get_or_init(|| {
        let tree = strata_test::debian_rootfs()?;
        let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sbom");
        let guide = Env::at(&directory);
        guide.load_tree(&tree, "local/debian:latest");
        let context = guide.context("app", &[]);
        unpack_packages(&packages, &context);
        std::fs::copy(registry_program(), context.join("registry")).unwrap();
        guide.build_ok(&context, Some(DOCKERFILE), &["-t", IMAGE]);
        Ok(Fixture {
            guide,
            tree,
            context,
            packages,
        })
    });
    match fixture {
        Ok(fixture) => Some(fixture),
        Err(why) => panic!("{test}: {why}"),
    }
}

/// Wheels unzipped into `site-packages/`, npm tarballs into `node_modules/`.
fn unpack_packages(packages: &Path, context: &Path) {
    let site = context.join("site-packages");
    for wheel in std::fs::read_dir(packages.join("wheels")).unwrap() {
        run(Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(wheel.unwrap().path())
            .arg(&site));
    }
    for tarball in std::fs::read_dir(packages.join("npm")).unwrap() {
        let tarball = tarball.unwrap().path();
        let manifest = npm_manifest(&tarball);
        let name = serde_json::from_str::<Value>(&manifest).unwrap()["name"]
            .as_str()
            .unwrap()
            .to_owned();
        let target = context.join("node_modules").join(&name);
        std::fs::create_dir_all(&target).unwrap();
        run(Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("--strip-components=1")
            .arg("-C")
            .arg(&target));
    }
}

/// The package.json of an npm tarball (under `package/`, or `node/` for @types).
fn npm_manifest(tarball: &Path) -> String {
    let listing = run(Command::new("tar").arg("-tzf").arg(tarball));
    let top = listing
        .lines()
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    run(Command::new("tar")
        .arg("-xzOf")
        .arg(tarball)
        .arg(format!("{top}/package.json")))
}

/// Debian's docker-registry: a Go binary (tests install it for the registry).
fn registry_program() -> PathBuf {
    strata_test::find_program(strata_test::REGISTRY_PROGRAM)
        .expect("docker-registry (scripts/install-test-deps)")
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn catalog(fixture: &Fixture, target: &str) -> Value {
    serde_json::from_str(&fixture.guide.ok(&["sbom", target, "--format", "json"])).unwrap()
}

fn packages_of<'a>(catalog: &'a Value, kind: &str) -> Vec<&'a Value> {
    catalog["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == kind)
        .collect()
}

fn diff_ids(fixture: &Fixture, image: &str) -> Vec<String> {
    let inspected = fixture.guide.inspect(image);
    inspected["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect()
}

/// dpkg's own view of the tree: installed (name, version, arch, source).
fn dpkg_query(tree: &Path) -> BTreeSet<(String, String, String, String)> {
    let output = run(Command::new("dpkg-query")
        .arg(format!(
            "--admindir={}",
            tree.join("var/lib/dpkg").display()
        ))
        .args([
            "-W",
            "-f",
            "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\n",
        ]));
    output
        .lines()
        .filter(|line| line.starts_with("ii "))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (
                fields[1].to_owned(),
                fields[2].to_owned(),
                fields[3].to_owned(),
                fields[4].to_owned(),
            )
        })
        .collect()
}

#[test]
fn debian_packages_are_dpkgs_and_traced_to_the_layer_that_installed_them() {
    let Some(fixture) =
        fixture("debian_packages_are_dpkgs_and_traced_to_the_layer_that_installed_them")
    else {
        return;
    };
    let catalog = catalog(fixture, IMAGE);
    assert_eq!(catalog["distro"]["id"], "debian");
    assert_eq!(catalog["distro"]["version_id"], "12");
    let debs = packages_of(&catalog, "deb");
    let found: BTreeSet<_> = debs
        .iter()
        .map(|p| {
            let source = p["origin"]["name"]
                .as_str()
                .unwrap_or(p["name"].as_str().unwrap());
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
                p["arch"].as_str().unwrap().to_owned(),
                source.to_owned(),
            )
        })
        .collect();
    let expected = dpkg_query(&fixture.tree);
    assert!(expected.len() > 50, "{expected:?}");
    assert_eq!(found, expected);

    let layers = diff_ids(fixture, IMAGE);
    let layer_of = |name: &str| {
        let package = debs.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(package["locations"][0]["path"], "/var/lib/dpkg/status");
        package["locations"][0]["layer"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(layer_of("bash"), layers[0]);
    assert_eq!(
        layer_of(KEYRING),
        layers[2],
        "reinstalled by the third layer's dpkg -i"
    );

    // Licences from the DEP-5 copyright file, which the copyright file's location names.
    let bash = debs.iter().find(|p| p["name"] == "bash").unwrap();
    assert!(
        bash["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "GPL-3+"),
        "{bash}"
    );
    assert!(
        bash["locations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["path"] == "/usr/share/doc/bash/copyright")
    );
}

#[test]
fn language_packages_come_from_their_real_metadata() {
    let Some(fixture) = fixture("language_packages_come_from_their_real_metadata") else {
        return;
    };
    let catalog = catalog(fixture, IMAGE);
    let layers = diff_ids(fixture, IMAGE);
    let versions = |kind: &str| -> BTreeMap<String, (String, String)> {
        packages_of(&catalog, kind)
            .iter()
            .map(|p| {
                let layer = p["locations"][0]["layer"].as_str().unwrap_or("").to_owned();
                (
                    p["name"].as_str().unwrap().to_owned(),
                    (p["version"].as_str().unwrap().to_owned(), layer),
                )
            })
            .collect()
    };
    // Wheels' file names are NAME-VERSION-...; names as PEP 503 normalises them.
    let mut wheels = BTreeMap::new();
    for wheel in std::fs::read_dir(fixture.packages.join("wheels")).unwrap() {
        let file = wheel.unwrap().file_name().into_string().unwrap();
        let mut parts = file.split('-');
        let (name, version) = (parts.next().unwrap(), parts.next().unwrap());
        let name = name.to_lowercase().replace(['_', '.'], "-");
        wheels.insert(name, (version.to_owned(), layers[3].clone()));
    }
    assert_eq!(versions("python"), wheels);
    assert!(wheels.contains_key("flask-login") && wheels.contains_key("zope-interface"));

    // npm: every installed package.json (express's own dependencies are not
    // installed here, only the packed tarballs).
    let mut npm = BTreeMap::new();
    for tarball in std::fs::read_dir(fixture.packages.join("npm")).unwrap() {
        let manifest: Value =
            serde_json::from_str(&npm_manifest(&tarball.unwrap().path())).unwrap();
        npm.insert(
            manifest["name"].as_str().unwrap().to_owned(),
            (
                manifest["version"].as_str().unwrap().to_owned(),
                layers[4].clone(),
            ),
        );
    }
    assert_eq!(versions("npm"), npm);
    let express = packages_of(&catalog, "npm")
        .into_iter()
        .find(|p| p["name"] == "express")
        .unwrap();
    assert_eq!(express["licenses"], serde_json::json!(["MIT"]));

    // Go: the toolchain Debian built the registry with, as `go version` reads it.
    let go = packages_of(&catalog, "go-module");
    let stdlib = go
        .iter()
        .find(|p| p["name"] == "stdlib")
        .expect("stdlib from the Go binary");
    if let Some(go_tool) = strata_test::test_tool("venv/bin/go") {
        let reported = run(Command::new(go_tool).arg("version").arg(registry_program()));
        let version = reported.split_whitespace().nth(1).unwrap();
        assert_eq!(stdlib["version"], version);
    }
    assert_eq!(stdlib["locations"][0]["path"], "/usr/local/bin/registry");
    assert_eq!(stdlib["locations"][0]["layer"], layers[5].as_str());
}

#[test]
fn documents_pass_the_reference_validators() {
    let Some(fixture) = fixture("documents_pass_the_reference_validators") else {
        return;
    };
    let Some(python) = strata_test::test_tool("venv/bin/python") else {
        return;
    };
    let Some(pyspdxtools) = strata_test::test_tool("venv/bin/pyspdxtools") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let spdx = directory.path().join("app.spdx.json");
    let cyclonedx = directory.path().join("app.cdx.json");
    fixture.guide.ok(&[
        "sbom",
        IMAGE,
        "--format",
        "spdx-json",
        "-o",
        spdx.to_str().unwrap(),
    ]);
    fixture.guide.ok(&[
        "sbom",
        IMAGE,
        "--format",
        "cyclonedx-json",
        "-o",
        cyclonedx.to_str().unwrap(),
    ]);

    // pyspdxtools says nothing of a valid document, and lists what is invalid.
    let validated = Command::new(pyspdxtools)
        .arg("-i")
        .arg(&spdx)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&validated.stdout).into_owned()
        + &String::from_utf8_lossy(&validated.stderr);
    assert!(validated.status.success(), "pyspdxtools: {said}");
    assert!(
        !said.to_lowercase().contains("invalid") && !said.contains("ERROR"),
        "pyspdxtools: {said}"
    );

    let script = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\nerror = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\nprint(error or 'valid')\nsys.exit(1 if error else 0)\n";
    let validated = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&cyclonedx)
        .output()
        .unwrap();
    assert!(
        validated.status.success(),
        "cyclonedx: {}",
        String::from_utf8_lossy(&validated.stdout)
    );

    // Both documents list what the catalogue lists, by purl.
    let catalog = catalog(fixture, IMAGE);
    let count = catalog["packages"].as_array().unwrap().len();
    let spdx: Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    let purls: BTreeSet<&str> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["externalRefs"].as_array().into_iter().flatten())
        .filter(|r| r["referenceType"] == "purl")
        .map(|r| r["referenceLocator"].as_str().unwrap())
        .collect();
    assert_eq!(purls.len(), count);
    assert!(purls.contains("pkg:pypi/requests@2.32.3"), "{purls:?}");
    assert!(
        purls
            .iter()
            .any(|p| p.starts_with("pkg:deb/debian/bash@") && p.contains("distro=debian-12"))
    );
    let cyclonedx: Value = serde_json::from_slice(&std::fs::read(&cyclonedx).unwrap()).unwrap();
    let components = cyclonedx["components"].as_array().unwrap();
    assert!(components.iter().filter(|c| c["purl"].is_string()).count() == count);
}

#[test]
fn a_directory_is_catalogued_like_the_image_of_it() {
    let Some(fixture) = fixture("a_directory_is_catalogued_like_the_image_of_it") else {
        return;
    };
    let of_image = catalog(fixture, "local/debian");
    let of_tree = catalog(fixture, &format!("dir:{}", fixture.tree.display()));
    let strip = |catalog: &Value| -> Vec<(String, String, String)> {
        catalog["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["kind"].as_str().unwrap().into(),
                    p["name"].as_str().unwrap().into(),
                    p["version"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    assert!(!strip(&of_image).is_empty());
    assert_eq!(strip(&of_image), strip(&of_tree));
    assert!(of_tree["packages"][0]["locations"][0]["layer"].is_null());
    // A table names every package.
    let table = fixture.guide.ok(&["sbom", "local/debian"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("bash ") && l.contains("deb")),
        "{table}"
    );
}

#[test]
fn bad_targets_and_formats_are_named() {
    let Some(fixture) = fixture("bad_targets_and_formats_are_named") else {
        return;
    };
    let output = fixture
        .guide
        .strata()
        .args(["sbom", "nosuch/image"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("No such image: nosuch/image"), "{stderr}");
    let output = fixture
        .guide
        .strata()
        .args(["sbom", IMAGE, "--format", "xml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("--format \"xml\""),
        "{stderr}"
    );
    let output = fixture
        .guide
        .strata()
        .args(["sbom", "dir:/nonexistent/x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("/nonexistent/x: no such directory"),
        "{stderr}"
    );
}

#[test]
fn build_sbom_attaches_an_spdx_statement() {
    let Some(fixture) = fixture("build_sbom_attaches_an_spdx_statement") else {
        return;
    };
    let archive = fixture.guide.work().join("attested.tar");
    fixture.guide.build_ok(
        &fixture.context,
        None,
        &[
            "--sbom=true",
            "-t",
            "example.com/sbom/attested:1",
            "-o",
            &format!("type=oci,dest={}", archive.display()),
        ],
    );
    let layout = fixture.guide.work().join("attested");
    let _ = std::fs::remove_dir_all(&layout);
    std::fs::create_dir_all(&layout).unwrap();
    run(Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&layout));
    let blob = |digest: &str| -> Value {
        let path = layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let image_index = blob(index["manifests"][0]["digest"].as_str().unwrap());
    let manifests = image_index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 2, "{image_index}");
    let attestation = &manifests[1];
    assert_eq!(
        attestation["annotations"]["vnd.docker.reference.type"],
        "attestation-manifest"
    );
    assert_eq!(
        attestation["annotations"]["vnd.docker.reference.digest"],
        manifests[0]["digest"]
    );
    let attestation = blob(attestation["digest"].as_str().unwrap());
    let layer = &attestation["layers"][0];
    assert_eq!(layer["mediaType"], "application/vnd.in-toto+json");
    assert_eq!(
        layer["annotations"]["in-toto.io/predicate-type"],
        "https://spdx.dev/Document"
    );
    let statement = blob(layer["digest"].as_str().unwrap());
    assert_eq!(statement["predicateType"], "https://spdx.dev/Document");
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        manifests[0]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
    );
    let predicate = &statement["predicate"];
    assert_eq!(predicate["spdxVersion"], "SPDX-2.3");
    let names: BTreeSet<&str> = predicate["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains("bash") && names.contains("requests") && names.contains("express"),
        "{names:?}"
    );

    // Pushed: the registry holds the index with the attestation, as skopeo reads it.
    if !strata_test::needs_registry("build_sbom_attaches_an_spdx_statement") {
        return;
    }
    let registry = strata_test::Registry::start();
    let name = format!("{}/sbom/attested:1", registry.host());
    fixture.guide.build_ok(
        &fixture.context,
        None,
        &["--attest", "type=sbom", "-t", &name, "--push"],
    );
    let raw = |reference: &str| -> Value {
        harness::skopeo_raw(&["--tls-verify=false"], &format!("docker://{reference}"))
    };
    let index = raw(&name);
    let repository = name.rsplit_once(':').unwrap().0;
    let attestation = raw(&format!(
        "{repository}@{}",
        index["manifests"][1]["digest"].as_str().unwrap()
    ));
    assert_eq!(
        attestation["layers"][0]["annotations"]["in-toto.io/predicate-type"],
        "https://spdx.dev/Document"
    );
    // The store keeps the index under the name: inspect resolves it to the image.
    assert!(fixture.guide.inspect(&name)["Id"].is_string());
}

/// The OSV advisories of the scan tests (tests/scan/osv, one directory per ecosystem).
fn advisories() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scan/osv")
}

/// `(advisory, package)` pairs of grype-shaped JSON.
fn matches(report: &Value) -> BTreeSet<(String, String)> {
    report["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["vulnerability"]["id"].as_str().unwrap().to_owned(),
                m["artifact"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// What tests/scan/osv holds against the image: each ecosystem's order
/// decides (`2.32.3 < 2.32.4`, `4.19.2 < 4.20.0`, `go1.19.8 < 1.19.10`,
/// dpkg's `deb12u14 > deb12u11`); bash's binNMU `5.2.15-2+b13` is matched as
/// its source version `5.2.15-2`, which the fix equals; requests 2.32.3 is
/// past GHSA-9wx4's fix 2.32.0; a Debian:11-only advisory never applies.
fn expected_matches() -> BTreeSet<(String, String)> {
    [
        ("GHSA-9hjg-9r4m-mvj7", "requests"),
        ("GHSA-pq67-6m6q-mj2v", "urllib3"),
        ("GHSA-qw6h-vgh9-j6wx", "express"),
        ("GO-2023-1840", "stdlib"),
        ("DEBIAN-CVE-2010-4756", "libc6"),
        ("DEBIAN-CVE-2010-4756", "libc-bin"),
    ]
    .iter()
    .map(|(id, name)| (id.to_string(), name.to_string()))
    .collect()
}

#[test]
fn scan_matches_osv_advisories_in_each_ecosystems_order() {
    let Some(fixture) = fixture("scan_matches_osv_advisories_in_each_ecosystems_order") else {
        return;
    };
    let db = advisories();
    let db = db.to_str().unwrap();
    let report: Value = serde_json::from_str(
        &fixture
            .guide
            .ok(&["scan", IMAGE, "--db", db, "--format", "json"]),
    )
    .unwrap();
    assert_eq!(matches(&report), expected_matches());
    let layers = diff_ids(fixture, IMAGE);
    let find = |name: &str| {
        report["matches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["artifact"]["name"] == name)
            .unwrap()
            .clone()
    };
    let requests = find("requests");
    assert_eq!(requests["vulnerability"]["severity"], "Medium");
    assert_eq!(
        requests["vulnerability"]["fix"]["versions"],
        serde_json::json!(["2.32.4"])
    );
    assert_eq!(requests["vulnerability"]["fix"]["state"], "fixed");
    assert_eq!(requests["artifact"]["purl"], "pkg:pypi/requests@2.32.3");
    assert_eq!(
        requests["artifact"]["locations"][0]["layerID"],
        layers[3].as_str()
    );
    let libc = find("libc6");
    assert_eq!(libc["vulnerability"]["severity"], "Negligible");
    assert_eq!(libc["vulnerability"]["fix"]["state"], "not-fixed");
    assert_eq!(
        libc["matchDetails"][0]["type"], "exact-indirect-match",
        "through the source package glibc"
    );
    assert_eq!(
        find("stdlib")["vulnerability"]["fix"]["versions"],
        serde_json::json!(["1.19.10"])
    );

    let table = fixture.guide.ok(&["scan", IMAGE, "--db", db]);
    assert!(table.starts_with("PACKAGE"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("express") && l.contains("4.20.0") && l.contains("Low")),
        "{table}"
    );
    assert!(table.contains("6 vulnerabilities in 6 packages"), "{table}");

    let sarif: Value = serde_json::from_str(
        &fixture
            .guide
            .ok(&["scan", IMAGE, "--db", db, "--format", "sarif"]),
    )
    .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 6);

    // --fail-on: medium findings fail at medium, not at high.
    let status = |severity: &str| {
        fixture
            .guide
            .strata()
            .args(["scan", IMAGE, "--db", db, "--fail-on", severity])
            .output()
            .unwrap()
    };
    let failed = status("medium");
    assert_eq!(
        failed.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    assert!(String::from_utf8_lossy(&failed.stderr).contains("at or above Medium"));
    assert_eq!(status("high").status.code(), Some(0));
    let bad = status("severe");
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--fail-on"));

    // A directory is scanned as its image is (the Debian tree: glibc only).
    let tree = format!("dir:{}", fixture.tree.display());
    let report: Value = serde_json::from_str(
        &fixture
            .guide
            .ok(&["scan", &tree, "--db", db, "--format", "json"]),
    )
    .unwrap();
    let debian: BTreeSet<_> = expected_matches()
        .into_iter()
        .filter(|(id, _)| id.starts_with("DEBIAN"))
        .collect();
    assert_eq!(matches(&report), debian);
}

#[test]
fn scan_update_downloads_osv_archives_into_the_store() {
    let Some(fixture) = fixture("scan_update_downloads_osv_archives_into_the_store") else {
        return;
    };
    // OSV's bucket layout, ECOSYSTEM/all.zip, made from the test advisories.
    let served = tempfile::tempdir().unwrap();
    for ecosystem in std::fs::read_dir(advisories()).unwrap() {
        let ecosystem = ecosystem.unwrap().path();
        let target = served.path().join(ecosystem.file_name().unwrap());
        std::fs::create_dir_all(&target).unwrap();
        let script = "import sys, zipfile, pathlib\nwith zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:\n for p in sorted(pathlib.Path(sys.argv[1]).glob('*.json')): z.write(p, p.name)\n";
        run(Command::new("python3")
            .args(["-c", script])
            .arg(&ecosystem)
            .arg(target.join("all.zip")));
    }
    let server = strata_test::http::StaticServer::serve(served.path()).unwrap();

    // A store without a database says how to get one.
    let empty = Env::new();
    let tree = format!("dir:{}", fixture.tree.display());
    let output = empty.strata().args(["scan", &tree]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("strata scan --update"),
        "{stderr}"
    );

    let output = fixture
        .guide
        .strata()
        .env("STRATA_OSV_URL", server.url())
        .args(["scan", "--update", IMAGE, "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    for ecosystem in ["Debian", "PyPI", "npm", "Go"] {
        assert!(
            stderr.contains(&format!("Updated {ecosystem} advisories")),
            "{stderr}"
        );
    }
    assert_eq!(
        matches(&serde_json::from_slice(&output.stdout).unwrap()),
        expected_matches()
    );

    // Later scans use the store's copy, and say how old it is.
    drop(server);
    let output = fixture
        .guide
        .strata()
        .args(["scan", IMAGE, "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("vulnerability database Debian: updated 0 hours ago"),
        "{stderr}"
    );
    assert_eq!(
        matches(&serde_json::from_slice(&output.stdout).unwrap()),
        expected_matches()
    );

    // An unreachable mirror is an error naming the URL.
    let output = fixture
        .guide
        .strata()
        .env("STRATA_OSV_URL", "http://127.0.0.1:9")
        .args(["scan", "--update"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("http://127.0.0.1:9/"),
        "{stderr}"
    );
}
