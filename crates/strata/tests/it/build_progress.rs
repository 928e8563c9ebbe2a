//! `strata build`'s progress: the live tty view in a real pseudo-terminal
//! (through `script`), with and without colour, and the report of a failed
//! step.

use std::process::Command;

use crate::harness::Env;

struct Fixture {
    env: Env,
    context: tempfile::TempDir,
}

impl Fixture {
    fn new(test: &str) -> Option<Self> {
        let fixture = Self {
            env: Env::with_busybox(test)?,
            context: tempfile::tempdir().unwrap(),
        };
        Some(fixture)
    }

    fn dockerfile(&self, text: &str) {
        std::fs::write(self.context.path().join("Dockerfile"), text).unwrap();
    }

    /// Runs `strata build ARGS CONTEXT` on a pseudo-terminal; what it drew.
    fn build_on_terminal(&self, args: &str, no_colour: bool) -> (bool, String) {
        let strata = assert_cmd::cargo::cargo_bin("strata");
        let command = format!(
            "{} build {args} {}",
            strata.display(),
            self.context.path().display()
        );
        let mut script = Command::new("script");
        script
            .args(["-qfec", &command, "/dev/null"])
            .env("STRATA_ROOT", self.env.root())
            .env("COLUMNS", "100")
            .env_remove("BUILDKIT_PROGRESS");
        if no_colour {
            script.env("NO_COLOR", "1");
        } else {
            script.env_remove("NO_COLOR");
        }
        let output = script.output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }
}

fn has_script() -> bool {
    strata_test::find_program("script").is_some()
}

#[test]
fn live_view_on_a_terminal() {
    let Some(fixture) = Fixture::new("live_view_on_a_terminal") else {
        return;
    };
    if !strata_test::should_run("live_view_on_a_terminal", has_script(), "script (bsdutils)") {
        return;
    }
    fixture.dockerfile(
        "FROM local/busybox:latest\nRUN for i in 1 2 3 4 5 6 7 8; do echo step-output-$i; sleep 0.15; done\n",
    );
    let (ok, drawn) = fixture.build_on_terminal("", false);
    assert!(ok, "{drawn}");
    // Frames redrawn in place: the cursor hidden, moved up, lines cleared.
    assert!(drawn.contains("\x1b[?25l"), "{drawn:?}");
    assert!(drawn.contains("A\r[+] Building"), "{drawn:?}");
    assert!(drawn.contains("\x1b[K"), "{drawn:?}");
    assert!(drawn.ends_with("\x1b[?25h"), "{drawn:?}");
    // The running step's last lines of output, under it, while it ran.
    assert!(drawn.contains(" => => # step-output-"), "{drawn:?}");
    // The final frame: every step, its time, FINISHED, colour for done steps.
    let last = &drawn[drawn.rfind("[+] Building").unwrap()..];
    assert!(last.contains(" FINISHED"), "{last:?}");
    assert!(last.contains("[2/2] RUN for i in"), "{last:?}");
    assert!(last.contains("exporting to image"), "{last:?}");
    assert!(!last.contains(" => => # "), "{last:?}");
    assert!(last.contains("\x1b[34m => "), "{last:?}");

    // Cached on the second build, and no colour with NO_COLOR.
    let (ok, drawn) = fixture.build_on_terminal("", true);
    assert!(ok, "{drawn}");
    let last = &drawn[drawn.rfind("[+] Building").unwrap()..];
    assert!(last.contains(" => CACHED [2/2] RUN for i in"), "{last:?}");
    assert!(!drawn.contains("\x1b[34m"), "{drawn:?}");
    assert!(!drawn.contains("\x1b[2m"), "{drawn:?}");

    // --progress=plain on the same terminal: lines, no redrawing.
    let (ok, drawn) = fixture.build_on_terminal("--progress=plain", true);
    assert!(ok, "{drawn}");
    assert!(
        drawn.contains("#4 CACHED") || drawn.contains(" CACHED"),
        "{drawn}"
    );
    assert!(!drawn.contains("[+] Building"), "{drawn}");
}

#[test]
fn failed_step_on_a_terminal_and_in_a_log() {
    let Some(fixture) = Fixture::new("failed_step_on_a_terminal_and_in_a_log") else {
        return;
    };
    fixture.dockerfile(
        "FROM local/busybox:latest\nENV A=1\nRUN for i in $(seq 1 30); do echo out-$i; done; \\\n    echo oops >&2; exit 7\nENV B=2\n",
    );
    let output = fixture
        .env
        .command()
        .args(["build", "--progress=plain"])
        .arg(fixture.context.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = &stderr[stderr.find("------\n").unwrap()..];
    insta::assert_snapshot!("failed_step_report", report);

    if !has_script() {
        return;
    }
    let (ok, drawn) = fixture.build_on_terminal("", true);
    assert!(!ok);
    let last = &drawn[drawn.rfind("[+] Building").unwrap()..];
    assert!(last.contains(" => ERROR [2/2] RUN for i in"), "{last:?}");
    assert!(!last.contains("FINISHED"), "{last:?}");
    assert!(last.contains("exit code: 7"), "{last:?}");
    assert!(last.contains("   oops"), "{last:?}");
}

#[test]
fn the_dockerfile_is_named_by_its_file_name_as_buildkit_does() {
    let Some(fixture) = Fixture::new("the_dockerfile_is_named_by_its_file_name_as_buildkit_does")
    else {
        return;
    };
    let directory = fixture.context.path().join("build");
    std::fs::create_dir(&directory).unwrap();
    let dockerfile = directory.join("app.Dockerfile");
    std::fs::write(&dockerfile, "FROM local/busybox:latest\nENV A=1\n").unwrap();
    let output = fixture
        .env
        .command()
        .args(["build", "--progress=plain", "-f"])
        .arg(&dockerfile)
        .arg(fixture.context.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("#1 [internal] load build definition from app.Dockerfile\n"),
        "{stderr}"
    );
}
