//! Named contexts (`--build-context NAME=VALUE`): what a value names, read
//! as buildx reads it, the key a Dockerfile name is looked up under (as
//! BuildKit's dockerui normalises it), and images from OCI layouts on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use strata_oci::{Descriptor, Digest, ImageIndex, Manifest, Reference};
use strata_store::Store;

use crate::error::{Error, Result};

/// What a named context stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamedContext {
    /// A local directory; its own `.dockerignore` applies (not the main
    /// context's).
    Local(PathBuf),
    /// `docker-image://REF`: this image wherever the name is used
    /// (`docker-image://scratch` is nothing).
    Image(String),
    /// `oci-layout://PATH[:TAG][@DIGEST]`: an image of an OCI layout on
    /// disk; without a digest, the tag (default `latest`) or the layout's
    /// only manifest.
    OciLayout {
        /// The layout's directory.
        path: PathBuf,
        /// The tag looked up in its `index.json`.
        tag: Option<String>,
        /// The manifest (or index) digest.
        digest: Option<Digest>,
    },
}

impl NamedContext {
    /// Reads `value` of the context `name` as buildx's `toSolveOpt` does:
    /// remote URLs and `target:` are refused (strata has no remote named
    /// contexts, bake has targets), `docker-image://` and `oci-layout://`
    /// are images, anything else a directory that must exist.
    pub fn parse(name: &str, value: &str) -> std::result::Result<Self, String> {
        if let Some(reference) = value.strip_prefix("docker-image://") {
            if reference != "scratch" {
                Reference::parse(reference).map_err(|e| go_reference_error(reference, &e))?;
            }
            return Ok(Self::Image(reference.to_owned()));
        }
        if let Some(rest) = value.strip_prefix("oci-layout://") {
            return oci_layout(rest);
        }
        if is_remote(value) {
            return Err(format!(
                "named context {name}={value}: remote named contexts (git, http) are not supported by strata yet"
            ));
        }
        if let Some((scheme, _)) = value.split_once(':')
            && scheme == "target"
        {
            return Err(format!("unsupported context source {scheme} for {name}"));
        }
        let metadata = std::fs::metadata(value).map_err(|error| {
            format!(
                "failed to get build context {name}: stat {value}: {}",
                strata_go::syscall::error_text(&error)
            )
        })?;
        if !metadata.is_dir() {
            return Err(format!(
                "failed to get build context path {{{value} <nil>}}: not a directory"
            ));
        }
        Ok(Self::Local(PathBuf::from(value)))
    }
}

/// The key a context name is known by: `reference.ParseNormalizedNamed`,
/// its familiar form, `:latest` trimmed (`docker.io/library/alpine:latest`
/// is `alpine`); the error in Go's words.
pub fn context_name(name: &str) -> std::result::Result<String, String> {
    let reference = Reference::parse(name).map_err(|e| go_reference_error(name, &e))?;
    let familiar = reference.familiar();
    Ok(familiar
        .strip_suffix(":latest")
        .map(str::to_owned)
        .unwrap_or(familiar))
}

/// The context a Dockerfile name (a FROM base, a `--from`, a stage name)
/// stands for: under `NAME::os/arch` first, then `NAME`. `scratch` and
/// `context` never are. Returns the key found (BuildKit's vertex names show
/// it) and the context.
pub(crate) fn lookup<'a>(
    contexts: &'a BTreeMap<String, NamedContext>,
    name: &str,
) -> Option<(String, &'a NamedContext)> {
    if contexts.is_empty()
        || name.eq_ignore_ascii_case("scratch")
        || name.eq_ignore_ascii_case("context")
    {
        return None;
    }
    let key = context_name(name).ok()?;
    let with_platform = format!("{key}::{}", strata_oci::Platform::host());
    [with_platform, key]
        .into_iter()
        .find_map(|k| contexts.get(&k).map(|context| (k, context)))
}

/// Copies the image `tag`/`digest` names in the OCI layout at `path` into
/// `store` (every blob verified as it is read) and returns its descriptor.
pub(crate) fn import_oci_layout(
    store: &Store,
    path: &Path,
    tag: Option<&str>,
    digest: Option<&Digest>,
) -> Result<Descriptor> {
    let shown = layout_text(path, tag, digest);
    let fail = |message: String| Error::Option {
        flag: "--build-context",
        message,
    };
    let index_path = path.join("index.json");
    let bytes = std::fs::read(&index_path).map_err(|e| {
        fail(format!(
            "oci-layout reference {shown:?} could not be resolved: could not read {}: open {}: {}",
            index_path.display(),
            index_path.display(),
            strata_go::syscall::error_text(&e)
        ))
    })?;
    let index: ImageIndex = serde_json::from_slice(&bytes)
        .map_err(|e| fail(format!("could not unmarshal {}: {e}", index_path.display())))?;
    let descriptor = match digest {
        Some(digest) => index
            .manifests
            .iter()
            .find(|d| &d.digest == digest)
            .cloned()
            .unwrap_or_else(|| Descriptor::new(strata_oci::media_type::OCI_MANIFEST, *digest, 0)),
        None => by_tag(&index, tag.unwrap_or("latest")).ok_or_else(|| {
            fail(format!(
                "oci-layout reference {shown:?} could not be resolved: failed to resolve digest"
            ))
        })?,
    };
    import_tree(store, path, &descriptor)?;
    Ok(descriptor)
}

/// buildx's `ociindex.Get` then `GetSingle`: the manifest whose image name,
/// then whose ref name, is `tag`; else the only one.
fn by_tag(index: &ImageIndex, tag: &str) -> Option<Descriptor> {
    let named = |key: &str| {
        index
            .manifests
            .iter()
            .find(|d| d.annotation(key) == Some(tag))
    };
    named(strata_oci::ANNOTATION_IMAGE_NAME)
        .or_else(|| named(strata_oci::ANNOTATION_REF_NAME))
        .or(match index.manifests.as_slice() {
            [only] => Some(only),
            _ => None,
        })
        .cloned()
}

/// Copies `descriptor` and what it reaches from the layout into the store;
/// an index's entries for other platforms may be missing and are skipped.
fn import_tree(store: &Store, layout: &Path, descriptor: &Descriptor) -> Result<()> {
    let blob = |digest: &Digest| layout.join(digest.layout_path());
    let copy = |digest: &Digest| -> Result<()> {
        if store.has_blob(digest) {
            return Ok(());
        }
        let path = blob(digest);
        let file =
            std::fs::File::open(&path).map_err(|e| strata_fs::Error::new("open", &path, e))?;
        store.ingest(digest, None, file)?;
        Ok(())
    };
    copy(&descriptor.digest)?;
    let bytes = store.read_blob(&descriptor.digest)?;
    let manifest = Manifest::parse(&bytes, Some(&descriptor.media_type)).map_err(|e| {
        Error::image(
            &blob(&descriptor.digest).display().to_string(),
            e.to_string(),
        )
    })?;
    match manifest {
        Manifest::Image(manifest) => {
            copy(&manifest.config.digest)?;
            for layer in &manifest.layers {
                copy(&layer.digest)?;
            }
        }
        Manifest::Index(index) => {
            for entry in &index.manifests {
                if blob(&entry.digest).is_file()
                    && strata_oci::media_type::is_manifest(&entry.media_type)
                {
                    import_tree(store, layout, entry)?;
                }
            }
        }
    }
    Ok(())
}

/// `oci-layout://` as buildx's `ocilayout.Parse`: a trailing `@digest`,
/// then a trailing `:tag`; neither is tag `latest`.
fn oci_layout(rest: &str) -> std::result::Result<NamedContext, String> {
    let mut path = rest;
    let mut digest = None;
    if let Some((before, after)) = path.rsplit_once('@')
        && after.contains(':')
    {
        digest = Some(after.parse::<Digest>().map_err(|e| e.to_string())?);
        path = before;
    }
    let mut tag = None;
    if let Some((before, after)) = path.rsplit_once(':')
        && is_tag(after)
    {
        tag = Some(after.to_owned());
        path = before;
    }
    if tag.is_none() && digest.is_none() {
        tag = Some("latest".to_owned());
    }
    Ok(NamedContext::OciLayout {
        path: PathBuf::from(path),
        tag,
        digest,
    })
}

/// The distribution grammar's tag: `[\w][\w.-]{0,127}`.
fn is_tag(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && text.len() <= 128
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The value as buildx prints an oci-layout reference.
fn layout_text(path: &Path, tag: Option<&str>, digest: Option<&Digest>) -> String {
    let mut text = format!("oci-layout://{}", path.display());
    if let Some(tag) = tag {
        text.push(':');
        text.push_str(tag);
    }
    if let Some(digest) = digest {
        text.push('@');
        text.push_str(&digest.to_string());
    }
    text
}

/// buildx's `urlutil.IsRemoteURL`: http(s) URLs and git addresses.
fn is_remote(value: &str) -> bool {
    ["http://", "https://", "git://", "git@", "github.com/"]
        .iter()
        .any(|prefix| value.starts_with(prefix))
}

/// The distribution library's error for a name that does not parse.
fn go_reference_error(text: &str, error: &strata_oci::ReferenceError) -> String {
    if !error.reason.contains("lowercase") {
        return "invalid reference format".to_owned();
    }
    let name = text.split(['@']).next().unwrap_or(text);
    let (first, rest) = name.split_once('/').unwrap_or(("", name));
    let remote = if first.is_empty() {
        format!("library/{rest}")
    } else if first.contains(['.', ':']) || first == "localhost" {
        rest.to_owned()
    } else {
        name.to_owned()
    };
    let remote = remote.split(':').next().unwrap_or(&remote).to_owned();
    format!("invalid reference format: repository name ({remote}) must be lowercase")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_as_buildkit() {
        assert_eq!(context_name("alpine").unwrap(), "alpine");
        assert_eq!(context_name("alpine:latest").unwrap(), "alpine");
        assert_eq!(context_name("docker.io/library/alpine").unwrap(), "alpine");
        assert_eq!(context_name("alpine:3.19").unwrap(), "alpine:3.19");
        assert_eq!(
            context_name("localhost:5000/app").unwrap(),
            "localhost:5000/app"
        );
        assert_eq!(
            context_name("Foo").unwrap_err(),
            "invalid reference format: repository name (library/Foo) must be lowercase"
        );
        assert_eq!(
            context_name("me/Foo:1").unwrap_err(),
            "invalid reference format: repository name (me/Foo) must be lowercase"
        );
    }

    #[test]
    fn lookup_tries_the_platform_first() {
        let mut contexts = BTreeMap::new();
        contexts.insert("base".to_owned(), NamedContext::Image("a".to_owned()));
        let platform = format!("base::{}", strata_oci::Platform::host());
        assert_eq!(
            lookup(&contexts, "docker.io/library/base:latest")
                .unwrap()
                .0,
            "base"
        );
        contexts.insert(platform.clone(), NamedContext::Image("b".to_owned()));
        assert_eq!(lookup(&contexts, "base").unwrap().0, platform);
        contexts.insert("scratch".to_owned(), NamedContext::Image("c".to_owned()));
        assert!(lookup(&contexts, "scratch").is_none());
    }

    #[test]
    fn oci_layouts_parse_as_buildx() {
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            NamedContext::parse("x", "oci-layout:///l:v1").unwrap(),
            NamedContext::OciLayout {
                path: "/l".into(),
                tag: Some("v1".into()),
                digest: None
            }
        );
        assert_eq!(
            NamedContext::parse("x", "oci-layout://./l").unwrap(),
            NamedContext::OciLayout {
                path: "./l".into(),
                tag: Some("latest".into()),
                digest: None
            }
        );
        assert_eq!(
            NamedContext::parse("x", &format!("oci-layout://l@{digest}")).unwrap(),
            NamedContext::OciLayout {
                path: "l".into(),
                tag: None,
                digest: Some(digest.parse().unwrap())
            }
        );
    }

    #[test]
    fn bad_values_fail_in_buildx_words() {
        assert_eq!(
            NamedContext::parse("x", "/does/not/exist").unwrap_err(),
            "failed to get build context x: stat /does/not/exist: no such file or directory"
        );
        assert_eq!(
            NamedContext::parse("x", "/etc/hostname").unwrap_err(),
            "failed to get build context path {/etc/hostname <nil>}: not a directory"
        );
        assert_eq!(
            NamedContext::parse("x", "target:base").unwrap_err(),
            "unsupported context source target for x"
        );
        assert_eq!(
            NamedContext::parse("x", "docker-image://Bad").unwrap_err(),
            "invalid reference format: repository name (library/Bad) must be lowercase"
        );
        assert_eq!(
            NamedContext::parse("x", "docker-image://scratch").unwrap(),
            NamedContext::Image("scratch".into())
        );
    }
}
