//! A settings policy: Docker Desktop's `admin-settings.json` content, validated (every error
//! names its key, all errors at once), plus Dockwatch's `x-dockwatch` extension; exported back
//! in a stable key order and identified by a content hash.

use super::catalog::{self, CONFIGURATION_FILE_VERSION, Field, KEYS, Shape, ValueKind};
use super::engine::EngineRequirements;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;

/// The top-level key holding Dockwatch's extension. Docker Desktop never sees it: `--apply` and
/// [`Policy::to_admin_settings`] leave it out.
pub const EXTENSION_KEY: &str = "x-dockwatch";

/// The largest policy file accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;

/// One problem in a policy file, at a key path such as `analyticsEnabled.value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyError {
    /// Where: a dotted key path (`linuxVM.vpnkitCIDR.value`, `filesharingAllowedDirectories[1].path`),
    /// or `(file)` for the file as a whole.
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.problem)
    }
}

/// Every problem found in a policy file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "invalid policy ({n} problem{}): ",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A validated settings policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The admin-settings content without `configurationFileVersion`, keys as documented.
    settings: Map<String, Value>,
    /// Engine hardening requirements (from `x-dockwatch.engine`).
    pub engine: EngineRequirements,
    /// The checkable settings, computed once (compliance reads them on every report).
    requirements: Vec<Requirement>,
}

/// One checkable setting of a policy: a path, the value required, and whether it is locked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    /// `analyticsEnabled`, `kubernetes.enabled`, `linuxVM.wslEngineEnabled`...
    pub key: String,
    /// The value the policy sets.
    pub value: Value,
    /// Locked settings can't be changed by users; unlocked ones are defaults.
    pub locked: bool,
}

/// Which version of a policy: its number (1, 2, ... per policy, assigned by the store) and the
/// SHA-256 of its canonical export.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// Increments with every change of the policy.
    pub number: u64,
    /// Lowercase hex SHA-256 of [`Policy::canonical_bytes`].
    pub hash: String,
}

impl Policy {
    /// Parses and validates a policy file (admin-settings.json format, optionally with the
    /// `x-dockwatch` extension). All problems are reported, each naming its key.
    pub fn parse(bytes: &[u8]) -> Result<Self, PolicyErrors> {
        if bytes.len() > MAX_POLICY_BYTES {
            return Err(one(
                "(file)",
                format!(
                    "too large: {} bytes, the limit is {MAX_POLICY_BYTES}",
                    bytes.len()
                ),
            ));
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            one(
                "(file)",
                format!(
                    "not valid JSON at line {} column {}: {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        Self::from_value(value)
    }

    /// Validates an already-parsed JSON document.
    pub fn from_value(value: Value) -> Result<Self, PolicyErrors> {
        let mut v = Validator::default();
        let Value::Object(doc) = value else {
            return Err(one(
                "(file)",
                format!("expected a JSON object, found {}", describe(&value)),
            ));
        };
        match doc.get("configurationFileVersion") {
            None => v.err(
                "configurationFileVersion",
                format!("missing (expected {CONFIGURATION_FILE_VERSION})"),
            ),
            Some(n) if n.as_i64() == Some(CONFIGURATION_FILE_VERSION) => {}
            Some(other) => v.err(
                "configurationFileVersion",
                format!(
                    "expected {CONFIGURATION_FILE_VERSION}, found {}",
                    describe(other)
                ),
            ),
        }
        let mut settings = Map::new();
        let mut engine = EngineRequirements::default();
        for (name, value) in &doc {
            if name == "configurationFileVersion" {
                continue;
            }
            if name == EXTENSION_KEY {
                engine = validate_extension(&mut v, value);
                continue;
            }
            match catalog::key(name) {
                Some(spec) => {
                    v.shape(name, &spec.shape, value);
                    settings.insert(name.clone(), value.clone());
                }
                None => v.unknown(name, name, KEYS.iter().map(|k| k.name)),
            }
        }
        if v.errors.is_empty() {
            let requirements = requirements_in(&settings);
            Ok(Self {
                settings,
                engine,
                requirements,
            })
        } else {
            Err(PolicyErrors(v.errors))
        }
    }

    /// The admin-settings.json document Docker Desktop reads: `configurationFileVersion` first,
    /// then the keys in the documented order; no Dockwatch extension.
    pub fn to_admin_settings(&self) -> Value {
        Value::Object(self.ordered(false).0.into_iter().collect())
    }

    /// The full policy document: the admin-settings content plus `x-dockwatch` when the
    /// extension says anything (what `fleet policy export` writes).
    pub fn to_document(&self) -> Value {
        Value::Object(self.ordered(true).0.into_iter().collect())
    }

    /// The top-level entries in export order.
    fn ordered(&self, with_extension: bool) -> Ordered {
        let mut out = vec![(
            "configurationFileVersion".to_string(),
            Value::from(CONFIGURATION_FILE_VERSION),
        )];
        for spec in KEYS {
            if let Some(value) = self.settings.get(spec.name) {
                out.push((spec.name.into(), value.clone()));
            }
        }
        if with_extension && !self.engine.is_empty() {
            out.push((
                EXTENSION_KEY.into(),
                serde_json::json!({ "engine": self.engine.to_value() }),
            ));
        }
        Ordered(out)
    }

    /// Pretty JSON of [`Self::to_admin_settings`] in export order, newline-terminated: the bytes
    /// `--apply` writes.
    pub fn admin_settings_bytes(&self) -> Vec<u8> {
        pretty(&self.ordered(false))
    }

    /// Pretty JSON of [`Self::to_document`] in export order, newline-terminated.
    pub fn document_bytes(&self) -> Vec<u8> {
        pretty(&self.ordered(true))
    }

    /// Compact JSON of [`Self::to_document`] in export order: what the version hash covers.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.ordered(true)).expect("a JSON value always serializes")
    }

    /// Lowercase hex SHA-256 of [`Self::canonical_bytes`].
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_bytes()))
    }

    /// The version value for this content with a given number.
    pub fn version(&self, number: u64) -> PolicyVersion {
        PolicyVersion {
            number,
            hash: self.content_hash(),
        }
    }

    /// The raw validated value of a top-level key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.settings.get(key)
    }

    /// Every checkable setting, in the documented order.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }
}

/// The checkable settings of any admin-settings.json content, validated or not (an installed
/// file is read as it is, so a wrong value there shows as a drift rather than hiding it).
pub fn requirements_in(settings: &Map<String, Value>) -> Vec<Requirement> {
    {
        let mut out = Vec::new();
        for spec in KEYS {
            let Some(Value::Object(obj)) = settings.get(spec.name) else {
                if let (Shape::DirectoryList, Some(v)) = (&spec.shape, settings.get(spec.name)) {
                    out.push(req(spec.name, v.clone(), true));
                }
                continue;
            };
            let locked = obj.get("locked").and_then(Value::as_bool).unwrap_or(false);
            match spec.shape {
                Shape::Flag(_) => {
                    if let Some(v) = obj.get("value") {
                        out.push(req(spec.name, v.clone(), locked));
                    }
                }
                Shape::Group(fields) => {
                    for f in fields {
                        if let Some(v) = obj.get(f.name) {
                            out.push(req(&format!("{}.{}", spec.name, f.name), v.clone(), locked));
                        }
                    }
                }
                Shape::Flags(fields) => {
                    for f in fields {
                        let Some(Value::Object(sub)) = obj.get(f.name) else {
                            continue;
                        };
                        let locked = sub.get("locked").and_then(Value::as_bool).unwrap_or(false);
                        if let Some(v) = sub.get("value") {
                            out.push(req(&format!("{}.{}", spec.name, f.name), v.clone(), locked));
                        }
                    }
                }
                Shape::Eci => {
                    if let Some(v) = obj.get("value") {
                        out.push(req(spec.name, v.clone(), locked));
                    }
                    if let Some(v) = obj.get("dockerSocketMount") {
                        out.push(req(
                            &format!("{}.dockerSocketMount", spec.name),
                            v.clone(),
                            locked,
                        ));
                    }
                }
                Shape::DirectoryList => {}
            }
        }
        out
    }
}

/// A policy serializes as its full document (in export order) ...
impl Serialize for Policy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.ordered(true).serialize(s)
    }
}

/// ... and deserializes only through validation, so a `Policy` inside any DTO is a valid one.
impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Self::from_value(value).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<Value> for Policy {
    type Error = PolicyErrors;

    fn try_from(value: Value) -> Result<Self, Self::Error> {
        Self::from_value(value)
    }
}

fn req(key: &str, value: Value, locked: bool) -> Requirement {
    Requirement {
        key: key.into(),
        value,
        locked,
    }
}

/// Top-level entries serialized in the given order, whatever `serde_json::Map`'s own order is.
struct Ordered(Vec<(String, Value)>);

impl Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

fn pretty(value: &impl Serialize) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(value).expect("a JSON value always serializes");
    out.push(b'\n');
    out
}

fn one(key: &str, problem: String) -> PolicyErrors {
    PolicyErrors(vec![PolicyError {
        key: key.into(),
        problem,
    }])
}

/// A short description of a found value for error messages: strings and numbers verbatim
/// (shortened), containers by kind.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let mut short: String = s.chars().take(40).collect();
            if short.len() < s.len() {
                short.push('…');
            }
            serde_json::to_string(&short).unwrap_or_default()
        }
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn validate_extension(v: &mut Validator, value: &Value) -> EngineRequirements {
    let Value::Object(ext) = value else {
        v.err(
            EXTENSION_KEY,
            format!("expected an object, found {}", describe(value)),
        );
        return EngineRequirements::default();
    };
    let mut engine = EngineRequirements::default();
    for (name, value) in ext {
        let path = format!("{EXTENSION_KEY}.{name}");
        match name.as_str() {
            "engine" => match EngineRequirements::from_value(&path, value) {
                Ok(e) => engine = e,
                Err(errors) => v.errors.extend(errors),
            },
            _ => v.unknown(&path, name, ["engine"]),
        }
    }
    engine
}

/// Collects errors while walking a document.
#[derive(Default)]
struct Validator {
    errors: Vec<PolicyError>,
}

impl Validator {
    fn err(&mut self, key: &str, problem: String) {
        self.errors.push(PolicyError {
            key: key.into(),
            problem,
        });
    }

    fn unknown<'a>(&mut self, path: &str, name: &str, known: impl IntoIterator<Item = &'a str>) {
        let hint = closest(name, known)
            .map(|k| format!(" (did you mean \"{k}\"?)"))
            .unwrap_or_default();
        self.err(path, format!("unknown key{hint}"));
    }

    fn object<'v>(&mut self, path: &str, value: &'v Value) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(obj) => Some(obj),
            other => {
                self.err(
                    path,
                    format!("expected an object, found {}", describe(other)),
                );
                None
            }
        }
    }

    fn shape(&mut self, path: &str, shape: &Shape, value: &Value) {
        match *shape {
            Shape::Flag(kind) => self.flag(path, kind, value),
            Shape::Group(fields) => self.group(path, fields, value),
            Shape::Flags(fields) => {
                let Some(obj) = self.object(path, value) else {
                    return;
                };
                for (name, sub) in obj {
                    let sub_path = format!("{path}.{name}");
                    match fields.iter().find(|f| f.name == name) {
                        Some(f) => self.flag(&sub_path, f.kind, sub),
                        None => self.unknown(&sub_path, name, fields.iter().map(|f| f.name)),
                    }
                }
            }
            Shape::Eci => self.eci(path, value),
            Shape::DirectoryList => self.directories(path, value),
        }
    }

    fn locked(&mut self, path: &str, obj: &Map<String, Value>) {
        if let Some(l) = obj.get("locked")
            && !l.is_boolean()
        {
            self.err(
                &format!("{path}.locked"),
                format!("expected a boolean, found {}", describe(l)),
            );
        }
    }

    fn flag(&mut self, path: &str, kind: ValueKind, value: &Value) {
        let Some(obj) = self.object(path, value) else {
            return;
        };
        self.locked(path, obj);
        match obj.get("value") {
            Some(v) => self.kind(&format!("{path}.value"), kind, v),
            None => self.err(
                &format!("{path}.value"),
                format!("missing (expected {})", kind.describe()),
            ),
        }
        for name in obj.keys() {
            if name != "locked" && name != "value" {
                self.unknown(&format!("{path}.{name}"), name, ["locked", "value"]);
            }
        }
    }

    fn group(&mut self, path: &str, fields: &[Field], value: &Value) {
        let Some(obj) = self.object(path, value) else {
            return;
        };
        self.locked(path, obj);
        for (name, v) in obj {
            if name == "locked" {
                continue;
            }
            let sub = format!("{path}.{name}");
            match fields.iter().find(|f| f.name == name) {
                Some(f) => self.kind(&sub, f.kind, v),
                None => self.unknown(&sub, name, fields.iter().map(|f| f.name).chain(["locked"])),
            }
        }
    }

    fn eci(&mut self, path: &str, value: &Value) {
        let Some(obj) = self.object(path, value) else {
            return;
        };
        self.locked(path, obj);
        match obj.get("value") {
            Some(v) => self.kind(&format!("{path}.value"), ValueKind::Bool, v),
            None => self.err(
                &format!("{path}.value"),
                "missing (expected a boolean)".into(),
            ),
        }
        for (name, v) in obj {
            let sub = format!("{path}.{name}");
            match name.as_str() {
                "locked" | "value" => {}
                "dockerSocketMount" => self.socket_mount(&sub, v),
                _ => self.unknown(&sub, name, ["locked", "value", "dockerSocketMount"]),
            }
        }
    }

    fn socket_mount(&mut self, path: &str, value: &Value) {
        let Some(obj) = self.object(path, value) else {
            return;
        };
        for (name, v) in obj {
            let sub = format!("{path}.{name}");
            match name.as_str() {
                "imageList" => {
                    let Some(list) = self.object(&sub, v) else {
                        continue;
                    };
                    for (n, item) in list {
                        let p = format!("{sub}.{n}");
                        match n.as_str() {
                            "images" => self.kind(&p, ValueKind::StringList, item),
                            "allowDerivedImages" => self.kind(&p, ValueKind::Bool, item),
                            _ => self.unknown(&p, n, ["images", "allowDerivedImages"]),
                        }
                    }
                }
                "commandList" => {
                    let Some(list) = self.object(&sub, v) else {
                        continue;
                    };
                    for (n, item) in list {
                        let p = format!("{sub}.{n}");
                        match n.as_str() {
                            "type" => self.kind(&p, ValueKind::Enum(&["allow", "deny"]), item),
                            "commands" => self.kind(&p, ValueKind::StringList, item),
                            _ => self.unknown(&p, n, ["type", "commands"]),
                        }
                    }
                }
                _ => self.unknown(&sub, name, ["imageList", "commandList"]),
            }
        }
    }

    fn directories(&mut self, path: &str, value: &Value) {
        let Value::Array(items) = value else {
            self.err(
                path,
                format!(
                    "expected a list of {{\"path\", \"sharedByDefault\"}} objects, found {}",
                    describe(value)
                ),
            );
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let Some(obj) = self.object(&p, item) else {
                continue;
            };
            match obj.get("path") {
                Some(v) => self.kind(&format!("{p}.path"), ValueKind::String, v),
                None => self.err(&format!("{p}.path"), "missing (expected a string)".into()),
            }
            for (n, v) in obj {
                match n.as_str() {
                    "path" => {}
                    "sharedByDefault" => self.kind(&format!("{p}.{n}"), ValueKind::Bool, v),
                    _ => self.unknown(&format!("{p}.{n}"), n, ["path", "sharedByDefault"]),
                }
            }
        }
    }

    fn kind(&mut self, path: &str, kind: ValueKind, value: &Value) {
        let ok = match kind {
            ValueKind::Bool => value.is_boolean(),
            ValueKind::String => value.is_string(),
            ValueKind::Integer { min, max } => {
                value.as_i64().is_some_and(|n| (min..=max).contains(&n))
            }
            ValueKind::Enum(values) => value.as_str().is_some_and(|s| values.contains(&s)),
            ValueKind::JsonObjectString => value.as_str().is_some_and(|s| {
                s.trim().is_empty() || serde_json::from_str::<Value>(s).is_ok_and(|v| v.is_object())
            }),
            ValueKind::Cidr => value.as_str().is_some_and(is_ipv4_cidr),
            ValueKind::StringList => value
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            ValueKind::StringOrList => {
                value.is_string()
                    || value
                        .as_array()
                        .is_some_and(|a| a.iter().all(Value::is_string))
            }
        };
        if !ok {
            self.err(
                path,
                format!("expected {}, found {}", kind.describe(), describe(value)),
            );
        }
    }
}

fn is_ipv4_cidr(s: &str) -> bool {
    let Some((addr, bits)) = s.split_once('/') else {
        return false;
    };
    addr.parse::<std::net::Ipv4Addr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 32)
}

/// The known name closest to a misspelt one (same letters ignoring case, or at most two edits).
fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    known
        .into_iter()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

// Levenshtein distance, for "did you mean": too small a need for a crate.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The example file from Docker's "Configure Settings Management with a JSON file" page
    /// (image names moved to a placeholder registry host).
    pub(crate) const DOCKER_EXAMPLE: &str = r#"{
  "configurationFileVersion": 2,
  "exposeDockerAPIOnTCP2375": {"locked": true, "value": false},
  "proxy": {"locked": true, "mode": "system", "http": "", "https": "", "exclude": [],
            "windowsDockerdPort": 65000, "enableKerberosNtlm": false, "pac": "", "embeddedPac": ""},
  "containersProxy": {"locked": true, "mode": "manual", "http": "", "https": "", "exclude": [],
                      "pac": "", "embeddedPac": "", "transparentPorts": ""},
  "enhancedContainerIsolation": {"locked": true, "value": true,
    "dockerSocketMount": {
      "imageList": {"images": ["registry.example/localstack/localstack:*", "registry.example/testcontainers/ryuk:*"]},
      "commandList": {"type": "deny", "commands": ["push"]}}},
  "linuxVM": {
    "wslEngineEnabled": {"locked": false, "value": false},
    "dockerDaemonOptions": {"locked": false, "value": "{\"debug\": false}"},
    "vpnkitCIDR": {"locked": false, "value": "192.168.65.0/24"}},
  "kubernetes": {"locked": false, "enabled": false, "showSystemContainers": false, "imagesRepository": ""},
  "windowsContainers": {"dockerDaemonOptions": {"locked": false, "value": "{\"debug\": false}"}},
  "disableUpdate": {"locked": false, "value": false},
  "analyticsEnabled": {"locked": false, "value": true},
  "extensionsEnabled": {"locked": true, "value": false},
  "scout": {"locked": false, "sbomIndexing": true, "useBackgroundIndexing": true},
  "allowBetaFeatures": {"locked": false, "value": false},
  "blockDockerLoad": {"locked": false, "value": true},
  "filesharingAllowedDirectories": [{"path": "$HOME", "sharedByDefault": true},
                                    {"path": "$TMP", "sharedByDefault": false}],
  "useVirtualizationFrameworkVirtioFS": {"locked": true, "value": true},
  "useVirtualizationFrameworkRosetta": {"locked": true, "value": true},
  "useGrpcfuse": {"locked": true, "value": true},
  "displayedOnboarding": {"locked": true, "value": true},
  "desktopTerminalEnabled": {"locked": false, "value": false},
  "enableInference": {"locked": false, "value": true},
  "enableInferenceTCP": {"locked": false, "value": true},
  "enableInferenceTCPPort": {"locked": true, "value": 12434},
  "enableInferenceCORS": {"locked": true, "value": ""},
  "enableInferenceGPUVariant": {"locked": true, "value": true},
  "portBindingBehavior": {"locked": true, "value": "default-port-binding"}
}"#;

    fn errors(doc: Value) -> Vec<String> {
        Policy::from_value(doc)
            .unwrap_err()
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn dockers_own_example_is_valid_and_round_trips() {
        let policy = Policy::parse(DOCKER_EXAMPLE.as_bytes()).unwrap();
        let original: Value = serde_json::from_str(DOCKER_EXAMPLE).unwrap();
        assert_eq!(policy.to_admin_settings(), original);
        let again = Policy::parse(&policy.admin_settings_bytes()).unwrap();
        assert_eq!(again, policy);
        assert_eq!(again.content_hash(), policy.content_hash());
    }

    #[test]
    fn export_order_is_stable_whatever_the_input_order() {
        let a = Policy::parse(
            br#"{"disableUpdate": {"value": true}, "configurationFileVersion": 2,
                 "analyticsEnabled": {"locked": true, "value": false}}"#,
        )
        .unwrap();
        let b = Policy::parse(
            br#"{"configurationFileVersion": 2, "analyticsEnabled": {"value": false, "locked": true},
                 "disableUpdate": {"value": true}}"#,
        )
        .unwrap();
        assert_eq!(a.admin_settings_bytes(), b.admin_settings_bytes());
        assert_eq!(a.content_hash(), b.content_hash());
        let text = String::from_utf8(a.admin_settings_bytes()).unwrap();
        assert!(
            text.trim_start()
                .starts_with("{\n  \"configurationFileVersion\": 2")
        );
    }

    #[test]
    fn wrong_type_names_the_key_and_what_was_found() {
        let errs = errors(json!({
            "configurationFileVersion": 2,
            "analyticsEnabled": {"locked": true, "value": "yes"}
        }));
        assert_eq!(
            errs,
            ["analyticsEnabled.value: expected a boolean, found \"yes\""]
        );
    }

    #[test]
    fn every_error_is_collected_and_each_names_its_key() {
        let errs = errors(json!({
            "configurationFileVersion": 1,
            "analyticsEnabld": {"locked": true, "value": false},
            "disableUpdate": {"locked": "yes", "value": 1},
            "kubernetes": {"locked": false, "enabled": "no", "nodes": 3},
            "linuxVM": {"vpnkitCIDR": {"value": "192.168.65.0"}, "dockerDaemonOptions": {"value": "{oops"}},
            "proxy": {"mode": "auto"},
            "enhancedContainerIsolation": {"value": true, "dockerSocketMount": {"commandList": {"type": "maybe"}}},
            "filesharingAllowedDirectories": [{"sharedByDefault": "yes"}],
            "enableInferenceTCPPort": {"value": 70000},
            "x-dockwatch": {"engine": {"require": ["cis-9.9"]}, "color": "blue"}
        }));
        let expected = [
            "configurationFileVersion: expected 2, found 1",
            "analyticsEnabld: unknown key (did you mean \"analyticsEnabled\"?)",
            "disableUpdate.locked: expected a boolean, found \"yes\"",
            "disableUpdate.value: expected a boolean, found 1",
            "kubernetes.enabled: expected a boolean, found \"no\"",
            "kubernetes.nodes: unknown key",
            "linuxVM.vpnkitCIDR.value: expected an IPv4 network such as \"192.168.65.0/24\", found \"192.168.65.0\"",
            "linuxVM.dockerDaemonOptions.value: expected a string holding a JSON object, found \"{oops\"",
            "proxy.mode: expected one of \"system\", \"manual\", found \"auto\"",
            "enhancedContainerIsolation.dockerSocketMount.commandList.type: expected one of \"allow\", \"deny\", found \"maybe\"",
            "filesharingAllowedDirectories[0].path: missing (expected a string)",
            "filesharingAllowedDirectories[0].sharedByDefault: expected a boolean, found \"yes\"",
            "enableInferenceTCPPort.value: expected an integer from 0 to 65535, found 70000",
            "x-dockwatch.engine.require[0]: unknown check \"cis-9.9\"",
            "x-dockwatch.color: unknown key",
        ];
        for e in expected {
            assert!(errs.iter().any(|x| x == e), "missing {e:?} in {errs:#?}");
        }
        assert_eq!(errs.len(), expected.len(), "{errs:#?}");
    }

    /// A valid value of each kind, and one of the wrong type.
    fn sample(kind: ValueKind) -> (Value, Value) {
        match kind {
            ValueKind::Bool => (json!(true), json!("true")),
            ValueKind::String => (json!("x"), json!(1)),
            ValueKind::Integer { min, .. } => (json!(min), json!("1")),
            ValueKind::Enum(values) => (json!(values[0]), json!("not-a-choice")),
            ValueKind::JsonObjectString => (json!("{\"debug\": false}"), json!("[1]")),
            ValueKind::Cidr => (json!("10.0.0.0/8"), json!("10.0.0.0/33")),
            ValueKind::StringList => (json!(["a"]), json!("a")),
            ValueKind::StringOrList => (json!("a,b"), json!(3)),
        }
    }

    #[test]
    fn every_documented_key_accepts_its_shape_and_names_itself_when_wrong() {
        for spec in KEYS {
            let (good, bad, bad_path) = match spec.shape {
                Shape::Flag(kind) => {
                    let (g, b) = sample(kind);
                    (
                        json!({"locked": true, "value": g}),
                        json!({"locked": true, "value": b}),
                        format!("{}.value", spec.name),
                    )
                }
                Shape::Group(fields) => {
                    let mut g = json!({"locked": true});
                    for f in fields {
                        g[f.name] = sample(f.kind).0;
                    }
                    let mut b = g.clone();
                    b[fields[0].name] = sample(fields[0].kind).1;
                    (g, b, format!("{}.{}", spec.name, fields[0].name))
                }
                Shape::Flags(fields) => {
                    let mut g = json!({});
                    for f in fields {
                        g[f.name] = json!({"locked": false, "value": sample(f.kind).0});
                    }
                    let mut b = g.clone();
                    b[fields[0].name]["value"] = sample(fields[0].kind).1;
                    (g, b, format!("{}.{}.value", spec.name, fields[0].name))
                }
                Shape::Eci => (
                    json!({"locked": true, "value": true}),
                    json!({"locked": true, "value": "on"}),
                    format!("{}.value", spec.name),
                ),
                Shape::DirectoryList => (
                    json!([{"path": "$HOME", "sharedByDefault": true}]),
                    json!([{"path": 7}]),
                    format!("{}[0].path", spec.name),
                ),
            };
            let ok = Policy::from_value(json!({"configurationFileVersion": 2, spec.name: good}));
            assert!(ok.is_ok(), "{}: {:?}", spec.name, ok.err());
            let errs = errors(json!({"configurationFileVersion": 2, spec.name: bad}));
            assert_eq!(errs.len(), 1, "{}: {errs:?}", spec.name);
            assert!(
                errs[0].starts_with(&format!("{bad_path}: expected ")),
                "{errs:?}"
            );
        }
    }

    #[test]
    fn a_missing_version_and_a_non_object_are_named() {
        assert_eq!(
            errors(json!({"analyticsEnabled": {"value": false}})),
            ["configurationFileVersion: missing (expected 2)"]
        );
        assert_eq!(
            errors(json!([1])),
            ["(file): expected a JSON object, found a list"]
        );
        assert_eq!(
            errors(json!({"configurationFileVersion": 2, "disableUpdate": true})),
            ["disableUpdate: expected an object, found true"]
        );
        assert_eq!(
            errors(json!({"configurationFileVersion": 2, "disableUpdate": {"locked": true}})),
            ["disableUpdate.value: missing (expected a boolean)"]
        );
    }

    #[test]
    fn a_policy_inside_a_dto_is_validated() {
        #[derive(Serialize, Deserialize)]
        struct Dto {
            policy: Policy,
        }
        let dto: Dto = serde_json::from_str(
            r#"{"policy": {"configurationFileVersion": 2, "disableUpdate": {"value": true}}}"#,
        )
        .unwrap();
        let text = serde_json::to_string(&dto).unwrap();
        assert_eq!(
            text,
            r#"{"policy":{"configurationFileVersion":2,"disableUpdate":{"value":true}}}"#
        );
        let err = serde_json::from_str::<Dto>(
            r#"{"policy": {"configurationFileVersion": 2, "disableUpdate": {"value": "no"}}}"#,
        )
        .err()
        .unwrap();
        assert!(
            err.to_string()
                .contains("disableUpdate.value: expected a boolean"),
            "{err}"
        );
    }

    #[test]
    fn bad_json_names_the_line() {
        let err = Policy::parse(b"{\n  \"configurationFileVersion\": 2,\n}").unwrap_err();
        assert!(err.0[0].problem.contains("line 3"), "{err}");
        assert_eq!(err.0[0].key, "(file)");
    }

    #[test]
    fn requirements_flatten_groups_with_their_lock() {
        let policy = Policy::parse(DOCKER_EXAMPLE.as_bytes()).unwrap();
        let reqs = policy.requirements();
        let find = |k: &str| reqs.iter().find(|r| r.key == k).unwrap().clone();
        assert_eq!(find("analyticsEnabled").value, json!(true));
        assert!(!find("analyticsEnabled").locked);
        assert!(find("proxy.mode").locked);
        assert_eq!(find("proxy.mode").value, json!("system"));
        assert!(!find("kubernetes.enabled").locked);
        assert_eq!(find("linuxVM.vpnkitCIDR").value, json!("192.168.65.0/24"));
        assert!(find("enhancedContainerIsolation.dockerSocketMount").locked);
        assert!(find("filesharingAllowedDirectories").locked);
    }

    #[test]
    fn the_extension_is_kept_in_the_document_but_not_in_admin_settings() {
        let policy = Policy::parse(
            br#"{"configurationFileVersion": 2, "x-dockwatch": {"engine": {"require": ["cis-2.2"]}}}"#,
        )
        .unwrap();
        assert!(policy.to_admin_settings().get(EXTENSION_KEY).is_none());
        assert_eq!(
            policy.to_document()[EXTENSION_KEY]["engine"]["require"],
            json!(["cis-2.2"])
        );
        let plain = Policy::parse(br#"{"configurationFileVersion": 2}"#).unwrap();
        assert_ne!(plain.content_hash(), policy.content_hash());
    }
}
