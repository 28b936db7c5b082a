//! Writes: the agent on/off toggle. The UI asks, this task checks with the API server
//! (SelfSubjectAccessReview) before offering the change, applies it only after the user
//! confirmed, and writes every attempt to the audit file. Results come back as `Update`s;
//! the new replica count itself arrives through the watch, not by guessing.

pub mod audit;
pub mod toggle;

pub use toggle::{start, ActionRequest, ToggleTarget};
