//! One test per rule: a Dockerfile that triggers it and one that must not.

use strata_context::NotablePath;
use strata_lint::{Config, Diagnostic, Facts, NoFacts, PlainFacts, RULES};

fn lint_with(text: &str, facts: &dyn Facts, config: &Config) -> Vec<Diagnostic> {
    let dockerfile = strata_dockerfile::parse(text.as_bytes().to_vec()).expect("parses");
    strata_lint::lint(&dockerfile, facts, config)
        .expect("valid check directive")
        .diagnostics
}

fn fired(text: &str, rule: &str, facts: &dyn Facts, config: &Config) -> Vec<Diagnostic> {
    lint_with(text, facts, config)
        .into_iter()
        .filter(|diagnostic| diagnostic.rule.name == rule)
        .collect()
}

fn assert_rule(rule: &str, bad: &str, good: &str, facts: &dyn Facts, config: &Config) {
    assert!(
        strata_lint::find_rule(rule).is_some_and(|found| found.name == rule),
        "{rule} is a rule"
    );
    let found = fired(bad, rule, facts, config);
    assert!(!found.is_empty(), "{rule} should fire on:\n{bad}");
    let found = fired(good, rule, facts, config);
    assert!(
        found.is_empty(),
        "{rule} should not fire on:\n{good}\nbut: {:?}",
        found.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}

macro_rules! rule_tests {
    ($($test:ident: $rule:literal, $bad:expr, $good:expr;)*) => {
        $(
            #[test]
            fn $test() {
                assert_rule($rule, $bad, $good, &NoFacts, &Config::default());
            }
        )*

        /// Every rule has a test here or below.
        const TESTED: &[&str] = &[$($rule),*];
    };
}

rule_tests! {
    stage_name_casing: "StageNameCasing",
        "FROM alpine:3 AS Build\n", "FROM alpine:3 AS build\n";
    from_as_casing: "FromAsCasing",
        "FROM alpine:3 as build\n", "FROM alpine:3 AS build\nfrom alpine:3 as other\n";
    no_empty_continuation: "NoEmptyContinuation",
        "FROM alpine:3\nRUN echo a \\\n\n  b\n", "FROM alpine:3\nRUN echo a \\\n  b\n";
    consistent_instruction_casing: "ConsistentInstructionCasing",
        "FROM alpine:3\nRUN a\nrun b\nCMD [\"x\"]\n", "from alpine:3\nrun a\ncmd [\"x\"]\n";
    duplicate_stage_name: "DuplicateStageName",
        "FROM a:1 AS x\nFROM b:1 AS X\n", "FROM a:1 AS x\nFROM b:1 AS y\n";
    reserved_stage_name: "ReservedStageName",
        "FROM a:1 AS scratch\n", "FROM a:1 AS base\n";
    json_args_recommended: "JSONArgsRecommended",
        "FROM a:1\nCMD node app.js\n",
        "FROM a:1\nCMD [\"node\", \"app.js\"]\nFROM b:1\nSHELL [\"/bin/bash\", \"-c\"]\nENTRYPOINT node app.js\n";
    maintainer_deprecated: "MaintainerDeprecated",
        "FROM a:1\nMAINTAINER me <me@example.com>\n",
        "FROM a:1\nLABEL org.opencontainers.image.authors=me\n";
    undefined_arg_in_from: "UndefinedArgInFrom",
        "FROM alpine:${VERSION}\n", "ARG VERSION=3\nFROM alpine:${VERSION}\nFROM --platform=$BUILDPLATFORM alpine:3\n";
    workdir_relative_path: "WorkdirRelativePath",
        "FROM a:1\nWORKDIR app\n", "FROM a:1\nWORKDIR /app\nWORKDIR /app/src\n";
    undefined_var: "UndefinedVar",
        "FROM scratch\nENV PATH=$PATH:$NOPE\n",
        "FROM scratch\nARG NOPE\nENV PATH=$PATH:$NOPE\nFROM mycorp/base:1\nENV X=$FROM_THE_IMAGE\n";
    multiple_instructions_disallowed: "MultipleInstructionsDisallowed",
        "FROM a:1\nCMD [\"a\"]\nCMD [\"b\"]\n",
        "FROM a:1 AS one\nCMD [\"a\"]\nFROM one\nCMD [\"b\"]\n";
    legacy_key_value_format: "LegacyKeyValueFormat",
        "FROM a:1\nENV A b\n", "FROM a:1\nENV A=b\nLABEL x=y\n";
    redundant_target_platform: "RedundantTargetPlatform",
        "FROM --platform=$TARGETPLATFORM a:1\n", "FROM --platform=$BUILDPLATFORM a:1\n";
    secrets_used_in_arg_or_env: "SecretsUsedInArgOrEnv",
        "FROM a:1\nARG API_KEY\n", "FROM a:1\nARG PUBLIC_KEY\nENV KEY_FILE=/run/key\n";
    invalid_default_arg_in_from: "InvalidDefaultArgInFrom",
        "ARG TAG\nFROM alpine:${TAG}\n", "ARG TAG=3\nFROM alpine:${TAG}\n";
    from_platform_flag_const_disallowed: "FromPlatformFlagConstDisallowed",
        "FROM --platform=linux/amd64 a:1\n",
        "FROM --platform=linux/amd64 a:1 AS build-amd64\nFROM --platform=$BUILDPLATFORM b:1\n";
    expose_proto_casing: "ExposeProtoCasing",
        "FROM a:1\nEXPOSE 80/TCP\n", "FROM a:1\nEXPOSE 80/tcp 53/udp\n";
    expose_invalid_format: "ExposeInvalidFormat",
        "FROM a:1\nEXPOSE 8080:80\n", "FROM a:1\nEXPOSE 80\n";
    pin_base_image_version: "PinBaseImageVersion",
        "FROM node\nFROM python:latest\n",
        "FROM node:20 AS build\nFROM build\nFROM scratch\nFROM node@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nFROM $BASE\n";
    copy_all_before_install: "CopyAllBeforeInstall",
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n";
    runs_as_root: "RunsAsRoot",
        "FROM a:1\nCMD [\"x\"]\n", "FROM a:1\nUSER root\nRUN x\nUSER app\n";
    apt_get_update_alone: "AptGetUpdateAlone",
        "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n";
    consecutive_run_instructions: "ConsecutiveRunInstructions",
        "FROM a:1\nRUN a\n# comment\nRUN b\n",
        "FROM a:1\nRUN a && b\nRUN c\nWORKDIR /x\nRUN d\nRUN --mount=type=cache,target=/c e\n";
    add_instead_of_copy: "AddInsteadOfCopy",
        "FROM a:1\nADD src /src\n",
        "FROM a:1\nADD app.tar.gz /\nADD https://example.com/x.txt /x\n";
    missing_healthcheck: "MissingHealthcheck",
        "FROM a:1\nEXPOSE 80\n",
        "FROM a:1\nEXPOSE 80\nHEALTHCHECK CMD [\"true\"]\nFROM b:1\nCMD [\"cli\"]\n";
    run_cd_no_effect: "RunCdNoEffect",
        "FROM a:1\nRUN cd /app\n", "FROM a:1\nRUN cd /app && make\n";
    cleanup_in_later_layer: "CleanupInLaterLayer",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n";
    apt_lists_not_cleaned: "AptListsNotCleaned",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n";
    command_pointless_in_container: "CommandPointlessInContainer",
        "FROM a:1\nRUN service nginx start\n", "FROM a:1\nRUN nginx -t\n";
    workdir_instead_of_cd: "WorkdirInsteadOfCd",
        "FROM a:1\nRUN cd /app && make\n", "FROM a:1\nWORKDIR /app\nRUN make\n";
    sudo_in_run: "SudoInRun",
        "FROM a:1\nRUN sudo make install\n", "FROM a:1\nRUN make install\n";
    pin_apt_get_versions: "PinAptGetVersions",
        "FROM a:1\nRUN apt-get install -y curl\n",
        "FROM a:1\nRUN apt-get install -y curl=7.88.1 ./local.deb -t stable git=1:2\n";
    add_to_extract_archive: "AddToExtractArchive",
        "FROM a:1\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz\n",
        "FROM a:1\nADD app.tar.gz /opt/\nCOPY notes.txt /tmp/\n";
    expose_port_out_of_range: "ExposePortOutOfRange",
        "FROM a:1\nEXPOSE 70000\n", "FROM a:1\nEXPOSE 65535 8000-8010\n";
    pin_pip_versions: "PinPipVersions",
        "FROM a:1\nRUN pip install flask\n",
        "FROM a:1\nRUN pip install flask==3.0 && pip install -r requirements.txt && pip install .\n";
    apt_get_without_yes: "AptGetWithoutYes",
        "FROM a:1\nRUN apt-get install curl=1\n", "FROM a:1\nRUN apt-get -qq install curl=1\n";
    apt_get_install_recommends: "AptGetInstallRecommends",
        "FROM a:1\nRUN apt-get install -y curl=1\n",
        "FROM a:1\nRUN apt-get install -y --no-install-recommends curl=1\n";
    pin_npm_versions: "PinNpmVersions",
        "FROM a:1\nRUN npm install express\n",
        "FROM a:1\nRUN npm install express@4 @scope/x@1 ./local && npm install\n";
    pin_apk_versions: "PinApkVersions",
        "FROM a:1\nRUN apk add --no-cache curl\n", "FROM a:1\nRUN apk add --no-cache curl=8.5.0-r0\n";
    apk_add_without_no_cache: "ApkAddWithoutNoCache",
        "FROM a:1\nRUN apk add curl=1\n", "FROM a:1\nRUN apk add --no-cache curl=1\n";
    copy_multiple_sources_to_file: "CopyMultipleSourcesToFile",
        "FROM a:1\nCOPY a b /dest\n", "FROM a:1\nCOPY a b /dest/\n";
    copy_from_undefined_stage: "CopyFromUndefinedStage",
        "FROM a:1\nCOPY --from=builder /x /x\n",
        "FROM a:1 AS builder\nFROM b:1\nCOPY --from=builder /x /x\nCOPY --from=0 /y /y\nCOPY --from=nginx:1 /z /z\n";
    copy_from_own_stage: "CopyFromOwnStage",
        "FROM a:1 AS app\nCOPY --from=app /x /y\n", "FROM a:1 AS base\nFROM b:1 AS app\nCOPY --from=base /x /y\n";
    apt_used: "AptUsed",
        "FROM a:1\nRUN apt install -y curl\n", "FROM a:1\nRUN apt-get install -y curl\n";
    pin_gem_versions: "PinGemVersions",
        "FROM a:1\nRUN gem install rails\n", "FROM a:1\nRUN gem install rails:7.1 && gem install bundler -v 2.5\n";
    yum_without_yes: "YumWithoutYes",
        "FROM a:1\nRUN yum install httpd-2.4.6\n", "FROM a:1\nRUN yum install -y httpd-2.4.6\n";
    yum_clean_missing: "YumCleanMissing",
        "FROM a:1\nRUN yum install -y httpd-2.4.6\n", "FROM a:1\nRUN yum install -y httpd-2.4.6 && yum clean all\n";
    pin_yum_versions: "PinYumVersions",
        "FROM a:1\nRUN yum install -y httpd\n", "FROM a:1\nRUN yum install -y httpd-2.4.6\n";
    zypper_without_yes: "ZypperWithoutYes",
        "FROM a:1\nRUN zypper install httpd=2\n", "FROM a:1\nRUN zypper install -y httpd=2\n";
    zypper_dist_upgrade: "ZypperDistUpgrade",
        "FROM a:1\nRUN zypper dist-upgrade -y\n", "FROM a:1\nRUN zypper update -y\n";
    zypper_clean_missing: "ZypperCleanMissing",
        "FROM a:1\nRUN zypper install -y httpd=2\n", "FROM a:1\nRUN zypper install -y httpd=2 && zypper clean\n";
    pin_zypper_versions: "PinZypperVersions",
        "FROM a:1\nRUN zypper install -y httpd\n", "FROM a:1\nRUN zypper install -y httpd=2.4\n";
    dnf_without_yes: "DnfWithoutYes",
        "FROM a:1\nRUN dnf install httpd-2.4.6\n", "FROM a:1\nRUN dnf install -y httpd-2.4.6\n";
    dnf_clean_missing: "DnfCleanMissing",
        "FROM a:1\nRUN dnf install -y httpd-2.4.6\n", "FROM a:1\nRUN dnf install -y httpd-2.4.6 && dnf clean all\n";
    pin_dnf_versions: "PinDnfVersions",
        "FROM a:1\nRUN dnf install -y httpd\n", "FROM a:1\nRUN dnf install -y httpd-2.4.6\n";
    pip_cache_not_disabled: "PipCacheNotDisabled",
        "FROM a:1\nRUN pip install flask==3\n",
        "FROM a:1\nRUN pip install --no-cache-dir flask==3\nFROM b:1\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask==3\n";
    env_self_reference: "EnvSelfReference",
        "FROM a:1\nENV A=1 B=$A\n", "FROM a:1\nENV A=1\nENV B=$A\n";
    copy_relative_without_workdir: "CopyRelativeWithoutWorkdir",
        "FROM a:1\nCOPY app.js app/\n", "FROM a:1\nWORKDIR /srv\nCOPY app.js app/\nFROM b:1\nCOPY x /x\n";
    useradd_high_uid: "UseraddHighUid",
        "FROM a:1\nRUN useradd -u 123456789 app\n", "FROM a:1\nRUN useradd -l -u 123456789 app\n";
    wget_without_progress: "WgetWithoutProgress",
        "FROM a:1\nRUN wget https://example.com/x\n", "FROM a:1\nRUN wget -q https://example.com/x\n";
    invalid_label_key: "InvalidLabelKey",
        "FROM a:1\nLABEL Version=1\n", "FROM a:1\nLABEL org.opencontainers.image.version=1\n";
    yarn_cache_not_cleaned: "YarnCacheNotCleaned",
        "FROM a:1\nRUN yarn install\n", "FROM a:1\nRUN yarn install && yarn cache clean\n";
    pin_go_versions: "PinGoVersions",
        "FROM a:1\nRUN go install example.com/tool\n",
        "FROM a:1\nRUN go install example.com/tool@v1.2.3 && go install ./cmd/x\n";
    non_numeric_user: "NonNumericUser",
        "FROM a:1\nUSER app\n", "FROM a:1\nARG UID\nUSER 1000:1000\nUSER ${UID}\n";
    copy_entire_stage_filesystem: "CopyEntireStageFilesystem",
        "FROM a:1 AS base\nFROM scratch\nCOPY --from=base / /\n",
        "FROM a:1 AS base\nFROM scratch\nCOPY --from=base /app /app\n";
    wget_and_curl: "WgetAndCurl",
        "FROM a:1\nRUN curl -sO https://x/a\nRUN wget -q https://x/b\n",
        "FROM a:1\nRUN curl -sO https://x/a\nFROM b:1\nRUN wget -q https://x/b\n";
    symlinked_shell: "SymlinkedShell",
        "FROM a:1\nRUN ln -sf /bin/bash /bin/sh\n", "FROM a:1\nSHELL [\"/bin/bash\", \"-c\"]\n";
    pipefail_missing: "PipefailMissing",
        "FROM a:1\nRUN curl -s https://x | sh\n",
        "FROM a:1\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -s https://x | sh\n";
    invalid_instruction: "InvalidInstruction",
        "RUN echo before any stage\nFROM a:1\n", "ARG V=1\nFROM a:1\n";
}

/// hadolint's two Windows tests differ: DL3000 takes a letter then `:`
/// (`isLetter`, so not only ASCII), DL3045 any character then `:\` or `:/`.
#[test]
fn windows_absolute_paths_as_hadolint_reads_them() {
    let dl3000 = |workdir: &str| {
        fired(
            &format!("FROM a:1\nWORKDIR {workdir}\n"),
            "WorkdirRelativePath",
            &NoFacts,
            &Config::default(),
        )
        .iter()
        .any(|diagnostic| diagnostic.aliases.contains(&"DL3000"))
    };
    assert!(!dl3000("C:\\app"));
    assert!(!dl3000("\u{e9}:x"));
    assert!(dl3000("1:/app"));
    assert!(dl3000("app"));
    let dl3045 = |destination: &str| {
        !fired(
            &format!("FROM a:1\nCOPY x {destination}\n"),
            "CopyRelativeWithoutWorkdir",
            &NoFacts,
            &Config::default(),
        )
        .is_empty()
    };
    assert!(!dl3045("C:/app/"));
    assert!(!dl3045("1:\\app\\"));
    assert!(dl3045("c:app/"));
    assert!(dl3045("app/"));
}

fn config_with(toml: &str) -> Config {
    Config::from_toml(toml).expect("valid config")
}

#[test]
fn copy_ignored_file() {
    let facts = PlainFacts {
        ignore_file: Some(true),
        ignored_sources: vec!["secret.txt".into()],
        ..PlainFacts::default()
    };
    assert_rule(
        "CopyIgnoredFile",
        "FROM a:1\nCOPY secret.txt /\n",
        "FROM a:1\nCOPY other.txt /\nCOPY --from=a:1 secret.txt /\n",
        &facts,
        &Config::default(),
    );
    let found = fired(
        "FROM a:1\nCOPY ./secret.txt /\n",
        "CopyIgnoredFile",
        &PlainFacts {
            ignored_sources: vec!["./secret.txt".into()],
            ..facts
        },
        &Config::default(),
    );
    assert_eq!(
        found[0].message,
        "Attempting to Copy file \"secret.txt\" that is excluded by .dockerignore"
    );
}

#[test]
fn missing_dockerignore() {
    let without = PlainFacts {
        ignore_file: Some(false),
        notable: vec![
            NotablePath {
                path: ".git".into(),
                is_directory: true,
                sent: true,
            },
            NotablePath {
                path: "node_modules".into(),
                is_directory: true,
                sent: true,
            },
        ],
        ..PlainFacts::default()
    };
    let bad = "FROM a:1\nCOPY . /app\n";
    let found = fired(bad, "MissingDockerignore", &without, &Config::default());
    assert_eq!(found.len(), 1);
    assert!(
        found[0].message.contains(".git, node_modules"),
        "{}",
        found[0].message
    );
    // The same Dockerfile with an ignore file, or copying only some files, is fine.
    let with = PlainFacts {
        ignore_file: Some(true),
        ..without.clone()
    };
    assert!(fired(bad, "MissingDockerignore", &with, &Config::default()).is_empty());
    assert!(
        fired(
            "FROM a:1\nCOPY src /app/src\n",
            "MissingDockerignore",
            &without,
            &Config::default()
        )
        .is_empty()
    );
    // Without context facts the rule stays silent.
    assert!(fired(bad, "MissingDockerignore", &NoFacts, &Config::default()).is_empty());
}

#[test]
fn invalid_definition_description_is_experimental() {
    let bad = "FROM a:1\n# this is the arg\nARG foo=1\n";
    assert!(
        fired(
            bad,
            "InvalidDefinitionDescription",
            &NoFacts,
            &Config::default()
        )
        .is_empty()
    );
    let config = config_with("experimental = [\"InvalidDefinitionDescription\"]\n");
    assert_rule(
        "InvalidDefinitionDescription",
        bad,
        "FROM a:1\n# foo is the arg\nARG foo=1\n",
        &NoFacts,
        &config,
    );
    // BuildKit's directive turns it on as well.
    let directive = "# check=experimental=InvalidDefinitionDescription\nFROM a:1\n# this is the arg\nARG foo=1\n";
    assert_eq!(
        fired(
            directive,
            "InvalidDefinitionDescription",
            &NoFacts,
            &Config::default()
        )
        .len(),
        1
    );
}

#[test]
fn untrusted_registry() {
    let config = config_with("trusted-registries = [\"docker.io\", \"*.example.com\"]\n");
    assert_rule(
        "UntrustedRegistry",
        "FROM ghcr.io/owner/app:1\n",
        "FROM node:20 AS build\nFROM registry.example.com/app:1\nCOPY --from=build /x /x\n",
        &NoFacts,
        &config,
    );
    assert!(
        fired(
            "FROM ghcr.io/owner/app:1\n",
            "UntrustedRegistry",
            &NoFacts,
            &Config::default()
        )
        .is_empty()
    );
}

#[test]
fn invalid_base_image_platform() {
    let platform = |text: &str| strata_oci::Platform::parse(text).ok();
    let image = |text: &str| strata_lint::ImageFacts {
        platform: platform(text),
        ..Default::default()
    };
    let host = strata_oci::Platform::host();
    let foreign = if host.architecture == "arm64" {
        "linux/amd64"
    } else {
        "linux/arm64/v8"
    };
    let mut facts = PlainFacts::default();
    facts.images.insert("foreign:1".into(), image(foreign));
    facts
        .images
        .insert("native:1".into(), image(&host.to_string()));
    facts
        .images
        .insert("windows:1".into(), image("windows/amd64"));
    let found = fired(
        "FROM foreign:1\nFROM native:1\nFROM --platform=windows/amd64 windows:1 AS win\n\
         FROM --platform=linux/arm64 windows:1 AS arm\nFROM scratch\n",
        "InvalidBaseImagePlatform",
        &facts,
        &Config::default(),
    );
    let lines: Vec<(usize, &str)> = found
        .iter()
        .map(|d| (d.start.line, d.message.as_str()))
        .collect();
    // BuildKit prints both platforms normalised: arm64's v8 is left out.
    let foreign_message = format!(
        "Base image foreign:1 was pulled with platform \"{}\", expected \"{}\" for current build",
        foreign.trim_end_matches("/v8"),
        host.to_string().trim_end_matches("/v8")
    );
    assert_eq!(
        lines,
        [
            (1, foreign_message.as_str()),
            (
                4,
                "Base image windows:1 was pulled with platform \"windows/amd64\", expected \"linux/arm64\" for current build"
            )
        ]
    );
    // Without a platform in its config (unknown, or no layers) nothing is said.
    assert!(
        fired(
            "FROM native:1\n",
            "InvalidBaseImagePlatform",
            &NoFacts,
            &Config::default()
        )
        .is_empty()
    );
}

#[test]
fn every_rule_is_tested() {
    let mut tested: Vec<&str> = TESTED.to_vec();
    tested.extend([
        "CopyIgnoredFile",
        "MissingDockerignore",
        "InvalidDefinitionDescription",
        "UntrustedRegistry",
        "InvalidBaseImagePlatform",
    ]);
    for rule in RULES {
        assert!(tested.contains(&rule.name), "no test for {}", rule.name);
    }
}

#[test]
fn runs_as_root_names_the_root_user() {
    let found = fired(
        "FROM a:1\nUSER app\nFROM a:1 AS final\nUSER 0:0\n",
        "RunsAsRoot",
        &NoFacts,
        &Config::default(),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].start.line, 4);
    assert_eq!(found[0].aliases, ["DL3002"]);
    // Distroless nonroot images already run as a user.
    assert!(
        fired(
            "FROM gcr.io/distroless/static:nonroot\nCOPY app /\n",
            "RunsAsRoot",
            &NoFacts,
            &Config::default()
        )
        .is_empty()
    );
}

#[test]
fn undefined_var_like_buildkit() {
    let found = fired(
        "FROM scratch\nENV PYTHONPATH=$PYTHONPATH:/app\nCOPY $PATHH /x\n",
        "UndefinedVar",
        &NoFacts,
        &Config::default(),
    );
    let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "Usage of undefined variable '$PYTHONPATH'",
            "Usage of undefined variable '$PATHH' (did you mean $PATH?)"
        ]
    );
    // An image the lint knows (python) defines its ENV; ARG defaults are checked too.
    let found = fired(
        "FROM python:3.12\nENV X=$PYTHON_VERSION\nARG Y=$NOT_SET\n",
        "UndefinedVar",
        &NoFacts,
        &Config::default(),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "Usage of undefined variable '$NOT_SET'");
}

#[test]
fn copy_all_before_install_for_each_ecosystem() {
    for install in [
        "npm install",
        "yarn",
        "pnpm install --frozen-lockfile",
        "pip install -r requirements.txt",
        "poetry install --no-root",
        "go mod download",
        "bundle install",
        "cargo fetch",
        "composer install",
        "mvn -B dependency:go-offline",
        "./gradlew dependencies",
    ] {
        let text = format!("FROM x:1\nWORKDIR /app\nCOPY . .\nRUN {install}\n");
        assert_eq!(
            fired(&text, "CopyAllBeforeInstall", &NoFacts, &Config::default()).len(),
            1,
            "{install}"
        );
    }
    // A build step that needs the sources is not a dependency install.
    assert!(
        fired(
            "FROM x:1\nCOPY . .\nRUN go build ./...\nRUN npm install -g pm2\n",
            "CopyAllBeforeInstall",
            &NoFacts,
            &Config::default()
        )
        .is_empty()
    );
}

#[test]
fn cleanup_in_later_layer_only_for_what_is_left_behind() {
    // The earlier RUN cleaned up after itself: a later `apt-get clean` is not
    // about its layer.
    let clean = "FROM debian:12\nRUN apt-get update && apt-get install -y curl && apt-get clean && rm -rf /var/lib/apt/lists/*\nRUN ./setup.sh && apt-get clean\n";
    assert!(fired(clean, "CleanupInLaterLayer", &NoFacts, &Config::default()).is_empty());
    // A script copied in one layer and removed in the next stays in the first.
    let copied = "FROM debian:12\nCOPY scripts/*.sh /tmp/scripts/\nRUN bash /tmp/scripts/setup.sh && rm -rf /tmp/scripts\n";
    let found = fired(copied, "CleanupInLaterLayer", &NoFacts, &Config::default());
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("line 2"), "{}", found[0].message);
    // A download removed in the same RUN is fine; in the next RUN it is not.
    let same = "FROM debian:12\nRUN curl -fsSLo /tmp/x.tgz https://example.com/x.tgz && tar -xzf /tmp/x.tgz && rm /tmp/x.tgz\n";
    assert!(fired(same, "CleanupInLaterLayer", &NoFacts, &Config::default()).is_empty());
    let later = "FROM debian:12\nRUN curl -fsSLo /tmp/x.tgz https://example.com/x.tgz\nRUN tar -xzf /tmp/x.tgz && rm /tmp/x.tgz\n";
    assert_eq!(
        fired(later, "CleanupInLaterLayer", &NoFacts, &Config::default()).len(),
        1
    );
}
