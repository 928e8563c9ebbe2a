//! Image references as Docker normalises them: `nginx` is
//! `docker.io/library/nginx:latest`, `host:port/name:tag@digest` keeps its host.

use std::fmt;
use std::str::FromStr;

use crate::Digest;

/// Docker Hub's canonical registry name.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's distribution API.
pub const DOCKER_HUB_HOST: &str = "registry-1.docker.io";
/// The tag a reference without tag or digest gets.
pub const DEFAULT_TAG: &str = "latest";

/// A normalised image reference: registry, repository, and a tag, a digest or both.
///
/// Invariant: at least one of `tag` and `digest` is set (a bare name gets
/// [`DEFAULT_TAG`]); the repository is lower-case and valid per the
/// distribution grammar.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a string is not an image reference.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid reference format {text:?}: {reason}")]
pub struct ReferenceError {
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Reference {
    /// Parses and normalises `text` the way `docker pull` does.
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        let fail = |reason: &str| ReferenceError {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(fail("empty reference"));
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                let digest: Digest =
                    digest
                        .parse()
                        .map_err(|e: crate::DigestError| ReferenceError {
                            text: text.to_owned(),
                            reason: e.to_string(),
                        })?;
                (rest, Some(digest))
            }
            None => (text, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(colon) if !rest[colon..].contains('/') => {
                (&rest[..colon], Some(rest[colon + 1..].to_owned()))
            }
            _ => (rest, None),
        };
        if let Some(tag) = &tag
            && !valid_tag(tag)
        {
            return Err(fail(
                "a tag is 1 to 128 of [A-Za-z0-9_.-] and starts with a letter, digit or _",
            ));
        }
        let (registry, repository) = split_registry(name);
        if !valid_domain(&registry) {
            return Err(fail("invalid registry host"));
        }
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_owned()
        };
        if repository.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(fail("repository name must be lowercase"));
        }
        if repository.is_empty() || !repository.split('/').all(valid_path_component) {
            return Err(fail(
                "repository path components are [a-z0-9] separated by '.', '_', '__' or '-'",
            ));
        }
        if registry.len() + 1 + repository.len() > 255 {
            return Err(fail("repository name must not be more than 255 characters"));
        }
        let tag = match (tag, digest) {
            (None, None) => Some(DEFAULT_TAG.to_owned()),
            (tag, _) => tag,
        };
        Ok(Self {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The registry's name as users write it (`docker.io`, `localhost:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The host (and port) serving the registry's API (`registry-1.docker.io` for Docker Hub).
    pub fn registry_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_HOST
        } else {
            &self.registry
        }
    }

    /// The repository path within the registry (`library/nginx`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<Digest> {
        self.digest
    }

    /// The full name without tag or digest (`docker.io/library/nginx`).
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The name as Docker prints it (`nginx`, `me/app`, `localhost:5000/app`).
    pub fn familiar_name(&self) -> String {
        if self.registry == DOCKER_HUB {
            self.repository
                .strip_prefix("library/")
                .filter(|rest| !rest.contains('/'))
                .unwrap_or(&self.repository)
                .to_owned()
        } else {
            self.name()
        }
    }

    /// The whole reference as Docker prints it (`nginx:latest`).
    pub fn familiar(&self) -> String {
        let mut text = self.familiar_name();
        self.push_suffix(&mut text);
        text
    }

    /// The same name with `tag` and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<Self, ReferenceError> {
        if !valid_tag(tag) {
            return Err(ReferenceError {
                text: tag.to_owned(),
                reason: "invalid tag".to_owned(),
            });
        }
        Ok(Self {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        })
    }

    /// The same name with `digest` and no tag.
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            tag: None,
            digest: Some(digest),
            ..self.clone()
        }
    }

    fn push_suffix(&self, text: &mut String) {
        if let Some(tag) = &self.tag {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            text.push('@');
            text.push_str(&digest.to_string());
        }
    }
}

/// Splits off the registry the way Docker does: the first component is a
/// registry when it contains `.` or `:`, is `localhost`, or has upper case.
fn split_registry(name: &str) -> (String, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            let registry = if first == "index.docker.io" {
                DOCKER_HUB
            } else {
                first
            };
            (registry.to_owned(), rest)
        }
        _ => (DOCKER_HUB.to_owned(), name),
    }
}

/// distribution's `domainAndPort`: a host name (labels of letters, digits
/// and inner `-`, joined by `.`) or a bracketed IPv6 address, then an
/// optional `:port`.
fn valid_domain(domain: &str) -> bool {
    let (host_valid, rest) = match domain.strip_prefix('[') {
        Some(inner) => match inner.split_once(']') {
            Some((address, rest)) => (
                !address.is_empty() && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':'),
                rest,
            ),
            None => return false,
        },
        None => {
            let (host, rest) = domain.split_at(domain.find(':').unwrap_or(domain.len()));
            (host.split('.').all(valid_domain_label), rest)
        }
    };
    let port_valid = rest.is_empty()
        || rest
            .strip_prefix(':')
            .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    host_valid && port_valid
}

fn valid_domain_label(label: &str) -> bool {
    !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

fn valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut index = 0;
    let mut expect_alnum = true;
    while index < bytes.len() {
        if alnum(bytes[index]) {
            expect_alnum = false;
            index += 1;
            continue;
        }
        if expect_alnum {
            return false;
        }
        let start = index;
        while index < bytes.len() && !alnum(bytes[index]) {
            index += 1;
        }
        let separator = &component[start..index];
        let dashes = separator.bytes().all(|b| b == b'-');
        if !(separator == "." || separator == "_" || separator == "__" || dashes) {
            return false;
        }
        expect_alnum = true;
    }
    !bytes.is_empty() && !expect_alnum
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Reference {
    /// The fully qualified form (`docker.io/library/nginx:latest`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = self.name();
        self.push_suffix(&mut text);
        f.write_str(&text)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn normalises_like_docker() {
        for (input, full, familiar) in [
            ("nginx", "docker.io/library/nginx:latest", "nginx:latest"),
            ("nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"),
            ("me/app", "docker.io/me/app:latest", "me/app:latest"),
            (
                "docker.io/nginx",
                "docker.io/library/nginx:latest",
                "nginx:latest",
            ),
            (
                "index.docker.io/library/nginx:x",
                "docker.io/library/nginx:x",
                "nginx:x",
            ),
            (
                "localhost:5000/a/b:v1",
                "localhost:5000/a/b:v1",
                "localhost:5000/a/b:v1",
            ),
            (
                "localhost/app",
                "localhost/app:latest",
                "localhost/app:latest",
            ),
            ("quay.io/x/y", "quay.io/x/y:latest", "quay.io/x/y:latest"),
            (
                "127.0.0.1:5000/app",
                "127.0.0.1:5000/app:latest",
                "127.0.0.1:5000/app:latest",
            ),
        ] {
            let reference = Reference::parse(input).unwrap();
            assert_eq!(reference.to_string(), full, "{input}");
            assert_eq!(reference.familiar(), familiar, "{input}");
        }
    }

    #[test]
    fn digests_and_tags() {
        let reference = Reference::parse(&format!("busybox@{D}")).unwrap();
        assert_eq!(reference.tag(), None);
        assert_eq!(reference.digest().unwrap().to_string(), D);
        assert_eq!(
            reference.to_string(),
            format!("docker.io/library/busybox@{D}")
        );
        let both = Reference::parse(&format!("host:1/x:t@{D}")).unwrap();
        assert_eq!(both.registry(), "host:1");
        assert_eq!(both.tag(), Some("t"));
        assert_eq!(both.registry_host(), "host:1");
        assert_eq!(
            Reference::parse("x").unwrap().registry_host(),
            DOCKER_HUB_HOST
        );
    }

    #[test]
    fn rejects_bad_references() {
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-x",
            "a//b",
            "a/-b",
            "a_",
            "x@sha256:abc",
            "host:5000/UPPER",
            "a:b:c",
            "my_registry:5000/app",
            "-host.io/app",
            "host.io:/app",
            "host.io:50a/app",
            "host..io/app",
            "[::1/app",
            "[]:5000/app",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let error = Reference::parse("Nginx").unwrap_err();
        assert!(error.to_string().contains("lowercase"), "{error}");
    }

    #[test]
    fn registries_follow_the_domain_grammar() {
        for good in [
            "[::1]:5000/app",
            "[fe80::1]/app",
            "my-registry.example.com/app",
            "Host.IO:443/app",
        ] {
            let reference = Reference::parse(good).unwrap();
            assert_eq!(reference.repository(), "app", "{good}");
        }
    }

    #[test]
    fn uppercase_first_component_is_a_registry() {
        let reference = Reference::parse("Host/app").unwrap();
        assert_eq!(reference.registry(), "Host");
    }
}
