//! Real peers of the tests (Prometheus, VictoriaMetrics, the official A2A and MCP Python SDK
//! servers), found on the machine or provisioned without root under `target/peers/`.
//!
//! Where a peer cannot be had, the test says so loudly on stderr and returns, unless
//! `KST_REQUIRE_PEERS=1` (set by `.ci/run`, which installs every peer): then it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// One provisioning at a time per test binary (tests run in parallel threads).
static PROVISIONING: Mutex<()> = Mutex::new(());

pub fn required() -> bool {
    std::env::var("KST_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Says loudly that a test is skipped for a missing peer, or fails it when peers are required.
pub fn missing(test: &str, peer: &str, install: &str) {
    let msg = format!("{test}: SKIPPED: the peer {peer} is missing and could not be provisioned under target/peers; install it with `{install}` (or run `bash .ci/run`)");
    if required() {
        panic!("{msg} [KST_REQUIRE_PEERS=1]");
    }
    eprintln!("\n!!!!!! {msg}\n");
}

fn peers_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("peers")
}

fn on_path(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(bin)).find(|p| p.is_file())
}

fn quiet(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// A binary from a Debian package: on the PATH, or the package's files unpacked under
/// `target/peers/<package>` (`apt-get download` + `dpkg-deb -x`, no root needed).
pub fn debian_binary(package: &str, bin: &str) -> Option<PathBuf> {
    if let Some(p) = on_path(bin) {
        return Some(p);
    }
    let root = peers_dir().join(package);
    let unpacked = root.join("usr/bin").join(bin);
    if unpacked.is_file() {
        return Some(unpacked);
    }
    let _one = PROVISIONING.lock().unwrap_or_else(|e| e.into_inner());
    if unpacked.is_file() {
        return Some(unpacked);
    }
    let debs = peers_dir().join("debs");
    std::fs::create_dir_all(&debs).ok()?;
    eprintln!("provisioning {package} under {} (apt-get download, dpkg-deb -x)", root.display());
    if !quiet(Command::new("apt-get").args(["download", package]).current_dir(&debs)) {
        return None;
    }
    let deb = std::fs::read_dir(&debs)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&format!("{package}_"))))?;
    std::fs::create_dir_all(&root).ok()?;
    if !quiet(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root)) {
        return None;
    }
    unpacked.is_file().then_some(unpacked)
}

/// A Python that can import `modules`: the machine's python3, or a venv under
/// `target/peers/venv` into which `packages` (pinned, from PyPI) are installed.
pub fn python_with(modules: &str, packages: &[&str]) -> Option<PathBuf> {
    let imports = |py: &Path| quiet(Command::new(py).args(["-c", &format!("import {modules}")]));
    let system = on_path("python3")?;
    if imports(&system) {
        return Some(system);
    }
    let venv = peers_dir().join("venv");
    let py = venv.join("bin/python");
    let _one = PROVISIONING.lock().unwrap_or_else(|e| e.into_inner());
    if py.is_file() && imports(&py) {
        return Some(py);
    }
    if !py.is_file() {
        eprintln!("provisioning a Python venv for the SDK peers under {}", venv.display());
        if !quiet(Command::new(&system).args(["-m", "venv"]).arg(&venv)) {
            return None;
        }
    }
    eprintln!("installing {packages:?} into {}", venv.display());
    let ok = quiet(
        Command::new(&py).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]).args(packages),
    );
    (ok && imports(&py)).then_some(py)
}

/// The pinned PyPI packages of the SDK peers (the same as `.ci/run` installs).
pub const A2A_PACKAGES: &[&str] = &["a2a-sdk[http-server]==1.3.0", "uvicorn>=0.30"];
pub const MCP_PACKAGES: &[&str] = &["mcp==1.26.0"];
