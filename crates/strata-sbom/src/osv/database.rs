//! The advisory database: read from a directory of OSV JSON files, an OSV
//! `all.zip`, or a directory of per-ecosystem `all.zip` files (what
//! [`update`] downloads), and indexed by ecosystem and package name.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::advisory::{Advisory, parse_document};
use super::ecosystem::{archive_name, normalize_ecosystem, normalize_name, target, unscoped};
use crate::error::{Error, Result};
use crate::package::Catalog;
use crate::zip::{Inflater, ZipArchive};

/// Where OSV publishes its per-ecosystem archives.
pub const DEFAULT_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// A database older than this is worth a warning.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The name of each downloaded archive inside its ecosystem's directory.
const ARCHIVE: &str = "all.zip";

/// The record of a download, next to the archive.
const RECORD: &str = "updated.json";

/// Below this many documents, one thread parses them all.
const PER_THREAD: usize = 256;

/// Advisories indexed by (ecosystem, package name).
#[derive(Debug, Default)]
pub struct Database {
    advisories: Vec<Advisory>,
    index: HashMap<(String, String), Vec<usize>>,
    ages: Vec<(String, u64)>,
}

impl Database {
    /// Reads the database at `path` (a directory of OSV JSON files, one
    /// such file, an `all.zip`, or a directory of `ECOSYSTEM/all.zip`). `ecosystems` (as [`ecosystems`] gives
    /// them) limits what is kept, and which archives of a per-ecosystem
    /// directory are read at all; empty keeps everything. Withdrawn
    /// advisories are dropped.
    pub fn open(path: &Path, ecosystems: &[String]) -> Result<Database> {
        let wanted = Wanted::new(ecosystems);
        let metadata = std::fs::metadata(path).map_err(|e| database_error(path, e))?;
        if !metadata.is_dir() {
            let advisories = if path.extension().is_some_and(|ext| ext == "json") {
                parse_all(&[path.to_path_buf()], &wanted, read_json_file)?
            } else {
                read_zip(path, &wanted)?
            };
            let age = (path.display().to_string(), modified_secs(&metadata));
            return Ok(Database::build(advisories, vec![age]));
        }
        let archives = per_ecosystem_archives(path)?;
        if archives.is_empty() {
            return Ok(Database::build(read_json_tree(path, &wanted)?, Vec::new()));
        }
        let mut advisories = Vec::new();
        let mut ages = Vec::new();
        for (name, archive) in archives {
            if !wanted.archive(&name) {
                continue;
            }
            advisories.extend(read_zip(&archive, &wanted)?);
            ages.push((name, downloaded_at(&archive)?));
        }
        Ok(Database::build(advisories, ages))
    }

    /// A database of the given advisories (withdrawn ones dropped).
    pub fn from_advisories(advisories: Vec<Advisory>) -> Database {
        let wanted = Wanted::new(&[]);
        let kept = advisories.into_iter().filter(|a| wanted.keeps(a)).collect();
        Database::build(kept, Vec::new())
    }

    fn build(advisories: Vec<Advisory>, ages: Vec<(String, u64)>) -> Database {
        let mut index: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (at, advisory) in advisories.iter().enumerate() {
            for package in advisory.affected.iter().filter_map(|a| a.package.as_ref()) {
                let ecosystem = normalize_ecosystem(&package.ecosystem);
                let name = normalize_name(&ecosystem, &package.name);
                let entry = index.entry((ecosystem, name)).or_default();
                if entry.last() != Some(&at) {
                    entry.push(at);
                }
            }
        }
        Database {
            advisories,
            index,
            ages,
        }
    }

    /// How many advisories are loaded.
    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// When each archive was downloaded (or, lacking a record, last
    /// modified), in seconds since the Unix epoch: per ecosystem for a
    /// downloaded directory, the file for a single zip, nothing for JSON files.
    pub fn ages(&self) -> Vec<(String, u64)> {
        self.ages.clone()
    }

    /// The ecosystems among [`Database::ages`] older than [`MAX_AGE`] at `now`.
    pub fn stale(&self, now: SystemTime) -> Vec<String> {
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.ages
            .iter()
            .filter(|(_, at)| now.saturating_sub(*at) > MAX_AGE.as_secs())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The advisories naming `name` in `ecosystem` (both normalised), and
    /// for distributions those filed without a release.
    pub(crate) fn lookup<'a>(
        &'a self,
        ecosystem: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Advisory> + 'a {
        let exact = self.index.get(&(ecosystem.to_string(), name.to_string()));
        let base = unscoped(ecosystem)
            .and_then(|base| self.index.get(&(base.to_string(), name.to_string())));
        exact
            .into_iter()
            .chain(base)
            .flatten()
            .filter_map(|&at| self.advisories.get(at))
    }
}

/// The ecosystems a catalogue's packages are looked up in (`Debian:12`,
/// `PyPI` ...), sorted: what [`Database::open`] needs to keep.
pub fn ecosystems(catalog: &Catalog) -> Vec<String> {
    let distro = catalog.distro.as_ref();
    let set: BTreeSet<String> = catalog
        .packages
        .iter()
        .filter_map(|package| target(package, distro))
        .map(|target| target.ecosystem)
        .collect();
    set.into_iter().collect()
}

/// Which ecosystems and archives to keep.
struct Wanted {
    ecosystems: HashSet<String>,
    archives: HashSet<String>,
}

impl Wanted {
    fn new(ecosystems: &[String]) -> Wanted {
        let mut set: HashSet<String> = ecosystems.iter().map(|e| normalize_ecosystem(e)).collect();
        let bases: Vec<String> = set
            .iter()
            .filter_map(|e| unscoped(e))
            .map(str::to_string)
            .collect();
        set.extend(bases);
        let archives = set.iter().map(|e| archive_name(e).to_string()).collect();
        Wanted {
            ecosystems: set,
            archives,
        }
    }

    fn archive(&self, name: &str) -> bool {
        self.archives.is_empty() || self.archives.contains(name)
    }

    fn keeps(&self, advisory: &Advisory) -> bool {
        advisory.withdrawn.is_none()
            && (self.ecosystems.is_empty()
                || advisory.affected.iter().any(|affected| {
                    affected.package.as_ref().is_some_and(|package| {
                        self.ecosystems
                            .contains(&normalize_ecosystem(&package.ecosystem))
                    })
                }))
    }
}

/// Parses `items` on several threads when there are many, keeping what
/// `wanted` keeps; the first error wins.
fn parse_all<T: Sync>(
    items: &[T],
    wanted: &Wanted,
    parse: impl Fn(&T) -> Result<Vec<Advisory>> + Sync,
) -> Result<Vec<Advisory>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = threads.min(items.len() / PER_THREAD + 1).max(1);
    let chunk = items.len().div_ceil(threads).max(1);
    let parse = &parse;
    let parts: Vec<Result<Vec<Advisory>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut kept = Vec::new();
                    for item in part {
                        kept.extend(parse(item)?.into_iter().filter(|a| wanted.keeps(a)));
                    }
                    Ok(kept)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    Err(Error::Database {
                        location: "advisories".to_string(),
                        reason: "a parsing thread panicked".to_string(),
                    })
                })
            })
            .collect()
    });
    let mut all = Vec::new();
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}

fn read_zip(path: &Path, wanted: &Wanted) -> Result<Vec<Advisory>> {
    let bytes = std::fs::read(path).map_err(|e| database_error(path, e))?;
    let name = path.display().to_string();
    let archive = ZipArchive::parse(&name, &bytes)?;
    let entries: Vec<_> = archive
        .entries()
        .iter()
        .filter(|entry| entry.name.ends_with(".json"))
        .collect();
    thread_local! {
        static BUFFERS: std::cell::RefCell<(Inflater, Vec<u8>)> = Default::default();
    }
    parse_all(&entries, wanted, |entry| {
        BUFFERS.with_borrow_mut(|(inflater, json)| {
            archive.read_with(entry, inflater, json)?;
            parse_document(json).map_err(|e| Error::Database {
                location: format!("{name}:{}", entry.name),
                reason: e.to_string(),
            })
        })
    })
}

fn read_json_tree(root: &Path, wanted: &Wanted) -> Result<Vec<Advisory>> {
    let mut files = Vec::new();
    collect_json(root, &mut files)?;
    files.sort();
    parse_all(&files, wanted, read_json_file)
}

/// One OSV JSON file: an advisory or an array of them.
fn read_json_file(file: &PathBuf) -> Result<Vec<Advisory>> {
    let json = std::fs::read(file).map_err(|e| database_error(file, e))?;
    parse_document(&json).map_err(|e| Error::Database {
        location: file.display().to_string(),
        reason: e.to_string(),
    })
}

fn collect_json(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| database_error(dir, e))? {
        let entry = entry.map_err(|e| database_error(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| database_error(&path, e))?;
        if kind.is_dir() {
            collect_json(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    Ok(())
}

/// `DIR/<ecosystem>/all.zip` files, by ecosystem, sorted.
fn per_ecosystem_archives(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut archives = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| database_error(dir, e))? {
        let entry = entry.map_err(|e| database_error(dir, e))?;
        let archive = entry.path().join(ARCHIVE);
        if archive.is_file() {
            archives.push((entry.file_name().to_string_lossy().into_owned(), archive));
        }
    }
    archives.sort();
    Ok(archives)
}

/// When `archive` was downloaded: its record's time, else its mtime.
fn downloaded_at(archive: &Path) -> Result<u64> {
    let record = archive.with_file_name(RECORD);
    if let Ok(bytes) = std::fs::read(&record) {
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::Database {
                location: record.display().to_string(),
                reason: e.to_string(),
            })?;
        if let Some(at) = value.get("updated").and_then(serde_json::Value::as_u64) {
            return Ok(at);
        }
    }
    let metadata = std::fs::metadata(archive).map_err(|e| database_error(archive, e))?;
    Ok(modified_secs(&metadata))
}

fn modified_secs(metadata: &std::fs::Metadata) -> u64 {
    metadata
        .modified()
        .ok()
        .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

fn database_error(path: &Path, error: impl std::fmt::Display) -> Error {
    Error::Database {
        location: path.display().to_string(),
        reason: error.to_string(),
    }
}

/// One archive [`update`] downloaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Updated {
    /// The archive's ecosystem (`Debian`, `PyPI` ...).
    pub ecosystem: String,
    /// Where it was stored.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
}

/// Downloads `{base_url}/{ecosystem}/all.zip` for each ecosystem (a release
/// suffix is dropped: `Debian:12` fetches `Debian`) into
/// `dir/<ecosystem>/all.zip`, replacing any older copy only once the new
/// one is complete and readable, and records when.
pub fn update(dir: &Path, ecosystems: &[String], base_url: &str) -> Result<Vec<Updated>> {
    let names: BTreeSet<&str> = ecosystems.iter().map(|e| archive_name(e)).collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into();
    names
        .into_iter()
        .map(|name| download(&agent, dir, name, base_url.trim_end_matches('/')))
        .collect()
}

fn download(agent: &ureq::Agent, dir: &Path, ecosystem: &str, base_url: &str) -> Result<Updated> {
    let url = format!("{base_url}/{}/{ARCHIVE}", ecosystem.replace(' ', "%20"));
    let url_error = |reason: String| Error::Database {
        location: url.clone(),
        reason,
    };
    let response = agent
        .get(&url)
        .header("User-Agent", concat!("strata/", env!("CARGO_PKG_VERSION")))
        .call()
        .map_err(|e| url_error(e.to_string()))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(url_error(format!("HTTP status {status}")));
    }
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .read_to_end(&mut bytes)
        .map_err(|e| url_error(e.to_string()))?;
    // An error page served with 200 must not replace a good archive.
    ZipArchive::parse(&url, &bytes)?;
    let target_dir = dir.join(ecosystem);
    std::fs::create_dir_all(&target_dir).map_err(|e| database_error(&target_dir, e))?;
    let path = target_dir.join(ARCHIVE);
    let partial = target_dir.join(format!(".{ARCHIVE}.{}", std::process::id()));
    std::fs::write(&partial, &bytes).map_err(|e| database_error(&partial, e))?;
    std::fs::rename(&partial, &path).map_err(|e| database_error(&path, e))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let record = serde_json::json!({ "url": url, "updated": now });
    let record_path = target_dir.join(RECORD);
    std::fs::write(&record_path, record.to_string())
        .map_err(|e| database_error(&record_path, e))?;
    Ok(Updated {
        ecosystem: ecosystem.to_string(),
        path,
        bytes: bytes.len() as u64,
    })
}
