//! Every key kst answers to, in one table that the config can change (`[keys]`); the help
//! screen is generated from the table in force.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    NextTab,
    PrevTab,
    Up,
    Down,
    Top,
    Bottom,
    Filter,
    FocusCluster,
    Select,
    Back,
    Toggle,
    Sort,
    /// Reverse the sort in force.
    SortReverse,
    /// Overview: group the clusters (by ManagedClusterSet, a label, none).
    GroupBy,
    Command,
    Copy,
    /// Topology: graph or list of edges.
    Layout,
    /// Security: accept the current posture as the baseline.
    AcceptBaseline,
    /// Benchmarks: the platform column to the left / right.
    Left,
    Right,
    /// Benchmark reports: mark a run to compare.
    Mark,
    /// Placement: why each cluster is or is not selected.
    Explain,
    /// Problems: silence the selected problem in Alertmanager.
    Silence,
    /// Placement: what if the policy's cluster selectors were others.
    WhatIf,
    /// Placement: move the policy's workloads from the marked cluster to another, guarded.
    Move,
    HalfPageDown,
    HalfPageUp,
    PageDown,
    PageUp,
}

impl Action {
    /// Moves a selection or a scroll position (every list and text view answers these).
    pub fn is_motion(self) -> bool {
        matches!(
            self,
            Action::Up
                | Action::Down
                | Action::Top
                | Action::Bottom
                | Action::HalfPageDown
                | Action::HalfPageUp
                | Action::PageDown
                | Action::PageUp
        )
    }
}

/// (config name, action, what it does)
pub const ACTIONS: &[(&str, Action, &str)] = &[
    ("next_tab", Action::NextTab, "next tab (1-9, 0 jump to a tab)"),
    ("prev_tab", Action::PrevTab, "previous tab"),
    ("down", Action::Down, "move the selection down"),
    ("up", Action::Up, "move the selection up"),
    ("top", Action::Top, "first row"),
    ("bottom", Action::Bottom, "last row"),
    ("half_page_down", Action::HalfPageDown, "half a page down"),
    ("half_page_up", Action::HalfPageUp, "half a page up"),
    ("page_down", Action::PageDown, "a page down"),
    ("page_up", Action::PageUp, "a page up"),
    (
        "select",
        Action::Select,
        "Overview: focus the cluster; MCP tools: the input schema; elsewhere: open its pods (d l y inside: detail, logs, YAML)",
    ),
    ("focus_cluster", Action::FocusCluster, "focus one cluster / all (cycles)"),
    ("filter", Action::Filter, "filter rows: regex, ! inverts (Enter keeps, Esc clears)"),
    ("command", Action::Command, "command: :agents :kv :ctx [NAME] :pods [NS] :q (Tab completes)"),
    ("sort", Action::Sort, "sort: Agents (health, restarts, name), ML jobs (status, GPUs, age), MCP tools, reports"),
    ("sort_reverse", Action::SortReverse, "Overview: reverse the sort"),
    ("group_by", Action::GroupBy, "Overview: group clusters by ManagedClusterSet, by a label, or not (Enter opens a group)"),
    ("toggle", Action::Toggle, "Agents: turn the agent off / on (asks first)"),
    ("layout", Action::Layout, "Topology: graph / list of the edges; Benchmarks: matrix / reports; GPUs: cost by model / team / namespace / cluster"),
    ("left", Action::Left, "Benchmarks: previous platform column"),
    ("right", Action::Right, "Benchmarks: next platform column"),
    ("mark", Action::Mark, "Benchmark reports: mark a run; Enter on another compares the two"),
    ("explain", Action::Explain, "Placement: why each cluster is or is not selected, term by term"),
    ("what_if", Action::WhatIf, "Placement: what if the policy selected other clusters; Overview: what if the ManagedCluster had other labels (nothing is written)"),
    ("move", Action::Move, "Placement: move the policy's workloads from the marked cluster to another (preflight, RBAC check, confirm; make before break)"),
    ("silence", Action::Silence, "Problems: silence the problem in Alertmanager (asks how long and why, then confirms)"),
    ("accept_baseline", Action::AcceptBaseline, "Security: accept the current posture as the baseline (asks first; not in read-only or kiosk)"),
    ("copy", Action::Copy, "copy the selected name or URL (OSC 52, works over SSH)"),
    ("back", Action::Back, "back, one step: a filter, then the view (or the focus)"),
    ("help", Action::Help, "this help"),
    ("quit", Action::Quit, "quit"),
];

/// Actions shown on one help row: (first, second, what the pair does).
const HELP_PAIRS: &[(Action, Action, &str)] = &[
    (Action::NextTab, Action::PrevTab, "next / previous tab (1-9, 0 jump to a tab)"),
    (Action::Down, Action::Up, "move the selection down / up"),
    (Action::Top, Action::Bottom, "first / last row"),
    (Action::HalfPageDown, Action::HalfPageUp, "half a page down / up"),
    (Action::PageDown, Action::PageUp, "a page down / up"),
    (Action::Left, Action::Right, "Benchmarks: previous / next platform column"),
    (Action::Help, Action::Quit, "this help / quit"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub fn parse(s: &str) -> Result<Key, String> {
        let lower = s.trim().to_ascii_lowercase();
        let (ctrl, rest) = match lower.strip_prefix("ctrl-").or_else(|| lower.strip_prefix("c-")) {
            Some(r) => (true, r.to_string()),
            None => (false, s.trim().to_string()),
        };
        let code = match rest.to_ascii_lowercase().as_str() {
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "enter" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "pgup" | "pageup" => KeyCode::PageUp,
            "space" => KeyCode::Char(' '),
            _ if rest.chars().count() == 1 => KeyCode::Char(rest.chars().next().expect("one char")),
            _ => {
                return Err(format!(
                "unknown key {s:?} (use a character, ctrl-x, tab, enter, esc, up, down, left, right, home, end, space)"
            ))
            }
        };
        Ok(Key { code, ctrl })
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Tab => "Tab".to_string(),
            KeyCode::BackTab => "Shift-Tab".to_string(),
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Esc => "Esc".to_string(),
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::Home => "Home".to_string(),
            KeyCode::End => "End".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            _ => "?".to_string(),
        };
        if self.ctrl {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    keys: Vec<(Key, Action)>,
}

fn k(c: KeyCode) -> Key {
    Key { code: c, ctrl: false }
}

impl Default for Keymap {
    fn default() -> Self {
        let mut keys = Vec::new();
        let c = KeyCode::Char;
        for (key, a) in [
            (k(c('q')), Action::Quit),
            (Key { code: c('c'), ctrl: true }, Action::Quit),
            (k(c('?')), Action::Help),
            (k(KeyCode::Tab), Action::NextTab),
            (k(KeyCode::BackTab), Action::PrevTab),
            (k(c('j')), Action::Down),
            (k(KeyCode::Down), Action::Down),
            (k(c('k')), Action::Up),
            (k(KeyCode::Up), Action::Up),
            (k(c('g')), Action::Top),
            (k(KeyCode::Home), Action::Top),
            (k(c('G')), Action::Bottom),
            (k(KeyCode::End), Action::Bottom),
            (Key { code: c('d'), ctrl: true }, Action::HalfPageDown),
            (Key { code: c('u'), ctrl: true }, Action::HalfPageUp),
            (k(KeyCode::PageDown), Action::PageDown),
            (k(KeyCode::PageUp), Action::PageUp),
            (k(c('/')), Action::Filter),
            (k(c('c')), Action::FocusCluster),
            (k(KeyCode::Enter), Action::Select),
            (k(KeyCode::Esc), Action::Back),
            (k(c('t')), Action::Toggle),
            (k(c('s')), Action::Sort),
            (k(c('S')), Action::SortReverse),
            (k(c('b')), Action::GroupBy),
            (k(c(':')), Action::Command),
            (k(c('v')), Action::Layout),
            (k(c('B')), Action::AcceptBaseline),
            (k(c('h')), Action::Left),
            (k(KeyCode::Left), Action::Left),
            (k(c('l')), Action::Right),
            (k(KeyCode::Right), Action::Right),
            (k(c('m')), Action::Mark),
            (k(c('e')), Action::Explain),
            (k(c('a')), Action::Silence),
            (k(c('w')), Action::WhatIf),
            (k(c('M')), Action::Move),
            (k(c('C')), Action::Copy),
        ] {
            keys.push((key, a));
        }
        Keymap { keys }
    }
}

impl Keymap {
    /// The defaults with the config's `[keys]` applied: each named action gets the keys given
    /// (replacing its defaults). Ctrl-C always quits.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, String> {
        let mut map = Keymap::default();
        for (name, keys) in overrides {
            let action = ACTIONS.iter().find(|(n, _, _)| n == name).map(|(_, a, _)| *a).ok_or_else(|| {
                format!(
                    "keys.{name}: no such action (one of {})",
                    ACTIONS.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
                )
            })?;
            map.keys.retain(|(key, a)| *a != action || (key.ctrl && key.code == KeyCode::Char('c')));
            for s in keys {
                let key = Key::parse(s).map_err(|e| format!("keys.{name}: {e}"))?;
                if let KeyCode::Char(d) = key.code {
                    if d.is_ascii_digit() && !key.ctrl {
                        return Err(format!("keys.{name}: digits jump to tabs and cannot be rebound"));
                    }
                }
                map.keys.retain(|(k, _)| *k != key);
                map.keys.push((key, action));
            }
        }
        Ok(map)
    }

    /// The keys bound to an action now, as the help shows them (`j ↓`).
    pub fn keys_of(&self, a: Action) -> String {
        self.keys.iter().filter(|(_, x)| *x == a).map(|(k, _)| k.label()).collect::<Vec<_>>().join(" ")
    }

    pub fn action_for(&self, e: &KeyEvent) -> Option<Action> {
        let ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        let want = Key { code: e.code, ctrl };
        self.keys.iter().find(|(k, _)| *k == want).map(|(_, a)| *a)
    }

    /// Help rows of the keys that work in every view (the views' own keys come from their
    /// hints): pairs that go together share a row, so the help fits 80x24.
    pub fn global_help_rows(&self) -> Vec<(String, &'static str)> {
        const GLOBAL: &[Action] = &[
            Action::NextTab,
            Action::Down,
            Action::Top,
            Action::HalfPageDown,
            Action::Filter,
            Action::FocusCluster,
            Action::Command,
            Action::Copy,
            Action::Back,
            Action::Help,
        ];
        let keys_of = |a: &Action| self.keys_of(*a);
        GLOBAL
            .iter()
            .map(|a| match (a, HELP_PAIRS.iter().find(|(first, _, _)| first == a)) {
                // paging in one row: half and whole pages
                (Action::HalfPageDown, _) => (
                    format!(
                        "{} {} {} {}",
                        keys_of(&Action::HalfPageDown),
                        keys_of(&Action::HalfPageUp),
                        keys_of(&Action::PageDown),
                        keys_of(&Action::PageUp)
                    ),
                    "half a page / a page, down / up",
                ),
                (_, Some((first, second, text))) => (format!("{} / {}", keys_of(first), keys_of(second)), *text),
                (_, None) => (keys_of(a), ACTIONS.iter().find(|(_, x, _)| x == a).map(|(_, _, w)| *w).unwrap_or("")),
            })
            .collect()
    }

    /// Help rows: the keys bound to each action, in a fixed order.
    /// One row per action, pairs that go together (up/down, next/previous tab, ...) sharing a
    /// row, so the whole table fits a 80x24 terminal.
    pub fn help_rows(&self) -> Vec<(String, &'static str)> {
        let keys_of = |a: &Action| -> String {
            self.keys.iter().filter(|(_, x)| x == a).map(|(k, _)| k.label()).collect::<Vec<_>>().join(" ")
        };
        let mut rows = Vec::new();
        for (_, a, what) in ACTIONS {
            // the second of a pair: its keys are on the first's row
            if HELP_PAIRS.iter().any(|(_, second, _)| second == a) {
                continue;
            }
            match HELP_PAIRS.iter().find(|(first, _, _)| first == a) {
                Some((first, second, text)) => rows.push((format!("{} / {}", keys_of(first), keys_of(second)), *text)),
                None => rows.push((keys_of(a), *what)),
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_an_actions_keys() {
        let mut o = BTreeMap::new();
        o.insert("toggle".to_string(), vec!["x".to_string()]);
        o.insert("quit".to_string(), vec!["ctrl-q".to_string()]);
        let m = Keymap::with_overrides(&o).unwrap();
        let ev = |c: KeyCode, m: KeyModifiers| KeyEvent::new(c, m);
        assert_eq!(m.action_for(&ev(KeyCode::Char('x'), KeyModifiers::NONE)), Some(Action::Toggle));
        assert_eq!(m.action_for(&ev(KeyCode::Char('t'), KeyModifiers::NONE)), None);
        assert_eq!(m.action_for(&ev(KeyCode::Char('q'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(
            m.action_for(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit),
            "Ctrl-C always quits"
        );
        assert_eq!(m.action_for(&ev(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert!(m.help_rows().iter().any(|(k, w)| k == "x" && w.contains("turn the agent")));
        let mut bad = BTreeMap::new();
        bad.insert("frobnicate".to_string(), vec!["z".to_string()]);
        assert!(Keymap::with_overrides(&bad).is_err());
        bad.clear();
        bad.insert("quit".to_string(), vec!["3".to_string()]);
        assert!(Keymap::with_overrides(&bad).is_err());
    }
}
