//! Kinds of context: tar archives on stdin in each compression, a Dockerfile
//! on stdin, git repositories (file and dumb-HTTP transports), remote files.

use std::fs;
use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Command;

use strata_context::source::{self, ContextSpec, ResolveOptions};
use strata_context::{Context, ScanOptions};
use strata_test::http::StaticServer;

fn listing(root: &Path) -> Vec<String> {
    Context::scan(root, &ScanOptions::new())
        .unwrap()
        .sorted_paths()
        .into_iter()
        .map(|l| String::from_utf8(l).unwrap())
        .collect()
}

fn sample_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents) in [
        ("Dockerfile", "FROM scratch\n"),
        ("src/main.rs", "fn main() {}\n"),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, path, contents.as_bytes())
            .unwrap();
    }
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    header.set_mode(0o777);
    builder
        .append_link(&mut header, "link", "src/main.rs")
        .unwrap();
    builder.into_inner().unwrap()
}

fn compress(kind: &str, data: &[u8]) -> Vec<u8> {
    match kind {
        "plain" => data.to_vec(),
        "gzip" => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        }
        "bzip2" => {
            let mut encoder =
                bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        }
        "xz" => {
            let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 6);
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        }
        other => panic!("{other}"),
    }
}

#[test]
fn tar_on_stdin_in_every_compression() {
    let tar = sample_tar();
    for kind in ["plain", "gzip", "bzip2", "xz"] {
        let input = Cursor::new(compress(kind, &tar));
        let resolved =
            source::resolve(&ContextSpec::Stdin, input, &ResolveOptions::default()).unwrap();
        assert!(resolved.dockerfile().is_none(), "{kind}");
        assert_eq!(
            listing(resolved.root()),
            vec!["Dockerfile", "link", "src/", "src/main.rs"],
            "{kind}"
        );
        let root = resolved.root().to_path_buf();
        drop(resolved);
        assert!(!root.exists(), "the temporary context is removed");
    }
}

#[test]
fn dockerfile_on_stdin_is_a_dockerfile_with_an_empty_context() {
    for kind in ["plain", "gzip"] {
        let text = b"FROM scratch\nCOPY . /\n";
        let input = Cursor::new(compress(kind, text));
        let resolved =
            source::resolve(&ContextSpec::Stdin, input, &ResolveOptions::default()).unwrap();
        assert_eq!(resolved.dockerfile(), Some(&text[..]), "{kind}");
        assert!(listing(resolved.root()).is_empty());
    }
}

#[test]
fn archive_entries_cannot_escape_the_context() {
    let parent = tempfile::tempdir().unwrap();
    let mut data = Vec::new();
    {
        let mut builder = tar::Builder::new(&mut data);
        let mut header = tar::Header::new_gnu();
        let name = b"../escaped";
        header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
        header.set_size(1);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, &b"x"[..]).unwrap();
        builder.finish().unwrap();
    }
    let options = ResolveOptions {
        temporary_directory: Some(parent.path().to_path_buf()),
        ..ResolveOptions::default()
    };
    let result = source::resolve(&ContextSpec::Stdin, Cursor::new(data), &options);
    if let Ok(resolved) = &result {
        assert!(listing(resolved.root()).is_empty());
    }
    assert!(!parent.path().join("escaped").exists());
}

fn git(directory: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(args)
        .current_dir(directory)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A bare repository with two commits: v1 has sub/a, main adds sub/b.
fn bare_repository(parent: &Path) -> std::path::PathBuf {
    let work = parent.join("work");
    fs::create_dir_all(work.join("sub")).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    fs::write(work.join("sub/a"), "a").unwrap();
    fs::write(work.join("top"), "top").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "one"]);
    git(&work, &["tag", "v1"]);
    fs::write(work.join("sub/b"), "b").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "two"]);
    let bare = parent.join("repo.git");
    git(parent, &["clone", "-q", "--bare", "work", "repo.git"]);
    git(&bare, &["update-server-info"]);
    bare
}

#[test]
fn git_context_over_file_transport() {
    let parent = tempfile::tempdir().unwrap();
    let bare = bare_repository(parent.path());
    let url = format!("file://{}", bare.display());
    let spec = ContextSpec::parse(&format!("{url}#v1:sub"));
    let resolved = source::resolve(&spec, std::io::empty(), &ResolveOptions::default()).unwrap();
    assert_eq!(listing(resolved.root()), vec!["a"]);
    let spec = ContextSpec::parse(&url);
    let resolved = source::resolve(&spec, std::io::empty(), &ResolveOptions::default()).unwrap();
    assert_eq!(
        listing(resolved.root()),
        vec!["sub/", "sub/a", "sub/b", "top"],
        "no .git"
    );
    let spec = ContextSpec::parse(&format!("{url}#main:../../etc"));
    let error = source::resolve(&spec, std::io::empty(), &ResolveOptions::default()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("not a directory in the repository"),
        "{error}"
    );
    let spec = ContextSpec::parse(&format!("{url}#no-such-ref"));
    let error = source::resolve(&spec, std::io::empty(), &ResolveOptions::default()).unwrap_err();
    assert!(error.to_string().contains("git fetch"), "{error}");
}

#[test]
fn git_context_over_http() {
    let parent = tempfile::tempdir().unwrap();
    bare_repository(parent.path());
    let server = StaticServer::serve(parent.path()).unwrap();
    let spec = ContextSpec::parse(&format!("{}/repo.git#v1:sub", server.url()));
    assert!(matches!(spec, ContextSpec::Git { .. }));
    let resolved = source::resolve(&spec, std::io::empty(), &ResolveOptions::default()).unwrap();
    assert_eq!(listing(resolved.root()), vec!["a"]);
}

#[test]
fn remote_tarball_and_remote_dockerfile() {
    let served = tempfile::tempdir().unwrap();
    fs::write(
        served.path().join("context.tar.gz"),
        compress("gzip", &sample_tar()),
    )
    .unwrap();
    fs::write(served.path().join("Dockerfile"), "FROM scratch\n").unwrap();
    let server = StaticServer::serve(served.path()).unwrap();
    let spec = ContextSpec::parse(&format!("{}/context.tar.gz", server.url()));
    let resolved = source::resolve(&spec, std::io::empty(), &ResolveOptions::default()).unwrap();
    assert_eq!(
        listing(resolved.root()),
        vec!["Dockerfile", "link", "src/", "src/main.rs"]
    );
    let spec = ContextSpec::parse(&format!("{}/Dockerfile", server.url()));
    let resolved = source::resolve(&spec, std::io::empty(), &ResolveOptions::default()).unwrap();
    assert_eq!(resolved.dockerfile(), Some(&b"FROM scratch\n"[..]));
    let spec = ContextSpec::parse(&format!("{}/missing.tar", server.url()));
    let error = source::resolve(&spec, std::io::empty(), &ResolveOptions::default()).unwrap_err();
    assert!(error.to_string().contains("404"), "{error}");
}
