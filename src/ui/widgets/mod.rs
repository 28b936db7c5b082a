//! Drawing pieces shared by the panes.

pub mod footer;
pub mod header;
pub mod state;
