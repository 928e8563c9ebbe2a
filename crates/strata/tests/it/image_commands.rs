//! `images`, `inspect` and `history` against an image pulled from a real
//! registry, with Docker's output shapes checked by snapshots.

use strata_test::{Registry, needs_registry};

use crate::harness::{Env, full_config_image, redact};

#[test]
fn images_inspect_and_history_show_dockers_shapes() {
    if !needs_registry("images_inspect_and_history_show_dockers_shapes") {
        return;
    }
    let registry = Registry::start();
    let host = registry.host();
    let image = full_config_image();
    image.push_with_skopeo(&format!("{host}/team/web:1.0"), None);
    let env = Env::new();
    let name = format!("{host}/team/web:1.0");
    let pulled = env.run(&["pull", &name]);
    assert!(
        pulled.status.success(),
        "{}",
        String::from_utf8_lossy(&pulled.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&pulled.stdout), format!("{name}\n"));
    // Layers finish in any order: sort those lines.
    let mut lines: Vec<&str> = std::str::from_utf8(&pulled.stderr)
        .unwrap()
        .lines()
        .collect();
    let layers = 1..lines.len() - 2;
    lines[layers].sort();
    let stderr = lines.join("\n");
    insta::assert_snapshot!("pull_output", redact(&stderr, &host));

    let snap = |args: &[&str]| redact(&env.ok(args), &host);
    insta::assert_snapshot!("images", snap(&["images"]));
    insta::assert_snapshot!("images_digests", snap(&["images", "--digests"]));
    insta::assert_snapshot!("images_json", snap(&["images", "--format", "json"]));
    insta::assert_snapshot!(
        "images_template",
        snap(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"])
    );
    insta::assert_snapshot!(
        "images_table_template",
        snap(&[
            "images",
            "--format",
            "table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}"
        ])
    );
    insta::assert_snapshot!("inspect", snap(&["inspect", &name]));
    insta::assert_snapshot!("history", snap(&["history", &name]));
    insta::assert_snapshot!("history_no_trunc", snap(&["history", "--no-trunc", &name]));
    insta::assert_snapshot!(
        "history_created_by",
        snap(&["history", "--format", "{{.CreatedBy}}", &name])
    );

    // Template forms people use, exact.
    let format = |template: &str| env.ok(&["inspect", "--format", template, &name]);
    assert_eq!(format("{{.Config.StopSignal}}"), "SIGQUIT\n");
    assert_eq!(
        format("{{index .Config.Labels \"org.example.team\"}}"),
        "images\n"
    );
    assert_eq!(format("{{.Id}}"), format!("{}\n", image.config_digest));
    assert_eq!(format("{{.Config.Healthcheck.Retries}}"), "3\n");
    assert_eq!(format("{{.Architecture}}/{{.Os}}"), "amd64/linux\n");
    assert_eq!(format("{{json .Config.OnBuild}}"), "[\"RUN echo child\"]\n");
    assert_eq!(format("{{.Config.Shell}}"), "[/bin/bash -c]\n");
    let config: serde_json::Value = serde_json::from_str(&format("{{json .Config}}")).unwrap();
    assert_eq!(
        config,
        serde_json::to_value(image.config.config.as_ref().unwrap()).unwrap()
    );

    // By ID, by short ID, by repo digest.
    let id = image.config_digest.to_string();
    assert_eq!(
        env.ok(&["inspect", "-f", "{{.Id}}", &id[7..19]]),
        format!("{id}\n")
    );
    let by_digest = format!("{host}/team/web@{}", image.descriptor.digest);
    assert_eq!(
        env.ok(&["inspect", "-f", "{{.Id}}", &by_digest]),
        format!("{id}\n")
    );

    // Errors name what is missing, and keep Docker's exit status.
    let missing = env.run(&["inspect", "nosuch:image"]);
    assert!(!missing.status.success());
    assert_eq!(String::from_utf8_lossy(&missing.stdout), "[]\n");
    insta::assert_snapshot!("inspect_missing", String::from_utf8_lossy(&missing.stderr));
    let history_missing = env.run(&["history", "nosuch"]);
    insta::assert_snapshot!(
        "history_missing",
        String::from_utf8_lossy(&history_missing.stderr)
    );
    let bad_template = env.run(&["inspect", "--format", "{{.Id", &name]);
    insta::assert_snapshot!(
        "inspect_bad_template",
        String::from_utf8_lossy(&bad_template.stderr)
    );
    env.assert_consistent();
}
