//! `strata login`: checks credentials against a registry and stores them
//! in Docker's config (or its credential helper).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;
use strata_oci::Reference;
use strata_registry::{Client, ClientOptions, Credential, DockerConfig};

use super::Global;
use crate::images::runtime;

/// Arguments of `strata login`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The registry [default: docker.io]
    #[arg(value_name = "SERVER")]
    server: Option<String>,
    /// User name
    #[arg(short, long)]
    username: Option<String>,
    /// Password (prefer --password-stdin)
    #[arg(short, long)]
    password: Option<String>,
    /// Read the password from standard input
    #[arg(long)]
    password_stdin: bool,
}

/// `https://host/v1/` and `host` name the same registry.
pub(crate) fn registry_name(server: Option<&str>) -> String {
    let server = server.unwrap_or("docker.io");
    let host = server
        .strip_prefix("https://")
        .or_else(|| server.strip_prefix("http://"))
        .unwrap_or(server);
    let host = host.split('/').next().unwrap_or(host);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "" => "docker.io".to_owned(),
        other => other.to_owned(),
    }
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let registry = registry_name(args.server.as_deref());
    let Some(username) = args.username.clone() else {
        anyhow::bail!("a user name is required: use --username");
    };
    let password = match (&args.password, args.password_stdin) {
        (Some(_), true) => anyhow::bail!("--password and --password-stdin are mutually exclusive"),
        (Some(password), false) => {
            eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
            password.clone()
        }
        (None, true) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            line.trim_end_matches(['\n', '\r']).to_owned()
        }
        (None, false) => {
            if std::io::stdin().is_terminal() {
                anyhow::bail!("a password is required: use --password-stdin");
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\n', '\r']).to_owned()
        }
    };
    if password.is_empty() {
        anyhow::bail!("the password is empty");
    }
    let probe = Reference::parse(&format!("{registry}/strata/login-check:latest"))
        .with_context(|| format!("{registry} is not a registry name"))?;
    let mut options = ClientOptions {
        insecure_registries: global.insecure_registry.clone(),
        ..ClientOptions::default()
    };
    options.credentials.insert(
        registry.clone(),
        Credential::Basic {
            username: username.clone(),
            password: password.clone(),
        },
    );
    let client = Client::new(options)?;
    runtime()?
        .block_on(client.check_login(&probe))
        .with_context(|| format!("logging in to {registry}"))?;
    let config = DockerConfig::from_environment();
    config.store(&registry, &username, &password)?;
    println!("Login Succeeded");
    Ok(ExitCode::SUCCESS)
}
