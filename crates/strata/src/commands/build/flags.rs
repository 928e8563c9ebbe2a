//! `docker buildx build`'s flags for RUN steps, read as buildx reads them and
//! refused in its words: `--secret`, `--add-host`, `--ulimit`, `--shm-size`,
//! `--allow` and `--network`; and `--build-context`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use anyhow::{anyhow, bail};
use strata_build::{Entitlements, NetworkMode, SecretSource};
use strata_sandbox::Ulimit;

/// `--secret` values by id (a later one with the same id wins), as buildx's
/// `Secret.UnmarshalText` then BuildKit's `secretsprovider.NewStore` read
/// them: `type=env` takes `src=` as the variable; with neither `src=` nor
/// `env=`, the variable named like the id when it is set, else the file.
pub(super) fn secrets(values: &[String]) -> anyhow::Result<HashMap<String, SecretSource>> {
    let mut secrets = HashMap::new();
    for value in values.iter().filter(|v| !v.is_empty()) {
        let (id, source) = secret(value)?;
        secrets.insert(id, source);
    }
    Ok(secrets)
}

fn secret(value: &str) -> anyhow::Result<(String, SecretSource)> {
    let fields = strata_dockerfile::csv_fields(value)
        .map_err(|e| anyhow!("failed to parse csv secret: {e}"))?;
    let (mut kind, mut id, mut file, mut env) = (None, String::new(), String::new(), String::new());
    for field in &fields {
        let Some((key, value)) = field.split_once('=') else {
            bail!("invalid field '{field}' must be a key=value pair");
        };
        match key.to_lowercase().as_str() {
            "type" if value == "file" || value == "env" => kind = Some(value),
            "type" => bail!(
                "unsupported secret type {}",
                strata_go::strconv::quote(value)
            ),
            "id" => id = value.to_owned(),
            "source" | "src" => file = value.to_owned(),
            "env" => env = value.to_owned(),
            other => bail!("unexpected key '{other}' in '{field}'"),
        }
    }
    if kind == Some("env") && env.is_empty() {
        env = std::mem::take(&mut file);
    }
    if id.is_empty() {
        bail!("secret missing ID");
    }
    if env.is_empty() && file.is_empty() {
        if std::env::var_os(&id).is_some() {
            env = id.clone();
        } else {
            file = id.clone();
        }
    }
    // BuildKit reads the variable first when both are given.
    if !env.is_empty() {
        return Ok((id, SecretSource::Env(env)));
    }
    if let Err(error) = std::fs::metadata(&file) {
        let reason = strata_go::syscall::error_text(&error);
        bail!("failed to stat {file}: stat {file}: {reason}");
    }
    Ok((id, SecretSource::File(PathBuf::from(file))))
}

/// `--build-context` values by normalised name (a later one wins), as
/// buildx's `ParseContextNames` then `toSolveOpt` read them.
pub(super) fn build_contexts(
    values: &[String],
) -> anyhow::Result<BTreeMap<String, strata_build::NamedContext>> {
    let mut contexts = BTreeMap::new();
    for value in values.iter().filter(|v| !v.is_empty()) {
        let Some((name, value)) = value.split_once('=') else {
            bail!("invalid context value: {value}, expected key=value");
        };
        let name = strata_build::context_name(name)
            .map_err(|e| anyhow!("invalid context name {name}: {e}"))?;
        let context = strata_build::NamedContext::parse(&name, value).map_err(|e| anyhow!(e))?;
        contexts.insert(name, context);
    }
    Ok(contexts)
}

/// `--add-host` entries as buildx's `toBuildkitExtraHosts` reads them:
/// `host=ip` or `host:ip`, several addresses comma-separated, IPv6 in
/// brackets or not. `host-gateway` is the host itself (127.0.0.1): RUN
/// steps share the host's network (docker's driver asks the daemon for its
/// bridge's address, which reaches the host the same way).
pub(super) fn extra_hosts(values: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let mut hosts = Vec::new();
    for value in values {
        let (host, addresses) = value
            .split_once('=')
            .or_else(|| value.split_once(':'))
            .filter(|(host, addresses)| !host.is_empty() && !addresses.is_empty())
            .ok_or_else(|| anyhow!("invalid host {value}"))?;
        if addresses == "host-gateway" {
            hosts.push((host.to_owned(), "127.0.0.1".to_owned()));
            continue;
        }
        for address in addresses.split(',') {
            let bare = address
                .strip_prefix('[')
                .and_then(|a| a.strip_suffix(']'))
                .filter(|a| !a.is_empty())
                .unwrap_or(address);
            if bare.parse::<std::net::IpAddr>().is_err() {
                bail!("invalid host {value}");
            }
            hosts.push((host.to_owned(), bare.to_owned()));
        }
    }
    Ok(hosts)
}

/// `--ulimit` values (docker's `UlimitOpt`: a later one for the same
/// name wins; sorted by name).
pub(super) fn ulimits(values: &[String]) -> anyhow::Result<Vec<Ulimit>> {
    let mut by_name = BTreeMap::new();
    for value in values {
        let ulimit = Ulimit::parse(value).map_err(|e| flag_error(value, "--ulimit", e))?;
        by_name.insert(ulimit.name.clone(), ulimit);
    }
    Ok(by_name.into_values().collect())
}

/// `--shm-size` (docker's `MemBytes`: `64m`, `1g`, bytes); 0 is unset.
pub(super) fn shm_size(value: Option<&str>) -> anyhow::Result<Option<u64>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let bytes = strata_dockerfile::parse_size(value)
        .map_err(|reason| flag_error(value, "--shm-size", reason))?;
    Ok(u64::try_from(bytes).ok().filter(|&bytes| bytes > 0))
}

/// The `--allow` entitlements (BuildKit's names; `device[=NAME]` and
/// `buildx.local.delete` are accepted and change nothing here). A build-wide
/// `--network host` grants `network.host`, as buildx does.
pub(super) fn entitlements(values: &[String], network: &str) -> anyhow::Result<Entitlements> {
    let mut allow = Entitlements {
        network_host: network == "host",
        ..Entitlements::default()
    };
    for value in values.iter().filter(|v| !v.is_empty()) {
        let (key, config) = match value.split_once('=') {
            Some((key, config)) => (key, Some(config)),
            None => (value.as_str(), None),
        };
        match (key, config) {
            ("buildx.local.delete", Some(_)) => {
                bail!("buildx.local.delete does not accept a value")
            }
            ("buildx.local.delete", None) => {}
            ("device", Some(config)) => device_config(config)?,
            ("device", None) => {}
            ("network.host", None) => allow.network_host = true,
            ("security.insecure", None) => allow.security_insecure = true,
            _ => bail!("unknown entitlement {value}"),
        }
    }
    Ok(allow)
}

/// BuildKit's `ParseDevicesConfig`: `NAME[,alias=ALIAS]`.
fn device_config(config: &str) -> anyhow::Result<()> {
    if config.is_empty() {
        return Ok(());
    }
    let fields = strata_dockerfile::csv_fields(config).map_err(|e| anyhow!(e))?;
    for field in fields.iter().skip(1) {
        match field.split_once('=') {
            Some(("alias", _)) => {}
            Some((key, _)) => bail!(
                "unknown device config key {}",
                strata_go::strconv::quote(key)
            ),
            None => bail!("invalid device config {}", strata_go::strconv::quote(field)),
        }
    }
    Ok(())
}

/// `--network`: `default` (the host's network, as docker's builder gives
/// RUN steps by default here), `host` or `none`; anything else is buildx's error.
pub(super) fn network(value: &str) -> anyhow::Result<NetworkMode> {
    match value {
        "" | "default" | "host" => Ok(NetworkMode::Host),
        "none" => Ok(NetworkMode::None),
        other => Err(anyhow!(
            "network mode {} not supported by buildkit - you can define a custom network for your builder using the network driver-opt in buildx create",
            strata_go::strconv::quote(other)
        )),
    }
}

/// pflag's wording for a value a flag's parser refused.
fn flag_error(value: &str, flag: &str, reason: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("invalid argument \"{value}\" for \"{flag}\" flag: {reason}")
}

/// `--cgroup-parent` is accepted and only recorded (see the README).
pub(super) fn cgroup_parent(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_error(value: &str) -> String {
        secret(value).unwrap_err().to_string()
    }

    #[test]
    fn secrets_follow_buildx_and_buildkits_rules() {
        let env = |name: &str| SecretSource::Env(name.to_owned());
        assert_eq!(
            secret("id=a,env=TOKEN").unwrap(),
            ("a".into(), env("TOKEN"))
        );
        assert_eq!(
            secret("type=env,id=a,src=TOKEN").unwrap(),
            ("a".into(), env("TOKEN"))
        );
        // PATH is always set: an id named PATH is type=env.
        assert_eq!(secret("id=PATH").unwrap(), ("PATH".into(), env("PATH")));
        assert_eq!(
            secret("id=x,src=/etc/hostname").unwrap(),
            ("x".into(), SecretSource::File("/etc/hostname".into()))
        );
        assert_eq!(secret_error("src=/etc/hostname"), "secret missing ID");
        assert_eq!(
            secret_error("type=ssh,id=a"),
            "unsupported secret type \"ssh\""
        );
        assert_eq!(
            secret_error("id=a,nope"),
            "invalid field 'nope' must be a key=value pair"
        );
        assert_eq!(
            secret_error("id=a,Mode=1"),
            "unexpected key 'mode' in 'Mode=1'"
        );
        assert_eq!(
            secret_error("id=a,src=/nonexistent/f"),
            "failed to stat /nonexistent/f: stat /nonexistent/f: no such file or directory"
        );
    }

    #[test]
    fn hosts_are_buildx_extra_hosts() {
        let hosts = extra_hosts(&[
            "db:10.0.0.2".into(),
            "cache=10.0.0.3".into(),
            "v6:::1".into(),
            "both=[fd00::1],10.0.0.4".into(),
            "host.docker.internal:host-gateway".into(),
        ])
        .unwrap();
        let pairs: Vec<(&str, &str)> = hosts
            .iter()
            .map(|(h, a)| (h.as_str(), a.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("db", "10.0.0.2"),
                ("cache", "10.0.0.3"),
                ("v6", "::1"),
                ("both", "fd00::1"),
                ("both", "10.0.0.4"),
                ("host.docker.internal", "127.0.0.1"),
            ]
        );
        for bad in ["nohost", ":1.2.3.4", "db:", "db:nope"] {
            assert_eq!(
                extra_hosts(&[bad.into()]).unwrap_err().to_string(),
                format!("invalid host {bad}")
            );
        }
    }

    #[test]
    fn flag_values_are_refused_in_docker_words() {
        assert_eq!(
            ulimits(&["nofile=x".into()]).unwrap_err().to_string(),
            "invalid argument \"nofile=x\" for \"--ulimit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            shm_size(Some("1q")).unwrap_err().to_string(),
            "invalid argument \"1q\" for \"--shm-size\" flag: invalid suffix: 'q'"
        );
        assert_eq!(shm_size(Some("64m")).unwrap(), Some(64 << 20));
        assert_eq!(
            entitlements(&["network.hots".into()], "default")
                .unwrap_err()
                .to_string(),
            "unknown entitlement network.hots"
        );
        assert!(entitlements(&[], "host").unwrap().network_host);
        assert!(network("bridge").unwrap_err().to_string().starts_with(
            "network mode \"bridge\" not supported by buildkit - you can define a custom network"
        ));
    }
}
