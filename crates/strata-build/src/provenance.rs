//! SLSA provenance of a build (`--attest type=provenance`), in the shape
//! BuildKit v0.32 writes it (`solver/llbsolver/provenance.go`,
//! `provenance/types`): SLSA v1 by default, v0.2 with `version=v0.2`; the
//! request as buildx sends it to the Dockerfile frontend, base images as
//! materials (`pkg:docker/...@tag?platform=...` with their digests).
//!
//! What strata has no counterpart for is left out: the LLB definition
//! (`buildConfig`), layer maps and source locations of `mode=max`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use strata_oci::{Digest, Platform, Reference};

use crate::options::BuildOptions;

/// BuildKit's predicate type for SLSA v1.
pub(crate) const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
/// BuildKit's predicate type for SLSA v0.2.
pub(crate) const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
const BUILD_TYPE_V1: &str =
    "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md";
const BUILD_TYPE_V02: &str = "https://mobyproject.org/buildkit@v1";
/// The Dockerfile frontend version strata implements (`# syntax=` aside).
const DOCKERFILE_VERSION: &str = "1.26.0";
/// BuildKit's current compatibility version.
const COMPATIBILITY_VERSION: u32 = 30;

/// How much the provenance tells (`mode=`; BuildKit's default is max).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProvenanceMode {
    /// Build args and labels left out of the request.
    Min,
    /// Everything strata knows, the Dockerfile itself included.
    #[default]
    Max,
}

/// The SLSA predicate version (`version=`; BuildKit v0.32's default is v1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SlsaVersion {
    /// `https://slsa.dev/provenance/v1`.
    #[default]
    V1,
    /// `https://slsa.dev/provenance/v0.2`.
    V02,
}

/// `--attest type=provenance,...` as asked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProvenanceOptions {
    /// `mode=`.
    pub mode: ProvenanceMode,
    /// `version=`.
    pub version: SlsaVersion,
    /// `builder-id=` (empty by default, as BuildKit's).
    pub builder_id: String,
    /// `reproducible=true`.
    pub reproducible: bool,
}

/// A base image the build read: its reference and manifest digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Material {
    /// The full reference (`docker.io/library/busybox:latest`).
    pub reference: String,
    /// The digest it resolved to.
    pub digest: Digest,
}

/// When the build ran: RFC 3339 times (Go's `RFC3339Nano`), and its id.
#[derive(Clone, Debug)]
pub(crate) struct Invocation {
    /// The build's id (25 characters, as BuildKit's).
    pub id: String,
    /// Start.
    pub started_on: String,
    /// End of the solve (before export, as BuildKit's).
    pub finished_on: String,
}

/// A predicate ready for an in-toto statement.
#[derive(Clone, Debug)]
pub struct Predicate {
    /// Its `predicateType`.
    pub predicate_type: &'static str,
    /// Its JSON (compact, Go's escaping).
    pub json: Vec<u8>,
}

#[derive(Serialize, Default)]
struct ConfigSource {
    #[serde(skip_serializing_if = "String::is_empty")]
    path: String,
}

#[derive(Serialize)]
struct Local {
    name: &'static str,
}

#[derive(Serialize)]
struct RootRequest {
    #[serde(rename = "configSource")]
    config_source: ConfigSource,
    request: RootArgs,
}

#[derive(Serialize)]
struct RootArgs {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    args: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    frontend: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    args: BTreeMap<String, String>,
    locals: Vec<Local>,
    root: RootRequest,
    compatibility_version: u32,
}

#[derive(Serialize)]
struct ResolvedDependency {
    uri: String,
    digest: BTreeMap<String, String>,
}

#[derive(Serialize, Default)]
struct BuildKitMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
}

#[derive(Serialize)]
struct Source {
    infos: Vec<SourceInfo>,
}

#[derive(Serialize)]
struct SourceInfo {
    filename: String,
    language: &'static str,
    data: String,
}

/// What both SLSA versions say, in their own shapes.
struct Parts {
    request: Request,
    dependencies: Vec<ResolvedDependency>,
    metadata: BuildKitMetadata,
    builder_platform: String,
    complete_request: bool,
}

/// Builds the provenance predicate of a build.
pub(crate) fn predicate(
    options: &BuildOptions,
    provenance: &ProvenanceOptions,
    materials: &[Material],
    platform: &Platform,
    invocation: &Invocation,
) -> Predicate {
    let (request, complete_request) = request(options, provenance.mode);
    let dependencies = materials
        .iter()
        .map(|m| ResolvedDependency {
            uri: purl(&m.reference, Some(platform)),
            digest: [(m.digest.algorithm().to_owned(), m.digest.hex())].into(),
        })
        .collect::<Vec<_>>();
    let mut metadata = BuildKitMetadata::default();
    if provenance.mode == ProvenanceMode::Max {
        metadata.source = Some(Source {
            infos: vec![SourceInfo {
                filename: dockerfile_name(options),
                language: "Dockerfile",
                data: base64_encode(&options.dockerfile),
            }],
        });
    }
    let builder_platform = format!("{}/{}", platform.os, platform.architecture);
    let parts = Parts {
        request,
        dependencies,
        metadata,
        builder_platform,
        complete_request,
    };
    let json = match provenance.version {
        SlsaVersion::V1 => v1::document(provenance, parts, invocation),
        SlsaVersion::V02 => v02::document(provenance, parts, invocation),
    };
    Predicate {
        predicate_type: match provenance.version {
            SlsaVersion::V1 => SLSA_V1,
            SlsaVersion::V02 => SLSA_V02,
        },
        json,
    }
}

/// The provenance of the build `options` planned as `plan`, started at
/// `started`; `None` unless asked. With `SOURCE_DATE_EPOCH` both times are
/// the epoch and the id comes from the inputs, so the statement is
/// reproducible; otherwise the times are real and the id unique (BuildKit
/// always uses real times).
pub(crate) fn of_build(
    options: &BuildOptions,
    plan: &crate::plan::Plan,
    started: jiff::Timestamp,
) -> Option<Predicate> {
    let provenance = options.provenance.as_ref()?;
    let mut materials: Vec<Material> = Vec::new();
    for stage in &plan.stages {
        if let crate::plan::Base::Image(image) = &stage.base {
            let material = Material {
                reference: image.name.clone(),
                digest: image.manifest_digest,
            };
            if !materials.contains(&material) {
                materials.push(material);
            }
        }
    }
    let finished = jiff::Timestamp::now();
    let mut seed = options.dockerfile.clone();
    for (key, value) in &options.frontend.build_args {
        seed.extend_from_slice(format!("\0{key}={value}").as_bytes());
    }
    let (started_on, finished_on) = match options.source_date_epoch {
        Some(epoch) => {
            let time = crate::plan::format_time(epoch);
            seed.extend_from_slice(time.as_bytes());
            (time.clone(), time)
        }
        None => {
            seed.extend_from_slice(&started.as_nanosecond().to_le_bytes());
            (started.to_string(), finished.to_string())
        }
    };
    let invocation = Invocation {
        id: invocation_id(&seed),
        started_on,
        finished_on,
    };
    Some(predicate(
        options,
        provenance,
        &materials,
        &Platform::host(),
        &invocation,
    ))
}

/// 25 lower-case letters and digits from `seed`'s digest (BuildKit's ids
/// have this shape).
fn invocation_id(seed: &[u8]) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    Digest::of(seed)
        .as_bytes()
        .iter()
        .take(25)
        .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
        .collect()
}

/// The frontend request as buildx makes it (`build-arg:`, `label:`,
/// `target`, `no-cache`); `mode=min` drops build args and labels, and
/// then says the request is incomplete. Whether it is complete comes second.
fn request(options: &BuildOptions, mode: ProvenanceMode) -> (Request, bool) {
    let mut args = BTreeMap::new();
    for (key, value) in &options.frontend.build_args {
        args.insert(format!("build-arg:{key}"), value.clone());
    }
    for (key, value) in &options.labels {
        args.insert(format!("label:{key}"), value.clone());
    }
    let mut complete = true;
    if mode == ProvenanceMode::Min {
        let before = args.len();
        args.retain(|key, _| !key.starts_with("build-arg:") && !key.starts_with("label:"));
        complete = args.len() == before;
    }
    if let Some(target) = &options.frontend.target {
        args.insert("target".to_owned(), target.clone());
    }
    if options.no_cache {
        args.insert("no-cache".to_owned(), String::new());
    } else if !options.no_cache_filter.is_empty() {
        args.insert("no-cache".to_owned(), options.no_cache_filter.join(","));
    }
    let request = Request {
        frontend: "dockerfile.v0",
        args: args.clone(),
        locals: vec![Local { name: "context" }, Local { name: "dockerfile" }],
        root: RootRequest {
            config_source: ConfigSource {
                path: dockerfile_name(options),
            },
            request: RootArgs { args },
        },
        compatibility_version: COMPATIBILITY_VERSION,
    };
    (request, complete)
}

/// The Dockerfile's name as buildx sends it (`filename`: the base name;
/// one from stdin is written to a file named `Dockerfile`).
fn dockerfile_name(options: &BuildOptions) -> String {
    match Path::new(&options.dockerfile_name).file_name() {
        Some(name) if options.dockerfile_name != "-" => name.to_string_lossy().into_owned(),
        _ => "Dockerfile".to_owned(),
    }
}

mod v1 {
    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Document {
        build_definition: BuildDefinition,
        run_details: RunDetails,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct BuildDefinition {
        build_type: &'static str,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        resolved_dependencies: Vec<ResolvedDependency>,
        external_parameters: External,
        internal_parameters: Internal,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct External {
        config_source: ConfigSource,
        request: Request,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Internal {
        builder_platform: String,
        dockerfile_version: &'static str,
    }

    #[derive(Serialize)]
    struct RunDetails {
        builder: Builder,
        metadata: Metadata,
    }

    #[derive(Serialize)]
    pub(super) struct Builder {
        pub(super) id: String,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Metadata {
        invocation_id: String,
        started_on: String,
        finished_on: String,
        #[serde(rename = "buildkit_metadata")]
        buildkit_metadata: BuildKitMetadata,
        #[serde(rename = "buildkit_completeness")]
        buildkit_completeness: Completeness,
        #[serde(
            rename = "buildkit_reproducible",
            skip_serializing_if = "std::ops::Not::not"
        )]
        buildkit_reproducible: bool,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Completeness {
        request: bool,
        resolved_dependencies: bool,
    }

    pub(super) fn document(
        provenance: &ProvenanceOptions,
        parts: Parts,
        invocation: &Invocation,
    ) -> Vec<u8> {
        let Parts {
            request,
            dependencies,
            metadata,
            builder_platform,
            complete_request,
        } = parts;
        let document = Document {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE_V1,
                resolved_dependencies: dependencies,
                external_parameters: External {
                    config_source: ConfigSource {
                        path: request.root.config_source.path.clone(),
                    },
                    request,
                },
                internal_parameters: Internal {
                    builder_platform,
                    dockerfile_version: DOCKERFILE_VERSION,
                },
            },
            run_details: RunDetails {
                builder: Builder {
                    id: provenance.builder_id.clone(),
                },
                metadata: Metadata {
                    invocation_id: invocation.id.clone(),
                    started_on: invocation.started_on.clone(),
                    finished_on: invocation.finished_on.clone(),
                    buildkit_metadata: metadata,
                    // Local sources (the context) make materials incomplete.
                    buildkit_completeness: Completeness {
                        request: complete_request,
                        resolved_dependencies: false,
                    },
                    buildkit_reproducible: provenance.reproducible,
                },
            },
        };
        strata_oci::to_go_json(&document).unwrap_or_default()
    }
}

mod v02 {
    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Document {
        builder: v1::Builder,
        build_type: &'static str,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        materials: Vec<ResolvedDependency>,
        invocation: InvocationV02,
        metadata: Metadata,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct InvocationV02 {
        config_source: EntryPoint,
        parameters: Request,
        environment: Environment,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct EntryPoint {
        #[serde(skip_serializing_if = "String::is_empty")]
        entry_point: String,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Environment {
        dockerfile_version: &'static str,
        platform: String,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Metadata {
        #[serde(rename = "buildInvocationID")]
        build_invocation_id: String,
        build_started_on: String,
        build_finished_on: String,
        completeness: Completeness,
        reproducible: bool,
        #[serde(rename = "https://mobyproject.org/buildkit@v1#metadata")]
        buildkit_metadata: BuildKitMetadata,
    }

    #[derive(Serialize)]
    struct Completeness {
        parameters: bool,
        environment: bool,
        materials: bool,
    }

    pub(super) fn document(
        provenance: &ProvenanceOptions,
        parts: Parts,
        invocation: &Invocation,
    ) -> Vec<u8> {
        let Parts {
            request,
            dependencies,
            metadata,
            builder_platform,
            complete_request,
        } = parts;
        let document = Document {
            builder: v1::Builder {
                id: provenance.builder_id.clone(),
            },
            build_type: BUILD_TYPE_V02,
            materials: dependencies,
            invocation: InvocationV02 {
                config_source: EntryPoint {
                    entry_point: request.root.config_source.path.clone(),
                },
                parameters: request,
                environment: Environment {
                    dockerfile_version: DOCKERFILE_VERSION,
                    platform: builder_platform,
                },
            },
            metadata: Metadata {
                build_invocation_id: invocation.id.clone(),
                build_started_on: invocation.started_on.clone(),
                build_finished_on: invocation.finished_on.clone(),
                completeness: Completeness {
                    parameters: complete_request,
                    environment: true,
                    materials: false,
                },
                reproducible: provenance.reproducible,
                buildkit_metadata: metadata,
            },
        };
        strata_oci::to_go_json(&document).unwrap_or_default()
    }
}

/// A package URL for an image reference, as BuildKit's `purl.RefToPURL`
/// with type docker: the familiar name split into namespace and name, the
/// tag as version, a digest and the platform as qualifiers.
pub(crate) fn purl(reference: &str, platform: Option<&Platform>) -> String {
    let Ok(parsed) = Reference::parse(reference) else {
        return format!("pkg:docker/{}", escape(reference));
    };
    let familiar = parsed.familiar_name();
    let path = familiar
        .split('/')
        .map(escape)
        .collect::<Vec<_>>()
        .join("/");
    let mut text = format!("pkg:docker/{path}");
    let mut qualifiers = Vec::new();
    match parsed.digest() {
        Some(digest) => qualifiers.push(format!("digest={}", escape(&digest.to_string()))),
        None => {
            let tag = parsed.tag().unwrap_or(strata_oci::DEFAULT_TAG);
            text.push('@');
            text.push_str(&escape(tag));
        }
    }
    if let Some(platform) = platform {
        qualifiers.push(format!("platform={}", escape(&platform.to_string())));
    }
    if !qualifiers.is_empty() {
        text.push('?');
        text.push_str(&qualifiers.join("&"));
    }
    text
}

/// Go's `url.QueryEscape` without the `+` for spaces (packageurl-go's escape).
fn escape(text: &str) -> String {
    let mut escaped = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                escaped.push(byte as char)
            }
            _ => escaped.push_str(&format!("%{byte:02X}")),
        }
    }
    escaped
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_are_buildkits() {
        let amd64: Platform = "linux/amd64".parse().unwrap();
        assert_eq!(
            purl("127.0.0.1:5000/attest/base:1", Some(&amd64)),
            "pkg:docker/127.0.0.1%3A5000/attest/base@1?platform=linux%2Famd64"
        );
        assert_eq!(
            purl("docker.io/library/busybox:latest", Some(&amd64)),
            "pkg:docker/busybox@latest?platform=linux%2Famd64"
        );
        assert_eq!(
            purl("example.com/attest/app:1", None),
            "pkg:docker/example.com/attest/app@1"
        );
    }

    #[test]
    fn min_mode_drops_build_args_and_labels() {
        let mut options = BuildOptions::new("docker/app.Dockerfile", b"FROM x\n".to_vec(), None);
        options.frontend.build_args.insert("A".into(), "1".into());
        options.frontend.target = Some("base".into());
        let (request, complete) = request(&options, ProvenanceMode::Min);
        assert!(!complete);
        assert_eq!(request.args.keys().collect::<Vec<_>>(), ["target"]);
        assert_eq!(request.root.config_source.path, "app.Dockerfile");
        let (request, complete) = request_max(&options);
        assert!(complete);
        assert_eq!(
            request.args.keys().collect::<Vec<_>>(),
            ["build-arg:A", "target"]
        );
    }

    fn request_max(options: &BuildOptions) -> (Request, bool) {
        request(options, ProvenanceMode::Max)
    }
}
