//! `strata system`: store-wide information (`df`, `info`) and checks (`check`).

use std::process::ExitCode;

use strata_store::Access;

use super::Global;
use crate::format::{human, table};
use crate::images::open_store;

/// Arguments of `strata system`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: SystemCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SystemCommand {
    /// Show disk usage of the store
    Df,
    /// Verify the store: every blob against its digest, every ref and cache
    /// record complete, nothing half-written left
    Check,
    /// Show how strata runs here: root or rootless (and the id maps), the
    /// store, the snapshotter and why, the kernel, container networking,
    /// the platforms whose programs can run (natively or emulated)
    Info,
    /// Foreign platforms through QEMU: which can run here; `--install`
    /// (as root) registers Debian's qemu-user-static emulators in binfmt_misc
    Binfmt(BinfmtArgs),
}

#[derive(Debug, clap::Args)]
struct BinfmtArgs {
    /// Register an emulator for every platform that cannot run yet
    #[arg(long)]
    install: bool,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    match args.command {
        SystemCommand::Df => df(global),
        SystemCommand::Check => check(global),
        SystemCommand::Info => info(global),
        SystemCommand::Binfmt(args) => binfmt(&args),
    }
}

fn percent(part: u64, whole: u64) -> String {
    format!("{}%", (part * 100).checked_div(whole).unwrap_or(0))
}

fn df(global: &Global) -> anyhow::Result<ExitCode> {
    let store = open_store(global, Access::Shared)?;
    let usage = store.disk_usage()?;
    let reclaimable = usage.unreferenced_size + usage.temporary_size;
    let total = usage.images_size + reclaimable;
    let mut rows = vec![
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
            .map(str::to_owned)
            .to_vec(),
    ];
    rows.push(vec![
        "Images".into(),
        usage.images.to_string(),
        usage.images.to_string(),
        human::size(total),
        format!(
            "{} ({})",
            human::size(reclaimable),
            percent(reclaimable, total)
        ),
    ]);
    rows.push(vec![
        "Build Cache".into(),
        usage.cache_records.to_string(),
        "0".into(),
        human::size(usage.cache_size),
        human::size(0),
    ]);
    for (area, size) in &usage.areas {
        rows.push(vec![
            format!("Area {area}"),
            "-".into(),
            "-".into(),
            human::size(*size),
            human::size(0),
        ]);
    }
    print!("{}", table::render(&rows));
    Ok(ExitCode::SUCCESS)
}

fn check(global: &Global) -> anyhow::Result<ExitCode> {
    let store = open_store(global, Access::Shared)?;
    let found = store.verify()?;
    for digest in &found.corrupt_blobs {
        println!("corrupt blob: {digest} (its content has another digest)");
    }
    for name in &found.incomplete_refs {
        println!("incomplete image: {name} (a blob it needs is missing)");
    }
    for key in &found.incomplete_cache_records {
        println!("incomplete cache record: {key}");
    }
    for path in &found.unreadable_files {
        println!("unreadable cache record: {}", path.display());
    }
    for path in &found.temporary_files {
        println!(
            "temporary file: {} (a write in progress, or left by a killed process: `strata prune` removes it)",
            path.display()
        );
    }
    let consistent = found.is_consistent();
    println!(
        "{} blobs checked: {}",
        found.blobs_checked,
        if consistent {
            "the store is consistent"
        } else {
            "problems found"
        }
    );
    Ok(if consistent {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `strata system info`: `Key: value` lines, as `docker info` prints them.
fn info(global: &Global) -> anyhow::Result<ExitCode> {
    let rootless = strata_fs::in_user_namespace();
    let map = |file: &str| {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let root = crate::images::store_root(global);
    let snapshots = root.join("areas/snapshots");
    let snapshotter = if snapshots.is_dir() {
        let (kind, reason) = strata_snapshot::explain_choice(&snapshots);
        format!("{} ({reason})", kind.name())
    } else {
        "not chosen yet (the store has no snapshots yet): overlay where overlayfs mounts, else copy"
            .to_owned()
    };
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let network = match (strata_run::pasta_installed(), strata_run::tun_usable()) {
        (false, _) => "none by default: pasta is not installed (Debian's passt)",
        (true, false) => {
            "none by default: /dev/net/tun cannot be opened (as root: chmod 0666 /dev/net/tun)"
        }
        (true, true) => "pasta",
    };
    println!("Rootless: {rootless}");
    if rootless {
        println!(
            "UID map (inside outside count): {}",
            map("/proc/self/uid_map")
        );
        println!(
            "GID map (inside outside count): {}",
            map("/proc/self/gid_map")
        );
    }
    println!("Store: {}", root.display());
    println!("Snapshotter: {snapshotter}");
    println!("Kernel: {}", kernel.trim());
    println!("Container network: {network}");
    println!("Platforms:");
    print_platforms();
    Ok(ExitCode::SUCCESS)
}

/// One line per platform: how its programs run here, or why they cannot.
fn print_platforms() {
    use strata_sandbox::binfmt::{self, Runner};
    for (platform, runner) in binfmt::platforms() {
        let how = match runner {
            Ok(Runner::Native) => "native".to_owned(),
            Ok(Runner::Emulated {
                interpreter,
                fix_binary: true,
            }) => {
                format!("emulated by {}", interpreter.display())
            }
            Ok(Runner::Emulated {
                interpreter,
                fix_binary: false,
            }) => format!(
                "emulated by {} (registered without the F flag: RUN steps cannot reach it; `strata system binfmt --install`)",
                interpreter.display()
            ),
            Err(cannot) => format!("cannot run: {}", cannot.reason),
        };
        println!("  {platform}: {how}");
    }
}

fn binfmt(args: &BinfmtArgs) -> anyhow::Result<ExitCode> {
    use strata_sandbox::binfmt::{self, Installed};
    if !args.install {
        print_platforms();
        return Ok(ExitCode::SUCCESS);
    }
    if !rustix::process::geteuid().is_root() || strata_fs::in_user_namespace() {
        anyhow::bail!("strata system binfmt --install: registering emulators needs root");
    }
    for (platform, installed) in binfmt::install()? {
        match installed {
            Installed::Registered(path) => println!("{platform}: registered {}", path.display()),
            Installed::Present(_) => println!("{platform}: already runs"),
            Installed::Missing(path) => {
                println!("{platform}: {path} not found (apt-get install qemu-user-static)")
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
