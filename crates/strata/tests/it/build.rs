//! End-to-end tests of `strata build` over a busybox base image the tests
//! make themselves (`FROM scratch` + Debian's static busybox). RUN steps need
//! root and namespaces; without them these tests skip loudly (and fail under
//! CI's STRATA_REQUIRE_PRIVILEGED=1).

use std::fs;
use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

use crate::harness::{Env, Saved};

/// A store with `local/busybox:latest` in it, and a context directory.
struct Fixture {
    env: Env,
    context: tempfile::TempDir,
}

impl Fixture {
    /// `None` (after a loud skip) when the machine cannot run build steps.
    fn new(test: &str) -> Option<Fixture> {
        Some(Fixture {
            env: Env::with_busybox(test)?,
            context: tempfile::tempdir().unwrap(),
        })
    }

    fn strata(&self) -> Command {
        self.env.command()
    }

    fn write(&self, path: &str, contents: &str) {
        let path = self.context.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    /// Runs `strata build --progress=plain ARGS... CONTEXT` and returns its output.
    fn build(&self, args: &[&str]) -> Output {
        self.strata()
            .args(["build", "--progress=plain"])
            .args(args)
            .arg(self.context.path())
            .output()
            .unwrap()
    }

    /// Builds, asserting success; the metadata file's contents.
    fn build_ok(&self, args: &[&str]) -> Value {
        let metadata = self.env.directory.as_path().join("metadata.json");
        let mut all: Vec<&str> = vec!["--metadata-file", metadata.to_str().unwrap()];
        all.extend_from_slice(args);
        let output = self.build(&all);
        assert!(
            output.status.success(),
            "build failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&fs::read(metadata).unwrap()).unwrap()
    }
}

fn steps(metadata: &Value) -> Vec<(String, bool, String)> {
    metadata["strata.steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["cached"].as_bool().unwrap(),
                s["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn config_and_history_follow_the_dockerfile() {
    let Some(fixture) = Fixture::new("config_and_history_follow_the_dockerfile") else {
        return;
    };
    fixture.write(
        "Dockerfile",
        r#"FROM local/busybox:latest
ARG VERSION=1.0
ENV APP=/app GREETING="hello world"
LABEL a=b "c d"=e
WORKDIR /app
COPY hello.txt ./
RUN echo "v=$VERSION" > /version.txt
USER nobody
EXPOSE 8080 53/udp
VOLUME /data
HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost || exit 1
STOPSIGNAL SIGQUIT
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo hi
MAINTAINER me@example.com
ENTRYPOINT ["/bin/sh"]
CMD ["-c", "echo hi"]
"#,
    );
    fixture.write("hello.txt", "hello\n");
    fixture.build_ok(&["-t", "app:1"]);
    let image = fixture.env.inspect("app:1");
    let config = &image["Config"];
    assert_eq!(config["User"], "nobody");
    assert_eq!(config["WorkingDir"], "/app");
    assert_eq!(
        config["Env"],
        serde_json::json!([
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "APP=/app",
            "GREETING=hello world"
        ])
    );
    assert_eq!(config["Labels"], serde_json::json!({"a": "b", "c d": "e"}));
    assert_eq!(
        config["ExposedPorts"],
        serde_json::json!({"53/udp": {}, "8080/tcp": {}})
    );
    assert_eq!(config["Volumes"], serde_json::json!({"/data": {}}));
    assert_eq!(config["StopSignal"], "SIGQUIT");
    assert_eq!(config["Shell"], serde_json::json!(["/bin/sh", "-ec"]));
    assert_eq!(config["OnBuild"], serde_json::json!(["RUN echo hi"]));
    assert_eq!(config["Entrypoint"], serde_json::json!(["/bin/sh"]));
    assert_eq!(config["Cmd"], serde_json::json!(["-c", "echo hi"]));
    assert_eq!(
        config["Healthcheck"],
        serde_json::json!({"Test": ["CMD-SHELL", "wget -q localhost || exit 1"], "Interval": 5000000000i64, "Retries": 2})
    );
    assert_eq!(image["Author"], "me@example.com");

    let history = fixture
        .strata()
        .args([
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}",
            "app:1",
        ])
        .output()
        .unwrap();
    let history = String::from_utf8_lossy(&history.stdout);
    let lines: Vec<&str> = history.lines().rev().skip(1).collect();
    assert_eq!(
        lines,
        [
            "ARG VERSION=1.0",
            "ENV APP=/app GREETING=hello world",
            "LABEL a=b c d=e",
            "WORKDIR /app",
            "COPY hello.txt ./ # buildkit",
            "RUN |1 VERSION=1.0 /bin/sh -c echo \"v=$VERSION\" > /version.txt # buildkit",
            "USER nobody",
            "EXPOSE [53/udp 8080/tcp]",
            "VOLUME [/data]",
            "HEALTHCHECK {Test:[CMD-SHELL wget -q localhost || exit 1] Interval:5s Timeout:0s StartPeriod:0s StartInterval:0s Retries:2}",
            "STOPSIGNAL SIGQUIT",
            "SHELL [/bin/sh -ec]",
            "MAINTAINER me@example.com",
            "ENTRYPOINT [\"/bin/sh\"]",
            "CMD [\"-c\" \"echo hi\"]",
        ]
    );
    let saved = Saved::of(&fixture.env, "app:1", &[]);
    let root = saved.rootfs();
    assert_eq!(
        fs::read_to_string(root.join("version.txt")).unwrap(),
        "v=1.0\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("app/hello.txt")).unwrap(),
        "hello\n"
    );
}

#[test]
fn rebuilds_only_from_the_changed_copy_and_says_why() {
    let Some(fixture) = Fixture::new("rebuilds_only_from_the_changed_copy_and_says_why") else {
        return;
    };
    fixture.write(
        "Dockerfile",
        "FROM local/busybox:latest\nWORKDIR /app\nCOPY deps.txt ./\nRUN cp deps.txt installed.txt\nCOPY src/ ./src/\nRUN ls src > listing.txt\nCMD [\"/bin/sh\"]\n",
    );
    fixture.write("deps.txt", "one\n");
    fixture.write("src/app.py", "# a comment\nprint('hi')\n");
    fixture.write("src/util.py", "x = 1\n");
    let first = fixture.build_ok(&["-t", "app"]);
    assert!(
        steps(&first).iter().all(|(_, cached, _)| !cached),
        "{first}"
    );

    // Nothing changed: every step from the cache, the same image.
    let again = fixture.build_ok(&["-t", "app"]);
    assert!(
        steps(&again).iter().all(|(_, cached, _)| *cached),
        "{again}"
    );
    assert_eq!(
        first["containerimage.config.digest"],
        again["containerimage.config.digest"]
    );

    // The guide's exercise: a comment changes in one source file.
    fixture.write("src/app.py", "# another comment\nprint('hi')\n");
    let edited = fixture.build_ok(&["-t", "app"]);
    let steps = steps(&edited);
    let cached: Vec<bool> = steps.iter().map(|(_, cached, _)| *cached).collect();
    assert_eq!(cached, [true, true, true, false, false], "{steps:?}");
    assert_eq!(steps[3].2, "src/app.py changed");
    assert_eq!(steps[4].2, "parent step 5 rebuilt");
    assert_ne!(
        first["containerimage.config.digest"],
        edited["containerimage.config.digest"]
    );

    // mtime alone does not matter.
    let path = fixture.context.path().join("deps.txt");
    let file = fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .unwrap();
    let touched = fixture.build_ok(&["-t", "app"]);
    assert!(self::steps(&touched).iter().all(|(_, cached, _)| *cached));
}

#[test]
fn build_args_and_no_cache_invalidate() {
    let Some(fixture) = Fixture::new("build_args_and_no_cache_invalidate") else {
        return;
    };
    fixture.write(
        "Dockerfile",
        "FROM local/busybox:latest\nRUN echo base > /base\nARG VERSION=1.0\nRUN echo $VERSION > /version\n",
    );
    fixture.build_ok(&["-t", "v"]);
    let changed = fixture.build_ok(&["-t", "v", "--build-arg", "VERSION=1.1"]);
    let steps = steps(&changed);
    assert!(steps[0].1, "{steps:?}");
    assert!(!steps[1].1);
    assert_eq!(steps[1].2, "build arg VERSION changed 1.0 -> 1.1");
    let saved = Saved::of(&fixture.env, "v", &[]);
    let root = saved.rootfs();
    assert_eq!(fs::read_to_string(root.join("version")).unwrap(), "1.1\n");

    let forced = fixture.build_ok(&["-t", "v", "--build-arg", "VERSION=1.1", "--no-cache"]);
    assert!(
        self::steps(&forced)
            .iter()
            .all(|(_, cached, reason)| !cached && reason == "--no-cache")
    );
}

#[test]
fn stages_targets_and_copy_from() {
    let Some(fixture) = Fixture::new("stages_targets_and_copy_from") else {
        return;
    };
    fixture.write(
        "Dockerfile",
        r#"FROM local/busybox:latest AS build
RUN mkdir -p /out && echo built > /out/artifact && chown 1000:1000 /out/artifact

FROM local/busybox:latest AS unused
RUN exit 1

FROM scratch AS final
COPY --from=build /out/artifact /artifact
COPY --from=0 /bin/busybox /bin/
CMD ["/bin/busybox", "cat", "/artifact"]
"#,
    );
    fixture.build_ok(&["-t", "final"]);
    let saved = Saved::of(&fixture.env, "final", &[]);
    let root = saved.rootfs();
    assert_eq!(
        fs::read_to_string(root.join("artifact")).unwrap(),
        "built\n"
    );
    assert!(root.join("bin/busybox").is_file());
    // --from keeps the owner the file had in its stage.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(fs::metadata(root.join("artifact")).unwrap().uid(), 1000);
    let config = fixture.env.inspect("final");
    assert_eq!(config["Config"]["WorkingDir"], "/");

    // --target builds only what the target needs.
    let metadata = fixture.build_ok(&["-t", "build-only", "--target", "build"]);
    assert_eq!(steps(&metadata).len(), 1);
    let failing = fixture.build(&["--target", "unused"]);
    assert!(!failing.status.success());
    let text = stderr(&failing);
    assert!(
        text.contains("did not complete successfully: exit code: 1"),
        "{text}"
    );
    assert!(text.contains("RUN exit 1"), "{text}");
}

#[test]
fn source_date_epoch_makes_builds_reproducible() {
    let Some(first) = Fixture::new("source_date_epoch_makes_builds_reproducible") else {
        return;
    };
    let second = Fixture::new("source_date_epoch_makes_builds_reproducible").unwrap();
    for fixture in [&first, &second] {
        fixture.write(
            "Dockerfile",
            "FROM local/busybox:latest\nCOPY a /a\nRUN date > /built-at && mkdir /d\nENV X=1\n",
        );
        fixture.write("a", "same content\n");
    }
    let a = first.build_ok(&["--build-arg", "SOURCE_DATE_EPOCH=1700000000"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = second.build_ok(&["--build-arg", "SOURCE_DATE_EPOCH=1700000000"]);
    // The RUN writes the date: different content, different image.
    assert_ne!(
        a["containerimage.config.digest"],
        b["containerimage.config.digest"]
    );
    for fixture in [&first, &second] {
        fixture.write(
            "Dockerfile",
            "FROM local/busybox:latest\nCOPY a /a\nRUN mkdir /d && echo fixed > /d/f\nENV X=1\n",
        );
    }
    let a = first.build_ok(&["--build-arg", "SOURCE_DATE_EPOCH=1700000000"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = second.build_ok(&["--build-arg", "SOURCE_DATE_EPOCH=1700000000"]);
    assert_eq!(
        a["containerimage.config.digest"],
        b["containerimage.config.digest"]
    );
    assert_eq!(a["containerimage.digest"], b["containerimage.digest"]);
}

#[test]
fn errors_name_the_dockerfile_line() {
    let Some(fixture) = Fixture::new("errors_name_the_dockerfile_line") else {
        return;
    };
    fixture.write(
        "Dockerfile",
        "FROM local/busybox:latest\nCOPY missing.txt /\n",
    );
    let output = fixture.build(&[]);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("Dockerfile:2:1"), "{text}");
    assert!(text.contains("\"/missing.txt\": not found"), "{text}");

    fixture.write(
        "Dockerfile",
        "FROM local/busybox:latest\nRUN echo one; echo two >&2; exit 3\n",
    );
    let output = fixture.build(&[]);
    let text = stderr(&output);
    assert!(text.contains("exit code: 3"), "{text}");
    assert!(
        text.contains("   one\n") && text.contains("   two\n"),
        "{text}"
    );
    assert!(text.contains("Dockerfile:2:1"), "{text}");

    let output = fixture.build(&["--target", "nope"]);
    assert!(stderr(&output).contains("target stage \"nope\" could not be found"));

    // BuildKit v0.32 reads STOPSIGNAL with moby/sys/signal v0.7.1, whose
    // message is lower-case (docker 20.10's daemon said "Invalid signal").
    fixture.write(
        "Dockerfile",
        "FROM local/busybox:latest\nSTOPSIGNAL SIGFOO\n",
    );
    let output = fixture.build(&[]);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("invalid signal: SIGFOO"), "{text}");
    assert!(text.contains("Dockerfile:2"), "{text}");
    let _: PathBuf = fixture.context.path().to_path_buf();
}

#[test]
fn build_checks_warn_and_check_error_fails() {
    let Some(fixture) = Fixture::new("build_checks_warn_and_check_error_fails") else {
        return;
    };
    fixture.write("Dockerfile", "FROM local/busybox:latest\nCMD echo hi\n");
    let output = fixture.build(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            " 1 warning found:\n - JSONArgsRecommended: JSON arguments recommended for CMD"
        ),
        "{}",
        stderr(&output)
    );

    // --check lints and builds nothing.
    let output = fixture.build(&["--check", "-t", "checked"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("Check complete, 1 warning has been found!"),
        "{}",
        stderr(&output)
    );
    let images = fixture
        .strata()
        .args(["images", "-q", "checked"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&images.stdout).trim().is_empty());

    // `# check=error=true` fails the build on a warning.
    fixture.write(
        "Dockerfile",
        "# check=error=true\nFROM local/busybox:latest\nCMD echo hi\n",
    );
    let output = fixture.build(&[]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("lint violation found for rules: JSONArgsRecommended"),
        "{}",
        stderr(&output)
    );

    fixture.write(
        "Dockerfile",
        "FROM local/busybox:latest\nCMD [\"echo\", \"hi\"]\n",
    );
    let output = fixture.build(&["--check"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn build_checks_know_the_base_images_in_the_store() {
    let Some(fixture) = Fixture::new("build_checks_know_the_base_images_in_the_store") else {
        return;
    };
    // An arm64 image with ENV FROM_IMAGE, loaded from an OCI archive.
    let layout = tempfile::tempdir().unwrap();
    strata_test::TestImage::builder()
        .layer(&[("file", b"x\n")])
        .platform("linux/arm64")
        .config(strata_oci::ContainerConfig {
            env: Some(vec!["FROM_IMAGE=1".to_owned()]),
            ..Default::default()
        })
        .build()
        .write_layout(layout.path(), "docker.io/local/arm:latest");
    let archive = fixture.context.path().join("arm.tar");
    let status = std::process::Command::new("tar")
        .arg("-C")
        .arg(layout.path())
        .arg("-cf")
        .arg(&archive)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let loaded = fixture
        .strata()
        .args(["load", "-i"])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    fixture.write(
        "Dockerfile",
        "FROM local/arm:latest\nENV A=$FROM_IMAGE B=$NOWHERE\n",
    );
    let output = fixture.build(&["--check"]);
    let text = stderr(&output);
    // The image's own ENV is known: only NOWHERE is undefined.
    assert!(
        text.contains("warning[UndefinedVar]: Usage of undefined variable '$NOWHERE'"),
        "{text}"
    );
    assert!(!text.contains("'$FROM_IMAGE'"), "{text}");
    assert!(
        text.contains(
            "warning[InvalidBaseImagePlatform]: Base image local/arm:latest was pulled with platform \"linux/arm64\", expected \"linux/amd64\" for current build"
        ) || !cfg!(target_arch = "x86_64"),
        "{text}"
    );
}
