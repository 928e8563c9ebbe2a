//! `RUN --mount=type=ssh` and `--ssh`, as BuildKit and buildx have them.
//!
//! Forwarding is proved with real agents (Debian's `ssh-agent`, ed25519 keys
//! from `ssh-keygen`) and a real client in the step: the host's `ssh-add`
//! with its libraries, bound from the context and started through their
//! dynamic loader (busybox has no agent client). It lists the identities
//! and signs with them through the step's socket, so every byte crosses
//! the relay; the keys never reach the image.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::harness::{Env, Saved};

/// An `ssh-agent` holding one new key, killed on drop.
struct Agent {
    directory: tempfile::TempDir,
    process: Child,
}

impl Agent {
    fn start() -> Agent {
        let directory = tempfile::tempdir().unwrap();
        let key = new_key(directory.path(), "key");
        let socket = directory.path().join("agent.sock");
        let process = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let agent = Agent { directory, process };
        // The socket exists once bound, a moment before the agent listens.
        let add = || {
            Command::new("ssh-add")
                .arg(&key)
                .env("SSH_AUTH_SOCK", agent.socket())
                .output()
                .unwrap()
        };
        let mut added = add();
        for _ in 0..500 {
            if added.status.success() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            added = add();
        }
        assert!(added.status.success(), "{added:?}");
        agent
    }

    fn socket(&self) -> PathBuf {
        self.directory.path().join("agent.sock")
    }

    fn key(&self) -> PathBuf {
        self.directory.path().join("key")
    }

    /// `ssh-add -l` on the host.
    fn identities(&self) -> String {
        let output = Command::new("ssh-add")
            .arg("-l")
            .env("SSH_AUTH_SOCK", self.socket())
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A new passphrase-less ed25519 key `name` (and `name.pub`) in `directory`.
fn new_key(directory: &Path, name: &str) -> PathBuf {
    let key = directory.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    key
}

/// The key's fingerprint (`SHA256:...`).
fn fingerprint(key: &Path) -> String {
    let output = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(key)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace().nth(1).unwrap().to_owned()
}

/// A context with `dockerfile` and `tools/`: the host's `ssh-add`, the
/// libraries it links and their loader as `tools/ld.so`, so that a step
/// runs `/tools/ld.so --library-path /tools /tools/ssh-add`.
fn context_with_ssh_add(dockerfile: &str) -> tempfile::TempDir {
    let context = tempfile::tempdir().unwrap();
    fs::write(context.path().join("Dockerfile"), dockerfile).unwrap();
    let tools = context.path().join("tools");
    fs::create_dir(&tools).unwrap();
    let ssh_add = strata_test::find_program("ssh-add").unwrap();
    fs::copy(&ssh_add, tools.join("ssh-add")).unwrap();
    let ldd = Command::new("ldd").arg(&ssh_add).output().unwrap();
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        let line = line.trim();
        let path = match line.split_once("=> ") {
            Some((_, rest)) => rest.split_whitespace().next().unwrap_or(""),
            None => line.split_whitespace().next().unwrap_or(""),
        };
        if !path.starts_with('/') {
            continue;
        }
        let name = Path::new(path).file_name().unwrap();
        let destination = if line.contains("=>") {
            tools.join(name)
        } else {
            tools.join("ld.so")
        };
        fs::copy(path, destination).unwrap();
    }
    context
}

/// `strata build --progress=plain -t NAME FLAGS CONTEXT` with `SSH_AUTH_SOCK`
/// set to `auth_sock` (or unset).
fn build(
    env: &Env,
    name: &str,
    flags: &[&str],
    auth_sock: Option<&Path>,
    context: &Path,
) -> std::process::Output {
    let mut command = env.command();
    match auth_sock {
        Some(socket) => command.env("SSH_AUTH_SOCK", socket),
        None => command.env_remove("SSH_AUTH_SOCK"),
    };
    command
        .args(["build", "--progress=plain", "-t", name])
        .args(flags)
        .arg(context)
        .output()
        .unwrap()
}

fn build_ok(env: &Env, name: &str, flags: &[&str], auth: Option<&Path>, context: &Path) -> String {
    let output = build(env, name, flags, auth, context);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "build {flags:?} failed:\n{stderr}");
    stderr
}

fn build_error(env: &Env, flags: &[&str], auth: Option<&Path>, context: &Path) -> String {
    let output = build(env, "failing", flags, auth, context);
    assert!(!output.status.success(), "build {flags:?} succeeded");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The private key's secret part: its base64 body, without the armour.
fn key_body(key: &Path) -> Vec<u8> {
    let text = fs::read_to_string(key).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    body.into_bytes()
}

const SSH_ADD: &str = "/tools/ld.so --library-path /tools /tools/ssh-add";

#[test]
fn the_default_agent_is_relayed_read_only_into_the_step() {
    let Some(env) = Env::with_busybox("the_default_agent_is_relayed_read_only_into_the_step")
    else {
        return;
    };
    let agent = Agent::start();
    let context = context_with_ssh_add(&format!(
        "FROM local/busybox:latest\n\
         RUN --mount=type=ssh,uid=1000,gid=1001,mode=0640 stat -c '%a %u %g %F' /run/buildkit/ssh_agent.0 > /socket-seen && echo \"$SSH_AUTH_SOCK\" > /auth-sock\n\
         RUN --mount=type=bind,source=tools,target=/tools --mount=type=ssh {SSH_ADD} -l > /identities\n\
         RUN --mount=type=bind,source=tools,target=/tools --mount=type=ssh,target=/a.sock {SSH_ADD} -T /tools/k.pub && echo signed > /signed\n\
         RUN --mount=type=bind,source=tools,target=/tools --mount=type=ssh {SSH_ADD} -D; echo $? > /remove-status\n\
         RUN --mount=type=ssh --mount=type=ssh,id=other,target=/other env | grep SSH_AUTH_SOCK > /two-sockets\n"
    ));
    fs::copy(
        agent.key().with_extension("pub"),
        context.path().join("tools/k.pub"),
    )
    .unwrap();
    build_ok(
        &env,
        "forwarded",
        &[
            "--ssh",
            "default",
            "--ssh",
            &format!("other={}", agent.socket().display()),
        ],
        Some(&agent.socket()),
        context.path(),
    );
    let saved = Saved::of(&env, "forwarded", &[]);
    // The socket as asked, and SSH_AUTH_SOCK naming the first one.
    assert_eq!(saved.file("socket-seen"), "640 1000 1001 socket\n");
    assert_eq!(saved.file("auth-sock"), "/run/buildkit/ssh_agent.0\n");
    assert_eq!(
        saved.file("two-sockets"),
        "SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0\n"
    );
    // The step's client listed the key and signed with it through the relay.
    let identities = saved.file("identities");
    assert!(
        identities.contains(&fingerprint(&agent.key())),
        "{identities}"
    );
    assert_eq!(saved.file("signed"), "signed\n");
    // The user's agent is read-only to the step, as BuildKit keeps it.
    assert_ne!(saved.file("remove-status").trim(), "0");
    assert!(agent.identities().contains(&fingerprint(&agent.key())));
    // Nothing of the agent in the image: no socket, no mount point, no variable.
    assert!(
        !saved
            .entries()
            .iter()
            .any(|e| e.contains("ssh_agent") || e.contains("a.sock"))
    );
    assert!(!saved.rootfs().join("run/buildkit").exists());
    let config: serde_json::Value = serde_json::from_str(&saved.config_text()).unwrap();
    assert!(
        !config["config"]["Env"]
            .to_string()
            .contains("SSH_AUTH_SOCK")
    );
    assert!(!saved.holds(&key_body(&agent.key())));
}

#[test]
fn key_files_are_held_by_an_agent_of_the_builds_own() {
    let Some(env) = Env::with_busybox("key_files_are_held_by_an_agent_of_the_builds_own") else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let (first, second) = (
        new_key(keys.path(), "first"),
        new_key(keys.path(), "second"),
    );
    let dockerfile = "FROM local/busybox:latest\n\
         RUN --mount=type=bind,source=tools,target=/tools --mount=type=ssh,id=deploy,target=/agent \
         test \"$SSH_AUTH_SOCK\" = /agent && /tools/ld.so --library-path /tools /tools/ssh-add -l > /identities\n";
    let context = context_with_ssh_add(dockerfile);
    let both = format!("deploy={},{}", first.display(), second.display());
    let agents_before = ssh_agents_of_strata();
    build_ok(&env, "keys", &["--ssh", &both], None, context.path());
    // The agent strata started is gone with the build.
    assert_eq!(ssh_agents_of_strata(), agents_before);
    let saved = Saved::of(&env, "keys", &[]);
    let identities = saved.file("identities");
    assert_eq!(identities.lines().count(), 2, "{identities}");
    for key in [&first, &second] {
        assert!(identities.contains(&fingerprint(key)), "{identities}");
        assert!(
            !saved.holds(&key_body(key)),
            "{} reached the image",
            key.display()
        );
    }
    // The keys are no part of the step's key: other keys, same id, cached.
    let progress = build_ok(
        &env,
        "keys",
        &["--ssh", &format!("deploy={}", first.display())],
        None,
        context.path(),
    );
    assert!(
        progress.contains("CACHED") && !progress.contains("cache miss"),
        "{progress}"
    );
    // The socket's mode is.
    let with_mode = dockerfile.replace("target=/agent", "target=/agent,mode=0644");
    fs::write(context.path().join("Dockerfile"), with_mode).unwrap();
    let progress = build_ok(&env, "keys", &["--ssh", &both], None, context.path());
    assert!(progress.contains("cache miss"), "{progress}");
}

/// The ssh-agents running from strata's private directories.
fn ssh_agents_of_strata() -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(command) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let command = String::from_utf8_lossy(&command).replace('\0', " ");
        if command.starts_with("ssh-agent") && command.contains(".strata-ssh-agent") {
            found.push(command);
        }
    }
    found.sort();
    found
}

#[test]
fn missing_agents_and_bad_values_are_buildkit_and_buildx_errors() {
    let Some(env) =
        Env::with_busybox("missing_agents_and_bad_values_are_buildkit_and_buildx_errors")
    else {
        return;
    };
    let agent = Agent::start();
    let dockerfile = |run: &str| {
        let context = tempfile::tempdir().unwrap();
        fs::write(
            context.path().join("Dockerfile"),
            format!("FROM local/busybox:latest\n{run}\n"),
        )
        .unwrap();
        context
    };
    // An optional agent that is missing: no socket, SSH_AUTH_SOCK all the same.
    let optional = dockerfile(
        "RUN --mount=type=ssh,id=absent sh -c 'test ! -e /run/buildkit/ssh_agent.0 && echo \"$SSH_AUTH_SOCK\" > /seen'",
    );
    build_ok(&env, "optional", &[], None, optional.path());
    assert_eq!(
        Saved::of(&env, "optional", &[]).file("seen"),
        "/run/buildkit/ssh_agent.0\n"
    );
    let required = dockerfile("RUN --mount=type=ssh,id=absent,required true");
    let stderr = build_error(
        &env,
        &["--ssh", "default"],
        Some(&agent.socket()),
        required.path(),
    );
    assert!(stderr.contains("unset ssh forward key absent"), "{stderr}");
    let source = dockerfile("RUN --mount=type=ssh,source=/x true");
    let stderr = build_error(&env, &[], None, source.path());
    assert!(stderr.contains("ssh does not support source"), "{stderr}");

    let not_a_key = agent.directory.path().join("not-a-key");
    fs::write(&not_a_key, "hello\n").unwrap();
    let socket = agent.socket().display().to_string();
    let key = agent.key().display().to_string();
    let not_a_key = not_a_key.display().to_string();
    for (flag, auth, message) in [
        (
            "default".to_owned(),
            None,
            "failed to convert agent config {default [] false}: invalid empty ssh agent socket: make sure SSH_AUTH_SOCK is set".to_owned(),
        ),
        (
            "a=/nonexistent".to_owned(),
            None,
            "failed to convert agent config {a [/nonexistent] false}: failed to convert agent config for ID: \"a\": stat /nonexistent: no such file or directory".to_owned(),
        ),
        (
            format!("a={not_a_key}"),
            None,
            format!("failed to parse {not_a_key}: ssh: no key found"),
        ),
        (
            format!("a={key},{socket}"),
            None,
            "invalid combination of keys and sockets".to_owned(),
        ),
        (
            format!("a={socket},{key}"),
            None,
            "only single socket allowed".to_owned(),
        ),
    ] {
        let stderr = build_error(&env, &["--ssh", &flag], auth, optional.path());
        assert!(stderr.contains(&message), "--ssh {flag}: {stderr}");
    }
    let stderr = build_error(
        &env,
        &["--ssh", "default", "--ssh", "default"],
        Some(&agent.socket()),
        optional.path(),
    );
    assert!(
        stderr.contains("duplicate agent ID \"default\""),
        "{stderr}"
    );
}
