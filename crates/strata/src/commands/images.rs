//! `strata images`: lists images the way `docker images` does.

use std::collections::BTreeMap;
use std::process::ExitCode;

use strata_oci::Reference;
use strata_store::{Access, Image};

use super::Global;
use crate::format::{human, listing};
use crate::images::open_store;

/// Arguments of `strata images`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only images of this repository (and tag)
    #[arg(value_name = "REPOSITORY[:TAG]")]
    repository: Option<String>,
    /// Show digests
    #[arg(long)]
    digests: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE
    #[arg(long)]
    format: Option<String>,
}

/// One line of output, with the fields Docker's templates know.
struct Row {
    repository: String,
    tag: String,
    digest: String,
    id: String,
    created: Option<String>,
    size: u64,
}

impl Row {
    fn fields(&self, now: jiff::Timestamp, truncate: bool) -> BTreeMap<&'static str, String> {
        let id = if truncate {
            self.id.trim_start_matches("sha256:")[..12.min(self.id.len() - 7)].to_owned()
        } else {
            self.id.clone()
        };
        BTreeMap::from([
            ("Containers", "N/A".to_owned()),
            ("CreatedAt", human::go_time(self.created.as_deref())),
            ("CreatedSince", human::since(self.created.as_deref(), now)),
            ("Digest", self.digest.clone()),
            ("ID", id),
            ("Repository", self.repository.clone()),
            ("SharedSize", "N/A".to_owned()),
            ("Size", human::size(self.size)),
            ("Tag", self.tag.clone()),
            ("UniqueSize", "N/A".to_owned()),
            ("VirtualSize", human::size(self.size)),
        ])
    }
}

fn rows(images: &[Image]) -> Vec<Row> {
    let mut rows = Vec::new();
    for image in images {
        let tagged = image.tagged_references();
        let digests: Vec<Reference> = image
            .repo_digests
            .iter()
            .filter_map(|d| Reference::parse(d).ok())
            .collect();
        let base = |repository: String, tag: String, digest: String| Row {
            repository,
            tag,
            digest,
            id: image.id().to_string(),
            created: image.config.created.clone(),
            size: image.size(),
        };
        for reference in &tagged {
            let digest = digests
                .iter()
                .find(|d| d.name() == reference.name())
                .and_then(Reference::digest)
                .map_or_else(|| "<none>".to_owned(), |d| d.to_string());
            rows.push(base(
                reference.familiar_name(),
                reference.tag().unwrap_or("<none>").to_owned(),
                digest,
            ));
        }
        for digest in &digests {
            if !tagged.iter().any(|t| t.name() == digest.name()) {
                rows.push(base(
                    digest.familiar_name(),
                    "<none>".to_owned(),
                    digest.digest().map(|d| d.to_string()).unwrap_or_default(),
                ));
            }
        }
        if tagged.is_empty() && digests.is_empty() {
            // Named by digest only, or loaded without a name.
            let by_digest = image
                .names
                .iter()
                .filter(|n| !n.starts_with("sha256:"))
                .filter_map(|n| Reference::parse(n).ok())
                .find(|r| r.digest().is_some());
            match by_digest {
                Some(reference) => rows.push(base(
                    reference.familiar_name(),
                    "<none>".to_owned(),
                    reference
                        .digest()
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                )),
                None => rows.push(base(
                    "<none>".to_owned(),
                    "<none>".to_owned(),
                    "<none>".to_owned(),
                )),
            }
        }
    }
    rows.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.repository.cmp(&b.repository))
            .then_with(|| a.tag.cmp(&b.tag))
    });
    rows
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let store = open_store(global, Access::Shared)?;
    let images = store.images()?;
    let mut rows = rows(&images);
    if let Some(filter) = &args.repository {
        let (repository, tag) = match filter.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => {
                (repository.to_owned(), Some(tag.to_owned()))
            }
            _ => (filter.clone(), None),
        };
        let wanted = Reference::parse(&repository)
            .map(|r| r.familiar_name())
            .unwrap_or(repository);
        rows.retain(|row| {
            row.repository == wanted && tag.as_ref().is_none_or(|tag| &row.tag == tag)
        });
    }
    let now = jiff::Timestamp::now();
    let truncate = !args.no_trunc;
    let mut out = String::new();
    if args.quiet {
        let mut seen = Vec::new();
        for row in &rows {
            let id = row.fields(now, truncate)["ID"].clone();
            if !seen.contains(&id) {
                out.push_str(&id);
                out.push('\n');
                seen.push(id);
            }
        }
        print!("{out}");
        return Ok(ExitCode::SUCCESS);
    }
    let mut columns = vec!["Repository", "Tag"];
    if args.digests {
        columns.push("Digest");
    }
    columns.extend(["ID", "CreatedSince", "Size"]);
    let fields: Vec<_> = rows.iter().map(|row| row.fields(now, truncate)).collect();
    let layout = listing::Layout {
        columns: &columns,
        headers: HEADERS,
    };
    out.push_str(&listing::render(&fields, &layout, args.format.as_deref())?);
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// The headers Docker gives each field.
const HEADERS: &[(&str, &str)] = &[
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("ID", "IMAGE ID"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("VirtualSize", "VIRTUAL SIZE"),
    ("Containers", "CONTAINERS"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
];
