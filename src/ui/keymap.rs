//! Every key kst answers to, in one table: the help screen is generated from it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    Command,
    Copy,
}

pub struct Binding {
    pub keys: &'static str,
    pub action: Action,
    pub help: &'static str,
}

pub const BINDINGS: &[Binding] = &[
    Binding { keys: "1-9 0", action: Action::NextTab, help: "jump to a tab by number" },
    Binding { keys: "Tab / Shift-Tab", action: Action::NextTab, help: "next / previous tab" },
    Binding { keys: "j k ↑ ↓", action: Action::Down, help: "move the selection" },
    Binding { keys: "g G", action: Action::Top, help: "first / last row" },
    Binding { keys: "Enter", action: Action::Select, help: "Overview: focus the cluster; elsewhere: its pods" },
    Binding { keys: "d l y", action: Action::Select, help: "in a pod list or pod: detail, logs, YAML" },
    Binding {
        keys: "c p w space /",
        action: Action::Select,
        help: "in logs: container, previous, wrap, pause, search",
    },
    Binding { keys: "c", action: Action::FocusCluster, help: "focus one cluster / all (cycles)" },
    Binding { keys: "/", action: Action::Filter, help: "filter rows (Enter keeps, Esc clears)" },
    Binding { keys: "s", action: Action::Sort, help: "Agents: sort by cluster, health, restarts, name" },
    Binding { keys: "t", action: Action::Toggle, help: "Agents: turn the agent off / on (asks first)" },
    Binding { keys: "Esc", action: Action::Back, help: "clear focus and filter, close help" },
    Binding { keys: ":", action: Action::Command, help: "command: :agents :kv :ctx NAME :pods NS :q (Tab completes)" },
    Binding { keys: "C", action: Action::Copy, help: "copy the selected name or URL (OSC 52, works over SSH)" },
    Binding { keys: "?", action: Action::Help, help: "this help" },
    Binding { keys: "q Ctrl-C", action: Action::Quit, help: "quit" },
];

pub fn action_for(k: &KeyEvent) -> Option<Action> {
    if k.modifiers.contains(KeyModifiers::CONTROL) {
        return match k.code {
            KeyCode::Char('c') => Some(Action::Quit),
            _ => None,
        };
    }
    Some(match k.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Tab => Action::NextTab,
        KeyCode::BackTab => Action::PrevTab,
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Char('c') => Action::FocusCluster,
        KeyCode::Char('t') => Action::Toggle,
        KeyCode::Char('s') => Action::Sort,
        KeyCode::Char(':') => Action::Command,
        KeyCode::Char('C') => Action::Copy,
        KeyCode::Enter => Action::Select,
        KeyCode::Esc => Action::Back,
        _ => return None,
    })
}
