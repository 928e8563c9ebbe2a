//! `strata build`'s flags for RUN steps, as `docker buildx build` has them:
//! each one's effect seen from inside a step, nothing of it in the image
//! (config, history, layers), and buildx's and BuildKit's words for bad values.

use std::fs;
use std::path::Path;

use crate::harness::{Env, Saved};

/// A context holding `dockerfile`.
fn context(dockerfile: &str) -> tempfile::TempDir {
    let context = tempfile::tempdir().unwrap();
    fs::write(context.path().join("Dockerfile"), dockerfile).unwrap();
    context
}

/// Builds `context` as `name` with `flags`; the output.
fn build(env: &Env, name: &str, flags: &[&str], context: &Path) -> std::process::Output {
    env.build(context, None, &[&["-t", name], flags].concat())
}

/// Like [`build`], asserting success; stderr (the progress).
fn build_ok(env: &Env, name: &str, flags: &[&str], context: &Path) -> String {
    let output = build(env, name, flags, context);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "build {flags:?} failed:\n{stderr}");
    stderr
}

/// The build's error output, asserting failure.
fn build_error(env: &Env, flags: &[&str], context: &Path) -> String {
    let output = build(env, "failing", flags, context);
    assert!(!output.status.success(), "build {flags:?} succeeded");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn secrets_from_the_environment_reach_the_step_only() {
    let Some(env) = Env::with_busybox("secrets_from_the_environment_reach_the_step_only") else {
        return;
    };
    let context = context(
        "FROM local/busybox:latest\n\
         RUN --mount=type=secret,id=tok,env=TOKEN printf %s $TOKEN > /dev/null; printf %s \"$TOKEN\" | wc -c > /env-length\n\
         RUN --mount=type=secret,id=other wc -c < /run/secrets/other > /file-length\n\
         RUN --mount=type=secret,id=tok,env=BOTH,target=/s printf %s \"$BOTH\" | cmp - /s && echo same > /both\n\
         RUN --mount=type=secret,id=STRATA_SECRET_BY_ID,env=BY_ID printf %s \"$BY_ID\" | wc -c > /by-id-length\n",
    );
    let progress = env
        .command()
        .env("STRATA_SECRET_A", "env-s3cr3t-value\n")
        .env("STRATA_SECRET_B", "other-s3cr3t\n")
        .env("STRATA_SECRET_BY_ID", "by-id-s3cr3t")
        .args(["build", "--progress=plain", "-t", "env-secrets"])
        .args(["--secret", "id=tok,env=STRATA_SECRET_A"])
        .args(["--secret", "type=env,id=other,src=STRATA_SECRET_B"])
        .args(["--secret", "id=STRATA_SECRET_BY_ID"])
        .arg(context.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&progress.stderr);
    assert!(progress.status.success(), "{stderr}");
    // BuildKit masks a secret's variable in the step's name.
    assert!(stderr.contains("printf %s **** > /dev/null"), "{stderr}");
    assert!(!stderr.contains("s3cr3t"), "{stderr}");
    let saved = Saved::of(&env, "env-secrets", &[]);
    // The whole value, as BuildKit gives it (no newline trimmed).
    assert_eq!(saved.file("env-length").trim(), "17");
    assert_eq!(saved.file("file-length").trim(), "13");
    assert_eq!(saved.file("by-id-length").trim(), "12");
    for leaked in ["s3cr3t", "STRATA_SECRET"] {
        assert!(!saved.mentions(leaked), "{leaked} reached the image");
    }
    assert!(
        !saved
            .entries()
            .iter()
            .any(|e| e.starts_with("run/secrets/") && e.len() > 12)
    );
    assert_eq!(saved.file("both"), "same\n");
    assert!(!saved.rootfs().join("s").exists());
}

#[test]
fn secret_errors_are_buildx_and_buildkits() {
    let Some(env) = Env::with_busybox("secret_errors_are_buildx_and_buildkits") else {
        return;
    };
    let context = context(
        "FROM local/busybox:latest\nRUN --mount=type=secret,id=absent,required,env=X true\n",
    );
    assert!(build_error(&env, &[], context.path()).contains("secret absent: not found"));
    for (flag, message) in [
        ("type=ssh,id=a", "unsupported secret type \"ssh\""),
        ("id=a,nope", "invalid field 'nope' must be a key=value pair"),
        ("id=a,mode=1", "unexpected key 'mode' in 'mode=1'"),
        ("env=HOME", "secret missing ID"),
        (
            "id=a,src=/nonexistent",
            "failed to stat /nonexistent: stat /nonexistent: no such file or directory",
        ),
    ] {
        let stderr = build_error(&env, &["--secret", flag], context.path());
        assert!(stderr.contains(message), "--secret {flag}: {stderr}");
    }
}

#[test]
fn added_hosts_are_in_the_steps_hosts_file_only() {
    let Some(env) = Env::with_busybox("added_hosts_are_in_the_steps_hosts_file_only") else {
        return;
    };
    let context = context("FROM local/busybox:latest\nRUN cat /etc/hosts > /hosts-seen\n");
    build_ok(
        &env,
        "hosts",
        &[
            "--add-host",
            "db:10.1.2.3",
            "--add-host",
            "cache=10.1.2.4,gw:host-gateway",
        ],
        context.path(),
    );
    let saved = Saved::of(&env, "hosts", &[]);
    let hosts = saved.file("hosts-seen");
    assert!(
        hosts.starts_with("127.0.0.1\tlocalhost buildkitsandbox\n"),
        "{hosts}"
    );
    assert!(
        hosts.ends_with("10.1.2.3\tdb\n10.1.2.4\tcache\n127.0.0.1\tgw\n"),
        "{hosts}"
    );
    assert!(!saved.entries().iter().any(|e| e.ends_with("etc/hosts")));
    assert!(!saved.config_text().contains("10.1.2.3"));
    let stderr = build_error(&env, &["--add-host", "db"], context.path());
    assert!(stderr.contains("invalid host db"), "{stderr}");
    let stderr = build_error(&env, &["--add-host", "db:10.1.2"], context.path());
    assert!(stderr.contains("invalid host db:10.1.2"), "{stderr}");
}

#[test]
fn ulimits_shm_size_and_cgroup_parent_apply_to_run_steps() {
    let Some(env) = Env::with_busybox("ulimits_shm_size_and_cgroup_parent_apply_to_run_steps")
    else {
        return;
    };
    let context = context(
        "FROM local/busybox:latest\nRUN cat /proc/self/limits > /limits; df -k /dev/shm > /shm\n",
    );
    build_ok(&env, "defaults", &[], context.path());
    let defaults = Saved::of(&env, "defaults", &[]);
    assert!(
        defaults.file("shm").contains(" 65536 "),
        "{}",
        defaults.file("shm")
    );
    build_ok(
        &env,
        "limited",
        &[
            "--ulimit",
            "nofile=512:1024",
            "--ulimit",
            "nproc=100",
            "--shm-size",
            "32m",
            "--cgroup-parent",
            "strata-test.slice",
        ],
        context.path(),
    );
    let limited = Saved::of(&env, "limited", &[]);
    let limits = limited.file("limits");
    let row = |name: &str| -> Vec<String> {
        let line = limits.lines().find(|l| l.starts_with(name)).unwrap();
        line[name.len()..]
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(row("Max open files")[..2], ["512", "1024"]);
    assert_eq!(row("Max processes")[..2], ["100", "100"]);
    // Limits not given keep the defaults.
    assert_eq!(row("Max core file size")[..2], ["unlimited", "unlimited"]);
    assert!(
        limited.file("shm").contains(" 32768 "),
        "{}",
        limited.file("shm")
    );
    assert!(!limited.mentions("nofile") && !limited.mentions("strata-test.slice"));
    for (flags, message) in [
        (
            ["--ulimit", "nofile=2048:1024"],
            "invalid argument \"nofile=2048:1024\" for \"--ulimit\" flag: ulimit soft limit must be less than or equal to hard limit: 2048 > 1024",
        ),
        (
            ["--ulimit", "open=1"],
            "invalid argument \"open=1\" for \"--ulimit\" flag: invalid ulimit type: open",
        ),
        (
            ["--shm-size", "64q"],
            "invalid argument \"64q\" for \"--shm-size\" flag: invalid suffix: 'q'",
        ),
    ] {
        let stderr = build_error(&env, &flags, context.path());
        assert!(stderr.contains(message), "{flags:?}: {stderr}");
    }
}

#[test]
fn host_network_needs_its_entitlement() {
    let Some(env) = Env::with_busybox("host_network_needs_its_entitlement") else {
        return;
    };
    let host = context("FROM local/busybox:latest\nRUN --network=host ls /sys/class/net > /nets\n");
    let stderr = build_error(&env, &[], host.path());
    assert!(stderr.contains("network.host is not allowed"), "{stderr}");
    build_ok(&env, "host", &["--allow", "network.host"], host.path());
    // A build-wide host network grants it, as buildx does.
    build_ok(&env, "host", &["--network", "host"], host.path());
    // The build-wide mode is every step's default.
    let default = context("FROM local/busybox:latest\nRUN ls /sys/class/net > /nets\n");
    build_ok(&env, "none", &["--network", "none"], default.path());
    assert_eq!(Saved::of(&env, "none", &[]).file("nets"), "lo\n");
    let stderr = build_error(&env, &["--network", "bridge"], default.path());
    assert!(
        stderr.contains("network mode \"bridge\" not supported by buildkit"),
        "{stderr}"
    );
    let stderr = build_error(&env, &["--allow", "network"], default.path());
    assert!(stderr.contains("unknown entitlement network"), "{stderr}");
}

#[test]
fn insecure_steps_need_their_entitlement_and_get_privileges() {
    let Some(env) = Env::with_busybox("insecure_steps_need_their_entitlement_and_get_privileges")
    else {
        return;
    };
    let context = context(
        "FROM local/busybox:latest\n\
         RUN grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status > /sandbox-status\n\
         RUN --security=insecure grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status > /insecure-status; \
         ls /dev > /insecure-dev; grep -c ' /sys sysfs rw' /proc/self/mounts > /sys-rw\n",
    );
    let stderr = build_error(&env, &[], context.path());
    assert!(
        stderr.contains("security.insecure is not allowed"),
        "{stderr}"
    );
    build_ok(
        &env,
        "insecure",
        &["--allow", "security.insecure"],
        context.path(),
    );
    let saved = Saved::of(&env, "insecure", &[]);
    let sandbox = saved.file("sandbox-status");
    assert!(sandbox.contains("CapEff:\t00000000a80425fb"), "{sandbox}");
    assert!(sandbox.contains("Seccomp:\t2"), "{sandbox}");
    // Every capability strata has, as BuildKit gives its own.
    let own = fs::read_to_string("/proc/self/status").unwrap();
    let permitted = own.lines().find(|l| l.starts_with("CapPrm:")).unwrap();
    let all = permitted.trim_start_matches("CapPrm:").trim();
    let insecure = saved.file("insecure-status");
    assert!(insecure.contains(&format!("CapEff:\t{all}")), "{insecure}");
    assert!(insecure.contains(&format!("CapBnd:\t{all}")), "{insecure}");
    assert!(insecure.contains("Seccomp:\t0"), "{insecure}");
    let devices = saved.file("insecure-dev");
    for device in ["kmsg", "fuse", "loop-control", "loop0", "net"] {
        assert!(
            devices.lines().any(|l| l == device),
            "no /dev/{device}: {devices}"
        );
    }
    assert_eq!(saved.file("sys-rw").trim(), "1");
    assert!(
        !saved
            .entries()
            .iter()
            .any(|e| e.contains("kmsg") || e.contains("loop"))
    );
}
