//! `strata inspect`: Docker's image inspect JSON, or a Go template over it.

use std::process::ExitCode;

use serde_json::{Value, json};
use strata_oci::Reference;
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

/// Docker's `image.InspectResponse` for `image` (API 1.45+: no Container,
/// ContainerConfig or VirtualSize; Config is the OCI config with Docker's extensions).
pub(crate) fn inspect_value(image: &Image) -> anyhow::Result<Value> {
    let config = &image.config;
    let container_config = match &config.config {
        Some(c) => serde_json::to_value(c)?,
        None => json!({}),
    };
    let repo_tags: Vec<String> = image
        .tagged_references()
        .iter()
        .map(Reference::familiar)
        .collect();
    let repo_digests: Vec<String> = image
        .repo_digests
        .iter()
        .map(|d| Reference::parse(d).map_or_else(|_| d.clone(), |r| r.familiar()))
        .collect();
    let mut object = serde_json::Map::new();
    object.insert("Id".into(), json!(image.id().to_string()));
    object.insert("RepoTags".into(), json!(repo_tags));
    object.insert("RepoDigests".into(), json!(repo_digests));
    object.insert("Parent".into(), json!(""));
    let comment = config
        .history
        .last()
        .and_then(|h| h.comment.clone())
        .unwrap_or_default();
    object.insert("Comment".into(), json!(comment));
    if let Some(created) = &config.created {
        object.insert("Created".into(), json!(created));
    }
    object.insert("DockerVersion".into(), json!(""));
    object.insert(
        "Author".into(),
        json!(config.author.clone().unwrap_or_default()),
    );
    object.insert("Config".into(), container_config);
    object.insert("Architecture".into(), json!(config.architecture));
    if let Some(variant) = &config.variant {
        object.insert("Variant".into(), json!(variant));
    }
    object.insert("Os".into(), json!(config.os));
    if let Some(version) = &config.os_version {
        object.insert("OsVersion".into(), json!(version));
    }
    object.insert("Size".into(), json!(image.size()));
    object.insert(
        "RootFS".into(),
        json!({"Type": config.rootfs.kind, "Layers": config.rootfs.diff_ids.iter().map(ToString::to_string).collect::<Vec<_>>()}),
    );
    object.insert(
        "Metadata".into(),
        json!({"LastTagTime": "0001-01-01T00:00:00Z"}),
    );
    let mut descriptor = image.manifest_descriptor.clone();
    descriptor.annotations.clear();
    object.insert("Descriptor".into(), serde_json::to_value(&descriptor)?);
    Ok(Value::Object(object))
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
                let value = inspect_value(&image)?;
                if let Some(template) = &template {
                    out.push_str(&template.render(&value)?);
                    out.push('\n');
                }
                values.push(value);
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
