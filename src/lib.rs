//! kst: a terminal fleet monitor for LLM-d and Kagenti across many Kubernetes clusters.
//!
//! Data flows one way: `sources` (one collector per cluster) -> `store` (the fleet state)
//! -> `ui` (panes). `sim` is the fleet simulator the demo, the tests and the benchmarks use.

pub mod actions;
pub mod app;
pub mod cli;
pub mod config;
pub mod files;
pub mod logging;
pub mod memory;
pub mod sim;
pub mod snapshot;
pub mod sources;
pub mod store;
pub mod theme;
pub mod ui;
