//! The guide's Debian-based Dockerfiles (../shared/guide/dockerfile-guide.txt):
//! `ubuntu:24.04`, `debian:bookworm-slim` and `python:3.12-slim` are the
//! Debian minbase tree strata_test::debian_rootfs() makes (debootstrap,
//! cached between runs), with a pip stand-in for python and a curl stand-in
//! for the example.com downloads. The apt-get examples run real apt-get
//! against Debian's mirror: when this machine cannot reach it the tests fail
//! saying so (STRATA_ALLOW_OFFLINE=1 turns that into a loud skip).
//!
//! One store serves every test of this file (importing the Debian tree is
//! the slow part); it lives under the target directory.

use std::sync::OnceLock;

use serde_json::json;

use crate::harness::{Env, assert_from_guide, steps};

const PYTHON_IMAGE: &str = r#"FROM local/debian
COPY fixtures/pip /usr/local/bin/pip
COPY fixtures/stub /usr/local/bin/python
COPY fixtures/stub /usr/local/bin/python3
COPY fixtures/stub /usr/local/bin/gunicorn
ENV LANG=C.UTF-8 PYTHON_VERSION=3.12.4
CMD ["python3"]
"#;

const UBUNTU_IMAGE: &str = r#"FROM local/debian
CMD ["/bin/bash"]
"#;

const DEBIAN_SLIM_IMAGE: &str = r#"FROM local/debian
COPY fixtures/curl /usr/local/bin/curl
CMD ["bash"]
"#;

/// Why the Debian store could not be made, or the store.
static STORE: OnceLock<Result<Env, String>> = OnceLock::new();

/// The shared store with the Debian stand-ins; `None` after a loud skip.
fn debian(test: &str) -> Option<&'static Env> {
    if !strata_test::should_run_as_root(test) {
        return None;
    }
    let store = STORE.get_or_init(|| {
        let tree = strata_test::debian_rootfs()?;
        // Made once even when it fails: a panic here would make every test redo it.
        std::panic::catch_unwind(|| {
            let directory = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("guide-debian");
            let guide = Env::at(&directory);
            guide.load_tree(&tree, "local/debian:latest");
            guide.fixture_image(PYTHON_IMAGE, &["python:3.12-slim"]);
            guide.fixture_image(UBUNTU_IMAGE, &["ubuntu:24.04"]);
            guide.fixture_image(DEBIAN_SLIM_IMAGE, &["debian:bookworm-slim"]);
            guide
        })
        .map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "making the stand-in images failed".to_owned())
        })
    });
    match store {
        Ok(guide) => Some(guide),
        Err(why) if why.contains("debootstrap") => offline(
            test,
            &format!("the Debian base image cannot be made: {why}"),
        ),
        Err(why) => panic!("{test}: {why}"),
    }
}

/// Fails (or, with STRATA_ALLOW_OFFLINE=1, skips loudly) for want of the network.
fn offline(test: &str, why: &str) -> Option<&'static Env> {
    use std::io::Write;
    if std::env::var("STRATA_ALLOW_OFFLINE").as_deref() == Ok("1") {
        let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
        return None;
    }
    panic!("{test}: {why} (set STRATA_ALLOW_OFFLINE=1 to skip the guide's Debian examples)");
}

/// The store, after checking that Debian's mirror answers.
fn with_mirror(test: &str) -> Option<&'static Env> {
    let guide = debian(test)?;
    let mirror = std::env::var("STRATA_DEBIAN_MIRROR")
        .unwrap_or_else(|_| "http://deb.debian.org/debian".to_owned());
    let host = mirror
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("deb.debian.org")
        .to_owned();
    let address = if host.contains(':') {
        host.clone()
    } else {
        format!("{host}:80")
    };
    use std::net::ToSocketAddrs;
    let reachable = address
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| {
            std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(10)).is_ok()
        });
    if !reachable {
        return offline(
            test,
            &format!(
                "Debian's mirror {mirror} is unreachable: the guide's apt-get examples need it"
            ),
        );
    }
    Some(guide)
}

const PYTHON_PROJECT: [(&str, &str); 5] = [
    (
        "requirements.txt",
        "Flask==3.0.3\ngunicorn>=22.0  # the server\n",
    ),
    ("src/main.py", "print('hello')\n"),
    ("app.py", "def create_app():\n    pass\n"),
    ("manage.py", "import sys\n"),
    (".dockerignore", "__pycache__/\n"),
];

const RUN_BAD: &str = "# BAD: Multiple RUN instructions = multiple layers = larger image
FROM ubuntu:24.04
RUN apt-get update
RUN apt-get install -y curl
RUN apt-get install -y wget
RUN apt-get install -y git
RUN rm -rf /var/lib/apt/lists/*
# Result: 5 layers, intermediate apt cache layers persist
";

const RUN_GOOD: &str = "# GOOD: Combined RUN with cleanup = single layer = smaller image
FROM ubuntu:24.04
RUN apt-get update && \\
apt-get install -y --no-install-recommends \\
curl \\
wget \\
git \\
&& rm -rf /var/lib/apt/lists/*
# Result: 1 layer, apt cache cleaned in the same layer
";

/// The guide's RUN examples and its first exercise (layer analysis): five
/// layers against one, the apt lists kept in the first, and `apt-get
/// update` alone served from the cache forever.
#[test]
fn run_layers_with_real_apt_get() {
    let Some(guide) = with_mirror("run_layers_with_real_apt_get") else {
        return;
    };
    assert_from_guide(RUN_BAD, &[]);
    assert_from_guide(RUN_GOOD, &[]);
    let context = guide.context("apt", &[]);
    guide.build_ok(&context, Some(RUN_BAD), &["-t", "layers:bad"]);
    guide.build_ok(&context, Some(RUN_GOOD), &["-t", "layers:good"]);
    let base = guide.saved("ubuntu:24.04").1.len();
    let (_, bad_layers) = guide.saved("layers:bad");
    let (_, good_layers) = guide.saved("layers:good");
    assert_eq!(bad_layers.len() - base, 5);
    assert_eq!(good_layers.len() - base, 1);
    let size = |layers: &[Vec<u8>]| layers[base..].iter().map(Vec::len).sum::<usize>();
    // The lists deleted by the fifth RUN are still in the first layer.
    assert!(
        size(&bad_layers) > size(&good_layers) + 5_000_000,
        "bad {} good {}",
        size(&bad_layers),
        size(&good_layers)
    );
    for image in ["layers:bad", "layers:good"] {
        let files = guide.files(image);
        for program in ["usr/bin/curl", "usr/bin/wget", "usr/bin/git"] {
            assert!(files.contains_key(program), "{image} lacks {program}");
        }
        assert!(
            !files
                .keys()
                .any(|k| k.starts_with("var/lib/apt/lists/") && k.ends_with("_Packages")),
            "{image} keeps apt lists"
        );
    }
    let history = guide.history("layers:good");
    assert_eq!(
        history.last().unwrap().0,
        "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl wget git && rm -rf /var/lib/apt/lists/* # buildkit"
    );
    // "apt-get update alone: cached forever".
    let progress = guide.build_ok(&context, Some(RUN_BAD), &["-t", "layers:bad"]);
    let ran: Vec<_> = steps(&progress)
        .into_iter()
        .filter(|(_, cached)| !cached)
        .collect();
    assert!(ran.is_empty(), "{progress}");
}

const FROM_SOURCE: &str = "# Building from source with cleanup in the same layer
FROM debian:bookworm-slim
RUN apt-get update && \\
apt-get install -y --no-install-recommends \\
build-essential \\
libssl-dev \\
&& cd /tmp && \\
curl -sSL https://example.com/source.tar.gz | tar xz && \\
cd source && ./configure && make && make install && \\
cd / && rm -rf /tmp/source && \\
apt-get purge -y build-essential && \\
apt-get autoremove -y && \\
rm -rf /var/lib/apt/lists/*
# Build tools installed, used, and removed in one layer
";

#[test]
fn build_tools_installed_used_and_removed_in_one_layer() {
    let Some(guide) = with_mirror("build_tools_installed_used_and_removed_in_one_layer") else {
        return;
    };
    assert_from_guide(FROM_SOURCE, &[]);
    let context = guide.context("from-source", &[]);
    guide.build_ok(&context, Some(FROM_SOURCE), &["-t", "from-source"]);
    let files = guide.files("from-source");
    let tool = &files["usr/local/bin/source-tool"];
    assert_eq!(
        (tool.mode, String::from_utf8_lossy(&tool.content).as_ref()),
        (0o755, "built\n")
    );
    assert!(!files.contains_key("tmp/source/Makefile"));
    // build-essential was purged (what autoremove takes with it is apt's
    // business); libssl-dev stayed; the lists are gone.
    assert!(!files.contains_key("var/lib/dpkg/info/build-essential.list"));
    assert!(files.contains_key("usr/include/openssl/ssl.h"));
    assert!(
        !files
            .keys()
            .any(|k| k.starts_with("var/lib/apt/lists/") && k.ends_with("_Packages"))
    );
    assert_eq!(
        guide.saved("from-source").1.len() - guide.saved("debian:bookworm-slim").1.len(),
        1
    );
}

const FROM_DIGEST: &str = "# Using a digest for absolute reproducibility
FROM python:3.12-slim@sha256:a1b2c3d4e5f6...
";

const WORKDIR_PYTHON: &str = "# WORKDIR can be used multiple times
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
WORKDIR /app/src
COPY src/ .
WORKDIR /app
CMD [\"python\", \"src/main.py\"]
";

const ENTRYPOINT_CMD: &str = "# Pattern 2: ENTRYPOINT + CMD — executable with default arguments
FROM python:3.12-slim
WORKDIR /app
COPY . .
ENTRYPOINT [\"python\", \"manage.py\"]
CMD [\"runserver\", \"0.0.0.0:8000\"]
";

const HEALTHCHECK_CURL: &str = "# curl-based health check (for containers with curl)
FROM python:3.12-slim
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \\
CMD curl -f http://localhost:8000/api/health || exit 1
";

#[test]
fn python_images_digests_workdirs_and_entrypoints() {
    let Some(guide) = debian("python_images_digests_workdirs_and_entrypoints") else {
        return;
    };
    assert_from_guide(FROM_DIGEST, &[]);
    assert_from_guide(WORKDIR_PYTHON, &[]);
    assert_from_guide(ENTRYPOINT_CMD, &[]);
    assert_from_guide(HEALTHCHECK_CURL, &[]);
    let context = guide.context("python", &PYTHON_PROJECT);

    // The guide's digest is a placeholder: the stand-in's own digest.
    let digest = guide.inspect("python:3.12-slim")["Descriptor"]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let pinned = FROM_DIGEST.replace("sha256:a1b2c3d4e5f6...", &digest);
    let progress = guide.build_ok(&context, Some(&pinned), &["-t", "pinned-python"]);
    assert!(
        progress.contains(&format!("python:3.12-slim@{digest}")),
        "{progress}"
    );
    assert_eq!(
        guide.inspect("pinned-python")["RootFS"],
        guide.inspect("python:3.12-slim")["RootFS"]
    );

    guide.build_ok(&context, Some(WORKDIR_PYTHON), &["-t", "workdirs"]);
    let files = guide.files("workdirs");
    assert!(files.contains_key("app/requirements.txt"));
    assert!(files.contains_key("app/src/main.py"));
    assert!(files.contains_key("usr/local/lib/python3.12/site-packages/flask/__init__.py"));
    assert!(
        files
            .contains_key("usr/local/lib/python3.12/site-packages/gunicorn-1.0.dist-info/METADATA")
    );
    // Without --no-cache-dir pip keeps its cache (in the image).
    assert!(files.contains_key("root/.cache/pip/wheels/flask-1.0-py3-none-any.whl"));
    let config = guide.config("workdirs");
    assert_eq!(config["WorkingDir"], "/app");
    assert_eq!(config["Cmd"], json!(["python", "src/main.py"]));
    let history: Vec<String> = guide.history("workdirs").into_iter().map(|h| h.0).collect();
    assert!(history.ends_with(&[
        "WORKDIR /app".to_owned(),
        "COPY requirements.txt . # buildkit".to_owned(),
        "RUN /bin/sh -c pip install -r requirements.txt # buildkit".to_owned(),
        "WORKDIR /app/src".to_owned(),
        "COPY src/ . # buildkit".to_owned(),
        "WORKDIR /app".to_owned(),
        "CMD [\"python\" \"src/main.py\"]".to_owned(),
    ]));

    guide.build_ok(&context, Some(ENTRYPOINT_CMD), &["-t", "manage"]);
    let config = guide.config("manage");
    assert_eq!(config["Entrypoint"], json!(["python", "manage.py"]));
    assert_eq!(config["Cmd"], json!(["runserver", "0.0.0.0:8000"]));
    let files = guide.files("manage");
    assert!(files.contains_key("app/manage.py"));
    assert!(files.contains_key("app/app.py"));

    guide.build_ok(&context, Some(HEALTHCHECK_CURL), &["-t", "checked"]);
    assert_eq!(
        guide.config("checked")["Healthcheck"],
        json!({
            "Test": ["CMD-SHELL", "curl -f http://localhost:8000/api/health || exit 1"],
            "Interval": 30_000_000_000i64,
            "Timeout": 10_000_000_000i64,
            "StartPeriod": 30_000_000_000i64,
            "Retries": 3
        })
    );
}

const USER_DEBIAN: &str = "# Debian/Ubuntu pattern
FROM python:3.12-slim
RUN groupadd -r appgroup && useradd -r -g appgroup -d /app -s /sbin/nologin appuser
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY --chown=appuser:appgroup . .
USER appuser:appgroup
CMD [\"gunicorn\", \"--bind\", \"0.0.0.0:8000\", \"app:create_app()\"]
";

#[test]
fn debian_user_with_useradd() {
    let Some(guide) = debian("debian_user_with_useradd") else {
        return;
    };
    assert_from_guide(USER_DEBIAN, &[]);
    let context = guide.context("debian-user", &PYTHON_PROJECT);
    guide.build_ok(&context, Some(USER_DEBIAN), &["-t", "gunicorn"]);
    let files = guide.files("gunicorn");
    let passwd = String::from_utf8_lossy(&files["etc/passwd"].content).into_owned();
    let line = passwd
        .lines()
        .find(|l| l.starts_with("appuser:"))
        .unwrap_or_else(|| panic!("{passwd}"));
    let fields: Vec<&str> = line.split(':').collect();
    assert_eq!((fields[5], fields[6]), ("/app", "/sbin/nologin"));
    let (uid, gid): (u64, u64) = (fields[2].parse().unwrap(), fields[3].parse().unwrap());
    // System ids (useradd -r), resolved by --chown in the image's files.
    assert!(uid < 1000 && gid < 1000, "{line}");
    assert_eq!(
        (files["app/app.py"].uid, files["app/app.py"].gid),
        (uid, gid)
    );
    // WORKDIR ran as root, before USER.
    assert_eq!(files["app"].uid, 0);
    // --no-cache-dir: no pip cache.
    assert!(!files.keys().any(|k| k.starts_with("root/.cache/pip")));
    let config = guide.config("gunicorn");
    assert_eq!(config["User"], "appuser:appgroup");
    assert_eq!(
        config["Cmd"],
        json!(["gunicorn", "--bind", "0.0.0.0:8000", "app:create_app()"])
    );
}

const DEPENDENCY_FIRST: &str = "# OPTIMIZED: Dependencies cached separately from source
FROM python:3.12-slim
WORKDIR /app
# Step 1: Copy ONLY dependency specification (rarely changes)
COPY requirements.txt .
# Step 2: Install dependencies (cached unless requirements.txt changes)
RUN pip install --no-cache-dir -r requirements.txt
# Step 3: Copy source code (changes frequently)
COPY . .
# Result: Source changes don't trigger pip install rebuild!
";

#[test]
fn dependency_first_keeps_pip_install_cached() {
    let Some(guide) = debian("dependency_first_keeps_pip_install_cached") else {
        return;
    };
    assert_from_guide(DEPENDENCY_FIRST, &[]);
    let context = guide.context("dependency-first", &PYTHON_PROJECT);
    guide.build_ok(&context, Some(DEPENDENCY_FIRST), &["-t", "deps-first"]);
    std::fs::write(context.join("src/main.py"), "print('hello, again')\n").unwrap();
    let progress = guide.build_ok(&context, Some(DEPENDENCY_FIRST), &["-t", "deps-first"]);
    let ran: Vec<String> = steps(&progress)
        .into_iter()
        .filter(|(_, cached)| !cached)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(ran, ["[5/5] COPY . ."], "{progress}");
    assert!(
        progress.contains("cache miss: src/main.py changed"),
        "{progress}"
    );
    // A requirement change reruns pip install.
    std::fs::write(context.join("requirements.txt"), "Flask==3.0.3\nrequests\n").unwrap();
    let progress = guide.build_ok(&context, Some(DEPENDENCY_FIRST), &["-t", "deps-first"]);
    let ran: Vec<String> = steps(&progress)
        .into_iter()
        .filter(|(_, cached)| !cached)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        ran,
        [
            "[3/5] COPY requirements.txt .",
            "[4/5] RUN pip install --no-cache-dir -r requirements.txt",
            "[5/5] COPY . ."
        ],
        "{progress}"
    );
    assert!(
        guide
            .files("deps-first")
            .contains_key("usr/local/lib/python3.12/site-packages/requests/__init__.py")
    );
}
