//! `strata history`: an image's history, newest first, like `docker history`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use strata_store::Access;

use super::Global;
use crate::format::{human, table, template::Template};
use crate::images::{open_store, short_id};

/// Arguments of `strata history`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The image: name or ID
    #[arg(value_name = "IMAGE")]
    image: String,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Print sizes and dates in human-readable format
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    human: bool,
    /// Only show image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE
    #[arg(long)]
    format: Option<String>,
    /// Show the history of this platform of a multi-platform image
    #[arg(long, value_name = "PLATFORM")]
    platform: Option<String>,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let store = open_store(global, Access::Shared)?;
    let image = crate::images::find_image(&store, &args.image, args.platform.as_deref())?;
    let now = jiff::Timestamp::now();
    let mut layers = image.manifest.layers.iter();
    let mut rows: Vec<BTreeMap<&'static str, String>> = Vec::new();
    let entries = &image.config.history;
    for (index, entry) in entries.iter().enumerate() {
        let size = if entry.empty_layer {
            0
        } else {
            layers.next().map_or(0, |l| l.size)
        };
        let is_top = index + 1 == entries.len();
        let id = match (is_top, args.no_trunc) {
            (true, true) => image.id().to_string(),
            (true, false) => short_id(&image.id()),
            (false, _) => "<missing>".to_owned(),
        };
        let created_by = entry
            .created_by
            .clone()
            .unwrap_or_default()
            .replace('\t', " ");
        let created_by = if args.no_trunc {
            created_by
        } else {
            human::ellipsis(&created_by, 45)
        };
        let (created_since, size_text) = if args.human {
            (
                human::since(entry.created.as_deref(), now),
                human::size(size),
            )
        } else {
            (human::rfc3339(entry.created.as_deref()), size.to_string())
        };
        rows.push(BTreeMap::from([
            ("Comment", entry.comment.clone().unwrap_or_default()),
            ("CreatedAt", human::rfc3339(entry.created.as_deref())),
            ("CreatedBy", created_by),
            ("CreatedSince", created_since),
            ("ID", id),
            ("Size", size_text),
        ]));
    }
    if entries.is_empty() {
        // An image without history (e.g. imported by another tool): one row per layer.
        for layer in image.manifest.layers.iter().rev() {
            rows.insert(
                0,
                BTreeMap::from([
                    ("Comment", String::new()),
                    ("CreatedAt", human::rfc3339(image.config.created.as_deref())),
                    ("CreatedBy", String::new()),
                    (
                        "CreatedSince",
                        human::since(image.config.created.as_deref(), now),
                    ),
                    ("ID", "<missing>".to_owned()),
                    ("Size", human::size(layer.size)),
                ]),
            );
        }
        if let Some(last) = rows.last_mut() {
            last.insert(
                "ID",
                if args.no_trunc {
                    image.id().to_string()
                } else {
                    short_id(&image.id())
                },
            );
        }
    }
    rows.reverse();
    let mut out = String::new();
    if args.quiet {
        for row in &rows {
            out.push_str(&row["ID"]);
            out.push('\n');
        }
    } else {
        match args.format.as_deref() {
            Some("json") => {
                for row in &rows {
                    out.push_str(&String::from_utf8_lossy(&strata_oci::to_go_json(row)?));
                    out.push('\n');
                }
            }
            Some(format) if format != "table" => {
                let format = format.replace("\\t", "\t");
                let format = format.as_str();
                let (table_mode, text) = match format.strip_prefix("table ") {
                    Some(rest) => (true, rest),
                    None => (false, format),
                };
                let template = Template::parse(text)?;
                let mut lines = Vec::new();
                if table_mode {
                    let mut header = text.to_owned();
                    for (field, title) in [
                        ("{{.ID}}", "IMAGE"),
                        ("{{.CreatedSince}}", "CREATED"),
                        ("{{.CreatedAt}}", "CREATED AT"),
                        ("{{.CreatedBy}}", "CREATED BY"),
                        ("{{.Size}}", "SIZE"),
                        ("{{.Comment}}", "COMMENT"),
                    ] {
                        header = header.replace(field, title);
                    }
                    lines.push(header);
                }
                for row in &rows {
                    lines.push(template.render(&crate::format::template::Value::of(row)?)?);
                }
                out.push_str(&table::template_output(lines, table_mode));
            }
            _ => {
                let mut cells = vec![
                    ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
                        .map(str::to_owned)
                        .to_vec(),
                ];
                for row in &rows {
                    cells.push(vec![
                        row["ID"].clone(),
                        row["CreatedSince"].clone(),
                        row["CreatedBy"].clone(),
                        row["Size"].clone(),
                        row["Comment"].clone(),
                    ]);
                }
                out.push_str(&table::render(&cells));
            }
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
