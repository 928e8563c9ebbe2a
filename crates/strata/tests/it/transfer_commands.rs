//! `pull`, `push`, `tag`, `rmi`, `login` and `logout` against real registries.

use strata_test::{
    Registry, RegistryAuth, TestImage, TokenIssuer, needs_registry, push_index_with_skopeo,
};

use crate::harness;
use crate::harness::{Env, redact};

fn small_image(seed: u64) -> TestImage {
    TestImage::builder()
        .layer(&[("etc/hostname", format!("host-{seed}\n").as_bytes())])
        .random_layer("var/data.bin", 200_000, seed)
        .build()
}

#[test]
fn push_pull_tag_rmi_round_trip() {
    if !needs_registry("push_pull_tag_rmi_round_trip") {
        return;
    }
    let registry = Registry::start();
    let host = registry.host();
    let source = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(source.path().join("etc")).unwrap();
    std::fs::write(source.path().join("etc/motd"), "welcome\n").unwrap();
    let env = Env::new();
    let name = format!("{host}/app/one:v1");
    let id = env.ok(&[
        "import",
        "-c",
        "CMD [\"/bin/sh\"]",
        source.path().to_str().unwrap(),
        &name,
    ]);
    let id = id.trim().to_owned();
    let pushed = env.run(&["push", &name]);
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    let stdout = String::from_utf8_lossy(&pushed.stdout).into_owned();
    insta::assert_snapshot!("push_stdout", redact(&stdout, &host));
    // Layer IDs depend on the files' times: hide them.
    let stderr: Vec<String> = String::from_utf8_lossy(&pushed.stderr)
        .lines()
        .map(|line| match line.split_once(": ") {
            Some((id, rest)) if id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                format!("[LAYER]: {rest}")
            }
            _ => line.to_owned(),
        })
        .collect();
    insta::assert_snapshot!("push_stderr", redact(&stderr.join("\n"), &host));
    // skopeo sees the manifest digest push printed.
    let digest = stdout.split_whitespace().nth(2).unwrap().to_owned();
    let inspected = std::process::Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"])
        .arg(format!("docker://{name}"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&inspected.stdout).trim(), digest);

    // Again: every layer is there already.
    let again = env.run(&["push", &name]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("Layer already exists"));
    // Tag into another repository of the same registry and push: mounted.
    let other = format!("{host}/app/two:v2");
    env.ok(&["tag", &name, &other]);
    let mounted = env.run(&["push", &other]);
    let stderr = String::from_utf8_lossy(&mounted.stderr);
    assert!(stderr.contains("Mounted from app/one"), "{stderr}");

    // Remove everything, pull it back: same image ID, and the store is consistent.
    let removed = env.ok(&["rmi", &name, &other]);
    assert!(removed.contains(&format!("Deleted: {id}")), "{removed}");
    assert_eq!(env.ok(&["images", "-q"]), "");
    env.ok(&["pull", &other]);
    assert_eq!(env.ok(&["inspect", "-f", "{{.Id}}", &other]).trim(), id);
    assert_eq!(
        env.ok(&["inspect", "-f", "{{json .RepoDigests}}", &other])
            .trim(),
        format!("[\"{host}/app/two@{digest}\"]")
    );
    // Pull again: up to date.
    let again = env.run(&["pull", &other]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("Status: Image is up to date"));
    env.assert_consistent();

    // Errors.
    let missing = env.run(&["pull", &format!("{host}/app/none:v1")]);
    assert!(!missing.status.success());
    let text = redact(&String::from_utf8_lossy(&missing.stderr), &host);
    insta::assert_snapshot!("pull_missing", text);
    let bad = env.run(&["pull", "busybox:-bad"]);
    insta::assert_snapshot!("pull_bad_reference", String::from_utf8_lossy(&bad.stderr));
    let no_local = env.run(&["push", &format!("{host}/app/absent:v1")]);
    insta::assert_snapshot!(
        "push_absent",
        redact(&String::from_utf8_lossy(&no_local.stderr), &host)
    );
}

#[test]
fn pull_selects_a_platform_from_a_manifest_list() {
    if !needs_registry("pull_selects_a_platform_from_a_manifest_list") {
        return;
    }
    let registry = Registry::start();
    let host = registry.host();
    let amd64 = TestImage::builder()
        .platform("linux/amd64")
        .layer(&[("arch", b"amd64")])
        .build();
    let arm64 = TestImage::builder()
        .platform("linux/arm64")
        .layer(&[("arch", b"arm64")])
        .build();
    let name = format!("{host}/multi/app:v1");
    let index = push_index_with_skopeo(&[&amd64, &arm64], true, &name);
    let env = Env::new();
    env.ok(&["pull", "--platform", "linux/arm64", &name]);
    assert_eq!(
        env.ok(&["inspect", "-f", "{{.Architecture}} {{.Id}}", &name])
            .trim(),
        format!("arm64 {}", arm64.config_digest)
    );
    // RepoDigests name the list, as Docker's do.
    assert_eq!(
        env.ok(&["inspect", "-f", "{{index .RepoDigests 0}}", &name])
            .trim(),
        format!("{host}/multi/app@{index}")
    );
    env.ok(&["pull", "--platform", "linux/amd64", &name]);
    assert_eq!(
        env.ok(&["inspect", "-f", "{{.Architecture}}", &name])
            .trim(),
        "amd64"
    );
    let none = env.run(&["pull", "--platform", "linux/riscv64", &name]);
    assert!(!none.status.success());
    let stderr = redact(&String::from_utf8_lossy(&none.stderr), &host);
    insta::assert_snapshot!("pull_no_platform", stderr);
    // A lone OS is a platform (containerd's Parse adds the host's architecture).
    let bad = env.run(&["pull", "--platform", "linux/", &name]);
    insta::assert_snapshot!("pull_bad_platform", String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn login_logout_with_basic_auth() {
    if !needs_registry("login_logout_with_basic_auth") {
        return;
    }
    let registry = Registry::start_with(RegistryAuth::Basic {
        username: "alice".into(),
        password: "s3cret".into(),
    });
    let host = registry.host();
    let image = small_image(1);
    image.push_with_skopeo(&format!("{host}/private/app:v1"), Some(("alice", "s3cret")));
    let env = Env::new();
    let name = format!("{host}/private/app:v1");
    let denied = env.run(&["pull", &name]);
    assert!(!denied.status.success());
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(stderr.contains("unauthorized"), "{stderr}");
    let hint = format!("hint: the registry may require `strata login {host}`");
    assert!(stderr.contains(&hint), "{stderr}");
    // A build's base image: the registry's typed error reaches the CLI too.
    let context = env.context("private-base", &[("Dockerfile", &format!("FROM {name}\n"))]);
    let build = env.build(&context, None, &[]);
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(!build.status.success());
    assert!(
        stderr.contains("unauthorized") && stderr.contains(&hint),
        "{stderr}"
    );

    let wrong = env
        .command()
        .args(["login", "-u", "alice", "--password-stdin", &host])
        .write_stdin("nope\n")
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(
        !env.docker_config().join("config.json").exists(),
        "a failed login stores nothing"
    );

    let login = env
        .command()
        .args(["login", "-u", "alice", "--password-stdin", &host])
        .write_stdin("s3cret\n")
        .output()
        .unwrap();
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&login.stdout), "Login Succeeded\n");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.docker_config().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["auths"][&host]["auth"], "YWxpY2U6czNjcmV0");
    env.ok(&["pull", &name]);
    env.ok(&["tag", &name, &format!("{host}/private/copy:v1")]);
    env.ok(&["push", &format!("{host}/private/copy:v1")]);

    assert_eq!(
        env.ok(&["logout", &host]),
        format!("Removing login credentials for {host}\n")
    );
    assert_eq!(
        env.ok(&["logout", &host]),
        format!("Not logged in to {host}\n")
    );
    env.ok(&["rmi", &name]);
    assert!(!env.run(&["pull", &name]).status.success());
}

#[test]
fn token_auth_through_the_cli() {
    if !needs_registry("token_auth_through_the_cli") {
        return;
    }
    let registry = Registry::start_with(RegistryAuth::Token);
    let host = registry.host();
    let env = Env::new();
    let source = tempfile::tempdir().unwrap();
    std::fs::write(source.path().join("file"), "token").unwrap();
    let name = format!("{host}/team/app:v1");
    env.ok(&["import", source.path().to_str().unwrap(), &name]);
    let denied = env.run(&["push", &name]);
    assert!(!denied.status.success());
    let login = env
        .command()
        .args([
            "login",
            "-u",
            TokenIssuer::USERNAME,
            "--password-stdin",
            &host,
        ])
        .write_stdin(format!("{}\n", TokenIssuer::PASSWORD))
        .output()
        .unwrap();
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    env.ok(&["push", &name]);
    env.ok(&["rmi", &name]);
    env.ok(&["pull", &name]);
    let requests = registry.issuer().unwrap().requests();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("user=tokenuser") && r.contains("pull%2Cpush")),
        "{requests:#?}"
    );
}

#[test]
fn tampered_blob_is_rejected_and_nothing_is_named() {
    if !needs_registry("tampered_blob_is_rejected_and_nothing_is_named") {
        return;
    }
    let registry = Registry::start();
    let host = registry.host();
    let image = small_image(2);
    let name = format!("{host}/bad/app:v1");
    image.push_with_skopeo(&name, None);
    let layer = image.layers.last().unwrap().digest;
    let path = registry.blob_data_path(&layer);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0x55;
    std::fs::write(&path, bytes).unwrap();
    let env = Env::new();
    let output = env.run(&["pull", &name]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("digest mismatch") && stderr.contains(&layer.to_string()),
        "{stderr}"
    );
    assert_eq!(env.ok(&["images", "-q"]), "");
    assert!(
        !env.root()
            .join("images/blobs/sha256")
            .join(layer.hex())
            .exists()
    );
    env.assert_consistent();
}

#[test]
fn insecure_registries_are_marked_by_the_user() {
    if !needs_registry("insecure_registries_are_marked_by_the_user") {
        return;
    }
    // 127.0.0.2 is loopback, but only localhost and 127.0.0.1 get plain http unasked.
    let registry = Registry::start_on("127.0.0.2", RegistryAuth::Anonymous);
    let host = registry.host();
    let image = small_image(3);
    let name = format!("{host}/plain/app:v1");
    image.push_with_skopeo(&name, None);
    let env = Env::new();
    let refused = env
        .command()
        .args(["pull", &name])
        .env("STRATA_INSECURE_REGISTRIES", "")
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "https to a plain-http registry must fail"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains(&format!("https://{host}/v2/")));
    env.ok(&["pull", "--insecure-registry", &host, &name]);
    let by_env = Env::new();
    let output = by_env
        .command()
        .args(["pull", &name])
        .env("STRATA_INSECURE_REGISTRIES", format!("example.com,{host}"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn docker_schema2_images_stay_byte_exact_and_oci_tools_read_the_store() {
    if !needs_registry("docker_schema2_images_stay_byte_exact_and_oci_tools_read_the_store") {
        return;
    }
    let registry = Registry::start();
    let host = registry.host();
    let image = TestImage::builder()
        .docker_media_types()
        .layer(&[("etc/docker", b"schema 2\n")])
        .build();
    let name = format!("{host}/docker/app:v1");
    image.push_with_skopeo(&name, None);
    let env = Env::new();
    env.ok(&["pull", &name]);
    assert_eq!(
        env.ok(&[
            "inspect",
            "-f",
            "{{.Descriptor.mediaType}} {{.Descriptor.digest}}",
            &name
        ])
        .trim(),
        format!(
            "application/vnd.docker.distribution.manifest.v2+json {}",
            image.descriptor.digest
        )
    );
    // skopeo and umoci address it in the store's layout by its full name.
    let layout = env.root().join("images");
    let output = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", "--config"])
        .arg(format!("oci:{}:{name}", layout.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        output.stdout.trim_ascii(),
        image.blobs[&image.config_digest].as_slice()
    );
    let output = std::process::Command::new("umoci")
        .args(["stat", "--image"])
        .arg(format!("{}:{name}", layout.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Tagged and pushed elsewhere, the registry gets the same Docker manifest bytes.
    let copy = format!("{host}/docker/copy:v2");
    env.ok(&["tag", &name, &copy]);
    let pushed = env.ok(&["push", &copy]);
    assert!(
        pushed.contains(&image.descriptor.digest.to_string()),
        "{pushed}"
    );
    let raw = harness::skopeo_raw_bytes(&["--tls-verify=false"], &format!("docker://{copy}"));
    assert_eq!(raw, image.manifest);
    // Saved as an OCI archive, skopeo reads that too.
    let archive = env.directory.as_path().join("oci.tar");
    env.ok(&[
        "save",
        "--format",
        "oci",
        "-o",
        archive.to_str().unwrap(),
        &name,
    ]);
    let output = std::process::Command::new("skopeo")
        .args(["inspect", "--config"])
        .arg(format!("oci-archive:{}:{name}", archive.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let fresh = Env::new();
    fresh.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(
        fresh
            .ok(&["inspect", "-f", "{{.Descriptor.digest}}", &name])
            .trim(),
        image.descriptor.digest.to_string()
    );
    env.ok(&["rmi", &name, &copy]);
    env.ok(&["prune"]);
    assert!(env.ok(&["images", "-q"]).is_empty());
    assert_eq!(
        std::fs::read_dir(layout.join("blobs/sha256"))
            .unwrap()
            .count(),
        0,
        "prune leaves nothing"
    );
    env.assert_consistent();
}
