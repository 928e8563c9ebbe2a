//! Predicates the rule families (buildkit, guide, hadolint) share: hadolint's
//! readings of mounts, paths, archives, FROMs and secret-looking names.

use strata_dockerfile::{Instruction, Kind};

use crate::shell::Script;

/// hadolint's archive extensions.
pub(crate) const ARCHIVE_EXTENSIONS: [&str; 15] = [
    ".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz",
    ".tpz", ".txz", ".xz",
];

/// The text without the quotes around it.
pub(crate) fn drop_quotes(text: &str) -> &str {
    text.trim_matches(|c| c == '"' || c == '\'')
}

/// Whether a RUN does nothing but `cd` (hadolint's DL3003 also fires there).
pub(crate) fn only_cd(script: &Script) -> bool {
    !script.commands.is_empty() && script.commands.iter().all(|command| command.name == "cd")
}

/// hadolint's `hasCacheOrTmpfsMountWith`: a cache or tmpfs mount whose
/// target contains `fragment`.
pub(crate) fn has_cache_mount(instruction: &Instruction, fragment: &str) -> bool {
    instruction.flags_named("mount").any(|flag| {
        let value = flag.value().unwrap_or("");
        let mut kind = "";
        let mut target = "";
        for field in value.split(',') {
            let (key, text) = field.split_once('=').unwrap_or((field, ""));
            match key {
                "type" => kind = text,
                "target" | "dst" | "destination" => target = text,
                _ => {}
            }
        }
        matches!(kind, "cache" | "tmpfs") && target.contains(fragment)
    })
}

/// The instruction whose RUN is in effect for `item`: the RUN itself, or an
/// ONBUILD's trigger.
pub(crate) fn run_instruction(instruction: &Instruction) -> &Instruction {
    match (&instruction.kind, &instruction.trigger) {
        (Some(Kind::Onbuild), Some(trigger)) => trigger,
        _ => instruction,
    }
}

/// A FROM as hadolint compares two of them: image, alias and platform as written.
pub(crate) type FromKey = (String, String, String);

/// The [`FromKey`] of a FROM instruction.
pub(crate) fn from_key(instruction: &Instruction) -> FromKey {
    let arguments = instruction.argument_texts();
    (
        arguments.first().map(|s| s.to_string()).unwrap_or_default(),
        arguments.get(2).map(|s| s.to_string()).unwrap_or_default(),
        instruction
            .flags_named("platform")
            .next()
            .and_then(|flag| flag.value())
            .unwrap_or("")
            .to_string(),
    )
}

/// hadolint's DL3000 test: absolute, starting with `$`, or Windows-absolute
/// (a letter, Haskell's `isLetter`, then `:`).
pub(crate) fn hadolint_absolute(written: &str) -> bool {
    let path = drop_quotes(written);
    let mut characters = path.chars();
    let drive = matches!(
        (characters.next(), characters.next()),
        (Some(letter), Some(':')) if strata_go::unicode::is_letter(letter)
    );
    path.starts_with('$') || path.starts_with('/') || drive
}

/// URLs and git sources ADD fetches itself.
pub(crate) fn is_remote(source: &str) -> bool {
    source.starts_with("http://")
        || source.starts_with("https://")
        || source.starts_with("git@")
        || source.starts_with("git://")
        || source.ends_with(".git")
}

const KNOWN_SENSITIVE: [&str; 48] = [
    "ACCESS_TOKEN",
    "APPLICATION_KEY",
    "APP_SECRET",
    "AUTH_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "BITTREX_API_KEY",
    "BITTREX_API_SECRET",
    "CF_PASSWORD",
    "CF_USERNAME",
    "CIRCLE_TOKEN",
    "CI_DEPLOY_PASSWORD",
    "CI_DEPLOY_USER",
    "DOCKERHUB_PASSWORD",
    "DOCKER_EMAIL",
    "DOCKER_PASSWORD",
    "DOCKER_USERNAME",
    "FACEBOOK_ACCESS_TOKEN",
    "FACEBOOK_APP_ID",
    "FACEBOOK_APP_SECRET",
    "FIREBASE_API_TOKEN",
    "FIREBASE_TOKEN",
    "FOSSA_API_KEY",
    "GH_ENTERPRISE_TOKEN",
    "GH_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "GITHUB_TOKEN",
    "HEROKU_API_KEY",
    "HEROKU_API_USER",
    "NPM_AUTH_TOKEN",
    "NPM_TOKEN",
    "OKTA_AUTHN_GROUPID",
    "OKTA_CLIENT_ORGURL",
    "OKTA_CLIENT_TOKEN",
    "OKTA_OAUTH2_CLIENTID",
    "OKTA_OAUTH2_CLIENTSECRET",
    "OPENAI_API_KEY",
    "OS_PASSWORD",
    "OS_USERNAME",
    "POSTGRES_PASSWORD",
    "SLACK_TOKEN",
    "STRIPE_API_KEY",
    "STRIPE_DEVICE_NAME",
    "TRAVIS_OS_NAME",
    "TRAVIS_SECURE_ENV_VARS",
    "TRAVIS_SUDO",
    "VAULT_CLIENT_KEY",
    "VAULT_TOKEN",
];

/// hadolint's DL3064 test for one name.
pub(crate) fn is_sensitive_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    KNOWN_SENSITIVE.contains(&name.to_uppercase().as_str())
        || [
            "api_key",
            "client_key",
            "password",
            "private",
            "secret",
            "token",
            "username",
        ]
        .iter()
        .any(|part| lower.contains(part))
}
