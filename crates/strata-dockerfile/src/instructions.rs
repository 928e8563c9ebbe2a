//! Typed instructions, as BuildKit's `instructions` package builds them from
//! the parser's AST: the flags each instruction takes, argument counts,
//! ONBUILD's forbidden triggers, SHELL's JSON form, and the errors for all of
//! these. Also which fields BuildKit's dispatcher expands ([`Command::expand`]).

use crate::ast::{Dockerfile, Heredoc, Instruction, Kind};
use crate::error::{Error, ErrorKind};
use crate::go::{format_duration, parse_duration, parse_int};
use crate::heredoc::{chomp, parse_heredoc};
use crate::lexer::{Environment, ExpandError, Lexer};
use crate::mount::{Device, Mount, MountError, parse_device, parse_mount};
use crate::source::{Source, Span};
use crate::text::{equal_fold_ascii, go_quote};
use crate::values::{Chmod, PortSpec, parse_port, parse_signal};
use strata_go::strings;
use strata_go::suggest::with_suggestion;

/// Where an instruction is: its span and lines, and its index in
/// [`Dockerfile::instructions`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// The instruction's index in the Dockerfile.
    pub index: usize,
    /// Its bytes.
    pub span: Span,
    /// Its first line.
    pub start_line: usize,
    /// Its last line.
    pub end_line: usize,
}

/// A command's arguments: exec form (JSON) or shell form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    /// Exec form: the array; shell form: one string, the arguments joined by spaces.
    pub arguments: Vec<String>,
    /// True for shell form: the stage's SHELL runs it.
    pub prepend_shell: bool,
}

/// A heredoc a command carries (`RUN <<EOF`), BuildKit's `ShellInlineFile`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineFile {
    /// The delimiter.
    pub name: String,
    /// The body, not chomped.
    pub data: String,
    /// Whether `<<-` asked for leading tabs to be removed.
    pub chomp: bool,
}

/// A heredoc source of COPY/ADD (`COPY <<EOF /dest`), BuildKit's `SourceContent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceContent {
    /// The file name it is copied as (the delimiter).
    pub path: String,
    /// The body, chomped when `<<-`.
    pub data: String,
    /// Whether the body's variables are expanded (the delimiter was not quoted).
    pub expand: bool,
}

/// One `name=value` of ENV or LABEL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The name.
    pub key: String,
    /// The value.
    pub value: String,
    /// True for the legacy `ENV name value` form.
    pub legacy: bool,
}

/// One ARG definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgDefinition {
    /// The name.
    pub key: String,
    /// The default value, if given (`ARG a=` gives an empty default).
    pub value: Option<String>,
    /// The comment line above that starts with the name (BuildKit's doc comment).
    pub doc_comment: String,
}

/// `FROM [--platform=p] image [AS name]`: the start of a stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct From {
    /// The image or stage, before expansion.
    pub image: String,
    /// `--platform`, before expansion.
    pub platform: Option<String>,
    /// The stage name, lower-cased.
    pub name: Option<String>,
    /// The stage name as written.
    pub name_as_written: Option<String>,
    /// The instruction name as written (`FROM`, `from`), for casing checks.
    pub keyword: String,
    /// The comment line above that starts with the stage name (BuildKit's
    /// doc comment: `# build compiles the app`), without the name; empty if none.
    pub doc_comment: String,
    /// Where it is.
    pub location: Location,
}

/// `RUN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The command.
    pub command: CommandLine,
    /// Heredocs.
    pub files: Vec<InlineFile>,
    /// `--mount` values as written (see [`Run::mounts`]).
    pub mounts: Vec<String>,
    /// `--network` (default `default`).
    pub network: Network,
    /// `--security` (default `sandbox`).
    pub security: Security,
    /// `--device` values, parsed.
    pub devices: Vec<Device>,
    /// The flags that were given (names).
    pub flags_used: Vec<String>,
    /// Where it is.
    pub location: Location,
}

/// `RUN --network`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// `default`.
    Default,
    /// `none`.
    None,
    /// `host`.
    Host,
}

/// `RUN --security`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// `sandbox` (the default).
    Sandbox,
    /// `insecure`.
    Insecure,
}

/// `CMD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmd {
    /// The command.
    pub command: CommandLine,
    /// Where it is.
    pub location: Location,
}

/// `ENTRYPOINT` (an empty exec form clears it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entrypoint {
    /// The command; `None` for `ENTRYPOINT []`.
    pub command: Option<CommandLine>,
    /// Where it is.
    pub location: Location,
}

/// `COPY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copy {
    /// Source paths (heredocs excluded).
    pub sources: Vec<String>,
    /// Heredoc sources.
    pub contents: Vec<SourceContent>,
    /// The destination.
    pub destination: String,
    /// `--from`: a stage name, index, image or context (never expanded).
    pub from: Option<String>,
    /// `--chown`.
    pub chown: Option<String>,
    /// `--chmod`, as written (see [`Chmod::parse`]).
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--parents`.
    pub parents: bool,
    /// `--exclude` patterns.
    pub exclude: Vec<String>,
    /// Where it is.
    pub location: Location,
}

/// `ADD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Add {
    /// Source paths or URLs (heredocs excluded).
    pub sources: Vec<String>,
    /// Heredoc sources.
    pub contents: Vec<SourceContent>,
    /// The destination.
    pub destination: String,
    /// `--chown`.
    pub chown: Option<String>,
    /// `--chmod`, as written.
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--keep-git-dir`, when given.
    pub keep_git_dir: Option<bool>,
    /// `--checksum`.
    pub checksum: Option<String>,
    /// `--unpack`, when given.
    pub unpack: Option<bool>,
    /// `--exclude` patterns.
    pub exclude: Vec<String>,
    /// Where it is.
    pub location: Location,
}

/// `ENV`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    /// The variables, in order.
    pub pairs: Vec<KeyValue>,
    /// Where it is.
    pub location: Location,
}

/// `LABEL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The labels, in order.
    pub pairs: Vec<KeyValue>,
    /// Where it is.
    pub location: Location,
}

/// `ARG`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    /// The definitions, in order.
    pub definitions: Vec<ArgDefinition>,
    /// Where it is.
    pub location: Location,
}

/// `EXPOSE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expose {
    /// The ports as written, sorted (as BuildKit sorts them).
    pub ports: Vec<String>,
    /// Where it is.
    pub location: Location,
}

/// `HEALTHCHECK`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Healthcheck {
    /// The test: `["NONE"]`, `["CMD", args...]` or `["CMD-SHELL", command]`.
    pub test: Vec<String>,
    /// `--interval` in nanoseconds (0 = unset).
    pub interval: i64,
    /// `--timeout` in nanoseconds (0 = unset).
    pub timeout: i64,
    /// `--start-period` in nanoseconds (0 = unset).
    pub start_period: i64,
    /// `--start-interval` in nanoseconds (0 = unset).
    pub start_interval: i64,
    /// `--retries` (0 = unset).
    pub retries: i32,
    /// Where it is.
    pub location: Location,
}

/// `MAINTAINER` (deprecated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Maintainer {
    /// The text.
    pub name: String,
    /// Where it is.
    pub location: Location,
}

/// `ONBUILD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Onbuild {
    /// The trigger's text, as stored in the image config (`RUN echo hi`).
    pub expression: String,
    /// The trigger's instruction name, upper-cased.
    pub trigger: String,
    /// Where it is.
    pub location: Location,
}

/// `SHELL` (always exec form).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shell {
    /// The shell and its arguments.
    pub shell: Vec<String>,
    /// Where it is.
    pub location: Location,
}

/// `STOPSIGNAL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopSignal {
    /// The signal as written (see [`parse_signal`](crate::parse_signal)).
    pub signal: String,
    /// Where it is.
    pub location: Location,
}

/// `USER`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// `user[:group]`.
    pub user: String,
    /// Where it is.
    pub location: Location,
}

/// `VOLUME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    /// The paths (trimmed, never empty).
    pub paths: Vec<String>,
    /// Where it is.
    pub location: Location,
}

/// `WORKDIR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workdir {
    /// The path.
    pub path: String,
    /// Where it is.
    pub location: Location,
}

/// Any instruction inside a stage (FROM starts stages: see [`From`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `ADD`
    Add(Add),
    /// `ARG`
    Arg(Arg),
    /// `CMD`
    Cmd(Cmd),
    /// `COPY`
    Copy(Copy),
    /// `ENTRYPOINT`
    Entrypoint(Entrypoint),
    /// `ENV`
    Env(Env),
    /// `EXPOSE`
    Expose(Expose),
    /// `HEALTHCHECK`
    Healthcheck(Healthcheck),
    /// `LABEL`
    Label(Label),
    /// `MAINTAINER`
    Maintainer(Maintainer),
    /// `ONBUILD`
    Onbuild(Onbuild),
    /// `RUN`
    Run(Run),
    /// `SHELL`
    Shell(Shell),
    /// `STOPSIGNAL`
    StopSignal(StopSignal),
    /// `USER`
    User(User),
    /// `VOLUME`
    Volume(Volume),
    /// `WORKDIR`
    Workdir(Workdir),
}

/// A typed instruction: a stage start or a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Typed {
    /// `FROM`.
    From(From),
    /// Anything else.
    Command(Command),
}

/// How BuildKit's dispatcher treats an instruction's variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpansionRule {
    /// Not expanded by the frontend (RUN's command, CMD, ENTRYPOINT, SHELL,
    /// HEALTHCHECK, MAINTAINER, ONBUILD until it triggers).
    None,
    /// Each field is expanded as one word with the stage's environment.
    Words,
    /// Expanded and split into words (EXPOSE).
    Split,
    /// Expanded with the global ARGs only (FROM's image and `--platform`).
    GlobalArgs,
    /// ARG: a default is expanded when the ARG is dispatched, unless a build
    /// argument overrides it.
    Deferred,
}

impl Kind {
    /// Which of this instruction's fields BuildKit expands, and with what.
    pub fn expansion_rule(self) -> ExpansionRule {
        match self {
            Kind::From => ExpansionRule::GlobalArgs,
            Kind::Arg => ExpansionRule::Deferred,
            Kind::Expose => ExpansionRule::Split,
            // RUN: only its --mount values (see Run::mounts).
            Kind::Add
            | Kind::Copy
            | Kind::Env
            | Kind::Label
            | Kind::Run
            | Kind::Stopsignal
            | Kind::User
            | Kind::Volume
            | Kind::Workdir => ExpansionRule::Words,
            Kind::Cmd
            | Kind::Entrypoint
            | Kind::Healthcheck
            | Kind::Maintainer
            | Kind::Onbuild
            | Kind::Shell => ExpansionRule::None,
        }
    }
}

/// Expands words for a command with one environment (BuildKit captures the
/// stage's environment once per instruction, so `ENV a=1 b=$a` sees the old
/// `a`), collecting the variables used.
pub struct Expander<'a> {
    lexer: Lexer,
    environment: &'a dyn Environment,
    /// Variables referred to that were set.
    pub matched: std::collections::BTreeSet<String>,
    /// Variables referred to that were not set (for the UndefinedVar rule).
    pub unmatched: std::collections::BTreeSet<String>,
}

impl<'a> Expander<'a> {
    /// An expander with the Dockerfile's escape character and an environment.
    pub fn new(escape: char, environment: &'a dyn Environment) -> Expander<'a> {
        Expander {
            lexer: Lexer::new(escape),
            environment,
            matched: Default::default(),
            unmatched: Default::default(),
        }
    }

    /// Expands one word.
    pub fn word(&mut self, word: &str) -> Result<String, ExpandError> {
        let (result, met) = self.lexer.expand_word_tracking(word, self.environment);
        self.matched.extend(met.matched);
        self.unmatched.extend(met.unmatched);
        result
    }

    /// Expands and splits into words (EXPOSE).
    pub fn words(&mut self, word: &str) -> Result<Vec<String>, ExpandError> {
        self.lexer.expand_words(word, self.environment)
    }

    /// Expands a heredoc body the way BuildKit does (`\` escapes, quotes literal).
    pub fn raw(&mut self, text: &str) -> Result<String, ExpandError> {
        let mut lexer = Lexer::new('\\');
        lexer.skip_process_quotes = true;
        let (result, met) = lexer.expand_word_tracking(text, self.environment);
        self.matched.extend(met.matched);
        self.unmatched.extend(met.unmatched);
        result
    }
}

/// An expansion failure inside a command (a `--mount` value can also be invalid).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The lexer failed.
    #[error(transparent)]
    Expand(#[from] ExpandError),
    /// A value is invalid after expansion (BuildKit's message).
    #[error("{0}")]
    Invalid(String),
}

impl Command {
    /// Where the command is.
    pub fn location(&self) -> Location {
        match self {
            Command::Add(c) => c.location,
            Command::Arg(c) => c.location,
            Command::Cmd(c) => c.location,
            Command::Copy(c) => c.location,
            Command::Entrypoint(c) => c.location,
            Command::Env(c) => c.location,
            Command::Expose(c) => c.location,
            Command::Healthcheck(c) => c.location,
            Command::Label(c) => c.location,
            Command::Maintainer(c) => c.location,
            Command::Onbuild(c) => c.location,
            Command::Run(c) => c.location,
            Command::Shell(c) => c.location,
            Command::StopSignal(c) => c.location,
            Command::User(c) => c.location,
            Command::Volume(c) => c.location,
            Command::Workdir(c) => c.location,
        }
    }

    /// The instruction.
    pub fn kind(&self) -> Kind {
        match self {
            Command::Add(_) => Kind::Add,
            Command::Arg(_) => Kind::Arg,
            Command::Cmd(_) => Kind::Cmd,
            Command::Copy(_) => Kind::Copy,
            Command::Entrypoint(_) => Kind::Entrypoint,
            Command::Env(_) => Kind::Env,
            Command::Expose(_) => Kind::Expose,
            Command::Healthcheck(_) => Kind::Healthcheck,
            Command::Label(_) => Kind::Label,
            Command::Maintainer(_) => Kind::Maintainer,
            Command::Onbuild(_) => Kind::Onbuild,
            Command::Run(_) => Kind::Run,
            Command::Shell(_) => Kind::Shell,
            Command::StopSignal(_) => Kind::Stopsignal,
            Command::User(_) => Kind::User,
            Command::Volume(_) => Kind::Volume,
            Command::Workdir(_) => Kind::Workdir,
        }
    }

    /// The command with its variables expanded exactly where BuildKit's
    /// dispatcher expands them (ARG and EXPOSE are left to
    /// [`StageScope::declare`](crate::StageScope::declare) and
    /// [`Expose::expand_ports`]; commands BuildKit does not expand come back
    /// unchanged). RUN's `--mount` values are expanded and validated by
    /// [`Run::mounts`].
    pub fn expand(&self, expander: &mut Expander<'_>) -> Result<Command, CommandError> {
        let mut command = self.clone();
        match &mut command {
            Command::Env(Env { pairs, .. }) | Command::Label(Label { pairs, .. }) => {
                for pair in pairs {
                    pair.key = expander.word(&pair.key)?;
                    pair.value = expander.word(&pair.value)?;
                }
            }
            Command::Add(add) => {
                expand_option(&mut add.chown, expander)?;
                expand_option(&mut add.chmod, expander)?;
                expand_option(&mut add.checksum, expander)?;
                expand_sources(
                    &mut add.sources,
                    &mut add.destination,
                    &mut add.contents,
                    expander,
                )?;
            }
            Command::Copy(copy) => {
                expand_option(&mut copy.chown, expander)?;
                expand_option(&mut copy.chmod, expander)?;
                expand_sources(
                    &mut copy.sources,
                    &mut copy.destination,
                    &mut copy.contents,
                    expander,
                )?;
            }
            Command::Workdir(workdir) => workdir.path = expander.word(&workdir.path)?,
            Command::User(user) => user.user = expander.word(&user.user)?,
            Command::Volume(volume) => {
                for path in &mut volume.paths {
                    *path = expander.word(path)?;
                }
            }
            Command::StopSignal(signal) => signal.signal = expander.word(&signal.signal)?,
            Command::Run(run) => {
                run.mounts_expanded(expander)?;
            }
            _ => {}
        }
        Ok(command)
    }
}

fn expand_option(
    value: &mut Option<String>,
    expander: &mut Expander<'_>,
) -> Result<(), ExpandError> {
    // BuildKit expands the empty default too; an unset flag stays unset.
    if let Some(text) = value {
        *text = expander.word(text)?;
    }
    Ok(())
}

fn expand_sources(
    sources: &mut [String],
    destination: &mut String,
    contents: &mut [SourceContent],
    expander: &mut Expander<'_>,
) -> Result<(), ExpandError> {
    for source in sources.iter_mut() {
        *source = expander.word(source)?;
    }
    *destination = expander.word(destination)?;
    for content in contents.iter_mut().filter(|content| content.expand) {
        content.data = expander.raw(&content.data)?;
    }
    Ok(())
}

impl Run {
    /// The `--mount`s, each value expanded with `expander` and validated, as
    /// BuildKit does when it dispatches the RUN.
    pub fn mounts(&self, expander: &mut Expander<'_>) -> Result<Vec<Mount>, CommandError> {
        self.mounts_expanded(expander)
    }

    fn mounts_expanded(&self, expander: &mut Expander<'_>) -> Result<Vec<Mount>, CommandError> {
        let mut mounts = Vec::with_capacity(self.mounts.len());
        for value in &self.mounts {
            let mut expand = |word: &str| expander.word(word);
            let mount = parse_mount(value, Some(&mut expand)).map_err(|error| match error {
                MountError::Invalid(message) => CommandError::Invalid(message),
                MountError::Expand(error) => CommandError::Expand(error),
            })?;
            mounts.push(mount);
        }
        Ok(mounts)
    }
}

impl Expose {
    /// The ports expanded and split into words, then read as BuildKit reads
    /// them (`80/tcp`, ranges expanded).
    pub fn expand_ports(&self, expander: &mut Expander<'_>) -> Result<Vec<PortSpec>, CommandError> {
        let mut specs = Vec::new();
        for port in &self.ports {
            for word in expander.words(port)? {
                specs.push(parse_port(&word).map_err(CommandError::Invalid)?);
            }
        }
        Ok(specs)
    }
}

impl Copy {
    /// BuildKit refuses `--from` values that expansion would change.
    pub fn check_from(&self) -> Result<(), String> {
        let Some(from) = &self.from else {
            return Ok(());
        };
        let expanded = Lexer::new('\\').expand_word(from, &crate::lexer::EmptyEnvironment);
        match expanded {
            Ok(expansion) if &expansion.value == from => Ok(()),
            Ok(_) => Err("variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround".to_string()),
            Err(error) => Err(error.to_string()),
        }
    }
}

impl Healthcheck {
    /// The durations as Go prints them (`30s`, `1m30s`), for history entries.
    pub fn interval_text(&self) -> String {
        format_duration(self.interval)
    }
}

// ---------------------------------------------------------------------------
// Parsing.

#[derive(Clone, Copy, PartialEq, Eq)]
enum FlagType {
    Bool,
    String,
    Strings,
}

struct FlagValue {
    name: &'static str,
    kind: FlagType,
    value: Option<String>,
    values: Vec<String>,
    used: bool,
}

/// BuildKit's `BFlags`: defined flags, then `Parse` over the raw flags.
struct Flags<'a> {
    context: &'a Context<'a>,
    definitions: Vec<FlagValue>,
}

impl<'a> Flags<'a> {
    fn new(context: &'a Context<'a>) -> Flags<'a> {
        Flags {
            context,
            definitions: Vec::new(),
        }
    }

    fn define(mut self, name: &'static str, kind: FlagType) -> Flags<'a> {
        self.definitions.push(FlagValue {
            name,
            kind,
            value: None,
            values: Vec::new(),
            used: false,
        });
        self
    }

    fn parse(mut self) -> Result<Flags<'a>, Error> {
        for flag in &self.context.instruction.flags {
            let text = flag.text.as_str();
            let error =
                |message: String| self.context.error_at(ErrorKind::Flag, message, flag.span);
            if text == "--" {
                break;
            }
            let Some(body) = text.strip_prefix("--") else {
                return Err(error(format!("arg should start with -- : {text}")));
            };
            let (name, value) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (body, None),
            };
            let flag_name = format!("--{name}");
            // BuildKit ranges over a map of the flags: sorted here.
            let mut names: Vec<&str> = self.definitions.iter().map(|d| d.name).collect();
            names.sort_unstable();
            let Some(definition) = self.definitions.iter_mut().find(|d| d.name == name) else {
                return Err(error(with_suggestion(
                    format!("unknown flag: {flag_name}"),
                    name,
                    &names,
                    true,
                )));
            };
            if definition.used && definition.kind != FlagType::Strings {
                return Err(error(format!("duplicate flag specified: {flag_name}")));
            }
            definition.used = true;
            match definition.kind {
                FlagType::Bool => {
                    if value == Some("") {
                        return Err(error(format!("missing a value on flag: {flag_name}")));
                    }
                    let lower = strings::to_lower(value.unwrap_or(""));
                    definition.value = Some(match lower.as_str() {
                        "true" | "" => "true".to_string(),
                        "false" => "false".to_string(),
                        _ => {
                            return Err(error(format!(
                                "expecting boolean value for flag {flag_name}, not: {}",
                                value.unwrap_or("")
                            )));
                        }
                    });
                }
                FlagType::String => {
                    let Some(value) = value else {
                        return Err(error(format!("missing a value on flag: {flag_name}")));
                    };
                    definition.value = Some(value.to_string());
                }
                FlagType::Strings => {
                    let Some(value) = value else {
                        return Err(error(format!("missing a value on flag: {flag_name}")));
                    };
                    definition.values.push(value.to_string());
                }
            }
        }
        Ok(self)
    }

    fn get(&self, name: &str) -> Option<&FlagValue> {
        self.definitions.iter().find(|d| d.name == name)
    }

    fn string(&self, name: &str) -> Option<String> {
        self.get(name).and_then(|flag| flag.value.clone())
    }

    fn boolean(&self, name: &str) -> bool {
        self.get(name).and_then(|flag| flag.value.as_deref()) == Some("true")
    }

    fn optional_boolean(&self, name: &str) -> Option<bool> {
        self.get(name)
            .filter(|flag| flag.used)
            .map(|_| self.boolean(name))
    }

    fn strings(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|flag| flag.values.clone())
            .unwrap_or_default()
    }
}

struct Context<'a> {
    source: &'a Source,
    instruction: &'a Instruction,
    /// For an ONBUILD trigger being typed on its own, the outer instruction.
    location: Location,
    args: Vec<String>,
}

impl Context<'_> {
    fn error(&self, kind: ErrorKind, message: impl Into<String>) -> Error {
        self.error_at(kind, message, self.location.span)
    }

    fn error_at(&self, kind: ErrorKind, message: impl Into<String>, span: Span) -> Error {
        let mut error = Error::new(kind, message, self.source, span);
        error.end_line = error.end_line.max(self.location.end_line).max(error.line);
        error
    }
}

/// BuildKit's `nodeArgs`: the argument texts, an ONBUILD's trigger flattened.
fn node_arguments(instruction: &Instruction) -> Vec<String> {
    let mut result = Vec::new();
    let mut current = instruction;
    loop {
        result.extend(current.arguments.iter().map(|word| word.text.clone()));
        match &current.trigger {
            Some(trigger) => {
                result.push(trigger.keyword.text.clone());
                current = trigger;
            }
            None => return result,
        }
    }
}

/// The instruction names upper-cased and sorted, for did-you-mean (BuildKit
/// ranges over a map of them).
fn instruction_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = Kind::ALL.iter().map(|kind| kind.uppercase()).collect();
    names.sort_unstable();
    names
}

/// Types one instruction of `dockerfile` (BuildKit's `ParseInstruction`).
pub fn parse_instruction(dockerfile: &Dockerfile, index: usize) -> Result<Typed, Error> {
    let Some(instruction) = dockerfile.instructions.get(index) else {
        return Err(Error::new(
            ErrorKind::Stage,
            format!("no instruction {index}"),
            &dockerfile.source,
            Span::default(),
        ));
    };
    let location = Location {
        index,
        span: instruction.span,
        start_line: instruction.start_line,
        end_line: instruction.end_line,
    };
    let context = Context {
        source: &dockerfile.source,
        instruction,
        location,
        args: node_arguments(instruction),
    };
    type_instruction(&context)
}

fn type_instruction(context: &Context<'_>) -> Result<Typed, Error> {
    let instruction = context.instruction;
    let Some(kind) = instruction.kind else {
        let message = with_suggestion(
            format!("unknown instruction: {}", instruction.keyword.text),
            &instruction.keyword.text,
            &instruction_names(),
            false,
        );
        return Err(context.error_at(
            ErrorKind::UnknownInstruction,
            message,
            instruction.keyword.span,
        ));
    };
    let location = context.location;
    let args = &context.args;
    let command = match kind {
        Kind::Env => {
            Flags::new(context).parse()?;
            Command::Env(Env {
                pairs: key_values(context, "ENV")?,
                location,
            })
        }
        Kind::Maintainer => {
            exactly_one(context, "MAINTAINER")?;
            Flags::new(context).parse()?;
            Command::Maintainer(Maintainer {
                name: args[0].clone(),
                location,
            })
        }
        Kind::Label => {
            Flags::new(context).parse()?;
            Command::Label(Label {
                pairs: key_values(context, "LABEL")?,
                location,
            })
        }
        Kind::Add => {
            if args.len() < 2 {
                return Err(no_destination(context, "ADD"));
            }
            let flags = Flags::new(context)
                .define("chown", FlagType::String)
                .define("chmod", FlagType::String)
                .define("link", FlagType::Bool)
                .define("keep-git-dir", FlagType::Bool)
                .define("checksum", FlagType::String)
                .define("unpack", FlagType::Bool)
                .define("exclude", FlagType::Strings)
                .parse()?;
            let (sources, contents, destination) = sources_and_destination(context, "ADD")?;
            Command::Add(Add {
                sources,
                contents,
                destination,
                chown: flags.string("chown").filter(|v| !v.is_empty()),
                chmod: flags.string("chmod").filter(|v| !v.is_empty()),
                link: flags.boolean("link"),
                keep_git_dir: flags.optional_boolean("keep-git-dir"),
                checksum: flags.string("checksum").filter(|v| !v.is_empty()),
                unpack: flags.optional_boolean("unpack"),
                exclude: flags.strings("exclude"),
                location,
            })
        }
        Kind::Copy => {
            if args.len() < 2 {
                return Err(no_destination(context, "COPY"));
            }
            let flags = Flags::new(context)
                .define("chown", FlagType::String)
                .define("from", FlagType::String)
                .define("chmod", FlagType::String)
                .define("link", FlagType::Bool)
                .define("exclude", FlagType::Strings)
                .define("parents", FlagType::Bool)
                .parse()?;
            let (sources, contents, destination) = sources_and_destination(context, "COPY")?;
            Command::Copy(Copy {
                sources,
                contents,
                destination,
                from: flags.string("from").filter(|v| !v.is_empty()),
                chown: flags.string("chown").filter(|v| !v.is_empty()),
                chmod: flags.string("chmod").filter(|v| !v.is_empty()),
                link: flags.boolean("link"),
                parents: flags.boolean("parents"),
                exclude: flags.strings("exclude"),
                location,
            })
        }
        Kind::From => return type_from(context).map(Typed::From),
        Kind::Onbuild => {
            if args.is_empty() {
                return Err(at_least_one(context, "ONBUILD"));
            }
            Flags::new(context).parse()?;
            let trigger = strings::to_upper(args[0].trim());
            match trigger.as_str() {
                "ONBUILD" => {
                    return Err(context.error(
                        ErrorKind::Arguments,
                        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
                    ));
                }
                "MAINTAINER" | "FROM" => {
                    return Err(context.error(
                        ErrorKind::Arguments,
                        format!("{trigger} isn't allowed as an ONBUILD trigger"),
                    ));
                }
                _ => {}
            }
            let mut expression = strip_onbuild(&instruction.original).to_string();
            for heredoc in &instruction.heredocs {
                expression.push('\n');
                expression.push_str(&heredoc.content);
                expression.push_str(&heredoc.name);
            }
            Command::Onbuild(Onbuild {
                expression,
                trigger,
                location,
            })
        }
        Kind::Workdir => {
            exactly_one(context, "WORKDIR")?;
            Flags::new(context).parse()?;
            Command::Workdir(Workdir {
                path: args[0].clone(),
                location,
            })
        }
        Kind::Run => {
            let flags = Flags::new(context)
                .define("device", FlagType::Strings)
                .define("mount", FlagType::Strings)
                .define("network", FlagType::String)
                .define("security", FlagType::String)
                .parse()?;
            let flags_used: Vec<String> = flags
                .definitions
                .iter()
                .filter(|d| d.used)
                .map(|d| d.name.to_string())
                .collect();
            let command = command_line(context);
            let files = instruction
                .heredocs
                .iter()
                .map(|heredoc| InlineFile {
                    name: heredoc.name.clone(),
                    data: heredoc.content.clone(),
                    chomp: heredoc.chomp,
                })
                .collect();
            let mut devices = Vec::new();
            for value in flags.strings("device") {
                devices.push(
                    parse_device(&value)
                        .map_err(|message| context.error(ErrorKind::Flag, message))?,
                );
            }
            let mounts = flags.strings("mount");
            for value in &mounts {
                parse_mount(value, None).map_err(|error| match error {
                    MountError::Invalid(message) => context.error(ErrorKind::Flag, message),
                    MountError::Expand(error) => {
                        context.error(ErrorKind::Expansion, error.to_string())
                    }
                })?;
            }
            let network = match flags.string("network").as_deref().unwrap_or("default") {
                "default" => Network::Default,
                "none" => Network::None,
                "host" => Network::Host,
                other => {
                    return Err(context.error(
                        ErrorKind::Flag,
                        format!("invalid network mode {}", go_quote(other)),
                    ));
                }
            };
            let security = match flags.string("security").as_deref().unwrap_or("sandbox") {
                "sandbox" => Security::Sandbox,
                "insecure" => Security::Insecure,
                other => {
                    return Err(context.error(
                        ErrorKind::Flag,
                        format!("security {} is not valid", go_quote(other)),
                    ));
                }
            };
            Command::Run(Run {
                command,
                files,
                mounts,
                network,
                security,
                devices,
                flags_used,
                location,
            })
        }
        Kind::Cmd => {
            Flags::new(context).parse()?;
            Command::Cmd(Cmd {
                command: command_line(context),
                location,
            })
        }
        Kind::Entrypoint => {
            Flags::new(context).parse()?;
            let command = command_line(context);
            let command = if command.arguments.is_empty() {
                None
            } else {
                Some(command)
            };
            Command::Entrypoint(Entrypoint { command, location })
        }
        Kind::Healthcheck => Command::Healthcheck(type_healthcheck(context)?),
        Kind::Expose => {
            if args.is_empty() {
                return Err(at_least_one(context, "EXPOSE"));
            }
            Flags::new(context).parse()?;
            let mut ports = args.clone();
            ports.sort();
            Command::Expose(Expose { ports, location })
        }
        Kind::User => {
            exactly_one(context, "USER")?;
            Flags::new(context).parse()?;
            Command::User(User {
                user: args[0].clone(),
                location,
            })
        }
        Kind::Volume => {
            if args.is_empty() {
                return Err(at_least_one(context, "VOLUME"));
            }
            Flags::new(context).parse()?;
            let mut paths = Vec::new();
            for path in args {
                let path = path.trim();
                if path.is_empty() {
                    return Err(context.error(
                        ErrorKind::Arguments,
                        "VOLUME specified can not be an empty string",
                    ));
                }
                paths.push(path.to_string());
            }
            Command::Volume(Volume { paths, location })
        }
        Kind::Stopsignal => {
            exactly_one(context, "STOPSIGNAL")?;
            Command::StopSignal(StopSignal {
                signal: args[0].clone(),
                location,
            })
        }
        Kind::Arg => {
            if args.is_empty() {
                return Err(at_least_one(context, "ARG"));
            }
            let mut definitions = Vec::new();
            for arg in args {
                let (key, value) = match arg.split_once('=') {
                    Some((key, value)) => {
                        if key.is_empty() {
                            return Err(
                                context.error(ErrorKind::Arguments, "ARG names can not be blank")
                            );
                        }
                        (key.to_string(), Some(value.to_string()))
                    }
                    None => (arg.clone(), None),
                };
                let doc_comment = doc_comment(&instruction.comments, &key);
                definitions.push(ArgDefinition {
                    key,
                    value,
                    doc_comment,
                });
            }
            Command::Arg(Arg {
                definitions,
                location,
            })
        }
        Kind::Shell => {
            Flags::new(context).parse()?;
            let command = command_line(context);
            if command.arguments.is_empty() {
                return Err(at_least_one(context, "SHELL"));
            }
            if command.prepend_shell {
                return Err(context.error(
                    ErrorKind::Arguments,
                    "SHELL requires the arguments to be in JSON form",
                ));
            }
            Command::Shell(Shell {
                shell: command.arguments,
                location,
            })
        }
    };
    Ok(Typed::Command(command))
}

fn strip_onbuild(original: &str) -> &str {
    // (?i)^\s*ONBUILD\s*
    let trimmed = original.trim_start_matches(['\t', '\n', '\u{0C}', '\r', ' ']);
    match trimmed.get(..7) {
        Some(word) if word.eq_ignore_ascii_case("onbuild") => {
            trimmed[7..].trim_start_matches(['\t', '\n', '\u{0C}', '\r', ' '])
        }
        _ => original,
    }
}

fn doc_comment(comments: &[String], name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    let prefix = format!("{name} ");
    comments
        .iter()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(str::to_string)
        .unwrap_or_default()
}

fn at_least_one(context: &Context<'_>, command: &str) -> Error {
    context.error(
        ErrorKind::Arguments,
        format!("{command} requires at least one argument"),
    )
}

fn exactly_one(context: &Context<'_>, command: &str) -> Result<(), Error> {
    if context.args.len() != 1 {
        return Err(context.error(
            ErrorKind::Arguments,
            format!("{command} requires exactly one argument"),
        ));
    }
    Ok(())
}

fn no_destination(context: &Context<'_>, command: &str) -> Error {
    context.error(
        ErrorKind::Arguments,
        format!("{command} requires at least two arguments, but only one was provided. Destination could not be determined"),
    )
}

fn key_values(context: &Context<'_>, command: &str) -> Result<Vec<KeyValue>, Error> {
    let args = &context.args;
    if args.is_empty() {
        return Err(at_least_one(context, command));
    }
    if !args.len().is_multiple_of(3) {
        return Err(context.error(
            ErrorKind::Arguments,
            format!("Bad input to {command}, too many arguments"),
        ));
    }
    let mut pairs = Vec::new();
    for triple in args.chunks_exact(3) {
        if triple[0].is_empty() {
            return Err(context.error(
                ErrorKind::Arguments,
                format!("{command} names can not be blank"),
            ));
        }
        pairs.push(KeyValue {
            key: triple[0].clone(),
            value: triple[1].clone(),
            legacy: triple[2].is_empty(),
        });
    }
    Ok(pairs)
}

/// `handleJSONArgs` plus the shell-form flag.
fn command_line(context: &Context<'_>) -> CommandLine {
    let node = match (&context.instruction.trigger, context.instruction.kind) {
        (Some(trigger), Some(Kind::Onbuild)) => trigger.as_ref(),
        _ => context.instruction,
    };
    let json = node.json;
    let args = &context.args;
    let arguments = if args.is_empty() {
        Vec::new()
    } else if json {
        args.clone()
    } else {
        vec![args.join(" ")]
    };
    CommandLine {
        arguments,
        prepend_shell: !json,
    }
}

type SourcesAndDestination = (Vec<String>, Vec<SourceContent>, String);

fn sources_and_destination(
    context: &Context<'_>,
    command: &str,
) -> Result<SourcesAndDestination, Error> {
    let args = &context.args;
    let (destination, sources) = match args.split_last() {
        Some((destination, sources)) => (destination.clone(), sources),
        None => return Err(no_destination(context, command)),
    };
    if let Ok(Some(_)) = parse_heredoc(&destination) {
        return Err(context.error(
            ErrorKind::Arguments,
            format!("{command} cannot accept a heredoc as a destination"),
        ));
    }
    let heredocs: &[Heredoc] = &context.instruction.heredocs;
    let mut paths = Vec::new();
    let mut contents = Vec::new();
    for source in sources {
        match parse_heredoc(source) {
            Ok(Some(marker)) => {
                // The last heredoc with that name wins, as in BuildKit's map.
                let content = heredocs
                    .iter()
                    .rev()
                    .find(|heredoc| heredoc.name == marker.name)
                    .map(|heredoc| heredoc.content.clone())
                    .unwrap_or_default();
                let data = if marker.chomp {
                    chomp(&content)
                } else {
                    content
                };
                contents.push(SourceContent {
                    path: marker.name,
                    data,
                    expand: marker.expand,
                });
            }
            _ => paths.push(source.clone()),
        }
    }
    Ok((paths, contents, destination))
}

fn type_from(context: &Context<'_>) -> Result<From, Error> {
    let args = &context.args;
    let (name, name_as_written) = if args.len() == 3 && equal_fold_ascii(&args[1], "as") {
        let name = strings::to_lower(&args[2]);
        if !valid_stage_name(&name) {
            return Err(context.error(
                ErrorKind::Arguments,
                format!("invalid name for build stage: {}, name can't start with a number or contain symbols", go_quote(&args[2])),
            ));
        }
        (Some(name), Some(args[2].clone()))
    } else if args.len() != 1 {
        return Err(context.error(
            ErrorKind::Arguments,
            "FROM requires either one or three arguments",
        ));
    } else {
        (None, None)
    };
    let flags = Flags::new(context)
        .define("platform", FlagType::String)
        .parse()?;
    let doc_comment = doc_comment(
        &context.instruction.comments,
        name.as_deref().unwrap_or_default(),
    );
    Ok(From {
        image: args[0].clone(),
        platform: flags.string("platform").filter(|v| !v.is_empty()),
        doc_comment,
        name,
        name_as_written,
        keyword: context.instruction.keyword.text.clone(),
        location: context.location,
    })
}

/// `^[a-z][a-z0-9-_.]*$`
fn valid_stage_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters.next().is_some_and(|c| c.is_ascii_lowercase())
        && characters
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

fn type_healthcheck(context: &Context<'_>) -> Result<Healthcheck, Error> {
    let args = &context.args;
    let location = context.location;
    let Some(first) = args.first() else {
        return Err(at_least_one(context, "HEALTHCHECK"));
    };
    let kind = strings::to_upper(first);
    let rest = &args[1..];
    let mut health = Healthcheck {
        test: Vec::new(),
        interval: 0,
        timeout: 0,
        start_period: 0,
        start_interval: 0,
        retries: 0,
        location,
    };
    if kind == "NONE" {
        if !rest.is_empty() {
            return Err(context.error(ErrorKind::Arguments, "HEALTHCHECK NONE takes no arguments"));
        }
        health.test = vec![kind];
        return Ok(health);
    }
    let flags = Flags::new(context)
        .define("interval", FlagType::String)
        .define("timeout", FlagType::String)
        .define("start-period", FlagType::String)
        .define("start-interval", FlagType::String)
        .define("retries", FlagType::String)
        .parse()?;
    if kind != "CMD" {
        return Err(context.error(
            ErrorKind::Arguments,
            format!("Unknown type {} in HEALTHCHECK (try CMD)", go_quote(&kind)),
        ));
    }
    let json = context.instruction.json;
    let command: Vec<String> = if rest.is_empty() {
        Vec::new()
    } else if json {
        rest.to_vec()
    } else {
        vec![rest.join(" ")]
    };
    if command.is_empty() {
        return Err(context.error(
            ErrorKind::Arguments,
            "Missing command after HEALTHCHECK CMD",
        ));
    }
    health.test = std::iter::once(if json {
        "CMD".to_string()
    } else {
        "CMD-SHELL".to_string()
    })
    .chain(command)
    .collect();
    let interval = |name: &'static str| -> Result<i64, Error> {
        let Some(value) = flags.string(name).filter(|v| !v.is_empty()) else {
            return Ok(0);
        };
        let duration =
            parse_duration(&value).map_err(|message| context.error(ErrorKind::Flag, message))?;
        if duration == 0 {
            return Ok(0);
        }
        if duration < 1_000_000 {
            return Err(context.error(
                ErrorKind::Flag,
                format!("Interval {} cannot be less than 1ms", go_quote(name)),
            ));
        }
        Ok(duration)
    };
    health.interval = interval("interval")?;
    health.timeout = interval("timeout")?;
    health.start_period = interval("start-period")?;
    health.start_interval = interval("start-interval")?;
    if let Some(retries) = flags.string("retries").filter(|v| !v.is_empty()) {
        let retries =
            parse_int(&retries, 32).map_err(|message| context.error(ErrorKind::Flag, message))?;
        if retries < 0 {
            return Err(context.error(
                ErrorKind::Flag,
                format!("--retries cannot be negative ({retries})"),
            ));
        }
        health.retries = retries as i32;
    }
    Ok(health)
}

/// Types an ONBUILD trigger when it fires (BuildKit parses the expression
/// as a one-instruction Dockerfile, located at the FROM that inherited it).
///
/// Errors point at `location` (the FROM), as BuildKit's do.
pub fn parse_trigger(expression: &str, location: Location) -> Result<Command, Error> {
    type_trigger(expression, location).map_err(|mut error| {
        error.span = location.span;
        error.line = location.start_line;
        error.column = 1;
        error.end_line = location.end_line;
        error
    })
}

fn type_trigger(expression: &str, location: Location) -> Result<Command, Error> {
    let dockerfile = crate::parse(expression.as_bytes().to_vec())?;
    if dockerfile.instructions.len() != 1 {
        return Err(Error::new(
            ErrorKind::Syntax,
            "onbuild trigger should be a single expression",
            &dockerfile.source,
            Span::default(),
        ));
    }
    let instruction = &dockerfile.instructions[0];
    let context = Context {
        source: &dockerfile.source,
        instruction,
        location: Location {
            index: location.index,
            ..Location::default()
        },
        args: node_arguments(instruction),
    };
    match type_instruction(&context)? {
        Typed::Command(command) => Ok(relocate(command, location)),
        Typed::From(_) => Err(Error::new(
            ErrorKind::Stage,
            "*instructions.Stage is not a command type",
            &dockerfile.source,
            Span::default(),
        )),
    }
}

fn relocate(mut command: Command, location: Location) -> Command {
    macro_rules! set {
        ($($variant:ident),*) => {
            match &mut command {
                $(Command::$variant(c) => c.location = location,)*
            }
        };
    }
    set!(
        Add,
        Arg,
        Cmd,
        Copy,
        Entrypoint,
        Env,
        Expose,
        Healthcheck,
        Label,
        Maintainer,
        Onbuild,
        Run,
        Shell,
        StopSignal,
        User,
        Volume,
        Workdir
    );
    command
}

/// Checks a STOPSIGNAL value after expansion (BuildKit's dispatch does).
pub fn check_signal(signal: &str) -> Result<i32, String> {
    parse_signal(signal)
}

/// Checks a `--chmod` value after expansion (BuildKit's dispatch does).
pub fn check_chmod(chmod: &str) -> Result<Chmod, String> {
    Chmod::parse(chmod)
}
