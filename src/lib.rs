//! kst: a terminal fleet monitor for LLM-d and Kagenti across many Kubernetes clusters.
//!
//! Data flows one way: `sources` (one collector per cluster) -> `store` (the fleet state)
//! -> `ui` (panes). The fleet simulator the demo, the tests and the benchmarks use is the
//! `kst-sim` crate beside this one.

pub mod actions;
pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod durations;
pub mod files;
pub mod logging;
pub mod memory;
pub mod signals;
pub mod snapshot;
pub mod sources;
pub mod store;
pub mod theme;
pub mod ui;

#[cfg(test)]
mod docs_tests {
    /// ARCHITECTURE.md names files and folders (`store/placement/`, `ui/dialog.rs`, relative to
    /// the repository, `src/` or one of its layers): each must exist, so a move or a split that
    /// forgets the map fails here.
    #[test]
    fn every_path_architecture_md_names_exists() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
        // a file with its folder (`ui/dialog.rs`), or a folder two deep (`store/placement/`)
        let path = regex::Regex::new(
            r"(?m)(?:^|[^\w./-])((?:[a-z_0-9]+/)+[a-z_0-9.-]+\.(?:rs|md|sh)|[a-z_0-9]+/(?:[a-z_0-9]+/)+)",
        )
        .expect("regex");
        let mut checked = 0;
        let missing: Vec<String> = path
            .captures_iter(&text)
            .map(|c| c[1].to_string())
            // what a build makes (`target/peers/`) is no source to keep the map of
            .filter(|p| !p.starts_with("target/"))
            .filter(|p| {
                checked += 1;
                !["", "src/", "kst-sim/src/", "src/ui/", "src/store/", "src/sources/"]
                    .iter()
                    .any(|base| root.join(base).join(p).exists())
            })
            .collect();
        assert!(checked > 50, "the paths were read: {checked}");
        assert!(missing.is_empty(), "ARCHITECTURE.md names paths that do not exist: {missing:?}");
    }
}
