//! The UI's handle on the feed manager task: a view opens a feed (a pod list, a pod, its logs,
//! YAML) here and closes it when it goes; the data comes back to the view by the id handed out.

use std::cell::Cell;

use crate::sources::views::{FeedRequest, ViewSpec};

/// Where feeds are opened and closed (the feed manager task); ids are handed out here.
#[derive(Debug, Default)]
pub struct Feeds {
    tx: Option<tokio::sync::mpsc::UnboundedSender<FeedRequest>>,
    next: Cell<u64>,
}

impl Feeds {
    pub fn new(tx: Option<tokio::sync::mpsc::UnboundedSender<FeedRequest>>) -> Feeds {
        Feeds { tx, next: Cell::new(1) }
    }
    pub fn available(&self) -> bool {
        self.tx.is_some()
    }
    /// A cluster dialed after start: drill-downs into it go through its target.
    pub fn add_target(&self, index: usize, target: crate::sources::Target) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(FeedRequest::AddTarget { index, target });
        }
    }
    /// Starts a feed; its updates carry the id returned.
    pub fn open(&self, spec: &ViewSpec) -> u64 {
        let id = self.next.get();
        self.next.set(id + 1);
        if let Some(tx) = &self.tx {
            let _ = tx.send(FeedRequest::Open { id, spec: spec.clone() });
        }
        id
    }
    pub fn close(&self, id: u64) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(FeedRequest::Close { id });
        }
    }
}
