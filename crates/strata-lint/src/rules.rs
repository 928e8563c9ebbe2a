//! The rules: each with its name, the hadolint ids that name the same
//! finding, a default severity, where it comes from, and one sentence on why
//! it matters.

use crate::severity::Severity;

/// Where a rule comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// One of BuildKit's build checks (`docker build --check`), same name and message.
    BuildKit,
    /// A mistake from the guide's table, strata's own.
    Guide,
    /// One of hadolint's rules, with hadolint's semantics.
    Hadolint,
    /// Not a rule: the Dockerfile does not type-check (BuildKit fails the build).
    Build,
}

/// A lint rule's description.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// The name, CamelCase (BuildKit's for its checks).
    pub name: &'static str,
    /// The hadolint ids for the same finding, if any.
    pub aliases: &'static [&'static str],
    /// The default severity.
    pub severity: Severity,
    /// Where the rule comes from.
    pub origin: Origin,
    /// Why it matters, in one sentence.
    pub why: &'static str,
    /// Documentation (BuildKit's page for its checks).
    pub url: Option<&'static str>,
    /// Off unless asked for (BuildKit's experimental checks, hadolint's
    /// rules that need configuration).
    pub experimental: bool,
}

impl Rule {
    /// The rule's one-line description as BuildKit words it for its checks
    /// (its lint results' `description`); the why for the others.
    pub fn description(&self) -> &'static str {
        if self.origin != Origin::BuildKit {
            return self.why;
        }
        // Where strata's why says more than BuildKit's description.
        match self.name {
            "JSONArgsRecommended" => {
                "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals"
            }
            "InvalidBaseImagePlatform" => {
                "Base image platform does not match expected target platform"
            }
            "SecretsUsedInArgOrEnv" => {
                "Sensitive data should not be used in the ARG or ENV commands"
            }
            _ => self.why.strip_suffix('.').unwrap_or(self.why),
        }
    }
}

macro_rules! rule {
    ($name:ident, $text:literal, [$($alias:literal),*], $severity:ident, $origin:ident, $why:literal, $url:expr, $experimental:literal) => {
        #[doc = concat!("`", $text, "`: ", $why)]
        pub(crate) static $name: Rule = Rule {
            name: $text,
            aliases: &[$($alias),*],
            severity: Severity::$severity,
            origin: Origin::$origin,
            why: $why,
            url: $url,
            experimental: $experimental,
        };
    };
}

const fn docs(url: &'static str) -> Option<&'static str> {
    Some(url)
}

// BuildKit's checks (frontend/dockerfile/linter/ruleset.go).
rule!(
    STAGE_NAME_CASING,
    "StageNameCasing",
    [],
    Warning,
    BuildKit,
    "Stage names should be lowercase.",
    docs("https://docs.docker.com/go/dockerfile/rule/stage-name-casing/"),
    false
);
rule!(
    FROM_AS_CASING,
    "FromAsCasing",
    [],
    Warning,
    BuildKit,
    "The 'as' keyword should match the case of the 'from' keyword.",
    docs("https://docs.docker.com/go/dockerfile/rule/from-as-casing/"),
    false
);
rule!(
    NO_EMPTY_CONTINUATION,
    "NoEmptyContinuation",
    [],
    Warning,
    BuildKit,
    "Empty continuation lines will become errors in a future release.",
    docs("https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/"),
    false
);
rule!(
    CONSISTENT_INSTRUCTION_CASING,
    "ConsistentInstructionCasing",
    [],
    Warning,
    BuildKit,
    "All commands within the Dockerfile should use the same casing (either upper or lower).",
    docs("https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/"),
    false
);
rule!(
    DUPLICATE_STAGE_NAME,
    "DuplicateStageName",
    ["DL3024"],
    Warning,
    BuildKit,
    "Stage names should be unique.",
    docs("https://docs.docker.com/go/dockerfile/rule/duplicate-stage-name/"),
    false
);
rule!(
    RESERVED_STAGE_NAME,
    "ReservedStageName",
    ["DL3063"],
    Warning,
    BuildKit,
    "Reserved words should not be used as stage names.",
    docs("https://docs.docker.com/go/dockerfile/rule/reserved-stage-name/"),
    false
);
rule!(
    JSON_ARGS_RECOMMENDED,
    "JSONArgsRecommended",
    ["DL3025"],
    Warning,
    BuildKit,
    "In shell form the shell is PID 1, so the app never receives SIGTERM and `docker stop` waits 10 s before killing it: use exec form, CMD [\"node\", \"app.js\"].",
    docs("https://docs.docker.com/go/dockerfile/rule/json-args-recommended/"),
    false
);
rule!(
    MAINTAINER_DEPRECATED,
    "MaintainerDeprecated",
    ["DL4000"],
    Warning,
    BuildKit,
    "The MAINTAINER instruction is deprecated, use a label instead to define an image author.",
    docs("https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/"),
    false
);
rule!(
    UNDEFINED_ARG_IN_FROM,
    "UndefinedArgInFrom",
    [],
    Warning,
    BuildKit,
    "FROM command must use declared ARGs.",
    docs("https://docs.docker.com/go/dockerfile/rule/undefined-arg-in-from/"),
    false
);
rule!(
    WORKDIR_RELATIVE_PATH,
    "WorkdirRelativePath",
    ["DL3000"],
    Warning,
    BuildKit,
    "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes.",
    docs("https://docs.docker.com/go/dockerfile/rule/workdir-relative-path/"),
    false
);
rule!(
    UNDEFINED_VAR,
    "UndefinedVar",
    [],
    Warning,
    BuildKit,
    "Variables should be defined before their use.",
    docs("https://docs.docker.com/go/dockerfile/rule/undefined-var/"),
    false
);
rule!(
    MULTIPLE_INSTRUCTIONS_DISALLOWED,
    "MultipleInstructionsDisallowed",
    ["DL4003", "DL4004", "DL3012"],
    Warning,
    BuildKit,
    "Multiple instructions of the same type should not be used in the same stage.",
    docs("https://docs.docker.com/go/dockerfile/rule/multiple-instructions-disallowed/"),
    false
);
rule!(
    LEGACY_KEY_VALUE_FORMAT,
    "LegacyKeyValueFormat",
    [],
    Warning,
    BuildKit,
    "Legacy key/value format with whitespace separator should not be used.",
    docs("https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/"),
    false
);
rule!(
    INVALID_BASE_IMAGE_PLATFORM,
    "InvalidBaseImagePlatform",
    [],
    Warning,
    BuildKit,
    "Base image platform does not match expected target platform: its programs may not run here, or run emulated.",
    None,
    false
);
rule!(
    REDUNDANT_TARGET_PLATFORM,
    "RedundantTargetPlatform",
    ["DL3065"],
    Warning,
    BuildKit,
    "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior.",
    docs("https://docs.docker.com/go/dockerfile/rule/redundant-target-platform/"),
    false
);
rule!(
    SECRETS_USED_IN_ARG_OR_ENV,
    "SecretsUsedInArgOrEnv",
    ["DL3064"],
    Warning,
    BuildKit,
    "ARG and ENV values are visible in `docker history` and `docker inspect`: use BuildKit's --secret at build time or inject secrets at run time.",
    docs("https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/"),
    false
);
rule!(
    INVALID_DEFAULT_ARG_IN_FROM,
    "InvalidDefaultArgInFrom",
    [],
    Warning,
    BuildKit,
    "Default value for global ARG results in an empty or invalid base image name.",
    docs("https://docs.docker.com/go/dockerfile/rule/invalid-default-arg-in-from/"),
    false
);
rule!(
    FROM_PLATFORM_FLAG_CONST_DISALLOWED,
    "FromPlatformFlagConstDisallowed",
    ["DL3029"],
    Warning,
    BuildKit,
    "FROM --platform flag should not use a constant value.",
    docs("https://docs.docker.com/go/dockerfile/rule/from-platform-flag-const-disallowed/"),
    false
);
rule!(
    COPY_IGNORED_FILE,
    "CopyIgnoredFile",
    [],
    Warning,
    BuildKit,
    "Attempting to Copy file that is excluded by .dockerignore.",
    docs("https://docs.docker.com/go/dockerfile/rule/copy-ignored-file/"),
    false
);
rule!(
    INVALID_DEFINITION_DESCRIPTION,
    "InvalidDefinitionDescription",
    [],
    Warning,
    BuildKit,
    "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.",
    docs("https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/"),
    true
);
rule!(
    EXPOSE_PROTO_CASING,
    "ExposeProtoCasing",
    [],
    Warning,
    BuildKit,
    "Protocol in EXPOSE instruction should be lowercase.",
    docs("https://docs.docker.com/go/dockerfile/rule/expose-proto-casing/"),
    false
);
rule!(
    EXPOSE_INVALID_FORMAT,
    "ExposeInvalidFormat",
    [],
    Warning,
    BuildKit,
    "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release.",
    docs("https://docs.docker.com/go/dockerfile/rule/expose-invalid-format/"),
    false
);

// The guide's mistakes.
rule!(
    PIN_BASE_IMAGE_VERSION,
    "PinBaseImageVersion",
    ["DL3006", "DL3007"],
    Warning,
    Guide,
    "Non-reproducible builds: the base image changes under you; pin a version, FROM node:20.14-alpine3.20.",
    None,
    false
);
rule!(
    COPY_ALL_BEFORE_INSTALL,
    "CopyAllBeforeInstall",
    [],
    Warning,
    Guide,
    "Any source change invalidates the dependency install's cache: copy the manifest (package*.json, requirements.txt, go.mod ...) first, install, then copy the source.",
    None,
    false
);
rule!(
    RUNS_AS_ROOT,
    "RunsAsRoot",
    ["DL3002"],
    Warning,
    Guide,
    "Container escape = host root access: create a user with adduser and switch to it with USER.",
    None,
    false
);
rule!(
    MISSING_DOCKERIGNORE,
    "MissingDockerignore",
    [],
    Warning,
    Guide,
    "Without a .dockerignore every build sends .git, node_modules and secrets to the builder (slow, large, leaky): create a .dockerignore matching .gitignore.",
    None,
    false
);
rule!(
    APT_GET_UPDATE_ALONE,
    "AptGetUpdateAlone",
    [],
    Warning,
    Guide,
    "A RUN with only `apt-get update` is cached forever and later installs get stale package lists: always `apt-get update && apt-get install` together.",
    None,
    false
);
rule!(
    CONSECUTIVE_RUN_INSTRUCTIONS,
    "ConsecutiveRunInstructions",
    ["DL3059"],
    Info,
    Guide,
    "Each RUN is a layer: combine related commands with && and \\ continuations.",
    None,
    false
);
rule!(
    ADD_INSTEAD_OF_COPY,
    "AddInsteadOfCopy",
    ["DL3020"],
    Warning,
    Guide,
    "ADD auto-extracts archives and fetches URLs, which can surprise you: use COPY unless you need tar extraction.",
    None,
    false
);
rule!(
    MISSING_HEALTHCHECK,
    "MissingHealthcheck",
    [],
    Info,
    Guide,
    "Without a HEALTHCHECK, Docker and orchestrators cannot detect that the app has stopped answering: add one to images that serve a port.",
    None,
    false
);
rule!(
    RUN_CD_NO_EFFECT,
    "RunCdNoEffect",
    ["DL3003"],
    Warning,
    Guide,
    "Each RUN starts a new shell, so a `cd` alone has no effect on the next instruction: use WORKDIR.",
    None,
    false
);
rule!(
    CLEANUP_IN_LATER_LAYER,
    "CleanupInLaterLayer",
    [],
    Warning,
    Guide,
    "Layers are immutable: files removed in a later RUN still take their space in the layer that created them; clean up in the same RUN.",
    None,
    false
);
rule!(
    APT_LISTS_NOT_CLEANED,
    "AptListsNotCleaned",
    ["DL3009"],
    Info,
    Guide,
    "The apt lists (/var/lib/apt/lists) stay in the layer: end the RUN with `rm -rf /var/lib/apt/lists/*`.",
    None,
    false
);

// hadolint's rules.
rule!(
    COMMAND_POINTLESS_IN_CONTAINER,
    "CommandPointlessInContainer",
    ["DL3001"],
    Info,
    Hadolint,
    "Commands like ssh, vim, shutdown, service, ps, free, top, kill and mount make no sense in a build step.",
    None,
    false
);
rule!(
    WORKDIR_INSTEAD_OF_CD,
    "WorkdirInsteadOfCd",
    ["DL3003"],
    Warning,
    Hadolint,
    "A directory change in RUN does not carry over to other instructions: use WORKDIR to switch to a directory.",
    None,
    false
);
rule!(
    SUDO_IN_RUN,
    "SudoInRun",
    ["DL3004"],
    Error,
    Hadolint,
    "sudo has unpredictable TTY and signal behaviour in a build: RUN already runs as the current USER; use a tool like gosu to drop to another user.",
    None,
    false
);
rule!(
    PIN_APT_GET_VERSIONS,
    "PinAptGetVersions",
    ["DL3008"],
    Warning,
    Hadolint,
    "Unpinned packages make the image depend on the day it was built: use `apt-get install <package>=<version>`.",
    None,
    false
);
rule!(
    ADD_TO_EXTRACT_ARCHIVE,
    "AddToExtractArchive",
    ["DL3010"],
    Info,
    Hadolint,
    "Copying an archive and extracting it in a later RUN keeps the archive in a layer: ADD extracts local archives itself.",
    None,
    false
);
rule!(
    EXPOSE_PORT_OUT_OF_RANGE,
    "ExposePortOutOfRange",
    ["DL3011"],
    Error,
    Hadolint,
    "Valid UNIX ports range from 0 to 65535.",
    None,
    false
);
rule!(
    PIN_PIP_VERSIONS,
    "PinPipVersions",
    ["DL3013"],
    Warning,
    Hadolint,
    "Unpinned packages make the image depend on the day it was built: use `pip install <package>==<version>` or a requirements file.",
    None,
    false
);
rule!(
    APT_GET_WITHOUT_YES,
    "AptGetWithoutYes",
    ["DL3014"],
    Warning,
    Hadolint,
    "A build cannot answer prompts: use `apt-get install -y`.",
    None,
    false
);
rule!(
    APT_GET_INSTALL_RECOMMENDS,
    "AptGetInstallRecommends",
    ["DL3015"],
    Info,
    Hadolint,
    "Recommended packages bloat the image: use `apt-get install --no-install-recommends`.",
    None,
    false
);
rule!(
    PIN_NPM_VERSIONS,
    "PinNpmVersions",
    ["DL3016"],
    Warning,
    Hadolint,
    "Unpinned packages make the image depend on the day it was built: use `npm install <package>@<version>`.",
    None,
    false
);
rule!(
    PIN_APK_VERSIONS,
    "PinApkVersions",
    ["DL3018"],
    Warning,
    Hadolint,
    "Unpinned packages make the image depend on the day it was built: use `apk add <package>=<version>`.",
    None,
    false
);
rule!(
    APK_ADD_WITHOUT_NO_CACHE,
    "ApkAddWithoutNoCache",
    ["DL3019"],
    Info,
    Hadolint,
    "The apk index stays in the layer: use `apk add --no-cache` instead of `--update` and removing /var/cache/apk/*.",
    None,
    false
);
rule!(
    COPY_MULTIPLE_SOURCES_TO_FILE,
    "CopyMultipleSourcesToFile",
    ["DL3021"],
    Error,
    Hadolint,
    "COPY with more than 2 arguments requires the last argument to end with /.",
    None,
    false
);
rule!(
    COPY_FROM_UNDEFINED_STAGE,
    "CopyFromUndefinedStage",
    ["DL3022"],
    Warning,
    Hadolint,
    "`COPY --from` should reference a previously defined `FROM` alias; anything else is pulled as an image.",
    None,
    false
);
rule!(
    COPY_FROM_OWN_STAGE,
    "CopyFromOwnStage",
    ["DL3023"],
    Error,
    Hadolint,
    "`COPY --from` cannot reference its own `FROM` alias.",
    None,
    false
);
rule!(
    UNTRUSTED_REGISTRY,
    "UntrustedRegistry",
    ["DL3026"],
    Error,
    Hadolint,
    "Images from registries outside the trusted list can change or vanish: use only an allowed registry.",
    None,
    false
);
rule!(
    APT_USED,
    "AptUsed",
    ["DL3027"],
    Warning,
    Hadolint,
    "apt is meant for people at a terminal and its interface may change: use apt-get or apt-cache.",
    None,
    false
);
rule!(
    PIN_GEM_VERSIONS,
    "PinGemVersions",
    ["DL3028"],
    Warning,
    Hadolint,
    "Unpinned gems make the image depend on the day it was built: use `gem install <gem>:<version>`.",
    None,
    false
);
rule!(
    YUM_WITHOUT_YES,
    "YumWithoutYes",
    ["DL3030"],
    Warning,
    Hadolint,
    "A build cannot answer prompts: use `yum install -y`.",
    None,
    false
);
rule!(
    YUM_CLEAN_MISSING,
    "YumCleanMissing",
    ["DL3032"],
    Warning,
    Hadolint,
    "The yum cache stays in the layer: end the RUN with `yum clean all`.",
    None,
    false
);
rule!(
    PIN_YUM_VERSIONS,
    "PinYumVersions",
    ["DL3033"],
    Warning,
    Hadolint,
    "Unpinned packages make the image depend on the day it was built: use `yum install -y <package>-<version>`.",
    None,
    false
);
rule!(
    ZYPPER_WITHOUT_YES,
    "ZypperWithoutYes",
    ["DL3034"],
    Warning,
    Hadolint,
    "A build cannot answer prompts: use `zypper install -y`.",
    None,
    false
);
rule!(
    ZYPPER_DIST_UPGRADE,
    "ZypperDistUpgrade",
    ["DL3035"],
    Warning,
    Hadolint,
    "A distribution upgrade in a build makes the image unpredictable: do not use `zypper dist-upgrade`.",
    None,
    false
);
rule!(
    ZYPPER_CLEAN_MISSING,
    "ZypperCleanMissing",
    ["DL3036"],
    Warning,
    Hadolint,
    "The zypper cache stays in the layer: end the RUN with `zypper clean`.",
    None,
    false
);
rule!(
    PIN_ZYPPER_VERSIONS,
    "PinZypperVersions",
    ["DL3037"],
    Warning,
    Hadolint,
    "Unpinned packages make the image depend on the day it was built: use `zypper install -y <package>=<version>`.",
    None,
    false
);
rule!(
    DNF_WITHOUT_YES,
    "DnfWithoutYes",
    ["DL3038"],
    Warning,
    Hadolint,
    "A build cannot answer prompts: use `dnf install -y`.",
    None,
    false
);
rule!(
    DNF_CLEAN_MISSING,
    "DnfCleanMissing",
    ["DL3040"],
    Warning,
    Hadolint,
    "The dnf cache stays in the layer: end the RUN with `dnf clean all`.",
    None,
    false
);
rule!(
    PIN_DNF_VERSIONS,
    "PinDnfVersions",
    ["DL3041"],
    Warning,
    Hadolint,
    "Unpinned packages make the image depend on the day it was built: use `dnf install -y <package>-<version>`.",
    None,
    false
);
rule!(
    PIP_CACHE_NOT_DISABLED,
    "PipCacheNotDisabled",
    ["DL3042"],
    Warning,
    Hadolint,
    "pip's download cache stays in the layer: use `pip install --no-cache-dir`.",
    None,
    false
);
rule!(
    ENV_SELF_REFERENCE,
    "EnvSelfReference",
    ["DL3044"],
    Error,
    Hadolint,
    "An ENV instruction expands its values before it sets any of them, so a value cannot use a variable defined in the same ENV.",
    None,
    false
);
rule!(
    COPY_RELATIVE_WITHOUT_WORKDIR,
    "CopyRelativeWithoutWorkdir",
    ["DL3045"],
    Warning,
    Hadolint,
    "A relative destination depends on the base image's working directory: set WORKDIR first or use an absolute path.",
    None,
    false
);
rule!(
    USERADD_HIGH_UID,
    "UseraddHighUid",
    ["DL3046"],
    Warning,
    Hadolint,
    "useradd with a high UID and no -l fills /var/log/lastlog and faillog with gigabytes of zeros: use `useradd -l`.",
    None,
    false
);
rule!(
    WGET_WITHOUT_PROGRESS,
    "WgetWithoutProgress",
    ["DL3047"],
    Info,
    Hadolint,
    "wget's progress bar bloats build logs: use `wget --progress=dot:giga`, `-q` or `-nv`.",
    None,
    false
);
rule!(
    INVALID_LABEL_KEY,
    "InvalidLabelKey",
    ["DL3048"],
    Style,
    Hadolint,
    "Label keys should be lower-case reverse-DNS names of letters, digits, `.`, `-`, `_` and `/`, outside the com.docker., io.docker. and org.dockerproject. namespaces.",
    None,
    false
);
rule!(
    YARN_CACHE_NOT_CLEANED,
    "YarnCacheNotCleaned",
    ["DL3060"],
    Info,
    Hadolint,
    "yarn's cache stays in the layer: run `yarn cache clean` after `yarn install` in the same RUN.",
    None,
    false
);
rule!(
    PIN_GO_VERSIONS,
    "PinGoVersions",
    ["DL3062"],
    Warning,
    Hadolint,
    "Unpinned modules make the image depend on the day it was built: use `go install <package>@<version>`.",
    None,
    false
);
rule!(
    NON_NUMERIC_USER,
    "NonNumericUser",
    ["DL3066"],
    Info,
    Hadolint,
    "A user name may not be resolvable by the host system (Kubernetes' runAsNonRoot needs a numeric id): use a numeric user id.",
    None,
    false
);
rule!(
    COPY_ENTIRE_STAGE_FILESYSTEM,
    "CopyEntireStageFilesystem",
    ["DL3067"],
    Warning,
    Hadolint,
    "Copying / from another stage copies a whole filesystem over this one: copy only what you need.",
    None,
    false
);
rule!(
    WGET_AND_CURL,
    "WgetAndCurl",
    ["DL4001"],
    Warning,
    Hadolint,
    "Installing both wget and curl adds a tool for nothing: use one of them.",
    None,
    false
);
rule!(
    SYMLINKED_SHELL,
    "SymlinkedShell",
    ["DL4005"],
    Warning,
    Hadolint,
    "Replacing /bin/sh with a symlink is invisible to the builder: use the SHELL instruction to change the default shell.",
    None,
    false
);
rule!(
    PIPEFAIL_MISSING,
    "PipefailMissing",
    ["DL4006"],
    Warning,
    Hadolint,
    "Without `set -o pipefail` a failing command on the left of a pipe does not fail the RUN: set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] before a RUN with a pipe.",
    None,
    false
);
rule!(
    INVALID_INSTRUCTION,
    "InvalidInstruction",
    ["DL3061", "DL3043"],
    Error,
    Build,
    "BuildKit refuses this instruction, so the build fails here.",
    None,
    false
);

/// Every rule, BuildKit's first.
pub static RULES: &[&Rule] = &[
    &STAGE_NAME_CASING,
    &FROM_AS_CASING,
    &NO_EMPTY_CONTINUATION,
    &CONSISTENT_INSTRUCTION_CASING,
    &DUPLICATE_STAGE_NAME,
    &RESERVED_STAGE_NAME,
    &JSON_ARGS_RECOMMENDED,
    &MAINTAINER_DEPRECATED,
    &UNDEFINED_ARG_IN_FROM,
    &WORKDIR_RELATIVE_PATH,
    &UNDEFINED_VAR,
    &MULTIPLE_INSTRUCTIONS_DISALLOWED,
    &LEGACY_KEY_VALUE_FORMAT,
    &INVALID_BASE_IMAGE_PLATFORM,
    &REDUNDANT_TARGET_PLATFORM,
    &SECRETS_USED_IN_ARG_OR_ENV,
    &INVALID_DEFAULT_ARG_IN_FROM,
    &FROM_PLATFORM_FLAG_CONST_DISALLOWED,
    &COPY_IGNORED_FILE,
    &INVALID_DEFINITION_DESCRIPTION,
    &EXPOSE_PROTO_CASING,
    &EXPOSE_INVALID_FORMAT,
    &PIN_BASE_IMAGE_VERSION,
    &COPY_ALL_BEFORE_INSTALL,
    &RUNS_AS_ROOT,
    &MISSING_DOCKERIGNORE,
    &APT_GET_UPDATE_ALONE,
    &CONSECUTIVE_RUN_INSTRUCTIONS,
    &ADD_INSTEAD_OF_COPY,
    &MISSING_HEALTHCHECK,
    &RUN_CD_NO_EFFECT,
    &CLEANUP_IN_LATER_LAYER,
    &APT_LISTS_NOT_CLEANED,
    &COMMAND_POINTLESS_IN_CONTAINER,
    &WORKDIR_INSTEAD_OF_CD,
    &SUDO_IN_RUN,
    &PIN_APT_GET_VERSIONS,
    &ADD_TO_EXTRACT_ARCHIVE,
    &EXPOSE_PORT_OUT_OF_RANGE,
    &PIN_PIP_VERSIONS,
    &APT_GET_WITHOUT_YES,
    &APT_GET_INSTALL_RECOMMENDS,
    &PIN_NPM_VERSIONS,
    &PIN_APK_VERSIONS,
    &APK_ADD_WITHOUT_NO_CACHE,
    &COPY_MULTIPLE_SOURCES_TO_FILE,
    &COPY_FROM_UNDEFINED_STAGE,
    &COPY_FROM_OWN_STAGE,
    &UNTRUSTED_REGISTRY,
    &APT_USED,
    &PIN_GEM_VERSIONS,
    &YUM_WITHOUT_YES,
    &YUM_CLEAN_MISSING,
    &PIN_YUM_VERSIONS,
    &ZYPPER_WITHOUT_YES,
    &ZYPPER_DIST_UPGRADE,
    &ZYPPER_CLEAN_MISSING,
    &PIN_ZYPPER_VERSIONS,
    &DNF_WITHOUT_YES,
    &DNF_CLEAN_MISSING,
    &PIN_DNF_VERSIONS,
    &PIP_CACHE_NOT_DISABLED,
    &ENV_SELF_REFERENCE,
    &COPY_RELATIVE_WITHOUT_WORKDIR,
    &USERADD_HIGH_UID,
    &WGET_WITHOUT_PROGRESS,
    &INVALID_LABEL_KEY,
    &YARN_CACHE_NOT_CLEANED,
    &PIN_GO_VERSIONS,
    &NON_NUMERIC_USER,
    &COPY_ENTIRE_STAGE_FILESYSTEM,
    &WGET_AND_CURL,
    &SYMLINKED_SHELL,
    &PIPEFAIL_MISSING,
    &INVALID_INSTRUCTION,
];

/// The rule called `name`, or having `name` as an alias (case-insensitive).
pub fn find_rule(name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .find(|rule| rule.name.eq_ignore_ascii_case(name))
        .or_else(|| {
            RULES.iter().copied().find(|rule| {
                rule.aliases
                    .iter()
                    .any(|alias| alias.eq_ignore_ascii_case(name))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = RULES.iter().map(|rule| rule.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn lookup_by_alias() {
        assert_eq!(
            find_rule("dl3025").map(|r| r.name),
            Some("JSONArgsRecommended")
        );
        assert_eq!(
            find_rule("undefinedvar").map(|r| r.name),
            Some("UndefinedVar")
        );
        assert_eq!(find_rule("nope"), None);
    }
}
