//! What a Dockerfile offers and what a target needs, as BuildKit's
//! `frontend.targets` and `frontend.outline` subrequests answer (`docker
//! buildx build --call targets|outline`).
//!
//! The outline follows `dockerfile2llb`: a stage "uses" the meta ARGs its
//! FROM line expands (and those their defaults referred to) and every ARG it
//! declares; a stage ARG without a default that only re-declares a meta ARG
//! keeps the meta ARG's description and value. The target's stage, its base
//! stages and the stages it copies or mounts from are visited in that order,
//! the first definition of a name wins, and the result is sorted by line.
//! Base images are not resolved: ARG defaults see no image ENV but `PATH`.

use std::collections::{BTreeMap, BTreeSet};

use strata_go::strconv;

use crate::ast::Dockerfile;
use crate::error::{Error, ErrorKind};
use crate::instructions::{ArgDefinition, Command, Expander, Location};
use crate::lexer::Environment;
use crate::mount::{MountType, parse_mount};
use crate::source::Span;
use crate::stages::{FrontendOptions, GlobalScope, StageScope, Stages};

/// One build stage as `--call targets` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The stage name (lower-cased), if it has one.
    pub name: Option<String>,
    /// Whether it is built without `--target` (the last stage).
    pub default: bool,
    /// The doc comment above its FROM (see [`From::doc_comment`](crate::From)).
    pub description: String,
    /// The image or stage it starts from, as written (unexpanded).
    pub base: String,
    /// `--platform`, as written.
    pub platform: Option<String>,
    /// Its FROM line.
    pub location: Location,
}

/// Every stage, in order (BuildKit's `ListTargets`).
pub fn targets(stages: &Stages) -> Vec<Target> {
    let last = stages.stages.len().saturating_sub(1);
    stages
        .stages
        .iter()
        .map(|stage| Target {
            name: stage.from.name.clone(),
            default: stage.index == last,
            description: stage.from.doc_comment.clone(),
            base: stage.from.image.clone(),
            platform: stage.from.platform.clone(),
            location: stage.from.location,
        })
        .collect()
}

/// What building one target needs (BuildKit's `Outline`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outline {
    /// The target stage's name, if it has one.
    pub name: Option<String>,
    /// The doc comment above the target's FROM.
    pub description: String,
    /// The build arguments it uses, by line.
    pub args: Vec<OutlineArg>,
    /// The secrets its RUN instructions mount, by line.
    pub secrets: Vec<OutlineMount>,
    /// The SSH agent ids its RUN instructions mount, by line.
    pub ssh: Vec<OutlineMount>,
}

/// A build argument in an [`Outline`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutlineArg {
    /// The name.
    pub name: String,
    /// Its doc comment, or empty.
    pub description: String,
    /// Its value: the `--build-arg`, else the expanded default, else empty.
    pub value: String,
    /// The ARG instruction.
    pub location: Location,
}

/// A secret or SSH id in an [`Outline`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutlineMount {
    /// The secret id, or the SSH id (`default` when none is given).
    pub name: String,
    /// Whether the mount says `required`.
    pub required: bool,
    /// The first RUN that mounts it.
    pub location: Location,
}

/// The PATH BuildKit gives a stage whose image sets none.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An ARG a stage knows: its definition, resolved value and dependencies.
#[derive(Clone, Debug)]
struct Known {
    definition: ArgDefinition,
    value: String,
    dependencies: BTreeSet<String>,
    location: Location,
}

/// What one dispatched stage contributes.
#[derive(Clone, Debug, Default)]
struct StageOutline {
    known: BTreeMap<String, Known>,
    used: BTreeSet<String>,
    /// What its FROM line used (what a stage built on it inherits: BuildKit
    /// copies the outline before the parent dispatches).
    from_used: BTreeSet<String>,
    secrets: Vec<OutlineMount>,
    ssh: Vec<OutlineMount>,
    base: Option<usize>,
    dependencies: BTreeSet<usize>,
    scope: StageScope,
}

/// The outline of `options.target` (the last stage when `None`).
pub fn outline(
    dockerfile: &Dockerfile,
    stages: &Stages,
    options: &FrontendOptions,
) -> Result<Outline, Error> {
    let stage_error = |message: String| {
        Error::new(
            ErrorKind::Stage,
            message,
            &dockerfile.source,
            Span::new(0, 0),
        )
    };
    let target = match &options.target {
        Some(name) => stages.find(name).ok_or_else(|| {
            stage_error(format!(
                "target stage {} could not be found",
                strconv::quote(name)
            ))
        })?,
        None => stages
            .default_target()
            .ok_or_else(|| stage_error("dockerfile contains no stages to build".to_string()))?,
    };
    let global = GlobalScope::new(
        &stages.meta_args,
        options,
        target.name().unwrap_or_default(),
        dockerfile.escape,
        &dockerfile.source,
    )?;
    let mut dispatched: BTreeMap<usize, StageOutline> = BTreeMap::new();
    for index in reachable(dockerfile, stages, &global, target.index)? {
        let stage = dispatch(dockerfile, stages, &global, options, index, &dispatched)?;
        dispatched.insert(index, stage);
    }
    let mut collected = Collected::default();
    collected.visit(&dispatched, target.index);
    let by_line = |location: &Location| location.start_line;
    collected.args.sort_by_key(|arg| by_line(&arg.location));
    collected
        .secrets
        .sort_by_key(|mount| by_line(&mount.location));
    collected.ssh.sort_by_key(|mount| by_line(&mount.location));
    Ok(Outline {
        name: target.from.name.clone(),
        description: target.from.doc_comment.clone(),
        args: collected.args,
        secrets: collected.secrets,
        ssh: collected.ssh,
    })
}

/// The stages `target` needs, in index order (a base always comes before
/// the stages built on it).
fn reachable(
    dockerfile: &Dockerfile,
    stages: &Stages,
    global: &GlobalScope,
    target: usize,
) -> Result<BTreeSet<usize>, Error> {
    let mut seen = BTreeSet::new();
    let mut pending = vec![target];
    while let Some(index) = pending.pop() {
        if !seen.insert(index) {
            continue;
        }
        let (base, dependencies) = edges(dockerfile, stages, global, index)?;
        pending.extend(base);
        pending.extend(dependencies);
    }
    Ok(seen)
}

/// A stage's base stage (FROM an earlier stage's name) and the stages its
/// COPY `--from` and RUN `--mount from=` name, as `dockerfile2llb` links them.
fn edges(
    dockerfile: &Dockerfile,
    stages: &Stages,
    global: &GlobalScope,
    index: usize,
) -> Result<(Option<usize>, BTreeSet<usize>), Error> {
    let stage = &stages.stages[index];
    let expanded = global
        .expand_from(&stage.from, dockerfile.escape)
        .map_err(|error| located(dockerfile, error.to_string(), stage.from.location))?;
    let base = stages.stages[..index]
        .iter()
        .rev()
        .find(|earlier| earlier.name() == Some(expanded.image.value.as_str()))
        .map(|earlier| earlier.index);
    let by_name = |name: &str| {
        let lower = strata_go::strings::to_lower(name);
        stages
            .stages
            .iter()
            .rev()
            .find(|other| other.name() == Some(lower.as_str()))
            .map(|other| other.index)
    };
    let mut dependencies = BTreeSet::new();
    for command in &stage.commands {
        match command {
            Command::Copy(copy) => {
                let found =
                    copy.from
                        .as_deref()
                        .and_then(|from: &str| match from.parse::<usize>() {
                            Ok(number) => stages.stages.get(number).map(|other| other.index),
                            Err(_) => by_name(from),
                        });
                dependencies.extend(found);
            }
            Command::Run(run) => {
                for value in &run.mounts {
                    let Ok(mount) = parse_mount(value, None) else {
                        continue;
                    };
                    dependencies.extend(by_name(mount.from.as_deref().unwrap_or("scratch")));
                }
            }
            _ => {}
        }
    }
    dependencies.remove(&index);
    Ok((base, dependencies))
}

/// Runs one stage's ARG, ENV and RUN instructions the way `dispatchArg`,
/// `dispatchSecret` and `dispatchSSH` record them.
fn dispatch(
    dockerfile: &Dockerfile,
    stages: &Stages,
    global: &GlobalScope,
    options: &FrontendOptions,
    index: usize,
    dispatched: &BTreeMap<usize, StageOutline>,
) -> Result<StageOutline, Error> {
    let stage = &stages.stages[index];
    let (base, dependencies) = edges(dockerfile, stages, global, index)?;
    let parent = base.and_then(|base| dispatched.get(&base));
    let expanded = global
        .expand_from(&stage.from, dockerfile.escape)
        .map_err(|error| located(dockerfile, error.to_string(), stage.from.location))?;
    let mut outline = StageOutline {
        known: global
            .definitions
            .iter()
            .map(|(name, info)| {
                let known = Known {
                    definition: info.definition.clone(),
                    value: info.value.clone().unwrap_or_default(),
                    dependencies: info.dependencies.clone(),
                    location: info.location,
                };
                (name.clone(), known)
            })
            .collect(),
        used: parent
            .map(|parent| parent.from_used.clone())
            .unwrap_or_default(),
        base,
        dependencies,
        scope: match parent {
            Some(parent) => parent.scope.clone(),
            None => StageScope::new([DEFAULT_PATH]),
        },
        ..StageOutline::default()
    };
    outline.used.extend(expanded.image.matched.iter().cloned());
    if let Some(platform) = &expanded.platform {
        outline.used.extend(platform.matched.iter().cloned());
    }
    outline.from_used = outline.used.clone();
    for command in &stage.commands {
        outline.apply(dockerfile, global, options, command)?;
    }
    Ok(outline)
}

impl StageOutline {
    fn apply(
        &mut self,
        dockerfile: &Dockerfile,
        global: &GlobalScope,
        options: &FrontendOptions,
        command: &Command,
    ) -> Result<(), Error> {
        let location = command.location();
        let fail = |message: String| located(dockerfile, message, location);
        match command {
            Command::Env(_) => {
                let environment = self.scope.environment().clone();
                let mut expander = Expander::new(dockerfile.escape, &environment);
                let expanded = command
                    .expand(&mut expander)
                    .map_err(|e| fail(e.to_string()))?;
                if let Command::Env(env) = expanded {
                    for pair in &env.pairs {
                        self.scope.set_env(&pair.key, &pair.value);
                    }
                }
            }
            Command::Arg(arg) => {
                let declared = self
                    .scope
                    .declare(arg, global, options, dockerfile.escape)
                    .map_err(|e| fail(e.to_string()))?;
                for (written, resolved) in arg.definitions.iter().zip(declared.definitions) {
                    // A bare `ARG NAME` taking a global value keeps the global's info.
                    let inherited = written.value.is_none()
                        && !options.build_args.contains_key(&written.key)
                        && global.args.get(&written.key).is_some();
                    self.used.insert(written.key.clone());
                    if !inherited {
                        let known = Known {
                            value: resolved.value.clone().unwrap_or_default(),
                            definition: resolved,
                            dependencies: BTreeSet::new(),
                            location,
                        };
                        self.known.insert(written.key.clone(), known);
                    }
                }
            }
            Command::Run(run) => {
                let environment = self.scope.environment().clone();
                let mut expander = Expander::new(dockerfile.escape, &environment);
                let mounts = run.mounts(&mut expander).map_err(|e| fail(e.to_string()))?;
                for mount in mounts {
                    self.record_mount(&mount, location).map_err(fail)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Records a secret or SSH mount; the first mount of an id wins.
    fn record_mount(
        &mut self,
        mount: &crate::mount::Mount,
        location: Location,
    ) -> Result<(), String> {
        let (list, name) = match mount.kind {
            MountType::Secret => {
                let name = match (&mount.source, &mount.id, &mount.target) {
                    (Some(source), _, _) if !source.is_empty() => source.clone(),
                    (_, Some(id), _) if !id.is_empty() => id.clone(),
                    (_, _, Some(target)) if !target.is_empty() => base_name(target),
                    _ => return Err("one of source, target required".to_string()),
                };
                (&mut self.secrets, name)
            }
            MountType::Ssh => {
                let name = mount.id.clone().filter(|id| !id.is_empty());
                (&mut self.ssh, name.unwrap_or_else(|| "default".to_string()))
            }
            _ => return Ok(()),
        };
        if !list.iter().any(|known| known.name == name) {
            list.push(OutlineMount {
                name,
                required: mount.required,
                location,
            });
        }
        Ok(())
    }

    /// The used names plus every meta ARG their defaults referred to.
    fn all_used(&self) -> BTreeSet<String> {
        let mut used = BTreeSet::new();
        let mut pending: Vec<String> = self.used.iter().cloned().collect();
        while let Some(name) = pending.pop() {
            if used.insert(name.clone())
                && let Some(known) = self.known.get(&name)
            {
                pending.extend(known.dependencies.iter().cloned());
            }
        }
        used
    }
}

/// Go's `path.Base` for a mount target.
fn base_name(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() { "." } else { "/" }.to_string();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

fn located(dockerfile: &Dockerfile, message: String, location: Location) -> Error {
    Error::new(
        ErrorKind::Expansion,
        message,
        &dockerfile.source,
        location.span,
    )
}

/// The outline gathered over the stages, first definition of a name winning.
#[derive(Default)]
struct Collected {
    stages: BTreeSet<usize>,
    names: [BTreeSet<String>; 3],
    args: Vec<OutlineArg>,
    secrets: Vec<OutlineMount>,
    ssh: Vec<OutlineMount>,
}

impl Collected {
    /// The stage, then its base, then its dependencies (BuildKit's order).
    fn visit(&mut self, dispatched: &BTreeMap<usize, StageOutline>, index: usize) {
        let Some(stage) = dispatched.get(&index) else {
            return;
        };
        if !self.stages.insert(index) {
            return;
        }
        for name in stage.all_used() {
            let Some(known) = stage.known.get(&name) else {
                continue;
            };
            if self.names[0].insert(name) {
                self.args.push(OutlineArg {
                    name: known.definition.key.clone(),
                    description: known.definition.doc_comment.clone(),
                    value: known.value.clone(),
                    location: known.location,
                });
            }
        }
        for mount in &stage.secrets {
            if self.names[1].insert(mount.name.clone()) {
                self.secrets.push(mount.clone());
            }
        }
        for mount in &stage.ssh {
            if self.names[2].insert(mount.name.clone()) {
                self.ssh.push(mount.clone());
            }
        }
        if let Some(base) = stage.base {
            self.visit(dispatched, base);
        }
        for &dependency in &stage.dependencies {
            self.visit(dispatched, dependency);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline_of(text: &str, options: &FrontendOptions) -> Outline {
        let dockerfile = crate::parse(text.as_bytes().to_vec()).unwrap();
        let stages = Stages::parse(&dockerfile).unwrap();
        outline(&dockerfile, &stages, options).unwrap()
    }

    #[test]
    fn meta_args_count_when_a_from_line_uses_them_and_their_dependencies() {
        let text = "ARG BASE=scratch\n# TAG the tag\nARG TAG=${BASE}\nARG UNUSED=1\nFROM ${TAG}\nARG LOCAL\n";
        let outline = outline_of(text, &FrontendOptions::default());
        let names: Vec<(&str, &str, &str)> = outline
            .args
            .iter()
            .map(|arg| {
                (
                    arg.name.as_str(),
                    arg.value.as_str(),
                    arg.description.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("BASE", "scratch", ""),
                ("TAG", "scratch", "the tag"),
                ("LOCAL", "", "")
            ]
        );
    }

    #[test]
    fn a_bare_stage_arg_keeps_the_meta_args_description() {
        let text = "# V the version\nARG V=1\nFROM scratch\nARG V\nARG TARGETOS\n";
        let outline = outline_of(text, &FrontendOptions::default());
        assert_eq!(outline.args.len(), 1);
        assert_eq!(outline.args[0].description, "the version");
        assert_eq!(outline.args[0].location.start_line, 2);
    }

    #[test]
    fn secrets_and_ssh_come_from_the_target_and_what_it_copies_from() {
        let text = "FROM scratch AS a\nRUN --mount=type=secret,id=s1,required true\nFROM scratch AS unused\nRUN --mount=type=ssh true\nFROM scratch\nCOPY --from=a / /\nRUN --mount=type=secret,target=/x/s2 --mount=type=ssh,id=gh true\n";
        let outline = outline_of(text, &FrontendOptions::default());
        let secrets: Vec<(&str, bool)> = outline
            .secrets
            .iter()
            .map(|s| (s.name.as_str(), s.required))
            .collect();
        assert_eq!(secrets, [("s1", true), ("s2", false)]);
        assert_eq!(outline.ssh.len(), 1);
        assert_eq!(outline.ssh[0].name, "gh");
    }

    #[test]
    fn a_build_argument_sets_the_value() {
        let mut options = FrontendOptions::default();
        options.build_args.insert("V".into(), "2".into());
        options.target = Some("Base".into());
        let outline = outline_of("FROM scratch AS base\nARG V=1\nFROM base\n", &options);
        assert_eq!(outline.name.as_deref(), Some("base"));
        assert_eq!(outline.args[0].value, "2");
    }

    #[test]
    fn targets_mark_the_last_stage_default() {
        let text =
            "# build compiles\nFROM --platform=$BUILDPLATFORM scratch AS build\nFROM build\n";
        let dockerfile = crate::parse(text.as_bytes().to_vec()).unwrap();
        let list = targets(&Stages::parse(&dockerfile).unwrap());
        assert_eq!(list[0].description, "compiles");
        assert_eq!(list[0].platform.as_deref(), Some("$BUILDPLATFORM"));
        assert!(!list[0].default && list[1].default);
        assert_eq!(list[1].base, "build");
    }

    #[test]
    fn go_path_base() {
        assert_eq!(base_name("/run/x/npmrc"), "npmrc");
        assert_eq!(base_name("a/"), "a");
        assert_eq!(base_name("/"), "/");
    }
}
