//! A registry for the tests that push and pull, an image to push, and
//! output with the registry's port and digests redacted.

use strata_oci::{ContainerConfig, Empty, Healthcheck};
use strata_test::TestImage;

/// An image whose config uses every field `docker inspect` shows.
pub(crate) fn full_config_image() -> TestImage {
    let config = ContainerConfig {
        user: "app".into(),
        exposed_ports: [
            ("80/tcp".to_owned(), Empty {}),
            ("53/udp".to_owned(), Empty {}),
        ]
        .into(),
        env: Some(vec!["PATH=/usr/bin:/bin".into(), "MODE=test".into()]),
        entrypoint: Some(vec!["/entry.sh".into()]),
        cmd: Some(vec!["serve".into(), "--port=80".into()]),
        volumes: [("/data".to_owned(), Empty {})].into(),
        working_dir: "/srv".into(),
        labels: [
            ("org.example.team".to_owned(), "images".to_owned()),
            ("version".to_owned(), "1.2".to_owned()),
        ]
        .into(),
        stop_signal: "SIGQUIT".into(),
        args_escaped: false,
        healthcheck: Some(Healthcheck {
            test: vec![
                "CMD-SHELL".into(),
                "curl -f http://localhost/ || exit 1".into(),
            ],
            interval: 30_000_000_000,
            timeout: 5_000_000_000,
            retries: 3,
            ..Healthcheck::default()
        }),
        on_build: vec!["RUN echo child".into()],
        shell: vec!["/bin/bash".into(), "-c".into()],
    };
    TestImage::builder()
        .platform("linux/amd64")
        .created("2024-01-02T03:04:05Z")
        .layer(&[
            ("etc/os-release", b"ID=strata-test\n"),
            ("srv/index.html", b"<h1>hello</h1>\n"),
        ])
        .layer(&[("entry.sh", b"#!/bin/sh\nexec \"$@\"\n")])
        .config(config)
        .build()
}

/// Replaces what varies between runs: the registry port, digests, relative times.
pub(crate) fn redact(text: &str, registry: &str) -> String {
    let mut out = text.replace(registry, "[REGISTRY]");
    // sha256 digests (full) and short IDs.
    let mut result = String::with_capacity(out.len());
    let bytes = out.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if out[index..].starts_with("sha256:")
            && bytes.len() >= index + 71
            && out[index + 7..index + 71]
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        {
            result.push_str("sha256:[DIGEST]");
            index += 71;
            continue;
        }
        result.push(bytes[index] as char);
        index += 1;
    }
    out = result;
    for unit in [
        "seconds", "second", "minutes", "hours", "days", "weeks", "months", "years",
    ] {
        // "2 years ago" → "[N] years ago" → "[AGO]"
        let mut replaced = String::new();
        let mut rest = out.as_str();
        while let Some(position) = rest.find(&format!(" {unit} ago")) {
            let before = &rest[..position];
            let start = before
                .rfind(|c: char| !c.is_ascii_digit())
                .map_or(0, |p| p + 1);
            replaced.push_str(&before[..start]);
            replaced.push_str("[AGO]");
            rest = &rest[position + unit.len() + 5..];
        }
        replaced.push_str(rest);
        out = replaced;
    }
    for phrase in [
        "Less than a second ago",
        "About a minute ago",
        "About an hour ago",
    ] {
        out = out.replace(phrase, "[AGO]");
    }
    out
}
