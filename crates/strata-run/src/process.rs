//! A container's processes as the sandbox runs them: its PID 1 and the
//! processes `exec` and health checks start in it share user, capabilities
//! and security options; each has its own command, environment and directory.

use strata_sandbox::{Capabilities, Network, Seccomp, Spec};

use crate::create::merge_env;
use crate::record::Container;
use crate::{Error, Result};

/// Docker's PATH for a container whose environment has none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The environment Docker gives a container's processes: PATH, HOSTNAME
/// and (with `-t`) TERM first, the container's ENV over them.
pub(crate) fn environment(container: &Container, tty: bool) -> Vec<String> {
    let mut base = vec![
        format!("PATH={DEFAULT_PATH}"),
        format!("HOSTNAME={}", container.config.hostname),
    ];
    if tty {
        base.push("TERM=xterm".to_owned());
    }
    merge_env(base, &container.config.env)
}

/// The capability set from the container's `--cap-add`/`--cap-drop`.
pub(crate) fn capabilities(container: &Container) -> Result<Capabilities> {
    let add = container.host_config.cap_add.clone().unwrap_or_default();
    let drop = container.host_config.cap_drop.clone().unwrap_or_default();
    Ok(Capabilities::docker_default().apply_docker_flags(&add, &drop)?)
}

/// What `--security-opt` asks: no_new_privs and the seccomp profile.
fn security_options(container: &Container) -> Result<(bool, Seccomp)> {
    let mut no_new_privileges = false;
    let mut seccomp = Seccomp::Default;
    for option in container.host_config.security_opt.iter().flatten() {
        let (key, value) = option
            .split_once(['=', ':'])
            .unwrap_or((option.as_str(), ""));
        match (key, value) {
            ("no-new-privileges", "" | "true") => no_new_privileges = true,
            ("no-new-privileges", "false") => no_new_privileges = false,
            ("seccomp", "unconfined") => seccomp = Seccomp::Unconfined,
            ("apparmor" | "label", _) => {}
            _ => {
                return Err(Error::InvalidFlag {
                    flag: "--security-opt",
                    message: format!("Invalid --security-opt: {option:?}"),
                });
            }
        }
    }
    Ok((no_new_privileges, seccomp))
}

/// The sandbox spec of a process running `args` in `container`.
pub(crate) fn spec(container: &Container, args: Vec<String>, tty: bool) -> Result<Spec> {
    let (no_new_privileges, seccomp) = security_options(container)?;
    let mut spec = Spec::new(args);
    spec.env = environment(container, tty);
    spec.working_dir = if container.config.working_dir.is_empty() {
        "/".to_owned()
    } else {
        container.config.working_dir.clone()
    };
    spec.user = container.config.user.clone();
    spec.hostname = container.config.hostname.clone();
    spec.network = match container.host_config.network_mode.as_str() {
        "host" => Network::Host,
        "none" => Network::None,
        _ => Network::Private,
    };
    spec.capabilities = capabilities(container)?;
    spec.no_new_privileges = no_new_privileges;
    spec.seccomp = seccomp;
    spec.readonly_rootfs = container.host_config.readonly_rootfs;
    spec.init = container.host_config.init == Some(true);
    spec.primary_group_supplementary = false;
    Ok(spec)
}

/// PID 1's spec: the container's command.
pub(crate) fn main_spec(container: &Container) -> Result<Spec> {
    let mut args = vec![container.path.clone()];
    args.extend(container.args.iter().cloned());
    spec(container, args, container.config.tty)
}
