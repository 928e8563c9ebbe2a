//! Parse + expand throughput on a large generated Dockerfile.
//!
//! `cargo bench -p strata-dockerfile` prints MB/s for parsing alone, for
//! parsing and typing every instruction into stages, and for all of that plus
//! the expansion a build does (global ARGs for FROM, ARG declarations, every
//! expanded field of every command with its stage's environment).
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use strata_dockerfile::{
    Command, Expander, FrontendOptions, GlobalScope, StageScope, Stages, parse,
};

/// One stage of realistic instructions; `index` varies names and values.
fn stage(index: usize, out: &mut String) {
    out.push_str(&format!(
        r#"# Stage {index}: build the component
FROM --platform=$BUILDPLATFORM ${{BASE_IMAGE}}:${{BASE_TAG:-bookworm}} AS stage{index}
ARG TARGETOS TARGETARCH VERSION_{index}=1.{index}.0
ENV APP_HOME=/srv/app{index} PATH=/srv/app{index}/bin:$PATH \
    LANG=C.UTF-8 VERSION="${{VERSION_{index}}}"
LABEL org.opencontainers.image.version="${{VERSION_{index}}}" \
      org.opencontainers.image.title="component {index}"
WORKDIR ${{APP_HOME}}/src
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends \
        ca-certificates curl git build-essential pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY --chown=1000:1000 --chmod=0644 go.mod go.sum ./
COPY --link ["src/component{index}", "/srv/app{index}/src/"]
RUN <<EOF
set -eux
echo "building ${{VERSION_{index}}} for $TARGETOS/$TARGETARCH"
make -j"$(nproc)" VERSION="${{VERSION_{index}#v}}" PREFIX="${{APP_HOME%/}}"
EOF
COPY <<-CONF /etc/component{index}.conf
	listen = 0.0.0.0:80{index:02}
	home = ${{APP_HOME}}
	CONF
USER 1000:1000
EXPOSE 80{index:02}/tcp
VOLUME ["/data/{index}"]
HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD curl -fsS http://localhost:80{index:02}/health || exit 1
ENTRYPOINT ["/srv/app{index}/bin/component"]
CMD ["serve", "--config", "/etc/component{index}.conf"]

"#
    ));
}

fn generate(target_bytes: usize) -> String {
    let mut out =
        String::from("# syntax=docker/dockerfile:1\nARG BASE_IMAGE=debian\nARG BASE_TAG\n\n");
    let mut index = 0;
    while out.len() < target_bytes {
        stage(index % 100, &mut out);
        index += 1;
    }
    out
}

fn expand_all(stages: &Stages, dockerfile: &strata_dockerfile::Dockerfile) -> usize {
    let options = FrontendOptions::default();
    let global = GlobalScope::new(
        &stages.meta_args,
        &options,
        "",
        dockerfile.escape,
        &dockerfile.source,
    )
    .expect("global scope");
    let mut expanded = 0;
    for stage in &stages.stages {
        let from = global
            .expand_from(&stage.from, dockerfile.escape)
            .expect("FROM");
        expanded += from.image.value.len();
        let mut scope =
            StageScope::new(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
        for command in &stage.commands {
            if let Command::Arg(arg) = command {
                scope
                    .declare(arg, &global, &options, dockerfile.escape)
                    .expect("ARG");
                continue;
            }
            let environment = scope.environment().clone();
            let mut expander = Expander::new(dockerfile.escape, &environment);
            let result = command.expand(&mut expander).expect("expand");
            if let Command::Env(env) = &result {
                for pair in &env.pairs {
                    scope.set_env(&pair.key, &pair.value);
                }
            }
            if let Command::Expose(expose) = &result {
                expanded += expose.expand_ports(&mut expander).expect("EXPOSE").len();
            }
            expanded += 1;
        }
    }
    expanded
}

fn measure(name: &str, bytes: usize, mut run: impl FnMut() -> usize) {
    // Warm up, then repeat for about two seconds.
    std::hint::black_box(run());
    let start = Instant::now();
    let mut iterations = 0u32;
    while start.elapsed() < Duration::from_secs(2) || iterations < 3 {
        std::hint::black_box(run());
        iterations += 1;
    }
    let seconds = start.elapsed().as_secs_f64() / f64::from(iterations);
    let megabytes = bytes as f64 / 1_000_000.0;
    println!(
        "{name:<28} {:>8.1} MB/s  ({:.1} ms for {megabytes:.1} MB, {iterations} runs)",
        megabytes / seconds,
        seconds * 1000.0
    );
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep that quick.
    let quick = !std::env::args().any(|argument| argument == "--bench");
    let text = generate(if quick { 100_000 } else { 20_000_000 });
    let bytes = text.len();
    let dockerfile = parse(text.as_bytes()).expect("parse");
    let stages = Stages::parse(&dockerfile).expect("stages");
    println!(
        "generated Dockerfile: {:.1} MB, {} lines, {} instructions, {} stages",
        bytes as f64 / 1e6,
        dockerfile.source.line_count(),
        dockerfile.instructions.len(),
        stages.stages.len()
    );
    if quick {
        expand_all(&stages, &dockerfile);
        return;
    }
    measure("parse", bytes, || {
        parse(text.as_bytes()).expect("parse").instructions.len()
    });
    measure("parse + type", bytes, || {
        let dockerfile = parse(text.as_bytes()).expect("parse");
        Stages::parse(&dockerfile).expect("stages").stages.len()
    });
    measure("parse + type + expand", bytes, || {
        let dockerfile = parse(text.as_bytes()).expect("parse");
        let stages = Stages::parse(&dockerfile).expect("stages");
        expand_all(&stages, &dockerfile)
    });
}
