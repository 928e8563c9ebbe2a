//! Where a context comes from: a local directory, a tar archive on stdin
//! (plain, gzip, bzip2 or xz, detected by content), a Dockerfile on stdin
//! with no context, a git URL (`https://host/repo.git#ref:subdir`, fetched
//! shallow with the git command), or a remote tarball (or Dockerfile) URL.
//! Everything that is not a local directory is materialised in a temporary
//! directory that lives as long as the [`ResolvedContext`].

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::Error;

/// A context argument as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextSpec {
    /// A local directory.
    Directory(PathBuf),
    /// `-`: a tar archive, or a Dockerfile, on standard input.
    Stdin,
    /// A git repository.
    Git {
        /// The repository URL without the fragment.
        url: String,
        /// The branch, tag or commit (`#ref`); the remote's HEAD when absent.
        reference: Option<String>,
        /// The directory inside the repository (`#ref:subdir`).
        subdirectory: Option<String>,
    },
    /// An `http(s)://` URL of a tarball or a Dockerfile.
    Url(String),
}

impl ContextSpec {
    /// Classifies an argument as docker does: `-` is stdin; `git://`,
    /// `git@`, `github.com/` and `http(s)://…​.git[#…]` are git (as is
    /// `file://…​.git[#…]`, for local repositories); other `http(s)://` URLs
    /// are remote files; anything else is a directory.
    pub fn parse(argument: &str) -> ContextSpec {
        if argument == "-" {
            return ContextSpec::Stdin;
        }
        let (base, fragment) = match argument.split_once('#') {
            Some((base, fragment)) => (base, Some(fragment)),
            None => (argument, None),
        };
        let is_http = argument.starts_with("http://") || argument.starts_with("https://");
        let is_git = argument.starts_with("git://")
            || argument.starts_with("git@")
            || argument.starts_with("github.com/")
            || ((is_http || argument.starts_with("file://")) && base.ends_with(".git"));
        if is_git {
            let url = if base.starts_with("github.com/") {
                format!("https://{base}")
            } else {
                base.to_owned()
            };
            let (reference, subdirectory) = match fragment {
                None => (None, None),
                Some(fragment) => {
                    let (reference, subdirectory) = match fragment.split_once(':') {
                        Some((r, s)) => (r, Some(s)),
                        None => (fragment, None),
                    };
                    (
                        Some(reference.to_owned()).filter(|r| !r.is_empty()),
                        subdirectory.map(str::to_owned).filter(|s| !s.is_empty()),
                    )
                }
            };
            return ContextSpec::Git {
                url,
                reference,
                subdirectory,
            };
        }
        if is_http {
            return ContextSpec::Url(argument.to_owned());
        }
        ContextSpec::Directory(PathBuf::from(argument))
    }
}

/// A context ready to scan: a directory on disk, and the Dockerfile text when
/// the input was a Dockerfile rather than a context.
#[derive(Debug)]
pub struct ResolvedContext {
    root: PathBuf,
    dockerfile: Option<Vec<u8>>,
    _temporary: Option<tempfile::TempDir>,
}

impl ResolvedContext {
    /// The directory to scan.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The Dockerfile read from stdin or a URL when that input was a
    /// Dockerfile (the context is then empty).
    pub fn dockerfile(&self) -> Option<&[u8]> {
        self.dockerfile.as_deref()
    }

    /// Whether the context lives in a temporary directory removed on drop.
    pub fn is_temporary(&self) -> bool {
        self._temporary.is_some()
    }
}

/// How to resolve a context: where temporary directories go, and how long a
/// download may take.
#[derive(Debug, Clone)]
pub struct ResolveOptions {
    /// Parent directory for temporary contexts (default: the system's).
    pub temporary_directory: Option<PathBuf>,
    /// Timeout for a whole HTTP download (default 10 minutes).
    pub http_timeout: Duration,
    /// The git command (default `git`).
    pub git: PathBuf,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        Self {
            temporary_directory: None,
            http_timeout: Duration::from_secs(600),
            git: PathBuf::from("git"),
        }
    }
}

fn temporary(options: &ResolveOptions) -> Result<tempfile::TempDir, Error> {
    let result = match &options.temporary_directory {
        Some(parent) => tempfile::Builder::new()
            .prefix("strata-context-")
            .tempdir_in(parent),
        None => tempfile::Builder::new().prefix("strata-context-").tempdir(),
    };
    result.map_err(|e| {
        let parent = options
            .temporary_directory
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        Error::Io(strata_fs::Error::new(
            "create temporary directory in",
            parent,
            e,
        ))
    })
}

/// The compression of a stream, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// No compression.
    None,
    /// gzip (`1f 8b`).
    Gzip,
    /// bzip2 (`BZh`).
    Bzip2,
    /// xz (`fd 37 7a 58 5a 00`).
    Xz,
}

/// Detects the compression from a stream's first bytes.
pub fn detect_compression(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(b"BZh") {
        Compression::Bzip2
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Compression::Xz
    } else {
        Compression::None
    }
}

fn is_tar(head: &[u8]) -> bool {
    // POSIX and GNU tar headers carry "ustar" at offset 257; an old v7
    // header is recognised by a valid checksum.
    if head.get(257..262) == Some(b"ustar") {
        return true;
    }
    if head.len() < 512 {
        return false;
    }
    let stored = std::str::from_utf8(&head[148..156])
        .ok()
        .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' '))
        .and_then(|s| u32::from_str_radix(s, 8).ok());
    let computed: u32 = head[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    stored == Some(computed)
}

fn decompressed(reader: impl Read + 'static) -> Result<Box<dyn BufRead>, Error> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let head = reader.fill_buf().map_err(|e| Error::Archive {
        reason: e.to_string(),
    })?;
    let stream: Box<dyn Read> = match detect_compression(head) {
        Compression::None => return Ok(Box::new(reader)),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(reader)),
    };
    Ok(Box::new(BufReader::with_capacity(64 * 1024, stream)))
}

/// Reads a stream that is either a (possibly compressed) tar archive, which
/// is unpacked into `directory`, or a Dockerfile, which is returned.
fn unpack_or_dockerfile(
    reader: impl Read + 'static,
    directory: &Path,
) -> Result<Option<Vec<u8>>, Error> {
    let mut reader = decompressed(reader)?;
    // Look at up to one tar header.
    let mut head = Vec::with_capacity(512);
    loop {
        let available = reader.fill_buf().map_err(|e| Error::Archive {
            reason: e.to_string(),
        })?;
        if available.is_empty() || head.len() >= 512 {
            break;
        }
        let take = available.len().min(512 - head.len());
        head.extend_from_slice(&available[..take]);
        reader.consume(take);
    }
    if !is_tar(&head) {
        let mut dockerfile = head;
        reader
            .read_to_end(&mut dockerfile)
            .map_err(|e| Error::Archive {
                reason: e.to_string(),
            })?;
        return Ok(Some(dockerfile));
    }
    let stream = std::io::Cursor::new(head).chain(reader);
    let mut archive = tar::Archive::new(stream);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.set_overwrite(true);
    // unpack() refuses entries that would land outside the directory.
    archive.unpack(directory).map_err(|e| Error::Archive {
        reason: e.to_string(),
    })?;
    Ok(None)
}

/// Resolves a context argument into a directory to scan. `stdin` is read
/// only for [`ContextSpec::Stdin`].
pub fn resolve(
    spec: &ContextSpec,
    stdin: impl Read + 'static,
    options: &ResolveOptions,
) -> Result<ResolvedContext, Error> {
    match spec {
        ContextSpec::Directory(path) => {
            let metadata = strata_fs::metadata(path)?;
            if !metadata.is_dir() {
                return Err(Error::NotADirectory { path: path.clone() });
            }
            Ok(ResolvedContext {
                root: path.clone(),
                dockerfile: None,
                _temporary: None,
            })
        }
        ContextSpec::Stdin => {
            let directory = temporary(options)?;
            let dockerfile = unpack_or_dockerfile(stdin, directory.path())?;
            Ok(ResolvedContext {
                root: directory.path().to_path_buf(),
                dockerfile,
                _temporary: Some(directory),
            })
        }
        ContextSpec::Url(url) => {
            let directory = temporary(options)?;
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(options.http_timeout))
                .build()
                .into();
            let response = agent.get(url).call().map_err(|e| Error::Http {
                url: url.clone(),
                reason: e.to_string(),
            })?;
            let body = response.into_body().into_reader();
            let dockerfile = unpack_or_dockerfile(body, directory.path())?;
            Ok(ResolvedContext {
                root: directory.path().to_path_buf(),
                dockerfile,
                _temporary: Some(directory),
            })
        }
        ContextSpec::Git {
            url,
            reference,
            subdirectory,
        } => {
            let directory = temporary(options)?;
            let tree = directory.path().join("tree");
            fetch_git(options, url, reference.as_deref(), &tree)?;
            let root = match subdirectory {
                None => tree,
                Some(subdirectory) => {
                    let cleaned = strata_go::path::clean(format!("/{subdirectory}").as_bytes());
                    let relative = String::from_utf8_lossy(&cleaned)
                        .trim_start_matches('/')
                        .to_owned();
                    let root = tree.join(&relative);
                    let inside = std::fs::canonicalize(&root)
                        .ok()
                        .zip(std::fs::canonicalize(&tree).ok())
                        .is_some_and(|(r, t)| r.starts_with(t));
                    if !inside || !root.is_dir() {
                        return Err(Error::InvalidSource {
                            argument: format!(
                                "{url}#{}:{subdirectory}",
                                reference.as_deref().unwrap_or("")
                            ),
                            reason: format!("{subdirectory} is not a directory in the repository"),
                        });
                    }
                    root
                }
            };
            Ok(ResolvedContext {
                root,
                dockerfile: None,
                _temporary: Some(directory),
            })
        }
    }
}

fn run_git(
    options: &ResolveOptions,
    url: &str,
    action: &str,
    args: &[&str],
    directory: &Path,
) -> Result<(), Error> {
    let output = Command::new(&options.git)
        .args(args)
        .current_dir(directory)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .map_err(|e| Error::Git {
            action: action.to_owned(),
            url: url.to_owned(),
            reason: format!("cannot run {}: {e}", options.git.display()),
        })?;
    if !output.status.success() {
        return Err(Error::Git {
            action: action.to_owned(),
            url: url.to_owned(),
            reason: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

/// A shallow fetch of one reference into `tree`, checked out without `.git`;
/// servers that cannot serve shallow fetches (git's "dumb" HTTP) get a full one.
fn fetch_git(
    options: &ResolveOptions,
    url: &str,
    reference: Option<&str>,
    tree: &Path,
) -> Result<(), Error> {
    strata_fs::create_dir_all(tree)?;
    run_git(options, url, "init", &["init", "-q"], tree)?;
    run_git(
        options,
        url,
        "remote add",
        &["remote", "add", "origin", url],
        tree,
    )?;
    let reference = reference.unwrap_or("HEAD");
    let shallow = run_git(
        options,
        url,
        "fetch",
        &["fetch", "-q", "--depth=1", "--no-tags", "origin", reference],
        tree,
    );
    if shallow.is_err() {
        run_git(
            options,
            url,
            "fetch",
            &["fetch", "-q", "--no-tags", "origin", reference],
            tree,
        )?;
    }
    run_git(
        options,
        url,
        "checkout",
        &["checkout", "-q", "FETCH_HEAD"],
        tree,
    )?;
    if tree.join(".gitmodules").exists() {
        run_git(
            options,
            url,
            "submodule update",
            &[
                "submodule",
                "update",
                "-q",
                "--init",
                "--recursive",
                "--depth=1",
            ],
            tree,
        )?;
    }
    strata_fs::remove_dir_all(tree.join(".git"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arguments() {
        assert_eq!(ContextSpec::parse("-"), ContextSpec::Stdin);
        assert_eq!(ContextSpec::parse("."), ContextSpec::Directory(".".into()));
        assert_eq!(
            ContextSpec::parse("https://example.com/repo.git#v1:sub/dir"),
            ContextSpec::Git {
                url: "https://example.com/repo.git".into(),
                reference: Some("v1".into()),
                subdirectory: Some("sub/dir".into()),
            }
        );
        assert_eq!(
            ContextSpec::parse("https://example.com/ctx.tar.gz"),
            ContextSpec::Url("https://example.com/ctx.tar.gz".into())
        );
        assert!(matches!(
            ContextSpec::parse("github.com/moby/buildkit"),
            ContextSpec::Git { .. }
        ));
    }

    #[test]
    fn detects_compression() {
        assert_eq!(detect_compression(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(detect_compression(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(
            detect_compression(&[0xfd, b'7', b'z', b'X', b'Z', 0]),
            Compression::Xz
        );
        assert_eq!(detect_compression(b"FROM scratch"), Compression::None);
    }
}
