//! One module per command: each has an `Args` (clap) and a `run`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

mod build;
mod builder;
mod containers;
pub(crate) use containers::Failure;
mod context;
mod history;
mod images;
mod import;
mod inspect;
mod lint;
mod load;
mod login;
mod logout;
mod parse;
mod prune;
pub(crate) mod pull;
mod push;
mod rmi;
mod save;
mod sbom;
mod scan;
mod system;
mod tag;

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The store's root directory [default: /var/lib/strata for root,
    /// $XDG_DATA_HOME/strata otherwise]
    #[arg(long, global = true, env = "STRATA_ROOT", value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
    /// A registry (host[:port]) to reach over plain http; localhost and 127.0.0.1 always are
    #[arg(
        long,
        global = true,
        env = "STRATA_INSECURE_REGISTRIES",
        value_delimiter = ',',
        value_name = "HOST[:PORT]"
    )]
    pub(crate) insecure_registry: Vec<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Build an image from a Dockerfile
    Build(Box<build::Args>),
    /// Manage the build cache (`builder prune`)
    Builder(builder::Args),
    /// Parse a Dockerfile and print its instructions
    Parse(parse::Args),
    /// Inspect a build context: what is sent, what is ignored
    Context(context::Args),
    /// Download an image from a registry
    Pull(pull::Args),
    /// Upload an image to a registry
    Push(push::Args),
    /// Create a name TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(tag::Args),
    /// Remove one or more images
    Rmi(rmi::Args),
    /// List images
    Images(images::Args),
    /// Return low-level information on containers and images
    Inspect(inspect::Args),
    /// Show the history of an image
    History(history::Args),
    /// List the packages an image or directory holds (SPDX, CycloneDX or a table)
    Sbom(sbom::Args),
    /// Find known vulnerabilities (OSV advisories) in an image or directory
    Scan(scan::Args),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(save::Args),
    /// Load images from a tar archive or STDIN
    Load(load::Args),
    /// Import the contents from a tarball or directory to create a filesystem image
    Import(import::Args),
    /// Log in to a registry
    Login(login::Args),
    /// Log out from a registry
    Logout(logout::Args),
    /// Remove content that nothing references
    Prune(prune::Args),
    /// Manage the store (`system df`)
    System(system::Args),
    /// Lint a Dockerfile: BuildKit's checks, common mistakes, hadolint's rules
    Lint(lint::Args),
    /// Create and run a new container from an image
    Run(Box<containers::run::RunArgs>),
    /// Create a new container
    Create(Box<containers::run::CreateArgs>),
    /// Start one or more stopped containers
    Start(containers::lifecycle::StartArgs),
    /// Stop one or more running containers
    Stop(containers::lifecycle::StopArgs),
    /// Restart one or more containers
    Restart(containers::lifecycle::StopArgs),
    /// Kill one or more running containers
    Kill(containers::lifecycle::KillArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(containers::lifecycle::WaitArgs),
    /// Remove one or more containers
    Rm(containers::remove::RmArgs),
    /// List containers
    Ps(containers::ps::Args),
    /// Execute a command in a running container
    Exec(containers::exec::Args),
    /// Fetch the logs of a container
    Logs(containers::logs::Args),
    /// List port mappings or a specific mapping for the container
    Port(containers::port::Args),
    /// Copy files/folders between a container and the local filesystem
    Cp(containers::cp::Args),
    /// Display the running processes of a container
    Top(containers::top::Args),
    /// Manage containers (`container ls`, `container prune` ...)
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(containers::volume::VolumeCommand),
    /// Generate a systemd unit that keeps a container up (`generate systemd`)
    #[command(subcommand)]
    Generate(containers::generate::GenerateCommand),
}

impl Command {
    /// Whether the command reads or writes the store (or runs steps or
    /// containers): rootless, it runs in strata's user namespace, where the
    /// store's files have their owners. Parsing, linting, listing a context
    /// and credentials need no namespace (nor subordinate ids).
    pub(crate) fn needs_namespace(&self) -> bool {
        !matches!(
            self,
            Command::Parse(_)
                | Command::Context(_)
                | Command::Lint(_)
                | Command::Login(_)
                | Command::Logout(_)
        )
    }
}

/// `strata container ...`: the container commands under one name, as Docker's.
#[derive(Debug, Subcommand)]
pub(crate) enum ContainerCommand {
    /// List containers
    #[command(visible_alias = "ps", alias = "list")]
    Ls(containers::ps::Args),
    /// Remove all stopped containers
    Prune(containers::remove::PruneArgs),
    /// Create and run a new container from an image
    Run(Box<containers::run::RunArgs>),
    /// Create a new container
    Create(Box<containers::run::CreateArgs>),
    /// Start one or more stopped containers
    Start(containers::lifecycle::StartArgs),
    /// Stop one or more running containers
    Stop(containers::lifecycle::StopArgs),
    /// Restart one or more containers
    Restart(containers::lifecycle::StopArgs),
    /// Kill one or more running containers
    Kill(containers::lifecycle::KillArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(containers::lifecycle::WaitArgs),
    /// Remove one or more containers
    Rm(containers::remove::RmArgs),
    /// Execute a command in a running container
    Exec(containers::exec::Args),
    /// Fetch the logs of a container
    Logs(containers::logs::Args),
    /// List port mappings or a specific mapping for the container
    Port(containers::port::Args),
    /// Copy files/folders between a container and the local filesystem
    Cp(containers::cp::Args),
    /// Display the running processes of a container
    Top(containers::top::Args),
    /// Display detailed information on one or more containers
    Inspect(inspect::ContainerArgs),
}

impl ContainerCommand {
    fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        use containers::*;
        match self {
            ContainerCommand::Ls(args) => ps::run(args, global),
            ContainerCommand::Prune(args) => remove::prune(args, global),
            ContainerCommand::Run(args) => run::run(*args, global),
            ContainerCommand::Create(args) => run::run_create(*args, global),
            ContainerCommand::Start(args) => lifecycle::start(args, global),
            ContainerCommand::Stop(args) => lifecycle::stop(args, global),
            ContainerCommand::Restart(args) => lifecycle::restart(args, global),
            ContainerCommand::Kill(args) => lifecycle::kill(args, global),
            ContainerCommand::Wait(args) => lifecycle::wait(args, global),
            ContainerCommand::Rm(args) => remove::rm(args, global),
            ContainerCommand::Exec(args) => exec::run(args, global),
            ContainerCommand::Logs(args) => logs::run(args, global),
            ContainerCommand::Port(args) => port::run(args, global),
            ContainerCommand::Cp(args) => cp::run(args, global),
            ContainerCommand::Top(args) => top::run(args, global),
            ContainerCommand::Inspect(args) => inspect::run_container(args, global),
        }
    }
}

/// The commands whose flag errors exit with Docker's 125.
pub(crate) const CONTAINER_COMMANDS: &[&str] = &[
    "run",
    "create",
    "start",
    "stop",
    "restart",
    "kill",
    "wait",
    "rm",
    "ps",
    "exec",
    "logs",
    "port",
    "cp",
    "top",
    "container",
];

impl Command {
    /// Runs the command; its exit code on success.
    pub(crate) fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        match self {
            Command::Build(args) => build::run(*args, global),
            Command::Builder(args) => builder::run(args, global),
            Command::Parse(args) => parse::run(args, global),
            Command::Context(args) => context::run(args, global),
            Command::Pull(args) => pull::run(args, global),
            Command::Push(args) => push::run(args, global),
            Command::Tag(args) => tag::run(args, global),
            Command::Rmi(args) => rmi::run(args, global),
            Command::Images(args) => images::run(args, global),
            Command::Inspect(args) => inspect::run(args, global),
            Command::History(args) => history::run(args, global),
            Command::Sbom(args) => sbom::run(args, global),
            Command::Scan(args) => scan::run(args, global),
            Command::Save(args) => save::run(args, global),
            Command::Load(args) => load::run(args, global),
            Command::Import(args) => import::run(args, global),
            Command::Login(args) => login::run(args, global),
            Command::Logout(args) => logout::run(args, global),
            Command::Prune(args) => prune::run(args, global),
            Command::System(args) => system::run(args, global),
            Command::Lint(args) => lint::run(args, global),
            Command::Run(args) => containers::run::run(*args, global),
            Command::Create(args) => containers::run::run_create(*args, global),
            Command::Start(args) => containers::lifecycle::start(args, global),
            Command::Stop(args) => containers::lifecycle::stop(args, global),
            Command::Restart(args) => containers::lifecycle::restart(args, global),
            Command::Kill(args) => containers::lifecycle::kill(args, global),
            Command::Wait(args) => containers::lifecycle::wait(args, global),
            Command::Rm(args) => containers::remove::rm(args, global),
            Command::Ps(args) => containers::ps::run(args, global),
            Command::Exec(args) => containers::exec::run(args, global),
            Command::Logs(args) => containers::logs::run(args, global),
            Command::Port(args) => containers::port::run(args, global),
            Command::Cp(args) => containers::cp::run(args, global),
            Command::Top(args) => containers::top::run(args, global),
            Command::Container(command) => command.run(global),
            Command::Volume(command) => command.run(global),
            Command::Generate(command) => command.run(global),
        }
    }
}
