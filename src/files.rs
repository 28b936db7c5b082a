//! kst's own files (build history, posture baselines, the GitHub cache, the last matrix) and
//! the folders they live in.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

/// Set once kst stops writing files (a demo removing its folder on the way out). A write holds
/// it for reading from its check to its rename, so a write either ends before the folder is
/// removed or does not start: a cache writer still running cannot bring the folder back.
static STOPPED: RwLock<bool> = RwLock::new(false);

/// No file is written after this (writes in flight end first).
pub fn stop_writing() {
    *STOPPED.write().unwrap_or_else(|e| e.into_inner()) = true;
}

/// Writes `bytes` whole or not at all: a temporary file beside `path` (named for this process
/// and this write, so two writers never share one), then a rename. Refused once
/// `stop_writing` was called.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static N: AtomicU64 = AtomicU64::new(0);
    let stopped = STOPPED.read().unwrap_or_else(|e| e.into_inner());
    if *stopped {
        return Err(std::io::Error::other("kst is exiting: no more files written"));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("kst");
    let tmp = path.with_file_name(format!(".{name}.{}.{}.tmp", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// A context name as a file-name part: letters, digits, `-` and `_`; anything else becomes `_`.
pub fn safe_name(context: &str) -> String {
    context.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// kst's folders as the platform names them (`dev.kst.kst`).
pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "kst", "kst")
}

pub fn default_config_path() -> PathBuf {
    project_dirs().map(|d| d.config_dir().join("config.toml")).unwrap_or_else(|| PathBuf::from("kst.toml"))
}

pub fn config_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().to_path_buf())
}

/// Where logs and the audit file go: the state dir where the platform has one, else the cache dir.
pub fn state_dir() -> PathBuf {
    // KST_STATE_DIR: a place of its own (tests, a second instance)
    if let Some(d) = std::env::var_os("KST_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    project_dirs()
        .map(|d| d.state_dir().unwrap_or_else(|| d.cache_dir()).to_path_buf())
        .unwrap_or_else(std::env::temp_dir)
}

/// Where kst caches what it fetched (GitHub answers, the last nightly matrix).
pub fn cache_dir() -> PathBuf {
    project_dirs().map(|d| d.cache_dir().to_path_buf()).unwrap_or_else(|| std::env::temp_dir().join("kst-cache"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_names_safely() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/f.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1, "no temporary file left");
        assert_eq!(safe_name("gke_prod/us-east1:inference"), "gke_prod_us-east1_inference");
    }
}
