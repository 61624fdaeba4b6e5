//! Where deliveries may go: no loopback, private, link-local, unique-local, CGNAT or metadata
//! addresses unless an administrator allows them, checked on the address actually connected to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// The outbound target policy (`--allow-private-targets` turns the check off).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Allow loopback and private addresses.
    pub allow_private: bool,
}

/// A target the policy refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{host} resolves to {addr} ({range}); deliveries to {range} addresses are refused unless the \
     server runs with --allow-private-targets"
)]
pub struct TargetRefused {
    /// The host as written in the channel's settings.
    pub host: String,
    /// The address refused.
    pub addr: IpAddr,
    /// Which range it falls in.
    pub range: &'static str,
}

impl TargetPolicy {
    /// The policy that refuses private targets.
    pub const STRICT: Self = Self {
        allow_private: false,
    };

    /// Checks one address of `host`.
    pub fn check(&self, host: &str, addr: IpAddr) -> Result<(), TargetRefused> {
        if self.allow_private {
            return Ok(());
        }
        match forbidden_range(addr) {
            Some(range) => Err(TargetRefused {
                host: host.to_owned(),
                addr,
                range,
            }),
            None => Ok(()),
        }
    }

    /// Resolves `host:port` and keeps only the allowed addresses; the caller connects to exactly
    /// these, so a second DNS answer (rebinding) cannot slip a private address in.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ResolveError> {
        let host_bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host_bare.parse::<IpAddr>() {
            self.check(host, ip)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let found: Vec<SocketAddr> = tokio::net::lookup_host((host_bare, port))
            .await
            .map_err(|e| ResolveError::Dns {
                host: host.to_owned(),
                message: e.to_string(),
            })?
            .collect();
        let mut first_refusal = None;
        let allowed: Vec<SocketAddr> = found
            .into_iter()
            .filter(|a| match self.check(host, a.ip()) {
                Ok(()) => true,
                Err(e) => {
                    first_refusal.get_or_insert(e);
                    false
                }
            })
            .collect();
        match (allowed.is_empty(), first_refusal) {
            (false, _) => Ok(allowed),
            (true, Some(refused)) => Err(refused.into()),
            (true, None) => Err(ResolveError::Dns {
                host: host.to_owned(),
                message: "no addresses".into(),
            }),
        }
    }

    /// A DNS resolver for reqwest that applies this policy to every name it resolves.
    /// (Literal IP hosts skip reqwest's resolver: check those with [`TargetPolicy::check_url`].)
    pub fn reqwest_resolver(self) -> Arc<PolicyResolver> {
        Arc::new(PolicyResolver(self))
    }

    /// Checks a URL before use: http or https, a host, and a literal IP host allowed.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), TargetRefused> {
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check(&ip.to_string(), IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check(&ip.to_string(), IpAddr::V6(ip)),
            _ => Ok(()),
        }
    }
}

/// Why a host could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The policy refused it.
    #[error(transparent)]
    Refused(#[from] TargetRefused),
    /// DNS failed.
    #[error("cannot resolve {host}: {message}")]
    Dns {
        /// The host.
        host: String,
        /// The resolver's message.
        message: String,
    },
}

/// reqwest's DNS resolver under a [`TargetPolicy`].
#[derive(Debug)]
pub struct PolicyResolver(TargetPolicy);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        Box::pin(async move {
            // Port 0: hyper's connector puts the URL's port on each address.
            let addrs = policy.resolve(name.as_str(), 0).await?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The name of the refused range `addr` falls in, or `None` for a public address.
pub fn forbidden_range(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    Some(match () {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_unspecified() || a == 0 => "unspecified",
        _ if ip.is_private() => "private",
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "cloud metadata",
        _ if ip.is_link_local() => "link-local",
        _ if a == 100 && (64..128).contains(&b) => "carrier-grade NAT",
        _ if a == 192 && b == 0 && ip.octets()[2] == 0 => "IETF protocol assignments",
        _ if a == 198 && (b == 18 || b == 19) => "benchmarking",
        _ if ip.is_broadcast() || ip.is_multicast() || a >= 240 => "multicast or reserved",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    // An IPv4 address wrapped in IPv6 (mapped, compatible, NAT64) is judged as that address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let seg = ip.segments();
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0; 4] {
        return forbidden_v4(Ipv4Addr::from(
            (u32::from(seg[6]) << 16) | u32::from(seg[7]),
        ));
    }
    Some(match () {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_unspecified() => "unspecified",
        _ if seg[0..6] == [0; 6] => "IPv4-compatible",
        _ if (seg[0] & 0xfe00) == 0xfc00 => "unique-local",
        _ if (seg[0] & 0xffc0) == 0xfe80 => "link-local",
        _ if (seg[0] & 0xffc0) == 0xfec0 => "site-local",
        _ if ip.is_multicast() => "multicast or reserved",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        for (addr, range) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("0.0.0.0", "unspecified"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.1.1", "link-local"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.100.100.200", "carrier-grade NAT"),
            ("255.255.255.255", "multicast or reserved"),
            ("224.0.0.1", "multicast or reserved"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("64:ff9b::a9fe:a9fe", "cloud metadata"),
            ("fd00:ec2::254", "unique-local"),
            ("fc00::1", "unique-local"),
            ("fe80::1", "link-local"),
        ] {
            let ip: IpAddr = addr.parse().unwrap();
            assert_eq!(forbidden_range(ip), Some(range), "{addr}");
        }
        for addr in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(forbidden_range(addr.parse().unwrap()), None, "{addr}");
        }
    }

    #[tokio::test]
    async fn resolution_is_checked_unless_allowed() {
        let err = TargetPolicy::STRICT
            .resolve("localhost", 80)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ResolveError::Refused(r) if r.range == "loopback"),
            "{err}"
        );
        assert!(err.to_string().contains("--allow-private-targets"), "{err}");
        let err = TargetPolicy::STRICT
            .resolve("127.0.0.1", 80)
            .await
            .unwrap_err();
        assert!(matches!(err, ResolveError::Refused(_)));
        let open = TargetPolicy {
            allow_private: true,
        };
        let addrs = open.resolve("127.0.0.1", 80).await.unwrap();
        assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
        let url = reqwest::Url::parse("http://[::1]:8080/x").unwrap();
        assert!(TargetPolicy::STRICT.check_url(&url).is_err());
        assert!(open.check_url(&url).is_ok());
    }
}
