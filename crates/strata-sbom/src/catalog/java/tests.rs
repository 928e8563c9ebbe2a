use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use super::*;

const LANG3: &str = "/usr/share/java/commons-lang3.jar";
const SLF4J: &str = "/usr/share/java/slf4j-api.jar";
const GUICE_SERVLET: &str = "/usr/share/java/guice-servlet.jar";

fn jars_present(test: &str) -> bool {
    strata_test::should_run(
        test,
        [LANG3, SLF4J, GUICE_SERVLET]
            .iter()
            .all(|p| Path::new(p).exists()),
        "Debian's libcommons-lang3-java, libslf4j-java and libguice-java",
    )
}

/// (location, group, artifact, version, licences) of each package.
type Row = (String, Option<String>, String, String, Vec<String>);

fn rows(packages: &[Package]) -> BTreeSet<Row> {
    packages
        .iter()
        .map(|p| {
            assert_eq!(p.kind, Kind::JavaArchive);
            assert_eq!(p.locations.len(), 1);
            (
                p.locations[0].path.clone(),
                p.namespace.clone(),
                p.name.clone(),
                p.version.clone(),
                p.licenses.clone(),
            )
        })
        .collect()
}

/// Python's zipfile as the reference: every `pom.properties` of a jar,
/// read as `key=value` lines.
fn python_pom_properties(jar: &str) -> (String, String, String) {
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor n in z.namelist():\n    if n.startswith('META-INF/maven/') and n.endswith('/pom.properties'):\n        d = dict(l.split('=', 1) for l in z.read(n).decode().splitlines() if '=' in l and not l.startswith('#'))\n        print(d['groupId'], d['artifactId'], d['version'])\n";
    let output = Command::new("python3")
        .args(["-c", script, jar])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let fields: Vec<_> = text.split_whitespace().map(str::to_string).collect();
    assert_eq!(fields.len(), 3, "one pom.properties in {jar}: {text}");
    (fields[0].clone(), fields[1].clone(), fields[2].clone())
}

fn row(location: &str, jar: &str) -> Row {
    let (group, artifact, version) = python_pom_properties(jar);
    (location.into(), Some(group), artifact, version, Vec::new())
}

#[test]
fn debian_jars_pom_properties_and_manifest() {
    if !jars_present("debian_jars_pom_properties_and_manifest") {
        return;
    }
    for jar in [LANG3, SLF4J] {
        let found = rows(&packages(jar, &std::fs::read(jar).unwrap()));
        assert_eq!(found, BTreeSet::from([row(jar, jar)]));
    }
    // No pom.properties: named by the manifest, licensed by Bundle-License.
    let guice = packages(GUICE_SERVLET, &std::fs::read(GUICE_SERVLET).unwrap());
    assert_eq!(
        rows(&guice),
        BTreeSet::from([(
            GUICE_SERVLET.to_string(),
            None,
            "com.google.inject.servlet".to_string(),
            "4.2.3".to_string(),
            vec!["http://www.apache.org/licenses/LICENSE-2.0.txt".to_string()],
        )])
    );
}

#[test]
fn a_fat_jar_assembled_from_real_jars() {
    if !jars_present("a_fat_jar_assembled_from_real_jars") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fat = dir.path().join("app.jar");
    // app.jar: a manifest, two jars in BOOT-INF/lib (stored and deflated),
    // and a war holding a third in WEB-INF/lib.
    let script = "import io, sys, zipfile\nfat, lang3, guice, slf4j = sys.argv[1:]\nwar = io.BytesIO()\nwith zipfile.ZipFile(war, 'w') as w:\n    w.write(slf4j, 'WEB-INF/lib/slf4j-api.jar', compress_type=zipfile.ZIP_DEFLATED)\nwith zipfile.ZipFile(fat, 'w') as z:\n    z.writestr('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\\r\\nImplementation-Title: demo-app\\r\\nImplementation-Version: 0.0.1-SNAPSHOT\\r\\n\\r\\n')\n    z.write(lang3, 'BOOT-INF/lib/commons-lang3-3.12.0.jar', compress_type=zipfile.ZIP_STORED)\n    z.write(guice, 'BOOT-INF/lib/guice-servlet-4.2.3.jar', compress_type=zipfile.ZIP_DEFLATED)\n    z.writestr('BOOT-INF/lib/inner.war', war.getvalue())\n";
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(&fat)
        .args([LANG3, GUICE_SERVLET, SLF4J])
        .status()
        .unwrap();
    assert!(status.success());
    let found = rows(&packages("/app/app.jar", &std::fs::read(&fat).unwrap()));
    let expected = BTreeSet::from([
        (
            "/app/app.jar".to_string(),
            None,
            "demo-app".to_string(),
            "0.0.1-SNAPSHOT".to_string(),
            Vec::new(),
        ),
        row("/app/app.jar:BOOT-INF/lib/commons-lang3-3.12.0.jar", LANG3),
        (
            "/app/app.jar:BOOT-INF/lib/guice-servlet-4.2.3.jar".to_string(),
            None,
            "com.google.inject.servlet".to_string(),
            "4.2.3".to_string(),
            vec!["http://www.apache.org/licenses/LICENSE-2.0.txt".to_string()],
        ),
        row(
            "/app/app.jar:BOOT-INF/lib/inner.war:WEB-INF/lib/slf4j-api.jar",
            SLF4J,
        ),
    ]);
    assert_eq!(found, expected);
}

#[test]
fn manifests_and_properties_as_written() {
    let fields = manifest(
        "Manifest-Version: 1.0\r\nBundle-SymbolicName: org.example.thing;singleton:=tr\r\n ue\r\nBundle-Version: 2.0.1 \r\n\r\nName: org/example/\r\nImplementation-Title: not main\r\n",
    );
    let package = from_manifest(&fields).unwrap();
    assert_eq!(
        (package.name.as_str(), package.version.as_str()),
        ("org.example.thing", "2.0.1")
    );
    assert!(from_manifest(&manifest("Manifest-Version: 1.0\n")).is_none());
    let package =
        from_pom_properties("#Generated\nversion=1.2\ngroupId = g.h\nartifactId: a\n").unwrap();
    assert_eq!(
        (
            package.namespace.as_deref(),
            package.name.as_str(),
            package.version.as_str()
        ),
        (Some("g.h"), "a", "1.2")
    );
    assert!(is_pom_properties("META-INF/maven/g/a/pom.properties"));
    assert!(!is_pom_properties("META-INF/maven/a/pom.properties"));
    assert!(packages("/x.jar", b"PK\x03\x04 not really").is_empty());
}
