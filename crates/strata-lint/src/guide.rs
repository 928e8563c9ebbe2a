//! The guide's common mistakes: unpinned base images, the whole context
//! copied before a dependency install, running as root, no .dockerignore,
//! `apt-get update` alone, consecutive RUNs, ADD for plain files, no
//! HEALTHCHECK, `RUN cd`, cleanup in a later layer, apt lists left behind.
//! Where hadolint has the same rule, its semantics are kept (DL3006, DL3007,
//! DL3009, DL3020, DL3059) so findings line up with hadolint's.

use std::collections::BTreeSet;

use strata_dockerfile::{Instruction, Kind};

use crate::context::Context;
use crate::fix;
use crate::images::{known_image, split_image};
use crate::predicates::{
    ARCHIVE_EXTENSIONS, FromKey, drop_quotes, from_key, has_cache_mount, is_remote, only_cd,
    run_instruction,
};
use crate::rules::*;
use crate::shell::{Script, ShellCommand};

pub(crate) fn check(context: &mut Context<'_>) {
    pin_base_image_version(context);
    copy_all_before_install(context);
    runs_as_root(context);
    missing_dockerignore(context);
    apt_get_update_alone(context);
    consecutive_runs(context);
    add_instead_of_copy(context);
    missing_healthcheck(context);
    run_cd_no_effect(context);
    cleanup_in_later_layer(context);
    apt_lists_not_cleaned(context);
}

/// DL3006 and DL3007.
fn pin_base_image_version(context: &mut Context<'_>) {
    let mut aliases: BTreeSet<String> = BTreeSet::new();
    for stage in 0..context.stages.len() {
        let item = context.stages[stage].item;
        let instruction = context.items[item].instruction;
        let Some(word) = instruction.arguments.first() else {
            continue;
        };
        let parts = split_image(&word.text);
        let mut finding = None;
        if parts.name != "scratch" && parts.digest.is_none() {
            match &parts.tag {
                None if !parts.name.starts_with('$') && !aliases.contains(&parts.name) => {
                    finding = Some((
                        format!(
                            "Image '{}' has no tag: the build takes whatever is latest that day; pin a version",
                            word.text
                        ),
                        "DL3006",
                    ));
                }
                Some(tag) if tag == "latest" => {
                    finding = Some((
                        format!(
                            "Image '{}' uses the latest tag, which changes under you; pin a version",
                            word.text
                        ),
                        "DL3007",
                    ));
                }
                _ => {}
            }
        }
        if let Some(alias) = &context.stages[stage].alias {
            aliases.insert(alias.clone());
        }
        if let Some((message, alias)) = finding {
            let diagnostic = context
                .diagnostic(&PIN_BASE_IMAGE_VERSION, word.span, message)
                .with_aliases(&[alias]);
            context.report(diagnostic, item);
        }
    }
}

/// Whether a COPY/ADD (from the context) copies all of it: `.`, `./`, `*`.
fn copies_whole_context(instruction: &Instruction) -> bool {
    if !matches!(instruction.kind, Some(Kind::Copy | Kind::Add))
        || instruction.flags_named("from").next().is_some()
    {
        return false;
    }
    let arguments = &instruction.arguments;
    if arguments.len() < 2 {
        return false;
    }
    arguments[..arguments.len() - 1].iter().any(|word| {
        let text = word.text.trim_matches('"');
        text == "*" || strata_go::path::clean_str(text) == "."
    })
}

fn base_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// A command that installs dependencies from a manifest alone.
fn dependency_install(command: &ShellCommand) -> Option<String> {
    let name = base_name(&command.name);
    let words = command.arguments_without_flags();
    let first = words.first().copied().unwrap_or("");
    let rest = words.len().saturating_sub(1);
    let found = match name {
        "npm" => {
            matches!(first, "ci" | "clean-install")
                || (matches!(first, "install" | "i") && rest == 0)
        }
        "yarn" => words.is_empty() || (first == "install" && rest == 0),
        "pnpm" => (matches!(first, "install" | "i") && rest == 0) || first == "fetch",
        "bun" => first == "install" && rest == 0,
        "pip" | "pip3" => first == "install" && command.has_any_flag(&["r", "requirement"]),
        "python" | "python3" => {
            command.is_pip_install() && command.has_any_flag(&["r", "requirement"])
        }
        "uv" => first == "sync" || (first == "pip" && command.has_any_flag(&["r", "requirement"])),
        "pipenv" | "poetry" | "pdm" => first == "install" || first == "sync",
        "go" => first == "mod" && words.get(1) == Some(&"download"),
        "bundle" | "bundler" => words.is_empty() || first == "install",
        "cargo" => first == "fetch",
        "composer" => first == "install",
        "mvn" | "mvnw" => command
            .arguments
            .iter()
            .any(|a| a.starts_with("dependency:go-offline") || a.starts_with("dependency:resolve")),
        "gradle" | "gradlew" => words.contains(&"dependencies"),
        "dotnet" => first == "restore",
        "mix" => first == "deps.get",
        _ => false,
    };
    found.then(|| {
        let mut text = command.name.clone();
        for argument in command.arguments.iter().take(3) {
            text.push(' ');
            text.push_str(argument);
        }
        text
    })
}

fn copy_all_before_install(context: &mut Context<'_>) {
    for stage in 0..context.stages.len() {
        let mut whole: Option<usize> = None;
        let mut reported = false;
        for index in context.stage_items(stage) {
            let item = &context.items[index];
            if whole.is_none() && copies_whole_context(item.instruction) {
                whole = Some(index);
                continue;
            }
            let (Some(copy), false) = (whole, reported) else {
                continue;
            };
            let Some(script) = item.run_script() else {
                continue;
            };
            if let Some(install) = script.commands.iter().find_map(dependency_install) {
                let copy_instruction = context.items[copy].instruction;
                let line = item.instruction.start_line;
                let diagnostic = context.diagnostic(
                    &COPY_ALL_BEFORE_INSTALL,
                    copy_instruction.span,
                    format!(
                        "The whole context is copied before `{install}` (line {line}): any source change re-runs the install"
                    ),
                );
                context.report(diagnostic, copy);
                reported = true;
            }
        }
    }
}

fn is_root_user(user: &str) -> bool {
    user == "root" || user == "0" || user.starts_with("root:") || user.starts_with("0:")
}

fn runs_as_root(context: &mut Context<'_>) {
    let Some(last) = context.final_stage() else {
        return;
    };
    for stage in context.lineage(last) {
        let range = context.stage_items(stage);
        let user = range
            .rev()
            .find(|&index| context.items[index].kind() == Some(Kind::User));
        if let Some(index) = user {
            let instruction = context.items[index].instruction;
            let text = instruction
                .arguments
                .first()
                .map(|word| word.text.clone())
                .unwrap_or_default();
            if is_root_user(&text) {
                let diagnostic = context
                    .diagnostic(
                        &RUNS_AS_ROOT,
                        instruction.span,
                        format!("The final stage runs as root: its last USER is {text}"),
                    )
                    .with_aliases(&["DL3002"]);
                context.report(diagnostic, index);
            }
            return;
        }
        if context.stages[stage].parent.is_some() {
            continue;
        }
        let image = &context.stages[stage].image;
        let image_user = context
            .facts
            .base_image(image)
            .or_else(|| known_image(image))
            .map(|facts| facts.user)
            .unwrap_or_default();
        if !image_user.is_empty() && !is_root_user(&image_user) {
            return;
        }
    }
    let item = context.stages[last].item;
    let span = context.items[item].span();
    let diagnostic = context
        .diagnostic(
            &RUNS_AS_ROOT,
            span,
            "The final stage runs as root: no USER instruction switches to another user"
                .to_string(),
        )
        .with_aliases(&[]);
    context.report(diagnostic, item);
}

fn missing_dockerignore(context: &mut Context<'_>) {
    if context.facts.has_ignore_file() != Some(false) {
        return;
    }
    let notable: Vec<String> = context
        .facts
        .notable_paths()
        .iter()
        .filter(|path| path.sent)
        .map(|path| path.path.to_string_lossy().into_owned())
        .collect();
    if notable.is_empty() {
        return;
    }
    let Some(index) = (0..context.items.len())
        .find(|&index| copies_whole_context(context.items[index].instruction))
    else {
        return;
    };
    let instruction = context.items[index].instruction;
    let diagnostic = context.diagnostic(
        &MISSING_DOCKERIGNORE,
        instruction.span,
        format!(
            "The context has no .dockerignore, so copying all of it sends {} into the build",
            notable.join(", ")
        ),
    );
    context.report(diagnostic, index);
}

fn is_apt(command: &ShellCommand) -> bool {
    matches!(command.name.as_str(), "apt-get" | "apt")
}

fn uses_apt_lists(command: &ShellCommand) -> bool {
    is_apt(command)
        && command.has_arguments(
            &["apt-get", "apt"],
            &[
                "install",
                "upgrade",
                "dist-upgrade",
                "full-upgrade",
                "build-dep",
                "source",
                "satisfy",
                "download",
            ],
        )
}

fn apt_get_update_alone(context: &mut Context<'_>) {
    for index in 0..context.items.len() {
        let Some(script) = context.items[index].run_script() else {
            continue;
        };
        let updates = script
            .commands
            .iter()
            .any(|command| is_apt(command) && command.has_argument("update"));
        if !updates || script.any(uses_apt_lists) {
            continue;
        }
        let instruction = context.items[index].instruction;
        let next = context.items.get(index + 1).filter(|next| {
            next.run_script()
                .is_some_and(|script| script.any(uses_apt_lists))
        });
        let fix =
            next.and_then(|next| fix::join_runs(context.dockerfile, instruction, next.instruction));
        let diagnostic = context
            .diagnostic(
                &APT_GET_UPDATE_ALONE,
                instruction.span,
                "`apt-get update` runs in a RUN of its own: its cached layer keeps stale package lists for later installs".to_string(),
            )
            .with_fix(fix);
        context.report(diagnostic, index);
    }
}

/// DL3059: consecutive RUNs with the same flags, each of at most one command.
fn consecutive_runs(context: &mut Context<'_>) {
    let mut previous: Option<(Vec<String>, usize)> = None;
    for index in 0..context.items.len() {
        let item = &context.items[index];
        let Some(script) = item.run_script() else {
            previous = None;
            continue;
        };
        let mut flags: Vec<String> = item
            .instruction
            .flags
            .iter()
            .map(|flag| flag.text.clone())
            .collect();
        flags.sort();
        let count = script.commands.len();
        match &previous {
            Some((previous_flags, previous_count))
                if *previous_flags == flags && count <= 1 && *previous_count <= 1 =>
            {
                let span = item.span();
                let diagnostic = context.diagnostic(
                    &CONSECUTIVE_RUN_INSTRUCTIONS,
                    span,
                    "Multiple consecutive RUN instructions: consider combining them".to_string(),
                );
                context.report(diagnostic, index);
            }
            _ => previous = Some((flags, count)),
        }
    }
}

pub(crate) fn is_archive(path: &str) -> bool {
    let path = drop_quotes(path);
    ARCHIVE_EXTENSIONS
        .iter()
        .any(|extension| path.ends_with(extension))
}

fn is_url(path: &str) -> bool {
    let path = drop_quotes(path);
    path.starts_with("https://") || path.starts_with("http://")
}

/// DL3020, with a fix to COPY when every source is a plain path.
fn add_instead_of_copy(context: &mut Context<'_>) {
    for index in 0..context.items.len() {
        let instruction = context.items[index].instruction;
        if instruction.kind != Some(Kind::Add) || instruction.arguments.len() < 2 {
            continue;
        }
        let arguments = &instruction.arguments;
        let sources: Vec<&str> = arguments[..arguments.len() - 1]
            .iter()
            .map(|word| word.text.as_str())
            .filter(|text| !text.starts_with("<<"))
            .collect();
        if sources.is_empty()
            || sources
                .iter()
                .all(|source| is_archive(source) || is_url(source))
        {
            continue;
        }
        let plain = sources
            .iter()
            .all(|source| !is_archive(source) && !is_url(source) && !is_remote(source));
        let add_only_flags = instruction
            .flags
            .iter()
            .any(|flag| matches!(flag.name(), "checksum" | "keep-git-dir" | "unpack"));
        let fix = if plain && !add_only_flags {
            fix::add_to_copy(instruction)
        } else {
            None
        };
        let diagnostic = context
            .diagnostic(
                &ADD_INSTEAD_OF_COPY,
                instruction.keyword.span.cover(instruction.span),
                "ADD copies plain files and folders here: use COPY".to_string(),
            )
            .with_fix(fix);
        context.report(diagnostic, index);
    }
}

fn missing_healthcheck(context: &mut Context<'_>) {
    let Some(last) = context.final_stage() else {
        return;
    };
    let mut expose: Option<usize> = None;
    for stage in context.lineage(last) {
        for index in context.stage_items(stage).rev() {
            match context.items[index].kind() {
                Some(Kind::Healthcheck) => return,
                Some(Kind::Expose) if expose.is_none() => expose = Some(index),
                _ => {}
            }
        }
        if context.stages[stage].parent.is_none() {
            let image = &context.stages[stage].image;
            if context
                .facts
                .base_image(image)
                .is_some_and(|facts| facts.healthcheck)
            {
                return;
            }
        }
    }
    let Some(index) = expose else {
        return;
    };
    let instruction = context.items[index].instruction;
    let ports = instruction.argument_texts().join(" ");
    let diagnostic = context.diagnostic(
        &MISSING_HEALTHCHECK,
        instruction.span,
        format!("The final image exposes {ports} but defines no HEALTHCHECK"),
    );
    context.report(diagnostic, index);
}

fn run_cd_no_effect(context: &mut Context<'_>) {
    for index in 0..context.items.len() {
        let Some(script) = context.items[index].run_script() else {
            continue;
        };
        if !only_cd(script) {
            continue;
        }
        let target = script.commands[0]
            .arguments_without_flags()
            .first()
            .map(|dir| (*dir).to_string())
            .unwrap_or_else(|| "~".to_string());
        let span = context.items[index].span();
        let diagnostic = context.diagnostic(
            &RUN_CD_NO_EFFECT,
            span,
            format!("This RUN only changes directory to {target}, which does not last beyond it: use WORKDIR {target}"),
        );
        context.report(diagnostic, index);
    }
}

/// What an instruction leaves behind that a later RUN may try to remove.
#[derive(Default)]
struct Created {
    /// Files and directories written (download targets, copy destinations ...).
    paths: Vec<String>,
    /// /var/lib/apt/lists, from `apt-get update`, not removed in the same RUN.
    apt_lists: bool,
    /// /var/cache/apt, from `apt-get install`, not cleaned in the same RUN.
    apt_cache: bool,
    /// Packages installed with apt, apk, yum or dnf (a later purge keeps their bytes).
    packages: bool,
    apk_cache: bool,
    yum_cache: bool,
    pip_cache: bool,
    npm_cache: bool,
    yarn_cache: bool,
}

fn url_basename(text: &str) -> Option<String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .or_else(|| text.strip_prefix("ftp://"))?;
    let path = rest.split(['?', '#']).next().unwrap_or(rest);
    let name = path.rsplit('/').next()?;
    (!name.is_empty() && path.contains('/')).then(|| name.to_string())
}

/// The paths an `rm` removes (its arguments that are not flags).
fn removed_paths(command: &ShellCommand) -> Vec<String> {
    if base_name(&command.name) != "rm" {
        return Vec::new();
    }
    command
        .arguments_without_flags()
        .into_iter()
        .map(|path| drop_quotes(path).to_string())
        .collect()
}

fn removes_under(script: &Script, prefix: &str) -> bool {
    script.commands.iter().any(|command| {
        removed_paths(command).iter().any(|path| {
            path_prefix(path).starts_with(prefix)
                || prefix.starts_with(path_prefix(path))
                    && !path_prefix(path).is_empty()
                    && path_prefix(path) != "/"
        })
    })
}

/// What `script` creates; with `left_behind`, only what it does not also
/// remove itself.
fn created_by_script(script: &Script, left_behind: bool) -> Created {
    let mut created = Created::default();
    for command in &script.commands {
        let name = base_name(&command.name);
        let words = command.arguments_without_flags();
        match name {
            "apt-get" | "apt" | "aptitude" => {
                created.apt_lists |= words.contains(&"update");
                created.apt_cache |= words.contains(&"install");
                created.packages |= words.contains(&"install");
            }
            "apk" => {
                let adds = words.iter().any(|w| matches!(*w, "add" | "update"));
                created.apk_cache |= adds && !command.has_flag("no-cache");
                created.packages |= words.contains(&"add");
            }
            "yum" | "dnf" | "microdnf" => {
                created.yum_cache |= words.contains(&"install");
                created.packages |= words.contains(&"install");
            }
            "npm" => {
                created.npm_cache |= words.iter().any(|w| matches!(*w, "install" | "i" | "ci"))
            }
            "yarn" => created.yarn_cache |= words.is_empty() || words.contains(&"install"),
            _ if command.is_pip_install() => {
                created.pip_cache |= !command.has_argument("--no-cache-dir");
            }
            _ => {}
        }
        for argument in &command.arguments {
            if let Some(file) = url_basename(argument) {
                created.paths.push(file);
            }
        }
        for flag in ["O", "o", "output", "output-document", "d", "C"] {
            created
                .paths
                .extend(command.flag_values(flag).into_iter().map(str::to_string));
        }
        if matches!(name, "cp" | "mv" | "git")
            && let Some(last) = words.last()
            && words.len() >= 2
        {
            created.paths.push((*last).to_string());
        }
        created.paths.extend(command.redirects.iter().cloned());
    }
    if !left_behind {
        return created;
    }
    // What the same RUN already cleaned up is not left behind.
    let has = |name: &str, argument: &str| {
        script.any(|command| base_name(&command.name) == name && command.has_argument(argument))
    };
    if removes_under(script, "/var/lib/apt/lists") {
        created.apt_lists = false;
    }
    if has("apt-get", "clean") || has("apt", "clean") || removes_under(script, "/var/cache/apt") {
        created.apt_cache = false;
    }
    if removes_under(script, "/var/cache/apk") {
        created.apk_cache = false;
    }
    if has("yum", "clean")
        || has("dnf", "clean")
        || removes_under(script, "/var/cache/yum")
        || removes_under(script, "/var/cache/dnf")
    {
        created.yum_cache = false;
    }
    if has("npm", "cache") || removes_under(script, "/root/.npm") {
        created.npm_cache = false;
    }
    if has("yarn", "cache") {
        created.yarn_cache = false;
    }
    if has("pip", "cache") || has("pip3", "cache") || removes_under(script, "/root/.cache") {
        created.pip_cache = false;
    }
    let removed: Vec<String> = script.commands.iter().flat_map(removed_paths).collect();
    created
        .paths
        .retain(|path| !removed.iter().any(|gone| same_place(gone, path)));
    created
}

fn created_by_copy(instruction: &Instruction) -> Created {
    let mut created = Created::default();
    let arguments = &instruction.arguments;
    if let Some((destination, sources)) = arguments.split_last() {
        let destination = drop_quotes(&destination.text).to_string();
        if destination.ends_with('/') {
            for source in sources {
                let name = drop_quotes(&source.text)
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                if !name.is_empty() && name != "." && name != "*" {
                    created.paths.push(format!("{destination}{name}"));
                    created.paths.push(name);
                }
            }
            created.paths.push(destination);
        } else if !destination.is_empty() && destination != "." {
            created.paths.push(destination);
        }
    }
    created
}

/// The part of a path before its first glob, without trailing slashes.
fn path_prefix(path: &str) -> &str {
    let end = path.find(['*', '?', '[']).unwrap_or(path.len());
    path[..end].trim_end_matches('/')
}

fn same_place(removed: &str, created: &str) -> bool {
    let removed = path_prefix(drop_quotes(removed));
    let created = drop_quotes(created).trim_end_matches('/');
    if removed.is_empty() || created.is_empty() || removed == "/" || removed == "." {
        return false;
    }
    if removed == created {
        return true;
    }
    let under = |inner: &str, outer: &str| {
        inner.len() > outer.len()
            && inner.starts_with(outer)
            && inner.as_bytes()[outer.len()] == b'/'
    };
    under(created, removed)
        || under(removed, created)
            && !matches!(
                created,
                "/tmp" | "/var" | "/usr" | "/opt" | "/root" | "/etc"
            )
        || (!removed.contains('/') && created.rsplit('/').next() == Some(removed))
}

/// A cleanup command and, for it, whether it undoes what `created` made
/// (and not what the RUN it is in, `current`, makes itself).
fn cleanup_of(command: &ShellCommand, created: &Created, current: &Created) -> Option<String> {
    let name = base_name(&command.name);
    let words = command.arguments_without_flags();
    let describe = || {
        let mut text = command.name.clone();
        for argument in &command.arguments {
            text.push(' ');
            text.push_str(argument);
        }
        text
    };
    let matched = match name {
        "rm" => removed_paths(command).iter().any(|removed| {
            let prefix = path_prefix(removed);
            (prefix.starts_with("/var/lib/apt/lists") && created.apt_lists && !current.apt_lists)
                || (prefix.starts_with("/var/cache/apt") && created.apt_cache && !current.apt_cache)
                || (prefix.starts_with("/var/cache/apk") && created.apk_cache && !current.apk_cache)
                || ((prefix.starts_with("/var/cache/yum") || prefix.starts_with("/var/cache/dnf"))
                    && created.yum_cache
                    && !current.yum_cache)
                || ((prefix.ends_with(".cache/pip") || prefix.ends_with(".cache"))
                    && created.pip_cache
                    && !current.pip_cache)
                || (prefix.ends_with(".npm") && created.npm_cache && !current.npm_cache)
                || (created.paths.iter().any(|path| same_place(removed, path))
                    && !current.paths.iter().any(|path| same_place(removed, path)))
        }),
        "apt-get" | "apt" => {
            (created.apt_cache && words.iter().any(|w| matches!(*w, "clean" | "autoclean")))
                || (created.packages
                    && words
                        .iter()
                        .any(|w| matches!(*w, "autoremove" | "purge" | "remove")))
        }
        "apk" => created.packages && words.contains(&"del"),
        "yum" | "dnf" | "microdnf" => {
            (created.yum_cache && words.contains(&"clean"))
                || (created.packages
                    && words
                        .iter()
                        .any(|w| matches!(*w, "remove" | "erase" | "autoremove")))
        }
        "npm" => created.npm_cache && words.contains(&"cache"),
        "yarn" => created.yarn_cache && words.contains(&"cache"),
        "pip" | "pip3" => created.pip_cache && words.contains(&"cache"),
        _ => false,
    };
    matched.then(describe)
}

fn cleanup_in_later_layer(context: &mut Context<'_>) {
    for stage in 0..context.stages.len() {
        let mut created: Vec<(usize, Created)> = Vec::new();
        for index in context.stage_items(stage) {
            let item = &context.items[index];
            match item.kind() {
                Some(Kind::Copy | Kind::Add) => {
                    created.push((index, created_by_copy(item.instruction)));
                }
                Some(Kind::Run) => {
                    let Some(script) = item.run_script().cloned() else {
                        continue;
                    };
                    let script = &script;
                    let current = created_by_script(script, false);
                    // A RUN that installs again cleans up after itself, not after
                    // an earlier layer.
                    let reinstalls = current.packages;
                    let found = script.commands.iter().find_map(|command| {
                        if reinstalls && !matches!(base_name(&command.name), "rm") {
                            return None;
                        }
                        created.iter().find_map(|(origin, earlier)| {
                            cleanup_of(command, earlier, &current).map(|text| (text, *origin))
                        })
                    });
                    if let Some((text, origin)) = found {
                        let line = context.items[origin].instruction.start_line;
                        let span = context.items[index].span();
                        let diagnostic = context.diagnostic(
                            &CLEANUP_IN_LATER_LAYER,
                            span,
                            format!(
                                "`{text}` removes files that line {line} created: their bytes stay in that earlier layer"
                            ),
                        );
                        context.report(diagnostic, index);
                    }
                    created.push((index, created_by_script(script, true)));
                }
                _ => {}
            }
        }
    }
}

/// DL3009.
fn apt_lists_not_cleaned(context: &mut Context<'_>) {
    // hadolint folds the ONBUILD triggers separately, as if they were a
    // Dockerfile of their own: two sets of stages, two "last FROM"s.
    let scratch = ("scratch".to_string(), String::new(), String::new());
    let mut images_used: [BTreeSet<String>; 2] = [BTreeSet::new(), BTreeSet::new()];
    let mut last_from: [FromKey; 2] = [scratch.clone(), scratch];
    let mut remembered: Vec<(usize, usize, FromKey)> = Vec::new();
    for index in 0..context.items.len() {
        let item = &context.items[index];
        let fold = usize::from(item.kind() == Some(Kind::Onbuild));
        let instruction = run_instruction(item.instruction);
        match instruction.kind {
            Some(Kind::From) => {
                let key = from_key(instruction);
                images_used[fold].insert(split_image(&key.0).name);
                last_from[fold] = key;
            }
            Some(Kind::Run) => {
                let Some(script) = &item.script else { continue };
                let updates = script.any(|command| {
                    command.is("apt", "update")
                        || command.is("apt-get", "update")
                        || command.is("aptitude", "update")
                });
                let cleans = script.any(|command| {
                    command.has_arguments(&["rm"], &["-rf", "/var/lib/apt/lists/*"])
                });
                if !updates || cleans {
                    continue;
                }
                if has_cache_mount(instruction, "/var/lib/apt/lists")
                    || (has_cache_mount(instruction, "/var/lib/apt")
                        && has_cache_mount(instruction, "/var/cache/apt"))
                {
                    continue;
                }
                remembered.push((index, fold, last_from[fold].clone()));
            }
            _ => {}
        }
    }
    for (index, fold, key) in remembered {
        let report =
            key == last_from[fold] || (!key.1.is_empty() && images_used[fold].contains(&key.1));
        if !report {
            continue;
        }
        let span = context.items[index].span();
        let diagnostic = context.diagnostic(
            &APT_LISTS_NOT_CLEANED,
            span,
            "This RUN updates the apt lists and leaves them in the layer: end it with `rm -rf /var/lib/apt/lists/*`".to_string(),
        );
        context.report(diagnostic, index);
    }
}
