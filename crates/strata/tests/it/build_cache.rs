//! `--cache-to` / `--cache-from`: two stores that share nothing but a
//! registry (Debian's docker-registry on a loopback port). The second
//! builds with every step cached and the same image; an edited source
//! re-runs only what follows it; `mode=max` covers intermediate stages and
//! `mode=min` does not; `type=local` and `type=inline`; a layer whose blob
//! does not match its digest is rebuilt, never used; an unreachable cache
//! is a warning on import and an error on export (unless `ignore-error`);
//! an export killed half-way leaves the previous cache usable.

use std::path::Path;

use strata_test::{Registry, needs_registry};

use crate::harness::Env;

const DOCKERFILE: &str = "\
FROM {BASE} AS builder
RUN echo built > /out.txt
FROM {BASE}
WORKDIR /app
COPY src/ ./src/
RUN cat src/* > all.txt
COPY --from=builder /out.txt /app/out.txt
";

/// A registry holding the busybox base image, and a context using it.
struct Fixture {
    registry: Registry,
    context: tempfile::TempDir,
    /// The machine that built first (its store has the base image).
    first: Env,
}

impl Fixture {
    fn new(test: &str) -> Option<Self> {
        if !needs_registry(test) {
            return None;
        }
        let first = Env::with_busybox(test)?;
        let registry = Registry::start();
        let base = format!("{}/base/busybox:latest", registry.host());
        first.ok(&["tag", "local/busybox:latest", &base]);
        first.ok(&["push", &base]);
        let context = tempfile::tempdir().unwrap();
        let dockerfile = DOCKERFILE.replace("{BASE}", &base);
        std::fs::write(context.path().join("Dockerfile"), dockerfile).unwrap();
        std::fs::create_dir(context.path().join("src")).unwrap();
        std::fs::write(context.path().join("src/a.txt"), "one\n").unwrap();
        std::fs::write(context.path().join("src/b.txt"), "two\n").unwrap();
        Some(Self {
            registry,
            context,
            first,
        })
    }

    fn reference(&self, name: &str) -> String {
        format!("{}/cache/{name}", self.registry.host())
    }

    fn build(&self, env: &Env, args: &[&str]) -> std::process::Output {
        self.build_from(env, self.context.path(), args)
    }

    fn build_from(&self, env: &Env, context: &Path, args: &[&str]) -> std::process::Output {
        // `-t app` unless the test names the image itself.
        let tag: &[&str] = if args.contains(&"-t") {
            &[]
        } else {
            &["-t", "app"]
        };
        env.command()
            .args(["build", "--progress=plain"])
            .args(tag)
            .args(args)
            .arg(context)
            .output()
            .unwrap()
    }

    /// Builds; asserts success; returns the progress output.
    fn build_ok(&self, env: &Env, args: &[&str]) -> String {
        let output = self.build(env, args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "build {args:?} failed:\n{stderr}");
        stderr
    }
}

/// The names of the steps shown as `CACHED`, and of those that ran.
fn steps(progress: &str) -> (Vec<String>, Vec<String>) {
    let mut names = std::collections::HashMap::new();
    let (mut cached, mut ran) = (Vec::new(), Vec::new());
    for line in progress.lines() {
        let Some((vertex, rest)) = line.split_once(' ') else {
            continue;
        };
        if rest.starts_with('[') && !rest.contains("] FROM ") && !rest.starts_with("[internal]") {
            names.insert(vertex.to_owned(), rest.to_owned());
        } else if let Some(name) = names.get(vertex) {
            if rest == "CACHED" {
                cached.push(name.clone());
            } else if rest.starts_with("DONE") {
                ran.push(name.clone());
            }
        }
    }
    (cached, ran)
}

fn image_id(env: &Env) -> String {
    env.ok(&["inspect", "--format", "{{.Id}}", "app"])
        .trim()
        .to_owned()
}

fn has_blob(env: &Env, digest: &strata_oci::Digest) -> bool {
    env.root()
        .join("images/blobs/sha256")
        .join(digest.hex())
        .is_file()
}

#[test]
fn a_registry_cache_serves_a_second_machine_the_same_image() {
    let Some(fixture) = Fixture::new("a_registry_cache_serves_a_second_machine_the_same_image")
    else {
        return;
    };
    let cache = fixture.reference("app");
    let exported = fixture.build_ok(
        &fixture.first,
        &["--cache-to", &format!("type=registry,ref={cache},mode=max")],
    );
    assert!(
        exported.contains("exporting cache to registry"),
        "{exported}"
    );
    assert!(
        exported.contains("writing cache image manifest sha256:"),
        "{exported}"
    );

    // Machine B: an empty store, and the context checked out elsewhere
    // (other paths, inodes and times: keys hash content only).
    let second = Env::new();
    let checkout = tempfile::tempdir().unwrap();
    let copied = std::process::Command::new("cp")
        .args(["-r", &format!("{}/.", fixture.context.path().display())])
        .arg(checkout.path())
        .status()
        .unwrap();
    assert!(copied.success());
    let output = fixture.build_from(&second, checkout.path(), &["--cache-from", &cache]);
    let progress = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{progress}");
    let (cached, ran) = steps(&progress);
    assert!(
        ran.is_empty(),
        "steps ran on a fully cached build: {ran:?}\n{progress}"
    );
    assert_eq!(cached.len(), 5, "{progress}");
    assert_eq!(image_id(&second), image_id(&fixture.first));
    second.assert_consistent();
    // Lazy: the builder stage's layer was never needed, so never fetched.
    fixture.build_ok(&fixture.first, &["--target", "builder", "-t", "builder"]);
    let layers = fixture
        .first
        .ok(&["inspect", "--format", "{{json .RootFS.Layers}}", "builder"]);
    let layers: Vec<String> = serde_json::from_str(&layers).unwrap();
    let builder_layer: strata_oci::Digest = layers.last().unwrap().parse().unwrap();
    assert!(!has_blob(&second, &builder_layer));

    // The next build on B needs no import: the layers are its own now.
    let again = fixture.build_ok(&second, &[]);
    assert_eq!(steps(&again).1, Vec::<String>::new(), "{again}");

    // Machine C after an edit: what follows the edited COPY runs, the rest is cached.
    std::fs::write(fixture.context.path().join("src/a.txt"), "three\n").unwrap();
    let third = Env::new();
    let progress = fixture.build_ok(&third, &["--cache-from", &cache]);
    let (cached, ran) = steps(&progress);
    assert_eq!(
        ran,
        [
            "[stage-1 3/5] COPY src/ ./src/",
            "[stage-1 4/5] RUN cat src/* > all.txt",
            "[stage-1 5/5] COPY --from=builder /out.txt /app/out.txt",
        ],
        "{progress}"
    );
    assert!(cached.contains(&"[builder 2/2] RUN echo built > /out.txt".to_owned()));
    assert!(cached.contains(&"[stage-1 2/5] WORKDIR /app".to_owned()));
    let all = third.ok(&["run", "--rm", "app", "cat", "/app/all.txt", "/app/out.txt"]);
    assert_eq!(all, "three\ntwo\nbuilt\n");
    // C needed the builder's layer (a COPY --from ran).
    assert!(has_blob(&third, &builder_layer));
}

#[test]
fn mode_max_covers_intermediate_stages_and_mode_min_does_not() {
    let Some(fixture) = Fixture::new("mode_max_covers_intermediate_stages_and_mode_min_does_not")
    else {
        return;
    };
    let (max, min) = (fixture.reference("max"), fixture.reference("min"));
    fixture.build_ok(
        &fixture.first,
        &[
            "--cache-to",
            &format!("type=registry,ref={max},mode=max"),
            "--cache-to",
            &format!("type=registry,ref={min}"),
        ],
    );
    let builder = "[builder 2/2] RUN echo built > /out.txt".to_owned();
    let with_max = fixture.build_ok(&Env::new(), &["--target", "builder", "--cache-from", &max]);
    assert_eq!(
        steps(&with_max).0,
        std::slice::from_ref(&builder),
        "{with_max}"
    );
    let with_min = fixture.build_ok(&Env::new(), &["--target", "builder", "--cache-from", &min]);
    assert_eq!(
        steps(&with_min).1,
        std::slice::from_ref(&builder),
        "{with_min}"
    );
    // mode=min still serves the final image whole.
    let whole = fixture.build_ok(&Env::new(), &["--cache-from", &min]);
    assert_eq!(steps(&whole).1, Vec::<String>::new(), "{whole}");

    // A CI runner imports one cache and exports another (`mode=max`): the
    // builder's layer, which it never fetched, is mounted from the imported
    // repository, and the new cache serves the builder stage again.
    let next = fixture.reference("next");
    let runner = Env::new();
    let exported = fixture.build_ok(
        &runner,
        &[
            "--cache-from",
            &max,
            "--cache-to",
            &format!("type=registry,ref={next},mode=max"),
        ],
    );
    assert_eq!(steps(&exported).1, Vec::<String>::new(), "{exported}");
    let from_next = fixture.build_ok(&Env::new(), &["--target", "builder", "--cache-from", &next]);
    assert_eq!(
        steps(&from_next).0,
        std::slice::from_ref(&builder),
        "{from_next}"
    );
}

#[test]
fn local_and_inline_caches_serve_another_store() {
    let Some(fixture) = Fixture::new("local_and_inline_caches_serve_another_store") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let dest = directory.path().join("cache");
    let inline = format!("{}/app/inline:1", fixture.registry.host());
    fixture.build_ok(
        &fixture.first,
        &[
            "-t",
            &inline,
            "--push",
            "--cache-to",
            &format!("type=local,dest={},mode=max", dest.display()),
            "--cache-to",
            "type=inline",
        ],
    );
    // An OCI layout: index.json names the cache by tag.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "latest"
    );
    assert!(dest.join("oci-layout").is_file());

    let local = Env::new();
    // The base image comes from the registry; the steps from the directory.
    let progress = fixture.build_ok(
        &local,
        &[
            "--cache-from",
            &format!("type=local,src={}", dest.display()),
        ],
    );
    assert_eq!(steps(&progress).1, Vec::<String>::new(), "{progress}");
    // The same layers (the IDs differ: the first image carries its inline cache).
    let layers = "{{json .RootFS.Layers}}";
    assert_eq!(
        local.ok(&["inspect", "--format", layers, "app"]),
        fixture.first.ok(&["inspect", "--format", layers, &inline])
    );

    // The inline cache rides in the pushed image's configuration.
    let from_image = Env::new();
    let progress = fixture.build_ok(
        &from_image,
        &[
            "-t",
            &inline,
            "--cache-from",
            &inline,
            "--cache-to",
            "type=inline",
        ],
    );
    assert_eq!(steps(&progress).1, Vec::<String>::new(), "{progress}");
    assert_eq!(
        from_image.ok(&["inspect", "--format", "{{.Id}}", &inline]),
        fixture
            .first
            .ok(&["inspect", "--format", "{{.Id}}", &inline])
    );
}

#[test]
fn a_corrupt_cache_blob_is_rebuilt_and_an_unreachable_cache_is_a_warning() {
    let Some(fixture) =
        Fixture::new("a_corrupt_cache_blob_is_rebuilt_and_an_unreachable_cache_is_a_warning")
    else {
        return;
    };
    let cache = fixture.reference("app");
    fixture.build_ok(
        &fixture.first,
        &["--cache-to", &format!("type=registry,ref={cache}")],
    );
    // Every layer blob of the cache replaced by other bytes of the same size.
    let manifest: serde_json::Value = serde_json::from_str(&ureq_get(&format!(
        "http://{}/v2/cache/app/manifests/latest",
        fixture.registry.host()
    )))
    .unwrap();
    for layer in manifest["layers"].as_array().unwrap() {
        let digest: strata_oci::Digest = layer["digest"].as_str().unwrap().parse().unwrap();
        let path = fixture.registry.blob_data_path(&digest);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    }
    let second = Env::new();
    let progress = fixture.build_ok(&second, &["--cache-from", &cache]);
    assert!(progress.contains("not taken from the cache"), "{progress}");
    let (cached, ran) = steps(&progress);
    assert!(
        cached.is_empty(),
        "a corrupt layer was used: {cached:?}\n{progress}"
    );
    // mode=min: the builder stage was not in the cache; it ran when the
    // COPY --from that should have spared it did.
    assert_eq!(ran.len(), 5, "{progress}");
    assert_eq!(
        second.ok(&["run", "--rm", "app", "cat", "/app/out.txt"]),
        "built\n"
    );
    second.assert_consistent();

    // Nothing listens on port 1.
    let progress = fixture.build_ok(&Env::new(), &["--cache-from", "127.0.0.1:1/cache/app"]);
    assert!(
        progress.contains("WARNING: failed to import cache from 127.0.0.1:1/cache/app:latest"),
        "{progress}"
    );
    let failed = fixture.build(
        &fixture.first,
        &["--cache-to", "type=registry,ref=127.0.0.1:1/c"],
    );
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("failed to export cache to 127.0.0.1:1/c:latest"),
        "{stderr}"
    );
    let ignored = fixture.build_ok(
        &fixture.first,
        &[
            "--cache-to",
            "type=registry,ref=127.0.0.1:1/c,ignore-error=true",
        ],
    );
    assert!(ignored.contains("failed to export cache"), "{ignored}");
}

#[test]
fn a_killed_local_export_leaves_the_previous_cache_usable() {
    let Some(fixture) = Fixture::new("a_killed_local_export_leaves_the_previous_cache_usable")
    else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let dest = directory.path().join("cache");
    let to = format!("type=local,dest={},mode=max", dest.display());
    fixture.build_ok(&fixture.first, &["--cache-to", &to]);
    // Rebuilds that write a new cache, killed at different moments.
    for (round, delay) in [20u64, 80, 150, 300].into_iter().enumerate() {
        std::fs::write(
            fixture.context.path().join("src/a.txt"),
            format!("{round}\n"),
        )
        .unwrap();
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"))
            .env("STRATA_ROOT", fixture.first.root())
            .args(["build", "--progress=plain", "-t", "app", "--cache-to", &to])
            .arg(fixture.context.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let fresh = Env::new();
        let from = format!("type=local,src={}", dest.display());
        let progress = fixture.build_ok(&fresh, &["--cache-from", &from]);
        assert!(
            !progress.contains("failed to import"),
            "round {round}:\n{progress}"
        );
        // The cache read is whole: WORKDIR (unchanged by any edit) is served from it.
        assert!(
            steps(&progress)
                .0
                .contains(&"[stage-1 2/5] WORKDIR /app".to_owned()),
            "round {round}:\n{progress}"
        );
        assert_layout_whole(&dest);
    }
}

/// Every blob an OCI layout's index reaches is present and whole.
fn assert_layout_whole(directory: &Path) {
    let blob = |digest: &str| {
        let path = directory
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(strata_oci::Digest::of(&bytes).to_string(), digest);
        bytes
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(directory.join("index.json")).unwrap()).unwrap();
    for entry in index["manifests"].as_array().unwrap() {
        let manifest: serde_json::Value =
            serde_json::from_slice(&blob(entry["digest"].as_str().unwrap())).unwrap();
        blob(manifest["config"]["digest"].as_str().unwrap());
        for layer in manifest["layers"].as_array().unwrap() {
            blob(layer["digest"].as_str().unwrap());
        }
    }
}

/// A GET that asks for OCI manifests.
fn ureq_get(url: &str) -> String {
    let output = std::process::Command::new("curl")
        .args([
            "-fsS",
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
            url,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "curl {url}");
    String::from_utf8(output.stdout).unwrap()
}
