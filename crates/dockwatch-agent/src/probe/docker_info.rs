//! `docker info` and `docker version` through the Engine API socket under the root, when one
//! answers. A missing socket is normal (no Engine, or Desktop not running) and says nothing.

use super::{Probe, ProbeContext, warn};
use crate::layout::{DOCKER_SOCKETS, USER_DOCKER_SOCKETS, in_homes};
use dockwatch_core::settings::report::{DockerInfo, MachineReport};
use serde_json::Value;
use std::path::Path;

/// Asks the Engine for `/info` and `/version`.
pub(crate) struct DockerInfoProbe;

impl Probe for DockerInfoProbe {
    fn name(&self) -> &'static str {
        "docker-info"
    }

    fn run(&self, ctx: &ProbeContext, report: &mut MachineReport) {
        let candidates = DOCKER_SOCKETS.iter().map(|s| s.to_string()).chain(
            USER_DOCKER_SOCKETS
                .iter()
                .flat_map(|(homes, inside)| in_homes(&ctx.root, homes, inside)),
        );
        for rel in candidates {
            let socket = ctx.path(&rel);
            if !socket.exists() {
                continue;
            }
            let info = match fetch_json(&socket, "/info") {
                Ok(v) => v,
                Err(message) => {
                    warn(report, self.name(), Some(rel.clone()), message);
                    continue;
                }
            };
            let s = |k: &str| info.get(k).and_then(Value::as_str).map(str::to_string);
            report.engine.info = Some(DockerInfo {
                server_version: s("ServerVersion"),
                operating_system: s("OperatingSystem"),
                kernel_version: s("KernelVersion"),
                live_restore_enabled: info.get("LiveRestoreEnabled").and_then(Value::as_bool),
                security_options: info
                    .get("SecurityOptions")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                experimental_build: info.get("ExperimentalBuild").and_then(Value::as_bool),
                logging_driver: s("LoggingDriver"),
            });
            match fetch_json(&socket, "/version") {
                Ok(version) => {
                    report.desktop_version = version
                        .pointer("/Platform/Name")
                        .and_then(Value::as_str)
                        .filter(|n| n.contains("Desktop"))
                        .map(str::to_string);
                }
                Err(message) => warn(report, self.name(), Some(rel.clone()), message),
            }
            return;
        }
    }
}

/// `GET path` on the Engine API over a unix socket, the JSON body of a 200 answer.
///
/// Written by hand: one GET with HTTP/1.0 (so the Engine closes the connection and sends no
/// chunks) is smaller than bringing hyper's client and a unix connector in.
#[cfg(unix)]
pub fn fetch_json(socket: &Path, path: &str) -> Result<Value, String> {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    let mut stream = UnixStream::connect(socket).map_err(|e| format!("cannot connect: {e}"))?;
    let timeout = Some(Duration::from_secs(5));
    stream
        .set_read_timeout(timeout)
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(timeout)
        .map_err(|e| e.to_string())?;
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: docker\r\nAccept: application/json\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send GET {path}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .take(4 * 1024 * 1024)
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot read the answer to GET {path}: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: not an HTTP answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    if status != "200" {
        return Err(format!("GET {path}: HTTP {status}"));
    }
    let mut body = raw[split + 4..].to_vec();
    if head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.contains("chunked"))
    {
        body = dechunk(&body).ok_or_else(|| format!("GET {path}: bad chunked body"))?;
    }
    serde_json::from_slice(&body).map_err(|e| format!("GET {path}: not JSON: {e}"))
}

#[cfg(not(unix))]
pub fn fetch_json(_socket: &Path, path: &str) -> Result<Value, String> {
    Err(format!(
        "GET {path}: unix sockets are not supported on this platform"
    ))
}

/// Decodes a chunked transfer-encoded body.
#[cfg(unix)]
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_decoded() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
        assert!(dechunk(b"zz\r\n").is_none());
    }
}
