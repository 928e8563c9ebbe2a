//! Each version order against its reference implementation, on thousands of
//! generated pairs biased to the shapes where orders differ: `dpkg
//! --compare-versions`, rpm's `rpm.vercmp`, Python's `packaging`, npm's
//! `semver`, Maven's `ComparableVersion`. A missing tool skips loudly.

use std::cmp::Ordering;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use strata_sbom::version::{Scheme, compare, parse_ok};

/// xorshift64: a seeded, dependency-free generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// 1 to `max` atoms joined.
    fn atoms(&mut self, from: &[&str], max: usize) -> String {
        (0..1 + self.below(max)).map(|_| self.pick(from)).collect()
    }
}

const NUMS: &[&str] = &["0", "1", "2", "9", "10", "01", "00", "123", "4294967296"];

/// Pairs: half independent, half a respelling or small change of the first.
fn pairs(
    seed: u64,
    count: usize,
    one: fn(&mut Rng) -> String,
    near: fn(&mut Rng, &str) -> String,
) -> Vec<(String, String)> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let a = one(&mut rng);
            let b = if rng.chance(50) {
                near(&mut rng, &a)
            } else {
                one(&mut rng)
            };
            (a, b)
        })
        .collect()
}

/// Replaces one occurrence of a `from` with its `to`, if any is present.
fn respell(rng: &mut Rng, v: &str, swaps: &[(&str, &str)]) -> String {
    let present: Vec<_> = swaps.iter().filter(|(from, _)| v.contains(from)).collect();
    if present.is_empty() {
        return v.to_owned();
    }
    let (from, to) = present[rng.below(present.len())];
    v.replacen(from, to, 1)
}

fn dpkg_version(rng: &mut Rng) -> String {
    let epoch = rng.pick(&["", "", "", "0:", "1:", "2:", "10:"]);
    let mut upstream = rng.pick(NUMS).to_owned();
    upstream += &rng.atoms(
        &[
            ".", "1", "2", "0", "10", "a", "b", "rc", "~", "~rc1", "+", "+dfsg", ".", "~~", "z",
        ],
        5,
    );
    let revision = match rng.below(3) {
        0 => String::new(),
        _ => format!(
            "-{}",
            rng.atoms(
                &[
                    "0", "1", "2", "10", ".", "+", "~", "deb12u1", "ubuntu", "a", "~bpo"
                ],
                3
            )
        ),
    };
    format!("{epoch}{upstream}{revision}")
}

fn dpkg_near(rng: &mut Rng, v: &str) -> String {
    let swaps = [
        ("0:", ""),
        ("1", "01"),
        ("10", "010"),
        ("~", "~~"),
        ("a", "b"),
        ("-", "-0"),
        (".", "~"),
        ("+", "."),
    ];
    if rng.chance(20) && !v.contains(':') {
        return format!("0:{v}");
    }
    respell(rng, v, &swaps)
}

fn rpm_version(rng: &mut Rng) -> String {
    let epoch = rng.pick(&["", "", "", "0:", "1:", "2:"]);
    let mut version = rng.pick(NUMS).to_owned();
    version += &rng.atoms(
        &[
            ".", "1", "0", "10", "a", "b", "rc", "~", "~rc1", "^", "^git1", "_", "+", "z", ".",
        ],
        5,
    );
    let release = match rng.below(3) {
        0 => String::new(),
        _ => format!(
            "-{}",
            rng.atoms(
                &["1", "2", "10", ".", "el9", "fc38", "~", "^", "_1", "a"],
                3
            )
        ),
    };
    format!("{epoch}{version}{release}")
}

fn rpm_near(rng: &mut Rng, v: &str) -> String {
    let swaps = [
        ("0:", ""),
        ("1", "01"),
        ("~", "~~"),
        ("^", "~"),
        ("a", "b"),
        (".", "_"),
        (".", ""),
        ("-", "-0"),
    ];
    respell(rng, v, &swaps)
}

fn pep440_version(rng: &mut Rng) -> String {
    let mut v = rng.pick(&["", "", "", "", "v", "V", "1!", "0!"]).to_owned();
    v += rng.pick(NUMS);
    for _ in 0..rng.below(4) {
        v += ".";
        v += rng.pick(NUMS);
    }
    if rng.chance(40) {
        v += rng.pick(&["", ".", "-", "_"]);
        v += rng.pick(&[
            "a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "A", "RC",
        ]);
        v += rng.pick(&["", "0", "1", "2", "-1", ".3"]);
    }
    if rng.chance(30) {
        v += rng.pick(&[
            "-1", "-2", ".post", ".post1", "post2", "-r", "_rev3", ".POST0",
        ]);
    }
    if rng.chance(30) {
        v += rng.pick(&[".dev", ".dev0", "dev1", "-dev2", "_DEV"]);
    }
    if rng.chance(25) {
        v += "+";
        v += &rng.atoms(&["abc", "1", "01", "z", "ubuntu", "a1", "-", ".", "_"], 4);
    }
    if rng.chance(3) {
        v += rng.pick(&["-", ".", "+", "x", "..1"]);
    }
    v
}

fn pep440_near(rng: &mut Rng, v: &str) -> String {
    let swaps = [
        ("1", "01"),
        ("alpha", "a"),
        ("a", "alpha"),
        ("c", "rc"),
        ("pre", "rc"),
        ("-1", ".post1"),
        (".0", ""),
        (".dev", "-dev0"),
        ("+", "+0."),
        (".", "_"),
        ("v", ""),
        ("b", "B"),
        ("post", "rev"),
    ];
    if rng.chance(15) {
        return format!("{v}.0");
    }
    respell(rng, v, &swaps)
}

fn semver_version(rng: &mut Rng) -> String {
    let num = |rng: &mut Rng| {
        rng.pick(&["0", "1", "2", "9", "10", "11", "100"])
            .to_owned()
    };
    let mut v = format!(
        "{}{}.{}.{}",
        rng.pick(&["", "", "v"]),
        num(rng),
        num(rng),
        num(rng)
    );
    if rng.chance(50) {
        let ids: Vec<&str> = (0..1 + rng.below(3))
            .map(|_| {
                rng.pick(&[
                    "alpha", "beta", "rc", "0", "1", "2", "10", "a1", "1a", "-", "x-y", "B",
                    "Alpha",
                ])
            })
            .collect();
        v += &format!("-{}", ids.join("."));
    }
    if rng.chance(20) {
        v += rng.pick(&["+build", "+001", "+a.b", "+incompatible"]);
    }
    if rng.chance(4) {
        // Malformed: npm refuses these, and so must parse_ok.
        v = respell(
            rng,
            &v,
            &[
                (".", ".0"),
                ("-", "-01."),
                ("", "="),
                ("1", "01"),
                (".", ".."),
            ],
        );
    }
    v
}

fn semver_near(rng: &mut Rng, v: &str) -> String {
    let swaps = [
        ("alpha", "beta"),
        ("1", "2"),
        ("10", "9"),
        ("+build", ""),
        ("v", ""),
        (".0", ".1"),
        ("rc", "RC"),
    ];
    if rng.chance(15) && !v.contains('+') {
        return format!("{v}+meta");
    }
    respell(rng, v, &swaps)
}

fn maven_version(rng: &mut Rng) -> String {
    let mut v = rng.pick(NUMS).to_owned();
    v += &rng.atoms(
        &[
            ".",
            "-",
            "1",
            "0",
            "10",
            "alpha",
            "a",
            "b",
            "m",
            "beta",
            "milestone",
            "rc",
            "cr",
            "snapshot",
            "SNAPSHOT",
            "ga",
            "final",
            "release",
            "sp",
            "foo",
            "RC",
            "00",
            "0000000000",
            "12345678901",
        ],
        6,
    );
    v
}

fn maven_near(rng: &mut Rng, v: &str) -> String {
    let swaps = [
        ("-", "."),
        (".", "-"),
        ("cr", "rc"),
        ("final", "ga"),
        ("ga", ""),
        ("1", "01"),
        ("alpha", "a"),
        ("snapshot", "SNAPSHOT"),
        ("b", "beta"),
        ("m", "milestone"),
    ];
    if rng.chance(20) {
        return format!("{v}{}", rng.pick(&[".0", "-0", "-final", ".0.0", "-ga"]));
    }
    respell(rng, v, &swaps)
}

fn sign(o: Ordering) -> i32 {
    match o {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

/// Runs `program` with `input` on stdin and returns its stdout lines.
fn run(mut command: Command, input: &str) -> Vec<String> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn reference tool");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("reference tool output");
    writer.join().expect("writer").expect("write stdin");
    assert!(
        out.status.success(),
        "reference tool failed: {:?}",
        out.status
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn tab_lines(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect()
}

/// Checks `expected` (one per pair, `None` where the pair is not compared)
/// against strata's order and reports the count and time.
#[allow(clippy::print_stderr)] // The count and time are this test's report.
fn check(scheme: Scheme, pairs: &[(String, String)], expected: &[Option<i32>], started: Instant) {
    assert_eq!(
        pairs.len(),
        expected.len(),
        "{scheme:?}: reference answered {} of {} pairs",
        expected.len(),
        pairs.len()
    );
    let mut bad = Vec::new();
    let mut checked = 0;
    for ((a, b), want) in pairs.iter().zip(expected) {
        let Some(want) = *want else { continue };
        checked += 1;
        let got = sign(compare(scheme, a, b));
        if got != want {
            bad.push(format!("{a:?} vs {b:?}: strata {got}, reference {want}"));
        }
    }
    eprintln!(
        "{scheme:?}: {checked} pairs agree-checked in {:.2?}",
        started.elapsed()
    );
    assert!(
        checked * 2 > pairs.len(),
        "{scheme:?}: only {checked} of {} pairs compared",
        pairs.len()
    );
    assert!(
        bad.is_empty(),
        "{scheme:?}: {} disagreements, first:\n{}",
        bad.len(),
        bad[..bad.len().min(15)].join("\n")
    );
}

#[test]
fn dpkg_matches_dpkg_compare_versions() {
    let available = Path::new("/usr/bin/dpkg").exists();
    if !strata_test::should_run(
        "dpkg version order",
        available,
        "dpkg (Debian package dpkg)",
    ) {
        return;
    }
    let started = Instant::now();
    let pairs = pairs(0x5eed_d9c6, 2000, dpkg_version, dpkg_near);
    // Pairs dpkg refuses (an empty revision) are left out of the comparison.
    let script = r#"while IFS="$(printf '\t')" read -r a b; do
        if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then echo -1;
        elif dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then echo 0;
        elif dpkg --compare-versions "$a" gt "$b" 2>/dev/null; then echo 1;
        else echo x; fi; done"#;
    let mut command = Command::new("sh");
    command.args(["-c", script]);
    let out = run(command, &tab_lines(&pairs));
    let expected: Vec<Option<i32>> = out.iter().map(|l| l.parse().ok()).collect();
    for ((a, b), want) in pairs.iter().zip(&expected) {
        if want.is_none() {
            assert!(
                !parse_ok(Scheme::Dpkg, a) || !parse_ok(Scheme::Dpkg, b),
                "dpkg refused {a:?} {b:?}"
            );
        }
    }
    check(Scheme::Dpkg, &pairs, &expected, started);
}

#[test]
fn rpm_matches_rpm_vercmp() {
    let available = Path::new("/usr/bin/rpm").exists();
    if !strata_test::should_run("rpm version order", available, "rpm (Debian package rpm)") {
        return;
    }
    let started = Instant::now();
    let pairs = pairs(0x5eed_0e9a, 5000, rpm_version, rpm_near);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pairs");
    std::fs::write(&file, tab_lines(&pairs)).expect("write pairs");
    let lua = format!(
        "%{{lua: for line in io.lines('{}') do local a, b = line:match('^([^\\t]+)\\t([^\\t]+)$'); print(rpm.vercmp(a, b) .. '\\n') end}}",
        file.display()
    );
    let mut command = Command::new("rpm");
    command.args(["--eval", &lua]);
    let out = run(command, "");
    let expected: Vec<Option<i32>> = out
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.parse().ok())
        .collect();
    check(Scheme::Rpm, &pairs, &expected, started);
}

#[test]
fn pep440_matches_packaging() {
    let Some(python) = strata_test::test_tool("venv/bin/python") else {
        return;
    };
    let started = Instant::now();
    let pairs = pairs(0x5eed_0440, 5000, pep440_version, pep440_near);
    let script = r#"
import sys
from packaging.version import Version, InvalidVersion
def parse(v):
    try:
        return Version(v)
    except InvalidVersion:
        return None
for line in sys.stdin:
    a, b = (parse(v) for v in line.rstrip("\n").split("\t"))
    if a is None or b is None:
        print("x", int(a is not None), int(b is not None))
    else:
        print((a > b) - (a < b), 1, 1)
"#;
    let mut command = Command::new(python);
    command.args(["-c", script]);
    let out = run(command, &tab_lines(&pairs));
    let mut expected = Vec::new();
    for ((a, b), line) in pairs.iter().zip(&out) {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(
            parse_ok(Scheme::Pep440, a),
            fields[1] == "1",
            "packaging's validity of {a:?}"
        );
        assert_eq!(
            parse_ok(Scheme::Pep440, b),
            fields[2] == "1",
            "packaging's validity of {b:?}"
        );
        expected.push(fields[0].parse().ok());
    }
    check(Scheme::Pep440, &pairs, &expected, started);
}

#[test]
fn semver_matches_npm_semver() {
    let Some(modules) = strata_test::test_tool("node_modules/semver") else {
        return;
    };
    let started = Instant::now();
    let pairs = pairs(0x5eed_05e3, 5000, semver_version, semver_near);
    let script = r#"
const semver = require("semver");
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
const ok = (v) => semver.valid(v) !== null;
for (const line of lines) {
    const [a, b] = line.split("\t");
    console.log(ok(a) && ok(b) ? `${semver.compare(a, b)} 1 1` : `x ${+ok(a)} ${+ok(b)}`);
}
"#;
    let mut command = Command::new("node");
    command
        .args(["-e", script])
        .env("NODE_PATH", modules.parent().expect("node_modules"));
    let out = run(command, &tab_lines(&pairs));
    let mut expected = Vec::new();
    for ((a, b), line) in pairs.iter().zip(&out) {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(
            parse_ok(Scheme::Semver, a),
            fields[1] == "1",
            "npm's validity of {a:?}"
        );
        assert_eq!(
            parse_ok(Scheme::Semver, b),
            fields[2] == "1",
            "npm's validity of {b:?}"
        );
        expected.push(fields[0].parse().ok());
    }
    check(Scheme::Semver, &pairs, &expected, started);
}

#[test]
fn maven_matches_comparable_version() {
    let jar = Path::new("/usr/share/java/maven3-artifact.jar");
    let available = jar.exists() && Path::new("/usr/bin/java").exists();
    if !strata_test::should_run(
        "Maven version order",
        available,
        "Maven's ComparableVersion (Debian packages libmaven3-core-java, default-jre-headless)",
    ) {
        return;
    }
    let started = Instant::now();
    let pairs = pairs(0x5eed_3a7e, 3000, maven_version, maven_near);
    // ComparableVersion's main compares each argument with the one before:
    // a chain a1 b1 a2 b2 ... checks every pair and the steps between them.
    let chain: Vec<&String> = pairs.iter().flat_map(|(a, b)| [a, b]).collect();
    let mut command = Command::new("java");
    command
        .arg("-cp")
        .arg(jar)
        .arg("org.apache.maven.artifact.versioning.ComparableVersion")
        .args(&chain);
    let out = run(command, "");
    let steps: Vec<(String, String)> = chain
        .windows(2)
        .map(|w| (w[0].clone(), w[1].clone()))
        .collect();
    let expected: Vec<Option<i32>> = out
        .iter()
        .filter(|l| l.starts_with("   "))
        .zip(&steps)
        .map(|(line, (a, b))| {
            let op = line
                .trim_start()
                .strip_prefix(a.as_str())
                .and_then(|r| r.strip_suffix(b.as_str()));
            match op.map(str::trim) {
                Some("<") => Some(-1),
                Some("==") => Some(0),
                Some(">") => Some(1),
                _ => panic!("unreadable ComparableVersion line {line:?}"),
            }
        })
        .collect();
    check(Scheme::Maven, &steps, &expected, started);
}

fn go_module_version(rng: &mut Rng) -> String {
    let num = |rng: &mut Rng| rng.pick(&["0", "1", "2", "9", "10", "11"]).to_owned();
    let mut v = format!("v{}", num(rng));
    match rng.below(10) {
        0 => return v,
        1 => return format!("{v}.{}", num(rng)),
        _ => v += &format!(".{}.{}", num(rng), num(rng)),
    }
    if rng.chance(50) {
        v += rng.pick(&[
            "-0.20230101120000-abcdef123456",
            "-0.20240202000000-0123456789ab",
            "-pre.0.20230101120000-abcdef123456",
            "-rc.1",
            "-rc.10",
            "-beta",
            "-alpha.1",
            "-1",
        ]);
    }
    if rng.chance(15) {
        v += rng.pick(&["+incompatible", "+meta"]);
    }
    if rng.chance(4) {
        // Malformed: Go refuses these, and so must parse_ok.
        v = respell(
            rng,
            &v,
            &[
                ("v1", "v01"),
                ("-", "-01."),
                (".", ".."),
                ("-rc.1", "-rc.01"),
            ],
        );
    }
    v
}

fn go_module_near(rng: &mut Rng, v: &str) -> String {
    let swaps = [
        ("+incompatible", ""),
        ("-rc.1", "-rc.2"),
        ("2023", "2024"),
        (".0", ""),
        ("1", "2"),
    ];
    respell(rng, v, &swaps)
}

fn go_toolchain_version(rng: &mut Rng) -> String {
    let minor = rng.pick(&["9", "20", "21", "22", "100"]);
    let patch = rng.pick(&["", ".0", ".1", ".3", ".10"]);
    let pre = match (patch, rng.below(3)) {
        ("", 0) => "",
        ("", _) => rng.pick(&["rc1", "rc2", "beta1", "alpha1"]),
        _ => "",
    };
    // The bare "go1.N" is left out: Go reads it as a language version, older
    // than go1.N.0's release candidates; strata reads it as go1.N.0.
    let patch = if patch.is_empty() && pre.is_empty() {
        ".0"
    } else {
        patch
    };
    format!("go1.{minor}{patch}{pre}")
}

fn go_toolchain_near(rng: &mut Rng, v: &str) -> String {
    respell(
        rng,
        v,
        &[("rc1", "rc2"), ("rc1", "beta1"), (".1", ".10"), ("go", "")],
    )
}

/// Go's own orders, built from the toolchain's sources: `x/mod/semver` (its
/// vendored copy) for module versions, `go/version` for toolchains.
fn go_reference(go: &Path, dir: &Path) -> std::path::PathBuf {
    let goroot = Command::new(go)
        .args(["env", "GOROOT"])
        .output()
        .expect("go env");
    let goroot = String::from_utf8(goroot.stdout).expect("utf-8");
    let vendored =
        Path::new(goroot.trim()).join("src/cmd/vendor/golang.org/x/mod/semver/semver.go");
    std::fs::create_dir_all(dir.join("semver")).expect("mkdir");
    std::fs::copy(&vendored, dir.join("semver/semver.go")).expect("copy x/mod/semver");
    std::fs::write(dir.join("go.mod"), "module check\n\ngo 1.22\n").expect("go.mod");
    let main = r#"package main

import (
	"bufio"
	"fmt"
	"go/version"
	"os"
	"strings"

	"check/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Split(in.Text(), "\t")
		a, b := f[1], f[2]
		if f[0] == "toolchain" {
			fmt.Println(version.Compare(a, b), 1, 1)
		} else if semver.IsValid(a) && semver.IsValid(b) {
			fmt.Println(semver.Compare(a, b), 1, 1)
		} else {
			fmt.Println("x", map[bool]int{true: 1}[semver.IsValid(a)], map[bool]int{true: 1}[semver.IsValid(b)])
		}
	}
}
"#;
    std::fs::write(dir.join("main.go"), main).expect("main.go");
    let binary = dir.join("check");
    let status = Command::new(go)
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(dir)
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .status()
        .expect("go build");
    assert!(status.success(), "go build of the reference failed");
    binary
}

#[test]
fn go_matches_x_mod_semver_and_go_version() {
    let Some(go) = strata_test::test_tool("venv/bin/go") else {
        return;
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = go_reference(&go, dir.path());
    let modules = pairs(0x5eed_0060, 4000, go_module_version, go_module_near);
    let toolchains = pairs(0x5eed_0061, 1000, go_toolchain_version, go_toolchain_near);
    let toolchains: Vec<_> = toolchains
        .into_iter()
        .map(|(a, b)| {
            // go/version wants the "go" prefix; strata reads either.
            let b_ref = format!("go{}", b.trim_start_matches("go").trim_start_matches('v'));
            ((a.clone(), b), (a, b_ref))
        })
        .collect();
    let mut input: String = modules
        .iter()
        .map(|(a, b)| format!("module\t{a}\t{b}\n"))
        .collect();
    input += &toolchains
        .iter()
        .map(|(_, (a, b))| format!("toolchain\t{a}\t{b}\n"))
        .collect::<String>();
    let out = run(Command::new(&binary), &input);
    let all: Vec<(String, String)> = modules
        .iter()
        .cloned()
        .chain(toolchains.iter().map(|(p, _)| p.clone()))
        .collect();
    let mut expected = Vec::new();
    for ((a, b), line) in all.iter().zip(&out) {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(
            parse_ok(Scheme::Go, a),
            fields[1] == "1",
            "Go's validity of {a:?}"
        );
        assert_eq!(
            parse_ok(Scheme::Go, b),
            fields[2] == "1",
            "Go's validity of {b:?}"
        );
        expected.push(fields[0].parse().ok());
    }
    check(Scheme::Go, &all, &expected, started);
}

/// Garbage never panics, and every order is reflexive and antisymmetric on
/// it (so sorting with it is deterministic).
#[test]
fn garbage_orders_deterministically() {
    const SCHEMES: [Scheme; 7] = [
        Scheme::Dpkg,
        Scheme::Apk,
        Scheme::Rpm,
        Scheme::Pep440,
        Scheme::Semver,
        Scheme::Go,
        Scheme::Maven,
    ];
    let atoms = [
        "",
        "0",
        "1",
        "01",
        "9",
        ".",
        "-",
        "_",
        "~",
        "^",
        ":",
        "+",
        "!",
        "v",
        "go",
        "a",
        "Z",
        "rc",
        "p",
        "-r",
        "_alpha",
        "é",
        "٣",
        "\0",
        " ",
        "\t",
        "..",
        "18446744073709551616",
    ];
    let mut rng = Rng(0x5eed_6a4b);
    let mut versions: Vec<String> = (0..300).map(|_| rng.atoms(&atoms, 8)).collect();
    versions.push(String::new());
    for scheme in SCHEMES {
        for a in &versions {
            assert_eq!(compare(scheme, a, a), Ordering::Equal, "{scheme:?} {a:?}");
            let _ = parse_ok(scheme, a);
            for _ in 0..20 {
                let b = &versions[rng.below(versions.len())];
                let (ab, ba) = (compare(scheme, a, b), compare(scheme, b, a));
                assert_eq!(ab, ba.reverse(), "{scheme:?}: {a:?} vs {b:?}");
            }
        }
    }
}
