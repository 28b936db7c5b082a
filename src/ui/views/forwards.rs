//! `:pf`: the port-forwards started from pod lists (`F`), as k9s lists its own: where each
//! listens, to which pod and port, the connections it carried and its last error. `x` closes
//! one; every one closes when kst exits.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::Frame;

use crate::actions::forward::Forward;
use crate::store::views::ForwardState;
use crate::ui::component::{Component, Ctx, Hint, Outcome, View};
use crate::ui::keymap::Action;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, Col, DataTable, ListState};

#[derive(Default)]
pub struct PortForwards {
    list: ListState,
}

fn keys(forwards: &[Forward]) -> Vec<String> {
    forwards.iter().map(|f| f.id.to_string()).collect()
}

/// Where a forward listens, as a URL one can open; None while it starts or when it failed.
fn url(f: &Forward) -> Option<String> {
    match &f.state {
        Some(ForwardState::Listening { local, .. }) => Some(format!("http://{local}")),
        _ => None,
    }
}

impl PortForwards {
    fn selected<'a>(&mut self, forwards: &'a [Forward]) -> Option<&'a Forward> {
        self.list.sync(&keys(forwards));
        forwards.get(self.list.selected()?)
    }
}

impl View for PortForwards {
    fn crumb(&self) -> String {
        "port-forwards".into()
    }
}

impl Component for PortForwards {
    fn hints(&self) -> Vec<Hint> {
        vec![
            Hint::key("x", "close: stop the selected forward (audited)"),
            // a forward starts from a pod (F there): the empty list says so
            Hint::key("C", "copy: its local URL"),
        ]
    }

    fn on_key(&mut self, k: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let c = match k.code {
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => Some(c),
            _ => None,
        };
        match (k.code, c) {
            (KeyCode::Delete, _) | (_, Some('x')) => match self.selected(cx.forwards) {
                Some(f) => Outcome::StopForward(f.id),
                None => Outcome::Handled,
            },
            _ => match action {
                Some(Action::Back) => Outcome::Close,
                Some(a) if a.is_motion() => {
                    self.list.on_action(a, &keys(cx.forwards));
                    Outcome::Redraw
                }
                _ => Outcome::Ignored,
            },
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        self.selected(cx.forwards).and_then(url)
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let title = format!(" {} ({}) ", cx.crumbs, cx.forwards.len());
        let cols = vec![
            Col::name("LOCAL").min(15),
            Col::name("CLUSTER").min(8),
            Col::name("NAMESPACE").min(8),
            Col::name("POD").min(20),
            Col::whole("PORT"),
            Col::whole("CONNS"),
            Col::text("STATE").min(10),
        ];
        let mut table = DataTable::new(title, cols);
        table.empty = "no port-forwards: F on a pod starts one".into();
        for fw in cx.forwards {
            let (local, conns, state, style) = match &fw.state {
                None => (DASH.to_string(), DASH.to_string(), "starting…".to_string(), t.muted),
                Some(ForwardState::Listening { local, connections, error: None }) => {
                    (local.to_string(), connections.to_string(), "listening".to_string(), t.ok)
                }
                Some(ForwardState::Listening { local, connections, error: Some(e) }) => {
                    (local.to_string(), connections.to_string(), format!("listening; last stream: {e}"), t.warn)
                }
                Some(ForwardState::Failed(e)) => (DASH.to_string(), DASH.to_string(), format!("failed: {e}"), t.crit),
            };
            table.rows.push(vec![
                cell(local, t.text),
                cell(cx.display_name(&fw.context).to_string(), t.text),
                cell(fw.target.namespace.clone(), t.text),
                cell(fw.target.pod.clone(), t.text),
                cell(fw.target.port.to_string(), t.text),
                cell(conns, t.text),
                cell(state, style),
            ]);
        }
        self.list.sync(&keys(cx.forwards));
        table.draw(f, area, &mut self.list, t);
    }
}
