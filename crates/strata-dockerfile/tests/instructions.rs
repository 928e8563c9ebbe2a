//! Typed instructions, stages, ARG scoping and expansion, each construct of the
//! Dockerfile reference against BuildKit's behaviour.

use std::collections::BTreeMap;

use strata_dockerfile::{
    Command, Error, ErrorKind, Expander, FrontendOptions, GlobalScope, Kind, MountType, Network,
    Security, Sharing, StageScope, Stages, Typed, parse, parse_instruction, proxy_environment,
};
use strata_oci::Platform;

fn stages(text: &str) -> Stages {
    let dockerfile = parse(text).unwrap_or_else(|error| panic!("parse: {error}"));
    Stages::parse(&dockerfile).unwrap_or_else(|error| panic!("stages: {error}"))
}

fn error(text: &str) -> Error {
    let dockerfile = parse(text).unwrap_or_else(|error| panic!("parse: {error}"));
    match Stages::parse(&dockerfile) {
        Ok(stages) => panic!("accepted: {stages:?}"),
        Err(error) => error,
    }
}

fn commands(text: &str) -> Vec<Command> {
    stages(text)
        .stages
        .into_iter()
        .next()
        .expect("one stage")
        .commands
}

fn only(text: &str) -> Command {
    let mut commands = commands(text);
    assert_eq!(commands.len(), 1, "{commands:?}");
    commands.remove(0)
}

#[test]
fn from_with_platform_and_name() {
    let stages = stages("FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\nFROM scratch\n");
    let from = &stages.stages[0].from;
    assert_eq!(from.image, "golang:1.22");
    assert_eq!(from.platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(from.name.as_deref(), Some("build"));
    assert_eq!(from.name_as_written.as_deref(), Some("Build"));
    assert_eq!(stages.stages[1].index, 1);
    assert_eq!(stages.find("BUILD").map(|s| s.index), Some(0));
    assert_eq!(stages.find("1").map(|s| s.index), Some(1));
    assert_eq!(stages.default_target().map(|s| s.index), Some(1));
}

#[test]
fn from_errors() {
    assert_eq!(
        error("FROM a b\n").message,
        "FROM requires either one or three arguments"
    );
    assert_eq!(
        error("FROM a AS 1x\n").message,
        "invalid name for build stage: \"1x\", name can't start with a number or contain symbols"
    );
    assert_eq!(
        error("FROM --platfrom=x a\n").message,
        "unknown flag: --platfrom (did you mean platform?)"
    );
    assert_eq!(error("FROM --plat=x a\n").message, "unknown flag: --plat");
    assert_eq!(
        error("RUN x\n").message,
        "no build stage in current context"
    );
}

#[test]
fn duplicate_and_reserved_stage_names_are_warnings() {
    let stages = stages("FROM a AS b\nFROM c AS B\nFROM d AS scratch\n");
    let rules: Vec<&str> = stages.warnings.iter().map(|w| w.rule).collect();
    assert_eq!(rules, ["DuplicateStageName", "ReservedStageName"]);
    assert_eq!(
        stages.warnings[0].message,
        "Duplicate stage name \"b\", stage names should be unique"
    );
    assert_eq!(stages.find("b").map(|s| s.index), Some(1));
}

#[test]
fn run_shell_exec_and_flags() {
    let Command::Run(run) = only(
        "FROM a\nRUN --mount=type=cache,target=/root/.cache,sharing=locked --network=none --security=insecure apt-get update && \\\n  apt-get install -y x\n",
    ) else {
        panic!()
    };
    assert!(run.command.prepend_shell);
    assert_eq!(
        run.command.arguments,
        ["apt-get update &&   apt-get install -y x"]
    );
    assert_eq!(run.network, Network::None);
    assert_eq!(run.security, Security::Insecure);
    assert_eq!(
        run.mounts,
        ["type=cache,target=/root/.cache,sharing=locked"]
    );
    let environment = BTreeMap::new();
    let mut expander = Expander::new('\\', &environment);
    let mounts = run.mounts(&mut expander).unwrap();
    assert_eq!(mounts[0].kind, MountType::Cache);
    assert_eq!(mounts[0].sharing, Some(Sharing::Locked));

    let Command::Run(run) = only("FROM a\nRUN [\"echo\", \"hi\"]\n") else {
        panic!()
    };
    assert!(!run.command.prepend_shell);
    assert_eq!(run.command.arguments, ["echo", "hi"]);
}

#[test]
fn run_mount_values_expand_at_dispatch() {
    let Command::Run(run) = only("FROM a\nRUN --mount=type=$T,target=${DIR:-/x} true\n") else {
        panic!()
    };
    let environment: BTreeMap<String, String> = [("T".to_string(), "tmpfs".to_string())].into();
    let mut expander = Expander::new('\\', &environment);
    let mounts = run.mounts(&mut expander).unwrap();
    assert_eq!(mounts[0].kind, MountType::Tmpfs);
    assert_eq!(mounts[0].target.as_deref(), Some("/x"));
    assert_eq!(expander.unmatched.iter().collect::<Vec<_>>(), ["DIR"]);
    // RUN's command itself is left to the shell.
    let expanded = Command::Run(run.clone()).expand(&mut expander).unwrap();
    assert_eq!(expanded, Command::Run(run));
}

#[test]
fn run_flag_errors() {
    assert_eq!(
        error("FROM a\nRUN --network=bridge x\n").message,
        "invalid network mode \"bridge\""
    );
    assert_eq!(
        error("FROM a\nRUN --security=x y\n").message,
        "security \"x\" is not valid"
    );
    assert_eq!(
        error("FROM a\nRUN --mount=from=$x,target=/y z\n").message,
        "'from' doesn't support variable expansion, define alias stage instead"
    );
    assert_eq!(
        error("FROM a\nRUN --mount z\n").message,
        "missing a value on flag: --mount"
    );
    assert_eq!(
        error("FROM a\nRUN --mont=x z\n").message,
        "unknown flag: --mont (did you mean mount?)"
    );
}

#[test]
fn run_heredocs_become_files() {
    let Command::Run(run) = only("FROM a\nRUN <<-EOF bash\n\techo hi\n\tEOF\n") else {
        panic!()
    };
    assert_eq!(run.command.arguments, ["<<-EOF bash"]);
    assert_eq!(run.files.len(), 1);
    assert_eq!(run.files[0].name, "EOF");
    assert_eq!(run.files[0].data, "\techo hi\n");
    assert!(run.files[0].chomp);
}

#[test]
fn copy_and_add_flags() {
    let Command::Copy(copy) = only(
        "FROM a\nCOPY --from=build --chown=1:2 --chmod=u+rwx,g=rx --link --parents --exclude=*.md --exclude=x a b /dst/\n",
    ) else {
        panic!()
    };
    assert_eq!(copy.sources, ["a", "b"]);
    assert_eq!(copy.destination, "/dst/");
    assert_eq!(copy.from.as_deref(), Some("build"));
    assert_eq!(copy.chown.as_deref(), Some("1:2"));
    assert_eq!(copy.chmod.as_deref(), Some("u+rwx,g=rx"));
    assert!(copy.link && copy.parents);
    assert_eq!(copy.exclude, ["*.md", "x"]);
    assert_eq!(copy.check_from(), Ok(()));

    let Command::Add(add) = only(
        "FROM a\nADD --checksum=sha256:abc --keep-git-dir=false --unpack=true --link=false https://x/y.tar /\n",
    ) else {
        panic!()
    };
    assert_eq!(add.checksum.as_deref(), Some("sha256:abc"));
    assert_eq!(add.keep_git_dir, Some(false));
    assert_eq!(add.unpack, Some(true));
    assert!(!add.link);

    let Command::Add(add) = only("FROM a\nADD [\"a b\", \"/c d/\"]\n") else {
        panic!()
    };
    assert_eq!(add.sources, ["a b"]);
    assert_eq!(add.destination, "/c d/");
}

#[test]
fn copy_errors() {
    assert_eq!(
        error("FROM a\nCOPY x\n").message,
        "COPY requires at least two arguments, but only one was provided. Destination could not be determined"
    );
    assert_eq!(
        error("FROM a\nCOPY --checksum=x a b\n").message,
        "unknown flag: --checksum"
    );
    assert_eq!(
        error("FROM a\nCOPY --link=maybe a b\n").message,
        "expecting boolean value for flag --link, not: maybe"
    );
    assert_eq!(
        error("FROM a\nCOPY --link= a b\n").message,
        "missing a value on flag: --link"
    );
    assert_eq!(
        error("FROM a\nCOPY --from=a --from=b a b\n").message,
        "duplicate flag specified: --from"
    );
    assert_eq!(
        error("FROM a\nCOPY a <<EOF\nx\nEOF\n").message,
        "COPY cannot accept a heredoc as a destination"
    );
    let Command::Copy(copy) = only("FROM a\nCOPY --from=$stage a b\n") else {
        panic!()
    };
    assert!(
        copy.check_from()
            .unwrap_err()
            .starts_with("variable expansion is not supported for --from")
    );
}

#[test]
fn copy_heredoc_sources() {
    let Command::Copy(copy) = only("FROM a\nCOPY <<-A <<'B' plain /dst/\n\tone $X\nA\ntwo $X\nB\n")
    else {
        panic!()
    };
    assert_eq!(copy.sources, ["plain"]);
    assert_eq!(copy.contents.len(), 2);
    assert_eq!(
        (
            copy.contents[0].path.as_str(),
            copy.contents[0].data.as_str()
        ),
        ("A", "one $X\n")
    );
    assert!(copy.contents[0].expand);
    assert!(!copy.contents[1].expand);
    let environment: BTreeMap<String, String> = [("X".to_string(), "x".to_string())].into();
    let mut expander = Expander::new('\\', &environment);
    let Command::Copy(expanded) = Command::Copy(copy).expand(&mut expander).unwrap() else {
        panic!()
    };
    assert_eq!(expanded.contents[0].data, "one x\n");
    assert_eq!(expanded.contents[1].data, "two $X\n");
}

#[test]
fn env_forms_and_one_environment_per_instruction() {
    let Command::Env(env) = only("FROM a\nENV a=1 b=$a c=\"x y\"\n") else {
        panic!()
    };
    let environment: BTreeMap<String, String> = [("a".to_string(), "old".to_string())].into();
    let mut expander = Expander::new('\\', &environment);
    let Command::Env(expanded) = Command::Env(env).expand(&mut expander).unwrap() else {
        panic!()
    };
    let values: Vec<(&str, &str)> = expanded
        .pairs
        .iter()
        .map(|p| (p.key.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(values, [("a", "1"), ("b", "old"), ("c", "x y")]);

    let Command::Env(env) = only("FROM a\nENV legacy value with  spaces\n") else {
        panic!()
    };
    assert!(env.pairs[0].legacy);
    assert_eq!(env.pairs[0].value, "value with  spaces");
}

#[test]
fn env_and_label_errors() {
    let parse_error = parse("FROM a\nENV x\n").unwrap_err();
    assert_eq!(parse_error.message, "ENV must have two arguments");
    assert_eq!(parse_error.kind, ErrorKind::Syntax);
    assert_eq!(
        parse("FROM a\nLABEL a=b c\n").unwrap_err().message,
        "Syntax error - can't find = in \"c\". Must be of the form: name=value"
    );
    assert_eq!(
        error("FROM a\nENV\n").message,
        "ENV requires at least one argument"
    );
    assert_eq!(
        error("FROM a\nLABEL =x\n").message,
        "LABEL names can not be blank"
    );
    assert_eq!(
        error("FROM a\nENV --x=1 a=b\n").message,
        "unknown flag: --x"
    );
}

#[test]
fn arg_forms() {
    let stages = stages("ARG A B=2\nARG C=\nFROM x\nARG A\n");
    let definitions: Vec<(&str, Option<&str>)> = stages.meta_args[0]
        .definitions
        .iter()
        .chain(&stages.meta_args[1].definitions)
        .map(|d| (d.key.as_str(), d.value.as_deref()))
        .collect();
    assert_eq!(
        definitions,
        [("A", None), ("B", Some("2")), ("C", Some(""))]
    );
    assert_eq!(
        error("FROM x\nARG =v\n").message,
        "ARG names can not be blank"
    );
    assert_eq!(
        error("FROM x\nARG\n").message,
        "ARG requires at least one argument"
    );
}

#[test]
fn arg_doc_comment() {
    let stages = stages("# VERSION the version to build\nARG VERSION=1\nFROM x\n");
    assert_eq!(
        stages.meta_args[0].definitions[0].doc_comment,
        "the version to build"
    );
}

#[test]
fn global_args_reach_from_lines_only_unless_redeclared() {
    let text = "ARG BASE=alpine\nARG TAG=${BASE}-1\nFROM $BASE:$TAG AS one\nRUN echo $BASE\nARG BASE\nARG TAG=override\nFROM one\nARG TARGETOS\n";
    let dockerfile = parse(text).unwrap();
    let stages = Stages::parse(&dockerfile).unwrap();
    let options = FrontendOptions {
        build_platform: Platform::parse("linux/arm64/v8").unwrap(),
        ..FrontendOptions::default()
    };
    let global =
        GlobalScope::new(&stages.meta_args, &options, "", '\\', &dockerfile.source).unwrap();
    let from = global.expand_from(&stages.stages[0].from, '\\').unwrap();
    assert_eq!(from.image.value, "alpine:alpine-1");
    assert_eq!(
        global.definitions["TAG"]
            .dependencies
            .iter()
            .collect::<Vec<_>>(),
        ["BASE"]
    );

    let mut scope = StageScope::new(["PATH=/bin"]);
    assert_eq!(scope.environment().get_value("BASE"), None);
    for command in &stages.stages[0].commands {
        if let Command::Arg(arg) = command {
            scope.declare(arg, &global, &options, '\\').unwrap();
        }
    }
    assert_eq!(scope.environment().get_value("BASE"), Some("alpine"));
    assert_eq!(scope.environment().get_value("TAG"), Some("override"));

    let mut second = StageScope::new(Vec::<String>::new());
    let Command::Arg(arg) = &stages.stages[1].commands[0] else {
        panic!()
    };
    second.declare(arg, &global, &options, '\\').unwrap();
    assert_eq!(second.environment().get_value("TARGETOS"), Some("linux"));
}

#[test]
fn build_args_override_defaults_and_platform_args() {
    let text = "ARG V=1\nFROM x:$V\nARG V=2\nARG W=$V\nARG U=$UNDEFINED\n";
    let dockerfile = parse(text).unwrap();
    let stages = Stages::parse(&dockerfile).unwrap();
    let mut options = FrontendOptions::default();
    options.build_args.insert("V".to_string(), "9".to_string());
    options
        .build_args
        .insert("TARGETARCH".to_string(), "riscv64".to_string());
    options.target_platform = Platform::parse("linux/amd64").ok();
    let global =
        GlobalScope::new(&stages.meta_args, &options, "", '\\', &dockerfile.source).unwrap();
    assert_eq!(
        global
            .expand_from(&stages.stages[0].from, '\\')
            .unwrap()
            .image
            .value,
        "x:9"
    );
    assert_eq!(global.args.get_value("TARGETARCH"), Some("riscv64"));
    assert_eq!(global.args.get_value("TARGETPLATFORM"), Some("linux/amd64"));
    assert_eq!(global.args.get_value("TARGETSTAGE"), Some("default"));

    let mut scope = StageScope::new(Vec::<String>::new());
    let mut undefined = Vec::new();
    for command in &stages.stages[0].commands {
        let Command::Arg(arg) = command else { continue };
        let declared = scope.declare(arg, &global, &options, '\\').unwrap();
        undefined.extend(declared.unmatched);
    }
    assert_eq!(scope.environment().get_value("V"), Some("9"));
    assert_eq!(scope.environment().get_value("W"), Some("9"));
    assert_eq!(undefined, ["UNDEFINED"]);
}

#[test]
fn proxies_are_predefined() {
    let build_args: BTreeMap<String, String> = [
        ("HTTP_PROXY".to_string(), "upper".to_string()),
        ("http_proxy".to_string(), "lower".to_string()),
        ("no_proxy".to_string(), "localhost".to_string()),
    ]
    .into();
    let proxy = proxy_environment(&build_args);
    assert_eq!(proxy.http_proxy.as_deref(), Some("lower"));
    assert_eq!(proxy.no_proxy.as_deref(), Some("localhost"));
    assert_eq!(proxy.https_proxy, None);
}

#[test]
fn expansion_rules_per_instruction() {
    let text = "FROM a\nWORKDIR $D\nUSER $U\nVOLUME $D /v\nSTOPSIGNAL $S\nLABEL $K=$V\nCMD echo $D\nENTRYPOINT [\"$D\"]\nSHELL [\"$D\"]\nHEALTHCHECK CMD $D\nONBUILD RUN $D\nMAINTAINER $D\nEXPOSE $P\n";
    let environment: BTreeMap<String, String> = [
        ("D", "/d"),
        ("U", "u"),
        ("S", "SIGTERM"),
        ("K", "k"),
        ("V", "v"),
        ("P", "80 443/udp"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut expander = Expander::new('\\', &environment);
    let mut texts = Vec::new();
    for command in commands(text) {
        let rule = command.kind().expansion_rule();
        let expanded = command.expand(&mut expander).unwrap();
        if let Command::Expose(expose) = &expanded {
            let specs = expose.expand_ports(&mut expander).unwrap();
            texts.push(format!(
                "{:?} {:?}",
                rule,
                specs
                    .iter()
                    .flat_map(|s| s.ports.clone())
                    .collect::<Vec<_>>()
            ));
            continue;
        }
        texts.push(
            format!("{rule:?} {expanded:?}")
                .split(", location")
                .next()
                .unwrap()
                .to_string(),
        );
    }
    let expected = [
        "Words Workdir(Workdir { path: \"/d\"",
        "Words User(User { user: \"u\"",
        "Words Volume(Volume { paths: [\"/d\", \"/v\"]",
        "Words StopSignal(StopSignal { signal: \"SIGTERM\"",
        "Words Label(Label { pairs: [KeyValue { key: \"k\", value: \"v\", legacy: false }]",
        "None Cmd(Cmd { command: CommandLine { arguments: [\"echo $D\"], prepend_shell: true }",
        "None Entrypoint(Entrypoint { command: Some(CommandLine { arguments: [\"$D\"], prepend_shell: false })",
        "None Shell(Shell { shell: [\"$D\"]",
        "None Healthcheck(Healthcheck { test: [\"CMD-SHELL\", \"$D\"], interval: 0, timeout: 0, start_period: 0, start_interval: 0, retries: 0",
        "None Onbuild(Onbuild { expression: \"RUN $D\", trigger: \"RUN\"",
        "None Maintainer(Maintainer { name: \"$D\"",
        "Split [\"80/tcp\", \"443/udp\"]",
    ];
    assert_eq!(texts, expected);
    assert_eq!(
        Kind::From.expansion_rule(),
        strata_dockerfile::ExpansionRule::GlobalArgs
    );
    assert_eq!(
        Kind::Arg.expansion_rule(),
        strata_dockerfile::ExpansionRule::Deferred
    );
}

#[test]
fn undefined_variables_exclude_declared_args() {
    let text = "FROM a\nARG DECLARED\nENV X=$DECLARED$MISSING\n";
    let stages = stages(text);
    let mut scope = StageScope::new(Vec::<String>::new());
    let global = GlobalScope::new(
        &[],
        &FrontendOptions::default(),
        "",
        '\\',
        &strata_dockerfile::Source::new(""),
    )
    .unwrap();
    let Command::Arg(arg) = &stages.stages[0].commands[0] else {
        panic!()
    };
    scope
        .declare(arg, &global, &FrontendOptions::default(), '\\')
        .unwrap();
    let environment = scope.environment().clone();
    let mut expander = Expander::new('\\', &environment);
    stages.stages[0].commands[1].expand(&mut expander).unwrap();
    assert_eq!(
        scope
            .undefined(&expander.unmatched)
            .into_iter()
            .collect::<Vec<_>>(),
        ["MISSING"]
    );
}

#[test]
fn healthcheck_options_and_none() {
    let Command::Healthcheck(health) = only(
        "FROM a\nHEALTHCHECK --interval=5m --timeout=3s --start-period=1s --start-interval=500ms --retries=3 CMD curl -f http://localhost/ || exit 1\n",
    ) else {
        panic!()
    };
    assert_eq!(
        health.test,
        ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]
    );
    assert_eq!(health.interval, 300_000_000_000);
    assert_eq!(health.timeout, 3_000_000_000);
    assert_eq!(health.start_period, 1_000_000_000);
    assert_eq!(health.start_interval, 500_000_000);
    assert_eq!(health.retries, 3);
    assert_eq!(health.interval_text(), "5m0s");
    let Command::Healthcheck(health) = only("FROM a\nHEALTHCHECK CMD [\"curl\", \"-f\"]\n") else {
        panic!()
    };
    assert_eq!(health.test, ["CMD", "curl", "-f"]);
    let Command::Healthcheck(health) = only("FROM a\nHEALTHCHECK --interval=bogus NONE\n") else {
        panic!()
    };
    assert_eq!(health.test, ["NONE"]);
}

#[test]
fn healthcheck_errors() {
    assert_eq!(
        error("FROM a\nHEALTHCHECK NONE x\n").message,
        "HEALTHCHECK NONE takes no arguments"
    );
    assert_eq!(
        error("FROM a\nHEALTHCHECK CMD\n").message,
        "Missing command after HEALTHCHECK CMD"
    );
    assert_eq!(
        error("FROM a\nHEALTHCHECK RUN x\n").message,
        "Unknown type \"RUN\" in HEALTHCHECK (try CMD)"
    );
    assert_eq!(
        error("FROM a\nHEALTHCHECK --interval=1us CMD x\n").message,
        "Interval \"interval\" cannot be less than 1ms"
    );
    assert_eq!(
        error("FROM a\nHEALTHCHECK --timeout=3 CMD x\n").message,
        "time: missing unit in duration \"3\""
    );
    assert_eq!(
        error("FROM a\nHEALTHCHECK --retries=-1 CMD x\n").message,
        "--retries cannot be negative (-1)"
    );
    assert_eq!(
        error("FROM a\nHEALTHCHECK --retries=x CMD x\n").message,
        "strconv.ParseInt: parsing \"x\": invalid syntax"
    );
}

#[test]
fn onbuild_and_its_forbidden_forms() {
    let Command::Onbuild(onbuild) = only("FROM a\nonbuild  COPY --from=x <<EOF /y\nhello\nEOF\n")
    else {
        panic!()
    };
    assert_eq!(onbuild.trigger, "COPY");
    assert_eq!(onbuild.expression, "COPY --from=x <<EOF /y\nhello\nEOF");
    assert_eq!(
        error("FROM a\nONBUILD ONBUILD RUN x\n").message,
        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    );
    assert_eq!(
        error("FROM a\nONBUILD FROM x\n").message,
        "FROM isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(
        error("FROM a\nONBUILD maintainer x\n").message,
        "MAINTAINER isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(
        error("FROM a\nONBUILD\n").message,
        "ONBUILD requires at least one argument"
    );
    // Triggers are typed when they fire.
    let trigger =
        strata_dockerfile::parse_trigger("RUN --network=none echo", Default::default()).unwrap();
    assert!(matches!(trigger, Command::Run(run) if run.network == Network::None));
    let at = strata_dockerfile::Location {
        index: 3,
        span: strata_dockerfile::Span::new(40, 50),
        start_line: 7,
        end_line: 7,
    };
    let failure = strata_dockerfile::parse_trigger("RUNN x", at).unwrap_err();
    assert_eq!((failure.line, failure.span), (7, at.span));
    assert_eq!(
        failure.message,
        "unknown instruction: RUNN (did you mean RUN?)"
    );
}

#[test]
fn shell_requires_json() {
    let Command::Shell(shell) = only("FROM a\nSHELL [\"powershell\", \"-command\"]\n") else {
        panic!()
    };
    assert_eq!(shell.shell, ["powershell", "-command"]);
    assert_eq!(
        error("FROM a\nSHELL powershell -command\n").message,
        "SHELL requires the arguments to be in JSON form"
    );
    assert_eq!(
        error("FROM a\nSHELL []\n").message,
        "SHELL requires at least one argument"
    );
}

#[test]
fn simple_instructions() {
    let text = "FROM a\nMAINTAINER Jane Doe <j@d>\nEXPOSE 8080 80/udp\nVOLUME [\"/a\", \"/b\"]\nVOLUME /c /d\nUSER 1000:1000\nWORKDIR /app\nSTOPSIGNAL SIGKILL\nCMD [\"a\"]\nENTRYPOINT []\nLABEL a=b \"c d\"=e\n";
    let kinds: Vec<Kind> = commands(text).iter().map(Command::kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Maintainer,
            Kind::Expose,
            Kind::Volume,
            Kind::Volume,
            Kind::User,
            Kind::Workdir,
            Kind::Stopsignal,
            Kind::Cmd,
            Kind::Entrypoint,
            Kind::Label
        ]
    );
    let commands = commands(text);
    assert!(matches!(&commands[1], Command::Expose(e) if e.ports == ["80/udp", "8080"]));
    assert!(matches!(&commands[8], Command::Entrypoint(e) if e.command.is_none()));
    assert_eq!(
        error("FROM a\nUSER\n").message,
        "USER requires exactly one argument"
    );
    // USER, WORKDIR and friends take the rest of the line as one argument.
    assert!(matches!(only("FROM a\nUSER a b\n"), Command::User(user) if user.user == "a b"));
    assert_eq!(
        error("FROM a\nWORKDIR\n").message,
        "WORKDIR requires exactly one argument"
    );
    assert_eq!(
        error("FROM a\nEXPOSE\n").message,
        "EXPOSE requires at least one argument"
    );
    assert_eq!(
        error("FROM a\nVOLUME [\"\"]\n").message,
        "VOLUME specified can not be an empty string"
    );
    assert_eq!(
        error("FROM a\nSTOPSIGNAL\n").message,
        "STOPSIGNAL requires exactly one argument"
    );
    assert_eq!(
        error("FROM a\nMAINTAINER\n").message,
        "MAINTAINER requires exactly one argument"
    );
    // STOPSIGNAL and ARG accept (and ignore) any flag, as BuildKit does.
    assert!(matches!(
        only("FROM a\nSTOPSIGNAL --x 9\n"),
        Command::StopSignal(_)
    ));
}

#[test]
fn unknown_instructions_suggest() {
    assert_eq!(
        error("FROM a\nRUNN x\n").message,
        "unknown instruction: RUNN (did you mean RUN?)"
    );
    assert_eq!(
        error("FROM a\ncopyy x\n").message,
        "unknown instruction: copyy (did you mean copy?)"
    );
    assert_eq!(
        error("FROM a\nFOOBAR x\n").message,
        "unknown instruction: FOOBAR"
    );
    let failure = error("FROM a\n  RUNN x\n");
    assert_eq!(
        (failure.line, failure.column, failure.kind),
        (2, 3, ErrorKind::UnknownInstruction)
    );
}

#[test]
fn parse_instruction_types_one() {
    let dockerfile = parse("FROM a AS b\n").unwrap();
    assert!(matches!(
        parse_instruction(&dockerfile, 0),
        Ok(Typed::From(_))
    ));
    assert!(parse_instruction(&dockerfile, 1).is_err());
}

#[test]
fn expose_dispatch_errors() {
    let Command::Expose(expose) = only("FROM a\nEXPOSE $P\n") else {
        panic!()
    };
    let environment: BTreeMap<String, String> = [("P".to_string(), "80/icmp".to_string())].into();
    let mut expander = Expander::new('\\', &environment);
    assert!(expose.expand_ports(&mut expander).is_err());
}

trait GetValue {
    fn get_value(&self, name: &str) -> Option<&str>;
}

impl<E: strata_dockerfile::Environment> GetValue for E {
    fn get_value(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
}
