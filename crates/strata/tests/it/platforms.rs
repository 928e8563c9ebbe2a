//! Foreign platforms: `strata system binfmt --install` registers Debian's
//! qemu-user-static emulators, and `strata build --platform linux/arm64`
//! runs an arm64 image's RUN steps under emulation (the base image is
//! Debian's arm64 busybox-static, fetched by scripts/install-test-deps), with
//! BuildKit's platform build arguments; without an emulator the RUN is
//! refused naming the platform and the fix.

use crate::harness;
use crate::harness::Env;

const ENTRY: &str = "/proc/sys/fs/binfmt_misc/strata-qemu-aarch64";
const DOCKERFILE: &str = "FROM local/busybox:arm64\nARG TARGETPLATFORM TARGETARCH BUILDPLATFORM\nRUN uname -m > /arch && echo \"$TARGETPLATFORM $TARGETARCH $BUILDPLATFORM\" > /args\n";

/// A store with busybox images for arm64 and amd64, once the emulators are registered.
fn arm64(test: &str) -> Option<Env> {
    if !strata_test::should_run_as_root(test) {
        return None;
    }
    let busybox = strata_test::test_tool("packages/arm64/busybox")?;
    let guide = Env::new();
    let installed = guide.ok(&["system", "binfmt", "--install"]);
    assert!(installed.contains("linux/arm64:"), "{installed}");
    let tree = guide.work().join("arm64-root");
    std::fs::create_dir_all(tree.join("bin")).unwrap();
    std::fs::copy(&busybox, tree.join("bin/busybox")).unwrap();
    for applet in ["sh", "uname", "echo", "cat"] {
        std::os::unix::fs::symlink("busybox", tree.join("bin").join(applet)).unwrap();
    }
    guide.ok(&[
        "import",
        "--platform",
        "linux/arm64",
        tree.to_str().unwrap(),
        "local/busybox:arm64",
    ]);
    // The host's busybox (these tests run on amd64 hosts) as the amd64 base.
    let amd64 = strata_test::busybox_rootfs();
    guide.ok(&[
        "import",
        "--platform",
        "linux/amd64",
        amd64.to_str().unwrap(),
        "local/busybox:amd64",
    ]);
    Some(guide)
}

#[test]
fn an_arm64_build_runs_its_steps_under_emulation() {
    let _lock = lock();
    let Some(guide) = arm64("an_arm64_build_runs_its_steps_under_emulation") else {
        return;
    };
    let info = guide.ok(&["system", "info"]);
    assert!(
        info.contains("linux/arm64: emulated by /usr/bin/qemu-aarch64-static"),
        "{info}"
    );

    let context = guide.context("arm64", &[("Dockerfile", DOCKERFILE)]);
    let out = guide.work().join("out");
    let output = format!("type=local,dest={}", out.display());
    let progress = guide.build_ok(
        &context,
        None,
        &[
            "--platform",
            "linux/arm64",
            "-t",
            "app:arm64",
            "-o",
            "type=image",
            "-o",
            &output,
        ],
    );
    // The checks expect the build's platform, which the base has.
    assert!(!progress.contains("InvalidBaseImagePlatform"), "{progress}");
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    assert_eq!(read("arch"), "aarch64\n");
    let host = strata_oci::Platform::host();
    assert_eq!(read("args"), format!("linux/arm64 arm64 {host}\n"));
    let inspected = guide.inspect("app:arm64");
    assert_eq!(inspected["Architecture"], "arm64");
    assert_eq!(inspected["Os"], "linux");
}

#[test]
fn a_steps_cache_key_holds_its_platform() {
    let _lock = lock();
    let Some(guide) = arm64("a_steps_cache_key_holds_its_platform") else {
        return;
    };
    // On scratch, the same COPY is the same parent on every platform: only
    // the RUN's platform tells the two builds apart.
    let busybox = strata_test::busybox_rootfs().join("bin/busybox");
    let context = guide.context(
        "scratch-run",
        &[(
            "Dockerfile",
            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"true\"]\n",
        )],
    );
    std::fs::copy(busybox, context.join("busybox")).unwrap();
    guide.build_ok(&context, None, &[]);
    let again = guide.build_ok(&context, None, &[]);
    assert_eq!(again.matches("CACHED").count(), 2, "COPY and RUN: {again}");
    let arm64 = guide.build_ok(&context, None, &["--platform", "linux/arm64"]);
    assert_eq!(arm64.matches("CACHED").count(), 1, "only the COPY: {arm64}");
}

#[test]
fn a_foreign_run_without_an_emulator_names_the_platform_and_the_fix() {
    let _lock = lock();
    let Some(guide) = arm64("a_foreign_run_without_an_emulator_names_the_platform_and_the_fix")
    else {
        return;
    };
    let context = guide.context("arm64-off", &[("Dockerfile", DOCKERFILE)]);
    // Turned off for this build only (the other test, which needs it on,
    // waits on the same lock).
    std::fs::write(ENTRY, "0").unwrap();
    let output = guide.build(&context, None, &["--platform", "linux/arm64", "--no-cache"]);
    std::fs::write(ENTRY, "1").unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("Dockerfile:3:1: error: cannot run linux/arm64 programs on this")
            && stderr.contains("strata system binfmt --install"),
        "{stderr}"
    );
}

/// docker (a reference, not a requirement: without a running daemon this
/// says SKIPPED even under CI) pulls each platform of the pushed index.
fn docker_pulls_each_platform(name: &str) {
    let docker = |args: &[&str]| std::process::Command::new("docker").args(args).output();
    if !harness::docker_daemon("docker pull --platform") {
        return;
    }
    for architecture in ["amd64", "arm64"] {
        let pulled = docker(&[
            "pull",
            "-q",
            "--platform",
            &format!("linux/{architecture}"),
            name,
        ])
        .unwrap();
        assert!(
            pulled.status.success(),
            "{}",
            String::from_utf8_lossy(&pulled.stderr)
        );
        let inspected =
            docker(&["image", "inspect", "--format", "{{.Architecture}}", name]).unwrap();
        let _ = docker(&["rmi", name]);
        assert_eq!(
            String::from_utf8_lossy(&inspected.stdout).trim(),
            architecture
        );
    }
}

/// Serialises the tests that register, use, or turn off the arm64 entry.
fn lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn two_platforms_make_one_index_pushed_and_pulled_back_per_platform() {
    let _lock = lock();
    let test = "two_platforms_make_one_index_pushed_and_pulled_back_per_platform";
    let Some(guide) = arm64(test) else {
        return;
    };
    if !strata_test::needs_registry(test) {
        return;
    }
    // The base per platform, as a Dockerfile names it with TARGETARCH.
    let dockerfile = "ARG TARGETARCH\nFROM local/busybox:$TARGETARCH\nARG TARGETPLATFORM\nRUN uname -m > /arch && echo $TARGETPLATFORM > /platform\n";
    let context = guide.context("multi", &[("Dockerfile", dockerfile)]);
    let registry = strata_test::Registry::start();
    let name = format!("{}/multi/app:1", registry.host());
    guide.build_ok(
        &context,
        None,
        &[
            "--platform",
            "linux/amd64,linux/arm64",
            "-t",
            &name,
            "--push",
        ],
    );

    let index = harness::skopeo_raw(&["--tls-verify=false"], &format!("docker://{name}"));
    // A push's default media types are Docker's (BuildKit's
    // oci-mediatypes=false): a manifest list of schema 2 manifests.
    assert_eq!(
        index["mediaType"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    assert_eq!(
        index["manifests"][0]["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    let platforms: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);

    // Pulled back per platform into an empty store: each image its platform's.
    for (platform, machine) in [("linux/amd64", "x86_64"), ("linux/arm64", "aarch64")] {
        let other = Env::new();
        other.ok(&["pull", "--platform", platform, &name]);
        let inspected = other.inspect(&name);
        assert_eq!(
            format!("linux/{}", inspected["Architecture"].as_str().unwrap()),
            platform
        );
        assert_eq!(
            other.read(&name, "arch"),
            format!("{machine}\n"),
            "{platform}"
        );
        assert_eq!(other.read(&name, "platform"), format!("{platform}\n"));
    }

    docker_pulls_each_platform(&name);

    // All platforms at once: each one reachable with --platform.
    let all = Env::new();
    all.ok(&["pull", "--all-platforms", &name]);
    let architecture = |platform: &str| {
        let args = [
            "inspect",
            "-f",
            "{{.Architecture}}",
            "--platform",
            platform,
            &name,
        ];
        all.ok(&args).trim().to_owned()
    };
    assert_eq!(architecture("linux/arm64"), "arm64");
    assert_eq!(architecture("linux/amd64"), "amd64");
    let history = all.ok(&["history", "--platform", "linux/arm64", "--no-trunc", &name]);
    assert!(history.contains("uname -m"), "{history}");
    let missing = all
        .strata()
        .args(["inspect", "--platform", "linux/s390x", &name])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        !missing.status.success() && stderr.contains("linux/s390x"),
        "{stderr}"
    );
    // run --platform: the arm64 image, under emulation.
    let ran = all.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--platform",
        "linux/arm64",
        &name,
        "cat",
        "/arch",
    ]);
    assert_eq!(ran, "aarch64\n");
    // save --platform: that platform's image.
    let archive = all.work().join("arm64.tar");
    all.ok(&[
        "save",
        "--platform",
        "linux/arm64",
        "-o",
        archive.to_str().unwrap(),
        &name,
    ]);
    let member = |name: &str| -> serde_json::Value {
        let output = std::process::Command::new("tar")
            .arg("-xOf")
            .arg(&archive)
            .arg(name)
            .output()
            .unwrap();
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let manifest = member("manifest.json");
    assert_eq!(
        member(manifest[0]["Config"].as_str().unwrap())["architecture"],
        "arm64"
    );
}

#[test]
fn a_build_platform_stage_cross_compiles_for_the_target() {
    let _lock = lock();
    let Some(guide) = arm64("a_build_platform_stage_cross_compiles_for_the_target") else {
        return;
    };
    let host = strata_oci::Platform::host();
    // The guide's pattern: compile on the build platform, run on the target's.
    let dockerfile = "FROM --platform=$BUILDPLATFORM local/busybox:amd64 AS build\nARG TARGETARCH\nRUN echo \"built on $(uname -m) for $TARGETARCH\" > /out\nFROM local/busybox:arm64\nCOPY --from=build /out /out\nRUN uname -m >> /out\n";
    let context = guide.context("cross", &[("Dockerfile", dockerfile)]);
    let out = guide.work().join("cross-out");
    let output = format!("type=local,dest={}", out.display());
    guide.build_ok(
        &context,
        None,
        &["--platform", "linux/arm64", "-o", &output],
    );
    let machine = match host.architecture.as_str() {
        "amd64" => "x86_64",
        other => other,
    };
    assert_eq!(
        std::fs::read_to_string(out.join("out")).unwrap(),
        format!("built on {machine} for arm64\naarch64\n")
    );
}

#[test]
fn several_platforms_export_an_oci_index_and_a_directory_per_platform() {
    let _lock = lock();
    let test = "several_platforms_export_an_oci_index_and_a_directory_per_platform";
    let Some(guide) = arm64(test) else {
        return;
    };
    let dockerfile = "ARG TARGETARCH\nFROM local/busybox:$TARGETARCH\nRUN uname -m > /arch\n";
    let context = guide.context("multi-out", &[("Dockerfile", dockerfile)]);
    let archive = guide.work().join("multi.tar");
    let local = guide.work().join("multi-local");
    let (oci, dir) = (
        format!("type=oci,dest={}", archive.display()),
        format!("type=local,dest={}", local.display()),
    );
    guide.build_ok(
        &context,
        None,
        &[
            "--platform",
            "linux/amd64,linux/arm64",
            "-o",
            &oci,
            "-o",
            &dir,
        ],
    );
    // BuildKit's split of a local export: one directory per platform.
    assert_eq!(
        std::fs::read_to_string(local.join("linux_arm64/arch")).unwrap(),
        "aarch64\n"
    );
    assert_eq!(
        std::fs::read_to_string(local.join("linux_amd64/arch")).unwrap(),
        "x86_64\n"
    );
    let index = harness::skopeo_raw(&[], &format!("oci-archive:{}", archive.display()));
    let architectures: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(architectures, ["amd64", "arm64"]);
    // docker's classic store holds no index: buildx's message.
    let docker = guide.build(
        &context,
        None,
        &[
            "--platform",
            "linux/amd64,linux/arm64",
            "-o",
            "type=docker,dest=x.tar",
        ],
    );
    let stderr = String::from_utf8_lossy(&docker.stderr);
    assert!(
        !docker.status.success()
            && stderr
                .contains("docker exporter does not currently support exporting manifest lists"),
        "{stderr}"
    );
}
