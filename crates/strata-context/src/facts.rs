//! Facts about a context for `strata lint`: whether it has an ignore file,
//! and which well-known heavy or sensitive paths it holds and sends.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::ignorefile::IgnoreFile;
use crate::pattern::PatternError;

/// Top-level names worth a lint: heavy directories and secrets.
pub const NOTABLE_NAMES: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    ".env",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".aws",
    ".ssh",
    ".docker",
    "id_rsa",
    "id_ed25519",
    "__pycache__",
    ".venv",
    "venv",
    "target",
    ".terraform",
    ".DS_Store",
];

/// One notable path at the top of the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotablePath {
    /// The name, relative to the context root.
    pub path: PathBuf,
    /// Whether it is a directory.
    pub is_directory: bool,
    /// Whether the ignore rules send it (a directory counts as sent when any
    /// part of it is).
    pub sent: bool,
}

/// What lint needs to know about a context: its ignore rules and the
/// notable paths at its top.
#[derive(Debug, Clone, Default)]
pub struct ContextFacts {
    /// The ignore rules in effect ([`IgnoreFile::none`] without a file).
    pub ignore: IgnoreFile,
    /// Notable top-level paths present on disk (`.env.*` files included),
    /// sorted by name.
    pub notable: Vec<NotablePath>,
}

impl ContextFacts {
    /// Gathers facts from the context directory, its ignore rules and (when
    /// scanned) what is sent.
    pub fn gather(
        root: &Path,
        ignore: &IgnoreFile,
        scanned: Option<&Context>,
    ) -> Result<Self, PatternError> {
        let mut notable = Vec::new();
        let Ok(reader) = std::fs::read_dir(root) else {
            return Ok(Self {
                ignore: ignore.clone(),
                notable,
            });
        };
        let mut names: Vec<_> = reader.flatten().collect();
        names.sort_by_key(|entry| entry.file_name());
        for entry in names {
            let name = entry.file_name();
            let text = name.to_string_lossy();
            let is_notable = NOTABLE_NAMES.contains(&text.as_ref()) || text.starts_with(".env.");
            if !is_notable {
                continue;
            }
            let is_directory = entry.file_type().is_ok_and(|t| t.is_dir());
            let bytes = std::os::unix::ffi::OsStrExt::as_bytes(name.as_os_str());
            let sent = match scanned {
                Some(context) => context.get(bytes).is_some(),
                None => !ignore.is_ignored(bytes)?,
            };
            notable.push(NotablePath {
                path: PathBuf::from(&name),
                is_directory,
                sent,
            });
        }
        Ok(Self {
            ignore: ignore.clone(),
            notable,
        })
    }

    /// Whether an ignore file is in effect.
    pub fn has_ignore_file(&self) -> bool {
        self.ignore.path().is_some()
    }

    /// The notable path with this name, if present.
    pub fn find(&self, name: &str) -> Option<&NotablePath> {
        self.notable.iter().find(|n| n.path == Path::new(name))
    }
}
