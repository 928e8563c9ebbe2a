//! `strata generate systemd CONTAINER`: a systemd unit that keeps a
//! container up across reboots, as `podman generate systemd` does. With no
//! daemon, nothing restarts a container after a reboot; systemd can.

use std::process::ExitCode;

use super::{Global, containers, find};

/// `strata generate ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum GenerateCommand {
    /// Print a systemd unit that starts a container at boot and keeps it up
    Systemd {
        /// Seconds `systemctl stop` gives the container before SIGKILL
        #[arg(short, long, value_name = "int")]
        time: Option<i64>,
        /// The container
        #[arg(value_name = "CONTAINER")]
        container: String,
    },
}

impl GenerateCommand {
    pub(crate) fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let GenerateCommand::Systemd { time, container } = self;
        let containers = containers(global)?;
        let entry = find(&containers, &container)?;
        let strata = std::env::current_exe()?;
        let store = containers.store_root();
        print!(
            "{}",
            unit(
                &entry.container,
                &strata.display().to_string(),
                &store.display().to_string(),
                time
            )
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// The unit's text: `start -a` in the foreground (systemd follows the
/// container through it), `stop` with the container's timeout, and
/// systemd's `Restart=` from the container's restart policy.
fn unit(container: &strata_run::Container, strata: &str, store: &str, time: Option<i64>) -> String {
    let name = &container.name;
    let timeout = time.unwrap_or_else(|| container.stop_timeout());
    let restart = match container.host_config.restart_policy.name.as_str() {
        "always" | "unless-stopped" => "always",
        "on-failure" => "on-failure",
        _ => "no",
    };
    format!(
        "# strata generate systemd {name}\n\
         [Unit]\n\
         Description=strata container {name}\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Environment=STRATA_ROOT={store}\n\
         Restart={restart}\n\
         TimeoutStopSec={stop}\n\
         ExecStart={strata} start -a {name}\n\
         ExecStop={strata} stop -t {timeout} {name}\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
        stop = timeout + 10,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_follows_the_containers_restart_policy_and_timeout() {
        let mut container: strata_run::Container = serde_json::from_value(serde_json::json!({
            "ID": "abc", "Name": "web", "Created": "", "Path": "sleep", "Args": [],
            "Image": {"ID": strata_oci::Digest::of(b"x"), "Manifest": {"mediaType": "m", "digest": strata_oci::Digest::of(b"m"), "size": 1}, "DiffIds": [], "Layers": []},
            "Config": {"StopTimeout": 20}, "HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}}
        }))
        .unwrap();
        let text = unit(&container, "/usr/bin/strata", "/var/lib/strata", None);
        assert!(text.contains("Restart=always\n"));
        assert!(text.contains("ExecStart=/usr/bin/strata start -a web\n"));
        assert!(text.contains("ExecStop=/usr/bin/strata stop -t 20 web\n"));
        assert!(text.contains("TimeoutStopSec=30\n"));
        assert!(text.contains("Environment=STRATA_ROOT=/var/lib/strata\n"));
        container.host_config.restart_policy.name = "no".into();
        assert!(unit(&container, "s", "r", Some(3)).contains("Restart=no\nTimeoutStopSec=13\n"));
    }
}
