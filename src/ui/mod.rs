//! The TUI: an event loop that owns the fleet state and the view state, and draws only
//! when something visible changed. Nothing here does network IO.

pub mod app;
pub mod command;
pub mod component;
pub mod dialog;
pub mod feeds;
pub mod help;
pub mod keymap;
mod mouse;
pub mod moving;
pub mod panes;
pub mod rules;
pub mod run;
pub mod silence;
pub mod tabs;
pub mod terminal;
pub mod views;
pub mod widgets;

pub use app::{App, Mode};
