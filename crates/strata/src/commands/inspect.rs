//! `strata inspect`: Docker's container or image inspect JSON, or a Go
//! template over it. A name is looked up as a container first, then as an
//! image, as Docker does.

use std::process::ExitCode;

use strata_oci::{ContainerConfig, Reference};
use strata_run::Containers;
use strata_store::{Access, Image, Store};

use super::Failure;
use super::Global;
use crate::format::template::{Template, Value};
use crate::images::open_store;

/// Arguments of `strata inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Containers or images: names or IDs
    #[arg(required = true, value_name = "NAME|ID")]
    names: Vec<String>,
    /// Format output with a Go template ('json' for the JSON array)
    #[arg(short, long)]
    format: Option<String>,
    /// Return JSON for specified type (container or image)
    #[arg(long = "type", value_name = "TYPE")]
    kind: Option<String>,
    /// Inspect this platform of a multi-platform image (`os[/arch[/variant]]`)
    #[arg(long, value_name = "PLATFORM")]
    platform: Option<String>,
}

/// Arguments of `strata container inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct ContainerArgs {
    /// Containers: names or IDs
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
    /// Format output with a Go template ('json' for the JSON array)
    #[arg(short, long)]
    format: Option<String>,
}

/// Docker's `image.InspectResponse` (API 1.45+: no Container, ContainerConfig
/// or VirtualSize; Config is the OCI config with Docker's extensions), in its field order.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectResponse {
    #[serde(rename = "Id")]
    id: String,
    repo_tags: Vec<String>,
    repo_digests: Vec<String>,
    parent: String,
    comment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    docker_version: String,
    author: String,
    config: ContainerConfig,
    architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
    os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    os_version: Option<String>,
    size: u64,
    #[serde(rename = "RootFS")]
    root_fs: RootFs,
    metadata: Metadata,
    descriptor: strata_oci::Descriptor,
}

#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct RootFs {
    #[serde(rename = "Type")]
    kind: String,
    layers: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    last_tag_time: String,
}

fn inspect_response(image: &Image) -> InspectResponse {
    let config = &image.config;
    let mut descriptor = image.manifest_descriptor.clone();
    descriptor.annotations.clear();
    InspectResponse {
        id: image.id().to_string(),
        repo_tags: image
            .tagged_references()
            .iter()
            .map(Reference::familiar)
            .collect(),
        repo_digests: image
            .repo_digests
            .iter()
            .map(|d| Reference::parse(d).map_or_else(|_| d.clone(), |r| r.familiar()))
            .collect(),
        parent: String::new(),
        comment: config
            .history
            .last()
            .and_then(|h| h.comment.clone())
            .unwrap_or_default(),
        created: config.created.clone(),
        docker_version: String::new(),
        author: config.author.clone().unwrap_or_default(),
        config: config.container_config(),
        architecture: config.architecture.clone(),
        variant: config.variant.clone(),
        os: config.os.clone(),
        os_version: config.os_version.clone(),
        size: image.size(),
        root_fs: RootFs {
            kind: config.rootfs.kind.clone(),
            layers: config
                .rootfs
                .diff_ids
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        metadata: Metadata {
            last_tag_time: "0001-01-01T00:00:00Z".to_owned(),
        },
        descriptor,
    }
}

/// What `--type` allows: Docker's object types (strata has containers and
/// images; the others never match anything).
const TYPES: &[&str] = &[
    "container",
    "image",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "config",
    "task",
    "volume",
];

/// `strata inspect`.
pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    if let Some(kind) = &args.kind
        && !TYPES.contains(&kind.as_str())
    {
        return Err(Failure::plain(
            format!("{kind:?} is not a valid value for --type"),
            1,
        ));
    }
    inspect(
        &args.names,
        args.format.as_deref(),
        (args.kind.as_deref(), args.platform.as_deref()),
        global,
    )
}

/// `strata container inspect`: containers only.
pub(crate) fn run_container(args: ContainerArgs, global: &Global) -> anyhow::Result<ExitCode> {
    inspect(
        &args.containers,
        args.format.as_deref(),
        (Some("container"), None),
        global,
    )
}

/// Prints the objects found as one JSON array or one template line each,
/// then Docker's error for each name not found (exit 1 if any); `kind` and
/// `platform` are `--type` and `--platform`.
fn inspect(
    names: &[String],
    format: Option<&str>,
    (kind, platform): (Option<&str>, Option<&str>),
    global: &Global,
) -> anyhow::Result<ExitCode> {
    let template = match format {
        Some("json") | None => None,
        Some(text) => Some(Template::parse(text)?),
    };
    let store = open_store(global, Access::Shared)?;
    let containers = Containers::of_store(&store)?;
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for name in names {
        match look_up(&store, &containers, name, kind, platform)? {
            Ok(value) => values.push(value),
            Err(message) => errors.push(message),
        }
    }
    let out = match &template {
        Some(template) => {
            let mut out = String::new();
            for value in &values {
                out.push_str(&template.render(value)?);
                out.push('\n');
            }
            out
        }
        None => String::from_utf8(strata_oci::to_go_json_pretty(&values)?)? + "\n",
    };
    print!("{out}");
    for message in &errors {
        eprintln!("Error: {message}");
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The object `name` names, of `kind` or (none given) a container, else an
/// image; `Err` holds Docker's message when there is none.
fn look_up(
    store: &Store,
    containers: &Containers,
    name: &str,
    kind: Option<&str>,
    platform: Option<&str>,
) -> anyhow::Result<Result<Value, String>> {
    if matches!(kind, None | Some("container")) {
        match containers.find(name) {
            Ok(entry) => {
                let inspect = strata_run::inspect(containers, &entry);
                return Ok(Ok(Value::of(&inspect)?));
            }
            Err(strata_run::Error::NoSuchContainer { .. }) => {}
            Err(error @ strata_run::Error::AmbiguousPrefix { .. }) => {
                return Ok(Err(error.to_string()));
            }
            Err(error) => return Err(error.into()),
        }
    }
    if matches!(kind, None | Some("image")) {
        let found = match platform {
            None => store.find_image(name),
            Some(platform) => store.find_image_for(name, &crate::images::platform_flag(platform)?),
        };
        match found {
            Ok(image) => return Ok(Ok(Value::of(&inspect_response(&image))?)),
            Err(strata_store::StoreError::NoSuchImage { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Err(match kind {
        None => format!("No such object: {name}"),
        Some(kind) => format!("No such {kind}: {name}"),
    }))
}
