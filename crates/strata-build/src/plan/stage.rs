//! A stage lowered: its base resolved (an earlier stage, scratch, an image
//! or a named context), its configuration and environment started from the
//! base's, then its ONBUILD triggers and instructions dispatched.

use strata_dockerfile::{self as dockerfile, Command, ErrorKind, Location, Stage, StageScope};
use strata_oci::{Digest, ImageConfiguration};

use super::named::{self, NamedBase};
use super::state::State;
use super::types::{Base, StagePlan};
use super::{Lowering, key_of, located, with_span};
use crate::error::Result;
use crate::images::ResolvedImage;

/// BuildKit's default PATH for Linux images.
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where a stage starts, as its FROM resolves.
struct StageBase {
    base: Base,
    /// Set when a named context serves the base: its FROM vertex, if any
    /// (then the FROM is not a numbered step).
    named_from: Option<Option<String>>,
    /// Whether the stage itself is replaced by a named context.
    replaced: bool,
}

/// What a stage starts with, taken from its base.
struct Start {
    config: ImageConfiguration,
    scope: StageScope,
    key: Digest,
    inherited_history: usize,
    /// The base's ONBUILD triggers.
    triggers: Vec<String>,
}

/// An instruction to dispatch, with the trigger text when it comes from ONBUILD.
type Dispatched = (Command, Option<String>);

impl Lowering<'_> {
    /// Lowers Dockerfile stage `index` (and what it needs) once; its plan index.
    pub(super) fn stage(&mut self, index: usize) -> Result<usize> {
        if let Some(plan) = self.by_stage.get(&index) {
            return Ok(*plan);
        }
        let stage = &self.stages.stages[index];
        let (base_name, platform) = self.expand_from(stage)?;
        let StageBase {
            base,
            named_from,
            replaced,
        } = self.stage_base(stage, &base_name, &platform)?;
        let name = self.stage_name(stage, index);
        let no_cache = self.options.no_cache
            || self.options.no_cache_filter.iter().any(|filter| {
                filter.to_lowercase() == name || stage.name() == Some(filter.as_str())
            });
        let start = self.start(&base, &platform);
        let commands = self.commands(stage, &start.triggers, replaced)?;
        let from_counts = !matches!(base, Base::Stage(_) | Base::Scratch) || named_from.is_some();
        let total = usize::from(from_counts) + step_count(&commands);
        let from_name = self.base_vertex(&base, named_from.as_ref(), &name, total);
        let mut state = State {
            config: start.config,
            scope: start.scope,
            declared: Vec::new(),
            key: start.key,
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
            inherited_history: start.inherited_history,
            environment: state.scope.environment().to_pairs(),
        };
        let id = self.plans.len();
        self.plans.push(plan);
        self.by_stage.insert(index, id);
        Ok(id)
    }

    /// The stage's FROM expanded: the base's name and the stage's platform.
    fn expand_from(&mut self, stage: &Stage) -> Result<(String, strata_oci::Platform)> {
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
        Ok((base_name, platform))
    }

    /// Where the stage starts: an earlier stage, scratch, a named context or
    /// an image.
    fn stage_base(
        &mut self,
        stage: &Stage,
        base_name: &str,
        platform: &strata_oci::Platform,
    ) -> Result<StageBase> {
        let lowered = base_name.to_lowercase();
        let earlier = self.stages.stages[..stage.index]
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
        let (base, named_from) = if let Some(earlier) = earlier.filter(|_| !is_replaced) {
            (Base::Stage(self.stage(earlier)?), None)
        } else if lowered == "scratch" && !is_replaced {
            (Base::Scratch, None)
        } else {
            let found = match replaced {
                Some(found) => Some(found),
                None => self.named_base(base_name, location)?,
            };
            self.named_or_image(found, base_name, platform, location)?
        };
        Ok(StageBase {
            base,
            named_from,
            replaced: is_replaced,
        })
    }

    /// The base a named context gives, else the image `base_name` names.
    fn named_or_image(
        &mut self,
        found: Option<NamedBase>,
        base_name: &str,
        platform: &strata_oci::Platform,
        location: Location,
    ) -> Result<(Base, Option<Option<String>>)> {
        Ok(match found {
            Some(NamedBase::Image { image, vertex }) => (Base::Image(image), Some(Some(vertex))),
            Some(NamedBase::Scratch) => (Base::Scratch, Some(None)),
            Some(NamedBase::Local { key, context }) => (
                Base::Stage(self.local_stage(&key, context, location)?),
                Some(None),
            ),
            None => (
                Base::Image(
                    self.images
                        .resolve_for(base_name, platform)
                        .map_err(|e| with_span(e, location.span))?,
                ),
                None,
            ),
        })
    }

    /// The stage's name in vertex names: none in a single-stage build.
    fn stage_name(&self, stage: &Stage, index: usize) -> String {
        if self.single_stage {
            String::new()
        } else {
            stage
                .name()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("stage-{index}"))
        }
    }

    /// The stage's configuration and environment, started from its base's;
    /// PATH is always set.
    fn start(&self, base: &Base, platform: &strata_oci::Platform) -> Start {
        let mut start = match base {
            Base::Scratch => Start {
                config: named::scratch_config(platform),
                scope: StageScope::new(Vec::<String>::new()),
                key: key_of(&Digest::of(b""), &"scratch"),
                inherited_history: 0,
                triggers: Vec::new(),
            },
            Base::Image(image) => image_start(image),
            Base::Stage(plan) => self.stage_start(*plan),
        };
        let container = start.config.config.get_or_insert_with(Default::default);
        let env = container.env.get_or_insert_with(Vec::new);
        if !env.iter().any(|e| e.split('=').next() == Some("PATH")) {
            env.push(format!("PATH={DEFAULT_PATH}"));
        }
        if let Some(env) = start.config.config.as_ref().and_then(|c| c.env.as_ref()) {
            for entry in env {
                let (key, value) = entry.split_once('=').unwrap_or((entry.as_str(), ""));
                start.scope.set_env(key, value);
            }
        }
        start
    }

    /// What a stage built on plan `plan` starts with.
    fn stage_start(&self, plan: usize) -> Start {
        let base = &self.plans[plan];
        let mut config = base.config.clone();
        let triggers = take_triggers(&mut config);
        let env = configured_env(&config);
        let scope_env = if base.environment.is_empty() {
            env
        } else {
            base.environment.clone()
        };
        Start {
            config,
            scope: StageScope::new(scope_env),
            key: base.key,
            inherited_history: base.inherited_history,
            triggers,
        }
    }

    /// The instructions to dispatch: the base's ONBUILD triggers first, then
    /// the stage's own (none for a stage a named context replaces).
    fn commands(
        &self,
        stage: &Stage,
        triggers: &[String],
        replaced: bool,
    ) -> Result<Vec<Dispatched>> {
        let mut commands: Vec<Dispatched> = Vec::new();
        for trigger in triggers {
            let command = dockerfile::parse_trigger(trigger, stage.from.location)
                .map_err(|e| located(e, self.options))?;
            commands.push((command, Some(trigger.clone())));
        }
        if replaced {
            commands.clear();
        } else {
            commands.extend(stage.commands.iter().cloned().map(|c| (c, None)));
        }
        Ok(commands)
    }

    /// The `FROM` vertex name, when the stage starts from an image.
    fn base_vertex(
        &self,
        base: &Base,
        named_from: Option<&Option<String>>,
        name: &str,
        total: usize,
    ) -> Option<String> {
        match base {
            _ if named_from.is_some() => named_from.cloned().flatten(),
            Base::Image(image) => Some(self.vertex_name(
                name,
                1,
                total,
                &if image.name.contains('@') {
                    format!("FROM {}", image.name)
                } else {
                    format!("FROM {}@{}", image.name, image.manifest_digest)
                },
            )),
            _ => None,
        }
    }
}

/// What a stage built on `image` starts with.
fn image_start(image: &ResolvedImage) -> Start {
    let mut config = image.config.clone();
    config.created = None;
    config.build_cache = None;
    let triggers = take_triggers(&mut config);
    let env = configured_env(&config);
    let chain: Vec<String> = image.layers.iter().map(|(_, d)| d.to_string()).collect();
    Start {
        key: key_of(&Digest::of(b""), &("image", chain)),
        inherited_history: config.history.len(),
        scope: StageScope::new(env),
        config,
        triggers,
    }
}

/// Takes the ONBUILD triggers out of a base's configuration.
fn take_triggers(config: &mut ImageConfiguration) -> Vec<String> {
    config
        .config
        .as_mut()
        .map(|c| std::mem::take(&mut c.on_build))
        .unwrap_or_default()
}

/// The environment a base's configuration sets.
fn configured_env(config: &ImageConfiguration) -> Vec<String> {
    config
        .config
        .as_ref()
        .and_then(|c| c.env.clone())
        .unwrap_or_default()
}

/// How many numbered steps the instructions make (ADD, COPY, RUN, WORKDIR).
fn step_count(commands: &[Dispatched]) -> usize {
    commands
        .iter()
        .filter(|(c, _)| {
            matches!(
                c,
                Command::Add(_) | Command::Copy(_) | Command::Run(_) | Command::Workdir(_)
            )
        })
        .count()
}

/// BuildKit's image for `FROM scratch` (config filled by the caller).
pub(super) fn empty_image(platform: &strata_oci::Platform) -> ImageConfiguration {
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
