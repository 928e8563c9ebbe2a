//! `strata run` and the commands around it, end to end on the busybox base:
//! the guide's exercises (signals, a non-root image, health checks,
//! published ports, environment and arguments, restart policies) and what
//! a container leaves behind. Docker's outputs these tests expect were
//! recorded from docker 20.10 and the 28.2 CLI on this kind of machine:
//! tests/run/docker-reference.md, verbatim.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::harness::{Env, text};

/// Builds `dockerfile` (on `local/busybox`) as `tag`.
fn build(env: &Env, tag: &str, dockerfile: &str) {
    let context = tempfile::tempdir().unwrap();
    std::fs::write(context.path().join("Dockerfile"), dockerfile).unwrap();
    env.ok(&["build", "-q", "-t", tag, context.path().to_str().unwrap()]);
}

/// Polls `check` until it holds or `limit` passes; whether it held.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn inspect(env: &Env, format: &str, name: &str) -> String {
    env.ok(&["inspect", "-f", format, name]).trim().to_owned()
}

fn fails(output: &Output, code: i32, message: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {stderr}",
        text(&output.stdout)
    );
    assert!(
        stderr.contains(message),
        "expected {message:?} in: {stderr}"
    );
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// Processes of this machine whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = text(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) {
            found.push(format!(
                "{}: {cmdline}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    found
}

#[test]
fn run_gives_the_output_and_the_exit_code_of_the_container() {
    let Some(env) = Env::with_busybox("run: output and exit codes") else {
        return;
    };
    assert_eq!(
        env.ok(&["run", "--rm", "local/busybox", "echo", "hello"]),
        "hello\n"
    );
    let output = env.run(&[
        "run",
        "--rm",
        "local/busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(text(&output.stdout), "out\n");
    assert_eq!(text(&output.stderr), "err\n");
    // PID 1 ignores signals it has no handler for, even SIGKILL from inside;
    // with --init the shell is not PID 1, and dies: 128 + 9.
    let script = "kill -9 $$; echo still alive";
    assert_eq!(
        env.ok(&["run", "--rm", "local/busybox", "sh", "-c", script]),
        "still alive\n"
    );
    let output = env.run(&["run", "--rm", "--init", "local/busybox", "sh", "-c", script]);
    assert_eq!(output.status.code(), Some(137));
    // Docker's 127 and 126, with runc's words.
    let output = env.run(&["run", "--rm", "local/busybox", "nosuch"]);
    fails(
        &output,
        127,
        "exec: \"nosuch\": executable file not found in $PATH",
    );
    let output = env.run(&["run", "--rm", "local/busybox", "/etc/passwd"]);
    fails(&output, 126, "exec: \"/etc/passwd\": permission denied");
    // --rm left nothing.
    assert_eq!(env.ok(&["ps", "-aq"]), "");
}

#[test]
fn environment_arguments_and_entrypoint_as_docker_merges_them() {
    let Some(env) = Env::with_busybox("run: -e, arguments, --entrypoint") else {
        return;
    };
    build(
        &env,
        "echoer",
        "FROM local/busybox\nENV GREETING=hello PORT=80\nENTRYPOINT [\"echo\"]\nCMD [\"default\"]\n",
    );
    assert_eq!(env.ok(&["run", "--rm", "echoer"]), "default\n");
    // Arguments replace CMD, not ENTRYPOINT.
    assert_eq!(env.ok(&["run", "--rm", "echoer", "test.js"]), "test.js\n");
    // --entrypoint replaces ENTRYPOINT and drops the image's CMD.
    let output = env.ok(&[
        "run",
        "--rm",
        "-e",
        "PORT=8080",
        "-e",
        "EXTRA=1",
        "--entrypoint",
        "env",
        "echoer",
    ]);
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(
        lines[0],
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    );
    assert!(lines[1].starts_with("HOSTNAME="), "{output}");
    assert!(lines.contains(&"GREETING=hello"), "{output}");
    assert!(lines.contains(&"PORT=8080"), "{output}");
    assert!(lines.contains(&"EXTRA=1"), "{output}");
    assert!(!lines.contains(&"PORT=80"), "{output}");
    assert_eq!(lines.last(), Some(&"HOME=/root"));
    // -u and -w.
    assert_eq!(
        env.ok(&[
            "run",
            "--rm",
            "-u",
            "1000",
            "-w",
            "/tmp",
            "--entrypoint",
            "sh",
            "echoer",
            "-c",
            "id -u; pwd"
        ]),
        "1000\n/tmp\n"
    );
}

#[test]
fn stop_sends_the_stop_signal_then_sigkill_after_the_timeout() {
    let Some(env) = Env::with_busybox("run: stop, exec and shell form") else {
        return;
    };
    build(
        &env,
        "execform",
        "FROM local/busybox\nCMD [\"sh\", \"-c\", \"trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.1; done\"]\n",
    );
    build(&env, "shellform", "FROM local/busybox\nCMD sleep 100\n");
    build(
        &env,
        "stopsignal",
        "FROM local/busybox\nSTOPSIGNAL SIGUSR1\nCMD [\"sh\", \"-c\", \"trap 'echo got USR1; exit 0' USR1; while true; do sleep 0.1; done\"]\n",
    );
    for (name, image) in [
        ("exec", "execform"),
        ("shell", "shellform"),
        ("usr1", "stopsignal"),
    ] {
        env.ok(&["run", "-d", "--name", name, image]);
    }
    // Exec form: the shell gets SIGTERM and exits at once.
    assert_eq!(env.ok(&["stop", "-t", "5", "exec"]), "exec\n");
    assert_eq!(inspect(&env, "{{.State.ExitCode}}", "exec"), "0");
    assert_eq!(env.ok(&["logs", "exec"]), "got TERM\n");
    // Shell form: `sleep` is PID 1 and ignores SIGTERM; SIGKILL ends it.
    assert_eq!(env.ok(&["stop", "-t", "1", "shell"]), "shell\n");
    assert_eq!(inspect(&env, "{{.State.ExitCode}}", "shell"), "137");
    // STOPSIGNAL is what stop sends.
    env.ok(&["stop", "usr1"]);
    assert_eq!(env.ok(&["logs", "usr1"]), "got USR1\n");
    assert_eq!(inspect(&env, "{{.State.ExitCode}}", "usr1"), "0");
    // --init forwards SIGTERM to the shell form's sleep: 143, not 137.
    env.ok(&["run", "-d", "--init", "--name", "init", "shellform"]);
    env.ok(&["stop", "-t", "30", "init"]);
    assert_eq!(inspect(&env, "{{.State.ExitCode}}", "init"), "143");
    assert!(
        env.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"])
            .contains("shell Exited (137)")
    );
}

#[test]
fn a_non_root_image_runs_and_execs_as_its_user() {
    let Some(env) = Env::with_busybox("run: non-root image") else {
        return;
    };
    build(
        &env,
        "nonroot",
        "FROM local/busybox\nUSER tester\nCMD [\"sleep\", \"100\"]\n",
    );
    env.ok(&["run", "-d", "--name", "app", "nonroot"]);
    assert_eq!(env.ok(&["exec", "app", "whoami"]), "tester\n");
    let id = env.ok(&["exec", "app", "id"]);
    assert!(id.starts_with("uid=1000(tester) gid=1000(tester)"), "{id}");
    let output = env.run(&["exec", "app", "touch", "/etc/owned"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("Permission denied"));
    // No capability survives for a non-root user.
    let status = env.ok(&["exec", "app", "grep", "CapEff", "/proc/self/status"]);
    assert_eq!(status.split_whitespace().last(), Some("0000000000000000"));
    assert_eq!(env.ok(&["exec", "-u", "root", "app", "whoami"]), "root\n");
    // A command that cannot start: Docker's words, on stdout, 126.
    let output = env.run(&["exec", "app", "nosuch"]);
    assert_eq!(output.status.code(), Some(126));
    assert_eq!(
        text(&output.stdout),
        "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH: unknown\n"
    );
    // exec -d: the monitor owns the process and reaps it; no zombie is left
    // to a PID 1 that never waits.
    env.ok(&["exec", "-d", "app", "sleep", "0.2"]);
    std::thread::sleep(Duration::from_secs(1));
    let states = env.ok(&["exec", "app", "ps", "-o", "stat,comm"]);
    assert!(
        !states.lines().any(|l| l.trim_start().starts_with('Z')),
        "{states}"
    );
    let output = env.run(&["exec", "-d", "app", "nosuch"]);
    fails(&output, 1, "executable file not found in $PATH");
    assert_eq!(env.ok(&["exec", "-w", "/tmp", "app", "pwd"]), "/tmp\n");
    assert_eq!(
        env.ok(&["exec", "-e", "A=1", "app", "sh", "-c", "echo $A"]),
        "1\n"
    );
    assert_eq!(
        env.run(&["exec", "app", "sh", "-c", "exit 5"])
            .status
            .code(),
        Some(5)
    );
}

#[test]
fn health_goes_from_starting_to_healthy_to_unhealthy() {
    let Some(env) = Env::with_busybox("run: health checks") else {
        return;
    };
    build(
        &env,
        "health",
        "FROM local/busybox\nHEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD test -f /tmp/healthy\nCMD [\"sleep\", \"1000\"]\n",
    );
    env.ok(&["run", "-d", "--name", "api", "health"]);
    let status = || inspect(&env, "{{.State.Health.Status}}", "api");
    assert_eq!(status(), "starting");
    assert!(env.ok(&["ps"]).contains("(health: starting)"));
    env.ok(&["exec", "api", "touch", "/tmp/healthy"]);
    assert!(eventually(Duration::from_secs(10), || status() == "healthy"));
    assert!(env.ok(&["ps"]).contains("(healthy)"));
    env.ok(&["exec", "api", "rm", "/tmp/healthy"]);
    assert!(eventually(Duration::from_secs(10), || status() == "unhealthy"));
    assert_eq!(
        env.ok(&[
            "ps",
            "--filter",
            "health=unhealthy",
            "--format",
            "{{.Names}}"
        ]),
        "api\n"
    );
    let log: serde_json::Value =
        serde_json::from_str(&inspect(&env, "{{json .State.Health}}", "api")).unwrap();
    assert!(log["FailingStreak"].as_u64().unwrap() >= 2);
    let entries = log["Log"].as_array().unwrap();
    assert!(!entries.is_empty() && entries.len() <= 5);
    assert_eq!(entries.last().unwrap()["ExitCode"], 1);
    assert!(entries.iter().any(|e| e["ExitCode"] == 0));
    // --no-healthcheck turns the image's check off.
    env.ok(&["run", "-d", "--name", "quiet", "--no-healthcheck", "health"]);
    assert_eq!(inspect(&env, "{{json .State.Health}}", "quiet"), "null");
}

#[test]
fn published_ports_serve_a_page_from_the_host() {
    let Some(env) = Env::with_busybox("run: -p and -P") else {
        return;
    };
    build(
        &env,
        "web",
        "FROM local/busybox\nRUN mkdir /www && echo hello from strata > /www/index.html\nEXPOSE 80\nCMD [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]\n",
    );
    let port = strata_test::free_port();
    env.ok(&[
        "run",
        "-d",
        "--name",
        "site",
        "-p",
        &format!("{port}:80"),
        "web",
    ]);
    assert!(eventually(Duration::from_secs(10), || {
        http_get(port, "/").is_some_and(|page| page.contains("hello from strata"))
    }));
    assert_eq!(
        env.ok(&["port", "site"]),
        format!("80/tcp -> 0.0.0.0:{port}\n")
    );
    assert!(env.ok(&["ps"]).contains(&format!("0.0.0.0:{port}->80/tcp")));
    // A taken port: Docker's message, and nothing left running.
    let output = env.run(&[
        "run",
        "-d",
        "--name",
        "clash",
        "-p",
        &format!("{port}:80"),
        "web",
    ]);
    fails(&output, 125, "port is already allocated");
    assert!(env.ok(&["ps", "--format", "{{.Names}}"]).trim() == "site");
    // -P: every EXPOSEd port on an ephemeral host port.
    env.ok(&["run", "-d", "--name", "any", "-P", "web"]);
    let mapping = env.ok(&["port", "any", "80"]);
    let ephemeral: u16 = mapping.trim().rsplit(':').next().unwrap().parse().unwrap();
    assert!(eventually(Duration::from_secs(10), || {
        http_get(ephemeral, "/").is_some_and(|page| page.contains("hello from strata"))
    }));
    let ports: serde_json::Value =
        serde_json::from_str(&inspect(&env, "{{json .NetworkSettings.Ports}}", "any")).unwrap();
    assert_eq!(ports["80/tcp"][0]["HostPort"], ephemeral.to_string());
}

#[test]
fn restart_policies_as_docker_applies_them() {
    let Some(env) = Env::with_busybox("run: restart policies") else {
        return;
    };
    env.ok(&[
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        "local/busybox",
        "sh",
        "-c",
        "exit 1",
    ]);
    assert!(eventually(Duration::from_secs(15), || {
        inspect(&env, "{{.State.Status}} {{.RestartCount}}", "flaky") == "exited 2"
    }));
    assert_eq!(inspect(&env, "{{.State.ExitCode}}", "flaky"), "1");
    // on-failure does not restart a success.
    env.ok(&[
        "run",
        "-d",
        "--name",
        "fine",
        "--restart",
        "on-failure",
        "local/busybox",
        "true",
    ]);
    assert!(eventually(Duration::from_secs(10), || {
        inspect(&env, "{{.State.Status}} {{.RestartCount}}", "fine") == "exited 0"
    }));
    // always restarts an exit; stop makes it stay down.
    env.ok(&[
        "run",
        "-d",
        "--name",
        "always",
        "--restart",
        "always",
        "local/busybox",
        "sh",
        "-c",
        "sleep 0.3",
    ]);
    assert!(eventually(Duration::from_secs(15), || {
        inspect(&env, "{{.RestartCount}}", "always")
            .parse::<u32>()
            .unwrap()
            >= 2
    }));
    env.ok(&["stop", "-t", "1", "always"]);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(inspect(&env, "{{.State.Status}}", "always"), "exited");
    // unless-stopped: kill is a manual stop too.
    env.ok(&[
        "run",
        "-d",
        "--name",
        "unless",
        "--restart",
        "unless-stopped",
        "local/busybox",
        "sleep",
        "100",
    ]);
    env.ok(&["kill", "unless"]);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        inspect(&env, "{{.State.Status}} {{.State.ExitCode}}", "unless"),
        "exited 137"
    );
    // start resets the count and runs it again.
    env.ok(&["start", "flaky"]);
    assert!(eventually(Duration::from_secs(15), || {
        inspect(&env, "{{.State.Status}} {{.RestartCount}}", "flaky") == "exited 2"
    }));
}

#[test]
fn ps_logs_and_rm_leave_nothing_behind() {
    let Some(env) = Env::with_busybox("run: ps, logs, rm -f") else {
        return;
    };
    let id = env
        .ok(&[
            "run",
            "-d",
            "--name",
            "talker",
            "-l",
            "tier=web",
            "local/busybox",
            "sh",
            "-c",
            "echo one; echo two >&2; sleep 0.2; echo three; sleep 100",
        ])
        .trim()
        .to_owned();
    assert_eq!(id.len(), 64);
    assert!(eventually(Duration::from_secs(5), || env
        .ok(&["logs", "talker"])
        == "one\nthree\n"));
    let output = env.run(&["logs", "talker"]);
    assert_eq!(text(&output.stderr), "two\n");
    assert_eq!(env.ok(&["logs", "--tail", "1", "talker"]), "three\n");
    let stamped = env.ok(&["logs", "-t", "talker"]);
    assert!(
        stamped
            .lines()
            .all(|l| l.len() > 31 && &l[10..11] == "T" && &l[29..31] == "Z "),
        "{stamped}"
    );
    // The json-file log, as Docker writes it.
    let log = std::fs::read_to_string(
        env.root()
            .join(format!("areas/containers/{id}/{id}-json.log")),
    )
    .unwrap();
    let first: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(first["log"], "one\n");
    assert_eq!(first["stream"], "stdout");
    let table = env.ok(&["ps"]);
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("CONTAINER ID   IMAGE           COMMAND"),
        "{table}"
    );
    assert!(table.contains(&id[..12]) && table.contains("talker") && table.contains("Up "));
    assert_eq!(env.ok(&["ps", "-q"]), format!("{}\n", &id[..12]));
    assert_eq!(
        env.ok(&["ps", "--filter", "label=tier=web", "--format", "{{.Names}}"]),
        "talker\n"
    );
    assert_eq!(env.ok(&["ps", "--filter", "status=exited", "-q"]), "");
    // Removing a running container needs -f.
    let output = env.run(&["rm", "talker"]);
    fails(&output, 1, "You cannot remove a running container");
    assert!(!processes_mentioning(&id).is_empty());
    assert_eq!(env.ok(&["rm", "-f", "talker"]), "talker\n");
    // No monitor, no process, no mount, no pasta, no directory.
    assert!(
        processes_mentioning(&id).is_empty(),
        "{:?}",
        processes_mentioning(&id)
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&id));
    assert!(!env.root().join("areas/containers").join(&id).exists());
    assert_eq!(env.ok(&["ps", "-aq"]), "");
    env.assert_consistent();
}

#[test]
fn a_killed_monitor_is_reported_truthfully_and_cleaned_by_rm() {
    let Some(env) = Env::with_busybox("run: a killed monitor") else {
        return;
    };
    let id = env
        .ok(&[
            "run",
            "-d",
            "--name",
            "orphan",
            "local/busybox",
            "sleep",
            "100",
        ])
        .trim()
        .to_owned();
    let monitor: i32 = processes_mentioning("__strata-monitor")
        .iter()
        .find(|p| p.contains(&id))
        .and_then(|p| p.split(':').next())
        .and_then(|pid| pid.parse().ok())
        .expect("the container's monitor");
    let pid: i32 = inspect(&env, "{{.State.Pid}}", "orphan").parse().unwrap();
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(monitor).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    // The container dies with its monitor.
    assert!(eventually(Duration::from_secs(5), || !Path::new(&format!(
        "/proc/{pid}"
    ))
    .exists()));
    assert_eq!(
        inspect(
            &env,
            "{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}",
            "orphan"
        ),
        "exited false 255"
    );
    assert!(env.ok(&["ps", "-a"]).contains("Exited (255)"));
    assert_eq!(env.ok(&["rm", "orphan"]), "orphan\n");
    assert!(processes_mentioning(&id).is_empty());
    // And its name is free again.
    env.ok(&["run", "--rm", "--name", "orphan", "local/busybox", "true"]);
}

#[test]
fn networks_hosts_and_names() {
    let Some(env) = Env::with_busybox("run: networks") else {
        return;
    };
    let none = env.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "local/busybox",
        "cat",
        "/proc/net/dev",
    ]);
    assert!(none.contains("lo:") && !none.contains("eth0"), "{none}");
    let default = env.ok(&[
        "run",
        "--rm",
        "--hostname",
        "web.example.com",
        "--add-host",
        "db:10.0.0.5",
        "local/busybox",
        "sh",
        "-c",
        "hostname; cat /etc/hosts; cat /proc/net/dev",
    ]);
    let lines: Vec<&str> = default.lines().collect();
    assert_eq!(lines[0], "web.example.com");
    assert!(default.contains("127.0.0.1\tlocalhost\n"));
    assert!(default.contains("10.0.0.5\tdb\n"));
    assert!(default.contains("\tweb.example.com web\n"), "{default}");
    assert!(default.contains("eth0"), "{default}");
    let host = env.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "local/busybox",
        "hostname",
    ]);
    assert_eq!(
        host.trim(),
        rustix::system::uname().nodename().to_string_lossy()
    );
    // Outbound TCP from the default network reaches a listener on the host
    // through the gateway (Docker's host-gateway).
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let accepted = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(error) => panic!("no connection from the container: {error}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // Read the request first: closing with unread data would reset the connection.
        let mut request = [0u8; 5];
        stream.read_exact(&mut request).unwrap();
        assert_eq!(&request, b"ping\n");
        stream.write_all(b"pong\n").unwrap();
    });
    let reply = env.ok(&[
        "run",
        "--rm",
        "--add-host",
        "host.docker.internal:host-gateway",
        "local/busybox",
        "sh",
        "-c",
        // Debian's pasta (2023-03) does not end a connection to the host itself
        // when the host closes it (and may repeat its data): the first line is
        // the reply, and busybox's timeout ends the wait.
        &format!("echo ping | timeout 5 nc host.docker.internal {port} | head -1"),
    ]);
    assert_eq!(reply, "pong\n");
    accepted.join().unwrap();
}

#[test]
fn isolation_and_file_systems_as_dockers_defaults() {
    let Some(env) = Env::with_busybox("run: isolation") else {
        return;
    };
    let status = env.ok(&["run", "--rm", "local/busybox", "cat", "/proc/self/status"]);
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap()
    };
    // Docker's default capabilities, its seccomp profile, no no_new_privs.
    assert_eq!(field("CapEff:"), "00000000a80425fb");
    assert_eq!(field("Seccomp:"), "2");
    assert_eq!(field("NoNewPrivs:"), "0");
    let dropped = env.ok(&[
        "run",
        "--rm",
        "--cap-drop",
        "CHOWN",
        "local/busybox",
        "sh",
        "-c",
        "chown 1000 /tmp && echo changed || echo refused",
    ]);
    assert_eq!(dropped, "refused\n");
    let output = env.run(&["run", "--rm", "--cap-add", "NOPE", "local/busybox", "true"]);
    fails(&output, 125, "unknown capability: \"CAP_NOPE\"");
    // --read-only with a tmpfs: the root refuses writes, the tmpfs takes them.
    let read_only = env.ok(&[
        "run",
        "--rm",
        "--read-only",
        "--tmpfs",
        "/scratch",
        "local/busybox",
        "sh",
        "-c",
        "touch /x 2>/dev/null || echo root-refused; touch /scratch/y && echo tmpfs-ok",
    ]);
    assert_eq!(read_only, "root-refused\ntmpfs-ok\n");
    // Masked and read-only paths.
    let masked = env.ok(&[
        "run",
        "--rm",
        "local/busybox",
        "sh",
        "-c",
        "wc -c < /proc/timer_list; echo 1 > /proc/sys/kernel/hostname 2>/dev/null || echo ro",
    ]);
    assert_eq!(masked, "0\nro\n");
    // A named volume outlives its container; an image VOLUME gets the
    // image's content; rm -v removes the anonymous one.
    env.ok(&[
        "run",
        "--rm",
        "-v",
        "data:/data",
        "local/busybox",
        "sh",
        "-c",
        "echo kept > /data/file",
    ]);
    assert_eq!(
        env.ok(&[
            "run",
            "--rm",
            "-v",
            "data:/data",
            "local/busybox",
            "cat",
            "/data/file"
        ]),
        "kept\n"
    );
    assert!(env.ok(&["volume", "ls"]).contains("data"));
    build(
        &env,
        "withvolume",
        "FROM local/busybox\nRUN mkdir /cache && echo seeded > /cache/seed\nVOLUME /cache\n",
    );
    env.ok(&[
        "run",
        "--name",
        "seeded",
        "withvolume",
        "cat",
        "/cache/seed",
    ]);
    assert_eq!(env.ok(&["logs", "seeded"]), "seeded\n");
    let volumes_before = env.ok(&["volume", "ls", "-q"]).lines().count();
    env.ok(&["rm", "-v", "seeded"]);
    assert_eq!(
        env.ok(&["volume", "ls", "-q"]).lines().count(),
        volumes_before - 1
    );
    // A bind mount, read-only.
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("note"), "from the host\n").unwrap();
    let bind = format!("{}:/host:ro", host.path().display());
    let output = env.ok(&[
        "run",
        "--rm",
        "-v",
        &bind,
        "local/busybox",
        "sh",
        "-c",
        "cat /host/note; touch /host/x 2>/dev/null || echo ro",
    ]);
    assert_eq!(output, "from the host\nro\n");
}

#[test]
fn start_attach_wait_kill_restart_and_prune() {
    let Some(env) = Env::with_busybox("run: start, wait, kill, restart, prune") else {
        return;
    };
    let id = env
        .ok(&[
            "create",
            "--name",
            "later",
            "local/busybox",
            "sh",
            "-c",
            "echo ran; exit 4",
        ])
        .trim()
        .to_owned();
    assert_eq!(inspect(&env, "{{.State.Status}}", "later"), "created");
    assert!(env.ok(&["ps", "-a"]).contains("Created"));
    let output = env.run(&["start", "-a", "later"]);
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(text(&output.stdout), "ran\n");
    assert_eq!(env.ok(&["wait", "later"]), "4\n");
    env.ok(&[
        "run",
        "-d",
        "--name",
        "sleeper",
        "local/busybox",
        "sleep",
        "100",
    ]);
    let waiter = {
        let mut command = env.command();
        command.args(["wait", "sleeper"]);
        std::thread::spawn(move || command.output().unwrap())
    };
    env.ok(&["kill", "-s", "TERM", "sleeper"]);
    // PID 1 ignores SIGTERM without a handler: still running.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(inspect(&env, "{{.State.Running}}", "sleeper"), "true");
    env.ok(&["kill", "sleeper"]);
    assert_eq!(text(&waiter.join().unwrap().stdout), "137\n");
    let output = env.run(&["kill", "sleeper"]);
    fails(&output, 1, "is not running");
    let output = env.run(&["exec", "sleeper", "true"]);
    assert_ne!(output.status.code(), Some(0));
    assert!(
        text(&output.stderr).contains("is not running"),
        "{}",
        text(&output.stderr)
    );
    env.ok(&["restart", "-t", "1", "sleeper"]);
    assert_eq!(inspect(&env, "{{.State.Running}}", "sleeper"), "true");
    env.ok(&["stop", "-t", "0", "sleeper"]);
    let pruned = env.ok(&["container", "prune", "-f"]);
    assert!(pruned.starts_with("Deleted Containers:\n"), "{pruned}");
    assert!(pruned.contains(&id));
    assert!(pruned.contains("Total reclaimed space: "));
    assert_eq!(env.ok(&["ps", "-aq"]), "");
}

#[test]
fn bad_input_gets_dockers_messages_and_exit_codes() {
    let Some(env) = Env::with_busybox("run: bad input") else {
        return;
    };
    fails(
        &env.run(&["run", "--pull", "never", "nosuchimage"]),
        125,
        "No such image",
    );
    env.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "local/busybox",
        "sleep",
        "100",
    ]);
    fails(
        &env.run(&["run", "--name", "web", "local/busybox", "true"]),
        125,
        "Conflict. The container name \"/web\" is already in use by container",
    );
    for (flag, value, message) in [
        ("-p", "abc", "invalid containerPort: abc"),
        ("-p", "99999:80", "invalid hostPort: 99999"),
        ("-p", "8080:80/sctpx", "invalid proto: sctpx"),
        ("-v", "/a:/b:zz", "invalid mode: zz"),
        ("-v", "rel:relative", "mount path must be absolute"),
        ("--restart", "foo", "invalid restart policy 'foo'"),
        (
            "--restart",
            "always:3",
            "maximum retry count cannot be used with restart policy 'always'",
        ),
        (
            "-m",
            "x",
            "invalid argument \"x\" for \"-m, --memory\" flag: invalid size: 'x'",
        ),
        (
            "--health-interval",
            "1x",
            "time: unknown unit \"x\" in duration \"1x\"",
        ),
        ("--add-host", "bad", "bad format for add-host: \"bad\""),
        ("-e", "=x", "invalid environment variable: =x"),
        ("--network", "nosuch", "network nosuch not found"),
        (
            "-w",
            "relative",
            "the working directory 'relative' is invalid",
        ),
        ("--stop-signal", "FOO", "Invalid signal: FOO"),
        ("--name", "bad name", "Invalid container name (bad name)"),
    ] {
        let output = env.run(&["run", "--rm", flag, value, "local/busybox", "true"]);
        fails(&output, 125, message);
    }
    fails(
        &env.run(&[
            "run",
            "--rm",
            "--restart",
            "always",
            "local/busybox",
            "true",
        ]),
        125,
        "conflicting options: cannot specify both --restart and --rm",
    );
    fails(
        &env.run(&["run", "--rm", "--nosuchflag", "local/busybox"]),
        125,
        "--nosuchflag",
    );
    for command in [
        &["stop", "nosuch"][..],
        &["rm", "nosuch"],
        &["logs", "nosuch"],
        &["exec", "nosuch", "true"],
        &["inspect", "--type", "container", "nosuch"],
        &["port", "nosuch"],
    ] {
        fails(&env.run(command), 1, "No such container: nosuch");
    }
    // moby's ParseSignal takes any non-zero number for --stop-signal (docker
    // runs with 99); kill checks the platform's signals too.
    env.ok(&[
        "run",
        "--rm",
        "--stop-signal",
        "99",
        "local/busybox",
        "true",
    ]);
    fails(
        &env.run(&["kill", "-s", "99", "web"]),
        1,
        "Error: The linux daemon does not support signal 99",
    );
    fails(
        &env.run(&["kill", "-s", "RTMIN+16", "web"]),
        1,
        "Error: Invalid signal: RTMIN+16",
    );
    // Nothing half-made: the failed runs left no container behind.
    assert_eq!(env.ok(&["ps", "-a", "--format", "{{.Names}}"]), "web\n");
    env.assert_consistent();
    // The image of a container cannot lose its last name without -f; with
    // -f the container keeps running on it, and its layers stay in the store.
    fails(
        &env.run(&["rmi", "local/busybox"]),
        1,
        "conflict: unable to remove repository reference \"local/busybox\" (must force) - container",
    );
    env.ok(&["rmi", "-f", "local/busybox"]);
    env.ok(&["prune"]);
    assert_eq!(
        env.ok(&["exec", "web", "echo", "still here"]),
        "still here\n"
    );
    env.ok(&["rm", "-f", "web"]);
    fails(
        &env.run(&["run", "--rm", "--pull", "never", "local/busybox", "true"]),
        125,
        "No such image",
    );
}

#[test]
fn interactive_terminal_with_window_size_ctrl_c_and_ctrl_d() {
    let Some(env) = Env::with_busybox("run: -it") else {
        return;
    };
    let Some(script) = strata_test::find_program("script") else {
        panic!("util-linux's script is needed (scripts/install-test-deps installs bsdutils)");
    };
    // A real terminal from script(1): 30 rows, 100 columns; keys typed one
    // after another: a command, Ctrl-C to a sleep, then Ctrl-D to the shell.
    let strata = assert_cmd::cargo::cargo_bin("strata");
    let command = format!(
        "stty rows 30 cols 100; {} run --rm -it --name tty local/busybox sh",
        strata.display()
    );
    let mut child = std::process::Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .env("STRATA_ROOT", env.root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let typing = std::thread::spawn(move || {
        for (pause, keys) in [
            (1500, &b"tty; stty size\n"[..]),
            (500, b"sleep 100\n"),
            (800, b"\x03"),
            (500, b"echo interrupted $?\n"),
            (500, b"\x04"),
        ] {
            std::thread::sleep(Duration::from_millis(pause));
            let _ = input.write_all(keys);
            let _ = input.flush();
        }
        std::thread::sleep(Duration::from_secs(3));
    });
    let output = child.wait_with_output().unwrap();
    typing.join().unwrap();
    let screen = text(&output.stdout);
    assert!(screen.contains("/dev/pts/0"), "{screen}");
    assert!(screen.contains("30 100"), "{screen}");
    assert!(screen.contains("interrupted 130"), "{screen}");
    // Ctrl-D ended the shell, and with it the container (--rm removed it).
    assert_eq!(output.status.code(), Some(0), "{screen}");
    assert_eq!(env.ok(&["ps", "-aq"]), "");
}

#[test]
fn memory_cpu_and_pids_limits_through_the_hosts_cgroups() {
    let Some(env) = Env::with_busybox("run: cgroup limits") else {
        return;
    };
    // Allocating past -m: the kernel's OOM killer ends it, and the state says so.
    let output = env.run(&[
        "run",
        "--name",
        "hungry",
        "-m",
        "16m",
        "local/busybox",
        "sh",
        "-c",
        "x=$(head -c 40000000 /dev/zero | tr '\\0' a); echo ${#x}",
    ]);
    assert_eq!(output.status.code(), Some(137), "{}", text(&output.stderr));
    assert_eq!(inspect(&env, "{{.State.OOMKilled}}", "hungry"), "true");
    assert_eq!(
        inspect(&env, "{{.HostConfig.Memory}}", "hungry"),
        "16777216"
    );
    // --pids-limit: a fork past the limit fails.
    let output = env.run(&[
        "run",
        "--rm",
        "--pids-limit",
        "5",
        "local/busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done",
    ]);
    assert_ne!(output.status.code(), Some(0));
    assert!(
        text(&output.stderr).contains("can't fork"),
        "{}",
        text(&output.stderr)
    );
    env.ok(&[
        "run",
        "-d",
        "--name",
        "capped",
        "--cpus",
        "0.5",
        "local/busybox",
        "sleep",
        "100",
    ]);
    assert_eq!(
        inspect(&env, "{{.HostConfig.NanoCpus}}", "capped"),
        "500000000"
    );
    let id = inspect(&env, "{{.Id}}", "capped");
    let quota = [
        "/sys/fs/cgroup/cpu/strata",
        "/sys/fs/cgroup/cpu,cpuacct/strata",
        "/sys/fs/cgroup/strata",
    ]
    .iter()
    .find_map(|root| {
        let group = Path::new(root).join(&id);
        std::fs::read_to_string(group.join("cpu.cfs_quota_us"))
            .or_else(|_| std::fs::read_to_string(group.join("cpu.max")))
            .ok()
    })
    .expect("the container's cpu cgroup");
    assert!(quota.starts_with("50000"), "{quota}");
    env.ok(&["rm", "-f", "capped"]);
    assert!(!Path::new("/sys/fs/cgroup/cpu/strata").join(&id).exists());
    let output = env.run(&["run", "--rm", "-m", "1k", "local/busybox", "true"]);
    fails(&output, 125, "Minimum memory limit allowed is 6MB");
}
