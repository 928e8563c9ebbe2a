//! `strata scan`: known vulnerabilities in an image of the store (or a
//! directory), from OSV's advisories: the guide's `docker scout cves`, with
//! grype's JSON and SARIF for the tools that read them.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use strata_sbom::osv::{self, Database, Severity};
use strata_store::Access;

use super::Global;
use super::sbom::{catalog, emit};
use crate::images::open_store;

/// What `--update` fetches when no image names the ecosystems.
const DEFAULT_ECOSYSTEMS: [&str; 8] = [
    "Debian",
    "Ubuntu",
    "Alpine",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
];

/// Arguments of `strata scan`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The image (name or ID), or a directory (`dir:PATH`, or a path that exists)
    #[arg(value_name = "IMAGE|DIR", required_unless_present = "update")]
    target: Option<String>,
    /// OSV advisories to use: a directory of OSV JSON files, an OSV `all.zip`,
    /// or a directory of ECOSYSTEM/all.zip (default: the store's, from --update)
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Download OSV's archives of the ecosystems the image needs (all the
    /// usual ones without an image) into the store first
    #[arg(long)]
    update: bool,
    /// Output format: table, json (grype's shape) or sarif
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    format: String,
    /// Exit with status 1 when a vulnerability is at or above SEVERITY
    /// (negligible, low, medium, high, critical)
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<String>,
    /// Write the report to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    if !["table", "json", "sarif"].contains(&args.format.as_str()) {
        bail!(
            "--format {:?}: unknown format (table, json or sarif)",
            args.format
        );
    }
    let fail_on = args
        .fail_on
        .as_deref()
        .map(|text| {
            text.parse::<Severity>()
                .map_err(|e| anyhow::anyhow!("--fail-on: {e}"))
        })
        .transpose()?;
    let catalog = args
        .target
        .as_deref()
        .map(|target| catalog(target, global))
        .transpose()?;
    let ecosystems = match &catalog {
        Some(catalog) => osv::ecosystems(catalog),
        None => DEFAULT_ECOSYSTEMS.iter().map(|e| e.to_string()).collect(),
    };
    let store_db = open_store(global, Access::Shared)?.area("osv")?;
    if args.update {
        update(&store_db, &ecosystems)?;
    }
    let Some(catalog) = catalog else {
        return Ok(ExitCode::SUCCESS);
    };
    let path = args.db.clone().unwrap_or(store_db);
    let database = open_database(&path, &ecosystems, args.db.is_none())?;
    let report = osv::scan(&catalog, &database);
    let text = match args.format.as_str() {
        "json" => osv::grype_json(&report, &catalog),
        "sarif" => osv::sarif(&report, &catalog),
        _ => osv::table(&report),
    };
    emit(&text, args.output.as_deref())?;
    match fail_on {
        Some(severity) if osv::fails(&report, severity) => {
            eprintln!(
                "strata: vulnerabilities at or above {severity} found (--fail-on {severity})"
            );
            Ok(ExitCode::from(1))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Downloads the archives into the store, from `STRATA_OSV_URL` (a mirror)
/// or OSV's bucket.
fn update(directory: &std::path::Path, ecosystems: &[String]) -> anyhow::Result<()> {
    let base = std::env::var("STRATA_OSV_URL").unwrap_or_else(|_| osv::DEFAULT_BASE_URL.to_owned());
    for updated in osv::update(directory, ecosystems, &base)? {
        eprintln!(
            "Updated {} advisories ({}) from {base}",
            updated.ecosystem,
            crate::format::human::size(updated.bytes)
        );
    }
    Ok(())
}

/// The database at `path`, saying how old it is (and warning when old).
fn open_database(
    path: &std::path::Path,
    ecosystems: &[String],
    from_store: bool,
) -> anyhow::Result<Database> {
    let database = Database::open(path, ecosystems)
        .with_context(|| format!("vulnerability database {}", path.display()))?;
    if database.is_empty()
        && from_store
        && std::fs::read_dir(path).map_or(true, |mut d| d.next().is_none())
    {
        bail!(
            "no vulnerability database: run `strata scan --update` (downloads OSV's advisories) or give --db DIR|ZIP"
        );
    }
    let now = SystemTime::now();
    let stale = database.stale(now);
    for (name, at) in database.ages() {
        let age = now
            .duration_since(UNIX_EPOCH + Duration::from_secs(at))
            .map_or(0, |d| d.as_secs());
        let marker = if stale.contains(&name) {
            "WARNING: "
        } else {
            ""
        };
        eprintln!(
            "{marker}vulnerability database {name}: updated {} ago",
            days(age)
        );
    }
    if !stale.is_empty() {
        eprintln!(
            "WARNING: advisories older than {} days: run `strata scan --update`",
            osv::MAX_AGE.as_secs() / 86_400
        );
    }
    Ok(database)
}

fn days(seconds: u64) -> String {
    match seconds / 86_400 {
        0 => format!("{} hours", seconds / 3600),
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    }
}
