//! Drill-down views stacked over the panes: pods of a row, one pod, its logs, an object's
//! YAML (each filled by a feed: opening a view starts its feed, leaving it stops it, so no
//! watches pile up), and text views that need no feed (a tool's schema).

mod draw;
mod fleet_pods;
mod forwards;
mod moving;
mod objects;
mod whatif;

pub use fleet_pods::FleetPods;
pub use forwards::PortForwards;
pub use moving::MoveView;
pub use objects::ObjectsView;
pub use whatif::{LabelsWhatIfView, WhatIfView};

use std::cell::Cell;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::Frame;

use super::component::{Component, Ctx, FeedData, Hint, Outcome, View};
use super::keymap::Action;
use crate::sources::views::ViewSpec;
use crate::store::views::{LogBuffer, PodDetail, PodRow};

/// A view filled by a feed: a pod list, a pod, its logs, or YAML.
#[derive(Debug, Clone)]
pub struct FeedView {
    pub id: u64,
    pub spec: ViewSpec,
    /// Where this view was opened from, for the breadcrumb.
    pub crumb: String,
    pub pods: Option<Vec<PodRow>>,
    /// Why CPU and memory are `—` (metrics.k8s.io does not answer), said in the title.
    pub no_usage: Option<String>,
    pub detail: Option<PodDetail>,
    pub log: LogBuffer,
    pub text: Option<String>,
    pub error: Option<String>,
    pub selected: usize,
    /// Lines scrolled up from the bottom (logs) or down from the top (YAML, detail).
    pub scroll: usize,
    /// Lines of the text at the last draw and the room for them (scrolling stops at the end).
    lines: Cell<usize>,
    page: Cell<usize>,
    pub wrap: bool,
    /// The log line count when paused: the view stays there while lines keep arriving.
    pub paused_at: Option<usize>,
    pub search: String,
    pub searching: bool,
    /// Logs: the line `n`/`N` went to (counted from the first line ever received, dropped ones
    /// included); while set, every line is shown
    /// around it instead of only the matching ones (Esc returns to the filter).
    pub log_match: Option<usize>,
    /// Containers of the pod, for the log container picker.
    pub containers: Vec<String>,
    /// The ports the pod declares (from its list row), for a port-forward from its view.
    pub ports: Vec<u16>,
    /// Pod lists: sorted by this column (S cycles).
    pub sort: PodSort,
    /// Where the pod table was drawn (mouse clicks).
    pub first_row: Cell<u16>,
    pub offset: Cell<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodSort {
    Name,
    Status,
    Restarts,
    /// Highest CPU first (pods without a figure last).
    Cpu,
    /// Highest memory first.
    Memory,
}

impl PodSort {
    /// The order `s` moves to.
    pub fn next(self) -> PodSort {
        match self {
            PodSort::Name => PodSort::Status,
            PodSort::Status => PodSort::Restarts,
            PodSort::Restarts => PodSort::Cpu,
            PodSort::Cpu => PodSort::Memory,
            PodSort::Memory => PodSort::Name,
        }
    }

    /// Two pods in this order (the name breaks ties where the caller wants).
    pub fn compare(self, a: &PodRow, b: &PodRow) -> std::cmp::Ordering {
        let usage = |p: &PodRow, f: fn(&crate::store::views::PodUsage) -> f64| p.usage.as_ref().map(f);
        let high_first = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        match self {
            PodSort::Name => a.name.cmp(&b.name),
            PodSort::Status => a.status.cmp(&b.status),
            PodSort::Restarts => b.restarts.cmp(&a.restarts),
            PodSort::Cpu => high_first(usage(a, |u| u.cpu), usage(b, |u| u.cpu)),
            PodSort::Memory => high_first(usage(a, |u| u.memory), usage(b, |u| u.memory)),
        }
    }

    /// The table column marked, `first` being READY's index, and whether it runs downward.
    pub fn column(self, first: usize) -> (usize, bool) {
        match self {
            PodSort::Name => (first - 1, false),
            PodSort::Status => (first + 1, false),
            PodSort::Restarts => (first + 2, true),
            PodSort::Cpu => (first + 3, true),
            PodSort::Memory => (first + 4, true),
        }
    }
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

impl FeedView {
    pub fn new(id: u64, spec: ViewSpec, crumb: String) -> FeedView {
        FeedView {
            id,
            spec,
            crumb,
            pods: None,
            no_usage: None,
            detail: None,
            log: LogBuffer::default(),
            text: None,
            error: None,
            selected: 0,
            scroll: 0,
            lines: Cell::new(0),
            page: Cell::new(20),
            wrap: false,
            paused_at: None,
            search: String::new(),
            searching: false,
            log_match: None,
            containers: Vec::new(),
            ports: Vec::new(),
            sort: PodSort::Name,
            first_row: Cell::new(0),
            offset: Cell::new(0),
        }
    }

    /// Opens a view and its feed.
    /// The pod/log/YAML view a component is, if it is one (tests look inside).
    pub fn of(c: &dyn Component) -> Option<&FeedView> {
        (c as &dyn std::any::Any).downcast_ref()
    }
    pub fn of_mut(c: &mut dyn Component) -> Option<&mut FeedView> {
        (c as &mut dyn std::any::Any).downcast_mut()
    }
    pub fn open(feeds: &crate::ui::feeds::Feeds, spec: ViewSpec, crumb: String) -> FeedView {
        let id = feeds.open(&spec);
        FeedView::new(id, spec, crumb)
    }

    pub fn kind(&self) -> &'static str {
        match self.spec {
            ViewSpec::Pods { .. } => "pods",
            ViewSpec::Pod { .. } => "pod",
            ViewSpec::Logs { .. } => "logs",
            ViewSpec::Yaml { .. } => "yaml",
            ViewSpec::Objects { .. } => "objects",
            ViewSpec::Query { .. } => "promql",
        }
    }

    /// The pod rows as shown: filtered and sorted.
    pub fn visible_pods(&self) -> Vec<&PodRow> {
        let mut v: Vec<&PodRow> = self.pods.iter().flatten().filter(|p| pod_matches(p, &self.search)).collect();
        v.sort_by(|a, b| self.sort.compare(a, b).then(a.name.cmp(&b.name)));
        v
    }

    /// The pod this view is about (the selected one in a list).
    pub fn pod(&self) -> Option<(usize, String, String)> {
        match &self.spec {
            ViewSpec::Pods { cluster, .. } => {
                let p = *self.visible_pods().get(self.selected)?;
                Some((*cluster, p.namespace.clone(), p.name.clone()))
            }
            ViewSpec::Pod { cluster, namespace, name } => Some((*cluster, namespace.clone(), name.clone())),
            ViewSpec::Logs { cluster, namespace, pod, .. } => Some((*cluster, namespace.clone(), pod.clone())),
            ViewSpec::Yaml { .. } | ViewSpec::Objects { .. } | ViewSpec::Query { .. } => None,
        }
    }

    /// The pod and containers a shell can be opened in from here: the selected pod of a list
    /// (kubectl's default container first), the pod shown, or the container whose logs these are.
    fn shell_target(&self) -> Option<crate::actions::ShellTarget> {
        let (cluster, namespace, pod) = self.pod()?;
        let mut containers = match (&self.spec, &self.detail) {
            (ViewSpec::Pods { .. }, _) => self.visible_pods().get(self.selected)?.containers.clone(),
            (_, Some(d)) => d.containers.iter().filter(|c| !c.init).map(|c| c.name.clone()).collect(),
            (_, None) => self.containers.clone(),
        };
        if let ViewSpec::Logs { container: Some(c), .. } = &self.spec {
            containers.retain(|x| x != c);
            containers.insert(0, c.clone());
        }
        let container = containers.first()?.clone();
        Some(crate::actions::ShellTarget { cluster, namespace, pod, containers, container })
    }

    /// The pod and ports a port-forward can reach from here: the selected pod of a list, or the
    /// pod shown (its ports as its list row had them).
    fn forward_target(&self) -> Option<crate::actions::ForwardTarget> {
        let (cluster, namespace, pod) = self.pod()?;
        let ports = match &self.spec {
            ViewSpec::Pods { .. } => self.visible_pods().get(self.selected)?.ports.clone(),
            _ => self.ports.clone(),
        };
        let port = *ports.first()?;
        Some(crate::actions::ForwardTarget { cluster, namespace, pod, ports, port })
    }

    /// A child view (pod, logs, YAML) with its feed; the logs know the pod's containers.
    fn child(&self, cx: &Ctx, spec: ViewSpec, crumb: &str) -> Outcome {
        let mut v = FeedView::open(cx.feeds, spec, crumb.to_string());
        v.containers = match &self.detail {
            Some(d) => d.containers.iter().filter(|c| !c.init).map(|c| c.name.clone()).collect(),
            None => self.containers.clone(),
        };
        v.ports = match &self.spec {
            ViewSpec::Pods { .. } => {
                self.visible_pods().get(self.selected).map(|p| p.ports.clone()).unwrap_or_default()
            }
            _ => self.ports.clone(),
        };
        Outcome::Push(Box::new(v))
    }

    /// Another feed for the same view (another container, the previous one, timestamps).
    fn refeed(&mut self, cx: &Ctx, spec: ViewSpec) -> Outcome {
        cx.feeds.close(self.id);
        self.id = cx.feeds.open(&spec);
        self.spec = spec;
        self.log = LogBuffer::default();
        self.error = None;
        self.scroll = 0;
        self.paused_at = None;
        Outcome::Redraw
    }

    /// Logs: `n` (newer) or `N` (older) goes to the next line holding the search text and
    /// shows it among every line around it, as less does; the first goes to the newest.
    fn next_match(&mut self, newer: bool) -> Outcome {
        if self.search.is_empty() {
            return Outcome::Flash("/ a text first: n and N go to its next and previous line".into());
        }
        let shown = self.paused_at.unwrap_or(self.log.len()).min(self.log.len());
        // lines counted from the first ever received, so a match stays put as old lines drop
        let first = self.log.dropped as usize;
        let matches: Vec<usize> = self
            .log
            .iter()
            .take(shown)
            .enumerate()
            .filter(|(_, l)| l.contains(self.search.as_str()))
            .map(|(i, _)| first + i)
            .collect();
        let Some(&newest) = matches.last() else {
            return Outcome::Flash(format!("no line holds {:?}", self.search));
        };
        let at = match self.log_match {
            None => newest,
            Some(cur) if newer => match matches.iter().find(|&&i| i > cur) {
                Some(&i) => i,
                None => return Outcome::Flash("the newest match: N goes to older ones".into()),
            },
            Some(cur) => match matches.iter().rev().find(|&&i| i < cur) {
                Some(&i) => i,
                None => return Outcome::Flash("the oldest match: n goes to newer ones".into()),
            },
        };
        self.log_match = Some(at);
        // the match in the middle of the view; scroll counts lines up from the newest
        let half = self.page.get().max(1) / 2;
        self.scroll = shown.saturating_sub(at - first + half + 1);
        Outcome::Redraw
    }

    /// Scrolling text (pod detail, YAML) stops at its end; logs count up from the bottom.
    fn max_scroll(&self) -> usize {
        self.lines.get().saturating_sub(self.page.get())
    }

    fn motion(&mut self, a: Action) -> bool {
        let page = self.page.get().max(1);
        let rows = self.visible_pods().len();
        match (&self.spec, a) {
            (ViewSpec::Pods { .. }, a) => {
                let i = match a {
                    Action::Down => self.selected + 1,
                    Action::Up => self.selected.saturating_sub(1),
                    Action::Top => 0,
                    Action::Bottom => rows.saturating_sub(1),
                    Action::HalfPageDown => self.selected + page / 2,
                    Action::HalfPageUp => self.selected.saturating_sub(page / 2),
                    Action::PageDown => self.selected + page,
                    Action::PageUp => self.selected.saturating_sub(page),
                    _ => return false,
                };
                self.selected = i.min(rows.saturating_sub(1));
            }
            (ViewSpec::Logs { .. }, a) => {
                // scroll counts lines up from the newest
                let max = self.log.len();
                self.scroll = match a {
                    Action::Down => self.scroll.saturating_sub(1),
                    Action::Up => (self.scroll + 1).min(max),
                    Action::Top => max,
                    Action::Bottom => 0,
                    Action::HalfPageDown => self.scroll.saturating_sub(page / 2),
                    Action::HalfPageUp => (self.scroll + page / 2).min(max),
                    Action::PageDown => self.scroll.saturating_sub(page),
                    Action::PageUp => (self.scroll + page).min(max),
                    _ => return false,
                };
            }
            (_, a) => {
                let max = self.max_scroll();
                self.scroll = match a {
                    Action::Down => self.scroll + 1,
                    Action::Up => self.scroll.saturating_sub(1),
                    Action::Top => 0,
                    Action::Bottom => max,
                    Action::HalfPageDown => self.scroll + page / 2,
                    Action::HalfPageUp => self.scroll.saturating_sub(page / 2),
                    Action::PageDown => self.scroll + page,
                    Action::PageUp => self.scroll.saturating_sub(page),
                    _ => return false,
                }
                .min(max);
            }
        }
        true
    }
}

impl View for FeedView {
    fn crumb(&self) -> String {
        self.crumb.clone()
    }
    fn feeds(&self) -> Vec<u64> {
        vec![self.id]
    }
    fn on_feed(&mut self, _feed: u64, data: FeedData) -> bool {
        match data {
            FeedData::Pods(p, no_usage) => {
                self.pods = Some(p);
                self.no_usage = no_usage;
            }
            FeedData::Pod(d) => self.detail = Some(*d),
            FeedData::Log(lines) => {
                for l in lines {
                    self.log.push(l);
                }
                self.error = None;
            }
            FeedData::Text(t) => self.text = Some(t),
            FeedData::Error(e) => self.error = Some(e),
            // deployments and namespaces have their own view (ObjectsView)
            FeedData::Objects(_) => return false,
        }
        true
    }
}

impl Component for FeedView {
    fn hints(&self) -> Vec<Hint> {
        match self.spec {
            ViewSpec::Pods { .. } => vec![
                Hint::key("Enter d", "the pod: containers, conditions, events"),
                Hint::key("l", "the pod's logs"),
                Hint::key("y", "the pod's YAML (Secrets' values are never shown)"),
                Hint::key("/", "filter: regex, ! inverts, -l key=value on labels"),
                Hint::key("s", "shell: kubectl exec into the pod, permission checked first, audited").writes(),
                Hint::key("F", "forward: a local port to one of the pod's (listed in :pf)").writes(),
                Hint::key("S", "sort: name, status, restarts, CPU, memory"),
            ],
            ViewSpec::Pod { .. } => {
                vec![
                    Hint::key("l", "logs"),
                    Hint::key("y", "YAML"),
                    Hint::key("s", "shell: kubectl exec into the pod").writes(),
                    Hint::key("F", "forward: a local port to one of the pod's (listed in :pf)").writes(),
                ]
            }
            ViewSpec::Logs { .. } => vec![
                Hint::key("c", "next container"),
                Hint::key("p", "the previous container's logs"),
                Hint::key("T", "timestamps on / off"),
                Hint::key("space", "pause / follow"),
                Hint::key("w", "wrap long lines"),
                Hint::key("/", "only the lines holding a text (highlighted; Esc clears)"),
                Hint::key("n N", "the next newer / older line holding it, among every line (Esc: only them)"),
                Hint::key("g G", "oldest line / follow the newest"),
                Hint::key("s", "shell: kubectl exec into this container").writes(),
            ],
            ViewSpec::Yaml { .. } | ViewSpec::Query { .. } => {
                vec![Hint::key("/", "highlight a text"), Hint::key("w", "wrap long lines")]
            }
            ViewSpec::Objects { .. } => Vec::new(),
        }
    }

    fn typing(&self) -> bool {
        self.searching
    }

    fn on_key(&mut self, k: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        if self.searching {
            if !search_line_key(&mut self.searching, &mut self.search, &k) {
                return Outcome::Handled;
            }
            self.selected = 0;
            return Outcome::Redraw;
        }
        // the log and pod keys are letters the panes use otherwise; they win here
        let code = match k.code {
            KeyCode::Char(c) if !k.modifiers.contains(crossterm::event::KeyModifiers::CONTROL) => Some(c),
            _ => None,
        };
        match (code, &self.spec) {
            (Some('d'), ViewSpec::Pods { .. }) => {}
            (Some('l'), ViewSpec::Pods { .. } | ViewSpec::Pod { .. }) => {
                if let Some((cluster, namespace, pod)) = self.pod() {
                    let container = self
                        .detail
                        .as_ref()
                        .and_then(|d| d.containers.iter().find(|c| !c.init).map(|c| c.name.clone()));
                    let spec =
                        ViewSpec::Logs { cluster, namespace, pod, container, previous: false, timestamps: false };
                    return self.child(cx, spec, "logs");
                }
                return Outcome::Handled;
            }
            (Some('y'), ViewSpec::Pods { .. } | ViewSpec::Pod { .. }) => {
                if let Some((cluster, ns, name)) = self.pod() {
                    let spec = ViewSpec::Yaml { cluster, path: format!("/api/v1/namespaces/{ns}/pods/{name}") };
                    return self.child(cx, spec, "yaml");
                }
                return Outcome::Handled;
            }
            (Some('w'), ViewSpec::Logs { .. } | ViewSpec::Yaml { .. } | ViewSpec::Query { .. }) => {
                self.wrap = !self.wrap;
                return Outcome::Redraw;
            }
            (Some(' '), ViewSpec::Logs { .. }) => {
                self.paused_at = if self.paused_at.is_some() { None } else { Some(self.log.len()) };
                return Outcome::Redraw;
            }
            (Some('/'), _) => {
                self.searching = true;
                self.selected = 0;
                self.log_match = None;
                return Outcome::Redraw;
            }
            (Some(c @ ('n' | 'N')), ViewSpec::Logs { .. }) => return self.next_match(c == 'n'),
            (Some('s'), ViewSpec::Pods { .. } | ViewSpec::Pod { .. } | ViewSpec::Logs { .. }) => {
                return match self.shell_target() {
                    Some(t) => Outcome::Write(crate::ui::component::Write::Shell(t)),
                    None => Outcome::Flash("no container to open a shell in".into()),
                };
            }
            (Some('F'), ViewSpec::Pods { .. } | ViewSpec::Pod { .. }) => {
                return match self.forward_target() {
                    Some(t) => Outcome::Write(crate::ui::component::Write::Forward(t)),
                    None => Outcome::Flash("the pod declares no port to forward".into()),
                };
            }
            (Some('S'), ViewSpec::Pods { .. }) => {
                self.sort = self.sort.next();
                self.selected = 0;
                return Outcome::Redraw;
            }
            (Some('p'), ViewSpec::Logs { cluster, namespace, pod, container, previous, timestamps }) => {
                let spec = ViewSpec::Logs {
                    cluster: *cluster,
                    namespace: namespace.clone(),
                    pod: pod.clone(),
                    container: container.clone(),
                    previous: !previous,
                    timestamps: *timestamps,
                };
                return self.refeed(cx, spec);
            }
            (Some('T'), ViewSpec::Logs { cluster, namespace, pod, container, previous, timestamps }) => {
                let spec = ViewSpec::Logs {
                    cluster: *cluster,
                    namespace: namespace.clone(),
                    pod: pod.clone(),
                    container: container.clone(),
                    previous: *previous,
                    timestamps: !timestamps,
                };
                return self.refeed(cx, spec);
            }
            (Some('c'), ViewSpec::Logs { cluster, namespace, pod, container, previous, timestamps })
                if !self.containers.is_empty() =>
            {
                let i = container
                    .as_ref()
                    .and_then(|c| self.containers.iter().position(|x| x == c))
                    .map_or(0, |i| (i + 1) % self.containers.len());
                let spec = ViewSpec::Logs {
                    cluster: *cluster,
                    namespace: namespace.clone(),
                    pod: pod.clone(),
                    container: Some(self.containers[i].clone()),
                    previous: *previous,
                    timestamps: *timestamps,
                };
                return self.refeed(cx, spec);
            }
            _ => {}
        }
        let enter = matches!(k.code, KeyCode::Enter) || code == Some('d');
        if enter {
            if let (ViewSpec::Pods { .. }, Some((cluster, namespace, name))) = (&self.spec, self.pod()) {
                return self.child(cx, ViewSpec::Pod { cluster, namespace, name }, "pod");
            }
            return Outcome::Handled;
        }
        match action {
            // Esc clears a filter first, then closes (as k9s does)
            // from the lines around a match back to only the matching lines, then no filter
            Some(Action::Back) if self.log_match.is_some() => {
                self.log_match = None;
                self.scroll = 0;
                Outcome::Redraw
            }
            Some(Action::Back) if !self.search.is_empty() => {
                self.search.clear();
                Outcome::Redraw
            }
            Some(Action::Back) => Outcome::Close,
            Some(a) if a.is_motion() => {
                self.motion(a);
                Outcome::Redraw
            }
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, _cx: &Ctx) -> Option<String> {
        self.pod().map(|p| p.2)
    }

    fn click(&mut self, row: u16) -> bool {
        if !matches!(self.spec, ViewSpec::Pods { .. }) {
            return false;
        }
        let Some(on_screen) = row.checked_sub(self.first_row.get()) else { return false };
        let i = self.offset.get() + on_screen as usize;
        if on_screen as usize >= self.page.get() || i >= self.visible_pods().len() {
            return false;
        }
        self.selected = i;
        true
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        draw::feed_view(f, area, cx, self)
    }
}

/// Text that needs no feed (a tool's input schema): scrolls, pages, stops at its end.
pub struct TextView {
    title: String,
    text: String,
    scroll: usize,
    page: usize,
}

impl TextView {
    pub fn new(title: String, text: String) -> TextView {
        TextView { title, text, scroll: 0, page: 20 }
    }
}

impl View for TextView {
    fn crumb(&self) -> String {
        self.title.clone()
    }
}

impl Component for TextView {
    fn hints(&self) -> Vec<Hint> {
        vec![Hint::action(Action::Back, "back")]
    }
    fn on_key(&mut self, _k: KeyEvent, action: Option<Action>, _cx: &Ctx) -> Outcome {
        let max = self.text.lines().count().saturating_sub(self.page);
        let page = self.page.max(2);
        self.scroll = match action {
            Some(Action::Back) => return Outcome::Close,
            Some(Action::Down) => self.scroll + 1,
            Some(Action::Up) => self.scroll.saturating_sub(1),
            Some(Action::Top) => 0,
            Some(Action::Bottom) => max,
            Some(Action::HalfPageDown) => self.scroll + page / 2,
            Some(Action::HalfPageUp) => self.scroll.saturating_sub(page / 2),
            Some(Action::PageDown) => self.scroll + page,
            Some(Action::PageUp) => self.scroll.saturating_sub(page),
            _ => return Outcome::Ignored,
        }
        .min(max);
        Outcome::Redraw
    }
    fn copy_text(&mut self, _cx: &Ctx) -> Option<String> {
        Some(self.text.clone())
    }
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        self.page = area.height.saturating_sub(2) as usize;
        draw::text_view(f, area, cx, &self.text, self.scroll)
    }
}

/// A key while a view's search line is open: Enter keeps the text, Esc clears it, Backspace and
/// characters edit it. False for a key the line does not take (nothing changed).
pub(crate) fn search_line_key(searching: &mut bool, search: &mut String, k: &KeyEvent) -> bool {
    match k.code {
        KeyCode::Enter => *searching = false,
        KeyCode::Esc => {
            *searching = false;
            search.clear();
        }
        KeyCode::Backspace => {
            search.pop();
        }
        KeyCode::Char(c) => search.push(c),
        _ => return false,
    }
    true
}
