//! The shape every pane and drill-down view has (after gitui's components): it owns its view
//! state, answers its keys, lists its key hints (the help and the footer are generated from
//! them), says where Enter leads, and draws from the shared, read-only [`Ctx`].
//!
//! `ui/app.rs` only routes: global keys, tabs, the view stack, the command line, dialogs and
//! the kiosk rotation. A new pane is one file under `ui/panes/` plus one line in `panes::all`.

use std::collections::BTreeMap;

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::Frame;

use super::keymap::{Action, Keymap};
use super::Mode;
use crate::sources::views::ViewSpec;
use crate::store::pane::PaneId;
use crate::store::{ClusterState, Fleet};
use crate::theme::Theme;

/// What every component may read: the fleet and the state shared by all panes.
pub struct Ctx<'a> {
    pub fleet: &'a Fleet,
    pub theme: &'a Theme,
    pub mode: Mode,
    /// One cluster shown (index into the fleet), or all.
    pub focus: Option<usize>,
    pub filter: &'a Filter,
    pub aliases: &'a BTreeMap<String, String>,
    pub keymap: &'a Keymap,
    /// Where a view opens and closes its feeds.
    pub feeds: &'a super::feeds::Feeds,
    /// Unix seconds: a fixed clock in tests, the wall clock otherwise.
    pub now: f64,
    /// The port-forwards running (`:pf`).
    pub forwards: &'a [crate::actions::forward::Forward],
    /// Where the user is: `Serving › gpu-us-east/pd pods › pod`.
    pub crumbs: String,
}

impl<'a> Ctx<'a> {
    pub fn now(&self) -> f64 {
        self.now
    }
    /// The fleet's metrics read now (rate window, staleness limits in force).
    pub fn reading(&self) -> crate::store::rates::Reading {
        self.fleet.reading(self.now)
    }
    /// Visible clusters: all, or the focused one.
    pub fn cluster_indices(&self) -> Vec<usize> {
        (0..self.fleet.clusters.len()).filter(|i| self.focus.is_none_or(|f| f == *i)).collect()
    }
    /// Every context with what it holds of KubeStellar, for the placement joins.
    pub fn placement_contexts(&self) -> Vec<(&'a str, &'a crate::store::placement::PlacementCluster)> {
        self.fleet.clusters.iter().map(|c| (c.context.as_str(), &c.placement)).collect()
    }
    pub fn cluster(&self, i: usize) -> &'a ClusterState {
        &self.fleet.clusters[i]
    }
    pub fn display_name(&self, context: &'a str) -> &'a str {
        self.aliases.get(context).map(String::as_str).unwrap_or(context)
    }
    /// `cluster/name`, or `name` alone when one cluster is focused (the prefix says nothing).
    pub fn qualified(&self, cluster: usize, name: &str) -> String {
        if self.focus.is_some() {
            name.to_string()
        } else {
            format!("{}/{name}", self.display_name(&self.fleet.clusters[cluster].context))
        }
    }
    pub fn matches_filter(&self, text: &str) -> bool {
        self.filter.matches(text)
    }
    /// Whether a row passes the filter; its text is only made when there is a filter (lists
    /// of thousands of rows are drawn every frame).
    pub fn keep(&self, text: impl FnOnce() -> String) -> bool {
        self.filter.text.is_empty() || self.filter.matches(&text())
    }
    /// Pools on visible clusters that pass the filter, in cluster order.
    pub fn pools(&self) -> Vec<(usize, &'a crate::store::llmd::PoolInfo)> {
        let fleet = self.fleet;
        self.cluster_indices()
            .into_iter()
            .flat_map(|i| fleet.clusters[i].llmd.pools.iter().map(move |p| (i, p)))
            .filter(|(i, p)| {
                self.keep(|| {
                    let l = &fleet.clusters[*i].llmd;
                    let model = l.pool_model_label(p).unwrap_or_default();
                    format!("{} {} {} {model}", fleet.clusters[*i].context, p.namespace, p.name)
                })
            })
            .collect()
    }
    /// Model servers on visible clusters that pass the filter.
    pub fn servers(&self) -> Vec<(usize, &'a crate::store::llmd::ServerInfo)> {
        let fleet = self.fleet;
        self.cluster_indices()
            .into_iter()
            .flat_map(|i| fleet.clusters[i].llmd.servers.iter().map(move |s| (i, s)))
            .filter(|(i, s)| {
                self.keep(|| {
                    format!(
                        "{} {} {} {}",
                        fleet.clusters[*i].context,
                        s.name,
                        s.pool.as_deref().unwrap_or(""),
                        s.role.label()
                    )
                })
            })
            .collect()
    }
}

/// The `/` filter of the panes: a case-insensitive regular expression (plain text matches as
/// itself), `!` in front keeps the rows that do not match. A pattern that is not a regular
/// expression is reported, not silently matched as nothing.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub text: String,
    re: Option<regex::Regex>,
    pub error: Option<String>,
}

impl Filter {
    pub fn set(&mut self, text: String) {
        self.text = text;
        let pattern = self.text.strip_prefix('!').unwrap_or(&self.text);
        match regex::RegexBuilder::new(pattern).case_insensitive(true).size_limit(1 << 20).build() {
            Ok(re) => {
                self.re = Some(re);
                self.error = None;
            }
            Err(e) => {
                self.re = None;
                // the regex crate's message is several lines; the last says what is wrong
                let why = e.to_string();
                let why = why.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
                self.error = Some(format!("bad filter: {}", why.trim_start_matches("error: ")));
            }
        }
    }
    pub fn clear(&mut self) {
        self.set(String::new());
    }
    /// A key while the filter is typed: Some(true) when typing is done (Enter keeps the
    /// filter, Esc clears it), Some(false) while it goes on, None for keys it does not take.
    pub fn on_key(&mut self, k: KeyEvent) -> Option<bool> {
        use crossterm::event::{KeyCode, KeyModifiers};
        let mut text = self.text.clone();
        let done = match k.code {
            KeyCode::Enter => true,
            KeyCode::Esc => {
                text.clear();
                true
            }
            KeyCode::Backspace => {
                text.pop();
                false
            }
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                text.clear();
                false
            }
            KeyCode::Char(c) => {
                text.push(c);
                false
            }
            _ => return None,
        };
        self.set(text);
        Some(done)
    }
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
    pub fn matches(&self, text: &str) -> bool {
        if self.text.is_empty() {
            return true;
        }
        let negate = self.text.starts_with('!');
        let hit = match &self.re {
            Some(re) => re.is_match(text),
            // a bad pattern matches as plain text, and the footer says it is bad
            None => text.to_lowercase().contains(&self.text.trim_start_matches('!').to_lowercase()),
        };
        hit != negate
    }
}

/// A key a component answers to, for the help and the footer. `action`: the keymap action (its
/// keys come from the keymap in force, so rebinding shows); else `keys` is the label.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    pub action: Option<Action>,
    pub keys: &'static str,
    pub what: &'static str,
    /// The key writes (a cluster object, a file, a shell, a port): read-only and kiosk mode
    /// refuse it, so their footers do not offer it.
    pub write: bool,
    /// Said in the help only: the footer keeps its room for the commoner keys.
    pub help_only: bool,
}

impl Hint {
    pub const fn action(action: Action, what: &'static str) -> Hint {
        Hint { action: Some(action), keys: "", what, write: false, help_only: false }
    }
    pub const fn key(keys: &'static str, what: &'static str) -> Hint {
        Hint { action: None, keys, what, write: false, help_only: false }
    }
    /// A key that writes (see `write`).
    pub const fn writes(self) -> Hint {
        Hint { write: true, ..self }
    }
    /// A key the help lists and the footer does not (see `help_only`).
    pub const fn help_only(self) -> Hint {
        Hint { help_only: true, ..self }
    }
    /// The keys as they are bound now.
    pub fn label(&self, keymap: &Keymap) -> String {
        match self.action {
            Some(a) => keymap.keys_of(a),
            None => self.keys.to_string(),
        }
    }
}

/// A write a component asks for; the App checks the mode, asks the API server and confirms.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Toggle {
        target: crate::actions::ToggleTarget,
        hpa: Option<String>,
    },
    /// A silence in an Alertmanager for a problem (duration and comment asked in the dialog).
    Silence(crate::ui::silence::SilenceAsk),
    /// A shell in a container (checked, confirmed, audited as a write is).
    Shell(crate::actions::ShellTarget),
    /// A port-forward to a pod (checked, confirmed, audited as a write is).
    Forward(crate::actions::ForwardTarget),
    /// A guarded move of a policy's workloads; `cluster` is the WDS's index in the fleet.
    Move {
        cluster: usize,
        plan: Box<crate::store::moving::MovePlan>,
    },
}

/// What a key did.
pub enum Outcome {
    /// Not this component's key: the App may use it.
    Ignored,
    /// Handled; redraw.
    Redraw,
    /// Handled; nothing visible changed.
    Handled,
    /// Open a drill-down view with a feed (pods, a pod, logs, YAML), with its breadcrumb.
    Open(ViewSpec, String),
    /// Push a view that needs no feed (a cell's runs, a schema).
    Push(Box<dyn View>),
    /// Close this view (views only).
    Close,
    /// Show one cluster.
    Focus(usize),
    /// Dial a cluster known only through a hub (through its proxy, when configured).
    Dial { name: String, hub: String },
    /// A write, to be checked and confirmed.
    Write(Write),
    /// A change to kst's own state (a local file, the fleet's derived views); the closure
    /// returns what to tell the user.
    Apply(Box<dyn FnOnce(&mut Fleet) -> String>),
    /// Tell the user something until the next key.
    Flash(String),
    /// Close a port-forward (`:pf`).
    StopForward(u64),
    /// Go to a pane and select the row of `find` there (a problem's source), with the global
    /// filter set to `filter` when one is given.
    Goto { pane: PaneId, context: String, find: crate::store::problems::Find, filter: Option<String> },
}

/// `Any` so a caller that knows the kind can look inside one (`FeedView::of`), without this
/// trait naming the components built on it.
pub trait Component: std::any::Any {
    /// The keys this component answers to, in the order the help lists them.
    fn hints(&self) -> Vec<Hint>;
    /// What the symbols and abbreviations it draws mean (the help lists them).
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
    /// A key; `action` is what the keymap makes of it.
    fn on_key(&mut self, key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome;
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx);
    /// The name (or URL) of what is selected, for `C` (copy with OSC 52).
    fn copy_text(&mut self, _cx: &Ctx) -> Option<String> {
        None
    }
    /// A click on screen row `row`; true when it selected something.
    fn click(&mut self, _row: u16) -> bool {
        false
    }
    /// Typing in progress (a search line): every key goes to the component.
    fn typing(&self) -> bool {
        false
    }
}

/// The groups of the tab bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Fleet,
    LlmD,
    Kagenti,
    KubeStellar,
    /// What the fleet's hardware does and costs.
    Capacity,
}

/// A pane: a tab of its own.
pub trait Pane: Component {
    /// The name `:` commands and tests use ("serving").
    fn id(&self) -> PaneId;
    /// The tab's title ("Serving").
    fn title(&self) -> &'static str;
    /// The title when the tab line is short of room ("Tput").
    fn short_title(&self) -> &'static str {
        self.title()
    }
    fn group(&self) -> Group;
    /// More words `:` answers to ("pools").
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether it has anything of its own to show (a wall screen skips the ones that would
    /// only say "not configured").
    fn has_data(&self, _fleet: &Fleet) -> bool {
        true
    }
    /// Selects the row of `find` (`namespace/name`) on the cluster named `context` (empty:
    /// any), for a jump from a problem; false when this pane cannot.
    fn reveal(&mut self, _context: &str, _find: &crate::store::problems::Find) -> bool {
        false
    }
}

/// A view on the drill-down stack.
pub trait View: Component {
    /// Its part of the breadcrumb.
    fn crumb(&self) -> String;
    /// The feeds that fill it (closed when the view is).
    fn feeds(&self) -> Vec<u64> {
        Vec::new()
    }
    /// Data from one of its feeds.
    fn on_feed(&mut self, _feed: u64, _data: FeedData) -> bool {
        false
    }
}

/// What a feed brings to its view.
pub enum FeedData {
    /// A pod list, and why its CPU and memory are `—` when metrics.k8s.io does not answer.
    Pods(Vec<crate::store::views::PodRow>, Option<String>),
    Objects(Vec<crate::store::views::ObjectRow>),
    Pod(Box<crate::store::views::PodDetail>),
    Log(Vec<String>),
    Text(String),
    Error(String),
}
