//! What a build is asked to do: `docker build`'s options, as data.

use std::collections::BTreeMap;
use std::path::PathBuf;

use strata_oci::Reference;

/// The network a RUN step gets unless it says otherwise (`--network`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NetworkMode {
    /// The host's network (`docker build`'s default).
    #[default]
    Host,
    /// No network at all.
    None,
}

/// Where a `--secret` comes from; read when a step needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// A file (`src=`).
    File(PathBuf),
    /// An environment variable of this process (`env=`); unset reads as
    /// empty, as in buildx.
    Env(String),
}

/// An SSH agent that `RUN --mount=type=ssh` steps reach (`--ssh`): each
/// connection to the step's socket is relayed to `socket`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshAgent {
    /// The agent's unix socket on the host.
    pub socket: PathBuf,
    /// Only listing identities, signing and unlocking pass; other requests
    /// (adding or removing keys, locking, extensions) fail as BuildKit's
    /// read-only agent makes them fail. True for a user's own agent.
    pub read_only: bool,
}

/// The privileges a build may use (`--allow`, BuildKit's entitlements);
/// a step that needs one it was not given fails before anything runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entitlements {
    /// `network.host`: `RUN --network=host` (given by `--network host` too).
    pub network_host: bool,
    /// `security.insecure`: `RUN --security=insecure`.
    pub security_insecure: bool,
}

/// One build: the Dockerfile, the context and `docker build`'s options.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The Dockerfile's name as shown in messages (`Dockerfile`, `-`).
    pub dockerfile_name: String,
    /// The Dockerfile's bytes.
    pub dockerfile: Vec<u8>,
    /// The context directory; `None` when there is no context (a Dockerfile
    /// on stdin): then COPY from the context fails.
    pub context: Option<PathBuf>,
    /// The Dockerfile's path on disk, when it has one: its
    /// `<name>.dockerignore` wins over the context's `.dockerignore`.
    pub dockerfile_path: Option<PathBuf>,
    /// What the Dockerfile frontend is asked for: `--build-arg` values (a
    /// bare `--build-arg K` already resolved from the environment by the
    /// caller) and `--target` (default: the last stage). Its target platform
    /// is left out: lowering sets it from `platform`, once resolved.
    pub frontend: strata_dockerfile::FrontendOptions,
    /// `--platform`, as given (one platform; the host's when absent).
    pub platform: Option<String>,
    /// `--no-cache`: run every step.
    pub no_cache: bool,
    /// `--no-cache-filter`: stages whose steps run regardless of the cache.
    pub no_cache_filter: Vec<String>,
    /// `--pull`: ask the registry for every base image, even when the store has it.
    pub pull: bool,
    /// `--network` for RUN steps.
    pub network: NetworkMode,
    /// `--add-host` entries for RUN steps' /etc/hosts: (host, address), in order.
    pub extra_hosts: Vec<(String, String)>,
    /// `--ulimit`s of RUN steps (the others keep the sandbox's defaults).
    pub ulimits: Vec<strata_sandbox::Ulimit>,
    /// `--shm-size` in bytes: RUN steps' /dev/shm (`None`: 64 MiB, BuildKit's).
    pub shm_size: Option<u64>,
    /// `--cgroup-parent`: part of RUN steps' keys, as in BuildKit; steps run
    /// in strata's own cgroup, so it places nothing.
    pub cgroup_parent: Option<String>,
    /// `--allow`: the entitlements RUN steps may use.
    pub allow: Entitlements,
    /// `--label` values added to the image.
    pub labels: BTreeMap<String, String>,
    /// `-t` names for the image.
    pub tags: Vec<Reference>,
    /// `SOURCE_DATE_EPOCH` (seconds): the image's times, and file times
    /// clamped to it in new layers.
    pub source_date_epoch: Option<i64>,
    /// Registries reached over plain http besides localhost.
    pub insecure_registries: Vec<String>,
    /// `--annotation`s (BuildKit's exporter annotations).
    pub annotations: crate::Annotations,
    /// `--attest type=provenance` / `--provenance`: `None` adds none
    /// (buildx's default `mode=min` on push is not added).
    pub provenance: Option<crate::ProvenanceOptions>,
    /// `--sbom=true` / `--attest type=sbom`: attach an SPDX document of
    /// the image, as BuildKit's SBOM attestation.
    pub sbom: bool,
    /// `--build-context`s by normalised name ([`crate::context_name`]).
    pub named_contexts: BTreeMap<String, crate::NamedContext>,
    /// `--ssh` agents by id, for `RUN --mount=type=ssh`; the keys stay in
    /// the agents (never in a layer, a key or the history).
    pub ssh: BTreeMap<String, SshAgent>,
    /// `--cache-from`s, tried in order: steps found in them are not run.
    pub cache_from: Vec<crate::CacheImport>,
    /// `--cache-to`s: where the build's step results go.
    pub cache_to: Vec<crate::CacheExport>,
    /// `--output`s; empty: the image in the store named by `tags` (docker
    /// build's default). `tags` name nothing unless an image output does.
    pub outputs: Vec<crate::Output>,
}

impl BuildOptions {
    /// The platform the build is for: `--platform`, else the host's.
    pub fn target_platform(&self) -> crate::Result<strata_oci::Platform> {
        match &self.platform {
            None => Ok(strata_oci::Platform::host()),
            Some(text) => text
                .parse::<strata_oci::Platform>()
                .map(strata_oci::Platform::normalized)
                .map_err(|e| crate::Error::Option {
                    flag: "--platform",
                    message: e.to_string(),
                }),
        }
    }

    /// Options for the Dockerfile `dockerfile` over `context`, everything else default.
    pub fn new(
        dockerfile_name: impl Into<String>,
        dockerfile: Vec<u8>,
        context: Option<PathBuf>,
    ) -> Self {
        Self {
            dockerfile_name: dockerfile_name.into(),
            dockerfile,
            context,
            dockerfile_path: None,
            frontend: strata_dockerfile::FrontendOptions::default(),
            platform: None,
            no_cache: false,
            no_cache_filter: Vec::new(),
            pull: false,
            network: NetworkMode::Host,
            extra_hosts: Vec::new(),
            ulimits: Vec::new(),
            shm_size: None,
            cgroup_parent: None,
            allow: Entitlements::default(),
            labels: BTreeMap::new(),
            tags: Vec::new(),
            source_date_epoch: None,
            insecure_registries: Vec::new(),
            annotations: crate::Annotations::default(),
            provenance: None,
            sbom: false,
            named_contexts: BTreeMap::new(),
            ssh: BTreeMap::new(),
            cache_from: Vec::new(),
            cache_to: Vec::new(),
            outputs: Vec::new(),
        }
    }
}
