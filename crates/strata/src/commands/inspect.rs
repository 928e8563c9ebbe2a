//! `strata inspect`: Docker's image inspect JSON, or a Go template over it.

use std::process::ExitCode;

use strata_oci::{ContainerConfig, Reference};
use strata_store::{Access, Image};

use super::Global;
use crate::format::template::Template;
use crate::images::open_store;

/// Arguments of `strata inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Images: names or IDs
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    /// Format output with a Go template ('json' for the JSON array)
    #[arg(short, long)]
    format: Option<String>,
    /// Only inspect objects of this type (only "image" exists so far)
    #[arg(long = "type", value_name = "TYPE")]
    kind: Option<String>,
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

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    if let Some(kind) = &args.kind
        && kind != "image"
    {
        anyhow::bail!("unsupported --type {kind:?}: strata inspects images only");
    }
    let template = match args.format.as_deref() {
        Some("json") | None => None,
        Some(text) => Some(Template::parse(text)?),
    };
    let store = open_store(global, Access::Shared)?;
    let mut values = Vec::new();
    let mut failed = false;
    let mut out = String::new();
    for name in &args.images {
        match store.find_image(name) {
            Ok(image) => {
                let response = inspect_response(&image);
                if let Some(template) = &template {
                    out.push_str(
                        &template.render(&crate::format::template::Value::of(&response)?)?,
                    );
                    out.push('\n');
                }
                values.push(response);
            }
            Err(strata_store::StoreError::NoSuchImage { .. }) => {
                eprintln!("Error: No such object: {name}");
                failed = true;
            }
            Err(error) => return Err(error.into()),
        }
    }
    if template.is_none() {
        out = String::from_utf8(strata_oci::to_go_json_pretty(&values)?)?;
        out.push('\n');
    }
    print!("{out}");
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
