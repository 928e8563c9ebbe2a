//! Cancelling `strata build` for real: SIGINT (to strata, and to its whole
//! process group as a terminal's Ctrl-C sends it) and SIGKILL while a RUN
//! sleeps with another stage's snapshot mounted. Afterwards no process of the
//! build remains, no mount of the store is visible, no work directory
//! survives the next command, the store verifies, and the next build works.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Env;

/// How long a signalled build may take to go away.
const DEADLINE: Duration = Duration::from_secs(60);

struct Fixture {
    env: Env,
    context: tempfile::TempDir,
    logs: tempfile::TempDir,
}

impl Fixture {
    fn new(test: &str) -> Option<Self> {
        let fixture = Self {
            env: Env::with_busybox(test)?,
            context: tempfile::tempdir().unwrap(),
            logs: tempfile::tempdir().unwrap(),
        };
        Some(fixture)
    }

    /// A Dockerfile whose last RUN sleeps `seconds` with a stage bind-mounted.
    fn write_dockerfile(&self, seconds: u32) {
        std::fs::write(
            self.context.path().join("Dockerfile"),
            format!(
                "FROM local/busybox:latest AS tools\nRUN echo tool > /tool\n\
                 FROM local/busybox:latest\nCOPY Dockerfile /copied\n\
                 RUN --mount=from=tools,target=/tools cat /tools/tool && sleep {seconds}\n"
            ),
        )
        .unwrap();
    }

    /// Starts a build in its own process group; returns it once its RUN is
    /// sleeping (its output line has been printed).
    fn start_sleeping_build(&self, seconds: u32) -> Child {
        self.write_dockerfile(seconds);
        let log = self.logs.path().join("stderr");
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("strata"))
            .env("STRATA_ROOT", self.env.root())
            .env("NO_COLOR", "1")
            .args(["build", "--progress=plain"])
            .arg(self.context.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .process_group(0)
            .spawn()
            .unwrap();
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.lines().any(|line| line.ends_with(" tool"))
                && sleeping_processes(seconds).len() == 1
            {
                return child;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the build ended early ({status}):\n{text}");
            }
            assert!(
                started.elapsed() < DEADLINE,
                "the RUN never started:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.logs.path().join("stderr")).unwrap_or_default()
    }

    /// Work directories of snapshots (active steps, unpacks) and the store's tmp/.
    fn work_directories(&self) -> Vec<PathBuf> {
        let root = self.env.root();
        let mut found = Vec::new();
        for directory in [
            root.join("areas/snapshots/overlay/active"),
            root.join("areas/snapshots/overlay/staging"),
            root.join("areas/snapshots/copy/active"),
            root.join("areas/snapshots/copy/staging"),
            root.join("tmp"),
        ] {
            if let Ok(entries) = std::fs::read_dir(&directory) {
                found.extend(entries.map(|e| e.unwrap().path()));
            }
        }
        found
    }

    /// Asserts what must hold once the build is gone: no process, no mount,
    /// a consistent store.
    fn assert_clean(&self, seconds: u32) {
        let started = Instant::now();
        while !sleeping_processes(seconds).is_empty() {
            assert!(
                started.elapsed() < DEADLINE,
                "build processes remain: {:?}",
                sleeping_processes(seconds)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let mounts = store_mounts(&self.env.root());
        assert!(mounts.is_empty(), "mounts of the store remain: {mounts:#?}");
    }

    fn assert_store_verifies(&self) {
        let checked = self.env.ok(&["system", "check"]);
        assert!(checked.ends_with("the store is consistent\n"), "{checked}");
        let store = strata_store::Store::open(self.env.root()).unwrap();
        let verification = store.verify().unwrap();
        assert!(verification.is_consistent(), "{verification:#?}");
        assert!(verification.blobs_checked > 0);
    }

    /// The next build (the sleep made short) works and says why it ran.
    fn assert_next_build_works(&self) {
        self.write_dockerfile(0);
        let output = self
            .env
            .command()
            .args(["build", "--progress=plain", "-t", "after:1"])
            .arg(self.context.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(self.work_directories().is_empty());
        self.assert_store_verifies();
    }
}

/// Pids of processes running `sleep SECONDS`.
fn sleeping_processes(seconds: u32) -> Vec<u32> {
    let wanted = format!("sleep\0{seconds}\0");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && cmdline == wanted.as_bytes()
        {
            pids.push(pid);
        }
    }
    pids
}

/// Lines of this process's mount table that mention the store.
fn store_mounts(root: &Path) -> Vec<String> {
    let root = root.to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|line| line.contains(&root))
        .map(str::to_owned)
        .collect()
}

fn wait_with_deadline(child: &mut Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(started.elapsed() < DEADLINE, "the build did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(target: &str, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg("--")
        .arg(target)
        .status()
        .unwrap();
    assert!(status.success());
}

/// A sleep length no other test uses at the same time.
fn unique_seconds(offset: u32) -> u32 {
    3_000_000 + (std::process::id() % 100_000) * 10 + offset
}

#[test]
fn interrupt_cancels_cleanly() {
    let Some(fixture) = Fixture::new("interrupt_cancels_cleanly") else {
        return;
    };
    // To strata alone (`kill -INT`), then to the process group (Ctrl-C).
    for (round, group) in [(0, false), (1, true)] {
        let seconds = unique_seconds(round);
        let mut child = fixture.start_sleeping_build(seconds);
        let pid = child.id().to_string();
        let target = if group { format!("-{pid}") } else { pid };
        signal(&target, "INT");
        let status = wait_with_deadline(&mut child);
        let stderr = fixture.stderr();
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("build cancelled"), "{stderr}");
        fixture.assert_clean(seconds);
        // A cancelled build cleans up after itself: nothing waits for the next command.
        assert!(
            fixture.work_directories().is_empty(),
            "{:?}",
            fixture.work_directories()
        );
        fixture.assert_store_verifies();
    }
    fixture.assert_next_build_works();
}

#[test]
fn sigkill_leaves_nothing_the_next_command_keeps() {
    let Some(fixture) = Fixture::new("sigkill_leaves_nothing_the_next_command_keeps") else {
        return;
    };
    let seconds = unique_seconds(5);
    let mut child = fixture.start_sleeping_build(seconds);
    signal(&child.id().to_string(), "KILL");
    let status = wait_with_deadline(&mut child);
    assert_eq!(status.code(), None);
    fixture.assert_clean(seconds);
    // Any next command removes what the killed build could not.
    fixture.env.ok(&["images"]);
    assert!(
        fixture.work_directories().is_empty(),
        "{:?}",
        fixture.work_directories()
    );
    fixture.assert_store_verifies();
    fixture.assert_next_build_works();
}

#[test]
fn system_check_finds_what_is_wrong() {
    let env = Env::new();
    let source = tempfile::tempdir().unwrap();
    std::fs::write(source.path().join("file"), "content\n").unwrap();
    env.ok(&["import", source.path().to_str().unwrap(), "checked:1"]);
    assert!(
        env.ok(&["system", "check"])
            .contains("the store is consistent")
    );
    // Tamper with the largest blob (the layer).
    let blobs = env.root().join("images/blobs/sha256");
    let layer = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    std::fs::write(&layer, b"tampered").unwrap();
    let output = env.run(&["system", "check"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let name = layer.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        stdout.contains(&format!("corrupt blob: sha256:{name}")),
        "{stdout}"
    );
    assert!(stdout.ends_with("problems found\n"), "{stdout}");
}
