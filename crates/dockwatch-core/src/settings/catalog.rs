//! The catalogue of Docker Desktop `admin-settings.json` keys: their shapes, and where each one's
//! effective value is found in Desktop's own settings files.
//!
//! Collected from Docker's "Configure Settings Management with a JSON file" page and its "Settings
//! reference" (2025-2026). The order here is the order of the exported file.

/// What a single value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// `true` or `false`.
    Bool,
    /// Any string.
    String,
    /// A whole number within bounds (inclusive).
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// A string that holds a JSON object (`dockerDaemonOptions`).
    JsonObjectString,
    /// An IPv4 network in CIDR notation.
    Cidr,
    /// A list of strings.
    StringList,
    /// A list of strings, or one comma-separated string (proxy `exclude` takes both).
    StringOrList,
}

impl ValueKind {
    /// How the kind is named in error messages ("expected a boolean").
    pub fn describe(self) -> String {
        match self {
            Self::Bool => "a boolean".into(),
            Self::String => "a string".into(),
            Self::Integer { min, max } => format!("an integer from {min} to {max}"),
            Self::Enum(values) => format!("one of {}", quoted_list(values)),
            Self::JsonObjectString => "a string holding a JSON object".into(),
            Self::Cidr => "an IPv4 network such as \"192.168.65.0/24\"".into(),
            Self::StringList => "a list of strings".into(),
            Self::StringOrList => "a list of strings or a comma-separated string".into(),
        }
    }
}

fn quoted_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One field of a group.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The field's key inside the group.
    pub name: &'static str,
    /// What its value must be.
    pub kind: ValueKind,
}

/// How a top-level key is written.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// `{"locked": bool, "value": V}`.
    Flag(ValueKind),
    /// `{"locked": bool, "<field>": V, ...}`: one lock covers every field of the group.
    Group(&'static [Field]),
    /// `{"<name>": {"locked": bool, "value": V}, ...}`: a folder of independently locked flags.
    Flags(&'static [Field]),
    /// Enhanced Container Isolation: a boolean flag plus `dockerSocketMount`.
    Eci,
    /// `[{"path": "...", "sharedByDefault": bool}, ...]` (no lock: Desktop always enforces it).
    DirectoryList,
}

/// A documented top-level key of `admin-settings.json`.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// The key as written in the file.
    pub name: &'static str,
    /// Its shape.
    pub shape: Shape,
}

const fn flag(name: &'static str, kind: ValueKind) -> KeySpec {
    KeySpec {
        name,
        shape: Shape::Flag(kind),
    }
}

const fn field(name: &'static str, kind: ValueKind) -> Field {
    Field { name, kind }
}

const BOOL: ValueKind = ValueKind::Bool;
const STRING: ValueKind = ValueKind::String;
const PORT: ValueKind = ValueKind::Integer { min: 0, max: 65535 };
const PROXY_MODE: ValueKind = ValueKind::Enum(&["system", "manual"]);

/// The file format version this model reads and writes.
pub const CONFIGURATION_FILE_VERSION: i64 = 2;

/// Every documented key, in export order (after `configurationFileVersion`).
pub const KEYS: &[KeySpec] = &[
    flag("exposeDockerAPIOnTCP2375", BOOL),
    KeySpec {
        name: "proxy",
        shape: Shape::Group(&[
            field("mode", PROXY_MODE),
            field("http", STRING),
            field("https", STRING),
            field("exclude", ValueKind::StringOrList),
            field(
                "windowsDockerdPort",
                ValueKind::Integer {
                    min: -1,
                    max: 65535,
                },
            ),
            field("enableKerberosNtlm", BOOL),
            field("pac", STRING),
            field("embeddedPac", STRING),
        ]),
    },
    KeySpec {
        name: "containersProxy",
        shape: Shape::Group(&[
            field("mode", PROXY_MODE),
            field("http", STRING),
            field("https", STRING),
            field("exclude", ValueKind::StringOrList),
            field("pac", STRING),
            field("embeddedPac", STRING),
            field("transparentPorts", STRING),
        ]),
    },
    KeySpec {
        name: "enhancedContainerIsolation",
        shape: Shape::Eci,
    },
    KeySpec {
        name: "linuxVM",
        shape: Shape::Flags(&[
            field("wslEngineEnabled", BOOL),
            field("dockerDaemonOptions", ValueKind::JsonObjectString),
            field("vpnkitCIDR", ValueKind::Cidr),
        ]),
    },
    KeySpec {
        name: "kubernetes",
        shape: Shape::Group(&[
            field("enabled", BOOL),
            field("showSystemContainers", BOOL),
            field("imagesRepository", STRING),
        ]),
    },
    KeySpec {
        name: "windowsContainers",
        shape: Shape::Flags(&[field("dockerDaemonOptions", ValueKind::JsonObjectString)]),
    },
    flag("disableUpdate", BOOL),
    flag("silentModulesUpdate", BOOL),
    flag("analyticsEnabled", BOOL),
    flag("extensionsEnabled", BOOL),
    flag("onlyMarketplaceExtensions", BOOL),
    flag("extensionsPrivateMarketplace", BOOL),
    flag("extensionsPrivateMarketplaceAdminContactURL", STRING),
    KeySpec {
        name: "scout",
        shape: Shape::Group(&[
            field("sbomIndexing", BOOL),
            field("useBackgroundIndexing", BOOL),
        ]),
    },
    flag("allowBetaFeatures", BOOL),
    flag("allowExperimentalFeatures", BOOL),
    flag("enableDockerAI", BOOL),
    flag("enableDockerMCPToolkit", BOOL),
    flag("enableCloud", BOOL),
    flag("blockDockerLoad", BOOL),
    KeySpec {
        name: "filesharingAllowedDirectories",
        shape: Shape::DirectoryList,
    },
    flag("useVirtualizationFrameworkVirtioFS", BOOL),
    flag("useVirtualizationFrameworkRosetta", BOOL),
    flag("useGrpcfuse", BOOL),
    flag("useWindowsContainers", BOOL),
    flag("displayedOnboarding", BOOL),
    flag("desktopTerminalEnabled", BOOL),
    flag("enableInference", BOOL),
    flag("enableInferenceTCP", BOOL),
    flag("enableInferenceTCPPort", PORT),
    flag("enableInferenceCORS", STRING),
    flag("enableInferenceGPUVariant", BOOL),
    flag(
        "defaultNetworkingMode",
        ValueKind::Enum(&["dual-stack", "ipv4only", "ipv6only"]),
    ),
    flag(
        "dnsInhibition",
        ValueKind::Enum(&["auto", "ipv4", "ipv6", "none"]),
    ),
    flag(
        "portBindingBehavior",
        ValueKind::Enum(&[
            "default-port-binding",
            "default-local-port-binding",
            "local-only-port-binding",
        ]),
    ),
];

/// The value kind at a requirement path (`proxy.exclude` → `StringOrList`), if it has one.
pub fn kind_of(path: &str) -> Option<ValueKind> {
    let (top, leaf) = match path.split_once('.') {
        Some((t, l)) => (t, Some(l)),
        None => (path, None),
    };
    match (key(top)?.shape, leaf) {
        (Shape::Flag(kind), None) => Some(kind),
        (Shape::Group(fields) | Shape::Flags(fields), Some(leaf)) => {
            fields.iter().find(|f| f.name == leaf).map(|f| f.kind)
        }
        (Shape::Eci, None) => Some(ValueKind::Bool),
        _ => None,
    }
}

/// The spec of a top-level key, if it is documented.
pub fn key(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

/// Where a policy setting's value is found in Desktop's per-user settings files: the key in
/// `settings-store.json` (Desktop 4.35 and later, PascalCase) and in the older `settings.json`
/// (camelCase). Settings without an entry (for example `blockDockerLoad`) exist only in
/// `admin-settings.json` and are observed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesktopKey {
    /// The requirement path (`analyticsEnabled`, `kubernetes.enabled`).
    pub path: &'static str,
    /// The key in `settings-store.json`.
    pub store: &'static str,
    /// The key in the older `settings.json`.
    pub legacy: &'static str,
}

const fn dk(path: &'static str, store: &'static str, legacy: &'static str) -> DesktopKey {
    DesktopKey {
        path,
        store,
        legacy,
    }
}

/// The mapping from requirement paths to Desktop's settings keys.
pub const DESKTOP_KEYS: &[DesktopKey] = &[
    dk(
        "exposeDockerAPIOnTCP2375",
        "ExposeDockerAPIOnTCP2375",
        "exposeDockerAPIOnTCP2375",
    ),
    dk("proxy.mode", "ProxyHTTPMode", "proxyHttpMode"),
    dk("proxy.http", "OverrideProxyHTTP", "overrideProxyHttp"),
    dk("proxy.https", "OverrideProxyHTTPS", "overrideProxyHttps"),
    dk(
        "proxy.exclude",
        "OverrideProxyExclude",
        "overrideProxyExclude",
    ),
    dk(
        "proxy.enableKerberosNtlm",
        "ProxyEnableKerberosNTLM",
        "proxyEnableKerberosNTLM",
    ),
    dk(
        "enhancedContainerIsolation",
        "EnhancedContainerIsolation",
        "enhancedContainerIsolation",
    ),
    dk(
        "linuxVM.wslEngineEnabled",
        "WslEngineEnabled",
        "wslEngineEnabled",
    ),
    dk("linuxVM.vpnkitCIDR", "VpnKitCIDR", "vpnKitCIDR"),
    dk(
        "kubernetes.enabled",
        "KubernetesEnabled",
        "kubernetesEnabled",
    ),
    dk(
        "kubernetes.showSystemContainers",
        "ShowKubernetesSystemContainers",
        "showKubernetesSystemContainers",
    ),
    dk(
        "kubernetes.imagesRepository",
        "KubernetesImagesRepository",
        "kubernetesImagesRepository",
    ),
    dk("disableUpdate", "DisableUpdate", "disableUpdate"),
    dk(
        "silentModulesUpdate",
        "SilentModulesUpdate",
        "silentModulesUpdate",
    ),
    dk("analyticsEnabled", "AnalyticsEnabled", "analyticsEnabled"),
    dk(
        "extensionsEnabled",
        "ExtensionsEnabled",
        "extensionsEnabled",
    ),
    dk(
        "onlyMarketplaceExtensions",
        "OnlyMarketplaceExtensions",
        "onlyMarketplaceExtensions",
    ),
    dk("scout.sbomIndexing", "SbomIndexing", "sbomIndexing"),
    dk(
        "scout.useBackgroundIndexing",
        "UseBackgroundIndexing",
        "useBackgroundIndexing",
    ),
    dk(
        "allowBetaFeatures",
        "AllowBetaFeatures",
        "allowBetaFeatures",
    ),
    dk(
        "allowExperimentalFeatures",
        "AllowExperimentalFeatures",
        "allowExperimentalFeatures",
    ),
    dk("enableDockerAI", "EnableDockerAI", "enableDockerAI"),
    dk(
        "enableDockerMCPToolkit",
        "EnableDockerMCPToolkit",
        "enableDockerMCPToolkit",
    ),
    dk(
        "useVirtualizationFrameworkVirtioFS",
        "UseVirtualizationFrameworkVirtioFS",
        "useVirtualizationFrameworkVirtioFS",
    ),
    dk(
        "useVirtualizationFrameworkRosetta",
        "UseVirtualizationFrameworkRosetta",
        "useVirtualizationFrameworkRosetta",
    ),
    dk("useGrpcfuse", "UseGrpcfuse", "useGrpcfuse"),
    dk(
        "useWindowsContainers",
        "UseWindowsContainers",
        "useWindowsContainers",
    ),
    dk(
        "displayedOnboarding",
        "DisplayedOnboarding",
        "displayedOnboarding",
    ),
    dk(
        "desktopTerminalEnabled",
        "DesktopTerminalEnabled",
        "desktopTerminalEnabled",
    ),
    dk("enableInference", "EnableInference", "enableInference"),
    dk(
        "enableInferenceTCP",
        "EnableInferenceTCP",
        "enableInferenceTCP",
    ),
    dk(
        "enableInferenceTCPPort",
        "EnableInferenceTCPPort",
        "enableInferenceTCPPort",
    ),
    dk(
        "enableInferenceCORS",
        "EnableInferenceCORS",
        "enableInferenceCORS",
    ),
    dk(
        "enableInferenceGPUVariant",
        "EnableInferenceGPUVariant",
        "enableInferenceGPUVariant",
    ),
    dk(
        "defaultNetworkingMode",
        "DefaultNetworkingMode",
        "defaultNetworkingMode",
    ),
    dk("dnsInhibition", "DnsInhibition", "dnsInhibition"),
    dk(
        "portBindingBehavior",
        "PortBindingBehavior",
        "portBindingBehavior",
    ),
];

/// The Desktop settings keys for a requirement path, if Desktop keeps that setting per user.
pub fn desktop_key(path: &str) -> Option<&'static DesktopKey> {
    DESKTOP_KEYS.iter().find(|k| k.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapped_path_starts_with_a_documented_key() {
        for k in DESKTOP_KEYS {
            let top = k.path.split('.').next().unwrap();
            assert!(key(top).is_some(), "{} maps an unknown key", k.path);
        }
    }

    #[test]
    fn kinds_are_found_by_path() {
        assert_eq!(kind_of("analyticsEnabled"), Some(ValueKind::Bool));
        assert_eq!(kind_of("proxy.exclude"), Some(ValueKind::StringOrList));
        assert_eq!(kind_of("linuxVM.vpnkitCIDR"), Some(ValueKind::Cidr));
        assert_eq!(kind_of("enhancedContainerIsolation"), Some(ValueKind::Bool));
        assert_eq!(
            kind_of("enhancedContainerIsolation.dockerSocketMount"),
            None
        );
        assert_eq!(kind_of("nope"), None);
    }

    #[test]
    fn keys_are_unique() {
        let mut names: Vec<_> = KEYS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
