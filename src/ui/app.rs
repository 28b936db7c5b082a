//! The App routes: global keys, the tabs, the view stack, the command line, the write dialog
//! and the kiosk rotation. What a pane shows and how it answers its keys is the pane's own
//! business (ui/panes/*, each a [`Pane`]); the drill-down views are [`View`]s on the stack.

use std::collections::BTreeMap;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::text::Span;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub mod header;
pub mod kiosk;
mod outcome;

use super::component::{Component, Ctx, FeedData, Filter, Outcome, Pane, View};
use super::dialog::Writes;
use super::feeds::Feeds;
use super::keymap::{Action, Keymap};
use super::views::FeedView;
use super::{help, panes, widgets};
use crate::store::pane::PaneId;
use crate::store::{Fleet, Update};
use crate::theme::Theme;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// At most this many frames a second, however fast updates arrive.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(50);
/// The shortest time between two frames that only new data asked for (no key, no resize).
pub const DATA_FRAME_INTERVAL: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    ReadOnly,
    Kiosk,
}

pub struct App {
    pub fleet: Fleet,
    pub theme: Theme,
    pub mode: Mode,
    pub panes: Vec<Box<dyn Pane>>,
    /// The pane shown (index into `panes`).
    pub tab: usize,
    /// Drill-down views over the pane, innermost last.
    pub views: Vec<Box<dyn View>>,
    /// A command (`:pods`, `:deploy`, `:promql`) opened the views: their breadcrumbs do not
    /// start at the tab it was typed on (the views do not belong to it).
    pub views_by_command: bool,
    /// Show one cluster only (index into the fleet).
    pub focus: Option<usize>,
    pub filter: Filter,
    pub filter_editing: bool,
    pub show_help: bool,
    /// The help's first line shown, and (from its last drawing) a page's lines and the most
    /// it can scroll.
    pub help_scroll: usize,
    /// `/` in the help: what it is narrowed to, and whether it is being typed.
    pub help_find: Option<String>,
    pub help_typing: bool,
    help_page: (usize, usize),
    pub quit: bool,
    pub aliases: BTreeMap<String, String>,
    /// Metric polling interval.
    pub refresh: Duration,
    /// A fixed "now" (unix seconds) for reproducible drawings; None: the wall clock.
    pub clock: Option<f64>,
    pub writes: Writes,
    /// A one-line message (a write's result, a refusal) until the next key.
    pub flash: Option<String>,
    /// The `:` prompt while it is open, and the history kept between prompts.
    pub prompt: Option<super::command::Prompt>,
    pub(super) history: Vec<String>,
    /// Text to put on the clipboard with OSC 52 at the next frame (works over SSH).
    pub pending_copy: Option<String>,
    /// Ctrl-Z was pressed: the loop gives the terminal back and stops the process.
    pub suspend: bool,
    pub keymap: Keymap,
    /// Mouse events are taken only when the config asks (text selection keeps working otherwise).
    pub mouse: bool,
    /// Where the problems are kept across restarts (None: not kept), and the generation and
    /// time of the last write.
    pub problems_file: Option<std::path::PathBuf>,
    pub kept_problems: Option<(u64, f64)>,
    /// Where drill-down feeds are opened and closed.
    pub feeds: Feeds,
    /// Dials clusters known only through a hub, when `[fleet] cluster_proxy` says how.
    pub dialer: Option<crate::sources::connect::Dialer>,
    /// Contexts not dialed at start (`[fleet] dial = "focus"`), dialed when first focused.
    pub undialed: BTreeMap<usize, crate::sources::Target>,
    /// Where a context's collector is started when it is dialed.
    pub context_dialer: Option<tokio::sync::mpsc::UnboundedSender<(usize, crate::sources::Target)>>,
    /// The wall screen's state, in kiosk mode.
    pub wall: Option<kiosk::Wall>,
}

impl App {
    pub fn new(fleet: Fleet, mut theme: Theme, mode: Mode) -> App {
        // a wall screen highlights no row: nobody is there to move a selection
        if mode == Mode::Kiosk {
            theme.selection = theme.text;
        }
        App {
            fleet,
            theme,
            mode,
            panes: panes::all(),
            tab: 0,
            views: Vec::new(),
            views_by_command: false,
            focus: None,
            filter: Filter::default(),
            filter_editing: false,
            show_help: false,
            help_scroll: 0,
            help_find: None,
            help_typing: false,
            help_page: (1, 0),
            quit: false,
            aliases: BTreeMap::new(),
            refresh: Duration::from_secs(5),
            clock: None,
            writes: Writes::default(),
            flash: None,
            prompt: None,
            history: Vec::new(),
            pending_copy: None,
            suspend: false,
            keymap: Keymap::default(),
            mouse: false,
            problems_file: None,
            kept_problems: None,
            feeds: Feeds::default(),
            dialer: None,
            undialed: BTreeMap::new(),
            context_dialer: None,
            wall: (mode == Mode::Kiosk).then(|| kiosk::Wall::new(Duration::from_secs(20), false, 0.0)),
        }
    }

    pub fn now(&self) -> f64 {
        self.clock.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
        })
    }

    /// Writes the problems to their file (whole or not at all); a failure is logged, never fatal.
    pub fn keep_problems(&mut self) {
        let Some(path) = &self.problems_file else { return };
        let now = self.now();
        if let Err(e) = crate::store::problems::save(&self.fleet.problems, path, now) {
            tracing::warn!(path = %path.display(), "cannot keep the problems: {e}");
        }
        self.kept_problems = Some((self.fleet.problems.generation, now));
    }

    pub fn display_name<'a>(&'a self, context: &'a str) -> &'a str {
        self.aliases.get(context).map(String::as_str).unwrap_or(context)
    }

    /// Runs `f` with the shared state the components read (tests and tools).
    pub fn with_ctx<R>(&mut self, f: impl FnOnce(&Ctx) -> R) -> R {
        let (cx, _) = self.parts();
        f(&cx)
    }

    /// What `C` would copy now: the selected row's name (or URL).
    pub fn selected_text(&mut self) -> Option<String> {
        let (cx, comp) = self.parts();
        comp.copy_text(&cx)
    }

    /// The pane with this id (`serving`), for tests and commands.
    pub fn pane_index(&self, id: PaneId) -> Option<usize> {
        self.panes.iter().position(|p| p.id() == id)
    }
    /// Shows the pane with this id (closing any drill-down).
    pub fn show(&mut self, id: PaneId) {
        if let Some(i) = self.pane_index(id) {
            self.set_tab(i);
        }
    }
    pub fn pane_id(&self) -> PaneId {
        self.panes[self.tab].id()
    }
    pub(super) fn set_tab(&mut self, i: usize) {
        while !self.views.is_empty() {
            self.close_view();
        }
        self.tab = i % self.panes.len();
    }

    /// The shared state components read, and the active component (top view, else the pane).
    pub fn parts(&mut self) -> (Ctx<'_>, &mut dyn Component) {
        let mut crumbs: Vec<String> = Vec::new();
        if !self.views_by_command || self.views.is_empty() {
            crumbs.push(self.panes[self.tab].title().to_string());
        }
        crumbs.extend(self.views.iter().map(|v| v.crumb()));
        let now = self.now();
        let comp: &mut dyn Component = match self.views.last_mut() {
            Some(v) => v.as_mut(),
            None => self.panes[self.tab].as_mut(),
        };
        let cx = Ctx {
            fleet: &self.fleet,
            theme: &self.theme,
            mode: self.mode,
            focus: self.focus,
            filter: &self.filter,
            aliases: &self.aliases,
            keymap: &self.keymap,
            feeds: &self.feeds,
            now,
            crumbs: crumbs.join(" › "),
            forwards: &self.writes.forwards,
        };
        (cx, comp)
    }

    /// Opens a drill-down view and starts its feed.
    pub fn open_view(&mut self, spec: crate::sources::views::ViewSpec, crumb: String) {
        if !self.feeds.available() {
            self.flash = Some("drill-down is not available here".into());
            return;
        }
        let v = FeedView::open(&self.feeds, spec, crumb);
        // a pane's first view belongs to the pane (a command says otherwise after this)
        self.views_by_command &= !self.views.is_empty();
        self.views.push(Box::new(v));
    }

    /// Closes the top view and stops its feed.
    pub fn close_view(&mut self) {
        for id in self.views.pop().map(|v| v.feeds()).unwrap_or_default() {
            self.feeds.close(id);
        }
        if self.views.is_empty() {
            self.views_by_command = false;
        }
    }

    /// A context not dialed at start gets its collector when first focused (`dial = "focus"`);
    /// with `dial = "never"` it stays as it is, and says so.
    pub fn dial_context(&mut self, i: usize) {
        let Some(why) = self.fleet.clusters.get(i).and_then(|c| c.undialed.clone()) else { return };
        match (self.undialed.remove(&i), &self.context_dialer) {
            (Some(t), Some(tx)) if tx.send((i, t.clone())).is_ok() => {
                self.fleet.clusters[i].undialed = None;
                self.flash = Some(format!("{}: dialing", self.fleet.clusters[i].context));
            }
            _ => self.flash = Some(format!("{}: not dialed ({why})", self.fleet.clusters[i].context)),
        }
    }

    /// Handles a key; true when the screen must be redrawn.
    pub fn on_key(&mut self, k: KeyEvent) -> bool {
        if k.kind == KeyEventKind::Release {
            return false;
        }
        let ctrl_c = k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
        if k.code == KeyCode::Char('z') && k.modifiers.contains(KeyModifiers::CONTROL) {
            // as in any shell job; a wall screen is not one
            match self.mode {
                Mode::Kiosk => self.flash = Some("a wall screen is not suspended (Ctrl-Z)".into()),
                _ => self.suspend = true,
            }
            return true;
        }
        if self.writes.open() && !ctrl_c {
            // a dialog takes every key but Ctrl-C
            let now = self.now();
            let mine = self.writes.on_key(k, now);
            if let Some(said) = self.writes.said.take() {
                self.flash = Some(said);
            }
            return mine;
        }
        let action = self.keymap.action_for(&k);
        let yes = matches!(k.code, KeyCode::Char('y' | 'Y'));
        if !ctrl_c && self.wall_key(action == Some(Action::Quit), yes) {
            return true;
        }
        let had_flash = self.flash.take().is_some();
        if self.show_help && !ctrl_c {
            // `/` finds a key: typed letters narrow the help, Enter keeps, Esc clears
            if let Some(find) = self.help_find.as_mut().filter(|_| self.help_typing) {
                match k.code {
                    KeyCode::Char(c) => find.push(c),
                    KeyCode::Backspace => {
                        find.pop();
                    }
                    KeyCode::Enter => self.help_typing = false,
                    _ => {
                        self.help_find = None;
                        self.help_typing = false;
                    }
                }
                self.help_scroll = 0;
                return true;
            }
            if k.code == KeyCode::Esc && self.help_find.take().is_some() {
                self.help_scroll = 0;
                return true;
            }
            if k.code == KeyCode::Char('/') {
                (self.help_find, self.help_typing, self.help_scroll) = (Some(String::new()), true, 0);
                return true;
            }
            // the help scrolls with the list keys; any other key closes it
            match help::scrolled(&k, self.help_scroll, self.help_page) {
                Some(to) => self.help_scroll = to,
                None => {
                    self.show_help = false;
                    (self.help_scroll, self.help_find) = (0, None);
                }
            }
            return true;
        }
        if self.prompt.is_some() {
            return self.prompt_key(k);
        }
        if self.filter_editing {
            return self.filter_key(k);
        }
        // the active component first: its letters win over the global ones
        let typing = {
            let (cx, comp) = self.parts();
            if ctrl_c {
                None
            } else {
                let typing = comp.typing();
                Some((comp.on_key(k, action, &cx), typing))
            }
        };
        if let Some((o, typing)) = typing {
            if typing || !matches!(o, Outcome::Ignored) {
                return self.apply(o, had_flash);
            }
        }
        if let KeyCode::Char(c) = k.code {
            if let Some(i) = super::tabs::from_digit(c).filter(|i| *i < self.panes.len()) {
                self.set_tab(i);
                return true;
            }
        }
        let Some(action) = action else {
            // a letter that means nothing here says where the keys are, instead of nothing
            if let KeyCode::Char(c) = k.code {
                if !k.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) {
                    self.flash = Some(format!("{c}: not a key here · ? for keys"));
                    return true;
                }
            }
            return had_flash;
        };
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.show_help = true,
            Action::NextTab => self.set_tab(self.tab + 1),
            Action::PrevTab => self.set_tab(self.tab + self.panes.len() - 1),
            // a wall screen takes no typed input
            Action::Filter | Action::Command if self.mode == Mode::Kiosk => return had_flash,
            Action::Filter => self.filter_editing = true,
            Action::Command => {
                self.prompt = Some(super::command::Prompt { history: self.history.clone(), ..Default::default() })
            }
            Action::FocusCluster => {
                let n = self.fleet.clusters.len();
                self.focus = match self.focus {
                    None if n > 0 => Some(0),
                    Some(i) if i + 1 < n => Some(i + 1),
                    _ => None,
                };
                if let Some(i) = self.focus {
                    self.dial_context(i);
                }
            }
            Action::Back if !self.views.is_empty() => self.close_view(),
            // Esc undoes one thing at a time: the filter first, then the focus
            Action::Back if !self.filter.is_empty() => self.filter.clear(),
            Action::Back => self.focus = None,
            Action::Copy => {
                let (cx, comp) = self.parts();
                match comp.copy_text(&cx) {
                    Some(text) => {
                        self.flash = Some(format!("copied {}", text.lines().next().unwrap_or("")));
                        self.pending_copy = Some(text);
                    }
                    None => return had_flash,
                }
            }
            _ => return had_flash,
        }
        true
    }

    fn filter_key(&mut self, k: KeyEvent) -> bool {
        match self.filter.on_key(k) {
            Some(done) => {
                self.filter_editing = !done;
                true
            }
            None => false,
        }
    }

    /// Applies a collector update; true when the screen must be redrawn.
    pub fn on_update(&mut self, u: Update) -> bool {
        if let Some((redraw, msg)) = self.writes.on_update(&u, self.now()) {
            if msg.is_some() {
                self.flash = msg;
            }
            return redraw;
        }
        let (view, data) = match u {
            Update::ViewPods { view, pods, no_usage, .. } => (view, FeedData::Pods(pods, no_usage)),
            Update::ViewObjects { view, rows, .. } => (view, FeedData::Objects(rows)),
            Update::ViewPod { view, detail, .. } => (view, FeedData::Pod(detail)),
            Update::ViewLog { view, lines, .. } => (view, FeedData::Log(lines)),
            Update::ViewText { view, text, .. } => (view, FeedData::Text(text)),
            Update::ViewError { view, error, .. } => (view, FeedData::Error(error)),
            other => return self.fleet.apply(other),
        };
        // feeds of views that are gone are dropped; only the top view is drawn
        let top = self.views.len().checked_sub(1);
        match self.views.iter_mut().position(|v| v.feeds().contains(&view)) {
            Some(i) => self.views[i].on_feed(view, data) && top == Some(i),
            None => false,
        }
    }

    pub fn draw(&mut self, f: &mut Frame) {
        let area = f.area();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let msg = format!(
                "Terminal too small: {}x{}. kst needs at least {MIN_WIDTH}x{MIN_HEIGHT}; enlarge the window or press q.",
                area.width, area.height
            );
            f.render_widget(Paragraph::new(Span::styled(msg, self.theme.warn)).wrap(Wrap { trim: true }), area);
            return;
        }
        if self.wall.is_some() {
            return kiosk::draw(f, self);
        }
        let [head, body, foot] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(1), Constraint::Length(2)]).areas(area);
        header::draw(f, head, self);
        {
            let (cx, comp) = self.parts();
            comp.draw(f, body, &cx);
        }
        widgets::footer::draw(f, foot, self);
        if self.show_help {
            let (hints, legend) = {
                let c = self.parts().1;
                (c.hints(), c.legend())
            };
            let title =
                self.views.last().map(|v| v.crumb()).unwrap_or_else(|| self.panes[self.tab].title().to_string());
            let find = self.help_find.clone().unwrap_or_default();
            let help = help::Help { title: &title, hints: &hints, legend: &legend, find: &find };
            self.help_page = help::draw(f, body, &self.theme, &self.keymap, &help, self.help_scroll, self.help_typing);
        }
        self.writes.draw(f, body, &self.theme, &self.fleet, self.now());
    }
}
