//! `:deploy [NS]` and `:ns`: the deployments or namespaces of the focused cluster, or of every
//! cluster in one list (one watch per cluster, closed with the view). Enter leads where a k9s
//! user expects: a deployment to its pods (its selector), a namespace to its pods.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::Frame;

use super::{search_line_key, FeedView};
use crate::sources::views::ViewSpec;
use crate::store::views::{ObjectKind, ObjectRow};
use crate::ui::component::{Component, Ctx, FeedData, Hint, Outcome, View};
use crate::ui::keymap::Action;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, cell_ref, Col, DataTable, ListState};

/// One cluster's part of the list.
struct Part {
    feed: u64,
    cluster: usize,
    /// Once listed.
    rows: Option<Vec<ObjectRow>>,
    /// Why not.
    error: Option<String>,
}

pub struct ObjectsView {
    kind: ObjectKind,
    crumb: String,
    parts: Vec<Part>,
    list: ListState,
    search: String,
    searching: bool,
}

/// Rows that pass the filter, as (cluster, row), by cluster, namespace and name.
fn rows<'p>(parts: &'p [Part], search: &str) -> Vec<(usize, &'p ObjectRow)> {
    let needle = search.to_lowercase();
    let mut v: Vec<(usize, &ObjectRow)> = parts
        .iter()
        .flat_map(|p| p.rows.iter().flatten().map(move |r| (p.cluster, r)))
        .filter(|(_, r)| needle.is_empty() || format!("{}/{}", r.namespace, r.name).to_lowercase().contains(&needle))
        .collect();
    v.sort_by(|a, b| (a.0, &a.1.namespace, &a.1.name).cmp(&(b.0, &b.1.namespace, &b.1.name)));
    v
}

impl ObjectsView {
    /// Opens one watch per cluster.
    pub fn open(
        feeds: &crate::ui::feeds::Feeds,
        kind: ObjectKind,
        clusters: &[usize],
        namespace: &str,
        crumb: String,
    ) -> Self {
        let parts = clusters
            .iter()
            .map(|c| {
                let spec = ViewSpec::Objects { cluster: *c, kind, namespace: namespace.to_string() };
                Part { feed: feeds.open(&spec), cluster: *c, rows: None, error: None }
            })
            .collect();
        ObjectsView { kind, crumb, parts, list: ListState::default(), search: String::new(), searching: false }
    }

    fn several(&self) -> bool {
        self.parts.len() > 1
    }

    fn rows(&self) -> Vec<(usize, &ObjectRow)> {
        rows(&self.parts, &self.search)
    }

    fn keys(rows: &[(usize, &ObjectRow)]) -> Vec<String> {
        rows.iter().map(|(c, r)| format!("{c}/{}/{}", r.namespace, r.name)).collect()
    }

    fn selected(&mut self) -> Option<(usize, ObjectRow)> {
        let rows = self.rows();
        let keys = Self::keys(&rows);
        let picked: Vec<(usize, ObjectRow)> = rows.iter().map(|(c, r)| (*c, (*r).clone())).collect();
        self.list.sync(&keys);
        picked.into_iter().nth(self.list.selected()?)
    }

    fn path(&self, r: &ObjectRow) -> String {
        match self.kind {
            ObjectKind::Deployments => format!("/apis/apps/v1/namespaces/{}/deployments/{}", r.namespace, r.name),
            ObjectKind::Namespaces => format!("/api/v1/namespaces/{}", r.name),
        }
    }
}

impl View for ObjectsView {
    fn crumb(&self) -> String {
        self.crumb.clone()
    }
    fn feeds(&self) -> Vec<u64> {
        self.parts.iter().map(|p| p.feed).collect()
    }
    fn on_feed(&mut self, feed: u64, data: FeedData) -> bool {
        let Some(part) = self.parts.iter_mut().find(|p| p.feed == feed) else { return false };
        match data {
            FeedData::Objects(rows) => {
                part.rows = Some(rows);
                part.error = None;
            }
            FeedData::Error(e) => part.error = Some(e),
            _ => return false,
        }
        true
    }
}

impl Component for ObjectsView {
    fn hints(&self) -> Vec<Hint> {
        let enter = match self.kind {
            ObjectKind::Deployments => "the deployment's pods (its selector)",
            ObjectKind::Namespaces => "the namespace's pods",
        };
        vec![Hint::key("Enter", enter), Hint::key("y", "YAML"), Hint::key("/", "filter by namespace/name")]
    }

    fn typing(&self) -> bool {
        self.searching
    }

    fn on_key(&mut self, k: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        if self.searching {
            if !search_line_key(&mut self.searching, &mut self.search, &k) {
                return Outcome::Handled;
            }
            self.list.reset();
            return Outcome::Redraw;
        }
        let c = match k.code {
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => Some(c),
            _ => None,
        };
        let open = |spec: ViewSpec, crumb: String| Outcome::Push(Box::new(FeedView::open(cx.feeds, spec, crumb)));
        match (k.code, c) {
            (KeyCode::Enter, _) => match self.selected() {
                Some((cluster, r)) => match self.kind {
                    ObjectKind::Deployments => match r.selector {
                        Some(selector) => open(
                            ViewSpec::Pods { cluster, namespace: r.namespace.clone(), selector },
                            format!("{} pods", r.name),
                        ),
                        None => Outcome::Flash(format!("{}/{} has no pod selector", r.namespace, r.name)),
                    },
                    ObjectKind::Namespaces => open(
                        ViewSpec::Pods { cluster, namespace: r.name.clone(), selector: String::new() },
                        format!("pods in {}", r.name),
                    ),
                },
                None => Outcome::Handled,
            },
            (_, Some('y')) => match self.selected() {
                Some((cluster, r)) => open(ViewSpec::Yaml { cluster, path: self.path(&r) }, "yaml".into()),
                None => Outcome::Handled,
            },
            (_, Some('/')) => {
                self.searching = true;
                Outcome::Redraw
            }
            _ => match action {
                // Esc clears a filter first, then closes (as k9s does)
                Some(Action::Back) if !self.search.is_empty() => {
                    self.search.clear();
                    Outcome::Redraw
                }
                Some(Action::Back) => Outcome::Close,
                Some(a) if a.is_motion() => {
                    let keys = Self::keys(&self.rows());
                    self.list.on_action(a, &keys);
                    Outcome::Redraw
                }
                _ => Outcome::Ignored,
            },
        }
    }

    fn copy_text(&mut self, _cx: &Ctx) -> Option<String> {
        self.selected().map(|(_, r)| r.name)
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let several = self.several();
        let rows = rows(&self.parts, &self.search);
        let keys = Self::keys(&rows);
        let waiting = self.parts.iter().filter(|p| p.rows.is_none() && p.error.is_none()).count();
        let failed: Vec<String> = self
            .parts
            .iter()
            .filter_map(|p| Some(format!("{}: {}", cx.display_name(&cx.cluster(p.cluster).context), p.error.as_ref()?)))
            .collect();
        let mut title = format!(" {} ({})", cx.crumbs, rows.len());
        if waiting > 0 {
            title.push_str(&format!(" · listing {waiting} cluster(s)…"));
        }
        if !self.search.is_empty() || self.searching {
            title.push_str(&format!(" · filter: {}{}", self.search, if self.searching { "▏" } else { "" }));
        }
        title.push(' ');
        let cols = match self.kind {
            ObjectKind::Deployments => vec![
                Col::name("CLUSTER").min(8).hidden_if(!several),
                Col::name("NAMESPACE").min(8),
                Col::name("NAME").min(20),
                Col::whole("READY"),
                Col::whole("UP-TO-DATE"),
                Col::whole("AVAILABLE"),
                Col::whole("AGE"),
            ],
            ObjectKind::Namespaces => vec![
                Col::name("CLUSTER").min(8).hidden_if(!several),
                Col::name("NAME").min(20),
                Col::text("STATUS").min(8),
                Col::whole("AGE"),
            ],
        };
        let mut table = DataTable::new(title, cols);
        table.sort = Some((1, false));
        table.empty = if !failed.is_empty() {
            failed.join(" · ")
        } else if waiting > 0 {
            "listing…".into()
        } else {
            format!("no {}", self.kind.plural())
        };
        let now = cx.now() as i64;
        for (c, r) in &rows {
            let age = r
                .created
                .as_deref()
                .and_then(|c| c.parse::<jiff::Timestamp>().ok())
                .map(|c| crate::ui::widgets::fmt::duration((now - c.as_second()).max(0)))
                .unwrap_or_else(|| DASH.into());
            let cluster = cell_ref(cx.display_name(&cx.cluster(*c).context), t.text);
            table.rows.push(match self.kind {
                ObjectKind::Deployments => {
                    // all desired replicas ready reads as fine; fewer, as a warning (with the
                    // numbers, so it is readable without colour)
                    let full = r.ready.split_once('/').is_some_and(|(a, b)| a == b);
                    vec![
                        cluster,
                        cell_ref(&r.namespace, t.text),
                        cell_ref(&r.name, t.text),
                        cell_ref(&r.ready, if full { t.text } else { t.warn }),
                        cell(r.up_to_date.map_or_else(|| DASH.into(), |n| n.to_string()), t.text),
                        cell(r.available.map_or_else(|| DASH.into(), |n| n.to_string()), t.text),
                        cell(age, t.text),
                    ]
                }
                ObjectKind::Namespaces => vec![
                    cluster,
                    cell_ref(&r.name, t.text),
                    cell_ref(&r.status, if r.status == "Active" { t.text } else { t.warn }),
                    cell(age, t.text),
                ],
            });
        }
        self.list.sync(&keys);
        table.draw(f, area, &mut self.list, t);
    }
}
