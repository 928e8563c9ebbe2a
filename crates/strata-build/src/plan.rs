//! Lowering: a parsed Dockerfile, the build options and the images it names,
//! turned into stages of file-system steps with cache keys, and the image
//! configuration and history each stage ends with.
//!
//! Keys are computed here, before anything runs: a step's key hashes its
//! parent's key and everything the step depends on (the command and the
//! environment it sees for RUN, the digests of exactly the selected files for
//! COPY), so Docker's top-down invalidation falls out of the chain. A no-op
//! rebuild is a plan whose every key is already in the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use strata_context::{Context, CopySource, Selection};
use strata_dockerfile::{
    self as dockerfile, ArgDefinition, Chmod, Command, CommandLine, Dockerfile, ErrorKind,
    Expander, GlobalScope, Lexer, Location, Span, StageScope, Stages,
};
use strata_oci::{Digest, ImageConfiguration};

use crate::error::{Error, Result};
use crate::history;
use crate::images::{Images, ResolvedImage};
use crate::options::{BuildOptions, NetworkMode};
use crate::remote::{self, Checksum, Downloads};

mod named;

use named::{FromSource, NamedBase};

/// Scans a named local context (its key, its directory) when first needed.
pub(crate) type NamedScan<'a> = dyn Fn(&str, &std::path::Path) -> Result<Arc<Context>> + 'a;

/// The version of the cache-key encoding; bump it when a key's meaning changes.
const KEY_VERSION: &str = "strata.cache.v1";

/// BuildKit's default PATH for Linux images.
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The history comment BuildKit's Dockerfile frontend writes.
pub(crate) const HISTORY_COMMENT: &str = "buildkit.dockerfile.v0";

/// A whole build, lowered.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The stages the target needs (and images `COPY --from` names), each
    /// after the stages it depends on.
    pub(crate) stages: Vec<StagePlan>,
    /// The stage whose image is the result.
    pub(crate) target: usize,
    /// Warnings for the user (unused build arguments, ...).
    pub(crate) warnings: Vec<String>,
}

/// Where a stage starts.
#[derive(Debug, Clone)]
pub(crate) enum Base {
    /// `FROM scratch`: nothing.
    Scratch,
    /// An image's layers.
    Image(Arc<ResolvedImage>),
    /// Another stage's result.
    Stage(usize),
}

/// One stage, lowered.
#[derive(Debug)]
pub(crate) struct StagePlan {
    /// The stage's name for messages (`build`, `stage-1`), or the image name
    /// for an image that only `COPY --from` uses.
    pub(crate) name: String,
    /// Whether `--no-cache` or `--no-cache-filter` forces its steps to run.
    pub(crate) no_cache: bool,
    /// Where it starts.
    pub(crate) base: Base,
    /// The `FROM` vertex name (`[1/6] FROM docker.io/library/x:1@sha256:…`),
    /// when the stage starts from an image.
    pub(crate) from_name: Option<String>,
    /// Its file-system steps, in order.
    pub(crate) steps: Vec<Step>,
    /// Its image configuration at the end, history included (new entries
    /// have no time yet: export gives them their layers' times).
    pub(crate) config: ImageConfiguration,
    /// How many history entries the base image brought (they keep their times).
    pub(crate) inherited_history: usize,
    /// Layers of its chain no history entry stands for (a named local
    /// context's): the exporter adds entries for as many at the end.
    pub(crate) unrecorded_layers: usize,
    /// Its key at the end: its last step's key, or its base's.
    pub(crate) key: Digest,
    /// The environment its steps saw at the end (ENV and ARG values): what a
    /// stage built on it starts with.
    pub(crate) environment: Vec<String>,
}

/// A file-system step: it makes a layer.
#[derive(Debug)]
pub(crate) struct Step {
    /// The vertex name (`[2/6] RUN make`).
    pub(crate) name: String,
    /// Where the instruction is.
    pub(crate) span: Span,
    /// What it does.
    pub(crate) operation: Operation,
    /// Its cache key.
    pub(crate) key: Digest,
    /// Where it is in the Dockerfile, for miss explanations (`build/3`).
    pub(crate) position: String,
    /// What its key covers, in order, for miss explanations; a COPY's
    /// context files stand in it as one [`CONTEXT_FILES`] entry (see
    /// [`Step::inputs`]).
    pub(crate) inputs: Vec<(String, String)>,
}

/// The input entry that stands for the files a COPY selects from the build
/// context; its value is the source's index in the operation. Listed only
/// when a miss is explained or a result recorded: a rebuild's plan does not
/// format a name and a digest for each of thousands of files.
pub(crate) const CONTEXT_FILES: &str = "context files";

impl Step {
    /// What its key covers, in order: `file <path>` and its digest for each
    /// file a COPY selects from `context`.
    pub(crate) fn inputs(&self, context: Option<&Context>) -> Vec<(String, String)> {
        let mut all = Vec::with_capacity(self.inputs.len());
        for (name, value) in &self.inputs {
            if name == CONTEXT_FILES
                && let Operation::Copy(copy) = &self.operation
                && let Some(CopyInput::Context { selection, named }) = value
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| copy.sources.get(i))
                && let Some(context) = named.as_deref().or(context)
            {
                for root in &selection.roots {
                    for selected in &root.entries {
                        let entry = &context.entries()[selected.index];
                        if entry.kind() == strata_context::EntryKind::Directory {
                            continue;
                        }
                        let digest = entry
                            .content_digest()
                            .or(entry.digest())
                            .map(|d| d.to_string())
                            .unwrap_or_default();
                        all.push((format!("file {}", entry.path().display()), digest));
                    }
                }
                continue;
            }
            all.push((name.clone(), value.clone()));
        }
        all
    }
}

/// What a step does.
#[derive(Debug)]
pub(crate) enum Operation {
    /// Runs a command (RUN).
    Run(RunOperation),
    /// Copies files in (COPY, ADD).
    Copy(CopyOperation),
    /// Creates a directory (WORKDIR).
    Mkdir {
        /// The absolute path.
        path: String,
        /// Its owner (the stage's USER at that point), `""` for root.
        user: String,
    },
}

/// A RUN step.
#[derive(Debug, Serialize)]
pub(crate) struct RunOperation {
    /// The process's arguments (the shell already prepended for shell form).
    pub(crate) args: Vec<String>,
    /// Its environment, `KEY=value`, in definition order.
    pub(crate) env: Vec<String>,
    /// Its working directory.
    pub(crate) working_dir: String,
    /// Its user, `""` for root.
    pub(crate) user: String,
    /// Whether it gets a network.
    pub(crate) network: bool,
    /// Heredoc files the step runs (`RUN <<EOF` with a shebang): name, content.
    pub(crate) scripts: Vec<(String, String)>,
    /// `--mount`s.
    pub(crate) mounts: Vec<RunMount>,
    /// `RUN --security=insecure`: all capabilities, no seccomp filter,
    /// kernel paths unmasked, BuildKit's extra devices.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) insecure: bool,
    /// `--add-host` entries: (host, address).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) extra_hosts: Vec<(String, String)>,
    /// `--ulimit`s.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) ulimits: Vec<strata_sandbox::Ulimit>,
    /// `--shm-size`: /dev/shm's size in bytes (a tmpfs mount in BuildKit's op).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) shm_size: Option<u64>,
    /// `--cgroup-parent` (in BuildKit's op metadata, so in the key; no effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cgroup_parent: Option<String>,
    /// The platform its programs are for, when not the host's (in
    /// BuildKit's op, so in the key: `FROM scratch` + `COPY` of a binary
    /// gives the same parent on every platform).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) platform: Option<String>,
    /// The proxy build args (`http_proxy`, ... given with --build-arg, declared
    /// or not), as BuildKit adds them to every RUN: upper and lower case,
    /// after `env`, outside the cache key and the history.
    #[serde(skip)]
    pub(crate) proxy_env: Vec<String>,
}

/// A `RUN --mount`.
#[derive(Debug, Serialize)]
pub(crate) struct RunMount {
    /// Where it appears in the step's file system.
    pub(crate) target: String,
    /// Whether the step may write to it.
    pub(crate) read_only: bool,
    /// What it is.
    pub(crate) kind: RunMountKind,
}

/// What a `RUN --mount` mounts.
#[derive(Debug, Serialize)]
pub(crate) enum RunMountKind {
    /// `type=cache`: a directory kept in the store between builds.
    Cache {
        /// The cache's id (default: the target).
        id: String,
        /// Owner and mode the directory is created with.
        uid: u32,
        /// Group.
        gid: u32,
        /// Mode.
        mode: u32,
    },
    /// `type=tmpfs`.
    Tmpfs {
        /// Size limit in bytes (0: none).
        size: i64,
    },
    /// `type=secret`: a `--secret`, as a file, an environment variable or
    /// both; its value is never part of a layer or a key.
    Secret {
        /// The secret's id.
        id: String,
        /// Whether a missing secret is an error.
        required: bool,
        /// Also (or only) the step's environment variable of this name.
        env: Option<String>,
        /// Mounted as a file at the target (false: `env=` without `target=`).
        #[serde(skip_serializing_if = "is_true")]
        file: bool,
    },
    /// `type=ssh`: a socket relayed to the `--ssh` agent of this id; which
    /// keys it holds is no part of the key.
    Ssh {
        /// The agent's id (`default` when none is given).
        id: String,
        /// Whether a missing agent is an error.
        required: bool,
        /// The socket's owner.
        uid: u32,
        /// Its group.
        gid: u32,
        /// Its mode (BuildKit's default 0600).
        mode: u32,
    },
    /// `type=bind` from the build context (or a named local one).
    Context {
        /// The path in the context.
        source: String,
        /// The digest of what it selects (part of the key).
        digest: Digest,
        /// The named context it reads (`None`: the build context).
        #[serde(skip)]
        named: Option<Arc<Context>>,
    },
    /// `type=bind` from another stage.
    Stage {
        /// The stage.
        #[serde(skip)]
        stage: usize,
        /// Its key (part of this step's key).
        key: Digest,
        /// The path in it.
        source: String,
    },
}

/// A COPY or ADD step.
#[derive(Debug)]
pub(crate) struct CopyOperation {
    /// What is copied, in order.
    pub(crate) sources: Vec<CopyInput>,
    /// The destination: absolute, cleaned, with a trailing `/` when the
    /// user wrote one (then it is a directory).
    pub(crate) destination: String,
    /// `--chown`, as written.
    pub(crate) chown: Option<String>,
    /// `--chmod`.
    pub(crate) chmod: Option<Chmod>,
    /// ADD: unpack local tar archives.
    pub(crate) unpack: bool,
    /// `--link` (without `--chmod`, as BuildKit): copied into an empty
    /// directory whose layer is put on top of the parent, which it never reads.
    pub(crate) link: bool,
}

/// One thing a COPY/ADD copies.
#[derive(Debug)]
pub(crate) enum CopyInput {
    /// Files from the build context, or a named local context.
    Context {
        /// What it selects.
        selection: Selection,
        /// The named context it reads (`None`: the build context).
        named: Option<Arc<Context>>,
    },
    /// Files from another stage's (or image's) file system.
    Stage {
        /// The stage it comes from.
        stage: usize,
        /// The source path (wildcards allowed; the pivot with `--parents`).
        source: String,
        /// `--parents`: what below each match is copied, keeping its parents.
        include: Vec<String>,
        /// `--exclude`: patterns relative to each match.
        exclude: Vec<String>,
        /// `--parents` without wildcards: paths that must exist.
        required: Vec<String>,
    },
    /// An http(s) URL (ADD): downloaded when first needed.
    Remote {
        /// The URL.
        url: String,
        /// The file's name (BuildKit's rule, see [`remote::file_name`]).
        name: String,
        /// `--checksum`.
        checksum: Option<Checksum>,
        /// `--unpack=true`: extract it when it is an archive.
        unpack: bool,
        /// Where it is downloaded.
        downloads: Arc<Downloads>,
    },
    /// A heredoc: a file with this name and content.
    Inline {
        /// The file name.
        name: String,
        /// Its content.
        data: String,
    },
}

/// For `skip_serializing_if`: a field whose usual value is true.
fn is_true(value: &bool) -> bool {
    *value
}

/// Lowers `dockerfile` for `options`: the stages the target needs, with
/// their steps and keys.
pub(crate) fn lower(
    dockerfile: &Dockerfile,
    options: &BuildOptions,
    images: &Images,
    context: &dyn Fn() -> Result<Arc<Context>>,
    named_scan: &NamedScan<'_>,
    downloads: &Arc<Downloads>,
) -> Result<Plan> {
    let stages = Stages::parse(dockerfile).map_err(|e| located(e, options))?;
    if stages.stages.is_empty() {
        return Err(dockerfile_error(
            dockerfile,
            options,
            ErrorKind::Stage,
            "dockerfile contains no stages to build",
            Span { start: 0, end: 0 },
        ));
    }
    let target_index = match &options.frontend.target {
        None => stages.stages.len() - 1,
        Some(target) => match stages.find(&target.to_lowercase()) {
            Some(stage) => stage.index,
            None => {
                let names: Vec<&str> = stages.stages.iter().filter_map(|s| s.name()).collect();
                let message = strata_go::suggest::with_suggestion(
                    format!("target stage \"{target}\" could not be found"),
                    target,
                    &names,
                    true,
                );
                return Err(Error::Option {
                    flag: "--target",
                    message,
                });
            }
        },
    };
    let target_name = stages.stages[target_index]
        .name()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("stage-{target_index}"));
    let frontend_options = dockerfile::BuildOptions {
        target_platform: Some(images.platform().clone()),
        ..options.frontend.clone()
    };
    let global = GlobalScope::new(
        &stages.meta_args,
        &frontend_options,
        &target_name,
        dockerfile.escape,
        &dockerfile.source,
    )
    .map_err(|e| located(e, options))?;

    let mut lowering = Lowering {
        dockerfile,
        options,
        images,
        context,
        named_scan,
        stages: &stages,
        global,
        frontend_options,
        plans: Vec::new(),
        by_stage: BTreeMap::new(),
        by_image: BTreeMap::new(),
        used_args: std::collections::BTreeSet::new(),
        single_stage: stages.stages.len() == 1,
        downloads: downloads.clone(),
    };
    let target = lowering.stage(target_index)?;
    let mut warnings = Vec::new();
    let unused: Vec<&String> = options
        .frontend
        .build_args
        .keys()
        .filter(|key| !lowering.used_args.contains(*key) && !is_predefined_arg(key))
        .collect();
    if !unused.is_empty() {
        let names: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
        warnings.push(format!(
            "one or more build-args [{}] were not consumed",
            names.join(" ")
        ));
    }
    let mut plans = lowering.plans;
    let labels = &options.labels;
    if !labels.is_empty() {
        let config = plans[target]
            .config
            .config
            .get_or_insert_with(Default::default);
        for (key, value) in labels {
            config.labels.insert(key.clone(), value.clone());
        }
    }
    Ok(Plan {
        stages: plans,
        target,
        warnings,
    })
}

/// Build arguments Docker never reports as unused.
fn is_predefined_arg(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "http_proxy" | "https_proxy" | "ftp_proxy" | "no_proxy" | "all_proxy"
    ) || key.starts_with("BUILDKIT_")
        || key == "SOURCE_DATE_EPOCH"
}

struct Lowering<'a> {
    dockerfile: &'a Dockerfile,
    options: &'a BuildOptions,
    images: &'a Images,
    context: &'a dyn Fn() -> Result<Arc<Context>>,
    named_scan: &'a NamedScan<'a>,
    stages: &'a Stages,
    global: GlobalScope,
    frontend_options: dockerfile::BuildOptions,
    plans: Vec<StagePlan>,
    /// Dockerfile stage index → plan index.
    by_stage: BTreeMap<usize, usize>,
    /// Image name → plan index (images `COPY --from` names, named contexts' stages).
    by_image: BTreeMap<String, usize>,
    used_args: std::collections::BTreeSet<String>,
    single_stage: bool,
    downloads: Arc<Downloads>,
}

/// The state of a stage while its instructions are dispatched.
struct State {
    config: ImageConfiguration,
    scope: StageScope,
    /// ARGs declared in this stage: name and the value given in the ARG
    /// (for RUN's history prefix).
    declared: Vec<ArgDefinition>,
    key: Digest,
    steps: Vec<Step>,
    cmd_set: bool,
    number: usize,
    total: usize,
    /// The last step's number, or `base`: how a miss names its parent.
    parent_label: String,
}

impl State {
    fn container(&mut self) -> &mut strata_oci::ContainerConfig {
        self.config.config.get_or_insert_with(Default::default)
    }

    fn working_dir(&self) -> String {
        self.config
            .config
            .as_ref()
            .map(|c| c.working_dir.clone())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".to_owned())
    }

    fn user(&self) -> String {
        self.config
            .config
            .as_ref()
            .map(|c| c.user.clone())
            .unwrap_or_default()
    }

    fn push_step(
        &mut self,
        name: String,
        location: Location,
        operation: Operation,
        key: Digest,
        inputs: Vec<(String, String)>,
        stage_name: &str,
    ) {
        let stage = if stage_name.is_empty() {
            "stage"
        } else {
            stage_name
        };
        self.steps.push(Step {
            name,
            span: location.span,
            operation,
            key,
            position: format!("{stage}/{}", self.number),
            inputs,
        });
        self.key = key;
        self.parent_label = self.number.to_string();
    }

    fn history(&mut self, created_by: String, layer: bool, epoch: Option<i64>) {
        self.config.history.push(strata_oci::History {
            created: epoch.map(format_time),
            created_by: Some(created_by),
            author: None,
            comment: Some(HISTORY_COMMENT.to_owned()),
            empty_layer: !layer,
        });
    }
}

impl Lowering<'_> {
    /// Lowers Dockerfile stage `index` (and what it needs) once; its plan index.
    fn stage(&mut self, index: usize) -> Result<usize> {
        if let Some(plan) = self.by_stage.get(&index) {
            return Ok(*plan);
        }
        let stage = &self.stages.stages[index];
        let escape = self.dockerfile.escape;
        let expanded = self
            .global
            .expand_from(&stage.from, escape)
            .map_err(|e| self.error_at(ErrorKind::Expansion, e.to_string(), stage.from.location))?;
        self.used_args
            .extend(expanded.image.matched.iter().cloned());
        let base_name = expanded.image.value.clone();
        if base_name.is_empty() {
            return Err(self.error_at(
                ErrorKind::Stage,
                format!("base name ({}) should not be blank", stage.from.image),
                stage.from.location,
            ));
        }
        // The stage's platform: its `FROM --platform` (a cross-compiling
        // stage on `$BUILDPLATFORM`), else the build's.
        let platform = match &expanded.platform {
            Some(platform) => {
                self.used_args.extend(platform.matched.iter().cloned());
                platform
                    .value
                    .parse::<strata_oci::Platform>()
                    .map(strata_oci::Platform::normalized)
                    .map_err(|e| {
                        self.error_at(
                            ErrorKind::Stage,
                            format!("failed to parse platform {}: {e}", platform.value),
                            stage.from.location,
                        )
                    })?
            }
            None => self.images.platform().clone(),
        };
        let lowered = base_name.to_lowercase();
        let earlier = self.stages.stages[..index]
            .iter()
            .find(|s| s.name() == Some(lowered.as_str()))
            .map(|s| s.index);
        let location = stage.from.location;
        // A stage named like a named context is that context, its
        // instructions ignored (BuildKit's dispatch skips it).
        let replaced = match stage.name() {
            Some(name) => self.named_base(name, location)?,
            None => None,
        };
        let is_replaced = replaced.is_some();
        // A base served by a named context: its FROM is not a numbered step.
        let mut named_from = None;
        let base = if let Some(earlier) = earlier.filter(|_| !is_replaced) {
            Base::Stage(self.stage(earlier)?)
        } else if lowered == "scratch" && !is_replaced {
            Base::Scratch
        } else {
            let found = match replaced {
                Some(found) => Some(found),
                None => self.named_base(&base_name, location)?,
            };
            match found {
                Some(NamedBase::Image { image, vertex }) => {
                    named_from = Some(Some(vertex));
                    Base::Image(image)
                }
                Some(NamedBase::Scratch) => {
                    named_from = Some(None);
                    Base::Scratch
                }
                Some(NamedBase::Local { key, context }) => {
                    named_from = Some(None);
                    Base::Stage(self.local_stage(&key, context, location)?)
                }
                None => Base::Image(
                    self.images
                        .resolve_for(&base_name, &platform)
                        .map_err(|e| with_span(e, location.span))?,
                ),
            }
        };
        let name = if self.single_stage {
            String::new()
        } else {
            stage
                .name()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("stage-{index}"))
        };
        let no_cache = self.options.no_cache
            || self.options.no_cache_filter.iter().any(|filter| {
                filter.to_lowercase() == name || stage.name() == Some(filter.as_str())
            });

        // The stage's configuration and environment start from its base.
        let (mut config, scope, base_key, inherited_history, triggers) = match &base {
            Base::Scratch => {
                let scope = StageScope::new(Vec::<String>::new());
                (
                    named::scratch_config(&platform),
                    scope,
                    key_of(&Digest::of(b""), &"scratch"),
                    0,
                    Vec::new(),
                )
            }
            Base::Image(image) => {
                let mut config = image.config.clone();
                config.created = None;
                config.build_cache = None;
                let triggers = config
                    .config
                    .as_mut()
                    .map(|c| std::mem::take(&mut c.on_build))
                    .unwrap_or_default();
                let env = config
                    .config
                    .as_ref()
                    .and_then(|c| c.env.clone())
                    .unwrap_or_default();
                let chain: Vec<String> = image.layers.iter().map(|(_, d)| d.to_string()).collect();
                let key = key_of(&Digest::of(b""), &("image", chain));
                let inherited = config.history.len();
                (config, StageScope::new(env), key, inherited, triggers)
            }
            Base::Stage(plan) => {
                let base = &self.plans[*plan];
                let mut config = base.config.clone();
                let triggers = config
                    .config
                    .as_mut()
                    .map(|c| std::mem::take(&mut c.on_build))
                    .unwrap_or_default();
                let env = config
                    .config
                    .as_ref()
                    .and_then(|c| c.env.clone())
                    .unwrap_or_default();
                let scope_env = if base.environment.is_empty() {
                    env
                } else {
                    base.environment.clone()
                };
                (
                    config,
                    StageScope::new(scope_env),
                    base.key,
                    base.inherited_history,
                    triggers,
                )
            }
        };
        // PATH is always set.
        {
            let container = config.config.get_or_insert_with(Default::default);
            let env = container.env.get_or_insert_with(Vec::new);
            if !env.iter().any(|e| e.split('=').next() == Some("PATH")) {
                env.push(format!("PATH={DEFAULT_PATH}"));
            }
        }
        let mut scope = scope;
        if let Some(env) = config.config.as_ref().and_then(|c| c.env.as_ref()) {
            for entry in env {
                let (key, value) = entry.split_once('=').unwrap_or((entry.as_str(), ""));
                scope.set_env(key, value);
            }
        }

        // ONBUILD triggers run first.
        let mut commands: Vec<(Command, Option<String>)> = Vec::new();
        for trigger in &triggers {
            let command = dockerfile::parse_trigger(trigger, stage.from.location)
                .map_err(|e| located(e, self.options))?;
            commands.push((command, Some(trigger.clone())));
        }
        if is_replaced {
            commands.clear();
        } else {
            commands.extend(stage.commands.iter().cloned().map(|c| (c, None)));
        }

        let from_counts = !matches!(base, Base::Stage(_) | Base::Scratch) || named_from.is_some();
        let total = usize::from(from_counts)
            + commands
                .iter()
                .filter(|(c, _)| {
                    matches!(
                        c,
                        Command::Add(_) | Command::Copy(_) | Command::Run(_) | Command::Workdir(_)
                    )
                })
                .count();
        let from_name = match &base {
            _ if named_from.is_some() => named_from.clone().flatten(),
            Base::Image(image) => Some(self.vertex_name(
                &name,
                1,
                total,
                &if image.name.contains('@') {
                    format!("FROM {}", image.name)
                } else {
                    format!("FROM {}@{}", image.name, image.manifest_digest)
                },
            )),
            _ => None,
        };
        let mut state = State {
            config,
            scope,
            declared: Vec::new(),
            key: base_key,
            steps: Vec::new(),
            cmd_set: false,
            number: usize::from(from_counts && named_from.is_none()),
            total,
            parent_label: "base".to_owned(),
        };
        for (command, trigger) in &commands {
            self.dispatch(&mut state, command, trigger.as_deref(), &name)?;
        }
        let unrecorded_layers = match base {
            Base::Stage(plan) => self.plans[plan].unrecorded_layers,
            _ => 0,
        };
        let plan = StagePlan {
            name,
            no_cache,
            base,
            from_name,
            unrecorded_layers,
            key: state.key,
            steps: state.steps,
            config: state.config,
            inherited_history,
            environment: state.scope.environment().to_pairs(),
        };
        let id = self.plans.len();
        self.plans.push(plan);
        self.by_stage.insert(index, id);
        Ok(id)
    }
}

impl Lowering<'_> {
    /// Dispatches one instruction of a stage: updates its configuration and
    /// history, and adds a step when it changes the file system.
    fn dispatch(
        &mut self,
        state: &mut State,
        command: &Command,
        trigger: Option<&str>,
        stage_name: &str,
    ) -> Result<()> {
        let location = command.location();
        let escape = self.dockerfile.escape;
        let epoch = self.options.source_date_epoch;
        let environment = state.scope.environment().clone();
        let mut expander = Expander::new(escape, &environment);
        let expanded = match command {
            Command::Arg(_) | Command::Expose(_) => command.clone(),
            _ => command
                .expand(&mut expander)
                .map_err(|e| self.error_at(ErrorKind::Expansion, e.to_string(), location))?,
        };
        let text = match trigger {
            Some(trigger) => uppercase_command(trigger.trim()),
            None => self.instruction_text(command),
        };
        match expanded {
            Command::Env(env) => {
                let mut parts = Vec::new();
                for pair in &env.pairs {
                    state.scope.set_env(&pair.key, &pair.value);
                    add_env(
                        state.container().env.get_or_insert_with(Vec::new),
                        &pair.key,
                        &pair.value,
                    );
                    parts.push(format!("{}={}", pair.key, pair.value));
                }
                state.history(format!("ENV {}", parts.join(" ")), false, epoch);
            }
            Command::Label(label) => {
                let mut parts = Vec::new();
                for pair in &label.pairs {
                    state
                        .container()
                        .labels
                        .insert(pair.key.clone(), pair.value.clone());
                    parts.push(format!("{}={}", pair.key, pair.value));
                }
                state.history(format!("LABEL {}", parts.join(" ")), false, epoch);
            }
            Command::Maintainer(maintainer) => {
                state.config.author = Some(maintainer.name.clone());
                state.history(format!("MAINTAINER {}", maintainer.name), false, epoch);
            }
            Command::Arg(arg) => {
                // BuildKit records the value in effect: a build argument's,
                // else the expanded default, else the global one.
                let declared = state
                    .scope
                    .declare(&arg, &self.global, &self.frontend_options, escape)
                    .map_err(|e| self.error_at(ErrorKind::Expansion, e.to_string(), location))?;
                let mut commit = Vec::new();
                for definition in declared.definitions {
                    commit.push(match &definition.value {
                        Some(value) => format!("{}={value}", definition.key),
                        None => definition.key.clone(),
                    });
                    self.used_args.insert(definition.key.clone());
                    state.declared.push(definition);
                }
                state.history(format!("ARG {}", commit.join(" ")), false, epoch);
            }
            Command::Workdir(workdir) => {
                let path =
                    normalize_workdir(&state.working_dir(), &workdir.path).ok_or_else(|| {
                        self.error_at(ErrorKind::Arguments, "cannot normalize nothing", location)
                    })?;
                state.container().working_dir = path.clone();
                state.number += 1;
                if path == "/" {
                    state.history(format!("WORKDIR {path}"), false, epoch);
                } else {
                    let user = state.user();
                    let parent = state.key;
                    let key = key_of(&parent, &("mkdir", &path, &user));
                    let inputs = vec![
                        (
                            "parent".to_owned(),
                            format!("{} {parent}", state.parent_label),
                        ),
                        ("path".to_owned(), path.clone()),
                        ("user".to_owned(), user.clone()),
                    ];
                    let name = self.vertex_name(stage_name, state.number, state.total, &text);
                    state.push_step(
                        name,
                        location,
                        Operation::Mkdir {
                            path: path.clone(),
                            user,
                        },
                        key,
                        inputs,
                        stage_name,
                    );
                    state.history(format!("WORKDIR {path}"), true, epoch);
                }
            }
            Command::Run(run) => {
                state.number += 1;
                let run_operation = self.lower_run(state, &run, &environment, location)?;
                let declared: Vec<(String, String)> = state
                    .declared
                    .iter()
                    .map(|d| {
                        let value = dockerfile::Environment::get(&environment, &d.key)
                            .map(str::to_owned)
                            .or_else(|| d.value.clone())
                            .unwrap_or_default();
                        (d.key.clone(), value)
                    })
                    .collect();
                let created_by = format!(
                    "RUN {} # buildkit",
                    history::run_command(&run_operation.args, &declared)
                );
                let parent = state.key;
                let key = key_of(&parent, &("run", &run_operation));
                let declared_names: std::collections::BTreeSet<&str> =
                    state.declared.iter().map(|d| d.key.as_str()).collect();
                let mut inputs = vec![
                    (
                        "parent".to_owned(),
                        format!("{} {parent}", state.parent_label),
                    ),
                    (
                        "command".to_owned(),
                        serde_json::to_string(&run_operation.args).unwrap_or_default(),
                    ),
                ];
                for entry in &run_operation.env {
                    let (name, value) = entry.split_once('=').unwrap_or((entry.as_str(), ""));
                    let label = if declared_names.contains(name) {
                        "build arg"
                    } else {
                        "env"
                    };
                    inputs.push((format!("{label} {name}"), value.to_owned()));
                }
                inputs.push(("user".to_owned(), run_operation.user.clone()));
                inputs.push(("workdir".to_owned(), run_operation.working_dir.clone()));
                inputs.push(("network".to_owned(), run_operation.network.to_string()));
                if run_operation.insecure {
                    inputs.push(("security".to_owned(), "insecure".to_owned()));
                }
                for mount in &run_operation.mounts {
                    inputs.push((
                        format!("mount {}", mount.target),
                        serde_json::to_string(&mount.kind).unwrap_or_default(),
                    ));
                }
                let expanded_text =
                    display_text(&text, escape, &secrets_masked(&environment, &run_operation));
                let name = self.vertex_name(stage_name, state.number, state.total, &expanded_text);
                state.push_step(
                    name,
                    location,
                    Operation::Run(run_operation),
                    key,
                    inputs,
                    stage_name,
                );
                state.history(created_by, true, epoch);
            }
            Command::Copy(copy) => {
                state.number += 1;
                if let Err(message) = copy.check_from() {
                    return Err(self.error_at(ErrorKind::Flag, message, location));
                }
                let (from, named) = match &copy.from {
                    Some(from) => match self.copy_from_stage(from, location)? {
                        FromSource::Stage(stage) => (Some(stage), None),
                        FromSource::Context(context) => (None, Some(context)),
                    },
                    None => (None, None),
                };
                self.lower_copy(
                    state,
                    stage_name,
                    location,
                    &text,
                    &environment,
                    CopyRequest {
                        keyword: "COPY",
                        sources: &copy.sources,
                        contents: &copy.contents,
                        destination: &copy.destination,
                        chown: copy.chown.clone(),
                        chmod: copy.chmod.clone(),
                        link: copy.link,
                        exclude: &copy.exclude,
                        parents: copy.parents,
                        from,
                        named,
                        unpack: false,
                        remote_unpack: false,
                        checksum: None,
                    },
                )?;
            }
            Command::Add(add) => {
                state.number += 1;
                if let Some(url) = add.sources.iter().find(|s| remote::is_git(s)) {
                    return Err(self.error_at(
                        ErrorKind::Arguments,
                        format!(
                            "ADD of a git repository ({url}) is not supported yet: use RUN with git"
                        ),
                        location,
                    ));
                }
                let checksum = match &add.checksum {
                    None => None,
                    Some(text) => {
                        if add.sources.len() != 1 || !add.contents.is_empty() {
                            return Err(self.error_at(
                                ErrorKind::Flag,
                                "checksum can't be specified for multiple sources",
                                location,
                            ));
                        }
                        if !remote::is_url(&add.sources[0]) {
                            return Err(self.error_at(
                                ErrorKind::Flag,
                                "checksum requires HTTP(S) or Git sources",
                                location,
                            ));
                        }
                        Some(
                            Checksum::parse(text)
                                .map_err(|m| self.error_at(ErrorKind::Flag, m, location))?,
                        )
                    }
                };
                self.lower_copy(
                    state,
                    stage_name,
                    location,
                    &text,
                    &environment,
                    CopyRequest {
                        keyword: "ADD",
                        sources: &add.sources,
                        contents: &add.contents,
                        destination: &add.destination,
                        chown: add.chown.clone(),
                        chmod: add.chmod.clone(),
                        link: add.link,
                        exclude: &add.exclude,
                        parents: false,
                        from: None,
                        named: None,
                        unpack: add.unpack.unwrap_or(true),
                        remote_unpack: add.unpack == Some(true),
                        checksum,
                    },
                )?;
            }
            Command::Cmd(cmd) => {
                let args = with_shell(state, &cmd.command);
                let container = state.container();
                container.cmd = Some(args.clone());
                container.args_escaped = true;
                state.cmd_set = true;
                state.history(format!("CMD {}", history::quoted_list(&args)), false, epoch);
            }
            Command::Entrypoint(entrypoint) => {
                let args = match &entrypoint.command {
                    Some(command) => with_shell(state, command),
                    None => Vec::new(),
                };
                let cmd_set = state.cmd_set;
                let container = state.container();
                container.entrypoint = Some(args.clone());
                if !cmd_set {
                    container.cmd = None;
                }
                state.history(
                    format!("ENTRYPOINT {}", history::quoted_list(&args)),
                    false,
                    epoch,
                );
            }
            Command::Healthcheck(check) => {
                let healthcheck = strata_oci::Healthcheck {
                    test: check.test.clone(),
                    interval: check.interval,
                    timeout: check.timeout,
                    start_period: check.start_period,
                    start_interval: check.start_interval,
                    retries: i64::from(check.retries),
                };
                // Go's `%+v` of BuildKit's HealthcheckConfig.
                let created_by = format!(
                    "HEALTHCHECK {{Test:{} Interval:{} Timeout:{} StartPeriod:{} StartInterval:{} Retries:{}}}",
                    history::plain_list(&healthcheck.test),
                    history::go_duration(healthcheck.interval),
                    history::go_duration(healthcheck.timeout),
                    history::go_duration(healthcheck.start_period),
                    history::go_duration(healthcheck.start_interval),
                    healthcheck.retries,
                );
                state.container().healthcheck = Some(healthcheck);
                state.history(created_by, false, epoch);
            }
            Command::Expose(expose) => {
                let specs = expose
                    .expand_ports(&mut expander)
                    .map_err(|e| self.error_at(ErrorKind::Arguments, e.to_string(), location))?;
                let ports: Vec<String> = specs.into_iter().flat_map(|spec| spec.ports).collect();
                for port in &ports {
                    state
                        .container()
                        .exposed_ports
                        .insert(port.clone(), strata_oci::Empty {});
                }
                state.history(
                    format!("EXPOSE {}", history::plain_list(&ports)),
                    false,
                    epoch,
                );
            }
            Command::User(user) => {
                state.container().user = user.user.clone();
                state.history(format!("USER {}", user.user), false, epoch);
            }
            Command::Volume(volume) => {
                for path in &volume.paths {
                    if path.is_empty() {
                        return Err(self.error_at(
                            ErrorKind::Arguments,
                            "VOLUME specified can not be an empty string",
                            location,
                        ));
                    }
                    state
                        .container()
                        .volumes
                        .insert(path.clone(), strata_oci::Empty {});
                }
                state.history(
                    format!("VOLUME {}", history::plain_list(&volume.paths)),
                    false,
                    epoch,
                );
            }
            Command::StopSignal(signal) => {
                dockerfile::parse_signal(&signal.signal)
                    .map_err(|message| self.error_at(ErrorKind::Arguments, message, location))?;
                state.container().stop_signal = signal.signal.clone();
                state.history(format!("STOPSIGNAL {}", signal.signal), false, epoch);
            }
            Command::Shell(shell) => {
                state.container().shell = shell.shell.clone();
                state.history(
                    format!("SHELL {}", history::plain_list(&shell.shell)),
                    false,
                    epoch,
                );
            }
            Command::Onbuild(onbuild) => {
                state.container().on_build.push(onbuild.expression.clone());
            }
        }
        Ok(())
    }

    /// A RUN's process: arguments (heredocs resolved, shell prepended),
    /// environment, user, directory, network and mounts.
    fn lower_run(
        &mut self,
        state: &State,
        run: &dockerfile::Run,
        environment: &dockerfile::EnvironmentList,
        location: Location,
    ) -> Result<RunOperation> {
        // A foreign platform's RUN needs an emulator: say which and how.
        // The stage's programs are its base's, whatever the build asked.
        let config = &state.config;
        let platform =
            strata_oci::Platform::new(&config.os, &config.architecture, config.variant.as_deref());
        let foreign = match strata_sandbox::binfmt::runner(&platform) {
            Err(cannot) => {
                return Err(self.error_at(ErrorKind::Stage, cannot.to_string(), location));
            }
            Ok(strata_sandbox::binfmt::Runner::Native) => None,
            Ok(_) => Some(platform.to_string()),
        };
        let mut args = run.command.arguments.clone();
        let mut scripts = Vec::new();
        if !run.files.is_empty() {
            if args.len() != 1 || !run.command.prepend_shell {
                return Err(self.error_at(
                    ErrorKind::Syntax,
                    format!("parsing produced an invalid run command: {args:?}"),
                    location,
                ));
            }
            let single = dockerfile::parse_heredoc(&args[0]).ok().flatten();
            if single.is_some() {
                let file = &run.files[0];
                let data = if file.chomp {
                    dockerfile::chomp(&file.data)
                } else {
                    file.data.clone()
                };
                if data.starts_with("#!") {
                    scripts.push((file.name.clone(), data));
                    args = vec![format!("/dev/pipes/{}", file.name)];
                } else {
                    args = vec![data];
                }
            } else {
                let mut joined = args[0].clone();
                for file in &run.files {
                    joined.push('\n');
                    joined.push_str(&file.data);
                    joined.push_str(&file.name);
                }
                args = vec![joined];
            }
        }
        // Current BuildKit runs a shebang heredoc through the shell too.
        if run.command.prepend_shell {
            args = with_shell(
                state,
                &CommandLine {
                    arguments: args,
                    prepend_shell: true,
                },
            );
        }
        let network = match run.network {
            dockerfile::Network::None => false,
            dockerfile::Network::Host => true,
            _ => self.options.network == NetworkMode::Host,
        };
        self.check_entitlements(run)?;
        let mut expander = Expander::new(self.dockerfile.escape, environment);
        let mounts = run
            .mounts(&mut expander)
            .map_err(|e| self.error_at(ErrorKind::Flag, e.to_string(), location))?;
        let mut run_mounts = Vec::new();
        for mount in mounts {
            run_mounts.push(self.lower_mount(state, &mount, location)?);
        }
        let mut env = environment.to_pairs();
        ssh_defaults(&mut run_mounts, &mut env);
        Ok(RunOperation {
            args,
            env,
            working_dir: state.working_dir(),
            user: state.user(),
            network,
            scripts,
            mounts: run_mounts,
            insecure: run.security == dockerfile::Security::Insecure,
            extra_hosts: self.options.extra_hosts.clone(),
            ulimits: self.options.ulimits.clone(),
            shm_size: self.options.shm_size,
            cgroup_parent: self.options.cgroup_parent.clone(),
            platform: foreign,
            proxy_env: proxy_env(&self.options.frontend.build_args),
        })
    }

    /// BuildKit's entitlement check: `RUN --network=host` needs
    /// `network.host`, `RUN --security=insecure` needs `security.insecure`.
    fn check_entitlements(&self, run: &dockerfile::Run) -> Result<()> {
        let allow = self.options.allow;
        if run.network == dockerfile::Network::Host && !allow.network_host {
            return Err(Error::NotAllowed {
                entitlement: "network.host",
            });
        }
        if run.security == dockerfile::Security::Insecure && !allow.security_insecure {
            return Err(Error::NotAllowed {
                entitlement: "security.insecure",
            });
        }
        Ok(())
    }

    fn lower_mount(
        &mut self,
        state: &State,
        mount: &dockerfile::Mount,
        location: Location,
    ) -> Result<RunMount> {
        use dockerfile::MountType;
        let working_dir = state.working_dir();
        // BuildKit's secret id: the source, else the id, else the target's name.
        let secret_id = mount
            .source
            .clone()
            .or_else(|| mount.id.clone())
            .or_else(|| {
                let target = mount.target.as_deref()?;
                Some(target.rsplit('/').next().unwrap_or(target).to_owned())
            })
            .unwrap_or_default();
        let target = match &mount.target {
            Some(target) => absolute_in(&working_dir, target),
            None if mount.kind == MountType::Secret => {
                let name = secret_id.rsplit('/').next().unwrap_or(&secret_id);
                format!("/run/secrets/{name}")
            }
            // Numbered by `ssh_defaults` once the RUN's mounts are known.
            None if mount.kind == MountType::Ssh => String::new(),
            None => {
                return Err(self.error_at(ErrorKind::Flag, "mount target is required", location));
            }
        };
        let kind = match mount.kind {
            MountType::Cache => RunMountKind::Cache {
                id: mount.id.clone().unwrap_or_else(|| target.clone()),
                uid: mount.uid.unwrap_or(0),
                gid: mount.gid.unwrap_or(0),
                mode: mount.mode.unwrap_or(0o755),
            },
            MountType::Tmpfs => RunMountKind::Tmpfs {
                size: mount.size_limit,
            },
            MountType::Secret => RunMountKind::Secret {
                id: secret_id,
                required: mount.required,
                env: mount.env.clone(),
                file: mount.env.is_none() || mount.target.is_some(),
            },
            MountType::Bind => {
                let source = mount.source.clone().unwrap_or_else(|| "/".to_owned());
                let named = match &mount.from {
                    Some(from) => match self.copy_from_stage(from, location)? {
                        FromSource::Stage(stage) => {
                            return Ok(RunMount {
                                target,
                                read_only: mount.read_only,
                                kind: RunMountKind::Stage {
                                    stage,
                                    key: self.plans[stage].key,
                                    source,
                                },
                            });
                        }
                        FromSource::Context(context) => Some(context),
                    },
                    None => None,
                };
                let context = match &named {
                    Some(context) => context.clone(),
                    None => (self.context)()?,
                };
                let selection = context
                    .select(&CopySource::new(source.clone()))
                    .map_err(|e| self.error_at(ErrorKind::Flag, e.to_string(), location))?;
                RunMountKind::Context {
                    source,
                    digest: selection.digest,
                    named,
                }
            }
            MountType::Ssh if mount.source.is_some() => {
                return Err(self.error_at(
                    ErrorKind::Flag,
                    "ssh does not support source",
                    location,
                ));
            }
            MountType::Ssh => RunMountKind::Ssh {
                id: mount.id.clone().unwrap_or_else(|| "default".to_owned()),
                required: mount.required,
                uid: mount.uid.unwrap_or(0),
                gid: mount.gid.unwrap_or(0),
                mode: mount.mode.unwrap_or(0o600),
            },
        };
        Ok(RunMount {
            target,
            read_only: mount.read_only,
            kind,
        })
    }

    /// The stage, image or named context a `--from` names.
    fn copy_from_stage(&mut self, from: &str, location: Location) -> Result<FromSource> {
        let lowered = from.to_lowercase();
        let current = location_stage(self.stages, location);
        if let Ok(index) = from.parse::<usize>() {
            if index >= current {
                return Err(self.error_at(
                    ErrorKind::Stage,
                    format!(
                        "invalid stage index {index}: a stage can only copy from earlier stages"
                    ),
                    location,
                ));
            }
            return self.stage(index).map(FromSource::Stage);
        }
        if let Some(stage) = self
            .stages
            .stages
            .iter()
            .find(|s| s.name() == Some(lowered.as_str()))
        {
            if stage.index >= current {
                return Err(self.error_at(
                    ErrorKind::Stage,
                    format!("cannot copy from stage \"{from}\", it needs to be defined before the current stage"),
                    location,
                ));
            }
            return self.stage(stage.index).map(FromSource::Stage);
        }
        if let Some(named) = self.named_from(from, location)? {
            return Ok(named);
        }
        // An image.
        if let Some(plan) = self.by_image.get(from) {
            return Ok(FromSource::Stage(*plan));
        }
        let image = self
            .images
            .resolve(from)
            .map_err(|e| with_span(e, location.span))?;
        let from_name = format!("[internal] FROM {}@{}", image.name, image.manifest_digest);
        Ok(FromSource::Stage(self.image_stage(from, image, from_name)))
    }

    #[allow(clippy::too_many_arguments)]
    fn lower_copy(
        &mut self,
        state: &mut State,
        stage_name: &str,
        location: Location,
        text: &str,
        environment: &dockerfile::EnvironmentList,
        request: CopyRequest<'_>,
    ) -> Result<()> {
        let destination = normalize_destination(&state.working_dir(), request.destination);
        let chmod = match &request.chmod {
            Some(text) => {
                Some(Chmod::parse(text).map_err(|m| self.error_at(ErrorKind::Flag, m, location))?)
            }
            None => None,
        };
        // BuildKit links only without --chmod (it falls back to a plain copy).
        let link = request.link && request.chmod.is_none();
        if link
            && let Some(chown) = &request.chown
            && chown
                .split(':')
                .any(|part| !part.is_empty() && part != "root" && part.parse::<i64>().is_err())
        {
            return Err(self.error_at(
                ErrorKind::Flag,
                format!(
                    "--chown={chown} cannot be used with --link: a linked copy cannot read the stage's /etc/passwd or /etc/group, use numeric ids"
                ),
                location,
            ));
        }
        let parent = state.key;
        let mut inputs = Vec::new();
        if !link {
            inputs.push((
                "parent".to_owned(),
                format!("{} {parent}", state.parent_label),
            ));
        }
        inputs.extend([
            ("destination".to_owned(), destination.clone()),
            (
                "chown".to_owned(),
                request.chown.clone().unwrap_or_default(),
            ),
            (
                "chmod".to_owned(),
                request.chmod.clone().unwrap_or_default(),
            ),
        ]);
        let mut key_sources: Vec<serde_json::Value> = Vec::new();
        let mut sources = Vec::new();
        for source in request.sources {
            if request.from.is_none() && request.named.is_none() && remote::is_url(source) {
                if request.keyword != "ADD" {
                    return Err(self.error_at(
                        ErrorKind::Arguments,
                        "source can't be a URL for COPY",
                        location,
                    ));
                }
                let name = remote::file_name(source);
                let (content, modified) = match &request.checksum {
                    // Pinned: the key needs no download.
                    Some(checksum) => (checksum.text.clone(), None),
                    None => {
                        let downloaded =
                            self.downloads
                                .fetch(source, None)
                                .map_err(|e| Error::Copy {
                                    step: text.to_owned(),
                                    message: e.to_string(),
                                    span: location.span,
                                })?;
                        (downloaded.digest.clone(), Some(downloaded.modified))
                    }
                };
                inputs.push((format!("url {source}"), content.clone()));
                key_sources.push(serde_json::json!({
                    "remote": content,
                    "name": name,
                    "modified": modified,
                    "unpack": request.remote_unpack,
                }));
                sources.push(CopyInput::Remote {
                    url: source.clone(),
                    name,
                    checksum: request.checksum.clone(),
                    unpack: request.remote_unpack,
                    downloads: self.downloads.clone(),
                });
                continue;
            }
            match request.from {
                Some(stage) => {
                    let stage_key = self.plans[stage].key;
                    inputs.push((
                        format!("stage {}", self.plans[stage].name),
                        stage_key.to_string(),
                    ));
                    key_sources.push(
                        serde_json::json!({"stage": stage_key.to_string(), "source": source}),
                    );
                    // --exclude and --parents as for the context: patterns
                    // relative to each matched source, split at the pivot.
                    let selector = CopySource::dockerfile(source, request.exclude, request.parents);
                    sources.push(CopyInput::Stage {
                        stage,
                        source: selector.path,
                        include: selector.include,
                        exclude: selector.exclude,
                        required: selector.required,
                    });
                }
                None => {
                    let context = match &request.named {
                        Some(context) => context.clone(),
                        None => (self.context)()?,
                    };
                    let selection = context
                        .select(&CopySource::dockerfile(
                            source,
                            request.exclude,
                            request.parents,
                        ))
                        .map_err(|e| Error::Copy {
                            step: text.to_owned(),
                            message: copy_source_message(source, &e),
                            span: location.span,
                        })?;
                    inputs.push((CONTEXT_FILES.to_owned(), sources.len().to_string()));
                    key_sources.push(serde_json::json!({"context": source, "digest": selection.digest.to_string()}));
                    sources.push(CopyInput::Context {
                        selection,
                        named: request.named.clone(),
                    });
                }
            }
        }
        for content in request.contents {
            inputs.push((format!("heredoc {}", content.path), content.data.clone()));
            key_sources.push(serde_json::json!({"inline": content.path, "data": content.data}));
            sources.push(CopyInput::Inline {
                name: content.path.clone(),
                data: content.data.clone(),
            });
        }
        // A linked copy's layer does not depend on its parent: its key
        // starts from nothing, and the stage's chain goes on from both.
        let layer_parent = if link { Digest::of(b"link") } else { parent };
        let key = key_of(
            &layer_parent,
            &serde_json::json!({
                "op": request.keyword,
                "sources": key_sources,
                "destination": destination,
                "chown": request.chown,
                "chmod": request.chmod,
                "exclude": request.exclude,
                "parents": request.parents,
                "unpack": request.unpack,
            }),
        );
        let mut created_by = request.keyword.to_owned();
        if request.parents {
            created_by.push_str(" --parents");
        }
        for (flag, value) in [("chown", &request.chown), ("chmod", &request.chmod)] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                created_by.push_str(&format!(" --{flag}={value}"));
            }
        }
        for source in request.sources {
            created_by.push(' ');
            created_by.push_str(source);
        }
        for content in request.contents {
            created_by.push_str(&format!(" <<{}", content.path));
        }
        created_by.push(' ');
        created_by.push_str(request.destination);
        created_by.push_str(" # buildkit");
        let expanded_text = display_text(text, self.dockerfile.escape, environment);
        let name = self.vertex_name(stage_name, state.number, state.total, &expanded_text);
        let operation = Operation::Copy(CopyOperation {
            sources,
            destination,
            chown: request.chown,
            chmod,
            unpack: request.unpack,
            link,
        });
        state.push_step(name, location, operation, key, inputs, stage_name);
        if link {
            state.key = key_of(&parent, &("link", key));
        }
        state.history(created_by, true, self.options.source_date_epoch);
        Ok(())
    }

    /// The instruction's text as BuildKit shows it: the logical line,
    /// keyword upper-cased.
    fn instruction_text(&self, command: &Command) -> String {
        let location = command.location();
        let original = self
            .dockerfile
            .instructions
            .get(location.index)
            .map(|i| i.original.clone())
            .unwrap_or_default();
        uppercase_command(original.trim())
    }

    fn vertex_name(&self, stage_name: &str, number: usize, total: usize, text: &str) -> String {
        if stage_name.is_empty() {
            format!("[{number}/{total}] {text}")
        } else {
            format!("[{stage_name} {number}/{total}] {text}")
        }
    }

    fn error_at(&self, kind: ErrorKind, message: impl Into<String>, location: Location) -> Error {
        dockerfile_error(self.dockerfile, self.options, kind, message, location.span)
    }
}

/// What COPY and ADD share.
struct CopyRequest<'a> {
    keyword: &'static str,
    sources: &'a [String],
    contents: &'a [dockerfile::SourceContent],
    destination: &'a str,
    chown: Option<String>,
    chmod: Option<String>,
    link: bool,
    exclude: &'a [String],
    parents: bool,
    from: Option<usize>,
    /// `--from` a named local context: its files, as the build context's.
    named: Option<Arc<Context>>,
    unpack: bool,
    /// ADD of a URL unpacks only with `--unpack=true`.
    remote_unpack: bool,
    /// ADD `--checksum`.
    checksum: Option<Checksum>,
}

/// The Dockerfile stage an instruction at `location` belongs to.
fn location_stage(stages: &Stages, location: Location) -> usize {
    stages
        .stages
        .iter()
        .rev()
        .find(|s| s.from.location.span.start <= location.span.start)
        .map(|s| s.index)
        .unwrap_or(0)
}

/// BuildKit's message for a COPY source that cannot be read.
fn copy_source_message(source: &str, error: &strata_context::Error) -> String {
    match error {
        strata_context::Error::NotFound { path } => crate::copy::not_found_message(path),
        other => format!("{source}: {other}"),
    }
}

/// The key of a step: its parent's key and its definition, hashed.
pub(crate) fn key_of(parent: &Digest, definition: &impl Serialize) -> Digest {
    let mut bytes = Vec::with_capacity(256);
    bytes.extend_from_slice(KEY_VERSION.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(parent.as_bytes());
    bytes.push(0);
    // Serialising plain data cannot fail; an empty definition would still differ by parent.
    bytes.extend_from_slice(&serde_json::to_vec(definition).unwrap_or_default());
    Digest::of(&bytes)
}

/// BuildKit's image for `FROM scratch` (config filled by the caller).
fn empty_image(platform: &strata_oci::Platform) -> ImageConfiguration {
    ImageConfiguration {
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone(),
        rootfs: strata_oci::RootFs {
            kind: "layers".to_owned(),
            diff_ids: Vec::new(),
        },
        ..Default::default()
    }
}

/// RFC 3339 in UTC, as Go marshals a time (`2024-01-02T03:04:05Z`).
pub(crate) fn format_time(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// BuildKit's `proxyEnvFromBuildArgs` then `proxyEnvList`: each proxy build
/// arg (any case; the last in sorted order wins) as `UPPER=v` and `lower=v`.
fn proxy_env(build_args: &BTreeMap<String, String>) -> Vec<String> {
    const NAMES: [&str; 5] = [
        "http_proxy",
        "https_proxy",
        "ftp_proxy",
        "no_proxy",
        "all_proxy",
    ];
    let mut values: [Option<&str>; 5] = [None; 5];
    for (key, value) in build_args {
        if let Some(index) = NAMES.iter().position(|n| n.eq_ignore_ascii_case(key)) {
            values[index] = Some(value);
        }
    }
    let mut env = Vec::new();
    for (name, value) in NAMES.iter().zip(values) {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            env.push(format!("{}={value}", name.to_uppercase()));
            env.push(format!("{name}={value}"));
        }
    }
    env
}

/// Replaces `key`'s entry in place, or appends it.
fn add_env(env: &mut Vec<String>, key: &str, value: &str) {
    let entry = format!("{key}={value}");
    match env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
        Some(existing) => *existing = entry,
        None => env.push(entry),
    }
}

/// The arguments with the stage's SHELL (default `/bin/sh -c`) in front for shell form.
fn with_shell(state: &State, command: &CommandLine) -> Vec<String> {
    if !command.prepend_shell {
        return command.arguments.clone();
    }
    let shell = state
        .config
        .config
        .as_ref()
        .map(|c| c.shell.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| vec!["/bin/sh".to_owned(), "-c".to_owned()]);
    shell
        .into_iter()
        .chain(command.arguments.iter().cloned())
        .collect()
}

/// Upper-cases the first word (BuildKit's `uppercaseCmd`).
fn uppercase_command(text: &str) -> String {
    match text.split_once(char::is_whitespace) {
        Some((keyword, rest)) => format!("{} {rest}", keyword.to_uppercase()),
        None => text.to_uppercase(),
    }
}

/// The instruction text with set variables expanded, quotes and unset
/// variables kept (BuildKit's `processCmdEnv`).
fn display_text(text: &str, escape: char, environment: &dockerfile::EnvironmentList) -> String {
    let mut lexer = Lexer::new(escape);
    lexer.raw_quotes = true;
    lexer.skip_unset_env = true;
    lexer
        .expand_word(text, environment)
        .map(|e| e.value)
        .unwrap_or_else(|_| text.to_owned())
}

/// BuildKit's ExecOp defaults for SSH sockets: the n-th one without a
/// target at `/run/buildkit/ssh_agent.n`, and `SSH_AUTH_SOCK` (unless the
/// step has one) naming the first, even when its agent turns out missing.
fn ssh_defaults(mounts: &mut [RunMount], env: &mut Vec<String>) {
    let sockets = mounts
        .iter_mut()
        .filter(|mount| matches!(mount.kind, RunMountKind::Ssh { .. }));
    let mut first = None;
    for (index, mount) in sockets.enumerate() {
        if mount.target.is_empty() {
            mount.target = format!("/run/buildkit/ssh_agent.{index}");
        }
        first.get_or_insert_with(|| mount.target.clone());
    }
    let has_variable = env.iter().any(|pair| pair.starts_with("SSH_AUTH_SOCK="));
    if let Some(target) = first
        && !has_variable
    {
        env.push(format!("SSH_AUTH_SOCK={target}"));
    }
}

/// The environment a RUN's name is expanded in: its secrets' variables
/// shown as `****`, as BuildKit does to make clear they come from secrets.
fn secrets_masked(
    environment: &dockerfile::EnvironmentList,
    run: &RunOperation,
) -> dockerfile::EnvironmentList {
    let mut shown = environment.clone();
    for mount in &run.mounts {
        if let RunMountKind::Secret {
            env: Some(name), ..
        } = &mount.kind
        {
            shown.set(name, "****");
        }
    }
    shown
}

/// `path` made absolute against `directory` and cleaned.
fn absolute_in(directory: &str, path: &str) -> String {
    if path.starts_with('/') {
        strata_go::path::clean_str(path)
    } else {
        strata_go::path::clean_str(&format!("{directory}/{path}"))
    }
}

/// BuildKit's `NormalizeWorkdir`; `None` for an empty path.
fn normalize_workdir(current: &str, requested: &str) -> Option<String> {
    if requested.is_empty() {
        return None;
    }
    Some(absolute_in(current, requested))
}

/// A COPY destination as BuildKit makes it: absolute, cleaned, and ending in
/// `/` (a directory) when the user's text ended in `/` or `/.` (or was `.`).
fn normalize_destination(working_dir: &str, destination: &str) -> String {
    let destination = if destination.is_empty() || destination == "." {
        "./"
    } else {
        destination
    };
    let mut path = absolute_in(working_dir, destination);
    let keeps_slash = destination.ends_with('/') || destination.ends_with("/.");
    if keeps_slash && !path.ends_with('/') {
        path.push('/');
    }
    path
}

/// A Dockerfile error at `span`, naming the file.
pub(crate) fn dockerfile_error(
    dockerfile: &Dockerfile,
    options: &BuildOptions,
    kind: ErrorKind,
    message: impl Into<String>,
    span: Span,
) -> Error {
    Error::Dockerfile(
        dockerfile::Error::new(kind, message, &dockerfile.source, span)
            .with_file(&options.dockerfile_name),
    )
}

fn located(error: dockerfile::Error, options: &BuildOptions) -> Error {
    Error::Dockerfile(error.with_file(&options.dockerfile_name))
}

fn with_span(error: Error, span: Span) -> Error {
    match error {
        Error::Image {
            reference,
            message,
            span: None,
        } => Error::Image {
            reference,
            message,
            span: Some(span),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_normalise_like_buildkit() {
        assert_eq!(normalize_destination("/app", "."), "/app/");
        assert_eq!(normalize_destination("/app", "./"), "/app/");
        assert_eq!(normalize_destination("/app", "src/"), "/app/src/");
        assert_eq!(normalize_destination("/app", "x"), "/app/x");
        assert_eq!(normalize_destination("/", "/x/../y/"), "/y/");
        assert_eq!(normalize_destination("/a", "/"), "/");
        assert_eq!(normalize_destination("/a", "x/."), "/a/x/");
        assert_eq!(normalize_destination("/a", "/."), "/");
    }

    #[test]
    fn workdirs_normalise() {
        assert_eq!(
            normalize_workdir("/bin", "rel").as_deref(),
            Some("/bin/rel")
        );
        assert_eq!(
            normalize_workdir("/", "/a/b/../c/").as_deref(),
            Some("/a/c")
        );
        assert_eq!(normalize_workdir("/x", ""), None);
    }

    #[test]
    fn keys_chain_and_differ() {
        let root = Digest::of(b"");
        let a = key_of(&root, &("run", "make"));
        assert_eq!(a, key_of(&root, &("run", "make")));
        assert_ne!(a, key_of(&root, &("run", "make all")));
        assert_ne!(key_of(&a, &("run", "x")), key_of(&root, &("run", "x")));
    }

    #[test]
    fn commands_upper_case_their_keyword() {
        assert_eq!(uppercase_command("run echo hi"), "RUN echo hi");
        assert_eq!(uppercase_command("workdir"), "WORKDIR");
    }
}
