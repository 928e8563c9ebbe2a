//! `strata logs`: a container's json-file log, as `docker logs` prints it.

use std::io::Write;
use std::process::ExitCode;

use strata_run::{LogReader, ReadOptions};
use strata_sandbox::Stream;

use super::{Failure, Global, containers, find};

/// Arguments of `strata logs`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Show extra details provided to logs
    #[arg(long)]
    details: bool,
    /// Follow log output
    #[arg(short, long)]
    follow: bool,
    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long, value_name = "string")]
    since: Option<String>,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, default_value = "all", value_name = "string")]
    tail: String,
    /// Show timestamps
    #[arg(short, long)]
    timestamps: bool,
    /// Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long, value_name = "string")]
    until: Option<String>,
    /// The container
    #[arg(value_name = "CONTAINER")]
    container: String,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let containers = containers(global)?;
    let entry = find(&containers, &args.container)?;
    let now = jiff::Timestamp::now();
    let time = |text: &Option<String>| -> anyhow::Result<Option<jiff::Timestamp>> {
        text.as_deref()
            .map(|t| strata_run::parse_log_time(t, now).map_err(Failure::error))
            .transpose()
    };
    let tail = match args.tail.as_str() {
        "all" | "" => None,
        number => match number.parse::<i64>() {
            Ok(n) if n < 0 => None,
            Ok(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            Err(_) => None,
        },
    };
    let options = ReadOptions {
        tail,
        since: time(&args.since)?,
        until: time(&args.until)?,
    };
    let path = containers.log_path(&entry.container.id);
    if !path.exists() {
        return Ok(ExitCode::SUCCESS);
    }
    let reader = if args.follow && containers.monitor_alive(&entry.container.id) {
        let watched = containers.clone();
        let id = entry.container.id.clone();
        LogReader::follow(&path, options, move || !watched.monitor_alive(&id))?
    } else {
        LogReader::open(&path, options)?
    };
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    for entry in reader {
        let entry = entry?;
        let bytes = entry.display(args.timestamps);
        let written = match entry.stream {
            Stream::Stdout => stdout.write_all(&bytes).and_then(|()| stdout.flush()),
            Stream::Stderr => stderr.write_all(&bytes),
        };
        if written.is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}
