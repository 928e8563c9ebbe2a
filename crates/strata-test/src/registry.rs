//! A real registry for tests: Debian's `docker-registry` (the CNCF
//! distribution registry) on a free 127.0.0.1 port, with a generated config
//! and a temporary storage directory, stopped on drop. Optional basic auth
//! (htpasswd, bcrypt) or token auth against a [`TokenIssuer`] run in-process.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::port::free_port;
use crate::token::TokenIssuer;

/// The registry program.
pub const REGISTRY_PROGRAM: &str = "docker-registry";

/// How the registry authenticates clients.
#[derive(Debug, Clone)]
pub enum RegistryAuth {
    /// Anyone may pull and push.
    Anonymous,
    /// HTTP basic auth with one user.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// Docker's token auth, tokens from an in-process issuer.
    Token,
}

/// A running registry process.
#[derive(Debug)]
pub struct Registry {
    address: SocketAddr,
    child: Child,
    directory: tempfile::TempDir,
    issuer: Option<TokenIssuer>,
}

impl Registry {
    /// Whether `docker-registry` is installed.
    pub fn available() -> bool {
        find_program(REGISTRY_PROGRAM).is_some()
    }

    /// An anonymous registry.
    pub fn start() -> Self {
        Self::start_with(RegistryAuth::Anonymous)
    }

    /// A registry with `auth`. Token auth accepts `user`/`password` at the
    /// issuer (see [`TokenIssuer::USERNAME`]).
    pub fn start_with(auth: RegistryAuth) -> Self {
        Self::start_on("127.0.0.1", auth)
    }

    /// A registry listening on loopback address `ip` (e.g. `127.0.0.2`, which
    /// clients do not treat as plain-http by default).
    pub fn start_on(ip: &str, auth: RegistryAuth) -> Self {
        let directory = tempfile::tempdir().expect("temporary directory");
        let port = free_port();
        let address: SocketAddr = format!("{ip}:{port}").parse().expect("address");
        let storage = directory.path().join("storage");
        std::fs::create_dir_all(&storage).expect("storage directory");
        let mut issuer = None;
        let auth_section = match &auth {
            RegistryAuth::Anonymous => String::new(),
            RegistryAuth::Basic { username, password } => {
                let htpasswd = directory.path().join("htpasswd");
                let output = Command::new("htpasswd")
                    .args(["-Bbn", username, password])
                    .output()
                    .expect("htpasswd (apache2-utils) runs");
                assert!(output.status.success(), "htpasswd failed: {output:?}");
                std::fs::write(&htpasswd, &output.stdout).expect("write htpasswd");
                format!(
                    "auth:\n  htpasswd:\n    realm: strata-test\n    path: {}\n",
                    htpasswd.display()
                )
            }
            RegistryAuth::Token => {
                let started = TokenIssuer::start(directory.path());
                let section = format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    started.realm(),
                    TokenIssuer::SERVICE,
                    TokenIssuer::ISSUER,
                    started.certificate_path().display()
                );
                issuer = Some(started);
                section
            }
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: {address}\n  secret: strata-test-secret\n{auth_section}",
            storage.display()
        );
        let config_path = directory.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write registry config");
        let log = std::fs::File::create(directory.path().join("registry.log")).expect("log file");
        let child = Command::new(REGISTRY_PROGRAM)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("docker-registry starts (install the docker-registry package)");
        let mut registry = Self {
            address,
            child,
            directory,
            issuer,
        };
        registry.wait_ready();
        registry
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("docker-registry exited with {status}: {}", self.log());
            }
            if let Ok(mut stream) = TcpStream::connect(self.address) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let request = format!("GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.address);
                let mut answer = [0u8; 12];
                if stream.write_all(request.as_bytes()).is_ok()
                    && stream.read_exact(&mut answer).is_ok()
                    && answer.starts_with(b"HTTP/")
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "docker-registry did not answer on {}: {}",
            self.address,
            self.log()
        );
    }

    /// `127.0.0.1:<port>`: the registry part of references.
    pub fn host(&self) -> String {
        self.address.to_string()
    }

    /// The socket address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The token issuer, for token-auth registries.
    pub fn issuer(&self) -> Option<&TokenIssuer> {
        self.issuer.as_ref()
    }

    /// The registry's storage directory.
    pub fn storage(&self) -> PathBuf {
        self.directory.path().join("storage")
    }

    /// The file holding blob `digest` in the registry's storage (to tamper with it).
    pub fn blob_data_path(&self, digest: &strata_oci::Digest) -> PathBuf {
        let hex = digest.hex();
        self.storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(&hex)
            .join("data")
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.directory.path().join("registry.log")).unwrap_or_default()
    }

    /// A scratch directory that lives as long as the registry.
    pub fn scratch(&self) -> &Path {
        self.directory.path()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a test that needs `docker-registry` runs: it skips loudly
/// without it (and fails under `STRATA_REQUIRE_PRIVILEGED=1`).
pub fn needs_registry(test: &str) -> bool {
    crate::should_run(test, Registry::available(), "the docker-registry package")
}

/// The full path of `program` on `PATH`.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|directory| directory.join(program))
        .find(|candidate| candidate.is_file())
}
