//! ADD of an http URL and the cache: the step keys on the downloaded
//! content (a changed file is a miss that says so, an unchanged one a hit),
//! and with --checksum on the pinned digest, so that a cached build does not
//! need the server at all. RUN-free, but builds mount overlays: root only.

use std::fs;
use std::path::Path;

use crate::harness::Env;

/// Builds `context` with plain progress; (success, stderr).
fn build(store: &Env, context: &Path) -> (bool, String) {
    let output = store
        .command()
        .args(["build", "--progress=plain", "-t", "fetched"])
        .arg(context)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn setup(test: &str) -> Option<(Env, tempfile::TempDir, tempfile::TempDir)> {
    Some((
        Env::with_busybox(test)?,
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    ))
}

#[test]
fn an_add_url_step_keys_on_the_content() {
    let Some((store, files, context)) = setup("an_add_url_step_keys_on_the_content") else {
        return;
    };
    let server = strata_test::http::StaticServer::serve(files.path()).unwrap();
    fs::write(files.path().join("tool"), "version 1\n").unwrap();
    fs::write(
        context.path().join("Dockerfile"),
        format!(
            "FROM local/busybox:latest\nADD {}/tool /usr/local/bin/\n",
            server.url()
        ),
    )
    .unwrap();
    let (ok, first) = build(&store, context.path());
    assert!(ok, "{first}");
    assert!(
        first.contains("cache miss: first build of this step"),
        "{first}"
    );
    let (ok, again) = build(&store, context.path());
    assert!(ok, "{again}");
    assert!(
        again.contains("CACHED") && !again.contains("cache miss"),
        "{again}"
    );

    fs::write(files.path().join("tool"), "version 2\n").unwrap();
    let (ok, changed) = build(&store, context.path());
    assert!(ok, "{changed}");
    assert!(
        changed.contains(&format!("cache miss: url {}/tool changed", server.url())),
        "{changed}"
    );
    // Nothing is left in the store's temporary area.
    let leftovers: Vec<_> = fs::read_dir(store.root().join("tmp"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name())
                .collect()
        })
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A server error fails the step, naming the URL and the status.
    fs::write(
        context.path().join("Dockerfile"),
        format!(
            "FROM local/busybox:latest\nADD {}/missing /x\n",
            server.url()
        ),
    )
    .unwrap();
    let (ok, failed) = build(&store, context.path());
    assert!(!ok);
    assert!(failed.contains("invalid response status 404"), "{failed}");
    assert!(failed.contains("Dockerfile:2"), "{failed}");
}

#[test]
fn a_pinned_checksum_needs_no_server_once_cached() {
    let Some((store, files, context)) = setup("a_pinned_checksum_needs_no_server_once_cached")
    else {
        return;
    };
    let server = strata_test::http::StaticServer::serve(files.path()).unwrap();
    fs::write(files.path().join("tool"), "version 1\n").unwrap();
    let digest = strata_oci::Digest::of(b"version 1\n");
    fs::write(
        context.path().join("Dockerfile"),
        format!(
            "FROM local/busybox:latest\nADD --checksum={digest} {}/tool /tool\n",
            server.url()
        ),
    )
    .unwrap();
    let (ok, first) = build(&store, context.path());
    assert!(ok, "{first}");
    drop(server);
    let (ok, again) = build(&store, context.path());
    assert!(ok, "the cached step needed the server:\n{again}");
    assert!(
        again.contains("CACHED") && !again.contains("cache miss"),
        "{again}"
    );
}
