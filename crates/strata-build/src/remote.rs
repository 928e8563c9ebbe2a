//! ADD of an http(s) URL, by BuildKit's rules: the file is named after the
//! URL path's last element (`__unnamed__` when there is none), is root's
//! with mode 0600 unless `--chown` says otherwise, takes its time from the
//! response's `Last-Modified` (else the epoch), and is never unpacked unless
//! `--unpack=true`. `--checksum` pins its content digest.
//!
//! Each URL is downloaded once per build into the store's temporary area,
//! under its content digest; the step's cache key covers that digest (or,
//! with `--checksum`, the pinned digest, so a cached step needs no network).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::Digest as _;

use crate::error::{Error, Result};

/// BuildKit's name for a URL whose path has no last element.
const UNNAMED: &str = "__unnamed__";

/// The downloads of one build, removed with it.
#[derive(Debug)]
pub(crate) struct Downloads {
    /// Where files land (created on the first download).
    directory: PathBuf,
    /// One cell per URL (and digest algorithm): the first caller downloads,
    /// the others wait.
    cells: Mutex<HashMap<String, Arc<Cell>>>,
    /// Numbers the files being written.
    partials: std::sync::atomic::AtomicUsize,
}

/// A URL's download, done once.
type Cell = OnceLock<Result<Arc<Downloaded>, String>>;

/// A downloaded file.
#[derive(Debug)]
pub(crate) struct Downloaded {
    /// Its path in the store's temporary area.
    pub(crate) path: PathBuf,
    /// Its content digest, in the algorithm of the `--checksum` when one was
    /// given (`sha256:…` otherwise).
    pub(crate) digest: String,
    /// `Last-Modified`, in seconds since the epoch (0 without one).
    pub(crate) modified: i64,
}

impl Downloads {
    /// Downloads that will live in `directory` (a fresh temporary path).
    pub(crate) fn new(directory: PathBuf) -> Self {
        Self {
            directory,
            cells: Mutex::new(HashMap::new()),
            partials: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// `url`'s content, downloaded on the first call for it (verified
    /// against `checksum` when given).
    pub(crate) fn fetch(&self, url: &str, checksum: Option<&Checksum>) -> Result<Arc<Downloaded>> {
        let algorithm = checksum.map_or(Algorithm::Sha256, |c| c.algorithm);
        let cell = {
            let mut cells = self.cells.lock().map_err(|_| Error::Cancelled)?;
            cells
                .entry(format!("{algorithm:?} {url}"))
                .or_default()
                .clone()
        };
        let downloaded = cell
            .get_or_init(|| self.download(url, algorithm).map(Arc::new))
            .clone()
            .map_err(|message| remote_error(url, message))?;
        if let Some(checksum) = checksum
            && downloaded.digest != checksum.text
        {
            return Err(remote_error(
                url,
                format!(
                    "digest mismatch for {url}: {} (expected: {})",
                    downloaded.digest, checksum.text
                ),
            ));
        }
        Ok(downloaded)
    }

    fn download(&self, url: &str, algorithm: Algorithm) -> std::result::Result<Downloaded, String> {
        strata_fs::create_dir_all(&self.directory).map_err(|e| e.to_string())?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(std::time::Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent
            .get(url)
            .header("User-Agent", concat!("strata/", env!("CARGO_PKG_VERSION")))
            .call()
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        if !(200..400).contains(&status) {
            return Err(format!("invalid response status {status}"));
        }
        let modified = response
            .headers()
            .get("Last-Modified")
            .and_then(|value| value.to_str().ok())
            .and_then(parse_http_time)
            .unwrap_or(0);
        let partial = self.directory.join(format!(
            "download-{}",
            self.partials
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let mut file = std::fs::File::create(&partial)
            .map_err(|e| strata_fs::Error::new("create", &partial, e).to_string())?;
        let mut hasher = Hasher::new(algorithm);
        let mut body = response.into_body().into_reader();
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let read = body.read(&mut buffer).map_err(|e| e.to_string())?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            file.write_all(&buffer[..read])
                .map_err(|e| strata_fs::Error::new("write", &partial, e).to_string())?;
        }
        drop(file);
        let digest = hasher.finish();
        let path = self.directory.join(digest.replace(':', "-"));
        std::fs::rename(&partial, &path)
            .map_err(|e| strata_fs::Error::new("rename", &partial, e).to_string())?;
        Ok(Downloaded {
            path,
            digest,
            modified,
        })
    }
}

impl Drop for Downloads {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

fn remote_error(url: &str, message: String) -> Error {
    Error::io(
        "download",
        std::path::Path::new(url),
        std::io::Error::other(message),
    )
}

/// The file name BuildKit gives a URL's download: the last element of its
/// path, or `__unnamed__`.
pub(crate) fn file_name(url: &str) -> String {
    let without_fragment = url.split('#').next().unwrap_or(url);
    let without_query = without_fragment
        .split('?')
        .next()
        .unwrap_or(without_fragment);
    let path = without_query
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(without_query);
    let path = match path.find('/') {
        Some(index) => &path[index..],
        None => "",
    };
    // Go's path.Base: trailing slashes dropped, then the last element.
    let trimmed = path.trim_end_matches('/');
    let name = match trimmed.rsplit('/').next() {
        Some(base) if !base.is_empty() && base != "." => {
            percent_decode(base).unwrap_or_else(|| base.to_owned())
        }
        _ => return UNNAMED.to_owned(),
    };
    // BuildKit's SafeFileName: never a path, never `..`, no control characters.
    let name = name
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if name.is_empty() || name == "." || name == ".." || name.chars().any(char::is_control) {
        return "download".to_owned();
    }
    name
}

/// `%xx` escapes decoded (Go's url.Parse gives the decoded path); `None`
/// when the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let (Some(high), Some(low)) = (
                (bytes[index + 1] as char).to_digit(16),
                (bytes[index + 2] as char).to_digit(16),
            )
        {
            out.push((high * 16 + low) as u8);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8(out).ok()
}

/// Whether an ADD source is an http(s) URL (BuildKit's `isHTTPSource`).
pub(crate) fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// Whether an ADD source is a git repository (BuildKit's `isGitSource`,
/// for the forms it recognises without a network).
pub(crate) fn is_git(source: &str) -> bool {
    let without_fragment = source.split('#').next().unwrap_or(source);
    source.starts_with("git@")
        || source.starts_with("git://")
        || source.starts_with("ssh://")
        || (is_url(source) && without_fragment.ends_with(".git"))
}

/// Go's `http.ParseTime` for the formats servers send (RFC 1123, which
/// RFC 2822's parser reads).
fn parse_http_time(text: &str) -> Option<i64> {
    jiff::fmt::rfc2822::parse(text.trim())
        .ok()
        .map(|zoned| zoned.timestamp().as_second())
}

/// A digest algorithm `--checksum` may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Sha256,
    Sha384,
    Sha512,
}

/// A parsed `--checksum` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Checksum {
    /// The algorithm.
    pub(crate) algorithm: Algorithm,
    /// The digest as written, `algorithm:hex`.
    pub(crate) text: String,
}

impl Checksum {
    /// Parses like go-digest's `digest.Parse`, with its messages.
    pub(crate) fn parse(text: &str) -> std::result::Result<Checksum, String> {
        let Some((algorithm, hex)) = text.split_once(':') else {
            return Err("invalid checksum digest format".to_owned());
        };
        let (algorithm, length) = match algorithm {
            "sha256" => (Algorithm::Sha256, 64),
            "sha384" => (Algorithm::Sha384, 96),
            "sha512" => (Algorithm::Sha512, 128),
            _ if algorithm.is_empty() || hex.is_empty() => {
                return Err("invalid checksum digest format".to_owned());
            }
            _ => return Err("unsupported digest algorithm".to_owned()),
        };
        if hex.len() != length {
            return Err("invalid checksum digest length".to_owned());
        }
        if !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err("invalid checksum digest format".to_owned());
        }
        Ok(Checksum {
            algorithm,
            text: text.to_owned(),
        })
    }
}

enum Hasher {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    fn finish(self) -> String {
        let (name, bytes): (&str, Vec<u8>) = match self {
            Hasher::Sha256(h) => ("sha256", h.finalize().to_vec()),
            Hasher::Sha384(h) => ("sha384", h.finalize().to_vec()),
            Hasher::Sha512(h) => ("sha512", h.finalize().to_vec()),
        };
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("{name}:{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_buildkit() {
        assert_eq!(file_name("http://h/a/b.tar.gz"), "b.tar.gz");
        assert_eq!(file_name("http://h/a/b.txt?x=1#f"), "b.txt");
        assert_eq!(file_name("http://h/dir/"), "dir");
        assert_eq!(file_name("http://h/"), UNNAMED);
        assert_eq!(file_name("http://h"), UNNAMED);
        assert_eq!(file_name("https://h:8080/x%20y"), "x y");
        assert_eq!(file_name("http://h/a/.."), "download");
        assert_eq!(file_name("http://h/a%2Fb"), "b");
    }

    #[test]
    fn checksums_parse_like_go_digest() {
        let hex = "a".repeat(64);
        assert_eq!(
            Checksum::parse(&format!("sha256:{hex}")).unwrap().algorithm,
            Algorithm::Sha256
        );
        assert_eq!(
            Checksum::parse("sha256:abc").unwrap_err(),
            "invalid checksum digest length"
        );
        assert_eq!(
            Checksum::parse("md5:abc").unwrap_err(),
            "unsupported digest algorithm"
        );
        assert_eq!(
            Checksum::parse("nope").unwrap_err(),
            "invalid checksum digest format"
        );
        assert_eq!(
            Checksum::parse(&format!("sha256:{}", "G".repeat(64))).unwrap_err(),
            "invalid checksum digest format"
        );
    }

    #[test]
    fn http_times_parse() {
        assert_eq!(parse_http_time("Thu, 01 Jan 1970 00:00:10 GMT"), Some(10));
        assert_eq!(parse_http_time("garbage"), None);
    }
}
