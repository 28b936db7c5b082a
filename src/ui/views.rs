//! Drill-down views stacked over the panes: pods of a row, one pod, its logs, an object's
//! YAML. Opening a view starts its feed; leaving it stops the feed (no watches pile up).

use crossterm::event::{KeyCode, KeyEvent};

use crate::sources::views::{FeedRequest, ViewSpec};
use crate::store::views::{LogBuffer, PodDetail, PodRow};

#[derive(Debug, Clone)]
pub struct View {
    pub id: u64,
    pub spec: ViewSpec,
    /// Where this view was opened from, for the breadcrumb.
    pub crumb: String,
    pub pods: Option<Vec<PodRow>>,
    pub detail: Option<PodDetail>,
    pub log: LogBuffer,
    pub text: Option<String>,
    pub error: Option<String>,
    pub selected: usize,
    /// Lines scrolled up from the bottom (logs) or down from the top (YAML, detail).
    pub scroll: usize,
    pub wrap: bool,
    /// The log line count when paused: the view stays there while lines keep arriving.
    pub paused_at: Option<usize>,
    pub search: String,
    pub searching: bool,
    /// Containers of the pod, for the log container picker.
    pub containers: Vec<String>,
    /// Pod lists: sorted by this column (s cycles).
    pub sort: PodSort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodSort {
    Name,
    Status,
    Restarts,
}

/// Does a pod row pass the list's `/` filter: `-l key=value[,..]` on labels, else a
/// case-insensitive regex (or plain text) on name, status and node, `!` inverting.
pub fn pod_matches(p: &PodRow, filter: &str) -> bool {
    let f = filter.trim();
    if f.is_empty() {
        return true;
    }
    if let Some(sel) = f.strip_prefix("-l").map(str::trim) {
        return sel.split(',').filter(|t| !t.is_empty()).all(|term| match term.split_once("!=") {
            Some((k, v)) => p.labels.get(k.trim()).map(String::as_str) != Some(v.trim()),
            None => match term.split_once('=') {
                Some((k, v)) => p.labels.get(k.trim()).map(String::as_str) == Some(v.trim()),
                None => p.labels.contains_key(term.trim()),
            },
        });
    }
    let (negate, pat) = match f.strip_prefix('!') {
        Some(p) => (true, p),
        None => (false, f),
    };
    let text = format!("{} {} {}", p.name, p.status, p.node);
    let hit = match regex::RegexBuilder::new(pat).case_insensitive(true).build() {
        Ok(re) => re.is_match(&text),
        Err(_) => text.to_lowercase().contains(&pat.to_lowercase()),
    };
    hit != negate
}

impl View {
    /// The pod rows as shown: filtered and sorted.
    pub fn visible_pods(&self) -> Vec<&PodRow> {
        let mut v: Vec<&PodRow> = self.pods.iter().flatten().filter(|p| pod_matches(p, &self.search)).collect();
        match self.sort {
            PodSort::Name => v.sort_by(|a, b| a.name.cmp(&b.name)),
            PodSort::Status => v.sort_by(|a, b| a.status.cmp(&b.status).then(a.name.cmp(&b.name))),
            PodSort::Restarts => v.sort_by(|a, b| b.restarts.cmp(&a.restarts).then(a.name.cmp(&b.name))),
        }
        v
    }
}

impl View {
    pub fn new(id: u64, spec: ViewSpec, crumb: String) -> View {
        View {
            id,
            spec,
            crumb,
            pods: None,
            detail: None,
            log: LogBuffer::default(),
            text: None,
            error: None,
            selected: 0,
            scroll: 0,
            wrap: false,
            paused_at: None,
            search: String::new(),
            searching: false,
            containers: Vec::new(),
            sort: PodSort::Name,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self.spec {
            ViewSpec::Pods { .. } => "pods",
            ViewSpec::Pod { .. } => "pod",
            ViewSpec::Logs { .. } => "logs",
            ViewSpec::Yaml { .. } => "yaml",
        }
    }

    /// The pod this view is about (the selected one in a list).
    pub fn pod(&self) -> Option<(usize, String, String)> {
        match &self.spec {
            ViewSpec::Pods { cluster, namespace, .. } => {
                let p = *self.visible_pods().get(self.selected)?;
                Some((*cluster, namespace.clone(), p.name.clone()))
            }
            ViewSpec::Pod { cluster, namespace, name } => Some((*cluster, namespace.clone(), name.clone())),
            ViewSpec::Logs { cluster, namespace, pod, .. } => Some((*cluster, namespace.clone(), pod.clone())),
            ViewSpec::Yaml { .. } => None,
        }
    }
}

/// What a key does in the top view.
pub enum ViewAction {
    None,
    Redraw,
    Close,
    Open(ViewSpec, String),
    /// Replace the top view's feed (another container, previous logs).
    Reopen(ViewSpec),
}

pub fn on_key(v: &mut View, k: KeyEvent) -> ViewAction {
    if v.searching {
        match k.code {
            KeyCode::Enter => v.searching = false,
            KeyCode::Esc => {
                v.searching = false;
                v.search.clear();
            }
            KeyCode::Backspace => {
                v.search.pop();
            }
            KeyCode::Char(c) => v.search.push(c),
            _ => return ViewAction::None,
        }
        v.selected = 0;
        return ViewAction::Redraw;
    }
    let rows = v.visible_pods().len();
    let pod_spec = |v: &View| v.pod().map(|(cluster, namespace, name)| ViewSpec::Pod { cluster, namespace, name });
    match (k.code, &v.spec) {
        (KeyCode::Esc, _) => return ViewAction::Close,
        (KeyCode::Char('j') | KeyCode::Down, ViewSpec::Pods { .. }) => {
            v.selected = (v.selected + 1).min(rows.saturating_sub(1))
        }
        (KeyCode::Char('k') | KeyCode::Up, ViewSpec::Pods { .. }) => v.selected = v.selected.saturating_sub(1),
        (KeyCode::Char('j') | KeyCode::Down, ViewSpec::Logs { .. }) => v.scroll = v.scroll.saturating_sub(1),
        (KeyCode::Char('k') | KeyCode::Up, ViewSpec::Logs { .. }) => v.scroll = (v.scroll + 1).min(v.log.len()),
        (KeyCode::Char('j') | KeyCode::Down, _) => v.scroll += 1,
        (KeyCode::Char('k') | KeyCode::Up, _) => v.scroll = v.scroll.saturating_sub(1),
        (KeyCode::Char('g'), ViewSpec::Logs { .. }) => v.scroll = v.log.len(),
        (KeyCode::Char('G'), ViewSpec::Logs { .. }) => v.scroll = 0,
        (KeyCode::Char('g'), _) => {
            v.selected = 0;
            v.scroll = 0
        }
        (KeyCode::Char('G'), _) => v.selected = rows.saturating_sub(1),
        (KeyCode::Enter | KeyCode::Char('d'), ViewSpec::Pods { .. }) => {
            if let Some(spec) = pod_spec(v) {
                return ViewAction::Open(spec, "pod".into());
            }
        }
        (KeyCode::Char('l'), ViewSpec::Pods { .. } | ViewSpec::Pod { .. }) => {
            if let Some((cluster, namespace, pod)) = v.pod() {
                let container =
                    v.detail.as_ref().and_then(|d| d.containers.iter().find(|c| !c.init).map(|c| c.name.clone()));
                return ViewAction::Open(
                    ViewSpec::Logs { cluster, namespace, pod, container, previous: false, timestamps: false },
                    "logs".into(),
                );
            }
        }
        (KeyCode::Char('y'), ViewSpec::Pods { .. } | ViewSpec::Pod { .. }) => {
            if let Some((cluster, ns, name)) = v.pod() {
                return ViewAction::Open(
                    ViewSpec::Yaml { cluster, path: format!("/api/v1/namespaces/{ns}/pods/{name}") },
                    "yaml".into(),
                );
            }
        }
        (KeyCode::Char('w'), ViewSpec::Logs { .. } | ViewSpec::Yaml { .. }) => v.wrap = !v.wrap,
        (KeyCode::Char(' '), ViewSpec::Logs { .. }) => {
            v.paused_at = if v.paused_at.is_some() { None } else { Some(v.log.len()) }
        }
        (KeyCode::Char('/'), _) => {
            v.searching = true;
            v.selected = 0;
        }
        (KeyCode::Char('s'), ViewSpec::Pods { .. }) => {
            v.sort = match v.sort {
                PodSort::Name => PodSort::Status,
                PodSort::Status => PodSort::Restarts,
                PodSort::Restarts => PodSort::Name,
            };
            v.selected = 0;
        }
        (KeyCode::Char('p'), ViewSpec::Logs { cluster, namespace, pod, container, previous, timestamps }) => {
            return ViewAction::Reopen(ViewSpec::Logs {
                cluster: *cluster,
                namespace: namespace.clone(),
                pod: pod.clone(),
                container: container.clone(),
                previous: !previous,
                timestamps: *timestamps,
            });
        }
        (KeyCode::Char('T'), ViewSpec::Logs { cluster, namespace, pod, container, previous, timestamps }) => {
            return ViewAction::Reopen(ViewSpec::Logs {
                cluster: *cluster,
                namespace: namespace.clone(),
                pod: pod.clone(),
                container: container.clone(),
                previous: *previous,
                timestamps: !timestamps,
            });
        }
        (KeyCode::Char('c'), ViewSpec::Logs { cluster, namespace, pod, container, previous, timestamps })
            if !v.containers.is_empty() =>
        {
            let i = container
                .as_ref()
                .and_then(|c| v.containers.iter().position(|x| x == c))
                .map_or(0, |i| (i + 1) % v.containers.len());
            return ViewAction::Reopen(ViewSpec::Logs {
                cluster: *cluster,
                namespace: namespace.clone(),
                pod: pod.clone(),
                container: Some(v.containers[i].clone()),
                previous: *previous,
                timestamps: *timestamps,
            });
        }
        _ => return ViewAction::None,
    }
    ViewAction::Redraw
}

pub fn close(feeds: &Option<tokio::sync::mpsc::UnboundedSender<FeedRequest>>, id: u64) {
    if let Some(tx) = feeds {
        let _ = tx.send(FeedRequest::Close { id });
    }
}
