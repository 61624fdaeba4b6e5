//! DNS TXT lookups for domain verification, through a configurable resolver address.

use hickory_resolver::TokioAsyncResolver;
use hickory_resolver::config::{NameServerConfig, Protocol, ResolverConfig, ResolverOpts};
use std::net::SocketAddr;
use std::time::Duration;

/// Looks up TXT records.
#[derive(Clone)]
pub struct TxtResolver {
    resolver: TokioAsyncResolver,
}

impl std::fmt::Debug for TxtResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TxtResolver")
    }
}

impl TxtResolver {
    /// A resolver asking `server` (UDP, then TCP), or the system's resolvers when `None`.
    pub fn new(server: Option<SocketAddr>) -> Result<Self, String> {
        let mut opts = ResolverOpts::default();
        opts.timeout = Duration::from_secs(3);
        opts.attempts = 1;
        // A verification is retried after the record is published: never answer from cache.
        opts.cache_size = 0;
        let resolver = match server {
            Some(addr) => {
                let mut config = ResolverConfig::new();
                config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
                config.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
                TokioAsyncResolver::tokio(config, opts)
            }
            None => {
                let (config, _) = hickory_resolver::system_conf::read_system_conf()
                    .map_err(|e| format!("reading the system DNS configuration: {e}"))?;
                TokioAsyncResolver::tokio(config, opts)
            }
        };
        Ok(Self { resolver })
    }

    /// The TXT strings at `name` (each record's strings joined); empty when there are none.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.resolver.txt_lookup(fqdn).await {
            Ok(lookup) => Ok(lookup
                .iter()
                .map(|txt| {
                    txt.txt_data()
                        .iter()
                        .map(|d| String::from_utf8_lossy(d))
                        .collect::<String>()
                })
                .collect()),
            Err(e)
                if matches!(
                    e.kind(),
                    hickory_resolver::error::ResolveErrorKind::NoRecordsFound { .. }
                ) =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}
