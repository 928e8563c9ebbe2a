//! `strata ps`: containers the way `docker ps` lists them.

use std::process::ExitCode;

use strata_run::{Entry, HealthStatus, Status};
use strata_store::Access;

use super::Global;
use crate::format::{human, listing};
use crate::images::open_store;

/// Arguments of `strata ps`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    all: bool,
    /// Filter output based on conditions provided
    #[arg(short, long, value_name = "filter")]
    filter: Vec<String>,
    /// Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE
    #[arg(long)]
    format: Option<String>,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", default_value_t = -1, allow_hyphen_values = true)]
    last: i64,
    /// Show the latest created container (includes all states)
    #[arg(short, long)]
    latest: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Only display container IDs
    #[arg(short, long)]
    quiet: bool,
    /// Display total file sizes
    #[arg(short, long)]
    size: bool,
}

const HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("Networks", "NETWORKS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
];

/// A parsed `--filter key=value`.
struct Filter {
    key: String,
    value: String,
}

fn parse_filters(filters: &[String]) -> anyhow::Result<Vec<Filter>> {
    filters
        .iter()
        .map(|text| {
            let Some((key, value)) = text.split_once('=') else {
                return Err(super::Failure::error(
                    "bad format of filter (expected name=value)",
                ));
            };
            const KNOWN: &[&str] = &[
                "ancestor", "exited", "health", "id", "label", "name", "status", "network",
                "volume", "before", "since", "publish", "expose", "is-task",
            ];
            if !KNOWN.contains(&key) {
                return Err(super::Failure::error(format!("invalid filter '{key}'")));
            }
            Ok(Filter {
                key: key.to_owned(),
                value: value.to_owned(),
            })
        })
        .collect()
}

/// Docker's state word for `ps`: Status, but `running` for a restarting one's
/// `State` only while it runs.
fn state_word(entry: &Entry) -> &'static str {
    entry.state.status.as_str()
}

/// `Up 2 minutes (healthy)`, `Exited (0) 5 seconds ago`, `Created` ...
pub(crate) fn status_text(entry: &Entry, now: jiff::Timestamp) -> String {
    let since = |time: &str| {
        time.parse::<jiff::Timestamp>()
            .map(|t| human::duration(now.as_second() - t.as_second()))
            .unwrap_or_default()
    };
    let state = &entry.state;
    match state.status {
        Status::Running => match &state.health {
            Some(health) if health.status == HealthStatus::Starting => {
                format!("Up {} (health: starting)", since(&state.started_at))
            }
            Some(health) => format!(
                "Up {} ({})",
                since(&state.started_at),
                health.status.as_str()
            ),
            None => format!("Up {}", since(&state.started_at)),
        },
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            state.exit_code,
            since(&state.finished_at)
        ),
        Status::Removing => "Removal In Progress".to_owned(),
        Status::Dead => "Dead".to_owned(),
        Status::Created => "Created".to_owned(),
        Status::Exited if state.started_at == strata_run::ZERO_TIME => "Created".to_owned(),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            state.exit_code,
            since(&state.finished_at)
        ),
    }
}

/// The command as `ps` shows it: quoted, truncated to 20 characters.
fn command_text(entry: &Entry, truncate: bool) -> String {
    let mut command = entry.container.path.clone();
    if !entry.container.args.is_empty() {
        command.push(' ');
        command.push_str(&entry.container.args.join(" "));
    }
    if truncate {
        command = human::ellipsis(&command, 20);
    }
    format!("{command:?}")
}

fn matches(entry: &Entry, filter: &Filter) -> bool {
    let container = &entry.container;
    let value = filter.value.as_str();
    match filter.key.as_str() {
        "status" => entry.state.status.as_str() == value,
        "name" => container.name.contains(value.trim_start_matches('/')),
        "id" => container.id.starts_with(value),
        "label" => match value.split_once('=') {
            Some((key, wanted)) => container
                .config
                .labels
                .get(key)
                .is_some_and(|v| v == wanted),
            None => container.config.labels.contains_key(value),
        },
        "ancestor" => {
            container.config.image == value
                || container
                    .image
                    .id
                    .to_string()
                    .trim_start_matches("sha256:")
                    .starts_with(value.trim_start_matches("sha256:"))
        }
        "exited" => {
            entry.state.status == Status::Exited && entry.state.exit_code.to_string() == value
        }
        "health" => match (&entry.state.health, value) {
            (None, "none") => true,
            (Some(health), _) => health.status.as_str() == value,
            _ => false,
        },
        _ => true,
    }
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let filters = parse_filters(&args.filter)?;
    let store = open_store(global, Access::Shared)?;
    let containers = strata_run::Containers::of_store(&store)?;
    let mut entries = containers.list()?;
    let shows_all = args.all
        || args.latest
        || args.last > 0
        || filters
            .iter()
            .any(|f| f.key == "status" || f.key == "exited");
    entries.retain(|entry| {
        (shows_all || entry.state.running()) && filters.iter().all(|f| matches(entry, f))
    });
    if args.latest {
        entries.truncate(1);
    } else if args.last > 0 {
        entries.truncate(usize::try_from(args.last).unwrap_or(usize::MAX));
    }
    let truncate = !args.no_trunc;
    if args.quiet {
        for entry in &entries {
            let id = &entry.container.id;
            println!(
                "{}",
                if truncate {
                    strata_run::short_id(id)
                } else {
                    id
                }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let wants_size = args.size
        || args
            .format
            .as_deref()
            .is_some_and(|f| f == "json" || f.contains(".Size"));
    let now = jiff::Timestamp::now();
    let images = Images::of(&store, &entries, wants_size)?;
    let rows: Vec<listing::Row> = entries
        .iter()
        .map(|entry| row(entry, &images, &containers, now, truncate, wants_size))
        .collect();
    let mut columns = vec![
        "ID",
        "Image",
        "Command",
        "RunningFor",
        "Status",
        "Ports",
        "Names",
    ];
    if args.size {
        columns.push("Size");
    }
    let layout = listing::Layout {
        columns: &columns,
        headers: HEADERS,
    };
    print!(
        "{}",
        listing::render(&rows, &layout, args.format.as_deref())?
    );
    Ok(ExitCode::SUCCESS)
}

/// What `ps` needs of the store's images, read once for every row: the
/// image each distinct name now means, and (for SIZE) each image's size.
struct Images {
    by_name: std::collections::HashMap<String, Option<strata_oci::Digest>>,
    sizes: std::collections::HashMap<strata_oci::Digest, u64>,
}

impl Images {
    fn of(store: &strata_store::Store, entries: &[Entry], sizes: bool) -> anyhow::Result<Self> {
        let mut by_name = std::collections::HashMap::new();
        for entry in entries {
            let name = &entry.container.config.image;
            if !by_name.contains_key(name) {
                by_name.insert(name.clone(), store.find_image(name).ok().map(|i| i.id()));
            }
        }
        let sizes = if sizes {
            store.images()?.iter().map(|i| (i.id(), i.size())).collect()
        } else {
            std::collections::HashMap::new()
        };
        Ok(Self { by_name, sizes })
    }

    /// The image as `ps` shows it: the name it was run as, or the short ID
    /// once that name means another image.
    fn text(&self, entry: &Entry) -> String {
        let container = &entry.container;
        match self.by_name.get(&container.config.image) {
            Some(Some(id)) if *id == container.image.id => container.config.image.clone(),
            _ => strata_run::short_id(&container.image.id.hex()).to_owned(),
        }
    }
}

fn row(
    entry: &Entry,
    images: &Images,
    containers: &strata_run::Containers,
    now: jiff::Timestamp,
    truncate: bool,
    size: bool,
) -> listing::Row {
    let container = &entry.container;
    let labels: Vec<String> = container
        .config
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let network = match container.host_config.network_mode.as_str() {
        "default" => "bridge",
        other => other,
    };
    let size_text = if size {
        let writable = containers.writable_layer_size(&container.id);
        let image = images.sizes.get(&container.image.id).copied().unwrap_or(0);
        format!(
            "{} (virtual {})",
            human::size(writable),
            human::size(writable + image)
        )
    } else {
        String::new()
    };
    let mount_points: Vec<strata_run::MountPoint> = container
        .mounts
        .iter()
        .filter_map(|m| m.inspect())
        .collect();
    let mount_names: Vec<String> = mount_points
        .iter()
        .map(|m| {
            let name = if m.name.is_empty() {
                &m.source
            } else {
                &m.name
            };
            if truncate {
                human::ellipsis(name, 15)
            } else {
                name.clone()
            }
        })
        .collect();
    let local_volumes = mount_points.iter().filter(|m| m.driver == "local").count();
    listing::Row::from([
        ("Command", command_text(entry, truncate)),
        ("CreatedAt", human::go_time(Some(&container.created))),
        (
            "ID",
            if truncate {
                strata_run::short_id(&container.id).to_owned()
            } else {
                container.id.clone()
            },
        ),
        ("Image", images.text(entry)),
        ("Labels", labels.join(",")),
        ("LocalVolumes", local_volumes.to_string()),
        ("Mounts", mount_names.join(",")),
        ("Names", container.name.clone()),
        ("Networks", network.to_owned()),
        (
            "Ports",
            if entry.state.running() {
                entry.state.ports.ps_column()
            } else {
                String::new()
            },
        ),
        ("RunningFor", human::since(Some(&container.created), now)),
        ("Size", size_text),
        ("State", state_word(entry).to_owned()),
        ("Status", status_text(entry, now)),
    ])
}
