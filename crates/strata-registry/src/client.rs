//! The HTTP side of the distribution API: requests with auth and retries,
//! manifests, blobs (streamed and verified), uploads, mounts.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HeaderMap, LOCATION, RANGE,
    WWW_AUTHENTICATE,
};
use reqwest::{Method, Response, StatusCode, Url};
use strata_oci::{Descriptor, Digest, Reference, Sha256Writer, media_type};

use crate::auth::{Challenge, TokenResponse, parse_challenge};
use crate::credentials::{Credential, DockerConfig};
use crate::error::{RegistryError, Result};

/// Largest manifest accepted (containerd's limit).
const MANIFEST_LIMIT: usize = 4 << 20;

/// How a [`Client`] behaves.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Registries (`host[:port]`) reached over plain http; `localhost`,
    /// `127.0.0.1` and `[::1]` always are.
    pub insecure_registries: Vec<String>,
    /// Where credentials come from; `None` is anonymous unless `credentials` has one.
    pub docker_config: Option<DockerConfig>,
    /// Credentials by registry name, taking precedence over `docker_config`.
    pub credentials: BTreeMap<String, Credential>,
    /// Attempts per request for 5xx, 429 and dropped connections (default 5).
    pub max_attempts: u32,
    /// The first backoff; doubled each retry (default 200 ms).
    pub initial_backoff: Duration,
    /// Blobs up to this size are uploaded in one request, larger ones in
    /// chunks of this size (default 16 MiB).
    pub chunk_size: usize,
    /// Blobs transferred at once (default 3, Docker's).
    pub concurrency: usize,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            insecure_registries: Vec::new(),
            docker_config: None,
            credentials: BTreeMap::new(),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            chunk_size: 16 << 20,
            concurrency: 3,
            user_agent: concat!("strata/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// A distribution API client. Cheap to clone; clones share tokens.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    options: ClientOptions,
    /// Per registry: the challenge seen, and tokens by scope set.
    auth: Mutex<BTreeMap<String, AuthState>>,
}

#[derive(Debug, Default)]
struct AuthState {
    challenge: Option<Challenge>,
    tokens: BTreeMap<String, String>,
    credential: Option<Option<Credential>>,
}

/// A manifest as the registry sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedManifest {
    /// The exact bytes (their digest is the manifest's digest).
    pub bytes: Vec<u8>,
    /// The media type (the document's, else the Content-Type).
    pub media_type: String,
    /// The digest of `bytes`.
    pub digest: Digest,
}

impl FetchedManifest {
    /// A descriptor of this manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.clone(),
            self.digest,
            self.bytes.len() as u64,
        )
    }
}

/// The outcome of a cross-repository mount request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mount {
    /// The registry linked the blob; nothing to upload.
    Mounted,
    /// The registry declined and opened an upload session at this URL instead.
    Declined(Url),
}

/// The scopes a request needs, for bearer tokens.
#[derive(Debug, Clone)]
pub(crate) struct Scopes(BTreeSet<String>);

impl Scopes {
    pub(crate) fn pull(reference: &Reference) -> Self {
        Self(BTreeSet::from([format!(
            "repository:{}:pull",
            reference.repository()
        )]))
    }

    pub(crate) fn push(reference: &Reference, mount_from: &[String]) -> Self {
        let mut scopes =
            BTreeSet::from([format!("repository:{}:pull,push", reference.repository())]);
        scopes.extend(
            mount_from
                .iter()
                .map(|from| format!("repository:{from}:pull")),
        );
        Self(scopes)
    }

    fn none() -> Self {
        Self(BTreeSet::new())
    }

    fn key(&self) -> String {
        self.0.iter().cloned().collect::<Vec<_>>().join(" ")
    }
}

/// One request to make, rebuilt for every attempt.
struct Request {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Bytes>,
}

impl Client {
    /// A client with `options`. TLS is rustls on the ring provider with the
    /// platform's root certificates.
    pub fn new(options: ClientOptions) -> Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(120))
            .build()
            .map_err(|source| RegistryError::Http {
                method: "build".into(),
                url: String::new(),
                source,
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                options,
                auth: Mutex::new(BTreeMap::new()),
            }),
        })
    }

    /// The options it was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// Whether `registry` is reached over plain http.
    pub fn is_insecure(&self, registry: &str) -> bool {
        let host = match registry.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => registry,
        };
        matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
            || self
                .inner
                .options
                .insecure_registries
                .iter()
                .any(|insecure| insecure == registry || insecure == host)
    }

    /// The API base URL of `reference`'s registry (`https://host/v2/`).
    pub fn base_url(&self, reference: &Reference) -> Result<Url> {
        let scheme = if self.is_insecure(reference.registry()) {
            "http"
        } else {
            "https"
        };
        let text = format!("{scheme}://{}/v2/", reference.registry_host());
        Url::parse(&text).map_err(|e| RegistryError::Protocol {
            url: text,
            reason: e.to_string(),
        })
    }

    fn url(&self, reference: &Reference, path: &str) -> Result<Url> {
        let base = self.base_url(reference)?;
        let text = format!("{base}{}/{path}", reference.repository());
        Url::parse(&text).map_err(|e| RegistryError::Protocol {
            url: text,
            reason: e.to_string(),
        })
    }

    fn credential(&self, registry: &str) -> Result<Option<Credential>> {
        if let Some(credential) = self.inner.options.credentials.get(registry) {
            return Ok(Some(credential.clone()));
        }
        {
            let auth = self.lock_auth();
            if let Some(state) = auth.get(registry)
                && let Some(credential) = &state.credential
            {
                return Ok(credential.clone());
            }
        }
        let credential = match &self.inner.options.docker_config {
            Some(config) => config.credential(registry)?,
            None => None,
        };
        self.lock_auth()
            .entry(registry.to_owned())
            .or_default()
            .credential = Some(credential.clone());
        Ok(credential)
    }

    fn lock_auth(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, AuthState>> {
        self.inner
            .auth
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn backoff(&self, attempt: u32) {
        let factor = 1u32 << attempt.min(6);
        tokio::time::sleep(self.inner.options.initial_backoff * factor).await;
    }

    /// Sends `request` with auth (answering one 401 challenge) and retries
    /// (5xx, 429, dropped connections; `attempts` in all). Returns any other
    /// response for the caller to judge.
    async fn send(
        &self,
        registry: &str,
        scopes: &Scopes,
        request: &Request,
        attempts: u32,
    ) -> Result<Response> {
        let mut attempt = 0;
        let mut challenged = false;
        loop {
            attempt += 1;
            let mut builder = self
                .inner
                .http
                .request(request.method.clone(), request.url.clone())
                .headers(request.headers.clone());
            if let Some(body) = &request.body {
                builder = builder.body(body.clone());
            }
            if let Some(value) = self.authorization(registry, scopes)? {
                builder = builder.header(AUTHORIZATION, value);
            }
            let response = match builder.send().await {
                Ok(response) => response,
                Err(source) => {
                    if attempt < attempts {
                        tracing::debug!("{} {}: {source}; retrying", request.method, request.url);
                        self.backoff(attempt).await;
                        continue;
                    }
                    return Err(RegistryError::Http {
                        method: request.method.to_string(),
                        url: request.url.to_string(),
                        source,
                    });
                }
            };
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !challenged {
                challenged = true;
                attempt -= 1;
                let challenge = response
                    .headers()
                    .get_all(WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|value| value.to_str().ok())
                    .find_map(parse_challenge);
                let Some(challenge) = challenge else {
                    return Err(self.unauthorized(registry, response).await);
                };
                self.answer_challenge(registry, scopes, challenge).await?;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(self.unauthorized(registry, response).await);
            }
            if (status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS)
                && attempt < attempts
            {
                tracing::debug!("{} {}: {status}; retrying", request.method, request.url);
                self.backoff(attempt).await;
                continue;
            }
            return Ok(response);
        }
    }

    async fn unauthorized(&self, registry: &str, response: Response) -> RegistryError {
        let message = error_message(response).await;
        RegistryError::Unauthorized {
            registry: registry.to_owned(),
            message,
        }
    }

    /// The Authorization header for `registry` and `scopes`, from what earlier challenges taught.
    fn authorization(&self, registry: &str, scopes: &Scopes) -> Result<Option<String>> {
        let challenge = {
            let auth = self.lock_auth();
            let Some(state) = auth.get(registry) else {
                return Ok(None);
            };
            match &state.challenge {
                Some(Challenge::Bearer { .. }) => {
                    return Ok(state
                        .tokens
                        .get(&scopes.key())
                        .map(|token| format!("Bearer {token}")));
                }
                other => other.clone(),
            }
        };
        match (challenge, self.credential(registry)?) {
            (Some(Challenge::Basic), Some(Credential::Basic { username, password })) => {
                Ok(Some(basic_header(&username, &password)))
            }
            _ => Ok(None),
        }
    }

    /// Learns `challenge`; for bearer auth fetches a token for `scopes` (plus
    /// the scope the registry asked for).
    async fn answer_challenge(
        &self,
        registry: &str,
        scopes: &Scopes,
        challenge: Challenge,
    ) -> Result<()> {
        match &challenge {
            Challenge::Basic => {
                if self.credential(registry)?.is_none() {
                    return Err(RegistryError::Unauthorized {
                        registry: registry.to_owned(),
                        message: "no credentials (run strata login)".to_owned(),
                    });
                }
                self.lock_auth()
                    .entry(registry.to_owned())
                    .or_default()
                    .challenge = Some(challenge);
            }
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let mut wanted = scopes.0.clone();
                if let Some(scope) = scope {
                    wanted.extend(scope.split(' ').map(str::to_owned));
                }
                let token = self
                    .fetch_token(registry, realm, service.as_deref(), &wanted)
                    .await?;
                let mut auth = self.lock_auth();
                let state = auth.entry(registry.to_owned()).or_default();
                state.challenge = Some(challenge.clone());
                state.tokens.insert(scopes.key(), token);
            }
        }
        Ok(())
    }

    async fn fetch_token(
        &self,
        registry: &str,
        realm: &str,
        service: Option<&str>,
        scopes: &BTreeSet<String>,
    ) -> Result<String> {
        let mut url = Url::parse(realm).map_err(|e| RegistryError::Protocol {
            url: realm.to_owned(),
            reason: format!("invalid token realm: {e}"),
        })?;
        let credential = self.credential(registry)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let builder = self.token_request(&mut url, credential.as_ref(), service, scopes);
            let response = match builder.send().await {
                Ok(response) => response,
                Err(source) if attempt < self.inner.options.max_attempts => {
                    tracing::debug!("token {url}: {source}; retrying");
                    self.backoff(attempt).await;
                    continue;
                }
                Err(source) => {
                    return Err(RegistryError::Http {
                        method: "GET".into(),
                        url: url.to_string(),
                        source,
                    });
                }
            };
            let status = response.status();
            if status.is_server_error() && attempt < self.inner.options.max_attempts {
                self.backoff(attempt).await;
                continue;
            }
            return token_from_response(registry, &url, response).await;
        }
    }

    /// The token request: with an identity token, the OAuth2 refresh-token
    /// form POSTed to `url`; otherwise a GET with `service` and `scope` in
    /// the query (set on `url`), with basic auth when there is a password.
    fn token_request(
        &self,
        url: &mut Url,
        credential: Option<&Credential>,
        service: Option<&str>,
        scopes: &BTreeSet<String>,
    ) -> reqwest::RequestBuilder {
        if let Some(Credential::IdentityToken(refresh_token)) = credential {
            return self
                .inner
                .http
                .post(url.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(refresh_token_form(refresh_token, service, scopes));
        }
        {
            let mut query = url.query_pairs_mut();
            query.clear();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            for scope in scopes {
                query.append_pair("scope", scope);
            }
        }
        let builder = self.inner.http.get(url.clone());
        match credential {
            Some(Credential::Basic { username, password }) => {
                builder.header(AUTHORIZATION, basic_header(username, password))
            }
            _ => builder,
        }
    }

    /// Checks that the registry accepts the configured credentials (`GET /v2/`).
    pub async fn check_login(&self, reference: &Reference) -> Result<()> {
        let url = self.base_url(reference)?;
        let request = Request {
            method: Method::GET,
            url: url.clone(),
            headers: HeaderMap::new(),
            body: None,
        };
        let registry = reference.registry();
        let response = self
            .send(registry, &Scopes::none(), &request, self.attempts())
            .await?;
        if response.status().is_success() {
            // An anonymous 200 proves nothing for basic-auth registries that
            // do not challenge; either way the registry let us in.
            return Ok(());
        }
        Err(status_error(&request, response).await)
    }

    fn attempts(&self) -> u32 {
        self.inner.options.max_attempts.max(1)
    }

    /// Fetches the manifest `reference` names (by tag or digest), verifying
    /// its digest against the reference's digest or the registry's
    /// `Docker-Content-Digest`.
    pub async fn fetch_manifest(&self, reference: &Reference) -> Result<FetchedManifest> {
        let target = match (reference.digest(), reference.tag()) {
            (Some(digest), _) => digest.to_string(),
            (None, Some(tag)) => tag.to_owned(),
            (None, None) => strata_oci::DEFAULT_TAG.to_owned(),
        };
        let url = self.url(reference, &format!("manifests/{target}"))?;
        let mut headers = HeaderMap::new();
        let accept = [
            media_type::OCI_INDEX,
            media_type::DOCKER_MANIFEST_LIST,
            media_type::OCI_MANIFEST,
            media_type::DOCKER_MANIFEST,
        ]
        .join(", ");
        headers.insert(ACCEPT, header_value(&accept));
        let request = Request {
            method: Method::GET,
            url,
            headers,
            body: None,
        };
        let response = self
            .send(
                reference.registry(),
                &Scopes::pull(reference),
                &request,
                self.attempts(),
            )
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(RegistryError::NotFound {
                what: format!("manifest for {}", reference.familiar()),
            });
        }
        if !response.status().is_success() {
            return Err(status_error(&request, response).await);
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
        let announced = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<Digest>().ok());
        let bytes = read_limited(&request, response, MANIFEST_LIMIT).await?;
        let digest = Digest::of(&bytes);
        if let Some(expected) = reference.digest().or(announced)
            && expected != digest
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("manifest {}", reference.familiar()),
                expected,
                actual: digest,
            });
        }
        let parsed =
            strata_oci::Manifest::parse(&bytes, content_type.as_deref()).map_err(|source| {
                RegistryError::Manifest {
                    reference: reference.familiar(),
                    source,
                }
            })?;
        Ok(FetchedManifest {
            media_type: parsed.media_type().to_owned(),
            bytes,
            digest,
        })
    }

    /// Streams blob `descriptor` of `reference`'s repository into `sink`,
    /// verifying size and digest on the way; a dropped connection resumes
    /// with a Range request. On error the sink holds garbage: discard it.
    pub async fn fetch_blob(
        &self,
        reference: &Reference,
        descriptor: &Descriptor,
        sink: &mut (dyn Write + Send),
    ) -> Result<()> {
        self.fetch_blob_checked(reference, descriptor, sink, true)
            .await
    }

    /// [`Client::fetch_blob`], hashing only when `verify`: for sinks that
    /// verify the digest themselves as the bytes arrive (the store does), so
    /// that each byte is hashed once. Sizes are always checked.
    pub async fn fetch_blob_checked(
        &self,
        reference: &Reference,
        descriptor: &Descriptor,
        sink: &mut (dyn Write + Send),
        verify: bool,
    ) -> Result<()> {
        let url = self.url(reference, &format!("blobs/{}", descriptor.digest))?;
        let scopes = Scopes::pull(reference);
        let mut download = BlobDownload {
            descriptor,
            sink,
            hasher: verify.then(|| Sha256Writer::new(std::io::sink())),
            written: 0,
            what: format!("blob {}", descriptor.digest),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let offset = download.written;
            let mut headers = HeaderMap::new();
            if offset > 0 {
                headers.insert(RANGE, header_value(&format!("bytes={offset}-")));
            }
            let request = Request {
                method: Method::GET,
                url: url.clone(),
                headers,
                body: None,
            };
            let response = self
                .send(reference.registry(), &scopes, &request, self.attempts())
                .await?;
            let mut response =
                blob_response(&request, response, offset, reference, &download.what).await?;
            let dropped = download.copy_from(&mut response).await?;
            if download.written < descriptor.size {
                if attempt < self.attempts() {
                    tracing::debug!(
                        "{}: connection dropped at {} bytes; resuming",
                        download.what,
                        download.written
                    );
                    self.backoff(attempt).await;
                    continue;
                }
                return Err(download.short_error(dropped, &url));
            }
            return download.verify();
        }
    }

    /// Whether the repository has blob `digest` (`HEAD`).
    pub async fn blob_exists(
        &self,
        reference: &Reference,
        digest: &Digest,
        mount_from: &[String],
    ) -> Result<bool> {
        let url = self.url(reference, &format!("blobs/{digest}"))?;
        let request = Request {
            method: Method::HEAD,
            url,
            headers: HeaderMap::new(),
            body: None,
        };
        let response = self
            .send(
                reference.registry(),
                &Scopes::push(reference, mount_from),
                &request,
                self.attempts(),
            )
            .await?;
        match response.status() {
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(status_error(&request, response).await),
        }
    }

    /// Asks the registry to link blob `digest` from repository `from` (same registry).
    pub async fn mount_blob(
        &self,
        reference: &Reference,
        digest: &Digest,
        from: &str,
        mount_from: &[String],
    ) -> Result<Mount> {
        let mut url = self.url(reference, "blobs/uploads/")?;
        url.query_pairs_mut()
            .append_pair("mount", &digest.to_string())
            .append_pair("from", from);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, header_value("0"));
        let request = Request {
            method: Method::POST,
            url,
            headers,
            body: None,
        };
        let response = self
            .send(
                reference.registry(),
                &Scopes::push(reference, mount_from),
                &request,
                self.attempts(),
            )
            .await?;
        match response.status() {
            StatusCode::CREATED => Ok(Mount::Mounted),
            StatusCode::ACCEPTED => Ok(Mount::Declined(location(&request, &response)?)),
            _ => Err(status_error(&request, response).await),
        }
    }

    /// Uploads blob `descriptor`, read from what `open` returns: in one
    /// request up to [`ClientOptions::chunk_size`], in chunks beyond. A
    /// failed upload is retried from the start in a new session.
    pub async fn upload_blob(
        &self,
        reference: &Reference,
        descriptor: &Descriptor,
        open: &(dyn Fn() -> std::io::Result<Box<dyn Read + Send>> + Send + Sync),
        mount_from: &[String],
    ) -> Result<()> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .upload_once(reference, descriptor, open, mount_from, None)
                .await
            {
                Err(error) if attempt < self.attempts() && retryable(&error) => {
                    tracing::debug!("upload {}: {error}; retrying", descriptor.digest);
                    self.backoff(attempt).await;
                }
                other => return other,
            }
        }
    }

    /// Continues an upload in the session a declined mount opened.
    pub async fn upload_blob_at(
        &self,
        reference: &Reference,
        descriptor: &Descriptor,
        open: &(dyn Fn() -> std::io::Result<Box<dyn Read + Send>> + Send + Sync),
        mount_from: &[String],
        session: Url,
    ) -> Result<()> {
        match self
            .upload_once(reference, descriptor, open, mount_from, Some(session))
            .await
        {
            Err(error) if retryable(&error) => {
                self.upload_blob(reference, descriptor, open, mount_from)
                    .await
            }
            other => other,
        }
    }

    async fn upload_once(
        &self,
        reference: &Reference,
        descriptor: &Descriptor,
        open: &(dyn Fn() -> std::io::Result<Box<dyn Read + Send>> + Send + Sync),
        mount_from: &[String],
        session: Option<Url>,
    ) -> Result<()> {
        let scopes = Scopes::push(reference, mount_from);
        let registry = reference.registry();
        let local = read_blob_error(descriptor.digest);
        let mut location = match session {
            Some(url) => url,
            None => self.start_upload(reference, &scopes).await?,
        };
        let mut reader = open().map_err(local)?;
        let chunk_size = self.inner.options.chunk_size.max(1);
        let mut hasher = Sha256Writer::new(std::io::sink());
        let mut final_body = Bytes::new();
        let offset = if descriptor.size as usize > chunk_size {
            let mut chunks = ChunkedUpload {
                registry,
                scopes: &scopes,
                location: &mut location,
                hasher: &mut hasher,
                digest: descriptor.digest,
            };
            self.upload_chunks(&mut chunks, &mut reader, chunk_size)
                .await?
        } else {
            let mut body = Vec::with_capacity(descriptor.size as usize);
            reader.read_to_end(&mut body).map_err(local)?;
            hasher.write_all(&body).map_err(local)?;
            let offset = body.len() as u64;
            final_body = Bytes::from(body);
            offset
        };
        check_uploaded(descriptor, offset, hasher)?;
        self.finish_upload(registry, &scopes, location, descriptor, final_body)
            .await
    }

    /// Opens an upload session (`POST blobs/uploads/`); returns its URL.
    async fn start_upload(&self, reference: &Reference, scopes: &Scopes) -> Result<Url> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, header_value("0"));
        let request = Request {
            method: Method::POST,
            url: self.url(reference, "blobs/uploads/")?,
            headers,
            body: None,
        };
        let response = self
            .send(reference.registry(), scopes, &request, self.attempts())
            .await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(status_error(&request, response).await);
        }
        location(&request, &response)
    }

    /// Sends what `reader` holds in PATCH requests of `chunk_size` bytes,
    /// following each response's Location; returns the bytes sent.
    async fn upload_chunks(
        &self,
        upload: &mut ChunkedUpload<'_>,
        reader: &mut (dyn Read + Send),
        chunk_size: usize,
    ) -> Result<u64> {
        let local = read_blob_error(upload.digest);
        let mut offset: u64 = 0;
        loop {
            let chunk = read_chunk(reader, chunk_size).map_err(local)?;
            if chunk.is_empty() {
                return Ok(offset);
            }
            upload.hasher.write_all(&chunk).map_err(local)?;
            let end = offset + chunk.len() as u64 - 1;
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, header_value("application/octet-stream"));
            headers.insert(CONTENT_RANGE, header_value(&format!("{offset}-{end}")));
            headers.insert(CONTENT_LENGTH, header_value(&chunk.len().to_string()));
            offset += chunk.len() as u64;
            let request = Request {
                method: Method::PATCH,
                url: upload.location.clone(),
                headers,
                body: Some(Bytes::from(chunk)),
            };
            let response = self
                .send(upload.registry, upload.scopes, &request, 1)
                .await?;
            if response.status() != StatusCode::ACCEPTED {
                return Err(status_error(&request, response).await);
            }
            *upload.location = location(&request, &response)?;
        }
    }

    /// Ends the upload session with a PUT naming the digest, carrying
    /// `body` (what was not sent in chunks).
    async fn finish_upload(
        &self,
        registry: &str,
        scopes: &Scopes,
        mut session: Url,
        descriptor: &Descriptor,
        body: Bytes,
    ) -> Result<()> {
        session
            .query_pairs_mut()
            .append_pair("digest", &descriptor.digest.to_string());
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, header_value("application/octet-stream"));
        headers.insert(CONTENT_LENGTH, header_value(&body.len().to_string()));
        let request = Request {
            method: Method::PUT,
            url: session,
            headers,
            body: Some(body),
        };
        let response = self.send(registry, scopes, &request, 1).await?;
        if response.status() != StatusCode::CREATED {
            return Err(status_error(&request, response).await);
        }
        Ok(())
    }

    /// Puts a manifest under `reference`'s tag (or digest); returns its digest.
    pub async fn push_manifest(
        &self,
        reference: &Reference,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest> {
        let digest = Digest::of(bytes);
        let target = reference
            .tag()
            .map_or_else(|| digest.to_string(), str::to_owned);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, header_value(media_type));
        let request = Request {
            method: Method::PUT,
            url: self.url(reference, &format!("manifests/{target}"))?,
            headers,
            body: Some(Bytes::copy_from_slice(bytes)),
        };
        let response = self
            .send(
                reference.registry(),
                &Scopes::push(reference, &[]),
                &request,
                self.attempts(),
            )
            .await?;
        if !response.status().is_success() {
            return Err(status_error(&request, response).await);
        }
        if let Some(announced) = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<Digest>().ok())
            && announced != digest
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("pushed manifest {}", reference.familiar()),
                expected: digest,
                actual: announced,
            });
        }
        Ok(digest)
    }
}

/// The OAuth2 refresh-token form body for a token request.
fn refresh_token_form(
    refresh_token: &str,
    service: Option<&str>,
    scopes: &BTreeSet<String>,
) -> String {
    let mut form = vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", refresh_token.to_owned()),
        ("client_id", "strata".to_owned()),
    ];
    if let Some(service) = service {
        form.push(("service", service.to_owned()));
    }
    if !scopes.is_empty() {
        form.push((
            "scope",
            scopes.iter().cloned().collect::<Vec<_>>().join(" "),
        ));
    }
    form.iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The token in a token server's answer; a refusal is
/// [`RegistryError::Unauthorized`].
async fn token_from_response(registry: &str, url: &Url, response: Response) -> Result<String> {
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        let message = error_message(response).await;
        return Err(RegistryError::Unauthorized {
            registry: registry.to_owned(),
            message: if message.is_empty() {
                "token server refused the credentials".to_owned()
            } else {
                message
            },
        });
    }
    if !status.is_success() {
        return Err(RegistryError::Status {
            method: "GET".into(),
            url: url.to_string(),
            status: status.as_u16(),
            message: error_message(response).await,
        });
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|source| RegistryError::Http {
            method: "GET".into(),
            url: url.to_string(),
            source,
        })?;
    let parsed: TokenResponse =
        serde_json::from_slice(&bytes).map_err(|e| RegistryError::Protocol {
            url: url.to_string(),
            reason: format!("token response: {e}"),
        })?;
    parsed.into_token().ok_or_else(|| RegistryError::Protocol {
        url: url.to_string(),
        reason: "token response has no token".to_owned(),
    })
}

/// A blob GET's response, checked: 200 from the start, 206 when resuming
/// from `offset`.
async fn blob_response(
    request: &Request,
    response: Response,
    offset: u64,
    reference: &Reference,
    what: &str,
) -> Result<Response> {
    match response.status() {
        StatusCode::OK if offset == 0 => Ok(response),
        StatusCode::PARTIAL_CONTENT if offset > 0 => Ok(response),
        StatusCode::OK => Err(RegistryError::Protocol {
            url: request.url.to_string(),
            reason: "the registry ignored a Range request while resuming".to_owned(),
        }),
        StatusCode::NOT_FOUND => Err(RegistryError::NotFound {
            what: format!("{what} in {}", reference.name()),
        }),
        _ => Err(status_error(request, response).await),
    }
}

/// A blob being fetched into a sink, across resumed attempts.
struct BlobDownload<'a> {
    descriptor: &'a Descriptor,
    sink: &'a mut (dyn Write + Send),
    /// Hashes what is written, when the caller asked for verification.
    hasher: Option<Sha256Writer<std::io::Sink>>,
    /// Bytes written to the sink so far.
    written: u64,
    /// `blob <digest>`, for messages.
    what: String,
}

impl BlobDownload<'_> {
    /// Writes the response body to the sink, refusing more than the
    /// descriptor's size; returns the error that dropped the connection.
    async fn copy_from(&mut self, response: &mut Response) -> Result<Option<reqwest::Error>> {
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if self.written + chunk.len() as u64 > self.descriptor.size {
                        return Err(RegistryError::SizeMismatch {
                            digest: self.descriptor.digest,
                            expected: self.descriptor.size,
                            actual: self.written + chunk.len() as u64,
                        });
                    }
                    self.sink
                        .write_all(&chunk)
                        .map_err(|source| RegistryError::Local {
                            what: format!("write {}", self.what),
                            source,
                        })?;
                    if let Some(hasher) = &mut self.hasher {
                        let _ = hasher.write_all(&chunk);
                    }
                    self.written += chunk.len() as u64;
                }
                Ok(None) => return Ok(None),
                Err(error) => return Ok(Some(error)),
            }
        }
    }

    /// The error for a blob still short after the last attempt: the dropped
    /// connection's, else a size mismatch.
    fn short_error(&self, dropped: Option<reqwest::Error>, url: &Url) -> RegistryError {
        if let Some(source) = dropped {
            return RegistryError::Http {
                method: "GET".into(),
                url: url.to_string(),
                source,
            };
        }
        RegistryError::SizeMismatch {
            digest: self.descriptor.digest,
            expected: self.descriptor.size,
            actual: self.written,
        }
    }

    /// Checks the digest of what was written, when verifying.
    fn verify(self) -> Result<()> {
        let Some(hasher) = self.hasher else {
            return Ok(());
        };
        let (actual, _, _) = hasher.finish();
        if actual != self.descriptor.digest {
            return Err(RegistryError::DigestMismatch {
                what: self.what,
                expected: self.descriptor.digest,
                actual,
            });
        }
        Ok(())
    }
}

/// A chunked upload in progress: where the next chunk goes, and the hash
/// of what was sent.
struct ChunkedUpload<'a> {
    registry: &'a str,
    scopes: &'a Scopes,
    /// The session URL; each response moves it.
    location: &'a mut Url,
    hasher: &'a mut Sha256Writer<std::io::Sink>,
    /// The blob's digest, for messages.
    digest: Digest,
}

/// The error for a blob that cannot be read locally for upload.
fn read_blob_error(digest: Digest) -> impl Fn(std::io::Error) -> RegistryError + Copy {
    move |source| RegistryError::Local {
        what: format!("read blob {digest}"),
        source,
    }
}

/// Checks the size and digest of what was read for upload against the
/// descriptor, before the upload is committed.
fn check_uploaded(
    descriptor: &Descriptor,
    sent: u64,
    hasher: Sha256Writer<std::io::Sink>,
) -> Result<()> {
    let (actual, _, _) = hasher.finish();
    if sent != descriptor.size {
        return Err(RegistryError::SizeMismatch {
            digest: descriptor.digest,
            expected: descriptor.size,
            actual: sent,
        });
    }
    if actual != descriptor.digest {
        return Err(RegistryError::DigestMismatch {
            what: format!("local blob {}", descriptor.digest),
            expected: descriptor.digest,
            actual,
        });
    }
    Ok(())
}

fn retryable(error: &RegistryError) -> bool {
    match error {
        RegistryError::Http { .. } => true,
        RegistryError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 416,
        _ => false,
    }
}

fn read_chunk(reader: &mut dyn Read, size: usize) -> std::io::Result<Vec<u8>> {
    let mut chunk = Vec::with_capacity(size);
    reader.take(size as u64).read_to_end(&mut chunk)?;
    Ok(chunk)
}

fn header_value(text: &str) -> reqwest::header::HeaderValue {
    reqwest::header::HeaderValue::from_str(text)
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""))
}

fn basic_header(username: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The upload session URL from a `Location` header, resolved against the request URL.
fn location(request: &Request, response: &Response) -> Result<Url> {
    let value = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| RegistryError::Protocol {
            url: request.url.to_string(),
            reason: "upload response has no Location header".to_owned(),
        })?;
    request
        .url
        .join(value)
        .map_err(|e| RegistryError::Protocol {
            url: request.url.to_string(),
            reason: format!("invalid Location {value:?}: {e}"),
        })
}

async fn read_limited(request: &Request, mut response: Response, limit: usize) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > limit {
                    return Err(RegistryError::Protocol {
                        url: request.url.to_string(),
                        reason: format!("manifest larger than {limit} bytes"),
                    });
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(source) => {
                return Err(RegistryError::Http {
                    method: request.method.to_string(),
                    url: request.url.to_string(),
                    source,
                });
            }
        }
    }
}

/// The registry's `{"errors":[{"code","message"}]}` as one line, or the body's start.
async fn error_message(response: Response) -> String {
    let bytes = response.bytes().await.unwrap_or_default();
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(errors) = serde_json::from_slice::<Errors>(&bytes) {
        return errors
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.code, e.message))
            .collect::<Vec<_>>()
            .join("; ");
    }
    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        .trim()
        .to_owned()
}

async fn status_error(request: &Request, response: Response) -> RegistryError {
    let status = response.status().as_u16();
    RegistryError::Status {
        method: request.method.to_string(),
        url: request.url.to_string(),
        status,
        message: error_message(response).await,
    }
}
