//! Drawing pieces shared by the panes.

pub mod detail;
pub mod fmt;
pub mod footer;
pub mod state;
pub mod table;
pub mod trend;
