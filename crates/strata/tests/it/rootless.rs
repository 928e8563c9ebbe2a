//! Rootless strata: an unprivileged user with subordinate ids builds and
//! runs in a user namespace of its own. The test (as root) makes such a
//! user, then compares its build of a Dockerfile that adds users, chowns,
//! sets a setuid bit and makes a fifo with root's build of the same: with
//! `SOURCE_DATE_EPOCH` both images are byte for byte the same, ID included,
//! so no id of the host's mapping leaks into a layer. Also: the store in
//! `$XDG_DATA_HOME/strata`, overlay snapshots, `run`, the message for a
//! user without subordinate ids, and a rootless build killed with SIGKILL
//! leaving a consistent store.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::Env;

const USER: &str = "strata-rootless";
const NO_IDS: &str = "strata-noids";
/// A user of its own for the network test.
const NETWORKED: &str = "strata-rootnet";
/// A user of its own for the test that kills every process of its user.
const KILLED: &str = "strata-rootkill";
const DOCKERFILE: &str = r#"FROM local/busybox:latest
RUN mkdir -p /home/app /etc \
 && echo "root:x:0:0::/root:/bin/sh" > /etc/passwd \
 && echo "app:x:1000:1000::/home/app:/bin/sh" >> /etc/passwd \
 && echo "root:x:0:" > /etc/group \
 && chown 1000:1000 /home/app && touch /s && chown 123:456 /s && chmod 4755 /s \
 && mkfifo /fifo && mkdir /nobody && chown 65534:65534 /nobody && rm -rf /usr
USER app
RUN touch /home/app/mine && echo hello > /home/app/greeting
"#;

/// Test users are set up one at a time (useradd and /etc/subuid are shared).
static SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A user made for the test (kept between runs: adding users is slow),
/// with subordinate ids 300000-365535 or none.
fn user(name: &str, subordinate: bool) -> (u32, u32) {
    let _one = SETUP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let exists = Command::new("id")
        .arg(name)
        .output()
        .unwrap()
        .status
        .success();
    if !exists {
        let status = Command::new("useradd")
            .args(["--create-home", "--no-user-group", "--gid", "100"])
            .args(if subordinate {
                &[][..]
            } else {
                &["--no-log-init"][..]
            })
            .arg(name)
            .status()
            .unwrap();
        assert!(status.success(), "useradd {name}");
    }
    let ids = |flag: &str| -> u32 {
        let output = Command::new("id").args([flag, name]).output().unwrap();
        String::from_utf8(output.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let (uid, gid) = (ids("-u"), ids("-g"));
    for file in ["/etc/subuid", "/etc/subgid"] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let wanted = format!("{name}:300000:65536");
        let has = text
            .lines()
            .any(|line| line.starts_with(&format!("{name}:")));
        if has == subordinate && (!subordinate || text.lines().any(|line| line == wanted)) {
            continue;
        }
        let kept: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with(&format!("{name}:")))
            .collect();
        let mut lines = kept.join("\n");
        if !lines.is_empty() {
            lines.push('\n');
        }
        if subordinate {
            lines.push_str(&format!("{name}:300000:65536\n"));
        }
        std::fs::write(file, lines).unwrap();
    }
    (uid, gid)
}

/// A directory the user owns, for its store, context and binary.
struct Home {
    directory: tempfile::TempDir,
    uid: u32,
    gid: u32,
}

impl Drop for Home {
    /// The user's namespace holder and anything left running go with the test.
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-KILL", "-u", &self.uid.to_string()])
            .status();
    }
}

impl Home {
    fn new(uid: u32, gid: u32) -> Self {
        let directory = tempfile::Builder::new()
            .prefix("strata-rootless")
            .tempdir_in("/var/tmp")
            .unwrap();
        std::fs::set_permissions(directory.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        // The user's own copy of the binary: the build tree may be closed to it.
        std::fs::copy(
            assert_cmd::cargo::cargo_bin("strata"),
            directory.path().join("strata"),
        )
        .unwrap();
        std::fs::create_dir(directory.path().join("run")).unwrap();
        let home = Self {
            directory,
            uid,
            gid,
        };
        home.chown(home.path());
        home
    }

    fn path(&self) -> &Path {
        self.directory.path()
    }

    fn chown(&self, path: &Path) {
        let status = Command::new("chown")
            .args(["-R", &format!("{}:{}", self.uid, self.gid)])
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// `strata ARGS` as the user, its store in `$XDG_DATA_HOME/strata`.
    fn strata(&self, args: &[&str]) -> Command {
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid",
                &self.uid.to_string(),
                "--regid",
                &self.gid.to_string(),
                "--clear-groups",
                "--",
            ])
            .arg(self.path().join("strata"))
            .args(args)
            .current_dir(self.path())
            .env("HOME", self.path())
            .env("XDG_DATA_HOME", self.path().join("data"))
            .env("XDG_RUNTIME_DIR", self.path().join("run"))
            .env("NO_COLOR", "1")
            .env("SOURCE_DATE_EPOCH", "0")
            .env_remove("STRATA_ROOT");
        command
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.strata(args).output().unwrap();
        assert!(
            output.status.success(),
            "rootless strata {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn store(&self) -> PathBuf {
        self.path().join("data/strata")
    }
}

fn available(test: &str) -> bool {
    let tools = ["newuidmap", "newgidmap", "setpriv", "useradd"]
        .iter()
        .all(|tool| strata_test::find_program(tool).is_some());
    strata_test::should_run_as_root(test)
        && strata_test::should_run(
            test,
            tools,
            "uidmap's newuidmap/newgidmap, setpriv and useradd",
        )
}

#[test]
fn a_rootless_build_is_the_root_build() {
    if !available("a_rootless_build_is_the_root_build") {
        return;
    }
    let (uid, gid) = user(USER, true);
    let home = Home::new(uid, gid);
    // The base image, the same bytes in both stores; with device nodes in
    // /dev, as debootstrap's bases have (rootless, they cannot be made).
    let root = Env::with_busybox("a_rootless_build_is_the_root_build").unwrap();
    let rootfs = home.path().join("rootfs");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(strata_test::busybox_rootfs())
        .arg(&rootfs)
        .status()
        .unwrap();
    assert!(copied.success());
    std::fs::create_dir_all(rootfs.join("dev")).unwrap();
    for (name, major, minor) in [("console", "5", "1"), ("null", "1", "3")] {
        let made = Command::new("mknod")
            .arg(rootfs.join("dev").join(name))
            .args(["c", major, minor])
            .status()
            .unwrap();
        assert!(made.success());
    }
    root.command()
        .env("SOURCE_DATE_EPOCH", "0")
        .args(["import", "-c", "CMD [\"/bin/sh\"]"])
        .arg(&rootfs)
        .arg("local/busybox:latest")
        .assert()
        .success();
    std::fs::remove_dir_all(&rootfs).unwrap();
    let base = home.path().join("base.tar");
    root.ok(&["save", "-o", base.to_str().unwrap(), "local/busybox:latest"]);
    let context = home.path().join("context");
    std::fs::create_dir(&context).unwrap();
    std::fs::write(context.join("Dockerfile"), DOCKERFILE).unwrap();
    home.chown(home.path());

    home.ok(&["load", "-i", base.to_str().unwrap()]);
    home.ok(&["build", "-q", "-t", "app", context.to_str().unwrap()]);
    let rootless_id = home.ok(&["inspect", "--format", "{{.Id}}", "app"]);
    // The store is the user's, in XDG_DATA_HOME, on overlay snapshots.
    assert!(home.store().join("images/index.json").is_file());
    let kind = std::fs::read_to_string(home.store().join("areas/snapshots/kind")).unwrap();
    assert!(kind.starts_with("overlay"), "{kind}");
    let info = home.ok(&["system", "info"]);
    assert!(info.contains("Rootless: true\n"), "{info}");
    assert!(
        info.contains("UID map (inside outside count): 0 "),
        "{info}"
    );
    assert!(
        info.contains("Snapshotter: overlay (overlayfs mounts here, in strata's user namespace"),
        "{info}"
    );
    assert!(root.ok(&["system", "info"]).contains("Rootless: false\n"));

    let root_id = root
        .command()
        .env("SOURCE_DATE_EPOCH", "0")
        .args(["build", "-q", "-t", "app"])
        .arg(&context)
        .output()
        .unwrap();
    assert!(
        root_id.status.success(),
        "{}",
        String::from_utf8_lossy(&root_id.stderr)
    );
    assert_eq!(rootless_id, String::from_utf8(root_id.stdout).unwrap());

    // The files as the container sees them: ids inside, not the host's.
    let listing = home.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "app",
        "sh",
        "-c",
        "ls -ln /s /home/app/mine; ls -lnd /nobody; cat /home/app/greeting",
    ]);
    assert!(
        listing.contains(" 123 ") && listing.contains(" 456 "),
        "{listing}"
    );
    assert!(
        listing.contains("1000     100") || listing.contains(" 1000 "),
        "{listing}"
    );
    assert!(listing.contains(" 65534 "), "{listing}");
    assert!(listing.ends_with("hello\n"), "{listing}");

    // No cgroup is delegated to the user: a limit is refused, clearly.
    let limited = home
        .strata(&[
            "run",
            "--rm",
            "--network",
            "none",
            "--memory",
            "64m",
            "app",
            "true",
        ])
        .output()
        .unwrap();
    // (Where a cgroup is delegated to the user, the limit simply applies.)
    if !limited.status.success() {
        let stderr = String::from_utf8_lossy(&limited.stderr);
        assert!(
            stderr.contains("rootless containers cannot take resource limits"),
            "{stderr}"
        );
    }

    // Later commands share the namespace of the one that started a container.
    let id = home.ok(&["run", "-d", "--network", "none", "app", "sleep", "300"]);
    let id = id.trim();
    assert!(home.ok(&["ps", "-q", "--no-trunc"]).contains(id));
    assert_eq!(
        home.ok(&["exec", id, "cat", "/home/app/greeting"]),
        "hello\n"
    );
    home.ok(&["stop", "-t", "1", id]);
    home.ok(&["rm", id]);
    // What the user's store holds on the host is owned by the user or by
    // its subordinate range (1..=65536 inside is 300000.. outside).
    let output = Command::new("find")
        .arg(home.store())
        .args(["-printf", "%U %p\n"])
        .output()
        .unwrap();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let (owner, path) = line.split_once(' ').unwrap();
        let owner: u32 = owner.parse().unwrap();
        assert!(
            owner == uid || (300000..365536).contains(&owner),
            "{path} is {owner}'s"
        );
    }
}

#[test]
fn a_killed_rootless_build_leaves_a_consistent_store() {
    if !available("a_killed_rootless_build_leaves_a_consistent_store") {
        return;
    }
    let (uid, gid) = user(KILLED, true);
    let home = Home::new(uid, gid);
    let root = Env::with_busybox("a_killed_rootless_build_leaves_a_consistent_store").unwrap();
    let base = home.path().join("base.tar");
    root.ok(&["save", "-o", base.to_str().unwrap(), "local/busybox:latest"]);
    let context = home.path().join("context");
    std::fs::create_dir(&context).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM local/busybox:latest\nRUN dd if=/dev/zero of=/big bs=1M count=64 && sleep 30\n",
    )
    .unwrap();
    home.chown(home.path());
    home.ok(&["load", "-i", base.to_str().unwrap()]);
    let mut child = home
        .strata(&["build", "-t", "big", context.to_str().unwrap()])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // The whole session: the unprivileged parent and its namespaced copy.
    let _ = Command::new("pkill")
        .args(["-KILL", "-u", &uid.to_string()])
        .status();
    let _ = child.wait();
    let check = home.strata(&["system", "check"]).output().unwrap();
    assert!(
        check.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    // And it builds again.
    std::fs::write(
        context.join("Dockerfile"),
        "FROM local/busybox:latest\nRUN echo again > /a\n",
    )
    .unwrap();
    home.ok(&["build", "-q", "-t", "again", context.to_str().unwrap()]);
}

#[test]
fn a_user_without_subordinate_ids_is_told_the_line_to_add() {
    if !available("a_user_without_subordinate_ids_is_told_the_line_to_add") {
        return;
    }
    let (uid, gid) = user(NO_IDS, false);
    let home = Home::new(uid, gid);
    let output = home.strata(&["images"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "add the line \"{NO_IDS}:100000:65536\" to /etc/subuid"
        )),
        "{stderr}"
    );
}

/// Puts a file's mode back when dropped.
struct ModeGuard(PathBuf, u32);

impl Drop for ModeGuard {
    fn drop(&mut self) {
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(self.1));
    }
}

#[test]
fn rootless_containers_publish_ports_through_pasta() {
    let test = "rootless_containers_publish_ports_through_pasta";
    if !available(test)
        || !strata_test::should_run(test, strata_test::find_program("pasta").is_some(), "pasta")
    {
        return;
    }
    // pasta opens /dev/net/tun as the user: Debian's udev makes it 0666;
    // this machine may not (the error for that is tested below the guard).
    let tun = PathBuf::from("/dev/net/tun");
    let mode = std::fs::metadata(&tun).unwrap().permissions().mode() & 0o7777;
    let (uid, gid) = user(NETWORKED, true);
    let home = Home::new(uid, gid);
    let root = Env::with_busybox(test).unwrap();
    let base = home.path().join("base.tar");
    root.ok(&["save", "-o", base.to_str().unwrap(), "local/busybox:latest"]);
    home.chown(home.path());
    home.ok(&["load", "-i", base.to_str().unwrap()]);
    if mode & 0o006 != 0o006 {
        let output = home
            .strata(&["run", "--rm", "local/busybox", "true"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("chmod 0666 /dev/net/tun"), "{stderr}");
    }
    let _restore = ModeGuard(tun.clone(), mode);
    std::fs::set_permissions(&tun, std::fs::Permissions::from_mode(0o666)).unwrap();

    let port = strata_test::free_port();
    let id = home.ok(&[
        "run",
        "-d",
        "-p",
        &format!("{port}:8080"),
        "local/busybox",
        "sh",
        "-c",
        "mkdir /www && echo served > /www/index.html && exec busybox httpd -f -p 8080 -h /www",
    ]);
    let url = format!("http://127.0.0.1:{port}/");
    let mut body = String::new();
    for _ in 0..100 {
        let output = Command::new("curl")
            .args(["-fsS", "--max-time", "2", &url])
            .output()
            .unwrap();
        if output.status.success() {
            body = String::from_utf8_lossy(&output.stdout).into_owned();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(body, "served\n");
    home.ok(&["stop", "-t", "1", id.trim()]);

    let low = home
        .strata(&["run", "--rm", "-p", "80:8080", "local/busybox", "true"])
        .output()
        .unwrap();
    assert!(!low.status.success());
    let stderr = String::from_utf8_lossy(&low.stderr);
    assert!(stderr.contains("cannot publish host port 80"), "{stderr}");
}
