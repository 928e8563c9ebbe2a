//! Stages and the ARG scoping model, as BuildKit's `instructions.Parse` and
//! `dockerfile2llb` build them.
//!
//! - ARGs before the first FROM are *meta args*: [`GlobalScope`] evaluates
//!   them (with `--build-arg` overrides) on top of the automatic platform
//!   ARGs; they are visible to FROM lines only.
//! - Inside a stage, [`StageScope`] is the environment expansions see: the
//!   base image's ENV, then each ENV and ARG in order. `ARG NAME` without a
//!   default takes a build argument, else the global value of that name (this
//!   is how a global ARG is "redeclared" into a stage, and how `TARGETOS` and
//!   friends become visible).
//! - Proxy build arguments (`HTTP_PROXY` ...) are predefined: RUN sees them
//!   without an ARG, but they are not expanded in the Dockerfile and not kept
//!   in the image ([`proxy_environment`]).

use std::collections::{BTreeMap, BTreeSet};

use strata_go::strconv;
use strata_oci::Platform;

use crate::ast::{Dockerfile, Kind};
use crate::error::{Error, ErrorKind};
use crate::instructions::{Arg, ArgDefinition, Command, From, Location, Typed, parse_instruction};
use crate::lexer::{Environment, EnvironmentList, Lexer};

/// A build stage: a FROM and the commands after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// The stage's position, from 0 (what `COPY --from=0` means).
    pub index: usize,
    /// The FROM line.
    pub from: From,
    /// The commands, in order.
    pub commands: Vec<Command>,
}

impl Stage {
    /// The stage name (lower-cased), if `AS name` was given.
    pub fn name(&self) -> Option<&str> {
        self.from.name.as_deref()
    }
}

/// A problem BuildKit reports as a warning, not an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageWarning {
    /// BuildKit's check name, e.g. `DuplicateStageName`.
    pub rule: &'static str,
    /// BuildKit's message.
    pub message: String,
    /// Where.
    pub location: Location,
}

/// The stages of a Dockerfile and its meta ARGs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stages {
    /// ARG instructions before the first FROM.
    pub meta_args: Vec<Arg>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
    /// Duplicate and reserved stage names (BuildKit warns, and builds).
    pub warnings: Vec<StageWarning>,
}

const RESERVED_STAGE_NAMES: [&str; 2] = ["context", "scratch"];

impl Stages {
    /// Types every instruction and groups them into stages (BuildKit's
    /// `instructions.Parse`): the first error wins.
    pub fn parse(dockerfile: &Dockerfile) -> Result<Stages, Error> {
        let mut meta_args = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        for index in 0..dockerfile.instructions.len() {
            match parse_instruction(dockerfile, index)? {
                Typed::From(from) => {
                    stages.push(Stage {
                        index: stages.len(),
                        from,
                        commands: Vec::new(),
                    });
                }
                Typed::Command(Command::Arg(arg)) if stages.is_empty() => meta_args.push(arg),
                Typed::Command(command) => match stages.last_mut() {
                    Some(stage) => stage.commands.push(command),
                    None => {
                        let instruction = &dockerfile.instructions[index];
                        return Err(Error::new(
                            ErrorKind::Stage,
                            "no build stage in current context",
                            &dockerfile.source,
                            instruction.span,
                        ));
                    }
                },
            }
        }
        let mut warnings = Vec::new();
        let mut seen = BTreeSet::new();
        for stage in &stages {
            let Some(name) = stage.name() else { continue };
            if RESERVED_STAGE_NAMES.contains(&name) {
                warnings.push(StageWarning {
                    rule: "ReservedStageName",
                    message: format!(
                        "Stage name should not use the same name as reserved stage {}",
                        strconv::quote(name)
                    ),
                    location: stage.from.location,
                });
            }
            if !seen.insert(name.to_string()) {
                warnings.push(StageWarning {
                    rule: "DuplicateStageName",
                    message: format!(
                        "Duplicate stage name {}, stage names should be unique",
                        strconv::quote(name)
                    ),
                    location: stage.from.location,
                });
            }
        }
        Ok(Stages {
            meta_args,
            stages,
            warnings,
        })
    }

    /// The stage a `--from`, `FROM` or `--target` value names: a stage name
    /// (case-insensitive; the last stage with that name, as BuildKit's map
    /// keeps) or an index.
    pub fn find(&self, reference: &str) -> Option<&Stage> {
        let lower = strata_go::strings::to_lower(reference);
        if let Some(stage) = self
            .stages
            .iter()
            .rev()
            .find(|stage| stage.name() == Some(lower.as_str()))
        {
            return Some(stage);
        }
        reference
            .parse::<usize>()
            .ok()
            .and_then(|index| self.stages.get(index))
    }

    /// The stage built when no target is given: the last one.
    pub fn default_target(&self) -> Option<&Stage> {
        self.stages.last()
    }
}

/// What the frontend is asked for (part of `strata_build::BuildOptions`):
/// build arguments, platforms, target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrontendOptions {
    /// `--build-arg` values.
    pub build_args: BTreeMap<String, String>,
    /// The platform the build runs on (default: the host).
    pub build_platform: Platform,
    /// `--platform`; `None` means the build platform.
    pub target_platform: Option<Platform>,
    /// `--target`; `None` means the last stage.
    pub target: Option<String>,
}

impl Default for FrontendOptions {
    fn default() -> FrontendOptions {
        FrontendOptions {
            build_args: BTreeMap::new(),
            build_platform: Platform::host(),
            target_platform: None,
            target: None,
        }
    }
}

/// The automatic platform ARGs and `TARGETSTAGE` (BuildKit's `defaultArgs`),
/// each overridable by a build argument of the same name.
pub fn default_args(options: &FrontendOptions, target_stage: &str) -> EnvironmentList {
    let build = &options.build_platform;
    let target = options.target_platform.as_ref().unwrap_or(build);
    let target_stage = if target_stage.is_empty() {
        "default"
    } else {
        target_stage
    };
    let values = [
        ("BUILDPLATFORM", build.to_string()),
        ("BUILDOS", build.os.clone()),
        (
            "BUILDOSVERSION",
            build.os_version.clone().unwrap_or_default(),
        ),
        ("BUILDARCH", build.architecture.clone()),
        ("BUILDVARIANT", build.variant.clone().unwrap_or_default()),
        ("TARGETPLATFORM", target.format_all()),
        ("TARGETOS", target.os.clone()),
        (
            "TARGETOSVERSION",
            target.os_version.clone().unwrap_or_default(),
        ),
        ("TARGETARCH", target.architecture.clone()),
        ("TARGETVARIANT", target.variant.clone().unwrap_or_default()),
        ("TARGETSTAGE", target_stage.to_string()),
    ];
    let mut list = EnvironmentList::new();
    for (key, value) in values {
        let value = options.build_args.get(key).cloned().unwrap_or(value);
        list.set(key, &value);
    }
    list
}

/// What BuildKit knows about one meta ARG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgInfo {
    /// The definition as written.
    pub definition: ArgDefinition,
    /// Its value, if it has one.
    pub value: Option<String>,
    /// The other ARGs its default referred to.
    pub dependencies: BTreeSet<String>,
    /// Where it is defined.
    pub location: Location,
}

/// The global scope: what FROM lines can see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalScope {
    /// The automatic ARGs plus the meta ARGs that have a value.
    pub args: EnvironmentList,
    /// Every meta ARG by name (last definition wins).
    pub definitions: BTreeMap<String, ArgInfo>,
}

impl GlobalScope {
    /// Evaluates the meta ARGs in order over [`default_args`] (BuildKit's
    /// `buildMetaArgs`): a build argument wins over a default; a default is
    /// expanded with what is defined so far.
    pub fn new(
        meta_args: &[Arg],
        options: &FrontendOptions,
        target_stage: &str,
        escape: char,
        source: &crate::source::Source,
    ) -> Result<GlobalScope, Error> {
        let lexer = Lexer::new(escape);
        let mut args = default_args(options, target_stage);
        let mut definitions: BTreeMap<String, ArgInfo> = BTreeMap::new();
        for arg in meta_args {
            for definition in &arg.definitions {
                let mut info = ArgInfo {
                    definition: definition.clone(),
                    value: None,
                    dependencies: BTreeSet::new(),
                    location: arg.location,
                };
                match options.build_args.get(&definition.key) {
                    Some(value) => info.value = Some(value.clone()),
                    None => {
                        if let Some(default) = &definition.value {
                            let expansion = lexer.expand_word(default, &args).map_err(|error| {
                                Error::new(
                                    ErrorKind::Expansion,
                                    error.to_string(),
                                    source,
                                    arg.location.span,
                                )
                            })?;
                            info.value = Some(expansion.value);
                            info.dependencies = expansion.matched;
                            if info.dependencies.remove(&definition.key)
                                && let Some(previous) = definitions.get(&definition.key)
                            {
                                info.dependencies
                                    .extend(previous.dependencies.iter().cloned());
                            }
                        }
                    }
                }
                if let Some(value) = &info.value {
                    args.set(&definition.key, value);
                }
                definitions.insert(definition.key.clone(), info);
            }
        }
        Ok(GlobalScope { args, definitions })
    }

    /// Expands a FROM line's image and platform with the global ARGs. The
    /// result carries the variables used and missing (for the
    /// UndefinedArgInFrom rule).
    pub fn expand_from(
        &self,
        from: &From,
        escape: char,
    ) -> Result<ExpandedFrom, crate::ExpandError> {
        let lexer = Lexer::new(escape);
        let image = lexer.expand_word(&from.image, &self.args)?;
        let platform = match &from.platform {
            Some(platform) => Some(lexer.expand_word(platform, &self.args)?),
            None => None,
        };
        Ok(ExpandedFrom { image, platform })
    }

    /// Names a FROM may refer to without a warning: defined meta ARGs and the
    /// automatic ones.
    pub fn known_names(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = self.definitions.keys().cloned().collect();
        names.extend(self.args.keys().into_iter().map(str::to_string));
        names
    }
}

/// A FROM line after expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpandedFrom {
    /// The image or stage reference.
    pub image: crate::Expansion,
    /// The platform, if given.
    pub platform: Option<crate::Expansion>,
}

/// ARGs that BuildKit never puts in the environment.
const NON_ENV_ARGS: [&str; 2] = ["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"];

/// The environment expansions see inside one stage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StageScope {
    environment: EnvironmentList,
    declared: Vec<ArgDefinition>,
}

impl StageScope {
    /// A stage starting from an image whose config has `env` (`KEY=value`s).
    pub fn new<I, S>(image_env: I) -> StageScope
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        StageScope {
            environment: EnvironmentList::from_pairs(image_env),
            declared: Vec::new(),
        }
    }

    /// The current environment (image ENV, ENV instructions, ARGs).
    pub fn environment(&self) -> &EnvironmentList {
        &self.environment
    }

    /// The ARGs declared so far in this stage (and its parent stages).
    pub fn declared(&self) -> &[ArgDefinition] {
        &self.declared
    }

    /// Applies an ENV (after [`Command::expand`](crate::Command::expand)).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.environment.set(key, value);
    }

    /// Declares an ARG (BuildKit's `dispatchArg`): a build argument wins; else
    /// the default, expanded now; else the global value of that name. Returns
    /// the definitions with their resolved values and the variables the
    /// defaults referred to but found unset.
    pub fn declare(
        &mut self,
        arg: &Arg,
        global: &GlobalScope,
        options: &FrontendOptions,
        escape: char,
    ) -> Result<DeclaredArgs, crate::ExpandError> {
        let lexer = Lexer::new(escape);
        let mut resolved = Vec::new();
        let mut unmatched = BTreeSet::new();
        for definition in &arg.definitions {
            let mut definition = definition.clone();
            let build_value = options.build_args.get(&definition.key);
            if definition.value.is_none() && build_value.is_none() {
                if let Some(value) = global.args.get(&definition.key) {
                    definition.value = Some(value.to_string());
                }
            } else if let Some(value) = build_value {
                definition.value = Some(value.clone());
            } else if let Some(default) = &definition.value {
                let expansion = lexer.expand_word(default, &self.environment)?;
                unmatched.extend(self.undefined(&expansion.unmatched));
                definition.value = Some(expansion.value);
            }
            if let Some(value) = &definition.value
                && !NON_ENV_ARGS.contains(&definition.key.as_str())
            {
                self.environment.set(&definition.key, value);
            }
            self.declared.push(definition.clone());
            resolved.push(definition);
        }
        Ok(DeclaredArgs {
            definitions: resolved,
            unmatched,
        })
    }

    /// Of the variables an expansion found unset, those BuildKit reports as
    /// UndefinedVar: not declared as an ARG in the stage, not BuildKit-internal.
    pub fn undefined(&self, unmatched: &BTreeSet<String>) -> BTreeSet<String> {
        unmatched
            .iter()
            .filter(|name| !self.declared.iter().any(|arg| &arg.key == *name))
            .filter(|name| !NON_ENV_ARGS.contains(&name.as_str()))
            .cloned()
            .collect()
    }
}

/// ARG definitions after [`StageScope::declare`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredArgs {
    /// Each definition with its resolved value (`None`: declared, no value).
    pub definitions: Vec<ArgDefinition>,
    /// Variables referred to by defaults that are undefined (UndefinedVar).
    pub unmatched: BTreeSet<String>,
}

/// The proxy variables RUN gets from build arguments without an ARG
/// (BuildKit's `proxyEnvFromBuildArgs`): matched case-insensitively, keys in
/// sorted order, so `http_proxy` wins over `HTTP_PROXY`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyEnvironment {
    /// `HTTP_PROXY`
    pub http_proxy: Option<String>,
    /// `HTTPS_PROXY`
    pub https_proxy: Option<String>,
    /// `FTP_PROXY`
    pub ftp_proxy: Option<String>,
    /// `NO_PROXY`
    pub no_proxy: Option<String>,
    /// `ALL_PROXY`
    pub all_proxy: Option<String>,
}

/// See [`ProxyEnvironment`].
pub fn proxy_environment(build_args: &BTreeMap<String, String>) -> ProxyEnvironment {
    let mut proxy = ProxyEnvironment::default();
    for (key, value) in build_args {
        let slot = match key.to_ascii_lowercase().as_str() {
            "http_proxy" => &mut proxy.http_proxy,
            "https_proxy" => &mut proxy.https_proxy,
            "ftp_proxy" => &mut proxy.ftp_proxy,
            "no_proxy" => &mut proxy.no_proxy,
            "all_proxy" => &mut proxy.all_proxy,
            _ => continue,
        };
        *slot = Some(value.clone());
    }
    proxy
}

/// Whether `kind` may appear before the first FROM (only ARG may).
pub fn allowed_before_from(kind: Kind) -> bool {
    kind == Kind::Arg
}

impl Environment for GlobalScope {
    fn get(&self, name: &str) -> Option<&str> {
        self.args.get(name)
    }
    fn keys(&self) -> Vec<&str> {
        self.args.keys()
    }
}

impl Environment for StageScope {
    fn get(&self, name: &str) -> Option<&str> {
        self.environment.get(name)
    }
    fn keys(&self) -> Vec<&str> {
        self.environment.keys()
    }
}
