//! Engine hardening: the CIS Docker Benchmark's daemon configuration checks (section 2, v1.6/v1.7
//! numbering) over `daemon.json` and `docker info`, and which of them a policy requires
//! (`"x-dockwatch": {"engine": {"require": [...]}}`).

use super::policy::{PolicyError, describe};
use super::report::DockerInfo;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// One check: an id (`cis-2.2`), what it asks, and how `daemon.json` is judged.
#[derive(Debug, Clone, Copy)]
pub struct EngineCheck {
    /// Stable id: `cis-` plus the benchmark's recommendation number.
    pub id: &'static str,
    /// The benchmark's title, shortened.
    pub title: &'static str,
    /// What passes, as shown next to the actual value.
    pub required: &'static str,
}

/// Every check, in benchmark order.
pub const CHECKS: &[EngineCheck] = &[
    EngineCheck {
        id: "cis-2.2",
        title: "Network traffic between containers on the default bridge is restricted",
        required: "icc: false",
    },
    EngineCheck {
        id: "cis-2.3",
        title: "The logging level is 'info'",
        required: "log-level: \"info\" (or unset)",
    },
    EngineCheck {
        id: "cis-2.4",
        title: "Docker is allowed to make changes to iptables",
        required: "iptables: true (or unset)",
    },
    EngineCheck {
        id: "cis-2.5",
        title: "Insecure registries are not used",
        required: "insecure-registries: empty (or unset)",
    },
    EngineCheck {
        id: "cis-2.6",
        title: "The aufs storage driver is not used",
        required: "storage-driver: not \"aufs\"",
    },
    EngineCheck {
        id: "cis-2.7",
        title: "TLS authentication is configured when the daemon listens on TCP",
        required: "tlsverify: true with tlscacert, tlscert and tlskey when hosts lists tcp://",
    },
    EngineCheck {
        id: "cis-2.8",
        title: "The default ulimit is configured",
        required: "default-ulimits: set",
    },
    EngineCheck {
        id: "cis-2.9",
        title: "User namespace support is enabled",
        required: "userns-remap: set",
    },
    EngineCheck {
        id: "cis-2.12",
        title: "Authorization for Docker client commands is enabled",
        required: "authorization-plugins: not empty",
    },
    EngineCheck {
        id: "cis-2.13",
        title: "Centralized and remote logging is configured",
        required: "log-driver: set, with log-opts",
    },
    EngineCheck {
        id: "cis-2.14",
        title: "Containers are restricted from acquiring new privileges",
        required: "no-new-privileges: true",
    },
    EngineCheck {
        id: "cis-2.15",
        title: "Live restore is enabled",
        required: "live-restore: true",
    },
    EngineCheck {
        id: "cis-2.16",
        title: "The userland proxy is disabled",
        required: "userland-proxy: false",
    },
    EngineCheck {
        id: "cis-2.17",
        title: "A daemon-wide seccomp profile is applied",
        required: "seccomp-profile: not \"unconfined\"",
    },
    EngineCheck {
        id: "cis-2.18",
        title: "Experimental features are not enabled",
        required: "experimental: false (or unset)",
    },
];

/// The engine checks a policy requires. Checks not required are still evaluated and reported,
/// but a failure does not make a machine non-compliant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineRequirements {
    /// Required check ids.
    pub require: BTreeSet<String>,
}

impl EngineRequirements {
    /// True when nothing is required.
    pub fn is_empty(&self) -> bool {
        self.require.is_empty()
    }

    /// The extension's JSON form: `{"require": ["cis-2.2", ...]}`.
    pub fn to_value(&self) -> Value {
        json!({ "require": self.require })
    }

    /// Validates `x-dockwatch.engine`. `require` is a list of check ids or `"all"`.
    pub fn from_value(path: &str, value: &Value) -> Result<Self, Vec<PolicyError>> {
        let mut errors = Vec::new();
        let mut err = |key: String, problem: String| errors.push(PolicyError { key, problem });
        let mut out = Self::default();
        let Value::Object(obj) = value else {
            err(
                path.into(),
                format!("expected an object, found {}", describe(value)),
            );
            return Err(errors);
        };
        for (name, v) in obj {
            let key = format!("{path}.{name}");
            if name != "require" {
                err(key, "unknown key".into());
                continue;
            }
            match v {
                Value::String(s) if s == "all" => {
                    out.require = CHECKS.iter().map(|c| c.id.to_string()).collect();
                }
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        match item.as_str() {
                            Some(id) if check(id).is_some() => {
                                out.require.insert(id.into());
                            }
                            Some(id) => {
                                err(format!("{key}[{i}]"), format!("unknown check \"{id}\""))
                            }
                            None => err(
                                format!("{key}[{i}]"),
                                format!("expected a check id, found {}", describe(item)),
                            ),
                        }
                    }
                }
                other => err(
                    key,
                    format!(
                        "expected a list of check ids or \"all\", found {}",
                        describe(other)
                    ),
                ),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

/// The check with this id.
pub fn check(id: &str) -> Option<&'static EngineCheck> {
    CHECKS.iter().find(|c| c.id == id)
}

/// The outcome of one check on one machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineFinding {
    /// `cis-2.2`...
    pub id: String,
    /// What the check asks.
    pub title: String,
    /// What passes.
    pub required: String,
    /// The relevant setting(s) as found (`null` when unset).
    pub actual: Value,
    /// Whether the machine passes.
    pub passed: bool,
    /// Whether the effective policy requires this check.
    pub required_by_policy: bool,
}

/// Evaluates every check against a machine's `daemon.json` (missing: all defaults) and, where
/// `daemon.json` is silent, what `docker info` says.
pub fn evaluate(
    daemon: Option<&Map<String, Value>>,
    info: Option<&DockerInfo>,
    required: &EngineRequirements,
) -> Vec<EngineFinding> {
    let empty = Map::new();
    let d = daemon.unwrap_or(&empty);
    let get = |k: &str| d.get(k).cloned().unwrap_or(Value::Null);
    let is_true = |k: &str| d.get(k).and_then(Value::as_bool) == Some(true);
    let is_false = |k: &str| d.get(k).and_then(Value::as_bool) == Some(false);
    let set = |k: &str| match d.get(k) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    };
    let info_has =
        |needle: &str| info.is_some_and(|i| i.security_options.iter().any(|o| o.contains(needle)));

    CHECKS
        .iter()
        .map(|c| {
            let (actual, passed) = match c.id {
                "cis-2.2" => (get("icc"), is_false("icc")),
                "cis-2.3" => {
                    let v = get("log-level");
                    let ok = v.is_null() || v.as_str() == Some("info");
                    (v, ok)
                }
                "cis-2.4" => {
                    let v = get("iptables");
                    (v.clone(), v.is_null() || v == Value::Bool(true))
                }
                "cis-2.5" => (get("insecure-registries"), !set("insecure-registries")),
                "cis-2.6" => {
                    let v = get("storage-driver");
                    (v.clone(), v.as_str() != Some("aufs"))
                }
                "cis-2.7" => {
                    let hosts = get("hosts");
                    let tcp = match &hosts {
                        Value::String(s) => s.starts_with("tcp://"),
                        Value::Array(a) => a
                            .iter()
                            .any(|h| h.as_str().is_some_and(|s| s.starts_with("tcp://"))),
                        _ => false,
                    };
                    let tls = is_true("tlsverify")
                        && set("tlscacert")
                        && set("tlscert")
                        && set("tlskey");
                    let actual = json!({
                        "hosts": hosts, "tlsverify": get("tlsverify"), "tlscacert": get("tlscacert"),
                        "tlscert": get("tlscert"), "tlskey": get("tlskey"),
                    });
                    (actual, !tcp || tls)
                }
                "cis-2.8" => (get("default-ulimits"), set("default-ulimits")),
                "cis-2.9" => (
                    get("userns-remap"),
                    set("userns-remap") || info_has("name=userns"),
                ),
                "cis-2.12" => (
                    get("authorization-plugins"),
                    set("authorization-plugins"),
                ),
                "cis-2.13" => (
                    json!({"log-driver": get("log-driver"), "log-opts": get("log-opts")}),
                    set("log-driver") && set("log-opts"),
                ),
                "cis-2.14" => (get("no-new-privileges"), is_true("no-new-privileges")),
                "cis-2.15" => {
                    let from_info = info.and_then(|i| i.live_restore_enabled);
                    let v = match (d.get("live-restore"), from_info) {
                        (Some(v), _) => v.clone(),
                        (None, Some(b)) => Value::Bool(b),
                        (None, None) => Value::Null,
                    };
                    (v.clone(), v == Value::Bool(true))
                }
                "cis-2.16" => (get("userland-proxy"), is_false("userland-proxy")),
                "cis-2.17" => {
                    let v = get("seccomp-profile");
                    let unconfined = v.as_str() == Some("unconfined")
                        || (v.is_null() && info_has("name=seccomp,profile=unconfined"));
                    (v, !unconfined)
                }
                "cis-2.18" => {
                    let v = get("experimental");
                    (v.clone(), v != Value::Bool(true))
                }
                _ => unreachable!("every check in CHECKS is evaluated"),
            };
            EngineFinding {
                id: c.id.into(),
                title: c.title.into(),
                required: c.required.into(),
                actual,
                passed,
                required_by_policy: required.require.contains(c.id),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn outcome(findings: &[EngineFinding], id: &str) -> bool {
        findings.iter().find(|f| f.id == id).unwrap().passed
    }

    /// A hardened daemon.json, as the CIS benchmark's remediations write it.
    fn hardened() -> Map<String, Value> {
        daemon(json!({
            "icc": false,
            "userns-remap": "default",
            "live-restore": true,
            "no-new-privileges": true,
            "userland-proxy": false,
            "log-driver": "syslog",
            "log-opts": {"syslog-address": "udp://logs.example:514"},
            "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}},
            "authorization-plugins": ["authz-broker"],
            "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
            "tlsverify": true,
            "tlscacert": "/etc/docker/ca.pem",
            "tlscert": "/etc/docker/server-cert.pem",
            "tlskey": "/etc/docker/server-key.pem"
        }))
    }

    #[test]
    fn a_hardened_daemon_passes_everything() {
        let findings = evaluate(Some(&hardened()), None, &EngineRequirements::default());
        let failed: Vec<_> = findings
            .iter()
            .filter(|f| !f.passed)
            .map(|f| &f.id)
            .collect();
        assert!(failed.is_empty(), "{failed:?}");
        assert_eq!(findings.len(), CHECKS.len());
    }

    #[test]
    fn defaults_fail_the_opt_in_checks_and_pass_the_rest() {
        let findings = evaluate(None, None, &EngineRequirements::default());
        for id in [
            "cis-2.2", "cis-2.8", "cis-2.9", "cis-2.12", "cis-2.13", "cis-2.14", "cis-2.15",
            "cis-2.16",
        ] {
            assert!(!outcome(&findings, id), "{id} passes on defaults");
        }
        for id in [
            "cis-2.3", "cis-2.4", "cis-2.5", "cis-2.6", "cis-2.7", "cis-2.17", "cis-2.18",
        ] {
            assert!(outcome(&findings, id), "{id} fails on defaults");
        }
    }

    #[test]
    fn each_bad_setting_fails_its_own_check() {
        let cases = [
            ("icc", json!(true), "cis-2.2"),
            ("log-level", json!("debug"), "cis-2.3"),
            ("iptables", json!(false), "cis-2.4"),
            (
                "insecure-registries",
                json!(["registry.example:5000"]),
                "cis-2.5",
            ),
            ("storage-driver", json!("aufs"), "cis-2.6"),
            ("tlsverify", json!(false), "cis-2.7"),
            ("userns-remap", json!(""), "cis-2.9"),
            ("log-opts", json!({}), "cis-2.13"),
            ("no-new-privileges", json!(false), "cis-2.14"),
            ("live-restore", json!(false), "cis-2.15"),
            ("userland-proxy", json!(true), "cis-2.16"),
            ("seccomp-profile", json!("unconfined"), "cis-2.17"),
            ("experimental", json!(true), "cis-2.18"),
        ];
        for (key, value, id) in cases {
            let mut d = hardened();
            d.insert(key.into(), value.clone());
            let findings = evaluate(Some(&d), None, &EngineRequirements::default());
            let failed: Vec<_> = findings
                .iter()
                .filter(|f| !f.passed)
                .map(|f| f.id.as_str())
                .collect();
            assert_eq!(failed, [id], "{key}={value}");
        }
    }

    #[test]
    fn tls_is_only_needed_with_a_tcp_host() {
        let d = daemon(json!({"hosts": ["unix:///var/run/docker.sock"]}));
        assert!(outcome(
            &evaluate(Some(&d), None, &EngineRequirements::default()),
            "cis-2.7"
        ));
        let d = daemon(json!({"hosts": "tcp://0.0.0.0:2375"}));
        let f = evaluate(Some(&d), None, &EngineRequirements::default());
        assert!(!outcome(&f, "cis-2.7"));
        let tls = f.iter().find(|x| x.id == "cis-2.7").unwrap();
        assert_eq!(tls.actual["hosts"], json!("tcp://0.0.0.0:2375"));
    }

    #[test]
    fn docker_info_fills_in_what_daemon_json_does_not_say() {
        let info = DockerInfo {
            live_restore_enabled: Some(true),
            security_options: vec!["name=seccomp,profile=builtin".into(), "name=userns".into()],
            ..DockerInfo::default()
        };
        let f = evaluate(None, Some(&info), &EngineRequirements::default());
        assert!(outcome(&f, "cis-2.15"));
        assert!(outcome(&f, "cis-2.9"));
    }

    #[test]
    fn requirements_mark_findings_and_validate_ids() {
        let req = EngineRequirements::from_value("e", &json!({"require": ["cis-2.2"]})).unwrap();
        let f = evaluate(None, None, &req);
        assert!(
            f.iter()
                .find(|x| x.id == "cis-2.2")
                .unwrap()
                .required_by_policy
        );
        assert!(
            !f.iter()
                .find(|x| x.id == "cis-2.3")
                .unwrap()
                .required_by_policy
        );
        let all = EngineRequirements::from_value("e", &json!({"require": "all"})).unwrap();
        assert_eq!(all.require.len(), CHECKS.len());
        let errs =
            EngineRequirements::from_value("e", &json!({"require": [3], "x": 1})).unwrap_err();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "e.require[0]: expected a check id, found 3",
                "e.x: unknown key"
            ]
        );
    }
}
