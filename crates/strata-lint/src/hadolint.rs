//! hadolint's rules (DL3000-DL4006) with hadolint's semantics, over the
//! commands of each RUN as ShellCheck's parser finds them. Rules hadolint
//! also applies to ONBUILD triggers do so here.

use std::collections::{BTreeMap, BTreeSet};

use strata_dockerfile::{Instruction, Kind};

use crate::context::Context;
use crate::images::split_image;
use crate::predicates::{
    ARCHIVE_EXTENSIONS, FromKey, drop_quotes, from_key, hadolint_absolute, has_cache_mount,
    is_sensitive_name, only_cd, run_instruction,
};
use crate::rules::*;
use crate::shell::{Script, ShellCommand, contains_sequence};

pub(crate) fn check(context: &mut Context<'_>) {
    simple_run_rules(context);
    pip_cache(context);
    workdir_instead_of_cd(context);
    add_to_extract_archive(context);
    expose_range(context);
    copy_rules(context);
    untrusted_registry(context);
    yum_dnf_versions(context);
    env_self_reference(context);
    copy_relative_without_workdir(context);
    invalid_label_key(context);
    yarn_cache(context);
    non_numeric_user(context);
    wget_and_curl(context);
    pipefail(context);
    sensitive_names(context);
    healthcheck_shell_form(context);
    workdir_outside_stages(context);
}

/// DL3025 for HEALTHCHECK: hadolint asks for exec form there too (BuildKit
/// does not check HEALTHCHECK).
fn healthcheck_shell_form(context: &mut Context<'_>) {
    for index in 0..context.items.len() {
        let instruction = context.items[index].instruction;
        let is_cmd = instruction
            .arguments
            .first()
            .is_some_and(|kind| kind.text.eq_ignore_ascii_case("CMD"));
        if instruction.kind != Some(Kind::Healthcheck) || instruction.json || !is_cmd {
            continue;
        }
        let keyword = &instruction.keyword.text;
        let diagnostic = context
            .diagnostic(
                &JSON_ARGS_RECOMMENDED,
                instruction.span,
                format!(
                    "JSON arguments recommended for {keyword}: in shell form every check also starts /bin/sh, which the image must have"
                ),
            )
            .with_aliases(&["DL3025"])
            .with_fix(crate::fix::healthcheck_exec_form(context.dockerfile, instruction));
        context.report_beyond_buildkit(diagnostic, index);
    }
}

/// DL3000 and DL3025 for WORKDIR, CMD and ENTRYPOINT before any FROM
/// (BuildKit never dispatches them; the build fails there).
fn workdir_outside_stages(context: &mut Context<'_>) {
    for index in 0..context.items.len() {
        let item = &context.items[index];
        if item.stage.is_some() {
            continue;
        }
        if matches!(item.kind(), Some(Kind::Cmd | Kind::Entrypoint))
            && !item.instruction.json
            && !item.instruction.arguments.is_empty()
        {
            let keyword = &item.instruction.keyword.text;
            let diagnostic = context
                .diagnostic(
                    &JSON_ARGS_RECOMMENDED,
                    item.span(),
                    format!(
                        "JSON arguments recommended for {keyword} to prevent unintended behavior related to OS signals"
                    ),
                )
                .with_aliases(&["DL3025"]);
            context.report_beyond_buildkit(diagnostic, index);
            continue;
        }
        if item.kind() != Some(Kind::Workdir) {
            continue;
        }
        let written = item
            .instruction
            .arguments
            .first()
            .map(|word| word.text.clone())
            .unwrap_or_default();
        if hadolint_absolute(&written) {
            continue;
        }
        let diagnostic = context
            .diagnostic(
                &WORKDIR_RELATIVE_PATH,
                item.span(),
                format!(
                    "Relative workdir {} can have unexpected results if the base image changes",
                    strata_go::strconv::quote(&written)
                ),
            )
            .with_aliases(&["DL3000"]);
        context.report_beyond_buildkit(diagnostic, index);
    }
}

/// The RUN-like items: (item, whether it is an ONBUILD trigger).
fn runs(context: &Context<'_>) -> Vec<(usize, bool)> {
    context
        .items
        .iter()
        .filter(|item| item.script.is_some())
        .map(|item| (item.index, item.kind() == Some(Kind::Onbuild)))
        .collect()
}

fn script<'c>(context: &'c Context<'_>, index: usize) -> &'c Script {
    static EMPTY: std::sync::OnceLock<Script> = std::sync::OnceLock::new();
    context.items[index]
        .script
        .as_ref()
        .unwrap_or_else(|| EMPTY.get_or_init(Script::default))
}

fn report(context: &mut Context<'_>, rule: &'static Rule, index: usize, message: String) {
    let span = context.items[index].span();
    let diagnostic = context.diagnostic(rule, span, message);
    context.report(diagnostic, index);
}

// ---------------------------------------------------------------------------
// Package managers.

fn apt_get_packages(script: &Script) -> Vec<String> {
    let mut packages = Vec::new();
    for command in &script.commands {
        if !command.is("apt-get", "install") {
            continue;
        }
        let dropped = command.without_flag_values(&["t", "target-release"]);
        packages.extend(
            dropped
                .arguments_without_flags()
                .into_iter()
                .filter(|argument| *argument != "install")
                .map(str::to_string),
        );
    }
    packages
}

fn apk_packages(script: &Script) -> Vec<String> {
    let mut packages = Vec::new();
    for command in &script.commands {
        if !command.is("apk", "add") {
            continue;
        }
        let dropped = command.without_flag_values(&["t", "virtual", "repository", "X"]);
        packages.extend(
            dropped
                .arguments_without_flags()
                .into_iter()
                .filter(|argument| *argument != "add")
                .map(str::to_string),
        );
    }
    packages
}

const PIP_VALUE_FLAGS: [&str; 26] = [
    "abi",
    "b",
    "build",
    "e",
    "editable",
    "extra-index-url",
    "f",
    "find-links",
    "i",
    "index-url",
    "implementation",
    "no-binary",
    "only-binary",
    "platform",
    "prefix",
    "progress-bar",
    "proxy",
    "python",
    "python-version",
    "root",
    "root-user-action",
    "src",
    "t",
    "target",
    "trusted-host",
    "upgrade-strategy",
];

const VCS_SCHEMES: [&str; 22] = [
    "git+file",
    "git+https",
    "git+ssh",
    "git+http",
    "git+git",
    "git",
    "hg+file",
    "hg+http",
    "hg+https",
    "hg+ssh",
    "hg+static-http",
    "svn",
    "svn+svn",
    "svn+http",
    "svn+https",
    "svn+ssh",
    "bzr+http",
    "bzr+https",
    "bzr+ssh",
    "bzr+sftp",
    "bzr+ftp",
    "bzr+lp",
];

fn strip_install_prefix(words: Vec<&str>) -> Vec<&str> {
    words
        .into_iter()
        .skip_while(|word| *word != "install")
        .skip_while(|word| *word == "install")
        .collect()
}

fn pip_forgot_to_pin(command: &ShellCommand) -> bool {
    if !command.is_pip_install() {
        return false;
    }
    let constrained = command.has_flag("constraint") || command.has_flag("c");
    let requirement = contains_sequence(&command.arguments, &["--requirement"])
        || contains_sequence(&command.arguments, &["-r"])
        || contains_sequence(&command.arguments, &["."]);
    let dropped = command.without_flag_values(&PIP_VALUE_FLAGS);
    let packages = strip_install_prefix(dropped.arguments_without_flags());
    let is_vcs = |package: &str| VCS_SCHEMES.iter().any(|scheme| package.starts_with(scheme));
    let pinned = |package: &str| {
        ["==", ">=", "<=", ">", "<", "!=", "~=", "==="]
            .iter()
            .any(|symbol| package.contains(symbol))
            || (is_vcs(package) && package.contains('@'))
            || package.ends_with(".whl")
            || package.ends_with(".tar.gz")
            || (!is_vcs(package) && package.contains('/'))
    };
    !constrained && !requirement && !packages.iter().all(|package| pinned(package))
}

fn npm_forgot_to_pin(command: &ShellCommand) -> bool {
    if !command.is("npm", "install") {
        return false;
    }
    let dropped = command.without_flag_values(&["loglevel", "registry"]);
    let words = dropped.arguments_without_flags();
    if words.first() != Some(&"install") {
        return false;
    }
    let packages = strip_install_prefix(words);
    let pinned = |package: &str| {
        if ["git://", "git+ssh://", "git+http://", "git+https://"]
            .iter()
            .any(|prefix| package.starts_with(prefix))
        {
            return package.contains('#');
        }
        if [".tar", ".tar.gz", ".tgz"]
            .iter()
            .any(|suffix| package.ends_with(suffix))
        {
            return true;
        }
        if ["/", "./", "../", "~/"]
            .iter()
            .any(|prefix| package.starts_with(prefix))
        {
            return true;
        }
        let unscoped = if package.starts_with('@') {
            package.trim_start_matches(|c| c != '/')
        } else {
            package
        };
        unscoped.contains('@')
    };
    !packages.iter().all(|package| pinned(package))
}

fn gems(script: &Script) -> Vec<String> {
    let mut gems = Vec::new();
    for command in &script.commands {
        if !command.has_arguments(&["gem"], &["install", "i"])
            || command.is("gem", "-v")
            || command.is("gem", "--version")
            || (command.name == "gem"
                && command
                    .arguments
                    .iter()
                    .any(|argument| argument.starts_with("--version=")))
        {
            continue;
        }
        let until_dashes: Vec<&String> = command
            .arguments
            .iter()
            .take_while(|argument| *argument != "--")
            .collect();
        let mut index = 0;
        while index < until_dashes.len() {
            let argument = until_dashes[index];
            if argument.starts_with('-') {
                index += 2;
                continue;
            }
            if argument != "install" && argument != "i" {
                gems.push(argument.clone());
            }
            index += 1;
        }
    }
    gems
}

fn go_packages(script: &Script) -> Vec<String> {
    let mut run = Vec::new();
    for command in &script.commands {
        if command.is("go", "run") {
            for (index, argument) in command.arguments_without_flags().into_iter().enumerate() {
                if argument != "run" && index <= 1 {
                    run.push(argument.to_string());
                }
            }
        }
    }
    if !run.is_empty() {
        return run;
    }
    let mut get = Vec::new();
    for command in &script.commands {
        if command.has_arguments(&["go"], &["install", "get"]) {
            get.extend(
                command
                    .arguments_without_flags()
                    .into_iter()
                    .filter(|argument| !matches!(*argument, "install" | "get" | "tool"))
                    .map(str::to_string),
            );
        }
    }
    get
}

fn go_pinned(package: &str) -> bool {
    let local = package == "." || package.starts_with('/') || package.starts_with('.');
    local || (package.contains('@') && !package.ends_with("@latest") && !package.ends_with("@none"))
}

fn zypper_packages(script: &Script) -> Vec<String> {
    let mut packages = Vec::new();
    for command in &script.commands {
        if command.has_arguments(&["zypper"], &["install", "in"]) {
            packages.extend(
                command
                    .arguments_without_flags()
                    .into_iter()
                    .filter(|argument| *argument != "install" && *argument != "in")
                    .map(str::to_string),
            );
        }
    }
    packages
}

/// The index of the first command satisfying `first` is before that of the
/// first satisfying `second` (hadolint's "clean after install" test).
fn before(
    script: &Script,
    first: impl Fn(&ShellCommand) -> bool,
    second: impl Fn(&ShellCommand) -> bool,
) -> bool {
    match (script.position(first), script.position(second)) {
        (Some(a), Some(b)) => a < b,
        _ => false,
    }
}

/// A rule that looks at one RUN: its script and the RUN (an ONBUILD's
/// trigger), and the message when the rule finds something.
type RunCheck = fn(&Script, &Instruction) -> Option<String>;

/// The rules that look at one RUN at a time, in the order they report.
const SIMPLE_RUN_RULES: [(&Rule, RunCheck); 23] = [
    (
        &COMMAND_POINTLESS_IN_CONTAINER,
        command_pointless_in_container,
    ),
    (&SUDO_IN_RUN, sudo_in_run),
    (&PIN_APT_GET_VERSIONS, pin_apt_get_versions),
    (&PIN_PIP_VERSIONS, pin_pip_versions),
    (&APT_GET_WITHOUT_YES, apt_get_without_yes),
    (&APT_GET_INSTALL_RECOMMENDS, apt_get_install_recommends),
    (&PIN_NPM_VERSIONS, pin_npm_versions),
    (&PIN_APK_VERSIONS, pin_apk_versions),
    (&APK_ADD_WITHOUT_NO_CACHE, apk_add_without_no_cache),
    (&APT_USED, apt_used),
    (&PIN_GEM_VERSIONS, pin_gem_versions),
    (&YUM_WITHOUT_YES, yum_without_yes),
    (&YUM_CLEAN_MISSING, yum_clean_missing),
    (&ZYPPER_WITHOUT_YES, zypper_without_yes),
    (&ZYPPER_DIST_UPGRADE, zypper_dist_upgrade),
    (&ZYPPER_CLEAN_MISSING, zypper_clean_missing),
    (&PIN_ZYPPER_VERSIONS, pin_zypper_versions),
    (&DNF_WITHOUT_YES, dnf_without_yes),
    (&DNF_CLEAN_MISSING, dnf_clean_missing),
    (&USERADD_HIGH_UID, useradd_high_uid),
    (&WGET_WITHOUT_PROGRESS, wget_without_progress),
    (&PIN_GO_VERSIONS, pin_go_versions),
    (&SYMLINKED_SHELL, symlinked_shell),
];

/// RUN rules that look at one RUN at a time.
fn simple_run_rules(context: &mut Context<'_>) {
    for (index, _) in runs(context) {
        let script = script(context, index).clone();
        let run = run_instruction(context.items[index].instruction);
        let found: Vec<(&'static Rule, String)> = SIMPLE_RUN_RULES
            .iter()
            .filter_map(|(rule, check)| check(&script, run).map(|message| (*rule, message)))
            .collect();
        for (rule, message) in found {
            report(context, rule, index, message);
        }
    }
}

/// The message for the packages of `packages` that are not `pinned`, if any:
/// "Pin versions in {command}: a, b (use {form})".
fn unpinned(
    packages: Vec<String>,
    pinned: impl Fn(&str) -> bool,
    command: &str,
    form: &str,
) -> Option<String> {
    let unpinned: Vec<String> = packages
        .into_iter()
        .filter(|package| !pinned(package))
        .collect();
    if unpinned.is_empty() {
        return None;
    }
    Some(format!(
        "Pin versions in {command}: {} (use {form})",
        unpinned.join(", ")
    ))
}

/// DL3001
fn command_pointless_in_container(script: &Script, _: &Instruction) -> Option<String> {
    let command = script.commands.iter().find(|command| {
        matches!(
            command.name.as_str(),
            "free" | "kill" | "mount" | "ps" | "service" | "shutdown" | "ssh" | "top" | "vim"
        )
    })?;
    Some(format!("`{}` makes no sense in a build step", command.name))
}

/// DL3004
fn sudo_in_run(script: &Script, _: &Instruction) -> Option<String> {
    script.uses("sudo").then(|| {
        "Do not use sudo: RUN already runs as the current USER; use gosu to switch users"
            .to_string()
    })
}

/// DL3008
fn pin_apt_get_versions(script: &Script, _: &Instruction) -> Option<String> {
    unpinned(
        apt_get_packages(script),
        |package| package.contains('=') || package.contains('/') || package.ends_with(".deb"),
        "apt-get install",
        "<package>=<version>",
    )
}

/// DL3013
fn pin_pip_versions(script: &Script, _: &Instruction) -> Option<String> {
    script.any(pip_forgot_to_pin).then(|| {
        "Pin versions in pip install: use <package>==<version> or --requirement <file>".to_string()
    })
}

/// DL3014
fn apt_get_without_yes(script: &Script, _: &Instruction) -> Option<String> {
    script
        .any(|command| {
            command.is("apt-get", "install")
                && !(command.has_any_flag(&["y", "yes", "qq", "assume-yes"])
                    || command.count_flag("q") == 2
                    || command.count_flag("quiet") == 2
                    || command.has_argument("-q=2"))
        })
        .then(|| "Use `apt-get install -y`: a build cannot answer prompts".to_string())
}

/// DL3015
fn apt_get_install_recommends(script: &Script, _: &Instruction) -> Option<String> {
    script
        .any(|command| {
            command.is("apt-get", "install")
                && !(command.has_flag("no-install-recommends")
                    || command.has_argument("APT::Install-Recommends=false"))
        })
        .then(|| {
            "Use `apt-get install --no-install-recommends` to avoid additional packages".to_string()
        })
}

/// DL3016
fn pin_npm_versions(script: &Script, _: &Instruction) -> Option<String> {
    script
        .any(npm_forgot_to_pin)
        .then(|| "Pin versions in npm install: use <package>@<version>".to_string())
}

/// DL3018
fn pin_apk_versions(script: &Script, _: &Instruction) -> Option<String> {
    unpinned(
        apk_packages(script),
        |package| {
            ["=", "~", ">", "<"]
                .iter()
                .any(|symbol| package.contains(symbol))
                || package.ends_with(".apk")
        },
        "apk add",
        "<package>=<version>",
    )
}

/// DL3019
fn apk_add_without_no_cache(script: &Script, run: &Instruction) -> Option<String> {
    (!has_cache_mount(run, "/var/cache/apk")
        && script.any(|command| command.is("apk", "add") && !command.has_flag("no-cache")))
    .then(|| "Use `apk add --no-cache`: the package index stays in the layer otherwise".to_string())
}

/// DL3027
fn apt_used(script: &Script, _: &Instruction) -> Option<String> {
    script
        .uses("apt")
        .then(|| "Do not use apt: it is meant for terminals; use apt-get or apt-cache".to_string())
}

/// DL3028
fn pin_gem_versions(script: &Script, _: &Instruction) -> Option<String> {
    unpinned(
        gems(script),
        |gem| gem.contains(':'),
        "gem install",
        "<gem>:<version>",
    )
}

/// DL3030
fn yum_without_yes(script: &Script, _: &Instruction) -> Option<String> {
    script
        .any(|command| {
            command.has_arguments(&["yum"], &["install", "groupinstall", "localinstall"])
                && !command.has_any_flag(&["y", "assumeyes"])
        })
        .then(|| "Use `yum install -y`: a build cannot answer prompts".to_string())
}

/// DL3032
fn yum_clean_missing(script: &Script, _: &Instruction) -> Option<String> {
    let yum_install = |command: &ShellCommand| command.is("yum", "install");
    let yum_clean = |command: &ShellCommand| {
        command.has_arguments(&["yum"], &["clean", "all"])
            || command.has_arguments(&["rm"], &["-rf", "/var/cache/yum/*"])
    };
    (script.any(yum_install) && !before(script, yum_install, yum_clean))
        .then(|| "`yum clean all` is missing after yum install".to_string())
}

/// DL3034
fn zypper_without_yes(script: &Script, _: &Instruction) -> Option<String> {
    script
        .any(|command| {
            command.has_arguments(
                &["zypper"],
                &[
                    "install",
                    "in",
                    "remove",
                    "rm",
                    "source-install",
                    "si",
                    "patch",
                ],
            ) && !command.has_any_flag(&["non-interactive", "n", "no-confirm", "y"])
        })
        .then(|| "Use `zypper install -y`: a build cannot answer prompts".to_string())
}

/// DL3035
fn zypper_dist_upgrade(script: &Script, _: &Instruction) -> Option<String> {
    script
        .any(|command| command.has_arguments(&["zypper"], &["dist-upgrade", "dup"]))
        .then(|| "Do not use `zypper dist-upgrade` in a build".to_string())
}

/// DL3036
fn zypper_clean_missing(script: &Script, run: &Instruction) -> Option<String> {
    let zypper_install =
        |command: &ShellCommand| command.has_arguments(&["zypper"], &["install", "in"]);
    let zypper_clean =
        |command: &ShellCommand| command.has_arguments(&["zypper"], &["clean", "cc"]);
    (script.any(zypper_install)
        && !has_cache_mount(run, "/var/cache/zypp")
        && !before(script, zypper_install, zypper_clean))
    .then(|| "`zypper clean` is missing after zypper install".to_string())
}

/// DL3037
fn pin_zypper_versions(script: &Script, _: &Instruction) -> Option<String> {
    unpinned(
        zypper_packages(script),
        |package| {
            ["=", ">", "<"]
                .iter()
                .any(|symbol| package.contains(symbol))
                || package.ends_with(".rpm")
        },
        "zypper install",
        "<package>=<version>",
    )
}

/// DL3038
fn dnf_without_yes(script: &Script, _: &Instruction) -> Option<String> {
    script
        .any(|command| {
            command.has_arguments(
                &["dnf", "microdnf"],
                &["install", "groupinstall", "localinstall"],
            ) && !command.has_any_flag(&["y", "assumeyes"])
        })
        .then(|| "Use `dnf install -y`: a build cannot answer prompts".to_string())
}

/// DL3040
fn dnf_clean_missing(script: &Script, run: &Instruction) -> Option<String> {
    let dnf_missing_clean = ["dnf", "microdnf"].iter().any(|name| {
        let install = |command: &ShellCommand| {
            command.has_arguments(
                &[name],
                &[
                    "install",
                    "in",
                    "upgrade",
                    "up",
                    "upgrade-minimal",
                    "up-min",
                    "reinstall",
                    "rei",
                ],
            )
        };
        let clean = |command: &ShellCommand| {
            command.has_arguments(&[name], &["clean", "all"])
                || command.has_arguments(&["rm"], &["-rf", "/var/cache/libdnf5*"])
        };
        script.any(install) && !before(script, install, clean)
    });
    (dnf_missing_clean
        && !has_cache_mount(run, "/var/cache/libdnf5")
        && !has_cache_mount(run, ".cache/libdnf5"))
    .then(|| "`dnf clean all` is missing after dnf install".to_string())
}

/// DL3046
fn useradd_high_uid(script: &Script, _: &Instruction) -> Option<String> {
    script
        .any(|command| {
            command.name == "useradd"
                && !command.has_any_flag(&["l", "no-log-init"])
                && command.has_any_flag(&["u", "uid"])
                && command
                    .flag_values("u")
                    .iter()
                    .any(|uid| uid.chars().count() > 5)
        })
        .then(|| {
            "useradd with a high UID and without -l makes an excessively large image".to_string()
        })
}

/// DL3047
fn wget_without_progress(script: &Script, _: &Instruction) -> Option<String> {
    script
        .any(|command| {
            command.name == "wget"
                && !command.has_flag("progress")
                && !(command.has_any_flag(&["q", "quiet"])
                    || command.has_any_flag(&["o", "output-file"])
                    || command.has_any_flag(&["a", "append-output"])
                    || command.has_any_flag(&["no-verbose"])
                    || command.is("wget", "-nv"))
        })
        .then(|| {
            "Use `wget --progress=dot:giga`, `-q` or `-nv` to keep build logs small".to_string()
        })
}

/// DL3062
fn pin_go_versions(script: &Script, _: &Instruction) -> Option<String> {
    unpinned(
        go_packages(script),
        go_pinned,
        "go install",
        "<package>@<version>",
    )
}

/// DL4005
fn symlinked_shell(script: &Script, _: &Instruction) -> Option<String> {
    script
        .any(|command| command.is("ln", "/bin/sh"))
        .then(|| "Use the SHELL instruction instead of linking /bin/sh".to_string())
}

/// DL3042, with hadolint's per-stage PIP_NO_CACHE_DIR tracking.
fn pip_cache(context: &mut Context<'_>) {
    const TRUTHY: [&str; 10] = [
        "1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES",
    ];
    let mut current: Option<String> = None;
    let mut set: BTreeMap<Option<String>, bool> = BTreeMap::new();
    for index in 0..context.items.len() {
        let instruction = context.items[index].instruction;
        match instruction.kind {
            Some(Kind::From) => {
                let arguments = instruction.argument_texts();
                let image = split_image(arguments.first().copied().unwrap_or("")).name;
                let name = arguments
                    .get(2)
                    .map_or(image.clone(), |alias| alias.to_string());
                let inherited = set.get(&Some(image)).copied().unwrap_or(false);
                set.insert(Some(name.clone()), inherited);
                current = Some(name);
            }
            Some(Kind::Env) => {
                let disabled = instruction.key_values().iter().any(|pair| {
                    pair.key.text == "PIP_NO_CACHE_DIR"
                        && TRUTHY.contains(&drop_quotes(&pair.value.text))
                });
                if disabled {
                    set.insert(current.clone(), true);
                }
            }
            _ => {}
        }
        let Some(script) = &context.items[index].script else {
            continue;
        };
        if set.get(&current).copied().unwrap_or(false) {
            continue;
        }
        let text = &script.text;
        let inline = text.find("PIP_NO_CACHE_DIR=").is_some_and(|at| {
            let after = &text[at + "PIP_NO_CACHE_DIR=".len()..];
            TRUTHY.iter().any(|value| after.starts_with(value))
        });
        let run = run_instruction(instruction);
        let forgot = script.any(|command| {
            let wrapper = ["pipx", "pipenv"].iter().any(|wrapper| {
                command.name.contains(wrapper)
                    || (command.name.starts_with("python")
                        && contains_sequence(&command.arguments, &["-m", wrapper]))
            });
            command.is_pip_install() && !command.has_argument("--no-cache-dir") && !wrapper
        });
        if inline || !forgot || has_cache_mount(run, ".cache/pip") {
            continue;
        }
        report(
            context,
            &PIP_CACHE_NOT_DISABLED,
            index,
            "Use `pip install --no-cache-dir`: pip's cache stays in the layer".to_string(),
        );
    }
}

/// DL3003 where the RUN does more than `cd` (RunCdNoEffect covers the rest).
fn workdir_instead_of_cd(context: &mut Context<'_>) {
    for index in 0..context.items.len() {
        let Some(script) = context.items[index].run_script() else {
            continue;
        };
        if script.uses("cd") && !only_cd(script) {
            report(
                context,
                &WORKDIR_INSTEAD_OF_CD,
                index,
                "Use WORKDIR to switch to a directory".to_string(),
            );
        }
    }
}

fn basename(text: &str) -> String {
    let text = drop_quotes(text);
    text.rsplit(['/', '\\']).next().unwrap_or(text).to_string()
}

fn is_archive_name(text: &str) -> bool {
    let text = drop_quotes(text);
    ARCHIVE_EXTENSIONS
        .iter()
        .any(|extension| text.ends_with(extension))
}

/// DL3010: archives COPY'd in the last stage and extracted by a later RUN.
fn add_to_extract_archive(context: &mut Context<'_>) {
    let start = context.stages.last().map_or(0, |stage| stage.item);
    let mut archives: Vec<(usize, String)> = Vec::new();
    let mut extracted: BTreeSet<usize> = BTreeSet::new();
    let mut copied = false;
    for index in start..context.items.len() {
        let instruction = context.items[index].instruction;
        match instruction.kind {
            Some(Kind::Copy) if instruction.flags_named("from").next().is_none() => {
                copied = true;
                let Some((target, sources)) = instruction.arguments.split_last() else {
                    continue;
                };
                if is_archive_name(&target.text) {
                    archives.push((index, basename(&target.text)));
                } else {
                    for source in sources {
                        if is_archive_name(&source.text) {
                            archives.push((index, basename(&source.text)));
                        }
                    }
                }
            }
            Some(Kind::Run) if copied => {
                let Some(script) = context.items[index].run_script() else {
                    continue;
                };
                for command in &script.commands {
                    let tar = command.name == "tar"
                        && command.arguments.iter().any(|argument| {
                            argument == "--extract"
                                || argument == "--get"
                                || (argument.starts_with('-') && argument.contains('x'))
                        });
                    let unzip = matches!(
                        command.name.as_str(),
                        "unzip"
                            | "gunzip"
                            | "bunzip2"
                            | "unlzma"
                            | "unxz"
                            | "zgz"
                            | "uncompress"
                            | "zcat"
                            | "gzcat"
                    );
                    if !tar && !unzip {
                        continue;
                    }
                    let names: Vec<String> = command
                        .arguments_without_flags()
                        .into_iter()
                        .map(basename)
                        .collect();
                    for (line, archive) in &archives {
                        if names.contains(archive) {
                            extracted.insert(*line);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for index in extracted {
        report(
            context,
            &ADD_TO_EXTRACT_ARCHIVE,
            index,
            "This archive is extracted by a later RUN: ADD extracts it without keeping it in a layer".to_string(),
        );
    }
}

/// DL3011.
fn expose_range(context: &mut Context<'_>) {
    for index in 0..context.items.len() {
        let instruction = context.items[index].instruction;
        if instruction.kind != Some(Kind::Expose) {
            continue;
        }
        let out_of_range = instruction.argument_texts().iter().any(|port| {
            if port.contains('$') {
                return false;
            }
            let number = port.split('/').next().unwrap_or(port);
            number
                .split('-')
                .any(|part| part.parse::<u64>().is_ok_and(|value| value > 65535))
        });
        if out_of_range {
            report(
                context,
                &EXPOSE_PORT_OUT_OF_RANGE,
                index,
                "Valid UNIX ports range from 0 to 65535".to_string(),
            );
        }
    }
}

/// DL3021, DL3022, DL3023, DL3067.
fn copy_rules(context: &mut Context<'_>) {
    let mut aliases: BTreeSet<String> = BTreeSet::new();
    let mut count = 0usize;
    let mut current_alias: Option<String> = None;
    let mut in_stage = false;
    for index in 0..context.items.len() {
        let instruction = context.items[index].instruction;
        match instruction.kind {
            Some(Kind::From) => {
                count += 1;
                in_stage = true;
                current_alias = instruction.argument_texts().get(2).map(|s| s.to_string());
                if let Some(alias) = &current_alias {
                    aliases.insert(alias.clone());
                }
            }
            Some(Kind::Copy) => {
                let arguments = &instruction.arguments;
                if arguments.len() > 2 {
                    let target = drop_quotes(&arguments[arguments.len() - 1].text);
                    if !target.ends_with('/') {
                        report(
                            context,
                            &COPY_MULTIPLE_SOURCES_TO_FILE,
                            index,
                            "COPY with more than 2 arguments requires the last argument to end with /".to_string(),
                        );
                    }
                }
                let Some(from) = instruction
                    .flags_named("from")
                    .next()
                    .and_then(|f| f.value())
                else {
                    continue;
                };
                let from = drop_quotes(from).to_string();
                let defined = from.contains(':')
                    || aliases.contains(&from)
                    || from.parse::<usize>().is_ok_and(|number| number < count);
                if !defined {
                    report(
                        context,
                        &COPY_FROM_UNDEFINED_STAGE,
                        index,
                        format!(
                            "`COPY --from={from}` names no stage defined before it: it will be pulled as an image"
                        ),
                    );
                }
                if in_stage && current_alias.as_deref() == Some(from.as_str()) {
                    report(
                        context,
                        &COPY_FROM_OWN_STAGE,
                        index,
                        format!("`COPY --from={from}` refers to the stage it is in"),
                    );
                }
                if let Some((target, sources)) = arguments.split_last()
                    && sources
                        .iter()
                        .any(|source| drop_quotes(&source.text) == "/")
                    && drop_quotes(&target.text) == "/"
                {
                    report(
                        context,
                        &COPY_ENTIRE_STAGE_FILESYSTEM,
                        index,
                        "Do not copy an entire filesystem from another stage".to_string(),
                    );
                }
            }
            _ => {}
        }
    }
}

fn registry_allowed(trusted: &[String], registry: &str) -> bool {
    trusted.iter().any(|allowed| {
        if allowed == "*" {
            true
        } else if let Some(suffix) = allowed.strip_prefix('*') {
            registry.ends_with(suffix)
        } else if let Some(prefix) = allowed.strip_suffix('*') {
            registry.starts_with(prefix)
        } else {
            registry == allowed
        }
    })
}

/// DL3026 (only with trusted registries configured).
fn untrusted_registry(context: &mut Context<'_>) {
    let trusted = context.config.trusted_registries.clone();
    if trusted.is_empty() {
        return;
    }
    let mut aliases: BTreeSet<String> = BTreeSet::new();
    let allowed = |aliases: &BTreeSet<String>, image: &str| {
        let parts = split_image(image);
        if aliases.contains(&parts.name) {
            return true;
        }
        match &parts.registry {
            Some(registry) => registry_allowed(&trusted, registry),
            None => {
                parts.name == "scratch"
                    || registry_allowed(&trusted, "docker.io")
                    || registry_allowed(&trusted, "hub.docker.com")
            }
        }
    };
    for index in 0..context.items.len() {
        let instruction = context.items[index].instruction;
        let image = match instruction.kind {
            Some(Kind::From) => {
                let arguments = instruction.argument_texts();
                let image = arguments.first().map(|s| s.to_string()).unwrap_or_default();
                if let Some(alias) = arguments.get(2) {
                    aliases.insert(alias.to_string());
                }
                image
            }
            Some(Kind::Copy) => match instruction
                .flags_named("from")
                .next()
                .and_then(|f| f.value())
            {
                Some(from) => from.to_string(),
                None => continue,
            },
            _ => continue,
        };
        if !allowed(&aliases, &image) {
            report(
                context,
                &UNTRUSTED_REGISTRY,
                index,
                format!("Image '{image}' does not come from a trusted registry"),
            );
        }
    }
}

/// hadolint's DL3033/DL3041 version test: `name-1.2.3`.
fn rpm_version_fixed(package: &str, variables: &BTreeSet<String>) -> bool {
    let parts: Vec<&str> = package.split('-').collect();
    if parts.len() <= 1 {
        return false;
    }
    if package.ends_with(".rpm") {
        return true;
    }
    if package.contains('$') {
        return variables
            .iter()
            .any(|variable| package.contains(&format!("${{{variable}}}")));
    }
    let rest = &parts[1..];
    rest.iter().all(|part| {
        part.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '~' | '^' | '_' | ':' | '+'))
    }) && rest
        .iter()
        .any(|part| part.chars().next().is_some_and(|c| c.is_ascii_digit()))
}

/// DL3033 and DL3041, with the ENV and ARG names hadolint tracks.
fn yum_dnf_versions(context: &mut Context<'_>) {
    let mut arguments: BTreeSet<String> = BTreeSet::new();
    let mut environments: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let mut aliases: BTreeMap<usize, String> = BTreeMap::new();
    let mut stage = 0usize;
    for index in 0..context.items.len() {
        let instruction = context.items[index].instruction;
        match instruction.kind {
            Some(Kind::From) => {
                let texts = instruction.argument_texts();
                let image = split_image(texts.first().copied().unwrap_or("")).name;
                let parent = aliases
                    .iter()
                    .find(|(_, alias)| **alias == image)
                    .map(|(index, _)| *index);
                stage += 1;
                aliases.insert(
                    stage,
                    texts.get(2).map(|s| s.to_string()).unwrap_or_default(),
                );
                let inherited = parent
                    .and_then(|parent| environments.get(&parent).cloned())
                    .unwrap_or_default();
                environments.insert(stage, inherited);
            }
            Some(Kind::Env) => {
                let names = instruction
                    .key_values()
                    .iter()
                    .map(|pair| pair.key.text.clone())
                    .collect::<Vec<_>>();
                environments.entry(stage).or_default().extend(names);
            }
            Some(Kind::Arg) => {
                for word in &instruction.arguments {
                    let name = word.text.split('=').next().unwrap_or(&word.text);
                    arguments.insert(name.to_string());
                }
            }
            _ => {}
        }
        let Some(script) = context.items[index].script.clone() else {
            continue;
        };
        let mut variables = arguments.clone();
        variables.extend(environments.get(&stage).cloned().unwrap_or_default());
        for (names, rule) in [
            (&["yum"][..], &PIN_YUM_VERSIONS),
            (&["dnf", "microdnf"][..], &PIN_DNF_VERSIONS),
        ] {
            let is_module = |command: &ShellCommand| {
                if names.len() == 1 {
                    command.has_arguments(names, &["module"])
                } else {
                    command.has_arguments(names, &["module", "group"])
                }
            };
            let mut packages = Vec::new();
            let mut modules = Vec::new();
            for command in &script.commands {
                if !command.has_arguments(names, &["install"]) {
                    continue;
                }
                let words: Vec<String> = command
                    .arguments_without_flags()
                    .into_iter()
                    .filter(|argument| *argument != "install" && *argument != "module")
                    .map(str::to_string)
                    .collect();
                if command.has_arguments(names, &["module"]) {
                    modules.extend(words);
                } else if !is_module(command) {
                    packages.extend(words);
                }
            }
            let unpinned = packages
                .iter()
                .any(|package| !rpm_version_fixed(package, &variables))
                || modules.iter().any(|module| !module.contains(':'));
            if unpinned {
                let tool = names[0];
                report(
                    context,
                    rule,
                    index,
                    format!(
                        "Pin versions in {tool} install: use `{tool} install -y <package>-<version>`"
                    ),
                );
            }
        }
    }
}

/// `$name` not followed by a name character, or `${name}`, in `text`.
fn references(text: &str, name: &str) -> bool {
    if text.contains(&format!("${{{name}}}")) {
        return true;
    }
    let needle = format!("${name}");
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        if !after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return true;
        }
        rest = after;
    }
    false
}

/// DL3044.
fn env_self_reference(context: &mut Context<'_>) {
    let mut defined: BTreeSet<String> = BTreeSet::new();
    for index in 0..context.items.len() {
        let instruction = context.items[index].instruction;
        match instruction.kind {
            Some(Kind::Env) => {
                let pairs = instruction.key_values();
                let mut offending = Vec::new();
                for (position, pair) in pairs.iter().enumerate() {
                    let name = &pair.key.text;
                    let referenced = pairs.iter().enumerate().any(|(other, value)| {
                        other != position && references(&value.value.text, name)
                    });
                    if referenced && !defined.contains(name) {
                        offending.push(name.clone());
                    }
                }
                defined.extend(pairs.iter().map(|pair| pair.key.text.clone()));
                if !offending.is_empty() {
                    report(
                        context,
                        &ENV_SELF_REFERENCE,
                        index,
                        format!(
                            "ENV refers to {} which it defines itself: the reference sees the value before this ENV",
                            offending.join(", ")
                        ),
                    );
                }
            }
            Some(Kind::Arg) => {
                for word in &instruction.arguments {
                    defined.insert(
                        word.text
                            .split('=')
                            .next()
                            .unwrap_or(&word.text)
                            .to_string(),
                    );
                }
            }
            _ => {}
        }
    }
}

/// DL3045's Windows-absolute test: any one character, then `:\` or `:/`
/// (hadolint checks no letter here, unlike DL3000).
fn is_windows_destination(path: &str) -> bool {
    let mut characters = path.chars();
    characters.next();
    let rest = characters.as_str();
    rest.starts_with(":\\") || rest.starts_with(":/")
}

/// DL3045.
fn copy_relative_without_workdir(context: &mut Context<'_>) {
    let mut current: Option<String> = None;
    let mut workdir: BTreeMap<Option<String>, bool> = BTreeMap::new();
    for index in 0..context.items.len() {
        let instruction = context.items[index].instruction;
        match instruction.kind {
            Some(Kind::From) => {
                let texts = instruction.argument_texts();
                let image = split_image(texts.first().copied().unwrap_or("")).name;
                let name = texts
                    .get(2)
                    .map_or(image.clone(), |alias| alias.to_string());
                let inherited = workdir.get(&Some(image)).copied().unwrap_or(false);
                workdir.insert(Some(name.clone()), inherited);
                current = Some(name);
            }
            Some(Kind::Workdir) => {
                workdir.insert(current.clone(), true);
            }
            Some(Kind::Copy) => {
                if workdir.get(&current).copied().unwrap_or(false) {
                    continue;
                }
                let Some(target) = instruction.arguments.last() else {
                    continue;
                };
                let destination = drop_quotes(&target.text);
                if destination.starts_with('/')
                    || is_windows_destination(destination)
                    || destination.starts_with('$')
                {
                    continue;
                }
                report(
                    context,
                    &COPY_RELATIVE_WITHOUT_WORKDIR,
                    index,
                    format!(
                        "COPY to the relative destination {destination} without a WORKDIR set in this stage"
                    ),
                );
            }
            _ => {}
        }
    }
}

/// DL3048.
fn invalid_label_key(context: &mut Context<'_>) {
    let valid = |key: &str| {
        let first = key.chars().next();
        let last = key.chars().last();
        first.is_some_and(|c| c.is_ascii_lowercase())
            && last.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && key.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_' | '/')
            })
            && !["com.docker.", "io.docker.", "org.dockerproject."]
                .iter()
                .any(|prefix| key.starts_with(prefix))
            && !key.contains("..")
            && !key.contains("--")
    };
    for index in 0..context.items.len() {
        let instruction = context.items[index].instruction;
        if instruction.kind != Some(Kind::Label) {
            continue;
        }
        let invalid: Vec<String> = instruction
            .key_values()
            .iter()
            .map(|pair| drop_quotes(&pair.key.text).to_string())
            .filter(|key| !valid(key))
            .collect();
        if !invalid.is_empty() {
            report(
                context,
                &INVALID_LABEL_KEY,
                index,
                format!("Invalid label key: {}", invalid.join(", ")),
            );
        }
    }
}

/// DL3060, with DL3009's stage bookkeeping.
fn yarn_cache(context: &mut Context<'_>) {
    let install = |command: &ShellCommand| command.is("yarn", "install");
    let clean =
        |command: &ShellCommand| command.is("yarn", "cache") && command.has_argument("clean");
    let scratch = ("scratch".to_string(), String::new(), String::new());
    let mut current = scratch.clone();
    let mut images: BTreeSet<String> = BTreeSet::new();
    let mut remembered: Vec<(usize, Option<FromKey>)> = Vec::new();
    for index in 0..context.items.len() {
        let item = &context.items[index];
        if item.kind() == Some(Kind::From) {
            current = from_key(item.instruction);
            images.insert(split_image(&current.0).name);
            continue;
        }
        let Some(script) = &item.script else { continue };
        let run = run_instruction(item.instruction);
        let forgot = script.any(install)
            && ((!script.any(clean) && !has_cache_mount(run, ".cache/yarn"))
                || (script.any(clean) && before(script, clean, install)));
        if forgot {
            let stage = (item.kind() == Some(Kind::Run)).then(|| current.clone());
            remembered.push((index, stage));
        }
    }
    for (index, stage) in remembered {
        let fails = match &stage {
            None => true,
            Some(key) => *key == current || (!key.1.is_empty() && images.contains(&key.1)),
        };
        if fails {
            report(
                context,
                &YARN_CACHE_NOT_CLEANED,
                index,
                "Run `yarn cache clean` after `yarn install` in the same RUN".to_string(),
            );
        }
    }
}

/// DL3066.
fn non_numeric_user(context: &mut Context<'_>) {
    let mut arguments: BTreeSet<String> = BTreeSet::new();
    for index in 0..context.items.len() {
        let instruction = context.items[index].instruction;
        match instruction.kind {
            Some(Kind::Arg) => {
                for word in &instruction.arguments {
                    arguments.insert(
                        word.text
                            .split('=')
                            .next()
                            .unwrap_or(&word.text)
                            .to_string(),
                    );
                }
            }
            Some(Kind::User) => {
                let user = instruction
                    .arguments
                    .first()
                    .map(|word| word.text.clone())
                    .unwrap_or_default();
                let uid = user.split(':').next().unwrap_or("");
                let numeric = uid.chars().all(|c| c.is_ascii_digit());
                let from_argument = arguments.iter().any(|name| {
                    uid.contains(&format!("${{{name}}}")) || uid.contains(&format!("${name}"))
                });
                if !numeric && !from_argument {
                    report(
                        context,
                        &NON_NUMERIC_USER,
                        index,
                        format!("User '{uid}' is not numeric: the host may not resolve it"),
                    );
                }
            }
            _ => {}
        }
    }
}

/// DL4001.
fn wget_and_curl(context: &mut Context<'_>) {
    let mut seen: BTreeSet<&'static str> = BTreeSet::new();
    let mut seen_onbuild: BTreeSet<&'static str> = BTreeSet::new();
    for index in 0..context.items.len() {
        let item = &context.items[index];
        if item.kind() == Some(Kind::From) {
            seen.clear();
            continue;
        }
        let Some(script) = &item.script else { continue };
        let mut here = BTreeSet::new();
        if script.uses("curl") {
            here.insert("curl");
        }
        if script.uses("wget") {
            here.insert("wget");
        }
        let state = if item.kind() == Some(Kind::Onbuild) {
            &mut seen_onbuild
        } else {
            &mut seen
        };
        state.extend(here.iter().copied());
        if !here.is_empty() && state.len() >= 2 {
            report(
                context,
                &WGET_AND_CURL,
                index,
                "Both wget and curl are used: use one of them".to_string(),
            );
        }
    }
}

/// DL4006.
fn pipefail(context: &mut Context<'_>) {
    let mut safe = false;
    for index in 0..context.items.len() {
        let item = &context.items[index];
        match item.kind() {
            Some(Kind::From) => safe = false,
            Some(Kind::Shell) => {
                let text = item.instruction.argument_texts().join(" ");
                if ["pwsh", "powershell", "cmd"]
                    .iter()
                    .any(|shell| text.starts_with(shell))
                {
                    safe = true;
                } else {
                    let shell = Script::parse(&text);
                    safe = shell.commands.iter().any(|command| {
                        ["/bin/bash", "/bin/zsh", "/bin/ash", "bash", "zsh", "ash"]
                            .contains(&command.name.as_str())
                            && command.has_flag("o")
                            && command.has_argument("pipefail")
                    });
                }
            }
            Some(Kind::Run)
                if !safe && item.script.as_ref().is_some_and(|script| script.has_pipes) =>
            {
                report(
                        context,
                        &PIPEFAIL_MISSING,
                        index,
                        "A RUN with a pipe needs `set -o pipefail` (SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]), or a failure on the left of the pipe is ignored".to_string(),
                    );
            }
            _ => {}
        }
    }
}

/// DL3064 where BuildKit's SecretsUsedInArgOrEnv does not already report the
/// instruction (hadolint's list is wider, and it also reads global ARGs).
fn sensitive_names(context: &mut Context<'_>) {
    let already: BTreeSet<usize> = context
        .findings
        .iter()
        .filter(|finding| finding.diagnostic.rule.name == SECRETS_USED_IN_ARG_OR_ENV.name)
        .filter_map(|finding| finding.comments_of)
        .collect();
    for index in 0..context.items.len() {
        if already.contains(&index) {
            continue;
        }
        let item = &context.items[index];
        let instruction = match (item.kind(), &item.instruction.trigger) {
            (Some(Kind::Onbuild), Some(trigger)) => trigger.as_ref(),
            _ => item.instruction,
        };
        let (keyword, names): (&str, Vec<String>) = match instruction.kind {
            Some(Kind::Arg) => (
                "ARG",
                instruction
                    .arguments
                    .iter()
                    .map(|word| {
                        word.text
                            .split('=')
                            .next()
                            .unwrap_or(&word.text)
                            .to_string()
                    })
                    .collect(),
            ),
            Some(Kind::Env) => (
                "ENV",
                instruction
                    .key_values()
                    .iter()
                    .map(|pair| pair.key.text.clone())
                    .collect(),
            ),
            _ => continue,
        };
        let Some(name) = names.iter().find(|name| is_sensitive_name(name)) else {
            continue;
        };
        let span = item.span();
        let diagnostic = context
            .diagnostic(
                &SECRETS_USED_IN_ARG_OR_ENV,
                span,
                format!(
                    "Do not use ARG or ENV instructions for sensitive data ({keyword} {})",
                    strata_go::strconv::quote(name)
                ),
            )
            .with_aliases(&["DL3064"]);
        context.report_beyond_buildkit(diagnostic, index);
    }
}
