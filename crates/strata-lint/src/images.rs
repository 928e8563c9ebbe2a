//! Image references as the rules read them: hadolint's split of a FROM
//! argument (registry, name, tag, digest), the reference grammar BuildKit
//! checks (`reference.ParseNormalizedNamed`), and what the lint assumes about
//! well-known base images when nothing better is known.

use crate::facts::ImageFacts;

/// A FROM argument split the way hadolint's parser splits it: a registry
/// only when the first component has a `.` (`gcr.io/x`), `${...}` opaque.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ImageParts {
    pub(crate) registry: Option<String>,
    pub(crate) name: String,
    pub(crate) tag: Option<String>,
    pub(crate) digest: Option<String>,
}

/// Splits `text` like hadolint (language-docker's `parseBaseImage`).
pub(crate) fn split_image(text: &str) -> ImageParts {
    let mut rest = text;
    let mut registry = None;
    if let Some(dot) = find_unexpanded(rest, |c| c == '.')
        && let Some(slash) = rest[dot..].find('/')
        && !rest[..dot].is_empty()
        && slash > 1
    {
        let end = dot + slash;
        registry = Some(rest[..end].to_string());
        rest = &rest[end + 1..];
    }
    let name_end = find_unexpanded(rest, |c| c == '@' || c == ':').unwrap_or(rest.len());
    let name = rest[..name_end].to_string();
    rest = &rest[name_end..];
    let mut tag = None;
    if let Some(after) = rest.strip_prefix(':') {
        let end = find_unexpanded(after, |c| c == '@' || c == ':').unwrap_or(after.len());
        tag = Some(after[..end].to_string());
        rest = &after[end..];
    }
    let digest = rest.strip_prefix('@').map(str::to_string);
    ImageParts {
        registry,
        name,
        tag,
        digest,
    }
}

/// The first byte offset where `predicate` holds outside `${...}`.
fn find_unexpanded(text: &str, predicate: impl Fn(char) -> bool) -> Option<usize> {
    let mut depth = 0usize;
    let mut previous_dollar = false;
    for (index, character) in text.char_indices() {
        match character {
            '{' if previous_dollar || depth > 0 => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 && predicate(character) => return Some(index),
            _ => {}
        }
        previous_dollar = character == '$';
    }
    None
}

/// Whether `text` is a reference `reference.ParseNormalizedNamed` accepts:
/// [`strata_oci::Reference`]'s grammar, and not 64 hexadecimal digits (an
/// image ID, which that function refuses as a name).
pub(crate) fn is_valid_reference(text: &str) -> bool {
    let identifier = text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    !identifier && strata_oci::Reference::parse(text).is_ok()
}

/// The repository of a reference without registry, tag or digest, with
/// Docker Hub's `library/` dropped: `docker.io/library/node:20` gives `node`.
pub(crate) fn repository(reference: &str) -> String {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let without_tag = match without_digest.rfind(':') {
        Some(colon) if !without_digest[colon..].contains('/') => &without_digest[..colon],
        _ => without_digest,
    };
    let mut path = without_tag;
    for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            path = rest;
        }
    }
    path.strip_prefix("library/").unwrap_or(path).to_string()
}

/// The official images whose config is known: their repositories and the
/// variables their config sets (values unknown).
const KNOWN_ENVIRONMENTS: &[(&[&str], &[&str])] = &[
    (&["scratch"], &[]),
    (
        &[
            "alpine",
            "debian",
            "ubuntu",
            "busybox",
            "centos",
            "fedora",
            "rockylinux",
            "almalinux",
            "amazonlinux",
            "archlinux",
            "oraclelinux",
            "opensuse/leap",
            "opensuse/tumbleweed",
            "photon",
            "clearlinux",
        ],
        &["PATH"],
    ),
    (
        &["python"],
        &["PATH", "LANG", "GPG_KEY", "PYTHON_VERSION", "PYTHON_SHA256"],
    ),
    (&["node"], &["PATH", "NODE_VERSION", "YARN_VERSION"]),
    (
        &["golang"],
        &["PATH", "GOLANG_VERSION", "GOTOOLCHAIN", "GOPATH"],
    ),
    (
        &[
            "openjdk",
            "eclipse-temurin",
            "amazoncorretto",
            "ibm-semeru-runtimes",
            "sapmachine",
        ],
        &[
            "PATH",
            "JAVA_HOME",
            "LANG",
            "LANGUAGE",
            "LC_ALL",
            "JAVA_VERSION",
        ],
    ),
    (
        &["maven"],
        &[
            "PATH",
            "JAVA_HOME",
            "LANG",
            "LANGUAGE",
            "LC_ALL",
            "JAVA_VERSION",
            "MAVEN_HOME",
            "MAVEN_CONFIG",
        ],
    ),
    (
        &["gradle"],
        &[
            "PATH",
            "JAVA_HOME",
            "LANG",
            "LANGUAGE",
            "LC_ALL",
            "JAVA_VERSION",
            "GRADLE_HOME",
            "GRADLE_VERSION",
        ],
    ),
    (
        &["ruby"],
        &[
            "PATH",
            "LANG",
            "RUBY_VERSION",
            "RUBY_DOWNLOAD_URL",
            "RUBY_DOWNLOAD_SHA256",
            "GEM_HOME",
            "BUNDLE_SILENCE_ROOT_WARNING",
            "BUNDLE_APP_CONFIG",
        ],
    ),
    (
        &["php"],
        &[
            "PATH",
            "PHPIZE_DEPS",
            "PHP_INI_DIR",
            "APACHE_CONFDIR",
            "APACHE_ENVVARS",
            "PHP_CFLAGS",
            "PHP_CPPFLAGS",
            "PHP_LDFLAGS",
            "GPG_KEYS",
            "PHP_VERSION",
            "PHP_URL",
            "PHP_ASC_URL",
            "PHP_SHA256",
        ],
    ),
    (
        &["rust"],
        &["PATH", "RUSTUP_HOME", "CARGO_HOME", "RUST_VERSION"],
    ),
    (
        &["nginx"],
        &[
            "PATH",
            "NGINX_VERSION",
            "NJS_VERSION",
            "NJS_RELEASE",
            "PKG_RELEASE",
            "DYNPKG_RELEASE",
        ],
    ),
    (
        &["httpd"],
        &[
            "PATH",
            "HTTPD_PREFIX",
            "HTTPD_VERSION",
            "HTTPD_SHA256",
            "HTTPD_PATCHES",
        ],
    ),
    (
        &["postgres"],
        &[
            "PATH",
            "GOSU_VERSION",
            "LANG",
            "PG_MAJOR",
            "PG_VERSION",
            "PGDATA",
        ],
    ),
    (
        &["redis"],
        &[
            "PATH",
            "REDIS_VERSION",
            "REDIS_DOWNLOAD_URL",
            "REDIS_DOWNLOAD_SHA",
        ],
    ),
];

/// What the lint assumes of well-known images when the caller knows nothing:
/// the ENV keys of Docker's official images (values unknown, so empty) and
/// the non-root user of distroless `:nonroot` images. `None` for
/// any other image: rules that need its config stay silent.
pub(crate) fn known_image(reference: &str) -> Option<ImageFacts> {
    let repository = repository(reference);
    let tag = reference
        .split('@')
        .next()
        .and_then(|text| text.rsplit_once(':'))
        .map(|(_, tag)| tag)
        .filter(|tag| !tag.contains('/'))
        .unwrap_or("");
    let known = KNOWN_ENVIRONMENTS
        .iter()
        .find(|(repositories, _)| repositories.contains(&repository.as_str()));
    let keys: &[&str] = match known {
        Some((_, keys)) => keys,
        None if repository.starts_with("gcr.io/distroless/") => &["PATH", "SSL_CERT_FILE"],
        None => return None,
    };
    let user = if repository.starts_with("gcr.io/distroless/") && tag.contains("nonroot") {
        "nonroot".to_string()
    } else {
        String::new()
    };
    Some(ImageFacts {
        env: keys.iter().map(|key| format!("{key}=")).collect(),
        user,
        shell: Vec::new(),
        healthcheck: false,
        platform: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_hadolint() {
        let parts = split_image("gcr.io/distroless/static:nonroot@sha256:abc");
        assert_eq!(parts.registry.as_deref(), Some("gcr.io"));
        assert_eq!(parts.name, "distroless/static");
        assert_eq!(parts.tag.as_deref(), Some("nonroot"));
        assert_eq!(parts.digest.as_deref(), Some("sha256:abc"));
        let parts = split_image("node");
        assert_eq!((parts.name.as_str(), parts.tag), ("node", None));
        let parts = split_image("${REGISTRY:-docker.io}/app:${TAG:-x}");
        assert_eq!(parts.name, "${REGISTRY:-docker.io}/app");
        assert_eq!(parts.tag.as_deref(), Some("${TAG:-x}"));
        assert_eq!(
            split_image("localhost:5000/x").tag.as_deref(),
            Some("5000/x")
        );
    }

    #[test]
    fn reference_grammar() {
        for valid in [
            "node",
            "node:20-alpine",
            "docker.io/library/node:20",
            "localhost:5000/a/b:c",
            "scratch",
            "a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(is_valid_reference(valid), "{valid}");
        }
        for invalid in [
            "",
            ":tag",
            "Node",
            "a:",
            "a::b",
            "-a",
            "a/",
            "my_registry:5000/a",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a@sha256:0123",
        ] {
            assert!(!is_valid_reference(invalid), "{invalid}");
        }
    }

    #[test]
    fn repositories() {
        assert_eq!(repository("docker.io/library/node:20"), "node");
        assert_eq!(repository("golang:1.22@sha256:x"), "golang");
        assert_eq!(
            repository("gcr.io/distroless/static:nonroot"),
            "gcr.io/distroless/static"
        );
        assert!(known_image("python:3.12").is_some());
        assert!(known_image("mycorp/base:1").is_none());
        assert_eq!(
            known_image("gcr.io/distroless/static:nonroot").map(|facts| facts.user),
            Some("nonroot".to_string())
        );
    }
}
