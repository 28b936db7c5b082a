//! `:pods` with no cluster focused: the pods of every cluster in one list (one pod watch per
//! cluster, all closed with the view), with the cluster and namespace of each.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::Frame;

use super::{pod_matches, search_line_key, FeedView, PodSort};
use crate::sources::views::ViewSpec;
use crate::store::views::PodRow;
use crate::ui::component::{Component, Ctx, FeedData, Hint, Outcome, View};
use crate::ui::keymap::Action;
use crate::ui::widgets::table::{cell, Col, DataTable, ListState};

/// (feed, cluster, its pods once listed, or why not)
/// One cluster's feed: its pods once listed, why the list failed, why CPU and memory are `—`.
struct Part {
    feed: u64,
    cluster: usize,
    pods: Option<Vec<PodRow>>,
    error: Option<String>,
    no_usage: Option<String>,
}

pub struct FleetPods {
    crumb: String,
    parts: Vec<Part>,
    list: ListState,
    search: String,
    searching: bool,
    sort: PodSort,
}

impl FleetPods {
    /// Opens one pod feed per cluster.
    pub fn open(
        feeds: &crate::ui::feeds::Feeds,
        clusters: &[usize],
        namespace: &str,
        selector: &str,
        crumb: String,
    ) -> Self {
        let parts = clusters
            .iter()
            .map(|c| {
                let spec =
                    ViewSpec::Pods { cluster: *c, namespace: namespace.to_string(), selector: selector.to_string() };
                Part { feed: feeds.open(&spec), cluster: *c, pods: None, error: None, no_usage: None }
            })
            .collect();
        FleetPods {
            crumb,
            parts,
            list: ListState::default(),
            search: String::new(),
            searching: false,
            sort: PodSort::Name,
        }
    }

    /// Every pod that passes the filter, as (cluster, pod), in the chosen order.
    fn rows(&self) -> Vec<(usize, &PodRow)> {
        let mut v: Vec<(usize, &PodRow)> = self
            .parts
            .iter()
            .flat_map(|part| part.pods.iter().flatten().map(move |p| (part.cluster, p)))
            .filter(|(_, p)| pod_matches(p, &self.search))
            .collect();
        match self.sort {
            PodSort::Name => v.sort_by(|a, b| (a.0, &a.1.namespace, &a.1.name).cmp(&(b.0, &b.1.namespace, &b.1.name))),
            PodSort::Status => v.sort_by(|a, b| (&a.1.status, a.0, &a.1.name).cmp(&(&b.1.status, b.0, &b.1.name))),
            sort => v.sort_by(|a, b| sort.compare(a.1, b.1).then(a.1.name.cmp(&b.1.name))),
        }
        v
    }

    fn keys(rows: &[(usize, &PodRow)]) -> Vec<String> {
        rows.iter().map(|(c, p)| format!("{c}/{}/{}", p.namespace, p.name)).collect()
    }

    /// The selected pod's row, with its cluster.
    fn selected_row(&mut self) -> Option<(usize, PodRow)> {
        let (keys, rows): (Vec<String>, Vec<(usize, PodRow)>) = {
            let rows = self.rows();
            (Self::keys(&rows), rows.iter().map(|(c, p)| (*c, (*p).clone())).collect())
        };
        self.list.sync(&keys);
        self.list.selected().and_then(|i| rows.into_iter().nth(i))
    }

    fn selected(&mut self) -> Option<(usize, String, String)> {
        let rows = self.rows();
        let keys = Self::keys(&rows);
        let pick = rows.iter().map(|(c, p)| (*c, p.namespace.clone(), p.name.clone())).collect::<Vec<_>>();
        self.list.sync(&keys);
        pick.get(self.list.selected()?).cloned()
    }
}

impl View for FleetPods {
    fn crumb(&self) -> String {
        self.crumb.clone()
    }
    fn feeds(&self) -> Vec<u64> {
        self.parts.iter().map(|p| p.feed).collect()
    }
    fn on_feed(&mut self, feed: u64, data: FeedData) -> bool {
        let Some(part) = self.parts.iter_mut().find(|p| p.feed == feed) else { return false };
        match data {
            FeedData::Pods(p, no_usage) => {
                part.pods = Some(p);
                part.error = None;
                part.no_usage = no_usage;
            }
            FeedData::Error(e) => part.error = Some(e),
            _ => return false,
        }
        true
    }
}

impl Component for FleetPods {
    fn hints(&self) -> Vec<Hint> {
        vec![
            Hint::key("Enter d", "the pod: containers, conditions, events"),
            Hint::key("l", "the pod's logs"),
            Hint::key("y", "the pod's YAML"),
            Hint::key("/", "filter: regex, ! inverts, -l key=value on labels"),
            Hint::key("s", "shell: kubectl exec into the pod, permission checked first, audited").writes(),
            Hint::key("F", "forward: a local port to one of the pod's (listed in :pf)").writes(),
            Hint::key("S", "sort: cluster and name, status, restarts, CPU, memory"),
        ]
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
        let open = |spec: ViewSpec, crumb: &str| Outcome::Push(Box::new(FeedView::open(cx.feeds, spec, crumb.into())));
        match (k.code, c) {
            (KeyCode::Enter, _) | (_, Some('d')) => match self.selected_row() {
                Some((cluster, p)) => {
                    let spec = ViewSpec::Pod { cluster, namespace: p.namespace.clone(), name: p.name.clone() };
                    let mut v = FeedView::open(cx.feeds, spec, "pod".into());
                    (v.containers, v.ports) = (p.containers, p.ports);
                    Outcome::Push(Box::new(v))
                }
                None => Outcome::Handled,
            },
            (_, Some('l')) => match self.selected() {
                Some((cluster, namespace, pod)) => open(
                    ViewSpec::Logs { cluster, namespace, pod, container: None, previous: false, timestamps: false },
                    "logs",
                ),
                None => Outcome::Handled,
            },
            (_, Some('y')) => match self.selected() {
                Some((cluster, ns, name)) => {
                    open(ViewSpec::Yaml { cluster, path: format!("/api/v1/namespaces/{ns}/pods/{name}") }, "yaml")
                }
                None => Outcome::Handled,
            },
            (_, Some('/')) => {
                self.searching = true;
                Outcome::Redraw
            }
            (_, Some('F')) => match self.selected_row() {
                Some((cluster, p)) if !p.ports.is_empty() => {
                    Outcome::Write(crate::ui::component::Write::Forward(crate::actions::ForwardTarget {
                        cluster,
                        namespace: p.namespace,
                        pod: p.name,
                        port: p.ports[0],
                        ports: p.ports,
                    }))
                }
                Some(_) => Outcome::Flash("the pod declares no port to forward".into()),
                None => Outcome::Handled,
            },
            (_, Some('s')) => match self.selected_row() {
                Some((cluster, p)) if !p.containers.is_empty() => {
                    Outcome::Write(crate::ui::component::Write::Shell(crate::actions::ShellTarget {
                        cluster,
                        namespace: p.namespace.clone(),
                        pod: p.name.clone(),
                        container: p.containers[0].clone(),
                        containers: p.containers,
                    }))
                }
                Some(_) => Outcome::Flash("no container to open a shell in".into()),
                None => Outcome::Handled,
            },
            (_, Some('S')) => {
                self.sort = self.sort.next();
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
        self.selected().map(|p| p.2)
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let rows = self.rows();
        let keys = Self::keys(&rows);
        let waiting = self.parts.iter().filter(|p| p.pods.is_none() && p.error.is_none()).count();
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
        // a `—` under CPU and MEM says why where metrics.k8s.io does not answer
        let blind: Vec<String> = self
            .parts
            .iter()
            .filter(|p| p.no_usage.is_some())
            .map(|p| cx.display_name(&cx.cluster(p.cluster).context).to_string())
            .collect();
        if !blind.is_empty() {
            title.push_str(&format!(" · CPU/MEM —: no metrics.k8s.io on {}", blind.join(", ")));
        }
        title.push(' ');
        let mut cols = vec![Col::name("CLUSTER").min(8), Col::name("NAMESPACE").min(8), Col::name("NAME").min(20)];
        cols.extend(super::draw::pod_state_cols());
        cols.push(Col::name("NODE").min(10).optional(1));
        let mut table = DataTable::new(title, cols);
        table.sort = Some(self.sort.column(3));
        table.empty = if failed.is_empty() { "no pods".into() } else { failed.join(" · ") };
        let now = cx.now() as i64;
        for (c, p) in &rows {
            let mut row = vec![
                cell(cx.display_name(&cx.cluster(*c).context), t.text),
                cell(p.namespace.clone(), t.text),
                cell(p.name.clone(), t.text),
            ];
            row.extend(super::draw::pod_state_cells(p, now, t));
            row.push(cell(p.node.clone(), t.text));
            table.rows.push(row);
        }
        self.list.sync(&keys);
        table.draw(f, area, &mut self.list, t);
    }
}
