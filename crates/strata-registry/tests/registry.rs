//! The client against a real `docker-registry` process, with images pushed by skopeo.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use strata_oci::{Digest, Manifest, Platform, Reference};
use strata_registry::{
    BlobSink, BlobSource, Client, ClientOptions, Credential, Progress, PushRequest, RegistryError,
    TransferEvent, pull, push,
};
use strata_test::{Registry, RegistryAuth, TestImage, TokenIssuer, push_index_with_skopeo};

/// Blobs in memory: what a pull wrote, or what a push reads.
#[derive(Default)]
struct Memory {
    blobs: Mutex<BTreeMap<Digest, Vec<u8>>>,
}

impl BlobSink for Memory {
    type Writer = Vec<u8>;
    fn has_blob(&self, digest: &Digest) -> bool {
        self.blobs.lock().unwrap().contains_key(digest)
    }
    fn create(&self) -> std::io::Result<Vec<u8>> {
        Ok(Vec::new())
    }
    fn commit(&self, writer: Vec<u8>, digest: &Digest) -> std::io::Result<()> {
        assert_eq!(Digest::of(&writer), *digest, "sink got unverified bytes");
        self.blobs.lock().unwrap().insert(*digest, writer);
        Ok(())
    }
}

impl BlobSource for Memory {
    fn open(&self, digest: &Digest) -> std::io::Result<Box<dyn Read + Send>> {
        let bytes = self.blobs.lock().unwrap().get(digest).cloned();
        bytes
            .map(|b| Box::new(std::io::Cursor::new(b)) as Box<dyn Read + Send>)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no blob"))
    }
}

/// A sink that verifies digests itself (as the store does), so the client does not.
#[derive(Default)]
struct VerifyingMemory(Memory);

impl BlobSink for VerifyingMemory {
    type Writer = Vec<u8>;
    fn has_blob(&self, digest: &Digest) -> bool {
        self.0.has_blob(digest)
    }
    fn create(&self) -> std::io::Result<Vec<u8>> {
        Ok(Vec::new())
    }
    fn commit(&self, writer: Vec<u8>, digest: &Digest) -> std::io::Result<()> {
        if Digest::of(&writer) != *digest {
            return Err(std::io::Error::other(format!(
                "digest mismatch for {digest}"
            )));
        }
        self.0.commit(writer, digest)
    }
    fn verifies_digests(&self) -> bool {
        true
    }
}

fn memory_of(image: &TestImage) -> Arc<Memory> {
    let memory = Memory::default();
    memory.blobs.lock().unwrap().extend(image.blobs.clone());
    Arc::new(memory)
}

fn recorder() -> (Progress, Arc<Mutex<Vec<TransferEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    (
        Arc::new(move |event| sink.lock().unwrap().push(event)),
        events,
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn client() -> Client {
    Client::new(ClientOptions::default()).unwrap()
}

fn client_with(registry: &str, credential: Credential) -> Client {
    let mut options = ClientOptions::default();
    options.credentials.insert(registry.to_owned(), credential);
    Client::new(options).unwrap()
}

fn basic(username: &str, password: &str) -> Credential {
    Credential::Basic {
        username: username.into(),
        password: password.into(),
    }
}

fn image(seed: u64, platform: &str) -> TestImage {
    TestImage::builder()
        .platform(platform)
        .layer(&[("etc/hostname", format!("image {seed}\n").as_bytes())])
        .random_layer("data/blob.bin", 300_000, seed)
        .build()
}

#[test]
fn pulls_oci_and_docker_manifests_pushed_by_skopeo() {
    if !strata_test::needs_registry("pulls_oci_and_docker_manifests_pushed_by_skopeo") {
        return;
    }
    let registry = Registry::start();
    let oci = image(1, "linux/amd64");
    let docker = TestImage::builder()
        .docker_media_types()
        .layer(&[("a", b"docker layer")])
        .build();
    oci.push_with_skopeo(&format!("{}/test/oci:v1", registry.host()), None);
    docker.push_with_skopeo(&format!("{}/test/docker:v1", registry.host()), None);
    let runtime = runtime();
    for (name, expected) in [("test/oci:v1", &oci), ("test/docker:v1", &docker)] {
        let reference = Reference::parse(&format!("{}/{name}", registry.host())).unwrap();
        let sink = Arc::new(Memory::default());
        let (progress, events) = recorder();
        let pulled = runtime
            .block_on(pull(
                &client(),
                &reference,
                &Platform::host(),
                sink.clone(),
                progress,
            ))
            .unwrap();
        assert_eq!(pulled.manifest.bytes, expected.manifest, "{name}");
        assert_eq!(pulled.manifest.media_type, expected.descriptor.media_type);
        assert!(pulled.index.is_none());
        assert_eq!(
            pulled.repo_digest.digest(),
            Some(expected.descriptor.digest)
        );
        assert_eq!(
            *sink.blobs.lock().unwrap(),
            expected.blobs,
            "{name}: every blob, nothing else"
        );
        let done = events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, TransferEvent::Done(_)))
            .count();
        assert_eq!(
            done,
            expected.layers.len(),
            "every layer downloaded, the config not reported"
        );
        // A second pull into the same sink downloads nothing.
        let again = runtime
            .block_on(pull(
                &client(),
                &reference,
                &Platform::host(),
                sink.clone(),
                recorder().0,
            ))
            .unwrap();
        assert_eq!(again.layers_fetched, 0);
    }
    let missing = Reference::parse(&format!("{}/test/oci:nope", registry.host())).unwrap();
    let error = runtime
        .block_on(pull(
            &client(),
            &missing,
            &Platform::host(),
            Arc::new(Memory::default()),
            recorder().0,
        ))
        .unwrap_err();
    assert!(matches!(error, RegistryError::NotFound { .. }), "{error}");
}

#[test]
fn selects_the_platform_from_a_manifest_list() {
    if !strata_test::needs_registry("selects_the_platform_from_a_manifest_list") {
        return;
    }
    let registry = Registry::start();
    let amd64 = image(2, "linux/amd64");
    let arm64 = image(3, "linux/arm64");
    for docker_list in [true, false] {
        let repository = format!(
            "{}/multi/{}:v1",
            registry.host(),
            if docker_list { "docker" } else { "oci" }
        );
        let index_digest = push_index_with_skopeo(&[&amd64, &arm64], docker_list, &repository);
        let reference = Reference::parse(&repository).unwrap();
        let runtime = runtime();
        for (platform, expected) in [
            ("linux/arm64", &arm64),
            ("linux/amd64", &amd64),
            ("linux/arm64/v8", &arm64),
        ] {
            let sink = Arc::new(Memory::default());
            let pulled = runtime
                .block_on(pull(
                    &client(),
                    &reference,
                    &platform.parse().unwrap(),
                    sink.clone(),
                    recorder().0,
                ))
                .unwrap();
            assert_eq!(
                pulled.manifest.digest, expected.descriptor.digest,
                "{platform}"
            );
            assert_eq!(pulled.index.as_ref().unwrap().digest, index_digest);
            assert_eq!(pulled.repo_digest.digest(), Some(index_digest));
            let blobs = sink.blobs.lock().unwrap();
            assert!(blobs.contains_key(&index_digest));
            for layer in &expected.layers {
                assert!(blobs.contains_key(&layer.digest));
            }
        }
        let error = runtime
            .block_on(pull(
                &client(),
                &reference,
                &"linux/s390x".parse().unwrap(),
                Arc::new(Memory::default()),
                recorder().0,
            ))
            .unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(error, RegistryError::NoMatchingPlatform { .. }),
            "{text}"
        );
        assert!(
            text.contains("linux/amd64") && text.contains("linux/arm64"),
            "{text}"
        );
    }
}

fn push_request(image: &TestImage, mount_from: Vec<String>) -> PushRequest {
    let mut blobs = vec![
        Manifest::parse(&image.manifest, None)
            .map(|m| match m {
                Manifest::Image(m) => m.config.clone(),
                Manifest::Index(_) => unreachable!(),
            })
            .unwrap(),
    ];
    blobs.extend(image.layers.iter().cloned());
    PushRequest {
        manifest: image.manifest.clone(),
        media_type: image.descriptor.media_type.clone(),
        blobs,
        children: Vec::new(),
        mount_from,
    }
}

fn skopeo_raw_manifest(reference: &str, credentials: Option<&str>) -> Vec<u8> {
    let mut command = std::process::Command::new("skopeo");
    command.args(["inspect", "--raw", "--tls-verify=false"]);
    if let Some(credentials) = credentials {
        command.arg(format!("--creds={credentials}"));
    }
    let output = command
        .arg(format!("docker://{reference}"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn pushes_monolithic_and_chunked_then_skips_and_mounts() {
    if !strata_test::needs_registry("pushes_monolithic_and_chunked_then_skips_and_mounts") {
        return;
    }
    let registry = Registry::start();
    let image = image(4, "linux/amd64");
    let source = memory_of(&image);
    let runtime = runtime();
    // 64 KiB chunks: the 300 kB layer goes up in five PATCHes, the rest in one request.
    let options = ClientOptions {
        chunk_size: 64 << 10,
        ..ClientOptions::default()
    };
    let chunked = Client::new(options).unwrap();
    let target = Reference::parse(&format!("{}/push/one:v1", registry.host())).unwrap();
    let (progress, events) = recorder();
    let digest = runtime
        .block_on(push(
            &chunked,
            &target,
            &push_request(&image, vec![]),
            source.clone(),
            progress,
        ))
        .unwrap();
    assert_eq!(digest, image.descriptor.digest);
    assert_eq!(
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, TransferEvent::Done(_)))
            .count(),
        3
    );
    assert_eq!(
        skopeo_raw_manifest(&target.to_string(), None),
        image.manifest
    );
    // skopeo copies it out whole (it verifies every blob).
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--src-tls-verify=false"])
        .arg(format!("docker://{target}"))
        .arg(format!("dir:{}", out.path().display()))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );

    // Pushing again: every blob exists (HEAD), nothing uploaded.
    let (progress, events) = recorder();
    runtime
        .block_on(push(
            &client(),
            &target,
            &push_request(&image, vec![]),
            source.clone(),
            progress,
        ))
        .unwrap();
    let events = events.lock().unwrap().clone();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, TransferEvent::Exists(_)))
            .count(),
        3,
        "{events:?}"
    );

    // Another repository on the same registry: mounted, not uploaded.
    let other = Reference::parse(&format!("{}/push/two:v1", registry.host())).unwrap();
    let (progress, events) = recorder();
    runtime
        .block_on(push(
            &client(),
            &other,
            &push_request(&image, vec!["push/one".into()]),
            source,
            progress,
        ))
        .unwrap();
    let events = events.lock().unwrap().clone();
    let mounted = events
        .iter()
        .filter(|e| matches!(e, TransferEvent::Mounted { from, .. } if from == "push/one"))
        .count();
    assert_eq!(mounted, 3, "{events:?}");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, TransferEvent::Started { .. })),
        "{events:?}"
    );
    assert_eq!(
        skopeo_raw_manifest(&other.to_string(), None),
        image.manifest
    );
}

#[test]
fn basic_auth_with_htpasswd() {
    if !strata_test::needs_registry("basic_auth_with_htpasswd") {
        return;
    }
    let registry = Registry::start_with(RegistryAuth::Basic {
        username: "alice".into(),
        password: "s3cret".into(),
    });
    let image = image(5, "linux/amd64");
    let runtime = runtime();
    let target = Reference::parse(&format!("{}/private/app:v1", registry.host())).unwrap();
    let error = runtime
        .block_on(push(
            &client(),
            &target,
            &push_request(&image, vec![]),
            memory_of(&image),
            recorder().0,
        ))
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error}"
    );
    let wrong = client_with(&registry.host(), basic("alice", "wrong"));
    let error = runtime.block_on(wrong.check_login(&target)).unwrap_err();
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error}"
    );

    let alice = client_with(&registry.host(), basic("alice", "s3cret"));
    runtime.block_on(alice.check_login(&target)).unwrap();
    runtime
        .block_on(push(
            &alice,
            &target,
            &push_request(&image, vec![]),
            memory_of(&image),
            recorder().0,
        ))
        .unwrap();
    let sink = Arc::new(Memory::default());
    let pulled = runtime
        .block_on(pull(&alice, &target, &Platform::host(), sink, recorder().0))
        .unwrap();
    assert_eq!(pulled.manifest.digest, image.descriptor.digest);
    let error = runtime
        .block_on(pull(
            &client(),
            &target,
            &Platform::host(),
            Arc::new(Memory::default()),
            recorder().0,
        ))
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error}"
    );
}

#[test]
fn bearer_token_flow_with_an_issuer() {
    if !strata_test::needs_registry("bearer_token_flow_with_an_issuer") {
        return;
    }
    let registry = Registry::start_with(RegistryAuth::Token);
    let issuer = registry.issuer().unwrap().clone();
    let image = image(6, "linux/amd64");
    let runtime = runtime();
    let target = Reference::parse(&format!("{}/team/app:v1", registry.host())).unwrap();

    // Anonymous: the issuer grants nothing, the registry refuses.
    let error = runtime
        .block_on(pull(
            &client(),
            &target,
            &Platform::host(),
            Arc::new(Memory::default()),
            recorder().0,
        ))
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error}"
    );
    // Wrong password: the issuer refuses.
    let error = runtime
        .block_on(
            client_with(&registry.host(), basic(TokenIssuer::USERNAME, "nope"))
                .check_login(&target),
        )
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error}"
    );

    let user = client_with(
        &registry.host(),
        basic(TokenIssuer::USERNAME, TokenIssuer::PASSWORD),
    );
    runtime.block_on(user.check_login(&target)).unwrap();
    let digest = runtime
        .block_on(push(
            &user,
            &target,
            &push_request(&image, vec![]),
            memory_of(&image),
            recorder().0,
        ))
        .unwrap();
    assert_eq!(digest, image.descriptor.digest);
    let sink = Arc::new(Memory::default());
    runtime
        .block_on(pull(
            &user,
            &target,
            &Platform::host(),
            sink.clone(),
            recorder().0,
        ))
        .unwrap();
    assert_eq!(*sink.blobs.lock().unwrap(), image.blobs);

    // A mount across repositories asks for pull on the source in the same token.
    let other = Reference::parse(&format!("{}/team/copy:v1", registry.host())).unwrap();
    let (progress, events) = recorder();
    runtime
        .block_on(push(
            &user,
            &other,
            &push_request(&image, vec!["team/app".into()]),
            memory_of(&image),
            progress,
        ))
        .unwrap();
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, TransferEvent::Mounted { .. }))
    );
    let requests = issuer.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("repository%3Ateam%2Fapp%3Apull")
                && r.contains("repository%3Ateam%2Fcopy%3Apull%2Cpush")
                && r.contains("user=tokenuser")),
        "{requests:#?}"
    );
}

#[test]
fn rejects_a_tampered_blob() {
    if !strata_test::needs_registry("rejects_a_tampered_blob") {
        return;
    }
    let registry = Registry::start();
    let image = image(7, "linux/amd64");
    let reference = format!("{}/tamper/app:v1", registry.host());
    image.push_with_skopeo(&reference, None);
    let layer = image.layers.last().unwrap().digest;
    let path = registry.blob_data_path(&layer);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let sink = Arc::new(Memory::default());
    let error = runtime()
        .block_on(pull(
            &client(),
            &Reference::parse(&reference).unwrap(),
            &Platform::host(),
            sink.clone(),
            recorder().0,
        ))
        .unwrap_err();
    match &error {
        RegistryError::DigestMismatch { expected, .. } => assert_eq!(*expected, layer),
        other => panic!("expected a digest mismatch, got {other}"),
    }
    let blobs = sink.blobs.lock().unwrap();
    assert!(!blobs.contains_key(&layer));
    assert!(
        !blobs.contains_key(&image.descriptor.digest),
        "no manifest without its blobs"
    );
    drop(blobs);
    // A sink that verifies by itself refuses the same bytes.
    let verifying = Arc::new(VerifyingMemory::default());
    let error = runtime()
        .block_on(pull(
            &client(),
            &Reference::parse(&reference).unwrap(),
            &Platform::host(),
            verifying.clone(),
            recorder().0,
        ))
        .unwrap_err();
    assert!(error.to_string().contains("digest mismatch"), "{error}");
    assert!(!verifying.0.blobs.lock().unwrap().contains_key(&layer));
}

/// A TCP proxy that cuts its first connection after `limit` response bytes.
fn flaky_proxy(upstream: std::net::SocketAddr, limit: usize) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (count, client) in listener.incoming().enumerate() {
            let Ok(mut client) = client else { continue };
            let Ok(mut server) = std::net::TcpStream::connect(upstream) else {
                continue;
            };
            let (mut client_read, mut server_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_read, &mut server_write);
            });
            std::thread::spawn(move || {
                let mut buffer = [0u8; 8192];
                let mut sent = 0;
                while let Ok(read) = server.read(&mut buffer) {
                    if read == 0 {
                        break;
                    }
                    let allowed = if count == 0 {
                        read.min(limit.saturating_sub(sent))
                    } else {
                        read
                    };
                    if client.write_all(&buffer[..allowed]).is_err() {
                        break;
                    }
                    sent += allowed;
                    if allowed < read {
                        let _ = client.shutdown(std::net::Shutdown::Both);
                        let _ = server.shutdown(std::net::Shutdown::Both);
                        break;
                    }
                }
            });
            if count > 50 {
                break;
            }
        }
    });
    address
}

#[test]
fn resumes_a_dropped_download() {
    if !strata_test::needs_registry("resumes_a_dropped_download") {
        return;
    }
    let registry = Registry::start();
    let image = TestImage::builder().random_layer("big", 1 << 20, 9).build();
    image.push_with_skopeo(&format!("{}/flaky/app:v1", registry.host()), None);
    let proxy = flaky_proxy(registry.address(), 200_000);
    let reference = Reference::parse(&format!("{proxy}/flaky/app:v1")).unwrap();
    let layer = image.layers[0].clone();
    let mut sink = Vec::new();
    runtime()
        .block_on(client().fetch_blob(&reference, &layer, &mut sink))
        .unwrap();
    assert_eq!(Digest::of(&sink), layer.digest);
}

/// A front that answers its first `failures` connections with 503 (closing
/// each), then forwards to `upstream`; counts connections.
fn unavailable_front(
    upstream: std::net::SocketAddr,
    failures: usize,
) -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::BufRead;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let count = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if count < failures {
                let mut reader = std::io::BufReader::new(client.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = client.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                continue;
            }
            let Ok(mut server) = std::net::TcpStream::connect(upstream) else {
                continue;
            };
            let (mut client_read, mut server_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_read, &mut server_write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut server, &mut client);
            });
        }
    });
    (address, connections)
}

#[test]
fn retries_server_errors_with_backoff_then_gives_up() {
    if !strata_test::needs_registry("retries_server_errors_with_backoff_then_gives_up") {
        return;
    }
    let registry = Registry::start();
    let image = image(10, "linux/amd64");
    image.push_with_skopeo(&format!("{}/retry/app:v1", registry.host()), None);
    let options = ClientOptions {
        initial_backoff: std::time::Duration::from_millis(10),
        ..ClientOptions::default()
    };
    // Two 503s, then service: the pull succeeds.
    let (front, connections) = unavailable_front(registry.address(), 2);
    let reference = Reference::parse(&format!("{front}/retry/app:v1")).unwrap();
    let sink = Arc::new(Memory::default());
    runtime()
        .block_on(pull(
            &Client::new(options.clone()).unwrap(),
            &reference,
            &Platform::host(),
            sink.clone(),
            recorder().0,
        ))
        .unwrap();
    assert_eq!(*sink.blobs.lock().unwrap(), image.blobs);
    assert!(connections.load(std::sync::atomic::Ordering::SeqCst) >= 3);
    // Always 503: the error after the last attempt names the status.
    let (front, connections) = unavailable_front(registry.address(), usize::MAX);
    let reference = Reference::parse(&format!("{front}/retry/app:v1")).unwrap();
    let error = runtime()
        .block_on(pull(
            &Client::new(options).unwrap(),
            &reference,
            &Platform::host(),
            Arc::new(Memory::default()),
            recorder().0,
        ))
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Status { status: 503, .. }),
        "{error}"
    );
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        5,
        "five attempts"
    );
}
