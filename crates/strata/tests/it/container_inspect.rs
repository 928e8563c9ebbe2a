//! `strata inspect` on containers: Docker's container JSON, templates over
//! it, a container winning over an image of the same name, and Docker's
//! errors (docker-reference.md §4).

use serde_json::{Value, json};

use crate::harness::Env;

fn inspected(env: &Env, name: &str) -> Value {
    let text = env.ok(&["inspect", name]);
    let mut array: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(array.len(), 1, "{text}");
    array.remove(0)
}

fn template(env: &Env, format: &str, name: &str) -> String {
    env.ok(&["inspect", "-f", format, name])
}

/// Docker's top-level keys, in Docker's order, appear in that order.
fn assert_dockers_order(text: &str) {
    let keys = [
        "Id",
        "Created",
        "Path",
        "Args",
        "State",
        "Image",
        "ResolvConfPath",
        "HostnamePath",
        "HostsPath",
        "LogPath",
        "Name",
        "RestartCount",
        "Driver",
        "Platform",
        "MountLabel",
        "ProcessLabel",
        "AppArmorProfile",
        "ExecIDs",
        "HostConfig",
        "GraphDriver",
        "Mounts",
        "Config",
        "NetworkSettings",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|key| {
            text.find(&format!("\n        \"{key}\": "))
                .unwrap_or_else(|| panic!("no {key} in {text}"))
        })
        .collect();
    assert!(positions.is_sorted(), "keys out of Docker's order: {text}");
}

#[test]
fn inspect_shows_a_running_then_stopped_container_as_docker() {
    let Some(env) = Env::with_busybox("inspect_shows_a_running_then_stopped_container_as_docker")
    else {
        return;
    };
    // A health check an hour away: it stays `starting` throughout.
    let id = env.ok(&[
        "run",
        "-d",
        "--name",
        "inspected",
        "-e",
        "FOO=bar",
        "-e",
        "EMPTY=",
        "--restart",
        "on-failure:3",
        "-l",
        "a=b",
        "--hostname",
        "myhost",
        "--cap-add",
        "NET_ADMIN",
        "--cap-drop",
        "chown",
        "--init",
        "-m",
        "64m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "50",
        "--expose",
        "80",
        "-w",
        "/tmp",
        "--health-cmd",
        "true",
        "--health-interval",
        "1h",
        "local/busybox",
        "sleep",
        "1000",
    ]);
    let id = id.trim();

    assert_dockers_order(&env.ok(&["inspect", "inspected"]));
    let running = inspected(&env, "inspected");
    assert_eq!(running["Id"], id);
    assert_eq!(running["Name"], "/inspected");
    assert_eq!(running["Path"], "sleep");
    assert_eq!(running["Args"], json!(["1000"]));
    assert!(running["Image"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(running["State"]["Status"], "running");
    assert_eq!(running["State"]["Running"], true);
    assert!(running["State"]["Pid"].as_i64().unwrap() > 0);
    assert_eq!(running["State"]["FinishedAt"], "0001-01-01T00:00:00Z");
    assert_eq!(running["State"]["Health"]["Status"], "starting");
    let log_path = running["LogPath"].as_str().unwrap();
    assert!(
        log_path.ends_with(&format!("{id}/{id}-json.log")),
        "{log_path}"
    );
    let host = &running["HostConfig"];
    assert_eq!(
        host["RestartPolicy"],
        json!({"Name": "on-failure", "MaximumRetryCount": 3})
    );
    assert_eq!(host["CapAdd"], json!(["CAP_NET_ADMIN"]));
    assert_eq!(host["CapDrop"], json!(["CAP_CHOWN"]));
    assert_eq!(host["Memory"], 67108864);
    assert_eq!(host["MemorySwap"], 134217728);
    assert_eq!(host["NanoCpus"], 500000000);
    assert_eq!(host["PidsLimit"], 50);
    assert_eq!(host["Init"], true);
    assert_eq!(host["LogConfig"]["Type"], "json-file");
    let config = &running["Config"];
    assert_eq!(config["Env"], json!(["FOO=bar", "EMPTY="]));
    assert_eq!(config["Cmd"], json!(["sleep", "1000"]));
    assert_eq!(config["Hostname"], "myhost");
    assert_eq!(config["WorkingDir"], "/tmp");
    assert_eq!(config["Labels"], json!({"a": "b"}));
    assert_eq!(config["ExposedPorts"], json!({"80/tcp": {}}));
    assert_eq!(
        config["Healthcheck"],
        json!({"Test": ["CMD-SHELL", "true"], "Interval": 3600000000000u64})
    );
    assert_eq!(running["Mounts"], json!([]));
    let network = &running["NetworkSettings"];
    assert_eq!(network["Ports"], json!({"80/tcp": null}));
    let address = network["IPAddress"].as_str().unwrap();
    assert!(address.parse::<std::net::Ipv4Addr>().is_ok(), "{address}");
    assert_eq!(network["Networks"]["bridge"]["IPAddress"], address);
    let merged = running["GraphDriver"]["Data"]["MergedDir"]
        .as_str()
        .unwrap();
    assert!(
        std::path::Path::new(merged).join("bin/busybox").exists(),
        "the running container's root is readable at {merged}"
    );

    // The templates people write.
    assert_eq!(
        template(&env, "{{.State.Health.Status}}", "inspected"),
        "starting\n"
    );
    assert_eq!(
        template(&env, "{{json .NetworkSettings.Ports}}", "inspected"),
        "{\"80/tcp\":null}\n"
    );
    assert_eq!(
        template(
            &env,
            "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}",
            "inspected"
        ),
        "on-failure 3\n"
    );
    assert_eq!(
        template(&env, "{{.Name}} {{.State.Running}}", &id[..6]),
        "/inspected true\n"
    );
    assert_eq!(template(&env, "{{.Id}}", "/inspected"), format!("{id}\n"));
    assert_eq!(
        env.ok(&["container", "inspect", "-f", "{{.Config.Env}}", "inspected"]),
        "[FOO=bar EMPTY=]\n"
    );

    env.ok(&["stop", "inspected"]);
    let stopped = inspected(&env, "inspected");
    assert_eq!(stopped["State"]["Status"], "exited");
    assert_eq!(stopped["State"]["Running"], false);
    assert_eq!(stopped["State"]["Pid"], 0);
    // --init passes SIGTERM on to sleep, which dies of it.
    assert_eq!(stopped["State"]["ExitCode"], 143);
    assert_ne!(stopped["State"]["FinishedAt"], "0001-01-01T00:00:00Z");
    assert_eq!(stopped["State"]["StartedAt"], running["State"]["StartedAt"]);
    assert_eq!(stopped["NetworkSettings"]["Ports"], json!({}));
    assert_eq!(stopped["NetworkSettings"]["IPAddress"], "");
    assert_eq!(stopped["HostConfig"], running["HostConfig"]);
    assert_eq!(stopped["Config"], running["Config"]);
    assert_eq!(template(&env, "{{.State.ExitCode}}", "inspected"), "143\n");

    env.ok(&["rm", "inspected"]);
    let gone = env.run(&["inspect", "inspected"]);
    assert_eq!(gone.status.code(), Some(1));
}

#[test]
fn inspect_finds_containers_before_images_and_reports_as_docker() {
    let Some(env) =
        Env::with_busybox("inspect_finds_containers_before_images_and_reports_as_docker")
    else {
        return;
    };
    env.ok(&["tag", "local/busybox", "web"]);
    let id = env.ok(&["create", "--name", "web", "local/busybox"]);
    let id = id.trim();
    let image_id = env.ok(&["inspect", "-f", "{{.Id}}", "local/busybox"]);
    assert!(image_id.starts_with("sha256:"), "{image_id}");

    // The container wins unless --type says otherwise.
    assert_eq!(
        template(&env, "{{.Id}} {{.Name}} {{.State.Status}}", "web"),
        format!("{id} /web created\n")
    );
    assert_eq!(
        env.ok(&["inspect", "--type", "image", "-f", "{{.Id}}", "web"]),
        image_id
    );
    assert_eq!(
        env.ok(&["inspect", "--type", "container", "-f", "{{.Id}}", "web"]),
        format!("{id}\n")
    );
    // Containers and images in one array, in the order named.
    let both: Vec<Value> =
        serde_json::from_str(&env.ok(&["inspect", "web", "local/busybox"])).unwrap();
    assert_eq!(both[0]["Id"], id);
    assert_eq!(format!("{}\n", both[1]["Id"].as_str().unwrap()), image_id);
    let created = &both[0];
    assert_eq!(created["State"]["Pid"], 0);
    assert_eq!(created["State"]["StartedAt"], "0001-01-01T00:00:00Z");
    assert_eq!(created["HostConfig"]["RestartPolicy"]["Name"], "no");
    assert_eq!(created["HostConfig"]["PidsLimit"], Value::Null);
    assert!(created["HostConfig"].get("Init").is_none());
    assert!(created["State"].get("Health").is_none());
    assert_eq!(created["Config"]["Env"], Value::Null);
    assert_eq!(created["NetworkSettings"]["SandboxKey"], "");

    // Not found: what was found is printed, then Docker's error, exit 1.
    let output = env.run(&["inspect", "web", "nosuch"]);
    assert_eq!(output.status.code(), Some(1));
    let found: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "Error: No such object: nosuch\n"
    );
    let output = env.run(&["inspect", "nosuch"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "[]\n");
    assert_eq!(output.status.code(), Some(1));
    let output = env.run(&["inspect", "--type", "container", "nosuch"]);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "Error: No such container: nosuch\n"
    );
    let output = env.run(&["container", "inspect", "local/busybox"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "Error: No such container: local/busybox\n"
    );
    let output = env.run(&["inspect", "--type", "bogus", "web"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "\"bogus\" is not a valid value for --type\n"
    );
    let output = env.run(&["inspect", "-f", "{{.Id", "web"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("template: unclosed action"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
