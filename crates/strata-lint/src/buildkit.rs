//! BuildKit's build checks, under BuildKit's names and with its messages,
//! reported where `dockerfile2llb` reports them: while parsing (casing,
//! MAINTAINER), over the stages (names, casing majority, default ARGs in
//! FROM), and while dispatching each stage's instructions with its ARG and
//! ENV scope (undefined variables, legacy key/value, secrets, JSON args,
//! relative WORKDIR, repeated CMD/ENTRYPOINT/HEALTHCHECK, EXPOSE, COPY of
//! ignored files).

use strata_dockerfile::{
    Arg, Command, Environment, Expander, FrontendOptions, GlobalScope, Kind, Lexer, StageScope,
    Typed,
};
use strata_go::strconv;

use strata_oci::Platform;

use crate::context::Context;
use crate::fix;
use crate::images::{is_valid_reference, known_image};
use crate::predicates::{hadolint_absolute, is_remote, is_sensitive_name};
use crate::rules::*;

/// BuildKit's default PATH for Linux images that set none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub(crate) fn check(context: &mut Context<'_>) {
    empty_continuations(context);
    invalid_instructions(context);
    // BuildKit types every instruction before it checks anything else: the
    // first one it refuses ends its checks (only those made while typing the
    // instructions up to it, and before it refuses it, are reported).
    let refused = first_refused(context);
    parse_time(
        context,
        refused.map_or(context.items.len(), |index| index + 1),
    );
    if refused.is_some() {
        return;
    }
    stage_names(context);
    command_casing(context);
    base_images_with_default_args(context);
    dispatch(context);
}

/// Reported where BuildKit's parser reports it: on the instruction's last line.
fn empty_continuations(context: &mut Context<'_>) {
    for warning in &context.dockerfile.warnings {
        let span = context
            .source
            .line_span(warning.line)
            .unwrap_or(warning.span);
        let diagnostic = context.diagnostic(
            &NO_EMPTY_CONTINUATION,
            span,
            "Empty continuation line".to_string(),
        );
        context.report_global(diagnostic);
    }
}

/// Instructions BuildKit refuses: the build would fail there.
fn invalid_instructions(context: &mut Context<'_>) {
    for index in 0..context.items.len() {
        let item = &context.items[index];
        let instruction = item.instruction;
        // hadolint's DL3061: only ARG (and comments) may come before the first FROM.
        let before_from = item.stage.is_none()
            && item.kind() != Some(Kind::From)
            && item.kind() != Some(Kind::Arg);
        let (message, span, onbuild) = if item.typed.is_some() {
            if !before_from {
                continue;
            }
            (
                "no build stage in current context".to_string(),
                instruction.span,
                false,
            )
        } else {
            let Err(error) = strata_dockerfile::parse_instruction(context.dockerfile, index) else {
                continue;
            };
            let onbuild = error.message.contains("ONBUILD");
            (error.message, error.span, onbuild)
        };
        let aliases: &[&str] = match (before_from, onbuild) {
            (true, true) => &["DL3061", "DL3043"],
            (true, false) => &["DL3061"],
            (false, true) => &["DL3043"],
            (false, false) => &[],
        };
        let diagnostic = context
            .diagnostic(&INVALID_INSTRUCTION, span, message)
            .with_aliases(aliases);
        context.report(diagnostic, index);
    }
}

/// The first instruction `instructions.Parse` refuses: one that does not
/// type, or an instruction other than ARG before the first FROM.
fn first_refused(context: &Context<'_>) -> Option<usize> {
    context.items.iter().position(|item| {
        item.typed.is_none()
            || (item.stage.is_none()
                && item.kind() != Some(Kind::From)
                && item.kind() != Some(Kind::Arg))
    })
}

/// Checks BuildKit makes while typing each instruction, up to `end`.
fn parse_time(context: &mut Context<'_>, end: usize) {
    for index in 0..end {
        let instruction = context.items[index].instruction;
        match instruction.kind {
            Some(Kind::Maintainer) => {
                let diagnostic = context
                    .diagnostic(
                        &MAINTAINER_DEPRECATED,
                        instruction.span,
                        "Maintainer instruction is deprecated in favor of using label".to_string(),
                    )
                    .with_fix(fix::maintainer_to_label(context.dockerfile, instruction));
                context.report(diagnostic, index);
            }
            Some(Kind::From) => {
                let arguments = &instruction.arguments;
                if arguments.len() == 3 {
                    let name = &arguments[2];
                    if name.text != name.text.to_lowercase() {
                        let diagnostic = context
                            .diagnostic(
                                &STAGE_NAME_CASING,
                                name.span,
                                format!("Stage name '{}' should be lowercase", name.text),
                            )
                            .with_fix(fix::replace(
                                name.span,
                                name.text.to_lowercase(),
                                "lower-case the stage name",
                            ));
                        context.report(diagnostic, index);
                    }
                    let keyword = &instruction.keyword.text;
                    let as_word = &arguments[1];
                    let lower = *keyword == keyword.to_lowercase();
                    let upper = *keyword == keyword.to_uppercase();
                    let expected = if lower {
                        Some(as_word.text.to_lowercase())
                    } else if upper {
                        Some(as_word.text.to_uppercase())
                    } else {
                        None
                    };
                    if let Some(expected) = expected
                        && expected != as_word.text
                    {
                        let diagnostic = context
                            .diagnostic(
                                &FROM_AS_CASING,
                                as_word.span,
                                format!(
                                    "'{}' and '{}' keywords' casing do not match",
                                    as_word.text, keyword
                                ),
                            )
                            .with_fix(fix::replace(
                                as_word.span,
                                expected,
                                "match the case of FROM",
                            ));
                        context.report(diagnostic, index);
                    }
                }
                let name = match &context.items[index].typed {
                    Some(Typed::From(from)) => from.name.clone(),
                    _ => None,
                };
                if let Some(name) = name {
                    definition_description(context, index, "FROM", &[name]);
                }
            }
            Some(Kind::Arg) => {
                let keys: Option<Vec<String>> = match context.items[index].command() {
                    Some(Command::Arg(arg)) => {
                        Some(arg.definitions.iter().map(|d| d.key.clone()).collect())
                    }
                    _ => None,
                };
                if let Some(keys) = keys {
                    definition_description(context, index, "ARG", &keys);
                }
            }
            _ => {}
        }
    }
}

fn definition_description(
    context: &mut Context<'_>,
    index: usize,
    instruction: &str,
    keys: &[String],
) {
    let comments = &context.items[index].instruction.comments;
    let (Some(last), false) = (comments.last(), keys.is_empty()) else {
        return;
    };
    let first = last.split(' ').next().unwrap_or("");
    if keys.iter().any(|key| key == first) {
        return;
    }
    let example = if keys.len() > 1 {
        "<arg_key>"
    } else {
        &keys[0]
    };
    let span = context.items[index].span();
    let diagnostic = context.diagnostic(
        &INVALID_DEFINITION_DESCRIPTION,
        span,
        format!("Comment for {instruction} should follow the format: `# {example} <description>`"),
    );
    context.report(diagnostic, index);
}

/// `validateStageNames`.
fn stage_names(context: &mut Context<'_>) {
    let mut seen = std::collections::BTreeSet::new();
    let mut written_names = std::collections::BTreeSet::new();
    for stage in 0..context.stages.len() {
        let Some(name) = context.stages[stage]
            .from
            .as_ref()
            .and_then(|f| f.name.clone())
        else {
            continue;
        };
        let item = context.stages[stage].item;
        let instruction = context.items[item].instruction;
        let span = instruction
            .arguments
            .get(2)
            .map_or(instruction.span, |word| word.span);
        let written = instruction
            .arguments
            .get(2)
            .map(|word| word.text.clone())
            .unwrap_or_default();
        if name == "context" || name == "scratch" {
            let aliases: &[&str] = if written == "context" || written == "scratch" {
                &["DL3063"]
            } else {
                &[]
            };
            let diagnostic = context
                .diagnostic(
                    &RESERVED_STAGE_NAME,
                    span,
                    format!(
                        "Stage name should not use the same name as reserved stage {}",
                        strconv::quote(&name)
                    ),
                )
                .with_aliases(aliases);
            context.report_global(diagnostic);
        }
        let exact_duplicate = !written_names.insert(written.clone());
        if !seen.insert(name.clone()) {
            let aliases: &[&str] = if exact_duplicate { &["DL3024"] } else { &[] };
            let diagnostic = context
                .diagnostic(
                    &DUPLICATE_STAGE_NAME,
                    span,
                    format!(
                        "Duplicate stage name {}, stage names should be unique",
                        strconv::quote(&name)
                    ),
                )
                .with_aliases(aliases);
            context.report_global(diagnostic);
        }
    }
}

fn is_self_consistent(text: &str) -> bool {
    text == text.to_lowercase() || text == text.to_uppercase()
}

/// `validateCommandCasing`: every instruction of every stage against the majority.
fn command_casing(context: &mut Context<'_>) {
    let (mut lower, mut upper) = (0, 0);
    let in_stages: Vec<usize> = (0..context.items.len())
        .filter(|&index| {
            context.items[index].stage.is_some() && context.items[index].kind().is_some()
        })
        .collect();
    for &index in &in_stages {
        let name = &context.items[index].instruction.keyword.text;
        if is_self_consistent(name) {
            if *name == name.to_lowercase() {
                lower += 1;
            } else {
                upper += 1;
            }
        }
    }
    let majority_lower = lower > upper;
    for index in in_stages {
        let keyword = &context.items[index].instruction.keyword;
        let (expected, casing) = if majority_lower {
            (keyword.text.to_lowercase(), "lowercase")
        } else {
            (keyword.text.to_uppercase(), "uppercase")
        };
        if expected == keyword.text {
            continue;
        }
        let diagnostic = context
            .diagnostic(
                &CONSISTENT_INSTRUCTION_CASING,
                keyword.span,
                format!(
                    "Command '{}' should match the case of the command majority ({casing})",
                    keyword.text
                ),
            )
            .with_fix(fix::replace(
                keyword.span,
                expected,
                "match the majority's case",
            ));
        context.report_global(diagnostic);
    }
}

fn meta_args(context: &Context<'_>) -> Vec<Arg> {
    context
        .items
        .iter()
        .filter(|item| item.stage.is_none())
        .filter_map(|item| match item.command() {
            Some(Command::Arg(arg)) => Some(arg.clone()),
            _ => None,
        })
        .collect()
}

fn target_stage(context: &Context<'_>) -> String {
    context
        .stages
        .last()
        .and_then(|stage| stage.name.clone())
        .unwrap_or_default()
}

/// The frontend options the checks expand with: the build's target
/// platform (its automatic `TARGET*` args), nothing else.
fn build_options(context: &Context<'_>) -> FrontendOptions {
    FrontendOptions {
        target_platform: context.facts.target_platform(),
        ..FrontendOptions::default()
    }
}

/// `validateBaseImagesWithDefaultArgs`.
fn base_images_with_default_args(context: &mut Context<'_>) {
    let escape = context.dockerfile.escape;
    let Ok(global) = GlobalScope::new(
        &meta_args(context),
        &build_options(context),
        &target_stage(context),
        escape,
        context.source,
    ) else {
        return;
    };
    let lexer = Lexer::new(escape);
    for stage in 0..context.stages.len() {
        let Some(from) = context.stages[stage].from.clone() else {
            continue;
        };
        let Ok(expansion) = lexer.expand_word(&from.image, &global.args) else {
            return;
        };
        if !is_valid_reference(&expansion.value) {
            let span = context.items[context.stages[stage].item].span();
            let diagnostic = context.diagnostic(
                &INVALID_DEFAULT_ARG_IN_FROM,
                span,
                format!(
                    "Default value for ARG {} results in empty or invalid base image name",
                    from.image
                ),
            );
            context.report_global(diagnostic);
        }
    }
}

/// What BuildKit's dispatch state carries from instruction to instruction.
#[derive(Clone)]
struct StageState {
    scope: StageScope,
    /// Whether the base image's environment is known (else UndefinedVar is silent).
    environment_known: bool,
    workdir_set: bool,
    shell_set: bool,
    /// The stage's OS (`--platform`, else the host's): what an absolute WORKDIR is.
    os: String,
    cmd: Option<usize>,
    entrypoint: Option<usize>,
    healthcheck: Option<usize>,
}

fn dispatch(context: &mut Context<'_>) {
    let escape = context.dockerfile.escape;
    let options = build_options(context);
    let global = match GlobalScope::new(
        &meta_args(context),
        &options,
        &target_stage(context),
        escape,
        context.source,
    ) {
        Ok(global) => global,
        Err(error) => {
            // BuildKit fails the build here: report where.
            let item = context
                .items
                .iter()
                .position(|item| {
                    item.stage.is_none()
                        && item.instruction.span.cover(error.span) == item.instruction.span
                })
                .unwrap_or(0);
            let diagnostic =
                context.diagnostic(&INVALID_INSTRUCTION, error.span, error.message.clone());
            context.report(diagnostic, item);
            return;
        }
    };
    let mut known: Vec<String> = global.known_names().into_iter().collect();
    known.sort();
    let Some(bases) = stage_bases(context, &global, &known) else {
        return;
    };
    if !bases_resolve(&bases) {
        return;
    }
    let mut states: Vec<Option<StageState>> = Vec::new();
    for (stage, base) in bases.iter().enumerate() {
        let Some(base) = base else {
            states.push(None);
            continue;
        };
        if base.parent.is_none() && base.name != "scratch" {
            base_image_platform(context, stage, base);
        }
        let mut state = initial_state(context, base, &states);
        for index in (context.stages[stage].item + 1)..context.stages[stage].end {
            let Some(command) = context.items[index].command().cloned() else {
                continue;
            };
            if !dispatch_command(context, index, &command, &mut state, &global, &options) {
                // BuildKit's build fails here: nothing after it is checked.
                return;
            }
        }
        states.push(Some(state));
    }
}

/// A stage's FROM as BuildKit's `buildDispatchStates` leaves it.
struct StageBase {
    /// The base name, expanded.
    name: String,
    /// The earlier stage it names, if any.
    parent: Option<usize>,
    /// Its `--platform`, when given.
    platform: Option<Platform>,
}

/// `buildDispatchStates`: every FROM is expanded and checked before any
/// stage is dispatched. `None` when BuildKit fails there (an expansion error,
/// a blank base name, a platform that is empty or does not parse): the
/// checks after it never run.
fn stage_bases(
    context: &mut Context<'_>,
    global: &GlobalScope,
    known: &[String],
) -> Option<Vec<Option<StageBase>>> {
    let lexer = Lexer::new(context.dockerfile.escape);
    let mut bases = Vec::with_capacity(context.stages.len());
    for stage in 0..context.stages.len() {
        let Some(from) = context.stages[stage].from.clone() else {
            bases.push(None);
            continue;
        };
        let item = context.stages[stage].item;
        let base = lexer.expand_word(&from.image, &global.args).ok()?;
        undefined_args_in_from(context, item, &base.unmatched, known);
        if base.value.is_empty() {
            return None;
        }
        let mut requested = None;
        if let Some(platform) = &from.platform {
            let expansion = lexer.expand_word(platform, &global.args).ok()?;
            undefined_args_in_from(context, item, &expansion.unmatched, known);
            redundant_target_platform(context, item, platform, &expansion, global);
            const_platform(
                context,
                item,
                from.name.as_deref().unwrap_or(""),
                &expansion,
            );
            requested = Some(Platform::parse(&expansion.value).ok()?);
        }
        let lower = base.value.to_lowercase();
        let parent = (0..stage)
            .rev()
            .find(|&earlier| context.stages[earlier].name.as_deref() == Some(lower.as_str()));
        bases.push(Some(StageBase {
            name: base.value,
            parent,
            platform: requested,
        }));
    }
    Some(bases)
}

/// `resolveStages`: every base that is not a stage must be an image
/// reference, or the build fails before any instruction is dispatched.
fn bases_resolve(bases: &[Option<StageBase>]) -> bool {
    bases.iter().flatten().all(|base| {
        base.parent.is_some() || base.name == "scratch" || is_valid_reference(&base.name)
    })
}

/// `validateBaseImagePlatform`: the base image's config names another
/// platform than the stage asks for (its `--platform`, else the build's,
/// else the host's; with
/// no `--platform` an image of the host's OS and architecture is what is
/// asked for, as BuildKit's `autoDetectPlatform` makes it).
fn base_image_platform(context: &mut Context<'_>, stage: usize, base: &StageBase) {
    let Some(actual) = context
        .facts
        .base_image(&base.name)
        .and_then(|image| image.platform)
    else {
        return;
    };
    let expected = base
        .platform
        .clone()
        .or_else(|| context.facts.target_platform())
        .unwrap_or_else(Platform::host);
    let (expected, actual) = (expected.normalized(), actual.normalized());
    if expected.os == actual.os && expected.architecture == actual.architecture {
        return;
    }
    let item = context.stages[stage].item;
    let diagnostic = context.diagnostic(
        &INVALID_BASE_IMAGE_PLATFORM,
        context.items[item].span(),
        format!(
            "Base image {} was pulled with platform {}, expected {} for current build",
            base.name,
            strconv::quote(&actual.format_all()),
            strconv::quote(&expected.format_all())
        ),
    );
    context.report(diagnostic, item);
}

/// The dispatch state a stage starts from: its parent stage's (without the
/// instructions used once), or its base image's config.
fn initial_state(
    context: &Context<'_>,
    base: &StageBase,
    states: &[Option<StageState>],
) -> StageState {
    if let Some(mut state) = base.parent.and_then(|parent| states[parent].clone()) {
        state.cmd = None;
        state.entrypoint = None;
        state.healthcheck = None;
        if let Some(platform) = &base.platform {
            state.os = platform.os.clone();
        }
        return state;
    }
    let os = base
        .platform
        .as_ref()
        .map_or_else(|| Platform::host().os, |p| p.os.clone());
    let image = context
        .facts
        .base_image(&base.name)
        .or_else(|| known_image(&base.name));
    match image {
        Some(image) => {
            let mut scope = StageScope::new(&image.env);
            if scope.environment().get("PATH").is_none() {
                scope.set_env("PATH", DEFAULT_PATH);
            }
            StageState {
                scope,
                environment_known: true,
                workdir_set: false,
                shell_set: !image.shell.is_empty(),
                os,
                cmd: None,
                entrypoint: None,
                healthcheck: None,
            }
        }
        None => StageState {
            scope: StageScope::new([format!("PATH={DEFAULT_PATH}")]),
            environment_known: false,
            workdir_set: false,
            shell_set: false,
            os,
            cmd: None,
            entrypoint: None,
            healthcheck: None,
        },
    }
}

fn undefined_args_in_from(
    context: &mut Context<'_>,
    item: usize,
    unmatched: &std::collections::BTreeSet<String>,
    known: &[String],
) {
    for name in unmatched {
        if known.iter().any(|key| key == name) {
            continue;
        }
        let options: Vec<&str> = known.iter().map(String::as_str).collect();
        let mut message = format!("FROM argument '{name}' is not declared");
        if let Some(suggestion) = strata_go::suggest::search(name, &options, true) {
            message.push_str(&format!(" (did you mean {suggestion}?)"));
        }
        let span = context.items[item].span();
        let diagnostic = context.diagnostic(&UNDEFINED_ARG_IN_FROM, span, message);
        context.report(diagnostic, item);
    }
}

fn redundant_target_platform(
    context: &mut Context<'_>,
    item: usize,
    platform: &str,
    expansion: &strata_dockerfile::Expansion,
    global: &GlobalScope,
) {
    if expansion.matched.len() != 1
        || !expansion.unmatched.is_empty()
        || !expansion.matched.contains("TARGETPLATFORM")
        || global.args.get("TARGETPLATFORM") != Some(expansion.value.as_str())
    {
        return;
    }
    let instruction = context.items[item].instruction;
    let flag = instruction
        .flags_named("platform")
        .next()
        .map(|flag| flag.span);
    let exact = platform == "$TARGETPLATFORM" || platform == "${TARGETPLATFORM}";
    let aliases: &[&str] = if exact { &["DL3065"] } else { &[] };
    let diagnostic = context
        .diagnostic(
            &REDUNDANT_TARGET_PLATFORM,
            instruction.span,
            format!(
                "Setting platform to predefined {platform} in FROM is redundant as this is the default behavior"
            ),
        )
        .with_aliases(aliases)
        .with_fix(flag.and_then(|span| fix::remove_flag(context.dockerfile, span)));
    context.report(diagnostic, item);
}

fn const_platform(
    context: &mut Context<'_>,
    item: usize,
    stage_name: &str,
    expansion: &strata_dockerfile::Expansion,
) {
    if !expansion.matched.is_empty() || !expansion.unmatched.is_empty() {
        return;
    }
    let Ok(platform) = Platform::parse(&expansion.value) else {
        return;
    };
    if stage_name.contains(&platform.os) || stage_name.contains(&platform.architecture) {
        return;
    }
    let span = context.items[item].span();
    let diagnostic = context.diagnostic(
        &FROM_PLATFORM_FLAG_CONST_DISALLOWED,
        span,
        format!(
            "FROM --platform flag should not use constant value {}",
            strconv::quote(&expansion.value)
        ),
    );
    context.report(diagnostic, item);
}

fn undefined_vars(
    context: &mut Context<'_>,
    item: usize,
    state: &StageState,
    unmatched: &std::collections::BTreeSet<String>,
) {
    let undefined = state.scope.undefined(unmatched);
    report_undefined(context, item, state, undefined);
}

fn report_undefined(
    context: &mut Context<'_>,
    item: usize,
    state: &StageState,
    undefined: std::collections::BTreeSet<String>,
) {
    if !state.environment_known {
        return;
    }
    let keys: Vec<String> = state
        .scope
        .environment()
        .keys()
        .into_iter()
        .map(str::to_string)
        .collect();
    let options: Vec<&str> = keys.iter().map(String::as_str).collect();
    for name in undefined {
        let mut message = format!("Usage of undefined variable '${name}'");
        if let Some(suggestion) = strata_go::suggest::search(&name, &options, true) {
            message.push_str(&format!(" (did you mean ${suggestion}?)"));
        }
        let span = context.items[item].span();
        let diagnostic = context.diagnostic(&UNDEFINED_VAR, span, message);
        context.report(diagnostic, item);
    }
}

const SECRET_TOKENS: [&str; 10] = [
    "apikey",
    "auth",
    "credential",
    "credentials",
    "key",
    "password",
    "pword",
    "passwd",
    "secret",
    "token",
];
const ALLOWED_TOKENS: [&str; 3] = ["public", "file", "version"];

/// `(?i)(?:_|^)(?:tokens)(?:_|$)`
fn has_token(key: &str, tokens: &[&str]) -> bool {
    let lower = key.to_lowercase();
    lower.split('_').any(|part| tokens.contains(&part))
}

/// BuildKit's `validateNoSecretKey` test.
pub(crate) fn is_secret_key(key: &str) -> bool {
    has_token(key, &SECRET_TOKENS) && !has_token(key, &ALLOWED_TOKENS)
}

fn secret_key(context: &mut Context<'_>, item: usize, instruction: &str, key: &str) {
    if !is_secret_key(key) {
        return;
    }
    let span = context.items[item].span();
    let diagnostic = context
        .diagnostic(
            &SECRETS_USED_IN_ARG_OR_ENV,
            span,
            format!(
                "Do not use ARG or ENV instructions for sensitive data ({instruction} {})",
                strconv::quote(key)
            ),
        )
        .with_aliases(if is_sensitive_name(key) {
            &["DL3064"]
        } else {
            &[]
        });
    context.report(diagnostic, item);
}

fn used_once(
    context: &mut Context<'_>,
    item: usize,
    tracker: &mut Option<usize>,
    alias: &'static str,
) {
    if let Some(previous) = *tracker {
        let name = context.items[item].instruction.keyword.text.clone();
        let span = context.items[previous].span();
        let diagnostic = context
            .diagnostic(
                &MULTIPLE_INSTRUCTIONS_DISALLOWED,
                span,
                format!(
                    "Multiple {name} instructions should not be used in the same stage because only the last one will be used"
                ),
            )
            .with_aliases(&[alias]);
        // BuildKit merges the comments of the instruction being dispatched.
        context.report(diagnostic, item);
    }
    *tracker = Some(item);
}

/// Checks one instruction and applies it to `state`; `false` when BuildKit's
/// build fails at it.
fn dispatch_command(
    context: &mut Context<'_>,
    item: usize,
    command: &Command,
    state: &mut StageState,
    global: &GlobalScope,
    options: &FrontendOptions,
) -> bool {
    let escape = context.dockerfile.escape;
    if let Command::Arg(arg) = command {
        declare_arg(context, item, arg, state, global, options);
        return true;
    }
    let environment = state.scope.environment().clone();
    let mut expander = Expander::new(escape, &environment);
    let expanded = command.expand(&mut expander);
    let unmatched = expander.unmatched.clone();
    if !matches!(command, Command::Expose(_)) {
        undefined_vars(context, item, state, &unmatched);
    }
    let Ok(expanded) = expanded else {
        return false;
    };
    let keyword = context.items[item].instruction.keyword.text.clone();
    match &expanded {
        Command::Env(env) => {
            for (position, pair) in env.pairs.iter().enumerate() {
                if pair.legacy {
                    legacy_key_value(context, item, &keyword, position);
                }
                secret_key(context, item, "ENV", &pair.key);
                state.scope.set_env(&pair.key, &pair.value);
            }
        }
        Command::Label(label) => {
            for (position, pair) in label.pairs.iter().enumerate() {
                if pair.legacy {
                    legacy_key_value(context, item, &keyword, position);
                }
            }
        }
        Command::Cmd(cmd) => {
            let mut tracker = state.cmd;
            used_once(context, item, &mut tracker, "DL4003");
            state.cmd = tracker;
            if cmd.command.prepend_shell && !state.shell_set {
                json_args(context, item, &keyword);
            }
        }
        Command::Entrypoint(entrypoint) => {
            let mut tracker = state.entrypoint;
            used_once(context, item, &mut tracker, "DL4004");
            state.entrypoint = tracker;
            if entrypoint
                .command
                .as_ref()
                .is_some_and(|command| command.prepend_shell)
                && !state.shell_set
            {
                json_args(context, item, &keyword);
            }
        }
        Command::Healthcheck(_) => {
            let mut tracker = state.healthcheck;
            used_once(context, item, &mut tracker, "DL3012");
            state.healthcheck = tracker;
        }
        Command::Workdir(workdir) => return dispatch_workdir(context, item, &workdir.path, state),
        Command::Expose(expose) => expose_ports(context, item, &expose.ports, &environment),
        Command::Copy(copy) if copy.from.is_none() => {
            copy_ignored(context, item, "Copy", &copy.sources);
        }
        Command::Add(add) => {
            let local: Vec<String> = add
                .sources
                .iter()
                .filter(|source| !is_remote(source))
                .cloned()
                .collect();
            copy_ignored(context, item, "Add", &local);
        }
        Command::Shell(shell) => state.shell_set = !shell.shell.is_empty(),
        _ => {}
    }
    true
}

/// ARG: each definition declared in the stage's scope in turn, its default's
/// undefined variables reported.
fn declare_arg(
    context: &mut Context<'_>,
    item: usize,
    arg: &Arg,
    state: &mut StageState,
    global: &GlobalScope,
    options: &FrontendOptions,
) {
    let escape = context.dockerfile.escape;
    for definition in &arg.definitions {
        secret_key(context, item, "ARG", &definition.key);
    }
    let single = |definition| Arg {
        definitions: vec![definition],
        location: arg.location,
    };
    for definition in &arg.definitions {
        if let Ok(declared) =
            state
                .scope
                .declare(&single(definition.clone()), global, options, escape)
        {
            // Already filtered: the ARG itself was not declared yet when
            // its default was expanded.
            report_undefined(context, item, state, declared.unmatched);
        }
    }
}

/// WORKDIR `path` (expanded): BuildKit's relative-path check and hadolint's
/// wider one. False when the build stops here.
fn dispatch_workdir(
    context: &mut Context<'_>,
    item: usize,
    path: &str,
    state: &mut StageState,
) -> bool {
    let written = context.items[item]
        .instruction
        .arguments
        .first()
        .map(|word| word.text.clone())
        .unwrap_or_default();
    let hadolint = !hadolint_absolute(&written);
    let aliases: &[&str] = if hadolint { &["DL3000"] } else { &[] };
    let span = context.items[item].span();
    if !state.workdir_set && !is_absolute(path, &state.os) {
        let diagnostic = context
            .diagnostic(
                &WORKDIR_RELATIVE_PATH,
                span,
                format!(
                    "Relative workdir {} can have unexpected results if the base image changes",
                    strconv::quote(path)
                ),
            )
            .with_aliases(aliases);
        context.report(diagnostic, item);
    } else if hadolint {
        // hadolint asks for every WORKDIR to be absolute.
        let diagnostic = context
            .diagnostic(
                &WORKDIR_RELATIVE_PATH,
                span,
                format!(
                    "Relative workdir {} depends on the WORKDIR before it: use an absolute path",
                    strconv::quote(&written)
                ),
            )
            .with_aliases(aliases);
        context.report_beyond_buildkit(diagnostic, item);
    }
    state.workdir_set = true;
    // On Windows BuildKit cannot normalise a path without a drive: the build fails here.
    state.os != "windows" || windows_drive_path(path).is_some()
}

/// BuildKit's `system.IsAbs` for a stage's OS: on Windows the path
/// without its `C:` drive, slashes either way; elsewhere only `/...`.
fn is_absolute(path: &str, os: &str) -> bool {
    if os != "windows" {
        return path.starts_with('/');
    }
    windows_drive_path(path).is_some_and(|rest| rest.starts_with(['/', '\\']))
}

/// `CheckSystemDriveAndRemoveDriveLetter` for Windows: the path without its
/// drive letter, or `None` where BuildKit refuses it (a bare `C:`, a UNC
/// path, a drive other than C:).
fn windows_drive_path(path: &str) -> Option<&str> {
    let unc = path.len() >= 2
        && path.as_bytes()[..2]
            .iter()
            .all(|b| matches!(b, b'/' | b'\\'));
    if (path.len() == 2 && path.as_bytes()[1] == b':') || unc {
        return None;
    }
    match path.split_once(':') {
        None => Some(path),
        Some((drive, rest)) if drive.eq_ignore_ascii_case("c") => Some(rest),
        Some(_) => None,
    }
}

fn legacy_key_value(context: &mut Context<'_>, item: usize, keyword: &str, position: usize) {
    let instruction = context.items[item].instruction;
    let diagnostic = context
        .diagnostic(
            &LEGACY_KEY_VALUE_FORMAT,
            instruction.span,
            format!(
                "\"{keyword} key=value\" should be used instead of legacy \"{keyword} key value\" format"
            ),
        )
        .with_fix(fix::legacy_key_value(context.dockerfile, instruction, position));
    context.report(diagnostic, item);
}

fn json_args(context: &mut Context<'_>, item: usize, keyword: &str) {
    let instruction = context.items[item].instruction;
    let diagnostic = context
        .diagnostic(
            &JSON_ARGS_RECOMMENDED,
            instruction.span,
            format!(
                "JSON arguments recommended for {keyword} to prevent unintended behavior related to OS signals"
            ),
        )
        .with_fix(fix::exec_form(context.dockerfile, instruction));
    context.report(diagnostic, item);
}

fn expose_ports(
    context: &mut Context<'_>,
    item: usize,
    ports: &[String],
    environment: &strata_dockerfile::EnvironmentList,
) {
    let lexer = Lexer::new(context.dockerfile.escape);
    let instruction = context.items[item].instruction;
    for port in ports {
        let Ok(words) = lexer.expand_words(port, environment) else {
            return;
        };
        for word in words {
            let parts: Vec<&str> = word.split(':').collect();
            let container = parts.last().copied().unwrap_or("");
            let has_host = parts.len() > 1;
            let Some((number, protocol)) = container.split_once('/').or(Some((container, "")))
            else {
                continue;
            };
            if number.is_empty() {
                return;
            }
            if !matches!(
                protocol.to_lowercase().as_str(),
                "" | "tcp" | "udp" | "sctp"
            ) {
                return;
            }
            if protocol != protocol.to_lowercase() {
                let diagnostic = context
                    .diagnostic(
                        &EXPOSE_PROTO_CASING,
                        instruction.span,
                        format!(
                            "Defined protocol '{word}' in EXPOSE instruction should be lowercase"
                        ),
                    )
                    .with_fix(fix::lowercase_protocol(instruction, port));
                context.report(diagnostic, item);
            }
            if has_host {
                let diagnostic = context.diagnostic(
                    &EXPOSE_INVALID_FORMAT,
                    instruction.span,
                    format!(
                        "EXPOSE instruction should not define an IP address or host-port mapping, found '{word}'"
                    ),
                );
                context.report(diagnostic, item);
            }
        }
    }
}

fn copy_ignored(context: &mut Context<'_>, item: usize, command: &str, sources: &[String]) {
    for source in sources {
        if !context.facts.copy_source_ignored(source) {
            continue;
        }
        let cleaned = strata_go::path::clean_str(source);
        let span = context.items[item].span();
        let diagnostic = context.diagnostic(
            &COPY_IGNORED_FILE,
            span,
            format!(
                "Attempting to {command} file {} that is excluded by .dockerignore",
                strconv::quote(&cleaned)
            ),
        );
        context.report(diagnostic, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for secret in [
            "API_KEY",
            "password",
            "GITHUB_TOKEN",
            "aws_secret_access_key",
            "AUTH",
        ] {
            assert!(is_secret_key(secret), "{secret}");
        }
        for fine in [
            "PUBLIC_KEY",
            "KEY_FILE",
            "TOKEN_VERSION",
            "KEYBOARD",
            "MONKEY",
        ] {
            assert!(!is_secret_key(fine), "{fine}");
        }
    }
}
