//! `--ssh default|ID[=SOCKET|KEYFILE[,KEYFILE...]]`, read as buildx reads it
//! and checked as BuildKit's agent provider checks it (in their words): an
//! id without paths is `$SSH_AUTH_SOCK`'s agent, a socket is that agent
//! (kept read-only), key files are held by an `ssh-agent` of the build's
//! own on a private socket, killed when the build ends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use strata_build::SshAgent;

/// What an `--ssh` id reaches.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum SshSource {
    /// An agent's socket.
    Socket(PathBuf),
    /// Private keys, for an agent the build starts.
    Keys(Vec<PathBuf>),
}

/// `--ssh` values by id, checked (sockets exist, key files are keys
/// without a passphrase); a repeated id is buildx's error.
pub(super) fn sources(values: &[String]) -> anyhow::Result<BTreeMap<String, SshSource>> {
    let mut sources = BTreeMap::new();
    for value in values.iter().filter(|v| !v.is_empty()) {
        let (id, paths) = match value.split_once('=') {
            Some((id, paths)) => (id, paths.split(',').collect()),
            None => (value.as_str(), Vec::new()),
        };
        let id = if id.is_empty() { "default" } else { id };
        if sources.contains_key(id) {
            bail!("duplicate agent ID {}", strata_go::strconv::quote(id));
        }
        let source = source(id, &paths).map_err(|reason| {
            anyhow!(
                "failed to convert agent config {{{id} [{}] false}}: {reason}",
                paths.join(" ")
            )
        })?;
        sources.insert(id.to_owned(), source);
    }
    Ok(sources)
}

/// BuildKit's `toDialer`: no path (or one empty path) is `$SSH_AUTH_SOCK`;
/// then one socket, or key files.
fn source(id: &str, paths: &[&str]) -> Result<SshSource, String> {
    let from_environment;
    let paths = match paths {
        [] | [""] => {
            from_environment = std::env::var("SSH_AUTH_SOCK").unwrap_or_default();
            if from_environment.is_empty() {
                return Err(
                    "invalid empty ssh agent socket: make sure SSH_AUTH_SOCK is set".to_owned(),
                );
            }
            vec![from_environment.as_str()]
        }
        paths => paths.to_vec(),
    };
    let converting = |reason: String| {
        format!(
            "failed to convert agent config for ID: {}: {reason}",
            strata_go::strconv::quote(id)
        )
    };
    let (mut socket, mut keys) = (None, Vec::new());
    for path in paths {
        if socket.is_some() {
            return Err(converting("only single socket allowed".to_owned()));
        }
        let metadata = std::fs::metadata(path).map_err(|e| {
            converting(format!(
                "stat {path}: {}",
                strata_go::syscall::error_text(&e)
            ))
        })?;
        if std::os::unix::fs::FileTypeExt::is_socket(&metadata.file_type()) {
            socket = Some(PathBuf::from(path));
            continue;
        }
        check_key(Path::new(path)).map_err(&converting)?;
        keys.push(PathBuf::from(path));
    }
    match socket {
        Some(_) if !keys.is_empty() => Err(converting(
            "invalid combination of keys and sockets".to_owned(),
        )),
        Some(socket) => Ok(SshSource::Socket(socket)),
        None => Ok(SshSource::Keys(keys)),
    }
}

/// A private key as Go's `ssh.ParseRawPrivateKey` takes it: a PEM block of
/// a known type, not protected by a passphrase (BuildKit asks for none).
fn check_key(path: &Path) -> Result<(), String> {
    let shown = path.display();
    let failed = |reason: &str| format!("failed to parse {shown}: {reason}");
    let data = std::fs::read(path).map_err(|e| {
        format!(
            "failed to open {shown}: open {shown}: {}",
            strata_go::syscall::error_text(&e)
        )
    })?;
    let text = String::from_utf8_lossy(&data);
    let Some(kind) = text
        .split("-----BEGIN ")
        .nth(1)
        .and_then(|rest| rest.split_once("-----"))
        .map(|(kind, _)| kind)
    else {
        return Err(failed("ssh: no key found"));
    };
    let known = [
        "RSA PRIVATE KEY",
        "PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
    ];
    if !known.contains(&kind) {
        return Err(failed(&format!("ssh: unsupported key type {kind:?}")));
    }
    // With an empty passphrase given, ssh-keygen never prompts for one.
    let output = Command::new("ssh-keygen")
        .args(["-y", "-P", "", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| failed(&format!("ssh-keygen: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("passphrase") {
        return Err(failed("ssh: this private key is passphrase protected"));
    }
    Err(failed(stderr.trim()))
}

/// The build's agents by id; the ones it started are killed on drop.
pub(super) struct Agents {
    agents: BTreeMap<String, SshAgent>,
    _started: Vec<KeyAgent>,
}

impl Agents {
    /// Starts an `ssh-agent` holding the keys of each id given key files.
    pub(super) fn start(sources: BTreeMap<String, SshSource>) -> anyhow::Result<Self> {
        let (mut agents, mut started) = (BTreeMap::new(), Vec::new());
        for (id, source) in sources {
            let agent = match source {
                SshSource::Socket(socket) => SshAgent {
                    socket,
                    read_only: true,
                },
                SshSource::Keys(keys) => {
                    let key_agent = KeyAgent::start(&keys)
                        .with_context(|| format!("--ssh {id}: starting ssh-agent"))?;
                    let socket = key_agent.socket.clone();
                    started.push(key_agent);
                    // BuildKit's in-process keyring is not read-only.
                    SshAgent {
                        socket,
                        read_only: false,
                    }
                }
            };
            agents.insert(id, agent);
        }
        Ok(Self {
            agents,
            _started: started,
        })
    }

    /// The agents, for `BuildOptions::ssh`.
    pub(super) fn agents(&self) -> BTreeMap<String, SshAgent> {
        self.agents.clone()
    }
}

/// An `ssh-agent` on a socket in a private directory, holding keys.
struct KeyAgent {
    process: Child,
    socket: PathBuf,
    _directory: tempfile::TempDir,
}

impl KeyAgent {
    fn start(keys: &[PathBuf]) -> anyhow::Result<Self> {
        let directory = tempfile::Builder::new()
            .prefix(".strata-ssh-agent")
            .tempdir()
            .context("creating a directory for ssh-agent")?;
        let socket = directory.path().join("agent.sock");
        let process = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("running ssh-agent (Debian's openssh-client)")?;
        let mut agent = Self {
            process,
            socket,
            _directory: directory,
        };
        agent.wait_for_socket()?;
        let output = Command::new("ssh-add")
            .args(keys)
            .env("SSH_AUTH_SOCK", &agent.socket)
            .env("SSH_ASKPASS_REQUIRE", "never")
            .stdin(Stdio::null())
            .output()
            .context("running ssh-add")?;
        if !output.status.success() {
            bail!(
                "ssh-add: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(agent)
    }

    /// Waits until the agent accepts connections: its socket exists from
    /// `bind`, but a connection before its `listen` is refused.
    fn wait_for_socket(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(&self.socket).is_err() {
            if let Some(status) = self.process.try_wait()? {
                bail!("ssh-agent exited: {status}");
            }
            if Instant::now() > deadline {
                bail!("ssh-agent took no connection within 10 seconds");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}

impl Drop for KeyAgent {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(values: &[&str]) -> String {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        sources(&values).unwrap_err().to_string()
    }

    #[test]
    fn values_are_read_and_refused_as_buildx_does() {
        let directory = tempfile::tempdir().unwrap();
        let socket = directory.path().join("agent.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let not_a_key = directory.path().join("not-a-key");
        std::fs::write(&not_a_key, "hello").unwrap();
        let (socket, not_a_key) = (socket.display(), not_a_key.display());
        let parsed = sources(&[format!("gh={socket}"), String::new()]).unwrap();
        assert_eq!(
            parsed.get("gh"),
            Some(&SshSource::Socket(PathBuf::from(socket.to_string())))
        );
        assert_eq!(
            error(&["a=/nonexistent"]),
            "failed to convert agent config {a [/nonexistent] false}: failed to convert agent config for ID: \"a\": stat /nonexistent: no such file or directory"
        );
        assert_eq!(
            error(&[&format!("a={not_a_key}")]),
            format!(
                "failed to convert agent config {{a [{not_a_key}] false}}: failed to convert agent config for ID: \"a\": failed to parse {not_a_key}: ssh: no key found"
            )
        );
        assert!(
            error(&[&format!("a={socket},{socket}")]).ends_with(": only single socket allowed")
        );
        assert!(
            error(&[&format!("a={socket}"), &format!("a={socket}")]) == "duplicate agent ID \"a\""
        );
    }
}
