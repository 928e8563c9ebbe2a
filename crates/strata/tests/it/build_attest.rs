//! `strata build --annotation`, `--attest type=provenance` and
//! `--provenance`: annotations on the manifest (and index), buildx's and
//! BuildKit's messages for bad values, and SLSA provenance in an OCI index
//! (archive, store, registry) whose statement has the shape BuildKit v0.32
//! writes (`build_attest/buildkit-v0.32-provenance-*.json`: BuildKit's own
//! output for the same Dockerfile and flags, compared after normalising
//! digests, times, ids and what only LLB has).

use std::io::Read;
use std::path::Path;

use serde_json::Value;
use strata_test::{Registry, needs_registry};

use crate::harness;
use crate::harness::Env;

const DOCKERFILE: &str = "FROM local/busybox:latest AS base\nARG GREETING=hi\nCOPY a.txt /a.txt\nRUN echo $GREETING > /b.txt\n";
const NAME: &str = "example.com/attest/app:1";
/// The flags BuildKit's expectations were made with (buildctl `--opt
/// filename=Dockerfile --opt target=base --opt build-arg:GREETING=yo --opt label:x=1`).
const FLAGS: [&str; 8] = [
    "-t",
    NAME,
    "--target",
    "base",
    "--build-arg",
    "GREETING=yo",
    "--label",
    "x=1",
];

struct Fixture {
    env: Env,
    context: tempfile::TempDir,
}

impl Fixture {
    fn new(test: &str) -> Option<Self> {
        let fixture = Self {
            env: Env::with_busybox(test)?,
            context: tempfile::tempdir().unwrap(),
        };
        std::fs::write(fixture.context.path().join("Dockerfile"), DOCKERFILE).unwrap();
        std::fs::write(fixture.context.path().join("a.txt"), "hello\n").unwrap();
        Some(fixture)
    }

    fn build(&self, args: &[&str]) -> std::process::Output {
        self.env
            .command()
            .args(["build", "--progress=plain"])
            .args(args)
            .arg(self.context.path())
            .output()
            .unwrap()
    }

    fn build_ok(&self, args: &[&str]) -> std::process::Output {
        let output = self.build(args);
        assert!(
            output.status.success(),
            "build {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn error(&self, args: &[&str]) -> String {
        let output = self.build(args);
        assert!(!output.status.success(), "build {args:?} succeeded");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// Builds an OCI archive with `args` and opens it.
    fn archive(&self, args: &[&str]) -> Layout {
        let path = self.env.directory.as_path().join("out.tar");
        let output = format!("type=oci,dest={}", path.display());
        let mut all = vec!["-o", output.as_str()];
        all.extend_from_slice(args);
        self.build_ok(&all);
        Layout::read(&path)
    }

    /// The manifest digest the store's `local/busybox:latest` names.
    fn base_digest(&self) -> String {
        let index: Value = read_json(&self.env.root().join("images/index.json"));
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["annotations"]["org.opencontainers.image.ref.name"]
                    == "docker.io/local/busybox:latest"
            })
            .map(|m| m["digest"].as_str().unwrap().to_owned())
            .unwrap()
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// An OCI layout tar's files.
struct Layout(std::collections::BTreeMap<String, Vec<u8>>);

impl Layout {
    fn read(path: &Path) -> Self {
        let mut files = std::collections::BTreeMap::new();
        let mut archive = tar::Archive::new(std::fs::File::open(path).unwrap());
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            files.insert(name, bytes);
        }
        Self(files)
    }

    fn json(&self, name: &str) -> Value {
        serde_json::from_slice(&self.0[name]).unwrap()
    }

    fn blob(&self, digest: &Value) -> Value {
        let hex = digest.as_str().unwrap().strip_prefix("sha256:").unwrap();
        self.json(&format!("blobs/sha256/{hex}"))
    }

    /// The root `index.json` lists.
    fn root(&self) -> Value {
        self.json("index.json")["manifests"][0].clone()
    }
}

/// The index, the image manifest's descriptor, the attestation manifest's
/// descriptor and the statement of an attested image.
fn attested(index: &Value, blob: impl Fn(&Value) -> Value) -> (Value, Value, Value) {
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 2, "{index:#}");
    let (image, attestation) = (&manifests[0], &manifests[1]);
    assert_eq!(image["platform"]["os"], "linux");
    assert_eq!(attestation["platform"]["os"], "unknown");
    assert_eq!(attestation["platform"]["architecture"], "unknown");
    assert_eq!(
        attestation["annotations"]["vnd.docker.reference.type"],
        "attestation-manifest"
    );
    assert_eq!(
        attestation["annotations"]["vnd.docker.reference.digest"],
        image["digest"]
    );
    let manifest = blob(&attestation["digest"]);
    assert_eq!(
        manifest["artifactType"],
        "application/vnd.docker.attestation.manifest.v1+json"
    );
    assert_eq!(manifest["subject"]["digest"], image["digest"]);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], "application/vnd.in-toto+json");
    let statement = blob(&layers[0]["digest"]);
    assert_eq!(
        layers[0]["annotations"]["in-toto.io/predicate-type"],
        statement["predicateType"]
    );
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"]
            .as_str()
            .unwrap(),
        image["digest"]
            .as_str()
            .unwrap()
            .strip_prefix("sha256:")
            .unwrap()
    );
    (image.clone(), manifest, statement)
}

/// BuildKit's statement and strata's with what varies (digests, times,
/// ids, the base's name, the frontend's version) or only LLB has
/// (`buildConfig`, layer maps, source locations) replaced or removed.
fn normalised(mut statement: Value) -> Value {
    statement["subject"][0]["digest"]["sha256"] = "<image>".into();
    let definition = &mut statement["predicate"]["buildDefinition"];
    for dependency in definition["resolvedDependencies"].as_array_mut().unwrap() {
        dependency["uri"] = "<base>".into();
        dependency["digest"]["sha256"] = "<base digest>".into();
    }
    let internal = definition["internalParameters"].as_object_mut().unwrap();
    internal.remove("buildConfig");
    internal.insert("dockerfileVersion".into(), "<version>".into());
    let metadata = &mut statement["predicate"]["runDetails"]["metadata"];
    for key in ["invocationId", "startedOn", "finishedOn"] {
        metadata[key] = format!("<{key}>").into();
    }
    let buildkit = metadata["buildkit_metadata"].as_object_mut().unwrap();
    buildkit.remove("layers");
    if let Some(source) = buildkit.get_mut("source").and_then(Value::as_object_mut) {
        source.remove("locations");
        for info in source["infos"].as_array_mut().unwrap() {
            let info = info.as_object_mut().unwrap();
            info.remove("llbDefinition");
            info.remove("digestMapping");
            info.insert("data".into(), "<dockerfile>".into());
        }
    }
    statement
}

fn buildkit_expectation(mode: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/build_attest/buildkit-v0.32-provenance-{mode}.json"
    ));
    read_json(&path)
}

#[test]
fn provenance_in_an_oci_archive_is_buildkits() {
    let Some(fixture) = Fixture::new("provenance_in_an_oci_archive_is_buildkits") else {
        return;
    };
    let base = fixture.base_digest();
    for mode in ["max", "min"] {
        let provenance = format!("--provenance=mode={mode}");
        let mut args = FLAGS.to_vec();
        args.push(&provenance);
        let layout = fixture.archive(&args);
        let root = layout.root();
        assert_eq!(root["mediaType"], "application/vnd.oci.image.index.v1+json");
        let index = layout.blob(&root["digest"]);
        let (image, _, statement) = attested(&index, |d| layout.blob(d));
        let materials = &statement["predicate"]["buildDefinition"]["resolvedDependencies"];
        assert_eq!(
            materials[0]["uri"],
            "pkg:docker/local/busybox@latest?platform=linux%2Famd64"
        );
        assert_eq!(
            format!(
                "sha256:{}",
                materials[0]["digest"]["sha256"].as_str().unwrap()
            ),
            base
        );
        assert_eq!(
            statement["subject"][0]["name"],
            "pkg:docker/example.com/attest/app@1?platform=linux%2Famd64"
        );
        assert!(layout.blob(&image["digest"])["layers"].is_array());
        let args =
            &statement["predicate"]["buildDefinition"]["externalParameters"]["request"]["args"];
        assert_eq!(args["target"], "base");
        assert_eq!(
            args.get("build-arg:GREETING").is_some(),
            mode == "max",
            "{args}"
        );
        assert_eq!(
            normalised(statement.clone()),
            normalised(buildkit_expectation(mode)),
            "mode={mode}"
        );
    }
    // skopeo reads the archive (the image for the host's platform).
    let path = fixture.env.directory.as_path().join("out.tar");
    let inspected = std::process::Command::new("skopeo")
        .arg("inspect")
        .arg(format!("oci-archive:{}", path.display()))
        .output();
    if let Ok(inspected) = inspected {
        assert!(inspected.status.success(), "{inspected:?}");
    }
}

#[test]
fn provenance_v02_and_source_date_epoch() {
    let Some(fixture) = Fixture::new("provenance_v02_and_source_date_epoch") else {
        return;
    };
    let args = [
        "-t",
        NAME,
        "--attest",
        "type=provenance,mode=max,version=v0.2,builder-id=https://example.com/ci",
        "--build-arg",
        "SOURCE_DATE_EPOCH=1700000000",
    ];
    let first = fixture.archive(&args);
    let statement = {
        let index = first.blob(&first.root()["digest"]);
        attested(&index, |d| first.blob(d)).2
    };
    assert_eq!(
        statement["predicateType"],
        "https://slsa.dev/provenance/v0.2"
    );
    let predicate = &statement["predicate"];
    assert_eq!(
        predicate["buildType"],
        "https://mobyproject.org/buildkit@v1"
    );
    assert_eq!(predicate["builder"]["id"], "https://example.com/ci");
    assert_eq!(
        predicate["invocation"]["configSource"]["entryPoint"],
        "Dockerfile"
    );
    assert_eq!(
        predicate["invocation"]["parameters"]["frontend"],
        "dockerfile.v0"
    );
    assert_eq!(
        predicate["metadata"]["buildStartedOn"],
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(
        predicate["metadata"]["buildFinishedOn"],
        "2023-11-14T22:13:20Z"
    );
    assert!(
        predicate["materials"][0]["uri"]
            .as_str()
            .unwrap()
            .starts_with("pkg:docker/local/busybox@latest")
    );
    // With SOURCE_DATE_EPOCH the whole index is reproducible.
    let second = fixture.archive(&args);
    assert_eq!(first.root()["digest"], second.root()["digest"]);
}

#[test]
fn provenance_in_the_store_and_pushed() {
    let Some(fixture) = Fixture::new("provenance_in_the_store_and_pushed") else {
        return;
    };
    // In the store: one image, which runs as its manifest says.
    fixture.build_ok(&["-t", "attested:1", "--provenance=true"]);
    let listed = fixture
        .env
        .ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(listed.matches("attested:1").count(), 1, "{listed}");
    let history = fixture.env.ok(&["history", "attested:1"]);
    assert!(history.contains("COPY a.txt /a.txt"), "{history}");
    let index: Value = read_json(&fixture.env.root().join("images/index.json"));
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"] == "docker.io/library/attested:1"
        })
        .unwrap()
        .clone();
    assert_eq!(
        entry["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );

    if !needs_registry("provenance_in_the_store_and_pushed") {
        return;
    }
    let registry = Registry::start();
    let name = format!("{}/attest/app:min", registry.host());
    let metadata_path = fixture.env.directory.as_path().join("metadata.json");
    fixture.build_ok(&[
        "-t",
        &name,
        "--push",
        "--provenance=mode=min",
        "--metadata-file",
        metadata_path.to_str().unwrap(),
    ]);
    let raw = |reference: &str| -> Value {
        harness::skopeo_raw(&["--tls-verify=false"], &format!("docker://{reference}"))
    };
    let index = raw(&name);
    let metadata = read_json(&metadata_path);
    let repository = name.rsplit_once(':').unwrap().0;
    // Manifests and blobs alike, from the registry's storage.
    let blob = |digest: &Value| {
        let digest: strata_oci::Digest = digest.as_str().unwrap().parse().unwrap();
        serde_json::from_slice::<Value>(&std::fs::read(registry.blob_data_path(&digest)).unwrap())
            .unwrap()
    };
    let (image, manifest, statement) = attested(&index, blob);
    // skopeo reads the attestation manifest by digest too.
    let attestation = raw(&format!(
        "{repository}@{}",
        index["manifests"][1]["digest"].as_str().unwrap()
    ));
    assert_eq!(attestation, manifest);
    let pushed_image = raw(&format!(
        "{repository}@{}",
        image["digest"].as_str().unwrap()
    ));
    assert_eq!(
        pushed_image["config"]["digest"],
        metadata["containerimage.config.digest"]
    );
    let request = &statement["predicate"]["buildDefinition"]["externalParameters"]["request"];
    assert!(request.get("args").is_none(), "{request}");
    assert_eq!(
        statement["predicate"]["runDetails"]["metadata"]["buildkit_completeness"]["request"],
        true
    );
    fixture.env.assert_consistent();
}

#[test]
fn provenance_false_and_docker_outputs() {
    let Some(fixture) = Fixture::new("provenance_false_and_docker_outputs") else {
        return;
    };
    // --provenance=false (after --attest) leaves the single manifest.
    let layout = fixture.archive(&[
        "-t",
        NAME,
        "--attest",
        "type=provenance",
        "--provenance=false",
    ]);
    assert_eq!(
        layout.root()["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let docker = fixture.env.directory.as_path().join("docker.tar");
    let output = format!("type=docker,dest={}", docker.display());
    assert!(
        fixture
            .error(&["-o", &output, "--provenance=true"])
            .contains("docker exporter does not support exporting manifest lists, use the oci exporter instead")
    );
    assert!(
        fixture
            .error(&["--load", "--provenance=mode=max"])
            .contains("docker exporter does not currently support exporting manifest lists")
    );
    assert!(
        fixture
            .error(&["--provenance=mode=mid"])
            .contains("invalid mode \"mid\"")
    );
}

#[test]
fn annotations_land_where_buildx_puts_them() {
    let Some(fixture) = Fixture::new("annotations_land_where_buildx_puts_them") else {
        return;
    };
    // Without an index: the manifest and its descriptor.
    let layout = fixture.archive(&[
        "-t",
        NAME,
        "--annotation",
        "org.opencontainers.image.title=app",
        "--annotation",
        "manifest-descriptor:d=1",
        "--annotation",
        "manifest[linux/arm64]:other=1",
    ]);
    let root = layout.root();
    assert_eq!(root["annotations"]["d"], "1");
    let manifest = layout.blob(&root["digest"]);
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        "app"
    );
    assert!(manifest["annotations"].get("other").is_none());

    // With provenance, an index: index annotations, and platform-qualified
    // manifest ones for the build's platform.
    let layout = fixture.archive(&[
        "-t",
        NAME,
        "--provenance=true",
        "--annotation",
        "index,manifest:both=yes",
        "--annotation",
        "manifest[linux/amd64]:amd=1",
        "--annotation",
        "index-descriptor:top=1",
    ]);
    let root = layout.root();
    assert_eq!(root["annotations"]["top"], "1");
    let index = layout.blob(&root["digest"]);
    assert_eq!(index["annotations"]["both"], "yes");
    let image = layout.blob(&index["manifests"][0]["digest"]);
    assert_eq!(image["annotations"]["both"], "yes");
    assert_eq!(image["annotations"]["amd"], "1");

    // BuildKit's and buildx's refusals.
    assert!(
        fixture
            .error(&["--annotation", "index:k=v"])
            .contains("index annotations not supported for single platform export")
    );
    let docker = fixture.env.directory.as_path().join("d.tar");
    let output = format!("type=docker,dest={}", docker.display());
    assert!(
        fixture
            .error(&["-o", &output, "--annotation", "manifest-descriptor:k=v"])
            .contains("cannot export annotations with \"oci-mediatypes=false\"")
    );
    for (value, message) in [
        (
            "novalue",
            "parse annotations: invalid annotation \"novalue\", expected key=value",
        ),
        (
            "bogus:k=v",
            "parse annotations: unknown annotation type \"bogus\"",
        ),
        (
            "manifest[linux:k=v",
            "parse annotations: invalid annotation type \"manifest[linux\", expected type and optional platform in square brackets",
        ),
    ] {
        let stderr = fixture.error(&["--annotation", value]);
        assert!(stderr.contains(message), "{value}: {stderr}");
    }
}
