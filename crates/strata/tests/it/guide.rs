//! Every Dockerfile of the guide (../shared/guide/dockerfile-guide.txt) whose
//! base is Alpine-like, built by strata over local stand-ins: the images it
//! names are busybox trees tagged `node:20-alpine`, `nginx:alpine`, ... with
//! stand-ins for the programs its commands run (tests/guide/fixtures: an
//! npm that writes node_modules, an apk that installs executables, busybox
//! applets Debian's static busybox lacks), so that what is tested is the
//! builder's behaviour. The Debian-based examples (apt-get, pip, useradd)
//! are in guide_debian.rs. RUN needs root: without it these tests skip
//! loudly (and fail under CI's STRATA_REQUIRE_PRIVILEGED=1).

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::harness;
use crate::harness::{Env, assert_from_guide, steps};

/// node:*-alpine: npm, apk, curl, adduser/addgroup, a `node` user, /opt,
/// and /app (the guide's `RUN cd /app` example assumes it exists).
const NODE_IMAGE: &str = r#"FROM local/busybox
COPY fixtures/npm fixtures/apk fixtures/curl fixtures/adduser fixtures/addgroup /usr/local/bin/
COPY fixtures/stub /usr/local/bin/node
RUN mkdir -p /opt /app /home/node && echo 'node:x:1000:1000::/home/node:/bin/sh' >> /etc/passwd && echo 'node:x:1000:' >> /etc/group && chown 1000:1000 /home/node
ENV NODE_VERSION=20.14.0
CMD ["node"]
"#;

/// nginx:alpine: its default page and config.
const NGINX_IMAGE: &str = r#"FROM local/busybox
COPY fixtures/stub /usr/sbin/nginx
RUN mkdir -p /usr/share/nginx/html && echo '<h1>Welcome to nginx!</h1>' > /usr/share/nginx/html/index.html
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
"#;

/// alpine:3.20 and golang:1.22-alpine.
const ALPINE_IMAGE: &str = r#"FROM local/busybox
COPY fixtures/apk fixtures/adduser fixtures/addgroup /usr/local/bin/
RUN mkdir -p /opt
CMD ["/bin/sh"]
"#;

const GOLANG_IMAGE: &str = r#"FROM alpine:3.20
COPY fixtures/stub /usr/local/go/bin/go
ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
"#;

/// postgres:16(-alpine) and redis:7-alpine.
const POSTGRES_IMAGE: &str = r#"FROM local/busybox
COPY fixtures/stub /usr/local/bin/postgres
COPY fixtures/stub /usr/local/bin/pg_isready
EXPOSE 5432
STOPSIGNAL SIGINT
CMD ["postgres"]
"#;

const REDIS_IMAGE: &str = r#"FROM local/busybox
COPY fixtures/stub /usr/local/bin/redis-server
COPY fixtures/stub /usr/local/bin/redis-cli
EXPOSE 6379
CMD ["redis-server"]
"#;

/// A store with the busybox base and every stand-in image; `None` (after a
/// loud skip) without root.
fn guide(test: &str) -> Option<Env> {
    if !strata_test::should_run_as_root(test) {
        return None;
    }
    let guide = Env::new();
    guide.import(&strata_test::busybox_rootfs(), "local/busybox:latest");
    guide.fixture_image(
        NODE_IMAGE,
        &[
            "node:20-alpine",
            "node:20.14-alpine3.20",
            "node:20-alpine3.20",
        ],
    );
    guide.fixture_image(NGINX_IMAGE, &["nginx:alpine"]);
    guide.fixture_image(ALPINE_IMAGE, &["alpine:3.20"]);
    guide.fixture_image(GOLANG_IMAGE, &["golang:1.22-alpine"]);
    guide.fixture_image(POSTGRES_IMAGE, &["postgres:16", "postgres:16-alpine"]);
    guide.fixture_image(REDIS_IMAGE, &["redis:7-alpine"]);
    Some(guide)
}

/// A small Node.js project, as the guide's examples expect one.
fn node_project() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "package.json",
            "{\n  \"name\": \"api\",\n  \"version\": \"2.1.0\",\n  \"dependencies\": {\n    \"express\": \"^4.19.2\",\n    \"pino\": \"^9.0.0\"\n  }\n}\n",
        ),
        (
            "package-lock.json",
            "{\"name\":\"api\",\"lockfileVersion\":3}\n",
        ),
        ("server.js", "// the API server\nrequire('express');\n"),
        ("src/routes.js", "module.exports = [];\n"),
    ]
}

const STATIC_SITE: &str = "# The simplest Dockerfile — a static web server
FROM nginx:alpine
COPY index.html /usr/share/nginx/html/index.html
";

#[test]
fn the_simplest_dockerfile_serves_a_static_site() {
    let Some(guide) = guide("the_simplest_dockerfile_serves_a_static_site") else {
        return;
    };
    assert_from_guide(STATIC_SITE, &[]);
    // echo '<h1>Hello from Docker!</h1>' > index.html
    let context = guide.context("site", &[("index.html", "<h1>Hello from Docker!</h1>\n")]);
    let progress = guide.build_ok(&context, Some(STATIC_SITE), &["-t", "my-website:latest"]);
    assert!(
        progress.contains("[2/2] COPY index.html /usr/share/nginx/html/index.html"),
        "{progress}"
    );
    assert_eq!(
        guide.read("my-website:latest", "usr/share/nginx/html/index.html"),
        "<h1>Hello from Docker!</h1>\n"
    );
    // nginx's CMD, port and stop signal are inherited.
    let config = guide.config("my-website:latest");
    assert_eq!(config["Cmd"], json!(["nginx", "-g", "daemon off;"]));
    assert_eq!(config["ExposedPorts"], json!({"80/tcp": {}}));
    assert_eq!(config["StopSignal"], "SIGQUIT");
}

const FROM_PINNED: &str = "# Standard base with version pinning
FROM node:20.14-alpine3.20
";

const FROM_PLATFORM: &str = "# Multi-platform base (builds for amd64, arm64, etc.)
FROM --platform=$BUILDPLATFORM golang:1.22-alpine
";

const FROM_SCRATCH: &str = "# The empty base — for statically compiled binaries
FROM scratch
COPY myapp /myapp
ENTRYPOINT [\"/myapp\"]
";

#[test]
fn from_pins_versions_platforms_and_scratch() {
    let Some(guide) = guide("from_pins_versions_platforms_and_scratch") else {
        return;
    };
    for dockerfile in [FROM_PINNED, FROM_PLATFORM, FROM_SCRATCH] {
        assert_from_guide(dockerfile, &[]);
    }
    let context = guide.context("from", &[]);
    guide.build_ok(&context, Some(FROM_PINNED), &["-t", "pinned"]);
    assert_eq!(guide.config("pinned")["Env"][1], "NODE_VERSION=20.14.0");
    assert_eq!(
        guide.inspect("pinned")["RootFS"],
        guide.inspect("node:20.14-alpine3.20")["RootFS"]
    );

    guide.build_ok(&context, Some(FROM_PLATFORM), &["-t", "gobuild"]);
    assert_eq!(
        guide.config("gobuild")["Env"][0],
        "PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    );

    // A static binary: busybox itself.
    fs::copy(strata_test::BUSYBOX, context.join("myapp")).unwrap();
    guide.build_ok(&context, Some(FROM_SCRATCH), &["-t", "static"]);
    let files = guide.files("static");
    assert_eq!(files.keys().collect::<Vec<_>>(), ["myapp"]);
    assert_eq!(files["myapp"].mode, 0o755);
    assert_eq!(
        files["myapp"].content,
        fs::read(strata_test::BUSYBOX).unwrap()
    );
    let config = guide.config("static");
    assert_eq!(config["Entrypoint"], json!(["/myapp"]));
    assert_eq!(
        guide.inspect("static")["RootFS"]["Layers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

const ALPINE_APK: &str = "# Alpine equivalent — using apk
FROM alpine:3.20
RUN apk add --no-cache \\
curl \\
git \\
openssh-client \\
python3 \\
py3-pip
";

#[test]
fn alpine_installs_packages_without_a_cache() {
    let Some(guide) = guide("alpine_installs_packages_without_a_cache") else {
        return;
    };
    assert_from_guide(ALPINE_APK, &[]);
    let context = guide.context("apk", &[]);
    guide.build_ok(&context, Some(ALPINE_APK), &["-t", "tools"]);
    let files = guide.files("tools");
    for executable in [
        "usr/bin/curl",
        "usr/bin/git",
        "usr/bin/ssh",
        "usr/bin/python3",
        "usr/bin/pip3",
    ] {
        assert_eq!(files[executable].mode, 0o755, "{executable}");
    }
    assert!(!files.contains_key("var/cache/apk/APKINDEX.tar.gz"));
    let history = guide.history("tools");
    assert_eq!(
        history.last().unwrap().0,
        "RUN /bin/sh -c apk add --no-cache curl git openssh-client python3 py3-pip # buildkit"
    );
}

/// The COPY vs ADD fragment: a FROM added before it.
const COPY_VS_ADD: &str = "FROM node:20-alpine
WORKDIR /app
# COPY — preferred for most cases (explicit, predictable)
COPY package.json package-lock.json ./
COPY src/ ./src/
COPY --chown=node:node . .
# COPY with specific file permissions (BuildKit required)
COPY --chmod=755 scripts/entrypoint.sh /entrypoint.sh
# ADD — use ONLY for tar extraction
ADD rootfs.tar.gz /
# Automatically extracts the archive into /
# ADD from URL (NOT recommended — use curl in RUN instead)
# ADD https://example.com/file.tar.gz /tmp/
# Problem: doesn't cache well, can't clean up in same layer
# BETTER: Use RUN + curl for URL downloads
RUN curl -sSL https://example.com/file.tar.gz | tar xz -C /opt/
";

#[test]
fn copy_copies_and_add_extracts() {
    let Some(guide) = guide("copy_copies_and_add_extracts") else {
        return;
    };
    assert_from_guide(COPY_VS_ADD, &["FROM node:20-alpine", "WORKDIR /app"]);
    let mut files = node_project();
    files.push(("scripts/entrypoint.sh", "#!/bin/sh\nexec \"$@\"\n"));
    let context = guide.context("copy-vs-add", &files);
    // rootfs.tar.gz: a tree to extract into /.
    let tree = guide.work().join("rootfs");
    fs::create_dir_all(tree.join("etc/app")).unwrap();
    fs::write(tree.join("etc/app/config.yml"), "port: 3000\n").unwrap();
    let status = std::process::Command::new("tar")
        .arg("-C")
        .arg(&tree)
        .args(["-czf"])
        .arg(context.join("rootfs.tar.gz"))
        .arg("etc")
        .status()
        .unwrap();
    assert!(status.success());
    guide.build_ok(&context, Some(COPY_VS_ADD), &["-t", "copies"]);
    let image = guide.files("copies");
    // --chown=node:node: node's ids from the image's /etc/passwd and /etc/group.
    assert_eq!(
        (image["app/server.js"].uid, image["app/server.js"].gid),
        (1000, 1000)
    );
    assert_eq!(
        (
            image["app/src/routes.js"].uid,
            image["app/src/routes.js"].gid
        ),
        (1000, 1000)
    );
    // Earlier COPYs are root's; the later COPY of the same files re-owns them.
    assert_eq!(image["app/package.json"].uid, 1000);
    assert_eq!(image["entrypoint.sh"].mode, 0o755);
    assert_eq!(image["entrypoint.sh"].uid, 0);
    // ADD extracted the archive; COPY would have copied it.
    assert_eq!(
        String::from_utf8_lossy(&image["etc/app/config.yml"].content),
        "port: 3000\n"
    );
    assert!(!image.contains_key("rootfs.tar.gz"));
    assert_eq!(
        String::from_utf8_lossy(&image["opt/file/payload.txt"].content),
        "payload\n"
    );
}

const WORKDIR_GOOD: &str = "# GOOD: Use WORKDIR to set directory context
FROM node:20-alpine
WORKDIR /app
COPY package*.json ./
RUN npm ci --production
COPY . .
CMD [\"node\", \"server.js\"]
# All paths relative to /app
";

const WORKDIR_BAD: &str = "# BAD: Using cd in RUN (doesn't persist to next instruction!)
FROM node:20-alpine
RUN cd /app # This has NO effect on subsequent instructions!
COPY package.json . # Copies to / (root), not /app!
RUN cd /app && npm install # Only works within this single RUN
";

/// The BAD example as its author meant it (comments on their own lines: in
/// a Dockerfile `#` starts a comment only at the start of a line).
const WORKDIR_BAD_MEANT: &str = "FROM node:20-alpine
RUN cd /app
# This has NO effect on subsequent instructions!
COPY package.json .
# Copies to / (root), not /app!
RUN cd /app && npm install
# Only works within this single RUN
";

#[test]
fn workdir_persists_and_cd_does_not() {
    let Some(guide) = guide("workdir_persists_and_cd_does_not") else {
        return;
    };
    assert_from_guide(WORKDIR_GOOD, &[]);
    assert_from_guide(WORKDIR_BAD, &[]);
    let context = guide.context("workdir", &node_project());
    guide.build_ok(&context, Some(WORKDIR_GOOD), &["-t", "good"]);
    let files = guide.files("good");
    assert!(files.contains_key("app/package.json"));
    assert!(files.contains_key("app/package-lock.json"));
    assert!(files.contains_key("app/node_modules/express/package.json"));
    assert!(files.contains_key("app/node_modules/pino/index.js"));
    assert!(files.contains_key("app/server.js"));
    assert_eq!(guide.config("good")["WorkingDir"], "/app");

    // As written, the BAD example's COPY has its comment as sources: docker
    // 20.10 fails it the same way ("/to" not found, or "/#").
    let output = guide.build(&context, Some(WORKDIR_BAD), &["-t", "bad"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not found"), "{stderr}");
    assert!(stderr.contains("Dockerfile:4"), "{stderr}");

    // As meant: package.json lands in /, npm (finding it there) installs in /.
    guide.build_ok(&context, Some(WORKDIR_BAD_MEANT), &["-t", "bad"]);
    let files = guide.files("bad");
    assert!(files.contains_key("package.json"));
    assert!(!files.contains_key("app/package.json"));
    assert!(files.contains_key("node_modules/express/index.js"));
    assert!(
        guide.config("bad")["WorkingDir"]
            .as_str()
            .unwrap_or("")
            .is_empty()
    );
}

const ARG_BUILD: &str = "# ARG: Build-time parameterization
ARG NODE_VERSION=20
ARG ALPINE_VERSION=3.20
FROM node:${NODE_VERSION}-alpine${ALPINE_VERSION}
ARG APP_VERSION=1.0.0
RUN echo \"Building version ${APP_VERSION}\"
# Build with: docker build --build-arg APP_VERSION=2.1.0 .
";

const ENV_RUNTIME: &str = "# ENV: Runtime configuration
FROM node:20-alpine
ENV NODE_ENV=production
ENV PORT=3000
ENV LOG_LEVEL=info
WORKDIR /app
COPY . .
RUN npm ci --production
EXPOSE $PORT
CMD [\"node\", \"server.js\"]
# Override at runtime: docker run -e PORT=8080 myapp
";

/// The combined pattern, after a FROM (the fragment has none).
const ARG_ENV_COMBINED: &str = "FROM node:20-alpine
# Combined pattern: ARG for build flexibility, ENV for runtime
ARG DEFAULT_PORT=3000
ENV PORT=${DEFAULT_PORT}
# Build-time: docker build --build-arg DEFAULT_PORT=8080 .
# Runtime: docker run -e PORT=9090 myapp
";

#[test]
fn arg_is_for_the_build_and_env_for_the_image() {
    let Some(guide) = guide("arg_is_for_the_build_and_env_for_the_image") else {
        return;
    };
    assert_from_guide(ARG_BUILD, &[]);
    assert_from_guide(ENV_RUNTIME, &[]);
    assert_from_guide(ARG_ENV_COMBINED, &["FROM node:20-alpine"]);
    let context = guide.context("args", &node_project());

    let progress = guide.build_ok(&context, Some(ARG_BUILD), &["-t", "versioned"]);
    assert!(progress.contains("Building version 1.0.0"), "{progress}");
    let progress = guide.build_ok(
        &context,
        Some(ARG_BUILD),
        &["-t", "versioned", "--build-arg", "APP_VERSION=2.1.0"],
    );
    assert!(progress.contains("Building version 2.1.0"), "{progress}");
    // Visible in history (the guide's warning), not in the environment.
    let history = guide.history("versioned");
    assert_eq!(
        history.last().unwrap().0,
        "RUN |1 APP_VERSION=2.1.0 /bin/sh -c echo \"Building version ${APP_VERSION}\" # buildkit"
    );
    // BuildKit v0.32 records the value in effect, the build argument's.
    assert!(history.iter().any(|(h, _)| h == "ARG APP_VERSION=2.1.0"));
    let env = guide.config("versioned")["Env"].to_string();
    assert!(!env.contains("APP_VERSION"), "{env}");

    guide.build_ok(&context, Some(ENV_RUNTIME), &["-t", "runtime"]);
    let config = guide.config("runtime");
    assert_eq!(
        config["Env"],
        json!([
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "NODE_VERSION=20.14.0",
            "NODE_ENV=production",
            "PORT=3000",
            "LOG_LEVEL=info"
        ])
    );
    assert_eq!(config["ExposedPorts"], json!({"3000/tcp": {}}));
    assert_eq!(config["Cmd"], json!(["node", "server.js"]));
    assert!(
        guide
            .files("runtime")
            .contains_key("app/node_modules/pino/index.js")
    );

    guide.build_ok(&context, Some(ARG_ENV_COMBINED), &["-t", "combined"]);
    assert_eq!(guide.config("combined")["Env"][2], "PORT=3000");
    guide.build_ok(
        &context,
        Some(ARG_ENV_COMBINED),
        &["-t", "combined", "--build-arg", "DEFAULT_PORT=8080"],
    );
    assert_eq!(guide.config("combined")["Env"][2], "PORT=8080");
}

const CMD_ONLY: &str = "# Pattern 1: CMD only — simple, overridable
FROM node:20-alpine
WORKDIR /app
COPY . .
CMD [\"node\", \"server.js\"]
";

const WRAPPER_ENTRYPOINT: &str = "# Pattern 3: Wrapper script as ENTRYPOINT
FROM postgres:16
COPY docker-entrypoint-custom.sh /docker-entrypoint-custom.sh
RUN chmod +x /docker-entrypoint-custom.sh
ENTRYPOINT [\"/docker-entrypoint-custom.sh\"]
CMD [\"postgres\"]
";

/// The signal-handling fragments, each after a FROM.
const SHELL_FORM: &str = "FROM node:20-alpine
# BAD: Shell form — signals don't reach the app
CMD npm start
";
const EXEC_FORM: &str = "FROM node:20-alpine
# GOOD: Exec form — app is PID 1
CMD [\"node\", \"server.js\"]
";
const EXEC_SHELL: &str = "FROM node:20-alpine
# GOOD: If you need shell features, use exec
CMD [\"sh\", \"-c\", \"envsubst < /template.conf > /app.conf && exec node server.js\"]
";

#[test]
fn cmd_and_entrypoint_forms() {
    let Some(guide) = guide("cmd_and_entrypoint_forms") else {
        return;
    };
    assert_from_guide(CMD_ONLY, &[]);
    assert_from_guide(WRAPPER_ENTRYPOINT, &[]);
    for fragment in [SHELL_FORM, EXEC_FORM, EXEC_SHELL] {
        assert_from_guide(fragment, &["FROM node:20-alpine"]);
    }
    let mut files = node_project();
    files.push((
        "docker-entrypoint-custom.sh",
        "#!/bin/sh\nset -e\nexec docker-entrypoint.sh \"$@\"\n",
    ));
    let context = guide.context("cmd", &files);

    guide.build_ok(&context, Some(CMD_ONLY), &["-t", "cmd-only"]);
    let config = guide.config("cmd-only");
    assert_eq!(config["Cmd"], json!(["node", "server.js"]));
    assert!(config["Entrypoint"].is_null());

    guide.build_ok(&context, Some(WRAPPER_ENTRYPOINT), &["-t", "wrapped"]);
    let config = guide.config("wrapped");
    assert_eq!(
        config["Entrypoint"],
        json!(["/docker-entrypoint-custom.sh"])
    );
    assert_eq!(config["Cmd"], json!(["postgres"]));
    // The postgres stand-in's stop signal is inherited.
    assert_eq!(config["StopSignal"], "SIGINT");
    let files = guide.files("wrapped");
    assert_eq!(files["docker-entrypoint-custom.sh"].mode, 0o755);
    // chmod in its own RUN: the file is in two layers.
    assert_eq!(
        guide.inspect("wrapped")["RootFS"]["Layers"]
            .as_array()
            .unwrap()
            .len()
            - guide.inspect("postgres:16")["RootFS"]["Layers"]
                .as_array()
                .unwrap()
                .len(),
        2
    );

    for (dockerfile, cmd) in [
        (SHELL_FORM, json!(["/bin/sh", "-c", "npm start"])),
        (EXEC_FORM, json!(["node", "server.js"])),
        (
            EXEC_SHELL,
            json!([
                "sh",
                "-c",
                "envsubst < /template.conf > /app.conf && exec node server.js"
            ]),
        ),
    ] {
        guide.build_ok(&context, Some(dockerfile), &["-t", "signals"]);
        assert_eq!(guide.config("signals")["Cmd"], cmd);
    }
    let history = guide.history("signals");
    assert_eq!(
        history.last().unwrap(),
        &(
            "CMD [\"sh\" \"-c\" \"envsubst < /template.conf > /app.conf && exec node server.js\"]"
                .to_owned(),
            false
        )
    );
}

const EXPOSE: &str = "# EXPOSE as documentation
FROM node:20-alpine
WORKDIR /app
COPY . .
EXPOSE 3000
EXPOSE 9229
# Tells users/tools: this app uses ports 3000 (HTTP) and 9229 (debug)
CMD [\"node\", \"--inspect=0.0.0.0:9229\", \"server.js\"]
# Multiple protocols
EXPOSE 80/tcp
EXPOSE 443/tcp
EXPOSE 53/udp
";

#[test]
fn expose_documents_ports() {
    let Some(guide) = guide("expose_documents_ports") else {
        return;
    };
    assert_from_guide(EXPOSE, &[]);
    let context = guide.context("expose", &node_project());
    guide.build_ok(&context, Some(EXPOSE), &["-t", "ports"]);
    let config = guide.config("ports");
    assert_eq!(
        config["ExposedPorts"],
        json!({"3000/tcp": {}, "443/tcp": {}, "53/udp": {}, "80/tcp": {}, "9229/tcp": {}})
    );
    assert_eq!(
        config["Cmd"],
        json!(["node", "--inspect=0.0.0.0:9229", "server.js"])
    );
    let history = guide.history("ports");
    assert!(history.contains(&("EXPOSE [53/udp]".to_owned(), false)));
}

const USER_ALPINE: &str = "# Create a non-root user and switch to it
FROM node:20-alpine
# Create app user and group
RUN addgroup -S appgroup && adduser -S appuser -G appgroup
WORKDIR /app
# Install dependencies as root (needs write access to /app)
COPY package*.json ./
RUN npm ci --production
# Copy application files
COPY --chown=appuser:appgroup . .
# Switch to non-root user for runtime
USER appuser
EXPOSE 3000
CMD [\"node\", \"server.js\"]
";

#[test]
fn user_runs_as_non_root() {
    let Some(guide) = guide("user_runs_as_non_root") else {
        return;
    };
    assert_from_guide(USER_ALPINE, &[]);
    let context = guide.context("user", &node_project());
    guide.build_ok(&context, Some(USER_ALPINE), &["-t", "nonroot"]);
    let files = guide.files("nonroot");
    let passwd = String::from_utf8_lossy(&files["etc/passwd"].content).into_owned();
    assert!(passwd.contains("appuser:x:100:101:"), "{passwd}");
    // --chown resolves the names made by the RUN before it.
    assert_eq!(
        (files["app/server.js"].uid, files["app/server.js"].gid),
        (100, 101)
    );
    // npm ran as root: node_modules is root's.
    assert_eq!(files["app/node_modules/express/index.js"].uid, 0);
    // /app was made by WORKDIR before USER: root's.
    assert_eq!(files["app"].uid, 0);
    assert_eq!(guide.config("nonroot")["User"], "appuser");
}

const HEALTHCHECK_HTTP: &str = "# HTTP health check for a web application
FROM node:20-alpine
WORKDIR /app
COPY . .
RUN npm ci --production
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\
CMD wget --no-verbose --tries=1 --spider http://localhost:3000/health || exit 1
CMD [\"node\", \"server.js\"]
";

const HEALTHCHECK_POSTGRES: &str = "# Database health check
FROM postgres:16-alpine
HEALTHCHECK --interval=10s --timeout=5s --retries=5 \\
CMD pg_isready -U postgres || exit 1
";

const HEALTHCHECK_REDIS: &str = "# Redis health check
FROM redis:7-alpine
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \\
CMD redis-cli ping | grep -q PONG || exit 1
";

/// HEALTHCHECK NONE, over the HTTP example's image (which has one).
const HEALTHCHECK_NONE: &str = "FROM with-healthcheck
# Disable inherited health check
HEALTHCHECK NONE
";

#[test]
fn healthchecks_and_none() {
    let Some(guide) = guide("healthchecks_and_none") else {
        return;
    };
    assert_from_guide(HEALTHCHECK_HTTP, &[]);
    assert_from_guide(HEALTHCHECK_POSTGRES, &[]);
    assert_from_guide(HEALTHCHECK_REDIS, &[]);
    assert_from_guide(HEALTHCHECK_NONE, &["FROM with-healthcheck"]);
    let context = guide.context("health", &node_project());
    guide.build_ok(
        &context,
        Some(HEALTHCHECK_HTTP),
        &["-t", "with-healthcheck"],
    );
    assert_eq!(
        guide.config("with-healthcheck")["Healthcheck"],
        json!({
            "Test": ["CMD-SHELL", "wget --no-verbose --tries=1 --spider http://localhost:3000/health || exit 1"],
            "Interval": 30_000_000_000i64,
            "Timeout": 5_000_000_000i64,
            "StartPeriod": 10_000_000_000i64,
            "Retries": 3
        })
    );
    assert!(guide.history("with-healthcheck").contains(&(
        "HEALTHCHECK {Test:[CMD-SHELL wget --no-verbose --tries=1 --spider http://localhost:3000/health || exit 1] Interval:30s Timeout:5s StartPeriod:10s StartInterval:0s Retries:3}".to_owned(),
        false
    )));
    guide.build_ok(&context, Some(HEALTHCHECK_POSTGRES), &["-t", "db"]);
    assert_eq!(
        guide.config("db")["Healthcheck"],
        json!({"Test": ["CMD-SHELL", "pg_isready -U postgres || exit 1"], "Interval": 10_000_000_000i64, "Timeout": 5_000_000_000i64, "Retries": 5})
    );
    guide.build_ok(&context, Some(HEALTHCHECK_REDIS), &["-t", "cache"]);
    assert_eq!(
        guide.config("cache")["Healthcheck"]["Test"],
        json!(["CMD-SHELL", "redis-cli ping | grep -q PONG || exit 1"])
    );
    guide.build_ok(&context, Some(HEALTHCHECK_NONE), &["-t", "unchecked"]);
    assert_eq!(
        guide.config("unchecked")["Healthcheck"],
        json!({"Test": ["NONE"]})
    );
    assert_eq!(
        guide.history("unchecked").last().unwrap().0,
        "HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}"
    );
}

const LABELS: &str = "# Standardized labels (OCI Image Spec)
FROM node:20-alpine
LABEL org.opencontainers.image.title=\"My Application\"
LABEL org.opencontainers.image.description=\"Production API server\"
LABEL org.opencontainers.image.version=\"2.1.0\"
LABEL org.opencontainers.image.authors=\"team@example.com\"
LABEL org.opencontainers.image.source=\"https://github.com/org/repo\"
LABEL org.opencontainers.image.licenses=\"MIT\"
LABEL org.opencontainers.image.created=\"2026-05-14T10:00:00Z\"
# Multiple labels in one instruction (reduces layers)
LABEL maintainer=\"team@example.com\" \\
version=\"2.1.0\" \\
environment=\"production\"
";

const STOPSIGNAL: &str = "# STOPSIGNAL: Change the shutdown signal
# Default is SIGTERM — override for apps that need different signals
FROM nginx:alpine
STOPSIGNAL SIGQUIT
# nginx uses SIGQUIT for graceful shutdown (finish current requests)
# Verify with: docker inspect -f '{{.Config.StopSignal}}' mycontainer
";

#[test]
fn labels_and_stop_signal() {
    let Some(guide) = guide("labels_and_stop_signal") else {
        return;
    };
    assert_from_guide(LABELS, &[]);
    assert_from_guide(STOPSIGNAL, &[]);
    let context = guide.context("labels", &[]);
    guide.build_ok(&context, Some(LABELS), &["-t", "labelled"]);
    assert_eq!(
        guide.config("labelled")["Labels"],
        json!({
            "environment": "production",
            "maintainer": "team@example.com",
            "org.opencontainers.image.authors": "team@example.com",
            "org.opencontainers.image.created": "2026-05-14T10:00:00Z",
            "org.opencontainers.image.description": "Production API server",
            "org.opencontainers.image.licenses": "MIT",
            "org.opencontainers.image.source": "https://github.com/org/repo",
            "org.opencontainers.image.title": "My Application",
            "org.opencontainers.image.version": "2.1.0",
            "version": "2.1.0"
        })
    );
    // Labels make no layers.
    assert_eq!(
        guide.inspect("labelled")["RootFS"],
        guide.inspect("node:20-alpine")["RootFS"]
    );
    assert_eq!(
        guide.history("labelled").last().unwrap().0,
        "LABEL maintainer=team@example.com version=2.1.0 environment=production"
    );
    guide.build_ok(&context, Some(STOPSIGNAL), &["-t", "nginx-graceful"]);
    assert_eq!(guide.config("nginx-graceful")["StopSignal"], "SIGQUIT");
}

/// The guide's production Dockerfile, whole.
const PRODUCTION: &str = "# ============================================================
# Production Dockerfile for Node.js API
# Follows all best practices: non-root user, health check,
# layer caching, minimal base, security hardening
# ============================================================
# Build argument for version pinning
ARG NODE_VERSION=20.14
ARG ALPINE_VERSION=3.20
# --- Stage 1: Dependencies (cached layer) ---
FROM node:${NODE_VERSION}-alpine${ALPINE_VERSION} AS deps
WORKDIR /app
# Copy only dependency files first (cache optimization)
COPY package.json package-lock.json ./
# Install production dependencies only
RUN npm ci --production --ignore-scripts && \\
npm cache clean --force
# --- Stage 2: Production Runtime ---
FROM node:${NODE_VERSION}-alpine${ALPINE_VERSION} AS runtime
# Metadata
LABEL org.opencontainers.image.title=\"My API Server\" \\
org.opencontainers.image.version=\"2.1.0\" \\
org.opencontainers.image.authors=\"team@example.com\"
# Install runtime dependencies (tini for PID 1 signal handling)
RUN apk add --no-cache tini curl
# Create non-root user
RUN addgroup -S appgroup && adduser -S appuser -G appgroup
# Set working directory
WORKDIR /app
# Copy installed dependencies from deps stage
COPY --from=deps --chown=appuser:appgroup /app/node_modules ./node_modules
# Copy application source
COPY --chown=appuser:appgroup . .
# Environment configuration
ENV NODE_ENV=production \\
PORT=3000 \\
LOG_LEVEL=info
# Expose application port
EXPOSE 3000
# Health check
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \\
CMD curl -f http://localhost:3000/health || exit 1
# Switch to non-root user
USER appuser
# Use tini as init system (handles signals correctly)
ENTRYPOINT [\"tini\", \"--\"]
# Start the application
CMD [\"node\", \"server.js\"]
";

/// The guide's second .dockerignore (the comprehensive one, for Node.js).
const NODE_DOCKERIGNORE: &str = "# Comprehensive .dockerignore for a Node.js project
# Version control
.git
.gitignore
.gitattributes
# Dependencies (will be installed fresh in container)
node_modules
bower_components
# Build artifacts (will be built in container)
dist
build
coverage
.nyc_output
# Environment and secrets
.env
.env.*
*.pem
*.key
# IDE and OS files
.vscode
.idea
*.swp
.DS_Store
Thumbs.db
# Docker files (prevent recursive builds)
Dockerfile*
docker-compose*
.dockerignore
# Documentation (not needed in image)
*.md
docs/
LICENSE
# Tests (usually not needed in production image)
test/
tests/
__tests__
*.test.js
*.spec.js
jest.config.js
";

#[test]
fn the_production_dockerfile() {
    let Some(guide) = guide("the_production_dockerfile") else {
        return;
    };
    assert_from_guide(PRODUCTION, &[]);
    assert_from_guide(NODE_DOCKERIGNORE, &[]);
    let mut files = node_project();
    files.extend([
        (".dockerignore", NODE_DOCKERIGNORE),
        ("README.md", "# API\n"),
        (".env", "SECRET=1\n"),
        ("node_modules/left-pad/index.js", "// from the host\n"),
        ("test/api.test.js", "// a test\n"),
        ("server.test.js", "// a test\n"),
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("server.key", "-----BEGIN PRIVATE KEY-----\n"),
    ]);
    let context = guide.context("production", &files);
    // docker build -t myapi:latest -t myapi:2.1.0 .
    guide.build_ok(
        &context,
        Some(PRODUCTION),
        &["-t", "myapi:latest", "-t", "myapi:2.1.0"],
    );
    let images = guide.ok(&["images", "myapi"]);
    let ids: Vec<&str> = images
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{images}");
    assert_eq!(ids[0], ids[1], "{images}");

    let config = guide.config("myapi:latest");
    assert_eq!(config["User"], "appuser");
    assert_eq!(config["WorkingDir"], "/app");
    assert_eq!(config["Entrypoint"], json!(["tini", "--"]));
    assert_eq!(config["Cmd"], json!(["node", "server.js"]));
    assert_eq!(config["ExposedPorts"], json!({"3000/tcp": {}}));
    assert_eq!(
        config["Labels"],
        json!({
            "org.opencontainers.image.authors": "team@example.com",
            "org.opencontainers.image.title": "My API Server",
            "org.opencontainers.image.version": "2.1.0"
        })
    );
    assert_eq!(config["Healthcheck"]["StartPeriod"], 15_000_000_000i64);
    assert_eq!(
        config["Env"],
        json!([
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "NODE_VERSION=20.14.0",
            "NODE_ENV=production",
            "PORT=3000",
            "LOG_LEVEL=info"
        ])
    );
    let image = guide.files("myapi:latest");
    // node_modules comes from the deps stage, owned by appuser (100:101).
    let express = &image["app/node_modules/express/package.json"];
    assert_eq!((express.uid, express.gid), (100, 101));
    assert!(!image.contains_key("app/node_modules/left-pad/index.js"));
    // The deps stage's npm cache is not in the image.
    assert!(!image.keys().any(|k| k.starts_with("root/.npm")));
    // .dockerignore kept these out of the context.
    for ignored in [
        "app/README.md",
        "app/.env",
        "app/test/api.test.js",
        "app/server.test.js",
        "app/.git/HEAD",
        "app/server.key",
        "app/.dockerignore",
        "app/Dockerfile",
    ] {
        assert!(!image.contains_key(ignored), "{ignored} should be ignored");
    }
    assert_eq!(image["app/server.js"].uid, 100);
    assert_eq!(image["sbin/tini"].mode, 0o755);

    // The dependency-first pattern: a source change rebuilds only from the
    // source COPY; the deps stage is served from the cache.
    fs::write(
        context.join("server.js"),
        "// the API server, edited\nrequire('express');\n",
    )
    .unwrap();
    let progress = guide.build_ok(&context, Some(PRODUCTION), &["-t", "myapi:latest"]);
    let ran: Vec<String> = steps(&progress)
        .into_iter()
        .filter(|(_, cached)| !cached)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        ran,
        ["[runtime 6/6] COPY --chown=appuser:appgroup . ."],
        "{progress}"
    );
}

/// The guide's first .dockerignore.
const DOCKERIGNORE: &str = "# .dockerignore — exclude from build context
node_modules
npm-debug.log
.git
.gitignore
.env
.env.*
*.md
!README.md
docker-compose*.yml
.dockerignore
Dockerfile*
coverage/
.nyc_output/
dist/
build/
*.log
.DS_Store
__pycache__/
*.pyc
.venv/
";

#[test]
fn dockerignore_keeps_files_out_of_the_context() {
    let Some(guide) = guide("dockerignore_keeps_files_out_of_the_context") else {
        return;
    };
    assert_from_guide(DOCKERIGNORE, &[]);
    let context = guide.context(
        "ignore",
        &[
            (".dockerignore", DOCKERIGNORE),
            ("README.md", "kept\n"),
            ("CHANGES.md", "ignored\n"),
            ("node_modules/x/index.js", "ignored\n"),
            ("npm-debug.log", "ignored\n"),
            ("logs/app.log", "kept: *.log is only the top level\n"),
            (".env.production", "ignored\n"),
            ("docker-compose.prod.yml", "ignored\n"),
            ("Dockerfile.dev", "ignored\n"),
            ("dist/app.js", "ignored\n"),
            (
                "src/__pycache__/m.pyc",
                "kept: __pycache__/ is only the top level\n",
            ),
            ("app.pyc", "ignored\n"),
            ("src/index.js", "kept\n"),
        ],
    );
    guide.build_ok(
        &context,
        Some("FROM node:20-alpine\nWORKDIR /app\nCOPY . .\n"),
        &["-t", "ignored"],
    );
    let files: Vec<String> = guide
        .files("ignored")
        .into_keys()
        .filter_map(|k| k.strip_prefix("app/").map(str::to_owned))
        .collect();
    assert_eq!(
        files,
        [
            "README.md",
            "logs",
            "logs/app.log",
            "src",
            "src/__pycache__",
            "src/__pycache__/m.pyc",
            "src/index.js"
        ]
    );
}

#[test]
fn the_build_commands() {
    let Some(guide) = guide("the_build_commands") else {
        return;
    };
    // docker build -f docker/Dockerfile.production -t myapp .
    let context = guide.context(
        "commands",
        &[
            (
                "docker/Dockerfile.production",
                "FROM alpine:3.20\nCOPY app.txt /\n",
            ),
            ("app.txt", "from the context root\n"),
            (
                "services/api/Dockerfile",
                "FROM alpine:3.20\nCOPY . /srv/\n",
            ),
            ("services/api/api.txt", "api\n"),
        ],
    );
    let output = guide
        .strata()
        .current_dir(&context)
        .args([
            "build",
            "-q",
            "-f",
            "docker/Dockerfile.production",
            "-t",
            "myapp",
            ".",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(guide.read("myapp", "app.txt"), "from the context root\n");

    // echo 'FROM alpine:3.20' | docker build -t minimal -
    let mut child = guide
        .strata()
        .args(["build", "-q", "-t", "minimal", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM alpine:3.20\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        guide.inspect("minimal")["Id"],
        guide.inspect("alpine:3.20")["Id"]
    );
    // Useful for trivial images, but COPY/ADD won't work (no context).
    let mut child = guide
        .strata()
        .args(["build", "-q", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM alpine:3.20\nCOPY x /\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());

    // docker build -t myapp ./services/api/
    let output = guide
        .strata()
        .current_dir(&context)
        .args(["build", "-q", "-t", "myapp", "./services/api/"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let files = guide.files("myapp");
    assert!(files.contains_key("srv/api.txt"));
    assert!(!files.contains_key("srv/app.txt"));
    // Files are the context's, with their modes.
    let mode = fs::metadata(context.join("services/api/api.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(files["srv/api.txt"].mode, mode & 0o7777);
}

/// The guide's build-time secret: `RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`.
const SECRET_MOUNT: &str = "FROM node:20-alpine
WORKDIR /app
COPY package*.json ./
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci
";

#[test]
fn secrets_are_mounted_not_kept() {
    let Some(guide) = guide("secrets_are_mounted_not_kept") else {
        return;
    };
    if let Some(text) = harness::guide_text() {
        assert!(text.contains("RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci"));
    }
    let context = guide.context("secret", &node_project());
    let npmrc = guide.work().join("npmrc");
    fs::write(&npmrc, "//registry.npmjs.org/:_authToken=s3cr3t\n").unwrap();
    let secret = format!("id=npmrc,src={}", npmrc.display());
    // The secret is there while npm runs...
    let checked = SECRET_MOUNT.replace("npm ci", "grep -q _authToken /root/.npmrc && npm ci");
    guide.build_ok(
        &context,
        Some(&checked),
        &["-t", "with-secret", "--secret", &secret],
    );
    // ...and nowhere in the image: not in a layer, not in the history.
    let (config, layers) = guide.saved("with-secret");
    assert!(!config.to_string().contains("s3cr3t"));
    for layer in &layers {
        assert!(!layer.windows(6).any(|w| w == b"s3cr3t"));
    }
    assert!(!guide.files("with-secret").contains_key("root/.npmrc"));
    assert!(
        guide
            .files("with-secret")
            .contains_key("app/node_modules/express/index.js")
    );
    guide.build_ok(
        &context,
        Some(SECRET_MOUNT),
        &["-t", "with-secret", "--secret", &secret],
    );
}

#[test]
fn a_git_repository_as_the_context() {
    let Some(guide) = guide("a_git_repository_as_the_context") else {
        return;
    };
    // docker build -t myapp https://github.com/user/repo.git#main, with the
    // repository served by a local "dumb" HTTP server.
    let repository = guide.context(
        "repo",
        &[
            ("Dockerfile", "FROM alpine:3.20\nCOPY app.txt /\n"),
            ("app.txt", "from git\n"),
        ],
    );
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .current_dir(&repository)
            .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "app"]);
    git(&["update-server-info"]);
    let server = strata_test::http::StaticServer::serve(&repository).unwrap();
    let url = format!("{}/.git#main", server.url());
    let output = guide
        .strata()
        .args(["build", "-q", "-t", "myapp", &url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(guide.read("myapp", "app.txt"), "from git\n");
}
