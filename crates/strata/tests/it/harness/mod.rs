//! The one harness of the end-to-end tests: an [`Env`] (a store, a Docker
//! config and a work directory, with the `strata` binary pointed at them) and
//! what the tests read back: images, stores, peers' views, the guide.

mod guide;
mod image;
mod peers;
mod registry;
mod store;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) use guide::{assert_from_guide, fixtures_dir, guide_text, steps};
pub(crate) use image::Saved;
pub(crate) use peers::{docker_daemon, skopeo_raw, skopeo_raw_bytes};
pub(crate) use registry::{full_config_image, redact};
pub(crate) use store::assert_store_consistent;

/// A store, a Docker config and a work directory for one test (or, with
/// [`Env::at`], for the tests of one process).
pub(crate) struct Env {
    /// Holds `root/` (the store), `docker/` and `work/`.
    pub(crate) directory: PathBuf,
    _temporary: Option<tempfile::TempDir>,
}

impl Env {
    /// An empty environment in a temporary directory, removed on drop.
    pub(crate) fn new() -> Self {
        let temporary = tempfile::tempdir().unwrap();
        let env = Self {
            directory: temporary.path().to_path_buf(),
            _temporary: Some(temporary),
        };
        fs::create_dir_all(env.work()).unwrap();
        env
    }

    /// An empty environment in `directory` (emptied first) that outlives
    /// the value: for a store the tests of one process share.
    pub(crate) fn at(directory: &Path) -> Self {
        let _ = fs::remove_dir_all(directory);
        let env = Self {
            directory: directory.to_path_buf(),
            _temporary: None,
        };
        fs::create_dir_all(env.work()).unwrap();
        env
    }

    /// An environment whose store holds `local/busybox:latest` (Debian's
    /// static busybox, `CMD ["/bin/sh"]`, imported at `SOURCE_DATE_EPOCH=0`);
    /// `None`, after a loud skip, when this machine cannot run build steps.
    pub(crate) fn with_busybox(test: &str) -> Option<Self> {
        if !strata_test::should_run_as_root(test) {
            return None;
        }
        let env = Self::new();
        let output = env
            .command()
            .env("SOURCE_DATE_EPOCH", "0")
            .args(["import", "-c", "CMD [\"/bin/sh\"]"])
            .arg(strata_test::busybox_rootfs())
            .arg("local/busybox:latest")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "import: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Some(env)
    }

    /// The store (`STRATA_ROOT`).
    pub(crate) fn root(&self) -> PathBuf {
        self.directory.join("root")
    }

    /// `DOCKER_CONFIG`.
    pub(crate) fn docker_config(&self) -> PathBuf {
        self.directory.join("docker")
    }

    /// Scratch space: contexts, archives.
    pub(crate) fn work(&self) -> PathBuf {
        self.directory.join("work")
    }

    /// `strata` with `STRATA_ROOT` and `DOCKER_CONFIG` set to this environment,
    /// colours off and no `SOURCE_DATE_EPOCH` from the caller.
    pub(crate) fn strata(&self) -> Command {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("strata"));
        command
            .env("STRATA_ROOT", self.root())
            .env("DOCKER_CONFIG", self.docker_config())
            .env("NO_COLOR", "1")
            .env_remove("SOURCE_DATE_EPOCH")
            .env_remove("STRATA_INSECURE_REGISTRIES");
        command
    }

    /// [`Env::strata`] as an `assert_cmd` command.
    pub(crate) fn command(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.strata())
    }

    /// Runs strata with `args`; asserts success; returns stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "strata {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs strata with `args`; returns the whole output.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.strata().args(args).output().unwrap()
    }

    /// Checks the store's invariants: every blob hashes to its name, every
    /// ref reaches only present blobs, nothing half-written is visible.
    pub(crate) fn assert_consistent(&self) {
        assert_store_consistent(&self.root());
    }

    /// A fresh context directory `name` in the work directory with `files`
    /// (path, content) in it.
    pub(crate) fn context(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let directory = self.work().join(name);
        let _ = fs::remove_dir_all(&directory);
        fs::create_dir_all(&directory).unwrap();
        for (path, content) in files {
            let path = directory.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        directory
    }

    /// Builds `context` with `args` (its Dockerfile is `dockerfile` when given).
    pub(crate) fn build(&self, context: &Path, dockerfile: Option<&str>, args: &[&str]) -> Output {
        if let Some(dockerfile) = dockerfile {
            fs::write(context.join("Dockerfile"), dockerfile).unwrap();
        }
        self.strata()
            .current_dir(context)
            .args(["build", "--progress=plain"])
            .args(args)
            .arg(context)
            .output()
            .unwrap()
    }

    /// Builds, asserting success; the build's output (stderr).
    pub(crate) fn build_ok(
        &self,
        context: &Path,
        dockerfile: Option<&str>,
        args: &[&str],
    ) -> String {
        let output = self.build(context, dockerfile, args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "build failed:\n{stderr}");
        stderr
    }
}

impl Drop for Env {
    /// Removes the containers a test left behind (passed or failed), so that
    /// no process, mount or pasta outlives it.
    fn drop(&mut self) {
        if !self.root().join("areas/containers").is_dir() {
            return;
        }
        let Ok(listed) = self.strata().args(["ps", "-aq", "--no-trunc"]).output() else {
            return;
        };
        let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        if !ids.is_empty() {
            let _ = self.strata().args(["rm", "-f", "-v"]).args(&ids).output();
        }
    }
}

/// Text of a command's output, lossily.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
