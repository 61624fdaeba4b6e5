//! A registry reference, read through the OCI distribution API (`oci-client`): anonymous, basic,
//! bearer-token and identity-token (OAuth2 refresh token) auth, manifest lists and OCI indexes,
//! Docker v2 schema 2 and OCI manifests.
//! Layer blobs are streamed (`pull_blob_stream`) into the synchronous layer reader.

pub mod auth;

use super::manifest::{self, ACCEPTED_MANIFEST_TYPES, Parsed};
use super::{ImageSource, LayerStream, SourceOptions};
use crate::error::{Error, Result};
use crate::sbom::SourceInfo;
use futures_util::TryStreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

/// How deep indexes may nest before the image is refused.
const MAX_INDEX_DEPTH: usize = 4;

/// An image in a registry, its manifest and config read, its layers streamed on demand.
pub struct RegistryImage {
    runtime: tokio::runtime::Runtime,
    client: Client,
    reference: Reference,
    info: SourceInfo,
}

impl RegistryImage {
    /// Resolves `reference` to one image manifest (picking the platform from an index), and
    /// reads its config, verifying both digests.
    pub fn open(input: &str, options: &SourceOptions) -> Result<Self> {
        let reference: Reference = input.parse().map_err(|e| Error::InvalidSource {
            input: input.to_owned(),
            reason: format!("not an image reference: {e}"),
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|source| Error::Io {
                path: "tokio runtime".into(),
                source,
            })?;
        let client = Client::new(ClientConfig {
            protocol: if options.insecure {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            platform_resolver: None,
            ..ClientConfig::default()
        });
        let registry = reference.resolve_registry().to_owned();
        let auth = match auth::credentials(&registry) {
            auth::Credentials::Auth(auth) => auth,
            auth::Credentials::IdentityToken(token) => {
                let scheme = if options.insecure { "http" } else { "https" };
                let base = format!("{scheme}://{registry}");
                let exchange = auth::exchange_identity_token(&base, reference.repository(), &token);
                runtime
                    .block_on(exchange)
                    .map_err(|reason| Error::Registry {
                        registry: registry.clone(),
                        reason,
                    })?
            }
        };
        let info = runtime.block_on(resolve(&client, &reference, &auth, options, input))?;
        Ok(Self {
            runtime,
            client,
            reference,
            info,
        })
    }
}

/// An error naming the registry and reference, with the whole cause chain (the HTTP client's
/// top-level message alone, "error sending request", says nothing).
fn registry_error(reference: &Reference, error: impl std::error::Error) -> Error {
    let mut reason = format!("{}: {error}", reference.whole());
    let mut cause = error.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !reason.ends_with(&text) {
            reason = format!("{reason}: {text}");
        }
        cause = c.source();
    }
    Error::Registry {
        registry: reference.resolve_registry().to_owned(),
        reason,
    }
}

async fn resolve(
    client: &Client,
    reference: &Reference,
    auth: &RegistryAuth,
    options: &SourceOptions,
    input: &str,
) -> Result<SourceInfo> {
    let max = options.limits.max_metadata_bytes;
    let mut current = reference.clone();
    for _ in 0..MAX_INDEX_DEPTH {
        let (bytes, digest) = client
            .pull_manifest_raw(&current, auth, ACCEPTED_MANIFEST_TYPES)
            .await
            .map_err(|e| registry_error(&current, e))?;
        if bytes.len() as u64 > max {
            return Err(Error::LimitExceeded {
                what: "manifest size",
                location: current.whole(),
                limit: crate::limits::human_bytes(max),
            });
        }
        let expected = current.digest().map_or(digest.clone(), str::to_owned);
        manifest::verify(&bytes, &expected, "manifest", &current.whole())?;
        match manifest::parse(&bytes, &current.whole())? {
            Parsed::Index(index) => {
                let chosen = manifest::select(&index, options.platform.as_ref(), input)?;
                current = Reference::with_digest(
                    current.registry().to_owned(),
                    current.repository().to_owned(),
                    chosen.digest().to_string(),
                );
            }
            Parsed::Image(image) => {
                let config = image.config();
                if config.size() > max {
                    return Err(Error::LimitExceeded {
                        what: "image config size",
                        location: current.whole(),
                        limit: crate::limits::human_bytes(max),
                    });
                }
                let config_digest = config.digest().to_string();
                let mut config_bytes = Vec::new();
                client
                    .pull_blob(&current, config_digest.as_str(), &mut config_bytes)
                    .await
                    .map_err(|e| registry_error(&current, e))?;
                manifest::verify(&config_bytes, &config_digest, "image config", input)?;
                let mut info = manifest::describe(&image, &config_bytes, Some(expected), input)?;
                manifest::check_platform(&info, options.platform.as_ref(), input)?;
                info.kind = "registry".into();
                info.name = input.to_owned();
                info.tags = reference
                    .tag()
                    .map(|t| vec![t.to_owned()])
                    .unwrap_or_default();
                return Ok(info);
            }
        }
    }
    Err(Error::Malformed {
        what: "image index",
        location: input.to_owned(),
        reason: format!("indexes nest more than {MAX_INDEX_DEPTH} deep"),
    })
}

impl ImageSource for RegistryImage {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn open_layer(&self, index: usize) -> Result<LayerStream<'_>> {
        let layer = &self.info.layers[index];
        let descriptor = OciDescriptor {
            digest: layer.digest.clone(),
            media_type: layer.media_type.clone(),
            size: i64::try_from(layer.size).unwrap_or(i64::MAX),
            ..OciDescriptor::default()
        };
        let stream = self
            .runtime
            .block_on(self.client.pull_blob_stream(&self.reference, &descriptor))
            .map_err(|e| registry_error(&self.reference, e))?;
        let reader =
            tokio_util::io::StreamReader::new(stream.stream.map_err(std::io::Error::other));
        let bridge =
            tokio_util::io::SyncIoBridge::new_with_handle(reader, self.runtime.handle().clone());
        Ok(LayerStream {
            reader: Box::new(std::io::BufReader::with_capacity(256 << 10, bridge)),
            digest: Some(layer.digest.clone()),
        })
    }
}
