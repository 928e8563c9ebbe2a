//! `strata run` and `strata create`: a container from an image, with
//! Docker's flags; `run` starts it attached (or `-d` detached) and exits
//! with its code, or Docker's 125/126/127.

use std::io::IsTerminal;
use std::process::ExitCode;

use strata_oci::Reference;
use strata_run::{Attach, Containers, CreateOptions, Ended, ImageInput, ImageSource};
use strata_store::{Access, Store};

use super::{Failure, Global};
use crate::images::open_store;

/// The flags `run` and `create` share (Docker's names and meanings).
#[derive(Debug, clap::Args)]
pub(crate) struct CreateFlags {
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    /// Automatically remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Set environment variables
    #[arg(short, long = "env", value_name = "list")]
    env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long, value_name = "list")]
    env_file: Vec<std::path::PathBuf>,
    /// Publish a container's port(s) to the host
    #[arg(short, long = "publish", value_name = "list")]
    publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long)]
    publish_all: bool,
    /// Expose a port or a range of ports
    #[arg(long, value_name = "list")]
    expose: Vec<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, value_name = "string", allow_hyphen_values = true)]
    entrypoint: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    workdir: Option<String>,
    /// Bind mount a volume
    #[arg(short, long = "volume", value_name = "list")]
    volume: Vec<String>,
    /// Attach a filesystem mount to the container
    #[arg(long, value_name = "mount")]
    mount: Vec<String>,
    /// Mount a tmpfs directory
    #[arg(long, value_name = "list")]
    tmpfs: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long)]
    read_only: bool,
    /// Connect a container to a network (default, host, none)
    #[arg(long, alias = "net", value_name = "network")]
    network: Option<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    hostname: Option<String>,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long, value_name = "list")]
    add_host: Vec<String>,
    /// Restart policy to apply when a container exits
    #[arg(long, value_name = "string")]
    restart: Option<String>,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    tty: bool,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    init: bool,
    /// Add Linux capabilities
    #[arg(long, value_name = "list")]
    cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long, value_name = "list")]
    cap_drop: Vec<String>,
    /// Security Options
    #[arg(long, value_name = "list")]
    security_opt: Vec<String>,
    /// Signal to stop the container
    #[arg(long, value_name = "string")]
    stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long, value_name = "int", allow_hyphen_values = true)]
    stop_timeout: Option<i64>,
    /// Command to run to check health
    #[arg(long, value_name = "string")]
    health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h)
    #[arg(long, value_name = "duration")]
    health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h)
    #[arg(long, value_name = "duration")]
    health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long, value_name = "int", allow_hyphen_values = true)]
    health_retries: Option<i64>,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)
    #[arg(long, value_name = "duration")]
    health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h)
    #[arg(long, value_name = "duration")]
    health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long)]
    no_healthcheck: bool,
    /// Set meta data on a container
    #[arg(short, long = "label", value_name = "list")]
    label: Vec<String>,
    /// Pull image before running ("always", "missing", "never")
    #[arg(long, default_value = "missing", value_name = "string")]
    pull: String,
    /// Set platform if server is multi-platform capable
    #[arg(long, value_name = "string")]
    platform: Option<String>,
    /// Memory limit
    #[arg(short, long, value_name = "bytes")]
    memory: Option<String>,
    /// Number of CPUs
    #[arg(long, value_name = "decimal")]
    cpus: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long, value_name = "int", allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    /// Suppress the pull output
    #[arg(short, long)]
    quiet: bool,
    /// Print usage
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// The image
    #[arg(value_name = "IMAGE")]
    image: String,
    /// The command and its arguments (replacing the image's CMD)
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<String>,
}

/// Arguments of `strata run`.
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub(crate) struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short, long)]
    detach: bool,
    #[command(flatten)]
    flags: CreateFlags,
}

/// Arguments of `strata create`.
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub(crate) struct CreateArgs {
    #[command(flatten)]
    flags: CreateFlags,
}

impl CreateFlags {
    fn options(&self, detach: bool) -> CreateOptions {
        CreateOptions {
            image: self.image.clone(),
            name: self.name.clone(),
            command: self.command.clone(),
            entrypoint: self.entrypoint.clone(),
            env: self.env.clone(),
            env_files: self.env_file.clone(),
            user: self.user.clone(),
            workdir: self.workdir.clone(),
            publish: self.publish.clone(),
            publish_all: self.publish_all,
            expose: self.expose.clone(),
            volumes: self.volume.clone(),
            mounts: self.mount.clone(),
            tmpfs: self.tmpfs.clone(),
            read_only: self.read_only,
            network: self.network.clone(),
            hostname: self.hostname.clone(),
            add_hosts: self.add_host.clone(),
            restart: self.restart.clone(),
            auto_remove: self.rm,
            interactive: self.interactive,
            tty: self.tty,
            detach,
            init: self.init,
            cap_add: self.cap_add.clone(),
            cap_drop: self.cap_drop.clone(),
            security_opt: self.security_opt.clone(),
            stop_signal: self.stop_signal.clone(),
            stop_timeout: self.stop_timeout,
            health_cmd: self.health_cmd.clone(),
            health_interval: self.health_interval.clone(),
            health_timeout: self.health_timeout.clone(),
            health_retries: self.health_retries,
            health_start_period: self.health_start_period.clone(),
            health_start_interval: self.health_start_interval.clone(),
            no_healthcheck: self.no_healthcheck,
            labels: self.label.clone(),
            memory: self.memory.clone(),
            cpus: self.cpus.clone(),
            pids_limit: self.pids_limit,
        }
    }
}

/// Finds the image as `--pull` says: pulled when missing (or always).
fn resolve_image(
    flags: &CreateFlags,
    store: &Store,
    global: &Global,
) -> anyhow::Result<strata_store::Image> {
    let reference = Reference::parse(&flags.image).map_err(|e| Failure::run(e, 125))?;
    let platform = match &flags.platform {
        Some(text) => crate::images::platform_flag(text).map_err(|e| Failure::run(e, 125))?,
        None => strata_oci::Platform::host(),
    };
    let find = || {
        crate::images::find_image(store, &flags.image, flags.platform.as_deref())
            .map_err(|e| Failure::run(format!("{e:#}"), 125))
    };
    let local = find();
    let pull = match flags.pull.as_str() {
        "always" => true,
        "missing" => local.is_err(),
        "never" => false,
        other => {
            return Err(Failure::run(
                format!(
                    "invalid pull option: '{other}': must be one of \"always\", \"missing\" or \"never\""
                ),
                125,
            ));
        }
    };
    if !pull {
        return local;
    }
    if local.is_err() {
        eprintln!("Unable to find image '{}' locally", reference.familiar());
    }
    crate::commands::pull::pull(global, &reference, &platform, flags.quiet)
        .map_err(|e| Failure::run(format!("{e:#}"), 125))?;
    find()
}

/// Creates the container; its ID.
fn create(
    flags: &CreateFlags,
    detach: bool,
    global: &Global,
) -> anyhow::Result<(Containers, String)> {
    let store = open_store(global, Access::Shared)?;
    let image = resolve_image(flags, &store, global)?;
    let input = ImageInput {
        source: ImageSource {
            id: image.id(),
            manifest: image.manifest_descriptor.clone(),
            diff_ids: image.config.rootfs.diff_ids.clone(),
            layers: image.manifest.layers.iter().map(|l| l.digest).collect(),
        },
        config: image.config.config.clone().unwrap_or_default(),
    };
    let containers = Containers::of_store(&store)?;
    let existing = containers.list()?;
    let taken = |name: &str| existing.iter().any(|e| e.container.name == name);
    let mut record = strata_run::container_record(&flags.options(detach), &input, taken)
        .map_err(|e| Failure::run(e, 125))?;
    for warning in strata_run::check_limits(&record).map_err(|e| Failure::run(e, 125))? {
        eprintln!("WARNING: {warning}");
    }
    strata_run::create(&store, &containers, &mut record).map_err(|e| Failure::run(e, 125))?;
    Ok((containers, record.id))
}

/// `strata create`: prints the new container's ID.
pub(crate) fn run_create(args: CreateArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let (_, id) = create(&args.flags, true, global)?;
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

/// `strata run`.
pub(crate) fn run(args: RunArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let flags = &args.flags;
    let stdin_is_terminal = std::io::stdin().is_terminal();
    if flags.interactive && flags.tty && !stdin_is_terminal && !args.detach {
        return Err(Failure::plain("the input device is not a TTY", 1));
    }
    let (containers, id) = create(flags, args.detach, global)?;
    let attach = if args.detach {
        Attach::default()
    } else {
        Attach {
            stdin: flags.interactive,
            stdout: true,
            stderr: true,
            // The terminal starts at our size, not a resize later.
            terminal_size: flags
                .tty
                .then(|| rustix::termios::tcgetwinsize(std::io::stdout()).ok())
                .flatten()
                .map(|size| (size.ws_row, size.ws_col)),
        }
    };
    let session = match strata_run::start(&containers, &id, attach) {
        Ok(session) => session,
        Err(strata_run::Error::StartFailed { message, exit_code }) => {
            if args.detach {
                println!("{id}");
            }
            return Err(Failure::run(
                message,
                u8::try_from(exit_code).unwrap_or(125),
            ));
        }
        Err(error) => return Err(Failure::run(error, 125)),
    };
    if args.detach {
        println!("{id}");
        return Ok(ExitCode::SUCCESS);
    }
    let ended = super::attach::relay(session, flags.interactive, flags.tty && stdin_is_terminal)?;
    Ok(exit_code(ended))
}

/// The exit code `run`/`start -a` give for how the container ended.
pub(crate) fn exit_code(ended: Ended) -> ExitCode {
    match ended {
        Ended::Exited { exit_code, .. } => {
            ExitCode::from(u8::try_from(exit_code & 0xff).unwrap_or(255))
        }
        Ended::Lost => ExitCode::from(125),
    }
}
