//! Credentials from Docker's `config.json` (`auths`, `credsStore`,
//! `credHelpers`), through `docker-credential-*` programs where configured.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::error::{RegistryError, Result};

/// The key Docker Hub's credentials are stored under.
pub const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";

/// A credential for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (or personal access token).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// An OAuth2 refresh token (credential helpers return it with user `<token>`).
    IdentityToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Self::IdentityToken(_) => write!(f, "IdentityToken(***)"),
        }
    }
}

/// Docker's client configuration file, read on demand.
#[derive(Debug, Clone)]
pub struct DockerConfig {
    path: PathBuf,
    helper_directory: Option<PathBuf>,
}

impl DockerConfig {
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub fn default_path() -> PathBuf {
        if let Some(directory) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
            return PathBuf::from(directory).join("config.json");
        }
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from);
        home.join(".docker/config.json")
    }

    /// The configuration at `path` (which need not exist).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            helper_directory: None,
        }
    }

    /// Looks for `docker-credential-*` programs in `directory` instead of `PATH`.
    pub fn with_helper_directory(mut self, directory: impl Into<PathBuf>) -> Self {
        self.helper_directory = Some(directory.into());
        self
    }

    fn helper_program(&self, helper: &str) -> PathBuf {
        let name = format!("docker-credential-{helper}");
        match &self.helper_directory {
            Some(directory) => directory.join(name),
            None => PathBuf::from(name),
        }
    }

    /// The configuration at [`DockerConfig::default_path`].
    pub fn from_environment() -> Self {
        Self::at(Self::default_path())
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Map<String, Value>> {
        match std::fs::read(&self.path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err(self.invalid("not a JSON object")),
                Err(error) => Err(self.invalid(&error.to_string())),
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
            Err(error) => Err(strata_fs::Error::new("read", &self.path, error).into()),
        }
    }

    fn invalid(&self, reason: &str) -> RegistryError {
        RegistryError::Credentials {
            message: format!("{}: {reason}", self.path.display()),
        }
    }

    /// The helper program responsible for `registry`, if any (`credHelpers`
    /// first, then `credsStore`).
    fn helper(config: &Map<String, Value>, registry: &str) -> Option<String> {
        config
            .get("credHelpers")
            .and_then(|helpers| helpers.get(registry))
            .or_else(|| config.get("credsStore"))
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
    }

    /// The credential for `registry` (as users name it: `docker.io`,
    /// `localhost:5000`), or `None` when there is none.
    pub fn credential(&self, registry: &str) -> Result<Option<Credential>> {
        let config = self.read()?;
        let key = auth_key(registry);
        if let Some(helper) = Self::helper(&config, registry) {
            return helper_get(&self.helper_program(&helper), &key);
        }
        let Some(auths) = config.get("auths").and_then(Value::as_object) else {
            return Ok(None);
        };
        let entry = auths
            .iter()
            .find(|(stored, _)| normalize_key(stored) == normalize_key(&key))
            .map(|(_, entry)| entry);
        let Some(entry) = entry else {
            return Ok(None);
        };
        if let Some(token) = entry
            .get("identitytoken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            return Ok(Some(Credential::IdentityToken(token.to_owned())));
        }
        if let Some(auth) = entry
            .get("auth")
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty())
        {
            let decoded = STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    self.invalid(&format!("auths[{key}].auth is not base64 of user:password"))
                })?;
            let (username, password) = decoded
                .split_once(':')
                .ok_or_else(|| self.invalid(&format!("auths[{key}].auth is not user:password")))?;
            return Ok(Some(Credential::Basic {
                username: username.to_owned(),
                password: password.to_owned(),
            }));
        }
        match (
            entry.get("username").and_then(Value::as_str),
            entry.get("password").and_then(Value::as_str),
        ) {
            (Some(username), Some(password)) => Ok(Some(Credential::Basic {
                username: username.to_owned(),
                password: password.to_owned(),
            })),
            _ => Ok(None),
        }
    }

    /// Stores a user name and password for `registry`, in its helper if one is
    /// configured, else base64 in `auths` (like `docker login`).
    pub fn store(&self, registry: &str, username: &str, password: &str) -> Result<()> {
        let mut config = self.read()?;
        let key = auth_key(registry);
        if let Some(helper) = Self::helper(&config, registry) {
            let input =
                serde_json::json!({"ServerURL": key, "Username": username, "Secret": password});
            run_helper(&self.helper_program(&helper), "store", &input.to_string())?;
            // Docker keeps an empty entry so `docker logout` and listings know of it.
            set_auth_entry(&mut config, &key, Value::Object(Map::new()));
        } else {
            let auth = STANDARD.encode(format!("{username}:{password}"));
            set_auth_entry(&mut config, &key, serde_json::json!({ "auth": auth }));
        }
        self.write(&config)
    }

    /// Removes the credential for `registry`; whether there was one.
    pub fn erase(&self, registry: &str) -> Result<bool> {
        let mut config = self.read()?;
        let key = auth_key(registry);
        let mut existed = false;
        if let Some(helper) = Self::helper(&config, registry) {
            existed = run_helper(&self.helper_program(&helper), "erase", &key).is_ok();
        }
        if let Some(auths) = config.get_mut("auths").and_then(Value::as_object_mut) {
            let keys: Vec<String> = auths
                .keys()
                .filter(|stored| normalize_key(stored) == normalize_key(&key))
                .cloned()
                .collect();
            for stored in keys {
                auths.remove(&stored);
                existed = true;
            }
        }
        self.write(&config)?;
        Ok(existed)
    }

    fn write(&self, config: &Map<String, Value>) -> Result<()> {
        if let Some(parent) = self.path.parent() {
            strata_fs::create_dir_all(parent)?;
        }
        let mut text =
            serde_json::to_vec_pretty(config).map_err(|e| self.invalid(&e.to_string()))?;
        text.push(b'\n');
        strata_fs::write_atomic(&self.path, &text)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| strata_fs::Error::new("chmod", &self.path, e))?;
        Ok(())
    }
}

fn set_auth_entry(config: &mut Map<String, Value>, key: &str, entry: Value) {
    let auths = config
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    if let Some(auths) = auths.as_object_mut() {
        auths.insert(key.to_owned(), entry);
    }
}

/// The key Docker stores `registry`'s credential under.
pub fn auth_key(registry: &str) -> String {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB_AUTH_KEY.to_owned(),
        other => other.to_owned(),
    }
}

/// `https://host:port/v1/` and `host:port` name the same registry.
fn normalize_key(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_owned(),
        other => other.to_owned(),
    }
}

fn helper_get(helper: &Path, key: &str) -> Result<Option<Credential>> {
    let output = match run_helper(helper, "get", key) {
        Ok(output) => output,
        Err(RegistryError::Credentials { message })
            if message.contains("credentials not found") =>
        {
            return Ok(None);
        }
        Err(error) => return Err(error),
    };
    let value: Value = serde_json::from_str(&output).map_err(|e| RegistryError::Credentials {
        message: format!("{} get: invalid JSON: {e}", helper.display()),
    })?;
    let username = value
        .get("Username")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let secret = value
        .get("Secret")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if secret.is_empty() {
        return Ok(None);
    }
    if username == "<token>" {
        return Ok(Some(Credential::IdentityToken(secret.to_owned())));
    }
    Ok(Some(Credential::Basic {
        username: username.to_owned(),
        password: secret.to_owned(),
    }))
}

/// Runs `docker-credential-<helper> <action>` with `input` on stdin; its stdout.
fn run_helper(program: &Path, action: &str, input: &str) -> Result<String> {
    let fail = |message: String| RegistryError::Credentials {
        message: format!("{} {action}: {message}", program.display()),
    };
    let mut child = Command::new(program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| fail(e.to_string()))?;
    }
    let output = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        return Err(fail(if stdout.is_empty() { stderr } else { stdout }));
    }
    Ok(stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auths_in_docker_forms() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},"http://localhost:5000/v2/":{"auth":"YTpiOmM="},"id.example":{"identitytoken":"tok"}}}"#,
        )
        .unwrap();
        let config = DockerConfig::at(&path);
        assert_eq!(
            config.credential("docker.io").unwrap(),
            Some(Credential::Basic {
                username: "user".into(),
                password: "pass".into()
            })
        );
        assert_eq!(
            config.credential("localhost:5000").unwrap(),
            Some(Credential::Basic {
                username: "a".into(),
                password: "b:c".into()
            })
        );
        assert_eq!(
            config.credential("id.example").unwrap(),
            Some(Credential::IdentityToken("tok".into()))
        );
        assert_eq!(config.credential("quay.io").unwrap(), None);
    }

    #[test]
    fn store_and_erase_keep_other_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d/config.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, r#"{"detachKeys":"ctrl-x"}"#).unwrap();
        let config = DockerConfig::at(&path);
        config.store("localhost:5000", "u", "p").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("detachKeys") && text.contains("dTpw"),
            "{text}"
        );
        assert!(config.erase("localhost:5000").unwrap());
        assert_eq!(config.credential("localhost:5000").unwrap(), None);
        assert!(!config.erase("localhost:5000").unwrap());
    }

    #[test]
    fn uses_credential_helpers() {
        let dir = tempfile::tempdir().unwrap();
        // A helper script that answers `get` for one server.
        let helper = dir.path().join("docker-credential-testhelper");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread server\nif [ \"$1\" = get ] && [ \"$server\" = reg.example ]; then echo '{\"ServerURL\":\"reg.example\",\"Username\":\"hu\",\"Secret\":\"hs\"}'; else echo 'credentials not found in native keychain'; exit 1; fi\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"credHelpers":{"reg.example":"testhelper","other.example":"testhelper"}}"#,
        )
        .unwrap();
        let config = DockerConfig::at(&path).with_helper_directory(dir.path());
        assert_eq!(
            config.credential("reg.example").unwrap(),
            Some(Credential::Basic {
                username: "hu".into(),
                password: "hs".into()
            })
        );
        assert_eq!(config.credential("other.example").unwrap(), None);
    }
}
