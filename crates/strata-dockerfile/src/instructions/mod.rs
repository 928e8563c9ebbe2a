//! Typed instructions, as BuildKit's `instructions` package builds them from
//! the parser's AST: the flags each instruction takes, argument counts,
//! ONBUILD's forbidden triggers, SHELL's JSON form, and the errors for all of
//! these. Also which fields BuildKit's dispatcher expands ([`Command::expand`]).

mod commands;
mod files;
mod flags;
mod settings;
mod stage;
mod typing;

pub use typing::{parse_instruction, parse_trigger};

use crate::ast::Kind;
use crate::lexer::{Environment, ExpandError, Lexer};
use crate::mount::{Device, Mount, MountError, parse_mount};
use crate::source::Span;
use crate::values::{Chmod, PortSpec, parse_port, parse_signal};
use strata_go::time::format_duration;

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

/// Checks a STOPSIGNAL value after expansion (BuildKit's dispatch does).
pub fn check_signal(signal: &str) -> Result<i32, String> {
    parse_signal(signal)
}

/// Checks a `--chmod` value after expansion (BuildKit's dispatch does).
pub fn check_chmod(chmod: &str) -> Result<Chmod, String> {
    Chmod::parse(chmod)
}
